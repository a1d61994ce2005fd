// A scatter-gather list of guest RAM: the ranges a descriptor chain names
// (virtio, DMA), checked once against guest memory and then read or written
// as one byte stream, across range boundaries, without another look-up.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "dm/guest_memory.hpp"

namespace acrn::dm {

struct GuestRange {
    std::uint64_t gpa;
    std::uint64_t length;
};

class GuestBuffers {
public:
    // nullopt unless every range lies inside one RAM region and the total
    // length fits in 64 bits. Zero-length ranges are accepted anywhere and
    // add nothing. The spans point into `memory`, which must outlive them.
    [[nodiscard]] static std::optional<GuestBuffers> map(const GuestMemory& memory, std::span<const GuestRange> ranges);

    GuestBuffers() = default;

    [[nodiscard]] std::uint64_t size() const noexcept { return size_; }
    [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
    // The host views, in list order, zero-length ranges left out.
    [[nodiscard]] std::span<const std::span<std::uint8_t>> pieces() const noexcept { return pieces_; }

    // Copy between the stream's bytes [offset, offset + n) and `bytes`,
    // where n is as much of `bytes` as fits before the end; return n
    // (0 for an offset at or past the end).
    std::uint64_t copy_to_guest(std::uint64_t offset, std::span<const std::uint8_t> bytes) const noexcept;
    std::uint64_t copy_from_guest(std::uint64_t offset, std::span<std::uint8_t> bytes) const noexcept;

private:
    template <typename Copy>
    std::uint64_t for_each_piece(std::uint64_t offset, std::uint64_t length, Copy copy) const noexcept;

    std::vector<std::span<std::uint8_t>> pieces_;
    std::uint64_t size_ = 0;
};

}  // namespace acrn::dm
