#!/usr/bin/env bash
# Runs the main demo: the seed's two CUDA interop programs when a CUDA device is present and they
# were built, otherwise the CPU demo. Says which it ran and why.
set -uo pipefail
build=${1:-build}
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1 &&
    [ -x "$build/examples/cuda/custom_kernel" ]; then
    echo "make run: a CUDA device is present: running the seed's interop programs"
    "$build/examples/cuda/custom_kernel" && "$build/examples/cuda/cuda_af_app"
    exit $?
fi
if [ -x "$build/examples/cuda/custom_kernel" ]; then
    echo "make run: no CUDA device (nvidia-smi finds none): running the CPU demo"
else
    echo "make run: the CUDA examples were not built: running the CPU demo"
fi
exec "$build/examples/ember_demo"
