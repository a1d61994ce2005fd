#include "dm/devices/rtc_cmos.hpp"

#include <time.h>

#include <algorithm>
#include <chrono>

#include "common/log.hpp"

namespace acrn::dm {
namespace {

constexpr std::int64_t kNsPerSecond = 1'000'000'000;
constexpr std::int64_t kTimeBaseHz = 32'768;
constexpr std::uint8_t kIndexMask = 0x7F;  // bit 7 of the index port gates NMI
// Alarm updates missed while nobody looked are searched this far back.
constexpr std::int64_t kAlarmLookbackSeconds = 3600;

// CMOS memory-size fields, as PC firmware fills them (little-endian).
constexpr std::uint8_t kBaseMemory = 0x15;           // KiB below 640 KiB
constexpr std::uint8_t kExtendedMemory = 0x17;       // KiB above 1 MiB, capped
constexpr std::uint8_t kExtendedMemoryCopy = 0x30;   // the same again
constexpr std::uint8_t kMemoryAbove16M = 0x34;       // 64 KiB units, capped
constexpr std::uint8_t kMemoryAbove4G = 0x5B;        // 64 KiB units, 3 bytes
constexpr std::uint64_t kBaseMemoryKiB = 640;

[[nodiscard]] std::int64_t floor_div(std::int64_t value, std::int64_t divisor) {
    const std::int64_t quotient = value / divisor;
    return (value % divisor != 0 && (value < 0) != (divisor < 0)) ? quotient - 1 : quotient;
}

// Ticks of the 32.768 kHz time base at `ns` (ns >= 0), split so that the
// product cannot overflow.
[[nodiscard]] std::int64_t time_base_ticks(std::int64_t ns) {
    return (ns / kNsPerSecond) * kTimeBaseHz + (ns % kNsPerSecond) * kTimeBaseHz / kNsPerSecond;
}

// The first nanosecond at or after time-base tick `ticks`.
[[nodiscard]] std::int64_t ticks_to_ns(std::int64_t ticks) {
    const std::int64_t rounded_up = (ticks % kTimeBaseHz) * kNsPerSecond + kTimeBaseHz - 1;
    return (ticks / kTimeBaseHz) * kNsPerSecond + rounded_up / kTimeBaseHz;
}

// Register A's rate select, in time-base ticks per periodic interrupt; 0
// when off. Rates 1 and 2 repeat rates 8 and 9 with the 32.768 kHz time
// base (MC146818A, "Periodic Interrupt Rate" table).
[[nodiscard]] std::int64_t periodic_ticks(std::uint8_t register_a) {
    unsigned rate = register_a & RtcCmos::kRateMask;
    if (rate == 0) {
        return 0;
    }
    if (rate <= 2) {
        rate += 7;
    }
    return std::int64_t{1} << (rate - 1);
}

void put_le(std::array<std::uint8_t, RtcCmos::kSize>& cmos, std::uint8_t index, std::uint64_t value, int bytes) {
    for (int i = 0; i < bytes; ++i) {
        cmos[index + i] = static_cast<std::uint8_t>(value >> (8 * i));
    }
}

class Format {
public:
    explicit Format(std::uint8_t register_b)
        : binary_((register_b & RtcCmos::kBinary) != 0), hour24_((register_b & RtcCmos::k24Hour) != 0) {}

    [[nodiscard]] std::uint8_t encode(unsigned value) const {
        return static_cast<std::uint8_t>(binary_ ? value : ((value / 10) << 4) | (value % 10));
    }
    [[nodiscard]] unsigned decode(std::uint8_t value) const {
        return binary_ ? value : (value >> 4) * 10u + (value & 0x0Fu);
    }
    [[nodiscard]] std::uint8_t encode_hour(unsigned hour) const {
        if (hour24_) {
            return encode(hour);
        }
        const unsigned twelve = hour % 12 == 0 ? 12 : hour % 12;  // 12 AM is midnight
        return static_cast<std::uint8_t>(encode(twelve) | (hour >= 12 ? RtcCmos::kPm : 0));
    }
    [[nodiscard]] unsigned decode_hour(std::uint8_t value) const {
        if (hour24_) {
            return decode(value);
        }
        return decode(value & static_cast<std::uint8_t>(~RtcCmos::kPm)) % 12 + ((value & RtcCmos::kPm) != 0 ? 12 : 0);
    }

private:
    bool binary_;
    bool hour24_;
};

void warn_rtc(const char* what, std::uint64_t value) {
    static RateLimiter limiter;
    if (limiter.allow()) {
        log_warning("RTC: {} {:#x} ignored", what, value);
    }
}

// The registers that hold the time of day and the date.
bool is_time_register(std::uint8_t index) {
    switch (index) {
        case RtcCmos::kSeconds:
        case RtcCmos::kMinutes:
        case RtcCmos::kHours:
        case RtcCmos::kWeekday:
        case RtcCmos::kDay:
        case RtcCmos::kMonth:
        case RtcCmos::kYear:
        case platform::kRtcCenturyIndex:
            return true;
        default: return false;
    }
}

}  // namespace

std::int64_t RtcCmos::realtime_clock_ns() {
    timespec now{};
    ::clock_gettime(CLOCK_REALTIME, &now);
    return static_cast<std::int64_t>(now.tv_sec) * kNsPerSecond + now.tv_nsec;
}

RtcCmos::RtcCmos(boost::asio::io_context& loop, LineSource& irq, std::uint64_t low_memory_bytes,
                 std::uint64_t high_memory_bytes, WallClock clock)
    : irq_(irq), clock_(std::move(clock)), timer_(loop) {
    const std::int64_t now = clock_();
    last_update_check_ns_ = now;
    last_periodic_check_ns_ = now;
    cmos_[kRegisterA] = kDivider32kHz | 0x06;  // 1024 Hz, the power-on rate firmware leaves
    cmos_[kRegisterB] = k24Hour;               // BCD
    cmos_[kRegisterD] = kValidRam;
    fill_memory_sizes(low_memory_bytes, high_memory_bytes);
}

RtcCmos::~RtcCmos() {
    std::lock_guard lock(mutex_);
    timer_.cancel();
}

void RtcCmos::fill_memory_sizes(std::uint64_t low_memory_bytes, std::uint64_t high_memory_bytes) {
    constexpr std::uint64_t kKiB = 1024;
    constexpr std::uint64_t k64KiB = 64 * kKiB;
    constexpr std::uint64_t kOneMiB = 1 << 20;
    constexpr std::uint64_t kSixteenMiB = 16 << 20;
    constexpr std::uint64_t k16BitCap = 0xFFFF;
    constexpr std::uint64_t k24BitCap = 0xFF'FFFF;
    const std::uint64_t extended_kib =
        std::min((low_memory_bytes > kOneMiB ? low_memory_bytes - kOneMiB : 0) / kKiB, k16BitCap);
    const std::uint64_t above_16m =
        std::min((low_memory_bytes > kSixteenMiB ? low_memory_bytes - kSixteenMiB : 0) / k64KiB, k16BitCap);
    put_le(cmos_, kBaseMemory, kBaseMemoryKiB, 2);
    put_le(cmos_, kExtendedMemory, extended_kib, 2);
    put_le(cmos_, kExtendedMemoryCopy, extended_kib, 2);
    put_le(cmos_, kMemoryAbove16M, above_16m, 2);
    put_le(cmos_, kMemoryAbove4G, std::min(high_memory_bytes / k64KiB, k24BitCap), 3);
}

std::uint64_t RtcCmos::read(const IoAccess& access) {
    if (access.size > kWidth || access.offset >= kWidth || access.offset + access.size > kWidth) {
        warn_rtc("read of size", access.size);
        return all_ones(access.size);
    }
    std::lock_guard lock(mutex_);
    const std::int64_t now = clock_();
    std::uint64_t value = 0;
    for (std::uint32_t i = 0; i < access.size; ++i) {
        // The index port is write-only.
        const std::uint8_t byte = access.offset + i == 0 ? 0xFF : read_register(index_, now);
        value |= std::uint64_t{byte} << (8 * i);
    }
    return value;
}

void RtcCmos::write(const IoAccess& access, std::uint64_t value) {
    if (access.size > kWidth || access.offset >= kWidth || access.offset + access.size > kWidth) {
        warn_rtc("write of size", access.size);
        return;
    }
    std::lock_guard lock(mutex_);
    const std::int64_t now = clock_();
    for (std::uint32_t i = 0; i < access.size; ++i) {
        const auto byte = static_cast<std::uint8_t>(value >> (8 * i));
        if (access.offset + i == 0) {
            index_ = byte & kIndexMask;
        } else {
            write_register(index_, byte, now);
        }
    }
}

std::uint8_t RtcCmos::read_register(std::uint8_t index, std::int64_t now) {
    if (is_time_register(index)) {
        if (clock_running()) {
            latch_time(guest_seconds(now));
        }
        return cmos_[index];
    }
    switch (index) {
        case kRegisterA: {
            const bool updating = clock_running() && now - floor_div(now, kNsPerSecond) * kNsPerSecond >=
                                                         kNsPerSecond - kUpdateInProgressNs;
            return static_cast<std::uint8_t>(cmos_[kRegisterA] | (updating ? kUpdateInProgress : 0));
        }
        case kRegisterC: {
            catch_up(now);
            const std::uint8_t flags = cmos_[kRegisterC];
            cmos_[kRegisterC] = 0;
            if (line_high_) {
                line_high_ = false;
                irq_.set(false);
            }
            return flags;
        }
        default: return cmos_[index];
    }
}

void RtcCmos::write_register(std::uint8_t index, std::uint8_t value, std::int64_t now) {
    if (is_time_register(index)) {
        if (!clock_running()) {
            cmos_[index] = value;  // taken in when SET is cleared
            return;
        }
        // Written while the clock runs: it goes on from the new value.
        latch_time(guest_seconds(now));
        cmos_[index] = value;
        take_time_from_registers(now);
        return;
    }
    switch (index) {
        case kRegisterA:
            catch_up(now);  // flags so far at the old rate
            cmos_[kRegisterA] = value & static_cast<std::uint8_t>(~kUpdateInProgress);
            arm_timer(now);
            return;
        case kRegisterB: write_register_b(value, now); return;
        case kRegisterC:
        case kRegisterD: warn_rtc("write to read-only register", index); return;
        default: cmos_[index] = value; return;
    }
}

void RtcCmos::write_register_b(std::uint8_t value, std::int64_t now) {
    catch_up(now);
    const bool was_running = clock_running();
    if ((value & kSet) != 0) {
        if (was_running) {
            latch_time(guest_seconds(now));  // in the format the guest read it in
        }
        value &= static_cast<std::uint8_t>(~kUpdateEnable);  // SET clears UIE (MC146818A, register B)
    }
    cmos_[kRegisterB] = value;
    if (!was_running && clock_running()) {
        take_time_from_registers(now);
        last_update_check_ns_ = now;
    }
    // An enable for a flag that is already set interrupts at once.
    update_interrupt();
    arm_timer(now);
}

void RtcCmos::on_time_set(TimeSetHook hook) {
    std::lock_guard lock(mutex_);
    time_set_hook_ = std::move(hook);
}

void RtcCmos::on_alarm(AlarmHook hook) {
    std::lock_guard lock(mutex_);
    alarm_hook_ = std::move(hook);
}

void RtcCmos::take_time_from_registers(std::int64_t now) {
    const std::int64_t before = guest_seconds(now);
    offset_seconds_ = time_from_registers() - floor_div(now, kNsPerSecond);
    if (time_set_hook_) {
        time_set_hook_(before, guest_seconds(now));
    }
}

std::int64_t RtcCmos::guest_seconds(std::int64_t now) const { return floor_div(now, kNsPerSecond) + offset_seconds_; }

void RtcCmos::latch_time(std::int64_t guest_time) {
    using namespace std::chrono;
    const Format format(cmos_[kRegisterB]);
    const sys_seconds time{seconds{guest_time}};
    const sys_days day = floor<days>(time);
    const year_month_day date{day};
    const hh_mm_ss clock{time - day};
    const int year = static_cast<int>(date.year());
    cmos_[kSeconds] = format.encode(static_cast<unsigned>(clock.seconds().count()));
    cmos_[kMinutes] = format.encode(static_cast<unsigned>(clock.minutes().count()));
    cmos_[kHours] = format.encode_hour(static_cast<unsigned>(clock.hours().count()));
    cmos_[kWeekday] = format.encode(weekday{day}.c_encoding() + 1);
    cmos_[kDay] = format.encode(static_cast<unsigned>(date.day()));
    cmos_[kMonth] = format.encode(static_cast<unsigned>(date.month()));
    cmos_[kYear] = format.encode(static_cast<unsigned>(year % 100));
    cmos_[platform::kRtcCenturyIndex] = format.encode(static_cast<unsigned>(year / 100));
}

std::int64_t RtcCmos::time_from_registers() const {
    // Whatever the guest wrote, even nonsense, gives some time; the
    // weekday register is ignored: it follows from the date.
    using namespace std::chrono;
    const Format format(cmos_[kRegisterB]);
    const int year_value = static_cast<int>(format.decode(cmos_[platform::kRtcCenturyIndex]) * 100 +
                                            format.decode(cmos_[kYear]));
    const unsigned month_value = std::clamp(format.decode(cmos_[kMonth]), 1u, 12u);
    const unsigned day_value = std::clamp(format.decode(cmos_[kDay]), 1u, 31u);
    const sys_days first = year_month_day{year{year_value}, month{month_value}, std::chrono::day{1}};
    const sys_days date = first + days{day_value - 1};
    const std::int64_t seconds_of_day = std::int64_t{format.decode_hour(cmos_[kHours])} * 3600 +
                                        std::int64_t{format.decode(cmos_[kMinutes])} * 60 +
                                        format.decode(cmos_[kSeconds]);
    return duration_cast<seconds>(date.time_since_epoch()).count() + seconds_of_day;
}

bool RtcCmos::alarm_matches(std::int64_t guest_time) {
    latch_time(guest_time);
    const auto matches = [this](std::uint8_t alarm, std::uint8_t time) {
        return cmos_[alarm] >= kAlarmDontCare || cmos_[alarm] == cmos_[time];
    };
    return matches(kSecondsAlarm, kSeconds) && matches(kMinutesAlarm, kMinutes) && matches(kHoursAlarm, kHours);
}

std::optional<std::int64_t> RtcCmos::next_alarm() {
    constexpr std::int64_t kSecondsPerDay = 86'400;
    std::lock_guard lock(mutex_);
    if (!clock_running() || (cmos_[kRegisterB] & kAlarmEnable) == 0) {
        return std::nullopt;
    }
    const Format format(cmos_[kRegisterB]);
    // -1: the byte matches every value.
    const auto wanted = [&](std::uint8_t index, bool hour) -> int {
        const std::uint8_t alarm = cmos_[index];
        if (alarm >= kAlarmDontCare) {
            return -1;
        }
        return static_cast<int>(hour ? format.decode_hour(alarm) : format.decode(alarm));
    };
    const int hour = wanted(kHoursAlarm, true);
    const int minute = wanted(kMinutesAlarm, false);
    const int second = wanted(kSecondsAlarm, false);
    const std::int64_t now = floor_div(clock_(), kNsPerSecond);
    for (std::int64_t ahead = 1; ahead <= kSecondsPerDay; ++ahead) {
        const std::int64_t guest_time = now + offset_seconds_ + ahead;
        const std::int64_t of_day = guest_time - floor_div(guest_time, kSecondsPerDay) * kSecondsPerDay;
        if ((hour < 0 || hour == of_day / 3600) && (minute < 0 || minute == of_day / 60 % 60) &&
            (second < 0 || second == of_day % 60)) {
            return now + ahead;
        }
    }
    return std::nullopt;  // a byte no time of day has (an hour of 24 and more, BCD digits above 9)
}

void RtcCmos::catch_up(std::int64_t now) {
    // A host clock that steps back yields no events until it catches up.
    if (clock_running() && now > last_update_check_ns_) {
        const std::int64_t last_second = floor_div(last_update_check_ns_, kNsPerSecond);
        const std::int64_t this_second = floor_div(now, kNsPerSecond);
        if (this_second > last_second) {
            cmos_[kRegisterC] |= kUpdateFlag;
            const std::int64_t first = std::max(last_second + 1, this_second - kAlarmLookbackSeconds + 1);
            for (std::int64_t second = first; second <= this_second; ++second) {
                if (alarm_matches(second + offset_seconds_)) {
                    const bool newly = (cmos_[kRegisterC] & kAlarmFlag) == 0;
                    cmos_[kRegisterC] |= kAlarmFlag;
                    if (newly && (cmos_[kRegisterB] & kAlarmEnable) != 0 && alarm_hook_) {
                        alarm_hook_();
                    }
                    break;
                }
            }
        }
    }
    last_update_check_ns_ = now;
    const std::int64_t period = periodic_ticks(cmos_[kRegisterA]);
    if (period != 0 && now > last_periodic_check_ns_ &&
        time_base_ticks(now) / period > time_base_ticks(last_periodic_check_ns_) / period) {
        cmos_[kRegisterC] |= kPeriodicFlag;
    }
    last_periodic_check_ns_ = now;
    update_interrupt();
}

void RtcCmos::update_interrupt() {
    const std::uint8_t enabled = cmos_[kRegisterB] & (kPeriodicEnable | kAlarmEnable | kUpdateEnable);
    // Register B's enables and C's flags share bit positions.
    if ((cmos_[kRegisterC] & enabled) == 0) {
        return;
    }
    cmos_[kRegisterC] |= kInterruptRequest;
    if (!line_high_) {
        line_high_ = true;
        irq_.set(true);
    }
}

void RtcCmos::arm_timer(std::int64_t now) {
    std::int64_t next = INT64_MAX;
    if (clock_running() && (cmos_[kRegisterB] & (kUpdateEnable | kAlarmEnable)) != 0) {
        next = (floor_div(now, kNsPerSecond) + 1) * kNsPerSecond;
    }
    const std::int64_t period = periodic_ticks(cmos_[kRegisterA]);
    if (period != 0 && (cmos_[kRegisterB] & kPeriodicEnable) != 0) {
        next = std::min(next, ticks_to_ns((time_base_ticks(now) / period + 1) * period));
    }
    if (next == INT64_MAX) {
        timer_.cancel();
        return;
    }
    timer_.expires_after(std::chrono::nanoseconds(std::max<std::int64_t>(next - now, 1)));
    timer_.async_wait([this, alive = std::weak_ptr<int>(alive_)](const boost::system::error_code& error) {
        if (!error && !alive.expired()) {
            on_timer();
        }
    });
}

void RtcCmos::on_timer() {
    std::lock_guard lock(mutex_);
    const std::int64_t now = clock_();
    catch_up(now);
    arm_timer(now);
}

}  // namespace acrn::dm
