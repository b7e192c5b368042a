/* Ember: an implementation of ArrayFire's C API. This header declares ArrayFire 3.10's indexing
 * interface, with the same names, types and AF_API_VERSION guards. */

#ifndef EMBER_AF_INDEX_H
#define EMBER_AF_INDEX_H

#include <af/defines.h>
#include <af/seq.h>

#ifdef __cplusplus
extern "C" {
#endif

/** One dimension's index: an index array or a sequence. */
typedef struct af_index_t {
    union {
        af_array arr; /* index array, used when isSeq is false */
        af_seq seq;   /* sequence, used when isSeq is true */
    } idx;
    bool isSeq;   /* true when idx holds a sequence */
    bool isBatch; /* true when the sequence is a gfor batch parameter */
} af_index_t;

/** Indexes in with ndims sequences. */
AFAPI af_err af_index(af_array *out, const af_array in, const unsigned ndims,
                      const af_seq *const index);

/** Gathers the elements of in at indices along dim. */
AFAPI af_err af_lookup(af_array *out, const af_array in, const af_array indices,
                       const unsigned dim);

/** Assigns rhs to the region of lhs that ndims sequences select. */
AFAPI af_err af_assign_seq(af_array *out, const af_array lhs, const unsigned ndims,
                           const af_seq *const indices, const af_array rhs);

/** Indexes in with a mix of sequences and index arrays. */
AFAPI af_err af_index_gen(af_array *out, const af_array in, const dim_t ndims,
                          const af_index_t *indices);

/** Assigns rhs to the region of lhs that sequences and index arrays select. */
AFAPI af_err af_assign_gen(af_array *out, const af_array lhs, const dim_t ndims,
                           const af_index_t *indices, const af_array rhs);

#if AF_API_VERSION >= 32
/** Allocates an array of AF_MAX_DIMS indexers, each spanning its dimension. */
AFAPI af_err af_create_indexers(af_index_t **indexers);
#endif

#if AF_API_VERSION >= 32
/** Makes indexer dim select by the index array idx. */
AFAPI af_err af_set_array_indexer(af_index_t *indexer, const af_array idx, const dim_t dim);
#endif

#if AF_API_VERSION >= 32
/** Makes indexer dim select by the sequence idx. */
AFAPI af_err af_set_seq_indexer(af_index_t *indexer, const af_seq *idx, const dim_t dim,
                                const bool is_batch);
#endif

#if AF_API_VERSION >= 32
/** Makes indexer dim select by the sequence (begin, end, step). */
AFAPI af_err af_set_seq_param_indexer(af_index_t *indexer, const double begin, const double end,
                                      const double step, const dim_t dim, const bool is_batch);
#endif

#if AF_API_VERSION >= 32
/** Frees indexers made by af_create_indexers. */
AFAPI af_err af_release_indexers(af_index_t *indexers);
#endif

#ifdef __cplusplus
}
#endif

#endif /* EMBER_AF_INDEX_H */
