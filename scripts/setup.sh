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
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done" >&2
