// The interrupt-storm monitor's state machine on a hand-driven clock:
// quiet → over the threshold → throttled → duration over → probed again
// (and throttled again while the storm lasts); one source at a time.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "dm/irq/storm_monitor.hpp"
#include "tests/unit/interrupt_test_fixture.hpp"

namespace acrn::dm {
namespace {

using namespace std::chrono_literals;

// 100 interrupts/s probed every second; a storm delays by 10 ms for 300 ms.
const StormSettings kSettings{100, 1s, 10ms, 300ms};

class StormMonitorTest : public test_support::InterruptFixture {
protected:
    [[nodiscard]] StormReport report_of(const std::string& name) const {
        for (const StormReport& report : monitor_->report()) {
            if (report.name == name) {
                return report;
            }
        }
        ADD_FAILURE() << "no report for " << name;
        return {};
    }

    // Raises `count`, lets `time` pass, and says whether the source is throttled then.
    [[nodiscard]] bool throttled_after(MsiSource& source, int count, std::chrono::milliseconds time) {
        send(source, count);
        timers_.advance(time);
        return source.throttled();
    }

    std::unique_ptr<StormMonitor> monitor_ =
        std::make_unique<StormMonitor>(sources_, std::move(owned_timers_), kSettings);
};

TEST_F(StormMonitorTest, AStormIsThrottledForTheDurationThenProbedAgain) {
    MsiSource& storming = sources_.add_msi("storming");
    monitor_->start();

    send(storming, 150);  // 150/s in the first period
    EXPECT_EQ(delivered(), 150u);
    timers_.advance(1s);
    StormReport report = report_of("storming");
    EXPECT_TRUE(report.throttled);
    EXPECT_TRUE(storming.throttled());
    EXPECT_DOUBLE_EQ(report.last_rate_per_s, 150.0);
    EXPECT_EQ(report.storms, 1u);

    // While throttled: at most one interrupt per delay gets through.
    for (int tick = 0; tick < 29; ++tick) {
        send(storming, 5);
        timers_.advance(10ms);
    }
    EXPECT_EQ(delivered(), 150u + 29u);
    EXPECT_EQ(storming.delayed(), 29u * 5u);
    EXPECT_EQ(storming.merged(), 29u * 4u);

    // The duration ends by itself (300 ms after the probe).
    timers_.advance(10ms);
    EXPECT_FALSE(storming.throttled());
    EXPECT_FALSE(report_of("storming").throttled);
    send(storming, 1);
    EXPECT_EQ(delivered(), 150u + 29u + 1u);  // straight through again

    // Still storming: the next probe, 0.7 s later, sees 200/s over its share.
    send(storming, 140);
    timers_.advance(700ms);
    report = report_of("storming");
    EXPECT_TRUE(report.throttled);
    EXPECT_EQ(report.storms, 2u);
    EXPECT_NEAR(report.last_rate_per_s, 141.0 / 0.7, 0.01);
}

TEST_F(StormMonitorTest, AStormThatStoppedIsNotThrottledAgain) {
    MsiSource& source = sources_.add_msi("source");
    monitor_->start();
    ASSERT_TRUE(throttled_after(source, 500, 1s));
    ASSERT_FALSE(throttled_after(source, 0, 300ms));
    for (int period = 0; period < 3; ++period) {
        EXPECT_FALSE(throttled_after(source, 50, 1s)) << "period " << period;
    }
    EXPECT_EQ(report_of("source").storms, 1u);
    EXPECT_DOUBLE_EQ(report_of("source").last_rate_per_s, 50.0);
}

TEST_F(StormMonitorTest, ExactlyTheThresholdIsNoStorm) {
    MsiSource& source = sources_.add_msi("source");
    monitor_->start();
    EXPECT_FALSE(throttled_after(source, 100, 1s));  // threshold × period: the limit, not over it
    EXPECT_TRUE(throttled_after(source, 101, 1s));
}

TEST_F(StormMonitorTest, CountsBeforeStartAreNotAStorm) {
    MsiSource& source = sources_.add_msi("source");
    send(source, 10'000);  // e.g. during firmware boot, before the monitor ran
    monitor_->start();
    timers_.advance(1s);
    EXPECT_FALSE(source.throttled());
}

TEST_F(StormMonitorTest, AQuietSourceBesideAStormingOneIsNeverDelayed) {
    MsiSource& storming = sources_.add_msi("storming");
    MsiSource& quiet_msi = sources_.add_msi("quiet msi");
    LineSource& quiet_line = sources_.add_line(10, "quiet line");
    LineSource& shared_pin = sources_.add_line(10, "storming line");
    monitor_->start();
    for (int i = 0; i < 200; ++i) {
        storming.send(kAddress, 0x41);
        shared_pin.pulse();
    }
    timers_.advance(1s);
    ASSERT_TRUE(storming.throttled());
    ASSERT_TRUE(shared_pin.throttled());

    const std::size_t before = delivered();
    quiet_msi.send(kAddress, 0x51);
    EXPECT_EQ(delivered(), before + 1);  // at once, not after the delay
    quiet_line.set(true);
    EXPECT_TRUE(controller_.high(10));
    quiet_line.set(false);
    EXPECT_FALSE(quiet_msi.throttled());
    EXPECT_FALSE(quiet_line.throttled());
    EXPECT_EQ(quiet_msi.delayed() + quiet_line.delayed(), 0u);
    EXPECT_FALSE(report_of("quiet msi").throttled);
    EXPECT_EQ(report_of("quiet line").storms, 0u);
}

TEST_F(StormMonitorTest, SourcesAddedLaterAreWatchedFromTheirFirstProbe) {
    monitor_->start();
    timers_.advance(500ms);
    MsiSource& late = sources_.add_msi("late");
    EXPECT_FALSE(throttled_after(late, 1000, 500ms));  // first seen at this probe: its baseline
    EXPECT_TRUE(throttled_after(late, 1000, 1s));
}

TEST_F(StormMonitorTest, EndingTheMonitorDeliversWhatIsHeldAndStopsThrottling) {
    MsiSource& storming = sources_.add_msi("storming");
    LineSource& line = sources_.add_line(11, "line");
    monitor_->start();
    send(storming, 1000);
    for (int i = 0; i < 1000; ++i) {
        line.pulse();
    }
    line.set(false);
    timers_.advance(1s);
    ASSERT_TRUE(storming.throttled() && line.throttled());
    send(storming, 3);
    line.set(true);
    const std::size_t before = delivered();
    monitor_.reset();
    EXPECT_EQ(delivered(), before + 1);
    EXPECT_TRUE(controller_.high(11));
    EXPECT_FALSE(storming.throttled() || line.throttled());
    send(storming, 1);
    EXPECT_EQ(delivered(), before + 2);
}

TEST(AsioDelayTimersTest, CallbacksRunOnTheLoopAfterTheirDelay) {
    boost::asio::io_context loop;
    AsioDelayTimers timers(loop);
    std::thread::id ran_on;
    DelayTimers::Clock::time_point ran_at;
    const auto armed_at = timers.now();
    std::thread other([&] {
        timers.call_after(20ms, [&] {
            ran_on = std::this_thread::get_id();
            ran_at = timers.now();
        });
    });
    other.join();
    loop.run();
    EXPECT_EQ(ran_on, std::this_thread::get_id());
    EXPECT_GE(ran_at - armed_at, 20ms);
}

TEST(AsioDelayTimersTest, CallbacksOfDestroyedTimersNeverRun) {
    boost::asio::io_context loop;
    bool ran = false;
    {
        AsioDelayTimers timers(loop);
        timers.call_after(1ms, [&] { ran = true; });  // still queued when the timers go
    }
    {
        AsioDelayTimers timers(loop);
        timers.call_after(1ms, [&] { ran = true; });
        loop.run_one();  // the timer is armed now
    }
    loop.run();
    EXPECT_FALSE(ran);
}

}  // namespace
}  // namespace acrn::dm
