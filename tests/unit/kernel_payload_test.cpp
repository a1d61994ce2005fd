// A bzImage's payload found and unpacked on the host, for every format the
// libraries give, and the kernel ELF inside it parsed: synthetic images made
// here from a small vmlinux-like ELF, compressed as the kernel's build does
// (the stream, then the unpacked size in 4 bytes).
#include "dm/loader/kernel_payload.hpp"

#include <bzlib.h>
#include <elf.h>
#include <gtest/gtest.h>
#include <lz4.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include <cstring>
#include <string>
#include <vector>

#include "dm/loader/multiboot.hpp"
#include "dm/loader/vmlinux_elf.hpp"

namespace acrn::dm {
namespace {

using Bytes = std::vector<std::uint8_t>;

constexpr std::uint64_t kKernelMap = 0xffffffff80000000ull;  // __START_KERNEL_map
constexpr std::uint64_t kTextPhysical = 0x1000000;
constexpr std::size_t kLimit = 64 << 20;

template <typename T>
void put(Bytes& bytes, std::size_t offset, T value) {
    std::memcpy(bytes.data() + offset, &value, sizeof value);
}

struct SegmentSpec {
    std::uint64_t physical;
    std::size_t file_size;
    std::uint64_t memory_size;
};

// An ELF64 x86-64 executable with one PT_LOAD per spec (virtual = physical +
// __START_KERNEL_map), the entry at the start of the first, and some bytes
// after the segments (where the kernel's relocation table goes).
Bytes make_vmlinux(const std::vector<SegmentSpec>& specs) {
    const std::size_t headers = sizeof(Elf64_Ehdr) + specs.size() * sizeof(Elf64_Phdr);
    std::size_t offset = (headers + 4095) & ~std::size_t{4095};
    Bytes elf(offset);
    Elf64_Ehdr header{};
    std::memcpy(header.e_ident, ELFMAG, SELFMAG);
    header.e_ident[EI_CLASS] = ELFCLASS64;
    header.e_ident[EI_DATA] = ELFDATA2LSB;
    header.e_ident[EI_VERSION] = EV_CURRENT;
    header.e_type = ET_EXEC;
    header.e_machine = EM_X86_64;
    header.e_version = EV_CURRENT;
    header.e_entry = specs.front().physical + kKernelMap;
    header.e_phoff = sizeof(Elf64_Ehdr);
    header.e_ehsize = sizeof(Elf64_Ehdr);
    header.e_phentsize = sizeof(Elf64_Phdr);
    header.e_phnum = static_cast<std::uint16_t>(specs.size());
    std::memcpy(elf.data(), &header, sizeof header);
    for (std::size_t i = 0; i < specs.size(); ++i) {
        Elf64_Phdr segment{};
        segment.p_type = PT_LOAD;
        segment.p_flags = PF_R | PF_X;
        segment.p_offset = offset;
        segment.p_vaddr = specs[i].physical + kKernelMap;
        segment.p_paddr = specs[i].physical;
        segment.p_filesz = specs[i].file_size;
        segment.p_memsz = specs[i].memory_size;
        segment.p_align = 0x200000;
        std::memcpy(elf.data() + sizeof(Elf64_Ehdr) + i * sizeof segment, &segment, sizeof segment);
        for (std::size_t b = 0; b < specs[i].file_size; ++b) {
            elf.push_back(static_cast<std::uint8_t>((b * 7 + i * 13) % 251));
        }
        offset += specs[i].file_size;
    }
    const std::string relocations = "relocation table";
    elf.insert(elf.end(), relocations.begin(), relocations.end());
    return elf;
}

Bytes compress(PayloadFormat format, const Bytes& data) {
    Bytes out;
    switch (format) {
        case PayloadFormat::xz: {
            out.resize(lzma_stream_buffer_bound(data.size()));
            std::size_t written = 0;
            EXPECT_EQ(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC32, nullptr, data.data(), data.size(), out.data(),
                                              &written, out.size()),
                      LZMA_OK);
            out.resize(written);
            break;
        }
        case PayloadFormat::lzma: {
            lzma_options_lzma options{};
            lzma_lzma_preset(&options, 6);
            lzma_stream stream = LZMA_STREAM_INIT;
            EXPECT_EQ(lzma_alone_encoder(&stream, &options), LZMA_OK);
            out.resize(data.size() + 4096);
            stream.next_in = data.data();
            stream.avail_in = data.size();
            stream.next_out = out.data();
            stream.avail_out = out.size();
            EXPECT_EQ(lzma_code(&stream, LZMA_FINISH), LZMA_STREAM_END);
            out.resize(out.size() - stream.avail_out);
            lzma_end(&stream);
            break;
        }
        case PayloadFormat::gzip: {
            z_stream stream{};
            EXPECT_EQ(deflateInit2(&stream, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
            out.resize(deflateBound(&stream, data.size()) + 64);
            stream.next_in = const_cast<Bytef*>(data.data());
            stream.avail_in = static_cast<uInt>(data.size());
            stream.next_out = out.data();
            stream.avail_out = static_cast<uInt>(out.size());
            EXPECT_EQ(deflate(&stream, Z_FINISH), Z_STREAM_END);
            out.resize(stream.total_out);
            deflateEnd(&stream);
            break;
        }
        case PayloadFormat::bzip2: {
            unsigned size = static_cast<unsigned>(data.size() + data.size() / 100 + 700);
            out.resize(size);
            EXPECT_EQ(BZ2_bzBuffToBuffCompress(reinterpret_cast<char*>(out.data()), &size,
                                               const_cast<char*>(reinterpret_cast<const char*>(data.data())),
                                               static_cast<unsigned>(data.size()), 9, 0, 0),
                      BZ_OK);
            out.resize(size);
            break;
        }
        case PayloadFormat::zstd: {
            out.resize(ZSTD_compressBound(data.size()));
            const std::size_t size = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 19);
            EXPECT_FALSE(ZSTD_isError(size));
            out.resize(size);
            break;
        }
        case PayloadFormat::lz4: {
            out = {0x02, 0x21, 0x4C, 0x18};  // the legacy frame's magic, then the blocks
            constexpr std::size_t kBlock = 8 << 20;
            for (std::size_t at = 0; at < data.size(); at += kBlock) {
                const int in_size = static_cast<int>(std::min(kBlock, data.size() - at));
                std::vector<char> block(static_cast<std::size_t>(LZ4_compressBound(in_size)));
                const int size = LZ4_compress_default(reinterpret_cast<const char*>(data.data() + at), block.data(),
                                                      in_size, static_cast<int>(block.size()));
                EXPECT_GT(size, 0);
                const auto length = static_cast<std::uint32_t>(size);
                out.insert(out.end(), reinterpret_cast<const std::uint8_t*>(&length),
                           reinterpret_cast<const std::uint8_t*>(&length) + 4);
                out.insert(out.end(), block.begin(), block.begin() + size);
            }
            break;
        }
        default: ADD_FAILURE() << "no encoder for " << to_string(format);
    }
    // The kernel's build appends the unpacked size.
    const auto size = static_cast<std::uint32_t>(data.size());
    out.insert(out.end(), reinterpret_cast<const std::uint8_t*>(&size), reinterpret_cast<const std::uint8_t*>(&size) + 4);
    return out;
}

// A bzImage around `payload`: one setup sector, boot protocol 2.15, the
// payload 0x100 bytes into the protected-mode code.
Bytes make_bzimage(const Bytes& payload, std::uint16_t version = 0x020F) {
    constexpr std::size_t kCode = 2 * 512;
    constexpr std::uint32_t kPayloadOffset = 0x100;
    Bytes image(kCode + kPayloadOffset, 0);
    image[0x1F1] = 1;
    put<std::uint16_t>(image, 0x1FE, 0xAA55);
    put<std::uint32_t>(image, 0x202, 0x53726448);
    put<std::uint16_t>(image, 0x206, version);
    put<std::uint32_t>(image, 0x248, kPayloadOffset);
    put<std::uint32_t>(image, 0x24C, static_cast<std::uint32_t>(payload.size()));
    const std::size_t at = image.size();
    image.resize(at + payload.size() + 512, 0xCC);  // what follows the payload in a real image
    std::copy(payload.begin(), payload.end(), image.begin() + static_cast<std::ptrdiff_t>(at));
    return image;
}

const std::vector<SegmentSpec> kSegments = {{kTextPhysical, 12000, 16384}, {kTextPhysical + 0x400000, 5000, 9000}};

class KernelPayloadFormats : public ::testing::TestWithParam<PayloadFormat> {};

TEST_P(KernelPayloadFormats, UnpacksToTheKernelElfAndItsSegments) {
    const Bytes vmlinux = make_vmlinux(kSegments);
    const Bytes image = make_bzimage(compress(GetParam(), vmlinux));
    const KernelPayload payload = find_payload(image);
    EXPECT_EQ(payload.format, GetParam());
    const Bytes unpacked = decompress_payload(payload, kLimit);
    ASSERT_EQ(unpacked, vmlinux);
    const VmlinuxImage kernel = parse_vmlinux(unpacked);
    ASSERT_EQ(kernel.segments.size(), 2u);
    EXPECT_EQ(kernel.entry_physical, kTextPhysical);
    EXPECT_EQ(kernel.segments[0].physical_address, kTextPhysical);
    EXPECT_EQ(kernel.segments[0].file_bytes.size(), 12000u);
    EXPECT_EQ(kernel.segments[0].memory_size, 16384u);
    EXPECT_EQ(kernel.segments[1].file_bytes[1], 20);  // (1 * 7 + 1 * 13) % 251
    EXPECT_EQ(kernel.lowest, kTextPhysical);
    EXPECT_EQ(kernel.end, kTextPhysical + 0x400000 + 9000);
}

TEST_P(KernelPayloadFormats, ATruncatedOrCorruptPayloadIsRefusedNeverRead) {
    const Bytes vmlinux = make_vmlinux(kSegments);
    const Bytes compressed = compress(GetParam(), vmlinux);
    // Half the stream, the size it claims cut to match: nothing past it is read.
    Bytes image = make_bzimage(Bytes(compressed.begin(), compressed.begin() + compressed.size() / 2));
    EXPECT_THROW((void)decompress_payload(find_payload(image), kLimit), ImageError);
    Bytes corrupt = compressed;
    for (std::size_t i = corrupt.size() / 3; i < corrupt.size() / 3 + 16; ++i) {
        corrupt[i] ^= 0x5A;
    }
    try {
        const Bytes out = decompress_payload(find_payload(make_bzimage(corrupt)), kLimit);
        EXPECT_NE(out, vmlinux) << "a corrupt stream that still unpacks must not give the kernel";
    } catch (const ImageError& error) {
        EXPECT_NE(std::string(error.what()).find(to_string(GetParam())), std::string::npos) << error.what();
    }
}

TEST_P(KernelPayloadFormats, NoMoreThanTheLimitComesOut) {
    const Bytes vmlinux = make_vmlinux(kSegments);
    try {
        (void)decompress_payload(find_payload(make_bzimage(compress(GetParam(), vmlinux))), 8192);
        FAIL() << "unpacked past the limit";
    } catch (const ImageError& error) {
        EXPECT_NE(std::string(error.what()).find("more than"), std::string::npos) << error.what();
    }
}

INSTANTIATE_TEST_SUITE_P(Formats, KernelPayloadFormats,
                         ::testing::Values(PayloadFormat::xz, PayloadFormat::lzma, PayloadFormat::gzip,
                                           PayloadFormat::bzip2, PayloadFormat::zstd, PayloadFormat::lz4),
                         [](const auto& info) { return std::string(to_string(info.param)); });

TEST(KernelPayloadTest, TheSetupHeaderMustSayWhereThePayloadIs) {
    const Bytes payload = compress(PayloadFormat::gzip, make_vmlinux(kSegments));
    EXPECT_THROW((void)find_payload(Bytes(100, 0)), ImageError);
    Bytes no_magic = make_bzimage(payload);
    put<std::uint32_t>(no_magic, 0x202, 0);
    EXPECT_THROW((void)find_payload(no_magic), ImageError);
    EXPECT_THROW((void)find_payload(make_bzimage(payload, 0x0207)), ImageError) << "payload fields came in 2.08";
    Bytes outside = make_bzimage(payload);
    put<std::uint32_t>(outside, 0x24C, 0xFFFFFFF0u);
    EXPECT_THROW((void)find_payload(outside), ImageError);
    put<std::uint32_t>(outside, 0x24C, 16);
    put<std::uint32_t>(outside, 0x248, 0xFFFFFFF0u);
    EXPECT_THROW((void)find_payload(outside), ImageError);
}

TEST(KernelPayloadTest, LzoAndUnknownFormatsAreRefusedByName) {
    Bytes lzo = {0x89, 'L', 'Z', 'O', 0, 0x0D, 0x0A, 0x1A, 0x0A};
    try {
        (void)decompress_payload(find_payload(make_bzimage(lzo)), kLimit);
        FAIL();
    } catch (const ImageError& error) {
        EXPECT_NE(std::string(error.what()).find("lzo"), std::string::npos) << error.what();
    }
    EXPECT_EQ(find_payload(make_bzimage(Bytes(64, 0x42))).format, PayloadFormat::unknown);
    EXPECT_THROW((void)decompress_payload(find_payload(make_bzimage(Bytes(64, 0x42))), kLimit), ImageError);
}

TEST(VmlinuxElfTest, BadElvesAreRefusedWithTheReason) {
    const Bytes good = make_vmlinux(kSegments);
    const auto refused = [](Bytes elf, const std::string& why) {
        try {
            (void)parse_vmlinux(elf);
            ADD_FAILURE() << "accepted: " << why;
        } catch (const ImageError& error) {
            EXPECT_NE(std::string(error.what()).find(why), std::string::npos) << error.what();
        }
    };
    refused(Bytes(good.begin(), good.begin() + 40), "shorter than an ELF64 header");
    Bytes other = good;
    other[0] = 0;
    refused(other, "no ELF magic");
    other = good;
    put<std::uint16_t>(other, offsetof(Elf64_Ehdr, e_machine), EM_386);
    refused(other, "x86-64");
    other = good;
    put<std::uint64_t>(other, offsetof(Elf64_Ehdr, e_phoff), good.size());
    refused(other, "program headers outside the file");
    other = good;
    put<std::uint64_t>(other, offsetof(Elf64_Ehdr, e_entry), 0xffffffff90000000ull);
    refused(other, "in none of its segments");
    other = good;
    const std::size_t second = sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr);
    put<std::uint64_t>(other, second + offsetof(Elf64_Phdr, p_paddr), kTextPhysical + 0x1000);
    refused(other, "overlap");
    other = good;
    put<std::uint64_t>(other, second + offsetof(Elf64_Phdr, p_filesz), good.size());
    refused(other, "outside the file");
    other = good;
    put<std::uint64_t>(other, second + offsetof(Elf64_Phdr, p_paddr), ~0ull - 100);
    refused(other, "wraps");
    EXPECT_NO_THROW((void)parse_vmlinux(good));
}

TEST(VmlinuxElfTest, APhysicalEntryAsLinuxLinksItIsTakenAsIs) {
    Bytes elf = make_vmlinux(kSegments);
    put<std::uint64_t>(elf, offsetof(Elf64_Ehdr, e_entry), kTextPhysical + 0x40);  // ENTRY(phys_startup_64)
    EXPECT_EQ(parse_vmlinux(elf).entry_physical, kTextPhysical + 0x40);
}

}  // namespace
}  // namespace acrn::dm
