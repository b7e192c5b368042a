// NCCL on Ember arrays: one host thread per GPU, one NCCL rank per thread.
//
// Each thread makes its GPU Ember's active device (af_set_device is per thread), builds an Ember
// array there, and all-reduces it in place with NCCL: the device pointer comes from
// af_get_device_ptr and the collective runs on Ember's own stream (afcu_get_stream), so it is
// ordered after the work that produced the array and before the Ember work that reads the result.
// The sum feeds straight back into an Ember expression with no host synchronisation in between;
// only the final check reads to the host. With one GPU the program runs as a single rank.
//
//   nccl_allreduce            checks the sum on every rank
//   nccl_allreduce --bench    also times a 1 GiB f32 all-reduce and prints its bandwidth
//
// Bandwidths are reported as nccl-tests defines them: algbw = bytes / time, and
// busbw = algbw * 2 (n - 1) / n, the traffic per link of a ring all-reduce over n ranks, which
// does not depend on n (so it compares with the links' peak). One rank moves nothing between
// devices: busbw is then 0 and only algbw is shown.
//
// NVLink SHARP (NVLS) stays off (NCCL_NVLS_ENABLE=0, set before the communicators are made): it
// needs multicast objects that the machines this runs on do not grant.
//
// Exit status: 0 when every value is right, 1 on a failure, 77 (skipped) without a CUDA device.
#include <arrayfire.h>
#include <af/cuda.h>
#include <cuda_runtime.h>
#include <nccl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RANKS    16
#define CHECK_ELEMS  (1 << 20)         /* elements of the checked all-reduce */
#define BENCH_BYTES  ((size_t)1 << 30) /* 1 GiB */
#define BENCH_WARMUP 5
#define BENCH_ITERS  20

// What the rank threads share: a barrier, and a flag that any rank raises when it cannot take
// part in the next collective. NCCL waits for every rank, so one rank giving up alone would hang
// the others; the ranks agree before each collective instead.
typedef struct {
    pthread_barrier_t bar;
    atomic_int abort;
} shared_state;

typedef struct {
    int rank, nranks;
    ncclComm_t comm;
    int bench;
    shared_state *shared;
    double ms; /* bench: mean milliseconds per all-reduce on this rank */
    int failed;
} rank_ctx;

// Every rank calls this at the same points. True when all ranks are ready. The flag stays raised
// once set, and the second barrier keeps a fast rank from raising it for the next agreement
// before a slow one has read it for this one, so every rank decides the same way.
static bool agree(rank_ctx *r, bool ready) {
    if (!ready) atomic_store(&r->shared->abort, 1);
    pthread_barrier_wait(&r->shared->bar);
    bool all = atomic_load(&r->shared->abort) == 0;
    pthread_barrier_wait(&r->shared->bar);
    return all;
}

static bool ok(rank_ctx *r, af_err e, const char *what) {
    if (e == AF_SUCCESS) return true;
    char *msg = NULL;
    dim_t len = 0;
    af_get_last_error(&msg, &len); /* the calling thread's message */
    fprintf(stderr, "nccl_allreduce: rank %d: %s failed: error %d: %s\n", r->rank, what, (int)e,
            msg ? msg : "");
    af_free_host(msg);
    r->failed = 1;
    return false;
}

static bool cuda_ok(rank_ctx *r, cudaError_t e, const char *what) {
    if (e == cudaSuccess) return true;
    fprintf(stderr, "nccl_allreduce: rank %d: %s failed: %s\n", r->rank, what,
            cudaGetErrorString(e));
    r->failed = 1;
    return false;
}

static bool nccl_ok(rank_ctx *r, ncclResult_t e, const char *what) {
    if (e == ncclSuccess) return true;
    fprintf(stderr, "nccl_allreduce: rank %d: %s failed: %s\n", r->rank, what,
            ncclGetErrorString(e));
    r->failed = 1;
    return false;
}

// x[i] = (rank + 1) + (i mod 7), built by Ember on this rank's device. Every value and every sum
// over up to MAX_RANKS ranks is an integer that f32 holds exactly.
static bool make_input(rank_ctx *r, af_array *x) {
    const dim_t dims[1] = {CHECK_ELEMS};
    af_array idx = 0, seven = 0, mod = 0, base = 0;
    bool good = ok(r, af_range(&idx, 1, dims, 0, f32), "af_range") &&
                ok(r, af_constant(&seven, 7, 1, dims, f32), "af_constant(7)") &&
                ok(r, af_mod(&mod, idx, seven, false), "af_mod") &&
                ok(r, af_constant(&base, r->rank + 1, 1, dims, f32), "af_constant(rank + 1)") &&
                ok(r, af_add(x, mod, base, false), "af_add");
    af_release_array(idx);
    af_release_array(seven);
    af_release_array(mod);
    af_release_array(base);
    return good;
}

// The checked all-reduce: Ember builds x, NCCL sums it in place across ranks on Ember's stream,
// and Ember computes y = 2 x from the sum before anything waits on the host.
static void check_rank(rank_ctx *r, cudaStream_t stream) {
    const dim_t dims[1] = {CHECK_ELEMS};
    af_array x = 0, two = 0, y = 0;
    float *px = NULL, *host = NULL;
    // af_get_device_ptr evaluates x (enqueued on Ember's stream) and locks it for NCCL.
    bool ready = stream && make_input(r, &x) &&
                 ok(r, af_get_device_ptr((void **)&px, x), "af_get_device_ptr");
    if (!agree(r, ready)) goto done;
    if (!nccl_ok(r, ncclAllReduce(px, px, CHECK_ELEMS, ncclFloat, ncclSum, r->comm, stream),
                 "ncclAllReduce"))
        goto done;
    // Back to Ember: the next kernel that reads x is queued behind the all-reduce on the same
    // stream, so no synchronisation is needed here.
    if (!ok(r, af_unlock_array(x), "af_unlock_array") ||
        !ok(r, af_constant(&two, 2, 1, dims, f32), "af_constant(2)") ||
        !ok(r, af_mul(&y, x, two, false), "af_mul") || !ok(r, af_eval(y), "af_eval"))
        goto done;
    // Only now does the host wait: reading y back for the check.
    host = malloc(CHECK_ELEMS * sizeof(float));
    if (!host || !ok(r, af_get_data_ptr(host, y), "af_get_data_ptr")) goto done;
    int n = r->nranks;
    for (int i = 0; i < CHECK_ELEMS; i++) {
        float want = 2.0f * (float)(n * (n + 1) / 2 + n * (i % 7));
        if (host[i] != want) {
            fprintf(stderr, "nccl_allreduce: rank %d: y[%d] = %g, expected %g\n", r->rank, i,
                    host[i], want);
            r->failed = 1;
            break;
        }
    }
done:
    free(host);
    af_release_array(x);
    af_release_array(two);
    af_release_array(y);
}

// The 1 GiB all-reduce, in place on an Ember array, timed with events on Ember's stream. The
// ranks start timing together (they agree after the warm-up), and each reports its own mean.
static void bench_rank(rank_ctx *r, cudaStream_t stream) {
    const size_t elems = BENCH_BYTES / sizeof(float);
    const dim_t dims[1] = {(dim_t)elems};
    af_array buf = 0;
    float *p = NULL;
    cudaEvent_t start = NULL, stop = NULL;
    bool good = stream && ok(r, af_constant(&buf, 0, 1, dims, f32), "af_constant(bench)") &&
                ok(r, af_get_device_ptr((void **)&p, buf), "af_get_device_ptr(bench)") &&
                cuda_ok(r, cudaEventCreate(&start), "cudaEventCreate") &&
                cuda_ok(r, cudaEventCreate(&stop), "cudaEventCreate");
    good = agree(r, good);
    for (int i = 0; good && i < BENCH_WARMUP; i++)
        good = nccl_ok(r, ncclAllReduce(p, p, elems, ncclFloat, ncclSum, r->comm, stream),
                       "ncclAllReduce(warm-up)");
    good = good && cuda_ok(r, cudaStreamSynchronize(stream), "cudaStreamSynchronize");
    good = agree(r, good) && cuda_ok(r, cudaEventRecord(start, stream), "cudaEventRecord");
    for (int i = 0; good && i < BENCH_ITERS; i++)
        good = nccl_ok(r, ncclAllReduce(p, p, elems, ncclFloat, ncclSum, r->comm, stream),
                       "ncclAllReduce(bench)");
    float ms = 0;
    good = good && cuda_ok(r, cudaEventRecord(stop, stream), "cudaEventRecord") &&
           cuda_ok(r, cudaEventSynchronize(stop), "cudaEventSynchronize") &&
           cuda_ok(r, cudaEventElapsedTime(&ms, start, stop), "cudaEventElapsedTime");
    if (good) r->ms = ms / BENCH_ITERS;
    if (p) ok(r, af_unlock_array(buf), "af_unlock_array(bench)");
    if (start) cudaEventDestroy(start);
    if (stop) cudaEventDestroy(stop);
    af_release_array(buf);
}

// Each rank runs the same steps, so that the agreements line up; a rank without a stream takes
// part in them as "not ready".
static void *rank_main(void *arg) {
    rank_ctx *r = arg;
    cudaStream_t stream = NULL;
    // Ember's active device is per host thread: this thread's rank uses Ember device `rank`.
    if (!ok(r, af_set_device(r->rank), "af_set_device") ||
        !ok(r, afcu_get_stream(&stream, r->rank), "afcu_get_stream"))
        stream = NULL;
    check_rank(r, stream);
    if (r->bench) bench_rank(r, stream);
    if (stream) ok(r, af_sync(r->rank), "af_sync");
    return NULL;
}

int main(int argc, char **argv) {
    int bench = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--bench") == 0) {
            bench = 1;
        } else {
            fprintf(stderr, "usage: %s [--bench]\n", argv[0]);
            return 2;
        }
    }
    int count = 0;
    if (af_get_device_count(&count) != AF_SUCCESS || count < 1) {
        printf("nccl_allreduce: no CUDA device, skipped\n");
        return 77;
    }
    int n = count < MAX_RANKS ? count : MAX_RANKS;

    // Rank r is Ember device r; NCCL takes CUDA ordinals.
    int natives[MAX_RANKS];
    for (int d = 0; d < n; d++) {
        if (afcu_get_native_id(&natives[d], d) != AF_SUCCESS) {
            fprintf(stderr, "nccl_allreduce: afcu_get_native_id(%d) failed\n", d);
            return 1;
        }
    }
    // Must be in the environment before NCCL reads it, at communicator creation.
    setenv("NCCL_NVLS_ENABLE", "0", 1);
    ncclComm_t comms[MAX_RANKS];
    ncclResult_t nr = ncclCommInitAll(comms, n, natives);
    if (nr != ncclSuccess) {
        fprintf(stderr, "nccl_allreduce: ncclCommInitAll(%d ranks) failed: %s\n", n,
                ncclGetErrorString(nr));
        return 1;
    }
    int version = 0;
    ncclGetVersion(&version);
    printf("nccl_allreduce: %d rank%s (NCCL %d), Ember devices 0..%d\n", n, n == 1 ? "" : "s",
           version, n - 1);
    if (af_info() != AF_SUCCESS) return 1;

    shared_state shared;
    pthread_barrier_init(&shared.bar, NULL, (unsigned)n);
    atomic_init(&shared.abort, 0);
    rank_ctx ranks[MAX_RANKS];
    pthread_t threads[MAX_RANKS];
    for (int r = 0; r < n; r++) {
        memset(&ranks[r], 0, sizeof(ranks[r]));
        ranks[r].rank = r;
        ranks[r].nranks = n;
        ranks[r].comm = comms[r];
        ranks[r].bench = bench;
        ranks[r].shared = &shared;
        if (pthread_create(&threads[r], NULL, rank_main, &ranks[r]) != 0) {
            // NCCL would wait for the missing rank forever: there is no way on but out.
            fprintf(stderr, "nccl_allreduce: pthread_create(rank %d) failed\n", r);
            exit(1);
        }
    }
    int failed = 0;
    double worst_ms = 0;
    for (int r = 0; r < n; r++) {
        pthread_join(threads[r], NULL);
        failed |= ranks[r].failed;
        if (ranks[r].ms > worst_ms) worst_ms = ranks[r].ms;
    }
    pthread_barrier_destroy(&shared.bar);
    for (int r = 0; r < n; r++)
        ncclCommDestroy(comms[r]);

    if (!failed)
        printf("nccl_allreduce: the sum of %d elements over %d rank%s is right on every rank, "
               "and Ember computed from it with no host sync in between\n",
               CHECK_ELEMS, n, n == 1 ? "" : "s");
    if (bench && !failed && worst_ms > 0) {
        // The slowest rank bounds the collective.
        double algbw = (double)BENCH_BYTES / (worst_ms * 1e-3) / 1e9;
        double busbw = algbw * 2.0 * (n - 1) / n;
        printf("nccl_allreduce: bench: %zu bytes f32 sum in place, %d ranks, %d iterations: "
               "%.3f ms, algbw %.1f GB/s",
               BENCH_BYTES, n, BENCH_ITERS, worst_ms, algbw);
        if (n == 1)
            printf(", busbw 0 GB/s (one rank moves no data between devices)\n");
        else
            printf(", busbw %.1f GB/s\n", busbw);
    }
    printf(failed ? "nccl_allreduce: FAILED\n" : "nccl_allreduce: all ranks correct\n");
    return failed;
}
