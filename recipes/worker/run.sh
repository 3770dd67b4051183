#!/usr/bin/env bash
# recipes/worker/run.sh: trains a small worker model on rows that gotong's
# own task families generate and check (each row's answer is accepted by the
# family's checker before it is written), then measures it on held-out items
# (another seed) with the same checkers, at a quarter, half and all of the
# steps, next to the untrained model of the same shapes. Every step is
# deterministic: the same SCALE gives the same bytes (the script prints the
# models' sha256).
#
#   bash recipes/worker/run.sh [OUT_DIR]        (default .cache/recipe-worker)
#   SCALE=reduced | full (default reduced)  THREADS=N (default 2)
#   STEPS=N, LR=X (default: the scale's)
#
# What makes it learnable in little CPU:
# - rows show their work before a marked final answer (work/data/families.h
#   scratchpads): + and - column by column in lines of fixed width, units
#   first, - after comparing its operands digit by digit and before its
#   digits restated with their leading zeros; sort as a selection, a line
#   per item taken with the rest restated (numbers zero-padded, words by
#   their first three letters); logic with its values restated, each
#   variable's value written after its letter, then reduced a pass a line;
#   strings spelt and mapped letter by letter;
# - a byte-level vocabulary (257 tokens: no merges), so each digit and
#   letter is one token and every column step looks the same to the model;
# - difficulty levels (digits, items, depth) 1..MAXL, every level in the mix;
# - the loss on the completions only (--completion-loss): the questions'
#   random digits and letters cannot be predicted, and without the mask
#   their loss drowns the signal of the steps that copy and compute;
# - every window starts at a row's BOS (--row-windows), as a question is
#   asked. Without it (windows anywhere in the rows' tokens) the model never
#   learnt to find a digit in the question: 2-3 digit + and - stayed at 0 %;
#   with it, 100 % of 40 held-out items after 1500 steps of arith alone.
#
# reduced: levels up to 3, 1000 items per family and level, a 0.23 M-parameter
#          llama (dim 64, 4 layers, 4 heads), 1500 steps of 16 x 192 tokens
#          (4.6 M tokens, ~10 k tokens/s on 2 cores: ~8 min); 25 held-out
#          items per family and level.
# full:    levels up to 5, 4000 items per family and level (6000 for arith,
#          sort and logic; 16000 strings: recipe.c rows_weight_halves), a
#          0.92 M-parameter llama (dim 128, 4 layers, 4 heads, ff 384) with
#          windows of 256 tokens, 16000 steps of 12 x 256 tokens (49.2 M
#          tokens, 18-22 k tokens/s on 2 cores: 42 min, measured:
#          recipes/worker/README.md); 50 held-out items per family and level.
# Both scales then run a second stage from that model (lr 3e-4) on rows of
# seed 2 with sort's rows 6 times over (gotong-recipe data --boost): full
# 2000 steps (6.1 M tokens: 302 s; the whole full recipe took 47.6 min in
# session 36), reduced 200.
set -euo pipefail
ROOT_DIR=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:-$ROOT_DIR/.cache/recipe-worker}
SCALE=${SCALE:-reduced}
THREADS=${THREADS:-2}
BUILD=${BUILD:-$ROOT_DIR/build-rel}
case "$SCALE" in
reduced) PER=1000 MAXL=3 DIM=64 LAYERS=4 HEADS=4 FF=192 SEQ=192 BATCH=16 STEPS=${STEPS:-1500} LR=${LR:-3e-3} EVAL=25
         PER2=250 STEPS2=${STEPS2:-200} ;;
full) PER=4000 MAXL=5 DIM=128 LAYERS=4 HEADS=4 FF=384 SEQ=256 BATCH=12 STEPS=${STEPS:-16000} LR=${LR:-2e-3} EVAL=50
      PER2=1000 STEPS2=${STEPS2:-2000} ;;
*) echo "SCALE must be reduced or full, got $SCALE" >&2; exit 2 ;;
esac
VOCAB=257
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
echo "== 2. a byte-level vocabulary ($VOCAB tokens)"
"$G" tokenizer train --corpus "$OUT/data/corpus.txt" --vocab-size $VOCAB -o "$OUT/vocab.gguf"
echo "== 3. the untrained model of the same shapes (1 step at lr 1e-8), the baseline"
"$G" train --dataset "$OUT/data" --root "$ROOT" --vocab "$OUT/vocab.gguf" "${SHAPE[@]}" \
    --steps 1 --lr 1e-8 --threads "$THREADS" --seed 1 -o "$OUT/untrained.gguf" >/dev/null
"$R" eval -m "$OUT/untrained.gguf" --seed 99 --per-level $EVAL --max-level $MAXL -t "$THREADS" >"$OUT/accuracy-0.txt"
echo "== 4. training ($STEPS steps) on the dataset checked against its Merkle root $ROOT,"
echo "      stopping at a quarter and a half to measure (an exact resume: the same bytes as one run)"
rm -f "$OUT/worker.ckpt"
RESUME=()
for STOP in $((STEPS / 4)) $((STEPS / 2)) $STEPS; do
    /usr/bin/time -f "train to step $STOP: %e s wall, %U s user CPU" \
        "$G" train --dataset "$OUT/data" --root "$ROOT" --vocab "$OUT/vocab.gguf" "${SHAPE[@]}" \
        --steps $STEPS --lr $LR --warmup $((STEPS / 30)) --threads "$THREADS" --seed 1 --completion-loss --row-windows \
        --checkpoint "$OUT/worker.ckpt" --stop-after $STOP "${RESUME[@]}" -o "$OUT/worker-$STOP.gguf"
    RESUME=(--resume "$OUT/worker.ckpt")
    sha256sum "$OUT/worker-$STOP.gguf"
    "$R" eval -m "$OUT/worker-$STOP.gguf" --seed 99 --per-level $EVAL --max-level $MAXL -t "$THREADS" \
        >"$OUT/accuracy-$STOP.txt"
done
echo "== 5. a second stage: $STEPS2 steps from that model, at lr 3e-4, on rows of another seed (2) with"
echo "      sort's rows 6 times over (the family the first stage leaves furthest from its goal)"
"$R" data --seed 2 --per-level $PER2 --max-level $MAXL --boost sort=6 -o "$OUT/data2"
ROOT2=$(cat "$OUT/data2/root.txt")
/usr/bin/time -f "second stage: %e s wall, %U s user CPU" \
    "$G" train --dataset "$OUT/data2" --root "$ROOT2" --from "$OUT/worker-$STEPS.gguf" --seq $SEQ --batch $BATCH \
    --steps $STEPS2 --lr 3e-4 --warmup $((STEPS2 * 3 / 100)) --threads "$THREADS" --seed 1 \
    --completion-loss --row-windows -o "$OUT/worker.gguf"
sha256sum "$OUT/worker.gguf"
"$R" eval -m "$OUT/worker.gguf" --seed 99 --per-level $EVAL --max-level $MAXL -t "$THREADS" >"$OUT/accuracy-final.txt"
echo "== 6. held-out items (seed 99, $EVAL per family and level), judged by the families' checkers:"
echo "      accuracy after 0, $((STEPS / 4)), $((STEPS / 2)) and $STEPS steps, then after the second stage"
# One row per family and level: its accuracy at each step count (the last
# field of each eval line).
awk -v steps="0 $((STEPS / 4)) $((STEPS / 2)) $STEPS +$STEPS2" '
    FNR == 1 { f++ }
    /^(family|all|[a-z]+ +[0-9]+ )/ { key[FNR] = $1 " " ($1 == "family" ? "level" : $1 == "all" ? "" : $2)
                                       acc[FNR, f] = $1 == "family" ? "" : $NF; n = FNR > n ? FNR : n }
    END { split(steps, s, " "); printf "%-8s %5s", "family", "level"
          for (i = 1; i <= f; i++) printf " %9s", "step " s[i]
          printf "\n"
          for (r = 2; r <= n; r++) if (r in key) { split(key[r], k, " "); printf "%-8s %5s", k[1], k[2]
              for (i = 1; i <= f; i++) printf " %9s", acc[r, i]
              printf "\n" } }' "$OUT/accuracy-0.txt" "$OUT/accuracy-$((STEPS / 4)).txt" \
    "$OUT/accuracy-$((STEPS / 2)).txt" "$OUT/accuracy-$STEPS.txt" "$OUT/accuracy-final.txt" | tee "$OUT/accuracy.txt"
