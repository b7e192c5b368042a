/* Ember: an implementation of ArrayFire's C API. This header declares ArrayFire 3.10's sequence
 * interface, with the same names, types and AF_API_VERSION guards. */

#ifndef EMBER_AF_SEQ_H
#define EMBER_AF_SEQ_H

#include <af/defines.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A range of indices, begin to end inclusive, by step; negative values count from the end. */
typedef struct af_seq {
    double begin; /* first index */
    double end;   /* last index, inclusive */
    double step;  /* stride; 0 with begin = end = 1 means the whole dimension */
} af_seq;

/* The sequence that selects a whole dimension. It is static in each translation unit, as in
 * ArrayFire, so no symbol for it is exported. */
static const af_seq af_span = {1, 1, 0};

/** Returns the sequence (begin, end, step). */
AFAPI af_seq af_make_seq(double begin, double end, double step);

#ifdef __cplusplus
}
#endif

#endif /* EMBER_AF_SEQ_H */
