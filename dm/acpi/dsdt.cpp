#include "dm/acpi/dsdt.hpp"

#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "dm/acpi/aml.hpp"
#include "dm/acpi/aml_resources.hpp"
#include "dm/acpi/table_builder.hpp"
#include "dm/devices/uart16550.hpp"
#include "dm/platform_layout.hpp"

namespace acrn::dm::acpi {
namespace {

using aml::Bytes;

// Revision 2: integers are 64 bits wide (5.2.11.1).
constexpr std::uint8_t kDsdtRevision = 2;
constexpr std::uint32_t kPciSlots = 32;
constexpr std::uint32_t kIntxPins = 4;  // INTA#..INTD#
constexpr std::uint32_t kAllFunctions = 0xFFFF;
// Configuration mechanism #1: CONFIG_ADDRESS and CONFIG_DATA, 4 ports each.
constexpr std::uint16_t kPciConfigPortsEnd = platform::kPciConfigDataPort + 4;
constexpr std::uint16_t kLastIoPort = 0xFFFF;

// 6.2.13: one _PRT entry per slot and pin, every function of the slot
// (address 0xSSSSFFFF). Source Zero: the last field is a GSI, no link
// device.
Bytes routing_table() {
    std::vector<Bytes> entries;
    for (std::uint32_t slot = 0; slot < kPciSlots; ++slot) {
        for (std::uint32_t pin = 0; pin < kIntxPins; ++pin) {
            entries.push_back(aml::package({aml::integer((slot << 16) | kAllFunctions), aml::integer(pin),
                                            aml::integer(0), aml::integer(platform::pci_intx_gsi(slot, pin + 1))}));
        }
    }
    return aml::package(entries);
}

// No _ADR beside the _HID: 6.1 says a device has one or the other (iasl
// warns otherwise), and a root bridge is found by _HID, _SEG and _BBN.
Bytes pci_host_bridge(const PlatformDescription& description) {
    using aml::Usage;
    std::vector<Bytes> windows{
        aml::word_bus_number(Usage::producer, 0, platform::kEcamLastBus),
        aml::word_io(Usage::producer, 0, platform::kPciConfigAddressPort - 1),
        aml::word_io(Usage::producer, kPciConfigPortsEnd, kLastIoPort),
        aml::dword_memory(Usage::producer, aml::Cacheability::non_cacheable,
                          static_cast<std::uint32_t>(description.pci_mmio32_base),
                          static_cast<std::uint32_t>(description.pci_mmio32_limit - 1)),
    };
    if (description.pci_mmio64_limit > description.pci_mmio64_base) {
        windows.push_back(aml::qword_memory(Usage::producer, aml::Cacheability::non_cacheable,
                                            description.pci_mmio64_base, description.pci_mmio64_limit - 1));
    }
    const Bytes resources = aml::resource_template(windows);
    return aml::device("PCI0", {
                                   aml::name("_HID", aml::eisaid("PNP0A08")),  // PCI Express root bridge
                                   aml::name("_CID", aml::eisaid("PNP0A03")),  // PCI root bridge
                                   aml::name("_UID", aml::integer(0)),
                                   aml::name("_BBN", aml::integer(0)),
                                   aml::name("_SEG", aml::integer(0)),
                                   aml::name("_CRS", resources),
                                   aml::name("_PRT", routing_table()),
                               });
}

// PNP0C02 claims what no other device's _CRS does, so that the OS keeps off
// it: the ECAM (Linux trusts MCFG only where it is reserved here) and the
// ACPI fixed-hardware ports.
Bytes motherboard_resources() {
    const auto pm_block_length =
        static_cast<std::uint8_t>(platform::kPmTimerBlock + platform::kPmTimerLength - platform::kPm1aEventBlock);
    const Bytes resources = aml::resource_template({
        aml::memory32_fixed(static_cast<std::uint32_t>(platform::kEcamAddress),
                            static_cast<std::uint32_t>(platform::kEcamSize)),
        aml::io_fixed(platform::kPm1aEventBlock, pm_block_length),
        aml::io_fixed(platform::kSmiCommandPort, 1),
        aml::io_fixed(platform::kResetControlPort, 1),
    });
    return aml::device("MRES", {
                                   aml::name("_HID", aml::eisaid("PNP0C02")),
                                   aml::name("_UID", aml::integer(0)),
                                   aml::name("_CRS", resources),
                               });
}

Bytes serial_port(const SerialPortResource& port) {
    const Bytes resources = aml::resource_template({
        aml::io_fixed(port.base, static_cast<std::uint8_t>(Uart16550::kRegisterCount)),
        aml::irq_no_flags(static_cast<std::uint8_t>(port.irq)),
    });
    return aml::device("COM" + std::to_string(port.index), {
                                                               aml::name("_HID", aml::eisaid("PNP0501")),  // 16550A
                                                               aml::name("_UID", aml::integer(port.index)),
                                                               aml::name("_CRS", resources),
                                                           });
}

Bytes rtc() {
    const auto ports = static_cast<std::uint8_t>(platform::kRtcDataPort - platform::kRtcIndexPort + 1);
    const Bytes resources = aml::resource_template({
        aml::io_fixed(platform::kRtcIndexPort, ports),
        aml::irq_no_flags(static_cast<std::uint8_t>(platform::kRtcGsi)),
    });
    return aml::device("RTC", {
                                  aml::name("_HID", aml::eisaid("PNP0B00")),  // AT RTC
                                  aml::name("_CRS", resources),
                              });
}

// 7.4.2: a sleep state's first two elements are the SLP_TYP values for
// PM1a_CNT and PM1b_CNT; the other two are reserved.
Bytes sleep_state(const char* name, std::uint8_t sleep_type) {
    return aml::name(name, aml::package({aml::integer(sleep_type), aml::integer(sleep_type), aml::integer(0),
                                         aml::integer(0)}));
}
Bytes soft_off() { return sleep_state("\\_S5", platform::kSleepTypeS5); }
Bytes suspend_to_ram() { return sleep_state("\\_S3", platform::kSleepTypeS3); }

void check(const PlatformDescription& description) {
    const auto invalid = [](const std::string& why) { return std::invalid_argument("DSDT: " + why); };
    if (description.pci_mmio32_base >= description.pci_mmio32_limit ||
        description.pci_mmio32_limit > platform::kPciMmio32Limit) {
        throw invalid("the 32-bit PCI window must be non-empty and end at or below the ECAM");
    }
    if (description.pci_mmio64_limit > description.pci_mmio64_base &&
        description.pci_mmio64_base < (std::uint64_t{1} << 32)) {
        throw invalid("the 64-bit PCI window must lie above 4 GiB");
    }
    std::set<int> indices;
    for (const SerialPortResource& port : description.serial_ports) {
        if (port.index < 0 || port.index > 9 || !indices.insert(port.index).second) {
            throw invalid("serial port indices must be distinct and 0..9");
        }
        if (port.irq > 15) {
            throw invalid("serial port IRQs must be ISA IRQs (0..15)");
        }
        if (port.base > kLastIoPort + 1 - Uart16550::kRegisterCount) {
            throw invalid("serial port registers must lie below port 0x10000");
        }
    }
}

}  // namespace

std::vector<std::uint8_t> build_dsdt(const PlatformDescription& description) {
    check(description);
    std::vector<Bytes> system_bus{pci_host_bridge(description), motherboard_resources()};
    for (const SerialPortResource& port : description.serial_ports) {
        system_bus.push_back(serial_port(port));
    }
    system_bus.push_back(rtc());

    TableBuilder dsdt("DSDT", kDsdtRevision);
    dsdt.bytes(aml::scope("\\_SB", system_bus));
    if (description.suspend_to_ram) {
        dsdt.bytes(suspend_to_ram());
    }
    dsdt.bytes(soft_off());
    return std::move(dsdt).finish();
}

}  // namespace acrn::dm::acpi
