// The host's CPUs by local APIC id, as --cpu_affinity names them (ACRN reads
// the host MADT for this; /proc/cpuinfo's "apicid" says the same for every
// online CPU and needs no privilege).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace acrn::dm {

// LAPIC id -> CPU number, from the text of /proc/cpuinfo.
[[nodiscard]] std::map<std::uint32_t, int> parse_cpuinfo_apic_ids(std::string_view cpuinfo);

// Reads /proc/cpuinfo; throws std::runtime_error if it cannot.
[[nodiscard]] std::map<std::uint32_t, int> host_cpus_by_apic_id();

// --dm_cpus: confines the calling thread, and so every thread it starts
// from now on, to `cpus` (host CPU numbers). Called on the main thread
// before acrn-dm starts any other; hv's vCPU threads widen their own set
// again. Throws std::runtime_error naming the CPUs if none can be used.
void confine_to_cpus(const std::vector<int>& cpus);

}  // namespace acrn::dm
