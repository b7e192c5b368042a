/* FFTs on the CPU through FFTW, and the window copy that pads, truncates and converts around them.
 *
 * Plans are made with FFTW_ESTIMATE (which never touches the arrays) and kept in a small LRU
 * cache keyed by everything that FFTW's new-array execute functions require to be the same:
 * kind, sign, precision, lengths, batch, in-place or not, and the alignment of both pointers.
 * FFTW's planner is not thread safe, so making and destroying plans happens under one mutex;
 * executing a plan on new arrays is thread safe and runs outside it. A plan evicted while another
 * thread executes it is destroyed by the last user. Large transforms plan with FFTW's OpenMP
 * threads (fftw3_omp), as many as OpenMP would use. */
#include "signal_impl.h"

#include "../../core/err.h"

#include <fftw3.h>
#include <math.h>
#include <omp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Below this many complex values per call the threads cost more than they save. */
#define EM_CPU_FFT_THREADS_MIN (1 << 15)
/* ArrayFire keeps five plans by default. */
#define EM_CPU_FFT_CACHE_DEFAULT 5

typedef struct em_cpu_plan {
    em_fft_kind kind;
    bool forward, dbl, inplace;
    int rank;
    dim_t n[3], batch;
    int align_in, align_out;
    void *plan; /* fftw_plan or fftwf_plan */
    int refs;   /* users executing it now, plus... nothing else: the cache holds no reference */
    bool dead;  /* evicted while in use: the last user destroys it */
    struct em_cpu_plan *next;
} em_cpu_plan;

static pthread_mutex_t em_cpu_fft_lock = PTHREAD_MUTEX_INITIALIZER;
static em_cpu_plan *em_cpu_fft_head; /* most recently used first */
static size_t em_cpu_fft_cap = EM_CPU_FFT_CACHE_DEFAULT;
static pthread_once_t em_cpu_fft_once = PTHREAD_ONCE_INIT;
static bool em_cpu_fft_threads;

static void fft_init(void) {
    em_cpu_fft_threads = fftw_init_threads() != 0 && fftwf_init_threads() != 0;
}

static void plan_destroy(em_cpu_plan *p) {
    if (p->dbl)
        fftw_destroy_plan((fftw_plan)p->plan);
    else
        fftwf_destroy_plan((fftwf_plan)p->plan);
    free(p);
}

/* Drops cached plans beyond the capacity (the caller holds the lock). Plans in use are unlinked
 * and left to their last user. */
static void cache_trim(void) {
    size_t kept = 0;
    em_cpu_plan **link = &em_cpu_fft_head;
    while (*link) {
        em_cpu_plan *p = *link;
        if (kept < em_cpu_fft_cap) {
            kept++;
            link = &p->next;
            continue;
        }
        *link = p->next;
        if (p->refs == 0)
            plan_destroy(p);
        else
            p->dead = true;
    }
}

void em_cpu_fft_plan_cache_size(size_t n) {
    pthread_mutex_lock(&em_cpu_fft_lock);
    em_cpu_fft_cap = n;
    cache_trim();
    pthread_mutex_unlock(&em_cpu_fft_lock);
}

static int align_of(bool dbl, const void *p) {
    return dbl ? fftw_alignment_of((double *)p) : fftwf_alignment_of((float *)p);
}

/* Strides in elements of each dim of one transform: real-side lengths n, and whether this side
 * holds the half spectrum (dim 0 has n[0]/2+1 values). */
static void side_strides(const em_fft_desc *d, bool half, dim_t st[3], dim_t *dist) {
    dim_t s = 1;
    for (int k = 0; k < d->rank; k++) {
        st[k] = s;
        s *= (k == 0 && half) ? d->n[0] / 2 + 1 : d->n[k];
    }
    *dist = s;
}

/* Makes the FFTW plan (the caller holds the lock). FFTW's dims run from the slowest to the
 * fastest, so Ember's dim 0 is FFTW's last; for r2c/c2r that is the halved one, as it must be. */
static void *plan_make(const em_fft_desc *d, void *in, void *out) {
    dim_t ist[3], ost[3], idist, odist;
    side_strides(d, d->kind == EM_FFT_C2R, ist, &idist);
    side_strides(d, d->kind == EM_FFT_R2C, ost, &odist);
    fftw_iodim64 dims[3], how = {.n = d->batch, .is = idist, .os = odist};
    for (int k = 0; k < d->rank; k++) {
        int e = d->rank - 1 - k;
        dims[k] = (fftw_iodim64){.n = d->n[e], .is = ist[e], .os = ost[e]};
    }
    dim_t total = idist > odist ? idist : odist;
    int nt = 1;
    if (em_cpu_fft_threads && (double)total * (double)d->batch >= EM_CPU_FFT_THREADS_MIN)
        nt = omp_get_max_threads();
    /* fftwf_iodim64 has the same layout as fftw_iodim64. */
    const unsigned flags = FFTW_ESTIMATE;
    if (d->dbl) {
        fftw_plan_with_nthreads(nt);
        switch (d->kind) {
        case EM_FFT_C2C:
            return fftw_plan_guru64_dft(d->rank, dims, 1, &how, in, out,
                                        d->forward ? FFTW_FORWARD : FFTW_BACKWARD, flags);
        case EM_FFT_R2C:
            return fftw_plan_guru64_dft_r2c(d->rank, dims, 1, &how, in, out, flags);
        case EM_FFT_C2R:
            return fftw_plan_guru64_dft_c2r(d->rank, dims, 1, &how, in, out, flags);
        }
    } else {
        fftwf_plan_with_nthreads(nt);
        const fftwf_iodim64 *fd = (const fftwf_iodim64 *)dims;
        const fftwf_iodim64 *fh = (const fftwf_iodim64 *)&how;
        switch (d->kind) {
        case EM_FFT_C2C:
            return fftwf_plan_guru64_dft(d->rank, fd, 1, fh, in, out,
                                         d->forward ? FFTW_FORWARD : FFTW_BACKWARD, flags);
        case EM_FFT_R2C:
            return fftwf_plan_guru64_dft_r2c(d->rank, fd, 1, fh, in, out, flags);
        case EM_FFT_C2R:
            return fftwf_plan_guru64_dft_c2r(d->rank, fd, 1, fh, in, out, flags);
        }
    }
    return NULL;
}

static bool plan_matches(const em_cpu_plan *p, const em_fft_desc *d, bool inplace, int ai, int ao) {
    return p->kind == d->kind && p->dbl == d->dbl && p->rank == d->rank &&
           (d->kind != EM_FFT_C2C || p->forward == d->forward) && p->n[0] == d->n[0] &&
           p->n[1] == d->n[1] && p->n[2] == d->n[2] && p->batch == d->batch &&
           p->inplace == inplace && p->align_in == ai && p->align_out == ao;
}

static af_err plan_get(const em_fft_desc *d, void *in, void *out, em_cpu_plan **out_plan) {
    bool inplace = in == out;
    int ai = align_of(d->dbl, in), ao = align_of(d->dbl, out);
    pthread_once(&em_cpu_fft_once, fft_init);
    pthread_mutex_lock(&em_cpu_fft_lock);
    em_cpu_plan **link = &em_cpu_fft_head;
    for (em_cpu_plan *p = em_cpu_fft_head; p; link = &p->next, p = p->next) {
        if (!plan_matches(p, d, inplace, ai, ao)) continue;
        *link = p->next; /* to the front */
        p->next = em_cpu_fft_head;
        em_cpu_fft_head = p;
        p->refs++;
        pthread_mutex_unlock(&em_cpu_fft_lock);
        *out_plan = p;
        return AF_SUCCESS;
    }
    em_cpu_plan *p = calloc(1, sizeof(*p));
    if (!p) {
        pthread_mutex_unlock(&em_cpu_fft_lock);
        return em_err(AF_ERR_NO_MEM, __func__, "out of host memory for an FFT plan");
    }
    p->plan = plan_make(d, in, out);
    if (!p->plan) {
        pthread_mutex_unlock(&em_cpu_fft_lock);
        free(p);
        return em_err(AF_ERR_INTERNAL, __func__, "FFTW could not plan a rank-%d transform",
                      d->rank);
    }
    p->kind = d->kind;
    p->forward = d->forward;
    p->dbl = d->dbl;
    p->inplace = inplace;
    p->rank = d->rank;
    memcpy(p->n, d->n, sizeof(p->n));
    p->batch = d->batch;
    p->align_in = ai;
    p->align_out = ao;
    p->refs = 1;
    p->next = em_cpu_fft_head;
    em_cpu_fft_head = p;
    cache_trim();
    pthread_mutex_unlock(&em_cpu_fft_lock);
    *out_plan = p;
    return AF_SUCCESS;
}

static void plan_put(em_cpu_plan *p) {
    pthread_mutex_lock(&em_cpu_fft_lock);
    if (--p->refs == 0 && p->dead) plan_destroy(p);
    pthread_mutex_unlock(&em_cpu_fft_lock);
}

static void scale_values(bool dbl, void *p, dim_t n, double s) {
    if (dbl) {
        double *x = p;
#pragma omp parallel for schedule(static) if (n > (1 << 16))
        for (dim_t i = 0; i < n; i++)
            x[i] *= s;
    } else {
        float *x = p;
        const float sf = (float)s;
#pragma omp parallel for schedule(static) if (n > (1 << 16))
        for (dim_t i = 0; i < n; i++)
            x[i] *= sf;
    }
}

af_err em_cpu_fft(int dev, const em_fft_desc *d, const void *in, void *out) {
    (void)dev;
    af_err err = AF_SUCCESS;
    em_cpu_plan *p = NULL;
    dim_t elems = 1;
    for (int k = 0; k < d->rank; k++)
        elems *= d->n[k];
    if (elems == 0 || d->batch == 0) return AF_SUCCESS;
    EM_TRY(plan_get(d, (void *)in, out, &p));
    void *src = (void *)in;
    if (d->dbl) {
        fftw_plan pl = p->plan;
        if (d->kind == EM_FFT_C2C)
            fftw_execute_dft(pl, src, out);
        else if (d->kind == EM_FFT_R2C)
            fftw_execute_dft_r2c(pl, src, out);
        else
            fftw_execute_dft_c2r(pl, src, out);
    } else {
        fftwf_plan pl = p->plan;
        if (d->kind == EM_FFT_C2C)
            fftwf_execute_dft(pl, src, out);
        else if (d->kind == EM_FFT_R2C)
            fftwf_execute_dft_r2c(pl, src, out);
        else
            fftwf_execute_dft_c2r(pl, src, out);
    }
    plan_put(p);
    if (d->scale != 1.0) {
        /* Output scalars: C2R writes reals, the others complex values (two scalars each). */
        dim_t per = d->kind == EM_FFT_C2R   ? elems
                    : d->kind == EM_FFT_R2C ? 2 * (elems / d->n[0]) * (d->n[0] / 2 + 1)
                                            : 2 * elems;
        scale_values(d->dbl, out, per * d->batch, d->scale);
    }
fail:
    return err;
}

/* ---- the window copy ------------------------------------------------------------------------ */

void em_cpu_sig_load(af_dtype t, const void *p, dim_t i, double *re, double *im) {
    *im = 0;
    switch (t) {
    case f32:
        *re = ((const float *)p)[i];
        break;
    case f64:
        *re = ((const double *)p)[i];
        break;
    case c32:
        *re = ((const float *)p)[2 * i];
        *im = ((const float *)p)[2 * i + 1];
        break;
    case c64:
        *re = ((const double *)p)[2 * i];
        *im = ((const double *)p)[2 * i + 1];
        break;
    case b8:
    case u8:
        *re = ((const uint8_t *)p)[i];
        break;
    case s8:
        *re = ((const int8_t *)p)[i];
        break;
    case s16:
        *re = ((const int16_t *)p)[i];
        break;
    case u16:
        *re = ((const uint16_t *)p)[i];
        break;
    case s32:
        *re = ((const int32_t *)p)[i];
        break;
    case u32:
        *re = ((const uint32_t *)p)[i];
        break;
    case s64:
        *re = (double)((const int64_t *)p)[i];
        break;
    case u64:
        *re = (double)((const uint64_t *)p)[i];
        break;
    case f16:
        *re = em_half_to_float(((const uint16_t *)p)[i]);
        break;
    }
}

/* Saturating conversion of an already truncated or rounded value to [lo, hi]; NaN gives 0. */
static double sat(double v, double lo, double hi) {
    if (v != v) return 0;
    return v < lo ? lo : v > hi ? hi : v;
}

void em_cpu_sig_store(af_dtype t, void *p, dim_t i, double re, double im, bool round_) {
    double v = round_ ? round(re) : trunc(re);
    switch (t) {
    case f32:
        ((float *)p)[i] = (float)re;
        break;
    case f64:
        ((double *)p)[i] = re;
        break;
    case c32:
        ((float *)p)[2 * i] = (float)re;
        ((float *)p)[2 * i + 1] = (float)im;
        break;
    case c64:
        ((double *)p)[2 * i] = re;
        ((double *)p)[2 * i + 1] = im;
        break;
    case f16:
        ((uint16_t *)p)[i] = em_float_to_half((float)re);
        break;
    case b8:
        ((uint8_t *)p)[i] = v != 0;
        break;
    case u8:
        ((uint8_t *)p)[i] = (uint8_t)sat(v, 0, 255);
        break;
    case s8:
        ((int8_t *)p)[i] = (int8_t)sat(v, -128, 127);
        break;
    case s16:
        ((int16_t *)p)[i] = (int16_t)sat(v, -32768, 32767);
        break;
    case u16:
        ((uint16_t *)p)[i] = (uint16_t)sat(v, 0, 65535);
        break;
    case s32:
        ((int32_t *)p)[i] = (int32_t)sat(v, -2147483648.0, 2147483647.0);
        break;
    case u32:
        ((uint32_t *)p)[i] = (uint32_t)sat(v, 0, 4294967295.0);
        break;
    case s64:
        /* 2^63 is not an int64: values at or above it saturate to the maximum. */
        if (v != v)
            ((int64_t *)p)[i] = 0;
        else if (v >= 9223372036854775808.0)
            ((int64_t *)p)[i] = INT64_MAX;
        else if (v <= -9223372036854775808.0)
            ((int64_t *)p)[i] = INT64_MIN;
        else
            ((int64_t *)p)[i] = (int64_t)v;
        break;
    case u64:
        if (v != v || v <= 0)
            ((uint64_t *)p)[i] = 0;
        else if (v >= 18446744073709551616.0)
            ((uint64_t *)p)[i] = UINT64_MAX;
        else
            ((uint64_t *)p)[i] = (uint64_t)v;
        break;
    }
}

/* The common pairs in typed loops; everything else through double. Each is one row: n values
 * from src (stride ss) to dst (dense). */
static bool window_row_fast(const em_window_desc *d, void *dst, const void *src, dim_t ss,
                            dim_t n) {
    af_dtype st = d->src_type, dt = d->dst_type;
    if (d->scale != 1.0) return false;
    if (st == dt && (st == f32 || st == f64 || st == c32 || st == c64)) {
        size_t es = em_dtype_size(st);
        if (ss == 1) {
            memcpy(dst, src, (size_t)n * es);
        } else if (st == f32) {
            for (dim_t i = 0; i < n; i++)
                ((float *)dst)[i] = ((const float *)src)[i * ss];
        } else if (st == f64 || st == c32) {
            for (dim_t i = 0; i < n; i++)
                ((double *)dst)[i] = ((const double *)src)[i * ss];
        } else {
            for (dim_t i = 0; i < n; i++)
                ((em_cf64 *)dst)[i] = ((const em_cf64 *)src)[i * ss];
        }
        return true;
    }
    if (st == f32 && dt == c32) {
        for (dim_t i = 0; i < n; i++)
            ((em_cf32 *)dst)[i] = (em_cf32){((const float *)src)[i * ss], 0.0f};
        return true;
    }
    if (st == f64 && dt == c64) {
        for (dim_t i = 0; i < n; i++)
            ((em_cf64 *)dst)[i] = (em_cf64){((const double *)src)[i * ss], 0.0};
        return true;
    }
    return false;
}

af_err em_cpu_window(int dev, const em_window_desc *d, void *dst, const void *src) {
    (void)dev;
    const dim_t *od = d->dims;
    const dim_t rows = od[1] * od[2] * od[3];
    const size_t des = em_dtype_size(d->dst_type), ses = em_dtype_size(d->src_type);
    /* The part of each row that lies inside src, [lo, hi). */
    dim_t lo = -d->offset[0] > 0 ? -d->offset[0] : 0;
    dim_t hi = d->src_dims[0] - d->offset[0];
    if (hi > od[0]) hi = od[0];
    if (hi < lo) hi = lo;
    if (rows == 0 || od[0] == 0) return AF_SUCCESS;
#pragma omp parallel for schedule(static) if (rows * od[0] > (1 << 16))
    for (dim_t r = 0; r < rows; r++) {
        dim_t c[4] = {0, r % od[1], (r / od[1]) % od[2], r / (od[1] * od[2])};
        char *drow = (char *)dst + (size_t)(r * od[0]) * des;
        bool inside = true;
        dim_t soff = 0;
        for (int k = 1; k < 4; k++) {
            dim_t s = c[k] + d->offset[k];
            if (s < 0 || s >= d->src_dims[k]) inside = false;
            soff += s * d->src_strides[k];
        }
        if (!inside || hi == lo) {
            memset(drow, 0, (size_t)od[0] * des);
            continue;
        }
        if (lo > 0) memset(drow, 0, (size_t)lo * des);
        if (hi < od[0]) memset(drow + (size_t)hi * des, 0, (size_t)(od[0] - hi) * des);
        const char *srow =
            (const char *)src + (size_t)(soff + (lo + d->offset[0]) * d->src_strides[0]) * ses;
        char *dpart = drow + (size_t)lo * des;
        dim_t ss = d->src_strides[0];
        if (window_row_fast(d, dpart, srow, ss, hi - lo)) continue;
        for (dim_t i = 0; i < hi - lo; i++) {
            double re, im;
            em_cpu_sig_load(d->src_type, srow, i * ss, &re, &im);
            em_cpu_sig_store(d->dst_type, dpart, i, re * d->scale, im * d->scale, d->round);
        }
    }
    return AF_SUCCESS;
}
