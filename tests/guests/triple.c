/*
 * triple: deliberately triple-faults.  Loads an IDT with limit 0 and executes
 * int3: the #BP vector is beyond the IDT limit -> #GP, which cannot be
 * delivered either -> #DF -> triple fault (shutdown).  The VMM must report a
 * shutdown / triple fault.  Nothing may be printed after "about to triple fault".
 */
#include "lib/guest.h"

struct __attribute__((packed)) idt_ptr {
    uint16_t limit;
    uint32_t base;
};

void guest_main(uint32_t magic, const struct multiboot_info *mbi)
{
    (void)magic;
    (void)mbi;
    static const struct idt_ptr empty_idt = {0, 0};

    printf("about to triple fault\n");
    __asm__ volatile("lidt %0\n\t"
                     "int3\n\t"
                     "ud2" ::"m"(empty_idt)
                     : "memory");
    result_fail("still running after triple fault");
}
