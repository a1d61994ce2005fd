// The Linux boot-protocol loader on bzImage headers built in memory.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "dm/guest_memory.hpp"
#include "dm/loader/bzimage.hpp"

namespace acrn::dm {
namespace {

// Setup header of a 2.15 x86-64 bzImage with 3 setup sectors, followed by
// a recognisable protected-mode kernel.
std::vector<std::uint8_t> make_bzimage(std::uint16_t protocol = 0x020F, std::uint16_t xloadflags = 1) {
    std::vector<std::uint8_t> image(4 * 512 + 0x4000, 0);
    auto put16 = [&](std::size_t at, std::uint16_t v) { std::memcpy(&image[at], &v, 2); };
    auto put32 = [&](std::size_t at, std::uint32_t v) { std::memcpy(&image[at], &v, 4); };
    image[0x1F1] = 3;                  // setup_sects
    put16(0x1FE, 0xAA55);              // boot_flag
    image[0x200] = 0xEB;               // jump over the header ...
    image[0x201] = 0x66;               // ... which ends at 0x202 + 0x66
    put32(0x202, 0x53726448);          // "HdrS"
    put16(0x206, protocol);
    image[0x211] = 0x01;               // LOADED_HIGH
    put32(0x22C, 0x7FFF'FFFF);         // initrd_addr_max
    put16(0x236, xloadflags);
    put32(0x238, 2047);                // cmdline_size
    put32(0x260, 0x80'0000);           // init_size: 8 MiB
    for (std::size_t i = 4 * 512; i < image.size(); ++i) {
        image[i] = static_cast<std::uint8_t>(i * 7);
    }
    return image;
}

template <typename T>
T read_guest(const GuestMemory& memory, std::uint64_t gpa) {
    T value{};
    EXPECT_TRUE(memory.read(gpa, &value, sizeof(T)));
    return value;
}

TEST(BzImageTest, LoadsKernelZeroPageAndLongModeEntry) {
    GuestMemory memory(256ull << 20);
    const auto image = make_bzimage();
    const std::vector<std::uint8_t> initrd(100000, 0x5A);
    const acrn_regs regs = load_bzimage(image, std::span<const std::uint8_t>(initrd), "console=ttyS0", memory);

    EXPECT_EQ(regs.rip, 0x100200u);  // startup_64
    EXPECT_EQ(regs.gprs.rsi, BzImageLayout::kZeroPageAddress);
    EXPECT_EQ(regs.ia32_efer & 0x500, 0x500u);
    EXPECT_EQ(regs.cr0 & 0x8000'0001, 0x8000'0001u);
    EXPECT_EQ(regs.cs_ar & 0x2000, 0x2000u);  // 64-bit code segment
    EXPECT_EQ(read_guest<std::uint8_t>(memory, 0x100000), image[4 * 512]);
    EXPECT_EQ(read_guest<std::uint8_t>(memory, 0x100123), image[4 * 512 + 0x123]);

    const std::uint64_t zero = BzImageLayout::kZeroPageAddress;
    EXPECT_EQ(read_guest<std::uint32_t>(memory, zero + 0x202), 0x53726448u);  // header copied
    EXPECT_EQ(read_guest<std::uint8_t>(memory, zero + 0x210), 0xFFu);        // type_of_loader
    const auto cmdline_at = read_guest<std::uint32_t>(memory, zero + 0x228);
    char cmdline[16] = {};
    ASSERT_TRUE(memory.read(cmdline_at, cmdline, 14));
    EXPECT_STREQ(cmdline, "console=ttyS0");

    const auto initrd_at = read_guest<std::uint32_t>(memory, zero + 0x218);
    EXPECT_EQ(read_guest<std::uint32_t>(memory, zero + 0x21C), initrd.size());
    EXPECT_EQ(initrd_at % 4096, 0u);
    EXPECT_GE(initrd_at, 0x100000u + 0x80'0000u);  // clear of the kernel's init_size
    EXPECT_LE(initrd_at + initrd.size(), 256ull << 20);
    EXPECT_EQ(read_guest<std::uint8_t>(memory, initrd_at + 99999), 0x5A);

    // e820: low RAM, the EBDA/BIOS hole, RAM from 1 MiB, the reserved ECAM.
    ASSERT_EQ(read_guest<std::uint8_t>(memory, zero + 0x1E8), 4);
    EXPECT_EQ(read_guest<std::uint64_t>(memory, zero + 0x2D0 + 40), 0x100000u);
    EXPECT_EQ(read_guest<std::uint64_t>(memory, zero + 0x2D0 + 48), (256ull << 20) - 0x100000);
    EXPECT_EQ(read_guest<std::uint32_t>(memory, zero + 0x2D0 + 56), 1u);
    EXPECT_EQ(read_guest<std::uint64_t>(memory, zero + 0x2D0 + 60), 0xE000'0000u);
    EXPECT_EQ(read_guest<std::uint32_t>(memory, zero + 0x2D0 + 76), 2u);

    // The identity map covers the kernel: PML4[0] -> PDPT[0] -> PD[0] = 2 MiB page at 0.
    const auto pml4 = read_guest<std::uint64_t>(memory, regs.cr3);
    const auto pdpt = read_guest<std::uint64_t>(memory, pml4 & ~0xFFFull);
    const auto pd1 = read_guest<std::uint64_t>(memory, (pdpt & ~0xFFFull) + 8);
    EXPECT_EQ(pd1 & ~0xFFFull, 2u << 20);
    EXPECT_EQ(pd1 & 0x83, 0x83u);
}

TEST(BzImageTest, HighMemoryIsInTheE820Map) {
    GuestMemory memory((2ull << 30) + (64ull << 20));
    (void)load_bzimage(make_bzimage(), std::nullopt, "", memory);
    const std::uint64_t zero = BzImageLayout::kZeroPageAddress;
    ASSERT_EQ(read_guest<std::uint8_t>(memory, zero + 0x1E8), 5);
    EXPECT_EQ(read_guest<std::uint64_t>(memory, zero + 0x2D0 + 80), 4ull << 30);
    EXPECT_EQ(read_guest<std::uint64_t>(memory, zero + 0x2D0 + 88), 64ull << 20);
    EXPECT_EQ(read_guest<std::uint32_t>(memory, zero + 0x218), 0u);  // no initrd
}

TEST(BzImageTest, RejectsWhatCannotBeBooted) {
    GuestMemory memory(128ull << 20);
    EXPECT_THROW((void)load_bzimage(std::vector<std::uint8_t>(100, 0), std::nullopt, "", memory), ImageError);
    auto no_magic = make_bzimage();
    no_magic[0x202] = 'X';
    EXPECT_THROW((void)load_bzimage(no_magic, std::nullopt, "", memory), ImageError);
    EXPECT_THROW((void)load_bzimage(make_bzimage(0x0205), std::nullopt, "", memory), ImageError);  // too old
    EXPECT_THROW((void)load_bzimage(make_bzimage(0x020F, 0), std::nullopt, "", memory), ImageError);  // 32-bit only
    EXPECT_THROW((void)load_bzimage(make_bzimage(), std::nullopt, std::string(3000, 'a'), memory), ImageError);
    const std::vector<std::uint8_t> huge_initrd(125ull << 20, 1);
    EXPECT_THROW((void)load_bzimage(make_bzimage(), std::span<const std::uint8_t>(huge_initrd), "", memory),
                 ImageError);
    const std::vector<std::uint8_t> empty_initrd;
    EXPECT_THROW((void)load_bzimage(make_bzimage(), std::span<const std::uint8_t>(empty_initrd), "", memory),
                 ImageError);
}

// A kernel may claim to accept a command line longer than the room between
// 0x20000 and the EBDA; the rest would run over the ACPI tables at 0xE0000.
TEST(BzImageTest, RefusesACommandLineThatWouldReachTheFirmwareArea) {
    GuestMemory memory(128ull << 20);
    auto generous = make_bzimage();
    const std::uint32_t unlimited = 0xFFFF'FFFF;
    std::memcpy(&generous[0x238], &unlimited, 4);
    const std::uint8_t marker[4] = {'R', 'S', 'D', ' '};
    ASSERT_TRUE(memory.write(0xE0000, marker, sizeof(marker)));
    const std::string longest(0x9FC00 - BzImageLayout::kCommandLineAddress - 1, 'a');
    EXPECT_NO_THROW((void)load_bzimage(generous, std::nullopt, longest, memory));
    const std::string too_long(0xE0000 - BzImageLayout::kCommandLineAddress + 16, 'a');
    EXPECT_THROW((void)load_bzimage(generous, std::nullopt, too_long, memory), ImageError);
    std::uint8_t seen[4] = {};
    ASSERT_TRUE(memory.read(0xE0000, seen, sizeof(seen)));
    EXPECT_EQ(std::memcmp(seen, marker, sizeof(seen)), 0);
}

TEST(BzImageTest, ChecksAnImageWithoutGuestMemory) {
    const std::vector<std::uint8_t> initrd(100000, 0x5A);
    EXPECT_NO_THROW(
        check_bzimage(make_bzimage(), std::span<const std::uint8_t>(initrd), "console=ttyS0", 256ull << 20));
    EXPECT_NO_THROW(check_bzimage(make_bzimage(), std::nullopt, "", 16ull << 20));  // 1 MiB + 8 MiB init_size fits
    EXPECT_THROW(check_bzimage(make_bzimage(), std::nullopt, "", 8ull << 20), ImageError);  // it does not
    EXPECT_THROW(check_bzimage(make_bzimage(0x0205), std::nullopt, "", 256ull << 20), ImageError);
    EXPECT_THROW(check_bzimage(make_bzimage(), std::nullopt, std::string(3000, 'a'), 256ull << 20), ImageError);
    const std::vector<std::uint8_t> huge_initrd(125ull << 20, 1);
    EXPECT_THROW(check_bzimage(make_bzimage(), std::span<const std::uint8_t>(huge_initrd), "", 128ull << 20),
                 ImageError);
    EXPECT_NO_THROW(check_bzimage(make_bzimage(), std::span<const std::uint8_t>(huge_initrd), "", 256ull << 20));
    EXPECT_THROW(check_bzimage(make_bzimage(), std::nullopt, "", 0), std::invalid_argument);
}

TEST(BzImageTest, SurvivesRandomCorruption) {
    GuestMemory memory(128ull << 20);
    const auto good = make_bzimage();
    std::uint32_t seed = 777;
    for (int round = 0; round < 2000; ++round) {
        auto image = good;
        for (int flips = 0; flips < 4; ++flips) {
            seed = seed * 1103515245 + 12345;
            image[0x1F0 + (seed >> 8) % 0x80] = static_cast<std::uint8_t>(seed >> 24);
        }
        // The check without memory and the loader agree on every image.
        bool checked = true;
        try {
            check_bzimage(image, std::nullopt, "x", 128ull << 20);
        } catch (const ImageError&) {
            checked = false;
        }
        bool loaded = true;
        try {
            (void)load_bzimage(image, std::nullopt, "x", memory);
        } catch (const ImageError&) {
            loaded = false;
        }
        ASSERT_EQ(checked, loaded) << "round " << round;
    }
}

}  // namespace
}  // namespace acrn::dm
