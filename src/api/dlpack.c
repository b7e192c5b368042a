/* af/dlpack.h: DLPack 1.x export and import, zero-copy.
 *
 * Export hands out the array's buffer with a retained handle as the tensor's manager context; the
 * deleter releases that handle. Import wraps the tensor's memory in a buffer whose release
 * function calls the tensor's deleter, so it runs exactly once, when the last Ember reference
 * dies (the core waits for the device's queued work first). Shapes and strides keep Ember's index
 * order (column-major: dim 0 is the fastest). */
#include <af/dlpack.h>

#include "../core/array.h"
#include "../core/dev.h"
#include "../core/err.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    DLManagedTensorVersioned tensor;
    int64_t shape[4];
    int64_t strides[4];
    em_array *hold;
} export_ctx;

static DLDeviceType backend_dl_device(void) {
    return (DLDeviceType)em_backend_self.dlpack_device_type;
}

static bool dl_of_dtype(af_dtype t, DLDataType *out) {
    static const DLDataType map[] = {
        [f32] = {kDLFloat, 32, 1},    [c32] = {kDLComplex, 64, 1}, [f64] = {kDLFloat, 64, 1},
        [c64] = {kDLComplex, 128, 1}, [b8] = {kDLBool, 8, 1},      [s32] = {kDLInt, 32, 1},
        [u32] = {kDLUInt, 32, 1},     [u8] = {kDLUInt, 8, 1},      [s64] = {kDLInt, 64, 1},
        [u64] = {kDLUInt, 64, 1},     [s16] = {kDLInt, 16, 1},     [u16] = {kDLUInt, 16, 1},
        [f16] = {kDLFloat, 16, 1},    [s8] = {kDLInt, 8, 1},
    };
    if (!em_dtype_valid(t)) return false;
    *out = map[t];
    return true;
}

static bool dtype_of_dl(DLDataType d, af_dtype *out) {
    for (int t = 0; t < EM_NUM_DTYPES; t++) {
        DLDataType m;
        dl_of_dtype((af_dtype)t, &m);
        if (m.code == d.code && m.bits == d.bits && d.lanes == 1) {
            *out = (af_dtype)t;
            return true;
        }
    }
    return false;
}

static void export_deleter(DLManagedTensorVersioned *self) {
    export_ctx *ctx = self->manager_ctx;
    em_array_free(ctx->hold);
    free(ctx);
}

af_err af_dlpack_export(DLManagedTensorVersioned **out, const af_array in, void *stream) {
    af_err err = AF_SUCCESS;
    em_array *a, *hold = NULL;
    export_ctx *ctx = NULL;
    EM_ARG_NULL(out, 0);
    EM_GET(a, in, 1);
    EM_TRY(em_array_eval(a));
    em_array_drop_leaf(a); /* its buffer reference would read as another sharer below */
    EM_TRY(em_array_share(a, &hold));
    ctx = calloc(1, sizeof(*ctx));
    if (!ctx) EM_FAIL(AF_ERR_NO_MEM, "out of host memory for a DLPack tensor");
    ctx->hold = hold;
    int ndim = 1;
    for (int d = 0; d < 4; d++) {
        ctx->shape[d] = a->dims[d];
        ctx->strides[d] = a->strides[d];
        if (a->dims[d] != 1) ndim = d + 1;
    }
    DLManagedTensorVersioned *t = &ctx->tensor;
    t->version.major = DLPACK_MAJOR_VERSION;
    t->version.minor = DLPACK_MINOR_VERSION;
    t->manager_ctx = ctx;
    t->deleter = export_deleter;
    /* The tensor and `in` both hold the buffer; anything more is another array sharing it. */
    if (em_buf_refs(a->buf) > 2 || a->buf->read_only) t->flags |= DLPACK_FLAG_BITMASK_READ_ONLY;
    t->dl_tensor.data = (char *)a->buf->ptr + (size_t)a->offset * em_dtype_size(a->type);
    t->dl_tensor.device.device_type = backend_dl_device();
    t->dl_tensor.device.device_id = em_dev_props_of(a->dev)->native_id;
    t->dl_tensor.ndim = ndim;
    dl_of_dtype(a->type, &t->dl_tensor.dtype);
    t->dl_tensor.shape = ctx->shape;
    t->dl_tensor.strides = ctx->strides;
    t->dl_tensor.byte_offset = 0;
    if (stream && em_backend_self.stream_signal)
        EM_TRY(em_backend_self.stream_signal(a->dev, stream));
    *out = t;
    return AF_SUCCESS;
fail:
    em_array_free(hold);
    free(ctx);
    return err;
}

/* Deleter trampolines: the buffer's release function calls the producer's deleter once. */
static void release_versioned(void *ptr, void *ctx) {
    (void)ptr;
    DLManagedTensorVersioned *t = ctx;
    if (t->deleter) t->deleter(t);
}

static void release_legacy(void *ptr, void *ctx) {
    (void)ptr;
    DLManagedTensor *t = ctx;
    if (t->deleter) t->deleter(t);
}

static af_err import_tensor(const char *fn, af_array *out, const DLTensor *dl, uint64_t flags,
                            void (*release)(void *, void *), void *owner, void *stream,
                            bool *copied) {
    af_err err = AF_SUCCESS;
    af_dtype type;
    dim_t dims[4] = {1, 1, 1, 1}, strides[4] = {0, 0, 0, 0};
    em_buf *buf = NULL;
    em_array *a = NULL;
    if (!out) return em_err(AF_ERR_ARG, fn, "argument 0 (out) is NULL");
    if (copied) *copied = false;
    if (!dl->data && dl->ndim > 0) {
        bool empty = false;
        for (int i = 0; i < dl->ndim; i++)
            empty |= dl->shape[i] == 0;
        if (!empty) return em_err(AF_ERR_ARG, fn, "argument 1: the tensor's data is NULL");
    }
    if (!dtype_of_dl(dl->dtype, &type))
        return em_err(AF_ERR_TYPE, fn,
                      "argument 1: DLPack dtype (code %u, %u bits, %u lanes) has no Ember dtype",
                      dl->dtype.code, dl->dtype.bits, dl->dtype.lanes);
    if (dl->ndim < 0 || (dl->ndim > 0 && !dl->shape))
        return em_err(AF_ERR_ARG, fn, "argument 1: ndim %d with no shape", (int)dl->ndim);
    err = em_init();
    if (err != AF_SUCCESS) return err;

    /* The device: its kind must be this backend's, its id a native id Ember knows. */
    DLDeviceType want = backend_dl_device();
    DLDeviceType have = dl->device.device_type;
    bool kind_ok = have == want || (want == kDLCPU && have == kDLCUDAHost) ||
                   (want == kDLCUDA && have == kDLCUDAManaged);
    if (!kind_ok)
        return em_err(AF_ERR_ARG, fn,
                      "argument 1: tensor lives on DLPack device type %d; the %s backend takes %d",
                      (int)have, em_backend_self.name, (int)want);
    int dev = -1;
    for (int d = 0; d < em_dev_count(); d++)
        if (want == kDLCPU || em_dev_props_of(d)->native_id == dl->device.device_id) dev = d;
    if (dev < 0)
        return em_err(AF_ERR_DEVICE, fn, "argument 1: no Ember device has native id %d",
                      (int)dl->device.device_id);

    /* Dims and strides in elements; strides NULL means compact row-major. Dims past the fourth
     * must be 1: Ember arrays have four. */
    int64_t dl_strides[32];
    if (dl->ndim > 32) return em_err(AF_ERR_SIZE, fn, "argument 1: ndim %d", (int)dl->ndim);
    for (int i = dl->ndim - 1, s = 1; i >= 0; i--) {
        dl_strides[i] = dl->strides ? dl->strides[i] : s;
        s *= (int)dl->shape[i];
    }
    for (int i = 0; i < dl->ndim; i++) {
        if (dl->shape[i] < 0)
            return em_err(AF_ERR_SIZE, fn, "argument 1: shape[%d] = %lld is negative", i,
                          (long long)dl->shape[i]);
        if (i < 4) {
            dims[i] = dl->shape[i];
            strides[i] = dl_strides[i];
        } else if (dl->shape[i] != 1) {
            return em_err(AF_ERR_SIZE, fn,
                          "argument 1: shape[%d] = %lld; Ember arrays have at most 4 dims", i,
                          (long long)dl->shape[i]);
        }
    }
    for (int i = dl->ndim; i < 4; i++)
        strides[i] = i > 0 ? strides[i - 1] * dims[i - 1] : 1;
    dim_t elements = em_dims_elements(dims);
    size_t es = em_dtype_size(type);

    /* The span the strides reach, so the buffer's size is honest even for views. */
    dim_t lo = 0, hi = 0;
    for (int i = 0; i < 4; i++) {
        if (dims[i] == 0) continue;
        dim_t reach = (dims[i] - 1) * strides[i];
        if (reach < 0)
            lo += reach;
        else
            hi += reach;
    }
    char *base = (char *)dl->data + dl->byte_offset;
    size_t span = elements ? (size_t)(hi - lo + 1) * es : 0;

    if (stream && em_backend_self.stream_wait) {
        err = em_backend_self.stream_wait(dev, stream);
        if (err != AF_SUCCESS) return err;
    }

    if (((uintptr_t)base % es) != 0) {
        /* Misaligned for its dtype: Ember's kernels load whole elements, so copy the span into an
         * aligned buffer and keep the layout. The producer's memory is let go at once. */
        err = em_buf_alloc(dev, span, &buf);
        if (err != AF_SUCCESS) return err;
        if (span) err = em_backend_self.copy_d2d(dev, buf->ptr, base + lo * (dim_t)es, span);
        if (err == AF_SUCCESS) err = em_backend_self.dev_sync(dev);
        if (err != AF_SUCCESS) {
            em_buf_release(buf);
            return err;
        }
        err = em_array_from_buf(buf, type, dims, strides, -lo, dev, &a);
        if (err != AF_SUCCESS) return err;
        release(NULL, owner);
        if (copied) *copied = true;
        *out = a;
        return AF_SUCCESS;
    }

    /* Zero-copy: wrapped as borrowed until the array exists, so a failure here neither frees the
     * producer's memory nor runs its deleter. */
    err = em_buf_wrap(dev, base + lo * (dim_t)es, span, EM_BUF_BORROWED, NULL, NULL, &buf);
    if (err != AF_SUCCESS) return err;
    err = em_array_from_buf(buf, type, dims, strides, -lo, dev, &a);
    if (err != AF_SUCCESS) return err;
    buf->read_only = (flags & DLPACK_FLAG_BITMASK_READ_ONLY) != 0;
    buf->origin = EM_BUF_DELETER;
    buf->release = release;
    buf->release_ctx = owner;
    *out = a;
    return AF_SUCCESS;
}

af_err af_dlpack_import(af_array *out, DLManagedTensorVersioned *tensor, void *stream,
                        bool *copied) {
    if (!tensor) return em_err(AF_ERR_ARG, __func__, "argument 1 (tensor) is NULL");
    if (tensor->version.major != 1)
        return em_err(AF_ERR_NOT_SUPPORTED, __func__,
                      "argument 1: DLPack version %u.%u; Ember reads major version 1",
                      tensor->version.major, tensor->version.minor);
    return import_tensor(__func__, out, &tensor->dl_tensor, tensor->flags, release_versioned,
                         tensor, stream, copied);
}

af_err af_dlpack_import_legacy(af_array *out, DLManagedTensor *tensor, void *stream, bool *copied) {
    if (!tensor) return em_err(AF_ERR_ARG, __func__, "argument 1 (tensor) is NULL");
    return import_tensor(__func__, out, &tensor->dl_tensor, 0, release_legacy, tensor, stream,
                         copied);
}
