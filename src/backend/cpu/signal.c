/* The CPU backend's signal table (src/backend/signal.h): FFTs and the window copy (fft.c), the
 * convolutions (convolve.c), and here the IIR recurrence, the median filter and interpolation.
 * Each loop is ArrayFire's CPU kernel's arithmetic in the array's precision (float for single
 * precision), so the numbers agree with ArrayFire's to the last bit where its kernels define
 * them; independent columns and output rows are shared out over OpenMP threads. */
#include "signal_impl.h"

#include "../../core/err.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define EM_PI 3.14159265358979323846

/* ---- iir ------------------------------------------------------------------------------------ */

/* One column: y[i] = (c[i] + z[0]) / a[0]; z[k-1] = z[k] - a[k] y[i] (z[na-1] stays 0). */
#define EM_IIR_REAL(NAME, T)                                                                       \
    static void NAME(T *y, const T *c, dim_t n, const T *a, dim_t na, T *z) {                      \
        for (dim_t k = 0; k < na; k++)                                                             \
            z[k] = 0;                                                                              \
        for (dim_t i = 0; i < n; i++) {                                                            \
            T v = (c[i] + z[0]) / a[0];                                                            \
            y[i] = v;                                                                              \
            for (dim_t k = 1; k < na; k++)                                                         \
                z[k - 1] = z[k] - a[k] * v;                                                        \
        }                                                                                          \
    }
EM_IIR_REAL(iir_f32, float)
EM_IIR_REAL(iir_f64, double)

/* Complex: the same with (re, im) pairs; division as (p * conj(q)) / |q|^2. */
#define EM_IIR_CPLX(NAME, T, C)                                                                    \
    static void NAME(C *y, const C *c, dim_t n, const C *a, dim_t na, C *z) {                      \
        for (dim_t k = 0; k < na; k++)                                                             \
            z[k] = (C){0, 0};                                                                      \
        const T den = a[0].re * a[0].re + a[0].im * a[0].im;                                       \
        for (dim_t i = 0; i < n; i++) {                                                            \
            T pr = c[i].re + z[0].re, pi = c[i].im + z[0].im;                                      \
            C v = {(pr * a[0].re + pi * a[0].im) / den, (pi * a[0].re - pr * a[0].im) / den};      \
            y[i] = v;                                                                              \
            for (dim_t k = 1; k < na; k++) {                                                       \
                z[k - 1].re = z[k].re - (a[k].re * v.re - a[k].im * v.im);                         \
                z[k - 1].im = z[k].im - (a[k].re * v.im + a[k].im * v.re);                         \
            }                                                                                      \
        }                                                                                          \
    }
EM_IIR_CPLX(iir_c32, float, em_cf32)
EM_IIR_CPLX(iir_c64, double, em_cf64)

static af_err em_cpu_iir(int dev, af_dtype type, void *y, const void *c, const dim_t cd[4],
                         const void *a, const dim_t ad[4]) {
    (void)dev;
    const dim_t n = cd[0], na = ad[0], cols = cd[1] * cd[2] * cd[3];
    const size_t es = em_dtype_size(type);
    bool failed = false;
#pragma omp parallel if (cols > 1 && (double)cols * (double)n * (double)na > 65536.0)
    {
        void *z = malloc(es * (size_t)na + 16);
        if (!z) {
#pragma omp atomic write
            failed = true;
        }
#pragma omp for schedule(static)
        for (dim_t col = 0; col < cols; col++) {
            if (!z) continue;
            dim_t j = col % cd[1], k = (col / cd[1]) % cd[2], l = col / (cd[1] * cd[2]);
            /* a's column for (j, k, l): a dim of 1 repeats. */
            dim_t acol =
                ((ad[3] > 1 ? l : 0) * ad[2] + (ad[2] > 1 ? k : 0)) * ad[1] + (ad[1] > 1 ? j : 0);
            const char *ap = (const char *)a + (size_t)(acol * na) * es;
            const char *cp = (const char *)c + (size_t)(col * n) * es;
            char *yp = (char *)y + (size_t)(col * n) * es;
            switch (type) {
            case f64:
                iir_f64((double *)yp, (const double *)cp, n, (const double *)ap, na, z);
                break;
            case c32:
                iir_c32((em_cf32 *)yp, (const em_cf32 *)cp, n, (const em_cf32 *)ap, na, z);
                break;
            case c64:
                iir_c64((em_cf64 *)yp, (const em_cf64 *)cp, n, (const em_cf64 *)ap, na, z);
                break;
            default:
                iir_f32((float *)yp, (const float *)cp, n, (const float *)ap, na, z);
                break;
            }
        }
        free(z);
    }
    if (failed) return em_err(AF_ERR_NO_MEM, __func__, "out of host memory for the iir state");
    return AF_SUCCESS;
}

/* ---- medfilt -------------------------------------------------------------------------------- */

/* The k-th smallest of v[0..n) (quickselect; v is reordered). NaNs order last. */
static bool med_less(double a, double b) {
    return a < b || (b != b && a == a);
}

static double med_select(double *v, dim_t n, dim_t k) {
    dim_t lo = 0, hi = n - 1;
    while (lo < hi) {
        double piv = v[lo + (hi - lo) / 2];
        dim_t i = lo, j = hi;
        while (i <= j) {
            while (med_less(v[i], piv))
                i++;
            while (med_less(piv, v[j]))
                j--;
            if (i <= j) {
                double t = v[i];
                v[i] = v[j];
                v[j] = t;
                i++;
                j--;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            return v[k];
    }
    return v[k];
}

/* The mean of the two middle values, in the array's type as ArrayFire's (a + b) / 2 computes it. */
static double med_mean(af_dtype t, double a, double b) {
    switch (t) {
    case f32:
        return (double)(((float)a + (float)b) / 2.0f);
    case f64:
        return (a + b) / 2;
    case u32:
        return (double)((uint32_t)((uint32_t)a + (uint32_t)b) / 2u);
    default:
        return (double)(((int64_t)a + (int64_t)b) / 2);
    }
}

/* Reflects an index into [0, n) ArrayFire's way (-1 -> 1, n -> n-2), clamped for windows wider
 * than the image. */
static dim_t med_sym(dim_t i, dim_t n) {
    if (i < 0) i = -i;
    if (i >= n) i = 2 * (n - 1) - i;
    return i < 0 ? 0 : i >= n ? n - 1 : i;
}

static af_err em_cpu_medfilt(int dev, af_dtype type, void *out, const void *in, const dim_t dims[4],
                             dim_t wlen, dim_t wwid, af_border_type pad) {
    (void)dev;
    const dim_t rows = dims[0], cols = dims[1], images = dims[2] * dims[3];
    const dim_t wn = wlen * wwid;
    bool failed = false;
#pragma omp parallel if (images * cols > 1 && (double)rows * cols * images * wn > 65536.0)
    {
        double *v = malloc(sizeof(double) * (size_t)wn + 8);
        if (!v) {
#pragma omp atomic write
            failed = true;
        }
#pragma omp for schedule(static)
        for (dim_t ic = 0; ic < images * cols; ic++) {
            if (!v) continue;
            dim_t img = ic / cols, col = ic % cols;
            dim_t base = img * rows * cols;
            for (dim_t row = 0; row < rows; row++) {
                dim_t m = 0;
                for (dim_t wj = 0; wj < wwid; wj++) {
                    dim_t cc = col + wj - wwid / 2;
                    bool coff = cc < 0 || cc >= cols;
                    if (pad == AF_PAD_SYM) cc = med_sym(cc, cols);
                    for (dim_t wi = 0; wi < wlen; wi++) {
                        dim_t rr = row + wi - wlen / 2;
                        bool roff = rr < 0 || rr >= rows;
                        if (pad == AF_PAD_SYM) rr = med_sym(rr, rows);
                        double re = 0, im;
                        if (pad == AF_PAD_SYM || !(coff || roff))
                            em_cpu_sig_load(type, in, base + cc * rows + rr, &re, &im);
                        v[m++] = re;
                    }
                }
                dim_t off = wn / 2;
                double med = med_select(v, wn, off);
                if (wn % 2 == 0) {
                    /* The largest value below position off. */
                    double lo = v[0];
                    for (dim_t q = 1; q < off; q++)
                        if (med_less(lo, v[q])) lo = v[q];
                    med = med_mean(type, med, lo);
                }
                em_cpu_sig_store(type, out, base + col * rows + row, med, 0, false);
            }
        }
        free(v);
    }
    if (failed) return em_err(AF_ERR_NO_MEM, __func__, "out of host memory for medfilt windows");
    return AF_SUCCESS;
}

/* ---- approx1 / approx2 ---------------------------------------------------------------------- */

/* ArrayFire's interpolation functions (its src/backend/cpu/kernel/interp.hpp), in the position
 * type P over `lanes` scalars (2 for complex values, which interpolate part by part). */
#define EM_APPROX_FNS(SUF, P)                                                                      \
    static P lin_##SUF(P v0, P v1, P r) {                                                          \
        return (1 - r) * v0 + r * v1;                                                              \
    }                                                                                              \
    static P cubic_##SUF(const P v[4], P x, bool spline) {                                         \
        P a0, a1, a2, a3;                                                                          \
        if (spline) {                                                                              \
            a0 = (P)-0.5 * v[0] + (P)1.5 * v[1] + (P)-1.5 * v[2] + (P)0.5 * v[3];                  \
            a1 = (P)1.0 * v[0] + (P)-2.5 * v[1] + (P)2.0 * v[2] + (P)-0.5 * v[3];                  \
            a2 = (P)-0.5 * v[0] + (P)0.5 * v[2];                                                   \
            a3 = v[1];                                                                             \
        } else {                                                                                   \
            a0 = v[3] - v[2] - v[0] + v[1];                                                        \
            a1 = v[0] - v[1] - a0;                                                                 \
            a2 = v[2] - v[0];                                                                      \
            a3 = v[1];                                                                             \
        }                                                                                          \
        P x2 = x * x, x3 = x2 * x;                                                                 \
        return a0 * x3 + a1 * x2 + a2 * x + a3;                                                    \
    }                                                                                              \
    /* One value along one dim: `in` points at the line's element 0, `st` is its stride in         \
     * scalars, n its length; x is inside [0, n-1]. */                                             \
    static void interp1_##SUF(P *out, const P *in, dim_t st, dim_t n, P x, int order, int method,  \
                              int lanes) {                                                         \
        if (order == 1) {                                                                          \
            dim_t i = (dim_t)(method == AF_INTERP_LOWER ? floor(x) : round(x));                    \
            for (int l = 0; l < lanes; l++)                                                        \
                out[l] = in[i * st + l];                                                           \
            return;                                                                                \
        }                                                                                          \
        dim_t g = (dim_t)floor(x);                                                                 \
        P off = x - (P)g;                                                                          \
        if (order == 2) {                                                                          \
            bool c1 = g + 1 < n;                                                                   \
            P r = off;                                                                             \
            if (method == AF_INTERP_LINEAR_COSINE) r = (P)((1 - cos(r * EM_PI)) / 2);              \
            for (int l = 0; l < lanes; l++)                                                        \
                out[l] = lin_##SUF(in[g * st + l], c1 ? in[(g + 1) * st + l] : 0, r);              \
            return;                                                                                \
        }                                                                                          \
        dim_t o[4] = {g - 1 >= 0 ? -1 : 0, 0, g + 1 < n ? 1 : 0,                                   \
                      g + 2 < n ? 2 : (g + 1 < n ? 1 : 0)};                                        \
        for (int l = 0; l < lanes; l++) {                                                          \
            P v[4];                                                                                \
            for (int q = 0; q < 4; q++)                                                            \
                v[q] = in[(g + o[q]) * st + l];                                                    \
            out[l] = cubic_##SUF(v, off, method == AF_INTERP_CUBIC_SPLINE);                        \
        }                                                                                          \
    }                                                                                              \
    static void interp2_##SUF(P *out, const P *in, dim_t sx, dim_t nx, dim_t sy, dim_t ny, P x,    \
                              P y, int order, int method, int lanes) {                             \
        if (order == 1) {                                                                          \
            bool low = method == AF_INTERP_LOWER;                                                  \
            dim_t i = (dim_t)(low ? floor(x) : round(x)), j = (dim_t)(low ? floor(y) : round(y));  \
            for (int l = 0; l < lanes; l++)                                                        \
                out[l] = in[i * sx + j * sy + l];                                                  \
            return;                                                                                \
        }                                                                                          \
        dim_t gx = (dim_t)floor(x), gy = (dim_t)floor(y);                                          \
        P ox = x - (P)gx, oy = y - (P)gy;                                                          \
        if (order == 2) {                                                                          \
            bool cx = x + 1 < (P)nx, cy = y + 1 < (P)ny;                                           \
            P xr = ox, yr = oy;                                                                    \
            if (method == AF_INTERP_LINEAR_COSINE || method == AF_INTERP_BILINEAR_COSINE) {        \
                xr = (P)((1 - cos(xr * EM_PI)) / 2);                                               \
                yr = (P)((1 - cos(yr * EM_PI)) / 2);                                               \
            }                                                                                      \
            const P *p = in + gx * sx + gy * sy;                                                   \
            for (int l = 0; l < lanes; l++) {                                                      \
                P v00 = p[l], v01 = cx ? p[sx + l] : 0, v10 = cy ? p[sy + l] : 0;                  \
                P v11 = cx && cy ? p[sx + sy + l] : 0;                                             \
                out[l] = lin_##SUF(lin_##SUF(v00, v01, xr), lin_##SUF(v10, v11, xr), yr);          \
            }                                                                                      \
            return;                                                                                \
        }                                                                                          \
        dim_t ox4[4] = {gx - 1 >= 0 ? -1 : 0, 0, gx + 1 < nx ? 1 : 0,                              \
                        gx + 2 < nx ? 2 : (gx + 1 < nx ? 1 : 0)};                                  \
        dim_t oy4[4] = {gy - 1 >= 0 ? -1 : 0, 0, gy + 1 < ny ? 1 : 0,                              \
                        gy + 2 < ny ? 2 : (gy + 1 < ny ? 1 : 0)};                                  \
        bool spline = method == AF_INTERP_CUBIC_SPLINE || method == AF_INTERP_BICUBIC_SPLINE;      \
        for (int l = 0; l < lanes; l++) {                                                          \
            P rows[4];                                                                             \
            for (int j = 0; j < 4; j++) {                                                          \
                P v[4];                                                                            \
                for (int i = 0; i < 4; i++)                                                        \
                    v[i] = in[(gx + ox4[i]) * sx + (gy + oy4[j]) * sy + l];                        \
                rows[j] = cubic_##SUF(v, ox, spline);                                              \
            }                                                                                      \
            out[l] = cubic_##SUF(rows, oy, spline);                                                \
        }                                                                                          \
    }

EM_APPROX_FNS(f, float)
EM_APPROX_FNS(d, double)

/* Offsets in elements of the output's coordinates c (over od) into an array of dims d where a dim
 * of 1 repeats, skipping the dims in `skip` (the interpolated ones). */
static dim_t bcast_off(const dim_t c[4], const dim_t d[4], int skip0, int skip1) {
    dim_t off = 0, st = 1;
    for (int k = 0; k < 4; k++) {
        if (k != skip0 && k != skip1 && d[k] > 1) off += c[k] * st;
        st *= d[k];
    }
    return off;
}

/* approx1 (pos1 == NULL) and approx2. */
static af_err approx_run(const em_approx_desc *d, void *out, const void *in, const void *pos0,
                         const void *pos1) {
    const bool dbl = d->type == f64 || d->type == c64;
    const int lanes = em_dtype_is_complex(d->type) ? 2 : 1;
    const dim_t *od = d->odims, *id = d->idims, *pd = d->pdims;
    const dim_t total = od[0] * od[1] * od[2] * od[3];
    const bool two = pos1 != NULL;
    const int xd = d->xdim, yd = two ? d->ydim : -1;
    dim_t ist[4] = {1, id[0], id[0] * id[1], id[0] * id[1] * id[2]};
#pragma omp parallel for schedule(static) if (total > 16384)
    for (dim_t e = 0; e < total; e++) {
        dim_t c[4] = {e % od[0], (e / od[0]) % od[1], (e / (od[0] * od[1])) % od[2],
                      e / (od[0] * od[1] * od[2])};
        dim_t po = bcast_off(c, pd, -1, -1);
        dim_t io = bcast_off(c, id, xd, yd);
        bool off;
        if (dbl) {
            const double *p0 = pos0, *p1 = pos1;
            double x = (p0[po] - d->xbeg) / d->xstep;
            double y = two ? (p1[po] - d->ybeg) / d->ystep : 0;
            off = x < 0 || (double)id[xd] < x + 1 || (two && (y < 0 || (double)id[yd] < y + 1));
            /* A NaN position reads nothing and gives NaN, as the CUDA kernels do (the comparisons
             * above let it through). */
            bool nanpos = isnan(x) || (two && isnan(y));
            double *o = (double *)out + e * lanes;
            if (nanpos) {
                o[0] = NAN;
                if (lanes == 2) o[1] = NAN;
            } else if (off) {
                o[0] = d->off_grid;
                if (lanes == 2) o[1] = 0;
            } else if (two) {
                interp2_d(o, (const double *)in + io * lanes, ist[xd] * lanes, id[xd],
                          ist[yd] * lanes, id[yd], x, y, d->order, d->method, lanes);
            } else {
                interp1_d(o, (const double *)in + io * lanes, ist[xd] * lanes, id[xd], x, d->order,
                          d->method, lanes);
            }
        } else {
            const float *p0 = pos0, *p1 = pos1;
            float xb = (float)d->xbeg, xs = (float)d->xstep, yb = (float)d->ybeg,
                  ys = (float)d->ystep;
            float x = (p0[po] - xb) / xs;
            float y = two ? (p1[po] - yb) / ys : 0;
            off = x < 0 || (float)id[xd] < x + 1 || (two && (y < 0 || (float)id[yd] < y + 1));
            /* A NaN position reads nothing and gives NaN, as the CUDA kernels do (the comparisons
             * above let it through). */
            bool nanpos = isnan(x) || (two && isnan(y));
            float *o = (float *)out + e * lanes;
            if (nanpos) {
                o[0] = NAN;
                if (lanes == 2) o[1] = NAN;
            } else if (off) {
                o[0] = d->off_grid;
                if (lanes == 2) o[1] = 0;
            } else if (two) {
                interp2_f(o, (const float *)in + io * lanes, ist[xd] * lanes, id[xd],
                          ist[yd] * lanes, id[yd], x, y, d->order, d->method, lanes);
            } else {
                interp1_f(o, (const float *)in + io * lanes, ist[xd] * lanes, id[xd], x, d->order,
                          d->method, lanes);
            }
        }
    }
    return AF_SUCCESS;
}

static af_err em_cpu_approx1(int dev, const em_approx_desc *d, void *out, const void *in,
                             const void *pos) {
    (void)dev;
    return approx_run(d, out, in, pos, NULL);
}

static af_err em_cpu_approx2(int dev, const em_approx_desc *d, void *out, const void *in,
                             const void *pos0, const void *pos1) {
    (void)dev;
    return approx_run(d, out, in, pos0, pos1);
}

const struct em_signal_ops em_cpu_signal_ops = {
    .fft = em_cpu_fft,
    .fft_plan_cache_size = em_cpu_fft_plan_cache_size,
    .window = em_cpu_window,
    .convolve = em_cpu_convolve,
    .convolve_sep = em_cpu_convolve_sep,
    .convolve_nn = em_cpu_convolve_nn,
    /* Measured on the two-core build host (docs/SIGNAL.md): on 2^22-sample rows, 1024^2 images
     * and 128^3 volumes (f32) the direct loops and the FFT path cost the same at about 512 taps
     * (1-D), 21x21 (2-D) and 7x7x7 (3-D); at and below these sizes the direct loops run. */
    .conv_auto_taps = {512, 441, 343},
    .iir = em_cpu_iir,
    .medfilt = em_cpu_medfilt,
    .approx1 = em_cpu_approx1,
    .approx2 = em_cpu_approx2,
};
