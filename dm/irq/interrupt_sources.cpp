#include "dm/irq/interrupt_sources.hpp"

namespace acrn::dm {

void InterruptSource::throttle(DelayTimers& timers, DelayTimers::Clock::duration delay) {
    std::lock_guard lock(throttle_mutex_);
    if (timers_ != nullptr) {
        deliver_held_locked();  // throttled again: what waited for the old delay goes now
    }
    timers_ = &timers;
    delay_ = delay;
    delay_running_ = false;
    ++generation_;
    throttled_.store(true, std::memory_order_release);
}

void InterruptSource::unthrottle() {
    std::lock_guard lock(throttle_mutex_);
    if (timers_ == nullptr) {
        return;
    }
    throttled_.store(false, std::memory_order_release);
    timers_ = nullptr;
    delay_running_ = false;
    ++generation_;
    deliver_held_locked();
}

void InterruptSource::hold_locked() {
    delayed_.fetch_add(1, std::memory_order_relaxed);
    if (delay_running_) {
        merged_.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    delay_running_ = true;
    // The source outlives the throttling: the monitor unthrottles every
    // source before its timers go away, and a stale generation does nothing.
    timers_->call_after(delay_, [this, generation = generation_] { on_delay_over(generation); });
}

void InterruptSource::on_delay_over(std::uint64_t generation) {
    std::lock_guard lock(throttle_mutex_);
    if (generation != generation_ || !delay_running_) {
        return;
    }
    delay_running_ = false;
    deliver_held_locked();
}

bool LineSource::apply(bool asserted) {
    // The controller is called under the pin's lock so that the pin's last
    // call always matches its sources' states.
    std::lock_guard lock(pin_.mutex);
    if (asserted_.load(std::memory_order_relaxed) == asserted) {
        return false;
    }
    asserted_.store(asserted, std::memory_order_release);
    if (asserted) {
        if (pin_.asserting_sources++ == 0) {
            controller_.set_line(gsi_, true);
        }
    } else if (--pin_.asserting_sources == 0) {
        controller_.set_line(gsi_, false);
    }
    return true;
}

void LineSource::set(bool asserted) {
    if (!throttled()) {
        if (apply(asserted) && asserted) {
            count_injection();
        }
        return;
    }
    std::lock_guard lock(throttle_mutex_);
    if (!still_throttled_locked()) {
        if (apply(asserted) && asserted) {
            count_injection();
        }
        return;
    }
    if (!asserted) {
        assertion_held_ = false;
        apply(false);
        return;
    }
    if (this->asserted() || assertion_held_) {
        return;  // no change
    }
    assertion_held_ = true;
    count_injection();
    hold_locked();
}

void LineSource::pulse() {
    if (throttled()) {
        std::lock_guard lock(throttle_mutex_);
        if (still_throttled_locked()) {
            pulse_held_ = true;
            count_injection();
            hold_locked();
            return;
        }
    }
    set(true);
    set(false);
}

void LineSource::deliver_held_locked() {
    if (pulse_held_) {
        pulse_held_ = false;
        apply(true);
        apply(false);
    }
    if (assertion_held_) {
        assertion_held_ = false;
        apply(true);
    }
}

void MsiSource::send(std::uint64_t address, std::uint32_t data) {
    count_injection();
    if (throttled()) {
        std::lock_guard lock(throttle_mutex_);
        if (still_throttled_locked()) {
            held_ = MsiMessage{address, data};
            hold_locked();
            return;
        }
    }
    if (irqfd_ && irqfd_->send(MsiMessage{address, data})) {
        return;
    }
    controller_.send_msi(address, data);
}

void MsiSource::deliver_held_locked() {
    if (held_) {
        controller_.send_msi(held_->address, held_->data);
        held_.reset();
    }
}

void MsiSource::route_through_irqfd(FastPaths& fast_paths) {
    irqfd_ = std::make_unique<MsiIrqfd>(fast_paths, name());
}

LineSource& InterruptSources::add_line(std::uint32_t gsi, std::string name) {
    std::lock_guard lock(mutex_);
    LineSource::Pin& pin = pins_[gsi];
    return lines_.emplace_back(InterruptSourceKey{}, controller_, pin, gsi, std::move(name));
}

MsiSource& InterruptSources::add_msi(std::string name) {
    std::lock_guard lock(mutex_);
    return msis_.emplace_back(InterruptSourceKey{}, controller_, std::move(name));
}

std::vector<InterruptSource*> InterruptSources::all() {
    std::lock_guard lock(mutex_);
    std::vector<InterruptSource*> result;
    result.reserve(lines_.size() + msis_.size());
    for (LineSource& line : lines_) {
        result.push_back(&line);
    }
    for (MsiSource& msi : msis_) {
        result.push_back(&msi);
    }
    return result;
}

bool InterruptSources::pin_asserted(std::uint32_t gsi) const {
    std::lock_guard lock(mutex_);
    const auto found = pins_.find(gsi);
    if (found == pins_.end()) {
        return false;
    }
    std::lock_guard pin_lock(found->second.mutex);
    return found->second.asserting_sources != 0;
}

std::vector<InterruptSourceStats> InterruptSources::stats() const {
    std::lock_guard lock(mutex_);
    std::vector<InterruptSourceStats> result;
    result.reserve(lines_.size() + msis_.size());
    for (const LineSource& line : lines_) {
        result.push_back({InterruptSourceStats::Kind::line, line.name(), line.gsi(), line.asserted(), line.injections(),
                          line.delayed(), line.merged(), line.throttled()});
    }
    for (const MsiSource& msi : msis_) {
        result.push_back({InterruptSourceStats::Kind::msi, msi.name(), 0, false, msi.injections(), msi.delayed(),
                          msi.merged(), msi.throttled()});
    }
    return result;
}

}  // namespace acrn::dm
