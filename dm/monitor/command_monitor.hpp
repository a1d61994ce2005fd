// The command monitor's socket (`--cmd_monitor <path>`): an AF_UNIX stream
// socket, mode 0600, served on the main event loop. Unlike ACRN's, any
// number of clients may be connected at once, and every request is answered
// (dm/monitor/monitor_protocol.hpp). A client is accepted only if its
// SO_PEERCRED user is root or acrn-dm's own. Any number of them may take the
// VM's events (dm/monitor/vm_events.hpp). The socket is made before the
// first VM and kept across guest resets; the destructor closes every
// connection and removes the socket file.
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>

namespace acrn::dm {

class MonitorTarget;
class VmEvents;

class CommandMonitor {
public:
    // Throws StartupError if the socket cannot be made: a path too long for
    // a Unix socket, something other than a stale socket already there, or
    // a directory it cannot be bound in.
    // A client that sends register_vm_event_client is given `events`.
    CommandMonitor(boost::asio::io_context& loop, const std::string& path, MonitorTarget& target, VmEvents& events);
    CommandMonitor(const CommandMonitor&) = delete;
    CommandMonitor& operator=(const CommandMonitor&) = delete;
    ~CommandMonitor();

    struct State;

private:
    std::shared_ptr<State> state_;  // the loop's handlers hold it too
};

}  // namespace acrn::dm
