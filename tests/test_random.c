/* random.h: Philox 4x32-10 and the engine API. The generator is checked against Random123's
 * published known answers; the layout of every dtype against a plain-C reading of the convention
 * in src/core/philox.h (which the CUDA backend follows too); the distributions with statistical
 * checks on a million samples, whose tolerances are stated next to each; and the engine API for
 * seeding, counter advance, sharing between retained handles, per-thread default engines and bad
 * input. */
#include "test.h"

#include "../src/core/philox.h"

#include <pthread.h>
#include <string.h>

static const af_dtype uniform_types[] = {f32, c32, f64, c64, b8,  s32, u32,
                                         u8,  s64, u64, s16, u16, f16, s8};
#define NUNIFORM (sizeof(uniform_types) / sizeof(uniform_types[0]))
static const af_dtype normal_types[] = {f32, c32, f64, c64, f16};
#define NNORMAL (sizeof(normal_types) / sizeof(normal_types[0]))

/* The nearest binary16 value to x, ties to even. */
static double round_to_half(double x) {
    if (isnan(x) || isinf(x) || x == 0) return x;
    double a = fabs(x);
    if (a >= 65520.0) return copysign(INFINITY, x);
    int e;
    frexp(a, &e);
    int q = e - 11 < -24 ? -24 : e - 11;
    return copysign(nearbyint(ldexp(a, -q)) * ldexp(1, q), x);
}

/* ---- Philox itself ----------------------------------------------------------------------------
 */

TEST(random_philox_known_answers) {
    /* Random123's kat_vectors for philox4x32 with 10 rounds: counter, key, expected output. */
    static const uint32_t kat[3][10] = {
        {0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
        {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0x408f276d,
         0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
        {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, 0xd16cfe09,
         0x94fdcceb, 0x5001e420, 0x24126ea1},
    };
    for (int k = 0; k < 3; k++) {
        uint32_t out[4];
        em_philox4x32_10(&kat[k][4], &kat[k][0], out);
        for (int i = 0; i < 4; i++)
            if (out[i] != kat[k][6 + i])
                em_test_fail(__FILE__, __LINE__, "vector %d word %d: 0x%08x, expected 0x%08x", k, i,
                             out[i], kat[k][6 + i]);
    }
}

TEST(random_philox_counter_carry) {
    /* Block b of (seed, counter) is Philox at the 128-bit counter counter + b. */
    uint32_t w[4], ref[4];
    const uint32_t key[2] = {0x89abcdefu, 0x01234567u};
    em_philox_block(0x0123456789abcdefull, UINT64_MAX, 2, w);
    em_philox4x32_10(key, (const uint32_t[4]){1, 0, 1, 0}, ref);
    CHECK(memcmp(w, ref, sizeof(w)) == 0);
    em_philox_block(0x0123456789abcdefull, 0xfffffffeull, 3, w);
    em_philox4x32_10(key, (const uint32_t[4]){1, 1, 0, 0}, ref);
    CHECK(memcmp(w, ref, sizeof(w)) == 0);
}

TEST(random_half_conversion) {
    /* The binary16 rounding in philox.h against the exact rounding of this file, on every float
     * bit pattern with a step that visits all exponents and many ties. */
    for (uint64_t bits = 0; bits <= 0xffffffffu; bits += 4093) {
        uint32_t b = (uint32_t)bits;
        float f;
        memcpy(&f, &b, 4);
        double got = em_test_half_to_double(em_philox_f32_to_f16(f));
        double ref = round_to_half(f);
        if (!(got == ref || (isnan(got) && isnan(ref))) || signbit(got) != signbit(ref)) {
            em_test_fail(__FILE__, __LINE__, "%a: got %a, expected %a", f, got, ref);
            break;
        }
    }
    /* Ties to even at the subnormal and normal boundaries. */
    CHECK(em_philox_f32_to_f16(0x1p-25f) == 0);
    CHECK(em_philox_f32_to_f16(0x1.8p-24f) == 2);
    CHECK(em_philox_f32_to_f16(2049.0f) == em_philox_f32_to_f16(2048.0f));
    CHECK(em_philox_f32_to_f16(65520.0f) == 0x7c00);
}

/* ---- The layout of every dtype ----------------------------------------------------------------
 */

/* Word k of the stream of (seed, counter 0): word k % 4 of block k / 4. */
static uint32_t stream_word(uint64_t seed, uint64_t k) {
    uint32_t w[4];
    const uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    const uint32_t ctr[4] = {(uint32_t)(k / 4), (uint32_t)((k / 4) >> 32), 0, 0};
    em_philox4x32_10(key, ctr, w);
    return w[k % 4];
}

static uint64_t stream_u64(uint64_t seed, uint64_t j) {
    return stream_word(seed, 2 * j) | (uint64_t)stream_word(seed, 2 * j + 1) << 32;
}

/* Scalar j of a uniform draw of real type t, read from the convention in philox.h. */
static double ref_uniform(uint64_t seed, af_dtype t, uint64_t j) {
    switch (t) {
    case u8:
        return (uint8_t)(stream_word(seed, j / 4) >> (8 * (j % 4)));
    case s8:
        return (int8_t)(uint8_t)(stream_word(seed, j / 4) >> (8 * (j % 4)));
    case b8:
        return (stream_word(seed, j / 4) >> (8 * (j % 4))) & 1;
    case u16:
        return (uint16_t)(stream_word(seed, j / 2) >> (16 * (j % 2)));
    case s16:
        return (int16_t)(uint16_t)(stream_word(seed, j / 2) >> (16 * (j % 2)));
    case u32:
        return stream_word(seed, j);
    case s32:
        return (int32_t)stream_word(seed, j);
    case u64:
        return (double)stream_u64(seed, j);
    case s64:
        return (double)(int64_t)stream_u64(seed, j);
    case f16:
        return ldexp((uint16_t)(stream_word(seed, j / 2) >> (16 * (j % 2))) >> 5, -11);
    case f32:
    case c32:
        return ldexp(stream_word(seed, j) >> 8, -24);
    case f64:
    case c64:
        return ldexp((double)(stream_u64(seed, j) >> 11), -53);
    }
    return NAN;
}

/* Scalar j of a normal draw of real type t (Box-Muller in double on the pair j / 2). */
static double ref_normal(uint64_t seed, af_dtype t, uint64_t j) {
    uint64_t p = j / 2;
    double u1, u2;
    if (t == f64 || t == c64) {
        u1 = ldexp((double)(stream_u64(seed, 2 * p) >> 11) + 1, -53);
        u2 = ldexp((double)(stream_u64(seed, 2 * p + 1) >> 11), -53);
    } else {
        u1 = ldexp((double)stream_word(seed, 2 * p) + 1, -32);
        u2 = ldexp((double)stream_word(seed, 2 * p + 1), -32);
    }
    double r = sqrt(-2 * log(u1)), a = 2 * M_PI * u2;
    double z = (j % 2) ? r * sin(a) : r * cos(a);
    if (t == f32 || t == c32) return (float)z;
    if (t == f16) return round_to_half((float)z);
    return z;
}

TEST(random_uniform_layout_every_dtype) {
    /* Bit-exact: uniforms use only exact integer-to-float conversions and powers of two. */
    const uint64_t seed = 0x0123456789abcdefull;
    const dim_t dims[3] = {5, 3, 3}; /* 45: not a multiple of any per-block count */
    for (size_t ti = 0; ti < NUNIFORM; ti++) {
        af_dtype t = uniform_types[ti];
        af_random_engine e = 0;
        af_array a = 0;
        CHECK_AF(af_create_random_engine(&e, AF_RANDOM_ENGINE_PHILOX, seed));
        CHECK_AF(af_random_uniform(&a, 3, dims, t, e));
        if (!a) continue;
        af_dtype got_t;
        CHECK_AF(af_get_type(&got_t, a));
        CHECK(got_t == t);
        size_t cnt = 45 * ((t == c32 || t == c64) ? 2 : 1);
        double *got = em_test_read(a, NULL);
        double ref[90];
        for (size_t j = 0; j < cnt; j++)
            ref[j] = ref_uniform(seed, t, j);
        if (!CHECK_CLOSE(got, ref, cnt, 0, 0)) fprintf(stderr, "    uniform dtype %d\n", t);
        free(got);
        af_release_array(a);
        af_release_random_engine(e);
    }
}

TEST(random_normal_layout_every_dtype) {
    /* log, sin and cos may differ in their last bit between math libraries: 1e-6 relative. */
    const uint64_t seed = 977;
    const dim_t dims[2] = {7, 5};
    for (size_t ti = 0; ti < NNORMAL; ti++) {
        af_dtype t = normal_types[ti];
        af_random_engine e = 0;
        af_array a = 0;
        CHECK_AF(af_create_random_engine(&e, AF_RANDOM_ENGINE_PHILOX, seed));
        CHECK_AF(af_random_normal(&a, 2, dims, t, e));
        if (!a) continue;
        size_t cnt = 35 * ((t == c32 || t == c64) ? 2 : 1);
        double *got = em_test_read(a, NULL);
        double ref[70];
        for (size_t j = 0; j < cnt; j++)
            ref[j] = ref_normal(seed, t, j);
        double rtol = t == f16 ? 1e-3 : 1e-6;
        if (!CHECK_CLOSE(got, ref, cnt, rtol, 1e-12)) fprintf(stderr, "    normal dtype %d\n", t);
        free(got);
        af_release_array(a);
        af_release_random_engine(e);
    }
}

TEST(random_known_answer_through_api) {
    /* Seed 0, counter 0: af_randu of u32 returns Philox's first block, Random123's zero vector. */
    const dim_t four[1] = {4};
    af_array a = 0;
    uint32_t w[4];
    CHECK_AF(af_set_seed(0));
    CHECK_AF(af_randu(&a, 1, four, u32));
    CHECK_AF(af_get_data_ptr(w, a));
    CHECK(w[0] == 0x6627e8d5 && w[1] == 0xe169c58d && w[2] == 0xbc57ac4c && w[3] == 0x9b00dbd8);
    af_release_array(a);
    /* The key is {seed low, seed high}; the next call continues at counter 1. */
    const uint32_t key[2] = {0xa4093822, 0x299f31d0};
    uint32_t ref[4];
    CHECK_AF(af_set_seed(0x299f31d0a4093822ull));
    for (uint32_t block = 0; block < 3; block++) {
        CHECK_AF(af_randu(&a, 1, four, u32));
        CHECK_AF(af_get_data_ptr(w, a));
        em_philox4x32_10(key, (const uint32_t[4]){block, 0, 0, 0}, ref);
        CHECK(memcmp(w, ref, sizeof(w)) == 0);
        af_release_array(a);
    }
}

/* ---- Streams: seeds and counters ----------------------------------------------------------------
 */

static float *draw_f32(dim_t n) {
    af_array a = 0;
    float *x = calloc((size_t)n + 1, sizeof(float));
    CHECK_AF(af_randu(&a, 1, &n, f32));
    CHECK_AF(af_get_data_ptr(x, a));
    af_release_array(a);
    return x;
}

static size_t count_equal(const float *a, const float *b, size_t n) {
    size_t same = 0;
    for (size_t i = 0; i < n; i++)
        same += a[i] == b[i];
    return same;
}

TEST(random_same_seed_same_numbers) {
    CHECK_AF(af_set_seed(42));
    float *a = draw_f32(1001);
    CHECK_AF(af_set_seed(42));
    float *b = draw_f32(1001);
    CHECK(count_equal(a, b, 1001) == 1001);
    /* An engine made with the same seed gives the same numbers as the default engine. */
    af_random_engine e = 0;
    af_array x = 0;
    const dim_t n = 1001;
    CHECK_AF(af_create_random_engine(&e, AF_RANDOM_ENGINE_DEFAULT, 42));
    CHECK_AF(af_random_uniform(&x, 1, &n, f32, e));
    float c[1001];
    CHECK_AF(af_get_data_ptr(c, x));
    CHECK(count_equal(a, c, 1001) == 1001);
    unsigned long long s = 0;
    CHECK_AF(af_get_seed(&s));
    CHECK(s == 42);
    free(a);
    free(b);
    af_release_array(x);
    af_release_random_engine(e);
}

TEST(random_different_seeds_differ) {
    CHECK_AF(af_set_seed(1));
    float *a = draw_f32(1000);
    CHECK_AF(af_set_seed(2));
    float *b = draw_f32(1000);
    /* Equal by chance with probability 2^-24 each: a handful at most. */
    CHECK(count_equal(a, b, 1000) < 5);
    free(a);
    free(b);
}

TEST(random_consecutive_calls_differ) {
    CHECK_AF(af_set_seed(7));
    float *a = draw_f32(1000);
    float *b = draw_f32(1000);
    CHECK(count_equal(a, b, 1000) < 5);
    /* Calls take whole blocks: 8 then 8 f32 equal one draw of 16. 6 then 2 skip the rest of the
     * second block, so they equal scalars 0..5 and 8..9 of one draw. */
    CHECK_AF(af_set_seed(7));
    float *c = draw_f32(8), *d = draw_f32(8);
    CHECK_AF(af_set_seed(7));
    float *e = draw_f32(16);
    CHECK(count_equal(c, e, 8) == 8 && count_equal(d, e + 8, 8) == 8);
    CHECK_AF(af_set_seed(7));
    float *f = draw_f32(6), *g = draw_f32(2);
    CHECK(count_equal(f, e, 6) == 6 && count_equal(g, e + 8, 2) == 2);
    free(a), free(b), free(c), free(d), free(e), free(f), free(g);
}

TEST(random_empty_draw_keeps_counter) {
    const dim_t zero[2] = {0, 3}, four[1] = {4};
    af_array a = 0;
    uint32_t w[4], ref[4];
    CHECK_AF(af_set_seed(3));
    CHECK_AF(af_randu(&a, 2, zero, f32));
    dim_t n = -1;
    CHECK_AF(af_get_elements(&n, a));
    CHECK(n == 0);
    af_release_array(a);
    CHECK_AF(af_randn(&a, 2, zero, c64));
    af_release_array(a);
    CHECK_AF(af_randu(&a, 1, four, u32));
    CHECK_AF(af_get_data_ptr(w, a));
    em_philox4x32_10((const uint32_t[2]){3, 0}, (const uint32_t[4]){0, 0, 0, 0}, ref);
    CHECK(memcmp(w, ref, sizeof(w)) == 0);
    af_release_array(a);
}

TEST(random_complex_is_pairs) {
    /* A complex draw of n equals a real draw of 2n: (re, im) are consecutive scalars. */
    const dim_t n = 33, n2 = 66;
    for (int normal = 0; normal < 2; normal++) {
        for (int dbl = 0; dbl < 2; dbl++) {
            af_array c = 0, r = 0;
            double cv[66] = {0}, rv[66] = {0};
            float cf[66] = {0}, rf[66] = {0};
            af_err (*fn)(af_array *, unsigned, const dim_t *, af_dtype) =
                normal ? af_randn : af_randu;
            CHECK_AF(af_set_seed(11));
            CHECK_AF(fn(&c, 1, &n, dbl ? c64 : c32));
            CHECK_AF(af_set_seed(11));
            CHECK_AF(fn(&r, 1, &n2, dbl ? f64 : f32));
            if (dbl) {
                CHECK_AF(af_get_data_ptr(cv, c));
                CHECK_AF(af_get_data_ptr(rv, r));
                CHECK(memcmp(cv, rv, sizeof(cv)) == 0);
            } else {
                CHECK_AF(af_get_data_ptr(cf, c));
                CHECK_AF(af_get_data_ptr(rf, r));
                CHECK(memcmp(cf, rf, sizeof(cf)) == 0);
            }
            af_release_array(c);
            af_release_array(r);
        }
    }
}

TEST(random_f16_normal_is_f32_rounded) {
    const dim_t n = 257;
    af_array h = 0, f = 0;
    uint16_t hv[257];
    float fv[257];
    CHECK_AF(af_set_seed(5));
    CHECK_AF(af_randn(&h, 1, &n, f16));
    CHECK_AF(af_set_seed(5));
    CHECK_AF(af_randn(&f, 1, &n, f32));
    CHECK_AF(af_get_data_ptr(hv, h));
    CHECK_AF(af_get_data_ptr(fv, f));
    for (int i = 0; i < 257; i++)
        if (em_test_half_to_double(hv[i]) != round_to_half(fv[i])) {
            em_test_fail(__FILE__, __LINE__, "element %d: %g vs %g", i,
                         em_test_half_to_double(hv[i]), (double)fv[i]);
            break;
        }
    af_release_array(h);
    af_release_array(f);
}

/* ---- Distributions ------------------------------------------------------------------------------
 */

/* One million draws of a real floating type as doubles. */
#define NSTAT 1000000
static double *draw_stat(af_dtype t, bool normal, unsigned long long seed) {
    af_array a = 0;
    const dim_t dims[2] = {1000, 1000};
    CHECK_AF(af_set_seed(seed));
    CHECK_AF(normal ? af_randn(&a, 2, dims, t) : af_randu(&a, 2, dims, t));
    double *x = em_test_read(a, NULL);
    af_release_array(a);
    return x;
}

static void moments(const double *x, size_t n, double *mean, double *var, double *lo, double *hi) {
    double s = 0, s2 = 0;
    *lo = INFINITY, *hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        s += x[i];
        if (x[i] < *lo) *lo = x[i];
        if (x[i] > *hi) *hi = x[i];
    }
    *mean = s / (double)n;
    for (size_t i = 0; i < n; i++)
        s2 += (x[i] - *mean) * (x[i] - *mean);
    *var = s2 / (double)(n - 1);
}

TEST(random_uniform_statistics) {
    /* For 10^6 uniform draws on [0, 1): the mean's standard error is 2.9e-4 and the variance's
     * is 7.5e-5; the tolerances below are about 7 standard errors (f16's grid of 2^-11 shifts the
     * mean by 2.4e-4, inside the bound). Every value lies in [0, 1), and the extremes come within
     * 1e-4 of both ends. The seeds are fixed, so the test is deterministic. */
    const af_dtype types[] = {f32, f64, f16};
    for (int k = 0; k < 3; k++) {
        double *x = draw_stat(types[k], false, 1234 + k);
        double mean, var, lo, hi;
        moments(x, NSTAT, &mean, &var, &lo, &hi);
        if (fabs(mean - 0.5) > 2e-3 || fabs(var - 1.0 / 12) > 5e-4 || lo < 0 || hi >= 1 ||
            lo > 1e-4 || hi < 1 - 1e-3)
            em_test_fail(__FILE__, __LINE__, "dtype %d: mean %g var %g min %g max %g", types[k],
                         mean, var, lo, hi);
        free(x);
    }
}

TEST(random_normal_statistics) {
    /* For 10^6 standard normal draws: the mean's standard error is 1e-3, the standard
     * deviation's 7e-4, and the fraction within one sigma (0.6827) has 4.7e-4; the tolerances are
     * 5e-3, 5e-3 and 3e-3. Each tail reaches beyond 4 sigma (about 32 such values expected on each
     * side) and stay within the largest values Box-Muller can produce (6.7 from 32-bit words, 8.6
     * from 53-bit ones). */
    const af_dtype types[] = {f32, f64, f16};
    for (int k = 0; k < 3; k++) {
        double *x = draw_stat(types[k], true, 99 + k);
        double mean, var, lo, hi;
        moments(x, NSTAT, &mean, &var, &lo, &hi);
        size_t in1 = 0;
        for (size_t i = 0; i < NSTAT; i++)
            in1 += fabs(x[i]) < 1;
        double frac = (double)in1 / NSTAT;
        if (fabs(mean) > 5e-3 || fabs(sqrt(var) - 1) > 5e-3 || fabs(frac - 0.682689) > 3e-3 ||
            hi < 4 || lo > -4 || hi > 8.6 || lo < -8.6)
            em_test_fail(__FILE__, __LINE__, "dtype %d: mean %g sd %g frac %g min %g max %g",
                         types[k], mean, sqrt(var), frac, lo, hi);
        free(x);
    }
}

TEST(random_complex_normal_parts) {
    /* Each part of a complex normal is a standard normal, as in ArrayFire (variance 1 each). */
    double *x = draw_stat(c32, true, 5);
    double mean, var, lo, hi;
    moments(x, 2 * NSTAT, &mean, &var, &lo, &hi);
    CHECK(fabs(mean) < 5e-3 && fabs(var - 1) < 1e-2);
    free(x);
}

TEST(random_integer_statistics) {
    /* u8: all 256 values appear, each count within 8 standard deviations (62.4) of 3906.25. b8:
     * only 0 and 1, mean 0.5 +- 2.5e-3 (5 standard errors). Signed types are centred on 0. */
    const dim_t dims[1] = {1000000};
    af_array a = 0;
    uint8_t *u = malloc(1000000);
    CHECK_AF(af_set_seed(21));
    CHECK_AF(af_randu(&a, 1, dims, u8));
    CHECK_AF(af_get_data_ptr(u, a));
    af_release_array(a);
    size_t hist[256] = {0};
    for (int i = 0; i < 1000000; i++)
        hist[u[i]]++;
    for (int v = 0; v < 256; v++)
        if (fabs((double)hist[v] - 3906.25) > 8 * 62.4)
            em_test_fail(__FILE__, __LINE__, "u8 value %d drawn %zu times", v, hist[v]);
    CHECK_AF(af_randu(&a, 1, dims, b8));
    CHECK_AF(af_get_data_ptr(u, a));
    af_release_array(a);
    size_t ones = 0, other = 0;
    for (int i = 0; i < 1000000; i++) {
        ones += u[i] == 1;
        other += u[i] > 1;
    }
    CHECK(other == 0);
    CHECK(fabs((double)ones / 1e6 - 0.5) < 2.5e-3);
    free(u);
    const af_dtype signed_types[] = {s8, s16, s32, s64};
    const double range[] = {128, 32768, 2147483648.0, 9223372036854775808.0};
    for (int k = 0; k < 4; k++) {
        CHECK_AF(af_randu(&a, 1, dims, signed_types[k]));
        double *x = em_test_read(a, NULL);
        double mean, var, lo, hi;
        moments(x, 1000000, &mean, &var, &lo, &hi);
        /* Uniform on the integers of [-R, R): mean -1/2 with standard error R / sqrt(3e6). */
        CHECK(fabs(mean + 0.5) < 5 * range[k] / sqrt(3e6));
        CHECK(lo < -0.99 * range[k] && hi > 0.99 * range[k]);
        free(x);
        af_release_array(a);
    }
}

/* ---- The engine API
 * ------------------------------------------------------------------------------ */

TEST(random_engine_lifecycle) {
    af_random_engine e = 0, r = 0;
    af_random_engine_type t = 0;
    unsigned long long s = 0;
    CHECK_AF(af_create_random_engine(&e, AF_RANDOM_ENGINE_PHILOX_4X32_10, 123));
    CHECK_AF(af_random_engine_get_type(&t, e));
    CHECK(t == AF_RANDOM_ENGINE_PHILOX_4X32_10);
    CHECK_AF(af_random_engine_get_seed(&s, e));
    CHECK(s == 123);
    CHECK_AF(af_random_engine_set_seed(&e, 456));
    CHECK_AF(af_random_engine_get_seed(&s, e));
    CHECK(s == 456);
    CHECK_AF(af_random_engine_set_type(&e, AF_RANDOM_ENGINE_DEFAULT));
    /* A retained handle shares seed and counter: draws from either advance both. */
    CHECK_AF(af_retain_random_engine(&r, e));
    CHECK_AF(af_random_engine_get_seed(&s, r));
    CHECK(s == 456);
    const dim_t four[1] = {4};
    af_array a = 0, b = 0;
    uint32_t wa[4], wb[4], ref[4];
    CHECK_AF(af_random_uniform(&a, 1, four, u32, e));
    CHECK_AF(af_random_uniform(&b, 1, four, u32, r));
    CHECK_AF(af_get_data_ptr(wa, a));
    CHECK_AF(af_get_data_ptr(wb, b));
    em_philox4x32_10((const uint32_t[2]){456, 0}, (const uint32_t[4]){0, 0, 0, 0}, ref);
    CHECK(memcmp(wa, ref, sizeof(ref)) == 0);
    em_philox4x32_10((const uint32_t[2]){456, 0}, (const uint32_t[4]){1, 0, 0, 0}, ref);
    CHECK(memcmp(wb, ref, sizeof(ref)) == 0);
    af_release_array(a);
    af_release_array(b);
    /* Setting the seed resets the counter of both handles. */
    CHECK_AF(af_random_engine_set_seed(&r, 456));
    CHECK_AF(af_random_uniform(&a, 1, four, u32, e));
    CHECK_AF(af_get_data_ptr(wa, a));
    em_philox4x32_10((const uint32_t[2]){456, 0}, (const uint32_t[4]){0, 0, 0, 0}, ref);
    CHECK(memcmp(wa, ref, sizeof(ref)) == 0);
    af_release_array(a);
    CHECK_AF(af_release_random_engine(e));
    /* The retained handle outlives the first. */
    CHECK_AF(af_random_normal(&a, 1, four, f64, r));
    af_release_array(a);
    CHECK_AF(af_release_random_engine(r));
    CHECK_ERR(af_release_random_engine(r), AF_ERR_ARG);
    CHECK_ERR(af_random_uniform(&a, 1, four, f32, e), AF_ERR_ARG);
}

static void *thread_seed(void *arg) {
    unsigned long long *out = arg;
    af_get_seed(&out[0]);
    af_set_seed(555);
    af_get_seed(&out[1]);
    const dim_t n = 100;
    af_array a = 0;
    out[2] = af_randu(&a, 1, &n, f32);
    af_release_array(a);
    return NULL;
}

TEST(random_default_engine) {
    af_random_engine d = 0, d2 = 0;
    af_random_engine_type t = 0;
    unsigned long long s = 1;
    CHECK_AF(af_get_default_random_engine(&d));
    CHECK_AF(af_get_default_random_engine(&d2));
    CHECK(d == d2);
    CHECK_AF(af_random_engine_get_type(&t, d));
    CHECK(t == AF_RANDOM_ENGINE_PHILOX);
    /* ArrayFire's default seed is 0; a fresh thread's default engine shows it even when an
     * earlier case in this process (ember_tests --no-fork) moved this thread's seed. */
    unsigned long long fresh[3] = {1, 1, 1};
    pthread_t th;
    CHECK(pthread_create(&th, NULL, thread_seed, fresh) == 0);
    CHECK(pthread_join(th, NULL) == 0);
    CHECK(fresh[0] == 0);
    CHECK_AF(af_random_engine_set_seed(&d, 77));
    CHECK_AF(af_get_seed(&s));
    CHECK(s == 77);
    CHECK_AF(af_set_default_random_engine_type(AF_RANDOM_ENGINE_PHILOX_4X32_10));
    CHECK_ERR(af_set_default_random_engine_type(AF_RANDOM_ENGINE_MERSENNE), AF_ERR_NOT_SUPPORTED);
    CHECK_ERR(af_set_default_random_engine_type((af_random_engine_type)5), AF_ERR_ARG);
    /* Releasing the default engine is harmless: the thread keeps using it. */
    CHECK_AF(af_release_random_engine(d));
    CHECK_AF(af_get_seed(&s));
    CHECK(s == 77);
    const dim_t n = 10;
    af_array a = 0;
    CHECK_AF(af_randu(&a, 1, &n, f32));
    af_release_array(a);
}

TEST(random_default_engine_per_thread) {
    /* As in ArrayFire, each thread has its own default engine, seeded 0. */
    CHECK_AF(af_set_seed(31));
    for (int round = 0; round < 3; round++) {
        unsigned long long r[3] = {9, 9, 9};
        pthread_t th;
        CHECK(pthread_create(&th, NULL, thread_seed, r) == 0);
        pthread_join(th, NULL);
        CHECK(r[0] == 0 && r[1] == 555 && r[2] == AF_SUCCESS);
    }
    unsigned long long s = 0;
    CHECK_AF(af_get_seed(&s));
    CHECK(s == 31);
}

TEST(random_engine_types) {
    af_random_engine e = 0;
    CHECK_ERR(af_create_random_engine(&e, AF_RANDOM_ENGINE_THREEFRY_2X32_16, 1),
              AF_ERR_NOT_SUPPORTED);
    CHECK_ERR(af_create_random_engine(&e, AF_RANDOM_ENGINE_MERSENNE_GP11213, 1),
              AF_ERR_NOT_SUPPORTED);
    CHECK_ERR(af_create_random_engine(&e, (af_random_engine_type)0, 1), AF_ERR_ARG);
    CHECK_ERR(af_create_random_engine(&e, (af_random_engine_type)101, 1), AF_ERR_ARG);
    CHECK(e == 0);
    CHECK_AF(af_create_random_engine(&e, AF_RANDOM_ENGINE_PHILOX, 1));
    CHECK_ERR(af_random_engine_set_type(&e, AF_RANDOM_ENGINE_THREEFRY), AF_ERR_NOT_SUPPORTED);
    CHECK_ERR(af_random_engine_set_type(&e, (af_random_engine_type)-1), AF_ERR_ARG);
    af_random_engine_type t = 0;
    CHECK_AF(af_random_engine_get_type(&t, e));
    CHECK(t == AF_RANDOM_ENGINE_PHILOX);
    CHECK_AF(af_release_random_engine(e));
}

TEST(random_bad_input) {
    const dim_t dims[2] = {3, 3}, neg[2] = {3, -1};
    const dim_t huge[3] = {(dim_t)1 << 20, (dim_t)1 << 20, (dim_t)1 << 20};
    af_array a = 0;
    af_random_engine e = 0;
    CHECK_AF(af_create_random_engine(&e, AF_RANDOM_ENGINE_PHILOX, 1));
    CHECK_ERR(af_randu(NULL, 2, dims, f32), AF_ERR_ARG);
    CHECK_ERR(af_randu(&a, 0, dims, f32), AF_ERR_ARG);
    CHECK_ERR(af_randu(&a, 5, dims, f32), AF_ERR_ARG);
    CHECK_ERR(af_randu(&a, 2, NULL, f32), AF_ERR_ARG);
    CHECK_ERR(af_randu(&a, 2, neg, f32), AF_ERR_SIZE);
    CHECK_ERR(af_randu(&a, 3, huge, f32), AF_ERR_SIZE);
    CHECK_ERR(af_randu(&a, 2, dims, (af_dtype)14), AF_ERR_TYPE);
    CHECK_ERR(af_randn(NULL, 2, dims, f32), AF_ERR_ARG);
    CHECK_ERR(af_randn(&a, 5, dims, f32), AF_ERR_ARG);
    CHECK_ERR(af_randn(&a, 2, neg, f32), AF_ERR_SIZE);
    /* randn takes the floating types only. */
    const af_dtype ints[] = {b8, s32, u32, u8, s64, u64, s16, u16, s8};
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        CHECK_ERR(af_randn(&a, 2, dims, ints[i]), AF_ERR_TYPE);
        CHECK_ERR(af_random_normal(&a, 2, dims, ints[i], e), AF_ERR_TYPE);
    }
    CHECK_ERR(af_random_uniform(NULL, 2, dims, f32, e), AF_ERR_ARG);
    CHECK_ERR(af_random_uniform(&a, 2, dims, f32, NULL), AF_ERR_ARG);
    CHECK_ERR(af_random_uniform(&a, 2, dims, (af_dtype)-3, e), AF_ERR_TYPE);
    CHECK_ERR(af_random_normal(&a, 2, dims, f32, NULL), AF_ERR_ARG);
    CHECK_ERR(af_random_normal(&a, 7, dims, f32, e), AF_ERR_ARG);
    CHECK(a == 0);
    /* An array handle is not an engine. */
    af_array arr = 0;
    CHECK_AF(af_constant(&arr, 1, 2, dims, f32));
    CHECK_ERR(af_random_uniform(&a, 2, dims, f32, (af_random_engine)arr), AF_ERR_ARG);
    af_release_array(arr);
    CHECK_ERR(af_create_random_engine(NULL, AF_RANDOM_ENGINE_PHILOX, 1), AF_ERR_ARG);
    CHECK_ERR(af_retain_random_engine(NULL, e), AF_ERR_ARG);
    CHECK_ERR(af_retain_random_engine(&e, NULL), AF_ERR_ARG);
    CHECK_ERR(af_random_engine_set_type(NULL, AF_RANDOM_ENGINE_PHILOX), AF_ERR_ARG);
    CHECK_ERR(af_random_engine_get_type(NULL, e), AF_ERR_ARG);
    CHECK_ERR(af_random_engine_set_seed(NULL, 1), AF_ERR_ARG);
    CHECK_ERR(af_random_engine_get_seed(NULL, e), AF_ERR_ARG);
    CHECK_ERR(af_get_default_random_engine(NULL), AF_ERR_ARG);
    CHECK_ERR(af_get_seed(NULL), AF_ERR_ARG);
    CHECK_ERR(af_release_random_engine(NULL), AF_ERR_ARG);
    CHECK_AF(af_release_random_engine(e));
    unsigned long long s;
    CHECK_ERR(af_random_engine_get_seed(&s, e), AF_ERR_ARG);
    CHECK_ERR(af_random_engine_set_seed(&e, 3), AF_ERR_ARG);
}
