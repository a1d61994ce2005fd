// The UOS's ACPI tables, generated in code: RSDP, XSDT, FADT, FACS, DSDT,
// MADT and MCFG, laid out as one image for the firmware area. The fixed
// resources come from dm/platform_layout.hpp; what varies per VM comes in
// the PlatformDescription.
#pragma once

#include <cstdint>
#include <vector>

#include "dm/platform_layout.hpp"

namespace acrn::dm::acpi {

struct SerialPortResource {
    int index;  // COM index, the device's _UID (0..9)
    std::uint16_t base;
    std::uint32_t irq;  // ISA IRQ (0..15)
};

struct PlatformDescription {
    std::uint32_t vcpu_count = 1;                 // 1..platform::kMaxVcpus
    std::vector<SerialPortResource> serial_ports; // only those configured
    std::uint64_t pci_mmio32_base = 0;            // start of the 32-bit PCI window
    std::uint64_t pci_mmio32_limit = platform::kPciMmio32Limit; // exclusive
    // The 64-bit PCI window above RAM (empty: none described).
    std::uint64_t pci_mmio64_base = 0;
    std::uint64_t pci_mmio64_limit = 0;  // exclusive
    // \_S3 in the DSDT: the guest may suspend to RAM.
    bool suspend_to_ram = true;
};

struct AcpiImage {
    std::uint64_t base;              // guest-physical address of bytes[0]
    std::uint64_t rsdp_address;      // == base (RSDP first)
    std::uint64_t facs_address;      // where the guest leaves its waking vector
    std::vector<std::uint8_t> bytes; // every table, laid out from base
};

// Throws std::invalid_argument on a description it cannot describe (0 or
// too many vCPUs, a window that does not fit, an image larger than
// platform::kAcpiTablesLimit - base, a base the RSDP cannot sit at).
[[nodiscard]] AcpiImage build_acpi_tables(const PlatformDescription& platform,
                                          std::uint64_t base = platform::kAcpiTablesAddress);

}  // namespace acrn::dm::acpi
