// HC_SET_VCPU_REGS: ACRN's register block (struct acrn_regs) onto KVM's
// kvm_regs/kvm_sregs. Pure, so it is tested without KVM.
#pragma once

#include <linux/kvm.h>

#include <cstdint>

#include "abi/acrn/abi.h"

namespace acrn::hv {

// Overwrites what acrn_regs describes and keeps the rest of `sregs` (APIC
// base, interrupt bitmap) as KVM reported it.
void apply_acrn_regs(const acrn_regs& in, kvm_regs& regs, kvm_sregs& sregs) noexcept;

// A segment from VMX access-rights bits (type 3:0, S 4, DPL 6:5, P 7,
// AVL 12, L 13, D/B 14, G 15, unusable 16), as acrn_regs.cs_ar carries them.
[[nodiscard]] kvm_segment segment_from_access_rights(std::uint16_t selector, std::uint64_t base, std::uint32_t limit,
                                                     std::uint32_t access_rights) noexcept;

}  // namespace acrn::hv
