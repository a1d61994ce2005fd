#include "hv/ioreq_channel.hpp"

#include <cerrno>
#include <chrono>
#include <cstring>

#include "abi/acrn/ioreq_slot.hpp"
#include "common/log.hpp"

namespace acrn::hv {
namespace {

inline void cpu_relax() noexcept { __builtin_ia32_pause(); }

}  // namespace

IoreqChannel::IoreqChannel(CompletionMode mode, std::uint32_t vcpu_count, Upcall upcall,
                           std::chrono::nanoseconds max_spin)
    : mode_(mode),
      vcpu_count_(vcpu_count),
      upcall_(std::move(upcall)),
      windows_(std::make_unique<PollWindow[]>(vcpu_count)) {
    for (std::uint32_t vcpu = 0; vcpu < vcpu_count; ++vcpu) {
        windows_[vcpu] = PollWindow(max_spin);
    }
}

void IoreqChannel::attach_buffer(acrn_io_request_buffer* buffer) noexcept {
    if (buffer != nullptr) {
        for (auto& slot_request : buffer->req_slot) {
            IoreqSlot(slot_request).force_free();
        }
    }
    buffer_.store(buffer, std::memory_order_release);
}

SubmitOutcome IoreqChannel::submit(std::uint32_t vcpu, acrn_io_request& request) {
    auto* buffer = buffer_.load(std::memory_order_acquire);
    if (buffer == nullptr || vcpu >= vcpu_count_ || vcpu >= ACRN_IO_REQUEST_MAX) {
        return SubmitOutcome::rejected;
    }
    acrn_io_request& slot_request = buffer->req_slot[vcpu];
    IoreqSlot slot(slot_request);
    if (slot.state() != IoreqState::free) {
        log_error("vCPU {}: ioreq slot is {}, not FREE; request dropped", vcpu, to_string(slot.state()));
        return SubmitOutcome::rejected;
    }

    slot_request.type = request.type;
    std::memcpy(&slot_request.reqs, &request.reqs, sizeof(request.reqs));
    slot_request.kernel_handled = 0;
    // Set on each request of a polling VM; the vCPU clears it if it stops
    // spinning (wait_for_completion).
    if (mode_ == CompletionMode::polling) {
        slot.set_polling(true);
    }
    // PENDING is the last write before the upcall: it publishes the payload.
    const auto sent = std::chrono::steady_clock::now();
    if (!slot.publish_pending()) {
        return SubmitOutcome::rejected;
    }
    try {
        upcall_(vcpu);
    } catch (...) {
        // The Service OS side failed on this thread (the hosted relay runs
        // in-process): take the slot back so the vCPU can still submit the
        // power-off that follows.
        slot.force_free();
        throw;
    }

    const Answer answer = wait_for_completion(vcpu, slot_request);
    const bool completed = answer != Answer::aborted;
    if (completed) {
        (answer == Answer::polled ? polled_ : notified_).record(std::chrono::steady_clock::now() - sent);
        std::memcpy(&request.reqs, &slot_request.reqs, sizeof(request.reqs));
    }
    if (!slot.release()) {
        slot.force_free();
    }
    return completed ? SubmitOutcome::completed : SubmitOutcome::aborted;
}

IoreqChannel::Answer IoreqChannel::wait_for_completion(std::uint32_t vcpu, acrn_io_request& slot_request) noexcept {
    IoreqSlot slot(slot_request);
    const auto after_sleep = [](bool completed) { return completed ? Answer::notified : Answer::aborted; };
    if (mode_ == CompletionMode::notification) {
        return after_sleep(sleep_for_completion(slot));
    }
    PollWindow& window = windows_[vcpu];
    const auto start = std::chrono::steady_clock::now();
    if (window.current() > std::chrono::nanoseconds::zero() && spin_for_completion(slot, window.current())) {
        return aborting_.load(std::memory_order_acquire) ? Answer::aborted : Answer::polled;
    }
    // Past the window: ask for the notification, then look once more
    // before sleeping (the fence pairs with the Service OS's after COMPLETE).
    slot.set_polling(false);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    const bool completed = sleep_for_completion(slot);
    window.answered_after_sleep(std::chrono::steady_clock::now() - start);
    return after_sleep(completed);
}

// True once the wait is over (COMPLETE or aborting), false at the window's end.
bool IoreqChannel::spin_for_completion(const IoreqSlot& slot, std::chrono::nanoseconds window) const noexcept {
    const auto deadline = std::chrono::steady_clock::now() + window;
    for (unsigned spins = 1;; ++spins) {
        if (aborting_.load(std::memory_order_acquire) || slot.state() == IoreqState::complete) {
            return true;
        }
        cpu_relax();
        // Reading the clock costs more than a pause; look at it now and then.
        if ((spins & 0x3F) == 0 && std::chrono::steady_clock::now() >= deadline) {
            return false;
        }
    }
}

bool IoreqChannel::sleep_for_completion(IoreqSlot& slot) const noexcept {
    for (;;) {
        const IoreqState state = slot.state();
        if (aborting_.load(std::memory_order_acquire)) {
            return false;
        }
        if (state == IoreqState::complete) {
            return true;
        }
        slot.wait_while(state);
    }
}

int IoreqChannel::notify_finish(std::uint32_t vcpu) noexcept {
    auto* buffer = buffer_.load(std::memory_order_acquire);
    if (buffer == nullptr || vcpu >= vcpu_count_ || vcpu >= ACRN_IO_REQUEST_MAX) {
        return -EINVAL;
    }
    IoreqSlot(buffer->req_slot[vcpu]).wake_waiters();
    return 0;
}

void IoreqChannel::abort_waits() noexcept {
    aborting_.store(true, std::memory_order_release);
    auto* buffer = buffer_.load(std::memory_order_acquire);
    if (buffer == nullptr) {
        return;
    }
    // A sleeping vCPU only wakes when its state word changes, so an aborted
    // request is marked COMPLETE; the vCPU sees `aborting_` and discards it.
    for (std::uint32_t vcpu = 0; vcpu < vcpu_count_ && vcpu < ACRN_IO_REQUEST_MAX; ++vcpu) {
        IoreqSlot slot(buffer->req_slot[vcpu]);
        const IoreqState state = slot.state();
        if (state == IoreqState::pending || state == IoreqState::processing) {
            slot.force_complete();
        }
        slot.wake_waiters();
    }
}

void IoreqChannel::resume_after_abort() noexcept { aborting_.store(false, std::memory_order_release); }

void IoreqChannel::free_all_slots() noexcept {
    auto* buffer = buffer_.load(std::memory_order_acquire);
    if (buffer == nullptr) {
        return;
    }
    for (auto& slot_request : buffer->req_slot) {
        IoreqSlot(slot_request).force_free();
    }
}

}  // namespace acrn::hv
