// What a device behind a PIO or MMIO range implements. Devices see offsets
// into their own range, never the absolute address alone.
#pragma once

#include <cstdint>

#include "common/access_size.hpp"

namespace acrn::dm {

struct IoAccess {
    std::uint64_t address;  // absolute port or guest-physical address
    std::uint64_t offset;   // from the start of the device's range
    std::uint32_t size;     // 1, 2, 4 or 8 bytes
    std::uint32_t vcpu;
};

class IoDevice {
public:
    virtual ~IoDevice() = default;
    [[nodiscard]] virtual std::uint64_t read(const IoAccess& access) = 0;
    virtual void write(const IoAccess& access, std::uint64_t value) = 0;
};

}  // namespace acrn::dm
