/*
 * iorw: read-after-write through the PCI testdev (1B36:0005).
 *
 * testdev: BAR0 = 32-bit memory BAR, 4096 bytes; BAR1 = I/O BAR, 256 bytes.
 * Both are byte-addressable little-endian scratch storage, zero at reset.
 * The VMM pre-assigns the BARs but leaves I/O + memory decoding off.
 *
 * Also checks: an unused I/O port (0xE0) reads all-ones; PCI config of the
 * non-existent 00:1f.7 reads vendor 0xFFFF.  Prints the host bridge ID.
 * Every mismatch is printed as "MISMATCH <what> off=<o> expected=<e> got=<g>".
 */
#include "lib/guest.h"

#define TESTDEV_VENDOR 0x1B36
#define TESTDEV_DEVICE 0x0005
#define TESTDEV_MMIO_SIZE 4096u
#define TESTDEV_IO_SIZE 256u
#define UNUSED_PORT 0xE0

static unsigned fails;

static void check(const char *what, uint32_t off, uint64_t expected, uint64_t got)
{
    if (expected != got) {
        printf("MISMATCH %s off=0x%x expected=0x%llx got=0x%llx\n", what, off, expected, got);
        fails++;
    }
}

static void section(const char *name, unsigned fails_before)
{
    printf("  %s: %s\n", name, fails == fails_before ? "ok" : "FAILED");
}

/* ------------------------------------------------------------------ I/O BAR */
static void test_io(uint16_t io)
{
    unsigned f0;
    uint8_t b[16], rb[16];
    uint16_t w[8], rw[8];
    uint32_t l[4], rl[4];

    printf("I/O BAR tests (base 0x%x)\n", io);

    f0 = fails;
    for (uint32_t o = 0; o < TESTDEV_IO_SIZE; o += 4)
        check("io reset-zero inl", o, 0, inl(io + o));
    section("reset state is zero", f0);

    f0 = fails;
    {
        static const uint16_t offs[] = {0x00, 0x01, 0x07, 0x80, 0xFE, 0xFF};
        for (unsigned i = 0; i < ARRAY_SIZE(offs); i++) {
            uint8_t v = (uint8_t)(0xA5 ^ (i * 0x3B));
            outb(io + offs[i], v);
            check("io outb/inb", offs[i], v, inb(io + offs[i]));
        }
        /* re-read after all writes: nothing overwrote a neighbour */
        for (unsigned i = 0; i < ARRAY_SIZE(offs); i++)
            check("io inb (re-read)", offs[i], (uint8_t)(0xA5 ^ (i * 0x3B)), inb(io + offs[i]));
    }
    section("byte", f0);

    f0 = fails;
    {
        static const uint16_t offs[] = {0x10, 0x12, 0x15 /* unaligned */, 0x90, 0xFE};
        for (unsigned i = 0; i < ARRAY_SIZE(offs); i++) {
            uint16_t v = (uint16_t)(0xBEEF + i * 0x1111);
            outw(io + offs[i], v);
            check("io outw/inw", offs[i], v, inw(io + offs[i]));
        }
    }
    section("word", f0);

    f0 = fails;
    {
        static const uint16_t offs[] = {0x20, 0x24, 0x29 /* unaligned */, 0xA0, 0xFC};
        for (unsigned i = 0; i < ARRAY_SIZE(offs); i++) {
            uint32_t v = 0xDEADBEEFu ^ (i * 0x01010101u);
            outl(io + offs[i], v);
            check("io outl/inl", offs[i], v, inl(io + offs[i]));
        }
    }
    section("dword", f0);

    f0 = fails;
    outl(io + 0x40, 0x11223344u);
    check("io cross inb", 0x40, 0x44, inb(io + 0x40));
    check("io cross inb", 0x41, 0x33, inb(io + 0x41));
    check("io cross inb", 0x42, 0x22, inb(io + 0x42));
    check("io cross inb", 0x43, 0x11, inb(io + 0x43));
    check("io cross inw", 0x40, 0x3344, inw(io + 0x40));
    check("io cross inw", 0x41, 0x2233, inw(io + 0x41));
    check("io cross inw", 0x42, 0x1122, inw(io + 0x42));
    outb(io + 0x48, 0xA1);
    outb(io + 0x49, 0xB2);
    outb(io + 0x4A, 0xC3);
    outb(io + 0x4B, 0xD4);
    check("io bytes->inl", 0x48, 0xD4C3B2A1u, inl(io + 0x48));
    outw(io + 0x49, 0x5566);
    check("io outw over dword", 0x48, 0xD45566A1u, inl(io + 0x48));
    section("cross-size", f0);

    /* String I/O: all elements go to / come from the SAME port. */
    f0 = fails;
    for (unsigned i = 0; i < 16; i++)
        b[i] = (uint8_t)(0xA0 + i);
    outl(io + 0x50, 0);
    outsb(io + 0x50, b, 16);
    check("io rep outsb (last byte)", 0x50, 0xAF, inb(io + 0x50));
    check("io rep outsb (neighbours untouched)", 0x51, 0, inb(io + 0x51) | (inw(io + 0x52) << 8));

    outb(io + 0x60, 0x5A);
    memset(rb, 0, sizeof(rb));
    insb(io + 0x60, rb, 16);
    for (unsigned i = 0; i < 16; i++)
        check("io rep insb element", i, 0x5A, rb[i]);

    for (unsigned i = 0; i < 8; i++)
        w[i] = (uint16_t)(0xB000 + i * 0x0101);
    outl(io + 0x70, 0);
    outsw(io + 0x70, w, 8);
    check("io rep outsw (last word)", 0x70, w[7], inw(io + 0x70));
    check("io rep outsw (neighbour untouched)", 0x72, 0, inw(io + 0x72));

    outw(io + 0x74, 0xC3D2);
    memset(rw, 0, sizeof(rw));
    insw(io + 0x74, rw, 8);
    for (unsigned i = 0; i < 8; i++)
        check("io rep insw element", i, 0xC3D2, rw[i]);

    for (unsigned i = 0; i < 4; i++)
        l[i] = 0x01020304u * (i + 1);
    outl(io + 0x84, 0);
    outsl(io + 0x80, l, 4);
    check("io rep outsl (last dword)", 0x80, l[3], inl(io + 0x80));
    check("io rep outsl (neighbour untouched)", 0x84, 0, inl(io + 0x84));

    outl(io + 0x88, 0xFEEDF00Du);
    memset(rl, 0, sizeof(rl));
    insl(io + 0x88, rl, 4);
    for (unsigned i = 0; i < 4; i++)
        check("io rep insl element", i, 0xFEEDF00Du, rl[i]);
    section("string I/O (rep outs/ins, one port)", f0);
}

/* --------------------------------------------------------------- memory BAR */
static void test_mmio(uintptr_t m)
{
    unsigned f0;

    printf("MMIO BAR tests (base 0x%x)\n", (uint32_t)m);

    f0 = fails;
    for (uint32_t o = 0; o < TESTDEV_MMIO_SIZE; o += 4)
        check("mmio reset-zero read32", o, 0, mmio_read32(m + o));
    section("reset state is zero", f0);

    f0 = fails;
    {
        static const uint32_t offs[] = {0x000, 0x001, 0x7FF, 0x800, 0xFFE, 0xFFF};
        for (unsigned i = 0; i < ARRAY_SIZE(offs); i++) {
            uint8_t v = (uint8_t)(0x5A ^ (i * 0x47));
            mmio_write8(m + offs[i], v);
            check("mmio write8/read8", offs[i], v, mmio_read8(m + offs[i]));
        }
        for (unsigned i = 0; i < ARRAY_SIZE(offs); i++)
            check("mmio read8 (re-read)", offs[i], (uint8_t)(0x5A ^ (i * 0x47)), mmio_read8(m + offs[i]));
    }
    section("8-bit", f0);

    f0 = fails;
    {
        static const uint32_t offs[] = {0x010, 0x012, 0x015 /* unaligned */, 0x810, 0xFFC, 0xFFE};
        for (unsigned i = 0; i < ARRAY_SIZE(offs); i++) {
            uint16_t v = (uint16_t)(0xCAFE - i * 0x0F0F);
            mmio_write16(m + offs[i], v);
            check("mmio write16/read16", offs[i], v, mmio_read16(m + offs[i]));
        }
    }
    section("16-bit", f0);

    f0 = fails;
    {
        static const uint32_t offs[] = {0x020, 0x024, 0x02B /* unaligned */, 0x820, 0xFF8, 0xFFC};
        for (unsigned i = 0; i < ARRAY_SIZE(offs); i++) {
            uint32_t v = 0x8BADF00Du + i * 0x10204081u;
            mmio_write32(m + offs[i], v);
            check("mmio write32/read32", offs[i], v, mmio_read32(m + offs[i]));
        }
    }
    section("32-bit", f0);

    f0 = fails;
    {
        static const uint32_t offs[] = {0x100, 0x108, 0x900, 0xFF8};
        for (unsigned i = 0; i < ARRAY_SIZE(offs); i++) {
            uint64_t v = 0x0123456789ABCDEFull ^ ((uint64_t)(i + 1) << 56) ^ (i * 0x1111u);
            mmio_write64(m + offs[i], v);
            check("mmio write64/read64 (2x32)", offs[i], v, mmio_read64(m + offs[i]));
        }
        mmio_write64(m + 0x180, 0x8877665544332211ull);
        check("mmio 64 lo dword", 0x180, 0x44332211u, mmio_read32(m + 0x180));
        check("mmio 64 hi dword", 0x184, 0x88776655u, mmio_read32(m + 0x184));
        check("mmio 64 byte 0", 0x180, 0x11, mmio_read8(m + 0x180));
        check("mmio 64 byte 7", 0x187, 0x88, mmio_read8(m + 0x187));
        check("mmio 64 word @3", 0x183, 0x5544, mmio_read16(m + 0x183));
    }
    section("64-bit (two 32-bit halves)", f0);

    f0 = fails;
    mmio_write32(m + 0x200, 0x11223344u);
    check("mmio cross read8", 0x200, 0x44, mmio_read8(m + 0x200));
    check("mmio cross read8", 0x201, 0x33, mmio_read8(m + 0x201));
    check("mmio cross read8", 0x202, 0x22, mmio_read8(m + 0x202));
    check("mmio cross read8", 0x203, 0x11, mmio_read8(m + 0x203));
    check("mmio cross read16", 0x200, 0x3344, mmio_read16(m + 0x200));
    check("mmio cross read16", 0x201, 0x2233, mmio_read16(m + 0x201));
    check("mmio cross read16", 0x202, 0x1122, mmio_read16(m + 0x202));
    for (uint32_t i = 0; i < 8; i++)
        mmio_write8(m + 0x300 + i, (uint8_t)(0x11 * (i + 1)));
    check("mmio bytes->read32", 0x300, 0x44332211u, mmio_read32(m + 0x300));
    check("mmio bytes->read32", 0x304, 0x88776655u, mmio_read32(m + 0x304));
    check("mmio bytes->read64", 0x300, 0x8877665544332211ull, mmio_read64(m + 0x300));
    mmio_write32(m + 0x400, 0xFFFFFFFFu);
    mmio_write8(m + 0x401, 0x00);
    check("mmio write8 into dword", 0x400, 0xFFFF00FFu, mmio_read32(m + 0x400));
    mmio_write16(m + 0x402, 0x1234);
    check("mmio write16 into dword", 0x400, 0x123400FFu, mmio_read32(m + 0x400));
    mmio_write8(m + 0xFFF, 0x9C);
    check("mmio last byte via read32", 0xFFC, 0x9C, mmio_read32(m + 0xFFC) >> 24);
    section("cross-size", f0);
}

static uint32_t bar_size(uint8_t b, uint8_t d, uint8_t f, uint8_t reg, uint32_t mask)
{
    uint32_t orig = pci_cfg_read32(b, d, f, reg);
    pci_cfg_write32(b, d, f, reg, 0xFFFFFFFFu);
    uint32_t v = pci_cfg_read32(b, d, f, reg);
    pci_cfg_write32(b, d, f, reg, orig);
    v &= mask;
    return v ? (~v + 1) & mask : 0;
}

void guest_main(uint32_t magic, const struct multiboot_info *mbi)
{
    (void)magic;
    (void)mbi;
    unsigned f0;

    printf("iorw: read-after-write test via PCI testdev %04x:%04x\n", TESTDEV_VENDOR, TESTDEV_DEVICE);

    /* Host bridge: informational only. */
    uint32_t hb = pci_cfg_read32(0, 0, 0, PCI_VENDOR_ID);
    printf("host bridge 00:00.0 vendor=0x%04x device=0x%04x\n", hb & 0xFFFF, hb >> 16);

    f0 = fails;
    check("pci 00:1f.7 vendor (absent)", 0x00, 0xFFFF, pci_cfg_read16(0, 31, 7, PCI_VENDOR_ID));
    check("pci 00:1f.7 dword 0 (absent)", 0x00, 0xFFFFFFFFu, pci_cfg_read32(0, 31, 7, PCI_VENDOR_ID));
    section("non-existent PCI function reads all-ones", f0);

    f0 = fails;
    check("unused port inb", UNUSED_PORT, 0xFF, inb(UNUSED_PORT));
    check("unused port inw", UNUSED_PORT, 0xFFFF, inw(UNUSED_PORT));
    check("unused port inl", UNUSED_PORT, 0xFFFFFFFFu, inl(UNUSED_PORT));
    outb(UNUSED_PORT, 0x00);
    check("unused port inb after outb", UNUSED_PORT, 0xFF, inb(UNUSED_PORT));
    section("unused I/O port 0xe0 reads all-ones", f0);

    uint8_t bus, dev, fn;
    if (!pci_find(TESTDEV_VENDOR, TESTDEV_DEVICE, &bus, &dev, &fn))
        result_fail("testdev not found");
    printf("testdev at %02x:%02x.%x\n", bus, dev, fn);

    uint16_t cmd = pci_cfg_read16(bus, dev, fn, PCI_COMMAND);
    uint32_t bar0 = pci_cfg_read32(bus, dev, fn, PCI_BAR0);
    uint32_t bar1 = pci_cfg_read32(bus, dev, fn, PCI_BAR0 + 4);
    printf("command=0x%04x bar0=0x%08x bar1=0x%08x\n", cmd, bar0, bar1);
    if (bar0 & 0x1)
        result_fail("BAR0 is not a memory BAR (0x%08x)", bar0);
    if (bar0 & 0x6)
        result_fail("BAR0 is not a 32-bit memory BAR (0x%08x)", bar0);
    if (!(bar1 & 0x1))
        result_fail("BAR1 is not an I/O BAR (0x%08x)", bar1);
    uintptr_t mem = bar0 & ~0xFu;
    uint32_t io = bar1 & ~0x3u;
    if (!mem || (uint64_t)mem + TESTDEV_MMIO_SIZE > 0x100000000ull)
        result_fail("BAR0 not assigned / bad address 0x%08x", (uint32_t)mem);
    if (!io || io + TESTDEV_IO_SIZE > 0x10000u)
        result_fail("BAR1 not assigned / bad port 0x%x", io);
    /* Informational: standard BAR sizing (decoding is off). */
    printf("BAR sizing: bar0 size=0x%x bar1 size=0x%x (info)\n",
           bar_size(bus, dev, fn, PCI_BAR0, ~0xFu), bar_size(bus, dev, fn, PCI_BAR0 + 4, 0xFFFCu));
    if (pci_cfg_read32(bus, dev, fn, PCI_BAR0) != bar0 || pci_cfg_read32(bus, dev, fn, PCI_BAR0 + 4) != bar1)
        result_fail("BARs not restored after sizing");

    /* Decoding is off: the I/O BAR must not respond yet. */
    f0 = fails;
    if (cmd & (PCI_COMMAND_IO | PCI_COMMAND_MEMORY))
        printf("note: command register already has decoding bits set (0x%04x)\n", cmd);
    check("io BAR read before decode enable", 0, 0xFF, inb((uint16_t)io));
    printf("mmio BAR read32 before decode enable: 0x%08x (info)\n", mmio_read32(mem));
    section("I/O BAR reads all-ones before decoding is enabled", f0);

    pci_cfg_write16(bus, dev, fn, PCI_COMMAND, (uint16_t)(cmd | PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
    uint16_t cmd2 = pci_cfg_read16(bus, dev, fn, PCI_COMMAND);
    printf("command=0x%04x after enabling I/O + memory decoding\n", cmd2);
    if ((cmd2 & (PCI_COMMAND_IO | PCI_COMMAND_MEMORY)) != (PCI_COMMAND_IO | PCI_COMMAND_MEMORY))
        result_fail("command register decoding bits did not stick (0x%04x)", cmd2);

    test_io((uint16_t)io);
    test_mmio(mem);

    printf("iorw: %u failure(s)\n", fails);
    if (fails)
        result_fail("%u mismatch(es)", fails);
    result_pass();
}
