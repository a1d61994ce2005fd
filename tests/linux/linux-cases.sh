#!/bin/bash
# The Linux-guest cases (run by linux-tier.sh, each in its own test host where
# there is no hardware KVM): Debian's own kernel (linux-image-amd64) with our
# busybox initramfs (tests/guests/linux) booted by acrn-dm on /dev/kvm. Each
# case drives the guest's serial console and checks what the guest reports
# about itself ("@@" lines of tests/guests/linux/init) and how acrn-dm ends.
# Usage: linux-cases.sh BUILD_DIR INITRD CASE...
#   INITRD: made by tests/guests/linux/build-initramfs (with its INITRD.id)
# Prints "linux-tier: PASS|FAIL CASE" per case; exits 0 if all passed. With
# RESULTS_DIR set, also writes RESULTS_DIR/CASE ("PASS|FAIL SECONDS [WHY]")
# as each case ends, so a caller can tell which cases a stall cut short.
set -u
usage="usage: linux-cases.sh BUILD_DIR INITRD CASE..."
BUILD=$(cd "${1:?$usage}" && pwd)
INITRD=${2:?$usage}
shift 2
[ $# -ge 1 ] || { echo "$usage" >&2; exit 2; }
DM="$BUILD/bin/acrn-dm"
say() { echo "linux-tier: $*"; }
CASES=("$@")
fail_all() { say "FAIL ${CASES[*]}: $1" >&2; exit 1; }   # fail_all WHY
have_kvm() { [ -c /dev/kvm ] && [ -r /dev/kvm ]; }
KERNEL=$(ls /boot/vmlinuz-*-amd64 2>/dev/null | sort -V | tail -n 1)
[ -n "$KERNEL" ] || fail_all "no Debian kernel in /boot (apt-get install linux-image-amd64)"
[ -r "$INITRD" ] && [ -r "$INITRD.id" ] || fail_all "no initramfs $INITRD (with $INITRD.id)"
INITRD_ID=$(cat "$INITRD.id")

failed=0
declare -A PID IN_FD

kill_all() {
    local name
    for name in "${!PID[@]}"; do
        kill -KILL "${PID[$name]}" 2>/dev/null
    done
}

# The consoles are FIFOs: keep them on a local tmpfs. In the test host /tmp
# may be the host's /tmp over 9p (a CI clone under /tmp), where mkfifo fails.
scratch=/tmp
[ -d /dev/shm ] && [ -w /dev/shm ] && scratch=/dev/shm
WORK=$(mktemp -d "$scratch/linux-cases.XXXXXX")
trap 'kill_all; rm -rf "$WORK"' EXIT

# start_vm NAME ARGS...: acrn-dm in the background, its COM1 on stdio fed
# from a FIFO (send) and logged to $WORK/NAME.out; its log in NAME.err.
start_vm() {
    local name=$1
    shift
    if ! mkfifo "$WORK/$name.in"; then
        say "FAIL $name: cannot make the console FIFO in $WORK" >&2
        exit 1
    fi
    exec {fd}<>"$WORK/$name.in"
    IN_FD[$name]=$fd
    # A VM name has at most 15 characters.
    "$DM" "$@" "vm-${name:0:12}" <"$WORK/$name.in" >"$WORK/$name.out" 2>"$WORK/$name.err" &
    PID[$name]=$!
}

# linux_vm NAME VCPUS MEM BOOTARGS [ACRN-DM ARGS...]: start_vm with Debian's
# kernel and our initramfs.
linux_vm() {
    local name=$1 vcpus=$2 mem=$3 bootargs=$4
    shift 4
    start_vm "$name" -c "$vcpus" -m "$mem" -s 0:0,hostbridge -s 1:0,lpc -l com1,stdio "$@" \
        -k "$KERNEL" -r "$INITRD" -B "console=ttyS0 quiet panic=-1 $bootargs"
}

send() { printf '%s\n' "$2" >&"${IN_FD[$1]}"; }

# wait_for NAME PATTERN SECONDS [COUNT]: until PATTERN (fixed string) is on
# the console COUNT times (default 1); false on timeout or if acrn-dm ended.
wait_for() {
    local name=$1 pattern=$2 limit=$3 count=${4:-1} waited=0
    while [ "$(grep -caF -- "$pattern" "$WORK/$name.out" 2>/dev/null)" -lt "$count" ]; do
        if ! kill -0 "${PID[$name]}" 2>/dev/null || [ $waited -ge $((limit * 10)) ]; then
            return 1
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
}

# finish NAME SECONDS: waits for acrn-dm to exit; sets $rc (124 if it had to be killed).
finish() {
    local name=$1 limit=$2 waited=0
    while kill -0 "${PID[$name]}" 2>/dev/null && [ $waited -lt $((limit * 10)) ]; do
        sleep 0.1
        waited=$((waited + 1))
    done
    if kill -0 "${PID[$name]}" 2>/dev/null; then
        kill -KILL "${PID[$name]}"
        wait "${PID[$name]}" 2>/dev/null
        rc=124
    else
        wait "${PID[$name]}"
        rc=$?
    fi
    unset "PID[$name]"
    exec {IN_FD[$name]}>&-
}

# The value of the guest's "@@KEY value" line.
reported() { grep -a "^@@$2 " "$WORK/$1.out" | head -n 1 | cut -d' ' -f2- | tr -d '\r'; }

result() {  # result NAME OK DETAIL
    local seconds=$((SECONDS - case_start))
    if [ "$2" = 1 ]; then
        say "PASS $1 ($seconds s)"
        [ -z "${RESULTS_DIR:-}" ] || echo "PASS $seconds" >"$RESULTS_DIR/$1"
    else
        failed=$((failed + 1))
        say "FAIL $1: $3"
        [ -z "${RESULTS_DIR:-}" ] || echo "FAIL $seconds $3" >"$RESULTS_DIR/$1"
        echo "---- console (last 40 lines)"; tail -n 40 "$WORK/$1.out" 2>/dev/null | tr -d '\r'
        echo "---- acrn-dm log"; tail -n 20 "$WORK/$1.err" 2>/dev/null
    fi
}

# verify CASE CHECK OK WHY: one named check of a boot, reported by name;
# the first that fails becomes $problem (the others still run and report).
verify() {
    local case=$1 check=$2 ok=$3 why=$4
    if [ "$ok" = 1 ]; then
        say "  $case/$check: ok"
    else
        say "  $case/$check: FAIL: $why"
        [ -n "$problem" ] || problem="$check: $why"
    fi
}
is() { [ "$1" = "$2" ] && echo 1 || echo 0; }

# check_report NAME VCPUS MEM_MIB BOOTARGS [PCI_DEVICES]: what every boot
# must report, each check by name. Sets $problem to the first thing wrong, or "".
check_report() {
    local name=$1 vcpus=$2 mem_mib=$3 bootargs=$4 pci=${5:-"0000:00:00.0 0000:00:01.0"} value host_now ok
    problem=
    if ! wait_for "$name" "@@DMESG_PLATFORM_WARNINGS_END" 240; then
        problem="the guest did not reach /init (or stopped reporting)"
        return
    fi
    host_now=$(date +%s)
    value=$(reported "$name" CPUS)
    verify "$name" cpus "$(is "$value" "$vcpus")" "guest sees $value CPUs, expected $vcpus"
    value=$(reported "$name" MEM_KB)
    # MemTotal: all of RAM less what the kernel keeps for itself (< 25 % here)
    ok=0
    [ -n "$value" ] && [ "$value" -le $((mem_mib * 1024)) ] && [ "$value" -ge $((mem_mib * 1024 * 3 / 4)) ] && ok=1
    verify "$name" memory "$ok" "guest MemTotal ${value:-?} kB is not within 75..100 % of $mem_mib MiB"
    value=$(reported "$name" CMDLINE)
    verify "$name" command_line "$(is "$value" "console=ttyS0 quiet panic=-1 $bootargs")" "guest command line is '$value'"
    value=$(reported "$name" INITRD_ID)
    verify "$name" initrd "$(is "$value" "$INITRD_ID")" "guest initrd id '$value', built '$INITRD_ID'"
    value=$(reported "$name" PCI_DEVICES)
    verify "$name" pci_devices "$(is "$value" "$pci ")" "guest PCI devices '$value', expected '$pci'"
    value=$(reported "$name" MMCONFIG)
    verify "$name" ecam "$(is "$value" 1)" "the guest does not use the ECAM (MMCONFIG in /proc/iomem: ${value:-?})"
    value=$(reported "$name" RTC_EPOCH)
    ok=0
    [ -n "$value" ] && [ $((host_now - value)) -le 5 ] && [ $((value - host_now)) -le 5 ] && ok=1
    verify "$name" rtc "$ok" "guest clock from the RTC is ${value:-?}, host $host_now (more than 5 s apart)"
    value=$(sed -n '/^@@DMESG_PLATFORM_WARNINGS_BEGIN/,/^@@DMESG_PLATFORM_WARNINGS_END/p' "$WORK/$name.out" |
        grep -av '^@@DMESG_PLATFORM' | tr -d '\r')
    verify "$name" platform_warnings "$(is "$value" "")" \
        "kernel warnings about the platform: $(echo "$value" | head -n 3 | tr '\n' '|')"
    value=$(reported "$name" KERNEL_WARN_SPLATS)
    verify "$name" warn_splats "$(is "$value" 0)" "the kernel warned (WARN splats: ${value:-?}); see its log"
    value=$(grep -a -m1 "@@INSMOD_FAILED" "$WORK/$name.out")
    verify "$name" modules "$(is "$value" "")" "$value"
}

# One vCPU: boot and report, type into the shell, then SIGTERM presses the
# ACPI power button and the guest's acpid shuts down cleanly.
case_shell_and_sigterm() {
    local name=shell_and_sigterm args="shell=1 acrn.test=one"
    linux_vm $name 1 256M "$args"
    check_report $name 1 256 "$args"
    if [ -z "$problem" ]; then
        if ! wait_for $name "@@SHELL" 30; then
            problem="no shell"
        else
            sleep 1
            send $name 'echo "@@ECHO $((6 * 7))"'
            wait_for $name "@@ECHO 42" 30 || problem="serial input did not reach the shell"
        fi
    fi
    if [ -z "$problem" ]; then
        grep -qa "@@ACPID_READY" "$WORK/$name.out" || problem="acpid did not start in the guest"
        kill -TERM "${PID[$name]}"
    fi
    finish $name 90
    if [ -z "$problem" ]; then
        if [ "$rc" != 0 ]; then
            problem="acrn-dm exited $rc after SIGTERM (expected 0)"
        elif ! grep -qa "@@CLEAN_SHUTDOWN" "$WORK/$name.out"; then
            problem="the guest did not shut down through its power-button handler"
        elif grep -q "stopping the VM hard" "$WORK/$name.err"; then
            problem="the VM was stopped hard, not by the guest"
        fi
    fi
    result $name "$([ -z "$problem" ] && echo 1)" "$problem"
}

# boot_and_power_off NAME VCPUS MEM_MIB PCI_DEVICES [ACRN-DM ARGS...]: a boot
# whose /init reports and powers off by itself.
boot_and_power_off() {
    local name=$1 vcpus=$2 mem_mib=$3 pci=$4 args="acrn.test=$1"
    shift 4
    linux_vm "$name" "$vcpus" "${mem_mib}M" "$args" "$@"
    check_report "$name" "$vcpus" "$mem_mib" "$args" "$pci"
    finish "$name" 60
    [ -n "$problem" ] || [ "$rc" = 0 ] || problem="acrn-dm exited $rc after the guest's poweroff (expected 0)"
    [ -n "$problem" ] || grep -q "guest entered ACPI S5" "$WORK/$name.err" || problem="no ACPI S5 in the log"
    result "$name" "$([ -z "$problem" ] && echo 1)" "$problem"
}

# Four vCPUs (the APs come up through INIT/SIPI) and the PCI testdev with
# 32- and 64-bit BARs (the 64-bit one above 4 GiB, in the DSDT's 64-bit
# window), MSI and MSI-X capabilities.
case_boot_4cpu_testdev() {
    boot_and_power_off boot_4cpu_testdev 4 512 "0000:00:00.0 0000:00:01.0 0000:00:03.0" -s 3,testdev
}

# The most vCPUs a VM may have, and RAM above the 32-bit PCI hole (2 GiB
# low, the rest from 4 GiB). (The test host's L1 has 2 GiB: the guest only
# touches what its kernel uses.)
case_boot_8cpu_high_memory() {
    boot_and_power_off boot_8cpu_high_memory 8 2200 "0000:00:00.0 0000:00:01.0"
}

# The guest reboots: the VM is reset and boots again in the same process,
# on the same host ends of its COM ports (com2's pty keeps its path).
case_reboot() {
    local name=reboot
    linux_vm $name 2 256M "shell=1" -l com2,pty
    problem=
    if ! wait_for $name "@@SHELL" 240; then
        problem="the first boot did not reach the shell"
    else
        sleep 1
        send $name "reboot -f"
        if ! wait_for $name "@@SHELL" 240 2; then
            problem="no second boot after the guest's reboot"
        else
            grep -q "reset by the guest" "$WORK/$name.err" || problem="the log does not show a reset"
            [ "$(grep -c "com2: connected to pty" "$WORK/$name.err")" = 1 ] ||
                problem="com2 got a new pty after the reset: $(grep "com2: connected to pty" "$WORK/$name.err" | tr '\n' '|')"
            sleep 1
            send $name "poweroff -f"
        fi
    fi
    finish $name 60
    [ -n "$problem" ] || [ "$rc" = 0 ] || problem="acrn-dm exited $rc (expected 0)"
    result $name "$([ -z "$problem" ] && echo 1)" "$problem"
}

# A missing kernel or initrd: one line naming the file, ACRN's statuses.
case_missing_files() {
    local name=missing_files
    problem=
    "$DM" -m 256M -k /nonexistent/bzImage vm-missing >"$WORK/$name.out" 2>"$WORK/$name.err" </dev/null
    rc=$?
    [ "$rc" = 10 ] && grep -q "/nonexistent/bzImage" "$WORK/$name.err" || problem="-k: exit $rc (want 10) or file not named"
    "$DM" -m 256M -k "$KERNEL" -r /nonexistent/initrd vm-missing >"$WORK/$name.out" 2>"$WORK/$name.err" </dev/null
    rc=$?
    [ -n "$problem" ] || { [ "$rc" = 11 ] && grep -q "/nonexistent/initrd" "$WORK/$name.err"; } ||
        problem="-r: exit $rc (want 11) or file not named"
    result $name "$([ -z "$problem" ] && echo 1)" "$problem"
}

# Every case but these needs /dev/kvm.
NO_KVM_CASES=" missing_files "
for c in "${CASES[@]}"; do
    case_start=$SECONDS
    if ! declare -F "case_$c" >/dev/null; then
        result "$c" 0 "no such case"
        continue
    fi
    if [[ $NO_KVM_CASES != *" $c "* ]] && ! have_kvm; then
        result "$c" 0 "/dev/kvm is not available here; run through tests/testhost/run-with-kvm"
        continue
    fi
    "case_$c"
done
[ "$failed" -eq 0 ]
