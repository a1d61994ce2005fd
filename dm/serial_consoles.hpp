// The host ends of the VM's COM ports (`-l`), opened once per acrn-dm
// process. Like a machine's cables they outlive its reboots: across a guest
// reset a pty keeps its path, a TCP client stays connected and the terminal
// stays raw while the VM is built again.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "dm/cli/options.hpp"
#include "dm/devices/char_backend.hpp"

namespace boost::asio {
class io_context;
}

namespace acrn::dm {

class SerialConsoles {
public:
    // Throws std::runtime_error naming the port when a backend cannot be
    // opened. `on_quit_key` runs when a person types Ctrl-A x on stdio.
    SerialConsoles(const std::vector<SerialPortSpec>& ports, boost::asio::io_context& loop,
                   std::function<void()> on_quit_key);

    // The backend of COM `index`, one of the ports given to the constructor.
    [[nodiscard]] CharBackend& backend(int index) const;

private:
    std::map<int, std::unique_ptr<CharBackend>> backends_;
};

}  // namespace acrn::dm
