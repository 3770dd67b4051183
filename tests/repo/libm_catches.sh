#!/bin/sh
# libm_catches.sh CC: tests/repo/libm.sh must fail on a library that calls
# the libm names its first pattern let through (tests/repo/libm_probe.c:
# float and long double variants, lgamma_r, j0, cexp, __exp_finite), and
# name every one (ctest repo_libm_catches).
cc=${1:?usage: libm_catches.sh CC}
here=$(cd "$(dirname "$0")" && pwd)
t=$(mktemp -d "${TMPDIR:-/tmp}/gt-libm-XXXXXX")
trap 'rm -rf "$t"' EXIT
"$cc" -O2 -c "$here/libm_probe.c" -o "$t/probe.o" || { echo "libm_catches: cannot compile the probe" >&2; exit 1; }
ar rcs "$t/libgt_probe.a" "$t/probe.o" || exit 1
if out=$("$here/libm.sh" "$t" 2>&1); then
    echo "libm_catches: libm.sh passed a library calling libm transcendentals:" >&2
    echo "$out" >&2
    exit 1
fi
missed=""
for f in asinf coshf expl lgamma_r cbrtf hypotf tgammaf erfcf j0 cexp __exp_finite; do
    echo "$out" | grep -Eq " U $f(@.*)?\$" || missed="$missed $f"
done
if [ -n "$missed" ]; then
    echo "libm_catches: libm.sh did not name:$missed" >&2
    echo "$out" >&2
    exit 1
fi
echo "libm_catches: libm.sh named all 11 calls"
