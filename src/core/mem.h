/* Buffers and the memory manager. A buffer is a refcounted block of device memory. Pool buffers
 * come from the per-device caching manager; adopted, borrowed and deleter buffers wrap memory the
 * user handed over. A buffer goes back to the pool (or is freed) only when no reference remains
 * and the user lock is clear. */
#ifndef EM_CORE_MEM_H
#define EM_CORE_MEM_H

#include <af/defines.h>
#include <af/memory.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    EM_BUF_POOL,     /* from the memory manager */
    EM_BUF_ADOPTED,  /* af_device_array: freed with the backend's native free */
    EM_BUF_BORROWED, /* Ember extension: never freed by Ember */
    EM_BUF_DELETER,  /* Ember extension: release(ptr, ctx) called once */
    EM_BUF_CUSTOM,   /* from a user's memory manager (af/memory.h); release_ctx is the manager */
} em_buf_origin;

typedef struct em_buf {
    atomic_int refs;
    int dev;
    em_buf_origin origin;
    bool user_lock;
    bool read_only; /* imported read-only (DLPack): writes copy first */
    void *ptr;
    size_t bytes; /* bytes asked for */
    size_t cap;   /* bytes of the block (pool), >= bytes */
    void (*release)(void *ptr, void *ctx);
    void *release_ctx;
    struct em_buf *next; /* free-list or orphan-list link, owned by the manager */
} em_buf;

#define EM_MAX_DEVICES 16

/* Allocates a pool buffer of at least `bytes` on `dev` with one reference. On failure the manager
 * collects its cache and retries once before answering AF_ERR_NO_MEM. */
af_err em_buf_alloc(int dev, size_t bytes, em_buf **out);
/* Wraps user memory. For EM_BUF_DELETER, `release` is called once when the buffer dies. */
af_err em_buf_wrap(int dev, void *ptr, size_t bytes, em_buf_origin origin,
                   void (*release)(void *, void *), void *ctx, em_buf **out);
static inline void em_buf_retain(em_buf *b) {
    atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
}
void em_buf_release(em_buf *b);
/* Drops one reference of a count the caller holds one of; true when it was the last. A count of
 * 1 read by the holder of that reference is final (another reference can only be made from an
 * existing one), so the last reference goes without a locked instruction. (JIT nodes count
 * their references differently: jit.h.) */
static inline bool em_refs_drop(atomic_int *refs) {
    return atomic_load_explicit(refs, memory_order_acquire) == 1 ||
           atomic_fetch_sub_explicit(refs, 1, memory_order_acq_rel) == 1;
}
static inline int em_buf_refs(const em_buf *b) {
    return atomic_load_explicit(&b->refs, memory_order_relaxed);
}

/* User locks. A pool buffer whose last reference dies while user-locked stays allocated (and
 * counted as locked) until em_mem_free_user(ptr) or af_device_gc after an unlock. */
void em_buf_user_lock(em_buf *b);
void em_buf_user_unlock(em_buf *b);

/* af_alloc_device(_v2) / af_free_device(_v2): user-locked pool memory with no array. */
af_err em_mem_alloc_user(int dev, size_t bytes, void **ptr);
af_err em_mem_free_user(void *ptr);
/* True when ptr is user-locked pool memory with no array: from af_alloc_device(_v2), or from
 * af_get_device_ptr of an array that has since been released. Such memory is freed only by
 * em_mem_free_user. */
bool em_mem_is_user(const void *ptr);

typedef struct {
    size_t alloc_bytes, alloc_buffers; /* held by the manager: in use plus cached */
    size_t lock_bytes, lock_buffers;   /* in use by arrays or locked by the user */
} em_mem_info;

void em_mem_info_get(int dev, em_mem_info *out);
/* Frees every cached (unused) block of `dev`. */
void em_mem_gc(int dev);
void em_mem_set_step(size_t bytes);
size_t em_mem_get_step(void);
/* Fraction of the device's memory the manager holds, for the JIT's memory-pressure flush. */
float em_mem_pressure(int dev);
void em_mem_set_pressure_threshold(float value);
/* True when the manager holds more than the threshold: the JIT's memory-pressure flush rule. */
bool em_mem_over_pressure(int dev);
float em_mem_get_pressure_threshold(void);
/* A user's memory manager (af/memory.h). While one is installed, every pool allocation, release,
 * user lock and unlock, cleanup and pressure query goes through its functions instead of the
 * built-in cache. The core owns the object and its calls (mem_custom.c); the api layer
 * (src/api/memory.c) checks the user's arguments and fills it. */
typedef struct em_mem_custom {
    uint32_t magic;
    void *payload;
    float threshold;
    af_memory_manager_initialize_fn initialize;
    af_memory_manager_shutdown_fn shutdown;
    af_memory_manager_alloc_fn alloc;
    af_memory_manager_allocated_fn allocated;
    af_memory_manager_unlock_fn unlock;
    af_memory_manager_signal_memory_cleanup_fn cleanup;
    af_memory_manager_print_info_fn print_info;
    af_memory_manager_user_lock_fn user_lock;
    af_memory_manager_user_unlock_fn user_unlock;
    af_memory_manager_is_user_locked_fn is_user_locked;
    af_memory_manager_get_memory_pressure_fn get_pressure;
    af_memory_manager_jit_tree_exceeds_memory_pressure_fn tree_exceeds;
    af_memory_manager_add_memory_management_fn add_device;
    af_memory_manager_remove_memory_management_fn remove_device;
} em_mem_custom;

#define EM_MM_MAGIC 0x454d4d4du /* "EMMM" */
#define EM_MM_DEAD  0xdeadd00du
af_err em_mem_custom_alloc(em_mem_custom *m, size_t bytes, int user_lock, void **ptr);
void em_mem_custom_unlock(em_mem_custom *m, void *ptr, int user_unlock);
void em_mem_custom_user_lock(em_mem_custom *m, void *ptr);
void em_mem_custom_user_unlock(em_mem_custom *m, void *ptr);
void em_mem_custom_cleanup(em_mem_custom *m);
float em_mem_custom_pressure(em_mem_custom *m);
/* Installs (or, with NULL, removes) the device memory manager. Buffers keep the manager they
 * came from, so a swap never frees a block through the wrong manager. */
void em_mem_set_custom(em_mem_custom *m);
em_mem_custom *em_mem_get_custom(void);
/* The pinned host memory manager (af_set_memory_manager_pinned); NULL: the backend's own. */
void em_mem_set_pinned_custom(em_mem_custom *m);
em_mem_custom *em_mem_get_pinned_custom(void);
/* Pinned host memory (af_alloc_pinned), through the pinned manager when one is installed. */
af_err em_pinned_alloc(size_t bytes, void **ptr);
void em_pinned_free(void *ptr);

/* Frees every cached block of every device; called at library unload. */
void em_mem_shutdown(void);

#endif
