#include "dm/irq/delay_timers.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

namespace acrn::dm {

void AsioDelayTimers::call_after(Clock::duration delay, std::function<void()> callback) {
    const Clock::time_point deadline = Clock::now() + delay;
    std::weak_ptr<const bool> alive = alive_;
    // steady_timer is not thread-safe: it is made and armed on the loop's thread.
    boost::asio::post(loop_, [&loop = loop_, deadline, alive, callback = std::move(callback)]() mutable {
        if (alive.expired()) {
            return;
        }
        auto timer = std::make_shared<boost::asio::steady_timer>(loop, deadline);
        timer->async_wait([timer, alive = std::move(alive), callback = std::move(callback)](
                              const boost::system::error_code& error) {
            if (!error && !alive.expired()) {
                callback();
            }
        });
    });
}

}  // namespace acrn::dm
