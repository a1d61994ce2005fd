// `-s N,virtio-console,<port>[,<port>...]`: the console device (virtio 1.2,
// 5.3) with VIRTIO_CONSOLE_F_MULTIPORT. Each port is
//     [@]stdio|tty|pty|file|socket[:<name>[=<path>][:server|client]]
// as ACRN writes it: `@` makes the port a console (the guest's hvc0 for the
// first one), <name> is what the guest sees in /sys/class/virtio-ports,
// tty and file need a path (file output is appended, it has no input), and
// socket is an AF_UNIX stream socket at <path>, a server by default. The
// ports' host ends are the character back ends the UARTs use.
//
// Queues: port 0's receive and transmit queues (0, 1), the control queues
// (2, 3), then two per further port. Everything the device does runs on the
// event loop (kicks and back-end input both arrive there) except reset,
// under one lock that is never held across a blocking call.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "dm/cli/options.hpp"
#include "dm/devices/char_backend.hpp"
#include "dm/virtio/virtio_pci.hpp"

namespace acrn::dm {

struct ConsolePortSpec {
    bool console = false;  // `@`
    std::string name;
    SerialBackendSpec backend;
};

// Throws std::invalid_argument naming what is wrong.
[[nodiscard]] std::vector<ConsolePortSpec> parse_console_ports(std::string_view config);

class VirtioConsole final : public VirtioPciDevice {
public:
    static constexpr std::uint16_t kQueueSize = 64;
    static constexpr unsigned kMaxPorts = 16;
    static constexpr std::size_t kInputLimit = 64 * 1024;  // bytes held per port while the guest takes none

    struct Port {
        ConsolePortSpec spec;
        std::unique_ptr<CharBackend> backend;
    };

    VirtioConsole(const DeviceContext& context, std::vector<Port> ports);
    ~VirtioConsole() override;

    [[nodiscard]] static std::string check_config(std::string_view config);
    [[nodiscard]] static std::shared_ptr<PciDevice> create(const DeviceContext& context);

    // Host input for port `index`, as its back end delivers it (event loop).
    void receive(unsigned index, std::span<const std::uint8_t> bytes);
    [[nodiscard]] std::uint64_t input_dropped() const;

private:
    struct PortState {
        std::deque<std::uint8_t> input;
        bool guest_open = false;
    };

    void queue_kicked(unsigned queue) override;
    void device_reset() override;
    void transmit(unsigned port, unsigned queue);
    void deliver_input(unsigned port);
    void handle_control();
    void send_control(std::uint32_t id, std::uint16_t event, std::uint16_t value, std::string_view text = {});
    void deliver_control();
    // Host-to-guest bytes into the driver's buffers on `queue`, one chain at
    // a time while `pending()`: `copy_into` fills one chain's writable
    // buffers and says how many bytes it wrote.
    void fill_receive_chains(unsigned queue, const std::function<bool()>& pending,
                             const std::function<std::uint64_t(const GuestBuffers&)>& copy_into);
    [[nodiscard]] static unsigned receive_queue(unsigned port) { return port == 0 ? 0 : 2 + 2 * port; }

    std::vector<Port> ports_;
    mutable std::mutex mutex_;
    std::vector<PortState> states_;
    std::deque<std::vector<std::uint8_t>> control_out_;  // messages waiting for the driver's buffers
    std::uint64_t input_dropped_ = 0;
    DescriptorChain chain_;  // reused under mutex_
};

}  // namespace acrn::dm
