/* The device table: which devices the backend offers, and the calling thread's active device. */
#ifndef EM_CORE_DEV_H
#define EM_CORE_DEV_H

#include "backend.h"
#include "thread.h"

#include <stdbool.h>

/* Initialises the library once (device discovery); safe to call from any thread. Fails with
 * AF_ERR_DRIVER when the backend has no usable device. */
af_err em_init(void);
int em_dev_count(void);
/* The device a thread starts on (AF_CUDA_DEFAULT_DEVICE picks it on CUDA). */
extern int em_dev_default;
/* The active device of the thread whose state is t. */
static inline int em_thread_dev(const em_thread *t) {
    return t->active_dev < 0 ? em_dev_default : t->active_dev;
}
/* The calling thread's active device. */
static inline int em_dev_active(void) {
    return em_thread_dev(em_thread_self());
}
af_err em_dev_set_active(int dev);
const em_dev_props *em_dev_props_of(int dev);

/* The manual-eval flag: when set, lazy trees are only evaluated on request. */
static inline bool em_manual_eval(void) {
    return em_thread_self()->manual_eval;
}
void em_set_manual_eval(bool flag);

#endif
