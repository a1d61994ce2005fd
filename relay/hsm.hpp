// The HSM interface: everything acrn-dm asks of the hypervisor side, in the
// terms of Linux's <linux/acrn.h>. One object is one open of /dev/acrn_hsm,
// i.e. one VM. Each call returns 0 or -errno, exactly as the ioctl would, so
// the hosted relay and the /dev/acrn_hsm backend are interchangeable.
#pragma once

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "abi/acrn/abi.h"
#include "common/hypervisor_stats.hpp"

namespace acrn {

// Extension beyond <linux/acrn.h> (hosted relay): a level-triggered INTx
// line driven by an eventfd. Signalling `fd` asserts IOAPIC pin `gsi`; the
// guest's EOI deasserts it and signals `resample_fd`, where the device model
// asserts it again if the device still wants service. `flags`:
// ACRN_IRQFD_FLAG_DEASSIGN removes the one assigned with this `fd`.
struct IntxIrqfd {
    std::int32_t fd = -1;
    std::int32_t resample_fd = -1;
    std::uint32_t gsi = 0;
    std::uint32_t flags = 0;
};

class Hsm {
public:
    virtual ~Hsm() = default;

    // ACRN_IOCTL_CREATE_VM: fills creation.vmid and creation.vcpu_num.
    [[nodiscard]] virtual int create_vm(acrn_vm_creation& creation) = 0;
    [[nodiscard]] virtual int destroy_vm() = 0;
    [[nodiscard]] virtual int start_vm() = 0;
    [[nodiscard]] virtual int pause_vm() = 0;
    [[nodiscard]] virtual int reset_vm() = 0;
    [[nodiscard]] virtual int set_vcpu_regs(const acrn_vcpu_regs& regs) = 0;

    [[nodiscard]] virtual int set_memseg(const acrn_vm_memmap& map) = 0;
    [[nodiscard]] virtual int unset_memseg(const acrn_vm_memmap& map) = 0;

    [[nodiscard]] virtual int create_ioreq_client() = 0;
    // Blocks until a request is waiting for the default client (0) or the
    // client is being destroyed (-ENODEV).
    [[nodiscard]] virtual int attach_ioreq_client() = 0;
    [[nodiscard]] virtual int destroy_ioreq_client() = 0;
    [[nodiscard]] virtual int notify_request_finish(const acrn_ioreq_notify& notify) = 0;
    [[nodiscard]] virtual int clear_vm_ioreq() = 0;

    // ACRN_IOCTL_SET_IRQLINE's argument: op << 32 | gsi.
    [[nodiscard]] virtual int set_irqline(std::uint64_t op_and_gsi) = 0;
    [[nodiscard]] virtual int inject_msi(const acrn_msi_entry& msi) = 0;
    [[nodiscard]] virtual int ioeventfd(const acrn_ioeventfd& request) = 0;
    // ACRN_IOCTL_IRQFD: `fd` raises `msi` each time it is signalled;
    // ACRN_IRQFD_FLAG_DEASSIGN removes the one assigned with this `fd`.
    [[nodiscard]] virtual int irqfd(const acrn_irqfd& request) = 0;
    [[nodiscard]] virtual int intx_irqfd(const IntxIrqfd& /*request*/) { return -ENOTTY; }
    // Extension: how long attach_ioreq_client() polls for a request before
    // it sleeps (nanoseconds::max(): it never sleeps). Set before the
    // ioreq thread first attaches.
    [[nodiscard]] virtual int set_attach_poll(std::chrono::nanoseconds /*window*/) { return -ENOTTY; }

    // Extension: the hypervisor side's counts for this VM (vCPU exits by
    // reason, ioreq round trips), read on demand.
    [[nodiscard]] virtual int hypervisor_stats(HypervisorStats& /*stats*/) const { return -ENOTTY; }

    // Extension (no ioctl in <linux/acrn.h>): set once the hypervisor side
    // stopped the VM because its own code failed, with the reason. hv still
    // powers the VM off with its synthetic S5 write; the reason arrives
    // first, so the device model can exit with a failure status instead.
    [[nodiscard]] virtual std::optional<std::string> fatal_error() const { return std::nullopt; }
};

}  // namespace acrn
