// The kernel's own ELF, as a bzImage's payload unpacks to (vmlinux,
// stripped, perhaps followed by its relocation table): an x86-64 ELF64
// executable whose PT_LOAD segments go at their physical addresses, and
// whose entry (startup_64, a physical address as Linux links it) the 64-bit
// boot protocol enters with RSI pointing at the zero page, as the kernel's
// own decompressor does.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace acrn::dm {

struct KernelSegment {
    std::uint64_t physical_address = 0;
    std::span<const std::uint8_t> file_bytes;  // inside the ELF
    std::uint64_t memory_size = 0;             // >= file_bytes.size(); the rest is zeroed
};

struct VmlinuxImage {
    std::vector<KernelSegment> segments;  // by address, none overlapping
    std::uint64_t entry_physical = 0;     // inside a segment's file bytes
    std::uint64_t lowest = 0;             // the first byte the segments cover
    std::uint64_t end = 0;                // one past the last
};

// Throws ImageError (dm/loader/multiboot.hpp) saying what is wrong: not an
// x86-64 ELF64 executable, a header or segment outside the file, no PT_LOAD,
// segments that overlap or wrap, an entry outside them.
[[nodiscard]] VmlinuxImage parse_vmlinux(std::span<const std::uint8_t> elf);

}  // namespace acrn::dm
