// A client of acrn-dm's command monitor (dm/monitor): one connection to a
// VM's socket, one request answered at a time.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/unique_fd.hpp"

namespace acrn::tools {

class MonitorClient {
public:
    // Empty if nothing listens at `path` (the error says why).
    static std::optional<MonitorClient> connect(const std::string& path, std::string& error);

    // The reply, or nullopt (with `error`) if the monitor did not answer in time.
    std::optional<nlohmann::json> ask(const std::string& command, const std::string& arguments, std::string& error,
                                      std::chrono::milliseconds timeout = std::chrono::seconds(5));

    // True once acrn-dm closed the connection (it ends), false after `timeout`.
    bool wait_closed(std::chrono::milliseconds timeout);

private:
    explicit MonitorClient(UniqueFd fd) : fd_(std::move(fd)) {}
    UniqueFd fd_;
    std::string pending_;
};

}  // namespace acrn::tools
