/* Internals shared by the CPU backend's files. */
#ifndef EM_CPU_H
#define EM_CPU_H

#include "../../core/dtype.h"
#include "../../core/jit.h"
#include "../../core/backend.h"
#include "../algorithm.h"

/* Elements per JIT block: small enough that every node's block stays in L1/L2, large enough that
 * each op's loop vectorises and amortises the walk over the program. */
#define EM_CPU_BLOCK 1024

/* One op over a block of n elements: out and in[] hold values in the block representation of
 * their dtypes (f16 as float, everything else as its storage type). */
typedef void (*em_cpu_op_fn)(void *out, const void *const *in, size_t n);
typedef void (*em_cpu_cast_fn)(void *out, const void *in, size_t n);

/* Kernels by op and operand dtype; NULL where the api never sends that pair. */
extern const em_cpu_op_fn em_cpu_ops[EM_OP_COUNT][EM_NUM_DTYPES];
/* Conversions by [source][destination] dtype, in block representation. */
extern const em_cpu_cast_fn em_cpu_casts[EM_NUM_DTYPES][EM_NUM_DTYPES];

/* Bytes of one element in block representation. */
static inline size_t em_cpu_block_size(af_dtype t) {
    return t == f16 ? sizeof(float) : em_dtype_size(t);
}

af_err em_cpu_jit_eval(int dev, const em_jit_prog *prog, void *const *outs);
af_err em_cpu_jit_eval_window(int dev, const em_jit_prog *prog, const em_jit_window *out);

/* The fused path (jit_cc.c, docs/CPU_FUSION.md): programs whose ops all have an exact C form are
 * compiled to one loop with the system compiler. em_cpu_fuse_eval evaluates p into outs and
 * returns true, or returns false (having written nothing) when the interpreter must run it:
 * fusion off, too few elements, an ineligible program, an output overlapping an input, or a
 * kernel that could not be built. em_cpu_fuse_eligible is the structural test alone. */
bool em_cpu_fuse_eval(const em_jit_prog *p, void *const *outs);
bool em_cpu_fuse_eligible(const em_jit_prog *p);

/* Test hooks, exported from libafcpu.so.3 but not part of the API (tests/test_cpu_fuse.c finds
 * them with dlsym). em_cpu_fuse_configure sets the switch (EMBER_CPU_FUSE) and the element
 * threshold (EMBER_CPU_FUSE_MIN); a negative argument keeps the current value.
 * em_cpu_fuse_counters reads, since the process started: programs run fused, kernels compiled,
 * kernels loaded from the disk cache, and kernels that failed to build. */
__attribute__((visibility("default"))) void em_cpu_fuse_configure(int enabled,
                                                                  long long min_elements);
__attribute__((visibility("default"))) void em_cpu_fuse_counters(long long out[4]);

/* The block evaluator: the fused-input seam through which consumers of element-wise values
 * (reductions, scans, statistics) read a JIT program without materialising it. The consumer
 * walks the program's linear output index space (column-major over prog->dims) in blocks of at
 * most EM_CPU_BLOCK elements, and gets each block's values of output 0 in block representation
 * (f16 as float, every other dtype as its storage type), computed while the block is in cache.
 *
 *     em_cpu_block_eval *e;
 *     EM_TRY(em_cpu_block_eval_new(prog, &e));           // once per program
 *     #pragma omp parallel
 *     {
 *         char *scratch = em_cpu_block_scratch_new(e);   // once per thread (NULL: no memory)
 *         for (each block [start, start + n) of this thread, n <= EM_CPU_BLOCK) {
 *             const float *v = em_cpu_block_eval_run(e, scratch, start, n);
 *             ... fold v[0..n) ...
 *         }
 *         free(scratch);
 *     }
 *     em_cpu_block_eval_free(e);
 *
 * The returned values stay valid until the thread's next run with the same scratch; they may be
 * the input buffer itself (a dense leaf is read where it lies), so they are read-only. The program
 * and its leaves must outlive the evaluator. em_cpu_block_eval_new returns AF_ERR_NO_MEM when host
 * memory runs out. */
typedef struct em_cpu_block_eval em_cpu_block_eval;
af_err em_cpu_block_eval_new(const em_jit_prog *prog, em_cpu_block_eval **out);
void em_cpu_block_eval_free(em_cpu_block_eval *e);
char *em_cpu_block_scratch_new(const em_cpu_block_eval *e);
const void *em_cpu_block_eval_run(const em_cpu_block_eval *e, char *scratch, dim_t start, size_t n);
/* Asks memory for what a run of [start, start + n) would read in place (the dense leaf of a
 * linear program that reads one buffer), so that a consumer walking its blocks in order can call
 * it for the next block before computing on the current one, and the memory streams meanwhile. */
void em_cpu_block_eval_prefetch(const em_cpu_block_eval *e, dim_t start, size_t n);

/* The algorithm family's slots (algorithm.h) implemented in reduce.c. */
af_err em_cpu_reduce(int dev, const em_jit_prog *in, int dim, em_red_op op, void *out);
af_err em_cpu_ireduce(int dev, const em_jit_prog *in, int dim, em_red_op op, const uint32_t *rlen,
                      void *val, uint32_t *idx);
af_err em_cpu_key_runs(int dev, const void *keys, af_dtype kt, dim_t n, void *okeys,
                       uint32_t *starts, dim_t *nruns);
af_err em_cpu_reduce_runs(int dev, const em_jit_prog *in, int dim, em_red_op op,
                          const uint32_t *starts, dim_t nruns, void *out);
/* ... in scan.c. */
af_err em_cpu_scan(int dev, const em_jit_prog *in, const em_jit_prog *keys, int dim,
                   af_binary_op op, bool inclusive, void *out);
af_err em_cpu_where(int dev, const em_jit_prog *in, struct em_buf **idx, dim_t *count);
/* ... in statistics.c. */
af_err em_cpu_moments(int dev, const em_jit_prog *x, const em_jit_prog *w, int dim, int ddof,
                      bool root, af_dtype out_type, void *mean, void *var);
af_err em_cpu_comoments(int dev, const em_jit_prog *x, const em_jit_prog *y, int kind, int ddof,
                        af_dtype out_type, void *out);

af_err em_cpu_random(int dev, void *out, af_dtype type, dim_t n, int engine, int dist,
                     uint64_t seed, uint64_t counter, void *mt_state);

/* The index family's shape slots (index.h) implemented in shape.c. */
af_err em_cpu_transpose(int dev, af_dtype type, void *out, const void *in, const dim_t idims[4],
                        const dim_t istrides[4], bool conj);
af_err em_cpu_transpose_inplace(int dev, af_dtype type, void *data, const dim_t dims[4], bool conj);

/* The algorithm family's slots (algorithm.h) implemented in sort.c. */
af_err em_cpu_sort(int dev, af_dtype type, const dim_t dims[4], int dim, bool ascending,
                   const void *keys, void *keys_out, uint32_t *idx_out, const void *vals,
                   size_t val_size, void *vals_out);
af_err em_cpu_set_unique(int dev, af_dtype type, const void *in, dim_t n, bool is_sorted, void *out,
                         dim_t *nout);
af_err em_cpu_set_union(int dev, af_dtype type, const void *a, dim_t na, const void *b, dim_t nb,
                        void *out, dim_t *nout);
af_err em_cpu_set_intersect(int dev, af_dtype type, const void *a, dim_t na, const void *b,
                            dim_t nb, bool is_unique, void *out, dim_t *nout);
af_err em_cpu_median(int dev, af_dtype type, const void *in, const dim_t dims[4], int dim,
                     af_dtype out_type, void *out);
af_err em_cpu_topk(int dev, af_dtype type, const void *in, const dim_t dims[4], int k, bool largest,
                   void *vals_out, uint32_t *idx_out);

#endif
