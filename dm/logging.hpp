// acrn-dm's log sinks, configured from --logger_setting.
#pragma once

#include <string>
#include <vector>

#include "common/log.hpp"
#include "dm/cli/options.hpp"

namespace acrn::dm {

// Logs go to stderr, so that stdout carries only the guest's console. Under
// systemd, where stderr is the journal (JOURNAL_STREAM names it), each line
// goes to the journal directly instead, with its priority and the VM's name
// as fields: `journalctl ACRN_VM=<name>` finds one VM's lines.
void configure_logging(const std::vector<LoggerSinkSetting>& settings, const std::string& vm_name);

// Whether stderr is the stream systemd named in JOURNAL_STREAM ("DEV:INODE").
[[nodiscard]] bool stderr_is_journal(const char* journal_stream) noexcept;
// syslog's priority for an ACRN level (error 3 ... debug 7).
[[nodiscard]] int journal_priority(LogLevel level) noexcept;

}  // namespace acrn::dm
