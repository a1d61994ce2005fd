// The main thread's Boost.Asio loop with an exception barrier: a handler
// that throws must not end acrn-dm with the VM half torn down.
#pragma once

#include <functional>
#include <string>

namespace boost::asio {
class io_context;
}

namespace acrn::dm {

// Runs `loop` until it is stopped or runs out of work. When a handler
// throws, the error is logged and `on_fatal(reason)` is called (the session
// powers the VM off with exit status 1, which stops the loop); the loop then
// runs on, as Asio allows after an exception, until it is stopped.
void run_event_loop(boost::asio::io_context& loop, const std::function<void(const std::string& reason)>& on_fatal);

}  // namespace acrn::dm
