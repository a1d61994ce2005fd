#include "hv/guest_cpuid.hpp"

namespace acrn::hv {
namespace {

constexpr std::uint32_t kHypervisorBit = 1u << 31;  // CPUID.1:ECX[31]

}  // namespace

void shape_guest_cpuid(std::span<kvm_cpuid_entry2> entries, std::uint32_t vcpu_id) {
    for (kvm_cpuid_entry2& entry : entries) {
        if (entry.function == 1) {
            entry.ebx = (entry.ebx & 0x00FF'FFFFu) | (vcpu_id << 24);  // initial APIC id
            entry.ecx |= kHypervisorBit;
        } else if (entry.function == 0xB || entry.function == 0x1F) {
            entry.edx = vcpu_id;  // x2APIC id
        }
    }
}

}  // namespace acrn::hv
