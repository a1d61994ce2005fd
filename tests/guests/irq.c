/*
 * irq: interrupts from the PCI testdev (1B36:0005) through a real LAPIC and
 * IOAPIC. Needs two testdevs whose INTA# share one IOAPIC pin (slots 3 and
 * 11 both reach GSI 19).
 *
 * MSI-X (first testdev): vector 1 is programmed while masked, raised (the
 * PBA shows it pending and nothing arrives), unmasked (the pending message
 * arrives once), raised again (arrives); then a storm of `storm=<n>`
 * (default 2000) raises: at least one and at most n arrive (the LAPIC merges
 * a vector raised again before it is serviced).
 * Shared INTx: both testdevs assert; the handler releases one device per
 * interrupt, so the still-asserted line interrupts again after EOI: exactly
 * two interrupts. With Interrupt Disable set nothing arrives; clearing it
 * delivers the pending level.
 *
 * With `rate=<s>` it runs one case instead: a storm that never ends (re-armed
 * whenever it runs out) on MSI-X vector 1 for <s> seconds of the RTC,
 * printing the interrupts that arrived in each second; with `bound=<n>` it
 * fails if any second from `from=<k>` on got more than n (the
 * interrupt-storm monitor's delay bounds them).
 */
#include "guest.h"

#define TESTDEV_VENDOR 0x1B36
#define TESTDEV_DEVICE 0x0005

#define LAPIC_BASE 0xFEE00000u
#define LAPIC_ID 0x20
#define LAPIC_TPR 0x80
#define LAPIC_EOI 0xB0
#define LAPIC_SVR 0xF0
#define IOAPIC_BASE 0xFEC00000u

#define REG_RAISE 0x00
#define REG_INTX 0x04
#define REG_STORM_VECTOR 0x08
#define REG_STORM_COUNT 0x0C
#define REG_RAISED 0x10

#define MSIX_VECTOR_BASE 0x40 /* testdev vector v arrives as 0x40 + v */
#define INTX_VECTOR 0x50
#define SPURIOUS_VECTOR 0xFF
#define SHARED_GSI 19

struct testdev {
    uint8_t bus, dev, fn;
    uintptr_t msix; /* BAR2: MSI-X table at 0, PBA at 0x800 */
    uint16_t regs;  /* BAR3 */
    uint8_t msix_cap;
};

static struct testdev devs[2];
static volatile uint32_t arrived[256];
static volatile int intx_releases;

/* ------------------------------------------------------ IDT + entry points */
struct gate {
    uint16_t offset_low, selector;
    uint8_t zero, type;
    uint16_t offset_high;
} __attribute__((packed));
static struct gate idt[256];
static struct {
    uint16_t limit;
    uint32_t base;
} __attribute__((packed)) idt_desc;

void irq_dispatch(uint32_t vector);

#define IRQ_ENTRY(v)                                                                           \
    __asm__(".globl irq_entry_" #v "\n irq_entry_" #v ":\n pushal\n pushl $" #v "\n"        \
            " call irq_dispatch\n addl $4, %esp\n popal\n iret\n");                      \
    extern char irq_entry_##v[];
IRQ_ENTRY(64)
IRQ_ENTRY(65)
IRQ_ENTRY(66)
IRQ_ENTRY(67)
IRQ_ENTRY(80)
IRQ_ENTRY(255)

static void set_gate(int vector, void *handler)
{
    uint32_t at = (uint32_t)(uintptr_t)handler;
    idt[vector] = (struct gate){(uint16_t)at, 0x08, 0, 0x8E, (uint16_t)(at >> 16)};
}

static uint32_t lapic_read(uint32_t reg) { return mmio_read32(LAPIC_BASE + reg); }
static void lapic_write(uint32_t reg, uint32_t v) { mmio_write32(LAPIC_BASE + reg, v); }

static void ioapic_write(uint32_t reg, uint32_t v)
{
    mmio_write32(IOAPIC_BASE, reg);
    mmio_write32(IOAPIC_BASE + 0x10, v);
}

static void testdev_write(const struct testdev *d, uint16_t reg, uint32_t v) { outl(d->regs + reg, v); }
static uint32_t testdev_read(const struct testdev *d, uint16_t reg) { return inl(d->regs + reg); }

void irq_dispatch(uint32_t vector)
{
    arrived[vector & 0xFF]++;
    if (vector == INTX_VECTOR) {
        /* Release one asserting device per interrupt, as a driver that
         * serves one device per call would. */
        for (int i = 0; i < 2; i++) {
            if (testdev_read(&devs[i], REG_INTX) == 1) {
                testdev_write(&devs[i], REG_INTX, 0);
                intx_releases++;
                break;
            }
        }
    }
    if (vector != SPURIOUS_VECTOR)
        lapic_write(LAPIC_EOI, 0);
}

static void settle(void)
{
    /* Long enough for an injected interrupt to be taken. */
    for (int i = 0; i < 200000; i++)
        cpu_pause();
}

static void cpu_sti(void) { __asm__ volatile("sti" ::: "memory"); }

/* ----------------------------------------------------------------- setup */
static uint8_t find_cap(const struct testdev *d, uint8_t id)
{
    uint8_t at = pci_cfg_read8(d->bus, d->dev, d->fn, 0x34);
    for (int hops = 0; at != 0 && hops < 48; hops++) {
        if (pci_cfg_read8(d->bus, d->dev, d->fn, at) == id)
            return at;
        at = pci_cfg_read8(d->bus, d->dev, d->fn, at + 1);
    }
    return 0;
}

static int find_testdevs(void)
{
    int found = 0;
    for (uint8_t d = 0; d < 32 && found < 2; d++) {
        uint32_t id = pci_cfg_read32(0, d, 0, PCI_VENDOR_ID);
        if ((id & 0xFFFF) != TESTDEV_VENDOR || (id >> 16) != TESTDEV_DEVICE)
            continue;
        struct testdev *t = &devs[found++];
        t->bus = 0;
        t->dev = d;
        t->fn = 0;
        t->msix = pci_cfg_read32(0, d, 0, PCI_BAR0 + 8) & ~0xFu;
        t->regs = (uint16_t)(pci_cfg_read32(0, d, 0, PCI_BAR0 + 12) & ~0x3u);
        t->msix_cap = find_cap(t, 0x11);
        pci_cfg_write16(0, d, 0, PCI_COMMAND, 0x7); /* I/O, memory, bus master */
    }
    return found;
}

/* ----------------------------------------------------------------- cases */
/* MSI-X on, vector 1 (still masked) to this CPU. */
static void msix_vector1_to(const struct testdev *d, uint32_t apic_id)
{
    pci_cfg_write16(d->bus, d->dev, d->fn, d->msix_cap + 2, 0x8000); /* enable */
    uintptr_t entry = d->msix + 1 * 16;
    mmio_write32(entry + 0, LAPIC_BASE | (apic_id << 12));
    mmio_write32(entry + 4, 0);
    mmio_write32(entry + 8, MSIX_VECTOR_BASE + 1);
}

static void msix_case(const struct testdev *d, uint32_t apic_id, uint32_t storm)
{
    if (d->msix_cap == 0)
        result_fail("no MSI-X capability");
    uint16_t control = pci_cfg_read16(d->bus, d->dev, d->fn, d->msix_cap + 2);
    printf("MSI-X: table size %u\n", (control & 0x7FF) + 1);
    msix_vector1_to(d, apic_id);
    uintptr_t entry = d->msix + 1 * 16;
    if ((mmio_read32(entry + 12) & 1) == 0)
        result_fail("MSI-X vector 1 is not masked at reset");

    testdev_write(d, REG_RAISE, 1);
    settle();
    if (arrived[MSIX_VECTOR_BASE + 1] != 0)
        result_fail("a masked MSI-X vector was delivered");
    uint32_t pba = mmio_read32(d->msix + 0x800);
    if (pba != (1u << 1))
        result_fail("PBA is 0x%x while vector 1 is masked and raised (expected 0x2)", pba);
    printf("MSI-X: masked vector pending (PBA 0x%x)\n", pba);

    mmio_write32(entry + 12, 0); /* unmask: the pending message goes out */
    settle();
    if (arrived[MSIX_VECTOR_BASE + 1] != 1)
        result_fail("unmasking delivered %u interrupts (expected 1)", arrived[MSIX_VECTOR_BASE + 1]);
    if (mmio_read32(d->msix + 0x800) != 0)
        result_fail("PBA still set after the pending vector was delivered");
    testdev_write(d, REG_RAISE, 1);
    settle();
    if (arrived[MSIX_VECTOR_BASE + 1] != 2)
        result_fail("an unmasked raise delivered %u in all (expected 2)", arrived[MSIX_VECTOR_BASE + 1]);
    printf("MSI-X: pending delivered on unmask, then one per raise\n");

    uint32_t before = arrived[MSIX_VECTOR_BASE + 1];
    testdev_write(d, REG_STORM_VECTOR, 1);
    testdev_write(d, REG_STORM_COUNT, storm);
    uint64_t spins = 0;
    while (testdev_read(d, REG_STORM_COUNT) != 0) {
        cpu_pause();
        if (++spins > 2000000000ull)
            result_fail("the storm did not end");
    }
    settle();
    uint32_t got = arrived[MSIX_VECTOR_BASE + 1] - before;
    printf("MSI-X storm: raised %u, received %u\n", storm, got);
    if (got < 1 || got > storm)
        result_fail("storm of %u delivered %u", storm, got);
    pci_cfg_write16(d->bus, d->dev, d->fn, d->msix_cap + 2, 0); /* back to INTx */
}

/* Only its changes count, so BCD or binary and an update in progress do not matter. */
static uint8_t rtc_seconds(void)
{
    outb(0x70, 0x00);
    return inb(0x71);
}

static void storm_rate_case(const struct testdev *d, uint32_t apic_id, uint32_t seconds, uint32_t from,
                            uint32_t bound)
{
    if (d->msix_cap == 0)
        result_fail("no MSI-X capability");
    msix_vector1_to(d, apic_id);
    mmio_write32(d->msix + 1 * 16 + 12, 0); /* unmask */
    testdev_write(d, REG_STORM_VECTOR, 1);
    uint8_t last = rtc_seconds();
    while (rtc_seconds() == last)
        cpu_pause();
    last = rtc_seconds();
    uint32_t raised_before = testdev_read(d, REG_RAISED);
    testdev_write(d, REG_STORM_COUNT, 0xFFFFFFFFu);
    uint32_t counted = arrived[MSIX_VECTOR_BASE + 1];
    uint32_t worst = 0;
    for (uint32_t second = 0; second < seconds;) {
        uint8_t now = rtc_seconds();
        if (now == last) {
            if (testdev_read(d, REG_STORM_COUNT) == 0)
                testdev_write(d, REG_STORM_COUNT, 0xFFFFFFFFu);
            continue;
        }
        last = now;
        uint32_t total = arrived[MSIX_VECTOR_BASE + 1];
        printf("storm second %u: %u interrupts\n", second, total - counted);
        if (second >= from && total - counted > worst)
            worst = total - counted;
        counted = total;
        second++;
    }
    testdev_write(d, REG_STORM_COUNT, 0);
    printf("storm rate: raised %u, at most %u interrupts/s from second %u\n",
           testdev_read(d, REG_RAISED) - raised_before, worst, from);
    if (bound != 0 && worst > bound)
        result_fail("%u interrupts in one second, bound %u", worst, bound);
}

static void shared_intx_case(uint32_t apic_id)
{
    /* GSI 19: level-triggered, active low (the DSDT's _PRT), to this CPU. */
    ioapic_write(0x10 + 2 * SHARED_GSI + 1, apic_id << 24);
    ioapic_write(0x10 + 2 * SHARED_GSI, INTX_VECTOR | (1u << 15) | (1u << 13));
    for (int i = 0; i < 2; i++) {
        uint8_t line = pci_cfg_read8(devs[i].bus, devs[i].dev, devs[i].fn, 0x3C);
        if (line != SHARED_GSI)
            result_fail("testdev at slot %u routes INTA# to %u, expected %u", devs[i].dev, line, SHARED_GSI);
    }

    cpu_cli();
    testdev_write(&devs[0], REG_INTX, 1);
    testdev_write(&devs[1], REG_INTX, 1);
    if ((pci_cfg_read16(devs[0].bus, devs[0].dev, devs[0].fn, PCI_STATUS) & 0x8) == 0)
        result_fail("Interrupt Status is clear while INTx is asserted");
    cpu_sti();
    settle();
    if (arrived[INTX_VECTOR] != 2 || intx_releases != 2)
        result_fail("shared INTx: %u interrupts, %d releases (expected 2 and 2)", arrived[INTX_VECTOR], intx_releases);
    printf("shared INTx: two sources, two interrupts\n");

    /* Interrupt Disable holds the level back; clearing it lets it through. */
    pci_cfg_write16(devs[0].bus, devs[0].dev, devs[0].fn, PCI_COMMAND, 0x7 | 0x400);
    testdev_write(&devs[0], REG_INTX, 1);
    settle();
    if (arrived[INTX_VECTOR] != 2)
        result_fail("an INTx arrived with Interrupt Disable set");
    pci_cfg_write16(devs[0].bus, devs[0].dev, devs[0].fn, PCI_COMMAND, 0x7);
    settle();
    if (arrived[INTX_VECTOR] != 3)
        result_fail("clearing Interrupt Disable delivered %u in all (expected 3)", arrived[INTX_VECTOR]);
    printf("INTx disable: held back, then delivered\n");
}

void guest_main(uint32_t magic, const struct multiboot_info *mbi)
{
    (void)magic;
    printf("irq: MSI-X and shared INTx from the PCI testdev\n");
    if (find_testdevs() != 2)
        result_fail("need two testdevs (slots 3 and 11)");
    for (int v = 0; v < 256; v++)
        set_gate(v, irq_entry_255);
    set_gate(MSIX_VECTOR_BASE + 0, irq_entry_64);
    set_gate(MSIX_VECTOR_BASE + 1, irq_entry_65);
    set_gate(MSIX_VECTOR_BASE + 2, irq_entry_66);
    set_gate(MSIX_VECTOR_BASE + 3, irq_entry_67);
    set_gate(INTX_VECTOR, irq_entry_80);
    idt_desc.limit = sizeof(idt) - 1;
    idt_desc.base = (uint32_t)(uintptr_t)idt;
    __asm__ volatile("lidt %0" ::"m"(idt_desc));
    lapic_write(LAPIC_SVR, 0x100 | SPURIOUS_VECTOR);
    lapic_write(LAPIC_TPR, 0);
    uint32_t apic_id = lapic_read(LAPIC_ID) >> 24;
    cpu_sti();

    const char *cmdline = mb_cmdline(mbi);
    uint32_t rate_seconds = cmdline_get_u32(cmdline, "rate", 10, 0);
    if (rate_seconds != 0) {
        storm_rate_case(&devs[0], apic_id, rate_seconds, cmdline_get_u32(cmdline, "from", 10, 0),
                        cmdline_get_u32(cmdline, "bound", 10, 0));
        result_pass();
    }
    msix_case(&devs[0], apic_id, cmdline_get_u32(cmdline, "storm", 10, 2000));
    shared_intx_case(apic_id);
    printf("stray interrupts: %u\n", arrived[SPURIOUS_VECTOR]);
    result_pass();
}
