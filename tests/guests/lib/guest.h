/*
 * Freestanding runtime for the multiboot test guests (32-bit, no libc).
 *
 * Result convention: a guest prints "RESULT PASS" or "RESULT FAIL <reason>"
 * on COM1 and then calls debug_exit(v) (outb 0xF4), v = 0 for PASS, 1 for
 * FAIL.  The VMM (or QEMU's isa-debug-exit) exits with status (v << 1) | 1.
 */
#ifndef GUEST_H
#define GUEST_H

typedef __UINT8_TYPE__ uint8_t;
typedef __UINT16_TYPE__ uint16_t;
typedef __UINT32_TYPE__ uint32_t;
typedef __UINT64_TYPE__ uint64_t;
typedef __INT8_TYPE__ int8_t;
typedef __INT16_TYPE__ int16_t;
typedef __INT32_TYPE__ int32_t;
typedef __INT64_TYPE__ int64_t;
typedef __SIZE_TYPE__ size_t;
typedef __UINTPTR_TYPE__ uintptr_t;
typedef _Bool bool;
#define true 1
#define false 0
#define NULL ((void *)0)

typedef __builtin_va_list va_list;
#define va_start(ap, last) __builtin_va_start(ap, last)
#define va_arg(ap, type) __builtin_va_arg(ap, type)
#define va_end(ap) __builtin_va_end(ap)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define NORETURN __attribute__((noreturn))

#include "multiboot.h"

/* Provided by each guest. */
void guest_main(uint32_t magic, const struct multiboot_info *mbi);

/* ---------------------------------------------------------------- port I/O */
static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port) : "memory"); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port) : "memory"); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port) : "memory"); }
static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port) : "memory");
    return v;
}
static inline uint16_t inw(uint16_t port)
{
    uint16_t v;
    __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port) : "memory");
    return v;
}
static inline uint32_t inl(uint16_t port)
{
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port) : "memory");
    return v;
}

/* String I/O: every element goes to / comes from the SAME port (x86 semantics). */
static inline void outsb(uint16_t port, const void *buf, uint32_t count)
{
    __asm__ volatile("cld; rep outsb" : "+S"(buf), "+c"(count) : "d"(port) : "memory");
}
static inline void outsw(uint16_t port, const void *buf, uint32_t count)
{
    __asm__ volatile("cld; rep outsw" : "+S"(buf), "+c"(count) : "d"(port) : "memory");
}
static inline void outsl(uint16_t port, const void *buf, uint32_t count)
{
    __asm__ volatile("cld; rep outsl" : "+S"(buf), "+c"(count) : "d"(port) : "memory");
}
static inline void insb(uint16_t port, void *buf, uint32_t count)
{
    __asm__ volatile("cld; rep insb" : "+D"(buf), "+c"(count) : "d"(port) : "memory");
}
static inline void insw(uint16_t port, void *buf, uint32_t count)
{
    __asm__ volatile("cld; rep insw" : "+D"(buf), "+c"(count) : "d"(port) : "memory");
}
static inline void insl(uint16_t port, void *buf, uint32_t count)
{
    __asm__ volatile("cld; rep insl" : "+D"(buf), "+c"(count) : "d"(port) : "memory");
}

/* -------------------------------------------------------------------- MMIO */
/* Each access is exactly one instruction of the given width (inline asm, so
 * the compiler can neither split nor merge it). */
static inline uint8_t mmio_read8(uintptr_t addr)
{
    uint8_t v;
    __asm__ volatile("movb (%1), %0" : "=q"(v) : "r"(addr) : "memory");
    return v;
}
static inline uint16_t mmio_read16(uintptr_t addr)
{
    uint16_t v;
    __asm__ volatile("movw (%1), %0" : "=r"(v) : "r"(addr) : "memory");
    return v;
}
static inline uint32_t mmio_read32(uintptr_t addr)
{
    uint32_t v;
    __asm__ volatile("movl (%1), %0" : "=r"(v) : "r"(addr) : "memory");
    return v;
}
static inline void mmio_write8(uintptr_t addr, uint8_t v) { __asm__ volatile("movb %0, (%1)" ::"q"(v), "r"(addr) : "memory"); }
static inline void mmio_write16(uintptr_t addr, uint16_t v) { __asm__ volatile("movw %0, (%1)" ::"r"(v), "r"(addr) : "memory"); }
static inline void mmio_write32(uintptr_t addr, uint32_t v) { __asm__ volatile("movl %0, (%1)" ::"r"(v), "r"(addr) : "memory"); }

/*
 * 64-bit MMIO.  NOTE: the guests run in 32-bit mode and are built without
 * SSE/MMX/x87, so there is no single 8-byte general-purpose move.  These are
 * implemented as TWO 32-bit accesses, low dword (addr) first, then high dword
 * (addr + 4).  A device therefore sees two 4-byte accesses, not one 8-byte one.
 */
static inline uint64_t mmio_read64(uintptr_t addr)
{
    uint32_t lo = mmio_read32(addr);
    uint32_t hi = mmio_read32(addr + 4);
    return ((uint64_t)hi << 32) | lo;
}
static inline void mmio_write64(uintptr_t addr, uint64_t v)
{
    mmio_write32(addr, (uint32_t)v);
    mmio_write32(addr + 4, (uint32_t)(v >> 32));
}

/* ------------------------------------------------------------------- misc */
static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi)::"memory");
    return ((uint64_t)hi << 32) | lo;
}
/* lfence; rdtsc; lfence: earlier instructions have completed and later ones
 * have not started when the TSC is sampled. */
static inline uint64_t rdtsc_begin(void)
{
    uint32_t lo, hi;
    __asm__ volatile("lfence; rdtsc; lfence" : "=a"(lo), "=d"(hi)::"memory");
    return ((uint64_t)hi << 32) | lo;
}
/* lfence; rdtsc: waits for the timed instructions to complete. */
static inline uint64_t rdtsc_end(void)
{
    uint32_t lo, hi;
    __asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi)::"memory");
    return ((uint64_t)hi << 32) | lo;
}
static inline void cpu_pause(void) { __asm__ volatile("pause" ::: "memory"); }
static inline void cpu_cli(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void cpu_hlt(void) { __asm__ volatile("hlt" ::: "memory"); }

/* 64-bit arithmetic without libgcc (shift/subtract). */
uint64_t u64_divmod32(uint64_t n, uint32_t d, uint32_t *rem);
static inline uint64_t u64_div32(uint64_t n, uint32_t d) { return u64_divmod32(n, d, NULL); }

/* libc-ish */
void *memset(void *s, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
const char *strstr(const char *hay, const char *needle);

/* ------------------------------------------------------------ serial/print */
#define COM1_BASE 0x3F8
void serial_init(void); /* 115200 8N1, FIFOs on; idempotent, called implicitly by printing */
void serial_putc(char c);
void serial_puts(const char *s);
/* Supports: %% %c %s %d %i %u %x %X %p, flags '0' '-', width, 'l' (32-bit),
 * 'll' (64-bit) with d/i/u/x/X.  "\n" is sent as-is (no CR). */
void vprintf(const char *fmt, va_list ap);
void printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* -------------------------------------------------------------- debug exit */
#define DEBUG_EXIT_PORT 0xF4
#define RESULT_PASS 0
#define RESULT_FAIL 1
void debug_exit(uint8_t v) NORETURN;
/* Print "RESULT PASS" / "RESULT FAIL <reason>" and debug_exit(0 / 1). */
void result_pass(void) NORETURN;
void result_fail(const char *fmt, ...) NORETURN __attribute__((format(printf, 1, 2)));

/* --------------------------------------------------------------------- PCI */
#define PCI_CONFIG_ADDRESS 0xCF8
#define PCI_CONFIG_DATA 0xCFC
#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_CLASS_REVISION 0x08
#define PCI_HEADER_TYPE 0x0E
#define PCI_BAR0 0x10
#define PCI_COMMAND_IO 0x1
#define PCI_COMMAND_MEMORY 0x2

uint32_t pci_cfg_read32(uint8_t bus, uint8_t dev, uint8_t func, uint8_t reg);
uint16_t pci_cfg_read16(uint8_t bus, uint8_t dev, uint8_t func, uint8_t reg);
uint8_t pci_cfg_read8(uint8_t bus, uint8_t dev, uint8_t func, uint8_t reg);
void pci_cfg_write32(uint8_t bus, uint8_t dev, uint8_t func, uint8_t reg, uint32_t v);
void pci_cfg_write16(uint8_t bus, uint8_t dev, uint8_t func, uint8_t reg, uint16_t v);
void pci_cfg_write8(uint8_t bus, uint8_t dev, uint8_t func, uint8_t reg, uint8_t v);
/* Scan bus 0 for vendor:device; returns true and fills bus/dev/func if found. */
bool pci_find(uint16_t vendor, uint16_t device, uint8_t *bus, uint8_t *dev, uint8_t *func);

/* ----------------------------------------------------------------- cmdline */
/* Command line string, or "" if flags bit 2 is clear / mbi is NULL. */
const char *mb_cmdline(const struct multiboot_info *mbi);
/* Find whitespace-separated token "key=value"; copies value into buf
 * (NUL-terminated, truncated to size-1).  Returns true if the key exists. */
bool cmdline_get(const char *cmdline, const char *key, char *buf, size_t size);
/* Parse an unsigned number: "0x"/"0X" prefix => hex, else in `base` (10 or 16).
 * Returns true on success (whole string consumed, no overflow). */
bool parse_u32(const char *s, unsigned base, uint32_t *out);
/* cmdline_get + parse_u32; returns def if missing or malformed. */
uint32_t cmdline_get_u32(const char *cmdline, const char *key, unsigned base, uint32_t def);

#endif
