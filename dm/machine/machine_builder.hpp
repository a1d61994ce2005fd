// Builds the machine the options describe: the platform's fixed devices
// (ACPI PM, reset control, RTC, i8042, debug-exit), the `-s` functions from
// the device table, the PCI ECAM window and the `-l` COM ports.
#pragma once

#include <memory>

#include "dm/cli/options.hpp"

namespace boost::asio {
class io_context;
}

namespace acrn {
class Hsm;
}

namespace acrn::dm {

class BootTimeline;
class GuestMemory;
class Machine;
class PowerControl;
class SerialConsoles;
class VmEventReporter;

struct MachineServices {
    Hsm& hsm;
    GuestMemory& memory;
    boost::asio::io_context& loop;
    const SerialConsoles& consoles;
    PowerControl& power;
    unsigned vcpus;
    VmEventReporter* events = nullptr;  // the RTC reports the guest's clock changes to it
    BootTimeline* timeline = nullptr;   // sees COM1's output
};

// Throws StartupError naming the device or option that cannot be built.
[[nodiscard]] std::unique_ptr<Machine> build_machine(const DmOptions& options, const MachineServices& services);

}  // namespace acrn::dm
