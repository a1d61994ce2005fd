// The ioreq path without KVM, for tests and benchmarks: hv's channel on the
// caller's (vCPU) threads, the relay's dispatcher, and a device-model thread
// that serves each request as acrn-dm's ioreq loop does. The "device"
// answers a port read with a function of port and value, so a stale or
// swapped answer is detectable.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>

#include "abi/acrn/ioreq_slot.hpp"
#include "hv/ioreq_channel.hpp"
#include "relay/ioreq_dispatcher.hpp"
#include "tests/support/dispatcher_hsm.hpp"

namespace acrn::testing {

class IoreqRig {
public:
    IoreqRig(hv::CompletionMode mode, std::uint32_t vcpus,
             std::chrono::nanoseconds attach_poll = std::chrono::nanoseconds(0),
             std::chrono::nanoseconds max_spin = hv::IoreqChannel::kDefaultMaxSpin)
        : page_(static_cast<acrn_io_request_buffer*>(std::aligned_alloc(4096, 4096))),
          vcpus_(vcpus),
          dispatcher_(vcpus, [this](std::uint32_t vcpu) { return channel_->notify_finish(vcpu); }) {
        std::memset(page_, 0, 4096);
        channel_ = std::make_unique<hv::IoreqChannel>(
            mode, vcpus, [this](std::uint32_t vcpu) { dispatcher_.dispatch(vcpu); }, max_spin);
        channel_->attach_buffer(page_);
        dispatcher_.set_buffer(page_);
        dispatcher_.set_attach_poll(attach_poll);
        (void)dispatcher_.create_default_client();
        device_model_ = std::thread([this] { serve(); });
    }
    IoreqRig(const IoreqRig&) = delete;
    IoreqRig& operator=(const IoreqRig&) = delete;
    ~IoreqRig() {
        (void)dispatcher_.destroy_default_client();
        device_model_.join();
        std::free(page_);
    }

    [[nodiscard]] std::uint64_t handled() const { return handled_.load(); }
    [[nodiscard]] std::uint64_t bad_notifies() const { return bad_notifies_.load(); }

    static std::uint32_t answer(std::uint64_t port, std::uint32_t value) {
        return static_cast<std::uint32_t>(port * 2654435761u) ^ value;
    }

    // One port read from `vcpu`; true if it came back with the right answer.
    bool port_read(std::uint32_t vcpu, std::uint16_t port, std::uint32_t tag) {
        acrn_io_request request = port_request(ACRN_IOREQ_DIR_READ, port, 4, tag);
        return channel_->submit(vcpu, request) == hv::SubmitOutcome::completed &&
               request.reqs.pio_request.value == answer(port, tag);
    }

private:
    void serve() {
        while (dispatcher_.attach_default_client() == 0) {
            for (std::uint32_t vcpu = 0; vcpu < vcpus_; ++vcpu) {
                acrn_io_request& request = page_->req_slot[vcpu];
                if (IoreqSlot(request).state() != IoreqState::processing) {
                    continue;
                }
                auto& pio = request.reqs.pio_request;
                pio.value = answer(pio.address, pio.value);
                handled_.fetch_add(1);
                if (dispatcher_.notify_finish(vcpu) != 0) {
                    bad_notifies_.fetch_add(1);
                }
            }
        }
    }

    acrn_io_request_buffer* page_;
    const std::uint32_t vcpus_;
    relay::IoreqDispatcher dispatcher_;
    std::unique_ptr<hv::IoreqChannel> channel_;
    std::atomic<std::uint64_t> handled_{0};
    std::atomic<std::uint64_t> bad_notifies_{0};
    std::thread device_model_;
};

}  // namespace acrn::testing
