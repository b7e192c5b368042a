#!/usr/bin/env bash
# The CUDA backend's check on a GPU machine, in one command:
#   scripts/gpu_check.sh [stage...]      stages: build tests examples memcheck racecheck bench
#                                        before ab families peers (default: all but before and
#                                        ab, in that order; before needs BEFORE=<source dir>)
# It builds with CUDA in build-gpu (kept between runs on the same machine), runs the test suite on
# both backends, the seed's two interop programs (also against the on-disk kernel cache), the suite
# under compute-sanitizer memcheck (runner option --no-fork), racecheck on the JIT example, and the
# benchmarks (bench.c's rows, families.c's rows, and the peers' script beside them). Logs go to $OUT
# (or build-gpu/check when OUT is unset), six files: summary.txt, build.log, tests.log (tests and
# examples), sanitizer.log (memcheck and racecheck), bench.log (both benchmarks), peers.json.
# Each stage has its own time limit and writes its log as it goes, so a command stopped at its
# limit still returns what ran. Two commands fit the device tool's 10 minutes each:
#   scripts/gpu_check.sh build tests examples
#   scripts/gpu_check.sh memcheck racecheck bench     (builds first on a fresh machine)
# The exit status is 0 when every stage that ran passed.
set -uo pipefail
cd "$(dirname "$0")/.."
build=build-gpu
out=${OUT:-$PWD/$build/check}
mkdir -p "$out"
jobs=$(nproc 2>/dev/null || echo 4)
summary="$out/summary.txt"
# nvcc and compute-sanitizer live in the toolkit's bin folder, which may not be on PATH.
for d in /usr/local/cuda/bin /usr/local/cuda-*/bin; do
    [ -d "$d" ] && PATH="$PATH:$d"
done
export PATH
stages=("$@")
[ ${#stages[@]} -eq 0 ] && stages=(build tests examples memcheck racecheck bench families peers)
status=0

note() { echo "$*" | tee -a "$summary"; }
result() { # stage, exit code
    if [ "$2" -eq 0 ]; then note "PASS $1"; else note "FAIL $1 (exit $2)"; status=1; fi
}
sanitizer() {
    if command -v compute-sanitizer >/dev/null 2>&1; then command -v compute-sanitizer
    elif [ -x /usr/local/cuda/bin/compute-sanitizer ]; then echo /usr/local/cuda/bin/compute-sanitizer
    else ls /usr/local/cuda*/bin/compute-sanitizer 2>/dev/null | head -1; fi
}

{
    echo "gpu_check $(date -u +%FT%TZ): stages ${stages[*]}"
    if command -v nvidia-smi >/dev/null; then nvidia-smi -L 2>&1; else echo "nvidia-smi: not found"; fi
    nvcc --version 2>&1 | tail -1 || true
    cmake --version 2>&1 | head -1
} >>"$summary"

# Kernels compiled by this run land in a fresh cache directory of their own, so the run measures
# NVRTC too; the examples stage then checks that a second process loads them from disk.
export AF_JIT_KERNEL_CACHE_DIRECTORY="$PWD/$build/kernel-cache"
export AF_PRINT_ERRORS=0

# A stage that needs the build on a fresh machine (a later command, after the machine went
# back) builds first.
if [[ " ${stages[*]} " != *" build "* ]] && [ ! -x "$build/tests/ember_tests" ]; then
    stages=(build "${stages[@]}")
fi

for stage in "${stages[@]}"; do
    case "$stage" in
    build)
        mkdir -p "$build/kernel-cache"
        (timeout 420 cmake -S . -B "$build" -DEMBER_CUDA=ON -DCMAKE_BUILD_TYPE=Release \
             -DCMAKE_CUDA_ARCHITECTURES=90 &&
         timeout 420 cmake --build "$build" -j "$jobs") >"$out/build.log" 2>&1
        rc=$?
        grep -E "warning|error" "$out/build.log" | head -40 >>"$summary"
        result build $rc
        ;;
    tests)
        # Every case on both backends (the runner forks one process per case), then ctest's own
        # tests (ABI check, the examples as tests).
        (timeout 400 "$build/tests/ember_tests" -v -j 0; echo "ember_tests exit $?";
         cd "$build" && timeout 120 ctest --output-on-failure -E '^ember_tests$';
         echo "ctest exit $?") >"$out/tests.log" 2>&1
        grep -E "^(cpu|cuda): [0-9]+ passed|^[0-9]+ passed|tests passed|exit [0-9]+$" \
            "$out/tests.log" >>"$summary"
        grep -q "^ember_tests exit 0$" "$out/tests.log" && grep -q "^ctest exit 0$" "$out/tests.log"
        result tests $?
        ;;
    examples)
        rc=0
        {
            for ex in custom_kernel cuda_af_app user_stream cublas_on_ember nccl_allreduce; do
                echo "== $ex"
                NCCL_NVLS_ENABLE=0 timeout 120 "$build/examples/cuda/$ex"; r=$?
                echo "== $ex exit $r"
                [ $r -eq 0 ] || rc=1
            done
            echo "== dlpack_torch"
            timeout 180 python3 examples/dlpack_torch.py "$build/libafcuda.so.3"; r=$?
            echo "== dlpack_torch exit $r"
            [ $r -eq 0 ] || rc=1
            # A second process finds the JIT kernels on disk instead of compiling them.
            echo "== kernel cache: $(ls "$AF_JIT_KERNEL_CACHE_DIRECTORY" | wc -l) files in $AF_JIT_KERNEL_CACHE_DIRECTORY"
            ls -la "$AF_JIT_KERNEL_CACHE_DIRECTORY" | head -20
            start=$(date +%s%N)
            timeout 120 "$build/examples/cuda/cuda_af_app" >/dev/null; r=$?
            echo "== cuda_af_app again (disk cache): exit $r, $(( ($(date +%s%N) - start) / 1000000 )) ms"
            [ $r -eq 0 ] || rc=1
            # An empty cache directory: compiles again, same answers.
            empty=$(mktemp -d)
            AF_JIT_KERNEL_CACHE_DIRECTORY=$empty timeout 120 "$build/examples/cuda/cuda_af_app" >/dev/null
            r=$?
            echo "== cuda_af_app with an empty cache: exit $r, $(ls "$empty" | wc -l) files written"
            [ $r -eq 0 ] || rc=1
            rm -rf "$empty"
            echo "examples exit $rc"
        } >"$out/examples.tmp" 2>&1
        grep -E "^== |correct|FAILED|PASS|FAIL" "$out/examples.tmp" >>"$summary"
        cat "$out/examples.tmp" >>"$out/tests.log"
        grep -q "^examples exit 0$" "$out/examples.tmp"
        result examples $?
        rm -f "$out/examples.tmp"
        ;;
    memcheck)
        cs=$(sanitizer)
        if [ -z "$cs" ]; then note "SKIP memcheck: compute-sanitizer not found"; continue; fi
        # The CUDA suite with every forked case under the sanitizer (--target-processes all),
        # several at once (-j 8). A case whose process reports a memcheck error exits with 3 and
        # the runner counts it as failed. API errors are not reported: the suite provokes some on
        # purpose (an allocation larger than the GPU) and checks Ember's answer.
        timeout 500 "$cs" --tool memcheck --target-processes all --report-api-errors no \
            --error-exitcode 3 --print-limit 50 \
            "$build/tests/ember_tests" --backend cuda -j 8 >>"$out/sanitizer.log" 2>&1
        rc=$?
        tail -4 "$out/sanitizer.log" >>"$summary"
        result memcheck $rc
        ;;
    racecheck)
        cs=$(sanitizer)
        if [ -z "$cs" ]; then note "SKIP racecheck: compute-sanitizer not found"; continue; fi
        rc=0
        {
            for ex in cuda_af_app custom_kernel; do
                echo "== racecheck $ex"
                timeout 200 "$cs" --tool racecheck --error-exitcode 3 "$build/examples/cuda/$ex"
                r=$?
                echo "== racecheck $ex exit $r"
                [ $r -eq 0 ] || rc=1
            done
            echo "== synccheck cuda_af_app"
            timeout 120 "$cs" --tool synccheck --error-exitcode 3 "$build/examples/cuda/cuda_af_app"
            r=$?
            echo "== synccheck exit $r"
            [ $r -eq 0 ] || rc=1
            # The families' own kernels that use shared memory or cooperate across threads.
            echo "== racecheck family kernels"
            timeout 300 "$cs" --tool racecheck --target-processes all --error-exitcode 3 \
                "$build/tests/ember_tests" --backend cuda -j 8 reduce scan sort transpose shape \
                convolve index statistics
            r=$?
            echo "== racecheck family kernels exit $r"
            [ $r -eq 0 ] || rc=1
            echo "racecheck exit $rc"
        } >"$out/racecheck.tmp" 2>&1
        grep -E "^== .*exit|ERROR SUMMARY|passed" "$out/racecheck.tmp" >>"$summary"
        cat "$out/racecheck.tmp" >>"$out/sanitizer.log"
        grep -q "^racecheck exit 0$" "$out/racecheck.tmp"
        result racecheck $?
        rm -f "$out/racecheck.tmp"
        ;;
    bench)
        if [ ! -x "$build/bench/ember_bench_cuda" ]; then
            note "SKIP bench: $build/bench/ember_bench_cuda was not built"
            continue
        fi
        { echo "== after"; timeout 240 "$build/bench/ember_bench_cuda"; } >>"$out/bench.log" 2>&1
        rc=$?
        result bench $rc
        ;;
    before)
        # The element-wise and interop rows of an earlier tree (BEFORE=<source dir>, e.g. an
        # exported older commit) on the same machine, for before/after comparisons.
        if [ -z "${BEFORE:-}" ] || [ ! -d "$BEFORE" ]; then note "SKIP before: BEFORE unset"; continue; fi
        (timeout 300 cmake -S "$BEFORE" -B build-before -DEMBER_CUDA=ON -DCMAKE_BUILD_TYPE=Release \
             -DCMAKE_CUDA_ARCHITECTURES=90 -DEMBER_TESTS=OFF &&
         timeout 300 cmake --build build-before -j "$jobs" --target ember_bench_cuda) \
            >>"$out/build.log" 2>&1
        { echo "== before: $BEFORE"; timeout 240 build-before/bench/ember_bench_cuda; } \
            >>"$out/bench.log" 2>&1
        rc=$?
        result before $rc
        ;;
    ab)
        # Host costs of the earlier tree's library against this one in one process, both
        # orders (bench/ab_libs.c): needs the before stage's build.
        if [ ! -f build-before/libafcuda.so.3 ] || [ ! -x "$build/bench/ember_ab_libs" ]; then
            note "SKIP ab: build-before/libafcuda.so.3 or ember_ab_libs missing"; continue
        fi
        rc=0
        for order in "build-before $build" "$build build-before"; do
            set -- $order
            { echo "== ab: A=$1 B=$2"; timeout 150 "$build/bench/ember_ab_libs" \
                "$PWD/$1/libafcuda.so.3" "$PWD/$2/libafcuda.so.3" 201; } >>"$out/bench.log" 2>&1
            r=$?
            [ $r -eq 0 ] || rc=$r
        done
        result ab $rc
        ;;
    families)
        # Optional arguments through FAMILIES (1..4: one family), each row's time bounded.
        timeout 400 "$build/bench/ember_bench_families_cuda" ${FAMILIES:-} >>"$out/bench.log" 2>&1
        rc=$?
        result families $rc
        ;;
    peers)
        # The peers' script travels in .shared/ (the device machine has no ../shared).
        if [ ! -f .shared/peers_bench.py ]; then note "SKIP peers: .shared/peers_bench.py missing"; continue; fi
        PYTHONUNBUFFERED=1 timeout 400 python3 .shared/peers_bench.py ${PEERS_ARGS:-} \
            >"$out/peers.json" 2>"$out/peers.err"
        rc=$?
        tail -3 "$out/peers.err" >>"$summary"
        rm -f "$out/peers.err"
        result peers $rc
        ;;
    *)
        note "unknown stage '$stage' (build tests examples memcheck racecheck bench before ab families peers)"
        status=2
        ;;
    esac
done
note "gpu_check: $([ $status -eq 0 ] && echo all stages passed || echo some stages FAILED)"
exit $status
