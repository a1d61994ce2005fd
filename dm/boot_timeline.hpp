// When each phase of a boot was reached, from acrn-dm's start (or, after a
// guest reset, from the reset): logged at info level as it happens, and
// served by the command monitor's `query`. The console phases come from
// the guest's COM port output: its first byte, and the first line that
// holds the text `--boot_marker` names (a line the guest's /init prints,
// say); they are logged at the end of their line, so that the log line does
// not land inside the guest's when both go to one terminal. Thread-safe: the
// console phases arrive on the ioreq thread.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace acrn::dm {

enum class BootPhase : std::uint8_t {
    dm_started,
    options_checked,
    images_read,
    kernel_unpacked,  // -k's payload unpacked on the host, or taken from the kernel cache
    memory_ready,
    vm_created,
    devices_built,
    images_loaded,
    vm_started,  // the vCPUs enter the guest: the kernel's entry for -k, the ELF's for -E
    first_console_output,
    marker_seen,
};
inline constexpr std::size_t kBootPhases = 11;

[[nodiscard]] const char* to_string(BootPhase phase) noexcept;

class BootTimeline {
public:
    using Clock = std::chrono::steady_clock;
    static constexpr std::size_t kLongestLine = 4096;  // a longer console line is cut there for the marker

    // `origin` is phase dm_started.
    explicit BootTimeline(Clock::time_point origin, std::string marker = {});

    // The first time each phase is reached counts; later calls do nothing.
    void reached(BootPhase phase, Clock::time_point when = Clock::now());
    // The guest's console output, byte by byte or in pieces.
    void console_output(std::span<const std::uint8_t> bytes);

    [[nodiscard]] std::optional<std::chrono::nanoseconds> at(BootPhase phase) const;
    // [{"phase": "VM created", "ms": 12.3}, ...] in the order reached.
    [[nodiscard]] nlohmann::json to_json() const;

private:
    // The time since the origin if this is the first time `phase` is reached.
    [[nodiscard]] std::optional<std::chrono::nanoseconds> record(BootPhase phase, Clock::time_point when);
    static void log_phase(BootPhase phase, std::chrono::nanoseconds since);

    const Clock::time_point origin_;
    const std::string marker_;

    mutable std::mutex mutex_;
    std::array<std::optional<std::chrono::nanoseconds>, kBootPhases> reached_{};
    std::string line_;  // the console line so far, while the marker is still to come
    std::vector<BootPhase> to_log_at_line_end_;
};

}  // namespace acrn::dm
