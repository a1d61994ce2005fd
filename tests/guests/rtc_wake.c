/*
 * rtc_wake: powers itself off (ACPI S5) with its RTC alarm set to wake it,
 * as Linux's `rtcwake -m off` does: the ACPI mode enabled through the SMI
 * command port, the alarm DELAY seconds ahead (cmdline delay=N, default 3)
 * with AIE in register B, RTC_EN in PM1_EN, then SLP_TYP 5 and SLP_EN in
 * PM1a_CNT. Prints "alarm set for HH:MM:SS" and "powering off"; a VMM that
 * does not power off leaves it spinning.
 */
#include "lib/guest.h"

enum {
    cmos_index = 0x70,
    cmos_data = 0x71,
    pm1a_event = 0x400, /* PM1_STS, then PM1_EN */
    pm1a_control = 0x404,
    smi_command = 0xB2,
    acpi_enable = 0xA0,
    rtc_enable = 1u << 10,
    sci_enable = 1u << 0,
    sleep_type_s5 = 5u << 10,
    sleep_enable = 1u << 13,
    register_a = 0x0A,
    register_b = 0x0B,
    update_in_progress = 0x80,
    alarm_interrupt_enable = 0x20,
    hour_24 = 0x02,
};

static uint8_t cmos_read(uint8_t index)
{
    outb(cmos_index, index);
    return inb(cmos_data);
}

static void cmos_write(uint8_t index, uint8_t value)
{
    outb(cmos_index, index);
    outb(cmos_data, value);
}

static unsigned from_bcd(uint8_t v) { return (v >> 4) * 10u + (v & 0x0Fu); }
static uint8_t to_bcd(unsigned v) { return (uint8_t)(((v / 10) << 4) | (v % 10)); }

void guest_main(uint32_t magic, const struct multiboot_info *mbi)
{
    (void)magic;
    const unsigned delay = cmdline_get_u32(mb_cmdline(mbi), "delay", 10, 3);

    outb(smi_command, acpi_enable);
    while ((inw(pm1a_control) & sci_enable) == 0)
        cpu_pause();

    while (cmos_read(register_a) & update_in_progress)
        cpu_pause();
    unsigned of_day = from_bcd(cmos_read(0x04)) * 3600u + from_bcd(cmos_read(0x02)) * 60u + from_bcd(cmos_read(0x00));
    of_day = (of_day + delay) % 86400u;
    cmos_write(0x01, to_bcd(of_day % 60));
    cmos_write(0x03, to_bcd(of_day / 60 % 60));
    cmos_write(0x05, to_bcd(of_day / 3600));
    cmos_write(register_b, alarm_interrupt_enable | hour_24);
    outw(pm1a_event + 2, (uint16_t)(inw(pm1a_event + 2) | rtc_enable));
    printf("alarm set for %02u:%02u:%02u\n", of_day / 3600, of_day / 60 % 60, of_day % 60);

    printf("powering off\n");
    outw(pm1a_control, sci_enable | sleep_type_s5 | sleep_enable);
    for (;;)
        cpu_pause();
}
