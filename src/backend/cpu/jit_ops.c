/* The CPU kernels of the JIT ops, one loop per (op, operand dtype). Each loop runs over one block
 * in block representation (f16 as float), so the compiler vectorises it. The table at the end maps
 * (op, operand dtype) to its loop; the api layer only builds pairs that exist here.
 *
 * docs/JIT_OPS.md is the specification of every op, and the CUDA code generator implements the
 * same definitions; a change here is a change there. No kernel relies on behaviour C leaves
 * undefined: integer arithmetic wraps through the unsigned types, division by zero and shifts out
 * of range have defined results, and float-to-integer conversions live in cast.c. */

/* FP contraction would fuse a*b + c into one rounding and make results depend on the compiler;
 * math errno would keep libm calls from vectorising (nothing here reads errno); trapping math
 * keeps GCC from if-converting the selects of the loops below (no FP trap is ever enabled). */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off", "no-math-errno", "no-trapping-math")
#endif

#include "cpu.h"

#include <math.h>
#include <string.h>
#if defined(__AVX__)
#include <immintrin.h>
#endif

/* ---------------------------------------------------------------------------------------------
 * Loop templates. T operand block type, R result block type, EXPR in terms of x (and y).
 * ------------------------------------------------------------------------------------------- */
#define DEF_UN(NAME, SFX, T, R, EXPR)                                                              \
    static void NAME##_##SFX(void *out, const void *const *in, size_t n) {                         \
        R *restrict o = out;                                                                       \
        const T *restrict a = in[0];                                                               \
        for (size_t i = 0; i < n; i++) {                                                           \
            T x = a[i];                                                                            \
            o[i] = (EXPR);                                                                         \
        }                                                                                          \
    }
#define DEF_BIN(NAME, SFX, T, R, EXPR)                                                             \
    static void NAME##_##SFX(void *out, const void *const *in, size_t n) {                         \
        R *restrict o = out;                                                                       \
        const T *restrict a = in[0], *restrict b = in[1];                                          \
        for (size_t i = 0; i < n; i++) {                                                           \
            T x = a[i], y = b[i];                                                                  \
            o[i] = (EXPR);                                                                         \
        }                                                                                          \
    }
#define DEF_SELECT(SFX, T)                                                                         \
    static void SELECT_##SFX(void *out, const void *const *in, size_t n) {                         \
        T *restrict o = out;                                                                       \
        const uint8_t *restrict c = in[0];                                                         \
        const T *restrict a = in[1], *restrict b = in[2];                                          \
        for (size_t i = 0; i < n; i++)                                                             \
            o[i] = c[i] ? a[i] : b[i];                                                             \
    }

/* ---------------------------------------------------------------------------------------------
 * Integers. Arithmetic goes through UW, an unsigned type at least as wide as int, so that no
 * operation overflows a signed type (8- and 16-bit operands would otherwise be promoted to int,
 * where 65535 * 65535 overflows). Converting the wrapped result back to a signed type is
 * implementation-defined in C, and modular on every compiler Ember supports.
 * ------------------------------------------------------------------------------------------- */
#define INT_COMMON(S, T, UW, W)                                                                    \
    static inline T add_##S(T x, T y) {                                                            \
        return (T)((UW)x + (UW)y);                                                                 \
    }                                                                                              \
    static inline T sub_##S(T x, T y) {                                                            \
        return (T)((UW)x - (UW)y);                                                                 \
    }                                                                                              \
    static inline T mul_##S(T x, T y) {                                                            \
        return (T)((UW)x * (UW)y);                                                                 \
    }                                                                                              \
    static inline T neg_##S(T x) {                                                                 \
        return (T)((UW)0 - (UW)x);                                                                 \
    }                                                                                              \
    /* Left shift on the unsigned type; a count outside 0..W-1 gives 0. */                         \
    static inline T shl_##S(T x, T y) {                                                            \
        return (uint64_t)y >= (W) ? (T)0 : (T)((UW)x << (unsigned)y);                              \
    }                                                                                              \
    /* Exact power modulo 2^W by repeated squaring, for a non-negative exponent. */                \
    static inline T upow_##S(T x, uint64_t e) {                                                    \
        UW r = 1, b = (UW)x;                                                                       \
        while (e) {                                                                                \
            if (e & 1u) r *= b;                                                                    \
            b *= b;                                                                                \
            e >>= 1;                                                                               \
        }                                                                                          \
        return (T)r;                                                                               \
    }

/* Signed: (uint64_t)y of a negative count is huge, so one comparison rejects both ends. */
#define SINT_HELPERS(S, T, UW, W)                                                                  \
    INT_COMMON(S, T, UW, W)                                                                        \
    static inline T div_##S(T x, T y) {                                                            \
        return y == 0 ? (T)0 : y == -1 ? neg_##S(x) : (T)(x / y);                                  \
    }                                                                                              \
    static inline T rem_##S(T x, T y) {                                                            \
        return y == 0 ? x : y == -1 ? (T)0 : (T)(x % y);                                           \
    }                                                                                              \
    static inline T pow_##S(T x, T y) {                                                            \
        if (y < 0) return x == 1 ? (T)1 : x == -1 ? (T)(((uint64_t)y & 1u) ? -1 : 1) : (T)0;       \
        return upow_##S(x, (uint64_t)y);                                                           \
    }                                                                                              \
    static inline T shr_##S(T x, T y) {                                                            \
        return (uint64_t)(int64_t)y >= (W) ? (T)(x < 0 ? -1 : 0) : (T)(x >> (unsigned)y);          \
    }                                                                                              \
    static inline T abs_##S(T x) {                                                                 \
        return x < 0 ? neg_##S(x) : x;                                                             \
    }

#define UINT_HELPERS(S, T, UW, W)                                                                  \
    INT_COMMON(S, T, UW, W)                                                                        \
    static inline T div_##S(T x, T y) {                                                            \
        return y == 0 ? (T)0 : (T)(x / y);                                                         \
    }                                                                                              \
    static inline T rem_##S(T x, T y) {                                                            \
        return y == 0 ? x : (T)(x % y);                                                            \
    }                                                                                              \
    static inline T pow_##S(T x, T y) {                                                            \
        return upow_##S(x, (uint64_t)y);                                                           \
    }                                                                                              \
    static inline T shr_##S(T x, T y) {                                                            \
        return (uint64_t)y >= (W) ? (T)0 : (T)(x >> (unsigned)y);                                  \
    }                                                                                              \
    static inline T abs_##S(T x) {                                                                 \
        return x;                                                                                  \
    }

#define SINT_TYPES(X)                                                                              \
    X(s8, int8_t, uint32_t, 8)                                                                     \
    X(s16, int16_t, uint32_t, 16)                                                                  \
    X(s32, int32_t, uint32_t, 32)                                                                  \
    X(s64, int64_t, uint64_t, 64)
#define UINT_TYPES(X)                                                                              \
    X(u8, uint8_t, uint32_t, 8)                                                                    \
    X(u16, uint16_t, uint32_t, 16)                                                                 \
    X(u32, uint32_t, uint32_t, 32)                                                                 \
    X(u64, uint64_t, uint64_t, 64)

SINT_TYPES(SINT_HELPERS)
UINT_TYPES(UINT_HELPERS)

#define INT_KERNELS(S, T, UW, W)                                                                   \
    DEF_BIN(ADD, S, T, T, add_##S(x, y))                                                           \
    DEF_BIN(SUB, S, T, T, sub_##S(x, y))                                                           \
    DEF_BIN(MUL, S, T, T, mul_##S(x, y))                                                           \
    DEF_BIN(DIV, S, T, T, div_##S(x, y))                                                           \
    DEF_BIN(REM, S, T, T, rem_##S(x, y))                                                           \
    DEF_BIN(MOD, S, T, T, rem_##S(x, y))                                                           \
    DEF_BIN(POW, S, T, T, pow_##S(x, y))                                                           \
    DEF_BIN(MINOF, S, T, T, x < y ? x : y)                                                         \
    DEF_BIN(MAXOF, S, T, T, x > y ? x : y)                                                         \
    DEF_BIN(LT, S, T, uint8_t, x < y)                                                              \
    DEF_BIN(GT, S, T, uint8_t, x > y)                                                              \
    DEF_BIN(LE, S, T, uint8_t, x <= y)                                                             \
    DEF_BIN(GE, S, T, uint8_t, x >= y)                                                             \
    DEF_BIN(EQ, S, T, uint8_t, x == y)                                                             \
    DEF_BIN(NEQ, S, T, uint8_t, x != y)                                                            \
    DEF_BIN(AND, S, T, uint8_t, (x != 0) & (y != 0))                                               \
    DEF_BIN(OR, S, T, uint8_t, (x != 0) | (y != 0))                                                \
    DEF_UN(NOT, S, T, uint8_t, x == 0)                                                             \
    DEF_BIN(BITAND, S, T, T, (T)(x & y))                                                           \
    DEF_BIN(BITOR, S, T, T, (T)(x | y))                                                            \
    DEF_BIN(BITXOR, S, T, T, (T)(x ^ y))                                                           \
    DEF_BIN(BITSHIFTL, S, T, T, shl_##S(x, y))                                                     \
    DEF_BIN(BITSHIFTR, S, T, T, shr_##S(x, y))                                                     \
    DEF_UN(BITNOT, S, T, T, (T)~x)                                                                 \
    DEF_UN(NEG, S, T, T, neg_##S(x))                                                               \
    DEF_UN(ABS, S, T, T, abs_##S(x))                                                               \
    DEF_SELECT(S, T)

SINT_TYPES(INT_KERNELS)
UINT_TYPES(INT_KERNELS)

/* ---------------------------------------------------------------------------------------------
 * b8: values are 0 or 1, and results stay 0 or 1 ("compute as u8, then != 0").
 * ------------------------------------------------------------------------------------------- */
DEF_BIN(ADD, b8, uint8_t, uint8_t, x | y)
DEF_BIN(SUB, b8, uint8_t, uint8_t, x ^ y)
DEF_BIN(MUL, b8, uint8_t, uint8_t, x &y)
DEF_BIN(DIV, b8, uint8_t, uint8_t, x &y)
DEF_BIN(REM, b8, uint8_t, uint8_t, x &(y ^ 1u))
DEF_BIN(MOD, b8, uint8_t, uint8_t, x &(y ^ 1u))
DEF_BIN(POW, b8, uint8_t, uint8_t, x | (y ^ 1u))
DEF_BIN(MINOF, b8, uint8_t, uint8_t, x &y)
DEF_BIN(MAXOF, b8, uint8_t, uint8_t, x | y)
DEF_BIN(LT, b8, uint8_t, uint8_t, x < y)
DEF_BIN(GT, b8, uint8_t, uint8_t, x > y)
DEF_BIN(LE, b8, uint8_t, uint8_t, x <= y)
DEF_BIN(GE, b8, uint8_t, uint8_t, x >= y)
DEF_BIN(EQ, b8, uint8_t, uint8_t, x == y)
DEF_BIN(NEQ, b8, uint8_t, uint8_t, x != y)
DEF_BIN(AND, b8, uint8_t, uint8_t, x &y)
DEF_BIN(OR, b8, uint8_t, uint8_t, x | y)
DEF_UN(NOT, b8, uint8_t, uint8_t, x ^ 1u)
DEF_BIN(BITAND, b8, uint8_t, uint8_t, x &y)
DEF_BIN(BITOR, b8, uint8_t, uint8_t, x | y)
DEF_BIN(BITXOR, b8, uint8_t, uint8_t, x ^ y)
/* y is 0 or 1: 1 << 1 = 2 is still true, 1 >> 1 = 0. */
DEF_BIN(BITSHIFTL, b8, uint8_t, uint8_t, x &(y | 1u))
DEF_BIN(BITSHIFTR, b8, uint8_t, uint8_t, x &(y ^ 1u))
DEF_UN(BITNOT, b8, uint8_t, uint8_t, x ^ 1u)
DEF_UN(NEG, b8, uint8_t, uint8_t, x)
DEF_SELECT(b8, uint8_t)

/* ---------------------------------------------------------------------------------------------
 * Ember's own vectorisable f32 sin, cos, exp and log. glibc's sinf and friends are calls that do
 * not vectorise; these loops are branch-free over the block (a scalar fix-up pass handles the rare
 * lanes outside the fast path) and compute in double, so the only rounding that matters is the
 * final one to float: each result is within 1 ulp of the exact value (see docs/JIT_OPS.md for the
 * measured error).
 * ------------------------------------------------------------------------------------------- */

/* Adding and subtracting 1.5 * 2^52 rounds a double of magnitude below 2^51 to the nearest
 * integer (ties to even), and leaves that integer in the low mantissa bits of the sum. */
#define EM_RND_MAGIC      0x1.8p52
#define EM_RND_MAGIC_BITS 0x4338000000000000ull

static inline uint64_t dbits(double d) {
    uint64_t u;
    memcpy(&u, &d, sizeof(u));
    return u;
}
static inline double bitsd(uint64_t u) {
    double d;
    memcpy(&d, &u, sizeof(d));
    return d;
}
static inline uint32_t fbits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof(u));
    return u;
}
static inline float bitsf(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof(f));
    return f;
}

/* sin and cos: j = nearest integer to |x| * 2/pi (in float, so j may be one off near a tie and
 * |r| <= 0.8 rather than pi/4), r = |x| - j*pi/2, then float polynomials in r^2 fitted on
 * |r| <= 0.8 (sin: degree 9, relative error 2e-11; cos: degree 8, 1.3e-9). The quadrant j mod 4
 * picks the polynomial and the sign. With FMA, r comes from pi/2 split in three floats: the first
 * step x - j*P1 is exact (the exact difference is a multiple of 2^-23 below 1), and the other two
 * each round once. Without FMA, r is computed in double with pi/2 split in two parts (33 and 53
 * significant bits, so j*P1 is exact for j < 2^20) and rounded to float. |x| > 2^16, inf and NaN
 * take glibc's sinf/cosf in a fix-up pass, which runs only when the block has such a lane. */
#define EM_TRIG_MAX    65536.0f
#define EM_2OPI_F      0x1.45f306p-1f
#define EM_RND_MAGIC_F 0x1.8p23f

static inline float trig_reduce(float ax, uint32_t *q) {
    float jf = ax * EM_2OPI_F + EM_RND_MAGIC_F;
    *q = fbits(jf); /* the low bits of the sum are j */
    float j = jf - EM_RND_MAGIC_F;
#if defined(__FMA__)
    float r = fmaf(-j, 0x1.921fb6p+0f, ax);
    r = fmaf(-j, -0x1.777a5cp-25f, r);
    return fmaf(-j, -0x1.ee59dap-50f, r);
#else
    double k = (double)j, d = ax;
    return (float)((d - k * 0x1.921fb54400000p+0) - k * 0x1.0b4611a626331p-34);
#endif
}
static inline float sin_poly(float r) {
    float z = r * r;
    return r + r * z *
                   (-0x1.555556p-3f +
                    z * (0x1.11110ep-7f + z * (-0x1.a0132cp-13f + z * 0x1.6d96dap-19f)));
}
static inline float cos_poly(float r) {
    float z = r * r;
    return (1.0f - 0.5f * z) +
           z * z * (0x1.555554p-5f + z * (-0x1.6c1288p-10f + z * 0x1.9bb066p-16f));
}

static void em_vsinf(float *restrict o, const float *restrict a, size_t n) {
    int big = 0;
    for (size_t i = 0; i < n; i++) {
        float x = a[i];
        float ax = fabsf(x);
        int ok = ax <= EM_TRIG_MAX; /* false for NaN too */
        big |= !ok;
        ax = ok ? ax : 0.0f; /* keeps the arithmetic in range; fixed up below */
        uint32_t q;
        float r = trig_reduce(ax, &q);
        float s = sin_poly(r), c = cos_poly(r);
        float v = (q & 1u) ? c : s;
        v = (q & 2u) ? -v : v;
        /* sin is odd: the sign of x (even of -0) goes on the result. */
        o[i] = v * copysignf(1.0f, x);
    }
    if (big)
        for (size_t i = 0; i < n; i++)
            if (!(fabsf(a[i]) <= EM_TRIG_MAX)) o[i] = sinf(a[i]);
}

static void em_vcosf(float *restrict o, const float *restrict a, size_t n) {
    int big = 0;
    for (size_t i = 0; i < n; i++) {
        float ax = fabsf(a[i]);
        int ok = ax <= EM_TRIG_MAX;
        big |= !ok;
        ax = ok ? ax : 0.0f;
        uint32_t q;
        float r = trig_reduce(ax, &q);
        float s = sin_poly(r), c = cos_poly(r);
        q += 1; /* cos(x) = sin(x + pi/2) */
        float v = (q & 1u) ? c : s;
        o[i] = (q & 2u) ? -v : v;
    }
    if (big)
        for (size_t i = 0; i < n; i++)
            if (!(fabsf(a[i]) <= EM_TRIG_MAX)) o[i] = cosf(a[i]);
}

/* exp: k = nearest integer to x / ln2, r = x - k*ln2 (|r| <= 0.347, ln2 split so k*L1 is exact),
 * e^r by its Taylor series to r^8 (error 2e-10 relative), times 2^k built from the exponent bits.
 * x is clamped to [-110, 100] first: e^-110 and e^100 are already 0 and inf in float, and the
 * clamp keeps 2^k a normal double. NaN passes through. */
#define EM_LN2_1 0x1.62e42fee00000p-1
#define EM_LN2_2 0x1.a39ef35793c76p-33
#define EM_LOG2E 0x1.71547652b82fep+0

static void em_vexpf(float *restrict o, const float *restrict a, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float x = a[i];
        float xc = (x >= -110.0f && x <= 100.0f) ? x : (x > 100.0f ? 100.0f : -110.0f);
        double d = xc;
        double t = d * EM_LOG2E + EM_RND_MAGIC;
        double k = t - EM_RND_MAGIC;
        double scale = bitsd((dbits(t) - EM_RND_MAGIC_BITS + 1023u) << 52);
        double r = (d - k * EM_LN2_1) - k * EM_LN2_2;
        double p =
            1.0 +
            r * (1.0 +
                 r * (1.0 / 2 +
                      r * (1.0 / 6 +
                           r * (1.0 / 24 +
                                r * (1.0 / 120 +
                                     r * (1.0 / 720 + r * (1.0 / 5040 + r * (1.0 / 40320))))))));
        float v = (float)(p * scale);
        o[i] = x == x ? v : x;
    }
}

/* log: x = m * 2^e with m in [sqrt(1/2), sqrt(2)) (subnormals scaled by 2^23 first), then
 * log(m) = 2 atanh(s) with s = (m-1)/(m+1), |s| <= 0.172, by its series to s^11 (error 5e-11
 * relative), plus e*ln2, all in double. x <= 0, inf and NaN are set by the IEEE rules. */
#define EM_LN2 0x1.62e42fefa39efp-1

static void em_vlogf(float *restrict o, const float *restrict a, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float x = a[i];
        int ok = x > 0.0f && x <= 0x1.fffffep127f;
        float xs = ok ? x : 1.0f;
        int sub = xs < 0x1p-126f;
        xs = sub ? xs * 0x1p23f : xs;
        uint32_t ix = fbits(xs);
        int32_t e = (int32_t)(ix >> 23) - 127 - (sub ? 23 : 0);
        float m = bitsf((ix & 0x007fffffu) | 0x3f800000u);
        int big = m > 1.41421356f;
        m = big ? m * 0.5f : m;
        e += big;
        double f = (double)m - 1.0;
        double s = f / (2.0 + f);
        double s2 = s * s;
        double lm =
            2.0 * s +
            2.0 * s * s2 *
                (1.0 / 3 + s2 * (1.0 / 5 + s2 * (1.0 / 7 + s2 * (1.0 / 9 + s2 * (1.0 / 11)))));
        float v = (float)((double)e * EM_LN2 + lm);
        o[i] = ok ? v : x == 0.0f ? -INFINITY : x < 0.0f ? NAN : x;
    }
}

/* ---------------------------------------------------------------------------------------------
 * Real floating types: f32 and f16 (block type float, float functions) and f64. FN(S, sin) names
 * the C function for the type: sinf for f32/f16, sin for f64.
 * ------------------------------------------------------------------------------------------- */
#define FN_f32(name) name##f
#define FN_f16(name) name##f
#define FN_f64(name) name
#define FN(S, name)  FN_##S(name)

static inline float lgamma_f(float x) {
    int sign;
    return lgammaf_r(x, &sign);
}
static inline double lgamma_d(double x) {
    int sign;
    return lgamma_r(x, &sign);
}
#define LGFN_f32 lgamma_f
#define LGFN_f16 lgamma_f
#define LGFN_f64 lgamma_d

#define FLOAT_KERNELS(S, T)                                                                        \
    DEF_BIN(ADD, S, T, T, x + y)                                                                   \
    DEF_BIN(SUB, S, T, T, x - y)                                                                   \
    DEF_BIN(MUL, S, T, T, x *y)                                                                    \
    DEF_BIN(DIV, S, T, T, x / y)                                                                   \
    DEF_BIN(REM, S, T, T, FN(S, remainder)(x, y))                                                  \
    DEF_BIN(MOD, S, T, T, FN(S, fmod)(x, y))                                                       \
    DEF_BIN(POW, S, T, T, FN(S, pow)(x, y))                                                        \
    DEF_BIN(MINOF, S, T, T, (x < y || y != y) ? x : y)                                             \
    DEF_BIN(MAXOF, S, T, T, (x > y || y != y) ? x : y)                                             \
    DEF_BIN(ATAN2, S, T, T, FN(S, atan2)(x, y))                                                    \
    DEF_BIN(HYPOT, S, T, T, FN(S, hypot)(x, y))                                                    \
    DEF_BIN(LT, S, T, uint8_t, x < y)                                                              \
    DEF_BIN(GT, S, T, uint8_t, x > y)                                                              \
    DEF_BIN(LE, S, T, uint8_t, x <= y)                                                             \
    DEF_BIN(GE, S, T, uint8_t, x >= y)                                                             \
    DEF_BIN(EQ, S, T, uint8_t, x == y)                                                             \
    DEF_BIN(NEQ, S, T, uint8_t, x != y)                                                            \
    DEF_BIN(AND, S, T, uint8_t, (x != 0) & (y != 0))                                               \
    DEF_BIN(OR, S, T, uint8_t, (x != 0) | (y != 0))                                                \
    DEF_UN(NOT, S, T, uint8_t, x == 0)                                                             \
    DEF_UN(NEG, S, T, T, -x)                                                                       \
    DEF_UN(ABS, S, T, T, FN(S, fabs)(x))                                                           \
    DEF_UN(SIGN, S, T, T, signbit(x) ? (T)1 : (T)0)                                                \
    DEF_UN(ROUND, S, T, T, FN(S, round)(x))                                                        \
    DEF_UN(TRUNC, S, T, T, FN(S, trunc)(x))                                                        \
    DEF_UN(FLOOR, S, T, T, FN(S, floor)(x))                                                        \
    DEF_UN(CEIL, S, T, T, FN(S, ceil)(x))                                                          \
    DEF_UN(TAN, S, T, T, FN(S, tan)(x))                                                            \
    DEF_UN(ASIN, S, T, T, FN(S, asin)(x))                                                          \
    DEF_UN(ACOS, S, T, T, FN(S, acos)(x))                                                          \
    DEF_UN(ATAN, S, T, T, FN(S, atan)(x))                                                          \
    DEF_UN(SINH, S, T, T, FN(S, sinh)(x))                                                          \
    DEF_UN(COSH, S, T, T, FN(S, cosh)(x))                                                          \
    DEF_UN(TANH, S, T, T, FN(S, tanh)(x))                                                          \
    DEF_UN(ASINH, S, T, T, FN(S, asinh)(x))                                                        \
    DEF_UN(ACOSH, S, T, T, FN(S, acosh)(x))                                                        \
    DEF_UN(ATANH, S, T, T, FN(S, atanh)(x))                                                        \
    DEF_UN(EXPM1, S, T, T, FN(S, expm1)(x))                                                        \
    DEF_UN(POW2, S, T, T, FN(S, exp2)(x))                                                          \
    DEF_UN(SIGMOID, S, T, T, (T)1 / ((T)1 + FN(S, exp)(-x)))                                       \
    DEF_UN(ERF, S, T, T, FN(S, erf)(x))                                                            \
    DEF_UN(ERFC, S, T, T, FN(S, erfc)(x))                                                          \
    DEF_UN(LOG1P, S, T, T, FN(S, log1p)(x))                                                        \
    DEF_UN(LOG10, S, T, T, FN(S, log10)(x))                                                        \
    DEF_UN(LOG2, S, T, T, FN(S, log2)(x))                                                          \
    DEF_UN(CBRT, S, T, T, FN(S, cbrt)(x))                                                          \
    DEF_UN(FACTORIAL, S, T, T, FN(S, tgamma)(x + (T)1))                                            \
    DEF_UN(TGAMMA, S, T, T, FN(S, tgamma)(x))                                                      \
    DEF_UN(LGAMMA, S, T, T, LGFN_##S(x))                                                           \
    DEF_UN(ISZERO, S, T, uint8_t, x == 0)                                                          \
    DEF_UN(ISINF, S, T, uint8_t, isinf(x) != 0)                                                    \
    DEF_UN(ISNAN, S, T, uint8_t, x != x)                                                           \
    DEF_SELECT(S, T)

FLOAT_KERNELS(f32, float)
FLOAT_KERNELS(f16, float)
FLOAT_KERNELS(f64, double)

/* f32 and f16 (computed in float) use the vectorised functions above; f64 uses glibc. */
#define VEC_FLOAT_KERNEL(NAME, FNV)                                                                \
    static void NAME##_f32(void *out, const void *const *in, size_t n) {                           \
        FNV(out, in[0], n);                                                                        \
    }                                                                                              \
    static void NAME##_f16(void *out, const void *const *in, size_t n) {                           \
        FNV(out, in[0], n);                                                                        \
    }
VEC_FLOAT_KERNEL(SIN, em_vsinf)
VEC_FLOAT_KERNEL(COS, em_vcosf)
VEC_FLOAT_KERNEL(EXP, em_vexpf)
VEC_FLOAT_KERNEL(LOG, em_vlogf)
DEF_UN(SIN, f64, double, double, sin(x))
DEF_UN(COS, f64, double, double, cos(x))
DEF_UN(EXP, f64, double, double, exp(x))
DEF_UN(LOG, f64, double, double, log(x))

/* sqrt: GCC keeps sqrtf a call that may set errno unless -fno-math-errno is on the command line
 * (the pragma above cannot change a builtin's attributes), so the loop would not vectorise. With
 * AVX the square root is written with intrinsics; IEEE sqrt is exact, so the results are the
 * same either way. */
#if defined(__AVX__)
#define SQRT_LOOP(S, T, V, LOAD, STORE, SQRT, SET1, DIVV, RECIP)                                   \
    static void S(void *out, const void *const *in, size_t n) {                                    \
        T *restrict o = out;                                                                       \
        const T *restrict a = in[0];                                                               \
        size_t i = 0;                                                                              \
        const size_t w = sizeof(V) / sizeof(T);                                                    \
        for (; i + w <= n; i += w) {                                                               \
            V r = SQRT(LOAD(a + i));                                                               \
            STORE(o + i, RECIP ? DIVV(SET1(1), r) : r);                                            \
        }                                                                                          \
        for (; i < n; i++) {                                                                       \
            T s = (T)sqrt(a[i]); /* exact: sqrt in double rounds to the float sqrt */              \
            o[i] = RECIP ? (T)1 / s : s;                                                           \
        }                                                                                          \
    }
SQRT_LOOP(SQRT_f32, float, __m256, _mm256_loadu_ps, _mm256_storeu_ps, _mm256_sqrt_ps,
          _mm256_set1_ps, _mm256_div_ps, 0)
SQRT_LOOP(SQRT_f16, float, __m256, _mm256_loadu_ps, _mm256_storeu_ps, _mm256_sqrt_ps,
          _mm256_set1_ps, _mm256_div_ps, 0)
SQRT_LOOP(SQRT_f64, double, __m256d, _mm256_loadu_pd, _mm256_storeu_pd, _mm256_sqrt_pd,
          _mm256_set1_pd, _mm256_div_pd, 0)
SQRT_LOOP(RSQRT_f32, float, __m256, _mm256_loadu_ps, _mm256_storeu_ps, _mm256_sqrt_ps,
          _mm256_set1_ps, _mm256_div_ps, 1)
SQRT_LOOP(RSQRT_f16, float, __m256, _mm256_loadu_ps, _mm256_storeu_ps, _mm256_sqrt_ps,
          _mm256_set1_ps, _mm256_div_ps, 1)
SQRT_LOOP(RSQRT_f64, double, __m256d, _mm256_loadu_pd, _mm256_storeu_pd, _mm256_sqrt_pd,
          _mm256_set1_pd, _mm256_div_pd, 1)
#else
DEF_UN(SQRT, f32, float, float, sqrtf(x))
DEF_UN(SQRT, f16, float, float, sqrtf(x))
DEF_UN(SQRT, f64, double, double, sqrt(x))
DEF_UN(RSQRT, f32, float, float, 1.0f / sqrtf(x))
DEF_UN(RSQRT, f16, float, float, 1.0f / sqrtf(x))
DEF_UN(RSQRT, f64, double, double, 1.0 / sqrt(x))
#endif

DEF_BIN(CPLX2, f32, float, em_cf32, ((em_cf32){x, y}))
DEF_BIN(CPLX2, f64, double, em_cf64, ((em_cf64){x, y}))

/* ---------------------------------------------------------------------------------------------
 * Complex. Every formula is the one in docs/JIT_OPS.md, step by step, so that the CUDA generator
 * can reproduce it; S is the part type's suffix (f32 or f64), CT the complex type, RT the part.
 * ------------------------------------------------------------------------------------------- */
#define CPLX_HELPERS(S, CT, RT)                                                                    \
    static inline CT cmk_##S(RT re, RT im) {                                                       \
        CT z = {re, im};                                                                           \
        return z;                                                                                  \
    }                                                                                              \
    static inline RT cabs_##S(CT z) {                                                              \
        return FN(S, hypot)(z.re, z.im);                                                           \
    }                                                                                              \
    static inline CT cadd_##S(CT x, CT y) {                                                        \
        return cmk_##S(x.re + y.re, x.im + y.im);                                                  \
    }                                                                                              \
    static inline CT csub_##S(CT x, CT y) {                                                        \
        return cmk_##S(x.re - y.re, x.im - y.im);                                                  \
    }                                                                                              \
    static inline CT cmul_##S(CT x, CT y) {                                                        \
        return cmk_##S(x.re * y.re - x.im * y.im, x.re * y.im + x.im * y.re);                      \
    }                                                                                              \
    /* ArrayFire's division: normalise the divisor by its magnitude first. */                      \
    static inline CT cdiv_##S(CT x, CT y) {                                                        \
        RT s = (RT)1 / cabs_##S(y);                                                                \
        RT c = y.re * s, d = y.im * s;                                                             \
        return cmk_##S((x.re * c + x.im * d) * s, (x.im * c - x.re * d) * s);                      \
    }                                                                                              \
    /* i*z and -i*z are exact swaps. */                                                            \
    static inline CT cmuli_##S(CT z) {                                                             \
        return cmk_##S(-z.im, z.re);                                                               \
    }                                                                                              \
    static inline CT cmulmi_##S(CT z) {                                                            \
        return cmk_##S(z.im, -z.re);                                                               \
    }                                                                                              \
    static inline CT cexp_##S(CT z) {                                                              \
        RT e = FN(S, exp)(z.re);                                                                   \
        return cmk_##S(e * FN(S, cos)(z.im), e * FN(S, sin)(z.im));                                \
    }                                                                                              \
    static inline CT clog_##S(CT z) {                                                              \
        return cmk_##S(FN(S, log)(cabs_##S(z)), FN(S, atan2)(z.im, z.re));                         \
    }                                                                                              \
    static inline CT csqrt_##S(CT z) {                                                             \
        RT r = cabs_##S(z), t = FN(S, atan2)(z.im, z.re) / (RT)2;                                  \
        RT sr = FN(S, sqrt)(r);                                                                    \
        return cmk_##S(sr * FN(S, cos)(t), sr * FN(S, sin)(t));                                    \
    }                                                                                              \
    static inline CT csin_##S(CT z) {                                                              \
        return cmk_##S(FN(S, sin)(z.re) * FN(S, cosh)(z.im),                                       \
                       FN(S, cos)(z.re) * FN(S, sinh)(z.im));                                      \
    }                                                                                              \
    static inline CT ccos_##S(CT z) {                                                              \
        return cmk_##S(FN(S, cos)(z.re) * FN(S, cosh)(z.im),                                       \
                       -(FN(S, sin)(z.re) * FN(S, sinh)(z.im)));                                   \
    }                                                                                              \
    static inline CT csinh_##S(CT z) {                                                             \
        return cmk_##S(FN(S, sinh)(z.re) * FN(S, cos)(z.im),                                       \
                       FN(S, cosh)(z.re) * FN(S, sin)(z.im));                                      \
    }                                                                                              \
    static inline CT ccosh_##S(CT z) {                                                             \
        return cmk_##S(FN(S, cosh)(z.re) * FN(S, cos)(z.im),                                       \
                       FN(S, sinh)(z.re) * FN(S, sin)(z.im));                                      \
    }                                                                                              \
    static inline CT ctan_##S(CT z) {                                                              \
        return cdiv_##S(csin_##S(z), ccos_##S(z));                                                 \
    }                                                                                              \
    static inline CT ctanh_##S(CT z) {                                                             \
        return cdiv_##S(csinh_##S(z), ccosh_##S(z));                                               \
    }                                                                                              \
    /* sqrt(1 - z*z), shared by asin and acos. */                                                  \
    static inline CT csqrt1mz2_##S(CT z) {                                                         \
        return csqrt_##S(csub_##S(cmk_##S(1, 0), cmul_##S(z, z)));                                 \
    }                                                                                              \
    static inline CT casin_##S(CT z) {                                                             \
        return cmulmi_##S(clog_##S(cadd_##S(cmuli_##S(z), csqrt1mz2_##S(z))));                     \
    }                                                                                              \
    static inline CT cacos_##S(CT z) {                                                             \
        CT l = cmuli_##S(clog_##S(cadd_##S(cmuli_##S(z), csqrt1mz2_##S(z))));                      \
        return cmk_##S((RT)1.57079632679489661923 + l.re, l.im);                                   \
    }                                                                                              \
    static inline CT catan_##S(CT z) {                                                             \
        CT iz = cmuli_##S(z), one = cmk_##S(1, 0);                                                 \
        CT d = csub_##S(clog_##S(csub_##S(one, iz)), clog_##S(cadd_##S(one, iz)));                 \
        return cmk_##S(-(d.im * (RT)0.5), d.re * (RT)0.5);                                         \
    }                                                                                              \
    static inline CT casinh_##S(CT z) {                                                            \
        CT w = csqrt_##S(cadd_##S(cmul_##S(z, z), cmk_##S(1, 0)));                                 \
        return clog_##S(cadd_##S(z, w));                                                           \
    }                                                                                              \
    static inline CT cacosh_##S(CT z) {                                                            \
        CT p = csqrt_##S(cadd_##S(z, cmk_##S(1, 0)));                                              \
        CT m = csqrt_##S(csub_##S(z, cmk_##S(1, 0)));                                              \
        return clog_##S(cadd_##S(z, cmul_##S(p, m)));                                              \
    }                                                                                              \
    static inline CT catanh_##S(CT z) {                                                            \
        CT one = cmk_##S(1, 0);                                                                    \
        CT d = csub_##S(clog_##S(cadd_##S(one, z)), clog_##S(csub_##S(one, z)));                   \
        return cmk_##S(d.re * (RT)0.5, d.im * (RT)0.5);                                            \
    }                                                                                              \
    static inline CT cpow_##S(CT x, CT y) {                                                        \
        RT r = cabs_##S(x), t = FN(S, atan2)(x.im, x.re), m, p;                                    \
        if (y.im == 0) {                                                                           \
            m = FN(S, pow)(r, y.re);                                                               \
            p = y.re * t;                                                                          \
        } else {                                                                                   \
            RT l = FN(S, log)(r);                                                                  \
            m = FN(S, exp)(y.re * l - y.im * t);                                                   \
            p = y.im * l + y.re * t;                                                               \
        }                                                                                          \
        return cmk_##S(m * FN(S, cos)(p), m * FN(S, sin)(p));                                      \
    }                                                                                              \
    static inline CT cpow2_##S(CT z) {                                                             \
        const RT ln2 = (RT)0.693147180559945309417;                                                \
        return cexp_##S(cmk_##S(z.re * ln2, z.im * ln2));                                          \
    }                                                                                              \
    static inline uint8_t ctruth_##S(CT z) {                                                       \
        return (z.re != 0) | (z.im != 0);                                                          \
    }

CPLX_HELPERS(f32, em_cf32, float)
CPLX_HELPERS(f64, em_cf64, double)

#define CPLX_KERNELS(S, C, CT, RT)                                                                 \
    DEF_BIN(ADD, C, CT, CT, cadd_##S(x, y))                                                        \
    DEF_BIN(SUB, C, CT, CT, csub_##S(x, y))                                                        \
    DEF_BIN(MUL, C, CT, CT, cmul_##S(x, y))                                                        \
    DEF_BIN(DIV, C, CT, CT, cdiv_##S(x, y))                                                        \
    DEF_BIN(POW, C, CT, CT, cpow_##S(x, y))                                                        \
    DEF_BIN(MINOF, C, CT, CT, (cabs_##S(x) < cabs_##S(y) || cabs_##S(y) != cabs_##S(y)) ? x : y)   \
    DEF_BIN(MAXOF, C, CT, CT, (cabs_##S(x) > cabs_##S(y) || cabs_##S(y) != cabs_##S(y)) ? x : y)   \
    DEF_BIN(LT, C, CT, uint8_t, cabs_##S(x) < cabs_##S(y))                                         \
    DEF_BIN(GT, C, CT, uint8_t, cabs_##S(x) > cabs_##S(y))                                         \
    DEF_BIN(LE, C, CT, uint8_t, cabs_##S(x) <= cabs_##S(y))                                        \
    DEF_BIN(GE, C, CT, uint8_t, cabs_##S(x) >= cabs_##S(y))                                        \
    DEF_BIN(EQ, C, CT, uint8_t, (x.re == y.re) & (x.im == y.im))                                   \
    DEF_BIN(NEQ, C, CT, uint8_t, !((x.re == y.re) & (x.im == y.im)))                               \
    DEF_BIN(AND, C, CT, uint8_t, ctruth_##S(x) & ctruth_##S(y))                                    \
    DEF_BIN(OR, C, CT, uint8_t, ctruth_##S(x) | ctruth_##S(y))                                     \
    DEF_UN(NOT, C, CT, uint8_t, ctruth_##S(x) ^ 1u)                                                \
    DEF_UN(NEG, C, CT, CT, cmk_##S(-x.re, -x.im))                                                  \
    DEF_UN(ABS, C, CT, RT, cabs_##S(x))                                                            \
    DEF_UN(ARG, C, CT, RT, FN(S, atan2)(x.im, x.re))                                               \
    DEF_UN(SIN, C, CT, CT, csin_##S(x))                                                            \
    DEF_UN(COS, C, CT, CT, ccos_##S(x))                                                            \
    DEF_UN(TAN, C, CT, CT, ctan_##S(x))                                                            \
    DEF_UN(ASIN, C, CT, CT, casin_##S(x))                                                          \
    DEF_UN(ACOS, C, CT, CT, cacos_##S(x))                                                          \
    DEF_UN(ATAN, C, CT, CT, catan_##S(x))                                                          \
    DEF_UN(SINH, C, CT, CT, csinh_##S(x))                                                          \
    DEF_UN(COSH, C, CT, CT, ccosh_##S(x))                                                          \
    DEF_UN(TANH, C, CT, CT, ctanh_##S(x))                                                          \
    DEF_UN(ASINH, C, CT, CT, casinh_##S(x))                                                        \
    DEF_UN(ACOSH, C, CT, CT, cacosh_##S(x))                                                        \
    DEF_UN(ATANH, C, CT, CT, catanh_##S(x))                                                        \
    DEF_UN(EXP, C, CT, CT, cexp_##S(x))                                                            \
    DEF_UN(POW2, C, CT, CT, cpow2_##S(x))                                                          \
    DEF_UN(LOG, C, CT, CT, clog_##S(x))                                                            \
    DEF_UN(SQRT, C, CT, CT, csqrt_##S(x))                                                          \
    DEF_UN(ISZERO, C, CT, uint8_t, (x.re == 0) & (x.im == 0))                                      \
    DEF_UN(ISINF, C, CT, uint8_t, (isinf(x.re) != 0) | (isinf(x.im) != 0))                         \
    DEF_UN(ISNAN, C, CT, uint8_t, (x.re != x.re) | (x.im != x.im))                                 \
    DEF_UN(REAL, C, CT, RT, x.re)                                                                  \
    DEF_UN(IMAG, C, CT, RT, x.im)                                                                  \
    DEF_UN(CONJ, C, CT, CT, cmk_##S(x.re, -x.im))                                                  \
    DEF_SELECT(C, CT)

CPLX_KERNELS(f32, c32, em_cf32, float)
CPLX_KERNELS(f64, c64, em_cf64, double)

/* ---------------------------------------------------------------------------------------------
 * The table: [op][operand dtype].
 * ------------------------------------------------------------------------------------------- */
#define E(OP, S) [S] = OP##_##S,
#define T_INT(X, OP)                                                                               \
    X(OP, s8) X(OP, s16) X(OP, s32) X(OP, s64) X(OP, u8) X(OP, u16) X(OP, u32) X(OP, u64)
#define T_F(X, OP)   X(OP, f32) X(OP, f16) X(OP, f64)
#define T_C(X, OP)   X(OP, c32) X(OP, c64)
#define T_B(X, OP)   X(OP, b8)
#define T_ALL(X, OP) T_INT(X, OP) T_F(X, OP) T_C(X, OP) T_B(X, OP)

const em_cpu_op_fn em_cpu_ops[EM_OP_COUNT][EM_NUM_DTYPES] = {
    [EM_OP_ADD] = {T_ALL(E, ADD)},
    [EM_OP_SUB] = {T_ALL(E, SUB)},
    [EM_OP_MUL] = {T_ALL(E, MUL)},
    [EM_OP_DIV] = {T_ALL(E, DIV)},
    [EM_OP_REM] = {T_INT(E, REM) T_F(E, REM) T_B(E, REM)},
    [EM_OP_MOD] = {T_INT(E, MOD) T_F(E, MOD) T_B(E, MOD)},
    [EM_OP_POW] = {T_ALL(E, POW)},
    [EM_OP_MINOF] = {T_ALL(E, MINOF)},
    [EM_OP_MAXOF] = {T_ALL(E, MAXOF)},
    [EM_OP_ATAN2] = {T_F(E, ATAN2)},
    [EM_OP_HYPOT] = {T_F(E, HYPOT)},
    [EM_OP_LT] = {T_ALL(E, LT)},
    [EM_OP_GT] = {T_ALL(E, GT)},
    [EM_OP_LE] = {T_ALL(E, LE)},
    [EM_OP_GE] = {T_ALL(E, GE)},
    [EM_OP_EQ] = {T_ALL(E, EQ)},
    [EM_OP_NEQ] = {T_ALL(E, NEQ)},
    [EM_OP_AND] = {T_ALL(E, AND)},
    [EM_OP_OR] = {T_ALL(E, OR)},
    [EM_OP_NOT] = {T_ALL(E, NOT)},
    [EM_OP_BITAND] = {T_INT(E, BITAND) T_B(E, BITAND)},
    [EM_OP_BITOR] = {T_INT(E, BITOR) T_B(E, BITOR)},
    [EM_OP_BITXOR] = {T_INT(E, BITXOR) T_B(E, BITXOR)},
    [EM_OP_BITSHIFTL] = {T_INT(E, BITSHIFTL) T_B(E, BITSHIFTL)},
    [EM_OP_BITSHIFTR] = {T_INT(E, BITSHIFTR) T_B(E, BITSHIFTR)},
    [EM_OP_BITNOT] = {T_INT(E, BITNOT) T_B(E, BITNOT)},
    [EM_OP_NEG] = {T_ALL(E, NEG)},
    [EM_OP_ABS] = {T_INT(E, ABS) T_F(E, ABS) T_C(E, ABS)},
    [EM_OP_ARG] = {T_C(E, ARG)},
    [EM_OP_SIGN] = {T_F(E, SIGN)},
    [EM_OP_ROUND] = {T_F(E, ROUND)},
    [EM_OP_TRUNC] = {T_F(E, TRUNC)},
    [EM_OP_FLOOR] = {T_F(E, FLOOR)},
    [EM_OP_CEIL] = {T_F(E, CEIL)},
    [EM_OP_SIN] = {T_F(E, SIN) T_C(E, SIN)},
    [EM_OP_COS] = {T_F(E, COS) T_C(E, COS)},
    [EM_OP_TAN] = {T_F(E, TAN) T_C(E, TAN)},
    [EM_OP_ASIN] = {T_F(E, ASIN) T_C(E, ASIN)},
    [EM_OP_ACOS] = {T_F(E, ACOS) T_C(E, ACOS)},
    [EM_OP_ATAN] = {T_F(E, ATAN) T_C(E, ATAN)},
    [EM_OP_SINH] = {T_F(E, SINH) T_C(E, SINH)},
    [EM_OP_COSH] = {T_F(E, COSH) T_C(E, COSH)},
    [EM_OP_TANH] = {T_F(E, TANH) T_C(E, TANH)},
    [EM_OP_ASINH] = {T_F(E, ASINH) T_C(E, ASINH)},
    [EM_OP_ACOSH] = {T_F(E, ACOSH) T_C(E, ACOSH)},
    [EM_OP_ATANH] = {T_F(E, ATANH) T_C(E, ATANH)},
    [EM_OP_EXP] = {T_F(E, EXP) T_C(E, EXP)},
    [EM_OP_EXPM1] = {T_F(E, EXPM1)},
    [EM_OP_POW2] = {T_F(E, POW2) T_C(E, POW2)},
    [EM_OP_SIGMOID] = {T_F(E, SIGMOID)},
    [EM_OP_ERF] = {T_F(E, ERF)},
    [EM_OP_ERFC] = {T_F(E, ERFC)},
    [EM_OP_LOG] = {T_F(E, LOG) T_C(E, LOG)},
    [EM_OP_LOG1P] = {T_F(E, LOG1P)},
    [EM_OP_LOG10] = {T_F(E, LOG10)},
    [EM_OP_LOG2] = {T_F(E, LOG2)},
    [EM_OP_SQRT] = {T_F(E, SQRT) T_C(E, SQRT)},
    [EM_OP_RSQRT] = {T_F(E, RSQRT)},
    [EM_OP_CBRT] = {T_F(E, CBRT)},
    [EM_OP_FACTORIAL] = {T_F(E, FACTORIAL)},
    [EM_OP_TGAMMA] = {T_F(E, TGAMMA)},
    [EM_OP_LGAMMA] = {T_F(E, LGAMMA)},
    [EM_OP_ISZERO] = {T_F(E, ISZERO) T_C(E, ISZERO)},
    [EM_OP_ISINF] = {T_F(E, ISINF) T_C(E, ISINF)},
    [EM_OP_ISNAN] = {T_F(E, ISNAN) T_C(E, ISNAN)},
    [EM_OP_CPLX2] = {[f32] = CPLX2_f32, [f64] = CPLX2_f64},
    [EM_OP_REAL] = {T_C(E, REAL)},
    [EM_OP_IMAG] = {T_C(E, IMAG)},
    [EM_OP_CONJ] = {T_C(E, CONJ)},
    [EM_OP_SELECT] = {T_ALL(E, SELECT)},
};
