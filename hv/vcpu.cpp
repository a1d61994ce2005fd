#include "hv/vcpu.hpp"

#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <mutex>

#include "common/access_size.hpp"
#include "common/log.hpp"
#include "common/system_error.hpp"
#include "hv/guest_cpuid.hpp"
#include "hv/ioreq_channel.hpp"
#include "hv/kvm_system.hpp"
#include "hv/pci_config_address.hpp"
#include "hv/vcpu_registers.hpp"
#include "hv/vm_run_control.hpp"

namespace acrn::hv {
namespace {

// The signal that forces a vCPU thread out of KVM_RUN. Its handler does
// nothing: the interrupted ioctl returning EINTR is the whole effect.
int kick_signal() { return SIGRTMIN; }

void install_kick_handler() {
    static std::once_flag once;
    std::call_once(once, [] {
        struct sigaction action {};
        action.sa_handler = [](int) {};
        sigemptyset(&action.sa_mask);
        ::sigaction(kick_signal(), &action, nullptr);
    });
}

// ACPI PM1a control: SLP_TYP 5 (S5) with SLP_EN, written to 0x404 as 16
// bits. ACRN's hypervisor powers a VM off this way after a triple fault.
constexpr std::uint16_t kPm1aControlPort = 0x404;
constexpr std::uint64_t kSleepS5 = (5u << 10) | (1u << 13);

RateLimiter& bad_request_log_limit() {
    static RateLimiter limiter;
    return limiter;
}

}  // namespace

Vcpu::Vcpu(std::uint32_t id, int vm_fd, const KvmSystem& kvm, VcpuServices services, std::optional<int> host_cpu)
    : id_(id), services_(services), fd_(::ioctl(vm_fd, KVM_CREATE_VCPU, static_cast<unsigned long>(id))) {
    if (!fd_) {
        throw_errno("KVM_CREATE_VCPU " + std::to_string(id));
    }
    void* page = ::mmap(nullptr, kvm.vcpu_mmap_size(), PROT_READ | PROT_WRITE, MAP_SHARED, fd_.get(), 0);
    if (page == MAP_FAILED) {
        throw_errno("mmap of kvm_run for vCPU " + std::to_string(id));
    }
    run_page_ = Mapping(page, kvm.vcpu_mmap_size());
    run_ = static_cast<kvm_run*>(page);
    configure_cpuid(kvm);
    install_kick_handler();
    thread_ = std::thread([this, host_cpu] { thread_main(host_cpu); });
}

Vcpu::~Vcpu() {
    // The owner has told the run control to leave; make sure we are not in KVM_RUN.
    kick();
    if (thread_.joinable()) {
        thread_.join();
    }
}

void Vcpu::configure_cpuid(const KvmSystem& kvm) {
    CpuidTable cpuid = kvm.supported_cpuid();
    shape_guest_cpuid(cpuid.entries(), id_);
    if (::ioctl(fd_.get(), CpuidTable::kSetCpuid2, cpuid.ioctl_argument()) < 0) {
        throw_errno("KVM_SET_CPUID2 for vCPU " + std::to_string(id_));
    }
}

void Vcpu::set_registers(const acrn_regs& registers) {
    // A vCPU parked after a port or MMIO exit still has KVM's half of that
    // access to do (an IN's result into RAX, RIP past the instruction) at
    // its next KVM_RUN: done now, with immediate_exit, so that it cannot
    // land on the new registers (S3's wake of a running VM's vCPU 0).
    __atomic_store_n(&run_->immediate_exit, 1, __ATOMIC_RELEASE);
    const int flushed = ::ioctl(fd_.get(), KVM_RUN, 0);
    __atomic_store_n(&run_->immediate_exit, 0, __ATOMIC_RELEASE);
    if (flushed < 0 && errno != EINTR) {
        throw_errno("KVM_RUN (immediate exit)");
    }
    kvm_regs regs{};
    kvm_sregs sregs{};
    if (::ioctl(fd_.get(), KVM_GET_SREGS, &sregs) < 0) {
        throw_errno("KVM_GET_SREGS");
    }
    apply_acrn_regs(registers, regs, sregs);
    if (::ioctl(fd_.get(), KVM_SET_SREGS, &sregs) < 0) {
        throw_errno("KVM_SET_SREGS");
    }
    if (::ioctl(fd_.get(), KVM_SET_REGS, &regs) < 0) {
        throw_errno("KVM_SET_REGS");
    }
    // It runs from the new registers, even if the guest had halted it (an
    // AP waiting for its SIPI is left waiting).
    kvm_mp_state state{};
    if (::ioctl(fd_.get(), KVM_GET_MP_STATE, &state) < 0) {
        throw_errno("KVM_GET_MP_STATE");
    }
    if (state.mp_state == KVM_MP_STATE_HALTED) {
        state.mp_state = KVM_MP_STATE_RUNNABLE;
        if (::ioctl(fd_.get(), KVM_SET_MP_STATE, &state) < 0) {
            throw_errno("KVM_SET_MP_STATE");
        }
    }
}

void Vcpu::kick() noexcept {
    __atomic_store_n(&run_->immediate_exit, 1, __ATOMIC_RELEASE);
    if (thread_.joinable()) {
        ::pthread_kill(thread_.native_handle(), kick_signal());
    }
}

void Vcpu::thread_main(std::optional<int> host_cpu) noexcept {
    try {
        prepare_thread(host_cpu);
        run_until_leave();
    } catch (const std::exception& error) {
        crash(error.what());
    } catch (...) {
        crash("an exception of unknown type");
    }
}

// hv cannot go on with this vCPU: tell the Service OS why, power the VM off
// as for a fatal exit, and stay out of the way until the VM is reset or
// destroyed (both make new vCPU threads).
void Vcpu::crash(const std::string& what) noexcept {
    try {
        log_error("vCPU {}: hypervisor error: {}; powering the VM off", id_, what);
        if (services_.report_fatal) {
            services_.report_fatal(id_, what);
        }
        (void)port_access(kPm1aControlPort, 2, true, kSleepS5);
    } catch (...) {
        // Nothing more can be done from this thread; the VM's owner still
        // pauses and destroys the VM.
    }
    services_.run_control.wait_until_leaving();
}

void Vcpu::prepare_thread(std::optional<int> host_cpu) {
    sigset_t kick_only;
    sigemptyset(&kick_only);
    sigaddset(&kick_only, kick_signal());
    ::pthread_sigmask(SIG_UNBLOCK, &kick_only, nullptr);
    const std::string name = "vcpu " + std::to_string(id_);
    ::pthread_setname_np(::pthread_self(), name.c_str());
    if (host_cpu) {
        cpu_set_t cpus;
        CPU_ZERO(&cpus);
        CPU_SET(*host_cpu, &cpus);
        if (const int rc = ::pthread_setaffinity_np(::pthread_self(), sizeof(cpus), &cpus); rc != 0) {
            log_warning("vCPU {}: cannot pin to host CPU {}: {}", id_, *host_cpu, std::strerror(rc));
        } else {
            log_info("vCPU {}: pinned to host CPU {}", id_, *host_cpu);
        }
    } else if (!services_.unpinned_cpus.empty()) {
        // Not where the thread that made it was confined (acrn-dm's --dm_cpus).
        cpu_set_t cpus;
        CPU_ZERO(&cpus);
        for (const int cpu : services_.unpinned_cpus) {
            CPU_SET(cpu, &cpus);
        }
        if (const int rc = ::pthread_setaffinity_np(::pthread_self(), sizeof(cpus), &cpus); rc != 0) {
            log_warning("vCPU {}: cannot widen its host CPUs: {}", id_, std::strerror(rc));
        }
    }
}

void Vcpu::run_until_leave() {
    while (services_.run_control.wait_until_running()) {
        bool parked_by_hv = false;
        while (services_.run_control.running() && !parked_by_hv) {
            __atomic_store_n(&run_->immediate_exit, 0, __ATOMIC_RELEASE);
            if (!services_.run_control.running()) {
                break;
            }
            if (::ioctl(fd_.get(), KVM_RUN, 0) < 0) {
                if (errno == EINTR || errno == EAGAIN) {
                    continue;
                }
                log_error("vCPU {}: KVM_RUN failed: {}", id_, std::strerror(errno));
                parked_by_hv = power_off_after("KVM_RUN failed") == AfterExit::park_until_reset;
                continue;
            }
            parked_by_hv = handle_exit() == AfterExit::park_until_reset;
        }
        if (parked_by_hv) {
            // The guest cannot continue; stay out of KVM_RUN until the VM is
            // paused and reset or destroyed.
            services_.run_control.wait_while_running();
        }
    }
}

Vcpu::AfterExit Vcpu::handle_exit() {
    switch (run_->exit_reason) {
        case KVM_EXIT_IO:
            count_exit(VcpuExit::port_io);
            handle_port_io();
            return AfterExit::resume;
        case KVM_EXIT_MMIO:
            count_exit(VcpuExit::mmio);
            handle_mmio();
            return AfterExit::resume;
        case KVM_EXIT_INTR:
            count_exit(VcpuExit::interrupted);
            return AfterExit::resume;
        case KVM_EXIT_HLT:
            // With the in-kernel irqchip KVM keeps HLT to itself; seeing one
            // means the guest halted for good.
            count_exit(VcpuExit::hlt);
            return power_off_after("guest halted with no interrupt controller to wake it");
        case KVM_EXIT_SHUTDOWN:
            count_exit(VcpuExit::shutdown);
            return power_off_after("triple fault");
        case KVM_EXIT_SYSTEM_EVENT:
            count_exit(VcpuExit::system_event);
            return power_off_after("system event from the guest");
        case KVM_EXIT_FAIL_ENTRY:
            count_exit(VcpuExit::failed_entry);
            log_error("vCPU {}: VM entry failed, hardware reason {:#x}", id_,
                      static_cast<unsigned long long>(run_->fail_entry.hardware_entry_failure_reason));
            return power_off_after("VM entry failure");
        case KVM_EXIT_INTERNAL_ERROR:
            count_exit(VcpuExit::internal_error);
            log_error("vCPU {}: KVM internal error, suberror {}", id_, run_->internal.suberror);
            return power_off_after("KVM internal error");
        default:
            count_exit(VcpuExit::other);
            log_error("vCPU {}: unexpected KVM exit reason {}", id_, run_->exit_reason);
            return power_off_after("unexpected exit");
    }
}

Vcpu::AfterExit Vcpu::power_off_after(const char* reason) {
    log_error("vCPU {}: {}: powering the VM off", id_, reason);
    (void)port_access(kPm1aControlPort, 2, true, kSleepS5);
    return AfterExit::park_until_reset;
}

void Vcpu::handle_port_io() {
    auto* data = reinterpret_cast<std::uint8_t*>(run_) + run_->io.data_offset;
    const std::uint32_t size = run_->io.size;
    const bool write = run_->io.direction == KVM_EXIT_IO_OUT;
    // String and rep forms arrive as `count` back-to-back elements.
    for (std::uint32_t i = 0; i < run_->io.count; ++i) {
        std::uint8_t* element = data + static_cast<std::size_t>(i) * size;
        std::uint64_t value = 0;
        if (write) {
            std::memcpy(&value, element, size);
        }
        value = port_access(run_->io.port, size, write, value);
        if (!write) {
            std::memcpy(element, &value, size);
        }
    }
}

std::uint64_t Vcpu::port_access(std::uint16_t port, std::uint32_t size, bool write, std::uint64_t value) {
    const std::uint64_t size_ones = all_ones(size);
    if (PciConfigAddress::is_address_port(port, size)) {
        if (write) {
            services_.pci_address.write(static_cast<std::uint32_t>(value));
            return 0;
        }
        return services_.pci_address.read();
    }

    acrn_io_request request{};
    if (PciConfigAddress::is_data_port(port)) {
        const auto target = services_.pci_address.decode(port);
        if (!target) {
            return size_ones;
        }
        request.type = ACRN_IOREQ_TYPE_PCICFG;
        auto& pci = request.reqs.pci_request;
        pci.direction = write ? ACRN_IOREQ_DIR_WRITE : ACRN_IOREQ_DIR_READ;
        pci.size = size;
        pci.value = static_cast<std::uint32_t>(value & size_ones);
        pci.bus = target->bus;
        pci.dev = target->dev;
        pci.func = target->func;
        pci.reg = target->reg;
    } else {
        request.type = ACRN_IOREQ_TYPE_PORTIO;
        auto& pio = request.reqs.pio_request;
        pio.direction = write ? ACRN_IOREQ_DIR_WRITE : ACRN_IOREQ_DIR_READ;
        pio.address = port;
        pio.size = size;
        pio.value = static_cast<std::uint32_t>(value & size_ones);
    }

    if (services_.ioreq.submit(id_, request) != SubmitOutcome::completed) {
        if (bad_request_log_limit().allow()) {
            log_debug("vCPU {}: port {:#x} access got no answer", id_, port);
        }
        return size_ones;
    }
    // PIO and PCICFG keep the value at the same offset (static_assert'ed in abi.h).
    return request.reqs.pio_request.value & size_ones;
}

void Vcpu::handle_mmio() {
    const std::uint32_t size = run_->mmio.len;
    if (size == 0 || size > 8) {
        return;
    }
    acrn_io_request request{};
    request.type = ACRN_IOREQ_TYPE_MMIO;
    auto& mmio = request.reqs.mmio_request;
    mmio.direction = run_->mmio.is_write ? ACRN_IOREQ_DIR_WRITE : ACRN_IOREQ_DIR_READ;
    mmio.address = run_->mmio.phys_addr;
    mmio.size = size;
    if (run_->mmio.is_write) {
        std::memcpy(&mmio.value, run_->mmio.data, size);
    }
    std::uint64_t value = all_ones(size);
    if (services_.ioreq.submit(id_, request) == SubmitOutcome::completed) {
        value = mmio.value & all_ones(size);
    }
    if (!run_->mmio.is_write) {
        std::memcpy(run_->mmio.data, &value, size);
    }
}

}  // namespace acrn::hv
