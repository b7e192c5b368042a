/* algorithm.h, reductions: sum, product (and their _nan forms), min, max, all_true, any_true and
 * count, each along a dim, over everything (_all: host values; _all_array: a one-element array).
 *
 * Every reduction takes its input as a JIT program (algorithm.h, "Reductions"): the lazy tree of
 * the input, or the leaf of an evaluated array (a view is a strided leaf). The per-element steps
 * of each function are nodes added on top of that tree, so the backend computes them in the same
 * pass as the reduction and nothing is materialised:
 *  - sum, product: the conversion to the output dtype (ArrayFire's: u8/u16 -> u32, s8/s16 -> s32,
 *    f16 -> f32); b8 sums count the true values (u32) and b8 products are all_true (b8); the _nan
 *    forms replace NaN (complex: a NaN part) by nanval first;
 *  - count: x != 0 as u32, then a sum; all_true, any_true: x != 0 as b8, then AND / OR;
 *  - min, max: the values themselves (same dtype); NaN are ignored, complex compare by magnitude.
 *
 * Differences from ArrayFire, all where ArrayFire's result is an accident of its implementation:
 * dim = -1 means the first non-singleton dimension (ArrayFire's C API rejects it, its C++ API
 * means this); reducing along a dimension of length 1 gives the function's output dtype and
 * values (ArrayFire hands back the input unchanged, so af_count along such a dim returned the
 * values themselves); an empty input gives an empty output of the function's dtype with the
 * input's dims; the complex _nan_all forms apply nanval (ArrayFire's ignore it). */
#include <af/algorithm.h>

#include "../backend/algorithm.h"
#include "../core/backend.h"
#include "jit_build.h"

#include <math.h>
#include <string.h>

typedef enum { R_SUM, R_PROD, R_MIN, R_MAX, R_ALL, R_ANY, R_COUNT } red_kind;

/* The output dtype of kind k on input dtype t (ArrayFire's reduce.cpp). */
static af_dtype red_out_type(red_kind k, af_dtype t) {
    switch (k) {
    case R_SUM:
    case R_PROD:
        switch (t) {
        case u8:
        case u16:
            return u32;
        case s8:
        case s16:
            return s32;
        case f16:
            return f32;
        case b8:
            return k == R_SUM ? u32 : b8;
        default:
            return t;
        }
    case R_MIN:
    case R_MAX:
        return t;
    case R_ALL:
    case R_ANY:
        return b8;
    case R_COUNT:
        return u32;
    }
    return t;
}

/* What a reduction computes: its kind and the _nan forms' replacement value. */
typedef struct {
    red_kind kind;
    bool nan;
    double nanval;
} red_spec;

/* The backend op that finishes kind k on input dtype t. */
static em_red_op red_backend_op(red_kind k, af_dtype t) {
    switch (k) {
    case R_SUM:
    case R_COUNT:
        return EM_RED_SUM;
    case R_PROD:
        return t == b8 ? EM_RED_AND : EM_RED_PROD;
    case R_MIN:
        return EM_RED_MIN;
    case R_MAX:
        return EM_RED_MAX;
    case R_ALL:
        return EM_RED_AND;
    case R_ANY:
        return EM_RED_OR;
    }
    return EM_RED_SUM;
}

/* The node whose values the backend reduces: the input, then the per-element steps of the spec
 * (see the file comment). Returns a new reference in *out. */
static af_err red_value_node(const char *fn, const em_array *in, const red_spec *r, em_node **out) {
    af_err err = AF_SUCCESS;
    em_node *n = NULL;
    af_dtype t = in->type, ot = red_out_type(r->kind, t);
    EM_TRY_FN(em_jit_input(in, in->dims, t, &n));
    switch (r->kind) {
    case R_SUM:
    case R_PROD:
        if (t == b8) {
            if (r->kind == R_SUM) n = em_jit_cast(n, u32); /* counts the true values */
            break;
        }
        /* Converted first, so f16 values are replaced as floats (ArrayFire's order). */
        if (ot != t) n = em_jit_cast(n, ot);
        if (r->nan && em_dtype_is_float(ot)) {
            em_node *isn = NULL;
            if (n) {
                em_node_retain(n);
                isn = em_jit_op1(EM_OP_ISNAN, b8, n);
            }
            n = em_jit_op3(EM_OP_SELECT, ot, isn, em_jit_const(ot, in->dims, r->nanval, 0), n);
        }
        break;
    case R_MIN:
    case R_MAX:
        break;
    case R_ALL:
    case R_ANY:
        if (t != b8) n = em_jit_cast(n, b8);
        break;
    case R_COUNT:
        if (t != b8) n = em_jit_cast(n, b8);
        n = em_jit_cast(n, u32);
        break;
    }
    if (!n) EM_FAIL_FN(AF_ERR_NO_MEM, "out of host memory for a JIT node");
    *out = n;
    return AF_SUCCESS;
fail:
    return err;
}

/* The dimension a user's dim names: 0..3, or -1 for the first dimension longer than 1 (0 when
 * there is none). */
static af_err red_dim(const char *fn, int pos, const em_array *in, int dim, int *out) {
    af_err err = AF_SUCCESS;
    if (dim < -1 || dim > 3)
        EM_FAIL_FN(AF_ERR_ARG,
                   "argument %d (dim): %d is not a dimension (0 to 3, or -1 for the "
                   "first non-singleton dimension)",
                   pos, dim);
    if (dim == -1) {
        dim = 0;
        while (dim < 3 && in->dims[dim] == 1)
            dim++;
        if (in->dims[dim] == 1) dim = 0;
    }
    *out = dim;
    return AF_SUCCESS;
fail:
    return err;
}

/* Reduces `in` along dim (-1: every element) into a new array (dims of in with dims[dim] = 1,
 * or one element for dim -1). An empty input gives an empty output with the input's dims. */
static af_err red_run(const char *fn, em_array *in, int dim, const red_spec *r, em_array **out) {
    af_err err = AF_SUCCESS;
    em_node *n = NULL;
    em_array *res = NULL;
    em_jit_prog prog;
    bool built = false;
    af_dtype ot = red_out_type(r->kind, in->type);
    EM_NEED_SLOT(algo, reduce);
    dim_t odims[4] = {1, 1, 1, 1};
    if (dim >= 0) {
        memcpy(odims, in->dims, sizeof(odims));
        if (em_array_elements(in) > 0) odims[dim] = 1;
    }
    EM_TRY_FN(em_array_alloc(ot, odims, &res));
    if (em_array_elements(in) > 0) {
        EM_TRY_FN(red_value_node(fn, in, r, &n));
        EM_TRY_FN(em_jit_prog_build(&n, 1, &prog));
        built = true;
        EM_TRY_FN(em_backend_self.algo->reduce(in->dev, &prog, dim,
                                               red_backend_op(r->kind, in->type), res->buf->ptr));
        em_jit_prog_free(&prog);
        built = false;
        em_node_release(n);
        n = NULL;
    }
    *out = res;
    return AF_SUCCESS;
fail:
    if (built) em_jit_prog_free(&prog);
    if (n) em_node_release(n);
    if (res) em_array_free(res);
    return err;
}

/* ---------------------------------------------------------------------------------------------
 * Along a dimension: af_sum, af_sum_nan, af_product, af_product_nan, af_min, af_max,
 * af_all_true, af_any_true, af_count.
 * ------------------------------------------------------------------------------------------- */
static af_err red_dim_api(const char *fn, af_array *out, const af_array in, int dim, red_spec r) {
    af_err err = AF_SUCCESS;
    em_array *a, *res;
    EM_ARG_NULL_FN(out, 0, "out");
    EM_GET_FN(a, in, 1);
    EM_TRY_FN(red_dim(fn, 2, a, dim, &dim));
    EM_TRY_FN(red_run(fn, a, dim, &r, &res));
    *out = res;
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_sum(af_array *out, const af_array in, const int dim) {
    return red_dim_api(__func__, out, in, dim, (red_spec){R_SUM, false, 0});
}

af_err af_sum_nan(af_array *out, const af_array in, const int dim, const double nanval) {
    return red_dim_api(__func__, out, in, dim, (red_spec){R_SUM, true, nanval});
}

af_err af_product(af_array *out, const af_array in, const int dim) {
    return red_dim_api(__func__, out, in, dim, (red_spec){R_PROD, false, 0});
}

af_err af_product_nan(af_array *out, const af_array in, const int dim, const double nanval) {
    return red_dim_api(__func__, out, in, dim, (red_spec){R_PROD, true, nanval});
}

af_err af_min(af_array *out, const af_array in, const int dim) {
    return red_dim_api(__func__, out, in, dim, (red_spec){R_MIN, false, 0});
}

af_err af_max(af_array *out, const af_array in, const int dim) {
    return red_dim_api(__func__, out, in, dim, (red_spec){R_MAX, false, 0});
}

af_err af_all_true(af_array *out, const af_array in, const int dim) {
    return red_dim_api(__func__, out, in, dim, (red_spec){R_ALL, false, 0});
}

af_err af_any_true(af_array *out, const af_array in, const int dim) {
    return red_dim_api(__func__, out, in, dim, (red_spec){R_ANY, false, 0});
}

af_err af_count(af_array *out, const af_array in, const int dim) {
    return red_dim_api(__func__, out, in, dim, (red_spec){R_COUNT, false, 0});
}

/* ---------------------------------------------------------------------------------------------
 * Over every element: the _all forms (host values) and the _all_array forms (a one-element
 * array on the device, read by nobody until the caller asks).
 * ------------------------------------------------------------------------------------------- */

/* The value of an empty reduction: the op's identity. min and max have none (AF_ERR_ARG). */
static af_err red_empty_value(const char *fn, int pos, red_kind k, double *re) {
    af_err err = AF_SUCCESS;
    switch (k) {
    case R_PROD:
    case R_ALL:
        *re = 1;
        break;
    case R_MIN:
    case R_MAX:
        EM_FAIL_FN(AF_ERR_ARG, "argument %d (in) is empty: its %s is undefined", pos,
                   k == R_MIN ? "minimum" : "maximum");
    default:
        *re = 0;
        break;
    }
    return AF_SUCCESS;
fail:
    return err;
}

static af_err red_all_array_api(const char *fn, af_array *out, const af_array in, red_spec r) {
    af_err err = AF_SUCCESS;
    em_array *a, *res = NULL;
    EM_ARG_NULL_FN(out, 0, "out");
    EM_GET_FN(a, in, 1);
    if (em_array_elements(a) == 0) {
        /* A one-element array holding the identity. */
        double v = 0;
        EM_TRY_FN(red_empty_value(fn, 1, r.kind, &v));
        dim_t one[4] = {1, 1, 1, 1};
        af_dtype ot = red_out_type(r.kind, a->type);
        em_node *c = em_jit_const(ot, one, v, 0);
        EM_TRY_FN(em_jit_finish(fn, c, a->dev, &res));
        EM_TRY_FN(em_array_eval(res));
    } else {
        EM_TRY_FN(red_run(fn, a, -1, &r, &res));
    }
    *out = res;
    return AF_SUCCESS;
fail:
    if (res) em_array_free(res);
    return err;
}

/* The host value of a one-element array of dtype t (complex: both parts). */
/* The value of dtype t at v (host memory) as real and imaginary doubles. */
static void red_decode_value(af_dtype t, const void *v, double *re, double *im) {
    *im = 0;
    switch (t) {
    case f32:
        *re = *(float *)v;
        break;
    case c32:
        *re = ((em_cf32 *)v)->re, *im = ((em_cf32 *)v)->im;
        break;
    case f64:
        *re = *(double *)v;
        break;
    case c64:
        *re = ((em_cf64 *)v)->re, *im = ((em_cf64 *)v)->im;
        break;
    case b8:
    case u8:
        *re = *(uint8_t *)v;
        break;
    case s8:
        *re = *(int8_t *)v;
        break;
    case s16:
        *re = *(int16_t *)v;
        break;
    case u16:
        *re = *(uint16_t *)v;
        break;
    case f16:
        *re = em_half_to_float(*(uint16_t *)v);
        break;
    case s32:
        *re = *(int32_t *)v;
        break;
    case u32:
        *re = *(uint32_t *)v;
        break;
    case s64:
        *re = (double)*(int64_t *)v;
        break;
    case u64:
        *re = (double)*(uint64_t *)v;
        break;
    }
}

static af_err red_read_value(const char *fn, em_array *res, double *re, double *im) {
    af_err err = AF_SUCCESS;
    _Alignas(16) unsigned char v[16];
    EM_TRY_FN(em_array_read(res, v));
    red_decode_value(res->type, v, re, im);
    return AF_SUCCESS;
fail:
    return err;
}

/* real receives the value (the real part for complex inputs), imag the imaginary part: it may be
 * NULL for real inputs, not for complex ones (AF_ERR_ARG, as ArrayFire). */
static af_err red_all_api(const char *fn, double *real, double *imag, const af_array in,
                          red_spec r) {
    af_err err = AF_SUCCESS;
    em_array *a, *res = NULL;
    double re = 0, im = 0;
    EM_ARG_NULL_FN(real, 0, "real");
    EM_GET_FN(a, in, 2);
    af_dtype ot = red_out_type(r.kind, a->type);
    if (em_dtype_is_complex(ot) && !imag)
        EM_FAIL_FN(AF_ERR_ARG, "argument 1 (imag) is NULL, but the result of a %s input is complex",
                   em_dtype_name(a->type));
    if (em_array_elements(a) == 0) {
        EM_TRY_FN(red_empty_value(fn, 2, r.kind, &re));
    } else {
        EM_TRY_FN(red_run(fn, a, -1, &r, &res));
        EM_TRY_FN(red_read_value(fn, res, &re, &im));
        em_array_free(res);
        res = NULL;
    }
    *real = re;
    if (imag) *imag = im;
    return AF_SUCCESS;
fail:
    if (res) em_array_free(res);
    return err;
}

af_err af_sum_all(double *real, double *imag, const af_array in) {
    return red_all_api(__func__, real, imag, in, (red_spec){R_SUM, false, 0});
}

af_err af_sum_nan_all(double *real, double *imag, const af_array in, const double nanval) {
    return red_all_api(__func__, real, imag, in, (red_spec){R_SUM, true, nanval});
}

af_err af_product_all(double *real, double *imag, const af_array in) {
    return red_all_api(__func__, real, imag, in, (red_spec){R_PROD, false, 0});
}

af_err af_product_nan_all(double *real, double *imag, const af_array in, const double nanval) {
    return red_all_api(__func__, real, imag, in, (red_spec){R_PROD, true, nanval});
}

af_err af_min_all(double *real, double *imag, const af_array in) {
    return red_all_api(__func__, real, imag, in, (red_spec){R_MIN, false, 0});
}

af_err af_max_all(double *real, double *imag, const af_array in) {
    return red_all_api(__func__, real, imag, in, (red_spec){R_MAX, false, 0});
}

af_err af_all_true_all(double *real, double *imag, const af_array in) {
    return red_all_api(__func__, real, imag, in, (red_spec){R_ALL, false, 0});
}

af_err af_any_true_all(double *real, double *imag, const af_array in) {
    return red_all_api(__func__, real, imag, in, (red_spec){R_ANY, false, 0});
}

af_err af_count_all(double *real, double *imag, const af_array in) {
    return red_all_api(__func__, real, imag, in, (red_spec){R_COUNT, false, 0});
}

af_err af_sum_all_array(af_array *out, const af_array in) {
    return red_all_array_api(__func__, out, in, (red_spec){R_SUM, false, 0});
}

af_err af_sum_nan_all_array(af_array *out, const af_array in, const double nanval) {
    return red_all_array_api(__func__, out, in, (red_spec){R_SUM, true, nanval});
}

af_err af_product_all_array(af_array *out, const af_array in) {
    return red_all_array_api(__func__, out, in, (red_spec){R_PROD, false, 0});
}

af_err af_product_nan_all_array(af_array *out, const af_array in, const double nanval) {
    return red_all_array_api(__func__, out, in, (red_spec){R_PROD, true, nanval});
}

af_err af_min_all_array(af_array *out, const af_array in) {
    return red_all_array_api(__func__, out, in, (red_spec){R_MIN, false, 0});
}

af_err af_max_all_array(af_array *out, const af_array in) {
    return red_all_array_api(__func__, out, in, (red_spec){R_MAX, false, 0});
}

af_err af_all_true_all_array(af_array *out, const af_array in) {
    return red_all_array_api(__func__, out, in, (red_spec){R_ALL, false, 0});
}

af_err af_any_true_all_array(af_array *out, const af_array in) {
    return red_all_array_api(__func__, out, in, (red_spec){R_ANY, false, 0});
}

af_err af_count_all_array(af_array *out, const af_array in) {
    return red_all_array_api(__func__, out, in, (red_spec){R_COUNT, false, 0});
}

/* ---------------------------------------------------------------------------------------------
 * Min and max with their index: af_imin, af_imax (along a dim), af_imin_all, af_imax_all and
 * af_max_ragged. The index is the position along dim (the linear index for the _all forms) of
 * the first element holding the result; NaN are ignored (where every value is NaN, the value is
 * NaN and the index 0); complex values compare by magnitude. An empty input is AF_ERR_ARG, as in
 * ArrayFire.
 * ------------------------------------------------------------------------------------------- */

/* Runs the index reduction of in along dim (-1: everything) into device memory val and idx,
 * with rlen (NULL, or device u32 per output) limiting each output's count (af_max_ragged). */
static af_err ired_launch(const char *fn, em_array *in, int dim, em_red_op op, const void *rlen,
                          void *val, void *idx) {
    af_err err = AF_SUCCESS;
    em_node *n = NULL;
    em_jit_prog prog;
    bool built = false;
    EM_NEED_SLOT(algo, ireduce);
    EM_TRY_FN(em_jit_input(in, in->dims, in->type, &n));
    EM_TRY_FN(em_jit_prog_build(&n, 1, &prog));
    built = true;
    EM_TRY_FN(em_backend_self.algo->ireduce(in->dev, &prog, dim, op, rlen, val, idx));
fail:
    if (built) em_jit_prog_free(&prog);
    if (n) em_node_release(n);
    return err;
}

/* val and idx of in along dim (-1: everything), with rlen (NULL, or an array of the output's
 * dims) limiting each output's count (af_max_ragged). */
static af_err ired_run(const char *fn, em_array *in, int dim, em_red_op op, em_array *rlen,
                       em_array **val_out, em_array **idx_out) {
    af_err err = AF_SUCCESS;
    em_array *val = NULL, *idx = NULL;
    em_buf *rbuf = NULL;
    void *rptr = NULL;
    dim_t odims[4] = {1, 1, 1, 1};
    if (dim >= 0) {
        memcpy(odims, in->dims, sizeof(odims));
        odims[dim] = 1;
    }
    EM_TRY_FN(em_array_alloc(in->type, odims, &val));
    EM_TRY_FN(em_array_alloc(u32, odims, &idx));
    if (rlen) EM_TRY_FN(em_array_dense_read(rlen, &rbuf, &rptr));
    EM_TRY_FN(ired_launch(fn, in, dim, op, rptr, val->buf->ptr, idx->buf->ptr));
    if (rbuf) em_buf_release(rbuf);
    *val_out = val;
    *idx_out = idx;
    return AF_SUCCESS;
fail:
    if (rbuf) em_buf_release(rbuf);
    if (val) em_array_free(val);
    if (idx) em_array_free(idx);
    return err;
}

static af_err ired_dim_api(const char *fn, af_array *val, af_array *idx, const af_array in, int dim,
                           em_red_op op) {
    af_err err = AF_SUCCESS;
    em_array *a, *v, *i;
    EM_ARG_NULL_FN(val, 0, "val");
    EM_ARG_NULL_FN(idx, 1, "idx");
    EM_GET_FN(a, in, 2);
    EM_TRY_FN(red_dim(fn, 3, a, dim, &dim));
    if (em_array_elements(a) == 0) EM_FAIL_FN(AF_ERR_ARG, "argument 2 (in) is empty");
    EM_TRY_FN(ired_run(fn, a, dim, op, NULL, &v, &i));
    *val = v;
    *idx = i;
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_imin(af_array *out, af_array *idx, const af_array in, const int dim) {
    return ired_dim_api(__func__, out, idx, in, dim, EM_RED_MIN);
}

af_err af_imax(af_array *out, af_array *idx, const af_array in, const int dim) {
    return ired_dim_api(__func__, out, idx, in, dim, EM_RED_MAX);
}

/* The value and its index land in one small device buffer (value at 0, index at 16), so that
 * one copy brings both back: the host waits for the device once. */
static af_err ired_all_api(const char *fn, double *real, double *imag, unsigned *idx,
                           const af_array in, em_red_op op) {
    af_err err = AF_SUCCESS;
    em_array *a;
    em_buf *res = NULL;
    double re = 0, im = 0;
    _Alignas(16) unsigned char host[20];
    uint32_t loc;
    EM_ARG_NULL_FN(real, 0, "real");
    EM_ARG_NULL_FN(idx, 2, "idx");
    EM_GET_FN(a, in, 3);
    if (em_dtype_is_complex(a->type) && !imag)
        EM_FAIL_FN(AF_ERR_ARG, "argument 1 (imag) is NULL, but the result of a %s input is complex",
                   em_dtype_name(a->type));
    if (em_array_elements(a) == 0) EM_FAIL_FN(AF_ERR_ARG, "argument 3 (in) is empty");
    EM_TRY_FN(em_buf_alloc(a->dev, sizeof(host), &res));
    EM_TRY_FN(ired_launch(fn, a, -1, op, NULL, res->ptr, (char *)res->ptr + 16));
    EM_TRY_FN(em_backend_self.copy_d2h(a->dev, host, res->ptr, sizeof(host)));
    em_buf_release(res);
    res = NULL;
    red_decode_value(a->type, host, &re, &im);
    memcpy(&loc, host + 16, sizeof(loc));
    *real = re;
    if (imag) *imag = im;
    *idx = loc;
    return AF_SUCCESS;
fail:
    if (res) em_buf_release(res);
    return err;
}

af_err af_imin_all(double *real, double *imag, unsigned *idx, const af_array in) {
    return ired_all_api(__func__, real, imag, idx, in, EM_RED_MIN);
}

af_err af_imax_all(double *real, double *imag, unsigned *idx, const af_array in) {
    return ired_all_api(__func__, real, imag, idx, in, EM_RED_MAX);
}

/* The maximum of the first ragged_len[k] elements along dim of each output k (u32, the output's
 * dims), with its index. */
af_err af_max_ragged(af_array *val, af_array *idx, const af_array in, const af_array ragged_len,
                     const int dim) {
    af_err err = AF_SUCCESS;
    const char *fn = __func__;
    em_array *a, *r, *v, *i;
    int d = 0;
    EM_ARG_NULL(val, 0);
    EM_ARG_NULL(idx, 1);
    EM_GET(a, in, 2);
    EM_GET(r, ragged_len, 3);
    EM_TRY(red_dim(fn, 4, a, dim, &d));
    if (em_array_elements(a) == 0) EM_FAIL(AF_ERR_ARG, "argument 2 (in) is empty");
    if (r->type != u32)
        EM_FAIL(AF_ERR_TYPE, "argument 3 (ragged_len): dtype %s, must be u32",
                em_dtype_name(r->type));
    for (int k = 0; k < 4; k++) {
        dim_t want = k == d ? 1 : a->dims[k];
        if (r->dims[k] != want)
            EM_FAIL(AF_ERR_ARG,
                    "argument 3 (ragged_len): dims[%d] = %lld, must be %lld (in's dims with "
                    "dims[%d] = 1)",
                    k, (long long)r->dims[k], (long long)want, d);
    }
    if (r->dev != a->dev)
        EM_FAIL(AF_ERR_DEVICE, "argument 3 (ragged_len) lives on device %d, in on device %d",
                r->dev, a->dev);
    EM_TRY(ired_run(fn, a, d, EM_RED_MAX, r, &v, &i));
    *val = v;
    *idx = i;
    return AF_SUCCESS;
fail:
    return err;
}

/* ---------------------------------------------------------------------------------------------
 * By key: af_sum_by_key (and _nan), af_product_by_key (and _nan), af_min_by_key, af_max_by_key,
 * af_all_true_by_key, af_any_true_by_key, af_count_by_key. keys (s32 or u32) is a vector as long
 * as vals along dim; each run of equal consecutive keys gives one output key and one slice of
 * values reduced over the run. Output dtypes as the plain reductions'. Empty keys give empty
 * outputs.
 * ------------------------------------------------------------------------------------------- */
static af_err red_by_key_api(const char *fn, af_array *keys_out, af_array *vals_out,
                             const af_array keys, const af_array vals, int dim, red_spec r) {
    af_err err = AF_SUCCESS;
    em_array *k, *v, *ok = NULL, *ov = NULL;
    em_buf *kbuf = NULL, *okbuf = NULL, *starts = NULL;
    void *kptr = NULL;
    em_node *n = NULL;
    em_jit_prog prog;
    bool built = false;
    EM_ARG_NULL_FN(keys_out, 0, "keys_out");
    EM_ARG_NULL_FN(vals_out, 1, "vals_out");
    EM_GET_FN(k, keys, 2);
    EM_GET_FN(v, vals, 3);
    EM_TRY_FN(red_dim(fn, 4, v, dim, &dim));
    if (k->type != s32 && k->type != u32)
        EM_FAIL_FN(AF_ERR_TYPE, "argument 2 (keys): dtype %s, must be s32 or u32",
                   em_dtype_name(k->type));
    int long_dims = 0;
    for (int d = 0; d < 4; d++)
        long_dims += k->dims[d] > 1;
    if (long_dims > 1) EM_FAIL_FN(AF_ERR_ARG, "argument 2 (keys) is not a vector");
    dim_t nk = em_array_elements(k);
    if (v->dims[dim] != nk)
        EM_FAIL_FN(AF_ERR_ARG,
                   "argument 3 (vals): dims[%d] = %lld, must equal the number of keys (%lld)", dim,
                   (long long)v->dims[dim], (long long)nk);
    if (k->dev != v->dev)
        EM_FAIL_FN(AF_ERR_DEVICE, "argument 2 (keys) lives on device %d, vals on device %d", k->dev,
                   v->dev);
    EM_NEED_SLOT(algo, key_runs);
    EM_NEED_SLOT(algo, reduce_runs);
    af_dtype ot = red_out_type(r.kind, v->type);
    dim_t nruns = 0;
    if (nk > 0 && em_array_elements(v) > 0) {
        EM_TRY_FN(em_array_dense_read(k, &kbuf, &kptr));
        EM_TRY_FN(em_buf_alloc(k->dev, (size_t)nk * 4, &okbuf));
        EM_TRY_FN(em_buf_alloc(k->dev, (size_t)(nk + 1) * 4, &starts));
        EM_TRY_FN(em_backend_self.algo->key_runs(k->dev, kptr, k->type, nk, okbuf->ptr, starts->ptr,
                                                 &nruns));
    }
    dim_t kd[4] = {nruns, 1, 1, 1}, vd[4];
    memcpy(vd, v->dims, sizeof(vd));
    vd[dim] = nruns;
    EM_TRY_FN(em_array_alloc(k->type, kd, &ok));
    EM_TRY_FN(em_array_alloc(ot, vd, &ov));
    if (nruns > 0) {
        EM_TRY_FN(em_backend_self.copy_d2d(k->dev, ok->buf->ptr, okbuf->ptr, (size_t)nruns * 4));
        EM_TRY_FN(red_value_node(fn, v, &r, &n));
        EM_TRY_FN(em_jit_prog_build(&n, 1, &prog));
        built = true;
        EM_TRY_FN(em_backend_self.algo->reduce_runs(
            v->dev, &prog, dim, red_backend_op(r.kind, v->type), starts->ptr, nruns, ov->buf->ptr));
        em_jit_prog_free(&prog);
        built = false;
        em_node_release(n);
        n = NULL;
    }
    if (kbuf) em_buf_release(kbuf);
    if (okbuf) em_buf_release(okbuf);
    if (starts) em_buf_release(starts);
    *keys_out = ok;
    *vals_out = ov;
    return AF_SUCCESS;
fail:
    if (built) em_jit_prog_free(&prog);
    if (n) em_node_release(n);
    if (kbuf) em_buf_release(kbuf);
    if (okbuf) em_buf_release(okbuf);
    if (starts) em_buf_release(starts);
    if (ok) em_array_free(ok);
    if (ov) em_array_free(ov);
    return err;
}

af_err af_sum_by_key(af_array *keys_out, af_array *vals_out, const af_array keys,
                     const af_array vals, const int dim) {
    return red_by_key_api(__func__, keys_out, vals_out, keys, vals, dim,
                          (red_spec){R_SUM, false, 0});
}

af_err af_sum_by_key_nan(af_array *keys_out, af_array *vals_out, const af_array keys,
                         const af_array vals, const int dim, const double nanval) {
    return red_by_key_api(__func__, keys_out, vals_out, keys, vals, dim,
                          (red_spec){R_SUM, true, nanval});
}

af_err af_product_by_key(af_array *keys_out, af_array *vals_out, const af_array keys,
                         const af_array vals, const int dim) {
    return red_by_key_api(__func__, keys_out, vals_out, keys, vals, dim,
                          (red_spec){R_PROD, false, 0});
}

af_err af_product_by_key_nan(af_array *keys_out, af_array *vals_out, const af_array keys,
                             const af_array vals, const int dim, const double nanval) {
    return red_by_key_api(__func__, keys_out, vals_out, keys, vals, dim,
                          (red_spec){R_PROD, true, nanval});
}

af_err af_min_by_key(af_array *keys_out, af_array *vals_out, const af_array keys,
                     const af_array vals, const int dim) {
    return red_by_key_api(__func__, keys_out, vals_out, keys, vals, dim,
                          (red_spec){R_MIN, false, 0});
}

af_err af_max_by_key(af_array *keys_out, af_array *vals_out, const af_array keys,
                     const af_array vals, const int dim) {
    return red_by_key_api(__func__, keys_out, vals_out, keys, vals, dim,
                          (red_spec){R_MAX, false, 0});
}

af_err af_all_true_by_key(af_array *keys_out, af_array *vals_out, const af_array keys,
                          const af_array vals, const int dim) {
    return red_by_key_api(__func__, keys_out, vals_out, keys, vals, dim,
                          (red_spec){R_ALL, false, 0});
}

af_err af_any_true_by_key(af_array *keys_out, af_array *vals_out, const af_array keys,
                          const af_array vals, const int dim) {
    return red_by_key_api(__func__, keys_out, vals_out, keys, vals, dim,
                          (red_spec){R_ANY, false, 0});
}

af_err af_count_by_key(af_array *keys_out, af_array *vals_out, const af_array keys,
                       const af_array vals, const int dim) {
    return red_by_key_api(__func__, keys_out, vals_out, keys, vals, dim,
                          (red_spec){R_COUNT, false, 0});
}
