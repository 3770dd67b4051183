#!/bin/sh
# bench/infer.sh BUILD_DIR
#
# The inference benchmark, side by side in one run: gotong against llama.cpp
# on random-weight models shaped like Qwen3-0.6B (qwen3: dim 1024, 28 layers,
# 16 heads of 128, 8 KV heads, ff 3072, tied, Qwen's 151,936-token vocabulary)
# and Llama-3.2-1B (llama: dim 2048, 16 layers, 32 heads, 8 KV heads, ff 8192,
# tied, llama3 rope scaling, Llama 3's 128,256-token vocabulary), each in
# Q4_K_M and Q8_0. The models are written by gotong's own tools: `model
# random` in F16, then `model quantize` with llama.cpp's presets (the same
# bytes llama-quantize writes). Prefill: 128 random tokens as one batch from
# an empty cache; decode: 64 tokens one at a time from an empty cache.
#
# The peer is llama.cpp as node-llama-cpp's users get it: the prebuilt
# libllama of @node-llama-cpp/linux-x64 that scripts/setup.sh fetches (its
# CPU backend picked at run time among the variants shipped with it),
# driven by bench/infer_peer.c, which measures exactly as bench_infer.c
# measures gotong. Its configuration is tuned first on each model: threads
# 1 or 2 and flash attention auto or off, each phase (prefill, decode) taking
# its best; the batch is the whole prompt (n_batch = n_ubatch = 128), weights
# in anonymous memory as gotong keeps them.
#
# ROUNDS rounds (default 3), the two sides alternating, each figure of a
# round the mean of REPS repetitions after a warm-up; the medians over the
# rounds are compared. Decode is also stated as a fraction of its
# memory-bandwidth bound (weight bytes per token over the read bandwidth),
# twice: against the best read bandwidth seen during the whole run, and
# as the median over the rounds of decode against the read bandwidth
# measured just before it in the same round (on a shared machine the
# bandwidth moves by a third from minute to minute; the first figure pairs
# a typical decode with the machine's best minute, the second pairs
# measurements taken seconds apart). The load average before and after is
# printed: other processes on a shared machine slow both sides, not evenly.
#
# Ends with one line per model and type:
#   qwen3-0.6b q4_k_m: prefill 2.10x decode 1.55x (median of 3; bound 0.80
#   of the best read, 0.85 of the read in its round; peak memory R.RRx: our peak
#   resident MiB over llama.cpp's, prefill runs; load R.RRx: our model load's
#   ms over llama.cpp's in the same runs, medians; llama.cpp reads its
#   weights into memory there, as above; against its mmap L.LLx: the same
#   over llama.cpp's default load, which maps the file and reads no weight
#   until it runs: one more llama.cpp run a round, -p 1 -n 1 -mmap 1)
# Everything lands in the ignored .cache/: models in .cache/bench, each
# run's JSON lines and the peer's stderr in .cache/bench/results.
set -eu

BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=$ROOT/.cache
LIB=$CACHE/libllama
PEER=$LIB/infer_peer
PEER_SRC=$ROOT/bench/infer_peer.c
MODELS=$CACHE/bench
RESULTS=$MODELS/results
VOCABS=$CACHE/fixtures/tokenizer
THREADS=${GT_BENCH_THREADS:-2}
REPS=${GT_BENCH_REPS:-3}
ROUNDS=${GT_BENCH_ROUNDS:-3}
NAMES=${GT_BENCH_MODELS:-"qwen3-0.6b llama3.2-1b"}
TYPES=${GT_BENCH_TYPES:-"q4_k_m q8_0"}
PP=128
TG=64

die() { echo "bench/infer.sh: $*" >&2; exit 1; }

[ -f "$LIB/lib/libllama.so" ] || "$ROOT/scripts/setup.sh" test || die "scripts/setup.sh test failed"
if [ ! -x "$PEER" ] || [ "$PEER_SRC" -nt "$PEER" ]; then
    cc -std=c11 -O2 -Wall -Wextra -Werror -I"$LIB/include" -DLLAMA_LIB_DIR="\"$LIB/lib\"" -o "$PEER.tmp" \
        "$PEER_SRC" -L"$LIB/lib" -lllama -lllama-common -lggml -lggml-base -Wl,-rpath,"$LIB/lib" \
        || die "cannot build $PEER_SRC against $LIB"
    mv "$PEER.tmp" "$PEER"
fi
case "$BUILD" in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
for t in gotong bench_infer bench_infer_bw; do
    [ -x "$BUILD/$t" ] || cmake --build "$BUILD" --target "$t" >&2 || die "cannot build $t in $BUILD"
done

# The gotong model random arguments and vocabulary of a model name.
shape() {
    case $1 in
    qwen3-0.6b) echo "$VOCABS/ggml-vocab-qwen2.gguf --arch qwen3 --dim 1024 --layers 28 --heads 16 --kv-heads 8
        --head-dim 128 --ff 3072 --tied" ;;
    llama3.2-1b) echo "$VOCABS/ggml-vocab-llama-bpe.gguf --arch llama --dim 2048 --layers 16 --heads 32
        --kv-heads 8 --ff 8192 --tied --rope-base 500000 --llama3-rope 8192" ;;
    *) die "unknown model name $1 (expected qwen3-0.6b or llama3.2-1b)" ;;
    esac
}

# The models, once: F16 from `model random`, then each type by `model quantize`.
mkdir -p "$MODELS" "$RESULTS"
for n in $NAMES; do
    f16=$MODELS/$n-f16.gguf
    if [ ! -f "$f16" ]; then
        echo "writing $f16 (once) ..." >&2
        # shellcheck disable=SC2046 # the shape is a list of arguments
        "$BUILD/gotong" model random --like $(shape "$n") --type f16 --threads "$THREADS" -o "$f16.tmp" >&2 \
            || die "gotong model random failed for $n"
        mv "$f16.tmp" "$f16"
    fi
    for ty in $TYPES; do
        f=$MODELS/$n-$ty.gguf
        [ -f "$f" ] && continue
        "$BUILD/gotong" model quantize "$f16" "$f.tmp" --type "$ty" --threads "$THREADS" >&2 \
            || die "gotong model quantize $ty failed for $n"
        mv "$f.tmp" "$f"
    done
done

# Field $2 of a flat JSON line (numbers only).
jfield() { printf '%s\n' "$1" | sed -n "s/.*\"$2\": *\([-0-9.eE+]*\).*/\1/p"; }
fmax() { awk -v a="${1:-0}" -v b="${2:-0}" 'BEGIN { print (a > b ? a : b) }'; }
# Median of the numbers on stdin.
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
LOG=$RESULTS/$STAMP.jsonl
ERR=$RESULTS/$STAMP.peer.stderr
: >"$LOG"
echo "load average at start: $(loadavg); results in $LOG" >&2

# Runs gotong on model $1, $2 repetitions of $3 decoded tokens, extra
# arguments $4..; appends its JSON line to the log and prints it.
ours() {
    o_model=$1 o_reps=$2 o_tg=$3
    shift 3
    o_line=$("$BUILD/bench_infer" "$o_model" -p "$PP" -n "$o_tg" -r "$o_reps" "$@") \
        || die "bench_infer failed on $o_model"
    printf '%s\n' "$o_line" >>"$LOG"
    printf '%s\n' "$o_line"
}

# The same for the peer.
peer() {
    p_model=$1 p_reps=$2 p_tg=$3
    shift 3
    p_line=$("$PEER" "$p_model" -p "$PP" -n "$p_tg" -r "$p_reps" "$@" 2>>"$ERR") \
        || die "infer_peer failed on $p_model (see $ERR)"
    printf '%s\n' "$p_line" >>"$LOG"
    printf '%s\n' "$p_line"
}

# The best configuration of each side on model $1, one phase at a time
# (a short run each: one repetition, 16 decoded tokens): threads 1 or
# THREADS for both sides, and flash attention auto or off for llama.cpp.
# Sets PP_ARGS / TG_ARGS (llama.cpp) and OPP_ARGS / OTG_ARGS (gotong), the
# arguments of the best prefill and decode runs. On a busy machine one
# thread can beat two (the other thread waits at every barrier for a core).
tune() {
    bpp=0 btg=0 PP_ARGS="" TG_ARGS="" obpp=0 obtg=0 OPP_ARGS="" OTG_ARGS=""
    for t in $(printf '%s\n' "$THREADS" 1 | sort -u); do
        for fa in -1 0; do
            L=$(peer "$1" 1 16 -t "$t" -fa "$fa")
            pp=$(jfield "$L" pp_tok_s) tg=$(jfield "$L" tg_tok_s)
            if [ "$(fmax "$pp" "$bpp")" = "$pp" ]; then bpp=$pp PP_ARGS="-t $t -fa $fa"; fi
            if [ "$(fmax "$tg" "$btg")" = "$tg" ]; then btg=$tg TG_ARGS="-t $t -fa $fa"; fi
        done
        L=$(ours "$1" 1 16 -t "$t")
        pp=$(jfield "$L" pp_tok_s) tg=$(jfield "$L" tg_tok_s)
        if [ "$(fmax "$pp" "$obpp")" = "$pp" ]; then obpp=$pp OPP_ARGS="-t $t"; fi
        if [ "$(fmax "$tg" "$obtg")" = "$tg" ]; then obtg=$tg OTG_ARGS="-t $t"; fi
    done
}

BW=0
ROWS=""
printf '%-20s %9s %9s %9s %9s   %s\n' model "ours pp" "llama pp" "ours tg" "llama tg" "(tokens/s, round)" >&2
for n in $NAMES; do
    for ty in $TYPES; do
        f=$MODELS/$n-$ty.gguf
        tune "$f"
        echo "$n $ty: best configurations: llama.cpp prefill $PP_ARGS, decode $TG_ARGS;" \
            "gotong prefill $OPP_ARGS, decode $OTG_ARGS" >&2
        BW=$(fmax "$BW" "$(jfield "$("$BUILD/bench_infer_bw" "$THREADS")" read_gb_s)")
        ops="" lps="" ots="" lts="" oms="" lms="" ols="" lls="" lmms="" rbs="" wb=0
        r=0
        while [ "$r" -lt "$ROUNDS" ]; do
            RB=$(jfield "$("$BUILD/bench_infer_bw" "$THREADS")" read_gb_s)
            BW=$(fmax "$BW" "$RB")
            # shellcheck disable=SC2086 # the arguments are lists
            O=$(ours "$f" "$REPS" "$TG" $OPP_ARGS)
            OT=$O
            # shellcheck disable=SC2086
            if [ "$OPP_ARGS" != "$OTG_ARGS" ]; then OT=$(ours "$f" "$REPS" "$TG" $OTG_ARGS); fi
            # shellcheck disable=SC2086
            LP=$(peer "$f" "$REPS" "$TG" $PP_ARGS)
            LT=$LP
            # shellcheck disable=SC2086
            if [ "$PP_ARGS" != "$TG_ARGS" ]; then LT=$(peer "$f" "$REPS" "$TG" $TG_ARGS); fi
            ops="$ops $(jfield "$O" pp_tok_s)" ots="$ots $(jfield "$OT" tg_tok_s)"
            lps="$lps $(jfield "$LP" pp_tok_s)" lts="$lts $(jfield "$LT" tg_tok_s)"
            oms="$oms $(jfield "$O" max_rss_mb)" lms="$lms $(jfield "$LP" max_rss_mb)"
            ols="$ols $(jfield "$O" load_ms)" lls="$lls $(jfield "$LP" load_ms)"
            LM=$("$PEER" "$f" -t "$THREADS" -p 1 -n 1 -r 1 -mmap 1 2>>"$ERR") || die "infer_peer -mmap 1 failed on $f"
            printf '%s\n' "$LM" >>"$LOG"
            lmms="$lmms $(jfield "$LM" load_ms)"
            wb=$(jfield "$O" weight_bytes)
            rbs="$rbs $(awk -v t="$(jfield "$OT" tg_tok_s)" -v w="$wb" -v bw="$RB" \
                'BEGIN { print t * w / (bw * 1e9) }')"
            printf '%-20s %9.1f %9.1f %9.2f %9.2f   %d (read %.1f GB/s just before)\n' "$n $ty" \
                "$(jfield "$O" pp_tok_s)" "$(jfield "$LP" pp_tok_s)" "$(jfield "$OT" tg_tok_s)" \
                "$(jfield "$LT" tg_tok_s)" "$r" "$RB" >&2
            r=$((r + 1))
        done
        med() { printf '%s\n' $1 | median; }
        mrb=$(med "$rbs")
        ROWS="$ROWS$n $ty $(med "$ops") $(med "$lps") $(med "$ots") $(med "$lts") $wb $(med "$oms") $(med "$lms") $mrb $(med "$ols") $(med "$lls") $(med "$lmms")
"
    done
done
BW=$(fmax "$BW" "$(jfield "$("$BUILD/bench_infer_bw" "$THREADS")" read_gb_s)")
echo "load average at end: $(loadavg); read bandwidth $BW GB/s (best seen), $THREADS threads" >&2
printf '%s' "$ROWS" | while read -r n ty opp lpp otg ltg wb oms lms rb ols lls lmm; do
    awk -v n="$n" -v ty="$ty" -v opp="$opp" -v lpp="$lpp" -v otg="$otg" -v ltg="$ltg" -v bw="$BW" -v w="$wb" \
        -v oms="$oms" -v lms="$lms" -v rounds="$ROUNDS" -v rb="$rb" -v ols="$ols" -v lls="$lls" -v lmm="$lmm" 'BEGIN { b = bw * 1e9 / w
        printf "%s %s: prefill %.2fx decode %.2fx (median of %d: ours %.1f / %.2f t/s, llama.cpp %.1f / %.2f t/s;" \
               " decode bound %.2f of %.1f t/s at the best read, %.2f of the read in its round (median);" \
               " peak memory %.2fx: %.0f / %.0f MiB; load %.2fx: %.0f / %.0f ms, against its mmap %.2fx: %.0f ms)\n",
               n, ty, opp / lpp, otg / ltg, rounds, opp, otg, lpp, ltg, otg / b, b, rb, oms / lms, oms, lms,
               ols / lls, ols, lls, ols / lmm, lmm }'
done
