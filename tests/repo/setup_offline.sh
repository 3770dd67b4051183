#!/usr/bin/env bash
# tests/repo/setup_offline.sh: scripts/setup.sh, when the npm registry cannot
# be reached, stops with exit 1 and a message that says what is missing and
# how to fetch it by hand, and leaves nothing half-written behind. Runs a copy
# of the script in an empty folder (so the repository's own .cache/ is not
# touched) with npm pointed at a closed local port. Run by ctest.
set -u
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/scripts"
cp "$ROOT/scripts/setup.sh" "$tmp/scripts/"
out=$(npm_config_registry=http://127.0.0.1:9/ npm_config_fetch_retries=0 npm_config_cache="$tmp/npm-cache" \
      bash "$tmp/scripts/setup.sh" run 2>&1)
rc=$?
echo "$out" >&2
fail=0
[ $rc -eq 1 ] || { echo "expected exit 1, got $rc" >&2; fail=1; }
for want in "node-llama-cpp@3.22.1" "is the npm registry reachable" "by hand"; do
  case "$out" in *"$want"*) ;; *) echo "the message does not say: $want" >&2; fail=1 ;; esac
done
if [ -n "$(find "$tmp/.cache" -name '*.gguf*' 2>/dev/null)" ]; then
  echo "a vocabulary file was left behind without its checks" >&2; fail=1
fi
[ $fail = 0 ] && echo "setup refuses clearly when npm is unreachable" >&2
exit $fail
