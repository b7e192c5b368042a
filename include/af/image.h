/* Ember: an implementation of ArrayFire's C API. This header declares ArrayFire 3.10's image
 * processing interface, with the same names, types and AF_API_VERSION guards. */

#ifndef EMBER_AF_IMAGE_H
#define EMBER_AF_IMAGE_H

#include <af/defines.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Computes the horizontal and vertical gradients of an image. */
AFAPI af_err af_gradient(af_array *dx, af_array *dy, const af_array in);

/** Loads an image file as f32, in colour or grey. */
AFAPI af_err af_load_image(af_array *out, const char *filename, const bool isColor);

/** Saves an array as an image file. */
AFAPI af_err af_save_image(const char *filename, const af_array in);

#if AF_API_VERSION >= 31
/** Loads an image from a memory buffer made by af_save_image_memory. */
AFAPI af_err af_load_image_memory(af_array *out, const void *ptr);
#endif

#if AF_API_VERSION >= 31
/** Encodes an array as an image in a memory buffer. */
AFAPI af_err af_save_image_memory(void **ptr, const af_array in, const af_image_format format);
#endif

#if AF_API_VERSION >= 31
/** Frees a buffer made by af_save_image_memory. */
AFAPI af_err af_delete_image_memory(void *ptr);
#endif

#if AF_API_VERSION >= 32
/** Loads an image file keeping its native type and channel count. */
AFAPI af_err af_load_image_native(af_array *out, const char *filename);
#endif

#if AF_API_VERSION >= 32
/** Saves an array as an image file in its native type. */
AFAPI af_err af_save_image_native(const char *filename, const af_array in);
#endif

#if AF_API_VERSION >= 33
/** Tests whether image I/O is available in this build. */
AFAPI af_err af_is_image_io_available(bool *out);
#endif

/** Resizes an image to odim0 x odim1. */
AFAPI af_err af_resize(af_array *out, const af_array in, const dim_t odim0, const dim_t odim1,
                       const af_interp_type method);

/** Applies an affine or perspective transform to an image. */
AFAPI af_err af_transform(af_array *out, const af_array in, const af_array transform,
                          const dim_t odim0, const dim_t odim1, const af_interp_type method,
                          const bool inverse);

#if AF_API_VERSION >= 37
/** Applies an affine or perspective transform, reusing out if it is set. */
AFAPI af_err af_transform_v2(af_array *out, const af_array in, const af_array transform,
                             const dim_t odim0, const dim_t odim1, const af_interp_type method,
                             const bool inverse);
#endif

#if AF_API_VERSION >= 33
/** Transforms the corner coordinates of a d0 x d1 image by tf. */
AFAPI af_err af_transform_coordinates(af_array *out, const af_array tf, const float d0,
                                      const float d1);
#endif

/** Rotates an image by theta radians. */
AFAPI af_err af_rotate(af_array *out, const af_array in, const float theta, const bool crop,
                       const af_interp_type method);

/** Translates an image by (trans0, trans1). */
AFAPI af_err af_translate(af_array *out, const af_array in, const float trans0, const float trans1,
                          const dim_t odim0, const dim_t odim1, const af_interp_type method);

/** Scales an image by (scale0, scale1). */
AFAPI af_err af_scale(af_array *out, const af_array in, const float scale0, const float scale1,
                      const dim_t odim0, const dim_t odim1, const af_interp_type method);

/** Skews an image by (skew0, skew1). */
AFAPI af_err af_skew(af_array *out, const af_array in, const float skew0, const float skew1,
                     const dim_t odim0, const dim_t odim1, const af_interp_type method,
                     const bool inverse);

/** Counts the elements of in falling into nbins bins over [minval, maxval]. */
AFAPI af_err af_histogram(af_array *out, const af_array in, const unsigned nbins,
                          const double minval, const double maxval);

/** Dilates an image with the structuring element mask. */
AFAPI af_err af_dilate(af_array *out, const af_array in, const af_array mask);

/** Dilates a volume with the structuring element mask. */
AFAPI af_err af_dilate3(af_array *out, const af_array in, const af_array mask);

/** Erodes an image with the structuring element mask. */
AFAPI af_err af_erode(af_array *out, const af_array in, const af_array mask);

/** Erodes a volume with the structuring element mask. */
AFAPI af_err af_erode3(af_array *out, const af_array in, const af_array mask);

/** Applies a bilateral filter to an image. */
AFAPI af_err af_bilateral(af_array *out, const af_array in, const float spatial_sigma,
                          const float chromatic_sigma, const bool isColor);

/** Applies a mean-shift filter to an image. */
AFAPI af_err af_mean_shift(af_array *out, const af_array in, const float spatial_sigma,
                           const float chromatic_sigma, const unsigned iter, const bool is_color);

/** Applies a minimum filter over a wind_length x wind_width window. */
AFAPI af_err af_minfilt(af_array *out, const af_array in, const dim_t wind_length,
                        const dim_t wind_width, const af_border_type edge_pad);

/** Applies a maximum filter over a wind_length x wind_width window. */
AFAPI af_err af_maxfilt(af_array *out, const af_array in, const dim_t wind_length,
                        const dim_t wind_width, const af_border_type edge_pad);

/** Labels the connected components of a binary image. */
AFAPI af_err af_regions(af_array *out, const af_array in, const af_connectivity connectivity,
                        const af_dtype ty);

/** Computes the Sobel derivatives of an image. */
AFAPI af_err af_sobel_operator(af_array *dx, af_array *dy, const af_array img,
                               const unsigned ker_size);

/** Converts an RGB image to grey with the given channel weights. */
AFAPI af_err af_rgb2gray(af_array *out, const af_array in, const float rPercent,
                         const float gPercent, const float bPercent);

/** Converts a grey image to RGB with the given channel factors. */
AFAPI af_err af_gray2rgb(af_array *out, const af_array in, const float rFactor, const float gFactor,
                         const float bFactor);

/** Equalises the histogram of an image. */
AFAPI af_err af_hist_equal(af_array *out, const af_array in, const af_array hist);

/** Creates a rows x cols Gaussian kernel. */
AFAPI af_err af_gaussian_kernel(af_array *out, const int rows, const int cols, const double sigma_r,
                                const double sigma_c);

/** Converts an HSV image to RGB. */
AFAPI af_err af_hsv2rgb(af_array *out, const af_array in);

/** Converts an RGB image to HSV. */
AFAPI af_err af_rgb2hsv(af_array *out, const af_array in);

/** Converts an image from the colour space from to to. */
AFAPI af_err af_color_space(af_array *out, const af_array image, const af_cspace_t to,
                            const af_cspace_t from);

#if AF_API_VERSION >= 31
/** Rearranges sliding windows of an image into columns (im2col). */
AFAPI af_err af_unwrap(af_array *out, const af_array in, const dim_t wx, const dim_t wy,
                       const dim_t sx, const dim_t sy, const dim_t px, const dim_t py,
                       const bool is_column);
#endif

#if AF_API_VERSION >= 31
/** Folds columns of windows back into an image (col2im). */
AFAPI af_err af_wrap(af_array *out, const af_array in, const dim_t ox, const dim_t oy,
                     const dim_t wx, const dim_t wy, const dim_t sx, const dim_t sy, const dim_t px,
                     const dim_t py, const bool is_column);
#endif

#if AF_API_VERSION >= 37
/** Folds columns of windows back into an image, reusing out if it is set. */
AFAPI af_err af_wrap_v2(af_array *out, const af_array in, const dim_t ox, const dim_t oy,
                        const dim_t wx, const dim_t wy, const dim_t sx, const dim_t sy,
                        const dim_t px, const dim_t py, const bool is_column);
#endif

#if AF_API_VERSION >= 31
/** Computes the summed-area table of an image. */
AFAPI af_err af_sat(af_array *out, const af_array in);
#endif

#if AF_API_VERSION >= 31
/** Converts a YCbCr image to RGB under the given standard. */
AFAPI af_err af_ycbcr2rgb(af_array *out, const af_array in, const af_ycc_std standard);
#endif

#if AF_API_VERSION >= 31
/** Converts an RGB image to YCbCr under the given standard. */
AFAPI af_err af_rgb2ycbcr(af_array *out, const af_array in, const af_ycc_std standard);
#endif

#if AF_API_VERSION >= 34
/** Computes image moments per image. */
AFAPI af_err af_moments(af_array *out, const af_array in, const af_moment_type moment);
#endif

#if AF_API_VERSION >= 34
/** Computes image moments of an image and returns them on the host. */
AFAPI af_err af_moments_all(double *out, const af_array in, const af_moment_type moment);
#endif

#if AF_API_VERSION >= 35
/** Detects edges with the Canny algorithm. */
AFAPI af_err af_canny(af_array *out, const af_array in, const af_canny_threshold threshold_type,
                      const float low_threshold_ratio, const float high_threshold_ratio,
                      const unsigned sobel_window, const bool is_fast);
#endif

#if AF_API_VERSION >= 36
/** Smooths an image by anisotropic diffusion. */
AFAPI af_err af_anisotropic_diffusion(af_array *out, const af_array in, const float timestep,
                                      const float conductance, const unsigned iterations,
                                      const af_flux_function fftype,
                                      const af_diffusion_eq diffusion_kind);
#endif

#if AF_API_VERSION >= 37
/** Deconvolves an image by an iterative algorithm. */
AFAPI af_err af_iterative_deconv(af_array *out, const af_array in, const af_array ker,
                                 const unsigned iterations, const float relax_factor,
                                 const af_iterative_deconv_algo algo);
#endif

#if AF_API_VERSION >= 37
/** Deconvolves an image by an inverse-filter algorithm. */
AFAPI af_err af_inverse_deconv(af_array *out, const af_array in, const af_array psf,
                               const float gamma, const af_inverse_deconv_algo algo);
#endif

#if AF_API_VERSION >= 37
/** Segments an image by confidence-connected region growing from seeds. */
AFAPI af_err af_confidence_cc(af_array *out, const af_array in, const af_array seedx,
                              const af_array seedy, const unsigned radius,
                              const unsigned multiplier, const int iter,
                              const double segmented_value);
#endif

#ifdef __cplusplus
}
#endif

#endif /* EMBER_AF_IMAGE_H */
