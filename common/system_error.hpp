// Throws std::system_error for a failed system call, naming what failed.
#pragma once

#include <cerrno>
#include <string>
#include <system_error>

namespace acrn {

[[noreturn]] inline void throw_errno(const std::string& what, int err = errno) {
    throw std::system_error(err, std::generic_category(), what);
}

}  // namespace acrn
