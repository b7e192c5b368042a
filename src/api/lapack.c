/* lapack.h: the factorisations (svd, lu, qr, cholesky and their _inplace forms), solve and
 * solve_lu, inverse, pinverse, rank, det, norm and af_is_lapack_available.
 *
 * Shapes, dtypes and errors follow ArrayFire (src/api/c/{svd,lu,qr,cholesky,solve,inverse,
 * pinverse,rank,det,norm}.cpp):
 *   - everything except solve and pinverse takes one matrix: an input with more than two dims
 *     is AF_ERR_BATCH (AF_ERR_ARG for svd, as ArrayFire checks it as an argument);
 *   - integer and b8 inputs are AF_ERR_ARG (ArrayFire asserts "floating" on the argument), f16 is
 *     AF_ERR_TYPE (a floating dtype LAPACK has no routine for; af_norm takes it, through float);
 *   - a square matrix is required by cholesky, inverse, det and triangular solves (AF_ERR_SIZE);
 *   - empty inputs give empty outputs of the input's dtype (det gives 1, norm and rank 0);
 *   - singular matrices are not errors: LU keeps the zero pivot, solve and inverse give
 *     non-finite values, det gives 0, cholesky reports the failing minor in info.
 * Outputs: lu's lower is m x min(m, n) with a unit diagonal, upper min(m, n) x n, pivot an s32
 * permutation of m rows (or LAPACK's min(m, n) 1-based interchanges from lu_inplace with
 * is_lapack_piv); qr's q is m x m, r m x n, tau min(m, n); svd's s is min(m, n) of the real
 * dtype, u m x m, vt n x n. */
#include <af/lapack.h>

#include "../backend/lapack.h"
#include "../core/array.h"
#include "../core/dev.h"
#include "../core/err.h"

#include <string.h>

/* ArrayFire's dim4::ndims: 0 for an empty array, else one past the last dim that is not 1. */
static unsigned la_ndims(const dim_t d[4]) {
    if (em_dims_elements(d) == 0) return 0;
    unsigned n = 1;
    for (unsigned i = 1; i < 4; i++)
        if (d[i] != 1) n = i + 1;
    return n;
}

static af_err la_batch(const char *fn, int pos, const em_array *a) {
    if (la_ndims(a->dims) > 2)
        return em_err(AF_ERR_BATCH, fn,
                      "argument %d: %lld x %lld x %lld x %lld is a batch of matrices, which this "
                      "function does not take",
                      pos, (long long)a->dims[0], (long long)a->dims[1], (long long)a->dims[2],
                      (long long)a->dims[3]);
    return AF_SUCCESS;
}

/* The "floating" assertion: integers and b8 are bad arguments. */
static af_err la_floating(const char *fn, int pos, const em_array *a) {
    if (!em_dtype_is_float(a->type))
        return em_err(AF_ERR_ARG, fn,
                      "argument %d: dtype %s is not supported, only f32, f64, c32 and c64", pos,
                      em_dtype_name(a->type));
    return AF_SUCCESS;
}

/* The dtypes LAPACK computes in. */
static af_err la_type(const char *fn, int pos, const em_array *a) {
    if (a->type != f32 && a->type != f64 && a->type != c32 && a->type != c64)
        return em_err(AF_ERR_TYPE, fn,
                      "argument %d: dtype %s is not supported, only f32, f64, c32 and c64", pos,
                      em_dtype_name(a->type));
    return AF_SUCCESS;
}

static af_err la_square(const char *fn, int pos, const em_array *a) {
    if (a->dims[0] != a->dims[1])
        return em_err(AF_ERR_SIZE, fn, "argument %d: a square matrix is required, not %lld x %lld",
                      pos, (long long)a->dims[0], (long long)a->dims[1]);
    return AF_SUCCESS;
}

static af_err la_device(const char *fn, int pos, const em_array *a) {
    int dev = em_dev_active();
    if (a->dev != dev)
        return em_err(AF_ERR_DEVICE, fn,
                      "argument %d lives on device %d, but the active device is %d", pos, a->dev,
                      dev);
    return AF_SUCCESS;
}

static af_err la_empty(af_dtype type, em_array **out) {
    const dim_t zero[4] = {0, 1, 1, 1};
    return em_array_alloc(type, zero, out);
}

static dim_t dmin(dim_t a, dim_t b) {
    return a < b ? a : b;
}

/* A fresh dense array of `dims` holding a's elements (a's dims must hold as many): workspace that
 * a slot may destroy. */
static af_err la_copy(const char *fn, em_array *a, const dim_t dims[4], em_array **out) {
    af_err err = AF_SUCCESS;
    em_buf *b = NULL;
    void *p = NULL;
    em_array *c = NULL;
    EM_TRY_FN(em_array_alloc(a->type, dims, &c));
    size_t bytes = (size_t)em_array_elements(c) * em_dtype_size(a->type);
    if (bytes) {
        EM_TRY_FN(em_array_dense_read(a, &b, &p));
        EM_TRY_FN(em_backend_self.copy_d2d(c->dev, c->buf->ptr, p, bytes));
        em_buf_release(b);
    }
    *out = c;
    return AF_SUCCESS;
fail:
    if (b) em_buf_release(b);
    if (c) em_array_free(c);
    return err;
}

#define LA (em_backend_self.lapack)

/* ---- svd ---- */

static af_err svd_impl(const char *fn, af_array *u, af_array *s, af_array *vt, const af_array in,
                       bool inplace) {
    af_err err = AF_SUCCESS;
    em_array *a, *w = NULL, *ua = NULL, *sa = NULL, *va = NULL;
    EM_ARG_NULL_FN(u, 0, "u");
    EM_ARG_NULL_FN(s, 1, "s");
    EM_ARG_NULL_FN(vt, 2, "vt");
    EM_GET_FN(a, in, 3);
    if (la_ndims(a->dims) > 2)
        EM_FAIL_FN(AF_ERR_ARG, "argument 3 (in): a matrix is required, not a batch of %lld x %lld",
                   (long long)a->dims[2], (long long)a->dims[3]);
    if (em_array_elements(a) == 0) {
        EM_TRY_FN(la_empty(a->type, &ua));
        EM_TRY_FN(la_empty(a->type, &sa));
        EM_TRY_FN(la_empty(a->type, &va));
    } else {
        dim_t m = a->dims[0], n = a->dims[1];
        if (inplace && m < n)
            EM_FAIL_FN(AF_ERR_SIZE,
                       "argument 3 (in): the in-place SVD needs rows >= columns, not %lld x %lld",
                       (long long)m, (long long)n);
        EM_TRY_FN(la_type(fn, 3, a));
        EM_TRY_FN(la_device(fn, 3, a));
        EM_NEED_SLOT(lapack, svd);
        const dim_t sd[4] = {dmin(m, n), 1, 1, 1}, ud[4] = {m, m, 1, 1}, vd[4] = {n, n, 1, 1};
        EM_TRY_FN(em_array_alloc(em_dtype_real_of(a->type), sd, &sa));
        EM_TRY_FN(em_array_alloc(a->type, ud, &ua));
        EM_TRY_FN(em_array_alloc(a->type, vd, &va));
        void *work;
        if (inplace) {
            EM_TRY_FN(em_array_make_unique(a));
            work = a->buf->ptr;
        } else {
            EM_TRY_FN(la_copy(fn, a, a->dims, &w));
            work = w->buf->ptr;
        }
        EM_TRY_FN(LA->svd(a->dev, a->type, m, n, work, sa->buf->ptr, ua->buf->ptr, va->buf->ptr));
        if (w) em_array_free(w);
        w = NULL;
    }
    *u = ua;
    *s = sa;
    *vt = va;
    return AF_SUCCESS;
fail:
    if (w) em_array_free(w);
    if (ua) em_array_free(ua);
    if (sa) em_array_free(sa);
    if (va) em_array_free(va);
    return err;
}

af_err af_svd(af_array *u, af_array *s, af_array *vt, const af_array in) {
    return svd_impl(__func__, u, s, vt, in, false);
}

af_err af_svd_inplace(af_array *u, af_array *s, af_array *vt, af_array in) {
    return svd_impl(__func__, u, s, vt, in, true);
}

/* ---- lu ---- */

/* Factors the dense m x n matrix at `a` in place; *ipiv receives a new buffer of min(m, n) s32
 * interchanges. */
static af_err lu_factor(const char *fn, const em_array *a, void *ptr, em_buf **ipiv) {
    af_err err = AF_SUCCESS;
    dim_t m = a->dims[0], n = a->dims[1];
    *ipiv = NULL;
    EM_NEED_SLOT(lapack, getrf);
    EM_TRY_FN(em_buf_alloc(a->dev, (size_t)dmin(m, n) * sizeof(int32_t), ipiv));
    EM_TRY_FN(LA->getrf(a->dev, a->type, m, n, ptr, (*ipiv)->ptr));
    return AF_SUCCESS;
fail:
    if (*ipiv) em_buf_release(*ipiv);
    *ipiv = NULL;
    return err;
}

/* The permutation of m rows that the interchanges in ipiv make, as a new s32 array. */
static af_err lu_perm(const char *fn, int dev, em_buf *ipiv, dim_t k, dim_t m, em_array **out) {
    af_err err = AF_SUCCESS;
    em_array *p = NULL;
    const dim_t pd[4] = {m, 1, 1, 1};
    EM_NEED_SLOT(lapack, pivot_perm);
    EM_TRY_FN(em_array_alloc(s32, pd, &p));
    EM_TRY_FN(LA->pivot_perm(dev, ipiv->ptr, k, m, p->buf->ptr));
    *out = p;
    return AF_SUCCESS;
fail:
    if (p) em_array_free(p);
    return err;
}

af_err af_lu(af_array *lower, af_array *upper, af_array *pivot, const af_array in) {
    const char *fn = __func__;
    af_err err = AF_SUCCESS;
    em_array *a, *l = NULL, *u = NULL, *p = NULL;
    em_buf *ipiv = NULL;
    EM_GET(a, in, 3);
    EM_TRY(la_batch(fn, 3, a));
    EM_ARG_NULL(lower, 0);
    EM_ARG_NULL(upper, 1);
    EM_ARG_NULL(pivot, 2);
    EM_TRY(la_floating(fn, 3, a));
    if (em_array_elements(a) == 0) {
        /* ArrayFire's empty pivot has the input's dtype. */
        EM_TRY(la_empty(a->type, &l));
        EM_TRY(la_empty(a->type, &u));
        EM_TRY(la_empty(a->type, &p));
    } else {
        EM_TRY(la_type(fn, 3, a));
        EM_TRY(la_device(fn, 3, a));
        EM_NEED_SLOT(lapack, triangle);
        dim_t m = a->dims[0], n = a->dims[1], k = dmin(m, n);
        const dim_t ld[4] = {m, k, 1, 1}, ud[4] = {k, n, 1, 1};
        /* The factor with the input's shape (U when m <= n, else L) is factored in place: the
         * other factor is copied out of it, then its own other part is zeroed where it lies,
         * which moves less memory than copying both factors out of a separate workspace. */
        if (m <= n) {
            EM_TRY(la_copy(fn, a, a->dims, &u));
            EM_TRY(lu_factor(fn, a, u->buf->ptr, &ipiv));
            EM_TRY(em_array_alloc(a->type, ld, &l));
            EM_TRY(LA->triangle(a->dev, a->type, l->buf->ptr, m, k, u->buf->ptr, m, false, true));
            EM_TRY(LA->triangle(a->dev, a->type, u->buf->ptr, k, n, u->buf->ptr, m, true, false));
        } else {
            EM_TRY(la_copy(fn, a, a->dims, &l));
            EM_TRY(lu_factor(fn, a, l->buf->ptr, &ipiv));
            EM_TRY(em_array_alloc(a->type, ud, &u));
            EM_TRY(LA->triangle(a->dev, a->type, u->buf->ptr, k, n, l->buf->ptr, m, true, false));
            EM_TRY(LA->triangle(a->dev, a->type, l->buf->ptr, m, k, l->buf->ptr, m, false, true));
        }
        EM_TRY(lu_perm(fn, a->dev, ipiv, k, m, &p));
        em_buf_release(ipiv);
        ipiv = NULL;
    }
    *lower = l;
    *upper = u;
    *pivot = p;
    return AF_SUCCESS;
fail:
    if (ipiv) em_buf_release(ipiv);
    if (l) em_array_free(l);
    if (u) em_array_free(u);
    if (p) em_array_free(p);
    return err;
}

af_err af_lu_inplace(af_array *pivot, af_array in, const bool is_lapack_piv) {
    const char *fn = __func__;
    af_err err = AF_SUCCESS;
    em_array *a, *p = NULL;
    em_buf *ipiv = NULL;
    EM_GET(a, in, 1);
    EM_TRY(la_batch(fn, 1, a));
    EM_TRY(la_floating(fn, 1, a));
    EM_ARG_NULL(pivot, 0);
    if (em_array_elements(a) == 0) {
        EM_TRY(la_empty(a->type, &p));
    } else {
        EM_TRY(la_type(fn, 1, a));
        EM_TRY(la_device(fn, 1, a));
        dim_t m = a->dims[0], n = a->dims[1], k = dmin(m, n);
        if (!is_lapack_piv) EM_NEED_SLOT(lapack, pivot_perm);
        EM_TRY(em_array_make_unique(a));
        EM_TRY(lu_factor(fn, a, a->buf->ptr, &ipiv));
        if (is_lapack_piv) {
            const dim_t pd[4] = {k, 1, 1, 1};
            EM_TRY(em_array_from_buf(ipiv, s32, pd, NULL, 0, a->dev, &p));
            ipiv = NULL; /* the array took it */
        } else {
            EM_TRY(lu_perm(fn, a->dev, ipiv, k, m, &p));
            em_buf_release(ipiv);
            ipiv = NULL;
        }
    }
    *pivot = p;
    return AF_SUCCESS;
fail:
    if (ipiv) em_buf_release(ipiv);
    if (p) em_array_free(p);
    return err;
}

/* ---- qr ---- */

af_err af_qr(af_array *q, af_array *r, af_array *tau, const af_array in) {
    const char *fn = __func__;
    af_err err = AF_SUCCESS;
    em_array *a, *qa = NULL, *ra = NULL, *ta = NULL;
    em_buf *qb = NULL;
    EM_GET(a, in, 3);
    EM_TRY(la_batch(fn, 3, a));
    EM_ARG_NULL(q, 0);
    EM_ARG_NULL(r, 1);
    EM_ARG_NULL(tau, 2);
    if (em_array_elements(a) == 0) {
        EM_TRY(la_empty(a->type, &qa));
        EM_TRY(la_empty(a->type, &ra));
        EM_TRY(la_empty(a->type, &ta));
    } else {
        EM_TRY(la_floating(fn, 3, a));
        EM_TRY(la_type(fn, 3, a));
        EM_TRY(la_device(fn, 3, a));
        EM_NEED_SLOT(lapack, geqrf);
        EM_NEED_SLOT(lapack, orgqr);
        EM_NEED_SLOT(lapack, triangle);
        dim_t m = a->dims[0], n = a->dims[1], k = dmin(m, n), wide = m > n ? m : n;
        size_t es = em_dtype_size(a->type);
        /* Q is built where the factorisation is done: m x max(m, n), so that the m x m Q fits
         * when m > n, with the input in its first n columns. */
        em_buf *ib = NULL;
        void *ip = NULL;
        EM_TRY(em_buf_alloc(a->dev, (size_t)(m * wide) * es, &qb));
        EM_TRY(em_array_dense_read(a, &ib, &ip));
        err = em_backend_self.copy_d2d(a->dev, qb->ptr, ip, (size_t)(m * n) * es);
        em_buf_release(ib);
        if (err != AF_SUCCESS) {
            em_err_attribute(fn);
            goto fail;
        }
        const dim_t td[4] = {k, 1, 1, 1}, rd[4] = {m, n, 1, 1}, qd[4] = {m, m, 1, 1};
        EM_TRY(em_array_alloc(a->type, td, &ta));
        EM_TRY(em_array_alloc(a->type, rd, &ra));
        EM_TRY(LA->geqrf(a->dev, a->type, m, n, qb->ptr, ta->buf->ptr));
        EM_TRY(LA->triangle(a->dev, a->type, ra->buf->ptr, m, n, qb->ptr, m, true, false));
        EM_TRY(LA->orgqr(a->dev, a->type, m, m, k, qb->ptr, ta->buf->ptr));
        EM_TRY(em_array_from_buf(qb, a->type, qd, NULL, 0, a->dev, &qa));
        qb = NULL;
    }
    *q = qa;
    *r = ra;
    *tau = ta;
    return AF_SUCCESS;
fail:
    if (qb) em_buf_release(qb);
    if (qa) em_array_free(qa);
    if (ra) em_array_free(ra);
    if (ta) em_array_free(ta);
    return err;
}

af_err af_qr_inplace(af_array *tau, af_array in) {
    const char *fn = __func__;
    af_err err = AF_SUCCESS;
    em_array *a, *ta = NULL;
    EM_GET(a, in, 1);
    EM_TRY(la_batch(fn, 1, a));
    EM_TRY(la_floating(fn, 1, a));
    EM_ARG_NULL(tau, 0);
    if (em_array_elements(a) == 0) {
        EM_TRY(la_empty(a->type, &ta));
    } else {
        EM_TRY(la_type(fn, 1, a));
        EM_TRY(la_device(fn, 1, a));
        EM_NEED_SLOT(lapack, geqrf);
        dim_t m = a->dims[0], n = a->dims[1];
        const dim_t td[4] = {dmin(m, n), 1, 1, 1};
        EM_TRY(em_array_alloc(a->type, td, &ta));
        EM_TRY(em_array_make_unique(a));
        EM_TRY(LA->geqrf(a->dev, a->type, m, n, a->buf->ptr, ta->buf->ptr));
    }
    *tau = ta;
    return AF_SUCCESS;
fail:
    if (ta) em_array_free(ta);
    return err;
}

/* ---- cholesky ---- */

af_err af_cholesky(af_array *out, int *info, const af_array in, const bool is_upper) {
    const char *fn = __func__;
    af_err err = AF_SUCCESS;
    em_array *a, *c = NULL;
    int inf = 0;
    EM_ARG_NULL(out, 0);
    EM_ARG_NULL(info, 1);
    EM_GET(a, in, 2);
    EM_TRY(la_batch(fn, 2, a));
    if (em_array_elements(a) == 0) {
        EM_TRY(la_empty(a->type, &c));
        *out = c;
        return AF_SUCCESS;
    }
    EM_TRY(la_square(fn, 2, a));
    EM_TRY(la_floating(fn, 2, a));
    EM_TRY(la_type(fn, 2, a));
    EM_TRY(la_device(fn, 2, a));
    EM_NEED_SLOT(lapack, potrf);
    EM_NEED_SLOT(lapack, triangle);
    dim_t n = a->dims[0];
    EM_TRY(la_copy(fn, a, a->dims, &c));
    EM_TRY(LA->potrf(a->dev, a->type, n, c->buf->ptr, is_upper, &inf));
    /* The factor alone: the other triangle still holds the input. */
    EM_TRY(LA->triangle(a->dev, a->type, c->buf->ptr, n, n, c->buf->ptr, n, is_upper, false));
    *out = c;
    *info = inf;
    return AF_SUCCESS;
fail:
    if (c) em_array_free(c);
    return err;
}

af_err af_cholesky_inplace(int *info, af_array in, const bool is_upper) {
    const char *fn = __func__;
    af_err err = AF_SUCCESS;
    em_array *a;
    int inf = 0;
    EM_ARG_NULL(info, 0);
    EM_GET(a, in, 1);
    EM_TRY(la_batch(fn, 1, a));
    if (em_array_elements(a) == 0) return AF_SUCCESS;
    EM_TRY(la_floating(fn, 1, a));
    EM_TRY(la_square(fn, 1, a));
    EM_TRY(la_type(fn, 1, a));
    EM_TRY(la_device(fn, 1, a));
    EM_NEED_SLOT(lapack, potrf);
    EM_TRY(em_array_make_unique(a));
    EM_TRY(LA->potrf(a->dev, a->type, a->dims[0], a->buf->ptr, is_upper, &inf));
    *info = inf;
    return AF_SUCCESS;
fail:
    return err;
}

/* ---- solve ---- */

af_err af_solve(af_array *x, const af_array a, const af_array b, const af_mat_prop options) {
    const char *fn = __func__;
    af_err err = AF_SUCCESS;
    em_array *A, *B, *X = NULL, *w = NULL;
    em_buf *ab = NULL, *bb = NULL;
    void *ap = NULL, *bp = NULL;
    EM_ARG_NULL(x, 0);
    EM_GET(A, a, 1);
    EM_GET(B, b, 2);
    EM_TRY(la_floating(fn, 1, A));
    EM_TRY(la_floating(fn, 2, B));
    if (A->type != B->type)
        EM_FAIL(AF_ERR_DIFF_TYPE, "arguments 1 and 2 (a, b): dtypes %s and %s differ",
                em_dtype_name(A->type), em_dtype_name(B->type));
    if (B->dims[0] != A->dims[0])
        EM_FAIL(AF_ERR_SIZE, "arguments 1 and 2 (a, b): a has %lld rows but b has %lld",
                (long long)A->dims[0], (long long)B->dims[0]);
    for (int d = 2; d < 4; d++)
        if (B->dims[d] != A->dims[d])
            EM_FAIL(AF_ERR_SIZE,
                    "arguments 1 and 2 (a, b): batch dim %d differs (%lld and %lld); solve does "
                    "not broadcast",
                    d, (long long)A->dims[d], (long long)B->dims[d]);
    if (em_array_elements(A) == 0 || em_array_elements(B) == 0) {
        EM_TRY(la_empty(A->type, &X));
        *x = X;
        return AF_SUCCESS;
    }
    bool tri = (options & AF_MAT_LOWER) || (options & AF_MAT_UPPER);
    if (options != AF_MAT_NONE && !tri)
        EM_FAIL(AF_ERR_NOT_SUPPORTED,
                "argument 3 (options): %d is not supported; solve takes AF_MAT_NONE or "
                "AF_MAT_LOWER / AF_MAT_UPPER (with AF_MAT_DIAG_UNIT)",
                (int)options);
    if (tri) {
        EM_TRY(la_square(fn, 1, A));
        if ((options & AF_MAT_TRANS) || (options & AF_MAT_CTRANS))
            EM_FAIL(AF_ERR_NOT_SUPPORTED,
                    "argument 3 (options): a transposed triangular solve is not supported");
    }
    EM_TRY(la_type(fn, 1, A));
    EM_TRY(la_device(fn, 1, A));
    EM_TRY(la_device(fn, 2, B));
    dim_t m = A->dims[0], n = A->dims[1], k = B->dims[1], batch = A->dims[2] * A->dims[3];
    if (tri) {
        EM_NEED_SLOT(lapack, trsolve);
        /* b is copied into x, which the solve overwrites. */
        EM_TRY(la_copy(fn, B, B->dims, &X));
        EM_TRY(em_array_dense_read(A, &ab, &ap));
        EM_TRY(LA->trsolve(A->dev, A->type, n, k, batch, ap, (options & AF_MAT_UPPER) != 0,
                           (options & AF_MAT_DIAG_UNIT) != 0, X->buf->ptr));
        em_buf_release(ab);
        ab = NULL;
    } else {
        EM_NEED_SLOT(lapack, gesolve);
        const dim_t xd[4] = {n, k, A->dims[2], A->dims[3]};
        EM_TRY(la_copy(fn, A, A->dims, &w));
        EM_TRY(em_array_dense_read(B, &bb, &bp));
        EM_TRY(em_array_alloc(A->type, xd, &X));
        EM_TRY(LA->gesolve(A->dev, A->type, m, n, k, batch, w->buf->ptr, bp, X->buf->ptr));
        em_buf_release(bb);
        bb = NULL;
        em_array_free(w);
        w = NULL;
    }
    *x = X;
    return AF_SUCCESS;
fail:
    if (ab) em_buf_release(ab);
    if (bb) em_buf_release(bb);
    if (w) em_array_free(w);
    if (X) em_array_free(X);
    return err;
}

af_err af_solve_lu(af_array *x, const af_array a, const af_array piv, const af_array b,
                   const af_mat_prop options) {
    const char *fn = __func__;
    af_err err = AF_SUCCESS;
    em_array *A, *P, *B, *X = NULL;
    em_buf *ab = NULL, *pb = NULL;
    void *ap = NULL, *pp = NULL;
    EM_ARG_NULL(x, 0);
    EM_GET(A, a, 1);
    EM_GET(P, piv, 2);
    EM_GET(B, b, 3);
    if (la_ndims(A->dims) > 2 || la_ndims(B->dims) > 2)
        EM_FAIL(AF_ERR_BATCH, "arguments 1 and 3 (a, b): solve_lu takes matrices, not batches");
    if (em_array_elements(A) == 0 || em_array_elements(B) == 0) {
        EM_TRY(la_empty(A->type, &X));
        *x = X;
        return AF_SUCCESS;
    }
    EM_TRY(la_floating(fn, 1, A));
    EM_TRY(la_floating(fn, 3, B));
    if (A->type != B->type)
        EM_FAIL(AF_ERR_DIFF_TYPE, "arguments 1 and 3 (a, b): dtypes %s and %s differ",
                em_dtype_name(A->type), em_dtype_name(B->type));
    if (P->type != s32)
        EM_FAIL(AF_ERR_DIFF_TYPE, "argument 2 (piv): dtype %s, pivots are s32",
                em_dtype_name(P->type));
    EM_TRY(la_square(fn, 1, A));
    if (B->dims[0] != A->dims[0])
        EM_FAIL(AF_ERR_SIZE, "arguments 1 and 3 (a, b): a has %lld rows but b has %lld",
                (long long)A->dims[0], (long long)B->dims[0]);
    if (em_array_elements(P) != A->dims[0])
        EM_FAIL(AF_ERR_SIZE,
                "argument 2 (piv): %lld pivots for %lld rows (af_lu_inplace with is_lapack_piv "
                "makes them)",
                (long long)em_array_elements(P), (long long)A->dims[0]);
    if (options != AF_MAT_NONE)
        EM_FAIL(AF_ERR_NOT_SUPPORTED, "argument 4 (options): %d is not supported, only AF_MAT_NONE",
                (int)options);
    EM_TRY(la_type(fn, 1, A));
    EM_TRY(la_device(fn, 1, A));
    EM_TRY(la_device(fn, 2, P));
    EM_TRY(la_device(fn, 3, B));
    EM_NEED_SLOT(lapack, getrs);
    EM_TRY(la_copy(fn, B, B->dims, &X));
    EM_TRY(em_array_dense_read(A, &ab, &ap));
    EM_TRY(em_array_dense_read(P, &pb, &pp));
    EM_TRY(LA->getrs(A->dev, A->type, A->dims[0], B->dims[1], ap, pp, X->buf->ptr));
    em_buf_release(ab);
    em_buf_release(pb);
    *x = X;
    return AF_SUCCESS;
fail:
    if (ab) em_buf_release(ab);
    if (pb) em_buf_release(pb);
    if (X) em_array_free(X);
    return err;
}

/* ---- inverse, pinverse ---- */

af_err af_inverse(af_array *out, const af_array in, const af_mat_prop options) {
    const char *fn = __func__;
    af_err err = AF_SUCCESS;
    em_array *a, *w = NULL, *o = NULL;
    EM_ARG_NULL(out, 0);
    EM_GET(a, in, 1);
    EM_TRY(la_batch(fn, 1, a));
    if (options != AF_MAT_NONE)
        EM_FAIL(AF_ERR_NOT_SUPPORTED, "argument 2 (options): %d is not supported, only AF_MAT_NONE",
                (int)options);
    EM_TRY(la_square(fn, 1, a));
    EM_TRY(la_floating(fn, 1, a));
    if (em_array_elements(a) == 0) {
        EM_TRY(em_array_share(a, &o));
        *out = o;
        return AF_SUCCESS;
    }
    EM_TRY(la_type(fn, 1, a));
    EM_TRY(la_device(fn, 1, a));
    EM_NEED_SLOT(lapack, inverse);
    EM_TRY(la_copy(fn, a, a->dims, &w));
    EM_TRY(em_array_alloc(a->type, a->dims, &o));
    EM_TRY(LA->inverse(a->dev, a->type, a->dims[0], w->buf->ptr, o->buf->ptr));
    em_array_free(w);
    *out = o;
    return AF_SUCCESS;
fail:
    if (w) em_array_free(w);
    if (o) em_array_free(o);
    return err;
}

af_err af_pinverse(af_array *out, const af_array in, const double tol, const af_mat_prop options) {
    const char *fn = __func__;
    af_err err = AF_SUCCESS;
    em_array *a, *o = NULL;
    em_buf *ab = NULL;
    void *ap = NULL;
    EM_ARG_NULL(out, 0);
    EM_GET(a, in, 1);
    if (options != AF_MAT_NONE)
        EM_FAIL(AF_ERR_NOT_SUPPORTED, "argument 3 (options): %d is not supported, only AF_MAT_NONE",
                (int)options);
    EM_TRY(la_floating(fn, 1, a));
    if (!(tol >= 0)) EM_FAIL(AF_ERR_ARG, "argument 2 (tol): %g, must not be negative", tol);
    if (em_array_elements(a) == 0) {
        EM_TRY(em_array_share(a, &o));
        *out = o;
        return AF_SUCCESS;
    }
    EM_TRY(la_type(fn, 1, a));
    EM_TRY(la_device(fn, 1, a));
    EM_NEED_SLOT(lapack, pinverse);
    dim_t m = a->dims[0], n = a->dims[1];
    const dim_t od[4] = {n, m, a->dims[2], a->dims[3]};
    EM_TRY(em_array_alloc(a->type, od, &o));
    EM_TRY(em_array_dense_read(a, &ab, &ap));
    EM_TRY(LA->pinverse(a->dev, a->type, m, n, a->dims[2] * a->dims[3], ap, tol, o->buf->ptr));
    em_buf_release(ab);
    *out = o;
    return AF_SUCCESS;
fail:
    if (ab) em_buf_release(ab);
    if (o) em_array_free(o);
    return err;
}

/* ---- rank, det, norm ---- */

af_err af_rank(unsigned *rank, const af_array in, const double tol) {
    const char *fn = __func__;
    af_err err = AF_SUCCESS;
    em_array *a, *w = NULL;
    unsigned r = 0;
    EM_GET(a, in, 1);
    EM_TRY(la_batch(fn, 1, a));
    EM_TRY(la_floating(fn, 1, a));
    EM_ARG_NULL(rank, 0);
    if (em_array_elements(a) > 0) {
        EM_TRY(la_type(fn, 1, a));
        EM_TRY(la_device(fn, 1, a));
        EM_NEED_SLOT(lapack, rank);
        EM_TRY(la_copy(fn, a, a->dims, &w));
        EM_TRY(LA->rank(a->dev, a->type, a->dims[0], a->dims[1], w->buf->ptr, tol, &r));
        em_array_free(w);
    }
    *rank = r;
    return AF_SUCCESS;
fail:
    if (w) em_array_free(w);
    return err;
}

af_err af_det(double *det_real, double *det_imag, const af_array in) {
    const char *fn = __func__;
    af_err err = AF_SUCCESS;
    em_array *a, *w = NULL;
    double d[2] = {1, 0};
    EM_ARG_NULL(det_real, 0);
    EM_ARG_NULL(det_imag, 1);
    EM_GET(a, in, 2);
    EM_TRY(la_batch(fn, 2, a));
    if (a->dims[0] != 0) EM_TRY(la_square(fn, 2, a));
    EM_TRY(la_floating(fn, 2, a));
    EM_TRY(la_type(fn, 2, a));
    /* The determinant of the 0 x 0 matrix is 1 (an empty product). */
    if (a->dims[0] != 0) {
        EM_TRY(la_device(fn, 2, a));
        EM_NEED_SLOT(lapack, det);
        EM_TRY(la_copy(fn, a, a->dims, &w));
        EM_TRY(LA->det(a->dev, a->type, a->dims[0], w->buf->ptr, d));
        em_array_free(w);
    }
    *det_real = d[0];
    *det_imag = d[1];
    return AF_SUCCESS;
fail:
    if (w) em_array_free(w);
    return err;
}

af_err af_norm(double *out, const af_array in, const af_norm_type type, const double p,
               const double q) {
    const char *fn = __func__;
    af_err err = AF_SUCCESS;
    em_array *a;
    em_buf *ab = NULL;
    void *ap = NULL;
    double r = 0;
    EM_ARG_NULL(out, 0);
    EM_GET(a, in, 1);
    EM_TRY(la_batch(fn, 1, a));
    EM_TRY(la_floating(fn, 1, a));
    switch ((int)type) {
    case AF_NORM_VECTOR_1:
    case AF_NORM_VECTOR_INF:
    case AF_NORM_EUCLID:
    case AF_NORM_VECTOR_P:
    case AF_NORM_MATRIX_1:
    case AF_NORM_MATRIX_INF:
    case AF_NORM_MATRIX_2:
    case AF_NORM_MATRIX_L_PQ:
        break;
    default:
        EM_FAIL(AF_ERR_NOT_SUPPORTED, "argument 2 (type): norm type %d is not supported",
                (int)type);
    }
    if (em_array_elements(a) > 0) {
        EM_TRY(la_device(fn, 1, a));
        EM_NEED_SLOT(lapack, norm);
        EM_TRY(em_array_dense_read(a, &ab, &ap));
        EM_TRY(LA->norm(a->dev, a->type, (int)type, a->dims[0], a->dims[1], ap, p, q, &r));
        em_buf_release(ab);
    }
    *out = r;
    return AF_SUCCESS;
fail:
    if (ab) em_buf_release(ab);
    return err;
}

af_err af_is_lapack_available(bool *out) {
    af_err err = AF_SUCCESS;
    EM_ARG_NULL(out, 0);
    /* Both backends are built on their vendor's LAPACK. */
    *out = em_backend_self.lapack != NULL;
    return AF_SUCCESS;
fail:
    return err;
}
