// The three ways a request reaches a device: port I/O, MMIO, and PCI
// configuration space. The ioreq loop resolves requests through these only,
// and each counts the requests it serves by device.
#pragma once

#include "dm/io/address_bus.hpp"
#include "dm/pci/pci_bus.hpp"

namespace acrn::dm {

struct IoBuses {
    RequestCounts requests;  // first: the buses hold pointers into it
    AddressBus pio{"PIO", RequestCounting{requests, &DeviceRequests::pio}};
    AddressBus mmio{"MMIO", RequestCounting{requests, &DeviceRequests::mmio}};
    PciBus pci{&requests};
};

}  // namespace acrn::dm
