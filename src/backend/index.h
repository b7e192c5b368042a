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

#include <stdbool.h>

struct em_index_ops {
    /* Indexing and assignment (index.c). */

    /* Shape operations (shape.c). */

    /* Writes the transpose of dims 0 and 1 of `in` to `out`, batched over dims 2 and 3: in has
     * dims idims and element strides istrides (element 0 at `in`, strides may be any, so a view
     * is read where it lies); out is dense with dims (idims[1], idims[0], idims[2], idims[3]).
     * With conj set, complex values are conjugated (the sign of the imaginary part flipped). */
    af_err (*transpose)(int dev, af_dtype type, void *out, const void *in, const dim_t idims[4],
                        const dim_t istrides[4], bool conj);
    /* The same in place on a dense buffer whose dims 0 and 1 are equal. */
    af_err (*transpose_inplace)(int dev, af_dtype type, void *data, const dim_t dims[4],
                                bool conj);
};

extern const struct em_index_ops em_cpu_index_ops;
extern const struct em_index_ops em_cu_index_ops;

#endif
