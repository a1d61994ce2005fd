#include "dm/virtio/virtqueue.hpp"

#include <atomic>
#include <bit>

#include "dm/virtio/virtio_spec.hpp"

namespace acrn::dm {
namespace {

using namespace virtio::ring;

// The avail ring: flags, idx, ring[size], used_event. The used ring: flags,
// idx, ring[size] of {id, len}, avail_event.
constexpr std::uint64_t avail_bytes(std::uint16_t size) { return 4 + 2ull * size + 2; }
constexpr std::uint64_t used_bytes(std::uint16_t size) { return 4 + used_element_size * size + 2; }

// 2.7.10: the driver wants an interrupt if the used index moved past
// `event` between `old_idx` and `new_idx` (all modulo 2^16).
constexpr bool need_event(std::uint16_t event, std::uint16_t new_idx, std::uint16_t old_idx) {
    return static_cast<std::uint16_t>(new_idx - event - 1) < static_cast<std::uint16_t>(new_idx - old_idx);
}

// Far enough ahead that the driver never reaches it between two polls.
constexpr std::uint16_t kNoKickDistance = 0x8000;

struct Descriptor {
    std::uint64_t addr;
    std::uint32_t len;
    std::uint16_t flags;
    std::uint16_t next;
};
static_assert(sizeof(Descriptor) == descriptor_size);

}  // namespace

bool Virtqueue::start(const VirtqueueLayout& layout, bool event_idx, bool indirect, std::string& error) {
    const auto in_ram = [this](std::uint64_t gpa, std::uint64_t length) {
        return memory_.span(gpa, length).size() == length;
    };
    if (layout.size == 0 || layout.size > max_queue_size || !std::has_single_bit(layout.size)) {
        error = "queue size " + std::to_string(layout.size) + " is not a power of two up to 32768";
    } else if (layout.desc % 16 != 0 || layout.avail % 2 != 0 || layout.used % 4 != 0) {
        error = "a ring area is misaligned (descriptors 16, driver area 2, device area 4 bytes)";
    } else if (!in_ram(layout.desc, descriptor_size * layout.size) || !in_ram(layout.avail, avail_bytes(layout.size)) ||
               !in_ram(layout.used, used_bytes(layout.size))) {
        error = "a ring area is not inside guest RAM";
    } else {
        std::lock_guard lock(mutex_);
        layout_ = layout;
        event_idx_ = event_idx;
        indirect_ = indirect;
        kicks_wanted_ = true;
        last_avail_ = 0;
        used_idx_ = 0;
        signalled_used_ = 0;
        ++generation_;
        running_ = true;
        return true;
    }
    return false;
}

void Virtqueue::stop() {
    std::lock_guard lock(mutex_);
    running_ = false;
    ++generation_;
}

bool Virtqueue::running() const {
    std::lock_guard lock(mutex_);
    return running_;
}

std::uint16_t Virtqueue::size() const {
    std::lock_guard lock(mutex_);
    return layout_.size;
}

VirtqueueAreas Virtqueue::areas() const {
    std::lock_guard lock(mutex_);
    if (!running_) {
        return {};
    }
    return VirtqueueAreas{.desc = memory_.span(layout_.desc, descriptor_size * layout_.size),
                          .avail = memory_.span(layout_.avail, avail_bytes(layout_.size)),
                          .used = memory_.span(layout_.used, used_bytes(layout_.size))};
}

void Virtqueue::set_kicks_wanted(bool wanted) {
    std::lock_guard lock(mutex_);
    kicks_wanted_ = wanted;
    if (!running_) {
        return;
    }
    if (event_idx_) {
        publish_avail_event();
    } else {
        (void)memory_.store_release<std::uint16_t>(layout_.used, wanted ? 0 : used_f_no_notify);
    }
}

void Virtqueue::publish_avail_event() {
    const std::uint16_t event = kicks_wanted_ ? last_avail_ : static_cast<std::uint16_t>(last_avail_ + kNoKickDistance);
    (void)memory_.store_release<std::uint16_t>(layout_.used + 4 + used_element_size * layout_.size, event);
}

Virtqueue::PopStatus Virtqueue::pop(DescriptorChain& chain, std::string& error) {
    std::lock_guard lock(mutex_);
    if (!running_) {
        return PopStatus::empty;
    }
    auto avail_idx = memory_.load_acquire<std::uint16_t>(layout_.avail + 2);
    if (!avail_idx) {
        error = "the driver area left guest RAM";
        return PopStatus::malformed;
    }
    if (*avail_idx == last_avail_ && event_idx_) {
        // Ask for a kick at the next buffer, then look once more: the driver
        // may have added one before it could see the request.
        publish_avail_event();
        std::atomic_thread_fence(std::memory_order_seq_cst);
        avail_idx = memory_.load_acquire<std::uint16_t>(layout_.avail + 2);
    }
    const auto pending = static_cast<std::uint16_t>(*avail_idx - last_avail_);
    if (pending == 0) {
        return PopStatus::empty;
    }
    if (pending > layout_.size) {
        error = "the available index ran " + std::to_string(pending) + " entries ahead of a queue of " +
                std::to_string(layout_.size);
        return PopStatus::malformed;
    }
    std::uint16_t head = 0;
    (void)memory_.read(layout_.avail + 4 + 2ull * (last_avail_ % layout_.size), &head, sizeof head);
    ++last_avail_;
    if (event_idx_) {
        publish_avail_event();
    }
    chain.clear();
    chain.head = head;
    chain.generation = generation_;
    return walk(head, chain, error) ? PopStatus::chain : PopStatus::malformed;
}

bool Virtqueue::walk(std::uint16_t head, DescriptorChain& chain, std::string& error) const {
    std::uint64_t table = layout_.desc;
    std::uint32_t table_size = layout_.size;
    bool in_indirect = false;
    std::uint32_t index = head;
    std::uint32_t seen = 0;
    if (index >= table_size) {
        error = "head descriptor " + std::to_string(index) + " is outside a queue of " + std::to_string(table_size);
        return false;
    }
    for (;;) {
        if (++seen > table_size) {
            error = "the descriptor chain is longer than its table (a loop?)";
            return false;
        }
        Descriptor descriptor{};
        if (!memory_.read(table + descriptor_size * index, &descriptor, sizeof descriptor)) {
            error = "an indirect descriptor table left guest RAM";
            return false;
        }
        if ((descriptor.flags & desc_f_indirect) != 0) {
            if (!indirect_) {
                error = "an indirect descriptor, but VIRTIO_F_INDIRECT_DESC was not negotiated";
            } else if (in_indirect) {
                error = "an indirect descriptor inside an indirect table";
            } else if (seen != 1 || (descriptor.flags & desc_f_next) != 0) {
                error = "an indirect descriptor that is not the whole chain";
            } else if (descriptor.len == 0 || descriptor.len % descriptor_size != 0 ||
                       descriptor.len / descriptor_size > max_queue_size) {
                error = "an indirect table of " + std::to_string(descriptor.len) + " bytes";
            } else if (memory_.span(descriptor.addr, descriptor.len).size() != descriptor.len) {
                error = "an indirect table outside guest RAM";
            } else {
                table = descriptor.addr;
                table_size = descriptor.len / descriptor_size;
                in_indirect = true;
                index = 0;
                seen = 0;
                continue;
            }
            return false;
        }
        if (!add_buffer(descriptor.addr, descriptor.len, (descriptor.flags & desc_f_write) != 0, chain, error)) {
            return false;
        }
        if ((descriptor.flags & desc_f_next) == 0) {
            return true;
        }
        index = descriptor.next;
        if (index >= table_size) {
            error = "descriptor " + std::to_string(index) + " is outside its table of " + std::to_string(table_size);
            return false;
        }
    }
}

bool Virtqueue::add_buffer(std::uint64_t gpa, std::uint32_t length, bool device_writable, DescriptorChain& chain,
                           std::string& error) const {
    if (length == 0) {
        error = "a zero-length buffer";
        return false;
    }
    if (memory_.span(gpa, length).size() != length) {
        error = "a buffer outside guest RAM";
        return false;
    }
    if (device_writable) {
        chain.writable.push_back({gpa, length});
        chain.writable_bytes += length;
    } else {
        if (!chain.writable.empty()) {
            error = "a device-readable buffer after a device-writable one";
            return false;
        }
        chain.readable.push_back({gpa, length});
        chain.readable_bytes += length;
    }
    return true;
}

bool Virtqueue::push(const DescriptorChain& chain, std::uint32_t written) {
    return push(std::span(&chain, 1), std::span(&written, 1));
}

bool Virtqueue::push(std::span<const DescriptorChain> chains, std::span<const std::uint32_t> written) {
    std::lock_guard lock(mutex_);
    if (!running_ || chains.size() != written.size() || chains.size() > layout_.size) {
        return false;
    }
    for (const DescriptorChain& chain : chains) {
        if (chain.generation != generation_) {
            return false;
        }
    }
    for (std::size_t i = 0; i < chains.size(); ++i) {
        const std::uint32_t element[2] = {chains[i].head, written[i]};
        const auto slot = static_cast<std::uint16_t>(used_idx_ + i) % layout_.size;
        (void)memory_.write(layout_.used + 4 + used_element_size * slot, element, sizeof element);
    }
    used_idx_ = static_cast<std::uint16_t>(used_idx_ + chains.size());
    (void)memory_.store_release<std::uint16_t>(layout_.used + 2, used_idx_);
    return true;
}

bool Virtqueue::should_interrupt() {
    std::lock_guard lock(mutex_);
    if (!running_) {
        return false;
    }
    // Our used index must be visible before we read what the driver wants,
    // or an interrupt it asked for in between would be lost.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    const std::uint16_t old_idx = signalled_used_;
    signalled_used_ = used_idx_;
    if (event_idx_) {
        const auto used_event = memory_.load_acquire<std::uint16_t>(layout_.avail + 4 + 2ull * layout_.size);
        return used_event && need_event(*used_event, used_idx_, old_idx);
    }
    const auto flags = memory_.load_acquire<std::uint16_t>(layout_.avail);
    return old_idx != used_idx_ && flags && (*flags & avail_f_no_interrupt) == 0;
}

}  // namespace acrn::dm
