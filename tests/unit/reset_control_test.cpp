// The 0xCF9 reset control register driven as the ioreq loop drives it.
#include "dm/devices/reset_control.hpp"

#include <gtest/gtest.h>

#include "device_test_support.hpp"

namespace acrn::dm {
namespace {

using test_support::RecordingPower;

class ResetControlTest : public ::testing::Test {
protected:
    std::uint64_t in() { return device_.read(IoAccess{ResetControl::kPort, 0, 1, 0}); }
    void out(std::uint8_t value) { device_.write(IoAccess{ResetControl::kPort, 0, 1, 0}, value); }

    RecordingPower power_;
    ResetControl device_{power_};
};

TEST_F(ResetControlTest, LinuxSequenceResetsOnce) {
    out(0x02);  // SYS_RST: stored, no reset yet
    EXPECT_EQ(power_.resets, 0);
    EXPECT_EQ(in(), 0x02u);
    out(0x06);
    EXPECT_EQ(power_.resets, 1);
    EXPECT_NE(power_.last_reason.find("0xCF9"), std::string::npos);
    EXPECT_EQ(power_.last_reason.find("full"), std::string::npos);
    EXPECT_EQ(in(), 0x06u);
    EXPECT_TRUE(power_.statuses.empty());
}

TEST_F(ResetControlTest, FullResetIsNamed) {
    out(0x0E);
    EXPECT_EQ(power_.resets, 1);
    EXPECT_NE(power_.last_reason.find("0xCF9"), std::string::npos);
    EXPECT_NE(power_.last_reason.find("full"), std::string::npos);
}

TEST_F(ResetControlTest, OnlyBitsOneToThreeAreKept) {
    out(0xF1);  // RST_CPU clear
    EXPECT_EQ(power_.resets, 0);
    EXPECT_EQ(in(), 0x00u);
    out(0x08);
    EXPECT_EQ(in(), 0x08u);
    EXPECT_EQ(power_.resets, 0);
}

TEST_F(ResetControlTest, HostileAccessesAreIgnored) {
    device_.write(IoAccess{ResetControl::kPort, 0, 2, 0}, 0x0606);
    device_.write(IoAccess{ResetControl::kPort + 1u, 1, 1, 0}, 0x06);
    device_.write(IoAccess{ResetControl::kPort, 0, 4, 0}, 0x06);
    EXPECT_EQ(power_.resets, 0);
    EXPECT_EQ(device_.read(IoAccess{ResetControl::kPort, 0, 4, 0}), 0xFFFF'FFFFu);
    EXPECT_EQ(device_.read(IoAccess{ResetControl::kPort + 5u, 5, 1, 0}), 0xFFu);
    EXPECT_EQ(in(), 0x00u);
}

}  // namespace
}  // namespace acrn::dm
