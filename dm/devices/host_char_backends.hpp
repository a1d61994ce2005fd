// The host side of a serial port, as `-l comN,<backend>` names it.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "dm/cli/options.hpp"
#include "dm/devices/char_backend.hpp"

namespace boost::asio {
class io_context;
}

namespace acrn::dm {

// Throws std::runtime_error naming the backend when it cannot be opened.
// `port_name` (e.g. "com1") names the port in messages, such as the path of
// a new pty. `on_quit_key` runs when a person types Ctrl-A x on stdio.
[[nodiscard]] std::unique_ptr<CharBackend> make_host_char_backend(const SerialBackendSpec& spec,
                                                                  const std::string& port_name,
                                                                  boost::asio::io_context& loop,
                                                                  std::function<void()> on_quit_key);

}  // namespace acrn::dm
