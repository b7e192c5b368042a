/* Ember: an implementation of ArrayFire's C API. This header declares ArrayFire 3.10's reductions,
 * scans, sorting and set interface, with the same names, types and AF_API_VERSION guards. */

#ifndef EMBER_AF_ALGORITHM_H
#define EMBER_AF_ALGORITHM_H

#include <af/defines.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Sums the elements of in along dim. */
AFAPI af_err af_sum(af_array *out, const af_array in, const int dim);

#if AF_API_VERSION >= 39
/** Sums all elements of in into a one-element array, without a host copy. */
AFAPI af_err af_sum_all_array(af_array *out, const af_array in);
#endif

#if AF_API_VERSION >= 31
/** Sums along dim, counting NaN elements as nanval. */
AFAPI af_err af_sum_nan(af_array *out, const af_array in, const int dim, const double nanval);
#endif

#if AF_API_VERSION >= 39
/** Sums all elements, counting NaN as nanval, into a one-element array. */
AFAPI af_err af_sum_nan_all_array(af_array *out, const af_array in, const double nanval);
#endif

#if AF_API_VERSION >= 37
/** Sums runs of equal consecutive keys along dim. */
AFAPI af_err af_sum_by_key(af_array *keys_out, af_array *vals_out, const af_array keys,
                           const af_array vals, const int dim);
#endif

#if AF_API_VERSION >= 37
/** Sums runs of equal consecutive keys along dim, counting NaN as nanval. */
AFAPI af_err af_sum_by_key_nan(af_array *keys_out, af_array *vals_out, const af_array keys,
                               const af_array vals, const int dim, const double nanval);
#endif

/** Multiplies the elements of in along dim. */
AFAPI af_err af_product(af_array *out, const af_array in, const int dim);

#if AF_API_VERSION >= 39
/** Multiplies all elements of in into a one-element array. */
AFAPI af_err af_product_all_array(af_array *out, const af_array in);
#endif

#if AF_API_VERSION >= 31
/** Multiplies along dim, counting NaN elements as nanval. */
AFAPI af_err af_product_nan(af_array *out, const af_array in, const int dim, const double nanval);
#endif

#if AF_API_VERSION >= 39
/** Multiplies all elements, counting NaN as nanval, into a one-element array. */
AFAPI af_err af_product_nan_all_array(af_array *out, const af_array in, const double nanval);
#endif

#if AF_API_VERSION >= 37
/** Multiplies runs of equal consecutive keys along dim. */
AFAPI af_err af_product_by_key(af_array *keys_out, af_array *vals_out, const af_array keys,
                               const af_array vals, const int dim);
#endif

#if AF_API_VERSION >= 37
/** Multiplies runs of equal consecutive keys along dim, NaN as nanval. */
AFAPI af_err af_product_by_key_nan(af_array *keys_out, af_array *vals_out, const af_array keys,
                                   const af_array vals, const int dim, const double nanval);
#endif

/** Takes the minimum of in along dim, ignoring NaN. */
AFAPI af_err af_min(af_array *out, const af_array in, const int dim);

#if AF_API_VERSION >= 37
/** Takes the minimum of runs of equal consecutive keys along dim. */
AFAPI af_err af_min_by_key(af_array *keys_out, af_array *vals_out, const af_array keys,
                           const af_array vals, const int dim);
#endif

/** Takes the maximum of in along dim, ignoring NaN. */
AFAPI af_err af_max(af_array *out, const af_array in, const int dim);

#if AF_API_VERSION >= 37
/** Takes the maximum of runs of equal consecutive keys along dim. */
AFAPI af_err af_max_by_key(af_array *keys_out, af_array *vals_out, const af_array keys,
                           const af_array vals, const int dim);
#endif

#if AF_API_VERSION >= 38
/** Takes the maximum and its index over the first ragged_len elements along dim. */
AFAPI af_err af_max_ragged(af_array *val, af_array *idx, const af_array in,
                           const af_array ragged_len, const int dim);
#endif

/** Tests whether every element along dim is nonzero. */
AFAPI af_err af_all_true(af_array *out, const af_array in, const int dim);

#if AF_API_VERSION >= 37
/** Tests whether every element is nonzero, per run of equal keys along dim. */
AFAPI af_err af_all_true_by_key(af_array *keys_out, af_array *vals_out, const af_array keys,
                                const af_array vals, const int dim);
#endif

/** Tests whether any element along dim is nonzero. */
AFAPI af_err af_any_true(af_array *out, const af_array in, const int dim);

#if AF_API_VERSION >= 37
/** Tests whether any element is nonzero, per run of equal keys along dim. */
AFAPI af_err af_any_true_by_key(af_array *keys_out, af_array *vals_out, const af_array keys,
                                const af_array vals, const int dim);
#endif

/** Counts the nonzero elements along dim. */
AFAPI af_err af_count(af_array *out, const af_array in, const int dim);

#if AF_API_VERSION >= 37
/** Counts the nonzero elements per run of equal keys along dim. */
AFAPI af_err af_count_by_key(af_array *keys_out, af_array *vals_out, const af_array keys,
                             const af_array vals, const int dim);
#endif

/** Sums all elements of in and returns the result on the host. */
AFAPI af_err af_sum_all(double *real, double *imag, const af_array in);

#if AF_API_VERSION >= 31
/** Sums all elements, counting NaN as nanval, and returns it on the host. */
AFAPI af_err af_sum_nan_all(double *real, double *imag, const af_array in, const double nanval);
#endif

/** Multiplies all elements of in and returns the result on the host. */
AFAPI af_err af_product_all(double *real, double *imag, const af_array in);

#if AF_API_VERSION >= 31
/** Multiplies all elements, NaN as nanval, and returns it on the host. */
AFAPI af_err af_product_nan_all(double *real, double *imag, const af_array in, const double nanval);
#endif

/** Returns the minimum of all elements of in on the host. */
AFAPI af_err af_min_all(double *real, double *imag, const af_array in);

#if AF_API_VERSION >= 39
/** Takes the minimum of all elements of in into a one-element array. */
AFAPI af_err af_min_all_array(af_array *out, const af_array in);
#endif

/** Returns the maximum of all elements of in on the host. */
AFAPI af_err af_max_all(double *real, double *imag, const af_array in);

#if AF_API_VERSION >= 39
/** Takes the maximum of all elements of in into a one-element array. */
AFAPI af_err af_max_all_array(af_array *out, const af_array in);
#endif

/** Tests whether every element of in is nonzero; the answer is on the host. */
AFAPI af_err af_all_true_all(double *real, double *imag, const af_array in);

#if AF_API_VERSION >= 39
/** Tests whether every element of in is nonzero, into a one-element array. */
AFAPI af_err af_all_true_all_array(af_array *out, const af_array in);
#endif

/** Tests whether any element of in is nonzero; the answer is on the host. */
AFAPI af_err af_any_true_all(double *real, double *imag, const af_array in);

#if AF_API_VERSION >= 39
/** Tests whether any element of in is nonzero, into a one-element array. */
AFAPI af_err af_any_true_all_array(af_array *out, const af_array in);
#endif

/** Counts the nonzero elements of in; the count is on the host. */
AFAPI af_err af_count_all(double *real, double *imag, const af_array in);

#if AF_API_VERSION >= 39
/** Counts the nonzero elements of in into a one-element array. */
AFAPI af_err af_count_all_array(af_array *out, const af_array in);
#endif

/** Takes the minimum along dim and the index where it occurs. */
AFAPI af_err af_imin(af_array *out, af_array *idx, const af_array in, const int dim);

/** Takes the maximum along dim and the index where it occurs. */
AFAPI af_err af_imax(af_array *out, af_array *idx, const af_array in, const int dim);

/** Returns the minimum of all elements and its linear index on the host. */
AFAPI af_err af_imin_all(double *real, double *imag, unsigned *idx, const af_array in);

/** Returns the maximum of all elements and its linear index on the host. */
AFAPI af_err af_imax_all(double *real, double *imag, unsigned *idx, const af_array in);

/** Computes the inclusive prefix sum of in along dim. */
AFAPI af_err af_accum(af_array *out, const af_array in, const int dim);

#if AF_API_VERSION >= 34
/** Computes a prefix scan of in along dim with the binary operation op. */
AFAPI af_err af_scan(af_array *out, const af_array in, const int dim, af_binary_op op,
                     bool inclusive_scan);
#endif

#if AF_API_VERSION >= 34
/** Computes a prefix scan along dim that restarts where the key changes. */
AFAPI af_err af_scan_by_key(af_array *out, const af_array key, const af_array in, const int dim,
                            af_binary_op op, bool inclusive_scan);
#endif

/** Returns the linear indices of the nonzero elements of in. */
AFAPI af_err af_where(af_array *idx, const af_array in);

/** Computes the first-order difference of in along dim. */
AFAPI af_err af_diff1(af_array *out, const af_array in, const int dim);

/** Computes the second-order difference of in along dim. */
AFAPI af_err af_diff2(af_array *out, const af_array in, const int dim);

/** Sorts in along dim. */
AFAPI af_err af_sort(af_array *out, const af_array in, const unsigned dim, const bool isAscending);

/** Sorts in along dim and returns the permutation that sorts it. */
AFAPI af_err af_sort_index(af_array *out, af_array *indices, const af_array in, const unsigned dim,
                           const bool isAscending);

/** Sorts keys along dim and permutes values the same way. */
AFAPI af_err af_sort_by_key(af_array *out_keys, af_array *out_values, const af_array keys,
                            const af_array values, const unsigned dim, const bool isAscending);

/** Returns the unique values of a vector, sorted. */
AFAPI af_err af_set_unique(af_array *out, const af_array in, const bool is_sorted);

/** Returns the sorted union of two vectors. */
AFAPI af_err af_set_union(af_array *out, const af_array first, const af_array second,
                          const bool is_unique);

/** Returns the sorted intersection of two vectors. */
AFAPI af_err af_set_intersect(af_array *out, const af_array first, const af_array second,
                              const bool is_unique);

#ifdef __cplusplus
}
#endif

#endif /* EMBER_AF_ALGORITHM_H */
