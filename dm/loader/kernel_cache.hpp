// Kernels unpacked on the host, kept for the next boot: one file per
// bzImage, named by the SHA-256 of the bzImage, holding a header (magic,
// size, CRC-32 of the content) and the unpacked kernel. An entry is written
// to a temporary file and renamed into place, and checked (size and CRC)
// before it is used: a damaged one is ignored and written again. A
// directory that cannot be made or written is not an error: acrn-dm says so
// once and unpacks the kernel at every boot.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace acrn::dm {

class KernelCache {
public:
    // An empty directory: no cache.
    explicit KernelCache(std::string directory) : directory_(std::move(directory)) {}

    // The cache's name for `bzimage`: its SHA-256 in hex.
    [[nodiscard]] static std::string key_of(std::span<const std::uint8_t> bzimage);

    // The unpacked kernel, if the cache has a sound entry for `key`.
    [[nodiscard]] std::optional<std::vector<std::uint8_t>> find(const std::string& key) const;
    // False (after one log line) if it could not be kept.
    bool store(const std::string& key, std::span<const std::uint8_t> unpacked) const;

    [[nodiscard]] std::string path_of(const std::string& key) const;

private:
    std::string directory_;
};

}  // namespace acrn::dm
