#!/bin/sh
# bench/serve.sh BUILD_DIR: serving throughput and latency under 1, 4 and 16
# concurrent chat clients (`make bench-serve`).
#
# Each client sends GT_BENCH_SERVE_REQS chat completions one after the other
# (a different user message each, temperature 0.8 with its own seed,
# max_tokens GT_BENCH_SERVE_TOKENS) to POST /v1/chat/completions. Per
# concurrency level it prints the aggregate generated tokens/s (completion
# tokens of all requests over the level's wall time) and the p50/p99 request
# latency, for:
#   gotong      `gotong serve --parallel N` for N clients (continuous batching,
#               prefix cache, and batch-invariant: the bytes of an answer do
#               not depend on the rest of the batch; always on)
#   sequential  `gotong serve --parallel 1 --no-prefix-cache` (one request at
#               a time: what gotong serve did before continuous batching)
#   llama       llama.cpp's llama-server in its best configuration for the
#               load: -np N (slots = clients), continuous batching (-cb),
#               -t/-tb = the same threads, a context of N x 512; built by
#               `scripts/setup.sh bench` from the same llama.cpp source as the
#               inference benchmark (.cache/llama-server/BUILD_INFO: commit,
#               flags); $LLAMA_SERVER overrides. Without one the comparison is
#               with sequential only, and the script says so.
# and the ratios gotong/sequential and gotong/llama-server. Both servers
# render chat with the same Jinja template (bench/serve_chat.jinja: the
# random model has none, and each server's default differs); the prompt
# tokens each counted are printed, so a difference would show.
#
# The model is random-weight (gotong model random, llama architecture around
# llama.cpp's SentencePiece vocabulary): dim 768, 12 layers, Q8_0 unless
# GT_BENCH_SERVE_TYPE says otherwise; cached in .cache/bench.
set -eu

BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=$ROOT/.cache
THREADS=${GT_BENCH_THREADS:-2}
TYPE=${GT_BENCH_SERVE_TYPE:-q8_0}
REQS=${GT_BENCH_SERVE_REQS:-3}
TOKENS=${GT_BENCH_SERVE_TOKENS:-48}
LEVELS=${GT_BENCH_SERVE_LEVELS:-"1 4 16"}
CTX=512
VOCAB=$CACHE/fixtures/tokenizer/ggml-vocab-llama-spm.gguf
MODEL=$CACHE/bench/serve-llama-$TYPE.gguf
LLAMA_SERVER=${LLAMA_SERVER:-$CACHE/llama-server/build/bin/llama-server}
TEMPLATE=$ROOT/bench/serve_chat.jinja
LLAMA_SERVER_INFO=$CACHE/llama-server/BUILD_INFO

die() { echo "bench/serve.sh: $*" >&2; exit 1; }

case "$BUILD" in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
[ -x "$BUILD/gotong" ] || cmake --build "$BUILD" --target gotong >&2 || die "cannot build gotong in $BUILD"
[ -f "$VOCAB" ] || die "$VOCAB missing: run scripts/setup.sh test"
mkdir -p "$CACHE/bench"
if [ ! -f "$MODEL" ]; then
    "$BUILD/gotong" model random --like "$VOCAB" --arch llama --dim 768 --layers 12 --heads 12 --kv-heads 4 \
        --ff 2048 --type "$TYPE" -o "$MODEL" >&2 || die "gotong model random failed"
fi

LOG=$(mktemp)
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -f "$LOG"; }
trap cleanup EXIT

# A free port into PORT (before each server: its command line names it).
pick_port() {
    PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
}
# Starts a server (the command line in "$@") and waits until /health answers
# on port $PORT; sets PID.
serve() {
    "$@" >"$LOG" 2>&1 &
    PID=$!
    python3 - "$PORT" <<'PY' || { cat "$LOG" >&2; die "the server did not come up: $*"; }
import sys, time, urllib.request
for _ in range(1200):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/health", timeout=1) as r:
            if r.status == 200: sys.exit(0)
    except Exception: time.sleep(0.1)
sys.exit(1)
PY
}
stop() { kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null || true; PID=; }

# Runs the load of LEVEL clients against port $PORT; prints
# "LEVEL TPS P50 P99 PROMPT_TOKENS".
load() {
    python3 - "$PORT" "$REQS" "$TOKENS" "$1" <<'PY'
import json, sys, threading, time, http.client
port, reqs, tokens, levels = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4].split()
words = "river stone lamp orchard signal copper meadow harbor lantern ember quartz willow".split()
def client(c, n_clients, lat, toks, ptoks, errs):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    for r in range(reqs):
        k = c * reqs + r
        prompt = "Write about the " + " ".join(words[(k + i) % len(words)] for i in range(4 + k % 5)) + "."
        body = json.dumps({"model": "m", "messages": [{"role": "user", "content": prompt}], "max_tokens": tokens,
                           "temperature": 0.8, "seed": 1000 + k + 100 * n_clients})
        t0 = time.perf_counter()
        conn.request("POST", "/v1/chat/completions", body, {"Content-Type": "application/json"})
        resp = conn.getresponse()
        data = resp.read()
        if resp.status != 200:
            errs.append(f"{resp.status} {data[:200]!r}")
            continue
        lat.append(time.perf_counter() - t0)
        usage = json.loads(data)["usage"]
        toks.append(usage["completion_tokens"])
        ptoks.append(usage["prompt_tokens"])
for lv in levels:
    n = int(lv)
    lat, toks, ptoks, errs = [], [], [], []
    th = [threading.Thread(target=client, args=(c, n, lat, toks, ptoks, errs)) for c in range(n)]
    t0 = time.perf_counter()
    for t in th: t.start()
    for t in th: t.join()
    wall = time.perf_counter() - t0
    if errs: sys.exit(f"level {n}: {len(errs)} requests failed: {errs[0]}")
    lat.sort()
    p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
    print(n, f"{sum(toks) / wall:.2f}", f"{p(0.5):.3f}", f"{p(0.99):.3f}", sum(ptoks))
PY
}

echo "bench-serve: model $(basename "$MODEL") ($TYPE, random weights), $THREADS threads, $REQS chat requests of" \
     "$TOKENS tokens per client, levels $LEVELS; load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
GOT= SEQ= PEER=
[ -x "$LLAMA_SERVER" ] || echo "bench-serve: no llama-server binary at $LLAMA_SERVER (scripts/setup.sh bench builds" \
    "it): comparing with gotong's own sequential serving only" >&2
[ -f "$LLAMA_SERVER_INFO" ] && sed 's/^/bench-serve: llama-server /' "$LLAMA_SERVER_INFO" >&2
for n in $LEVELS; do
    pick_port
    serve "$BUILD/gotong" serve -m "$MODEL" --alias m --quiet --threads "$THREADS" --ctx "$CTX" --parallel "$n" \
        --max-queue 64 --chat-template "$TEMPLATE" --listen "127.0.0.1:$PORT"
    GOT="$GOT$(load "$n")
"; stop
    pick_port
    serve "$BUILD/gotong" serve -m "$MODEL" --alias m --quiet --threads "$THREADS" --ctx "$CTX" --parallel 1 \
        --no-prefix-cache --max-queue 64 --chat-template "$TEMPLATE" --listen "127.0.0.1:$PORT"
    SEQ="$SEQ$(load "$n")
"; stop
    if [ -x "$LLAMA_SERVER" ]; then
        pick_port
        serve "$LLAMA_SERVER" -m "$MODEL" -a m -t "$THREADS" -tb "$THREADS" -c $((CTX * n)) -np "$n" -cb \
            --jinja --chat-template-file "$TEMPLATE" --host 127.0.0.1 --port "$PORT" --no-webui
        PEER="$PEER$(load "$n")
"; stop
    fi
done

python3 - "$GOT" "$SEQ" "$PEER" <<'PY'
import sys
rows = lambda s: {l.split()[0]: l.split()[1:] for l in s.strip().splitlines()} if s.strip() else {}
got, seq, peer = rows(sys.argv[1]), rows(sys.argv[2]), rows(sys.argv[3])
print(f"{'clients':>7} | {'gotong t/s':>10} {'p50 s':>7} {'p99 s':>7} | {'seq t/s':>8} {'p50 s':>7} | "
      + (f"{'llama t/s':>9} {'p50 s':>7} {'p99 s':>7} | " if peer else "") + "ratios")
for lv, (t, p50, p99, pt) in got.items():
    st, sp50, _, _ = seq[lv]
    line = f"{lv:>7} | {float(t):10.1f} {float(p50):7.2f} {float(p99):7.2f} | {float(st):8.1f} {float(sp50):7.2f} | "
    ratio = f"gotong/sequential {float(t) / float(st):.2f}x"
    if peer:
        lt, lp50, lp99, lpt = peer[lv]
        if lpt != pt: print(f"note: at {lv} clients the prompts were {pt} tokens in gotong, {lpt} in llama-server")
        line += f"{float(lt):9.1f} {float(lp50):7.2f} {float(lp99):7.2f} | "
        ratio += f", gotong/llama-server {float(t) / float(lt):.2f}x"
    print(line + ratio)
PY
