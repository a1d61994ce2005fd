#include "dm/monitor/command_monitor.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstring>
#include <deque>
#include <optional>
#include <set>

#include "common/log.hpp"
#include "dm/machine/startup_error.hpp"
#include "dm/monitor/monitor_protocol.hpp"
#include "dm/monitor/vm_events.hpp"

namespace acrn::dm {

namespace asio = boost::asio;
using Protocol = asio::local::stream_protocol;

namespace {

// Root, or the user acrn-dm runs as.
bool peer_allowed(int fd, std::string& who) {
    ucred credentials{};
    socklen_t length = sizeof credentials;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) {
        who = std::string("unknown peer (") + std::strerror(errno) + ")";
        return false;
    }
    who = "pid " + std::to_string(credentials.pid) + ", uid " + std::to_string(credentials.uid);
    return credentials.uid == 0 || credentials.uid == ::geteuid();
}

}  // namespace

struct CommandMonitor::State : std::enable_shared_from_this<CommandMonitor::State> {
    struct Client {
        explicit Client(const asio::any_io_executor& executor) : socket(executor) {}
        Protocol::socket socket;
        RequestFramer framer;
        std::array<char, 4096> buffer{};
        std::deque<std::string> replies;  // the front one is being written
        bool close_after_replies = false;
        std::optional<VmEvents::SubscriptionId> events;  // set once it registered for the VM's events
    };

    // The client a request came from, for register_vm_event_client.
    struct Connection final : MonitorConnection {
        Connection(State& monitor, std::shared_ptr<Client> from) : state(monitor), client(std::move(from)) {}
        void take_vm_events() override { state.take_vm_events(client); }
        State& state;
        std::shared_ptr<Client> client;
    };

    State(asio::io_context& loop, std::string socket_path, MonitorTarget& monitor_target, VmEvents& vm_events)
        : acceptor(loop), path(std::move(socket_path)), target(&monitor_target), events(vm_events) {}

    void take_vm_events(const std::shared_ptr<Client>& client) {
        if (client->events) {
            throw MonitorError("register_vm_event_client: this connection takes the VM events already");
        }
        client->events = events.subscribe(
            [weak_self = weak_from_this(), weak_client = std::weak_ptr<Client>(client)](const std::string& line) {
                const auto self = weak_self.lock();
                const auto to = weak_client.lock();
                if (self && to && self->target != nullptr) {
                    self->send(to, line);
                }
            });
        log_info("command monitor: a client takes the VM events");
    }

    void accept() {
        auto client = std::make_shared<Client>(acceptor.get_executor());
        acceptor.async_accept(client->socket, [self = shared_from_this(), client](const boost::system::error_code& error) {
            if (self->target == nullptr) {
                return;  // closed
            }
            if (!error) {
                self->admit(client);
            } else if (error != asio::error::operation_aborted) {
                log_warning("command monitor: accept failed: {}", error.message());
            }
            self->accept();
        });
    }

    void admit(const std::shared_ptr<Client>& client) {
        std::string who;
        if (!peer_allowed(client->socket.native_handle(), who)) {
            log_warning("command monitor: refused {}: only root and acrn-dm's own user may connect", who);
            client->close_after_replies = true;
            send(client, "{\"ack\":-1,\"error\":\"permission denied\"}\n");
            return;
        }
        log_info("command monitor: client connected ({})", who);
        clients.insert(client);
        read(client);
    }

    void read(const std::shared_ptr<Client>& client) {
        client->socket.async_read_some(
            asio::buffer(client->buffer),
            [self = shared_from_this(), client](const boost::system::error_code& error, std::size_t length) {
                if (self->target == nullptr) {
                    return;
                }
                if (error) {
                    self->drop(client);
                    return;
                }
                Connection connection(*self, client);
                for (const RequestFramer::Request& request :
                     client->framer.feed(std::string_view(client->buffer.data(), length))) {
                    self->send(client, request.oversized ? oversized_reply()
                                                         : answer_request(request.text, *self->target, connection));
                    if (self->target == nullptr) {
                        return;  // the command ended the monitor
                    }
                }
                self->read(client);
            });
    }

    void send(const std::shared_ptr<Client>& client, std::string reply) {
        if (client->replies.empty()) {
            // A reply or event usually fits the socket's buffer: written at
            // once, it goes out in order even when the loop stops right
            // after (the power-off event as acrn-dm exits, whose write would
            // otherwise wait for the previous write's handler).
            const ssize_t sent = ::send(client->socket.native_handle(), reply.data(), reply.size(),
                                        MSG_DONTWAIT | MSG_NOSIGNAL);
            if (sent == static_cast<ssize_t>(reply.size())) {
                if (client->close_after_replies) {
                    drop(client);
                }
                return;
            }
            if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
                drop(client);
                return;
            }
            reply.erase(0, sent > 0 ? static_cast<std::size_t>(sent) : 0);
        }
        client->replies.push_back(std::move(reply));
        if (client->replies.size() == 1) {
            write_front(client);
        }
    }

    void write_front(const std::shared_ptr<Client>& client) {
        asio::async_write(client->socket, asio::buffer(client->replies.front()),
                          [self = shared_from_this(), client](const boost::system::error_code& error, std::size_t) {
                              if (error) {
                                  self->drop(client);
                                  return;
                              }
                              client->replies.pop_front();
                              if (!client->replies.empty()) {
                                  self->write_front(client);
                              } else if (client->close_after_replies) {
                                  self->drop(client);
                              }
                          });
    }

    void drop(const std::shared_ptr<Client>& client) {
        if (client->events) {
            events.unsubscribe(*client->events);
            client->events.reset();
        }
        boost::system::error_code ignored;
        client->socket.close(ignored);
        clients.erase(client);
    }

    void close() {
        target = nullptr;
        boost::system::error_code ignored;
        acceptor.close(ignored);
        for (const auto& client : clients) {
            if (client->events) {
                events.unsubscribe(*client->events);
            }
            client->socket.close(ignored);
        }
        clients.clear();
        ::unlink(path.c_str());
    }

    Protocol::acceptor acceptor;
    const std::string path;
    MonitorTarget* target;  // null once closed
    VmEvents& events;
    std::set<std::shared_ptr<Client>> clients;
};

CommandMonitor::CommandMonitor(asio::io_context& loop, const std::string& path, MonitorTarget& target,
                               VmEvents& events)
    : state_(std::make_shared<State>(loop, path, target, events)) {
    if (path.empty() || path.size() >= sizeof(sockaddr_un::sun_path)) {
        throw StartupError(kExitFailure, "--cmd_monitor: a Unix socket path must be 1 to " +
                                             std::to_string(sizeof(sockaddr_un::sun_path) - 1) + " bytes: " + path);
    }
    struct stat existing {};
    if (::lstat(path.c_str(), &existing) == 0) {
        if (!S_ISSOCK(existing.st_mode)) {
            throw StartupError(kExitFailure, "--cmd_monitor: " + path + " exists and is not a socket");
        }
        ::unlink(path.c_str());  // a stale socket, as ACRN replaces it
    }
    boost::system::error_code error;
    state_->acceptor.open(Protocol(), error);
    if (!error) {
        // Made 0600 from the start: no moment when another user could connect.
        const mode_t previous = ::umask(0177);
        state_->acceptor.bind(Protocol::endpoint(path), error);
        ::umask(previous);
    }
    if (!error) {
        state_->acceptor.listen(asio::socket_base::max_listen_connections, error);
    }
    if (error) {
        throw StartupError(kExitFailure, "--cmd_monitor: cannot listen on " + path + ": " + error.message());
    }
    log_info("command monitor: listening on {}", path);
    state_->accept();
}

CommandMonitor::~CommandMonitor() { state_->close(); }

}  // namespace acrn::dm
