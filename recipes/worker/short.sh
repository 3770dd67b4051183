#!/usr/bin/env bash
# recipes/worker/short.sh GOTONG GOTONG_RECIPE: the worker recipe shortened
# (4 items per family and level up to 2, the byte-level 257-token vocabulary, a 1-layer
# dim-32 llama, 6 steps on 2 threads, loss on the completions, windows at the
# rows' BOS) must give the very bytes pinned below: the rows' Merkle root and the trained model's sha256. The recipe's steps are
# deterministic by design (items are a function of their seed and index, BPE
# of its corpus, training of its data and settings whatever the thread count
# or build), so a change here is a change of the recipe, to be re-pinned on
# purpose. As the recipe does, the run also stops at step 3 and resumes from
# its checkpoint: the resumed model must be the same bytes; then its second
# stage (3 steps from that model on rows of seed 2, sort's 6 times over),
# whose model is pinned too. With --print as
# the third argument: prints the values to pin.
set -euo pipefail
G=${1:?usage: short.sh GOTONG GOTONG_RECIPE [--print]} R=${2:?usage: short.sh GOTONG GOTONG_RECIPE [--print]}
WANT_ROOT=0x03055eefc8dd79ca69ef3fdf5744494da1fb2fb017ee0285606bc25da2920a59
WANT_SHA=97f207b8ccb569c89a679b230c4e53aa4c320860429a1d282f5ba8d1ba4e2768
WANT_ROOT2=0x79ea8db00fed35f5b7264daaa5d0d38d75a140a7515732f94ff7cfe6a4494ba9
WANT_SHA2=9f1c7d7a603a30b9fd8d26820238be8f1bc46cdd33e384d9312563ea78c3ec5d
T=$(mktemp -d "${TMPDIR:-/tmp}/gt-recipe-short-XXXXXX")
trap 'rm -rf "$T"' EXIT
"$R" data --seed 1 --per-level 4 --max-level 2 -o "$T/data" >/dev/null
ROOT=$(cat "$T/data/root.txt")
"$G" tokenizer train --corpus "$T/data/corpus.txt" --vocab-size 257 -o "$T/vocab.gguf" >/dev/null 2>&1
SHAPE=(--dim 32 --layers 1 --heads 2 --ff 64 --seq 64 --batch 2 --steps 6 --lr 3e-3 --threads 2 --seed 1
    --completion-loss --row-windows)
"$G" train --dataset "$T/data" --root "$ROOT" --vocab "$T/vocab.gguf" "${SHAPE[@]}" -o "$T/worker.gguf" >/dev/null 2>&1
"$G" train --dataset "$T/data" --root "$ROOT" --vocab "$T/vocab.gguf" "${SHAPE[@]}" --checkpoint "$T/ck.gguf" \
    --stop-after 3 -o "$T/half.gguf" >/dev/null 2>&1
"$G" train --dataset "$T/data" --root "$ROOT" --vocab "$T/vocab.gguf" "${SHAPE[@]}" --resume "$T/ck.gguf" \
    -o "$T/resumed.gguf" >/dev/null 2>&1
cmp -s "$T/worker.gguf" "$T/resumed.gguf" ||
    { echo "FAIL: stopping at step 3 and resuming changed the model" >&2; exit 1; }
SHA=$(sha256sum "$T/worker.gguf" | cut -d' ' -f1)
"$R" data --seed 2 --per-level 4 --max-level 2 --boost sort=6 -o "$T/data2" >/dev/null
ROOT2=$(cat "$T/data2/root.txt")
"$G" train --dataset "$T/data2" --root "$ROOT2" --from "$T/worker.gguf" --seq 64 --batch 2 --steps 3 --lr 3e-4 \
    --threads 2 --seed 1 --completion-loss --row-windows -o "$T/second.gguf" >/dev/null 2>&1
SHA2=$(sha256sum "$T/second.gguf" | cut -d' ' -f1)
if [ "${3:-}" = --print ]; then echo "root $ROOT sha256 $SHA root2 $ROOT2 sha256 $SHA2"; exit 0; fi
[ "$ROOT" = "$WANT_ROOT" ] || { echo "FAIL: the rows' root is $ROOT, pinned $WANT_ROOT" >&2; exit 1; }
[ "$SHA" = "$WANT_SHA" ] || { echo "FAIL: the model's sha256 is $SHA, pinned $WANT_SHA" >&2; exit 1; }
[ "$ROOT2" = "$WANT_ROOT2" ] || { echo "FAIL: the second stage's rows' root is $ROOT2, pinned $WANT_ROOT2" >&2; exit 1; }
[ "$SHA2" = "$WANT_SHA2" ] || { echo "FAIL: the second stage's sha256 is $SHA2, pinned $WANT_SHA2" >&2; exit 1; }
echo "ok: root $ROOT, model sha256 $SHA; second stage root $ROOT2, model sha256 $SHA2"
