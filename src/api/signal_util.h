/* Helpers shared by the signal family's api files (fft.c, convolve.c, signal.c): reading an
 * argument's elements in the shape a backend slot wants, and making outputs. */
#ifndef EM_API_SIGNAL_UTIL_H
#define EM_API_SIGNAL_UTIL_H

#include "../backend/signal.h"
#include "../core/array.h"
#include "../core/err.h"

#include <stdbool.h>

/* Argument `pos` of fn: AF_ERR_DEVICE unless it lives on the calling thread's active device. */
af_err em_sig_check_dev(const char *fn, int pos, const em_array *a);

/* The elements of `a` where they lie, for slots that take strides (the window copy): evaluates a
 * lazy array in place, then gives a new buffer reference, the address of element 0 and the
 * strides. No copy, views included. */
af_err em_sig_source(const char *fn, em_array *a, em_buf **buf, const void **ptr, dim_t strides[4]);

/* The elements of `a` as one dense block of dtype `type`: a dense array of that dtype is used
 * where it lies, anything else (a view, a lazy array, another dtype) is evaluated into a fresh
 * buffer through the JIT. A complex array converted to a real dtype takes the magnitude first,
 * as ArrayFire's cast does. *buf receives a new reference. */
af_err em_sig_dense_as(const char *fn, em_array *a, af_dtype type, em_buf **buf, void **ptr);

/* A new dense array of `type` and `dims` on the active device. */
af_err em_sig_alloc(const char *fn, af_dtype type, const dim_t dims[4], em_array **out);

/* The window copy (em_signal_ops.window) from a source given by em_sig_source. */
af_err em_sig_window(const char *fn, int dev, af_dtype dst_type, const dim_t dims[4], void *dst,
                     af_dtype src_type, const dim_t src_dims[4], const dim_t src_strides[4],
                     const void *src, const dim_t offset[4], double scale, bool round);

/* One call of the backend's fft slot over dense data with dims `dims` (the real-side logical
 * dims: the output's for C2R, the input's otherwise): dims 0..rank-1 are transformed, the rest
 * batched. Transformed dims of length 1 are dropped from the plan (a length-1 transform is the
 * identity, and cuFFT does not take them), except dim 0 of R2C/C2R, which holds the halving. */
af_err em_sig_fft(const char *fn, int dev, em_fft_kind kind, bool forward, bool dbl, int rank,
                  const dim_t dims[4], double scale, const void *in, void *out);

/* The complex dtype of the same precision (f32, c32 -> c32; f64, c64 -> c64). */
static inline af_dtype em_sig_complex_of(af_dtype t) {
    return em_dtype_is_double(t) ? c64 : c32;
}

#endif
