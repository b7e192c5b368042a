/* The index family's backend table (index.h and the shape operations of data.h): gathers and
 * scatters by index arrays, lookups, and the shape operations that need a kernel of their own.
 * The api files (src/api/index.c for indexing and assignment, src/api/shape.c for the shape
 * operations) call these slots; each backend fills them in its index.c (indexing and assignment)
 * and shape.c (shape operations). A NULL slot answers AF_ERR_NOT_SUPPORTED.
 *
 * Sequence indexing makes no call here: it returns a view (strides and offset over the parent's
 * buffer), and a view feeds the JIT as a strided leaf. */
#ifndef EM_BACKEND_INDEX_H
#define EM_BACKEND_INDEX_H

#include "../core/backend.h"

struct em_index_ops {
    /* Indexing and assignment (index.c). */

    /* Shape operations (shape.c). */
};

extern const struct em_index_ops em_cpu_index_ops;
extern const struct em_index_ops em_cu_index_ops;

#endif
