#include "dm/serial_consoles.hpp"

#include <stdexcept>
#include <string>

#include "dm/devices/host_char_backends.hpp"

namespace acrn::dm {

SerialConsoles::SerialConsoles(const std::vector<SerialPortSpec>& ports, boost::asio::io_context& loop,
                               std::function<void()> on_quit_key) {
    for (const SerialPortSpec& port : ports) {
        const std::string name = "com" + std::to_string(port.index);
        try {
            backends_[port.index] = make_host_char_backend(port.backend, name, loop, on_quit_key);
        } catch (const std::exception& error) {
            throw std::runtime_error("-l " + name + ": " + error.what());
        }
    }
}

CharBackend& SerialConsoles::backend(int index) const {
    const auto found = backends_.find(index);
    if (found == backends_.end()) {
        throw std::logic_error("no backend for com" + std::to_string(index));
    }
    return *found->second;
}

}  // namespace acrn::dm
