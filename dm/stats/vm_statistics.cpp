#include "dm/stats/vm_statistics.hpp"

#include <fmt/format.h>

#include "relay/hsm.hpp"

namespace acrn::dm {

VmStatistics collect_statistics(const StatisticsSources& sources) {
    VmStatistics statistics;
    HypervisorStats hypervisor;
    if (sources.hsm.hypervisor_stats(hypervisor) == 0) {
        statistics.hypervisor = hypervisor;
    }
    statistics.requests = sources.requests.snapshot();
    statistics.interrupts = sources.interrupts.stats();
    return statistics;
}

std::string format_duration(std::uint64_t nanoseconds) {
    const auto value = static_cast<double>(nanoseconds);
    if (nanoseconds < 1'000) {
        return fmt::format("{} ns", nanoseconds);
    }
    if (nanoseconds < 1'000'000) {
        return fmt::format("{:.3g} us", value / 1e3);
    }
    if (nanoseconds < 1'000'000'000) {
        return fmt::format("{:.3g} ms", value / 1e6);
    }
    return fmt::format("{:.3g} s", value / 1e9);
}

namespace {

std::string round_trips(const char* how, const LatencySnapshot& histogram) {
    const std::uint64_t count = histogram.count();
    if (count == 0) {
        return fmt::format("ioreq round trips {}: none", how);
    }
    return fmt::format("ioreq round trips {}: {}, min {}, median {}, p99 {}, max {}", how, count,
                       format_duration(histogram.min_ns), format_duration(histogram.percentile_ns(0.5)),
                       format_duration(histogram.percentile_ns(0.99)), format_duration(histogram.max_ns));
}

std::string exits(const HypervisorStats& hypervisor) {
    std::string line = "vCPU exits:";
    std::uint64_t total = 0;
    for (std::size_t kind = 0; kind < kVcpuExitKinds; ++kind) {
        if (hypervisor.exits[kind] != 0) {
            line += fmt::format(" {} {},", to_string(static_cast<VcpuExit>(kind)), hypervisor.exits[kind]);
            total += hypervisor.exits[kind];
        }
    }
    line += fmt::format(" total {}", total);
    return line;
}

std::string device_requests(const RequestCounts::Count& count) {
    std::string line = "requests to " + count.owner + ":";
    const char* separator = " ";
    for (const auto& [kind, value] : {std::pair{"PIO", count.pio}, {"MMIO", count.mmio}, {"PCI config", count.pci_config}}) {
        if (value != 0) {
            line += fmt::format("{}{} {}", separator, kind, value);
            separator = ", ";
        }
    }
    return line;
}

std::string interrupt_source(const InterruptSourceStats& source) {
    std::string line = "interrupts from " + source.name;
    if (source.kind == InterruptSourceStats::Kind::line) {
        line += fmt::format(" (GSI {})", source.gsi);
    }
    line += fmt::format(": {} injected", source.injections);
    if (source.delayed != 0 || source.merged != 0) {
        line += fmt::format(", {} delayed, {} merged into a delayed one", source.delayed, source.merged);
    }
    if (source.throttled) {
        line += ", throttled now";
    }
    return line;
}

}  // namespace

std::vector<std::string> format_statistics(const VmStatistics& statistics) {
    std::vector<std::string> lines;
    lines.push_back(fmt::format("statistics of VM '{}' after {} ({} I/O completion, {} requests served)",
                                statistics.vm_name, format_duration(static_cast<std::uint64_t>(statistics.uptime.count())),
                                statistics.polling ? "polling" : "notification", statistics.requests_served));
    if (statistics.hypervisor) {
        lines.push_back(exits(*statistics.hypervisor));
        if (statistics.polling) {
            lines.push_back(round_trips("answered while the vCPU polled", statistics.hypervisor->ioreq_polled));
        }
        lines.push_back(round_trips(statistics.polling ? "answered after the vCPU slept" : "(notified)",
                                    statistics.hypervisor->ioreq_notified));
    } else {
        lines.emplace_back("vCPU exits and ioreq round trips: not offered by this relay");
    }
    for (const RequestCounts::Count& count : statistics.requests) {
        if (count.total() != 0) {
            lines.push_back(device_requests(count));
        }
    }
    for (const InterruptSourceStats& source : statistics.interrupts) {
        if (source.injections != 0) {
            lines.push_back(interrupt_source(source));
        }
    }
    return lines;
}

}  // namespace acrn::dm
