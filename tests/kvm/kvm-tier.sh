#!/bin/bash
# KVM tier: the cases of kvm-cases.sh (our tiny guests under acrn-dm, and
# the hypervisor core through its hypercalls), run as tests/lib/tier-cases.sh
# does: the ones that need no KVM here, the others one after another in one
# test host (where this machine has no hardware KVM), and only those a stall
# or an overrun cut short again, alone.
# Usage: kvm-tier.sh BUILD_DIR [CASE...]   (default: all of them)
set -u
BUILD=$(cd "${1:?usage: kvm-tier.sh BUILD_DIR [CASE...]}" && pwd)
shift
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NO_KVM_CASES=(missing_image bad_image acrnd_systemd)
KVM_CASES=(hv_hypercalls hello hello_polling exit_status iorw_notification iorw_polling two_vms rtvm interrupts storm_monitor serial_file
           triple_fault vm_events sigterm_stops cmd_monitor acrnctl acrnctl_add_start acrnd acrnd_wake launcher dm_cpus dry_run terminal_restored bench_both_modes)
CASES=("${NO_KVM_CASES[@]}" "${KVM_CASES[@]}")
[ $# -eq 0 ] || CASES=("$@")
# one case's limit when it runs alone, the test host's boot included
CASE_TIMEOUT_S=300

source "$HERE/../lib/tier-cases.sh"
CASE_COMMAND=("$HERE/kvm-cases.sh" "$BUILD")
# the whole group: far less than a limit per case
TIER_GROUP_TIMEOUT_S=600 run_tier_cases kvm-tier "$CASE_TIMEOUT_S"
