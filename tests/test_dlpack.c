/* DLPack export and import (af/dlpack.h): layouts, dtypes, zero-copy, and the lifetime matrix
 * (each deleter runs exactly once, never while Ember still uses the memory). On the CUDA backend
 * the host-memory tensors below are not device memory, so those cases run on the CPU only. */
#include "test.h"

#include <af/dlpack.h>
#include <string.h>

typedef struct {
    DLManagedTensorVersioned t;
    int64_t shape[5], strides[5];
    int deleted;
    void *mem;
} host_tensor;

static int deleter_calls;

static void host_deleter(DLManagedTensorVersioned *self) {
    host_tensor *h = (host_tensor *)self;
    h->deleted++;
    deleter_calls++;
    free(h->mem);
    h->mem = NULL;
}

static void host_deleter_legacy(DLManagedTensor *self) {
    deleter_calls++;
    free(self->manager_ctx);
    self->manager_ctx = NULL;
}

static void need_cpu(void) {
    if (em_test_backend() != AF_BACKEND_CPU) SKIP("host-memory tensors: CPU backend only");
}

/* A float tensor of `ndim` dims over fresh host memory holding 0, 1, 2, ... */
static host_tensor *host_f32(int ndim, const int64_t *shape, const int64_t *strides, size_t n) {
    host_tensor *h = calloc(1, sizeof(*h));
    float *data = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++)
        data[i] = (float)i;
    h->mem = data;
    memcpy(h->shape, shape, sizeof(int64_t) * (size_t)ndim);
    if (strides) memcpy(h->strides, strides, sizeof(int64_t) * (size_t)ndim);
    h->t.version.major = 1;
    h->t.deleter = host_deleter;
    h->t.dl_tensor.data = data;
    h->t.dl_tensor.device.device_type = kDLCPU;
    h->t.dl_tensor.ndim = ndim;
    h->t.dl_tensor.dtype = (DLDataType){kDLFloat, 32, 1};
    h->t.dl_tensor.shape = h->shape;
    h->t.dl_tensor.strides = strides ? h->strides : NULL;
    return h;
}

TEST(dlpack_export_fields_and_roundtrip) {
    dim_t dims[2] = {3, 4};
    double x[12];
    em_test_fill(x, 12, -5, 5, false);
    af_array a = em_test_make(x, 2, dims, f32), back = 0;
    DLManagedTensorVersioned *t = NULL;
    CHECK_AF(af_dlpack_export(&t, a, NULL));
    CHECK(t->version.major == 1);
    CHECK(t->dl_tensor.ndim == 2);
    CHECK(t->dl_tensor.shape[0] == 3 && t->dl_tensor.shape[1] == 4);
    CHECK(t->dl_tensor.strides[0] == 1 && t->dl_tensor.strides[1] == 3);
    CHECK(t->dl_tensor.dtype.code == kDLFloat && t->dl_tensor.dtype.bits == 32);
    CHECK(t->dl_tensor.dtype.lanes == 1);
    CHECK(t->dl_tensor.byte_offset == 0);
    CHECK((t->flags & DLPACK_FLAG_BITMASK_READ_ONLY) == 0);
    if (em_test_backend() == AF_BACKEND_CPU) {
        CHECK(t->dl_tensor.device.device_type == kDLCPU);
        const float *d = t->dl_tensor.data;
        for (int i = 0; i < 12; i++)
            CHECK(d[i] == (float)x[i]);
    } else {
        CHECK(t->dl_tensor.device.device_type == kDLCUDA);
    }
    /* The producer goes first; the tensor keeps the memory alive. */
    CHECK_AF(af_release_array(a));
    bool copied = true;
    CHECK_AF(af_dlpack_import(&back, t, NULL, &copied));
    CHECK(!copied);
    dim_t n;
    double *got = em_test_read(back, &n);
    double ref[12];
    for (int i = 0; i < 12; i++)
        ref[i] = (float)x[i];
    CHECK_CLOSE(got, ref, 12, 0, 0);
    free(got);
    CHECK_AF(af_release_array(back)); /* runs the export deleter, which frees the buffer */
}

TEST(dlpack_all_dtypes_roundtrip) {
    dim_t dims[1] = {5};
    double x[10];
    for (int k = 0; k < EM_TEST_NUM_DTYPES; k++) {
        af_dtype t = em_test_dtypes[k];
        em_test_fill(x, 10, 0, 100, false);
        for (int i = 0; i < 10; i++)
            x[i] = t == b8 ? (double)((int)x[i] & 1) : (double)(int)x[i];
        af_array a = em_test_make(x, 1, dims, t), b = 0;
        DLManagedTensorVersioned *dl = NULL;
        CHECK_AF(af_dlpack_export(&dl, a, NULL));
        af_dtype back_t;
        CHECK_AF(af_dlpack_import(&b, dl, NULL, NULL));
        CHECK_AF(af_get_type(&back_t, b));
        CHECK(back_t == t);
        dim_t na, nb;
        double *ga = em_test_read(a, &na), *gb = em_test_read(b, &nb);
        CHECK(na == nb);
        size_t cnt = (size_t)na * (t == c32 || t == c64 ? 2 : 1);
        CHECK_CLOSE(gb, ga, cnt, 0, 0);
        free(ga);
        free(gb);
        af_release_array(b);
        af_release_array(a);
    }
}

TEST(dlpack_import_row_major_view) {
    need_cpu();
    /* A C-ordered 3x4 tensor: element (i, j) sits at i*4 + j. Ember sees a 3x4 view. */
    int64_t shape[2] = {3, 4};
    host_tensor *h = host_f32(2, shape, NULL, 12);
    deleter_calls = 0;
    af_array a = 0;
    bool copied = true;
    CHECK_AF(af_dlpack_import(&a, &h->t, NULL, &copied));
    CHECK(!copied);
    dim_t d0, d1, d2, d3;
    CHECK_AF(af_get_dims(&d0, &d1, &d2, &d3, a));
    CHECK(d0 == 3 && d1 == 4 && d2 == 1 && d3 == 1);
    float out[12];
    CHECK_AF(af_get_data_ptr(out, a));
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 4; j++)
            CHECK(out[i + 3 * j] == (float)(i * 4 + j));
    /* A lazy op keeps the buffer alive after the array handle goes. */
    af_array s = 0;
    CHECK_AF(af_add(&s, a, a, false));
    CHECK_AF(af_release_array(a));
    CHECK(deleter_calls == 0);
    CHECK_AF(af_get_data_ptr(out, s));
    CHECK(out[3] == 2.0f); /* (0,1) = 1, doubled */
    CHECK_AF(af_release_array(s));
    CHECK(deleter_calls == 1);
    CHECK(h->deleted == 1);
    free(h);
}

TEST(dlpack_import_negative_strides_and_read_only) {
    need_cpu();
    /* A reversed vector: data + 9 with stride -1 reads 9, 8, ..., 0. */
    int64_t shape[1] = {10}, strides[1] = {-1};
    host_tensor *h = host_f32(1, shape, strides, 10);
    h->t.dl_tensor.byte_offset = 9 * sizeof(float);
    h->t.flags = DLPACK_FLAG_BITMASK_READ_ONLY;
    deleter_calls = 0;
    af_array a = 0;
    CHECK_AF(af_dlpack_import(&a, &h->t, NULL, NULL));
    float out[10];
    CHECK_AF(af_get_data_ptr(out, a));
    for (int i = 0; i < 10; i++)
        CHECK(out[i] == (float)(9 - i));
    /* Read-only: a write copies first and leaves the producer's memory alone. A second handle
     * keeps the producer's buffer alive so its memory can be checked afterwards. */
    af_array keep = 0;
    CHECK_AF(af_retain_array(&keep, a));
    float ones[10] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    CHECK_AF(af_write_array(a, ones, sizeof(ones), afHost));
    CHECK(((float *)h->mem)[0] == 0.0f && ((float *)h->mem)[9] == 9.0f);
    CHECK_AF(af_get_data_ptr(out, a));
    CHECK(out[0] == 1.0f);
    CHECK(deleter_calls == 0);
    CHECK_AF(af_release_array(keep));
    CHECK(deleter_calls == 1); /* the last reference to the producer's memory is gone */
    CHECK_AF(af_release_array(a));
    CHECK(deleter_calls == 1);
    free(h);
}

TEST(dlpack_import_misaligned_copies) {
    need_cpu();
    int64_t shape[1] = {4};
    host_tensor *h = host_f32(1, shape, NULL, 5);
    h->t.dl_tensor.byte_offset = 2; /* not a multiple of 4 */
    deleter_calls = 0;
    af_array a = 0;
    bool copied = false;
    CHECK_AF(af_dlpack_import(&a, &h->t, NULL, &copied));
    CHECK(copied);
    CHECK(deleter_calls == 1); /* the copy is Ember's; the producer is told at once */
    float out[4];
    CHECK_AF(af_get_data_ptr(out, a));
    /* The span started 2 bytes in, so the values are byte-shifted floats: only the count of
     * deleter calls and a clean read matter here. */
    CHECK(deleter_calls == 1);
    CHECK_AF(af_release_array(a));
    CHECK(deleter_calls == 1);
    free(h);
}

TEST(dlpack_import_legacy) {
    need_cpu();
    DLManagedTensor t;
    memset(&t, 0, sizeof(t));
    int64_t shape[1] = {6};
    double *data = malloc(6 * sizeof(double));
    for (int i = 0; i < 6; i++)
        data[i] = i * 1.5;
    t.dl_tensor.data = data;
    t.dl_tensor.device.device_type = kDLCPU;
    t.dl_tensor.ndim = 1;
    t.dl_tensor.dtype = (DLDataType){kDLFloat, 64, 1};
    t.dl_tensor.shape = shape;
    t.manager_ctx = data;
    t.deleter = host_deleter_legacy;
    deleter_calls = 0;
    af_array a = 0, b = 0;
    CHECK_AF(af_dlpack_import_legacy(&a, &t, NULL, NULL));
    CHECK_AF(af_retain_array(&b, a));
    CHECK_AF(af_release_array(a));
    CHECK(deleter_calls == 0);
    double out[6];
    CHECK_AF(af_get_data_ptr(out, b));
    for (int i = 0; i < 6; i++)
        CHECK(out[i] == i * 1.5);
    CHECK_AF(af_release_array(b));
    CHECK(deleter_calls == 1);
}

TEST(dlpack_export_shared_is_read_only) {
    dim_t dims[1] = {8};
    af_array a = 0, b = 0;
    CHECK_AF(af_randu(&a, 1, dims, f32));
    CHECK_AF(af_eval(a));
    CHECK_AF(af_retain_array(&b, a));
    DLManagedTensorVersioned *t = NULL;
    CHECK_AF(af_dlpack_export(&t, a, NULL));
    CHECK((t->flags & DLPACK_FLAG_BITMASK_READ_ONLY) != 0);
    t->deleter(t);
    af_release_array(a);
    af_release_array(b);
}

TEST(dlpack_bad_input) {
    need_cpu();
    dim_t dims[1] = {4};
    af_array a = 0, r = 0;
    CHECK_AF(af_randu(&a, 1, dims, f32));
    DLManagedTensorVersioned *t = NULL;
    CHECK_ERR(af_dlpack_export(NULL, a, NULL), AF_ERR_ARG);
    CHECK_ERR(af_dlpack_export(&t, NULL, NULL), AF_ERR_ARG);
    CHECK_AF(af_release_array(a));
    CHECK_ERR(af_dlpack_export(&t, a, NULL), AF_ERR_INVALID_ARRAY);
    CHECK_ERR(af_dlpack_import(&r, NULL, NULL, NULL), AF_ERR_ARG);
    CHECK_ERR(af_dlpack_import_legacy(&r, NULL, NULL, NULL), AF_ERR_ARG);

    int64_t shape5[5] = {2, 2, 2, 2, 2};
    host_tensor *h = host_f32(5, shape5, NULL, 32);
    deleter_calls = 0;
    CHECK_ERR(af_dlpack_import(NULL, &h->t, NULL, NULL), AF_ERR_ARG);
    CHECK_ERR(af_dlpack_import(&r, &h->t, NULL, NULL), AF_ERR_SIZE); /* 5 dims, none is 1 */
    h->shape[4] = 1;
    h->t.version.major = 2;
    CHECK_ERR(af_dlpack_import(&r, &h->t, NULL, NULL), AF_ERR_NOT_SUPPORTED);
    h->t.version.major = 1;
    h->t.dl_tensor.dtype.lanes = 4;
    CHECK_ERR(af_dlpack_import(&r, &h->t, NULL, NULL), AF_ERR_TYPE);
    h->t.dl_tensor.dtype = (DLDataType){kDLBfloat, 16, 1};
    CHECK_ERR(af_dlpack_import(&r, &h->t, NULL, NULL), AF_ERR_TYPE);
    h->t.dl_tensor.dtype = (DLDataType){kDLFloat, 32, 1};
    h->t.dl_tensor.device.device_type = kDLROCM;
    CHECK_ERR(af_dlpack_import(&r, &h->t, NULL, NULL), AF_ERR_ARG);
    h->t.dl_tensor.device.device_type = kDLCPU;
    h->shape[1] = -2;
    CHECK_ERR(af_dlpack_import(&r, &h->t, NULL, NULL), AF_ERR_SIZE);
    h->shape[1] = 2;
    CHECK(deleter_calls == 0); /* failures leave the tensor to the caller */
    /* A 5-D tensor whose fifth dim is 1 imports as 4-D. */
    CHECK_AF(af_dlpack_import(&r, &h->t, NULL, NULL));
    unsigned nd = 0;
    CHECK_AF(af_get_numdims(&nd, r));
    CHECK(nd == 4);
    CHECK_AF(af_release_array(r));
    CHECK(deleter_calls == 1);
    free(h);
}
