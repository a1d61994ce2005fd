// The machine a UOS runs on: its buses, its interrupt sources and every
// device on them. The guest memory and the VM belong to the session; the
// machine keeps references. Built by build_machine (machine_builder.hpp);
// the ioreq loop reaches the devices only through buses().
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dm/io/io_buses.hpp"
#include "dm/irq/interrupt_sources.hpp"
#include "dm/machine/bar_allocator.hpp"
#include "dm/machine/device_context.hpp"

namespace acrn {
class Hsm;
}

namespace acrn::dm {

class AcpiPm;
class RtcCmos;
class IoDevice;
class PciDevice;
class Uart16550;

class Machine {
public:
    // Interrupts and fast paths go to `hsm`; PCI BARs go in `windows`.
    Machine(Hsm& hsm, const PciWindows& windows);
    Machine(const Machine&) = delete;
    Machine& operator=(const Machine&) = delete;
    ~Machine();

    [[nodiscard]] IoBuses& buses() noexcept { return buses_; }
    [[nodiscard]] InterruptSources& interrupts() noexcept { return sources_; }
    [[nodiscard]] FastPaths& fast_paths() noexcept { return *fast_paths_; }
    [[nodiscard]] const PciWindows& pci_windows() const noexcept { return bars_.windows(); }

    // Throw std::runtime_error naming the device when its range or its
    // PCI address is taken, or its BARs do not fit.
    void add_io_device(AddressBus& bus, std::uint64_t base, std::uint64_t width, std::shared_ptr<IoDevice> device,
                       const std::string& name);
    void add_pci_device(PciAddress address, std::shared_ptr<PciDevice> device);

    void set_power_button(std::shared_ptr<AcpiPm> pm) { acpi_pm_ = std::move(pm); }
    [[nodiscard]] AcpiPm* power_button() const noexcept { return acpi_pm_.get(); }
    void set_rtc(std::shared_ptr<RtcCmos> rtc) { rtc_ = std::move(rtc); }
    [[nodiscard]] RtcCmos* rtc() const noexcept { return rtc_.get(); }
    void add_uart(std::shared_ptr<Uart16550> uart) { uarts_.push_back(std::move(uart)); }
    // Starts the devices that take host input (the UARTs).
    void start_devices();

private:
    std::unique_ptr<InterruptSink> controller_;
    std::unique_ptr<FastPaths> fast_paths_;  // before sources_: their irqfds are released through it
    InterruptSources sources_;
    IoBuses buses_;
    BarAllocator bars_;
    std::shared_ptr<AcpiPm> acpi_pm_;                      // SIGTERM presses its power button
    std::shared_ptr<RtcCmos> rtc_;                         // its alarm may wake the VM from S5
    std::vector<std::shared_ptr<IoDevice>> io_devices_;    // the buses hold weak references
    std::vector<std::shared_ptr<PciDevice>> pci_devices_;
    std::vector<std::shared_ptr<Uart16550>> uarts_;
};

}  // namespace acrn::dm
