#!/usr/bin/env bash
# tests/cli/readme.sh GOTONG README.md: the README's command blocks, run as
# a reader would run them, so the README cannot rot (ctest cli_readme).
#
# Every ```sh block is run, in order, in one shell, against a fresh home, a
# fresh scratch folder and the gotong under test (first on PATH); a command
# that exits non-zero fails the test, naming the block, the line and what
# it printed. What the test changes in the text, and why:
#   - a block holding `make run` or `make test` is skipped: those are the
#     build and the test suite themselves (ctest runs both's parts);
#   - a line `make ...` is skipped: the build is the one being tested;
#   - the blocks run in a scratch folder that stands for the repository's
#     root: .cache/ links to the repository's, build/ holds the gotong under
#     test;
#   - /tmp/ becomes the test's own scratch folder, so parallel runs and
#     earlier runs do not meet;
#   - a server started in the background (`gotong node|serve ... &`) listens
#     on a port the kernel picks (--listen HOST:0; `gotong node` with no
#     --listen gets 127.0.0.1:0 in place of its default 127.0.0.1:8645):
#     the later lines' HOST:PORT of it become the port it printed, and a
#     node's URL is exported as GOTONG_NODE, which the commands that talk
#     to a node without --node use. Two suites at once (or a node a reader
#     left running) then never meet on a port;
#   - placeholders a reader fills in from what an earlier command printed:
#     0xYour... (an address: the last one `wallet new` or `agent register`
#     printed) and 0xTASK... (a task id: the last 64-hex id `task post`
#     printed). A placeholder with no value yet fails the test.
# What the commands print is checked too: the table below names, for a
# command line (an extended regex on the line as run), what its output must
# show (an extended regex): the balances after the first transfer and after
# the by-hand walk-through, the verify's replay, the dispute's outcome, the
# tokenizer's and the trainer's figures. Each entry must meet its command
# at least once: a README that stops running one fails, naming it, so an
# edit of the README comes with an edit of the table.
# The README is read at run time, so the test follows every edit of it.
# The script's own variables are named _rd_*: the blocks set their own
# (T=, N=, P=) in the same shell.
set -u
_rd_cli=${1:?usage: readme.sh GOTONG README.md}
_rd_readme=${2:?usage: readme.sh GOTONG README.md}
[ -x "$_rd_cli" ] || { echo "readme: $_rd_cli is not an executable" >&2; exit 1; }
[ -r "$_rd_readme" ] || { echo "readme: cannot read $_rd_readme" >&2; exit 1; }
_rd_readme=$(cd "$(dirname "$_rd_readme")" && pwd)/$(basename "$_rd_readme")
_rd_cli=$(cd "$(dirname "$_rd_cli")" && pwd)/$(basename "$_rd_cli")

_rd_T=$(mktemp -d) || exit 1
cleanup() {
  local _rd_p
  for _rd_p in $(jobs -p); do kill "$_rd_p" 2>/dev/null; wait "$_rd_p" 2>/dev/null; done
  rm -rf "$_rd_T"
}
trap cleanup EXIT
mkdir -p "$_rd_T/home" "$_rd_T/tmp" "$_rd_T/bin" "$_rd_T/work"
ln -s "$_rd_cli" "$_rd_T/bin/gotong"
# The reader stands in the repository's root after `make build`: relative
# paths into .cache/ (the fixtures scripts/setup.sh fetched) resolve, and
# build/ is the gotong under test; what the blocks write stays in $_rd_T.
_rd_root=$(dirname "$_rd_readme")
[ -d "$_rd_root/.cache" ] && ln -s "$_rd_root/.cache" "$_rd_T/work/.cache"
ln -s "$_rd_T/bin" "$_rd_T/work/build"
export HOME="$_rd_T/home" PATH="$_rd_T/bin:$PATH"
unset GOTONG_HOME GOTONG_NODE
cd "$_rd_T/work" || exit 1

# The blocks, one file each ($_rd_T/block.N), with the line each starts on.
awk -v dir="$_rd_T" '
  /^```sh[ \t]*$/ { n++; f = dir "/block." n; printf "" > f; print n, NR + 1 > (dir "/blocks"); inb = 1; next }
  /^```/ { inb = 0; next }
  inb { print >> f }
' "$_rd_readme"
[ -s "$_rd_T/blocks" ] || { echo "readme: no \`\`\`sh block in $_rd_readme" >&2; exit 1; }

# The expectations: COMMAND-ERE <tab> OUTPUT-ERE, one a line.
_rd_expect=$(cat <<'EOF_EXPECT'
^gotong init 	windows +dispute 600 s, vote 600 s, reveal 600 s
^gotong mint 	^mint 0x[0-9a-f]{64} applied in block [0-9]+$
^gotong send 	^transfer 0x[0-9a-f]{64} applied in block 2$
^gotong balance[[:space:]]*(#.*)?$	^0x[0-9a-fA-F]{40}  balance 98\.5 GOT  staked 0 GOT  escrow 0 GOT
^gotong ledger log	"type":"transfer".*"to":"0x000000000000000000000000000000000000dEaD","amount":1500000
^gotong ledger verify	^ok: replayed 2 blocks and 2 actions from genesis
^gotong tokenizer train 	^wrote bpe\.gguf: 416 tokens
^gotong train --data 	^wrote tiny\.gguf: [0-9]+ parameters, steps 1\.\.10 of 10, loss
^gotong train --from tiny\.gguf 	^wrote tuned\.gguf: [0-9]+ parameters, steps 1\.\.4 of 4, loss
^gotong agent register --name alice 	registered as "alice": skills complete, price 1 GOT, endpoint https://alice\.example; staked 10 GOT$
^gotong agent register --name val 	registered as "val".*; staked 20 GOT$
^gotong task (claim|submit|verify|settle|dispute) 	^task_(claim|submit|verify|settle|dispute) 0x[0-9a-f]{64} applied in block
^gotong task vote 	^dispute_vote 0x[0-9a-f]{64} applied in block
^gotong balance \$W	^0x[0-9a-fA-F]{40}  balance 95 GOT  staked 10 GOT  escrow 0 GOT  unbonding 0 GOT
^gotong task show \$T2	status complete
^gotong task show \$T2	^slot 0 +paid
^gotong task show \$T2	dispute worker-won: for the worker 20 GOT, against 0 GOT
EOF_EXPECT
)
declare -a _rd_xcmd=() _rd_xout=() _rd_xmet=()
while IFS=$'\t' read -r _rd_c _rd_o; do
  [ -n "$_rd_c" ] || continue
  _rd_xcmd+=("$_rd_c") _rd_xout+=("$_rd_o") _rd_xmet+=(0)
done <<< "$_rd_expect"

# Checks the last command's output ($_rd_T/out, trimmed of its indentation)
# against every expectation whose command pattern matches line $1; prints
# what is missing and returns 1 when something is.
check_output() {
  local _rd_i _rd_bad=0
  for _rd_i in "${!_rd_xcmd[@]}"; do
    [[ "$1" =~ ${_rd_xcmd[$_rd_i]} ]] || continue
    _rd_xmet[$_rd_i]=1
    if ! sed -E 's/^[[:space:]]+//' "$_rd_T/out" | grep -qE -- "${_rd_xout[$_rd_i]}"; then
      echo "README line $_rd_lineno printed no line matching /${_rd_xout[$_rd_i]}/: $1" >&2
      _rd_bad=1
    fi
  done
  return $_rd_bad
}

# Starts the background server line $1 (its output to $2) on a port the
# kernel picks: a `--listen HOST:PORT` becomes HOST:0, a `gotong node`
# without one gets --listen 127.0.0.1:0 (its default port is 8645). Waits
# for its "listening on http://HOST:PORT" (10 s at most, as a reader
# would), then maps the address the README wrote to the one it got, for
# the lines after (_rd_addr_from/_rd_addr_to), and exports a node's URL as
# GOTONG_NODE. Returns 1, saying why, when it printed no address.
declare -a _rd_addr_from=() _rd_addr_to=()
start_server() {
  local _rd_l=$1 _rd_want="" _rd_got=""
  if [[ "$_rd_l" =~ --listen[[:space:]]+([^[:space:]]+):([0-9]+) ]]; then
    _rd_want="${BASH_REMATCH[1]}:${BASH_REMATCH[2]}"
    _rd_l=${_rd_l/"--listen ${_rd_want}"/"--listen ${BASH_REMATCH[1]}:0"}
  elif [[ "$_rd_l" =~ (^|[[:space:]])gotong[[:space:]]+node([[:space:]]|$) ]]; then
    _rd_want="127.0.0.1:8645"
    _rd_l=${_rd_l/gotong node/gotong node --listen 127.0.0.1:0}
  fi
  eval "$_rd_l" >"$2" 2>&1
  for _ in $(seq 1 50); do grep -q 'listening on' "$2" && break; sleep 0.2; done
  [ -n "$_rd_want" ] || return 0   # no address of its own in the README: nothing to map
  _rd_got=$(grep -oE 'listening on http://[^[:space:]]+' "$2" | head -1)
  _rd_got=${_rd_got#listening on http://}
  if [ -z "$_rd_got" ]; then
    echo "README line $_rd_lineno: the server printed no 'listening on' in 10 s: $1" >&2
    sed 's/^/    /' "$2" >&2
    return 1
  fi
  echo "    (listening on $_rd_got: the README's $_rd_want stands for it below)"
  _rd_addr_from+=("$_rd_want") _rd_addr_to+=("$_rd_got")
  [[ "$_rd_l" =~ gotong[[:space:]]+node ]] && export GOTONG_NODE="http://$_rd_got"
  return 0
}

_rd_last_addr="" _rd_last_task="" _rd_ran=0 _rd_fail=0 _rd_bg=0
while read -r _rd_n _rd_first; do
  if grep -qE '^[[:space:]]*make[[:space:]]+(run|test)([[:space:]]|$)' "$_rd_T/block.$_rd_n"; then
    echo "block $_rd_n (README line $_rd_first): skipped (make run / make test: the build and the tests themselves)"
    continue
  fi
  echo "block $_rd_n (README line $_rd_first):"
  _rd_lineno=$((_rd_first - 1)) _rd_cmd=""
  while IFS= read -r _rd_raw || [ -n "$_rd_raw" ]; do
    _rd_lineno=$((_rd_lineno + 1))
    _rd_cmd+="$_rd_raw"
    if [[ "$_rd_cmd" == *\\ ]]; then _rd_cmd="${_rd_cmd%\\} "; continue; fi   # a continued line
    _rd_line=$_rd_cmd _rd_cmd=""
    [[ "$_rd_line" =~ ^[[:space:]]*(#|$) ]] && continue
    if [[ "$_rd_line" =~ ^[[:space:]]*make[[:space:]] ]]; then echo "  skip  $_rd_line  (the build under test stands in)"; continue; fi
    _rd_line=${_rd_line//\/tmp\//$_rd_T\/tmp\/}
    for _rd_i in "${!_rd_addr_from[@]}"; do
      _rd_line=${_rd_line//"${_rd_addr_from[$_rd_i]}"/"${_rd_addr_to[$_rd_i]}"}
    done
    if [[ "$_rd_line" == *0xYour* ]]; then
      [ -n "$_rd_last_addr" ] || { echo "README line $_rd_lineno: 0xYour... but no address was printed before it: $_rd_raw" >&2; _rd_fail=1; break; }
      _rd_line=$(printf '%s' "$_rd_line" | sed -E "s/0xYour[A-Za-z0-9]*/$_rd_last_addr/g")
    fi
    if [[ "$_rd_line" == *0xTASK* ]]; then
      [ -n "$_rd_last_task" ] || { echo "README line $_rd_lineno: 0xTASK... but no task id was printed before it: $_rd_raw" >&2; _rd_fail=1; break; }
      _rd_line=$(printf '%s' "$_rd_line" | sed -E "s/0xTASK[A-Za-z0-9]*/$_rd_last_task/g")
    fi
    echo "  \$ $_rd_line"
    if [[ "$_rd_line" =~ \&[[:space:]]*(#.*)?$ ]]; then   # a server the next lines talk to
      _rd_bg=$((_rd_bg + 1))
      if ! start_server "$_rd_line" "$_rd_T/bg.$_rd_bg.log"; then _rd_fail=1; break; fi
      _rd_ran=$((_rd_ran + 1))
      continue
    fi
    eval "$_rd_line" >"$_rd_T/out" 2>"$_rd_T/err" </dev/null
    _rd_rc=$?
    sed 's/^/    /' "$_rd_T/out"
    _rd_ran=$((_rd_ran + 1))
    if [ $_rd_rc -ne 0 ]; then
      echo "README line $_rd_lineno failed (exit $_rd_rc): $_rd_raw" >&2
      sed 's/^/    /' "$_rd_T/err" >&2
      _rd_fail=1
      break
    fi
    _rd_trim=${_rd_line#"${_rd_line%%[![:space:]]*}"}
    if ! check_output "$_rd_trim"; then _rd_fail=1; break; fi
    if [[ "$_rd_line" == *"wallet new"* || "$_rd_line" == *"agent register"* ]]; then
      _rd_a=$(grep -oE '0x[0-9a-fA-F]{40}' "$_rd_T/out" | head -1); [ -n "$_rd_a" ] && _rd_last_addr=$_rd_a
    fi
    if [[ "$_rd_line" == *"task post"* ]]; then
      _rd_a=$(grep -oE '0x[0-9a-f]{64}' "$_rd_T/out" | head -1); [ -n "$_rd_a" ] && _rd_last_task=$_rd_a
    fi
  done < "$_rd_T/block.$_rd_n"
  [ $_rd_fail -eq 0 ] || break
done < "$_rd_T/blocks"

if [ $_rd_fail -ne 0 ]; then exit 1; fi
if [ $_rd_ran -eq 0 ]; then echo "readme: no command of the README ran (all skipped?)" >&2; exit 1; fi
for _rd_i in "${!_rd_xcmd[@]}"; do
  if [ "${_rd_xmet[$_rd_i]}" = 0 ]; then
    echo "readme: no README command matched /${_rd_xcmd[$_rd_i]}/, whose output the test checks for" \
         "/${_rd_xout[$_rd_i]}/: update the table in tests/cli/readme.sh with the README" >&2
    _rd_fail=1
  fi
done
if [ $_rd_fail -ne 0 ]; then exit 1; fi
echo "readme: $_rd_ran commands of the README ran and exited 0, and printed what ${#_rd_xcmd[@]} checks expect"
