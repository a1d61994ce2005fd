#include "dm/devices/reset_control.hpp"

#include <spdlog/fmt/fmt.h>

#include "common/log.hpp"

namespace acrn::dm {
namespace {

constexpr std::uint8_t kStoredBits = ResetControl::kSystemReset | ResetControl::kResetCpu | ResetControl::kFullReset;

[[nodiscard]] bool is_register(const IoAccess& access) { return access.offset == 0 && access.size == 1; }

void warn_bad_access(const char* what, const IoAccess& access) {
    static RateLimiter limiter;
    if (limiter.allow()) {
        log_warning("reset control: {} of {} byte(s) at port {:#x} ignored", what, access.size, access.address);
    }
}

}  // namespace

std::uint64_t ResetControl::read(const IoAccess& access) {
    if (!is_register(access)) {
        warn_bad_access("read", access);
        return all_ones(access.size);
    }
    std::lock_guard lock(mutex_);
    return value_;
}

void ResetControl::write(const IoAccess& access, std::uint64_t value) {
    if (!is_register(access)) {
        warn_bad_access("write", access);
        return;
    }
    const auto byte = static_cast<std::uint8_t>(value & kStoredBits);
    {
        std::lock_guard lock(mutex_);
        value_ = byte;
    }
    if ((byte & kResetCpu) == 0) {
        return;  // Linux writes SYS_RST first and RST_CPU a moment later
    }
    const bool full = (byte & kFullReset) != 0;
    const char* kind = full ? "full reset" : (byte & kSystemReset) != 0 ? "hard reset" : "soft reset";
    power_.request_reset(fmt::format("guest wrote {:#04x} to 0xCF9: {}", byte, kind));
}

}  // namespace acrn::dm
