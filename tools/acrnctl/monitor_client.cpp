#include "tools/acrnctl/monitor_client.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace acrn::tools {

std::optional<MonitorClient> MonitorClient::connect(const std::string& path, std::string& error) {
    sockaddr_un address{};
    if (path.size() >= sizeof(address.sun_path)) {
        error = "socket path too long: " + path;
        return std::nullopt;
    }
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) {
        error = std::string("socket: ") + std::strerror(errno);
        return std::nullopt;
    }
    address.sun_family = AF_UNIX;
    path.copy(address.sun_path, sizeof(address.sun_path) - 1);
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        error = path + ": " + std::strerror(errno);
        return std::nullopt;
    }
    return MonitorClient(std::move(fd));
}

std::optional<nlohmann::json> MonitorClient::ask(const std::string& command, const std::string& arguments,
                                                 std::string& error, std::chrono::milliseconds timeout) {
    const std::string request = nlohmann::json{{"command", command}, {"arguments", arguments}}.dump() + "\n";
    if (::send(fd_.get(), request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
        error = std::string("sending the request: ") + std::strerror(errno);
        return std::nullopt;
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::size_t newline;
    while ((newline = pending_.find('\n')) == std::string::npos) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        pollfd readable{fd_.get(), POLLIN, 0};
        if (left.count() <= 0 || ::poll(&readable, 1, static_cast<int>(left.count())) <= 0) {
            error = "no reply within " + std::to_string(timeout.count()) + " ms";
            return std::nullopt;
        }
        char buffer[4096];
        const ssize_t n = ::recv(fd_.get(), buffer, sizeof buffer, 0);
        if (n <= 0) {
            error = n == 0 ? "the monitor closed the connection" : std::string("reading: ") + std::strerror(errno);
            return std::nullopt;
        }
        pending_.append(buffer, static_cast<std::size_t>(n));
    }
    const std::string line = pending_.substr(0, newline);
    pending_.erase(0, newline + 1);
    nlohmann::json reply = nlohmann::json::parse(line, nullptr, false);
    if (reply.is_discarded() || !reply.is_object()) {
        error = "not a reply: " + line;
        return std::nullopt;
    }
    return reply;
}

bool MonitorClient::wait_closed(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        pollfd readable{fd_.get(), POLLIN, 0};
        if (left.count() <= 0 || ::poll(&readable, 1, static_cast<int>(left.count())) <= 0) {
            return false;
        }
        char buffer[4096];
        const ssize_t n = ::recv(fd_.get(), buffer, sizeof buffer, 0);
        if (n <= 0) {
            return true;  // closed (or reset as the process died)
        }
    }
}

}  // namespace acrn::tools
