/* Ember: an implementation of ArrayFire's C API. This header declares ArrayFire 3.10's machine-
 * learning helper interface, with the same names, types and AF_API_VERSION guards. */

#ifndef EMBER_AF_ML_H
#define EMBER_AF_ML_H

#include <af/defines.h>

#ifdef __cplusplus
extern "C" {
#endif

#if AF_API_VERSION >= 37
/** Computes a gradient of af_convolve2_nn, as grad_type selects. */
AFAPI af_err af_convolve2_gradient_nn(af_array *out, const af_array incoming_gradient,
                                      const af_array original_signal,
                                      const af_array original_filter,
                                      const af_array convolved_output, const unsigned stride_dims,
                                      const dim_t *strides, const unsigned padding_dims,
                                      const dim_t *paddings, const unsigned dilation_dims,
                                      const dim_t *dilations, af_conv_gradient_type grad_type);
#endif

#ifdef __cplusplus
}
#endif

#endif /* EMBER_AF_ML_H */
