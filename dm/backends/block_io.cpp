#include "dm/backends/block_io.hpp"

#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>

#include "common/log.hpp"

namespace acrn::dm {
namespace {

using Op = BlockRequest::Op;

constexpr std::uint64_t no_total = std::numeric_limits<std::uint64_t>::max();
// Zeros written at a time where the file system cannot zero a range itself.
constexpr std::size_t zero_chunk_bytes = 1 << 20;

bool changes_image(Op op) noexcept { return op == Op::write || op == Op::discard || op == Op::write_zeroes; }

bool is_misaligned(std::uint64_t value, std::uint32_t alignment) noexcept { return value % alignment != 0; }

long sync_data(const BlockTarget& target) noexcept {
    return ::fdatasync(target.fd) == 0 ? 0 : -errno;
}

// pread/pwrite until done: a short transfer is not an error, only the
// kernel's -errno or a write that makes no progress is.
long transfer(const BlockTarget& target, Op op, std::uint64_t offset, IovCursor cursor, std::uint64_t total) noexcept {
    std::uint64_t done = 0;
    while (!cursor.done()) {
        const auto position = static_cast<off_t>(target.base + offset + done);
        const ssize_t moved = op == Op::read ? ::preadv(target.fd, cursor.data(), cursor.count(), position)
                                             : ::pwritev(target.fd, cursor.data(), cursor.count(), position);
        if (moved < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                continue;
            }
            return -errno;
        }
        if (moved == 0) {
            if (op == Op::write) {
                return -EIO;
            }
            // The image shrank under us: past its end reads as zeros.
            cursor.zero_fill_rest();
            break;
        }
        cursor.advance(static_cast<std::size_t>(moved));
        done += static_cast<std::uint64_t>(moved);
    }
    return static_cast<long>(total);
}

long read_or_write(const BlockTarget& target, const BlockRequest& request) {
    const auto total = iov_total_bytes(request.iov);
    if (!needs_bounce_buffer(target, request.iov)) {
        return transfer(target, request.op, request.offset, IovCursor(request.iov), total);
    }
    AlignedBuffer bounce(total, target.direct_alignment);
    if (request.op == Op::write) {
        bounce.gather(request.iov);
    }
    const long result = transfer(target, request.op, request.offset, IovCursor({bounce.as_iovec()}), total);
    if (request.op == Op::read && result >= 0) {
        bounce.scatter(request.iov);
    }
    return result;
}

long write_zero_bytes(const BlockTarget& target, std::uint64_t offset, std::uint64_t length) {
    const auto chunk = static_cast<std::size_t>(std::min<std::uint64_t>(length, zero_chunk_bytes));
    AlignedBuffer zeros(chunk, target.direct_alignment);
    std::memset(zeros.data(), 0, zeros.size());
    while (length > 0) {
        const auto now = static_cast<std::size_t>(std::min<std::uint64_t>(length, chunk));
        const long result = transfer(target, Op::write, offset, IovCursor({iovec{zeros.data(), now}}), now);
        if (result < 0) {
            return result;
        }
        offset += now;
        length -= now;
    }
    return 0;
}

long allocate_range(const BlockTarget& target, int mode, std::uint64_t offset, std::uint64_t length) noexcept {
    for (;;) {
        if (::fallocate(target.fd, mode, static_cast<off_t>(target.base + offset), static_cast<off_t>(length)) == 0) {
            return 0;
        }
        if (errno != EINTR) {
            return -errno;
        }
    }
}

long device_range_ioctl(const BlockTarget& target, unsigned long request, std::uint64_t offset,
                        std::uint64_t length) noexcept {
    std::uint64_t range[2] = {target.base + offset, length};
    return ::ioctl(target.fd, request, range) == 0 ? 0 : -errno;
}

// A hint to the host: where neither the file system nor the device can
// drop blocks, the data simply stays (virtio lets a discard leave it).
long discard(const BlockTarget& target, const BlockRequest& request) noexcept {
    const long result = target.block_device
                            ? device_range_ioctl(target, BLKDISCARD, request.offset, request.length)
                            : allocate_range(target, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, request.offset,
                                             request.length);
    return result == -EOPNOTSUPP || result == -ENOTTY ? 0 : result;
}

bool unsupported(long result) noexcept { return result == -EOPNOTSUPP || result == -ENOTTY || result == -EINVAL; }

long write_zeroes(const BlockTarget& target, const BlockRequest& request) {
    long result = -EOPNOTSUPP;
    if (target.block_device) {
        // BLKZEROOUT unmaps where the device zeroes what it unmaps.
        result = device_range_ioctl(target, BLKZEROOUT, request.offset, request.length);
    } else {
        if (request.may_unmap) {
            result = allocate_range(target, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, request.offset,
                                    request.length);
        }
        if (unsupported(result)) {
            result = allocate_range(target, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, request.offset,
                                    request.length);
        }
    }
    if (unsupported(result)) {
        result = write_zero_bytes(target, request.offset, request.length);
    }
    return result;
}

long run_checked(const BlockTarget& target, const BlockRequest& request) {
    switch (request.op) {
        case Op::read:
        case Op::write: return read_or_write(target, request);
        case Op::flush: return sync_data(target);
        case Op::discard:
        case Op::write_zeroes: {
            if (request.length == 0) {
                return 0;  // fallocate and the ioctls refuse an empty range
            }
            long result = request.op == Op::discard ? discard(target, request) : write_zeroes(target, request);
            // O_DSYNC covers writes, not a range the file system changed
            // on its own: write-through syncs it before completing.
            if (result == 0 && !target.write_back) {
                result = sync_data(target);
            }
            return result;
        }
    }
    return -EINVAL;
}

}  // namespace

BlockTarget BlockTarget::of(const BlockFile& file) {
    BlockTarget target;
    target.fd = file.fd();
    target.base = file.base_offset();
    target.size = file.size();
    target.read_only = file.read_only();
    target.write_back = file.options().cache == BlockOptions::Cache::write_back;
    struct stat info {};
    target.block_device = ::fstat(file.fd(), &info) == 0 && S_ISBLK(info.st_mode);
    if (file.options().cache == BlockOptions::Cache::direct) {
        // 512 is what every file system and disk takes for O_DIRECT; a disk
        // with larger logical blocks says so.
        target.direct_alignment = std::max<std::uint32_t>(512, file.options().logical_sector);
        int device_sector = 0;
        if (target.block_device && ::ioctl(file.fd(), BLKSSZGET, &device_sector) == 0 && device_sector > 0) {
            target.direct_alignment = std::max(target.direct_alignment, static_cast<std::uint32_t>(device_sector));
        }
    }
    return target;
}

long check_block_request(const BlockTarget& target, const BlockRequest& request) noexcept {
    if (request.op == Op::flush) {
        return 0;
    }
    if (target.read_only && changes_image(request.op)) {
        return -EROFS;
    }
    const bool transfers = request.op == Op::read || request.op == Op::write;
    const auto length = transfers ? iov_total_bytes(request.iov) : request.length;
    if (length == no_total || request.offset > target.size || length > target.size - request.offset) {
        return -EIO;
    }
    if (is_misaligned(request.offset, target.direct_alignment) || is_misaligned(length, target.direct_alignment)) {
        return -EINVAL;
    }
    return 0;
}

long execute_block_request(const BlockTarget& target, const BlockRequest& request) noexcept {
    try {
        const long refused = check_block_request(target, request);
        return refused != 0 ? refused : run_checked(target, request);
    } catch (const std::exception& error) {
        log_error("virtio-blk: a request failed: {}", error.what());
    } catch (...) {
        log_error("virtio-blk: a request failed with an unknown exception");
    }
    return -EIO;
}

void call_block_completion(const BlockEngine::Completion& done, long result) noexcept {
    try {
        done(result);
    } catch (const std::exception& error) {
        log_error("virtio-blk: a request's completion failed: {}", error.what());
    } catch (...) {
        log_error("virtio-blk: a request's completion failed with an unknown exception");
    }
}

IovCursor::IovCursor(std::vector<iovec> iov) : iov_(std::move(iov)) { skip_empty(); }

int IovCursor::count() const noexcept { return static_cast<int>(std::min<std::size_t>(iov_.size() - first_, IOV_MAX)); }

void IovCursor::advance(std::size_t bytes) noexcept {
    while (bytes > 0 && !done()) {
        auto& head = iov_[first_];
        const auto step = std::min(bytes, head.iov_len);
        head.iov_base = static_cast<std::byte*>(head.iov_base) + step;
        head.iov_len -= step;
        bytes -= step;
        skip_empty();
    }
}

void IovCursor::zero_fill_rest() noexcept {
    for (; first_ < iov_.size(); ++first_) {
        if (iov_[first_].iov_len > 0) {
            std::memset(iov_[first_].iov_base, 0, iov_[first_].iov_len);
        }
    }
}

void IovCursor::skip_empty() noexcept {
    while (first_ < iov_.size() && iov_[first_].iov_len == 0) {
        ++first_;
    }
}

std::uint64_t iov_total_bytes(const std::vector<iovec>& iov) noexcept {
    std::uint64_t total = 0;
    for (const auto& piece : iov) {
        if (piece.iov_len >= no_total - total) {
            return no_total;
        }
        total += piece.iov_len;
    }
    return total;
}

AlignedBuffer::AlignedBuffer(std::size_t size, std::size_t alignment) : size_(size) {
    void* memory = nullptr;
    if (::posix_memalign(&memory, std::max(alignment, sizeof(void*)), std::max<std::size_t>(size, 1)) != 0) {
        throw std::bad_alloc();
    }
    bytes_.reset(static_cast<std::byte*>(memory));
}

void AlignedBuffer::Free::operator()(std::byte* bytes) const noexcept { std::free(bytes); }

void AlignedBuffer::gather(const std::vector<iovec>& from) noexcept {
    std::size_t at = 0;
    for (const auto& piece : from) {
        const auto now = std::min(piece.iov_len, size_ - at);
        if (now > 0) {
            std::memcpy(bytes_.get() + at, piece.iov_base, now);
        }
        at += now;
    }
}

void AlignedBuffer::scatter(const std::vector<iovec>& to) const noexcept {
    std::size_t at = 0;
    for (const auto& piece : to) {
        const auto now = std::min(piece.iov_len, size_ - at);
        if (now > 0) {
            std::memcpy(piece.iov_base, bytes_.get() + at, now);
        }
        at += now;
    }
}

bool needs_bounce_buffer(const BlockTarget& target, const std::vector<iovec>& iov) noexcept {
    if (target.direct_alignment <= 1) {
        return false;
    }
    return std::any_of(iov.begin(), iov.end(), [&](const iovec& piece) {
        return is_misaligned(reinterpret_cast<std::uintptr_t>(piece.iov_base), target.direct_alignment) ||
               is_misaligned(piece.iov_len, target.direct_alignment);
    });
}

}  // namespace acrn::dm
