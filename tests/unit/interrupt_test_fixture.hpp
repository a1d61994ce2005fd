// What the tests of throttled interrupt sources and of the storm monitor
// share: sources on a recording controller, and a hand-driven clock.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>

#include "dm/irq/interrupt_sources.hpp"
#include "tests/unit/device_test_support.hpp"
#include "tests/unit/manual_delay_timers.hpp"

namespace acrn::dm::test_support {

class InterruptFixture : public ::testing::Test {
protected:
    static constexpr std::uint64_t kAddress = 0xFEE0'0000;

    static void send(MsiSource& source, int count, std::uint32_t data = 0x41) {
        for (int i = 0; i < count; ++i) {
            source.send(kAddress, data);
        }
    }
    [[nodiscard]] std::size_t delivered() {
        std::lock_guard lock(controller_.msi_mutex);
        return controller_.msis.size();
    }

    RecordingInterrupts controller_;
    InterruptSources sources_{controller_};
    // A test may hand the timers over (to a StormMonitor); timers_ stays valid while their owner lives.
    std::unique_ptr<ManualDelayTimers> owned_timers_ = std::make_unique<ManualDelayTimers>();
    ManualDelayTimers& timers_ = *owned_timers_;
};

}  // namespace acrn::dm::test_support
