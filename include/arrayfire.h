/* Ember: an implementation of ArrayFire's C API. Including this header declares the whole C
 * interface, as ArrayFire's arrayfire.h does for C programs. af/cuda.h is left out on purpose: it
 * needs the CUDA toolkit's headers, so programs that use CUDA interop include it themselves. */
#ifndef EMBER_ARRAYFIRE_H
#define EMBER_ARRAYFIRE_H

#include <af/defines.h>
#include <af/version.h>
#include <af/complex.h>
#include <af/half.h>
#include <af/seq.h>
#include <af/index.h>
#include <af/algorithm.h>
#include <af/arith.h>
#include <af/array.h>
#include <af/backend.h>
#include <af/blas.h>
#include <af/data.h>
#include <af/device.h>
#include <af/event.h>
#include <af/exception.h>
#include <af/features.h>
#include <af/graphics.h>
#include <af/image.h>
#include <af/internal.h>
#include <af/lapack.h>
#include <af/memory.h>
#include <af/ml.h>
#include <af/random.h>
#include <af/signal.h>
#include <af/sparse.h>
#include <af/statistics.h>
#include <af/util.h>
#include <af/vision.h>

#endif /* EMBER_ARRAYFIRE_H */
