#!/bin/sh
# bench/infer.sh BUILD_DIR [--peer-only]
#
# The inference benchmark: gotong vs llama.cpp on a random-weight ~250M llama
# (dim 1024, 16 layers, 16 heads, 4 KV heads, ff 2816) in Q8_0, Q4_0 and F16,
# 2 threads, prefill 128 tokens and decode 64, both with weights in anonymous
# memory (llama-bench -lm none, this llama.cpp's spelling of -mmp 0; gotong
# always copies weights out of the mapping into its packed layout at load).
# Also measures read bandwidth to state decode speed as a fraction of the
# memory-bandwidth bound (weight bytes read per token / bandwidth).
#
# Everything it fetches or builds lives in the ignored .cache/ folder:
#   .cache/llama.git   llama.cpp's source (release v0.5.0) from the git bundle
#                      in node-llama-cpp@3.22.1 (scripts/setup.sh bench)
#   .cache/llama.cpp   a checkout of it, only the llama-bench target built
#                      (CPU, GGML_NATIVE)
#   .cache/bench       the three random models
# Ends with one line per type: "q8_0: decode 1.62x prefill 1.10x bound 0.78
# (163.2 t/s)", the bound being weight bytes per token over the best read
# bandwidth measured during the run.
set -eu

BUILD=${1:-build}
MODE=${2:-}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=$ROOT/.cache
LLAMA_SRC=$CACHE/llama.cpp
LLAMA_BENCH=$LLAMA_SRC/build/bin/llama-bench
MODELS=$CACHE/bench
THREADS=${GT_BENCH_THREADS:-2}
REPS=${GT_BENCH_REPS:-3}
VOCAB=$CACHE/fixtures/tokenizer/ggml-vocab-llama-spm.gguf

die() { echo "bench/infer.sh: $*" >&2; exit 1; }

# Builds llama-bench once; later runs reuse it.
build_peer() {
    if [ -x "$LLAMA_BENCH" ]; then return 0; fi
    "$ROOT/scripts/setup.sh" bench || die "scripts/setup.sh bench failed"
    if [ ! -f "$LLAMA_SRC/CMakeLists.txt" ]; then
        rm -rf "$LLAMA_SRC"
        git clone -q -b release "$CACHE/llama.git" "$LLAMA_SRC" || die "git clone of $CACHE/llama.git failed"
    fi
    echo "building llama-bench (once; CPU only, GGML_NATIVE) ..." >&2
    cmake -S "$LLAMA_SRC" -B "$LLAMA_SRC/build" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON \
        -DGGML_CUDA=OFF -DGGML_VULKAN=OFF -DGGML_METAL=OFF -DGGML_OPENMP=ON \
        -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
        -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_TOOLS=ON >&2 || die "cmake configure of llama.cpp failed"
    nice cmake --build "$LLAMA_SRC/build" -j 1 --target llama-bench >&2 \
        || die "building llama-bench failed"
    [ -x "$LLAMA_BENCH" ] || die "llama-bench not found at $LLAMA_BENCH after the build"
}

build_peer
[ "$MODE" = "--peer-only" ] && exit 0

case "$BUILD" in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
for t in gotong bench_infer bench_infer_bw; do
    [ -x "$BUILD/$t" ] || cmake --build "$BUILD" --target "$t" >&2 || die "cannot build $t in $BUILD"
done
[ -f "$VOCAB" ] || die "$VOCAB missing: run scripts/setup.sh"

# The three models, once.
mkdir -p "$MODELS"
TYPES=${GT_BENCH_TYPES:-"q8_0 q4_0 f16"}
for ty in $TYPES; do
    f=$MODELS/llama-250m-$ty.gguf
    [ -f "$f" ] && continue
    "$BUILD/gotong" model random --like "$VOCAB" --arch llama --dim 1024 --layers 16 --heads 16 \
        --kv-heads 4 --ff 2816 --type "$ty" -o "$f" >&2 || die "gotong model random failed for $ty"
done

# Field $2 of a flat JSON line (numbers only).
jfield() { sed -n "s/.*\"$2\": *\([-0-9.eE+]*\).*/\1/p" <<EOT
$1
EOT
}
# Larger of two numbers (empty counts as 0).
fmax() { awk -v a="${1:-0}" -v b="${2:-0}" 'BEGIN { print (a > b ? a : b) }'; }

# Read bandwidth: measured again before each type and the best figure kept,
# since other processes on a shared machine take part of it at times.
measure_bw() {
    BW_LINE=$("$BUILD/bench_infer_bw" "$THREADS") || die "bench_infer_bw failed"
    BW=$(fmax "$BW" "$(jfield "$BW_LINE" read_gb_s)")
}
BW=0
measure_bw
echo "read bandwidth, $THREADS threads: $BW GB/s (best so far)" >&2

# Timings are noisy on a shared machine: each side runs ROUNDS times,
# alternating, each run being llama-bench's own -r REPS average; the best
# run of each side is kept.
ROUNDS=${GT_BENCH_ROUNDS:-2}
SUMMARY=""
printf '%-6s %14s %14s %14s %14s\n' type "gotong pp t/s" "llama pp t/s" "gotong tg t/s" "llama tg t/s" >&2
ROWS=""
for ty in $TYPES; do
    f=$MODELS/llama-250m-$ty.gguf
    opp=0 otg=0 lpp=0 ltg=0 wbytes=0
    measure_bw
    r=0
    while [ $r -lt "$ROUNDS" ]; do
        L=$("$LLAMA_BENCH" -m "$f" -t "$THREADS" -p 128 -n 64 -r "$REPS" -lm none -o jsonl 2>/dev/null) \
            || die "llama-bench failed on $f"
        LPP=$(printf '%s\n' "$L" | grep '"n_gen": 0' | head -1)
        LTG=$(printf '%s\n' "$L" | grep '"n_prompt": 0' | head -1)
        lpp=$(fmax "$lpp" "$(jfield "$LPP" avg_ts)")
        ltg=$(fmax "$ltg" "$(jfield "$LTG" avg_ts)")
        O=$("$BUILD/bench_infer" "$f" -t "$THREADS" -p 128 -n 64 -r "$REPS") || die "bench_infer failed on $f"
        opp=$(fmax "$opp" "$(jfield "$O" pp_tok_s)")
        otg=$(fmax "$otg" "$(jfield "$O" tg_tok_s)")
        wbytes=$(jfield "$O" weight_bytes)
        r=$((r + 1))
    done
    printf '%-6s %14.1f %14.1f %14.1f %14.1f\n' "$ty" "$opp" "$lpp" "$otg" "$ltg" >&2
    ROWS="$ROWS$ty $opp $lpp $otg $ltg $wbytes
"
done
# Bounds use the best bandwidth seen over the whole run.
SUMMARY=$(printf '%s' "$ROWS" | while read -r ty opp lpp otg ltg wb; do
    [ -n "$ty" ] || continue
    awk -v ty="$ty" -v opp="$opp" -v lpp="$lpp" -v otg="$otg" -v ltg="$ltg" -v bw="$BW" -v w="$wb" \
        'BEGIN { b = bw * 1e9 / w; printf "%s: decode %.2fx prefill %.2fx bound %.2f (%.1f t/s)\n", ty, otg / ltg, opp / lpp, otg / b, b }'
done)

echo "(weights: $(awk -v w="$wbytes" 'BEGIN { printf "%.0f", w / 1048576 }') MiB read per decoded token for $ty; bandwidth $BW GB/s; $THREADS threads; best of $ROUNDS runs of $REPS reps each side)" >&2
printf '%s\n' "$SUMMARY"
