// The relay's half of the ioreq path, as ACRN's HSM does it: take a PENDING
// slot, pick the client that owns it (the newest range client whose range
// covers the access, else the default client), mark it PROCESSING and wake
// that client; on notify-finish, mark it COMPLETE and, unless the VM polls,
// tell hv to wake the vCPU.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "abi/acrn/abi.h"

namespace acrn::relay {

struct IoRange {
    std::uint32_t type;  // ACRN_IOREQ_TYPE_PORTIO or _MMIO
    std::uint64_t start;
    std::uint64_t end;  // inclusive
};

class IoreqDispatcher {
public:
    // Tells hv the request of `vcpu` is complete (HC_NOTIFY_REQUEST_FINISH).
    using NotifyHv = std::function<int(std::uint32_t vcpu)>;
    // An in-relay client handles a request on the spot (ioeventfd, tests).
    using InRelayHandler = std::function<void(acrn_io_request&)>;

    IoreqDispatcher(std::uint32_t vcpu_count, NotifyHv notify_hv);

    void set_buffer(acrn_io_request_buffer* buffer) noexcept { buffer_.store(buffer, std::memory_order_release); }
    [[nodiscard]] acrn_io_request_buffer* buffer() const noexcept { return buffer_.load(std::memory_order_acquire); }

    // The upcall for one vCPU: deliver its PENDING slot.
    void dispatch(std::uint32_t vcpu);

    // How long `attach` polls for a request before it sleeps. Zero (the
    // default) sleeps at once, as ACRN's HSM does; a polling VM sets a short
    // window so the device model, like the vCPU, skips the wake-up when
    // requests come back to back; nanoseconds::max() never sleeps.
    void set_attach_poll(std::chrono::nanoseconds window) noexcept { attach_poll_ = window; }

    int create_default_client();
    int attach_default_client();
    int destroy_default_client();
    int notify_finish(std::uint32_t vcpu);
    int clear_requests();

    // hv stopped the VM because its own code failed; the first report is kept.
    void report_fatal(const std::string& reason);
    [[nodiscard]] std::optional<std::string> fatal_error() const;

    // Range clients served inside the relay. Returns an id for removal.
    int add_in_relay_client(std::string name, std::vector<IoRange> ranges, InRelayHandler handler);
    // Returns once no request can reach the client any more: a handler
    // running on a vCPU thread is waited for, and the handler (with what it
    // owns, such as an ioeventfd's eventfd) is destroyed here. Never call it
    // from inside that client's handler.
    void remove_in_relay_client(int id);

private:
    // The default client's wake word: a bit per vCPU whose request waits
    // for the client, kSleeping while the client sleeps on the word (a
    // futex), and kNoClient while there is none (not created yet, or
    // destroyed: attach returns -ENODEV). One atomic word, so that the hot
    // path takes no lock: delivery sets a bit and makes the futex call only
    // if the client sleeps; notify-finish clears the bit.
    static constexpr std::uint32_t kNoClient = 1u << 31;
    static constexpr std::uint32_t kSleeping = 1u << 30;
    static constexpr std::uint32_t kPendingMask = kSleeping - 1;
    void wake_default_client(std::uint32_t word_before, bool all);
    struct InRelayClient {
        int id;
        std::string name;
        std::vector<IoRange> ranges;
        InRelayHandler handler;
        // Held shared while the handler runs; removal takes it exclusively.
        std::shared_mutex running;
    };

    void deliver(std::uint32_t vcpu, acrn_io_request& request);
    [[nodiscard]] std::shared_ptr<InRelayClient> match_range(const acrn_io_request& request) const;
    int complete(std::uint32_t vcpu, acrn_io_request& request);

    const std::uint32_t vcpu_count_;
    const NotifyHv notify_hv_;
    std::atomic<acrn_io_request_buffer*> buffer_{nullptr};
    std::atomic<bool> clearing_{false};
    std::chrono::nanoseconds attach_poll_{0};

    std::atomic<bool> fatal_reported_{false};  // read on every request; the text only then
    mutable std::mutex fatal_mutex_;
    std::optional<std::string> fatal_reason_;

    std::atomic<std::uint32_t> default_client_word_{kNoClient};

    std::mutex clients_mutex_;  // guards the members below; never held while waking
    std::list<std::shared_ptr<InRelayClient>> range_clients_;  // newest first
    std::atomic<std::size_t> range_client_count_{0};  // read without the lock: none means no range to match
    int next_client_id_ = 1;
};

}  // namespace acrn::relay
