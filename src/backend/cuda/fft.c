/* FFTs on CUDA through cuFFT, and the window copy that pads, truncates and converts around them.
 *
 * Plans are cached per device, keyed by kind, precision, lengths and batch (the direction of a
 * complex transform is chosen at execution, so both share a plan), most recently used first, at
 * most af_set_fft_plan_cache_size of them per device (ArrayFire's default is five). Plans are made
 * with cuFFT's automatic work-area allocation off: each execution takes its work area from Ember's
 * memory pool and gives it back once the work is queued (the pool reuses memory in stream order).
 * An execution sets the plan's stream to the library stream it entered, since the user may switch
 * streams between calls, and holds the plan's lock from that until the work is queued, so two
 * threads never interleave their stream and work-area settings. When cuFFT runs out of memory
 * making a plan, Ember collects its cached blocks and tries once more. */
#include "signal_impl.h"

#include "../../core/err.h"
#include "../../core/mem.h"

#include <cufft.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EM_CU_FFT_CACHE_DEFAULT 5

typedef struct em_cu_plan {
    em_fft_kind kind;
    bool dbl;
    int rank;
    dim_t n[3], batch;
    cufftHandle handle;
    size_t work;          /* work-area bytes */
    pthread_mutex_t lock; /* held from setting the stream to queuing the work */
    int refs;             /* users now; the cache holds none */
    bool dead;            /* evicted while in use: the last user destroys it */
    struct em_cu_plan *next;
} em_cu_plan;

static pthread_mutex_t em_cu_fft_lock = PTHREAD_MUTEX_INITIALIZER;
static em_cu_plan *em_cu_fft_head[EM_MAX_DEVICES];
static size_t em_cu_fft_cap = EM_CU_FFT_CACHE_DEFAULT;

static const char *cufft_name(cufftResult r) {
    switch (r) {
    case CUFFT_SUCCESS:
        return "CUFFT_SUCCESS";
    case CUFFT_INVALID_PLAN:
        return "CUFFT_INVALID_PLAN";
    case CUFFT_ALLOC_FAILED:
        return "CUFFT_ALLOC_FAILED";
    case CUFFT_INVALID_TYPE:
        return "CUFFT_INVALID_TYPE";
    case CUFFT_INVALID_VALUE:
        return "CUFFT_INVALID_VALUE";
    case CUFFT_INTERNAL_ERROR:
        return "CUFFT_INTERNAL_ERROR";
    case CUFFT_EXEC_FAILED:
        return "CUFFT_EXEC_FAILED";
    case CUFFT_SETUP_FAILED:
        return "CUFFT_SETUP_FAILED";
    case CUFFT_INVALID_SIZE:
        return "CUFFT_INVALID_SIZE";
    case CUFFT_INVALID_DEVICE:
        return "CUFFT_INVALID_DEVICE";
    case CUFFT_NOT_SUPPORTED:
        return "CUFFT_NOT_SUPPORTED";
    default:
        return "a cuFFT error";
    }
}

static af_err cufft_err(cufftResult r, const char *fn, const char *what) {
    return em_err(r == CUFFT_ALLOC_FAILED ? AF_ERR_NO_MEM : AF_ERR_INTERNAL, fn, "%s: %s (%d)",
                  what, cufft_name(r), (int)r);
}

/* Destroys a plan; the caller entered the plan's device (cuFFT frees device resources). */
static void plan_destroy(em_cu_plan *p) {
    cufftDestroy(p->handle);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

/* Unlinks the least recently used plans of dev beyond the capacity (the caller holds the cache
 * lock and entered dev); those not in use are destroyed now. */
static void cache_trim(int dev) {
    size_t kept = 0;
    em_cu_plan **link = &em_cu_fft_head[dev];
    while (*link) {
        em_cu_plan *p = *link;
        if (kept < em_cu_fft_cap) {
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

void em_cu_fft_plan_cache_size(size_t n) {
    pthread_mutex_lock(&em_cu_fft_lock);
    em_cu_fft_cap = n;
    for (int dev = 0; dev < EM_MAX_DEVICES; dev++) {
        if (!em_cu_fft_head[dev]) continue;
        cudaStream_t s;
        int prev = -1;
        if (em_cu_enter(__func__, dev, &s, &prev) != AF_SUCCESS) continue;
        cache_trim(dev);
        em_cu_leave(prev);
    }
    pthread_mutex_unlock(&em_cu_fft_lock);
}

static cufftType plan_type(const em_fft_desc *d) {
    switch (d->kind) {
    case EM_FFT_R2C:
        return d->dbl ? CUFFT_D2Z : CUFFT_R2C;
    case EM_FFT_C2R:
        return d->dbl ? CUFFT_Z2D : CUFFT_C2R;
    default:
        return d->dbl ? CUFFT_Z2Z : CUFFT_C2C;
    }
}

/* Makes a cuFFT plan with the basic (dense) layout. cuFFT's lengths run from the slowest dim to
 * the fastest, so Ember's dim 0 is its last, the one R2C and C2R halve. */
static cufftResult plan_make(const em_fft_desc *d, cufftHandle *h, size_t *work) {
    long long n[3];
    for (int k = 0; k < d->rank; k++)
        n[k] = d->n[d->rank - 1 - k];
    cufftResult r = cufftCreate(h);
    if (r != CUFFT_SUCCESS) return r;
    r = cufftSetAutoAllocation(*h, 0);
    if (r == CUFFT_SUCCESS)
        r = cufftMakePlanMany64(*h, d->rank, n, NULL, 1, 0, NULL, 1, 0, plan_type(d),
                                (long long)d->batch, work);
    if (r != CUFFT_SUCCESS) cufftDestroy(*h);
    return r;
}

/* The cached plan for d on dev with one more user (the caller entered dev). */
static af_err plan_get(int dev, const em_fft_desc *d, em_cu_plan **out) {
    af_err err = AF_SUCCESS;
    pthread_mutex_lock(&em_cu_fft_lock);
    em_cu_plan **link = &em_cu_fft_head[dev];
    for (em_cu_plan *p = *link; p; link = &p->next, p = p->next) {
        if (p->kind != d->kind || p->dbl != d->dbl || p->rank != d->rank || p->n[0] != d->n[0] ||
            p->n[1] != d->n[1] || p->n[2] != d->n[2] || p->batch != d->batch)
            continue;
        *link = p->next;
        p->next = em_cu_fft_head[dev];
        em_cu_fft_head[dev] = p;
        p->refs++;
        pthread_mutex_unlock(&em_cu_fft_lock);
        *out = p;
        return AF_SUCCESS;
    }
    em_cu_plan *p = calloc(1, sizeof(*p));
    if (!p) EM_FAIL(AF_ERR_NO_MEM, "out of host memory for an FFT plan");
    cufftResult r = plan_make(d, &p->handle, &p->work);
    if (r == CUFFT_ALLOC_FAILED) {
        /* Give cuFFT the memory the pool is caching, then try once more. */
        em_mem_gc(dev);
        r = plan_make(d, &p->handle, &p->work);
    }
    if (r != CUFFT_SUCCESS) {
        free(p);
        err = cufft_err(r, __func__, "making a cuFFT plan (cufftMakePlanMany64)");
        goto fail;
    }
    pthread_mutex_init(&p->lock, NULL);
    p->kind = d->kind;
    p->dbl = d->dbl;
    p->rank = d->rank;
    memcpy(p->n, d->n, sizeof(p->n));
    p->batch = d->batch;
    p->refs = 1;
    p->next = em_cu_fft_head[dev];
    em_cu_fft_head[dev] = p;
    cache_trim(dev);
    pthread_mutex_unlock(&em_cu_fft_lock);
    *out = p;
    return AF_SUCCESS;
fail:
    pthread_mutex_unlock(&em_cu_fft_lock);
    return err;
}

static void plan_put(em_cu_plan *p) {
    pthread_mutex_lock(&em_cu_fft_lock);
    if (--p->refs == 0 && p->dead) plan_destroy(p);
    pthread_mutex_unlock(&em_cu_fft_lock);
}

static cufftResult plan_exec(const em_cu_plan *p, const em_fft_desc *d, void *in, void *out) {
    int dir = d->forward ? CUFFT_FORWARD : CUFFT_INVERSE;
    switch (d->kind) {
    case EM_FFT_R2C:
        return d->dbl ? cufftExecD2Z(p->handle, in, out) : cufftExecR2C(p->handle, in, out);
    case EM_FFT_C2R:
        return d->dbl ? cufftExecZ2D(p->handle, in, out) : cufftExecC2R(p->handle, in, out);
    default:
        return d->dbl ? cufftExecZ2Z(p->handle, in, out, dir)
                      : cufftExecC2C(p->handle, in, out, dir);
    }
}

/* Multiplies n scalars at p by s on the stream (the caller entered dev). */
static af_err scale_launch(int dev, cudaStream_t stream, bool dbl, void *p, long long n, double s) {
    af_err err = AF_SUCCESS;
    CUfunction k;
    char tail[160];
    snprintf(tail, sizeof(tail),
             "extern \"C\" __global__ void em_scale(void *p, long long n, double s) "
             "{ em_scale_impl<%s>((%s *)p, n, s); }\n",
             dbl ? "double" : "float", dbl ? "double" : "float");
    EM_TRY(em_cu_sig_kernel(dev, EM_CU_SIG_SRC_SIGNAL, "em_scale", tail, &k));
    dim3 grid = {em_cu_sig_blocks(dev, n), 1, 1}, block = {EM_CU_BLOCK, 1, 1};
    void *args[] = {&p, &n, &s};
    EM_TRY(
        em_cu_launch(__func__, "launching the FFT scaling kernel", k, grid, block, args, stream));
fail:
    return err;
}

af_err em_cu_fft(int dev, const em_fft_desc *d, const void *in, void *out) {
    af_err err = AF_SUCCESS;
    cudaStream_t stream;
    int prev = -1;
    em_cu_plan *p = NULL;
    em_buf *work = NULL;
    bool locked = false;
    dim_t elems = d->n[0] * d->n[1] * d->n[2];
    if (elems == 0 || d->batch == 0) return AF_SUCCESS;
    EM_TRY(em_cu_enter(__func__, dev, &stream, &prev));
    EM_TRY(plan_get(dev, d, &p));
    if (p->work) EM_TRY(em_buf_alloc(dev, p->work, &work));
    pthread_mutex_lock(&p->lock);
    locked = true;
    cufftResult r = cufftSetStream(p->handle, stream);
    if (r == CUFFT_SUCCESS && work) r = cufftSetWorkArea(p->handle, work->ptr);
    if (r != CUFFT_SUCCESS) {
        err = cufft_err(r, __func__, "setting the cuFFT plan's stream and work area");
        goto fail;
    }
    r = plan_exec(p, d, (void *)in, out);
    if (r != CUFFT_SUCCESS) {
        err = cufft_err(r, __func__, "executing a cuFFT plan");
        goto fail;
    }
    pthread_mutex_unlock(&p->lock);
    locked = false;
    if (d->scale != 1.0) {
        long long per = d->kind == EM_FFT_C2R   ? elems
                        : d->kind == EM_FFT_R2C ? 2 * (elems / d->n[0]) * (d->n[0] / 2 + 1)
                                                : 2 * elems;
        EM_TRY(scale_launch(dev, stream, d->dbl, out, per * d->batch, d->scale));
    }
fail:
    if (locked) pthread_mutex_unlock(&p->lock);
    if (work) em_buf_release(work);
    if (p) plan_put(p);
    em_cu_leave_enqueued(dev, prev);
    return err;
}

/* ---- the window copy ------------------------------------------------------------------------ */

/* Mirrors kernels/signal.cuh's em_win_params. */
typedef struct {
    long long dims[4], sdims[4], sstrides[4], offset[4];
    double scale;
    int round;
} em_cu_win_params;

af_err em_cu_window(int dev, const em_window_desc *d, void *dst, const void *src) {
    af_err err = AF_SUCCESS;
    cudaStream_t stream;
    int prev = -1;
    CUfunction k;
    char tail[200];
    em_cu_win_params p;
    memset(&p, 0, sizeof(p));
    for (int i = 0; i < 4; i++) {
        p.dims[i] = d->dims[i];
        p.sdims[i] = d->src_dims[i];
        p.sstrides[i] = d->src_strides[i];
        p.offset[i] = d->offset[i];
    }
    p.scale = d->scale;
    p.round = d->round;
    long long rows = p.dims[1] * p.dims[2] * p.dims[3];
    if (rows == 0 || p.dims[0] == 0) return AF_SUCCESS;
    snprintf(tail, sizeof(tail),
             "extern \"C\" __global__ void em_window(void *d, const void *s, em_win_params p) "
             "{ em_window_impl<%d, %d>(d, s, p); }\n",
             (int)d->src_type, (int)d->dst_type);
    EM_TRY(em_cu_enter(__func__, dev, &stream, &prev));
    EM_TRY(em_cu_sig_kernel(dev, EM_CU_SIG_SRC_SIGNAL, "em_window", tail, &k));
    unsigned bx = (unsigned)((p.dims[0] + EM_CU_BLOCK - 1) / EM_CU_BLOCK);
    long long by = rows < 65535 ? rows : 65535;
    dim3 grid = {bx, (unsigned)by, 1}, block = {EM_CU_BLOCK, 1, 1};
    void *args[] = {&dst, (void *)&src, &p};
    EM_TRY(
        em_cu_launch(__func__, "launching the window-copy kernel", k, grid, block, args, stream));
fail:
    em_cu_leave_enqueued(dev, prev);
    return err;
}

/* The pairs the api asks for (src/backend/signal.h): every conversion into the FFT's working
 * types and back out of them; and the scaling kernel. Part of the family's compile check
 * (signal.c). */
af_err em_cu_fft_compile_check(void) {
    static const int reals[] = {f32, b8, s32, u32, u8, s64, u64, s16, u16};
    char tail[200];
    af_err err = AF_SUCCESS;
    int pairs[64][2], np = 0;
    for (size_t i = 0; i < sizeof(reals) / sizeof(reals[0]); i++) {
        pairs[np][0] = reals[i], pairs[np++][1] = f32;
        if (reals[i] != f32) pairs[np][0] = f32, pairs[np++][1] = reals[i];
    }
    const int more[][2] = {{f64, f64}, {f32, c32}, {c32, c32}, {f64, c64}, {c64, c64}};
    for (size_t i = 0; i < sizeof(more) / sizeof(more[0]); i++)
        pairs[np][0] = more[i][0], pairs[np++][1] = more[i][1];
    for (int i = 0; i < np && err == AF_SUCCESS; i++) {
        snprintf(tail, sizeof(tail),
                 "extern \"C\" __global__ void em_window(void *d, const void *s, em_win_params p) "
                 "{ em_window_impl<%d, %d>(d, s, p); }\n",
                 pairs[i][0], pairs[i][1]);
        err = em_cu_sig_compile(EM_CU_SIG_SRC_SIGNAL, "em_window", tail);
    }
    for (int dbl = 0; dbl < 2 && err == AF_SUCCESS; dbl++) {
        snprintf(tail, sizeof(tail),
                 "extern \"C\" __global__ void em_scale(void *p, long long n, double s) "
                 "{ em_scale_impl<%s>((%s *)p, n, s); }\n",
                 dbl ? "double" : "float", dbl ? "double" : "float");
        err = em_cu_sig_compile(EM_CU_SIG_SRC_SIGNAL, "em_scale", tail);
    }
    return err;
}
EM_CU_COMPILE_CHECK(fft, em_cu_fft_compile_check)
