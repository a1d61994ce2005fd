// The interrupt-storm monitor of one VM (`--intr_monitor`, ACRN's
// threshold/s, probe period, delay time and delay duration). Every probe
// period it reads each interrupt source's injection count; a source whose
// count rose by more than threshold × period is throttled: its injections
// are held for the delay time and merged (InterruptSource::throttle) for the
// delay duration. Then throttling ends by itself, because while a source is
// throttled its rate no longer tells whether the storm is over, and the
// source is probed again from that moment: a storm still there is caught
// at the next probe.
//
// Unlike ACRN, throttling is per source: a quiet source beside a storming
// one is never delayed (docs/acrn-differences.md).
//
// Everything here runs on the timers' thread (the main event loop in
// acrn-dm); the sources are raised from any thread meanwhile.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/log.hpp"
#include "dm/irq/delay_timers.hpp"

namespace acrn::dm {

class InterruptSource;
class InterruptSources;

struct StormSettings {
    std::uint32_t threshold_per_s = 0;
    std::chrono::seconds probe_period{0};
    std::chrono::milliseconds delay_time{0};
    std::chrono::milliseconds delay_duration{0};
};

// One source as the monitor sees it, for logs, tests and (later) counters.
struct StormReport {
    std::string name;
    double last_rate_per_s = 0;  // over the last probe window
    bool throttled = false;
    DelayTimers::Clock::time_point throttled_since{};
    std::uint64_t storms = 0;  // times it was throttled
    std::uint64_t delayed = 0;
    std::uint64_t merged = 0;
};

class StormMonitor {
public:
    // The monitor owns its timers: their callbacks die with it.
    StormMonitor(InterruptSources& sources, std::unique_ptr<DelayTimers> timers, const StormSettings& settings);
    StormMonitor(const StormMonitor&) = delete;
    StormMonitor& operator=(const StormMonitor&) = delete;
    // Unthrottles every source (what is held is delivered) before the timers go.
    ~StormMonitor();

    // Takes every source's count as the baseline and arms the first probe.
    void start();
    [[nodiscard]] std::vector<StormReport> report() const;

private:
    struct Watch {
        std::uint64_t baseline = 0;
        DelayTimers::Clock::time_point window_start{};
        double last_rate_per_s = 0;
        bool throttled = false;
        DelayTimers::Clock::time_point throttled_since{};
        std::uint64_t storms = 0;
        std::uint64_t delayed_before = 0;  // the source's delayed count when throttling began
        std::uint64_t merged_before = 0;
        RateLimiter log_limit{4, std::chrono::seconds(60)};
    };

    void probe();
    void begin_throttling(InterruptSource& source, Watch& watch, DelayTimers::Clock::time_point now);
    void end_throttling(InterruptSource& source);
    Watch& watch_of(InterruptSource& source, DelayTimers::Clock::time_point now);

    InterruptSources& sources_;
    const std::unique_ptr<DelayTimers> timers_;
    const StormSettings settings_;
    std::map<InterruptSource*, Watch> watches_;
};

}  // namespace acrn::dm
