// The command monitor's protocol on arbitrary bytes: a client's stream cut
// into requests (in pieces the input chooses), each answered with one line
// of JSON, against a target whose commands succeed or fail.
#include <string>
#include <string_view>
#include <nlohmann/json.hpp>

#include "dm/monitor/monitor_protocol.hpp"
#include "tests/fuzz/fuzz_targets.hpp"

namespace acrn::fuzz {
namespace {

class FuzzTarget final : public dm::MonitorTarget {
public:
    explicit FuzzTarget(bool fail) : fail_(fail) {}
    void destroy() override { maybe_fail(); }
    void power_off(std::chrono::seconds) override { maybe_fail(); }
    void pause() override { maybe_fail(); }
    void resume() override { maybe_fail(); }
    void suspend() override { maybe_fail(); }
    void reset() override { maybe_fail(); }
    void blkrescan(const dm::PciAddress&, const std::string&) override { maybe_fail(); }
    nlohmann::json query() override {
        maybe_fail();
        return {{"name", "fuzz"}};
    }
    nlohmann::json stats() override {
        maybe_fail();
        return nlohmann::json::object();
    }

private:
    void maybe_fail() const {
        if (fail_) {
            throw dm::MonitorError("refused");
        }
    }
    bool fail_;
};

class FuzzConnection final : public dm::MonitorConnection {
public:
    void take_vm_events() override {
        if (taken_) {
            throw dm::MonitorError("taken already");
        }
        taken_ = true;
    }

private:
    bool taken_ = false;
};

}  // namespace

int monitor_protocol(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    FuzzTarget target(data[0] & 1);
    FuzzConnection connection;
    dm::RequestFramer framer;
    std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
    // The first byte also sets how the stream arrives: in pieces of 1 to 128 bytes.
    const std::size_t piece = 1 + (data[0] >> 1);
    while (!bytes.empty()) {
        const std::string_view chunk = bytes.substr(0, piece);
        bytes.remove_prefix(chunk.size());
        for (const dm::RequestFramer::Request& request : framer.feed(chunk)) {
            const std::string reply = request.oversized ? dm::oversized_reply() : dm::answer_request(request.text, target, connection);
            if (reply.empty() || reply.back() != '\n' || !nlohmann::json::accept(reply.substr(0, reply.size() - 1))) {
                __builtin_trap();  // every request gets one line of JSON
            }
        }
    }
    return 0;
}

}  // namespace acrn::fuzz
