/* signal.h and ml.h: convolutions. af_convolve1/2/3 (spatial or frequency domain),
 * af_fft_convolve1/2/3, af_convolve2_sep, af_convolve2_nn, af_convolve2_gradient_nn, af_fir and
 * af_iir.
 *
 * ArrayFire's rules (src/api/c/convolve.cpp, fftconvolve.cpp, iir.cpp):
 * - Batching, by the number of dims (ndims) of signal and filter against the rank r: both r dims:
 *   one convolution; signal r, filter more: one signal with many filters; signal more, filter r:
 *   many signals with one filter; both more with equal dims r..3: pairwise; both more with each
 *   dim equal or 1 ("interleaved"): every pairing, which only the frequency domain does; anything
 *   else is AF_ERR_ARG. The output's batch dims are the larger of the two.
 * - AF_CONV_DEFAULT keeps the signal's size (the filter's centre at index len/2); AF_CONV_EXPAND
 *   gives size s + f - 1.
 * - af_convolve2 of a signal or filter with fewer than 2 dims is af_convolve1; af_convolve3 with
 *   fewer than 3 is af_convolve2; af_fft_convolve2/3 reduce only when both have fewer dims.
 * - Spatial: dtypes c32 c64 f32 f64 u32 s32 u16 s16 u64 s64 u8 b8; the filter is cast to the
 *   accumulation type (f32 for integer and b8 signals); the output has the signal's dtype, the
 *   sum truncated toward zero for integer types. An empty signal or filter gives the signal back.
 * - Frequency: the same dtypes. For real signals the filter is first cast to the signal's dtype
 *   (so an integer signal truncates its filter), the sum is rounded to nearest for integer types.
 *   Complex signals, and the interleaved batch, cast both to complex (Ember rounds integer
 *   results there too, where ArrayFire truncates FFT noise).
 * - Casting a complex filter to a real type takes its magnitude, as ArrayFire's cast does.
 *
 * AF_CONV_AUTO. For floating-point signals Ember picks by the filter's size: a rank-r convolution
 * whose filter has at most conv_auto_taps[r-1] taps (the product of its first r dims; set per
 * backend in its signal table from measurements) runs in the spatial domain, a larger one through
 * the FFT, as does the interleaved batch, which only the FFT path can do. The two domains agree
 * to rounding for floating-point types. For integer and b8 signals, where the two domains round
 * differently, Ember keeps ArrayFire's own rule, so results match ArrayFire's bit for bit: the FFT
 * when there are 10 or more filters, or a filter longer than 128 (rank 1), larger than 17 in a dim
 * or non-square and wider than 5 (rank 2), or larger than 5 in a dim (rank 3).
 *
 * The frequency domain pads each transformed dim to the smallest product of 2, 3, 5 and 7 that
 * holds s + f - 1 (ArrayFire pads to a power of two; the result differs only by rounding), uses
 * real-to-complex transforms for real inputs, multiplies the spectra through the JIT (with the
 * batch broadcast), and crops, scales and converts the result with one window copy. */
#include <af/ml.h>
#include <af/signal.h>

#include "../core/dev.h"
#include "jit_build.h"
#include "signal_util.h"

#include <string.h>

typedef enum { BK_NONE, BK_LHS, BK_RHS, BK_SAME, BK_DIFF, BK_UNSUPPORTED } batch_kind;

static batch_kind batch_kind_of(int rank, const dim_t s[4], const dim_t f[4]) {
    int sn = (int)em_dims_ndims(s), fn = (int)em_dims_ndims(f);
    if (sn == rank && fn == rank) return BK_NONE;
    if (sn == rank && fn > rank && fn <= 4) return BK_RHS;
    if (sn > rank && sn <= 4 && fn == rank) return BK_LHS;
    if (sn > rank && sn <= 4 && fn > rank && fn <= 4) {
        bool same = true, inter = true;
        for (int k = rank; k < 4; k++) {
            same = same && s[k] == f[k];
            inter = inter && (s[k] == 1 || f[k] == 1 || s[k] == f[k]);
        }
        if (same) return BK_SAME;
        return inter ? BK_DIFF : BK_UNSUPPORTED;
    }
    return BK_UNSUPPORTED;
}

static bool conv_type_ok(af_dtype t) {
    switch (t) {
    case c32:
    case c64:
    case f32:
    case f64:
    case u32:
    case s32:
    case u16:
    case s16:
    case u64:
    case s64:
    case u8:
    case b8:
        return true;
    default:
        return false;
    }
}

static af_err conv_type_check(const char *fn, int pos, af_dtype t) {
    if (conv_type_ok(t)) return AF_SUCCESS;
    return em_err(AF_ERR_TYPE, fn,
                  "argument %d (signal): dtype %s; a convolution takes c32 c64 f32 f64 u32 s32 "
                  "u16 s16 u64 s64 u8 or b8",
                  pos, em_dtype_name(t));
}

static af_err batch_error(const char *fn, int rank, const em_array *s, const em_array *f,
                          bool diff) {
    return em_err(AF_ERR_ARG, fn,
                  "arguments 1 and 2 (signal [%lld %lld %lld %lld], filter [%lld %lld %lld "
                  "%lld]): %s for a rank-%d convolution",
                  (long long)s->dims[0], (long long)s->dims[1], (long long)s->dims[2],
                  (long long)s->dims[3], (long long)f->dims[0], (long long)f->dims[1],
                  (long long)f->dims[2], (long long)f->dims[3],
                  diff ? "interleaved batch dims need the frequency domain"
                       : "batch dims that are neither equal nor 1",
                  rank);
}

/* The accumulation type of a signal type (ArrayFire's accT). */
static af_dtype acc_of(af_dtype t) {
    return (t == f32 || t == f64 || t == c32 || t == c64) ? t : f32;
}

/* ArrayFire's AF_CONV_AUTO rule (for integer and b8 signals; see the header comment). */
static bool af_freq_rule(int rank, const dim_t f[4]) {
    dim_t kbatch = 1;
    for (int k = rank; k < 4; k++)
        kbatch *= f[k];
    if (kbatch >= 10) return true;
    if (rank == 1) return f[0] > 128;
    if (rank == 2) return f[0] > 17 || f[1] > 17 || (f[0] != f[1] && f[0] > 5);
    return f[0] > 5 || f[1] > 5 || f[2] > 5;
}

static bool use_freq(int rank, const em_array *s, const em_array *f, af_conv_domain domain) {
    if (domain == AF_CONV_FREQ) return true;
    if (domain != AF_CONV_AUTO) return false;
    if (em_array_elements(s) == 0 || em_array_elements(f) == 0) return false;
    if (batch_kind_of(rank, s->dims, f->dims) == BK_DIFF) return true;
    if (!em_dtype_is_float(s->type) || s->type == f16) return af_freq_rule(rank, f->dims);
    dim_t taps = 1;
    for (int k = 0; k < rank; k++)
        taps *= f->dims[k];
    const struct em_signal_ops *ops = em_backend_self.signal;
    dim_t limit = ops ? ops->conv_auto_taps[rank - 1] : 0;
    return taps > limit;
}

/* Output dims: base dims s+f-1 (expand) or s, fir keeps s0; batch dims the larger. */
static void conv_out_dims(int rank, bool expand, bool fir, const dim_t s[4], const dim_t f[4],
                          dim_t od[4], dim_t start[3]) {
    for (int k = 0; k < 4; k++) {
        if (k < rank) {
            od[k] = expand ? s[k] + f[k] - 1 : s[k];
            if (fir) od[k] = s[k];
            if (k < 3) start[k] = (expand || fir) ? 0 : f[k] / 2;
        } else {
            od[k] = s[k] > f[k] ? s[k] : f[k];
            if (k < 3) start[k] = 0;
        }
    }
}

/* ---- spatial -------------------------------------------------------------------------------- */

static af_err conv_spatial(const char *fn, em_array *s, em_array *f, int rank, bool expand,
                           bool fir, em_array **out) {
    af_err err = AF_SUCCESS;
    em_buf *sb = NULL, *fb = NULL;
    void *sp, *fp;
    em_array *res = NULL;
    EM_NEED_SLOT(signal, convolve);
    em_conv_desc d;
    memset(&d, 0, sizeof(d));
    d.rank = rank;
    d.type = s->type;
    d.acc = acc_of(s->type);
    memcpy(d.sdims, s->dims, sizeof(d.sdims));
    memcpy(d.fdims, f->dims, sizeof(d.fdims));
    conv_out_dims(rank, expand, fir, s->dims, f->dims, d.odims, d.start);
    EM_TRY_FN(em_sig_dense_as(fn, f, d.acc, &fb, &fp));
    EM_TRY_FN(em_sig_dense_as(fn, s, s->type, &sb, &sp));
    EM_TRY_FN(em_sig_alloc(fn, s->type, d.odims, &res));
    if (em_dims_elements(d.odims) > 0)
        EM_TRY_FN(em_backend_self.signal->convolve(s->dev, &d, res->buf->ptr, sp, fp));
    em_buf_release(sb);
    em_buf_release(fb);
    *out = res;
    return AF_SUCCESS;
fail:
    if (sb) em_buf_release(sb);
    if (fb) em_buf_release(fb);
    if (res) em_array_free(res);
    return err;
}

/* ---- frequency ------------------------------------------------------------------------------ */

/* The smallest n' >= n whose only prime factors are 2, 3, 5 and 7: lengths FFT libraries do fast.
 */
static dim_t good_size(dim_t n) {
    for (dim_t m = n > 1 ? n : 1;; m++) {
        dim_t r = m;
        static const int pr[] = {2, 3, 5, 7};
        for (int i = 0; i < 4; i++)
            while (r % pr[i] == 0)
                r /= pr[i];
        if (r == 1) return m;
    }
}

/* out (od) = a (ad) * b (bd) elementwise through the JIT, a dim of 1 broadcasting; out may be the
 * buffer of an operand that has the output's dims (each element is read before it is written). */
static af_err spectra_mul(const char *fn, int dev, af_dtype t, void *out, const dim_t od[4],
                          em_buf *ab, const dim_t ad[4], em_buf *bb, const dim_t bd[4]) {
    af_err err = AF_SUCCESS;
    em_array *A = NULL, *B = NULL;
    em_node *na = NULL, *nb = NULL, *n = NULL;
    em_jit_prog prog;
    bool built = false;
    em_buf_retain(ab);
    EM_TRY_FN(em_array_from_buf(ab, t, ad, NULL, 0, dev, &A));
    em_buf_retain(bb);
    EM_TRY_FN(em_array_from_buf(bb, t, bd, NULL, 0, dev, &B));
    EM_TRY_FN(em_array_node(A, od, &na));
    EM_TRY_FN(em_array_node(B, od, &nb));
    n = em_jit_op2(EM_OP_MUL, t, na, nb);
    na = nb = NULL;
    if (!n) EM_FAIL_FN(AF_ERR_NO_MEM, "out of host memory for a JIT node");
    EM_TRY_FN(em_jit_prog_build(&n, 1, &prog));
    built = true;
    void *outs[1] = {out};
    EM_TRY_FN(em_backend_self.jit_eval(dev, &prog, outs));
fail:
    if (built) em_jit_prog_free(&prog);
    if (n) em_node_release(n);
    if (na) em_node_release(na);
    if (nb) em_node_release(nb);
    if (A) em_array_free(A);
    if (B) em_array_free(B);
    return err;
}

/* One FFT call over dims d: rank transformed, the rest batched (signal_util.h). */
static af_err fft_call(const char *fn, int dev, em_fft_kind kind, bool forward, bool dbl, int rank,
                       const dim_t d[4], const void *in, void *out) {
    return em_sig_fft(fn, dev, kind, forward, dbl, rank, d, 1.0, in, out);
}

/* Pads `a` (read as dtype src_type from sp with strides st) into a fresh buffer of dtype wt with
 * base dims P and a's batch dims. */
static af_err pad_into(const char *fn, int dev, int rank, const dim_t P[3], const dim_t dims[4],
                       af_dtype wt, af_dtype src_type, const void *sp, const dim_t st[4],
                       em_buf **out, dim_t pd[4]) {
    af_err err = AF_SUCCESS;
    for (int k = 0; k < 4; k++)
        pd[k] = k < rank ? P[k] : dims[k];
    EM_TRY_FN(em_buf_alloc(dev, (size_t)em_dims_elements(pd) * em_dtype_size(wt), out));
    err = em_sig_window(fn, dev, wt, pd, (*out)->ptr, src_type, dims, st, sp, NULL, 1.0, false);
    if (err != AF_SUCCESS) {
        em_buf_release(*out);
        *out = NULL;
    }
fail:
    return err;
}

static af_err conv_freq(const char *fn, em_array *s, em_array *f, int rank, bool expand, bool fir,
                        batch_kind kind, em_array **out) {
    af_err err = AF_SUCCESS;
    em_buf *fcast = NULL, *sp = NULL, *fp = NULL, *S = NULL, *F = NULL, *Y = NULL, *R = NULL,
           *ssrc = NULL;
    em_array *res = NULL;
    const af_dtype T = s->type;
    const bool fallback = em_dtype_is_complex(T) || kind == BK_DIFF;
    const bool cpx = em_dtype_is_complex(T);
    const bool dbl = T == f64 || T == c64;
    const af_dtype rt = dbl ? f64 : f32, ct = dbl ? c64 : c32, wt = cpx ? ct : rt;
    const int dev = s->dev;
    EM_NEED_SLOT(signal, fft);
    EM_NEED_SLOT(signal, window);
    dim_t od[4], start[3], P[3] = {1, 1, 1};
    conv_out_dims(rank, expand, fir, s->dims, f->dims, od, start);
    double count = 1;
    for (int k = 0; k < rank; k++) {
        P[k] = good_size(s->dims[k] + f->dims[k] - 1);
        count *= (double)P[k];
    }
    EM_TRY_FN(em_sig_alloc(fn, T, od, &res));
    if (em_dims_elements(od) == 0) {
        *out = res;
        return AF_SUCCESS;
    }
    /* The signal in the working type, zero padded (every signal dtype converts to its working
     * type directly in the window copy). */
    const void *sptr;
    dim_t sst[4];
    EM_TRY_FN(em_sig_source(fn, s, &ssrc, &sptr, sst));
    dim_t spd[4], fpd[4];
    EM_TRY_FN(pad_into(fn, dev, rank, P, s->dims, wt, T, sptr, sst, &sp, spd));
    /* The filter: cast to the signal's type first (ArrayFire's castArray<T>), or for the
     * fallback straight to the working type, then padded. */
    af_dtype ftype = fallback ? wt : T;
    {
        void *p;
        EM_TRY_FN(em_sig_dense_as(fn, f, ftype, &fcast, &p));
        dim_t fst[4];
        em_dims_dense_strides(f->dims, fst);
        EM_TRY_FN(pad_into(fn, dev, rank, P, f->dims, wt, ftype, p, fst, &fp, fpd));
    }
    em_buf_release(fcast);
    fcast = NULL;
    if (ssrc) em_buf_release(ssrc);
    ssrc = NULL;
    /* Spectra. */
    dim_t shd[4], fhd[4], ohd[4], opd[4];
    memcpy(shd, spd, sizeof(shd));
    memcpy(fhd, fpd, sizeof(fhd));
    for (int k = 0; k < 4; k++)
        opd[k] = k < rank ? P[k] : od[k];
    if (!cpx) {
        shd[0] = fhd[0] = P[0] / 2 + 1;
        EM_TRY_FN(em_buf_alloc(dev, (size_t)em_dims_elements(shd) * em_dtype_size(ct), &S));
        EM_TRY_FN(em_buf_alloc(dev, (size_t)em_dims_elements(fhd) * em_dtype_size(ct), &F));
        EM_TRY_FN(fft_call(fn, dev, EM_FFT_R2C, true, dbl, rank, spd, sp->ptr, S->ptr));
        EM_TRY_FN(fft_call(fn, dev, EM_FFT_R2C, true, dbl, rank, fpd, fp->ptr, F->ptr));
        em_buf_release(sp);
        em_buf_release(fp);
        sp = fp = NULL;
    } else {
        EM_TRY_FN(fft_call(fn, dev, EM_FFT_C2C, true, dbl, rank, spd, sp->ptr, sp->ptr));
        EM_TRY_FN(fft_call(fn, dev, EM_FFT_C2C, true, dbl, rank, fpd, fp->ptr, fp->ptr));
        S = sp;
        F = fp;
        sp = fp = NULL;
    }
    /* The product, with the batch broadcast, into whichever spectrum has the output's batch. */
    memcpy(ohd, shd, sizeof(ohd));
    for (int k = rank; k < 4; k++)
        ohd[k] = od[k];
    bool into_s = memcmp(ohd, shd, sizeof(ohd)) == 0, into_f = memcmp(ohd, fhd, sizeof(ohd)) == 0;
    if (into_s) {
        Y = S;
        em_buf_retain(Y);
    } else if (into_f) {
        Y = F;
        em_buf_retain(Y);
    } else {
        EM_TRY_FN(em_buf_alloc(dev, (size_t)em_dims_elements(ohd) * em_dtype_size(ct), &Y));
    }
    EM_TRY_FN(spectra_mul(fn, dev, ct, Y->ptr, ohd, S, shd, F, fhd));
    em_buf_release(S);
    em_buf_release(F);
    S = F = NULL;
    /* Back to the spatial domain, then crop, scale and convert. */
    if (!cpx) {
        EM_TRY_FN(em_buf_alloc(dev, (size_t)em_dims_elements(opd) * em_dtype_size(rt), &R));
        EM_TRY_FN(fft_call(fn, dev, EM_FFT_C2R, false, dbl, rank, opd, Y->ptr, R->ptr));
        em_buf_release(Y);
        Y = NULL;
    } else {
        EM_TRY_FN(fft_call(fn, dev, EM_FFT_C2C, false, dbl, rank, opd, Y->ptr, Y->ptr));
        R = Y;
        Y = NULL;
    }
    dim_t rst[4], off[4] = {0, 0, 0, 0};
    em_dims_dense_strides(opd, rst);
    for (int k = 0; k < rank; k++)
        off[k] = start[k];
    /* ArrayFire rounds integer outputs on its packed path but truncates on its complex fallback
     * (the interleaved batch), where FFT noise then turns an exact 4 into 3.9999 and 3. Ember
     * rounds on both. */
    bool round = !em_dtype_is_float(T);
    EM_TRY_FN(em_sig_window(fn, dev, T, od, res->buf->ptr, wt, opd, rst, R->ptr, off, 1.0 / count,
                            round));
    em_buf_release(R);
    *out = res;
    return AF_SUCCESS;
fail : {
    em_buf *all[] = {fcast, sp, fp, S, F, Y, R, ssrc};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        if (all[i]) em_buf_release(all[i]);
}
    if (res) em_array_free(res);
    return err;
}

/* The frequency-domain entry: ArrayFire's fft_convolve checks, then conv_freq. */
static af_err freq_entry(const char *fn, em_array *s, em_array *f, int rank, bool expand, bool fir,
                         em_array **out) {
    batch_kind kind = batch_kind_of(rank, s->dims, f->dims);
    if (kind == BK_UNSUPPORTED) return batch_error(fn, rank, s, f, false);
    af_err err = conv_type_check(fn, 1, s->type);
    if (err != AF_SUCCESS) return err;
    return conv_freq(fn, s, f, rank, expand, fir, kind, out);
}

/* The spatial entry: an empty signal or filter gives the signal back; the interleaved batch is an
 * error here. */
static af_err spatial_entry(const char *fn, em_array *s, em_array *f, int rank, bool expand,
                            bool fir, em_array **out) {
    if (em_array_elements(s) == 0 || em_array_elements(f) == 0) return em_array_share(s, out);
    batch_kind kind = batch_kind_of(rank, s->dims, f->dims);
    if (kind == BK_UNSUPPORTED || kind == BK_DIFF) return batch_error(fn, rank, s, f, true);
    af_err err = conv_type_check(fn, 1, s->type);
    if (err != AF_SUCCESS) return err;
    return conv_spatial(fn, s, f, rank, expand, fir, out);
}

static af_err get_pair(const char *fn, const af_array signal, const af_array filter, em_array **s,
                       em_array **f) {
    af_err err = AF_SUCCESS;
    EM_GET_FN(*s, signal, 1);
    EM_GET_FN(*f, filter, 2);
    EM_TRY_FN(em_sig_check_dev(fn, 1, *s));
    EM_TRY_FN(em_sig_check_dev(fn, 2, *f));
fail:
    return err;
}

static af_err convolve_common(const char *fn, af_array *out, const af_array signal,
                              const af_array filter, af_conv_mode mode, af_conv_domain domain,
                              int rank) {
    af_err err = AF_SUCCESS;
    em_array *s, *f, *res = NULL;
    EM_ARG_NULL_FN(out, 0, "out");
    EM_TRY_FN(get_pair(fn, signal, filter, &s, &f));
    if (rank == 3 && (em_dims_ndims(s->dims) < 3 || em_dims_ndims(f->dims) < 3)) rank = 2;
    if (rank == 2 && (em_dims_ndims(s->dims) < 2 || em_dims_ndims(f->dims) < 2)) rank = 1;
    bool expand = mode == AF_CONV_EXPAND;
    if (use_freq(rank, s, f, domain))
        EM_TRY_FN(freq_entry(fn, s, f, rank, expand, false, &res));
    else
        EM_TRY_FN(spatial_entry(fn, s, f, rank, expand, false, &res));
    *out = res;
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_convolve1(af_array *out, const af_array signal, const af_array filter,
                    const af_conv_mode mode, af_conv_domain domain) {
    return convolve_common(__func__, out, signal, filter, mode, domain, 1);
}

af_err af_convolve2(af_array *out, const af_array signal, const af_array filter,
                    const af_conv_mode mode, af_conv_domain domain) {
    return convolve_common(__func__, out, signal, filter, mode, domain, 2);
}

af_err af_convolve3(af_array *out, const af_array signal, const af_array filter,
                    const af_conv_mode mode, af_conv_domain domain) {
    return convolve_common(__func__, out, signal, filter, mode, domain, 3);
}

static af_err fft_convolve_common(const char *fn, af_array *out, const af_array signal,
                                  const af_array filter, af_conv_mode mode, int rank) {
    af_err err = AF_SUCCESS;
    em_array *s, *f, *res = NULL;
    EM_ARG_NULL_FN(out, 0, "out");
    EM_TRY_FN(get_pair(fn, signal, filter, &s, &f));
    if (rank == 3 && em_dims_ndims(s->dims) < 3 && em_dims_ndims(f->dims) < 3) rank = 2;
    if (rank == 2 && em_dims_ndims(s->dims) < 2 && em_dims_ndims(f->dims) < 2) rank = 1;
    EM_TRY_FN(freq_entry(fn, s, f, rank, mode == AF_CONV_EXPAND, false, &res));
    *out = res;
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_fft_convolve1(af_array *out, const af_array signal, const af_array filter,
                        const af_conv_mode mode) {
    return fft_convolve_common(__func__, out, signal, filter, mode, 1);
}

af_err af_fft_convolve2(af_array *out, const af_array signal, const af_array filter,
                        const af_conv_mode mode) {
    return fft_convolve_common(__func__, out, signal, filter, mode, 2);
}

af_err af_fft_convolve3(af_array *out, const af_array signal, const af_array filter,
                        const af_conv_mode mode) {
    return fft_convolve_common(__func__, out, signal, filter, mode, 3);
}

/* ---- fir and iir ---------------------------------------------------------------------------- */

/* y = the first x.dims[0] values of convolve1(x, b, AF_CONV_EXPAND, AF_CONV_AUTO). */
static af_err fir_impl(const char *fn, em_array *b, em_array *x, em_array **out) {
    if (use_freq(1, x, b, AF_CONV_AUTO)) return freq_entry(fn, x, b, 1, true, true, out);
    return spatial_entry(fn, x, b, 1, true, true, out);
}

af_err af_fir(af_array *y, const af_array b, const af_array x) {
    af_err err = AF_SUCCESS;
    const char *fn = __func__;
    em_array *bb, *xx, *res = NULL;
    EM_ARG_NULL(y, 0);
    EM_GET(bb, b, 1);
    EM_GET(xx, x, 2);
    EM_TRY(em_sig_check_dev(fn, 1, bb));
    EM_TRY(em_sig_check_dev(fn, 2, xx));
    EM_TRY(fir_impl(fn, bb, xx, &res));
    *y = res;
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_iir(af_array *y, const af_array b, const af_array a, const af_array x) {
    af_err err = AF_SUCCESS;
    const char *fn = __func__;
    em_array *bb, *aa, *xx, *res = NULL, *c = NULL, *bnorm = NULL;
    em_buf *abuf = NULL;
    EM_ARG_NULL(y, 0);
    EM_GET(bb, b, 1);
    EM_GET(aa, a, 2);
    EM_GET(xx, x, 3);
    EM_TRY(em_sig_check_dev(fn, 1, bb));
    EM_TRY(em_sig_check_dev(fn, 2, aa));
    EM_TRY(em_sig_check_dev(fn, 3, xx));
    if (aa->type != xx->type)
        EM_FAIL(AF_ERR_ARG, "argument 2 (a): dtype %s, must be x's dtype %s",
                em_dtype_name(aa->type), em_dtype_name(xx->type));
    if (bb->type != xx->type)
        EM_FAIL(AF_ERR_ARG, "argument 1 (b): dtype %s, must be x's dtype %s",
                em_dtype_name(bb->type), em_dtype_name(xx->type));
    unsigned an = em_dims_ndims(aa->dims), bn = em_dims_ndims(bb->dims),
             xn = em_dims_ndims(xx->dims);
    if (an != bn)
        EM_FAIL(AF_ERR_ARG, "arguments 1 and 2 (b, a): %u and %u dims, must be equal", bn, an);
    if (em_array_elements(xx) == 0) {
        EM_TRY(em_array_share(xx, &res));
        *y = res;
        return AF_SUCCESS;
    }
    if (xn > 1 && bn > 1)
        for (int k = 1; k < 3; k++)
            if (bb->dims[k] != xx->dims[k])
                EM_FAIL(AF_ERR_ARG, "argument 1 (b): dims[%d] = %lld, must be x's %lld", k,
                        (long long)bb->dims[k], (long long)xx->dims[k]);
    if (aa->dims[0] == 1) {
        /* Only a0: normalise b and run the FIR filter. */
        EM_TRY(em_jit_binary(fn, EM_OP_DIV, bb, aa, true, bb->type, bb->type, &bnorm));
        err = fir_impl(fn, bnorm, xx, &res);
        em_array_free(bnorm);
        if (err != AF_SUCCESS) goto fail;
        *y = res;
        return AF_SUCCESS;
    }
    if (xx->type != f32 && xx->type != f64 && xx->type != c32 && xx->type != c64)
        EM_FAIL(AF_ERR_TYPE, "argument 3 (x): dtype %s; iir takes f32, f64, c32 or c64",
                em_dtype_name(xx->type));
    EM_NEED_SLOT(signal, iir);
    for (int k = 1; k < 4; k++)
        if (bb->dims[k] != 1 && xx->dims[k] != 1 && bb->dims[k] != xx->dims[k])
            EM_FAIL(AF_ERR_ARG, "argument 1 (b): dims[%d] = %lld does not batch with x's %lld", k,
                    (long long)bb->dims[k], (long long)xx->dims[k]);
    /* The FIR part, spatially, as ArrayFire's iir does. */
    EM_TRY(conv_spatial(fn, xx, bb, 1, true, true, &c));
    if (an > 1)
        for (int k = 1; k < 4; k++)
            if (aa->dims[k] != 1 && aa->dims[k] != c->dims[k])
                EM_FAIL(AF_ERR_ARG, "argument 2 (a): dims[%d] = %lld, must be 1 or %lld", k,
                        (long long)aa->dims[k], (long long)c->dims[k]);
    void *ap;
    EM_TRY(em_sig_dense_as(fn, aa, aa->type, &abuf, &ap));
    EM_TRY(em_sig_alloc(fn, xx->type, c->dims, &res));
    dim_t ad[4] = {aa->dims[0], 1, 1, 1};
    if (an > 1) memcpy(ad, aa->dims, sizeof(ad));
    EM_TRY(em_backend_self.signal->iir(xx->dev, xx->type, res->buf->ptr, c->buf->ptr, c->dims, ap,
                                       ad));
    em_buf_release(abuf);
    em_array_free(c);
    *y = res;
    return AF_SUCCESS;
fail:
    if (abuf) em_buf_release(abuf);
    if (c) em_array_free(c);
    if (res) em_array_free(res);
    return err;
}

/* ---- separable ------------------------------------------------------------------------------ */

static bool is_vector(const dim_t d[4]) {
    int ones = 0, big = 0;
    for (int k = 0; k < 4; k++) {
        ones += d[k] == 1;
        big += d[k] != 0 && d[k] != 1;
    }
    return ones == 3 && big == 1;
}

/* A JIT input of `a` at dims, converted to `type` as ArrayFire's cast does (complex to real
 * takes the magnitude). */
static af_err afcast_input(const em_array *a, const dim_t dims[4], af_dtype type, em_node **out) {
    em_node *n = NULL;
    af_err err = em_jit_input(a, dims, a->type, &n);
    if (err != AF_SUCCESS) return err;
    if (em_dtype_is_complex(a->type) && !em_dtype_is_complex(type))
        n = em_jit_op1(EM_OP_ABS, em_dtype_real_of(a->type), n);
    n = em_jit_cast(n, type);
    if (!n) return em_err(AF_ERR_NO_MEM, __func__, "out of host memory for a JIT node");
    *out = n;
    return AF_SUCCESS;
}

af_err af_convolve2_sep(af_array *out, const af_array col_filter, const af_array row_filter,
                        const af_array signal, const af_conv_mode mode) {
    af_err err = AF_SUCCESS;
    const char *fn = __func__;
    em_array *cf, *rf, *s, *res = NULL;
    em_buf *sb = NULL, *cb = NULL, *rb = NULL;
    em_node *n = NULL;
    EM_ARG_NULL(out, 0);
    EM_GET(cf, col_filter, 1);
    EM_GET(rf, row_filter, 2);
    EM_GET(s, signal, 3);
    EM_TRY(em_sig_check_dev(fn, 1, cf));
    EM_TRY(em_sig_check_dev(fn, 2, rf));
    EM_TRY(em_sig_check_dev(fn, 3, s));
    if (em_dims_ndims(s->dims) < 2)
        EM_FAIL(AF_ERR_ARG, "argument 3 (signal): %u dims, a separable convolution needs 2 or more",
                em_dims_ndims(s->dims));
    EM_TRY(conv_type_check(fn, 3, s->type));
    af_dtype acc = acc_of(s->type);
    if (em_array_elements(cf) == 1 && em_array_elements(rf) == 1) {
        /* Two scalars: the signal scaled by both, in the accumulation type. */
        em_node *ns = NULL, *nc = NULL, *nr = NULL;
        EM_TRY(afcast_input(s, s->dims, acc, &ns));
        err = afcast_input(cf, s->dims, acc, &nc);
        if (err == AF_SUCCESS) err = afcast_input(rf, s->dims, acc, &nr);
        if (err != AF_SUCCESS) {
            if (ns) em_node_release(ns);
            if (nc) em_node_release(nc);
            em_err_attribute(fn);
            goto fail;
        }
        n = em_jit_cast(em_jit_op2(EM_OP_MUL, acc, ns, em_jit_op2(EM_OP_MUL, acc, nc, nr)),
                        s->type);
        EM_TRY(em_jit_finish(fn, n, s->dev, &res));
        n = NULL;
        *out = res;
        return AF_SUCCESS;
    }
    if (!is_vector(cf->dims))
        EM_FAIL(AF_ERR_ARG, "argument 1 (col_filter): dims [%lld %lld %lld %lld], must be a vector",
                (long long)cf->dims[0], (long long)cf->dims[1], (long long)cf->dims[2],
                (long long)cf->dims[3]);
    if (!is_vector(rf->dims))
        EM_FAIL(AF_ERR_ARG, "argument 2 (row_filter): dims [%lld %lld %lld %lld], must be a vector",
                (long long)rf->dims[0], (long long)rf->dims[1], (long long)rf->dims[2],
                (long long)rf->dims[3]);
    EM_NEED_SLOT(signal, convolve_sep);
    em_conv_sep_desc d;
    memset(&d, 0, sizeof(d));
    d.type = s->type;
    d.acc = acc;
    memcpy(d.sdims, s->dims, sizeof(d.sdims));
    d.clen = em_array_elements(cf);
    d.rlen = em_array_elements(rf);
    d.expand = mode == AF_CONV_EXPAND;
    memcpy(d.odims, s->dims, sizeof(d.odims));
    if (d.expand) {
        d.odims[0] += d.clen - 1;
        d.odims[1] += d.rlen - 1;
    }
    void *sp, *cp, *rp;
    EM_TRY(em_sig_dense_as(fn, cf, acc, &cb, &cp));
    EM_TRY(em_sig_dense_as(fn, rf, acc, &rb, &rp));
    EM_TRY(em_sig_dense_as(fn, s, s->type, &sb, &sp));
    EM_TRY(em_sig_alloc(fn, s->type, d.odims, &res));
    if (em_dims_elements(d.odims) > 0)
        EM_TRY(em_backend_self.signal->convolve_sep(s->dev, &d, res->buf->ptr, sp, cp, rp));
    em_buf_release(sb);
    em_buf_release(cb);
    em_buf_release(rb);
    *out = res;
    return AF_SUCCESS;
fail:
    if (n) em_node_release(n);
    if (sb) em_buf_release(sb);
    if (cb) em_buf_release(cb);
    if (rb) em_buf_release(rb);
    if (res) em_array_free(res);
    return err;
}

/* ---- the machine-learning convolution ------------------------------------------------------- */

/* ArrayFire's dim4(n, values): the given values, then 1s. */
static af_err nn_param(const char *fn, int pos, const char *name, unsigned n, const dim_t *v,
                       dim_t minimum, dim_t out[2]) {
    if (n == 0 || n > 2)
        return em_err(AF_ERR_ARG, fn, "argument %d (%s_dims): %u, must be 1 or 2", pos, name, n);
    if (!v) return em_err(AF_ERR_ARG, fn, "argument %d (%ss) is NULL", pos + 1, name);
    for (unsigned k = 0; k < 2; k++) {
        out[k] = k < n ? v[k] : 1;
        if (out[k] < minimum)
            return em_err(AF_ERR_ARG, fn, "argument %d (%ss): value %lld below %lld", pos + 1, name,
                          (long long)out[k], (long long)minimum);
    }
    return AF_SUCCESS;
}

static af_err nn_params(const char *fn, unsigned sn, const dim_t *st, unsigned pn, const dim_t *pd,
                        unsigned dn, const dim_t *dl, int pos, em_conv_nn_desc *d) {
    af_err err = nn_param(fn, pos, "stride", sn, st, 1, d->stride);
    if (err == AF_SUCCESS) err = nn_param(fn, pos + 2, "padding", pn, pd, 0, d->pad);
    if (err == AF_SUCCESS) err = nn_param(fn, pos + 4, "dilation", dn, dl, 1, d->dil);
    return err;
}

static af_err nn_type_check(const char *fn, int pos, af_dtype t) {
    if (t == f32 || t == f64 || t == f16) return AF_SUCCESS;
    return em_err(AF_ERR_TYPE, fn, "argument %d: dtype %s; convolve2_nn takes f32, f64 or f16", pos,
                  em_dtype_name(t));
}

/* The output dims of the forward convolution; AF_ERR_SIZE when the filter does not fit. */
static af_err nn_out_dims(const char *fn, em_conv_nn_desc *d) {
    for (int k = 0; k < 2; k++) {
        dim_t span = (d->fdims[k] - 1) * d->dil[k] + 1;
        dim_t room = d->sdims[k] + 2 * d->pad[k] - span;
        if (room < 0)
            return em_err(AF_ERR_SIZE, fn,
                          "argument 2 (filter): dilated extent %lld along dim %d exceeds the "
                          "padded signal's %lld",
                          (long long)span, k, (long long)(d->sdims[k] + 2 * d->pad[k]));
        d->odims[k] = 1 + room / d->stride[k];
    }
    d->odims[2] = d->fdims[3];
    d->odims[3] = d->sdims[3];
    return AF_SUCCESS;
}

af_err af_convolve2_nn(af_array *out, const af_array signal, const af_array filter,
                       const unsigned stride_dims, const dim_t *strides,
                       const unsigned padding_dims, const dim_t *paddings,
                       const unsigned dilation_dims, const dim_t *dilations) {
    af_err err = AF_SUCCESS;
    const char *fn = __func__;
    em_array *s, *f, *res = NULL;
    em_buf *sb = NULL, *fb = NULL;
    em_conv_nn_desc d;
    memset(&d, 0, sizeof(d));
    EM_ARG_NULL(out, 0);
    EM_TRY(get_pair(fn, signal, filter, &s, &f));
    EM_TRY(nn_params(fn, stride_dims, strides, padding_dims, paddings, dilation_dims, dilations, 3,
                     &d));
    if (s->dims[2] != f->dims[2])
        EM_FAIL(AF_ERR_SIZE,
                "arguments 1 and 2: signal has %lld channels (dims[2]), filter %lld; they must be "
                "equal",
                (long long)s->dims[2], (long long)f->dims[2]);
    EM_TRY(nn_type_check(fn, 1, s->type));
    if (f->type != s->type)
        EM_FAIL(AF_ERR_TYPE, "argument 2 (filter): dtype %s, must be the signal's %s",
                em_dtype_name(f->type), em_dtype_name(s->type));
    if (em_array_elements(f) == 0) EM_FAIL(AF_ERR_SIZE, "argument 2 (filter) is empty");
    EM_NEED_SLOT(signal, convolve_nn);
    d.type = s->type;
    memcpy(d.sdims, s->dims, sizeof(d.sdims));
    memcpy(d.fdims, f->dims, sizeof(d.fdims));
    EM_TRY(nn_out_dims(fn, &d));
    void *sp, *fp;
    EM_TRY(em_sig_dense_as(fn, s, s->type, &sb, &sp));
    EM_TRY(em_sig_dense_as(fn, f, f->type, &fb, &fp));
    EM_TRY(em_sig_alloc(fn, s->type, d.odims, &res));
    if (em_dims_elements(d.odims) > 0)
        EM_TRY(em_backend_self.signal->convolve_nn(s->dev, &d, EM_CONV_NN_FORWARD, res->buf->ptr,
                                                   sp, fp));
    em_buf_release(sb);
    em_buf_release(fb);
    *out = res;
    return AF_SUCCESS;
fail:
    if (sb) em_buf_release(sb);
    if (fb) em_buf_release(fb);
    if (res) em_array_free(res);
    return err;
}

af_err af_convolve2_gradient_nn(af_array *out, const af_array incoming_gradient,
                                const af_array original_signal, const af_array original_filter,
                                const af_array convolved_output, const unsigned stride_dims,
                                const dim_t *strides, const unsigned padding_dims,
                                const dim_t *paddings, const unsigned dilation_dims,
                                const dim_t *dilations, af_conv_gradient_type grad_type) {
    af_err err = AF_SUCCESS;
    const char *fn = __func__;
    em_array *g, *s, *f, *o, *res = NULL;
    em_buf *gb = NULL, *xb = NULL;
    em_conv_nn_desc d;
    memset(&d, 0, sizeof(d));
    EM_ARG_NULL(out, 0);
    EM_GET(g, incoming_gradient, 1);
    EM_GET(s, original_signal, 2);
    EM_GET(f, original_filter, 3);
    EM_GET(o, convolved_output, 4);
    EM_TRY(em_sig_check_dev(fn, 1, g));
    EM_TRY(em_sig_check_dev(fn, 2, s));
    EM_TRY(em_sig_check_dev(fn, 3, f));
    EM_TRY(em_sig_check_dev(fn, 4, o));
    if (memcmp(g->dims, o->dims, sizeof(g->dims)) != 0)
        EM_FAIL(AF_ERR_SIZE,
                "argument 1 (incoming_gradient): dims [%lld %lld %lld %lld] differ from "
                "convolved_output's [%lld %lld %lld %lld]",
                (long long)g->dims[0], (long long)g->dims[1], (long long)g->dims[2],
                (long long)g->dims[3], (long long)o->dims[0], (long long)o->dims[1],
                (long long)o->dims[2], (long long)o->dims[3]);
    if (o->dims[2] != f->dims[3])
        EM_FAIL(AF_ERR_SIZE, "argument 3 (original_filter): %lld filters, the output has %lld",
                (long long)f->dims[3], (long long)o->dims[2]);
    if (o->dims[3] != s->dims[3])
        EM_FAIL(AF_ERR_SIZE, "argument 2 (original_signal): batch %lld, the output's is %lld",
                (long long)s->dims[3], (long long)o->dims[3]);
    if (s->dims[2] != f->dims[2])
        EM_FAIL(AF_ERR_SIZE, "arguments 2 and 3: %lld signal channels, %lld filter channels",
                (long long)s->dims[2], (long long)f->dims[2]);
    EM_TRY(nn_params(fn, stride_dims, strides, padding_dims, paddings, dilation_dims, dilations, 5,
                     &d));
    EM_TRY(nn_type_check(fn, 4, o->type));
    if (g->type != o->type || s->type != o->type || f->type != o->type)
        EM_FAIL(AF_ERR_TYPE,
                "arguments 1 to 4: dtypes %s %s %s %s; all must be convolved_output's dtype",
                em_dtype_name(g->type), em_dtype_name(s->type), em_dtype_name(f->type),
                em_dtype_name(o->type));
    EM_NEED_SLOT(signal, convolve_nn);
    d.type = o->type;
    memcpy(d.sdims, s->dims, sizeof(d.sdims));
    memcpy(d.fdims, f->dims, sizeof(d.fdims));
    memcpy(d.odims, g->dims, sizeof(d.odims));
    bool filter_grad = grad_type == AF_CONV_GRADIENT_FILTER;
    void *gp, *xp;
    EM_TRY(em_sig_dense_as(fn, g, g->type, &gb, &gp));
    EM_TRY(em_sig_dense_as(fn, filter_grad ? s : f, o->type, &xb, &xp));
    EM_TRY(em_sig_alloc(fn, o->type, filter_grad ? f->dims : s->dims, &res));
    if (em_array_elements(res) > 0)
        EM_TRY(em_backend_self.signal->convolve_nn(
            o->dev, &d, filter_grad ? EM_CONV_NN_GRAD_FILTER : EM_CONV_NN_GRAD_DATA, res->buf->ptr,
            gp, xp));
    em_buf_release(gb);
    em_buf_release(xb);
    *out = res;
    return AF_SUCCESS;
fail:
    if (gb) em_buf_release(gb);
    if (xb) em_buf_release(xb);
    if (res) em_array_free(res);
    return err;
}
