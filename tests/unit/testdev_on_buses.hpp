// The PCI test device as the handler tests place it: 00:03.0 on `buses`,
// BAR0 (memory) at 0xC0000000, BAR1 (I/O) at 0x2000, decoding still off
// until the guest's command register turns it on.
#pragma once

#include <memory>

#include "dm/devices/testdev.hpp"
#include "dm/io/io_buses.hpp"

namespace acrn::dm::test_support {

inline std::shared_ptr<TestDevice> testdev_on_buses(IoBuses& buses, PowerControl& power) {
    auto device = std::make_shared<TestDevice>(power);
    if (!buses.pci.add(PciAddress{0, 3, 0}, device)) {
        return nullptr;
    }
    device->place_bar(0, 0xC000'0000);
    device->place_bar(1, 0x2000);
    device->attach(buses.pio, buses.mmio);
    return device;
}

}  // namespace acrn::dm::test_support
