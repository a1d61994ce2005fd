// Waking a VM from S3 (ACRN's vm_suspend_resume): the guest left a
// real-mode waking vector in the FACS before it suspended, and "firmware"
// starts the boot vCPU there, in real mode, with the rest of the VM as it
// was (RAM, devices; the guest restarts its other vCPUs itself).
#pragma once

#include <cstdint>
#include <optional>

#include "abi/acrn/abi.h"

namespace acrn::dm {

class GuestMemory;

// The waking vector the guest wrote at `facs_address`; nullopt if it left
// none (0) or one that real mode cannot reach (ACPI 6.4, 5.2.10: below 1 MiB).
[[nodiscard]] std::optional<std::uint32_t> read_waking_vector(const GuestMemory& memory, std::uint64_t facs_address);

// vCPU 0 in real mode at `waking_vector`: CS = vector >> 4, IP = vector & 0xF,
// as a BIOS jumps to it.
[[nodiscard]] acrn_vcpu_regs real_mode_wake_registers(std::uint32_t waking_vector);

}  // namespace acrn::dm
