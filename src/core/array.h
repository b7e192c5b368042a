/* The array object behind an af_array handle. */
#ifndef EM_CORE_ARRAY_H
#define EM_CORE_ARRAY_H

#include "dtype.h"
#include "jit.h"
#include "mem.h"

#include "backend.h"

/* The tag is per backend, so a handle from another backend library is told apart from a released
 * or foreign pointer (AF_ERR_ARR_BKND_MISMATCH versus AF_ERR_INVALID_ARRAY). */
#define EM_ARRAY_MAGIC_BASE 0x454d4200u /* "EMB" then the backend id */
#define EM_ARRAY_MAGIC_DEAD 0xdeadbeefu

/* An array is either evaluated (buf set; dims, strides and offset describe a view of it) or lazy
 * (node set). Several arrays may share one buffer; writes go through em_array_make_unique, which
 * copies first when the buffer is shared (copy on write). */
typedef struct em_array {
    uint32_t magic;
    af_dtype type;
    int dev;
    dim_t dims[4];
    dim_t strides[4];
    dim_t offset;
    em_buf *buf;
    em_node *node;
    /* Evaluated arrays only: a BUF leaf over the whole array, made at its first use as an operand
     * and handed to every later use with the array's own dims. One node per array instead of one
     * per use saves a node per operand, and the program builder then sees one leaf (one kernel
     * parameter) however often the array appears. The leaf holds a buffer reference, so it is
     * dropped (em_array_drop_leaf) before anything changes buf, dims, strides or offset, and
     * before a buffer's reference count is judged. Installed with an atomic compare-and-swap, as
     * two threads may read one array at once. */
    em_node *leaf;
    struct em_array *next_free;
} em_array;

static inline uint32_t em_array_magic(void) {
    return EM_ARRAY_MAGIC_BASE | (uint32_t)em_backend_self.id;
}

/* The error half of em_array_get. */
af_err em_array_get_slow(const char *fn, int pos, const void *handle);

/* Looks up a handle passed as argument `pos` of `fn`. Errors: AF_ERR_ARG for NULL,
 * AF_ERR_ARR_BKND_MISMATCH for another backend's array, AF_ERR_INVALID_ARRAY otherwise. Inline,
 * since every public function with an array argument starts here. */
static inline af_err em_array_get(const char *fn, int pos, const void *handle, em_array **out) {
    if (handle && ((const em_array *)handle)->magic == em_array_magic()) {
        *out = (em_array *)handle;
        return AF_SUCCESS;
    }
    *out = NULL; /* never read on failure; written so the compiler can see that */
    return em_array_get_slow(fn, pos, handle);
}
#define EM_GET(var, handle, pos) EM_TRY(em_array_get(__func__, (pos), (handle), &(var)))
/* EM_GET in the name of the public function `fn` (err.h's _FN helpers). */
#define EM_GET_FN(var, handle, pos) EM_TRY_FN(em_array_get(fn, (pos), (handle), &(var)))

/* A new array that takes over the caller's reference to `node` (lazy). */
af_err em_array_from_node(em_node *node, em_array **out);
/* A new array over `buf` (takes over the caller's reference), dense unless strides given. */
af_err em_array_from_buf(em_buf *buf, af_dtype type, const dim_t dims[4], const dim_t *strides,
                         dim_t offset, int dev, em_array **out);
/* A new dense array with fresh, uninitialised storage. */
af_err em_array_alloc(af_dtype type, const dim_t dims[4], em_array **out);
/* A new handle that shares a's buffer or node (af_retain_array). */
af_err em_array_share(const em_array *a, em_array **out);
void em_array_free(em_array *a);

static inline dim_t em_dims_elements(const dim_t d[4]) {
    return d[0] * d[1] * d[2] * d[3];
}
static inline dim_t em_array_elements(const em_array *a) {
    return em_dims_elements(a->dims);
}
unsigned em_dims_ndims(const dim_t d[4]);
void em_dims_dense_strides(const dim_t dims[4], dim_t strides[4]);
/* Checks user dims (ndims 1..4, each >= 0, product fits) and fills a 4-D dims array. */
af_err em_dims_from_user(const char *fn, int pos, unsigned ndims, const dim_t *dims, dim_t out[4]);

/* True when the array's elements are contiguous in column-major order (offset allowed). */
bool em_array_is_dense(const em_array *a);

/* Evaluates a lazy array into a fresh dense buffer. No-op when already evaluated. */
af_err em_array_eval(em_array *a);
/* Evaluates several arrays in one program where their dims agree. */
af_err em_array_eval_many(em_array **arrays, int n);
/* Makes the array own a dense buffer with offset 0 that no other array shares: evaluates, then
 * copies if the buffer is shared, a view or offset. Used before writes and device-pointer hand
 * out. */
af_err em_array_make_unique(em_array *a);

/* Read access to the array's elements as one contiguous column-major block, for consumers that
 * are not JIT programs (vendor libraries, sorts): evaluates a lazy array (in place, as af_eval
 * would), and copies a strided view into a fresh buffer; a dense array is used where it lies.
 * *buf receives a new reference to the buffer (release it with em_buf_release) and *ptr the
 * address of element 0. Nothing is written on failure. */
af_err em_array_dense_read(em_array *a, em_buf **buf, void **ptr);

/* Writes `value` (a node whose dims are `dims`) into a strided window of dst: element c of dims
 * goes to element offset + sum(c[k] * strides[k]) of dst's dense column-major layout. dst is
 * made the only owner of a dense buffer first (em_array_make_unique: copy on write), so another
 * array sharing the old buffer, and any leaf of `value` that reads it, see the old values. The
 * value is evaluated straight into the window, with no temporary. The caller checks that the
 * window lies inside dst and that value has dst's dtype. Consumes `value`, also on failure. */
af_err em_array_write_window(em_array *dst, dim_t offset, const dim_t strides[4],
                             const dim_t dims[4], em_node *value);
/* The evaluation half of em_array_write_window, for a dst the caller already made unique: value
 * may read dst's buffer only at the element it writes (af_replace reads a where it writes a).
 * The window's dims are value's. Consumes `value`. */
af_err em_array_eval_into(em_array *dst, dim_t offset, const dim_t strides[4], em_node *value);

/* A new reference to a node that computes the array's value (a BUF leaf for evaluated arrays),
 * viewed with `dims`: dims of 1 in the array may be broadcast to larger dims. */
af_err em_array_node(const em_array *a, const dim_t dims[4], em_node **out);

/* The common case of em_array_node, inline: the array at its own dims, as a new reference to its
 * lazy node or its cached leaf. NULL when an evaluated array has no leaf yet (em_array_node
 * makes one). Every operand of every lazy op starts here; t is the calling thread's state. */
static inline em_node *em_array_node_cached(const em_thread *t, const em_array *a) {
    em_node *n = a->node;
    if (!n) n = __atomic_load_n(&a->leaf, __ATOMIC_ACQUIRE);
    if (n) em_node_retain_on(t, n);
    return n;
}

/* Releases the array's cached leaf (see em_array.leaf). */
void em_array_drop_leaf(em_array *a);

/* Wraps a fresh node into an output array, evaluating at once if a flush rule says so. */
af_err em_array_from_op_on(em_thread *t, em_node *node, int dev, em_array **out);
static inline af_err em_array_from_op(em_node *node, int dev, em_array **out) {
    return em_array_from_op_on(em_thread_self(), node, dev, out);
}

/* Copies the array's elements to host memory in column-major order. */
af_err em_array_read(em_array *a, void *host);

#endif
