/* The vendor handles of the linear-algebra families, shared by blas.c (cuBLAS) and lapack.c
 * (cuSOLVER, plus cuBLAS for triangular solves and products).
 *
 * Each device has one cuBLAS and one cuSOLVER handle, made at first use. A handle's stream,
 * workspace and modes are state of the handle, so a call holds the device's lock from setting
 * them until its last enqueue: em_cu_la_begin enters the device, takes the lock, makes the
 * handles if needed and points both at the stream Ember enqueues on (the user's after
 * afcu_set_stream); em_cu_la_end releases them. cuBLAS's workspace comes from Ember's pool for
 * each call (a cached block after the first), so it is the memory manager's, visible to
 * af_device_mem_info and freed by af_device_gc. */
#ifndef EM_CUDA_LINALG_H
#define EM_CUDA_LINALG_H

#include "cu.h"

#include "../../core/mem.h"
#include "../blas.h"

#include <cublas_v2.h>
#include <cusolverDn.h>

typedef struct {
    const char *fn; /* the caller, for messages */
    int dev, prev;
    cudaStream_t stream;
    cublasHandle_t blas;
    cusolverDnHandle_t solver;
    gesvdjInfo_t svdj; /* the device's Jacobi SVD settings (with EM_CU_LA_SOLVER) */
    em_buf *blas_ws;   /* cuBLAS's workspace for this call */
    bool entered, locked;
} em_cu_la;

/* Which handles a sequence uses: made at first use, as a cuSOLVER handle costs memory a program
 * that only multiplies matrices should not pay. */
enum { EM_CU_LA_BLAS = 1, EM_CU_LA_SOLVER = 2 };

/* Enters device dev for a sequence of vendor calls with the handles `what` asks for. On failure
 * nothing is held. */
af_err em_cu_la_begin(const char *fn, int dev, unsigned what, em_cu_la *c);
/* Ends the sequence: releases the lock and the workspace, counts the enqueued work, and gives
 * the caller's device back. Safe after a failed begin. */
void em_cu_la_end(em_cu_la *c);

/* Maps a vendor status to an af_err with a message "what: <status name>" in the name of c->fn. */
af_err em_cu_blas_err(const em_cu_la *c, cublasStatus_t s, const char *what);
af_err em_cu_solver_err(const em_cu_la *c, cusolverStatus_t s, const char *what);

/* Runs a vendor call; when it runs out of memory, collects the pool's cached blocks (freeing
 * device memory the library can then take) and tries once more, as DESIGN.md asks. For functions
 * with `af_err err` and a `fail:` label. */
#define EM_CUBLAS(c, what, call)                                                                   \
    do {                                                                                           \
        cublasStatus_t em_s_ = (call);                                                             \
        if (em_s_ == CUBLAS_STATUS_ALLOC_FAILED) {                                                 \
            em_mem_gc((c)->dev);                                                                   \
            em_s_ = (call);                                                                        \
        }                                                                                          \
        if (em_s_ != CUBLAS_STATUS_SUCCESS) {                                                      \
            err = em_cu_blas_err((c), em_s_, (what));                                              \
            goto fail;                                                                             \
        }                                                                                          \
    } while (0)
#define EM_CUSOLVER(c, what, call)                                                                 \
    do {                                                                                           \
        cusolverStatus_t em_s_ = (call);                                                           \
        if (em_s_ == CUSOLVER_STATUS_ALLOC_FAILED) {                                               \
            em_mem_gc((c)->dev);                                                                   \
            em_s_ = (call);                                                                        \
        }                                                                                          \
        if (em_s_ != CUSOLVER_STATUS_SUCCESS) {                                                    \
            err = em_cu_solver_err((c), em_s_, (what));                                            \
            goto fail;                                                                             \
        }                                                                                          \
    } while (0)

/* The cudaDataType of an Ember dtype (f32, f64, c32, c64, f16). */
cudaDataType em_cu_data_type(af_dtype t);

/* A workspace block of at least `bytes` from the pool (NULL buffer for 0 bytes). */
af_err em_cu_la_workspace(em_cu_la *c, size_t bytes, em_buf **out);

/* The gemm slot's work inside an entered sequence (c->blas), for lapack.c's compositions. */
af_err em_cu_gemm_in(em_cu_la *c, const em_gemm_desc *d);

#endif
