// `-s N,testdev`: a PCI test device for the project's own guest tests, like
// QEMU's pci-testdev (same ids; no Linux driver binds it). BAR0 is 4 KiB of
// memory and BAR1 256 bytes of I/O, both plain scratch storage: any access
// of size 1, 2, 4 (or 8 for memory) reads back what was last written there.
#pragma once

#include <array>
#include <span>
#include <mutex>

#include "dm/pci/pci_device.hpp"

namespace acrn::dm {

class TestDevice final : public PciDevice {
public:
    static constexpr std::uint64_t kMemorySize = 4096;
    static constexpr std::uint64_t kIoSize = 256;

    TestDevice();

private:
    std::uint64_t bar_read(int index, const IoAccess& access) override;
    void bar_write(int index, const IoAccess& access, std::uint64_t value) override;
    std::uint8_t* storage(int index, const IoAccess& access);

    std::mutex mutex_;
    std::array<std::uint8_t, kMemorySize> memory_{};
    std::array<std::uint8_t, kIoSize> io_{};
};

}  // namespace acrn::dm
