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

struct em_buf; /* core/mem.h: the where slot returns a pool buffer */

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
    /* Min or max (op EM_RED_MIN / EM_RED_MAX) of output 0 of `in` along `dim` (0..3; -1: every
     * element) with its index: `val` as reduce's `out` (dtype t), `idx` (u32, same layout) the
     * position along dim (dim -1: the column-major linear index) of the result. Ties go to the
     * smallest index; NaN are ignored (complex: either part NaN), so where every value is NaN,
     * val is NaN and idx 0. Complex values compare by magnitude alone (ties: the smallest index).
     * `rlen` (af_max_ragged): NULL, or u32 device memory in val's layout: only the first
     * min(rlen[k], dims[dim]) elements along dim count for output k; where that is 0, val holds
     * the op's identity (NaN for floating dtypes, the dtype's extreme for integers) and idx 0. */
    af_err (*ireduce)(int dev, const struct em_jit_prog *in, int dim, em_red_op op,
                      const uint32_t *rlen, void *val, uint32_t *idx);
    /* Runs of equal consecutive keys (the _by_key reductions): `keys`, device memory of n > 0
     * elements of dtype kt (s32 or u32). Writes the key of each run to okeys (room for n keys),
     * the index of each run's first key to starts (room for n + 1; starts[nruns] = n), and the
     * number of runs to *nruns, a host value: waits for the device. */
    af_err (*key_runs)(int dev, const void *keys, af_dtype kt, dim_t n, void *okeys,
                       uint32_t *starts, dim_t *nruns);
    /* Reduces output 0 of `in` with `op` (as reduce) along `dim` (0..3) in runs: `out` (dense,
     * dtype t, in->dims except dims[dim] = nruns) holds at position s along dim the op over
     * positions [starts[s], starts[s + 1]) along dim. starts: device memory from key_runs. */
    af_err (*reduce_runs)(int dev, const struct em_jit_prog *in, int dim, em_red_op op,
                          const uint32_t *starts, dim_t nruns, void *out);

    /* Scans, where, diff (scan.c). Inputs arrive through the fused-input seam, as reductions'
     * do: the api casts the input to the output dtype inside the program (u8 -> u32 for accum,
     * `x != 0` for where), so a scan of a*b reads a and b once and writes only its output. diff1
     * and diff2 need no slot: the api builds them as lazy element-wise trees over shifted views
     * of the input.
     *
     * Scans output 0 of `in` (in->elements > 0; dtype t: f32 f64 c32 c64 s32 u32 s64 u64) along
     * `dim` (0..3) with `op` (AF_BINARY_ADD, _MUL, _MIN, _MAX) into `out`: dense, in->dims, dtype
     * t. Inclusive: out[j] (j along dim) combines in[0..j]; exclusive: out[0] is the op's initial
     * value (0; 1; for MIN the largest value, +inf for floats, (+inf, 0) for complex; for MAX the
     * smallest value, -inf for floats, 0 for complex) and out[j] combines in[0..j-1]. Integers
     * wrap. MIN and MAX follow EM_RED_MIN / EM_RED_MAX: NaN is ignored unless every value
     * combined is NaN, complex values compare by magnitude, ties by real then imaginary part.
     * `keys` (NULL, or a program of in->dims whose output 0 is s32, u32, s64 or u64): the scan
     * restarts wherever a key differs from the previous one along dim, as if each run of equal
     * keys were its own line. */
    af_err (*scan)(int dev, const struct em_jit_prog *in, const struct em_jit_prog *keys, int dim,
                   af_binary_op op, bool inclusive, void *out);
    /* The column-major linear indices (u32) of the non-zero elements of output 0 of `in` (b8,
     * in->elements > 0), in increasing order, into a new pool buffer *idx of *count elements
     * (*idx is NULL when there are none). Waits for the device: the count is a host value. */
    af_err (*where)(int dev, const struct em_jit_prog *in, struct em_buf **idx, dim_t *count);

    /* Statistics (statistics.c): one-pass, numerically stable moments. Each thread keeps
     * Welford's (n, mean, M2), or West's weighted (W, mean, S), over its values, and partial
     * states merge with Chan's formulas; nothing computes E[x^2] - E[x]^2. Accumulation is in
     * double (complex: double pairs) whatever the input dtype.
     *
     * Moments of output 0 of `x` (dtype t: f32 f64 c32 c64, the api casts integers and f16)
     * along `dim` (0..3, or -1: every element into one result), weighted by output 0 of `w`
     * (NULL, or an f32 / f64 program of x->dims), into `mean` and `var` (either may be NULL):
     * dense, x->dims with dims[dim] = 1 (one element for dim -1), dtype `out_type` (t, f16 for a
     * real t, or f64 / c64). var = M2 / (n - ddof), or S / (W - ddof) when weighted, where M2
     * and S sum (x - mean)^2 in t's arithmetic (complex: the complex square, as ArrayFire's);
     * with `root` the square root of that (real t only). An empty line gives NaN. */
    af_err (*moments)(int dev, const struct em_jit_prog *x, const struct em_jit_prog *w, int dim,
                      int ddof, bool root, af_dtype out_type, void *mean, void *var);
    /* Co-moments of outputs 0 of `x` and `y` (equal dims, dtype t: f32 or f64) into `out`
     * (dtype `out_type`: t, or f64). EM_COMOM_COV: the columns of a matrix (dims[2] = dims[3] =
     * 1), out[c] = sum over rows r of (x[r,c] - mean(x)) * (y[r,c] - mean(y)) / (rows - ddof),
     * where the means are over every element (ArrayFire's af_cov). EM_COMOM_CORR: every
     * element, out[0] = Pearson's r = Cxy / sqrt(Cxx * Cyy) of the centred co-moments. */
#define EM_COMOM_COV  0
#define EM_COMOM_CORR 1
    af_err (*comoments)(int dev, const struct em_jit_prog *x, const struct em_jit_prog *y, int kind,
                        int ddof, af_dtype out_type, void *out);

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
    af_err (*set_unique)(int dev, af_dtype type, const void *in, dim_t n, bool is_sorted, void *out,
                         dim_t *nout);
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
    af_err (*topk)(int dev, af_dtype type, const void *in, const dim_t dims[4], int k, bool largest,
                   void *vals_out, uint32_t *idx_out);
};

extern const struct em_algo_ops em_cpu_algo_ops;
extern const struct em_algo_ops em_cu_algo_ops;

#endif
