/* Spatial convolutions on the CPU: af_convolve1/2/3's spatial domain, the separable 2-D
 * convolution and the machine-learning convolution with its two gradients (src/backend/signal.h).
 *
 * The direct convolution runs in the accumulation type (f32, f64, c32, c64): an integer signal is
 * first converted to f32 once. Each output row is a block of at most EM_CONV_CHUNK values that is
 * accumulated as a sum of scaled, shifted signal rows, one per filter tap: the inner loop is an
 * axpy over contiguous memory that the compiler vectorises, and the block and the signal rows it
 * reads stay in cache. Blocks are independent and shared out over OpenMP threads. */
#include "signal_impl.h"

#include "../../core/err.h"
#include "../../core/mem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Output values per block: a block and the signal span it reads stay in L1/L2. */
#define EM_CONV_CHUNK 2048

static dim_t prod4(const dim_t d[4]) {
    return d[0] * d[1] * d[2] * d[3];
}

/* Converts n values of dtype t at src to the real accumulation type f32. */
static void to_f32(float *dst, af_dtype t, const void *src, dim_t n) {
#pragma omp parallel for schedule(static) if (n > (1 << 16))
    for (dim_t i = 0; i < n; i++) {
        double re, im;
        em_cpu_sig_load(t, src, i, &re, &im);
        dst[i] = (float)re;
    }
}

/* One block: acc[0..len) += sum over taps of w * sig[...]; the block starts at output coordinate
 * (x0, y, z) of one batch. The accumulation type is ACC (scalar arithmetic through the macros
 * below, so the same loop serves real and complex). */
#define EM_CONV_BLOCK_FN(NAME, ACC, ZERO, MADD)                                                    \
    static void NAME(ACC *acc, dim_t len, const ACC *sig, const dim_t sd[4], const ACC *filt,      \
                     const dim_t fd[4], const dim_t start[3], int rank, dim_t x0, dim_t y,         \
                     dim_t z) {                                                                    \
        for (dim_t i = 0; i < len; i++)                                                            \
            acc[i] = ZERO;                                                                         \
        dim_t fz_n = rank > 2 ? fd[2] : 1, fy_n = rank > 1 ? fd[1] : 1;                            \
        for (dim_t fz = 0; fz < fz_n; fz++) {                                                      \
            dim_t sz = rank > 2 ? z + start[2] - fz : 0;                                           \
            if (sz < 0 || sz >= (rank > 2 ? sd[2] : 1)) continue;                                  \
            for (dim_t fy = 0; fy < fy_n; fy++) {                                                  \
                dim_t sy = rank > 1 ? y + start[1] - fy : 0;                                       \
                if (sy < 0 || sy >= (rank > 1 ? sd[1] : 1)) continue;                              \
                const ACC *srow = sig + (sz * sd[1] + sy) * sd[0];                                 \
                const ACC *frow = filt + (fz * fd[1] + fy) * fd[0];                                \
                for (dim_t fx = 0; fx < fd[0]; fx++) {                                             \
                    const ACC w = frow[fx];                                                        \
                    /* Output i reads signal x0 + i + start0 - fx, valid in [0, sd0). */           \
                    dim_t off = x0 + start[0] - fx;                                                \
                    dim_t lo = off < 0 ? -off : 0, hi = sd[0] - off;                               \
                    if (hi > len) hi = len;                                                        \
                    for (dim_t i = lo; i < hi; i++)                                                \
                        MADD(acc[i], w, srow[off + i]);                                            \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    }

#define EM_MADD_R(a, w, s) ((a) += (w) * (s))
#define EM_MADD_C(a, w, s)                                                                         \
    do {                                                                                           \
        (a).re += (w).re * (s).re - (w).im * (s).im;                                               \
        (a).im += (w).re * (s).im + (w).im * (s).re;                                               \
    } while (0)

EM_CONV_BLOCK_FN(block_f32, float, 0.0f, EM_MADD_R)
EM_CONV_BLOCK_FN(block_f64, double, 0.0, EM_MADD_R)
EM_CONV_BLOCK_FN(block_c32, em_cf32, ((em_cf32){0, 0}), EM_MADD_C)
EM_CONV_BLOCK_FN(block_c64, em_cf64, ((em_cf64){0, 0}), EM_MADD_C)

/* Stores len accumulated values as dtype t (the ArrayFire conversion of signal.h). */
static void store_row(af_dtype t, af_dtype acc, void *out, dim_t at, const void *a, dim_t len) {
    size_t es = em_dtype_size(t);
    if (t == acc) {
        memcpy((char *)out + (size_t)at * es, a, (size_t)len * es);
        return;
    }
    for (dim_t i = 0; i < len; i++)
        em_cpu_sig_store(t, out, at + i, ((const float *)a)[i], 0, false);
}

af_err em_cpu_convolve(int dev, const em_conv_desc *d, void *out, const void *sig,
                       const void *filt) {
    (void)dev;
    af_err err = AF_SUCCESS;
    float *conv = NULL;
    const dim_t *od = d->odims, *sd = d->sdims, *fd = d->fdims;
    if (prod4(od) == 0) return AF_SUCCESS;
    if (d->type != d->acc) {
        /* Integer and b8 signals accumulate in f32: convert them once. */
        conv = malloc(sizeof(float) * (size_t)prod4(sd) + 1);
        if (!conv) EM_FAIL(AF_ERR_NO_MEM, "out of host memory for a converted signal");
        to_f32(conv, d->type, sig, prod4(sd));
        sig = conv;
    }
    const int rank = d->rank;
    const size_t aes = em_dtype_size(d->acc);
    /* Per batch element: the signal and filter volumes (dims below rank). */
    dim_t svol = 1, fvol = 1, ovol = 1;
    for (int k = 0; k < rank; k++) {
        svol *= sd[k];
        fvol *= fd[k];
        ovol *= od[k];
    }
    dim_t bd[4] = {1, 1, 1, 1}; /* batch dims (rank..3) of the output */
    for (int k = rank; k < 4; k++)
        bd[k] = od[k];
    dim_t nbatch = bd[1] * bd[2] * bd[3];
    dim_t rows = ovol / od[0]; /* output rows per batch element */
    dim_t nchunk = (od[0] + EM_CONV_CHUNK - 1) / EM_CONV_CHUNK;
    dim_t jobs = nbatch * rows * nchunk;
    /* Signal and filter dims as the block functions see them (base dims only). */
    dim_t sdb[4] = {sd[0], rank > 1 ? sd[1] : 1, rank > 2 ? sd[2] : 1, 1};
    dim_t fdb[4] = {fd[0], rank > 1 ? fd[1] : 1, rank > 2 ? fd[2] : 1, 1};
    bool failed = false;
#pragma omp parallel if (jobs > 1 && (double)prod4(od) * (double)fvol > 65536.0)
    {
        void *acc = malloc(aes * EM_CONV_CHUNK);
        if (!acc) {
#pragma omp atomic write
            failed = true;
        }
#pragma omp for schedule(dynamic, 4)
        for (dim_t job = 0; job < jobs; job++) {
            if (!acc) continue;
            dim_t chunk = job % nchunk, r = (job / nchunk) % rows, b = job / (nchunk * rows);
            /* Batch coordinates (dims 1..3 of the batch space) and the signal/filter picks: a
             * dim of 1 repeats. */
            dim_t c[4] = {0, b % bd[1], (b / bd[1]) % bd[2], b / (bd[1] * bd[2])};
            dim_t soff = 0, foff = 0, sstride = svol, fstride = fvol;
            for (int k = 1; k < 4; k++) {
                if (k >= rank) {
                    soff += (sd[k] == 1 ? 0 : c[k]) * sstride;
                    foff += (fd[k] == 1 ? 0 : c[k]) * fstride;
                    sstride *= sd[k];
                    fstride *= fd[k];
                }
            }
            dim_t y = rank > 1 ? r % od[1] : 0, z = rank > 2 ? r / od[1] : 0;
            dim_t x0 = chunk * EM_CONV_CHUNK;
            dim_t len = od[0] - x0 < EM_CONV_CHUNK ? od[0] - x0 : EM_CONV_CHUNK;
            const char *s = (const char *)sig + (size_t)soff * aes;
            const char *f = (const char *)filt + (size_t)foff * aes;
            switch (d->acc) {
            case f64:
                block_f64(acc, len, (const double *)s, sdb, (const double *)f, fdb, d->start, rank,
                          x0, y, z);
                break;
            case c32:
                block_c32(acc, len, (const em_cf32 *)s, sdb, (const em_cf32 *)f, fdb, d->start,
                          rank, x0, y, z);
                break;
            case c64:
                block_c64(acc, len, (const em_cf64 *)s, sdb, (const em_cf64 *)f, fdb, d->start,
                          rank, x0, y, z);
                break;
            default:
                block_f32(acc, len, (const float *)s, sdb, (const float *)f, fdb, d->start, rank,
                          x0, y, z);
                break;
            }
            store_row(d->type, d->acc, out, b * ovol + r * od[0] + x0, acc, len);
        }
        free(acc);
    }
    if (failed) EM_FAIL(AF_ERR_NO_MEM, "out of host memory for convolution blocks");
fail:
    free(conv);
    return err;
}

/* ---- separable ------------------------------------------------------------------------------ */

/* One pass of the separable convolution along dim `dim` (0 or 1) of one image: out (od0 x od1)
 * from in (id0 x id1), filter of len taps, output i reading input i + start - f. in and out hold
 * the accumulation type; the caller converts. */
#define EM_SEP_PASS_FN(NAME, ACC, ZERO, MADD)                                                      \
    static void NAME(ACC *out, const dim_t od[2], const ACC *in, const dim_t id[2], const ACC *fl, \
                     dim_t len, dim_t start, int dim) {                                            \
        for (dim_t j = 0; j < od[1]; j++) {                                                        \
            ACC *o = out + j * od[0];                                                              \
            for (dim_t i = 0; i < od[0]; i++)                                                      \
                o[i] = ZERO;                                                                       \
            for (dim_t f = 0; f < len; f++) {                                                      \
                const ACC w = fl[f];                                                               \
                if (dim == 1) {                                                                    \
                    dim_t sj = j + start - f;                                                      \
                    if (sj < 0 || sj >= id[1]) continue;                                           \
                    const ACC *s = in + sj * id[0];                                                \
                    for (dim_t i = 0; i < od[0]; i++)                                              \
                        MADD(o[i], w, s[i]);                                                       \
                } else {                                                                           \
                    dim_t off = start - f, lo = off < 0 ? -off : 0, hi = id[0] - off;              \
                    if (hi > od[0]) hi = od[0];                                                    \
                    const ACC *s = in + j * id[0];                                                 \
                    for (dim_t i = lo; i < hi; i++)                                                \
                        MADD(o[i], w, s[off + i]);                                                 \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    }

EM_SEP_PASS_FN(sep_f32, float, 0.0f, EM_MADD_R)
EM_SEP_PASS_FN(sep_f64, double, 0.0, EM_MADD_R)
EM_SEP_PASS_FN(sep_c32, em_cf32, ((em_cf32){0, 0}), EM_MADD_C)
EM_SEP_PASS_FN(sep_c64, em_cf64, ((em_cf64){0, 0}), EM_MADD_C)

static void sep_pass(af_dtype acc, void *out, const dim_t od[2], const void *in, const dim_t id[2],
                     const void *fl, dim_t len, dim_t start, int dim) {
    switch (acc) {
    case f64:
        sep_f64(out, od, in, id, fl, len, start, dim);
        break;
    case c32:
        sep_c32(out, od, in, id, fl, len, start, dim);
        break;
    case c64:
        sep_c64(out, od, in, id, fl, len, start, dim);
        break;
    default:
        sep_f32(out, od, in, id, fl, len, start, dim);
        break;
    }
}

af_err em_cpu_convolve_sep(int dev, const em_conv_sep_desc *d, void *out, const void *sig,
                           const void *cfilt, const void *rfilt) {
    (void)dev;
    af_err err = AF_SUCCESS;
    const dim_t *sd = d->sdims, *od = d->odims;
    dim_t images = sd[2] * sd[3];
    if (prod4(od) == 0) return AF_SUCCESS;
    const size_t aes = em_dtype_size(d->acc), tes = em_dtype_size(d->type);
    const bool conv = d->type != d->acc;
    dim_t td[2] = {od[0], sd[1]}; /* the intermediate: dim 0 done, dim 1 not yet */
    bool failed = false;
#pragma omp parallel if (images > 1 && (double)prod4(od) * (double)(d->clen + d->rlen) > 65536.0)
    {
        /* Per thread: the image in the accumulation type, the intermediate, the output image. */
        size_t si = (size_t)(sd[0] * sd[1]), ti = (size_t)(td[0] * td[1]),
               oi = (size_t)(od[0] * od[1]);
        char *work = malloc(aes * (si + ti + oi) + 16);
        if (!work) {
#pragma omp atomic write
            failed = true;
        }
#pragma omp for schedule(dynamic, 1)
        for (dim_t img = 0; img < images; img++) {
            if (!work) continue;
            void *s = work, *t = work + aes * si, *o = work + aes * (si + ti);
            const char *src = (const char *)sig + (size_t)img * si * tes;
            if (conv) {
                for (size_t i = 0; i < si; i++) {
                    double re, im;
                    em_cpu_sig_load(d->type, src, (dim_t)i, &re, &im);
                    ((float *)s)[i] = (float)re;
                }
            } else {
                memcpy(s, src, si * aes);
            }
            dim_t sdd[2] = {sd[0], sd[1]};
            sep_pass(d->acc, t, td, s, sdd, cfilt, d->clen, d->expand ? 0 : d->clen / 2, 0);
            if (conv) {
                /* ArrayFire keeps the intermediate in the signal's type. */
                for (size_t i = 0; i < ti; i++) {
                    double re, im;
                    em_cpu_sig_store(d->type, s, 0, ((float *)t)[i], 0, false);
                    em_cpu_sig_load(d->type, s, 0, &re, &im);
                    ((float *)t)[i] = (float)re;
                }
            }
            dim_t odd[2] = {od[0], od[1]};
            sep_pass(d->acc, o, odd, t, td, rfilt, d->rlen, d->expand ? 0 : d->rlen / 2, 1);
            char *dst = (char *)out + (size_t)img * oi * tes;
            if (conv) {
                for (size_t i = 0; i < oi; i++)
                    em_cpu_sig_store(d->type, dst, (dim_t)i, ((float *)o)[i], 0, false);
            } else {
                memcpy(dst, o, oi * aes);
            }
        }
        free(work);
    }
    if (failed) EM_FAIL(AF_ERR_NO_MEM, "out of host memory for the separable convolution");
fail:
    return err;
}

/* ---- the machine-learning convolution ------------------------------------------------------- */

static inline double nn_load(af_dtype t, const void *p, dim_t i) {
    switch (t) {
    case f64:
        return ((const double *)p)[i];
    case f16:
        return em_half_to_float(((const uint16_t *)p)[i]);
    default:
        return ((const float *)p)[i];
    }
}

/* f32 and f16 accumulate in float, f64 in double. */
static inline void nn_store(af_dtype t, void *p, dim_t i, double v) {
    switch (t) {
    case f64:
        ((double *)p)[i] = v;
        break;
    case f16:
        ((uint16_t *)p)[i] = em_float_to_half((float)v);
        break;
    default:
        ((float *)p)[i] = (float)v;
        break;
    }
}

static inline double nn_round(af_dtype t, double v) {
    return t == f64 ? v : (double)(float)v;
}

af_err em_cpu_convolve_nn(int dev, const em_conv_nn_desc *d, int which, void *out, const void *a,
                          const void *b) {
    (void)dev;
    const dim_t *sd = d->sdims, *fd = d->fdims, *od = d->odims;
    const dim_t s0 = d->stride[0], s1 = d->stride[1], p0 = d->pad[0], p1 = d->pad[1];
    const dim_t d0 = d->dil[0], d1 = d->dil[1];
    const af_dtype t = d->type;
    const dim_t C = sd[2], N = sd[3], K = fd[3];
    if (which == EM_CONV_NN_FORWARD) {
        /* a: signal, b: filter. */
#pragma omp parallel for collapse(3) schedule(static)
        for (dim_t n = 0; n < N; n++)
            for (dim_t k = 0; k < K; k++)
                for (dim_t y = 0; y < od[1]; y++)
                    for (dim_t x = 0; x < od[0]; x++) {
                        double acc = 0;
                        for (dim_t c = 0; c < C; c++)
                            for (dim_t j = 0; j < fd[1]; j++) {
                                dim_t sy = y * s1 - p1 + j * d1;
                                if (sy < 0 || sy >= sd[1]) continue;
                                for (dim_t i = 0; i < fd[0]; i++) {
                                    dim_t sx = x * s0 - p0 + i * d0;
                                    if (sx < 0 || sx >= sd[0]) continue;
                                    double sv =
                                        nn_load(t, a, sx + sd[0] * (sy + sd[1] * (c + C * n)));
                                    double fv =
                                        nn_load(t, b,
                                                (fd[0] - 1 - i) + fd[0] * ((fd[1] - 1 - j) +
                                                                           fd[1] * (c + C * k)));
                                    acc = nn_round(t, acc + nn_round(t, sv * fv));
                                }
                            }
                        nn_store(t, out, x + od[0] * (y + od[1] * (k + K * n)), acc);
                    }
    } else if (which == EM_CONV_NN_GRAD_DATA) {
        /* a: output gradient (od), b: filter; out has the signal's dims. Each (c, n) plane of the
         * result belongs to one thread, which scatters into it. */
#pragma omp parallel for collapse(2) schedule(static)
        for (dim_t n = 0; n < N; n++)
            for (dim_t c = 0; c < C; c++) {
                double *plane = calloc((size_t)(sd[0] * sd[1]) + 1, sizeof(double));
                if (!plane) continue;
                for (dim_t k = 0; k < K; k++)
                    for (dim_t y = 0; y < od[1]; y++)
                        for (dim_t x = 0; x < od[0]; x++) {
                            double g = nn_load(t, a, x + od[0] * (y + od[1] * (k + K * n)));
                            for (dim_t j = 0; j < fd[1]; j++) {
                                dim_t sy = y * s1 - p1 + j * d1;
                                if (sy < 0 || sy >= sd[1]) continue;
                                for (dim_t i = 0; i < fd[0]; i++) {
                                    dim_t sx = x * s0 - p0 + i * d0;
                                    if (sx < 0 || sx >= sd[0]) continue;
                                    double fv =
                                        nn_load(t, b,
                                                (fd[0] - 1 - i) + fd[0] * ((fd[1] - 1 - j) +
                                                                           fd[1] * (c + C * k)));
                                    dim_t at = sx + sd[0] * sy;
                                    plane[at] = nn_round(t, plane[at] + nn_round(t, g * fv));
                                }
                            }
                        }
                for (dim_t q = 0; q < sd[0] * sd[1]; q++)
                    nn_store(t, out, q + sd[0] * sd[1] * (c + C * n), plane[q]);
                free(plane);
            }
    } else {
        /* a: output gradient, b: signal; out has the filter's dims. */
#pragma omp parallel for collapse(2) schedule(static)
        for (dim_t k = 0; k < K; k++)
            for (dim_t c = 0; c < C; c++)
                for (dim_t j = 0; j < fd[1]; j++)
                    for (dim_t i = 0; i < fd[0]; i++) {
                        double acc = 0;
                        for (dim_t n = 0; n < N; n++)
                            for (dim_t y = 0; y < od[1]; y++) {
                                dim_t sy = y * s1 - p1 + j * d1;
                                if (sy < 0 || sy >= sd[1]) continue;
                                for (dim_t x = 0; x < od[0]; x++) {
                                    dim_t sx = x * s0 - p0 + i * d0;
                                    if (sx < 0 || sx >= sd[0]) continue;
                                    double g = nn_load(t, a, x + od[0] * (y + od[1] * (k + K * n)));
                                    double sv =
                                        nn_load(t, b, sx + sd[0] * (sy + sd[1] * (c + C * n)));
                                    acc = nn_round(t, acc + nn_round(t, g * sv));
                                }
                            }
                        nn_store(t, out,
                                 (fd[0] - 1 - i) + fd[0] * ((fd[1] - 1 - j) + fd[1] * (c + C * k)),
                                 acc);
                    }
    }
    return AF_SUCCESS;
}
