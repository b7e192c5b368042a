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
    int (*create)(arr *, const void *, unsigned, const dim_t *, int);
    int (*retain)(arr *, arr);
    int (*release)(arr);
    int (*mul)(arr *, arr, arr, bool);
    int (*add)(arr *, arr, arr, bool);
    int (*sub)(arr *, arr, arr, bool);
    int (*abs_)(arr *, arr);
    int (*constant)(arr *, double, unsigned, const dim_t *, int);
    arr a, b;
} lib;

enum { calls = 2000, f32 = 0, nloops = 4 };
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
    *(void **)&l->create = sym(h, path, "af_create_array");
    *(void **)&l->retain = sym(h, path, "af_retain_array");
    *(void **)&l->release = sym(h, path, "af_release_array");
    *(void **)&l->mul = sym(h, path, "af_mul");
    *(void **)&l->add = sym(h, path, "af_add");
    *(void **)&l->sub = sym(h, path, "af_sub");
    *(void **)&l->abs_ = sym(h, path, "af_abs");
    *(void **)&l->constant = sym(h, path, "af_constant");
    static float va[1024], vb[1024];
    for (int i = 0; i < 1024; i++) {
        va[i] = (float)((i * 37) % 101) / 101.0f;
        vb[i] = (float)((i * 53) % 97) / 97.0f;
    }
    if (l->create(&l->a, va, 1, n1024, f32) || l->create(&l->b, vb, 1, n1024, f32)) {
        fprintf(stderr, "%s: af_create_array failed\n", path);
        exit(2);
    }
}

static void fail(const lib *l, const char *what) {
    fprintf(stderr, "%s: %s failed\n", l->path, what);
    exit(2);
}

/* bench.c's chain (build_chain16): mul, add of a constant, sub, abs, four times over, then
 * released without evaluation (bench.c's "16-op chain, build+release only" row). */
static void chain(const lib *l) {
    arr x, t, k;
    if (l->retain(&x, l->a)) fail(l, "af_retain_array");
    for (int i = 0; i < 16; i++) {
        int e;
        switch (i % 4) {
        case 0:
            e = l->mul(&t, x, l->b, false);
            break;
        case 1:
            e = l->constant(&k, 0.5, 1, n1024, f32);
            if (!e) e = l->add(&t, x, k, false);
            l->release(k);
            break;
        case 2:
            e = l->sub(&t, x, l->a, false);
            break;
        default:
            e = l->abs_(&t, x);
            break;
        }
        if (e) fail(l, "a chain op");
        l->release(x);
        x = t;
    }
    l->release(x);
}

/* One lazy af_add, released without evaluation. */
static void add1(const lib *l) {
    arr o;
    if (l->add(&o, l->a, l->b, false)) fail(l, "af_add");
    l->release(o);
}

static lib A, B;

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* Loop k of a round: 0 chain A, 1 chain B, 2 add A, 3 add B. */
static void run_one(int k) {
    switch (k) {
    case 0:
        chain(&A);
        break;
    case 1:
        chain(&B);
        break;
    case 2:
        add1(&A);
        break;
    default:
        add1(&B);
        break;
    }
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
            double t0 = now_s();
            for (int i = 0; i < calls; i++)
                run_one(k);
            t[k][r] = (now_s() - t0) / calls * 1e6;
        }
        dchain[r] = t[1][r] - t[0][r];
        dadd[r] = t[3][r] - t[2][r];
    }
    printf("A = %s\nB = %s\n%d rounds of %d calls, host time per call (us):\n", A.path, B.path,
           rounds, calls);
    const char *name[nloops] = {"chain A", "chain B", "add A", "add B"};
    for (int k = 0; k < nloops; k++)
        printf("  %-8s median %.4f, p10 %.4f\n", name[k], quantile(t[k], rounds, 0.5),
               quantile(t[k], rounds, 0.1));
    printf("  chain B - A, paired per round: median %.4f\n", quantile(dchain, rounds, 0.5));
    printf("  add   B - A, paired per round: median %.4f\n", quantile(dadd, rounds, 0.5));
    A.release(A.a);
    A.release(A.b);
    B.release(B.a);
    B.release(B.b);
    return 0;
}
