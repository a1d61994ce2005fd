// hv's pure decoders: 0xCF8/0xCFC and ACRN's register block to KVM's.
#include <gtest/gtest.h>

#include "hv/pci_config_address.hpp"
#include "hv/vcpu_registers.hpp"

namespace acrn::hv {
namespace {

TEST(PciConfigAddressTest, DecodesAsAcrnDoes) {
    PciConfigAddress address;
    EXPECT_FALSE(address.decode(0xCFC));  // enable bit clear
    address.write(0x8000'0000u | (1u << 16) | (3u << 11) | (2u << 8) | 0x14);
    auto target = address.decode(0xCFE);
    ASSERT_TRUE(target);
    EXPECT_EQ(target->bus, 1u);
    EXPECT_EQ(target->dev, 3u);
    EXPECT_EQ(target->func, 2u);
    EXPECT_EQ(target->reg, 0x16u);
    address.write(0x8F00'0010u);  // extended register bits 27:24
    EXPECT_EQ(address.decode(0xCFC)->reg, 0xF10u);
    EXPECT_TRUE(PciConfigAddress::is_address_port(0xCF8, 4));
    EXPECT_FALSE(PciConfigAddress::is_address_port(0xCF8, 1));  // byte access to 0xCF8 is ordinary I/O
    EXPECT_TRUE(PciConfigAddress::is_data_port(0xCFF));
    EXPECT_FALSE(PciConfigAddress::is_data_port(0xD00));
}

TEST(VcpuRegistersTest, ProtectedModeBootState) {
    acrn_regs in{};
    in.gprs.rax = 0x2BADB002;
    in.gprs.rbx = 0x9000;
    in.rip = 0x100000;
    in.cr0 = 0x11;
    in.cs_sel = 0x10;
    in.cs_limit = 0xFFFF'FFFF;
    in.cs_ar = 0xC09B;
    in.ds_sel = in.ss_sel = 0x18;
    in.gdt.base = 0x8000;
    in.gdt.limit = 31;
    kvm_regs regs{};
    kvm_sregs sregs{};
    sregs.apic_base = 0xFEE0'0900;
    apply_acrn_regs(in, regs, sregs);
    EXPECT_EQ(regs.rax, 0x2BADB002u);
    EXPECT_EQ(regs.rip, 0x100000u);
    EXPECT_EQ(regs.rflags & 2, 2u);
    EXPECT_EQ(sregs.cs.selector, 0x10);
    EXPECT_EQ(sregs.cs.db, 1);
    EXPECT_EQ(sregs.cs.g, 1);
    EXPECT_EQ(sregs.cs.type, 0xB);
    EXPECT_EQ(sregs.ds.base, 0u);
    EXPECT_EQ(sregs.ds.limit, 0xFFFF'FFFFu);
    EXPECT_EQ(sregs.ss.db, 1);
    EXPECT_EQ(sregs.gdt.base, 0x8000u);
    EXPECT_EQ(sregs.tr.type, 0xB);
    EXPECT_EQ(sregs.ldt.unusable, 1);
    EXPECT_EQ(sregs.apic_base, 0xFEE0'0900u);  // kept from KVM
}

TEST(VcpuRegistersTest, RealModeSegmentsComeFromSelectors) {
    acrn_regs in{};
    in.cs_sel = 0xF000;
    in.cs_base = 0xF0000;
    in.cs_limit = 0xFFFF;
    in.cs_ar = 0x9B;
    in.ds_sel = 0x1234;
    kvm_regs regs{};
    kvm_sregs sregs{};
    apply_acrn_regs(in, regs, sregs);
    EXPECT_EQ(sregs.ds.base, 0x12340u);
    EXPECT_EQ(sregs.ds.limit, 0xFFFFu);
    EXPECT_EQ(sregs.ds.db, 0);
    EXPECT_EQ(sregs.cs.base, 0xF0000u);
}

}  // namespace
}  // namespace acrn::hv
