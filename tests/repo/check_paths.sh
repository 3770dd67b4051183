#!/usr/bin/env bash
# tests/repo/check_paths.sh: fails when a tracked file names a path outside the
# repository: the developers' reference folder beside the checkout (a user's
# clone has nothing beside it), or an absolute path into this checkout's parent
# folder or the home folder (another machine's checkout). Run by ctest.
set -u
# shellcheck source=tests/repo/in_checkout.sh
source "$(dirname "$0")/in_checkout.sh"
# The folder beside the checkout, spelt so that this file does not name it.
beside='\.\./'"shared"
parent=$(dirname "$ROOT")
# An absolute path: at the start of a line or after a character that cannot
# end a relative path ("src/work/x" is relative, " /work/x" is absolute).
abs() { printf '(^|[^A-Za-z0-9_.~-])%s/' "$(printf '%s' "$1" | sed 's/[.[\*^$]/\\&/g')"; }
pats=("$beside")
# A checkout right in the temporary folder (`cd /tmp && git clone ...`) has
# that folder as its parent, and examples in the docs rightly write /tmp/...:
# the parent's pattern is for a checkout's own folder, not a shared one.
tmpdir="${TMPDIR:-/tmp}"
case "$parent" in
/ | /tmp | /var/tmp | "${tmpdir%/}") parent=/ ;;
esac
[ "$parent" != "/" ] && pats+=("$(abs "$parent")")
[ -n "${HOME:-}" ] && [ "$HOME" != "/" ] && pats+=("$(abs "$HOME")")
# The patterns must catch what they are for and spare relative paths.
bad_beside="see ../"'shared/DESIGN.md'
printf '%s\n' "$bad_beside" | grep -qE "$beside" || { echo "pattern $beside misses '$bad_beside'" >&2; exit 1; }
if [ "$parent" != "/" ]; then
  printf '%s\n' "open $parent/x.gguf" | grep -qE "$(abs "$parent")" || { echo "pattern misses $parent/x" >&2; exit 1; }
  printf '%s\n' "src$parent/x.c" | grep -qE "$(abs "$parent")" && { echo "pattern takes src$parent/x.c" >&2; exit 1; }
fi
fail=0
for p in "${pats[@]}"; do
  hits=$(git grep -nIE "$p" -- . ':!tests/repo/check_paths.sh' 2>/dev/null)
  if [ -n "$hits" ]; then
    echo "tracked files name a path outside the repository (pattern $p):" >&2
    echo "$hits" >&2
    fail=1
  fi
done
[ $fail = 0 ] && echo "no tracked file names a path outside the repository (${#pats[@]} patterns)" >&2
exit $fail
