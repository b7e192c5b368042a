/* The blas family's backend table (blas.h of the API: matmul, gemm, dot). The api file
 * (src/api/blas.c) checks arguments, computes output shapes and hands the backend dense
 * column-major operands; each backend fills these slots in its blas.c with the vendor library
 * (CPU: OpenBLAS through CBLAS; CUDA: cuBLAS). A NULL slot answers AF_ERR_NOT_SUPPORTED.
 *
 * Operands are never transposed in memory: the transform travels as a BLAS op flag, and batches
 * that broadcast have a stride of 0, so the vendor call reads the arrays where they lie. */
#ifndef EM_BACKEND_BLAS_H
#define EM_BACKEND_BLAS_H

#include "../core/backend.h"

#include <stdbool.h>

/* An operand transform, as BLAS names them: none, transpose, conjugate transpose. */
typedef enum { EM_BLAS_N = 0, EM_BLAS_T = 1, EM_BLAS_C = 2 } em_blas_op;

/* C = alpha op(A) op(B) + beta C for every output batch (z, w), z < batch[0], w < batch[1]:
 * matrix (z, w) of X starts stride_x[0] * z + stride_x[1] * w elements after x (a stride of 0
 * broadcasts one matrix to every batch). op(A) is m x k, op(B) is k x n, C is m x n. Leading
 * dimensions are at least 1. alpha and beta are given as (real, imaginary) pairs; for f16 the
 * product is computed in float and rounded once when stored. With beta == 0, C is not read (NaN
 * in C does not propagate), as BLAS defines it. */
typedef struct {
    af_dtype type; /* f32, f64, c32, c64 or f16 */
    em_blas_op op_a, op_b;
    dim_t m, n, k;
    const void *a, *b;
    void *c;
    dim_t lda, ldb, ldc;
    dim_t batch[2];
    dim_t stride_a[2], stride_b[2], stride_c[2];
    double alpha[2], beta[2];
} em_gemm_desc;

struct em_blas_ops {
    af_err (*gemm)(int dev, const em_gemm_desc *d);
    /* out[0] = sum over i < n of x'[i] * y'[i], where x' is conj(x) when conj_x (and y' likewise);
     * x, y and out are device memory of `type` (f32, f64, c32, c64, f16), n >= 1. For f16 the sum
     * is accumulated in float. */
    af_err (*dot)(int dev, af_dtype type, dim_t n, const void *x, bool conj_x, const void *y,
                  bool conj_y, void *out);
};

extern const struct em_blas_ops em_cpu_blas_ops;
extern const struct em_blas_ops em_cu_blas_ops;

#endif
