#include "dm/service_notify.hpp"

#include <systemd/sd-daemon.h>

#include "common/log.hpp"

namespace acrn::dm {
namespace {

// One line per field: a status with a newline in it would start a field of its own.
std::string one_line(const std::string& text) {
    std::string out = text;
    for (char& c : out) {
        if (c == '\n') {
            c = ' ';
        }
    }
    return out;
}

void send(const std::string& fields) noexcept {
    if (const int rc = ::sd_notify(0, fields.c_str()); rc < 0) {
        static RateLimiter limit(2, std::chrono::minutes(1));
        if (limit.allow()) {
            log_warning("cannot tell systemd '{}': error {}", fields, rc);
        }
    }
}

}  // namespace

void notify_status(const std::string& status) noexcept {
    try {
        send("STATUS=" + one_line(status));
    } catch (...) {
    }
}

void notify_ready(const std::string& status) noexcept {
    try {
        send("READY=1\nSTATUS=" + one_line(status));
    } catch (...) {
    }
}

void notify_stopping(const std::string& status) noexcept {
    try {
        send("STOPPING=1\nSTATUS=" + one_line(status));
    } catch (...) {
    }
}

}  // namespace acrn::dm
