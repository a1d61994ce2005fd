#!/bin/bash
# The man pages against the programs: every option acrn-dm --help lists is
# in acrn-dm(1), every command acrnctl's usage lists is in acrnctl(8), and
# groff formats both without a warning.
# Usage: man-pages.sh BUILD_DIR
set -u
BUILD=${1:?usage: man-pages.sh BUILD_DIR}
MAN=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../man" && pwd)
problems=0
complain() { echo "FAIL $*"; problems=$((problems + 1)); }

options=$("$BUILD/bin/acrn-dm" --help | sed -n 's/^  \(-[^ ]*\(, -[^ ]*\)\?\).*/\1/p' | tr ',' '\n' | sed 's/^ *//')
[ -n "$options" ] || complain "acrn-dm --help lists no options"
for option in $options; do
    grep -qF -- "$(printf '%s' "$option" | sed 's/-/\\-/g')" "$MAN/acrn-dm.1" || complain "acrn-dm(1) lacks $option"
done
commands=$("$BUILD/bin/acrnctl" --help | grep -o 'acrnctl [a-z]\+\|| [a-z]\+' | awk '{ print $2 }' | sort -u)
[ -n "$commands" ] || complain "acrnctl --help lists no commands"
for command in $commands; do
    grep -q "^\.[BT].*\b$command\b" "$MAN/acrnctl.8" || complain "acrnctl(8) lacks $command"
done
for page in "$MAN/acrn-dm.1" "$MAN/acrnctl.8" "$MAN/acrnd.8"; do
    warnings=$(groff -t -man -ww -z "$page" 2>&1)
    [ -z "$warnings" ] || complain "groff warns on $(basename "$page"): $warnings"
done
echo "$(echo "$options" | wc -w) options and $(echo "$commands" | wc -w) acrnctl commands checked, $problems problem(s)"
[ "$problems" = 0 ]
