# scripts/unicode_data.sh: sourced by setup.sh and unicode_tables.sh.
# gt_unicode_data DIR: Debian's unicode-data 15.0.0-1 (sha256-pinned), its UCD
# files unpacked into DIR/ucd (NormalizationTest.txt decompressed there: the
# normaliser's conformance test reads it). Downloads, never installs: no root.
GT_UNICODE_DEB=unicode-data_15.0.0-1_all.deb
GT_UNICODE_DEB_SHA=5efef23bbb1c6a133ecbdd63a2cfa07159ccacf5466a49e2426101c5ecd691fc
gt_unicode_data() {
  local dir=$1
  [ -f "$dir/ucd/NormalizationTest.txt" ] && [ -f "$dir/ucd/UnicodeData.txt" ] && return 0
  mkdir -p "$dir"
  if [ ! -f "$dir/$GT_UNICODE_DEB" ]; then
    command -v apt-get >/dev/null || { echo "unicode-data: apt-get not found (Debian needed)" >&2; return 1; }
    echo "setup: downloading Debian's unicode-data 15.0.0-1 (Unicode's data files: the NFKC conformance test)" >&2
    (cd "$dir" && apt-get download -qq unicode-data=15.0.0-1 >/dev/null 2>&1) \
      || { echo "setup: error: apt-get download unicode-data=15.0.0-1 failed (Debian mirror reachable?)" >&2; return 1; }
  fi
  [ "$(sha256sum "$dir/$GT_UNICODE_DEB" | cut -d' ' -f1)" = "$GT_UNICODE_DEB_SHA" ] \
    || { echo "setup: error: $dir/$GT_UNICODE_DEB: sha256 differs from the pin; delete it and run again" >&2; return 1; }
  local tmp
  tmp=$(mktemp -d)
  dpkg-deb -x "$dir/$GT_UNICODE_DEB" "$tmp"
  rm -rf "$dir/ucd"
  mv "$tmp/usr/share/unicode" "$dir/ucd"
  bunzip2 -f "$dir/ucd/NormalizationTest.txt.bz2"
  rm -rf "$tmp"
}
