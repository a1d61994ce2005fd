// acrnctl: manage the VMs acrn-dm runs, through each one's command monitor
// (acrn-dm --cmd_monitor <dir>/<vm>.socket, as acrn-dm@.service starts it).
// ACRN's commands list, start, stop [-f], reset, blkrescan, add and del (on
// the args files of /etc/acrn: tools/acrnctl/vm_configs.hpp), and ours:
// pause, resume, suspend, status, stats. Exit 0 on success, 1 on failure, 64 on bad usage.
#include <dirent.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "common/wake_alarms.hpp"
#include "tools/acrnctl/monitor_client.hpp"
#include "tools/acrnctl/vm_configs.hpp"

namespace {

using acrn::tools::MonitorClient;
using acrn::tools::run_dir;
using acrn::tools::socket_of;
using nlohmann::json;

constexpr int kExitUsage = 64;
constexpr const char* kUsage =
    "usage: acrnctl list\n"
    "       acrnctl add FILE [NAME]                     check FILE's launch line, install it as NAME's\n"
    "       acrnctl start VM | del VM\n"
    "       acrnctl stop [-f] [--timeout SECONDS] VM   power off (the ACPI power button; -f: at once)\n"
    "       acrnctl reset VM | pause VM | resume VM\n"
    "       acrnctl suspend VM                          ask the guest to suspend to RAM (the ACPI sleep button)\n"
    "       acrnctl status VM | stats VM                 the VM's state / its statistics, as JSON\n"
    "       acrnctl blkrescan VM SLOT,PATH\n"
    "Running VMs are found by their monitor sockets in $ACRN_RUN_DIR (default /run/acrn), VM.socket;\n"
    "configured ones by their args files in $ACRN_CONF_DIR (default /etc/acrn), VM.args.\n";

int usage_error(const std::string& why) {
    std::fprintf(stderr, "acrnctl: %s\n%s", why.c_str(), kUsage);
    return kExitUsage;
}

int fail(const std::string& why) {
    std::fprintf(stderr, "acrnctl: %s\n", why.c_str());
    return 1;
}

std::optional<MonitorClient> connect_vm(const std::string& vm, std::string& error) {
    auto client = MonitorClient::connect(socket_of(vm), error);
    if (!client) {
        error = "no running VM '" + vm + "' (" + error + ")";
    }
    return client;
}

// Sends `command` and prints the error of a refusal; the reply if acked.
std::optional<json> command(MonitorClient& client, const std::string& vm, const std::string& name,
                            const std::string& arguments = "") {
    std::string error;
    auto reply = client.ask(name, arguments, error);
    if (!reply) {
        fail(vm + ": " + error);
        return std::nullopt;
    }
    if ((*reply)["ack"] != 0) {
        fail(vm + ": " + name + " refused: " + reply->value("error", std::string("no reason given")));
        return std::nullopt;
    }
    return reply;
}

int list() {
    std::vector<std::string> names;
    if (DIR* dir = ::opendir(run_dir().c_str())) {
        while (const dirent* entry = ::readdir(dir)) {
            const std::string file = entry->d_name;
            const std::string suffix = ".socket";
            if (file.size() > suffix.size() && file.compare(file.size() - suffix.size(), suffix.size(), suffix) == 0) {
                names.push_back(file.substr(0, file.size() - suffix.size()));
            }
        }
        ::closedir(dir);
    }
    std::sort(names.begin(), names.end());
    std::printf("%-20s %-10s %10s %6s %10s  %s\n", "VM", "STATE", "UPTIME", "VCPUS", "MEMORY", "COMPLETION");
    for (const std::string& name : names) {
        std::string error;
        auto client = MonitorClient::connect(socket_of(name), error);
        std::optional<json> reply;
        if (client) {
            reply = client->ask("query", "", error);
        }
        if (!reply || (*reply)["ack"] != 0) {
            std::printf("%-20s %-10s (%s)\n", name.c_str(), "untracked", client ? "no answer" : "nothing listens");
            continue;
        }
        const json& vm = (*reply)["vm"];
        const double uptime = vm.value("uptime_ns", 0.0) / 1e9;
        std::printf("%-20s %-10s %9.0fs %6d %7d MiB  %s\n", name.c_str(), vm.value("state", "?").c_str(), uptime,
                    vm.value("vcpus", 0), vm.value("memory_mib", 0), vm.value("completion", "?").c_str());
    }
    // VMs that powered off with their RTC alarm set: acrnd starts them then.
    for (const acrn::WakeAlarm& alarm : acrn::read_wake_alarms(acrn::wake_alarm_dir()).alarms) {
        if (!std::binary_search(names.begin(), names.end(), alarm.vm)) {
            std::printf("%-20s %-10s (until its RTC alarm at %s)\n", alarm.vm.c_str(), "off",
                        acrn::utc_time_text(alarm.time).c_str());
        }
    }
    return 0;
}

int stop(const std::vector<std::string>& args) {
    bool force = false;
    int timeout_s = 60;
    std::string vm;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "-f" || args[i] == "--force") {
            force = true;
        } else if (args[i] == "--timeout" && i + 1 < args.size()) {
            char* end = nullptr;
            const long value = std::strtol(args[++i].c_str(), &end, 10);
            if (*end != '\0' || value < 1 || value > 3600) {
                return usage_error("--timeout: 1 to 3600 seconds, not '" + args[i] + "'");
            }
            timeout_s = static_cast<int>(value);
        } else if (vm.empty() && !args[i].empty() && args[i][0] != '-') {
            vm = args[i];
        } else {
            return usage_error("stop: unexpected '" + args[i] + "'");
        }
    }
    if (vm.empty()) {
        return usage_error("stop: which VM?");
    }
    std::string error;
    auto client = connect_vm(vm, error);
    if (!client) {
        return fail(error);
    }
    if (!command(*client, vm, force ? "destroy" : "poweroff", force ? "" : std::to_string(timeout_s))) {
        if (!force) {
            std::fprintf(stderr, "acrnctl: 'acrnctl stop -f %s' stops it at once\n", vm.c_str());
        }
        return 1;
    }
    // acrn-dm stops the VM hard itself once the deadline passes.
    const auto wait = std::chrono::seconds(force ? 10 : timeout_s + 10);
    if (!client->wait_closed(wait)) {
        return fail(vm + ": still running " + std::to_string(wait.count()) + " s after " +
                    (force ? "destroy" : "the power button"));
    }
    std::printf("%s: stopped\n", vm.c_str());
    return 0;
}

int simple(const std::string& name, const std::vector<std::string>& args, bool print_reply) {
    if (args.empty() || args.size() > (name == "blkrescan" ? 2u : 1u) || (name == "blkrescan" && args.size() != 2)) {
        return usage_error(name + ": " + (name == "blkrescan" ? "VM SLOT,PATH" : "VM"));
    }
    const std::string& vm = args[0];
    std::string error;
    auto client = connect_vm(vm, error);
    if (!client) {
        return fail(error);
    }
    const std::string monitor_command = name == "status" ? "query" : name;
    auto reply = command(*client, vm, monitor_command, args.size() > 1 ? args[1] : "");
    if (!reply) {
        return 1;
    }
    if (print_reply) {
        std::printf("%s\n", (*reply)[name == "status" ? "vm" : "stats"].dump(2).c_str());
    } else if (name == "blkrescan") {
        std::printf("%s: the virtio-blk at %s now reads %s\n", vm.c_str(), reply->value("slot", "?").c_str(),
                    reply->value("path", "?").c_str());
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const std::vector<std::string> all(argv + 1, argv + argc);
    if (all.empty() || all[0] == "-h" || all[0] == "--help" || all[0] == "help") {
        std::fputs(kUsage, all.empty() ? stderr : stdout);
        return all.empty() ? kExitUsage : 0;
    }
    const std::string& name = all[0];
    const std::vector<std::string> args(all.begin() + 1, all.end());
    try {
        if (name == "list") {
            return args.empty() ? list() : usage_error("list takes no arguments");
        }
        if (name == "stop") {
            return stop(args);
        }
        if (name == "reset" || name == "pause" || name == "resume" || name == "suspend" || name == "blkrescan") {
            return simple(name, args, false);
        }
        if (name == "status" || name == "stats") {
            return simple(name, args, true);
        }
        if (name == "add") {
            return acrn::tools::add_vm(args);
        }
        if (name == "start") {
            return acrn::tools::start_vm(args);
        }
        if (name == "del") {
            return acrn::tools::delete_vm(args);
        }
        return usage_error("unknown command '" + name + "'");
    } catch (const std::exception& error) {
        return fail(error.what());
    }
}
