/* Helpers shared by the signal family's api files (signal_util.h). */
#include "signal_util.h"

#include "../core/dev.h"
#include "jit_build.h"

#include <string.h>

af_err em_sig_check_dev(const char *fn, int pos, const em_array *a) {
    int dev = em_dev_active();
    if (a->dev != dev)
        return em_err(AF_ERR_DEVICE, fn,
                      "argument %d lives on device %d, but the active device is %d", pos, a->dev,
                      dev);
    return AF_SUCCESS;
}

af_err em_sig_source(const char *fn, em_array *a, em_buf **buf, const void **ptr,
                     dim_t strides[4]) {
    af_err err = em_array_eval(a);
    if (err != AF_SUCCESS) {
        em_err_attribute(fn);
        return err;
    }
    em_buf_retain(a->buf);
    *buf = a->buf;
    *ptr = (const char *)a->buf->ptr + (size_t)a->offset * em_dtype_size(a->type);
    memcpy(strides, a->strides, 4 * sizeof(dim_t));
    return AF_SUCCESS;
}

af_err em_sig_dense_as(const char *fn, em_array *a, af_dtype type, em_buf **buf, void **ptr) {
    af_err err = AF_SUCCESS;
    em_node *n = NULL;
    em_buf *copy = NULL;
    em_jit_prog prog;
    bool built = false;
    if (a->type == type) {
        err = em_array_dense_read(a, buf, ptr);
        if (err != AF_SUCCESS) em_err_attribute(fn);
        return err;
    }
    EM_TRY_FN(em_jit_input(a, a->dims, a->type, &n));
    if (em_dtype_is_complex(a->type) && !em_dtype_is_complex(type)) {
        n = em_jit_op1(EM_OP_ABS, em_dtype_real_of(a->type), n);
        if (!n) EM_FAIL_FN(AF_ERR_NO_MEM, "out of host memory for a JIT node");
    }
    n = em_jit_cast(n, type);
    if (!n) EM_FAIL_FN(AF_ERR_NO_MEM, "out of host memory for a JIT node");
    dim_t count = em_array_elements(a);
    EM_TRY_FN(em_buf_alloc(a->dev, (size_t)count * em_dtype_size(type), &copy));
    if (count > 0) {
        EM_TRY_FN(em_jit_prog_build(&n, 1, &prog));
        built = true;
        void *outs[1] = {copy->ptr};
        EM_TRY_FN(em_backend_self.jit_eval(a->dev, &prog, outs));
        em_jit_prog_free(&prog);
        built = false;
    }
    em_node_release(n);
    *buf = copy;
    *ptr = copy->ptr;
    return AF_SUCCESS;
fail:
    if (built) em_jit_prog_free(&prog);
    if (n) em_node_release(n);
    if (copy) em_buf_release(copy);
    return err;
}

af_err em_sig_alloc(const char *fn, af_dtype type, const dim_t dims[4], em_array **out) {
    af_err err = em_array_alloc(type, dims, out);
    if (err != AF_SUCCESS) em_err_attribute(fn);
    return err;
}

af_err em_sig_window(const char *fn, int dev, af_dtype dst_type, const dim_t dims[4], void *dst,
                     af_dtype src_type, const dim_t src_dims[4], const dim_t src_strides[4],
                     const void *src, const dim_t offset[4], double scale, bool round) {
    af_err err = AF_SUCCESS;
    EM_NEED_SLOT(signal, window);
    em_window_desc d;
    memset(&d, 0, sizeof(d));
    d.dst_type = dst_type;
    d.src_type = src_type;
    for (int k = 0; k < 4; k++) {
        d.dims[k] = dims[k];
        d.src_dims[k] = src_dims[k];
        d.src_strides[k] = src_strides[k];
        d.offset[k] = offset ? offset[k] : 0;
    }
    d.scale = scale;
    d.round = round;
    if (em_dims_elements(dims) == 0) return AF_SUCCESS;
    EM_TRY_FN(em_backend_self.signal->window(dev, &d, dst, src));
    return AF_SUCCESS;
fail:
    return err;
}

af_err em_sig_fft(const char *fn, int dev, em_fft_kind kind, bool forward, bool dbl, int rank,
                  const dim_t dims[4], double scale, const void *in, void *out) {
    af_err err = AF_SUCCESS;
    EM_NEED_SLOT(signal, fft);
    em_fft_desc d;
    memset(&d, 0, sizeof(d));
    d.kind = kind;
    d.forward = forward;
    d.dbl = dbl;
    d.scale = scale;
    d.batch = 1;
    for (int k = rank; k < 4; k++)
        d.batch *= dims[k];
    d.n[0] = d.n[1] = d.n[2] = 1;
    int r = 0;
    for (int k = 0; k < rank; k++)
        if (dims[k] != 1 || (k == 0 && kind != EM_FFT_C2C)) d.n[r++] = dims[k];
    d.rank = r;
    if (em_dims_elements(dims) == 0) return AF_SUCCESS;
    if (r == 0) {
        /* Every transformed dim has length 1: the transform is the identity. */
        if (in == out && scale == 1.0) return AF_SUCCESS;
        af_dtype ct = dbl ? c64 : c32;
        dim_t st[4];
        em_dims_dense_strides(dims, st);
        EM_TRY_FN(em_sig_window(fn, dev, ct, dims, out, ct, dims, st, in, NULL, scale, false));
        return AF_SUCCESS;
    }
    EM_TRY_FN(em_backend_self.signal->fft(dev, &d, in, out));
    return AF_SUCCESS;
fail:
    return err;
}
