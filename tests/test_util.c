/* Tests for util.h (printing, version, sizes) and exception.h (last error, error strings).
 *
 * The printed text is checked two ways: exact strings for small hand-worked cases, and, for random
 * values with NaN and infinities in odd and 4-D shapes of every dtype, against a reference
 * formatter written here from ArrayFire's layout rules. */
#include "test.h"

#include <pthread.h>
#include <string.h>
#include <unistd.h>

static const af_dtype all_types[] = {f32, c32, f64, c64, b8,  s32, u32,
                                     u8,  s64, u64, s16, u16, f16, s8};
#define NUM_TYPES (sizeof(all_types) / sizeof(all_types[0]))

static char *to_string(af_array a, const char *name, int precision, bool transpose) {
    char *s = NULL;
    CHECK_AF(af_array_to_string(&s, name, a, precision, transpose));
    return s;
}

static void check_text(af_array a, const char *name, int precision, bool transpose,
                       const char *expect) {
    char *s = to_string(a, name, precision, transpose);
    if (!s || strcmp(s, expect) != 0)
        em_test_fail(__FILE__, __LINE__, "text mismatch:\n--- got ---\n%s--- expected ---\n%s",
                     s ? s : "(null)", expect);
    af_free_host(s);
}

static af_array make(const void *x, unsigned ndims, const dim_t *dims, af_dtype type) {
    af_array a = NULL;
    CHECK_AF(af_create_array(&a, x, ndims, dims, type));
    return a;
}

/* ---- version, sizes, errors ---- */

TEST(util_version_revision) {
    int major = 0, minor = 0, patch = -1;
    CHECK_AF(af_get_version(&major, &minor, &patch));
    CHECK(major == 3 && minor == 10 && patch == 0);
    CHECK_ERR(af_get_version(NULL, &minor, &patch), AF_ERR_ARG);
    CHECK_ERR(af_get_version(&major, NULL, &patch), AF_ERR_ARG);
    CHECK_ERR(af_get_version(&major, &minor, NULL), AF_ERR_ARG);
    const char *rev = af_get_revision();
    CHECK(rev != NULL && rev[0] != 0);
    CHECK_AF(af_set_enable_stacktrace(0));
    CHECK_AF(af_set_enable_stacktrace(1));
}

TEST(util_size_of_every_dtype) {
    const size_t expect[NUM_TYPES] = {4, 8, 8, 16, 1, 4, 4, 1, 8, 8, 2, 2, 2, 1};
    for (size_t i = 0; i < NUM_TYPES; i++) {
        size_t sz = 0;
        CHECK_AF(af_get_size_of(&sz, all_types[i]));
        CHECK(sz == expect[i]);
    }
    size_t sz = 12345;
    CHECK_ERR(af_get_size_of(&sz, (af_dtype)-1), AF_ERR_TYPE);
    CHECK_ERR(af_get_size_of(&sz, (af_dtype)14), AF_ERR_TYPE);
    CHECK_ERR(af_get_size_of(&sz, (af_dtype)1000), AF_ERR_TYPE);
    CHECK(sz == 12345); /* no output on failure */
    CHECK_ERR(af_get_size_of(NULL, f32), AF_ERR_ARG);
}

TEST(util_example_function) {
    dim_t d[1] = {3};
    af_array a = NULL, out = NULL;
    CHECK_AF(af_create_handle(&a, 1, d, f32));
    CHECK_ERR(af_example_function(&out, a, AF_ID), AF_ERR_NOT_SUPPORTED);
    CHECK(out == NULL);
    CHECK_ERR(af_example_function(NULL, a, AF_ID), AF_ERR_ARG);
    CHECK_ERR(af_example_function(&out, NULL, AF_ID), AF_ERR_ARG);
    CHECK_AF(af_release_array(a));
}

TEST(error_strings) {
    const af_err codes[] = {AF_SUCCESS,
                            AF_ERR_NO_MEM,
                            AF_ERR_DRIVER,
                            AF_ERR_RUNTIME,
                            AF_ERR_INVALID_ARRAY,
                            AF_ERR_ARG,
                            AF_ERR_SIZE,
                            AF_ERR_TYPE,
                            AF_ERR_DIFF_TYPE,
                            AF_ERR_BATCH,
                            AF_ERR_DEVICE,
                            AF_ERR_NOT_SUPPORTED,
                            AF_ERR_NOT_CONFIGURED,
                            AF_ERR_NONFREE,
                            AF_ERR_NO_DBL,
                            AF_ERR_NO_GFX,
                            AF_ERR_NO_HALF,
                            AF_ERR_LOAD_LIB,
                            AF_ERR_LOAD_SYM,
                            AF_ERR_ARR_BKND_MISMATCH,
                            AF_ERR_INTERNAL,
                            AF_ERR_UNKNOWN};
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        const char *s = af_err_to_string(codes[i]);
        CHECK(s != NULL && s[0] != 0);
        /* Distinct codes, distinct texts. */
        for (size_t j = 0; j < i; j++)
            CHECK(strcmp(s, af_err_to_string(codes[j])) != 0);
    }
    CHECK(strcmp(af_err_to_string(AF_SUCCESS), "Success") == 0);
    CHECK(strcmp(af_err_to_string((af_err)12345), af_err_to_string(AF_ERR_UNKNOWN)) == 0);
}

TEST(error_last_message) {
    /* Clear whatever came before. */
    char *msg = NULL;
    dim_t len = -1;
    af_get_last_error(&msg, &len);
    af_free_host(msg);

    CHECK(af_get_version(NULL, NULL, NULL) == AF_ERR_ARG);
    msg = NULL;
    len = -1;
    af_get_last_error(&msg, &len);
    CHECK(msg != NULL);
    if (msg) {
        CHECK(strstr(msg, "af_get_version") != NULL);
        CHECK(len == (dim_t)strlen(msg));
    }
    af_free_host(msg);

    /* Reading clears it: the next read gives NULL and 0. */
    msg = (char *)0x1;
    len = -1;
    af_get_last_error(&msg, &len);
    CHECK(msg == NULL && len == 0);

    /* Without a length, an empty message comes back as an empty string. */
    msg = NULL;
    af_get_last_error(&msg, NULL);
    CHECK(msg != NULL && msg[0] == 0);
    af_free_host(msg);

    /* With a length only, nothing is read and nothing crashes. */
    CHECK(af_get_size_of(NULL, f32) == AF_ERR_ARG);
    len = -1;
    af_get_last_error(NULL, &len);
    CHECK(len == 0);
    af_get_last_error(NULL, NULL);
    msg = NULL;
    af_get_last_error(&msg, NULL);
    CHECK(msg != NULL && strstr(msg, "af_get_size_of") != NULL);
    af_free_host(msg);
}

static void *thread_make_error(void *arg) {
    (void)arg;
    af_get_version(NULL, NULL, NULL);
    return NULL;
}

TEST(error_message_is_per_thread) {
    char *msg = NULL;
    af_get_last_error(&msg, NULL);
    af_free_host(msg);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, thread_make_error, NULL) == 0);
    pthread_join(t, NULL);
    dim_t len = -1;
    msg = NULL;
    af_get_last_error(&msg, &len);
    CHECK(msg == NULL && len == 0);
    af_free_host(msg);
}

/* ---- printing: exact cases ---- */

TEST(print_matrix_exact) {
    const float x[6] = {1, 2, 3, 4, 5, 6};
    dim_t d[2] = {2, 3};
    af_array a = make(x, 2, d, f32);
    /* Rows of the matrix, one per line, then a blank line for dimension 1. */
    check_text(a, "a", 4, true,
               "a\n[2 3 1 1]\n"
               "    1.0000     3.0000     5.0000 \n"
               "    2.0000     4.0000     6.0000 \n"
               "\n");
    /* Untransposed: each line is a column. */
    check_text(a, "a", 4, false,
               "a\n[2 3 1 1]\n"
               "    1.0000     2.0000 \n"
               "    3.0000     4.0000 \n"
               "    5.0000     6.0000 \n"
               "\n");
    check_text(a, "p2", 2, true,
               "p2\n[2 3 1 1]\n"
               "    1.00     3.00     5.00 \n"
               "    2.00     4.00     6.00 \n"
               "\n");
    check_text(a, "", 0, true, "\n[2 3 1 1]\n     1      3      5 \n     2      4      6 \n\n");
    CHECK_AF(af_release_array(a));
}

TEST(print_vectors_scalar_empty_exact) {
    const double x[3] = {1.5, -2.25, 3};
    dim_t row[2] = {1, 3};
    af_array r = make(x, 2, row, f64);
    /* A row prints on one line and, having one printed dimension, adds no blank line. */
    check_text(r, "r", 4, true, "r\n[1 3 1 1]\n    1.5000    -2.2500     3.0000 \n");
    dim_t col[1] = {3};
    af_array c = make(x, 1, col, f64);
    check_text(c, "c", 4, true, "c\n[3 1 1 1]\n    1.5000 \n   -2.2500 \n    3.0000 \n\n");
    dim_t one[1] = {1};
    af_array s = make(x, 1, one, f64);
    check_text(s, "s", 3, true, "s\n[1 1 1 1]\n    1.500 \n");
    dim_t zero[2] = {0, 4};
    af_array e = NULL;
    CHECK_AF(af_create_handle(&e, 2, zero, f32));
    check_text(e, "e", 4, true, "e\n[0 4 1 1]\n<empty>\n");
    CHECK_AF(af_release_array(r));
    CHECK_AF(af_release_array(c));
    CHECK_AF(af_release_array(s));
    CHECK_AF(af_release_array(e));
}

TEST(print_3d_exact) {
    const int x[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    dim_t d[3] = {2, 2, 2};
    af_array a = make(x, 3, d, s32);
    check_text(a, "a", 4, true,
               "a\n[2 2 2 1]\n"
               "         1          3 \n"
               "         2          4 \n"
               "\n"
               "         5          7 \n"
               "         6          8 \n"
               "\n"
               "\n");
    CHECK_AF(af_release_array(a));
}

TEST(print_types_exact) {
    dim_t two[2] = {1, 2};
    const float cf[4] = {1, -2, 0.5f, 3};
    af_array c = make(cf, 2, two, c32);
    /* The width covers the whole "(re,im)". */
    check_text(c, "c", 2, true, "c\n[1 2 1 1]\n(1.00,-2.00) (0.50,3.00) \n");
    check_text(c, "c", 1, true, "c\n[1 2 1 1]\n(1.0,-2.0) (0.5,3.0) \n");
    const double cd[2] = {0.25, 0};
    dim_t one[1] = {1};
    af_array z = make(cd, 1, one, c64);
    check_text(z, "z", 0, true, "z\n[1 1 1 1]\n (0,0) \n");

    const unsigned char b[2] = {1, 0};
    af_array bb = make(b, 2, two, b8);
    check_text(bb, "b", 4, true, "b\n[1 2 1 1]\n         1          0 \n");
    const unsigned long long u[2] = {18446744073709551615ull, 7};
    af_array uu = make(u, 2, two, u64);
    check_text(uu, "u", 4, true, "u\n[1 2 1 1]\n18446744073709551615          7 \n");
    const long long s[2] = {-9223372036854775807ll - 1, -1};
    af_array ss = make(s, 2, two, s64);
    check_text(ss, "s", 4, true, "s\n[1 2 1 1]\n-9223372036854775808         -1 \n");
    const signed char s8v[2] = {-128, 127};
    af_array s8a = make(s8v, 2, two, s8);
    check_text(s8a, "s8", 1, true, "s8\n[1 2 1 1]\n   -128     127 \n");
    const unsigned short h[2] = {0x3e00, 0xbc00}; /* 1.5 and -1 in binary16 */
    af_array hh = make(h, 2, two, f16);
    check_text(hh, "h", 4, true, "h\n[1 2 1 1]\n    1.5000    -1.0000 \n");
    const float sp[4] = {NAN, INFINITY, -INFINITY, -0.0f};
    dim_t four[2] = {1, 4};
    af_array spa = make(sp, 2, four, f32);
    check_text(spa, "sp", 4, true, "sp\n[1 4 1 1]\n       nan        inf       -inf    -0.0000 \n");

    af_array all[] = {c, z, bb, uu, ss, s8a, hh, spa};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        CHECK_AF(af_release_array(all[i]));
}

/* ---- printing: reference on random inputs ---- */

/* A growing string for the reference. */
typedef struct {
    char *s;
    size_t len, cap;
} ref_buf;

static void ref_cat(ref_buf *b, const char *t) {
    size_t n = strlen(t);
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->s = realloc(b->s, b->cap);
    }
    memcpy(b->s + b->len, t, n + 1);
    b->len += n;
}

/* One value from doubles as em_test_read returns them (complex as pairs). */
static void ref_value(ref_buf *b, af_dtype t, const double *v, size_t i, int prec) {
    char tmp[512], cell[600];
    int w = prec + 6;
    if (t == c32 || t == c64) {
        snprintf(tmp, sizeof(tmp), "(%.*f,%.*f)", prec, v[2 * i], prec, v[2 * i + 1]);
        snprintf(cell, sizeof(cell), "%*s ", w, tmp);
    } else if (t == f32 || t == f64 || t == f16) {
        snprintf(cell, sizeof(cell), "%*.*f ", w, prec, v[i]);
    } else if (t == u64) {
        snprintf(cell, sizeof(cell), "%*llu ", w, (unsigned long long)v[i]);
    } else {
        snprintf(cell, sizeof(cell), "%*lld ", w, (long long)v[i]);
    }
    ref_cat(b, cell);
}

/* ArrayFire's layout, written as loops: printed dims are the array's with 0 and 1 swapped when
 * transposed; only the first ndims(printed) dimensions print, each line is printed dim 0, and each
 * printed dimension above 0 closes with a blank line. */
static char *ref_text(const char *name, const dim_t dims[4], af_dtype t, const double *v, int prec,
                      bool transpose) {
    ref_buf b = {0};
    char head[256];
    snprintf(head, sizeof(head), "%s\n[%lld %lld %lld %lld]\n", name, (long long)dims[0],
             (long long)dims[1], (long long)dims[2], (long long)dims[3]);
    ref_cat(&b, head);
    dim_t n = dims[0] * dims[1] * dims[2] * dims[3];
    if (n == 0) {
        ref_cat(&b, "<empty>\n");
        return b.s;
    }
    dim_t pd[4] = {dims[0], dims[1], dims[2], dims[3]};
    if (transpose) {
        pd[0] = dims[1];
        pd[1] = dims[0];
    }
    int nd = 4;
    while (nd > 1 && pd[nd - 1] == 1)
        nd--;
    for (dim_t l = 0; l < (nd >= 4 ? pd[3] : 1); l++) {
        for (dim_t k = 0; k < (nd >= 3 ? pd[2] : 1); k++) {
            for (dim_t j = 0; j < (nd >= 2 ? pd[1] : 1); j++) {
                for (dim_t i = 0; i < pd[0]; i++) {
                    dim_t r = transpose ? j : i, c = transpose ? i : j;
                    size_t lin = (size_t)(r + dims[0] * (c + dims[1] * (k + dims[2] * l)));
                    ref_value(&b, t, v, lin, prec);
                }
                ref_cat(&b, "\n");
            }
            if (nd >= 2) ref_cat(&b, "\n");
        }
        if (nd >= 3) ref_cat(&b, "\n");
    }
    if (nd >= 4) ref_cat(&b, "\n");
    return b.s;
}

TEST(print_random_shapes_all_types) {
    static const dim_t shapes[][4] = {{1, 1, 1, 1}, {7, 1, 1, 1}, {1, 5, 1, 1}, {3, 4, 1, 1},
                                      {2, 3, 2, 1}, {2, 1, 3, 2}, {1, 1, 1, 3}, {1, 3, 1, 2},
                                      {0, 3, 1, 1}, {5, 3, 1, 1}};
    for (size_t t = 0; t < NUM_TYPES; t++) {
        af_dtype type = all_types[t];
        bool floating = type == f32 || type == f64 || type == f16 || type == c32 || type == c64;
        for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
            const dim_t *d = shapes[s];
            size_t n = (size_t)(d[0] * d[1] * d[2] * d[3]);
            size_t nv = (type == c32 || type == c64) ? 2 * n : n;
            double *x = malloc((nv + 1) * sizeof(double));
            em_test_fill(x, nv, -100, 100, floating);
            bool is_signed = type == s8 || type == s16 || type == s32 || type == s64;
            if (!floating)
                for (size_t i = 0; i < nv; i++)
                    x[i] = type == b8  ? (double)(x[i] > 0)
                           : is_signed ? trunc(x[i])
                                       : floor(fabs(x[i]));
            af_array a = em_test_make(x, 4, d, type);
            dim_t got_n = 0;
            double *v = em_test_read(a, &got_n); /* the values as stored (rounded to type) */
            for (int prec = 0; prec <= 6; prec += 3) {
                for (int tr = 0; tr < 2; tr++) {
                    char *ref = ref_text("arr", d, type, v, prec, tr == 1);
                    char *got = to_string(a, "arr", prec, tr == 1);
                    if (!got || strcmp(ref, got) != 0)
                        em_test_fail(__FILE__, __LINE__,
                                     "type %d dims [%lld %lld %lld %lld] precision %d transpose "
                                     "%d:\n--- got ---\n%s--- expected ---\n%s",
                                     (int)type, (long long)d[0], (long long)d[1], (long long)d[2],
                                     (long long)d[3], prec, tr, got ? got : "(null)", ref);
                    free(ref);
                    af_free_host(got);
                }
            }
            free(v);
            free(x);
            CHECK_AF(af_release_array(a));
        }
    }
}

/* ---- printing to stdout ---- */

/* Runs fn with stdout redirected to a temporary file and returns what it printed. */
static char *capture_stdout(af_err (*fn)(af_array, const char *), af_array a, const char *name,
                            af_err *err) {
    fflush(stdout);
    FILE *tmp = tmpfile();
    int saved = dup(STDOUT_FILENO);
    dup2(fileno(tmp), STDOUT_FILENO);
    *err = fn(a, name);
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    fseek(tmp, 0, SEEK_END);
    long n = ftell(tmp);
    if (n < 0) n = 0;
    rewind(tmp);
    char *s = calloc((size_t)n + 1, 1);
    if (fread(s, 1, (size_t)n, tmp) != (size_t)n) s[0] = 0;
    fclose(tmp);
    return s;
}

static af_err call_print(af_array a, const char *name) {
    (void)name;
    return af_print_array(a);
}

static af_err call_print_gen(af_array a, const char *name) {
    return af_print_array_gen(name, a, 3);
}

TEST(print_to_stdout) {
    const float x[4] = {1, 2, 3, 4};
    dim_t d[2] = {2, 2};
    af_array a = make(x, 2, d, f32);
    af_err err;
    char *out = capture_stdout(call_print, a, NULL, &err);
    CHECK(err == AF_SUCCESS);
    char *expect = to_string(a, "No Name Array", 4, true);
    CHECK(expect && strcmp(out, expect) == 0);
    free(out);
    af_free_host(expect);

    out = capture_stdout(call_print_gen, a, "x + y", &err);
    CHECK(err == AF_SUCCESS);
    expect = to_string(a, "x + y", 3, true);
    CHECK(expect && strcmp(out, expect) == 0);
    free(out);
    af_free_host(expect);
    CHECK_AF(af_release_array(a));
}

TEST(print_bad_input) {
    dim_t d[1] = {2};
    af_array a = NULL;
    CHECK_AF(af_create_handle(&a, 1, d, f32));
    char *s = (char *)0x1;
    CHECK_ERR(af_array_to_string(NULL, "a", a, 4, true), AF_ERR_ARG);
    CHECK_ERR(af_array_to_string(&s, NULL, a, 4, true), AF_ERR_ARG);
    CHECK_ERR(af_array_to_string(&s, "a", NULL, 4, true), AF_ERR_ARG);
    CHECK_ERR(af_array_to_string(&s, "a", a, -1, true), AF_ERR_ARG);
    CHECK_ERR(af_array_to_string(&s, "a", a, 1000000, true), AF_ERR_ARG);
    CHECK(s == (char *)0x1); /* no output on failure */
    CHECK_ERR(af_print_array_gen(NULL, a, 4), AF_ERR_ARG);
    CHECK_ERR(af_print_array_gen("a", a, -2), AF_ERR_ARG);
    CHECK_ERR(af_print_array_gen("a", NULL, 4), AF_ERR_ARG);
    CHECK_ERR(af_print_array(NULL), AF_ERR_ARG);
    CHECK_AF(af_release_array(a));
    CHECK_ERR(af_print_array(a), AF_ERR_INVALID_ARRAY);
    CHECK_ERR(af_print_array_gen("a", a, 4), AF_ERR_INVALID_ARRAY);
    CHECK_ERR(af_array_to_string(&s, "a", a, 4, true), AF_ERR_INVALID_ARRAY);
}

TEST(print_view) {
    float x[12];
    for (int i = 0; i < 12; i++)
        x[i] = (float)i;
    dim_t d[2] = {3, 4};
    af_array parent = make(x, 2, d, f32);
    af_seq s[2] = {{1, 2, 1}, {0, 3, 2}}; /* rows 1..2, columns 0 and 2 */
    af_array v = em_test_index_or_skip(parent, 2, s);
    check_text(v, "v", 1, true, "v\n[2 2 1 1]\n    1.0     7.0 \n    2.0     8.0 \n\n");
    CHECK_AF(af_release_array(v));
    CHECK_AF(af_release_array(parent));
}
