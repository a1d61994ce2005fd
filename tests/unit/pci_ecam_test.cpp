#include <gtest/gtest.h>

#include "dm/devices/hostbridge.hpp"
#include "dm/pci/pci_ecam.hpp"

namespace acrn::dm {
namespace {

constexpr std::uint64_t function_offset(std::uint64_t bus, std::uint64_t device, std::uint64_t function) {
    return bus << 20 | device << 15 | function << 12;
}

class PciEcamTest : public ::testing::Test {
protected:
    PciEcamTest() { EXPECT_TRUE(bus.add(PciAddress{0, 0, 0}, std::make_shared<HostBridge>())); }
    std::uint64_t read(std::uint64_t offset, std::uint32_t size) { return ecam.read(IoAccess{offset, offset, size, 0}); }

    PciBus bus;
    PciEcam ecam{bus};
};

TEST_F(PciEcamTest, ReadsTheFunctionsConfigurationSpace) {
    EXPECT_EQ(read(0, 4), 0x1275'1275u);
    EXPECT_EQ(read(0, 2), 0x1275u);
    EXPECT_EQ(read(0x0B, 1), 0x06u);  // class: bridge
    EXPECT_EQ(read(0, 8), bus.config_read(PciAddress{0, 0, 0}, 0, 4) |
                              std::uint64_t{bus.config_read(PciAddress{0, 0, 0}, 4, 4)} << 32);
}

TEST_F(PciEcamTest, AbsentFunctionsReadAllOnes) {
    EXPECT_EQ(read(function_offset(0, 1, 0), 4), 0xFFFF'FFFFu);
    EXPECT_EQ(read(function_offset(0, 0, 7), 2), 0xFFFFu);
}

TEST_F(PciEcamTest, ReachesTheExtendedConfigurationSpace) {
    // 4 KiB per function; no extended capability: the header at 0x100 is 0.
    EXPECT_EQ(read(0x100, 4), 0u);
    EXPECT_EQ(read(0xFFC, 4), 0u);
    ecam.write(IoAccess{0xFFC, 0xFFC, 4, 0}, 0x1234);  // read-only there
    EXPECT_EQ(read(0xFFC, 4), 0u);
}

TEST_F(PciEcamTest, WritesReachTheFunction) {
    ecam.write(IoAccess{0x04, 0x04, 2, 0}, kCommandMemorySpace);
    EXPECT_EQ(bus.config_read(PciAddress{0, 0, 0}, 0x04, 2) & kCommandMemorySpace, kCommandMemorySpace);
    ecam.write(IoAccess{function_offset(0, 3, 0), function_offset(0, 3, 0), 4, 0}, 0x1234);  // nobody there
}

}  // namespace
}  // namespace acrn::dm
