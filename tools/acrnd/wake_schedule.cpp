#include "tools/acrnd/wake_schedule.hpp"

namespace acrn::tools {

std::vector<WakeDecision> decide_wake_alarms(const std::vector<WakeAlarm>& alarms, std::int64_t now,
                                             const VmFacts& facts) {
    std::vector<WakeDecision> decisions;
    for (const WakeAlarm& alarm : alarms) {
        if (alarm.time > now) {
            continue;
        }
        WakeDecision::Kind kind = WakeDecision::Kind::start;
        if (facts.running(alarm.vm)) {
            kind = now - alarm.time > kStillRunningGraceSeconds ? WakeDecision::Kind::drop_running
                                                                : WakeDecision::Kind::wait;
        } else if (!facts.configured(alarm.vm)) {
            kind = WakeDecision::Kind::drop_unknown;
        }
        decisions.push_back({kind, alarm});
    }
    return decisions;
}

}  // namespace acrn::tools
