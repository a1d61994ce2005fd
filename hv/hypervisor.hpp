// The hypervisor core: owns the User VMs and serves ACRN's hypercalls with
// their ids and argument structures, so one dispatcher serves the hosted
// relay and the Service-VM relay alike. Returns 0 (or a VM id) or -errno.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "abi/acrn/abi.h"
#include "common/hypervisor_stats.hpp"

namespace acrn::hv {

class KvmSystem;
class ServiceOsMemory;
class UpcallSink;
class Vm;
struct IrqfdRequest;

class Hypervisor {
public:
    Hypervisor(const ServiceOsMemory& service_os, UpcallSink& upcall);
    Hypervisor(const Hypervisor&) = delete;
    Hypervisor& operator=(const Hypervisor&) = delete;
    ~Hypervisor();

    // `param1`/`param2` are what ACRN passes in RDI/RSI: a VM id, a vCPU id
    // or the Service-OS address of an argument structure.
    [[nodiscard]] long hypercall(std::uint64_t id, std::uint64_t param1, std::uint64_t param2) noexcept;

    // Hosted-mode extensions with no ACRN hypercall: ACRN's HSM module
    // implements irqfd itself (it waits on the eventfd and issues
    // HC_INJECT_MSI); on KVM hv hands the eventfd to KVM instead. add_irqfd
    // returns an irqfd id (> 0) or -errno; remove_irqfd 0 or -errno.
    [[nodiscard]] long add_irqfd(std::uint16_t vmid, const IrqfdRequest& request) noexcept;
    [[nodiscard]] long remove_irqfd(std::uint16_t vmid, int irqfd_id) noexcept;
    // Hosted-mode extension: the VM's exit counts and ioreq round trips
    // (common/hypervisor_stats.hpp); 0 or -EINVAL for no such VM.
    [[nodiscard]] long vm_stats(std::uint16_t vmid, HypervisorStats& stats) noexcept;

    // Hosted mode's in-process HC_NOTIFY_REQUEST_FINISH: bound to one VM,
    // so completing a request skips the hypercall dispatch and the VM
    // lookup. Empty if there is no such VM; once the VM is destroyed the
    // callable returns -EINVAL, as the hypercall would.
    using RequestFinisher = std::function<int(std::uint32_t vcpu)>;
    [[nodiscard]] RequestFinisher request_finisher(std::uint16_t vmid);

    static constexpr std::uint16_t kMaxVcpusPerVm = ACRN_IO_REQUEST_MAX;

private:
    long create_vm(std::uint64_t creation_address);
    long destroy_vm(std::uint16_t vmid);
    long set_memory_regions(std::uint64_t batch_address);
    std::shared_ptr<Vm> find_vm(std::uint64_t vmid);

    const ServiceOsMemory& service_os_;
    UpcallSink& upcall_;
    std::unique_ptr<KvmSystem> kvm_;  // opened at the first VM creation
    // The host CPUs this process could run on when hv started: an unpinned
    // vCPU runs on these, whatever the Service OS's threads were confined to
    // since (acrn-dm's --dm_cpus).
    const std::vector<int> initial_cpus_;

    std::mutex mutex_;  // guards vms_ and next_vmid_
    std::map<std::uint16_t, std::shared_ptr<Vm>> vms_;
    std::uint16_t next_vmid_ = 1;  // 0 is the Service VM in ACRN
};

}  // namespace acrn::hv
