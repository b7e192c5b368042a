/* Ember: an implementation of ArrayFire's C API. This header declares ArrayFire 3.10's computer
 * vision interface, with the same names, types and AF_API_VERSION guards. */

#ifndef EMBER_AF_VISION_H
#define EMBER_AF_VISION_H

#include <af/defines.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Detects FAST corners in an image. */
AFAPI af_err af_fast(af_features *out, const af_array in, const float thr,
                     const unsigned arc_length, const bool non_max, const float feature_ratio,
                     const unsigned edge);

#if AF_API_VERSION >= 31
/** Detects Harris corners in an image. */
AFAPI af_err af_harris(af_features *out, const af_array in, const unsigned max_corners,
                       const float min_response, const float sigma, const unsigned block_size,
                       const float k_thr);
#endif

/** Detects ORB features and computes their descriptors. */
AFAPI af_err af_orb(af_features *feat, af_array *desc, const af_array in, const float fast_thr,
                    const unsigned max_feat, const float scl_fctr, const unsigned levels,
                    const bool blur_img);

#if AF_API_VERSION >= 31
/** Detects SIFT features and computes their descriptors. */
AFAPI af_err af_sift(af_features *feat, af_array *desc, const af_array in, const unsigned n_layers,
                     const float contrast_thr, const float edge_thr, const float init_sigma,
                     const bool double_input, const float intensity_scale,
                     const float feature_ratio);
#endif

#if AF_API_VERSION >= 32
/** Detects SIFT features and computes GLOH descriptors. */
AFAPI af_err af_gloh(af_features *feat, af_array *desc, const af_array in, const unsigned n_layers,
                     const float contrast_thr, const float edge_thr, const float init_sigma,
                     const bool double_input, const float intensity_scale,
                     const float feature_ratio);
#endif

/** Finds the nearest train descriptors to each query by Hamming distance. */
AFAPI af_err af_hamming_matcher(af_array *idx, af_array *dist, const af_array query,
                                const af_array train, const dim_t dist_dim, const unsigned n_dist);

#if AF_API_VERSION >= 31
/** Finds the nearest train descriptors to each query by a distance. */
AFAPI af_err af_nearest_neighbour(af_array *idx, af_array *dist, const af_array query,
                                  const af_array train, const dim_t dist_dim, const unsigned n_dist,
                                  const af_match_type dist_type);
#endif

/** Matches a template against an image by the measure m_type. */
AFAPI af_err af_match_template(af_array *out, const af_array search_img,
                               const af_array template_img, const af_match_type m_type);

#if AF_API_VERSION >= 31
/** Detects SUSAN corners in an image. */
AFAPI af_err af_susan(af_features *out, const af_array in, const unsigned radius,
                      const float diff_thr, const float geom_thr, const float feature_ratio,
                      const unsigned edge);
#endif

#if AF_API_VERSION >= 31
/** Computes the difference of two Gaussian blurs of an image. */
AFAPI af_err af_dog(af_array *out, const af_array in, const int radius1, const int radius2);
#endif

#if AF_API_VERSION >= 32
/** Estimates the homography between two point sets. */
AFAPI af_err af_homography(af_array *H, int *inliers, const af_array x_src, const af_array y_src,
                           const af_array x_dst, const af_array y_dst,
                           const af_homography_type htype, const float inlier_thr,
                           const unsigned iterations, const af_dtype otype);
#endif

#ifdef __cplusplus
}
#endif

#endif /* EMBER_AF_VISION_H */
