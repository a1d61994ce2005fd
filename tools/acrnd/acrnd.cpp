// acrnd: starts the VMs marked for it when the Service OS boots, has the
// ones marked for it restarted when they crash, and starts a VM that
// powered itself off with its RTC alarm set when that alarm is due (ACRN's
// timer list). A VM is marked in its args file (/etc/acrn/NAME.args, which
// acrn-dm-launch reads and whose comment lines it skips) with a line
//     #acrnd: autostart [restart]
// acrnd keeps no state of its own: the marks are in the args files, the
// alarms in the files acrn-dm leaves at power-off (common/wake_alarms.hpp),
// so a reboot of the Service OS loses neither; an alarm that passed while
// nothing ran starts its VM as soon as acrnd runs.
//
// Where systemd runs, acrnd works through the VMs' units (acrnd.service is
// Type=notify: ready once the autostart is asked for): for each VM marked
// `restart` it writes a runtime drop-in,
// /run/systemd/system/acrn-dm@NAME.service.d/50-acrnd.conf with
// Restart=on-failure (gone at the next boot, written again by acrnd),
// removes the drop-ins of VMs no longer marked, reloads systemd, and starts
// each VM marked `autostart`, and later each VM whose alarm is due, with
// systemctl start --no-block.
// Without systemd, acrnd starts those VMs itself (acrn-dm-launch in a session
// of its own, its log in /var/log/acrn-dm/NAME.log) and starts a VM marked
// `restart` again when acrn-dm ends with a failure (not 0) or a signal:
// after 2 s, at most 5 times in 60 s, then it says it gives up.
// On SIGTERM or SIGINT acrnd ends and leaves the VMs running.
//
// Usage: acrnd [-t] [-d SECONDS]
//   -t          log to stdout (ACRN's option; acrnd always logs to stderr too)
//   -d SECONDS  wait this long before the autostart (0 to 3600)
// ACRN_SYSTEMD_UNIT_DIR overrides /run/systemd/system, ACRN_SYSTEMCTL the
// systemctl program (or "no": act as without systemd), ACRN_WAKE_DIR the
// alarms' folder, for tests.
#include <signal.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <deque>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/wake_alarms.hpp"
#include "tools/acrnctl/vm_configs.hpp"
#include "tools/acrnd/wake_schedule.hpp"

namespace {

using namespace acrn;
using namespace acrn::tools;
using Clock = std::chrono::steady_clock;

constexpr int kExitUsage = 64;
constexpr std::chrono::seconds kRestartDelay{2};
constexpr std::chrono::seconds kRestartWindow{60};
constexpr std::size_t kRestartsPerWindow = 5;
constexpr const char* kDropInName = "50-acrnd.conf";
constexpr std::chrono::milliseconds kLoopPeriod{200};
constexpr std::chrono::seconds kWakeCheckPeriod{1};

volatile sig_atomic_t stop_requested = 0;
bool log_to_stdout = false;

template <typename... Args>
void say(const char* format, Args... args) {
    std::fprintf(stderr, "acrnd: ");
    std::fprintf(stderr, format, args...);
    std::fprintf(stderr, "\n");
    if (log_to_stdout) {
        std::printf("acrnd: ");
        std::printf(format, args...);
        std::printf("\n");
        std::fflush(stdout);
    }
}

struct Marks {
    bool autostart = false;
    bool restart = false;
};

// The `#acrnd:` line of a VM's args file; unknown words are reported.
Marks marks_of(const std::string& vm) {
    Marks marks;
    std::ifstream in(args_file(vm));
    for (std::string line; std::getline(in, line);) {
        const std::size_t start = line.find_first_not_of(" \t");
        if (start == std::string::npos || line.compare(start, 7, "#acrnd:") != 0) {
            continue;
        }
        std::istringstream words(line.substr(start + 7));
        for (std::string word; words >> word;) {
            if (word == "autostart") {
                marks.autostart = true;
            } else if (word == "restart") {
                marks.restart = true;
            } else {
                say("%s: unknown word '%s' in its #acrnd: line (autostart, restart)", vm.c_str(), word.c_str());
            }
        }
    }
    return marks;
}

std::string systemctl() { return environment("ACRN_SYSTEMCTL", "systemctl"); }

bool with_systemd() {
    const std::string program = systemctl();
    if (program == "no") {
        return false;
    }
    struct stat info {};
    return program != "systemctl" || ::stat("/run/systemd/system", &info) == 0;
}

// Each configured VM and its marks, read once.
using MarkedVms = std::vector<std::pair<std::string, Marks>>;

// The wake alarms, looked at once a second: each VM whose alarm is due is
// started by `start` (through its unit, or by acrnd itself).
class WakeAlarmWatch {
public:
    using Starter = std::function<bool(const std::string& vm)>;
    explicit WakeAlarmWatch(Starter start) : start_(std::move(start)) {}

    // True if the pending alarms changed (for STATUS=).
    bool check() {
        const auto now = Clock::now();
        if (now < next_check_) {
            return false;
        }
        next_check_ = now + kWakeCheckPeriod;
        const WakeAlarmList list = read_wake_alarms(dir_);
        for (const std::string& problem : list.problems) {
            if (reported_.insert(problem).second) {
                say("%s; ignored", problem.c_str());
            }
        }
        const VmFacts facts{[](const std::string& vm) { return running_state(vm).has_value(); },
                            [](const std::string& vm) {
                                struct stat info {};
                                return ::stat(args_file(vm).c_str(), &info) == 0;
                            }};
        const std::int64_t wall = std::time(nullptr);
        std::vector<WakeAlarm> pending;  // not due yet, or due for a VM still ending
        for (const WakeAlarm& alarm : list.alarms) {
            if (alarm.time > wall) {
                pending.push_back(alarm);
            }
        }
        for (const WakeDecision& decision : decide_wake_alarms(list.alarms, wall, facts)) {
            if (decision.kind == WakeDecision::Kind::wait) {
                pending.insert(pending.begin(), decision.alarm);
            } else {
                act(decision, wall);
            }
        }
        std::string summary = pending.empty() ? "no VM waits for its RTC alarm"
                                              : std::to_string(pending.size()) + " VM(s) wait for their RTC alarm, next " +
                                                    pending.front().vm + " at " + utc_time_text(pending.front().time);
        const bool changed = summary != summary_;
        summary_ = std::move(summary);
        return changed;
    }
    [[nodiscard]] const std::string& summary() const { return summary_; }

private:
    void act(const WakeDecision& decision, std::int64_t wall) {
        const std::string& vm = decision.alarm.vm;
        const std::string when = utc_time_text(decision.alarm.time);
        switch (decision.kind) {
            case WakeDecision::Kind::wait: return;  // its acrn-dm is still ending: next time
            case WakeDecision::Kind::drop_running:
                (void)clear_wake_alarm(dir_, vm);
                say("%s: runs already; its RTC alarm at %s is dropped", vm.c_str(), when.c_str());
                return;
            case WakeDecision::Kind::drop_unknown:
                (void)clear_wake_alarm(dir_, vm);
                say("%s: its RTC alarm at %s is due, but there is no %s to start it from: dropped", vm.c_str(),
                    when.c_str(), args_file(vm).c_str());
                return;
            case WakeDecision::Kind::start: break;
        }
        (void)clear_wake_alarm(dir_, vm);
        const bool late = wall - decision.alarm.time > kLateSeconds;
        say("%s: its RTC alarm at %s is due%s: starting it", vm.c_str(), when.c_str(),
            late ? " (it passed while acrnd did not run)" : "");
        if (!start_(vm)) {
            say("%s: the start at its RTC alarm failed", vm.c_str());
        }
    }

    Starter start_;
    const std::string dir_ = wake_alarm_dir();
    std::set<std::string> reported_;
    std::string summary_;
    Clock::time_point next_check_{};
};

void notify_systemd(const std::string& fields) { (void)::sd_notify(0, fields.c_str()); }

int run_through_systemd(const MarkedVms& vms) {
    const std::string unit_dir = environment("ACRN_SYSTEMD_UNIT_DIR", "/run/systemd/system");
    int failures = 0;
    bool changed = false;
    for (const auto& [vm, marks] : vms) {
        const std::string dir = unit_dir + "/acrn-dm@" + vm + ".service.d";
        const std::string drop_in = dir + "/" + kDropInName;
        struct stat info {};
        const bool present = ::stat(drop_in.c_str(), &info) == 0;
        if (marks.restart) {
            ::mkdir(unit_dir.c_str(), 0755);
            ::mkdir(dir.c_str(), 0755);
            if (!write_file_atomically(drop_in, "# Written by acrnd at boot: " + vm + ".args says #acrnd: restart\n"
                                     "[Service]\nRestart=on-failure\nRestartSec=2\n"
                                     "[Unit]\nStartLimitIntervalSec=60\nStartLimitBurst=5\n")) {
                say("%s: cannot write %s: %s", vm.c_str(), drop_in.c_str(), std::strerror(errno));
                ++failures;
                continue;
            }
            changed = true;
        } else if (present) {
            ::unlink(drop_in.c_str());
            ::rmdir(dir.c_str());
            changed = true;
        }
    }
    if (changed && run_and_wait({systemctl(), "daemon-reload"}) != 0) {
        say("%s", "systemctl daemon-reload failed: the restart settings take effect at the next reload");
        ++failures;
    }
    for (const auto& [vm, marks] : vms) {
        if (!marks.autostart) {
            continue;
        }
        // --no-block: one VM slow to boot does not hold the others back.
        if (run_and_wait({systemctl(), "start", "--no-block", "acrn-dm@" + vm + ".service"}) != 0) {
            say("%s: systemctl start acrn-dm@%s failed", vm.c_str(), vm.c_str());
            ++failures;
        } else {
            say("%s: started through acrn-dm@%s.service%s", vm.c_str(), vm.c_str(),
                marks.restart ? ", restarted by systemd if it fails" : "");
        }
    }
    return failures == 0 ? 0 : 1;
}

// With systemd: the autostart, then the alarms until SIGTERM. The exit
// status says whether the autostart went well.
int serve_through_systemd(const MarkedVms& vms) {
    const int autostart = run_through_systemd(vms);
    WakeAlarmWatch watch([](const std::string& vm) {
        return run_and_wait({systemctl(), "start", "--no-block", "acrn-dm@" + vm + ".service"}) == 0;
    });
    (void)watch.check();
    notify_systemd("READY=1\nSTATUS=" + std::string(autostart == 0 ? "autostart done; " : "autostart failed; ") +
                   watch.summary());
    while (stop_requested == 0) {
        std::this_thread::sleep_for(kLoopPeriod);
        if (watch.check()) {
            notify_systemd("STATUS=" + watch.summary());
        }
    }
    say("%s", "stopping; the VMs keep running");
    return autostart;
}

struct Supervised {
    pid_t pid = -1;
    bool restart = false;
    std::deque<Clock::time_point> restarts;  // within the last window
    std::optional<Clock::time_point> start_at;
};

bool start_child(const std::string& vm, Supervised& child) {
    child.pid = spawn_launcher(vm);
    if (child.pid < 0) {
        say("%s: cannot start the launcher: %s", vm.c_str(), std::strerror(errno));
        return false;
    }
    say("%s: started (pid %d), its log in %s", vm.c_str(), static_cast<int>(child.pid), log_file(vm).c_str());
    return true;
}

int supervise(const MarkedVms& vms) {
    std::map<std::string, Supervised> children;
    for (const auto& [vm, marks] : vms) {
        if (!marks.autostart) {
            continue;
        }
        if (const auto state = running_state(vm)) {
            say("%s: %s already; not started", vm.c_str(), state->c_str());
            continue;
        }
        Supervised child;
        child.restart = marks.restart;
        if (start_child(vm, child)) {
            children.emplace(vm, std::move(child));
        }
    }
    // A VM woken by its alarm is supervised as if acrnd had started it at boot.
    WakeAlarmWatch watch([&children](const std::string& vm) {
        Supervised& child = children[vm];
        child.restart = marks_of(vm).restart;
        child.start_at.reset();
        return child.pid < 0 && start_child(vm, child);
    });
    while (stop_requested == 0) {
        int status = 0;
        const pid_t ended = ::waitpid(-1, &status, WNOHANG);
        for (auto& [vm, child] : children) {
            if (ended > 0 && child.pid == ended) {
                child.pid = -1;
                const bool failed = !WIFEXITED(status) || WEXITSTATUS(status) != 0;
                const std::string how = WIFEXITED(status) ? "exited with status " + std::to_string(WEXITSTATUS(status))
                                                          : "was killed by signal " + std::to_string(WTERMSIG(status));
                if (!failed || !child.restart) {
                    say("%s: acrn-dm %s", vm.c_str(), how.c_str());
                    continue;
                }
                const auto now = Clock::now();
                while (!child.restarts.empty() && now - child.restarts.front() > kRestartWindow) {
                    child.restarts.pop_front();
                }
                if (child.restarts.size() >= kRestartsPerWindow) {
                    say("%s: acrn-dm %s; it failed %zu times in %lld s: not restarted again", vm.c_str(), how.c_str(),
                        child.restarts.size() + 1, static_cast<long long>(kRestartWindow.count()));
                    child.restart = false;
                    continue;
                }
                say("%s: acrn-dm %s; restarting it in %lld s", vm.c_str(), how.c_str(),
                    static_cast<long long>(kRestartDelay.count()));
                child.restarts.push_back(now);
                child.start_at = now + kRestartDelay;
            }
            if (child.start_at && Clock::now() >= *child.start_at) {
                child.start_at.reset();
                (void)start_child(vm, child);
            }
        }
        (void)watch.check();
        if (ended <= 0) {
            std::this_thread::sleep_for(kLoopPeriod);
        }
    }
    say("%s", "stopping; the VMs keep running");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    long delay_s = 0;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "-t") {
            log_to_stdout = true;
        } else if (arg == "-d" && i + 1 < argc) {
            char* end = nullptr;
            delay_s = std::strtol(argv[++i], &end, 10);
            if (*end != '\0' || delay_s < 0 || delay_s > 3600) {
                std::fprintf(stderr, "acrnd: -d: 0 to 3600 seconds, not '%s'\n", argv[i]);
                return kExitUsage;
            }
        } else if (arg == "-h" || arg == "--help") {
            std::printf("usage: acrnd [-t] [-d SECONDS]\n"
                        "Starts the VMs whose /etc/acrn/NAME.args has a line '#acrnd: autostart', and restarts\n"
                        "the ones with '#acrnd: autostart restart' when they fail, and the ones that powered off\n"
                        "with their RTC alarm set when it is due (through systemd where it runs).\n");
            return 0;
        } else {
            std::fprintf(stderr, "acrnd: unexpected '%s'\nusage: acrnd [-t] [-d SECONDS]\n", arg.c_str());
            return kExitUsage;
        }
    }
    struct sigaction action {};
    action.sa_handler = [](int) { stop_requested = 1; };
    ::sigaction(SIGTERM, &action, nullptr);
    ::sigaction(SIGINT, &action, nullptr);
    ::signal(SIGPIPE, SIG_IGN);

    MarkedVms vms;
    std::size_t marked = 0;
    for (const std::string& vm : configured_vms()) {
        vms.emplace_back(vm, marks_of(vm));
        marked += vms.back().second.autostart ? 1 : 0;
    }
    say("%zu VM(s) configured in %s, %zu to start", vms.size(), conf_dir().c_str(), marked);
    if (delay_s > 0) {
        say("waiting %ld s before the autostart", delay_s);
        for (long waited = 0; waited < delay_s * 10 && stop_requested == 0; ++waited) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    }
    if (stop_requested != 0) {
        return 0;
    }
    return with_systemd() ? serve_through_systemd(vms) : supervise(vms);
}
