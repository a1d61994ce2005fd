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

#include <optional>
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

// Shared with acrnd.
// The environment variable's value, or `fallback` where it is unset or empty.
[[nodiscard]] std::string environment(const char* name, const char* fallback);
// `content` into `path` through a temporary file renamed over it; false
// (errno set, no temporary left) if it could not be written.
[[nodiscard]] bool write_file_atomically(const std::string& path, const std::string& content);
[[nodiscard]] std::string conf_dir();
[[nodiscard]] std::string args_file(const std::string& vm);
[[nodiscard]] std::string launcher();
[[nodiscard]] std::string log_file(const std::string& vm);
[[nodiscard]] bool valid_name(const std::string& name);
// The configured VMs, by name (the args files of conf_dir()).
[[nodiscard]] std::vector<std::string> configured_vms();
// The VM's state if its monitor answers ("running", "paused", ...).
[[nodiscard]] std::optional<std::string> running_state(const std::string& vm);
[[nodiscard]] bool systemd_runs();
// Runs argv and waits; its exit status, or -1.
[[nodiscard]] int run_and_wait(const std::vector<std::string>& argv);
// Forks the launcher for `vm` in a session of its own, its output appended
// to log_file(vm); the child's pid, or -1 (errno set).
[[nodiscard]] int spawn_launcher(const std::string& vm);

}  // namespace acrn::tools
