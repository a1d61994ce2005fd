// The command monitor's socket, on a real AF_UNIX socket and event loop.
#include "dm/monitor/command_monitor.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <nlohmann/json.hpp>

#include "common/unique_fd.hpp"
#include "dm/machine/startup_error.hpp"
#include "dm/monitor/monitor_protocol.hpp"
#include "dm/monitor/vm_events.hpp"

namespace acrn::dm {
namespace {

class CountingTarget final : public MonitorTarget {
public:
    void destroy() override { ++destroyed; }
    void power_off(std::chrono::seconds) override {}
    void pause() override {}
    void resume() override {}
    void suspend() override {}
    void reset() override {}
    void blkrescan(const PciAddress&, const std::string&) override {}
    nlohmann::json query() override { return {{"name", "vm1"}}; }
    nlohmann::json stats() override { return nlohmann::json::object(); }
    int destroyed = 0;
};

class CommandMonitorTest : public ::testing::Test {
protected:
    void SetUp() override {
        char pattern[] = "/tmp/acrn-monitor-XXXXXX";
        ASSERT_NE(::mkdtemp(pattern), nullptr);
        dir_ = pattern;
        path_ = dir_ + "/vm1.socket";
    }
    void TearDown() override {
        ::unlink(path_.c_str());
        ::rmdir(dir_.c_str());
    }

    UniqueFd connect_client() {
        UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        path_.copy(address.sun_path, sizeof(address.sun_path) - 1);
        EXPECT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
        return fd;
    }
    void send_text(const UniqueFd& fd, const std::string& text) {
        ASSERT_EQ(::send(fd.get(), text.data(), text.size(), MSG_NOSIGNAL), static_cast<ssize_t>(text.size()));
    }
    // Runs the loop until `lines` reply lines arrived on `fd` (or 5 s).
    std::string replies(const UniqueFd& fd, int lines) {
        std::string got;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (std::count(got.begin(), got.end(), '\n') < lines && std::chrono::steady_clock::now() < deadline) {
            loop_.run_for(std::chrono::milliseconds(10));
            loop_.restart();
            char buffer[4096];
            const ssize_t n = ::recv(fd.get(), buffer, sizeof buffer, MSG_DONTWAIT);
            if (n > 0) {
                got.append(buffer, static_cast<std::size_t>(n));
            } else if (n == 0) {
                break;
            }
        }
        return got;
    }

    boost::asio::io_context loop_;
    VmEvents events_{loop_, std::chrono::milliseconds(20)};
    CountingTarget target_;
    std::string dir_;
    std::string path_;
};

TEST_F(CommandMonitorTest, ServesSeveralClientsAtOnceEachRequestAnswered) {
    CommandMonitor monitor(loop_, path_, target_, events_);
    struct stat info {};
    ASSERT_EQ(::stat(path_.c_str(), &info), 0);
    EXPECT_TRUE(S_ISSOCK(info.st_mode));
    EXPECT_EQ(info.st_mode & 0777, 0600u) << "only acrn-dm's user (and root) may connect";

    UniqueFd first = connect_client();
    UniqueFd second = connect_client();
    send_text(first, R"({"command":"query","arguments":""})");  // ACRN's form: no newline
    EXPECT_EQ(replies(first, 1), "{\"ack\":0,\"vm\":{\"name\":\"vm1\"}}\n");
    send_text(second, "nonsense\n{\"command\":\"destroy\"}\n");
    EXPECT_EQ(replies(second, 2), "{\"ack\":-1,\"error\":\"not JSON: a request is {\\\"command\\\": \\\"...\\\", "
                                  "\\\"arguments\\\": \\\"...\\\"}\"}\n{\"ack\":0}\n");
    EXPECT_EQ(target_.destroyed, 1);
    send_text(first, std::string(5000, 'x') + "\n{\"command\":\"destroy\"}\n");
    const std::string after_oversized = replies(first, 2);
    EXPECT_NE(after_oversized.find("longer than 4095 bytes"), std::string::npos) << after_oversized;
    EXPECT_NE(after_oversized.find("{\"ack\":0}\n"), std::string::npos) << "the connection stays usable";
    EXPECT_EQ(target_.destroyed, 2);
}

TEST_F(CommandMonitorTest, EveryRegisteredClientGetsTheVmEvents) {
    CommandMonitor monitor(loop_, path_, target_, events_);
    UniqueFd first = connect_client();
    UniqueFd second = connect_client();
    UniqueFd bystander = connect_client();
    send_text(first, "{\"command\":\"register_vm_event_client\"}\n");
    send_text(second, "{\"command\":\"register_vm_event_client\"}\n{\"command\":\"register_vm_event_client\"}\n");
    EXPECT_EQ(replies(first, 1), "{\"ack\":0}\n");
    const std::string twice = replies(second, 2);
    EXPECT_EQ(twice.substr(0, 10), "{\"ack\":0}\n");
    EXPECT_NE(twice.find("\"ack\":-1"), std::string::npos) << "a second registration on one connection: " << twice;

    events_.rtc_changed(1'000'000, 1'000'100);  // set in two steps, one event
    events_.rtc_changed(1'000'100, 1'000'160);
    events_.powered_off();
    const std::string got = replies(first, 2);
    EXPECT_NE(got.find("{\"vm_event\":1}\n"), std::string::npos) << got;
    EXPECT_NE(got.find("{\"delta_time\":160,\"last_time\":1000000,\"vm_event\":0}\n"), std::string::npos) << got;
    EXPECT_EQ(replies(second, 2).size(), got.size()) << "the second client got them too";

    second.reset();  // a client that goes away is dropped; the others go on
    loop_.run_for(std::chrono::milliseconds(20));
    loop_.restart();
    events_.triple_fault();
    EXPECT_EQ(replies(first, 1), "{\"vm_event\":2}\n");
    EXPECT_EQ(replies(bystander, 1), "") << "only registered clients get events";
}

TEST_F(CommandMonitorTest, EventsFlushedAfterTheLoopStoppedAllGoOut) {
    CommandMonitor monitor(loop_, path_, target_, events_);
    UniqueFd client = connect_client();
    send_text(client, "{\"command\":\"register_vm_event_client\"}\n");
    ASSERT_EQ(replies(client, 1), "{\"ack\":0}\n");
    // A triple fault powers the VM off: the loop has stopped when the stop
    // path flushes the events, and no handler runs again.
    events_.triple_fault();
    events_.powered_off();
    events_.flush();
    std::string got;
    char buffer[256];
    for (ssize_t n; (n = ::recv(client.get(), buffer, sizeof buffer, MSG_DONTWAIT)) > 0;) {
        got.append(buffer, static_cast<std::size_t>(n));
    }
    EXPECT_EQ(got, "{\"vm_event\":2}\n{\"vm_event\":1}\n");
}

TEST_F(CommandMonitorTest, ReplacesAStaleSocketAndRemovesItsOwnAtTheEnd) {
    { CommandMonitor first(loop_, path_, target_, events_); }
    EXPECT_NE(::access(path_.c_str(), F_OK), 0) << "removed when the monitor ends";
    // A socket file left by a process that died.
    UniqueFd stale(::socket(AF_UNIX, SOCK_STREAM, 0));
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    path_.copy(address.sun_path, sizeof(address.sun_path) - 1);
    ASSERT_EQ(::bind(stale.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    stale.reset();
    CommandMonitor monitor(loop_, path_, target_, events_);
    UniqueFd client = connect_client();
    send_text(client, "{\"command\":\"destroy\"}\n");
    EXPECT_EQ(replies(client, 1), "{\"ack\":0}\n");
}

TEST_F(CommandMonitorTest, RefusesAPathThatIsNotASocketOrTooLong) {
    std::ofstream(path_) << "not a socket";
    try {
        CommandMonitor monitor(loop_, path_, target_, events_);
        FAIL() << "a regular file was replaced";
    } catch (const StartupError& error) {
        EXPECT_NE(std::string(error.what()).find("exists and is not a socket"), std::string::npos) << error.what();
    }
    std::ifstream kept(path_);
    std::string content;
    std::getline(kept, content);
    EXPECT_EQ(content, "not a socket") << "the file is left alone";
    EXPECT_THROW(CommandMonitor(loop_, dir_ + "/" + std::string(120, 'p'), target_, events_), StartupError);
}

}  // namespace
}  // namespace acrn::dm
