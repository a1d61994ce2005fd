// The generated ACPI image, read the way an OS reads it: from the RSDP
// through the XSDT and the FADT to every table.
#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>

#include "dm/acpi/acpi_tables.hpp"
#include "tests/unit/acpi_image.hpp"

namespace acrn::dm::acpi {
namespace {

using test::find_tables;
using test::read_le;

PlatformDescription description_with(std::uint32_t vcpus) {
    PlatformDescription description;
    description.vcpu_count = vcpus;
    description.serial_ports = {{1, 0x3F8, 4}, {2, 0x2F8, 3}};
    description.pci_mmio32_base = 0xC000'0000;
    return description;
}

std::size_t count_of(std::span<const std::uint8_t> haystack, const std::vector<std::uint8_t>& needle) {
    std::size_t count = 0;
    for (auto at = haystack.begin();
         (at = std::search(at, haystack.end(), needle.begin(), needle.end())) != haystack.end(); ++at) {
        ++count;
    }
    return count;
}

TEST(AcpiTablesTest, RsdpComesFirstWithBothChecksums) {
    const AcpiImage image = build_acpi_tables(description_with(1));
    EXPECT_EQ(image.base, platform::kAcpiTablesAddress);
    EXPECT_EQ(image.rsdp_address, image.base);
    EXPECT_EQ(image.rsdp_address % 16, 0u);
    const auto found = find_tables(image);
    ASSERT_EQ(found.rsdp.size(), 36u);
    EXPECT_EQ(std::string(found.rsdp.begin(), found.rsdp.begin() + 8), "RSD PTR ");
    EXPECT_EQ(std::string(found.rsdp.begin() + 9, found.rsdp.begin() + 15), "ACRNKV");
    EXPECT_EQ(found.rsdp[15], 2);  // revision: ACPI 2.0+
    EXPECT_EQ(read_le<std::uint32_t>(found.rsdp, 20), 36u);
    EXPECT_EQ(test::byte_sum(found.rsdp.first(20)), 0u);
    EXPECT_EQ(test::byte_sum(found.rsdp), 0u);
    EXPECT_LE(image.base + image.bytes.size(), platform::kAcpiTablesLimit);
}

TEST(AcpiTablesTest, EveryTableHasAValidHeaderAndChecksum) {
    const AcpiImage image = build_acpi_tables(description_with(2));
    const auto found = find_tables(image);
    for (const char* signature : {"XSDT", "FACP", "APIC", "MCFG", "DSDT"}) {
        SCOPED_TRACE(signature);
        ASSERT_TRUE(found.tables.contains(signature));
        const auto table = found.tables.at(signature);
        ASSERT_GE(table.size(), 36u);
        EXPECT_EQ(test::signature(table), signature);
        EXPECT_EQ(test::byte_sum(table), 0u);
        EXPECT_EQ(std::string(table.begin() + 10, table.begin() + 16), "ACRNKV");
        EXPECT_EQ(std::string(table.begin() + 16, table.begin() + 24), "ACRNKVM ");
        EXPECT_EQ(read_le<std::uint32_t>(table, 24), 1u);
        EXPECT_EQ(std::string(table.begin() + 28, table.begin() + 32), "AKVM");
        EXPECT_EQ(read_le<std::uint32_t>(table, 32), 1u);
        EXPECT_EQ(found.addresses.at(signature) % 8, 0u);
    }
    EXPECT_EQ(found.tables.at("XSDT").size(), 36u + 3 * 8);  // FADT, MADT, MCFG
    EXPECT_EQ(found.tables.at("FACP").size(), 276u);
    EXPECT_EQ(found.tables.at("FACP")[8], 6);  // revision 6
    EXPECT_EQ(found.tables.at("MCFG").size(), 60u);
    EXPECT_EQ(found.tables.at("DSDT")[8], 2);  // 64-bit integers
}

TEST(AcpiTablesTest, FadtPointsAtDsdtAndFacsInBothWidths) {
    const AcpiImage image = build_acpi_tables(description_with(1));
    const auto found = find_tables(image);
    const auto fadt = found.tables.at("FACP");
    EXPECT_EQ(read_le<std::uint32_t>(fadt, test::kFadtDsdt), found.addresses.at("DSDT"));
    EXPECT_EQ(read_le<std::uint32_t>(fadt, test::kFadtFirmwareCtrl), found.addresses.at("FACS"));
    EXPECT_EQ(test::signature(found.tables.at("DSDT")), "DSDT");

    const auto facs = found.tables.at("FACS");
    EXPECT_EQ(test::signature(facs), "FACS");
    EXPECT_EQ(facs.size(), 64u);
    EXPECT_EQ(found.addresses.at("FACS") % 64, 0u);
    EXPECT_EQ(facs[32], 2);  // version
}

TEST(AcpiTablesTest, FadtDescribesTheFixedHardware) {
    const AcpiImage image = build_acpi_tables(description_with(1));
    const auto fadt = find_tables(image).tables.at("FACP");
    EXPECT_EQ(read_le<std::uint16_t>(fadt, 46), platform::kSciGsi);
    EXPECT_EQ(read_le<std::uint32_t>(fadt, 48), platform::kSmiCommandPort);
    EXPECT_EQ(fadt[52], platform::kAcpiEnable);
    EXPECT_EQ(fadt[53], platform::kAcpiDisable);
    EXPECT_EQ(read_le<std::uint32_t>(fadt, 56), platform::kPm1aEventBlock);
    EXPECT_EQ(read_le<std::uint32_t>(fadt, 64), platform::kPm1aControlBlock);
    EXPECT_EQ(read_le<std::uint32_t>(fadt, 76), platform::kPmTimerBlock);
    EXPECT_EQ(fadt[88], platform::kPm1aEventLength);
    EXPECT_EQ(fadt[89], platform::kPm1aControlLength);
    EXPECT_EQ(fadt[91], platform::kPmTimerLength);
    EXPECT_EQ(fadt[108], platform::kRtcCenturyIndex);
    const auto boot_arch = read_le<std::uint16_t>(fadt, 109);
    EXPECT_EQ(boot_arch & (1u << 1), 0u);  // no 8042
    EXPECT_NE(boot_arch & (1u << 2), 0u);  // VGA not present
    const auto flags = read_le<std::uint32_t>(fadt, 112);
    // WBINVD, PROC_C1, RESET_REG_SUP; PWR_BUTTON and SLP_BUTTON clear: both buttons are fixed features.
    EXPECT_EQ(flags & 0x0F'FFFF, (1u << 0) | (1u << 2) | (1u << 10));
    EXPECT_EQ(flags & (1u << 20), 0u);  // not hardware-reduced

    // RESET_REG: system I/O, 8 bits at 0xCF9; then RESET_VALUE.
    EXPECT_EQ(fadt[116], 1);
    EXPECT_EQ(fadt[117], 8);
    EXPECT_EQ(read_le<std::uint64_t>(fadt, 120), platform::kResetControlPort);
    EXPECT_EQ(fadt[128], platform::kResetValue);

    // The X_ blocks agree with the 32-bit ones: port and width.
    const auto x_block = [&](std::size_t offset, std::uint16_t port, std::uint16_t length) {
        EXPECT_EQ(fadt[offset], 1) << offset;  // system I/O
        EXPECT_EQ(fadt[offset + 1], length * 8) << offset;
        EXPECT_EQ(read_le<std::uint64_t>(fadt, offset + 4), port) << offset;
    };
    x_block(148, platform::kPm1aEventBlock, platform::kPm1aEventLength);
    x_block(172, platform::kPm1aControlBlock, platform::kPm1aControlLength);
    x_block(208, platform::kPmTimerBlock, platform::kPmTimerLength);
}

class AcpiMadtTest : public ::testing::TestWithParam<std::uint32_t> {};

TEST_P(AcpiMadtTest, OneEnabledLocalApicPerVcpu) {
    const std::uint32_t vcpus = GetParam();
    const AcpiImage image = build_acpi_tables(description_with(vcpus));
    const auto madt = find_tables(image).tables.at("APIC");
    ASSERT_EQ(madt.size(), 44u + 8 * vcpus + 12 + 2 * 10 + 6);
    EXPECT_EQ(read_le<std::uint32_t>(madt, 36), platform::kLapicAddress);
    EXPECT_EQ(read_le<std::uint32_t>(madt, 40) & 1, 1u);  // PCAT_COMPAT

    std::uint32_t local_apics = 0;
    std::vector<std::pair<std::uint8_t, std::uint32_t>> overrides;
    bool ioapic = false;
    bool lint1_nmi = false;
    for (std::size_t at = 44; at < madt.size(); at += madt[at + 1]) {
        ASSERT_GE(madt[at + 1], 2);
        switch (madt[at]) {
        case 0:  // Processor Local APIC
            EXPECT_EQ(madt[at + 2], local_apics);  // processor UID
            EXPECT_EQ(madt[at + 3], local_apics);  // APIC id
            EXPECT_EQ(read_le<std::uint32_t>(madt, at + 4), 1u);
            ++local_apics;
            break;
        case 1:  // IOAPIC
            ioapic = true;
            EXPECT_EQ(madt[at + 2], platform::kIoapicId);
            EXPECT_EQ(read_le<std::uint32_t>(madt, at + 4), platform::kIoapicAddress);
            EXPECT_EQ(read_le<std::uint32_t>(madt, at + 8), 0u);
            break;
        case 2:  // Interrupt Source Override
            overrides.emplace_back(madt[at + 3], read_le<std::uint32_t>(madt, at + 4));
            if (madt[at + 3] == 9) {
                EXPECT_EQ(read_le<std::uint16_t>(madt, at + 8), 0x000D);  // level, active high
            }
            break;
        case 4:  // Local APIC NMI
            lint1_nmi = madt[at + 2] == 0xFF && madt[at + 5] == 1;
            break;
        default:
            ADD_FAILURE() << "unexpected MADT entry type " << int{madt[at]};
        }
    }
    EXPECT_EQ(local_apics, vcpus);
    EXPECT_TRUE(ioapic);
    EXPECT_TRUE(lint1_nmi);
    EXPECT_EQ(overrides, (std::vector<std::pair<std::uint8_t, std::uint32_t>>{{0, platform::kPitGsi},
                                                                              {9, platform::kSciGsi}}));
}

INSTANTIATE_TEST_SUITE_P(Vcpus, AcpiMadtTest, ::testing::Values(1u, 4u, 8u));

TEST(AcpiTablesTest, McfgDescribesTheEcam) {
    const AcpiImage image = build_acpi_tables(description_with(1));
    const auto mcfg = find_tables(image).tables.at("MCFG");
    EXPECT_EQ(read_le<std::uint64_t>(mcfg, 44), platform::kEcamAddress);
    EXPECT_EQ(read_le<std::uint16_t>(mcfg, 52), 0u);
    EXPECT_EQ(mcfg[54], 0);
    EXPECT_EQ(mcfg[55], platform::kEcamLastBus);
}

TEST(AcpiTablesTest, DsdtNamesEachConfiguredSerialPort) {
    const std::vector<std::uint8_t> pnp0501{0x0C, 0x41, 0xD0, 0x05, 0x01};
    const std::vector<std::uint8_t> com1_ports{0x47, 0x01, 0xF8, 0x03, 0xF8, 0x03, 0x01, 0x08};
    const std::vector<std::uint8_t> com2_ports{0x47, 0x01, 0xF8, 0x02, 0xF8, 0x02, 0x01, 0x08};
    const std::vector<std::uint8_t> com1_name{'C', 'O', 'M', '1'};

    auto description = description_with(1);
    const AcpiImage image = build_acpi_tables(description);
    auto dsdt = find_tables(image).tables.at("DSDT");
    EXPECT_EQ(count_of(dsdt, pnp0501), 2u);
    EXPECT_EQ(count_of(dsdt, com1_ports), 1u);
    EXPECT_EQ(count_of(dsdt, com2_ports), 1u);

    description.serial_ports = {{2, 0x2F8, 3}};
    const AcpiImage one_port = build_acpi_tables(description);
    dsdt = find_tables(one_port).tables.at("DSDT");
    EXPECT_EQ(count_of(dsdt, pnp0501), 1u);
    EXPECT_EQ(count_of(dsdt, com1_ports), 0u);
    EXPECT_EQ(count_of(dsdt, com1_name), 0u);
    EXPECT_EQ(count_of(dsdt, com2_ports), 1u);

    description.serial_ports.clear();
    EXPECT_EQ(count_of(find_tables(build_acpi_tables(description)).tables.at("DSDT"), pnp0501), 0u);
}

TEST(AcpiTablesTest, DsdtReservesTheEcamAndStatesTheWindow) {
    const AcpiImage image = build_acpi_tables(description_with(1));
    const auto dsdt = find_tables(image).tables.at("DSDT");
    // Memory32Fixed (ReadWrite, 0xE0000000, 0x00100000).
    EXPECT_EQ(count_of(dsdt, {0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0x00, 0xE0, 0x00, 0x00, 0x10, 0x00}), 1u);
    // DWordMemory min 0xC0000000, max 0xDFFFFFFF.
    EXPECT_EQ(count_of(dsdt, {0x00, 0x00, 0x00, 0xC0, 0xFF, 0xFF, 0xFF, 0xDF}), 1u);
}

TEST(AcpiTablesTest, DsdtStatesTheSixtyFourBitWindowWhenThereIsOne) {
    auto description = description_with(1);
    // QWordMemory's min and max: 0x1'0000'0000 and 0x10'FFFF'FFFF.
    const std::vector<std::uint8_t> qword_range{0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
                                                0xFF, 0xFF, 0xFF, 0xFF, 0x10, 0x00, 0x00, 0x00};
    EXPECT_EQ(count_of(find_tables(build_acpi_tables(description)).tables.at("DSDT"), qword_range), 0u);
    description.pci_mmio64_base = 0x1'0000'0000;
    description.pci_mmio64_limit = 0x11'0000'0000;
    EXPECT_EQ(count_of(find_tables(build_acpi_tables(description)).tables.at("DSDT"), qword_range), 1u);
    description.pci_mmio64_base = 0x8000'0000;  // not above 4 GiB
    EXPECT_THROW((void)build_acpi_tables(description), std::invalid_argument);
}

TEST(AcpiTablesTest, PlacesTheImageAtAnotherBase) {
    const AcpiImage image = build_acpi_tables(description_with(1), 0xF'0000);
    EXPECT_EQ(image.rsdp_address, 0xF'0000u);
    const auto found = find_tables(image);
    EXPECT_EQ(found.tables.size(), 6u);  // XSDT FACP APIC MCFG DSDT FACS
    EXPECT_EQ(found.addresses.at("FACS") % 64, 0u);
}

TEST(AcpiTablesTest, RefusesWhatItCannotDescribe) {
    const auto refuses = [](PlatformDescription description, std::uint64_t base = platform::kAcpiTablesAddress) {
        EXPECT_THROW((void)build_acpi_tables(description, base), std::invalid_argument);
    };
    auto description = description_with(1);
    description.vcpu_count = 0;
    refuses(description);
    description.vcpu_count = platform::kMaxVcpus + 1;
    refuses(description);

    description = description_with(1);
    description.pci_mmio32_base = description.pci_mmio32_limit;
    refuses(description);
    description = description_with(1);
    description.pci_mmio32_limit = platform::kPciMmio32Limit + 0x1000;  // into the ECAM
    refuses(description);

    description = description_with(1);
    description.serial_ports.push_back({1, 0x3E8, 6});  // COM1 twice
    refuses(description);
    description = description_with(1);
    description.serial_ports = {{3, 0x3E8, 16}};  // not an ISA IRQ
    refuses(description);
    description.serial_ports = {{3, 0xFFFC, 6}};  // registers past port 0xFFFF
    refuses(description);
    description.serial_ports = {{10, 0x3E8, 6}};
    refuses(description);

    refuses(description_with(1), platform::kAcpiTablesAddress + 8);     // RSDP off a paragraph
    refuses(description_with(1), platform::kAcpiTablesLimit - 0x100);  // does not fit
    refuses(description_with(1), platform::kAcpiTablesLimit);
    EXPECT_NO_THROW((void)build_acpi_tables(description_with(platform::kMaxVcpus)));
}

}  // namespace
}  // namespace acrn::dm::acpi
