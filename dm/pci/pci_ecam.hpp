// PCI Express enhanced configuration access (ECAM, "MMCONFIG"; PCIe Base
// 4.0, 7.2.2): each function's configuration space as 4 KiB of MMIO at
// base + (bus << 20 | device << 15 | function << 12). The MCFG table tells
// the guest where it is. Our functions have 256 bytes of configuration
// space; the extended part reads as all ones, as it does for a
// conventional PCI function behind a PCIe host.
#pragma once

#include "dm/io/io_device.hpp"
#include "dm/pci/pci_bus.hpp"

namespace acrn::dm {

class PciEcam final : public IoDevice {
public:
    explicit PciEcam(const PciBus& bus) : bus_(bus) {}

    [[nodiscard]] std::uint64_t read(const IoAccess& access) override;
    void write(const IoAccess& access, std::uint64_t value) override;

private:
    const PciBus& bus_;
};

}  // namespace acrn::dm
