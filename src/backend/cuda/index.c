/* The CUDA backend's index table: the slots of index.c (indexing and assignment) and shape.c
 * (shape operations).
 *
 * Gather and scatter are the kernels of kernels/index.cuh, compiled by NVRTC per variant
 * (element size, 64-bit coordinates, linear): one thread per iteration point (the linear gather,
 * af_lookup's, takes four per thread to keep more random reads in flight), reading index values
 * of any dtype in place and strided buffers where they lie. mask_positions compacts a b8
 * array in three passes (tile counts, their scan, the ordered writes) and reads the count back,
 * since the host needs it to size the result. */
#include "cu.h"

#include "../../core/err.h"
#include "../../core/mem.h"
#include "../index.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The kernels' em_idx_params, field for field (every field 8 bytes, so no padding differs). */
typedef struct {
    long long stride;
    const void *idx;
    long long type;
    long long len;
} cu_idx_dim;

typedef struct {
    long long dims[4];
    void *ptr;
    long long offset;
    cu_idx_dim dim[4];
    void *plain;
    long long plain_offset;
    long long plain_strides[4];
    long long n;
} cu_idx_params;

_Static_assert(sizeof(cu_idx_params) == 232, "cu_idx_params must match kernels/index.cuh");

#define EM_CU_MASK_TILE 4096 /* EM_MASK_TILE in kernels/index.cuh */
#define EM_CU_GATHER    4    /* EM_GATHER in kernels/index.cuh */

typedef struct {
    int es;
    int idx64;
    int linear;
} index_variant;

static char *index_source(const void *ctx) {
    const index_variant *v = ctx;
    char head[96];
    int n = snprintf(head, sizeof(head),
                     "#define EM_ES %d\n#define EM_IDX64 %d\n#define EM_LINEAR %d\n", v->es,
                     v->idx64, v->linear);
    size_t b = strlen(em_cu_src_index);
    char *s = malloc((size_t)n + b + 1);
    if (!s) return NULL;
    memcpy(s, head, (size_t)n);
    memcpy(s + n, em_cu_src_index, b + 1);
    return s;
}

/* The hash of kernels/index.cuh as embedded, computed once (a racing thread computes the same). */
static uint64_t index_text_hash(void) {
    static _Atomic uint64_t hash;
    uint64_t h = atomic_load_explicit(&hash, memory_order_relaxed);
    if (h) return h;
    h = EM_HASH_SEED;
    for (const char *s = em_cu_src_index; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    atomic_store_explicit(&hash, h, memory_order_relaxed);
    return h;
}

static af_err index_kernel(int dev, const index_variant *v, const char *name, CUfunction *out) {
    uint64_t key = em_hash_mix(index_text_hash(), 0x696e646578ull); /* "index" */
    key = em_hash_mix(key, (uint64_t)v->es << 16 | (uint64_t)v->idx64 << 8 | (uint64_t)v->linear);
    for (const char *c = name; *c; c++)
        key = em_hash_mix(key, (unsigned char)*c);
    return em_cu_module_get(dev, key, name, index_source, v, out);
}

static af_err cu_index_copy(int dev, const em_index_copy *p, bool scatter) {
    af_err err = AF_SUCCESS;
    cudaStream_t stream;
    CUfunction kern;
    int prev = -1;
    dim_t n = p->dims[0] * p->dims[1] * p->dims[2] * p->dims[3];
    if (n == 0) return AF_SUCCESS;
    if (p->es != 1 && p->es != 2 && p->es != 4 && p->es != 8 && p->es != 16)
        return em_err(AF_ERR_INTERNAL, __func__, "element size %zu", p->es);
    cu_idx_params q;
    memset(&q, 0, sizeof(q));
    for (int d = 0; d < 4; d++) {
        q.dims[d] = p->dims[d];
        q.dim[d].stride = p->dim[d].stride;
        q.dim[d].idx = p->dim[d].idx;
        q.dim[d].type = p->dim[d].idx_type;
        q.dim[d].len = p->dim[d].len;
        q.plain_strides[d] = p->plain_strides[d];
    }
    q.ptr = p->ptr;
    q.offset = p->offset;
    q.plain = p->plain;
    q.plain_offset = p->plain_offset;
    q.n = n;
    /* Linear: only dimension 0 varies, and dimensions 1..3 add nothing to the offsets (an index
     * array of one element there still moves the position, so it keeps the general variant). */
    bool linear = true;
    for (int d = 1; d < 4; d++)
        if (p->dims[d] != 1 || p->dim[d].idx) linear = false;
    index_variant v = {(int)p->es, n >= ((dim_t)1 << 31), linear};
    EM_TRY(em_cu_enter(__func__, dev, &stream, &prev));
    EM_TRY(index_kernel(dev, &v, scatter ? "em_index_scatter" : "em_index_gather", &kern));
    /* Enough blocks to cover the work once (as the JIT launches): one point per thread, or
     * EM_CU_GATHER points per thread in the linear gather; the kernels' grid-stride loop covers
     * grids past the hardware limit. */
    dim_t per_block = EM_CU_BLOCK * (linear && !scatter ? EM_CU_GATHER : 1);
    dim_t blocks = (n + per_block - 1) / per_block;
    if (blocks > 0x7fffffff) blocks = 0x7fffffff;
    dim3 grid = {(unsigned)blocks, 1, 1}, block = {EM_CU_BLOCK, 1, 1};
    void *args[1] = {&q};
    EM_TRY(em_cu_launch(__func__,
                        scatter ? "launching the scatter kernel" : "launching the gather kernel",
                        kern, grid, block, args, stream));
fail:
    em_cu_leave_enqueued(dev, prev);
    return err;
}

static af_err cu_gather(int dev, const em_index_copy *p) {
    return cu_index_copy(dev, p, false);
}

static af_err cu_scatter(int dev, const em_index_copy *p) {
    return cu_index_copy(dev, p, true);
}

static af_err cu_mask_positions(int dev, const void *mask, dim_t n, void *pos, dim_t *count) {
    af_err err = AF_SUCCESS;
    cudaStream_t stream;
    CUfunction kc, ks, kw;
    int prev = -1;
    em_buf *scratch = NULL;
    *count = 0;
    if (n == 0) return AF_SUCCESS;
    long long tiles = (n + EM_CU_MASK_TILE - 1) / EM_CU_MASK_TILE;
    if (tiles > 0x7fffffff)
        return em_err(AF_ERR_SIZE, __func__, "a mask of %lld elements is too long", (long long)n);
    /* Scratch: the tile counts (4 bytes each), the tile offsets (8 bytes each) and the total. */
    size_t off_at = ((size_t)tiles * 4 + 7) & ~(size_t)7;
    EM_TRY(em_buf_alloc(dev, off_at + (size_t)tiles * 8 + 8, &scratch));
    unsigned *counts = scratch->ptr;
    long long *offsets = (long long *)((char *)scratch->ptr + off_at);
    long long *total = offsets + tiles;
    index_variant v = {1, 0, 1};
    EM_TRY(em_cu_enter(__func__, dev, &stream, &prev));
    EM_TRY(index_kernel(dev, &v, "em_mask_count", &kc));
    EM_TRY(index_kernel(dev, &v, "em_mask_scan", &ks));
    EM_TRY(index_kernel(dev, &v, "em_mask_write", &kw));
    long long nn = n;
    dim3 grid = {(unsigned)tiles, 1, 1}, block = {256, 1, 1}, one = {1, 1, 1}, wide = {1024, 1, 1};
    void *a1[] = {&mask, &nn, &counts};
    EM_TRY(em_cu_launch(__func__, "launching the mask count kernel", kc, grid, block, a1, stream));
    void *a2[] = {&counts, &tiles, &offsets, &total};
    EM_TRY(em_cu_launch(__func__, "launching the mask scan kernel", ks, one, wide, a2, stream));
    void *a3[] = {&mask, &nn, &offsets, &pos};
    EM_TRY(em_cu_launch(__func__, "launching the mask write kernel", kw, grid, block, a3, stream));
    long long host_total = 0;
    EM_CU_TRY(
        cudaMemcpyAsync(&host_total, total, sizeof(host_total), cudaMemcpyDeviceToHost, stream),
        "reading the count of a mask");
    EM_CU_TRY(cudaStreamSynchronize(stream), "waiting for the count of a mask");
    *count = host_total;
fail:
    em_cu_leave_enqueued(dev, prev);
    /* Released after the wait (or on a failure before any kernel ran on it): the pool may hand
     * the block out again at once. */
    if (scratch) em_buf_release(scratch);
    return err;
}

/* The compile check (cu.h): every gather and scatter variant, and the mask kernels. */
static af_err index_compile_check(void) {
    af_err err = AF_SUCCESS;
    static const int sizes[5] = {1, 2, 4, 8, 16};
    static const char *const names[2] = {"em_index_gather", "em_index_scatter"};
    for (int i = 0; i < 5 && err == AF_SUCCESS; i++)
        for (int idx64 = 0; idx64 < 2 && err == AF_SUCCESS; idx64++)
            for (int linear = 0; linear < 2 && err == AF_SUCCESS; linear++) {
                index_variant v = {sizes[i], idx64, linear};
                char *src = index_source(&v);
                if (!src) return em_err(AF_ERR_NO_MEM, __func__, "out of host memory");
                for (int k = 0; k < 2 && err == AF_SUCCESS; k++)
                    err = em_cu_compile_source(src, names[k]);
                if (err == AF_SUCCESS && i == 0 && !idx64 && linear) {
                    err = em_cu_compile_source(src, "em_mask_count");
                    if (err == AF_SUCCESS) err = em_cu_compile_source(src, "em_mask_scan");
                    if (err == AF_SUCCESS) err = em_cu_compile_source(src, "em_mask_write");
                }
                free(src);
            }
    return err;
}
EM_CU_COMPILE_CHECK(index, index_compile_check)

const struct em_index_ops em_cu_index_ops = {
    /* Indexing and assignment (index.c). */
    .gather = cu_gather,
    .scatter = cu_scatter,
    .mask_positions = cu_mask_positions,

    /* Shape operations (shape.c). */
    .transpose = em_cu_transpose,
    .transpose_inplace = em_cu_transpose_inplace,
};
