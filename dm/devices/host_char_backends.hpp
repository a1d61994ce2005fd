// The host side of a serial port, as `-l comN,<backend>` names it.
#pragma once

#include <functional>
#include <memory>

#include "dm/cli/options.hpp"
#include "dm/devices/char_backend.hpp"

namespace boost::asio {
class io_context;
}

namespace acrn::dm {

// Throws std::runtime_error naming the backend when it cannot be opened.
// `on_quit_key` runs when a person types Ctrl-A x on a stdio backend.
[[nodiscard]] std::unique_ptr<CharBackend> make_host_char_backend(const SerialBackendSpec& spec,
                                                                  boost::asio::io_context& loop,
                                                                  std::function<void()> on_quit_key);

}  // namespace acrn::dm
