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

struct em_algo_ops {
    /* Reductions (reduce.c). */

    /* Scans, where, diff (scan.c). */

    /* Sorting, sets, selection (sort.c). */
};

extern const struct em_algo_ops em_cpu_algo_ops;
extern const struct em_algo_ops em_cu_algo_ops;

#endif
