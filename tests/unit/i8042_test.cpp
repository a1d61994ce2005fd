// The i8042 with nothing attached, driven as the ioreq loop drives it.
#include "dm/devices/i8042.hpp"

#include <gtest/gtest.h>

#include "device_test_support.hpp"

namespace acrn::dm {
namespace {

using test_support::RecordingPower;

class I8042Test : public ::testing::Test {
protected:
    std::uint8_t in(std::uint16_t port) { return static_cast<std::uint8_t>(controller_.read(IoAccess{port, 0, 1, 0})); }
    std::uint8_t status() { return in(I8042::kCommandPort); }
    std::uint8_t data() { return in(I8042::kDataPort); }
    void command(std::uint8_t value) { controller_.write(IoAccess{I8042::kCommandPort, 0, 1, 0}, value); }
    void send(std::uint8_t value) { controller_.write(IoAccess{I8042::kDataPort, 0, 1, 0}, value); }
    std::uint8_t command_byte() {
        command(0x20);
        EXPECT_EQ(status() & I8042::kOutputFull, I8042::kOutputFull);
        return data();
    }

    RecordingPower power_;
    I8042 controller_{power_};
};

TEST_F(I8042Test, SelfTestPassesAndSetsTheSystemFlag) {
    EXPECT_EQ(status() & (I8042::kOutputFull | I8042::kInputFull | I8042::kSystemFlag), 0);
    command(0xAA);
    EXPECT_EQ(status() & (I8042::kOutputFull | I8042::kSystemFlag | I8042::kLastWasCommand),
              I8042::kOutputFull | I8042::kSystemFlag | I8042::kLastWasCommand);
    EXPECT_EQ(data(), 0x55);
    EXPECT_EQ(status() & I8042::kOutputFull, 0);
    EXPECT_EQ(status() & I8042::kInputFull, 0);
}

TEST_F(I8042Test, InterfaceTestsPass) {
    command(0xAB);
    EXPECT_EQ(data(), 0x00);
    command(0xA9);
    EXPECT_EQ(status() & I8042::kOutputFull, I8042::kOutputFull);
    EXPECT_EQ(data(), 0x00);
}

TEST_F(I8042Test, CommandByteRoundTrips) {
    EXPECT_EQ(command_byte(), I8042::kKeyboardDisabled | I8042::kAuxDisabled);
    command(0x60);
    send(0x47);
    EXPECT_EQ(status() & I8042::kLastWasCommand, 0);
    EXPECT_EQ(status() & I8042::kTimeout, 0);  // the byte went to the controller
    EXPECT_EQ(status() & I8042::kSystemFlag, I8042::kSystemFlag);  // bit 2 of the command byte
    EXPECT_EQ(command_byte(), 0x47);
    command(0xAD);
    EXPECT_EQ(command_byte(), 0x47 | I8042::kKeyboardDisabled);
    command(0xAE);
    command(0xA7);
    EXPECT_EQ(command_byte(), 0x47 | I8042::kAuxDisabled);
    command(0xA8);
    EXPECT_EQ(command_byte(), 0x47);
}

TEST_F(I8042Test, PulseResetCommandResets) {
    command(0xFF);  // pulses nothing
    EXPECT_EQ(power_.resets, 0);
    command(0xFE);
    EXPECT_EQ(power_.resets, 1);
    EXPECT_NE(power_.last_reason.find("i8042"), std::string::npos);
}

TEST_F(I8042Test, OutputPortWithResetLineLowResets) {
    command(0xD0);
    const std::uint8_t port = data();
    EXPECT_EQ(port & 0x01, 0x01);
    command(0xD1);
    send(0x03);  // reset line high, A20 on: nothing happens
    EXPECT_EQ(power_.resets, 0);
    command(0xD0);
    EXPECT_EQ(data(), 0x03);
    command(0xD1);
    send(0x02);
    EXPECT_EQ(power_.resets, 1);
}

TEST_F(I8042Test, ByteForTheAbsentKeyboardTimesOut) {
    send(0xF2);  // identify keyboard
    EXPECT_EQ(status() & I8042::kTimeout, I8042::kTimeout);
    EXPECT_EQ(status() & I8042::kOutputFull, 0);
    command(0xAA);  // a new command starts afresh
    EXPECT_EQ(status() & I8042::kTimeout, 0);
    EXPECT_EQ(data(), 0x55);
}

TEST_F(I8042Test, UnknownCommandsAreIgnored) {
    command(0xC0);
    EXPECT_EQ(status() & I8042::kOutputFull, 0);
    send(0x12);  // no command waits for it
    EXPECT_EQ(status() & I8042::kTimeout, I8042::kTimeout);
    EXPECT_EQ(power_.resets, 0);
}

TEST_F(I8042Test, EmptyOutputBufferRereadsTheLastByte) {
    command(0xAA);
    EXPECT_EQ(data(), 0x55);
    EXPECT_EQ(data(), 0x55);
    EXPECT_EQ(status() & I8042::kOutputFull, 0);
}

TEST_F(I8042Test, HostileAccessesAreIgnored) {
    controller_.write(IoAccess{I8042::kCommandPort, 0, 2, 0}, 0xFEFE);
    controller_.write(IoAccess{I8042::kCommandPort, 0, 4, 0}, 0xFE);
    controller_.write(IoAccess{I8042::kCommandPort + 1u, 1, 1, 0}, 0xFE);
    EXPECT_EQ(power_.resets, 0);
    EXPECT_EQ(controller_.read(IoAccess{I8042::kDataPort, 0, 2, 0}), 0xFFFFu);
    EXPECT_EQ(controller_.read(IoAccess{I8042::kDataPort + 3u, 3, 1, 0}), 0xFFu);
}

}  // namespace
}  // namespace acrn::dm
