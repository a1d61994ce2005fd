#include "dm/loader/multiboot.hpp"

#include <elf.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <vector>

#include "dm/guest_memory.hpp"

namespace acrn::dm {
namespace {

// Multiboot information flags (spec 3.3).
constexpr std::uint32_t kInfoMemory = 1u << 0;
constexpr std::uint32_t kInfoCommandLine = 1u << 2;
constexpr std::uint32_t kInfoMemoryMap = 1u << 6;
constexpr std::uint32_t kInfoBootLoaderName = 1u << 9;

constexpr std::uint32_t kHeaderAoutKludge = 1u << 16;
constexpr std::size_t kHeaderSearchLimit = 8192;

constexpr std::uint16_t kCodeSelector = 0x10;
constexpr std::uint16_t kDataSelector = 0x18;

struct MultibootInfo {
    std::uint32_t flags;
    std::uint32_t mem_lower;
    std::uint32_t mem_upper;
    std::uint32_t boot_device;
    std::uint32_t cmdline;
    std::uint32_t mods_count;
    std::uint32_t mods_addr;
    std::uint32_t syms[4];
    std::uint32_t mmap_length;
    std::uint32_t mmap_addr;
    std::uint32_t drives_length;
    std::uint32_t drives_addr;
    std::uint32_t config_table;
    std::uint32_t boot_loader_name;
};
static_assert(sizeof(MultibootInfo) == 68 && offsetof(MultibootInfo, mmap_length) == 44 &&
              offsetof(MultibootInfo, boot_loader_name) == 64);

#pragma pack(push, 1)
struct MultibootMmapEntry {
    std::uint32_t size;  // of the rest of the entry: 20
    std::uint64_t addr;
    std::uint64_t len;
    std::uint32_t type;  // 1 = available RAM
};
#pragma pack(pop)
static_assert(sizeof(MultibootMmapEntry) == 24);

template <typename T>
T read_struct(std::span<const std::uint8_t> image, std::uint64_t offset, const char* what) {
    if (offset > image.size() || sizeof(T) > image.size() - offset) {
        throw ImageError(std::string("truncated ELF: ") + what + " lies beyond the end of the file");
    }
    T value;
    std::memcpy(&value, image.data() + offset, sizeof(T));
    return value;
}

void check_multiboot_header(std::span<const std::uint8_t> image) {
    const std::size_t limit = std::min(image.size(), kHeaderSearchLimit);
    for (std::size_t offset = 0; offset + 12 <= limit; offset += 4) {
        std::uint32_t header[3];
        std::memcpy(header, image.data() + offset, sizeof(header));
        if (header[0] != kMultibootHeaderMagic) {
            continue;
        }
        if (header[0] + header[1] + header[2] != 0) {
            throw ImageError("multiboot header checksum is wrong");
        }
        if ((header[1] & kHeaderAoutKludge) != 0) {
            throw ImageError("multiboot a.out-kludge images are not supported; link the kernel as ELF");
        }
        if ((header[1] & 0xFFFC) != 0) {
            throw ImageError("multiboot header asks for unsupported features (flags " + std::to_string(header[1]) + ")");
        }
        return;
    }
    throw ImageError("no multiboot header in the first 8 KiB: not a multiboot kernel");
}

std::string hex(std::uint64_t value) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string text;
    do {
        text.insert(text.begin(), kDigits[value & 0xF]);
        value >>= 4;
    } while (value != 0);
    return "0x" + text;
}

bool inside_usable_ram(std::uint64_t base, std::uint64_t size, const std::vector<GuestMemory::MapEntry>& map) {
    return std::any_of(map.begin(), map.end(), [&](const GuestMemory::MapEntry& entry) {
        return entry.type == GuestMemory::MapEntry::ram && base >= entry.base && base - entry.base <= entry.size &&
               size <= entry.size - (base - entry.base);
    });
}

struct Segment {
    std::uint64_t file_offset;
    std::uint64_t file_size;
    std::uint64_t address;
    std::uint64_t memory_size;
};

// Everything that can be known about the image without guest memory: the
// segments to copy, each checked against the memory map, and the entry.
struct LoadPlan {
    std::vector<Segment> segments;
    std::uint32_t entry;
};

std::vector<Segment> plan_segments(std::span<const std::uint8_t> image, const Elf32_Ehdr& elf,
                                   const std::vector<GuestMemory::MapEntry>& map) {
    if (elf.e_phentsize != sizeof(Elf32_Phdr) || elf.e_phnum == 0) {
        throw ImageError("ELF has no usable program headers");
    }
    std::vector<Segment> segments;
    for (unsigned i = 0; i < elf.e_phnum; ++i) {
        const auto ph = read_struct<Elf32_Phdr>(image, elf.e_phoff + std::uint64_t{i} * sizeof(Elf32_Phdr),
                                                "a program header");
        if (ph.p_type != PT_LOAD || ph.p_memsz == 0) {
            continue;
        }
        const std::string segment = "ELF segment " + std::to_string(i);
        if (ph.p_filesz > ph.p_memsz) {
            throw ImageError(segment + " has more file bytes than memory bytes");
        }
        if (ph.p_offset > image.size() || ph.p_filesz > image.size() - ph.p_offset) {
            throw ImageError(segment + " lies beyond the end of the file");
        }
        if (ph.p_paddr < GuestMemory::kConventionalMemoryEnd) {
            throw ImageError(segment + " would overwrite low memory (below 640 KiB)");
        }
        const std::uint64_t end = std::uint64_t{ph.p_paddr} + ph.p_memsz;
        if (!inside_usable_ram(ph.p_paddr, ph.p_memsz, map)) {
            throw ImageError(segment + " at [" + hex(ph.p_paddr) + ", " + hex(end) +
                             ") is not in usable guest RAM (the memory map has it reserved, or there is no RAM there)");
        }
        segments.push_back({ph.p_offset, ph.p_filesz, ph.p_paddr, ph.p_memsz});
    }
    if (segments.empty()) {
        throw ImageError("ELF has no loadable segment");
    }
    return segments;
}

LoadPlan plan_load(std::span<const std::uint8_t> image, const std::string& command_line,
                   const std::vector<GuestMemory::MapEntry>& map) {
    const auto elf = read_struct<Elf32_Ehdr>(image, 0, "the ELF header");
    if (std::memcmp(elf.e_ident, ELFMAG, SELFMAG) != 0) {
        throw ImageError("not an ELF file");
    }
    if (elf.e_ident[EI_CLASS] != ELFCLASS32 || elf.e_ident[EI_DATA] != ELFDATA2LSB || elf.e_machine != EM_386) {
        throw ImageError("not a 32-bit little-endian x86 ELF (multiboot kernels are ELF32)");
    }
    if (elf.e_type != ET_EXEC) {
        throw ImageError("not an executable ELF");
    }
    check_multiboot_header(image);
    if (command_line.size() >= MultibootInfoLayout::kMaxCommandLine) {
        throw ImageError("command line longer than " + std::to_string(MultibootInfoLayout::kMaxCommandLine - 1) +
                         " characters");
    }
    LoadPlan plan{plan_segments(image, elf, map), elf.e_entry};
    if (!inside_usable_ram(elf.e_entry, 1, map)) {
        throw ImageError("ELF entry point " + hex(elf.e_entry) + " is outside guest RAM");
    }
    return plan;
}

void load_segments(std::span<const std::uint8_t> image, const std::vector<Segment>& segments,
                   const GuestMemory& memory) {
    for (const Segment& segment : segments) {
        auto target = memory.span(segment.address, segment.memory_size);
        if (target.size() != segment.memory_size) {
            throw ImageError("ELF segment at " + hex(segment.address) + " does not fit in guest RAM");
        }
        std::memcpy(target.data(), image.data() + segment.file_offset, segment.file_size);
        std::memset(target.data() + segment.file_size, 0, segment.memory_size - segment.file_size);
    }
}

// Writes the multiboot information and everything it points to; returns its address.
std::uint32_t write_boot_information(const std::string& command_line, const GuestMemory& memory) {
    using Layout = MultibootInfoLayout;
    if (command_line.size() >= Layout::kMaxCommandLine) {
        throw ImageError("command line longer than " + std::to_string(Layout::kMaxCommandLine - 1) + " characters");
    }
    // Multiboot lists the RAM; what is not listed is not RAM.
    std::vector<MultibootMmapEntry> map;
    for (const GuestMemory::MapEntry& entry : memory.memory_map()) {
        if (entry.type == GuestMemory::MapEntry::ram) {
            map.push_back({20, entry.base, entry.size, entry.type});
        }
    }
    const std::uint64_t command_line_at = Layout::kInfoAddress + sizeof(MultibootInfo);
    const std::uint64_t loader_name_at = command_line_at + command_line.size() + 1;
    static constexpr char kLoaderName[] = "acrn-dm";
    const std::uint64_t map_at = (loader_name_at + sizeof(kLoaderName) + 7) & ~7ull;

    MultibootInfo info{};
    info.flags = kInfoMemory | kInfoCommandLine | kInfoMemoryMap | kInfoBootLoaderName;
    info.mem_lower = static_cast<std::uint32_t>(GuestMemory::kConventionalMemoryEnd / 1024);
    info.mem_upper =
        static_cast<std::uint32_t>((memory.low_memory_end() - GuestMemory::kExtendedMemoryStart) / 1024);
    info.cmdline = static_cast<std::uint32_t>(command_line_at);
    info.boot_loader_name = static_cast<std::uint32_t>(loader_name_at);
    info.mmap_addr = static_cast<std::uint32_t>(map_at);
    info.mmap_length = static_cast<std::uint32_t>(map.size() * sizeof(MultibootMmapEntry));

    const bool written = memory.write(Layout::kInfoAddress, &info, sizeof(info)) &&
                         memory.write(command_line_at, command_line.c_str(), command_line.size() + 1) &&
                         memory.write(loader_name_at, kLoaderName, sizeof(kLoaderName)) &&
                         memory.write(map_at, map.data(), info.mmap_length);
    if (!written) {
        throw ImageError("guest RAM too small for the multiboot information");
    }
    return static_cast<std::uint32_t>(Layout::kInfoAddress);
}

void write_boot_gdt(const GuestMemory& memory) {
    // null, unused, flat 32-bit code (0x10), flat data (0x18): the selectors
    // the boot registers name, so a guest that reloads them finds them here.
    const std::uint64_t gdt[4] = {0, 0, 0x00CF9B000000FFFFull, 0x00CF93000000FFFFull};
    if (!memory.write(MultibootInfoLayout::kGdtAddress, gdt, sizeof(gdt))) {
        throw ImageError("guest RAM too small for the boot GDT");
    }
}

}  // namespace

void check_multiboot_elf(std::span<const std::uint8_t> image, const std::string& command_line,
                         std::uint64_t memory_size) {
    (void)plan_load(image, command_line, GuestMemory::memory_map_for(memory_size));
}

acrn_regs load_multiboot_elf(std::span<const std::uint8_t> image, const std::string& command_line,
                             const GuestMemory& memory) {
    const LoadPlan plan = plan_load(image, command_line, memory.memory_map());
    load_segments(image, plan.segments, memory);
    const std::uint32_t info_address = write_boot_information(command_line, memory);
    write_boot_gdt(memory);

    acrn_regs regs{};
    regs.gprs.rax = kMultibootBootloaderMagic;
    regs.gprs.rbx = info_address;
    regs.rip = plan.entry;
    regs.rflags = 0x2;
    regs.cr0 = 0x1 | 0x10;  // PE, ET; paging off
    regs.cs_sel = kCodeSelector;
    regs.cs_base = 0;
    regs.cs_limit = 0xFFFF'FFFF;
    regs.cs_ar = 0xC09B;  // G, D, P, S, execute/read accessed
    regs.ds_sel = regs.es_sel = regs.fs_sel = regs.gs_sel = regs.ss_sel = kDataSelector;
    regs.gdt.base = MultibootInfoLayout::kGdtAddress;
    regs.gdt.limit = 4 * 8 - 1;
    return regs;
}

}  // namespace acrn::dm
