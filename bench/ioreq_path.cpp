// Benchmark without KVM: the round trip of one request through the ioreq
// path as acrn-dm runs it (hv's IoreqChannel -> the relay's IoreqDispatcher
// -> acrn-dm's IoreqLoop, its PIO bus and a device -> notify-finish ->
// COMPLETE -> hv), per wait style, in ns and TSC cycles (min, median, p99).
// This is the part of a guest port read's cost that is ours;
// bench/ioreq-roundtrip measures the whole round trip with a guest on KVM.
#include <x86intrin.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "tests/support/production_ioreq_rig.hpp"

namespace {

using acrn::hv::CompletionMode;
using acrn::testing::ProductionIoreqRig;

struct Style {
    const char* name;
    CompletionMode mode;
    std::chrono::microseconds attach_poll;
};

double tsc_per_ns() {
    const auto t0 = std::chrono::steady_clock::now();
    const auto c0 = __rdtsc();
    while (std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(200)) {
    }
    const auto c1 = __rdtsc();
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count();
    return static_cast<double>(c1 - c0) / static_cast<double>(ns);
}

}  // namespace

int main(int argc, char** argv) {
    const long requests = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 200000;
    if (requests <= 0) {
        std::fprintf(stderr, "usage: bench_ioreq_path [REQUESTS]\n");
        return 64;
    }
    const double cycles_per_ns = tsc_per_ns();
    std::printf("ioreq path without KVM (hv channel, relay dispatcher, acrn-dm ioreq loop and PIO bus), %ld requests per style, TSC %.3f GHz\n", requests, cycles_per_ns);
    std::printf("%-34s %10s %10s %10s %12s %12s\n", "wait style", "min ns", "median ns", "p99 ns", "min cycles",
                "median cyc");
    const Style styles[] = {
        {"notification (ACRN default)", CompletionMode::notification, std::chrono::microseconds(0)},
        {"polling, DM sleeps in attach", CompletionMode::polling, std::chrono::microseconds(0)},
        {"polling, DM polls 200 us (ours)", CompletionMode::polling, std::chrono::microseconds(200)},
    };
    int status = 0;
    for (const Style& style : styles) {
        ProductionIoreqRig rig(style.mode, 1, style.attach_poll);
        std::vector<std::uint64_t> cycles(static_cast<std::size_t>(requests));
        for (long i = 0; i < 2000; ++i) {
            if (!rig.write_then_read(0, static_cast<std::uint32_t>(i))) {
                status = 1;
            }
        }
        for (long i = 0; i < requests; ++i) {
            const auto start = __rdtsc();
            if (!rig.read(0)) {
                status = 1;
            }
            cycles[static_cast<std::size_t>(i)] = __rdtsc() - start;
        }
        std::sort(cycles.begin(), cycles.end());
        const auto at = [&](double q) { return cycles[static_cast<std::size_t>(q * static_cast<double>(requests - 1))]; };
        std::printf("%-34s %10.0f %10.0f %10.0f %12llu %12llu\n", style.name, at(0) / cycles_per_ns,
                    at(0.5) / cycles_per_ns, at(0.99) / cycles_per_ns, static_cast<unsigned long long>(at(0)),
                    static_cast<unsigned long long>(at(0.5)));
    }
    if (status != 0) {
        std::fprintf(stderr, "bench_ioreq_path: some requests came back wrong\n");
    }
    return status;
}
