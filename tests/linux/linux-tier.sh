#!/bin/bash
# Linux-guest tier: builds the UOS initramfs (tests/guests/linux) here, then
# runs the cases of linux-cases.sh as tests/lib/tier-cases.sh does: the ones
# that need no KVM here, the others one after another in one test host, and
# only those a stall or an overrun cut short again, alone.
# Usage: linux-tier.sh BUILD_DIR [CASE...]   (default: all of them)
set -u
BUILD=$(cd "${1:?usage: linux-tier.sh BUILD_DIR [CASE...]}" && pwd)
shift
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NO_KVM_CASES=(missing_files)
KVM_CASES=(shell_and_sigterm boot_4cpu_testdev boot_8cpu_high_memory reboot)
# The virtio cases (virtio-blk, its SIGKILL and read-only variants,
# virtio-rnd with virtio-console): not in KVM_CASES until acrn-dm has those
# devices; the device's author adds them then. Until then they run by name
# (linux-tier.sh BUILD_DIR virtio_blk ...), or under QEMU's own devices to
# check the guest side and the checks: LINUX_CASES_VMM=qemu linux-cases.sh.
# About 4.5 min nested for the four (five boots of ~35 s, 64 MiB each way).
# shellcheck disable=SC2034  # not used yet, on purpose
VIRTIO_CASES=(virtio_blk virtio_blk_sigkill virtio_blk_ro virtio_rng_console)
# one case's limit when it runs alone, the test host's boot included (a case takes < 1.5 min)
CASE_TIMEOUT_S=${LINUX_TIER_CASE_TIMEOUT_S:-420}

say() { echo "linux-tier: $*"; }

CASES=("${NO_KVM_CASES[@]}" "${KVM_CASES[@]}")
[ $# -eq 0 ] || CASES=("$@")

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
source "$HERE/../lib/tier-cases.sh"
CASE_COMMAND=("$HERE/linux-cases.sh" "$BUILD" "$INITRD")
TIER_GROUP_TIMEOUT_S=${LINUX_TIER_GROUP_TIMEOUT_S:-} run_tier_cases linux-tier "$CASE_TIMEOUT_S"
