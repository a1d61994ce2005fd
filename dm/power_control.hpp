// How a device asks for the VM's power state to change (debug-exit, ACPI
// sleep, reset registers). The request is acted on by the main loop, never
// inside the device's access.
#pragma once

#include <string>

namespace acrn::dm {

class PowerControl {
public:
    virtual ~PowerControl() = default;
    virtual void request_power_off(int exit_status, const std::string& reason) = 0;
    // The guest asked for a reset (0xCF9, the i8042, the ACPI reset register):
    // the VM is reset and boots again in the same process, as in ACRN.
    virtual void request_reset(const std::string& reason) = 0;
};

}  // namespace acrn::dm
