#include "dm/pci/pci_device.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "common/log.hpp"
#include "dm/irq/interrupt_sources.hpp"

namespace acrn::dm {

// Forwards a BAR's accesses to its device with the BAR index attached.
class PciDevice::BarWindow final : public IoDevice {
public:
    BarWindow(PciDevice& device, int index) : device_(device), index_(index) {}
    std::uint64_t read(const IoAccess& access) override { return device_.read_bar(index_, access); }
    void write(const IoAccess& access, std::uint64_t value) override { device_.write_bar(index_, access, value); }

private:
    PciDevice& device_;
    const int index_;
};

PciDevice::PciDevice(std::string name, const PciIds& ids) : name_(std::move(name)) {
    set_config(pci_reg::vendor_id, 2, ids.vendor);
    set_config(pci_reg::vendor_id + 2, 2, ids.device);
    set_config(pci_reg::revision, 1, ids.revision);
    set_config(pci_reg::revision + 1, 1, ids.prog_if);
    set_config(pci_reg::revision + 2, 1, ids.subclass);
    set_config(pci_reg::revision + 3, 1, ids.class_code);
    set_config(pci_reg::subsystem_vendor, 2, ids.subsystem_vendor);
    set_config(pci_reg::subsystem_vendor + 2, 2, ids.subsystem);
    // Command: I/O, memory, bus master, SERR, interrupt disable.
    writable_[pci_reg::command] = 0x47;
    writable_[pci_reg::command + 1] = 0x05;
    writable_[0x0C] = 0xFF;  // cache line size
    writable_[0x0D] = 0xFF;  // latency timer
    writable_[pci_reg::interrupt_line] = 0xFF;
}

PciDevice::~PciDevice() {
    for (int index = 0; index < kBarCount; ++index) {
        Bar& bar = bars_[index];
        if (bar.mapped) {
            AddressBus* bus = bar.kind == BarKind::io ? pio_ : mmio_;
            (void)bus->remove(bar.mapped_at);
        }
    }
}

void PciDevice::set_config(std::uint32_t reg, std::uint32_t size, std::uint32_t value) {
    std::memcpy(&config_[reg], &value, size);
}

std::uint32_t PciDevice::get_config(std::uint32_t reg, std::uint32_t size) const {
    std::uint32_t value = 0;
    std::memcpy(&value, &config_[reg], size);
    return value;
}

void PciDevice::set_interrupt_pin(std::uint8_t pin) { set_config(pci_reg::interrupt_pin, 1, pin); }

std::uint8_t PciDevice::interrupt_pin() const {
    std::lock_guard lock(mutex_);
    return static_cast<std::uint8_t>(get_config(pci_reg::interrupt_pin, 1));
}

std::optional<std::uint32_t> PciDevice::intx_gsi() const {
    std::lock_guard lock(mutex_);
    return intx_gsi_;
}

std::uint8_t PciDevice::add_capability(std::uint8_t id, std::uint8_t length, std::span<const std::uint8_t> contents,
                                       std::span<const std::uint8_t> writable) {
    const std::uint32_t offset = next_capability_;
    if (length < 2 || offset + length > kLegacyConfigSize || contents.size() > length - 2u ||
        writable.size() > length - 2u) {
        throw std::logic_error(name_ + ": no room for capability " + std::to_string(id));
    }
    config_[offset] = id;
    config_[offset + 1] = 0;
    std::copy(contents.begin(), contents.end(), config_.begin() + offset + 2);
    std::copy(writable.begin(), writable.end(), writable_.begin() + offset + 2);
    if (last_capability_ == 0) {
        config_[pci_reg::capabilities] = static_cast<std::uint8_t>(offset);
        set_config(pci_reg::status, 2, get_config(pci_reg::status, 2) | kStatusCapabilities);
    } else {
        config_[last_capability_ + 1u] = static_cast<std::uint8_t>(offset);
    }
    last_capability_ = static_cast<std::uint8_t>(offset);
    next_capability_ = (offset + length + 3) & ~3u;
    return static_cast<std::uint8_t>(offset);
}

std::uint8_t PciDevice::find_capability(std::uint8_t id) const {
    std::lock_guard lock(mutex_);
    // The list is ours, but bound the walk as a guest-facing walk would be.
    std::uint8_t at = config_[pci_reg::capabilities];
    for (int hops = 0; at != 0 && hops < 48; ++hops) {
        if (config_[at] == id) {
            return at;
        }
        at = config_[at + 1u];
    }
    return 0;
}

void PciDevice::declare_msi(unsigned vectors, bool per_vector_mask) {
    const std::uint8_t offset = add_capability(MsiCapability::kId, MsiCapability::length(per_vector_mask));
    msi_.emplace(config_, writable_, offset, vectors, per_vector_mask);
}

void PciDevice::declare_msix(const MsixCapability::Layout& layout) {
    for (const auto& [bar, start, size] : {std::tuple{layout.table_bar, layout.table_offset,
                                                      MsixCapability::table_size(layout.vectors)},
                                           std::tuple{layout.pba_bar, layout.pba_offset,
                                                      MsixCapability::pba_size(layout.vectors)}}) {
        const BarKind kind = bar >= 0 && bar < kBarCount ? bars_[bar].kind : BarKind::none;
        if ((kind != BarKind::memory32 && kind != BarKind::memory64) || start + size > bars_[bar].size) {
            throw std::logic_error(name_ + ": the MSI-X table and PBA must lie inside memory BARs");
        }
    }
    const std::uint8_t offset = add_capability(MsixCapability::kId, MsixCapability::kLength);
    msix_.emplace(config_, writable_, offset, layout);
}

void PciDevice::connect_interrupts(InterruptSources& sources, std::optional<std::uint32_t> intx_gsi) {
    std::lock_guard lock(mutex_);
    if (intx_gsi && get_config(pci_reg::interrupt_pin, 1) != 0) {
        intx_gsi_ = intx_gsi;
        set_config(pci_reg::interrupt_line, 1, *intx_gsi);
        intx_ = &sources.add_line(*intx_gsi, name_ + " INTx");
    }
    const unsigned vectors = std::max(msi_ ? msi_->capable_vectors() : 0u, msix_ ? msix_->layout().vectors : 0u);
    vector_sources_.clear();
    for (unsigned vector = 0; vector < vectors; ++vector) {
        MsiSource& source = sources.add_msi(name_ + " vector " + std::to_string(vector));
        if (irqfd_paths_ != nullptr) {
            source.route_through_irqfd(*irqfd_paths_);
        }
        vector_sources_.push_back(&source);
    }
}

bool PciDevice::msi_enabled() const {
    std::lock_guard lock(mutex_);
    return msi_ && msi_->enabled();
}

bool PciDevice::msix_enabled() const {
    std::lock_guard lock(mutex_);
    return msix_ && msix_->enabled();
}

bool PciDevice::msix_pending(unsigned vector) const {
    std::lock_guard lock(mutex_);
    return msix_ && msix_->pending(vector);
}

std::optional<MsiMessage> PciDevice::msix_deliverable(unsigned vector) const {
    std::lock_guard lock(mutex_);
    return msix_ ? msix_->deliverable(vector) : std::nullopt;
}

void PciDevice::set_intx(bool asserted) {
    std::lock_guard lock(mutex_);
    intx_level_ = asserted;
    update_intx_pin();
}

void PciDevice::update_intx_pin() {
    // Interrupt Status shows the device's level whatever the guest did with
    // it; the pin carries it only while INTx is the way interrupts go.
    const auto status = static_cast<std::uint16_t>(get_config(pci_reg::status, 2));
    set_config(pci_reg::status, 2, intx_level_ ? status | kStatusInterrupt : status & ~kStatusInterrupt);
    const auto command = static_cast<std::uint16_t>(get_config(pci_reg::command, 2));
    const bool by_message = (msi_ && msi_->enabled()) || (msix_ && msix_->enabled());
    if (intx_ != nullptr) {
        intx_->set(intx_level_ && (command & kCommandInterruptDisable) == 0 && !by_message);
    }
}

bool PciDevice::raise_vector(unsigned vector) {
    std::lock_guard lock(mutex_);
    std::optional<MsiMessage> message;
    if (msix_ && msix_->enabled()) {
        message = msix_->raise(vector);
    } else if (msi_ && msi_->enabled()) {
        message = msi_->raise(vector);
    } else {
        return false;
    }
    if (message) {
        deliver({MsiDelivery{vector, *message}});
    }
    return true;
}

void PciDevice::deliver(const std::vector<MsiDelivery>& deliveries) {
    for (const MsiDelivery& delivery : deliveries) {
        if (delivery.vector < vector_sources_.size()) {
            vector_sources_[delivery.vector]->send(delivery.message.address, delivery.message.data);
        }
    }
}

void PciDevice::declare_bar(int index, BarKind kind, std::uint64_t size) {
    // A BAR's size is a power of two; I/O BARs at least 4 bytes, memory BARs
    // at least 16 (the bits below carry the BAR's type).
    const std::uint64_t minimum = kind == BarKind::io ? 4 : 16;
    if (size < minimum) {
        size = minimum;
    }
    if ((size & (size - 1)) != 0) {
        size = 1ull << (64 - __builtin_clzll(size));
    }
    Bar& bar = bars_[index];
    bar.kind = kind;
    bar.size = size;
    bar.window = std::make_shared<BarWindow>(*this, index);
    const std::uint32_t reg = pci_reg::bar0 + 4 * index;
    const std::uint32_t type_bits = kind == BarKind::io ? 0x1 : kind == BarKind::memory64 ? 0x4 : 0x0;
    set_config(reg, 4, type_bits);
    const std::uint64_t address_mask = ~(size - 1) & (kind == BarKind::io ? ~0x3ull : ~0xFull);
    const auto low_mask = static_cast<std::uint32_t>(address_mask);
    std::memcpy(&writable_[reg], &low_mask, 4);
    if (kind == BarKind::memory64) {
        const auto high_mask = static_cast<std::uint32_t>(address_mask >> 32);
        std::memcpy(&writable_[reg + 4], &high_mask, 4);
    }
}

BarKind PciDevice::bar_kind(int index) const { return bars_.at(index).kind; }
std::uint64_t PciDevice::bar_size(int index) const { return bars_.at(index).size; }

std::uint64_t PciDevice::bar_address(int index) const {
    std::lock_guard lock(mutex_);
    return decoded_bar_address(index);
}

std::uint64_t PciDevice::decoded_bar_address(int index) const {
    const Bar& bar = bars_[index];
    const std::uint32_t reg = pci_reg::bar0 + 4 * index;
    std::uint64_t address = get_config(reg, 4);
    if (bar.kind == BarKind::memory64) {
        address |= static_cast<std::uint64_t>(get_config(reg + 4, 4)) << 32;
    }
    return address & (bar.kind == BarKind::io ? ~0x3ull : ~0xFull);
}

void PciDevice::attach(AddressBus& pio, AddressBus& mmio) {
    std::lock_guard lock(mutex_);
    pio_ = &pio;
    mmio_ = &mmio;
    update_mappings();
}

void PciDevice::place_bar(int index, std::uint64_t address) {
    std::lock_guard lock(mutex_);
    const std::uint32_t reg = pci_reg::bar0 + 4 * index;
    const std::uint32_t type_bits = get_config(reg, 4) & (bars_[index].kind == BarKind::io ? 0x3 : 0xF);
    set_config(reg, 4, static_cast<std::uint32_t>(address) | type_bits);
    if (bars_[index].kind == BarKind::memory64) {
        set_config(reg + 4, 4, static_cast<std::uint32_t>(address >> 32));
    }
    update_mappings();
}

void PciDevice::update_mappings() {
    if (pio_ == nullptr || mmio_ == nullptr) {
        return;
    }
    const auto command = static_cast<std::uint16_t>(get_config(pci_reg::command, 2));
    for (int index = 0; index < kBarCount; ++index) {
        Bar& bar = bars_[index];
        if (bar.kind == BarKind::none) {
            continue;
        }
        const bool io = bar.kind == BarKind::io;
        AddressBus& bus = io ? *pio_ : *mmio_;
        const std::uint64_t address = decoded_bar_address(index);
        const bool decoding = (command & (io ? kCommandIoSpace : kCommandMemorySpace)) != 0;
        const std::uint64_t limit = io ? 0x10000 : (bar.kind == BarKind::memory32 ? 0x1'0000'0000ull : ~0ull);
        const bool placeable = address != 0 && address + bar.size > address && address + bar.size <= limit;
        const bool want = decoding && placeable;
        if (bar.mapped && (!want || bar.mapped_at != address)) {
            (void)bus.remove(bar.mapped_at);
            bar.mapped = false;
        }
        if (want && !bar.mapped) {
            if (auto error = bus.add(address, bar.size, bar.window, name_)) {
                if (!bar.refused_at || *bar.refused_at != address) {
                    static RateLimiter limiter;
                    if (limiter.allow()) {
                        log_warning("{}: BAR{} at {:#x} not mapped on the {} bus: {}", name_, index, address,
                                    bus.name(), to_string(*error));
                    }
                }
                bar.refused_at = address;
                continue;
            }
            bar.refused_at.reset();
            bar.mapped = true;
            bar.mapped_at = address;
        }
    }
}

void PciDevice::retry_refused_mappings() {
    std::lock_guard lock(mutex_);
    update_mappings();
}

std::uint64_t PciDevice::read_bar(int index, const IoAccess& access) {
    {
        std::lock_guard lock(mutex_);
        if (msix_ && msix_->claims(index, access.offset, access.size)) {
            return msix_->read(index, access.offset, access.size);
        }
    }
    return bar_read(index, access);
}

void PciDevice::write_bar(int index, const IoAccess& access, std::uint64_t value) {
    {
        std::unique_lock lock(mutex_);
        if (msix_ && msix_->claims(index, access.offset, access.size)) {
            deliver(msix_->write(index, access.offset, access.size, value));
            lock.unlock();
            msix_changed();
            return;
        }
    }
    bar_write(index, access, value);
}

bool PciDevice::config_bar_or_command(std::uint32_t reg, std::uint32_t size) const noexcept {
    const bool touches_command = reg < pci_reg::command + 2 && reg + size > pci_reg::command;
    const bool touches_bars = reg < pci_reg::bar0 + 4 * kBarCount && reg + size > pci_reg::bar0;
    return touches_command || touches_bars;
}

std::uint32_t PciDevice::config_read(std::uint32_t reg, std::uint32_t size) {
    if ((size != 1 && size != 2 && size != 4) || reg % size != 0 || reg + size > kConfigSize) {
        return (size == 1 || size == 2) ? static_cast<std::uint32_t>(all_ones(size)) : 0xFFFF'FFFFu;
    }
    std::lock_guard lock(mutex_);
    return get_config(reg, size);
}

void PciDevice::config_write(std::uint32_t reg, std::uint32_t size, std::uint32_t value) {
    if ((size != 1 && size != 2 && size != 4) || reg % size != 0 || reg + size > kConfigSize) {
        return;
    }
    bool msix_written = false;
    {
        std::lock_guard lock(mutex_);
        for (std::uint32_t i = 0; i < size; ++i) {
            const auto byte = static_cast<std::uint8_t>(value >> (8 * i));
            const std::uint8_t mask = writable_[reg + i];
            config_[reg + i] = static_cast<std::uint8_t>((config_[reg + i] & ~mask) | (byte & mask));
        }
        if (config_bar_or_command(reg, size)) {
            update_mappings();
        }
        if (msi_ && msi_->covers(reg, size)) {
            deliver(msi_->take_unmasked_pending());
        }
        msix_written = msix_ && msix_->covers(reg, size);
        if (msix_written) {
            deliver(msix_->take_unmasked_pending());
        }
        update_intx_pin();
    }
    if (msix_written) {
        msix_changed();
    }
    config_written(reg, size);
}

}  // namespace acrn::dm
