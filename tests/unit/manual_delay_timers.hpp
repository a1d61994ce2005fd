// DelayTimers on a clock that moves only when a test says so: advance()
// runs every callback that falls due, in deadline order (callbacks armed
// while advancing run too if they fall due in time), so probe periods and
// delays take no real time and always run in the same order.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <utility>

#include "dm/irq/delay_timers.hpp"

namespace acrn::dm::test_support {

class ManualDelayTimers final : public DelayTimers {
public:
    [[nodiscard]] Clock::time_point now() const override {
        std::lock_guard lock(mutex_);
        return now_;
    }

    void call_after(Clock::duration delay, std::function<void()> callback) override {
        std::lock_guard lock(mutex_);
        due_.emplace(now_ + delay, std::move(callback));  // equal deadlines keep their order
    }

    void advance(Clock::duration by) {
        Clock::time_point until;
        {
            std::lock_guard lock(mutex_);
            until = now_ + by;
        }
        for (;;) {
            std::function<void()> callback;
            {
                std::lock_guard lock(mutex_);
                if (due_.empty() || due_.begin()->first > until) {
                    now_ = until;
                    return;
                }
                now_ = due_.begin()->first;
                callback = std::move(due_.begin()->second);
                due_.erase(due_.begin());
            }
            callback();  // outside the lock: it may arm more
        }
    }

    [[nodiscard]] std::size_t armed() const {
        std::lock_guard lock(mutex_);
        return due_.size();
    }

private:
    mutable std::mutex mutex_;
    Clock::time_point now_{};  // starts at the clock's epoch: only differences matter
    std::multimap<Clock::time_point, std::function<void()>> due_;
};

}  // namespace acrn::dm::test_support
