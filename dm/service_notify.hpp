// What acrn-dm tells systemd when it runs as a Type=notify service
// (acrn-dm@NAME.service): STATUS= with the boot phase as it changes,
// READY=1 once the guest runs, STOPPING=1 when the VM powers off. Through
// libsystemd's sd_notify, which does nothing where NOTIFY_SOCKET is unset
// (acrn-dm started by hand), so callers need not ask.
#pragma once

#include <string>

namespace acrn::dm {

void notify_status(const std::string& status) noexcept;
void notify_ready(const std::string& status) noexcept;
void notify_stopping(const std::string& status) noexcept;

}  // namespace acrn::dm
