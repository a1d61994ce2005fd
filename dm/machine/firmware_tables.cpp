#include "dm/machine/firmware_tables.hpp"

#include <algorithm>
#include <stdexcept>

#include "dm/acpi/acpi_tables.hpp"
#include "dm/devices/lpc_bridge.hpp"
#include "dm/guest_memory.hpp"
#include "dm/machine/bar_allocator.hpp"
#include "dm/machine/device_table.hpp"
#include "dm/machine/startup_error.hpp"

namespace acrn::dm {

std::uint64_t write_firmware_tables(const DmOptions& options, std::uint32_t vcpu_count, const PciWindows& windows,
                                    GuestMemory& memory) {
    acpi::PlatformDescription platform;
    platform.vcpu_count = vcpu_count;
    for (const SerialPortSpec& port : options.serial_ports) {
        const LpcBridge::ComPort resources = LpcBridge::com_port(port.index);
        platform.serial_ports.push_back({port.index, resources.base, resources.irq});
    }
    platform.pci_mmio32_base = memory.low_memory_end();
    platform.pci_mmio32_limit = windows.mmio32_limit;
    platform.pci_mmio64_base = windows.mmio64_base;
    platform.pci_mmio64_limit = windows.mmio64_limit;
    // Not offered a sleep it would not come back from whole (an obsolete
    // emulation, ignored, builds nothing).
    platform.suspend_to_ram = std::all_of(options.pci_slots.begin(), options.pci_slots.end(),
                                          [](const PciSlotSpec& slot) {
                                              const PciEmulation* emulation = find_pci_emulation(slot.emulation);
                                              return emulation == nullptr ||
                                                     emulation->support != PciEmulation::Support::implemented ||
                                                     emulation->kept_across_s3;
                                          });
    try {
        const acpi::AcpiImage image = acpi::build_acpi_tables(platform);
        if (!memory.write(image.base, image.bytes.data(), image.bytes.size())) {
            throw std::invalid_argument("the firmware area is not in guest RAM");
        }
        return image.facs_address;
    } catch (const std::invalid_argument& error) {
        throw StartupError(kExitFailure, std::string("ACPI tables: ") + error.what());
    }
}

}  // namespace acrn::dm
