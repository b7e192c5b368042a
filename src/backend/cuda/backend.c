/* The CUDA backend: devices in ArrayFire's order, one library stream per device, raw memory and
 * copies on that stream, and the em_backend table. */
#include "cu.h"

#include "../../core/err.h"

#include "../algorithm.h"
#include "../blas.h"
#include "../signal.h"
#include "../index.h"
#include "../lapack.h"

#include <af/dlpack.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

em_cu_dev em_cu_devs[EM_MAX_DEVICES];
static int em_cu_ndev;
static pthread_once_t em_cu_discover_once = PTHREAD_ONCE_INIT;

af_err em_cu_err(cudaError_t e, const char *fn, const char *what) {
    af_err code;
    switch (e) {
    case cudaErrorMemoryAllocation:
        code = AF_ERR_NO_MEM;
        break;
    case cudaErrorInsufficientDriver:
    case cudaErrorNoDevice:
    case cudaErrorStubLibrary:
    case cudaErrorSystemDriverMismatch:
    case cudaErrorCompatNotSupportedOnDevice:
        code = AF_ERR_DRIVER;
        break;
    case cudaErrorInvalidDevice:
    case cudaErrorDevicesUnavailable:
        code = AF_ERR_DEVICE;
        break;
    default:
        code = AF_ERR_RUNTIME;
        break;
    }
    /* Clear the runtime's per-thread error so that a user's cudaGetLastError sees only its own.
     * Sticky errors (a kernel fault) stay: every later call reports them, as CUDA intends. */
    (void)cudaGetLastError();
    return em_err(code, fn, "%s: CUDA error %d (%s): %s", what, (int)e, cudaGetErrorName(e),
                  cudaGetErrorString(e));
}

/* Device discovery. Runtime errors here (no driver, error 35; no device, error 100) mean "no
 * CUDA device": the count is 0 and em_init reports AF_ERR_DRIVER. */
#define EM_CU_SCAN_MAX 64

static void em_cu_discover_run(void) {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess || n <= 0) {
        (void)cudaGetLastError();
        return;
    }
    if (n > EM_CU_SCAN_MAX) n = EM_CU_SCAN_MAX;
    em_cu_dev_desc list[EM_CU_SCAN_MAX];
    static char names[EM_CU_SCAN_MAX][256];
    int grids[EM_CU_SCAN_MAX];
    int count = 0;
    for (int i = 0; i < n; i++) {
        em_cu_dev_desc *d = &list[count];
        struct cudaDeviceProp prop;
        if (cudaGetDeviceProperties(&prop, i) != cudaSuccess ||
            cudaDeviceGetAttribute(&d->clock_khz, cudaDevAttrClockRate, i) != cudaSuccess) {
            (void)cudaGetLastError();
            continue;
        }
        d->native = i;
        d->sm_count = prop.multiProcessorCount;
        d->major = prop.major;
        d->minor = prop.minor;
        d->mem_bytes = prop.totalGlobalMem;
        snprintf(names[i], sizeof(names[i]), "%s", prop.name);
        /* A grid-stride kernel fills the device with as many blocks as can be resident. */
        int per_sm = prop.maxThreadsPerMultiProcessor / EM_CU_BLOCK;
        grids[i] = prop.multiProcessorCount * (per_sm > 0 ? per_sm : 1);
        count++;
    }
    em_cu_dev_order(list, count);
    /* Ember keeps the fastest EM_MAX_DEVICES. */
    if (count > EM_MAX_DEVICES) count = EM_MAX_DEVICES;
    for (int i = 0; i < count; i++) {
        em_cu_dev *dev = &em_cu_devs[i];
        int native = list[i].native;
        dev->desc = list[i];
        dev->arch = list[i].major * 10 + list[i].minor;
        dev->grid = grids[native];
        memcpy(dev->name, names[native], sizeof(dev->name));
        atomic_init(&dev->stream, (cudaStream_t)0);
        atomic_init(&dev->stream_ready, 0);
        atomic_init(&dev->enqueued, 0);
        atomic_init(&dev->synced, 0);
        pthread_mutex_init(&dev->stream_lock, NULL);
    }
    em_cu_ndev = count;
}

int em_cu_discover(void) {
    pthread_once(&em_cu_discover_once, em_cu_discover_run);
    return em_cu_ndev;
}

/* Creates the device's library stream once. The caller has made the device current. */
static af_err em_cu_stream_init(const char *fn, em_cu_dev *d) {
    af_err err = AF_SUCCESS;
    pthread_mutex_lock(&d->stream_lock);
    if (!atomic_load_explicit(&d->stream_ready, memory_order_acquire)) {
        /* cudaStreamCreate, not cudaStreamNonBlocking: user work on the legacy default stream
         * stays ordered with Ember's, as with ArrayFire's stream. */
        cudaError_t e = cudaStreamCreate(&d->own_stream);
        if (e != cudaSuccess) {
            err = em_cu_err(e, fn, "creating the library stream");
        } else {
            cudaStream_t expect = 0;
            /* afcu_set_stream may already have installed a user stream; keep it. */
            atomic_compare_exchange_strong(&d->stream, &expect, d->own_stream);
            atomic_store_explicit(&d->stream_ready, 1, memory_order_release);
        }
    }
    pthread_mutex_unlock(&d->stream_lock);
    return err;
}

af_err em_cu_enter(const char *fn, int dev, cudaStream_t *stream, int *prev) {
    if (prev) *prev = -1;
    if (dev < 0 || dev >= em_cu_ndev)
        return em_err(AF_ERR_DEVICE, fn, "device %d does not exist (%d available)", dev,
                      em_cu_ndev);
    em_cu_dev *d = &em_cu_devs[dev];
    int cur = -1;
    cudaError_t e = cudaGetDevice(&cur);
    if (e != cudaSuccess) return em_cu_err(e, fn, "cudaGetDevice");
    if (cur != d->desc.native) {
        e = cudaSetDevice(d->desc.native);
        if (e != cudaSuccess) return em_cu_err(e, fn, "cudaSetDevice");
        if (prev) *prev = cur;
    }
    if (!atomic_load_explicit(&d->stream_ready, memory_order_acquire)) {
        af_err err = em_cu_stream_init(fn, d);
        if (err != AF_SUCCESS) {
            if (prev) em_cu_leave(*prev), *prev = -1;
            return err;
        }
    }
    if (stream) *stream = atomic_load_explicit(&d->stream, memory_order_acquire);
    return AF_SUCCESS;
}

void em_cu_enqueued(int dev) {
    atomic_fetch_add_explicit(&em_cu_devs[dev].enqueued, 1, memory_order_acq_rel);
}

void em_cu_leave(int prev) {
    if (prev >= 0 && cudaSetDevice(prev) != cudaSuccess) (void)cudaGetLastError();
}

void em_cu_leave_enqueued(int dev, int prev) {
    em_cu_enqueued(dev);
    em_cu_leave(prev);
}

/* Makes `waiter` wait for the work enqueued so far on `signaller`, through an event, without
 * blocking the host. The event may be destroyed at once: the wait keeps what it needs. */
/* One event per host thread and CUDA device, created on first use and reused: a wait captures
 * the event's state when it is enqueued, so recording the same event again later cannot disturb
 * an earlier wait, and creating and destroying an event per hand-off cost several times as much
 * (docs/BENCH.md). The events live until the process ends. */
#define EM_CU_MAX_NATIVE 64
static _Thread_local cudaEvent_t em_cu_handoff_ev[EM_CU_MAX_NATIVE];

bool em_cu_handoff_ready(int dev, cudaStream_t *stream) {
    em_cu_dev *d = &em_cu_devs[dev];
    int native = d->desc.native;
    if (native < 0 || native >= EM_CU_MAX_NATIVE || !em_cu_handoff_ev[native] ||
        !atomic_load_explicit(&d->stream_ready, memory_order_acquire))
        return false;
    *stream = atomic_load_explicit(&d->stream, memory_order_acquire);
    return true;
}

af_err em_cu_stream_order(const char *fn, int dev, cudaStream_t signaller, cudaStream_t waiter) {
    if (signaller == waiter) return AF_SUCCESS;
    /* Hand-off events are per native device. A new one is created only on the entered path
     * (em_cu_enter made dev current); em_cu_handoff_ready found the event already made. */
    int cur = em_cu_devs[dev].desc.native;
    cudaError_t e;
    cudaEvent_t ev = cur >= 0 && cur < EM_CU_MAX_NATIVE ? em_cu_handoff_ev[cur] : NULL;
    bool own = cur < 0 || cur >= EM_CU_MAX_NATIVE;
    if (!ev) {
        e = cudaEventCreateWithFlags(&ev, cudaEventDisableTiming);
        if (e != cudaSuccess) return em_cu_err(e, fn, "cudaEventCreateWithFlags");
        if (!own) em_cu_handoff_ev[cur] = ev;
    }
    af_err err = AF_SUCCESS;
    e = cudaEventRecord(ev, signaller);
    if (e != cudaSuccess) err = em_cu_err(e, fn, "cudaEventRecord");
    if (err == AF_SUCCESS) {
        e = cudaStreamWaitEvent(waiter, ev, 0);
        if (e != cudaSuccess) err = em_cu_err(e, fn, "cudaStreamWaitEvent");
    }
    if (own && cudaEventDestroy(ev) != cudaSuccess) (void)cudaGetLastError();
    return err;
}

static int em_cu_dev_count(void) {
    return em_cu_discover();
}

static af_err em_cu_dev_props(int dev, em_dev_props *out) {
    if (dev < 0 || dev >= em_cu_discover())
        return em_err(AF_ERR_DEVICE, __func__, "device %d does not exist", dev);
    const em_cu_dev *d = &em_cu_devs[dev];
    memset(out, 0, sizeof(*out));
    int rt = 0;
    if (cudaRuntimeGetVersion(&rt) != cudaSuccess) (void)cudaGetLastError();
    snprintf(out->name, sizeof(out->name), "%s", d->name);
    snprintf(out->platform, sizeof(out->platform), "CUDA");
    snprintf(out->toolkit, sizeof(out->toolkit), "v%d.%d", rt / 1000, (rt % 1000) / 10);
    snprintf(out->compute, sizeof(out->compute), "%d.%d", d->desc.major, d->desc.minor);
    out->mem_bytes = d->desc.mem_bytes;
    out->native_id = d->desc.native;
    out->dbl = 1;
    /* Half arithmetic needs compute 5.3 or newer (ArrayFire's rule). */
    out->half = d->arch >= 53;
    return AF_SUCCESS;
}

static af_err em_cu_dev_activate(int dev) {
    return em_cu_enter(__func__, dev, NULL, NULL);
}

static af_err em_cu_dev_sync(int dev) {
    af_err err = AF_SUCCESS;
    cudaStream_t s;
    int prev = -1;
    EM_TRY(em_cu_enter(__func__, dev, &s, &prev));
    /* Every enqueue counted by now returned before this point, so the synchronisation below
     * covers it; one counted later makes the device busy again. A slower thread storing an
     * older count only causes an extra sync later, never a skipped one. */
    unsigned long long from = atomic_load_explicit(&em_cu_devs[dev].enqueued, memory_order_acquire);
    EM_CU_TRY(cudaStreamSynchronize(s), "cudaStreamSynchronize");
    atomic_store_explicit(&em_cu_devs[dev].synced, from, memory_order_release);
fail:
    em_cu_leave(prev);
    return err;
}

/* The driver's launch and kernel lookup, found once through the runtime
 * (cudaGetDriverEntryPointByVersion), so the library links only the runtime. Both exist from
 * CUDA 12.0, which the context-independent libraries Ember loads kernels into need anyway. */
typedef CUresult (*em_cu_launch_fn)(CUfunction f, unsigned gx, unsigned gy, unsigned gz,
                                    unsigned bx, unsigned by, unsigned bz, unsigned shared,
                                    CUstream stream, void **params, void **extra);
typedef CUresult (*em_cu_get_function_fn)(CUfunction *f, CUkernel k);
static em_cu_launch_fn em_cu_driver_launch;
static em_cu_get_function_fn em_cu_driver_get_function;
static pthread_once_t em_cu_driver_once = PTHREAD_ONCE_INIT;

static void *em_cu_driver_entry(const char *name) {
    void *fp = NULL;
    enum cudaDriverEntryPointQueryResult found;
    if (cudaGetDriverEntryPointByVersion(name, &fp, 12000, cudaEnableDefault, &found) !=
            cudaSuccess ||
        found != cudaDriverEntryPointSuccess) {
        (void)cudaGetLastError();
        return NULL;
    }
    return fp;
}

static void em_cu_driver_resolve(void) {
    em_cu_driver_launch = (em_cu_launch_fn)em_cu_driver_entry("cuLaunchKernel");
    em_cu_driver_get_function = (em_cu_get_function_fn)em_cu_driver_entry("cuKernelGetFunction");
}

/* A driver failure as an af_err: out of memory stays AF_ERR_NO_MEM. */
static af_err em_cu_driver_err(CUresult r, const char *fn, const char *what) {
    return em_err(r == CUDA_ERROR_OUT_OF_MEMORY ? AF_ERR_NO_MEM : AF_ERR_INTERNAL, fn,
                  "%s: CUresult %d", what, (int)r);
}

af_err em_cu_kernel_function(const char *fn, cudaKernel_t k, CUfunction *out) {
    pthread_once(&em_cu_driver_once, em_cu_driver_resolve);
    if (!em_cu_driver_get_function || !em_cu_driver_launch)
        return em_err(AF_ERR_DRIVER, fn,
                      "the CUDA driver lacks cuKernelGetFunction or cuLaunchKernel (CUDA 12.0 "
                      "or newer is needed)");
    CUresult r = em_cu_driver_get_function(out, (CUkernel)(void *)k);
    return r == CUDA_SUCCESS ? AF_SUCCESS : em_cu_driver_err(r, fn, "cuKernelGetFunction");
}

af_err em_cu_launch(const char *fn, const char *what, CUfunction func, dim3 grid, dim3 block,
                    void **args, cudaStream_t stream) {
    /* em_cu_kernel_function resolved the driver before any kernel could be had. */
    CUresult r = em_cu_driver_launch(func, grid.x, grid.y, grid.z, block.x, block.y, block.z, 0,
                                     (CUstream)stream, args, NULL);
    return r == CUDA_SUCCESS ? AF_SUCCESS : em_cu_driver_err(r, fn, what);
}

static bool em_cu_dev_idle(int dev) {
    const em_cu_dev *d = &em_cu_devs[dev];
    return atomic_load_explicit(&d->synced, memory_order_acquire) ==
           atomic_load_explicit(&d->enqueued, memory_order_acquire);
}

static af_err em_cu_mem_alloc(int dev, size_t bytes, void **ptr) {
    af_err err = AF_SUCCESS;
    int prev = -1;
    *ptr = NULL;
    EM_TRY(em_cu_enter(__func__, dev, NULL, &prev));
    EM_CU_TRY(cudaMalloc(ptr, bytes ? bytes : 1), "cudaMalloc");
fail:
    if (err != AF_SUCCESS) *ptr = NULL;
    em_cu_leave(prev);
    return err;
}

static void em_cu_mem_free(int dev, void *ptr) {
    int prev = -1;
    if (!ptr) return;
    /* A free cannot fail in a way the caller could act on; errors (such as the runtime already
     * unloading at process exit) are cleared, not reported. */
    if (em_cu_enter(__func__, dev, NULL, &prev) != AF_SUCCESS) return;
    if (cudaFree(ptr) != cudaSuccess) (void)cudaGetLastError();
    em_cu_leave(prev);
}

static af_err em_cu_mem_free_bytes(int dev, size_t *free_bytes) {
    af_err err = AF_SUCCESS;
    size_t total = 0;
    int prev = -1;
    EM_TRY(em_cu_enter(__func__, dev, NULL, &prev));
    EM_CU_TRY(cudaMemGetInfo(free_bytes, &total), "cudaMemGetInfo");
fail:
    em_cu_leave(prev);
    return err;
}

static af_err em_cu_pinned_alloc(size_t bytes, void **ptr) {
    af_err err = AF_SUCCESS;
    *ptr = NULL;
    EM_CU_TRY(cudaMallocHost(ptr, bytes ? bytes : 1), "cudaMallocHost");
    return AF_SUCCESS;
fail:
    *ptr = NULL;
    return err;
}

static void em_cu_pinned_free(void *ptr) {
    if (ptr && cudaFreeHost(ptr) != cudaSuccess) (void)cudaGetLastError();
}

/* Copies run on the device's stream, so they are ordered after the work that produced the
 * source. Those that touch host memory wait for the stream before returning, since the caller may
 * read the destination (d2h) or reuse the source (h2d: a pinned source is read by DMA after
 * cudaMemcpyAsync returns) at once. */
static af_err em_cu_copy(const char *fn, int dev, void *dst, const void *src, size_t bytes,
                         enum cudaMemcpyKind kind, bool wait) {
    af_err err = AF_SUCCESS;
    cudaStream_t s;
    int prev = -1;
    if (bytes == 0) return AF_SUCCESS;
    EM_TRY(em_cu_enter(fn, dev, &s, &prev));
    EM_CU_TRY(cudaMemcpyAsync(dst, src, bytes, kind, s), "cudaMemcpyAsync");
    if (wait) EM_CU_TRY(cudaStreamSynchronize(s), "cudaStreamSynchronize after a copy");
fail:
    em_cu_leave_enqueued(dev, prev);
    return err;
}

static af_err em_cu_copy_h2d(int dev, void *dst, const void *src, size_t bytes) {
    return em_cu_copy(__func__, dev, dst, src, bytes, cudaMemcpyHostToDevice, true);
}

static af_err em_cu_copy_d2h(int dev, void *dst, const void *src, size_t bytes) {
    return em_cu_copy(__func__, dev, dst, src, bytes, cudaMemcpyDeviceToHost, true);
}

static af_err em_cu_copy_d2d(int dev, void *dst, const void *src, size_t bytes) {
    /* cudaMemcpyDefault: with unified addressing the runtime tells where each pointer lives, so
     * a user's pointer from another device or pinned host memory (af_write_array with afDevice)
     * also copies correctly. */
    return em_cu_copy(__func__, dev, dst, src, bytes, cudaMemcpyDefault, false);
}

/* Peer access, switched on once per ordered pair of devices: [dst][src] is 1 when dst reads
 * src's memory directly, -1 when the devices cannot (the copy is then staged through the host by
 * the runtime), 0 before the first copy between them. */
static pthread_mutex_t em_cu_peer_lock = PTHREAD_MUTEX_INITIALIZER;
static signed char em_cu_peer_state[EM_MAX_DEVICES][EM_MAX_DEVICES];

/* Enables dst's access to src's memory when the hardware allows it. The caller has made dst
 * current, since peer access is granted to the current device. A refusal is not an error:
 * cudaMemcpyPeerAsync works without peer access, only slower. */
static void em_cu_peer_enable(int dst, int src) {
    pthread_mutex_lock(&em_cu_peer_lock);
    if (em_cu_peer_state[dst][src] == 0) {
        int can = 0;
        signed char state = -1;
        cudaError_t e =
            cudaDeviceCanAccessPeer(&can, em_cu_devs[dst].desc.native, em_cu_devs[src].desc.native);
        if (e == cudaSuccess && can) {
            e = cudaDeviceEnablePeerAccess(em_cu_devs[src].desc.native, 0);
            /* The user's own code may have enabled it already: that is the state we want. */
            if (e == cudaSuccess || e == cudaErrorPeerAccessAlreadyEnabled) state = 1;
        }
        if (e != cudaSuccess) (void)cudaGetLastError();
        em_cu_peer_state[dst][src] = state;
    }
    pthread_mutex_unlock(&em_cu_peer_lock);
}

/* A copy between devices, ordered through events and without a host sync: the destination's
 * stream waits for the work queued so far on the source's stream, copies, and the source's stream
 * then waits for the copy. The last wait matters to the memory manager: a source block released
 * right after this call goes back to the source device's pool, whose next user is ordered on the
 * source's stream only, so that stream must not run ahead of the copy that still reads it. The
 * calling thread's current CUDA device is restored. */
static af_err em_cu_copy_peer(int dst_dev, void *dst, int src_dev, const void *src, size_t bytes) {
    af_err err = AF_SUCCESS;
    cudaStream_t s_src, s_dst;
    cudaEvent_t ready = NULL, done = NULL;
    int orig = -1;
    if (bytes == 0) return AF_SUCCESS;
    if (dst_dev == src_dev) return em_cu_copy_d2d(dst_dev, dst, src, bytes);
    EM_CU_TRY(cudaGetDevice(&orig), "cudaGetDevice");
    /* An event is recorded on a stream of its own device, so each is created with it current. */
    EM_TRY(em_cu_enter(__func__, src_dev, &s_src, NULL));
    EM_CU_TRY(cudaEventCreateWithFlags(&ready, cudaEventDisableTiming), "cudaEventCreateWithFlags");
    EM_CU_TRY(cudaEventRecord(ready, s_src), "cudaEventRecord on the source's stream");
    EM_TRY(em_cu_enter(__func__, dst_dev, &s_dst, NULL));
    em_cu_peer_enable(dst_dev, src_dev);
    EM_CU_TRY(cudaStreamWaitEvent(s_dst, ready, 0), "cudaStreamWaitEvent on the destination");
    EM_CU_TRY(cudaMemcpyPeerAsync(dst, em_cu_devs[dst_dev].desc.native, src,
                                  em_cu_devs[src_dev].desc.native, bytes, s_dst),
              "cudaMemcpyPeerAsync");
    EM_CU_TRY(cudaEventCreateWithFlags(&done, cudaEventDisableTiming), "cudaEventCreateWithFlags");
    EM_CU_TRY(cudaEventRecord(done, s_dst), "cudaEventRecord on the destination's stream");
    /* A stream may wait for another device's event; the wait is issued with the stream's own
     * device current, as every other call on that stream is. */
    EM_TRY(em_cu_enter(__func__, src_dev, NULL, NULL));
    EM_CU_TRY(cudaStreamWaitEvent(s_src, done, 0), "cudaStreamWaitEvent on the source");
fail:
    /* Destroying an event that a queued wait still refers to is allowed: the wait keeps it. */
    if (ready && cudaEventDestroy(ready) != cudaSuccess) (void)cudaGetLastError();
    if (done && cudaEventDestroy(done) != cudaSuccess) (void)cudaGetLastError();
    em_cu_enqueued(src_dev);
    em_cu_enqueued(dst_dev);
    if (orig >= 0) {
        int cur = -1;
        if ((cudaGetDevice(&cur) != cudaSuccess || cur != orig) &&
            cudaSetDevice(orig) != cudaSuccess)
            (void)cudaGetLastError();
    }
    return err;
}

const em_backend em_backend_self = {
    .id = AF_BACKEND_CUDA,
    .name = "CUDA",
    .dev_count = em_cu_dev_count,
    .dev_props = em_cu_dev_props,
    .dev_activate = em_cu_dev_activate,
    .dev_sync = em_cu_dev_sync,
    .dev_idle = em_cu_dev_idle,
    .mem_alloc = em_cu_mem_alloc,
    .mem_free = em_cu_mem_free,
    .mem_free_bytes = em_cu_mem_free_bytes,
    .pinned_alloc = em_cu_pinned_alloc,
    .pinned_free = em_cu_pinned_free,
    .adopted_free = em_cu_mem_free,
    .copy_h2d = em_cu_copy_h2d,
    .copy_d2h = em_cu_copy_d2h,
    .copy_d2d = em_cu_copy_d2d,
    .copy_peer = em_cu_copy_peer,
    .jit_eval = em_cu_jit_eval,
    .jit_eval_window = em_cu_jit_eval_window,
    .stream_wait = em_cu_stream_wait,
    .stream_signal = em_cu_stream_signal,
    .event_create = em_cu_event_create,
    .event_destroy = em_cu_event_destroy,
    .event_record = em_cu_event_record,
    .event_wait = em_cu_event_wait,
    .event_sync = em_cu_event_sync,
    .random = em_cu_random,
    .default_device_env = "AF_CUDA_DEFAULT_DEVICE",
    .dlpack_device_type = kDLCUDA,
    /* Operation families: one line each. */
    .lapack = &em_cu_lapack_ops,
    .blas = &em_cu_blas_ops,
    .algo = &em_cu_algo_ops,
    .signal = &em_cu_signal_ops,
    .index = &em_cu_index_ops,
};
