#!/usr/bin/env bash
# recipes/worker/overlap.sh GOTONG GOTONG_RECIPE [MODEL]: how many of the
# worker-* benchmarks' questions the recipe's training rows ask word for
# word, and the model's score on the questions it saw and on those it did
# not (default MODEL: models/worker.gguf).
#
# Why: the benchmarks use seed 99 and the rows seeds 1 and 2, but a family
# with a small item space (logic; 1-digit arithmetic) asks the same question
# under any seed, so "held out by seed" is not "held out by question". The
# rows are regenerated exactly as run.sh makes them (full size: both stages),
# the benchmarks are run with their per-item results (-o), and a question
# counts as seen when the sha256 of its prompt is the sha256 of a row's
# prompt (the results' prompt_hash). Needs node (JSON and sha256).
set -euo pipefail
G=${1:?usage: overlap.sh GOTONG GOTONG_RECIPE [MODEL]} R=${2:?usage: overlap.sh GOTONG GOTONG_RECIPE [MODEL]}
M=${3:-$(dirname "$0")/../../models/worker.gguf}
command -v node >/dev/null || { echo "overlap.sh: needs node" >&2; exit 1; }
T=$(mktemp -d "${TMPDIR:-/tmp}/gt-overlap-XXXXXX")
trap 'rm -rf "$T"' EXIT
"$R" data --seed 1 --per-level 4000 --max-level 5 -o "$T/data" >/dev/null
"$R" data --seed 2 --per-level 1000 --max-level 5 --boost sort=6 -o "$T/data2" >/dev/null
for b in worker-arith-v1 worker-logic-v1 worker-sort-v1; do
    "$G" eval run -m "$M" --bench "$b" -o "$T/$b.jsonl" >/dev/null 2>&1
done
node - "$T" <<'EOF'
const fs = require('fs'), crypto = require('crypto'), dir = process.argv[2];
const lines = f => fs.readFileSync(f, 'utf8').split('\n').filter(l => l).map(l => JSON.parse(l));
const sha = s => '0x' + crypto.createHash('sha256').update(s).digest('hex');
const seen = new Set();
for (const d of ['data', 'data2']) for (const r of lines(`${dir}/${d}/data.jsonl`)) seen.add(sha(r.prompt));
for (const b of ['worker-arith-v1', 'worker-logic-v1', 'worker-sort-v1']) {
  const rs = lines(`${dir}/${b}.jsonl`), s = rs.filter(r => seen.has(r.prompt_hash));
  const u = rs.filter(r => !seen.has(r.prompt_hash)), ok = a => a.filter(r => r.checked === 1).length;
  console.log(`${b}: ${s.length} of ${rs.length} questions in the training rows; checked ${ok(s)}/${s.length} ` +
              `of those, ${ok(u)}/${u.length} of the others (all: ${ok(rs)}/${rs.length})`);
}
EOF
