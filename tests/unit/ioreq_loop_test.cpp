// acrn-dm's ioreq thread between hv's channel and the relay's dispatcher
// (no KVM): its exception barrier and its fatal-error reports.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "abi/acrn/ioreq_slot.hpp"
#include "dm/io/io_buses.hpp"
#include "dm/ioreq_loop.hpp"
#include "hv/ioreq_channel.hpp"
#include "relay/hsm.hpp"
#include "relay/ioreq_dispatcher.hpp"
#include "tests/support/dispatcher_hsm.hpp"

namespace acrn::dm {
namespace {

using testing::DispatcherHsm;

class ThrowingDevice final : public IoDevice {
public:
    std::uint64_t read(const IoAccess&) override { return 0x5A; }
    void write(const IoAccess&, std::uint64_t) override { throw std::runtime_error("device state broken"); }
};

class IoreqLoopTest : public ::testing::Test {
protected:
    IoreqLoopTest()
        : page_(static_cast<acrn_io_request_buffer*>(std::aligned_alloc(4096, 4096))),
          dispatcher_(1, [this](std::uint32_t vcpu) { return channel_.notify_finish(vcpu); }),
          channel_(hv::CompletionMode::notification, 1, [this](std::uint32_t vcpu) { dispatcher_.dispatch(vcpu); }),
          hsm_(dispatcher_),
          device_(std::make_shared<ThrowingDevice>()) {
        std::memset(page_, 0, 4096);
        channel_.attach_buffer(page_);
        dispatcher_.set_buffer(page_);
        EXPECT_FALSE(buses_.pio.add(0x500, 4, device_, "throwing").has_value());
    }
    ~IoreqLoopTest() override {
        loop_.reset();
        std::free(page_);
    }

    void start_loop() {
        loop_ = std::make_unique<IoreqLoop>(hsm_, buses_, *page_, 1, [this](const std::string& reason) {
            std::lock_guard lock(mutex_);
            reasons_.push_back(reason);
        });
        loop_->start();
    }

    // On the test's thread, as a vCPU thread would.
    hv::SubmitOutcome port_access(std::uint64_t port, bool write, std::uint32_t& value) {
        acrn_io_request request{};
        request.type = ACRN_IOREQ_TYPE_PORTIO;
        request.reqs.pio_request.direction = write ? ACRN_IOREQ_DIR_WRITE : ACRN_IOREQ_DIR_READ;
        request.reqs.pio_request.address = port;
        request.reqs.pio_request.size = 1;
        request.reqs.pio_request.value = value;
        const hv::SubmitOutcome outcome = channel_.submit(0, request);
        value = request.reqs.pio_request.value;
        return outcome;
    }

    std::vector<std::string> reasons() {
        std::lock_guard lock(mutex_);
        return reasons_;
    }

    acrn_io_request_buffer* page_;
    relay::IoreqDispatcher dispatcher_;
    hv::IoreqChannel channel_;
    DispatcherHsm hsm_;
    IoBuses buses_;
    std::shared_ptr<ThrowingDevice> device_;
    std::mutex mutex_;
    std::vector<std::string> reasons_;
    std::unique_ptr<IoreqLoop> loop_;
};

TEST_F(IoreqLoopTest, ADeviceThatThrowsIsAnsweredAndReportedOnce) {
    start_loop();
    std::uint32_t value = 1;
    ASSERT_EQ(port_access(0x500, true, value), hv::SubmitOutcome::completed);
    ASSERT_EQ(port_access(0x500, true, value), hv::SubmitOutcome::completed);
    ASSERT_EQ(reasons().size(), 1u);
    EXPECT_NE(reasons()[0].find("device state broken"), std::string::npos) << reasons()[0];
    // The loop keeps serving until its owner stops it.
    value = 0;
    ASSERT_EQ(port_access(0x500, false, value), hv::SubmitOutcome::completed);
    EXPECT_EQ(value, 0x5Au);
    loop_->stop();
}

TEST_F(IoreqLoopTest, TheHypervisorsFailureIsReportedBeforeTheNextRequest) {
    start_loop();
    std::uint32_t value = 0;
    ASSERT_EQ(port_access(0x500, false, value), hv::SubmitOutcome::completed);
    EXPECT_TRUE(reasons().empty());
    dispatcher_.report_fatal("vCPU 0: KVM_RUN threw");
    dispatcher_.report_fatal("a later report is not kept");
    ASSERT_EQ(port_access(0x500, false, value), hv::SubmitOutcome::completed);
    ASSERT_EQ(reasons().size(), 1u);
    EXPECT_EQ(reasons()[0], "hypervisor: vCPU 0: KVM_RUN threw");
}

TEST_F(IoreqLoopTest, AFailedAttachIsReported) {
    hsm_.attach_error = -EIO;
    start_loop();
    loop_->stop();  // returns: the thread ended on its own
    ASSERT_EQ(reasons().size(), 1u);
    EXPECT_NE(reasons()[0].find("attach failed"), std::string::npos) << reasons()[0];
}

// hv's half of the barrier: an upcall that throws on the vCPU thread leaves
// the slot FREE, so the power-off that follows can still be submitted.
TEST(IoreqChannelBarrierTest, AThrowingUpcallGivesTheSlotBack) {
    auto* page = static_cast<acrn_io_request_buffer*>(std::aligned_alloc(4096, 4096));
    std::memset(page, 0, 4096);
    bool throw_once = true;
    hv::IoreqChannel channel(hv::CompletionMode::polling, 1, [&](std::uint32_t) {
        if (std::exchange(throw_once, false)) {
            throw std::runtime_error("relay failed");
        }
        IoreqSlot slot(page->req_slot[0]);
        EXPECT_TRUE(slot.begin_processing());
        EXPECT_TRUE(slot.complete());
    });
    channel.attach_buffer(page);
    acrn_io_request request{};
    request.type = ACRN_IOREQ_TYPE_PORTIO;
    EXPECT_THROW((void)channel.submit(0, request), std::runtime_error);
    EXPECT_EQ(IoreqSlot(page->req_slot[0]).state(), IoreqState::free);
    EXPECT_EQ(channel.submit(0, request), hv::SubmitOutcome::completed);
    std::free(page);
}

}  // namespace
}  // namespace acrn::dm
