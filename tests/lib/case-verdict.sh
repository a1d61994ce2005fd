# Sourced by the case scripts of the guest tiers (tests/linux, tests/systemd):
# one case's named checks and its verdict, as tests/lib/tier-cases.sh reads it.
# case_verdict NAME OK DETAIL: prints "PASS NAME (S s)" or "FAIL NAME: DETAIL"
# through the script's say(), writes "PASS|FAIL SECONDS [DETAIL]" to
# $RESULTS_DIR/NAME when RESULTS_DIR is set, counts a failure in $failed,
# and returns 1 for a failure (the caller then shows what it kept).
# SECONDS count from $case_start.
case_verdict() {
    local seconds=$((SECONDS - case_start))
    if [ "$2" = 1 ]; then
        say "PASS $1 ($seconds s)"
        [ -z "${RESULTS_DIR:-}" ] || echo "PASS $seconds" >"$RESULTS_DIR/$1"
        return 0
    fi
    failed=$((failed + 1))
    say "FAIL $1: $3"
    [ -z "${RESULTS_DIR:-}" ] || echo "FAIL $seconds $3" >"$RESULTS_DIR/$1"
    return 1
}

# verify CASE CHECK OK WHY: one named check of a case, reported by name;
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
