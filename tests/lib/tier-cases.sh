# Sourced by the tiers that boot guests (tests/kvm, tests/linux, tests/systemd): runs a
# tier's cases the way that keeps it fast. Cases that need no KVM run here
# directly. The KVM cases share one /dev/kvm: directly where this machine has
# hardware KVM, otherwise one test host (tests/testhost/run-with-kvm) boots
# once for all of them. Each case leaves its result ("PASS|FAIL SECONDS
# [WHY]" in $RESULTS_DIR/CASE) as it ends; if the test host stalls or the
# run overruns, every case without a result runs again alone, in a fresh
# test host of its own, so a stall costs one case's rerun. Then every case's
# result and time are printed, with the tier's time and the closing
# "N passed, N failed" line.
#
# run_tier_cases TIER CASE_TIMEOUT_S: runs CASES (array) with
#   CASE_COMMAND (array): the command, to which the cases are appended; it
#     writes each case's result to $RESULTS_DIR/CASE
#   NO_KVM_CASES (array): the cases among them that need no /dev/kvm
#   TIER_TESTHOST_OPTIONS (array, optional): more run-with-kvm options for
#     the KVM cases (-S: a test host booted with systemd)
# The group's limit is CASE_TIMEOUT_S per KVM case (TIER_GROUP_TIMEOUT_S
# overrides it). Returns 0 if every case passed.

# build_uos_initramfs TIER: the UOS initramfs of tests/guests/linux, made
# in $BUILD/TIER/ (its log beside it); sets INITRD. If it cannot be made:
# its log, the closing "0 passed, N failed" line, and status 1.
build_uos_initramfs() {
    local tier=$1 here
    here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    mkdir -p "$BUILD/$tier"
    INITRD=$BUILD/$tier/initramfs.cpio.gz
    if ! "$here/guests/linux/build-initramfs" "$INITRD" >"$BUILD/$tier/initramfs.log" 2>&1; then
        echo "$tier: FAIL: building the UOS initramfs failed:" >&2
        cat "$BUILD/$tier/initramfs.log" >&2
        echo "0 passed, ${#CASES[@]} failed"
        return 1
    fi
}

run_tier_cases() {
    local tier=$1 case_timeout=$2 start=$SECONDS c rc rc_alone why
    local here
    here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    local results
    # The test host writes back only to a folder outside /tmp.
    results=$(mktemp -d /var/tmp/"$tier".XXXXXX) || return 1
    local no_kvm=() kvm=()
    for c in "${CASES[@]}"; do
        if [[ " ${NO_KVM_CASES[*]} " == *" $c "* ]]; then no_kvm+=("$c"); else kvm+=("$c"); fi
    done

    if [ ${#no_kvm[@]} -gt 0 ]; then
        RESULTS_DIR=$results "${CASE_COMMAND[@]}" "${no_kvm[@]}" 2>&1
    fi
    if [ ${#kvm[@]} -gt 0 ]; then
        # All together first; a stall here is not retried as a whole.
        TESTHOST_ATTEMPTS=1 "$here/testhost/run-with-kvm" "${TIER_TESTHOST_OPTIONS[@]}" -o "$results" -e "RESULTS_DIR=$results" \
            -t "${TIER_GROUP_TIMEOUT_S:-$((case_timeout * ${#kvm[@]}))}" -- "${CASE_COMMAND[@]}" "${kvm[@]}" 2>&1
        rc=$?
        for c in "${kvm[@]}"; do
            [ -e "$results/$c" ] && continue
            case $rc in
            124) echo "$tier: $c: no result (the shared run overran); running it alone" ;;
            126) echo "$tier: $c: no result (the test host stalled); running it alone in a fresh one" ;;
            *) echo "$tier: $c: no result (the shared run ended with status $rc); running it alone" ;;
            esac
            "$here/testhost/run-with-kvm" "${TIER_TESTHOST_OPTIONS[@]}" -o "$results" -e "RESULTS_DIR=$results" -t "$case_timeout" -- \
                "${CASE_COMMAND[@]}" "$c" 2>&1
            rc_alone=$?
            if [ ! -e "$results/$c" ]; then
                case $rc_alone in
                124) why="not finished within $case_timeout s" ;;
                126) why="the test host stalled on every attempt" ;;
                *) why="could not be run (status $rc_alone)" ;;
                esac
                echo "FAIL - $why" >"$results/$c"
            fi
        done
    fi

    local passed=0 failures=() verdict seconds detail
    echo "$tier: results:"
    for c in "${CASES[@]}"; do
        verdict=FAIL seconds=- detail="no result"
        [ -r "$results/$c" ] && read -r verdict seconds detail <"$results/$c"
        if [ "$verdict" = PASS ]; then
            passed=$((passed + 1))
            echo "$tier:   PASS $c (${seconds} s)"
        else
            failures+=("$c")
            echo "$tier:   FAIL $c (${seconds} s) ${detail:-}"
        fi
    done
    rm -rf "$results"
    [ ${#failures[@]} -eq 0 ] || echo "$tier: failures: ${failures[*]}"
    echo "$tier: tier time: $((SECONDS - start)) s"
    echo "$passed passed, ${#failures[@]} failed"
    [ ${#failures[@]} -eq 0 ]
}
