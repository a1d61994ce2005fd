// Waking from S3: the waking vector is read where the guest's OS left it
// in the FACS, and vCPU 0 starts there in real mode, as a BIOS jumps to it.
#include "dm/machine/s3_wake.hpp"

#include <gtest/gtest.h>

#include "dm/acpi/acpi_tables.hpp"
#include "dm/guest_memory.hpp"
#include "dm/platform_layout.hpp"

namespace acrn::dm {
namespace {

class S3WakeTest : public ::testing::Test {
protected:
    void SetUp() override {
        acpi::PlatformDescription platform;
        platform.vcpu_count = 2;
        platform.pci_mmio32_base = memory_.low_memory_end();
        const acpi::AcpiImage image = acpi::build_acpi_tables(platform);
        ASSERT_TRUE(memory_.write(image.base, image.bytes.data(), image.bytes.size()));
        facs_ = image.facs_address;
    }
    void leave_vector(std::uint32_t vector) {
        ASSERT_TRUE(memory_.write(facs_ + platform::kFacsWakingVectorOffset, &vector, sizeof(vector)));
    }

    GuestMemory memory_{64ull << 20};
    std::uint64_t facs_ = 0;
};

TEST_F(S3WakeTest, TheFacsIsWhereTheTablesSayAndStartsEmpty) {
    char signature[4] = {};
    ASSERT_TRUE(memory_.read(facs_, signature, sizeof(signature)));
    EXPECT_EQ(std::string(signature, 4), "FACS");
    EXPECT_EQ(facs_ % 64, 0u);  // ACPI 6.4, 5.2.10: 64-byte aligned
    EXPECT_EQ(read_waking_vector(memory_, facs_), std::nullopt);  // no OS has asked to be woken
}

TEST_F(S3WakeTest, TheOsWakingVectorIsRead) {
    leave_vector(0x991F0);  // where Linux 6.1 put its wakeup code in the test host
    EXPECT_EQ(read_waking_vector(memory_, facs_), 0x991F0u);
}

TEST_F(S3WakeTest, VectorsRealModeCannotReachAreRefused) {
    leave_vector(1u << 20);
    EXPECT_EQ(read_waking_vector(memory_, facs_), std::nullopt);
    EXPECT_EQ(read_waking_vector(memory_, memory_.size() + 4096), std::nullopt);  // not in guest RAM
}

TEST_F(S3WakeTest, VcpuZeroStartsInRealModeAtTheVector) {
    const acrn_vcpu_regs boot = real_mode_wake_registers(0x991F0);
    const acrn_regs& regs = boot.vcpu_regs;
    EXPECT_EQ(boot.vcpu_id, 0u);
    EXPECT_EQ(regs.cs_sel, 0x991Fu);
    EXPECT_EQ(regs.cs_base, 0x991F0u);
    EXPECT_EQ(regs.rip, 0x0u);
    EXPECT_EQ(regs.cs_base + regs.rip, 0x991F0u);
    EXPECT_EQ(regs.cs_limit, 0xFFFFu);
    EXPECT_EQ(regs.cr0 & 1u, 0u);  // PE clear: real mode
    EXPECT_EQ(regs.ia32_efer, 0u);
    EXPECT_EQ(regs.cr4, 0u);
    EXPECT_EQ(regs.rflags, 0x2u);  // interrupts off
    EXPECT_EQ(real_mode_wake_registers(0x12345).vcpu_regs.rip, 0x5u);
}

}  // namespace
}  // namespace acrn::dm
