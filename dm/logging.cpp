#include "dm/logging.hpp"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <sys/stat.h>
#include <systemd/sd-journal.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace acrn::dm {
namespace {

// One message, one journal entry: MESSAGE, PRIORITY, ACRN_VM and
// SYSLOG_IDENTIFIER. A message the journal refuses goes to stderr.
class JournalSink final : public spdlog::sinks::base_sink<std::mutex> {
public:
    explicit JournalSink(std::string vm_name) : vm_name_(std::move(vm_name)) {}

protected:
    void sink_it_(const spdlog::details::log_msg& message) override {
        const int length = static_cast<int>(message.payload.size());
        const char* text = message.payload.data();
        const int priority = journal_priority(detail::message_level);
        if (::sd_journal_send("MESSAGE=%.*s", length, text, "PRIORITY=%d", priority, "ACRN_VM=%s", vm_name_.c_str(),
                              "SYSLOG_IDENTIFIER=acrn-dm", nullptr) < 0) {
            std::fprintf(stderr, "acrn-dm: %.*s\n", length, text);
        }
    }
    void flush_() override {}

private:
    const std::string vm_name_;
};

}  // namespace

bool stderr_is_journal(const char* journal_stream) noexcept {
    unsigned long long device = 0, inode = 0;
    if (journal_stream == nullptr || std::sscanf(journal_stream, "%llu:%llu", &device, &inode) != 2) {
        return false;
    }
    struct stat info {};
    return ::fstat(2, &info) == 0 && info.st_dev == device && info.st_ino == inode;
}

int journal_priority(LogLevel level) noexcept {
    switch (level) {
        case LogLevel::error: return 3;
        case LogLevel::warning: return 4;
        case LogLevel::notice: return 5;
        case LogLevel::info: return 6;
        case LogLevel::debug: return 7;
    }
    return 6;
}

void configure_logging(const std::vector<LoggerSinkSetting>& settings, const std::string& vm_name) {
    spdlog::drop("acrn-dm");
    std::shared_ptr<spdlog::logger> logger;
    if (stderr_is_journal(std::getenv("JOURNAL_STREAM"))) {
        logger = std::make_shared<spdlog::logger>("acrn-dm", std::make_shared<JournalSink>(vm_name));
        logger->set_pattern("%v");
        spdlog::register_logger(logger);
    } else {
        logger = spdlog::stderr_logger_mt("acrn-dm");
        logger->set_pattern("acrn-dm: [%l] %v");
    }
    logger->set_level(spdlog::level::trace);  // ACRN's numeric level filters first
    logger->flush_on(spdlog::level::trace);
    spdlog::set_default_logger(logger);
    for (const LoggerSinkSetting& setting : settings) {
        if (setting.sink == "console") {
            set_console_log_level(setting.level);
        }
    }
}

}  // namespace acrn::dm
