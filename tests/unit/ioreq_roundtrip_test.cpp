// The ioreq path without KVM: hv's channel on one thread, the relay's
// dispatcher and a device-model client loop on another, in both completion
// modes. Every request must come back exactly once with its own answer.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <ostream>
#include <string>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "abi/acrn/ioreq_slot.hpp"
#include "hv/ioreq_channel.hpp"
#include "relay/ioreq_dispatcher.hpp"
#include "tests/support/ioreq_rig.hpp"
#include "tests/support/production_ioreq_rig.hpp"

namespace acrn {
namespace {

struct AlignedPage {
    AlignedPage() : page(static_cast<acrn_io_request_buffer*>(std::aligned_alloc(4096, 4096))) {
        std::memset(page, 0, 4096);
    }
    ~AlignedPage() { std::free(page); }
    acrn_io_request_buffer* page;
};

using testing::IoreqRig;

void run_vcpu(IoreqRig& rig, std::uint32_t vcpu, std::uint64_t count, std::uint64_t& failures) {
    for (std::uint64_t i = 0; i < count; ++i) {
        const auto port = static_cast<std::uint16_t>(i + vcpu * 7919);
        if (!rig.port_read(vcpu, port, static_cast<std::uint32_t>(i))) {
            ++failures;
        }
    }
}

// How the two sides wait: hv's completion mode, and whether the device
// model polls for the next request before sleeping (what a polling VM gets).
struct WaitStyle {
    hv::CompletionMode mode;
    std::chrono::microseconds attach_poll;
    const char* name;
    // How long a polling vCPU may spin: zero where the host has no CPU to
    // spare, 1 us to mix answers found spinning with ones after a sleep.
    std::chrono::nanoseconds max_spin = hv::IoreqChannel::kDefaultMaxSpin;
    // One vCPU's requests: fewer where most round trips sleep on both sides
    // (about 100 us each on this 2-core machine when the other core idles).
    std::uint64_t requests = 1'000'000;
};

void PrintTo(const WaitStyle& style, std::ostream* out) { *out << style.name; }

class IoreqRoundtripTest : public ::testing::TestWithParam<WaitStyle> {};

TEST_P(IoreqRoundtripTest, ManyRoundTripsNoneLostNoneDoubled) {
    const std::uint64_t requests = GetParam().requests;
    IoreqRig rig(GetParam().mode, 1, GetParam().attach_poll, GetParam().max_spin);
    std::uint64_t failures = 0;
    std::thread vcpu([&] { run_vcpu(rig, 0, requests, failures); });
    vcpu.join();
    EXPECT_EQ(failures, 0u);
    EXPECT_EQ(rig.handled(), requests);
    EXPECT_EQ(rig.bad_notifies(), 0u);
}

TEST_P(IoreqRoundtripTest, FourVcpusShareOneDeviceModelThread) {
    constexpr std::uint64_t kRequests = 50'000;
    IoreqRig rig(GetParam().mode, 4, GetParam().attach_poll, GetParam().max_spin);
    std::uint64_t failures[4] = {};
    std::vector<std::thread> vcpus;
    for (std::uint32_t id = 0; id < 4; ++id) {
        vcpus.emplace_back([&, id] { run_vcpu(rig, id, kRequests, failures[id]); });
    }
    for (auto& thread : vcpus) {
        thread.join();
    }
    for (std::uint64_t count : failures) {
        EXPECT_EQ(count, 0u);
    }
    EXPECT_EQ(rig.handled(), 4 * kRequests);
    EXPECT_EQ(rig.bad_notifies(), 0u);
}

INSTANTIATE_TEST_SUITE_P(
    WaitStyles, IoreqRoundtripTest,
    ::testing::Values(WaitStyle{hv::CompletionMode::notification, std::chrono::microseconds(0), "Notification"},
                      WaitStyle{hv::CompletionMode::polling, std::chrono::microseconds(0), "Polling"},
                      WaitStyle{hv::CompletionMode::polling, std::chrono::microseconds(200), "PollingBothSides"},
                      WaitStyle{hv::CompletionMode::polling, std::chrono::microseconds(0), "PollingWithoutSpareCpu",
                                std::chrono::nanoseconds::zero(), 100'000},
                      WaitStyle{hv::CompletionMode::polling, std::chrono::microseconds(0), "PollingShortSpins",
                                std::chrono::microseconds(1), 100'000}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(IoreqChannelTest, AbortEndsAWaitThatWillNeverBeAnswered) {
    AlignedPage memory;
    std::atomic<bool> upcalled{false};
    hv::IoreqChannel channel(hv::CompletionMode::notification, 1, [&](std::uint32_t) { upcalled = true; });
    channel.attach_buffer(memory.page);
    acrn_io_request request{};
    request.type = ACRN_IOREQ_TYPE_PORTIO;
    hv::SubmitOutcome outcome = hv::SubmitOutcome::completed;
    std::thread vcpu([&] { outcome = channel.submit(0, request); });
    while (!upcalled) {
        std::this_thread::yield();
    }
    channel.abort_waits();
    vcpu.join();
    EXPECT_EQ(outcome, hv::SubmitOutcome::aborted);
    EXPECT_EQ(IoreqSlot(memory.page->req_slot[0]).state(), IoreqState::free);
    HypervisorStats stats;
    channel.read_round_trips(stats);
    EXPECT_EQ(stats.ioreq_notified.count() + stats.ioreq_polled.count(), 0u) << "an aborted request has no round trip";
}

TEST(IoreqChannelTest, RejectsWithoutBufferOrWithBadVcpu) {
    AlignedPage memory;
    hv::IoreqChannel channel(hv::CompletionMode::polling, 2, [](std::uint32_t) {});
    acrn_io_request request{};
    EXPECT_EQ(channel.submit(0, request), hv::SubmitOutcome::rejected);
    channel.attach_buffer(memory.page);
    EXPECT_EQ(channel.submit(2, request), hv::SubmitOutcome::rejected);
    EXPECT_EQ(channel.notify_finish(16), -EINVAL);
}

TEST(IoreqChannelTest, PollingFlagIsSetForPollingVms) {
    AlignedPage memory;
    hv::IoreqChannel* self = nullptr;
    hv::IoreqChannel channel(hv::CompletionMode::polling, 1, [&](std::uint32_t vcpu) {
        IoreqSlot slot(memory.page->req_slot[vcpu]);
        EXPECT_TRUE(slot.polling());
        ASSERT_TRUE(slot.begin_processing());
        ASSERT_TRUE(slot.complete());
        (void)self;
    });
    self = &channel;
    channel.attach_buffer(memory.page);
    acrn_io_request request{};
    EXPECT_EQ(channel.submit(0, request), hv::SubmitOutcome::completed);
    HypervisorStats stats;
    channel.read_round_trips(stats);
    EXPECT_EQ(stats.ioreq_polled.count(), 1u) << "answered before the vCPU could sleep";
    EXPECT_EQ(stats.ioreq_notified.count(), 0u);
}

// A polling vCPU whose answer is late stops spinning: it clears the
// request's completion_polling flag and sleeps, and a Service OS that reads
// the flag after COMPLETE notifies it.
TEST(IoreqChannelTest, APollingVcpuPastItsWindowAsksForTheNotification) {
    AlignedPage memory;
    std::atomic<bool> upcalled{false};
    hv::IoreqChannel channel(hv::CompletionMode::polling, 1, [&](std::uint32_t) { upcalled = true; },
                             std::chrono::microseconds(50));
    channel.attach_buffer(memory.page);
    EXPECT_EQ(channel.spin_window(0), std::chrono::microseconds(50));
    acrn_io_request request{};
    request.type = ACRN_IOREQ_TYPE_PORTIO;
    hv::SubmitOutcome outcome = hv::SubmitOutcome::aborted;
    std::thread vcpu([&] { outcome = channel.submit(0, request); });
    IoreqSlot slot(memory.page->req_slot[0]);
    while (!upcalled || slot.polling()) {
        std::this_thread::yield();  // until the vCPU gives up spinning
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ASSERT_TRUE(slot.begin_processing());
    ASSERT_TRUE(slot.complete());
    EXPECT_FALSE(slot.polling()) << "the Service OS must notify";
    EXPECT_EQ(channel.notify_finish(0), 0);
    vcpu.join();
    EXPECT_EQ(outcome, hv::SubmitOutcome::completed);
    EXPECT_EQ(channel.spin_window(0), std::chrono::nanoseconds::zero()) << "a wait that long: spinning was wasted";
    HypervisorStats stats;
    channel.read_round_trips(stats);
    EXPECT_EQ(stats.ioreq_polled.count(), 0u);
    ASSERT_EQ(stats.ioreq_notified.count(), 1u);
    EXPECT_GE(stats.ioreq_notified.min_ns, 5'000'000u) << "the answer came after a 5 ms sleep";
}

TEST(PollWindowTest, AdaptsAsHaltPollingDoes) {
    using std::chrono::microseconds;
    hv::PollWindow window(microseconds(200));
    EXPECT_EQ(window.current(), microseconds(200)) << "a polling VM starts at the maximum";
    window.answered_after_sleep(microseconds(5000));
    EXPECT_EQ(window.current(), microseconds(0)) << "longer than the maximum: stop spinning";
    window.answered_after_sleep(microseconds(30));
    EXPECT_EQ(window.current(), hv::PollWindow::kGrowStart) << "a short sleep: spin again, from the start";
    window.answered_after_sleep(microseconds(30));
    EXPECT_EQ(window.current(), microseconds(20));
    for (int i = 0; i < 10; ++i) {
        window.answered_after_sleep(microseconds(150));
    }
    EXPECT_EQ(window.current(), microseconds(200)) << "never past the maximum";

    hv::PollWindow none(microseconds(0));
    none.answered_after_sleep(microseconds(0));
    EXPECT_EQ(none.current(), microseconds(0)) << "a host without a CPU to spare never spins";
}

TEST(IoreqSlotTest, TransitionsOnlyFromTheirPredecessor) {
    acrn_io_request request{};
    IoreqSlot slot(request);
    slot.force_free();
    EXPECT_FALSE(slot.begin_processing());
    EXPECT_FALSE(slot.complete());
    EXPECT_FALSE(slot.release());
    EXPECT_TRUE(slot.publish_pending());
    EXPECT_FALSE(slot.publish_pending());
    EXPECT_FALSE(slot.complete());
    EXPECT_TRUE(slot.begin_processing());
    EXPECT_FALSE(slot.release());
    EXPECT_TRUE(slot.complete());
    EXPECT_TRUE(slot.release());
    EXPECT_EQ(slot.state(), IoreqState::free);
    EXPECT_EQ(request.processed, static_cast<std::uint32_t>(ACRN_IOREQ_STATE_FREE));
}

}  // namespace
}  // namespace acrn

// The same path with acrn-dm's own ioreq loop and buses serving the
// requests (what bench_ioreq_path times): every answer belongs to its request.
namespace acrn::testing {
namespace {

TEST(ProductionIoreqPathTest, EveryAnswerMatchesItsRequestInBothModes) {
    for (const hv::CompletionMode mode : {hv::CompletionMode::notification, hv::CompletionMode::polling}) {
        ProductionIoreqRig rig(mode, 1, mode == hv::CompletionMode::polling ? std::chrono::microseconds(200)
                                                                              : std::chrono::microseconds(0));
        for (std::uint32_t tag = 0; tag < 20'000; ++tag) {
            ASSERT_TRUE(rig.write_then_read(0, tag * 7919u)) << tag;
        }
        EXPECT_EQ(rig.served(), 40'000u);
    }
}

}  // namespace
}  // namespace acrn::testing
