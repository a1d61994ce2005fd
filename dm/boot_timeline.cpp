#include "dm/boot_timeline.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "common/log.hpp"

namespace acrn::dm {

const char* to_string(BootPhase phase) noexcept {
    switch (phase) {
        case BootPhase::dm_started: return "acrn-dm started";
        case BootPhase::options_checked: return "options checked";
        case BootPhase::images_read: return "boot images read";
        case BootPhase::kernel_unpacked: return "kernel unpacked on the host";
        case BootPhase::memory_ready: return "guest memory ready";
        case BootPhase::vm_created: return "VM created";
        case BootPhase::devices_built: return "devices built";
        case BootPhase::images_loaded: return "boot images loaded";
        case BootPhase::vm_started: return "VM started";
        case BootPhase::first_console_output: return "first console output";
        case BootPhase::marker_seen: return "boot marker on the console";
    }
    return "?";
}

BootTimeline::BootTimeline(Clock::time_point origin, std::string marker)
    : origin_(origin), marker_(std::move(marker)) {
    reached_[static_cast<std::size_t>(BootPhase::dm_started)] = std::chrono::nanoseconds::zero();
}

std::optional<std::chrono::nanoseconds> BootTimeline::record(BootPhase phase, Clock::time_point when) {
    auto& slot = reached_[static_cast<std::size_t>(phase)];
    if (slot) {
        return std::nullopt;
    }
    slot = std::max(std::chrono::nanoseconds::zero(), std::chrono::nanoseconds(when - origin_));
    return slot;
}

void BootTimeline::log_phase(BootPhase phase, std::chrono::nanoseconds since) {
    log_info("boot: {} at +{:.1f} ms", to_string(phase), static_cast<double>(since.count()) / 1e6);
}

void BootTimeline::reached(BootPhase phase, Clock::time_point when) {
    std::optional<std::chrono::nanoseconds> since;
    {
        std::lock_guard lock(mutex_);
        since = record(phase, when);
    }
    if (since) {
        log_phase(phase, *since);
    }
}

void BootTimeline::console_output(std::span<const std::uint8_t> bytes) {
    if (bytes.empty()) {
        return;
    }
    std::vector<std::pair<BootPhase, std::chrono::nanoseconds>> to_log;
    {
        std::lock_guard lock(mutex_);
        const auto now = Clock::now();
        if (record(BootPhase::first_console_output, now)) {
            to_log_at_line_end_.push_back(BootPhase::first_console_output);
        }
        const bool watching = !marker_.empty() && !reached_[static_cast<std::size_t>(BootPhase::marker_seen)];
        if (!watching && to_log_at_line_end_.empty()) {
            return;
        }
        for (const std::uint8_t byte : bytes) {
            if (byte == '\n' || byte == '\r') {
                line_.clear();
                for (const BootPhase phase : to_log_at_line_end_) {
                    to_log.emplace_back(phase, *reached_[static_cast<std::size_t>(phase)]);
                }
                to_log_at_line_end_.clear();
                continue;
            }
            if (marker_.empty() || reached_[static_cast<std::size_t>(BootPhase::marker_seen)]) {
                continue;
            }
            if (line_.size() < kLongestLine) {
                line_.push_back(static_cast<char>(byte));
            }
            // Reached as soon as the line holds it (logged as the line ends).
            if (line_.size() >= marker_.size() &&
                line_.compare(line_.size() - marker_.size(), marker_.size(), marker_) == 0) {
                (void)record(BootPhase::marker_seen, now);
                to_log_at_line_end_.push_back(BootPhase::marker_seen);
                line_.clear();
                line_.shrink_to_fit();
            }
        }
    }
    for (const auto& [phase, since] : to_log) {
        log_phase(phase, since);
    }
}

std::optional<std::chrono::nanoseconds> BootTimeline::at(BootPhase phase) const {
    std::lock_guard lock(mutex_);
    return reached_[static_cast<std::size_t>(phase)];
}

nlohmann::json BootTimeline::to_json() const {
    std::vector<std::pair<std::chrono::nanoseconds, BootPhase>> phases;
    {
        std::lock_guard lock(mutex_);
        for (std::size_t i = 0; i < kBootPhases; ++i) {
            if (reached_[i]) {
                phases.emplace_back(*reached_[i], static_cast<BootPhase>(i));
            }
        }
    }
    std::stable_sort(phases.begin(), phases.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    nlohmann::json out = nlohmann::json::array();
    for (const auto& [since, phase] : phases) {
        out.push_back({{"phase", to_string(phase)}, {"ms", static_cast<double>(since.count()) / 1e6}});
    }
    return out;
}

}  // namespace acrn::dm
