#include "relay/hosted_relay.hpp"

#include <cerrno>
#include <chrono>
#include <map>
#include <mutex>
#include <shared_mutex>

#include "common/access_size.hpp"
#include "common/event_fd.hpp"
#include "common/log.hpp"
#include "hv/hypervisor.hpp"
#include "hv/irqfd.hpp"
#include "hv/service_os_memory.hpp"
#include "hv/upcall.hpp"
#include "relay/ioreq_dispatcher.hpp"

namespace acrn::relay {
namespace {

class HostedRelayImpl;

// In hosted mode a Service-OS address is a pointer of this process.
template <typename T>
std::uint64_t service_os_address(T* object) {
    return reinterpret_cast<std::uintptr_t>(object);
}

class HostedVm final : public Hsm {
public:
    explicit HostedVm(std::shared_ptr<HostedRelayImpl> relay) : relay_(std::move(relay)) {}
    ~HostedVm() override;

    int create_vm(acrn_vm_creation& creation) override;
    int destroy_vm() override;
    int start_vm() override { return simple_call(HC_START_VM); }
    int pause_vm() override { return simple_call(HC_PAUSE_VM); }
    int reset_vm() override { return simple_call(HC_RESET_VM); }
    int set_vcpu_regs(const acrn_vcpu_regs& regs) override;
    int set_memseg(const acrn_vm_memmap& map) override { return memory_region(map, ACRN_MEM_REGION_ADD); }
    int unset_memseg(const acrn_vm_memmap& map) override { return memory_region(map, ACRN_MEM_REGION_DEL); }
    int create_ioreq_client() override {
        return dispatcher_ ? dispatcher_->create_default_client() : -EINVAL;
    }
    int attach_ioreq_client() override {
        return dispatcher_ ? dispatcher_->attach_default_client() : -EINVAL;
    }
    int destroy_ioreq_client() override {
        return dispatcher_ ? dispatcher_->destroy_default_client() : -EINVAL;
    }
    int notify_request_finish(const acrn_ioreq_notify& notify) override {
        if (!dispatcher_ || notify.reserved != 0) {
            return -EINVAL;
        }
        return dispatcher_->notify_finish(notify.vcpu);
    }
    int clear_vm_ioreq() override { return dispatcher_ ? dispatcher_->clear_requests() : -EINVAL; }
    int set_irqline(std::uint64_t op_and_gsi) override;
    int inject_msi(const acrn_msi_entry& msi) override;
    int ioeventfd(const acrn_ioeventfd& request) override;
    int irqfd(const acrn_irqfd& request) override;
    int intx_irqfd(const IntxIrqfd& request) override;
    int set_attach_poll(std::chrono::nanoseconds window) override;
    int hypervisor_stats(HypervisorStats& stats) const override;
    std::optional<std::string> fatal_error() const override {
        return dispatcher_ ? dispatcher_->fatal_error() : std::nullopt;
    }

private:
    long hypercall(std::uint64_t id, std::uint64_t param1, std::uint64_t param2);
    int simple_call(std::uint64_t id) { return dispatcher_ ? static_cast<int>(hypercall(id, vmid_, 0)) : -EINVAL; }
    int memory_region(const acrn_vm_memmap& map, std::uint32_t type);

    // The eventfd itself belongs to the in-relay client's handler: it is
    // closed when the dispatcher removes the client, after any last write.
    struct IoEventFd {
        int client_id;
        acrn_ioeventfd request;
    };

    std::shared_ptr<HostedRelayImpl> relay_;
    std::shared_ptr<IoreqDispatcher> dispatcher_;  // set once the VM exists
    std::uint16_t vmid_ = 0;
    // irqfd(): by the caller's descriptor number, which ACRN's DM passes
    // again to deassign. hv holds the duplicates.
    int irqfd_request(int fd, std::uint32_t flags, const hv::IrqfdRequest& request);

    std::mutex ioeventfd_mutex_;
    std::vector<IoEventFd> ioeventfds_;
    std::mutex irqfd_mutex_;
    std::map<int, int> irqfd_ids_;  // caller's fd -> hv's irqfd id
};

class HostedRelayImpl final : public HostedRelay,
                              public hv::UpcallSink,
                              public std::enable_shared_from_this<HostedRelayImpl> {
public:
    HostedRelayImpl() : hypervisor_(service_os_, *this) {}

    std::unique_ptr<Hsm> open() override { return std::make_unique<HostedVm>(shared_from_this()); }

    void on_ioreq_pending(std::uint16_t vmid, std::uint32_t vcpu) override {
        if (const std::shared_ptr<IoreqDispatcher> dispatcher = find_dispatcher(vmid)) {
            dispatcher->dispatch(vcpu);
        }
    }

    void on_vm_fatal(std::uint16_t vmid, std::uint32_t vcpu, const std::string& reason) override {
        if (const std::shared_ptr<IoreqDispatcher> dispatcher = find_dispatcher(vmid)) {
            dispatcher->report_fatal("vCPU " + std::to_string(vcpu) + ": " + reason);
        }
    }

    long hypercall(std::uint64_t id, std::uint64_t param1, std::uint64_t param2) {
        return hypervisor_.hypercall(id, param1, param2);
    }
    hv::Hypervisor::RequestFinisher request_finisher(std::uint16_t vmid) { return hypervisor_.request_finisher(vmid); }
    long add_irqfd(std::uint16_t vmid, const hv::IrqfdRequest& request) {
        return hypervisor_.add_irqfd(vmid, request);
    }
    long remove_irqfd(std::uint16_t vmid, int id) { return hypervisor_.remove_irqfd(vmid, id); }
    long vm_stats(std::uint16_t vmid, HypervisorStats& stats) { return hypervisor_.vm_stats(vmid, stats); }
    void add_dispatcher(std::uint16_t vmid, std::shared_ptr<IoreqDispatcher> dispatcher) {
        std::unique_lock lock(dispatchers_mutex_);
        dispatchers_[vmid] = std::move(dispatcher);
    }
    void remove_dispatcher(std::uint16_t vmid) {
        std::unique_lock lock(dispatchers_mutex_);
        dispatchers_.erase(vmid);
    }

private:
    std::shared_ptr<IoreqDispatcher> find_dispatcher(std::uint16_t vmid) {
        std::shared_lock lock(dispatchers_mutex_);
        const auto found = dispatchers_.find(vmid);
        return found != dispatchers_.end() ? found->second : nullptr;
    }

    hv::HostedServiceOsMemory service_os_;
    std::shared_mutex dispatchers_mutex_;
    std::map<std::uint16_t, std::shared_ptr<IoreqDispatcher>> dispatchers_;
    hv::Hypervisor hypervisor_;  // last: its VMs upcall into the members above
};

HostedVm::~HostedVm() {
    if (dispatcher_) {
        // Closing the HSM destroys the VM, as closing /dev/acrn_hsm does.
        (void)pause_vm();
        (void)destroy_vm();
    }
}

long HostedVm::hypercall(std::uint64_t id, std::uint64_t param1, std::uint64_t param2) {
    return relay_->hypercall(id, param1, param2);
}

int HostedVm::create_vm(acrn_vm_creation& creation) {
    if (dispatcher_) {
        return -EEXIST;
    }
    auto* ioreq_page = reinterpret_cast<acrn_io_request_buffer*>(static_cast<std::uintptr_t>(creation.ioreq_buf));
    if (ioreq_page == nullptr || creation.ioreq_buf % 4096 != 0) {
        return -EINVAL;
    }
    if (const long rc = hypercall(HC_CREATE_VM, service_os_address(&creation), 0); rc < 0) {
        return static_cast<int>(rc);
    }
    vmid_ = creation.vmid;
    // In-process, completion goes straight to the VM: what the hypercall
    // would do, without its dispatch and VM lookup on every request.
    hv::Hypervisor::RequestFinisher finisher = relay_->request_finisher(vmid_);
    if (!finisher) {
        return -EINVAL;
    }
    auto dispatcher = std::make_shared<IoreqDispatcher>(creation.vcpu_num, std::move(finisher));
    dispatcher->set_buffer(ioreq_page);  // it sleeps at once, as ACRN's HSM, unless set_attach_poll says otherwise
    acrn_ioreq_buffer_info info{service_os_address(ioreq_page)};
    if (const long rc = hypercall(HC_SET_IOREQ_BUFFER, vmid_, service_os_address(&info)); rc < 0) {
        (void)hypercall(HC_DESTROY_VM, vmid_, 0);
        return static_cast<int>(rc);
    }
    relay_->add_dispatcher(vmid_, dispatcher);
    dispatcher_ = std::move(dispatcher);
    return 0;
}

int HostedVm::destroy_vm() {
    if (!dispatcher_) {
        return -EINVAL;
    }
    (void)dispatcher_->destroy_default_client();
    const long rc = hypercall(HC_DESTROY_VM, vmid_, 0);
    if (rc < 0) {
        return static_cast<int>(rc);
    }
    relay_->remove_dispatcher(vmid_);
    {
        std::lock_guard lock(irqfd_mutex_);
        irqfd_ids_.clear();  // hv closed its duplicates with the VM
    }
    std::lock_guard lock(ioeventfd_mutex_);
    for (const IoEventFd& event : ioeventfds_) {
        dispatcher_->remove_in_relay_client(event.client_id);
    }
    ioeventfds_.clear();
    dispatcher_.reset();
    return 0;
}

int HostedVm::set_vcpu_regs(const acrn_vcpu_regs& regs) {
    if (!dispatcher_) {
        return -EINVAL;
    }
    acrn_vcpu_regs copy = regs;
    return static_cast<int>(hypercall(HC_SET_VCPU_REGS, vmid_, service_os_address(&copy)));
}

int HostedVm::memory_region(const acrn_vm_memmap& map, std::uint32_t type) {
    if (!dispatcher_) {
        return -EINVAL;
    }
    acrn_vm_memory_region_op op{};
    op.type = type;
    op.attr = map.attr;
    op.user_vm_pa = map.user_vm_pa;
    // For RAM the Service OS names its pages by the mapping's address.
    op.service_vm_pa = map.type == ACRN_MEMMAP_RAM ? map.vma_base : map.service_vm_pa;
    op.size = map.len;
    acrn_vm_memory_region_batch batch{};
    batch.vmid = vmid_;
    batch.regions_num = 1;
    batch.regions_gpa = service_os_address(&op);
    return static_cast<int>(hypercall(HC_VM_SET_MEMORY_REGIONS, service_os_address(&batch), 0));
}

int HostedVm::set_irqline(std::uint64_t op_and_gsi) {
    if (!dispatcher_) {
        return -EINVAL;
    }
    acrn_irqline_ops ops{static_cast<std::uint32_t>(op_and_gsi), static_cast<std::uint32_t>(op_and_gsi >> 32)};
    return static_cast<int>(hypercall(HC_SET_IRQLINE, vmid_, service_os_address(&ops)));
}

int HostedVm::inject_msi(const acrn_msi_entry& msi) {
    if (!dispatcher_) {
        return -EINVAL;
    }
    acrn_msi_entry copy = msi;
    return static_cast<int>(hypercall(HC_INJECT_MSI, vmid_, service_os_address(&copy)));
}

int HostedVm::ioeventfd(const acrn_ioeventfd& request) {
    if (!dispatcher_) {
        return -EINVAL;
    }
    const std::uint32_t type =
        (request.flags & ACRN_IOEVENTFD_FLAG_PIO) != 0 ? ACRN_IOREQ_TYPE_PORTIO : ACRN_IOREQ_TYPE_MMIO;
    const bool datamatch = (request.flags & ACRN_IOEVENTFD_FLAG_DATAMATCH) != 0;
    std::lock_guard lock(ioeventfd_mutex_);
    auto same = [&](const IoEventFd& event) {
        return event.request.addr == request.addr && event.request.len == request.len &&
               (event.request.flags & ~ACRN_IOEVENTFD_FLAG_DEASSIGN) ==
                   (request.flags & ~ACRN_IOEVENTFD_FLAG_DEASSIGN) &&
               (!datamatch || event.request.data == request.data);
    };
    if ((request.flags & ACRN_IOEVENTFD_FLAG_DEASSIGN) != 0) {
        for (auto it = ioeventfds_.begin(); it != ioeventfds_.end(); ++it) {
            if (same(*it)) {
                dispatcher_->remove_in_relay_client(it->client_id);  // waits for a running handler
                ioeventfds_.erase(it);
                return 0;
            }
        }
        return -ENOENT;
    }
    if (request.len != 1 && request.len != 2 && request.len != 4 && request.len != 8) {
        return -EINVAL;
    }
    for (const IoEventFd& event : ioeventfds_) {
        if (same(event)) {
            return -EEXIST;
        }
    }
    int error = 0;
    std::optional<EventFd> duplicated = EventFd::duplicate(static_cast<int>(request.fd), &error);
    if (!duplicated) {
        return error;
    }
    auto event = std::make_shared<const EventFd>(std::move(*duplicated));
    const std::uint64_t match_value = request.data;
    const std::uint32_t length = request.len;
    auto handler = [event, datamatch, match_value, length](acrn_io_request& io) {
        // Reads complete with 0, as the in-kernel ioeventfd client does.
        const bool write = io.reqs.pio_request.direction == ACRN_IOREQ_DIR_WRITE;
        if (!write) {
            io.reqs.mmio_request.value = 0;
            return;
        }
        const std::uint64_t value = io.type == ACRN_IOREQ_TYPE_MMIO ? io.reqs.mmio_request.value
                                                                    : io.reqs.pio_request.value;
        const std::uint64_t mask = all_ones(length);
        if (!datamatch || (value & mask) == (match_value & mask)) {
            (void)event->signal();
        }
    };
    const int id = dispatcher_->add_in_relay_client(
        "ioeventfd", {IoRange{type, request.addr, request.addr + request.len - 1}}, std::move(handler));
    ioeventfds_.push_back(IoEventFd{id, request});
    return 0;
}

int HostedVm::irqfd_request(int fd, std::uint32_t flags, const hv::IrqfdRequest& request) {
    if (!dispatcher_ || (flags & ~ACRN_IRQFD_FLAG_DEASSIGN) != 0) {
        return -EINVAL;
    }
    const bool deassign = (flags & ACRN_IRQFD_FLAG_DEASSIGN) != 0;
    std::lock_guard lock(irqfd_mutex_);
    const auto found = irqfd_ids_.find(fd);
    if (deassign) {
        if (found == irqfd_ids_.end()) {
            return -ENOENT;
        }
        const long rc = relay_->remove_irqfd(vmid_, found->second);
        irqfd_ids_.erase(found);
        return static_cast<int>(rc);
    }
    if (found != irqfd_ids_.end()) {
        return -EBUSY;  // as ACRN's HSM: one irqfd per eventfd
    }
    const long id = relay_->add_irqfd(vmid_, request);
    if (id < 0) {
        return static_cast<int>(id);
    }
    irqfd_ids_.emplace(fd, static_cast<int>(id));
    return 0;
}

int HostedVm::irqfd(const acrn_irqfd& request) {
    hv::IrqfdRequest msi;
    msi.kind = hv::IrqfdRequest::Kind::msi;
    msi.fd = request.fd;
    msi.msi = request.msi;
    return irqfd_request(request.fd, request.flags, msi);
}

int HostedVm::set_attach_poll(std::chrono::nanoseconds window) {
    if (!dispatcher_ || window < std::chrono::nanoseconds::zero()) {
        return -EINVAL;
    }
    dispatcher_->set_attach_poll(window);
    return 0;
}

int HostedVm::hypervisor_stats(HypervisorStats& stats) const {
    return dispatcher_ ? static_cast<int>(relay_->vm_stats(vmid_, stats)) : -EINVAL;
}

int HostedVm::intx_irqfd(const IntxIrqfd& request) {
    hv::IrqfdRequest intx;
    intx.kind = hv::IrqfdRequest::Kind::intx_level;
    intx.fd = request.fd;
    intx.gsi = request.gsi;
    intx.resample_fd = request.resample_fd;
    return irqfd_request(request.fd, request.flags, intx);
}

}  // namespace

std::shared_ptr<HostedRelay> HostedRelay::create() { return std::make_shared<HostedRelayImpl>(); }

}  // namespace acrn::relay
