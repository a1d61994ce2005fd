#include "dm/devices/debug_exit.hpp"

#include <string>

namespace acrn::dm {

void DebugExit::write(const IoAccess& access, std::uint64_t value) {
    if (access.offset != 0) {
        return;  // only the first port of the range carries the value
    }
    const int status = exit_status_for(value);
    power_.request_power_off(status, "debug-exit: guest wrote " + std::to_string(value) + ", exit status " +
                                         std::to_string(status));
}

}  // namespace acrn::dm
