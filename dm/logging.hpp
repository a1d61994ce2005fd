// acrn-dm's log sinks, configured from --logger_setting.
#pragma once

#include <vector>

#include "dm/cli/options.hpp"

namespace acrn::dm {

// Logs go to stderr, so that stdout carries only the guest's console.
void configure_logging(const std::vector<LoggerSinkSetting>& settings);

}  // namespace acrn::dm
