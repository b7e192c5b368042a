/* The device table: which devices the backend offers, and the calling thread's active device. */
#ifndef EM_CORE_DEV_H
#define EM_CORE_DEV_H

#include "../backend/backend.h"

#include <stdbool.h>

/* Initialises the library once (device discovery); safe to call from any thread. Fails with
 * AF_ERR_DRIVER when the backend has no usable device. */
af_err em_init(void);
int em_dev_count(void);
/* The calling thread's active device (AF_CUDA_DEFAULT_DEVICE picks the first one on CUDA). */
int em_dev_active(void);
af_err em_dev_set_active(int dev);
const em_dev_props *em_dev_props_of(int dev);

/* The manual-eval flag: when set, lazy trees are only evaluated on request. */
bool em_manual_eval(void);
void em_set_manual_eval(bool flag);

#endif
