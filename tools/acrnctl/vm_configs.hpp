// acrnctl's commands for VMs that are configured rather than running: the
// args files in $ACRN_CONF_DIR (default /etc/acrn), NAME.args, which
// acrn-dm@NAME.service and acrn-dm-launch read.
//   add FILE [NAME]  checks FILE's launch line (acrn-dm --dry-run through the
//                    launcher) and, if it can start, installs it as NAME.args
//                    (NAME: FILE's name less ".args"); an existing VM is refused
//   start NAME       through systemd (systemctl start acrn-dm@NAME, which
//                    returns once the guest runs) where systemd runs, else the
//                    launcher in the background, its log in
//                    $ACRN_LOG_DIR/NAME.log (default /var/log/acrn-dm), and
//                    waits until the VM's monitor says it runs
//   del NAME         removes NAME.args; a running VM is refused
// ACRN_LAUNCH names the launcher (default /usr/lib/acrn/acrn-dm-launch);
// ACRN_SYSTEMCTL=no starts without systemd where it runs (for tests).
#pragma once

#include <string>
#include <vector>

namespace acrn::tools {

// Each returns acrnctl's exit status (0, 1, or 64 for bad usage) and has
// said why on stderr when it is not 0.
[[nodiscard]] int add_vm(const std::vector<std::string>& args);
[[nodiscard]] int start_vm(const std::vector<std::string>& args);
[[nodiscard]] int delete_vm(const std::vector<std::string>& args);

// Where acrnctl finds monitor sockets, $ACRN_RUN_DIR or /run/acrn, and VM's.
[[nodiscard]] std::string run_dir();
[[nodiscard]] std::string socket_of(const std::string& vm);

}  // namespace acrn::tools
