/* What the same-process A/B programs share (ab_libs.c for two libafcuda.so.3 builds,
 * ab_host_cpu.c for two libafcpu.so.3 builds): one build's few public functions resolved with
 * dlopen/dlsym, bench.c's 16-op chain and a single af_add on either build, and the clock and
 * quantiles of the report. Header-only: each program is one translation unit. */
#ifndef EMBER_BENCH_AB_LIB_H
#define EMBER_BENCH_AB_LIB_H

#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef void *arr;
typedef long long dim_t;

/* The few public functions the loops call, resolved in one library, and its two inputs. */
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
    int (*eval)(arr);
    int (*sync)(int);
    arr a, b;
} lib;

enum { ab_f32 = 0 };
static const dim_t ab_n1024[1] = {1024};

static void *ab_sym(void *h, const char *path, const char *name) {
    void *p = dlsym(h, name);
    if (!p) {
        fprintf(stderr, "%s: no symbol %s\n", path, name);
        exit(2);
    }
    return p;
}

static void ab_fail(const lib *l, const char *what) {
    fprintf(stderr, "%s: %s failed\n", l->path, what);
    exit(2);
}

/* Opens the library at path (its own namespace) and makes its two 1024-element f32 inputs from
 * the same host values in every build, so setup is the same work in both. */
static void ab_load(lib *l, const char *path) {
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "%s\n", dlerror());
        exit(2);
    }
    l->path = path;
    *(void **)&l->create = ab_sym(h, path, "af_create_array");
    *(void **)&l->retain = ab_sym(h, path, "af_retain_array");
    *(void **)&l->release = ab_sym(h, path, "af_release_array");
    *(void **)&l->mul = ab_sym(h, path, "af_mul");
    *(void **)&l->add = ab_sym(h, path, "af_add");
    *(void **)&l->sub = ab_sym(h, path, "af_sub");
    *(void **)&l->abs_ = ab_sym(h, path, "af_abs");
    *(void **)&l->constant = ab_sym(h, path, "af_constant");
    *(void **)&l->eval = ab_sym(h, path, "af_eval");
    *(void **)&l->sync = ab_sym(h, path, "af_sync");
    static float va[1024], vb[1024];
    for (int i = 0; i < 1024; i++) {
        va[i] = (float)((i * 37) % 101) / 101.0f;
        vb[i] = (float)((i * 53) % 97) / 97.0f;
    }
    if (l->create(&l->a, va, 1, ab_n1024, ab_f32) || l->create(&l->b, vb, 1, ab_n1024, ab_f32))
        ab_fail(l, "af_create_array (no device?)");
}

/* bench.c's chain (build_chain16): mul, add of a constant, sub, abs, four times over; then
 * evaluated when eval, and released. */
static void ab_chain(const lib *l, bool eval) {
    arr x, t, k;
    if (l->retain(&x, l->a)) ab_fail(l, "af_retain_array");
    for (int i = 0; i < 16; i++) {
        int e;
        switch (i % 4) {
        case 0:
            e = l->mul(&t, x, l->b, false);
            break;
        case 1:
            e = l->constant(&k, 0.5, 1, ab_n1024, ab_f32);
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
        if (e) ab_fail(l, "a chain op");
        l->release(x);
        x = t;
    }
    if (eval && l->eval(x)) ab_fail(l, "af_eval");
    l->release(x);
}

/* One lazy af_add, evaluated when eval, and released. */
static void ab_add1(const lib *l, bool eval) {
    arr o;
    if (l->add(&o, l->a, l->b, false)) ab_fail(l, "af_add");
    if (eval && l->eval(o)) ab_fail(l, "af_eval");
    l->release(o);
}

static double ab_now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int ab_cmp_double(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* The q-quantile of v[0..n) (sorts v). */
static double ab_quantile(double *v, int n, double q) {
    qsort(v, (size_t)n, sizeof(*v), ab_cmp_double);
    return v[(int)(q * (n - 1) + 0.5)];
}

#endif
