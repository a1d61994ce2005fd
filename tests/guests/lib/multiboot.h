/* Multiboot (version 1) definitions used by the test guests. */
#ifndef GUEST_MULTIBOOT_H
#define GUEST_MULTIBOOT_H

#define MULTIBOOT_HEADER_MAGIC 0x1BADB002u
#define MULTIBOOT_BOOTLOADER_MAGIC 0x2BADB002u

/* Header flags: bit 0 = page-align modules, bit 1 = provide memory info. */
#define MULTIBOOT_HEADER_FLAGS 0x00000003u

/* multiboot_info.flags bits */
#define MULTIBOOT_INFO_MEMORY (1u << 0)
#define MULTIBOOT_INFO_BOOTDEV (1u << 1)
#define MULTIBOOT_INFO_CMDLINE (1u << 2)
#define MULTIBOOT_INFO_MODS (1u << 3)
#define MULTIBOOT_INFO_MEM_MAP (1u << 6)

#ifndef __ASSEMBLER__
struct multiboot_info {
    uint32_t flags;
    uint32_t mem_lower; /* KiB, valid if flags bit 0 */
    uint32_t mem_upper; /* KiB, valid if flags bit 0 */
    uint32_t boot_device;
    uint32_t cmdline; /* physical address of a NUL-terminated string, flags bit 2 */
    uint32_t mods_count;
    uint32_t mods_addr;
    uint32_t syms[4];
    uint32_t mmap_length;
    uint32_t mmap_addr;
    uint32_t drives_length;
    uint32_t drives_addr;
    uint32_t config_table;
    uint32_t boot_loader_name;
    uint32_t apm_table;
    uint32_t vbe_control_info;
    uint32_t vbe_mode_info;
    uint16_t vbe_mode;
    uint16_t vbe_interface_seg;
    uint16_t vbe_interface_off;
    uint16_t vbe_interface_len;
} __attribute__((packed));
#endif

#endif
