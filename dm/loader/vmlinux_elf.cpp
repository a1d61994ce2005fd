#include "dm/loader/vmlinux_elf.hpp"

#include <elf.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>

#include "dm/loader/multiboot.hpp"  // ImageError

namespace acrn::dm {
namespace {

constexpr std::size_t kMostSegments = 64;  // vmlinux has four; anything past this is not a kernel

[[noreturn]] void refuse(const std::string& why) { throw ImageError("-k: the kernel's ELF " + why); }

std::string hex_address(std::uint64_t value) {
    char text[24];
    std::snprintf(text, sizeof text, "%#llx", static_cast<unsigned long long>(value));
    return text;
}

}  // namespace

VmlinuxImage parse_vmlinux(std::span<const std::uint8_t> elf) {
    Elf64_Ehdr header{};
    if (elf.size() < sizeof header) {
        refuse("is shorter than an ELF64 header");
    }
    std::memcpy(&header, elf.data(), sizeof header);
    if (std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0) {
        refuse("has no ELF magic");
    }
    if (header.e_ident[EI_CLASS] != ELFCLASS64 || header.e_ident[EI_DATA] != ELFDATA2LSB ||
        header.e_machine != EM_X86_64) {
        refuse("is not a little-endian x86-64 ELF64");
    }
    if (header.e_type != ET_EXEC) {
        refuse("is not an executable (type " + std::to_string(header.e_type) + ")");
    }
    if (header.e_phentsize != sizeof(Elf64_Phdr) || header.e_phnum == 0 || header.e_phnum > kMostSegments) {
        refuse("has " + std::to_string(header.e_phnum) + " program headers of " + std::to_string(header.e_phentsize) +
             " bytes");
    }
    const std::uint64_t table_size = std::uint64_t{header.e_phnum} * sizeof(Elf64_Phdr);
    if (header.e_phoff > elf.size() || table_size > elf.size() - header.e_phoff) {
        refuse("has its program headers outside the file");
    }
    VmlinuxImage image;
    std::vector<Elf64_Phdr> loads;
    for (std::size_t i = 0; i < header.e_phnum; ++i) {
        Elf64_Phdr segment{};
        std::memcpy(&segment, elf.data() + header.e_phoff + i * sizeof segment, sizeof segment);
        if (segment.p_type != PT_LOAD || segment.p_memsz == 0) {
            continue;
        }
        if (segment.p_offset > elf.size() || segment.p_filesz > elf.size() - segment.p_offset) {
            refuse("segment " + std::to_string(i) + " lies outside the file");
        }
        if (segment.p_filesz > segment.p_memsz) {
            refuse("segment " + std::to_string(i) + " has more file bytes than memory");
        }
        if (segment.p_paddr + segment.p_memsz < segment.p_paddr) {
            refuse("segment " + std::to_string(i) + " wraps past the end of the address space");
        }
        loads.push_back(segment);
    }
    if (loads.empty()) {
        refuse("has no PT_LOAD segment");
    }
    std::sort(loads.begin(), loads.end(), [](const Elf64_Phdr& a, const Elf64_Phdr& b) { return a.p_paddr < b.p_paddr; });
    for (std::size_t i = 1; i < loads.size(); ++i) {
        if (loads[i].p_paddr < loads[i - 1].p_paddr + loads[i - 1].p_memsz) {
            refuse("segments at " + hex_address(loads[i - 1].p_paddr) + " and " + hex_address(loads[i].p_paddr) + " overlap");
        }
    }
    // Linux links vmlinux with a physical entry (ENTRY(phys_startup_64));
    // an ELF with a virtual one gets it through its segment.
    bool entry_found = false;
    for (const Elf64_Phdr& segment : loads) {
        image.segments.push_back(KernelSegment{segment.p_paddr, elf.subspan(segment.p_offset, segment.p_filesz),
                                               segment.p_memsz});
        if (!entry_found && header.e_entry >= segment.p_paddr && header.e_entry - segment.p_paddr < segment.p_filesz) {
            image.entry_physical = header.e_entry;
            entry_found = true;
        }
    }
    for (const Elf64_Phdr& segment : loads) {
        if (!entry_found && header.e_entry >= segment.p_vaddr && header.e_entry - segment.p_vaddr < segment.p_filesz) {
            image.entry_physical = segment.p_paddr + (header.e_entry - segment.p_vaddr);
            entry_found = true;
        }
    }
    if (!entry_found) {
        refuse("entry " + hex_address(header.e_entry) + " is in none of its segments");
    }
    image.lowest = loads.front().p_paddr;
    image.end = loads.back().p_paddr + loads.back().p_memsz;
    return image;
}

}  // namespace acrn::dm
