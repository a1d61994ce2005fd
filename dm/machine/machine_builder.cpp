#include "dm/machine/machine_builder.hpp"

#include <algorithm>

#include "dm/boot_timeline.hpp"
#include "dm/devices/acpi_pm.hpp"
#include "dm/devices/debug_exit.hpp"
#include "dm/devices/i8042.hpp"
#include "dm/devices/lpc_bridge.hpp"
#include "dm/devices/reset_control.hpp"
#include "dm/devices/rtc_cmos.hpp"
#include "dm/devices/uart16550.hpp"
#include "dm/guest_memory.hpp"
#include "dm/machine/device_table.hpp"
#include "dm/machine/machine.hpp"
#include "dm/machine/startup_error.hpp"
#include "dm/monitor/vm_events.hpp"
#include "dm/pci/pci_device.hpp"
#include "dm/pci/pci_ecam.hpp"
#include "dm/platform_layout.hpp"
#include "dm/serial_consoles.hpp"

namespace acrn::dm {
namespace {

void add_platform_devices(Machine& machine, const DmOptions& options, const MachineServices& services) {
    AddressBus& pio = machine.buses().pio;
    auto acpi_pm = std::make_shared<AcpiPm>(machine.interrupts().add_line(platform::kSciGsi, "acpi-sci"),
                                            services.power);
    for (const AcpiPm::PortRange& range : AcpiPm::kPortRanges) {
        machine.add_io_device(pio, range.base, range.width, acpi_pm, range.name);
    }
    machine.set_power_button(acpi_pm);
    machine.add_io_device(pio, ResetControl::kPort, ResetControl::kWidth,
                          std::make_shared<ResetControl>(services.power), "reset-control");
    const GuestMemory& memory = services.memory;
    const std::uint64_t high_memory = memory.size() - memory.low_memory_end();  // from 4 GiB
    auto rtc = std::make_shared<RtcCmos>(services.loop, machine.interrupts().add_line(platform::kRtcGsi, "rtc"),
                                         memory.low_memory_end(), high_memory);
    if (services.events != nullptr) {
        rtc->on_time_set([events = services.events](std::int64_t old_time, std::int64_t new_time) {
            events->rtc_changed(old_time, new_time);
        });
    }
    rtc->on_alarm([pm = std::weak_ptr<AcpiPm>(acpi_pm)] {
        if (const std::shared_ptr<AcpiPm> live = pm.lock()) {
            live->rtc_alarm();
        }
    });
    machine.add_io_device(pio, RtcCmos::kPort, RtcCmos::kWidth, rtc, "rtc");
    machine.set_rtc(rtc);
    auto i8042 = std::make_shared<I8042>(services.power);
    machine.add_io_device(pio, I8042::kDataPort, I8042::kWidth, i8042, "i8042-data");
    machine.add_io_device(pio, I8042::kCommandPort, I8042::kWidth, i8042, "i8042-command");
    if (options.debugexit) {
        machine.add_io_device(pio, DebugExit::kPort, DebugExit::kWidth, std::make_shared<DebugExit>(services.power),
                              "debug-exit");
    }
}

void add_pci_functions(Machine& machine, const DmOptions& options, const MachineServices& services) {
    const VirtioSettings virtio{.poll_ns = options.virtio_poll_ns,
                                .fast_paths = options.virtio_fast_paths,
                                .direct_kernel_interrupts = !options.intr_monitor.has_value(),
                                .single_msi = options.virtio_msi};
    for (const PciSlotSpec& slot : options.pci_slots) {
        const PciEmulation* emulation = find_pci_emulation(slot.emulation);
        if (emulation == nullptr || emulation->create == nullptr) {
            throw StartupError(kExitFailure, "-s: emulation '" + slot.emulation + "' is not supported yet");
        }
        const PciAddress address{slot.bus, slot.slot, slot.func};
        const DeviceContext context{address,       slot.config,          services.memory, machine.interrupts(),
                                    services.loop, machine.fast_paths(), services.power,  virtio,
                                    services.vcpus};
        try {
            machine.add_pci_device(address, emulation->create(context));
        } catch (const std::exception& error) {
            throw StartupError(kExitFailure, "-s " + address.text() + "," + slot.emulation + ": " + error.what());
        }
    }
    machine.add_io_device(machine.buses().mmio, platform::kEcamAddress, platform::kEcamSize,
                          std::make_shared<PciEcam>(machine.buses().pci), "pci-ecam");
}

void add_serial_ports(Machine& machine, const DmOptions& options, const MachineServices& services) {
    if (options.serial_ports.empty()) {
        return;
    }
    const bool has_isa_bridge = std::any_of(options.pci_slots.begin(), options.pci_slots.end(), [](const PciSlotSpec& slot) {
        const PciEmulation* emulation = find_pci_emulation(slot.emulation);
        return emulation != nullptr && emulation->is_isa_bridge;
    });
    if (!has_isa_bridge) {
        throw StartupError(kExitFailure, "-l: COM ports sit behind the LPC bridge: add -s 1:0,lpc");
    }
    for (const SerialPortSpec& port : options.serial_ports) {
        const LpcBridge::ComPort resources = LpcBridge::com_port(port.index);
        const std::string name = "com" + std::to_string(port.index);
        auto uart = std::make_shared<Uart16550>(name, machine.interrupts().add_line(resources.irq, name),
                                                services.consoles.backend(port.index));
        if (port.index == 1 && services.timeline != nullptr) {
            uart->tap_output([timeline = services.timeline](std::span<const std::uint8_t> bytes) {
                timeline->console_output(bytes);
            });
        }
        machine.add_io_device(machine.buses().pio, resources.base, Uart16550::kRegisterCount, uart, name);
        machine.add_uart(std::move(uart));
    }
}

}  // namespace

std::unique_ptr<Machine> build_machine(const DmOptions& options, const MachineServices& services) {
    const GuestMemory& memory = services.memory;
    const std::uint64_t ram_top = memory.regions().back().gpa + memory.regions().back().size;
    auto machine = std::make_unique<Machine>(services.hsm, PciWindows::for_ram_top(ram_top));
    try {
        add_platform_devices(*machine, options, services);
        add_pci_functions(*machine, options, services);
        add_serial_ports(*machine, options, services);
    } catch (const StartupError&) {
        throw;
    } catch (const std::exception& error) {
        throw StartupError(kExitFailure, error.what());
    }
    return machine;
}

}  // namespace acrn::dm
