/* internal.h: af_create_strided_array (host and device memory), af_get_strides, af_get_offset,
 * af_get_raw_ptr, af_is_linear, af_is_owner and af_get_allocated_bytes, on dense arrays, views,
 * lazy arrays and strided arrays, for every dtype, with the errors of bad arguments. */
#include "test.h"

#include <string.h>

static size_t tsize(af_dtype t) {
    static const size_t sz[] = {4, 8, 8, 16, 1, 4, 4, 1, 8, 8, 2, 2, 2, 1};
    return sz[t];
}

/* A strided array over host data, every dtype: the elements read back are those the strides and
 * offset select, and the layout queries answer what was given. */
TEST(internal_strided_host) {
    for (int t = 0; t < EM_TEST_NUM_DTYPES; t++) {
        af_dtype ty = em_test_dtypes[t];
        size_t es = tsize(ty);
        /* 3 x 4 x 2 elements in a buffer with row pitch 5 and slice pitch 23, from offset 2. */
        const dim_t dims[3] = {3, 4, 2}, strides[3] = {1, 5, 23}, offset = 2;
        size_t reach = (size_t)(offset + 2 * 1 + 3 * 5 + 1 * 23 + 1);
        uint8_t *data = malloc(reach * es);
        for (size_t k = 0; k < reach * es; k++)
            data[k] = (uint8_t)(k * 7 + 3);
        if (ty == b8)
            for (size_t k = 0; k < reach; k++)
                data[k] &= 1;
        if (ty == f16) /* no NaN patterns: the read goes through the JIT (float) */
            for (size_t k = 0; k < reach; k++)
                data[2 * k + 1] &= 0x3f;
        if (ty == f32 || ty == c32)
            for (size_t k = 0; k < reach * es / 4; k++)
                data[4 * k + 3] &= 0x3f;
        if (ty == f64 || ty == c64)
            for (size_t k = 0; k < reach * es / 8; k++)
                data[8 * k + 7] &= 0x3f;
        af_array a = 0;
        CHECK_AF(af_create_strided_array(&a, data, offset, 3, dims, strides, ty, afHost));
        dim_t s[4], off = -1;
        CHECK_AF(af_get_strides(&s[0], &s[1], &s[2], &s[3], a));
        CHECK(s[0] == 1 && s[1] == 5 && s[2] == 23 && s[3] == 46);
        CHECK_AF(af_get_offset(&off, a));
        CHECK(off == offset);
        bool lin = true, own = true;
        CHECK_AF(af_is_linear(&lin, a));
        CHECK(!lin);
        CHECK_AF(af_is_owner(&own, a));
        CHECK(!own); /* a strided array with gaps is not its whole buffer (Ember's rule) */
        uint8_t *got = malloc(24 * es), *ref = malloc(24 * es);
        size_t k = 0;
        for (dim_t c2 = 0; c2 < 2; c2++)
            for (dim_t c1 = 0; c1 < 4; c1++)
                for (dim_t c0 = 0; c0 < 3; c0++)
                    memcpy(ref + es * k++, data + es * (size_t)(offset + c0 + 5 * c1 + 23 * c2),
                           es);
        CHECK_AF(af_get_data_ptr(got, a));
        if (memcmp(got, ref, 24 * es) != 0)
            em_test_fail(__FILE__, __LINE__, "strided host array (%s) reads wrong values",
                         em_test_dtype_name(ty));
        /* The raw pointer is the buffer's start, before the offset; the allocation holds at
         * least the reach. */
        void *raw = NULL;
        size_t bytes = 0;
        CHECK_AF(af_get_raw_ptr(&raw, a));
        CHECK(raw != NULL);
        CHECK_AF(af_get_allocated_bytes(&bytes, a));
        CHECK(bytes >= reach * es);
        if (em_test_backend() == AF_BACKEND_CPU)
            CHECK(memcmp((uint8_t *)raw + offset * es, data + offset * es, es) == 0);
        free(got);
        free(ref);
        free(data);
        af_release_array(a);
    }
}

/* A strided array over device memory wraps it (no copy): memory from af_alloc_device stays the
 * manager's, so it is freed with af_free_device after the array. */
TEST(internal_strided_device) {
    void *mem = NULL;
    float h[16];
    for (int k = 0; k < 16; k++)
        h[k] = (float)k;
    CHECK_AF(af_alloc_device(&mem, sizeof(h)));
    af_array w = 0;
    const dim_t wd[1] = {16};
    CHECK_AF(af_device_array(&w, mem, 1, wd, f32));
    CHECK_AF(af_write_array(w, h, sizeof(h), afHost));
    af_array a = 0;
    const dim_t dims[2] = {2, 3}, strides[2] = {1, 4};
    CHECK_AF(af_create_strided_array(&a, mem, 1, 2, dims, strides, f32, afDevice));
    void *raw = NULL;
    CHECK_AF(af_get_raw_ptr(&raw, a));
    CHECK(raw == mem);
    float got[6], ref[6] = {1, 2, 5, 6, 9, 10};
    CHECK_AF(af_get_data_ptr(got, a));
    CHECK(memcmp(got, ref, sizeof(ref)) == 0);
    size_t bytes = 0;
    CHECK_AF(af_get_allocated_bytes(&bytes, a));
    CHECK(bytes == (size_t)(1 + 1 + 2 * 4 + 1) * sizeof(float));
    af_release_array(a);
    af_release_array(w);
    CHECK_AF(af_free_device(mem));
}

/* The queries on dense, lazy, view and empty arrays. */
TEST(internal_queries) {
    dim_t d[4] = {5, 4, 3, 1};
    af_array a = 0, lz = 0, v = 0, two = 0, e = 0;
    CHECK_AF(af_randu(&a, 3, d, f32));
    dim_t s[4], off = -1;
    CHECK_AF(af_get_strides(&s[0], &s[1], &s[2], &s[3], a));
    CHECK(s[0] == 1 && s[1] == 5 && s[2] == 20 && s[3] == 60);
    CHECK_AF(af_get_offset(&off, a));
    CHECK(off == 0);
    bool lin = false, own = false;
    CHECK_AF(af_is_linear(&lin, a));
    CHECK(lin);
    CHECK_AF(af_is_owner(&own, a));
    CHECK(own);
    size_t bytes = 0;
    CHECK_AF(af_get_allocated_bytes(&bytes, a));
    CHECK(bytes >= 60 * sizeof(float));
    /* Lazy: dense strides, owner, nothing allocated yet; af_get_raw_ptr evaluates it. */
    CHECK_AF(af_constant(&two, 2, 3, d, f32));
    CHECK_AF(af_mul(&lz, a, two, false));
    CHECK_AF(af_get_strides(&s[0], &s[1], &s[2], &s[3], lz));
    CHECK(s[0] == 1 && s[1] == 5 && s[2] == 20 && s[3] == 60);
    CHECK_AF(af_is_owner(&own, lz));
    CHECK(own);
    CHECK_AF(af_get_allocated_bytes(&bytes, lz));
    CHECK(bytes == 0);
    void *raw = NULL;
    CHECK_AF(af_get_raw_ptr(&raw, lz));
    CHECK(raw != NULL);
    CHECK_AF(af_get_allocated_bytes(&bytes, lz));
    CHECK(bytes >= 60 * sizeof(float));
    /* A view: the parent's pointer and allocation, its own strides and offset. */
    af_seq sq[3] = {af_make_seq(1, 3, 2), af_make_seq(3, 0, -1), af_make_seq(2, 2, 1)};
    CHECK_AF(af_index(&v, a, 3, sq));
    CHECK_AF(af_get_strides(&s[0], &s[1], &s[2], &s[3], v));
    CHECK(s[0] == 2 && s[1] == -5 && s[2] == 20 && s[3] == 60);
    CHECK_AF(af_get_offset(&off, v));
    CHECK(off == 1 + 3 * 5 + 2 * 20);
    CHECK_AF(af_is_linear(&lin, v));
    CHECK(!lin);
    CHECK_AF(af_is_owner(&own, v));
    CHECK(!own);
    void *pa = NULL, *pv = NULL;
    CHECK_AF(af_get_raw_ptr(&pa, a));
    CHECK_AF(af_get_raw_ptr(&pv, v));
    CHECK(pa == pv);
    size_t ba = 0, bv = 0;
    CHECK_AF(af_get_allocated_bytes(&ba, a));
    CHECK_AF(af_get_allocated_bytes(&bv, v));
    CHECK(ba == bv);
    /* A column view is linear (ArrayFire's rule: a 1-D array with stride 1). */
    af_array col = 0;
    af_seq sc[3] = {af_span, af_make_seq(2, 2, 1), af_make_seq(1, 1, 1)};
    CHECK_AF(af_index(&col, a, 3, sc));
    CHECK_AF(af_is_linear(&lin, col));
    CHECK(lin);
    CHECK_AF(af_get_offset(&off, col));
    CHECK(off == 2 * 5 + 20);
    af_release_array(col);
    /* Empty. */
    dim_t ed[4] = {0, 1, 1, 1};
    CHECK_AF(af_create_handle(&e, 1, ed, u8));
    CHECK_AF(af_is_linear(&lin, e));
    CHECK(lin);
    /* Bad arguments. */
    CHECK_ERR(af_get_strides(NULL, &s[1], &s[2], &s[3], a), AF_ERR_ARG);
    CHECK_ERR(af_get_strides(&s[0], &s[1], &s[2], &s[3], NULL), AF_ERR_ARG);
    CHECK_ERR(af_get_offset(NULL, a), AF_ERR_ARG);
    CHECK_ERR(af_get_raw_ptr(NULL, a), AF_ERR_ARG);
    CHECK_ERR(af_is_linear(NULL, a), AF_ERR_ARG);
    CHECK_ERR(af_is_owner(&own, NULL), AF_ERR_ARG);
    CHECK_ERR(af_get_allocated_bytes(NULL, a), AF_ERR_ARG);
    af_release_array(e);
    af_release_array(v);
    af_release_array(lz);
    af_release_array(two);
    af_release_array(a);
}

TEST(internal_strided_errors) {
    float h[64] = {0};
    const dim_t dims[2] = {2, 3}, good[2] = {1, 4}, bad0[2] = {2, 4}, bad1[2] = {1, 0};
    af_array a = 0;
    CHECK_ERR(af_create_strided_array(NULL, h, 0, 2, dims, good, f32, afHost), AF_ERR_ARG);
    CHECK_ERR(af_create_strided_array(&a, h, -1, 2, dims, good, f32, afHost), AF_ERR_ARG);
    CHECK_ERR(af_create_strided_array(&a, h, 0, 0, dims, good, f32, afHost), AF_ERR_ARG);
    CHECK_ERR(af_create_strided_array(&a, h, 0, 5, dims, good, f32, afHost), AF_ERR_ARG);
    CHECK_ERR(af_create_strided_array(&a, h, 0, 2, NULL, good, f32, afHost), AF_ERR_ARG);
    CHECK_ERR(af_create_strided_array(&a, h, 0, 2, dims, NULL, f32, afHost), AF_ERR_ARG);
    CHECK_ERR(af_create_strided_array(&a, h, 0, 2, dims, bad0, f32, afHost), AF_ERR_ARG);
    CHECK_ERR(af_create_strided_array(&a, h, 0, 2, dims, bad1, f32, afHost), AF_ERR_ARG);
    CHECK_ERR(af_create_strided_array(&a, h, 0, 2, dims, good, (af_dtype)99, afHost), AF_ERR_TYPE);
    CHECK_ERR(af_create_strided_array(&a, h, 0, 2, dims, good, f32, (af_source)7), AF_ERR_ARG);
    CHECK_ERR(af_create_strided_array(&a, NULL, 0, 2, dims, good, f32, afHost), AF_ERR_ARG);
    const dim_t neg[2] = {-1, 3};
    CHECK_ERR(af_create_strided_array(&a, h, 0, 2, neg, good, f32, afHost), AF_ERR_SIZE);
    const dim_t huge[2] = {1 << 20, 3}, hs[2] = {1, (dim_t)1 << 47};
    CHECK_ERR(af_create_strided_array(&a, h, 0, 2, huge, hs, f32, afHost), AF_ERR_SIZE);
    CHECK(a == 0);
    /* Empty dims need no data. */
    const dim_t zero[2] = {0, 3};
    CHECK_AF(af_create_strided_array(&a, NULL, 0, 2, zero, good, f32, afHost));
    dim_t n = -1;
    CHECK_AF(af_get_elements(&n, a));
    CHECK(n == 0);
    af_release_array(a);
}
