#include <gtest/gtest.h>

#include <vector>

#include "hv/guest_cpuid.hpp"

namespace acrn::hv {
namespace {

kvm_cpuid_entry2 leaf(std::uint32_t function, std::uint32_t index, std::uint32_t eax, std::uint32_t ebx,
                      std::uint32_t ecx, std::uint32_t edx) {
    kvm_cpuid_entry2 entry{};
    entry.function = function;
    entry.index = index;
    entry.eax = eax;
    entry.ebx = ebx;
    entry.ecx = ecx;
    entry.edx = edx;
    return entry;
}

std::vector<kvm_cpuid_entry2> table() {
    return {leaf(1, 0, 0x830F10, 0x00010800, 0x0400'0001, 0), leaf(0xB, 0, 1, 1, 0x100, 0), leaf(0xD, 0, 0x7, 0x240, 0x340, 0)};
}

TEST(GuestCpuid, SetsApicIdAndHypervisorBit) {
    auto entries = table();
    shape_guest_cpuid(entries, 3);
    EXPECT_EQ(entries[0].ebx >> 24, 3u);
    EXPECT_EQ(entries[0].ebx & 0xFF'FFFF, 0x010800u);
    EXPECT_NE(entries[0].ecx & (1u << 31), 0u);
}

TEST(GuestCpuid, LeavesOtherLeavesAsKvmReportedThem) {
    auto entries = table();
    shape_guest_cpuid(entries, 2);
    EXPECT_EQ(entries[1].edx, 2u);  // x2APIC id
    EXPECT_EQ(entries[1].eax, 1u);
    EXPECT_EQ(entries[2].eax, 0x7u);
    EXPECT_EQ(entries[2].ecx, 0x340u);
}

TEST(GuestCpuid, AShortTableIsFine) {
    std::vector<kvm_cpuid_entry2> entries{leaf(1, 0, 0, 0, 0, 0)};
    shape_guest_cpuid(entries, 1);
    EXPECT_EQ(entries[0].ebx >> 24, 1u);
}

}  // namespace
}  // namespace acrn::hv
