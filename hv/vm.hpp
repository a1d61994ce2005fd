// One User VM on KVM: its memory slots, interrupt controller, vCPUs, ioreq
// channel and life-cycle state. Methods mirror ACRN's VM hypercalls and
// return 0 or -errno as they do.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "abi/acrn/abi.h"
#include "common/hypervisor_stats.hpp"
#include "common/unique_fd.hpp"
#include "hv/ioreq_channel.hpp"
#include "hv/irqfd.hpp"
#include "hv/pci_config_address.hpp"
#include "hv/vm_run_control.hpp"

namespace acrn::hv {

class KvmSystem;
class Vcpu;
struct VcpuExitCounts;

struct VmConfig {
    std::uint16_t id = 0;
    std::uint16_t vcpu_count = 1;
    CompletionMode completion = CompletionMode::notification;
    // Polling: the longest a vCPU spins for an answer (hv/poll_window.hpp).
    std::chrono::nanoseconds max_spin = IoreqChannel::kDefaultMaxSpin;
    // LAPIC pass-through (an RTVM): KVM's counterpart is a guest that keeps
    // HLT, PAUSE, MWAIT and C-states to itself (KVM_CAP_X86_DISABLE_EXITS).
    bool idle_in_guest = false;
    std::string name;
    // Host CPU of each vCPU (ACRN's cpu_affinity: vCPU i runs on the i-th
    // CPU of the bitmap); empty = the host scheduler decides.
    std::vector<int> host_cpus;
    // Where a vCPU without a host CPU of its own runs (empty: wherever the
    // thread that creates it may).
    std::vector<int> unpinned_cpus;
};

class Vm {
public:
    enum class State { created, running, paused };

    // `report_fatal` is told when a vCPU thread's own code fails.
    Vm(const VmConfig& config, const KvmSystem& kvm, IoreqChannel::Upcall upcall,
       std::function<void(std::uint32_t vcpu, const std::string& reason)> report_fatal = {});
    Vm(const Vm&) = delete;
    Vm& operator=(const Vm&) = delete;
    ~Vm();

    [[nodiscard]] std::uint16_t id() const noexcept { return config_.id; }
    [[nodiscard]] std::uint16_t vcpu_count() const noexcept { return config_.vcpu_count; }
    [[nodiscard]] State state() const;
    // Exits and round trips since the VM was created (any thread).
    [[nodiscard]] HypervisorStats stats() const noexcept;

    int set_ioreq_buffer(acrn_io_request_buffer* buffer);
    int start();
    int pause();
    int reset();
    // Stops every vCPU thread; the VM must be paused first (as ACRN asks).
    int prepare_destroy();
    int set_vcpu_regs(const acrn_vcpu_regs& regs);
    // `host_address` is where the region's pages are mapped in this process.
    int set_memory_region(const acrn_vm_memory_region_op& op, std::uint64_t host_address);
    int notify_request_finish(std::uint32_t vcpu);
    int set_irqline(const acrn_irqline_ops& ops);
    int inject_msi(const acrn_msi_entry& msi);
    // irqfds (hv/irqfd.hpp); they outlive a reset, as ACRN's HSM keeps them.
    // add returns an id (> 0) or -errno.
    int add_irqfd(const IrqfdRequest& request);
    int remove_irqfd(int id);

private:
    struct MemorySlot {
        std::uint32_t slot;
        std::uint64_t size;
        std::uint64_t host_address;
        std::uint32_t attr;
    };

    void create_kvm_vm();
    void keep_idle_in_guest();
    void stop_vcpus();
    int install_memory_slot(std::uint64_t gpa, const MemorySlot& slot);

    const VmConfig config_;
    const KvmSystem& kvm_;
    const std::function<void(std::uint32_t vcpu, const std::string& reason)> report_fatal_;
    IoreqChannel ioreq_;
    PciConfigAddress pci_address_;
    VmRunControl run_control_;
    const std::unique_ptr<VcpuExitCounts[]> exit_counts_;  // by vCPU id; outlive the vCPUs across a reset

    mutable std::mutex mutex_;  // guards everything below
    State state_ = State::created;
    UniqueFd vm_fd_;
    std::map<std::uint64_t, MemorySlot> memory_;  // by guest-physical base
    std::uint32_t next_slot_ = 0;
    IrqfdTable irqfds_;
    bool idle_exits_reported_ = false;  // said once, not again at each reset
    std::vector<std::unique_ptr<Vcpu>> vcpus_;  // destroyed before vm_fd_ closes
};

}  // namespace acrn::hv
