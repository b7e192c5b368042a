/* The algorithm family's backend table (algorithm.h and statistics.h of the API): reductions,
 * scans, sorting, sets and the statistics built on them. The api files (src/api/reduce.c, scan.c,
 * sort.c, statistics.c) call these slots; each backend fills them in its files of the same names
 * and gathers them into one table in its algorithm.c. A NULL slot answers AF_ERR_NOT_SUPPORTED.
 *
 * Element-wise inputs arrive as JIT programs (struct em_jit_prog), not buffers, so a consumer
 * computes the expression in registers (CUDA) or block by block (CPU) and never writes it to
 * memory: sum(a*b+c) reads a, b and c once. */
#ifndef EM_BACKEND_ALGORITHM_H
#define EM_BACKEND_ALGORITHM_H

#include "../core/backend.h"

/* Reductions (reduce.c): the fused-input seam.
 *
 * A reduction reads the value of a JIT program's output 0 (`in`, built by the api from the lazy
 * tree of the input, or from an evaluated array's leaf, where a view is a strided BUF leaf) and
 * reduces it in the same pass that computes it: CUDA generates one kernel in which the expression
 * (jit_gen.h, em_cu_jit_value_source) runs in registers and feeds the reduction; the CPU
 * evaluates the program block by block (cpu.h, em_cpu_block_*) and folds each block while it is
 * in cache. Nothing of the expression is written to memory, so sum(a*b+c) reads a, b and c once
 * and allocates only its output (and, on CUDA, a small buffer of per-block partials).
 *
 * The api (src/api/reduce.c) puts every per-element step into the program: the conversion to the
 * accumulator dtype (u8 -> u32 for sum, f16 -> f32), `x != 0` for count and all/any, the NaN
 * replacement of the _nan forms. A backend therefore implements a few ops on values of the
 * program's output dtype t, and writes results of that same dtype t:
 *  - EM_RED_SUM, EM_RED_PROD: t is f32, f64, c32, c64, s32, u32, s64 or u64; integers wrap.
 *  - EM_RED_MIN, EM_RED_MAX: every dtype. Floating NaN (complex: either part NaN) are ignored;
 *    the result is NaN only when every value is. Complex values compare by magnitude, ties by
 *    real then imaginary part, so every order of reduction gives the same value. b8 is 0/1; f16
 *    computes as float.
 *  - EM_RED_AND, EM_RED_OR: t is b8.
 * Accumulation happens in t's compute type (float for f16 min/max), as ArrayFire's does. */
typedef enum {
    EM_RED_SUM,
    EM_RED_PROD,
    EM_RED_MIN,
    EM_RED_MAX,
    EM_RED_AND,
    EM_RED_OR,
} em_red_op;

struct em_algo_ops {
    /* Reductions (reduce.c). */

    /* Reduces output 0 of `in` (in->elements > 0) with `op` along `dim` (0..3) into `out`: dense,
     * dtype t, with in->dims except dims[dim] = 1. dim = -1 reduces every element into out[0].
     * `out` is device memory of the backend; nothing waits for the device. */
    af_err (*reduce)(int dev, const struct em_jit_prog *in, int dim, em_red_op op, void *out);

    /* Scans, where, diff (scan.c). */

    /* Sorting, sets, selection (sort.c).
     *
     * Inputs are dense column-major device buffers (the api reads arrays with
     * em_array_dense_read: sorting does not fuse), outputs are fresh dense buffers the api
     * allocated. Keys are ordered by one total order on every backend, as CUB's radix sort
     * (ArrayFire's CUDA backend) orders them: -0 and +0 are equal (and come out as +0), NaN (of
     * either sign) is greater than +inf and comes out as the positive quiet NaN with every
     * payload bit set; descending is the reverse order. Every sort is stable: equal keys keep
     * their input order, in either direction. */

    /* Sorts along `dim` (0..3) of a [dims] block of keys of dtype `type` (real, not f16).
     * keys_out receives the sorted keys; idx_out (u32, may be NULL) each output element's index
     * along dim in the input; vals (may be NULL) is a payload of val_size bytes per element
     * (1, 2, 4, 8 or 16) moved with its key into vals_out. Any output may be NULL. */
    af_err (*sort)(int dev, af_dtype type, const dim_t dims[4], int dim, bool ascending,
                   const void *keys, void *keys_out, uint32_t *idx_out, const void *vals,
                   size_t val_size, void *vals_out);
    /* The sorted distinct values of n elements (n >= 1) into out (capacity n), their count in
     * *nout. is_sorted: the input is taken as sorted and only neighbours are merged, as
     * ArrayFire does. Equality is IEEE: -0 == +0, and NaN never equals, so each NaN stays. Waits
     * for the device (the count is a host value). */
    af_err (*set_unique)(int dev, af_dtype type, const void *in, dim_t n, bool is_sorted,
                         void *out, dim_t *nout);
    /* The sorted distinct values of both inputs (na, nb >= 1) into out (capacity na + nb). */
    af_err (*set_union)(int dev, af_dtype type, const void *a, dim_t na, const void *b, dim_t nb,
                        void *out, dim_t *nout);
    /* The sorted distinct values present in both inputs into out (capacity min(na, nb)).
     * is_unique: each input is taken as free of duplicates, which saves a sort of each. */
    af_err (*set_intersect)(int dev, af_dtype type, const void *a, dim_t na, const void *b,
                            dim_t nb, bool is_unique, void *out, dim_t *nout);
    /* Medians along `dim` (dims[dim] >= 1) of keys of `type` into out (dims with dims[dim] = 1)
     * of out_type (f32 or f64): the middle element of the sorted line, or for an even length
     * the two middle elements x <= y converted to out_type and combined as (x + y) * 0.5 in
     * out_type's arithmetic (ArrayFire's rule). */
    af_err (*median)(int dev, af_dtype type, const void *in, const dim_t dims[4], int dim,
                     af_dtype out_type, void *out);
    /* The k (1 <= k <= dims[0]) largest (or smallest) keys of each column (dim 0) of a [dims]
     * block of `type` (f32, f64, s32, u32, f16), best first, ties by lower index, into vals_out
     * and their indices along dim 0 into idx_out, both [k, dims[1], dims[2], dims[3]]. */
    af_err (*topk)(int dev, af_dtype type, const void *in, const dim_t dims[4], int k,
                   bool largest, void *vals_out, uint32_t *idx_out);
};

extern const struct em_algo_ops em_cpu_algo_ops;
extern const struct em_algo_ops em_cu_algo_ops;

#endif
