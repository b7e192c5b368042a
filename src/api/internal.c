/* internal.h: arrays over strided memory and the queries of an array's layout (strides, offset,
 * raw pointer, linearity, ownership, allocated bytes), with ArrayFire 3.10's semantics
 * (src/api/c/internal.cpp there). Every dtype is accepted; ArrayFire 3.10 leaves s8 out of these
 * functions' dtype switches (AF_ERR_TYPE), which looks like an omission, not a rule.
 *
 * Where Ember's answers follow from its own object model:
 *  - af_is_owner: ArrayFire answers false for the sub-arrays made by indexing and true otherwise.
 *    Ember has no parent flag; an array is the owner when its elements are exactly its buffer
 *    (evaluated, dense, offset 0, covering the whole buffer) or when it is lazy. Indexing views
 *    answer false, except one that selects the whole array; a strided array with gaps made by
 *    af_create_strided_array answers false too.
 *  - af_get_allocated_bytes: the pool block's capacity for memory of the manager (shared by every
 *    view of it, as in ArrayFire), the wrapped size for user memory, and 0 for a lazy array. */
#include <af/internal.h>

#include "../core/array.h"
#include "../core/dev.h"
#include "../core/err.h"

#include <string.h>

af_err af_create_strided_array(af_array *arr, const void *data, const dim_t offset,
                               const unsigned ndims, const dim_t *const dims,
                               const dim_t *const strides, const af_dtype ty,
                               const af_source location) {
    af_err err = AF_SUCCESS;
    dim_t d[4], s[4];
    em_buf *buf = NULL;
    em_array *a = NULL;
    EM_ARG_NULL(arr, 0);
    if (offset < 0)
        EM_FAIL(AF_ERR_ARG, "argument 2 (offset) is %lld, must be >= 0", (long long)offset);
    if (ndims < 1 || ndims > 4)
        EM_FAIL(AF_ERR_ARG, "argument 3 (ndims) is %u, must be 1..4", ndims);
    EM_ARG_NULL(dims, 4);
    EM_ARG_NULL(strides, 5);
    if (strides[0] != 1)
        EM_FAIL(AF_ERR_ARG, "argument 5 (strides): strides[0] is %lld, must be 1",
                (long long)strides[0]);
    for (unsigned i = 1; i < ndims; i++)
        if (strides[i] <= 0)
            EM_FAIL(AF_ERR_ARG, "argument 5 (strides): strides[%u] is %lld, must be positive", i,
                    (long long)strides[i]);
    EM_TRY(em_dims_from_user(__func__, 3, ndims, dims, d));
    if (!em_dtype_valid(ty)) EM_FAIL(AF_ERR_TYPE, "argument 6 (ty): %d is not a dtype", (int)ty);
    if (location != afHost && location != afDevice)
        EM_FAIL(AF_ERR_ARG, "argument 7 (location): %d is not an af_source", (int)location);
    /* Strides past ndims continue densely, as in ArrayFire. */
    for (unsigned i = 0; i < 4; i++)
        s[i] = i < ndims ? strides[i] : s[i - 1] * d[i - 1];
    /* The elements the array reaches: from element 0 of data to its last element. ArrayFire
     * copies offset + strides[3] * dims[3] elements, which can read past the caller's data; Ember
     * copies (or wraps) exactly the reach. */
    dim_t reach = 0;
    if (em_dims_elements(d) > 0) {
        reach = offset + 1;
        for (int i = 0; i < 4; i++) {
            if ((d[i] - 1) > 0 && s[i] > (((dim_t)1 << 48) - reach) / (d[i] - 1))
                EM_FAIL(AF_ERR_SIZE,
                        "arguments 4 and 5: dims and strides reach past 2^48 elements");
            reach += (d[i] - 1) * s[i];
        }
    }
    size_t bytes = (size_t)reach * em_dtype_size(ty);
    if (!data && bytes > 0) EM_FAIL(AF_ERR_ARG, "argument 1 (data) is NULL");
    EM_TRY(em_init());
    int dev = em_dev_active();
    if (location == afHost) {
        EM_TRY(em_buf_alloc(dev, bytes, &buf));
        if (bytes) EM_TRY(em_backend_self.copy_h2d(dev, buf->ptr, data, bytes));
    } else {
        /* The pointer is adopted, as af_device_array adopts it: Ember frees it when the last
         * reference dies. Wrapped as borrowed until the array exists, so that a failure leaves
         * the caller's memory alone; memory of Ember's own manager (af_alloc_device) stays
         * borrowed, since the manager frees it. */
        EM_TRY(em_buf_wrap(dev, (void *)data, bytes, EM_BUF_BORROWED, NULL, NULL, &buf));
    }
    em_buf *held = buf;
    buf = NULL; /* em_array_from_buf takes the reference, also on failure */
    EM_TRY(em_array_from_buf(held, ty, d, s, offset, dev, &a));
    if (location == afDevice && !em_mem_is_user(data)) held->origin = EM_BUF_ADOPTED;
    *arr = a;
    return AF_SUCCESS;
fail:
    if (buf) em_buf_release(buf);
    return err;
}

af_err af_get_strides(dim_t *s0, dim_t *s1, dim_t *s2, dim_t *s3, const af_array arr) {
    af_err err = AF_SUCCESS;
    em_array *a;
    EM_ARG_NULL(s0, 0);
    EM_ARG_NULL(s1, 1);
    EM_ARG_NULL(s2, 2);
    EM_ARG_NULL(s3, 3);
    EM_GET(a, arr, 4);
    /* A lazy array reports the dense strides of its dims, as ArrayFire's does. */
    *s0 = a->strides[0];
    *s1 = a->strides[1];
    *s2 = a->strides[2];
    *s3 = a->strides[3];
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_get_offset(dim_t *offset, const af_array arr) {
    af_err err = AF_SUCCESS;
    em_array *a;
    EM_ARG_NULL(offset, 0);
    EM_GET(a, arr, 1);
    *offset = a->offset;
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_get_raw_ptr(void **ptr, const af_array arr) {
    af_err err = AF_SUCCESS;
    em_array *a;
    EM_ARG_NULL(ptr, 0);
    EM_GET(a, arr, 1);
    /* ArrayFire evaluates and answers the buffer's start, without the offset, and without
     * locking or copying: the pointer is valid while the array lives, on the library's stream. */
    EM_TRY(em_array_eval(a));
    *ptr = a->buf->ptr;
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_is_linear(bool *result, const af_array arr) {
    af_err err = AF_SUCCESS;
    em_array *a;
    EM_ARG_NULL(result, 0);
    EM_GET(a, arr, 1);
    /* ArrayFire's isLinear: the strides of the first ndims dimensions are dense, size-1
     * dimensions included (only a 1-D array just needs stride 1). */
    unsigned nd = em_dims_ndims(a->dims);
    bool lin = true;
    if (nd == 1) {
        lin = a->strides[0] == 1;
    } else {
        dim_t count = 1;
        for (unsigned i = 0; i < nd && lin; i++) {
            lin = a->strides[i] == count;
            count *= a->dims[i];
        }
    }
    *result = lin;
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_is_owner(bool *result, const af_array arr) {
    af_err err = AF_SUCCESS;
    em_array *a;
    EM_ARG_NULL(result, 0);
    EM_GET(a, arr, 1);
    if (!a->buf) {
        *result = true;
    } else {
        size_t bytes = (size_t)em_array_elements(a) * em_dtype_size(a->type);
        *result = a->offset == 0 && em_array_is_dense(a) && bytes == a->buf->bytes;
    }
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_get_allocated_bytes(size_t *bytes, const af_array arr) {
    af_err err = AF_SUCCESS;
    em_array *a;
    EM_ARG_NULL(bytes, 0);
    EM_GET(a, arr, 1);
    if (!a->buf)
        *bytes = 0;
    else
        *bytes = a->buf->origin == EM_BUF_POOL ? a->buf->cap : a->buf->bytes;
    return AF_SUCCESS;
fail:
    return err;
}
