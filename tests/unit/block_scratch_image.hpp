// A disk image for the block back end's tests: a file under /var/tmp (a
// disk, so O_DIRECT and fallocate work, unlike some tmpfs), filled with
// pattern_byte, removed at the end.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/unique_fd.hpp"

namespace acrn::dm::block_test {

// Differs between neighbouring sectors, so a transfer to the wrong place shows.
inline std::uint8_t pattern_byte(std::uint64_t offset) {
    return static_cast<std::uint8_t>((offset * 7 + offset / 251) & 0xff);
}

class ScratchImage {
public:
    explicit ScratchImage(std::uint64_t bytes) {
        char name[] = "/var/tmp/acrn-blk-XXXXXX";
        UniqueFd fd(::mkstemp(name));
        if (!fd) {
            throw std::runtime_error(std::string("mkstemp: ") + std::strerror(errno));
        }
        path_ = name;
        std::vector<std::uint8_t> bytes_out(bytes);
        for (std::uint64_t at = 0; at < bytes; ++at) {
            bytes_out[at] = pattern_byte(at);
        }
        if (::pwrite(fd.get(), bytes_out.data(), bytes_out.size(), 0) != static_cast<ssize_t>(bytes)) {
            throw std::runtime_error("cannot fill the scratch image");
        }
    }
    ScratchImage(const ScratchImage&) = delete;
    ScratchImage& operator=(const ScratchImage&) = delete;
    ~ScratchImage() { ::unlink(path_.c_str()); }

    [[nodiscard]] const std::string& path() const { return path_; }

    [[nodiscard]] std::vector<std::uint8_t> read(std::uint64_t offset, std::size_t length) const {
        std::vector<std::uint8_t> bytes(length);
        UniqueFd fd(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
        EXPECT_EQ(::pread(fd.get(), bytes.data(), length, static_cast<off_t>(offset)), static_cast<ssize_t>(length));
        return bytes;
    }

private:
    std::string path_;
};

}  // namespace acrn::dm::block_test
