// The command monitor's protocol (`--cmd_monitor`), without the socket: a
// byte stream cut into requests, and a request answered. ACRN's requests
// are `{"command": "...", "arguments": "..."}`, sent one per message with
// no delimiter; ours may also end each with a newline. Unlike ACRN, every
// request gets a reply, one JSON object on one line: `{"ack": 0, ...}`, or
// `{"ack": -1, "error": "..."}` for a malformed, oversized, unknown or
// failed one, and the connection stays usable.
#pragma once

#include <chrono>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "dm/pci/pci_bus.hpp"  // PciAddress

namespace acrn::dm {

// A command the VM cannot carry out now; its message is the reply's "error".
class MonitorError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// What the commands act on: the running VM. Each throws MonitorError when it
// cannot do what was asked; query() and stats() return the reply's payload.
class MonitorTarget {
public:
    virtual ~MonitorTarget() = default;
    virtual void destroy() = 0;                                 // power off at once
    virtual void power_off(std::chrono::seconds deadline) = 0;  // the ACPI power button, then hard
    virtual void pause() = 0;
    virtual void resume() = 0;
    virtual void suspend() = 0;  // the ACPI sleep button: the guest suspends itself
    virtual void reset() = 0;
    // Gives the `nodisk` virtio-blk at `address` the image at `path`.
    virtual void blkrescan(const PciAddress& address, const std::string& path) = 0;
    [[nodiscard]] virtual nlohmann::json query() = 0;
    [[nodiscard]] virtual nlohmann::json stats() = 0;
};

// The connection a request came on, for the commands that act on it.
class MonitorConnection {
public:
    virtual ~MonitorConnection() = default;
    // From now on the VM's events are sent on this connection too (between
    // replies, one JSON object a line). Throws MonitorError if it cannot.
    virtual void take_vm_events() = 0;
};

// The commands, for the error that lists them.
[[nodiscard]] const std::vector<std::string_view>& monitor_commands();

// Answers one request (its text, without framing) with one line ending in '\n'.
[[nodiscard]] std::string answer_request(std::string_view request, MonitorTarget& target,
                                         MonitorConnection& connection);
// The reply to a request past RequestFramer::kMaxRequest.
[[nodiscard]] std::string oversized_reply();

// Cuts a connection's bytes into requests: at each newline, or where what
// came so far is one whole JSON object (a client that sends ACRN's
// undelimited messages). A request longer than kMaxRequest is dropped up to
// its newline (or, undelimited, everything so far) and reported oversized.
class RequestFramer {
public:
    static constexpr std::size_t kMaxRequest = 4095;  // ACRN's buffer less its NUL

    struct Request {
        std::string text;
        bool oversized = false;
    };
    [[nodiscard]] std::vector<Request> feed(std::string_view bytes);

private:
    std::string pending_;
    bool discarding_ = false;  // inside an oversized request, until its newline
};

}  // namespace acrn::dm
