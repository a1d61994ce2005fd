/* Multiboot command line helpers. */
#include "guest.h"

const char *mb_cmdline(const struct multiboot_info *mbi)
{
    if (!mbi || !(mbi->flags & MULTIBOOT_INFO_CMDLINE) || !mbi->cmdline)
        return "";
    return (const char *)(uintptr_t)mbi->cmdline;
}

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool cmdline_get(const char *cmdline, const char *key, char *buf, size_t size)
{
    size_t klen = strlen(key);
    const char *p = cmdline;
    while (p && *p) {
        while (is_space(*p))
            p++;
        if (!*p)
            break;
        const char *tok = p;
        while (*p && !is_space(*p))
            p++;
        if ((size_t)(p - tok) > klen && !strncmp(tok, key, klen) && tok[klen] == '=') {
            const char *v = tok + klen + 1;
            size_t n = (size_t)(p - v);
            if (size) {
                if (n > size - 1)
                    n = size - 1;
                memcpy(buf, v, n);
                buf[n] = '\0';
            }
            return true;
        }
    }
    return false;
}

bool parse_u32(const char *s, unsigned base, uint32_t *out)
{
    uint32_t v = 0;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    if (!*s)
        return false;
    for (; *s; s++) {
        unsigned d;
        if (*s >= '0' && *s <= '9')
            d = (unsigned)(*s - '0');
        else if (*s >= 'a' && *s <= 'f')
            d = (unsigned)(*s - 'a' + 10);
        else if (*s >= 'A' && *s <= 'F')
            d = (unsigned)(*s - 'A' + 10);
        else
            return false;
        if (d >= base)
            return false;
        if (v > (0xFFFFFFFFu - d) / base)
            return false; /* overflow */
        v = v * base + d;
    }
    *out = v;
    return true;
}

uint32_t cmdline_get_u32(const char *cmdline, const char *key, unsigned base, uint32_t def)
{
    char buf[32];
    uint32_t v;
    if (!cmdline_get(cmdline, key, buf, sizeof(buf)))
        return def;
    if (!parse_u32(buf, base, &v))
        return def;
    return v;
}
