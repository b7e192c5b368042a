/* blas.h: af_gemm, af_matmul, af_dot and af_dot_all (af_transpose lives with the shape
 * operations). The checks and shapes follow ArrayFire's src/api/c/blas.cpp:
 *
 *   - op flags: AF_MAT_NONE, AF_MAT_TRANS or AF_MAT_CTRANS for matmul and gemm (anything else is
 *     AF_ERR_NOT_SUPPORTED); AF_MAT_NONE or AF_MAT_CONJ for dot;
 *   - batching over dims 2 and 3: when both operands have more than two dims they must have the
 *     same number of dims (AF_ERR_SIZE) and each batch dim must be equal or 1 in one of them
 *     (AF_ERR_BATCH); a dim of 1, or a 2-D operand, is broadcast. The output is
 *     op(lhs).rows x op(rhs).cols x max(d2) x max(d3);
 *   - dtypes f32, f64, c32, c64 and f16, the same for both operands (AF_ERR_DIFF_TYPE), anything
 *     else AF_ERR_TYPE; the inner dims must agree (AF_ERR_SIZE).
 *
 * The operands reach the backend as they lie (em_array_dense_read: no copy for a dense array),
 * with the transforms as BLAS op flags and broadcast batches as stride 0, so the vendor call does
 * all the work. */
#include <af/blas.h>

#include "../backend/blas.h"
#include "../core/array.h"
#include "../core/dev.h"
#include "../core/err.h"

#include <string.h>

static bool blas_type_ok(af_dtype t) {
    return t == f32 || t == f64 || t == c32 || t == c64 || t == f16;
}

/* ArrayFire's dim4::ndims: 0 for an empty array, else one past the last dim that is not 1. */
static unsigned blas_ndims(const dim_t d[4]) {
    if (em_dims_elements(d) == 0) return 0;
    unsigned n = 1;
    for (unsigned i = 1; i < 4; i++)
        if (d[i] != 1) n = i + 1;
    return n;
}

static af_err check_mat_op(const char *fn, int pos, const char *name, af_mat_prop p,
                           em_blas_op *out) {
    switch ((int)p) {
    case AF_MAT_NONE:
        *out = EM_BLAS_N;
        return AF_SUCCESS;
    case AF_MAT_TRANS:
        *out = EM_BLAS_T;
        return AF_SUCCESS;
    case AF_MAT_CTRANS:
        *out = EM_BLAS_C;
        return AF_SUCCESS;
    default:
        return em_err(AF_ERR_NOT_SUPPORTED, fn,
                      "argument %d (%s): property %d is not supported, only AF_MAT_NONE, "
                      "AF_MAT_TRANS and AF_MAT_CTRANS",
                      pos, name, (int)p);
    }
}

/* The checks of af_gemm and af_matmul, and the output shape. pos_* are the argument positions
 * in the caller's signature. */
typedef struct {
    em_blas_op op_a, op_b;
    dim_t m, n, k;
    dim_t out[4];
} gemm_shape;

static af_err gemm_check(const char *fn, const em_array *l, const em_array *r, af_mat_prop opl,
                         af_mat_prop opr, int pos_opl, int pos_l, gemm_shape *s) {
    af_err err = AF_SUCCESS;
    EM_TRY_FN(check_mat_op(fn, pos_opl, "optLhs", opl, &s->op_a));
    EM_TRY_FN(check_mat_op(fn, pos_opl + 1, "optRhs", opr, &s->op_b));
    unsigned nl = blas_ndims(l->dims), nr = blas_ndims(r->dims);
    if (nl > 2 && nr > 2) {
        if (nl != nr)
            EM_FAIL_FN(AF_ERR_SIZE,
                       "arguments %d and %d (lhs, rhs): batched operands must have the same "
                       "number of dims (%u and %u)",
                       pos_l, pos_l + 1, nl, nr);
        for (int d = 2; d < 4; d++)
            if (l->dims[d] != r->dims[d] && l->dims[d] != 1 && r->dims[d] != 1)
                EM_FAIL_FN(AF_ERR_BATCH,
                           "arguments %d and %d (lhs, rhs): batch size mismatch along dimension "
                           "%d (%lld and %lld)",
                           pos_l, pos_l + 1, d, (long long)l->dims[d], (long long)r->dims[d]);
    }
    if (l->type != r->type)
        EM_FAIL_FN(AF_ERR_DIFF_TYPE, "arguments %d and %d (lhs, rhs): dtypes %s and %s differ",
                   pos_l, pos_l + 1, em_dtype_name(l->type), em_dtype_name(r->type));
    int a_col = s->op_a == EM_BLAS_N ? 1 : 0, a_row = 1 - a_col;
    int b_row = s->op_b == EM_BLAS_N ? 0 : 1, b_col = 1 - b_row;
    if (l->dims[a_col] != r->dims[b_row])
        EM_FAIL_FN(AF_ERR_SIZE,
                   "arguments %d and %d (lhs, rhs): inner dims differ: op(lhs) is %lld x %lld, "
                   "op(rhs) is %lld x %lld",
                   pos_l, pos_l + 1, (long long)l->dims[a_row], (long long)l->dims[a_col],
                   (long long)r->dims[b_row], (long long)r->dims[b_col]);
    if (!blas_type_ok(l->type))
        EM_FAIL_FN(AF_ERR_TYPE,
                   "argument %d (lhs): dtype %s is not supported, only f32, f64, c32, c64 and "
                   "f16",
                   pos_l, em_dtype_name(l->type));
    s->m = l->dims[a_row];
    s->n = r->dims[b_col];
    s->k = l->dims[a_col];
    s->out[0] = s->m;
    s->out[1] = s->n;
    for (int d = 2; d < 4; d++)
        s->out[d] = l->dims[d] > r->dims[d] ? l->dims[d] : r->dims[d];
    return AF_SUCCESS;
fail:
    return err;
}

/* A scalar argument of dtype t (af_gemm's alpha and beta) as a (real, imaginary) pair. */
static void scalar_read(af_dtype t, const void *p, double out[2]) {
    out[1] = 0;
    switch (t) {
    case f32:
        out[0] = *(const float *)p;
        break;
    case f64:
        out[0] = *(const double *)p;
        break;
    case c32:
        out[0] = ((const float *)p)[0];
        out[1] = ((const float *)p)[1];
        break;
    case c64:
        out[0] = ((const double *)p)[0];
        out[1] = ((const double *)p)[1];
        break;
    default: /* f16 */
        out[0] = em_half_to_float(*(const uint16_t *)p);
        break;
    }
}

static dim_t max1(dim_t v) {
    return v > 1 ? v : 1;
}

/* Runs C = alpha op(l) op(r) + beta C into the dense, unshared array c of shape s->out; lp and
 * rp are the operands' elements as em_array_dense_read gave them. */
static af_err gemm_run(const char *fn, const em_array *l, const void *lp, const em_array *r,
                       const void *rp, const gemm_shape *s, const double alpha[2],
                       const double beta[2], em_array *c) {
    af_err err = AF_SUCCESS;
    if (em_dims_elements(s->out) == 0) return AF_SUCCESS;
    EM_NEED_SLOT(blas, gemm);
    em_gemm_desc d = {
        .type = l->type,
        .op_a = s->op_a,
        .op_b = s->op_b,
        .m = s->m,
        .n = s->n,
        .k = s->k,
        .a = lp,
        .b = rp,
        .c = c->buf->ptr,
        .lda = max1(l->dims[0]),
        .ldb = max1(r->dims[0]),
        .ldc = max1(s->m),
        .batch = {s->out[2], s->out[3]},
    };
    memcpy(d.alpha, alpha, sizeof(d.alpha));
    memcpy(d.beta, beta, sizeof(d.beta));
    /* A batch dim of 1 in an operand is broadcast: its stride is 0. */
    dim_t lmat = l->dims[0] * l->dims[1], rmat = r->dims[0] * r->dims[1];
    d.stride_a[0] = l->dims[2] == s->out[2] ? lmat : 0;
    d.stride_a[1] = l->dims[3] == s->out[3] ? lmat * l->dims[2] : 0;
    d.stride_b[0] = r->dims[2] == s->out[2] ? rmat : 0;
    d.stride_b[1] = r->dims[3] == s->out[3] ? rmat * r->dims[2] : 0;
    d.stride_c[0] = s->m * s->n;
    d.stride_c[1] = s->m * s->n * s->out[2];
    EM_TRY_FN(em_backend_self.blas->gemm(c->dev, &d));
    return AF_SUCCESS;
fail:
    return err;
}

static af_err check_device(const char *fn, int pos, const em_array *a) {
    int dev = em_dev_active();
    if (a->dev != dev)
        return em_err(AF_ERR_DEVICE, fn,
                      "argument %d lives on device %d, but the active device is %d", pos, a->dev,
                      dev);
    return AF_SUCCESS;
}

af_err af_gemm(af_array *C, const af_mat_prop opA, const af_mat_prop opB, const void *alpha,
               const af_array A, const af_array B, const void *beta) {
    const char *fn = __func__;
    af_err err = AF_SUCCESS;
    em_array *l, *r, *c = NULL, *fresh = NULL;
    em_buf *lb = NULL, *rb = NULL;
    void *lp = NULL, *rp = NULL;
    gemm_shape s;
    double al[2], be[2] = {0, 0};
    EM_ARG_NULL(C, 0);
    EM_ARG_NULL(alpha, 3);
    EM_ARG_NULL(beta, 6);
    EM_GET(l, A, 4);
    EM_GET(r, B, 5);
    EM_TRY(gemm_check(fn, l, r, opA, opB, 1, 4, &s));
    EM_TRY(check_device(fn, 4, l));
    EM_TRY(check_device(fn, 5, r));
    scalar_read(l->type, alpha, al);
    if (*C) {
        /* Accumulate into the caller's array (ArrayFire's gemm with an existing output). Its
         * shape and dtype must be the product's: ArrayFire leaves a mismatch undefined. */
        EM_GET(c, *C, 0);
        if (c->type != l->type)
            EM_FAIL(AF_ERR_DIFF_TYPE, "argument 0 (C): dtype %s, but the product is %s",
                    em_dtype_name(c->type), em_dtype_name(l->type));
        for (int d = 0; d < 4; d++)
            if (c->dims[d] != s.out[d])
                EM_FAIL(AF_ERR_SIZE,
                        "argument 0 (C): dims %lld x %lld x %lld x %lld, but the product is "
                        "%lld x %lld x %lld x %lld",
                        (long long)c->dims[0], (long long)c->dims[1], (long long)c->dims[2],
                        (long long)c->dims[3], (long long)s.out[0], (long long)s.out[1],
                        (long long)s.out[2], (long long)s.out[3]);
        EM_TRY(check_device(fn, 0, c));
        scalar_read(l->type, beta, be);
    }
    if (em_dims_elements(s.out) > 0) {
        EM_TRY(em_array_dense_read(l, &lb, &lp));
        EM_TRY(em_array_dense_read(r, &rb, &rp));
    }
    if (c) {
        /* C may share its buffer with A or B (or other arrays): copy on write, so that the
         * product reads the old values and no other array changes. The references taken on
         * A's and B's buffers above make a buffer C shares with them count as shared. */
        EM_TRY(em_array_make_unique(c));
        EM_TRY(gemm_run(fn, l, lp, r, rp, &s, al, be, c));
    } else {
        /* A fresh output holds no values: beta does not apply. */
        EM_TRY(em_array_alloc(l->type, s.out, &fresh));
        EM_TRY(gemm_run(fn, l, lp, r, rp, &s, al, be, fresh));
        *C = fresh;
    }
    if (lb) em_buf_release(lb);
    if (rb) em_buf_release(rb);
    return AF_SUCCESS;
fail:
    if (lb) em_buf_release(lb);
    if (rb) em_buf_release(rb);
    if (fresh) em_array_free(fresh);
    return err;
}

af_err af_matmul(af_array *out, const af_array lhs, const af_array rhs, const af_mat_prop optLhs,
                 const af_mat_prop optRhs) {
    const char *fn = __func__;
    af_err err = AF_SUCCESS;
    em_array *l, *r, *res = NULL;
    em_buf *lb = NULL, *rb = NULL;
    void *lp = NULL, *rp = NULL;
    gemm_shape s;
    const double one[2] = {1, 0}, zero[2] = {0, 0};
    EM_ARG_NULL(out, 0);
    EM_GET(l, lhs, 1);
    EM_GET(r, rhs, 2);
    EM_TRY(gemm_check(fn, l, r, optLhs, optRhs, 3, 1, &s));
    EM_TRY(check_device(fn, 1, l));
    EM_TRY(check_device(fn, 2, r));
    if (em_dims_elements(s.out) > 0) {
        EM_TRY(em_array_dense_read(l, &lb, &lp));
        EM_TRY(em_array_dense_read(r, &rb, &rp));
    }
    EM_TRY(em_array_alloc(l->type, s.out, &res));
    EM_TRY(gemm_run(fn, l, lp, r, rp, &s, one, zero, res));
    if (lb) em_buf_release(lb);
    if (rb) em_buf_release(rb);
    *out = res;
    return AF_SUCCESS;
fail:
    if (lb) em_buf_release(lb);
    if (rb) em_buf_release(rb);
    if (res) em_array_free(res);
    return err;
}

static af_err check_dot_op(const char *fn, int pos, const char *name, af_mat_prop p, bool *conj) {
    if (p != AF_MAT_NONE && p != AF_MAT_CONJ)
        return em_err(AF_ERR_NOT_SUPPORTED, fn,
                      "argument %d (%s): property %d is not supported, only AF_MAT_NONE and "
                      "AF_MAT_CONJ",
                      pos, name, (int)p);
    *conj = p == AF_MAT_CONJ;
    return AF_SUCCESS;
}

/* af_dot's checks and computation. *out receives a new 1-element array, or a new handle of lhs
 * when lhs is empty (as ArrayFire returns it). */
static af_err dot_impl(const char *fn, int pos_l, const af_array lhs, const af_array rhs,
                       const af_mat_prop optLhs, const af_mat_prop optRhs, em_array **out) {
    af_err err = AF_SUCCESS;
    em_array *l, *r, *res = NULL;
    em_buf *lb = NULL, *rb = NULL;
    void *lp, *rp;
    bool cl = false, cr = false;
    EM_GET_FN(l, lhs, pos_l);
    EM_GET_FN(r, rhs, pos_l + 1);
    EM_TRY_FN(check_dot_op(fn, pos_l + 2, "optLhs", optLhs, &cl));
    EM_TRY_FN(check_dot_op(fn, pos_l + 3, "optRhs", optRhs, &cr));
    if (l->dims[0] != r->dims[0])
        EM_FAIL_FN(AF_ERR_SIZE, "arguments %d and %d (lhs, rhs): lengths %lld and %lld differ",
                   pos_l, pos_l + 1, (long long)l->dims[0], (long long)r->dims[0]);
    if (em_array_elements(l) == 0) return em_array_share(l, out);
    if (blas_ndims(l->dims) > 1 || blas_ndims(r->dims) > 1)
        EM_FAIL_FN(AF_ERR_BATCH,
                   "arguments %d and %d (lhs, rhs): dot takes vectors (a dims[0] x 1 x 1 x 1 "
                   "array), not batches",
                   pos_l, pos_l + 1);
    if (em_array_elements(r) == 0)
        EM_FAIL_FN(AF_ERR_SIZE, "argument %d (rhs) is empty but lhs is not", pos_l + 1);
    if (l->type != r->type)
        EM_FAIL_FN(AF_ERR_DIFF_TYPE, "arguments %d and %d (lhs, rhs): dtypes %s and %s differ",
                   pos_l, pos_l + 1, em_dtype_name(l->type), em_dtype_name(r->type));
    if (!blas_type_ok(l->type))
        EM_FAIL_FN(AF_ERR_TYPE,
                   "argument %d (lhs): dtype %s is not supported, only f32, f64, c32, c64 and "
                   "f16",
                   pos_l, em_dtype_name(l->type));
    EM_TRY_FN(check_device(fn, pos_l, l));
    EM_TRY_FN(check_device(fn, pos_l + 1, r));
    EM_NEED_SLOT(blas, dot);
    const dim_t one[4] = {1, 1, 1, 1};
    EM_TRY_FN(em_array_alloc(l->type, one, &res));
    EM_TRY_FN(em_array_dense_read(l, &lb, &lp));
    EM_TRY_FN(em_array_dense_read(r, &rb, &rp));
    EM_TRY_FN(
        em_backend_self.blas->dot(res->dev, l->type, l->dims[0], lp, cl, rp, cr, res->buf->ptr));
    em_buf_release(lb);
    em_buf_release(rb);
    *out = res;
    return AF_SUCCESS;
fail:
    if (lb) em_buf_release(lb);
    if (rb) em_buf_release(rb);
    if (res) em_array_free(res);
    return err;
}

af_err af_dot(af_array *out, const af_array lhs, const af_array rhs, const af_mat_prop optLhs,
              const af_mat_prop optRhs) {
    const char *fn = __func__;
    af_err err = AF_SUCCESS;
    em_array *res = NULL;
    EM_ARG_NULL(out, 0);
    EM_TRY(dot_impl(fn, 1, lhs, rhs, optLhs, optRhs, &res));
    *out = res;
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_dot_all(double *real, double *imag, const af_array lhs, const af_array rhs,
                  const af_mat_prop optLhs, const af_mat_prop optRhs) {
    const char *fn = __func__;
    af_err err = AF_SUCCESS;
    em_array *res = NULL;
    unsigned char v[16] = {0};
    double re = 0, im = 0;
    EM_ARG_NULL(real, 0);
    EM_TRY(dot_impl(fn, 2, lhs, rhs, optLhs, optRhs, &res));
    /* An empty lhs comes back as itself: its dot is 0, as ArrayFire's reads it. The read waits
     * for the product, and only for it. */
    if (em_array_elements(res) > 0) {
        EM_TRY(em_array_read(res, v));
        switch (res->type) {
        case f32:
            re = *(float *)v;
            break;
        case f64:
            re = *(double *)v;
            break;
        case c32:
            re = ((float *)v)[0];
            im = ((float *)v)[1];
            break;
        case c64:
            re = ((double *)v)[0];
            im = ((double *)v)[1];
            break;
        default: /* f16 */
            re = em_half_to_float(*(uint16_t *)v);
            break;
        }
    }
    em_array_free(res);
    *real = re;
    if (imag) *imag = im;
    return AF_SUCCESS;
fail:
    if (res) em_array_free(res);
    return err;
}
