// The command monitor's protocol: framing, every request answered, the
// commands reaching their target.
#include "dm/monitor/monitor_protocol.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>
#include <nlohmann/json.hpp>

namespace acrn::dm {
namespace {

using nlohmann::json;

class RecordingTarget final : public MonitorTarget {
public:
    void destroy() override { calls.push_back("destroy"); }
    void power_off(std::chrono::seconds deadline) override {
        if (!acpi) {
            throw MonitorError("no power button");
        }
        calls.push_back("power_off " + std::to_string(deadline.count()));
    }
    void pause() override { calls.push_back("pause"); }
    void resume() override { throw MonitorError("the VM is not paused"); }
    void suspend() override { throw MonitorError("the guest has not enabled ACPI's sleep button"); }
    void reset() override { calls.push_back("reset"); }
    void blkrescan(const PciAddress& address, const std::string& path) override {
        if (path == "/missing.img") {
            throw MonitorError("blkrescan: cannot open /missing.img");
        }
        calls.push_back("blkrescan " + address.text() + " " + path);
    }
    json query() override { return {{"name", "vm1"}}; }
    json stats() override { throw std::runtime_error("counters gone"); }

    std::vector<std::string> calls;
    bool acpi = true;
};

class RecordingConnection final : public MonitorConnection {
public:
    void take_vm_events() override {
        if (events) {
            throw MonitorError("taken already");
        }
        events = true;
    }
    bool events = false;
};

json answer(const std::string& request, MonitorTarget& target) {
    RecordingConnection connection;
    const std::string reply = answer_request(request, target, connection);
    EXPECT_EQ(reply.back(), '\n') << "one line per reply";
    EXPECT_EQ(reply.find('\n'), reply.size() - 1) << "one line per reply";
    return json::parse(reply);
}

TEST(MonitorProtocolTest, AcrnsRequestsAreAckedAndReachTheTarget) {
    RecordingTarget target;
    EXPECT_EQ(answer(R"({"command":"destroy","arguments":""})", target), json({{"ack", 0}}));
    EXPECT_EQ(answer(R"({"command":"pause"})", target), json({{"ack", 0}}));
    EXPECT_EQ(answer(R"({"command":"reset","arguments":null})", target), json({{"ack", 0}}));
    EXPECT_EQ(target.calls, (std::vector<std::string>{"destroy", "pause", "reset"}));
    EXPECT_EQ(answer(R"({"command":"query"})", target), json({{"ack", 0}, {"vm", {{"name", "vm1"}}}}));
}

TEST(MonitorProtocolTest, PowerOffTakesADeadlineInSeconds) {
    RecordingTarget target;
    EXPECT_EQ(answer(R"({"command":"poweroff"})", target), json({{"ack", 0}, {"deadline_s", 60}}));
    EXPECT_EQ(answer(R"({"command":"poweroff","arguments":"15"})", target), json({{"ack", 0}, {"deadline_s", 15}}));
    EXPECT_EQ(target.calls, (std::vector<std::string>{"power_off 60", "power_off 15"}));
    for (const char* bad : {"0", "3601", "-1", "ten", "99999"}) {
        const json reply = answer(std::string(R"({"command":"poweroff","arguments":")") + bad + "\"}", target);
        EXPECT_EQ(reply["ack"], -1) << bad;
        EXPECT_NE(reply["error"].get<std::string>().find("poweroff"), std::string::npos) << bad;
    }
    target.acpi = false;
    EXPECT_EQ(answer(R"({"command":"poweroff"})", target), json({{"ack", -1}, {"error", "no power button"}}));
}

TEST(MonitorProtocolTest, EveryBadRequestGetsAnErrorReply) {
    RecordingTarget target;
    const std::vector<std::string> bad = {
        "garbage", "[1,2]", R"({"arguments":""})", R"({"command":5})", R"({"command":"destroy","arguments":7})",
        R"({"command":"destroy","arguments":")" + std::string(320, 'x') + "\"}", R"({"command":"explode"})",
        R"({"command":"blkrescan","arguments":"3"})", R"({"command":"blkrescan","arguments":"32,/a.img"})",
        R"({"command":"blkrescan","arguments":"x,/a.img"})", R"({"command":"blkrescan","arguments":"3,"})",
        R"({"command":"blkrescan","arguments":"3,nodisk"})", R"({"command":"blkrescan","arguments":"3,/missing.img"})",
        R"({"command":"resume"})", R"({"command":"suspend"})", R"({"command":"stats"})", "",
    };
    for (const std::string& request : bad) {
        const json reply = answer(request, target);
        EXPECT_EQ(reply["ack"], -1) << request;
        EXPECT_FALSE(reply["error"].get<std::string>().empty()) << request;
    }
    EXPECT_TRUE(target.calls.empty()) << "nothing reached the target";
    const json unknown = answer(R"({"command":"explode"})", target);
    EXPECT_NE(unknown["error"].get<std::string>().find("destroy"), std::string::npos) << "lists the commands";
    EXPECT_EQ(answer(R"({"command":"stats"})", target)["error"], "stats failed: counters gone");
}

TEST(MonitorProtocolTest, FramerCutsAtNewlinesAndAtWholeUndelimitedObjects) {
    RequestFramer framer;
    auto requests = framer.feed("{\"command\":\"query\"}\n{\"comm");
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(requests[0].text, "{\"command\":\"query\"}");
    requests = framer.feed("and\":\"pause\"}");  // ACRN's clients: no newline, one object a message
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(requests[0].text, "{\"command\":\"pause\"}");
    requests = framer.feed("\r\n\n  \nnot json\r\n");
    ASSERT_EQ(requests.size(), 1u) << "blank lines are skipped, a bad line is still a request (it gets an error)";
    EXPECT_EQ(requests[0].text, "not json");
    EXPECT_FALSE(requests[0].oversized);
}

TEST(MonitorProtocolTest, FramerDropsAnOversizedRequestAndKeepsGoing) {
    RequestFramer framer;
    std::vector<RequestFramer::Request> requests;
    const std::string chunk(1000, 'x');
    for (int i = 0; i < 5; ++i) {
        for (auto& request : framer.feed(chunk)) {
            requests.push_back(std::move(request));
        }
    }
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_TRUE(requests[0].oversized);
    requests = framer.feed(chunk + "\n{\"command\":\"query\"}\n");
    ASSERT_EQ(requests.size(), 1u) << "the rest of the oversized line is dropped";
    EXPECT_EQ(requests[0].text, "{\"command\":\"query\"}");
    requests = framer.feed(std::string(RequestFramer::kMaxRequest + 1, 'y') + "\n");
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_TRUE(requests[0].oversized);
    EXPECT_EQ(json::parse(oversized_reply())["ack"], -1);
}

}  // namespace
}  // namespace acrn::dm

namespace acrn::dm {
namespace {

TEST(MonitorProtocolTest, BlkrescanTakesASlotAndAPath) {
    RecordingTarget target;
    EXPECT_EQ(answer(R"({"command":"blkrescan","arguments":"3,/tmp/disk.img"})", target),
              json({{"ack", 0}, {"slot", "0:3.0"}, {"path", "/tmp/disk.img"}}));
    EXPECT_EQ(answer(R"({"command":"blkrescan","arguments":"0:4:1,/a,b.img"})", target),
              json({{"ack", 0}, {"slot", "0:4.1"}, {"path", "/a,b.img"}}));
    EXPECT_EQ(target.calls, (std::vector<std::string>{"blkrescan 0:3.0 /tmp/disk.img", "blkrescan 0:4.1 /a,b.img"}));
}

TEST(MonitorProtocolTest, AConnectionTakesTheVmEventsOnce) {
    RecordingTarget target;
    RecordingConnection connection;
    const auto ask = [&](const char* request) { return json::parse(answer_request(request, target, connection)); };
    EXPECT_EQ(ask(R"({"command":"register_vm_event_client"})"), json({{"ack", 0}}));
    EXPECT_TRUE(connection.events);
    const json again = ask(R"({"command":"register_vm_event_client"})");
    EXPECT_EQ(again["ack"], -1);
    EXPECT_EQ(again["error"], "taken already");
}

}  // namespace
}  // namespace acrn::dm
