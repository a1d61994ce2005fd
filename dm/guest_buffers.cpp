#include "dm/guest_buffers.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

namespace acrn::dm {

std::optional<GuestBuffers> GuestBuffers::map(const GuestMemory& memory, std::span<const GuestRange> ranges) {
    GuestBuffers buffers;
    buffers.pieces_.reserve(ranges.size());
    for (const GuestRange& range : ranges) {
        if (range.length == 0) {
            continue;
        }
        const auto piece = memory.span(range.gpa, range.length);
        if (piece.size() != range.length ||
            range.length > std::numeric_limits<std::uint64_t>::max() - buffers.size_) {
            return std::nullopt;
        }
        buffers.pieces_.push_back(piece);
        buffers.size_ += range.length;
    }
    return buffers;
}

// Calls copy(piece_bytes, stream_position) for each part of
// [offset, offset + length) in order, clipped to the stream; returns the
// bytes covered.
template <typename Copy>
std::uint64_t GuestBuffers::for_each_piece(std::uint64_t offset, std::uint64_t length, Copy copy) const noexcept {
    if (offset >= size_) {
        return 0;
    }
    length = std::min(length, size_ - offset);
    std::uint64_t done = 0;
    std::uint64_t piece_start = 0;
    for (const std::span<std::uint8_t>& piece : pieces_) {
        if (done == length) {
            break;
        }
        const std::uint64_t piece_end = piece_start + piece.size();
        const std::uint64_t at = offset + done;
        if (at < piece_end) {
            const std::uint64_t within = at - piece_start;
            const std::uint64_t count = std::min<std::uint64_t>(piece.size() - within, length - done);
            copy(piece.subspan(within, count), done);
            done += count;
        }
        piece_start = piece_end;
    }
    return done;
}

std::uint64_t GuestBuffers::copy_to_guest(std::uint64_t offset, std::span<const std::uint8_t> bytes) const noexcept {
    return for_each_piece(offset, bytes.size(), [&](std::span<std::uint8_t> guest, std::uint64_t done) {
        std::memcpy(guest.data(), bytes.data() + done, guest.size());
    });
}

std::uint64_t GuestBuffers::copy_from_guest(std::uint64_t offset, std::span<std::uint8_t> bytes) const noexcept {
    return for_each_piece(offset, bytes.size(), [&](std::span<std::uint8_t> guest, std::uint64_t done) {
        std::memcpy(bytes.data() + done, guest.data(), guest.size());
    });
}

}  // namespace acrn::dm
