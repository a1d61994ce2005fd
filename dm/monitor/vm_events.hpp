// VM events for the command monitor's `register_vm_event_client` clients,
// as ACRN sends them: one JSON object per event, `{"vm_event": <type>, ...}`
// with type 0 an RTC change (`delta_time`, `last_time`), 1 a power-off and
// 2 a triple fault. As in ACRN, each type is sent at most once a second
// (the rest are dropped and counted), and an RTC change is sent only once
// the guest has stopped writing the clock for a while (a guest sets the
// date and the time register by register), with the deltas summed.
//
// Devices and the vCPU-facing paths report from any thread; the events are
// sent on the main thread, from the event loop or from flush(), which the
// VM's stop path calls so that a power-off is sent before acrn-dm exits.
// Unlike ACRN, any number of connections may take the events.
#pragma once

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/log.hpp"

namespace acrn::dm {

enum class VmEventType : int { rtc_change = 0, power_off = 1, triple_fault = 2 };
inline constexpr int kVmEventTypes = 3;

// What devices and the VM's life cycle report; thread-safe.
class VmEventReporter {
public:
    virtual ~VmEventReporter() = default;
    // The guest set its RTC from `old_time` to `new_time` (seconds since the
    // Unix epoch, as the guest's clock counts).
    virtual void rtc_changed(std::int64_t old_time, std::int64_t new_time) = 0;
    virtual void powered_off() = 0;
    virtual void triple_fault() = 0;
};

class VmEvents final : public VmEventReporter {
public:
    static constexpr std::chrono::milliseconds kRtcSettleTime{1000};  // ACRN's RTC_CHG_WAIT_TIME

    // A subscriber is handed each event as one line ending in '\n'.
    using Sink = std::function<void(const std::string& line)>;
    using SubscriptionId = std::uint64_t;

    explicit VmEvents(boost::asio::io_context& loop, std::chrono::milliseconds rtc_settle_time = kRtcSettleTime);
    VmEvents(const VmEvents&) = delete;
    VmEvents& operator=(const VmEvents&) = delete;
    ~VmEvents() override;

    // Main thread.
    [[nodiscard]] SubscriptionId subscribe(Sink sink);
    void unsubscribe(SubscriptionId id);
    // Sends what has been reported, an RTC change still settling included.
    void flush();

    void rtc_changed(std::int64_t old_time, std::int64_t new_time) override;
    void powered_off() override;
    void triple_fault() override;

    // Events dropped by the once-a-second limit, by type.
    [[nodiscard]] std::uint64_t dropped(VmEventType type) const;

private:
    struct Event {
        VmEventType type;
        std::int64_t delta_time = 0;
        std::int64_t last_time = 0;
    };
    void report(Event event);
    void send_queued();
    void send(const Event& event);
    void rtc_settled();

    boost::asio::io_context& loop_;
    const std::chrono::milliseconds rtc_settle_time_;
    boost::asio::steady_timer rtc_timer_;

    mutable std::mutex mutex_;  // the reported side; a leaf lock
    std::vector<Event> queued_;
    std::optional<Event> rtc_pending_;  // summed deltas, the clock before the first change
    std::chrono::steady_clock::time_point rtc_last_change_{};
    std::array<std::uint64_t, kVmEventTypes> dropped_{};

    // Main thread only.
    std::array<std::optional<std::chrono::steady_clock::time_point>, kVmEventTypes> last_sent_{};
    std::map<SubscriptionId, Sink> sinks_;
    SubscriptionId next_id_ = 1;
    RateLimiter drop_log_{5, std::chrono::seconds(10)};
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // posted handlers hold it weakly
};

}  // namespace acrn::dm
