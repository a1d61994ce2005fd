// The production ioreq path without KVM, for the benchmark and a test: hv's
// IoreqChannel on the caller's (vCPU) thread, the relay's IoreqDispatcher,
// acrn-dm's own IoreqLoop serving the requests through its buses to a
// device on the PIO bus, and completion through the relay to the channel,
// the way the hosted relay wires them. Only KVM and the VM lookup are left
// out: the vCPU "exit" is a call to submit().
#pragma once

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "dm/io/io_buses.hpp"
#include "dm/ioreq_loop.hpp"
#include "hv/ioreq_channel.hpp"
#include "relay/ioreq_dispatcher.hpp"
#include "tests/support/dispatcher_hsm.hpp"

namespace acrn::testing {

// A port whose reads answer a function of the port and of what was last
// written there, so a stale or swapped answer is detectable.
class AnsweringPort final : public dm::IoDevice {
public:
    static std::uint32_t answer(std::uint64_t port, std::uint32_t last_written) {
        return static_cast<std::uint32_t>(port * 2654435761u) ^ last_written;
    }
    std::uint64_t read(const dm::IoAccess& access) override {
        return answer(access.address, last_written_[access.vcpu % 8]);
    }
    void write(const dm::IoAccess& access, std::uint64_t value) override {
        last_written_[access.vcpu % 8] = static_cast<std::uint32_t>(value);
    }

private:
    std::uint32_t last_written_[8]{};
};

class ProductionIoreqRig {
public:
    static constexpr std::uint16_t kPort = 0xE0;

    ProductionIoreqRig(hv::CompletionMode mode, std::uint32_t vcpus, std::chrono::nanoseconds attach_poll = {})
        : page_(static_cast<acrn_io_request_buffer*>(std::aligned_alloc(4096, sizeof(acrn_io_request_buffer)))),
          dispatcher_(vcpus, [this](std::uint32_t vcpu) { return channel_->notify_finish(vcpu); }),
          hsm_(dispatcher_) {
        std::memset(page_, 0, sizeof(acrn_io_request_buffer));
        channel_ = std::make_unique<hv::IoreqChannel>(mode, vcpus,
                                                      [this](std::uint32_t vcpu) { dispatcher_.dispatch(vcpu); });
        channel_->attach_buffer(page_);
        dispatcher_.set_buffer(page_);
        dispatcher_.set_attach_poll(attach_poll);
        (void)buses_.pio.add(kPort, 4, port_, "answering-port");
        loop_ = std::make_unique<dm::IoreqLoop>(hsm_, buses_, *page_, vcpus);
        loop_->start();
    }
    ProductionIoreqRig(const ProductionIoreqRig&) = delete;
    ProductionIoreqRig& operator=(const ProductionIoreqRig&) = delete;
    ~ProductionIoreqRig() {
        loop_->stop();
        std::free(page_);
    }

    // A port write of `tag` then a read from `vcpu`; true if the read came
    // back with the answer to that tag.
    bool write_then_read(std::uint32_t vcpu, std::uint32_t tag) {
        return submit(vcpu, ACRN_IOREQ_DIR_WRITE, tag) && submit(vcpu, ACRN_IOREQ_DIR_READ, 0) &&
               last_value_ == AnsweringPort::answer(kPort, tag);
    }
    // One port read: the round trip the benchmark times.
    bool read(std::uint32_t vcpu) { return submit(vcpu, ACRN_IOREQ_DIR_READ, 0); }
    [[nodiscard]] std::uint64_t served() const { return loop_->requests_served(); }

private:
    bool submit(std::uint32_t vcpu, std::uint32_t direction, std::uint32_t value) {
        acrn_io_request request = port_request(direction, kPort, 4, value);
        if (channel_->submit(vcpu, request) != hv::SubmitOutcome::completed) {
            return false;
        }
        last_value_ = request.reqs.pio_request.value;
        return true;
    }

    acrn_io_request_buffer* page_;
    relay::IoreqDispatcher dispatcher_;
    DispatcherHsm hsm_;
    std::unique_ptr<hv::IoreqChannel> channel_;
    dm::IoBuses buses_;
    std::shared_ptr<AnsweringPort> port_ = std::make_shared<AnsweringPort>();
    std::unique_ptr<dm::IoreqLoop> loop_;
    std::uint32_t last_value_ = 0;
};

}  // namespace acrn::testing
