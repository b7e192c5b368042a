/* The CUDA backend's shape operations that need a kernel of their own (src/backend/index.h, the
 * shape section): transpose, out of place and in place, with the tiled kernels of
 * kernels/shape.cuh. The other shape operations are lazy JIT leaves (src/api/shape.c), some with
 * index transforms that jit_gen.c turns into code; this file's compile check covers those too.
 *
 * A variant is (element size, conjugate, 64-bit offsets): a transpose moves bits, so one
 * variant serves every dtype of a size, and complex conjugation flips one sign bit. */
#include "cu.h"

#include "../../core/err.h"
#include "../index.h"
#include "jit_gen.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EM_CU_TILE 32
#define EM_CU_ROWS 8

/* The out-of-place transpose's tile edge for an element size (EM_TT in kernels/shape.cuh). */
static dim_t transpose_tile(int es) {
    return es == 16 ? 32 : 64;
}

typedef struct {
    int es;   /* element size: 1, 2, 4, 8 or 16 */
    int conj; /* conjugate complex elements */
    int idx64;
} shape_variant;

static char *shape_source(const void *ctx) {
    const shape_variant *v = ctx;
    char head[96];
    int n =
        snprintf(head, sizeof(head), "#define EM_ES %d\n#define EM_CONJ %d\n#define EM_IDX64 %d\n",
                 v->es, v->conj, v->idx64);
    size_t b = strlen(em_cu_src_shape);
    char *s = malloc((size_t)n + b + 1);
    if (!s) return NULL;
    memcpy(s, head, (size_t)n);
    memcpy(s + n, em_cu_src_shape, b + 1);
    return s;
}

/* The hash of kernels/shape.cuh as embedded, computed once (a racing thread computes the same). */
static uint64_t shape_text_hash(void) {
    static _Atomic uint64_t hash;
    uint64_t h = atomic_load_explicit(&hash, memory_order_relaxed);
    if (h) return h;
    h = EM_HASH_SEED;
    for (const char *s = em_cu_src_shape; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    atomic_store_explicit(&hash, h, memory_order_relaxed);
    return h;
}

static af_err shape_kernel(int dev, const shape_variant *v, const char *name, CUfunction *out) {
    uint64_t key = em_hash_mix(shape_text_hash(), 0x7368617065ull); /* "shape" */
    key = em_hash_mix(key, (uint64_t)v->es << 16 | (uint64_t)v->conj << 8 | (uint64_t)v->idx64);
    for (const char *c = name; *c; c++)
        key = em_hash_mix(key, (unsigned char)*c);
    return em_cu_module_get(dev, key, name, shape_source, v, out);
}

static int clamp_grid(dim_t n, dim_t cap) {
    return (int)(n < 1 ? 1 : n > cap ? cap : n);
}

/* The largest element distance reachable through strides s over dims d. */
static dim_t span_of(const dim_t d[4], const dim_t s[4]) {
    dim_t span = 1;
    for (int k = 0; k < 4; k++)
        span += (d[k] - 1) * (s[k] < 0 ? -s[k] : s[k]);
    return span;
}

af_err em_cu_transpose(int dev, af_dtype type, void *out, const void *in, const dim_t idims[4],
                       const dim_t istrides[4], bool conj) {
    af_err err = AF_SUCCESS;
    cudaStream_t stream;
    CUfunction kern;
    int prev = -1;
    dim_t total = idims[0] * idims[1] * idims[2] * idims[3];
    if (total == 0) return AF_SUCCESS;
    const dim_t big = (dim_t)1 << 31;
    /* 32-bit coordinates run up to a tile past the last element. */
    shape_variant v = {(int)em_dtype_size(type), conj && em_dtype_is_complex(type),
                       total >= big - 256 || span_of(idims, istrides) >= big - 256};
    EM_TRY(em_cu_enter(__func__, dev, &stream, &prev));
    EM_TRY(shape_kernel(dev, &v, "em_transpose", &kern));
    dim_t tt = transpose_tile(v.es);
    dim_t t0 = (idims[0] + tt - 1) / tt, t1 = (idims[1] + tt - 1) / tt;
    dim_t nb = idims[2] * idims[3];
    dim3 grid = {(unsigned)clamp_grid(t0, 0x7fffffff), (unsigned)clamp_grid(t1, 65535),
                 (unsigned)clamp_grid(nb, 65535)};
    dim3 block = {EM_CU_TILE, EM_CU_ROWS, 1};
    long long a64[8] = {idims[0],    idims[1],    idims[2],    nb,
                        istrides[0], istrides[1], istrides[2], istrides[3]};
    int a32[8];
    for (int k = 0; k < 8; k++)
        a32[k] = (int)a64[k];
    void *args[10] = {&out, &in};
    for (int k = 0; k < 8; k++)
        args[2 + k] = v.idx64 ? (void *)&a64[k] : (void *)&a32[k];
    EM_TRY(
        em_cu_launch(__func__, "launching the transpose kernel", kern, grid, block, args, stream));
fail:
    em_cu_leave_enqueued(dev, prev);
    return err;
}

af_err em_cu_transpose_inplace(int dev, af_dtype type, void *data, const dim_t dims[4], bool conj) {
    af_err err = AF_SUCCESS;
    cudaStream_t stream;
    CUfunction kern;
    int prev = -1;
    dim_t n = dims[0], nb = dims[2] * dims[3];
    if (n * n * nb == 0) return AF_SUCCESS;
    shape_variant v = {(int)em_dtype_size(type), conj && em_dtype_is_complex(type),
                       n * n * nb >= ((dim_t)1 << 31)};
    EM_TRY(em_cu_enter(__func__, dev, &stream, &prev));
    EM_TRY(shape_kernel(dev, &v, "em_transpose_inplace", &kern));
    dim_t nt = (n + EM_CU_TILE - 1) / EM_CU_TILE;
    dim3 grid = {(unsigned)clamp_grid(nt, 65535), (unsigned)clamp_grid(nt, 65535),
                 (unsigned)clamp_grid(nb, 65535)};
    dim3 block = {EM_CU_TILE, EM_CU_ROWS, 1};
    long long a64[2] = {n, nb};
    int a32[2] = {(int)n, (int)nb};
    void *args[3] = {&data, v.idx64 ? (void *)&a64[0] : (void *)&a32[0],
                     v.idx64 ? (void *)&a64[1] : (void *)&a32[1]};
    EM_TRY(em_cu_launch(__func__, "launching the in-place transpose kernel", kern, grid, block,
                        args, stream));
fail:
    em_cu_leave_enqueued(dev, prev);
    return err;
}

/* ---- the compile check (cu.h) ---- */

/* Every transpose variant, and JIT programs whose leaves carry index transforms (tile, shift,
 * pad of each border type, diag_create's guarded read), in 32- and 64-bit index arithmetic. The
 * programs are built over a stand-in buffer that nothing reads. */
/* Compiles root's program in 32- and 64-bit indexing; when must_have is set, the generated
 * source must contain it (the code shape the program is meant to take). */
static af_err xform_compile_one(em_node *root, const char *must_have) {
    if (!root) return em_err(AF_ERR_NO_MEM, __func__, "out of host memory");
    em_jit_prog prog;
    af_err err = em_jit_prog_build(&root, 1, &prog);
    bool built = err == AF_SUCCESS;
    for (int idx64 = 0; idx64 < 2 && err == AF_SUCCESS; idx64++) {
        em_cu_jit_shape s;
        em_cu_jit_shape_of(&prog, &s);
        s.idx64 = idx64;
        char *src = em_cu_jit_source(&prog, &s);
        if (!src) {
            err = em_err(AF_ERR_NO_MEM, __func__, "out of host memory");
            break;
        }
        if (must_have && !strstr(src, must_have))
            err = em_err(AF_ERR_INTERNAL, __func__, "the generated kernel lacks \"%s\"", must_have);
        else
            err = em_cu_compile_source(src, EM_CU_JIT_KERNEL);
        free(src);
    }
    if (built) em_jit_prog_free(&prog);
    em_node_release(root);
    return err;
}

static af_err shape_compile_check(void) {
    af_err err = AF_SUCCESS;
    static const int sizes[5] = {1, 2, 4, 8, 16};
    for (int i = 0; i < 5 && err == AF_SUCCESS; i++)
        for (int conj = 0; conj < (sizes[i] >= 8 ? 2 : 1) && err == AF_SUCCESS; conj++)
            for (int idx64 = 0; idx64 < 2 && err == AF_SUCCESS; idx64++) {
                shape_variant v = {sizes[i], conj, idx64};
                char *src = shape_source(&v);
                if (!src) return em_err(AF_ERR_NO_MEM, __func__, "out of host memory");
                err = em_cu_compile_source(src, "em_transpose");
                if (err == AF_SUCCESS) err = em_cu_compile_source(src, "em_transpose_inplace");
                free(src);
            }
    static em_buf stand_in = {.refs = 1 << 30, .bytes = 1 << 20};
    const dim_t dims[4] = {9, 6, 2, 1}, st[4] = {1, 4, 0, 12}, flip[4] = {-1, 4, 12, 0};
    for (int t = 0; t < EM_NUM_DTYPES && err == AF_SUCCESS; t++) {
        af_dtype ty = (af_dtype)t;
        /* A leaf with every transform at once (wrap, clamp, mirror, zero), added to a flipped
         * leaf: both loads, the guarded one and the plain strided one. */
        em_node *x = em_node_buf(&stand_in, ty, dims, st, 0);
        em_node *y = em_node_buf(&stand_in, ty, dims, flip, 3);
        if (x) {
            em_node_buf_xform(x, 0, EM_XF_WRAP, 4, 1);
            em_node_buf_xform(x, 1, EM_XF_ZERO, 3, -1);
            em_node_buf_xform(x, 2, EM_XF_MIRROR, 1, -1);
            em_node_buf_xform(x, 3, EM_XF_CLAMP, 1, 0);
        }
        if (!x || !y) {
            if (x) em_node_release(x);
            if (y) em_node_release(y);
            return em_err(AF_ERR_NO_MEM, __func__, "out of host memory");
        }
        em_node *kids[2] = {x, y};
        em_op op = em_cu_jit_supports(EM_OP_ADD, ty, ty) ? EM_OP_ADD : EM_OP_EQ;
        err = xform_compile_one(em_node_op(op, op == EM_OP_ADD ? ty : b8, dims, kids), NULL);
        /* A dense leaf plus a uniform one (af_tile of a one-element array): the linear path,
         * vector loads included, with the broadcast value loaded once. */
        if (err == AF_SUCCESS) {
            const dim_t dense[4] = {1, 9, 54, 108}, zero[4] = {0, 0, 0, 0};
            em_node *k2[2] = {em_node_buf(&stand_in, ty, dims, dense, 0),
                              em_node_buf(&stand_in, ty, dims, zero, 5)};
            if (!k2[0] || !k2[1]) {
                if (k2[0]) em_node_release(k2[0]);
                if (k2[1]) em_node_release(k2[1]);
                return em_err(AF_ERR_NO_MEM, __func__, "out of host memory");
            }
            /* The vector path and a load of the uniform leaf's one element (leaf 1). */
            err = xform_compile_one(em_node_op(op, op == EM_OP_ADD ? ty : b8, dims, k2),
                                    "em_ld1(p.p1)");
        }
        /* A zero-padded leaf alone (the output is the leaf itself, as af_pad makes it). */
        if (err == AF_SUCCESS) {
            em_node *z = em_node_buf(&stand_in, ty, dims, st, 0);
            if (z) em_node_buf_xform(z, 0, EM_XF_ZERO, 7, -2);
            err = xform_compile_one(z, NULL);
        }
    }
    return err;
}
EM_CU_COMPILE_CHECK(shape, shape_compile_check)
