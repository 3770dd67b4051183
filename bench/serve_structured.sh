#!/usr/bin/env bash
# bench/serve_structured.sh GOTONG MODEL.gguf [ROUNDS]: the cost per token of
# structured output. For each round, one chat request under a JSON schema and
# one unconstrained request for the same number of tokens (same prompt and
# seed) against one `gotong serve`; prints the mean time per generated token of
# each (prompt included in both) and their ratio.
set -euo pipefail
gotong=${1:?usage: bench/serve_structured.sh GOTONG MODEL.gguf [ROUNDS] [TEMPERATURE]}
model=${2:?usage: bench/serve_structured.sh GOTONG MODEL.gguf [ROUNDS] [TEMPERATURE]}
rounds=${3:-10}
temp=${4:-1}
log=$(mktemp)
"$gotong" serve -m "$model" --listen 127.0.0.1:0 --alias m --quiet >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 200); do grep -q 'listening on' "$log" && break; sleep 0.05; done
url=$(grep -o 'http://[0-9.:]*' "$log" | head -1)
python3 - "$url" "$rounds" "$temp" <<'PY'
import json, sys, time, urllib.request
url, rounds, TEMP = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
schema = {"type": "object", "required": ["name", "age", "tags", "note"],
          "properties": {"name": {"type": "string", "maxLength": 40}, "age": {"type": "integer"},
                         "tags": {"type": "array", "items": {"type": "string", "maxLength": 12}, "maxItems": 6},
                         "note": {"anyOf": [{"type": "string", "maxLength": 60}, {"type": "null"}]}}}
def post(body):
    req = urllib.request.Request(url + "/v1/chat/completions", json.dumps(body).encode(),
                                 {"Content-Type": "application/json"})
    t0 = time.perf_counter()
    with urllib.request.urlopen(req) as r:
        j = json.load(r)
    return time.perf_counter() - t0, j
con = free = 0.0
ntok = used = 0
for i in range(rounds):
    base = {"model": "m", "messages": [{"role": "user", "content": "Describe someone."}], "seed": i, "temperature": TEMP}
    t, j = post({**base, "max_tokens": 1000,
                 "response_format": {"type": "json_schema", "json_schema": {"name": "p", "schema": schema}}})
    n = j["usage"]["completion_tokens"]
    json.loads(j["choices"][0]["message"]["content"])  # must parse
    t2, j2 = post({**base, "max_tokens": n, "stop": ["\u0001\u0002"]})
    if j2["usage"]["completion_tokens"] != n:  # the free run met end-of-text early: not comparable
        continue
    con, free, ntok, used = con + t, free + t2, ntok + n, used + 1
print(f"structured output: {used} of {rounds} request pairs comparable, {ntok} tokens each way; "
      f"{con / ntok * 1e3:.3f} ms/token constrained, {free / ntok * 1e3:.3f} ms/token unconstrained "
      f"(prompt included in both), extra {(con - free) / ntok * 1e3:.3f} ms/token, ratio {con / free:.2f}")
PY
