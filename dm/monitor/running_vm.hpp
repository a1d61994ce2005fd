// What the command monitor acts on across guest resets: the VmSession that
// runs now (a reset builds a new one in the same process). Its commands run
// on the main thread, inside the session's event loop, so the session they
// reach is always the one running.
#pragma once

#include <nlohmann/json.hpp>

#include "dm/monitor/monitor_protocol.hpp"
#include "dm/stats/vm_statistics_json.hpp"
#include "dm/vm_session.hpp"

namespace acrn::dm {

class RunningVm final : public MonitorTarget {
public:
    void set(VmSession* session, unsigned boot) noexcept {
        session_ = session;
        boot_ = boot;
    }

    void destroy() override { current().request_power_off(0, "destroy command on the command monitor"); }
    void power_off(std::chrono::seconds deadline) override {
        if (!current().press_power_button(deadline, "poweroff command on the command monitor")) {
            throw MonitorError("the guest has not enabled ACPI, so it cannot see a power button: use destroy");
        }
    }
    void pause() override { current().pause(); }
    void resume() override { current().resume(); }
    void suspend() override { current().press_sleep_button("suspend command on the command monitor"); }
    void reset() override { current().request_reset("reset command on the command monitor"); }
    void blkrescan(const PciAddress& address, const std::string& path) override {
        current().insert_disk(address, path);
    }
    [[nodiscard]] nlohmann::json query() override {
        nlohmann::json vm = current().describe();
        vm["boot"] = boot_;
        return vm;
    }
    [[nodiscard]] nlohmann::json stats() override { return to_json(current().statistics()); }

private:
    VmSession& current() const {
        if (session_ == nullptr) {
            throw MonitorError("the VM is being built again after a reset: ask again");
        }
        return *session_;
    }

    VmSession* session_ = nullptr;
    unsigned boot_ = 0;
};

}  // namespace acrn::dm
