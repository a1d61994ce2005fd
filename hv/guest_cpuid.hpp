// The CPUID a vCPU sees: KVM's supported table, with the vCPU's APIC ids
// and the hypervisor bit. The bit is what makes a guest look at KVM's
// leaves at 0x40000000 (kvm-clock, PV EOI): without it Linux calibrates the
// TSC against the PIT, which fails when the host is slow or busy.
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <span>

namespace acrn::hv {

void shape_guest_cpuid(std::span<kvm_cpuid_entry2> entries, std::uint32_t vcpu_id);

}  // namespace acrn::hv
