/* signal.h: the median filters (af_medfilt, af_medfilt1, af_medfilt2) and interpolation
 * (af_approx1, af_approx2, their _uniform forms and the _v2 forms that may write into an existing
 * output). The FFTs are in fft.c and the convolutions in convolve.c.
 *
 * ArrayFire's rules (src/api/c/medfilt.cpp, approx.cpp):
 * - medfilt2 needs a square window (wind_length == wind_width > 0) and a border of AF_PAD_ZERO or
 *   AF_PAD_SYM; a column vector goes to medfilt1; otherwise the input needs 2 dims. A window of 1
 *   gives the input back. Dtypes f32 f64 b8 s32 u32 s16 u16 u8. medfilt is medfilt2; medfilt1
 *   filters along dim 0 and needs a non-empty input.
 * - approx: values f32 f64 c32 c64, positions f32/f64 of the same precision. The output has the
 *   input's dims with the interpolated dims replaced by the positions'; positions either span
 *   only the interpolated dims (and repeat over the others) or match the input in the others.
 *   Positions are (pos - idx_start) / idx_step; outside [0, n-1] they give off_grid. approx1
 *   takes NEAREST, LOWER, LINEAR, LINEAR_COSINE, CUBIC and CUBIC_SPLINE; approx2 also the
 *   BI- forms. An empty input or position array gives an empty output.
 * - The _v2 forms write into *out when it is not NULL; it must have the output's dims and dtype.
 *   Ember gives that handle the new values without touching other handles that share its old
 *   buffer (copy on write). */
#include <af/signal.h>

#include "../core/dev.h"
#include "signal_util.h"

#include <string.h>

/* ---- medfilt -------------------------------------------------------------------------------- */

static bool medfilt_type_ok(af_dtype t) {
    return t == f32 || t == f64 || t == b8 || t == s32 || t == u32 || t == s16 || t == u16 ||
           t == u8;
}

static af_err medfilt_run(const char *fn, af_array *out, em_array *a, dim_t wlen, dim_t wwid,
                          af_border_type pad) {
    af_err err = AF_SUCCESS;
    em_array *res = NULL;
    em_buf *ib = NULL;
    void *ip;
    if (!medfilt_type_ok(a->type))
        EM_FAIL_FN(AF_ERR_TYPE,
                   "argument 1 (in): dtype %s; a median filter takes f32 f64 b8 s32 u32 s16 u16 "
                   "or u8",
                   em_dtype_name(a->type));
    EM_NEED_SLOT(signal, medfilt);
    EM_TRY_FN(em_sig_dense_as(fn, a, a->type, &ib, &ip));
    EM_TRY_FN(em_sig_alloc(fn, a->type, a->dims, &res));
    EM_TRY_FN(em_backend_self.signal->medfilt(a->dev, a->type, res->buf->ptr, ip, a->dims, wlen,
                                              wwid, pad));
    em_buf_release(ib);
    *out = res;
    return AF_SUCCESS;
fail:
    if (ib) em_buf_release(ib);
    if (res) em_array_free(res);
    return err;
}

static af_err check_pad(const char *fn, int pos, af_border_type pad) {
    if (pad == AF_PAD_ZERO || pad == AF_PAD_SYM) return AF_SUCCESS;
    return em_err(AF_ERR_ARG, fn,
                  "argument %d (edge_pad): %d; a median filter takes AF_PAD_ZERO or AF_PAD_SYM",
                  pos, (int)pad);
}

static af_err medfilt1_impl(const char *fn, af_array *out, const af_array in, dim_t wind_width,
                            af_border_type edge_pad) {
    af_err err = AF_SUCCESS;
    em_array *a, *res = NULL;
    EM_ARG_NULL_FN(out, 0, "out");
    EM_GET_FN(a, in, 1);
    EM_TRY_FN(em_sig_check_dev(fn, 1, a));
    if (wind_width <= 0)
        EM_FAIL_FN(AF_ERR_ARG, "argument 2 (wind_width): %lld, must be positive",
                   (long long)wind_width);
    EM_TRY_FN(check_pad(fn, 3, edge_pad));
    if (em_array_elements(a) == 0)
        EM_FAIL_FN(AF_ERR_SIZE, "argument 1 (in) is empty; medfilt1 needs at least one element");
    if (wind_width == 1) {
        EM_TRY_FN(em_array_share(a, &res));
        *out = res;
        return AF_SUCCESS;
    }
    return medfilt_run(fn, out, a, wind_width, 1, edge_pad);
fail:
    return err;
}

static af_err medfilt2_impl(const char *fn, af_array *out, const af_array in, dim_t wind_length,
                            dim_t wind_width, af_border_type edge_pad) {
    af_err err = AF_SUCCESS;
    em_array *a, *res = NULL;
    EM_ARG_NULL_FN(out, 0, "out");
    EM_GET_FN(a, in, 1);
    EM_TRY_FN(em_sig_check_dev(fn, 1, a));
    if (wind_length != wind_width)
        EM_FAIL_FN(AF_ERR_ARG,
                   "arguments 2 and 3 (wind_length %lld, wind_width %lld): the window "
                   "must be square",
                   (long long)wind_length, (long long)wind_width);
    if (wind_length <= 0)
        EM_FAIL_FN(AF_ERR_ARG, "argument 2 (wind_length): %lld, must be positive",
                   (long long)wind_length);
    EM_TRY_FN(check_pad(fn, 4, edge_pad));
    if (a->dims[1] == 1 && a->dims[2] == 1 && a->dims[3] == 1)
        return medfilt1_impl(fn, out, in, wind_width, edge_pad);
    if (em_dims_ndims(a->dims) < 2)
        EM_FAIL_FN(AF_ERR_SIZE, "argument 1 (in) has %u dims; medfilt2 needs at least 2",
                   em_dims_ndims(a->dims));
    if (wind_length == 1) {
        EM_TRY_FN(em_array_share(a, &res));
        *out = res;
        return AF_SUCCESS;
    }
    return medfilt_run(fn, out, a, wind_length, wind_width, edge_pad);
fail:
    return err;
}

af_err af_medfilt(af_array *out, const af_array in, const dim_t wind_length, const dim_t wind_width,
                  const af_border_type edge_pad) {
    return medfilt2_impl(__func__, out, in, wind_length, wind_width, edge_pad);
}

af_err af_medfilt1(af_array *out, const af_array in, const dim_t wind_width,
                   const af_border_type edge_pad) {
    return medfilt1_impl(__func__, out, in, wind_width, edge_pad);
}

af_err af_medfilt2(af_array *out, const af_array in, const dim_t wind_length,
                   const dim_t wind_width, const af_border_type edge_pad) {
    return medfilt2_impl(__func__, out, in, wind_length, wind_width, edge_pad);
}

/* ---- approx --------------------------------------------------------------------------------- */

static int interp_order(af_interp_type m, bool two) {
    switch (m) {
    case AF_INTERP_NEAREST:
    case AF_INTERP_LOWER:
        return 1;
    case AF_INTERP_LINEAR:
    case AF_INTERP_LINEAR_COSINE:
        return 2;
    case AF_INTERP_BILINEAR:
    case AF_INTERP_BILINEAR_COSINE:
        return two ? 2 : 0;
    case AF_INTERP_CUBIC:
    case AF_INTERP_CUBIC_SPLINE:
        return 3;
    case AF_INTERP_BICUBIC:
    case AF_INTERP_BICUBIC_SPLINE:
        return two ? 3 : 0;
    default:
        return 0;
    }
}

/* Gives y (a _v2 output) the values of `fresh` and frees fresh's header: y's own buffer
 * reference is replaced, so other handles sharing its old buffer keep their values. */
static void take_contents(em_array *y, em_array *fresh) {
    em_array_drop_leaf(y);
    if (y->node) em_node_release(y->node);
    y->node = NULL;
    if (y->buf) em_buf_release(y->buf);
    em_buf_retain(fresh->buf);
    y->buf = fresh->buf;
    y->type = fresh->type;
    memcpy(y->dims, fresh->dims, sizeof(y->dims));
    memcpy(y->strides, fresh->strides, sizeof(y->strides));
    y->offset = 0;
    em_array_free(fresh);
}

typedef struct {
    const char *fn;
    af_array *out;
    bool v2;
    const af_array in, pos0, pos1; /* pos1 NULL for approx1 */
    int xdim, ydim;
    double xbeg, xstep, ybeg, ystep;
    af_interp_type method;
    float off_grid;
    /* argument positions for messages */
    int p_pos0, p_pos1, p_xdim, p_ydim, p_xstep, p_ystep, p_method;
} approx_args;

static af_err approx_common(const approx_args *q) {
    af_err err = AF_SUCCESS;
    const char *fn = q->fn;
    em_array *in, *p0, *p1 = NULL, *y = NULL, *res = NULL;
    em_buf *ib = NULL, *b0 = NULL, *b1 = NULL;
    const bool two = q->pos1 != NULL;
    EM_ARG_NULL_FN(q->out, 0, "out");
    EM_GET_FN(in, q->in, 1);
    EM_GET_FN(p0, q->pos0, q->p_pos0);
    if (two) EM_GET_FN(p1, q->pos1, q->p_pos1);
    if (q->v2 && *q->out) EM_GET_FN(y, *q->out, 0);
    EM_TRY_FN(em_sig_check_dev(fn, 1, in));
    EM_TRY_FN(em_sig_check_dev(fn, q->p_pos0, p0));
    if (two) EM_TRY_FN(em_sig_check_dev(fn, q->p_pos1, p1));
    if (!em_dtype_is_float(in->type))
        EM_FAIL_FN(AF_ERR_ARG, "argument 1 (in): dtype %s; interpolation takes floating types",
                   em_dtype_name(in->type));
    if (in->type == f16)
        EM_FAIL_FN(AF_ERR_TYPE, "argument 1 (in): dtype f16; interpolation takes f32 f64 c32 c64");
    if (p0->type != f32 && p0->type != f64)
        EM_FAIL_FN(AF_ERR_ARG, "argument %d (positions): dtype %s, must be f32 or f64", q->p_pos0,
                   em_dtype_name(p0->type));
    if (two && p1->type != p0->type)
        EM_FAIL_FN(AF_ERR_ARG, "argument %d (positions): dtype %s, must be argument %d's %s",
                   q->p_pos1, em_dtype_name(p1->type), q->p_pos0, em_dtype_name(p0->type));
    if (em_dtype_is_double(in->type) != (p0->type == f64))
        EM_FAIL_FN(AF_ERR_ARG, "arguments 1 and %d: dtypes %s and %s differ in precision",
                   q->p_pos0, em_dtype_name(in->type), em_dtype_name(p0->type));
    if (two && memcmp(p0->dims, p1->dims, sizeof(p0->dims)) != 0)
        EM_FAIL_FN(AF_ERR_SIZE, "arguments %d and %d: the two position arrays differ in dims",
                   q->p_pos0, q->p_pos1);
    if (q->xdim < 0 || q->xdim > 3)
        EM_FAIL_FN(AF_ERR_ARG, "argument %d (interp_dim): %d, must be 0 to 3", q->p_xdim, q->xdim);
    if (two && (q->ydim < 0 || q->ydim > 3 || q->ydim == q->xdim))
        EM_FAIL_FN(AF_ERR_ARG, "argument %d (interp_dim): %d, must be 0 to 3 and not %d", q->p_ydim,
                   q->ydim, q->xdim);
    if (q->xstep == 0) EM_FAIL_FN(AF_ERR_ARG, "argument %d (idx_step) is 0", q->p_xstep);
    if (two && q->ystep == 0) EM_FAIL_FN(AF_ERR_ARG, "argument %d (idx_step) is 0", q->p_ystep);
    int order = interp_order(q->method, two);
    if (order == 0)
        EM_FAIL_FN(AF_ERR_ARG, "argument %d (method): %d is not an interpolation %s takes",
                   q->p_method, (int)q->method, two ? "approx2" : "approx1");
    /* Positions either span only the interpolated dims or match the input in the others. */
    dim_t span = p0->dims[q->xdim] * (two ? p0->dims[q->ydim] : 1);
    if (span != em_array_elements(p0))
        for (int k = 0; k < 4; k++)
            if (k != q->xdim && (!two || k != q->ydim) && p0->dims[k] != in->dims[k])
                EM_FAIL_FN(AF_ERR_SIZE,
                           "argument %d (positions): dims[%d] = %lld, must be 1 or the input's "
                           "%lld",
                           q->p_pos0, k, (long long)p0->dims[k], (long long)in->dims[k]);
    if (em_array_elements(in) == 0 || em_array_elements(p0) == 0) {
        dim_t zero[4] = {0, 1, 1, 1};
        EM_TRY_FN(em_sig_alloc(fn, in->type, zero, &res));
        *q->out = res;
        return AF_SUCCESS;
    }
    EM_NEED_SLOT(signal, approx1);
    EM_NEED_SLOT(signal, approx2);
    em_approx_desc d;
    memset(&d, 0, sizeof(d));
    d.type = in->type;
    d.method = q->method;
    d.order = order;
    d.xdim = q->xdim;
    d.ydim = two ? q->ydim : 0;
    d.xbeg = q->xbeg;
    d.xstep = q->xstep;
    d.ybeg = q->ybeg;
    d.ystep = q->ystep;
    d.off_grid = q->off_grid;
    memcpy(d.idims, in->dims, sizeof(d.idims));
    memcpy(d.pdims, p0->dims, sizeof(d.pdims));
    memcpy(d.odims, in->dims, sizeof(d.odims));
    d.odims[q->xdim] = p0->dims[q->xdim];
    if (two) d.odims[q->ydim] = p0->dims[q->ydim];
    if (y) {
        if (memcmp(y->dims, d.odims, sizeof(d.odims)) != 0)
            EM_FAIL_FN(AF_ERR_SIZE,
                       "argument 0 (out): dims [%lld %lld %lld %lld], the result has [%lld %lld "
                       "%lld %lld]",
                       (long long)y->dims[0], (long long)y->dims[1], (long long)y->dims[2],
                       (long long)y->dims[3], (long long)d.odims[0], (long long)d.odims[1],
                       (long long)d.odims[2], (long long)d.odims[3]);
        if (y->type != in->type)
            EM_FAIL_FN(AF_ERR_TYPE, "argument 0 (out): dtype %s, the result is %s",
                       em_dtype_name(y->type), em_dtype_name(in->type));
        EM_TRY_FN(em_sig_check_dev(fn, 0, y));
    }
    void *ip, *pp0, *pp1 = NULL;
    EM_TRY_FN(em_sig_dense_as(fn, in, in->type, &ib, &ip));
    EM_TRY_FN(em_sig_dense_as(fn, p0, p0->type, &b0, &pp0));
    if (two) EM_TRY_FN(em_sig_dense_as(fn, p1, p1->type, &b1, &pp1));
    EM_TRY_FN(em_sig_alloc(fn, in->type, d.odims, &res));
    if (two)
        EM_TRY_FN(em_backend_self.signal->approx2(in->dev, &d, res->buf->ptr, ip, pp0, pp1));
    else
        EM_TRY_FN(em_backend_self.signal->approx1(in->dev, &d, res->buf->ptr, ip, pp0));
    em_buf_release(ib);
    em_buf_release(b0);
    if (b1) em_buf_release(b1);
    if (y)
        take_contents(y, res);
    else
        *q->out = res;
    return AF_SUCCESS;
fail:
    if (ib) em_buf_release(ib);
    if (b0) em_buf_release(b0);
    if (b1) em_buf_release(b1);
    if (res) em_array_free(res);
    return err;
}

static af_err approx1_any(const char *fn, af_array *out, bool v2, const af_array in,
                          const af_array pos, int dim, double beg, double step,
                          af_interp_type method, float off_grid, bool uniform) {
    approx_args q = {.fn = fn,
                     .out = out,
                     .v2 = v2,
                     .in = in,
                     .pos0 = pos,
                     .pos1 = NULL,
                     .xdim = dim,
                     .xbeg = beg,
                     .xstep = step,
                     .ystep = 1,
                     .method = method,
                     .off_grid = off_grid,
                     .p_pos0 = 2,
                     .p_xdim = 3,
                     .p_xstep = uniform ? 5 : 2,
                     .p_method = uniform ? 6 : 3};
    return approx_common(&q);
}

af_err af_approx1(af_array *out, const af_array in, const af_array pos, const af_interp_type method,
                  const float off_grid) {
    return approx1_any(__func__, out, false, in, pos, 0, 0.0, 1.0, method, off_grid, false);
}

af_err af_approx1_v2(af_array *out, const af_array in, const af_array pos,
                     const af_interp_type method, const float off_grid) {
    return approx1_any(__func__, out, true, in, pos, 0, 0.0, 1.0, method, off_grid, false);
}

af_err af_approx1_uniform(af_array *out, const af_array in, const af_array pos,
                          const int interp_dim, const double idx_start, const double idx_step,
                          const af_interp_type method, const float off_grid) {
    return approx1_any(__func__, out, false, in, pos, interp_dim, idx_start, idx_step, method,
                       off_grid, true);
}

af_err af_approx1_uniform_v2(af_array *out, const af_array in, const af_array pos,
                             const int interp_dim, const double idx_start, const double idx_step,
                             const af_interp_type method, const float off_grid) {
    return approx1_any(__func__, out, true, in, pos, interp_dim, idx_start, idx_step, method,
                       off_grid, true);
}

static af_err approx2_any(const char *fn, af_array *out, bool v2, const af_array in,
                          const af_array pos0, int d0, double b0, double s0, const af_array pos1,
                          int d1, double b1, double s1, af_interp_type method, float off_grid,
                          bool uniform) {
    approx_args q = {.fn = fn,
                     .out = out,
                     .v2 = v2,
                     .in = in,
                     .pos0 = pos0,
                     .pos1 = pos1,
                     .xdim = d0,
                     .ydim = d1,
                     .xbeg = b0,
                     .xstep = s0,
                     .ybeg = b1,
                     .ystep = s1,
                     .method = method,
                     .off_grid = off_grid,
                     .p_pos0 = 2,
                     .p_pos1 = uniform ? 6 : 3,
                     .p_xdim = 3,
                     .p_ydim = 7,
                     .p_xstep = 5,
                     .p_ystep = 9,
                     .p_method = uniform ? 10 : 4};
    /* A NULL second position array must not turn approx2 into approx1. */
    if (!pos1) return em_err(AF_ERR_ARG, fn, "argument %d (positions) is NULL", q.p_pos1);
    return approx_common(&q);
}

af_err af_approx2(af_array *out, const af_array in, const af_array pos0, const af_array pos1,
                  const af_interp_type method, const float off_grid) {
    return approx2_any(__func__, out, false, in, pos0, 0, 0.0, 1.0, pos1, 1, 0.0, 1.0, method,
                       off_grid, false);
}

af_err af_approx2_v2(af_array *out, const af_array in, const af_array pos0, const af_array pos1,
                     const af_interp_type method, const float off_grid) {
    return approx2_any(__func__, out, true, in, pos0, 0, 0.0, 1.0, pos1, 1, 0.0, 1.0, method,
                       off_grid, false);
}

af_err af_approx2_uniform(af_array *out, const af_array in, const af_array pos0,
                          const int interp_dim0, const double idx_start_dim0,
                          const double idx_step_dim0, const af_array pos1, const int interp_dim1,
                          const double idx_start_dim1, const double idx_step_dim1,
                          const af_interp_type method, const float off_grid) {
    return approx2_any(__func__, out, false, in, pos0, interp_dim0, idx_start_dim0, idx_step_dim0,
                       pos1, interp_dim1, idx_start_dim1, idx_step_dim1, method, off_grid, true);
}

af_err af_approx2_uniform_v2(af_array *out, const af_array in, const af_array pos0,
                             const int interp_dim0, const double idx_start_dim0,
                             const double idx_step_dim0, const af_array pos1, const int interp_dim1,
                             const double idx_start_dim1, const double idx_step_dim1,
                             const af_interp_type method, const float off_grid) {
    return approx2_any(__func__, out, true, in, pos0, interp_dim0, idx_start_dim0, idx_step_dim0,
                       pos1, interp_dim1, idx_start_dim1, idx_step_dim1, method, off_grid, true);
}
