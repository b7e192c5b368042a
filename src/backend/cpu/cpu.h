/* Internals shared by the CPU backend's files. */
#ifndef EM_CPU_H
#define EM_CPU_H

#include "../../core/dtype.h"
#include "../../core/jit.h"
#include "../backend.h"

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
af_err em_cpu_random(int dev, void *out, af_dtype type, dim_t n, int dist, uint64_t seed,
                     uint64_t counter);

#endif
