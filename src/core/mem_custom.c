/* The core's side of the custom memory manager seam (af/memory.h): the manager object, the calls
 * into it, and pinned host memory through the pinned manager. src/api/memory.c only checks the
 * user's arguments and fills the object; src/core/mem.c calls it while it is installed. */
#include "mem.h"

#include "backend.h"
#include "err.h"

static _Atomic(em_mem_custom *) em_pinned_custom;

void em_mem_set_pinned_custom(em_mem_custom *m) {
    atomic_store(&em_pinned_custom, m);
}

em_mem_custom *em_mem_get_pinned_custom(void) {
    return atomic_load(&em_pinned_custom);
}

af_err em_mem_custom_alloc(em_mem_custom *m, size_t bytes, int user_lock, void **ptr) {
    if (!m->alloc)
        return em_err(AF_ERR_NOT_CONFIGURED, __func__, "the memory manager has no alloc function");
    dim_t dims[1] = {(dim_t)bytes};
    af_err err = m->alloc(m, ptr, user_lock, 1, dims, 1);
    if (err == AF_SUCCESS && !*ptr && bytes) err = AF_ERR_NO_MEM;
    if (err != AF_SUCCESS)
        return em_err(err, __func__, "the memory manager could not allocate %zu bytes", bytes);
    return AF_SUCCESS;
}

void em_mem_custom_unlock(em_mem_custom *m, void *ptr, int user_unlock) {
    if (m->unlock) m->unlock(m, ptr, user_unlock);
}

void em_mem_custom_user_lock(em_mem_custom *m, void *ptr) {
    if (m->user_lock) m->user_lock(m, ptr);
}

void em_mem_custom_user_unlock(em_mem_custom *m, void *ptr) {
    if (m->user_unlock) m->user_unlock(m, ptr);
}

void em_mem_custom_cleanup(em_mem_custom *m) {
    if (m->cleanup) m->cleanup(m);
}

float em_mem_custom_pressure(em_mem_custom *m) {
    float p = 0.f;
    if (m->get_pressure && m->get_pressure(m, &p) == AF_SUCCESS) return p;
    return 0.f;
}

/* Pinned host memory, through the pinned manager when one is installed. */
af_err em_pinned_alloc(size_t bytes, void **ptr) {
    em_mem_custom *m = em_mem_get_pinned_custom();
    if (m) return em_mem_custom_alloc(m, bytes, 1, ptr);
    return em_backend_self.pinned_alloc(bytes, ptr);
}

void em_pinned_free(void *ptr) {
    em_mem_custom *m = em_mem_get_pinned_custom();
    if (m)
        em_mem_custom_unlock(m, ptr, 1);
    else
        em_backend_self.pinned_free(ptr);
}
