#!/usr/bin/env bash
# tests/cli/completion.sh GOTONG: the bash completion `gotong completion
# bash` prints (ctest cli_completion). The script is sourced in a bash that
# completes as an interactive one would (COMP_WORDS/COMP_CWORD and the
# _gotong function that `complete -p gotong` names), and checked on
# commands, subcommands, options, option values and global options. Then the
# script is checked against the commands themselves, so it cannot drift:
# every command of `gotong --help` is offered, every option offered for a
# command path is named in the --help of that path (or of a path above it),
# and every path's --help exits 0.
set -u
cli=${1:?usage: completion.sh GOTONG}
[ -x "$cli" ] || { echo "completion: $cli is not an executable" >&2; exit 1; }
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fails=0 checks=0

fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

"$cli" completion bash >"$tmp/gotong.bash" || { echo "FAIL: gotong completion bash exited $?" >&2; exit 1; }
# shellcheck disable=SC1091
source "$tmp/gotong.bash" || { echo "FAIL: the script does not source" >&2; exit 1; }
checks=$((checks + 1))
[ "$(complete -p gotong 2>&1)" = "complete -F _gotong gotong" ] || fail "complete -p gotong: $(complete -p gotong 2>&1)"

# The completions of a command line whose last word is being typed.
comp() {
    COMP_WORDS=("$@")
    COMP_CWORD=$(($# - 1))
    COMP_LINE="$*"
    COMP_POINT=${#COMP_LINE}
    COMPREPLY=()
    _gotong
    echo "${COMPREPLY[*]}"
}

# expect "WANT" WORD...: the completions are exactly WANT (sorted words).
expect() {
    local want=$1 got
    shift
    checks=$((checks + 1))
    got=$(comp "$@" | tr ' ' '\n' | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//')
    [ "$got" = "$want" ] || fail "complete '$*': got '$got', want '$want'"
}

# has "WORD" WORD...: the completions include WORD.
has() {
    local want=$1 got
    shift
    checks=$((checks + 1))
    got=" $(comp "$@") "
    [[ $got == *" $want "* ]] || fail "complete '$*': '$want' not in '$got'"
}

# commands
expect "wallet" gotong wal
expect "send serve stake" gotong s
has completion gotong ""
has run gotong ""
has task gotong ""
# subcommands, at every depth
expect "export import list new show sign verify" gotong wallet ""
expect "sign" gotong wallet si
expect "export job verify" gotong data ""
expect "post" gotong data job po
expect "claim" gotong task cl
expect "register" gotong agent reg
expect "benches" gotong eval be
expect "bash" gotong completion ""
# options, by the command path, past options with values and positional words
expect "--model" gotong run --mo
expect "--temp" gotong run -m model.gguf -p hi --te
expect "--top-k --top-logits --top-p" gotong run --top
expect "--batches" gotong data job post --ba
expect "--manifest" gotong data verify ds/ --root 0xabc --ma
expect "--slot --slots" gotong task submit 0xabc --slo
expect "--stake" gotong agent register --st
expect "--from" gotong ledger log --fr
expect "--private-key --private-key-file" gotong wallet export 0xabc --priv
expect "--tensors" gotong model info m.gguf --te
# train, tokenizer and chat: on the one parser, so completed like the rest
expect "--checkpoint --checkpoint-every" gotong train --data x.txt --che
expect "--kv-heads" gotong train --kv
expect "--out" gotong train -o m.gguf --ou
expect "import train" gotong tokenizer ""
expect "--config" gotong tokenizer import --tokenizer-json t.json --con
expect "--vocab-size" gotong tokenizer train --corpus c.txt --voc
expect "--temp --template" gotong chat -m m.gguf --te
has "--step" gotong demo --st
has "--help" gotong task post --he
# a value is not mistaken for a subcommand: `--home list` leaves `wallet` the path
expect "list" gotong --home list wallet li
expect "new" gotong wallet --home x n
# global options before the command
has "--home" gotong --h
has "--version" gotong --
# an option's value: files
touch "$tmp/model-a.gguf" "$tmp/model-b.gguf"
expect "$tmp/model-a.gguf $tmp/model-b.gguf" gotong run --model "$tmp/model-"
expect "$tmp/model-a.gguf" gotong --home "$tmp/model-a"
# a positional argument where no subcommand is left: files too
expect "$tmp/model-b.gguf" gotong model info "$tmp/model-b"

# The script against the commands: every command of `gotong --help`...
subs_top=" $(_gotong_subs "") "
while read -r name _; do
    checks=$((checks + 1))
    [[ $subs_top == *" $name "* ]] || fail "command $name of gotong --help is not completed"
done < <("$cli" --help | sed -n '/^commands:/,/^$/p' | sed '1d;/^$/d')
# ...and every path's options are in its help (or a help above it).
while IFS= read -r line; do
    path=$(sed -E 's/^ *"([^"]*)"\).*/\1/' <<<"$line")
    opts=$(sed -E 's/.*echo "([^"]*)".*/\1/' <<<"$line")
    [ -n "$path" ] || continue
    help=""
    p=$path
    while [ -n "$p" ]; do
        # shellcheck disable=SC2086
        h=$("$cli" $p --help 2>&1) || fail "gotong $p --help exited $?"
        help+=" $h"
        [[ $p == *" "* ]] && p=${p% *} || p=""
    done
    for o in $opts; do
        checks=$((checks + 1))
        [[ $o == -h || $o == --help ]] && continue
        grep -qE -- "(^|[^-[:alnum:]])$o([^-[:alnum:]]|\$)" <<<"$help" || fail "gotong $path offers $o, which its --help does not name"
    done
done < <(sed -n '/^_gotong_opts() {/,/^}/p' "$tmp/gotong.bash" | grep -E '^    "[^"]+"\)')

echo "completion: $checks checks, $fails failed"
[ "$fails" -eq 0 ]
