/* Ember: an implementation of ArrayFire's C API. This header declares ArrayFire 3.10's image-
 * feature object interface, with the same names, types and AF_API_VERSION guards. */

#ifndef EMBER_AF_FEATURES_H
#define EMBER_AF_FEATURES_H

#include <af/defines.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Creates a features object with room for num features. */
AFAPI af_err af_create_features(af_features *feat, dim_t num);

/** Creates a new reference to a features object. */
AFAPI af_err af_retain_features(af_features *out, const af_features feat);

/** Returns the number of features. */
AFAPI af_err af_get_features_num(dim_t *num, const af_features feat);

/** Returns the x positions of the features. */
AFAPI af_err af_get_features_xpos(af_array *out, const af_features feat);

/** Returns the y positions of the features. */
AFAPI af_err af_get_features_ypos(af_array *out, const af_features feat);

/** Returns the scores of the features. */
AFAPI af_err af_get_features_score(af_array *score, const af_features feat);

/** Returns the orientations of the features. */
AFAPI af_err af_get_features_orientation(af_array *orientation, const af_features feat);

/** Returns the sizes of the features. */
AFAPI af_err af_get_features_size(af_array *size, const af_features feat);

/** Releases a reference to a features object. */
AFAPI af_err af_release_features(af_features feat);

#ifdef __cplusplus
}
#endif

#endif /* EMBER_AF_FEATURES_H */
