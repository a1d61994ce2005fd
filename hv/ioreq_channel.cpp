#include "hv/ioreq_channel.hpp"

#include <sched.h>

#include <cerrno>
#include <cstring>

#include "abi/acrn/ioreq_slot.hpp"
#include "common/log.hpp"

namespace acrn::hv {
namespace {

inline void cpu_relax() noexcept { __builtin_ia32_pause(); }

// In polling mode a vCPU thread spins; after this many rounds without an
// answer it also yields its host CPU once per round, as ACRN's polling loop
// calls schedule() when a reschedule is pending. Short requests never get
// here; a Service OS that is slow to answer does not starve its own threads.
constexpr unsigned kSpinsBeforeYield = 1u << 14;

}  // namespace

IoreqChannel::IoreqChannel(CompletionMode mode, std::uint32_t vcpu_count, Upcall upcall)
    : mode_(mode), vcpu_count_(vcpu_count), upcall_(std::move(upcall)) {}

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
    // ACRN sets the flag for a polling VM and never clears it back.
    if (mode_ == CompletionMode::polling) {
        slot_request.completion_polling = 1;
    }
    // PENDING is the last write before the upcall: it publishes the payload.
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

    const bool completed = wait_for_completion(slot_request);
    if (completed) {
        std::memcpy(&request.reqs, &slot_request.reqs, sizeof(request.reqs));
    }
    if (!slot.release()) {
        slot.force_free();
    }
    return completed ? SubmitOutcome::completed : SubmitOutcome::aborted;
}

bool IoreqChannel::wait_for_completion(acrn_io_request& slot_request) const noexcept {
    IoreqSlot slot(slot_request);
    unsigned spins = 0;
    for (;;) {
        const IoreqState state = slot.state();
        if (aborting_.load(std::memory_order_acquire)) {
            return false;
        }
        if (state == IoreqState::complete) {
            return true;
        }
        if (mode_ == CompletionMode::polling) {
            cpu_relax();
            if (++spins >= kSpinsBeforeYield) {
                sched_yield();
            }
        } else {
            slot.wait_while(state);
        }
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
