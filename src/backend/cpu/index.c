/* The CPU backend's index table: the slots of index.c (indexing and assignment) and shape.c
 * (shape operations).
 *
 * Gather and scatter (index.h) walk the iteration space in rows along dimension 0, in chunks of
 * EM_CPU_BLOCK: a chunk's positions along dimension 0 are computed first into a small table (an
 * index array's values converted and folded in one loop per index dtype), then one copy loop per
 * element size moves the chunk. The two passes keep both loops simple enough to vectorise and
 * avoid a loop per (element size, index dtype) pair. */
#include "cpu.h"

#include "../../core/err.h"
#include "../index.h"

#include <omp.h>
#include <stdint.h>
#include <string.h>

/* An index value as a 64-bit position before folding: integers exactly (u64 beyond 2^63 - 1
 * saturates), floating values truncated toward zero, NaN as 0, and values beyond the 64-bit range
 * saturated. */
static inline dim_t idx_from_double(double v) {
    if (v != v) return 0;
    if (v >= 9.2233720368547758e18) return INT64_MAX;
    if (v <= -9.2233720368547758e18) return INT64_MIN + 1;
    return (dim_t)v;
}

static dim_t idx_value(const void *p, af_dtype t, dim_t i) {
    switch (t) {
    case s8:
        return ((const int8_t *)p)[i];
    case u8:
        return ((const uint8_t *)p)[i];
    case s16:
        return ((const int16_t *)p)[i];
    case u16:
        return ((const uint16_t *)p)[i];
    case s32:
        return ((const int32_t *)p)[i];
    case u32:
        return ((const uint32_t *)p)[i];
    case s64:
        return ((const int64_t *)p)[i];
    case u64: {
        uint64_t v = ((const uint64_t *)p)[i];
        return v > (uint64_t)INT64_MAX ? INT64_MAX : (dim_t)v;
    }
    case f32:
        return idx_from_double(((const float *)p)[i]);
    case f64:
        return idx_from_double(((const double *)p)[i]);
    case f16:
        return idx_from_double(em_half_to_float(((const uint16_t *)p)[i]));
    default:
        return 0; /* the api never sends complex or b8 index arrays */
    }
}

/* Element offsets of positions [a, b) of one dimension: off[k] = pos(a + k) * stride. */
#define IDX_OFFSETS(T, CONV)                                                                       \
    do {                                                                                           \
        const T *src_ = (const T *)d->idx + a;                                                     \
        for (dim_t k = 0; k < n; k++)                                                              \
            off[k] = em_index_fold(CONV(src_[k]), d->len) * d->stride;                             \
    } while (0)
#define CONV_SAME(x) ((dim_t)(x))
#define CONV_U64(x)  ((x) > (uint64_t)INT64_MAX ? INT64_MAX : (dim_t)(x))
#define CONV_F(x)    idx_from_double((double)(x))
#define CONV_F16(x)  idx_from_double(em_half_to_float(x))

static void dim_offsets(const em_index_dim *d, dim_t a, dim_t n, dim_t *off) {
    if (!d->idx) {
        for (dim_t k = 0; k < n; k++)
            off[k] = (a + k) * d->stride;
        return;
    }
    switch (d->idx_type) {
    case s8:
        IDX_OFFSETS(int8_t, CONV_SAME);
        break;
    case u8:
        IDX_OFFSETS(uint8_t, CONV_SAME);
        break;
    case s16:
        IDX_OFFSETS(int16_t, CONV_SAME);
        break;
    case u16:
        IDX_OFFSETS(uint16_t, CONV_SAME);
        break;
    case s32:
        IDX_OFFSETS(int32_t, CONV_SAME);
        break;
    case u32:
        IDX_OFFSETS(uint32_t, CONV_SAME);
        break;
    case s64:
        IDX_OFFSETS(int64_t, CONV_SAME);
        break;
    case u64:
        IDX_OFFSETS(uint64_t, CONV_U64);
        break;
    case f32:
        IDX_OFFSETS(float, CONV_F);
        break;
    case f64:
        IDX_OFFSETS(double, CONV_F);
        break;
    case f16:
        IDX_OFFSETS(uint16_t, CONV_F16);
        break;
    default:
        for (dim_t k = 0; k < n; k++)
            off[k] = 0;
        break;
    }
}

/* The offset of one position of dimension d (dimensions 1..3: once per row). */
static inline dim_t dim_offset(const em_index_dim *d, dim_t c) {
    if (!d->idx) return c * d->stride;
    return em_index_fold(idx_value(d->idx, d->idx_type, c), d->len) * d->stride;
}

typedef struct {
    uint64_t lo, hi;
} em_u128;

/* Moves n elements of type T: gather reads ind[ib + off[k]] into pl[pb + k * ps]; scatter the
 * other way. */
#define COPY_CHUNK(T)                                                                              \
    do {                                                                                           \
        T *ind_ = (T *)p->ptr;                                                                     \
        T *pl_ = (T *)p->plain + pb;                                                               \
        if (scatter) {                                                                             \
            for (dim_t k = 0; k < n; k++)                                                          \
                ind_[ib + off[k]] = pl_[k * ps];                                                   \
        } else if (ps == 1) {                                                                      \
            for (dim_t k = 0; k < n; k++)                                                          \
                pl_[k] = ind_[ib + off[k]];                                                        \
        } else {                                                                                   \
            for (dim_t k = 0; k < n; k++)                                                          \
                pl_[k * ps] = ind_[ib + off[k]];                                                   \
        }                                                                                          \
    } while (0)

/* One work item: a chunk of up to EM_CPU_BLOCK positions of dimension 0 in row r. */
static void copy_item(const em_index_copy *p, bool scatter, dim_t r, dim_t a, dim_t n, dim_t *off) {
    dim_t c1 = r % p->dims[1], c23 = r / p->dims[1];
    dim_t c2 = c23 % p->dims[2], c3 = c23 / p->dims[2];
    dim_t ib = p->offset + dim_offset(&p->dim[1], c1) + dim_offset(&p->dim[2], c2) +
               dim_offset(&p->dim[3], c3);
    dim_t pb = p->plain_offset + a * p->plain_strides[0] + c1 * p->plain_strides[1] +
               c2 * p->plain_strides[2] + c3 * p->plain_strides[3];
    dim_t ps = p->plain_strides[0];
    dim_offsets(&p->dim[0], a, n, off);
    switch (p->es) {
    case 1:
        COPY_CHUNK(uint8_t);
        break;
    case 2:
        COPY_CHUNK(uint16_t);
        break;
    case 4:
        COPY_CHUNK(uint32_t);
        break;
    case 8:
        COPY_CHUNK(uint64_t);
        break;
    default:
        COPY_CHUNK(em_u128);
        break;
    }
}

static af_err index_copy(const em_index_copy *p, bool scatter) {
    dim_t n = p->dims[0] * p->dims[1] * p->dims[2] * p->dims[3];
    if (n == 0) return AF_SUCCESS;
    if (p->es != 1 && p->es != 2 && p->es != 4 && p->es != 8 && p->es != 16)
        return em_err(AF_ERR_INTERNAL, __func__, "element size %zu", p->es);
    dim_t rows = p->dims[1] * p->dims[2] * p->dims[3];
    dim_t chunks = (p->dims[0] + EM_CPU_BLOCK - 1) / EM_CPU_BLOCK;
    dim_t items = rows * chunks;
    /* A scatter through index arrays may write one element from several items (duplicate
     * values): it runs on one thread, so that each element receives one whole value. */
    bool dup = false;
    for (int d = 0; d < 4; d++)
        if (p->dim[d].idx) dup = true;
    bool par = !(scatter && dup) && n >= 16 * EM_CPU_BLOCK;
#pragma omp parallel if (par)
    {
        dim_t off[EM_CPU_BLOCK];
#pragma omp for schedule(static)
        for (dim_t it = 0; it < items; it++) {
            dim_t r = it / chunks, a = (it % chunks) * EM_CPU_BLOCK;
            dim_t len = p->dims[0] - a < EM_CPU_BLOCK ? p->dims[0] - a : EM_CPU_BLOCK;
            copy_item(p, scatter, r, a, len, off);
        }
    }
    return AF_SUCCESS;
}

static af_err cpu_gather(int dev, const em_index_copy *p) {
    (void)dev;
    return index_copy(p, false);
}

static af_err cpu_scatter(int dev, const em_index_copy *p) {
    (void)dev;
    return index_copy(p, true);
}

static af_err cpu_mask_positions(int dev, const void *mask, dim_t n, void *pos, dim_t *count) {
    (void)dev;
    const uint8_t *m = mask;
    int64_t *out = pos;
    dim_t k = 0;
    for (dim_t i = 0; i < n; i++)
        if (m[i]) out[k++] = i;
    *count = k;
    return AF_SUCCESS;
}

const struct em_index_ops em_cpu_index_ops = {
    /* Indexing and assignment (index.c). */
    .gather = cpu_gather,
    .scatter = cpu_scatter,
    .mask_positions = cpu_mask_positions,

    /* Shape operations (shape.c). */
    .transpose = em_cpu_transpose,
    .transpose_inplace = em_cpu_transpose_inplace,
};
