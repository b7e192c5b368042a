/* af/cuda.h: ArrayFire's CUDA interop functions and Ember's stream extensions. Ids are Ember
 * device ids (0 the fastest device) except where a name says "native" (a CUDA ordinal). */
#include <af/cuda.h>

#include "../../core/dev.h"
#include "../../core/err.h"
#include "cu.h"

/* The stream Ember enqueues on for device id, created if needed. Creating a stream needs its
 * device current, so the calling thread's current CUDA device is restored afterwards: asking for
 * another device's stream must not move the caller's CUDA work. */
static af_err stream_of(const char *fn, int id, cudaStream_t *out) {
    em_cu_dev *d = &em_cu_devs[id];
    if (atomic_load_explicit(&d->stream_ready, memory_order_acquire)) {
        *out = atomic_load_explicit(&d->stream, memory_order_acquire);
        return AF_SUCCESS;
    }
    int prev = -1;
    af_err err = em_cu_enter(fn, id, out, &prev);
    em_cu_leave(prev);
    return err;
}

static af_err check_id(const char *fn, int pos, int id) {
    af_err err = em_init();
    if (err != AF_SUCCESS) return err;
    if (id < 0 || id >= em_dev_count())
        return em_err(AF_ERR_ARG, fn, "argument %d (id) is %d, must be in 0..%d", pos, id,
                      em_dev_count() - 1);
    return AF_SUCCESS;
}

af_err afcu_get_stream(cudaStream_t *stream, int id) {
    af_err err = AF_SUCCESS;
    cudaStream_t s;
    EM_ARG_NULL(stream, 0);
    EM_TRY(check_id(__func__, 1, id));
    EM_TRY(stream_of(__func__, id, &s));
    *stream = s;
    return AF_SUCCESS;
fail:
    return err;
}

af_err afcu_get_native_id(int *nativeid, int id) {
    af_err err = AF_SUCCESS;
    EM_ARG_NULL(nativeid, 0);
    EM_TRY(check_id(__func__, 1, id));
    *nativeid = em_cu_devs[id].desc.native;
    return AF_SUCCESS;
fail:
    return err;
}

af_err afcu_set_native_id(int nativeid) {
    af_err err = AF_SUCCESS;
    EM_TRY(em_init());
    int n = em_dev_count();
    for (int id = 0; id < n; id++) {
        if (em_cu_devs[id].desc.native != nativeid) continue;
        EM_TRY(em_dev_set_active(id));
        return AF_SUCCESS;
    }
    /* No silent fallback to another device: the caller named one that Ember does not have. As
     * with af_set_device, an id out of range is a bad argument. */
    EM_FAIL(AF_ERR_ARG, "argument 0 (nativeid): CUDA device %d is not one of Ember's %d devices",
            nativeid, n);
fail:
    return err;
}

af_err afcu_cublasSetMathMode(cublasMath_t mode) {
    af_err err = AF_SUCCESS;
    EM_TRY(em_init());
    /* Kept per device and applied to its cuBLAS handle; cuBLAS itself validates the mode. */
    em_cu_devs[em_dev_active()].math_mode = (int)mode;
    return AF_SUCCESS;
fail:
    return err;
}

af_err afcu_set_stream(int id, cudaStream_t stream) {
    af_err err = AF_SUCCESS;
    cudaStream_t old;
    int prev = -1;
    EM_TRY(check_id(__func__, 0, id));
    EM_TRY(em_cu_enter(__func__, id, &old, &prev));
    em_cu_dev *d = &em_cu_devs[id];
    cudaStream_t next = stream ? stream : d->own_stream;
    /* Work already queued on the old stream (and buffers it still reads, which the pool may hand
     * out again) comes before anything Ember enqueues on the new one. */
    EM_TRY(em_cu_stream_order(__func__, id, old, next));
    atomic_store_explicit(&d->stream, next, memory_order_release);
fail:
    em_cu_leave_enqueued(id, prev);
    return err;
}

/* One hand-off between device dev's stream and `user`: Ember's stream waits for the user's work
 * (ember_waits) or the user's stream waits for Ember's. */
static af_err hand_off(const char *fn, int dev, cudaStream_t user, bool ember_waits) {
    af_err err = AF_SUCCESS;
    cudaStream_t s;
    int prev = -1;
    if (em_cu_handoff_ready(dev, &s)) {
        err = em_cu_stream_order(fn, dev, ember_waits ? user : s, ember_waits ? s : user);
        em_cu_enqueued(dev);
        return err;
    }
    EM_TRY(em_cu_enter(fn, dev, &s, &prev));
    EM_TRY(em_cu_stream_order(fn, dev, ember_waits ? user : s, ember_waits ? s : user));
fail:
    em_cu_leave_enqueued(dev, prev);
    return err;
}

af_err afcu_wait_stream(int id, cudaStream_t stream) {
    af_err err = check_id(__func__, 0, id);
    return err == AF_SUCCESS ? hand_off(__func__, id, stream, true) : err;
}

af_err afcu_signal_stream(int id, cudaStream_t stream) {
    af_err err = check_id(__func__, 0, id);
    return err == AF_SUCCESS ? hand_off(__func__, id, stream, false) : err;
}

/* The backend's stream hand-off slots (DLPack's stream exchange), the same ordering as
 * afcu_wait_stream and afcu_signal_stream. */
af_err em_cu_stream_wait(int dev, void *stream) {
    return hand_off(__func__, dev, (cudaStream_t)stream, true);
}

af_err em_cu_stream_signal(int dev, void *stream) {
    return hand_off(__func__, dev, (cudaStream_t)stream, false);
}
