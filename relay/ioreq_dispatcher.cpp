#include "relay/ioreq_dispatcher.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>

#include "abi/acrn/ioreq_slot.hpp"
#include "common/log.hpp"

namespace acrn::relay {
namespace {

struct AccessSpan {
    std::uint64_t start;
    std::uint64_t end;  // inclusive
};

AccessSpan access_span(const acrn_io_request& request) {
    // PIO and MMIO keep address and size at the same offsets.
    const auto& pio = request.reqs.pio_request;
    const std::uint64_t size = pio.size == 0 ? 1 : pio.size;
    return {pio.address, pio.address + size - 1};
}

// The wake word's futex. A plain FUTEX_WAIT rather than std::atomic::wait:
// that one spins and yields before it sleeps, which on a host with few CPUs
// takes the CPU the vCPU thread needs to hand us the next request.
void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected) {
    (void)::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected, nullptr, nullptr, 0);
}
void futex_wake(std::atomic<std::uint32_t>& word, int count) {
    (void)::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE, count, nullptr, nullptr, 0);
}
static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));

void fill_read_with_ones(acrn_io_request& request) {
    if (request.type == ACRN_IOREQ_TYPE_MMIO) {
        if (request.reqs.mmio_request.direction == ACRN_IOREQ_DIR_READ) {
            request.reqs.mmio_request.value = ~0ull;
        }
    } else if (request.reqs.pio_request.direction == ACRN_IOREQ_DIR_READ) {
        request.reqs.pio_request.value = ~0u;
    }
}

}  // namespace

IoreqDispatcher::IoreqDispatcher(std::uint32_t vcpu_count, NotifyHv notify_hv)
    : vcpu_count_(vcpu_count), notify_hv_(std::move(notify_hv)) {}

void IoreqDispatcher::dispatch(std::uint32_t vcpu) {
    acrn_io_request_buffer* page = buffer();
    if (page == nullptr || vcpu >= vcpu_count_ || vcpu >= ACRN_IO_REQUEST_MAX) {
        return;
    }
    acrn_io_request& request = page->req_slot[vcpu];
    if (IoreqSlot(request).state() != IoreqState::pending) {
        return;
    }
    deliver(vcpu, request);
}

std::shared_ptr<IoreqDispatcher::InRelayClient> IoreqDispatcher::match_range(const acrn_io_request& request) const {
    if (request.type != ACRN_IOREQ_TYPE_PORTIO && request.type != ACRN_IOREQ_TYPE_MMIO) {
        return nullptr;  // PCICFG never matches a range
    }
    const AccessSpan span = access_span(request);
    for (const std::shared_ptr<InRelayClient>& client : range_clients_) {
        for (const IoRange& range : client->ranges) {
            if (range.type == request.type && range.start <= span.start && span.end <= range.end) {
                return client;
            }
        }
    }
    return nullptr;
}

void IoreqDispatcher::deliver(std::uint32_t vcpu, acrn_io_request& request) {
    IoreqSlot slot(request);
    if (clearing_.load(std::memory_order_acquire)) {
        fill_read_with_ones(request);
        slot.force_complete();
        (void)notify_hv_(vcpu);
        return;
    }

    std::shared_ptr<InRelayClient> in_relay;
    std::shared_lock<std::shared_mutex> in_relay_running;
    if (range_client_count_.load(std::memory_order_acquire) != 0) {
        std::lock_guard lock(clients_mutex_);
        in_relay = match_range(request);
        if (in_relay) {
            // Taken before the client can be unlinked, so its removal waits for us.
            in_relay_running = std::shared_lock(in_relay->running);
        }
    }

    if (in_relay) {
        request.kernel_handled = 1;
        if (slot.begin_processing()) {
            in_relay->handler(request);
            in_relay_running.unlock();
            (void)complete(vcpu, request);
        }
        return;
    }
    if ((default_client_word_.load(std::memory_order_acquire) & kNoClient) != 0) {
        // Nobody to serve it: answer as an absent device would, rather than
        // leave the vCPU waiting forever.
        static RateLimiter limiter;
        if (limiter.allow()) {
            log_warning("relay: no ioreq client for vCPU {}'s request; completed as unclaimed", vcpu);
        }
        request.kernel_handled = 0;
        if (slot.begin_processing()) {
            fill_read_with_ones(request);
            (void)complete(vcpu, request);
        }
        return;
    }

    request.kernel_handled = 0;
    if (!slot.begin_processing()) {
        return;
    }
    wake_default_client(default_client_word_.fetch_or(1u << vcpu, std::memory_order_acq_rel), false);
}

void IoreqDispatcher::wake_default_client(std::uint32_t word_before, bool all) {
    if ((word_before & kSleeping) == 0) {
        return;  // awake: it sees the word before it would sleep
    }
    default_client_word_.fetch_and(~kSleeping, std::memory_order_acq_rel);
    futex_wake(default_client_word_, all ? INT32_MAX : 1);
}

int IoreqDispatcher::create_default_client() {
    std::uint32_t word = default_client_word_.load(std::memory_order_acquire);
    while ((word & kNoClient) != 0) {
        // Bits a destroyed client left behind belong to requests the VM's
        // reset or destruction has answered.
        if (default_client_word_.compare_exchange_weak(word, 0, std::memory_order_acq_rel)) {
            return 0;
        }
    }
    return -EEXIST;
}

int IoreqDispatcher::attach_default_client() {
    const auto waiting = [](std::uint32_t word) { return (word & kPendingMask) != 0; };
    std::uint32_t word = default_client_word_.load(std::memory_order_acquire);
    if (attach_poll_.count() > 0 && (word & kNoClient) == 0) {
        const bool forever = attach_poll_ == std::chrono::nanoseconds::max();
        const auto deadline = forever ? std::chrono::steady_clock::time_point::max()
                                      : std::chrono::steady_clock::now() + attach_poll_;
        unsigned rounds = 0;
        while (!waiting(word) && (word & kNoClient) == 0) {
            __builtin_ia32_pause();
            // Reading the clock costs more than a pause; look at it now and then.
            if (!forever && (++rounds & 0x3F) == 0 && std::chrono::steady_clock::now() >= deadline) {
                break;
            }
            word = default_client_word_.load(std::memory_order_acquire);
        }
    }
    while (!waiting(word) && (word & kNoClient) == 0) {
        // Say we sleep, then sleep unless the word changed since: a
        // delivery in between makes FUTEX_WAIT return at once.
        if ((word & kSleeping) == 0 &&
            !default_client_word_.compare_exchange_weak(word, word | kSleeping, std::memory_order_acq_rel)) {
            continue;  // `word` was reloaded
        }
        futex_wait(default_client_word_, word | kSleeping);
        word = default_client_word_.load(std::memory_order_acquire);
    }
    return (word & kNoClient) != 0 ? -ENODEV : 0;
}

int IoreqDispatcher::destroy_default_client() {
    const std::uint32_t before = default_client_word_.fetch_or(kNoClient, std::memory_order_acq_rel);
    if ((before & kNoClient) != 0) {
        return -ENODEV;
    }
    wake_default_client(before, true);
    return 0;
}

int IoreqDispatcher::notify_finish(std::uint32_t vcpu) {
    acrn_io_request_buffer* page = buffer();
    if (page == nullptr || vcpu >= vcpu_count_ || vcpu >= ACRN_IO_REQUEST_MAX) {
        return -EINVAL;
    }
    default_client_word_.fetch_and(~(1u << vcpu), std::memory_order_acq_rel);
    return complete(vcpu, page->req_slot[vcpu]);
}

int IoreqDispatcher::complete(std::uint32_t vcpu, acrn_io_request& request) {
    IoreqSlot slot(request);
    if (!slot.complete()) {
        return -EINVAL;
    }
    // Read after COMPLETE, fenced, as the vCPU clears the flag before it
    // looks at the state one last time and sleeps: either it sees COMPLETE
    // or we see it sleep. (ACRN's HSM reads the flag before COMPLETE, as its
    // vCPUs never stop spinning.) If hv took the slot back and the flag is
    // its next request's, the vCPU has seen this COMPLETE already.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    return slot.polling() ? 0 : notify_hv_(vcpu);
}

int IoreqDispatcher::clear_requests() {
    clearing_.store(true, std::memory_order_release);
    acrn_io_request_buffer* page = buffer();
    if (page != nullptr) {
        for (std::uint32_t vcpu = 0; vcpu < vcpu_count_ && vcpu < ACRN_IO_REQUEST_MAX; ++vcpu) {
            acrn_io_request& request = page->req_slot[vcpu];
            IoreqSlot slot(request);
            const IoreqState state = slot.state();
            if (state == IoreqState::pending || state == IoreqState::processing) {
                fill_read_with_ones(request);
                slot.force_complete();
                (void)notify_hv_(vcpu);
            }
        }
    }
    default_client_word_.fetch_and(kNoClient | kSleeping, std::memory_order_acq_rel);
    clearing_.store(false, std::memory_order_release);
    return 0;
}

void IoreqDispatcher::report_fatal(const std::string& reason) {
    std::lock_guard lock(fatal_mutex_);
    if (!fatal_reason_) {
        fatal_reason_ = reason;
        fatal_reported_.store(true, std::memory_order_release);
    }
}

std::optional<std::string> IoreqDispatcher::fatal_error() const {
    if (!fatal_reported_.load(std::memory_order_acquire)) {
        return std::nullopt;
    }
    std::lock_guard lock(fatal_mutex_);
    return fatal_reason_;
}

int IoreqDispatcher::add_in_relay_client(std::string name, std::vector<IoRange> ranges, InRelayHandler handler) {
    std::lock_guard lock(clients_mutex_);
    const int id = next_client_id_++;
    auto client = std::make_shared<InRelayClient>();
    client->id = id;
    client->name = std::move(name);
    client->ranges = std::move(ranges);
    client->handler = std::move(handler);
    range_clients_.push_front(std::move(client));
    range_client_count_.store(range_clients_.size(), std::memory_order_release);
    return id;
}

void IoreqDispatcher::remove_in_relay_client(int id) {
    std::shared_ptr<InRelayClient> removed;
    {
        std::lock_guard lock(clients_mutex_);
        const auto found = std::find_if(range_clients_.begin(), range_clients_.end(),
                                        [id](const std::shared_ptr<InRelayClient>& client) { return client->id == id; });
        if (found == range_clients_.end()) {
            return;
        }
        removed = std::move(*found);
        range_clients_.erase(found);
        range_client_count_.store(range_clients_.size(), std::memory_order_release);
    }
    // Unlinked: no new request finds it. Wait out a handler still running.
    std::unique_lock running(removed->running);
    removed->handler = nullptr;
}

}  // namespace acrn::relay
