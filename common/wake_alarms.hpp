// The VMs to start at a time: ACRN's acrnd timer list, kept where a reboot
// of the Service OS does not lose it. A guest that powers itself off (S5)
// with its RTC alarm set to wake it leaves that time here: acrn-dm writes
// one file per VM, DIR/NAME, holding the time in seconds since the epoch
// (UTC), and acrnd starts the VM then (at once if the time passed while
// nothing ran). acrn-dm removes its VM's file when it starts the VM, so a
// VM started by hand before its alarm is not started a second time.
// DIR is $ACRN_WAKE_DIR, default /var/lib/acrn/wake.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace acrn {

struct WakeAlarm {
    std::string vm;
    std::int64_t time = 0;  // seconds since the epoch, UTC
};

struct WakeAlarmList {
    std::vector<WakeAlarm> alarms;   // sorted by time
    std::vector<std::string> problems;  // files that hold no time, each with why
};

[[nodiscard]] std::string wake_alarm_dir();
// Writes DIR/VM through a renamed temporary (creating DIR); throws
// std::system_error naming the file if it cannot.
void record_wake_alarm(const std::string& dir, const std::string& vm, std::int64_t time);
// True if VM had an alarm, which is gone now.
bool clear_wake_alarm(const std::string& dir, const std::string& vm);
[[nodiscard]] std::optional<std::int64_t> read_wake_alarm(const std::string& dir, const std::string& vm);
// Every alarm in DIR; none if DIR is missing.
[[nodiscard]] WakeAlarmList read_wake_alarms(const std::string& dir);
// "2026-12-03 20:15:00 UTC"
[[nodiscard]] std::string utc_time_text(std::int64_t time);

}  // namespace acrn
