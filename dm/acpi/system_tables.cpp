// FACS (ACPI 6.4, 5.2.10), MADT (5.2.12) and MCFG (PCI Firmware
// Specification 3.0, 4.1.2).
#include "dm/acpi/system_tables.hpp"

#include <stdexcept>
#include <string>

#include "dm/acpi/table_builder.hpp"
#include "dm/platform_layout.hpp"

namespace acrn::dm::acpi {
namespace {

constexpr std::uint8_t kMadtRevision = 5;  // ACPI 6.2 to 6.4
constexpr std::uint8_t kMcfgRevision = 1;
constexpr std::uint8_t kFacsVersion = 2;

// 5.2.12: MADT flags and Interrupt Controller Structure types.
constexpr std::uint32_t kPcatCompat = 1u << 0;  // there are 8259s to mask
namespace madt_entry {
constexpr std::uint8_t local_apic = 0;
constexpr std::uint8_t io_apic = 1;
constexpr std::uint8_t interrupt_source_override = 2;
constexpr std::uint8_t local_apic_nmi = 4;
}  // namespace madt_entry
constexpr std::uint32_t kLocalApicEnabled = 1u << 0;
constexpr std::uint8_t kAllProcessors = 0xFF;
constexpr std::uint8_t kIsaBus = 0;

// Table 5.26, MPS INTI Flags: polarity in bits 1:0, trigger mode in 3:2;
// 0 in either means "conforms to the bus" (ISA: edge, active high).
constexpr std::uint16_t kConformsToBus = 0;
constexpr std::uint16_t kActiveHigh = 0b01;
constexpr std::uint16_t kLevelTriggered = 0b11 << 2;

constexpr std::uint8_t kLint1 = 1;

void interrupt_source_override(TableBuilder& madt, std::uint8_t irq, std::uint32_t gsi, std::uint16_t flags) {
    madt.u8(madt_entry::interrupt_source_override).u8(10).u8(kIsaBus).u8(irq).u32(gsi).u16(flags);
}

}  // namespace

std::vector<std::uint8_t> build_facs() {
    // No header of the usual kind and no checksum; the OS owns the rest.
    std::vector<std::uint8_t> facs;
    facs.reserve(kFacsSize);
    const auto append_le = [&facs](std::uint64_t value, int size) {
        for (int i = 0; i < size; ++i) {
            facs.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
        }
    };
    facs.insert(facs.end(), {'F', 'A', 'C', 'S'});
    append_le(kFacsSize, 4);
    append_le(0, 4);  // Hardware Signature
    append_le(0, 4);  // Firmware Waking Vector: the guest's, before it enters S3
    append_le(0, 4);  // Global Lock
    append_le(0, 4);  // Flags: no S4BIOS, no 64-bit wake
    append_le(0, 8);  // X_Firmware_Waking_Vector
    append_le(kFacsVersion, 1);
    facs.resize(kFacsSize, 0);  // reserved, OSPM Flags, reserved
    return facs;
}

std::vector<std::uint8_t> build_madt(std::uint32_t vcpu_count) {
    if (vcpu_count == 0 || vcpu_count > platform::kMaxVcpus) {
        throw std::invalid_argument("MADT needs 1.." + std::to_string(platform::kMaxVcpus) + " vCPUs");
    }
    TableBuilder madt("APIC", kMadtRevision);
    madt.u32(static_cast<std::uint32_t>(platform::kLapicAddress)).u32(kPcatCompat);
    for (std::uint32_t vcpu = 0; vcpu < vcpu_count; ++vcpu) {
        // ACPI Processor UID and APIC ID both the vCPU index.
        const auto id = static_cast<std::uint8_t>(vcpu);
        madt.u8(madt_entry::local_apic).u8(8).u8(id).u8(id).u32(kLocalApicEnabled);
    }
    madt.u8(madt_entry::io_apic)
        .u8(12)
        .u8(platform::kIoapicId)
        .u8(0)
        .u32(static_cast<std::uint32_t>(platform::kIoapicAddress))
        .u32(0);  // GSI base
    interrupt_source_override(madt, 0, platform::kPitGsi, kConformsToBus);
    interrupt_source_override(madt, static_cast<std::uint8_t>(platform::kSciGsi), platform::kSciGsi,
                              kActiveHigh | kLevelTriggered);
    madt.u8(madt_entry::local_apic_nmi).u8(6).u8(kAllProcessors).u16(kConformsToBus).u8(kLint1);
    return std::move(madt).finish();
}

std::vector<std::uint8_t> build_mcfg() {
    TableBuilder mcfg("MCFG", kMcfgRevision);
    mcfg.zeros(8)  // reserved
        .u64(platform::kEcamAddress)
        .u16(0)  // PCI segment group
        .u8(0)   // start bus
        .u8(platform::kEcamLastBus)
        .u32(0);  // reserved
    return std::move(mcfg).finish();
}

}  // namespace acrn::dm::acpi
