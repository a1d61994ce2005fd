// acrn-dm: the device model of one User VM, launched with ACRN's command line.
#include <signal.h>

#include <boost/asio/io_context.hpp>
#include <fmt/ranges.h>
#include <cstdio>
#include <exception>
#include <optional>
#include <string>
#include <system_error>
#include <variant>

#include "common/log.hpp"
#include "common/wake_alarms.hpp"
#include "dm/boot_timeline.hpp"
#include "dm/cli/options.hpp"
#include "dm/host_cpus.hpp"
#include "dm/logging.hpp"
#include "dm/machine/launch_check.hpp"
#include "dm/monitor/command_monitor.hpp"
#include "dm/monitor/running_vm.hpp"
#include "dm/monitor/vm_events.hpp"
#include "dm/process_memory.hpp"
#include "dm/serial_consoles.hpp"
#include "dm/vm_session.hpp"
#include "relay/hosted_relay.hpp"

namespace {

// A VM that runs has no start pending at an alarm time: the one it left
// at its last power-off goes (acrnd removes it itself when it starts it).
void forget_wake_alarm(const std::string& vm) {
    const std::string dir = acrn::wake_alarm_dir();
    const std::optional<std::int64_t> time = acrn::read_wake_alarm(dir, vm);
    if (acrn::clear_wake_alarm(dir, vm) && time) {
        acrn::log_notice("VM '{}' starts before its RTC alarm at {}: nothing starts it then",
                         vm, acrn::utc_time_text(*time));
    }
}

void keep_wake_alarm(const std::string& vm, std::int64_t time) {
    const std::string dir = acrn::wake_alarm_dir();
    try {
        acrn::record_wake_alarm(dir, vm, time);
        acrn::log_notice("VM '{}' is off until its RTC alarm at {} ({}/{}: acrnd starts it then)", vm,
                         acrn::utc_time_text(time), dir, vm);
    } catch (const std::system_error& error) {
        acrn::log_warning("VM '{}' powered off with its RTC alarm set for {}, but nothing will start it then: {}", vm,
                          acrn::utc_time_text(time), error.what());
    }
}

}  // namespace

int main(int argc, char** argv) {
    using namespace acrn;
    using namespace acrn::dm;
    const auto dm_started = BootTimeline::Clock::now();
    keep_own_memory_small();

    const ParseResult parsed = parse_command_line(argc, argv);
    if (const auto* exit = std::get_if<ParseExit>(&parsed)) {
        std::fputs(exit->message.c_str(), exit->to_stdout ? stdout : stderr);
        return exit->status;
    }
    const DmOptions& options = std::get<DmOptions>(parsed);
    configure_logging(options.logger, options.vm_name);
    for (const std::string& warning : options.warnings) {
        log_warning("{}", warning);
    }
    ::signal(SIGPIPE, SIG_IGN);
    const auto options_checked = BootTimeline::Clock::now();
    if (options.dry_run) {
        const LaunchCheck check = check_launch(options);
        for (const std::string& note : check.notes) {
            std::fprintf(stderr, "acrn-dm: --dry-run: note: %s\n", note.c_str());
        }
        for (const std::string& problem : check.problems) {
            std::fprintf(stderr, "acrn-dm: --dry-run: %s\n", problem.c_str());
        }
        if (!check.problems.empty()) {
            std::fprintf(stderr, "acrn-dm: --dry-run: %zu problem(s): VM '%s' would not start as asked\n",
                         check.problems.size(), options.vm_name.c_str());
            return kExitUsage;
        }
        std::printf("acrn-dm: --dry-run: VM '%s' can start as asked\n", options.vm_name.c_str());
        return 0;
    }

    try {
        auto relay = relay::HostedRelay::create();  // hv notes the host CPUs its vCPUs may use
        if (!options.dm_cpus.empty()) {
            try {
                confine_to_cpus(options.dm_cpus);
            } catch (const std::exception& error) {
                throw StartupError(kExitFailure, std::string("--dm_cpus: ") + error.what());
            }
            log_info("acrn-dm's own threads run on host CPU(s) {}", fmt::join(options.dm_cpus, ","));
        }
        auto hsm = relay->open();
        boost::asio::io_context loop;
        VmSession* running = nullptr;  // Ctrl-A x powers off whichever session runs
        const SerialConsoles consoles(options.serial_ports, loop, [&running] {
            if (running != nullptr) {
                running->request_power_off(0, "Ctrl-A x on the console");
            }
        });
        RunningVm monitor_target;
        VmEvents vm_events(loop);
        std::optional<CommandMonitor> monitor;  // kept across guest resets, as the consoles are
        if (options.cmd_monitor) {
            monitor.emplace(loop, *options.cmd_monitor, monitor_target, vm_events);
        }
        forget_wake_alarm(options.vm_name);
        // A guest reset ends one session; the VM is built again from the
        // same options and boots in this process, as ACRN's device model does.
        for (unsigned boot = 1;; ++boot) {
            VmSession::Outcome outcome;
            {
                // The first boot's phases count from acrn-dm's start, a later one's from its reset.
                BootTimeline timeline(boot == 1 ? dm_started : BootTimeline::Clock::now(),
                                      options.boot_marker.value_or(""));
                if (boot == 1) {
                    timeline.reached(BootPhase::options_checked, options_checked);
                }
                VmSession session(options, *hsm, loop, consoles, vm_events, timeline);
                running = &session;
                monitor_target.set(&session, boot);
                outcome = session.run();
                monitor_target.set(nullptr, boot);
                running = nullptr;
            }
            if (!outcome.reset) {
                if (outcome.wake_at) {
                    keep_wake_alarm(options.vm_name, *outcome.wake_at);
                }
                return outcome.exit_status;
            }
            log_notice("VM '{}' reset by the guest: boot {}", options.vm_name, boot + 1);
        }
    } catch (const StartupError& error) {
        std::fprintf(stderr, "acrn-dm: %s\n", error.what());
        return error.status();
    } catch (const std::exception& error) {
        std::fprintf(stderr, "acrn-dm: %s\n", error.what());
        return 1;
    } catch (...) {
        // Not std::exception: still a clean exit, the session's destructor
        // has stopped the VM on the way here.
        std::fprintf(stderr, "acrn-dm: failed with an exception of unknown type\n");
        return 1;
    }
}
