#include "dm/monitor/vm_events.hpp"

#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>

namespace acrn::dm {

namespace {

constexpr std::chrono::seconds kThrottleWindow{1};  // ACRN's THROTTLE_WINDOW, one event of a type in it

const char* event_name(VmEventType type) {
    switch (type) {
        case VmEventType::rtc_change: return "RTC change";
        case VmEventType::power_off: return "power-off";
        case VmEventType::triple_fault: return "triple fault";
    }
    return "?";
}

}  // namespace

VmEvents::VmEvents(boost::asio::io_context& loop, std::chrono::milliseconds rtc_settle_time)
    : loop_(loop), rtc_settle_time_(rtc_settle_time), rtc_timer_(loop) {}

VmEvents::~VmEvents() = default;

VmEvents::SubscriptionId VmEvents::subscribe(Sink sink) {
    const SubscriptionId id = next_id_++;
    sinks_.emplace(id, std::move(sink));
    return id;
}

void VmEvents::unsubscribe(SubscriptionId id) { sinks_.erase(id); }

void VmEvents::rtc_changed(std::int64_t old_time, std::int64_t new_time) {
    if (new_time == old_time) {
        return;  // the guest wrote the time it already had
    }
    {
        std::lock_guard lock(mutex_);
        if (!rtc_pending_) {
            rtc_pending_ = Event{VmEventType::rtc_change, 0, old_time};
        }
        rtc_pending_->delta_time += new_time - old_time;
        rtc_last_change_ = std::chrono::steady_clock::now();
    }
    boost::asio::post(loop_, [this, alive = std::weak_ptr<int>(alive_)] {
        if (alive.expired()) {
            return;
        }
        // Every change restarts the wait: the event goes once the guest is done.
        rtc_timer_.expires_after(rtc_settle_time_);
        rtc_timer_.async_wait([this, alive](const boost::system::error_code& error) {
            if (!error && !alive.expired()) {
                rtc_settled();
            }
        });
    });
}

void VmEvents::powered_off() { report(Event{VmEventType::power_off}); }

void VmEvents::triple_fault() { report(Event{VmEventType::triple_fault}); }

void VmEvents::report(Event event) {
    {
        std::lock_guard lock(mutex_);
        queued_.push_back(event);
    }
    boost::asio::post(loop_, [this, alive = std::weak_ptr<int>(alive_)] {
        if (!alive.expired()) {
            send_queued();
        }
    });
}

void VmEvents::rtc_settled() {
    {
        std::lock_guard lock(mutex_);
        if (!rtc_pending_ || std::chrono::steady_clock::now() - rtc_last_change_ < rtc_settle_time_) {
            return;  // a later change has its own wait
        }
        queued_.push_back(*rtc_pending_);
        rtc_pending_.reset();
    }
    send_queued();
}

void VmEvents::flush() {
    {
        std::lock_guard lock(mutex_);
        if (rtc_pending_) {
            queued_.push_back(*rtc_pending_);
            rtc_pending_.reset();
        }
    }
    send_queued();
}

void VmEvents::send_queued() {
    std::vector<Event> events;
    {
        std::lock_guard lock(mutex_);
        events.swap(queued_);
    }
    for (const Event& event : events) {
        send(event);
    }
}

void VmEvents::send(const Event& event) {
    const auto index = static_cast<std::size_t>(event.type);
    const auto now = std::chrono::steady_clock::now();
    if (last_sent_[index] && now - *last_sent_[index] < kThrottleWindow) {
        std::uint64_t dropped = 0;
        {
            std::lock_guard lock(mutex_);
            dropped = ++dropped_[index];
        }
        if (drop_log_.allow()) {
            log_notice("VM events: {} event dropped (at most one a second; {} dropped so far)", event_name(event.type),
                       dropped);
        }
        return;
    }
    last_sent_[index] = now;
    nlohmann::json body{{"vm_event", static_cast<int>(event.type)}};
    if (event.type == VmEventType::rtc_change) {
        body["delta_time"] = event.delta_time;
        body["last_time"] = event.last_time;
    }
    const std::string line = body.dump() + "\n";
    log_info("VM event: {} ({} client(s))", body.dump(), sinks_.size());
    const auto sinks = sinks_;  // a sink may unsubscribe another
    for (const auto& [id, sink] : sinks) {
        sink(line);
    }
}

std::uint64_t VmEvents::dropped(VmEventType type) const {
    std::lock_guard lock(mutex_);
    return dropped_[static_cast<std::size_t>(type)];
}

}  // namespace acrn::dm
