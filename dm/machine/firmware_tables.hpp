// What firmware leaves in guest memory for the kernel: the ACPI tables,
// describing the vCPUs, the COM ports and the PCI windows of this machine.
#pragma once

#include <cstdint>

#include "dm/cli/options.hpp"

namespace acrn::dm {

class GuestMemory;
struct PciWindows;

// Throws StartupError if the tables cannot describe the machine. Returns
// the FACS's guest-physical address, where the guest leaves its waking
// vector before it suspends (S3).
std::uint64_t write_firmware_tables(const DmOptions& options, std::uint32_t vcpu_count, const PciWindows& windows,
                                    GuestMemory& memory);

}  // namespace acrn::dm
