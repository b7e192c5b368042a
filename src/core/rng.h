/* ArrayFire's random engines, shared by the CPU and the CUDA backend: Philox 4x32-10, Threefry
 * 2x32-16 and the Mersenne Twister for graphics processors (MTGP32, parameter set 11213), with
 * ArrayFire's output layout and conversions. Both backends call these functions (the CUDA backend
 * compiles this header with NVRTC), so one engine, seed and counter give the same numbers on both,
 * and those of ArrayFire 3.10: integers and uniforms bit for bit, normals to an ulp or so (see
 * "Normals"). Everything is `static inline` (`__host__ __device__` under nvcc) over <stdint.h> and
 * <math.h>.
 *
 * Where ArrayFire's own backends disagree, Ember follows ArrayFire's CUDA backend (which its CPU
 * backend states that it emulates, and which its uniform Philox path does reproduce): ArrayFire's
 * CPU backend chains Philox normals through their own outputs, draws Threefry and Mersenne
 * sequentially, orders the words of 64-bit integers the other way, and rounds f16 in float.
 *
 * Layout. ArrayFire's CUDA kernels run blocks of 256 threads; each thread makes four 32-bit words
 * w[0..3] and writes P = 16 / sizeof(T) elements, slot k of thread t of a group at element
 * base + k * 256 + t. A group is one block's elements: 256 * P of them (1024 f32, 512 c32).
 *   Philox:   thread t of group g is Philox(key = {lo32(seed), hi32(seed)}, counter c + g*256*P + t
 *             as a 128-bit number {lo32, hi32, carry, 0}).
 *   Threefry: w[0..1] = Threefry(key, c + g*256*P + t), w[2..3] = Threefry(key, that + 128*P), each
 *             counter a 64-bit number {lo32, hi32} that wraps.
 *   Mersenne: see below.
 * After a draw of n elements (n complex numbers for c32, c64) the engine's counter grows by n, as
 * ArrayFire's does: consecutive draws overlap in counters but not in the numbers they use.
 *
 * Slots (uniform). u8, s8: byte k % 4 of w[k / 4]; b8: bit 0 of that byte; u16, s16: half k % 2 of
 * w[k / 2]; u32, s32: w[k]; u64, s64: w[2k] | w[2k+1] << 32; f32: 1 - fmaf((float)w[k], 2^-32,
 * 2^-33); f64: 1 - fma((double)(w[2k] << 32 | w[2k+1]), 2^-64, 2^-65) (note the other word order);
 * c32: slot k is (f32 of w[2k], f32 of w[2k+1]); c64: (f64 of w[0], w[1]; f64 of w[2], w[3]);
 * f16: half-precision arithmetic on h = half k % 2 of w[k / 2]: 1 - hfma(half(min(h, 65504)),
 * 2^-16, 2^-17), each operation rounded to binary16.
 *
 * Normals (Box-Muller with sin and cos of pi times a number in (0, 2]). f32: on the pair (a, b) =
 * (w[2j], w[2j+1]), u = fmaf((float)a, 2^-31, 2^-32), v = fmaf((float)b, 2^-32, 2^-33),
 * r = sqrtf(-2 logf(v)); slot 2j = r sinpif(u), slot 2j+1 = r cospif(u). c32: slot j is that pair.
 * f64 and c64: u = fma((double)(w0 << 32 | w1), 2^-63, 2^-64), v = fma((double)(w2 << 32 | w3),
 * 2^-64, 2^-65), r = sqrt(-2 log v); slots (r sinpi u, r cospi u). f16: the pair comes from one
 * word w[j], u = hfma(half(min(lo16, 65504)), 2^-15, 2^-16), v = hfma(half(min(hi16, 65504)),
 * 2^-16, 2^-17), every operation in binary16 (sin and cos of half(u * 3.140625)). ArrayFire calls
 * CUDA's logf, sincospif, log and sincospi (at most an ulp or two from the exact value); Ember
 * computes log, sin and cos here in portable double arithmetic (em_rng_log, em_rng_sincospi:
 * within an ulp of double, so f32 results are the exactly rounded ones but for about one value in
 * 10^8), so Ember's two backends agree bit for bit and each normal is within about an ulp of
 * ArrayFire's.
 *
 * Mersenne. ArrayFire's MTGP32 runs up to 32 blocks of 256 threads; block b has its own parameters
 * (the tables below) and its own 351 words of state, 32 * 351 in all. A draw of n elements uses
 * B = min(32, ceil(n / (32 * 256 * P))) blocks, block b covering elements [b * E, (b + 1) * E) with
 * E = ceil(n / B), in rounds of 256 * P elements; in round i, thread t's words are the block's
 * outputs (4i + q) * 256 + t for q = 0..3, and its slots are written as above. A block's last round
 * may reach past E into the next block's first round; ArrayFire's blocks all run at once, so the
 * reaching block (whose write comes last) wins, and Ember writes those elements from it. The
 * block's outputs follow the MTGP recursion on a ring of 768 words whose last 351 hold the state;
 * after the draw the ring's last 351 words become the state, as ArrayFire saves them. Seeding
 * fills each block's state from the seed and the block's recursion table (em_rng_mt_init). */
#ifndef EM_CORE_RNG_H
#define EM_CORE_RNG_H

#ifdef __CUDACC_RTC__
typedef unsigned char uint8_t;
typedef unsigned short uint16_t;
typedef unsigned int uint32_t;
typedef int int32_t;
typedef unsigned long long uint64_t;
typedef long long int64_t;
#else
#include <math.h>
#include <stdint.h>
#include <string.h>
#endif

#ifdef __CUDACC__
#define EM_RNG_FN      static inline __host__ __device__
#define EM_RNG_TABLE   static __constant__ const
#define EM_RNG_GTABLE  static __device__ const
#define EM_RNG_CTABLE  static __constant__
#define EM_RNG_ALIGN16 __align__(16)
#else
#define EM_RNG_FN      static inline
#define EM_RNG_TABLE   static const
#define EM_RNG_GTABLE  static const
#define EM_RNG_CTABLE  static const
#define EM_RNG_ALIGN16 __attribute__((aligned(16)))
#endif

/* The engines, as Ember numbers them internally. */
enum { EM_RNG_PHILOX = 0, EM_RNG_THREEFRY = 1, EM_RNG_MERSENNE = 2 };

/* Threads of one ArrayFire block: the stride between a thread's slots. */
#define EM_RNG_THREADS 256

/* Powers of two and constants, in decimal (exact where they are powers of two). */
#define EM_RNG_2M15F 3.0517578125e-05f
#define EM_RNG_2M16F 1.52587890625e-05f
#define EM_RNG_2M17F 7.62939453125e-06f
#define EM_RNG_2M31F 4.656612873077392578125e-10f
#define EM_RNG_2M32F 2.3283064365386962890625e-10f
#define EM_RNG_2M33F 1.16415321826934814453125e-10f
#define EM_RNG_2M63  1.084202172485504434007452800869941711425781250e-19
#define EM_RNG_2M64  5.421010862427522170037264004349708557128906250e-20
#define EM_RNG_2M65  2.710505431213761085018632002174854278564453125e-20

/* ---- the generators ---- */

/* Philox 4x32 with 10 rounds (Salmon et al., SC'11): out = philox(key, ctr). Round r uses the key
 * {key[0] + r W0, key[1] + r W1} with the Weyl increments W0 = 0x9E3779B9 (the golden ratio) and
 * W1 = 0xBB67AE85 (sqrt(3) - 1); em_philox_round_keys lists them, so that a caller making many
 * blocks with one key (a GPU kernel, from its parameters) forms them once. */
EM_RNG_FN void em_philox_round_keys(const uint32_t key[2], uint32_t rk[20]) {
    for (uint32_t r = 0; r < 10; r++) {
        rk[2 * r] = key[0] + r * 0x9E3779B9u;
        rk[2 * r + 1] = key[1] + r * 0xBB67AE85u;
    }
}

EM_RNG_FN void em_philox4x32_10_rk(const uint32_t rk[20], const uint32_t ctr[4], uint32_t out[4]) {
    uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
    for (int r = 0; r < 10; r++) {
        uint64_t p0 = (uint64_t)0xD2511F53u * c0;
        uint64_t p1 = (uint64_t)0xCD9E8D57u * c2;
        uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ rk[2 * r];
        uint32_t n1 = (uint32_t)p1;
        uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3 ^ rk[2 * r + 1];
        uint32_t n3 = (uint32_t)p0;
        c0 = n0, c1 = n1, c2 = n2, c3 = n3;
    }
    out[0] = c0, out[1] = c1, out[2] = c2, out[3] = c3;
}

EM_RNG_FN void em_philox4x32_10(const uint32_t key[2], const uint32_t ctr[4], uint32_t out[4]) {
    uint32_t rk[20];
    em_philox_round_keys(key, rk);
    em_philox4x32_10_rk(rk, ctr, out);
}

EM_RNG_FN uint32_t em_rng_rotl(uint32_t x, unsigned r) {
    return (x << r) | (x >> (32u - r));
}

/* Threefry 2x32 with 16 rounds (the Random123 construction: a key injection before the first round
 * and after every fourth, rotations 13 15 26 6 17 29 16 24). */
EM_RNG_FN void em_threefry2x32_16(const uint32_t key[2], const uint32_t ctr[2], uint32_t out[2]) {
    const uint32_t ks[3] = {key[0], key[1], 0x1BD11BDAu ^ key[0] ^ key[1]};
    const unsigned rot[8] = {13, 15, 26, 6, 17, 29, 16, 24};
    uint32_t x0 = ctr[0] + ks[0], x1 = ctr[1] + ks[1];
    for (unsigned g = 0; g < 4; g++) {
        for (unsigned i = 0; i < 4; i++) {
            x0 += x1;
            x1 = em_rng_rotl(x1, rot[(g & 1u) * 4u + i]) ^ x0;
        }
        x0 += ks[(g + 1u) % 3u];
        x1 += ks[(g + 2u) % 3u] + g + 1u;
    }
    out[0] = x0, out[1] = x1;
}

/* The four words of thread index idx = g * 256 * P + t of a counter-based engine with key `seed`
 * and counter `counter`; `half` is 128 * P, Threefry's distance to its second counter. */
EM_RNG_FN void em_rng_cb_words(int engine, uint64_t seed, uint64_t counter, uint64_t idx,
                               uint64_t half, uint32_t w[4]) {
    const uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    uint64_t c = counter + idx;
    if (engine == EM_RNG_PHILOX) {
        const uint32_t ctr[4] = {(uint32_t)c, (uint32_t)(c >> 32), c < counter ? 1u : 0u, 0u};
        em_philox4x32_10(key, ctr, w);
    } else {
        uint64_t d = c + half;
        const uint32_t c1[2] = {(uint32_t)c, (uint32_t)(c >> 32)};
        const uint32_t c2[2] = {(uint32_t)d, (uint32_t)(d >> 32)};
        em_threefry2x32_16(key, c1, w);
        em_threefry2x32_16(key, c2, w + 2);
    }
}

/* ---- what a draw makes ---- */

/* The kind of a draw, by dtype and distribution: it fixes the slots per thread and the
 * conversion. EM_RNG_NONE marks a combination that does not exist. */
enum {
    EM_RNG_NONE = 0,
    EM_RNG_U8,   /* uniform u8, s8 */
    EM_RNG_B8,   /* uniform b8 */
    EM_RNG_U16,  /* uniform u16, s16 */
    EM_RNG_U32,  /* uniform u32, s32 */
    EM_RNG_U64,  /* uniform u64, s64 */
    EM_RNG_UF16, /* uniform f16 */
    EM_RNG_UF32, /* uniform f32 */
    EM_RNG_UC32, /* uniform c32 */
    EM_RNG_UF64, /* uniform f64 */
    EM_RNG_UC64, /* uniform c64 */
    EM_RNG_NF16, /* normal f16 */
    EM_RNG_NF32, /* normal f32 */
    EM_RNG_NC32, /* normal c32 */
    EM_RNG_NF64, /* normal f64 */
    EM_RNG_NC64, /* normal c64 */
    EM_RNG_KINDS
};

/* The kind for an af_dtype value (its fixed ABI number) and a distribution (0 uniform, 1 normal).
 * Uniform takes every dtype; normal takes the floating ones. */
EM_RNG_FN int em_rng_kind(int dtype, int normal) {
    enum { f32_, c32_, f64_, c64_, b8_, s32_, u32_, u8_, s64_, u64_, s16_, u16_, f16_, s8_ };
    switch (dtype) {
    case f32_:
        return normal ? EM_RNG_NF32 : EM_RNG_UF32;
    case c32_:
        return normal ? EM_RNG_NC32 : EM_RNG_UC32;
    case f64_:
        return normal ? EM_RNG_NF64 : EM_RNG_UF64;
    case c64_:
        return normal ? EM_RNG_NC64 : EM_RNG_UC64;
    case f16_:
        return normal ? EM_RNG_NF16 : EM_RNG_UF16;
    case b8_:
        return normal ? EM_RNG_NONE : EM_RNG_B8;
    case u8_:
    case s8_:
        return normal ? EM_RNG_NONE : EM_RNG_U8;
    case u16_:
    case s16_:
        return normal ? EM_RNG_NONE : EM_RNG_U16;
    case u32_:
    case s32_:
        return normal ? EM_RNG_NONE : EM_RNG_U32;
    case u64_:
    case s64_:
        return normal ? EM_RNG_NONE : EM_RNG_U64;
    default:
        return EM_RNG_NONE;
    }
}

EM_RNG_FN int em_rng_is_normal(int kind) {
    return kind >= EM_RNG_NF16;
}

/* Bytes of one element of a kind (16 / P). */
EM_RNG_FN unsigned em_rng_elem_bytes(int kind) {
    switch (kind) {
    case EM_RNG_U8:
    case EM_RNG_B8:
        return 1;
    case EM_RNG_U16:
    case EM_RNG_UF16:
    case EM_RNG_NF16:
        return 2;
    case EM_RNG_U32:
    case EM_RNG_UF32:
    case EM_RNG_NF32:
        return 4;
    case EM_RNG_U64:
    case EM_RNG_UF64:
    case EM_RNG_NF64:
    case EM_RNG_UC32:
    case EM_RNG_NC32:
        return 8;
    case EM_RNG_UC64:
    case EM_RNG_NC64:
        return 16;
    default:
        return 0;
    }
}

/* Elements per thread (P), and per group or Mersenne round (256 * P). */
EM_RNG_FN unsigned em_rng_slots(int kind) {
    unsigned b = em_rng_elem_bytes(kind);
    return b ? 16u / b : 0u;
}
EM_RNG_FN unsigned em_rng_group(int kind) {
    return EM_RNG_THREADS * em_rng_slots(kind);
}

/* ---- binary16 ---- */

EM_RNG_FN uint32_t em_rng_fbits(float f) {
#ifdef __CUDACC__
    return __float_as_uint(f);
#else
    uint32_t u;
    memcpy(&u, &f, sizeof(u));
    return u;
#endif
}
EM_RNG_FN float em_rng_bitsf(uint32_t u) {
#ifdef __CUDACC__
    return __uint_as_float(u);
#else
    float f;
    memcpy(&f, &u, sizeof(f));
    return f;
#endif
}
EM_RNG_FN uint64_t em_rng_dbits(double d) {
#ifdef __CUDACC__
    return (uint64_t)__double_as_longlong(d);
#else
    uint64_t u;
    memcpy(&u, &d, sizeof(u));
    return u;
#endif
}
EM_RNG_FN double em_rng_bitsd(uint64_t u) {
#ifdef __CUDACC__
    return __longlong_as_double((long long)u);
#else
    double d;
    memcpy(&d, &u, sizeof(d));
    return d;
#endif
}

/* IEEE binary32 -> binary16 bits, round to nearest even (overflow to inf, NaN kept quiet). */
EM_RNG_FN uint16_t em_rng_f32_to_f16(float f) {
    uint32_t x = em_rng_fbits(f);
    uint32_t sign = (x >> 16) & 0x8000u;
    x &= 0x7fffffffu;
    if (x > 0x7f800000u) return (uint16_t)(sign | 0x7e00u);
    if (x >= 0x47800000u) return (uint16_t)(sign | 0x7c00u); /* >= 2^16, or inf */
    if (x >= 0x38800000u) {                                  /* normal in binary16 */
        uint32_t h = (x - 0x38000000u) >> 13;
        uint32_t rem = x & 0x1fffu;
        if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) h++; /* a carry may reach inf */
        return (uint16_t)(sign | h);
    }
    if (x <= 0x33000000u) return (uint16_t)sign; /* <= 2^-25 rounds to zero */
    /* Subnormal: value = m * 2^(e-150) with the hidden bit, result = value / 2^-24. */
    uint32_t e = x >> 23, m = (x & 0x7fffffu) | 0x800000u;
    uint32_t s = 126u - e; /* 14..24 */
    uint32_t h = m >> s, rem = m & ((1u << s) - 1u), half = 1u << (s - 1u);
    if (rem > half || (rem == half && (h & 1u))) h++;
    return (uint16_t)(sign | h);
}

/* binary16 bits -> the float of the same value. */
EM_RNG_FN float em_rng_f16_to_f32(uint16_t h) {
    uint32_t sign = ((uint32_t)h & 0x8000u) << 16, e = ((uint32_t)h >> 10) & 0x1fu;
    uint32_t m = (uint32_t)h & 0x3ffu;
    if (e == 0x1fu) return em_rng_bitsf(sign | 0x7f800000u | (m << 13));
    if (e != 0) return em_rng_bitsf(sign | ((e + 112u) << 23) | (m << 13));
    float v = (float)m * 5.9604644775390625e-08f; /* subnormal: m * 2^-24, exact */
    return sign ? -v : v;
}

/* x rounded to binary16, as a float: one binary16 operation of a float result. */
EM_RNG_FN float em_rng_round_f16(float x) {
    return em_rng_f16_to_f32(em_rng_f32_to_f16(x));
}

/* ---- uniform conversions ---- */

/* f32 in (0, 1]: 1 - fmaf((float)w, 2^-32, 2^-33). */
EM_RNG_FN float em_rng_uf32(uint32_t w) {
    return 1.0f - fmaf((float)w, EM_RNG_2M32F, EM_RNG_2M33F);
}

/* The double nearest hi * 2^32 + lo, as (double) of the 64-bit integer rounds it: both terms are
 * exact doubles, so the sum rounds once. (A CPU without a 64-bit unsigned conversion in its
 * vector unit, AVX2, vectorises this form.) */
EM_RNG_FN double em_rng_u64_to_f64(uint32_t hi, uint32_t lo) {
    return (double)hi * 4294967296.0 + (double)lo;
}

/* f64 in (0, 1] from the words (hi, lo). */
EM_RNG_FN double em_rng_uf64(uint32_t hi, uint32_t lo) {
    return 1.0 - fma(em_rng_u64_to_f64(hi, lo), EM_RNG_2M64, EM_RNG_2M65);
}

/* The binary16 number of ArrayFire's integer-to-half step: min(h & 0xffff, 65504) rounded to
 * binary16 (the largest finite one, so no input becomes inf). */
EM_RNG_FN float em_rng_h16(uint32_t h) {
    uint32_t v = h & 0xffffu;
    return em_rng_round_f16((float)(v < 65504u ? v : 65504u));
}

/* f16 in (0, 1], as binary16 bits: 1 - hfma(h, 2^-16, 2^-17) in binary16 arithmetic. Both float
 * operations are exact here, so each rounds once, as the binary16 instruction does. */
EM_RNG_FN uint16_t em_rng_uf16(uint32_t h) {
    float t = em_rng_round_f16(fmaf(em_rng_h16(h), EM_RNG_2M16F, EM_RNG_2M17F));
    return em_rng_f32_to_f16(1.0f - t);
}

/* ---- normals: log, sin and cos of pi x, in portable double arithmetic ---- */

/* Natural logarithm of a positive normal double x (the draws pass (0, 1]), within an ulp: x = 2^k m
 * with m in [sqrt(1/2), sqrt(2)), f = m - 1 (exact), s = f / (2 + f), and log(1 + f) =
 * 2 atanh(s) = f - (f^2/2 - s (f^2/2 + R)) with R = sum 2 s^(2i) / (2i + 1), i >= 1, ten terms
 * (|s| < 0.172). k ln 2 is added in two parts, the first exact. */
EM_RNG_FN double em_rng_log(double x) {
    uint64_t u = em_rng_dbits(x);
    uint64_t mant = u & 0x000fffffffffffffull;
    int big = mant > 0x6a09e667f3bcdull; /* m > sqrt(2): use m / 2 */
    int32_t k = (int32_t)((u >> 52) & 0x7ffu) - 1023 + big;
    double m = em_rng_bitsd(mant | (big ? 0x3fe0000000000000ull : 0x3ff0000000000000ull));
    double f = m - 1.0;
    double s = f / (2.0 + f);
    double z = s * s;
    double r =
        z * (2.0 / 3 +
             z * (2.0 / 5 +
                  z * (2.0 / 7 +
                       z * (2.0 / 9 +
                            z * (2.0 / 11 +
                                 z * (2.0 / 13 +
                                      z * (2.0 / 15 +
                                           z * (2.0 / 17 + z * (2.0 / 19 + z * (2.0 / 21))))))))));
    double hfsq = 0.5 * f * f;
    double dk = (double)k;
    /* ln 2 = LN2_HI + LN2_LO, LN2_HI with 32 significant bits so that k * LN2_HI is exact. */
    return dk * 0.6931471803691238 - ((hfsq - (s * (hfsq + r) + dk * 1.9082149292705877e-10)) - f);
}

/* sin(pi x) and cos(pi x) for x in [0, 2.5], within an ulp: x = k/2 + y with k the nearest integer
 * to 2x and |y| <= 1/4 (exact), Taylor series of sin(pi y) and cos(pi y) (pi y carried in two
 * parts), then the quadrant k mod 4. Zeros are +0, as IEEE's sinPi and cosPi give at integers. */
EM_RNG_FN void em_rng_sincospi(double x, double *sp, double *cp) {
    int32_t k = (int32_t)(2.0 * x + 0.5); /* the floor, since x >= 0 */
    double y = x - 0.5 * (double)k;
    int q = k & 3;
    double y2 = y * y;
    double ph = y * 3.141592653589793;
    double pl = fma(y, 3.141592653589793, -ph) + y * 1.2246467991473532e-16;
    double ps =
        -5.16771278004997 +
        y2 * (2.5501640398773455 +
              y2 * (-0.5992645293207921 +
                    y2 * (0.08214588661112823 + y2 * (-0.0073704309457143504 +
                                                      y2 * (0.00046630280576761255 +
                                                            y2 * (-2.1915353447830217e-05 +
                                                                  y2 * 7.952054001475513e-07))))));
    /* cos(pi y) = 1 + C2 y^2 + y^4 pc: the two leading terms are summed in two parts (y^2 and
     * C2 y^2 exactly through fma), so only the last addition rounds at full size. */
    double pc =
        4.0587121264167685 +
        y2 * (-1.3352627688545895 +
              y2 * (0.2353306303588932 + y2 * (-0.02580689139001406 +
                                               y2 * (0.0019295743094039231 +
                                                     y2 * (-0.0001046381049248457 +
                                                           y2 * (4.303069587032947e-06 +
                                                                 y2 * -1.3878952462213771e-07))))));
    double y2l = fma(y, y, -y2);
    double th = y2 * -4.934802200544679;
    double tl = fma(y2, -4.934802200544679, -th) +
                (y2l * -4.934802200544679 + y2 * -3.1326477543698557e-16);
    double one = 1.0 + th;
    double err = (1.0 - one) + th; /* exact: |th| < 1 */
    double sn = ph + (pl + y * y2 * ps);
    double cs = one + (err + (tl + y2 * y2 * pc));
    double s = (q & 1) ? cs : sn, c = (q & 1) ? sn : cs;
    s = (q & 2) ? -s : s;
    c = ((q + 1) & 2) ? -c : c;
    *sp = s + 0.0;
    *cp = c + 0.0;
}

/* The f32 normal pair of words (a, b). */
EM_RNG_FN void em_rng_nf32(uint32_t a, uint32_t b, float *n1, float *n2) {
    float u = fmaf((float)a, EM_RNG_2M31F, EM_RNG_2M32F);
    float v = fmaf((float)b, EM_RNG_2M32F, EM_RNG_2M33F);
    float r = sqrtf(-2.0f * (float)em_rng_log((double)v));
    double s, c;
    em_rng_sincospi((double)u, &s, &c);
    *n1 = r * (float)s;
    *n2 = r * (float)c;
}

/* The f64 normal pair of the four words. */
EM_RNG_FN void em_rng_nf64(const uint32_t w[4], double *n1, double *n2) {
    double u = fma(em_rng_u64_to_f64(w[0], w[1]), EM_RNG_2M63, EM_RNG_2M64);
    double v = fma(em_rng_u64_to_f64(w[2], w[3]), EM_RNG_2M64, EM_RNG_2M65);
    double r = sqrt(-2.0 * em_rng_log(v));
    double s, c;
    em_rng_sincospi(u, &s, &c);
    *n1 = r * s;
    *n2 = r * c;
}

/* The f16 normal pair of one word, as binary16 bits: every step rounded to binary16 as
 * ArrayFire's binary16 arithmetic rounds it. */
EM_RNG_FN void em_rng_nf16(uint32_t w, uint16_t *n1, uint16_t *n2) {
    float u = em_rng_round_f16(fmaf(em_rng_h16(w), EM_RNG_2M15F, EM_RNG_2M16F));
    float v = em_rng_round_f16(fmaf(em_rng_h16(w >> 16), EM_RNG_2M16F, EM_RNG_2M17F));
    float lg = em_rng_round_f16((float)em_rng_log((double)v));
    float r = em_rng_round_f16(sqrtf(-2.0f * lg));
    /* ArrayFire multiplies by pi rounded to binary16 (3.140625), then takes sin and cos. */
    float t = em_rng_round_f16(u * 3.140625f);
    double s, c;
    em_rng_sincospi((double)t * 0.3183098861837907, &s, &c);
    *n1 = em_rng_f32_to_f16(r * em_rng_round_f16((float)s));
    *n2 = em_rng_f32_to_f16(r * em_rng_round_f16((float)c));
}

/* ---- f32 normals, the fast way ---- */

/* em_rng_nf32 spends its time in em_rng_log and em_rng_sincospi, long double-precision sequences
 * (a division and series of ten and eight terms). Its f32 results depend on them only through
 * three floats: L = (float)em_rng_log(v), S = (float)sin and C = (float)cos. em_rng_nf32_x2 makes
 * the same three floats with much less work: each is computed in double to within 2^-47 of its
 * size by short polynomials, and when that value lies more than EM_RNG_FAST_ULPS of its double
 * ulps (2^-43 of its size) away from the midway point between two floats, it rounds to the float
 * that the long sequence rounds to, since both are within 2^-47 of the exact value (the long one
 * to an ulp). Otherwise, about one value in 2^18, it calls em_rng_nf32 itself. tests/test_random.c
 * checks all three against the long sequence for every float that a draw can pass (about 2^26.3
 * of them each). */
#define EM_RNG_FAST_ULPS 1024u

/* Whether the double x lies at least EM_RNG_FAST_ULPS of its ulps from the midway point between
 * two floats: its 29 bits below a float's precision, minus 2^28, are not in [-EM_RNG_FAST_ULPS,
 * EM_RNG_FAST_ULPS). One add and one masked test. */
EM_RNG_FN int em_rng_fast_rounds(double x) {
    uint32_t lo = (uint32_t)em_rng_dbits(x);
    return ((lo + EM_RNG_FAST_ULPS - 0x10000000u) &
            (0x1fffffffu & ~(2u * EM_RNG_FAST_ULPS - 1u))) != 0;
}

/* log(m) for mantissas m = 1 + i/32 + d, |d| <= 1/64: entry i holds r, a float near 1/(1 + i/32)
 * (1 and 1/2 at the ends, so that log(1) and numbers just below 1 come out exactly and without
 * cancellation), and t = -log(r) rounded to double; from entry 14 on (m > sqrt 2) the entries
 * count the mantissa one binade up, t = -log(2 r), so that log v near 0 has no large terms that
 * cancel. Entries are read per thread, so on a GPU they live in global memory (a constant bank
 * serialises different addresses within a warp), 16 bytes each for one load. */
#define EM_RNG_LOG_SPLIT 14
typedef struct {
    double t, r;
} EM_RNG_ALIGN16 em_rng_log_entry;
EM_RNG_GTABLE em_rng_log_entry em_rng_log_tbl[33] = {
    {0.0, 0x1.0p+0},
    {0x1.f82990e783380p-6, 0x1.f07c2p-1},
    {0x1.f0a30a01162a7p-5, 0x1.e1e1e2p-1},
    {0x1.6f0d272e56b4dp-4, 0x1.d41d42p-1},
    {0x1.e27074e2af2e8p-4, 0x1.c71c72p-1},
    {0x1.29552c41ff52ep-3, 0x1.bacf92p-1},
    {0x1.5ff3060a793d5p-3, 0x1.af286cp-1},
    {0x1.9525a80f456b8p-3, 0x1.a41a42p-1},
    {0x1.c8ff7a79a9a26p-3, 0x1.99999ap-1},
    {0x1.fb918bd5e3e44p-3, 0x1.8f9c18p-1},
    {0x1.1675c97aba611p-2, 0x1.861862p-1},
    {0x1.2e8e2bee11d31p-2, 0x1.7d05f4p-1},
    {0x1.4618ba21c5ecap-2, 0x1.745d18p-1},
    {0x1.5d1bda55809d0p-2, 0x1.6c16c2p-1},
    {-0x1.522ae1b38a3d5p-2, 0x1.642c86p-1},
    {-0x1.3c2525533317bp-2, 0x1.5c9882p-1},
    {-0x1.269623134db8ap-2, 0x1.555556p-1},
    {-0x1.1178e6c27e478p-2, 0x1.4e5e0ap-1},
    {-0x1.f991c3cb3b370p-3, 0x1.47ae14p-1},
    {-0x1.d10383e655e65p-3, 0x1.414142p-1},
    {-0x1.a93ed8c8ad9cap-3, 0x1.3b13b2p-1},
    {-0x1.823c18551a3bep-3, 0x1.3521dp-1},
    {-0x1.5bf407b543db1p-3, 0x1.2f684cp-1},
    {-0x1.365fc6c159004p-3, 0x1.29e412p-1},
    {-0x1.1178ee227e458p-3, 0x1.24924ap-1},
    {-0x1.da727838446a0p-4, 0x1.1f7048p-1},
    {-0x1.9335e4d594988p-4, 0x1.1a7b96p-1},
    {-0x1.4d31165207eacp-4, 0x1.15b1e6p-1},
    {-0x1.08599959e39a5p-4, 0x1.111112p-1},
    {-0x1.894a8349fb262p-5, 0x1.0c9714p-1},
    {-0x1.0415c89e74404p-5, 0x1.08421p-1},
    {-0x1.0205a38935667p-6, 0x1.041042p-1},
    {0.0, 0x1.0p-1},
};

/* The polynomials, fitted near-minimax (Chebyshev) in mpmath: log(1 + z) = z + z^2 P(z) for
 * |z| <= 2^-6, sin(pi y) = y S(y^2) and cos(pi y) = 1 + y^2 Q(y^2) for |y| <= 1/4, each within
 * 2^-47.5 of its size. Coefficients whose terms are too small to need more than 21 significant
 * bits are rounded to that (their rounding is part of the 2^-47.5), which a GPU's double
 * multiply-add takes as an immediate operand; the others are in this table, from which on a GPU
 * each multiply-add reads its coefficient through the constant bank instead of first moving
 * 64-bit literals into registers (the table is not const there, or NVRTC folds the values back
 * into literals). */
EM_RNG_CTABLE double em_rng_fast_c[14] = {
    -0x1.0000000000200p-1, 0x1.55555555558e4p-2,  -0x1.ffffff6ff5990p-3, /* P0..P2 */
    0x1.24a7ap-3,                                                        /* P5 */
    0x1.62e42fefa39efp-1,                                                /* log 2 */
    0x1.921fb54442cfap+1,  -0x1.4abbce6257a2ap+2, 0x1.466bc67123fa1p+1,  /* S0..S2 */
    -0x1.32d2c644adc0bp-1, 0x1.5071ce4b47930p-4,                         /* S3, S4 */
    -0x1.3bd3cc9be45dbp+2, 0x1.03c1f081b4b74p+2,  -0x1.55d3c7e10153fp+0, /* Q0..Q2 */
    0x1.e1f50093e4c8fp-3,                                                /* Q3 */
};

/* (float)em_rng_log(v) for a float v in (0, 1] into *out, returning 1; or 0 where the fast value
 * is too near a rounding boundary to tell. v = 2^e m, m in [1, 2), i the nearest of m's 32nds
 * (entry 32 is m just below 2); z = m r - 1 is exact (a product of two floats) and |z| <= 2^-6;
 * log v = e' log 2 + t + log(1 + z), with e' = e + 1 from entry 14 on (adding 18/32 + 1/64 to the
 * mantissa carries into the exponent exactly there). Of the terms, only the last can be as small
 * as the result, so the sum loses nothing. */
EM_RNG_FN int em_rng_logf_fast(float v, float *out) {
    const double *k = em_rng_fast_c;
    uint32_t b = em_rng_fbits(v), m = b & 0x7fffffu;
    uint32_t i = (m + 0x20000u) >> 18;
    int32_t e = (int32_t)((b + ((32u - EM_RNG_LOG_SPLIT) << 18) + 0x20000u) >> 23) - 127;
    double md = em_rng_bitsd(0x3ff0000000000000ull | (uint64_t)m << 29);
    em_rng_log_entry ent = em_rng_log_tbl[i];
    double z = fma(md, ent.r, -1.0);
    double q = fma(z, k[3], -0x1.556d5p-3);
    q = fma(z, q, 0x1.9999ap-3);
    q = fma(z, q, k[2]);
    q = fma(z, q, k[1]);
    q = fma(z, q, k[0]);
    double l = fma((double)e, k[4], ent.t) + fma(z * z, q, z);
    *out = (float)l;
    return em_rng_fast_rounds(l);
}

/* (float) of em_rng_sincospi's two results for a float u in (0, 2] into *s and *c, returning 1;
 * or 0 where the fast values are too near a rounding boundary to tell. u = k/2 + y with k the
 * nearest integer to 2u (rounded by adding 1.5 * 2^23) and |y| <= 1/4, exact in float; sin(pi y)
 * and cos(pi y) by the polynomials above, then the quadrant k mod 4, zeros as +0 as
 * em_rng_sincospi gives them. */
EM_RNG_FN int em_rng_sincospif_fast(float u, float *s, float *c) {
    const double *k = em_rng_fast_c;
    float big = fmaf(u, 2.0f, 12582912.0f);
    uint32_t q = em_rng_fbits(big) & 3u;
    float y = fmaf(big - 12582912.0f, -0.5f, u);
    double yd = (double)y, y2 = yd * yd;
    double ps = fma(y2, -0x1.dd548p-8, k[9]);
    ps = fma(y2, ps, k[8]);
    ps = fma(y2, ps, k[7]);
    ps = fma(y2, ps, k[6]);
    ps = fma(y2, ps, k[5]);
    double pc = fma(y2, 0x1.f4b53p-10, -0x1.a6cc3p-6);
    pc = fma(y2, pc, k[13]);
    pc = fma(y2, pc, k[12]);
    pc = fma(y2, pc, k[11]);
    pc = fma(y2, pc, k[10]);
    pc = fma(y2, pc, 1.0);
    double sn = yd * ps;
    float fs = (float)sn, fc = (float)pc;
    float a = (q & 1u) ? fc : fs, d = (q & 1u) ? fs : fc;
    *s = ((q & 2u) ? -a : a) + 0.0f;
    *c = (((q + 1u) & 2u) ? -d : d) + 0.0f;
    return em_rng_fast_rounds(sn) & em_rng_fast_rounds(pc);
}

/* em_rng_nf32 for the rare pair the fast way cannot round: out of line on a GPU, where inlining
 * the long sequence would cost registers in every thread, and returning its two numbers by value
 * (pointers into the caller would put them in local memory on the common path too). */
typedef struct {
    float n1, n2;
} em_rng_f32_pair;
#ifdef __CUDACC__
static __host__ __device__ __noinline__
#else
static
#endif
    em_rng_f32_pair
    em_rng_nf32_slow(uint32_t a, uint32_t b) {
    em_rng_f32_pair p;
    em_rng_nf32(a, b, &p.n1, &p.n2);
    return p;
}

/* The f32 normals of one thread's four words, exactly as em_rng_nf32 makes them: the pair of
 * (w[0], w[1]) into n[0], n[1] and that of (w[2], w[3]) into n[2], n[3]. The polynomials of both
 * pairs come before either square root (whose rare slow path is a call) and the rare fallbacks
 * after both, so that on a GPU the pairs share each coefficient's load and one branch. */
EM_RNG_FN void em_rng_nf32_x2(const uint32_t w[4], float n[4]) {
    float lg[2], s[2], c[2];
    int ok[2];
    for (int j = 0; j < 2; j++) {
        float u = fmaf((float)w[2 * j], EM_RNG_2M31F, EM_RNG_2M32F);
        float v = fmaf((float)w[2 * j + 1], EM_RNG_2M32F, EM_RNG_2M33F);
        ok[j] = em_rng_logf_fast(v, &lg[j]);
        ok[j] &= em_rng_sincospif_fast(u, &s[j], &c[j]);
    }
    for (int j = 0; j < 2; j++) {
        float r = sqrtf(-2.0f * lg[j]);
        n[2 * j] = r * s[j];
        n[2 * j + 1] = r * c[j];
    }
    if (!(ok[0] & ok[1])) {
        for (int j = 0; j < 2; j++) {
            if (!ok[j]) {
                em_rng_f32_pair p = em_rng_nf32_slow(w[2 * j], w[2 * j + 1]);
                n[2 * j] = p.n1;
                n[2 * j + 1] = p.n2;
            }
        }
    }
}

/* ---- one thread's elements ---- */

/* Writes the slots of one thread whose words are w: slot k goes to element e0 + 256 k of `out`
 * (the draw's buffer; f16 as binary16 bits, b8 as one byte 0 or 1), when lo <= that < n, or
 * always when `all` says that every slot lies in [lo, n) (the CUDA kernels pass a constant 1 for
 * whole groups, so the checks vanish there and the stores take constant offsets from one
 * address). em_rng_store is the definition that the tests hold both backends to; the CUDA kernels
 * call this with the kind a constant; the CPU backend's loops make the same values group by
 * group. */
#define EM_RNG_IN(e) (all || ((e) >= lo && (e) < n))
EM_RNG_FN void em_rng_store_slots(void *out, int kind, uint64_t e0, uint64_t lo, uint64_t n,
                                  int all, const uint32_t w[4]) {
    const uint64_t T = EM_RNG_THREADS;
    switch (kind) {
    case EM_RNG_U8:
    case EM_RNG_B8: {
        uint8_t *o = (uint8_t *)out;
        uint32_t mask = kind == EM_RNG_B8 ? 1u : 0xffu;
        for (unsigned k = 0; k < 16; k++) {
            uint64_t e = e0 + k * T;
            if (EM_RNG_IN(e)) o[e] = (uint8_t)((w[k >> 2] >> (8u * (k & 3u))) & mask);
        }
        break;
    }
    case EM_RNG_U16: {
        uint16_t *o = (uint16_t *)out;
        for (unsigned k = 0; k < 8; k++) {
            uint64_t e = e0 + k * T;
            if (EM_RNG_IN(e)) o[e] = (uint16_t)(w[k >> 1] >> (16u * (k & 1u)));
        }
        break;
    }
    case EM_RNG_UF16: {
        uint16_t *o = (uint16_t *)out;
        for (unsigned k = 0; k < 8; k++) {
            uint64_t e = e0 + k * T;
            if (EM_RNG_IN(e)) o[e] = em_rng_uf16(w[k >> 1] >> (16u * (k & 1u)));
        }
        break;
    }
    case EM_RNG_U32: {
        uint32_t *o = (uint32_t *)out;
        for (unsigned k = 0; k < 4; k++) {
            uint64_t e = e0 + k * T;
            if (EM_RNG_IN(e)) o[e] = w[k];
        }
        break;
    }
    case EM_RNG_UF32: {
        float *o = (float *)out;
        for (unsigned k = 0; k < 4; k++) {
            uint64_t e = e0 + k * T;
            if (EM_RNG_IN(e)) o[e] = em_rng_uf32(w[k]);
        }
        break;
    }
    case EM_RNG_U64:
    case EM_RNG_UF64:
    case EM_RNG_UC32: {
        for (unsigned k = 0; k < 2; k++) {
            uint64_t e = e0 + k * T;
            if (!EM_RNG_IN(e)) continue;
            if (kind == EM_RNG_U64) {
                ((uint64_t *)out)[e] = (uint64_t)w[2 * k + 1] << 32 | w[2 * k];
            } else if (kind == EM_RNG_UF64) {
                ((double *)out)[e] = em_rng_uf64(w[2 * k], w[2 * k + 1]);
            } else {
                ((float *)out)[2 * e] = em_rng_uf32(w[2 * k]);
                ((float *)out)[2 * e + 1] = em_rng_uf32(w[2 * k + 1]);
            }
        }
        break;
    }
    case EM_RNG_UC64:
        if (EM_RNG_IN(e0)) {
            ((double *)out)[2 * e0] = em_rng_uf64(w[0], w[1]);
            ((double *)out)[2 * e0 + 1] = em_rng_uf64(w[2], w[3]);
        }
        break;
    case EM_RNG_NF16: {
        uint16_t *o = (uint16_t *)out;
        for (unsigned j = 0; j < 4; j++) {
            uint16_t a, b;
            em_rng_nf16(w[j], &a, &b);
            uint64_t e = e0 + 2 * j * T;
            if (EM_RNG_IN(e)) o[e] = a;
            if (EM_RNG_IN(e + T)) o[e + T] = b;
        }
        break;
    }
    case EM_RNG_NF32:
    case EM_RNG_NC32: {
        float *o = (float *)out, nv[4];
        em_rng_nf32_x2(w, nv);
        for (unsigned j = 0; j < 2; j++) {
            float a = nv[2 * j], b = nv[2 * j + 1];
            if (kind == EM_RNG_NC32) {
                uint64_t e = e0 + j * T;
                if (EM_RNG_IN(e)) o[2 * e] = a, o[2 * e + 1] = b;
            } else {
                uint64_t e = e0 + 2 * j * T;
                if (EM_RNG_IN(e)) o[e] = a;
                if (EM_RNG_IN(e + T)) o[e + T] = b;
            }
        }
        break;
    }
    case EM_RNG_NF64:
    case EM_RNG_NC64: {
        double *o = (double *)out, a, b;
        em_rng_nf64(w, &a, &b);
        if (kind == EM_RNG_NC64) {
            if (EM_RNG_IN(e0)) o[2 * e0] = a, o[2 * e0 + 1] = b;
        } else {
            if (EM_RNG_IN(e0)) o[e0] = a;
            if (EM_RNG_IN(e0 + T)) o[e0 + T] = b;
        }
        break;
    }
    default:
        break;
    }
}
#undef EM_RNG_IN

EM_RNG_FN void em_rng_store(void *out, int kind, uint64_t e0, uint64_t lo, uint64_t n,
                            const uint32_t w[4]) {
    em_rng_store_slots(out, kind, e0, lo, n, 0, w);
}

/* ---- Mersenne: MTGP32 with ArrayFire's parameter set 11213 ---- */

#define EM_RNG_MT_BLOCKS 32
#define EM_RNG_MT_N      351                              /* state words per block */
#define EM_RNG_MT_RING   768                              /* a block's ring of words */
#define EM_RNG_MT_WORDS  (EM_RNG_MT_BLOCKS * EM_RNG_MT_N) /* an engine's whole state */
#define EM_RNG_MT_MASK   0xfff80000u

/* Each block's parameters: pos, sh1, sh2, and 16-entry recursion and tempering tables, from
 * MTGP's published parameter file for the exponent 11213 (mtgp32dc-param-11213.c), as ArrayFire
 * uses them. The tables are linear over XOR (entry i ^ j = entry i ^ entry j), which the tests
 * check. */
// clang-format off
EM_RNG_TABLE uint32_t em_rng_mt_pos[EM_RNG_MT_BLOCKS] = {
    88u, 84u, 25u, 42u, 22u, 11u, 76u, 11u, 42u, 60u, 45u, 80u, 81u, 16u, 63u, 38u,
    3u, 55u, 9u, 75u, 70u, 63u, 32u, 70u, 58u, 33u, 18u, 9u, 14u, 91u, 90u, 86u,
};
EM_RNG_TABLE uint32_t em_rng_mt_sh1[EM_RNG_MT_BLOCKS] = {
    19u, 15u, 4u, 20u, 1u, 16u, 16u, 15u, 6u, 6u, 12u, 6u, 8u, 1u, 14u, 28u,
    30u, 1u, 9u, 17u, 15u, 15u, 7u, 12u, 21u, 7u, 7u, 12u, 16u, 4u, 10u, 6u,
};
EM_RNG_TABLE uint32_t em_rng_mt_sh2[EM_RNG_MT_BLOCKS] = {
    5u, 12u, 18u, 9u, 5u, 1u, 6u, 16u, 11u, 11u, 13u, 9u, 18u, 19u, 18u, 1u,
    2u, 16u, 15u, 6u, 6u, 17u, 15u, 10u, 2u, 10u, 13u, 13u, 3u, 2u, 14u, 7u,
};
EM_RNG_TABLE uint32_t em_rng_mt_rec_tbl[EM_RNG_MT_BLOCKS * 16] = {
    0u, 2879706668u, 3137826695u, 279165355u, 570425344u, 2309281324u,
    2567401351u, 849590699u, 38330u, 2879669142u, 3137862205u, 279129105u,
    570463674u, 2309243798u, 2567436861u, 849554449u,
    0u, 2593609479u, 1975655185u, 4015344662u, 357564441u, 2412205854u,
    1620187912u, 4194651151u, 53865u, 2593621358u, 1975699832u, 4015365759u,
    357618288u, 2412217719u, 1620232545u, 4194672230u,
    0u, 1350351572u, 3879866427u, 3074337519u, 1908408359u, 566016755u,
    2525106204u, 3338578632u, 56684u, 1350330296u, 3879914839u, 3074324355u,
    1908464971u, 565995423u, 2525154672u, 3338565540u,
    0u, 1055977248u, 2682116586u, 2704094922u, 271581238u, 784396054u,
    2414729692u, 2971481852u, 23789u, 1055962061u, 2682094855u, 2704108071u,
    271604955u, 784380923u, 2414708017u, 2971494929u,
    0u, 2953117369u, 62376084u, 3014866477u, 122683469u, 3075800820u,
    82299097u, 3034789472u, 18916u, 2953099101u, 62357872u, 3014885321u,
    122702249u, 3075782416u, 82280765u, 3034808196u,
    0u, 1684682268u, 3815655459u, 2265218623u, 723517535u, 1330263619u,
    3360573564u, 2888072800u, 51884u, 1684733104u, 3815670415u, 2265232531u,
    723569395u, 1330314479u, 3360588496u, 2888086732u,
    0u, 465136444u, 2086871972u, 1742358680u, 574619745u, 972647261u,
    1579361221u, 1167739129u, 19553u, 465119069u, 2086891461u, 1742341369u,
    574639104u, 972629820u, 1579380644u, 1167721624u,
    0u, 2761653723u, 3161842783u, 418290052u, 1969225846u, 3522919853u,
    3373655081u, 1838062066u, 50425u, 2761668898u, 3161792678u, 418274685u,
    1969276047u, 3522935124u, 3373605072u, 1838046475u,
    0u, 823868564u, 2715863359u, 2432431531u, 1012924546u, 226180118u,
    2642463165u, 2895901993u, 46626u, 823888566u, 2715844381u, 2432385929u,
    1012971168u, 226200116u, 2642444191u, 2895856395u,
    0u, 3163477696u, 1302313789u, 4044451325u, 2389704861u, 855561821u,
    3287268256u, 2137091424u, 40970u, 3163453130u, 1302272823u, 4044475895u,
    2389745815u, 855537239u, 3287227306u, 2137116010u,
    0u, 112997176u, 3723016697u, 3679750849u, 4213178533u, 4254872477u,
    650688860u, 544508516u, 42220u, 113022932u, 3722976533u, 3679727149u,
    4213220425u, 4254898033u, 650649008u, 544485000u,
    0u, 612320333u, 3070909104u, 2473926397u, 3292528821u, 3762242808u,
    1934252549u, 1463098952u, 21839u, 612307202u, 3070889983u, 2473937842u,
    3292550650u, 3762229687u, 1934233418u, 1463110407u,
    0u, 3452614784u, 3739161126u, 320187046u, 3513778374u, 481998918u,
    263131872u, 3261442656u, 46663u, 3452571335u, 3739198561u, 320150753u,
    3513824897u, 481955329u, 263169191u, 3261406247u,
    0u, 588293362u, 2445856652u, 3000527742u, 2311061713u, 2865800227u,
    403230557u, 991456175u, 62105u, 588273259u, 2445819157u, 3000539623u,
    2311123528u, 2865780410u, 403193284u, 991467830u,
    0u, 2177339548u, 3971246860u, 1836317584u, 4080009455u, 1928826995u,
    528772067u, 2655255423u, 59650u, 2177333662u, 3971252750u, 1836257938u,
    4080069101u, 1928821105u, 528777953u, 2655195773u,
    0u, 3849091899u, 1973261595u, 2431774240u, 442499322u, 4279008193u,
    1878889953u, 2324819674u, 17524u, 3849076559u, 1973277039u, 2431756884u,
    442516622u, 4278992821u, 1878905237u, 2324802222u,
    0u, 2208474059u, 1390454348u, 3510764935u, 2555379979u, 468886208u,
    3400574791u, 1225917580u, 43685u, 2208434542u, 1390415081u, 3510808354u,
    2555423662u, 468846693u, 3400535522u, 1225961001u,
    0u, 753114312u, 1662184071u, 1341224527u, 2666529043u, 2987630043u,
    4259507092u, 3506534236u, 32220u, 753131796u, 1662162779u, 1341197203u,
    2666560719u, 2987646983u, 4259485256u, 3506506368u,
    0u, 578983141u, 3246792315u, 3808725662u, 1649410346u, 1087542735u,
    2748718929u, 2169801652u, 22528u, 578997477u, 3246802555u, 3808744094u,
    1649432874u, 1087557071u, 2748729169u, 2169820084u,
    0u, 2174674396u, 1341825145u, 3462677925u, 3861905719u, 1739515115u,
    2848629070u, 676611218u, 35444u, 2174644136u, 1341794829u, 3462713297u,
    3861941059u, 1739484831u, 2848598842u, 676646630u,
    0u, 3312287941u, 1270375145u, 2396381740u, 2464153923u, 1468891526u,
    3646448554u, 473293679u, 38325u, 3312260464u, 1270413148u, 2396354457u,
    2464191734u, 1468863539u, 3646486047u, 473265882u,
    0u, 1011438676u, 4087471600u, 3488123300u, 455082329u, 661214477u,
    3900824745u, 3569912061u, 52539u, 1011456367u, 4087419083u, 3488105631u,
    455134306u, 661231670u, 3900772754u, 3569894854u,
    0u, 3529350863u, 2972224887u, 1668617144u, 3278897504u, 288202671u,
    1918405655u, 2684687064u, 37845u, 3529313562u, 2972196514u, 1668644973u,
    3278934709u, 288164986u, 1918377922u, 2684715277u,
    0u, 1851876274u, 2748239338u, 3450842712u, 3060793725u, 3625018063u,
    364825751u, 2078256933u, 54612u, 1851897574u, 2748192958u, 3450829580u,
    3060847657u, 3625039771u, 364779971u, 2078243441u,
    0u, 2798128189u, 889378840u, 2479543333u, 3664773513u, 2092436916u,
    4017281425u, 1236981164u, 52108u, 2798176177u, 889328532u, 2479497129u,
    3664824837u, 2092484152u, 4017230365u, 1236934176u,
    0u, 1067241239u, 3453461153u, 4065029558u, 4190110101u, 3327970946u,
    873964340u, 193686563u, 27698u, 1067229989u, 3453472403u, 4065001860u,
    4190137767u, 3327959728u, 873975558u, 193658897u,
    0u, 2213869621u, 887682042u, 3072068559u, 4061135267u, 1910831510u,
    3338203737u, 1158417004u, 40265u, 2213832060u, 887647923u, 3072104070u,
    4061175018u, 1910793439u, 3338170128u, 1158453029u,
    0u, 3310321543u, 1761913168u, 2890651351u, 2243953084u, 1083145787u,
    3972311276u, 697030507u, 31607u, 3310290160u, 1761923623u, 2890640800u,
    2243984075u, 1083114828u, 3972322203u, 697019420u,
    0u, 2168967706u, 1652210191u, 3812452373u, 663749057u, 2799162331u,
    1173011406u, 3299699156u, 62673u, 2168923851u, 1652182750u, 3812465860u,
    663811344u, 2799118090u, 1172983583u, 3299712261u,
    0u, 2787116654u, 1233955067u, 4021071509u, 3287286227u, 1708132285u,
    2323425576u, 744271686u, 37500u, 2787152914u, 1233926791u, 4021042409u,
    3287323567u, 1708168641u, 2323397460u, 744242490u,
    0u, 3709953686u, 1938447361u, 2930457239u, 1075839468u, 2634114938u,
    866803181u, 4002102139u, 50633u, 3709969247u, 1938463176u, 2930507614u,
    1075889189u, 2634130099u, 866818084u, 4002152114u,
    0u, 1104625460u, 154195956u, 1223157952u, 1706033657u, 610746061u,
    1820382733u, 760736057u, 35538u, 1104655846u, 154164518u, 1223123474u,
    1706068779u, 610776095u, 1820351711u, 760701931u,
};
EM_RNG_TABLE uint32_t em_rng_mt_tmp_tbl[EM_RNG_MT_BLOCKS * 16] = {
    0u, 101711872u, 634912768u, 600309760u, 673972224u, 775684096u,
    234094592u, 199491584u, 855825920u, 890428928u, 383442432u, 281730560u,
    456056320u, 490659328u, 1056366080u, 954654208u,
    0u, 6581248u, 135327744u, 141859840u, 922910720u, 929491968u,
    1058172928u, 1064705024u, 5266944u, 3420672u, 138456576u, 136626688u,
    928177664u, 926331392u, 1061301760u, 1059471872u,
    0u, 69272064u, 134479872u, 203751936u, 289406976u, 358679040u,
    423886848u, 493158912u, 544153088u, 609098752u, 678108672u, 743054336u,
    825171456u, 890117120u, 959127040u, 1024072704u,
    0u, 608635904u, 2523648u, 610373120u, 5439488u, 605293568u,
    7700992u, 607292928u, 274488832u, 874205696u, 276487168u, 876466176u,
    269442560u, 877154816u, 271178752u, 879677440u,
    0u, 1214875648u, 67174400u, 1281918976u, 1614020608u, 677218304u,
    1681195008u, 744261632u, 537288192u, 1752159744u, 604462592u, 1819203072u,
    1077042688u, 140236288u, 1144217088u, 207279616u,
    0u, 3567010304u, 194572288u, 3741626880u, 604008960u, 4036767744u,
    798523904u, 4211392512u, 1563500032u, 2309839872u, 1453977088u, 2184555520u,
    2033282048u, 2913807872u, 1923718144u, 2788548096u,
    0u, 136677376u, 272809984u, 409421824u, 2109440u, 134592512u,
    274919424u, 407336960u, 1891638784u, 2028312064u, 1619189248u, 1755796992u,
    1893740032u, 2026219008u, 1621290496u, 1753703936u,
    0u, 4026617856u, 172764160u, 4199382016u, 75673600u, 4102283264u,
    248421376u, 4275031040u, 1158700544u, 3037793792u, 1331458560u, 3210551808u,
    1100148224u, 2979249664u, 1272889856u, 3151991296u,
    0u, 2147483648u, 0u, 2147483648u, 3221225472u, 1073741824u,
    3221225472u, 1073741824u, 536878592u, 2684362240u, 536878592u, 2684362240u,
    3758104064u, 1610620416u, 3758104064u, 1610620416u,
    0u, 3225420800u, 2228224u, 3227649024u, 809369600u, 4034790400u,
    807141376u, 4032562176u, 1073880576u, 2151815680u, 1075846656u, 2153781760u,
    1882988032u, 2960923136u, 1881021952u, 2958957056u,
    0u, 206130176u, 1107561472u, 1313685504u, 537462784u, 742409216u,
    1645020160u, 1849968640u, 272670208u, 470405632u, 1380225536u, 1577967104u,
    810128896u, 1006688768u, 1917688320u, 2114246144u,
    0u, 807406080u, 275513344u, 541854208u, 1573888u, 808979968u,
    276038656u, 542379520u, 269098496u, 539628544u, 6692352u, 809899008u,
    269621760u, 540151808u, 8264192u, 811470848u,
    0u, 1612447744u, 142082048u, 1751384064u, 7602176u, 1617428480u,
    135004160u, 1745879040u, 10493440u, 1622941184u, 148381184u, 1757683200u,
    13901312u, 1623727616u, 145497600u, 1756372480u,
    0u, 1275199488u, 2793406464u, 3934388224u, 352321536u, 1493303296u,
    3011510272u, 4286709760u, 689970688u, 1696734720u, 2409635328u, 3282181632u,
    1008737792u, 1881284096u, 2594184704u, 3600948736u,
    0u, 150999040u, 33619968u, 184619008u, 2103296u, 153094144u,
    35723264u, 186714112u, 805543424u, 956534272u, 839032320u, 990023168u,
    807634432u, 958633472u, 841123328u, 992122368u,
    0u, 3225487872u, 3876324352u, 659361280u, 4198400000u, 981436928u,
    489849856u, 3715337728u, 545267200u, 3770749952u, 3347847680u, 130879488u,
    3669925376u, 452957184u, 1035115008u, 4260597760u,
    0u, 3910139904u, 2496659456u, 2109734912u, 3687579648u, 853278720u,
    1327235072u, 2785804288u, 164634112u, 3770686976u, 2634030592u, 1947213312u,
    3525058048u, 990649856u, 1187782144u, 2950438400u,
    0u, 201461760u, 3812622336u, 4014084096u, 33554432u, 235016192u,
    3779067904u, 3980529664u, 1352670720u, 1554124288u, 3017809408u, 3219262976u,
    1386225152u, 1587678720u, 2984254976u, 3185708544u,
    0u, 1469123584u, 3497837568u, 2280507392u, 2818795520u, 4287783936u,
    2021633024u, 804167680u, 5381632u, 1472401920u, 3492731392u, 2277496320u,
    2823910912u, 4290804224u, 2016260608u, 800898560u,
    0u, 2550235136u, 537106432u, 3087144960u, 1074806784u, 3625041920u,
    1611913216u, 4161951744u, 212480u, 2550316544u, 536913408u, 3087083008u,
    1075019264u, 3625123328u, 1611720192u, 4161889792u,
    0u, 543432704u, 623958016u, 89454592u, 27283968u, 566522368u,
    613452288u, 83143168u, 5381632u, 540425728u, 627230208u, 84338176u,
    32656384u, 563506176u, 616731648u, 78033920u,
    0u, 134377472u, 2521945088u, 2656281600u, 4236288u, 138597376u,
    2517725184u, 2652045312u, 7249408u, 141356544u, 2520730112u, 2654812672u,
    3029504u, 137120256u, 2524966400u, 2659032576u,
    0u, 269697536u, 42663936u, 311968256u, 1346895872u, 1079722496u,
    1388511232u, 1120944640u, 284057088u, 16587776u, 308633088u, 41294848u,
    1084644864u, 1354046464u, 1110269440u, 1379802112u,
    0u, 54056960u, 5527552u, 57442304u, 22155264u, 40552448u,
    17188864u, 37654528u, 2153984u, 51906048u, 7636480u, 55336448u,
    24301056u, 38409728u, 19305984u, 35540480u,
    0u, 3597599744u, 21800448u, 3609436672u, 4467200u, 3593154048u,
    17337344u, 3613886464u, 209935872u, 3672922624u, 231733248u, 3684760576u,
    214397952u, 3668471808u, 227267072u, 3689207296u,
    0u, 70910976u, 7421952u, 72041472u, 272663552u, 343572480u,
    271696896u, 336314368u, 1879350784u, 1950259712u, 1886772736u, 1951390208u,
    1615075840u, 1685986816u, 1614109184u, 1678728704u,
    0u, 1761935360u, 185210880u, 1645156352u, 1101029376u, 681926656u,
    1252685824u, 598702080u, 74128896u, 1835933184u, 258016768u, 1717831168u,
    1170963968u, 751730176u, 1321297408u, 667182592u,
    0u, 3338677248u, 1516357632u, 2640438272u, 302069760u, 3573617664u,
    1214312448u, 2405489664u, 3368033792u, 264253952u, 2460079616u, 1436678656u,
    3670091264u, 499190272u, 2158030336u, 1201717760u,
    0u, 554461696u, 7452672u, 561893888u, 3422689792u, 3977146368u,
    3430130176u, 3984574464u, 1102241280u, 1623110656u, 1103324672u, 1624181760u,
    2377171968u, 2898046464u, 2378267648u, 2899121664u,
    0u, 697340416u, 7652864u, 702829568u, 1074688000u, 1772020224u,
    1081783808u, 1776952320u, 1141022208u, 1838287872u, 1148606464u, 1843841536u,
    67956224u, 765230080u, 74983424u, 770226688u,
    0u, 423231488u, 128225280u, 513708032u, 6653952u, 425691136u,
    130095104u, 519772160u, 1146551808u, 1567424000u, 1139961344u, 1523084800u,
    1144223232u, 1560901120u, 1134028288u, 1521346048u,
    0u, 33619968u, 271785984u, 305274880u, 268632064u, 302120960u,
    3153920u, 36773888u, 1077583360u, 1111203328u, 1342815744u, 1376304640u,
    1345953280u, 1379442176u, 1074445824u, 1108065792u,
};
// clang-format on

/* One step of a block's recursion on the words x1 = S[j-351], x2 = S[j-350], y = S[j-351+pos],
 * with the block's 16-entry recursion table `rec` and shifts sh1, sh2. */
EM_RNG_FN uint32_t em_rng_mt_recursion(const uint32_t *rec, unsigned sh1, unsigned sh2, uint32_t x1,
                                       uint32_t x2, uint32_t y) {
    uint32_t x = (x1 & EM_RNG_MT_MASK) ^ x2;
    x ^= x << sh1;
    y = x ^ (y >> sh2);
    return y ^ rec[y & 0x0fu];
}

/* A block's output for the new word v, tempered with t = S[j-352+pos] and the block's 16-entry
 * tempering table `tmp`. */
EM_RNG_FN uint32_t em_rng_mt_temper(const uint32_t *tmp, uint32_t v, uint32_t t) {
    t ^= t >> 16;
    t ^= t >> 8;
    return v ^ tmp[t & 0x0fu];
}

/* The state of every block for `seed` (EM_RNG_MT_WORDS words): block b's words start from a
 * "hidden seed" made of its recursion table, then word 0 = the low 32 bits of seed, word 1 = the
 * hidden seed, and word i ^= 1812433253 (word[i-1] ^ word[i-1] >> 30) + i. */
EM_RNG_FN void em_rng_mt_init(uint64_t seed, uint32_t *state) {
    for (unsigned b = 0; b < EM_RNG_MT_BLOCKS; b++) {
        uint32_t *s = state + b * EM_RNG_MT_N;
        uint32_t hidden = em_rng_mt_rec_tbl[16 * b + 4] ^ (em_rng_mt_rec_tbl[16 * b + 8] << 16);
        uint32_t fill = hidden;
        fill += fill >> 16;
        fill += fill >> 8;
        fill &= 0xffu;
        fill |= fill << 8;
        fill |= fill << 16;
        for (unsigned i = 0; i < EM_RNG_MT_N; i++)
            s[i] = fill;
        s[0] = (uint32_t)seed;
        s[1] = hidden;
        for (unsigned i = 1; i < EM_RNG_MT_N; i++)
            s[i] ^= 1812433253u * (s[i - 1] ^ (s[i - 1] >> 30)) + i;
    }
}

/* How a Mersenne draw of n elements of `kind` splits: `blocks` blocks of `per_block` elements
 * (the last one shorter), `rounds` rounds of 256 * P elements for each full block, and `skip`, the
 * elements at the start of every block but the first that the previous block writes. */
typedef struct {
    unsigned blocks;
    uint64_t per_block, rounds, skip;
} em_rng_mt_plan;

EM_RNG_FN em_rng_mt_plan em_rng_mt_plan_of(int kind, uint64_t n) {
    em_rng_mt_plan p = {0, 0, 0, 0};
    uint64_t round = em_rng_group(kind);
    if (n == 0 || round == 0) return p;
    uint64_t blocks = (n + 32 * round - 1) / (32 * round);
    p.blocks = (unsigned)(blocks < EM_RNG_MT_BLOCKS ? blocks : EM_RNG_MT_BLOCKS);
    p.per_block = (n + p.blocks - 1) / p.blocks;
    p.rounds = (p.per_block + round - 1) / round;
    p.skip = p.rounds * round - p.per_block;
    return p;
}

#endif
