/* Ember: an implementation of ArrayFire's C API. This header declares ArrayFire 3.10's CUDA
 * interop interface, with the same names, types and AF_API_VERSION guards. */

#ifndef EMBER_AF_CUDA_H
#define EMBER_AF_CUDA_H

#include <af/defines.h>

/* ArrayFire's af/cuda.h pulls in the CUDA runtime and cuBLAS for cudaStream_t and cublasMath_t;
 * programs that include it expect them, so this header does the same. */
#include <cuda.h>
#include <cuda_runtime.h>
#include <cublas_v2.h>

#ifdef __cplusplus
extern "C" {
#endif

#if AF_API_VERSION >= 31
/** Returns the CUDA stream that Ember uses for the device id. */
AFAPI af_err afcu_get_stream(cudaStream_t *stream, int id);
#endif

#if AF_API_VERSION >= 31
/** Returns the CUDA ordinal of the Ember device id. */
AFAPI af_err afcu_get_native_id(int *nativeid, int id);
#endif

#if AF_API_VERSION >= 32
/** Makes the device with CUDA ordinal nativeid active. */
AFAPI af_err afcu_set_native_id(int nativeid);
#endif

#if AF_API_VERSION >= 37
/** Sets the math mode of the cuBLAS handle of the active device. */
AFAPI af_err afcu_cublasSetMathMode(cublasMath_t mode);
#endif

/* Ember extensions, not part of ArrayFire's ABI. They let a program share one CUDA stream with
 * Ember, or order Ember's stream against its own, without blocking the host. Programs that must
 * also build against ArrayFire can test for EMBER_AFCU_STREAM_EXTENSIONS. */
#define EMBER_AFCU_STREAM_EXTENSIONS 1

/** Ember extension: makes Ember enqueue the work of device id on stream; NULL restores Ember's own
 * stream. Ember never destroys a stream it did not create. */
AFAPI af_err afcu_set_stream(int id, cudaStream_t stream);

/** Ember extension: makes Ember's stream of device id wait for all work enqueued so far on stream,
 * through an event, without blocking the host. */
AFAPI af_err afcu_wait_stream(int id, cudaStream_t stream);

/** Ember extension: makes stream wait for all work Ember has enqueued so far on device id, through
 * an event, without blocking the host. */
AFAPI af_err afcu_signal_stream(int id, cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif /* EMBER_AF_CUDA_H */
