// The images a UOS boots from (-k bzImage with -r initrd, or a multiboot ELF
// with -E): read and checked before any VM exists, loaded into guest memory
// once it does.
#pragma once

#include <cstdint>
#include <vector>

#include "abi/acrn/abi.h"
#include "dm/cli/options.hpp"

namespace acrn::dm {

class GuestMemory;

struct BootImages {
    std::vector<std::uint8_t> kernel;  // -k bzImage, or else the -E ELF
    std::vector<std::uint8_t> initrd;
};

// Reads and checks the images completely (they fit the guest's RAM and
// leave the firmware area alone) without touching guest memory. Throws
// StartupError naming the option and file (ACRN's statuses: 10 for -k, 11
// for -r). As in ACRN, -k takes precedence over -E.
[[nodiscard]] BootImages read_boot_images(const DmOptions& options);

// Loads the images; returns the boot vCPU's registers. Throws StartupError.
[[nodiscard]] acrn_vcpu_regs load_boot_images(const BootImages& images, const DmOptions& options, GuestMemory& memory);

}  // namespace acrn::dm
