/* Ember: an implementation of ArrayFire's C API. This header declares ArrayFire 3.10's printing,
 * saving, loading and version interface, with the same names, types and AF_API_VERSION guards. */

#ifndef EMBER_AF_UTIL_H
#define EMBER_AF_UTIL_H

#include <af/defines.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Prints the contents of arr to stdout. */
AFAPI af_err af_print_array(af_array arr);

#if AF_API_VERSION >= 31
/** Prints arr under the name exp with precision digits. */
AFAPI af_err af_print_array_gen(const char *exp, const af_array arr, const int precision);
#endif

#if AF_API_VERSION >= 31
/** Appends or writes arr under key to filename; returns its index. */
AFAPI af_err af_save_array(int *index, const char *key, const af_array arr, const char *filename,
                           const bool append);
#endif

#if AF_API_VERSION >= 31
/** Reads the array at index from filename. */
AFAPI af_err af_read_array_index(af_array *out, const char *filename, const unsigned index);
#endif

#if AF_API_VERSION >= 31
/** Reads the array stored under key from filename. */
AFAPI af_err af_read_array_key(af_array *out, const char *filename, const char *key);
#endif

#if AF_API_VERSION >= 31
/** Returns the index of key in filename, or -1. */
AFAPI af_err af_read_array_key_check(int *index, const char *filename, const char *key);
#endif

#if AF_API_VERSION >= 31
/** Formats arr as af_print_array_gen does, into a string from af_alloc_host. */
AFAPI af_err af_array_to_string(char **output, const char *exp, const af_array arr,
                                const int precision, const bool transpose);
#endif

/** Shows how a function is added to the library; it does nothing useful. */
AFAPI af_err af_example_function(af_array *out, const af_array in, const af_someenum_t param);

/** Returns the version of the API this library implements. */
AFAPI af_err af_get_version(int *major, int *minor, int *patch);

#if AF_API_VERSION >= 33
/** Returns the source revision the library was built from. */
AFAPI const char *af_get_revision();
#endif

#if AF_API_VERSION >= 34
/** Returns the size in bytes of one element of type. */
AFAPI af_err af_get_size_of(size_t *size, af_dtype type);
#endif

#if AF_API_VERSION >= 37
/** Turns stack traces in error messages on or off. */
AFAPI af_err af_set_enable_stacktrace(int is_enabled);
#endif

#ifdef __cplusplus
}
#endif

#endif /* EMBER_AF_UTIL_H */
