#include "dm/loader/bzimage.hpp"

#include <cstring>
#include <vector>

#include "dm/guest_memory.hpp"
#include "dm/loader/vmlinux_elf.hpp"

namespace acrn::dm {
namespace {

// Offsets into the zero page (struct boot_params) and its setup header.
namespace zero_page {
constexpr std::size_t e820_entries = 0x1E8;
constexpr std::size_t setup_header = 0x1F1;
constexpr std::size_t setup_sects = 0x1F1;
constexpr std::size_t boot_flag = 0x1FE;
constexpr std::size_t header_magic = 0x202;
constexpr std::size_t version = 0x206;
constexpr std::size_t type_of_loader = 0x210;
constexpr std::size_t loadflags = 0x211;
constexpr std::size_t ramdisk_image = 0x218;
constexpr std::size_t ramdisk_size = 0x21C;
constexpr std::size_t cmd_line_ptr = 0x228;
constexpr std::size_t initrd_addr_max = 0x22C;
constexpr std::size_t xloadflags = 0x236;
constexpr std::size_t cmdline_size = 0x238;
constexpr std::size_t init_size = 0x260;
constexpr std::size_t setup_header_end = 0x268;  // the header as of protocol 2.15
constexpr std::size_t e820_table = 0x2D0;
constexpr std::size_t e820_max = 128;
}  // namespace zero_page

constexpr std::uint16_t kMinimumProtocol = 0x0206;  // 64-bit entry, cmdline_size
constexpr std::uint8_t kLoadedHigh = 0x01;
constexpr std::uint8_t kCanUseHeap = 0x80;
constexpr std::uint16_t kXlfKernel64 = 0x0001;
// The command line sits at kCommandLineAddress and must end, NUL included,
// before the EBDA (the firmware area with the ACPI tables lies above it).
constexpr std::uint64_t kCommandLineSpace = GuestMemory::kConventionalMemoryEnd - BzImageLayout::kCommandLineAddress;

template <typename T>
T get(std::span<const std::uint8_t> bytes, std::size_t offset) {
    T value;
    std::memcpy(&value, bytes.data() + offset, sizeof(T));
    return value;
}

template <typename T>
void put(std::vector<std::uint8_t>& bytes, std::size_t offset, T value) {
    std::memcpy(bytes.data() + offset, &value, sizeof(T));
}

void write_or_throw(const GuestMemory& memory, std::uint64_t gpa, const void* data, std::size_t size,
                    const char* what) {
    if (!memory.write(gpa, data, size)) {
        throw ImageError(std::string(what) + " does not fit in guest RAM");
    }
}

void add_e820(std::vector<std::uint8_t>& page, std::uint8_t& count, std::uint64_t base, std::uint64_t size,
              std::uint32_t type) {
    const std::size_t at = zero_page::e820_table + std::size_t{count} * 20;
    put(page, at, base);
    put(page, at + 8, size);
    put(page, at + 16, type);
    ++count;
}

void write_page_tables(const GuestMemory& memory) {
    // PML4[0] -> PDPT; PDPT[0..3] -> four page directories of 2 MiB pages,
    // identity-mapping 0..4 GiB.
    constexpr std::uint64_t kPresentWritable = 0x3;
    constexpr std::uint64_t kLargePage = 0x80;
    constexpr std::uint64_t pml4 = BzImageLayout::kPageTablesAddress;
    constexpr std::uint64_t pdpt = pml4 + 0x1000;
    constexpr std::uint64_t directories = pdpt + 0x1000;
    std::vector<std::uint64_t> tables(6 * 512, 0);
    tables[0] = pdpt | kPresentWritable;
    for (std::uint64_t i = 0; i < 4; ++i) {
        tables[512 + i] = (directories + i * 0x1000) | kPresentWritable;
    }
    for (std::uint64_t entry = 0; entry < 4 * 512; ++entry) {
        tables[1024 + entry] = (entry << 21) | kPresentWritable | kLargePage;
    }
    write_or_throw(memory, pml4, tables.data(), tables.size() * 8, "the boot page tables");
}

// What the kernel's header and the memory map decide, before any byte is
// written: where the protected-mode code starts in the file, where the
// kernel's memory ends, and where the initrd goes.
struct BzImagePlan {
    std::size_t setup_size = 0;
    std::uint64_t kernel_end = 0;
    std::uint64_t initrd_at = 0;
};

// The end of the RAM that starts at 1 MiB (at most 2 GiB).
std::uint64_t low_ram_end(const std::vector<GuestMemory::MapEntry>& map) {
    for (const GuestMemory::MapEntry& entry : map) {
        if (entry.type == GuestMemory::MapEntry::ram && entry.base == GuestMemory::kExtendedMemoryStart) {
            return entry.base + entry.size;
        }
    }
    return GuestMemory::kExtendedMemoryStart;
}

BzImagePlan plan_bzimage(std::span<const std::uint8_t> kernel, std::optional<std::uint64_t> initrd_size,
                         const std::string& command_line, const std::vector<GuestMemory::MapEntry>& map,
                         const VmlinuxImage* unpacked) {
    using Layout = BzImageLayout;
    if (kernel.size() < 0x1000 || get<std::uint16_t>(kernel, zero_page::boot_flag) != 0xAA55 ||
        get<std::uint32_t>(kernel, zero_page::header_magic) != 0x53726448 /* "HdrS" */) {
        throw ImageError("not a Linux bzImage (no boot-protocol header)");
    }
    const auto protocol = get<std::uint16_t>(kernel, zero_page::version);
    if (protocol < kMinimumProtocol) {
        throw ImageError("boot protocol " + std::to_string(protocol >> 8) + "." + std::to_string(protocol & 0xFF) +
                         " is too old (2.06 or newer needed)");
    }
    if ((get<std::uint16_t>(kernel, zero_page::xloadflags) & kXlfKernel64) == 0 ||
        (get<std::uint8_t>(kernel, zero_page::loadflags) & kLoadedHigh) == 0) {
        throw ImageError("the kernel has no 64-bit entry point (not an x86-64 bzImage)");
    }
    BzImagePlan plan;
    std::size_t setup_sectors = get<std::uint8_t>(kernel, zero_page::setup_sects);
    if (setup_sectors == 0) {
        setup_sectors = 4;
    }
    plan.setup_size = (setup_sectors + 1) * 512;
    if (plan.setup_size >= kernel.size()) {
        throw ImageError("truncated bzImage: no protected-mode kernel after the setup code");
    }
    const auto cmdline_limit = get<std::uint32_t>(kernel, zero_page::cmdline_size);
    if (command_line.size() > cmdline_limit) {
        throw ImageError("command line longer than the kernel accepts (" + std::to_string(cmdline_limit) + ")");
    }
    // A kernel may accept more than the space below the EBDA holds.
    if (command_line.size() >= kCommandLineSpace) {
        throw ImageError("command line longer than the " + std::to_string(kCommandLineSpace - 1) +
                         " bytes of low memory it is given");
    }
    const std::uint64_t low_end = low_ram_end(map);
    const std::uint64_t init_size = get<std::uint32_t>(kernel, zero_page::init_size);
    plan.kernel_end = Layout::kKernelAddress + std::max<std::uint64_t>(init_size, kernel.size());
    if (unpacked != nullptr) {
        // The kernel's own footprint from its load address: its segments,
        // and init_size, which the header promises covers its early use.
        if (unpacked->lowest < Layout::kKernelAddress) {
            throw ImageError("the unpacked kernel starts below 1 MiB, over the boot data");
        }
        plan.kernel_end = std::max(unpacked->end, unpacked->lowest + init_size);
    }
    if (plan.kernel_end > low_end) {
        throw ImageError("guest RAM too small for the kernel (it needs " + std::to_string(plan.kernel_end >> 20) +
                         " MiB below 2 GiB)");
    }
    if (initrd_size) {
        const std::uint64_t limit =
            std::min<std::uint64_t>(get<std::uint32_t>(kernel, zero_page::initrd_addr_max) + 1ull, low_end);
        const std::uint64_t size = *initrd_size;
        if (size == 0 || size > limit || ((limit - size) & ~0xFFFull) < plan.kernel_end) {
            throw ImageError("the initrd does not fit in guest RAM below the kernel's limit");
        }
        plan.initrd_at = (limit - size) & ~0xFFFull;
    }
    return plan;
}

std::optional<std::uint64_t> size_of(const std::optional<std::span<const std::uint8_t>>& initrd) {
    return initrd ? std::optional<std::uint64_t>(initrd->size()) : std::nullopt;
}

}  // namespace

void check_bzimage(std::span<const std::uint8_t> kernel, std::optional<std::span<const std::uint8_t>> initrd,
                   const std::string& command_line, std::uint64_t memory_size, const VmlinuxImage* unpacked) {
    (void)plan_bzimage(kernel, size_of(initrd), command_line, GuestMemory::memory_map_for(memory_size), unpacked);
}

acrn_regs load_bzimage(std::span<const std::uint8_t> kernel, std::optional<std::span<const std::uint8_t>> initrd,
                       const std::string& command_line, const GuestMemory& memory, const VmlinuxImage* unpacked) {
    using Layout = BzImageLayout;
    const BzImagePlan plan = plan_bzimage(kernel, size_of(initrd), command_line, memory.memory_map(), unpacked);
    if (unpacked == nullptr) {
        write_or_throw(memory, Layout::kKernelAddress, kernel.data() + plan.setup_size, kernel.size() - plan.setup_size,
                       "the kernel");
    } else {
        const std::vector<std::uint8_t> zeros(1 << 20, 0);
        for (const KernelSegment& segment : unpacked->segments) {
            write_or_throw(memory, segment.physical_address, segment.file_bytes.data(), segment.file_bytes.size(),
                           "the unpacked kernel");
            // What the file does not hold is zero (a reset reuses the memory).
            for (std::uint64_t at = segment.file_bytes.size(); at < segment.memory_size;) {
                const std::uint64_t size = std::min<std::uint64_t>(zeros.size(), segment.memory_size - at);
                write_or_throw(memory, segment.physical_address + at, zeros.data(), size, "the unpacked kernel");
                at += size;
            }
        }
    }

    std::vector<std::uint8_t> page(4096, 0);
    const std::size_t header_length = std::min<std::size_t>(
        zero_page::setup_header_end, 0x202 + kernel[0x201]) - zero_page::setup_header;  // the header's own length
    std::memcpy(page.data() + zero_page::setup_header, kernel.data() + zero_page::setup_header, header_length);
    put<std::uint8_t>(page, zero_page::type_of_loader, 0xFF);
    put<std::uint8_t>(page, zero_page::loadflags,
                      static_cast<std::uint8_t>(get<std::uint8_t>(kernel, zero_page::loadflags) | kCanUseHeap));
    put<std::uint32_t>(page, zero_page::cmd_line_ptr, static_cast<std::uint32_t>(Layout::kCommandLineAddress));
    write_or_throw(memory, Layout::kCommandLineAddress, command_line.c_str(), command_line.size() + 1,
                   "the command line");

    if (initrd) {
        write_or_throw(memory, plan.initrd_at, initrd->data(), initrd->size(), "the initrd");
        put<std::uint32_t>(page, zero_page::ramdisk_image, static_cast<std::uint32_t>(plan.initrd_at));
        put<std::uint32_t>(page, zero_page::ramdisk_size, static_cast<std::uint32_t>(initrd->size()));
    }

    std::uint8_t entries = 0;
    for (const GuestMemory::MapEntry& entry : memory.memory_map()) {
        add_e820(page, entries, entry.base, entry.size, entry.type);
    }
    static_assert(zero_page::e820_max >= 4);
    put<std::uint8_t>(page, zero_page::e820_entries, entries);
    write_or_throw(memory, Layout::kZeroPageAddress, page.data(), page.size(), "the zero page");

    // null, unused, 64-bit code (__BOOT_CS 0x10), data (__BOOT_DS 0x18)
    const std::uint64_t gdt[4] = {0, 0, 0x00AF9B000000FFFFull, 0x00CF93000000FFFFull};
    write_or_throw(memory, Layout::kGdtAddress, gdt, sizeof(gdt), "the boot GDT");
    write_page_tables(memory);

    acrn_regs regs{};
    regs.gprs.rsi = Layout::kZeroPageAddress;
    // startup_64: the compressed kernel's, 0x200 into it; or the unpacked one's.
    regs.rip = unpacked != nullptr ? unpacked->entry_physical : Layout::kKernelAddress + 0x200;
    regs.rflags = 0x2;
    regs.cr0 = 0x8000'0011;  // PG, ET, PE
    regs.cr3 = Layout::kPageTablesAddress;
    regs.cr4 = 0x20;            // PAE
    regs.ia32_efer = 0x500;     // LME, LMA
    regs.cs_sel = 0x10;
    regs.cs_limit = 0xFFFF'FFFF;
    regs.cs_ar = 0xA09B;  // G, L, P, S, execute/read accessed
    regs.ds_sel = regs.es_sel = regs.fs_sel = regs.gs_sel = regs.ss_sel = 0x18;
    regs.gdt.base = Layout::kGdtAddress;
    regs.gdt.limit = sizeof(gdt) - 1;
    return regs;
}

}  // namespace acrn::dm
