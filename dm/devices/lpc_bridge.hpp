// `-s 1:0,lpc`: the PCI-to-ISA (LPC) bridge that ACRN puts at 00:01.0. The
// legacy devices behind it (the `-l` COM ports) sit at fixed ISA ports.
#pragma once

#include <cstdint>

#include "dm/pci/pci_device.hpp"

namespace acrn::dm {

class LpcBridge final : public PciDevice {
public:
    LpcBridge() : PciDevice("lpc", PciIds{.vendor = 0x8086, .device = 0x7000, .class_code = 0x06, .subclass = 0x01}) {}

    struct ComPort {
        std::uint16_t base;
        std::uint32_t irq;
    };
    // ACRN's fixed COM resources (ACRN-SPEC 1.2).
    [[nodiscard]] static constexpr ComPort com_port(int index) noexcept {
        constexpr ComPort ports[] = {{0x3F8, 4}, {0x2F8, 3}, {0x3E8, 6}, {0x2E8, 7}, {0x9000, 10}};
        return ports[index - 1];
    }

private:
    std::uint64_t bar_read(int, const IoAccess& access) override { return all_ones(access.size); }
    void bar_write(int, const IoAccess&, std::uint64_t) override {}
};

}  // namespace acrn::dm
