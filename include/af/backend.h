/* Ember: an implementation of ArrayFire's C API. This header declares ArrayFire 3.10's backend
 * selection interface, with the same names, types and AF_API_VERSION guards. */

#ifndef EMBER_AF_BACKEND_H
#define EMBER_AF_BACKEND_H

#include <af/defines.h>

#ifdef __cplusplus
extern "C" {
#endif

#if AF_API_VERSION >= 32
/** Selects the backend that later calls on this thread use. */
AFAPI af_err af_set_backend(const af_backend bknd);
#endif

#if AF_API_VERSION >= 32
/** Returns how many backends are available. */
AFAPI af_err af_get_backend_count(unsigned *num_backends);
#endif

#if AF_API_VERSION >= 32
/** Returns the available backends as a bitmask of af_backend values. */
AFAPI af_err af_get_available_backends(int *backends);
#endif

#if AF_API_VERSION >= 32
/** Returns the backend on which the array in was created. */
AFAPI af_err af_get_backend_id(af_backend *backend, const af_array in);
#endif

#if AF_API_VERSION >= 33
/** Returns the backend that is active on this thread. */
AFAPI af_err af_get_active_backend(af_backend *backend);
#endif

#if AF_API_VERSION >= 33
/** Returns the device on which the array in was created. */
AFAPI af_err af_get_device_id(int *device, const af_array in);
#endif

#ifdef __cplusplus
}
#endif

#endif /* EMBER_AF_BACKEND_H */
