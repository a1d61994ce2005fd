#include "dm/pci/pci_bus.hpp"

#include <mutex>

namespace acrn::dm {

bool PciBus::add(PciAddress address, std::shared_ptr<PciDevice> device) {
    if (address.slot >= 32 || address.func >= 8 || !device) {
        return false;
    }
    std::atomic<std::uint64_t>* requests = counts_ ? &counts_->of(device->name()).pci_config : nullptr;
    std::unique_lock lock(mutex_);
    return functions_.emplace(address.bdf(), Function{std::move(device), requests}).second;
}

std::shared_ptr<PciDevice> PciBus::find(PciAddress address) const {
    std::shared_lock lock(mutex_);
    auto found = functions_.find(address.bdf());
    return found == functions_.end() ? nullptr : found->second.device;
}

std::shared_ptr<PciDevice> PciBus::counted(PciAddress address) const {
    std::shared_lock lock(mutex_);
    auto found = functions_.find(address.bdf());
    std::atomic<std::uint64_t>* requests = found == functions_.end() ? unclaimed_ : found->second.requests;
    if (requests != nullptr) {
        requests->fetch_add(1, std::memory_order_relaxed);
    }
    return found == functions_.end() ? nullptr : found->second.device;
}

std::uint32_t PciBus::config_read(PciAddress address, std::uint32_t reg, std::uint32_t size) const {
    auto device = counted(address);
    if (!device) {
        return static_cast<std::uint32_t>(all_ones(size == 0 || size > 4 ? 4 : size));
    }
    return device->config_read(reg, size);
}

void PciBus::config_write(PciAddress address, std::uint32_t reg, std::uint32_t size, std::uint32_t value) const {
    auto device = counted(address);
    if (!device) {
        return;
    }
    device->config_write(reg, size, value);
    if (device->config_bar_or_command(reg, size)) {
        // A BAR that moved or stopped decoding may have freed the range
        // another function's BAR was refused: map those now, as the
        // hardware would decode them, rather than when their own
        // registers are written next.
        for (const auto& other : devices()) {
            if (other != device) {
                other->retry_refused_mappings();
            }
        }
    }
}

std::vector<std::shared_ptr<PciDevice>> PciBus::devices() const {
    std::shared_lock lock(mutex_);
    std::vector<std::shared_ptr<PciDevice>> result;
    result.reserve(functions_.size());
    for (const auto& [bdf, function] : functions_) {
        result.push_back(function.device);
    }
    return result;
}

}  // namespace acrn::dm
