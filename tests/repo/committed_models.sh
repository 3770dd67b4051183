#!/usr/bin/env bash
# tests/repo/committed_models.sh: every model file the repository tracks
# (models/*, and any *.gguf anywhere) must be one gotong trained itself and can
# make again: a row of models/README.md names it with its sha256 and the recipe
# script that reproduces it; the script exists, the recipe's README names the
# same hash, and the GGUF says gotong's trainer wrote it (general.name
# gotong-train). A file that fails any of these is named with what is missing.
# Run by ctest (repo_models).
set -u
# shellcheck source=tests/repo/in_checkout.sh
source "$(dirname "$0")/in_checkout.sh"
fail=0
n=0
bad() { echo "FAIL: $1" >&2; fail=1; }
while IFS= read -r f; do
  [ "$f" = models/README.md ] && continue
  n=$((n + 1))
  name=$(basename "$f")
  row=$(grep -E "^\| *${name//./\\.} *\|" models/README.md | head -1)
  [ -n "$row" ] || { bad "$f: no row in models/README.md (its sha256 and the recipe that makes it)"; continue; }
  want=$(printf '%s' "$row" | awk -F'|' '{gsub(/ /, "", $3); print $3}')
  recipe=$(printf '%s' "$row" | awk -F'|' '{gsub(/ /, "", $4); print $4}')
  got=$(sha256sum "$f" | cut -d' ' -f1)
  [ "$got" = "$want" ] || bad "$f: sha256 $got, models/README.md says $want"
  [ -f "$recipe" ] || bad "$f: its recipe $recipe does not exist"
  grep -q "$want" "$(dirname "$recipe")/README.md" 2>/dev/null ||
    bad "$f: $(dirname "$recipe")/README.md does not name its sha256 $want"
  case "$f" in
    *.gguf) LC_ALL=C grep -a -q 'general\.name.*gotong-train' "$f" ||
              bad "$f: its general.name is not gotong-train (not written by gotong's trainer)" ;;
  esac
done < <(git ls-files models; git ls-files '*.gguf' | grep -v '^models/')
[ "$n" -gt 0 ] || bad "no model file found under models/ (the demo's worker.gguf is expected)"
[ $fail = 0 ] && echo "ok: $n committed model file(s), each with its recipe and hash"
exit $fail
