// The hypervisor's side of one VM's ioreq buffer: a vCPU thread submits a
// request into its slot, raises the upcall, waits for COMPLETE (sleeping in
// notification mode, spinning in polling mode), takes the result and frees
// the slot. Knows requests, not devices.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>

#include "abi/acrn/abi.h"

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

    IoreqChannel(CompletionMode mode, std::uint32_t vcpu_count, Upcall upcall);

    // HC_SET_IOREQ_BUFFER: adopt the shared page and mark every slot FREE.
    void attach_buffer(acrn_io_request_buffer* buffer) noexcept;
    [[nodiscard]] bool has_buffer() const noexcept { return buffer_.load(std::memory_order_acquire) != nullptr; }
    [[nodiscard]] CompletionMode mode() const noexcept { return mode_; }

    // Called on the vCPU's own thread. `request` carries type and payload in;
    // on `completed` its payload holds what the Service OS wrote back. An
    // exception from the upcall goes on to the caller with the slot FREE.
    [[nodiscard]] SubmitOutcome submit(std::uint32_t vcpu, acrn_io_request& request);

    // HC_NOTIFY_REQUEST_FINISH: wake a vCPU sleeping in notification mode.
    // Returns -EINVAL for a bad vCPU id or a missing buffer, as ACRN does.
    [[nodiscard]] int notify_finish(std::uint32_t vcpu) noexcept;

    // Ends every wait in progress with `aborted` until resume_after_abort().
    void abort_waits() noexcept;
    void resume_after_abort() noexcept;
    // VM reset: every slot back to FREE.
    void free_all_slots() noexcept;

private:
    [[nodiscard]] bool wait_for_completion(acrn_io_request& slot_request) const noexcept;

    const CompletionMode mode_;
    const std::uint32_t vcpu_count_;
    const Upcall upcall_;
    std::atomic<acrn_io_request_buffer*> buffer_{nullptr};
    std::atomic<bool> aborting_{false};
};

}  // namespace acrn::hv
