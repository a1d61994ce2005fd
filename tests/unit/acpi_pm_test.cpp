// The ACPI fixed hardware driven through its port ranges, as the ioreq
// loop drives it.
#include "dm/devices/acpi_pm.hpp"

#include <gtest/gtest.h>

#include "device_test_support.hpp"

namespace acrn::dm {
namespace {

using test_support::RecordingInterrupts;
using test_support::RecordingPower;

constexpr std::uint16_t kStatus = platform::kPm1aEventBlock;
constexpr std::uint16_t kEnable = platform::kPm1aEventBlock + 2;
constexpr std::uint16_t kControl = platform::kPm1aControlBlock;
constexpr std::uint16_t kTimer = platform::kPmTimerBlock;
constexpr std::uint16_t kSmi = platform::kSmiCommandPort;
constexpr std::uint64_t kSecond = 1'000'000'000;
constexpr std::uint16_t kS5SleepRequest = (platform::kSleepTypeS5 << AcpiPm::kSleepTypeShift) | AcpiPm::kSleepEnable;

class AcpiPmTest : public ::testing::Test {
protected:
    static IoAccess access(std::uint16_t port, std::uint32_t size) {
        for (const AcpiPm::PortRange& range : AcpiPm::kPortRanges) {
            if (port >= range.base && port < range.base + range.width) {
                return IoAccess{port, std::uint64_t{port} - range.base, size, 0};
            }
        }
        return IoAccess{port, 0, size, 0};
    }
    std::uint64_t in(std::uint16_t port, std::uint32_t size) { return pm_.read(access(port, size)); }
    void out(std::uint16_t port, std::uint32_t size, std::uint64_t value) { pm_.write(access(port, size), value); }
    [[nodiscard]] bool sci() const { return interrupts_.high(platform::kSciGsi); }

    RecordingInterrupts interrupts_;
    RecordingPower power_;
    std::uint64_t now_ns_ = 0;
    InterruptSources sources_{interrupts_};
    AcpiPm pm_{sources_.add_line(platform::kSciGsi, "sci"), power_, [this] { return now_ns_; }};
};

TEST_F(AcpiPmTest, SmiCommandSwitchesAcpiModeOnAndOff) {
    EXPECT_FALSE(pm_.acpi_enabled());
    out(kSmi, 1, platform::kAcpiEnable);
    EXPECT_TRUE(pm_.acpi_enabled());
    EXPECT_EQ(in(kControl, 2) & AcpiPm::kSciEnable, AcpiPm::kSciEnable);
    out(kSmi, 1, 0x55);  // unknown: no change
    EXPECT_TRUE(pm_.acpi_enabled());
    out(kSmi, 1, platform::kAcpiDisable);
    EXPECT_FALSE(pm_.acpi_enabled());
    EXPECT_EQ(in(kControl, 2), 0u);
}

TEST_F(AcpiPmTest, SciIsAssertedWhileAnEnabledStatusBitIsSetInAcpiMode) {
    EXPECT_FALSE(pm_.press_power_button());  // neither SCI_EN nor PWRBTN_EN
    EXPECT_EQ(in(kStatus, 2), AcpiPm::kPowerButtonStatus);
    EXPECT_EQ(interrupts_.changes, 0);
    out(kEnable, 2, AcpiPm::kPowerButtonEnable);
    EXPECT_FALSE(sci());  // not in ACPI mode yet
    out(kSmi, 1, platform::kAcpiEnable);
    EXPECT_TRUE(sci());
    out(kEnable, 2, 0);
    EXPECT_FALSE(sci());
    out(kEnable, 2, AcpiPm::kPowerButtonEnable);
    EXPECT_TRUE(sci());
    out(kSmi, 1, platform::kAcpiDisable);
    EXPECT_FALSE(sci());
    out(kSmi, 1, platform::kAcpiEnable);
    EXPECT_TRUE(sci());
    EXPECT_EQ(interrupts_.levels.size(), 1u);  // only the SCI's GSI
}

TEST_F(AcpiPmTest, PowerButtonStatusIsWriteOneToClear) {
    out(kSmi, 1, platform::kAcpiEnable);
    out(kEnable, 2, AcpiPm::kPowerButtonEnable);
    EXPECT_TRUE(pm_.press_power_button());
    EXPECT_TRUE(sci());
    out(kStatus, 2, 0);  // zeros leave it set
    EXPECT_EQ(in(kStatus, 2), AcpiPm::kPowerButtonStatus);
    EXPECT_TRUE(sci());
    out(kStatus + 1, 1, AcpiPm::kPowerButtonStatus >> 8);  // a byte write reaches the high half
    EXPECT_EQ(in(kStatus, 2), 0u);
    EXPECT_FALSE(sci());
    EXPECT_EQ(in(kEnable, 2), AcpiPm::kPowerButtonEnable);
}

TEST_F(AcpiPmTest, PressPowerButtonReportsWhetherTheGuestWillSeeIt) {
    out(kSmi, 1, platform::kAcpiEnable);
    EXPECT_FALSE(pm_.press_power_button());  // PWRBTN_EN clear
    EXPECT_FALSE(sci());
    out(kEnable, 2, AcpiPm::kPowerButtonEnable);
    EXPECT_TRUE(sci());  // the earlier press is still pending
    out(kStatus, 2, AcpiPm::kPowerButtonStatus);
    EXPECT_TRUE(pm_.press_power_button());
    EXPECT_TRUE(sci());
}

TEST_F(AcpiPmTest, SleepButtonRaisesTheSciOnlyWhenEnabledAndIsWriteOneToClear) {
    out(kSmi, 1, platform::kAcpiEnable);
    EXPECT_FALSE(pm_.press_sleep_button());  // SLPBTN_EN clear
    EXPECT_FALSE(sci());
    EXPECT_EQ(in(kStatus, 2), AcpiPm::kSleepButtonStatus);
    out(kEnable, 2, AcpiPm::kSleepButtonEnable);
    EXPECT_TRUE(sci());  // the earlier press is still pending
    out(kStatus, 2, AcpiPm::kSleepButtonStatus);
    EXPECT_FALSE(sci());
    EXPECT_TRUE(pm_.press_sleep_button());
    EXPECT_TRUE(sci());
    EXPECT_EQ(in(kStatus, 2), AcpiPm::kSleepButtonStatus);  // not the power button's
    out(kStatus, 2, AcpiPm::kSleepButtonStatus);
    EXPECT_FALSE(sci());
}

TEST_F(AcpiPmTest, EventBlockReadsAsOneDwordAndRefusesTimerEnable) {
    out(kEnable, 2, AcpiPm::kTimerEnable | AcpiPm::kPowerButtonEnable);
    EXPECT_EQ(in(kEnable, 2), AcpiPm::kPowerButtonEnable);  // TMR_STS is never set, so TMR_EN is refused
    (void)pm_.press_power_button();
    EXPECT_EQ(in(kStatus, 4), (std::uint64_t{AcpiPm::kPowerButtonEnable} << 16) | AcpiPm::kPowerButtonStatus);
    out(kStatus, 4, AcpiPm::kPowerButtonStatus);  // clears STS, and EN takes 0
    EXPECT_EQ(in(kStatus, 4), 0u);
}

// ACPICA enables the global lock and RTC events and reads the bits back to
// see whether the hardware exists.
TEST_F(AcpiPmTest, GlobalLockAndRtcEnablesHoldWhatIsWritten) {
    const std::uint16_t enables = AcpiPm::kGlobalLockEnable | AcpiPm::kRtcEnable | AcpiPm::kSleepButtonEnable;
    out(kEnable, 2, enables);
    EXPECT_EQ(in(kEnable, 2), enables);
    out(kSmi, 1, platform::kAcpiEnable);
    EXPECT_FALSE(sci());  // enabled events that never happen raise nothing
}

TEST_F(AcpiPmTest, PmTimerCountsAtItsRateAndWrapsAt24Bits) {
    EXPECT_EQ(in(kTimer, 4), 0u);
    now_ns_ = kSecond;
    EXPECT_EQ(in(kTimer, 4), platform::kPmTimerHz);
    now_ns_ = kSecond + 1'000'000;  // one more millisecond: 3579.545 ticks
    EXPECT_EQ(in(kTimer, 4), platform::kPmTimerHz + 3579);
    now_ns_ = 5 * kSecond;  // 17897725 ticks, past 2^24
    EXPECT_EQ(in(kTimer, 4), 5u * platform::kPmTimerHz - (1u << 24));
    EXPECT_EQ(in(kTimer, 4) >> 24, 0u);
    EXPECT_EQ(in(kTimer, 1), (5u * platform::kPmTimerHz) & 0xFF);
    EXPECT_EQ(in(kTimer + 2, 1), ((5u * platform::kPmTimerHz) >> 16) & 0xFF);
    now_ns_ = 1'000'000'000 * kSecond;  // decades of uptime do not overflow
    EXPECT_EQ(in(kTimer, 4), (1'000'000'000ull * platform::kPmTimerHz) & AcpiPm::kTimerMask);
    out(kTimer, 4, 0);  // read-only
    EXPECT_EQ(in(kTimer, 4), (1'000'000'000ull * platform::kPmTimerHz) & AcpiPm::kTimerMask);
}

TEST_F(AcpiPmTest, S5PowersOffEvenOutsideAcpiMode) {
    out(kControl, 2, platform::kSleepTypeS5 << AcpiPm::kSleepTypeShift);  // type without SLP_EN
    EXPECT_TRUE(power_.statuses.empty());
    out(kControl, 2, kS5SleepRequest);  // as the hypervisor does after a triple fault
    EXPECT_EQ(power_.statuses, std::vector<int>{0});
    EXPECT_EQ(in(kControl, 2), platform::kSleepTypeS5 << AcpiPm::kSleepTypeShift);  // SLP_EN reads 0
}

TEST_F(AcpiPmTest, ByteWritesComposeTheControlRegister) {
    out(kSmi, 1, platform::kAcpiEnable);
    out(kControl + 1, 1, kS5SleepRequest >> 8);
    EXPECT_EQ(power_.statuses, std::vector<int>{0});
    EXPECT_TRUE(pm_.acpi_enabled());  // the low byte kept SCI_EN
}

TEST_F(AcpiPmTest, S3SuspendsAndTheWakeIsSeenInWakeStatus) {
    out(kSmi, 1, platform::kAcpiEnable);
    out(kControl, 2, (platform::kSleepTypeS3 << AcpiPm::kSleepTypeShift) | AcpiPm::kSciEnable);  // no SLP_EN yet
    EXPECT_EQ(power_.suspends, 0);
    out(kControl, 2, (platform::kSleepTypeS3 << AcpiPm::kSleepTypeShift) | AcpiPm::kSciEnable | AcpiPm::kSleepEnable);
    EXPECT_EQ(power_.suspends, 1);
    EXPECT_TRUE(power_.statuses.empty());
    EXPECT_EQ(in(kStatus, 2) & AcpiPm::kWakeStatus, 0u);  // asleep: not woken yet
    pm_.wake();
    EXPECT_EQ(in(kStatus, 2) & AcpiPm::kWakeStatus, AcpiPm::kWakeStatus);
    EXPECT_FALSE(sci());  // WAK_STS has no enable: no SCI
    EXPECT_TRUE(pm_.acpi_enabled());  // the OS's ACPI mode outlives the sleep
    out(kStatus, 2, AcpiPm::kWakeStatus);  // write one to clear
    EXPECT_EQ(in(kStatus, 2) & AcpiPm::kWakeStatus, 0u);
}

TEST_F(AcpiPmTest, TheRtcAlarmRaisesTheSciAndWakesOnlyWithRtcEnable) {
    out(kSmi, 1, platform::kAcpiEnable);
    pm_.rtc_alarm();
    EXPECT_EQ(in(kStatus, 2) & AcpiPm::kRtcStatus, AcpiPm::kRtcStatus);
    EXPECT_FALSE(sci());
    EXPECT_EQ(power_.rtc_wakes, 0);
    out(kStatus, 2, AcpiPm::kRtcStatus);  // write one to clear
    EXPECT_EQ(in(kStatus, 2) & AcpiPm::kRtcStatus, 0u);
    EXPECT_FALSE(pm_.rtc_wake_enabled());
    out(kEnable, 2, AcpiPm::kRtcEnable);  // as Linux's rtc-cmos does for a wake alarm
    EXPECT_TRUE(pm_.rtc_wake_enabled());
    pm_.rtc_alarm();
    EXPECT_TRUE(sci());
    EXPECT_EQ(power_.rtc_wakes, 1);
    out(kStatus, 2, AcpiPm::kRtcStatus);
    EXPECT_FALSE(sci());
}

TEST_F(AcpiPmTest, OtherSleepStatesAreRefusedNotFatal) {
    for (const unsigned sleep_type : {1u, 2u, 4u, 6u, 7u}) {
        out(kControl, 2, (sleep_type << AcpiPm::kSleepTypeShift) | AcpiPm::kSleepEnable);
    }
    power_.can_suspend = false;  // a session that cannot wake the VM
    out(kControl, 2, (platform::kSleepTypeS3 << AcpiPm::kSleepTypeShift) | AcpiPm::kSleepEnable);
    EXPECT_EQ(power_.suspends, 1);
    EXPECT_TRUE(power_.statuses.empty());
    EXPECT_EQ(power_.resets, 0);
}

TEST_F(AcpiPmTest, HostileAccessesAreIgnored) {
    const IoAccess bad[] = {
        {kStatus, 3, 4, 0},  {kStatus, 0, 8, 0}, {kStatus, 100, 1, 0}, {kControl, 1, 2, 0},
        {kTimer, 2, 4, 0},   {kSmi, 0, 2, 0},    {0x500, 0, 1, 0},      {kStatus, 0, 0, 0},
        {kControl, ~0ull, 2, 0},
    };
    for (const IoAccess& access : bad) {
        EXPECT_EQ(pm_.read(access), all_ones(access.size));
        pm_.write(access, ~0ull);
    }
    EXPECT_TRUE(power_.statuses.empty());
    EXPECT_FALSE(pm_.acpi_enabled());
    EXPECT_EQ(in(kStatus, 4), 0u);
}

}  // namespace
}  // namespace acrn::dm
