#!/bin/bash
# Linux-guest tier: builds the UOS initramfs (tests/guests/linux) here, then
# runs the cases of linux-cases.sh. Cases that need no KVM run here directly.
# The KVM cases share one /dev/kvm: directly where this machine has hardware
# KVM, otherwise one test host (tests/testhost/run-with-kvm) boots once for
# all of them. Each case leaves its result in a results folder as it ends;
# if the test host stalls or a case overruns, the cases without a result run
# again, each in a fresh test host of its own, so a stall costs one case's
# rerun. Prints each case's result and time, and the tier's.
# Usage: linux-tier.sh BUILD_DIR [CASE...]   (default: all of them)
set -u
BUILD=$(cd "${1:?usage: linux-tier.sh BUILD_DIR [CASE...]}" && pwd)
shift
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NO_KVM_CASES=(missing_files)
KVM_CASES=(shell_and_sigterm boot_4cpu_testdev boot_8cpu_high_memory reboot)
# one case's limit when it runs alone, the test host's boot included (a case takes < 1.5 min)
CASE_TIMEOUT_S=${LINUX_TIER_CASE_TIMEOUT_S:-420}
tier_start=$SECONDS

say() { echo "linux-tier: $*"; }

selected_no_kvm=() selected_kvm=()
if [ $# -eq 0 ]; then
    selected_no_kvm=("${NO_KVM_CASES[@]}")
    selected_kvm=("${KVM_CASES[@]}")
else
    for c in "$@"; do
        if [[ " ${NO_KVM_CASES[*]} " == *" $c "* ]]; then
            selected_no_kvm+=("$c")
        else
            selected_kvm+=("$c")
        fi
    done
fi
all=("${selected_no_kvm[@]}" "${selected_kvm[@]}")

# In the build tree: the test host sees it at the same path (and the test
# host shares /tmp only when the caller's directory is there, so work from it).
cd "$BUILD" || exit 1
mkdir -p "$BUILD/linux-tier"
INITRD=$BUILD/linux-tier/initramfs.cpio.gz
if ! "$HERE/../guests/linux/build-initramfs" "$INITRD" >"$BUILD/linux-tier/initramfs.log" 2>&1; then
    say "FAIL: building the UOS initramfs failed:" >&2
    cat "$BUILD/linux-tier/initramfs.log" >&2
    echo "0 passed, ${#all[@]} failed"
    exit 1
fi
# The test host writes back only to a folder outside /tmp.
RESULTS=$(mktemp -d /var/tmp/linux-tier.XXXXXX) || exit 1
trap 'rm -rf "$RESULTS"' EXIT

if [ ${#selected_no_kvm[@]} -gt 0 ]; then
    RESULTS_DIR=$RESULTS "$HERE/linux-cases.sh" "$BUILD" "$INITRD" "${selected_no_kvm[@]}" 2>&1
fi

# run_in_kvm TIMEOUT CASE...: the cases one after another on one /dev/kvm.
run_in_kvm() {
    local limit=$1
    shift
    "$HERE/../testhost/run-with-kvm" -o "$RESULTS" -t "$limit" -e "RESULTS_DIR=$RESULTS" -- \
        "$HERE/linux-cases.sh" "$BUILD" "$INITRD" "$@" 2>&1
}

if [ ${#selected_kvm[@]} -gt 0 ]; then
    # All together first; a stall here is not retried as a whole.
    TESTHOST_ATTEMPTS=1 run_in_kvm "${LINUX_TIER_GROUP_TIMEOUT_S:-$((CASE_TIMEOUT_S * ${#selected_kvm[@]}))}" \
        "${selected_kvm[@]}"
    rc=$?
    for c in "${selected_kvm[@]}"; do
        [ -e "$RESULTS/$c" ] && continue
        case $rc in
        124) say "$c: no result (the shared run overran); running it alone" ;;
        126) say "$c: no result (the test host stalled); running it alone in a fresh one" ;;
        *) say "$c: no result (the shared run ended with status $rc); running it alone" ;;
        esac
        run_in_kvm "$CASE_TIMEOUT_S" "$c"
        rc_alone=$?
        if [ ! -e "$RESULTS/$c" ]; then
            case $rc_alone in
            124) why="not finished within $CASE_TIMEOUT_S s" ;;
            126) why="the test host stalled on every attempt" ;;
            *) why="could not be run (status $rc_alone)" ;;
            esac
            echo "FAIL - $why" >"$RESULTS/$c"
        fi
    done
fi

passed=0 failures=()
say "results:"
for c in "${all[@]}"; do
    read -r verdict seconds detail <"$RESULTS/$c" 2>/dev/null || verdict=FAIL
    if [ "$verdict" = PASS ]; then
        passed=$((passed + 1))
        say "  PASS $c (${seconds} s)"
    else
        failures+=("$c")
        say "  FAIL $c (${seconds:--} s) ${detail:-}"
    fi
done
[ ${#failures[@]} -eq 0 ] || say "failures: ${failures[*]}"
say "tier time: $((SECONDS - tier_start)) s"
echo "$passed passed, ${#failures[@]} failed"
[ ${#failures[@]} -eq 0 ]
