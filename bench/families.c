/* Ember's benchmark of the operation families (indexing, algorithms, statistics, linear algebra,
 * signal processing, random numbers): one table row per operation, named like the peers' rows of
 * peers_bench.py so the two pair up.
 *
 * The same source builds ember_bench_families (CPU backend, host clock around af_sync, sizes for a
 * small machine, and the vendor libraries called directly for comparison) and
 * ember_bench_families_cuda (CUDA backend, CUDA events on Ember's stream). Each figure is the
 * median of REPS runs after warm-up. A row whose function fails prints the error instead. */
#include <arrayfire.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef EMBER_BENCH_CUDA
#include <af/cuda.h>
#include <cuda_runtime.h>
#else
#include <cblas.h>
#include <fftw3.h>
#endif

#define REPS 11

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void die(const char *what, af_err e) {
    char *m = NULL;
    dim_t l = 0;
    af_get_last_error(&m, &l);
    fprintf(stderr, "families: %s failed (%d): %s\n", what, (int)e, m ? m : "");
    exit(1);
}
#define MUST(expr)                                                                                 \
    do {                                                                                           \
        af_err e_ = (expr);                                                                        \
        if (e_ != AF_SUCCESS) die(#expr, e_);                                                      \
    } while (0)

/* An operation: runs once, releases what it made, returns the library's status. */
typedef af_err (*op_fn)(void);

/* Median milliseconds of op, or a negative value with *err set when it fails. */
static double time_op(op_fn op, int reps, af_err *err) {
    double t[64];
    if (reps > 64) reps = 64;
    for (int i = 0; i < 2; i++)
        if ((*err = op()) != AF_SUCCESS) return -1;
    MUST(af_sync(-1));
#ifdef EMBER_BENCH_CUDA
    cudaStream_t s;
    int dev;
    MUST(af_get_device(&dev));
    MUST(afcu_get_stream(&s, dev));
    cudaEvent_t e0, e1;
    cudaEventCreate(&e0);
    cudaEventCreate(&e1);
    for (int i = 0; i < reps; i++) {
        cudaEventRecord(e0, s);
        *err = op();
        cudaEventRecord(e1, s);
        cudaEventSynchronize(e1);
        float ms = 0;
        cudaEventElapsedTime(&ms, e0, e1);
        t[i] = ms;
    }
    cudaEventDestroy(e0);
    cudaEventDestroy(e1);
#else
    for (int i = 0; i < reps; i++) {
        double t0 = now_s();
        *err = op();
        MUST(af_sync(-1));
        t[i] = (now_s() - t0) * 1e3;
    }
#endif
    qsort(t, (size_t)reps, sizeof(double), cmp_double);
    return t[reps / 2];
}

static double copy_gbps;

/* One row: the peers' name, the time, and the bandwidth for `bytes` moved (0: not a bandwidth
 * row) as a fraction of the plain copy measured in this run. */
static double row(const char *name, op_fn op, int reps, double bytes) {
    af_err err = AF_SUCCESS;
    double ms = time_op(op, reps, &err);
    if (err != AF_SUCCESS) {
        char *m = NULL;
        dim_t l = 0;
        af_get_last_error(&m, &l);
        printf("| %-40s | %12s | error %d: %.60s\n", name, "-", (int)err, m ? m : "");
        af_free_host(m);
        return -1;
    }
    if (bytes > 0) {
        double gbps = bytes / (ms * 1e-3) / 1e9;
        printf("| %-40s | %9.4f ms | %7.1f GB/s | %4.2f of copy |\n", name, ms, gbps,
               copy_gbps > 0 ? gbps / copy_gbps : 0);
    } else {
        printf("| %-40s | %9.4f ms |\n", name, ms);
    }
    fflush(stdout);
    return ms;
}

/* A matrix-product row with its rate. */
static void row_flops(const char *name, op_fn op, int reps, double flops) {
    double ms = row(name, op, reps, 0);
    if (ms > 0) printf("|   %-38s | %.2f TFLOP/s |\n", "", flops / (ms * 1e-3) / 1e12);
}

/* ---- inputs ---- */

/* Long vectors; index and sort vectors; the big square; the linear-algebra square; the matrix
 * product's size; the FFT length and square. */
static dim_t N, M, S, Q, MM, F1, F2;
static af_array a, b, c, A, B, k, keys, sorted_keys, idx, G, SPD, R, G1, A64, B64, Ah, Bh, Ab, Bb;
static af_array xc24, xr24, v1024, v3, img, sig, ker3, ker9, ker31, ker1, imgs, ker5, pos0, pos1;

static af_array randu(unsigned nd, dim_t d0, dim_t d1, dim_t d2, af_dtype t) {
    dim_t d[3] = {d0, d1, d2};
    af_array x;
    MUST(af_randu(&x, nd, d, t));
    MUST(af_eval(x));
    return x;
}

#define REL(x)                                                                                     \
    do {                                                                                           \
        if (x) af_release_array(x);                                                                \
        x = NULL;                                                                                  \
    } while (0)

/* ---- algorithms and statistics ---- */

/* The _all rows return the result as a device array (the _all_array forms), as the peers' rows
 * return a device tensor; sum_host_value times af_sum_all, whose host value adds the copy back
 * and the host's wait for it. */
/* Releases o when e says it was made; returns e. */
static af_err keep_none(af_err e, af_array o) {
    if (!e) af_release_array(o);
    return e;
}
static af_err op_sum_all(void) {
    af_array o;
    af_err e = af_sum_all_array(&o, a);
    return keep_none(e, o);
}
static af_err op_sum_host(void) {
    double r, i;
    return af_sum_all(&r, &i, a);
}
static af_err op_sum_expr(void) {
    af_array t, u, o;
    af_err e = af_mul(&t, a, b, false);
    if (e) return e;
    e = af_add(&u, t, c, false);
    af_release_array(t);
    if (e) return e;
    e = af_sum_all_array(&o, u);
    e = keep_none(e, o);
    af_release_array(u);
    return e;
}
static af_err op_count_gt(void) {
    af_array h, t, o;
    af_err e = af_constant(&h, 0.5, 1, &N, f32);
    if (e) return e;
    e = af_gt(&t, a, h, false);
    af_release_array(h);
    if (e) return e;
    e = af_count_all_array(&o, t);
    e = keep_none(e, o);
    af_release_array(t);
    return e;
}
static af_err op_max_all(void) {
    af_array o;
    af_err e = af_max_all_array(&o, a);
    return keep_none(e, o);
}
static af_err op_imax_all(void) {
    double r, i;
    unsigned at;
    return af_imax_all(&r, &i, &at, a);
}
static af_err op_meanvar(void) {
    af_array m, v;
    af_err e = af_meanvar(&m, &v, a, NULL, AF_VARIANCE_POPULATION, 0);
    if (e) return e;
    af_release_array(m);
    af_release_array(v);
    return e;
}
#define DIM_OP(NAME, CALL, IN, DIM)                                                                \
    static af_err NAME(void) {                                                                     \
        af_array o;                                                                                \
        af_err e = CALL(&o, IN, DIM);                                                              \
        if (!e) af_release_array(o);                                                               \
        return e;                                                                                  \
    }
DIM_OP(op_sum_dim0, af_sum, A, 0)
DIM_OP(op_sum_dim1, af_sum, A, 1)
DIM_OP(op_max_dim0, af_max, A, 0)
DIM_OP(op_accum, af_accum, k, 0)
DIM_OP(op_accum_dim1, af_accum, A, 1)
static af_err op_diff1(void) {
    /* diff1 is lazy (a difference of two shifted views): evaluate it. */
    af_array o;
    af_err e = af_diff1(&o, k, 0);
    if (e) return e;
    e = af_eval(o);
    af_release_array(o);
    return e;
}
static af_err op_sort(void) {
    af_array o;
    af_err e = af_sort(&o, k, 0, true);
    if (!e) af_release_array(o);
    return e;
}
static af_err op_sort_dim0(void) {
    af_array o;
    af_err e = af_sort(&o, A, 0, true);
    if (!e) af_release_array(o);
    return e;
}
static af_err op_sort_index(void) {
    af_array o, i;
    af_err e = af_sort_index(&o, &i, k, 0, true);
    if (!e) af_release_array(o), af_release_array(i);
    return e;
}
static af_err op_sort_by_key(void) {
    af_array o, v;
    af_err e = af_sort_by_key(&o, &v, keys, k, 0, true);
    if (!e) af_release_array(o), af_release_array(v);
    return e;
}
static af_err op_unique(void) {
    af_array o;
    af_err e = af_set_unique(&o, keys, false);
    if (!e) af_release_array(o);
    return e;
}
static af_err op_median(void) {
    double r, i;
    return af_median_all(&r, &i, k);
}
static af_err op_topk(void) {
    af_array v, i;
    af_err e = af_topk(&v, &i, k, 100, 0, AF_TOPK_MAX);
    if (!e) af_release_array(v), af_release_array(i);
    return e;
}
static af_err op_where(void) {
    af_array h, t, o;
    af_err e = af_constant(&h, 0.5, 1, &M, f32);
    if (e) return e;
    e = af_gt(&t, k, h, false);
    af_release_array(h);
    if (e) return e;
    e = af_where(&o, t);
    af_release_array(t);
    if (!e) af_release_array(o);
    return e;
}
static af_err op_sum_by_key(void) {
    af_array ko, vo;
    af_err e = af_sum_by_key(&ko, &vo, sorted_keys, k, 0);
    if (!e) af_release_array(ko), af_release_array(vo);
    return e;
}
static af_err op_var_all(void) {
    double r, i;
    return af_var_all_v2(&r, &i, a, AF_VARIANCE_POPULATION);
}

/* ---- indexing and shape ---- */

static af_err op_transpose(void) {
    af_array o;
    af_err e = af_transpose(&o, A, false);
    if (!e) af_release_array(o);
    return e;
}
static af_err op_cols_step2(void) {
    af_seq s[2] = {af_span, {0, (double)(S - 1), 2}};
    af_array v, m;
    af_err e = af_index(&v, A, 2, s);
    if (e) return e;
    /* The index is a view: materialise it, as the peers' .contiguous() does. */
    e = af_copy_array(&m, v);
    af_release_array(v);
    if (e) return e;
    e = af_eval(m);
    af_release_array(m);
    return e;
}
static af_err op_assign_block(void) {
    /* A's top-left quarter takes its bottom-right quarter; B (A's twin) keeps the target
     * unshared so the write is in place, as PyTorch's copy_ into a slice is. */
    double h = (double)(S / 2);
    af_seq src[2] = {{h, (double)(S - 1), 1}, {h, (double)(S - 1), 1}};
    af_seq dst[2] = {{0, h - 1, 1}, {0, h - 1, 1}};
    af_array v, o;
    af_err e = af_index(&v, B, 2, src);
    if (e) return e;
    e = af_assign_seq(&o, A, 2, dst, v);
    af_release_array(v);
    if (e) return e;
    /* o shares A's buffer when written in place; keep A as the target of the next run. */
    af_release_array(o);
    return e;
}
static af_err op_tile(void) {
    double h = (double)(S / 2);
    af_seq q[2] = {{0, h - 1, 1}, {0, h - 1, 1}};
    af_array v, o;
    af_err e = af_index(&v, A, 2, q);
    if (e) return e;
    e = af_tile(&o, v, 2, 2, 1, 1);
    af_release_array(v);
    if (e) return e;
    e = af_eval(o);
    af_release_array(o);
    return e;
}
static af_err op_join(void) {
    af_array o;
    af_err e = af_join(&o, 1, A, B);
    if (e) return e;
    e = af_eval(o);
    af_release_array(o);
    return e;
}
static af_err op_flip(void) {
    af_array o;
    af_err e = af_flip(&o, A, 0);
    if (e) return e;
    e = af_eval(o);
    af_release_array(o);
    return e;
}
static af_err op_lookup(void) {
    af_array o;
    af_err e = af_lookup(&o, a, idx, 0);
    if (!e) af_release_array(o);
    return e;
}
static af_err op_add_tiled_scalar(void) {
    dim_t one = 1;
    af_array s, t, o;
    af_err e = af_constant(&s, 2, 1, &one, f32);
    if (e) return e;
    e = af_tile(&t, s, (unsigned)N, 1, 1, 1);
    af_release_array(s);
    if (e) return e;
    e = af_add(&o, a, t, false);
    af_release_array(t);
    if (e) return e;
    e = af_eval(o);
    af_release_array(o);
    return e;
}
static af_err op_copy(void) {
    af_array o;
    af_err e = af_copy_array(&o, a);
    if (e) return e;
    e = af_eval(o);
    af_release_array(o);
    return e;
}

/* ---- linear algebra ---- */

#define MATMUL_OP(NAME, L, R)                                                                      \
    static af_err NAME(void) {                                                                     \
        af_array o;                                                                                \
        af_err e = af_matmul(&o, L, R, AF_MAT_NONE, AF_MAT_NONE);                                  \
        if (!e) af_release_array(o);                                                               \
        return e;                                                                                  \
    }
MATMUL_OP(op_matmul_f32, A, B)
MATMUL_OP(op_matmul_f16, Ah, Bh)
MATMUL_OP(op_matmul_f64, A64, B64)
MATMUL_OP(op_matmul_batched, Ab, Bb)
static af_err op_dot(void) {
    af_array o;
    af_err e = af_dot(&o, a, b, AF_MAT_NONE, AF_MAT_NONE);
    if (!e) af_release_array(o);
    return e;
}
static af_err op_solve(void) {
    af_array o;
    af_err e = af_solve(&o, G, R, AF_MAT_NONE);
    if (!e) af_release_array(o);
    return e;
}
static af_err op_lu(void) {
    af_array l, u, p;
    af_err e = af_lu(&l, &u, &p, G);
    if (!e) af_release_array(l), af_release_array(u), af_release_array(p);
    return e;
}
static af_err op_qr(void) {
    af_array q, r, t;
    af_err e = af_qr(&q, &r, &t, G);
    if (!e) af_release_array(q), af_release_array(r), af_release_array(t);
    return e;
}
static af_err op_cholesky(void) {
    af_array o;
    int info;
    af_err e = af_cholesky(&o, &info, SPD, false);
    if (!e) af_release_array(o);
    return e;
}
static af_err op_inverse(void) {
    af_array o;
    af_err e = af_inverse(&o, G, AF_MAT_NONE);
    if (!e) af_release_array(o);
    return e;
}
static af_err op_det(void) {
    double r, i;
    return af_det(&r, &i, G);
}
static af_err op_svd(void) {
    af_array u, s, vt;
    af_err e = af_svd(&u, &s, &vt, G1);
    if (!e) af_release_array(u), af_release_array(s), af_release_array(vt);
    return e;
}
static af_err op_norm(void) {
    double n;
    return af_norm(&n, G, AF_NORM_EUCLID, 1, 1);
}

/* ---- signal and random ---- */

#define FFT_OP(NAME, CALL)                                                                         \
    static af_err NAME(void) {                                                                     \
        af_array o;                                                                                \
        af_err e = CALL;                                                                           \
        if (!e) af_release_array(o);                                                               \
        return e;                                                                                  \
    }
FFT_OP(op_fft, af_fft(&o, xc24, 1.0, 0))
FFT_OP(op_fft2, af_fft2(&o, img, 1.0, 0, 0))
FFT_OP(op_fft3, af_fft3(&o, v3, 1.0, 0, 0, 0))
#ifndef EMBER_BENCH_CUDA
/* The CPU program skips the 256^3 transform (too large for the small machine's budget). */
static op_fn const unused_fft3 __attribute__((unused)) = op_fft3;
#endif
FFT_OP(op_r2c, af_fft_r2c(&o, xr24, 1.0, 0))
FFT_OP(op_fft_batched, af_fft(&o, v1024, 1.0, 0))
FFT_OP(op_conv3, af_convolve2(&o, sig, ker3, AF_CONV_DEFAULT, AF_CONV_AUTO))
FFT_OP(op_conv9, af_convolve2(&o, sig, ker9, AF_CONV_DEFAULT, AF_CONV_AUTO))
FFT_OP(op_conv31, af_convolve2(&o, sig, ker31, AF_CONV_DEFAULT, AF_CONV_AUTO))
FFT_OP(op_conv1, af_convolve1(&o, xr24, ker1, AF_CONV_DEFAULT, AF_CONV_AUTO))
FFT_OP(op_conv_batched, af_convolve2(&o, imgs, ker5, AF_CONV_DEFAULT, AF_CONV_AUTO))
FFT_OP(op_approx2, af_approx2(&o, sig, pos0, pos1, AF_INTERP_BILINEAR, 0.0f))
static af_array r2c_out;
FFT_OP(op_c2r, af_fft_c2r(&o, r2c_out, 1.0, false))
static af_err op_randu(void) {
    af_array o;
    af_err e = af_randu(&o, 1, &N, f32);
    if (e) return e;
    e = af_eval(o);
    af_release_array(o);
    return e;
}
static af_err op_randn(void) {
    af_array o;
    af_err e = af_randn(&o, 1, &N, f32);
    if (e) return e;
    e = af_eval(o);
    af_release_array(o);
    return e;
}

#ifndef EMBER_BENCH_CUDA
/* The vendor libraries called directly, the rates Ember's CPU backend must reach. */
static void direct_sgemm_row(dim_t n) {
    float *x = malloc(sizeof(float) * (size_t)(n * n)),
          *y = malloc(sizeof(float) * (size_t)(n * n)),
          *z = malloc(sizeof(float) * (size_t)(n * n));
    for (dim_t i = 0; i < n * n; i++)
        x[i] = (float)(i % 7) * 0.25f, y[i] = (float)(i % 5) * 0.5f;
    double t[5];
    cblas_sgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)n, (int)n, 1.f, x, (int)n,
                y, (int)n, 0.f, z, (int)n);
    for (int r = 0; r < 5; r++) {
        double t0 = now_s();
        cblas_sgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)n, (int)n, 1.f, x,
                    (int)n, y, (int)n, 0.f, z, (int)n);
        t[r] = (now_s() - t0) * 1e3;
    }
    qsort(t, 5, sizeof(double), cmp_double);
    printf("| %-40s | %9.4f ms | %.2f TFLOP/s |\n", "direct cblas_sgemm", t[2],
           2.0 * (double)n * (double)n * (double)n / (t[2] * 1e-3) / 1e12);
    free(x), free(y), free(z);
}

static void direct_fftw_row(dim_t n) {
    /* Interleaved pairs: fftwf_complex is C99's complex float once <complex.h> is seen. */
    float *in = fftwf_malloc(sizeof(float) * 2 * (size_t)n),
          *out = fftwf_malloc(sizeof(float) * 2 * (size_t)n);
    for (dim_t i = 0; i < n; i++)
        in[2 * i] = (float)(i % 13), in[2 * i + 1] = (float)(i % 3);
    fftwf_plan p = fftwf_plan_dft_1d((int)n, (void *)in, (void *)out, FFTW_FORWARD, FFTW_ESTIMATE);
    double t[REPS];
    fftwf_execute(p);
    for (int r = 0; r < REPS; r++) {
        double t0 = now_s();
        fftwf_execute(p);
        t[r] = (now_s() - t0) * 1e3;
    }
    qsort(t, REPS, sizeof(double), cmp_double);
    printf("| %-40s | %9.4f ms | (FFTW_ESTIMATE plan, this thread count)\n", "direct fftwf c2c",
           t[REPS / 2]);
    fftwf_destroy_plan(p);
    fftwf_free(in), fftwf_free(out);
}
#endif

/* Host microseconds of one af_index by sequences (a view: no kernel, no allocation). */
static void index_host_row(void) {
    af_seq s[2] = {{1, (double)(S - 2), 1}, {0, (double)(S - 1), 2}};
    af_array v;
    if (af_index(&v, A, 2, s) != AF_SUCCESS) {
        printf("| %-40s | %12s | af_index failed\n", "index_view_host_us", "-");
        return;
    }
    af_release_array(v);
    size_t b0, n0, lb, ln, b1, n1;
    MUST(af_device_mem_info(&b0, &n0, &lb, &ln));
    enum { calls = 2000 };
    double t0 = now_s();
    for (int i = 0; i < calls; i++) {
        af_index(&v, A, 2, s);
        af_release_array(v);
    }
    double us = (now_s() - t0) / calls * 1e6;
    MUST(af_device_mem_info(&b1, &n1, &lb, &ln));
    printf("| %-40s | %9.3f us | buffers %zu -> %zu\n", "index_view_host_us", us, n0, n1);
}

/* First and second call of an FFT of a shape not seen before: the second reuses the plan. */
static void fft_plan_rows(void) {
    af_array x = randu(1, 3 * 5 * 7 * 1024, 1, 1, c32), o;
    double t0 = now_s();
    af_err e = af_fft(&o, x, 1.0, 0);
    if (!e) e = af_sync(-1);
    double first = (now_s() - t0) * 1e3;
    if (!e) af_release_array(o);
    t0 = now_s();
    if (!e) e = af_fft(&o, x, 1.0, 0);
    if (!e) e = af_sync(-1);
    double second = (now_s() - t0) * 1e3;
    if (!e) af_release_array(o);
    af_release_array(x);
    if (e)
        printf("| %-40s | error %d\n", "fft_new_shape_first_second", (int)e);
    else
        printf("| %-40s | %9.4f ms | second call %.4f ms\n", "fft_new_shape_first_second", first,
               second);
}

int main(int argc, char **argv) {
    int only = argc > 1 ? atoi(argv[1]) : 0; /* 1..4: one family only */
#ifdef EMBER_BENCH_CUDA
    MUST(af_set_backend(AF_BACKEND_CUDA));
    N = (dim_t)1 << 27, M = (dim_t)1 << 26, S = 8192, Q = 4096, MM = 8192;
    F1 = (dim_t)1 << 24, F2 = 4096;
#else
    MUST(af_set_backend(AF_BACKEND_CPU));
    N = (dim_t)1 << 25, M = (dim_t)1 << 24, S = 4096, Q = 2048, MM = 2048;
    F1 = (dim_t)1 << 20, F2 = 2048;
#endif
    char name[96];
    af_set_seed(7);
    a = randu(1, N, 1, 1, f32);
    b = randu(1, N, 1, 1, f32);
    c = randu(1, N, 1, 1, f32);
    printf("| operation (peers' name) | median | bandwidth | fraction |\n|---|---|---|---|\n");
    snprintf(name, sizeof(name), "copy/f32/%lld", (long long)N);
    {
        af_err err;
        double ms = time_op(op_copy, REPS, &err);
        copy_gbps = 2.0 * (double)N * 4 / (ms * 1e-3) / 1e9;
        printf("| %-40s | %9.4f ms | %7.1f GB/s | 1.00 of copy |\n", name, ms, copy_gbps);
    }
    double n4 = (double)N * 4, m4 = (double)M * 4, s4 = (double)S * (double)S * 4;
    if (!only || only == 1) {
        A = randu(2, S, S, 1, f32);
        k = randu(1, M, 1, 1, f32);
        {
            /* s32 keys in [0, 2^20), as the peers' rows draw them. */
            af_array kk;
            MUST(af_randu(&kk, 1, &M, u32));
            af_array m20;
            MUST(af_constant(&m20, (double)((1u << 20) - 1), 1, &M, u32));
            af_array kb;
            MUST(af_bitand(&kb, kk, m20, false));
            MUST(af_cast(&keys, kb, s32));
            MUST(af_eval(keys));
            af_release_array(kk), af_release_array(m20), af_release_array(kb);
        }
        snprintf(name, sizeof(name), "sum/%lld", (long long)N);
        row(name, op_sum_all, REPS, n4);
        snprintf(name, sizeof(name), "sum_host_value/%lld", (long long)N);
        row(name, op_sum_host, REPS, n4);
        snprintf(name, sizeof(name), "sum(a*b+c)/%lld", (long long)N);
        row(name, op_sum_expr, REPS, 3 * n4);
        {
            /* The fused reduction allocates no intermediate: the pool's counts before and after
             * (a cached block reused for the small output does not count as new). */
            size_t b0, n0, b1, n1, lb, ln;
            MUST(af_device_gc());
            MUST(af_device_mem_info(&b0, &n0, &lb, &ln));
            af_err e = op_sum_expr();
            MUST(af_device_mem_info(&b1, &n1, &lb, &ln));
            printf("|   %-38s | alloc bytes %zu -> %zu, buffers %zu -> %zu%s\n",
                   "sum(a*b+c): pool before -> after", b0, b1, n0, n1,
                   e ? " (the sum failed)" : "");
        }
        snprintf(name, sizeof(name), "count_nonzero(a>0.5)/%lld", (long long)N);
        row(name, op_count_gt, REPS, n4);
        snprintf(name, sizeof(name), "max_all/%lld", (long long)N);
        row(name, op_max_all, REPS, n4);
        snprintf(name, sizeof(name), "imax_all/%lld", (long long)N);
        row(name, op_imax_all, REPS, n4);
        snprintf(name, sizeof(name), "mean_var_all/%lld", (long long)N);
        row(name, op_meanvar, REPS, n4);
        snprintf(name, sizeof(name), "var_f32/%lld", (long long)N);
        row(name, op_var_all, REPS, n4);
        snprintf(name, sizeof(name), "sum_dim0/%lldx%lld", (long long)S, (long long)S);
        row(name, op_sum_dim0, REPS, s4);
        snprintf(name, sizeof(name), "sum_dim1/%lldx%lld", (long long)S, (long long)S);
        row(name, op_sum_dim1, REPS, s4);
        snprintf(name, sizeof(name), "max_dim0/%lldx%lld", (long long)S, (long long)S);
        row(name, op_max_dim0, REPS, s4);
        snprintf(name, sizeof(name), "cumsum_f32/%lld", (long long)M);
        row(name, op_accum, REPS, 2 * m4);
        snprintf(name, sizeof(name), "cumsum_dim1/%lldx%lld", (long long)S, (long long)S);
        row(name, op_accum_dim1, REPS, 2 * s4);
        snprintf(name, sizeof(name), "sort_f32/%lld", (long long)M);
        row(name, op_sort, REPS, 0);
        snprintf(name, sizeof(name), "sort_index_f32/%lld", (long long)M);
        row(name, op_sort_index, REPS, 0);
        snprintf(name, sizeof(name), "sort_by_key_s32/%lld", (long long)M);
        row(name, op_sort_by_key, REPS, 0);
        snprintf(name, sizeof(name), "sort_dim0/%lldx%lld", (long long)S, (long long)S);
        row(name, op_sort_dim0, 5, 0);
        snprintf(name, sizeof(name), "unique_s32/%lld", (long long)M);
        row(name, op_unique, REPS, 0);
        snprintf(name, sizeof(name), "median_f32/%lld", (long long)M);
        row(name, op_median, REPS, 0);
        snprintf(name, sizeof(name), "topk_100/%lld", (long long)M);
        row(name, op_topk, REPS, 0);
        snprintf(name, sizeof(name), "where_nonzero/%lld", (long long)M);
        row(name, op_where, REPS, 0);
        if (af_sort(&sorted_keys, keys, 0, true) != AF_SUCCESS) sorted_keys = NULL;
        snprintf(name, sizeof(name), "sum_by_key_sorted/%lld", (long long)M);
        if (sorted_keys) row(name, op_sum_by_key, REPS, 0);
        snprintf(name, sizeof(name), "diff1/%lld", (long long)M);
        row(name, op_diff1, REPS, 2 * m4);
        REL(k);
        REL(keys);
        REL(sorted_keys);
        REL(A);
    }
    if (!only || only == 2) {
        A = randu(2, S, S, 1, f32);
        B = randu(2, S, S, 1, f32);
        idx = NULL;
        {
            af_array u;
            MUST(af_randu(&u, 1, &M, f32));
            af_array sc;
            MUST(af_constant(&sc, (double)N, 1, &M, f32));
            af_array p;
            MUST(af_mul(&p, u, sc, false));
            MUST(af_cast(&idx, p, u32));
            MUST(af_eval(idx));
            af_release_array(u), af_release_array(sc), af_release_array(p);
        }
        index_host_row();
        snprintf(name, sizeof(name), "transpose/%lldx%lld", (long long)S, (long long)S);
        row(name, op_transpose, REPS, 2 * s4);
        snprintf(name, sizeof(name), "index_cols_step2/%lldx%lld", (long long)S, (long long)S);
        row(name, op_cols_step2, REPS, s4);
        snprintf(name, sizeof(name), "assign_block/%lldx%lld", (long long)S, (long long)S);
        row(name, op_assign_block, REPS, s4 / 2);
        snprintf(name, sizeof(name), "tile_2x2/%lldx%lld", (long long)S / 2, (long long)S / 2);
        row(name, op_tile, REPS, s4 * 1.25);
        snprintf(name, sizeof(name), "join_dim1/%lldx%lld+%lldx%lld", (long long)S, (long long)S,
                 (long long)S, (long long)S);
        row(name, op_join, REPS, 4 * s4);
        snprintf(name, sizeof(name), "flip_dim0/%lldx%lld", (long long)S, (long long)S);
        row(name, op_flip, REPS, 2 * s4);
        snprintf(name, sizeof(name), "lookup_random/%lld", (long long)M);
        row(name, op_lookup, REPS, 3 * m4);
        snprintf(name, sizeof(name), "x+2_via_tile/%lld", (long long)N);
        row(name, op_add_tiled_scalar, REPS, 2 * n4);
        REL(A);
        REL(B);
        REL(idx);
    }
    if (!only || only == 3) {
        /* The product's size: S on the GPU, Q on the CPU (2 cores). */
        dim_t P = MM;
        A = randu(2, P, P, 1, f32);
        B = randu(2, P, P, 1, f32);
        double fl = 2.0 * (double)P * (double)P * (double)P;
        snprintf(name, sizeof(name), "matmul_f32/%lld", (long long)P);
        row_flops(name, op_matmul_f32, 5, fl);
#ifdef EMBER_BENCH_CUDA
        if (afcu_cublasSetMathMode(CUBLAS_TF32_TENSOR_OP_MATH) == AF_SUCCESS) {
            snprintf(name, sizeof(name), "matmul_tf32/%lld", (long long)P);
            row_flops(name, op_matmul_f32, 5, fl);
            afcu_cublasSetMathMode(CUBLAS_DEFAULT_MATH);
        }
#else
        direct_sgemm_row(P);
#endif
        MUST(af_cast(&Ah, A, f16));
        MUST(af_cast(&Bh, B, f16));
        MUST(af_eval(Ah));
        MUST(af_eval(Bh));
        snprintf(name, sizeof(name), "matmul_f16/%lld", (long long)P);
        row_flops(name, op_matmul_f16, 5, fl);
        REL(Ah);
        REL(Bh);
        REL(A);
        REL(B);
        A64 = randu(2, Q, Q, 1, f64);
        B64 = randu(2, Q, Q, 1, f64);
        snprintf(name, sizeof(name), "matmul_f64/%lld", (long long)Q);
        row_flops(name, op_matmul_f64, 5, 2.0 * (double)Q * (double)Q * (double)Q);
        REL(A64);
        REL(B64);
        Ab = randu(3, 64, 64, 4096, f32);
        Bb = randu(3, 64, 64, 4096, f32);
        row("matmul_batched_f32/4096x64x64", op_matmul_batched, REPS, 0);
        REL(Ab);
        REL(Bb);
        snprintf(name, sizeof(name), "dot_f32/%lld", (long long)N);
        row(name, op_dot, REPS, 2 * n4);
        {
            /* G = rand + n I (well conditioned), SPD = G G^T. */
            af_array r, eye, sc, gt;
            r = randu(2, Q, Q, 1, f32);
            dim_t qd[2] = {Q, Q};
            MUST(af_identity(&eye, 2, qd, f32));
            MUST(af_constant(&sc, (double)Q, 2, qd, f32));
            af_array t;
            MUST(af_mul(&t, eye, sc, false));
            MUST(af_add(&G, r, t, false));
            MUST(af_eval(G));
            af_release_array(r), af_release_array(eye), af_release_array(sc), af_release_array(t);
            if (af_matmul(&gt, G, G, AF_MAT_NONE, AF_MAT_TRANS) == AF_SUCCESS) {
                SPD = gt;
            } else {
                SPD = NULL;
            }
            R = randu(2, Q, 64, 1, f32);
            af_seq q1[2] = {{0, 1023, 1}, {0, 1023, 1}};
            af_array v;
            if (af_index(&v, G, 2, q1) == AF_SUCCESS) {
                MUST(af_copy_array(&G1, v));
                MUST(af_eval(G1));
                af_release_array(v);
            }
        }
        snprintf(name, sizeof(name), "solve_f32/%lld", (long long)Q);
        row(name, op_solve, 5, 0);
        snprintf(name, sizeof(name), "lu_f32/%lld", (long long)Q);
        row(name, op_lu, 5, 0);
        snprintf(name, sizeof(name), "qr_f32/%lld", (long long)Q);
        row(name, op_qr, 5, 0);
        snprintf(name, sizeof(name), "cholesky_f32/%lld", (long long)Q);
        if (SPD) row(name, op_cholesky, 5, 0);
        snprintf(name, sizeof(name), "inverse_f32/%lld", (long long)Q);
        row(name, op_inverse, 5, 0);
        snprintf(name, sizeof(name), "det_f32/%lld", (long long)Q);
        row(name, op_det, 5, 0);
        if (G1) row("svd_f32/1024", op_svd, 3, 0);
        snprintf(name, sizeof(name), "norm_fro_f32/%lld", (long long)Q);
        row(name, op_norm, REPS, (double)Q * (double)Q * 4);
        REL(G);
        REL(SPD);
        REL(R);
        REL(G1);
    }
    if (!only || only == 4) {
        dim_t n24 = F1;
        xc24 = randu(1, n24, 1, 1, c32);
        xr24 = randu(1, n24, 1, 1, f32);
        img = randu(2, F2, F2, 1, c32);
        v1024 = randu(2, 1024, 1024, 1, c32);
        snprintf(name, sizeof(name), "fft_c32/%lld", (long long)n24);
        row(name, op_fft, REPS, 0);
        snprintf(name, sizeof(name), "fft2_c32/%lldx%lld", (long long)F2, (long long)F2);
        row(name, op_fft2, REPS, 0);
#ifndef EMBER_BENCH_CUDA
        direct_fftw_row(F1);
#endif
        REL(img);
#ifdef EMBER_BENCH_CUDA
        v3 = randu(3, 256, 256, 256, c32);
        row("fft3_c32/256^3", op_fft3, REPS, 0);
        REL(v3);
#endif
        snprintf(name, sizeof(name), "fft_r2c_f32/%lld", (long long)n24);
        row(name, op_r2c, REPS, 0);
        if (af_fft_r2c(&r2c_out, xr24, 1.0, 0) == AF_SUCCESS) {
            snprintf(name, sizeof(name), "fft_c2r_c32/%lld", (long long)n24);
            row(name, op_c2r, REPS, 0);
            REL(r2c_out);
        }
        row("fft_batched_c32/1024x1024", op_fft_batched, REPS, 0);
        fft_plan_rows();
        sig = randu(2, F2, F2, 1, f32);
        ker3 = randu(2, 3, 3, 1, f32);
        ker9 = randu(2, 9, 9, 1, f32);
        ker31 = randu(2, 31, 31, 1, f32);
        ker1 = randu(1, 129, 1, 1, f32);
        ker5 = randu(2, 5, 5, 1, f32);
        imgs = randu(3, 512, 512, 64, f32);
        snprintf(name, sizeof(name), "convolve2_3x3/%lldx%lld", (long long)F2, (long long)F2);
        row(name, op_conv3, REPS, 0);
        snprintf(name, sizeof(name), "convolve2_9x9/%lldx%lld", (long long)F2, (long long)F2);
        row(name, op_conv9, REPS, 0);
        snprintf(name, sizeof(name), "convolve2_31x31/%lldx%lld", (long long)F2, (long long)F2);
        row(name, op_conv31, 5, 0);
        snprintf(name, sizeof(name), "convolve1_129/%lld", (long long)n24);
        row(name, op_conv1, REPS, 0);
        row("convolve2_batched_5x5/64x512x512", op_conv_batched, REPS, 0);
        {
            /* Positions inside the grid: uniform in [0, F2 - 1). */
            af_array u0 = randu(2, F2, F2, 1, f32), u1 = randu(2, F2, F2, 1, f32), sc;
            dim_t sd[2] = {F2, F2};
            MUST(af_constant(&sc, (double)(F2 - 1), 2, sd, f32));
            MUST(af_mul(&pos0, u0, sc, false));
            MUST(af_mul(&pos1, u1, sc, false));
            MUST(af_eval(pos0));
            MUST(af_eval(pos1));
            af_release_array(u0), af_release_array(u1), af_release_array(sc);
        }
        snprintf(name, sizeof(name), "approx2_bilinear/%lldx%lld", (long long)F2, (long long)F2);
        row(name, op_approx2, REPS, 0);
        snprintf(name, sizeof(name), "randu_f32/%lld", (long long)N);
        row(name, op_randu, REPS, n4);
        snprintf(name, sizeof(name), "randn_f32/%lld", (long long)N);
        row(name, op_randn, REPS, n4);
        REL(xc24);
        REL(xr24);
        REL(v1024);
        REL(sig);
        REL(ker3);
        REL(ker9);
        REL(ker31);
        REL(ker1);
        REL(ker5);
        REL(imgs);
        REL(pos0);
        REL(pos1);
    }
    REL(a);
    REL(b);
    REL(c);
    return 0;
}
