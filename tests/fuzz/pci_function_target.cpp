#include <memory>
#include <stdexcept>

#include "dm/devices/testdev.hpp"
#include "dm/io/address_bus.hpp"
#include "dm/irq/interrupt_sources.hpp"
#include "dm/pci/pci_bus.hpp"
#include "dm/power_control.hpp"
#include "tests/fuzz/fuzz_targets.hpp"

namespace acrn::fuzz {
namespace {

class NoPower final : public dm::PowerControl {
public:
    void request_power_off(int, const std::string&) override {}
    void request_reset(const std::string&) override {}
};

// Checks what the controller is told: a pin is never released more often
// than it was raised, and only pins of the functions are driven.
class CheckingSink final : public dm::InterruptSink {
public:
    void set_line(std::uint32_t gsi, bool high) override {
        if (gsi != kGsi || high == high_) {
            throw std::logic_error("the INTx pin was driven to a level it already had");
        }
        high_ = high;
    }
    void send_msi(std::uint64_t, std::uint32_t) override {}
    static constexpr std::uint32_t kGsi = 19;

private:
    bool high_ = false;
};

struct Reader {
    const std::uint8_t* data;
    std::size_t left;
    [[nodiscard]] bool has(std::size_t bytes) const { return left >= bytes; }
    std::uint64_t take(std::size_t bytes) {
        std::uint64_t value = 0;
        for (std::size_t i = 0; i < bytes; ++i) {
            value |= std::uint64_t{data[i]} << (8 * i);
        }
        data += bytes;
        left -= bytes;
        return value;
    }
};

constexpr std::uint32_t kSizes[] = {1, 2, 4, 8, 3};

void access(dm::AddressBus& bus, std::uint64_t address, std::uint32_t size, bool write, std::uint64_t value) {
    if (size > 8 || size == 3) {
        size = 4;
    }
    if (const auto target = bus.resolve(address, size)) {
        const dm::IoAccess io{address, address - target->base, size, 0};
        if (write) {
            target->device->write(io, value);
        } else {
            (void)target->device->read(io);
        }
    }
}

}  // namespace

int pci_function(const std::uint8_t* data, std::size_t size) {
    NoPower power;
    CheckingSink sink;
    dm::InterruptSources sources(sink);
    dm::AddressBus pio("PIO");
    dm::AddressBus mmio("MMIO");
    dm::PciBus bus;
    const dm::PciAddress addresses[] = {{0, 3, 0}, {0, 11, 0}};
    for (int index = 0; index < 2; ++index) {
        auto device = std::make_shared<dm::TestDevice>(power);
        const std::uint64_t slot_offset = static_cast<std::uint64_t>(index) << 16;
        device->place_bar(0, 0xC000'0000 + slot_offset);
        device->place_bar(1, 0x2000 + static_cast<std::uint64_t>(index) * 0x100);
        device->place_bar(dm::TestDevice::kMsixBar, 0xC000'2000 + slot_offset);
        device->place_bar(dm::TestDevice::kInterruptBar, 0x3000 + static_cast<std::uint64_t>(index) * 0x40);
        device->place_bar(dm::TestDevice::kMemory64Bar, 0x1'0000'0000 + slot_offset);
        device->connect_interrupts(sources, CheckingSink::kGsi);
        device->attach(pio, mmio);
        (void)bus.add(addresses[index], std::move(device));
    }
    // Each operation: kind, function, 16-bit register or offset, size, value.
    Reader in{data, size};
    while (in.has(8)) {
        const auto kind = static_cast<unsigned>(in.take(1));
        const dm::PciAddress address = addresses[kind >> 7];
        const auto reg = static_cast<std::uint32_t>(in.take(2));
        const std::uint32_t access_size = kSizes[in.take(1) % 5];
        const std::uint64_t value = in.take(4);
        const std::uint64_t base = (kind >> 7) != 0 ? 0x1'0000 : 0;
        switch (kind & 0x7) {
            case 0: bus.config_write(address, reg & 0xFFF, access_size, static_cast<std::uint32_t>(value)); break;
            case 1: (void)bus.config_read(address, reg & 0xFFF, access_size); break;
            case 2: access(mmio, 0xC000'0000 + base + (reg & 0x3FFF), access_size, true, value); break;
            case 3: access(mmio, 0xC000'0000 + base + (reg & 0x3FFF), access_size, false, 0); break;
            // A storm runs on the device's worker; keep it short.
            case 4: access(pio, 0x3000 + (kind >> 7) * 0x40 + (reg & 0x3F), access_size, true, value & 0xFF); break;
            case 5: access(pio, 0x2000 + (reg & 0x1FF), access_size, false, 0); break;
            case 6: access(mmio, 0x1'0000'0000 + base + (reg & 0x1FFF), access_size, true, value); break;
            default: (void)bus.config_read(address, reg & 0xFF, 4); break;
        }
    }
    return 0;
}

}  // namespace acrn::fuzz
