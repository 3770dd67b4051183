#!/usr/bin/env bash
# tests/infer/same_bytes.sh GOTONG [--print]: the same logits bytes on every
# CPU. A small random-weight llama (dim 256, 2 layers, GQA, untied output)
# written by gotong in F32, F16 and BF16, the F32 one quantized to each type
# and mix of llama.cpp's that gotong writes (every block type it reads), and
# models/worker.gguf generate 24 greedy tokens with the top 8 logits before
# each (printed to the last bit); the JSON less its timings must hash to the
# digest pinned below for every kernel path this CPU has (scalar, AVX2,
# AVX-512: a path the CPU lacks is skipped, and said) and 1 and 3 threads.
# The pins were made on an AMD EPYC and checked on an Intel Xeon; a CI
# machine that gets other bytes has found a determinism bug. --print: the
# digests of this machine, to pin on purpose after a change of the numerics.
set -euo pipefail
G=${1:?usage: same_bytes.sh GOTONG [--print]}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/gt-same-bytes-XXXXXX")
trap 'rm -rf "$T"' EXIT
RANDOM_TYPES="f32 f16 bf16" # written so by model random; the rest quantized from the f32 one
QUANT_TYPES="q8_0 q4_0 q4_1 q5_0 q5_1 q2_k q3_k_m q4_k_s q5_k_m q6_k iq4_nl iq4_xs q4_k_m"
declare -A PIN=(
    [worker]=a34adaed886440e6
    [f32]=73d5aea541fc9458
    [f16]=f90d7cd97d672740
    [bf16]=3b1aa57b3cb39a38
    [q8_0]=ce7f8ee1015d56a1
    [q4_0]=0268f54afc042cd8
    [q4_1]=f1c9392d025dec6b
    [q5_0]=c792df70d57dc0b9
    [q5_1]=2183cea87eeb6cb3
    [q2_k]=4f498a7a204593eb
    [q3_k_m]=c27f3329e1d82b88
    [q4_k_s]=79acdb6391f2b15c
    [q5_k_m]=4b6b9cbde40527ac
    [q6_k]=49accd5a7a46816e
    [iq4_nl]=2f3d82c0fe231bd3
    [iq4_xs]=398b11e7d0f1d607
    [q4_k_m]=eba7aaf6c306abd6
)
for ty in $RANDOM_TYPES; do
    "$G" model random --like "$ROOT/models/worker.gguf" --arch llama --dim 256 --layers 2 --heads 4 --kv-heads 2 \
        --ff 512 --type "$ty" --untied -o "$T/$ty.gguf" >/dev/null 2>&1
done
for ty in $QUANT_TYPES; do "$G" model quantize "$T/f32.gguf" "$T/$ty.gguf" --type "$ty" >/dev/null 2>&1; done
# The JSON of a run without what differs by machine and thread count.
digest() {
    sed -E 's/"model":"[^"]*",//; s/"threads":[0-9]+,"kernels":"[a-z0-9]+","timings":\{[^}]*\},//' |
        sha256sum | cut -c1-16
}
ISAS=""
for isa in scalar avx2 avx512; do
    got=$(GOTONG_ISA=$isa "$G" run -m "$ROOT/models/worker.gguf" -p x --json -n 1 --temp 0 -t 1 2>/dev/null |
        sed -E 's/.*"kernels":"([a-z0-9]+)".*/\1/')
    if [ "$got" = "$isa" ]; then ISAS="$ISAS $isa"; else echo "SKIPPED: this CPU has no $isa kernel path" >&2; fi
done
fail=0 runs=0
for m in worker $RANDOM_TYPES $QUANT_TYPES; do
    f=$T/$m.gguf
    [ "$m" = worker ] && f=$ROOT/models/worker.gguf
    for isa in $ISAS; do for t in 1 3; do
        d=$(GOTONG_ISA=$isa "$G" run -m "$f" -p "Q: What is 12 + 34?
A: " --json --top-logits 8 -n 24 --temp 0 -t $t 2>/dev/null | digest)
        runs=$((runs + 1))
        if [ "${2:-}" = --print ]; then echo "    [$m]=$d"; break 2; fi
        [ "$d" = "${PIN[$m]:-none}" ] ||
            { echo "FAIL: $m on the $isa path with $t threads: digest $d, pinned ${PIN[$m]:-none}" >&2; fail=1; }
    done; done
done
[ "${2:-}" = --print ] && exit 0
[ $fail = 0 ] || exit 1
echo "ok: $runs runs, 17 models on the paths$ISAS with 1 and 3 threads: the pinned bytes"
