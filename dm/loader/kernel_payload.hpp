// The compressed kernel inside a bzImage, and its decompression on the host.
// Since boot protocol 2.08 the setup header says where the payload lies
// (payload_offset, from the protected-mode code at (setup_sects + 1) * 512,
// and payload_length); its first bytes say how it is compressed. Debian's
// libraries decompress it: liblzma (xz, lzma), zlib (gzip), libzstd (zstd),
// liblz4 (lz4, the kernel's legacy frame) and libbz2 (bzip2). The kernel's
// lzo payloads (lzop format) are not supported. What comes out is the
// kernel's ELF (vmlinux, stripped), possibly followed by its relocation table.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace acrn::dm {

enum class PayloadFormat { gzip, xz, lzma, bzip2, lzo, lz4, zstd, unknown };

[[nodiscard]] const char* to_string(PayloadFormat format) noexcept;

struct KernelPayload {
    PayloadFormat format = PayloadFormat::unknown;
    std::span<const std::uint8_t> bytes;  // inside the bzImage
};

// Throws ImageError (dm/loader/multiboot.hpp) if the image has no setup
// header of protocol 2.08 or later, or its payload lies outside the image.
[[nodiscard]] KernelPayload find_payload(std::span<const std::uint8_t> bzimage);

// At most `limit` bytes come out; a payload that would give more, is
// truncated or corrupt, or is of a format not supported throws ImageError
// saying so. Never reads outside `payload.bytes`.
[[nodiscard]] std::vector<std::uint8_t> decompress_payload(const KernelPayload& payload, std::size_t limit);

}  // namespace acrn::dm
