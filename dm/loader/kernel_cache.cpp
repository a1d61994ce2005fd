#include "dm/loader/kernel_cache.hpp"

#include <fcntl.h>
#include <nettle/sha2.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>

#include "common/log.hpp"
#include "common/unique_fd.hpp"

namespace acrn::dm {
namespace {

constexpr char kMagic[8] = {'A', 'C', 'R', 'N', 'V', 'M', 'L', 'X'};

struct EntryHeader {
    char magic[8];
    std::uint64_t size;
    std::uint32_t crc32;
    std::uint32_t reserved;
};
static_assert(sizeof(EntryHeader) == 24);

std::uint32_t crc_of(std::span<const std::uint8_t> bytes) {
    return static_cast<std::uint32_t>(crc32_z(0, bytes.data(), bytes.size()));
}

// All `size` bytes through `transfer` (read or write), across short
// transfers and EINTR; false at an error or end of file.
template <typename Byte, typename Transfer>
bool transfer_all(Transfer transfer, int fd, Byte* data, std::size_t size) {
    while (size > 0) {
        const ssize_t n = transfer(fd, data, size);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        data += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

bool write_all(int fd, const void* data, std::size_t size) {
    return transfer_all(::write, fd, static_cast<const std::uint8_t*>(data), size);
}

bool read_all(int fd, void* data, std::size_t size) {
    return transfer_all(::read, fd, static_cast<std::uint8_t*>(data), size);
}

}  // namespace

std::string KernelCache::key_of(std::span<const std::uint8_t> bzimage) {
    sha256_ctx context;
    sha256_init(&context);
    sha256_update(&context, bzimage.size(), bzimage.data());
    std::uint8_t digest[SHA256_DIGEST_SIZE];
    sha256_digest(&context, sizeof digest, digest);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string key;
    for (const std::uint8_t byte : digest) {
        key += kHex[byte >> 4];
        key += kHex[byte & 0xF];
    }
    return key;
}

std::string KernelCache::path_of(const std::string& key) const { return directory_ + "/vmlinux-" + key; }

std::optional<std::vector<std::uint8_t>> KernelCache::find(const std::string& key) const {
    if (directory_.empty()) {
        return std::nullopt;
    }
    const std::string path = path_of(key);
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        return std::nullopt;
    }
    struct stat info {};
    EntryHeader header{};
    if (::fstat(fd.get(), &info) != 0 || !read_all(fd.get(), &header, sizeof header) ||
        std::memcmp(header.magic, kMagic, sizeof kMagic) != 0 ||
        static_cast<std::uint64_t>(info.st_size) != sizeof header + header.size) {
        log_warning("kernel cache: {} is not a sound entry: the kernel is unpacked again", path);
        return std::nullopt;
    }
    std::vector<std::uint8_t> unpacked(header.size);
    if (!read_all(fd.get(), unpacked.data(), unpacked.size()) || crc_of(unpacked) != header.crc32) {
        log_warning("kernel cache: {} does not match its checksum: the kernel is unpacked again", path);
        return std::nullopt;
    }
    return unpacked;
}

bool KernelCache::store(const std::string& key, std::span<const std::uint8_t> unpacked) const {
    if (directory_.empty()) {
        return false;
    }
    const auto cannot = [&](const std::string& what) {
        log_info("kernel cache: cannot {} ({}): the kernel is unpacked again at the next boot", what,
                 std::strerror(errno));
        return false;
    };
    if (::mkdir(directory_.c_str(), 0755) != 0 && errno != EEXIST) {
        return cannot("make " + directory_);
    }
    const std::string path = path_of(key);
    const std::string temporary = path + ".tmp." + std::to_string(::getpid());
    UniqueFd fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd) {
        return cannot("write in " + directory_);
    }
    EntryHeader header{};
    std::memcpy(header.magic, kMagic, sizeof kMagic);
    header.size = unpacked.size();
    header.crc32 = crc_of(unpacked);
    if (!write_all(fd.get(), &header, sizeof header) || !write_all(fd.get(), unpacked.data(), unpacked.size()) ||
        ::fsync(fd.get()) != 0) {
        const int error = errno;
        ::unlink(temporary.c_str());
        errno = error;
        return cannot("write " + temporary);
    }
    fd.reset();
    if (::rename(temporary.c_str(), path.c_str()) != 0) {
        const int error = errno;
        ::unlink(temporary.c_str());
        errno = error;
        return cannot("rename into " + path);
    }
    log_info("kernel cache: kept the unpacked kernel in {}", path);
    return true;
}

}  // namespace acrn::dm
