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

TEST(PciDeviceTest, BarSizingFollowsTheSpec) {
    AddressBus pio("PIO");
    AddressBus mmio("MMIO");
    auto device = std::make_shared<TestDevice>();
    device->place_bar(0, 0xC000'0000);
    device->place_bar(1, 0x2000);
    device->attach(pio, mmio);

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

TEST(PciDeviceTest, BarsMapOnlyWhileDecodingAndFollowMoves) {
    AddressBus pio("PIO");
    AddressBus mmio("MMIO");
    auto device = std::make_shared<TestDevice>();
    device->place_bar(0, 0xC000'0000);
    device->place_bar(1, 0x2000);
    device->attach(pio, mmio);
    EXPECT_FALSE(pio.resolve(0x2000, 1));
    device->config_write(0x04, 2, kCommandIoSpace);
    EXPECT_TRUE(pio.resolve(0x2000, 1));
    EXPECT_FALSE(mmio.resolve(0xC000'0000, 4));
    device->config_write(0x04, 2, kCommandIoSpace | kCommandMemorySpace);
    EXPECT_TRUE(mmio.resolve(0xC000'0000, 4));

    device->config_write(0x14, 4, 0x3000);  // the guest moves the I/O BAR
    EXPECT_FALSE(pio.resolve(0x2000, 1));
    EXPECT_TRUE(pio.resolve(0x30FF, 1));
    device->config_write(0x04, 2, 0);
    EXPECT_FALSE(pio.resolve(0x3000, 1));
    EXPECT_FALSE(mmio.resolve(0xC000'0000, 4));
}

TEST(PciDeviceTest, ABarMovedOntoAnotherStaysUnmapped) {
    AddressBus pio("PIO");
    AddressBus mmio("MMIO");
    auto first = std::make_shared<TestDevice>();
    auto second = std::make_shared<TestDevice>();
    first->place_bar(1, 0x2000);
    second->place_bar(1, 0x2100);
    first->attach(pio, mmio);
    second->attach(pio, mmio);
    first->config_write(0x04, 2, kCommandIoSpace);
    second->config_write(0x04, 2, kCommandIoSpace);
    second->config_write(0x14, 4, 0x2000);  // collides with the first device
    auto owner = pio.resolve(0x2000, 1);
    ASSERT_TRUE(owner);
    EXPECT_FALSE(pio.resolve(0x2100, 1));
}

}  // namespace
}  // namespace acrn::dm
