// The relay's client selection and clearing, driven by hand.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "abi/acrn/ioreq_slot.hpp"
#include "relay/ioreq_dispatcher.hpp"

namespace acrn::relay {
namespace {

class DispatcherTest : public ::testing::Test {
protected:
    DispatcherTest()
        : page_(static_cast<acrn_io_request_buffer*>(std::aligned_alloc(4096, 4096))),
          dispatcher_(2, [this](std::uint32_t vcpu) {
              notified_.push_back(vcpu);
              return 0;
          }) {
        std::memset(page_, 0, 4096);
        dispatcher_.set_buffer(page_);
        for (auto& slot : page_->req_slot) {
            IoreqSlot(slot).force_free();
        }
    }
    ~DispatcherTest() override { std::free(page_); }

    acrn_io_request& pending_pio(std::uint32_t vcpu, std::uint64_t port, std::uint32_t size, bool write) {
        acrn_io_request& request = page_->req_slot[vcpu];
        request.type = ACRN_IOREQ_TYPE_PORTIO;
        request.reqs.pio_request.address = port;
        request.reqs.pio_request.size = size;
        request.reqs.pio_request.direction = write ? ACRN_IOREQ_DIR_WRITE : ACRN_IOREQ_DIR_READ;
        EXPECT_TRUE(IoreqSlot(request).publish_pending());
        return request;
    }

    acrn_io_request_buffer* page_;
    std::vector<std::uint32_t> notified_;
    IoreqDispatcher dispatcher_;
};

TEST_F(DispatcherTest, DefaultClientGetsUnmatchedRequests) {
    ASSERT_EQ(dispatcher_.create_default_client(), 0);
    EXPECT_EQ(dispatcher_.create_default_client(), -EEXIST);
    acrn_io_request& request = pending_pio(1, 0x3F8, 1, true);
    dispatcher_.dispatch(1);
    EXPECT_EQ(IoreqSlot(request).state(), IoreqState::processing);
    EXPECT_EQ(request.kernel_handled, 0u);
    EXPECT_EQ(dispatcher_.attach_default_client(), 0);  // a request is waiting: returns at once
    EXPECT_EQ(dispatcher_.notify_finish(1), 0);
    EXPECT_EQ(IoreqSlot(request).state(), IoreqState::complete);
    EXPECT_EQ(notified_, std::vector<std::uint32_t>{1});
}

TEST_F(DispatcherTest, NewestCoveringRangeClientWinsAndPciNeverMatches) {
    ASSERT_EQ(dispatcher_.create_default_client(), 0);
    int old_hits = 0;
    int new_hits = 0;
    dispatcher_.add_in_relay_client("old", {IoRange{ACRN_IOREQ_TYPE_PORTIO, 0x100, 0x1FF}},
                                    [&](acrn_io_request&) { ++old_hits; });
    dispatcher_.add_in_relay_client("new", {IoRange{ACRN_IOREQ_TYPE_PORTIO, 0x180, 0x183}},
                                    [&](acrn_io_request&) { ++new_hits; });
    pending_pio(0, 0x180, 4, true);
    dispatcher_.dispatch(0);
    EXPECT_EQ(new_hits, 1);
    ASSERT_TRUE(IoreqSlot(page_->req_slot[0]).release());

    // Straddles the newer range's end: only the older range covers it.
    pending_pio(0, 0x182, 4, true);
    dispatcher_.dispatch(0);
    EXPECT_EQ(old_hits, 1);
    EXPECT_EQ(page_->req_slot[0].kernel_handled, 1u);
    ASSERT_TRUE(IoreqSlot(page_->req_slot[0]).release());

    acrn_io_request& pci = page_->req_slot[0];
    pci.type = ACRN_IOREQ_TYPE_PCICFG;
    ASSERT_TRUE(IoreqSlot(pci).publish_pending());
    dispatcher_.dispatch(0);
    EXPECT_EQ(IoreqSlot(pci).state(), IoreqState::processing);
    EXPECT_EQ(pci.kernel_handled, 0u);
}

TEST_F(DispatcherTest, DestroyWakesAnAttachedClient) {
    ASSERT_EQ(dispatcher_.create_default_client(), 0);
    int result = 1;
    std::thread client([&] { result = dispatcher_.attach_default_client(); });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_EQ(dispatcher_.destroy_default_client(), 0);
    client.join();
    EXPECT_EQ(result, -ENODEV);
}

TEST_F(DispatcherTest, WithoutAClientARequestCompletesAsUnclaimed) {
    acrn_io_request& request = pending_pio(0, 0x60, 1, false);
    dispatcher_.dispatch(0);
    EXPECT_EQ(IoreqSlot(request).state(), IoreqState::complete);
    EXPECT_EQ(request.reqs.pio_request.value, ~0u);
}

TEST_F(DispatcherTest, ClearCompletesEverythingInFlight) {
    ASSERT_EQ(dispatcher_.create_default_client(), 0);
    acrn_io_request& first = pending_pio(0, 0x70, 1, false);
    acrn_io_request& second = pending_pio(1, 0x71, 1, false);
    dispatcher_.dispatch(0);
    EXPECT_EQ(dispatcher_.clear_requests(), 0);
    EXPECT_EQ(IoreqSlot(first).state(), IoreqState::complete);
    EXPECT_EQ(IoreqSlot(second).state(), IoreqState::complete);
    EXPECT_EQ(notified_.size(), 2u);
}

TEST_F(DispatcherTest, NotifyRejectsBadVcpuAndWrongState) {
    ASSERT_EQ(dispatcher_.create_default_client(), 0);
    EXPECT_EQ(dispatcher_.notify_finish(2), -EINVAL);
    EXPECT_EQ(dispatcher_.notify_finish(0), -EINVAL);  // nothing in flight
}

// An ioeventfd's DEASSIGN closes the eventfd as soon as removal returns, so
// a handler still running on a vCPU thread must be waited for.
TEST_F(DispatcherTest, RemovalWaitsForARunningInRelayHandler) {
    std::atomic<bool> entered{false};
    std::atomic<bool> finished{false};
    const int id = dispatcher_.add_in_relay_client("slow", {IoRange{ACRN_IOREQ_TYPE_PORTIO, 0x500, 0x503}},
                                                   [&](acrn_io_request&) {
                                                       entered = true;
                                                       std::this_thread::sleep_for(std::chrono::milliseconds(100));
                                                       finished = true;
                                                   });
    pending_pio(0, 0x500, 1, true);
    std::thread vcpu([&] { dispatcher_.dispatch(0); });
    while (!entered) {
        std::this_thread::yield();
    }
    dispatcher_.remove_in_relay_client(id);
    EXPECT_TRUE(finished) << "the handler ran on after its client was removed";
    vcpu.join();
}

// After removal the handler, and what it owns, is gone and never runs again.
TEST_F(DispatcherTest, RemovedInRelayHandlerIsDestroyedAndNeverRuns) {
    ASSERT_EQ(dispatcher_.create_default_client(), 0);
    auto owned = std::make_shared<int>(7);
    int hits = 0;
    const int id = dispatcher_.add_in_relay_client("fd", {IoRange{ACRN_IOREQ_TYPE_PORTIO, 0x600, 0x600}},
                                                   [&hits, owned](acrn_io_request&) { ++hits; });
    const std::weak_ptr<int> watch = owned;
    owned.reset();
    dispatcher_.remove_in_relay_client(id);
    EXPECT_TRUE(watch.expired());
    pending_pio(0, 0x600, 1, true);
    dispatcher_.dispatch(0);
    EXPECT_EQ(hits, 0);
    EXPECT_EQ(page_->req_slot[0].kernel_handled, 0u);  // went to the default client
    dispatcher_.remove_in_relay_client(id);             // a second removal is harmless
}

}  // namespace
}  // namespace acrn::relay
