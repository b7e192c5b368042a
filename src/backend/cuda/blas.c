/* The CUDA backend's blas table, on cuBLAS, and the vendor handles that blas.c and lapack.c
 * share (linalg.h).
 *
 * A product is one cublasGemmEx call on the operands where they lie, the transforms passed as op
 * flags. Batches are one strided-batched call when every operand's batches are evenly spaced
 * (broadcast operands have stride 0), else one such call per index of dim 3; a single matrix
 * times a batch of matrices is folded into one product with a wider right operand. f32 uses TF32
 * tensor cores only when the user asked for them (afcu_cublasSetMathMode); f16 multiplies on
 * tensor cores and accumulates in float.
 *
 * Thin products (m, n or k of 1: matrix-vector, vector-matrix, dot and outer products) are not
 * given to cublasGemmEx_64: test processes that gave it such shapes, 1 x 1 x 1 among them, were
 * killed by SIGSEGV, while every other shape ran. They run on the kernels of kernels/blas.cuh,
 * which read both operands where they lie, in every op and batch layout: one thread per output
 * where a warp's threads then read consecutive elements, else one warp per output reading along
 * k; with too few outputs to fill the device, k is cut into slices whose sums a second kernel
 * adds. These shapes are memory-bound, so plain kernels at bandwidth are all they need. */
#include "linalg.h"

#include "../../core/err.h"
#include "../../core/sbuf.h"

#include <pthread.h>
#include <stdlib.h>
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

/* ---- thin products (kernels/blas.cuh) ---- */

enum { K_BL_THREAD, K_BL_WARP, K_BL_FINISH, K_BL_COUNT };
static const char *const bl_names[K_BL_COUNT] = {"em_bl_thread", "em_bl_warp", "em_bl_finish"};

/* The kernels' argument, laid out as blas.cuh's em_bl_params. */
typedef struct {
    const void *a, *b;
    void *c, *partial;
    long long m, n, k;
    long long a_si, a_sp, b_sp, b_sj, ldc;
    long long nb0, nbatch;
    long long sa0, sa1, sb0, sb1, sc0, sc1;
    long long split, kchunk;
    double alpha_re, alpha_im, beta_re, beta_im;
    int conj_a, conj_b, beta_zero, pad;
} em_bl_params;
_Static_assert(sizeof(em_bl_params) == 224, "em_bl_params must match blas.cuh's layout");

static char *bl_source(const void *ctx) {
    af_dtype t = *(const af_dtype *)ctx;
    const char *ty = t == f64   ? "double"
                     : t == c32 ? "em_bl_c32"
                     : t == c64 ? "em_bl_c64"
                     : t == f16 ? "unsigned short"
                                : "float";
    em_sbuf b = {0};
    em_sbuf_printf(&b,
                   "// Ember thin products\n#define EM_BL_T %s\n#define EM_BL_ACC %s\n"
                   "#define EM_BL_CPLX %d\n#define EM_BL_HALF %d\n",
                   ty, (t == f64 || t == c64) ? "double" : "float", (t == c32 || t == c64) ? 1 : 0,
                   t == f16 ? 1 : 0);
    em_sbuf_printf(&b, "%s", em_cu_src_blas);
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

static uint64_t bl_src_hash(void) {
    static _Atomic uint64_t hash;
    uint64_t h = atomic_load_explicit(&hash, memory_order_relaxed);
    if (h) return h;
    h = EM_HASH_SEED;
    for (const char *s = em_cu_src_blas; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    atomic_store_explicit(&hash, h, memory_order_relaxed);
    return h;
}

static af_err bl_launch(const em_cu_la *c, int kernel, af_dtype t, long long threads,
                        em_bl_params *p) {
    CUfunction f;
    /* One module per kernel and dtype (the source text is the same for the three kernels). */
    uint64_t key = em_hash_mix(em_hash_mix(EM_HASH_SEED, 0x626c617300000000ull | (uint64_t)kernel),
                               (uint64_t)t);
    key = em_hash_mix(key, bl_src_hash());
    af_err err = em_cu_module_get(c->dev, key, bl_names[kernel], bl_source, &t, &f);
    if (err != AF_SUCCESS) {
        em_err_attribute(c->fn);
        return err;
    }
    long long blocks = (threads + EM_CU_BLOCK - 1) / EM_CU_BLOCK;
    if (blocks > em_cu_devs[c->dev].grid) blocks = em_cu_devs[c->dev].grid;
    if (blocks < 1) blocks = 1;
    dim3 grid = {(unsigned)blocks, 1, 1}, block = {EM_CU_BLOCK, 1, 1};
    void *args[] = {p};
    return em_cu_launch(c->fn, bl_names[kernel], f, grid, block, args, c->stream);
}

static af_err blas_compile_check(void) {
    const af_dtype ts[] = {f32, f64, c32, c64, f16};
    for (int i = 0; i < 5; i++) {
        char *src = bl_source(&ts[i]);
        if (!src) return em_err(AF_ERR_NO_MEM, __func__, "out of host memory");
        af_err err = AF_SUCCESS;
        for (int k = 0; k < K_BL_COUNT && err == AF_SUCCESS; k++)
            err = em_cu_compile_source(src, bl_names[k]);
        free(src);
        if (err != AF_SUCCESS) return err;
    }
    return AF_SUCCESS;
}
EM_CU_COMPILE_CHECK(blas, blas_compile_check)

static bool gemm_thin(const em_gemm_desc *d) {
    return d->m == 1 || d->n == 1 || d->k <= 1;
}

/* Threads (and warps) enough to fill a large device several times over. */
#define EM_BL_THREADS_WANTED 262144
#define EM_BL_WARPS_WANTED   8192

/* The slicing of k that gives `outputs` outputs about `wanted` workers, each slice at least
 * `least` terms long and a multiple of `align`. */
static void bl_split(em_bl_params *p, long long outputs, long long wanted, long long least,
                     long long align) {
    p->split = 1;
    p->kchunk = p->k;
    if (outputs >= wanted || p->k < 2 * least) return;
    long long split = (wanted + outputs - 1) / outputs, most = p->k / least;
    if (split > most) split = most;
    long long chunk = (p->k + split - 1) / split;
    chunk = (chunk + align - 1) / align * align;
    p->split = (p->k + chunk - 1) / chunk;
    p->kchunk = chunk;
}

static af_err gemm_thin_run(em_cu_la *c, const em_gemm_desc *d) {
    af_err err;
    em_buf *part = NULL;
    em_bl_params p = {
        .a = d->a,
        .b = d->b,
        .c = d->c,
        .m = d->m,
        .n = d->n,
        .k = d->k,
        .ldc = d->ldc,
        .nb0 = d->batch[0],
        .nbatch = d->batch[0] * d->batch[1],
        .sa0 = d->stride_a[0],
        .sa1 = d->stride_a[1],
        .sb0 = d->stride_b[0],
        .sb1 = d->stride_b[1],
        .sc0 = d->stride_c[0],
        .sc1 = d->stride_c[1],
        .alpha_re = d->alpha[0],
        .alpha_im = d->alpha[1],
        .beta_re = d->beta[0],
        .beta_im = d->beta[1],
        .conj_a = d->op_a == EM_BLAS_C,
        .conj_b = d->op_b == EM_BLAS_C,
        .beta_zero = d->beta[0] == 0 && d->beta[1] == 0,
    };
    /* op(A)(i, p) and op(B)(p, j) as strides into the stored matrices. */
    if (d->op_a == EM_BLAS_N)
        p.a_si = 1, p.a_sp = d->lda;
    else
        p.a_si = d->lda, p.a_sp = 1;
    if (d->op_b == EM_BLAS_N)
        p.b_sp = 1, p.b_sj = d->ldb;
    else
        p.b_sp = d->ldb, p.b_sj = 1;
    long long outputs = p.m * p.n * p.nbatch;
    /* The operand with more than one row or column along the outputs (A unless C is a row) is
     * read along k by a warp when it is contiguous along k, else along the outputs by threads
     * (it is then contiguous along them: one of the two always holds). */
    bool along_k = p.m > 1 ? p.a_sp == 1 : p.b_sp == 1;
    int kernel = p.k >= 32 && along_k ? K_BL_WARP : K_BL_THREAD;
    if (kernel == K_BL_WARP)
        bl_split(&p, outputs, EM_BL_WARPS_WANTED, 1024, 32);
    else
        bl_split(&p, outputs, EM_BL_THREADS_WANTED, 32, 1);
    if (p.split > 1) {
        size_t acc = (d->type == f64 || d->type == c64) ? sizeof(double) : sizeof(float);
        err = em_cu_la_workspace(c, (size_t)(outputs * p.split) * 2 * acc, &part);
        if (err != AF_SUCCESS) return err;
        p.partial = part->ptr;
    }
    err = bl_launch(c, kernel, d->type, outputs * p.split * (kernel == K_BL_WARP ? 32 : 1), &p);
    if (err == AF_SUCCESS && p.split > 1) err = bl_launch(c, K_BL_FINISH, d->type, outputs, &p);
    /* Back to the pool: work queued later on this stream is ordered after the kernels. */
    if (part) em_buf_release(part);
    return err;
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
    return gemm_thin(d) ? gemm_thin_run(c, d) : gemm_calls(c, d);
}

static af_err cu_gemm(int dev, const em_gemm_desc *d) {
    af_err err = AF_SUCCESS;
    em_cu_la c;
    if (d->m == 0 || d->n == 0 || d->batch[0] == 0 || d->batch[1] == 0) return AF_SUCCESS;
    bool thin = gemm_thin(d);
    /* The thin kernels need no cuBLAS handle (nor its workspace). */
    EM_TRY(em_cu_la_begin(__func__, dev, thin ? 0 : EM_CU_LA_BLAS, &c));
    err = thin ? gemm_thin_run(&c, d) : gemm_calls(&c, d);
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
