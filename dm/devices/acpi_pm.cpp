#include "dm/devices/acpi_pm.hpp"

#include <time.h>

#include "common/log.hpp"

namespace acrn::dm {
namespace {

constexpr std::uint64_t kNanosecondsPerSecond = 1'000'000'000;

// Every enable but TMR_EN (see the header) holds what the guest writes:
// ACPICA reads GBL_EN and RTC_EN back to check that the hardware is there.
// GBL's event never fires (no firmware shares the global lock), so the SCI
// sees the power button and the RTC's alarm (rtc_alarm).
constexpr std::uint16_t kWritableEnables = AcpiPm::kPowerButtonEnable | AcpiPm::kGlobalLockEnable |
                                           AcpiPm::kSleepButtonEnable | AcpiPm::kRtcEnable |
                                           AcpiPm::kPciExpressWakeDisable;
constexpr std::uint16_t kWriteOneToClear =
    AcpiPm::kTimerStatus | AcpiPm::kPowerButtonStatus | AcpiPm::kSleepButtonStatus | AcpiPm::kRtcStatus |
    AcpiPm::kWakeStatus;
constexpr std::uint16_t kStoredControl = AcpiPm::kSciEnable | AcpiPm::kSleepTypeMask;

[[nodiscard]] bool fits(const IoAccess& access, std::uint16_t width) {
    return access.size >= 1 && access.size <= 4 && access.offset < width && access.offset + access.size <= width;
}

void warn_bad_access(const char* what, const IoAccess& access) {
    static RateLimiter limiter;
    if (limiter.allow()) {
        log_warning("ACPI PM: {} of {} byte(s) at port {:#x} ignored", what, access.size, access.address);
    }
}

// Replaces `size` bytes of `reg` from byte `offset` on with `value`.
[[nodiscard]] std::uint16_t merge(std::uint16_t reg, std::uint64_t offset, std::uint32_t size, std::uint64_t value) {
    const auto shift = static_cast<unsigned>(8 * offset);
    const std::uint64_t mask = (all_ones(size) << shift) & 0xFFFF;
    return static_cast<std::uint16_t>((reg & ~mask) | ((value << shift) & mask));
}

}  // namespace

std::uint64_t AcpiPm::monotonic_clock_ns() {
    timespec now{};
    ::clock_gettime(CLOCK_MONOTONIC, &now);
    return static_cast<std::uint64_t>(now.tv_sec) * kNanosecondsPerSecond + static_cast<std::uint64_t>(now.tv_nsec);
}

AcpiPm::AcpiPm(LineSource& sci, PowerControl& power, Clock clock)
    : sci_(sci), power_(power), clock_(std::move(clock)) {}

std::uint64_t AcpiPm::read(const IoAccess& access) {
    const std::uint64_t base = access.address - access.offset;
    const auto shift = static_cast<unsigned>(8 * access.offset);
    std::lock_guard lock(mutex_);
    switch (base) {
        case platform::kPm1aEventBlock:
            if (fits(access, platform::kPm1aEventLength)) {
                const std::uint32_t block = status_ | (std::uint32_t{enable_} << 16);
                return (block >> shift) & all_ones(access.size);
            }
            break;
        case platform::kPm1aControlBlock:
            if (fits(access, platform::kPm1aControlLength)) {
                return (control_ >> shift) & all_ones(access.size);
            }
            break;
        case platform::kPmTimerBlock:
            if (fits(access, platform::kPmTimerLength)) {
                return (timer_value() >> shift) & all_ones(access.size);
            }
            break;
        case platform::kSmiCommandPort:
            if (fits(access, 1)) {
                return 0;
            }
            break;
        default: break;
    }
    warn_bad_access("read", access);
    return all_ones(access.size);
}

void AcpiPm::write(const IoAccess& access, std::uint64_t value) {
    const std::uint64_t base = access.address - access.offset;
    if (base == platform::kPm1aControlBlock && fits(access, platform::kPm1aControlLength)) {
        write_control(access.offset, access.size, value);
        return;
    }
    std::lock_guard lock(mutex_);
    switch (base) {
        case platform::kPm1aEventBlock:
            if (fits(access, platform::kPm1aEventLength)) {
                write_event_block(access.offset, access.size, value);
                update_sci();
                return;
            }
            break;
        case platform::kPmTimerBlock:
            if (fits(access, platform::kPmTimerLength)) {
                return;  // read-only
            }
            break;
        case platform::kSmiCommandPort:
            if (fits(access, 1)) {
                write_smi_command(static_cast<std::uint8_t>(value));
                update_sci();
                return;
            }
            break;
        default: break;
    }
    warn_bad_access("write", access);
}

bool AcpiPm::press_power_button() { return press(kPowerButtonStatus, kPowerButtonEnable); }

bool AcpiPm::press_sleep_button() { return press(kSleepButtonStatus, kSleepButtonEnable); }

bool AcpiPm::press(std::uint16_t status_bit, std::uint16_t enable_bit) {
    std::lock_guard lock(mutex_);
    status_ |= status_bit;
    update_sci();
    return (control_ & kSciEnable) != 0 && (enable_ & enable_bit) != 0;
}

void AcpiPm::rtc_alarm() {
    bool wake_enabled = false;
    {
        std::lock_guard lock(mutex_);
        status_ |= kRtcStatus;
        update_sci();
        wake_enabled = (enable_ & kRtcEnable) != 0;
    }
    if (wake_enabled) {
        power_.rtc_wake();
    }
}

void AcpiPm::wake() {
    std::lock_guard lock(mutex_);
    status_ |= kWakeStatus;
}

bool AcpiPm::acpi_enabled() const {
    std::lock_guard lock(mutex_);
    return (control_ & kSciEnable) != 0;
}

bool AcpiPm::rtc_wake_enabled() const {
    std::lock_guard lock(mutex_);
    return (enable_ & kRtcEnable) != 0;
}

std::uint32_t AcpiPm::timer_value() const {
    // ticks = ns * Hz / 1e9, split so that the product cannot overflow.
    const std::uint64_t ns = clock_();
    const std::uint64_t ticks = (ns / kNanosecondsPerSecond) * platform::kPmTimerHz +
                                (ns % kNanosecondsPerSecond) * platform::kPmTimerHz / kNanosecondsPerSecond;
    return static_cast<std::uint32_t>(ticks & kTimerMask);
}

void AcpiPm::write_event_block(std::uint64_t offset, std::uint32_t size, std::uint64_t value) {
    // PM1_STS occupies bytes 0-1 and PM1_EN bytes 2-3; one access may
    // touch both.
    for (std::uint32_t i = 0; i < size; ++i) {
        const std::uint64_t position = offset + i;
        const std::uint16_t byte = (value >> (8 * i)) & 0xFF;
        if (position < 2) {
            const auto cleared = static_cast<std::uint16_t>((byte << (8 * position)) & kWriteOneToClear);
            status_ &= static_cast<std::uint16_t>(~cleared);
        } else {
            enable_ = merge(enable_, position - 2, 1, byte) & kWritableEnables;
        }
    }
}

void AcpiPm::write_control(std::uint64_t offset, std::uint32_t size, std::uint64_t value) {
    std::uint16_t written = 0;
    {
        std::lock_guard lock(mutex_);
        written = merge(control_, offset, size, value);
        control_ = written & kStoredControl;  // SLP_EN, GBL_RLS and BM_RLD are write-only
        update_sci();
    }
    // Power requests leave the lock: the session acts on them later.
    if ((written & kSleepEnable) == 0) {
        return;
    }
    const unsigned sleep_type = (written & kSleepTypeMask) >> kSleepTypeShift;
    if (sleep_type == platform::kSleepTypeS5) {
        power_.guest_soft_off();
    } else if (sleep_type == platform::kSleepTypeS3 && power_.guest_suspend()) {
        return;
    } else {
        static RateLimiter limiter;
        if (limiter.allow()) {
            log_warning("ACPI PM: sleep type {} is not supported; ignored", sleep_type);
        }
    }
}

void AcpiPm::write_smi_command(std::uint8_t command) {
    // The firmware's SMI handler would hand the fixed hardware to OSPM
    // (ACPI 6.4, 4.8.2.1); here the port does it.
    if (command == platform::kAcpiEnable) {
        control_ |= kSciEnable;
    } else if (command == platform::kAcpiDisable) {
        control_ &= static_cast<std::uint16_t>(~kSciEnable);
    } else {
        static RateLimiter limiter;
        if (limiter.allow()) {
            log_warning("ACPI PM: unknown SMI command {:#x} ignored", command);
        }
    }
}

void AcpiPm::update_sci() {
    // A level-triggered SCI (ACPI 6.4, 4.8.2.1): asserted while an enabled
    // status bit is set and the platform is in ACPI mode.
    const bool high = (control_ & kSciEnable) != 0 && (status_ & enable_) != 0;
    if (high != sci_high_) {
        sci_high_ = high;
        sci_.set(high);
    }
}

}  // namespace acrn::dm
