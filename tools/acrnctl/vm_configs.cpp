#include "tools/acrnctl/vm_configs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "tools/acrnctl/monitor_client.hpp"

namespace acrn::tools {
namespace {

constexpr int kExitUsage = 64;
constexpr std::chrono::seconds kStartTimeout{120};  // a nested test host builds a VM slowly


int fail(const std::string& why) {
    std::fprintf(stderr, "acrnctl: %s\n", why.c_str());
    return 1;
}

int usage(const std::string& why) {
    std::fprintf(stderr, "acrnctl: %s\n", why.c_str());
    return kExitUsage;
}

bool exists(const std::string& path) {
    struct stat info {};
    return ::stat(path.c_str(), &info) == 0;
}

bool make_directory(const std::string& path) { return ::mkdir(path.c_str(), 0755) == 0 || errno == EEXIST; }

std::string last_lines(const std::string& path, std::size_t count) {
    std::ifstream in(path);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) {
        lines.push_back(line);
    }
    std::string out;
    for (std::size_t i = lines.size() > count ? lines.size() - count : 0; i < lines.size(); ++i) {
        out += "  " + lines[i] + "\n";
    }
    return out;
}

// The launcher in a session of its own, its output in the VM's log; then
// until the monitor says the VM runs, or the launcher (acrn-dm) ended.
int start_in_background(const std::string& vm) {
    const std::string log = log_file(vm);
    const pid_t pid = spawn_launcher(vm);
    if (pid < 0) {
        return fail("cannot start the launcher for " + vm + " (log " + log + "): " + std::strerror(errno));
    }
    const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (const auto state = running_state(vm); state && *state != "starting") {
            std::printf("%s: started (pid %d), its log in %s\n", vm.c_str(), static_cast<int>(pid), log.c_str());
            return 0;
        }
        int status = 0;
        if (::waitpid(pid, &status, WNOHANG) == pid) {
            const std::string how = WIFEXITED(status) ? "exited with status " + std::to_string(WEXITSTATUS(status))
                                                      : "was killed by signal " + std::to_string(WTERMSIG(status));
            return fail(vm + ": acrn-dm " + how + "; the end of " + log + ":\n" + last_lines(log, 5));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return fail(vm + ": not running " + std::to_string(kStartTimeout.count()) + " s after the start (pid " +
                std::to_string(pid) + "); see " + log);
}

}  // namespace

std::string environment(const char* name, const char* fallback) {
    const char* value = std::getenv(name);
    return value != nullptr && *value != '\0' ? value : fallback;
}

bool write_file_atomically(const std::string& path, const std::string& content) {
    const std::string temporary = path + ".tmp." + std::to_string(::getpid());
    {
        std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
        out << content;
        if (!out.flush()) {
            const int error = errno;
            ::unlink(temporary.c_str());
            errno = error;
            return false;
        }
    }
    if (::rename(temporary.c_str(), path.c_str()) != 0) {
        const int error = errno;
        ::unlink(temporary.c_str());
        errno = error;
        return false;
    }
    return true;
}

std::string conf_dir() { return environment("ACRN_CONF_DIR", "/etc/acrn"); }
std::string args_file(const std::string& vm) { return conf_dir() + "/" + vm + ".args"; }
std::string launcher() { return environment("ACRN_LAUNCH", "/usr/lib/acrn/acrn-dm-launch"); }
std::string log_file(const std::string& vm) { return environment("ACRN_LOG_DIR", "/var/log/acrn-dm") + "/" + vm + ".log"; }

bool systemd_runs() { return environment("ACRN_SYSTEMCTL", "yes") != "no" && exists("/run/systemd/system"); }

std::vector<std::string> configured_vms() {
    std::vector<std::string> names;
    if (DIR* dir = ::opendir(conf_dir().c_str())) {
        while (const dirent* entry = ::readdir(dir)) {
            const std::string file = entry->d_name;
            if (file.size() > 5 && file.compare(file.size() - 5, 5, ".args") == 0 &&
                valid_name(file.substr(0, file.size() - 5))) {
                names.push_back(file.substr(0, file.size() - 5));
            }
        }
        ::closedir(dir);
    }
    std::sort(names.begin(), names.end());
    return names;
}

int spawn_launcher(const std::string& vm) {
    const std::string log = log_file(vm);
    if (const std::size_t slash = log.rfind('/'); slash != std::string::npos && slash > 0) {
        make_directory(log.substr(0, slash));
    }
    const int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (log_fd < 0) {
        return -1;
    }
    const std::string program = launcher();
    const pid_t pid = ::fork();
    if (pid < 0) {
        const int error = errno;
        ::close(log_fd);
        errno = error;
        return -1;
    }
    if (pid == 0) {
        ::setsid();
        const int null_fd = ::open("/dev/null", O_RDONLY);
        ::dup2(null_fd, STDIN_FILENO);
        ::dup2(log_fd, STDOUT_FILENO);
        ::dup2(log_fd, STDERR_FILENO);
        ::execl(program.c_str(), program.c_str(), vm.c_str(), static_cast<char*>(nullptr));
        std::fprintf(stderr, "cannot run %s: %s\n", program.c_str(), std::strerror(errno));
        ::_exit(127);
    }
    ::close(log_fd);
    return pid;
}

// acrn-dm's rule for a VM name: 1 to 15 of [A-Za-z0-9_.-]; not "." first (a hidden file).
bool valid_name(const std::string& name) {
    if (name.empty() || name.size() > 15 || name[0] == '.') {
        return false;
    }
    for (const char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                        c == '.' || c == '-';
        if (!ok) {
            return false;
        }
    }
    return true;
}

// The VM answers on its monitor: it runs (or is paused).
std::optional<std::string> running_state(const std::string& vm) {
    std::string error;
    auto client = MonitorClient::connect(socket_of(vm), error);
    if (!client) {
        return std::nullopt;
    }
    auto reply = client->ask("query", "", error);
    if (!reply || (*reply)["ack"] != 0) {
        return std::nullopt;
    }
    return (*reply)["vm"].value("state", std::string("?"));
}

// Runs `argv` and waits; its output goes where acrnctl's goes. Its exit status, or -1.
int run_and_wait(const std::vector<std::string>& argv) {
    std::vector<char*> args;
    for (const std::string& arg : argv) {
        args.push_back(const_cast<char*>(arg.c_str()));
    }
    args.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) {
        return -1;
    }
    if (pid == 0) {
        ::execvp(args[0], args.data());
        std::fprintf(stderr, "acrnctl: cannot run %s: %s\n", args[0], std::strerror(errno));
        ::_exit(127);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}


std::string run_dir() { return environment("ACRN_RUN_DIR", "/run/acrn"); }

std::string socket_of(const std::string& vm) { return run_dir() + "/" + vm + ".socket"; }

int add_vm(const std::vector<std::string>& args) {
    if (args.empty() || args.size() > 2) {
        return usage("add: FILE [NAME] (FILE: acrn-dm's options, one a line, as /etc/acrn/NAME.args holds them)");
    }
    const std::string& file = args[0];
    std::string name;
    if (args.size() == 2) {
        name = args[1];
    } else {
        name = file.substr(file.rfind('/') == std::string::npos ? 0 : file.rfind('/') + 1);
        if (name.size() > 5 && name.compare(name.size() - 5, 5, ".args") == 0) {
            name.resize(name.size() - 5);
        }
    }
    if (!valid_name(name)) {
        return usage("add: '" + name + "' is not a VM name (1 to 15 of A-Z a-z 0-9 _ . -); name it: acrnctl add " +
                     file + " NAME");
    }
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        return fail("add: cannot read " + file + ": " + std::strerror(errno));
    }
    std::ostringstream content;
    content << in.rdbuf();
    const std::string target = args_file(name);
    if (exists(target)) {
        return fail("add: VM '" + name + "' exists already (" + target + "); 'acrnctl del " + name + "' first");
    }
    // The whole launch line is checked before the VM is added: every problem named.
    const int check = run_and_wait({launcher(), "--dry-run", name, file});
    if (check != 0) {
        return fail("add: VM '" + name + "' would not start (above); not added");
    }
    if (!make_directory(conf_dir())) {
        return fail("add: cannot make " + conf_dir() + ": " + std::strerror(errno));
    }
    if (!write_file_atomically(target, content.str())) {
        return fail("add: cannot install " + target + ": " + std::strerror(errno));
    }
    std::printf("%s: added (%s); start it with 'acrnctl start %s'\n", name.c_str(), target.c_str(), name.c_str());
    return 0;
}

int start_vm(const std::vector<std::string>& args) {
    if (args.size() != 1) {
        return usage("start: VM");
    }
    const std::string& vm = args[0];
    if (!valid_name(vm)) {
        return usage("start: '" + vm + "' is not a VM name");
    }
    if (!exists(args_file(vm))) {
        return fail("start: no VM '" + vm + "' (" + args_file(vm) + "); add it with 'acrnctl add FILE'");
    }
    if (const auto state = running_state(vm)) {
        return fail("start: VM '" + vm + "' is " + *state + " already");
    }
    if (systemd_runs()) {
        // Returns once acrn-dm says READY=1 (the guest runs), or with the unit's failure.
        const int status = run_and_wait({"systemctl", "start", "acrn-dm@" + vm + ".service"});
        if (status != 0) {
            return fail("start: systemctl start acrn-dm@" + vm + " failed; see 'journalctl -u acrn-dm@" + vm + "'");
        }
        std::printf("%s: started (acrn-dm@%s.service)\n", vm.c_str(), vm.c_str());
        return 0;
    }
    return start_in_background(vm);
}

int delete_vm(const std::vector<std::string>& args) {
    if (args.size() != 1) {
        return usage("del: VM");
    }
    const std::string& vm = args[0];
    if (!valid_name(vm)) {
        return usage("del: '" + vm + "' is not a VM name");
    }
    const std::string file = args_file(vm);
    if (!exists(file)) {
        return fail("del: no VM '" + vm + "' (" + file + ")");
    }
    if (const auto state = running_state(vm)) {
        return fail("del: VM '" + vm + "' is " + *state + ": stop it first ('acrnctl stop " + vm + "')");
    }
    if (::unlink(file.c_str()) != 0) {
        return fail("del: cannot remove " + file + ": " + std::strerror(errno));
    }
    std::printf("%s: deleted (%s)\n", vm.c_str(), file.c_str());
    return 0;
}

}  // namespace acrn::tools
