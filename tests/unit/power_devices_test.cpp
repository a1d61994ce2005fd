#include <gtest/gtest.h>

#include "dm/devices/debug_exit.hpp"
#include "tests/unit/device_test_support.hpp"

namespace acrn::dm {
namespace {

using test_support::RecordingPower;

TEST(DebugExitTest, ExitStatusIsValueShiftedOrOne) {
    RecordingPower power;
    DebugExit device(power);
    device.write(IoAccess{0xF4, 0, 1, 0}, 0);
    device.write(IoAccess{0xF4, 0, 4, 0}, 5);
    device.write(IoAccess{0xF4, 0, 1, 0}, 0x80);
    EXPECT_EQ(power.statuses, (std::vector<int>{1, 11, 1}));
    EXPECT_EQ(device.read(IoAccess{0xF4, 0, 2, 0}), 0xFFFFu);
    device.write(IoAccess{0xF5, 1, 1, 0}, 3);  // not the value port
    EXPECT_EQ(power.statuses.size(), 3u);
}

}  // namespace
}  // namespace acrn::dm
