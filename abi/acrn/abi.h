/* The ABI that crosses the hv / relay / device-model boundaries.
 *
 * The HSM user API is Linux's own <linux/acrn.h> (installed by Debian's
 * linux-libc-dev); this header adds what upstream keeps private to the
 * kernel driver: ACRN's hypercall ids and their argument structures
 * (drivers/virt/acrn/{hypercall,acrn_drv}.h), and checks every layout.
 * C, not C++, so that kernel-module/ can include it too.
 */
#ifndef ACRN_ABI_H
#define ACRN_ABI_H

#include <linux/acrn.h>
#include <stddef.h>

#ifdef __cplusplus
#define ACRN_STATIC_ASSERT static_assert
#else
#define ACRN_STATIC_ASSERT _Static_assert
#endif

/* Hypercall ids: (0x80 << 24) | (group base + index). */
#define ACRN_HC_ID(group, index) ((0x80UL << 24) | ((group) + (index)))

#define HC_SOS_REMOVE_CPU ACRN_HC_ID(0x00UL, 0x01)

#define HC_CREATE_VM ACRN_HC_ID(0x10UL, 0x00)
#define HC_DESTROY_VM ACRN_HC_ID(0x10UL, 0x01)
#define HC_START_VM ACRN_HC_ID(0x10UL, 0x02)
#define HC_PAUSE_VM ACRN_HC_ID(0x10UL, 0x03)
#define HC_RESET_VM ACRN_HC_ID(0x10UL, 0x05)
#define HC_SET_VCPU_REGS ACRN_HC_ID(0x10UL, 0x06)

#define HC_INJECT_MSI ACRN_HC_ID(0x20UL, 0x03)
#define HC_VM_INTR_MONITOR ACRN_HC_ID(0x20UL, 0x04)
#define HC_SET_IRQLINE ACRN_HC_ID(0x20UL, 0x05)

#define HC_SET_IOREQ_BUFFER ACRN_HC_ID(0x30UL, 0x00)
#define HC_NOTIFY_REQUEST_FINISH ACRN_HC_ID(0x30UL, 0x01)

#define HC_VM_SET_MEMORY_REGIONS ACRN_HC_ID(0x40UL, 0x02)

#define HC_SET_PTDEV_INTR ACRN_HC_ID(0x50UL, 0x03)
#define HC_RESET_PTDEV_INTR ACRN_HC_ID(0x50UL, 0x04)
#define HC_ASSIGN_PCIDEV ACRN_HC_ID(0x50UL, 0x05)
#define HC_DEASSIGN_PCIDEV ACRN_HC_ID(0x50UL, 0x06)

/* vm_flag bits of struct acrn_vm_creation (ACRN's GUEST_FLAG_*). */
#define ACRN_GUEST_FLAG_SECURE_WORLD_ENABLED (1ULL << 0)
#define ACRN_GUEST_FLAG_LAPIC_PASSTHROUGH (1ULL << 1)
#define ACRN_GUEST_FLAG_IO_COMPLETION_POLLING (1ULL << 2)
#define ACRN_GUEST_FLAG_RT (1ULL << 4)

/* HC_SET_IOREQ_BUFFER argument. */
struct acrn_ioreq_buffer_info {
	__u64 ioreq_buf; /* Service-OS address of the 4 KiB request page */
};

/* HC_VM_SET_MEMORY_REGIONS argument: a batch of region operations. */
#define ACRN_MEM_REGION_ADD 0
#define ACRN_MEM_REGION_DEL 2

struct acrn_vm_memory_region_op {
	__u32 type; /* ACRN_MEM_REGION_ADD / _DEL */
	__u32 attr; /* ACRN_MEM_ACCESS_* | ACRN_MEM_TYPE_* */
	__u64 user_vm_pa;
	__u64 service_vm_pa;
	__u64 size;
};

struct acrn_vm_memory_region_batch {
	__u16 vmid;
	__u16 reserved[3];
	__u32 regions_num;
	__u32 reserved1;
	__u64 regions_gpa; /* Service-OS address of the op array */
};

/* HC_SET_IRQLINE argument; also the u64 of ACRN_IOCTL_SET_IRQLINE
 * (op in the high half, gsi in the low half). */
#define ACRN_IRQLINE_SET_HIGH 0
#define ACRN_IRQLINE_SET_LOW 1
#define ACRN_IRQLINE_RAISING_PULSE 2
#define ACRN_IRQLINE_FALLING_PULSE 3

struct acrn_irqline_ops {
	__u32 gsi;
	__u32 op;
};

/* The request layout the ioreq buffer is made of (ACRN-SPEC 2.1). */
ACRN_STATIC_ASSERT(sizeof(struct acrn_io_request) == 256, "ioreq slot size");
ACRN_STATIC_ASSERT(offsetof(struct acrn_io_request, type) == 0, "type offset");
ACRN_STATIC_ASSERT(offsetof(struct acrn_io_request, completion_polling) == 4, "polling offset");
ACRN_STATIC_ASSERT(offsetof(struct acrn_io_request, reqs) == 64, "union offset");
ACRN_STATIC_ASSERT(offsetof(struct acrn_io_request, kernel_handled) == 132, "kernel_handled offset");
ACRN_STATIC_ASSERT(offsetof(struct acrn_io_request, processed) == 136, "processed offset");
ACRN_STATIC_ASSERT(sizeof(struct acrn_io_request_buffer) == 4096, "ioreq page size");
ACRN_STATIC_ASSERT(offsetof(struct acrn_pio_request, address) == 8, "pio address");
ACRN_STATIC_ASSERT(offsetof(struct acrn_pio_request, size) == 16, "pio size");
ACRN_STATIC_ASSERT(offsetof(struct acrn_pio_request, value) == 24, "pio value");
ACRN_STATIC_ASSERT(offsetof(struct acrn_mmio_request, value) == 24, "mmio value");
ACRN_STATIC_ASSERT(offsetof(struct acrn_pci_request, size) == 16, "pci size");
ACRN_STATIC_ASSERT(offsetof(struct acrn_pci_request, value) == 24, "pci value");
ACRN_STATIC_ASSERT(offsetof(struct acrn_pci_request, bus) == 28, "pci bus");
ACRN_STATIC_ASSERT(offsetof(struct acrn_pci_request, reg) == 40, "pci reg");
ACRN_STATIC_ASSERT(sizeof(struct acrn_vm_creation) == 48, "vm creation size");
ACRN_STATIC_ASSERT(sizeof(struct acrn_vm_memory_region_op) == 32, "region op size");
ACRN_STATIC_ASSERT(sizeof(struct acrn_vm_memory_region_batch) == 24, "region batch size");
ACRN_STATIC_ASSERT(sizeof(struct acrn_irqline_ops) == 8, "irqline size");
ACRN_STATIC_ASSERT(sizeof(struct acrn_msi_entry) == 16, "msi size");
ACRN_STATIC_ASSERT(sizeof(struct acrn_ioreq_notify) == 8, "notify size");
ACRN_STATIC_ASSERT(sizeof(struct acrn_descriptor_ptr) == 16, "descriptor ptr size");
ACRN_STATIC_ASSERT(offsetof(struct acrn_regs, rip) == 160, "regs rip");
ACRN_STATIC_ASSERT(sizeof(struct acrn_regs) == 288, "regs size");
ACRN_STATIC_ASSERT(sizeof(struct acrn_vcpu_regs) == 296, "vcpu regs size");

#endif /* ACRN_ABI_H */
