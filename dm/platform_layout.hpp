// The fixed resources of the UOS platform that acrn-dm emulates: where each
// legacy device sits, which GSI it raises, and where the firmware tables and
// the PCI windows are. The devices, the ACPI tables that describe them, and
// the VM session that wires them all read these, so the three cannot drift.
// Values follow ACRN's device model where ACRN has one.
#pragma once

#include <cstdint>

namespace acrn::dm::platform {

// Interrupt controllers: KVM's in-kernel LAPICs and one 24-pin IOAPIC.
inline constexpr std::uint64_t kLapicAddress = 0xFEE0'0000;
inline constexpr std::uint64_t kIoapicAddress = 0xFEC0'0000;
inline constexpr std::uint8_t kIoapicId = 0;
inline constexpr std::uint32_t kIoapicPins = 24;
inline constexpr std::uint32_t kMaxVcpus = 8;

// ISA interrupts (GSI = ISA IRQ, except the PIT's IRQ 0 on GSI 2).
inline constexpr std::uint32_t kPitGsi = 2;
inline constexpr std::uint32_t kKeyboardGsi = 1;
inline constexpr std::uint32_t kRtcGsi = 8;
inline constexpr std::uint32_t kSciGsi = 9;  // level-triggered, active high
inline constexpr std::uint32_t kMouseGsi = 12;

// ACPI fixed hardware (ACPI 6.4, 4.8): PM1a event and control blocks, PM
// timer, and the SMI command port the guest writes ACPI_ENABLE to.
inline constexpr std::uint16_t kPm1aEventBlock = 0x400;  // PM1_STS (2 bytes), PM1_EN (2 bytes)
inline constexpr std::uint16_t kPm1aEventLength = 4;
inline constexpr std::uint16_t kPm1aControlBlock = 0x404;
inline constexpr std::uint16_t kPm1aControlLength = 2;
inline constexpr std::uint16_t kPmTimerBlock = 0x408;
inline constexpr std::uint16_t kPmTimerLength = 4;
inline constexpr std::uint32_t kPmTimerHz = 3'579'545;
inline constexpr std::uint16_t kSmiCommandPort = 0xB2;
inline constexpr std::uint8_t kAcpiEnable = 0xA0;
inline constexpr std::uint8_t kAcpiDisable = 0xA1;
// The SLP_TYP values the DSDT's \_S3 and \_S5 name and PM1a_CNT acts on
// (ACRN's: S3 suspends the VM until it is woken, S5 powers it off).
inline constexpr std::uint8_t kSleepTypeS3 = 3;
inline constexpr std::uint8_t kSleepTypeS5 = 5;
// Where the guest leaves its real-mode waking vector in the FACS (ACPI 6.4, 5.2.10).
inline constexpr std::uint64_t kFacsWakingVectorOffset = 12;

// Reset: the PCI reset control register (FADT RESET_REG, value 0x06) and the
// i8042's pulse-reset command.
inline constexpr std::uint16_t kResetControlPort = 0xCF9;
inline constexpr std::uint8_t kResetValue = 0x06;
inline constexpr std::uint16_t kI8042DataPort = 0x60;
inline constexpr std::uint16_t kI8042CommandPort = 0x64;

// RTC/CMOS (MC146818): index and data ports; CMOS offset of the century
// byte (FADT CENTURY).
inline constexpr std::uint16_t kRtcIndexPort = 0x70;
inline constexpr std::uint16_t kRtcDataPort = 0x71;
inline constexpr std::uint8_t kRtcCenturyIndex = 0x32;

// Firmware area: the ACPI tables (RSDP first, 16-byte aligned, where the
// kernel's scan of 0xE0000-0xFFFFF finds it). Inside the e820 hole that
// ends conventional memory, so the guest never takes it for RAM.
inline constexpr std::uint64_t kAcpiTablesAddress = 0xE'0000;
inline constexpr std::uint64_t kAcpiTablesLimit = 0x10'0000;

// PCI configuration mechanism #1 (the hypervisor decodes it into PCICFG
// requests; the DSDT keeps these ports out of the root bridge's window).
inline constexpr std::uint16_t kPciConfigAddressPort = 0xCF8;
inline constexpr std::uint16_t kPciConfigDataPort = 0xCFC;

// PCI: ECAM (MMCONFIG) for buses 0..kEcamLastBus, and the 32-bit window
// BARs are placed in (from the end of low RAM to the ECAM).
inline constexpr std::uint64_t kEcamAddress = 0xE000'0000;
inline constexpr std::uint8_t kEcamLastBus = 0;
inline constexpr std::uint64_t kEcamSize = (std::uint64_t{kEcamLastBus} + 1) << 20;
inline constexpr std::uint64_t kPciMmio32Limit = kEcamAddress;  // exclusive
inline constexpr std::uint64_t kPciMmio32BarBase = 0xC000'0000;  // 32-bit memory BARs from here
// The 64-bit window, for 64-bit memory BARs: from the first 1 GiB boundary
// at or above the end of RAM (and above 4 GiB), 64 GiB long.
inline constexpr std::uint64_t kPciMmio64Alignment = 1ull << 30;
inline constexpr std::uint64_t kPciMmio64Size = 64ull << 30;
inline constexpr std::uint64_t kPciIoWindowBase = 0x1000;       // I/O BARs from here
inline constexpr std::uint64_t kPciIoWindowLimit = 0x10000;     // exclusive

// PCI INTx routing, as the DSDT's _PRT states it: slot S pin P (1 = INTA#)
// raises IOAPIC pin 16 + (S + P - 1) mod 8, level-triggered, active low.
inline constexpr std::uint32_t kPciIntxFirstGsi = 16;
inline constexpr std::uint32_t kPciIntxGsiCount = 8;
[[nodiscard]] constexpr std::uint32_t pci_intx_gsi(std::uint32_t slot, std::uint32_t pin) noexcept {
    return kPciIntxFirstGsi + (slot + pin - 1) % kPciIntxGsiCount;
}

}  // namespace acrn::dm::platform
