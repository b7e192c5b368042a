/* The CUDA backend's index table: the slots of index.c (indexing and assignment) and shape.c
 * (shape operations). */
#include "cu.h"

#include "../index.h"

const struct em_index_ops em_cu_index_ops = {
    /* Indexing and assignment (index.c). */

    /* Shape operations (shape.c). */
    .transpose = em_cu_transpose,
    .transpose_inplace = em_cu_transpose_inplace,
};
