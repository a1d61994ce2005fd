/*
 * hello: prints the multiboot information and checks that the loader set it up.
 * Checks: magic == 0x2BADB002, mbi flags bits 0 (memory) and 2 (cmdline) set,
 * mem_upper > 0.  With "exit=<n>" (decimal) on the command line it prints
 * RESULT PASS and then exits with debug_exit(n) instead of debug_exit(0).
 */
#include "lib/guest.h"

void guest_main(uint32_t magic, const struct multiboot_info *mbi)
{
    int fails = 0;

    printf("Hello from guest\n");
    printf("magic=0x%x\n", magic);
    if (magic != MULTIBOOT_BOOTLOADER_MAGIC) {
        printf("bad multiboot magic 0x%08x\n", magic);
        result_fail("bad magic 0x%08x", magic);
    }
    printf("mbi=%p flags=0x%x\n", (const void *)mbi, mbi->flags);

    if (mbi->flags & MULTIBOOT_INFO_MEMORY) {
        printf("mem_lower=%uKiB mem_upper=%uKiB\n", mbi->mem_lower, mbi->mem_upper);
        if (mbi->mem_upper == 0) {
            printf("mem_upper is 0\n");
            fails++;
        }
    } else {
        printf("flags bit 0 (mem_lower/mem_upper) not set\n");
        fails++;
    }

    const char *cmdline = mb_cmdline(mbi);
    if (mbi->flags & MULTIBOOT_INFO_CMDLINE) {
        printf("cmdline=%s\n", cmdline);
    } else {
        printf("flags bit 2 (cmdline) not set\n");
        fails++;
    }

    if (fails)
        result_fail("%d multiboot check(s) failed", fails);

    char buf[16];
    uint32_t code = 0;
    bool have_exit = cmdline_get(cmdline, "exit", buf, sizeof(buf));
    if (have_exit && (!parse_u32(buf, 10, &code) || code > 255))
        result_fail("bad exit=%s", buf);

    printf("RESULT PASS\n");
    debug_exit((uint8_t)code);
}
