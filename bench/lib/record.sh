# Sourced by the benchmarks: bench_record writes one figure for bench/run's
# report when BENCH_RECORD names a file (bench/run sets it), else nothing.
# A line: BENCH<TAB>ROW<TAB>METRIC<TAB>UNIT<TAB>BETTER<TAB>VALUE, BETTER
# "lower" or "higher" (which way the ratio to QEMU is good). A benchmark
# names its QEMU row with bench_reference; its ratios are taken to that row.

bench_record() {  # BENCH ROW METRIC UNIT BETTER VALUE
    [ -n "${BENCH_RECORD:-}" ] || return 0
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$BENCH_RECORD"
}

bench_reference() {  # BENCH ROW
    [ -n "${BENCH_RECORD:-}" ] || return 0
    printf '%s\t%s\treference\t-\t-\t-\n' "$1" "$2" >>"$BENCH_RECORD"
}

bench_machine() {  # prints the machine line every benchmark starts with
    echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) CPUs, kernel $(uname -r)"
}

bench_nested_note() {  # says so when this runs inside the test host
    if [ -r /sys/module/kvm_amd/parameters/nested ] && grep -q ' 9p ' /proc/mounts; then
        echo "note: nested: this runs inside the QEMU-TCG test host (L1), so every exit is emulated"
    fi
}
