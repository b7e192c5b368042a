/* Same-process A/B of two builds of libafcuda.so.3, for host-cost changes of a few tenths of a
 * microsecond. Comparing builds in separate processes cannot resolve those: the GPU machine's
 * host changes speed by up to 1.5x from one process to the next. Both libraries are dlopen'ed
 * into this process. Each round times 200 calls of five loops, host time only (no wait for the
 * device; it is drained between loops): the 16-op chain of bench.c on either library, a single
 * evaluated add on either library, and a bare launch of a hand-written kernel. The loop order
 * rotates from round to round, so drift in the host's speed hits all alike. Printed: medians over
 * the rounds, per-round differences against the bare launch (median and 90th percentile), and the
 * median paired difference B - A of the chain.
 *
 * The library loaded second reads about 0.1 us slower per chain (its TLS is probably not in the
 * static block), so run each comparison in both orders.
 *
 *   ember_ab_libs LIB_A LIB_B [rounds]      (paths with a slash; default 301 rounds) */
#include "ab_lib.h"

#include <cuda_runtime.h>

enum { calls = 200 };

void bench_bare_add(float *out, const float *a, const float *b, int n, cudaStream_t s);

static lib A, B;
static float *pa, *pb, *pout;
static cudaStream_t bare_stream;

/* Loop k of a round: 0 bare, 1 chain A, 2 chain B, 3 add A, 4 add B; each evaluates. */
static void run_one(int k) {
    switch (k) {
    case 0:
        bench_bare_add(pout, pa, pb, 1024, bare_stream);
        break;
    case 1:
        ab_chain(&A, true);
        break;
    case 2:
        ab_chain(&B, true);
        break;
    case 3:
        ab_add1(&A, true);
        break;
    default:
        ab_add1(&B, true);
        break;
    }
}

static void drain(void) {
    A.sync(-1);
    B.sync(-1);
    cudaStreamSynchronize(bare_stream);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s LIB_A LIB_B [rounds]\n", argv[0]);
        return 2;
    }
    int rounds = argc > 3 ? atoi(argv[3]) : 301;
    if (rounds < 11) rounds = 11;
    ab_load(&A, argv[1]);
    ab_load(&B, argv[2]);
    if (cudaMalloc((void **)&pa, 4096) != cudaSuccess || cudaMalloc((void **)&pb, 4096) ||
        cudaMalloc((void **)&pout, 4096) || cudaStreamCreate(&bare_stream)) {
        fprintf(stderr, "CUDA setup failed\n");
        return 2;
    }
    for (int i = 0; i < 2000; i++)
        for (int k = 0; k < 5; k++)
            run_one(k);
    drain();
    double *t[5], *d[5];
    for (int k = 0; k < 5; k++) {
        t[k] = calloc((size_t)rounds, sizeof(double));
        d[k] = calloc((size_t)rounds, sizeof(double));
        if (!t[k] || !d[k]) return 2;
    }
    for (int r = 0; r < rounds; r++) {
        for (int j = 0; j < 5; j++) {
            int k = (j + r) % 5;
            double t0 = ab_now_s();
            for (int i = 0; i < calls; i++)
                run_one(k);
            t[k][r] = (ab_now_s() - t0) / calls * 1e6;
            drain();
        }
        for (int k = 1; k < 5; k++)
            d[k][r] = t[k][r] - t[0][r];
        d[0][r] = t[2][r] - t[1][r]; /* the paired chain difference B - A */
    }
    printf("A = %s\nB = %s\n%d rounds of %d calls, host time per call (us):\n", A.path, B.path,
           rounds, calls);
    const char *name[5] = {"bare launch", "chain A", "chain B", "add A", "add B"};
    for (int k = 0; k < 5; k++)
        printf("  %-12s median %.3f\n", name[k], ab_quantile(t[k], rounds, 0.5));
    for (int k = 1; k < 5; k++) {
        double med = ab_quantile(d[k], rounds, 0.5), p90 = ab_quantile(d[k], rounds, 0.9);
        printf("  %-12s minus bare: median %.3f, p90 %.3f\n", name[k], med, p90);
    }
    printf("  chain B - A, paired per round: median %.3f\n", ab_quantile(d[0], rounds, 0.5));
    return 0;
}
