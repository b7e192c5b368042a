/* random.h: ArrayFire's three engines (Philox 4x32-10, Threefry 2x32-16, Mersenne GP11213) and the
 * engine API. The generators are checked against published known answers; every engine, dtype and
 * distribution against golden values derived from ArrayFire's algorithm (its CUDA kernels, read
 * and reimplemented apart from src/core/rng.h, with exactly rounded log, sin and cos), bit for
 * bit for integers and uniforms and to an ulp for normals (the first Philox values are also
 * ArrayFire 3.10's published output); the backend's output against the per-thread definition in
 * src/core/rng.h, bit for bit for every kind, which is also what makes the CUDA backend's numbers
 * the CPU's; the distributions with mean, variance, histogram chi-square and lag-correlation
 * checks whose tolerances are stated beside each; and the engine API for seeding, counter and
 * state advance, sharing between retained handles, types, per-thread default engines and bad
 * input. */
#include "test.h"

#include "../src/core/rng.h"

#include <pthread.h>
#include <string.h>

static const af_dtype uniform_types[] = {f32, c32, f64, c64, b8,  s32, u32,
                                         u8,  s64, u64, s16, u16, f16, s8};
#define NUNIFORM (sizeof(uniform_types) / sizeof(uniform_types[0]))
static const af_dtype normal_types[] = {f32, c32, f64, c64, f16};
#define NNORMAL (sizeof(normal_types) / sizeof(normal_types[0]))
static const af_random_engine_type engine_types[] = {AF_RANDOM_ENGINE_PHILOX_4X32_10,
                                                     AF_RANDOM_ENGINE_THREEFRY_2X32_16,
                                                     AF_RANDOM_ENGINE_MERSENNE_GP11213};
static const char *const engine_names[] = {"Philox", "Threefry", "Mersenne"};

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

/* Draws n elements of t from a fresh engine of `type` and `seed` into a malloc'ed host buffer. */
static void *draw_raw(af_random_engine_type type, unsigned long long seed, af_dtype t, int normal,
                      dim_t n) {
    af_random_engine e = 0;
    af_array a = 0;
    void *host = calloc((size_t)n + 1, em_test_dtype_size(t));
    CHECK_AF(af_create_random_engine(&e, type, seed));
    CHECK_AF(normal ? af_random_normal(&a, 1, &n, t, e) : af_random_uniform(&a, 1, &n, t, e));
    if (a) CHECK_AF(af_get_data_ptr(host, a));
    af_release_array(a);
    af_release_random_engine(e);
    return host;
}

/* Distance in ulps between two floats of `bytes` bytes (2, 4 or 8) given by their bits. */
static uint64_t ulp_distance(uint64_t a, uint64_t b, size_t bytes) {
    unsigned bits = 8 * (unsigned)bytes;
    uint64_t sign = (uint64_t)1 << (bits - 1);
    int64_t x = (int64_t)(a & (sign - 1)), y = (int64_t)(b & (sign - 1));
    if (a & sign) x = -x;
    if (b & sign) y = -y;
    return x > y ? (uint64_t)(x - y) : (uint64_t)(y - x);
}

/* ---- The generators themselves ------------------------------------------------------------------
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

TEST(random_threefry_known_answers) {
    /* Threefry 2x32 with 16 rounds on Random123's three kat inputs (counter, key). Random123
     * publishes answers for 13, 20 and 32 rounds only; these were computed with an independent
     * implementation of the same construction, which reproduces Random123's published 13- and
     * 20-round answers. */
    static const uint32_t kat[3][6] = {
        {0, 0, 0, 0, 0xc9e95d8b, 0x663f4d97},
        {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xa3e9afee, 0x64f11f29},
        {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0x41dffe3e, 0x252a17da},
    };
    for (int k = 0; k < 3; k++) {
        uint32_t out[2];
        em_threefry2x32_16(&kat[k][2], &kat[k][0], out);
        CHECK(out[0] == kat[k][4] && out[1] == kat[k][5]);
    }
}

TEST(random_counter_carry) {
    /* Thread index idx of (seed, counter) is Philox at the 128-bit counter + idx, and Threefry at
     * the 64-bit counter + idx and that + half, wrapping. */
    uint32_t w[4], ref[4];
    const uint32_t key[2] = {0x89abcdefu, 0x01234567u};
    em_rng_cb_words(EM_RNG_PHILOX, 0x0123456789abcdefull, UINT64_MAX, 2, 512, w);
    em_philox4x32_10(key, (const uint32_t[4]){1, 0, 1, 0}, ref);
    CHECK(memcmp(w, ref, sizeof(w)) == 0);
    em_rng_cb_words(EM_RNG_PHILOX, 0x0123456789abcdefull, 0xfffffffeull, 3, 512, w);
    em_philox4x32_10(key, (const uint32_t[4]){1, 1, 0, 0}, ref);
    CHECK(memcmp(w, ref, sizeof(w)) == 0);
    em_rng_cb_words(EM_RNG_THREEFRY, 0x0123456789abcdefull, UINT64_MAX - 1, 3, 512, w);
    em_threefry2x32_16(key, (const uint32_t[2]){1, 0}, ref);
    em_threefry2x32_16(key, (const uint32_t[2]){513, 0}, ref + 2);
    CHECK(memcmp(w, ref, sizeof(w)) == 0);
}

TEST(random_mersenne_tables_and_seeding) {
    /* MTGP's recursion and tempering tables are linear over XOR: a corrupted entry breaks it. */
    for (int b = 0; b < EM_RNG_MT_BLOCKS; b++)
        for (int i = 0; i < 16; i++)
            for (int j = 0; j < 16; j++) {
                const uint32_t *r = &em_rng_mt_rec_tbl[16 * b], *t = &em_rng_mt_tmp_tbl[16 * b];
                if (r[i ^ j] != (r[i] ^ r[j]) || t[i ^ j] != (t[i] ^ t[j])) {
                    em_test_fail(__FILE__, __LINE__, "block %d: tables not linear at %d ^ %d", b, i,
                                 j);
                    return;
                }
            }
    for (int b = 0; b < EM_RNG_MT_BLOCKS; b++)
        CHECK(em_rng_mt_pos[b] < EM_RNG_MT_N - EM_RNG_THREADS - 1); /* the kernel's barrier rule */
    /* The seeded state of seed 1234, from an independent implementation of ArrayFire's
     * initState: word 0 is the seed, word 1 the hidden seed of block 0's table. */
    uint32_t *s = malloc(EM_RNG_MT_WORDS * sizeof(uint32_t));
    em_rng_mt_init(1234, s);
    CHECK(s[0] == 0x4d2 && s[1] == 0xbee48db && s[2] == 0xea8d8018 && s[350] == 0xaca95d46);
    CHECK(s[351] == 0x4d2 && s[31 * 351 + 350] == 0x276d9bee);
    free(s);
}

TEST(random_half_conversion) {
    /* The binary16 rounding of rng.h against the exact rounding of this file, on every float bit
     * pattern with a step that visits all exponents and many ties, and back. */
    for (uint64_t bits = 0; bits <= 0xffffffffu; bits += 4093) {
        uint32_t b = (uint32_t)bits;
        float f;
        memcpy(&f, &b, 4);
        uint16_t h = em_rng_f32_to_f16(f);
        double got = em_test_half_to_double(h);
        double ref = round_to_half(f);
        if (!(got == ref || (isnan(got) && isnan(ref))) || signbit(got) != signbit(ref)) {
            em_test_fail(__FILE__, __LINE__, "%a: got %a, expected %a", f, got, ref);
            break;
        }
        double back = em_rng_f16_to_f32(h);
        if (!(back == got || (isnan(back) && isnan(got)))) {
            em_test_fail(__FILE__, __LINE__, "0x%04x: back %a, expected %a", h, back, got);
            break;
        }
    }
    /* Ties to even at the subnormal and normal boundaries. */
    CHECK(em_rng_f32_to_f16(0x1p-25f) == 0);
    CHECK(em_rng_f32_to_f16(0x1.8p-24f) == 2);
    CHECK(em_rng_f32_to_f16(2049.0f) == em_rng_f32_to_f16(2048.0f));
    CHECK(em_rng_f32_to_f16(65520.0f) == 0x7c00);
}

TEST(random_math_accuracy) {
    /* em_rng_log and em_rng_sincospi against the C library in long double, on a grid of the
     * arguments draws pass: within 1 ulp of double (the functions are designed to about 0.7). */
    double worst_log = 0, worst_sc = 0;
    for (int i = 1; i <= 20000; i++) {
        double x = ldexp((double)i * 0.9999731, -(i % 70)) / 20000.0;
        long double ref = logl((long double)x);
        double got = em_rng_log(x);
        double ulp = ldexp(1.0, ilogb((double)ref) - 52);
        double err = (double)fabsl((long double)got - ref) / ulp;
        if (err > worst_log) worst_log = err;
        double u = 2.0 * (double)i / 20000.0, s, c;
        em_rng_sincospi(u, &s, &c);
        long double pu = (long double)u * 3.14159265358979323846264338327950288L;
        long double rs = sinl(pu), rc = cosl(pu);
        if (fabsl(rs) > 0.1L) {
            double e = (double)fabsl((long double)s - rs) / ldexp(1.0, ilogb((double)rs) - 52);
            if (e > worst_sc) worst_sc = e;
        }
        if (fabsl(rc) > 0.1L) {
            double e = (double)fabsl((long double)c - rc) / ldexp(1.0, ilogb((double)rc) - 52);
            if (e > worst_sc) worst_sc = e;
        }
    }
    if (worst_log > 1.0 || worst_sc > 1.0)
        em_test_fail(__FILE__, __LINE__, "worst errors: log %.3g ulp, sincospi %.3g ulp", worst_log,
                     worst_sc);
    /* Exact points. */
    double s, c;
    CHECK(em_rng_log(1.0) == 0 && em_rng_log(2.0) == 0x1.62e42fefa39efp-1);
    em_rng_sincospi(1.0, &s, &c);
    CHECK(s == 0 && !signbit(s) && c == -1);
    em_rng_sincospi(0.5, &s, &c);
    CHECK(s == 1 && c == 0 && !signbit(c));
    em_rng_sincospi(2.0, &s, &c);
    CHECK(s == 0 && !signbit(s) && c == 1);
}

/* The k-th of the floats (float)w takes for a 32-bit word w, in increasing order: the integers up
 * to 2^24, then every float up to 2^32 (83886081 in all). A draw passes each float v or u of a
 * normal pair through one of these. */
#define FLOAT_OF_WORD_COUNT ((1ull << 24) + 1 + 8ull * (1ull << 23))
static float float_of_word(uint64_t k) {
    if (k <= (1u << 24)) return (float)k;
    return em_rng_bitsf(em_rng_fbits(16777216.0f) + (uint32_t)(k - (1u << 24)));
}

/* Checks the fast log, sin and cos of em_rng_nf32_x2 against the long sequence (em_rng_log and
 * em_rng_sincospi rounded to float) on the inputs made from every `stride`-th float of
 * float_of_word, bit for bit wherever the fast way says it can round; counts its refusals. */
static void check_fast_normals(uint64_t stride, uint64_t *refused, uint64_t *checked) {
    uint64_t bad = 0;
    *refused = *checked = 0;
    for (uint64_t k = 0; k < FLOAT_OF_WORD_COUNT; k += stride) {
        float f = float_of_word(k), lg, s, c;
        float v = fmaf(f, EM_RNG_2M32F, EM_RNG_2M33F), u = fmaf(f, EM_RNG_2M31F, EM_RNG_2M32F);
        (*checked)++;
        if (em_rng_logf_fast(v, &lg)) {
            float want = (float)em_rng_log((double)v);
            if (em_rng_fbits(lg) != em_rng_fbits(want) && bad++ < 5)
                em_test_fail(__FILE__, __LINE__, "log of %a: fast %a, long %a", v, lg, want);
        } else {
            (*refused)++;
        }
        if (em_rng_sincospif_fast(u, &s, &c)) {
            double ws, wc;
            em_rng_sincospi((double)u, &ws, &wc);
            if ((em_rng_fbits(s) != em_rng_fbits((float)ws) ||
                 em_rng_fbits(c) != em_rng_fbits((float)wc)) &&
                bad++ < 5)
                em_test_fail(__FILE__, __LINE__, "sincospi of %a: fast %a %a, long %a %a", u, s, c,
                             (float)ws, (float)wc);
        } else {
            (*refused)++;
        }
    }
}

TEST(random_fast_normals_match_long_sequence) {
    /* The f32 normals (both backends, through em_rng_store) take em_rng_nf32_x2's fast way, which
     * must round to exactly the floats of em_rng_nf32's long double-precision sequence. Every
     * 29th of the 2^26.3 possible inputs here; all of them (about 20 s of one core) with
     * EMBER_RANDOM_EXHAUSTIVE=1. The fast values are within 2^-47 of exact and refuse within
     * 2^-43 of a rounding boundary, so about 2 in 2^18 inputs fall back. */
    if (em_test_backend() != AF_BACKEND_CPU) SKIP("checks rng.h alone, in the CPU pass");
    const char *all = getenv("EMBER_RANDOM_EXHAUSTIVE");
    uint64_t refused, checked;
    check_fast_normals(all && all[0] == '1' ? 1 : 29, &refused, &checked);
    if (refused * 4096 > checked)
        em_test_fail(__FILE__, __LINE__, "the fast way refused %llu of %llu inputs",
                     (unsigned long long)refused, (unsigned long long)checked);
    /* Exact points: log 1 = +0 (so the draw's r is sqrtf(-0) = -0, as in the long sequence), and
     * sin and cos of pi u at multiples of 1/2 are +0 or +-1. */
    float lg, s, c;
    CHECK(em_rng_logf_fast(1.0f, &lg) && em_rng_fbits(lg) == 0);
    static const float halves[] = {0.5f, 1.0f, 1.5f, 2.0f};
    for (int i = 0; i < 4; i++) {
        double ws, wc;
        em_rng_sincospi((double)halves[i], &ws, &wc);
        CHECK(em_rng_sincospif_fast(halves[i], &s, &c));
        CHECK(em_rng_fbits(s) == em_rng_fbits((float)ws) &&
              em_rng_fbits(c) == em_rng_fbits((float)wc));
    }
    /* Words the fast way refuses (found by the exhaustive run; if a change to the polynomials
     * makes it take them, pick new ones there): the fallback gives the long sequence's numbers,
     * with a fast pair beside it. */
    static const uint32_t log_refused[] = {0x0000d07eu, 0x00014d2au, 0x002563bcu, 0x005f4f83u};
    static const uint32_t sc_refused[] = {0x0005b1b0u, 0x0008721au, 0x001dad71u, 0x0031372eu};
    for (int i = 0; i < 4; i++) {
        CHECK(!em_rng_logf_fast(fmaf((float)log_refused[i], EM_RNG_2M32F, EM_RNG_2M33F), &lg));
        CHECK(
            !em_rng_sincospif_fast(fmaf((float)sc_refused[i], EM_RNG_2M31F, EM_RNG_2M32F), &s, &c));
        const uint32_t w[2][4] = {{0x12345678u, log_refused[i], sc_refused[i], 0x9abcdef0u},
                                  {sc_refused[i], 0x0badcafeu, 0x31415926u, log_refused[i]}};
        for (int j = 0; j < 2; j++) {
            float n[4], want[4];
            em_rng_nf32_x2(w[j], n);
            em_rng_nf32(w[j][0], w[j][1], &want[0], &want[1]);
            em_rng_nf32(w[j][2], w[j][3], &want[2], &want[3]);
            CHECK(memcmp(n, want, sizeof(n)) == 0);
        }
    }
    /* Random words, whole pairs. */
    for (int i = 0; i < 100000; i++) {
        uint64_t a = em_test_rand_u64(), b = em_test_rand_u64();
        const uint32_t w[4] = {(uint32_t)a, (uint32_t)(a >> 32), (uint32_t)b, (uint32_t)(b >> 32)};
        float n[4], want[4];
        em_rng_nf32_x2(w, n);
        em_rng_nf32(w[0], w[1], &want[0], &want[1]);
        em_rng_nf32(w[2], w[3], &want[2], &want[3]);
        if (memcmp(n, want, sizeof(n)) != 0) {
            em_test_fail(__FILE__, __LINE__, "words %08x %08x %08x %08x", w[0], w[1], w[2], w[3]);
            break;
        }
    }
}

TEST(random_whole_group_store_matches_checked_store) {
    /* The CUDA kernels store whole groups through em_rng_store_slots without bounds checks: the
     * same elements as em_rng_store with bounds, for every kind, Philox's words from its round
     * keys (as the kernels form them) equal to em_philox4x32_10's. */
    if (em_test_backend() != AF_BACKEND_CPU) SKIP("checks rng.h alone, in the CPU pass");
    const uint32_t key[2] = {0x9e3779b9u, 0x12345u};
    uint32_t rk[20];
    em_philox_round_keys(key, rk);
    for (int kind = EM_RNG_U8; kind < EM_RNG_KINDS; kind++) {
        size_t G = em_rng_group(kind), eb = em_rng_elem_bytes(kind);
        unsigned char *a = calloc(G, eb), *b = calloc(G, eb);
        for (unsigned t = 0; t < EM_RNG_THREADS; t++) {
            const uint32_t ctr[4] = {t, 7, 0, 0};
            uint32_t w[4], ref[4];
            em_philox4x32_10_rk(rk, ctr, w);
            em_philox4x32_10(key, ctr, ref);
            if (memcmp(w, ref, sizeof(w)) != 0)
                em_test_fail(__FILE__, __LINE__, "round keys: thread %u differs", t);
            em_rng_store_slots(a, kind, t, 0, 0, 1, w);
            em_rng_store(b, kind, t, 0, G, w);
        }
        if (memcmp(a, b, G * eb) != 0) em_test_fail(__FILE__, __LINE__, "kind %d differs", kind);
        free(a);
        free(b);
    }
}

/* ---- ArrayFire's numbers ------------------------------------------------------------------------
 */

TEST(random_arrayfire_philox_example) {
    /* The example of issue 16: ArrayFire 3.10 begins this draw with 0.87279207, 0.37916768,
     * 0.75082725, 0.2884735. */
    af_random_engine e = 0;
    af_array a = 0;
    const dim_t n = 16;
    float x[16] = {0};
    CHECK_AF(af_create_random_engine(&e, AF_RANDOM_ENGINE_PHILOX_4X32_10, 1234));
    CHECK_AF(af_random_uniform(&a, 1, &n, f32, e));
    CHECK_AF(af_get_data_ptr(x, a));
    CHECK(x[0] == 0.87279207f && x[1] == 0.37916768f && x[2] == 0.75082725f && x[3] == 0.2884735f);
    af_release_array(a);
    af_release_random_engine(e);
}

/* Golden values: element `idx` of a draw of 2000 elements of `type` from a fresh engine (0
 * Philox, 1 Threefry, 2 Mersenne) with seed 1234, as bits (re; im for complex types). They come
 * from an implementation of ArrayFire's CUDA kernels written apart from src/core/rng.h, with
 * correctly rounded log, sin and cos for the normals (scripts/random_golden.py prints them). The
 * indices cross the layout's strides: slot 0 and 1 of a thread (0 and 256 apart), and the next
 * group (1024). */
typedef struct {
    int engine;
    af_dtype type;
    int normal;
    int idx;
    uint64_t re, im;
} golden;

static const golden goldens[] = {
    {0, f32, 0, 0, 0x3f5f6f4dull, 0x0ull},
    {0, f32, 0, 1, 0x3ec22244ull, 0x0ull},
    {0, f32, 0, 255, 0x3f40c8e4ull, 0x0ull},
    {0, f32, 0, 256, 0x3e160c3cull, 0x0ull},
    {0, f32, 0, 1024, 0x3e817cc4ull, 0x0ull},
    {0, f32, 0, 1999, 0x3f04a967ull, 0x0ull},
    {0, c32, 0, 0, 0x3f5f6f4dull, 0x3e160c3cull},
    {0, c32, 0, 1, 0x3ec22244ull, 0x3f6341ecull},
    {0, c32, 0, 255, 0x3f40c8e4ull, 0x3ee8acfcull},
    {0, c32, 0, 256, 0x3f3bfe70ull, 0x3e50d6e4ull},
    {0, c32, 0, 1024, 0x3e817cc4ull, 0x3f61f73aull},
    {0, c32, 0, 1999, 0x3e4a5ab4ull, 0x3f3b17c6ull},
    {0, f64, 0, 0, 0x3febede996e4b062ull, 0x0ull},
    {0, f64, 0, 1, 0x3fd8444872b8d07cull, 0x0ull},
    {0, f64, 0, 255, 0x3fe8191c8d0e8ad0ull, 0x0ull},
    {0, f64, 0, 256, 0x3fe77fcdf20686b7ull, 0x0ull},
    {0, f64, 0, 1024, 0x3fd02f9894b87dceull, 0x0ull},
    {0, f64, 0, 1999, 0x3fc94b56ba5d8be4ull, 0x0ull},
    {0, c64, 0, 0, 0x3febede996e4b062ull, 0x3fe77fcdf20686b7ull},
    {0, c64, 0, 1, 0x3fd8444872b8d07cull, 0x3f97623db3ae0480ull},
    {0, c64, 0, 255, 0x3fe8191c8d0e8ad0ull, 0x3fd56a8ae0336d82ull},
    {0, c64, 0, 256, 0x3fdc0c84dc63a2beull, 0x3fa21f1bfd81e800ull},
    {0, c64, 0, 1024, 0x3fd02f9894b87dceull, 0x3fea444da9633828ull},
    {0, c64, 0, 1999, 0x3fdad002bbf9da82ull, 0x3fd125db5decc94cull},
    {0, b8, 0, 0, 0x0ull, 0x0ull},
    {0, b8, 0, 1, 0x1ull, 0x0ull},
    {0, b8, 0, 255, 0x1ull, 0x0ull},
    {0, b8, 0, 256, 0x1ull, 0x0ull},
    {0, b8, 0, 1024, 0x1ull, 0x0ull},
    {0, b8, 0, 1999, 0x1ull, 0x0ull},
    {0, s32, 0, 0, 0x2090b348ull, 0x0ull},
    {0, s32, 0, 1, 0x9eeede35ull, 0x0ull},
    {0, s32, 0, 255, 0x3f371b97ull, 0x0ull},
    {0, s32, 0, 256, 0xda7cf0abull, 0x0ull},
    {0, s32, 0, 1024, 0xbf419dadull, 0x0ull},
    {0, s32, 0, 1999, 0x7b5698feull, 0x0ull},
    {0, u32, 0, 0, 0x2090b348ull, 0x0ull},
    {0, u32, 0, 1, 0x9eeede35ull, 0x0ull},
    {0, u32, 0, 255, 0x3f371b97ull, 0x0ull},
    {0, u32, 0, 256, 0xda7cf0abull, 0x0ull},
    {0, u32, 0, 1024, 0xbf419dadull, 0x0ull},
    {0, u32, 0, 1999, 0x7b5698feull, 0x0ull},
    {0, u8, 0, 0, 0x48ull, 0x0ull},
    {0, u8, 0, 1, 0x35ull, 0x0ull},
    {0, u8, 0, 255, 0x97ull, 0x0ull},
    {0, u8, 0, 256, 0xb3ull, 0x0ull},
    {0, u8, 0, 1024, 0xabull, 0x0ull},
    {0, u8, 0, 1999, 0xfull, 0x0ull},
    {0, s64, 0, 0, 0xda7cf0ab2090b348ull, 0x0ull},
    {0, s64, 0, 1, 0x1cbe137c9eeede35ull, 0x0ull},
    {0, s64, 0, 255, 0x8ba982463f371b97ull, 0x0ull},
    {0, s64, 0, 256, 0xcbca470e4401906full, 0x0ull},
    {0, s64, 0, 1024, 0x1e08c613bf419dadull, 0x0ull},
    {0, s64, 0, 1999, 0x44e839c1cd69528bull, 0x0ull},
    {0, u64, 0, 0, 0xda7cf0ab2090b348ull, 0x0ull},
    {0, u64, 0, 1, 0x1cbe137c9eeede35ull, 0x0ull},
    {0, u64, 0, 255, 0x8ba982463f371b97ull, 0x0ull},
    {0, u64, 0, 256, 0xcbca470e4401906full, 0x0ull},
    {0, u64, 0, 1024, 0x1e08c613bf419dadull, 0x0ull},
    {0, u64, 0, 1999, 0x44e839c1cd69528bull, 0x0ull},
    {0, s16, 0, 0, 0xb348ull, 0x0ull},
    {0, s16, 0, 1, 0xde35ull, 0x0ull},
    {0, s16, 0, 255, 0x1b97ull, 0x0ull},
    {0, s16, 0, 256, 0x2090ull, 0x0ull},
    {0, s16, 0, 1024, 0x906full, 0x0ull},
    {0, s16, 0, 1999, 0xc59ull, 0x0ull},
    {0, u16, 0, 0, 0xb348ull, 0x0ull},
    {0, u16, 0, 1, 0xde35ull, 0x0ull},
    {0, u16, 0, 255, 0x1b97ull, 0x0ull},
    {0, u16, 0, 256, 0x2090ull, 0x0ull},
    {0, u16, 0, 1024, 0x906full, 0x0ull},
    {0, u16, 0, 1999, 0xc59ull, 0x0ull},
    {0, f16, 0, 0, 0x34ccull, 0x0ull},
    {0, f16, 0, 1, 0x3038ull, 0x0ull},
    {0, f16, 0, 255, 0x3b23ull, 0x0ull},
    {0, f16, 0, 256, 0x3afcull, 0x0ull},
    {0, f16, 0, 1024, 0x36faull, 0x0ull},
    {0, f16, 0, 1999, 0x3b9dull, 0x0ull},
    {0, s8, 0, 0, 0x48ull, 0x0ull},
    {0, s8, 0, 1, 0x35ull, 0x0ull},
    {0, s8, 0, 255, 0x97ull, 0x0ull},
    {0, s8, 0, 256, 0xb3ull, 0x0ull},
    {0, s8, 0, 1024, 0xabull, 0x0ull},
    {0, s8, 0, 1999, 0xfull, 0x0ull},
    {0, f32, 1, 0, 0x3ece9c5aull, 0x0ull},
    {0, f32, 1, 1, 0xbfb8436aull, 0x0ull},
    {0, f32, 1, 255, 0x3f8ce26full, 0x0ull},
    {0, f32, 1, 256, 0x3ec8f4cbull, 0x0ull},
    {0, f32, 1, 1024, 0xc004784dull, 0x0ull},
    {0, f32, 1, 1999, 0x3f82be1eull, 0x0ull},
    {0, c32, 1, 0, 0x3ece9c5aull, 0x3ec8f4cbull},
    {0, c32, 1, 1, 0xbfb8436aull, 0xbfc22ceeull},
    {0, c32, 1, 255, 0x3f8ce26full, 0x3cadaf33ull},
    {0, c32, 1, 256, 0x3f2c119full, 0xbd87c971ull},
    {0, c32, 1, 1024, 0xc004784dull, 0xbd1ac3e1ull},
    {0, c32, 1, 1999, 0xbfc43e5cull, 0x3f061227ull},
    {0, f64, 1, 0, 0x3ff2acd95d1cdb55ull, 0x0ull},
    {0, f64, 1, 1, 0xbfc2f03f129d2e5bull, 0x0ull},
    {0, f64, 1, 255, 0x3fece1522acd6386ull, 0x0ull},
    {0, f64, 1, 256, 0x3ff22a01b71217fdull, 0x0ull},
    {0, f64, 1, 1024, 0xbffdaa7faedf91d0ull, 0x0ull},
    {0, f64, 1, 1999, 0x3fe470f2bfde46d3ull, 0x0ull},
    {0, c64, 1, 0, 0x3ff2acd95d1cdb55ull, 0x3ff22a01b71217fdull},
    {0, c64, 1, 1, 0xbfc2f03f129d2e5bull, 0xbfc3f50cbda14492ull},
    {0, c64, 1, 255, 0x3fece1522acd6386ull, 0x3f91cd494131fe26ull},
    {0, c64, 1, 256, 0xbfb9feb71f120a24ull, 0xbfcfcf5022f15699ull},
    {0, c64, 1, 1024, 0xbffdaa7faedf91d0ull, 0xbfa1545f0f226265ull},
    {0, c64, 1, 1999, 0xbfd8a4d72ae0da0full, 0xbfe610ed29d41c05ull},
    {0, f16, 1, 0, 0xbfbaull, 0x0ull},
    {0, f16, 1, 1, 0xb9c4ull, 0x0ull},
    {0, f16, 1, 255, 0x3c31ull, 0x0ull},
    {0, f16, 1, 256, 0xb905ull, 0x0ull},
    {0, f16, 1, 1024, 0xb916ull, 0x0ull},
    {0, f16, 1, 1999, 0x40ecull, 0x0ull},
    {1, f32, 0, 0, 0x3e846b9eull, 0x0ull},
    {1, f32, 0, 1, 0x3e5f326cull, 0x0ull},
    {1, f32, 0, 255, 0x3e1d208cull, 0x0ull},
    {1, f32, 0, 256, 0x3f16a7e0ull, 0x0ull},
    {1, f32, 0, 1024, 0x3ef9c80cull, 0x0ull},
    {1, f32, 0, 1999, 0x3f1e92acull, 0x0ull},
    {1, c32, 0, 0, 0x3e846b9eull, 0x3f16a7e0ull},
    {1, c32, 0, 1, 0x3e5f326cull, 0x3ee23600ull},
    {1, c32, 0, 255, 0x3e1d208cull, 0x3f2fdf12ull},
    {1, c32, 0, 256, 0x3e973ee4ull, 0x3e8b71fcull},
    {1, c32, 0, 1024, 0x3ef9c80cull, 0x3d83a850ull},
    {1, c32, 0, 1999, 0x3f204fa6ull, 0x3d0ce090ull},
    {1, f64, 0, 0, 0x3fd08d73a7e5a9f8ull, 0x0ull},
    {1, f64, 0, 1, 0x3fcbe64d4b388d80ull, 0x0ull},
    {1, f64, 0, 255, 0x3fc3a41180d7ef88ull, 0x0ull},
    {1, f64, 0, 256, 0x3fd2e7dc78516e40ull, 0x0ull},
    {1, f64, 0, 1024, 0x3fdf390178041d42ull, 0x0ull},
    {1, f64, 0, 1999, 0x3fe409f4b70119c1ull, 0x0ull},
    {1, c64, 0, 0, 0x3fd08d73a7e5a9f8ull, 0x3fbdac68c4454240ull},
    {1, c64, 0, 1, 0x3fcbe64d4b388d80ull, 0x3fd07926892b45acull},
    {1, c64, 0, 255, 0x3fc3a41180d7ef88ull, 0x3fe2e032c0aa4538ull},
    {1, c64, 0, 256, 0x3fd2e7dc78516e40ull, 0x3fcf3449cb007570ull},
    {1, c64, 0, 1024, 0x3fdf390178041d42ull, 0x3fdd51c478595d3eull},
    {1, c64, 0, 1999, 0x3fe409f4b70119c1ull, 0x3fedc9e5107e3b24ull},
    {1, b8, 0, 0, 0x0ull, 0x0ull},
    {1, b8, 0, 1, 0x1ull, 0x0ull},
    {1, b8, 0, 255, 0x0ull, 0x0ull},
    {1, b8, 0, 256, 0x1ull, 0x0ull},
    {1, b8, 0, 1024, 0x1ull, 0x0ull},
    {1, b8, 0, 1999, 0x0ull, 0x0ull},
    {1, s32, 0, 0, 0xbdca3160ull, 0x0ull},
    {1, s32, 0, 1, 0xc8336569ull, 0x0ull},
    {1, s32, 0, 255, 0xd8b7dcfeull, 0x0ull},
    {1, s32, 0, 256, 0x69582035ull, 0x0ull},
    {1, s32, 0, 1024, 0x831bfa1full, 0x0ull},
    {1, s32, 0, 1999, 0x616d543dull, 0x0ull},
    {1, u32, 0, 0, 0xbdca3160ull, 0x0ull},
    {1, u32, 0, 1, 0xc8336569ull, 0x0ull},
    {1, u32, 0, 255, 0xd8b7dcfeull, 0x0ull},
    {1, u32, 0, 256, 0x69582035ull, 0x0ull},
    {1, u32, 0, 1024, 0x831bfa1full, 0x0ull},
    {1, u32, 0, 1999, 0x616d543dull, 0x0ull},
    {1, u8, 0, 0, 0x60ull, 0x0ull},
    {1, u8, 0, 1, 0x69ull, 0x0ull},
    {1, u8, 0, 255, 0xfeull, 0x0ull},
    {1, u8, 0, 256, 0x31ull, 0x0ull},
    {1, u8, 0, 1024, 0x35ull, 0x0ull},
    {1, u8, 0, 1999, 0x64ull, 0x0ull},
    {1, s64, 0, 0, 0x69582035bdca3160ull, 0x0ull},
    {1, s64, 0, 1, 0x8ee50036c8336569ull, 0x0ull},
    {1, s64, 0, 255, 0x5020ed95d8b7dcfeull, 0x0ull},
    {1, s64, 0, 256, 0xba4701e6b4608e1eull, 0x0ull},
    {1, s64, 0, 1024, 0xef8af631831bfa1full, 0x0ull},
    {1, s64, 0, 1999, 0xf731f7515fb05a47ull, 0x0ull},
    {1, u64, 0, 0, 0x69582035bdca3160ull, 0x0ull},
    {1, u64, 0, 1, 0x8ee50036c8336569ull, 0x0ull},
    {1, u64, 0, 255, 0x5020ed95d8b7dcfeull, 0x0ull},
    {1, u64, 0, 256, 0xba4701e6b4608e1eull, 0x0ull},
    {1, u64, 0, 1024, 0xef8af631831bfa1full, 0x0ull},
    {1, u64, 0, 1999, 0xf731f7515fb05a47ull, 0x0ull},
    {1, s16, 0, 0, 0x3160ull, 0x0ull},
    {1, s16, 0, 1, 0x6569ull, 0x0ull},
    {1, s16, 0, 255, 0xdcfeull, 0x0ull},
    {1, s16, 0, 256, 0xbdcaull, 0x0ull},
    {1, s16, 0, 1024, 0xfa1full, 0x0ull},
    {1, s16, 0, 1999, 0x8d69ull, 0x0ull},
    {1, u16, 0, 0, 0x3160ull, 0x0ull},
    {1, u16, 0, 1, 0x6569ull, 0x0ull},
    {1, u16, 0, 255, 0xdcfeull, 0x0ull},
    {1, u16, 0, 256, 0xbdcaull, 0x0ull},
    {1, u16, 0, 1024, 0xfa1full, 0x0ull},
    {1, u16, 0, 1999, 0x8d69ull, 0x0ull},
    {1, f16, 0, 0, 0x3a75ull, 0x0ull},
    {1, f16, 0, 1, 0x38d4ull, 0x0ull},
    {1, f16, 0, 255, 0x3060ull, 0x0ull},
    {1, f16, 0, 256, 0x3424ull, 0x0ull},
    {1, f16, 0, 1024, 0x25e0ull, 0x0ull},
    {1, f16, 0, 1999, 0x372aull, 0x0ull},
    {1, s8, 0, 0, 0x60ull, 0x0ull},
    {1, s8, 0, 1, 0x69ull, 0x0ull},
    {1, s8, 0, 255, 0xfeull, 0x0ull},
    {1, s8, 0, 256, 0x31ull, 0x0ull},
    {1, s8, 0, 1024, 0x35ull, 0x0ull},
    {1, s8, 0, 1999, 0x64ull, 0x0ull},
    {1, f32, 1, 0, 0xbfaa5334ull, 0x0ull},
    {1, f32, 1, 1, 0xbf876f28ull, 0x0ull},
    {1, f32, 1, 255, 0xbfa04752ull, 0x0ull},
    {1, f32, 1, 256, 0xbd93fa1cull, 0x0ull},
    {1, f32, 1, 1024, 0xbce3acd5ull, 0x0ull},
    {1, f32, 1, 1999, 0x3f690d0full, 0x0ull},
    {1, c32, 1, 0, 0xbfaa5334ull, 0xbd93fa1cull},
    {1, c32, 1, 1, 0xbf876f28ull, 0x3e5d125cull},
    {1, c32, 1, 255, 0xbfa04752ull, 0x3f5e7614ull},
    {1, c32, 1, 256, 0xbf43e3d2ull, 0xbe65ca91ull},
    {1, c32, 1, 1024, 0xbce3acd5ull, 0xbeba1a20ull},
    {1, c32, 1, 1999, 0x3e41072bull, 0xbe3e1a34ull},
    {1, f64, 1, 0, 0xbfeabd1526e123b4ull, 0x0ull},
    {1, f64, 1, 1, 0xbfe0ea01b87556acull, 0x0ull},
    {1, f64, 1, 255, 0xbffc0bfd23e6c121ull, 0x0ull},
    {1, f64, 1, 256, 0xbfa73aefc4eb52edull, 0x0ull},
    {1, f64, 1, 1024, 0xbfc27458fb9774ccull, 0x0ull},
    {1, f64, 1, 1999, 0x3fed66cb843b9be3ull, 0x0ull},
    {1, c64, 1, 0, 0xbfdfb8cc179ec7c9ull, 0xbf9b8f43a1ab417dull},
    {1, c64, 1, 1, 0xbfe8305f5c39cafdull, 0x3fc3bdf71df65bb2ull},
    {1, c64, 1, 255, 0xbff18cc40568a2caull, 0x3fe85bce5fb7dfe5ull},
    {1, c64, 1, 256, 0xbfe6f4902070e9baull, 0xbfcaed94335901ebull},
    {1, c64, 1, 1024, 0xbfb59aefddaa99a6ull, 0xbff1a8feb73c330bull},
    {1, c64, 1, 1999, 0x3ffa5a866499e5aeull, 0xbff9f4450695ecb5ull},
    {1, f16, 1, 0, 0x39ccull, 0x0ull},
    {1, f16, 1, 1, 0x36d1ull, 0x0ull},
    {1, f16, 1, 255, 0xb700ull, 0x0ull},
    {1, f16, 1, 256, 0x345aull, 0x0ull},
    {1, f16, 1, 1024, 0xb167ull, 0x0ull},
    {1, f16, 1, 1999, 0x3a08ull, 0x0ull},
    {2, f32, 0, 0, 0x3e097e20ull, 0x0ull},
    {2, f32, 0, 1, 0x3db76eb0ull, 0x0ull},
    {2, f32, 0, 255, 0x3e808486ull, 0x0ull},
    {2, f32, 0, 256, 0x3f1bdea0ull, 0x0ull},
    {2, f32, 0, 1024, 0x3ea751feull, 0x0ull},
    {2, f32, 0, 1999, 0x3f1b40c8ull, 0x0ull},
    {2, c32, 0, 0, 0x3e097e20ull, 0x3f1bdea0ull},
    {2, c32, 0, 1, 0x3db76eb0ull, 0x3f732477ull},
    {2, c32, 0, 255, 0x3e808486ull, 0x3f016030ull},
    {2, c32, 0, 256, 0x3f5f56b9ull, 0x3e246c5cull},
    {2, c32, 0, 1024, 0x3e6b9164ull, 0x3f77c64bull},
    {2, c32, 0, 1999, 0x3e999b30ull, 0x3f2eb4faull},
    {2, f64, 0, 0, 0x3fc12fc3f54def50ull, 0x0ull},
    {2, f64, 0, 1, 0x3fb6edd60ff32478ull, 0x0ull},
    {2, f64, 0, 255, 0x3fd01090b560580cull, 0x0ull},
    {2, f64, 0, 256, 0x3febead724452363ull, 0x0ull},
    {2, f64, 0, 1024, 0x3fcd722c787be324ull, 0x0ull},
    {2, f64, 0, 1999, 0x3fd3336603abad3eull, 0x0ull},
    {2, c64, 0, 0, 0x3fc12fc3f54def50ull, 0x3febead724452363ull},
    {2, c64, 0, 1, 0x3fb6edd60ff32478ull, 0x3febdd35d38b7ea3ull},
    {2, c64, 0, 255, 0x3fd01090b560580cull, 0x3fea3ed0631d7418ull},
    {2, c64, 0, 256, 0x3fd4ea3fddd05cb8ull, 0x3fed15132c04a1a5ull},
    {2, c64, 0, 1024, 0x3fe1e59007c4fb7aull, 0x3fb91e16ba189a70ull},
    {2, c64, 0, 1999, 0x3fe55e7c20c07078ull, 0x3fe24d7130ada82aull},
    {2, b8, 0, 0, 0x1ull, 0x0ull},
    {2, b8, 0, 1, 0x0ull, 0x0ull},
    {2, b8, 0, 255, 0x0ull, 0x0ull},
    {2, b8, 0, 256, 0x0ull, 0x0ull},
    {2, b8, 0, 1024, 0x1ull, 0x0ull},
    {2, b8, 0, 1999, 0x1ull, 0x0ull},
    {2, s32, 0, 0, 0xdda07815ull, 0x0ull},
    {2, s32, 0, 1, 0xe91229f0ull, 0x0ull},
    {2, s32, 0, 255, 0xbfbdbd2aull, 0x0ull},
    {2, s32, 0, 256, 0x64216071ull, 0x0ull},
    {2, s32, 0, 1024, 0xac570088ull, 0x0ull},
    {2, s32, 0, 1999, 0x64bf37f4ull, 0x0ull},
    {2, u32, 0, 0, 0xdda07815ull, 0x0ull},
    {2, u32, 0, 1, 0xe91229f0ull, 0x0ull},
    {2, u32, 0, 255, 0xbfbdbd2aull, 0x0ull},
    {2, u32, 0, 256, 0x64216071ull, 0x0ull},
    {2, u32, 0, 1024, 0xac570088ull, 0x0ull},
    {2, u32, 0, 1999, 0x64bf37f4ull, 0x0ull},
    {2, u8, 0, 0, 0x15ull, 0x0ull},
    {2, u8, 0, 1, 0xf0ull, 0x0ull},
    {2, u8, 0, 255, 0x2aull, 0x0ull},
    {2, u8, 0, 256, 0x78ull, 0x0ull},
    {2, u8, 0, 1024, 0x71ull, 0x0ull},
    {2, u8, 0, 1999, 0xa3ull, 0x0ull},
    {2, s64, 0, 0, 0x64216071dda07815ull, 0x0ull},
    {2, s64, 0, 1, 0xcdb8972e91229f0ull, 0x0ull},
    {2, s64, 0, 255, 0x7e9fd0b1bfbdbd2aull, 0x0ull},
    {2, s64, 0, 256, 0xd6e4e93720a946ddull, 0x0ull},
    {2, s64, 0, 1024, 0x839b497c51ba70full, 0x0ull},
    {2, s64, 0, 1999, 0x514b05ccb33267f1ull, 0x0ull},
    {2, u64, 0, 0, 0x64216071dda07815ull, 0x0ull},
    {2, u64, 0, 1, 0xcdb8972e91229f0ull, 0x0ull},
    {2, u64, 0, 255, 0x7e9fd0b1bfbdbd2aull, 0x0ull},
    {2, u64, 0, 256, 0xd6e4e93720a946ddull, 0x0ull},
    {2, u64, 0, 1024, 0x839b497c51ba70full, 0x0ull},
    {2, u64, 0, 1999, 0x514b05ccb33267f1ull, 0x0ull},
    {2, s16, 0, 0, 0x7815ull, 0x0ull},
    {2, s16, 0, 1, 0x29f0ull, 0x0ull},
    {2, s16, 0, 255, 0xbd2aull, 0x0ull},
    {2, s16, 0, 256, 0xdda0ull, 0x0ull},
    {2, s16, 0, 1024, 0x46ddull, 0x0ull},
    {2, s16, 0, 1999, 0xeafdull, 0x0ull},
    {2, u16, 0, 0, 0x7815ull, 0x0ull},
    {2, u16, 0, 1, 0x29f0ull, 0x0ull},
    {2, u16, 0, 255, 0xbd2aull, 0x0ull},
    {2, u16, 0, 256, 0xdda0ull, 0x0ull},
    {2, u16, 0, 1024, 0x46ddull, 0x0ull},
    {2, u16, 0, 1999, 0xeafdull, 0x0ull},
    {2, f16, 0, 0, 0x3840ull, 0x0ull},
    {2, f16, 0, 1, 0x3ab0ull, 0x0ull},
    {2, f16, 0, 255, 0x342eull, 0x0ull},
    {2, f16, 0, 256, 0x304cull, 0x0ull},
    {2, f16, 0, 1024, 0x39c9ull, 0x0ull},
    {2, f16, 0, 1999, 0x2d40ull, 0x0ull},
    {2, s8, 0, 0, 0x15ull, 0x0ull},
    {2, s8, 0, 1, 0xf0ull, 0x0ull},
    {2, s8, 0, 255, 0x2aull, 0x0ull},
    {2, s8, 0, 256, 0x78ull, 0x0ull},
    {2, s8, 0, 1024, 0x71ull, 0x0ull},
    {2, s8, 0, 1999, 0xa3ull, 0x0ull},
    {2, f32, 1, 0, 0xbf83062aull, 0x0ull},
    {2, f32, 1, 1, 0xbfa708d4ull, 0x0ull},
    {2, f32, 1, 255, 0xbf97e029ull, 0x0ull},
    {2, f32, 1, 256, 0x3f692bb9ull, 0x0ull},
    {2, f32, 1, 1024, 0xbf2e42e6ull, 0x0ull},
    {2, f32, 1, 1999, 0xbfaa23c8ull, 0x0ull},
    {2, c32, 1, 0, 0xbf83062aull, 0x3f692bb9ull},
    {2, c32, 1, 1, 0xbfa708d4ull, 0x400465cfull},
    {2, c32, 1, 255, 0xbf97e029ull, 0xbbf6fff0ull},
    {2, c32, 1, 256, 0x3ed9a702ull, 0x3ed2b330ull},
    {2, c32, 1, 1024, 0xc02680d4ull, 0x3ea7e042ull},
    {2, c32, 1, 1999, 0xbfb8626dull, 0xbeefb3e1ull},
    {2, f64, 1, 0, 0xbff841998e22df2full, 0x0ull},
    {2, f64, 1, 1, 0xbff144a6ee0a1a76ull, 0x0ull},
    {2, f64, 1, 255, 0xbffda35c61bbe6c9ull, 0x0ull},
    {2, f64, 1, 256, 0x3ff5954f8aa76eb9ull, 0x0ull},
    {2, f64, 1, 1024, 0xbff027bd66dc2b3full, 0x0ull},
    {2, f64, 1, 1999, 0x3fe25db80579c73eull, 0x0ull},
    {2, c64, 1, 0, 0xbff841998e22df2full, 0x3ff5954f8aa76eb9ull},
    {2, c64, 1, 1, 0xbff144a6ee0a1a76ull, 0x3ffb5ff15b998b7eull},
    {2, c64, 1, 255, 0xbffda35c61bbe6c9ull, 0xbf8819b66f8dce10ull},
    {2, c64, 1, 256, 0xbfff04e69574f6c6ull, 0xbff03fb71126693full},
    {2, c64, 1, 1024, 0x3fc52abd4afbe66full, 0xbfdb1781dac418e5ull},
    {2, c64, 1, 1999, 0x3ff21fa0d74b684eull, 0xbfe496e31a5d5e89ull},
    {2, f16, 1, 0, 0x2eb5ull, 0x0ull},
    {2, f16, 1, 1, 0x35eeull, 0x0ull},
    {2, f16, 1, 255, 0xba11ull, 0x0ull},
    {2, f16, 1, 256, 0xb837ull, 0x0ull},
    {2, f16, 1, 1024, 0x4000ull, 0x0ull},
    {2, f16, 1, 1999, 0xb531ull, 0x0ull},
};

TEST(random_golden_every_engine_and_dtype) {
    /* Uniforms and integers bit for bit. Normals within an ulp of the golden value for f32 and
     * f16 and two for f64 and c64: ArrayFire computes log, sin and cos with CUDA's functions
     * (within an ulp or two of exact) and Ember with its own (within an ulp), and the golden
     * values round each step exactly. */
    const dim_t n = 2000;
    size_t count = sizeof(goldens) / sizeof(goldens[0]);
    for (size_t i = 0; i < count;) {
        const golden *g = &goldens[i];
        size_t es = em_test_dtype_size(g->type);
        unsigned char *x = draw_raw(engine_types[g->engine], 1234, g->type, g->normal, n);
        for (; i < count && goldens[i].engine == g->engine && goldens[i].type == g->type &&
               goldens[i].normal == g->normal;
             i++) {
            const golden *h = &goldens[i];
            bool cplx = h->type == c32 || h->type == c64;
            size_t part = cplx ? es / 2 : es;
            for (int c = 0; c < (cplx ? 2 : 1); c++) {
                uint64_t got = 0, want = c ? h->im : h->re;
                memcpy(&got, x + (size_t)h->idx * es + (size_t)c * part, part);
                uint64_t tol = !h->normal ? 0 : (h->type == f64 || h->type == c64) ? 2 : 1;
                bool flt = h->type == f32 || h->type == c32 || h->type == f64 || h->type == c64 ||
                           h->type == f16;
                uint64_t d = flt ? ulp_distance(got, want, part) : (got != want);
                if (d > tol)
                    em_test_fail(__FILE__, __LINE__,
                                 "%s %s %s element %d%s: 0x%llx, expected 0x%llx",
                                 engine_names[h->engine], h->normal ? "normal" : "uniform",
                                 em_test_dtype_name(h->type), h->idx, c ? " (im)" : "",
                                 (unsigned long long)got, (unsigned long long)want);
            }
        }
        free(x);
    }
}

TEST(random_mersenne_blocks_and_state) {
    /* 100000 f32 from Mersenne seed 77 run on 4 of ArrayFire's blocks of 25000 elements, in rounds
     * of 1024: block 0's last round also writes elements 25000..25599, which block 1 leaves. Then
     * a second draw continues from the state the first saved. Golden values as above. */
    af_random_engine e = 0;
    af_array a = 0;
    const dim_t n = 100000, m = 1000;
    uint32_t *x = malloc((size_t)n * 4);
    CHECK_AF(af_create_random_engine(&e, AF_RANDOM_ENGINE_MERSENNE_GP11213, 77));
    CHECK_AF(af_random_uniform(&a, 1, &n, f32, e));
    CHECK_AF(af_get_data_ptr(x, a));
    af_release_array(a);
    static const uint32_t at[7][2] = {{0, 1057663464},     {24999, 1052314304}, {25000, 1060059525},
                                      {25599, 1051454416}, {25600, 1064843538}, {25601, 1057391379},
                                      {99999, 1048555496}};
    for (int i = 0; i < 7; i++)
        if (x[at[i][0]] != at[i][1])
            em_test_fail(__FILE__, __LINE__, "element %u: 0x%08x, expected 0x%08x", at[i][0],
                         x[at[i][0]], at[i][1]);
    CHECK_AF(af_random_uniform(&a, 1, &m, u32, e));
    CHECK_AF(af_get_data_ptr(x, a));
    CHECK(x[0] == 0x6c0a2cd3u && x[1] == 0xa5c380e6u && x[2] == 0x2f567e98u &&
          x[3] == 0x0add0ab8u && x[999] == 0x6bcf2432u);
    af_release_array(a);
    af_release_random_engine(e);
    free(x);
}

/* ---- The backend against the per-thread definition of rng.h -------------------------------------
 */

/* What the definition in rng.h gives for a draw of n elements of `kind`: every thread of every
 * group (counter-based engines) or every round of every block (Mersenne, advancing `mt`) stored
 * with em_rng_store, exactly as the CUDA kernels do. */
static void ref_draw(int engine, int kind, uint64_t n, uint64_t seed, uint64_t counter,
                     uint32_t *mt, void *out) {
    uint64_t G = em_rng_group(kind);
    if (engine != EM_RNG_MERSENNE) {
        for (uint64_t g = 0; g * G < n; g++)
            for (unsigned t = 0; t < EM_RNG_THREADS; t++) {
                uint32_t w[4];
                em_rng_cb_words(engine, seed, counter, g * G + t, G / 2, w);
                em_rng_store(out, kind, g * G + t, 0, n, w);
            }
        return;
    }
    em_rng_mt_plan p = em_rng_mt_plan_of(kind, n);
    for (unsigned b = 0; b < p.blocks; b++) {
        uint32_t ring[EM_RNG_MT_RING], o[4 * EM_RNG_THREADS];
        const unsigned R = EM_RNG_MT_RING, off = R - EM_RNG_MT_N, pos = em_rng_mt_pos[b];
        memcpy(ring + off, mt + b * EM_RNG_MT_N, EM_RNG_MT_N * sizeof(uint32_t));
        uint64_t start = b * p.per_block;
        uint64_t end = start + p.per_block < n ? start + p.per_block : n;
        uint64_t rounds = (end - start + G - 1) / G, j = 0;
        for (uint64_t i = 0; i < rounds; i++) {
            for (unsigned k = 0; k < 4 * EM_RNG_THREADS; k++, j++) {
                uint32_t r = em_rng_mt_recursion(
                    &em_rng_mt_rec_tbl[16 * b], em_rng_mt_sh1[b], em_rng_mt_sh2[b],
                    ring[(j + off) % R], ring[(j + off + 1) % R], ring[(j + off + pos) % R]);
                ring[j % R] = r;
                o[k] =
                    em_rng_mt_temper(&em_rng_mt_tmp_tbl[16 * b], r, ring[(j + off + pos - 1) % R]);
            }
            for (unsigned t = 0; t < EM_RNG_THREADS; t++) {
                uint32_t w[4] = {o[t], o[EM_RNG_THREADS + t], o[2 * EM_RNG_THREADS + t],
                                 o[3 * EM_RNG_THREADS + t]};
                em_rng_store(out, kind, start + i * G + t, b ? start + p.skip : 0, n, w);
            }
        }
        memcpy(mt + b * EM_RNG_MT_N, ring + off, EM_RNG_MT_N * sizeof(uint32_t));
    }
}

static int engine_id(int k) {
    return k == 0 ? EM_RNG_PHILOX : k == 1 ? EM_RNG_THREEFRY : EM_RNG_MERSENNE;
}

/* Draws `count` arrays of the given shapes of t from one engine and compares each with the
 * reference, which follows the engine's counter (the elements drawn so far) or state. */
static void check_against_reference(int ek, af_dtype t, int normal, int count,
                                    const unsigned *ndims, const dim_t (*dims)[4]) {
    const unsigned long long seed = 0x5eedf00d12345ull;
    int kind = em_rng_kind((int)t, normal);
    size_t es = em_test_dtype_size(t);
    af_random_engine e = 0;
    uint32_t *mt = malloc(EM_RNG_MT_WORDS * sizeof(uint32_t));
    em_rng_mt_init(seed, mt);
    uint64_t counter = 0;
    CHECK_AF(af_create_random_engine(&e, engine_types[ek], seed));
    for (int c = 0; c < count; c++) {
        uint64_t n = 1;
        for (unsigned d = 0; d < ndims[c]; d++)
            n *= (uint64_t)dims[c][d];
        af_array a = 0;
        CHECK_AF(normal ? af_random_normal(&a, ndims[c], dims[c], t, e)
                        : af_random_uniform(&a, ndims[c], dims[c], t, e));
        unsigned char *got = calloc(n + 1, es), *want = calloc(n + 1, es);
        if (a && n) CHECK_AF(af_get_data_ptr(got, a));
        ref_draw(engine_id(ek), kind, n, seed, counter, mt, want);
        counter += n;
        if (memcmp(got, want, n * es) != 0) {
            uint64_t i = 0;
            while (memcmp(got + i * es, want + i * es, es) == 0)
                i++;
            em_test_fail(__FILE__, __LINE__, "%s %s %s, draw %d of %llu: element %llu differs",
                         engine_names[ek], normal ? "normal" : "uniform", em_test_dtype_name(t), c,
                         (unsigned long long)n, (unsigned long long)i);
        }
        free(got);
        free(want);
        af_release_array(a);
    }
    af_release_random_engine(e);
    free(mt);
}

/* Odd 4-D shapes, one element, a partial group, and several groups; drawn one after another. */
static const unsigned ref_ndims[] = {4, 1, 2, 1, 3};
static const dim_t ref_dims[][4] = {{7, 5, 3, 2}, {1}, {33, 31}, {5000}, {1, 1, 4097}};
#define NREF (sizeof(ref_ndims) / sizeof(ref_ndims[0]))

TEST(random_uniform_every_dtype_matches_definition) {
    /* Bit for bit, for every engine and dtype, across consecutive draws: this is what makes every
     * backend's numbers the same (the CUDA kernels store with em_rng_store itself). */
    for (int ek = 0; ek < 3; ek++)
        for (size_t ti = 0; ti < NUNIFORM; ti++)
            check_against_reference(ek, uniform_types[ti], 0, (int)NREF, ref_ndims, ref_dims);
}

TEST(random_normal_every_dtype_matches_definition) {
    /* Bit for bit as well: log, sin and cos are rng.h's own, in portable arithmetic. */
    for (int ek = 0; ek < 3; ek++)
        for (size_t ti = 0; ti < NNORMAL; ti++)
            check_against_reference(ek, normal_types[ti], 1, (int)NREF, ref_ndims, ref_dims);
}

TEST(random_mersenne_many_blocks_matches_definition) {
    /* Draw sizes that use 2..32 blocks, with and without a reach into the next block, and states
     * saved after a number of rounds that is and is not a multiple of 3 (the ring's period). */
    static const unsigned nd[] = {1, 1, 1, 1};
    static const dim_t d[][4] = {{40000}, {1048576}, {300001}, {65536}};
    check_against_reference(2, f32, 0, 4, nd, d);
    check_against_reference(2, u8, 0, 2, nd, d);
    check_against_reference(2, c64, 1, 2, nd + 2, d + 2);
}

TEST(random_counter_grows_by_elements) {
    /* As in ArrayFire, a draw of n moves the counter by n: a draw of 5 u32 then one of 4 gives
     * Philox's first words at counters 0..4, then at 5..8. */
    af_random_engine e = 0;
    af_array a = 0;
    const dim_t five = 5, four = 4;
    uint32_t x[5], w[4];
    CHECK_AF(af_create_random_engine(&e, AF_RANDOM_ENGINE_PHILOX, 99));
    CHECK_AF(af_random_uniform(&a, 1, &five, u32, e));
    af_release_array(a);
    CHECK_AF(af_random_uniform(&a, 1, &four, u32, e));
    CHECK_AF(af_get_data_ptr(x, a));
    af_release_array(a);
    for (uint32_t i = 0; i < 4; i++) {
        em_philox4x32_10((const uint32_t[2]){99, 0}, (const uint32_t[4]){5 + i, 0, 0, 0}, w);
        CHECK(x[i] == w[0]);
    }
    /* Empty draws move nothing; the seed resets the counter. */
    const dim_t zero[2] = {0, 3};
    CHECK_AF(af_random_uniform(&a, 2, zero, f32, e));
    dim_t cnt = -1;
    CHECK_AF(af_get_elements(&cnt, a));
    CHECK(cnt == 0);
    af_release_array(a);
    CHECK_AF(af_random_engine_set_seed(&e, 99));
    CHECK_AF(af_random_uniform(&a, 1, &four, u32, e));
    CHECK_AF(af_get_data_ptr(x, a));
    af_release_array(a);
    em_philox4x32_10((const uint32_t[2]){99, 0}, (const uint32_t[4]){0, 0, 0, 0}, w);
    CHECK(x[0] == w[0]);
    af_release_random_engine(e);
}

/* ---- Distributions ------------------------------------------------------------------------------
 */

#define NSTAT 1000000
/* 10^6 draws of a real type from engine ek as doubles. */
static double *draw_stat(int ek, af_dtype t, bool normal, unsigned long long seed) {
    af_random_engine e = 0;
    af_array a = 0;
    const dim_t dims[2] = {1000, 1000};
    CHECK_AF(af_create_random_engine(&e, engine_types[ek], seed));
    CHECK_AF(normal ? af_random_normal(&a, 2, dims, t, e) : af_random_uniform(&a, 2, dims, t, e));
    double *x = a ? em_test_read(a, NULL) : calloc(2 * NSTAT, sizeof(double));
    af_release_array(a);
    af_release_random_engine(e);
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

/* The largest |correlation| between x[i] and x[i + lag] over the lags that matter for the
 * layout: neighbours, a thread's slots (256 apart) and the next group (1024). */
static double worst_lag_correlation(const double *x, size_t n, double mean, double var) {
    static const size_t lags[] = {1, 2, 3, 4, 255, 256, 512, 1024};
    double worst = 0;
    for (size_t l = 0; l < sizeof(lags) / sizeof(lags[0]); l++) {
        double s = 0;
        for (size_t i = 0; i + lags[l] < n; i++)
            s += (x[i] - mean) * (x[i + lags[l]] - mean);
        double r = s / ((double)(n - lags[l]) * var);
        if (fabs(r) > worst) worst = fabs(r);
    }
    return worst;
}

/* Chi-square of counts against expected counts over k bins. */
static double chi_square(const double *count, const double *expect, int k) {
    double c = 0;
    for (int i = 0; i < k; i++)
        c += (count[i] - expect[i]) * (count[i] - expect[i]) / expect[i];
    return c;
}

TEST(random_uniform_statistics_every_engine) {
    /* 10^6 draws on [0, 1] (ArrayFire's 1 - u can reach both ends): the mean's standard error is
     * 2.9e-4 and the variance's 7.5e-5; the tolerances are about 7 of them. Chi-square on 100
     * equal bins has 99 degrees of freedom (mean 99, sd 14): below 99 + 7 * 14. A lag correlation
     * has standard error 1e-3: below 6e-3. f16's grid (2^-11 near 1) is too coarse for equal bins
     * and shifts the mean by at most 2.4e-4; it gets the moments only. The seeds are fixed. */
    const af_dtype types[] = {f32, f64, f16};
    for (int ek = 0; ek < 3; ek++)
        for (int k = 0; k < 3; k++) {
            double *x = draw_stat(ek, types[k], false, 1234 + k);
            double mean, var, lo, hi;
            moments(x, NSTAT, &mean, &var, &lo, &hi);
            double chi = 0, lag = 0;
            if (types[k] != f16) {
                double count[100] = {0}, expect[100];
                for (size_t i = 0; i < NSTAT; i++)
                    count[x[i] >= 1 ? 99 : (int)(x[i] * 100)]++;
                for (int b = 0; b < 100; b++)
                    expect[b] = NSTAT / 100.0;
                chi = chi_square(count, expect, 100);
                lag = worst_lag_correlation(x, NSTAT, mean, var);
            }
            if (fabs(mean - 0.5) > 2e-3 || fabs(var - 1.0 / 12) > 5e-4 || lo < 0 || hi > 1 ||
                lo > (types[k] == f16 ? 1e-3 : 1e-4) || hi < 1 - 1e-3 || chi > 99 + 7 * 14 ||
                lag > 6e-3)
                em_test_fail(
                    __FILE__, __LINE__, "%s %s: mean %g var %g min %g max %g chi2 %g lag corr %g",
                    engine_names[ek], em_test_dtype_name(types[k]), mean, var, lo, hi, chi, lag);
            free(x);
        }
}

TEST(random_normal_statistics_every_engine) {
    /* 10^6 standard normal draws: the mean's standard error is 1e-3 and the standard deviation's
     * 7e-4 (tolerances 5e-3); chi-square on 40 bins of width 0.2 over [-4, 4] plus the two tails
     * (41 degrees of freedom, mean 41, sd 9): below 41 + 7 * 9 (f16's grid distorts narrow bins:
     * moments only); lag correlations below 6e-3 as above; each tail reaches past 4 sigma and no
     * value exceeds what Box-Muller can make from these words (under 9). */
    const af_dtype types[] = {f32, f64, f16};
    for (int ek = 0; ek < 3; ek++)
        for (int k = 0; k < 3; k++) {
            double *x = draw_stat(ek, types[k], true, 99 + k);
            double mean, var, lo, hi;
            moments(x, NSTAT, &mean, &var, &lo, &hi);
            double chi = 0, lag = 0;
            if (types[k] != f16) {
                double count[42] = {0}, expect[42];
                for (size_t i = 0; i < NSTAT; i++) {
                    int b = 41;
                    if (x[i] < -4)
                        b = 0;
                    else if (x[i] < 4)
                        b = 1 + (int)((x[i] + 4) / 0.2) > 40 ? 40 : 1 + (int)((x[i] + 4) / 0.2);
                    count[b]++;
                }
                for (int b = 0; b < 42; b++) {
                    double a0 = b == 0 ? -INFINITY : -4 + 0.2 * (b - 1);
                    double a1 = b == 41 ? INFINITY : -4 + 0.2 * b;
                    expect[b] = NSTAT * 0.5 * (erf(a1 / sqrt(2.0)) - erf(a0 / sqrt(2.0)));
                }
                chi = chi_square(count, expect, 42);
                lag = worst_lag_correlation(x, NSTAT, mean, var);
            }
            if (fabs(mean) > 5e-3 || fabs(sqrt(var) - 1) > 5e-3 || chi > 41 + 7 * 9 || lag > 6e-3 ||
                hi < 4 || lo > -4 || hi > 9 || lo < -9)
                em_test_fail(__FILE__, __LINE__,
                             "%s %s: mean %g sd %g min %g max %g chi2 %g lag corr %g",
                             engine_names[ek], em_test_dtype_name(types[k]), mean, sqrt(var), lo,
                             hi, chi, lag);
            free(x);
        }
}

TEST(random_complex_normal_parts) {
    /* Each part of a complex normal is a standard normal, as in ArrayFire (variance 1 each). */
    for (int ek = 0; ek < 3; ek++) {
        double *x = draw_stat(ek, c32, true, 5);
        double mean, var, lo, hi;
        moments(x, 2 * NSTAT, &mean, &var, &lo, &hi);
        CHECK(fabs(mean) < 5e-3 && fabs(var - 1) < 1e-2);
        free(x);
    }
}

TEST(random_integer_statistics_every_engine) {
    /* u8: chi-square over the 256 values (255 degrees of freedom, mean 255, sd 22.6) below
     * 255 + 7 * 22.6. b8: only 0 and 1, mean 0.5 +- 2.5e-3 (5 standard errors). Signed types are
     * centred on -1/2 with standard error R / sqrt(3e6) (R the type's half range). */
    const dim_t dims[1] = {1000000};
    for (int ek = 0; ek < 3; ek++) {
        uint8_t *u = draw_raw(engine_types[ek], 21, u8, 0, dims[0]);
        double count[256] = {0}, expect[256];
        for (int i = 0; i < 1000000; i++)
            count[u[i]]++;
        for (int v = 0; v < 256; v++)
            expect[v] = 1e6 / 256;
        double chi = chi_square(count, expect, 256);
        if (chi > 255 + 7 * 22.6)
            em_test_fail(__FILE__, __LINE__, "%s u8: chi2 %g", engine_names[ek], chi);
        free(u);
        u = draw_raw(engine_types[ek], 22, b8, 0, dims[0]);
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
            af_random_engine e = 0;
            af_array a = 0;
            CHECK_AF(af_create_random_engine(&e, engine_types[ek], 23 + k));
            CHECK_AF(af_random_uniform(&a, 1, dims, signed_types[k], e));
            double *x = em_test_read(a, NULL);
            double mean, var, lo, hi;
            moments(x, 1000000, &mean, &var, &lo, &hi);
            CHECK(fabs(mean + 0.5) < 5 * range[k] / sqrt(3e6));
            CHECK(lo < -0.99 * range[k] && hi > 0.99 * range[k]);
            free(x);
            af_release_array(a);
            af_release_random_engine(e);
        }
    }
}

/* ---- The engine API -----------------------------------------------------------------------------
 */

/* The first four u32 of a draw from engine e. */
static void four_u32(af_random_engine e, uint32_t out[4]) {
    const dim_t four = 4;
    af_array a = 0;
    memset(out, 0, 4 * sizeof(uint32_t));
    CHECK_AF(af_random_uniform(&a, 1, &four, u32, e));
    if (a) CHECK_AF(af_get_data_ptr(out, a));
    af_release_array(a);
}

TEST(random_engine_lifecycle_every_type) {
    for (int ek = 0; ek < 3; ek++) {
        af_random_engine e = 0, r = 0, f = 0;
        af_random_engine_type t = 0;
        unsigned long long s = 0;
        uint32_t a[4], b[4], c[4], d[4];
        CHECK_AF(af_create_random_engine(&e, engine_types[ek], 123));
        CHECK_AF(af_random_engine_get_type(&t, e));
        CHECK(t == engine_types[ek]);
        CHECK_AF(af_random_engine_get_seed(&s, e));
        CHECK(s == 123);
        /* A retained handle shares the seed and the counter or state: draws from the two
         * handles continue one stream, the same as two draws from one engine. */
        CHECK_AF(af_retain_random_engine(&r, e));
        CHECK_AF(af_random_engine_get_seed(&s, r));
        CHECK(s == 123);
        four_u32(e, a);
        four_u32(r, b);
        CHECK_AF(af_create_random_engine(&f, engine_types[ek], 123));
        four_u32(f, c);
        four_u32(f, d);
        CHECK(memcmp(a, c, sizeof(a)) == 0 && memcmp(b, d, sizeof(b)) == 0);
        CHECK(memcmp(a, b, sizeof(a)) != 0);
        /* Setting the seed through one handle restarts both. */
        CHECK_AF(af_random_engine_set_seed(&r, 123));
        four_u32(e, b);
        CHECK(memcmp(a, b, sizeof(a)) == 0);
        CHECK_AF(af_release_random_engine(e));
        /* The retained handle outlives the first. */
        const dim_t four = 4;
        af_array x = 0;
        CHECK_AF(af_random_normal(&x, 1, &four, f64, r));
        af_release_array(x);
        CHECK_AF(af_release_random_engine(r));
        CHECK_AF(af_release_random_engine(f));
        CHECK_ERR(af_release_random_engine(r), AF_ERR_ARG);
        CHECK_ERR(af_random_uniform(&x, 1, &four, f32, e), AF_ERR_ARG);
    }
}

TEST(random_engine_set_type) {
    /* Changing to Mersenne gives a fresh state from the seed; changing between the counter-based
     * types keeps the counter; a retained handle keeps its own type. */
    af_random_engine e = 0, r = 0, m = 0, t = 0;
    uint32_t x[4], y[4];
    CHECK_AF(af_create_random_engine(&e, AF_RANDOM_ENGINE_PHILOX, 8));
    CHECK_AF(af_retain_random_engine(&r, e));
    four_u32(e, x);
    CHECK_AF(af_random_engine_set_type(&e, AF_RANDOM_ENGINE_MERSENNE));
    af_random_engine_type ty = 0;
    CHECK_AF(af_random_engine_get_type(&ty, r));
    CHECK(ty == AF_RANDOM_ENGINE_PHILOX);
    CHECK_AF(af_random_engine_get_type(&ty, e));
    CHECK(ty == AF_RANDOM_ENGINE_MERSENNE_GP11213);
    four_u32(e, x);
    CHECK_AF(af_create_random_engine(&m, AF_RANDOM_ENGINE_MERSENNE, 8));
    four_u32(m, y);
    CHECK(memcmp(x, y, sizeof(x)) == 0);
    /* Reseeding a Mersenne engine starts its state again. */
    CHECK_AF(af_random_engine_set_seed(&m, 8));
    four_u32(m, x);
    CHECK(memcmp(x, y, sizeof(x)) == 0);
    /* Philox -> Threefry on the shared counter (4 drawn so far through e's first draw). */
    CHECK_AF(af_random_engine_set_type(&r, AF_RANDOM_ENGINE_THREEFRY));
    CHECK_AF(af_random_engine_set_type(&r, AF_RANDOM_ENGINE_THREEFRY)); /* no change */
    four_u32(r, x);
    CHECK_AF(af_create_random_engine(&t, AF_RANDOM_ENGINE_THREEFRY, 8));
    CHECK_AF(af_random_engine_set_type(&t, AF_RANDOM_ENGINE_THREEFRY));
    four_u32(t, y); /* counter 0 */
    CHECK(memcmp(x, y, sizeof(x)) != 0);
    four_u32(t, y); /* counter 4 */
    CHECK(memcmp(x, y, sizeof(x)) == 0);
    CHECK_ERR(af_random_engine_set_type(&e, (af_random_engine_type)150), AF_ERR_ARG);
    af_release_random_engine(e);
    af_release_random_engine(r);
    af_release_random_engine(m);
    af_release_random_engine(t);
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
    af_random_engine d = 0, d2 = 0, p = 0;
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
    /* af_randu draws from the default engine, of whatever type it has. */
    const dim_t four = 4;
    uint32_t x[4], y[4];
    for (int ek = 0; ek < 3; ek++) {
        af_array a = 0;
        CHECK_AF(af_set_default_random_engine_type(engine_types[ek]));
        CHECK_AF(af_random_engine_get_type(&t, d));
        CHECK(t == engine_types[ek]);
        CHECK_AF(af_set_seed(31));
        CHECK_AF(af_randu(&a, 1, &four, u32));
        CHECK_AF(af_get_data_ptr(x, a));
        af_release_array(a);
        CHECK_AF(af_create_random_engine(&p, engine_types[ek], 31));
        four_u32(p, y);
        CHECK(memcmp(x, y, sizeof(x)) == 0);
        af_release_random_engine(p);
    }
    CHECK_AF(af_set_default_random_engine_type(AF_RANDOM_ENGINE_DEFAULT));
    CHECK_ERR(af_set_default_random_engine_type((af_random_engine_type)5), AF_ERR_ARG);
    /* Releasing the default engine is harmless: the thread keeps using it. */
    CHECK_AF(af_release_random_engine(d));
    CHECK_AF(af_get_seed(&s));
    CHECK(s == 31);
    const dim_t n = 10;
    af_array a = 0;
    CHECK_AF(af_randn(&a, 1, &n, f32));
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
    /* All three types under both names; anything else is AF_ERR_ARG with a message. */
    const af_random_engine_type ok[] = {
        AF_RANDOM_ENGINE_PHILOX_4X32_10,   AF_RANDOM_ENGINE_THREEFRY_2X32_16,
        AF_RANDOM_ENGINE_MERSENNE_GP11213, AF_RANDOM_ENGINE_PHILOX,
        AF_RANDOM_ENGINE_THREEFRY,         AF_RANDOM_ENGINE_MERSENNE,
        AF_RANDOM_ENGINE_DEFAULT};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        af_random_engine e = 0;
        af_random_engine_type t = 0;
        CHECK_AF(af_create_random_engine(&e, ok[i], 1));
        CHECK_AF(af_random_engine_get_type(&t, e));
        CHECK(t == ok[i]);
        CHECK_AF(af_release_random_engine(e));
    }
    af_random_engine e = 0;
    const int bad[] = {0, 1, 99, 101, 201, 301, 400, -100};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_ERR(af_create_random_engine(&e, (af_random_engine_type)bad[i], 1), AF_ERR_ARG);
        CHECK_ERR(af_set_default_random_engine_type((af_random_engine_type)bad[i]), AF_ERR_ARG);
    }
    CHECK(e == 0);
    CHECK_AF(af_create_random_engine(&e, AF_RANDOM_ENGINE_PHILOX, 1));
    CHECK_ERR(af_random_engine_set_type(&e, (af_random_engine_type)-1), AF_ERR_ARG);
    af_random_engine_type t = 0;
    CHECK_AF(af_random_engine_get_type(&t, e));
    CHECK(t == AF_RANDOM_ENGINE_PHILOX);
    CHECK_AF(af_release_random_engine(e));
}

TEST(random_result_shape_and_type) {
    /* Every dtype, 4-D and empty shapes, from an engine and from the default engine. */
    const dim_t dims[4] = {3, 1, 4, 2}, empty[2] = {4, 0};
    af_random_engine e = 0;
    CHECK_AF(af_create_random_engine(&e, AF_RANDOM_ENGINE_THREEFRY, 3));
    for (size_t ti = 0; ti < NUNIFORM; ti++)
        for (int normal = 0; normal < 2; normal++) {
            af_dtype t = uniform_types[ti];
            bool ok = !normal || t == f32 || t == c32 || t == f64 || t == c64 || t == f16;
            for (int dflt = 0; dflt < 2; dflt++) {
                af_array a = 0;
                af_err err = dflt ? (normal ? af_randn(&a, 4, dims, t) : af_randu(&a, 4, dims, t))
                                  : (normal ? af_random_normal(&a, 4, dims, t, e)
                                            : af_random_uniform(&a, 4, dims, t, e));
                if (!ok) {
                    CHECK(err == AF_ERR_TYPE && a == 0);
                    continue;
                }
                CHECK(err == AF_SUCCESS);
                dim_t d0 = 0, d1 = 0, d2 = 0, d3 = 0;
                af_dtype got = (af_dtype)-1;
                CHECK_AF(af_get_dims(&d0, &d1, &d2, &d3, a));
                CHECK_AF(af_get_type(&got, a));
                CHECK(d0 == 3 && d1 == 1 && d2 == 4 && d3 == 2 && got == t);
                af_release_array(a);
                CHECK_AF(normal ? af_random_normal(&a, 2, empty, t, e)
                                : af_random_uniform(&a, 2, empty, t, e));
                dim_t n = -1;
                CHECK_AF(af_get_elements(&n, a));
                CHECK(n == 0);
                af_release_array(a);
            }
        }
    af_release_random_engine(e);
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
