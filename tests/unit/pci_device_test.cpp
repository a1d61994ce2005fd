#include <gtest/gtest.h>

#include "dm/devices/hostbridge.hpp"
#include "dm/devices/testdev.hpp"

namespace acrn::dm {
namespace {

TEST(PciDeviceTest, IdentityIsReadOnly) {
    HostBridge bridge;
    EXPECT_EQ(bridge.config_read(0, 4), 0x1275'1275u);
    bridge.config_write(0, 4, 0xDEAD'BEEF);
    EXPECT_EQ(bridge.config_read(0, 4), 0x1275'1275u);
    EXPECT_EQ(bridge.config_read(0x0B, 1), 0x06u);  // class: bridge
}

TEST(PciDeviceTest, UnalignedAndOutOfRangeAccessesReadAllOnes) {
    HostBridge bridge;
    EXPECT_EQ(bridge.config_read(1, 2), 0xFFFFu);
    EXPECT_EQ(bridge.config_read(2, 4), 0xFFFF'FFFFu);
    EXPECT_EQ(bridge.config_read(0x100, 4), 0xFFFF'FFFFu);
    EXPECT_EQ(bridge.config_read(0, 3), 0xFFFF'FFFFu);
}

class PciBarTest : public ::testing::Test {
protected:
    std::shared_ptr<TestDevice> attached_testdev(std::uint64_t io_base, std::uint64_t memory_base = 0xC000'0000) {
        auto device = std::make_shared<TestDevice>();
        device->place_bar(0, memory_base);
        device->place_bar(1, io_base);
        device->attach(pio_, mmio_);
        return device;
    }

    AddressBus pio_{"PIO"};
    AddressBus mmio_{"MMIO"};
};

TEST_F(PciBarTest, BarSizingFollowsTheSpec) {
    auto device = attached_testdev(0x2000);
    device->config_write(0x10, 4, 0xFFFF'FFFF);
    EXPECT_EQ(device->config_read(0x10, 4), 0xFFFF'F000u);  // 4 KiB, 32-bit memory
    device->config_write(0x14, 4, 0xFFFF'FFFF);
    EXPECT_EQ(device->config_read(0x14, 4), 0xFFFF'FF01u);  // 256 bytes, I/O
    device->config_write(0x18, 4, 0xFFFF'FFFF);
    EXPECT_EQ(device->config_read(0x18, 4), 0u);  // unimplemented BAR

    device->config_write(0x10, 4, 0xC000'0000);
    device->config_write(0x14, 4, 0x2000);
    EXPECT_EQ(device->bar_address(0), 0xC000'0000u);
    EXPECT_EQ(device->bar_address(1), 0x2000u);
}

TEST_F(PciBarTest, BarsMapOnlyWhileDecodingAndFollowMoves) {
    auto device = attached_testdev(0x2000);
    EXPECT_FALSE(pio_.resolve(0x2000, 1));
    device->config_write(0x04, 2, kCommandIoSpace);
    EXPECT_TRUE(pio_.resolve(0x2000, 1));
    EXPECT_FALSE(mmio_.resolve(0xC000'0000, 4));
    device->config_write(0x04, 2, kCommandIoSpace | kCommandMemorySpace);
    EXPECT_TRUE(mmio_.resolve(0xC000'0000, 4));

    device->config_write(0x14, 4, 0x3000);  // the guest moves the I/O BAR
    EXPECT_FALSE(pio_.resolve(0x2000, 1));
    EXPECT_TRUE(pio_.resolve(0x30FF, 1));
    device->config_write(0x04, 2, 0);
    EXPECT_FALSE(pio_.resolve(0x3000, 1));
    EXPECT_FALSE(mmio_.resolve(0xC000'0000, 4));
}

TEST_F(PciBarTest, ABarMovedOntoAnotherStaysUnmapped) {
    auto first = attached_testdev(0x2000);
    auto second = attached_testdev(0x2100, 0xC000'1000);
    first->config_write(0x04, 2, kCommandIoSpace);
    second->config_write(0x04, 2, kCommandIoSpace);
    second->config_write(0x14, 4, 0x2000);  // collides with the first device
    EXPECT_TRUE(pio_.resolve(0x2000, 1));
    EXPECT_FALSE(pio_.resolve(0x2100, 1));
    second->config_write(0x14, 4, 0x2200);  // moved clear again: mapped
    EXPECT_TRUE(pio_.resolve(0x2200, 1));
}

}  // namespace
}  // namespace acrn::dm
