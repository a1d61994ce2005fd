// BlockFile on a regular file or a block device.
//
// Durability: write-through (and nocache) opens the image O_DSYNC, so each
// write is on stable storage when pwritev/io_uring reports it: what ACRN
// gets from an fsync after every write, in one system call and for both
// engines alike. Write-back opens it without, and a guest flush is an
// fdatasync.
//
// Size: the guest sees whole logical sectors; a file whose size is not a
// multiple of the sector size loses its tail (ACRN rounds down the same way).
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <limits>

#include "common/log.hpp"
#include "dm/backends/block_backend.hpp"
#include "dm/backends/block_open.hpp"

namespace acrn::dm {
namespace {

[[noreturn]] void refuse_image(const std::string& path, const std::string& reason) {
    throw BlockOpenError("virtio-blk: '" + path + "': " + reason);
}

const char* file_kind(mode_t mode) noexcept {
    if (S_ISDIR(mode)) {
        return "a directory";
    }
    if (S_ISCHR(mode)) {
        return "a character device";
    }
    if (S_ISFIFO(mode)) {
        return "a fifo";
    }
    if (S_ISSOCK(mode)) {
        return "a socket";
    }
    return "not a regular file";
}

std::uint64_t image_bytes(const std::string& path, int fd, const struct stat& info) {
    if (S_ISREG(info.st_mode)) {
        return static_cast<std::uint64_t>(info.st_size);
    }
    std::uint64_t bytes = 0;
    if (::ioctl(fd, BLKGETSIZE64, &bytes) != 0) {
        refuse_image(path, std::string("cannot read the device's size: ") + std::strerror(errno));
    }
    return bytes;
}

// FNV-1a: the serial must be the same on every start for the same image.
std::uint64_t fingerprint(std::initializer_list<std::uint64_t> values) noexcept {
    std::uint64_t hash = 14695981039346656037ULL;
    for (auto value : values) {
        for (int byte = 0; byte < 8; ++byte) {
            hash ^= (value >> (8 * byte)) & 0xff;
            hash *= 1099511628211ULL;
        }
    }
    return hash;
}

class ImageFile final : public BlockFile {
public:
    ImageFile(const BlockOptions& options, OpenedImage opened) : options_(options), fd_(std::move(opened.fd)) {
        path_ = *options.path;
        read_only_ = opened.read_only;
        struct stat info {};
        if (::fstat(fd_.get(), &info) != 0) {
            refuse_image(path_, std::string("cannot stat: ") + std::strerror(errno));
        }
        if (!S_ISREG(info.st_mode) && !S_ISBLK(info.st_mode)) {
            refuse_image(path_, std::string(file_kind(info.st_mode)) + ", not a regular file or block device");
        }
        device_ = info.st_dev;
        inode_ = info.st_ino;
        if (S_ISBLK(info.st_mode)) {
            device_ = info.st_rdev;
            inode_ = 0;
        }
        set_window(image_bytes(path_, fd_.get(), info));
    }

    int fd() const noexcept override { return fd_.get(); }
    std::uint64_t size() const noexcept override { return size_; }
    std::uint64_t base_offset() const noexcept override { return base_; }
    bool read_only() const noexcept override { return read_only_; }
    const BlockOptions& options() const noexcept override { return options_; }
    const std::string& path() const noexcept override { return path_; }

    // "ACRN" and 16 hex digits: VIRTIO_BLK_ID_BYTES (20) exactly.
    std::string serial() const override {
        char text[21];
        std::snprintf(text, sizeof(text), "ACRN%016llx",
                      static_cast<unsigned long long>(fingerprint({device_, inode_, base_, size_})));
        return text;
    }

private:
    void set_window(std::uint64_t file_bytes) {
        const std::uint64_t sector = options_.logical_sector;
        if (!options_.range) {
            size_ = file_bytes / sector * sector;
            return;
        }
        const auto [start_lba, sectors] = *options_.range;
        const auto max_sectors = std::numeric_limits<std::uint64_t>::max() / sector;
        if (start_lba > max_sectors || sectors > max_sectors - start_lba ||
            (start_lba + sectors) * sector > file_bytes) {
            refuse_image(path_, "range=" + std::to_string(start_lba) + "/" + std::to_string(sectors) +
                                    " is outside the image of " + std::to_string(file_bytes) + " bytes");
        }
        base_ = start_lba * sector;
        size_ = sectors * sector;
    }

    const BlockOptions options_;
    std::string path_;
    UniqueFd fd_;
    bool read_only_ = false;
    std::uint64_t size_ = 0;
    std::uint64_t base_ = 0;
    std::uint64_t device_ = 0;
    std::uint64_t inode_ = 0;
};

}  // namespace

OpenedImage open_image_fd(const std::string& path, int flags, bool read_only, const ImageOpenCall& open_call) {
    if (!read_only) {
        UniqueFd fd(open_call(path.c_str(), flags | O_RDWR));
        if (fd) {
            return {std::move(fd), false};
        }
        const int error = errno;
        if (error != EACCES && error != EROFS && error != EPERM) {
            refuse_image(path, std::string("cannot open: ") + std::strerror(error));
        }
        UniqueFd read_only_fd(open_call(path.c_str(), flags | O_RDONLY));
        if (!read_only_fd) {
            const std::string read_only_error = std::strerror(errno);
            refuse_image(path, std::string("cannot open: ") + std::strerror(error) + "; read-only: " + read_only_error);
        }
        log_warning("virtio-blk: '{}' opened read-only (read-write refused: {})", path, std::strerror(error));
        return {std::move(read_only_fd), true};
    }
    UniqueFd fd(open_call(path.c_str(), flags | O_RDONLY));
    if (!fd) {
        refuse_image(path, std::string("cannot open: ") + std::strerror(errno));
    }
    return {std::move(fd), true};
}

std::unique_ptr<BlockFile> BlockFile::open(const BlockOptions& options) {
    if (!options.path) {
        throw BlockOpenError("virtio-blk: no image to open (nodisk)");
    }
    // O_NONBLOCK: opening a fifo would otherwise wait for a writer before
    // we can see it is one and refuse it; cleared again below.
    int flags = O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
    if (options.cache != BlockOptions::Cache::write_back) {
        flags |= O_DSYNC;
    }
    if (options.cache == BlockOptions::Cache::direct) {
        flags |= O_DIRECT;
    }
    auto opened = open_image_fd(*options.path, flags, options.read_only,
                                [](const char* path, int open_flags) { return ::open(path, open_flags); });
    const int fd = opened.fd.get();
    auto file = std::make_unique<ImageFile>(options, std::move(opened));
    const int status = ::fcntl(fd, F_GETFL);
    if (status < 0 || ::fcntl(fd, F_SETFL, status & ~O_NONBLOCK) != 0) {
        refuse_image(*options.path, std::string("cannot clear O_NONBLOCK: ") + std::strerror(errno));
    }
    return file;
}

}  // namespace acrn::dm
