// A failure before the guest runs: the message names what failed; main()
// prints it and exits with `status` (ACRN's statuses for -k/-r/-E).
#pragma once

#include <stdexcept>
#include <string>

namespace acrn::dm {

inline constexpr int kExitFailure = 1;
inline constexpr int kExitKernel = 10;  // ACRN's statuses for a bad -k / -r
inline constexpr int kExitInitrd = 11;

class StartupError : public std::runtime_error {
public:
    StartupError(int status, const std::string& message) : std::runtime_error(message), status_(status) {}
    [[nodiscard]] int status() const noexcept { return status_; }

private:
    int status_;
};

}  // namespace acrn::dm
