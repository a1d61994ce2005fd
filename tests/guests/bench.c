/*
 * bench: round-trip cost of a guest `inb` that exits to the device model.
 * cmdline: port=<hex, default 0xe0>  n=<decimal, default 20000, max 100000>
 *          warmup=<decimal, default 1000>
 * Each of the n timed reads is bracketed by lfence;rdtsc;lfence ... lfence;rdtsc.
 * Output (one machine-readable line each):
 *   BENCH port=0x<p> n=<n> min_cycles=<> median_cycles=<> mean_cycles=<> max_cycles=<>
 *   BENCH_TOTAL ticks=<TSC ticks of the whole timed loop>
 */
#include "lib/guest.h"

#define MAX_SAMPLES 100000u

static uint64_t samples[MAX_SAMPLES];

static void sift_down(uint64_t *a, uint32_t root, uint32_t n)
{
    uint64_t v = a[root];
    for (;;) {
        uint32_t child = 2 * root + 1;
        if (child >= n)
            break;
        if (child + 1 < n && a[child + 1] > a[child])
            child++;
        if (a[child] <= v)
            break;
        a[root] = a[child];
        root = child;
    }
    a[root] = v;
}

/* Non-recursive in-place heapsort, ascending. */
static void heapsort_u64(uint64_t *a, uint32_t n)
{
    if (n < 2)
        return;
    for (uint32_t i = n / 2; i-- > 0;)
        sift_down(a, i, n);
    for (uint32_t end = n - 1; end > 0; end--) {
        uint64_t t = a[0];
        a[0] = a[end];
        a[end] = t;
        sift_down(a, 0, end);
    }
}

void guest_main(uint32_t magic, const struct multiboot_info *mbi)
{
    (void)magic;
    const char *cmdline = mb_cmdline(mbi);
    uint32_t port = cmdline_get_u32(cmdline, "port", 16, 0xE0);
    uint32_t n = cmdline_get_u32(cmdline, "n", 10, 20000);
    uint32_t warmup = cmdline_get_u32(cmdline, "warmup", 10, 1000);

    printf("bench: cmdline=%s\n", cmdline);
    if (port > 0xFFFF)
        result_fail("bad port 0x%x", port);
    if (n > MAX_SAMPLES) {
        printf("bench: n=%u capped to %u\n", n, MAX_SAMPLES);
        n = MAX_SAMPLES;
    }
    if (n == 0)
        n = 1;
    printf("bench: port=0x%x n=%u warmup=%u\n", port, n, warmup);

    for (uint32_t i = 0; i < warmup; i++)
        (void)inb((uint16_t)port);

    uint64_t total_start = rdtsc_begin();
    for (uint32_t i = 0; i < n; i++) {
        uint64_t t0 = rdtsc_begin();
        (void)inb((uint16_t)port);
        uint64_t t1 = rdtsc_end();
        samples[i] = t1 - t0;
    }
    uint64_t total = rdtsc_end() - total_start;

    uint64_t sum = 0;
    for (uint32_t i = 0; i < n; i++)
        sum += samples[i];
    heapsort_u64(samples, n);
    uint64_t min = samples[0], max = samples[n - 1];
    uint64_t median = (samples[(n - 1) / 2] >> 1) + (samples[n / 2] >> 1) + (samples[(n - 1) / 2] & samples[n / 2] & 1);
    uint64_t mean = u64_div32(sum, n);

    printf("BENCH port=0x%x n=%u min_cycles=%llu median_cycles=%llu mean_cycles=%llu max_cycles=%llu\n",
           port, n, min, median, mean, max);
    printf("BENCH_TOTAL ticks=%llu\n", total);
    result_pass();
}
