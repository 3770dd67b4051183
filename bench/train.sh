#!/bin/sh
# bench/train.sh BUILD_DIR
#
# The training benchmark: gotong's trainer (bench/bench_train.c) against
# PyTorch (bench/train_peer.py: Debian's python3-torch on OpenBLAS, which
# scripts/setup.sh bench installs) on the CPU, for the same llama (by default
# vocabulary 4096, dim 256, 4 layers, 8 heads, 4 KV heads, ff 704: 5.0 M
# parameters), batch 8 of 128 tokens, f32, AdamW with clipping, one
# micro-batch per step, on the same number of threads (GT_BENCH_THREADS, 2).
# Each side runs GT_BENCH_STEPS timed steps (after one untimed), in
# alternating rounds (GT_BENCH_REPS, 2), best of each kept, so a load that
# comes and goes hits both. Also measures the machine's f32 FMA peak on the
# same threads and states each side's model FLOP/s as a fraction of it:
# training FLOPs per token = 6 x (the matrices' parameters, output included,
# embedding excluded) + 6 x layers x seq x dim (causal attention's two
# products, forward and backward).
# Ends with: "gotong/pytorch: R.RRx (gotong G tok/s, pytorch P tok/s; peak
# fraction g.ggg vs p.ppp of X GFLOP/s)".
set -eu

BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
THREADS=${GT_BENCH_THREADS:-2}
STEPS=${GT_BENCH_STEPS:-5}
REPS=${GT_BENCH_REPS:-2}
# vocab dim layers heads kv_heads ff seq batch
SHAPE=${GT_BENCH_SHAPE:-"4096 256 4 8 4 704 128 8"}
PY=${GT_BENCH_PYTHON:-/usr/bin/python3} # Debian's, where python3-torch is

die() { echo "bench/train.sh: $*" >&2; exit 1; }

case "$BUILD" in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
[ -x "$BUILD/bench_train" ] || cmake --build "$BUILD" --target bench_train >&2 || die "cannot build bench_train in $BUILD"
"$PY" -c 'import torch' 2>/dev/null || die "PyTorch missing: run scripts/setup.sh bench (python3-torch, libopenblas0-pthread)"

# Field $2 of a flat JSON line (numbers only).
jfield() { sed -n "s/.*\"$2\": *\([-0-9.eE+]*\).*/\1/p" <<EOT
$1
EOT
}
fmax() { awk -v a="${1:-0}" -v b="${2:-0}" 'BEGIN { print (a > b ? a : b) }'; }

set -- $SHAPE
V=$1 D=$2 L=$3 H=$4 KV=$5 F=$6 T=$7 B=$8
KVD=$((D / H * KV))
MAT=$((L * (D * D * 2 + D * KVD * 2 + D * F * 3) + V * D))
FLOPS_PER_TOKEN=$((6 * MAT + 6 * L * T * D))

echo "model: vocab $V, dim $D, $L layers, $H/$KV heads, ff $F; batch $B x $T tokens; $THREADS threads; $STEPS steps x $REPS rounds" >&2
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
peak=$("$BUILD/bench_train" --peak "$THREADS") || die "bench_train --peak failed"
PEAK=$(jfield "$peak" peak_gflops)
echo "f32 FMA peak on $THREADS threads: $PEAK GFLOP/s ($peak)" >&2

best_g=0 best_p=0 peer=""
r=0
while [ $r -lt "$REPS" ]; do
    g=$("$BUILD/bench_train" $V $D $L $H $KV $F $T $B "$THREADS" "$STEPS") || die "bench_train failed"
    echo "gotong:  $g" >&2
    peer=$(OMP_NUM_THREADS=$THREADS OPENBLAS_NUM_THREADS=$THREADS "$PY" "$ROOT/bench/train_peer.py" \
        $V $D $L $H $KV $F $T $B "$THREADS" "$STEPS") || die "train_peer.py failed"
    echo "pytorch: $peer" >&2
    best_g=$(fmax "$best_g" "$(jfield "$g" tokens_per_s)")
    best_p=$(fmax "$best_p" "$(jfield "$peer" tokens_per_s)")
    r=$((r + 1))
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
awk -v g="$best_g" -v p="$best_p" -v f="$FLOPS_PER_TOKEN" -v peak="$PEAK" 'BEGIN {
    printf "gotong/pytorch: %.2fx (gotong %.0f tok/s, pytorch %.0f tok/s; peak fraction %.3f vs %.3f of %.1f GFLOP/s)\n",
        g / p, g, p, g * f / 1e9 / peak, p * f / 1e9 / peak, peak }'
