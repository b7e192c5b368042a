/* Ember: an implementation of ArrayFire's C API. This header declares ArrayFire 3.10's statistics
 * interface, with the same names, types and AF_API_VERSION guards. */

#ifndef EMBER_AF_STATISTICS_H
#define EMBER_AF_STATISTICS_H

#include <af/defines.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Computes the mean of in along dim. */
AFAPI af_err af_mean(af_array *out, const af_array in, const dim_t dim);

/** Computes the weighted mean of in along dim. */
AFAPI af_err af_mean_weighted(af_array *out, const af_array in, const af_array weights,
                              const dim_t dim);

/** Computes the variance along dim (deprecated: af_var_v2). */
AFAPI af_err af_var(af_array *out, const af_array in, const bool isbiased, const dim_t dim);

#if AF_API_VERSION >= 38
/** Computes the sample or population variance of in along dim. */
AFAPI af_err af_var_v2(af_array *out, const af_array in, const af_var_bias bias, const dim_t dim);
#endif

/** Computes the weighted variance of in along dim. */
AFAPI af_err af_var_weighted(af_array *out, const af_array in, const af_array weights,
                             const dim_t dim);

#if AF_API_VERSION >= 37
/** Computes the mean and variance of in along dim in one pass. */
AFAPI af_err af_meanvar(af_array *mean, af_array *var, const af_array in, const af_array weights,
                        const af_var_bias bias, const dim_t dim);
#endif

/** Computes the standard deviation along dim (deprecated: af_stdev_v2). */
AFAPI af_err af_stdev(af_array *out, const af_array in, const dim_t dim);

#if AF_API_VERSION >= 38
/** Computes the sample or population standard deviation along dim. */
AFAPI af_err af_stdev_v2(af_array *out, const af_array in, const af_var_bias bias, const dim_t dim);
#endif

/** Computes the covariance of X and Y (deprecated: af_cov_v2). */
AFAPI af_err af_cov(af_array *out, const af_array X, const af_array Y, const bool isbiased);

#if AF_API_VERSION >= 38
/** Computes the sample or population covariance of X and Y. */
AFAPI af_err af_cov_v2(af_array *out, const af_array X, const af_array Y, const af_var_bias bias);
#endif

/** Computes the median of in along dim. */
AFAPI af_err af_median(af_array *out, const af_array in, const dim_t dim);

/** Returns the mean of all elements of in on the host. */
AFAPI af_err af_mean_all(double *real, double *imag, const af_array in);

/** Returns the weighted mean of all elements of in on the host. */
AFAPI af_err af_mean_all_weighted(double *real, double *imag, const af_array in,
                                  const af_array weights);

/** Returns the variance of all elements (deprecated: af_var_all_v2). */
AFAPI af_err af_var_all(double *realVal, double *imagVal, const af_array in, const bool isbiased);

#if AF_API_VERSION >= 38
/** Returns the sample or population variance of all elements on the host. */
AFAPI af_err af_var_all_v2(double *realVal, double *imagVal, const af_array in,
                           const af_var_bias bias);
#endif

/** Returns the weighted variance of all elements of in on the host. */
AFAPI af_err af_var_all_weighted(double *realVal, double *imagVal, const af_array in,
                                 const af_array weights);

/** Returns the standard deviation of all elements (deprecated). */
AFAPI af_err af_stdev_all(double *real, double *imag, const af_array in);

#if AF_API_VERSION >= 38
/** Returns the sample or population standard deviation of all elements. */
AFAPI af_err af_stdev_all_v2(double *real, double *imag, const af_array in, const af_var_bias bias);
#endif

/** Returns the median of all elements of in on the host. */
AFAPI af_err af_median_all(double *realVal, double *imagVal, const af_array in);

/** Returns the Pearson correlation coefficient of X and Y on the host. */
AFAPI af_err af_corrcoef(double *realVal, double *imagVal, const af_array X, const af_array Y);

#if AF_API_VERSION >= 36
/** Returns the k largest or smallest values along dim and their indices. */
AFAPI af_err af_topk(af_array *values, af_array *indices, const af_array in, const int k,
                     const int dim, const af_topk_function order);
#endif

#ifdef __cplusplus
}
#endif

#endif /* EMBER_AF_STATISTICS_H */
