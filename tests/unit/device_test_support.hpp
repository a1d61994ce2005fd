// What the legacy-device tests record: the lines a device drives and the
// power requests it makes.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "dm/irq/interrupt_sink.hpp"
#include "dm/power_control.hpp"

namespace acrn::dm::test_support {

class RecordingInterrupts final : public InterruptSink {
public:
    void set_line(std::uint32_t gsi, bool high) override {
        levels[gsi] = high;
        ++changes;
    }
    void send_msi(std::uint64_t address, std::uint32_t data) override {
        std::lock_guard lock(msi_mutex);
        msis.push_back({address, data});
    }
    [[nodiscard]] bool high(std::uint32_t gsi) const {
        const auto it = levels.find(gsi);
        return it != levels.end() && it->second;
    }
    struct Msi {
        std::uint64_t address;
        std::uint32_t data;
    };
    std::map<std::uint32_t, bool> levels;  // written under the sources' pin locks
    int changes = 0;
    std::mutex msi_mutex;
    std::vector<Msi> msis;
};

class RecordingPower final : public PowerControl {
public:
    void request_power_off(int exit_status, const std::string& reason) override {
        statuses.push_back(exit_status);
        last_reason = reason;
    }
    void request_reset(const std::string& reason) override {
        ++resets;
        last_reason = reason;
    }
    bool guest_suspend() override {
        ++suspends;
        return can_suspend;
    }
    void rtc_wake() override { ++rtc_wakes; }
    std::vector<int> statuses;
    int resets = 0;
    int suspends = 0;
    int rtc_wakes = 0;
    bool can_suspend = true;
    std::string last_reason;
};

}  // namespace acrn::dm::test_support
