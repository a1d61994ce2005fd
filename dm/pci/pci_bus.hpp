// PCI configuration space by bus/device/function: where the ioreq loop
// sends PCICFG requests. Absent functions read as all ones.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

#include "dm/pci/pci_device.hpp"

namespace acrn::dm {

struct PciAddress {
    std::uint8_t bus = 0;
    std::uint8_t slot = 0;
    std::uint8_t func = 0;

    [[nodiscard]] std::uint16_t bdf() const noexcept {
        return static_cast<std::uint16_t>(bus << 8 | slot << 3 | func);
    }
    // "bus:slot.func", decimal, as messages name a `-s` address.
    [[nodiscard]] std::string text() const {
        return std::to_string(bus) + ":" + std::to_string(slot) + "." + std::to_string(func);
    }
    auto operator<=>(const PciAddress&) const = default;
};

class PciBus {
public:
    // False if the address is taken or out of range.
    [[nodiscard]] bool add(PciAddress address, std::shared_ptr<PciDevice> device);
    [[nodiscard]] std::shared_ptr<PciDevice> find(PciAddress address) const;
    [[nodiscard]] std::vector<std::shared_ptr<PciDevice>> devices() const;  // by BDF

    [[nodiscard]] std::uint32_t config_read(PciAddress address, std::uint32_t reg, std::uint32_t size) const;
    void config_write(PciAddress address, std::uint32_t reg, std::uint32_t size, std::uint32_t value) const;

private:
    mutable std::shared_mutex mutex_;
    std::map<std::uint16_t, std::shared_ptr<PciDevice>> functions_;  // by BDF
};

}  // namespace acrn::dm
