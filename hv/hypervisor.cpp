#include "hv/hypervisor.hpp"

#include <sched.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <system_error>

#include "common/log.hpp"
#include "common/polling_cpus.hpp"
#include "hv/kvm_system.hpp"
#include "hv/service_os_memory.hpp"
#include "hv/upcall.hpp"
#include "hv/vm.hpp"

namespace acrn::hv {
namespace {

std::uint16_t vcpu_count_for(const acrn_vm_creation& creation) {
    if (creation.cpu_affinity != 0) {
        return static_cast<std::uint16_t>(__builtin_popcountll(creation.cpu_affinity));
    }
    // Upstream marks vcpu_num as output only; we also take it as the wanted
    // count when no affinity is given (0 means ACRN's default of one vCPU).
    return creation.vcpu_num == 0 ? 1 : creation.vcpu_num;
}

template <typename T>
long with_argument(const ServiceOsMemory& memory, std::uint64_t address, auto&& action) {
    T* argument = memory.object_at<T>(address);
    if (argument == nullptr) {
        return -EFAULT;
    }
    return action(*argument);
}

}  // namespace

namespace {

std::vector<int> allowed_cpus() {
    std::vector<int> cpus;
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    if (::sched_getaffinity(0, sizeof allowed, &allowed) == 0) {
        for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
            if (CPU_ISSET(cpu, &allowed)) {
                cpus.push_back(cpu);
            }
        }
    }
    return cpus;
}

}  // namespace

Hypervisor::Hypervisor(const ServiceOsMemory& service_os, UpcallSink& upcall)
    : service_os_(service_os), upcall_(upcall), initial_cpus_(allowed_cpus()) {}

Hypervisor::~Hypervisor() {
    std::lock_guard lock(mutex_);
    vms_.clear();
}

std::shared_ptr<Vm> Hypervisor::find_vm(std::uint64_t vmid) {
    std::lock_guard lock(mutex_);
    auto found = vms_.find(static_cast<std::uint16_t>(vmid));
    if (vmid > 0xFFFF || found == vms_.end()) {
        return nullptr;
    }
    return found->second;
}

Hypervisor::RequestFinisher Hypervisor::request_finisher(std::uint16_t vmid) {
    const std::shared_ptr<Vm> vm = find_vm(vmid);
    if (!vm) {
        return {};
    }
    // A weak reference: the relay's copy must not keep a destroyed VM alive.
    return [weak = std::weak_ptr<Vm>(vm)](std::uint32_t vcpu) {
        const std::shared_ptr<Vm> target = weak.lock();
        return target ? target->notify_request_finish(vcpu) : -EINVAL;
    };
}

long Hypervisor::hypercall(std::uint64_t id, std::uint64_t param1, std::uint64_t param2) noexcept {
    try {
        switch (id) {
            case HC_CREATE_VM: return create_vm(param1);
            case HC_DESTROY_VM: return destroy_vm(static_cast<std::uint16_t>(param1));
            case HC_VM_SET_MEMORY_REGIONS: return set_memory_regions(param1);
            default: break;
        }
        const std::shared_ptr<Vm> vm = find_vm(param1);
        if (!vm) {
            return -EINVAL;
        }
        switch (id) {
            case HC_START_VM: return vm->start();
            case HC_PAUSE_VM: return vm->pause();
            case HC_RESET_VM: return vm->reset();
            case HC_NOTIFY_REQUEST_FINISH: return vm->notify_request_finish(static_cast<std::uint32_t>(param2));
            case HC_SET_VCPU_REGS:
                return with_argument<acrn_vcpu_regs>(service_os_, param2,
                                                     [&](const acrn_vcpu_regs& regs) { return vm->set_vcpu_regs(regs); });
            case HC_SET_IOREQ_BUFFER:
                return with_argument<acrn_ioreq_buffer_info>(service_os_, param2, [&](const acrn_ioreq_buffer_info& info) {
                    auto* page = static_cast<acrn_io_request_buffer*>(
                        service_os_.translate(info.ioreq_buf, sizeof(acrn_io_request_buffer)));
                    return page == nullptr ? -EFAULT : vm->set_ioreq_buffer(page);
                });
            case HC_SET_IRQLINE:
                return with_argument<acrn_irqline_ops>(service_os_, param2,
                                                       [&](const acrn_irqline_ops& ops) { return vm->set_irqline(ops); });
            case HC_INJECT_MSI:
                return with_argument<acrn_msi_entry>(service_os_, param2,
                                                     [&](const acrn_msi_entry& msi) { return vm->inject_msi(msi); });
            default:
                log_warning("hv: hypercall {:#x} is not supported", id);
                return -ENOTTY;
        }
    } catch (const std::system_error& error) {
        log_error("hv: hypercall {:#x} failed: {}", id, error.what());
        return error.code().category() == std::generic_category() ? -error.code().value() : -EIO;
    } catch (const std::exception& error) {
        log_error("hv: hypercall {:#x} failed: {}", id, error.what());
        return -EIO;
    }
}

long Hypervisor::add_irqfd(std::uint16_t vmid, const IrqfdRequest& request) noexcept {
    try {
        const std::shared_ptr<Vm> vm = find_vm(vmid);
        return vm ? vm->add_irqfd(request) : -EINVAL;
    } catch (const std::exception& error) {
        log_error("hv: irqfd for VM {}: {}", vmid, error.what());
        return -ENOMEM;
    }
}

long Hypervisor::vm_stats(std::uint16_t vmid, HypervisorStats& stats) noexcept {
    const std::shared_ptr<Vm> vm = find_vm(vmid);
    if (!vm) {
        return -EINVAL;
    }
    stats = vm->stats();
    return 0;
}

long Hypervisor::remove_irqfd(std::uint16_t vmid, int irqfd_id) noexcept {
    try {
        const std::shared_ptr<Vm> vm = find_vm(vmid);
        return vm ? vm->remove_irqfd(irqfd_id) : -EINVAL;
    } catch (const std::exception& error) {
        log_error("hv: irqfd for VM {}: {}", vmid, error.what());
        return -ENOMEM;
    }
}

long Hypervisor::create_vm(std::uint64_t creation_address) {
    auto* creation = service_os_.object_at<acrn_vm_creation>(creation_address);
    if (creation == nullptr) {
        return -EFAULT;
    }
    const std::uint64_t flags = creation->vm_flag;
    if ((flags & ACRN_GUEST_FLAG_LAPIC_PASSTHROUGH) != 0 && (flags & ACRN_GUEST_FLAG_RT) == 0) {
        return -EINVAL;  // as ACRN: LAPIC pass-through only for an RTVM
    }
    const std::uint16_t vcpu_count = vcpu_count_for(*creation);
    if (vcpu_count == 0 || vcpu_count > kMaxVcpusPerVm) {
        return -EINVAL;
    }
    if (!kvm_) {
        kvm_ = std::make_unique<KvmSystem>();
    }

    std::lock_guard lock(mutex_);
    std::uint16_t vmid = next_vmid_;
    while (vms_.count(vmid) != 0 || vmid == 0) {
        ++vmid;
    }
    VmConfig config;
    config.id = vmid;
    config.vcpu_count = vcpu_count;
    config.completion = (flags & ACRN_GUEST_FLAG_IO_COMPLETION_POLLING) != 0 ? CompletionMode::polling
                                                                              : CompletionMode::notification;
    for (int cpu = 0; cpu < 64; ++cpu) {
        if ((creation->cpu_affinity >> cpu) & 1) {
            config.host_cpus.push_back(cpu);
        }
    }
    config.unpinned_cpus = initial_cpus_;
    config.idle_in_guest = (flags & ACRN_GUEST_FLAG_LAPIC_PASSTHROUGH) != 0;
    const PollingCpus cpus = polling_cpus(vcpu_count, creation->cpu_affinity);
    if (!cpus.enough()) {
        config.max_spin = std::chrono::nanoseconds::zero();  // a spinning vCPU would hold the Service OS's CPU
    }
    char name[sizeof(creation->uuid) + 1] = {};
    std::memcpy(name, &creation->uuid, sizeof(creation->uuid));  // ACRN keeps the VM name here
    config.name = name;
    UpcallSink& upcall = upcall_;
    vms_.emplace(vmid, std::make_shared<Vm>(
                           config, *kvm_, [&upcall, vmid](std::uint32_t vcpu) { upcall.on_ioreq_pending(vmid, vcpu); },
                           [&upcall, vmid](std::uint32_t vcpu, const std::string& reason) {
                               upcall.on_vm_fatal(vmid, vcpu, reason);
                           }));
    next_vmid_ = static_cast<std::uint16_t>(vmid + 1);
    creation->vmid = vmid;
    creation->vcpu_num = vcpu_count;
    if (config.completion == CompletionMode::polling) {
        log_info("hv: VM {} '{}' created: {} vCPU(s), polling completion, vCPUs spin up to {} us ({} host CPU(s) "
                 "for {} vCPU(s) and the Service OS)",
                 vmid, config.name, vcpu_count, config.max_spin.count() / 1000, cpus.usable, vcpu_count);
    } else {
        log_info("hv: VM {} '{}' created: {} vCPU(s), notification completion", vmid, config.name, vcpu_count);
    }
    return 0;
}

long Hypervisor::destroy_vm(std::uint16_t vmid) {
    std::shared_ptr<Vm> vm;
    {
        std::lock_guard lock(mutex_);
        auto found = vms_.find(vmid);
        if (found == vms_.end()) {
            return -EINVAL;
        }
        if (const int rc = found->second->prepare_destroy(); rc < 0) {
            return rc;
        }
        vm = std::move(found->second);
        vms_.erase(found);
    }
    return 0;  // the last reference, dropped here, closes the KVM VM
}

long Hypervisor::set_memory_regions(std::uint64_t batch_address) {
    auto* batch = service_os_.object_at<acrn_vm_memory_region_batch>(batch_address);
    if (batch == nullptr) {
        return -EFAULT;
    }
    const std::shared_ptr<Vm> vm = find_vm(batch->vmid);
    if (!vm) {
        return -EINVAL;
    }
    if (batch->regions_num == 0 || batch->regions_num > 256) {
        return -EINVAL;
    }
    auto* ops = static_cast<acrn_vm_memory_region_op*>(
        service_os_.translate(batch->regions_gpa, sizeof(acrn_vm_memory_region_op) * batch->regions_num));
    if (ops == nullptr) {
        return -EFAULT;
    }
    for (std::uint32_t i = 0; i < batch->regions_num; ++i) {
        void* host = service_os_.translate(ops[i].service_vm_pa, ops[i].size);
        if (host == nullptr && ops[i].type == ACRN_MEM_REGION_ADD) {
            return -EFAULT;
        }
        if (const int rc = vm->set_memory_region(ops[i], reinterpret_cast<std::uintptr_t>(host)); rc < 0) {
            return rc;
        }
    }
    return 0;
}

}  // namespace acrn::hv
