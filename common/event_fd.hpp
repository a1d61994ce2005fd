// An eventfd (a counter the kernel can wait on) owned by whoever signals or
// waits on it: ioeventfd handlers, irqfds and their resample fds.
#pragma once

#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <optional>

#include "common/system_error.hpp"
#include "common/unique_fd.hpp"

namespace acrn {

class EventFd {
public:
    // A new eventfd; throws std::system_error when the kernel refuses one.
    explicit EventFd(int flags = EFD_CLOEXEC | EFD_NONBLOCK) : fd_(::eventfd(0, flags)) {
        if (!fd_) {
            throw_errno("eventfd");
        }
    }

    // Our own reference to a caller's eventfd (ACRN's ioctls pass an fd the
    // caller keeps): -errno when `fd` cannot be duplicated.
    [[nodiscard]] static std::optional<EventFd> duplicate(int fd, int* error = nullptr) {
        UniqueFd copy(::fcntl(fd, F_DUPFD_CLOEXEC, 0));
        if (!copy) {
            if (error != nullptr) {
                *error = -errno;
            }
            return std::nullopt;
        }
        return EventFd(std::move(copy));
    }

    [[nodiscard]] int fd() const noexcept { return fd_.get(); }

    // Adds one to the counter; false if the write failed (counter saturated).
    bool signal() const noexcept {
        const std::uint64_t one = 1;
        return ::write(fd_.get(), &one, sizeof(one)) == static_cast<ssize_t>(sizeof(one));
    }

    // Reads and resets the counter; 0 if it was zero (non-blocking eventfd).
    [[nodiscard]] std::uint64_t consume() const noexcept {
        std::uint64_t count = 0;
        return ::read(fd_.get(), &count, sizeof(count)) == static_cast<ssize_t>(sizeof(count)) ? count : 0;
    }

private:
    explicit EventFd(UniqueFd fd) noexcept : fd_(std::move(fd)) {}

    UniqueFd fd_;
};

}  // namespace acrn
