#!/bin/sh
# bench/market.sh BUILD_DIR [LIFECYCLES_PER_THREAD] [WRK_SECONDS] [ROUNDS]
#
# The market benchmark (bench/bench_market.c): full task lifecycles per
# second through the node's HTTP API with 2 client threads, next to the raw
# ledger apply rate of the same senders and nonces measured in the same run,
# then wrk (64 connections) on GET /v1/tasks?limit=20 next to the HTTP floor.
# Ends with "lifecycle/ledger: X.XX" (goal: >= 0.80, i.e. the API and the
# market cost at most 25 % on top of the ledger).
set -eu

BUILD=${1:-build}
shift || true
if ! command -v wrk >/dev/null 2>&1; then
    echo "bench/market.sh: wrk is not installed (Debian package wrk; scripts/setup.sh installs it)" >&2
    exit 1
fi
if [ ! -x "$BUILD/bench_market" ]; then
    echo "bench/market.sh: $BUILD/bench_market is not built (cmake --build $BUILD --target bench_market)" >&2
    exit 1
fi
echo "machine: $(nproc) cores, $(uname -sr); load: $(cut -d' ' -f1-3 /proc/loadavg)"
# No access log: one stderr line per request would be measured too.
GOTONG_LOG=warn exec "$BUILD/bench_market" "$@"
