// The Fixed ACPI Description Table (ACPI 6.4, 5.2.9), revision 6: the PM1a
// blocks, the PM timer, the SMI command port and the reset register of
// dm/platform_layout.hpp. A full (not hardware-reduced) ACPI platform, so
// that the guest drives the power button and S5 through PM1a.
#include <stdexcept>

#include "dm/acpi/system_tables.hpp"
#include "dm/acpi/table_builder.hpp"
#include "dm/platform_layout.hpp"

namespace acrn::dm::acpi {
namespace {

constexpr std::uint8_t kFadtRevision = 6;
constexpr std::uint8_t kFadtMinorRevision = 4;  // ACPI 6.4

// Table 5.10, Fixed ACPI Description Table Fixed Feature Flags.
namespace fadt_flag {
constexpr std::uint32_t wbinvd = 1u << 0;
constexpr std::uint32_t proc_c1 = 1u << 2;
// Clear: the power button is a fixed feature (PM1_STS.PWRBTN_STS).
[[maybe_unused]] constexpr std::uint32_t pwr_button = 1u << 4;
// Clear: the sleep button is a fixed feature (PM1_STS.SLPBTN_STS), which the
// host presses to ask the guest to suspend (acrnctl suspend).
[[maybe_unused]] constexpr std::uint32_t slp_button = 1u << 5;
// Clear: the PM timer counts 24 bits.
[[maybe_unused]] constexpr std::uint32_t tmr_val_ext = 1u << 8;
constexpr std::uint32_t reset_reg_sup = 1u << 10;
}  // namespace fadt_flag

// Table 5.11, IA-PC Boot Architecture Flags.
namespace boot_arch {
// The COM ports and the RTC sit at ISA addresses.
constexpr std::uint16_t legacy_devices = 1u << 0;
// Clear: no keyboard controller.
[[maybe_unused]] constexpr std::uint16_t i8042 = 1u << 1;
constexpr std::uint16_t vga_not_present = 1u << 2;
}  // namespace boot_arch

// P_LVL2_LAT above 100 and P_LVL3_LAT above 1000 say "no C2/C3".
constexpr std::uint16_t kNoC2Latency = 101;
constexpr std::uint16_t kNoC3Latency = 1001;

std::uint32_t low32(std::uint64_t address) {
    if (address >> 32 != 0) {
        throw std::invalid_argument("FADT 32-bit pointer above 4 GiB");
    }
    return static_cast<std::uint32_t>(address);
}

}  // namespace

std::vector<std::uint8_t> build_fadt(std::uint64_t facs_address, std::uint64_t dsdt_address) {
    using platform::kPm1aControlBlock, platform::kPm1aControlLength, platform::kPm1aEventBlock,
        platform::kPm1aEventLength, platform::kPmTimerBlock, platform::kPmTimerLength;

    // The PM timer and the PM1 blocks are described twice: the 32-bit
    // port fields and the X_ GAS fields. ACPICA warns unless they agree.
    const auto pm1a_event = GenericAddress::io_ports(kPm1aEventBlock, kPm1aEventLength, GenericAddress::word);
    const auto pm1a_control = GenericAddress::io_ports(kPm1aControlBlock, kPm1aControlLength, GenericAddress::word);
    const auto pm_timer = GenericAddress::io_ports(kPmTimerBlock, kPmTimerLength, GenericAddress::dword);
    const auto reset = GenericAddress::io_ports(platform::kResetControlPort, 1, GenericAddress::byte);
    const GenericAddress absent{};

    TableBuilder fadt("FACP", kFadtRevision);
    fadt.u32(low32(facs_address))  // FIRMWARE_CTRL
        .u32(low32(dsdt_address))  // DSDT
        .u8(0)                     // reserved (was INT_MODEL)
        .u8(0)                     // Preferred_PM_Profile: unspecified
        .u16(static_cast<std::uint16_t>(platform::kSciGsi))
        .u32(platform::kSmiCommandPort)
        .u8(platform::kAcpiEnable)
        .u8(platform::kAcpiDisable)
        .u8(0)  // S4BIOS_REQ: no S4BIOS
        .u8(0)  // PSTATE_CNT: no P-state control
        .u32(kPm1aEventBlock)
        .u32(0)  // PM1b_EVT_BLK
        .u32(kPm1aControlBlock)
        .u32(0)  // PM1b_CNT_BLK
        .u32(0)  // PM2_CNT_BLK
        .u32(kPmTimerBlock)
        .u32(0)  // GPE0_BLK
        .u32(0)  // GPE1_BLK
        .u8(static_cast<std::uint8_t>(kPm1aEventLength))
        .u8(static_cast<std::uint8_t>(kPm1aControlLength))
        .u8(0)  // PM2_CNT_LEN
        .u8(static_cast<std::uint8_t>(kPmTimerLength))
        .u8(0)  // GPE0_BLK_LEN
        .u8(0)  // GPE1_BLK_LEN
        .u8(0)  // GPE1_BASE
        .u8(0)  // CST_CNT
        .u16(kNoC2Latency)
        .u16(kNoC3Latency)
        .u16(0)  // FLUSH_SIZE
        .u16(0)  // FLUSH_STRIDE
        .u8(0)   // DUTY_OFFSET
        .u8(0)   // DUTY_WIDTH
        .u8(0)   // DAY_ALRM: no RTC day alarm
        .u8(0)   // MON_ALRM
        .u8(platform::kRtcCenturyIndex)
        .u16(boot_arch::legacy_devices | boot_arch::vga_not_present)
        .u8(0)  // reserved
        .u32(fadt_flag::wbinvd | fadt_flag::proc_c1 | fadt_flag::reset_reg_sup)
        .gas(reset)
        .u8(platform::kResetValue)
        .u16(0)  // ARM_BOOT_ARCH
        .u8(kFadtMinorRevision)
        .u64(facs_address)  // X_FIRMWARE_CTRL
        .u64(dsdt_address)  // X_DSDT
        .gas(pm1a_event)
        .gas(absent)  // X_PM1b_EVT_BLK
        .gas(pm1a_control)
        .gas(absent)  // X_PM1b_CNT_BLK
        .gas(absent)  // X_PM2_CNT_BLK
        .gas(pm_timer)
        .gas(absent)  // X_GPE0_BLK
        .gas(absent)  // X_GPE1_BLK
        .gas(absent)  // SLEEP_CONTROL_REG: only for hardware-reduced ACPI
        .gas(absent)  // SLEEP_STATUS_REG
        .u64(0);      // Hypervisor Vendor Identity
    if (fadt.size() != kFadtSize) {
        throw std::logic_error("FADT layout is not 276 bytes");
    }
    return std::move(fadt).finish();
}

}  // namespace acrn::dm::acpi
