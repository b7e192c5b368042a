/* The CUDA backend's lapack table: cuSOLVER for the factorisations (getrf/getrs, potrf,
 * geqrf/orgqr/ormqr, gesvdj), cuBLAS for triangular solves, transposes, diagonal gathers, norms
 * and the pseudo-inverse's product, and the small kernels of kernels/lapack.cuh for what neither
 * library does (triangle extraction, pivot permutations, identity, reductions for the norms).
 *
 * Every call runs on the library stream through the shared handles (linalg.h), with workspace
 * from the pool. Only the slots that answer on the host wait for the device, and they wait after
 * releasing the handles, through the backend's copy_d2h. */
#include "linalg.h"

#include "../../core/err.h"
#include "../../core/sbuf.h"
#include "../lapack.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- kernels ---- */

enum {
    K_TRIANGLE,
    K_EYE,
    K_PIVOT,
    K_REDUCE,
    K_SCALE,
    K_WIDEN,
    K_PTRS,
    K_SUMSQ,
    K_COUNT,
};
static const char *const k_names[K_COUNT] = {"em_la_triangle", "em_la_eye",   "em_la_pivot",
                                             "em_la_reduce",   "em_la_scale", "em_la_widen",
                                             "em_la_ptrs",     "em_la_sumsq"};
static const char *const k_macros[K_COUNT] = {"EM_LA_TRIANGLE", "EM_LA_EYE",   "EM_LA_PIVOT",
                                              "EM_LA_REDUCE",   "EM_LA_SCALE", "EM_LA_WIDEN",
                                              "EM_LA_PTRS",     "EM_LA_SUMSQ"};

typedef struct {
    int kernel;
    af_dtype type;
} la_gen;

static const char *type_name(af_dtype t) {
    switch (t) {
    case f64:
        return "double";
    case c32:
        return "em_la_c32";
    case c64:
        return "em_la_c64";
    case f16:
        return "unsigned short";
    default:
        return "float";
    }
}

static char *la_source(const void *ctx) {
    const la_gen *g = ctx;
    em_sbuf b = {0};
    em_sbuf_printf(
        &b, "// Ember lapack helper\n#define EM_LA_TYPE %s\n#define EM_LA_STYPE %s\n#define %s\n",
        type_name(g->type), (g->type == f64 || g->type == c64) ? "double" : "float",
        k_macros[g->kernel]);
    em_sbuf_printf(&b, "%s", em_cu_src_lapack);
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

static uint64_t la_src_hash(void) {
    static _Atomic uint64_t hash;
    uint64_t h = atomic_load_explicit(&hash, memory_order_relaxed);
    if (h) return h;
    h = EM_HASH_SEED;
    for (const char *s = em_cu_src_lapack; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    atomic_store_explicit(&hash, h, memory_order_relaxed);
    return h;
}

static af_err la_kernel(const em_cu_la *c, int kernel, af_dtype t, CUfunction *out) {
    la_gen g = {kernel, t};
    uint64_t key = em_hash_mix(em_hash_mix(EM_HASH_SEED, 0x6c617061636b0000ull | (uint64_t)kernel),
                               (uint64_t)t);
    key = em_hash_mix(key, la_src_hash());
    af_err err = em_cu_module_get(c->dev, key, k_names[kernel], la_source, &g, out);
    if (err != AF_SUCCESS) em_err_attribute(c->fn);
    return err;
}

/* Launches kernel k of dtype t over `work` items (grid-stride), or with `blocks` blocks. */
static af_err la_launch(const em_cu_la *c, int kernel, af_dtype t, long long work, void **args) {
    CUfunction f;
    af_err err = la_kernel(c, kernel, t, &f);
    if (err != AF_SUCCESS) return err;
    long long blocks = (work + EM_CU_BLOCK - 1) / EM_CU_BLOCK;
    if (blocks > em_cu_devs[c->dev].grid) blocks = em_cu_devs[c->dev].grid;
    if (blocks < 1) blocks = 1;
    dim3 grid = {(unsigned)blocks, 1, 1}, block = {EM_CU_BLOCK, 1, 1};
    return em_cu_launch(c->fn, k_names[kernel], f, grid, block, args, c->stream);
}

static bool kernel_has_type(int k, af_dtype t) {
    switch (k) {
    case K_PIVOT:
    case K_WIDEN:
    case K_PTRS:
        return t == f32;
    case K_REDUCE:
        return t == f32 || t == f64 || t == c32 || t == c64 || t == f16;
    case K_SUMSQ: /* float scalars (f32, and c32 as pairs) or f16 bits */
        return t == f32 || t == f16;
    default:
        return t == f32 || t == f64 || t == c32 || t == c64;
    }
}

static af_err lapack_compile_check(void) {
    const af_dtype ts[] = {f32, f64, c32, c64, f16};
    for (int k = 0; k < K_COUNT; k++)
        for (int i = 0; i < 5; i++) {
            if (!kernel_has_type(k, ts[i])) continue;
            la_gen g = {k, ts[i]};
            char *src = la_source(&g);
            if (!src) return em_err(AF_ERR_NO_MEM, __func__, "out of host memory");
            af_err err = em_cu_compile_source(src, k_names[k]);
            free(src);
            if (err != AF_SUCCESS) return err;
        }
    return AF_SUCCESS;
}
EM_CU_COMPILE_CHECK(lapack, lapack_compile_check)

/* ---- helpers ---- */

/* For functions with `af_err err` and a `fail:` label whose callees already name the public
 * function in their messages. */
#define LA_TRY(expr)                                                                               \
    do {                                                                                           \
        err = (expr);                                                                              \
        if (err != AF_SUCCESS) goto fail;                                                          \
    } while (0)

/* cuSOLVER's classic routines count in int. */
static af_err la_fits(const char *fn, dim_t a, dim_t b) {
    if (a > INT_MAX || b > INT_MAX || a * (b > 0 ? b : 1) / (b > 0 ? b : 1) != a)
        return em_err(AF_ERR_SIZE, fn, "a %lld x %lld matrix exceeds cuSOLVER's 32-bit sizes",
                      (long long)a, (long long)b);
    return AF_SUCCESS;
}

static int ld1(dim_t v) {
    return v > 1 ? (int)v : 1;
}

/* Dispatch on dtype to cuSOLVER's or cuBLAS's S, D, C, Z routine of the same arguments: the
 * pointer arguments are void *, which each converts to its own element type. */
#define BY_TYPE(t, S, D, C, Z, ...)                                                                \
    ((t) == f32   ? S(__VA_ARGS__)                                                                 \
     : (t) == f64 ? D(__VA_ARGS__)                                                                 \
     : (t) == c32 ? C(__VA_ARGS__)                                                                 \
                  : Z(__VA_ARGS__))

/* One pool block for a routine's workspace (lwork elements) and its device info. A loop over a
 * batch reuses it for the same routine and sizes; a larger need replaces it (the old block goes
 * back to the pool, to be reused only by work queued after this). */
typedef struct {
    em_buf *buf;
    void *work;
    int *info;
    int lwork;
} la_ws;

static af_err ws_need(em_cu_la *c, int lwork, size_t es, la_ws *w) {
    if (w->buf && w->lwork >= lwork) return AF_SUCCESS;
    if (w->buf) em_buf_release(w->buf);
    w->buf = NULL;
    size_t off = ((size_t)(lwork > 0 ? lwork : 0) * es + 255) & ~(size_t)255;
    af_err err = em_cu_la_workspace(c, off + 256, &w->buf);
    if (err != AF_SUCCESS) return err;
    w->work = w->buf->ptr;
    w->info = (int *)((char *)w->buf->ptr + off);
    w->lwork = lwork;
    return AF_SUCCESS;
}

static void ws_free(la_ws *w) {
    if (w->buf) em_buf_release(w->buf);
    w->buf = NULL;
}

/* The unit values cuBLAS takes by pointer, in each dtype's layout. */
static const double k_one[2] = {1, 0}, k_zero[2] = {0, 0};
static const float k_onef[2] = {1, 0}, k_zerof[2] = {0, 0};
static const void *one_of(af_dtype t) {
    return (t == f64 || t == c64) ? (const void *)k_one : (const void *)k_onef;
}
static const void *zero_of(af_dtype t) {
    return (t == f64 || t == c64) ? (const void *)k_zero : (const void *)k_zerof;
}

/* Copies rows x cols elements between matrices of leading dims ld_dst and ld_src. */
static af_err copy2d(const em_cu_la *c, void *dst, dim_t ld_dst, const void *src, dim_t ld_src,
                     dim_t rows, dim_t cols, size_t es) {
    af_err err = AF_SUCCESS;
    if (rows == 0 || cols == 0) return AF_SUCCESS;
    cudaError_t e =
        cudaMemcpy2DAsync(dst, (size_t)ld_dst * es, src, (size_t)ld_src * es, (size_t)rows * es,
                          (size_t)cols, cudaMemcpyDeviceToDevice, c->stream);
    if (e != cudaSuccess) err = em_cu_err(e, c->fn, "cudaMemcpy2DAsync");
    return err;
}

/* ---- the routines inside an entered sequence ---- */

static af_err getrf_in(em_cu_la *c, af_dtype t, dim_t m, dim_t n, void *a, int32_t *ipiv,
                       la_ws *w) {
    af_err err = AF_SUCCESS;
    int lwork = 0;
    EM_CUSOLVER(c, "cusolverDn<t>getrf_bufferSize",
                BY_TYPE(t, cusolverDnSgetrf_bufferSize, cusolverDnDgetrf_bufferSize,
                        cusolverDnCgetrf_bufferSize, cusolverDnZgetrf_bufferSize, c->solver, (int)m,
                        (int)n, a, ld1(m), &lwork));
    LA_TRY(ws_need(c, lwork, em_dtype_size(t), w));
    EM_CUSOLVER(c, "cusolverDn<t>getrf",
                BY_TYPE(t, cusolverDnSgetrf, cusolverDnDgetrf, cusolverDnCgetrf, cusolverDnZgetrf,
                        c->solver, (int)m, (int)n, a, ld1(m), w->work, ipiv, w->info));
fail:
    return err;
}

/* b (n x nrhs, leading dim ldb) becomes A^-1 b; info is device scratch. */
static af_err getrs_in(em_cu_la *c, af_dtype t, dim_t n, dim_t nrhs, const void *lu,
                       const int32_t *ipiv, void *b, dim_t ldb, int *info) {
    af_err err = AF_SUCCESS;
    EM_CUSOLVER(c, "cusolverDn<t>getrs",
                BY_TYPE(t, cusolverDnSgetrs, cusolverDnDgetrs, cusolverDnCgetrs, cusolverDnZgetrs,
                        c->solver, CUBLAS_OP_N, (int)n, (int)nrhs, lu, ld1(n), ipiv, b, ld1(ldb),
                        info));
fail:
    return err;
}

static af_err geqrf_in(em_cu_la *c, af_dtype t, dim_t m, dim_t n, void *a, dim_t lda, void *tau,
                       la_ws *w) {
    af_err err = AF_SUCCESS;
    int lwork = 0;
    EM_CUSOLVER(c, "cusolverDn<t>geqrf_bufferSize",
                BY_TYPE(t, cusolverDnSgeqrf_bufferSize, cusolverDnDgeqrf_bufferSize,
                        cusolverDnCgeqrf_bufferSize, cusolverDnZgeqrf_bufferSize, c->solver, (int)m,
                        (int)n, a, ld1(lda), &lwork));
    LA_TRY(ws_need(c, lwork, em_dtype_size(t), w));
    EM_CUSOLVER(c, "cusolverDn<t>geqrf",
                BY_TYPE(t, cusolverDnSgeqrf, cusolverDnDgeqrf, cusolverDnCgeqrf, cusolverDnZgeqrf,
                        c->solver, (int)m, (int)n, a, ld1(lda), tau, w->work, w->lwork, w->info));
fail:
    return err;
}

/* C (rows x cols, leading dim ldc) becomes op(Q) C, Q from k reflectors in a (leading dim lda). */
static af_err ormqr_in(em_cu_la *c, af_dtype t, cublasOperation_t op, dim_t rows, dim_t cols,
                       dim_t k, const void *a, dim_t lda, const void *tau, void *cm, dim_t ldc,
                       la_ws *w) {
    af_err err = AF_SUCCESS;
    int lwork = 0;
    /* The real routines know transpose, not conjugate transpose (the same for them). */
    if (op == CUBLAS_OP_C && (t == f32 || t == f64)) op = CUBLAS_OP_T;
    EM_CUSOLVER(c, "cusolverDn<t>ormqr_bufferSize",
                BY_TYPE(t, cusolverDnSormqr_bufferSize, cusolverDnDormqr_bufferSize,
                        cusolverDnCunmqr_bufferSize, cusolverDnZunmqr_bufferSize, c->solver,
                        CUBLAS_SIDE_LEFT, op, (int)rows, (int)cols, (int)k, a, ld1(lda), tau, cm,
                        ld1(ldc), &lwork));
    LA_TRY(ws_need(c, lwork, em_dtype_size(t), w));
    EM_CUSOLVER(c, "cusolverDn<t>ormqr",
                BY_TYPE(t, cusolverDnSormqr, cusolverDnDormqr, cusolverDnCunmqr, cusolverDnZunmqr,
                        c->solver, CUBLAS_SIDE_LEFT, op, (int)rows, (int)cols, (int)k, a, ld1(lda),
                        tau, cm, ld1(ldc), w->work, w->lwork, w->info));
fail:
    return err;
}

/* b (rows x cols, leading dim ldb) becomes op(A)^-1 b for triangular A (leading dim lda). */
static af_err trsm_in(em_cu_la *c, af_dtype t, bool upper, cublasOperation_t op, bool unit,
                      dim_t rows, dim_t cols, const void *a, dim_t lda, void *b, dim_t ldb) {
    af_err err = AF_SUCCESS;
    cublasFillMode_t ul = upper ? CUBLAS_FILL_MODE_UPPER : CUBLAS_FILL_MODE_LOWER;
    cublasDiagType_t dg = unit ? CUBLAS_DIAG_UNIT : CUBLAS_DIAG_NON_UNIT;
    EM_CUBLAS(c, "cublas<t>trsm",
              BY_TYPE(t, cublasStrsm_64, cublasDtrsm_64, cublasCtrsm_64, cublasZtrsm_64, c->blas,
                      CUBLAS_SIDE_LEFT, ul, op, dg, rows, cols, one_of(t), a, ld1(lda), b,
                      ld1(ldb)));
fail:
    return err;
}

/* out (cols x rows) = a^H for a (rows x cols, leading dim lda). */
static af_err conj_transpose(em_cu_la *c, af_dtype t, dim_t rows, dim_t cols, const void *a,
                             dim_t lda, void *out) {
    af_err err = AF_SUCCESS;
    /* beta = 0: B is not read; it is given as C, which cuBLAS allows in place. */
    EM_CUBLAS(c, "cublas<t>geam",
              BY_TYPE(t, cublasSgeam_64, cublasDgeam_64, cublasCgeam_64, cublasZgeam_64, c->blas,
                      CUBLAS_OP_C, CUBLAS_OP_N, cols, rows, one_of(t), a, ld1(lda), zero_of(t), out,
                      ld1(cols), out, ld1(cols)));
fail:
    return err;
}

/* Full (u, v both non-NULL) or values-only SVD of a (m x n, destroyed) with gesvdj: s (min(m,
 * n) reals), u (m x m), v (n x n: V, not V^H).
 *
 * gesvdj writes U and V even when asked for the values only (CUSOLVER_EIG_MODE_NOVECTOR): given
 * NULL it faults on the device, which cuSOLVER reports as CUSOLVER_STATUS_EXECUTION_FAILED and
 * which leaves the context unusable. The values-only form therefore passes scratch matrices of
 * the economy sizes (m x min(m, n) and n x min(m, n), with econ set), from the pool. */
static af_err gesvdj_in(em_cu_la *c, af_dtype t, dim_t m, dim_t n, void *a, void *s, void *u,
                        void *v, la_ws *w) {
    af_err err = AF_SUCCESS;
    em_buf *scratch = NULL;
    int lwork = 0, econ = 0;
    cusolverEigMode_t job = u ? CUSOLVER_EIG_MODE_VECTOR : CUSOLVER_EIG_MODE_NOVECTOR;
    if (!u) {
        size_t es = em_dtype_size(t), k = (size_t)(m < n ? m : n);
        size_t ub = ((size_t)m * k * es + 255) & ~(size_t)255;
        LA_TRY(em_cu_la_workspace(c, ub + (size_t)n * k * es, &scratch));
        u = scratch->ptr;
        v = (char *)scratch->ptr + ub;
        econ = 1;
    }
    EM_CUSOLVER(c, "cusolverDn<t>gesvdj_bufferSize",
                BY_TYPE(t, cusolverDnSgesvdj_bufferSize, cusolverDnDgesvdj_bufferSize,
                        cusolverDnCgesvdj_bufferSize, cusolverDnZgesvdj_bufferSize, c->solver, job,
                        econ, (int)m, (int)n, a, ld1(m), s, u, ld1(m), v, ld1(n), &lwork, c->svdj));
    LA_TRY(ws_need(c, lwork, em_dtype_size(t), w));
    EM_CUSOLVER(c, "cusolverDn<t>gesvdj",
                BY_TYPE(t, cusolverDnSgesvdj, cusolverDnDgesvdj, cusolverDnCgesvdj,
                        cusolverDnZgesvdj, c->solver, job, econ, (int)m, (int)n, a, ld1(m), s, u,
                        ld1(m), v, ld1(n), w->work, w->lwork, w->info, c->svdj));
fail:
    /* Back to the pool: work queued later on this stream is ordered after gesvdj's. */
    if (scratch) em_buf_release(scratch);
    return err;
}

/* Copies n values from the device to the host after the work queued so far (a host wait). The
 * caller has ended its sequence, so no handle is held while waiting. */
static af_err to_host(const char *fn, int dev, void *dst, const void *src, size_t bytes) {
    af_err err = em_backend_self.copy_d2h(dev, dst, src, bytes);
    if (err != AF_SUCCESS) em_err_attribute(fn);
    return err;
}

/* ---- slots ---- */

static af_err cu_getrf(int dev, af_dtype t, dim_t m, dim_t n, void *a, int32_t *ipiv) {
    af_err err = AF_SUCCESS;
    em_cu_la c;
    la_ws w = {0};
    bool begun = false;
    if (m == 0 || n == 0) return AF_SUCCESS;
    LA_TRY(la_fits(__func__, m, n));
    LA_TRY(em_cu_la_begin(__func__, dev, EM_CU_LA_SOLVER, &c));
    begun = true;
    LA_TRY(getrf_in(&c, t, m, n, a, ipiv, &w));
fail:
    if (begun) em_cu_la_end(&c);
    ws_free(&w);
    return err;
}

static af_err cu_pivot_perm(int dev, const int32_t *ipiv, dim_t k, dim_t m, int32_t *perm) {
    af_err err = AF_SUCCESS;
    em_cu_la c;
    bool begun = false;
    if (m == 0) return AF_SUCCESS;
    LA_TRY(em_cu_la_begin(__func__, dev, 0, &c));
    begun = true;
    long long kk = k, mm = m;
    void *args[] = {&ipiv, &kk, &mm, &perm};
    /* One block: the swaps are sequential (la_launch's work of 1 gives one block). */
    LA_TRY(la_launch(&c, K_PIVOT, f32, 1, args));
fail:
    if (begun) em_cu_la_end(&c);
    return err;
}

static af_err cu_triangle(int dev, af_dtype t, void *out, dim_t rows, dim_t cols, const void *in,
                          dim_t ld, bool upper, bool unit) {
    af_err err = AF_SUCCESS;
    em_cu_la c;
    bool begun = false;
    if (rows == 0 || cols == 0) return AF_SUCCESS;
    LA_TRY(em_cu_la_begin(__func__, dev, 0, &c));
    begun = true;
    long long r = rows, cl = cols, l = ld;
    int up = upper, un = unit;
    void *args[] = {&out, &r, &cl, &in, &l, &up, &un};
    LA_TRY(la_launch(&c, K_TRIANGLE, t, r * cl, args));
fail:
    if (begun) em_cu_la_end(&c);
    return err;
}

static af_err cu_potrf(int dev, af_dtype t, dim_t n, void *a, bool upper, int *info) {
    af_err err = AF_SUCCESS;
    em_cu_la c;
    la_ws w = {0};
    bool begun = false;
    int lwork = 0;
    *info = 0;
    if (n == 0) return AF_SUCCESS;
    LA_TRY(la_fits(__func__, n, n));
    LA_TRY(em_cu_la_begin(__func__, dev, EM_CU_LA_SOLVER, &c));
    begun = true;
    cublasFillMode_t ul = upper ? CUBLAS_FILL_MODE_UPPER : CUBLAS_FILL_MODE_LOWER;
    EM_CUSOLVER(&c, "cusolverDn<t>potrf_bufferSize",
                BY_TYPE(t, cusolverDnSpotrf_bufferSize, cusolverDnDpotrf_bufferSize,
                        cusolverDnCpotrf_bufferSize, cusolverDnZpotrf_bufferSize, c.solver, ul,
                        (int)n, a, ld1(n), &lwork));
    LA_TRY(ws_need(&c, lwork, em_dtype_size(t), &w));
    EM_CUSOLVER(&c, "cusolverDn<t>potrf",
                BY_TYPE(t, cusolverDnSpotrf, cusolverDnDpotrf, cusolverDnCpotrf, cusolverDnZpotrf,
                        c.solver, ul, (int)n, a, ld1(n), w.work, lwork, w.info));
    em_cu_la_end(&c);
    begun = false;
    /* af_cholesky returns info: the one wait of this call. */
    LA_TRY(to_host(__func__, dev, info, w.info, sizeof(int)));
fail:
    if (begun) em_cu_la_end(&c);
    ws_free(&w);
    return err;
}

static af_err cu_geqrf(int dev, af_dtype t, dim_t m, dim_t n, void *a, void *tau) {
    af_err err = AF_SUCCESS;
    em_cu_la c;
    la_ws w = {0};
    bool begun = false;
    if (m == 0 || n == 0) return AF_SUCCESS;
    LA_TRY(la_fits(__func__, m, n));
    LA_TRY(em_cu_la_begin(__func__, dev, EM_CU_LA_SOLVER, &c));
    begun = true;
    LA_TRY(geqrf_in(&c, t, m, n, a, m, tau, &w));
fail:
    if (begun) em_cu_la_end(&c);
    ws_free(&w);
    return err;
}

static af_err cu_orgqr(int dev, af_dtype t, dim_t m, dim_t cols, dim_t k, void *q,
                       const void *tau) {
    af_err err = AF_SUCCESS;
    em_cu_la c;
    la_ws w = {0};
    bool begun = false;
    int lwork = 0;
    if (m == 0 || cols == 0) return AF_SUCCESS;
    LA_TRY(la_fits(__func__, m, cols));
    LA_TRY(em_cu_la_begin(__func__, dev, EM_CU_LA_SOLVER, &c));
    begun = true;
    EM_CUSOLVER(&c, "cusolverDn<t>orgqr_bufferSize",
                BY_TYPE(t, cusolverDnSorgqr_bufferSize, cusolverDnDorgqr_bufferSize,
                        cusolverDnCungqr_bufferSize, cusolverDnZungqr_bufferSize, c.solver, (int)m,
                        (int)cols, (int)k, q, ld1(m), tau, &lwork));
    LA_TRY(ws_need(&c, lwork, em_dtype_size(t), &w));
    EM_CUSOLVER(&c, "cusolverDn<t>orgqr",
                BY_TYPE(t, cusolverDnSorgqr, cusolverDnDorgqr, cusolverDnCungqr, cusolverDnZungqr,
                        c.solver, (int)m, (int)cols, (int)k, q, ld1(m), tau, w.work, lwork,
                        w.info));
fail:
    if (begun) em_cu_la_end(&c);
    ws_free(&w);
    return err;
}

static af_err cu_getrs(int dev, af_dtype t, dim_t n, dim_t nrhs, const void *lu,
                       const int32_t *ipiv, void *b) {
    af_err err = AF_SUCCESS;
    em_cu_la c;
    la_ws w = {0};
    bool begun = false;
    if (n == 0 || nrhs == 0) return AF_SUCCESS;
    LA_TRY(la_fits(__func__, n, nrhs));
    LA_TRY(em_cu_la_begin(__func__, dev, EM_CU_LA_SOLVER, &c));
    begun = true;
    LA_TRY(ws_need(&c, 0, 1, &w));
    LA_TRY(getrs_in(&c, t, n, nrhs, lu, ipiv, b, n, w.info));
fail:
    if (begun) em_cu_la_end(&c);
    ws_free(&w);
    return err;
}

/* Builds `count` pointers base + i * stride (bytes) in device memory at ptrs. */
static af_err make_ptrs(em_cu_la *c, void *ptrs, void *base, size_t stride, dim_t count) {
    long long st = (long long)stride, n = count;
    void *args[] = {&ptrs, &base, &st, &n};
    return la_launch(c, K_PTRS, f32, n, args);
}

/* Many small square systems: cuBLAS's batched LU and solve, one call each instead of two per
 * system. */
#define EM_CU_BATCHED_MIN   16
#define EM_CU_BATCHED_MAX_N 64

static af_err gesolve_batched(em_cu_la *c, af_dtype t, dim_t n, dim_t k, dim_t batch, void *a,
                              void *x) {
    af_err err = AF_SUCCESS;
    em_buf *buf = NULL;
    size_t es = em_dtype_size(t);
    size_t pbytes = sizeof(void *) * (size_t)batch;
    size_t ibytes = sizeof(int) * (size_t)(n * batch), fbytes = sizeof(int) * (size_t)batch;
    LA_TRY(em_cu_la_workspace(c, 2 * pbytes + ibytes + fbytes, &buf));
    char *ap = buf->ptr, *xp = ap + pbytes;
    int *ipiv = (int *)(xp + pbytes), *info = ipiv + n * batch;
    LA_TRY(make_ptrs(c, ap, a, (size_t)(n * n) * es, batch));
    LA_TRY(make_ptrs(c, xp, x, (size_t)(n * k) * es, batch));
    EM_CUBLAS(c, "cublas<t>getrfBatched",
              BY_TYPE(t, cublasSgetrfBatched, cublasDgetrfBatched, cublasCgetrfBatched,
                      cublasZgetrfBatched, c->blas, (int)n, (void *)ap, (int)n, ipiv, info,
                      (int)batch));
    int hinfo = 0; /* argument checks only: written on the host */
    EM_CUBLAS(c, "cublas<t>getrsBatched",
              BY_TYPE(t, cublasSgetrsBatched, cublasDgetrsBatched, cublasCgetrsBatched,
                      cublasZgetrsBatched, c->blas, CUBLAS_OP_N, (int)n, (int)k, (void *)ap, (int)n,
                      ipiv, (void *)xp, (int)n, &hinfo, (int)batch));
fail:
    if (buf) em_buf_release(buf);
    return err;
}

static af_err cu_gesolve(int dev, af_dtype t, dim_t m, dim_t n, dim_t k, dim_t batch, void *a,
                         const void *b, void *x) {
    af_err err = AF_SUCCESS;
    em_cu_la c;
    la_ws w1 = {0}, w2 = {0};
    em_buf *tmp = NULL;
    bool begun = false;
    size_t es = em_dtype_size(t);
    if (m == 0 || n == 0 || k == 0 || batch == 0) return AF_SUCCESS;
    LA_TRY(la_fits(__func__, m > n ? m : n, k > m ? k : (m > n ? m : n)));
    LA_TRY(em_cu_la_begin(__func__, dev, EM_CU_LA_SOLVER | EM_CU_LA_BLAS, &c));
    begun = true;
    if (m == n) {
        /* x = b, then LU and the two triangular solves in place. */
        cudaError_t e =
            cudaMemcpyAsync(x, b, (size_t)(n * k * batch) * es, cudaMemcpyDeviceToDevice, c.stream);
        if (e != cudaSuccess) LA_TRY(em_cu_err(e, __func__, "cudaMemcpyAsync"));
        if (batch >= EM_CU_BATCHED_MIN && n <= EM_CU_BATCHED_MAX_N) {
            LA_TRY(gesolve_batched(&c, t, n, k, batch, a, x));
        } else {
            LA_TRY(em_cu_la_workspace(&c, (size_t)n * sizeof(int32_t), &tmp));
            for (dim_t i = 0; i < batch; i++) {
                char *ai = (char *)a + (size_t)(i * n * n) * es;
                char *xi = (char *)x + (size_t)(i * n * k) * es;
                LA_TRY(getrf_in(&c, t, n, n, ai, tmp->ptr, &w1));
                LA_TRY(getrs_in(&c, t, n, k, ai, tmp->ptr, xi, n, w1.info));
            }
        }
    } else if (m > n) {
        /* Least squares through A = Q R: x = R^-1 (Q^H b)[0:n]. */
        size_t wbytes = (size_t)(m * k) * es;
        LA_TRY(em_cu_la_workspace(&c, ((wbytes + 255) & ~(size_t)255) + (size_t)n * es, &tmp));
        char *wb = tmp->ptr, *tau = wb + ((wbytes + 255) & ~(size_t)255);
        for (dim_t i = 0; i < batch; i++) {
            char *ai = (char *)a + (size_t)(i * m * n) * es;
            const char *bi = (const char *)b + (size_t)(i * m * k) * es;
            char *xi = (char *)x + (size_t)(i * n * k) * es;
            cudaError_t e = cudaMemcpyAsync(wb, bi, wbytes, cudaMemcpyDeviceToDevice, c.stream);
            if (e != cudaSuccess) LA_TRY(em_cu_err(e, __func__, "cudaMemcpyAsync"));
            LA_TRY(geqrf_in(&c, t, m, n, ai, m, tau, &w1));
            LA_TRY(ormqr_in(&c, t, CUBLAS_OP_C, m, k, n, ai, m, tau, wb, m, &w2));
            LA_TRY(trsm_in(&c, t, true, CUBLAS_OP_N, false, n, k, ai, m, wb, m));
            LA_TRY(copy2d(&c, xi, n, wb, m, n, k, es));
        }
    } else {
        /* Minimum norm through A^H = Q R: R^H y = b, x = Q [y; 0]. */
        size_t hbytes = ((size_t)(n * m) * es + 255) & ~(size_t)255;
        LA_TRY(em_cu_la_workspace(&c, hbytes + (size_t)m * es, &tmp));
        char *ah = tmp->ptr, *tau = ah + hbytes;
        for (dim_t i = 0; i < batch; i++) {
            const char *ai = (const char *)a + (size_t)(i * m * n) * es;
            const char *bi = (const char *)b + (size_t)(i * m * k) * es;
            char *xi = (char *)x + (size_t)(i * n * k) * es;
            LA_TRY(conj_transpose(&c, t, m, n, ai, m, ah));
            LA_TRY(geqrf_in(&c, t, n, m, ah, n, tau, &w1));
            cudaError_t e = cudaMemsetAsync(xi, 0, (size_t)(n * k) * es, c.stream);
            if (e != cudaSuccess) LA_TRY(em_cu_err(e, __func__, "cudaMemsetAsync"));
            LA_TRY(copy2d(&c, xi, n, bi, m, m, k, es));
            LA_TRY(trsm_in(&c, t, true, CUBLAS_OP_C, false, m, k, ah, n, xi, n));
            LA_TRY(ormqr_in(&c, t, CUBLAS_OP_N, n, k, m, ah, n, tau, xi, n, &w2));
        }
    }
fail:
    if (begun) em_cu_la_end(&c);
    if (tmp) em_buf_release(tmp);
    ws_free(&w1);
    ws_free(&w2);
    return err;
}

static af_err cu_trsolve(int dev, af_dtype t, dim_t n, dim_t k, dim_t batch, const void *a,
                         bool upper, bool unit, void *b) {
    af_err err = AF_SUCCESS;
    em_cu_la c;
    bool begun = false;
    size_t es = em_dtype_size(t);
    if (n == 0 || k == 0 || batch == 0) return AF_SUCCESS;
    LA_TRY(em_cu_la_begin(__func__, dev, EM_CU_LA_BLAS, &c));
    begun = true;
    for (dim_t i = 0; i < batch; i++)
        LA_TRY(trsm_in(&c, t, upper, CUBLAS_OP_N, unit, n, k,
                       (const char *)a + (size_t)(i * n * n) * es, n,
                       (char *)b + (size_t)(i * n * k) * es, n));
fail:
    if (begun) em_cu_la_end(&c);
    return err;
}

static af_err cu_inverse(int dev, af_dtype t, dim_t n, void *a, void *out) {
    af_err err = AF_SUCCESS;
    em_cu_la c;
    la_ws w = {0};
    em_buf *piv = NULL;
    bool begun = false;
    if (n == 0) return AF_SUCCESS;
    LA_TRY(la_fits(__func__, n, n));
    LA_TRY(em_cu_la_begin(__func__, dev, EM_CU_LA_SOLVER, &c));
    begun = true;
    /* A^-1 as the solution of A X = I: getrf, then getrs against the identity. */
    long long nn = n;
    void *args[] = {&out, &nn};
    LA_TRY(la_launch(&c, K_EYE, t, nn * nn, args));
    LA_TRY(em_cu_la_workspace(&c, (size_t)n * sizeof(int32_t), &piv));
    LA_TRY(getrf_in(&c, t, n, n, a, piv->ptr, &w));
    LA_TRY(getrs_in(&c, t, n, n, a, piv->ptr, out, n, w.info));
fail:
    if (begun) em_cu_la_end(&c);
    if (piv) em_buf_release(piv);
    ws_free(&w);
    return err;
}

static af_err cu_svd(int dev, af_dtype t, dim_t m, dim_t n, void *a, void *s, void *u, void *vt) {
    af_err err = AF_SUCCESS;
    em_cu_la c;
    la_ws w = {0};
    em_buf *vb = NULL;
    bool begun = false;
    if (m == 0 || n == 0) return AF_SUCCESS;
    LA_TRY(la_fits(__func__, m, n));
    LA_TRY(em_cu_la_begin(__func__, dev, EM_CU_LA_SOLVER | EM_CU_LA_BLAS, &c));
    begun = true;
    if (u) {
        /* gesvdj gives V; ArrayFire's output is V^H. */
        LA_TRY(em_cu_la_workspace(&c, (size_t)(n * n) * em_dtype_size(t), &vb));
        LA_TRY(gesvdj_in(&c, t, m, n, a, s, u, vb->ptr, &w));
        LA_TRY(conj_transpose(&c, t, n, n, vb->ptr, n, vt));
    } else {
        LA_TRY(gesvdj_in(&c, t, m, n, a, s, NULL, NULL, &w));
    }
fail:
    if (begun) em_cu_la_end(&c);
    if (vb) em_buf_release(vb);
    ws_free(&w);
    return err;
}

static af_err cu_det(int dev, af_dtype t, dim_t n, void *a, double out[2]) {
    af_err err = AF_SUCCESS;
    em_cu_la c;
    la_ws w = {0};
    em_buf *tmp = NULL;
    bool begun = false;
    size_t es = em_dtype_size(t);
    void *hd = NULL;
    int32_t *hp = NULL;
    LA_TRY(la_fits(__func__, n, n));
    hd = malloc((size_t)n * es);
    hp = malloc((size_t)n * sizeof(int32_t));
    if (!hd || !hp) LA_TRY(em_err(AF_ERR_NO_MEM, __func__, "out of host memory for det"));
    LA_TRY(em_cu_la_begin(__func__, dev, EM_CU_LA_SOLVER | EM_CU_LA_BLAS, &c));
    begun = true;
    size_t dbytes = ((size_t)n * es + 255) & ~(size_t)255;
    LA_TRY(em_cu_la_workspace(&c, dbytes + (size_t)n * sizeof(int32_t), &tmp));
    char *diag = tmp->ptr;
    int32_t *piv = (int32_t *)(diag + dbytes);
    LA_TRY(getrf_in(&c, t, n, n, a, piv, &w));
    /* U's diagonal, gathered with a stride of n + 1. */
    EM_CUBLAS(&c, "cublas<t>copy",
              BY_TYPE(t, cublasScopy_64, cublasDcopy_64, cublasCcopy_64, cublasZcopy_64, c.blas, n,
                      a, n + 1, (void *)diag, 1));
    em_cu_la_end(&c);
    begun = false;
    LA_TRY(to_host(__func__, dev, hd, diag, (size_t)n * es));
    LA_TRY(to_host(__func__, dev, hp, piv, (size_t)n * sizeof(int32_t)));
    /* The product in double (finite where a float product of a large matrix overflows),
     * negated once per row interchange. */
    double re = 1, im = 0;
    bool neg = false;
    for (dim_t i = 0; i < n; i++) {
        double xr, xi = 0;
        switch (t) {
        case f32:
            xr = ((float *)hd)[i];
            break;
        case f64:
            xr = ((double *)hd)[i];
            break;
        case c32:
            xr = ((float *)hd)[2 * i], xi = ((float *)hd)[2 * i + 1];
            break;
        default:
            xr = ((double *)hd)[2 * i], xi = ((double *)hd)[2 * i + 1];
            break;
        }
        double nr = re * xr - im * xi, ni = re * xi + im * xr;
        re = nr, im = ni;
        neg ^= hp[i] != i + 1;
    }
    out[0] = neg ? -re : re;
    out[1] = neg ? -im : im;
fail:
    if (begun) em_cu_la_end(&c);
    if (tmp) em_buf_release(tmp);
    ws_free(&w);
    free(hd);
    free(hp);
    return err;
}

/* Runs the reduce kernel (lapack.cuh's modes) into `count` doubles at out (device). With
 * `blocks` > 0 the grid has that many blocks (one per column, or partials), else the grid covers
 * `work` threads. */
static af_err reduce_in(em_cu_la *c, af_dtype t, const void *a, dim_t m, dim_t n, int mode,
                        double p, double *out, long long blocks, long long work) {
    CUfunction f;
    af_err err = la_kernel(c, K_REDUCE, t, &f);
    if (err != AF_SUCCESS) return err;
    if (blocks <= 0) {
        blocks = (work + EM_CU_BLOCK - 1) / EM_CU_BLOCK;
        if (blocks > em_cu_devs[c->dev].grid) blocks = em_cu_devs[c->dev].grid;
        if (blocks < 1) blocks = 1;
    }
    long long mm = m, nn = n;
    void *args[] = {&a, &mm, &nn, &mode, &p, &out};
    dim3 grid = {(unsigned)blocks, 1, 1}, block = {EM_CU_BLOCK, 1, 1};
    return em_cu_launch(c->fn, "em_la_reduce", f, grid, block, args, c->stream);
}

static af_err cu_rank(int dev, af_dtype t, dim_t m, dim_t n, void *a, double tol, unsigned *out) {
    af_err err = AF_SUCCESS;
    em_cu_la c;
    la_ws w = {0};
    em_buf *tmp = NULL;
    bool begun = false;
    double *h = NULL;
    dim_t k = m < n ? m : n;
    if (tol < 0) {
        /* Every row of R has an entry (a zero at least) above a negative tolerance. */
        *out = (unsigned)m;
        return AF_SUCCESS;
    }
    LA_TRY(la_fits(__func__, m, n));
    h = malloc(sizeof(double) * (size_t)k + 1);
    if (!h) LA_TRY(em_err(AF_ERR_NO_MEM, __func__, "out of host memory for rank"));
    LA_TRY(em_cu_la_begin(__func__, dev, EM_CU_LA_SOLVER, &c));
    begun = true;
    size_t tbytes = ((size_t)k * em_dtype_size(t) + 255) & ~(size_t)255;
    LA_TRY(em_cu_la_workspace(&c, tbytes + sizeof(double) * (size_t)k, &tmp));
    double *rows = (double *)((char *)tmp->ptr + tbytes);
    LA_TRY(geqrf_in(&c, t, m, n, a, m, tmp->ptr, &w));
    LA_TRY(reduce_in(&c, t, a, m, n, 4, 1, rows, 0, k));
    em_cu_la_end(&c);
    begun = false;
    LA_TRY(to_host(__func__, dev, h, rows, sizeof(double) * (size_t)k));
    unsigned cnt = 0;
    for (dim_t i = 0; i < k; i++)
        cnt += h[i] > tol;
    *out = cnt;
fail:
    if (begun) em_cu_la_end(&c);
    if (tmp) em_buf_release(tmp);
    ws_free(&w);
    free(h);
    return err;
}

#define EM_CU_NORM_PARTIALS 1024

static af_err cu_norm(int dev, af_dtype t, int kind, dim_t m, dim_t n, const void *a, double p,
                      double q, double *out) {
    af_err err = AF_SUCCESS;
    em_cu_la c;
    la_ws w = {0};
    em_buf *tmp = NULL;
    bool begun = false;
    double *h = NULL;
    dim_t cnt = m * n;
    size_t nres = 0; /* doubles to read back */
    int mode = -1;
    double pp = p;
    switch (kind) {
    case AF_NORM_EUCLID:
        /* Float data (f32, c32, f16): a sum of squares in double, which can neither overflow
         * nor lose range, at memory bandwidth. Double data: BLAS's scaled nrm2. */
        mode = (t == f64 || t == c64) ? -1 : 6, pp = 2;
        break;
    case AF_NORM_VECTOR_1:
        mode = 0, pp = 1;
        break;
    case AF_NORM_VECTOR_INF:
        mode = 1;
        break;
    case AF_NORM_VECTOR_P:
        mode = isinf(p) ? 1 : 0;
        break;
    case AF_NORM_MATRIX_1:
        mode = 2, pp = 1;
        break;
    case AF_NORM_MATRIX_L_PQ:
        mode = 2;
        break;
    case AF_NORM_MATRIX_INF:
        mode = 3;
        break;
    case AF_NORM_MATRIX_2:
        mode = 5; /* SVD */
        break;
    default:
        return em_err(AF_ERR_NOT_SUPPORTED, __func__, "norm type %d is not supported", kind);
    }
    /* Sum of squares: one partial per block, each block reading at least a few KiB. */
    long long scalars = (long long)cnt * (t == c32 ? 2 : 1);
    long long sq_blocks = (scalars + 16 * EM_CU_BLOCK - 1) / (16 * EM_CU_BLOCK);
    if (sq_blocks > EM_CU_NORM_PARTIALS) sq_blocks = EM_CU_NORM_PARTIALS;
    nres = mode == 2                 ? (size_t)n
           : mode == 3               ? (size_t)m
           : mode == 5 || mode == -1 ? 1
           : mode == 6               ? (size_t)sq_blocks
                                     : EM_CU_NORM_PARTIALS;
    h = malloc(sizeof(double) * nres);
    if (!h) LA_TRY(em_err(AF_ERR_NO_MEM, __func__, "out of host memory for norm"));
    LA_TRY(em_cu_la_begin(__func__, dev, mode == 5 ? EM_CU_LA_SOLVER : EM_CU_LA_BLAS, &c));
    begun = true;
    size_t rbytes = sizeof(double) * nres;
    if (mode == -1) {
        /* The Frobenius norm of double data: one nrm2 over the whole buffer, scaled, so that
         * squares beyond the double range do not overflow. */
        LA_TRY(em_cu_la_workspace(&c, 16, &tmp));
        EM_CUBLAS(&c, "cublasSetPointerMode",
                  cublasSetPointerMode(c.blas, CUBLAS_POINTER_MODE_DEVICE));
        EM_CUBLAS(&c, "cublas<t>nrm2",
                  BY_TYPE(t, cublasSnrm2_64, cublasDnrm2_64, cublasScnrm2_64, cublasDznrm2_64,
                          c.blas, cnt, a, 1, tmp->ptr));
        EM_CUBLAS(&c, "cublasSetPointerMode",
                  cublasSetPointerMode(c.blas, CUBLAS_POINTER_MODE_HOST));
    } else if (mode == 6) {
        LA_TRY(em_cu_la_workspace(&c, rbytes, &tmp));
        CUfunction f;
        LA_TRY(la_kernel(&c, K_SUMSQ, t == f16 ? f16 : f32, &f));
        void *dst = tmp->ptr;
        void *args[] = {&a, &scalars, &dst};
        dim3 grid = {(unsigned)sq_blocks, 1, 1}, block = {EM_CU_BLOCK, 1, 1};
        LA_TRY(em_cu_launch(c.fn, "em_la_sumsq", f, grid, block, args, c.stream));
    } else if (mode == 5) {
        /* The largest singular value; f16 through float. */
        af_dtype wt = t == f16 ? f32 : t;
        size_t es = em_dtype_size(wt), abytes = ((size_t)cnt * es + 255) & ~(size_t)255;
        LA_TRY(la_fits(__func__, m, n));
        LA_TRY(em_cu_la_workspace(&c, abytes + sizeof(double) * (size_t)(m < n ? m : n), &tmp));
        if (t == f16) {
            long long nn = cnt;
            void *dst = tmp->ptr;
            void *args[] = {&dst, &a, &nn};
            LA_TRY(la_launch(&c, K_WIDEN, f32, nn, args));
        } else {
            cudaError_t e =
                cudaMemcpyAsync(tmp->ptr, a, (size_t)cnt * es, cudaMemcpyDeviceToDevice, c.stream);
            if (e != cudaSuccess) LA_TRY(em_cu_err(e, __func__, "cudaMemcpyAsync"));
        }
        LA_TRY(gesvdj_in(&c, wt, m, n, tmp->ptr, (char *)tmp->ptr + abytes, NULL, NULL, &w));
        rbytes = em_dtype_size(em_dtype_real_of(wt));
        em_cu_la_end(&c);
        begun = false;
        LA_TRY(to_host(__func__, dev, h, (char *)tmp->ptr + abytes, rbytes));
        *out = rbytes == 4 ? (double)*(float *)h : h[0];
        goto fail; /* done: release and return */
    } else {
        LA_TRY(em_cu_la_workspace(&c, rbytes, &tmp));
        long long blocks = mode <= 1 ? EM_CU_NORM_PARTIALS : mode == 2 ? (long long)n : 0;
        LA_TRY(reduce_in(&c, t, a, m, n, mode, pp, tmp->ptr, blocks, mode == 3 ? m : 0));
    }
    em_cu_la_end(&c);
    begun = false;
    if (mode == -1) rbytes = (t == f64 || t == c64) ? 8 : 4;
    LA_TRY(to_host(__func__, dev, h, tmp->ptr, rbytes));
    double r = 0;
    if (mode == -1) {
        r = rbytes == 4 ? (double)*(float *)h : h[0];
    } else if (mode == 6) {
        double s = 0;
        for (size_t i = 0; i < nres; i++)
            s += h[i];
        r = sqrt(s);
        /* f32 and c32 answer in float, as their nrm2 does (and the CPU's): a norm beyond the
         * float range is inf. */
        if (t != f16) r = (double)(float)r;
    } else if (mode == 0) {
        double s = 0;
        for (size_t i = 0; i < nres; i++)
            s += h[i];
        r = pp == 1 ? s : pp == 2 ? sqrt(s) : pow(s, 1 / pp);
    } else if (mode == 2 && kind == AF_NORM_MATRIX_L_PQ) {
        double s = 0;
        for (size_t j = 0; j < nres; j++) {
            double cn = pp == 1 ? h[j] : pow(h[j], 1 / pp);
            s += q == 1 ? cn : pow(cn, q);
        }
        r = q == 1 ? s : pow(s, 1 / q);
    } else {
        /* The largest partial, column or row value; NaN wins. */
        bool nan = false;
        for (size_t i = 0; i < nres; i++) {
            nan |= isnan(h[i]);
            r = h[i] > r ? h[i] : r;
        }
        if (nan) r = NAN;
    }
    *out = r;
fail:
    if (begun) em_cu_la_end(&c);
    if (tmp) em_buf_release(tmp);
    ws_free(&w);
    free(h);
    return err;
}

static af_err cu_pinverse(int dev, af_dtype t, dim_t m, dim_t n, dim_t batch, const void *a,
                          double tol, void *out) {
    af_err err = AF_SUCCESS;
    em_cu_la c;
    la_ws w = {0};
    em_buf *tmp = NULL;
    bool begun = false;
    size_t es = em_dtype_size(t);
    dim_t r = m < n ? m : n;
    if (m == 0 || n == 0 || batch == 0) return AF_SUCCESS;
    LA_TRY(la_fits(__func__, m > n ? m : n, m > n ? m : n));
    LA_TRY(em_cu_la_begin(__func__, dev, EM_CU_LA_SOLVER | EM_CU_LA_BLAS, &c));
    begun = true;
#define EM_ALIGN256(x) (((x) + 255) & ~(size_t)255)
    size_t wb = EM_ALIGN256((size_t)(m * n) * es), ub = EM_ALIGN256((size_t)(m * m) * es);
    size_t vb = EM_ALIGN256((size_t)(n * n) * es);
    LA_TRY(em_cu_la_workspace(&c, wb + ub + vb + sizeof(double) * (size_t)r, &tmp));
    char *wp = tmp->ptr, *up = wp + wb, *vp = up + ub, *sp = vp + vb;
#undef EM_ALIGN256
    for (dim_t i = 0; i < batch; i++) {
        const char *ai = (const char *)a + (size_t)(i * m * n) * es;
        char *oi = (char *)out + (size_t)(i * n * m) * es;
        cudaError_t e =
            cudaMemcpyAsync(wp, ai, (size_t)(m * n) * es, cudaMemcpyDeviceToDevice, c.stream);
        if (e != cudaSuccess) LA_TRY(em_cu_err(e, __func__, "cudaMemcpyAsync"));
        LA_TRY(gesvdj_in(&c, t, m, n, wp, sp, up, vp, &w));
        /* V's first r columns times S+ (the threshold read from s_0 on the device), then
         * out = (V S+) U_r^H. */
        long long rows = n, rr = r, ld = n;
        double tol_mul = tol * (double)(m > n ? m : n);
        void *args[] = {&vp, &rows, &rr, &ld, &sp, &tol_mul};
        LA_TRY(la_launch(&c, K_SCALE, t, rows * rr, args));
        em_gemm_desc d = {
            .type = t,
            .op_a = EM_BLAS_N,
            .op_b = EM_BLAS_C,
            .m = n,
            .n = m,
            .k = r,
            .a = vp,
            .b = up,
            .c = oi,
            .lda = n,
            .ldb = m,
            .ldc = n,
            .batch = {1, 1},
            .alpha = {1, 0},
            .beta = {0, 0},
        };
        LA_TRY(em_cu_gemm_in(&c, &d));
    }
fail:
    if (begun) em_cu_la_end(&c);
    if (tmp) em_buf_release(tmp);
    ws_free(&w);
    return err;
}

const struct em_lapack_ops em_cu_lapack_ops = {
    .getrf = cu_getrf,
    .pivot_perm = cu_pivot_perm,
    .triangle = cu_triangle,
    .potrf = cu_potrf,
    .geqrf = cu_geqrf,
    .orgqr = cu_orgqr,
    .getrs = cu_getrs,
    .gesolve = cu_gesolve,
    .trsolve = cu_trsolve,
    .inverse = cu_inverse,
    .svd = cu_svd,
    .det = cu_det,
    .rank = cu_rank,
    .norm = cu_norm,
    .pinverse = cu_pinverse,
};
