#include "dm/cli/option_values.hpp"

#include <algorithm>
#include <array>
#include <limits>

#include "common/option_fields.hpp"
#include "dm/machine/device_table.hpp"

namespace acrn::dm::cli {
namespace {

constexpr std::uint64_t kMaxU64 = std::numeric_limits<std::uint64_t>::max();

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
               return lower(x) == lower(y);
           });
}

int digit_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// strtoull(base 0) without its leniency (blanks, signs): 0x hex, leading 0
// octal, else decimal. Returns the number of characters used (0: no number);
// `overflow` is set when the number does not fit.
std::size_t scan_base0(std::string_view s, std::uint64_t& value, bool& overflow) {
    value = 0;
    overflow = false;
    if (s.empty() || s[0] < '0' || s[0] > '9') {
        return 0;
    }
    std::size_t i = 0;
    unsigned base = 10;
    if (s[0] == '0') {
        base = 8;
        if (s.size() > 2 && (s[1] == 'x' || s[1] == 'X') && digit_value(s[2]) >= 0) {
            base = 16;
            i = 2;
        }
    }
    for (; i < s.size(); ++i) {
        const int d = digit_value(s[i]);
        if (d < 0 || static_cast<unsigned>(d) >= base) {
            break;
        }
        if (value > (kMaxU64 - static_cast<unsigned>(d)) / base) {
            overflow = true;
            return i;
        }
        value = value * base + static_cast<unsigned>(d);
    }
    return i;
}

bool parse_hex(std::string_view s, std::uint64_t& out) {
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s.remove_prefix(2);
    }
    if (s.empty() || s.size() > 16) {
        return false;
    }
    out = 0;
    for (char c : s) {
        const int d = digit_value(c);
        if (d < 0) {
            return false;
        }
        out = out * 16 + static_cast<unsigned>(d);
    }
    return true;
}

bool parse_decimal_max(std::string_view text, std::uint64_t max, std::uint64_t& out) {
    return parse_decimal(text, out) && out <= max;
}

std::string parse_serial_backend(std::string_view text, SerialBackendSpec& out) {
    out = SerialBackendSpec{};
    if (text.empty()) {
        return "empty backend after ',' (expected stdio, pty, tcp:<port>, file:<path> or a tty path)";
    }
    if (text == "stdio") {
        out.kind = SerialBackendSpec::Kind::stdio;
    } else if (text == "pty") {
        out.kind = SerialBackendSpec::Kind::pty;
    } else if (text.starts_with("tcp:")) {
        std::uint64_t port = 0;
        if (!parse_decimal_max(text.substr(4), 65535, port) || port == 0) {
            return "invalid TCP port in " + quote(text) + " (expected tcp:1..65535)";
        }
        out.kind = SerialBackendSpec::Kind::tcp;
        out.port = static_cast<std::uint16_t>(port);
    } else if (text.starts_with("file:")) {
        if (auto error = check_text(text.substr(5), 4096, false, "file path"); !error.empty()) {
            return error + " in " + quote(text);
        }
        out.kind = SerialBackendSpec::Kind::file;
        out.path = std::string(text.substr(5));
    } else if (text.front() == '/') {
        if (auto error = check_text(text, 4096, false, "tty path"); !error.empty()) {
            return error;
        }
        out.kind = SerialBackendSpec::Kind::tty;
        out.path = std::string(text);
    } else {
        return "unknown backend " + quote(text) + " (expected stdio, pty, tcp:<port>, file:<path> or an absolute tty path)";
    }
    return {};
}

}  // namespace

std::string quote(std::string_view text) {
    constexpr std::size_t kShown = 64;
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out = "'";
    for (std::size_t i = 0; i < text.size() && i < kShown; ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c < 0x20 || c >= 0x7f) {
            out += "\\x";
            out += kHex[c >> 4];
            out += kHex[c & 0xf];
        } else {
            out += static_cast<char>(c);
        }
    }
    if (text.size() > kShown) {
        out += "...";
    }
    return out + "'";
}

bool parse_decimal(std::string_view text, std::uint64_t& out) {
    if (text.empty()) {
        return false;
    }
    out = 0;
    for (char c : text) {
        if (c < '0' || c > '9') {
            return false;
        }
        const auto d = static_cast<unsigned>(c - '0');
        if (out > (kMaxU64 - d) / 10) {
            return false;
        }
        out = out * 10 + d;
    }
    return true;
}

std::string parse_memory_option(std::string_view text, std::uint64_t& bytes) {
    const auto size = parse_memory_size(std::string(text));
    if (!size) {
        return "invalid memory size " + quote(text) + " (expected e.g. 512M, 2G or a number of MiB)";
    }
    if (*size < kMinMemory) {
        return "memory size " + quote(text) + " is below the minimum of 128 MiB";
    }
    if (*size > kMaxMemory) {
        return "memory size " + quote(text) + " is above the maximum of 1 TiB";
    }
    if (*size % 4096 != 0) {
        return "memory size " + quote(text) + " is not a multiple of 4 KiB";
    }
    bytes = *size;
    return {};
}

std::string parse_pci_address(std::string_view address, PciSlotSpec& out) {
    std::vector<std::string_view> fields;
    for (std::size_t start = 0;;) {
        const auto at = address.find_first_of(":/.", start);
        fields.push_back(address.substr(start, at == std::string_view::npos ? at : at - start));
        if (at == std::string_view::npos) break;
        start = at + 1;
    }
    std::array<std::uint64_t, 3> values{};
    if (fields.size() > 3) {
        return "invalid PCI address " + quote(address) + " (expected [bus:]slot[:func])";
    }
    for (std::size_t i = 0; i < fields.size(); ++i) {
        if (!parse_decimal(fields[i], values[i])) {
            return "invalid PCI address " + quote(address) + " (fields are decimal numbers)";
        }
    }
    std::uint64_t bus = 0, slot = 0, func = 0;
    if (fields.size() == 1) {
        slot = values[0];
    } else if (fields.size() == 2) {
        slot = values[0];
        func = values[1];
    } else {
        bus = values[0];
        slot = values[1];
        func = values[2];
    }
    if (bus > 255) return "PCI bus in " + quote(address) + " is out of range (0..255)";
    if (slot > 31) return "PCI slot in " + quote(address) + " is out of range (0..31)";
    if (func > 7) return "PCI function in " + quote(address) + " is out of range (0..7)";
    out.bus = static_cast<std::uint8_t>(bus);
    out.slot = static_cast<std::uint8_t>(slot);
    out.func = static_cast<std::uint8_t>(func);
    return {};
}

std::string parse_pci_slot(std::string_view text, PciSlotSpec& out) {
    static constexpr std::string_view kSyntax = " (expected [bus:]slot[:func],emulation[,config])";
    const auto comma = text.find(',');
    if (comma == std::string_view::npos) {
        return "missing emulation in " + quote(text) + std::string(kSyntax);
    }
    const auto address = text.substr(0, comma);
    PciSlotSpec parsed;
    if (std::string error = parse_pci_address(address, parsed); !error.empty()) {
        return error;
    }

    const auto rest = text.substr(comma + 1);
    const auto comma2 = rest.find(',');
    const auto emulation = rest.substr(0, comma2);
    const auto config = comma2 == std::string_view::npos ? std::string_view{} : rest.substr(comma2 + 1);
    if (emulation.empty()) {
        return "missing emulation in " + quote(text) + std::string(kSyntax);
    }
    const PciEmulation* known = find_pci_emulation(emulation);
    if (known == nullptr) {
        return "unknown emulation " + quote(emulation) + " in " + quote(text);
    }
    if (known->bus0_only && parsed.bus != 0) {
        return quote(emulation) + " must be on bus 0 (got " + quote(address) + ")";
    }
    if (known->support == PciEmulation::Support::implemented) {
        if (auto error = known->check_config(config); !error.empty()) {
            return quote(emulation) + " " + error;
        }
    }
    parsed.emulation = std::string(emulation);
    parsed.config = std::string(config);
    out = std::move(parsed);
    return {};
}

std::string parse_serial_port(std::string_view text, SerialPortSpec& out, bool& relocation) {
    relocation = false;
    const auto comma = text.find(',');
    const auto name = text.substr(0, comma);
    if (name.size() != 4 || !iequals(name.substr(0, 3), "com") || name[3] < '1' || name[3] > '5') {
        return "invalid port " + quote(name) + " (expected com1..com5)";
    }
    SerialPortSpec spec;
    spec.index = name[3] - '0';
    if (comma != std::string_view::npos) {
        auto backend = text.substr(comma + 1);
        if (spec.index == 5 && backend.find(',') != std::string_view::npos) {
            // ACRN's com5,<backend>,<port>,<irq>
            const auto parts = split_fields(backend, ',');
            std::uint64_t port = 0, irq = 0;
            bool overflow = false;
            if (parts.size() != 3 || scan_base0(parts[1], port, overflow) != parts[1].size() || parts[1].empty() ||
                overflow || port == 0 || port > 0xffff || !parse_decimal_max(parts[2], 255, irq)) {
                return "invalid COM5 relocation " + quote(text) + " (expected com5,<backend>,<io port>,<irq>)";
            }
            relocation = true;
            backend = parts[0];
        }
        if (auto error = parse_serial_backend(backend, spec.backend); !error.empty()) {
            return error;
        }
    }
    out = std::move(spec);
    return {};
}

std::string parse_logger_setting(std::string_view text, std::vector<LoggerSinkSetting>& settings) {
    static constexpr std::string_view kSyntax = " (expected console|kmsg|disk,level=1..5[;...])";
    auto result = settings;
    bool any = false;
    for (const auto entry : split_fields(text, ';')) {
        if (entry.empty()) {
            continue;  // tolerate "a,level=1;" and ";;"
        }
        const auto comma = entry.find(',');
        const auto sink = entry.substr(0, comma);
        if (sink != "console" && sink != "kmsg" && sink != "disk") {
            return "unknown sink " + quote(sink) + std::string(kSyntax);
        }
        if (comma == std::string_view::npos) {
            return "missing ',level=N' after " + quote(sink) + std::string(kSyntax);
        }
        const auto level_text = entry.substr(comma + 1);
        std::uint64_t level = 0;
        if (!level_text.starts_with("level=") || !parse_decimal_max(level_text.substr(6), 5, level) || level == 0) {
            return "invalid level " + quote(level_text) + " for " + quote(sink) + std::string(kSyntax);
        }
        auto same = std::find_if(result.begin(), result.end(), [&](const auto& s) { return s.sink == sink; });
        if (same == result.end()) {
            result.push_back(LoggerSinkSetting{std::string(sink), static_cast<int>(level)});
        } else {
            same->level = static_cast<int>(level);
        }
        any = true;
    }
    if (!any) {
        return "empty setting" + std::string(kSyntax);
    }
    settings = std::move(result);
    return {};
}

std::string parse_intr_monitor(std::string_view text, IntrMonitorSpec& out) {
    static constexpr std::string_view kSyntax =
        " (threshold/s,probe-period(s),delay_time(ms),delay_duration(ms), e.g. 10000,10,1,100)";
    static constexpr std::array<std::string_view, 4> kFields{"threshold", "probe period", "delay time",
                                                             "delay duration"};
    const auto fields = split_fields(text, ',');
    if (fields.size() != 4) {
        return "expected 4 values, got " + std::to_string(fields.size()) + " in " + quote(text) +
               std::string(kSyntax);
    }
    std::array<std::uint64_t, 4> values{};
    for (std::size_t i = 0; i < 4; ++i) {
        // A zero field is refused too: no threshold or period cannot probe, and
        // a delay of no time or for no time throttles nothing.
        if (!parse_decimal_max(fields[i], std::numeric_limits<std::uint32_t>::max(), values[i]) || values[i] == 0) {
            return "invalid " + std::string(kFields[i]) + " " + quote(fields[i]) + " in " + quote(text) +
                   ": each field is a decimal 1..4294967295" + std::string(kSyntax);
        }
    }
    if (values[2] > values[3]) {
        return "delay time " + std::to_string(values[2]) + " ms exceeds delay duration " +
               std::to_string(values[3]) + " ms in " + quote(text) + std::string(kSyntax);
    }
    out = IntrMonitorSpec{static_cast<std::uint32_t>(values[0]), static_cast<std::uint32_t>(values[1]),
                          static_cast<std::uint32_t>(values[2]), static_cast<std::uint32_t>(values[3])};
    return {};
}

std::string parse_ioreq_dm_poll(std::string_view text, std::chrono::nanoseconds& out) {
    if (text == "always") {
        out = std::chrono::nanoseconds::max();
        return {};
    }
    std::uint64_t us = 0;
    if (!parse_decimal_max(text, 1'000'000, us)) {
        return "invalid poll time " + quote(text) + " (expected 0..1000000 us, or always)";
    }
    out = std::chrono::microseconds(us);
    return {};
}

std::string parse_virtio_poll(std::string_view text, std::uint32_t& out) {
    std::uint64_t ns = 0;
    if (!parse_decimal_max(text, 10'000'000, ns) || ns == 0) {
        return "invalid interval " + quote(text) + " (expected 1..10000000 ns)";
    }
    out = static_cast<std::uint32_t>(ns);
    return {};
}

std::string parse_cpu_list(std::string_view text, std::vector<int>& out) {
    constexpr std::uint64_t kMaxCpu = 1023;
    std::vector<int> cpus;
    for (const auto field : split_fields(text, ',')) {
        const auto dash = field.find('-');
        std::uint64_t first = 0, last = 0;
        const bool valid = dash == std::string_view::npos
                               ? parse_decimal_max(field, kMaxCpu, first) && ((last = first), true)
                               : parse_decimal_max(field.substr(0, dash), kMaxCpu, first) &&
                                     parse_decimal_max(field.substr(dash + 1), kMaxCpu, last) && first <= last;
        if (!valid) {
            return "invalid CPU " + quote(field) + " in " + quote(text) +
                   " (expected host CPU numbers 0..1023 or ranges like 2-3, comma-separated)";
        }
        for (std::uint64_t cpu = first; cpu <= last; ++cpu) {
            cpus.push_back(static_cast<int>(cpu));
        }
    }
    std::sort(cpus.begin(), cpus.end());
    cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());
    out = std::move(cpus);
    return {};
}

std::string parse_cpu_affinity(std::string_view text, std::vector<std::uint32_t>& out) {
    std::vector<std::uint32_t> ids;
    for (const auto field : split_fields(text, ',')) {
        std::uint64_t id = 0;
        if (!parse_decimal_max(field, 255, id)) {
            return "invalid LAPIC id " + quote(field) + " in " + quote(text) +
                   " (expected comma-separated decimal ids 0..255, no spaces)";
        }
        if (std::find(ids.begin(), ids.end(), id) != ids.end()) {
            return "duplicate LAPIC id " + quote(field) + " in " + quote(text);
        }
        ids.push_back(static_cast<std::uint32_t>(id));
    }
    out = std::move(ids);
    return {};
}

std::string check_text(std::string_view text, std::size_t max_length, bool allow_empty, std::string_view what) {
    if (text.empty() && !allow_empty) {
        return "empty " + std::string(what);
    }
    if (text.size() >= max_length) {
        return std::string(what) + " " + quote(text) + " is too long (" + std::to_string(text.size()) +
               " characters, at most " + std::to_string(max_length - 1) + ")";
    }
    return {};
}

std::string check_vm_name(std::string_view text) {
    if (text.empty() || text.size() > 15) {
        return quote(text) + " must have 1 to 15 characters";
    }
    if (text.front() == '-' || text.front() == '.') {
        return quote(text) + " must not start with '-' or '.'";
    }
    for (char c : text) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                        c == '.' || c == '-';
        if (!ok) {
            return quote(text) + " may only contain letters, digits, '_', '.' and '-'";
        }
    }
    return {};
}

std::string check_ovmf(std::string_view text) {
    static constexpr std::string_view kSyntax = " (expected [w,]<file> or [w,]code=<file>,vars=<file>)";
    auto rest = text;
    if (rest.starts_with("w,")) {
        rest.remove_prefix(2);
    }
    if (rest.starts_with("code=") || rest.starts_with("vars=")) {
        const auto parts = split_fields(rest, ',');
        bool code = false, vars = false;
        for (const auto part : parts) {
            if (part.starts_with("code=") && part.size() > 5 && !code) {
                code = true;
            } else if (part.starts_with("vars=") && part.size() > 5 && !vars) {
                vars = true;
            } else {
                return "invalid value " + quote(text) + std::string(kSyntax);
            }
        }
        return code && vars ? std::string{} : "invalid value " + quote(text) + std::string(kSyntax);
    }
    if (auto error = check_text(rest, 1024, false, "OVMF path"); !error.empty()) {
        return error + std::string(kSyntax);
    }
    return {};
}

std::string check_acpidev_pt(std::string_view text) {
    const auto comma = text.find(',');
    const auto hid = text.substr(0, comma);
    if (hid != "MSFT0101") {
        return "unsupported ACPI device " + quote(hid) + " (only the TPM, MSFT0101[,<UID>])";
    }
    if (comma != std::string_view::npos && text.size() == comma + 1) {
        return "empty UID in " + quote(text);
    }
    return {};
}

std::string check_mmiodev_pt(std::string_view text) {
    const auto parts = split_fields(text, ',');
    std::uint64_t base = 0, length = 0;
    if (parts.size() != 2 || !parse_hex(parts[0], base) || !parse_hex(parts[1], length) || length == 0 ||
        base > kMaxU64 - length) {
        return "invalid MMIO range " + quote(text) + " (expected <hex base>,<hex length>, e.g. 0xfed40000,0x5000)";
    }
    return {};
}

std::string check_ssram(std::string_view text) {
    static constexpr std::string_view kSyntax = " (expected L2|L3,vcpu=<ids>|all,size=<n>K|M[;...])";
    for (const auto entry : split_fields(text, ';')) {
        const auto fields = split_fields(entry, ',');
        bool ok = fields.size() >= 3 && (fields[0] == "L2" || fields[0] == "L3") && fields[1].starts_with("vcpu=") &&
                  fields.back().starts_with("size=");
        for (std::size_t i = 1; ok && i + 1 < fields.size(); ++i) {  // vcpu ids
            auto id_text = i == 1 ? fields[i].substr(5) : fields[i];
            std::uint64_t id = 0;
            ok = (id_text == "all" && fields.size() == 3) || parse_decimal_max(id_text, 63, id);
        }
        if (ok) {
            auto size = fields.back().substr(5);
            std::uint64_t n = 0;
            const char unit = size.empty() ? '\0' : size.back();
            ok = (unit == 'K' || unit == 'M') && parse_decimal_max(size.substr(0, size.size() - 1), 1u << 20, n) &&
                 n != 0 && (unit == 'M' || n % 4 == 0);
        }
        if (!ok) {
            return "invalid entry " + quote(entry) + std::string(kSyntax);
        }
    }
    return {};
}

std::string check_pm_notify_channel(std::string_view text) {
    if (text == "ioc" || text == "power_button" || text == "uart" || text == "uart,allow_trigger_s5") {
        return {};
    }
    return "invalid channel " + quote(text) + " (expected ioc, power_button, uart or uart,allow_trigger_s5)";
}

}  // namespace acrn::dm::cli

namespace acrn::dm {

std::optional<std::uint64_t> parse_memory_size(const std::string& text) {
    std::uint64_t value = 0;
    bool overflow = false;
    const std::size_t used = cli::scan_base0(text, value, overflow);
    if (used == 0 || overflow) {
        return std::nullopt;
    }
    const std::string_view suffix = std::string_view(text).substr(used);
    unsigned shift = 0;
    if (suffix.empty() || suffix == "m" || suffix == "M") {
        shift = 20;  // a bare number is MiB
    } else if (suffix == "k" || suffix == "K") {
        shift = 10;
    } else if (suffix == "g" || suffix == "G") {
        shift = 30;
    } else {
        return std::nullopt;
    }
    if (value > (cli::kMaxU64 >> shift)) {
        return std::nullopt;
    }
    return value << shift;
}

}  // namespace acrn::dm
