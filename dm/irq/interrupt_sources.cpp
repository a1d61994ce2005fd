#include "dm/irq/interrupt_sources.hpp"

namespace acrn::dm {

void LineSource::set(bool asserted) {
    // The controller is called under the pin's lock so that the pin's last
    // call always matches its sources' states.
    std::lock_guard lock(pin_.mutex);
    if (asserted_.load(std::memory_order_relaxed) == asserted) {
        return;
    }
    asserted_.store(asserted, std::memory_order_release);
    if (asserted) {
        injections_.fetch_add(1, std::memory_order_relaxed);
        if (pin_.asserting_sources++ == 0) {
            controller_.set_line(gsi_, true);
        }
    } else if (--pin_.asserting_sources == 0) {
        controller_.set_line(gsi_, false);
    }
}

void LineSource::pulse() {
    set(true);
    set(false);
}

void MsiSource::send(std::uint64_t address, std::uint32_t data) {
    injections_.fetch_add(1, std::memory_order_relaxed);
    if (irqfd_ && irqfd_->send(MsiMessage{address, data})) {
        return;
    }
    controller_.send_msi(address, data);
}

void MsiSource::route_through_irqfd(FastPaths& fast_paths) {
    irqfd_ = std::make_unique<MsiIrqfd>(fast_paths, name_);
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
        result.push_back({InterruptSourceStats::Kind::line, line.name(), line.gsi(), line.asserted(), line.injections()});
    }
    for (const MsiSource& msi : msis_) {
        result.push_back({InterruptSourceStats::Kind::msi, msi.name(), 0, false, msi.injections()});
    }
    return result;
}

}  // namespace acrn::dm
