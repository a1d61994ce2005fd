#include <gtest/gtest.h>

#include "dm/devices/hostbridge.hpp"
#include "dm/devices/testdev.hpp"
#include "dm/pci/pci_bus.hpp"
#include "tests/unit/device_test_support.hpp"

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
    EXPECT_EQ(bridge.config_read(0x1000, 4), 0xFFFF'FFFFu);
    EXPECT_EQ(bridge.config_read(0x100, 4), 0u);  // the extended space: no extended capabilities
    EXPECT_EQ(bridge.config_read(0, 3), 0xFFFF'FFFFu);
}

class PciBarTest : public ::testing::Test {
protected:
    std::shared_ptr<TestDevice> attached_testdev(std::uint64_t io_base, std::uint64_t memory_base = 0xC000'0000) {
        auto device = std::make_shared<TestDevice>(power_);
        device->place_bar(0, memory_base);
        device->place_bar(1, io_base);
        device->attach(pio_, mmio_);
        return device;
    }

    test_support::RecordingPower power_;
    AddressBus pio_{"PIO"};
    AddressBus mmio_{"MMIO"};
};

TEST_F(PciBarTest, BarSizingFollowsTheSpec) {
    auto device = attached_testdev(0x2000);
    device->config_write(0x10, 4, 0xFFFF'FFFF);
    EXPECT_EQ(device->config_read(0x10, 4), 0xFFFF'F000u);  // 4 KiB, 32-bit memory
    device->config_write(0x14, 4, 0xFFFF'FFFF);
    EXPECT_EQ(device->config_read(0x14, 4), 0xFFFF'FF01u);  // 256 bytes, I/O
    device->config_write(0x20, 4, 0xFFFF'FFFF);
    EXPECT_EQ(device->config_read(0x20, 4), 0xFFFF'F004u);  // 4 KiB, 64-bit memory: low half
    device->config_write(0x24, 4, 0xFFFF'FFFF);
    EXPECT_EQ(device->config_read(0x24, 4), 0xFFFF'FFFFu);  // and its high half
    HostBridge bridge;
    bridge.config_write(0x18, 4, 0xFFFF'FFFF);
    EXPECT_EQ(bridge.config_read(0x18, 4), 0u);  // unimplemented BAR

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

// Found from outside: with decoding on, a BAR moved onto another device's
// range is refused; once the other device moves away, the first must decode
// at once, not only after its own registers are written again.
TEST_F(PciBarTest, ARefusedBarIsMappedOnceItsRangeIsFree) {
    PciBus bus;
    const PciAddress a{0, 3, 0};
    const PciAddress b{0, 4, 0};
    ASSERT_TRUE(bus.add(a, attached_testdev(0x2000, 0xC000'0000)));
    ASSERT_TRUE(bus.add(b, attached_testdev(0x2100, 0xC000'1000)));
    bus.config_write(a, 0x04, 2, kCommandMemorySpace);
    bus.config_write(b, 0x04, 2, kCommandMemorySpace);
    const auto write32 = [this](std::uint64_t address, std::uint32_t value) {
        const auto target = mmio_.resolve(address, 4);
        ASSERT_TRUE(target);
        target->device->write(IoAccess{address, address - target->base, 4, 0}, value);
    };
    const auto read32 = [this](std::uint64_t address) -> std::uint64_t {
        const auto target = mmio_.resolve(address, 4);
        return target ? target->device->read(IoAccess{address, address - target->base, 4, 0}) : 0xFFFF'FFFFu;
    };
    write32(0xC000'0000, 0xAAAA'AAAA);  // A's storage
    write32(0xC000'1000, 0xBBBB'BBBB);  // B's storage
    bus.config_write(a, 0x10, 4, 0xC000'1000);  // A onto B's BAR0: refused, B keeps the range
    EXPECT_EQ(read32(0xC000'1000), 0xBBBB'BBBBu);
    EXPECT_EQ(read32(0xC000'0000), 0xFFFF'FFFFu);  // A left its old place
    bus.config_write(b, 0x10, 4, 0xC000'2000);  // B moves away
    EXPECT_EQ(read32(0xC000'2000), 0xBBBB'BBBBu);
    EXPECT_EQ(read32(0xC000'1000), 0xAAAA'AAAAu);  // A decodes where the guest put it
}

}  // namespace
}  // namespace acrn::dm

namespace acrn::dm {
namespace {

// A function whose capabilities fill configuration space up to 0x100.
class CapabilityFiller final : public PciDevice {
public:
    CapabilityFiller() : PciDevice("filler", PciIds{.vendor = 0x1234, .device = 0x5678, .class_code = 0xFF, .subclass = 0}) {}
    using PciDevice::add_capability;

private:
    std::uint64_t bar_read(int, const IoAccess& access) override { return all_ones(access.size); }
    void bar_write(int, const IoAccess&, std::uint64_t) override {}
};

TEST(PciCapabilityTest, AFullListRefusesMoreWithoutOverwritingTheHeader) {
    CapabilityFiller device;
    EXPECT_EQ(device.add_capability(0x09, 0x60), 0x40);
    EXPECT_EQ(device.add_capability(0x09, 0x60), 0xA0);  // ends exactly at 0x100
    EXPECT_THROW(device.add_capability(0x09, 4), std::logic_error);
    EXPECT_EQ(device.config_read(0, 4), 0x5678'1234u);  // the header is intact
    EXPECT_EQ(device.config_read(0x34, 1), 0x40u);
    EXPECT_EQ(device.config_read(0x41, 1), 0xA0u);
    EXPECT_EQ(device.config_read(0xA1, 1), 0u);
}

}  // namespace
}  // namespace acrn::dm
