// The multiboot loader on ELF images built in memory.
#include <elf.h>
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "dm/guest_memory.hpp"
#include "dm/loader/multiboot.hpp"

namespace acrn::dm {
namespace {

// A minimal multiboot ELF32: one PT_LOAD segment at 1 MiB holding the
// multiboot header followed by `code`.
std::vector<std::uint8_t> make_image(std::uint32_t load_address = 0x100000, std::uint32_t header_flags = 0x3) {
    std::vector<std::uint8_t> image(0x1000 + 64, 0);
    Elf32_Ehdr ehdr{};
    std::memcpy(ehdr.e_ident, ELFMAG, SELFMAG);
    ehdr.e_ident[EI_CLASS] = ELFCLASS32;
    ehdr.e_ident[EI_DATA] = ELFDATA2LSB;
    ehdr.e_ident[EI_VERSION] = EV_CURRENT;
    ehdr.e_type = ET_EXEC;
    ehdr.e_machine = EM_386;
    ehdr.e_version = EV_CURRENT;
    ehdr.e_entry = load_address + 12;
    ehdr.e_phoff = sizeof(Elf32_Ehdr);
    ehdr.e_ehsize = sizeof(Elf32_Ehdr);
    ehdr.e_phentsize = sizeof(Elf32_Phdr);
    ehdr.e_phnum = 1;
    std::memcpy(image.data(), &ehdr, sizeof(ehdr));
    Elf32_Phdr phdr{};
    phdr.p_type = PT_LOAD;
    phdr.p_offset = 0x1000;
    phdr.p_vaddr = phdr.p_paddr = load_address;
    phdr.p_filesz = 64;
    phdr.p_memsz = 0x2000;  // the rest is .bss and must be zeroed
    std::memcpy(image.data() + sizeof(ehdr), &phdr, sizeof(phdr));
    const std::uint32_t header[3] = {kMultibootHeaderMagic, header_flags, 0u - kMultibootHeaderMagic - header_flags};
    std::memcpy(image.data() + 0x1000, header, sizeof(header));
    image[0x1000 + 12] = 0xF4;  // hlt
    return image;
}

TEST(MultibootTest, LoadsSegmentsAndDescribesMemory) {
    GuestMemory memory(16 << 20);
    std::memset(memory.span(0x100000 + 64, 16).data(), 0xAA, 16);  // stale bytes in .bss
    const acrn_regs regs = load_multiboot_elf(make_image(), "console=ttyS0 exit=3", memory);
    EXPECT_EQ(regs.gprs.rax, kMultibootBootloaderMagic);
    EXPECT_EQ(regs.rip, 0x10000Cu);
    EXPECT_EQ(regs.cr0 & 1, 1u);
    EXPECT_EQ(regs.cs_ar & 0x4000, 0x4000u);  // 32-bit code segment
    std::uint8_t code = 0;
    ASSERT_TRUE(memory.read(0x10000C, &code, 1));
    EXPECT_EQ(code, 0xF4);
    std::uint8_t bss = 0xFF;
    ASSERT_TRUE(memory.read(0x100000 + 64, &bss, 1));
    EXPECT_EQ(bss, 0);

    std::uint32_t info[17] = {};
    ASSERT_TRUE(memory.read(regs.gprs.rbx, info, sizeof(info)));
    EXPECT_EQ(info[0] & 0x45, 0x45u);       // memory, cmdline, mmap
    EXPECT_EQ(info[1], 639u);               // mem_lower in KiB
    EXPECT_EQ(info[2], (15u << 20) / 1024);  // mem_upper: RAM above 1 MiB
    char cmdline[32] = {};
    ASSERT_TRUE(memory.read(info[4], cmdline, sizeof(cmdline) - 1));
    EXPECT_STREQ(cmdline, "console=ttyS0 exit=3");
    EXPECT_EQ(info[11], 48u);  // two memory-map entries of 24 bytes
}

TEST(MultibootTest, MemoryAbove2GiBIsInTheMapAbove4GiB) {
    GuestMemory memory((2ull << 30) + (64 << 20));
    const acrn_regs regs = load_multiboot_elf(make_image(), "", memory);
    std::uint32_t info[17] = {};
    ASSERT_TRUE(memory.read(regs.gprs.rbx, info, sizeof(info)));
    ASSERT_EQ(info[11], 72u);
    std::uint8_t entry[24] = {};
    ASSERT_TRUE(memory.read(info[12] + 48, entry, sizeof(entry)));
    std::uint64_t base = 0;
    std::uint64_t length = 0;
    std::memcpy(&base, entry + 4, 8);
    std::memcpy(&length, entry + 12, 8);
    EXPECT_EQ(base, 4ull << 30);
    EXPECT_EQ(length, 64ull << 20);
}

TEST(MultibootTest, RejectsWhatCannotBeBooted) {
    GuestMemory memory(16 << 20);
    std::vector<std::uint8_t> not_elf(100, 0x7F);
    EXPECT_THROW((void)load_multiboot_elf(not_elf, "", memory), ImageError);
    EXPECT_THROW((void)load_multiboot_elf({}, "", memory), ImageError);

    auto no_header = make_image();
    std::memset(no_header.data() + 0x1000, 0, 12);
    EXPECT_THROW((void)load_multiboot_elf(no_header, "", memory), ImageError);

    auto bad_checksum = make_image();
    bad_checksum[0x1000 + 8] ^= 1;
    EXPECT_THROW((void)load_multiboot_elf(bad_checksum, "", memory), ImageError);

    EXPECT_THROW((void)load_multiboot_elf(make_image(64 << 20), "", memory), ImageError);  // beyond RAM
    EXPECT_THROW((void)load_multiboot_elf(make_image(0x1000), "", memory), ImageError);    // over low memory
    EXPECT_THROW((void)load_multiboot_elf(make_image(0x100000, 0x10003), "", memory), ImageError);  // a.out kludge

    auto truncated = make_image();
    truncated.resize(0x1010);
    EXPECT_THROW((void)load_multiboot_elf(truncated, "", memory), ImageError);
    EXPECT_THROW((void)load_multiboot_elf(make_image(), std::string(4096, 'a'), memory), ImageError);
}

std::string load_error(std::span<const std::uint8_t> image, const GuestMemory& memory) {
    try {
        (void)load_multiboot_elf(image, "", memory);
    } catch (const ImageError& error) {
        return error.what();
    }
    return "loaded";
}

// The memory map reports [0x9FC00, 1 MiB) reserved, and the ACPI tables are
// already at 0xE0000 when the image is loaded: no segment may land there.
TEST(MultibootTest, RefusesSegmentsInTheReservedHoleBelow1MiB) {
    GuestMemory memory(16 << 20);
    const std::uint8_t rsdp_marker[8] = {'R', 'S', 'D', ' ', 'P', 'T', 'R', ' '};
    ASSERT_TRUE(memory.write(0xE0000, rsdp_marker, sizeof(rsdp_marker)));
    for (const std::uint32_t at : {0x9FC00u, 0xA0000u, 0xE0000u, 0xFF000u /* into RAM at 1 MiB */}) {
        const std::string error = load_error(make_image(at), memory);
        EXPECT_NE(error.find("segment 0"), std::string::npos) << std::hex << at << ": " << error;
        EXPECT_NE(error.find("reserved"), std::string::npos) << std::hex << at << ": " << error;
    }
    std::uint8_t seen[8] = {};
    ASSERT_TRUE(memory.read(0xE0000, seen, sizeof(seen)));
    EXPECT_EQ(std::memcmp(seen, rsdp_marker, sizeof(seen)), 0);
}

std::string check_error(std::span<const std::uint8_t> image, std::uint64_t memory_size,
                        const std::string& command_line = "") {
    try {
        check_multiboot_elf(image, command_line, memory_size);
    } catch (const ImageError& error) {
        return error.what();
    }
    return "fine";
}

TEST(MultibootTest, ChecksAnImageWithoutGuestMemory) {
    EXPECT_EQ(check_error(make_image(), 16 << 20), "fine");
    EXPECT_NE(check_error(make_image(0x9FC00), 16 << 20).find("segment 0"), std::string::npos);
    EXPECT_NE(check_error(make_image(0x1000), 16 << 20).find("low memory"), std::string::npos);
    EXPECT_NE(check_error(make_image(64 << 20), 16 << 20).find("segment 0"), std::string::npos);
    EXPECT_EQ(check_error(make_image(64 << 20), 128 << 20), "fine");
    // The last byte of low RAM, and a segment that would run over it.
    EXPECT_EQ(check_error(make_image((16 << 20) - 0x2000), 16 << 20), "fine");
    EXPECT_NE(check_error(make_image((16 << 20) - 0x1000), 16 << 20).find("segment 0"), std::string::npos);
    EXPECT_NE(check_error(make_image(), 16 << 20, std::string(4096, 'a')).find("command line"), std::string::npos);
    EXPECT_NE(check_error({}, 16 << 20).find("truncated"), std::string::npos);
    EXPECT_THROW(check_multiboot_elf(make_image(), "", 0), std::invalid_argument);
}

TEST(MultibootTest, SurvivesRandomCorruption) {
    GuestMemory memory(16 << 20);
    const auto good = make_image();
    std::uint32_t seed = 12345;
    for (int round = 0; round < 2000; ++round) {
        auto image = good;
        for (int flips = 0; flips < 4; ++flips) {
            seed = seed * 1103515245 + 12345;
            image[(seed >> 8) % 0x100] = static_cast<std::uint8_t>(seed >> 24);
        }
        // The check without memory and the loader agree on every image.
        const bool checked = check_error(image, 16 << 20, "x") == "fine";
        bool loaded = true;
        try {
            (void)load_multiboot_elf(image, "x", memory);
        } catch (const ImageError&) {
            loaded = false;
        }
        ASSERT_EQ(checked, loaded) << "round " << round;
    }
}

}  // namespace
}  // namespace acrn::dm
