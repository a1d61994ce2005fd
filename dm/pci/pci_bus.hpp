// PCI configuration space by bus/device/function: where the ioreq loop
// sends PCICFG requests. Absent functions read as all ones. With
// RequestCounts, each access counts under its function's name (or as
// unclaimed).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

#include "dm/io/request_counts.hpp"
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
    explicit PciBus(RequestCounts* counts = nullptr)
        : counts_(counts), unclaimed_(counts ? &counts->of(RequestCounts::kUnclaimed).pci_config : nullptr) {}

    // False if the address is taken or out of range.
    [[nodiscard]] bool add(PciAddress address, std::shared_ptr<PciDevice> device);
    [[nodiscard]] std::shared_ptr<PciDevice> find(PciAddress address) const;
    [[nodiscard]] std::vector<std::shared_ptr<PciDevice>> devices() const;  // by BDF

    [[nodiscard]] std::uint32_t config_read(PciAddress address, std::uint32_t reg, std::uint32_t size) const;
    void config_write(PciAddress address, std::uint32_t reg, std::uint32_t size, std::uint32_t value) const;

private:
    struct Function {
        std::shared_ptr<PciDevice> device;
        std::atomic<std::uint64_t>* requests;
    };
    // The function at `address` (null device if none), its access counted.
    [[nodiscard]] std::shared_ptr<PciDevice> counted(PciAddress address) const;

    RequestCounts* const counts_;
    std::atomic<std::uint64_t>* const unclaimed_;
    mutable std::shared_mutex mutex_;
    std::map<std::uint16_t, Function> functions_;  // by BDF
};

}  // namespace acrn::dm
