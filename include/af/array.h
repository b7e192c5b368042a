/* Ember: an implementation of ArrayFire's C API. This header declares ArrayFire 3.10's array
 * creation, release and query interface, with the same names, types and AF_API_VERSION guards. */

#ifndef EMBER_AF_ARRAY_H
#define EMBER_AF_ARRAY_H

#include <af/defines.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Creates an array and copies the host buffer data into it. */
AFAPI af_err af_create_array(af_array *arr, const void *const data, const unsigned ndims,
                             const dim_t *const dims, const af_dtype type);

/** Creates an array with uninitialised contents. */
AFAPI af_err af_create_handle(af_array *arr, const unsigned ndims, const dim_t *const dims,
                              const af_dtype type);

/** Makes a deep copy of in. */
AFAPI af_err af_copy_array(af_array *arr, const af_array in);

/** Copies bytes from a host or device buffer into arr's storage. */
AFAPI af_err af_write_array(af_array arr, const void *data, const size_t bytes, af_source src);

/** Copies the contents of arr to the host buffer data. */
AFAPI af_err af_get_data_ptr(void *data, const af_array arr);

/** Releases a reference to arr, freeing it with the last reference. */
AFAPI af_err af_release_array(af_array arr);

/** Creates a new reference to the data of in. */
AFAPI af_err af_retain_array(af_array *out, const af_array in);

#if AF_API_VERSION >= 31
/** Returns how many arrays share the buffer of in. */
AFAPI af_err af_get_data_ref_count(int *use_count, const af_array in);
#endif

/** Evaluates any pending computation of in. */
AFAPI af_err af_eval(af_array in);

#if AF_API_VERSION >= 34
/** Evaluates several arrays, fusing their computation where it can. */
AFAPI af_err af_eval_multiple(const int num, af_array *arrays);
#endif

#if AF_API_VERSION >= 34
/** Turns automatic JIT evaluation off (true) or back on (false). */
AFAPI af_err af_set_manual_eval_flag(bool flag);
#endif

#if AF_API_VERSION >= 34
/** Reads whether automatic JIT evaluation is off. */
AFAPI af_err af_get_manual_eval_flag(bool *flag);
#endif

/** Returns the number of elements of arr. */
AFAPI af_err af_get_elements(dim_t *elems, const af_array arr);

/** Returns the element type of arr. */
AFAPI af_err af_get_type(af_dtype *type, const af_array arr);

/** Returns the four dimensions of arr. */
AFAPI af_err af_get_dims(dim_t *d0, dim_t *d1, dim_t *d2, dim_t *d3, const af_array arr);

/** Returns the number of dimensions of arr, ignoring trailing ones. */
AFAPI af_err af_get_numdims(unsigned *result, const af_array arr);

/** Tests whether arr has no elements. */
AFAPI af_err af_is_empty(bool *result, const af_array arr);

/** Tests whether arr has exactly one element. */
AFAPI af_err af_is_scalar(bool *result, const af_array arr);

/** Tests whether arr is a row vector. */
AFAPI af_err af_is_row(bool *result, const af_array arr);

/** Tests whether arr is a column vector. */
AFAPI af_err af_is_column(bool *result, const af_array arr);

/** Tests whether arr has exactly one dimension larger than one. */
AFAPI af_err af_is_vector(bool *result, const af_array arr);

/** Tests whether arr holds complex elements. */
AFAPI af_err af_is_complex(bool *result, const af_array arr);

/** Tests whether arr holds real elements. */
AFAPI af_err af_is_real(bool *result, const af_array arr);

/** Tests whether arr holds f64 or c64 elements. */
AFAPI af_err af_is_double(bool *result, const af_array arr);

/** Tests whether arr holds f32 or c32 elements. */
AFAPI af_err af_is_single(bool *result, const af_array arr);

#if AF_API_VERSION >= 37
/** Tests whether arr holds f16 elements. */
AFAPI af_err af_is_half(bool *result, const af_array arr);
#endif

/** Tests whether arr holds f16, f32 or f64 elements. */
AFAPI af_err af_is_realfloating(bool *result, const af_array arr);

/** Tests whether arr holds real or complex floating-point elements. */
AFAPI af_err af_is_floating(bool *result, const af_array arr);

/** Tests whether arr holds integer elements. */
AFAPI af_err af_is_integer(bool *result, const af_array arr);

/** Tests whether arr holds b8 elements. */
AFAPI af_err af_is_bool(bool *result, const af_array arr);

#if AF_API_VERSION >= 34
/** Tests whether arr is a sparse array. */
AFAPI af_err af_is_sparse(bool *result, const af_array arr);
#endif

#if AF_API_VERSION >= 35
/** Copies the first element of arr to the host. */
AFAPI af_err af_get_scalar(void *output_value, const af_array arr);
#endif

#ifdef __cplusplus
}
#endif

#endif /* EMBER_AF_ARRAY_H */
