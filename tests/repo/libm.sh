#!/bin/sh
# libm.sh: no room's library calls a libm transcendental (exp, log, pow, the
# trigonometric and hyperbolic functions...). Their last bits differ between
# libm versions and CPUs, and verification re-runs work on another machine,
# so what a verdict or an output depends on takes src/infer/dmath.h's fixed
# sequences (and the kernels' own exp) instead. Reads the undefined symbols of
# every libgt_*.a in the build folder given (ctest repo_libm), so a call
# added anywhere, in any room, fails here naming its object file.
# Usage: tests/repo/libm.sh BUILD_DIR
build=${1:?usage: libm.sh BUILD_DIR}
set -- "$build"/libgt_*.a
if [ ! -e "$1" ]; then
    echo "libm: no libgt_*.a in $build (build first)" >&2
    exit 1
fi
command -v nm >/dev/null || { echo "libm: nm (binutils) not found" >&2; exit 1; }
names='exp|expf|exp2|exp2f|expm1|expm1f|exp10|log|logf|log2|log2f|log10|log10f|log1p|log1pf|pow|powf'
names="$names|sin|sinf|cos|cosf|tan|tanf|sincos|sincosf|asin|acos|atan|atan2|atanf|atan2f"
names="$names|sinh|cosh|tanh|tanhf|asinh|acosh|atanh|erf|erff|erfc|lgamma|tgamma|cbrt|hypot"
found=$(nm -A -u "$@" 2>/dev/null | grep -E " U ($names)(@.*)?$")
if [ -n "$found" ]; then
    echo "libm: libm transcendentals called (use src/infer/dmath.h's gt_dmath_*):" >&2
    echo "$found" >&2
    exit 1
fi
echo "libm: no libm transcendental in $# libraries"
