#!/usr/bin/env bash
# recipes/worker/run.sh: trains a small worker model on rows that gotong's
# own task families generate and check (each row's answer is accepted by the
# family's checker before it is written), then measures it on held-out items
# (another seed) with the same checkers, next to the untrained model of the
# same shapes. Every step is deterministic: the same SCALE gives the same
# bytes (the script prints the model's sha256).
#
#   bash recipes/worker/run.sh [OUT_DIR]        (default .cache/recipe-worker)
#   SCALE=reduced | full (default reduced)  THREADS=N (default 2)
#
# reduced: levels up to 3 (digits, items, depth), 400 items per family and
#          level, a 288-token vocabulary, a 0.39 M-parameter llama (dim 96,
#          3 layers, context 256), 800 steps of 3 x 256 tokens; 25 held-out
#          items per family and level. ~25 min of CPU on this machine.
# full:    every level, 2000 items per family and level, a 512-token
#          vocabulary, a 3.4 M-parameter llama (dim 256, 4 layers, context
#          256), 6000 steps of 8 x 256 tokens; 100 held-out items per family
#          and level.
set -euo pipefail
ROOT_DIR=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:-$ROOT_DIR/.cache/recipe-worker}
SCALE=${SCALE:-reduced}
THREADS=${THREADS:-2}
BUILD=${BUILD:-$ROOT_DIR/build-rel}
case "$SCALE" in
reduced) PER=400 MAXL=3 VOCAB=288 DIM=96 LAYERS=3 HEADS=3 FF=256 SEQ=256 BATCH=3 STEPS=800 LR=3e-3 EVAL=25 ;;
full) PER=2000 MAXL=1000 VOCAB=512 DIM=256 LAYERS=4 HEADS=8 FF=704 SEQ=256 BATCH=8 STEPS=6000 LR=2e-3 EVAL=100 ;;
*) echo "SCALE must be reduced or full, got $SCALE" >&2; exit 2 ;;
esac
mkdir -p "$OUT"
if [ ! -x "$BUILD/gotong" ] || [ ! -x "$BUILD/gotong-recipe" ]; then
    cmake -S "$ROOT_DIR" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$BUILD" -j"$THREADS" --target gotong gotong-recipe
fi
G=$BUILD/gotong R=$BUILD/gotong-recipe
SHAPE=(--dim $DIM --layers $LAYERS --heads $HEADS --ff $FF --seq $SEQ --batch $BATCH)

echo "== 1. training rows from the task families (seed 1, $PER per family and level)"
"$R" data --seed 1 --per-level $PER --max-level $MAXL -o "$OUT/data"
ROOT=$(cat "$OUT/data/root.txt")
echo "== 2. a $VOCAB-token BPE vocabulary from the rows' text"
"$G" tokenizer train --corpus "$OUT/data/corpus.txt" --vocab-size $VOCAB -o "$OUT/vocab.gguf"
echo "== 3. training ($STEPS steps), on the dataset checked against its Merkle root $ROOT"
/usr/bin/time -f "train: %e s wall, %U s user CPU" \
    "$G" train --dataset "$OUT/data" --root "$ROOT" --vocab "$OUT/vocab.gguf" "${SHAPE[@]}" \
    --steps $STEPS --lr $LR --warmup $((STEPS / 20)) --threads "$THREADS" --seed 1 -o "$OUT/worker.gguf"
sha256sum "$OUT/worker.gguf"
echo "== 4. the untrained model of the same shapes (1 step at lr 1e-8), the baseline"
"$G" train --dataset "$OUT/data" --root "$ROOT" --vocab "$OUT/vocab.gguf" "${SHAPE[@]}" \
    --steps 1 --lr 1e-8 --threads "$THREADS" --seed 1 -o "$OUT/untrained.gguf" >/dev/null
echo "== 5. held-out items (seed 99, $EVAL per family and level), judged by the families' checkers"
echo "-- untrained"
"$R" eval -m "$OUT/untrained.gguf" --seed 99 --per-level $EVAL --max-level $MAXL -t "$THREADS" | tail -1
echo "-- trained"
/usr/bin/time -f "eval: %e s wall, %U s user CPU" "$R" eval -m "$OUT/worker.gguf" --seed 99 --per-level $EVAL \
    --max-level $MAXL -t "$THREADS" | tee "$OUT/accuracy.txt"
