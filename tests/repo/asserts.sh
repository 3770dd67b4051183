#!/bin/sh
# asserts.sh: asserts (assert and _Static_assert) per 1,000 lines in each
# folder given (default: src/ledger src/market), as issue 11 counts them.
# Usage: tests/repo/asserts.sh [folder...]
cd "$(dirname "$0")/../.." || exit 1
[ $# -eq 0 ] && set -- src/ledger src/market
for d in "$@"; do
    lines=$(cat "$d"/*.c "$d"/*.h | wc -l)
    n=$(cat "$d"/*.c "$d"/*.h | grep -o 'assert(' | wc -l)
    echo "$d: $n asserts in $lines lines = $((n * 10000 / lines / 10)).$((n * 10000 / lines % 10)) per 1,000"
done
