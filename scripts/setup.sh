#!/usr/bin/env bash
# Installs every Debian package gotong's build, tests and benchmarks need.
# Idempotent: when everything is already there it prints nothing and exits 0.
set -euo pipefail

pkgs=(
  pkg-config
  libsecp256k1-dev   # secp256k1 signatures with the recovery module
  libssl-dev         # SHA-256, AES-128-CTR, scrypt, randomness
  libsqlite3-dev     # the embedded ledger store
  libjansson-dev     # JSON
  libmicrohttpd-dev  # the node's HTTP server
  libcurl4-openssl-dev # the agent's HTTP client
  libpcre2-dev       # tokenizer pre-split regexes
  clang              # libFuzzer builds of the fuzz targets
  wrk                # HTTP load for bench/market
)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq >/dev/null
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "setup: done" >&2
fi

# npm tools for interop tests, installed into the ignored .cache/npm of the
# repository (pinned versions; nothing is done when they are already there).
root="$(cd "$(dirname "$0")/.." && pwd)"
npm_pkgs=(
  @foundry-rs/cast-linux-amd64@1.7.1   # tests/crypto: keystores written by cast and by gotong
)
for spec in "${npm_pkgs[@]}"; do
  name="${spec%@*}"
  [ -f "$root/.cache/npm/node_modules/$name/package.json" ] && continue
  command -v npm >/dev/null || { echo "setup: npm is needed for $name" >&2; exit 1; }
  echo "setup: npm installing $spec" >&2
  mkdir -p "$root/.cache/npm"
  npm install --prefix "$root/.cache/npm" --no-audit --no-fund --silent "$spec" >/dev/null
done
