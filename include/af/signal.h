/* Ember: an implementation of ArrayFire's C API. This header declares ArrayFire 3.10's signal
 * processing (interpolation, FFT, convolution, filters) interface, with the same names, types and
 * AF_API_VERSION guards. */

#ifndef EMBER_AF_SIGNAL_H
#define EMBER_AF_SIGNAL_H

#include <af/defines.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Interpolates in along dimension 0 at the positions pos. */
AFAPI af_err af_approx1(af_array *out, const af_array in, const af_array pos,
                        const af_interp_type method, const float off_grid);

#if AF_API_VERSION >= 37
/** Interpolates along dimension 0, reusing out if it is set. */
AFAPI af_err af_approx1_v2(af_array *out, const af_array in, const af_array pos,
                           const af_interp_type method, const float off_grid);
#endif

/** Interpolates in along dimensions 0 and 1 at the positions (pos0, pos1). */
AFAPI af_err af_approx2(af_array *out, const af_array in, const af_array pos0, const af_array pos1,
                        const af_interp_type method, const float off_grid);

#if AF_API_VERSION >= 37
/** Interpolates along dimensions 0 and 1, reusing out if it is set. */
AFAPI af_err af_approx2_v2(af_array *out, const af_array in, const af_array pos0,
                           const af_array pos1, const af_interp_type method, const float off_grid);
#endif

#if AF_API_VERSION >= 37
/** Interpolates along interp_dim on a uniform grid of positions. */
AFAPI af_err af_approx1_uniform(af_array *out, const af_array in, const af_array pos,
                                const int interp_dim, const double idx_start, const double idx_step,
                                const af_interp_type method, const float off_grid);
#endif

#if AF_API_VERSION >= 37
/** Interpolates on a uniform grid, reusing out if it is set. */
AFAPI af_err af_approx1_uniform_v2(af_array *out, const af_array in, const af_array pos,
                                   const int interp_dim, const double idx_start,
                                   const double idx_step, const af_interp_type method,
                                   const float off_grid);
#endif

#if AF_API_VERSION >= 37
/** Interpolates along two dimensions on uniform grids of positions. */
AFAPI af_err af_approx2_uniform(af_array *out, const af_array in, const af_array pos0,
                                const int interp_dim0, const double idx_start_dim0,
                                const double idx_step_dim0, const af_array pos1,
                                const int interp_dim1, const double idx_start_dim1,
                                const double idx_step_dim1, const af_interp_type method,
                                const float off_grid);
#endif

#if AF_API_VERSION >= 37
/** Interpolates along two dimensions on uniform grids, reusing out. */
AFAPI af_err af_approx2_uniform_v2(af_array *out, const af_array in, const af_array pos0,
                                   const int interp_dim0, const double idx_start_dim0,
                                   const double idx_step_dim0, const af_array pos1,
                                   const int interp_dim1, const double idx_start_dim1,
                                   const double idx_step_dim1, const af_interp_type method,
                                   const float off_grid);
#endif

/** Computes the 1D fast Fourier transform, padded or cut to odim0. */
AFAPI af_err af_fft(af_array *out, const af_array in, const double norm_factor, const dim_t odim0);

#if AF_API_VERSION >= 31
/** Computes the 1D fast Fourier transform in place. */
AFAPI af_err af_fft_inplace(af_array in, const double norm_factor);
#endif

/** Computes the 2D fast Fourier transform. */
AFAPI af_err af_fft2(af_array *out, const af_array in, const double norm_factor, const dim_t odim0,
                     const dim_t odim1);

#if AF_API_VERSION >= 31
/** Computes the 2D fast Fourier transform in place. */
AFAPI af_err af_fft2_inplace(af_array in, const double norm_factor);
#endif

/** Computes the 3D fast Fourier transform. */
AFAPI af_err af_fft3(af_array *out, const af_array in, const double norm_factor, const dim_t odim0,
                     const dim_t odim1, const dim_t odim2);

#if AF_API_VERSION >= 31
/** Computes the 3D fast Fourier transform in place. */
AFAPI af_err af_fft3_inplace(af_array in, const double norm_factor);
#endif

/** Computes the 1D inverse fast Fourier transform. */
AFAPI af_err af_ifft(af_array *out, const af_array in, const double norm_factor, const dim_t odim0);

#if AF_API_VERSION >= 31
/** Computes the 1D inverse fast Fourier transform in place. */
AFAPI af_err af_ifft_inplace(af_array in, const double norm_factor);
#endif

/** Computes the 2D inverse fast Fourier transform. */
AFAPI af_err af_ifft2(af_array *out, const af_array in, const double norm_factor, const dim_t odim0,
                      const dim_t odim1);

#if AF_API_VERSION >= 31
/** Computes the 2D inverse fast Fourier transform in place. */
AFAPI af_err af_ifft2_inplace(af_array in, const double norm_factor);
#endif

/** Computes the 3D inverse fast Fourier transform. */
AFAPI af_err af_ifft3(af_array *out, const af_array in, const double norm_factor, const dim_t odim0,
                      const dim_t odim1, const dim_t odim2);

#if AF_API_VERSION >= 31
/** Computes the 3D inverse fast Fourier transform in place. */
AFAPI af_err af_ifft3_inplace(af_array in, const double norm_factor);
#endif

#if AF_API_VERSION >= 31
/** Computes the 1D real-to-complex fast Fourier transform. */
AFAPI af_err af_fft_r2c(af_array *out, const af_array in, const double norm_factor,
                        const dim_t pad0);
#endif

#if AF_API_VERSION >= 31
/** Computes the 2D real-to-complex fast Fourier transform. */
AFAPI af_err af_fft2_r2c(af_array *out, const af_array in, const double norm_factor,
                         const dim_t pad0, const dim_t pad1);
#endif

#if AF_API_VERSION >= 31
/** Computes the 3D real-to-complex fast Fourier transform. */
AFAPI af_err af_fft3_r2c(af_array *out, const af_array in, const double norm_factor,
                         const dim_t pad0, const dim_t pad1, const dim_t pad2);
#endif

#if AF_API_VERSION >= 31
/** Computes the 1D complex-to-real inverse fast Fourier transform. */
AFAPI af_err af_fft_c2r(af_array *out, const af_array in, const double norm_factor,
                        const bool is_odd);
#endif

#if AF_API_VERSION >= 31
/** Computes the 2D complex-to-real inverse fast Fourier transform. */
AFAPI af_err af_fft2_c2r(af_array *out, const af_array in, const double norm_factor,
                         const bool is_odd);
#endif

#if AF_API_VERSION >= 31
/** Computes the 3D complex-to-real inverse fast Fourier transform. */
AFAPI af_err af_fft3_c2r(af_array *out, const af_array in, const double norm_factor,
                         const bool is_odd);
#endif

/** Convolves signal with a 1D filter. */
AFAPI af_err af_convolve1(af_array *out, const af_array signal, const af_array filter,
                          const af_conv_mode mode, af_conv_domain domain);

/** Convolves signal with a 2D filter. */
AFAPI af_err af_convolve2(af_array *out, const af_array signal, const af_array filter,
                          const af_conv_mode mode, af_conv_domain domain);

/** Convolves with a 2D filter using strides, padding and dilation, as in a CNN. */
AFAPI af_err af_convolve2_nn(af_array *out, const af_array signal, const af_array filter,
                             const unsigned stride_dims, const dim_t *strides,
                             const unsigned padding_dims, const dim_t *paddings,
                             const unsigned dilation_dims, const dim_t *dilations);

/** Convolves signal with a 3D filter. */
AFAPI af_err af_convolve3(af_array *out, const af_array signal, const af_array filter,
                          const af_conv_mode mode, af_conv_domain domain);

/** Convolves signal with a separable filter given as column and row vectors. */
AFAPI af_err af_convolve2_sep(af_array *out, const af_array col_filter, const af_array row_filter,
                              const af_array signal, const af_conv_mode mode);

/** Convolves signal with a 1D filter through the FFT. */
AFAPI af_err af_fft_convolve1(af_array *out, const af_array signal, const af_array filter,
                              const af_conv_mode mode);

/** Convolves signal with a 2D filter through the FFT. */
AFAPI af_err af_fft_convolve2(af_array *out, const af_array signal, const af_array filter,
                              const af_conv_mode mode);

/** Convolves signal with a 3D filter through the FFT. */
AFAPI af_err af_fft_convolve3(af_array *out, const af_array signal, const af_array filter,
                              const af_conv_mode mode);

/** Applies the finite impulse response filter b to x. */
AFAPI af_err af_fir(af_array *y, const af_array b, const af_array x);

/** Applies the infinite impulse response filter (b, a) to x. */
AFAPI af_err af_iir(af_array *y, const af_array b, const af_array a, const af_array x);

/** Applies a median filter over a wind_length x wind_width window. */
AFAPI af_err af_medfilt(af_array *out, const af_array in, const dim_t wind_length,
                        const dim_t wind_width, const af_border_type edge_pad);

#if AF_API_VERSION >= 34
/** Applies a 1D median filter of width wind_width. */
AFAPI af_err af_medfilt1(af_array *out, const af_array in, const dim_t wind_width,
                         const af_border_type edge_pad);
#endif

#if AF_API_VERSION >= 34
/** Applies a 2D median filter over a wind_length x wind_width window. */
AFAPI af_err af_medfilt2(af_array *out, const af_array in, const dim_t wind_length,
                         const dim_t wind_width, const af_border_type edge_pad);
#endif

#if AF_API_VERSION >= 34
/** Sets how many FFT plans are cached. */
AFAPI af_err af_set_fft_plan_cache_size(size_t cache_size);
#endif

#ifdef __cplusplus
}
#endif

#endif /* EMBER_AF_SIGNAL_H */
