#include "mem.h"

#include "backend.h"
#include "err.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* The cache keeps freed pool blocks per device, sorted by capacity, and hands out the smallest
 * block that fits without wasting more than a quarter of it (best fit). Blocks are not split:
 * sizes are rounded up to the step size, so nearby requests share blocks. */
typedef struct {
    em_buf **free; /* sorted by cap, ascending */
    size_t nfree, free_cap;
    em_buf *orphans; /* user-locked pool blocks with no array left */
    size_t alloc_bytes, alloc_buffers;
    /* Written under em_mem_lock; read without it by the JIT's pressure check once per lazy op,
     * so both sides use relaxed atomic loads and stores (plain moves, no locked instruction). */
    atomic_size_t lock_bytes;
    size_t lock_buffers;
    atomic_size_t dev_bytes; /* total device memory, for pressure */
    /* lock_bytes above which the JIT flushes: threshold x dev_bytes, 0 until first computed and
     * again after the threshold changes. */
    atomic_size_t pressure_limit;
} em_pool;

static em_pool em_pools[EM_MAX_DEVICES];

/* Adds or takes bytes from lock_bytes; the caller holds em_mem_lock. */
static void lock_bytes_add(em_pool *p, size_t bytes, bool add) {
    size_t v = atomic_load_explicit(&p->lock_bytes, memory_order_relaxed);
    atomic_store_explicit(&p->lock_bytes, add ? v + bytes : v - bytes, memory_order_relaxed);
}
static size_t lock_bytes_of(const em_pool *p) {
    return atomic_load_explicit(&p->lock_bytes, memory_order_relaxed);
}
static em_mem_custom *_Atomic em_custom;
static pthread_mutex_t em_mem_lock = PTHREAD_MUTEX_INITIALIZER;
static size_t em_mem_step = 1024;
static float em_mem_threshold = 0.85f;

static size_t round_up(size_t bytes) {
    size_t step = em_mem_step ? em_mem_step : 1;
    if (bytes == 0) bytes = 1;
    return (bytes + step - 1) / step * step;
}

/* Index of the first cached block with cap >= bytes. Caller holds the lock. */
static size_t pool_lower_bound(const em_pool *p, size_t bytes) {
    size_t lo = 0, hi = p->nfree;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (p->free[mid]->cap < bytes)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static em_buf *pool_take(em_pool *p, size_t cap) {
    size_t i = pool_lower_bound(p, cap);
    if (i == p->nfree || p->free[i]->cap > cap + cap / 4) return NULL;
    em_buf *b = p->free[i];
    memmove(&p->free[i], &p->free[i + 1], (p->nfree - i - 1) * sizeof(em_buf *));
    p->nfree--;
    return b;
}

static bool pool_put(em_pool *p, em_buf *b) {
    if (p->nfree == p->free_cap) {
        size_t ncap = p->free_cap ? p->free_cap * 2 : 64;
        em_buf **nf = realloc(p->free, ncap * sizeof(em_buf *));
        if (!nf) return false;
        p->free = nf;
        p->free_cap = ncap;
    }
    size_t i = pool_lower_bound(p, b->cap);
    memmove(&p->free[i + 1], &p->free[i], (p->nfree - i) * sizeof(em_buf *));
    p->free[i] = b;
    p->nfree++;
    return true;
}

/* Frees every cached block of pool p. Caller holds the lock. */
static void pool_drain(int dev, em_pool *p) {
    for (size_t i = 0; i < p->nfree; i++) {
        em_buf *b = p->free[i];
        em_backend_self.mem_free(dev, b->ptr);
        p->alloc_bytes -= b->cap;
        p->alloc_buffers--;
        free(b);
    }
    p->nfree = 0;
}

void em_mem_set_custom(em_mem_custom *m) {
    atomic_store(&em_custom, m);
}

em_mem_custom *em_mem_get_custom(void) {
    return atomic_load(&em_custom);
}

static af_err buf_alloc_custom(em_mem_custom *m, int dev, size_t bytes, em_buf **out) {
    em_buf *b = calloc(1, sizeof(*b));
    if (!b) return em_err(AF_ERR_NO_MEM, __func__, "out of host memory for a buffer header");
    void *ptr = NULL;
    af_err err = em_mem_custom_alloc(m, bytes, 0, &ptr);
    if (err != AF_SUCCESS) {
        free(b);
        return err;
    }
    atomic_init(&b->refs, 1);
    b->dev = dev;
    b->origin = EM_BUF_CUSTOM;
    b->ptr = ptr;
    b->bytes = b->cap = bytes;
    b->release_ctx = m;
    *out = b;
    return AF_SUCCESS;
}

af_err em_buf_alloc(int dev, size_t bytes, em_buf **out) {
    em_mem_custom *custom = atomic_load_explicit(&em_custom, memory_order_relaxed);
    if (custom) return buf_alloc_custom(custom, dev, bytes, out);
    size_t cap = round_up(bytes);
    em_pool *p = &em_pools[dev];
    pthread_mutex_lock(&em_mem_lock);
    em_buf *b = pool_take(p, cap);
    if (b) {
        lock_bytes_add(p, b->cap, true);
        p->lock_buffers++;
        pthread_mutex_unlock(&em_mem_lock);
        atomic_store_explicit(&b->refs, 1, memory_order_relaxed);
        b->bytes = bytes;
        b->user_lock = false;
        *out = b;
        return AF_SUCCESS;
    }
    pthread_mutex_unlock(&em_mem_lock);

    b = calloc(1, sizeof(*b));
    if (!b) return em_err(AF_ERR_NO_MEM, __func__, "out of host memory for a buffer header");
    void *ptr = NULL;
    af_err err = em_backend_self.mem_alloc(dev, cap, &ptr);
    if (err != AF_SUCCESS) {
        /* Collect the cache and retry once, as ArrayFire does. */
        em_mem_gc(dev);
        err = em_backend_self.mem_alloc(dev, cap, &ptr);
    }
    if (err != AF_SUCCESS) {
        free(b);
        return em_err(AF_ERR_NO_MEM, __func__, "could not allocate %zu bytes on device %d", cap,
                      dev);
    }
    atomic_init(&b->refs, 1);
    b->dev = dev;
    b->origin = EM_BUF_POOL;
    b->ptr = ptr;
    b->bytes = bytes;
    b->cap = cap;
    pthread_mutex_lock(&em_mem_lock);
    p->alloc_bytes += cap;
    p->alloc_buffers++;
    lock_bytes_add(p, cap, true);
    p->lock_buffers++;
    pthread_mutex_unlock(&em_mem_lock);
    *out = b;
    return AF_SUCCESS;
}

af_err em_buf_wrap(int dev, void *ptr, size_t bytes, em_buf_origin origin,
                   void (*release)(void *, void *), void *ctx, em_buf **out) {
    em_buf *b = calloc(1, sizeof(*b));
    if (!b) return em_err(AF_ERR_NO_MEM, __func__, "out of host memory for a buffer header");
    atomic_init(&b->refs, 1);
    b->dev = dev;
    b->origin = origin;
    b->ptr = ptr;
    b->bytes = bytes;
    b->cap = bytes;
    b->release = release;
    b->release_ctx = ctx;
    *out = b;
    return AF_SUCCESS;
}

/* Waits until no queued work can touch a wrapped buffer, unless none can be queued at all. */
static void wait_for_users(const em_buf *b) {
    if (!em_backend_self.dev_idle || !em_backend_self.dev_idle(b->dev))
        em_backend_self.dev_sync(b->dev);
}

/* The last reference is gone: decide the block's fate. */
static void buf_retire(em_buf *b) {
    if (b->origin != EM_BUF_POOL) {
        if (b->origin == EM_BUF_ADOPTED && !b->user_lock) {
            /* A user-locked adopted pointer stays the user's: Ember forgets it without freeing.
             * Otherwise wait for queued work that may still read the block before freeing it. */
            wait_for_users(b);
            em_backend_self.adopted_free(b->dev, b->ptr);
        } else if (b->origin == EM_BUF_CUSTOM) {
            /* The manager learns the array let go; a user lock is the manager's to track. */
            em_mem_custom_unlock(b->release_ctx, b->ptr, 0);
        } else if (b->origin == EM_BUF_DELETER) {
            /* The deleter is the owner's own code and its contract is "called exactly once":
             * a user lock keeps Ember from freeing, but the owner is still told that Ember is
             * done, or the memory behind a locked deleter buffer would leak. */
            wait_for_users(b);
            b->release(b->ptr, b->release_ctx);
        }
        free(b);
        return;
    }
    em_pool *p = &em_pools[b->dev];
    pthread_mutex_lock(&em_mem_lock);
    if (b->user_lock) {
        b->next = p->orphans;
        p->orphans = b;
    } else {
        lock_bytes_add(p, b->cap, false);
        p->lock_buffers--;
        if (!pool_put(p, b)) {
            em_backend_self.mem_free(b->dev, b->ptr);
            p->alloc_bytes -= b->cap;
            p->alloc_buffers--;
            free(b);
        }
    }
    pthread_mutex_unlock(&em_mem_lock);
}

void em_buf_release(em_buf *b) {
    if (!b) return;
    if (em_refs_drop(&b->refs)) buf_retire(b);
}

void em_buf_user_lock(em_buf *b) {
    if (b->origin == EM_BUF_CUSTOM && !b->user_lock)
        em_mem_custom_user_lock(b->release_ctx, b->ptr);
    b->user_lock = true;
}

void em_buf_user_unlock(em_buf *b) {
    if (b->origin == EM_BUF_CUSTOM && b->user_lock)
        em_mem_custom_user_unlock(b->release_ctx, b->ptr);
    b->user_lock = false;
}

af_err em_mem_alloc_user(int dev, size_t bytes, void **ptr) {
    em_mem_custom *custom = atomic_load_explicit(&em_custom, memory_order_relaxed);
    if (custom) return em_mem_custom_alloc(custom, bytes, 1, ptr);
    em_buf *b = NULL;
    af_err err = em_buf_alloc(dev, bytes, &b);
    if (err != AF_SUCCESS) return err;
    b->user_lock = true;
    pthread_mutex_lock(&em_mem_lock);
    b->next = em_pools[dev].orphans;
    em_pools[dev].orphans = b;
    pthread_mutex_unlock(&em_mem_lock);
    atomic_store(&b->refs, 0);
    *ptr = b->ptr;
    return AF_SUCCESS;
}

af_err em_mem_free_user(void *ptr) {
    em_mem_custom *custom = atomic_load_explicit(&em_custom, memory_order_relaxed);
    if (custom) {
        em_mem_custom_unlock(custom, ptr, 1);
        return AF_SUCCESS;
    }
    pthread_mutex_lock(&em_mem_lock);
    for (int d = 0; d < EM_MAX_DEVICES; d++) {
        em_pool *p = &em_pools[d];
        for (em_buf **link = &p->orphans; *link; link = &(*link)->next) {
            em_buf *b = *link;
            if (b->ptr != ptr) continue;
            *link = b->next;
            b->user_lock = false;
            lock_bytes_add(p, b->cap, false);
            p->lock_buffers--;
            if (!pool_put(p, b)) {
                em_backend_self.mem_free(d, b->ptr);
                p->alloc_bytes -= b->cap;
                p->alloc_buffers--;
                free(b);
            }
            pthread_mutex_unlock(&em_mem_lock);
            return AF_SUCCESS;
        }
    }
    pthread_mutex_unlock(&em_mem_lock);
    return em_err(AF_ERR_ARG, __func__,
                  "pointer %p was not allocated by af_alloc_device or is no longer locked", ptr);
}

bool em_mem_is_user(const void *ptr) {
    bool found = false;
    pthread_mutex_lock(&em_mem_lock);
    for (int d = 0; d < EM_MAX_DEVICES && !found; d++)
        for (const em_buf *b = em_pools[d].orphans; b && !found; b = b->next)
            found = b->ptr == ptr;
    pthread_mutex_unlock(&em_mem_lock);
    return found;
}

void em_mem_info_get(int dev, em_mem_info *out) {
    pthread_mutex_lock(&em_mem_lock);
    const em_pool *p = &em_pools[dev];
    out->alloc_bytes = p->alloc_bytes;
    out->alloc_buffers = p->alloc_buffers;
    out->lock_bytes = lock_bytes_of(p);
    out->lock_buffers = p->lock_buffers;
    pthread_mutex_unlock(&em_mem_lock);
}

void em_mem_gc(int dev) {
    em_mem_custom *custom = atomic_load_explicit(&em_custom, memory_order_relaxed);
    if (custom) em_mem_custom_cleanup(custom);
    pthread_mutex_lock(&em_mem_lock);
    pool_drain(dev, &em_pools[dev]);
    pthread_mutex_unlock(&em_mem_lock);
}

void em_mem_set_step(size_t bytes) {
    em_mem_step = bytes ? bytes : 1;
}

size_t em_mem_get_step(void) {
    return em_mem_step;
}

float em_mem_pressure(int dev) {
    em_mem_custom *custom = atomic_load_explicit(&em_custom, memory_order_relaxed);
    if (custom) return em_mem_custom_pressure(custom);
    em_pool *p = &em_pools[dev];
    size_t dev_bytes = atomic_load_explicit(&p->dev_bytes, memory_order_relaxed);
    if (dev_bytes == 0) {
        em_dev_props props;
        if (em_backend_self.dev_props(dev, &props) != AF_SUCCESS || props.mem_bytes == 0)
            return 0.f;
        dev_bytes = props.mem_bytes;
        atomic_store_explicit(&p->dev_bytes, dev_bytes, memory_order_relaxed);
    }
    return (float)((double)lock_bytes_of(p) / (double)dev_bytes);
}

void em_mem_set_pressure_threshold(float value) {
    em_mem_threshold = value;
    for (int d = 0; d < EM_MAX_DEVICES; d++)
        atomic_store_explicit(&em_pools[d].pressure_limit, 0, memory_order_relaxed);
}

/* EMBER_MEM_PRESSURE_THRESHOLD (a fraction) overrides the default; read at the first flush check,
 * not at initialisation, so a test may set it after the library started. */
static void threshold_from_env(void) {
    const char *env = getenv("EMBER_MEM_PRESSURE_THRESHOLD");
    if (env) em_mem_threshold = (float)atof(env);
}

float em_mem_get_pressure_threshold(void) {
    /* The flag spares the flush check (once per lazy op) the pthread_once call. */
    static atomic_bool loaded;
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    if (!atomic_load_explicit(&loaded, memory_order_acquire)) {
        pthread_once(&once, threshold_from_env);
        atomic_store_explicit(&loaded, true, memory_order_release);
    }
    return em_mem_threshold;
}

bool em_mem_over_pressure(int dev) {
    /* Once per lazy op: with the built-in manager, two loads and a compare against the limit in
     * bytes, computed on first use. */
    em_pool *p = &em_pools[dev];
    size_t limit = atomic_load_explicit(&p->pressure_limit, memory_order_relaxed);
    bool custom = atomic_load_explicit(&em_custom, memory_order_relaxed) != NULL;
    if (limit && !custom) return lock_bytes_of(p) > limit;
    float pressure = em_mem_pressure(dev), threshold = em_mem_get_pressure_threshold();
    size_t dev_bytes = atomic_load_explicit(&p->dev_bytes, memory_order_relaxed);
    if (!custom && dev_bytes) {
        double bytes = (double)threshold * (double)dev_bytes;
        limit = bytes >= (double)SIZE_MAX ? SIZE_MAX : (size_t)bytes;
        atomic_store_explicit(&p->pressure_limit, limit ? limit : 1, memory_order_relaxed);
    }
    return pressure > threshold;
}

void em_mem_shutdown(void) {
    pthread_mutex_lock(&em_mem_lock);
    for (int d = 0; d < EM_MAX_DEVICES; d++) {
        em_pool *p = &em_pools[d];
        if (p->nfree) pool_drain(d, p);
        free(p->free);
        p->free = NULL;
        p->free_cap = 0;
    }
    pthread_mutex_unlock(&em_mem_lock);
}
