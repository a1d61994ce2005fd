// `-k bzImage -r initrd -B cmdline`: the Linux x86 boot protocol
// (Documentation/arch/x86/boot.rst), 64-bit entry. The kernel is loaded at
// 1 MiB, the zero page carries the setup header, the e820 map, the command
// line and the initrd, and the boot vCPU starts at the 64-bit entry point
// with an identity map of the first 4 GiB, as the protocol asks.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "abi/acrn/abi.h"
#include "dm/loader/multiboot.hpp"  // ImageError

namespace acrn::dm {

class GuestMemory;
struct VmlinuxImage;

struct BzImageLayout {
    static constexpr std::uint64_t kGdtAddress = 0x1000;
    static constexpr std::uint64_t kZeroPageAddress = 0x7000;
    static constexpr std::uint64_t kPageTablesAddress = 0x9000;  // PML4, PDPT, 4 PDs
    static constexpr std::uint64_t kCommandLineAddress = 0x20000;
    static constexpr std::uint64_t kKernelAddress = 0x100000;
};

// Checks everything load_bzimage checks (header, protocol, 64-bit entry,
// command line length and room, kernel and initrd placement) for a VM of
// `memory_size` bytes, without any guest memory, so that acrn-dm can refuse
// a bad image before a VM exists. Throws as load_bzimage does, and
// std::invalid_argument for a memory size GuestMemory would refuse.
//
// With `unpacked` (the bzImage's payload unpacked on the host,
// dm/loader/kernel_payload.hpp), its segments go at their physical
// addresses instead, and the vCPU starts at its entry (startup_64) in 64-bit
// mode with RSI at the zero page, as the kernel's decompressor would leave
// it; the zero page is the same.
void check_bzimage(std::span<const std::uint8_t> kernel, std::optional<std::span<const std::uint8_t>> initrd,
                   const std::string& command_line, std::uint64_t memory_size, const VmlinuxImage* unpacked = nullptr);

// Throws ImageError saying what is wrong with the kernel or initrd, before
// anything is written to guest memory.
[[nodiscard]] acrn_regs load_bzimage(std::span<const std::uint8_t> kernel,
                                     std::optional<std::span<const std::uint8_t>> initrd,
                                     const std::string& command_line, const GuestMemory& memory,
                                     const VmlinuxImage* unpacked = nullptr);

}  // namespace acrn::dm
