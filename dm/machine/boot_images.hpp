// The images a UOS boots from (-k bzImage with -r initrd, or a multiboot ELF
// with -E): read and checked before any VM exists, loaded into guest memory
// once it does.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "abi/acrn/abi.h"
#include "dm/cli/options.hpp"
#include "dm/loader/vmlinux_elf.hpp"

namespace acrn::dm {

class GuestMemory;

struct BootImages {
    BootImages() = default;
    BootImages(BootImages&&) = default;
    BootImages& operator=(BootImages&&) = default;
    BootImages(const BootImages&) = delete;  // `vmlinux` points into `unpacked_kernel`

    std::vector<std::uint8_t> kernel;  // -k bzImage, or else the -E ELF
    std::vector<std::uint8_t> initrd;
    // --kernel-decompress host: -k's payload unpacked by acrn-dm (or taken
    // from the kernel cache), the ELF in it, and when it was ready.
    std::vector<std::uint8_t> unpacked_kernel;
    std::optional<VmlinuxImage> vmlinux;
    std::optional<std::chrono::steady_clock::time_point> unpacked_at;
    bool unpacked_from_cache = false;

    // Once loaded they are not needed (a guest reset reads them again).
    void release() { *this = BootImages{}; }
};

// The whole of one image file; StartupError(status) naming `option` and
// the file if it cannot be opened or read, or is empty.
[[nodiscard]] std::vector<std::uint8_t> read_image_file(const std::string& path, const char* option, int status);

// Reads and checks the images completely (they fit the guest's RAM and
// leave the firmware area alone) without touching guest memory. Throws
// StartupError naming the option and file (ACRN's statuses: 10 for -k, 11
// for -r). As in ACRN, -k takes precedence over -E. With host
// decompression, a payload that cannot be unpacked or is not a kernel ELF
// that fits is logged once and left to the guest's own decompressor.
[[nodiscard]] BootImages read_boot_images(const DmOptions& options);

// Loads the images; returns the boot vCPU's registers. Throws StartupError.
[[nodiscard]] acrn_vcpu_regs load_boot_images(const BootImages& images, const DmOptions& options, GuestMemory& memory);

}  // namespace acrn::dm
