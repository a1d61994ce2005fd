#include "hv/vcpu_registers.hpp"

namespace acrn::hv {
namespace {

constexpr std::uint64_t kCr0ProtectionEnable = 1u << 0;
constexpr std::uint64_t kRflagsReservedOne = 1u << 1;
constexpr std::uint32_t kFlatDataAccessRights = 0xC093;  // G, D/B, P, S, read/write accessed
constexpr std::uint32_t kRealModeDataAccessRights = 0x0093;
constexpr std::uint32_t kBusyTss32AccessRights = 0x008B;
constexpr std::uint32_t kLdtUnusable = 0x10082;

kvm_segment data_segment(std::uint16_t selector, bool protected_mode) noexcept {
    if (protected_mode) {
        return segment_from_access_rights(selector, 0, 0xFFFF'FFFF, kFlatDataAccessRights);
    }
    return segment_from_access_rights(selector, static_cast<std::uint64_t>(selector) << 4, 0xFFFF,
                                      kRealModeDataAccessRights);
}

}  // namespace

kvm_segment segment_from_access_rights(std::uint16_t selector, std::uint64_t base, std::uint32_t limit,
                                       std::uint32_t access_rights) noexcept {
    kvm_segment segment{};
    segment.base = base;
    segment.limit = limit;
    segment.selector = selector;
    segment.type = access_rights & 0xF;
    segment.s = (access_rights >> 4) & 1;
    segment.dpl = (access_rights >> 5) & 3;
    segment.present = (access_rights >> 7) & 1;
    segment.avl = (access_rights >> 12) & 1;
    segment.l = (access_rights >> 13) & 1;
    segment.db = (access_rights >> 14) & 1;
    segment.g = (access_rights >> 15) & 1;
    segment.unusable = (access_rights >> 16) & 1;
    return segment;
}

void apply_acrn_regs(const acrn_regs& in, kvm_regs& regs, kvm_sregs& sregs) noexcept {
    regs = kvm_regs{};
    regs.rax = in.gprs.rax;
    regs.rcx = in.gprs.rcx;
    regs.rdx = in.gprs.rdx;
    regs.rbx = in.gprs.rbx;
    regs.rsp = in.gprs.rsp;
    regs.rbp = in.gprs.rbp;
    regs.rsi = in.gprs.rsi;
    regs.rdi = in.gprs.rdi;
    regs.r8 = in.gprs.r8;
    regs.r9 = in.gprs.r9;
    regs.r10 = in.gprs.r10;
    regs.r11 = in.gprs.r11;
    regs.r12 = in.gprs.r12;
    regs.r13 = in.gprs.r13;
    regs.r14 = in.gprs.r14;
    regs.r15 = in.gprs.r15;
    regs.rip = in.rip;
    regs.rflags = in.rflags | kRflagsReservedOne;

    const bool protected_mode = (in.cr0 & kCr0ProtectionEnable) != 0;
    sregs.cs = segment_from_access_rights(in.cs_sel, in.cs_base, in.cs_limit, in.cs_ar);
    sregs.ds = data_segment(in.ds_sel, protected_mode);
    sregs.es = data_segment(in.es_sel, protected_mode);
    sregs.fs = data_segment(in.fs_sel, protected_mode);
    sregs.gs = data_segment(in.gs_sel, protected_mode);
    sregs.ss = data_segment(in.ss_sel, protected_mode);
    sregs.tr = segment_from_access_rights(in.tr_sel, 0, 0xFFFF, kBusyTss32AccessRights);
    sregs.ldt = segment_from_access_rights(in.ldt_sel, 0, 0xFFFF, kLdtUnusable);
    sregs.gdt = kvm_dtable{.base = in.gdt.base, .limit = in.gdt.limit, .padding = {}};
    sregs.idt = kvm_dtable{.base = in.idt.base, .limit = in.idt.limit, .padding = {}};
    sregs.cr0 = in.cr0;
    sregs.cr3 = in.cr3;
    sregs.cr4 = in.cr4;
    sregs.efer = in.ia32_efer;
}

}  // namespace acrn::hv
