#!/usr/bin/env bash
# tests/web/run.sh GOTONG BUILD_DIR: the web dashboard in a real browser
# (tests/web/dashboard.mjs): Debian's chromium driven by npm playwright-core,
# both installed by `scripts/setup.sh test`. Without them it says so loudly
# and exits 77, which ctest reports as SKIPPED (never as passed).
set -u
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
CHROMIUM=${GT_CHROMIUM:-/usr/bin/chromium}
skip() {
  echo "********************************************************************" >&2
  echo "SKIPPED: the web dashboard's browser test did not run: $*" >&2
  echo "install what it needs with: bash scripts/setup.sh test" >&2
  echo "********************************************************************" >&2
  exit 77
}
command -v node >/dev/null || skip "node (Node.js) is not installed"
[ -x "$CHROMIUM" ] || skip "no chromium at $CHROMIUM (Debian package chromium)"
[ -f "$ROOT/.cache/npm/node_modules/playwright-core/package.json" ] \
  || skip "npm playwright-core is not in .cache/npm"
# Chromium writes beside its profile too (~/.config/chromium, ~/.cache/dconf,
# ~/.pki): it gets a HOME of its own, removed at the end, so the suite leaves
# nothing in the user's.
GT_WEB_HOME=$(mktemp -d "${TMPDIR:-/tmp}/gotong-web-home.XXXXXX") || exit 1
trap 'rm -rf "$GT_WEB_HOME"' EXIT
HOME=$GT_WEB_HOME XDG_CONFIG_HOME=$GT_WEB_HOME/.config XDG_CACHE_HOME=$GT_WEB_HOME/.cache \
  node "$ROOT/tests/web/dashboard.mjs" "$1" "$2" "$CHROMIUM"
