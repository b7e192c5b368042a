/* Ember: an implementation of ArrayFire's C API. This header defines ArrayFire 3.10's
 * half-precision type, with the same name and layout. */

#ifndef EMBER_AF_HALF_H
#define EMBER_AF_HALF_H

#include <af/defines.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Half-precision number: the IEEE binary16 bits, as f16 elements are stored. */
typedef struct af_half {
    unsigned short data_;
} af_half;

#ifdef __cplusplus
}
#endif

#endif /* EMBER_AF_HALF_H */
