#include "hv/vm.hpp"

#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>

#include "common/log.hpp"
#include "common/system_error.hpp"
#include "hv/kvm_system.hpp"
#include "hv/vcpu.hpp"

namespace acrn::hv {
namespace {

// KVM on Intel needs a TSS and an identity-map page below 4 GiB that the
// guest never uses; ACRN's guest layout leaves this range to firmware.
constexpr std::uint64_t kKvmIdentityMapAddress = 0xFFFB'C000;
constexpr std::uint64_t kKvmTssAddress = 0xFFFB'D000;

constexpr std::uint32_t kIoapicPins = 24;

}  // namespace

Vm::Vm(const VmConfig& config, const KvmSystem& kvm, IoreqChannel::Upcall upcall,
       std::function<void(std::uint32_t vcpu, const std::string& reason)> report_fatal)
    : config_(config),
      kvm_(kvm),
      report_fatal_(std::move(report_fatal)),
      ioreq_(config.completion, config.vcpu_count, std::move(upcall), config.max_spin),
      exit_counts_(std::make_unique<VcpuExitCounts[]>(config.vcpu_count)) {
    create_kvm_vm();
}

Vm::~Vm() { stop_vcpus(); }

void Vm::create_kvm_vm() {
    vm_fd_ = kvm_.create_vm();
    std::uint64_t identity_map = kKvmIdentityMapAddress;
    // Only Intel needs these two; AMD accepts and ignores them.
    (void)::ioctl(vm_fd_.get(), KVM_SET_IDENTITY_MAP_ADDR, &identity_map);
    (void)::ioctl(vm_fd_.get(), KVM_SET_TSS_ADDR, static_cast<unsigned long>(kKvmTssAddress));
    if (::ioctl(vm_fd_.get(), KVM_CREATE_IRQCHIP, 0) < 0) {
        throw_errno("KVM_CREATE_IRQCHIP");
    }
    if (config_.idle_in_guest) {
        keep_idle_in_guest();  // before any vCPU exists, as KVM requires
    }
    kvm_pit_config pit{};
    if (::ioctl(vm_fd_.get(), KVM_CREATE_PIT2, &pit) < 0) {
        throw_errno("KVM_CREATE_PIT2");
    }
    if (const int rc = irqfds_.reinstall(vm_fd_.get()); rc < 0) {
        throw_errno("irqfd routes", -rc);
    }
    for (auto& [gpa, slot] : memory_) {
        if (const int rc = install_memory_slot(gpa, slot); rc < 0) {
            throw_errno("KVM_SET_USER_MEMORY_REGION", -rc);
        }
    }
    build_all_or_leave(run_control_, vcpus_, config_.vcpu_count, [&](std::uint32_t id) {
        const std::optional<int> host_cpu =
            id < config_.host_cpus.size() ? std::optional<int>(config_.host_cpus[id]) : std::nullopt;
        const VcpuServices services{run_control_, exit_counts_[id], ioreq_, pci_address_, report_fatal_,
                                    config_.unpinned_cpus};
        return std::make_unique<Vcpu>(id, vm_fd_.get(), kvm_, services, host_cpu);
    });
    run_control_.wait_parked(config_.vcpu_count);
}

// What ACRN's LAPIC pass-through buys an RTVM, its idle and spin-wait
// instructions no longer leave the guest, as far as this host's KVM offers.
// Where it offers nothing, the VM runs on with ordinary exits.
void Vm::keep_idle_in_guest() {
    const int offered = ::ioctl(vm_fd_.get(), KVM_CHECK_EXTENSION, KVM_CAP_X86_DISABLE_EXITS);
    const bool first_time = !idle_exits_reported_;
    idle_exits_reported_ = true;
    if (offered <= 0) {
        if (first_time) {
            log_warning("hv: VM {}: this host's KVM cannot keep HLT or PAUSE in the guest "
                        "(no KVM_CAP_X86_DISABLE_EXITS): LAPIC pass-through has no counterpart here",
                        config_.id);
        }
        return;
    }
    const int wanted = KVM_X86_DISABLE_EXITS_HLT | KVM_X86_DISABLE_EXITS_PAUSE | KVM_X86_DISABLE_EXITS_MWAIT |
                       KVM_X86_DISABLE_EXITS_CSTATE;
    kvm_enable_cap cap{};
    cap.cap = KVM_CAP_X86_DISABLE_EXITS;
    cap.args[0] = static_cast<std::uint64_t>(offered & wanted);
    if (::ioctl(vm_fd_.get(), KVM_ENABLE_CAP, &cap) < 0) {
        if (first_time) {
            log_warning("hv: VM {}: KVM refused to keep idle exits in the guest: {}", config_.id,
                        std::strerror(errno));
        }
        return;
    }
    if (first_time) {
        const auto kept = [&](int bit) { return (cap.args[0] & static_cast<std::uint64_t>(bit)) != 0; };
        log_info("hv: VM {}: HLT {}, PAUSE {}, MWAIT {}, C-states {} in the guest (LAPIC pass-through)", config_.id,
                 kept(KVM_X86_DISABLE_EXITS_HLT) ? "stays" : "exits", kept(KVM_X86_DISABLE_EXITS_PAUSE) ? "stays" : "exits",
                 kept(KVM_X86_DISABLE_EXITS_MWAIT) ? "stays" : "exits (not offered by this host)",
                 kept(KVM_X86_DISABLE_EXITS_CSTATE) ? "stay" : "exit");
    }
}

void Vm::stop_vcpus() {
    ioreq_.abort_waits();
    run_control_.set(VmRunControl::Command::leave);
    vcpus_.clear();  // each destructor kicks and joins its thread
}

HypervisorStats Vm::stats() const noexcept {
    HypervisorStats stats;
    for (std::uint32_t vcpu = 0; vcpu < config_.vcpu_count; ++vcpu) {
        for (std::size_t kind = 0; kind < kVcpuExitKinds; ++kind) {
            stats.exits[kind] += exit_counts_[vcpu].by_reason[kind].load(std::memory_order_relaxed);
        }
    }
    ioreq_.read_round_trips(stats);
    return stats;
}

Vm::State Vm::state() const {
    std::lock_guard lock(mutex_);
    return state_;
}

int Vm::set_ioreq_buffer(acrn_io_request_buffer* buffer) {
    std::lock_guard lock(mutex_);
    if (buffer == nullptr) {
        return -EINVAL;
    }
    ioreq_.attach_buffer(buffer);
    return 0;
}

int Vm::start() {
    std::lock_guard lock(mutex_);
    if (state_ == State::running || !ioreq_.has_buffer()) {
        return -EINVAL;
    }
    state_ = State::running;
    run_control_.set(VmRunControl::Command::run);
    return 0;
}

int Vm::pause() {
    std::lock_guard lock(mutex_);
    if (state_ != State::running) {
        return state_ == State::paused ? 0 : -EINVAL;
    }
    state_ = State::paused;
    run_control_.set(VmRunControl::Command::park);
    for (auto& vcpu : vcpus_) {
        vcpu->kick();
    }
    return 0;
}

int Vm::reset() {
    std::lock_guard lock(mutex_);
    if (state_ != State::paused) {
        return -EINVAL;
    }
    // KVM has no cold reset of a VM: build a fresh one over the same memory.
    try {
        stop_vcpus();
        vm_fd_.reset();
        ioreq_.free_all_slots();
        ioreq_.resume_after_abort();
        pci_address_.reset();
        run_control_.set(VmRunControl::Command::park);
        create_kvm_vm();
    } catch (const std::system_error& error) {
        log_error("VM {}: reset failed: {}", config_.id, error.what());
        return -error.code().value();
    }
    state_ = State::created;
    return 0;
}

int Vm::prepare_destroy() {
    std::lock_guard lock(mutex_);
    if (state_ == State::running) {
        return -EBUSY;
    }
    stop_vcpus();
    return 0;
}

int Vm::set_vcpu_regs(const acrn_vcpu_regs& regs) {
    std::lock_guard lock(mutex_);
    if (state_ == State::running) {
        return -EBUSY;
    }
    if (regs.vcpu_id >= vcpus_.size()) {
        return -EINVAL;
    }
    try {
        vcpus_[regs.vcpu_id]->set_registers(regs.vcpu_regs);
    } catch (const std::system_error& error) {
        log_error("VM {}: set vCPU {} registers: {}", config_.id, regs.vcpu_id, error.what());
        return -error.code().value();
    }
    return 0;
}

int Vm::install_memory_slot(std::uint64_t gpa, const MemorySlot& slot) {
    kvm_userspace_memory_region region{};
    region.slot = slot.slot;
    region.guest_phys_addr = gpa;
    region.memory_size = slot.size;
    region.userspace_addr = slot.host_address;
    region.flags = (slot.attr & ACRN_MEM_ACCESS_WRITE) != 0 ? 0 : KVM_MEM_READONLY;
    return ::ioctl(vm_fd_.get(), KVM_SET_USER_MEMORY_REGION, &region) < 0 ? -errno : 0;
}

int Vm::set_memory_region(const acrn_vm_memory_region_op& op, std::uint64_t host_address) {
    std::lock_guard lock(mutex_);
    constexpr std::uint64_t kPage = 4096;
    if (op.size == 0 || op.size % kPage != 0 || op.user_vm_pa % kPage != 0 || host_address % kPage != 0) {
        return -EINVAL;
    }
    if (op.type == ACRN_MEM_REGION_DEL) {
        auto found = memory_.find(op.user_vm_pa);
        if (found == memory_.end() || found->second.size != op.size) {
            return -EINVAL;
        }
        MemorySlot removed = found->second;
        removed.size = 0;
        if (const int rc = install_memory_slot(op.user_vm_pa, removed); rc < 0) {
            return rc;
        }
        memory_.erase(found);
        return 0;
    }
    if (op.type != ACRN_MEM_REGION_ADD) {
        return -EINVAL;
    }
    // Refuse overlaps: KVM would too, with a less useful error.
    for (const auto& [gpa, slot] : memory_) {
        if (op.user_vm_pa < gpa + slot.size && gpa < op.user_vm_pa + op.size) {
            return -EEXIST;
        }
    }
    const MemorySlot slot{next_slot_, op.size, host_address, op.attr};
    if (const int rc = install_memory_slot(op.user_vm_pa, slot); rc < 0) {
        return rc;
    }
    ++next_slot_;
    memory_.emplace(op.user_vm_pa, slot);
    return 0;
}

int Vm::notify_request_finish(std::uint32_t vcpu) {
    // No lock: this is the hot path, and the channel checks its own bounds.
    // A polling VM's vCPU asks for this only once it stopped spinning.
    return ioreq_.notify_finish(vcpu);
}

int Vm::set_irqline(const acrn_irqline_ops& ops) {
    if (ops.gsi >= kIoapicPins) {
        return -EINVAL;
    }
    auto line = [&](std::uint32_t level) {
        kvm_irq_level irq{};
        irq.irq = ops.gsi;
        irq.level = level;
        return ::ioctl(vm_fd_.get(), KVM_IRQ_LINE, &irq) < 0 ? -errno : 0;
    };
    std::lock_guard lock(mutex_);
    switch (ops.op) {
        case ACRN_IRQLINE_SET_HIGH: return line(1);
        case ACRN_IRQLINE_SET_LOW: return line(0);
        case ACRN_IRQLINE_RAISING_PULSE: {
            const int rc = line(1);
            return rc < 0 ? rc : line(0);
        }
        case ACRN_IRQLINE_FALLING_PULSE: {
            const int rc = line(0);
            return rc < 0 ? rc : line(1);
        }
        default: return -EINVAL;
    }
}

int Vm::inject_msi(const acrn_msi_entry& msi) {
    kvm_msi message{};
    message.address_lo = static_cast<std::uint32_t>(msi.msi_addr);
    message.address_hi = static_cast<std::uint32_t>(msi.msi_addr >> 32);
    message.data = static_cast<std::uint32_t>(msi.msi_data);
    std::lock_guard lock(mutex_);
    const int rc = ::ioctl(vm_fd_.get(), KVM_SIGNAL_MSI, &message);
    return rc < 0 ? -errno : 0;
}

int Vm::add_irqfd(const IrqfdRequest& request) {
    std::lock_guard lock(mutex_);
    return irqfds_.add(vm_fd_.get(), request);
}

int Vm::remove_irqfd(int id) {
    std::lock_guard lock(mutex_);
    return irqfds_.remove(vm_fd_.get(), id);
}

}  // namespace acrn::hv
