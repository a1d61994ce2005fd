// The host's CPUs by local APIC id, as --cpu_affinity names them (ACRN reads
// the host MADT for this; /proc/cpuinfo's "apicid" says the same for every
// online CPU and needs no privilege).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace acrn::dm {

// LAPIC id -> CPU number, from the text of /proc/cpuinfo.
[[nodiscard]] std::map<std::uint32_t, int> parse_cpuinfo_apic_ids(std::string_view cpuinfo);

// Reads /proc/cpuinfo; throws std::runtime_error if it cannot.
[[nodiscard]] std::map<std::uint32_t, int> host_cpus_by_apic_id();

}  // namespace acrn::dm
