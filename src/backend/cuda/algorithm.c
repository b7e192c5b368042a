/* The CUDA backend's algorithm table: the slots of reduce.c, scan.c and sort.c. */
#include "../algorithm.h"
#include "cu.h"

const struct em_algo_ops em_cu_algo_ops = {
    /* Reductions (reduce.c). */
    .reduce = em_cu_reduce,

    /* Scans, where, diff (scan.c). */

    /* Sorting, sets, selection (sort.c). */
};
