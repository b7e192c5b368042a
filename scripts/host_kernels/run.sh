#!/bin/sh
# Runs CUDA kernel code on the CPU, for machines without a GPU: the JIT's generated kernels
# (jit_check.c, through jit_gen.c), the linear gather of kernels/index.cuh and the transpose of
# kernels/shape.cuh, each checked element by element against a reference. NVRTC's compile check
# (tests/test_codegen.c) shows that kernels compile; this shows what they compute.
#   scripts/host_kernels/run.sh <build dir> [name filter for jit_check]
# The build dir must have built afcuda (its core objects and embedded.c are linked in).
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "$1" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cc="gcc -O1 -std=gnu11 -I$root/src -I$root/include -I$build/src/backend/cuda"
echo 'char em_backend_self[4096];' > "$work/stub.c" # core/array.c refers to the backend table
$cc -c "$root/src/backend/cuda/jit_gen.c" -o "$work/jit_gen.o"
$cc -c "$build/src/backend/cuda/embedded.c" -o "$work/embedded.o"
$cc -c "$work/stub.c" -o "$work/stub.o"
$cc -c "$here/jit_check.c" -o "$work/jit_check.o"
gcc -o "$work/jit_check" "$work/jit_check.o" "$work/jit_gen.o" "$work/embedded.o" "$work/stub.o" \
    "$build"/CMakeFiles/ember_common.dir/src/core/*.o -ldl -lpthread -lm
g++ -std=c++17 -O1 -w -fno-strict-aliasing "$here/gather_check.cpp" -o "$work/gather_check"
"$work/gather_check"
for es in 1 2 4 8 16; do
    g++ -std=c++20 -O1 -w -pthread -DEM_ES=$es "$here/transpose_check.cpp" -o "$work/transpose_check"
    "$work/transpose_check"
done
if ! EM_HOST_SHIM_H="$here/shim.h" "$work/jit_check" "$work" "$2" > "$work/jit.log" 2>&1; then
    grep -v ' ok$' "$work/jit.log"
    exit 1
fi
tail -n 1 "$work/jit.log"
