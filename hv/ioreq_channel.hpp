// The hypervisor's side of one VM's ioreq buffer: a vCPU thread submits a
// request into its slot, raises the upcall, waits for COMPLETE, takes the
// result and frees the slot. Knows requests, not devices.
//
// In notification mode the vCPU sleeps until the Service OS notifies it. In
// polling mode it spins, within a window (hv/poll_window.hpp) bounded by
// `max_spin`; past it, it clears the request's completion_polling flag and
// sleeps, and the Service OS, which reads the flag after COMPLETE, notifies
// it as in notification mode. So a slow answer costs a sleep, not a host
// CPU, and a host without a CPU to spare (max_spin zero) loses nothing
// against notification.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include "abi/acrn/abi.h"
#include "common/hypervisor_stats.hpp"
#include "common/latency_histogram.hpp"
#include "hv/poll_window.hpp"

namespace acrn {
class IoreqSlot;
}

namespace acrn::hv {

enum class CompletionMode { notification, polling };

enum class SubmitOutcome {
    completed,  // the Service OS answered; the request holds the result
    aborted,    // the VM is being reset or destroyed; there is no result
    rejected,   // no buffer, bad vCPU id, or the slot was not FREE
};

class IoreqChannel {
public:
    using Upcall = std::function<void(std::uint32_t vcpu)>;

    // KVM's halt_poll_ns default: the longest a polling vCPU spins.
    static constexpr std::chrono::nanoseconds kDefaultMaxSpin{200'000};

    IoreqChannel(CompletionMode mode, std::uint32_t vcpu_count, Upcall upcall,
                 std::chrono::nanoseconds max_spin = kDefaultMaxSpin);

    // HC_SET_IOREQ_BUFFER: adopt the shared page and mark every slot FREE.
    void attach_buffer(acrn_io_request_buffer* buffer) noexcept;
    [[nodiscard]] bool has_buffer() const noexcept { return buffer_.load(std::memory_order_acquire) != nullptr; }
    [[nodiscard]] CompletionMode mode() const noexcept { return mode_; }
    // The current spin window of `vcpu` (polling mode).
    [[nodiscard]] std::chrono::nanoseconds spin_window(std::uint32_t vcpu) const noexcept {
        return vcpu < vcpu_count_ ? windows_[vcpu].current() : std::chrono::nanoseconds::zero();
    }

    // Called on the vCPU's own thread. `request` carries type and payload in;
    // on `completed` its payload holds what the Service OS wrote back. An
    // exception from the upcall goes on to the caller with the slot FREE.
    [[nodiscard]] SubmitOutcome submit(std::uint32_t vcpu, acrn_io_request& request);

    // HC_NOTIFY_REQUEST_FINISH: wake a vCPU sleeping in notification mode.
    // Returns -EINVAL for a bad vCPU id or a missing buffer, as ACRN does.
    [[nodiscard]] int notify_finish(std::uint32_t vcpu) noexcept;

    // The round trips so far, by how the answer was found (any thread).
    void read_round_trips(HypervisorStats& stats) const noexcept {
        stats.ioreq_polled = polled_.snapshot();
        stats.ioreq_notified = notified_.snapshot();
    }

    // Ends every wait in progress with `aborted` until resume_after_abort().
    void abort_waits() noexcept;
    void resume_after_abort() noexcept;
    // VM reset: every slot back to FREE.
    void free_all_slots() noexcept;

private:
    enum class Answer { polled, notified, aborted };
    [[nodiscard]] Answer wait_for_completion(std::uint32_t vcpu, acrn_io_request& slot_request) noexcept;
    [[nodiscard]] bool spin_for_completion(const IoreqSlot& slot, std::chrono::nanoseconds window) const noexcept;
    [[nodiscard]] bool sleep_for_completion(IoreqSlot& slot) const noexcept;

    const CompletionMode mode_;
    const std::uint32_t vcpu_count_;
    const Upcall upcall_;
    std::atomic<acrn_io_request_buffer*> buffer_{nullptr};
    std::atomic<bool> aborting_{false};
    // Per vCPU, each touched only by its own thread.
    std::unique_ptr<PollWindow[]> windows_;
    LatencyHistogram polled_;
    LatencyHistogram notified_;
};

}  // namespace acrn::hv
