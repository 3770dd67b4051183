#!/bin/sh
# libm.sh: no room's library calls a libm transcendental (exp, log, pow, the
# trigonometric and hyperbolic functions...). Their last bits differ between
# libm versions and CPUs, and verification re-runs work on another machine,
# so what a verdict or an output depends on takes src/infer/dmath.h's fixed
# sequences (and the kernels' own exp) instead. Reads the undefined symbols of
# every libgt_*.a in the build folder given, and of the objects of the
# gotong and gotong-recipe programs (the CLI writes models: `model random`),
# so a call added anywhere, in any room, fails here naming its object file
# (ctest repo_libm).
# Usage: tests/repo/libm.sh BUILD_DIR
build=${1:?usage: libm.sh BUILD_DIR}
set -- "$build"/libgt_*.a
if [ ! -e "$1" ]; then
    echo "libm: no libgt_*.a in $build (build first)" >&2
    exit 1
fi
# The programs' own objects, where built (CMake's object folders).
for d in "$build"/CMakeFiles/gotong.dir "$build"/CMakeFiles/gotong-recipe.dir; do
    [ -d "$d" ] && set -- "$@" $(find "$d" -name '*.o' | sort)
done
command -v nm >/dev/null || { echo "libm: nm (binutils) not found" >&2; exit 1; }
# Each name also with its float and long double suffix (f, l), glibc's
# reentrant (_r) and -ffinite-math-only (__*_finite) forms: the names are
# matched by stem, not listed one by one (the list missed asinf, expl,
# lgamma_r, j0, cexp; ctest repo_libm_catches). sqrt, fma, floor, ldexp
# and the like are exact, so free.
stems='exp|exp2|exp10|expm1|pow10|log|log2|log10|log1p|pow|sin|cos|tan|sincos|asin|acos|atan|atan2'
stems="$stems|sinh|cosh|tanh|asinh|acosh|atanh|erf|erfc|lgamma|gamma|tgamma|cbrt|hypot|j0|j1|jn|y0|y1|yn"
stems="$stems|cexp|clog|clog10|cpow|csin|ccos|ctan|casin|cacos|catan|csinh|ccosh|ctanh|casinh|cacosh|catanh"
stems="$stems|cabs|carg|csqrt"
syms=$(nm -A -u "$@") || { echo "libm: nm could not read the libraries" >&2; exit 1; }
found=$(echo "$syms" | grep -E " U (__)?($stems)[fl]?(_r)?(_finite)?(@.*)?$")
if [ -n "$found" ]; then
    echo "libm: libm transcendentals called (use src/infer/dmath.h's gt_dmath_*):" >&2
    echo "$found" >&2
    exit 1
fi
echo "libm: no libm transcendental in $# libraries and objects"
