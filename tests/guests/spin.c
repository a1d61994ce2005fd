/*
 * spin: prints "spinning" and then spins forever with `pause` (interrupts off).
 * Used to check that the VMM can be stopped from outside.
 */
#include "lib/guest.h"

void guest_main(uint32_t magic, const struct multiboot_info *mbi)
{
    (void)magic;
    (void)mbi;
    printf("spinning\n");
    for (;;)
        cpu_pause();
}
