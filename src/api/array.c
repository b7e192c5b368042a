/* array.h: creating, copying, reading and describing arrays. */
#include <af/array.h>
#include <af/device.h>

#include "../core/array.h"
#include "../core/dev.h"
#include "../core/err.h"

#include <string.h>

af_err af_create_handle(af_array *arr, const unsigned ndims, const dim_t *const dims,
                        const af_dtype type) {
    af_err err = AF_SUCCESS;
    dim_t d[4];
    em_array *a = NULL;
    EM_ARG_NULL(arr, 0);
    EM_TRY(em_init());
    /* ndims 0 is an empty array (0x1x1x1), as ArrayFire makes it: bindings create their empty
     * arrays this way (arrayfire-rust passes a Dim4's ndims, which is 0 when it is empty). */
    if (ndims == 0)
        d[0] = 0, d[1] = d[2] = d[3] = 1;
    else
        EM_TRY(em_dims_from_user(__func__, 1, ndims, dims, d));
    if (!em_dtype_valid(type)) EM_FAIL(AF_ERR_TYPE, "argument 3 (type): %d is not a dtype", type);
    EM_TRY(em_array_alloc(type, d, &a));
    *arr = a;
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_create_array(af_array *arr, const void *const data, const unsigned ndims,
                       const dim_t *const dims, const af_dtype type) {
    af_err err = AF_SUCCESS;
    dim_t d[4];
    em_array *a = NULL;
    EM_ARG_NULL(arr, 0);
    EM_TRY(em_init());
    EM_TRY(em_dims_from_user(__func__, 2, ndims, dims, d));
    if (!em_dtype_valid(type)) EM_FAIL(AF_ERR_TYPE, "argument 4 (type): %d is not a dtype", type);
    size_t bytes = (size_t)em_dims_elements(d) * em_dtype_size(type);
    if (!data && bytes) EM_FAIL(AF_ERR_ARG, "argument 1 (data) is NULL");
    EM_TRY(em_array_alloc(type, d, &a));
    if (bytes) EM_TRY(em_backend_self.copy_h2d(a->dev, a->buf->ptr, data, bytes));
    *arr = a;
    return AF_SUCCESS;
fail:
    em_array_free(a);
    return err;
}

af_err af_copy_array(af_array *arr, const af_array in) {
    af_err err = AF_SUCCESS;
    em_array *a, *out = NULL;
    EM_ARG_NULL(arr, 0);
    EM_GET(a, in, 1);
    /* A deep copy: a new handle on the same data, then a buffer of its own (byte for byte when
     * the source is evaluated and dense, through the JIT otherwise). */
    EM_TRY(em_array_share(a, &out));
    EM_TRY(em_array_make_unique(out));
    *arr = out;
    return AF_SUCCESS;
fail:
    em_array_free(out);
    return err;
}

af_err af_write_array(af_array arr, const void *data, const size_t bytes, af_source src) {
    af_err err = AF_SUCCESS;
    em_array *a;
    EM_GET(a, arr, 0);
    EM_ARG_NULL(data, 1);
    size_t have = (size_t)em_array_elements(a) * em_dtype_size(a->type);
    if (bytes > have)
        EM_FAIL(AF_ERR_SIZE, "argument 2 (bytes): %zu bytes exceed the array's %zu", bytes, have);
    if (src != afHost && src != afDevice)
        EM_FAIL(AF_ERR_ARG, "argument 3 (src): %d is not an af_source", (int)src);
    /* Copy on write: other handles sharing the buffer keep the old values. */
    EM_TRY(em_array_make_unique(a));
    if (bytes == 0) return AF_SUCCESS;
    if (src == afHost)
        EM_TRY(em_backend_self.copy_h2d(a->dev, a->buf->ptr, data, bytes));
    else
        EM_TRY(em_backend_self.copy_d2d(a->dev, a->buf->ptr, data, bytes));
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_get_data_ptr(void *data, const af_array arr) {
    af_err err = AF_SUCCESS;
    em_array *a;
    EM_ARG_NULL(data, 0);
    EM_GET(a, arr, 1);
    EM_TRY(em_array_read(a, data));
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_release_array(af_array arr) {
    af_err err = AF_SUCCESS;
    em_array *a;
    /* ArrayFire accepts NULL here as a no-op, and so do we. */
    if (arr == NULL) return AF_SUCCESS;
    EM_GET(a, arr, 0);
    em_array_free(a);
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_retain_array(af_array *out, const af_array in) {
    af_err err = AF_SUCCESS;
    em_array *a, *b;
    EM_ARG_NULL(out, 0);
    EM_GET(a, in, 1);
    EM_TRY(em_array_share(a, &b));
    *out = b;
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_get_data_ref_count(int *use_count, const af_array in) {
    af_err err = AF_SUCCESS;
    em_array *a;
    EM_ARG_NULL(use_count, 0);
    EM_GET(a, in, 1);
    /* The cached leaf (em_array.leaf) is the array's own, not another user of the buffer. */
    *use_count = a->buf
                     ? em_buf_refs(a->buf) - (__atomic_load_n(&a->leaf, __ATOMIC_ACQUIRE) != NULL)
                     : em_node_refs(a->node);
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_eval(af_array in) {
    af_err err = AF_SUCCESS;
    em_array *a;
    EM_GET(a, in, 0);
    EM_TRY(em_array_eval(a));
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_eval_multiple(const int num, af_array *arrays) {
    af_err err = AF_SUCCESS;
    em_array *list[64];
    if (num < 0) EM_FAIL(AF_ERR_ARG, "argument 0 (num) is %d, must be >= 0", num);
    if (num > 0) EM_ARG_NULL(arrays, 1);
    for (int start = 0; start < num; start += 64) {
        int cnt = num - start < 64 ? num - start : 64;
        for (int i = 0; i < cnt; i++)
            EM_TRY(em_array_get(__func__, 1, arrays[start + i], &list[i]));
        EM_TRY(em_array_eval_many(list, cnt));
    }
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_set_manual_eval_flag(bool flag) {
    em_set_manual_eval(flag);
    return AF_SUCCESS;
}

af_err af_get_manual_eval_flag(bool *flag) {
    af_err err = AF_SUCCESS;
    EM_ARG_NULL(flag, 0);
    *flag = em_manual_eval();
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_get_elements(dim_t *elems, const af_array arr) {
    af_err err = AF_SUCCESS;
    em_array *a;
    EM_ARG_NULL(elems, 0);
    EM_GET(a, arr, 1);
    *elems = em_array_elements(a);
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_get_type(af_dtype *type, const af_array arr) {
    af_err err = AF_SUCCESS;
    em_array *a;
    EM_ARG_NULL(type, 0);
    EM_GET(a, arr, 1);
    *type = a->type;
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_get_dims(dim_t *d0, dim_t *d1, dim_t *d2, dim_t *d3, const af_array arr) {
    af_err err = AF_SUCCESS;
    em_array *a;
    EM_ARG_NULL(d0, 0);
    EM_ARG_NULL(d1, 1);
    EM_ARG_NULL(d2, 2);
    EM_ARG_NULL(d3, 3);
    EM_GET(a, arr, 4);
    *d0 = a->dims[0];
    *d1 = a->dims[1];
    *d2 = a->dims[2];
    *d3 = a->dims[3];
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_get_numdims(unsigned *result, const af_array arr) {
    af_err err = AF_SUCCESS;
    em_array *a;
    EM_ARG_NULL(result, 0);
    EM_GET(a, arr, 1);
    *result = em_dims_ndims(a->dims);
    return AF_SUCCESS;
fail:
    return err;
}

/* The af_is_* family: one predicate over the array's dims or dtype each. */
#define EM_IS(NAME, EXPR)                                                                          \
    af_err NAME(bool *result, const af_array arr) {                                                \
        af_err err = AF_SUCCESS;                                                                   \
        em_array *a;                                                                               \
        EM_ARG_NULL(result, 0);                                                                    \
        EM_GET(a, arr, 1);                                                                         \
        const dim_t *d = a->dims;                                                                  \
        af_dtype t = a->type;                                                                      \
        (void)d, (void)t;                                                                          \
        *result = (EXPR);                                                                          \
        return AF_SUCCESS;                                                                         \
    fail:                                                                                          \
        return err;                                                                                \
    }

EM_IS(af_is_empty, em_dims_elements(d) == 0)
EM_IS(af_is_scalar, em_dims_elements(d) == 1)
/* As ArrayFire's ArrayInfo: a row or a column has more than one element, so a scalar (or an
 * empty array) is neither. */
EM_IS(af_is_row, d[0] == 1 && d[1] > 1 && d[2] == 1 && d[3] == 1)
EM_IS(af_is_column, d[0] > 1 && d[1] == 1 && d[2] == 1 && d[3] == 1)
EM_IS(af_is_vector,
      em_dims_elements(d) > 0 && ((d[0] != 1) + (d[1] != 1) + (d[2] != 1) + (d[3] != 1)) == 1)
EM_IS(af_is_complex, em_dtype_is_complex(t))
EM_IS(af_is_real, !em_dtype_is_complex(t))
EM_IS(af_is_double, em_dtype_is_double(t))
EM_IS(af_is_single, t == f32 || t == c32)
EM_IS(af_is_half, t == f16)
EM_IS(af_is_realfloating, em_dtype_is_real_float(t))
EM_IS(af_is_floating, em_dtype_is_float(t))
EM_IS(af_is_integer, em_dtype_is_integer(t))
EM_IS(af_is_bool, t == b8)
EM_IS(af_is_sparse, false)

af_err af_get_scalar(void *output_value, const af_array arr) {
    af_err err = AF_SUCCESS;
    em_array *a;
    EM_ARG_NULL(output_value, 0);
    EM_GET(a, arr, 1);
    if (em_array_elements(a) < 1) EM_FAIL(AF_ERR_SIZE, "argument 1 is an empty array");
    /* The first element, whatever the array's size, as ArrayFire does. */
    EM_TRY(em_array_eval(a));
    size_t es = em_dtype_size(a->type);
    EM_TRY(em_backend_self.copy_d2h(a->dev, output_value,
                                    (char *)a->buf->ptr + (size_t)a->offset * es, es));
    return AF_SUCCESS;
fail:
    return err;
}
