// `-E image`: loads a multiboot (version 1) ELF32 kernel and prepares the
// boot vCPU as the Multiboot Specification 0.6.96, section 3.2, asks:
// 32-bit protected mode, flat segments, paging off, EAX = 0x2BADB002,
// EBX = the multiboot information structure (memory sizes, memory map,
// command line, boot loader name).
#pragma once

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>

#include "abi/acrn/abi.h"

namespace acrn::dm {

class GuestMemory;

class ImageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct MultibootInfoLayout {
    // Low-memory page where the information structure, command line,
    // memory map and the boot GDT go; below the 1 MiB load addresses.
    static constexpr std::uint64_t kInfoAddress = 0x9000;
    static constexpr std::uint64_t kGdtAddress = 0x8000;
    static constexpr std::size_t kMaxCommandLine = 2048;
};

inline constexpr std::uint32_t kMultibootHeaderMagic = 0x1BADB002;
inline constexpr std::uint32_t kMultibootBootloaderMagic = 0x2BADB002;

// Checks everything load_multiboot_elf checks, for a VM of `memory_size`
// bytes (GuestMemory's size), without any guest memory: so that a bad image
// is refused before a VM exists. Each PT_LOAD segment must lie inside one
// range the memory map reports as usable RAM, above conventional memory
// (where the boot information goes). Throws ImageError like the loader,
// std::invalid_argument for a memory size GuestMemory would refuse.
void check_multiboot_elf(std::span<const std::uint8_t> image, const std::string& command_line,
                         std::uint64_t memory_size);

// Loads `image` (the file's bytes) into guest memory and returns the boot
// vCPU's registers. Throws ImageError, saying what is wrong, for anything
// that is not a loadable multiboot ELF32 or does not fit in guest RAM; it
// writes nothing to guest memory then.
[[nodiscard]] acrn_regs load_multiboot_elf(std::span<const std::uint8_t> image, const std::string& command_line,
                                           const GuestMemory& memory);

}  // namespace acrn::dm
