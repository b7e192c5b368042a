/* The CPU backend's lapack table: LAPACKE over OpenBLAS's LAPACK, and CBLAS for triangular solves
 * and the pseudo-inverse's product. A large matrix is one vendor call, threaded by OpenBLAS;
 * batches of small systems run one call per OpenMP thread.
 *
 * LAPACKE's NaN check is switched off: with it, a NaN anywhere in the input makes LAPACKE return
 * an error without computing, where the CUDA backend (and LAPACK itself) lets NaN flow into the
 * result. */
#include "../lapack.h"

#include "../../core/dtype.h"
#include "../../core/err.h"
#include "cpu.h"

#include <cblas.h>
#include <complex.h>
#include <lapacke.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Matrices up to this many elements are "small": a batch of them runs one system per OpenMP
 * thread, since OpenBLAS would run each on one thread anyway. */
#define EM_CPU_LA_SMALL (64 * 64)

static pthread_once_t la_once = PTHREAD_ONCE_INIT;
static void la_init(void) {
    LAPACKE_set_nancheck(0);
}

static lapack_int ld1(dim_t v) {
    return v > 1 ? (lapack_int)v : 1;
}

/* Converts a LAPACKE status: negative is a bad argument (a bug here), -1010 out of memory. */
static af_err la_status(const char *fn, lapack_int info, const char *what) {
    if (info >= 0) return AF_SUCCESS;
    if (info == LAPACK_WORK_MEMORY_ERROR || info == LAPACK_TRANSPOSE_MEMORY_ERROR)
        return em_err(AF_ERR_NO_MEM, fn, "%s: out of host memory for LAPACK's workspace", what);
    return em_err(AF_ERR_INTERNAL, fn, "%s: LAPACKE rejected argument %d", what, (int)-info);
}

/* ---- dtype dispatch of the LAPACKE routines ---- */

static lapack_int x_getrf(af_dtype t, dim_t m, dim_t n, void *a, lapack_int *ipiv) {
    lapack_int M = (lapack_int)m, N = (lapack_int)n, L = ld1(m);
    switch (t) {
    case f32:
        return LAPACKE_sgetrf(LAPACK_COL_MAJOR, M, N, a, L, ipiv);
    case f64:
        return LAPACKE_dgetrf(LAPACK_COL_MAJOR, M, N, a, L, ipiv);
    case c32:
        return LAPACKE_cgetrf(LAPACK_COL_MAJOR, M, N, a, L, ipiv);
    default:
        return LAPACKE_zgetrf(LAPACK_COL_MAJOR, M, N, a, L, ipiv);
    }
}

static lapack_int x_getrs(af_dtype t, dim_t n, dim_t k, const void *a, const lapack_int *ipiv,
                          void *b, dim_t ldb) {
    lapack_int N = (lapack_int)n, K = (lapack_int)k, L = ld1(n), LB = ld1(ldb);
    switch (t) {
    case f32:
        return LAPACKE_sgetrs(LAPACK_COL_MAJOR, 'N', N, K, a, L, ipiv, b, LB);
    case f64:
        return LAPACKE_dgetrs(LAPACK_COL_MAJOR, 'N', N, K, a, L, ipiv, b, LB);
    case c32:
        return LAPACKE_cgetrs(LAPACK_COL_MAJOR, 'N', N, K, a, L, ipiv, b, LB);
    default:
        return LAPACKE_zgetrs(LAPACK_COL_MAJOR, 'N', N, K, a, L, ipiv, b, LB);
    }
}

static lapack_int x_potrf(af_dtype t, dim_t n, void *a, bool upper) {
    char uplo = upper ? 'U' : 'L';
    lapack_int N = (lapack_int)n, L = ld1(n);
    switch (t) {
    case f32:
        return LAPACKE_spotrf(LAPACK_COL_MAJOR, uplo, N, a, L);
    case f64:
        return LAPACKE_dpotrf(LAPACK_COL_MAJOR, uplo, N, a, L);
    case c32:
        return LAPACKE_cpotrf(LAPACK_COL_MAJOR, uplo, N, a, L);
    default:
        return LAPACKE_zpotrf(LAPACK_COL_MAJOR, uplo, N, a, L);
    }
}

static lapack_int x_geqrf(af_dtype t, dim_t m, dim_t n, void *a, void *tau) {
    lapack_int M = (lapack_int)m, N = (lapack_int)n, L = ld1(m);
    switch (t) {
    case f32:
        return LAPACKE_sgeqrf(LAPACK_COL_MAJOR, M, N, a, L, tau);
    case f64:
        return LAPACKE_dgeqrf(LAPACK_COL_MAJOR, M, N, a, L, tau);
    case c32:
        return LAPACKE_cgeqrf(LAPACK_COL_MAJOR, M, N, a, L, tau);
    default:
        return LAPACKE_zgeqrf(LAPACK_COL_MAJOR, M, N, a, L, tau);
    }
}

static lapack_int x_orgqr(af_dtype t, dim_t m, dim_t cols, dim_t k, void *q, const void *tau) {
    lapack_int M = (lapack_int)m, C = (lapack_int)cols, K = (lapack_int)k, L = ld1(m);
    switch (t) {
    case f32:
        return LAPACKE_sorgqr(LAPACK_COL_MAJOR, M, C, K, q, L, tau);
    case f64:
        return LAPACKE_dorgqr(LAPACK_COL_MAJOR, M, C, K, q, L, tau);
    case c32:
        return LAPACKE_cungqr(LAPACK_COL_MAJOR, M, C, K, q, L, tau);
    default:
        return LAPACKE_zungqr(LAPACK_COL_MAJOR, M, C, K, q, L, tau);
    }
}

static lapack_int x_gels(af_dtype t, dim_t m, dim_t n, dim_t k, void *a, void *b, dim_t ldb) {
    lapack_int M = (lapack_int)m, N = (lapack_int)n, K = (lapack_int)k, L = ld1(m), LB = ld1(ldb);
    switch (t) {
    case f32:
        return LAPACKE_sgels(LAPACK_COL_MAJOR, 'N', M, N, K, a, L, b, LB);
    case f64:
        return LAPACKE_dgels(LAPACK_COL_MAJOR, 'N', M, N, K, a, L, b, LB);
    case c32:
        return LAPACKE_cgels(LAPACK_COL_MAJOR, 'N', M, N, K, a, L, b, LB);
    default:
        return LAPACKE_zgels(LAPACK_COL_MAJOR, 'N', M, N, K, a, L, b, LB);
    }
}

static lapack_int x_gesdd(af_dtype t, dim_t m, dim_t n, void *a, void *s, void *u, void *vt) {
    char job = u ? 'A' : 'N';
    lapack_int M = (lapack_int)m, N = (lapack_int)n, L = ld1(m), LU = ld1(m), LV = ld1(n);
    switch (t) {
    case f32:
        return LAPACKE_sgesdd(LAPACK_COL_MAJOR, job, M, N, a, L, s, u, LU, vt, LV);
    case f64:
        return LAPACKE_dgesdd(LAPACK_COL_MAJOR, job, M, N, a, L, s, u, LU, vt, LV);
    case c32:
        return LAPACKE_cgesdd(LAPACK_COL_MAJOR, job, M, N, a, L, s, u, LU, vt, LV);
    default:
        return LAPACKE_zgesdd(LAPACK_COL_MAJOR, job, M, N, a, L, s, u, LU, vt, LV);
    }
}

/* ---- element helpers ---- */

static size_t esize(af_dtype t) {
    return em_dtype_size(t);
}

/* Writes the value 1 (or 0) of dtype t at p. */
static void put_scalar(af_dtype t, void *p, double v) {
    switch (t) {
    case f32:
        *(float *)p = (float)v;
        break;
    case f64:
        *(double *)p = v;
        break;
    case c32:
        ((float *)p)[0] = (float)v;
        ((float *)p)[1] = 0;
        break;
    default:
        ((double *)p)[0] = v;
        ((double *)p)[1] = 0;
        break;
    }
}

/* Element i of a matrix of dtype t as a complex double. */
static double complex get_c(af_dtype t, const void *p, size_t i) {
    switch (t) {
    case f32:
        return ((const float *)p)[i];
    case f64:
        return ((const double *)p)[i];
    case c32:
        return CMPLXF(((const float *)p)[2 * i], ((const float *)p)[2 * i + 1]);
    case c64:
        return CMPLX(((const double *)p)[2 * i], ((const double *)p)[2 * i + 1]);
    default: /* f16 */
        return em_half_to_float(((const uint16_t *)p)[i]);
    }
}

static double get_abs(af_dtype t, const void *p, size_t i) {
    switch (t) {
    case f32:
        return fabs((double)((const float *)p)[i]);
    case f64:
        return fabs(((const double *)p)[i]);
    case c32:
        return hypot(((const float *)p)[2 * i], ((const float *)p)[2 * i + 1]);
    case c64:
        return hypot(((const double *)p)[2 * i], ((const double *)p)[2 * i + 1]);
    default:
        return fabs((double)em_half_to_float(((const uint16_t *)p)[i]));
    }
}

/* ---- slots ---- */

static af_err cpu_getrf(int dev, af_dtype type, dim_t m, dim_t n, void *a, int32_t *ipiv) {
    (void)dev;
    pthread_once(&la_once, la_init);
    if (m == 0 || n == 0) return AF_SUCCESS;
    return la_status(__func__, x_getrf(type, m, n, a, ipiv), "getrf");
}

static af_err cpu_pivot_perm(int dev, const int32_t *ipiv, dim_t k, dim_t m, int32_t *perm) {
    (void)dev;
    for (dim_t i = 0; i < m; i++)
        perm[i] = (int32_t)i;
    for (dim_t j = 0; j < k; j++) {
        int32_t p = ipiv[j] - 1;
        if (p < 0 || p >= m) continue; /* not LAPACK's output: ignored */
        int32_t t = perm[j];
        perm[j] = perm[p];
        perm[p] = t;
    }
    return AF_SUCCESS;
}

static af_err cpu_triangle(int dev, af_dtype type, void *out, dim_t rows, dim_t cols,
                           const void *in, dim_t ld, bool upper, bool unit) {
    (void)dev;
    size_t es = esize(type);
    unsigned char one[16];
    put_scalar(type, one, 1);
#pragma omp parallel for schedule(static) if (rows * cols > 65536)
    for (dim_t j = 0; j < cols; j++) {
        char *o = (char *)out + (size_t)(j * rows) * es;
        const char *s = (const char *)in + (size_t)(j * ld) * es;
        /* Rows [lo, hi) of column j are kept. */
        dim_t lo = upper ? 0 : j, hi = upper ? (j + 1 < rows ? j + 1 : rows) : rows;
        if (lo > rows) lo = rows;
        if (o != s) {
            if (hi > lo) memcpy(o + lo * es, s + lo * es, (size_t)(hi - lo) * es);
        }
        if (lo > 0) memset(o, 0, (size_t)lo * es);
        if (hi < rows) memset(o + hi * es, 0, (size_t)(rows - hi) * es);
        if (unit && j < rows) memcpy(o + j * es, one, es);
    }
    return AF_SUCCESS;
}

static af_err cpu_potrf(int dev, af_dtype type, dim_t n, void *a, bool upper, int *info) {
    (void)dev;
    pthread_once(&la_once, la_init);
    *info = 0;
    if (n == 0) return AF_SUCCESS;
    lapack_int r = x_potrf(type, n, a, upper);
    if (r < 0) return la_status(__func__, r, "potrf");
    *info = (int)r;
    return AF_SUCCESS;
}

static af_err cpu_geqrf(int dev, af_dtype type, dim_t m, dim_t n, void *a, void *tau) {
    (void)dev;
    pthread_once(&la_once, la_init);
    if (m == 0 || n == 0) return AF_SUCCESS;
    return la_status(__func__, x_geqrf(type, m, n, a, tau), "geqrf");
}

static af_err cpu_orgqr(int dev, af_dtype type, dim_t m, dim_t cols, dim_t k, void *q,
                        const void *tau) {
    (void)dev;
    pthread_once(&la_once, la_init);
    if (m == 0 || cols == 0) return AF_SUCCESS;
    return la_status(__func__, x_orgqr(type, m, cols, k, q, tau), "orgqr");
}

static af_err cpu_getrs(int dev, af_dtype type, dim_t n, dim_t nrhs, const void *lu,
                        const int32_t *ipiv, void *b) {
    (void)dev;
    pthread_once(&la_once, la_init);
    if (n == 0 || nrhs == 0) return AF_SUCCESS;
    return la_status(__func__, x_getrs(type, n, nrhs, lu, ipiv, b, n), "getrs");
}

/* One system of gesolve; ipiv has room for min(m, n) pivots, w for max(m, n) x k elements. */
static lapack_int solve_one(af_dtype t, dim_t m, dim_t n, dim_t k, void *a, const void *b, void *x,
                            lapack_int *ipiv, void *w) {
    size_t es = esize(t);
    if (m == n) {
        memcpy(x, b, (size_t)(n * k) * es);
        lapack_int r = x_getrf(t, n, n, a, ipiv);
        if (r < 0) return r;
        /* A zero pivot (r > 0) divides by zero in the solve: non-finite values, as on CUDA. */
        return x_getrs(t, n, k, a, ipiv, x, n);
    }
    dim_t ldw = m > n ? m : n;
    for (dim_t j = 0; j < k; j++) {
        memcpy((char *)w + (size_t)(j * ldw) * es, (const char *)b + (size_t)(j * m) * es,
               (size_t)m * es);
        if (ldw > m) memset((char *)w + (size_t)(j * ldw + m) * es, 0, (size_t)(ldw - m) * es);
    }
    lapack_int r = x_gels(t, m, n, k, a, w, ldw);
    if (r < 0) return r;
    for (dim_t j = 0; j < k; j++)
        memcpy((char *)x + (size_t)(j * n) * es, (const char *)w + (size_t)(j * ldw) * es,
               (size_t)n * es);
    return 0;
}

static af_err cpu_gesolve(int dev, af_dtype type, dim_t m, dim_t n, dim_t k, dim_t batch, void *a,
                          const void *b, void *x) {
    (void)dev;
    pthread_once(&la_once, la_init);
    if (m == 0 || n == 0 || k == 0 || batch == 0) return AF_SUCCESS;
    size_t es = esize(type);
    dim_t mn = m < n ? m : n, mx = m > n ? m : n;
    lapack_int worst = 0;
    bool oom = false;
#pragma omp parallel if (batch > 1 && m * n <= EM_CPU_LA_SMALL)
    {
        lapack_int *ipiv = malloc(sizeof(lapack_int) * (size_t)mn);
        void *w = m == n ? NULL : malloc((size_t)(mx * k) * es);
        if (!ipiv || (m != n && !w)) {
#pragma omp atomic write
            oom = true;
        }
#pragma omp for schedule(static)
        for (dim_t i = 0; i < batch; i++) {
            if (!ipiv || (m != n && !w)) continue;
            lapack_int r = solve_one(type, m, n, k, (char *)a + (size_t)(i * m * n) * es,
                                     (const char *)b + (size_t)(i * m * k) * es,
                                     (char *)x + (size_t)(i * n * k) * es, ipiv, w);
            if (r < 0) {
#pragma omp atomic write
                worst = r;
            }
        }
        free(ipiv);
        free(w);
    }
    if (oom) return em_err(AF_ERR_NO_MEM, __func__, "out of host memory for solver workspace");
    return la_status(__func__, worst, m == n ? "getrf/getrs" : "gels");
}

static af_err cpu_trsolve(int dev, af_dtype type, dim_t n, dim_t k, dim_t batch, const void *a,
                          bool upper, bool unit, void *b) {
    (void)dev;
    if (n == 0 || k == 0 || batch == 0) return AF_SUCCESS;
    size_t es = esize(type);
    enum CBLAS_UPLO ul = upper ? CblasUpper : CblasLower;
    enum CBLAS_DIAG dg = unit ? CblasUnit : CblasNonUnit;
    blasint N = (blasint)n, K = (blasint)k;
    const float c1f[2] = {1, 0};
    const double c1d[2] = {1, 0};
#pragma omp parallel for schedule(static) if (batch > 1 && n * n <= EM_CPU_LA_SMALL)
    for (dim_t i = 0; i < batch; i++) {
        const char *ap = (const char *)a + (size_t)(i * n * n) * es;
        char *bp = (char *)b + (size_t)(i * n * k) * es;
        switch (type) {
        case f32:
            cblas_strsm(CblasColMajor, CblasLeft, ul, CblasNoTrans, dg, N, K, 1.0f,
                        (const float *)ap, N, (float *)bp, N);
            break;
        case f64:
            cblas_dtrsm(CblasColMajor, CblasLeft, ul, CblasNoTrans, dg, N, K, 1.0,
                        (const double *)ap, N, (double *)bp, N);
            break;
        case c32:
            cblas_ctrsm(CblasColMajor, CblasLeft, ul, CblasNoTrans, dg, N, K, c1f, ap, N, bp, N);
            break;
        default:
            cblas_ztrsm(CblasColMajor, CblasLeft, ul, CblasNoTrans, dg, N, K, c1d, ap, N, bp, N);
            break;
        }
    }
    return AF_SUCCESS;
}

static af_err cpu_inverse(int dev, af_dtype type, dim_t n, void *a, void *out) {
    (void)dev;
    pthread_once(&la_once, la_init);
    if (n == 0) return AF_SUCCESS;
    size_t es = esize(type);
    lapack_int *ipiv = malloc(sizeof(lapack_int) * (size_t)n);
    if (!ipiv) return em_err(AF_ERR_NO_MEM, __func__, "out of host memory for pivots");
    /* A^-1 as the solution of A X = I (what NumPy's inv does): getrf, then getrs. */
    memset(out, 0, (size_t)(n * n) * es);
    for (dim_t i = 0; i < n; i++)
        put_scalar(type, (char *)out + (size_t)(i * n + i) * es, 1);
    lapack_int r = x_getrf(type, n, n, a, ipiv);
    if (r >= 0) r = x_getrs(type, n, n, a, ipiv, out, n);
    free(ipiv);
    return la_status(__func__, r, "getrf/getrs");
}

/* Fills n elements of dtype t with NaN. */
static void fill_nan(af_dtype t, void *p, size_t n) {
    size_t cnt = n * ((t == c32 || t == c64) ? 2 : 1);
    if (t == f32 || t == c32)
        for (size_t i = 0; i < cnt; i++)
            ((float *)p)[i] = NAN;
    else
        for (size_t i = 0; i < cnt; i++)
            ((double *)p)[i] = NAN;
}

static af_err cpu_svd(int dev, af_dtype type, dim_t m, dim_t n, void *a, void *s, void *u,
                      void *vt) {
    (void)dev;
    pthread_once(&la_once, la_init);
    if (m == 0 || n == 0) return AF_SUCCESS;
    lapack_int r = x_gesdd(type, m, n, a, s, u, vt);
    if (r > 0) {
        /* No convergence (NaN input does this): NaN rather than whatever was left. */
        dim_t mn = m < n ? m : n;
        fill_nan(em_dtype_real_of(type), s, (size_t)mn);
        if (u) fill_nan(type, u, (size_t)(m * m));
        if (vt) fill_nan(type, vt, (size_t)(n * n));
        return AF_SUCCESS;
    }
    return la_status(__func__, r, "gesdd");
}

static af_err cpu_det(int dev, af_dtype type, dim_t n, void *a, double out[2]) {
    (void)dev;
    pthread_once(&la_once, la_init);
    lapack_int *ipiv = malloc(sizeof(lapack_int) * (size_t)n);
    if (!ipiv) return em_err(AF_ERR_NO_MEM, __func__, "out of host memory for pivots");
    lapack_int r = x_getrf(type, n, n, a, ipiv);
    if (r < 0) {
        free(ipiv);
        return la_status(__func__, r, "getrf");
    }
    /* The product of U's diagonal, negated once per row interchange. Accumulated in double,
     * which keeps a large f32 matrix's determinant finite where a float product overflows. */
    double complex d = 1;
    bool neg = false;
    for (dim_t i = 0; i < n; i++) {
        d *= get_c(type, a, (size_t)(i * n + i));
        neg ^= ipiv[i] != i + 1;
    }
    free(ipiv);
    if (neg) d = -d;
    out[0] = creal(d);
    out[1] = cimag(d);
    return AF_SUCCESS;
}

static af_err cpu_rank(int dev, af_dtype type, dim_t m, dim_t n, void *a, double tol,
                       unsigned *out) {
    (void)dev;
    pthread_once(&la_once, la_init);
    dim_t mn = m < n ? m : n;
    if (tol < 0) {
        /* Every row of R has an entry (a zero at least) above a negative tolerance. */
        *out = (unsigned)m;
        return AF_SUCCESS;
    }
    void *tau = malloc((size_t)mn * esize(type) + 1);
    if (!tau) return em_err(AF_ERR_NO_MEM, __func__, "out of host memory for QR's scales");
    lapack_int r = x_geqrf(type, m, n, a, tau);
    free(tau);
    if (r < 0) return la_status(__func__, r, "geqrf");
    unsigned cnt = 0;
    for (dim_t i = 0; i < mn; i++) {
        bool any = false;
        for (dim_t j = i; j < n && !any; j++)
            any = get_abs(type, a, (size_t)(i + j * m)) > tol;
        cnt += any;
    }
    *out = cnt;
    return AF_SUCCESS;
}

/* The Frobenius norm through BLAS's nrm2 (scaled, so no overflow), in pieces of 2^30. */
static double frobenius(af_dtype t, const void *a, size_t cnt) {
    const size_t chunk = (size_t)1 << 30;
    double scale = 0, ssq = 1; /* sqrt(sum) = scale * sqrt(ssq), as LAPACK's lassq */
    size_t es = esize(t);
    for (size_t o = 0; o < cnt; o += chunk) {
        blasint len = (blasint)(cnt - o < chunk ? cnt - o : chunk);
        const void *p = (const char *)a + o * es;
        double v;
        switch (t) {
        case f32:
            v = cblas_snrm2(len, p, 1);
            break;
        case f64:
            v = cblas_dnrm2(len, p, 1);
            break;
        case c32:
            v = cblas_scnrm2(len, p, 1);
            break;
        case c64:
            v = cblas_dznrm2(len, p, 1);
            break;
        default: { /* f16: no BLAS; float values squared in double cannot overflow */
            double s = 0;
            const uint16_t *h = p;
#pragma omp parallel for reduction(+ : s) schedule(static) if (len > 65536)
            for (blasint i = 0; i < len; i++) {
                double x = em_half_to_float(h[i]);
                s += x * x;
            }
            v = sqrt(s);
            break;
        }
        }
        if (isnan(v)) return v;
        if (v > scale) {
            ssq = 1 + ssq * (scale / v) * (scale / v);
            scale = v;
        } else if (v > 0) {
            ssq += (v / scale) * (v / scale);
        }
    }
    return scale * sqrt(ssq);
}

static af_err cpu_norm(int dev, af_dtype type, int kind, dim_t m, dim_t n, const void *a, double p,
                       double q, double *out) {
    (void)dev;
    size_t cnt = (size_t)(m * n);
    double r = 0;
    switch (kind) {
    case AF_NORM_EUCLID:
        r = frobenius(type, a, cnt);
        break;
    case AF_NORM_VECTOR_1:
    case AF_NORM_VECTOR_INF:
    case AF_NORM_VECTOR_P: {
        double pp = kind == AF_NORM_VECTOR_1 ? 1 : p;
        if (kind == AF_NORM_VECTOR_INF || isinf(pp)) {
            /* max |a|; NaN wins, as in every other norm. */
            double mx = 0;
            bool nan = false;
#pragma omp parallel for reduction(max : mx) reduction(| : nan) if (cnt > 65536)
            for (size_t i = 0; i < cnt; i++) {
                double v = get_abs(type, a, i);
                nan |= isnan(v);
                mx = v > mx ? v : mx;
            }
            r = nan ? NAN : mx;
        } else {
            double s = 0;
#pragma omp parallel for reduction(+ : s) if (cnt > 65536)
            for (size_t i = 0; i < cnt; i++) {
                double v = get_abs(type, a, i);
                s += pp == 1 ? v : pp == 2 ? v * v : pow(v, pp);
            }
            r = pp == 1 ? s : pp == 2 ? sqrt(s) : pow(s, 1 / pp);
        }
        break;
    }
    case AF_NORM_MATRIX_1:
    case AF_NORM_MATRIX_L_PQ: {
        /* Column sums of |a|^p: the 1-norm is their largest (p = 1); Lpq combines them. */
        double pp = kind == AF_NORM_MATRIX_1 ? 1 : p;
        double mx = 0, s = 0;
        bool nan = false;
        for (dim_t j = 0; j < n; j++) {
            double c = 0;
            for (dim_t i = 0; i < m; i++) {
                double v = get_abs(type, a, (size_t)(i + j * m));
                c += pp == 1 ? v : pow(v, pp);
            }
            if (kind == AF_NORM_MATRIX_1) {
                nan |= isnan(c);
                mx = c > mx ? c : mx;
            } else {
                double cn = pp == 1 ? c : pow(c, 1 / pp);
                s += q == 1 ? cn : pow(cn, q);
            }
        }
        r = kind == AF_NORM_MATRIX_1 ? (nan ? NAN : mx) : (q == 1 ? s : pow(s, 1 / q));
        break;
    }
    case AF_NORM_MATRIX_INF: {
        double *rows = calloc((size_t)m, sizeof(double));
        if (!rows) return em_err(AF_ERR_NO_MEM, __func__, "out of host memory for row sums");
        for (dim_t j = 0; j < n; j++)
            for (dim_t i = 0; i < m; i++)
                rows[i] += get_abs(type, a, (size_t)(i + j * m));
        double mx = 0;
        bool nan = false;
        for (dim_t i = 0; i < m; i++) {
            nan |= isnan(rows[i]);
            mx = rows[i] > mx ? rows[i] : mx;
        }
        free(rows);
        r = nan ? NAN : mx;
        break;
    }
    case AF_NORM_MATRIX_2: {
        /* The largest singular value, from the values alone. f16 goes through f32. */
        af_dtype wt = type == f16 ? f32 : type;
        size_t es = esize(wt);
        dim_t mn = m < n ? m : n;
        void *w = malloc(cnt * es), *s = malloc((size_t)mn * sizeof(double));
        if (!w || !s) {
            free(w);
            free(s);
            return em_err(AF_ERR_NO_MEM, __func__, "out of host memory for the SVD");
        }
        if (type == f16)
            for (size_t i = 0; i < cnt; i++)
                ((float *)w)[i] = em_half_to_float(((const uint16_t *)a)[i]);
        else
            memcpy(w, a, cnt * es);
        af_err err = cpu_svd(dev, wt, m, n, w, s, NULL, NULL);
        if (err == AF_SUCCESS) r = (wt == f32 || wt == c32) ? ((float *)s)[0] : ((double *)s)[0];
        free(w);
        free(s);
        if (err != AF_SUCCESS) return err;
        break;
    }
    default:
        return em_err(AF_ERR_NOT_SUPPORTED, __func__, "norm type %d is not supported", kind);
    }
    *out = r;
    return AF_SUCCESS;
}

/* The pseudo-inverse of one m x n matrix into out (n x m). w holds m x n + m x m + n x n
 * elements and min(m, n) reals of scratch. */
static lapack_int pinv_one(af_dtype t, dim_t m, dim_t n, const void *a, double tol, void *out,
                           void *w) {
    size_t es = esize(t);
    dim_t r = m < n ? m : n;
    char *aw = w, *u = aw + (size_t)(m * n) * es, *vt = u + (size_t)(m * m) * es;
    char *s = vt + (size_t)(n * n) * es;
    bool dbl = t == f64 || t == c64, cplx = t == c32 || t == c64;
    memcpy(aw, a, (size_t)(m * n) * es);
    lapack_int info = x_gesdd(t, m, n, aw, s, u, vt);
    if (info < 0) return info;
    double smax = dbl ? ((double *)s)[0] : ((float *)s)[0];
    double thr = tol * (double)(m > n ? m : n) * smax;
    /* Row i of vt times 1 / s_i where s_i reaches the threshold (a zero value never does). */
    for (dim_t i = 0; i < r; i++) {
        double si = dbl ? ((double *)s)[i] : ((float *)s)[i];
        double inv = (info == 0 && si >= thr && si > 0) ? 1 / si : (info == 0 ? 0 : NAN);
        for (dim_t j = 0; j < n; j++) {
            size_t e = (size_t)(i + j * n) * (cplx ? 2 : 1);
            if (dbl) {
                ((double *)vt)[e] *= inv;
                if (cplx) ((double *)vt)[e + 1] *= inv;
            } else {
                ((float *)vt)[e] = (float)(((float *)vt)[e] * inv);
                if (cplx) ((float *)vt)[e + 1] = (float)(((float *)vt)[e + 1] * inv);
            }
        }
    }
    /* out = (S+ Vt_r)^H U_r^H: n x m, with Vt_r the first r rows of vt, U_r the first r columns
     * of u. */
    blasint N = (blasint)n, M = (blasint)m, R = (blasint)r;
    switch (t) {
    case f32:
        cblas_sgemm(CblasColMajor, CblasTrans, CblasTrans, N, M, R, 1.0f, (float *)vt, N,
                    (float *)u, M, 0.0f, out, N);
        break;
    case f64:
        cblas_dgemm(CblasColMajor, CblasTrans, CblasTrans, N, M, R, 1.0, (double *)vt, N,
                    (double *)u, M, 0.0, out, N);
        break;
    case c32: {
        const float one[2] = {1, 0}, zero[2] = {0, 0};
        cblas_cgemm(CblasColMajor, CblasConjTrans, CblasConjTrans, N, M, R, one, vt, N, u, M, zero,
                    out, N);
        break;
    }
    default: {
        const double one[2] = {1, 0}, zero[2] = {0, 0};
        cblas_zgemm(CblasColMajor, CblasConjTrans, CblasConjTrans, N, M, R, one, vt, N, u, M, zero,
                    out, N);
        break;
    }
    }
    return 0;
}

static af_err cpu_pinverse(int dev, af_dtype type, dim_t m, dim_t n, dim_t batch, const void *a,
                           double tol, void *out) {
    (void)dev;
    pthread_once(&la_once, la_init);
    if (m == 0 || n == 0 || batch == 0) return AF_SUCCESS;
    size_t es = esize(type);
    size_t wbytes = (size_t)(m * n + m * m + n * n) * es + (size_t)(m < n ? m : n) * 8;
    lapack_int worst = 0;
    bool oom = false;
#pragma omp parallel if (batch > 1 && m * n <= EM_CPU_LA_SMALL)
    {
        void *w = malloc(wbytes);
        if (!w) {
#pragma omp atomic write
            oom = true;
        }
#pragma omp for schedule(static)
        for (dim_t i = 0; i < batch; i++) {
            if (!w) continue;
            lapack_int r = pinv_one(type, m, n, (const char *)a + (size_t)(i * m * n) * es, tol,
                                    (char *)out + (size_t)(i * n * m) * es, w);
            if (r < 0) {
#pragma omp atomic write
                worst = r;
            }
        }
        free(w);
    }
    if (oom) return em_err(AF_ERR_NO_MEM, __func__, "out of host memory for the SVD");
    return la_status(__func__, worst, "gesdd");
}

const struct em_lapack_ops em_cpu_lapack_ops = {
    .getrf = cpu_getrf,
    .pivot_perm = cpu_pivot_perm,
    .triangle = cpu_triangle,
    .potrf = cpu_potrf,
    .geqrf = cpu_geqrf,
    .orgqr = cpu_orgqr,
    .getrs = cpu_getrs,
    .gesolve = cpu_gesolve,
    .trsolve = cpu_trsolve,
    .inverse = cpu_inverse,
    .svd = cpu_svd,
    .det = cpu_det,
    .rank = cpu_rank,
    .norm = cpu_norm,
    .pinverse = cpu_pinverse,
};
