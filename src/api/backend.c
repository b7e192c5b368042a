/* backend.h: which backend this library is. Each backend library (libafcpu, libafcuda) holds
 * exactly one backend, so these answer from em_backend_self; the unified libaf answers them
 * itself. */
#include <af/backend.h>

#include "../core/array.h"
#include "../core/dev.h"
#include "../core/err.h"

/* Looks up a handle of any Ember backend: these queries must work on another backend's array
 * too, since the unified library asks them to route a call. The array header's layout is the
 * same in every backend library (one core, compiled into each). */
static af_err array_peek(const char *fn, int pos, const void *handle, const em_array **out) {
    if (handle) {
        const em_array *a = handle;
        if ((a->magic & 0xffffff00u) == EM_ARRAY_MAGIC_BASE) {
            *out = a;
            return AF_SUCCESS;
        }
    }
    em_array *tmp = NULL;
    af_err err = em_array_get(fn, pos, handle, &tmp);
    *out = tmp;
    return err;
}

af_err af_set_backend(const af_backend bknd) {
    af_err err = AF_SUCCESS;
    /* ArrayFire's single-backend libraries accept their own backend and the default, and answer
     * AF_ERR_ARG for the others: switching backends is the unified library's job. */
    if (bknd != AF_BACKEND_DEFAULT && bknd != em_backend_self.id)
        EM_FAIL(AF_ERR_ARG,
                "argument 0 (bknd) is %d, but this library provides only the %s backend (%d); "
                "load libaf to switch backends",
                (int)bknd, em_backend_self.name, (int)em_backend_self.id);
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_get_backend_count(unsigned *num_backends) {
    af_err err = AF_SUCCESS;
    EM_ARG_NULL(num_backends, 0);
    *num_backends = 1;
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_get_available_backends(int *backends) {
    af_err err = AF_SUCCESS;
    EM_ARG_NULL(backends, 0);
    /* A bitmask of af_backend values; this library holds one. */
    *backends = (int)em_backend_self.id;
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_get_backend_id(af_backend *backend, const af_array in) {
    af_err err = AF_SUCCESS;
    const em_array *a;
    EM_ARG_NULL(backend, 0);
    EM_TRY(array_peek(__func__, 1, in, &a));
    *backend = (af_backend)(a->magic & 0xffu);
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_get_active_backend(af_backend *backend) {
    af_err err = AF_SUCCESS;
    EM_ARG_NULL(backend, 0);
    *backend = em_backend_self.id;
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_get_device_id(int *device, const af_array in) {
    af_err err = AF_SUCCESS;
    const em_array *a;
    EM_ARG_NULL(device, 0);
    EM_TRY(array_peek(__func__, 1, in, &a));
    *device = a->dev;
    return AF_SUCCESS;
fail:
    return err;
}
