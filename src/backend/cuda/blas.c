/* The CUDA backend's blas table, on cuBLAS, and the vendor handles that blas.c and lapack.c
 * share (linalg.h).
 *
 * A product is one cublasGemmEx call on the operands where they lie, the transforms passed as op
 * flags. Batches are one strided-batched call when every operand's batches are evenly spaced
 * (broadcast operands have stride 0), else one such call per index of dim 3; a single matrix
 * times a batch of matrices is folded into one product with a wider right operand. f32 uses TF32
 * tensor cores only when the user asked for them (afcu_cublasSetMathMode); f16 multiplies on
 * tensor cores and accumulates in float. */
#include "linalg.h"

#include "../../core/err.h"

#include <pthread.h>
#include <string.h>

/* The per-device handles, made at first use under the device's lock, which every sequence of
 * vendor calls also holds (a handle's stream and modes are shared state). */
static struct {
    pthread_mutex_t lock;
    cublasHandle_t blas;
    cusolverDnHandle_t solver;
    /* Kept for the handle's life: gesvdj reports through it after its kernels, so it must
     * outlive any call that was given it. */
    gesvdjInfo_t svdj;
} em_cu_la_devs[EM_MAX_DEVICES] = {
#define EM_LA_INIT                                                                                 \
    { .lock = PTHREAD_MUTEX_INITIALIZER }
    EM_LA_INIT, EM_LA_INIT, EM_LA_INIT, EM_LA_INIT, EM_LA_INIT, EM_LA_INIT, EM_LA_INIT, EM_LA_INIT,
    EM_LA_INIT, EM_LA_INIT, EM_LA_INIT, EM_LA_INIT, EM_LA_INIT, EM_LA_INIT, EM_LA_INIT, EM_LA_INIT,
#undef EM_LA_INIT
};
_Static_assert(EM_MAX_DEVICES == 16, "em_cu_la_devs initialiser lists 16 devices");

/* cuBLAS's workspace for one call. NVIDIA recommends 32 MiB on Hopper so that every algorithm
 * of its heuristics is open to it; the pool keeps the block cached between calls. */
#define EM_CU_BLAS_WORKSPACE ((size_t)32 << 20)

static af_err blas_status(const char *fn, cublasStatus_t s, const char *what) {
    af_err code;
    switch (s) {
    case CUBLAS_STATUS_ALLOC_FAILED:
        code = AF_ERR_NO_MEM;
        break;
    case CUBLAS_STATUS_NOT_SUPPORTED:
    case CUBLAS_STATUS_ARCH_MISMATCH:
        code = AF_ERR_NOT_SUPPORTED;
        break;
    case CUBLAS_STATUS_NOT_INITIALIZED:
        code = AF_ERR_DRIVER;
        break;
    default:
        code = AF_ERR_INTERNAL;
        break;
    }
    return em_err(code, fn, "%s: cuBLAS returned %d (%s)", what, (int)s, cublasGetStatusString(s));
}

static const char *solver_status_name(cusolverStatus_t s) {
    switch (s) {
    case CUSOLVER_STATUS_NOT_INITIALIZED:
        return "CUSOLVER_STATUS_NOT_INITIALIZED";
    case CUSOLVER_STATUS_ALLOC_FAILED:
        return "CUSOLVER_STATUS_ALLOC_FAILED";
    case CUSOLVER_STATUS_INVALID_VALUE:
        return "CUSOLVER_STATUS_INVALID_VALUE";
    case CUSOLVER_STATUS_ARCH_MISMATCH:
        return "CUSOLVER_STATUS_ARCH_MISMATCH";
    case CUSOLVER_STATUS_EXECUTION_FAILED:
        return "CUSOLVER_STATUS_EXECUTION_FAILED";
    case CUSOLVER_STATUS_INTERNAL_ERROR:
        return "CUSOLVER_STATUS_INTERNAL_ERROR";
    case CUSOLVER_STATUS_NOT_SUPPORTED:
        return "CUSOLVER_STATUS_NOT_SUPPORTED";
    case CUSOLVER_STATUS_INVALID_WORKSPACE:
        return "CUSOLVER_STATUS_INVALID_WORKSPACE";
    default:
        return "an unexpected cuSOLVER status";
    }
}

static af_err solver_status(const char *fn, cusolverStatus_t s, const char *what) {
    af_err code;
    switch (s) {
    case CUSOLVER_STATUS_ALLOC_FAILED:
        code = AF_ERR_NO_MEM;
        break;
    case CUSOLVER_STATUS_NOT_SUPPORTED:
    case CUSOLVER_STATUS_ARCH_MISMATCH:
        code = AF_ERR_NOT_SUPPORTED;
        break;
    case CUSOLVER_STATUS_NOT_INITIALIZED:
        code = AF_ERR_DRIVER;
        break;
    default:
        code = AF_ERR_INTERNAL;
        break;
    }
    return em_err(code, fn, "%s: cuSOLVER returned %d (%s)", what, (int)s, solver_status_name(s));
}

af_err em_cu_blas_err(const em_cu_la *c, cublasStatus_t s, const char *what) {
    return blas_status(c->fn, s, what);
}

af_err em_cu_solver_err(const em_cu_la *c, cusolverStatus_t s, const char *what) {
    return solver_status(c->fn, s, what);
}

cudaDataType em_cu_data_type(af_dtype t) {
    switch (t) {
    case f64:
        return CUDA_R_64F;
    case c32:
        return CUDA_C_32F;
    case c64:
        return CUDA_C_64F;
    case f16:
        return CUDA_R_16F;
    default:
        return CUDA_R_32F;
    }
}

af_err em_cu_la_workspace(em_cu_la *c, size_t bytes, em_buf **out) {
    *out = NULL;
    if (bytes == 0) return AF_SUCCESS;
    af_err err = em_buf_alloc(c->dev, bytes, out);
    if (err != AF_SUCCESS) em_err_attribute(c->fn);
    return err;
}

af_err em_cu_la_begin(const char *fn, int dev, unsigned what, em_cu_la *c) {
    af_err err = AF_SUCCESS;
    memset(c, 0, sizeof(*c));
    c->fn = fn;
    c->dev = dev;
    c->prev = -1;
    EM_TRY_FN(em_cu_enter(fn, dev, &c->stream, &c->prev));
    c->entered = true;
    pthread_mutex_lock(&em_cu_la_devs[dev].lock);
    c->locked = true;
    if ((what & EM_CU_LA_BLAS) && !em_cu_la_devs[dev].blas) {
        cublasHandle_t h = NULL;
        cublasStatus_t s = cublasCreate(&h);
        if (s == CUBLAS_STATUS_ALLOC_FAILED) {
            em_mem_gc(dev);
            s = cublasCreate(&h);
        }
        if (s != CUBLAS_STATUS_SUCCESS) {
            err = blas_status(fn, s, "creating the cuBLAS handle");
            goto fail;
        }
        em_cu_la_devs[dev].blas = h;
    }
    if ((what & EM_CU_LA_SOLVER) && !em_cu_la_devs[dev].solver) {
        cusolverDnHandle_t h = NULL;
        cusolverStatus_t s = cusolverDnCreate(&h);
        if (s == CUSOLVER_STATUS_ALLOC_FAILED) {
            em_mem_gc(dev);
            s = cusolverDnCreate(&h);
        }
        if (s != CUSOLVER_STATUS_SUCCESS) {
            err = solver_status(fn, s, "creating the cuSOLVER handle");
            goto fail;
        }
        em_cu_la_devs[dev].solver = h;
    }
    if ((what & EM_CU_LA_SOLVER) && !em_cu_la_devs[dev].svdj) {
        gesvdjInfo_t p = NULL;
        cusolverStatus_t s = cusolverDnCreateGesvdjInfo(&p);
        if (s != CUSOLVER_STATUS_SUCCESS) {
            err = solver_status(fn, s, "creating the gesvdj settings");
            goto fail;
        }
        em_cu_la_devs[dev].svdj = p;
    }
    if (what & EM_CU_LA_BLAS) {
        c->blas = em_cu_la_devs[dev].blas;
        EM_CUBLAS(c, "cublasSetStream", cublasSetStream(c->blas, c->stream));
        /* Setting the stream resets the workspace, so the workspace comes after it. */
        EM_TRY_FN(em_cu_la_workspace(c, EM_CU_BLAS_WORKSPACE, &c->blas_ws));
        EM_CUBLAS(c, "cublasSetWorkspace",
                  cublasSetWorkspace(c->blas, c->blas_ws->ptr, c->blas_ws->bytes));
        EM_CUBLAS(c, "cublasSetPointerMode",
                  cublasSetPointerMode(c->blas, CUBLAS_POINTER_MODE_HOST));
        /* The math mode the user chose for this device (afcu_cublasSetMathMode): default math
         * unless TF32 was asked for, as ArrayFire. */
        EM_CUBLAS(c, "cublasSetMathMode",
                  cublasSetMathMode(c->blas, (cublasMath_t)em_cu_devs[dev].math_mode));
    }
    if (what & EM_CU_LA_SOLVER) {
        c->solver = em_cu_la_devs[dev].solver;
        c->svdj = em_cu_la_devs[dev].svdj;
        EM_CUSOLVER(c, "cusolverDnSetStream", cusolverDnSetStream(c->solver, c->stream));
    }
    return AF_SUCCESS;
fail:
    em_cu_la_end(c);
    return err;
}

void em_cu_la_end(em_cu_la *c) {
    if (c->locked) {
        pthread_mutex_unlock(&em_cu_la_devs[c->dev].lock);
        c->locked = false;
    }
    /* Back to the pool: later work on the same stream runs after this call's. */
    if (c->blas_ws) em_buf_release(c->blas_ws);
    c->blas_ws = NULL;
    if (c->entered) em_cu_leave_enqueued(c->dev, c->prev);
    c->entered = false;
}

/* ---- gemm ---- */

static cublasOperation_t cu_op(em_blas_op op) {
    return op == EM_BLAS_N ? CUBLAS_OP_N : op == EM_BLAS_T ? CUBLAS_OP_T : CUBLAS_OP_C;
}

static af_err gemm_calls(em_cu_la *c, const em_gemm_desc *d) {
    af_err err = AF_SUCCESS;
    cudaDataType dt = em_cu_data_type(d->type);
    cublasComputeType_t ct =
        (d->type == f64 || d->type == c64) ? CUBLAS_COMPUTE_64F : CUBLAS_COMPUTE_32F;
    /* alpha and beta in the compute type: float for f32, c32 and f16. */
    float fa[2] = {(float)d->alpha[0], (float)d->alpha[1]};
    float fb[2] = {(float)d->beta[0], (float)d->beta[1]};
    const void *al = ct == CUBLAS_COMPUTE_64F ? (const void *)d->alpha : (const void *)fa;
    const void *be = ct == CUBLAS_COMPUTE_64F ? (const void *)d->beta : (const void *)fb;
    cublasOperation_t ta = cu_op(d->op_a), tb = cu_op(d->op_b);
    size_t es = em_dtype_size(d->type);
    dim_t nb = d->batch[0] * d->batch[1];
    bool fold = nb > 1 && d->stride_a[0] == 0 && d->stride_a[1] == 0 && d->op_b == EM_BLAS_N &&
                d->ldb == d->k && d->ldc == d->m && d->stride_b[0] == d->k * d->n &&
                (d->batch[1] == 1 || d->stride_b[1] == d->stride_b[0] * d->batch[0]);
    if (nb == 1 || fold) {
        /* One product; a broadcast left matrix times packed right matrices is one product with
         * a k x (n * batches) right operand. */
        EM_CUBLAS(c, "cublasGemmEx",
                  cublasGemmEx_64(c->blas, ta, tb, d->m, fold ? d->n * nb : d->n, d->k, al, d->a,
                                  dt, d->lda, d->b, dt, d->ldb, be, d->c, dt, d->ldc, ct,
                                  CUBLAS_GEMM_DEFAULT));
        return AF_SUCCESS;
    }
    /* Evenly spaced batches (each operand's dim-3 stride is its dim-2 stride times the dim-2
     * count, broadcast ones 0) are one strided-batched call over all of them. */
    bool even = d->batch[1] == 1 || (d->stride_a[1] == d->stride_a[0] * d->batch[0] &&
                                     d->stride_b[1] == d->stride_b[0] * d->batch[0] &&
                                     d->stride_c[1] == d->stride_c[0] * d->batch[0]);
    dim_t outer = even ? 1 : d->batch[1], inner = even ? nb : d->batch[0];
    for (dim_t w = 0; w < outer; w++) {
        const char *ap = (const char *)d->a + (size_t)(d->stride_a[1] * w) * es;
        const char *bp = (const char *)d->b + (size_t)(d->stride_b[1] * w) * es;
        char *cp = (char *)d->c + (size_t)(d->stride_c[1] * w) * es;
        EM_CUBLAS(c, "cublasGemmStridedBatchedEx",
                  cublasGemmStridedBatchedEx_64(c->blas, ta, tb, d->m, d->n, d->k, al, ap, dt,
                                                d->lda, d->stride_a[0], bp, dt, d->ldb,
                                                d->stride_b[0], be, cp, dt, d->ldc, d->stride_c[0],
                                                inner, ct, CUBLAS_GEMM_DEFAULT));
    }
    return AF_SUCCESS;
fail:
    return err;
}

af_err em_cu_gemm_in(em_cu_la *c, const em_gemm_desc *d) {
    if (d->m == 0 || d->n == 0 || d->batch[0] == 0 || d->batch[1] == 0) return AF_SUCCESS;
    return gemm_calls(c, d);
}

static af_err cu_gemm(int dev, const em_gemm_desc *d) {
    af_err err = AF_SUCCESS;
    em_cu_la c;
    if (d->m == 0 || d->n == 0 || d->batch[0] == 0 || d->batch[1] == 0) return AF_SUCCESS;
    EM_TRY(em_cu_la_begin(__func__, dev, EM_CU_LA_BLAS, &c));
    err = gemm_calls(&c, d);
    em_cu_la_end(&c);
fail:
    return err;
}

/* ---- dot ---- */

static af_err cu_dot(int dev, af_dtype type, dim_t n, const void *x, bool conj_x, const void *y,
                     bool conj_y, void *out) {
    af_err err = AF_SUCCESS;
    em_cu_la c;
    bool begun = false;
    EM_TRY(em_cu_la_begin(__func__, dev, EM_CU_LA_BLAS, &c));
    begun = true;
    cudaDataType dt = em_cu_data_type(type);
    cudaDataType exec = type == f16 ? CUDA_R_32F : dt;
    /* The sum lands in device memory: no host wait here (af_dot_all's read waits for it). */
    EM_CUBLAS(&c, "cublasSetPointerMode", cublasSetPointerMode(c.blas, CUBLAS_POINTER_MODE_DEVICE));
    if (conj_x != conj_y) {
        /* conj(x) y is dotc(x, y); x conj(y) is dotc(y, x). */
        const void *p = conj_x ? x : y, *q = conj_x ? y : x;
        EM_CUBLAS(&c, "cublasDotcEx",
                  cublasDotcEx_64(c.blas, n, p, dt, 1, q, dt, 1, out, dt, exec));
    } else {
        EM_CUBLAS(&c, "cublasDotEx", cublasDotEx_64(c.blas, n, x, dt, 1, y, dt, 1, out, dt, exec));
    }
    EM_CUBLAS(&c, "cublasSetPointerMode", cublasSetPointerMode(c.blas, CUBLAS_POINTER_MODE_HOST));
    if (conj_x && conj_y && (type == c32 || type == c64)) {
        /* conj(x) conj(y) is conj(x y): negate the imaginary part in place. */
        if (type == c32) {
            const float m1 = -1;
            EM_CUBLAS(&c, "cublasSscal", cublasSscal(c.blas, 1, &m1, (float *)out + 1, 1));
        } else {
            const double m1 = -1;
            EM_CUBLAS(&c, "cublasDscal", cublasDscal(c.blas, 1, &m1, (double *)out + 1, 1));
        }
    }
fail:
    if (begun) em_cu_la_end(&c);
    return err;
}

const struct em_blas_ops em_cu_blas_ops = {
    .gemm = cu_gemm,
    .dot = cu_dot,
};
