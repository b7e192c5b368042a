/* device.h: devices, memory, device pointers and the kernel cache directory. Written against the
 * backend table and the core only, so every backend library gets the same behaviour. */
#include <af/device.h>

#include "../core/array.h"
#include "../core/dev.h"
#include "../core/err.h"
#include "../core/kcache.h"
#include "../core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Checks a device id given as argument `pos` of `fn`. ArrayFire answers AF_ERR_ARG for an id out
 * of range (its CPU backend silently accepts any id; Ember never falls back silently). */
static af_err dev_check(const char *fn, int pos, int device) {
    int n = em_dev_count();
    if (device < 0 || device >= n)
        return em_err(AF_ERR_ARG, fn, "argument %d (device) is %d, must be in 0..%d", pos, device,
                      n - 1);
    return AF_SUCCESS;
}

af_err af_init(void) {
    return em_init();
}

af_err af_get_device_count(int *num_of_devices) {
    af_err err = AF_SUCCESS;
    EM_ARG_NULL(num_of_devices, 0);
    /* A backend without a usable device (no GPU, or a driver too old) has zero devices: that is
     * an answer, not an error, so that callers can probe a backend. */
    err = em_init();
    if (err != AF_SUCCESS && err != AF_ERR_DRIVER) goto fail;
    *num_of_devices = err == AF_SUCCESS ? em_dev_count() : 0;
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_get_dbl_support(bool *available, const int device) {
    af_err err = AF_SUCCESS;
    EM_ARG_NULL(available, 0);
    EM_TRY(em_init());
    EM_TRY(dev_check(__func__, 1, device));
    *available = em_dev_props_of(device)->dbl != 0;
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_get_half_support(bool *available, const int device) {
    af_err err = AF_SUCCESS;
    EM_ARG_NULL(available, 0);
    EM_TRY(em_init());
    EM_TRY(dev_check(__func__, 1, device));
    *available = em_dev_props_of(device)->half != 0;
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_set_device(const int device) {
    af_err err = AF_SUCCESS;
    EM_TRY(em_init());
    EM_TRY(dev_check(__func__, 0, device));
    EM_TRY(em_dev_set_active(device));
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_get_device(int *device) {
    af_err err = AF_SUCCESS;
    EM_ARG_NULL(device, 0);
    EM_TRY(em_init());
    *device = em_dev_active();
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_sync(const int device) {
    af_err err = AF_SUCCESS;
    EM_TRY(em_init());
    /* -1 names the calling thread's active device, as in ArrayFire. Only queued work is waited
     * for: lazy arrays stay lazy (af_eval evaluates them). */
    int dev = device == -1 ? em_dev_active() : device;
    EM_TRY(dev_check(__func__, 0, dev));
    err = em_backend_self.dev_sync(dev);
    if (err != AF_SUCCESS) EM_FAIL(err, "device %d failed while synchronising", dev);
    return AF_SUCCESS;
fail:
    return err;
}

/* ---- memory ---- */

/* af_alloc_device and af_alloc_device_v2 are the same on the CPU and CUDA backends: user-locked
 * memory from the manager, freed with af_free_device(_v2). Only OpenCL tells them apart. */
static af_err alloc_user(const char *fn, void **ptr, dim_t bytes) {
    if (!ptr) return em_err(AF_ERR_ARG, fn, "argument 0 (ptr) is NULL");
    if (bytes < 0)
        return em_err(AF_ERR_SIZE, fn, "argument 1 (bytes) is %lld, must be >= 0",
                      (long long)bytes);
    af_err err = em_init();
    if (err != AF_SUCCESS) return err;
    int dev = em_dev_active();
    void *p = NULL;
    err = em_mem_alloc_user(dev, (size_t)bytes, &p);
    if (err != AF_SUCCESS)
        return em_err(err, fn, "could not allocate %lld bytes on device %d", (long long)bytes, dev);
    *ptr = p;
    return AF_SUCCESS;
}

static af_err free_user(const char *fn, void *ptr) {
    /* Freeing NULL is a no-op, as with free(). */
    if (!ptr) return AF_SUCCESS;
    af_err err = em_mem_free_user(ptr);
    if (err != AF_SUCCESS)
        return em_err(err, fn,
                      "argument 0 (ptr) %p is not memory from af_alloc_device or a released "
                      "array's af_get_device_ptr (already freed, or still used by an array?)",
                      ptr);
    return AF_SUCCESS;
}

af_err af_alloc_device(void **ptr, const dim_t bytes) {
    return alloc_user(__func__, ptr, bytes);
}

af_err af_free_device(void *ptr) {
    return free_user(__func__, ptr);
}

af_err af_alloc_device_v2(void **ptr, const dim_t bytes) {
    return alloc_user(__func__, ptr, bytes);
}

af_err af_free_device_v2(void *ptr) {
    return free_user(__func__, ptr);
}

af_err af_alloc_pinned(void **ptr, const dim_t bytes) {
    af_err err = AF_SUCCESS;
    void *p = NULL;
    EM_ARG_NULL(ptr, 0);
    if (bytes < 0)
        EM_FAIL(AF_ERR_SIZE, "argument 1 (bytes) is %lld, must be >= 0", (long long)bytes);
    EM_TRY(em_init());
    /* A zero-byte request still returns a distinct pointer that af_free_pinned accepts. */
    err = em_pinned_alloc(bytes ? (size_t)bytes : 1, &p);
    if (err != AF_SUCCESS || !p)
        EM_FAIL(AF_ERR_NO_MEM, "could not allocate %lld bytes of pinned memory", (long long)bytes);
    *ptr = p;
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_free_pinned(void *ptr) {
    if (ptr) em_pinned_free(ptr);
    return AF_SUCCESS;
}

af_err af_alloc_host(void **ptr, const dim_t bytes) {
    af_err err = AF_SUCCESS;
    EM_ARG_NULL(ptr, 0);
    if (bytes < 0)
        EM_FAIL(AF_ERR_SIZE, "argument 1 (bytes) is %lld, must be >= 0", (long long)bytes);
    /* Plain malloc, so that af_free_host (free) releases what the library hands out: the
     * strings of af_get_last_error, af_info_string and af_array_to_string. */
    void *p = malloc(bytes ? (size_t)bytes : 1);
    if (!p)
        EM_FAIL(AF_ERR_NO_MEM, "could not allocate %lld bytes of host memory", (long long)bytes);
    *ptr = p;
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_free_host(void *ptr) {
    free(ptr);
    return AF_SUCCESS;
}

af_err af_device_mem_info(size_t *alloc_bytes, size_t *alloc_buffers, size_t *lock_bytes,
                          size_t *lock_buffers) {
    af_err err = AF_SUCCESS;
    em_mem_info info;
    EM_TRY(em_init());
    em_mem_info_get(em_dev_active(), &info);
    /* Any output may be NULL, as in ArrayFire: the caller skips what it does not need. */
    if (alloc_bytes) *alloc_bytes = info.alloc_bytes;
    if (alloc_buffers) *alloc_buffers = info.alloc_buffers;
    if (lock_bytes) *lock_bytes = info.lock_bytes;
    if (lock_buffers) *lock_buffers = info.lock_buffers;
    return AF_SUCCESS;
fail:
    return err;
}

static void print_mem_row(const char *what, size_t buffers, size_t bytes) {
    double size = (double)bytes / 1024;
    const char *unit = "KB";
    if (size >= 1024) {
        size /= 1024;
        unit = "MB";
    }
    printf("| %-26s | %9zu | %7.f %s |\n", what, buffers, size, unit);
}

af_err af_print_mem_info(const char *msg, const int device_id) {
    af_err err = AF_SUCCESS;
    EM_TRY(em_init());
    int dev = device_id == -1 ? em_dev_active() : device_id;
    if (msg && strlen(msg) >= 256)
        EM_FAIL(AF_ERR_ARG, "argument 0 (msg) is %zu characters long, the limit is 255",
                strlen(msg));
    EM_TRY(dev_check(__func__, 1, dev));
    em_mem_info info;
    em_mem_info_get(dev, &info);
    /* The manager keeps totals rather than a table of every block, so this prints the totals
     * in ArrayFire's units: in use (arrays or user locks), cached for reuse, and their sum. */
    char title[64];
    snprintf(title, sizeof(title), "device %d (%s)", dev, em_backend_self.name);
    printf("%s\n", msg ? msg : "");
    printf("-------------------------------------------------------\n"
           "| %-26s |   BUFFERS |       SIZE |\n"
           "-------------------------------------------------------\n",
           title);
    print_mem_row("in use or user-locked", info.lock_buffers, info.lock_bytes);
    print_mem_row("cached, free for reuse", info.alloc_buffers - info.lock_buffers,
                  info.alloc_bytes - info.lock_bytes);
    print_mem_row("allocated in total", info.alloc_buffers, info.alloc_bytes);
    printf("-------------------------------------------------------\n");
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_device_gc(void) {
    af_err err = AF_SUCCESS;
    EM_TRY(em_init());
    em_mem_gc(em_dev_active());
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_set_mem_step_size(const size_t step_bytes) {
    em_mem_set_step(step_bytes);
    return AF_SUCCESS;
}

af_err af_get_mem_step_size(size_t *step_bytes) {
    af_err err = AF_SUCCESS;
    EM_ARG_NULL(step_bytes, 0);
    *step_bytes = em_mem_get_step();
    return AF_SUCCESS;
fail:
    return err;
}

/* ---- arrays over user memory ---- */

/* Creates an array over the user's buffer `data` with the given origin (ADOPTED, BORROWED or
 * DELETER). On failure the buffer stays the caller's: nothing is freed and no deleter runs. */
static af_err wrap_user(const char *fn, af_array *arr, void *data, unsigned ndims,
                        const dim_t *dims, af_dtype type, em_buf_origin origin,
                        void (*release)(void *, void *), void *ctx) {
    dim_t d[4];
    if (!arr) return em_err(AF_ERR_ARG, fn, "argument 0 (arr) is NULL");
    if (ndims < 1 || ndims > 4)
        return em_err(AF_ERR_SIZE, fn, "argument 2 (ndims) is %u, must be 1..4", ndims);
    af_err err = em_dims_from_user(fn, 2, ndims, dims, d);
    if (err != AF_SUCCESS) return err;
    bool adopt = origin == EM_BUF_ADOPTED;
    /* af_device_array takes ownership of a real block, so ArrayFire wants every dimension >= 1.
     * The borrow extension also wraps empty tensors (DLPack allows them). */
    for (unsigned i = 0; adopt && i < ndims; i++)
        if (d[i] < 1)
            return em_err(AF_ERR_SIZE, fn, "argument 3 (dims): dims[%u] is %lld, must be >= 1", i,
                          (long long)d[i]);
    if (!em_dtype_valid(type))
        return em_err(AF_ERR_TYPE, fn, "argument 4 (type): %d is not a dtype", (int)type);
    size_t bytes = (size_t)em_dims_elements(d) * em_dtype_size(type);
    if (!data && (adopt || bytes > 0)) return em_err(AF_ERR_ARG, fn, "argument 1 (data) is NULL");
    err = em_init();
    if (err != AF_SUCCESS) return err;
    int dev = em_dev_active();

    /* Memory that the manager itself hands out with af_alloc_device stays the manager's: adopting
     * it would free it twice (once at release, once at af_free_device). Borrow it instead, as
     * ArrayFire's manager does when it recognises its own pointer. */
    if (adopt && em_mem_is_user(data)) origin = EM_BUF_BORROWED;

    /* Wrapped as borrowed until the array exists: if building the array fails, releasing the
     * buffer must neither free the caller's memory nor run the caller's deleter. */
    em_buf *buf = NULL;
    em_array *a = NULL;
    err = em_buf_wrap(dev, data, bytes, EM_BUF_BORROWED, NULL, NULL, &buf);
    if (err != AF_SUCCESS) return em_err(err, fn, "out of host memory for a buffer header");
    err = em_array_from_buf(buf, type, d, NULL, 0, dev, &a);
    if (err != AF_SUCCESS) return em_err(err, fn, "out of host memory for an array header");
    buf->origin = origin;
    buf->release = release;
    buf->release_ctx = ctx;
    *arr = a;
    return AF_SUCCESS;
}

af_err af_device_array(af_array *arr, void *data, const unsigned ndims, const dim_t *const dims,
                       const af_dtype type) {
    return wrap_user(__func__, arr, data, ndims, dims, type, EM_BUF_ADOPTED, NULL, NULL);
}

af_err af_device_array_borrow(af_array *arr, void *data, const unsigned ndims,
                              const dim_t *const dims, const af_dtype type,
                              void (*release)(void *ptr, void *ctx), void *ctx) {
    return wrap_user(__func__, arr, data, ndims, dims, type,
                     release ? EM_BUF_DELETER : EM_BUF_BORROWED, release, ctx);
}

/* ---- user locks and device pointers ---- */

/* Sets the user lock on the array's buffer. The lock belongs to the buffer, so locking a view or
 * a shared handle locks the memory every sharer sees: ArrayFire keys its lock on the view's
 * offset pointer instead, which the manager does not know. A lazy array is evaluated first. */
static af_err lock_array(const char *fn, af_array arr) {
    em_array *a;
    af_err err = em_array_get(fn, 0, arr, &a);
    if (err != AF_SUCCESS) return err;
    err = em_array_eval(a);
    if (err != AF_SUCCESS) return err;
    em_buf_user_lock(a->buf);
    return AF_SUCCESS;
}

/* Clears the user lock. The buffer's origin never changes, so an adopted pointer that is
 * unlocked is freed once, by Ember, when its last reference dies; a lazy array has no buffer and
 * nothing to unlock. */
static af_err unlock_array(const char *fn, af_array arr) {
    em_array *a;
    af_err err = em_array_get(fn, 0, arr, &a);
    if (err != AF_SUCCESS) return err;
    if (a->buf) em_buf_user_unlock(a->buf);
    return AF_SUCCESS;
}

af_err af_lock_device_ptr(const af_array arr) {
    return lock_array(__func__, arr);
}

af_err af_unlock_device_ptr(const af_array arr) {
    return unlock_array(__func__, arr);
}

af_err af_lock_array(const af_array arr) {
    return lock_array(__func__, arr);
}

af_err af_unlock_array(const af_array arr) {
    return unlock_array(__func__, arr);
}

af_err af_is_locked_array(bool *res, const af_array arr) {
    af_err err = AF_SUCCESS;
    em_array *a;
    EM_ARG_NULL(res, 0);
    EM_GET(a, arr, 1);
    *res = a->buf != NULL && a->buf->user_lock;
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_get_device_ptr(void **ptr, const af_array arr) {
    af_err err = AF_SUCCESS;
    em_array *a;
    EM_ARG_NULL(ptr, 0);
    EM_GET(a, arr, 1);
    /* The caller may write through the pointer, so the array gets a dense buffer of its own:
     * a shared buffer, a view or an offset is copied first and the other sharers keep theirs. */
    EM_TRY(em_array_make_unique(a));
    em_buf_user_lock(a->buf);
    *ptr = a->buf->ptr;
    return AF_SUCCESS;
fail:
    return err;
}

/* ---- kernel cache ---- */

af_err af_set_kernel_cache_directory(const char *path, int override_env) {
    af_err err = AF_SUCCESS;
    EM_ARG_NULL(path, 0);
    EM_TRY(em_kcache_dir_set(path, override_env != 0));
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_get_kernel_cache_directory(size_t *length, char *path) {
    af_err err = AF_SUCCESS;
    char *snap = NULL;
    if (!path) {
        EM_ARG_NULL(length, 0);
        *length = em_kcache_dir(NULL, 0);
        return AF_SUCCESS;
    }
    /* Take one consistent snapshot: another thread may set the path between two reads. */
    size_t len = em_kcache_dir(NULL, 0);
    for (;;) {
        snap = malloc(len + 1);
        if (!snap) EM_FAIL(AF_ERR_NO_MEM, "out of host memory for the path");
        size_t now = em_kcache_dir(snap, len + 1);
        if (now <= len) {
            len = now;
            break;
        }
        free(snap);
        snap = NULL;
        len = now;
    }
    if (length && *length < len)
        EM_FAIL(AF_ERR_SIZE, "argument 0 (length) is %zu, the path needs %zu characters", *length,
                len);
    /* ArrayFire copies exactly len characters. A terminating NUL is added only where the caller
     * said there is room for it, so a buffer sized from the length query is never overrun. */
    memcpy(path, snap, len);
    if (length && *length > len) path[len] = '\0';
    free(snap);
    return AF_SUCCESS;
fail:
    free(snap);
    return err;
}

/* ---- copies between devices ---- */

/* A dense block on a's device holding a's elements: a's own buffer (*tmp stays NULL) when a is
 * evaluated and dense, else a gathered copy that the caller releases (*tmp). Evaluation and the
 * gather run on a's device, whichever device is active. */
static af_err dense_source(em_array *a, const void **src, em_buf **tmp) {
    *tmp = NULL;
    af_err err = em_array_eval(a);
    if (err != AF_SUCCESS) return err;
    size_t es = em_dtype_size(a->type);
    if (em_array_is_dense(a)) {
        *src = (const char *)a->buf->ptr + (size_t)a->offset * es;
        return AF_SUCCESS;
    }
    em_array view = *a;
    view.leaf = NULL;
    em_node *leaf = NULL;
    err = em_array_node(a, a->dims, &leaf);
    if (err != AF_SUCCESS) return err;
    view.buf = NULL;
    view.node = leaf;
    err = em_array_eval(&view);
    if (view.node) em_node_release(view.node);
    if (err != AF_SUCCESS) return err;
    *tmp = view.buf;
    *src = view.buf->ptr;
    return AF_SUCCESS;
}

af_err af_copy_array_to_device(af_array *out, const af_array in, const int device) {
    af_err err = AF_SUCCESS;
    em_array *a, *res = NULL;
    em_buf *dst = NULL, *tmp = NULL;
    const void *src = NULL;
    EM_ARG_NULL(out, 0);
    EM_GET(a, in, 1);
    EM_TRY(em_init());
    EM_TRY(dev_check(__func__, 2, device));
    if (device == a->dev) {
        /* The same device: a deep copy, exactly as af_copy_array makes it. */
        EM_TRY(em_array_share(a, &res));
        EM_TRY(em_array_make_unique(res));
        *out = res;
        return AF_SUCCESS;
    }
    if (!em_backend_self.copy_peer)
        EM_FAIL(AF_ERR_NOT_SUPPORTED, "the %s backend cannot copy between devices",
                em_backend_self.name);
    /* A user's memory manager allocates on the active device only: it cannot give the block on
     * `device` unless that device is active, nor evaluate or gather `in` on its own device. */
    if (em_mem_get_custom() && device != em_dev_active())
        EM_FAIL(AF_ERR_NOT_SUPPORTED,
                "argument 2 (device) is %d: a custom memory manager allocates on the active "
                "device (%d) only; make device %d active first",
                device, em_dev_active(), device);
    if (em_mem_get_custom() && (a->node || !em_array_is_dense(a)))
        EM_FAIL(AF_ERR_NOT_SUPPORTED,
                "argument 1 lives on device %d and is %s: with a custom memory manager, which "
                "allocates on the active device only, evaluate it there first (af_eval)",
                a->dev, a->node ? "lazy" : "a strided view");
    size_t bytes = (size_t)em_array_elements(a) * em_dtype_size(a->type);
    EM_TRY(dense_source(a, &src, &tmp));
    EM_TRY(em_buf_alloc(device, bytes, &dst));
    if (bytes) EM_TRY(em_backend_self.copy_peer(device, dst->ptr, a->dev, src, bytes));
    /* The copy made the source device's stream wait for it, so a gathered block may go back to
     * the pool at once. */
    em_buf_release(tmp);
    tmp = NULL;
    err = em_array_from_buf(dst, a->type, a->dims, NULL, 0, device, &res);
    dst = NULL; /* taken over by the array, or released on failure */
    if (err != AF_SUCCESS) EM_FAIL(err, "out of host memory for an array header");
    *out = res;
    return AF_SUCCESS;
fail:
    em_buf_release(tmp);
    em_buf_release(dst);
    em_array_free(res);
    return err;
}
