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
 * The library loaded second reads about 0.1 us slower per chain (on the H100 machine; its TLS is
 * probably not in the static block), so run each comparison in both orders.
 *
 *   ember_ab_libs LIB_A LIB_B [rounds]      (paths with a slash; default 301 rounds) */
#include <cuda_runtime.h>
#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef void *arr;
typedef long long dim_t;

/* The few public functions the loops call, resolved in one library. */
typedef struct {
    const char *path;
    int (*randu)(arr *, unsigned, const dim_t *, int);
    int (*retain)(arr *, arr);
    int (*release)(arr);
    int (*mul)(arr *, arr, arr, bool);
    int (*add)(arr *, arr, arr, bool);
    int (*sub)(arr *, arr, arr, bool);
    int (*abs_)(arr *, arr);
    int (*constant)(arr *, double, unsigned, const dim_t *, int);
    int (*eval)(arr);
    int (*sync)(int);
    arr a, b;
} lib;

enum { calls = 200, f32 = 0 };
static const dim_t n1024[1] = {1024};

static void *sym(void *h, const char *path, const char *name) {
    void *p = dlsym(h, name);
    if (!p) {
        fprintf(stderr, "%s: no symbol %s\n", path, name);
        exit(2);
    }
    return p;
}

static void load(lib *l, const char *path) {
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "%s\n", dlerror());
        exit(2);
    }
    l->path = path;
    *(void **)&l->randu = sym(h, path, "af_randu");
    *(void **)&l->retain = sym(h, path, "af_retain_array");
    *(void **)&l->release = sym(h, path, "af_release_array");
    *(void **)&l->mul = sym(h, path, "af_mul");
    *(void **)&l->add = sym(h, path, "af_add");
    *(void **)&l->sub = sym(h, path, "af_sub");
    *(void **)&l->abs_ = sym(h, path, "af_abs");
    *(void **)&l->constant = sym(h, path, "af_constant");
    *(void **)&l->eval = sym(h, path, "af_eval");
    *(void **)&l->sync = sym(h, path, "af_sync");
    if (l->randu(&l->a, 1, n1024, f32) || l->randu(&l->b, 1, n1024, f32)) {
        fprintf(stderr, "%s: af_randu failed (no CUDA device?)\n", path);
        exit(2);
    }
}

/* bench.c's chain: mul, add of a constant, sub, abs, four times over, then eval and release. */
static void chain(const lib *l) {
    arr x, t, k;
    l->retain(&x, l->a);
    for (int i = 0; i < 16; i++) {
        switch (i % 4) {
        case 0:
            l->mul(&t, x, l->b, false);
            break;
        case 1:
            l->constant(&k, 0.5, 1, n1024, f32);
            l->add(&t, x, k, false);
            l->release(k);
            break;
        case 2:
            l->sub(&t, x, l->a, false);
            break;
        default:
            l->abs_(&t, x);
            break;
        }
        l->release(x);
        x = t;
    }
    l->eval(x);
    l->release(x);
}

static void add1(const lib *l) {
    arr o;
    l->add(&o, l->a, l->b, false);
    l->eval(o);
    l->release(o);
}

void bench_bare_add(float *out, const float *a, const float *b, int n, cudaStream_t s);

static lib A, B;
static float *pa, *pb, *pout;
static cudaStream_t bare_stream;

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* Loop k of a round: 0 bare, 1 chain A, 2 chain B, 3 add A, 4 add B. */
static void run_one(int k) {
    switch (k) {
    case 0:
        bench_bare_add(pout, pa, pb, 1024, bare_stream);
        break;
    case 1:
        chain(&A);
        break;
    case 2:
        chain(&B);
        break;
    case 3:
        add1(&A);
        break;
    default:
        add1(&B);
        break;
    }
}

static void drain(void) {
    A.sync(-1);
    B.sync(-1);
    cudaStreamSynchronize(bare_stream);
}

static int cmp_double(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* The q-quantile of v[0..n) (sorts v). */
static double quantile(double *v, int n, double q) {
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return v[(int)(q * (n - 1) + 0.5)];
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s LIB_A LIB_B [rounds]\n", argv[0]);
        return 2;
    }
    int rounds = argc > 3 ? atoi(argv[3]) : 301;
    if (rounds < 11) rounds = 11;
    load(&A, argv[1]);
    load(&B, argv[2]);
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
            double t0 = now_s();
            for (int i = 0; i < calls; i++)
                run_one(k);
            t[k][r] = (now_s() - t0) / calls * 1e6;
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
        printf("  %-12s median %.3f\n", name[k], quantile(t[k], rounds, 0.5));
    for (int k = 1; k < 5; k++) {
        double med = quantile(d[k], rounds, 0.5), p90 = quantile(d[k], rounds, 0.9);
        printf("  %-12s minus bare: median %.3f, p90 %.3f\n", name[k], med, p90);
    }
    printf("  chain B - A, paired per round: median %.3f\n", quantile(d[0], rounds, 0.5));
    return 0;
}
