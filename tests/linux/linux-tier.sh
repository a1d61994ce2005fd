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
# virtio_all checks virtio-blk (written on two queues and read back,
# read-only, SIGKILL after sync; with --virtio_poll and with the fast paths
# off), virtio-rnd and virtio-console in two boots, ~2 min nested. The
# one-device cases (virtio_blk, virtio_blk_sigkill, virtio_blk_ro,
# virtio_rng_console) check much the same in five boots, for bringing up
# one device at a time: run them by name (linux-tier.sh BUILD_DIR
# virtio_blk ...). All virtio cases also run under QEMU's own devices:
# LINUX_CASES_VMM=qemu linux-cases.sh (a test aid).
# boot_4cpu_testdev runs by name: boot_8cpu_high_memory has the testdev too.
KVM_CASES=(shell_reboot_sigterm boot_8cpu_high_memory virtio_all)
# one case's limit when it runs alone, the test host's boot included (a case takes < 1.5 min, virtio_all < 4)
CASE_TIMEOUT_S=${LINUX_TIER_CASE_TIMEOUT_S:-540}

say() { echo "linux-tier: $*"; }

CASES=("${NO_KVM_CASES[@]}" "${KVM_CASES[@]}")
[ $# -eq 0 ] || CASES=("$@")

# In the build tree: the test host sees it at the same path (and the test
# host shares /tmp only when the caller's directory is there, so work from it).
cd "$BUILD" || exit 1
source "$HERE/../lib/tier-cases.sh"
build_uos_initramfs linux-tier || exit 1
CASE_COMMAND=("$HERE/linux-cases.sh" "$BUILD" "$INITRD")
TIER_GROUP_TIMEOUT_S=${LINUX_TIER_GROUP_TIMEOUT_S:-} run_tier_cases linux-tier "$CASE_TIMEOUT_S"
