#include "dm/vm_session.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>

#include "common/log.hpp"
#include "common/polling_cpus.hpp"
#include "common/wake_alarms.hpp"
#include "dm/boot_timeline.hpp"
#include "dm/devices/acpi_pm.hpp"
#include "dm/devices/rtc_cmos.hpp"
#include "dm/event_loop.hpp"
#include "dm/guest_memory.hpp"
#include "dm/host_cpus.hpp"
#include "dm/ioreq_loop.hpp"
#include "dm/irq/storm_monitor.hpp"
#include "dm/machine/boot_images.hpp"
#include "dm/machine/firmware_tables.hpp"
#include "dm/machine/machine.hpp"
#include "dm/machine/machine_builder.hpp"
#include "dm/machine/s3_wake.hpp"
#include "dm/monitor/monitor_protocol.hpp"
#include "dm/monitor/vm_events.hpp"
#include "dm/pci/pci_bus.hpp"
#include "dm/process_memory.hpp"
#include "dm/virtio/virtio_blk.hpp"
#include "dm/service_notify.hpp"
#include "dm/stats/vm_statistics.hpp"
#include "relay/hsm.hpp"

namespace acrn::dm {
namespace {

// systemd's default stop timeout is 90 s: a guest gets most of it, and
// acrn-dm still exits on its own before systemd resorts to SIGKILL.
constexpr std::chrono::seconds kShutdownGracePeriod{60};

void check(int rc, const std::string& what) {
    if (rc < 0) {
        throw StartupError(kExitFailure, what + ": " + std::strerror(-rc));
    }
}

}  // namespace

void VmSession::PageDeleter::operator()(acrn_io_request_buffer* page) const noexcept { std::free(page); }

VmSession::VmSession(DmOptions options, Hsm& hsm, boost::asio::io_context& loop, const SerialConsoles& consoles,
                     VmEvents& events, BootTimeline& timeline)
    : options_(std::move(options)), hsm_(hsm), loop_(loop), consoles_(consoles), events_(events), timeline_(timeline) {}

VmSession::~VmSession() {
    // The ioreq thread and the vCPUs must stop before devices go away.
    try {
        stop_vm();
    } catch (...) {
        // Destructors report nothing; stop_vm logs what failed.
    }
}

void VmSession::request_power_off(int exit_status, const std::string& reason) {
    end_with(Outcome{false, exit_status}, "powering off: " + reason);
}

void VmSession::request_reset(const std::string& reason) { end_with(Outcome{true, 0}, "resetting: " + reason); }

// ACRN's hypervisor reports a triple fault as an event and then writes S5
// for the guest; ours counts the exit that the device model can read.
void VmSession::guest_soft_off() {
    HypervisorStats stats;
    const bool triple_fault = hsm_.hypervisor_stats(stats) == 0 &&
                              stats.exits[static_cast<std::size_t>(VcpuExit::shutdown)] > 0;
    if (triple_fault) {
        events_.triple_fault();
    }
    events_.powered_off();
    if (triple_fault) {
        request_power_off(0, "the guest's triple fault (the hypervisor put it in S5)");
        return;
    }
    const std::optional<std::int64_t> wake_at = rtc_wake_from_soft_off();
    end_with(Outcome{false, 0, wake_at},
             "powering off: guest entered ACPI S5 (soft off)" +
                 (wake_at ? ", its RTC alarm set to wake it at " + utc_time_text(*wake_at) : std::string()));
}

// ACPI 6.4, 4.8.2.1.1: with RTC_EN set, the RTC alarm wakes the machine
// from a sleep state; Linux's rtc-cmos arms it for S5 too (wakealarm,
// rtcwake -m off). acrnd starts the VM at that time.
std::optional<std::int64_t> VmSession::rtc_wake_from_soft_off() const {
    const AcpiPm* pm = machine_ ? machine_->power_button() : nullptr;
    RtcCmos* rtc = machine_ ? machine_->rtc() : nullptr;
    if (pm == nullptr || rtc == nullptr || !pm->rtc_wake_enabled()) {
        return std::nullopt;
    }
    return rtc->next_alarm();
}

// On the ioreq thread, in the PM1a_CNT write: the session acts on the main
// loop. The write completes, and the guest polls WAK_STS until the VM is
// paused; waking starts vCPU 0 afresh at the guest's waking vector.
bool VmSession::guest_suspend() {
    post_while_alive([this] { enter_suspend(); });
    return true;
}

void VmSession::post_while_alive(std::function<void()> task) {
    boost::asio::post(loop_, [alive = std::weak_ptr<int>(alive_), task = std::move(task)] {
        if (!alive.expired()) {
            task();
        }
    });
}

void VmSession::enter_suspend() {
    {
        std::lock_guard lock(power_mutex_);
        if (outcome_ || suspended_) {
            return;
        }
    }
    if (const int rc = hsm_.pause_vm(); rc < 0) {
        request_power_off(1, std::string("the guest suspended (S3), and pausing the VM failed: ") + std::strerror(-rc));
        return;
    }
    suspended_ = true;
    paused_ = false;
    log_notice("VM '{}' suspended by the guest (ACPI S3): 'acrnctl resume {}' or the command monitor's resume "
               "wakes it",
               options_.vm_name, options_.vm_name);
    notify_status("VM '" + options_.vm_name + "' suspended (S3)");
}

void VmSession::rtc_wake() {
    post_while_alive([this] {
        if (!suspended_) {
            return;  // an SCI for the running guest, nothing more
        }
        try {
            wake_from_suspend("the guest's RTC alarm");
        } catch (const std::exception& error) {
            request_power_off(1, error.what());
        }
    });
}

void VmSession::wake_from_suspend(const std::string& by) {
    const std::optional<std::uint32_t> vector = read_waking_vector(*memory_, facs_address_);
    if (!vector) {
        request_power_off(1, "the guest suspended (S3) but left no real-mode waking vector in its FACS: "
                             "it cannot be woken");
        return;
    }
    if (const int rc = hsm_.set_vcpu_regs(real_mode_wake_registers(*vector)); rc < 0) {
        throw MonitorError(std::string("waking the VM failed: vCPU 0's registers: ") + std::strerror(-rc));
    }
    if (AcpiPm* pm = machine_->power_button(); pm != nullptr) {
        pm->wake();
    }
    if (const int rc = hsm_.start_vm(); rc < 0) {
        throw MonitorError(std::string("waking the VM failed: ") + std::strerror(-rc));
    }
    suspended_ = false;
    log_notice("VM '{}' woken from S3 by {}: vCPU 0 starts at the guest's waking vector {:#x} in real mode",
               options_.vm_name, by, *vector);
    notify_status("VM '" + options_.vm_name + "' running");
}

void VmSession::insert_disk(const PciAddress& pci, const std::string& path) {
    if (!machine_) {
        throw MonitorError("blkrescan: the VM is not built yet");
    }
    const std::shared_ptr<PciDevice> device = machine_->buses().pci.find(pci);
    if (!device) {
        throw MonitorError("blkrescan: no device at " + pci.text());
    }
    auto* disk = dynamic_cast<VirtioBlk*>(device.get());
    if (disk == nullptr) {
        throw MonitorError("blkrescan: " + pci.text() + " is " + device->name() + ", not virtio-blk");
    }
    try {
        disk->insert_image(path);
    } catch (const std::exception& error) {
        throw MonitorError(std::string("blkrescan: ") + error.what());
    }
    log_notice("blkrescan: virtio-blk at {} now reads {} ({} sectors)", pci.text(), path, disk->capacity_sectors());
}

void VmSession::end_with(Outcome outcome, const std::string& reason) {
    {
        std::lock_guard lock(power_mutex_);
        if (outcome_) {
            return;  // the first request decides
        }
        outcome_ = outcome;
    }
    log_notice("{}", reason);
    if (outcome.reset) {
        notify_status("VM '" + options_.vm_name + "' " + reason);
    } else {
        notify_stopping("VM '" + options_.vm_name + "' " + reason);
    }
    loop_.stop();
}

// ACRN's life-cycle signals: SIGINT and SIGHUP power off at once; SIGTERM
// presses the ACPI power button so that the guest shuts down cleanly, and a
// second SIGTERM, or a guest that is not off within the grace period, stops
// the VM hard. A guest that never enabled ACPI cannot see the button.
// SIGUSR1 logs the VM's statistics, which leaves it running.
void VmSession::on_signal(int signal) {
    if (signal == SIGUSR1) {
        log_statistics();
        return;
    }
    if (signal != SIGTERM) {
        request_power_off(0, std::string("signal ") + ::strsignal(signal));
        return;
    }
    if (shutdown_deadline_) {  // the button was pressed already
        request_power_off(0, "second SIGTERM: stopping the VM hard");
        return;
    }
    if (!press_power_button(kShutdownGracePeriod, "SIGTERM")) {
        request_power_off(0, "SIGTERM, and the guest has not enabled ACPI to see a power button: stopping the VM");
    }
}

bool VmSession::press_power_button(std::chrono::seconds grace, const std::string& reason) {
    if (suspended_) {  // a suspended guest sees no button: what it asks for is done at once
        request_power_off(0, reason + ", and the guest is suspended (S3): stopping the VM");
        return true;
    }
    AcpiPm* button = machine_ ? machine_->power_button() : nullptr;
    if (button == nullptr || !button->press_power_button()) {
        return false;
    }
    log_notice("{}: pressed the ACPI power button; the VM stops hard after {} s{}", reason, grace.count(),
               reason == "SIGTERM" ? " or on a second SIGTERM" : "");
    shutdown_deadline_ = std::make_unique<boost::asio::steady_timer>(loop_, grace);
    shutdown_deadline_->async_wait([this, grace](const boost::system::error_code& error) {
        if (!error) {
            request_power_off(0, "the guest did not shut down within " + std::to_string(grace.count()) +
                                     " s of the power button: stopping the VM hard");
        }
    });
    return true;
}

void VmSession::press_sleep_button(const std::string& reason) {
    if (suspended_) {
        throw MonitorError("the guest has suspended the VM (S3) already");
    }
    if (paused_) {
        throw MonitorError("the VM is paused: resume it first, so that the guest can see the sleep button");
    }
    AcpiPm* button = machine_ ? machine_->power_button() : nullptr;
    if (button == nullptr || !button->press_sleep_button()) {
        throw MonitorError("the guest has not enabled ACPI's sleep button, so it cannot be asked to suspend");
    }
    log_notice("{}: pressed the ACPI sleep button; the guest decides whether to suspend", reason);
}

void VmSession::pause() {
    if (suspended_) {
        throw MonitorError("the guest has suspended the VM (S3)");
    }
    if (paused_) {
        throw MonitorError("the VM is paused already");
    }
    if (const int rc = hsm_.pause_vm(); rc < 0) {
        throw MonitorError(std::string("pausing the VM failed: ") + std::strerror(-rc));
    }
    paused_ = true;
    log_notice("VM '{}' paused by the command monitor", options_.vm_name);
}

void VmSession::resume() {
    if (suspended_) {
        wake_from_suspend("the command monitor's resume");
        return;
    }
    if (!paused_) {
        throw MonitorError("the VM is not paused");
    }
    if (const int rc = hsm_.start_vm(); rc < 0) {
        throw MonitorError(std::string("resuming the VM failed: ") + std::strerror(-rc));
    }
    paused_ = false;
    log_notice("VM '{}' resumed by the command monitor", options_.vm_name);
}

nlohmann::json VmSession::describe() const {
    nlohmann::json devices = nlohmann::json::array();
    for (const PciSlotSpec& slot : options_.pci_slots) {
        devices.push_back({{"slot", std::to_string(slot.bus) + ":" + std::to_string(slot.slot) + "." +
                                        std::to_string(slot.func)},
                           {"emulation", slot.emulation},
                           {"config", slot.config}});
    }
    const bool running = started_ != std::chrono::steady_clock::time_point{};
    return {{"name", options_.vm_name},
            {"state", suspended_ ? "suspended" : paused_ ? "paused" : running ? "running" : "starting"},
            {"uptime_ns", running ? (std::chrono::steady_clock::now() - started_).count() : 0},
            {"vcpus", vcpu_count_},
            {"memory_mib", options_.memory_bytes >> 20},
            {"completion", options_.ioreq_polling ? "polling" : "notification"},
            {"pid", ::getpid()},
            {"devices", std::move(devices)},
            {"boot_phases", timeline_.to_json()}};
}

VmSession::Outcome VmSession::run() {
    // Everything the user named is checked before any VM exists.
    notify_status("checking the boot images");
    BootImages images = read_boot_images(options_);
    if (images.unpacked_at) {
        timeline_.reached(BootPhase::kernel_unpacked, *images.unpacked_at);
    }
    timeline_.reached(BootPhase::images_read);
    notify_status("building the VM");
    try {
        memory_ = std::make_unique<GuestMemory>(
            options_.memory_bytes, options_.hugetlb ? GuestMemoryBacking::hugetlb_2m : GuestMemory::default_backing());
    } catch (const std::exception& error) {
        throw StartupError(kExitFailure, std::string("-m: cannot allocate guest memory: ") + error.what());
    }
    timeline_.reached(BootPhase::memory_ready);
    create_vm();
    map_memory();
    timeline_.reached(BootPhase::vm_created);
    machine_ = build_machine(options_,
                             MachineServices{hsm_, *memory_, loop_, consoles_, *this, vcpu_count_, &events_, &timeline_});
    timeline_.reached(BootPhase::devices_built);
    facs_address_ = write_firmware_tables(options_, vcpu_count_, machine_->pci_windows(), *memory_);
    check(hsm_.set_vcpu_regs(load_boot_images(images, options_, *memory_)), "cannot set the boot vCPU's registers");
    images.release();  // the kernel, unpacked or not, is not kept for the VM's life
    return_free_heap_memory();
    timeline_.reached(BootPhase::images_loaded);

    const auto fail = [this](const std::string& reason) { request_power_off(1, reason); };
    ioreq_loop_ = std::make_unique<IoreqLoop>(hsm_, machine_->buses(), *ioreq_page_, vcpu_count_, fail);
    ioreq_loop_->start();
    start_storm_monitor();
    machine_->start_devices();

    boost::asio::signal_set signals(loop_, SIGINT, SIGHUP, SIGTERM);
    signals.add(SIGUSR1);
    std::function<void(const boost::system::error_code&, int)> on_signal_set =
        [this, &signals, &on_signal_set](const boost::system::error_code& error, int signal) {
            if (!error) {
                on_signal(signal);
                signals.async_wait(on_signal_set);
            }
        };
    signals.async_wait(on_signal_set);
    auto keep_running = boost::asio::make_work_guard(loop_);
    loop_.restart();  // the loop ran (and was stopped) before a guest reset
    check(hsm_.start_vm(), "cannot start the VM");
    started_ = std::chrono::steady_clock::now();
    timeline_.reached(BootPhase::vm_started, started_);
    log_info("VM '{}' started: {} MiB, {} vCPU(s), {} I/O completion", options_.vm_name, options_.memory_bytes >> 20,
             vcpu_count_, options_.ioreq_polling ? "polling" : "notification");
    notify_ready("VM '" + options_.vm_name + "' running");
    run_event_loop(loop_, fail);

    stop_vm();
    events_.flush();  // a power-off event reaches its clients before acrn-dm exits
    log_info("VM '{}' stopped after {} I/O requests", options_.vm_name,
             ioreq_loop_ ? ioreq_loop_->requests_served() : 0);
    std::lock_guard lock(power_mutex_);
    return outcome_.value_or(Outcome{});
}

void VmSession::create_vm() {
    void* page = std::aligned_alloc(4096, sizeof(acrn_io_request_buffer));
    if (page == nullptr) {
        throw StartupError(kExitFailure, "cannot allocate the ioreq page");
    }
    std::memset(page, 0, sizeof(acrn_io_request_buffer));
    ioreq_page_.reset(static_cast<acrn_io_request_buffer*>(page));

    acrn_vm_creation creation{};
    std::memcpy(&creation.uuid, options_.vm_name.c_str(), std::min(options_.vm_name.size(), sizeof(creation.uuid) - 1));
    creation.vm_flag = options_.ioreq_polling ? ACRN_GUEST_FLAG_IO_COMPLETION_POLLING : 0;
    if (options_.rtvm) {
        creation.vm_flag |= ACRN_GUEST_FLAG_RT;
        if (options_.cpu_affinity.empty()) {
            log_warning("--rtvm without --cpu_affinity: the vCPUs share host CPUs with everything else");
        }
    }
    if (options_.lapic_pt) {
        creation.vm_flag |= ACRN_GUEST_FLAG_LAPIC_PASSTHROUGH;
    }
    creation.ioreq_buf = reinterpret_cast<std::uintptr_t>(page);
    creation.vcpu_num = static_cast<std::uint16_t>(options_.vcpu_count.value_or(1));
    creation.cpu_affinity = host_cpu_affinity();
    check(hsm_.create_vm(creation), "cannot create the VM");
    vm_created_ = true;
    vcpu_count_ = creation.vcpu_num;
    set_attach_poll(creation.cpu_affinity);
}

// The device model's side of polling: its ioreq thread polls for the next
// request before it sleeps (the relay's default is not to). That pays only
// where it has a host CPU that no vCPU needs; elsewhere it holds the CPU the
// vCPU needs to make the request.
void VmSession::set_attach_poll(std::uint64_t cpu_affinity) {
    constexpr std::chrono::microseconds kPollingVmDefault{200};  // cf. KVM's halt_poll_ns
    if (!options_.ioreq_dm_poll && !options_.ioreq_polling) {
        return;
    }
    const PollingCpus cpus = polling_cpus(vcpu_count_, cpu_affinity);
    std::chrono::nanoseconds poll = std::chrono::nanoseconds::zero();
    if (options_.ioreq_dm_poll) {
        poll = *options_.ioreq_dm_poll;
        if (poll > std::chrono::nanoseconds::zero() && !cpus.enough()) {
            log_warning("--ioreq_dm_poll: the device model's thread polls on {} host CPU(s) that {} vCPU(s) share "
                        "with it: while it polls, a vCPU may wait for the CPU",
                        cpus.usable, vcpu_count_);
        }
    } else if (cpus.enough()) {
        poll = kPollingVmDefault;
    } else {
        log_notice("--ioreq_polling: {} host CPU(s) for {} vCPU(s) and the device model's thread: a spinning "
                   "thread would hold the CPU the other one needs, so the vCPUs sleep as soon as an answer is "
                   "late and the device model does not poll (as in notification mode); with a CPU for each, "
                   "both poll",
                   cpus.usable, vcpu_count_);
    }
    if (const int rc = hsm_.set_attach_poll(poll); rc < 0) {
        log_warning("the relay cannot set the device model's poll ({}): it keeps its own", std::strerror(-rc));
        return;
    }
    if (poll == std::chrono::nanoseconds::max()) {
        log_info("the device model polls for the next request always (never sleeps)");
    } else if (poll > std::chrono::nanoseconds::zero()) {
        log_info("the device model polls for the next request for {} us before it sleeps", poll.count() / 1000);
    } else {
        log_info("the device model polls for the next request not at all");
    }
}

std::uint64_t VmSession::host_cpu_affinity() const {
    if (options_.cpu_affinity.empty()) {
        return 0;
    }
    std::map<std::uint32_t, int> host_cpus;
    try {
        host_cpus = host_cpus_by_apic_id();
    } catch (const std::exception& error) {
        throw StartupError(kExitFailure, std::string("--cpu_affinity: ") + error.what());
    }
    std::uint64_t mask = 0;
    for (const std::uint32_t apic_id : options_.cpu_affinity) {
        const auto found = host_cpus.find(apic_id);
        if (found == host_cpus.end() || found->second >= 64) {
            throw StartupError(kExitFailure, "--cpu_affinity: no online host CPU has LAPIC id " + std::to_string(apic_id));
        }
        mask |= 1ull << found->second;
    }
    return mask;
}

void VmSession::map_memory() {
    for (const GuestMemory::Region& region : memory_->regions()) {
        acrn_vm_memmap map{};
        map.type = ACRN_MEMMAP_RAM;
        map.attr = ACRN_MEM_ACCESS_RWX | ACRN_MEM_TYPE_WB;
        map.user_vm_pa = region.gpa;
        map.vma_base = reinterpret_cast<std::uintptr_t>(region.host);
        map.len = region.size;
        check(hsm_.set_memseg(map), "cannot map guest memory at " + std::to_string(region.gpa));
    }
}

void VmSession::start_storm_monitor() {
    if (!options_.intr_monitor) {
        return;  // never throttled: the sources' throttle check stays false
    }
    const IntrMonitorSpec& spec = *options_.intr_monitor;
    const StormSettings settings{spec.threshold_per_s, std::chrono::seconds(spec.period_s),
                                 std::chrono::milliseconds(spec.delay_ms), std::chrono::milliseconds(spec.duration_ms)};
    storm_monitor_ =
        std::make_unique<StormMonitor>(machine_->interrupts(), std::make_unique<AsioDelayTimers>(loop_), settings);
    storm_monitor_->start();
}

VmStatistics VmSession::statistics() const {
    if (!machine_) {
        throw MonitorError("the VM is not built yet");
    }
    VmStatistics statistics =
        collect_statistics(StatisticsSources{hsm_, machine_->buses().requests, machine_->interrupts()});
    statistics.vm_name = options_.vm_name;
    if (started_ != std::chrono::steady_clock::time_point{}) {
        statistics.uptime = std::chrono::steady_clock::now() - started_;
    }
    statistics.polling = options_.ioreq_polling;
    statistics.requests_served = ioreq_loop_ ? ioreq_loop_->requests_served() : 0;
    return statistics;
}

void VmSession::log_statistics() const {
    if (!machine_ || started_ == std::chrono::steady_clock::time_point{}) {
        return;
    }
    for (const std::string& line : format_statistics(statistics())) {
        log_notice("stats: {}", line);
    }
}

void VmSession::stop_vm() {
    // First, while the VM still takes interrupts: what a throttled source holds is delivered.
    storm_monitor_.reset();
    if (!vm_created_) {
        return;
    }
    vm_created_ = false;
    if (const int rc = hsm_.pause_vm(); rc < 0) {
        log_warning("pausing the VM failed: {}", std::strerror(-rc));
    }
    if (ioreq_loop_) {
        ioreq_loop_->stop();
    }
    try {
        log_statistics();  // while the hypervisor side still has the VM
    } catch (const std::exception& error) {
        log_warning("cannot log the VM's statistics: {}", error.what());
    }
    if (const int rc = hsm_.destroy_vm(); rc < 0) {
        log_warning("destroying the VM failed: {}", std::strerror(-rc));
    }
}

}  // namespace acrn::dm
