/* Ember: an implementation of ArrayFire's C API. This header defines ArrayFire 3.10's complex
 * number types, with the same names and layout. */

#ifndef EMBER_AF_COMPLEX_H
#define EMBER_AF_COMPLEX_H

#include <af/defines.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Single-precision complex number, laid out as two floats as c32 elements are. */
typedef struct af_cfloat {
    float real;
    float imag;
} af_cfloat;

/** Double-precision complex number, laid out as two doubles as c64 elements are. */
typedef struct af_cdouble {
    double real;
    double imag;
} af_cdouble;

#ifdef __cplusplus
}
#endif

#endif /* EMBER_AF_COMPLEX_H */
