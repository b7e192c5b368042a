#!/bin/sh
# Compiles the public headers the ways users will: the umbrella and each header on its own, as
# C11, C99 with -pedantic and C++17, with -Wall -Wextra -Werror, plus the layout and guard checks
# and af/cuda.h where the CUDA toolkit is installed. Then runs abi_check.py and its self-test.
# Usage: tests/abi/check_headers.sh   (from any directory; CC, CXX and CUDA_INC may be set)
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CC=${CC:-gcc}
CXX=${CXX:-g++}
CUDA_INC=${CUDA_INC:-/usr/local/cuda/include}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM

fails=0
run() {
    if "$@" 2>"$TMP/err"; then
        :
    else
        echo "FAIL: $*"
        cat "$TMP/err"
        fails=$((fails + 1))
    fi
}

CFLAGS="-Wall -Wextra -Werror -I$ROOT/include -fsyntax-only"

# The typedef keeps a unit that includes only macros from being an empty translation unit, which
# -pedantic rejects.
compile_unit() { # $1: name, $2: source text, $3: extra flags, $4: "nopedantic" to skip C99
    printf '%s\ntypedef int em_nonempty;\n' "$2" >"$TMP/$1.c"
    cp "$TMP/$1.c" "$TMP/$1.cpp"
    run $CC -std=c11 $CFLAGS $3 "$TMP/$1.c"
    if [ "${4:-}" != nopedantic ]; then
        run $CC -std=c99 -pedantic $CFLAGS $3 "$TMP/$1.c"
    fi
    run $CXX -std=c++17 $CFLAGS $3 "$TMP/$1.cpp"
}

n=0
compile_unit umbrella '#include <arrayfire.h>' ''
n=$((n + 1))
for h in "$ROOT"/include/af/*.h; do
    name=$(basename "$h" .h)
    if [ "$name" = cuda ]; then
        continue
    fi
    compile_unit "$name" "#include <af/$name.h>" ''
    n=$((n + 1))
done

if [ -f "$CUDA_INC/cuda_runtime.h" ] && [ -f "$CUDA_INC/cublas_v2.h" ]; then
    # CUDA's own headers use anonymous unions, which C99 -pedantic rejects, so af/cuda.h is
    # compiled as C11 and C++17 only.
    compile_unit cuda '#include <af/cuda.h>
#include <arrayfire.h>' "-I$CUDA_INC" nopedantic
    n=$((n + 1))
else
    echo "note: $CUDA_INC has no CUDA toolkit headers; af/cuda.h not compiled"
fi

run $CC -std=c11 $CFLAGS "$ROOT/tests/abi/layout_check.c"
run $CXX -std=c++17 $CFLAGS -x c++ "$ROOT/tests/abi/layout_check.c"
run $CC -std=c11 $CFLAGS -DAF_API_VERSION=36 "$ROOT/tests/abi/guard_check.c"

echo "headers: $n units compiled as C11, C99 -pedantic and C++17, layout and guard checks," \
    "$fails failures"

python3 "$ROOT/tests/abi/abi_check.py" || fails=$((fails + 1))
python3 "$ROOT/tests/abi/abi_check.py" --selftest >"$TMP/selftest" || {
    cat "$TMP/selftest"
    fails=$((fails + 1))
}
tail -n 1 "$TMP/selftest"

[ "$fails" -eq 0 ]
