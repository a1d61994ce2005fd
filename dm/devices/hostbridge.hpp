// `-s 0:0,hostbridge`: the host bridge at 00:00.0, with ACRN's ids.
#pragma once

#include "dm/pci/pci_device.hpp"

namespace acrn::dm {

class HostBridge final : public PciDevice {
public:
    HostBridge() : PciDevice("hostbridge", PciIds{.vendor = 0x1275, .device = 0x1275, .class_code = 0x06, .subclass = 0x00}) {}

private:
    std::uint64_t bar_read(int, const IoAccess& access) override { return all_ones(access.size); }
    void bar_write(int, const IoAccess&, std::uint64_t) override {}
};

}  // namespace acrn::dm
