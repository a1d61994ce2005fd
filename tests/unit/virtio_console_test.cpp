// virtio-console with recording back ends: the port syntax, the multiport
// handshake a Linux driver makes, and bytes both ways.
#include <gtest/gtest.h>

#include "dm/virtio/virtio_console.hpp"
#include "tests/unit/virtio_test_driver.hpp"

namespace acrn::dm {
namespace {

using test_support::VirtioTestDriver;
using namespace virtio;

constexpr std::uint64_t kConsoleFeatures = feature::version_1 | feature::event_idx | (1ull << 1);

struct Message {
    std::uint32_t id;
    std::uint16_t event;
    std::uint16_t value;
};

class VirtioConsoleTest : public ::testing::Test {
protected:
    void create(unsigned ports, std::uint64_t features = kConsoleFeatures) {
        std::vector<VirtioConsole::Port> list;
        for (unsigned i = 0; i < ports; ++i) {
            auto backend = std::make_unique<RecordingBackend>();
            backends_.push_back(backend.get());
            ConsolePortSpec spec{i == 0, "p" + std::to_string(i), {}};
            list.push_back({spec, std::move(backend)});
        }
        console_ = std::make_shared<VirtioConsole>(driver_.context(), std::move(list));
        driver_.attach(console_);
        driver_.initialize(features);
    }
    // Gives the device `count` 64-byte buffers on `queue`, at `base`.
    void offer_buffers(unsigned queue, std::uint64_t base, int count) {
        for (int i = 0; i < count; ++i) {
            driver_.add_chain(queue, {{base + 64ull * i, 64, true}});
        }
        driver_.kick(queue);
        driver_.run_loop();
    }
    void send_control(Message message) {
        static std::uint64_t slot = 0;
        const std::uint64_t at = VirtioTestDriver::kBuffers + 0x8000 + 16 * (slot++ % 64);
        ASSERT_TRUE(driver_.memory.write(at, &message, sizeof message));
        driver_.add_chain(3, {{at, sizeof message, false}});
        driver_.kick(3);
        driver_.run_loop();
    }
    std::vector<Message> control_received(std::uint64_t base) {
        std::vector<Message> messages;
        for (unsigned i = 0; i < driver_.used_idx(2); ++i) {
            const auto [head, length] = driver_.used_element(2, i);
            Message message{};
            EXPECT_GE(length, sizeof message);
            EXPECT_TRUE(driver_.memory.read(base + 64ull * i, &message, sizeof message));
            messages.push_back(message);
        }
        return messages;
    }

    VirtioTestDriver driver_;
    std::vector<RecordingBackend*> backends_;
    std::shared_ptr<VirtioConsole> console_;
};

TEST_F(VirtioConsoleTest, PortSyntax) {
    const auto ports = parse_console_ports("@stdio:stdio_port,socket:sock=/tmp/s:client,file:log=/tmp/f,pty");
    ASSERT_EQ(ports.size(), 4u);
    EXPECT_TRUE(ports[0].console);
    EXPECT_EQ(ports[0].name, "stdio_port");
    EXPECT_EQ(ports[1].backend.kind, SerialBackendSpec::Kind::unix_socket);
    EXPECT_EQ(ports[1].backend.path, "/tmp/s");
    EXPECT_FALSE(ports[1].backend.server);
    EXPECT_EQ(ports[2].backend.kind, SerialBackendSpec::Kind::file);
    EXPECT_EQ(ports[3].name, "port3");
    for (const char* bad : {"", "socket:s", "file:f", "tcp:x", "stdio:a:server", "pty:a,pty:a", "stdio:x=/p"}) {
        EXPECT_NE(VirtioConsole::check_config(bad), "") << bad;
    }
    EXPECT_EQ(VirtioConsole::check_config("@pty:hvc"), "");
}

TEST_F(VirtioConsoleTest, MultiportHandshakeAndDataBothWays) {
    create(2);
    EXPECT_EQ(driver_.bar_read(common_cfg::num_queues, 2), 6u);
    constexpr std::uint64_t kControlIn = VirtioTestDriver::kBuffers;
    offer_buffers(2, kControlIn, 12);
    send_control({0xFFFFFFFF, 0, 1});  // DEVICE_READY
    auto messages = control_received(kControlIn);
    ASSERT_EQ(messages.size(), 2u);
    EXPECT_EQ(messages[0].event, 1);  // DEVICE_ADD port 0
    EXPECT_EQ(messages[1].id, 1u);
    send_control({0, 3, 1});  // PORT_READY 0
    messages = control_received(kControlIn);
    ASSERT_EQ(messages.size(), 5u);
    EXPECT_EQ(messages[2].event, 4) << "port 0 is a console";
    EXPECT_EQ(messages[3].event, 7) << "its name";
    char name[3] = {};
    ASSERT_TRUE(driver_.memory.read(kControlIn + 64 * 3 + 8, name, 2));
    EXPECT_STREQ(name, "p0");
    EXPECT_EQ(messages[4].event, 6) << "the host end is open";
    send_control({1, 3, 1});
    EXPECT_EQ(control_received(kControlIn).size(), 7u) << "port 1: name and open, not a console";

    // Guest to host on port 1's transmit queue (5).
    const char text[] = "hello";
    ASSERT_TRUE(driver_.memory.write(VirtioTestDriver::kBuffers + 0x4000, text, 5));
    driver_.add_chain(5, {{VirtioTestDriver::kBuffers + 0x4000, 5, false}});
    driver_.kick(5);
    driver_.run_loop();
    EXPECT_EQ(std::string(backends_[1]->output.begin(), backends_[1]->output.end()), "hello");
    EXPECT_TRUE(backends_[0]->output.empty());

    // Host to guest on port 0: held until the driver gives buffers.
    const std::uint8_t typed[] = {'l', 's', '\n'};
    backends_[0]->input(typed);
    EXPECT_EQ(driver_.used_idx(0), 0);
    offer_buffers(0, VirtioTestDriver::kBuffers + 0x6000, 1);
    ASSERT_EQ(driver_.used_idx(0), 1);
    EXPECT_EQ(driver_.used_element(0, 0).second, 3u);
    char got[4] = {};
    ASSERT_TRUE(driver_.memory.read(VirtioTestDriver::kBuffers + 0x6000, got, 3));
    EXPECT_STREQ(got, "ls\n");
}

TEST_F(VirtioConsoleTest, InputBeyondTheLimitIsDroppedAndCounted) {
    create(1);
    std::vector<std::uint8_t> flood(VirtioConsole::kInputLimit + 100, 'x');
    backends_[0]->input(flood);
    EXPECT_EQ(console_->input_dropped(), 100u);
}

TEST_F(VirtioConsoleTest, WithoutMultiportPortZeroStillWorks) {
    create(1, feature::version_1);
    const char text[] = "boot";
    ASSERT_TRUE(driver_.memory.write(VirtioTestDriver::kBuffers, text, 4));
    driver_.add_chain(1, {{VirtioTestDriver::kBuffers, 4, false}});
    driver_.kick(1);
    driver_.run_loop();
    EXPECT_EQ(std::string(backends_[0]->output.begin(), backends_[0]->output.end()), "boot");
}

}  // namespace
}  // namespace acrn::dm
