/* Same-process A/B of two builds of libafcpu.so.3, for the host cost of building lazy graphs
 * (backend-neutral code: the api layer and the JIT's nodes). Comparing builds in separate
 * processes cannot resolve differences of a tenth of a microsecond: a host's speed drifts from
 * one process to the next. Both libraries are dlopen'ed into this process. Each round times 2000
 * calls of four loops: the 16-op chain of bench.c built and released without evaluation on
 * either library, and a single af_add released without evaluation on either library. The loop
 * order rotates from round to round, so drift in the host's speed hits all alike. The inputs
 * come from af_create_array (no random generator, so setup is the same work in both builds).
 * Printed: medians over the rounds and the median paired differences B - A.
 *
 * The library loaded second may read slower (its TLS is probably not in the static block), so
 * run each comparison in both orders. The program calls only backend-neutral functions, so two
 * builds of libafcuda.so.3 compare the same way on a machine with a GPU.
 *
 *   ember_ab_host_cpu LIB_A LIB_B [rounds]      (paths with a slash; default 301 rounds) */
#include "ab_lib.h"

enum { calls = 2000, nloops = 4 };

static lib A, B;

/* Loop k of a round: 0 chain A, 1 chain B, 2 add A, 3 add B; none evaluates. */
static void run_one(int k) {
    switch (k) {
    case 0:
        ab_chain(&A, false);
        break;
    case 1:
        ab_chain(&B, false);
        break;
    case 2:
        ab_add1(&A, false);
        break;
    default:
        ab_add1(&B, false);
        break;
    }
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
    for (int i = 0; i < 5000; i++)
        for (int k = 0; k < nloops; k++)
            run_one(k);
    double *t[nloops], *dchain, *dadd;
    for (int k = 0; k < nloops; k++)
        if (!(t[k] = calloc((size_t)rounds, sizeof(double)))) return 2;
    dchain = calloc((size_t)rounds, sizeof(double));
    dadd = calloc((size_t)rounds, sizeof(double));
    if (!dchain || !dadd) return 2;
    for (int r = 0; r < rounds; r++) {
        for (int j = 0; j < nloops; j++) {
            int k = (j + r) % nloops;
            double t0 = ab_now_s();
            for (int i = 0; i < calls; i++)
                run_one(k);
            t[k][r] = (ab_now_s() - t0) / calls * 1e6;
        }
        dchain[r] = t[1][r] - t[0][r];
        dadd[r] = t[3][r] - t[2][r];
    }
    printf("A = %s\nB = %s\n%d rounds of %d calls, host time per call (us):\n", A.path, B.path,
           rounds, calls);
    const char *name[nloops] = {"chain A", "chain B", "add A", "add B"};
    for (int k = 0; k < nloops; k++)
        printf("  %-8s median %.4f, p10 %.4f\n", name[k], ab_quantile(t[k], rounds, 0.5),
               ab_quantile(t[k], rounds, 0.1));
    printf("  chain B - A, paired per round: median %.4f\n", ab_quantile(dchain, rounds, 0.5));
    printf("  add   B - A, paired per round: median %.4f\n", ab_quantile(dadd, rounds, 0.5));
    A.release(A.a);
    A.release(A.b);
    B.release(B.a);
    B.release(B.b);
    return 0;
}
