// The three ways a request reaches a device: port I/O, MMIO, and PCI
// configuration space. The ioreq loop resolves requests through these only.
#pragma once

#include "dm/io/address_bus.hpp"
#include "dm/pci/pci_bus.hpp"

namespace acrn::dm {

struct IoBuses {
    AddressBus pio{"PIO"};
    AddressBus mmio{"MMIO"};
    PciBus pci;
};

}  // namespace acrn::dm
