/* signal.h: the FFT family (af_fft*, af_ifft*, the _inplace, r2c and c2r forms) and
 * af_set_fft_plan_cache_size.
 *
 * ArrayFire's rules, from its src/api/c/fft.cpp and fft_common.hpp:
 * - An empty input is returned as it is (a new handle to the same array), before any other check.
 * - A rank-r transform needs an input of at least r dims (AF_ERR_SIZE); dims r..3 are batched.
 * - c2c transforms take f32, f64, c32 and c64; real inputs are promoted to the complex type of
 *   the same precision. r2c takes f32/f64, c2r c32/c64; the _inplace forms only c32/c64.
 * - The odim/pad arguments zero-pad or truncate the first r dims; for fft2 and fft3 they apply
 *   only when every one of them is positive, otherwise the input's dims are kept. r2c pads the
 *   same way and halves dim 0 to n/2+1; c2r makes dim 0 2*(n-1)+is_odd.
 * - Transforms are unnormalised; norm_factor multiplies the result.
 *
 * Ember reads a dense complex input where it lies and transforms it straight into the output; a
 * real, padded or strided input is converted into the output buffer by one window copy and then
 * transformed there in place. c2r transforms a scratch copy, since FFT libraries may overwrite
 * the input of a c2r transform. */
#include <af/signal.h>

#include "../core/dev.h"
#include "signal_util.h"

#include <string.h>

/* Runs one transform through the backend (signal_util.h). */
static af_err fft_run(const char *fn, int dev, em_fft_kind kind, bool forward, bool dbl, int rank,
                      const dim_t dims[4], double scale, const void *in, void *out) {
    return em_sig_fft(fn, dev, kind, forward, dbl, rank, dims, scale, in, out);
}

static af_err check_rank(const char *fn, int pos, const em_array *a, int rank) {
    unsigned nd = em_dims_ndims(a->dims);
    if ((int)nd < rank)
        return em_err(AF_ERR_SIZE, fn,
                      "argument %d (in) has %u dims ([%lld %lld %lld %lld]); a rank-%d "
                      "transform needs at least %d",
                      pos, nd, (long long)a->dims[0], (long long)a->dims[1], (long long)a->dims[2],
                      (long long)a->dims[3], rank, rank);
    return AF_SUCCESS;
}

/* fft, fft2, fft3 and their inverses. pad holds `npad` lengths (0: keep the input's dims). */
static af_err fft_common(const char *fn, af_array *out, const af_array in, double norm, int rank,
                         bool forward, int npad, const dim_t *pad) {
    af_err err = AF_SUCCESS;
    em_array *a, *res = NULL;
    em_buf *sb = NULL;
    EM_ARG_NULL_FN(out, 0, "out");
    EM_GET_FN(a, in, 1);
    if (em_array_elements(a) == 0) {
        EM_TRY_FN(em_array_share(a, &res));
        *out = res;
        return AF_SUCCESS;
    }
    EM_TRY_FN(em_sig_check_dev(fn, 1, a));
    EM_TRY_FN(check_rank(fn, 1, a, rank));
    if (a->type != f32 && a->type != f64 && a->type != c32 && a->type != c64)
        EM_FAIL_FN(AF_ERR_TYPE, "argument 1 (in): dtype %s; an FFT takes f32, f64, c32 or c64",
                   em_dtype_name(a->type));
    EM_NEED_SLOT(signal, fft);
    dim_t pd[4];
    memcpy(pd, a->dims, sizeof(pd));
    bool same = true;
    for (int k = 0; k < npad; k++) {
        pd[k] = pad[k];
        same = same && pd[k] == a->dims[k];
    }
    af_dtype ct = em_sig_complex_of(a->type);
    bool dbl = em_dtype_is_double(a->type);
    EM_TRY_FN(em_array_eval(a));
    EM_TRY_FN(em_sig_alloc(fn, ct, pd, &res));
    if (em_dtype_is_complex(a->type) && same && em_array_is_dense(a)) {
        /* Straight from the input into the output: no copy. */
        const void *src = (const char *)a->buf->ptr + (size_t)a->offset * em_dtype_size(a->type);
        EM_TRY_FN(
            fft_run(fn, a->dev, EM_FFT_C2C, forward, dbl, rank, pd, norm, src, res->buf->ptr));
    } else {
        const void *src;
        dim_t st[4];
        EM_TRY_FN(em_sig_source(fn, a, &sb, &src, st));
        EM_TRY_FN(em_sig_window(fn, a->dev, ct, pd, res->buf->ptr, a->type, a->dims, st, src, NULL,
                                1.0, false));
        em_buf_release(sb);
        sb = NULL;
        EM_TRY_FN(fft_run(fn, a->dev, EM_FFT_C2C, forward, dbl, rank, pd, norm, res->buf->ptr,
                          res->buf->ptr));
    }
    *out = res;
    return AF_SUCCESS;
fail:
    if (sb) em_buf_release(sb);
    if (res) em_array_free(res);
    return err;
}

static af_err fft_inplace_common(const char *fn, af_array in, double norm, int rank, bool forward) {
    af_err err = AF_SUCCESS;
    em_array *a;
    EM_GET_FN(a, in, 0);
    if (em_array_elements(a) == 0) return AF_SUCCESS;
    EM_TRY_FN(em_sig_check_dev(fn, 0, a));
    EM_TRY_FN(check_rank(fn, 0, a, rank));
    if (a->type != c32 && a->type != c64)
        EM_FAIL_FN(AF_ERR_TYPE, "argument 0 (in): dtype %s; an in-place FFT takes c32 or c64",
                   em_dtype_name(a->type));
    EM_NEED_SLOT(signal, fft);
    EM_TRY_FN(em_array_make_unique(a));
    EM_TRY_FN(fft_run(fn, a->dev, EM_FFT_C2C, forward, a->type == c64, rank, a->dims, norm,
                      a->buf->ptr, a->buf->ptr));
    return AF_SUCCESS;
fail:
    return err;
}

static af_err r2c_common(const char *fn, af_array *out, const af_array in, double norm, int rank,
                         int npad, const dim_t *pad) {
    af_err err = AF_SUCCESS;
    em_array *a, *res = NULL;
    em_buf *sb = NULL, *tmp = NULL;
    EM_ARG_NULL_FN(out, 0, "out");
    EM_GET_FN(a, in, 1);
    if (em_array_elements(a) == 0) {
        EM_TRY_FN(em_array_share(a, &res));
        *out = res;
        return AF_SUCCESS;
    }
    EM_TRY_FN(em_sig_check_dev(fn, 1, a));
    EM_TRY_FN(check_rank(fn, 1, a, rank));
    if (a->type != f32 && a->type != f64)
        EM_FAIL_FN(AF_ERR_TYPE, "argument 1 (in): dtype %s; a real-to-complex FFT takes f32 or f64",
                   em_dtype_name(a->type));
    EM_NEED_SLOT(signal, fft);
    dim_t pd[4], od[4];
    memcpy(pd, a->dims, sizeof(pd));
    bool same = true;
    for (int k = 0; k < npad; k++) {
        pd[k] = pad[k];
        same = same && pd[k] == a->dims[k];
    }
    memcpy(od, pd, sizeof(od));
    od[0] = pd[0] / 2 + 1;
    bool dbl = a->type == f64;
    EM_TRY_FN(em_array_eval(a));
    EM_TRY_FN(em_sig_alloc(fn, dbl ? c64 : c32, od, &res));
    if (same && em_array_is_dense(a)) {
        const void *src = (const char *)a->buf->ptr + (size_t)a->offset * em_dtype_size(a->type);
        EM_TRY_FN(fft_run(fn, a->dev, EM_FFT_R2C, true, dbl, rank, pd, norm, src, res->buf->ptr));
    } else {
        const void *src;
        dim_t st[4];
        EM_TRY_FN(em_sig_source(fn, a, &sb, &src, st));
        EM_TRY_FN(
            em_buf_alloc(a->dev, (size_t)em_dims_elements(pd) * em_dtype_size(a->type), &tmp));
        EM_TRY_FN(em_sig_window(fn, a->dev, a->type, pd, tmp->ptr, a->type, a->dims, st, src, NULL,
                                1.0, false));
        em_buf_release(sb);
        sb = NULL;
        EM_TRY_FN(
            fft_run(fn, a->dev, EM_FFT_R2C, true, dbl, rank, pd, norm, tmp->ptr, res->buf->ptr));
        em_buf_release(tmp);
        tmp = NULL;
    }
    *out = res;
    return AF_SUCCESS;
fail:
    if (tmp) em_buf_release(tmp);
    if (sb) em_buf_release(sb);
    if (res) em_array_free(res);
    return err;
}

static af_err c2r_common(const char *fn, af_array *out, const af_array in, double norm, int rank,
                         bool is_odd) {
    af_err err = AF_SUCCESS;
    em_array *a, *res = NULL;
    em_buf *sb = NULL, *tmp = NULL;
    EM_ARG_NULL_FN(out, 0, "out");
    EM_GET_FN(a, in, 1);
    if (em_array_elements(a) == 0) {
        EM_TRY_FN(em_array_share(a, &res));
        *out = res;
        return AF_SUCCESS;
    }
    EM_TRY_FN(em_sig_check_dev(fn, 1, a));
    EM_TRY_FN(check_rank(fn, 1, a, rank));
    if (a->type != c32 && a->type != c64)
        EM_FAIL_FN(AF_ERR_TYPE, "argument 1 (in): dtype %s; a complex-to-real FFT takes c32 or c64",
                   em_dtype_name(a->type));
    EM_NEED_SLOT(signal, fft);
    dim_t od[4];
    memcpy(od, a->dims, sizeof(od));
    od[0] = 2 * (a->dims[0] - 1) + (is_odd ? 1 : 0);
    bool dbl = a->type == c64;
    EM_TRY_FN(em_sig_alloc(fn, dbl ? f64 : f32, od, &res));
    if (em_dims_elements(od) > 0) {
        /* The transform may overwrite its input: it reads a scratch copy. */
        const void *src;
        dim_t st[4];
        EM_TRY_FN(em_sig_source(fn, a, &sb, &src, st));
        EM_TRY_FN(
            em_buf_alloc(a->dev, (size_t)em_array_elements(a) * em_dtype_size(a->type), &tmp));
        EM_TRY_FN(em_sig_window(fn, a->dev, a->type, a->dims, tmp->ptr, a->type, a->dims, st, src,
                                NULL, 1.0, false));
        em_buf_release(sb);
        sb = NULL;
        EM_TRY_FN(
            fft_run(fn, a->dev, EM_FFT_C2R, false, dbl, rank, od, norm, tmp->ptr, res->buf->ptr));
        em_buf_release(tmp);
        tmp = NULL;
    }
    *out = res;
    return AF_SUCCESS;
fail:
    if (tmp) em_buf_release(tmp);
    if (sb) em_buf_release(sb);
    if (res) em_array_free(res);
    return err;
}

af_err af_fft(af_array *out, const af_array in, const double norm_factor, const dim_t odim0) {
    const dim_t pad[1] = {odim0};
    return fft_common(__func__, out, in, norm_factor, 1, true, odim0 > 0 ? 1 : 0, pad);
}

af_err af_fft2(af_array *out, const af_array in, const double norm_factor, const dim_t odim0,
               const dim_t odim1) {
    const dim_t pad[2] = {odim0, odim1};
    return fft_common(__func__, out, in, norm_factor, 2, true, odim0 > 0 && odim1 > 0 ? 2 : 0, pad);
}

af_err af_fft3(af_array *out, const af_array in, const double norm_factor, const dim_t odim0,
               const dim_t odim1, const dim_t odim2) {
    const dim_t pad[3] = {odim0, odim1, odim2};
    return fft_common(__func__, out, in, norm_factor, 3, true,
                      odim0 > 0 && odim1 > 0 && odim2 > 0 ? 3 : 0, pad);
}

af_err af_ifft(af_array *out, const af_array in, const double norm_factor, const dim_t odim0) {
    const dim_t pad[1] = {odim0};
    return fft_common(__func__, out, in, norm_factor, 1, false, odim0 > 0 ? 1 : 0, pad);
}

af_err af_ifft2(af_array *out, const af_array in, const double norm_factor, const dim_t odim0,
                const dim_t odim1) {
    const dim_t pad[2] = {odim0, odim1};
    return fft_common(__func__, out, in, norm_factor, 2, false, odim0 > 0 && odim1 > 0 ? 2 : 0,
                      pad);
}

af_err af_ifft3(af_array *out, const af_array in, const double norm_factor, const dim_t odim0,
                const dim_t odim1, const dim_t odim2) {
    const dim_t pad[3] = {odim0, odim1, odim2};
    return fft_common(__func__, out, in, norm_factor, 3, false,
                      odim0 > 0 && odim1 > 0 && odim2 > 0 ? 3 : 0, pad);
}

af_err af_fft_inplace(af_array in, const double norm_factor) {
    return fft_inplace_common(__func__, in, norm_factor, 1, true);
}

af_err af_fft2_inplace(af_array in, const double norm_factor) {
    return fft_inplace_common(__func__, in, norm_factor, 2, true);
}

af_err af_fft3_inplace(af_array in, const double norm_factor) {
    return fft_inplace_common(__func__, in, norm_factor, 3, true);
}

af_err af_ifft_inplace(af_array in, const double norm_factor) {
    return fft_inplace_common(__func__, in, norm_factor, 1, false);
}

af_err af_ifft2_inplace(af_array in, const double norm_factor) {
    return fft_inplace_common(__func__, in, norm_factor, 2, false);
}

af_err af_ifft3_inplace(af_array in, const double norm_factor) {
    return fft_inplace_common(__func__, in, norm_factor, 3, false);
}

af_err af_fft_r2c(af_array *out, const af_array in, const double norm_factor, const dim_t pad0) {
    const dim_t pad[1] = {pad0};
    return r2c_common(__func__, out, in, norm_factor, 1, pad0 > 0 ? 1 : 0, pad);
}

af_err af_fft2_r2c(af_array *out, const af_array in, const double norm_factor, const dim_t pad0,
                   const dim_t pad1) {
    const dim_t pad[2] = {pad0, pad1};
    return r2c_common(__func__, out, in, norm_factor, 2, pad0 > 0 && pad1 > 0 ? 2 : 0, pad);
}

af_err af_fft3_r2c(af_array *out, const af_array in, const double norm_factor, const dim_t pad0,
                   const dim_t pad1, const dim_t pad2) {
    const dim_t pad[3] = {pad0, pad1, pad2};
    return r2c_common(__func__, out, in, norm_factor, 3, pad0 > 0 && pad1 > 0 && pad2 > 0 ? 3 : 0,
                      pad);
}

af_err af_fft_c2r(af_array *out, const af_array in, const double norm_factor, const bool is_odd) {
    return c2r_common(__func__, out, in, norm_factor, 1, is_odd);
}

af_err af_fft2_c2r(af_array *out, const af_array in, const double norm_factor, const bool is_odd) {
    return c2r_common(__func__, out, in, norm_factor, 2, is_odd);
}

af_err af_fft3_c2r(af_array *out, const af_array in, const double norm_factor, const bool is_odd) {
    return c2r_common(__func__, out, in, norm_factor, 3, is_odd);
}

af_err af_set_fft_plan_cache_size(size_t cache_size) {
    af_err err = AF_SUCCESS;
    const char *fn = __func__;
    EM_NEED_SLOT(signal, fft_plan_cache_size);
    em_backend_self.signal->fft_plan_cache_size(cache_size);
    return AF_SUCCESS;
fail:
    return err;
}
