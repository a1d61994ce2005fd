// The fixed-layout tables: FADT, FACS, MADT, MCFG, each as its bytes with a
// valid header. build_acpi_tables() places them; the pointers between them
// come in as guest-physical addresses.
#pragma once

#include <cstdint>
#include <vector>

namespace acrn::dm::acpi {

inline constexpr std::size_t kFadtSize = 276;  // revision 6 (ACPI 6.x), 5.2.9
inline constexpr std::size_t kFacsSize = 64;   // 5.2.10
inline constexpr std::size_t kFacsAlignment = 64;

// A full (not hardware-reduced) FADT on the fixed hardware of
// dm/platform_layout.hpp.
[[nodiscard]] std::vector<std::uint8_t> build_fadt(std::uint64_t facs_address, std::uint64_t dsdt_address);
[[nodiscard]] std::vector<std::uint8_t> build_facs();
// One enabled Local APIC per vCPU (APIC id = vCPU index), the IOAPIC, the
// ISA overrides and LINT1 as NMI.
[[nodiscard]] std::vector<std::uint8_t> build_madt(std::uint32_t vcpu_count);
// One ECAM allocation: segment 0, buses 0..kEcamLastBus.
[[nodiscard]] std::vector<std::uint8_t> build_mcfg();

}  // namespace acrn::dm::acpi
