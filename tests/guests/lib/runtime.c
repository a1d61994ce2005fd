/* Basic runtime: mem/str functions, 64-bit division helper, debug exit. */
#include "guest.h"

void *memset(void *s, int c, size_t n)
{
    uint8_t *p = s;
    while (n--)
        *p++ = (uint8_t)c;
    return s;
}

void *memcpy(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    while (n--)
        *d++ = *s++;
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    if (d < s) {
        while (n--)
            *d++ = *s++;
    } else {
        while (n--)
            d[n] = s[n];
    }
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const uint8_t *x = a, *y = b;
    for (; n; n--, x++, y++)
        if (*x != *y)
            return *x < *y ? -1 : 1;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

int strncmp(const char *a, const char *b, size_t n)
{
    for (; n; n--, a++, b++) {
        if (*a != *b)
            return (uint8_t)*a < (uint8_t)*b ? -1 : 1;
        if (!*a)
            return 0;
    }
    return 0;
}

int strcmp(const char *a, const char *b) { return strncmp(a, b, (size_t)-1); }

const char *strstr(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (!strncmp(hay, needle, n))
            return hay;
    return n ? NULL : hay;
}

/* u64 / u32 with two 32-bit `divl`s (no libgcc __udivdi3). d must be != 0. */
uint64_t u64_divmod32(uint64_t n, uint32_t d, uint32_t *rem)
{
    uint32_t hi = (uint32_t)(n >> 32), lo = (uint32_t)n;
    uint32_t qhi = 0, qlo, r = 0;
    if (d == 0) {
        /* Undefined; avoid #DE (there is no IDT). */
        if (rem)
            *rem = 0;
        return ~(uint64_t)0;
    }
    if (hi >= d) {
        __asm__("divl %2" : "=a"(qhi), "=d"(r) : "rm"(d), "a"(hi), "d"(0u));
    } else {
        r = hi;
    }
    /* r < d, so the quotient of r:lo / d fits in 32 bits. */
    __asm__("divl %2" : "=a"(qlo), "=d"(r) : "rm"(d), "a"(lo), "d"(r));
    if (rem)
        *rem = r;
    return ((uint64_t)qhi << 32) | qlo;
}

void debug_exit(uint8_t v)
{
    outb(DEBUG_EXIT_PORT, v);
    /* Fallback if there is no debug-exit device: stop here forever. */
    for (;;) {
        cpu_cli();
        cpu_hlt();
    }
}

void result_pass(void)
{
    printf("RESULT PASS\n");
    debug_exit(RESULT_PASS);
}

void result_fail(const char *fmt, ...)
{
    va_list ap;
    printf("RESULT FAIL ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    debug_exit(RESULT_FAIL);
}
