// The PC's real-time clock and CMOS RAM: a Motorola MC146818A as Intel's
// PCH datasheets describe it ("Real Time Clock"): an index port and a data
// port in front of 128 bytes, of which the first 14 are the clock (time,
// alarm, registers A-D) and the rest NVRAM.
//
// The time is the host's wall clock (UTC) plus an offset in whole seconds
// that the guest sets by writing the time. Update-ended, alarm and periodic
// flags are worked out from that clock whenever register C is read or the
// timer fires; the timer (on the event loop) is armed only while one of
// their interrupts is enabled. IRQ 8 is an ISA edge: the line goes high
// when IRQF becomes set and low when the guest reads register C.
#pragma once

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>

#include "dm/irq/interrupt_sources.hpp"
#include "dm/io/io_device.hpp"
#include "dm/platform_layout.hpp"

namespace acrn::dm {

class RtcCmos final : public IoDevice {
public:
    static constexpr std::uint16_t kPort = platform::kRtcIndexPort;
    static constexpr std::uint16_t kWidth = platform::kRtcDataPort - platform::kRtcIndexPort + 1;
    static constexpr std::size_t kSize = 128;

    // Clock registers (MC146818A, "Address Map").
    static constexpr std::uint8_t kSeconds = 0x00;
    static constexpr std::uint8_t kSecondsAlarm = 0x01;
    static constexpr std::uint8_t kMinutes = 0x02;
    static constexpr std::uint8_t kMinutesAlarm = 0x03;
    static constexpr std::uint8_t kHours = 0x04;
    static constexpr std::uint8_t kHoursAlarm = 0x05;
    static constexpr std::uint8_t kWeekday = 0x06;  // 1 = Sunday
    static constexpr std::uint8_t kDay = 0x07;
    static constexpr std::uint8_t kMonth = 0x08;
    static constexpr std::uint8_t kYear = 0x09;
    static constexpr std::uint8_t kRegisterA = 0x0A;
    static constexpr std::uint8_t kRegisterB = 0x0B;
    static constexpr std::uint8_t kRegisterC = 0x0C;
    static constexpr std::uint8_t kRegisterD = 0x0D;

    // Register A.
    static constexpr std::uint8_t kUpdateInProgress = 0x80;
    static constexpr std::uint8_t kDivider32kHz = 0x20;  // DV2-0 = 010: time base running
    static constexpr std::uint8_t kRateMask = 0x0F;
    // Register B.
    static constexpr std::uint8_t kSet = 0x80;
    static constexpr std::uint8_t kPeriodicEnable = 0x40;
    static constexpr std::uint8_t kAlarmEnable = 0x20;
    static constexpr std::uint8_t kUpdateEnable = 0x10;
    static constexpr std::uint8_t kBinary = 0x04;
    static constexpr std::uint8_t k24Hour = 0x02;
    // Register C.
    static constexpr std::uint8_t kInterruptRequest = 0x80;
    static constexpr std::uint8_t kPeriodicFlag = 0x40;
    static constexpr std::uint8_t kAlarmFlag = 0x20;
    static constexpr std::uint8_t kUpdateFlag = 0x10;
    // Register D.
    static constexpr std::uint8_t kValidRam = 0x80;
    // Hours register in 12-hour mode.
    static constexpr std::uint8_t kPm = 0x80;
    // An alarm byte of 0xC0-0xFF matches every value.
    static constexpr std::uint8_t kAlarmDontCare = 0xC0;

    // The window before each second's update during which UIP reads 1.
    static constexpr std::int64_t kUpdateInProgressNs = 244'000;

    // Nanoseconds since the Unix epoch, UTC; CLOCK_REALTIME unless a test
    // injects its own.
    using WallClock = std::function<std::int64_t()>;
    [[nodiscard]] static std::int64_t realtime_clock_ns();

    // The memory sizes fill the CMOS fields firmware would: RAM below
    // 4 GiB (from 0) and RAM from 4 GiB up.
    RtcCmos(boost::asio::io_context& loop, LineSource& irq, std::uint64_t low_memory_bytes,
            std::uint64_t high_memory_bytes, WallClock clock = realtime_clock_ns);
    ~RtcCmos() override;
    RtcCmos(const RtcCmos&) = delete;
    RtcCmos& operator=(const RtcCmos&) = delete;

    // Called, under the device's lock, each time the guest sets the clock
    // (seconds since the epoch on the guest's clock, before and after).
    using TimeSetHook = std::function<void(std::int64_t old_time, std::int64_t new_time)>;
    void on_time_set(TimeSetHook hook);
    // Called, under the device's lock, each time the alarm interrupt fires
    // (AF set with AIE on): ACPI's RTC wake event.
    using AlarmHook = std::function<void()>;
    void on_alarm(AlarmHook hook);

    // When the alarm goes off next, in host seconds since the epoch: the
    // first second from the next on, within a day, whose time of day the
    // alarm bytes match (the MC146818A's alarm has no date). nullopt while
    // the alarm interrupt is off (AIE clear) or the clock stopped (SET).
    [[nodiscard]] std::optional<std::int64_t> next_alarm();

    [[nodiscard]] std::uint64_t read(const IoAccess& access) override;
    void write(const IoAccess& access, std::uint64_t value) override;

private:
    void fill_memory_sizes(std::uint64_t low_memory_bytes, std::uint64_t high_memory_bytes);
    [[nodiscard]] std::uint8_t read_register(std::uint8_t index, std::int64_t now);
    void write_register(std::uint8_t index, std::uint8_t value, std::int64_t now);
    void write_register_b(std::uint8_t value, std::int64_t now);
    [[nodiscard]] bool clock_running() const { return (cmos_[kRegisterB] & kSet) == 0; }
    [[nodiscard]] std::int64_t guest_seconds(std::int64_t now) const;
    // The clock goes on from the time registers; the hook hears of it.
    void take_time_from_registers(std::int64_t now);
    // The time registers from the guest's clock, in the current format.
    void latch_time(std::int64_t guest_time);
    // The guest's clock from the time registers.
    [[nodiscard]] std::int64_t time_from_registers() const;
    [[nodiscard]] bool alarm_matches(std::int64_t guest_time);
    // Sets the flags for the updates and periodic ticks since the last call.
    void catch_up(std::int64_t now);
    void update_interrupt();
    void arm_timer(std::int64_t now);
    void on_timer();

    LineSource& irq_;
    const WallClock clock_;

    std::mutex mutex_;
    boost::asio::steady_timer timer_;
    std::array<std::uint8_t, kSize> cmos_{};
    std::uint8_t index_ = 0;
    std::int64_t offset_seconds_ = 0;
    TimeSetHook time_set_hook_;
    AlarmHook alarm_hook_;
    std::int64_t last_update_check_ns_;
    std::int64_t last_periodic_check_ns_;
    bool line_high_ = false;
    // Timer handlers hold it weakly: one that outlives the device does nothing.
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace acrn::dm
