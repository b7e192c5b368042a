/* Ember: an implementation of ArrayFire's C API. This header declares ArrayFire 3.10's matrix
 * multiplication and transposition interface, with the same names, types and AF_API_VERSION
 * guards. */

#ifndef EMBER_AF_BLAS_H
#define EMBER_AF_BLAS_H

#include <af/defines.h>

#ifdef __cplusplus
extern "C" {
#endif

#if AF_API_VERSION >= 37
/** Computes C = alpha * opA(A) * opB(B) + beta * C. */
AFAPI af_err af_gemm(af_array *C, const af_mat_prop opA, const af_mat_prop opB, const void *alpha,
                     const af_array A, const af_array B, const void *beta);
#endif

/** Multiplies two matrices, optionally transposing either. */
AFAPI af_err af_matmul(af_array *out, const af_array lhs, const af_array rhs,
                       const af_mat_prop optLhs, const af_mat_prop optRhs);

/** Computes the dot product of two vectors. */
AFAPI af_err af_dot(af_array *out, const af_array lhs, const af_array rhs, const af_mat_prop optLhs,
                    const af_mat_prop optRhs);

#if AF_API_VERSION >= 35
/** Computes the dot product of two vectors and returns it on the host. */
AFAPI af_err af_dot_all(double *real, double *imag, const af_array lhs, const af_array rhs,
                        const af_mat_prop optLhs, const af_mat_prop optRhs);
#endif

/** Transposes the first two dimensions of in, optionally conjugating. */
AFAPI af_err af_transpose(af_array *out, af_array in, const bool conjugate);

/** Transposes a square matrix in place, optionally conjugating. */
AFAPI af_err af_transpose_inplace(af_array in, const bool conjugate);

#ifdef __cplusplus
}
#endif

#endif /* EMBER_AF_BLAS_H */
