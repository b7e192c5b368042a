/* The CUDA backend's signal table (src/backend/signal.h): FFTs and the window copy (fft.c), the
 * convolutions (convolve.c), and here the IIR recurrence, the median filter and interpolation,
 * plus the helpers that compile one variant of the family's kernel sources at a time. */
#include "signal_impl.h"

#include "../../core/err.h"
#include "../../core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- kernel variants ------------------------------------------------------------------------ */

/* The texts of a variant's source: convolve.cuh builds on signal.cuh's dtype helpers, so it comes
 * after it. */
static void sig_texts(em_cu_sig_src src, const char **first, const char **second) {
    *first = em_cu_src_signal;
    *second = src == EM_CU_SIG_SRC_CONVOLVE ? em_cu_src_convolve : "";
}

static uint64_t text_hash(uint64_t h, const char *s) {
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

/* The hash of each source's texts, computed once (a racing thread computes the same value). */
static uint64_t sig_base_hash(em_cu_sig_src src) {
    static _Atomic uint64_t cache[2];
    uint64_t h = atomic_load_explicit(&cache[src], memory_order_relaxed);
    if (!h) {
        const char *a, *b;
        sig_texts(src, &a, &b);
        h = text_hash(text_hash(EM_HASH_SEED ^ (0x5349474e414cull + (uint64_t)src), a), b);
        atomic_store_explicit(&cache[src], h, memory_order_relaxed);
    }
    return h;
}

typedef struct {
    const char *a, *b, *tail;
} sig_gen_ctx;

static char *sig_gen(const void *ctx) {
    const sig_gen_ctx *c = ctx;
    size_t la = strlen(c->a), lb = strlen(c->b), lt = strlen(c->tail);
    char *s = malloc(la + lb + lt + 3);
    if (!s) return NULL;
    memcpy(s, c->a, la);
    s[la] = '\n';
    memcpy(s + la + 1, c->b, lb);
    s[la + 1 + lb] = '\n';
    memcpy(s + la + lb + 2, c->tail, lt + 1);
    return s;
}

af_err em_cu_sig_kernel(int dev, em_cu_sig_src src, const char *name, const char *tail,
                        CUfunction *out) {
    uint64_t key = text_hash(sig_base_hash(src), tail);
    sig_gen_ctx ctx;
    sig_texts(src, &ctx.a, &ctx.b);
    ctx.tail = tail;
    return em_cu_module_get(dev, key, name, sig_gen, &ctx, out);
}

af_err em_cu_sig_compile(em_cu_sig_src src, const char *name, const char *tail) {
    sig_gen_ctx ctx;
    sig_texts(src, &ctx.a, &ctx.b);
    ctx.tail = tail;
    char *s = sig_gen(&ctx);
    if (!s) return em_err(AF_ERR_NO_MEM, __func__, "out of host memory");
    af_err err = em_cu_compile_source(s, name);
    free(s);
    return err;
}

unsigned em_cu_sig_blocks(int dev, long long n) {
    long long b = (n + EM_CU_BLOCK - 1) / EM_CU_BLOCK;
    if (b > em_cu_devs[dev].grid) b = em_cu_devs[dev].grid;
    return b < 1 ? 1 : (unsigned)b;
}

/* ---- iir ------------------------------------------------------------------------------------ */

/* Mirrors em_iir_params in kernels/signal.cuh. */
typedef struct {
    long long n, na;
    long long cd[4], ad[4];
} em_cu_iir_params;

static void iir_tail(char *buf, size_t cap, af_dtype t) {
    snprintf(buf, cap,
             "extern \"C\" __global__ void em_iir(void *y, const void *c, const void *a, void *z, "
             "em_iir_params p) { em_iir_impl<%d>(y, c, a, z, p); }\n",
             (int)t);
}

af_err em_cu_iir(int dev, af_dtype type, void *y, const void *c, const dim_t cdims[4],
                 const void *a, const dim_t adims[4]) {
    af_err err = AF_SUCCESS;
    cudaStream_t stream;
    int prev = -1;
    CUfunction k;
    char tail[300];
    em_buf *z = NULL;
    em_cu_iir_params p;
    memset(&p, 0, sizeof(p));
    p.n = cdims[0];
    p.na = adims[0];
    for (int i = 0; i < 4; i++) {
        p.cd[i] = cdims[i];
        p.ad[i] = adims[i];
    }
    long long cols = p.cd[1] * p.cd[2] * p.cd[3];
    if (cols == 0 || p.n == 0) return AF_SUCCESS;
    /* One state vector per column (the recurrence runs along the column, one thread each). */
    EM_TRY(em_buf_alloc(dev, (size_t)(cols * p.na) * em_dtype_size(type), &z));
    iir_tail(tail, sizeof(tail), type);
    EM_TRY(em_cu_enter(__func__, dev, &stream, &prev));
    EM_TRY(em_cu_sig_kernel(dev, EM_CU_SIG_SRC_SIGNAL, "em_iir", tail, &k));
    dim3 grid = {(unsigned)((cols + 127) / 128), 1, 1}, block = {128, 1, 1};
    if (grid.x > (unsigned)em_cu_devs[dev].grid) grid.x = (unsigned)em_cu_devs[dev].grid;
    void *zp = z->ptr;
    void *args[] = {&y, (void *)&c, (void *)&a, &zp, &p};
    EM_TRY(em_cu_launch(__func__, "launching the iir kernel", k, grid, block, args, stream));
fail:
    em_cu_leave_enqueued(dev, prev);
    if (z) em_buf_release(z);
    return err;
}

/* ---- medfilt -------------------------------------------------------------------------------- */

typedef struct {
    long long rows, cols, images, wlen, wwid;
    int sym;
} em_cu_med_params;

/* Window capacities of the per-thread array; larger windows count ranks in place (0). A larger
 * array would make every resident thread reserve it in local memory. */
static const int med_caps[] = {16, 64, 0};

static void med_tail(char *buf, size_t cap, af_dtype t, int n) {
    snprintf(buf, cap,
             "extern \"C\" __global__ void __launch_bounds__(128) em_medfilt(void *o, const void "
             "*i, em_med_params p) { em_medfilt_impl<%d, %d>(o, i, p); }\n",
             (int)t, n);
}

af_err em_cu_medfilt(int dev, af_dtype type, void *out, const void *in, const dim_t dims[4],
                     dim_t wlen, dim_t wwid, af_border_type pad) {
    af_err err = AF_SUCCESS;
    cudaStream_t stream;
    int prev = -1;
    CUfunction k;
    char tail[300];
    em_cu_med_params p = {dims[0], dims[1], dims[2] * dims[3], wlen, wwid, pad == AF_PAD_SYM};
    long long total = p.rows * p.cols * p.images;
    if (total == 0) return AF_SUCCESS;
    int cap = 0;
    for (size_t i = 0; i + 1 < sizeof(med_caps) / sizeof(med_caps[0]) && !cap; i++)
        if (wlen * wwid <= med_caps[i]) cap = med_caps[i];
    med_tail(tail, sizeof(tail), type, cap);
    EM_TRY(em_cu_enter(__func__, dev, &stream, &prev));
    EM_TRY(em_cu_sig_kernel(dev, EM_CU_SIG_SRC_SIGNAL, "em_medfilt", tail, &k));
    dim3 grid = {(unsigned)((total + 127) / 128), 1, 1}, block = {128, 1, 1};
    if (grid.x > (unsigned)em_cu_devs[dev].grid) grid.x = (unsigned)em_cu_devs[dev].grid;
    void *args[] = {&out, (void *)&in, &p};
    EM_TRY(
        em_cu_launch(__func__, "launching the median-filter kernel", k, grid, block, args, stream));
fail:
    em_cu_leave_enqueued(dev, prev);
    return err;
}

/* ---- approx1 / approx2 ---------------------------------------------------------------------- */

/* Mirror em_approx_params and em_approx_fast_params in kernels/signal.cuh. */
typedef struct {
    long long id[4], pd[4], od[4];
    double xbeg, xstep, ybeg, ystep;
    float off_grid;
    int xdim, ydim;
} em_cu_approx_params;

typedef struct {
    long long istride;
    double xbeg, xstep, ybeg, ystep;
    int n, batch, pstride;
    int nx, ny, sx, sy;
    float off_grid;
    int unit;
} em_cu_approx_fast_params;

/* The kernel's interpolation family (see kernels/signal.cuh) of an af_interp_type. */
static int approx_kind(int method) {
    switch (method) {
    case AF_INTERP_NEAREST:
        return 0;
    case AF_INTERP_LOWER:
        return 1;
    case AF_INTERP_LINEAR:
    case AF_INTERP_BILINEAR:
        return 2;
    case AF_INTERP_LINEAR_COSINE:
    case AF_INTERP_BILINEAR_COSINE:
        return 3;
    case AF_INTERP_CUBIC:
    case AF_INTERP_BICUBIC:
        return 4;
    default: /* AF_INTERP_CUBIC_SPLINE, AF_INTERP_BICUBIC_SPLINE */
        return 5;
    }
}

/* Outputs per thread of the fast kernel: four gathers in flight, fewer where a value needs many
 * registers (complex values, the sixteen-point bicubic stencil). */
static int approx_per_thread(int kind, bool two, int lanes) {
    if (kind >= 4) return two ? 1 : 2;
    return lanes == 2 ? 2 : 4;
}

/* The generated line defining kernel `name`: the fast kernel (v > 0 outputs per thread) or the
 * general one (v == 0). */
static void approx_tail(char *buf, size_t cap, const char *name, bool dbl, int lanes, int kind,
                        bool two, int v) {
    const char *t = dbl ? "double" : "float";
    if (v > 0)
        snprintf(buf, cap,
                 "extern \"C\" __global__ void __launch_bounds__(256) %s(void *o, const void *i, "
                 "const void *p0, const void *p1, em_approx_fast_params p) { "
                 "em_approx_fast_impl<%s, %d, %d, %d, %d>((%s *)o, (const %s *)i, (const %s *)p0, "
                 "(const %s *)p1, p); }\n",
                 name, t, lanes, kind, (int)two, v, t, t, t, t);
    else
        snprintf(buf, cap,
                 "extern \"C\" __global__ void __launch_bounds__(256) %s(void *o, const void *i, "
                 "const void *p0, const void *p1, em_approx_params p) { em_approx_impl<%s, %d, %d, "
                 "%d>((%s *)o, (const %s *)i, (const %s *)p0, (const %s *)p1, p); }\n",
                 name, t, lanes, kind, (int)two, t, t, t, t);
}

/* The fast kernel's parameters when the call has its shape: the interpolated dims are 0 (approx1)
 * or 0 and 1 in either order (approx2), the positions repeat over all the other dims or vary
 * along all of them, and the sizes fit its 32-bit indices. */
static bool approx_fast_params(const em_approx_desc *d, bool two, int lanes,
                               em_cu_approx_fast_params *f) {
    const dim_t *id = d->idims, *pd = d->pdims, *od = d->odims;
    int plane_dims = two ? 2 : 1;
    if (d->xdim != 0 && !(two && d->xdim == 1)) return false;
    if (two && d->xdim + d->ydim != 1) return false;
    bool repeat = true, follow = true;
    long long n = 1, batch = 1, iplane = 1;
    for (int k = 0; k < 4; k++) {
        if (k < plane_dims) {
            n *= od[k];
            iplane *= id[k];
        } else {
            batch *= od[k];
            repeat = repeat && pd[k] == 1;
            follow = follow && pd[k] == od[k];
        }
    }
    const long long lim = 0x7fffffffLL - 4096;
    if (!(repeat || follow) || n * batch > lim || iplane * lanes > lim) return false;
    memset(f, 0, sizeof(*f));
    f->istride = iplane * lanes;
    f->xbeg = d->xbeg;
    f->xstep = d->xstep;
    f->ybeg = d->ybeg;
    f->ystep = d->ystep;
    f->n = (int)n;
    f->batch = (int)batch;
    f->pstride = repeat ? 0 : (int)n;
    f->nx = (int)id[d->xdim];
    f->ny = two ? (int)id[d->ydim] : 1;
    f->sx = d->xdim == 0 ? 1 : (int)id[0];
    f->sy = two ? (d->ydim == 0 ? 1 : (int)id[0]) : 0;
    f->off_grid = d->off_grid;
    f->unit = d->xbeg == 0 && d->xstep == 1 && (!two || (d->ybeg == 0 && d->ystep == 1));
    return true;
}

static af_err approx_launch(int dev, const em_approx_desc *d, void *out, const void *in,
                            const void *pos0, const void *pos1) {
    af_err err = AF_SUCCESS;
    cudaStream_t stream;
    int prev = -1;
    CUfunction k;
    char tail[500];
    const bool two = pos1 != NULL, dbl = em_dtype_is_double(d->type);
    const int lanes = em_dtype_is_complex(d->type) ? 2 : 1, kind = approx_kind(d->method);
    long long total = (long long)d->odims[0] * d->odims[1] * d->odims[2] * d->odims[3];
    if (total == 0) return AF_SUCCESS;
    em_cu_approx_fast_params fp;
    em_cu_approx_params p;
    const bool fast = approx_fast_params(d, two, lanes, &fp);
    const int v = fast ? approx_per_thread(kind, two, lanes) : 0;
    dim3 grid, block = {256, 1, 1};
    void *params;
    if (fast) {
        grid = (dim3){(unsigned)((total + 256LL * v - 1) / (256LL * v)), 1, 1};
        params = &fp;
    } else {
        memset(&p, 0, sizeof(p));
        for (int i = 0; i < 4; i++) {
            p.id[i] = d->idims[i];
            p.pd[i] = d->pdims[i];
            p.od[i] = d->odims[i];
        }
        p.xbeg = d->xbeg;
        p.xstep = d->xstep;
        p.ybeg = d->ybeg;
        p.ystep = d->ystep;
        p.off_grid = d->off_grid;
        p.xdim = d->xdim;
        p.ydim = d->ydim;
        grid = (dim3){em_cu_sig_blocks(dev, total), 1, 1};
        block = (dim3){EM_CU_BLOCK, 1, 1};
        params = &p;
    }
    approx_tail(tail, sizeof(tail), "em_approx", dbl, lanes, kind, two, v);
    EM_TRY(em_cu_enter(__func__, dev, &stream, &prev));
    EM_TRY(em_cu_sig_kernel(dev, EM_CU_SIG_SRC_SIGNAL, "em_approx", tail, &k));
    void *args[] = {&out, (void *)&in, (void *)&pos0, (void *)&pos1, params};
    EM_TRY(
        em_cu_launch(__func__, "launching the interpolation kernel", k, grid, block, args, stream));
fail:
    em_cu_leave_enqueued(dev, prev);
    return err;
}

af_err em_cu_approx1(int dev, const em_approx_desc *d, void *out, const void *in, const void *pos) {
    return approx_launch(dev, d, out, in, pos, NULL);
}

af_err em_cu_approx2(int dev, const em_approx_desc *d, void *out, const void *in, const void *pos0,
                     const void *pos1) {
    return approx_launch(dev, d, out, in, pos0, pos1);
}

/* ---- the compile check of kernels/signal.cuh ---- */

static af_err signal_compile_check(void) {
    static const af_dtype iir_types[] = {f32, f64, c32, c64};
    static const af_dtype med_types[] = {f32, f64, b8, s32, u32, s16, u16, u8};
    char tail[500];
    af_err err = AF_SUCCESS;
    for (size_t i = 0; i < 4 && err == AF_SUCCESS; i++) {
        iir_tail(tail, sizeof(tail), iir_types[i]);
        err = em_cu_sig_compile(EM_CU_SIG_SRC_SIGNAL, "em_iir", tail);
    }
    for (size_t i = 0; i < sizeof(med_types) / sizeof(med_types[0]) && err == AF_SUCCESS; i++)
        for (size_t c = 0; c < sizeof(med_caps) / sizeof(med_caps[0]) && err == AF_SUCCESS; c++) {
            /* Every dtype at the smallest capacity; the larger ones differ only in the array. */
            if (c > 0 && med_types[i] != f32) break;
            med_tail(tail, sizeof(tail), med_types[i], med_caps[c]);
            err = em_cu_sig_compile(EM_CU_SIG_SRC_SIGNAL, "em_medfilt", tail);
        }
    /* Every interpolation variant, general and fast, batched per precision and kernel. */
    static char src[24 * 512];
    for (int dbl = 0; dbl < 2 && err == AF_SUCCESS; dbl++)
        for (int fast = 0; fast < 2 && err == AF_SUCCESS; fast++) {
            size_t used = 0;
            int nk = 0;
            char name[32];
            src[0] = 0;
            for (int lanes = 1; lanes <= 2; lanes++)
                for (int kind = 0; kind < 6; kind++)
                    for (int two = 0; two < 2; two++) {
                        snprintf(name, sizeof(name), "em_approx_%d", nk++);
                        int v = fast ? approx_per_thread(kind, two, lanes) : 0;
                        approx_tail(tail, sizeof(tail), name, dbl, lanes, kind, two, v);
                        size_t n = strlen(tail);
                        if (used + n + 1 > sizeof(src))
                            return em_err(AF_ERR_INTERNAL, __func__, "compile-check overflow");
                        memcpy(src + used, tail, n + 1);
                        used += n;
                    }
            err = em_cu_sig_compile(EM_CU_SIG_SRC_SIGNAL, "em_approx_0", src);
        }
    return err;
}
EM_CU_COMPILE_CHECK(signal, signal_compile_check)

const struct em_signal_ops em_cu_signal_ops = {
    .fft = em_cu_fft,
    .fft_plan_cache_size = em_cu_fft_plan_cache_size,
    .window = em_cu_window,
    .convolve = em_cu_convolve,
    .convolve_sep = em_cu_convolve_sep,
    .convolve_nn = em_cu_convolve_nn,
    /* Estimated for the H200 from the tile kernel's instruction count against three cuFFT calls
     * and the padding and product passes (docs/SIGNAL.md; to be replaced by the measured
     * crossover): up to 1024 taps (1-D), 25x25 (2-D) and 7x7x7 (3-D) the direct kernels run. */
    .conv_auto_taps = {1024, 625, 343},
    .iir = em_cu_iir,
    .medfilt = em_cu_medfilt,
    .approx1 = em_cu_approx1,
    .approx2 = em_cu_approx2,
};
