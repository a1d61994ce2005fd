// Each interrupt a device raises is a source of its own. A line source is
// one device's input to an IOAPIC pin: the pin is the OR of the sources that
// share it (PCI INTx is level-triggered and may be shared), so one device's
// deassert never drops another's assert. An MSI source is one message (an
// MSI or MSI-X vector). Every source counts its injections, which is what
// the interrupt-storm monitor reads.
//
// The sources belong to InterruptSources, which outlives the devices that
// hold references to them. Any thread may raise a source.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "dm/irq/interrupt_sink.hpp"
#include "dm/irq/msi_irqfd.hpp"

namespace acrn::dm {

class InterruptSources;

// Only InterruptSources makes sources (the deque constructs them in place).
class InterruptSourceKey {
    friend class InterruptSources;
    InterruptSourceKey() = default;
};

class LineSource {
public:
    struct Pin;
    LineSource(InterruptSourceKey, InterruptSink& controller, Pin& pin, std::uint32_t gsi, std::string name)
        : controller_(controller), pin_(pin), gsi_(gsi), name_(std::move(name)) {}
    LineSource(const LineSource&) = delete;
    LineSource& operator=(const LineSource&) = delete;

    // Level: the source asserts or releases its input to the pin. Setting
    // the level it already has is no change. Each assertion counts once.
    void set(bool asserted);
    // Edge: an assertion followed by a release.
    void pulse();

    [[nodiscard]] const std::string& name() const noexcept { return name_; }
    [[nodiscard]] std::uint32_t gsi() const noexcept { return gsi_; }
    [[nodiscard]] bool asserted() const noexcept { return asserted_.load(std::memory_order_acquire); }
    [[nodiscard]] std::uint64_t injections() const noexcept { return injections_.load(std::memory_order_relaxed); }

private:
    InterruptSink& controller_;
    Pin& pin_;
    const std::uint32_t gsi_;
    const std::string name_;
    std::atomic<bool> asserted_{false};  // changed under the pin's mutex
    std::atomic<std::uint64_t> injections_{0};
};

struct LineSource::Pin {
    mutable std::mutex mutex;  // orders the controller calls of one pin
    std::uint32_t asserting_sources = 0;
};

class MsiSource {
public:
    MsiSource(InterruptSourceKey, InterruptSink& controller, std::string name)
        : controller_(controller), name_(std::move(name)) {}
    MsiSource(const MsiSource&) = delete;
    MsiSource& operator=(const MsiSource&) = delete;

    // Counts the injection, then sends it through the source's irqfd if it
    // has one, or through the interrupt controller.
    void send(std::uint64_t address, std::uint32_t data);
    // From now on, send through an irqfd where the relay offers one (set
    // before the source is first sent; see dm/irq/msi_irqfd.hpp).
    void route_through_irqfd(FastPaths& fast_paths);

    [[nodiscard]] const std::string& name() const noexcept { return name_; }
    [[nodiscard]] std::uint64_t injections() const noexcept { return injections_.load(std::memory_order_relaxed); }

private:
    InterruptSink& controller_;
    const std::string name_;
    std::atomic<std::uint64_t> injections_{0};
    std::unique_ptr<MsiIrqfd> irqfd_;
};

// What a source looks like from outside, for the monitor and for logs.
struct InterruptSourceStats {
    enum class Kind { line, msi };
    Kind kind;
    std::string name;
    std::uint32_t gsi;  // lines only
    bool asserted;      // lines only
    std::uint64_t injections;
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

private:
    InterruptSink& controller_;
    mutable std::mutex mutex_;  // guards the containers, not the sources' states
    std::map<std::uint32_t, LineSource::Pin> pins_;
    std::deque<LineSource> lines_;  // a deque keeps references stable
    std::deque<MsiSource> msis_;
};

}  // namespace acrn::dm
