#include "hv/irqfd.hpp"

#include <sys/ioctl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace acrn::hv {
namespace {

// <linux/kvm.h> declares kvm_irq_routing's entries with
// __DECLARE_FLEX_ARRAY, which g++ sizes differently, and the ioctl number
// carries that size (as with kvm_cpuid2, docs/abi.md): number it with the
// real 8-byte header.
constexpr std::size_t kRoutingHeaderSize = 8;  // nr, flags
constexpr unsigned long kSetGsiRouting = _IOC(_IOC_WRITE, KVMIO, 0x6a, kRoutingHeaderSize);

kvm_irq_routing_entry irqchip_route(std::uint32_t gsi, std::uint32_t chip, std::uint32_t pin) {
    kvm_irq_routing_entry entry{};
    entry.gsi = gsi;
    entry.type = KVM_IRQ_ROUTING_IRQCHIP;
    entry.u.irqchip.irqchip = chip;
    entry.u.irqchip.pin = pin;
    return entry;
}

// What KVM_CREATE_IRQCHIP installs on x86: GSI n to IOAPIC pin n, and GSIs
// 0-15 also to the two PICs' pins (master 0-7, slave 8-15).
std::vector<kvm_irq_routing_entry> default_routes() {
    std::vector<kvm_irq_routing_entry> routes;
    for (std::uint32_t gsi = 0; gsi < IrqfdTable::kIoapicPins; ++gsi) {
        routes.push_back(irqchip_route(gsi, KVM_IRQCHIP_IOAPIC, gsi));
        if (gsi < 16) {
            routes.push_back(irqchip_route(gsi, gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE, gsi % 8));
        }
    }
    return routes;
}

}  // namespace

std::uint32_t IrqfdTable::free_msi_gsi() const {
    for (std::uint32_t gsi = kFirstMsiGsi;; ++gsi) {
        const bool taken = std::any_of(irqfds_.begin(), irqfds_.end(), [gsi](const Irqfd& irqfd) {
            return irqfd.kind == IrqfdRequest::Kind::msi && irqfd.gsi == gsi;
        });
        if (!taken) {
            return gsi;
        }
    }
}

int IrqfdTable::set_routing(int vm_fd) const {
    std::vector<kvm_irq_routing_entry> routes = default_routes();
    for (const Irqfd& irqfd : irqfds_) {
        if (irqfd.kind != IrqfdRequest::Kind::msi) {
            continue;
        }
        kvm_irq_routing_entry entry{};
        entry.gsi = irqfd.gsi;
        entry.type = KVM_IRQ_ROUTING_MSI;
        entry.u.msi.address_lo = static_cast<std::uint32_t>(irqfd.msi.msi_addr);
        entry.u.msi.address_hi = static_cast<std::uint32_t>(irqfd.msi.msi_addr >> 32);
        entry.u.msi.data = static_cast<std::uint32_t>(irqfd.msi.msi_data);
        routes.push_back(entry);
    }
    std::vector<std::uint8_t> table(kRoutingHeaderSize + routes.size() * sizeof(kvm_irq_routing_entry));
    const auto count = static_cast<std::uint32_t>(routes.size());
    std::memcpy(table.data(), &count, sizeof(count));  // nr; flags stay 0
    std::memcpy(table.data() + kRoutingHeaderSize, routes.data(), routes.size() * sizeof(kvm_irq_routing_entry));
    return ::ioctl(vm_fd, kSetGsiRouting, table.data()) < 0 ? -errno : 0;
}

int IrqfdTable::bind(int vm_fd, const Irqfd& irqfd, bool assign) {
    kvm_irqfd request{};
    request.fd = static_cast<std::uint32_t>(irqfd.event.fd());
    request.gsi = irqfd.gsi;
    if (!assign) {
        request.flags = KVM_IRQFD_FLAG_DEASSIGN;
    } else if (irqfd.resample) {
        request.flags = KVM_IRQFD_FLAG_RESAMPLE;
        request.resamplefd = static_cast<std::uint32_t>(irqfd.resample->fd());
    }
    return ::ioctl(vm_fd, KVM_IRQFD, &request) < 0 ? -errno : 0;
}

int IrqfdTable::add(int vm_fd, const IrqfdRequest& request) {
    const bool msi = request.kind == IrqfdRequest::Kind::msi;
    if (!msi && (request.gsi >= kIoapicPins || request.resample_fd < 0)) {
        return -EINVAL;
    }
    const auto msi_count = std::count_if(irqfds_.begin(), irqfds_.end(),
                                         [](const Irqfd& irqfd) { return irqfd.kind == IrqfdRequest::Kind::msi; });
    if (msi && static_cast<std::uint32_t>(msi_count) >= kMaxMsiIrqfds) {
        return -ENOSPC;
    }
    int error = 0;
    std::optional<EventFd> event = EventFd::duplicate(request.fd, &error);
    if (!event) {
        return error;
    }
    std::optional<EventFd> resample;
    if (!msi) {
        resample = EventFd::duplicate(request.resample_fd, &error);
        if (!resample) {
            return error;
        }
    }
    const int id = next_id_++;
    irqfds_.push_back(Irqfd{id, request.kind, msi ? free_msi_gsi() : request.gsi, request.msi, std::move(*event),
                            std::move(resample)});
    int rc = msi ? set_routing(vm_fd) : 0;
    if (rc == 0) {
        rc = bind(vm_fd, irqfds_.back(), true);
    }
    if (rc < 0) {
        irqfds_.pop_back();
        if (msi) {
            (void)set_routing(vm_fd);  // drop the route we added
        }
        return rc;
    }
    return id;
}

int IrqfdTable::remove(int vm_fd, int id) {
    const auto found = std::find_if(irqfds_.begin(), irqfds_.end(), [id](const Irqfd& irqfd) { return irqfd.id == id; });
    if (found == irqfds_.end()) {
        return -ENOENT;
    }
    const int rc = bind(vm_fd, *found, false);
    const bool msi = found->kind == IrqfdRequest::Kind::msi;
    irqfds_.erase(found);
    if (msi) {
        (void)set_routing(vm_fd);
    }
    return rc;
}

int IrqfdTable::reinstall(int vm_fd) {
    if (irqfds_.empty()) {
        return 0;
    }
    if (const int rc = set_routing(vm_fd); rc < 0) {
        return rc;
    }
    for (const Irqfd& irqfd : irqfds_) {
        if (const int rc = bind(vm_fd, irqfd, true); rc < 0) {
            return rc;
        }
    }
    return 0;
}

}  // namespace acrn::hv
