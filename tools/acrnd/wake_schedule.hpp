// What acrnd does, at a given time, with the wake alarms that VMs left when
// they powered off (common/wake_alarms.hpp). Kept apart from acrnd's loop so
// that a test decides with made-up times and VMs.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/wake_alarms.hpp"

namespace acrn::tools {

struct WakeDecision {
    enum class Kind {
        start,         // due: remove the alarm and start the VM
        wait,          // due, but the VM still runs (its acrn-dm is ending): ask again later
        drop_running,  // due long ago and the VM runs: someone started it; remove the alarm
        drop_unknown,  // due, but no args file says how to start the VM; remove the alarm
    };
    Kind kind;
    WakeAlarm alarm;
};

// How long after its alarm time a VM that still runs is waited for.
inline constexpr std::int64_t kStillRunningGraceSeconds = 60;
// An alarm this far behind when acrnd starts its VM passed while acrnd did not run.
inline constexpr std::int64_t kLateSeconds = 10;

struct VmFacts {
    std::function<bool(const std::string& vm)> running;
    std::function<bool(const std::string& vm)> configured;
};

// A decision for each alarm due at `now` (seconds since the epoch), in the
// alarms' order; the ones not due yet get none.
[[nodiscard]] std::vector<WakeDecision> decide_wake_alarms(const std::vector<WakeAlarm>& alarms, std::int64_t now,
                                                           const VmFacts& facts);

}  // namespace acrn::tools
