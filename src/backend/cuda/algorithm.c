/* The CUDA backend's algorithm table: the slots of reduce.c, scan.c and sort.c. */
#include "../algorithm.h"
#include "cu.h"

const struct em_algo_ops em_cu_algo_ops = {
    /* Reductions (reduce.c). */
    .reduce = em_cu_reduce,
    .ireduce = em_cu_ireduce,
    .key_runs = em_cu_key_runs,
    .reduce_runs = em_cu_reduce_runs,

    /* Scans, where, diff (scan.c). */
    .scan = em_cu_scan,
    .where = em_cu_where,
    /* Statistics (statistics.c). */
    .moments = em_cu_moments,
    .comoments = em_cu_comoments,

    /* Sorting, sets, selection (sort.c). */
    .sort = em_cu_sort,
    .set_unique = em_cu_set_unique,
    .set_union = em_cu_set_union,
    .set_intersect = em_cu_set_intersect,
    .median = em_cu_median,
    .topk = em_cu_topk,
};
