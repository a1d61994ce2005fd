// A throttled interrupt source: injections held for the delay and merged,
// a level line's latest state applied when the delay ends, the irqfd route
// left alone while throttled. Time comes from ManualDelayTimers.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <thread>
#include <vector>

#include "common/event_fd.hpp"
#include "dm/io/fast_paths.hpp"
#include "tests/unit/interrupt_test_fixture.hpp"

namespace acrn::dm {
namespace {

using namespace std::chrono_literals;

constexpr auto kDelay = 10ms;

class InterruptThrottleTest : public test_support::InterruptFixture {};

TEST_F(InterruptThrottleTest, AnUnthrottledSourceGoesStraightThrough) {
    MsiSource& msi = sources_.add_msi("vector");
    msi.send(kAddress, 0x41);
    EXPECT_EQ(controller_.msis.size(), 1u);
    EXPECT_FALSE(msi.throttled());
    EXPECT_EQ(msi.delayed(), 0u);
}

TEST_F(InterruptThrottleTest, MsisWithinOneDelayMergeIntoTheLatest) {
    MsiSource& msi = sources_.add_msi("vector");
    msi.throttle(timers_, kDelay);

    for (std::uint32_t data = 0x41; data < 0x46; ++data) {
        send(msi, 1, data);
    }
    EXPECT_TRUE(controller_.msis.empty());  // held
    timers_.advance(kDelay - 1ms);
    EXPECT_TRUE(controller_.msis.empty());
    timers_.advance(1ms);
    ASSERT_EQ(controller_.msis.size(), 1u);
    EXPECT_EQ(controller_.msis[0].data, 0x45u);  // a reprogrammed vector: the latest message wins
    EXPECT_EQ(msi.injections(), 5u);
    EXPECT_EQ(msi.delayed(), 5u);
    EXPECT_EQ(msi.merged(), 4u);

    // The next one starts a delay of its own.
    msi.send(kAddress, 0x50);
    EXPECT_EQ(controller_.msis.size(), 1u);
    timers_.advance(kDelay);
    ASSERT_EQ(controller_.msis.size(), 2u);
    EXPECT_EQ(controller_.msis[1].data, 0x50u);
    EXPECT_EQ(msi.merged(), 4u);
}

TEST_F(InterruptThrottleTest, UnthrottlingDeliversWhatIsHeldAtOnce) {
    MsiSource& msi = sources_.add_msi("vector");
    LineSource& line = sources_.add_line(10, "line");
    msi.throttle(timers_, kDelay);
    line.throttle(timers_, kDelay);
    msi.send(kAddress, 0x41);
    line.set(true);

    msi.unthrottle();
    line.unthrottle();
    EXPECT_EQ(controller_.msis.size(), 1u);
    EXPECT_TRUE(controller_.high(10));
    timers_.advance(kDelay);  // the stale delays deliver nothing more
    EXPECT_EQ(controller_.msis.size(), 1u);
    msi.send(kAddress, 0x42);
    EXPECT_EQ(controller_.msis.size(), 2u);
}

TEST_F(InterruptThrottleTest, ThrottlingAgainDeliversWhatTheOldDelayHeld) {
    MsiSource& msi = sources_.add_msi("vector");
    msi.throttle(timers_, kDelay);
    send(msi, 2);
    msi.throttle(timers_, 2 * kDelay);
    EXPECT_EQ(delivered(), 1u);
    send(msi, 1);
    timers_.advance(kDelay);  // the old delay is stale
    EXPECT_EQ(delivered(), 1u);
    timers_.advance(kDelay);
    EXPECT_EQ(delivered(), 2u);
}

TEST_F(InterruptThrottleTest, ALevelLineGetsTheLevelItHasWhenTheDelayEnds) {
    LineSource& line = sources_.add_line(11, "level");
    line.throttle(timers_, kDelay);

    line.set(true);
    EXPECT_FALSE(controller_.high(11));
    EXPECT_FALSE(line.asserted());
    timers_.advance(kDelay);
    EXPECT_TRUE(controller_.high(11));  // still asserted at the end: delivered
    EXPECT_EQ(line.injections(), 1u);

    line.set(false);  // a release goes through at once
    EXPECT_FALSE(controller_.high(11));

    line.set(true);
    line.set(false);  // withdrawn within the delay: nothing to deliver
    timers_.advance(kDelay);
    EXPECT_FALSE(controller_.high(11));

    line.set(true);
    line.set(false);
    line.set(true);  // asserted again before the delay ended: delivered
    timers_.advance(kDelay);
    EXPECT_TRUE(controller_.high(11));
    EXPECT_EQ(line.injections(), 4u);
    EXPECT_EQ(line.merged(), 1u);  // the third assertion met the second's delay
}

TEST_F(InterruptThrottleTest, AnAssertedLineStaysAssertedWhenThrottled) {
    LineSource& line = sources_.add_line(12, "level");
    line.set(true);
    line.throttle(timers_, kDelay);
    line.set(true);  // no change: nothing held
    EXPECT_EQ(timers_.armed(), 0u);
    EXPECT_TRUE(controller_.high(12));
    line.unthrottle();
    EXPECT_TRUE(controller_.high(12));
}

TEST_F(InterruptThrottleTest, EdgePulsesWithinOneDelayMergeIntoOne) {
    LineSource& line = sources_.add_line(4, "com1");
    line.throttle(timers_, kDelay);
    for (int i = 0; i < 5; ++i) {
        line.pulse();
    }
    EXPECT_EQ(controller_.changes, 0);
    timers_.advance(kDelay);
    EXPECT_EQ(controller_.changes, 2);  // one rise, one fall
    EXPECT_FALSE(controller_.high(4));
    EXPECT_EQ(line.injections(), 5u);
    EXPECT_EQ(line.merged(), 4u);
}

TEST_F(InterruptThrottleTest, AThrottledSourceLeavesItsSharedPinToTheOthers) {
    LineSource& storming = sources_.add_line(19, "storming");
    LineSource& quiet = sources_.add_line(19, "quiet");
    storming.throttle(timers_, kDelay);
    storming.set(true);
    quiet.set(true);  // not delayed
    EXPECT_TRUE(controller_.high(19));
    quiet.set(false);
    EXPECT_FALSE(controller_.high(19));
    timers_.advance(kDelay);
    EXPECT_TRUE(controller_.high(19));
    EXPECT_EQ(quiet.delayed(), 0u);
}

// The relay's irqfd, as hv keeps it: its own reference to the eventfd.
class CountingIrqfds final : public FastPaths {
public:
    int ioeventfd(const acrn_ioeventfd&) override { return -ENOTTY; }
    int irqfd(const acrn_irqfd& request) override {
        if ((request.flags & ACRN_IRQFD_FLAG_DEASSIGN) == 0) {
            bound = EventFd::duplicate(request.fd);
        }
        return 0;
    }
    [[nodiscard]] std::uint64_t signals() const { return bound ? bound->consume() : 0; }
    std::optional<EventFd> bound;
};

TEST_F(InterruptThrottleTest, AThrottledMsiBypassesItsIrqfd) {
    CountingIrqfds irqfds;
    InterruptSources sources(controller_);  // after the irqfds: its MSI's irqfd is released through them
    MsiSource& msi = sources.add_msi("virtio vector");
    msi.route_through_irqfd(irqfds);
    msi.send(kAddress, 0x41);
    EXPECT_EQ(irqfds.signals(), 1u);
    EXPECT_TRUE(controller_.msis.empty());

    msi.throttle(timers_, kDelay);
    send(msi, 3);
    timers_.advance(kDelay);
    EXPECT_EQ(irqfds.signals(), 0u);  // counted, held, then sent through the controller
    EXPECT_EQ(controller_.msis.size(), 1u);
    EXPECT_EQ(msi.injections(), 4u);

    msi.unthrottle();
    msi.send(kAddress, 0x41);
    EXPECT_EQ(irqfds.signals(), 1u);  // back on the irqfd
    EXPECT_EQ(controller_.msis.size(), 1u);
}

TEST_F(InterruptThrottleTest, ConcurrentInjectionsWhileThrottlingComesAndGoes) {
    MsiSource& msi = sources_.add_msi("vector");
    LineSource& line = sources_.add_line(17, "line");
    std::vector<std::thread> devices;
    devices.emplace_back([&] {
        for (int i = 0; i < 20'000; ++i) {
            msi.send(kAddress, 0x41);
        }
    });
    devices.emplace_back([&] {
        for (int i = 0; i < 20'000; ++i) {
            line.set(i % 2 == 0);
        }
    });
    for (int round = 0; round < 200; ++round) {
        msi.throttle(timers_, kDelay);
        line.throttle(timers_, kDelay);
        timers_.advance(kDelay);
        msi.unthrottle();
        line.unthrottle();
    }
    for (auto& device : devices) {
        device.join();
    }
    timers_.advance(kDelay);
    EXPECT_EQ(msi.injections(), 20'000u);
    EXPECT_FALSE(line.asserted());  // the last level set was a release
    EXPECT_FALSE(controller_.high(17));
    std::lock_guard lock(controller_.msi_mutex);
    EXPECT_EQ(controller_.msis.size() + msi.merged(), 20'000u);
}

}  // namespace
}  // namespace acrn::dm
