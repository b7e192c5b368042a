/* Ember: an implementation of ArrayFire's C API. This header declares ArrayFire 3.10's error
 * message interface, with the same names, types and AF_API_VERSION guards. */

#ifndef EMBER_AF_EXCEPTION_H
#define EMBER_AF_EXCEPTION_H

#include <af/defines.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Returns a copy of this thread's last error message (free: af_free_host). */
AFAPI void af_get_last_error(char **msg, dim_t *len);

/** Returns a static description of the error code err. */
AFAPI const char *af_err_to_string(const af_err err);

#ifdef __cplusplus
}
#endif

#endif /* EMBER_AF_EXCEPTION_H */
