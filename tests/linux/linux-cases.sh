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
# LINUX_CASES_VMM=qemu (a test aid): the virtio_* cases boot under QEMU's
# own virtio devices instead of acrn-dm's (see "LINUX_CASES_VMM=qemu" below).
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
VMM=${LINUX_CASES_VMM:-acrn-dm}
case $VMM in
acrn-dm | qemu) ;;
*) fail_all "LINUX_CASES_VMM=$VMM: acrn-dm (the default) or qemu" ;;
esac
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

# ---- LINUX_CASES_VMM=qemu: a test aid, not part of the tier. It proves the
# virtio cases' guest side and host-side checks against QEMU's own virtio
# devices (while acrn-dm has none, and whenever a case's verdict on acrn-dm
# needs a reference): start_vm translates the acrn-dm command line that
# linux_vm builds into QEMU's. Only the options these cases use; anything
# else fails the boot, naming the option. QEMU's -M pc is not acrn-dm's
# platform: check_report leaves out the PCI-device and ECAM checks there.
# qemu_command NAME ACRN-DM-ARGS...: sets qemu_cmd (an array); else sets
# $untranslated to the option it cannot translate and returns 1.
qemu_command() {
    local name=$1 spec slot emulation config n=0
    shift
    # cache=writethrough: QEMU's O_DSYNC, as acrn-dm's block back end (no
    # O_DIRECT: the images live on tmpfs).
    qemu_cmd=(qemu-system-x86_64 -enable-kvm -cpu host -M pc -nodefaults -no-user-config
        -display none -monitor none -name "vm-${name:0:12}")
    while [ $# -gt 0 ]; do
        case $1 in
        -c) qemu_cmd+=(-smp "$2") ;;
        -m) qemu_cmd+=(-m "$2") ;;
        -k) qemu_cmd+=(-kernel "$2") ;;
        -r) qemu_cmd+=(-initrd "$2") ;;
        -B) qemu_cmd+=(-append "$2") ;;
        -l) [ "$2" = com1,stdio ] || { untranslated="-l $2"; return 1; }
            qemu_cmd+=(-serial stdio) ;;
        -s) # SLOT[:FUNC],EMULATION[,CONFIG]
            spec=$2 n=$((n + 1))
            slot=${spec%%,*} slot=${slot%%:*} emulation=${spec#*,} config=
            case $emulation in *,*) config=${emulation#*,} emulation=${emulation%%,*} ;; esac
            case $emulation,$config in
            hostbridge, | lpc,) ;;   # -M pc has its own
            virtio-blk,*,ro)
                qemu_cmd+=(-drive "file=${config%,ro},format=raw,if=none,id=disk$n,cache=writethrough,readonly=on"
                    -device "virtio-blk-pci,drive=disk$n,addr=$slot") ;;
            virtio-blk,mq=[0-9]*,?*)
                qemu_cmd+=(-drive "file=${config#mq=*,},format=raw,if=none,id=disk$n,cache=writethrough"
                    -device "virtio-blk-pci,drive=disk$n,addr=$slot,num-queues=$(echo "$config" | sed 's/^mq=\([0-9]*\),.*/\1/')") ;;
            virtio-blk,?*)
                qemu_cmd+=(-drive "file=$config,format=raw,if=none,id=disk$n,cache=writethrough"
                    -device "virtio-blk-pci,drive=disk$n,addr=$slot") ;;
            virtio-rnd,) qemu_cmd+=(-device "virtio-rng-pci,addr=$slot") ;;
            virtio-console,@socket:?*=?*)   # @ = a console port (hvc0): virtconsole
                config=${config#@socket:}
                qemu_cmd+=(-device "virtio-serial-pci,id=vser$n,addr=$slot"
                    -chardev "socket,id=port$n,path=${config#*=},server=on,wait=off"
                    -device "virtconsole,chardev=port$n,name=${config%%=*},bus=vser$n.0") ;;
            virtio-net,tap=?*)   # with ACRN's MAC for the slot, as the case expects
                local tap=${config#tap=} mac
                mac=00:16:3e:$(printf "$slot-0" | md5sum | sed 's/^\(..\)\(..\)\(..\).*/\1:\2:\3/')
                qemu_cmd+=(-netdev "tap,id=net$n,ifname=${tap%,vhost},script=no,downscript=no,vhost=$(
                    [ "${tap%,vhost}" = "$tap" ] && echo off || echo on)"
                    -device "virtio-net-pci,netdev=net$n,addr=$slot,mac=$mac") ;;
            *) untranslated="-s $spec"; return 1 ;;
            esac ;;
        --virtio_poll | --virtio_fast_paths) ;;   # acrn-dm's own: QEMU has its defaults
        *) untranslated=$1; return 1 ;;
        esac
        shift 2
    done
}

# start_vm NAME ARGS...: acrn-dm in the background, its COM1 on stdio fed
# from a FIFO (send) and logged to $WORK/NAME.out; its log in NAME.err.
# (Under LINUX_CASES_VMM=qemu: QEMU, from the same ARGS.)
start_vm() {
    local name=$1
    shift
    if ! mkfifo "$WORK/$name.in"; then
        say "FAIL $name: cannot make the console FIFO in $WORK" >&2
        exit 1
    fi
    exec {fd}<>"$WORK/$name.in"
    IN_FD[$name]=$fd
    # VM_NETNS: the VMM runs in that network namespace (ip netns exec
    # execs it: $! is the VMM itself).
    local -a netns=()
    [ -z "${VM_NETNS:-}" ] || netns=(ip netns exec "$VM_NETNS")
    if [ "$VMM" = qemu ]; then
        local untranslated
        if qemu_command "$name" "$@"; then
            "${netns[@]}" "${qemu_cmd[@]}" <"$WORK/$name.in" >"$WORK/$name.out" 2>"$WORK/$name.err" &
        else
            echo "start_vm: LINUX_CASES_VMM=qemu cannot translate $untranslated" >"$WORK/$name.err"
            (exit 2) &   # a VM that ended at once: the case fails with the reason in its log
        fi
        PID[$name]=$!
        return
    fi
    # A VM name has at most 15 characters.
    # Kernels unpacked on the host are kept for the run's later boots;
    # KERNEL_DECOMPRESS=guest leaves the decompression to the guest.
    "${netns[@]}" "$DM" --kernel-cache "$WORK/kernel-cache" --kernel-decompress "${KERNEL_DECOMPRESS:-host}" "$@" \
        "vm-${name:0:12}" <"$WORK/$name.in" >"$WORK/$name.out" 2>"$WORK/$name.err" &
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

source "$(dirname "${BASH_SOURCE[0]}")/../lib/case-verdict.sh"
result() {  # result NAME OK DETAIL [BOOT...]: BOOTs' logs on failure (default NAME)
    local boot
    if ! case_verdict "$1" "$2" "$3"; then
        local boots=("${@:4}")
        [ ${#boots[@]} -gt 0 ] || boots=("$1")
        for boot in "${boots[@]}"; do
            [ ${#boots[@]} -eq 1 ] || echo "==== boot $boot"
            echo "---- console (last 40 lines)"; tail -n 40 "$WORK/$boot.out" 2>/dev/null | tr -d '\r'
            echo "---- $VMM log"; tail -n 20 "$WORK/$boot.err" 2>/dev/null
        done
    fi
}


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
    if [ "$VMM" = qemu ]; then
        say "  $name/pci_devices, ecam: not checked (QEMU's -M pc is another platform)"
    else
        value=$(reported "$name" PCI_DEVICES)
        verify "$name" pci_devices "$(is "$value" "$pci ")" "guest PCI devices '$value', expected '$pci'"
        value=$(reported "$name" MMCONFIG)
        verify "$name" ecam "$(is "$value" 1)" "the guest does not use the ECAM (MMCONFIG in /proc/iomem: ${value:-?})"
    fi
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

# boot_and_power_off NAME VCPUS MEM_MIB PCI_DEVICES [ACRN-DM ARGS...]: a boot
# whose /init reports and powers off by itself.
# kernel_unpacked_by NAME host|cache|guest: acrn-dm unpacked the kernel
# (host: itself or from the cache; cache: from the cache) or left it to the
# guest's decompressor; the boot phases and the guest's /init time are shown.
kernel_unpacked_by() {
    local name=$1 want=$2 line
    [ "$VMM" = acrn-dm ] || return 0
    line=$(grep -a -m1 -e "-k: .* on the host in\|-k: taken from the kernel cache" "$WORK/$name.err")
    case $want in
    host) verify "$name" host_decompression "$([ -n "$line" ] && echo 1)" \
        "acrn-dm did not unpack the kernel: $(grep -a -m1 'not unpacked on the host' "$WORK/$name.err")" ;;
    cache) verify "$name" kernel_cache "$(echo "$line" | grep -q 'taken from the kernel cache' && echo 1)" \
        "the kernel was not taken from the cache: '${line:-no line}'" ;;
    guest) verify "$name" guest_decompression "$([ -z "$line" ] && echo 1)" "acrn-dm unpacked the kernel: $line" ;;
    esac
    say "  $name: ${line#acrn-dm: \[info\] }"
    say "  $name: /init at $(reported "$name" INIT_REACHED)"
}

boot_and_power_off() {
    local name=$1 vcpus=$2 mem_mib=$3 pci=$4 args="acrn.test=$1"
    shift 4
    linux_vm "$name" "$vcpus" "${mem_mib}M" "$args" "$@"
    check_report "$name" "$vcpus" "$mem_mib" "$args" "$pci"
    kernel_unpacked_by "$name" host
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

# The most vCPUs a VM may have (the APs come up through INIT/SIPI), RAM
# above the 32-bit PCI hole (2 GiB low, the rest from 4 GiB) and the PCI
# testdev with 32- and 64-bit BARs (the 64-bit one above 4 GiB, in the
# DSDT's 64-bit window), MSI and MSI-X capabilities. (The test host's L1 has
# 2 GiB: the guest only touches what its kernel uses.) The tier runs this
# one; boot_4cpu_testdev checks less of it in a boot of its own, by name.
case_boot_8cpu_high_memory() {
    boot_and_power_off boot_8cpu_high_memory 8 2200 "0000:00:00.0 0000:00:01.0 0000:00:03.0" -s 3,testdev
}

# Two vCPUs: boot and report, type into the shell, then the guest reboots:
# the VM is reset and boots again in the same process, on the same host
# ends of its COM ports (com2's pty keeps its path). Then SIGTERM presses
# the ACPI power button and the guest's acpid shuts down cleanly. (One
# boot checks what two cases did in two, the tier's time being what it is.)
# A boot's command monitor, through acrnctl: start_vm names the VM
# vm-NAME (12 characters of NAME), and its socket is $WORK/VM.socket.
monitor_socket() { echo "$WORK/vm-${1:0:12}.socket"; }
acrnctl_of() { ACRN_RUN_DIR=$WORK "$BUILD/bin/acrnctl" "$2" "vm-${1:0:12}" 2>&1; }   # acrnctl_of NAME COMMAND
vm_state() { acrnctl_of "$1" status | python3 -c 'import json, sys; print(json.load(sys.stdin)["state"])' 2>&1; }

# wait_log NAME TEXT SECONDS [COUNT]: until acrn-dm's log has TEXT COUNT times
# (default 1); the log need not exist yet.
wait_log() {
    local waited=0
    until [ "$(grep -cF -- "$2" "$WORK/$1.err" 2>/dev/null)" -ge "${4:-1}" ] 2>/dev/null; do
        [ $waited -ge $(($3 * 10)) ] && return 1
        sleep 0.1
        waited=$((waited + 1))
    done
}

# Suspend to RAM (S3) from the guest's shell: "mem" is S3 for the guest
# ("deep", from the DSDT's \_S3), acrn-dm pauses the VM and query says "suspended";
# acrnctl resume (the monitor's resume) starts vCPU 0 at the guest's waking vector, and the
# guest carries on after its "echo mem" with both vCPUs back online. Then
# again with a wake alarm 4 s ahead on the guest's RTC: it wakes by itself.
# Then once more at the host's request (acrnctl suspend).
suspend_and_wake() {
    local name=$1 state reply
    # (The markers are split in the command, which the shell echoes.)
    send $name 'grep -q "\[deep\]" /sys/power/mem_sleep && echo "@@S3_""OFFERED"; echo mem > /sys/power/state; echo "@@RES""UMED $? $(cat /sys/devices/system/cpu/online)"'
    if ! wait_for $name "@@S3_OFFERED" 30; then
        problem="S3: 'mem' is not S3 for the guest (no [deep] in /sys/power/mem_sleep)"
    elif ! wait_log $name "suspended by the guest (ACPI S3)" 60; then
        problem="S3: acrn-dm did not see the guest suspend"
    elif state=$(vm_state $name); [ "$state" != suspended ]; then
        problem="S3: query says '$state', not suspended"
    elif grep -qa "^@@RESUMED" "$WORK/$name.out"; then
        problem="S3: the guest ran on while suspended"
    elif ! reply=$(acrnctl_of $name resume); then
        problem="S3: acrnctl resume was refused: $reply"
    elif ! wait_for $name "@@RESUMED 0 0-1" 90; then
        problem="S3: the guest did not resume with both vCPUs ($(grep -a '^@@RESUMED' "$WORK/$name.out" | tr -d '\r'))"
    elif state=$(vm_state $name); [ "$state" != running ]; then
        problem="S3: after the wake query says '$state'"
    fi
    [ -z "$problem" ] || return
    send $name 'echo 0 > /sys/class/rtc/rtc0/wakealarm; echo +4 > /sys/class/rtc/rtc0/wakealarm && echo "@@ALARM_""SET"; echo mem > /sys/power/state; echo "@@RTC_""WOKE $?"'
    if ! wait_for $name "@@ALARM_SET" 30; then
        problem="S3: the guest could not set an RTC wake alarm"
    elif ! wait_log $name "suspended by the guest (ACPI S3)" 60 2; then
        problem="S3: acrn-dm did not see the guest suspend a second time"
    elif ! wait_for $name "@@RTC_WOKE 0" 60; then
        problem="S3: the guest's RTC alarm did not wake it within 60 s"
    elif ! grep -q "woken from S3 by the guest's RTC alarm" "$WORK/$name.err"; then
        problem="S3: the log does not say the RTC alarm woke the VM"
    fi
    [ -z "$problem" ] || return
    # The host asks: acrnctl suspend presses the ACPI sleep button, the guest's
    # sleep-button watcher suspends it (tests/guests/linux/init), acrnctl resume wakes it.
    if ! reply=$(acrnctl_of $name suspend); then
        problem="S3: acrnctl suspend was refused: $reply"
    elif ! wait_for $name "@@SLEEP_BUTTON" 30; then
        problem="S3: the guest did not see the sleep button"
    elif ! wait_log $name "suspended by the guest (ACPI S3)" 60 3; then
        problem="S3: the guest did not suspend on the sleep button"
    elif ! reply=$(acrnctl_of $name resume); then
        problem="S3: acrnctl resume (after the sleep button) was refused: $reply"
    elif ! wait_for $name "@@SLEEP_RESUMED 0" 60; then
        problem="S3: the guest did not resume after the sleep button's suspend"
    fi
}

case_shell_reboot_sigterm() {
    local name=shell_reboot_sigterm args="shell=1 acrn.test=shell_reboot_sigterm"
    # The guest's own decompressor: the same command line, CPUs and memory reach /init.
    KERNEL_DECOMPRESS=guest linux_vm $name 2 256M "$args" -l com2,pty --cmd_monitor "$(monitor_socket $name)"
    check_report $name 2 256 "$args"
    kernel_unpacked_by $name guest
    if [ -z "$problem" ]; then
        if ! wait_for $name "@@SHELL" 30; then
            problem="no shell"
        else
            sleep 1
            send $name 'echo "@@ECHO $((6 * 7))"'
            wait_for $name "@@ECHO 42" 30 || problem="serial input did not reach the shell"
        fi
    fi
    [ -n "$problem" ] || suspend_and_wake $name
    if [ -z "$problem" ]; then
        send $name "reboot -f"
        if ! wait_for $name "@@SHELL" 240 2; then
            problem="no second boot after the guest's reboot"
        elif ! grep -q "reset by the guest" "$WORK/$name.err"; then
            problem="the log does not show a reset"
        elif [ "$(grep -c "com2: connected to pty" "$WORK/$name.err")" != 1 ]; then
            problem="com2 got a new pty after the reset: $(grep "com2: connected to pty" "$WORK/$name.err" | tr '\n' '|')"
        elif [ "$(grep -caF "@@ACPID_READY" "$WORK/$name.out")" -lt 2 ]; then
            problem="acpid did not start in the guest's second boot"
        else
            sleep 1
            kill -TERM "${PID[$name]}"
        fi
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

# ---- Virtio cases (acrn.virtio= actions of tests/guests/linux/init).
# virtio_blk, virtio_blk_sigkill, virtio_blk_ro and virtio_rng_console take
# one device (kind) at a time, for bringing each up (five boots, ~4.5 min
# nested); virtio_all checks the same in two boots (~2 min), for the tier.
# The images live in $WORK (tmpfs in the test host): acrn-dm's block back
# end opens them O_DSYNC, not O_DIRECT, which tmpfs refuses.

# virtio_boot NAME MEM_MIB ACTIONS PCI VIRTIO UNTIL [ACRN-DM ARGS...]: one
# vCPU with acrn.virtio=ACTIONS; the checks of every boot (PCI: the guest's
# PCI devices), the virtio devices it sees (VIRTIO: its sorted "ID:DRIVER"
# list), then waits for the line UNTIL and that no action failed so far.
# Sets $problem (check_report's: the first thing wrong). VIRTIO_VCPUS
# (default 1) sets the vCPU count, VIRTIO_WAIT (default 240) how many
# seconds UNTIL may take.
virtio_boot() {
    local name=$1 mem=$2 args="acrn.virtio=$3" pci=$4 virtio=$5 until=$6 vcpus=${VIRTIO_VCPUS:-1} value
    shift 6
    linux_vm "$name" "$vcpus" "${mem}M" "$args" "$@"
    check_report "$name" "$vcpus" "$mem" "$args" "$pci"
    grep -qa '^@@INIT_REACHED' "$WORK/$name.out" || return
    value=$(reported "$name" VIRTIO_DEVICES)
    verify "$name" virtio_devices "$(is "$value" "$virtio")" "guest virtio devices '$value', expected '$virtio'"
    # (A failed action reports and goes on, so UNTIL may never come.)
    wait_for "$name" "$until" "${VIRTIO_WAIT:-240}"
    value=$(grep -a -m1 '^@@VIRTIO_FAIL' "$WORK/$name.out" | tr -d '\r')
    if [ -z "$value" ] && ! grep -qaF -- "$until" "$WORK/$name.out"; then
        value="no '$until' from the guest within ${VIRTIO_WAIT:-240} s"
    fi
    verify "$name" actions "$(is "$value" "")" "$value"
}

# powered_off NAME: the guest powers off; the VMM exits 0 (acrn-dm: through ACPI S5).
powered_off() {
    finish "$1" 60
    verify "$1" exit_status "$(is "$rc" 0)" "$VMM exited $rc after the guest's poweroff (expected 0)"
    if [ "$VMM" = acrn-dm ]; then
        verify "$1" acpi_s5 "$(grep -qa "guest entered ACPI S5" "$WORK/$1.err" && echo 1)" "no ACPI S5 in the log"
    fi
}

# killed NAME: SIGKILL to the VMM, which dies of it (137).
killed() {
    # (stderr closed around the kill and the wait: bash's "Killed" notice)
    { kill -KILL "${PID[$1]}"; wait "${PID[$1]}"; rc=$?; } 2>/dev/null
    unset "PID[$1]"
    exec {IN_FD[$1]}>&-
    verify "$1" killed "$(is "$rc" 137)" "$VMM exited $rc, not by the SIGKILL (137)"
}

sha_of() { head -c "$2" "$1" | sha256sum | cut -d' ' -f1; }   # sha_of FILE BYTES

# The checks of each action, once the VMM has ended (the image is final).
# check_blk_write NAME IMAGE: what the guest wrote is the image's first
# 32 MiB; the image kept its size (the back end neither truncates nor grows
# it). Sets $image_sum for check_blk_read.
check_blk_write() {
    local value size
    image_sum=$(sha_of "$2" 32M)
    value=$(reported "$1" BLK_WRITTEN)
    verify "$1" data_written "$(is "$value" "$image_sum")" "guest wrote sha256 ${value:-?}, the image has $image_sum"
    size=$(stat -c %s "$2")
    verify "$1" image_size "$(is "$size" $((80 << 20)))" "image is $size bytes, was 80 MiB"
}
check_blk_read() {  # NAME SHA256 (of the image's first 32 MiB)
    local value
    value=$(reported "$1" BLK_READ)
    verify "$1" data_read "$(is "$value" "$2")" "guest read sha256 ${value:-?}, the image has $2"
}
# check_blk_medium NAME IMAGE: the drive had no medium, acrnctl blkrescan
# gave it IMAGE, and the guest saw its size and read its first MiB.
check_blk_medium() {
    local value
    value=$(reported "$1" BLK_EMPTY)
    verify "$1" blk_empty "$(is "$value" 0)" "the nodisk drive had ${value:-?} sectors before blkrescan, expected 0"
    value=$(tr '\n' ' ' <"$WORK/$1.blkrescan")
    verify "$1" blkrescan "$(grep -q 'now reads' "$WORK/$1.blkrescan" && echo 1)" "acrnctl blkrescan: '$value'"
    value=$(reported "$1" BLK_MEDIUM)
    verify "$1" blk_medium "$(is "$value" $(($(stat -c %s "$2") / 512)))" "after blkrescan the guest sees ${value:-no} sectors"
    value=$(reported "$1" BLK_MEDIUM_READ)
    verify "$1" blk_medium_read "$(is "$value" "$(sha_of "$2" 1M)")" "the guest read sha256 ${value:-?} from the new medium"
}
# check_blk_ro NAME IMAGE SHA256_BEFORE: the guest saw the ro flag, read the
# image, its write failed, and the image did not change. (Debian's kernel
# refuses writes to a read-only disk itself, EPERM, before the device sees
# them; EIO would be the device refusing one.)
check_blk_ro() {
    local value
    value=$(reported "$1" BLK_RO_FLAG)
    verify "$1" ro_flag "$(is "$value" 1)" "guest's /sys/block/DISK/ro is '${value:-?}', expected 1"
    value=$(reported "$1" BLK_RO_READ)
    verify "$1" ro_read "$(is "$value" "$(sha_of "$2" 1M)")" "guest read sha256 ${value:-?} of the first MiB, the image has another"
    value=$(reported "$1" BLK_RO_WRITE)
    case $value in
    EIO | EPERM | EROFS) say "  $1/ro_write_refused: ok ($value)" ;;
    *) verify "$1" ro_write_refused 0 "the guest's write to the read-only disk: ${value:-no report}" ;;
    esac
    verify "$1" ro_image_unchanged "$(is "$(sha_of "$2" 16M)" "$3")" "the read-only image changed"
}
# check_blk_synced NAME IMAGE: after the SIGKILL, what the guest synced is
# in the image (the back end completes a write only once it is in the
# file), although the VMM had no chance to flush or close anything.
check_blk_synced() {
    local value want
    value=$(reported "$1" BLK_SYNCED)
    want=$(sha_of "$2" 4M)
    verify "$1" data_synced "$(is "$value" "$want")" "guest synced sha256 ${value:-?}, the image has $want"
}
check_rng() {  # NAME
    local value ok=0
    value=$(reported "$1" RNG_CURRENT)
    verify "$1" rng_source "$([[ $value == virtio_rng* ]] && echo 1)" "guest's hw_random source is '${value:-?}', not virtio_rng"
    value=$(reported "$1" RNG_BYTES)
    verify "$1" rng_bytes "$(is "$value" 4096)" "guest read ${value:-?} bytes of 4096 from /dev/hwrng"
    value=$(reported "$1" RNG_NONZERO_BYTES)
    # 4096 random bytes have 16 zero bytes on average
    [ -n "$value" ] && [ "$value" -ge 4000 ] && ok=1
    verify "$1" rng_random "$ok" "only ${value:-?} of 4096 bytes from /dev/hwrng are not zero"
}

# resume_when_suspended NAME RUN_DIR &: once the VM has suspended itself (the
# guest's s3 action), acrnctl resume through the monitor socket in RUN_DIR.
# (A host wake rather than an RTC alarm: an alarm that a slow test host lets
# expire before the guest is down never wakes it, as on hardware.)
resume_when_suspended() {
    wait_log "$1" "suspended by the guest (ACPI S3)" 300 && ACRN_RUN_DIR=$2 "$BUILD/bin/acrnctl" resume "vm-${1:0:12}"
}
# check_s3 NAME: the guest's s3 action suspended it and the host woke it.
check_s3() {
    local value
    value=$(reported "$1" S3_RESUMED)
    verify "$1" s3_resumed "$(is "$value" 0)" "the guest's 'echo mem' ended with '${value:-nothing}' (S3 and wake)"
    verify "$1" s3_woken "$(grep -q "woken from S3 by the command monitor's resume" "$WORK/$1.err" && echo 1)" \
        "the log does not say the monitor's resume woke the guest from S3"
}

# hvc_exchange SOCKET LINE OUT: connects to the VMM's AF_UNIX console
# socket, sends LINE, writes the first line that comes back to OUT (python3:
# the host's root, hence the test host's, has it).
hvc_exchange() {
    /usr/bin/python3 - "$@" <<'PY' 2>&1
import socket, sys, time
path, line, out = sys.argv[1:4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
deadline = time.time() + 10
while True:
    try:
        s.connect(path)
        break
    except OSError as e:
        if time.time() > deadline:
            sys.exit("hvc_exchange: cannot connect to %s: %s" % (path, e))
        time.sleep(0.1)
s.settimeout(60)
s.sendall((line + "\n").encode())
got = b""
try:
    while b"\n" not in got:
        chunk = s.recv(4096)
        if not chunk:
            break
        got += chunk
except socket.timeout:
    pass
open(out, "w").write(got.decode(errors="replace").split("\n")[0].rstrip("\r"))
PY
}

# hvc_both_ways NAME SOCKET: once the guest is @@HVC_READY, one line to it
# through the socket and its answer back; then waits for the guest's last action.
hvc_both_ways() {
    local name=$1 token="token-$RANDOM$RANDOM" value
    grep -qa '^@@HVC_READY' "$WORK/$name.out" || return   # (virtio_boot said why)
    value=$(hvc_exchange "$2" "host-to-guest $token" "$WORK/$name.hvc")
    [ -z "$value" ] || say "  $name: $value"
    wait_for "$name" "@@VIRTIO_ACTIONS_DONE" 120
    value=$(reported "$name" HVC_RECEIVED)
    verify "$name" hvc_to_guest "$(is "$value" "host-to-guest $token")" "guest read '${value:-}' from hvc0"
    value=$(cat "$WORK/$name.hvc" 2>/dev/null)
    verify "$name" hvc_to_host "$(is "$value" "guest got: host-to-guest $token")" "the socket got '$value'"
}

PCI_1=(0000:00:00.0 0000:00:01.0 0000:00:03.0)

# A sparse 80 MiB image: the guest writes 32 MiB of random data O_DIRECT;
# acrn-dm exits, the host checksums the image; a second boot reads it back O_DIRECT.
case_virtio_blk() {
    local name=virtio_blk img=$WORK/virtio_blk.img first
    truncate -s 80M "$img"
    virtio_boot $name 512 blk_write "${PCI_1[*]}" "0002:virtio_blk" "@@VIRTIO_ACTIONS_DONE" -s 3,virtio-blk,"$img"
    powered_off $name
    check_blk_write $name "$img"
    first=$problem
    virtio_boot ${name}_read 512 blk_read "${PCI_1[*]}" "0002:virtio_blk" "@@VIRTIO_ACTIONS_DONE" -s 3,virtio-blk,"$img"
    powered_off ${name}_read
    check_blk_read ${name}_read "$image_sum"
    problem=${first:-$problem}
    result $name "$([ -z "$problem" ] && echo 1)" "$problem" $name ${name}_read
}

# SIGKILL right after the guest's sync.
case_virtio_blk_sigkill() {
    local name=virtio_blk_sigkill img=$WORK/virtio_blk_sigkill.img
    truncate -s 16M "$img"
    virtio_boot $name 256 blk_sync_hold "${PCI_1[*]}" "0002:virtio_blk" "@@BLK_SYNCED" -s 3,virtio-blk,"$img"
    killed $name
    check_blk_synced $name "$img"
    result $name "$([ -z "$problem" ] && echo 1)" "$problem"
}

# A read-only disk (",ro") with 16 MiB of random data.
case_virtio_blk_ro() {
    local name=virtio_blk_ro img=$WORK/virtio_blk_ro.img before
    head -c 16M /dev/urandom >"$img"
    before=$(sha_of "$img" 16M)
    virtio_boot $name 256 blk_ro "${PCI_1[*]}" "0002:virtio_blk" "@@VIRTIO_ACTIONS_DONE" -s 3,virtio-blk,"$img",ro
    powered_off $name
    check_blk_ro $name "$img" "$before"
    result $name "$([ -z "$problem" ] && echo 1)" "$problem"
}

# virtio-rnd and a virtio-console port as hvc0 on an AF_UNIX socket: 4 KiB
# from /dev/hwrng through virtio_rng; one line each way through hvc0.
case_virtio_rng_console() {
    local name=virtio_rng_console
    virtio_boot $name 256 rng,hvc "${PCI_1[*]} 0000:00:04.0" "0003:virtio_console 0004:virtio_rng" "@@HVC_READY" \
        -s 3,virtio-rnd -s 4,virtio-console,@socket:hvcport="$WORK/$name.sock"
    check_rng $name
    hvc_both_ways $name "$WORK/$name.sock"
    powered_off $name
    result $name "$([ -z "$problem" ] && echo 1)" "$problem"
}

# All of the above in two boots, each first suspended to RAM and woken by
# acrnctl resume, so that every device is used as the guest's drivers set it up
# again on resume. First (2 vCPUs, --virtio_poll): a disk
# written (vda, mq=2), a read-only one (vdb), virtio-rnd, 4 MiB each way over
# virtio-net in user space, the console; second (--virtio_fast_paths off):
# the first disk read back (vda), 1 MiB each way over virtio-net with vhost,
# another disk synced (vdb), then SIGKILL.
case_virtio_all() {
    local value name=virtio_all img=$WORK/virtio_all.img ro=$WORK/virtio_all_ro.img sync=$WORK/virtio_all_sync.img
    local medium=$WORK/virtio_all_medium.img
    local before first pci="${PCI_1[*]} 0000:00:04.0 0000:00:05.0 0000:00:06.0 0000:00:07.0 0000:00:08.0"
    truncate -s 80M "$img"
    truncate -s 16M "$sync"
    head -c 16M /dev/urandom >"$ro"
    head -c 3M /dev/urandom >"$medium"
    before=$(sha_of "$ro" 16M)
    mkdir -p "$WORK/run"
    # The nodisk drive at slot 8 gets its medium once the guest waits for one.
    # (Its own wait: the VM's PID is not known yet.)
    (n=0
     while ! grep -qa '^@@BLK_WAITING_MEDIUM' "$WORK/$name.out" 2>/dev/null && [ $n -lt 3000 ]; do sleep 0.1; n=$((n + 1)); done
     ACRN_RUN_DIR=$WORK/run "$BUILD/bin/acrnctl" blkrescan vm-$name 8,"$medium") >"$WORK/$name.blkrescan" 2>&1 &
    local rescan=$! waker
    resume_when_suspended $name "$WORK/run" >"$WORK/$name.resume" 2>&1 &
    waker=$!
    net_start $name 4 || return
    VM_NETNS=$NET_NS VIRTIO_VCPUS=2 virtio_boot $name 512 s3,blk_write@vda,blk_ro@vdb,rng,net@4,blk_medium@vdc,hvc "$pci" \
        "0001:virtio_net 0002:virtio_blk 0002:virtio_blk 0002:virtio_blk 0003:virtio_console 0004:virtio_rng" \
        "@@HVC_READY" --cmd_monitor "$WORK/run/vm-$name.socket" \
        --virtio_poll 1000000 -s 3,virtio-blk,mq=2,"$img" -s 4,virtio-blk,"$ro",ro -s 5,virtio-rnd \
        -s 6,virtio-console,@socket:hvcport="$WORK/$name.sock" -s 7,virtio-net,tap=$NET_TAP -s 8,virtio-blk,nodisk
    { kill $rescan $waker; wait $rescan $waker; } 2>/dev/null  # done by now, unless the guest never got there
    kernel_unpacked_by $name host
    check_s3 $name
    check_blk_medium $name "$medium"
    value=$(reported $name BLK_QUEUES)
    verify $name blk_queues "$(is "$value" 2)" "the guest's vda has ${value:-?} queues, expected 2 (mq=2)"
    check_rng $name
    hvc_both_ways $name "$WORK/$name.sock"
    powered_off $name
    check_blk_write $name "$img"
    check_blk_ro $name "$ro" "$before"
    net_check $name 4 7
    first=$problem
    net_start ${name}_2 1 || return
    resume_when_suspended ${name}_2 "$WORK/run" >"$WORK/${name}_2.resume" 2>&1 &
    waker=$!
    VM_NETNS=$NET_NS virtio_boot ${name}_2 512 s3,blk_read@vda,net@1,blk_sync_hold@vdb \
        "${PCI_1[*]} 0000:00:04.0 0000:00:05.0" "0001:virtio_net 0002:virtio_blk 0002:virtio_blk" "@@BLK_SYNCED" \
        --cmd_monitor "$WORK/run/vm-${name}_2.socket" --virtio_fast_paths off -s 3,virtio-blk,"$img" -s 4,virtio-blk,"$sync" -s 5,virtio-net,tap=$NET_TAP,vhost
    { kill $waker; wait $waker; } 2>/dev/null
    killed ${name}_2
    kernel_unpacked_by ${name}_2 cache
    check_s3 ${name}_2
    check_blk_read ${name}_2 "$image_sum"
    check_blk_synced ${name}_2 "$sync"
    net_check ${name}_2 1 5 vhost
    problem=${first:-$problem}
    result $name "$([ -z "$problem" ] && echo 1)" "$problem" $name ${name}_2
}

# NET_PEER (python3, arguments DIR MIB): the host's end of the net action,
# run in the namespace: takes what 10.0.2.1:5001 receives until the guest
# closes, then sends MIB MiB of random data to whoever connects to
# 10.0.2.1:5002 and closes. Writes DIR/received and DIR/sent ("BYTES
# SHA256"); DIR/ready once it listens.
NET_PEER=$(cat <<'PY'
import hashlib, os, socket, sys
out, mib = sys.argv[1], int(sys.argv[2])
def listener(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("10.0.2.1", port))
    s.listen(1)
    s.settimeout(400)
    return s
inbound, outbound = listener(5001), listener(5002)
open(os.path.join(out, "ready"), "w").close()
conn, _ = inbound.accept()
conn.settimeout(120)
digest, count = hashlib.sha256(), 0
while True:
    chunk = conn.recv(1 << 16)
    if not chunk:
        break
    digest.update(chunk)
    count += len(chunk)
conn.close()
open(os.path.join(out, "received"), "w").write("%d %s\n" % (count, digest.hexdigest()))
data = os.urandom(mib << 20)
conn, _ = outbound.accept()
conn.settimeout(120)
conn.sendall(data)
conn.close()
open(os.path.join(out, "sent"), "w").write("%d %s\n" % (len(data), hashlib.sha256(data).hexdigest()))
PY
)

# The host end of the guest's net action: a network namespace NET_NS with
# the tap acrntap0 (10.0.2.1/24) and NET_PEER listening in it. net_start
# NAME MIB: false (and the case's result) if it cannot be made; acrn-dm then
# starts inside it (VM_NETNS=$NET_NS). net_check NAME MIB SLOT [vhost], after
# the VMM ended: eth0 has ACRN's MAC for SLOT, the ping, MIB MiB each way
# intact, and with "vhost" that acrn-dm used vhost-net.
NET_NS=acrn-net-$$
NET_TAP=acrntap0
net_start() {
    local name=$1 mib=$2 peer=$WORK/$1.peer n=0
    mkdir -p "$peer"
    ip netns del "$NET_NS" 2>/dev/null
    if ! { ip netns add "$NET_NS" && ip -n "$NET_NS" link set lo up &&
        ip -n "$NET_NS" tuntap add dev "$NET_TAP" mode tap && ip -n "$NET_NS" addr add 10.0.2.1/24 dev "$NET_TAP" &&
        ip -n "$NET_NS" link set "$NET_TAP" up; } 2>"$WORK/$name.setup"; then
        result "$name" 0 "cannot set up the namespace and its tap: $(tr '\n' ' ' <"$WORK/$name.setup")"
        ip netns del "$NET_NS" 2>/dev/null
        return 1
    fi
    ip netns exec "$NET_NS" /usr/bin/python3 -c "$NET_PEER" "$peer" "$mib" >"$WORK/$name.peer.log" 2>&1 &
    NET_PEER_PID=$!
    while [ ! -e "$peer/ready" ] && [ $n -lt 300 ] && kill -0 $NET_PEER_PID 2>/dev/null; do
        sleep 0.1
        n=$((n + 1))
    done
}
net_check() {
    local name=$1 bytes=$(($2 << 20)) slot=$3 peer=$WORK/$1.peer value want
    if [ "${4:-}" = vhost ] && [ "$VMM" = acrn-dm ]; then
        value=$(grep -c 'vhost-net moves the frames' "$WORK/$name.err")
        verify $name vhost "$(is "$value" 1)" "acrn-dm did not use vhost-net: $(grep -m1 vhost "$WORK/$name.err")"
    fi
    # (The peer is done once the guest has powered off; unless the guest
    # failed early, and then it would wait for connections in vain.)
    local n=0
    while kill -0 $NET_PEER_PID 2>/dev/null && [ $n -lt 50 ]; do
        sleep 0.1
        n=$((n + 1))
    done
    { kill $NET_PEER_PID; wait $NET_PEER_PID; } 2>/dev/null
    want="00:16:3e:$(printf "$slot-0" | md5sum | sed 's/^\(..\)\(..\)\(..\).*/\1:\2:\3/')"
    value=$(reported $name NET_MAC)
    verify $name mac "$(is "$value" "$want")" "guest's eth0 has MAC '${value:-?}', expected ACRN's $want"
    value=$(reported $name NET_PING)
    verify $name ping "$(is "$value" ok)" "no ping reply from the host end"
    value=$(cat "$peer/received" 2>/dev/null)
    verify $name to_host "$(is "$value" "$bytes $(reported $name NET_TO_HOST)")" \
        "the host received '${value:-nothing}', the guest sent $bytes bytes $(reported $name NET_TO_HOST)"
    value=$(reported $name NET_FROM_HOST)
    verify $name from_host "$(is "$value" "$(cat "$peer/sent" 2>/dev/null)")" \
        "the guest received '${value:-nothing}', the host sent '$(cat "$peer/sent" 2>/dev/null)'"
    grep -a '^@@NET_TIME\|^@@NET_TCP\|^@@VIRTIO_ACTION_TIME' "$WORK/$name.out" | tr -d '\r' | sed 's/^/linux-tier:   /'
    [ -s "$WORK/$name.peer.log" ] && sed 's/^/linux-tier:   peer: /' "$WORK/$name.peer.log"
    grep 'frames received\|moved the frames' "$WORK/$name.err" | sed 's/^/linux-tier:   /'
    ip netns del "$NET_NS"
}

# virtio-net alone, 32 MiB each way (the tier's virtio_all moves 4 and 1 MiB):
# virtio_net in user space, virtio_net_vhost through the kernel's vhost-net
# (the test host has /dev/vhost-net). (Nested under TCG, guest to host takes
# 110-140 s either way: ~10,000 frames of ~3 KiB, each a kick and an
# interrupt; host to guest 14-18 s in 64 KiB GSO frames.)
case_virtio_net() { net_case virtio_net ""; }
case_virtio_net_vhost() { net_case virtio_net_vhost vhost; }
net_case() {
    local name=$1 vhost=$2
    problem=
    net_start $name 32 || return
    VM_NETNS=$NET_NS VIRTIO_WAIT=480 virtio_boot $name 512 net "${PCI_1[*]}" "0001:virtio_net" \
        "@@VIRTIO_ACTIONS_DONE" -s "3,virtio-net,tap=$NET_TAP${vhost:+,vhost}"
    powered_off $name
    net_check $name 32 3 $vhost
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
    if [ "$VMM" = qemu ] && [[ $c != virtio_* ]]; then
        result "$c" 0 "LINUX_CASES_VMM=qemu runs only the virtio_* cases (the others check acrn-dm itself)"
        continue
    fi
    if [[ $NO_KVM_CASES != *" $c "* ]] && ! have_kvm; then
        result "$c" 0 "/dev/kvm is not available here; run through tests/testhost/run-with-kvm"
        continue
    fi
    "case_$c"
done
[ "$failed" -eq 0 ]
