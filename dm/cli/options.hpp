// acrn-dm's command line, parsed and validated into plain values.
// The parser never exits the process: it returns either the options or the
// message and exit status main() should use, so every path is unit-testable.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace acrn::dm {

// `-s [bus:]slot[:func],emul[,config]`
struct PciSlotSpec {
    std::uint8_t bus = 0;
    std::uint8_t slot = 0;
    std::uint8_t func = 0;
    std::string emulation;  // e.g. "hostbridge", "lpc", "testdev"
    std::string config;     // everything after the emulation's comma, verbatim ("" if none)
};

// The backend of a `-l comN,<backend>` serial port.
struct SerialBackendSpec {
    enum class Kind {
        none,   // `-l com1` alone: the UART exists, its output is dropped
        stdio,  // `stdio`
        pty,    // `pty`: a new pseudo-terminal; its path is printed
        tcp,    // `tcp:<port>`: listen on 127.0.0.1:<port>, one client at a time
        file,   // `file:<path>`: output appended to the file, no input
        tty,    // an absolute path (e.g. /dev/pts/3): opened read-write
        unix_socket,  // virtio-console's `socket:`: an AF_UNIX stream socket at `path`
    };
    Kind kind = Kind::none;
    std::string path;        // file / tty
    std::uint16_t port = 0;  // tcp
    bool server = true;      // unix_socket: listen (one client at a time) or connect
};

// `-l comN[,backend]`
struct SerialPortSpec {
    int index = 1;  // 1..5
    SerialBackendSpec backend;
};

// One `name,level=N` entry of `--logger_setting`.
struct LoggerSinkSetting {
    std::string sink;  // "console" | "kmsg" | "disk"
    int level = 4;     // ACRN levels: 1 error, 2 warning, 3 notice, 4 info, 5 debug
};

// `--intr_monitor threshold,period,delay,duration`
struct IntrMonitorSpec {
    std::uint32_t threshold_per_s = 0;
    std::uint32_t period_s = 0;
    std::uint32_t delay_ms = 0;
    std::uint32_t duration_ms = 0;
};

struct DmOptions {
    std::string vm_name;                          // the one positional argument, 1..15 chars
    std::uint64_t memory_bytes = 256ull << 20;    // -m
    std::vector<PciSlotSpec> pci_slots;           // -s, in command-line order
    std::vector<SerialPortSpec> serial_ports;     // -l
    std::optional<std::string> kernel;            // -k
    std::optional<std::string> initrd;            // -r
    std::optional<std::string> bootargs;          // -B
    std::optional<std::string> elf_image;         // -E
    std::vector<std::uint32_t> cpu_affinity;      // --cpu_affinity (host LAPIC ids)
    std::optional<std::uint32_t> vcpu_count;      // -c/--ncpus
    std::optional<IntrMonitorSpec> intr_monitor;  // --intr_monitor
    std::optional<std::uint32_t> virtio_poll_ns;  // --virtio_poll
    std::optional<std::string> cmd_monitor;       // --cmd_monitor
    std::optional<std::string> boot_marker;       // --boot_marker: a COM1 line holding it ends the boot timeline
    std::vector<LoggerSinkSetting> logger;        // --logger_setting
    bool lapic_pt = false;                        // --lapic_pt
    bool rtvm = false;                            // --rtvm
    bool debugexit = false;                       // --debugexit
    bool ioreq_polling = false;                   // --ioreq_polling (ours)
    std::optional<std::chrono::nanoseconds> ioreq_dm_poll;  // --ioreq_dm_poll (ours); max(): always
    std::vector<int> dm_cpus;  // --dm_cpus (ours): the host CPUs acrn-dm's own threads run on; empty = any
    bool dry_run = false;                         // --dry-run (ours): check the launch line, create nothing
    bool hugetlb = false;                         // --hugetlb (ours): guest RAM on 2 MiB hugetlbfs pages
    bool virtio_msi = false;                      // --virtio_msi: single-vector MSI instead of MSI-X
    bool virtio_fast_paths = true;                // --virtio_fast_paths on|off (ours)
    bool kernel_host_decompress = true;           // --kernel-decompress host|guest (ours): who unpacks -k's payload
    std::string kernel_cache = "/var/cache/acrn-dm";  // --kernel-cache <dir>|none (ours): unpacked kernels
    std::vector<std::string> warnings;            // e.g. obsolete options accepted and ignored
};

// What main() must do instead of running a VM.
struct ParseExit {
    int status = 0;         // 0 for --help/--version, 64 (EX_USAGE) for bad input
    std::string message;    // printed as-is (already ends with '\n')
    bool to_stdout = false; // --help/--version print to stdout, errors to stderr
};

using ParseResult = std::variant<DmOptions, ParseExit>;

inline constexpr int kExitUsage = 64;
inline constexpr std::uint32_t kMaxVcpus = 8;  // EX_USAGE, as ACRN's acrn-dm

[[nodiscard]] ParseResult parse_command_line(int argc, const char* const* argv);

// Parses a size such as "512M", "2g", "131072k" or a bare number of MiB.
// Returns nullopt on malformed input or overflow.
[[nodiscard]] std::optional<std::uint64_t> parse_memory_size(const std::string& text);

}  // namespace acrn::dm
