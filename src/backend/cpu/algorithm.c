/* The CPU backend's algorithm table: the slots of reduce.c, scan.c and sort.c. */
#include "../algorithm.h"
#include "cpu.h"

const struct em_algo_ops em_cpu_algo_ops = {
    /* Reductions (reduce.c). */
    .reduce = em_cpu_reduce,
    .ireduce = em_cpu_ireduce,
    .key_runs = em_cpu_key_runs,
    .reduce_runs = em_cpu_reduce_runs,

    /* Scans, where, diff (scan.c). */
    .scan = em_cpu_scan,
    .where = em_cpu_where,
    /* Statistics (statistics.c). */
    .moments = em_cpu_moments,
    .comoments = em_cpu_comoments,

    /* Sorting, sets, selection (sort.c). */
    .sort = em_cpu_sort,
    .set_unique = em_cpu_set_unique,
    .set_union = em_cpu_set_union,
    .set_intersect = em_cpu_set_intersect,
    .median = em_cpu_median,
    .topk = em_cpu_topk,
};
