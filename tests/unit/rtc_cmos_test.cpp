// The RTC/CMOS driven through its index and data ports, with a fake wall
// clock and its timer on a local io_context.
#include "dm/devices/rtc_cmos.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <utility>
#include <vector>

#include "device_test_support.hpp"

namespace acrn::dm {
namespace {

using namespace std::chrono;
using namespace std::chrono_literals;
using test_support::RecordingInterrupts;

constexpr std::int64_t kSecond = 1'000'000'000;
constexpr std::int64_t kMillisecond = 1'000'000;
constexpr std::uint64_t kMiB = 1ull << 20;
constexpr std::uint64_t kGiB = 1ull << 30;
// Register C without the periodic flag, which the default rate keeps setting.
constexpr std::uint8_t kUpdateBits = static_cast<std::uint8_t>(~RtcCmos::kPeriodicFlag);

// Thursday 2024-02-29 13:45:30 UTC.
constexpr std::int64_t kLeapDayAfternoon =
    duration_cast<nanoseconds>((sys_days{2024y / February / 29} + 13h + 45min + 30s).time_since_epoch()).count();

class RtcCmosTest : public ::testing::Test {
protected:
    RtcCmosTest() : RtcCmosTest(256 * kMiB, 0) {}
    RtcCmosTest(std::uint64_t low_memory, std::uint64_t high_memory)
        : rtc_(loop_, sources_.add_line(platform::kRtcGsi, "rtc"), low_memory, high_memory, [this] { return now_ns_; }) {}

    std::uint8_t cmos(std::uint8_t index) {
        rtc_.write(IoAccess{platform::kRtcIndexPort, 0, 1, 0}, index);
        return static_cast<std::uint8_t>(rtc_.read(IoAccess{platform::kRtcDataPort, 1, 1, 0}));
    }
    void set_cmos(std::uint8_t index, std::uint8_t value) {
        rtc_.write(IoAccess{platform::kRtcIndexPort, 0, 1, 0}, index);
        rtc_.write(IoAccess{platform::kRtcDataPort, 1, 1, 0}, value);
    }
    [[nodiscard]] bool irq() const { return interrupts_.high(platform::kRtcGsi); }
    // Runs the timer's next handler, as the event loop would.
    void run_timer() {
        loop_.restart();
        EXPECT_EQ(loop_.run_one_for(2s), 1u);
    }

    boost::asio::io_context loop_;
    RecordingInterrupts interrupts_;
    InterruptSources sources_{interrupts_};
    std::int64_t now_ns_ = kLeapDayAfternoon;
    RtcCmos rtc_;
};

TEST_F(RtcCmosTest, ReadsTheHostTimeInBcd) {
    EXPECT_EQ(cmos(RtcCmos::kSeconds), 0x30);
    EXPECT_EQ(cmos(RtcCmos::kMinutes), 0x45);
    EXPECT_EQ(cmos(RtcCmos::kHours), 0x13);
    EXPECT_EQ(cmos(RtcCmos::kWeekday), 5);  // Thursday, Sunday being 1
    EXPECT_EQ(cmos(RtcCmos::kDay), 0x29);
    EXPECT_EQ(cmos(RtcCmos::kMonth), 0x02);
    EXPECT_EQ(cmos(RtcCmos::kYear), 0x24);
    EXPECT_EQ(cmos(platform::kRtcCenturyIndex), 0x20);
    EXPECT_EQ(cmos(RtcCmos::kRegisterA), 0x26);
    EXPECT_EQ(cmos(RtcCmos::kRegisterB), RtcCmos::k24Hour);
    EXPECT_EQ(cmos(RtcCmos::kRegisterD), RtcCmos::kValidRam);
    now_ns_ += 61 * kSecond;
    EXPECT_EQ(cmos(RtcCmos::kSeconds), 0x31);
    EXPECT_EQ(cmos(RtcCmos::kMinutes), 0x46);
}

TEST_F(RtcCmosTest, BinaryMode) {
    set_cmos(RtcCmos::kRegisterB, RtcCmos::k24Hour | RtcCmos::kBinary);
    EXPECT_EQ(cmos(RtcCmos::kSeconds), 30);
    EXPECT_EQ(cmos(RtcCmos::kHours), 13);
    EXPECT_EQ(cmos(RtcCmos::kDay), 29);
    EXPECT_EQ(cmos(RtcCmos::kYear), 24);
    EXPECT_EQ(cmos(platform::kRtcCenturyIndex), 20);
}

TEST_F(RtcCmosTest, TwelveHourModeMarksPm) {
    set_cmos(RtcCmos::kRegisterB, 0);  // BCD, 12-hour
    EXPECT_EQ(cmos(RtcCmos::kHours), RtcCmos::kPm | 0x01);
    now_ns_ = kLeapDayAfternoon - 13 * 3600 * kSecond;  // 00:45
    EXPECT_EQ(cmos(RtcCmos::kHours), 0x12);
    now_ns_ = kLeapDayAfternoon - 3600 * kSecond;  // 12:45
    EXPECT_EQ(cmos(RtcCmos::kHours), RtcCmos::kPm | 0x12);
    set_cmos(RtcCmos::kRegisterB, RtcCmos::kBinary);
    EXPECT_EQ(cmos(RtcCmos::kHours), RtcCmos::kPm | 12);
}

TEST_F(RtcCmosTest, TimeSetByTheGuestPersistsAsAnOffset) {
    set_cmos(RtcCmos::kRegisterB, RtcCmos::kSet | RtcCmos::k24Hour);
    set_cmos(RtcCmos::kSeconds, 0x58);
    set_cmos(RtcCmos::kMinutes, 0x59);
    set_cmos(RtcCmos::kHours, 0x23);
    set_cmos(RtcCmos::kDay, 0x31);
    set_cmos(RtcCmos::kMonth, 0x12);
    set_cmos(RtcCmos::kYear, 0x99);
    set_cmos(platform::kRtcCenturyIndex, 0x19);
    now_ns_ += 10 * kSecond;  // frozen while SET
    EXPECT_EQ(cmos(RtcCmos::kSeconds), 0x58);
    EXPECT_EQ(cmos(RtcCmos::kYear), 0x99);
    set_cmos(RtcCmos::kRegisterB, RtcCmos::k24Hour);
    now_ns_ += 3 * kSecond;  // 2000-01-01 00:00:01, a Saturday
    EXPECT_EQ(cmos(RtcCmos::kSeconds), 0x01);
    EXPECT_EQ(cmos(RtcCmos::kMinutes), 0x00);
    EXPECT_EQ(cmos(RtcCmos::kHours), 0x00);
    EXPECT_EQ(cmos(RtcCmos::kDay), 0x01);
    EXPECT_EQ(cmos(RtcCmos::kMonth), 0x01);
    EXPECT_EQ(cmos(RtcCmos::kYear), 0x00);
    EXPECT_EQ(cmos(platform::kRtcCenturyIndex), 0x20);
    EXPECT_EQ(cmos(RtcCmos::kWeekday), 7);
    now_ns_ += 86400 * kSecond;
    EXPECT_EQ(cmos(RtcCmos::kDay), 0x02);
}

TEST_F(RtcCmosTest, TimeWrittenWhileRunningGoesOnFromTheNewValue) {
    set_cmos(RtcCmos::kMinutes, 0x05);
    EXPECT_EQ(cmos(RtcCmos::kMinutes), 0x05);
    now_ns_ += 2 * kSecond;
    EXPECT_EQ(cmos(RtcCmos::kSeconds), 0x32);
    EXPECT_EQ(cmos(RtcCmos::kHours), 0x13);
}

TEST_F(RtcCmosTest, EachTimeTheGuestSetsTheClockTheHookHearsBeforeAndAfter) {
    std::vector<std::pair<std::int64_t, std::int64_t>> changes;
    rtc_.on_time_set([&](std::int64_t old_time, std::int64_t new_time) { changes.emplace_back(old_time, new_time); });
    const std::int64_t host = kLeapDayAfternoon / kSecond;
    set_cmos(RtcCmos::kMinutes, 0x05);  // while running: 40 minutes back
    ASSERT_EQ(changes.size(), 1u);
    EXPECT_EQ(changes[0], std::make_pair(host, host - 40 * 60));
    set_cmos(RtcCmos::kRegisterB, RtcCmos::kSet | RtcCmos::k24Hour);
    set_cmos(RtcCmos::kHours, 0x14);
    EXPECT_EQ(changes.size(), 1u) << "nothing until SET is cleared";
    now_ns_ += 5 * kSecond;  // frozen while SET: the guest's clock lost 5 s, and gained an hour
    set_cmos(RtcCmos::kRegisterB, RtcCmos::k24Hour);
    ASSERT_EQ(changes.size(), 2u);
    EXPECT_EQ(changes[1], std::make_pair(host - 40 * 60 + 5, host - 40 * 60 + 3600));
}

TEST_F(RtcCmosTest, UpdateInProgressInTheLast244MicrosecondsOfASecond) {
    EXPECT_EQ(cmos(RtcCmos::kRegisterA) & RtcCmos::kUpdateInProgress, 0);
    now_ns_ = kLeapDayAfternoon + kSecond - RtcCmos::kUpdateInProgressNs;
    EXPECT_EQ(cmos(RtcCmos::kRegisterA) & RtcCmos::kUpdateInProgress, RtcCmos::kUpdateInProgress);
    now_ns_ = kLeapDayAfternoon + kSecond - RtcCmos::kUpdateInProgressNs - 1;
    EXPECT_EQ(cmos(RtcCmos::kRegisterA) & RtcCmos::kUpdateInProgress, 0);
    now_ns_ = kLeapDayAfternoon + kSecond - 1;
    set_cmos(RtcCmos::kRegisterB, RtcCmos::kSet | RtcCmos::k24Hour);
    EXPECT_EQ(cmos(RtcCmos::kRegisterA) & RtcCmos::kUpdateInProgress, 0);  // no updates while SET
    set_cmos(RtcCmos::kRegisterA, 0xFF);  // UIP is read-only
    EXPECT_EQ(cmos(RtcCmos::kRegisterA), 0x7F);
}

TEST_F(RtcCmosTest, NoTimerWhileNoInterruptIsEnabled) {
    EXPECT_EQ(loop_.run_one_for(10ms), 0u);
}

TEST_F(RtcCmosTest, UpdateEndedInterruptAndRegisterCReadToClear) {
    // The fake clock stays just short of the next second, so that the
    // timer, armed for that second, fires after a millisecond of real time.
    now_ns_ = kLeapDayAfternoon + kSecond - kMillisecond;
    set_cmos(RtcCmos::kRegisterB, RtcCmos::kUpdateEnable | RtcCmos::k24Hour);
    EXPECT_FALSE(irq());
    now_ns_ += kSecond;
    run_timer();
    EXPECT_TRUE(irq());
    EXPECT_EQ(cmos(RtcCmos::kRegisterC) & kUpdateBits, RtcCmos::kInterruptRequest | RtcCmos::kUpdateFlag);
    EXPECT_FALSE(irq());
    EXPECT_EQ(cmos(RtcCmos::kRegisterC), 0);
    now_ns_ += kSecond;  // and again a second later
    run_timer();
    EXPECT_TRUE(irq());
    EXPECT_EQ(interrupts_.changes, 3);
}

TEST_F(RtcCmosTest, FlagsAreSetWithoutTheirInterrupts) {
    now_ns_ += kSecond;
    EXPECT_EQ(cmos(RtcCmos::kRegisterC), RtcCmos::kUpdateFlag | RtcCmos::kPeriodicFlag);
    EXPECT_EQ(interrupts_.changes, 0);
    now_ns_ += kSecond;
    // Enabling an interrupt whose flag is already set raises it at once.
    set_cmos(RtcCmos::kRegisterB, RtcCmos::kUpdateEnable | RtcCmos::k24Hour);
    EXPECT_TRUE(irq());
}

TEST_F(RtcCmosTest, SetClearsUpdateEnded) {
    set_cmos(RtcCmos::kRegisterB, RtcCmos::kSet | RtcCmos::kUpdateEnable | RtcCmos::k24Hour);
    EXPECT_EQ(cmos(RtcCmos::kRegisterB), RtcCmos::kSet | RtcCmos::k24Hour);
}

TEST_F(RtcCmosTest, AlarmInterruptHonoursDontCareBytes) {
    set_cmos(RtcCmos::kSecondsAlarm, 0x32);
    set_cmos(RtcCmos::kMinutesAlarm, 0xFF);
    set_cmos(RtcCmos::kHoursAlarm, 0xC0);
    now_ns_ = kLeapDayAfternoon + kSecond - kMillisecond;  // just before :31
    set_cmos(RtcCmos::kRegisterB, RtcCmos::kAlarmEnable | RtcCmos::k24Hour);
    (void)cmos(RtcCmos::kRegisterC);
    now_ns_ += kSecond;  // past :31, no match
    run_timer();
    EXPECT_FALSE(irq());
    EXPECT_EQ(cmos(RtcCmos::kRegisterC) & kUpdateBits, RtcCmos::kUpdateFlag);
    now_ns_ += kSecond;  // past :32
    run_timer();
    EXPECT_TRUE(irq());
    EXPECT_EQ(cmos(RtcCmos::kRegisterC) & (RtcCmos::kInterruptRequest | RtcCmos::kAlarmFlag),
              RtcCmos::kInterruptRequest | RtcCmos::kAlarmFlag);
    EXPECT_FALSE(irq());
    set_cmos(RtcCmos::kMinutesAlarm, 0x44);  // a minute that has passed
    now_ns_ += 60 * kSecond;
    run_timer();
    EXPECT_FALSE(irq());
    EXPECT_EQ(cmos(RtcCmos::kRegisterC) & RtcCmos::kAlarmFlag, 0);
}

// ACPI's RTC wake event: heard once per alarm interrupt, not for a match
// with AIE off.
TEST_F(RtcCmosTest, TheAlarmHookHearsEachAlarmInterrupt) {
    int alarms = 0;
    rtc_.on_alarm([&alarms] { ++alarms; });
    set_cmos(RtcCmos::kSecondsAlarm, 0x32);
    set_cmos(RtcCmos::kMinutesAlarm, 0xFF);
    set_cmos(RtcCmos::kHoursAlarm, 0xFF);
    set_cmos(RtcCmos::kRegisterB, RtcCmos::kUpdateEnable | RtcCmos::k24Hour);  // AIE off
    now_ns_ += 2 * kSecond;  // :32
    run_timer();
    EXPECT_EQ(alarms, 0);
    (void)cmos(RtcCmos::kRegisterC);
    set_cmos(RtcCmos::kRegisterB, RtcCmos::kAlarmEnable | RtcCmos::k24Hour);
    loop_.restart();
    loop_.poll();  // the timer armed before, cancelled by the write
    now_ns_ += 60 * kSecond;  // :32 a minute later
    run_timer();
    EXPECT_EQ(alarms, 1);
    now_ns_ += 60 * kSecond;  // again, AF not yet read: the same interrupt still pending
    run_timer();
    EXPECT_EQ(alarms, 1);
    (void)cmos(RtcCmos::kRegisterC);
    now_ns_ += 60 * kSecond;
    run_timer();
    EXPECT_EQ(alarms, 2);
}

// What a guest that powers off with a wake alarm leaves (acrnd starts the
// VM then): the next second the alarm bytes match, in host time.
TEST_F(RtcCmosTest, NextAlarmIsTheNextMatchingSecondInHostTime) {
    const std::int64_t now_s = kLeapDayAfternoon / kSecond;  // 13:45:30
    set_cmos(RtcCmos::kSecondsAlarm, 0x00);
    set_cmos(RtcCmos::kMinutesAlarm, 0x46);
    set_cmos(RtcCmos::kHoursAlarm, 0x13);
    EXPECT_EQ(rtc_.next_alarm(), std::nullopt);  // AIE off: the alarm wakes nothing
    set_cmos(RtcCmos::kRegisterB, RtcCmos::kAlarmEnable | RtcCmos::k24Hour);
    EXPECT_EQ(rtc_.next_alarm(), now_s + 30);
    set_cmos(RtcCmos::kMinutesAlarm, 0x45);  // 13:45:00 has passed: tomorrow's
    EXPECT_EQ(rtc_.next_alarm(), now_s + 86'400 - 30);
    set_cmos(RtcCmos::kSecondsAlarm, 0xFF);
    set_cmos(RtcCmos::kMinutesAlarm, 0xC0);
    set_cmos(RtcCmos::kHoursAlarm, 0xFF);  // every second: the next one
    EXPECT_EQ(rtc_.next_alarm(), now_s + 1);
    set_cmos(RtcCmos::kHoursAlarm, 0x25);  // no such hour
    EXPECT_EQ(rtc_.next_alarm(), std::nullopt);
    set_cmos(RtcCmos::kRegisterB, RtcCmos::kSet | RtcCmos::kAlarmEnable | RtcCmos::k24Hour);
    EXPECT_EQ(rtc_.next_alarm(), std::nullopt);  // the clock is stopped
}

TEST_F(RtcCmosTest, NextAlarmFollowsTheGuestsClockAndFormat) {
    const std::int64_t now_s = kLeapDayAfternoon / kSecond;
    // The guest keeps local time an hour ahead, in binary and 12-hour mode.
    constexpr std::uint8_t kFormat = RtcCmos::kBinary;
    set_cmos(RtcCmos::kRegisterB, RtcCmos::kSet | kFormat);
    set_cmos(RtcCmos::kSeconds, 30);
    set_cmos(RtcCmos::kMinutes, 45);
    set_cmos(RtcCmos::kHours, RtcCmos::kPm | 2);  // 14:45:30
    set_cmos(RtcCmos::kDay, 29);
    set_cmos(RtcCmos::kMonth, 2);
    set_cmos(RtcCmos::kYear, 24);
    set_cmos(RtcCmos::kRegisterB, RtcCmos::kAlarmEnable | kFormat);
    set_cmos(RtcCmos::kSecondsAlarm, 0);
    set_cmos(RtcCmos::kMinutesAlarm, 0);
    set_cmos(RtcCmos::kHoursAlarm, RtcCmos::kPm | 3);  // 15:00:00 on the guest's clock
    EXPECT_EQ(rtc_.next_alarm(), now_s + 14 * 60 + 30);
    set_cmos(RtcCmos::kHoursAlarm, 12);  // 12 AM: midnight
    EXPECT_EQ(rtc_.next_alarm(), now_s + (9 * 3600 + 14 * 60 + 30));
}

TEST_F(RtcCmosTest, PeriodicInterruptAtTheRateOfRegisterA) {
    set_cmos(RtcCmos::kRegisterA, RtcCmos::kDivider32kHz | 0x06);  // 1024 Hz
    set_cmos(RtcCmos::kRegisterB, RtcCmos::kPeriodicEnable | RtcCmos::k24Hour);
    (void)cmos(RtcCmos::kRegisterC);
    now_ns_ += kMillisecond;  // more than 1/1024 s
    run_timer();
    EXPECT_TRUE(irq());
    EXPECT_EQ(cmos(RtcCmos::kRegisterC), RtcCmos::kInterruptRequest | RtcCmos::kPeriodicFlag);
    set_cmos(RtcCmos::kRegisterA, RtcCmos::kDivider32kHz | 0x0F);  // 2 Hz
    (void)cmos(RtcCmos::kRegisterC);
    now_ns_ = (kLeapDayAfternoon / kSecond + 1) * kSecond + kMillisecond;
    (void)cmos(RtcCmos::kRegisterC);
    now_ns_ += 100 * kMillisecond;  // inside the same half second
    EXPECT_EQ(cmos(RtcCmos::kRegisterC) & RtcCmos::kPeriodicFlag, 0);
    now_ns_ += 400 * kMillisecond;
    EXPECT_EQ(cmos(RtcCmos::kRegisterC) & RtcCmos::kPeriodicFlag, RtcCmos::kPeriodicFlag);
}

TEST_F(RtcCmosTest, MemorySizesFor256MiB) {
    EXPECT_EQ(cmos(0x15) | cmos(0x16) << 8, 640);
    EXPECT_EQ(cmos(0x17) | cmos(0x18) << 8, 0xFFFF);  // 255 MiB in KiB does not fit
    EXPECT_EQ(cmos(0x30) | cmos(0x31) << 8, 0xFFFF);
    EXPECT_EQ(cmos(0x34) | cmos(0x35) << 8, (256 - 16) * 16);
    EXPECT_EQ(cmos(0x5B) | cmos(0x5C) << 8 | cmos(0x5D) << 16, 0);
}

class RtcCmosSixGiBTest : public RtcCmosTest {
protected:
    // ACRN's layout for 6 GiB: 2 GiB low, 4 GiB from 4 GiB.
    RtcCmosSixGiBTest() : RtcCmosTest(2 * kGiB, 4 * kGiB) {}
};

TEST_F(RtcCmosSixGiBTest, MemorySizesFor6GiB) {
    EXPECT_EQ(cmos(0x15) | cmos(0x16) << 8, 640);
    EXPECT_EQ(cmos(0x17) | cmos(0x18) << 8, 0xFFFF);
    EXPECT_EQ(cmos(0x34) | cmos(0x35) << 8, (2048 - 16) * 16);
    EXPECT_EQ(cmos(0x5B) | cmos(0x5C) << 8 | cmos(0x5D) << 16, 4 * 1024 * 16);
}

TEST_F(RtcCmosTest, NvramIsPlainStorageAndTheNmiBitIsIgnored) {
    set_cmos(0x40, 0xAB);
    EXPECT_EQ(cmos(0x40), 0xAB);
    EXPECT_EQ(cmos(0x80 | 0x40), 0xAB);
    set_cmos(0x7F, 0x5A);
    EXPECT_EQ(cmos(0x7F), 0x5A);
    // A word access writes the index and then the data.
    rtc_.write(IoAccess{platform::kRtcIndexPort, 0, 2, 0}, 0x6641);
    EXPECT_EQ(cmos(0x41), 0x66);
}

TEST_F(RtcCmosTest, HostileAccessesNeverCrash) {
    set_cmos(RtcCmos::kRegisterC, 0xFF);
    set_cmos(RtcCmos::kRegisterD, 0x00);
    EXPECT_EQ(cmos(RtcCmos::kRegisterD), RtcCmos::kValidRam);
    EXPECT_EQ(rtc_.read(IoAccess{platform::kRtcIndexPort, 0, 4, 0}), 0xFFFF'FFFFu);
    EXPECT_EQ(rtc_.read(IoAccess{platform::kRtcIndexPort + 2u, 2, 1, 0}), 0xFFu);
    EXPECT_EQ(rtc_.read(IoAccess{platform::kRtcDataPort, 1, 2, 0}), 0xFFFFu);
    rtc_.write(IoAccess{platform::kRtcIndexPort, 0, 8, 0}, ~0ull);
    rtc_.write(IoAccess{platform::kRtcIndexPort, ~0ull, 1, 0}, 0);
    // Nonsense written as the time gives some time, not a crash.
    set_cmos(RtcCmos::kRegisterB, RtcCmos::kSet);
    for (std::uint8_t index : {RtcCmos::kSeconds, RtcCmos::kMinutes, RtcCmos::kHours, RtcCmos::kDay,
                               RtcCmos::kMonth, RtcCmos::kYear, platform::kRtcCenturyIndex}) {
        set_cmos(index, 0xFF);
    }
    set_cmos(RtcCmos::kRegisterB, RtcCmos::kBinary);
    (void)cmos(RtcCmos::kSeconds);
    set_cmos(RtcCmos::kRegisterB, RtcCmos::kSet | RtcCmos::kBinary);
    set_cmos(RtcCmos::kRegisterB, 0);
    (void)cmos(RtcCmos::kHours);
}

}  // namespace
}  // namespace acrn::dm
