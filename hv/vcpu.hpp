// One vCPU: its KVM fd, its kvm_run page and the host thread that runs it.
// Every exit is either handled here (0xCF8 latch, shutdown) or becomes an
// I/O request through the VM's ioreq channel.
#pragma once

#include <linux/kvm.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "abi/acrn/abi.h"
#include "common/hypervisor_stats.hpp"
#include "common/mapping.hpp"
#include "common/unique_fd.hpp"

namespace acrn::hv {

class KvmSystem;
class VmRunControl;
class IoreqChannel;
class PciConfigAddress;

// Told when a vCPU thread's own code failed (UpcallSink::on_vm_fatal).
using VcpuFatalReport = std::function<void(std::uint32_t vcpu, const std::string& reason)>;

// One vCPU's exits by reason, written by its thread only. The VM keeps
// them, so they outlive the vCPU's thread across a reset.
struct alignas(64) VcpuExitCounts {
    std::array<std::atomic<std::uint64_t>, kVcpuExitKinds> by_reason{};
};

struct VcpuServices {
    VmRunControl& run_control;
    VcpuExitCounts& exits;
    IoreqChannel& ioreq;
    PciConfigAddress& pci_address;
    const VcpuFatalReport& report_fatal;
    const std::vector<int>& unpinned_cpus;  // where the thread runs without a host CPU of its own
};

class Vcpu {
public:
    // `host_cpu`: pin the vCPU's thread there (ACRN's cpu_affinity).
    Vcpu(std::uint32_t id, int vm_fd, const KvmSystem& kvm, VcpuServices services, std::optional<int> host_cpu);
    Vcpu(const Vcpu&) = delete;
    Vcpu& operator=(const Vcpu&) = delete;
    ~Vcpu();

    [[nodiscard]] std::uint32_t id() const noexcept { return id_; }
    // Only while the thread is parked (VM created or paused).
    void set_registers(const acrn_regs& registers);
    // Forces the thread out of KVM_RUN so it sees a new run state.
    void kick() noexcept;

private:
    enum class AfterExit { resume, park_until_reset };

    void configure_cpuid(const KvmSystem& kvm);
    // The thread's exception barrier: nothing leaves it.
    void thread_main(std::optional<int> host_cpu) noexcept;
    void prepare_thread(std::optional<int> host_cpu);
    void run_until_leave();
    void crash(const std::string& what) noexcept;
    AfterExit handle_exit();
    void handle_port_io();
    void handle_mmio();
    std::uint64_t port_access(std::uint16_t port, std::uint32_t size, bool write, std::uint64_t value);
    AfterExit power_off_after(const char* reason);
    void count_exit(VcpuExit exit) noexcept {
        services_.exits.by_reason[static_cast<std::size_t>(exit)].fetch_add(1, std::memory_order_relaxed);
    }

    const std::uint32_t id_;
    VcpuServices services_;
    UniqueFd fd_;
    Mapping run_page_;
    kvm_run* run_ = nullptr;
    std::thread thread_;  // last: started once everything above exists
};

}  // namespace acrn::hv
