// `acrn-dm --dry-run`: the whole launch line checked against this host
// without creating a VM: the boot images parsed, /dev/kvm, guest memory
// against the host's, the CPUs named, every file, device, socket and port
// the back ends would open, the monitor's socket. Every problem is
// reported, not only the first. Nothing is created or changed (a TCP port is
// bound and let go at once).
#pragma once

#include <string>
#include <vector>

#include "dm/cli/options.hpp"

namespace acrn::dm {

struct LaunchCheck {
    std::vector<std::string> problems;  // the launch would fail, or the VM would lack what was asked
    std::vector<std::string> notes;     // it would go on, differently (a read-only retry, vhost's fallback)
};

[[nodiscard]] LaunchCheck check_launch(const DmOptions& options);

}  // namespace acrn::dm
