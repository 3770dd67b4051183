#!/bin/sh
# asserts.sh: asserts (assert and _Static_assert) per 1,000 lines in each
# folder given (default: src/ledger src/market), as issue 11 counts them.
# With --min N (ctest repo_asserts: 10, issue 11's aim for the ledger and the
# market) it fails when a folder has fewer than N per 1,000 lines, so the
# density holds as code is added.
# Usage: tests/repo/asserts.sh [--min N] [folder...]
cd "$(dirname "$0")/../.." || exit 1
min=0
if [ "${1:-}" = "--min" ]; then min=${2:?--min needs a number}; shift 2; fi
[ $# -eq 0 ] && set -- src/ledger src/market
fail=0
for d in "$@"; do
    lines=$(cat "$d"/*.c "$d"/*.h | wc -l)
    n=$(cat "$d"/*.c "$d"/*.h | grep -o 'assert(' | wc -l)
    echo "$d: $n asserts in $lines lines = $((n * 10000 / lines / 10)).$((n * 10000 / lines % 10)) per 1,000"
    if [ $((n * 1000)) -lt $((min * lines)) ]; then
        echo "asserts: $d is under $min per 1,000 lines: state the invariants of the new code with assert()" >&2
        fail=1
    fi
done
exit $fail
