#!/usr/bin/env bash
# bench_smoke.sh: every benchmark binary still runs, on the smallest sizes it
# takes, and ends with the line its make target's readers look for. Nothing
# here is timed: a benchmark that stops running (a spec rule it no longer
# meets, a changed option) fails here instead of on the day someone wants a
# figure. bench_chain needs anvil and the contracts; without them it exits 77
# and this test says so.
#   usage: tests/repo/bench_smoke.sh BUILD_DIR FIXTURES_DIR
set -u
build=$(cd "$1" && pwd) || exit 1
models=$(cd "$2" && pwd)/models || exit 1
vocabs=$(cd "$2" && pwd)/tokenizer || exit 1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
failed=0

# run NAME PATTERN ARGS...: runs BUILD_DIR/NAME ARGS, which must exit 0 and
# print a line matching the extended regex PATTERN.
run() {
    local name=$1 pattern=$2
    shift 2
    "$build/$name" "$@" >"$name.out" 2>&1
    local rc=$?
    if [ "$name" = bench_chain ] && [ $rc -eq 77 ]; then
        echo "SKIPPED bench_chain: $(tail -1 "$name.out")"
        return
    fi
    if [ $rc -ne 0 ] || ! grep -Eq "$pattern" "$name.out"; then
        echo "FAILED $name $* (exit $rc); its last lines:"
        tail -5 "$name.out" | sed 's/^/  /'
        failed=1
        return
    fi
    echo "ok   $name: $(grep -E "$pattern" "$name.out" | tail -1 | cut -c1-100)"
}

run bench_ledger '^ratio: [0-9.]+$' 1000 16
# bench_market's last part drives wrk, which only `scripts/setup.sh bench`
# installs: without it the rest runs and the skip is said.
if command -v wrk >/dev/null 2>&1; then
    run bench_market '^lifecycle/ledger: [0-9.]+$' 2 1 1
else
    echo "SKIPPED bench_market's wrk part: wrk is not installed (scripts/setup.sh bench installs it)"
    run bench_market '^lifecycle/ledger: [0-9.]+$' 2 0 1
fi
run bench_market_pages '^market pages/block: [0-9.]+$' 2 1
run bench_registry '^ms per registration at [0-9]+ agents: [0-9.]+$' 2 3 6
run bench_task_spec '^ms per spec listing at [0-9]+ tasks: [0-9.]+$' 2 3 6
run bench_work '^pipeline/raw: [0-9.]+$' "$models/tiny-llama-q8_0.gguf" 2 1
run bench_infer '"tg_tok_s":[0-9.]+' "$models/tiny-llama-q4_k_m.gguf" -p 8 -n 4 -r 1
run bench_infer_kern '"mac_per_ns":[0-9.]+' q4_k 64 256 4 1
run bench_infer_bw '"read_gb_s":[0-9.]+' 1 64
run bench_train '"tokens_per_s": [0-9.]+' 64 32 1 2 2 64 16 2 1 2
run bench_fund '^finalize pairwise: [0-9.]+ ms$' 100 2
run bench_serve_mask '"equal":true' "$vocabs/ggml-vocab-gpt-2.gguf" 5
run bench_chain 'gas per lifecycle: [0-9]+' 2
exit $failed
