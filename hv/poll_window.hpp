// How long a polling vCPU spins for its answer before it sleeps, adapted as
// KVM adapts halt polling (halt_poll_ns): an answer that comes while it
// spins keeps the window; one that comes after a sleep shorter than the
// maximum doubles it (spinning a little longer would have saved the sleep);
// a longer wait drops it to zero (the spin was wasted), to grow again from
// kGrowStart. A maximum of zero never spins: the host has no CPU to spare
// for it (see common/polling_cpus.hpp).
#pragma once

#include <algorithm>
#include <chrono>

namespace acrn::hv {

class PollWindow {
public:
    using Duration = std::chrono::nanoseconds;
    static constexpr Duration kGrowStart{10'000};

    explicit PollWindow(Duration max = Duration::zero()) noexcept : max_(max), current_(max) {}

    [[nodiscard]] Duration max() const noexcept { return max_; }
    [[nodiscard]] Duration current() const noexcept { return current_; }

    // The answer came after the vCPU slept; `waited` counts from submission.
    void answered_after_sleep(Duration waited) noexcept {
        if (waited > max_) {
            current_ = Duration::zero();
        } else {
            current_ = std::min(max_, std::max(kGrowStart, current_ * 2));
        }
    }

private:
    Duration max_;
    Duration current_;
};

}  // namespace acrn::hv
