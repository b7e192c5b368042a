/* The CPU backend's index table: the slots of index.c (indexing and assignment) and shape.c
 * (shape operations). */
#include "cpu.h"

#include "../index.h"

const struct em_index_ops em_cpu_index_ops = {
    /* Indexing and assignment (index.c). */

    /* Shape operations (shape.c). */
    .transpose = em_cpu_transpose,
    .transpose_inplace = em_cpu_transpose_inplace,
};
