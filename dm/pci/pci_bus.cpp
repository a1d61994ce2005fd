#include "dm/pci/pci_bus.hpp"

#include <mutex>

namespace acrn::dm {

bool PciBus::add(PciAddress address, std::shared_ptr<PciDevice> device) {
    if (address.slot >= 32 || address.func >= 8 || !device) {
        return false;
    }
    std::unique_lock lock(mutex_);
    return functions_.emplace(address.bdf(), std::move(device)).second;
}

std::shared_ptr<PciDevice> PciBus::find(PciAddress address) const {
    std::shared_lock lock(mutex_);
    auto found = functions_.find(address.bdf());
    return found == functions_.end() ? nullptr : found->second;
}

std::uint32_t PciBus::config_read(PciAddress address, std::uint32_t reg, std::uint32_t size) const {
    auto device = find(address);
    if (!device) {
        return static_cast<std::uint32_t>(all_ones(size == 0 || size > 4 ? 4 : size));
    }
    return device->config_read(reg, size);
}

void PciBus::config_write(PciAddress address, std::uint32_t reg, std::uint32_t size, std::uint32_t value) const {
    if (auto device = find(address)) {
        device->config_write(reg, size, value);
    }
}

}  // namespace acrn::dm
