/* The unified layer: loads the backend libraries, keeps each host thread's active backend, and
 * answers the functions that no single backend can (backend selection, the last error, error
 * strings, host memory without a backend, af_make_seq). The forwarders are in forward.c. */
#define _GNU_SOURCE
#include "unified.h"

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EM_UNI_MSG_MAX 1024

typedef struct {
    af_backend id;
    const char *name;
    const char *lib;
    /* 0 not probed yet, 1 available, 2 unavailable; written once under em_uni_lock. */
    atomic_int state;
    void *handle;
    char why[768]; /* why the backend is unavailable */
} em_uni_backend;

static em_uni_backend em_uni_bk[EM_UNI_BACKENDS] = {
    [EM_UNI_CPU] = {.id = AF_BACKEND_CPU, .name = "cpu", .lib = "libafcpu.so.3"},
    [EM_UNI_CUDA] = {.id = AF_BACKEND_CUDA, .name = "cuda", .lib = "libafcuda.so.3"},
};
static pthread_mutex_t em_uni_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t em_uni_default_once = PTHREAD_ONCE_INIT;
static atomic_int em_uni_default = -1;

/* The calling thread's backend as set by af_set_backend; -1 means the default. ArrayFire keeps
 * the active backend per host thread too, starting each thread on the default. */
static _Thread_local int em_uni_active = -1;
_Thread_local int em_uni_err_src = EM_UNI_SRC_NONE;
static _Thread_local char em_uni_msg[EM_UNI_MSG_MAX];

/* Marks a symbol that a backend lacks, so that dlsym runs once per function and backend. */
static char em_uni_missing_marker;
#define EM_UNI_MISSING ((void *)&em_uni_missing_marker)

static const char *em_uni_err_string(af_err err);

/* Records the unified layer's own error, as the backends' em_err does: "fn: reason". */
__attribute__((format(printf, 3, 4))) static af_err em_uni_fail(af_err code, const char *fn,
                                                                const char *fmt, ...) {
    int n = snprintf(em_uni_msg, sizeof(em_uni_msg), "%s: ", fn);
    if (n < 0 || n >= (int)sizeof(em_uni_msg)) n = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(em_uni_msg + n, sizeof(em_uni_msg) - (size_t)n, fmt, ap);
    va_end(ap);
    em_uni_err_src = EM_UNI_SRC_SELF;
    const char *print = getenv("AF_PRINT_ERRORS");
    if (print && print[0] == '1')
        fprintf(stderr, "Ember error %d (%s): %s\n", (int)code, em_uni_err_string(code),
                em_uni_msg);
    return code;
}

/* dlopen the backend: first next to libaf.so.3 itself, so that a build tree or an install
 * prefix is self-contained, then through the default search path (LD_LIBRARY_PATH, rpath,
 * ld.so.cache). RTLD_LOCAL keeps the two backends' identically named symbols apart. */
static void *em_uni_open(em_uni_backend *b) {
    char path[PATH_MAX];
    Dl_info info;
    const char *err;
    void *h = NULL;
    int used = 0;
    b->why[0] = '\0';
    if (dladdr((void *)&em_uni_open, &info) && info.dli_fname) {
        const char *slash = strrchr(info.dli_fname, '/');
        int n = slash ? snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - info.dli_fname),
                                 info.dli_fname, b->lib)
                      : -1;
        if (n > 0 && n < (int)sizeof(path)) {
            h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
            if (!h) {
                err = dlerror();
                used = snprintf(b->why, sizeof(b->why), "%s; ", err ? err : path);
                if (used < 0 || used >= (int)sizeof(b->why)) used = 0;
            }
        }
    }
    if (!h) {
        snprintf(path, sizeof(path), "%s", b->lib);
        h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (!h) {
            err = dlerror();
            snprintf(b->why + used, sizeof(b->why) - (size_t)used, "%s", err ? err : b->lib);
            return NULL;
        }
    }
    const char *show = getenv("AF_SHOW_LOAD_PATH");
    if (show && show[0] == '1') printf("Using %s\n", path);
    return h;
}

/* Loads backend i once and decides whether it is usable: the CPU library when it loads, the
 * CUDA library when it loads and reports at least one device. */
static bool em_uni_probe(int i) {
    em_uni_backend *b = &em_uni_bk[i];
    int s = atomic_load_explicit(&b->state, memory_order_acquire);
    if (s) return s == 1;
    pthread_mutex_lock(&em_uni_lock);
    s = atomic_load_explicit(&b->state, memory_order_relaxed);
    if (!s) {
        bool ok = false;
        b->handle = em_uni_open(b);
        if (b->handle && i == EM_UNI_CUDA) {
            af_err (*count)(int *) = (af_err(*)(int *))dlsym(b->handle, "af_get_device_count");
            int n = 0;
            af_err e = count ? count(&n) : AF_ERR_NOT_SUPPORTED;
            if (!count)
                snprintf(b->why, sizeof(b->why), "%s lacks af_get_device_count", b->lib);
            else if (e != AF_SUCCESS || n < 1)
                snprintf(b->why, sizeof(b->why),
                         "no CUDA device (af_get_device_count answered error %d, count %d)", (int)e,
                         n);
            else
                ok = true;
            /* The library stays loaded either way: CUDA libraries do not unload cleanly. */
        } else if (b->handle) {
            ok = true;
        }
        s = ok ? 1 : 2;
        atomic_store_explicit(&b->state, s, memory_order_release);
    }
    pthread_mutex_unlock(&em_uni_lock);
    return s == 1;
}

static void em_uni_default_run(void) {
    if (em_uni_probe(EM_UNI_CUDA))
        em_uni_default = EM_UNI_CUDA;
    else if (em_uni_probe(EM_UNI_CPU))
        em_uni_default = EM_UNI_CPU;
}

static int em_uni_default_index(void) {
    pthread_once(&em_uni_default_once, em_uni_default_run);
    return em_uni_default;
}

static int em_uni_active_index(void) {
    return em_uni_active >= 0 ? em_uni_active : em_uni_default_index();
}

/* "cpu: why; cuda: why" for the backends that failed to load, for messages. */
static const char *em_uni_why_all(char *buf, size_t cap) {
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < EM_UNI_BACKENDS; i++) {
        if (atomic_load_explicit(&em_uni_bk[i].state, memory_order_acquire) != 2) continue;
        int n = snprintf(buf + used, cap - used, "%s%s: %s", used ? "; " : "", em_uni_bk[i].name,
                         em_uni_bk[i].why);
        if (n < 0 || (size_t)n >= cap - used) break;
        used += (size_t)n;
    }
    return buf;
}

static af_err em_uni_no_backend(const char *fn) {
    char why[2 * sizeof(em_uni_bk[0].why) + 32];
    return em_uni_fail(AF_ERR_LOAD_LIB, fn, "no Ember backend library could be loaded (%s)",
                       em_uni_why_all(why, sizeof(why)));
}

/* The symbol `name` of backend i, or NULL when the backend lacks it; cached in slot. */
static void *em_uni_lookup(em_uni_slot *slot, const char *name, int i) {
    void *p = atomic_load_explicit(&slot->fn[i], memory_order_acquire);
    if (!p) {
        p = dlsym(em_uni_bk[i].handle, name);
        if (!p) p = EM_UNI_MISSING;
        atomic_store_explicit(&slot->fn[i], p, memory_order_release);
    }
    return p == EM_UNI_MISSING ? NULL : p;
}

af_err em_uni_resolve(em_uni_slot *slot, const char *name, int *bk, void **fn) {
    int i = em_uni_active_index();
    if (i < 0) return em_uni_no_backend(name);
    void *p = em_uni_lookup(slot, name, i);
    if (!p)
        return em_uni_fail(AF_ERR_NOT_SUPPORTED, name,
                           "not supported by the %s backend (%s does not implement it)",
                           em_uni_bk[i].name, em_uni_bk[i].lib);
    *bk = i;
    *fn = p;
    return AF_SUCCESS;
}

/* backend.h: answered here, since only the unified layer knows every backend. */

AFAPI af_err af_set_backend(const af_backend bknd) {
    int i;
    switch ((int)bknd) {
    case AF_BACKEND_DEFAULT:
        i = em_uni_default_index();
        if (i < 0) return em_uni_no_backend(__func__);
        break;
    case AF_BACKEND_CPU:
        i = EM_UNI_CPU;
        break;
    case AF_BACKEND_CUDA:
        i = EM_UNI_CUDA;
        break;
    case AF_BACKEND_OPENCL:
    case AF_BACKEND_ONEAPI:
        return em_uni_fail(AF_ERR_LOAD_LIB, __func__, "argument 0 (bknd): Ember has no %s backend",
                           bknd == AF_BACKEND_OPENCL ? "OpenCL" : "oneAPI");
    default:
        return em_uni_fail(AF_ERR_ARG, __func__, "argument 0 (bknd): %d is not an af_backend",
                           (int)bknd);
    }
    if (!em_uni_probe(i))
        return em_uni_fail(AF_ERR_LOAD_LIB, __func__,
                           "argument 0 (bknd): the %s backend is not available: %s",
                           em_uni_bk[i].name, em_uni_bk[i].why);
    em_uni_active = i;
    return AF_SUCCESS;
}

AFAPI af_err af_get_backend_count(unsigned *num_backends) {
    if (!num_backends)
        return em_uni_fail(AF_ERR_ARG, __func__, "argument 0 (num_backends) is NULL");
    unsigned n = 0;
    for (int i = 0; i < EM_UNI_BACKENDS; i++)
        n += em_uni_probe(i);
    *num_backends = n;
    return AF_SUCCESS;
}

AFAPI af_err af_get_available_backends(int *backends) {
    if (!backends) return em_uni_fail(AF_ERR_ARG, __func__, "argument 0 (backends) is NULL");
    int mask = 0;
    for (int i = 0; i < EM_UNI_BACKENDS; i++)
        if (em_uni_probe(i)) mask |= (int)em_uni_bk[i].id;
    *backends = mask;
    return AF_SUCCESS;
}

AFAPI af_err af_get_active_backend(af_backend *backend) {
    if (!backend) return em_uni_fail(AF_ERR_ARG, __func__, "argument 0 (backend) is NULL");
    int i = em_uni_active_index();
    if (i < 0) return em_uni_no_backend(__func__);
    *backend = em_uni_bk[i].id;
    return AF_SUCCESS;
}

/* exception.h */

/* The message comes from whichever layer failed last on this thread: the backend that returned
 * the error (even if the thread has switched backends since), or the unified layer itself. As
 * in ArrayFire, reading the message clears it, and an empty message reads as NULL with length
 * 0. The string is malloc'ed; free it with af_free_host. */
AFAPI void af_get_last_error(char **msg, dim_t *len) {
    static em_uni_slot slot;
    if (!msg) {
        if (len) *len = 0;
        return;
    }
    int src = em_uni_err_src;
    if (src == EM_UNI_SRC_NONE) {
        /* Nothing failed through this layer; ask the thread's backend without loading one. */
        if (em_uni_active >= 0)
            src = em_uni_active;
        else if (em_uni_default >= 0)
            src = em_uni_default;
    }
    if (src >= 0 && atomic_load_explicit(&em_uni_bk[src].state, memory_order_acquire) != 0 &&
        em_uni_bk[src].handle) {
        void (*fn)(char **, dim_t *) =
            (void (*)(char **, dim_t *))em_uni_lookup(&slot, "af_get_last_error", src);
        if (fn) {
            fn(msg, len);
            return;
        }
    }
    size_t n = src == EM_UNI_SRC_SELF ? strlen(em_uni_msg) : 0;
    char *copy = n ? malloc(n + 1) : NULL;
    if (copy)
        memcpy(copy, em_uni_msg, n + 1);
    else
        n = 0;
    em_uni_msg[0] = '\0';
    *msg = copy;
    if (len) *len = (dim_t)n;
}

/* ArrayFire's strings for af_err, used when no backend answers af_err_to_string. */
static const char *em_uni_err_string(af_err err) {
    switch (err) {
    case AF_SUCCESS:
        return "Success";
    case AF_ERR_NO_MEM:
        return "Device out of memory";
    case AF_ERR_DRIVER:
        return "Driver not available or incompatible";
    case AF_ERR_RUNTIME:
        return "Runtime error ";
    case AF_ERR_INVALID_ARRAY:
        return "Invalid array";
    case AF_ERR_ARG:
        return "Invalid input argument";
    case AF_ERR_SIZE:
        return "Invalid input size";
    case AF_ERR_TYPE:
        return "Function does not support this data type";
    case AF_ERR_DIFF_TYPE:
        return "Input types are not the same";
    case AF_ERR_BATCH:
        return "Invalid batch configuration";
    case AF_ERR_DEVICE:
        return "Input does not belong to the current device.";
    case AF_ERR_NOT_SUPPORTED:
        return "Function not supported";
    case AF_ERR_NOT_CONFIGURED:
        return "Function not configured to build";
    case AF_ERR_NONFREE:
        return "Function unavailable. ArrayFire compiled without Non-Free algorithms";
    case AF_ERR_NO_DBL:
        return "Double precision not supported for this device";
    case AF_ERR_NO_GFX:
        return "Graphics functionality unavailable";
    case AF_ERR_NO_HALF:
        return "Half precision floats not supported for this device";
    case AF_ERR_LOAD_LIB:
        return "Failed to load dynamic library";
    case AF_ERR_LOAD_SYM:
        return "Failed to load symbol";
    case AF_ERR_ARR_BKND_MISMATCH:
        return "There was a mismatch between an array and the current backend";
    case AF_ERR_INTERNAL:
        return "Internal error";
    case AF_ERR_UNKNOWN:
        return "Unknown error";
    }
    return "Unknown error";
}

/* Forwards to the thread's backend when one is loaded and has the symbol, and answers locally
 * otherwise, so that a program can print why loading failed. */
static void *em_uni_lookup_active(em_uni_slot *slot, const char *name, int *bk) {
    int i = em_uni_active_index();
    if (i < 0) return NULL;
    *bk = i;
    return em_uni_lookup(slot, name, i);
}

AFAPI const char *af_err_to_string(const af_err err) {
    static em_uni_slot slot;
    int bk;
    const char *(*fn)(af_err) = (const char *(*)(af_err))em_uni_lookup_active(&slot, __func__, &bk);
    return fn ? fn(err) : em_uni_err_string(err);
}

/* util.h */

AFAPI const char *af_get_revision(void) {
    static em_uni_slot slot;
    int bk;
    const char *(*fn)(void) = (const char *(*)(void))em_uni_lookup_active(&slot, __func__, &bk);
    return fn ? fn() : "unknown";
}

/* seq.h: a pure function, the same in every backend. */

AFAPI af_seq af_make_seq(double begin, double end, double step) {
    af_seq s = {begin, end, step};
    return s;
}

/* device.h: host memory. Every backend allocates host memory with malloc, so memory from one
 * backend (or from this layer's af_get_last_error) may be freed through another. Without a
 * backend these fall back to malloc and free, so that af_get_last_error's message can still be
 * freed. */

AFAPI af_err af_alloc_host(void **ptr, const dim_t bytes) {
    static em_uni_slot slot;
    int bk = 0;
    af_err (*fn)(void **, dim_t) =
        (af_err(*)(void **, dim_t))em_uni_lookup_active(&slot, __func__, &bk);
    if (fn) return em_uni_done(bk, fn(ptr, bytes));
    if (!ptr) return em_uni_fail(AF_ERR_ARG, __func__, "argument 0 (ptr) is NULL");
    if (bytes < 0)
        return em_uni_fail(AF_ERR_SIZE, __func__, "argument 1 (bytes) is %lld, must be >= 0",
                           (long long)bytes);
    void *p = malloc(bytes ? (size_t)bytes : 1);
    if (!p)
        return em_uni_fail(AF_ERR_NO_MEM, __func__, "out of host memory for %lld bytes",
                           (long long)bytes);
    *ptr = p;
    return AF_SUCCESS;
}

AFAPI af_err af_free_host(void *ptr) {
    static em_uni_slot slot;
    int bk = 0;
    af_err (*fn)(void *) = (af_err(*)(void *))em_uni_lookup_active(&slot, __func__, &bk);
    if (fn) return em_uni_done(bk, fn(ptr));
    free(ptr);
    return AF_SUCCESS;
}
