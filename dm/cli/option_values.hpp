// Parsers for the values of acrn-dm's options (the text after `-s`, `-l`,
// `--logger_setting`, ...). Pure functions, no CLI11: options.cpp drives them.
//
// Every parser returns an empty string on success; otherwise a one-line
// description of what is wrong, without the option's name (the caller
// prefixes it) and without a trailing newline.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dm/cli/options.hpp"

namespace acrn::dm::cli {

// `'text'` for a message: control and non-ASCII bytes escaped as \xNN, long
// text shortened, so that a message always stays one printable line.
[[nodiscard]] std::string quote(std::string_view text);

// Decimal digits only (no sign, no blanks, no prefix), no overflow.
[[nodiscard]] bool parse_decimal(std::string_view text, std::uint64_t& out);

inline constexpr std::uint64_t kMinMemory = 128ull << 20;  // ACRN's minimum
inline constexpr std::uint64_t kMaxMemory = 1ull << 40;    // 1 TiB

// `-m`: parse_memory_size() plus the range and 4 KiB-granularity checks.
[[nodiscard]] std::string parse_memory_option(std::string_view text, std::uint64_t& bytes);

// `[bus:]slot[:func]` (decimal; `.` and `/` separate too), into out's address.
[[nodiscard]] std::string parse_pci_address(std::string_view address, PciSlotSpec& out);

// `-s [bus:]slot[:func],emul[,config]`. Checks the address, that the emulation
// is in the device table (implemented, not yet or obsolete), the bus where
// the emulation needs bus 0, and an implemented emulation's config with the
// table's parser. Duplicates are the caller's business.
[[nodiscard]] std::string parse_pci_slot(std::string_view text, PciSlotSpec& out);

// `-l comN[,backend]`. `relocation` is set for ACRN's
// `com5,<backend>,<port>,<irq>` form (validated, but not supported yet).
[[nodiscard]] std::string parse_serial_port(std::string_view text, SerialPortSpec& out, bool& relocation);

// `--logger_setting name,level=N[;name,level=N...]`; each entry replaces an
// earlier entry for the same sink in `settings`.
[[nodiscard]] std::string parse_logger_setting(std::string_view text, std::vector<LoggerSinkSetting>& settings);

// `--intr_monitor threshold,period,delay,duration`: threshold per second,
// probe period in s, delay time and delay duration in ms; each 1..2^32-1,
// and the delay no longer than the duration. An error names the field.
[[nodiscard]] std::string parse_intr_monitor(std::string_view text, IntrMonitorSpec& out);

// `--ioreq_dm_poll <us>|always`: how long the device model's ioreq thread
// polls for the next request before it sleeps, 0..1,000,000 us;
// `always` never sleeps (nanoseconds::max()).
[[nodiscard]] std::string parse_ioreq_dm_poll(std::string_view text, std::chrono::nanoseconds& out);

// `--virtio_poll <ns>`: 1..10,000,000.
[[nodiscard]] std::string parse_virtio_poll(std::string_view text, std::uint32_t& out);

// `--dm_cpus 0,2-3`: host CPU numbers as Linux counts them (taskset's
// list form), each < 1024; sorted, without duplicates.
[[nodiscard]] std::string parse_cpu_list(std::string_view text, std::vector<int>& out);
// `--cpu_affinity id,id,...`: decimal LAPIC ids < 256, no duplicates.
[[nodiscard]] std::string parse_cpu_affinity(std::string_view text, std::vector<std::uint32_t>& out);

// A path-like value: length < max_length, non-empty unless allow_empty.
[[nodiscard]] std::string check_text(std::string_view text, std::size_t max_length, bool allow_empty,
                                     std::string_view what);

// The VM name: 1..15 characters from [A-Za-z0-9_.-].
[[nodiscard]] std::string check_vm_name(std::string_view text);

// ACRN options we accept syntactically but do not implement yet.
[[nodiscard]] std::string check_ovmf(std::string_view text);               // [w,]<file> | [w,]code=<f>,vars=<f>
[[nodiscard]] std::string check_acpidev_pt(std::string_view text);         // <HID>[,UID]
[[nodiscard]] std::string check_mmiodev_pt(std::string_view text);         // <base>,<len> (hex)
[[nodiscard]] std::string check_ssram(std::string_view text);              // L2|L3,vcpu=..,size=..[;...]
[[nodiscard]] std::string check_pm_notify_channel(std::string_view text);  // ioc|power_button|uart[,allow_trigger_s5]

}  // namespace acrn::dm::cli
