/* The CPU backend's index table: the slots of index.c (indexing and assignment) and shape.c
 * (shape operations). */
#include "../index.h"

const struct em_index_ops em_cpu_index_ops = {
    /* Indexing and assignment (index.c). */

    /* Shape operations (shape.c). */
};
