// One slot of the shared ioreq page and its state machine:
//   FREE -> PENDING (hv) -> PROCESSING (relay) -> COMPLETE (Service OS) -> FREE (hv)
// PENDING and PROCESSING belong to the Service-OS side, COMPLETE and FREE to
// hv. The state word is the only synchronisation: the side that owns the
// slot writes the payload, then hands it over with a release store; the
// other side reads the state with acquire before it touches the payload.
// The same class serves hv, both relays and the tests.
#pragma once

#include <atomic>
#include <cstdint>

#include "abi/acrn/abi.h"

namespace acrn {

enum class IoreqState : std::uint32_t {
    pending = ACRN_IOREQ_STATE_PENDING,
    complete = ACRN_IOREQ_STATE_COMPLETE,
    processing = ACRN_IOREQ_STATE_PROCESSING,
    free = ACRN_IOREQ_STATE_FREE,
};

[[nodiscard]] constexpr const char* to_string(IoreqState state) noexcept {
    switch (state) {
        case IoreqState::pending: return "PENDING";
        case IoreqState::complete: return "COMPLETE";
        case IoreqState::processing: return "PROCESSING";
        case IoreqState::free: return "FREE";
    }
    return "INVALID";
}

class IoreqSlot {
public:
    explicit IoreqSlot(acrn_io_request& request) noexcept : request_(request), state_(request.processed) {}

    [[nodiscard]] acrn_io_request& request() const noexcept { return request_; }

    [[nodiscard]] IoreqState state() const noexcept {
        return static_cast<IoreqState>(state_.load(std::memory_order_acquire));
    }

    // Each transition succeeds only from its one legal predecessor, so a
    // confused or hostile peer cannot move a slot it does not own.
    [[nodiscard]] bool publish_pending() noexcept { return transition(IoreqState::free, IoreqState::pending); }
    [[nodiscard]] bool begin_processing() noexcept {
        return transition(IoreqState::pending, IoreqState::processing);
    }
    [[nodiscard]] bool complete() noexcept { return transition(IoreqState::processing, IoreqState::complete); }
    [[nodiscard]] bool release() noexcept { return transition(IoreqState::complete, IoreqState::free); }

    // hv's unconditional reset of a slot (VM reset / creation): no request
    // survives it, whoever held it.
    void force_free() noexcept { store(IoreqState::free); }
    // The relay completing a request it will not deliver (VM being cleared).
    void force_complete() noexcept { store(IoreqState::complete); }

    // Notification-mode waiting: sleeps (futex) while the state is `seen`.
    void wait_while(IoreqState seen) const noexcept {
        state_.wait(static_cast<std::uint32_t>(seen), std::memory_order_acquire);
    }
    void wake_waiters() noexcept { state_.notify_all(); }

    // completion_polling: set by hv on each request of a polling VM, and
    // cleared by the vCPU when it stops spinning and sleeps, so that the
    // Service OS notifies it after all. Both sides fence between their
    // write and their read (the flag, COMPLETE), so one sees the other's.
    [[nodiscard]] bool polling() const noexcept {
        return std::atomic_ref<std::uint32_t>(request_.completion_polling).load(std::memory_order_relaxed) != 0;
    }
    void set_polling(bool polling) noexcept {
        std::atomic_ref<std::uint32_t>(request_.completion_polling).store(polling ? 1 : 0, std::memory_order_relaxed);
    }

private:
    bool transition(IoreqState from, IoreqState to) noexcept {
        auto expected = static_cast<std::uint32_t>(from);
        return state_.compare_exchange_strong(expected, static_cast<std::uint32_t>(to), std::memory_order_acq_rel,
                                              std::memory_order_acquire);
    }
    void store(IoreqState to) noexcept { state_.store(static_cast<std::uint32_t>(to), std::memory_order_release); }

    acrn_io_request& request_;
    std::atomic_ref<std::uint32_t> state_;
};

static_assert(std::atomic_ref<std::uint32_t>::is_always_lock_free, "the ioreq state word must be lock-free");

}  // namespace acrn
