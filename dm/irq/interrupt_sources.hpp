// Each interrupt a device raises is a source of its own. A line source is
// one device's input to an IOAPIC pin: the pin is the OR of the sources that
// share it (PCI INTx is level-triggered and may be shared), so one device's
// deassert never drops another's assert. An MSI source is one message (an
// MSI or MSI-X vector). Every source counts its injections, which is what
// the interrupt-storm monitor reads.
//
// The sources belong to InterruptSources, which outlives the devices that
// hold references to them. Any thread may raise a source.
//
// While the storm monitor throttles a source (storm_monitor.hpp), its
// injections take the delaying path of InterruptSource: each is held for
// the delay and the ones raised meanwhile merge into it. A source that is
// not throttled pays one atomic load for the check and takes no lock.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "dm/irq/delay_timers.hpp"
#include "dm/irq/interrupt_sink.hpp"
#include "dm/irq/msi_irqfd.hpp"

namespace acrn::dm {

class InterruptSources;

// Only InterruptSources makes sources (the deque constructs them in place).
class InterruptSourceKey {
    friend class InterruptSources;
    InterruptSourceKey() = default;
};

// What lines and MSIs share: a name, the injection count the monitor reads,
// and the delaying path that throttling switches on.
class InterruptSource {
public:
    InterruptSource(const InterruptSource&) = delete;
    InterruptSource& operator=(const InterruptSource&) = delete;

    [[nodiscard]] const std::string& name() const noexcept { return name_; }
    // Injections the device raised, delayed or not.
    [[nodiscard]] std::uint64_t injections() const noexcept { return injections_.load(std::memory_order_relaxed); }
    // Of those, the ones held for a delay, and the ones merged into one held already.
    [[nodiscard]] std::uint64_t delayed() const noexcept { return delayed_.load(std::memory_order_relaxed); }
    [[nodiscard]] std::uint64_t merged() const noexcept { return merged_.load(std::memory_order_relaxed); }
    [[nodiscard]] bool throttled() const noexcept { return throttled_.load(std::memory_order_acquire); }

    // From now on each injection is held for `delay` on `timers`, which must
    // outlive the throttling; called on the timers' thread.
    void throttle(DelayTimers& timers, DelayTimers::Clock::duration delay);
    // Ends throttling: what is held is delivered now, and later injections
    // go straight through again.
    void unthrottle();

protected:
    explicit InterruptSource(std::string name) : name_(std::move(name)) {}
    ~InterruptSource() = default;

    void count_injection() noexcept { injections_.fetch_add(1, std::memory_order_relaxed); }
    // Under throttle_mutex_, with an injection just held: arms its delay, or
    // merges it into the one whose delay is running.
    void hold_locked();
    // Under throttle_mutex_: the source delivers what it holds.
    virtual void deliver_held_locked() = 0;

    std::mutex throttle_mutex_;  // the delaying path's state; taken only while throttled
    // Under throttle_mutex_: false once unthrottle() ran after the caller's check.
    [[nodiscard]] bool still_throttled_locked() const noexcept { return timers_ != nullptr; }

private:
    void on_delay_over(std::uint64_t generation);

    const std::string name_;
    std::atomic<std::uint64_t> injections_{0};
    std::atomic<std::uint64_t> delayed_{0};
    std::atomic<std::uint64_t> merged_{0};
    std::atomic<bool> throttled_{false};
    // Under throttle_mutex_:
    DelayTimers* timers_ = nullptr;  // set while throttled
    DelayTimers::Clock::duration delay_{};
    bool delay_running_ = false;
    std::uint64_t generation_ = 0;  // a delay armed before unthrottle() or a new throttle() is stale
};

class LineSource final : public InterruptSource {
public:
    struct Pin;
    LineSource(InterruptSourceKey, InterruptSink& controller, Pin& pin, std::uint32_t gsi, std::string name)
        : InterruptSource(std::move(name)), controller_(controller), pin_(pin), gsi_(gsi) {}
    LineSource(const LineSource&) = delete;
    LineSource& operator=(const LineSource&) = delete;

    // Level: the source asserts or releases its input to the pin. Setting
    // the level it already has is no change. Each assertion counts once.
    // While throttled, an assertion is held for the delay, and the level the
    // source has when the delay ends is what the pin gets; a release goes
    // through at once (it never adds an interrupt).
    void set(bool asserted);
    // Edge: an assertion followed by a release. While throttled, pulses
    // within one delay merge into one.
    void pulse();

    [[nodiscard]] std::uint32_t gsi() const noexcept { return gsi_; }
    // The level the pin has from this source (a held assertion is not yet).
    [[nodiscard]] bool asserted() const noexcept { return asserted_.load(std::memory_order_acquire); }

private:
    // Drives the source's input to the pin; false if it had that level.
    bool apply(bool asserted);
    void deliver_held_locked() override;

    InterruptSink& controller_;
    Pin& pin_;
    const std::uint32_t gsi_;
    std::atomic<bool> asserted_{false};  // changed under the pin's mutex
    // Under throttle_mutex_, while throttled. Only what the delaying path
    // took is held, so a release that raced the start of throttling is
    // never undone when the delay ends.
    bool assertion_held_ = false;  // an assertion waits for the delay's end
    bool pulse_held_ = false;      // a pulse waits for the delay's end
};

struct LineSource::Pin {
    mutable std::mutex mutex;  // orders the controller calls of one pin
    std::uint32_t asserting_sources = 0;
};

class MsiSource final : public InterruptSource {
public:
    MsiSource(InterruptSourceKey, InterruptSink& controller, std::string name)
        : InterruptSource(std::move(name)), controller_(controller) {}

    // Counts the injection, then sends it through the source's irqfd if it
    // has one, or through the interrupt controller. While throttled it takes
    // neither: the message is held for the delay (a later one replaces it,
    // merged) and then sent through the interrupt controller, so a storm
    // cannot bypass the delay through the irqfd.
    void send(std::uint64_t address, std::uint32_t data);
    // From now on, send through an irqfd where the relay offers one (set
    // before the source is first sent; see dm/irq/msi_irqfd.hpp).
    void route_through_irqfd(FastPaths& fast_paths);

private:
    void deliver_held_locked() override;

    InterruptSink& controller_;
    std::unique_ptr<MsiIrqfd> irqfd_;
    std::optional<MsiMessage> held_;  // under throttle_mutex_
};

// What a source looks like from outside, for the monitor and for logs.
struct InterruptSourceStats {
    enum class Kind { line, msi };
    Kind kind;
    std::string name;
    std::uint32_t gsi;  // lines only
    bool asserted;      // lines only
    std::uint64_t injections;
    std::uint64_t delayed;
    std::uint64_t merged;
    bool throttled;
};

class InterruptSources {
public:
    explicit InterruptSources(InterruptSink& controller) : controller_(controller) {}
    InterruptSources(const InterruptSources&) = delete;
    InterruptSources& operator=(const InterruptSources&) = delete;

    // A new source on pin `gsi`; the reference stays valid as long as this object.
    [[nodiscard]] LineSource& add_line(std::uint32_t gsi, std::string name);
    [[nodiscard]] MsiSource& add_msi(std::string name);

    // True while any source of the pin asserts it.
    [[nodiscard]] bool pin_asserted(std::uint32_t gsi) const;
    [[nodiscard]] std::vector<InterruptSourceStats> stats() const;
    // Every source, lines first, in the order they were added.
    [[nodiscard]] std::vector<InterruptSource*> all();

private:
    InterruptSink& controller_;
    mutable std::mutex mutex_;  // guards the containers, not the sources' states
    std::map<std::uint32_t, LineSource::Pin> pins_;
    std::deque<LineSource> lines_;  // a deque keeps references stable
    std::deque<MsiSource> msis_;
};

}  // namespace acrn::dm
