/* array.h: creating, copying, writing and reading arrays of every dtype; handles, reference counts
 * and copy on write; evaluation; the shape and dtype queries; and bad input. The facts come from
 * ArrayFire's src/api/c/array.cpp, handle.cpp and common/ArrayInfo.cpp. */
#include "test.h"

#include <string.h>

/* Shapes used throughout: an odd 4-D shape, an odd vector, a scalar and a row. */
static const dim_t shape_4d[4] = {3, 5, 2, 3};
static const struct {
    unsigned ndims;
    dim_t dims[4];
} shapes[] = {{4, {3, 5, 2, 3}}, {1, {7}}, {1, {1}}, {2, {1, 9}}};
#define NSHAPES (sizeof(shapes) / sizeof(shapes[0]))

static size_t count_of(unsigned ndims, const dim_t *dims) {
    size_t n = 1;
    for (unsigned i = 0; i < ndims; i++)
        n *= (size_t)dims[i];
    return n;
}

static bool is_float_type(af_dtype t) {
    return t == f32 || t == f64 || t == f16 || t == c32 || t == c64;
}

/* Random bytes, so that every bit of every element travels; b8 holds 0 or 1, and float types get
 * NaN, +-inf, 0 and -0 in their first elements (and first imaginary parts). */
static void fill_raw(void *buf, size_t n, af_dtype t) {
    size_t bytes = n * em_test_dtype_size(t);
    unsigned char *p = buf;
    for (size_t i = 0; i < bytes; i++)
        p[i] = (unsigned char)em_test_rand_u64();
    if (t == b8)
        for (size_t i = 0; i < n; i++)
            p[i] &= 1;
    if (is_float_type(t)) {
        double sp[10] = {NAN, 0, INFINITY, -0.0, -INFINITY, NAN, 0.0, 1, -0.0, -2.5};
        size_t k = n < 5 ? n : 5;
        if (t == c32 || t == c64)
            em_test_to_host(sp, k, t, buf);
        else {
            double re[5] = {NAN, INFINITY, -INFINITY, 0.0, -0.0};
            em_test_to_host(re, k, t, buf);
        }
    }
}

static af_array make_raw(const void *buf, unsigned ndims, const dim_t *dims, af_dtype t) {
    af_array a = NULL;
    CHECK_AF(af_create_array(&a, buf, ndims, dims, t));
    return a;
}

/* Reads the array's bytes and compares them with `want`. */
static void check_bytes(af_array a, const void *want, size_t bytes, const char *what) {
    unsigned char *got = malloc(bytes + 1);
    CHECK_AF(af_get_data_ptr(got, a));
    if (memcmp(got, want, bytes) != 0) {
        size_t i = 0;
        while (((const unsigned char *)want)[i] == got[i])
            i++;
        em_test_fail(__FILE__, __LINE__, "%s: byte %zu of %zu differs (got 0x%02x want 0x%02x)",
                     what, i, bytes, got[i], ((const unsigned char *)want)[i]);
    }
    free(got);
}

static void check_dims(af_array a, af_dtype t, const dim_t want[4], const char *what) {
    dim_t d[4] = {-1, -1, -1, -1}, n = -1;
    af_dtype ty = (af_dtype)-1;
    CHECK_AF(af_get_dims(&d[0], &d[1], &d[2], &d[3], a));
    CHECK_AF(af_get_type(&ty, a));
    CHECK_AF(af_get_elements(&n, a));
    if (d[0] != want[0] || d[1] != want[1] || d[2] != want[2] || d[3] != want[3] || ty != t ||
        n != want[0] * want[1] * want[2] * want[3])
        em_test_fail(__FILE__, __LINE__,
                     "%s: got %lldx%lldx%lldx%lld %s (%lld elements), want %lldx%lldx%lldx%lld %s",
                     what, (long long)d[0], (long long)d[1], (long long)d[2], (long long)d[3],
                     em_test_dtype_name(ty), (long long)n, (long long)want[0], (long long)want[1],
                     (long long)want[2], (long long)want[3], em_test_dtype_name(t));
}

static int ref_count(af_array a) {
    int n = -1;
    CHECK_AF(af_get_data_ref_count(&n, a));
    return n;
}

/* A handle that was released: Ember keeps released headers quarantined, so using one is a
 * defined error (AF_ERR_INVALID_ARRAY) rather than a use after free. */
static af_array released_handle(void) {
    af_array a = NULL;
    const dim_t d[1] = {4};
    CHECK_AF(af_create_handle(&a, 1, d, f32));
    CHECK_AF(af_release_array(a));
    return a;
}

/* Creating from host data and reading back, every dtype and shape, bit for bit. */
TEST(array_create_roundtrip_all_dtypes) {
    for (int k = 0; k < EM_TEST_NUM_DTYPES; k++) {
        af_dtype t = em_test_dtypes[k];
        for (size_t s = 0; s < NSHAPES; s++) {
            size_t n = count_of(shapes[s].ndims, shapes[s].dims);
            size_t bytes = n * em_test_dtype_size(t);
            void *buf = malloc(bytes);
            fill_raw(buf, n, t);
            af_array a = make_raw(buf, shapes[s].ndims, shapes[s].dims, t);
            if (!a) {
                free(buf);
                continue;
            }
            dim_t want[4] = {1, 1, 1, 1};
            for (unsigned i = 0; i < shapes[s].ndims; i++)
                want[i] = shapes[s].dims[i];
            char what[64];
            snprintf(what, sizeof(what), "%s shape %zu", em_test_dtype_name(t), s);
            check_dims(a, t, want, what);
            check_bytes(a, buf, bytes, what);
            /* The double view of the same bytes, through the framework's conversion. */
            size_t vals = (t == c32 || t == c64) ? 2 * n : n;
            double *ref = malloc(vals * sizeof(double));
            em_test_from_host(buf, n, t, ref);
            dim_t got_n = 0;
            double *got = em_test_read(a, &got_n);
            CHECK(got_n == (dim_t)n);
            CHECK_CLOSE(got, ref, vals, 0, 0);
            free(got);
            free(ref);
            free(buf);
            CHECK_AF(af_release_array(a));
        }
    }
}

/* em_test_make and em_test_read agree for values every dtype holds exactly. */
TEST(array_make_read_doubles) {
    for (int k = 0; k < EM_TEST_NUM_DTYPES; k++) {
        af_dtype t = em_test_dtypes[k];
        size_t n = count_of(4, shape_4d);
        bool cplx = t == c32 || t == c64;
        double *x = malloc(2 * n * sizeof(double));
        for (size_t i = 0; i < (cplx ? 2 * n : n); i++) {
            double v = (double)(em_test_rand_u64() % 200);
            if (t == b8)
                v = (double)(em_test_rand_u64() & 1);
            else if (t == s8 || t == s16 || t == s32 || t == s64 || is_float_type(t))
                v -= 100;
            x[i] = is_float_type(t) ? v / 4 : v;
        }
        if (is_float_type(t)) {
            x[0] = NAN;
            x[1] = INFINITY;
            x[2] = -INFINITY;
            x[3] = -0.0;
        }
        af_array a = em_test_make(x, 4, shape_4d, t);
        dim_t got_n = 0;
        double *got = a ? em_test_read(a, &got_n) : NULL;
        CHECK(got_n == (dim_t)n);
        CHECK_CLOSE(got, x, cplx ? 2 * n : n, 0, 0);
        free(got);
        free(x);
        af_release_array(a);
    }
}

/* f16 is stored as IEEE binary16 bits, rounded to nearest even. */
TEST(array_f16_bits) {
    static const struct {
        double x;
        uint16_t bits;
    } cases[] = {
        {1.0, 0x3c00},
        {-2.0, 0xc000},
        {65504.0, 0x7bff},
        {65519.0, 0x7bff},
        {65520.0, 0x7c00},
        {1e10, 0x7c00},
        {-1e10, 0xfc00},
        {0x1p-24, 0x0001},
        {0x1p-25, 0x0000},
        {3 * 0x1p-25, 0x0002},
        {0x1p-14, 0x0400},
        {1 + 0x1p-11, 0x3c00},
        {1 + 3 * 0x1p-11, 0x3c02},
        {0.0, 0x0000},
        {-0.0, 0x8000},
        {INFINITY, 0x7c00},
        {-INFINITY, 0xfc00},
        {0.333251953125, 0x3555},
    };
    enum { N = sizeof(cases) / sizeof(cases[0]) };
    double x[N + 1];
    uint16_t want[N + 1];
    for (int i = 0; i < N; i++) {
        x[i] = cases[i].x;
        want[i] = cases[i].bits;
        if (em_test_double_to_half(cases[i].x) != cases[i].bits)
            em_test_fail(__FILE__, __LINE__, "half(%g) = 0x%04x, want 0x%04x", cases[i].x,
                         em_test_double_to_half(cases[i].x), cases[i].bits);
    }
    /* Every non-NaN half survives half -> double -> half. */
    for (uint32_t h = 0; h < 0x10000; h++) {
        double v = em_test_half_to_double((uint16_t)h);
        if (isnan(v)) continue;
        if (em_test_double_to_half(v) != h) {
            em_test_fail(__FILE__, __LINE__, "half 0x%04x -> %g -> 0x%04x", h, v,
                         em_test_double_to_half(v));
            break;
        }
    }
    x[N] = NAN;
    want[N] = 0x7e00;
    const dim_t d[1] = {N + 1};
    af_array a = em_test_make(x, 1, d, f16);
    if (!a) return;
    uint16_t got[N + 1];
    CHECK_AF(af_get_data_ptr(got, a));
    for (int i = 0; i < N; i++)
        if (got[i] != want[i])
            em_test_fail(__FILE__, __LINE__, "f16 element %d (%g): 0x%04x, want 0x%04x", i, x[i],
                         got[i], want[i]);
    CHECK((got[N] & 0x7c00) == 0x7c00 && (got[N] & 0x03ff) != 0); /* a NaN */
    CHECK(em_test_half_to_double(0x3555) == 0.333251953125);
    CHECK(isnan(em_test_half_to_double(0x7e00)));
    CHECK(em_test_half_to_double(0x0001) == 0x1p-24);
    CHECK_AF(af_release_array(a));
}

/* af_create_handle: uninitialised storage of the right shape and type, writable. */
TEST(array_create_handle_all_dtypes) {
    const dim_t d[2] = {4, 3};
    for (int k = 0; k < EM_TEST_NUM_DTYPES; k++) {
        af_dtype t = em_test_dtypes[k];
        af_array a = NULL;
        CHECK_AF(af_create_handle(&a, 2, d, t));
        if (!a) continue;
        check_dims(a, t, (const dim_t[4]){4, 3, 1, 1}, em_test_dtype_name(t));
        size_t bytes = 12 * em_test_dtype_size(t);
        unsigned char buf[12 * 16];
        fill_raw(buf, 12, t);
        CHECK_AF(af_write_array(a, buf, bytes, afHost));
        check_bytes(a, buf, bytes, em_test_dtype_name(t));
        CHECK(ref_count(a) == 1);
        CHECK_AF(af_release_array(a));
    }
}

/* Empty arrays: af_create_handle with ndims 0 (as ArrayFire and its bindings make them) or a zero
 * dim; reading, copying and querying them is fine. */
TEST(array_empty) {
    af_array a = NULL, b = NULL, c = NULL;
    CHECK_AF(af_create_handle(&a, 0, NULL, f32));
    if (a) {
        check_dims(a, f32, (const dim_t[4]){0, 1, 1, 1}, "ndims 0");
        unsigned nd = 9;
        CHECK_AF(af_get_numdims(&nd, a));
        CHECK(nd == 0);
        bool e = false;
        CHECK_AF(af_is_empty(&e, a));
        CHECK(e);
    }
    const dim_t d[3] = {3, 0, 2};
    CHECK_AF(af_create_handle(&b, 3, d, c64));
    if (b) {
        check_dims(b, c64, (const dim_t[4]){3, 0, 2, 1}, "3x0x2");
        double sentinel = 42;
        CHECK_AF(af_get_data_ptr(&sentinel, b));
        CHECK(sentinel == 42);
        CHECK_AF(af_write_array(b, &sentinel, 0, afHost));
        CHECK_AF(af_copy_array(&c, b));
        if (c) check_dims(c, c64, (const dim_t[4]){3, 0, 2, 1}, "copy of 3x0x2");
        CHECK_AF(af_eval(b));
    }
    af_release_array(a);
    af_release_array(b);
    af_release_array(c);
}

/* af_copy_array is deep: equal values, its own buffer, and writes do not cross. */
TEST(array_copy_all_dtypes) {
    size_t n = count_of(4, shape_4d);
    for (int k = 0; k < EM_TEST_NUM_DTYPES; k++) {
        af_dtype t = em_test_dtypes[k];
        size_t bytes = n * em_test_dtype_size(t);
        void *buf = malloc(bytes), *other = malloc(bytes);
        fill_raw(buf, n, t);
        fill_raw(other, n, t);
        af_array a = make_raw(buf, 4, shape_4d, t), b = NULL;
        CHECK_AF(af_copy_array(&b, a));
        if (a && b) {
            CHECK(a != b);
            check_dims(b, t, shape_4d, "copy");
            check_bytes(b, buf, bytes, em_test_dtype_name(t));
            CHECK(ref_count(a) == 1);
            CHECK(ref_count(b) == 1);
            CHECK_AF(af_write_array(b, other, bytes, afHost));
            check_bytes(a, buf, bytes, "original after writing the copy");
            check_bytes(b, other, bytes, "copy after writing it");
        }
        af_release_array(a);
        af_release_array(b);
        free(buf);
        free(other);
    }
}

/* A lazy array (af_constant builds a JIT node) copies, evaluates and reads like any other. */
TEST(array_copy_and_eval_lazy) {
    const dim_t d[3] = {5, 3, 2};
    af_array a = NULL, b = NULL;
    CHECK_AF(af_constant(&a, 2.5, 3, d, f64));
    if (!a) return;
    CHECK_AF(af_copy_array(&b, a));
    CHECK_AF(af_eval(a));
    CHECK_AF(af_eval(a)); /* evaluating twice is a no-op */
    double ref[30];
    for (int i = 0; i < 30; i++)
        ref[i] = 2.5;
    dim_t n = 0;
    double *ga = em_test_read(a, &n);
    CHECK(n == 30);
    CHECK_CLOSE(ga, ref, 30, 0, 0);
    double *gb = b ? em_test_read(b, &n) : NULL;
    CHECK_CLOSE(gb, ref, 30, 0, 0);
    CHECK(ref_count(a) == 1);
    free(ga);
    free(gb);
    af_release_array(a);
    af_release_array(b);
}

/* af_write_array: full, partial (a prefix) and empty writes, from the host and from the device. */
TEST(array_write) {
    size_t n = count_of(4, shape_4d);
    for (int k = 0; k < EM_TEST_NUM_DTYPES; k++) {
        af_dtype t = em_test_dtypes[k];
        size_t es = em_test_dtype_size(t), bytes = n * es;
        unsigned char *orig = malloc(bytes), *next = malloc(bytes), *want = malloc(bytes);
        fill_raw(orig, n, t);
        fill_raw(next, n, t);
        af_array a = make_raw(orig, 4, shape_4d, t);
        if (!a) goto next_type;
        /* A prefix of 7 elements: the rest keeps its values. */
        memcpy(want, orig, bytes);
        memcpy(want, next, 7 * es);
        CHECK_AF(af_write_array(a, next, 7 * es, afHost));
        check_bytes(a, want, bytes, "prefix write");
        CHECK_AF(af_write_array(a, next, 0, afHost));
        check_bytes(a, want, bytes, "empty write");
        CHECK_AF(af_write_array(a, next, bytes, afHost));
        check_bytes(a, next, bytes, "full write");

        /* From device memory: another array's device pointer. */
        af_array src = make_raw(orig, 4, shape_4d, t);
        void *dptr = NULL;
        if (src) CHECK_AF(af_get_device_ptr(&dptr, src));
        if (dptr) {
            CHECK_AF(af_write_array(a, dptr, bytes, afDevice));
            check_bytes(a, orig, bytes, "device write");
            CHECK_AF(af_unlock_array(src));
        }
        af_release_array(src);
        af_release_array(a);
    next_type:
        free(orig);
        free(next);
        free(want);
    }
}

/* Writing into a lazy array evaluates it first; the written prefix replaces the values. */
TEST(array_write_lazy) {
    const dim_t d[1] = {6};
    af_array a = NULL;
    CHECK_AF(af_constant(&a, 3, 1, d, s32));
    if (!a) return;
    int32_t v[2] = {-7, 9};
    CHECK_AF(af_write_array(a, v, sizeof(v), afHost));
    int32_t got[6] = {0};
    CHECK_AF(af_get_data_ptr(got, a));
    CHECK(got[0] == -7 && got[1] == 9 && got[2] == 3 && got[5] == 3);
    af_release_array(a);
}

/* Handles and reference counts: retain shares the buffer, release drops one reference. */
TEST(array_retain_release) {
    const dim_t d[2] = {3, 4};
    float x[12];
    for (int i = 0; i < 12; i++)
        x[i] = (float)i;
    af_array a = make_raw(x, 2, d, f32), b = NULL, c = NULL;
    if (!a) return;
    CHECK(ref_count(a) == 1);
    CHECK_AF(af_retain_array(&b, a));
    CHECK(b != NULL && b != a);
    CHECK(ref_count(a) == 2);
    CHECK(ref_count(b) == 2);
    CHECK_AF(af_retain_array(&c, b));
    CHECK(ref_count(a) == 3);
    check_dims(c, f32, (const dim_t[4]){3, 4, 1, 1}, "retained");
    check_bytes(c, x, sizeof(x), "retained");
    CHECK_AF(af_release_array(a));
    CHECK(ref_count(b) == 2);
    /* The data outlives the handle it was created with. */
    check_bytes(b, x, sizeof(x), "after releasing the first handle");
    CHECK_AF(af_release_array(c));
    CHECK(ref_count(b) == 1);
    CHECK_AF(af_release_array(b));
    /* NULL is accepted as a no-op, as in ArrayFire. */
    CHECK_AF(af_release_array(NULL));
    /* A second release of the same handle is caught. */
    CHECK_ERR(af_release_array(b), AF_ERR_INVALID_ARRAY);
}

/* Copy on write: after retain, writing through one handle leaves the other's values alone, in
 * either direction, and the writer gets a buffer of its own. */
TEST(array_copy_on_write) {
    size_t n = count_of(4, shape_4d);
    for (int k = 0; k < EM_TEST_NUM_DTYPES; k++) {
        af_dtype t = em_test_dtypes[k];
        size_t es = em_test_dtype_size(t), bytes = n * es;
        unsigned char *x = malloc(bytes), *y = malloc(bytes), *want = malloc(bytes);
        fill_raw(x, n, t);
        fill_raw(y, n, t);
        af_array a = make_raw(x, 4, shape_4d, t), b = NULL;
        if (a) CHECK_AF(af_retain_array(&b, a));
        if (b) {
            CHECK_AF(af_write_array(b, y, bytes, afHost));
            check_bytes(a, x, bytes, "retained source after writing the retain");
            check_bytes(b, y, bytes, "written retain");
            CHECK(ref_count(a) == 1);
            CHECK(ref_count(b) == 1);
            af_release_array(b);
            b = NULL;
            /* The other way round, with a partial write: the writer keeps the unwritten part. */
            CHECK_AF(af_retain_array(&b, a));
            CHECK_AF(af_write_array(a, y, 5 * es, afHost));
            memcpy(want, x, bytes);
            memcpy(want, y, 5 * es);
            check_bytes(a, want, bytes, "partially written source");
            check_bytes(b, x, bytes, "retain of a written source");
        }
        af_release_array(a);
        af_release_array(b);
        free(x);
        free(y);
        free(want);
    }
}

/* A moddims view shares the buffer; writing to either side copies first. */
TEST(array_copy_on_write_view) {
    const dim_t d[2] = {4, 3}, flat[1] = {12};
    double x[12], y[12];
    for (int i = 0; i < 12; i++)
        x[i] = i, y[i] = -i - 0.5;
    af_array a = make_raw(x, 2, d, f64), v = NULL;
    if (!a) return;
    CHECK_AF(af_moddims(&v, a, 1, flat));
    if (!v) goto done;
    check_dims(v, f64, (const dim_t[4]){12, 1, 1, 1}, "moddims view");
    CHECK_AF(af_write_array(v, y, sizeof(y), afHost));
    check_bytes(a, x, sizeof(x), "source of a written view");
    check_bytes(v, y, sizeof(y), "written view");
done:
    af_release_array(a);
    af_release_array(v);
}

/* af_eval_multiple: a mix of lazy, evaluated and repeated arrays; an empty list. */
TEST(array_eval_multiple) {
    const dim_t d[2] = {7, 3}, e[1] = {5};
    af_array arr[5] = {NULL};
    CHECK_AF(af_constant(&arr[0], 1.5, 2, d, f32));
    CHECK_AF(af_constant(&arr[1], -4, 2, d, s16));
    CHECK_AF(af_constant(&arr[2], 7, 1, e, u8));
    arr[3] = arr[0]; /* the same array twice */
    float x[5] = {1, 2, 3, 4, 5};
    arr[4] = make_raw(x, 1, e, f32);
    for (int i = 0; i < 5; i++)
        if (!arr[i]) goto done;
    CHECK_AF(af_eval_multiple(5, arr));
    float g0[21];
    int16_t g1[21];
    uint8_t g2[5];
    CHECK_AF(af_get_data_ptr(g0, arr[0]));
    CHECK_AF(af_get_data_ptr(g1, arr[1]));
    CHECK_AF(af_get_data_ptr(g2, arr[2]));
    for (int i = 0; i < 21; i++)
        if (g0[i] != 1.5f || g1[i] != -4) {
            em_test_fail(__FILE__, __LINE__, "element %d: %g %d", i, g0[i], g1[i]);
            break;
        }
    CHECK(g2[0] == 7 && g2[4] == 7);
    check_bytes(arr[4], x, sizeof(x), "evaluated member");
    CHECK_AF(af_eval_multiple(0, NULL));
done:
    af_release_array(arr[0]);
    af_release_array(arr[1]);
    af_release_array(arr[2]);
    af_release_array(arr[4]);
}

/* The manual-eval flag reads back what was set; arrays still evaluate when read. */
TEST(array_manual_eval_flag) {
    bool flag = true;
    CHECK_AF(af_get_manual_eval_flag(&flag));
    CHECK(flag == false); /* ArrayFire's default */
    CHECK_AF(af_set_manual_eval_flag(true));
    CHECK_AF(af_get_manual_eval_flag(&flag));
    CHECK(flag == true);
    const dim_t d[1] = {9};
    af_array a = NULL;
    CHECK_AF(af_constant(&a, 6, 1, d, s64));
    if (a) {
        int64_t g[9];
        CHECK_AF(af_get_data_ptr(g, a));
        CHECK(g[0] == 6 && g[8] == 6);
        CHECK_AF(af_eval(a));
    }
    af_release_array(a);
    CHECK_AF(af_set_manual_eval_flag(false));
    CHECK_AF(af_get_manual_eval_flag(&flag));
    CHECK(flag == false);
    CHECK_ERR(af_get_manual_eval_flag(NULL), AF_ERR_ARG);
}

/* Shape queries and the shape predicates, with ArrayFire's definitions: a row is 1xN with N > 1,
 * a column Nx1 with N > 1, a vector has exactly one dim other than 1 and that dim is not 0. */
TEST(array_shape_queries) {
    static const struct {
        dim_t d[4];
        unsigned ndims;
        bool empty, scalar, row, column, vector;
    } cases[] = {
        {{0, 1, 1, 1}, 0, true, false, false, false, false},
        {{1, 0, 1, 1}, 0, true, false, false, false, false},
        {{3, 0, 2, 1}, 0, true, false, false, false, false},
        {{1, 1, 1, 1}, 1, false, true, false, false, false},
        {{1, 5, 1, 1}, 2, false, false, true, false, true},
        {{5, 1, 1, 1}, 1, false, false, false, true, true},
        {{1, 1, 5, 1}, 3, false, false, false, false, true},
        {{1, 1, 1, 5}, 4, false, false, false, false, true},
        {{2, 3, 1, 1}, 2, false, false, false, false, false},
        {{2, 3, 4, 5}, 4, false, false, false, false, false},
        {{1, 3, 1, 2}, 4, false, false, false, false, false},
        {{4, 1, 1, 2}, 4, false, false, false, false, false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        af_array a = NULL;
        CHECK_AF(af_create_handle(&a, 4, cases[i].d, s32));
        if (!a) continue;
        unsigned nd = 99;
        bool e, s, r, c, v;
        CHECK_AF(af_get_numdims(&nd, a));
        CHECK_AF(af_is_empty(&e, a));
        CHECK_AF(af_is_scalar(&s, a));
        CHECK_AF(af_is_row(&r, a));
        CHECK_AF(af_is_column(&c, a));
        CHECK_AF(af_is_vector(&v, a));
        check_dims(a, s32, cases[i].d, "shape");
        if (nd != cases[i].ndims || e != cases[i].empty || s != cases[i].scalar ||
            r != cases[i].row || c != cases[i].column || v != cases[i].vector)
            em_test_fail(__FILE__, __LINE__,
                         "%lldx%lldx%lldx%lld: numdims %u empty %d scalar %d row %d column %d "
                         "vector %d; want %u %d %d %d %d %d",
                         (long long)cases[i].d[0], (long long)cases[i].d[1],
                         (long long)cases[i].d[2], (long long)cases[i].d[3], nd, e, s, r, c, v,
                         cases[i].ndims, cases[i].empty, cases[i].scalar, cases[i].row,
                         cases[i].column, cases[i].vector);
        af_release_array(a);
    }
}

/* The dtype predicates for every dtype. */
TEST(array_dtype_predicates) {
    const dim_t d[1] = {2};
    for (int k = 0; k < EM_TEST_NUM_DTYPES; k++) {
        af_dtype t = em_test_dtypes[k];
        af_array a = NULL;
        CHECK_AF(af_create_handle(&a, 1, d, t));
        if (!a) continue;
        bool cplx = t == c32 || t == c64;
        bool realf = t == f32 || t == f64 || t == f16;
        bool integer = t == s32 || t == u32 || t == u8 || t == s64 || t == u64 || t == s16 ||
                       t == u16 || t == s8;
        struct {
            const char *name;
            af_err (*fn)(bool *, const af_array);
            bool want;
        } preds[] = {
            {"complex", af_is_complex, cplx},
            {"real", af_is_real, !cplx},
            {"double", af_is_double, t == f64 || t == c64},
            {"single", af_is_single, t == f32 || t == c32},
            {"half", af_is_half, t == f16},
            {"realfloating", af_is_realfloating, realf},
            {"floating", af_is_floating, realf || cplx},
            {"integer", af_is_integer, integer},
            {"bool", af_is_bool, t == b8},
            {"sparse", af_is_sparse, false},
        };
        for (size_t p = 0; p < sizeof(preds) / sizeof(preds[0]); p++) {
            bool got = !preds[p].want;
            CHECK_AF(preds[p].fn(&got, a));
            if (got != preds[p].want)
                em_test_fail(__FILE__, __LINE__, "af_is_%s(%s) = %d", preds[p].name,
                             em_test_dtype_name(t), got);
            CHECK_ERR(preds[p].fn(NULL, a), AF_ERR_ARG);
        }
        af_release_array(a);
    }
}

/* af_get_scalar: the first element, of any dtype, of an evaluated or a lazy array. */
TEST(array_get_scalar) {
    const dim_t one[1] = {1};
    for (int k = 0; k < EM_TEST_NUM_DTYPES; k++) {
        af_dtype t = em_test_dtypes[k];
        size_t es = em_test_dtype_size(t);
        unsigned char x[16 * 7], got[32];
        fill_raw(x, 7, t);
        af_array a = make_raw(x, 1, one, t);
        if (a) {
            memset(got, 0xa5, sizeof(got));
            CHECK_AF(af_get_scalar(got, a));
            if (memcmp(got, x, es) != 0)
                em_test_fail(__FILE__, __LINE__, "%s scalar differs", em_test_dtype_name(t));
            if (got[es] != 0xa5)
                em_test_fail(__FILE__, __LINE__, "%s: af_get_scalar wrote past the element",
                             em_test_dtype_name(t));
            af_release_array(a);
        }
        /* Several elements: the first one, as ArrayFire reads it. */
        const dim_t six[2] = {2, 3};
        a = make_raw(x + es, 2, six, t);
        if (a) {
            CHECK_AF(af_get_scalar(got, a));
            if (memcmp(got, x + es, es) != 0)
                em_test_fail(__FILE__, __LINE__, "%s first element differs", em_test_dtype_name(t));
            af_release_array(a);
        }
    }
    af_array c = NULL;
    CHECK_AF(af_constant(&c, -3.25, 1, one, f32));
    if (c) {
        float v = 0;
        CHECK_AF(af_get_scalar(&v, c));
        CHECK(v == -3.25f);
        CHECK_ERR(af_get_scalar(NULL, c), AF_ERR_ARG);
        af_release_array(c);
    }
    af_array e = NULL;
    CHECK_AF(af_create_handle(&e, 0, NULL, f32));
    if (e) {
        float v = 7;
        CHECK_ERR(af_get_scalar(&v, e), AF_ERR_SIZE);
        CHECK(v == 7);
        af_release_array(e);
    }
}

/* Creation with bad arguments fails with the right code, a message naming the function, and no
 * output written. */
TEST(array_bad_create) {
    static int marker;
    af_array a = (af_array)&marker;
    const float x[4] = {1, 2, 3, 4};
    const dim_t d[4] = {2, 2, 1, 1};
    const dim_t neg[2] = {2, -1};
    const dim_t huge[2] = {(dim_t)1 << 40, (dim_t)1 << 40};
    const dim_t wide[2] = {INT64_MAX, 2};

    CHECK_ERR(af_create_array(NULL, x, 2, d, f32), AF_ERR_ARG);
    CHECK_ERR(af_create_array(&a, x, 0, d, f32), AF_ERR_ARG);
    CHECK_ERR(af_create_array(&a, x, 5, d, f32), AF_ERR_ARG);
    CHECK_ERR(af_create_array(&a, x, 2, NULL, f32), AF_ERR_ARG);
    CHECK_ERR(af_create_array(&a, x, 2, neg, f32), AF_ERR_SIZE);
    CHECK_ERR(af_create_array(&a, x, 2, huge, f32), AF_ERR_SIZE);
    CHECK_ERR(af_create_array(&a, x, 2, wide, f32), AF_ERR_SIZE);
    CHECK_ERR(af_create_array(&a, x, 2, d, (af_dtype)14), AF_ERR_TYPE);
    CHECK_ERR(af_create_array(&a, x, 2, d, (af_dtype)-1), AF_ERR_TYPE);
    CHECK_ERR(af_create_array(&a, NULL, 2, d, f32), AF_ERR_ARG);
    CHECK(a == (af_array)&marker);

    CHECK_ERR(af_create_handle(NULL, 2, d, f32), AF_ERR_ARG);
    CHECK_ERR(af_create_handle(&a, 5, d, f32), AF_ERR_ARG);
    CHECK_ERR(af_create_handle(&a, 2, NULL, f32), AF_ERR_ARG);
    CHECK_ERR(af_create_handle(&a, 2, neg, f32), AF_ERR_SIZE);
    CHECK_ERR(af_create_handle(&a, 2, huge, f32), AF_ERR_SIZE);
    CHECK_ERR(af_create_handle(&a, 2, wide, u8), AF_ERR_SIZE);
    CHECK_ERR(af_create_handle(&a, 2, d, (af_dtype)99), AF_ERR_TYPE);
    CHECK(a == (af_array)&marker);

#if !defined(__SANITIZE_ADDRESS__)
    /* Valid but impossible to allocate (2^48 bytes): out of memory, and the library goes on. */
    const dim_t big[1] = {(dim_t)1 << 45};
    CHECK_ERR(af_create_handle(&a, 1, big, f64), AF_ERR_NO_MEM);
    CHECK(a == (af_array)&marker);
#endif
    af_array ok = NULL;
    CHECK_AF(af_create_array(&ok, x, 2, d, f32));
    if (ok) check_bytes(ok, x, sizeof(x), "array created after the failures");
    af_release_array(ok);
}

/* NULL, released and foreign handles, and NULL outputs, across array.h. */
TEST(array_bad_handles) {
    static int marker;
    static uint64_t foreign[32]; /* zeros: not an array */
    af_array dead = released_handle();
    af_array bad[3] = {NULL, dead, (af_array)foreign};
    af_err want[3] = {AF_ERR_ARG, AF_ERR_INVALID_ARRAY, AF_ERR_INVALID_ARRAY};
    for (int i = 0; i < 3; i++) {
        af_array h = bad[i], out = (af_array)&marker;
        af_err w = want[i];
        float buf[4];
        int cnt = -5;
        dim_t e = -5, d0, d1, d2, d3;
        af_dtype t;
        unsigned nd;
        bool r;
        CHECK_ERR(af_copy_array(&out, h), w);
        CHECK_ERR(af_retain_array(&out, h), w);
        CHECK(out == (af_array)&marker);
        CHECK_ERR(af_write_array(h, buf, sizeof(buf), afHost), w);
        CHECK_ERR(af_get_data_ptr(buf, h), w);
        CHECK_ERR(af_get_data_ref_count(&cnt, h), w);
        CHECK(cnt == -5);
        CHECK_ERR(af_eval(h), w);
        CHECK_ERR(af_eval_multiple(1, &h), w);
        CHECK_ERR(af_get_elements(&e, h), w);
        CHECK(e == -5);
        CHECK_ERR(af_get_type(&t, h), w);
        CHECK_ERR(af_get_dims(&d0, &d1, &d2, &d3, h), w);
        CHECK_ERR(af_get_numdims(&nd, h), w);
        CHECK_ERR(af_is_empty(&r, h), w);
        CHECK_ERR(af_is_vector(&r, h), w);
        CHECK_ERR(af_is_bool(&r, h), w);
        CHECK_ERR(af_get_scalar(buf, h), w);
        if (h) CHECK_ERR(af_release_array(h), w);
    }

    /* NULL outputs on a good array. */
    const dim_t d[1] = {4};
    af_array a = NULL;
    CHECK_AF(af_create_handle(&a, 1, d, f32));
    if (!a) return;
    dim_t x;
    CHECK_ERR(af_copy_array(NULL, a), AF_ERR_ARG);
    CHECK_ERR(af_retain_array(NULL, a), AF_ERR_ARG);
    CHECK_ERR(af_get_data_ptr(NULL, a), AF_ERR_ARG);
    CHECK_ERR(af_get_data_ref_count(NULL, a), AF_ERR_ARG);
    CHECK_ERR(af_get_elements(NULL, a), AF_ERR_ARG);
    CHECK_ERR(af_get_type(NULL, a), AF_ERR_ARG);
    CHECK_ERR(af_get_dims(NULL, &x, &x, &x, a), AF_ERR_ARG);
    CHECK_ERR(af_get_dims(&x, &x, &x, NULL, a), AF_ERR_ARG);
    CHECK_ERR(af_get_numdims(NULL, a), AF_ERR_ARG);
    CHECK_ERR(af_eval_multiple(-1, &a), AF_ERR_ARG);
    CHECK_ERR(af_eval_multiple(2, NULL), AF_ERR_ARG);
    af_array pair[2] = {a, dead};
    CHECK_ERR(af_eval_multiple(2, pair), AF_ERR_INVALID_ARRAY);
    af_release_array(a);
}

/* af_write_array's own checks: size, source and data. */
TEST(array_bad_write) {
    const dim_t d[1] = {4};
    float x[5] = {1, 2, 3, 4, 5};
    af_array a = make_raw(x, 1, d, f32);
    if (!a) return;
    CHECK_ERR(af_write_array(a, x, sizeof(float) * 5, afHost), AF_ERR_SIZE);
    CHECK_ERR(af_write_array(a, x, (size_t)-1, afHost), AF_ERR_SIZE);
    CHECK_ERR(af_write_array(a, NULL, sizeof(float), afHost), AF_ERR_ARG);
    CHECK_ERR(af_write_array(a, x, sizeof(float), (af_source)2), AF_ERR_ARG);
    CHECK_ERR(af_write_array(a, x, sizeof(float), (af_source)-1), AF_ERR_ARG);
    /* Nothing was written by the failed calls. */
    check_bytes(a, x, 4 * sizeof(float), "after failed writes");
    af_release_array(a);
}

/* em_test_make's conversions where C leaves them undefined: float overflow is infinity, integers
 * truncate toward zero and saturate, NaN becomes 0, and b8 is x != 0. */
TEST(array_make_converts_out_of_range) {
    static const struct {
        af_dtype t;
        double x[5], want[5];
    } cases[] = {
        {f32,
         {1e300, -1e300, 3.4028234663852886e38, 1e-50, -1e-50},
         {INFINITY, -INFINITY, 3.4028234663852886e38, 0, -0.0}},
        {s8, {300, -300, NAN, 2.9, -2.9}, {127, -128, 0, 2, -2}},
        {u8, {-5, 256.7, NAN, 255.9, 0.5}, {0, 255, 0, 255, 0}},
        {s32,
         {1e10, -1e10, INFINITY, -INFINITY, -7.5},
         {2147483647, -2147483648.0, 2147483647, -2147483648.0, -7}},
        {u64, {-1, 1e30, 0x1p63, NAN, 12.25}, {0, 18446744073709551615.0, 0x1p63, 0, 12}},
        {b8, {0, -0.0, 2, NAN, -1}, {0, 0, 1, 1, 1}},
    };
    const dim_t d[1] = {5};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        af_array a = em_test_make(cases[i].x, 1, d, cases[i].t);
        dim_t n = 0;
        double *got = a ? em_test_read(a, &n) : NULL;
        CHECK(n == 5);
        CHECK_CLOSE(got, cases[i].want, 5, 0, 0);
        free(got);
        af_release_array(a);
    }
}
