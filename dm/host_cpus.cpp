#include "dm/host_cpus.hpp"

#include <sched.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <stdexcept>

namespace acrn::dm {
namespace {

// "key<tabs> : value" -> value, if the line's key is `key`.
std::optional<std::uint32_t> field(std::string_view line, std::string_view key) {
    if (!line.starts_with(key)) {
        return std::nullopt;
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || line.substr(key.size(), colon - key.size()).find_first_not_of(" \t") !=
                                               std::string_view::npos) {
        return std::nullopt;
    }
    std::string_view value = line.substr(colon + 1);
    value.remove_prefix(std::min(value.find_first_not_of(' '), value.size()));
    std::uint32_t number = 0;
    const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), number);
    if (error != std::errc{} || end == value.data()) {
        return std::nullopt;
    }
    return number;
}

}  // namespace

std::map<std::uint32_t, int> parse_cpuinfo_apic_ids(std::string_view cpuinfo) {
    std::map<std::uint32_t, int> cpus;
    std::optional<std::uint32_t> processor;
    while (!cpuinfo.empty()) {
        const auto newline = cpuinfo.find('\n');
        const std::string_view line = cpuinfo.substr(0, newline);
        cpuinfo.remove_prefix(newline == std::string_view::npos ? cpuinfo.size() : newline + 1);
        if (auto number = field(line, "processor")) {
            processor = number;
        } else if (auto apic = field(line, "apicid"); apic && processor) {
            cpus.emplace(*apic, static_cast<int>(*processor));
        }
    }
    return cpus;
}

std::map<std::uint32_t, int> host_cpus_by_apic_id() {
    std::ifstream file("/proc/cpuinfo");
    if (!file) {
        throw std::runtime_error("cannot read /proc/cpuinfo");
    }
    const std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    return parse_cpuinfo_apic_ids(text);
}

void confine_to_cpus(const std::vector<int>& cpus) {
    cpu_set_t set;
    CPU_ZERO(&set);
    std::string named;
    for (const int cpu : cpus) {
        if (cpu >= 0 && cpu < CPU_SETSIZE) {
            CPU_SET(cpu, &set);
        }
        named += (named.empty() ? "" : ",") + std::to_string(cpu);
    }
    if (::sched_setaffinity(0, sizeof set, &set) != 0) {
        throw std::runtime_error("cannot run on host CPU(s) " + named + ": " + std::strerror(errno) +
                                 " (none of them is online and allowed to this process)");
    }
}

}  // namespace acrn::dm
