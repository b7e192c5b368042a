/* data.h: af_constant (and its complex, long and ulong forms), af_range, af_iota, af_identity,
 * af_moddims and af_flat. Each generator is checked against a plain-C reference computed here,
 * for every dtype ArrayFire accepts, on odd and 4-D shapes, and every rejected dtype and bad
 * argument is checked for its error code and message. */
#include "test.h"

#include <string.h>

static const af_dtype all_types[] = {f32, c32, f64, c64, b8,  s32, u32,
                                     u8,  s64, u64, s16, u16, f16, s8};
#define NTYPES (sizeof(all_types) / sizeof(all_types[0]))

static bool is_cplx(af_dtype t) {
    return t == c32 || t == c64;
}

/* The binary16 value nearest to x (ties to even), as a double. */
static double round_to_half(double x) {
    if (isnan(x) || isinf(x) || x == 0) return x;
    double a = fabs(x);
    if (a >= 65520.0) return copysign(INFINITY, x);
    int e;
    frexp(a, &e);                        /* a = f * 2^e, f in [0.5, 1) */
    int q = e - 11 < -24 ? -24 : e - 11; /* quantum exponent: 11 significant bits, or subnormal */
    return copysign(nearbyint(ldexp(a, -q)) * ldexp(1, q), x);
}

static void check_shape(af_array a, af_dtype type, const dim_t expect[4]) {
    dim_t d[4];
    af_dtype t;
    CHECK_AF(af_get_dims(&d[0], &d[1], &d[2], &d[3], a));
    CHECK_AF(af_get_type(&t, a));
    CHECK(t == type);
    for (int i = 0; i < 4; i++)
        if (d[i] != expect[i])
            em_test_fail(__FILE__, __LINE__, "dims[%d] = %lld, expected %lld", i, (long long)d[i],
                         (long long)expect[i]);
}

/* A double stored into `t` the way Ember converts: saturating, NaN to 0 for integers; non-zero to
 * 1 for b8; nearest for floats (f16 through float, as the library rounds). */
static double ref_store(double v, af_dtype t) {
    double lo = 0, hi = 0;
    switch (t) {
    case f32:
    case c32:
        return (float)v;
    case f64:
    case c64:
        return v;
    case f16:
        return round_to_half((float)v);
    case b8:
        return v != 0;
    case s8:
        lo = -128, hi = 127;
        break;
    case u8:
        lo = 0, hi = 255;
        break;
    case s16:
        lo = -32768, hi = 32767;
        break;
    case u16:
        lo = 0, hi = 65535;
        break;
    case s32:
        lo = -2147483648.0, hi = 2147483647.0;
        break;
    case u32:
        lo = 0, hi = 4294967295.0;
        break;
    case s64:
        lo = -0x1p63, hi = 0x1p63;
        break; /* as doubles, the ends read back rounded */
    case u64:
        lo = 0, hi = 0x1p64;
        break;
    }
    if (isnan(v)) return 0;
    if (v <= lo) return lo;
    if (v >= hi) return hi;
    return trunc(v);
}

TEST(data_constant_every_dtype) {
    const double vals[] = {0,     1,     -1,  2.5,  -2.5, 300,      -300,      1e10,
                           -1e10, 65519, 7e4, 1e-8, NAN,  INFINITY, -INFINITY, 1e30};
    const dim_t shapes[][4] = {{1, 1, 1, 1}, {7, 1, 1, 1}, {3, 5, 2, 1}, {3, 1, 2, 5}};
    const unsigned nds[] = {1, 1, 3, 4};
    for (size_t ti = 0; ti < NTYPES; ti++) {
        af_dtype t = all_types[ti];
        for (size_t vi = 0; vi < sizeof(vals) / sizeof(vals[0]); vi++) {
            for (size_t si = 0; si < 4; si++) {
                af_array a = 0;
                CHECK_AF(af_constant(&a, vals[vi], nds[si], shapes[si], t));
                if (!a) continue;
                check_shape(a, t, shapes[si]);
                dim_t n;
                double *got = em_test_read(a, &n);
                size_t cnt = (size_t)n * (is_cplx(t) ? 2 : 1);
                double *ref = malloc(sizeof(double) * cnt + 8);
                for (size_t i = 0; i < cnt; i++)
                    ref[i] = (is_cplx(t) && (i & 1)) ? 0 : ref_store(vals[vi], t);
                if (!CHECK_CLOSE(got, ref, cnt, 0, 0))
                    fprintf(stderr, "    af_constant(%g) as dtype %d\n", vals[vi], (int)t);
                free(got);
                free(ref);
                af_release_array(a);
            }
        }
    }
}

TEST(data_constant_int64_exact) {
    /* Doubles beyond 2^53 and the 64-bit ends, read back as integers. */
    const dim_t dims[1] = {3};
    af_array a = 0;
    int64_t s[3];
    uint64_t u[3];
    CHECK_AF(af_constant(&a, 0x1p62 + 0x1p40, 1, dims, s64));
    CHECK_AF(af_get_data_ptr(s, a));
    CHECK(s[0] == (int64_t)(0x1p62 + 0x1p40) && s[2] == s[0]);
    af_release_array(a);
    CHECK_AF(af_constant(&a, 1e19, 1, dims, s64));
    CHECK_AF(af_get_data_ptr(s, a));
    CHECK(s[1] == INT64_MAX);
    af_release_array(a);
    CHECK_AF(af_constant(&a, -1e19, 1, dims, s64));
    CHECK_AF(af_get_data_ptr(s, a));
    CHECK(s[1] == INT64_MIN);
    af_release_array(a);
    CHECK_AF(af_constant(&a, 1e20, 1, dims, u64));
    CHECK_AF(af_get_data_ptr(u, a));
    CHECK(u[2] == UINT64_MAX);
    af_release_array(a);
    CHECK_AF(af_constant(&a, 0x1p63, 1, dims, u64));
    CHECK_AF(af_get_data_ptr(u, a));
    CHECK(u[0] == (uint64_t)1 << 63);
    af_release_array(a);
    CHECK_AF(af_constant(&a, NAN, 1, dims, u64));
    CHECK_AF(af_get_data_ptr(u, a));
    CHECK(u[0] == 0);
    af_release_array(a);
}

TEST(data_constant_long_ulong) {
    const long long svals[] = {0, -1, 1, INT64_MIN, INT64_MAX, (1LL << 53) + 1, -(1LL << 60) - 3};
    const unsigned long long uvals[] = {0, 1, UINT64_MAX, (1ULL << 63) + 1, (1ULL << 53) + 1};
    const dim_t dims[4] = {2, 3, 1, 2};
    for (size_t i = 0; i < sizeof(svals) / sizeof(svals[0]); i++) {
        af_array a = 0;
        CHECK_AF(af_constant_long(&a, svals[i], 4, dims));
        check_shape(a, s64, dims);
        int64_t got[12];
        CHECK_AF(af_get_data_ptr(got, a));
        for (int k = 0; k < 12; k++)
            if (got[k] != svals[i])
                em_test_fail(__FILE__, __LINE__, "s64 %lld: got %lld", svals[i], (long long)got[k]);
        af_release_array(a);
    }
    for (size_t i = 0; i < sizeof(uvals) / sizeof(uvals[0]); i++) {
        af_array a = 0;
        CHECK_AF(af_constant_ulong(&a, uvals[i], 4, dims));
        check_shape(a, u64, dims);
        uint64_t got[12];
        CHECK_AF(af_get_data_ptr(got, a));
        for (int k = 0; k < 12; k++)
            if (got[k] != uvals[i])
                em_test_fail(__FILE__, __LINE__, "u64 %llu: got %llu", uvals[i],
                             (unsigned long long)got[k]);
        af_release_array(a);
    }
}

/* double -> float as IEEE rounding does it; C leaves the conversion of an out-of-range finite
 * value undefined, so overflow and underflow are spelled out. */
static double to_float_ref(double x) {
    if (isnan(x) || isinf(x)) return x;
    if (fabs(x) >= 3.4028235677973366e38) return x > 0 ? INFINITY : -INFINITY;
    if (fabs(x) < 7.006492321624085e-46) return x < 0 ? -0.0 : 0.0;
    return (float)x;
}

TEST(data_constant_complex) {
    const dim_t dims[2] = {3, 3};
    const double pairs[][2] = {{1.5, -2.25}, {0, 1}, {NAN, INFINITY}, {1e300, -1e-300}};
    for (int k = 0; k < 2; k++) {
        af_dtype t = k ? c64 : c32;
        for (size_t p = 0; p < 4; p++) {
            af_array a = 0;
            CHECK_AF(af_constant_complex(&a, pairs[p][0], pairs[p][1], 2, dims, t));
            check_shape(a, t, (const dim_t[4]){3, 3, 1, 1});
            dim_t n;
            double *got = em_test_read(a, &n);
            double ref[18];
            for (int i = 0; i < 9; i++) {
                ref[2 * i] = t == c32 ? to_float_ref(pairs[p][0]) : pairs[p][0];
                ref[2 * i + 1] = t == c32 ? to_float_ref(pairs[p][1]) : pairs[p][1];
            }
            CHECK_CLOSE(got, ref, 18, 0, 0);
            free(got);
            af_release_array(a);
        }
    }
    /* The real types are refused, as in ArrayFire. */
    const af_dtype real[] = {f32, f64, f16, s32, u8, b8, s64};
    for (size_t i = 0; i < sizeof(real) / sizeof(real[0]); i++) {
        af_array a = 0;
        CHECK_ERR(af_constant_complex(&a, 1, 2, 2, dims, real[i]), AF_ERR_TYPE);
        CHECK(a == 0);
    }
}

TEST(data_constant_empty) {
    /* ndims 0 is ArrayFire's empty array (its C++ dim4(0) has ndims 0); a zero dim is empty. */
    af_array a = 0;
    CHECK_AF(af_constant(&a, 5, 0, NULL, f32));
    check_shape(a, f32, (const dim_t[4]){0, 1, 1, 1});
    bool empty = false;
    CHECK_AF(af_is_empty(&empty, a));
    CHECK(empty);
    af_release_array(a);
    const dim_t zd[3] = {4, 0, 3};
    CHECK_AF(af_constant(&a, 5, 3, zd, s16));
    check_shape(a, s16, (const dim_t[4]){4, 0, 3, 1});
    CHECK_AF(af_eval(a));
    af_release_array(a);
    CHECK_AF(af_constant_long(&a, 5, 0, NULL));
    check_shape(a, s64, (const dim_t[4]){0, 1, 1, 1});
    af_release_array(a);
    CHECK_AF(af_constant_ulong(&a, 5, 0, NULL));
    check_shape(a, u64, (const dim_t[4]){0, 1, 1, 1});
    af_release_array(a);
    CHECK_AF(af_constant_complex(&a, 1, 2, 0, NULL, c64));
    check_shape(a, c64, (const dim_t[4]){0, 1, 1, 1});
    af_release_array(a);
}

TEST(data_constant_bad_input) {
    const dim_t dims[4] = {2, 2, 2, 2};
    const dim_t neg[2] = {3, -1};
    const dim_t huge[4] = {(dim_t)1 << 20, (dim_t)1 << 20, (dim_t)1 << 20, 1};
    af_array a = 0;
    CHECK_ERR(af_constant(NULL, 1, 1, dims, f32), AF_ERR_ARG);
    CHECK_ERR(af_constant(&a, 1, 5, dims, f32), AF_ERR_ARG);
    CHECK_ERR(af_constant(&a, 1, 1, NULL, f32), AF_ERR_ARG);
    CHECK_ERR(af_constant(&a, 1, 2, neg, f32), AF_ERR_SIZE);
    CHECK_ERR(af_constant(&a, 1, 3, huge, f32), AF_ERR_SIZE);
    CHECK_ERR(af_constant(&a, 1, 1, dims, (af_dtype)14), AF_ERR_TYPE);
    CHECK_ERR(af_constant(&a, 1, 1, dims, (af_dtype)-1), AF_ERR_TYPE);
    CHECK_ERR(af_constant_complex(NULL, 1, 1, 1, dims, c32), AF_ERR_ARG);
    CHECK_ERR(af_constant_complex(&a, 1, 1, 5, dims, c32), AF_ERR_ARG);
    CHECK_ERR(af_constant_long(NULL, 1, 1, dims), AF_ERR_ARG);
    CHECK_ERR(af_constant_long(&a, 1, 2, neg), AF_ERR_SIZE);
    CHECK_ERR(af_constant_ulong(NULL, 1, 1, dims), AF_ERR_ARG);
    CHECK_ERR(af_constant_ulong(&a, 1, 3, huge), AF_ERR_SIZE);
    CHECK(a == 0);
}

/* Coordinates of the linear index i in dims d. */
static void coords(const dim_t d[4], dim_t i, dim_t c[4]) {
    for (int k = 0; k < 4; k++) {
        c[k] = i % d[k];
        i /= d[k];
    }
}

/* An integer value stored into `t` as ArrayFire stores it: integer types wrap modulo 2^bits, the
 * floating ones round to nearest. */
static double ref_int_store(int64_t v, af_dtype t) {
    switch (t) {
    case f32:
    case c32:
        return (float)v;
    case f16:
        return round_to_half((float)v);
    case b8:
        return v != 0;
    case s8:
        return (int8_t)(uint8_t)v;
    case u8:
        return (uint8_t)v;
    case s16:
        return (int16_t)(uint16_t)v;
    case u16:
        return (uint16_t)v;
    case s32:
        return (int32_t)(uint32_t)v;
    case u32:
        return (uint32_t)v;
    default:
        return (double)v;
    }
}

static const af_dtype seq_types[] = {f32, f64, s32, u32, s64, u64, s16, u16, u8, f16, s8};
#define NSEQ (sizeof(seq_types) / sizeof(seq_types[0]))

static bool type_in(af_dtype t, const af_dtype *list, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (list[i] == t) return true;
    return false;
}

TEST(data_range) {
    const dim_t shapes[][4] = {
        {7, 1, 1, 1}, {3, 5, 1, 1}, {4, 3, 2, 5}, {1, 1, 9, 1}, {301, 2, 1, 1}};
    const unsigned nds[] = {1, 2, 4, 3, 2};
    for (size_t ti = 0; ti < NSEQ; ti++) {
        af_dtype t = seq_types[ti];
        for (size_t si = 0; si < sizeof(nds) / sizeof(nds[0]); si++) {
            for (int seq = -2; seq <= 3; seq++) {
                af_array a = 0;
                CHECK_AF(af_range(&a, nds[si], shapes[si], seq, t));
                if (!a) continue;
                check_shape(a, t, shapes[si]);
                dim_t n;
                double *got = em_test_read(a, &n);
                double *ref = malloc(sizeof(double) * (size_t)n);
                for (dim_t i = 0; i < n; i++) {
                    dim_t c[4];
                    coords(shapes[si], i, c);
                    ref[i] = ref_int_store(c[seq < 0 ? 0 : seq], t);
                }
                if (!CHECK_CLOSE(got, ref, (size_t)n, 0, 0))
                    fprintf(stderr, "    af_range shape %zu seq_dim %d dtype %d\n", si, seq, t);
                free(got);
                free(ref);
                af_release_array(a);
            }
        }
    }
}

TEST(data_range_f16_rounds) {
    /* Past 2048 binary16 has a spacing of 2: 2049 reads back as 2048, 2051 as 2052. */
    const dim_t dims[1] = {2100};
    af_array a = 0;
    CHECK_AF(af_range(&a, 1, dims, 0, f16));
    uint16_t h[2100];
    CHECK_AF(af_get_data_ptr(h, a));
    CHECK(em_test_half_to_double(h[2049]) == 2048);
    CHECK(em_test_half_to_double(h[2051]) == 2052);
    CHECK(em_test_half_to_double(h[2047]) == 2047);
    af_release_array(a);
}

TEST(data_range_bad_input) {
    const dim_t dims[2] = {3, 4};
    const dim_t neg[1] = {-3};
    const dim_t huge[2] = {(dim_t)1 << 40, (dim_t)1 << 20};
    af_array a = 0;
    CHECK_ERR(af_range(NULL, 2, dims, 0, f32), AF_ERR_ARG);
    CHECK_ERR(af_range(&a, 5, dims, 0, f32), AF_ERR_ARG);
    CHECK_ERR(af_range(&a, 2, NULL, 0, f32), AF_ERR_ARG);
    CHECK_ERR(af_range(&a, 1, neg, 0, f32), AF_ERR_SIZE);
    CHECK_ERR(af_range(&a, 2, huge, 0, f32), AF_ERR_SIZE);
    CHECK_ERR(af_range(&a, 2, dims, 4, f32), AF_ERR_ARG);
    CHECK_ERR(af_range(&a, 2, dims, 100, f32), AF_ERR_ARG);
    CHECK_ERR(af_range(&a, 2, dims, 0, (af_dtype)99), AF_ERR_TYPE);
    for (size_t ti = 0; ti < NTYPES; ti++)
        if (!type_in(all_types[ti], seq_types, NSEQ))
            CHECK_ERR(af_range(&a, 2, dims, 0, all_types[ti]), AF_ERR_TYPE);
    CHECK(a == 0);
    /* ndims 0: an empty array, as in ArrayFire. */
    CHECK_AF(af_range(&a, 0, NULL, 0, s32));
    check_shape(a, s32, (const dim_t[4]){0, 1, 1, 1});
    af_release_array(a);
}

TEST(data_iota) {
    struct {
        unsigned nd;
        dim_t d[4];
        unsigned tnd;
        dim_t t[4];
    } cases[] = {
        {2, {3, 2, 1, 1}, 3, {2, 1, 3, 1}}, {1, {5, 1, 1, 1}, 2, {1, 4, 1, 1}},
        {4, {2, 3, 2, 2}, 4, {2, 1, 1, 2}}, {1, {1, 1, 1, 1}, 1, {6, 1, 1, 1}},
        {3, {7, 1, 3, 1}, 1, {1, 1, 1, 1}}, {1, {300, 1, 1, 1}, 2, {1, 2, 1, 1}},
    };
    for (size_t ti = 0; ti < NSEQ; ti++) {
        af_dtype t = seq_types[ti];
        for (size_t ci = 0; ci < sizeof(cases) / sizeof(cases[0]); ci++) {
            af_array a = 0;
            CHECK_AF(af_iota(&a, cases[ci].nd, cases[ci].d, cases[ci].tnd, cases[ci].t, t));
            if (!a) continue;
            dim_t od[4];
            for (int k = 0; k < 4; k++)
                od[k] = cases[ci].d[k] * cases[ci].t[k];
            check_shape(a, t, od);
            dim_t n;
            double *got = em_test_read(a, &n);
            double *ref = malloc(sizeof(double) * (size_t)n);
            const dim_t *u = cases[ci].d;
            for (dim_t i = 0; i < n; i++) {
                dim_t c[4];
                coords(od, i, c);
                int64_t v = (c[0] % u[0]) + u[0] * (c[1] % u[1]) + u[0] * u[1] * (c[2] % u[2]) +
                            u[0] * u[1] * u[2] * (c[3] % u[3]);
                ref[i] = ref_int_store(v, t);
            }
            if (!CHECK_CLOSE(got, ref, (size_t)n, 0, 0))
                fprintf(stderr, "    af_iota case %zu dtype %d\n", ci, t);
            free(got);
            free(ref);
            af_release_array(a);
        }
    }
}

TEST(data_iota_bad_input) {
    const dim_t dims[2] = {3, 4}, tdims[2] = {2, 2};
    const dim_t neg[1] = {-1};
    const dim_t big[1] = {(dim_t)1 << 30};
    af_array a = 0;
    CHECK_ERR(af_iota(NULL, 2, dims, 2, tdims, f32), AF_ERR_ARG);
    CHECK_ERR(af_iota(&a, 5, dims, 2, tdims, f32), AF_ERR_ARG);
    CHECK_ERR(af_iota(&a, 2, dims, 0, tdims, f32), AF_ERR_ARG);
    CHECK_ERR(af_iota(&a, 2, dims, 5, tdims, f32), AF_ERR_ARG);
    CHECK_ERR(af_iota(&a, 2, dims, 2, NULL, f32), AF_ERR_ARG);
    CHECK_ERR(af_iota(&a, 1, neg, 2, tdims, f32), AF_ERR_SIZE);
    CHECK_ERR(af_iota(&a, 2, dims, 1, neg, f32), AF_ERR_SIZE);
    /* Each fits, their product does not. */
    CHECK_ERR(af_iota(&a, 1, big, 1, big, f32), AF_ERR_SIZE);
    for (size_t ti = 0; ti < NTYPES; ti++)
        if (!type_in(all_types[ti], seq_types, NSEQ))
            CHECK_ERR(af_iota(&a, 2, dims, 2, tdims, all_types[ti]), AF_ERR_TYPE);
    CHECK(a == 0);
    CHECK_AF(af_iota(&a, 0, NULL, 0, NULL, u16));
    check_shape(a, u16, (const dim_t[4]){0, 1, 1, 1});
    af_release_array(a);
    const dim_t zero[1] = {0};
    CHECK_AF(af_iota(&a, 2, dims, 1, zero, u16));
    check_shape(a, u16, (const dim_t[4]){0, 4, 1, 1});
    CHECK_AF(af_eval(a));
    af_release_array(a);
}

TEST(data_identity) {
    const dim_t shapes[][4] = {
        {4, 1, 1, 1}, {3, 5, 1, 1}, {5, 3, 2, 1}, {4, 4, 2, 3}, {1, 1, 1, 1}};
    const unsigned nds[] = {1, 2, 3, 4, 1};
    for (size_t ti = 0; ti < NTYPES; ti++) {
        af_dtype t = all_types[ti];
        for (size_t si = 0; si < sizeof(nds) / sizeof(nds[0]); si++) {
            af_array a = 0;
            CHECK_AF(af_identity(&a, nds[si], shapes[si], t));
            if (!a) continue;
            check_shape(a, t, shapes[si]);
            dim_t n;
            double *got = em_test_read(a, &n);
            size_t cnt = (size_t)n * (is_cplx(t) ? 2 : 1);
            double *ref = malloc(sizeof(double) * cnt);
            for (dim_t i = 0; i < n; i++) {
                dim_t c[4];
                coords(shapes[si], i, c);
                if (is_cplx(t)) {
                    ref[2 * i] = c[0] == c[1];
                    ref[2 * i + 1] = 0;
                } else {
                    ref[i] = c[0] == c[1];
                }
            }
            if (!CHECK_CLOSE(got, ref, cnt, 0, 0))
                fprintf(stderr, "    af_identity shape %zu dtype %d\n", si, t);
            free(got);
            free(ref);
            af_release_array(a);
        }
    }
}

TEST(data_identity_bad_input) {
    const dim_t dims[2] = {3, 3};
    const dim_t neg[2] = {3, -3};
    af_array a = 0;
    CHECK_ERR(af_identity(NULL, 2, dims, f32), AF_ERR_ARG);
    CHECK_ERR(af_identity(&a, 5, dims, f32), AF_ERR_ARG);
    CHECK_ERR(af_identity(&a, 2, NULL, f32), AF_ERR_ARG);
    CHECK_ERR(af_identity(&a, 2, neg, f32), AF_ERR_SIZE);
    CHECK_ERR(af_identity(&a, 2, dims, (af_dtype)20), AF_ERR_TYPE);
    CHECK(a == 0);
    CHECK_AF(af_identity(&a, 0, NULL, c32));
    check_shape(a, c32, (const dim_t[4]){0, 1, 1, 1});
    af_release_array(a);
}

TEST(data_generators_lazy) {
    /* Generators are JIT leaves: creating one allocates no buffer until it is read. */
    size_t ab, an, lb, ln0, ln1;
    CHECK_AF(af_device_mem_info(&ab, &an, &lb, &ln0));
    const dim_t dims[2] = {100, 100};
    af_array c = 0, r = 0, i = 0, e = 0;
    CHECK_AF(af_constant(&c, 3, 2, dims, f32));
    CHECK_AF(af_range(&r, 2, dims, 1, f32));
    CHECK_AF(af_iota(&i, 2, dims, 1, dims, f32));
    CHECK_AF(af_identity(&e, 2, dims, f32));
    CHECK_AF(af_device_mem_info(&ab, &an, &lb, &ln1));
    CHECK(ln1 == ln0);
    CHECK_AF(af_eval(r));
    CHECK_AF(af_device_mem_info(&ab, &an, &lb, &ln1));
    CHECK(ln1 == ln0 + 1);
    af_release_array(c);
    af_release_array(r);
    af_release_array(i);
    af_release_array(e);
}

/* Reads an f32 array into a fresh buffer. */
static float *read_f32(af_array a, dim_t *n) {
    CHECK_AF(af_get_elements(n, a));
    float *x = malloc(sizeof(float) * (size_t)*n + 4);
    CHECK_AF(af_get_data_ptr(x, a));
    return x;
}

TEST(data_moddims_shares_buffer) {
    const dim_t dims[4] = {4, 3, 2, 5}; /* 120 elements */
    af_array a = 0, b = 0, c = 0;
    CHECK_AF(af_iota(&a, 4, dims, 1, (const dim_t[1]){1}, f32));
    CHECK_AF(af_eval(a));
    int refs = 0;
    CHECK_AF(af_get_data_ref_count(&refs, a));
    CHECK(refs == 1);
    const dim_t nd[3] = {10, 12, 1};
    CHECK_AF(af_moddims(&b, a, 3, nd));
    check_shape(b, f32, (const dim_t[4]){10, 12, 1, 1});
    CHECK_AF(af_get_data_ref_count(&refs, a));
    CHECK(refs == 2); /* zero-copy: the buffer is shared */
    dim_t n;
    float *x = read_f32(b, &n);
    CHECK(n == 120);
    for (dim_t i = 0; i < n; i++)
        if (x[i] != (float)i) {
            em_test_fail(__FILE__, __LINE__, "moddims element %lld = %g", (long long)i, x[i]);
            break;
        }
    free(x);
    CHECK_AF(af_flat(&c, b));
    check_shape(c, f32, (const dim_t[4]){120, 1, 1, 1});
    CHECK_AF(af_get_data_ref_count(&refs, a));
    CHECK(refs == 3);
    /* A write through one handle leaves the others as they were (copy on write). */
    float ones[120];
    for (int i = 0; i < 120; i++)
        ones[i] = 1;
    CHECK_AF(af_write_array(c, ones, sizeof(ones), afHost));
    x = read_f32(a, &n);
    CHECK(x[7] == 7 && x[119] == 119);
    free(x);
    x = read_f32(c, &n);
    CHECK(x[7] == 1);
    free(x);
    af_release_array(a);
    af_release_array(b);
    af_release_array(c);
}

TEST(data_moddims_lazy) {
    /* A lazy range is evaluated with its own dims before the re-dim: values follow the old
     * layout. A lazy constant stays lazy. */
    const dim_t dims[2] = {3, 4};
    af_array r = 0, m = 0, k = 0, km = 0;
    CHECK_AF(af_range(&r, 2, dims, 1, s32));
    const dim_t nd[2] = {2, 6};
    CHECK_AF(af_moddims(&m, r, 2, nd));
    check_shape(m, s32, (const dim_t[4]){2, 6, 1, 1});
    int32_t got[12];
    CHECK_AF(af_get_data_ptr(got, m));
    for (int i = 0; i < 12; i++)
        CHECK(got[i] == i / 3);
    size_t ab, an, lb, ln0, ln1;
    CHECK_AF(af_constant(&k, 2.5, 2, dims, f64));
    CHECK_AF(af_device_mem_info(&ab, &an, &lb, &ln0));
    CHECK_AF(af_moddims(&km, k, 2, nd));
    CHECK_AF(af_device_mem_info(&ab, &an, &lb, &ln1));
    CHECK(ln1 == ln0);
    check_shape(km, f64, (const dim_t[4]){2, 6, 1, 1});
    double d[12];
    CHECK_AF(af_get_data_ptr(d, km));
    CHECK(d[0] == 2.5 && d[11] == 2.5);
    af_release_array(r);
    af_release_array(m);
    af_release_array(k);
    af_release_array(km);
}

TEST(data_moddims_bad_input) {
    const dim_t dims[2] = {3, 4};
    af_array a = 0, b = 0;
    CHECK_AF(af_constant(&a, 1, 2, dims, u8));
    const dim_t wrong[2] = {5, 2}, neg[2] = {-3, -4};
    CHECK_ERR(af_moddims(NULL, a, 2, dims), AF_ERR_ARG);
    CHECK_ERR(af_moddims(&b, NULL, 2, dims), AF_ERR_ARG);
    CHECK_ERR(af_moddims(&b, a, 2, NULL), AF_ERR_ARG);
    CHECK_ERR(af_moddims(&b, a, 5, dims), AF_ERR_ARG);
    CHECK_ERR(af_moddims(&b, a, 2, wrong), AF_ERR_SIZE);
    CHECK_ERR(af_moddims(&b, a, 2, neg), AF_ERR_SIZE);
    CHECK_ERR(af_flat(NULL, a), AF_ERR_ARG);
    CHECK_ERR(af_flat(&b, NULL), AF_ERR_ARG);
    CHECK(b == 0);
    /* ndims 0 is a new reference, as in ArrayFire. */
    CHECK_AF(af_moddims(&b, a, 0, NULL));
    check_shape(b, u8, (const dim_t[4]){3, 4, 1, 1});
    af_release_array(b);
    af_release_array(a);
    CHECK_ERR(af_moddims(&b, a, 2, dims), AF_ERR_INVALID_ARRAY);
    CHECK_ERR(af_flat(&b, a), AF_ERR_INVALID_ARRAY);
}

TEST(data_moddims_empty_and_vector) {
    const dim_t zero[2] = {0, 5};
    af_array a = 0, b = 0;
    CHECK_AF(af_constant(&a, 1, 2, zero, f32));
    const dim_t nd[3] = {5, 0, 2};
    CHECK_AF(af_moddims(&b, a, 3, nd));
    check_shape(b, f32, (const dim_t[4]){5, 0, 2, 1});
    af_release_array(b);
    CHECK_AF(af_flat(&b, a));
    check_shape(b, f32, (const dim_t[4]){0, 1, 1, 1});
    af_release_array(b);
    af_release_array(a);
    /* A column is already flat: af_flat is a new reference. */
    const dim_t col[1] = {9};
    CHECK_AF(af_range(&a, 1, col, 0, f64));
    CHECK_AF(af_flat(&b, a));
    check_shape(b, f64, (const dim_t[4]){9, 1, 1, 1});
    double x[9];
    CHECK_AF(af_get_data_ptr(x, b));
    CHECK(x[8] == 8);
    af_release_array(a);
    af_release_array(b);
}
