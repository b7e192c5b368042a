/* Ember: an implementation of ArrayFire's C API. This header declares ArrayFire 3.10's random
 * number interface, with the same names, types and AF_API_VERSION guards. */

#ifndef EMBER_AF_RANDOM_H
#define EMBER_AF_RANDOM_H

#include <af/defines.h>

#ifdef __cplusplus
extern "C" {
#endif

#if AF_API_VERSION >= 34
/** Creates a random engine of type rtype with a seed. */
AFAPI af_err af_create_random_engine(af_random_engine *engine, af_random_engine_type rtype,
                                     unsigned long long seed);
#endif

#if AF_API_VERSION >= 34
/** Creates a new reference to a random engine. */
AFAPI af_err af_retain_random_engine(af_random_engine *out, const af_random_engine engine);
#endif

#if AF_API_VERSION >= 34
/** Changes the type of a random engine. */
AFAPI af_err af_random_engine_set_type(af_random_engine *engine, const af_random_engine_type rtype);
#endif

#if AF_API_VERSION >= 34
/** Returns the type of a random engine. */
AFAPI af_err af_random_engine_get_type(af_random_engine_type *rtype, const af_random_engine engine);
#endif

#if AF_API_VERSION >= 34
/** Fills a new array with uniform random numbers from engine. */
AFAPI af_err af_random_uniform(af_array *out, const unsigned ndims, const dim_t *const dims,
                               const af_dtype type, af_random_engine engine);
#endif

#if AF_API_VERSION >= 34
/** Fills a new array with standard normal random numbers from engine. */
AFAPI af_err af_random_normal(af_array *out, const unsigned ndims, const dim_t *const dims,
                              const af_dtype type, af_random_engine engine);
#endif

#if AF_API_VERSION >= 34
/** Sets the seed of a random engine. */
AFAPI af_err af_random_engine_set_seed(af_random_engine *engine, const unsigned long long seed);
#endif

#if AF_API_VERSION >= 34
/** Returns the default random engine. */
AFAPI af_err af_get_default_random_engine(af_random_engine *engine);
#endif

#if AF_API_VERSION >= 34
/** Changes the type of the default random engine. */
AFAPI af_err af_set_default_random_engine_type(const af_random_engine_type rtype);
#endif

#if AF_API_VERSION >= 34
/** Returns the seed of a random engine. */
AFAPI af_err af_random_engine_get_seed(unsigned long long *const seed, af_random_engine engine);
#endif

#if AF_API_VERSION >= 34
/** Releases a reference to a random engine. */
AFAPI af_err af_release_random_engine(af_random_engine engine);
#endif

/** Fills a new array with uniform random numbers from the default engine. */
AFAPI af_err af_randu(af_array *out, const unsigned ndims, const dim_t *const dims,
                      const af_dtype type);

/** Fills a new array with standard normal random numbers from the default engine. */
AFAPI af_err af_randn(af_array *out, const unsigned ndims, const dim_t *const dims,
                      const af_dtype type);

/** Sets the seed of the default random engine. */
AFAPI af_err af_set_seed(const unsigned long long seed);

/** Returns the seed of the default random engine. */
AFAPI af_err af_get_seed(unsigned long long *seed);

#ifdef __cplusplus
}
#endif

#endif /* EMBER_AF_RANDOM_H */
