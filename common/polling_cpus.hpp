// Whether a VM that polls for I/O completion can give each spinning thread
// a host CPU of its own: one per vCPU, and one for the device model's
// ioreq thread that answers them. Without that, a spinning thread holds
// the CPU the thread it waits for needs, and a round trip of microseconds
// takes a scheduler time slice (measured nested on one CPU: 550 us with
// polling against 150 us without). hv bounds the vCPUs' spins with it and
// acrn-dm its own; both say so at start-up.
#pragma once

#include <sched.h>

#include <cstdint>

namespace acrn {

struct PollingCpus {
    unsigned usable = 0;  // host CPUs this process may run on, the vCPUs' pinned ones included
    unsigned needed = 0;  // one per vCPU, one for the device model
    [[nodiscard]] bool enough() const noexcept { return usable >= needed; }
};

// `pinned`: the host CPUs the vCPUs are pinned to (ACRN's cpu_affinity
// bitmap), 0 if they are not.
[[nodiscard]] inline PollingCpus polling_cpus(unsigned vcpus, std::uint64_t pinned) noexcept {
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    if (::sched_getaffinity(0, sizeof allowed, &allowed) != 0) {
        CPU_SET(0, &allowed);  // assume the least
    }
    for (int cpu = 0; cpu < 64; ++cpu) {
        if ((pinned >> cpu) & 1) {
            CPU_SET(cpu, &allowed);
        }
    }
    return PollingCpus{static_cast<unsigned>(CPU_COUNT(&allowed)), vcpus + 1};
}

}  // namespace acrn
