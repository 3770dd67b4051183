#!/usr/bin/env bash
# tests/repo/tidy.sh: the house rules of docs/architecture.md, checked as a
# ratchet. For each rule it counts the places in src/ that break it and
# compares with the count recorded in tests/repo/tidy_counts.txt: a count
# that goes up fails (and the new offenders are named: file:line and the
# function); a count that goes down passes and asks for the lower number to
# be written down, so the line only ever tightens. Run by ctest.
#   tests/repo/tidy.sh            check
#   tests/repo/tidy.sh --list     print every offender of every rule
#   tests/repo/tidy.sh --update   write today's counts (only ever lower them)
# The rules:
#   function_length  a function body over MAX_FUNCTION_LINES lines (from the
#                    line of its opening brace to its closing brace)
#   line_width       a line over MAX_LINE_CHARS characters (UTF-8 counted
#                    as characters, not bytes)
#   naming           a function with external linkage whose name starts
#                    neither with gt_ (the public prefix) nor with its
#                    layer's private prefix (shared through the layer's
#                    *_impl.h / *_int.h: ag_ in agent/, mk_ in market/, wk_
#                    and fam_ in work/, demo_ in demo/); file-local helpers
#                    are static. Definitions made by a macro (MK_APPLY(...))
#                    are the macro's business and not counted.
set -u
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT" || exit 1
COUNTS=tests/repo/tidy_counts.txt
MAX_FUNCTION_LINES=80
MAX_LINE_CHARS=120
mode=${1:-check}

# The C sources under folder $1, sorted so the lists compare from run to run.
sources() { find "$1" -name '*.c' -o -name '*.h' | LC_ALL=C sort; }

# One line per offence: RULE<TAB>FILE:LINE<TAB>what. Functions are found by
# their shape in this code base's style: a signature starting in column 0,
# the opening brace at the end of its last line, the closing brace alone in
# column 0.
offences() {
  local files
  files=$(sources "$1")
  [ -n "$files" ] || { echo "tidy: no sources under $1" >&2; return 1; }
  # shellcheck disable=SC2086
  LC_ALL=C awk -v maxf="$MAX_FUNCTION_LINES" -v maxw="$MAX_LINE_CHARS" '
    FNR == 1 { sig = ""; infn = 0 }
    {
      s = $0; cont = gsub(/[\200-\277]/, "", s)
      if (length($0) - cont > maxw)
        printf "line_width\t%s:%d\t%d characters\n", FILENAME, FNR, length($0) - cont
    }
    infn {
      if ($0 ~ /^}/) {
        n = FNR - start + 1
        if (n > maxf) printf "function_length\t%s:%d\t%s: %d lines\n", FILENAME, start, name, n
        infn = 0
      }
      next
    }
    sig == "" && /^[A-Za-z_]/ && !/^(typedef|struct|union|enum|extern|#)/ && !/;[ \t]*$/ && !/=/ { sig = $0; sigline = FNR }
    sig != "" && FNR > sigline { sig = sig " " $0 }
    sig != "" && /;[ \t]*(\/\*.*\*\/)?[ \t]*$/ { sig = "" ; next }
    sig != "" && /\{[ \t]*$/ {
      if (sig ~ /\(/) {
        head = sig; gsub(/__attribute__\(\([^)]*\)\)/, "", head); sub(/\(.*/, "", head)
        nf = split(head, w, /[ \t*]+/); name = w[nf]
        start = FNR; infn = 1
        priv = FILENAME ~ /^src\/agent\// ? "^ag_" : FILENAME ~ /^src\/market\// ? "^mk_" : \
               FILENAME ~ /^src\/work\// ? "^(wk|fam)_" : FILENAME ~ /^src\/demo\// ? "^demo_" : "^gt_"
        if (sig !~ /(^|[ \t)])(static|inline)[ \t]/ && name !~ /^gt_/ && name !~ priv && name !~ /^[A-Z0-9_]+$/ && name != "main")
          printf "naming\t%s:%d\t%s has external linkage but neither gt_ nor its layer'"'"'s private prefix\n", FILENAME, sigline, name
      }
      sig = ""
    }
  ' $files
}

# The checker must see what it is for: a made-up source with one offence of
# each rule (and look-alikes that are not offences) gives one of each.
selftest() {
  local t; t=$(mktemp -d) || return 1
  mkdir -p "$t/src/cli"
  {
    echo "/* a static helper may be named freely; a prototype is no definition */"
    echo "static int helper(int x) {"
    echo "    return x;"
    echo "}"
    echo "int unprefixed(void);"
    echo "int unprefixed(void) {"
    echo "    return 0;"
    echo "}"
    echo "int gt_cli_long(int a,"
    echo "                int b) {"
    for _ in $(seq 1 79); do echo "    a++;"; done
    echo "}"
    printf '/* %s */\n' "$(printf '…%.0s' $(seq 1 110))"   # 116 characters, 336 bytes: not too wide
    printf '/* %s */\n' "$(printf 'x%.0s' $(seq 1 115))"   # 121 characters
  } > "$t/src/cli/x.c"
  local got; got=$(cd "$t" && offences src | awk -F'\t' '{ print $1 }' | LC_ALL=C sort | tr '\n' ' ')
  rm -rf "$t"
  [ "$got" = "function_length line_width naming " ] && return 0
  echo "tidy: self-test: expected one offence of each rule, got: $got" >&2
  return 1
}
selftest || exit 1

all=$(offences src) || exit 1
if [ "$mode" = "--list" ]; then printf '%s\n' "$all"; exit 0; fi
count() { printf '%s\n' "$all" | awk -F'\t' -v r="$1" '$1 == r' | grep -c . ; }
rules="function_length line_width naming"

if [ "$mode" = "--update" ]; then
  {
    echo "# Offences of the house rules in src/ (tests/repo/tidy.sh); the tidy test"
    echo "# fails when a count goes up. Lower a number when you fix offences;"
    echo "# never raise one."
    for r in $rules; do printf '%s %d\n' "$r" "$(count "$r")"; done
  } > "$COUNTS"
  cat "$COUNTS"; exit 0
fi

[ -f "$COUNTS" ] || { echo "tidy: $COUNTS is missing; run tests/repo/tidy.sh --update" >&2; exit 1; }
fail=0
for r in $rules; do
  want=$(awk -v r="$r" '$1 == r { print $2 }' "$COUNTS")
  [ -n "$want" ] || { echo "tidy: $COUNTS has no count for $r" >&2; fail=1; continue; }
  have=$(count "$r")
  if [ "$have" -gt "$want" ]; then
    echo "tidy: $r: $have offences, the recorded limit is $want; the offences (fix the new ones):" >&2
    printf '%s\n' "$all" | awk -F'\t' -v r="$r" '$1 == r { printf "  %s  %s\n", $2, $3 }' >&2
    fail=1
  elif [ "$have" -lt "$want" ]; then
    echo "tidy: $r: $have offences, fewer than the recorded $want: write $have in $COUNTS (tests/repo/tidy.sh --update)"
  else
    echo "tidy: $r: $have offences (limit $want)"
  fi
done
exit $fail
