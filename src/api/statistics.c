/* statistics.h: mean, var, stdev (each along a dim and over everything, weighted, and the _v2
 * forms with af_var_bias), meanvar, cov and corrcoef. median and topk live in sort.c.
 *
 * Every function is one pass of the backend's moments (algorithm.h, "Statistics"): Welford's
 * running (n, mean, M2), or West's weighted (W, mean, S), per thread, merged with Chan's formulas,
 * in double whatever the input dtype; nothing computes E[x^2] - E[x]^2. The input arrives through
 * the fused-input seam, cast to the compute dtype inside the program, so mean(x*x) reads x once
 * and allocates only its output.
 *
 * Dtypes and rules follow ArrayFire 3.10's src/api/c/mean.cpp, var.cpp, stdev.cpp,
 * covariance.cpp and corrcoef.cpp:
 *  - mean, var, meanvar: integers and b8 give f32, except s64 and u64, which give f64; f32, f64,
 *    c32 and c64 keep their dtype; f16 gives f16 (computed in float), but var_weighted of f16
 *    gives f32 and the _all forms return doubles. stdev refuses complex and f16; cov refuses b8,
 *    complex and f16; corrcoef refuses complex and f16.
 *  - the divisor of a variance: af_var_v2, af_meanvar: n for AF_VARIANCE_POPULATION, else n - 1
 *    (AF_VARIANCE_DEFAULT is the sample variance there); af_var_all_v2, af_stdev_v2,
 *    af_stdev_all_v2, af_cov_v2: n - 1 for AF_VARIANCE_SAMPLE, else n (DEFAULT is the population
 *    variance there). The deprecated bool forms map isbiased = true to AF_VARIANCE_SAMPLE, as
 *    ArrayFire 3.10 does. af_stdev and af_stdev_all are population.
 *  - weights are f32 or f64 (AF_ERR_ARG otherwise), real; along a dim they broadcast (each dim
 * equal to the input's or 1). Weighted variance divides by the weights' sum (minus one for a sample
 * variance in meanvar).
 *  - the variance of complex values is ArrayFire's: the mean of (x - mean)^2 with the complex
 *    square, not of |x - mean|^2.
 *  - cov(X, Y): X and Y of equal dims and dtype, at most 2-D; one value per column, the sum over
 *    rows of (x - mean(X)) * (y - mean(Y)) divided by rows (or rows - 1), the means over every
 *    element of X and of Y, as ArrayFire computes it.
 *  - corrcoef(X, Y): Pearson's r over every element, X and Y of equal dims and dtype.
 * Differences from ArrayFire:
 *  - dim = -1 means the first non-singleton dimension (ArrayFire's C API rejects it, its C++ API
 *    means this), as in the reductions;
 *  - weighted variance along a dim weights the squared deviations too (ArrayFire's dim form sums
 *    them unweighted, which its _all form does not do);
 *  - s8 is accepted wherever s16 is;
 *  - weights keep their dtype (ArrayFire rounds f64 weights of a float input to float);
 *  - an empty input gives an empty output of the function's dtype with the input's dims (along a
 *    dim) or NaN (the _all forms, corrcoef). */
#include <af/statistics.h>

#include "../backend/algorithm.h"
#include "../core/backend.h"
#include "jit_build.h"

#include <math.h>
#include <string.h>

/* Which dtypes a function takes. */
typedef enum {
    T_MEAN,  /* mean, var, meanvar: every dtype */
    T_STDEV, /* real, not f16 */
    T_COV,   /* real, not b8, not f16 */
    T_CORR,  /* real, not f16 */
} type_rule;

static bool type_ok(type_rule r, af_dtype t) {
    if (!em_dtype_valid(t)) return false;
    switch (r) {
    case T_MEAN:
        return true;
    case T_STDEV:
    case T_CORR:
        return !em_dtype_is_complex(t) && t != f16;
    case T_COV:
        return !em_dtype_is_complex(t) && t != f16 && t != b8;
    }
    return false;
}

/* The dtype statistics of dtype t compute in (and, but for f16, return): ArrayFire's. */
static af_dtype stat_type(af_dtype t) {
    switch (t) {
    case f64:
    case s64:
    case u64:
        return f64;
    case c32:
    case c64:
        return t;
    default:
        return f32;
    }
}

/* The dimension a user's dim names: 0..3, or -1 for the first dimension longer than 1. */
static af_err stat_dim(const char *fn, int pos, const em_array *in, dim_t dim, int *out) {
    af_err err = AF_SUCCESS;
    if (dim < -1 || dim > 3)
        EM_FAIL_FN(AF_ERR_ARG,
                   "argument %d (dim): %lld is not a dimension (0 to 3, or -1 for the first "
                   "non-singleton dimension)",
                   pos, (long long)dim);
    int d = (int)dim;
    if (d == -1) {
        d = 0;
        while (d < 3 && in->dims[d] == 1)
            d++;
        if (in->dims[d] == 1) d = 0;
    }
    *out = d;
    return AF_SUCCESS;
fail:
    return err;
}

static af_err check_type(const char *fn, int pos, const em_array *a, type_rule r) {
    if (!type_ok(r, a->type))
        return em_err(AF_ERR_TYPE, fn, "argument %d: dtype %s is not supported", pos,
                      em_dtype_name(a->type));
    return AF_SUCCESS;
}

/* Weights: f32 or f64, each dim equal to the input's or 1 (broadcast). */
static af_err check_weights(const char *fn, int pos, const em_array *w, const em_array *a) {
    af_err err = AF_SUCCESS;
    if (w->type != f32 && w->type != f64)
        EM_FAIL_FN(AF_ERR_ARG, "argument %d (weights): dtype %s, must be f32 or f64", pos,
                   em_dtype_name(w->type));
    for (int d = 0; d < 4; d++)
        if (w->dims[d] != a->dims[d] && w->dims[d] != 1)
            EM_FAIL_FN(AF_ERR_ARG,
                       "argument %d (weights): dims[%d] = %lld, must be 1 or the input's %lld", pos,
                       d, (long long)w->dims[d], (long long)a->dims[d]);
    return AF_SUCCESS;
fail:
    return err;
}

/* A program reading array a at dims `dims` (broadcast where a has 1), cast to `type`. The node
 * reference is kept in *node for release after the program. */
static af_err prog_of(const char *fn, const em_array *a, const dim_t dims[4], af_dtype type,
                      em_node **node, em_jit_prog *prog) {
    af_err err = AF_SUCCESS;
    em_node *n = NULL;
    EM_TRY_FN(em_jit_input(a, dims, type, &n));
    EM_TRY_FN(em_jit_prog_build(&n, 1, prog));
    *node = n;
    return AF_SUCCESS;
fail:
    if (n) em_node_release(n);
    return err;
}

/* Runs the moments slot over `a` (weights `w` or NULL) along dim (-1: everything), into new
 * arrays *mean and *var (either may be NULL: not wanted) of dtype ot. ddof: the divisor is
 * n - ddof (W - ddof). root: var receives the standard deviation. */
static af_err run_moments(const char *fn, const em_array *a, const em_array *w, int dim, int ddof,
                          bool root, af_dtype ot, em_array **mean, em_array **var) {
    af_err err = AF_SUCCESS;
    em_node *nx = NULL, *nw = NULL;
    em_jit_prog px, pw;
    bool bx = false, bw = false;
    em_array *m = NULL, *v = NULL;
    af_dtype ct = stat_type(a->type);
    dim_t od[4] = {1, 1, 1, 1};
    if (dim >= 0) {
        memcpy(od, a->dims, sizeof(od));
        if (em_array_elements(a) > 0) od[dim] = 1;
    }
    if (mean) EM_TRY_FN(em_array_alloc(ot, od, &m));
    if (var) EM_TRY_FN(em_array_alloc(ot, od, &v));
    if (em_array_elements(a) > 0) {
        EM_NEED_SLOT(algo, moments);
        EM_TRY_FN(prog_of(fn, a, a->dims, ct, &nx, &px));
        bx = true;
        if (w) {
            /* Weights keep their dtype (f32 or f64): the backend accumulates in double, and
             * rounding f64 weights to float would only lose digits. */
            EM_TRY_FN(prog_of(fn, w, a->dims, w->type, &nw, &pw));
            bw = true;
        }
        EM_TRY_FN(em_backend_self.algo->moments(a->dev, &px, bw ? &pw : NULL, dim, ddof, root, ot,
                                                m ? m->buf->ptr : NULL, v ? v->buf->ptr : NULL));
    } else if (dim < 0) {
        /* The moments of nothing: NaN. */
        EM_NEED_SLOT(algo, moments); /* keeps the error the same for every input */
        for (int k = 0; k < 2; k++) {
            em_array *r = k ? v : m;
            if (!r) continue;
            em_node *c = em_jit_const(ot, od, NAN, 0);
            em_array *tmp = NULL;
            EM_TRY_FN(em_jit_finish(fn, c, a->dev, &tmp));
            EM_TRY_FN(em_array_eval(tmp));
            em_array_free(r);
            if (k)
                v = tmp;
            else
                m = tmp;
        }
    }
    if (bx) em_jit_prog_free(&px);
    if (bw) em_jit_prog_free(&pw);
    if (nx) em_node_release(nx);
    if (nw) em_node_release(nw);
    if (mean) *mean = m;
    if (var) *var = v;
    return AF_SUCCESS;
fail:
    if (bx) em_jit_prog_free(&px);
    if (bw) em_jit_prog_free(&pw);
    if (nx) em_node_release(nx);
    if (nw) em_node_release(nw);
    if (m) em_array_free(m);
    if (v) em_array_free(v);
    return err;
}

/* The host value of a one-element f64 or c64 array. */
static af_err read_value(const char *fn, em_array *r, double *re, double *im) {
    af_err err = AF_SUCCESS;
    double v[2] = {0, 0};
    EM_TRY_FN(em_array_read(r, v));
    *re = v[0];
    *im = r->type == c64 ? v[1] : 0;
    return AF_SUCCESS;
fail:
    return err;
}

/* ---------------------------------------------------------------------------------------------
 * Along a dimension
 * ------------------------------------------------------------------------------------------- */

typedef enum { S_MEAN, S_VAR, S_STDEV } stat_kind;

/* mean / var / stdev of `in` along dim, weighted when wh is given. */
static af_err stat_dim_api(const char *fn, af_array *out, const af_array in, const af_array wh,
                           dim_t dim, int dim_pos, stat_kind k, int ddof) {
    af_err err = AF_SUCCESS;
    em_array *a, *w = NULL, *res = NULL;
    int d = 0;
    EM_ARG_NULL_FN(out, 0, "out");
    EM_GET_FN(a, in, 1);
    if (wh) EM_GET_FN(w, wh, 2);
    EM_TRY_FN(stat_dim(fn, dim_pos, a, dim, &d));
    EM_TRY_FN(check_type(fn, 1, a, k == S_STDEV ? T_STDEV : T_MEAN));
    if (w) EM_TRY_FN(check_weights(fn, 2, w, a));
    af_dtype ot = stat_type(a->type);
    /* f16 keeps f16, except the weighted variance (ArrayFire's var_<half, float>). */
    if (a->type == f16 && !(w && k == S_VAR)) ot = f16;
    if (k == S_MEAN)
        EM_TRY_FN(run_moments(fn, a, w, d, 0, false, ot, &res, NULL));
    else
        EM_TRY_FN(run_moments(fn, a, w, d, ddof, k == S_STDEV, ot, NULL, &res));
    *out = res;
    return AF_SUCCESS;
fail:
    return err;
}

/* The divisor offsets of each family of functions (see the file comment). */
static int ddof_meanvar(af_var_bias b) {
    return b == AF_VARIANCE_POPULATION ? 0 : 1;
}
static int ddof_sample(af_var_bias b) {
    return b == AF_VARIANCE_SAMPLE ? 1 : 0;
}
static af_err check_bias(const char *fn, int pos, af_var_bias b) {
    if (b != AF_VARIANCE_DEFAULT && b != AF_VARIANCE_SAMPLE && b != AF_VARIANCE_POPULATION)
        return em_err(AF_ERR_ARG, fn, "argument %d (bias): %d is not an af_var_bias", pos, (int)b);
    return AF_SUCCESS;
}

af_err af_mean(af_array *out, const af_array in, const dim_t dim) {
    return stat_dim_api(__func__, out, in, NULL, dim, 2, S_MEAN, 0);
}

af_err af_mean_weighted(af_array *out, const af_array in, const af_array weights, const dim_t dim) {
    const char *fn = __func__;
    af_err err = AF_SUCCESS;
    EM_ARG_NULL_FN(weights, 2, "weights");
    return stat_dim_api(fn, out, in, weights, dim, 3, S_MEAN, 0);
fail:
    return err;
}

af_err af_var(af_array *out, const af_array in, const bool isbiased, const dim_t dim) {
    return stat_dim_api(__func__, out, in, NULL, dim, 3, S_VAR,
                        ddof_meanvar(isbiased ? AF_VARIANCE_SAMPLE : AF_VARIANCE_POPULATION));
}

af_err af_var_v2(af_array *out, const af_array in, const af_var_bias bias, const dim_t dim) {
    const char *fn = __func__;
    af_err err = AF_SUCCESS;
    EM_TRY_FN(check_bias(fn, 2, bias));
    return stat_dim_api(fn, out, in, NULL, dim, 3, S_VAR, ddof_meanvar(bias));
fail:
    return err;
}

af_err af_var_weighted(af_array *out, const af_array in, const af_array weights, const dim_t dim) {
    const char *fn = __func__;
    af_err err = AF_SUCCESS;
    EM_ARG_NULL_FN(weights, 2, "weights");
    return stat_dim_api(fn, out, in, weights, dim, 3, S_VAR, 0);
fail:
    return err;
}

af_err af_stdev(af_array *out, const af_array in, const dim_t dim) {
    return stat_dim_api(__func__, out, in, NULL, dim, 2, S_STDEV, 0);
}

af_err af_stdev_v2(af_array *out, const af_array in, const af_var_bias bias, const dim_t dim) {
    const char *fn = __func__;
    af_err err = AF_SUCCESS;
    EM_TRY_FN(check_bias(fn, 2, bias));
    return stat_dim_api(fn, out, in, NULL, dim, 3, S_STDEV, ddof_sample(bias));
fail:
    return err;
}

af_err af_meanvar(af_array *mean, af_array *var, const af_array in, const af_array weights,
                  const af_var_bias bias, const dim_t dim) {
    const char *fn = __func__;
    af_err err = AF_SUCCESS;
    em_array *a, *w = NULL, *m = NULL, *v = NULL;
    int d = 0;
    EM_ARG_NULL_FN(mean, 0, "mean");
    EM_ARG_NULL_FN(var, 1, "var");
    EM_GET_FN(a, in, 2);
    if (weights) EM_GET_FN(w, weights, 3);
    EM_TRY_FN(check_bias(fn, 4, bias));
    EM_TRY_FN(stat_dim(fn, 5, a, dim, &d));
    EM_TRY_FN(check_type(fn, 2, a, T_MEAN));
    if (w) EM_TRY_FN(check_weights(fn, 3, w, a));
    af_dtype ot = a->type == f16 ? f16 : stat_type(a->type);
    EM_TRY_FN(run_moments(fn, a, w, d, ddof_meanvar(bias), false, ot, &m, &v));
    *mean = m;
    *var = v;
    return AF_SUCCESS;
fail:
    return err;
}

/* ---------------------------------------------------------------------------------------------
 * Over every element: host values
 * ------------------------------------------------------------------------------------------- */

/* real receives the value (the real part for complex inputs); imag the imaginary part of a
 * complex result: it may be NULL for real inputs (then untouched), not for complex ones. */
static af_err stat_all_api(const char *fn, double *real, double *imag, const af_array in,
                           const af_array wh, stat_kind k, int ddof, type_rule rule) {
    af_err err = AF_SUCCESS;
    em_array *a, *w = NULL, *res = NULL;
    double re, im;
    EM_ARG_NULL_FN(real, 0, "real");
    EM_GET_FN(a, in, 2);
    if (wh) EM_GET_FN(w, wh, 3);
    EM_TRY_FN(check_type(fn, 2, a, rule));
    if (w) EM_TRY_FN(check_weights(fn, 3, w, a));
    bool cplx = em_dtype_is_complex(a->type);
    if (cplx && !imag)
        EM_FAIL_FN(AF_ERR_ARG, "argument 1 (imag) is NULL, but the result of a %s input is complex",
                   em_dtype_name(a->type));
    af_dtype ot = cplx ? c64 : f64;
    if (k == S_MEAN)
        EM_TRY_FN(run_moments(fn, a, w, -1, 0, false, ot, &res, NULL));
    else
        EM_TRY_FN(run_moments(fn, a, w, -1, ddof, k == S_STDEV, ot, NULL, &res));
    EM_TRY_FN(read_value(fn, res, &re, &im));
    em_array_free(res);
    *real = re;
    if (cplx) *imag = im;
    return AF_SUCCESS;
fail:
    if (res) em_array_free(res);
    return err;
}

af_err af_mean_all(double *real, double *imag, const af_array in) {
    return stat_all_api(__func__, real, imag, in, NULL, S_MEAN, 0, T_MEAN);
}

af_err af_mean_all_weighted(double *real, double *imag, const af_array in, const af_array weights) {
    const char *fn = __func__;
    af_err err = AF_SUCCESS;
    EM_ARG_NULL_FN(weights, 3, "weights");
    return stat_all_api(fn, real, imag, in, weights, S_MEAN, 0, T_MEAN);
fail:
    return err;
}

af_err af_var_all(double *realVal, double *imagVal, const af_array in, const bool isbiased) {
    return stat_all_api(__func__, realVal, imagVal, in, NULL, S_VAR,
                        ddof_sample(isbiased ? AF_VARIANCE_SAMPLE : AF_VARIANCE_POPULATION),
                        T_MEAN);
}

af_err af_var_all_v2(double *realVal, double *imagVal, const af_array in, const af_var_bias bias) {
    const char *fn = __func__;
    af_err err = AF_SUCCESS;
    EM_TRY_FN(check_bias(fn, 3, bias));
    return stat_all_api(fn, realVal, imagVal, in, NULL, S_VAR, ddof_sample(bias), T_MEAN);
fail:
    return err;
}

af_err af_var_all_weighted(double *realVal, double *imagVal, const af_array in,
                           const af_array weights) {
    const char *fn = __func__;
    af_err err = AF_SUCCESS;
    EM_ARG_NULL_FN(weights, 3, "weights");
    return stat_all_api(fn, realVal, imagVal, in, weights, S_VAR, 0, T_MEAN);
fail:
    return err;
}

af_err af_stdev_all(double *real, double *imag, const af_array in) {
    return stat_all_api(__func__, real, imag, in, NULL, S_STDEV, 0, T_STDEV);
}

af_err af_stdev_all_v2(double *real, double *imag, const af_array in, const af_var_bias bias) {
    const char *fn = __func__;
    af_err err = AF_SUCCESS;
    EM_TRY_FN(check_bias(fn, 3, bias));
    return stat_all_api(fn, real, imag, in, NULL, S_STDEV, ddof_sample(bias), T_STDEV);
fail:
    return err;
}

/* ---------------------------------------------------------------------------------------------
 * cov, corrcoef
 * ------------------------------------------------------------------------------------------- */

/* X and Y (arguments px and px + 1): equal dtypes and dims. */
static af_err check_pair(const char *fn, int px, const em_array *x, const em_array *y,
                         type_rule rule) {
    af_err err = AF_SUCCESS;
    EM_TRY_FN(check_type(fn, px, x, rule));
    if (x->type != y->type)
        EM_FAIL_FN(AF_ERR_ARG, "arguments %d and %d (X, Y): dtypes %s and %s must be equal", px,
                   px + 1, em_dtype_name(x->type), em_dtype_name(y->type));
    for (int d = 0; d < 4; d++)
        if (x->dims[d] != y->dims[d])
            EM_FAIL_FN(AF_ERR_ARG,
                       "arguments %d and %d (X, Y): dims[%d] are %lld and %lld, must be equal", px,
                       px + 1, d, (long long)x->dims[d], (long long)y->dims[d]);
    return AF_SUCCESS;
fail:
    return err;
}

static af_err run_comoments(const char *fn, const em_array *x, const em_array *y, int kind,
                            int ddof, af_dtype ot, const dim_t od[4], em_array **out) {
    af_err err = AF_SUCCESS;
    em_node *nx = NULL, *ny = NULL;
    em_jit_prog px, py;
    bool bx = false, by = false;
    em_array *res = NULL;
    af_dtype ct = stat_type(x->type);
    EM_TRY_FN(em_array_alloc(ot, od, &res));
    if (em_array_elements(x) > 0 && em_dims_elements(od) > 0) {
        EM_NEED_SLOT(algo, comoments);
        EM_TRY_FN(prog_of(fn, x, x->dims, ct, &nx, &px));
        bx = true;
        EM_TRY_FN(prog_of(fn, y, x->dims, ct, &ny, &py));
        by = true;
        EM_TRY_FN(em_backend_self.algo->comoments(x->dev, &px, &py, kind, ddof, ot, res->buf->ptr));
    } else if (em_dims_elements(od) > 0) {
        em_node *c = em_jit_const(ot, od, NAN, 0);
        em_array *tmp = NULL;
        EM_TRY_FN(em_jit_finish(fn, c, x->dev, &tmp));
        EM_TRY_FN(em_array_eval(tmp));
        em_array_free(res);
        res = tmp;
    }
    if (bx) em_jit_prog_free(&px);
    if (by) em_jit_prog_free(&py);
    if (nx) em_node_release(nx);
    if (ny) em_node_release(ny);
    *out = res;
    return AF_SUCCESS;
fail:
    if (bx) em_jit_prog_free(&px);
    if (by) em_jit_prog_free(&py);
    if (nx) em_node_release(nx);
    if (ny) em_node_release(ny);
    if (res) em_array_free(res);
    return err;
}

static af_err cov_impl(const char *fn, af_array *out, const af_array X, const af_array Y,
                       const af_var_bias bias) {
    af_err err = AF_SUCCESS;
    em_array *x, *y, *res = NULL;
    EM_ARG_NULL_FN(out, 0, "out");
    EM_GET_FN(x, X, 1);
    EM_GET_FN(y, Y, 2);
    EM_TRY_FN(check_bias(fn, 3, bias));
    if (em_dims_ndims(x->dims) > 2)
        EM_FAIL_FN(AF_ERR_ARG, "argument 1 (X): %u dimensions, at most 2 are supported",
                   em_dims_ndims(x->dims));
    EM_TRY_FN(check_pair(fn, 1, x, y, T_COV));
    dim_t od[4] = {1, x->dims[1], 1, 1};
    if (em_array_elements(x) == 0) od[0] = x->dims[0];
    EM_TRY_FN(
        run_comoments(fn, x, y, EM_COMOM_COV, ddof_sample(bias), stat_type(x->type), od, &res));
    *out = res;
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_cov_v2(af_array *out, const af_array X, const af_array Y, const af_var_bias bias) {
    return cov_impl(__func__, out, X, Y, bias);
}

af_err af_cov(af_array *out, const af_array X, const af_array Y, const bool isbiased) {
    return cov_impl(__func__, out, X, Y, isbiased ? AF_VARIANCE_SAMPLE : AF_VARIANCE_POPULATION);
}

af_err af_corrcoef(double *realVal, double *imagVal, const af_array X, const af_array Y) {
    const char *fn = __func__;
    af_err err = AF_SUCCESS;
    em_array *x, *y, *res = NULL;
    double re, im;
    (void)imagVal; /* real results only: ArrayFire leaves it untouched */
    EM_ARG_NULL_FN(realVal, 0, "realVal");
    EM_GET_FN(x, X, 2);
    EM_GET_FN(y, Y, 3);
    EM_TRY_FN(check_pair(fn, 2, x, y, T_CORR));
    const dim_t one[4] = {1, 1, 1, 1};
    EM_TRY_FN(run_comoments(fn, x, y, EM_COMOM_CORR, 0, f64, one, &res));
    EM_TRY_FN(read_value(fn, res, &re, &im));
    em_array_free(res);
    *realVal = re;
    return AF_SUCCESS;
fail:
    if (res) em_array_free(res);
    return err;
}
