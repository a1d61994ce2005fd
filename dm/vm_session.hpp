// One UOS's life cycle, in ACRN's order: check the images, create the VM,
// give it memory, build the machine, write the firmware tables, load the
// image, start the ioreq thread and the VM, run the event loop until a
// power-off or reset request (the guest's, a signal's), then pause, stop
// the ioreq thread and destroy the VM.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>

#include "abi/acrn/abi.h"
#include "dm/cli/options.hpp"
#include "dm/machine/startup_error.hpp"
#include "dm/pci/pci_bus.hpp"
#include "dm/power_control.hpp"
#include "dm/stats/vm_statistics.hpp"

namespace acrn {
class Hsm;
}

namespace acrn::dm {

class BootTimeline;
class GuestMemory;
class IoreqLoop;
class Machine;
class SerialConsoles;
class StormMonitor;
class VmEvents;

class VmSession final : public PowerControl {
public:
    // `loop`, `consoles` and `events` belong to the acrn-dm process and
    // outlive every session (a guest reset builds a new session on them);
    // `timeline` is this boot's and outlives the session.
    VmSession(DmOptions options, Hsm& hsm, boost::asio::io_context& loop, const SerialConsoles& consoles,
              VmEvents& events, BootTimeline& timeline);
    VmSession(const VmSession&) = delete;
    VmSession& operator=(const VmSession&) = delete;
    ~VmSession() override;

    // How a run ended: powered off with acrn-dm's exit status, or reset by
    // the guest, in which case the caller builds a new session and boots
    // again in the same process (ACRN's FULL_RESET).
    struct Outcome {
        bool reset = false;
        int exit_status = 0;
        // The guest powered itself off with its RTC alarm set to wake it
        // (RTC_EN, AIE): when, in seconds since the epoch.
        std::optional<std::int64_t> wake_at = std::nullopt;
    };

    // Boots the VM and returns once it is off or reset.
    // Throws StartupError if the VM cannot be set up.
    [[nodiscard]] Outcome run();

    void request_power_off(int exit_status, const std::string& reason) override;
    void request_reset(const std::string& reason) override;
    // Tells a triple fault (the hypervisor's S5) from the guest's own, for the VM events.
    void guest_soft_off() override;
    // The guest entered S3: the VM stays paused until resume() wakes it.
    bool guest_suspend() override;
    // The guest's RTC alarm: wakes the VM if the guest suspended it.
    void rtc_wake() override;

    // For the command monitor, on the main thread while run() runs.
    // Presses the ACPI power button; the VM stops hard if the guest is not
    // off after `grace`. False if the guest cannot see the button. A VM the
    // guest suspended (S3) is stopped at once.
    bool press_power_button(std::chrono::seconds grace, const std::string& reason);
    // Presses the ACPI sleep button, which asks the guest to suspend itself
    // (S3, as its OS decides: Linux's acpid or logind). Throws MonitorError
    // when the guest is suspended or paused, or cannot see the button.
    void press_sleep_button(const std::string& reason);
    // Throw MonitorError when the VM is not in the state to pause or resume.
    // resume() also wakes a VM that the guest suspended (S3).
    void pause();
    void resume();
    // blkrescan: the `nodisk` virtio-blk at `pci` gets the image at `path`.
    void insert_disk(const PciAddress& pci, const std::string& path);
    [[nodiscard]] nlohmann::json describe() const;
    [[nodiscard]] VmStatistics statistics() const;

private:
    void create_vm();
    [[nodiscard]] std::uint64_t host_cpu_affinity() const;
    void set_attach_poll(std::uint64_t cpu_affinity);
    void map_memory();
    void start_storm_monitor();
    void stop_vm();
    void end_with(Outcome outcome, const std::string& reason);
    void on_signal(int signal);
    // Runs `task` on the main loop later, unless this session is gone by
    // then (the loop outlives it: a reset builds a new session on it).
    void post_while_alive(std::function<void()> task);
    [[nodiscard]] std::optional<std::int64_t> rtc_wake_from_soft_off() const;
    void enter_suspend();
    void wake_from_suspend(const std::string& by);
    // The VM's counts, one log line each (SIGUSR1, and as the VM stops).
    void log_statistics() const;

    const DmOptions options_;
    Hsm& hsm_;
    boost::asio::io_context& loop_;
    const SerialConsoles& consoles_;
    VmEvents& events_;
    BootTimeline& timeline_;
    std::unique_ptr<GuestMemory> memory_;
    struct PageDeleter {
        void operator()(acrn_io_request_buffer* page) const noexcept;
    };
    std::unique_ptr<acrn_io_request_buffer, PageDeleter> ioreq_page_;
    std::unique_ptr<Machine> machine_;
    std::unique_ptr<IoreqLoop> ioreq_loop_;
    std::unique_ptr<StormMonitor> storm_monitor_;  // --intr_monitor; before the machine whose sources it throttles
    std::uint32_t vcpu_count_ = 1;
    bool vm_created_ = false;
    std::chrono::steady_clock::time_point started_{};  // set once the VM runs
    bool paused_ = false;  // by the command monitor; main thread
    bool suspended_ = false;  // by the guest (S3) until woken; main thread
    std::uint64_t facs_address_ = 0;  // where the guest leaves its S3 waking vector

    std::mutex power_mutex_;
    std::optional<Outcome> outcome_;  // the first power-off or reset request decides
    std::unique_ptr<boost::asio::steady_timer> shutdown_deadline_;  // set once SIGTERM pressed the button
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // held weakly by what post_while_alive queues
};

}  // namespace acrn::dm
