// Interrupts raised by signalling an eventfd, handed to KVM (KVM_IRQFD) so
// that no thread of ours sits between the device and the guest:
// - MSI (ACRN_IOCTL_IRQFD): each gets a GSI of its own from kFirstMsiGsi
//   with an MSI route; KVM_SET_GSI_ROUTING replaces the whole table, so the
//   table always starts with what KVM_CREATE_IRQCHIP installs by default;
// - level-triggered INTx with resample (an extension): signalling asserts
//   an IOAPIC pin; the guest's EOI deasserts it and signals the resample
//   eventfd, where the device model re-asserts it if still needed.
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "abi/acrn/abi.h"
#include "common/event_fd.hpp"

namespace acrn::hv {

struct IrqfdRequest {
    enum class Kind { msi, intx_level };
    Kind kind = Kind::msi;
    int fd = -1;            // the caller's eventfd; hv keeps a duplicate
    acrn_msi_entry msi{};   // Kind::msi
    std::uint32_t gsi = 0;  // Kind::intx_level: the IOAPIC pin
    int resample_fd = -1;   // Kind::intx_level
};

class IrqfdTable {
public:
    static constexpr std::uint32_t kIoapicPins = 24;
    static constexpr std::uint32_t kFirstMsiGsi = kIoapicPins;
    static constexpr std::uint32_t kMaxMsiIrqfds = 1024;  // KVM allows 4096 routes in all

    // Returns an id (> 0) or -errno; the VM's KVM fd is `vm_fd`.
    int add(int vm_fd, const IrqfdRequest& request);
    int remove(int vm_fd, int id);
    // A new KVM VM (after a reset): routes and irqfds installed again.
    // Returns 0 or -errno.
    int reinstall(int vm_fd);

private:
    struct Irqfd {
        int id;
        IrqfdRequest::Kind kind;
        std::uint32_t gsi;
        acrn_msi_entry msi;
        EventFd event;
        std::optional<EventFd> resample;
    };

    [[nodiscard]] std::uint32_t free_msi_gsi() const;
    int set_routing(int vm_fd) const;
    static int bind(int vm_fd, const Irqfd& irqfd, bool assign);

    std::vector<Irqfd> irqfds_;
    int next_id_ = 1;
};

}  // namespace acrn::hv
