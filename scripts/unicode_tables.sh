#!/usr/bin/env bash
# scripts/unicode_tables.sh: regenerates src/base/unicode_tables.c (the tables
# of the NFKC normaliser and the confusables skeleton, src/base/unicode_norm.c)
# from Unicode's data files at a pinned version, all from the Debian registry:
#   unicode-data 15.0.0-1 (binary package: UnicodeData.txt, CaseFolding.txt,
#     DerivedNormalizationProps.txt, DerivedCoreProperties.txt, PropList.txt);
#   the source of icu 72.1-3+deb12u1 (Unicode 15.0), for UTS #39's
#     confusables.txt, which no Debian binary package ships.
# Both are sha256-pinned and unpacked under .cache/unicode. Run it only to move
# to another Unicode version (then change the pins); the output is committed.
# Needs apt-get (no root: packages are downloaded, not installed) and python3.
set -euo pipefail
shopt -s inherit_errexit
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DIR="$ROOT/.cache/unicode"
die() { echo "unicode_tables: error: $*" >&2; exit 1; }
# shellcheck source=scripts/unicode_data.sh
source "$ROOT/scripts/unicode_data.sh"
ICU_ORIG=icu_72.1.orig.tar.gz
ICU_SHA=a2d2d38217092a7ed56635e34467f92f976b370e20182ad325edea6681a71d68

gt_unicode_data "$DIR"
if [ ! -f "$DIR/confusables.txt" ]; then
  tmp=$(mktemp -d)
  mkdir -p "$tmp/sp" "$tmp/lists/partial"
  printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm\nComponents: main\n%s\n' \
    'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' >"$tmp/sp/src.sources"
  opts=(-o Dir::Etc::sourcelist=/dev/null -o "Dir::Etc::sourceparts=$tmp/sp" -o "Dir::State::Lists=$tmp/lists")
  apt-get "${opts[@]}" update -qq >/dev/null 2>&1 || die "apt-get update (deb-src of bookworm) failed"
  (cd "$tmp" && apt-get "${opts[@]}" source --download-only -qq icu=72.1-3+deb12u1 >/dev/null 2>&1) \
    || die "apt-get source icu=72.1-3+deb12u1 failed"
  [ "$(sha256sum "$tmp/$ICU_ORIG" | cut -d' ' -f1)" = "$ICU_SHA" ] || die "$ICU_ORIG: sha256 differs from the pin"
  tar -xzf "$tmp/$ICU_ORIG" -C "$tmp" icu/source/data/unidata/confusables.txt
  mv "$tmp/icu/source/data/unidata/confusables.txt" "$DIR/confusables.txt"
  rm -rf "$tmp"
fi
python3 "$ROOT/scripts/gen_unicode_tables.py" "$DIR/ucd" "$DIR/confusables.txt" >"$ROOT/src/base/unicode_tables.c.tmp"
mv "$ROOT/src/base/unicode_tables.c.tmp" "$ROOT/src/base/unicode_tables.c"
echo "unicode_tables: wrote src/base/unicode_tables.c" >&2
