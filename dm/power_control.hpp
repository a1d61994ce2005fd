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
    // The guest wrote S5 to PM1a: it powered itself off, or the hypervisor
    // did so for it after a triple fault, as ACRN's does.
    virtual void guest_soft_off() { request_power_off(0, "guest entered ACPI S5 (soft off)"); }
    // The guest wrote S3 to PM1a: it suspends to RAM until it is woken
    // (AcpiPm::wake). False where nothing can wake it: the request is ignored.
    virtual bool guest_suspend() { return false; }
    // The guest's RTC alarm fired with ACPI's RTC_EN set: a wake event for a
    // suspended VM (on a device's thread; acted on later).
    virtual void rtc_wake() {}
};

}  // namespace acrn::dm
