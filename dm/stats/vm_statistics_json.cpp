#include "dm/stats/vm_statistics_json.hpp"

#include <nlohmann/json.hpp>

namespace acrn::dm {
namespace {

using nlohmann::json;

// Only the buckets that hold samples: [lower bound in ns, count].
json histogram(const LatencySnapshot& snapshot) {
    json buckets = json::array();
    for (int bucket = 0; bucket < LatencySnapshot::kBuckets; ++bucket) {
        if (snapshot.counts[bucket] != 0) {
            buckets.push_back(json::array({LatencySnapshot::lower_bound_ns(bucket), snapshot.counts[bucket]}));
        }
    }
    return json{{"count", snapshot.count()},
                {"min_ns", snapshot.min_ns},
                {"median_ns", snapshot.percentile_ns(0.5)},
                {"p99_ns", snapshot.percentile_ns(0.99)},
                {"max_ns", snapshot.max_ns},
                {"total_ns", snapshot.total_ns},
                {"buckets", std::move(buckets)}};
}

}  // namespace

json to_json(const VmStatistics& statistics) {
    json out{{"vm", statistics.vm_name},
             {"uptime_ns", statistics.uptime.count()},
             {"completion", statistics.polling ? "polling" : "notification"},
             {"requests_served", statistics.requests_served}};
    if (statistics.hypervisor) {
        json exits = json::object();
        for (std::size_t kind = 0; kind < kVcpuExitKinds; ++kind) {
            exits[to_string(static_cast<VcpuExit>(kind))] = statistics.hypervisor->exits[kind];
        }
        out["vcpu_exits"] = std::move(exits);
        out["ioreq_round_trips"] = json{{"polled", histogram(statistics.hypervisor->ioreq_polled)},
                                        {"notified", histogram(statistics.hypervisor->ioreq_notified)}};
    }
    json requests = json::array();
    for (const RequestCounts::Count& count : statistics.requests) {
        requests.push_back(
            json{{"device", count.owner}, {"pio", count.pio}, {"mmio", count.mmio}, {"pci_config", count.pci_config}});
    }
    out["requests"] = std::move(requests);
    json interrupts = json::array();
    for (const InterruptSourceStats& source : statistics.interrupts) {
        json entry{{"source", source.name},
                   {"kind", source.kind == InterruptSourceStats::Kind::line ? "line" : "msi"},
                   {"injected", source.injections},
                   {"delayed", source.delayed},
                   {"merged", source.merged},
                   {"throttled", source.throttled}};
        if (source.kind == InterruptSourceStats::Kind::line) {
            entry["gsi"] = source.gsi;
        }
        interrupts.push_back(std::move(entry));
    }
    out["interrupts"] = std::move(interrupts);
    return out;
}

}  // namespace acrn::dm
