#include <gtest/gtest.h>

#include "dm/devices/debug_exit.hpp"

namespace acrn::dm {
namespace {

class RecordingPower final : public PowerControl {
public:
    void request_power_off(int exit_status, const std::string& reason) override {
        statuses.push_back(exit_status);
        last_reason = reason;
    }
    void request_reset(const std::string& reason) override {
        ++resets;
        last_reason = reason;
    }
    std::vector<int> statuses;
    int resets = 0;
    std::string last_reason;
};

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
