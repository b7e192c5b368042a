/* The CPU backend's fused path (src/backend/cpu/jit_cc.c, docs/CPU_FUSION.md): eligible programs
 * are compiled to one C loop with the system compiler. Each case evaluates an expression twice,
 * fused and on the interpreter, and requires the same bits (NaN payloads aside), then compares
 * with a plain-C double reference. The cases reach the path's switch and threshold through test
 * hooks exported by libafcpu.so.3 (em_cpu_fuse_configure, em_cpu_fuse_counters), found with
 * dlsym, because the environment variables are read once per process. They skip on other
 * backends, and skip (after checking the results) where no C compiler works. */
#define _GNU_SOURCE
/* The references are computed one rounding per operation, as the kernels compute: no fused
 * multiply-add contracted from a*b + c. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif
#include "test.h"

#include <dirent.h>
#include <dlfcn.h>
#include <pthread.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { C_FUSED, C_COMPILED, C_DISK_HITS, C_FAILED };

static void (*fuse_configure)(int enabled, long long min_elements);
static void (*fuse_counters)(long long out[4]);

static void need_hooks(void) {
    if (em_test_backend() != AF_BACKEND_CPU) SKIP("the fused path belongs to the CPU backend");
    void *h = dlopen("libafcpu.so.3", RTLD_NOW | RTLD_NOLOAD);
    if (!h) SKIP("libafcpu.so.3 is not loaded");
    void *c = dlsym(h, "em_cpu_fuse_configure"), *n = dlsym(h, "em_cpu_fuse_counters");
    dlclose(h);
    if (!c || !n) SKIP("libafcpu.so.3 exports no fusion hooks");
    memcpy(&fuse_configure, &c, sizeof(c));
    memcpy(&fuse_counters, &n, sizeof(n));
}

static long long counter(int which) {
    long long c[4];
    fuse_counters(c);
    return c[which];
}

/* Uniform values with NaN, +-inf, +-0 at scattered positions (different ones for each input, so
 * that specials meet ordinary values). */
static double *inputs(size_t n, double lo, double hi, unsigned salt) {
    static const double sp[] = {NAN, INFINITY, -INFINITY, 0.0, -0.0};
    double *x = malloc(n * sizeof(double));
    em_test_fill(x, n, lo, hi, false);
    for (size_t i = 0; i < sizeof(sp) / sizeof(sp[0]); i++)
        x[(i * 7 + salt) % n] = sp[i];
    return x;
}

/* Rounds host inputs to the values an array of dtype t stores (f32 rounds; f64 keeps them), so a
 * double reference starts from what the library reads. */
static void as_stored(double *x, dim_t n, af_dtype t) {
    if (t == f32)
        for (dim_t i = 0; i < n; i++)
            x[i] = (float)x[i];
}

/* Equal bits, or both NaN of any payload (docs/JIT_OPS.md leaves payloads unspecified). Returns
 * the first differing index, or -1. */
static long long first_diff(const void *x, const void *y, size_t n, af_dtype t) {
    for (size_t i = 0; i < n; i++) {
        if (t == f32) {
            float a, b;
            memcpy(&a, (const char *)x + 4 * i, 4);
            memcpy(&b, (const char *)y + 4 * i, 4);
            if (memcmp(&a, &b, 4) != 0 && !(isnan(a) && isnan(b))) return (long long)i;
        } else if (t == f64) {
            double a, b;
            memcpy(&a, (const char *)x + 8 * i, 8);
            memcpy(&b, (const char *)y + 8 * i, 8);
            if (memcmp(&a, &b, 8) != 0 && !(isnan(a) && isnan(b))) return (long long)i;
        } else if (memcmp((const char *)x + i * em_test_dtype_size(t),
                          (const char *)y + i * em_test_dtype_size(t), em_test_dtype_size(t))) {
            return (long long)i;
        }
    }
    return -1;
}

#define MAX_OUT 8
typedef int (*build_fn)(af_array *outs, const af_array *ins, af_dtype t, dim_t n);

typedef struct {
    int nout;
    af_dtype type[MAX_OUT];
    void *raw[MAX_OUT];
    double *val[MAX_OUT]; /* raw converted to doubles */
    long long fused, failed;
} run_result;

/* Builds the expression, evaluates its outputs together (one program) with the path on or off,
 * and reads them back. */
static void run(build_fn build, const af_array *ins, af_dtype t, dim_t n, bool fuse,
                run_result *r) {
    af_array outs[MAX_OUT] = {0};
    memset(r, 0, sizeof(*r));
    r->nout = build(outs, ins, t, n);
    fuse_configure(fuse, 0);
    long long f0 = counter(C_FUSED), e0 = counter(C_FAILED);
    CHECK_AF(af_eval_multiple(r->nout, outs));
    r->fused = counter(C_FUSED) - f0;
    r->failed = counter(C_FAILED) - e0;
    for (int o = 0; o < r->nout; o++) {
        CHECK_AF(af_get_type(&r->type[o], outs[o]));
        size_t es = em_test_dtype_size(r->type[o]);
        r->raw[o] = malloc((size_t)n * es);
        r->val[o] = malloc((size_t)n * sizeof(double));
        CHECK_AF(af_get_data_ptr(r->raw[o], outs[o]));
        em_test_from_host(r->raw[o], (size_t)n, r->type[o], r->val[o]);
        CHECK_AF(af_release_array(outs[o]));
    }
}

static void run_free(run_result *r) {
    for (int o = 0; o < r->nout; o++) {
        free(r->raw[o]);
        free(r->val[o]);
    }
}

/* The fused run must match the interpreter's run bit for bit, output by output. */
static void check_same(const run_result *on, const run_result *off, dim_t n, const char *what) {
    CHECK(on->nout == off->nout);
    for (int o = 0; o < on->nout && o < off->nout; o++) {
        CHECK(on->type[o] == off->type[o]);
        long long d = first_diff(on->raw[o], off->raw[o], (size_t)n, on->type[o]);
        if (d >= 0)
            em_test_fail(__FILE__, __LINE__,
                         "%s, output %d (%s), n=%lld: fused %.17g, interpreter %.17g at %lld", what,
                         o, em_test_dtype_name(on->type[o]), (long long)n, on->val[o][d],
                         off->val[o][d], d);
    }
}

static bool compiler_missing; /* a kernel failed to build in this process */

/* Runs an expression both ways over inputs a and b of type t and n elements; returns the fused
 * run (the caller checks it against its reference and frees it). `expect_fused` says whether the
 * program is eligible. */
static run_result both_ways(build_fn build, const double *ha, const double *hb, af_dtype t, dim_t n,
                            bool expect_fused, const char *what) {
    dim_t dims[1] = {n};
    af_array ins[2] = {em_test_make(ha, 1, dims, t), em_test_make(hb, 1, dims, t)};
    run_result on, off;
    run(build, ins, t, n, true, &on);
    run(build, ins, t, n, false, &off);
    if (on.failed > 0) compiler_missing = true;
    if (expect_fused && on.fused == 0 && !compiler_missing)
        em_test_fail(__FILE__, __LINE__, "%s (%s, n=%lld) did not run fused", what,
                     em_test_dtype_name(t), (long long)n);
    if (!expect_fused) CHECK(on.fused == 0);
    CHECK(off.fused == 0);
    check_same(&on, &off, n, what);
    run_free(&off);
    af_release_array(ins[0]);
    af_release_array(ins[1]);
    return on;
}

static af_array konst(double v, af_dtype t, dim_t n) {
    af_array k = 0;
    dim_t dims[1] = {n};
    CHECK_AF(af_constant(&k, v, 1, dims, t));
    return k;
}

/* Applies a binary or unary API function and releases the operands that are temporaries. */
typedef af_err (*bin_fn)(af_array *, const af_array, const af_array, const bool);
typedef af_err (*un_fn)(af_array *, const af_array);
static af_array bin(bin_fn f, af_array x, af_array y, bool rel_x, bool rel_y) {
    af_array r = 0;
    CHECK_AF(f(&r, x, y, false));
    if (rel_x) af_release_array(x);
    if (rel_y) af_release_array(y);
    return r;
}
static af_array un(un_fn f, af_array x, bool rel_x) {
    af_array r = 0;
    CHECK_AF(f(&r, x));
    if (rel_x) af_release_array(x);
    return r;
}

static double ref_min(double x, double y) {
    return (x < y || isnan(y)) ? x : y;
}
static double ref_max(double x, double y) {
    return (x > y || isnan(y)) ? x : y;
}

/* ---- arithmetic: + - * /, abs, minof, maxof, sqrt, a scalar, a repeated operand ---- */

/* out = sqrt(abs(maxof(minof((a*a + k) / (abs(b) + k), b), a - b))) * b - a, k = 0.75 */
static int build_arith(af_array *outs, const af_array *in, af_dtype t, dim_t n) {
    af_array a = in[0], b = in[1];
    af_array t1 = bin(af_add, bin(af_mul, a, a, false, false), konst(0.75, t, n), true, true);
    af_array t2 = bin(af_add, un(af_abs, b, false), konst(0.75, t, n), true, true);
    af_array t4 = bin(af_minof, bin(af_div, t1, t2, true, true), b, true, false);
    af_array t6 = bin(af_maxof, t4, bin(af_sub, a, b, false, false), true, true);
    af_array t7 = un(af_sqrt, un(af_abs, t6, true), true);
    outs[0] = bin(af_sub, bin(af_mul, t7, b, true, false), a, true, false);
    return 1;
}

static double ref_arith(double a, double b) {
    double t3 = (a * a + 0.75) / (fabs(b) + 0.75);
    double t7 = sqrt(fabs(ref_max(ref_min(t3, b), a - b)));
    return t7 * b - a;
}

TEST(cpu_fuse_arith_bitexact) {
    need_hooks();
    static const dim_t sizes[] = {1, 7, 1025, 100003};
    static const af_dtype types[] = {f32, f64};
    for (int ti = 0; ti < 2; ti++)
        for (int si = 0; si < 4; si++) {
            dim_t n = sizes[si];
            af_dtype t = types[ti];
            double *ha = inputs((size_t)n, -3, 3, 0), *hb = inputs((size_t)n, -3, 3, 3);
            as_stored(ha, n, t); /* the reference starts from the stored inputs */
            as_stored(hb, n, t);
            run_result r = both_ways(build_arith, ha, hb, t, n, true, "arith");
            double *ref = malloc((size_t)n * sizeof(double));
            for (dim_t i = 0; i < n; i++)
                ref[i] = ref_arith(ha[i], hb[i]);
            CHECK_CLOSE(r.val[0], ref, (size_t)n, t == f32 ? 1e-5 : 1e-13, t == f32 ? 1e-5 : 1e-13);
            run_free(&r);
            free(ref);
            free(ha);
            free(hb);
        }
    fuse_configure(-1, 1 << 18);
    if (compiler_missing) SKIP("no working C compiler: results checked on the interpreter only");
}

/* ---- several outputs of mixed dtypes from one program ---- */

/* x = a*b + 1.5; outputs x, a < b, x cast to the other float type, select(a < b, a, x), isnan(x),
 * and the constant -2 */
static int build_multi(af_array *outs, const af_array *in, af_dtype t, dim_t n) {
    af_array a = in[0], b = in[1];
    af_array x = bin(af_add, bin(af_mul, a, b, false, false), konst(1.5, t, n), true, true);
    outs[0] = x;
    outs[1] = bin(af_lt, a, b, false, false);
    CHECK_AF(af_cast(&outs[2], x, t == f32 ? f64 : f32));
    CHECK_AF(af_select(&outs[3], outs[1], a, x));
    outs[4] = un(af_isnan, x, false);
    outs[5] = konst(-2.0, t, n); /* an output that is a leaf of the program */
    return 6;
}

TEST(cpu_fuse_multiple_outputs) {
    need_hooks();
    static const dim_t sizes[] = {1, 7, 1025, 100003};
    static const af_dtype types[] = {f32, f64};
    for (int ti = 0; ti < 2; ti++)
        for (int si = 0; si < 4; si++) {
            dim_t n = sizes[si];
            af_dtype t = types[ti];
            double *ha = inputs((size_t)n, -4, 4, 1), *hb = inputs((size_t)n, -4, 4, 5);
            as_stored(ha, n, t);
            as_stored(hb, n, t);
            run_result r = both_ways(build_multi, ha, hb, t, n, true, "multi");
            CHECK(r.nout == 6);
            CHECK(r.type[0] == t && r.type[1] == b8 && r.type[2] == (t == f32 ? f64 : f32));
            CHECK(r.type[3] == t && r.type[4] == b8 && r.type[5] == t);
            double *ref[6];
            for (int o = 0; o < 6; o++)
                ref[o] = malloc((size_t)n * sizeof(double));
            for (dim_t i = 0; i < n; i++) {
                /* x in the array's type: a product of two floats and 1.5, rounded twice. */
                double x = t == f32 ? (double)((float)(ha[i] * hb[i]) + 1.5f) : ha[i] * hb[i] + 1.5;
                ref[0][i] = x;
                ref[1][i] = ha[i] < hb[i];
                ref[2][i] = t == f32 ? x : (double)(float)x;
                ref[3][i] = ha[i] < hb[i] ? ha[i] : x;
                ref[4][i] = isnan(x);
                ref[5][i] = -2.0;
            }
            for (int o = 0; o < 6; o++) {
                CHECK_CLOSE(r.val[o], ref[o], (size_t)n, 0, 0);
                free(ref[o]);
            }
            run_free(&r);
            free(ha);
            free(hb);
        }
    fuse_configure(-1, 1 << 18);
    if (compiler_missing) SKIP("no working C compiler: results checked on the interpreter only");
}

/* ---- exact rounding functions, sign, classification and logic ---- */

static int build_round(af_array *outs, const af_array *in, af_dtype t, dim_t n) {
    (void)t;
    (void)n;
    af_array a = in[0], b = in[1];
    outs[0] = un(af_floor, a, false);
    outs[1] = un(af_ceil, a, false);
    outs[2] = un(af_trunc, a, false);
    outs[3] = un(af_round, a, false);
    outs[4] = un(af_sign, a, false);
    outs[5] = bin(af_and, a, b, false, false);
    outs[6] = bin(af_or, un(af_iszero, a, false), un(af_isinf, b, false), true, true);
    outs[7] = un(af_not, bin(af_ge, a, b, false, false), true);
    return 8;
}

TEST(cpu_fuse_rounding_and_logic) {
    need_hooks();
    static const dim_t sizes[] = {7, 1025, 100003};
    static const af_dtype types[] = {f32, f64};
    for (int ti = 0; ti < 2; ti++)
        for (int si = 0; si < 3; si++) {
            dim_t n = sizes[si];
            af_dtype t = types[ti];
            double *ha = inputs((size_t)n, -10, 10, 2), *hb = inputs((size_t)n, -2, 2, 4);
            /* Quarters, so halfway cases (2.5, -0.5) are plentiful; a few large values. */
            for (dim_t i = 5; i < n; i++)
                if (!isnan(ha[i]) && !isinf(ha[i]) && ha[i] != 0) ha[i] = round(ha[i] * 4) / 4;
            if (n > 20) ha[11] = 8388607.5, ha[12] = -4194304.5, ha[13] = 1e30, ha[14] = -1e-40;
            as_stored(ha, n, t);
            as_stored(hb, n, t);
            run_result r = both_ways(build_round, ha, hb, t, n, true, "round");
            CHECK(r.nout == 8);
            double *ref = malloc((size_t)n * sizeof(double));
            double (*const fns[4])(double) = {floor, ceil, trunc, round};
            for (int o = 0; o < 8; o++) {
                for (dim_t i = 0; i < n; i++) {
                    double x = ha[i], y = hb[i];
                    ref[i] = o < 4    ? fns[o](x)
                             : o == 4 ? (signbit(x) ? 1 : 0)
                             : o == 5 ? (x != 0 && y != 0)
                             : o == 6 ? (x == 0 || isinf(y))
                                      : !(x >= y);
                }
                CHECK_CLOSE(r.val[o], ref, (size_t)n, 0, 0);
            }
            free(ref);
            run_free(&r);
            free(ha);
            free(hb);
        }
    fuse_configure(-1, 1 << 18);
    if (compiler_missing) SKIP("no working C compiler: results checked on the interpreter only");
}

/* ---- an ineligible program runs on the interpreter ---- */

static int build_sin(af_array *outs, const af_array *in, af_dtype t, dim_t n) {
    af_array s = un(af_sin, in[0], false);
    outs[0] = bin(af_add, bin(af_mul, s, in[1], true, false), konst(0.25, t, n), true, true);
    return 1;
}

TEST(cpu_fuse_ineligible_program) {
    need_hooks();
    dim_t n = 100003;
    for (int ti = 0; ti < 2; ti++) {
        af_dtype t = ti ? f64 : f32;
        double *ha = inputs((size_t)n, -5, 5, 0), *hb = inputs((size_t)n, -5, 5, 2);
        as_stored(ha, n, t);
        as_stored(hb, n, t);
        run_result r = both_ways(build_sin, ha, hb, t, n, false, "sin");
        double *ref = malloc((size_t)n * sizeof(double));
        for (dim_t i = 0; i < n; i++)
            ref[i] = sin(ha[i]) * hb[i] + 0.25;
        CHECK_CLOSE(r.val[0], ref, (size_t)n, t == f32 ? 1e-5 : 1e-13, t == f32 ? 1e-5 : 1e-13);
        free(ref);
        run_free(&r);
        free(ha);
        free(hb);
    }
    fuse_configure(-1, 1 << 18);
}

/* ---- the threshold ---- */

TEST(cpu_fuse_threshold) {
    need_hooks();
    dim_t big = ((dim_t)1 << 18) + 3;
    double *ha = inputs((size_t)big, -3, 3, 0), *hb = inputs((size_t)big, -3, 3, 1);
    dim_t dims[1] = {1025};
    af_array a = em_test_make(ha, 1, dims, f64), b = em_test_make(hb, 1, dims, f64);
    af_array ins[2] = {a, b}, out[1];
    fuse_configure(1, 1 << 18);
    long long f0 = counter(C_FUSED);
    build_arith(out, ins, f64, 1025);
    CHECK_AF(af_eval(out[0]));
    CHECK(counter(C_FUSED) == f0); /* below the threshold: interpreter */
    af_release_array(out[0]);
    af_release_array(a);
    af_release_array(b);
    /* At the threshold, with more elements than one thread's share: the OpenMP split. */
    dims[0] = big;
    a = em_test_make(ha, 1, dims, f64);
    b = em_test_make(hb, 1, dims, f64);
    ins[0] = a, ins[1] = b;
    long long e0 = counter(C_FAILED);
    build_arith(out, ins, f64, big);
    CHECK_AF(af_eval(out[0]));
    bool fused = counter(C_FUSED) == f0 + 1;
    CHECK(fused || counter(C_FAILED) > e0);
    double *got = em_test_read(out[0], NULL), *ref = malloc((size_t)big * sizeof(double));
    for (dim_t i = 0; i < big; i++)
        ref[i] = ref_arith(ha[i], hb[i]);
    CHECK_CLOSE(got, ref, (size_t)big, 1e-13, 1e-13);
    af_release_array(out[0]);
    af_release_array(a);
    af_release_array(b);
    free(got);
    free(ref);
    free(ha);
    free(hb);
    if (!fused) SKIP("no working C compiler: results checked on the interpreter only");
}

/* ---- an output that is also an input (af_replace) stays on the interpreter ---- */

TEST(cpu_fuse_output_aliases_input) {
    need_hooks();
    dim_t n = 100003, dims[1] = {n};
    double *ha = inputs((size_t)n, -3, 3, 0), *hb = inputs((size_t)n, -3, 3, 4);
    af_array a = em_test_make(ha, 1, dims, f32), b = em_test_make(hb, 1, dims, f32), cond = 0;
    CHECK_AF(af_gt(&cond, a, b, false));
    CHECK_AF(af_eval(cond));
    fuse_configure(1, 0);
    long long f0 = counter(C_FUSED);
    CHECK_AF(af_replace(a, cond, b)); /* a = cond ? a : b, evaluated into a's own buffer */
    CHECK(counter(C_FUSED) == f0);
    double *got = em_test_read(a, NULL), *ref = malloc((size_t)n * sizeof(double));
    for (dim_t i = 0; i < n; i++) {
        float x = (float)ha[i], y = (float)hb[i];
        ref[i] = x > y ? x : y;
    }
    CHECK_CLOSE(got, ref, (size_t)n, 0, 0);
    fuse_configure(-1, 1 << 18);
    af_release_array(a);
    af_release_array(b);
    af_release_array(cond);
    free(got);
    free(ref);
    free(ha);
    free(hb);
}

/* ---- no compiler: silent fallback, never retried ---- */

static void remove_dir(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char path[1200];
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
            unlink(path);
        }
    closedir(d);
    rmdir(dir);
}

/* Counts the files in dir whose names end with suffix ("" for all). */
static int count_files(const char *dir, const char *suffix) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    size_t ls = strlen(suffix);
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || l < ls) continue;
        n += strcmp(e->d_name + l - ls, suffix) == 0;
    }
    closedir(d);
    return n;
}

/* Nothing but kernels (cpu-<id>.so) and, with EMBER_CPU_FUSE_DEBUG=1, their sources
 * (cpu-<id>.c): no temporary file is left behind. */
static void check_no_temporaries(const char *dir) {
    int so = count_files(dir, ".so"), c = count_files(dir, ".c"), all = count_files(dir, "");
    CHECK(all == so + c);
    const char *debug = getenv("EMBER_CPU_FUSE_DEBUG");
    if (!(debug && strcmp(debug, "1") == 0)) CHECK(c == 0);
}

/* A private kernel cache directory for one case; the previous one is put back by cache_pop. */
static char *cache_push(char *dir) {
    size_t len = 0;
    CHECK_AF(af_get_kernel_cache_directory(&len, NULL));
    char *old = calloc(len + 1, 1);
    CHECK_AF(af_get_kernel_cache_directory(&len, old));
    if (!mkdtemp(dir)) em_test_fail(__FILE__, __LINE__, "mkdtemp %s failed", dir);
    CHECK_AF(af_set_kernel_cache_directory(dir, 1));
    return old;
}
static void cache_pop(char *old, const char *dir) {
    CHECK_AF(af_set_kernel_cache_directory(old, 1));
    free(old);
    remove_dir(dir);
}

/* A structure no other case builds, so no earlier case in the process has its kernel. */
static int build_unique(af_array *outs, const af_array *in, af_dtype t, dim_t n) {
    af_array lo = bin(af_minof, in[0], in[1], false, false);
    af_array hi = bin(af_maxof, in[1], in[0], false, false);
    af_array p = bin(af_mul, lo, hi, true, true);
    outs[0] = bin(af_sub, p, konst(-2.5, t, n), true, true);
    outs[1] = bin(af_eq, in[0], in[1], false, false);
    return 2;
}

TEST(cpu_fuse_compiler_missing) {
    need_hooks();
    char dir[] = "/tmp/ember_fuse_testXXXXXX";
    char *old = cache_push(dir);
    setenv("EMBER_CC", "/nonexistent/ember-cc", 1);
    dim_t n = 1025;
    double *ha = inputs((size_t)n, -3, 3, 0), *hb = inputs((size_t)n, -3, 3, 2);
    for (int pass = 0; pass < 2; pass++) {
        long long e0 = counter(C_FAILED), c0 = counter(C_COMPILED);
        run_result r = both_ways(build_unique, ha, hb, f64, n, false, "no compiler");
        CHECK(r.fused == 0);
        /* One failure on the first request; the key is then known as failed and not retried. */
        CHECK(counter(C_FAILED) - e0 == (pass == 0 ? 1 : 0));
        CHECK(counter(C_COMPILED) == c0);
        double *ref = malloc((size_t)n * sizeof(double));
        for (dim_t i = 0; i < n; i++)
            ref[i] = ref_min(ha[i], hb[i]) * ref_max(hb[i], ha[i]) + 2.5;
        CHECK_CLOSE(r.val[0], ref, (size_t)n, 0, 0);
        free(ref);
        run_free(&r);
    }
    CHECK(count_files(dir, ".so") == 0);
    check_no_temporaries(dir);
    unsetenv("EMBER_CC");
    fuse_configure(-1, 1 << 18);
    cache_pop(old, dir);
    free(ha);
    free(hb);
}

/* ---- the disk cache: a kernel compiled by one process is loaded by the next ---- */

static int build_cached(af_array *outs, const af_array *in, af_dtype t, dim_t n) {
    af_array s = bin(af_div, in[1], konst(3.0, t, n), false, true);
    af_array d = bin(af_sub, s, bin(af_mul, in[0], in[0], false, false), true, true);
    outs[0] = un(af_sqrt, un(af_abs, d, true), true);
    return 1;
}

TEST(cpu_fuse_disk_cache) {
    need_hooks();
    char dir[] = "/tmp/ember_fuse_testXXXXXX";
    char *old = cache_push(dir);
    dim_t n = 1025, dims[1] = {n};
    double *ha = inputs((size_t)n, -3, 3, 0), *hb = inputs((size_t)n, -3, 3, 2);
    /* The first process: compiles the kernel into the directory. Exit status 0: compiled, 2: no
     * compiler. It forks before this process evaluates anything, and its arrays are small enough
     * to stay on one thread. */
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        af_array ins[2] = {em_test_make(ha, 1, dims, f32), em_test_make(hb, 1, dims, f32)}, out;
        fuse_configure(1, 0);
        long long c = counter(C_COMPILED), e = counter(C_FAILED);
        build_cached(&out, ins, f32, n);
        int rc = af_eval(out) != AF_SUCCESS     ? 1
                 : counter(C_COMPILED) == c + 1 ? 0
                 : counter(C_FAILED) == e + 1   ? 2
                                                : 3;
        _exit(rc);
    }
    int status = -1;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status));
    int rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    CHECK(rc == 0 || rc == 2);
    if (rc == 0) CHECK(count_files(dir, ".so") == 1);
    check_no_temporaries(dir);
    /* This process: the same program is a disk-cache hit, not a compile. */
    long long h0 = counter(C_DISK_HITS), c0 = counter(C_COMPILED);
    run_result r = both_ways(build_cached, ha, hb, f32, n, rc == 0, "disk cache");
    if (rc == 0) {
        CHECK(counter(C_DISK_HITS) == h0 + 1);
        CHECK(counter(C_COMPILED) == c0);
    }
    double *ref = malloc((size_t)n * sizeof(double));
    for (dim_t i = 0; i < n; i++) {
        double a = (float)ha[i], b = (float)hb[i];
        ref[i] = sqrt(fabs(b / 3.0 - a * a));
    }
    CHECK_CLOSE(r.val[0], ref, (size_t)n, 1e-5, 1e-5);
    free(ref);
    run_free(&r);
    fuse_configure(-1, 1 << 18);
    cache_pop(old, dir);
    free(ha);
    free(hb);
    if (rc == 2) SKIP("no working C compiler: results checked on the interpreter only");
}

/* ---- several threads ask for the same new kernel at once ---- */

typedef struct {
    const double *ha, *hb, *ref;
    dim_t n;
} thread_job;

static void *eval_thread(void *arg) {
    const thread_job *j = arg;
    /* Through libaf.so.3 the backend is chosen per thread, and a new thread starts on the
     * default one (CUDA where a device exists): take the case's backend. */
    CHECK_AF(af_set_backend(em_test_backend()));
    dim_t dims[1] = {j->n};
    af_array a = em_test_make(j->ha, 1, dims, f64), b = em_test_make(j->hb, 1, dims, f64), out;
    af_array s = bin(af_add, a, b, false, false);
    af_array d = bin(af_sub, a, konst(0.5, f64, j->n), false, true);
    out = bin(af_mul, s, d, true, true);
    CHECK_AF(af_eval(out));
    double *got = em_test_read(out, NULL);
    if (got) CHECK_CLOSE(got, j->ref, (size_t)j->n, 0, 0);
    free(got);
    af_release_array(out);
    af_release_array(a);
    af_release_array(b);
    return NULL;
}

TEST(cpu_fuse_threads_share_one_compile) {
    need_hooks();
    char dir[] = "/tmp/ember_fuse_testXXXXXX";
    char *old = cache_push(dir);
    dim_t n = 100003;
    double *ha = inputs((size_t)n, -3, 3, 0), *hb = inputs((size_t)n, -3, 3, 2);
    double *ref = malloc((size_t)n * sizeof(double));
    for (dim_t i = 0; i < n; i++)
        ref[i] = (ha[i] + hb[i]) * (ha[i] - 0.5);
    fuse_configure(1, 0);
    long long c0 = counter(C_COMPILED), e0 = counter(C_FAILED), d0 = counter(C_DISK_HITS);
    long long f0 = counter(C_FUSED);
    enum { T = 4 };
    pthread_t th[T];
    thread_job job = {ha, hb, ref, n};
    for (int i = 0; i < T; i++)
        CHECK(pthread_create(&th[i], NULL, eval_thread, &job) == 0);
    for (int i = 0; i < T; i++)
        pthread_join(th[i], NULL);
    /* One build for all: threads that ask while it is being built run the interpreter. */
    long long built = counter(C_COMPILED) - c0, failed = counter(C_FAILED) - e0;
    long long disk = counter(C_DISK_HITS) - d0, fused = counter(C_FUSED) - f0;
    if (built + failed + disk != 1)
        em_test_fail(__FILE__, __LINE__,
                     "one kernel request expected: compiled %lld, failed %lld, disk hits %lld, "
                     "fused runs %lld",
                     built, failed, disk, fused);
    fuse_configure(-1, 1 << 18);
    cache_pop(old, dir);
    free(ref);
    free(ha);
    free(hb);
    if (failed) SKIP("no working C compiler: results checked on the interpreter only");
}

/* ---- no usable cache directory: a private temporary one ---- */

static int build_private(af_array *outs, const af_array *in, af_dtype t, dim_t n) {
    af_array q = bin(af_div, bin(af_sub, in[0], in[1], false, false),
                     bin(af_add, in[0], konst(4.0, t, n), false, true), true, true);
    outs[0] = un(af_sqrt, q, true);
    return 1;
}

TEST(cpu_fuse_private_directory) {
    need_hooks();
    size_t len = 0;
    CHECK_AF(af_get_kernel_cache_directory(&len, NULL));
    char *old = calloc(len + 1, 1);
    CHECK_AF(af_get_kernel_cache_directory(&len, old));
    CHECK_AF(af_set_kernel_cache_directory("/nonexistent/ember-kernel-cache", 1));
    dim_t n = 1025;
    double *ha = inputs((size_t)n, 0, 8, 0), *hb = inputs((size_t)n, -3, 3, 2);
    as_stored(ha, n, f32);
    as_stored(hb, n, f32);
    run_result r = both_ways(build_private, ha, hb, f32, n, true, "private directory");
    double *ref = malloc((size_t)n * sizeof(double));
    for (dim_t i = 0; i < n; i++)
        ref[i] = sqrt((ha[i] - hb[i]) / (ha[i] + 4.0));
    CHECK_CLOSE(r.val[0], ref, (size_t)n, 1e-5, 1e-6);
    free(ref);
    run_free(&r);
    CHECK_AF(af_set_kernel_cache_directory(old, 1));
    free(old);
    free(ha);
    free(hb);
    fuse_configure(-1, 1 << 18);
    if (compiler_missing) SKIP("no working C compiler: results checked on the interpreter only");
}
