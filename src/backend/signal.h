/* The signal family's backend table (signal.h and ml.h's convolution gradient): FFTs, spatial
 * convolutions, the filters (iir, medfilt) and interpolation (approx1/2). The api files
 * (src/api/fft.c, convolve.c, signal.c) check arguments, work out dims and dtypes, and call these
 * slots; each backend fills them in its fft.c, convolve.c and signal.c and gathers them into one
 * table in signal.c. A NULL slot answers AF_ERR_NOT_SUPPORTED.
 *
 * Every buffer is dense and column-major unless a stride argument says otherwise; `dev` is the
 * Ember device the buffers live on. Work is queued on the device's library stream and never
 * waits for the host. Slots check nothing the api has already checked. */
#ifndef EM_BACKEND_SIGNAL_H
#define EM_BACKEND_SIGNAL_H

#include "../core/backend.h"

#include <stdbool.h>

/* ---- FFT ------------------------------------------------------------------------------------- */

typedef enum {
    EM_FFT_C2C = 0, /* complex to complex, `forward` picks the sign */
    EM_FFT_R2C = 1, /* real to half-spectrum: n[0] reals give n[0]/2+1 complex values */
    EM_FFT_C2R = 2, /* half-spectrum to real: the inverse of R2C (unnormalised) */
} em_fft_kind;

/* `batch` transforms of rank `rank` laid out one after another. The input and output of one
 * transform are dense: C2C has prod(n) complex values on both sides; R2C reads prod(n) reals
 * and writes (n[0]/2+1)*n[1]*n[2] complex values; C2R the reverse. Transforms are unnormalised
 * (ArrayFire's convention); `scale` multiplies every output value (1: nothing to do). C2C may
 * run in place (in == out); R2C and C2R never do, and C2R may overwrite its input. */
typedef struct {
    em_fft_kind kind;
    bool forward; /* C2C: true for exp(-i...), false for exp(+i...) */
    bool dbl;     /* double precision (c64/f64) */
    int rank;     /* 1..3 */
    dim_t n[3];   /* logical (real-side) lengths along dims 0..rank-1; unused ones are 1 */
    dim_t batch;
    double scale;
} em_fft_desc;

/* Copies a window of src into dst with a type conversion: for every index x of dst's dims,
 * dst[x] = convert(src[x + offset] * scale) where x + offset lies inside src_dims, else 0.
 * Used for the FFT's zero padding and truncation, real-to-complex promotion, and for the
 * frequency-domain convolution's padding and cropping. Conversions: real to complex gives
 * (x, 0); complex to real takes the real part; floating to integer truncates toward zero, or
 * rounds half away from zero when `round` is set, then saturates to the type's range (NaN to 0);
 * to b8 gives 1 where that truncated or rounded value is not 0. The api only asks for pairs where
 * one side is f32, f64, c32 or c64 and the precisions agree (see the backends' compile checks for
 * the list). */
typedef struct {
    af_dtype dst_type, src_type;
    dim_t dims[4];        /* dst, dense */
    dim_t src_dims[4];    /* the extent of src that may be read */
    dim_t src_strides[4]; /* in elements */
    dim_t offset[4];      /* may be negative */
    double scale;
    bool round;
} em_window_desc;

/* ---- convolution ----------------------------------------------------------------------------- */

/* Spatial convolution of rank 1..3 (dims 0..rank-1). Output element i (a multi-index over the
 * base dims) is the full convolution's element i + start: sum over filter taps k of
 * filter[k] * signal[i + start - k] with signal zero outside its dims. Dims rank..3 batch: the
 * output has max(sdims[d], fdims[d]) there, and a signal or filter whose dim is 1 repeats. The
 * signal and output have dtype `type`; the filter has `acc` (f32 for integer and b8 signals,
 * else the signal's dtype); the sum is accumulated in `acc` and converted to `type` as
 * ArrayFire does (truncation toward zero for integers, saturating; b8 holds 1 where the truncated
 * value is not 0). */
typedef struct {
    int rank;
    af_dtype type, acc;
    dim_t sdims[4], fdims[4], odims[4];
    dim_t start[3];
} em_conv_desc;

/* Separable 2-D convolution: a column filter of clen taps along dim 0, then a row filter of rlen
 * taps along dim 1, per image (dims 2 and 3). expand: outputs of size s+len-1; otherwise the
 * signal's size with the filter's centre at len/2. The intermediate result is stored in `type`,
 * as ArrayFire's is. Filters have dtype `acc` (as in em_conv_desc). */
typedef struct {
    af_dtype type, acc;
    dim_t sdims[4], odims[4];
    dim_t clen, rlen;
    bool expand;
} em_conv_sep_desc;

/* The machine-learning convolution (af_convolve2_nn, cuDNN's CUDNN_CONVOLUTION): signal
 * [W, H, C, N], filter [fw, fh, C, K], output [W', H', K, N] with
 * W' = 1 + (W + 2 pad0 - ((fw - 1) dil0 + 1)) / stride0 (and H' likewise), and
 * out[x, y, k, n] = sum over i, j, c of sig[x s0 - p0 + i d0, y s1 - p1 + j d1, c, n] *
 * filt[fw-1-i, fh-1-j, c, k] (zero outside the signal). dtype f32, f64 or f16 (computed in
 * float). */
typedef struct {
    af_dtype type;
    dim_t sdims[4], fdims[4], odims[4];
    dim_t stride[2], pad[2], dil[2];
} em_conv_nn_desc;
enum {
    EM_CONV_NN_FORWARD = 0,     /* out (odims) from a = signal, b = filter */
    EM_CONV_NN_GRAD_DATA = 1,   /* out (sdims) from a = output gradient, b = filter */
    EM_CONV_NN_GRAD_FILTER = 2, /* out (fdims) from a = output gradient, b = signal */
};

/* ---- interpolation --------------------------------------------------------------------------- */

/* approx1 / approx2 (ArrayFire's af_approx*): the input `in` (idims) is sampled at positions
 * (pos - beg) / step along dim xdim (and ydim for approx2). Positions have pdims: the output has
 * the input's dims with dim xdim (and ydim) replaced by the positions', and a position dim of 1
 * repeats over the output. Positions outside [0, n-1] give off_grid. order: 1 for NEAREST and
 * LOWER, 2 for the linear family, 3 for the cubic family (which clamps at the edges). */
typedef struct {
    af_dtype type; /* f32, f64, c32, c64; positions are f32 or f64 of the same precision */
    int method;    /* af_interp_type */
    int order;
    int xdim, ydim;
    double xbeg, xstep, ybeg, ystep;
    float off_grid;
    dim_t idims[4], pdims[4], odims[4];
} em_approx_desc;

/* ---- the table ------------------------------------------------------------------------------- */

struct em_signal_ops {
    /* fft.c */
    af_err (*fft)(int dev, const em_fft_desc *d, const void *in, void *out);
    /* Sets how many FFT plans each device keeps (af_set_fft_plan_cache_size); 0 keeps none. */
    void (*fft_plan_cache_size)(size_t n);
    af_err (*window)(int dev, const em_window_desc *d, void *dst, const void *src);

    /* convolve.c */
    af_err (*convolve)(int dev, const em_conv_desc *d, void *out, const void *sig,
                       const void *filt);
    af_err (*convolve_sep)(int dev, const em_conv_sep_desc *d, void *out, const void *sig,
                           const void *cfilt, const void *rfilt);
    af_err (*convolve_nn)(int dev, const em_conv_nn_desc *d, int which, void *out, const void *a,
                          const void *b);
    /* AF_CONV_AUTO on floating-point signals: convolutions of rank r with at most
     * conv_auto_taps[r-1] filter taps (the product of the filter's base dims) run in the spatial
     * domain, larger ones through the FFT. Set per backend from measurements (see the tables). */
    dim_t conv_auto_taps[3];

    /* signal.c */
    /* IIR recurrence (ArrayFire's transposed direct form II): for every column of c (cdims, the
     * FIR part sum b[k] x[n-k] already applied), y[n] = (c[n] + z[0]) / a[0] and
     * z[k-1] = z[k] - a[k] y[n] for k = 1..na-1. a holds na coefficients per column of adims
     * (adims[0] = na; a dim of 1 repeats over the columns). */
    af_err (*iir)(int dev, af_dtype type, void *y, const void *c, const dim_t cdims[4],
                  const void *a, const dim_t adims[4]);
    /* Median over a wlen x wwid window (dims 0 and 1) centred at (wlen/2, wwid/2), per image of
     * dims 2 and 3; pad is AF_PAD_ZERO or AF_PAD_SYM. An even count averages the two middle
     * values in the array's type. */
    af_err (*medfilt)(int dev, af_dtype type, void *out, const void *in, const dim_t dims[4],
                      dim_t wlen, dim_t wwid, af_border_type pad);
    af_err (*approx1)(int dev, const em_approx_desc *d, void *out, const void *in, const void *pos);
    af_err (*approx2)(int dev, const em_approx_desc *d, void *out, const void *in, const void *pos0,
                      const void *pos1);
};

extern const struct em_signal_ops em_cpu_signal_ops;
extern const struct em_signal_ops em_cu_signal_ops;

#endif
