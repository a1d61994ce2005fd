#include "dm/virtio/virtio_console.hpp"

#include <cstring>
#include <stdexcept>

#include "common/option_fields.hpp"
#include "dm/devices/host_char_backends.hpp"
#include "dm/machine/device_context.hpp"
#include "dm/machine/device_table.hpp"

namespace acrn::dm {
namespace {

constexpr std::uint64_t kMultiport = 1ull << 1;  // VIRTIO_CONSOLE_F_MULTIPORT
constexpr unsigned kControlReceive = 2;          // device to driver
constexpr unsigned kControlTransmit = 3;         // driver to device

// 5.3.6.2 Multiport Device Operation: control events
enum ControlEvent : std::uint16_t {
    kDeviceReady = 0,
    kDeviceAdd = 1,
    kPortReady = 3,
    kConsolePort = 4,
    kPortOpen = 6,
    kPortName = 7,
};

struct ControlMessage {
    std::uint32_t id;
    std::uint16_t event;
    std::uint16_t value;
};
static_assert(sizeof(ControlMessage) == 8);

ConsolePortSpec parse_port(std::string_view text, unsigned index) {
    ConsolePortSpec port;
    const std::string where = "port " + std::to_string(index) + " ('" + std::string(text) + "')";
    if (!text.empty() && text.front() == '@') {
        port.console = true;
        text.remove_prefix(1);
    }
    const auto fields = split_fields(text, ':');
    const std::string_view kind = fields[0];
    if (fields.size() > 3) {
        throw std::invalid_argument(where + ": too many ':' fields");
    }
    const KeyValue name_and_path = split_key_value(fields.size() > 1 ? fields[1] : std::string_view{});
    port.name = std::string(name_and_path.key);
    const std::string path(name_and_path.value);
    if (port.name.empty()) {
        port.name = "port" + std::to_string(index);
    }
    using Kind = SerialBackendSpec::Kind;
    if (kind == "stdio") {
        port.backend.kind = Kind::stdio;
    } else if (kind == "pty") {
        port.backend.kind = Kind::pty;
    } else if (kind == "tty" || kind == "file" || kind == "socket") {
        port.backend.kind = kind == "tty" ? Kind::tty : kind == "file" ? Kind::file : Kind::unix_socket;
        if (path.empty()) {
            throw std::invalid_argument(where + ": " + std::string(kind) + " needs <name>=<path>");
        }
        port.backend.path = path;
    } else {
        throw std::invalid_argument(where + ": unknown back end '" + std::string(kind) +
                                    "' (stdio, tty, pty, file or socket)");
    }
    if (fields.size() == 3) {
        if (kind != "socket" || (fields[2] != "server" && fields[2] != "client")) {
            throw std::invalid_argument(where + ": only a socket takes :server or :client");
        }
        port.backend.server = fields[2] == "server";
    }
    if (kind != "socket" && kind != "tty" && kind != "file" && !path.empty()) {
        throw std::invalid_argument(where + ": " + std::string(kind) + " takes no path");
    }
    return port;
}

}  // namespace

std::vector<ConsolePortSpec> parse_console_ports(std::string_view config) {
    if (config.empty()) {
        throw std::invalid_argument("virtio-console needs at least one port");
    }
    std::vector<ConsolePortSpec> ports;
    for (std::string_view text : split_fields(config, ',')) {
        ports.push_back(parse_port(text, static_cast<unsigned>(ports.size())));
        for (std::size_t other = 0; other + 1 < ports.size(); ++other) {
            if (ports[other].name == ports.back().name) {
                throw std::invalid_argument("two ports are named '" + ports.back().name + "'");
            }
        }
    }
    if (ports.size() > VirtioConsole::kMaxPorts) {
        throw std::invalid_argument("at most " + std::to_string(VirtioConsole::kMaxPorts) + " ports");
    }
    return ports;
}

VirtioConsole::VirtioConsole(const DeviceContext& context, std::vector<Port> ports)
    : VirtioPciDevice("virtio-console",
                      VirtioIdentity{.device = virtio::DeviceId::console,
                                     .class_code = 0x07,  // simple communication controller
                                     .subclass = 0x80,
                                     .features = kMultiport,
                                     .queues = 2 + 2 * static_cast<unsigned>(ports.size()),
                                     .queue_size = kQueueSize,
                                     .config_size = 12},
                      context),
      ports_(std::move(ports)),
      states_(ports_.size()) {
    const std::uint32_t max_ports = static_cast<std::uint32_t>(ports_.size());
    std::uint8_t config[12] = {};
    std::memcpy(config + 4, &max_ports, sizeof max_ports);
    store_config(0, config);
    for (unsigned index = 0; index < ports_.size(); ++index) {
        ports_[index].backend->start([this, index](std::span<const std::uint8_t> bytes) { receive(index, bytes); });
    }
}

VirtioConsole::~VirtioConsole() {
    for (Port& port : ports_) {
        port.backend->start({});  // input that arrives from now on is dropped
    }
}

std::string VirtioConsole::check_config(std::string_view config) {
    return check_by_parsing<parse_console_ports>(config);
}

std::shared_ptr<PciDevice> VirtioConsole::create(const DeviceContext& context) {
    std::vector<Port> ports;
    for (ConsolePortSpec& spec : parse_console_ports(context.config)) {
        auto backend = make_host_char_backend(spec.backend, "virtio-console " + spec.name, context.loop, [] {});
        ports.push_back(Port{std::move(spec), std::move(backend)});
    }
    return std::make_shared<VirtioConsole>(context, std::move(ports));
}

std::uint64_t VirtioConsole::input_dropped() const {
    std::lock_guard lock(mutex_);
    return input_dropped_;
}

void VirtioConsole::receive(unsigned index, std::span<const std::uint8_t> bytes) {
    std::lock_guard lock(mutex_);
    std::deque<std::uint8_t>& input = states_[index].input;
    const std::size_t room = kInputLimit - std::min(kInputLimit, input.size());
    const std::size_t taken = std::min(room, bytes.size());
    input.insert(input.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(taken));
    input_dropped_ += bytes.size() - taken;
    deliver_input(index);
}

void VirtioConsole::queue_kicked(unsigned queue) {
    std::lock_guard lock(mutex_);
    if (queue == kControlTransmit) {
        handle_control();
    } else if (queue == kControlReceive) {
        deliver_control();
    } else {
        const unsigned port = queue < 2 ? 0 : (queue - 2) / 2;
        if (port >= ports_.size()) {
            return;
        }
        if (queue % 2 == 1) {
            transmit(port, queue);
        } else {
            deliver_input(port);
        }
    }
}

void VirtioConsole::device_reset() {
    std::lock_guard lock(mutex_);
    control_out_.clear();
    for (PortState& state : states_) {
        state.guest_open = false;
    }
}

void VirtioConsole::transmit(unsigned port, unsigned queue) {
    Virtqueue& ring = this->queue(queue);
    while (next_chain(queue, chain_)) {
        if (const auto buffers = GuestBuffers::map(memory(), chain_.readable)) {
            for (const std::span<std::uint8_t>& piece : buffers->pieces()) {
                ports_[port].backend->write(piece);
            }
        }
        (void)ring.push(chain_, 0);
    }
    notify_queue(queue);
}

void VirtioConsole::deliver_input(unsigned port) {
    if (port > 0 && !negotiated(kMultiport)) {
        return;
    }
    std::deque<std::uint8_t>& input = states_[port].input;
    std::vector<std::uint8_t> bytes;
    fill_receive_chains(
        receive_queue(port), [&] { return !input.empty(); },
        [&](const GuestBuffers& buffers) {
            bytes.assign(input.begin(), input.begin() + static_cast<std::ptrdiff_t>(
                                                            std::min<std::uint64_t>(input.size(), buffers.size())));
            const std::uint64_t written = buffers.copy_to_guest(0, bytes);
            input.erase(input.begin(), input.begin() + static_cast<std::ptrdiff_t>(written));
            return written;
        });
}

void VirtioConsole::handle_control() {
    Virtqueue& ring = queue(kControlTransmit);
    while (next_chain(kControlTransmit, chain_)) {
        ControlMessage message{};
        const auto buffers = GuestBuffers::map(memory(), chain_.readable);
        const bool whole =
            buffers && buffers->copy_from_guest(0, std::span(reinterpret_cast<std::uint8_t*>(&message),
                                                             sizeof message)) == sizeof message;
        (void)ring.push(chain_, 0);
        if (!whole) {
            continue;  // a short message means nothing; the driver gets its buffer back
        }
        if (message.event == kDeviceReady && message.value == 1) {
            for (std::uint32_t id = 0; id < ports_.size(); ++id) {
                send_control(id, kDeviceAdd, 1);
            }
        } else if (message.event == kPortReady && message.id < ports_.size() && message.value == 1) {
            const ConsolePortSpec& spec = ports_[message.id].spec;
            if (spec.console) {
                send_control(message.id, kConsolePort, 1);
            }
            send_control(message.id, kPortName, 1, spec.name);
            send_control(message.id, kPortOpen, 1);  // the host end is always there
        } else if (message.event == kPortOpen && message.id < ports_.size()) {
            states_[message.id].guest_open = message.value != 0;
            deliver_input(message.id);
        }
    }
    notify_queue(kControlTransmit);
    deliver_control();
}

void VirtioConsole::send_control(std::uint32_t id, std::uint16_t event, std::uint16_t value, std::string_view text) {
    const ControlMessage message{id, event, value};
    std::vector<std::uint8_t> bytes(sizeof message + text.size());
    std::memcpy(bytes.data(), &message, sizeof message);
    if (!text.empty()) {
        std::memcpy(bytes.data() + sizeof message, text.data(), text.size());
    }
    control_out_.push_back(std::move(bytes));
}

void VirtioConsole::deliver_control() {
    fill_receive_chains(
        kControlReceive, [&] { return !control_out_.empty(); },
        [&](const GuestBuffers& buffers) {
            const std::uint64_t written = buffers.copy_to_guest(0, control_out_.front());
            control_out_.pop_front();  // cut short where the driver's buffer is too small
            return written;
        });
}

void VirtioConsole::fill_receive_chains(unsigned queue, const std::function<bool()>& pending,
                                        const std::function<std::uint64_t(const GuestBuffers&)>& copy_into) {
    Virtqueue& ring = this->queue(queue);
    bool pushed = false;
    while (pending() && next_chain(queue, chain_)) {
        // A chain outside guest RAM takes nothing and goes back empty.
        const GuestBuffers buffers = GuestBuffers::map(memory(), chain_.writable).value_or(GuestBuffers{});
        (void)ring.push(chain_, static_cast<std::uint32_t>(copy_into(buffers)));
        pushed = true;
    }
    if (pushed) {
        notify_queue(queue);
    }
}

}  // namespace acrn::dm
