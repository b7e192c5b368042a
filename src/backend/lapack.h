/* The lapack family's backend table (lapack.h of the API: factorisations, solves, inverses,
 * determinant, rank and norms). The api file (src/api/lapack.c) checks arguments, allocates the
 * outputs and hands the backend dense column-major matrices; each backend fills these slots in
 * its lapack.c with the vendor library (CPU: LAPACKE over OpenBLAS; CUDA: cuSOLVER and cuBLAS).
 * A NULL slot answers AF_ERR_NOT_SUPPORTED.
 *
 * Every matrix is dense with a leading dimension equal to its row count. dtypes are f32, f64,
 * c32 and c64; real outputs of complex inputs (singular values) have the real dtype. Pivots are
 * s32, in device memory. Slots that answer on the host (potrf's info, det, rank, norm) wait for
 * the device only for that answer. A matrix documented as "destroyed" is workspace the slot may
 * overwrite. */
#ifndef EM_BACKEND_LAPACK_H
#define EM_BACKEND_LAPACK_H

#include "../core/backend.h"

#include <stdbool.h>
#include <stdint.h>

struct em_lapack_ops {
    /* LU with partial pivoting, in place: a (m x n) becomes L (unit diagonal, below) and U (on
     * and above the diagonal); ipiv (min(m, n)) receives LAPACK's 1-based row interchanges. A
     * singular matrix is factored as LAPACK does, its zero pivot left in U. */
    af_err (*getrf)(int dev, af_dtype type, dim_t m, dim_t n, void *a, int32_t *ipiv);
    /* The permutation of k interchanges: perm (m, 0-based) such that row i of L U is row
     * perm[i] of the factored matrix. */
    af_err (*pivot_perm)(int dev, const int32_t *ipiv, dim_t k, dim_t m, int32_t *perm);
    /* out (rows x cols) = the upper (or lower) trapezoid of in (leading dim ld, at least rows
     * rows), zero elsewhere; with unit, ones on the diagonal. out may be in (ld == rows): the
     * other part is then zeroed in place. */
    af_err (*triangle)(int dev, af_dtype type, void *out, dim_t rows, dim_t cols, const void *in,
                       dim_t ld, bool upper, bool unit);
    /* Cholesky in place: the upper (R^H R = A) or lower (L L^H = A) triangle of a (n x n) gets
     * the factor; the other triangle is left as it was. *info (host): 0, or the order of the
     * leading minor that is not positive definite (the factorisation stopped there). */
    af_err (*potrf)(int dev, af_dtype type, dim_t n, void *a, bool upper, int *info);
    /* QR in place: a (m x n) gets R on and above the diagonal and the Householder vectors below
     * it; tau (min(m, n)) their scales. */
    af_err (*geqrf)(int dev, af_dtype type, dim_t m, dim_t n, void *a, void *tau);
    /* Q from geqrf: q (m x cols, cols >= k) holds k reflectors in its first k columns and
     * becomes the first cols columns of Q = H(1) ... H(k). */
    af_err (*orgqr)(int dev, af_dtype type, dim_t m, dim_t cols, dim_t k, void *q, const void *tau);
    /* b (n x nrhs) becomes A^-1 b, from getrf's factors lu (n x n) and ipiv (n). */
    af_err (*getrs)(int dev, af_dtype type, dim_t n, dim_t nrhs, const void *lu,
                    const int32_t *ipiv, void *b);
    /* For each of `batch` systems (matrices one after another): x (n x k) solves a x = b, with a
     * (m x n, destroyed) and b (m x k). Square: LU with partial pivoting (a singular matrix gives
     * non-finite values). m > n: least squares; m < n: the minimum-norm solution; both through
     * QR, for a matrix of full rank. */
    af_err (*gesolve)(int dev, af_dtype type, dim_t m, dim_t n, dim_t k, dim_t batch, void *a,
                      const void *b, void *x);
    /* For each of `batch` systems: b (n x k) becomes A^-1 b, A (n x n) upper or lower
     * triangular, with a unit diagonal (not read) when unit. */
    af_err (*trsolve)(int dev, af_dtype type, dim_t n, dim_t k, dim_t batch, const void *a,
                      bool upper, bool unit, void *b);
    /* out (n x n) = a^-1, a (n x n) destroyed. A singular matrix gives non-finite values. */
    af_err (*inverse)(int dev, af_dtype type, dim_t n, void *a, void *out);
    /* Full SVD a = u diag(s) vt, a (m x n) destroyed: s (min(m, n), real dtype, descending), u
     * (m x m) and vt (n x n). With u and vt NULL, the values only. */
    af_err (*svd)(int dev, af_dtype type, dim_t m, dim_t n, void *a, void *s, void *u, void *vt);
    /* The determinant of a (n x n, n >= 1, destroyed) on the host, as (real, imaginary). */
    af_err (*det)(int dev, af_dtype type, dim_t n, void *a, double out[2]);
    /* ArrayFire's rank: the rows of QR's R (a is m x n, destroyed) that hold an entry of
     * magnitude above tol. */
    af_err (*rank)(int dev, af_dtype type, dim_t m, dim_t n, void *a, double tol, unsigned *out);
    /* af_norm of a (m x n, not empty), on the host. kind is an af_norm_type; f16 is accepted
     * too (computed in float). AF_NORM_MATRIX_2 is the largest singular value. */
    af_err (*norm)(int dev, af_dtype type, int kind, dim_t m, dim_t n, const void *a, double p,
                   double q, double *out);
    /* For each of `batch` matrices a (m x n): out (n x m) = the pseudo-inverse V S+ U^H, where
     * S+ inverts the singular values at least tol * max(m, n) * s_max and zeroes the rest. */
    af_err (*pinverse)(int dev, af_dtype type, dim_t m, dim_t n, dim_t batch, const void *a,
                       double tol, void *out);
};

extern const struct em_lapack_ops em_cpu_lapack_ops;
extern const struct em_lapack_ops em_cu_lapack_ops;

#endif
