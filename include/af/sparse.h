/* Ember: an implementation of ArrayFire's C API. This header declares ArrayFire 3.10's sparse
 * array interface, with the same names, types and AF_API_VERSION guards. */

#ifndef EMBER_AF_SPARSE_H
#define EMBER_AF_SPARSE_H

#include <af/defines.h>

#ifdef __cplusplus
extern "C" {
#endif

#if AF_API_VERSION >= 34
/** Creates a sparse array from value and index arrays. */
AFAPI af_err af_create_sparse_array(af_array *out, const dim_t nRows, const dim_t nCols,
                                    const af_array values, const af_array rowIdx,
                                    const af_array colIdx, const af_storage stype);
#endif

#if AF_API_VERSION >= 34
/** Creates a sparse array from value and index buffers. */
AFAPI af_err af_create_sparse_array_from_ptr(af_array *out, const dim_t nRows, const dim_t nCols,
                                             const dim_t nNZ, const void *const values,
                                             const int *const rowIdx, const int *const colIdx,
                                             const af_dtype type, const af_storage stype,
                                             const af_source src);
#endif

#if AF_API_VERSION >= 34
/** Converts a dense array to sparse storage stype. */
AFAPI af_err af_create_sparse_array_from_dense(af_array *out, const af_array dense,
                                               const af_storage stype);
#endif

#if AF_API_VERSION >= 34
/** Converts an array to the storage destStorage. */
AFAPI af_err af_sparse_convert_to(af_array *out, const af_array in, const af_storage destStorage);
#endif

#if AF_API_VERSION >= 34
/** Converts a sparse array to a dense one. */
AFAPI af_err af_sparse_to_dense(af_array *out, const af_array sparse);
#endif

#if AF_API_VERSION >= 34
/** Returns the values, indices and storage type of a sparse array. */
AFAPI af_err af_sparse_get_info(af_array *values, af_array *rowIdx, af_array *colIdx,
                                af_storage *stype, const af_array in);
#endif

#if AF_API_VERSION >= 34
/** Returns the non-zero values of a sparse array. */
AFAPI af_err af_sparse_get_values(af_array *out, const af_array in);
#endif

#if AF_API_VERSION >= 34
/** Returns the row indices of a sparse array. */
AFAPI af_err af_sparse_get_row_idx(af_array *out, const af_array in);
#endif

#if AF_API_VERSION >= 34
/** Returns the column indices of a sparse array. */
AFAPI af_err af_sparse_get_col_idx(af_array *out, const af_array in);
#endif

#if AF_API_VERSION >= 34
/** Returns the number of non-zero elements of a sparse array. */
AFAPI af_err af_sparse_get_nnz(dim_t *out, const af_array in);
#endif

#if AF_API_VERSION >= 34
/** Returns the storage type of a sparse array. */
AFAPI af_err af_sparse_get_storage(af_storage *out, const af_array in);
#endif

#ifdef __cplusplus
}
#endif

#endif /* EMBER_AF_SPARSE_H */
