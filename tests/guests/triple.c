/*
 * triple: deliberately triple-faults.  Loads an IDT with limit 0 and executes
 * int3: the #BP vector is beyond the IDT limit -> #GP, which cannot be
 * delivered either -> #DF -> triple fault (shutdown).  The VMM must report a
 * shutdown / triple fault.  Nothing may be printed after "about to triple fault".
 *
 * cmdline: events=1 first waits for a command-monitor client to register
 * for VM events: it prints "waiting for the event client" and waits for a
 * byte on COM1, then sets the RTC's minutes (an RTC change event) and lets
 * two RTC seconds pass (the event is sent once the clock settles).
 */
#include "lib/guest.h"

struct __attribute__((packed)) idt_ptr {
    uint16_t limit;
    uint32_t base;
};

static uint8_t cmos_read(uint8_t index)
{
    outb(0x70, index);
    return inb(0x71);
}

static void wait_rtc_seconds(unsigned seconds)
{
    uint8_t last = cmos_read(0x00);
    while (seconds > 0) {
        const uint8_t now = cmos_read(0x00);
        if (now != last) {
            last = now;
            --seconds;
        }
        cpu_pause();
    }
}

void guest_main(uint32_t magic, const struct multiboot_info *mbi)
{
    (void)magic;
    static const struct idt_ptr empty_idt = {0, 0};

    if (cmdline_get_u32(mb_cmdline(mbi), "events", 10, 0) == 1) {
        printf("waiting for the event client\n");
        while ((inb(0x3FD) & 0x01) == 0) /* LSR: data ready */
            cpu_pause();
        (void)inb(0x3F8);
        const uint8_t minutes = cmos_read(0x02); /* BCD */
        outb(0x70, 0x02);
        outb(0x71, minutes == 0x59 ? 0x00 : (uint8_t)((minutes & 0x0F) == 9 ? minutes + 7 : minutes + 1));
        printf("RTC minutes set\n");
        wait_rtc_seconds(2);
    }

    printf("about to triple fault\n");
    __asm__ volatile("lidt %0\n\t"
                     "int3\n\t"
                     "ud2" ::"m"(empty_idt)
                     : "memory");
    result_fail("still running after triple fault");
}
