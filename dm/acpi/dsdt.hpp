// The DSDT (ACPI 6.4, 5.2.11.1): the PCI host bridge with its windows and
// GSI-based _PRT, the motherboard resources (ECAM, ACPI ports), the COM
// ports, the RTC, and \_S5.
#pragma once

#include <cstdint>
#include <vector>

#include "dm/acpi/acpi_tables.hpp"

namespace acrn::dm::acpi {

// Throws std::invalid_argument on serial ports or a PCI window it cannot
// describe.
[[nodiscard]] std::vector<std::uint8_t> build_dsdt(const PlatformDescription& description);

}  // namespace acrn::dm::acpi
