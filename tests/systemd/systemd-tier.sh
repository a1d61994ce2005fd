#!/bin/bash
# systemd tier: User VMs run as a Service OS runs them, in a test host booted
# with systemd as PID 1 on a throwaway root (run-with-kvm -S): the cases of
# systemd-cases.sh, one after another in one boot, as tests/lib/tier-cases.sh
# runs a tier (only a case that a stall or an overrun cut short runs again,
# alone). The guest is the Linux tier's: Debian's kernel and the initramfs of
# tests/guests/linux, built here.
# deb_package runs by name, with ACRN_TEST_DEB naming the package to check:
# scripts/package --check builds it and runs the case.
# Usage: systemd-tier.sh BUILD_DIR [CASE...]   (default: all of them)
set -u
BUILD=$(cd "${1:?usage: systemd-tier.sh BUILD_DIR [CASE...]}" && pwd)
shift
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NO_KVM_CASES=()
KVM_CASES=(vm_service acrnd_autostart suspended_service)
CASES=("${KVM_CASES[@]}")
[ $# -eq 0 ] || CASES=("$@")
# one case's limit when it runs alone, the test host's boot included
CASE_TIMEOUT_S=${SYSTEMD_TIER_CASE_TIMEOUT_S:-420}

cd "$BUILD" || exit 1
source "$HERE/../lib/tier-cases.sh"
build_uos_initramfs systemd-tier || exit 1
CASE_COMMAND=("$HERE/systemd-cases.sh" "$BUILD" "$INITRD")
TIER_TESTHOST_OPTIONS=(-S)
run_tier_cases systemd-tier "$CASE_TIMEOUT_S"
