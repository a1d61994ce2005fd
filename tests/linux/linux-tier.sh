#!/bin/bash
# Linux-guest tier: builds the UOS initramfs (tests/guests/linux) here, then
# runs each case of linux-cases.sh on a /dev/kvm of its own: directly where
# this machine has hardware KVM, otherwise each in a fresh test host
# (tests/testhost/run-with-kvm). One L1 per case keeps an emulation stall,
# which ends that L1, to one case's rerun instead of the whole tier's.
# Usage: linux-tier.sh BUILD_DIR [CASE...]   (default: all of them)
set -u
BUILD=$(cd "${1:?usage: linux-tier.sh BUILD_DIR [CASE...]}" && pwd)
shift
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CASES=(missing_files boot_1cpu boot_4cpu boot_8cpu high_memory reboot sigterm)
[ $# -eq 0 ] || CASES=("$@")
# one attempt's limit, the test host's boot included (a case takes < 1 min)
CASE_TIMEOUT_S=420

say() { echo "linux-tier: $*"; }

# In the build tree: the test host sees it at the same path (and the test
# host shares /tmp only when the caller's directory is there, so work from it).
cd "$BUILD" || exit 1
mkdir -p "$BUILD/linux-tier"
INITRD=$BUILD/linux-tier/initramfs.cpio.gz
if ! "$HERE/../guests/linux/build-initramfs" "$INITRD" >"$BUILD/linux-tier/initramfs.log" 2>&1; then
    say "FAIL: building the UOS initramfs failed:" >&2
    cat "$BUILD/linux-tier/initramfs.log" >&2
    echo "0 passed, ${#CASES[@]} failed"
    exit 1
fi

failures=()
for c in "${CASES[@]}"; do
    start=$SECONDS
    "$HERE/../testhost/run-with-kvm" -t "$CASE_TIMEOUT_S" -- "$HERE/linux-cases.sh" "$BUILD" "$INITRD" "$c" 2>&1
    rc=$?
    [ $rc = 0 ] || failures+=("$c")
    case $rc in
    0|1) ;;   # the case said how it went
    124) say "FAIL $c: not finished within $CASE_TIMEOUT_S s" ;;
    126) say "FAIL $c: the test host stalled on every attempt" ;;
    *) say "FAIL $c: could not be run (status $rc)" ;;
    esac
    say "($c: $((SECONDS - start)) s, the test host's boot included)"
done
[ ${#failures[@]} -eq 0 ] || say "failures: ${failures[*]}"
echo "$((${#CASES[@]} - ${#failures[@]})) passed, ${#failures[@]} failed"
[ ${#failures[@]} -eq 0 ]
