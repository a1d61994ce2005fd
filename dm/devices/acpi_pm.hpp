// ACPI fixed hardware (ACPI 6.4, 4.8): the PM1a event block (PM1_STS,
// PM1_EN), the PM1a control block (SCI_EN, SLP_TYP, SLP_EN), the PM timer
// and the SMI command port through which the guest takes the platform into
// ACPI mode. One object behind several port ranges (kPortRanges); it tells
// them apart by the range's base (IoAccess::address - offset).
//
// TMR_STS is never set, so TMR_EN is refused (reads back 0): Linux uses the
// PM timer as a clocksource only and never enables its carry interrupt.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <mutex>

#include "dm/irq/interrupt_sources.hpp"
#include "dm/io/io_device.hpp"
#include "dm/platform_layout.hpp"
#include "dm/power_control.hpp"

namespace acrn::dm {

class AcpiPm final : public IoDevice {
public:
    struct PortRange {
        std::uint16_t base;
        std::uint16_t width;
        const char* name;
    };
    static constexpr std::array<PortRange, 4> kPortRanges{{
        {platform::kPm1aEventBlock, platform::kPm1aEventLength, "acpi-pm1a-evt"},
        {platform::kPm1aControlBlock, platform::kPm1aControlLength, "acpi-pm1a-cnt"},
        {platform::kPmTimerBlock, platform::kPmTimerLength, "acpi-pm-tmr"},
        {platform::kSmiCommandPort, 1, "acpi-smi-cmd"},
    }};

    // PM1_STS / PM1_EN bits (ACPI 6.4, tables 4.16 and 4.17).
    static constexpr std::uint16_t kTimerStatus = 1u << 0;
    static constexpr std::uint16_t kPowerButtonStatus = 1u << 8;
    static constexpr std::uint16_t kSleepButtonStatus = 1u << 9;
    static constexpr std::uint16_t kRtcStatus = 1u << 10;
    static constexpr std::uint16_t kWakeStatus = 1u << 15;
    static constexpr std::uint16_t kTimerEnable = 1u << 0;
    static constexpr std::uint16_t kGlobalLockEnable = 1u << 5;
    static constexpr std::uint16_t kPowerButtonEnable = 1u << 8;
    static constexpr std::uint16_t kSleepButtonEnable = 1u << 9;
    static constexpr std::uint16_t kRtcEnable = 1u << 10;
    static constexpr std::uint16_t kPciExpressWakeDisable = 1u << 14;
    // PM1_CNT bits (ACPI 6.4, table 4.18).
    static constexpr std::uint16_t kSciEnable = 1u << 0;
    static constexpr std::uint16_t kSleepTypeShift = 10;
    static constexpr std::uint16_t kSleepTypeMask = 0x7u << kSleepTypeShift;
    static constexpr std::uint16_t kSleepEnable = 1u << 13;
    static constexpr std::uint32_t kTimerMask = 0xFF'FFFF;  // 24-bit counter (FADT TMR_VAL_EXT = 0)

    // Nanoseconds of a monotonic clock; CLOCK_MONOTONIC unless a test
    // injects its own.
    using Clock = std::function<std::uint64_t()>;
    [[nodiscard]] static std::uint64_t monotonic_clock_ns();

    AcpiPm(LineSource& sci, PowerControl& power, Clock clock = monotonic_clock_ns);

    [[nodiscard]] std::uint64_t read(const IoAccess& access) override;
    void write(const IoAccess& access, std::uint64_t value) override;

    // From the event loop: the host asked for a soft power-off. True if the
    // guest will see the event (SCI_EN and PWRBTN_EN set).
    bool press_power_button();
    // From the event loop: the host asks the guest to suspend (the fixed
    // sleep button). True if the guest will see it (SCI_EN and SLPBTN_EN).
    bool press_sleep_button();
    // The VM woke from S3 (ACPI 6.4, 4.8.3.2.1: WAK_STS).
    void wake();
    // The RTC's alarm interrupt fired (RTC_STS): with RTC_EN set, an SCI
    // while the VM runs and a wake event (PowerControl::rtc_wake) in S3.
    void rtc_alarm();
    [[nodiscard]] bool acpi_enabled() const;
    // RTC_EN: the guest wants its RTC alarm to wake it (from S3, or S5).
    [[nodiscard]] bool rtc_wake_enabled() const;

private:
    // A fixed-feature button: its status bit set; true if the guest sees it.
    bool press(std::uint16_t status_bit, std::uint16_t enable_bit);
    [[nodiscard]] std::uint32_t timer_value() const;
    void write_event_block(std::uint64_t offset, std::uint32_t size, std::uint64_t value);
    // Takes the lock itself: a sleep request is made outside it.
    void write_control(std::uint64_t offset, std::uint32_t size, std::uint64_t value);
    void write_smi_command(std::uint8_t command);
    void update_sci();

    LineSource& sci_;
    PowerControl& power_;
    const Clock clock_;

    mutable std::mutex mutex_;
    std::uint16_t status_ = 0;
    std::uint16_t enable_ = 0;
    std::uint16_t control_ = 0;
    bool sci_high_ = false;
};

}  // namespace acrn::dm
