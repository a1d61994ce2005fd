#include "dm/loader/kernel_payload.hpp"

#include <bzlib.h>
#include <lz4.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <climits>
#include <cstring>

#include "dm/loader/multiboot.hpp"  // ImageError

namespace acrn::dm {
namespace {

// The setup header (Documentation/arch/x86/boot.rst).
constexpr std::size_t kSetupSects = 0x1F1;
constexpr std::size_t kHeaderMagic = 0x202;
constexpr std::size_t kVersion = 0x206;
constexpr std::size_t kPayloadOffset = 0x248;
constexpr std::size_t kPayloadLength = 0x24C;
constexpr std::uint32_t kHdrS = 0x53726448;  // "HdrS"
constexpr std::uint16_t kPayloadProtocol = 0x0208;

constexpr std::size_t kChunk = 1 << 20;  // output grows by this much at a time

template <typename T>
T read_le(std::span<const std::uint8_t> bytes, std::size_t offset) {
    T value{};
    std::memcpy(&value, bytes.data() + offset, sizeof(T));
    return value;
}

bool starts_with(std::span<const std::uint8_t> bytes, std::initializer_list<std::uint8_t> magic) {
    return bytes.size() >= magic.size() && std::equal(magic.begin(), magic.end(), bytes.begin());
}

PayloadFormat format_of(std::span<const std::uint8_t> bytes) {
    if (starts_with(bytes, {0x1F, 0x8B}) || starts_with(bytes, {0x1F, 0x9E})) return PayloadFormat::gzip;
    if (starts_with(bytes, {0xFD, '7', 'z', 'X', 'Z', 0x00})) return PayloadFormat::xz;
    if (starts_with(bytes, {0x5D, 0x00, 0x00})) return PayloadFormat::lzma;
    if (starts_with(bytes, {'B', 'Z', 'h'})) return PayloadFormat::bzip2;
    if (starts_with(bytes, {0x89, 'L', 'Z', 'O'})) return PayloadFormat::lzo;
    if (starts_with(bytes, {0x02, 0x21, 0x4C, 0x18})) return PayloadFormat::lz4;
    if (starts_with(bytes, {0x28, 0xB5, 0x2F, 0xFD})) return PayloadFormat::zstd;
    return PayloadFormat::unknown;
}

// Ends a decoder however its function is left (a limit reached throws).
template <typename End>
struct OnExit {
    End end;
    ~OnExit() { end(); }
};
template <typename End>
OnExit(End) -> OnExit<End>;

[[noreturn]] void fail(PayloadFormat format, const std::string& why) {
    throw ImageError(std::string("-k: the kernel's ") + to_string(format) + " payload " + why);
}

// Grows `out` for the next piece of output; throws past `limit`.
std::uint8_t* room(std::vector<std::uint8_t>& out, std::size_t used, std::size_t limit, PayloadFormat format,
                   std::size_t& available) {
    if (used >= limit) {
        fail(format, "unpacks to more than " + std::to_string(limit >> 20) + " MiB");
    }
    if (out.size() == used) {
        out.resize(std::min(limit, used + kChunk));
    }
    available = out.size() - used;
    return out.data() + used;
}

std::vector<std::uint8_t> inflate_gzip(std::span<const std::uint8_t> in, std::size_t limit) {
    z_stream stream{};
    if (inflateInit2(&stream, 16 + MAX_WBITS) != Z_OK) {
        fail(PayloadFormat::gzip, "cannot be unpacked: zlib would not start");
    }
    const OnExit end{[&stream] { inflateEnd(&stream); }};
    std::vector<std::uint8_t> out;
    std::size_t used = 0;
    stream.next_in = const_cast<Bytef*>(in.data());
    stream.avail_in = static_cast<uInt>(std::min<std::size_t>(in.size(), UINT_MAX));
    int rc = Z_OK;
    while (rc != Z_STREAM_END) {
        std::size_t available = 0;
        stream.next_out = room(out, used, limit, PayloadFormat::gzip, available);
        stream.avail_out = static_cast<uInt>(std::min<std::size_t>(available, UINT_MAX));
        const uInt before = stream.avail_out;
        rc = inflate(&stream, Z_NO_FLUSH);
        used += before - stream.avail_out;
        if (rc != Z_OK && rc != Z_STREAM_END) {
            fail(PayloadFormat::gzip, rc == Z_BUF_ERROR ? "is truncated" : "is corrupt (zlib: " +
                                                                             std::string(stream.msg ? stream.msg : "?") + ")");
        }
    }
    out.resize(used);
    return out;
}

std::vector<std::uint8_t> unpack_lzma(std::span<const std::uint8_t> in, std::size_t limit, PayloadFormat format) {
    constexpr std::uint64_t kMemoryLimit = 256ull << 20;
    lzma_stream stream = LZMA_STREAM_INIT;
    const lzma_ret started = format == PayloadFormat::xz ? lzma_stream_decoder(&stream, kMemoryLimit, 0)
                                                         : lzma_alone_decoder(&stream, kMemoryLimit);
    if (started != LZMA_OK) {
        fail(format, "cannot be unpacked: liblzma would not start");
    }
    const OnExit end{[&stream] { lzma_end(&stream); }};
    std::vector<std::uint8_t> out;
    std::size_t used = 0;
    stream.next_in = in.data();
    stream.avail_in = in.size();
    lzma_ret rc = LZMA_OK;
    while (rc != LZMA_STREAM_END) {
        std::size_t available = 0;
        stream.next_out = room(out, used, limit, format, available);
        stream.avail_out = available;
        // The kernel appends its size after the stream: no more input is
        // finishing, not a truncation, only once the stream has ended.
        rc = lzma_code(&stream, stream.avail_in == 0 ? LZMA_FINISH : LZMA_RUN);
        used += available - stream.avail_out;
        if (rc != LZMA_OK && rc != LZMA_STREAM_END) {
            fail(format, rc == LZMA_BUF_ERROR ? "is truncated"
                         : rc == LZMA_MEMLIMIT_ERROR ? "needs more than 256 MiB to unpack"
                                                     : "is corrupt (liblzma error " + std::to_string(rc) + ")");
        }
    }
    out.resize(used);
    return out;
}

std::vector<std::uint8_t> unpack_bzip2(std::span<const std::uint8_t> in, std::size_t limit) {
    bz_stream stream{};
    if (BZ2_bzDecompressInit(&stream, 0, 0) != BZ_OK) {
        fail(PayloadFormat::bzip2, "cannot be unpacked: libbz2 would not start");
    }
    const OnExit end{[&stream] { BZ2_bzDecompressEnd(&stream); }};
    std::vector<std::uint8_t> out;
    std::size_t used = 0;
    stream.next_in = const_cast<char*>(reinterpret_cast<const char*>(in.data()));
    stream.avail_in = static_cast<unsigned>(std::min<std::size_t>(in.size(), UINT_MAX));
    int rc = BZ_OK;
    while (rc != BZ_STREAM_END) {
        std::size_t available = 0;
        stream.next_out = reinterpret_cast<char*>(room(out, used, limit, PayloadFormat::bzip2, available));
        stream.avail_out = static_cast<unsigned>(std::min<std::size_t>(available, UINT_MAX));
        const unsigned before = stream.avail_out;
        const unsigned input_before = stream.avail_in;
        rc = BZ2_bzDecompress(&stream);
        used += before - stream.avail_out;
        if (rc == BZ_OK && stream.avail_in == 0 && input_before == 0 && before == stream.avail_out) {
            rc = BZ_UNEXPECTED_EOF;
        }
        if (rc != BZ_OK && rc != BZ_STREAM_END) {
            fail(PayloadFormat::bzip2, rc == BZ_UNEXPECTED_EOF ? "is truncated" : "is corrupt");
        }
    }
    out.resize(used);
    return out;
}

std::vector<std::uint8_t> unpack_zstd(std::span<const std::uint8_t> in, std::size_t limit) {
    ZSTD_DStream* stream = ZSTD_createDStream();
    const OnExit end{[stream] { ZSTD_freeDStream(stream); }};
    if (stream == nullptr || ZSTD_isError(ZSTD_DCtx_setParameter(stream, ZSTD_d_windowLogMax, 31))) {
        fail(PayloadFormat::zstd, "cannot be unpacked: libzstd would not start");
    }
    std::vector<std::uint8_t> out;
    std::size_t used = 0;
    ZSTD_inBuffer input{in.data(), in.size(), 0};
    for (;;) {
        std::size_t available = 0;
        std::uint8_t* at = room(out, used, limit, PayloadFormat::zstd, available);
        ZSTD_outBuffer output{at, available, 0};
        const std::size_t rc = ZSTD_decompressStream(stream, &output, &input);
        used += output.pos;
        if (ZSTD_isError(rc)) {
            fail(PayloadFormat::zstd, std::string("is corrupt (libzstd: ") + ZSTD_getErrorName(rc) + ")");
        }
        if (rc == 0) {
            break;  // the frame is complete (the kernel's size may follow)
        }
        if (input.pos == input.size && output.pos < output.size) {
            fail(PayloadFormat::zstd, "is truncated");
        }
    }
    out.resize(used);
    return out;
}

// The kernel's lz4 payload is lz4's legacy frame: the magic, then blocks of
// a 32-bit compressed size and the data, each unpacking to at most 8 MiB;
// the kernel's own size (4 bytes) may follow the last one.
std::vector<std::uint8_t> unpack_lz4_legacy(std::span<const std::uint8_t> in, std::size_t limit) {
    constexpr std::uint32_t kLegacyMagic = 0x184C2102;
    constexpr std::size_t kBlockOutput = 8 << 20;
    const std::size_t largest_block = static_cast<std::size_t>(LZ4_compressBound(kBlockOutput));
    std::vector<std::uint8_t> out;
    std::size_t used = 0;
    std::size_t at = 4;  // past the magic
    while (in.size() - at >= 4) {
        const std::uint32_t block = read_le<std::uint32_t>(in, at);
        if (block == kLegacyMagic) {
            at += 4;  // concatenated frames
            continue;
        }
        if (in.size() - at == 4) {
            break;  // the kernel's size
        }
        at += 4;
        if (block == 0 || block > largest_block || block > in.size() - at) {
            fail(PayloadFormat::lz4, block > in.size() - at ? "is truncated" : "is corrupt (a block of " +
                                                                                 std::to_string(block) + " bytes)");
        }
        const std::size_t grow = std::min(kBlockOutput, limit - used);
        if (grow == 0) {
            fail(PayloadFormat::lz4, "unpacks to more than " + std::to_string(limit >> 20) + " MiB");
        }
        out.resize(used + grow);
        const int got = LZ4_decompress_safe(reinterpret_cast<const char*>(in.data() + at),
                                            reinterpret_cast<char*>(out.data() + used), static_cast<int>(block),
                                            static_cast<int>(grow));
        if (got < 0) {
            fail(PayloadFormat::lz4, grow < kBlockOutput
                                         ? "unpacks to more than " + std::to_string(limit >> 20) + " MiB"
                                         : "is corrupt");
        }
        used += static_cast<std::size_t>(got);
        at += block;
    }
    out.resize(used);
    return out;
}

}  // namespace

const char* to_string(PayloadFormat format) noexcept {
    switch (format) {
        case PayloadFormat::gzip: return "gzip";
        case PayloadFormat::xz: return "xz";
        case PayloadFormat::lzma: return "lzma";
        case PayloadFormat::bzip2: return "bzip2";
        case PayloadFormat::lzo: return "lzo";
        case PayloadFormat::lz4: return "lz4";
        case PayloadFormat::zstd: return "zstd";
        case PayloadFormat::unknown: return "unknown";
    }
    return "unknown";
}

KernelPayload find_payload(std::span<const std::uint8_t> bzimage) {
    if (bzimage.size() < kPayloadLength + 4 || read_le<std::uint32_t>(bzimage, kHeaderMagic) != kHdrS) {
        throw ImageError("-k: no boot protocol setup header (not a bzImage)");
    }
    const auto version = read_le<std::uint16_t>(bzimage, kVersion);
    if (version < kPayloadProtocol) {
        throw ImageError("-k: boot protocol " + std::to_string(version >> 8) + "." + std::to_string(version & 0xFF) +
                         " has no payload fields (2.08 or later needed)");
    }
    std::uint64_t setup_sects = bzimage[kSetupSects];
    if (setup_sects == 0) {
        setup_sects = 4;  // the protocol's rule for an old image
    }
    const std::uint64_t start = (setup_sects + 1) * 512 + read_le<std::uint32_t>(bzimage, kPayloadOffset);
    const std::uint64_t length = read_le<std::uint32_t>(bzimage, kPayloadLength);
    if (length == 0 || start > bzimage.size() || length > bzimage.size() - start) {
        throw ImageError("-k: the payload (" + std::to_string(length) + " bytes at " + std::to_string(start) +
                         ") lies outside the " + std::to_string(bzimage.size()) + "-byte image");
    }
    KernelPayload payload;
    payload.bytes = bzimage.subspan(start, length);
    payload.format = format_of(payload.bytes);
    return payload;
}

std::vector<std::uint8_t> decompress_payload(const KernelPayload& payload, std::size_t limit) {
    switch (payload.format) {
        case PayloadFormat::gzip: return inflate_gzip(payload.bytes, limit);
        case PayloadFormat::xz:
        case PayloadFormat::lzma: return unpack_lzma(payload.bytes, limit, payload.format);
        case PayloadFormat::bzip2: return unpack_bzip2(payload.bytes, limit);
        case PayloadFormat::zstd: return unpack_zstd(payload.bytes, limit);
        case PayloadFormat::lz4: return unpack_lz4_legacy(payload.bytes, limit);
        case PayloadFormat::lzo: fail(payload.format, "is not supported (lzop format)");
        case PayloadFormat::unknown: break;
    }
    throw ImageError("-k: the kernel's payload is in a format acrn-dm does not know");
}

}  // namespace acrn::dm
