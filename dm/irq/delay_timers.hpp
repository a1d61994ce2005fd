// Time as the interrupt-storm monitor and its throttled sources need it: the
// current time, and a callback after a delay on the monitor's own thread.
// In acrn-dm that thread is the main event loop (AsioDelayTimers); unit
// tests stand in with a clock they advance by hand, so that probe periods
// and delays run in no real time and in a fixed order.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

namespace boost::asio {
class io_context;
}

namespace acrn::dm {

class DelayTimers {
public:
    using Clock = std::chrono::steady_clock;

    virtual ~DelayTimers() = default;
    [[nodiscard]] virtual Clock::time_point now() const = 0;
    // Any thread may call it. `callback` runs on the timers' thread once
    // `delay` has passed, unless the timers are destroyed first.
    virtual void call_after(Clock::duration delay, std::function<void()> callback) = 0;
};

// On a Boost.Asio io_context: each call is a steady_timer made on the loop's
// thread. Destroy it on that thread (or while the loop is not running).
class AsioDelayTimers final : public DelayTimers {
public:
    explicit AsioDelayTimers(boost::asio::io_context& loop) : loop_(loop) {}
    AsioDelayTimers(const AsioDelayTimers&) = delete;
    AsioDelayTimers& operator=(const AsioDelayTimers&) = delete;

    [[nodiscard]] Clock::time_point now() const override { return Clock::now(); }
    void call_after(Clock::duration delay, std::function<void()> callback) override;

private:
    boost::asio::io_context& loop_;
    // Callbacks still queued in the loop hold a weak reference: once these
    // timers are gone (a session ended, the loop lives on), they do nothing.
    std::shared_ptr<const bool> alive_ = std::make_shared<const bool>(true);
};

}  // namespace acrn::dm
