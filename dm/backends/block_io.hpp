// One block request on the image, the parts both engines share: the checks
// every request passes before it touches the file, the cursor over a
// request's buffers that short transfers advance, the bounce buffer direct
// I/O needs for unaligned guest buffers, and the whole request carried out
// synchronously on the calling thread (the thread pool's work, and what the
// io_uring engine hands to a helper thread for what its ring does not do).
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "dm/backends/block_backend.hpp"

namespace acrn::dm {

// What an engine needs to know of its file, looked up once.
struct BlockTarget {
    int fd = -1;
    std::uint64_t base = 0;  // of the window in the file
    std::uint64_t size = 0;  // of the window
    bool read_only = false;
    bool block_device = false;
    // Writes and zeroed ranges need no data sync before they complete.
    bool write_back = false;
    // O_DIRECT's alignment of buffer addresses, offsets and lengths; 1
    // without it.
    std::uint32_t direct_alignment = 1;

    [[nodiscard]] static BlockTarget of(const BlockFile& file);
};

// 0 if the request may run; else what it completes with untouched:
// -EROFS (a change to a read-only image), -EIO (outside the window), or
// -EINVAL (direct I/O at an offset or of a length not aligned).
[[nodiscard]] long check_block_request(const BlockTarget& target, const BlockRequest& request) noexcept;

// Runs the request to the end: bytes transferred, 0, or -errno. Checks it
// first; never throws.
[[nodiscard]] long execute_block_request(const BlockTarget& target, const BlockRequest& request) noexcept;

// Calls a request's completion; what it throws is logged, never passed on
// to the engine thread.
void call_block_completion(const BlockEngine::Completion& done, long result) noexcept;

// The iovecs of a request not yet transferred.
class IovCursor {
public:
    IovCursor() = default;
    explicit IovCursor(std::vector<iovec> iov);

    [[nodiscard]] bool done() const noexcept { return first_ == iov_.size(); }
    [[nodiscard]] const iovec* data() const noexcept { return iov_.data() + first_; }
    // At most IOV_MAX, what one preadv/pwritev takes.
    [[nodiscard]] int count() const noexcept;
    void advance(std::size_t bytes) noexcept;
    // A read that met the end of the file: the rest reads as zeros.
    void zero_fill_rest() noexcept;

private:
    void skip_empty() noexcept;

    std::vector<iovec> iov_;
    std::size_t first_ = 0;
};

// Sum of the lengths; UINT64_MAX if it overflows.
[[nodiscard]] std::uint64_t iov_total_bytes(const std::vector<iovec>& iov) noexcept;

// Heap memory aligned for O_DIRECT.
class AlignedBuffer {
public:
    AlignedBuffer() = default;
    AlignedBuffer(std::size_t size, std::size_t alignment);  // throws std::bad_alloc

    [[nodiscard]] std::byte* data() const noexcept { return bytes_.get(); }
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] iovec as_iovec() const noexcept { return {bytes_.get(), size_}; }

    void gather(const std::vector<iovec>& from) noexcept;
    void scatter(const std::vector<iovec>& to) const noexcept;

private:
    struct Free {
        void operator()(std::byte* bytes) const noexcept;
    };
    std::unique_ptr<std::byte, Free> bytes_;
    std::size_t size_ = 0;
};

// Whether direct I/O can take these buffers as they are.
[[nodiscard]] bool needs_bounce_buffer(const BlockTarget& target, const std::vector<iovec>& iov) noexcept;

}  // namespace acrn::dm
