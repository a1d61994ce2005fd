// acrn-dm's command line: ACRN's syntax, parsed with CLI11 and validated by
// the value parsers of option_values.cpp. Differences from ACRN (its quirks):
// every value is range-checked, a bare -m number means MiB, obsolete `-s`
// emulations only warn, `--logger_setting` without `,level=` or with an
// unknown sink is an error, and options this build cannot serve yet are
// refused ("not supported yet") instead of being ignored.
#include "dm/cli/options.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <array>
#include <string_view>

#include "dm/cli/option_values.hpp"
#include "dm/machine/device_table.hpp"
#include "dm/pci/pci_bus.hpp"

#ifndef ACRN_DM_VERSION
#define ACRN_DM_VERSION "0.1.0"
#endif

namespace acrn::dm {
namespace {

using cli::quote;

std::string message_line(std::string_view option, std::string_view what) {
    return "acrn-dm: " + std::string(option) + ": " + std::string(what) + "\n";
}

ParseExit usage_error(std::string_view option, std::string_view what) {
    return ParseExit{kExitUsage, message_line(option, what), false};
}

// Everything the option handlers build up while walking the command line.
struct State {
    DmOptions options;
    std::string refusal;  // the first "not supported yet" line, reported once all values are valid
    bool stdio_serial = false;
    bool acpidev_pt = false;
    bool vtpm2 = false;

    void refuse(std::string_view option, std::string_view what) {
        if (refusal.empty()) {
            refusal = message_line(option, what);
        }
    }
};

// Validates one occurrence's value (empty for a flag) and stores it in the
// State. Returns "" or what is wrong with the value.
using Handler = std::string (*)(State&, const std::string& value, std::string_view option);

std::string address_text(const PciSlotSpec& s) { return PciAddress{s.bus, s.slot, s.func}.text(); }

std::string on_pci_slot(State& st, const std::string& value, std::string_view option) {
    PciSlotSpec spec;
    if (auto error = cli::parse_pci_slot(value, spec); !error.empty()) {
        return error;
    }
    const PciEmulation& emulation = *find_pci_emulation(spec.emulation);  // parse_pci_slot checked it
    switch (emulation.support) {
    case PciEmulation::Support::obsolete:
        st.options.warnings.push_back(std::string(option) + " " + quote(value) + ": emulation " +
                                      quote(spec.emulation) + " is obsolete, ignored");
        return {};
    case PciEmulation::Support::not_yet:
        st.refuse(option, "emulation " + quote(spec.emulation) + " is not supported yet");
        break;
    case PciEmulation::Support::implemented:
        break;
    }
    for (const auto& other : st.options.pci_slots) {
        if (other.bus == spec.bus && other.slot == spec.slot && other.func == spec.func) {
            return "PCI address " + address_text(spec) + " of " + quote(value) + " is already used by " +
                   quote(other.emulation);
        }
        if (emulation.one_per_vm && other.emulation == spec.emulation) {
            return "only one " + quote(spec.emulation) + " is allowed (already at " + address_text(other) + ")";
        }
    }
    st.options.pci_slots.push_back(std::move(spec));
    return {};
}

std::string on_serial(State& st, const std::string& value, std::string_view option) {
    SerialPortSpec spec;
    bool relocation = false;
    if (auto error = cli::parse_serial_port(value, spec, relocation); !error.empty()) {
        return error;
    }
    for (const auto& other : st.options.serial_ports) {
        if (other.index == spec.index) {
            return "com" + std::to_string(spec.index) + " is configured twice";
        }
    }
    if (spec.backend.kind == SerialBackendSpec::Kind::stdio) {
        if (st.stdio_serial) {
            return "only one port may use stdio (" + quote(value) + ")";
        }
        st.stdio_serial = true;
    }
    if (relocation) {
        st.refuse(option, "COM5 relocation (com5,<backend>,<port>,<irq>) is not supported yet");
    }
    st.options.serial_ports.push_back(std::move(spec));
    return {};
}

std::string on_memory(State& st, const std::string& value, std::string_view) {
    return cli::parse_memory_option(value, st.options.memory_bytes);
}

std::string store_text(std::optional<std::string>& field, const std::string& value, std::size_t max, bool allow_empty,
                       std::string_view what) {
    auto error = cli::check_text(value, max, allow_empty, what);
    if (error.empty()) {
        field = value;
    }
    return error;
}

std::string on_kernel(State& st, const std::string& v, std::string_view) {
    return store_text(st.options.kernel, v, 1024, false, "kernel path");
}
std::string on_initrd(State& st, const std::string& v, std::string_view) {
    return store_text(st.options.initrd, v, 1024, false, "initrd path");
}
std::string on_bootargs(State& st, const std::string& v, std::string_view) {
    return store_text(st.options.bootargs, v, 2048, true, "kernel command line");
}
std::string on_elf(State& st, const std::string& v, std::string_view) {
    return store_text(st.options.elf_image, v, 4096, false, "ELF image path");
}
std::string on_cmd_monitor(State& st, const std::string& v, std::string_view) {
    return store_text(st.options.cmd_monitor, v, 1024, false, "socket path");
}
std::string on_boot_marker(State& st, const std::string& v, std::string_view) {
    if (v.find_first_of("\r\n") != std::string::npos) {
        return "the marker is text within one console line (no line breaks)";
    }
    return store_text(st.options.boot_marker, v, 256, false, "boot marker");
}

std::string on_cpu_affinity(State& st, const std::string& v, std::string_view) {
    if (auto error = cli::parse_cpu_affinity(v, st.options.cpu_affinity); !error.empty()) {
        return error;
    }
    if (st.options.cpu_affinity.size() > kMaxVcpus) {
        return "at most " + std::to_string(kMaxVcpus) + " vCPUs (" + std::to_string(st.options.cpu_affinity.size()) +
               " LAPIC ids given)";
    }
    return {};
}

std::string on_ncpus(State& st, const std::string& v, std::string_view) {
    std::uint64_t count = 0;
    if (!cli::parse_decimal(v, count) || count == 0 || count > kMaxVcpus) {
        return "invalid vCPU count " + quote(v) + " (expected 1.." + std::to_string(kMaxVcpus) + ")";
    }
    st.options.vcpu_count = static_cast<std::uint32_t>(count);
    return {};
}

std::string on_intr_monitor(State& st, const std::string& v, std::string_view) {
    IntrMonitorSpec spec;
    auto error = cli::parse_intr_monitor(v, spec);
    if (error.empty()) {
        st.options.intr_monitor = spec;
    }
    return error;
}

std::string on_virtio_poll(State& st, const std::string& v, std::string_view) {
    std::uint32_t ns = 0;
    auto error = cli::parse_virtio_poll(v, ns);
    if (error.empty()) {
        st.options.virtio_poll_ns = ns;
    }
    return error;
}

std::string on_logger(State& st, const std::string& v, std::string_view option) {
    if (auto error = cli::parse_logger_setting(v, st.options.logger); !error.empty()) {
        return error;
    }
    for (const auto& sink : st.options.logger) {
        if (sink.sink != "console") {  // only the console sink exists so far
            st.refuse(option, "sink " + quote(sink.sink) + " is not supported yet (only 'console')");
        }
    }
    return {};
}

std::string on_lapic_pt(State& st, const std::string&, std::string_view) {
    st.options.lapic_pt = true;
    return {};
}
std::string on_rtvm(State& st, const std::string&, std::string_view) {
    st.options.rtvm = true;
    st.options.lapic_pt = true;       // as ACRN: an RTVM always has its LAPIC passed through
    st.options.ioreq_polling = true;  // and completes its I/O requests by polling
    return {};
}
std::string on_debugexit(State& st, const std::string&, std::string_view) {
    st.options.debugexit = true;
    return {};
}
std::string on_ioreq_polling(State& st, const std::string&, std::string_view) {
    st.options.ioreq_polling = true;
    return {};
}
std::string on_ioreq_dm_poll(State& st, const std::string& v, std::string_view) {
    std::chrono::nanoseconds poll{};
    auto error = cli::parse_ioreq_dm_poll(v, poll);
    if (error.empty()) {
        st.options.ioreq_dm_poll = poll;
    }
    return error;
}
std::string on_dm_cpus(State& st, const std::string& v, std::string_view) {
    return cli::parse_cpu_list(v, st.options.dm_cpus);
}
std::string on_dry_run(State& st, const std::string&, std::string_view) {
    st.options.dry_run = true;
    return {};
}
std::string on_hugetlb(State& st, const std::string&, std::string_view) {
    st.options.hugetlb = true;
    return {};
}
std::string on_virtio_msi(State& st, const std::string&, std::string_view) {
    st.options.virtio_msi = true;
    return {};
}
std::string on_virtio_fast_paths(State& st, const std::string& v, std::string_view) {
    if (v != "on" && v != "off") {
        return "must be 'on' or 'off' (got " + quote(v) + ")";
    }
    st.options.virtio_fast_paths = v == "on";
    return {};
}

std::string on_kernel_decompress(State& st, const std::string& v, std::string_view) {
    if (v != "host" && v != "guest") {
        return "must be 'host' or 'guest' (got " + quote(v) + ")";
    }
    st.options.kernel_host_decompress = v == "host";
    return {};
}
std::string on_kernel_cache(State& st, const std::string& v, std::string_view) {
    std::optional<std::string> dir;
    if (auto error = store_text(dir, v, 1024, false, "cache directory"); !error.empty()) {
        return error;
    }
    st.options.kernel_cache = v == "none" ? std::string() : v;
    return {};
}

// ACRN options without a DmOptions field yet: validated only.
std::string on_ovmf(State&, const std::string& v, std::string_view) { return cli::check_ovmf(v); }
std::string on_iasl(State&, const std::string& v, std::string_view) {
    return cli::check_text(v, 1024, false, "iasl path");
}
std::string on_acpidev_pt(State& st, const std::string& v, std::string_view) {
    st.acpidev_pt = true;
    return cli::check_acpidev_pt(v);
}
std::string on_mmiodev_pt(State&, const std::string& v, std::string_view) { return cli::check_mmiodev_pt(v); }
std::string on_vtpm2(State& st, const std::string& v, std::string_view) {
    st.vtpm2 = true;
    return cli::check_text(v, 1024, false, "swtpm socket path");
}
std::string on_ssram(State&, const std::string& v, std::string_view) { return cli::check_ssram(v); }
std::string on_pm_notify_channel(State&, const std::string& v, std::string_view) {
    return cli::check_pm_notify_channel(v);
}

enum class Support {
    yes,       // parsed, validated and used
    not_yet,   // parsed and validated, then refused: "not supported yet"
    obsolete,  // accepted with a warning; its value is ignored
    help,      // -h / -v
};

struct OptionDef {
    const char* names;    // CLI11 names: "-s", "--virtio_poll", "-h,--help"
    const char* metavar;  // nullptr for a flag
    Support support;
    Handler handler;      // nullptr: nothing to check or store
    const char* help;
};

// Every option acrn-dm knows. The Support column is the single list of what is
// refused: when an option gets implemented, change its row to Support::yes
// (its handler already fills DmOptions).
constexpr auto kHelp = Support::help;
constexpr auto kYes = Support::yes;
constexpr auto kNotYet = Support::not_yet;
constexpr auto kObsolete = Support::obsolete;
const std::array kOptions{
    OptionDef{"-h,--help", nullptr, kHelp, nullptr, "print this help and exit"},
    OptionDef{"-v,--version", nullptr, kHelp, nullptr, "print the version and exit"},
    OptionDef{"-s", "<[bus:]slot[:func],emul[,conf]>", kYes, on_pci_slot, "add a PCI device (repeatable)"},
    OptionDef{"-l", "<comN[,backend]>", kYes, on_serial,
              "add COM1..COM5 on the lpc bridge; backend stdio|pty|tcp:<port>|file:<path>|/dev/tty.. (repeatable)"},
    OptionDef{"-m", "<size>", kYes, on_memory, "guest memory, e.g. 512M or 2G; a bare number is MiB (default 256M)"},
    OptionDef{"-k", "<bzImage>", kYes, on_kernel, "Linux kernel (bzImage) to boot"},
    OptionDef{"-r", "<initrd>", kYes, on_initrd, "initial ramdisk for -k"},
    OptionDef{"-B", "<cmdline>", kYes, on_bootargs, "kernel command line (-E: the multiboot command line)"},
    OptionDef{"-E", "<elf>", kYes, on_elf, "ELF image to boot"},
    OptionDef{"--cpu_affinity", "<lapic_id,...>", kYes, on_cpu_affinity,
              "one vCPU per host LAPIC id, each pinned to that host CPU"},
    OptionDef{"-c,--ncpus", "<n>", kYes, on_ncpus, "number of vCPUs, 1..8, unpinned (default 1)"},
    OptionDef{"--intr_monitor", "<thr,period,delay,dur>", kYes, on_intr_monitor,
              "interrupt storm monitor: threshold/s,probe period (s),delay (ms),duration (ms)"},
    OptionDef{"--virtio_poll", "<ns>", kYes, on_virtio_poll, "poll virtio queues every <ns> (1..10000000)"},
    OptionDef{"--lapic_pt", nullptr, kYes, on_lapic_pt,
              "the KVM counterpart of LAPIC pass-through: HLT, PAUSE and MWAIT stay in the guest (with --rtvm only)"},
    OptionDef{"--rtvm", nullptr, kYes, on_rtvm, "real-time VM (implies --lapic_pt and --ioreq_polling)"},
    OptionDef{"--cmd_monitor", "<socket>", kYes, on_cmd_monitor, "serve the command monitor on a Unix socket"},
    OptionDef{"--boot_marker", "<text>", kYes, on_boot_marker,
              "the boot is done when a COM1 line holds <text> (a boot phase, logged and in query)"},
    OptionDef{"--logger_setting", "<sink,level=N[;...]>", kYes, on_logger,
              "log sinks console|kmsg|disk at level 1 (error) .. 5 (debug)"},
    OptionDef{"--debugexit", nullptr, kYes, on_debugexit, "a write to I/O port 0xf4 powers the VM off"},
    OptionDef{"--ioreq_polling", nullptr, kYes, on_ioreq_polling, "poll for I/O request completion"},
    OptionDef{"--dm_cpus", "<cpu,...>", kYes, on_dm_cpus,
              "run acrn-dm's own threads (ioreq, event loop, devices' workers) on these host CPUs, e.g. 2,4-5"},
    OptionDef{"--ioreq_dm_poll", "<us|always>", kYes, on_ioreq_dm_poll,
              "the device model polls this long for the next request before it sleeps (default: 200 with "
              "--ioreq_polling where the host has a CPU for it, else 0)"},
    OptionDef{"--dry-run", nullptr, kYes, on_dry_run,
              "check the whole launch line against this host, name every problem, and exit (0, or 64) without a VM"},
    OptionDef{"--hugetlb", nullptr, kYes, on_hugetlb, "guest RAM on 2 MiB hugetlbfs pages (from vm.nr_hugepages)"},
    OptionDef{"--ovmf", "<[w,]file>", kNotYet, on_ovmf, "boot OVMF firmware"},
    OptionDef{"--iasl", "<path>", kNotYet, on_iasl, "iasl compiler to use"},
    OptionDef{"--enable_trusty", nullptr, kNotYet, nullptr, "enable the secure world"},
    OptionDef{"--windows", nullptr, kNotYet, nullptr, "Windows guest (Oracle virtio subsystem ids)"},
    OptionDef{"--virtio_msi", nullptr, kYes, on_virtio_msi, "virtio uses a single MSI instead of MSI-X"},
    OptionDef{"--virtio_fast_paths", "<on|off>", kYes, on_virtio_fast_paths,
              "virtio kicks through ioeventfd where the relay offers it (default on)"},
    OptionDef{"--kernel-decompress", "<host|guest>", kYes, on_kernel_decompress,
              "-k's compressed kernel unpacked by acrn-dm and entered at its 64-bit entry (host, the default), or by "
              "the kernel's own decompressor in the guest (guest: keeps KASLR)"},
    OptionDef{"--kernel-cache", "<dir|none>", kYes, on_kernel_cache,
              "where kernels unpacked on the host are kept for the next boot (default /var/cache/acrn-dm)"},
    OptionDef{"--acpidev_pt", "<HID[,UID]>", kNotYet, on_acpidev_pt, "pass an ACPI device (TPM) through"},
    OptionDef{"--mmiodev_pt", "<base,len>", kNotYet, on_mmiodev_pt, "pass an MMIO range through"},
    OptionDef{"--vtpm2", "<socket>", kNotYet, on_vtpm2, "virtual TPM 2.0 backed by swtpm"},
    OptionDef{"--ssram", "<L2|L3,vcpu=..,size=..>", kNotYet, on_ssram, "software SRAM"},
    OptionDef{"--pm_notify_channel", "<channel>", kNotYet, on_pm_notify_channel,
              "power management channel: ioc|power_button|uart[,allow_trigger_s5]"},
    OptionDef{"--mac_seed", "<seed>", kObsolete, nullptr, "use virtio-net's mac_seed= instead"},
    OptionDef{"-A", nullptr, kObsolete, nullptr, "ACPI tables are always built"},
    OptionDef{"-Y", nullptr, kObsolete, nullptr, "MP tables are always built"},
    OptionDef{"-i", "<ioc>", kObsolete, nullptr, "IOC mediator"},
    OptionDef{"-G", "<gvt>", kObsolete, nullptr, "GVT-g arguments"},
    OptionDef{"--vsbl", "<file>", kObsolete, nullptr, "vSBL firmware"},
    OptionDef{"--part_info", "<file>", kObsolete, nullptr, "partition information"},
    OptionDef{"--pm_by_vuart", "<conf>", kObsolete, nullptr, "power management over a vUART"},
};

// "-h,--help" -> "-h, --help"
std::string display_names(const OptionDef& def) {
    std::string names = def.names;
    if (auto comma = names.find(','); comma != std::string::npos) {
        names.insert(comma + 1, " ");
    }
    return names;
}

// The name the user would recognise: the short one if there is one.
std::string primary_name(const OptionDef& def) {
    const std::string_view names = def.names;
    return std::string(names.substr(0, names.find(',')));
}

const OptionDef* find_option(std::string_view name) {
    for (const auto& def : kOptions) {
        std::string_view names = def.names;
        for (;;) {
            const auto comma = names.find(',');
            if (names.substr(0, comma) == name) {
                return &def;
            }
            if (comma == std::string_view::npos) break;
            names.remove_prefix(comma + 1);
        }
    }
    return nullptr;
}

std::string usage_text() {
    std::vector<std::pair<std::string, std::string>> rows;
    std::size_t width = 0;
    for (const auto& def : kOptions) {
        std::string left = display_names(def);
        if (def.metavar != nullptr) {
            left += std::string(" ") + def.metavar;
        }
        std::string right = def.help;
        if (def.support == Support::not_yet) right += " [not supported yet]";
        if (def.support == Support::obsolete) right += " [obsolete, ignored]";
        width = std::max(width, left.size());
        rows.emplace_back(std::move(left), std::move(right));
    }
    std::string text = "Usage: acrn-dm [options] <vm_name>\n\nOptions:\n";
    for (const auto& [left, right] : rows) {
        text += "  " + left + std::string(width - left.size() + 2, ' ') + right + "\n";
    }
    text += "\n<vm_name> is 1 to 15 characters from [A-Za-z0-9_.-].\n";
    return text;
}

std::optional<ParseExit> help_or_version(const OptionDef& def) {
    if (primary_name(def) == "-h") {
        return ParseExit{0, usage_text(), true};
    }
    if (primary_name(def) == "-v") {
        return ParseExit{0, std::string("acrn-dm version ") + ACRN_DM_VERSION + "\n", true};
    }
    return std::nullopt;
}

// Checks CLI11 would not report well: `--flag=value` and `--option=` (which
// CLI11 would take as "the next word is the value"). -h/-v win over errors.
std::optional<ParseExit> prescan(const std::vector<std::string>& args) {
    for (const auto& arg : args) {
        if (arg == "--") break;
        if (const OptionDef* def = find_option(arg); def != nullptr && def->support == Support::help) {
            return help_or_version(*def);
        }
    }
    for (const auto& arg : args) {
        if (arg == "--") break;
        const auto equals = arg.find('=');
        if (!arg.starts_with("--") || equals == std::string::npos) continue;
        const OptionDef* def = find_option(std::string_view(arg).substr(0, equals));
        if (def == nullptr) continue;
        if (def->metavar == nullptr) {
            return usage_error(primary_name(*def), "takes no value (got " + quote(arg) + ")");
        }
        if (equals + 1 == arg.size()) {
            return usage_error(primary_name(*def), "empty value");
        }
    }
    return std::nullopt;
}

// CLI11's messages start with the option's name ("-s: 1 required  missing",
// "debugexit was given a disallowed flag override"): name it our way.
ParseExit translate(const CLI::ParseError& error) {
    std::string text = error.what();
    std::replace_if(text.begin(), text.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
    const auto end = text.find_first_of(": ");
    const std::string name = text.substr(0, end);
    const OptionDef* def = find_option(name);
    if (def == nullptr) def = find_option("--" + name);
    if (def == nullptr) def = find_option("-" + name);
    if (def != nullptr && dynamic_cast<const CLI::ArgumentMismatch*>(&error) != nullptr) {
        return usage_error(primary_name(*def), def->metavar != nullptr ? "missing value" : "takes no value");
    }
    return ParseExit{kExitUsage, "acrn-dm: " + text + "\n", false};
}

ParseResult parse(const std::vector<std::string>& args) {
    if (auto exit = prescan(args)) {
        return *exit;
    }

    CLI::App app{"ACRN device model", "acrn-dm"};
    app.set_help_flag();
    app.allow_extras();
    std::vector<std::pair<CLI::Option*, const OptionDef*>> handles;
    for (const auto& def : kOptions) {
        CLI::Option* option = nullptr;
        if (def.metavar != nullptr) {
            option = app.add_option(def.names, def.help)
                         ->expected(1)
                         ->allow_extra_args(false)
                         ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
        } else {
            option = app.add_flag(def.names, def.help)->disable_flag_override();
        }
        handles.emplace_back(option, &def);
    }
    std::vector<std::string> positionals;
    // One value and no extra arguments: a list-valued positional would read
    // "[vm1]" as a list and strip the brackets before the name is checked.
    // A second name stays in app.remaining(), reported as unexpected there.
    app.add_option("vm_name", positionals, "the VM's name")->expected(1)->allow_extra_args(false);

    try {
        std::vector<std::string> reversed(args.rbegin(), args.rend());
        app.parse(std::move(reversed));
    } catch (const CLI::ParseError& error) {
        return translate(error);
    }

    for (auto* option : app.parse_order()) {  // -h / -v inside grouped short flags (-Ah)
        for (const auto& [handle, def] : handles) {
            if (handle == option && def->support == Support::help) {
                return *help_or_version(*def);
            }
        }
    }
    for (const auto& extra : app.remaining()) {
        if (extra == "--") continue;
        if (extra.size() > 1 && extra.front() == '-') {
            std::string name = extra.substr(0, extra.find('='));
            if (name.size() < 2) name = extra;  // "-=x" (CLI11's rest of "-A=x")
            const bool plain = quote(name) == "'" + name + "'";
            return usage_error(plain ? name : quote(name), "unknown option (see acrn-dm --help)");
        }
        return usage_error("vm name", "unexpected argument " + quote(extra) + " (exactly one VM name is allowed)");
    }

    // The options, in command-line order.
    State st;
    std::vector<std::size_t> seen(handles.size(), 0);
    for (auto* option : app.parse_order()) {
        const auto it = std::find_if(handles.begin(), handles.end(), [&](const auto& h) { return h.first == option; });
        if (it == handles.end()) continue;  // the positional
        const OptionDef& def = *it->second;
        const std::size_t occurrence = seen[static_cast<std::size_t>(it - handles.begin())]++;
        std::string value;
        if (def.metavar != nullptr) {
            const auto& results = option->results();
            if (occurrence >= results.size()) {
                return usage_error(primary_name(def), "missing value");
            }
            value = results[occurrence];
        }
        if (def.support == Support::obsolete) {
            const std::string warning = primary_name(def) + " is obsolete and ignored";
            if (std::find(st.options.warnings.begin(), st.options.warnings.end(), warning) ==
                st.options.warnings.end()) {
                st.options.warnings.push_back(warning);
            }
            continue;
        }
        if (def.handler != nullptr) {
            if (auto error = def.handler(st, value, primary_name(def)); !error.empty()) {
                return usage_error(primary_name(def), error);
            }
        }
        if (def.support == Support::not_yet) {
            st.refuse(primary_name(def), "not supported yet");
        }
    }

    if (positionals.empty()) {
        return usage_error("vm name", "missing (usage: acrn-dm [options] <vm_name>; see acrn-dm --help)");
    }
    if (auto error = cli::check_vm_name(positionals[0]); !error.empty()) {
        return usage_error("vm name", error);
    }
    st.options.vm_name = positionals[0];

    if (st.acpidev_pt && st.vtpm2) {
        return usage_error("--vtpm2", "cannot be combined with --acpidev_pt (both provide the TPM)");
    }
    if (st.options.vcpu_count && !st.options.cpu_affinity.empty() &&
        *st.options.vcpu_count != st.options.cpu_affinity.size()) {
        return usage_error("--ncpus", std::to_string(*st.options.vcpu_count) + " vCPUs disagree with the " +
                                          std::to_string(st.options.cpu_affinity.size()) + " of --cpu_affinity");
    }
    if (st.options.lapic_pt && !st.options.rtvm) {
        st.options.lapic_pt = false;
        st.options.warnings.emplace_back("--lapic_pt is ignored: only a real-time VM (--rtvm) can use it");
    }
    if (!st.refusal.empty()) {
        return ParseExit{kExitUsage, st.refusal, false};
    }
    return std::move(st.options);
}

}  // namespace

ParseResult parse_command_line(int argc, const char* const* argv) {
    try {
        std::vector<std::string> args;
        for (int i = 1; argv != nullptr && i < argc; ++i) {
            args.emplace_back(argv[i] != nullptr ? argv[i] : "");
        }
        return parse(args);
    } catch (const std::exception& error) {
        return usage_error("internal error", quote(error.what()));
    } catch (...) {
        return usage_error("internal error", "unexpected exception");
    }
}

}  // namespace acrn::dm
