/* The CPU backend's blas table: OpenBLAS through CBLAS. Each matrix product is one vendor call on
 * the operands where they lie; batches run as a loop of calls, or, when one matrix is small, as
 * an OpenMP loop of single-threaded calls (OpenBLAS threads a large product itself). f16 has no
 * BLAS: its operands are widened to float, multiplied with sgemm, and rounded back once. */
#include "../blas.h"

#include "../../core/dtype.h"
#include "../../core/err.h"
#include "cpu.h"

#include <cblas.h>
#include <complex.h>
#include <stdlib.h>
#include <string.h>

/* Up to this many multiply-adds per matrix OpenBLAS runs a product on one thread (its
 * GEMM_MULTITHREAD_THRESHOLD), so batches of such products are spread over OpenMP threads. */
#define EM_CPU_GEMM_SMALL 262144.0

static enum CBLAS_TRANSPOSE cblas_op(em_blas_op op) {
    return op == EM_BLAS_N ? CblasNoTrans : op == EM_BLAS_T ? CblasTrans : CblasConjTrans;
}

/* One product C = alpha op(A) op(B) + beta C of the descriptor's dtype (f16 arrives as f32). */
static void gemm_one(af_dtype t, const em_gemm_desc *d, dim_t m, dim_t n, const void *a,
                     const void *b, void *c) {
    enum CBLAS_TRANSPOSE ta = cblas_op(d->op_a), tb = cblas_op(d->op_b);
    blasint M = (blasint)m, N = (blasint)n, K = (blasint)d->k;
    blasint lda = (blasint)d->lda, ldb = (blasint)d->ldb, ldc = (blasint)d->ldc;
    switch (t) {
    case f32:
    case f16:
        cblas_sgemm(CblasColMajor, ta, tb, M, N, K, (float)d->alpha[0], a, lda, b, ldb,
                    (float)d->beta[0], c, ldc);
        break;
    case f64:
        cblas_dgemm(CblasColMajor, ta, tb, M, N, K, d->alpha[0], a, lda, b, ldb, d->beta[0], c,
                    ldc);
        break;
    case c32: {
        float al[2] = {(float)d->alpha[0], (float)d->alpha[1]};
        float be[2] = {(float)d->beta[0], (float)d->beta[1]};
        cblas_cgemm(CblasColMajor, ta, tb, M, N, K, al, a, lda, b, ldb, be, c, ldc);
        break;
    }
    default: /* c64 */
        cblas_zgemm(CblasColMajor, ta, tb, M, N, K, d->alpha, a, lda, b, ldb, d->beta, c, ldc);
        break;
    }
}

/* Elements spanned by an operand: its last batch's offset plus one matrix. */
static size_t operand_span(const dim_t stride[2], const dim_t batch[2], dim_t ld, dim_t cols) {
    return (size_t)(stride[0] * (batch[0] - 1) + stride[1] * (batch[1] - 1) + ld * (cols - 1)) +
           (size_t)ld;
}

static void half_to_float(float *dst, const uint16_t *src, size_t n) {
#pragma omp parallel for schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++)
        dst[i] = em_half_to_float(src[i]);
}

static void float_to_half(uint16_t *dst, const float *src, size_t n) {
#pragma omp parallel for schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++)
        dst[i] = em_float_to_half(src[i]);
}

/* The products of every batch: a, b, c are host memory of dtype t (f16 widened to float). */
static void gemm_batches(af_dtype t, const em_gemm_desc *d, const void *a, const void *b, void *c) {
    size_t es = em_dtype_size(t == f16 ? f32 : t);
    dim_t nb = d->batch[0] * d->batch[1];
    /* One matrix of A for every batch, and B's batches packed side by side (op(B) = B): the
     * batch is then one product of op(A) with a k x (n * batches) matrix, which a single call
     * (and OpenBLAS's threading) handles better than a loop. */
    bool fold = nb > 1 && d->stride_a[0] == 0 && d->stride_a[1] == 0 && d->op_b == EM_BLAS_N &&
                d->ldb == d->k && d->ldc == d->m && d->stride_b[0] == d->k * d->n &&
                (d->batch[1] == 1 || d->stride_b[1] == d->stride_b[0] * d->batch[0]);
    if (nb == 1 || fold) {
        gemm_one(t, d, d->m, fold ? d->n * nb : d->n, a, b, c);
        return;
    }
    double work = (double)d->m * (double)d->n * (double)d->k;
#pragma omp parallel for schedule(static) if (work <= EM_CPU_GEMM_SMALL)
    for (dim_t i = 0; i < nb; i++) {
        dim_t z = i % d->batch[0], w = i / d->batch[0];
        const char *ap = (const char *)a + (size_t)(d->stride_a[0] * z + d->stride_a[1] * w) * es;
        const char *bp = (const char *)b + (size_t)(d->stride_b[0] * z + d->stride_b[1] * w) * es;
        char *cp = (char *)c + (size_t)(d->stride_c[0] * z + d->stride_c[1] * w) * es;
        gemm_one(t, d, d->m, d->n, ap, bp, cp);
    }
}

static af_err cpu_gemm(int dev, const em_gemm_desc *d) {
    (void)dev;
    if (d->m == 0 || d->n == 0 || d->batch[0] == 0 || d->batch[1] == 0) return AF_SUCCESS;
    if (d->type != f16) {
        gemm_batches(d->type, d, d->a, d->b, d->c);
        return AF_SUCCESS;
    }
    /* f16: widen, multiply in float, round back. */
    dim_t acols = d->op_a == EM_BLAS_N ? d->k : d->m, bcols = d->op_b == EM_BLAS_N ? d->n : d->k;
    size_t na = d->k ? operand_span(d->stride_a, d->batch, d->lda, acols) : 0;
    size_t nb = d->k ? operand_span(d->stride_b, d->batch, d->ldb, bcols) : 0;
    size_t nc = operand_span(d->stride_c, d->batch, d->ldc, d->n);
    float *fa = malloc(na * sizeof(float) + 1), *fb = malloc(nb * sizeof(float) + 1);
    float *fc = malloc(nc * sizeof(float));
    if (!fa || !fb || !fc) {
        free(fa);
        free(fb);
        free(fc);
        return em_err(AF_ERR_NO_MEM, __func__, "out of host memory widening f16 operands");
    }
    half_to_float(fa, d->a, na);
    half_to_float(fb, d->b, nb);
    if (d->beta[0] != 0) half_to_float(fc, d->c, nc);
    gemm_batches(f16, d, fa, fb, fc);
    float_to_half(d->c, fc, nc);
    free(fa);
    free(fb);
    free(fc);
    return AF_SUCCESS;
}

/* OpenBLAS counts in blasint (32 bits here): longer vectors are summed in pieces. */
#define EM_CPU_DOT_CHUNK ((dim_t)1 << 30)

static af_err cpu_dot(int dev, af_dtype type, dim_t n, const void *x, bool conj_x, const void *y,
                      bool conj_y, void *out) {
    (void)dev;
    switch (type) {
    case f32: {
        double s = 0; /* the pieces' sums, added in double */
        for (dim_t o = 0; o < n; o += EM_CPU_DOT_CHUNK) {
            blasint len = (blasint)(n - o < EM_CPU_DOT_CHUNK ? n - o : EM_CPU_DOT_CHUNK);
            s += cblas_sdot(len, (const float *)x + o, 1, (const float *)y + o, 1);
        }
        *(float *)out = (float)s;
        break;
    }
    case f64: {
        double s = 0;
        for (dim_t o = 0; o < n; o += EM_CPU_DOT_CHUNK) {
            blasint len = (blasint)(n - o < EM_CPU_DOT_CHUNK ? n - o : EM_CPU_DOT_CHUNK);
            s += cblas_ddot(len, (const double *)x + o, 1, (const double *)y + o, 1);
        }
        *(double *)out = s;
        break;
    }
    case c32:
    case c64: {
        /* conj(x) y is dotc(x, y); x conj(y) is dotc(y, x); conj(x) conj(y) is conj(dotu). */
        bool dbl = type == c64;
        const void *p = conj_y && !conj_x ? y : x, *q = conj_y && !conj_x ? x : y;
        bool dotc = conj_x != conj_y;
        double complex s = 0;
        size_t es = dbl ? 16 : 8;
        for (dim_t o = 0; o < n; o += EM_CPU_DOT_CHUNK) {
            blasint len = (blasint)(n - o < EM_CPU_DOT_CHUNK ? n - o : EM_CPU_DOT_CHUNK);
            const char *pp = (const char *)p + (size_t)o * es, *qq = (const char *)q + o * es;
            if (dbl) {
                double complex r;
                if (dotc)
                    cblas_zdotc_sub(len, pp, 1, qq, 1, &r);
                else
                    cblas_zdotu_sub(len, pp, 1, qq, 1, &r);
                s += r;
            } else {
                float complex r;
                if (dotc)
                    cblas_cdotc_sub(len, pp, 1, qq, 1, &r);
                else
                    cblas_cdotu_sub(len, pp, 1, qq, 1, &r);
                s += r;
            }
        }
        if (conj_x && conj_y) s = conj(s);
        if (dbl) {
            ((double *)out)[0] = creal(s);
            ((double *)out)[1] = cimag(s);
        } else {
            ((float *)out)[0] = (float)creal(s);
            ((float *)out)[1] = (float)cimag(s);
        }
        break;
    }
    case f16: {
        /* Products in float, as the values are; the sum in double, then rounded once. */
        const uint16_t *hx = x, *hy = y;
        double s = 0;
#pragma omp parallel for reduction(+ : s) schedule(static) if (n > 65536)
        for (dim_t i = 0; i < n; i++)
            s += (double)(em_half_to_float(hx[i]) * em_half_to_float(hy[i]));
        *(uint16_t *)out = em_float_to_half((float)s);
        break;
    }
    default:
        return em_err(AF_ERR_TYPE, __func__, "dtype %s has no dot product", em_dtype_name(type));
    }
    return AF_SUCCESS;
}

const struct em_blas_ops em_cpu_blas_ops = {
    .gemm = cpu_gemm,
    .dot = cpu_dot,
};
