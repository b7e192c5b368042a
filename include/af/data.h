/* Ember: an implementation of ArrayFire's C API. This header declares ArrayFire 3.10's constant,
 * sequence and reshaping interface, with the same names, types and AF_API_VERSION guards. */

#ifndef EMBER_AF_DATA_H
#define EMBER_AF_DATA_H

#include <af/defines.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Creates an array whose elements all equal val. */
AFAPI af_err af_constant(af_array *arr, const double val, const unsigned ndims,
                         const dim_t *const dims, const af_dtype type);

/** Creates a complex array whose elements all equal real + i imag. */
AFAPI af_err af_constant_complex(af_array *arr, const double real, const double imag,
                                 const unsigned ndims, const dim_t *const dims,
                                 const af_dtype type);

/** Creates an s64 array whose elements all equal val. */
AFAPI af_err af_constant_long(af_array *arr, const long long val, const unsigned ndims,
                              const dim_t *const dims);

/** Creates a u64 array whose elements all equal val. */
AFAPI af_err af_constant_ulong(af_array *arr, const unsigned long long val, const unsigned ndims,
                               const dim_t *const dims);

/** Creates an identity matrix, batched over dimensions 2 and 3. */
AFAPI af_err af_identity(af_array *out, const unsigned ndims, const dim_t *const dims,
                         const af_dtype type);

/** Creates an array whose elements are their index along seq_dim. */
AFAPI af_err af_range(af_array *out, const unsigned ndims, const dim_t *const dims,
                      const int seq_dim, const af_dtype type);

/** Creates the sequence 0 .. n-1 in dims, tiled by tdims. */
AFAPI af_err af_iota(af_array *out, const unsigned ndims, const dim_t *const dims,
                     const unsigned t_ndims, const dim_t *const tdims, const af_dtype type);

/** Creates a matrix with the vector in on diagonal num. */
AFAPI af_err af_diag_create(af_array *out, const af_array in, const int num);

/** Extracts diagonal num of a matrix as a vector. */
AFAPI af_err af_diag_extract(af_array *out, const af_array in, const int num);

/** Concatenates two arrays along dim. */
AFAPI af_err af_join(af_array *out, const int dim, const af_array first, const af_array second);

/** Concatenates n_arrays arrays along dim. */
AFAPI af_err af_join_many(af_array *out, const int dim, const unsigned n_arrays,
                          const af_array *inputs);

/** Repeats in x, y, z and w times along each dimension. */
AFAPI af_err af_tile(af_array *out, const af_array in, const unsigned x, const unsigned y,
                     const unsigned z, const unsigned w);

/** Permutes the dimensions of in. */
AFAPI af_err af_reorder(af_array *out, const af_array in, const unsigned x, const unsigned y,
                        const unsigned z, const unsigned w);

/** Shifts the elements of in circularly along each dimension. */
AFAPI af_err af_shift(af_array *out, const af_array in, const int x, const int y, const int z,
                      const int w);

/** Changes the dimensions of in, keeping its elements in order. */
AFAPI af_err af_moddims(af_array *out, const af_array in, const unsigned ndims,
                        const dim_t *const dims);

/** Flattens in into a column vector. */
AFAPI af_err af_flat(af_array *out, const af_array in);

/** Reverses the order of elements along dim. */
AFAPI af_err af_flip(af_array *out, const af_array in, const unsigned dim);

/** Takes the lower triangle of a matrix. */
AFAPI af_err af_lower(af_array *out, const af_array in, bool is_unit_diag);

/** Takes the upper triangle of a matrix. */
AFAPI af_err af_upper(af_array *out, const af_array in, bool is_unit_diag);

#if AF_API_VERSION >= 31
/** Picks a where cond is true and b elsewhere. */
AFAPI af_err af_select(af_array *out, const af_array cond, const af_array a, const af_array b);
#endif

#if AF_API_VERSION >= 31
/** Picks a where cond is true and the scalar b elsewhere. */
AFAPI af_err af_select_scalar_r(af_array *out, const af_array cond, const af_array a,
                                const double b);
#endif

#if AF_API_VERSION >= 31
/** Picks the scalar a where cond is true and b elsewhere. */
AFAPI af_err af_select_scalar_l(af_array *out, const af_array cond, const double a,
                                const af_array b);
#endif

#if AF_API_VERSION >= 31
/** Replaces elements of a with those of b where cond is false, in place. */
AFAPI af_err af_replace(af_array a, const af_array cond, const af_array b);
#endif

#if AF_API_VERSION >= 31
/** Replaces elements of a with the scalar b where cond is false, in place. */
AFAPI af_err af_replace_scalar(af_array a, const af_array cond, const double b);
#endif

#if AF_API_VERSION >= 37
/** Pads in with begin_dims and end_dims elements filled as pad_fill_type says. */
AFAPI af_err af_pad(af_array *out, const af_array in, const unsigned begin_ndims,
                    const dim_t *const begin_dims, const unsigned end_ndims,
                    const dim_t *const end_dims, const af_border_type pad_fill_type);
#endif

#if AF_API_VERSION >= 39
/** Replaces elements of a with the s64 scalar b where cond is false. */
AFAPI af_err af_replace_scalar_long(af_array a, const af_array cond, const long long b);
#endif

#if AF_API_VERSION >= 39
/** Replaces elements of a with the u64 scalar b where cond is false. */
AFAPI af_err af_replace_scalar_ulong(af_array a, const af_array cond, const unsigned long long b);
#endif

#if AF_API_VERSION >= 39
/** Picks a where cond is true and the s64 scalar b elsewhere. */
AFAPI af_err af_select_scalar_r_long(af_array *out, const af_array cond, const af_array a,
                                     const long long b);
#endif

#if AF_API_VERSION >= 39
/** Picks a where cond is true and the u64 scalar b elsewhere. */
AFAPI af_err af_select_scalar_r_ulong(af_array *out, const af_array cond, const af_array a,
                                      const unsigned long long b);
#endif

#if AF_API_VERSION >= 39
/** Picks the s64 scalar a where cond is true and b elsewhere. */
AFAPI af_err af_select_scalar_l_long(af_array *out, const af_array cond, const long long a,
                                     const af_array b);
#endif

#if AF_API_VERSION >= 39
/** Picks the u64 scalar a where cond is true and b elsewhere. */
AFAPI af_err af_select_scalar_l_ulong(af_array *out, const af_array cond,
                                      const unsigned long long a, const af_array b);
#endif

#ifdef __cplusplus
}
#endif

#endif /* EMBER_AF_DATA_H */
