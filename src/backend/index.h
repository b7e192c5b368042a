/* The index family's backend table (index.h and the shape operations of data.h): gathers and
 * scatters by index arrays, lookups, and the shape operations that need a kernel of their own.
 * The api files (src/api/index.c for indexing and assignment, src/api/shape.c for the shape
 * operations) call these slots; each backend fills them in its index.c (indexing and assignment)
 * and shape.c (shape operations). A NULL slot answers AF_ERR_NOT_SUPPORTED.
 *
 * Sequence indexing makes no call here: it returns a view (strides and offset over the parent's
 * buffer), and a view feeds the JIT as a strided leaf. */
#ifndef EM_BACKEND_INDEX_H
#define EM_BACKEND_INDEX_H

#include "../core/backend.h"

#include <stdbool.h>

/* ---- Indexing and assignment (index.c) ----
 * A gather or a scatter copies elements between two sides over an iteration space of dims[4]:
 *  - the indexed side: element c (c0..c3) lives at element offset + sum_d pos_d(c_d) * stride_d
 *    of ptr, where pos_d(c) is c itself, or, when the dimension has an index array, its c-th
 *    value folded into [0, len) by em_index_fold;
 *  - the plain side: element c lives at element plain_offset + sum_d c_d * plain_strides[d] of
 *    plain (a stride may be 0: a broadcast value, or negative).
 * A gather writes the plain side from the indexed side (af_index_gen, af_lookup); a scatter writes
 * the indexed side from the plain side (af_assign_gen). Only bytes move: es is the element size
 * (1, 2, 4, 8 or 16), so one variant serves every dtype of that size. Index arrays are dense, of
 * any integer or real floating dtype; a value becomes a 64-bit position (floating values truncated
 * toward zero, NaN as 0, u64 and floating values beyond 2^63 saturated), which em_index_fold then
 * maps into the dimension. */
typedef struct {
    dim_t stride;    /* elements of the buffer between positions p and p + 1 */
    const void *idx; /* dims[d] index values, dense; NULL: the position is the coordinate */
    af_dtype idx_type;
    dim_t len; /* the indexed dimension's length (>= 1 wherever idx is set and dims[d] > 0) */
} em_index_dim;

typedef struct {
    size_t es;
    dim_t dims[4];
    void *ptr;
    dim_t offset;
    em_index_dim dim[4];
    void *plain;
    dim_t plain_offset;
    dim_t plain_strides[4];
} em_index_copy;

/* Maps an index value to a position of a dimension of length len >= 1, as ArrayFire's index and
 * lookup kernels do (their trimIndex): values inside [0, len) are kept; a negative value v reads
 * position (-v - 1) % len (-1 reads 0, -2 reads 1); a value v >= len reads len - 1 - v % len. So
 * an index out of range never reads outside the dimension. (ArrayFire first narrows the value to
 * a 32-bit int; Ember keeps 64 bits, so the two differ only for values beyond 2^31.) */
static inline dim_t em_index_fold(dim_t v, dim_t len) {
    if ((unsigned long long)v < (unsigned long long)len) return v;
    if (v < 0) return (-(v + 1)) % len;
    return len - 1 - v % len;
}

struct em_index_ops {
    /* Indexing and assignment (index.c). */

    /* The gather and the scatter above. Elements of the written side that two iteration points
     * share (duplicate index values in a scatter) receive one of the values, unspecified which. */
    af_err (*gather)(int dev, const em_index_copy *p);
    af_err (*scatter)(int dev, const em_index_copy *p);
    /* The positions where a b8 array of n elements is true, in increasing order, as s64 values
     * written to pos (room for n); *count receives how many (a host value: CUDA waits for it).
     * A b8 index array selects these positions, as ArrayFire's af_where would give them. */
    af_err (*mask_positions)(int dev, const void *mask, dim_t n, void *pos, dim_t *count);

    /* Shape operations (shape.c). */

    /* Writes the transpose of dims 0 and 1 of `in` to `out`, batched over dims 2 and 3: in has
     * dims idims and element strides istrides (element 0 at `in`, strides may be any, so a view
     * is read where it lies); out is dense with dims (idims[1], idims[0], idims[2], idims[3]).
     * With conj set, complex values are conjugated (the sign of the imaginary part flipped). */
    af_err (*transpose)(int dev, af_dtype type, void *out, const void *in, const dim_t idims[4],
                        const dim_t istrides[4], bool conj);
    /* The same in place on a dense buffer whose dims 0 and 1 are equal. */
    af_err (*transpose_inplace)(int dev, af_dtype type, void *data, const dim_t dims[4], bool conj);
};

extern const struct em_index_ops em_cpu_index_ops;
extern const struct em_index_ops em_cu_index_ops;

#endif
