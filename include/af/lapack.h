/* Ember: an implementation of ArrayFire's C API. This header declares ArrayFire 3.10's linear
 * algebra (LAPACK) interface, with the same names, types and AF_API_VERSION guards. */

#ifndef EMBER_AF_LAPACK_H
#define EMBER_AF_LAPACK_H

#include <af/defines.h>

#ifdef __cplusplus
extern "C" {
#endif

#if AF_API_VERSION >= 31
/** Computes the singular value decomposition of a matrix. */
AFAPI af_err af_svd(af_array *u, af_array *s, af_array *vt, const af_array in);
#endif

#if AF_API_VERSION >= 31
/** Computes the singular value decomposition, overwriting the input. */
AFAPI af_err af_svd_inplace(af_array *u, af_array *s, af_array *vt, af_array in);
#endif

/** Computes the LU decomposition of a matrix with partial pivoting. */
AFAPI af_err af_lu(af_array *lower, af_array *upper, af_array *pivot, const af_array in);

/** Computes the LU decomposition in place and returns the pivots. */
AFAPI af_err af_lu_inplace(af_array *pivot, af_array in, const bool is_lapack_piv);

/** Computes the QR decomposition of a matrix. */
AFAPI af_err af_qr(af_array *q, af_array *r, af_array *tau, const af_array in);

/** Computes the QR decomposition in place and returns tau. */
AFAPI af_err af_qr_inplace(af_array *tau, af_array in);

/** Computes the Cholesky factor of a positive-definite matrix. */
AFAPI af_err af_cholesky(af_array *out, int *info, const af_array in, const bool is_upper);

/** Computes the Cholesky factor in place. */
AFAPI af_err af_cholesky_inplace(int *info, af_array in, const bool is_upper);

/** Solves the linear system a x = b. */
AFAPI af_err af_solve(af_array *x, const af_array a, const af_array b, const af_mat_prop options);

/** Solves a x = b using the LU factors and pivots of a. */
AFAPI af_err af_solve_lu(af_array *x, const af_array a, const af_array piv, const af_array b,
                         const af_mat_prop options);

/** Inverts a square matrix. */
AFAPI af_err af_inverse(af_array *out, const af_array in, const af_mat_prop options);

#if AF_API_VERSION >= 37
/** Computes the Moore-Penrose pseudo-inverse of a matrix. */
AFAPI af_err af_pinverse(af_array *out, const af_array in, const double tol,
                         const af_mat_prop options);
#endif

/** Returns the rank of a matrix, counting singular values above tol. */
AFAPI af_err af_rank(unsigned *rank, const af_array in, const double tol);

/** Returns the determinant of a square matrix on the host. */
AFAPI af_err af_det(double *det_real, double *det_imag, const af_array in);

/** Returns a vector or matrix norm of in on the host. */
AFAPI af_err af_norm(double *out, const af_array in, const af_norm_type type, const double p,
                     const double q);

#if AF_API_VERSION >= 33
/** Tests whether the LAPACK functions are available in this build. */
AFAPI af_err af_is_lapack_available(bool *out);
#endif

#ifdef __cplusplus
}
#endif

#endif /* EMBER_AF_LAPACK_H */
