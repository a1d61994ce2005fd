#include "dm/irq/storm_monitor.hpp"

#include "dm/irq/interrupt_sources.hpp"

namespace acrn::dm {
namespace {

using Clock = DelayTimers::Clock;

double seconds_between(Clock::time_point from, Clock::time_point to) {
    return std::chrono::duration<double>(to - from).count();
}

long long milliseconds_between(Clock::time_point from, Clock::time_point to) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(to - from).count();
}

}  // namespace

StormMonitor::StormMonitor(InterruptSources& sources, std::unique_ptr<DelayTimers> timers,
                           const StormSettings& settings)
    : sources_(sources), timers_(std::move(timers)), settings_(settings) {}

StormMonitor::~StormMonitor() {
    for (auto& [source, watch] : watches_) {
        if (watch.throttled) {
            source->unthrottle();
        }
    }
}

void StormMonitor::start() {
    const Clock::time_point now = timers_->now();
    for (InterruptSource* source : sources_.all()) {
        (void)watch_of(*source, now);
    }
    log_info("interrupt-storm monitor: throttling a source above {} interrupts/s (probed every {} s) for {} ms, "
             "delaying its interrupts by {} ms",
             settings_.threshold_per_s, settings_.probe_period.count(), settings_.delay_duration.count(),
             settings_.delay_time.count());
    timers_->call_after(settings_.probe_period, [this] { probe(); });
}

StormMonitor::Watch& StormMonitor::watch_of(InterruptSource& source, Clock::time_point now) {
    auto [found, added] = watches_.try_emplace(&source);
    if (added) {
        found->second.baseline = source.injections();
        found->second.window_start = now;
    }
    return found->second;
}

void StormMonitor::probe() {
    const Clock::time_point now = timers_->now();
    for (InterruptSource* source : sources_.all()) {
        Watch& watch = watch_of(*source, now);
        if (watch.throttled) {
            continue;
        }
        const double window_s = seconds_between(watch.window_start, now);
        const std::uint64_t count = source->injections();
        const std::uint64_t delta = count - watch.baseline;
        watch.baseline = count;
        watch.window_start = now;
        if (window_s <= 0) {
            continue;  // added just now
        }
        watch.last_rate_per_s = static_cast<double>(delta) / window_s;
        // ACRN's limit, threshold × period, for a full window; a window that
        // began when throttling ended mid-period gets its share of it.
        if (static_cast<double>(delta) > static_cast<double>(settings_.threshold_per_s) * window_s) {
            begin_throttling(*source, watch, now);
        }
    }
    timers_->call_after(settings_.probe_period, [this] { probe(); });
}

void StormMonitor::begin_throttling(InterruptSource& source, Watch& watch, Clock::time_point now) {
    watch.throttled = true;
    watch.throttled_since = now;
    ++watch.storms;
    watch.delayed_before = source.delayed();
    watch.merged_before = source.merged();
    source.throttle(*timers_, settings_.delay_time);
    if (watch.log_limit.allow()) {
        log_notice("interrupt storm: {} raised {:.0f} interrupts/s (threshold {}/s): its interrupts are delayed by "
                   "{} ms for {} ms",
                   source.name(), watch.last_rate_per_s, settings_.threshold_per_s, settings_.delay_time.count(),
                   settings_.delay_duration.count());
    }
    timers_->call_after(settings_.delay_duration, [this, &source] { end_throttling(source); });
}

void StormMonitor::end_throttling(InterruptSource& source) {
    const Clock::time_point now = timers_->now();
    Watch& watch = watch_of(source, now);
    source.unthrottle();
    watch.throttled = false;
    watch.baseline = source.injections();
    watch.window_start = now;
    if (watch.log_limit.allow()) {
        log_notice("interrupt storm: {}: throttling over after {} ms ({} interrupts delayed, {} of them merged); "
                   "probing it again",
                   source.name(), milliseconds_between(watch.throttled_since, now),
                   source.delayed() - watch.delayed_before, source.merged() - watch.merged_before);
    }
}

std::vector<StormReport> StormMonitor::report() const {
    std::vector<StormReport> result;
    for (InterruptSource* source : sources_.all()) {
        const auto found = watches_.find(source);
        if (found == watches_.end()) {
            continue;
        }
        const Watch& watch = found->second;
        result.push_back(StormReport{source->name(), watch.last_rate_per_s, watch.throttled, watch.throttled_since,
                                     watch.storms, source->delayed(), source->merged()});
    }
    return result;
}

}  // namespace acrn::dm
