// Logging with ACRN's five levels (1 error, 2 warning, 3 notice, 4 info,
// 5 debug). A message is filtered on ACRN's numeric level first and only then
// handed to spdlog, so that notice and info stay distinct although spdlog
// maps both to "info".
#pragma once

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <utility>

namespace acrn {

enum class LogLevel : int { error = 1, warning = 2, notice = 3, info = 4, debug = 5 };

namespace detail {
inline std::atomic<int> console_level{static_cast<int>(LogLevel::info)};
// The ACRN level of the message being logged on this thread, for a sink
// that keeps notice apart from info (the journal's priorities do).
inline thread_local LogLevel message_level = LogLevel::info;

constexpr spdlog::level::level_enum to_spdlog(LogLevel level) noexcept {
    switch (level) {
        case LogLevel::error: return spdlog::level::err;
        case LogLevel::warning: return spdlog::level::warn;
        case LogLevel::notice:
        case LogLevel::info: return spdlog::level::info;
        case LogLevel::debug: return spdlog::level::debug;
    }
    return spdlog::level::info;
}
}  // namespace detail

inline void set_console_log_level(int level) noexcept { detail::console_level.store(level); }
[[nodiscard]] inline bool log_enabled(LogLevel level) noexcept {
    return static_cast<int>(level) <= detail::console_level.load(std::memory_order_relaxed);
}

template <typename... Args>
void log(LogLevel level, spdlog::format_string_t<Args...> format, Args&&... args) {
    if (log_enabled(level)) {
        detail::message_level = level;
        spdlog::log(detail::to_spdlog(level), format, std::forward<Args>(args)...);
    }
}

template <typename... Args>
void log_error(spdlog::format_string_t<Args...> format, Args&&... args) {
    log(LogLevel::error, format, std::forward<Args>(args)...);
}
template <typename... Args>
void log_warning(spdlog::format_string_t<Args...> format, Args&&... args) {
    log(LogLevel::warning, format, std::forward<Args>(args)...);
}
template <typename... Args>
void log_notice(spdlog::format_string_t<Args...> format, Args&&... args) {
    log(LogLevel::notice, format, std::forward<Args>(args)...);
}
template <typename... Args>
void log_info(spdlog::format_string_t<Args...> format, Args&&... args) {
    log(LogLevel::info, format, std::forward<Args>(args)...);
}
template <typename... Args>
void log_debug(spdlog::format_string_t<Args...> format, Args&&... args) {
    log(LogLevel::debug, format, std::forward<Args>(args)...);
}

// Lets through at most `burst` messages per `period`; for anything a guest
// can trigger at will, so a misbehaving guest cannot flood the log.
class RateLimiter {
public:
    explicit RateLimiter(unsigned burst = 10, std::chrono::milliseconds period = std::chrono::seconds(5))
        : burst_(burst), period_(period) {}

    [[nodiscard]] bool allow() noexcept {
        const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
        const auto period_ticks =
            std::chrono::duration_cast<std::chrono::steady_clock::duration>(period_).count();
        auto start = window_start_.load(std::memory_order_relaxed);
        if (now - start >= period_ticks && window_start_.compare_exchange_strong(start, now)) {
            count_.store(0, std::memory_order_relaxed);
        }
        return count_.fetch_add(1, std::memory_order_relaxed) < burst_;
    }

private:
    const unsigned burst_;
    const std::chrono::milliseconds period_;
    std::atomic<long long> window_start_{0};
    std::atomic<unsigned> count_{0};
};

}  // namespace acrn
