// A split virtqueue (virtio 1.2, 2.7) as the device side sees it: pops the
// descriptor chains the driver made available, validating every descriptor,
// and returns them through the used ring, deciding whether the driver asked
// for an interrupt (VIRTIO_F_EVENT_IDX or the avail ring's NO_INTERRUPT).
//
// Every guest-controlled value is checked before it is used: the ring
// addresses when the queue starts, and per chain the head, each descriptor's
// buffer (inside guest RAM, non-empty), the chain length (at most the table
// size, which also catches loops), the order of device-readable before
// device-writable buffers, and indirect tables (negotiated, at the head,
// a whole number of descriptors, not nested, not combined with NEXT). A
// malformed chain is reported, never followed; the transport then sets
// DEVICE_NEEDS_RESET.
//
// Thread-safe: the event loop pops while an I/O engine's threads push.
#pragma once

#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "dm/guest_buffers.hpp"

namespace acrn::dm {

struct DescriptorChain {
    std::uint16_t head = 0;
    std::uint64_t generation = 0;     // of the queue it came from (a reset makes it stale)
    std::vector<GuestRange> readable;  // driver to device, in chain order
    std::vector<GuestRange> writable;  // device to driver, after all readable ones
    std::uint64_t readable_bytes = 0;
    std::uint64_t writable_bytes = 0;

    void clear() noexcept {
        readable.clear();
        writable.clear();
        readable_bytes = 0;
        writable_bytes = 0;
    }
};

struct VirtqueueLayout {
    std::uint16_t size = 0;
    std::uint64_t desc = 0;   // descriptor table
    std::uint64_t avail = 0;  // driver area
    std::uint64_t used = 0;   // device area
};

struct VirtqueueAreas {
    std::span<std::uint8_t> desc;
    std::span<std::uint8_t> avail;
    std::span<std::uint8_t> used;
};

class Virtqueue {
public:
    explicit Virtqueue(const GuestMemory& memory) : memory_(memory) {}
    Virtqueue(const Virtqueue&) = delete;
    Virtqueue& operator=(const Virtqueue&) = delete;

    // Starts serving the ring the driver set up. False, with the reason in
    // `error`, if the size is not a power of two up to 32768, an area is
    // misaligned or not entirely in guest RAM.
    bool start(const VirtqueueLayout& layout, bool event_idx, bool indirect, std::string& error);
    // Forgets the ring (device reset): pops find nothing, and completions
    // of chains popped before are dropped.
    void stop();
    [[nodiscard]] bool running() const;

    enum class PopStatus { empty, chain, malformed };
    // The next available chain into `chain` (its vectors reused). On
    // `malformed`, `error` says what was wrong; the chain was consumed.
    PopStatus pop(DescriptorChain& chain, std::string& error);
    // Returns a chain with `written` bytes written into its writable part.
    // False (nothing written) if the queue was reset since the chain was popped.
    bool push(const DescriptorChain& chain, std::uint32_t written);
    // Returns chains[i] with written[i] bytes each and publishes them with
    // one used-index update, so the driver sees all of them or none (one
    // receive frame merged over several buffers, VIRTIO_NET_F_MRG_RXBUF).
    // False (nothing written) if the queue was reset since any was popped.
    bool push(std::span<const DescriptorChain> chains, std::span<const std::uint32_t> written);
    // True if the driver wants an interrupt for what was pushed since the
    // last call (and then counts it as signalled).
    bool should_interrupt();
    // Poll mode (--virtio_poll): while off, the driver is asked not to kick.
    void set_kicks_wanted(bool wanted);

    [[nodiscard]] std::uint16_t size() const;
    // acrn-dm's view of the running ring's three areas, for a kernel back
    // end that serves the ring itself (vhost); empty spans when stopped.
    [[nodiscard]] VirtqueueAreas areas() const;

private:
    [[nodiscard]] bool walk(std::uint16_t head, DescriptorChain& chain, std::string& error) const;
    [[nodiscard]] bool add_buffer(std::uint64_t gpa, std::uint32_t length, bool device_writable,
                                  DescriptorChain& chain, std::string& error) const;
    void publish_avail_event();

    const GuestMemory& memory_;
    mutable std::mutex mutex_;
    bool running_ = false;
    bool event_idx_ = false;
    bool indirect_ = false;
    bool kicks_wanted_ = true;
    VirtqueueLayout layout_{};
    std::uint64_t generation_ = 0;
    std::uint16_t last_avail_ = 0;
    std::uint16_t used_idx_ = 0;
    std::uint16_t signalled_used_ = 0;
};

}  // namespace acrn::dm
