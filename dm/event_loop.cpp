#include "dm/event_loop.hpp"

#include <boost/asio/io_context.hpp>
#include <exception>

#include "common/log.hpp"

namespace acrn::dm {

void run_event_loop(boost::asio::io_context& loop, const std::function<void(const std::string& reason)>& on_fatal) {
    for (;;) {
        std::string reason;
        try {
            loop.run();
            return;
        } catch (const std::exception& error) {
            reason = std::string("event loop: a handler failed: ") + error.what();
        } catch (...) {
            reason = "event loop: a handler failed with an exception of unknown type";
        }
        log_error("{}", reason);
        if (on_fatal) {
            on_fatal(reason);
        }
    }
}

}  // namespace acrn::dm
