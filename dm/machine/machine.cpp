#include "dm/machine/machine.hpp"

#include "dm/devices/acpi_pm.hpp"
#include "dm/devices/uart16550.hpp"
#include "dm/irq/hsm_interrupt_sink.hpp"
#include "dm/pci/pci_device.hpp"
#include "dm/platform_layout.hpp"
#include "relay/hsm.hpp"

namespace acrn::dm {
namespace {

class HsmFastPaths final : public FastPaths {
public:
    explicit HsmFastPaths(Hsm& hsm) : hsm_(hsm) {}
    int ioeventfd(const acrn_ioeventfd& request) override { return hsm_.ioeventfd(request); }
    int irqfd(const acrn_irqfd& request) override { return hsm_.irqfd(request); }

private:
    Hsm& hsm_;
};

}  // namespace

Machine::Machine(Hsm& hsm, const PciWindows& windows)
    : controller_(std::make_unique<HsmInterruptSink>(hsm)),
      fast_paths_(std::make_unique<HsmFastPaths>(hsm)),
      sources_(*controller_),
      bars_(windows) {}

// Devices go before the buses and sources they reference (members are
// destroyed in reverse order, and the device vectors come last).
Machine::~Machine() = default;

void Machine::add_io_device(AddressBus& bus, std::uint64_t base, std::uint64_t width, std::shared_ptr<IoDevice> device,
                            const std::string& name) {
    if (auto error = bus.add(base, width, device, name)) {
        throw std::runtime_error(name + ": " + bus.name() + " " + std::to_string(base) + ": " + to_string(*error));
    }
    io_devices_.push_back(std::move(device));
}

void Machine::add_pci_device(PciAddress address, std::shared_ptr<PciDevice> device) {
    if (!buses_.pci.add(address, device)) {
        throw std::runtime_error(device->name() + ": PCI address " + address.text() + " is taken");
    }
    bars_.place_bars(*device);
    std::optional<std::uint32_t> gsi;
    if (const std::uint8_t pin = device->interrupt_pin(); pin != 0) {
        gsi = platform::pci_intx_gsi(address.slot, pin);
    }
    device->connect_interrupts(sources_, gsi);
    device->attach(buses_.pio, buses_.mmio);
    pci_devices_.push_back(std::move(device));
}

void Machine::start_devices() {
    for (auto& uart : uarts_) {
        uart->start();
    }
}

}  // namespace acrn::dm
