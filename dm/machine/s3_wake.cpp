#include "dm/machine/s3_wake.hpp"

#include "dm/guest_memory.hpp"
#include "dm/platform_layout.hpp"

namespace acrn::dm {
namespace {

constexpr std::uint32_t kRealModeLimit = 1u << 20;
constexpr std::uint32_t kRealModeCodeAccessRights = 0x009B;  // P, S, execute/read accessed
constexpr std::uint64_t kCr0AfterReset = 0x6000'0010;        // CD, NW, ET (SDM 9.1.1)
constexpr std::uint64_t kRflagsReservedOne = 1u << 1;

}  // namespace

std::optional<std::uint32_t> read_waking_vector(const GuestMemory& memory, std::uint64_t facs_address) {
    std::uint32_t vector = 0;
    if (!memory.read(facs_address + platform::kFacsWakingVectorOffset, &vector, sizeof(vector)) || vector == 0 ||
        vector >= kRealModeLimit) {
        return std::nullopt;
    }
    return vector;
}

acrn_vcpu_regs real_mode_wake_registers(std::uint32_t waking_vector) {
    acrn_vcpu_regs boot{};
    boot.vcpu_id = 0;
    acrn_regs& regs = boot.vcpu_regs;
    const auto segment = static_cast<std::uint16_t>(waking_vector >> 4);
    regs.cs_sel = segment;
    regs.cs_base = static_cast<std::uint64_t>(segment) << 4;
    regs.cs_limit = 0xFFFF;
    regs.cs_ar = kRealModeCodeAccessRights;
    regs.rip = waking_vector & 0xF;
    regs.ds_sel = regs.es_sel = regs.fs_sel = regs.gs_sel = regs.ss_sel = segment;
    regs.gdt.limit = 0xFFFF;
    regs.idt.limit = 0xFFFF;
    regs.rflags = kRflagsReservedOne;
    regs.cr0 = kCr0AfterReset;
    return boot;
}

}  // namespace acrn::dm
