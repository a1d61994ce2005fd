#include "dm/devices/acpi_pm_control.hpp"

#include "common/log.hpp"

namespace acrn::dm {

std::uint64_t AcpiPmControl::read(const IoAccess& access) {
    std::lock_guard lock(mutex_);
    return (value_ >> (8 * access.offset)) & all_ones(access.size);
}

void AcpiPmControl::write(const IoAccess& access, std::uint64_t value) {
    std::uint16_t now = 0;
    {
        std::lock_guard lock(mutex_);
        const auto shift = static_cast<unsigned>(8 * access.offset);
        const auto mask = static_cast<std::uint16_t>(all_ones(access.size) << shift);
        value_ = static_cast<std::uint16_t>((value_ & ~mask) | ((value << shift) & mask));
        now = value_;
        value_ &= static_cast<std::uint16_t>(~kSleepEnable);  // SLP_EN is write-only
    }
    if ((now & kSleepEnable) == 0) {
        return;
    }
    const unsigned sleep_type = (now >> kSleepTypeShift) & 0x7;
    if (sleep_type == kSleepTypeS5) {
        power_.request_power_off(0, "guest entered ACPI S5 (soft off)");
    } else {
        static RateLimiter limiter;
        if (limiter.allow()) {
            log_warning("ACPI: sleep type {} is not supported; ignored", sleep_type);
        }
    }
}

}  // namespace acrn::dm
