# tests/repo/in_checkout.sh: sourced by the checks that read git's list of
# tracked files: sets ROOT to the repository, moves there, and skips (ctest's
# 77) when it is not a git checkout, so there is no such list.
ROOT="$(cd "$(dirname "${BASH_SOURCE[1]}")/../.." && pwd)"
cd "$ROOT" || exit 1
if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  echo "SKIPPED: $ROOT is not a git checkout, so there is no list of tracked files to check" >&2
  exit 77
fi
