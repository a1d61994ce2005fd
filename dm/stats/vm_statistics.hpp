// What one VM costs, gathered on demand from where it is counted: the
// hypervisor side's vCPU exits and ioreq round trips (Hsm::hypervisor_stats),
// the requests each device was sent (dm/io/request_counts.hpp) and the
// interrupts each source raised and had delayed (dm/irq/interrupt_sources.hpp).
// Nothing is pushed anywhere while the VM runs: acrn-dm reads it on SIGUSR1
// and when the VM stops, and the command monitor will serve this same
// snapshot.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/hypervisor_stats.hpp"
#include "dm/io/request_counts.hpp"
#include "dm/irq/interrupt_sources.hpp"

namespace acrn {
class Hsm;
}

namespace acrn::dm {

struct VmStatistics {
    std::string vm_name;
    std::chrono::nanoseconds uptime{0};
    bool polling = false;  // the VM's I/O completion mode
    std::uint64_t requests_served = 0;  // by the device model's ioreq thread
    std::optional<HypervisorStats> hypervisor;  // nullopt where the relay cannot say
    std::vector<RequestCounts::Count> requests;
    std::vector<InterruptSourceStats> interrupts;
};

struct StatisticsSources {
    const Hsm& hsm;
    const RequestCounts& requests;
    const InterruptSources& interrupts;
};

[[nodiscard]] VmStatistics collect_statistics(const StatisticsSources& sources);

// The snapshot as log lines: a heading, then one line per kind of count and
// one per device and interrupt source that saw anything.
[[nodiscard]] std::vector<std::string> format_statistics(const VmStatistics& statistics);

// "850 ns", "12.3 us", "4.56 ms", "1.23 s".
[[nodiscard]] std::string format_duration(std::uint64_t nanoseconds);

}  // namespace acrn::dm
