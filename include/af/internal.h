/* Ember: an implementation of ArrayFire's C API. This header declares ArrayFire 3.10's array-
 * internals (strides, offsets, raw pointers) interface, with the same names, types and
 * AF_API_VERSION guards. */

#ifndef EMBER_AF_INTERNAL_H
#define EMBER_AF_INTERNAL_H

#include <af/defines.h>

#ifdef __cplusplus
extern "C" {
#endif

#if AF_API_VERSION >= 33
/** Creates an array over data with the given offset and strides. */
AFAPI af_err af_create_strided_array(af_array *arr, const void *data, const dim_t offset,
                                     const unsigned ndims, const dim_t *const dims,
                                     const dim_t *const strides, const af_dtype ty,
                                     const af_source location);
#endif

#if AF_API_VERSION >= 33
/** Returns the strides of arr in elements. */
AFAPI af_err af_get_strides(dim_t *s0, dim_t *s1, dim_t *s2, dim_t *s3, const af_array arr);
#endif

#if AF_API_VERSION >= 33
/** Returns the offset of arr into its buffer in elements. */
AFAPI af_err af_get_offset(dim_t *offset, const af_array arr);
#endif

#if AF_API_VERSION >= 33
/** Returns the base pointer of arr's buffer, without evaluation or locking. */
AFAPI af_err af_get_raw_ptr(void **ptr, const af_array arr);
#endif

#if AF_API_VERSION >= 33
/** Tests whether arr's elements are contiguous in memory. */
AFAPI af_err af_is_linear(bool *result, const af_array arr);
#endif

#if AF_API_VERSION >= 33
/** Tests whether arr owns its buffer rather than viewing another array's. */
AFAPI af_err af_is_owner(bool *result, const af_array arr);
#endif

#if AF_API_VERSION >= 35
/** Returns the number of bytes of arr's buffer. */
AFAPI af_err af_get_allocated_bytes(size_t *bytes, const af_array arr);
#endif

#ifdef __cplusplus
}
#endif

#endif /* EMBER_AF_INTERNAL_H */
