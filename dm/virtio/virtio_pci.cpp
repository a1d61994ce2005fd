#include "dm/virtio/virtio_pci.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <cstring>

#include "dm/machine/device_context.hpp"
#include "dm/virtio/kernel_interrupts.hpp"
#include "dm/virtio/virtio_kicks.hpp"

namespace acrn::dm {
namespace {

using namespace virtio;

constexpr std::uint64_t kTransportFeatures = feature::version_1 | feature::event_idx | feature::indirect_desc;

PciIds virtio_ids(const VirtioIdentity& identity) {
    const auto id = static_cast<std::uint16_t>(identity.device);
    return PciIds{.vendor = kPciVendor,
                  .device = static_cast<std::uint16_t>(kPciModernDeviceBase + id),
                  .class_code = identity.class_code,
                  .subclass = identity.subclass,
                  .revision = 1,  // a modern-only device (4.1.2.1)
                  .subsystem_vendor = kPciVendor,
                  .subsystem = id};
}

void put_le(std::vector<std::uint8_t>& bytes, std::uint64_t value, unsigned size) {
    for (unsigned i = 0; i < size; ++i) {
        bytes.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
    }
}

// The bytes of a virtio_pci_cap after its id and next pointer.
std::vector<std::uint8_t> structure_capability(std::uint8_t length, std::uint8_t type, std::uint64_t offset,
                                               std::uint64_t size, std::optional<std::uint32_t> multiplier = {}) {
    std::vector<std::uint8_t> bytes{length, type, VirtioPciDevice::kVirtioBar, 0, 0, 0};
    put_le(bytes, offset, 4);
    put_le(bytes, size, 4);
    if (multiplier) {
        put_le(bytes, *multiplier, 4);
    }
    return bytes;
}

// Replaces the bytes [offset, offset + size) of a 64-bit register's value.
std::uint64_t merge(std::uint64_t old_value, std::uint32_t offset, std::uint32_t size, std::uint64_t value) {
    const std::uint64_t mask = size == 8 ? ~0ull : ((1ull << (8 * size)) - 1) << (8 * offset);
    return (old_value & ~mask) | ((value << (8 * offset)) & mask);
}

}  // namespace

VirtioPciDevice::VirtioPciDevice(std::string name, const VirtioIdentity& identity, const DeviceContext& context)
    : PciDevice(std::move(name), virtio_ids(identity)),
      identity_(identity),
      settings_(context.virtio),
      memory_(context.memory),
      loop_(context.loop),
      offered_features_(identity.features | kTransportFeatures),
      queue_configs_(identity.queues),
      config_(identity.config_size),
      queue_vectors_(std::make_unique<std::atomic<std::uint16_t>[]>(identity.queues)),
      kick_posted_(std::make_unique<std::atomic<bool>[]>(identity.queues)),
      offloaded_kicks_(identity.queues, nullptr) {
    if (identity.queues == 0 || identity.queues > kMaxQueues ||
        identity.config_size > kNotifyOffset - kDeviceConfigOffset) {
        throw std::logic_error(this->name() + ": unsupported virtio layout");
    }
    for (unsigned index = 0; index < identity.queues; ++index) {
        queue_configs_[index].size = identity.queue_size;
        queue_vectors_[index].store(kNoVector);
        queues_.push_back(std::make_unique<Virtqueue>(memory_));
    }
    declare_bar(kVirtioBar, BarKind::memory64, kVirtioBarSize);
    set_interrupt_pin(1);
    if (settings_.fast_paths) {
        use_irqfds(context.fast_paths);
    }
    if (settings_.single_msi) {
        declare_msi(1, false);
    } else {
        declare_bar(kMsixBar, BarKind::memory32, kMsixBarSize);
        declare_msix(MsixCapability::Layout{identity.queues + 1, kMsixBar, 0, kMsixBar, kMsixPbaOffset});
    }
    constexpr std::uint8_t kVendorCapability = 0x09;
    const auto add = [this](const std::vector<std::uint8_t>& contents) {
        (void)add_capability(kVendorCapability, static_cast<std::uint8_t>(contents.size() + 2), contents);
    };
    add(structure_capability(16, pci_cap::common_cfg, kCommonOffset, common_cfg::size));
    add(structure_capability(16, pci_cap::isr_cfg, kIsrOffset, 1));
    if (identity.config_size > 0) {
        add(structure_capability(16, pci_cap::device_cfg, kDeviceConfigOffset, identity.config_size));
    }
    add(structure_capability(20, pci_cap::notify_cfg, kNotifyOffset, kNotifyMultiplier * identity.queues,
                             kNotifyMultiplier));
    kicks_ = std::make_unique<VirtioKicks>(*this, loop_, context.fast_paths, settings_);
    kernel_interrupts_ = std::make_shared<KernelInterrupts>(
        loop_, settings_.fast_paths && settings_.direct_kernel_interrupts ? &context.fast_paths : nullptr,
        this->name(), identity.queues, [this](unsigned index) { interrupt_queue(index); },
        [this](unsigned index) { return direct_route(index); });
}

VirtioPciDevice::~VirtioPciDevice() { kernel_interrupts_->stop(); }

std::uint8_t VirtioPciDevice::device_status() const {
    std::lock_guard lock(mutex_);
    return status_;
}

std::uint64_t VirtioPciDevice::negotiated_features() const { return negotiated_.load(std::memory_order_acquire); }

std::uint64_t VirtioPciDevice::bar_read(int index, const IoAccess& access) {
    if (index != kVirtioBar) {
        return all_ones(access.size);
    }
    const std::uint64_t offset = access.offset;
    if (offset < kCommonOffset + common_cfg::size) {
        return read_common(access);
    }
    if (offset == kIsrOffset && access.size == 1) {
        return read_isr();
    }
    if (offset >= kDeviceConfigOffset && offset + access.size <= kDeviceConfigOffset + identity_.config_size) {
        std::uint64_t value = 0;
        const auto bytes = load_config(static_cast<std::uint32_t>(offset - kDeviceConfigOffset), access.size);
        std::memcpy(&value, bytes.data(), bytes.size());
        return value;
    }
    return offset >= kNotifyOffset ? 0 : all_ones(access.size);
}

void VirtioPciDevice::bar_write(int index, const IoAccess& access, std::uint64_t value) {
    if (index != kVirtioBar) {
        return;
    }
    const std::uint64_t offset = access.offset;
    if (offset < kCommonOffset + common_cfg::size) {
        write_common(access, value);
    } else if (offset >= kDeviceConfigOffset && offset + access.size <= kDeviceConfigOffset + identity_.config_size) {
        const auto config_offset = static_cast<std::uint32_t>(offset - kDeviceConfigOffset);
        {
            std::lock_guard lock(mutex_);
            std::memcpy(config_.data() + config_offset, &value, access.size);
        }
        device_config_written(config_offset, access.size);
    } else if (offset >= kNotifyOffset && offset < kNotifyOffset + kNotifyMultiplier * identity_.queues) {
        kick(static_cast<unsigned>((offset - kNotifyOffset) / kNotifyMultiplier));
    }
}

std::uint64_t VirtioPciDevice::read_common(const IoAccess& access) {
    std::vector<std::uint8_t> image;
    image.reserve(common_cfg::size);
    {
        std::lock_guard lock(mutex_);
        const std::uint64_t device_features =
            device_feature_select_ < 2 ? (offered_features_ >> (32 * device_feature_select_)) & 0xFFFFFFFF : 0;
        const std::uint64_t driver_features =
            driver_feature_select_ < 2 ? (driver_features_ >> (32 * driver_feature_select_)) & 0xFFFFFFFF : 0;
        const bool queue_exists = queue_select_ < identity_.queues;
        const QueueConfig none{};
        const QueueConfig& selected = queue_exists ? queue_configs_[queue_select_] : none;
        put_le(image, device_feature_select_, 4);
        put_le(image, device_features, 4);
        put_le(image, driver_feature_select_, 4);
        put_le(image, driver_features, 4);
        put_le(image, config_vector_.load(), 2);
        put_le(image, identity_.queues, 2);
        put_le(image, status_, 1);
        put_le(image, config_generation_, 1);
        put_le(image, queue_select_, 2);
        put_le(image, selected.size, 2);
        put_le(image, queue_exists ? queue_vectors_[queue_select_].load() : kNoVector, 2);
        put_le(image, selected.enabled ? 1 : 0, 2);
        put_le(image, queue_exists ? queue_select_ : 0, 2);  // queue_notify_off: one slot per queue
        put_le(image, selected.desc, 8);
        put_le(image, selected.driver, 8);
        put_le(image, selected.device, 8);
    }
    if (access.offset + access.size > image.size()) {
        return all_ones(access.size);
    }
    std::uint64_t value = 0;
    std::memcpy(&value, image.data() + access.offset, access.size);
    return value;
}

void VirtioPciDevice::write_common(const IoAccess& access, std::uint64_t value) {
    const auto offset = static_cast<std::uint32_t>(access.offset);
    const std::uint32_t size = access.size;
    if (offset == common_cfg::device_status && size == 1) {
        write_status(static_cast<std::uint8_t>(value));
        return;
    }
    if (offset == common_cfg::queue_msix_vector) {
        {
            std::lock_guard lock(mutex_);
            write_queue_register(offset, size, value);
        }
        kernel_interrupts_->reroute();
        return;
    }
    std::lock_guard lock(mutex_);
    const bool features_writable = (status_ & status::features_ok) == 0;
    switch (offset) {
        case common_cfg::device_feature_select:
            if (size == 4) device_feature_select_ = static_cast<std::uint32_t>(value);
            return;
        case common_cfg::driver_feature_select:
            if (size == 4) driver_feature_select_ = static_cast<std::uint32_t>(value);
            return;
        case common_cfg::driver_feature:
            if (size == 4 && features_writable && driver_feature_select_ < 2) {
                driver_features_ = merge(driver_features_, 4 * driver_feature_select_, 4, value);
            }
            return;
        case common_cfg::msix_config:
            if (size == 2) {
                // A vector the table does not have reads back as NO_VECTOR (4.1.5.1.2).
                const auto vector = static_cast<std::uint16_t>(value);
                config_vector_.store(vector <= identity_.queues ? vector : kNoVector);
            }
            return;
        case common_cfg::queue_select:
            if (size == 2) queue_select_ = static_cast<std::uint16_t>(value);
            return;
        default: write_queue_register(offset, size, value);
    }
}

void VirtioPciDevice::write_queue_register(std::uint32_t offset, std::uint32_t size, std::uint64_t value) {
    if (queue_select_ >= identity_.queues) {
        return;
    }
    const unsigned index = queue_select_;
    QueueConfig& config = queue_configs_[index];
    if (offset == common_cfg::queue_msix_vector && size == 2) {
        const auto vector = static_cast<std::uint16_t>(value);
        queue_vectors_[index].store(vector <= identity_.queues ? vector : kNoVector);
        return;
    }
    if (config.enabled) {
        return;  // the ring's layout is fixed while the queue runs
    }
    const auto ring_address = [&](std::uint32_t base, std::uint64_t& field) {
        if (offset >= base && offset + size <= base + 8 && (size == 4 || size == 8) && (offset - base) % size == 0) {
            field = merge(field, offset - base, size, value);
            return true;
        }
        return false;
    };
    if (offset == common_cfg::queue_size && size == 2) {
        config.size = static_cast<std::uint16_t>(value);
    } else if (offset == common_cfg::queue_enable && size == 2) {
        if (value == 1) {
            config.enabled = true;
            start_queue(index);
        }
    } else if (!ring_address(common_cfg::queue_desc, config.desc) &&
               !ring_address(common_cfg::queue_driver, config.driver)) {
        (void)ring_address(common_cfg::queue_device, config.device);
    }
}

void VirtioPciDevice::start_queue(unsigned index) {
    const QueueConfig& config = queue_configs_[index];
    const std::uint64_t features = driver_features_;
    std::string error;
    if (config.size > identity_.queue_size) {
        error = "queue size " + std::to_string(config.size) + " is above the device's " +
                std::to_string(identity_.queue_size);
    } else if (queues_[index]->start(VirtqueueLayout{config.size, config.desc, config.driver, config.device},
                                     (features & feature::event_idx) != 0, (features & feature::indirect_desc) != 0,
                                     error)) {
        return;
    }
    status_ |= status::device_needs_reset;
    if (broken_log_.allow()) {
        log_warning("{}: queue {} cannot start: {}; the device needs a reset", name(), index, error);
    }
}

void VirtioPciDevice::write_status(std::uint8_t value) {
    if (value == 0) {
        reset();
        return;
    }
    bool now_ready = false;
    {
        std::lock_guard lock(mutex_);
        const std::uint8_t old = status_;
        std::uint8_t next = static_cast<std::uint8_t>(value | (old & status::device_needs_reset));
        if ((next & status::features_ok) != 0 && (old & status::features_ok) == 0) {
            // 3.1.1: the device refuses features it did not offer, and a
            // modern device needs VERSION_1.
            const bool acceptable =
                (driver_features_ & ~offered_features_) == 0 && (driver_features_ & feature::version_1) != 0;
            if (acceptable) {
                negotiated_.store(driver_features_, std::memory_order_release);
            } else {
                next &= static_cast<std::uint8_t>(~status::features_ok);
                if (broken_log_.allow()) {
                    log_warning("{}: the driver asked for features {:#x}, outside {:#x} or without VERSION_1",
                                name(), driver_features_, offered_features_);
                }
            }
        }
        now_ready = (next & status::driver_ok) != 0 && (old & status::driver_ok) == 0;
        status_ = next;
    }
    if (now_ready) {
        std::vector<unsigned> running;
        for (unsigned index = 0; index < identity_.queues; ++index) {
            if (queues_[index]->running()) {
                running.push_back(index);
            }
        }
        kicks_->start(bar_address(kVirtioBar) + kNotifyOffset, running, offloaded_kicks_);
        kernel_interrupts_->start();
        driver_ready();
    }
}

void VirtioPciDevice::reset() {
    for (const auto& queue : queues_) {
        queue->stop();
    }
    kicks_->stop();
    device_reset();
    kernel_interrupts_->stop();
    {
        std::lock_guard lock(mutex_);
        status_ = 0;
        device_feature_select_ = 0;
        driver_feature_select_ = 0;
        driver_features_ = 0;
        queue_select_ = 0;
        negotiated_.store(0);
        config_vector_.store(kNoVector);
        for (unsigned index = 0; index < identity_.queues; ++index) {
            queue_configs_[index] = QueueConfig{.size = identity_.queue_size};
            queue_vectors_[index].store(kNoVector);
        }
    }
    std::lock_guard lock(isr_mutex_);
    isr_ = 0;
    set_intx(false);
}

std::uint8_t VirtioPciDevice::read_isr() {
    std::lock_guard lock(isr_mutex_);
    const std::uint8_t value = isr_;
    isr_ = 0;
    set_intx(false);
    return value;
}

void VirtioPciDevice::raise(std::uint16_t vector, std::uint8_t isr_bit) {
    if (msix_enabled()) {
        if (vector != kNoVector) {
            (void)raise_vector(vector);
        }
        return;
    }
    std::lock_guard lock(isr_mutex_);
    isr_ |= isr_bit;
    if (!raise_vector(0)) {
        set_intx(true);
    }
}

void VirtioPciDevice::notify_queue(unsigned index) {
    if (queues_[index]->should_interrupt()) {
        raise(queue_vectors_[index].load(), kIsrQueue);
    }
}

void VirtioPciDevice::interrupt_queue(unsigned index) { raise(queue_vectors_[index].load(), kIsrQueue); }

void VirtioPciDevice::offload_kicks(unsigned index, const EventFd& event) { offloaded_kicks_.at(index) = &event; }

void VirtioPciDevice::offload_interrupts(unsigned index, const EventFd& event) {
    kernel_interrupts_->add(index, event);
}

void VirtioPciDevice::release_offloaded_interrupts() { kernel_interrupts_->stop(); }

bool VirtioPciDevice::interrupts_bound(unsigned index) const { return kernel_interrupts_->bound(index); }

void VirtioPciDevice::msix_changed() { kernel_interrupts_->reroute(); }

std::optional<MsiMessage> VirtioPciDevice::direct_route(unsigned index) const {
    const std::uint16_t vector = queue_vectors_[index].load();
    return vector == kNoVector ? std::nullopt : msix_deliverable(vector);
}

void VirtioPciDevice::report_broken(unsigned queue, const std::string& why) {
    {
        std::lock_guard lock(mutex_);
        if ((status_ & status::device_needs_reset) != 0) {
            return;
        }
        status_ |= status::device_needs_reset;
    }
    if (broken_log_.allow()) {
        log_warning("{}: queue {}: {}; the device needs a reset", name(), queue, why);
    }
    for (const auto& each : queues_) {
        each->stop();
    }
    raise(config_vector_.load(), kIsrConfig);
}

bool VirtioPciDevice::next_chain(unsigned queue, DescriptorChain& chain) {
    std::string error;
    const auto status = queues_[queue]->pop(chain, error);
    if (status == Virtqueue::PopStatus::malformed) {
        report_broken(queue, error);
    }
    return status == Virtqueue::PopStatus::chain;
}

void VirtioPciDevice::store_config(std::uint32_t offset, std::span<const std::uint8_t> bytes) {
    std::lock_guard lock(mutex_);
    if (offset + bytes.size() <= config_.size()) {
        std::memcpy(config_.data() + offset, bytes.data(), bytes.size());
    }
}

std::vector<std::uint8_t> VirtioPciDevice::load_config(std::uint32_t offset, std::uint32_t length) const {
    std::lock_guard lock(mutex_);
    if (offset + length > config_.size()) {
        return std::vector<std::uint8_t>(length, 0xFF);
    }
    return {config_.begin() + offset, config_.begin() + offset + length};
}

void VirtioPciDevice::signal_config_change() {
    {
        std::lock_guard lock(mutex_);
        ++config_generation_;
        if ((status_ & status::driver_ok) == 0) {
            return;
        }
    }
    raise(config_vector_.load(), kIsrConfig);
}

void VirtioPciDevice::kick(unsigned index) {
    if (const EventFd* offloaded = offloaded_kicks_[index]) {
        (void)offloaded->signal();
        return;
    }
    if (kick_posted_[index].exchange(true, std::memory_order_acq_rel)) {
        return;  // one run of the queue is already on its way
    }
    boost::asio::post(loop_, [weak = weak_from_this(), index] {
        if (auto device = std::static_pointer_cast<VirtioPciDevice>(weak.lock())) {
            device->run_kick(index);
        }
    });
}

void VirtioPciDevice::run_kick(unsigned index) {
    kick_posted_[index].store(false, std::memory_order_release);
    if (queues_[index]->running()) {
        queue_kicked(index);
    }
}

void VirtioPciDevice::poll_queues() {
    for (unsigned index = 0; index < identity_.queues; ++index) {
        if (queues_[index]->running() && offloaded_kicks_[index] == nullptr) {
            queues_[index]->set_kicks_wanted(false);
            queue_kicked(index);
        }
    }
}

}  // namespace acrn::dm
