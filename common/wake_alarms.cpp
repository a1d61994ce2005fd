#include "common/wake_alarms.hpp"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <system_error>

namespace acrn {
namespace {

constexpr const char* kDefaultDir = "/var/lib/acrn/wake";
constexpr std::size_t kLargestFile = 256;  // a time and a comment line

// A VM's name as acrn-dm accepts it; other files in DIR are not alarms.
bool is_vm_name(const std::string& name) {
    if (name.empty() || name.size() > 15 || name.front() == '.' || name.front() == '-') {
        return false;
    }
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
               c == '-';
    });
}

// The time on the file's first line, or why there is none.
std::optional<std::int64_t> parse_alarm(const std::string& path, std::string& why) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        why = std::strerror(errno);
        return std::nullopt;
    }
    std::string text(kLargestFile + 1, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    if (text.size() > kLargestFile) {
        why = "longer than " + std::to_string(kLargestFile) + " bytes";
        return std::nullopt;
    }
    const std::string first_line = text.substr(0, text.find('\n'));
    std::int64_t time = 0;
    const char* end = first_line.data() + first_line.size();
    const auto [rest, error] = std::from_chars(first_line.data(), end, time);
    if (error != std::errc() || rest != end || time < 0) {
        why = "its first line is not a time in seconds since the epoch";
        return std::nullopt;
    }
    return time;
}

}  // namespace

std::string wake_alarm_dir() {
    const char* dir = std::getenv("ACRN_WAKE_DIR");
    return dir != nullptr && *dir != '\0' ? dir : kDefaultDir;
}

void record_wake_alarm(const std::string& dir, const std::string& vm, std::int64_t time) {
    // mkdir -p: the parent is /var/lib/acrn, which the package does not own.
    for (std::size_t slash = dir.find('/', 1);; slash = dir.find('/', slash + 1)) {
        const std::string part = dir.substr(0, slash);
        if (::mkdir(part.c_str(), 0755) != 0 && errno != EEXIST) {
            throw std::system_error(errno, std::generic_category(), "cannot create " + part);
        }
        if (slash == std::string::npos) {
            break;
        }
    }
    const std::string path = dir + "/" + vm;
    const std::string temporary = dir + "/." + vm + ".tmp";
    {
        std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
        out << time << "\n# " << utc_time_text(time) << ": VM " << vm << "'s RTC alarm, from its power-off\n";
        if (!out.flush()) {
            const int error = errno;
            ::unlink(temporary.c_str());
            throw std::system_error(error, std::generic_category(), "cannot write " + temporary);
        }
    }
    if (::rename(temporary.c_str(), path.c_str()) != 0) {
        const int error = errno;
        ::unlink(temporary.c_str());
        throw std::system_error(error, std::generic_category(), "cannot write " + path);
    }
}

bool clear_wake_alarm(const std::string& dir, const std::string& vm) {
    return ::unlink((dir + "/" + vm).c_str()) == 0;
}

std::optional<std::int64_t> read_wake_alarm(const std::string& dir, const std::string& vm) {
    std::string why;
    return parse_alarm(dir + "/" + vm, why);
}

WakeAlarmList read_wake_alarms(const std::string& dir) {
    WakeAlarmList list;
    DIR* stream = ::opendir(dir.c_str());
    if (stream == nullptr) {
        return list;
    }
    while (const dirent* entry = ::readdir(stream)) {
        const std::string name = entry->d_name;
        if (!is_vm_name(name)) {
            continue;
        }
        std::string why;
        if (const auto time = parse_alarm(dir + "/" + name, why)) {
            list.alarms.push_back({name, *time});
        } else {
            list.problems.push_back(dir + "/" + name + ": " + why);
        }
    }
    ::closedir(stream);
    std::sort(list.alarms.begin(), list.alarms.end(),
              [](const WakeAlarm& a, const WakeAlarm& b) { return a.time != b.time ? a.time < b.time : a.vm < b.vm; });
    std::sort(list.problems.begin(), list.problems.end());
    return list;
}

std::string utc_time_text(std::int64_t time) {
    using namespace std::chrono;
    const sys_seconds moment{seconds{time}};
    const sys_days day = floor<days>(moment);
    const year_month_day date{day};
    const hh_mm_ss clock{moment - day};
    char text[96];
    std::snprintf(text, sizeof(text), "%04d-%02u-%02u %02lld:%02lld:%02lld UTC", static_cast<int>(date.year()),
                  static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                  static_cast<long long>(clock.hours().count()), static_cast<long long>(clock.minutes().count()),
                  static_cast<long long>(clock.seconds().count()));
    return text;
}

}  // namespace acrn
