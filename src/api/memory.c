/* memory.h: plugging a user's memory manager into the core's allocation seam (src/core/mem.h).
 * This file checks arguments and fills the manager object (struct em_mem_custom, owned by the
 * core: src/core/mem_custom.c calls it). While installed, every device allocation, release, user
 * lock and unlock, garbage collection and memory-pressure query goes through it; the manager gets
 * real memory from af_memory_manager_native_alloc. */
#include <af/memory.h>

#include "../core/dev.h"
#include "../core/err.h"
#include "../core/mem.h"

#include <stdlib.h>

/* The JIT's pressure threshold before a manager was installed, restored when it is unset. */
static float em_default_threshold;

static af_err mm_get(const char *fn, int pos, af_memory_manager handle, em_mem_custom **out) {
    em_mem_custom *m = handle;
    if (!m) return em_err(AF_ERR_ARG, fn, "argument %d is a NULL memory manager", pos);
    if (m->magic != EM_MM_MAGIC)
        return em_err(AF_ERR_ARG, fn, "argument %d is not a live memory manager", pos);
    *out = m;
    return AF_SUCCESS;
}

/* ---- memory.h ---- */

af_err af_create_memory_manager(af_memory_manager *out) {
    af_err err = AF_SUCCESS;
    EM_ARG_NULL(out, 0);
    em_mem_custom *m = calloc(1, sizeof(*m));
    if (!m) EM_FAIL(AF_ERR_NO_MEM, "out of host memory for a memory manager");
    m->magic = EM_MM_MAGIC;
    m->threshold = em_mem_get_pressure_threshold();
    *out = m;
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_release_memory_manager(af_memory_manager handle) {
    af_err err = AF_SUCCESS;
    em_mem_custom *m = NULL;
    EM_TRY(mm_get(__func__, 0, handle, &m));
    if (em_mem_get_custom() == m || em_mem_get_pinned_custom() == m)
        EM_FAIL(AF_ERR_ARG, "argument 0: the memory manager is installed; unset it first");
    m->magic = EM_MM_DEAD;
    free(m);
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_set_memory_manager(af_memory_manager handle) {
    af_err err = AF_SUCCESS;
    em_mem_custom *m = NULL;
    EM_TRY(mm_get(__func__, 0, handle, &m));
    EM_TRY(em_init());
    EM_TRY(af_unset_memory_manager());
    if (m->initialize) EM_TRY(m->initialize(m));
    if (m->add_device)
        for (int d = 0; d < em_dev_count(); d++)
            m->add_device(m, d);
    /* Cached blocks of the built-in pool are of no use to the new manager. */
    for (int d = 0; d < em_dev_count(); d++)
        em_mem_gc(d);
    em_default_threshold = em_mem_get_pressure_threshold();
    em_mem_set_pressure_threshold(m->threshold);
    em_mem_set_custom(m);
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_unset_memory_manager(void) {
    em_mem_custom *m = em_mem_get_custom();
    if (!m) return AF_SUCCESS;
    em_mem_set_custom(NULL);
    em_mem_set_pressure_threshold(em_default_threshold);
    if (m->remove_device)
        for (int d = 0; d < em_dev_count(); d++)
            m->remove_device(m, d);
    if (m->shutdown) return m->shutdown(m);
    return AF_SUCCESS;
}

af_err af_set_memory_manager_pinned(af_memory_manager handle) {
    af_err err = AF_SUCCESS;
    em_mem_custom *m = NULL;
    EM_TRY(mm_get(__func__, 0, handle, &m));
    EM_TRY(af_unset_memory_manager_pinned());
    if (m->initialize) EM_TRY(m->initialize(m));
    em_mem_set_pinned_custom(m);
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_unset_memory_manager_pinned(void) {
    em_mem_custom *m = em_mem_get_pinned_custom();
    if (!m) return AF_SUCCESS;
    em_mem_set_pinned_custom(NULL);
    if (m->shutdown) return m->shutdown(m);
    return AF_SUCCESS;
}

af_err af_memory_manager_get_payload(af_memory_manager handle, void **payload) {
    af_err err = AF_SUCCESS;
    em_mem_custom *m = NULL;
    EM_TRY(mm_get(__func__, 0, handle, &m));
    EM_ARG_NULL(payload, 1);
    *payload = m->payload;
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_memory_manager_set_payload(af_memory_manager handle, void *payload) {
    af_err err = AF_SUCCESS;
    em_mem_custom *m = NULL;
    EM_TRY(mm_get(__func__, 0, handle, &m));
    m->payload = payload;
    return AF_SUCCESS;
fail:
    return err;
}

/* One setter per function pointer, all alike. */
#define EM_MM_SETTER(NAME, TYPE, FIELD)                                                            \
    af_err af_memory_manager_set_##NAME##_fn(af_memory_manager handle, TYPE fn) {                  \
        af_err err = AF_SUCCESS;                                                                   \
        em_mem_custom *m = NULL;                                                                   \
        EM_TRY(mm_get(__func__, 0, handle, &m));                                                   \
        m->FIELD = fn;                                                                             \
        return AF_SUCCESS;                                                                         \
    fail:                                                                                          \
        return err;                                                                                \
    }

EM_MM_SETTER(initialize, af_memory_manager_initialize_fn, initialize)
EM_MM_SETTER(shutdown, af_memory_manager_shutdown_fn, shutdown)
EM_MM_SETTER(alloc, af_memory_manager_alloc_fn, alloc)
EM_MM_SETTER(allocated, af_memory_manager_allocated_fn, allocated)
EM_MM_SETTER(unlock, af_memory_manager_unlock_fn, unlock)
EM_MM_SETTER(signal_memory_cleanup, af_memory_manager_signal_memory_cleanup_fn, cleanup)
EM_MM_SETTER(print_info, af_memory_manager_print_info_fn, print_info)
EM_MM_SETTER(user_lock, af_memory_manager_user_lock_fn, user_lock)
EM_MM_SETTER(user_unlock, af_memory_manager_user_unlock_fn, user_unlock)
EM_MM_SETTER(is_user_locked, af_memory_manager_is_user_locked_fn, is_user_locked)
EM_MM_SETTER(get_memory_pressure, af_memory_manager_get_memory_pressure_fn, get_pressure)
EM_MM_SETTER(jit_tree_exceeds_memory_pressure,
             af_memory_manager_jit_tree_exceeds_memory_pressure_fn, tree_exceeds)
EM_MM_SETTER(add_memory_management, af_memory_manager_add_memory_management_fn, add_device)
EM_MM_SETTER(remove_memory_management, af_memory_manager_remove_memory_management_fn, remove_device)

af_err af_memory_manager_get_active_device_id(af_memory_manager handle, int *id) {
    af_err err = AF_SUCCESS;
    em_mem_custom *m = NULL;
    EM_TRY(mm_get(__func__, 0, handle, &m));
    EM_ARG_NULL(id, 1);
    EM_TRY(em_init());
    *id = em_dev_active();
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_memory_manager_native_alloc(af_memory_manager handle, void **ptr, size_t size) {
    af_err err = AF_SUCCESS;
    em_mem_custom *m = NULL;
    EM_TRY(mm_get(__func__, 0, handle, &m));
    EM_ARG_NULL(ptr, 1);
    EM_TRY(em_init());
    void *p = NULL;
    if (em_backend_self.mem_alloc(em_dev_active(), size ? size : 1, &p) != AF_SUCCESS)
        EM_FAIL(AF_ERR_NO_MEM, "argument 2: could not allocate %zu bytes on device %d", size,
                em_dev_active());
    *ptr = p;
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_memory_manager_native_free(af_memory_manager handle, void *ptr) {
    af_err err = AF_SUCCESS;
    em_mem_custom *m = NULL;
    EM_TRY(mm_get(__func__, 0, handle, &m));
    if (ptr) em_backend_self.mem_free(em_dev_active(), ptr);
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_memory_manager_get_max_memory_size(af_memory_manager handle, size_t *size, int id) {
    af_err err = AF_SUCCESS;
    em_mem_custom *m = NULL;
    EM_TRY(mm_get(__func__, 0, handle, &m));
    EM_ARG_NULL(size, 1);
    EM_TRY(em_init());
    if (id < 0 || id >= em_dev_count())
        EM_FAIL(AF_ERR_ARG, "argument 2 (id): device %d does not exist", id);
    *size = em_dev_props_of(id)->mem_bytes;
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_memory_manager_get_memory_pressure_threshold(af_memory_manager handle, float *value) {
    af_err err = AF_SUCCESS;
    em_mem_custom *m = NULL;
    EM_TRY(mm_get(__func__, 0, handle, &m));
    EM_ARG_NULL(value, 1);
    *value = m->threshold;
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_memory_manager_set_memory_pressure_threshold(af_memory_manager handle, float value) {
    af_err err = AF_SUCCESS;
    em_mem_custom *m = NULL;
    EM_TRY(mm_get(__func__, 0, handle, &m));
    if (!(value >= 0.f)) EM_FAIL(AF_ERR_ARG, "argument 1 (value) is %g, must be >= 0", value);
    m->threshold = value;
    /* The JIT's flush rule reads one threshold; the installed manager's is the one that counts. */
    if (em_mem_get_custom() == m) em_mem_set_pressure_threshold(value);
    return AF_SUCCESS;
fail:
    return err;
}
