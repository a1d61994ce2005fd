/* COM1 16550 polled output and a minimal printf. */
#include "guest.h"

#define UART_THR 0 /* transmit holding (DLAB=0) */
#define UART_DLL 0 /* divisor low (DLAB=1) */
#define UART_IER 1
#define UART_DLM 1 /* divisor high (DLAB=1) */
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_LSR_THRE 0x20

static bool serial_ready;

void serial_init(void)
{
    if (serial_ready)
        return;
    serial_ready = true;
    outb(COM1_BASE + UART_IER, 0x00); /* no interrupts */
    outb(COM1_BASE + UART_LCR, 0x80); /* DLAB on */
    outb(COM1_BASE + UART_DLL, 0x01); /* divisor 1 = 115200 baud */
    outb(COM1_BASE + UART_DLM, 0x00);
    outb(COM1_BASE + UART_LCR, 0x03); /* 8N1, DLAB off */
    outb(COM1_BASE + UART_FCR, 0xC7); /* enable + clear FIFOs, 14-byte trigger */
    outb(COM1_BASE + UART_MCR, 0x03); /* DTR | RTS */
}

void serial_putc(char c)
{
    /* Bounded wait so that a missing/broken UART cannot hang the guest. */
    for (uint32_t i = 0; i < 1000000; i++) {
        if (inb(COM1_BASE + UART_LSR) & UART_LSR_THRE)
            break;
        cpu_pause();
    }
    outb(COM1_BASE + UART_THR, (uint8_t)c);
}

void serial_puts(const char *s)
{
    serial_init();
    while (*s)
        serial_putc(*s++);
}

/* Output sink: serial (buf == NULL) or a bounded buffer. */
struct sink {
    char *buf;
    size_t size;
    size_t len;
};

static void sink_put(struct sink *s, char c)
{
    if (!s->buf) {
        serial_putc(c);
    } else if (s->len + 1 < s->size) {
        s->buf[s->len] = c;
    }
    s->len++;
}

static void put_padded(struct sink *s, const char *str, size_t len, int width, bool left, char pad)
{
    int padn = width > (int)len ? width - (int)len : 0;
    if (!left) {
        /* zero padding goes after a leading '-' */
        if (pad == '0' && len && str[0] == '-') {
            sink_put(s, '-');
            str++;
            len--;
        }
        while (padn--)
            sink_put(s, pad);
    }
    while (len--)
        sink_put(s, *str++);
    if (left)
        while (padn--)
            sink_put(s, ' ');
}

/* Format v in base 10 or 16 into the end of tmp; returns start pointer. */
static char *fmt_u64(char *end, uint64_t v, unsigned base, bool upper)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char *p = end;
    *--p = '\0';
    do {
        if (base == 16) {
            *--p = digits[v & 0xF];
            v >>= 4;
        } else {
            uint32_t r;
            v = u64_divmod32(v, 10, &r);
            *--p = digits[r];
        }
    } while (v);
    return p;
}

static void do_format(struct sink *s, const char *fmt, va_list ap)
{
    char tmp[32];
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            sink_put(s, *fmt);
            continue;
        }
        fmt++;
        bool left = false;
        char pad = ' ';
        int width = 0, lng = 0;
        for (;; fmt++) {
            if (*fmt == '-')
                left = true;
            else if (*fmt == '0')
                pad = '0';
            else
                break;
        }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l') {
            lng++;
            fmt++;
        }
        if (*fmt == 'z') /* size_t is 32-bit */
            fmt++;
        switch (*fmt) {
        case '\0':
            return;
        case '%':
            sink_put(s, '%');
            break;
        case 'c':
            tmp[0] = (char)va_arg(ap, int);
            put_padded(s, tmp, 1, width, left, ' ');
            break;
        case 's': {
            const char *str = va_arg(ap, const char *);
            if (!str)
                str = "(null)";
            put_padded(s, str, strlen(str), width, left, ' ');
            break;
        }
        case 'd':
        case 'i': {
            int64_t v = lng >= 2 ? va_arg(ap, int64_t) : (int64_t)va_arg(ap, int32_t);
            bool neg = v < 0;
            uint64_t u = neg ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
            char *p = fmt_u64(tmp + sizeof(tmp), u, 10, false);
            if (neg)
                *--p = '-';
            put_padded(s, p, strlen(p), width, left, pad);
            break;
        }
        case 'u':
        case 'x':
        case 'X': {
            uint64_t u = lng >= 2 ? va_arg(ap, uint64_t) : (uint64_t)va_arg(ap, uint32_t);
            char *p = fmt_u64(tmp + sizeof(tmp), u, *fmt == 'u' ? 10 : 16, *fmt == 'X');
            put_padded(s, p, strlen(p), width, left, pad);
            break;
        }
        case 'p': {
            char *p = fmt_u64(tmp + sizeof(tmp), (uintptr_t)va_arg(ap, void *), 16, false);
            sink_put(s, '0');
            sink_put(s, 'x');
            put_padded(s, p, strlen(p), 8, false, '0');
            break;
        }
        default: /* unknown: print verbatim */
            sink_put(s, '%');
            sink_put(s, *fmt);
            break;
        }
    }
}

void vprintf(const char *fmt, va_list ap)
{
    struct sink s = {NULL, 0, 0};
    serial_init();
    do_format(&s, fmt, ap);
}

void printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
    struct sink s = {buf, size, 0};
    va_list ap;
    va_start(ap, fmt);
    do_format(&s, fmt, ap);
    va_end(ap);
    if (size)
        buf[s.len < size ? s.len : size - 1] = '\0';
    return (int)s.len;
}
