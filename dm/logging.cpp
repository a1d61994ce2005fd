#include "dm/logging.hpp"

#include <spdlog/sinks/stdout_sinks.h>

#include "common/log.hpp"

namespace acrn::dm {

void configure_logging(const std::vector<LoggerSinkSetting>& settings) {
    spdlog::drop("acrn-dm");
    auto logger = spdlog::stderr_logger_mt("acrn-dm");
    logger->set_pattern("acrn-dm: [%l] %v");
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
