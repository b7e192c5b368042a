/* Counter-based random numbers: Philox 4x32-10 (Salmon et al., "Parallel random numbers: as easy
 * as 1, 2, 3", SC'11) and the conversions from its 32-bit words to each dtype. This header is the
 * single definition of Ember's random streams: the CPU backend and the CUDA backend both call these
 * functions, so the same seed and counter give the same numbers on both. Everything here is
 * `static inline` (and `__host__ __device__` under nvcc) and depends only on <stdint.h> and
 * <math.h>.
 *
 * The stream. A call that draws values from (seed, counter) evaluates Philox once per 128-bit
 * block b = 0, 1, 2, ...: key = {seed & 0xffffffff, seed >> 32}, and the 128-bit counter is
 * counter + b, i.e. ctr = {lo32(counter + b), hi32(counter + b), carry out of that 64-bit sum, 0}.
 * The block's output words w[0..3] are consumed in order, so the whole call reads one stream of
 * 32-bit words W[4b + k] = w_b[k]. The caller advances its counter by the number of blocks used
 * (em_philox_blocks), so consecutive calls read disjoint blocks.
 *
 * Scalars. A complex element is two scalars (real, then imaginary) of its real type; every other
 * element is one scalar. Scalar j of a call is made from the word stream as follows (little-endian
 * sub-words: byte/half k of a word is bits [8k, 8k+8) or [16k, 16k+16)):
 *   u8, s8           byte j % 4 of W[j / 4] (16 per block)
 *   b8               bit 0 of that byte
 *   u16, s16         half j % 2 of W[j / 2] (8 per block)
 *   u32, s32         W[j] (4 per block)
 *   u64, s64         W[2j] | W[2j+1] << 32 (2 per block)
 *   uniform f16      (h >> 5) * 2^-11 where h = half j % 2 of W[j / 2]: [0, 1), 8 per block
 *   uniform f32      (W[j] >> 8) * 2^-24: [0, 1), 4 per block
 *   uniform f64      (u64 scalar j >> 11) * 2^-53: [0, 1), 2 per block
 *   normal f32, f16  Box-Muller on the pair p = j / 2, words a = W[2p], b = W[2p+1], in double:
 *                    u1 = (a + 1) * 2^-32 in (0, 1], u2 = b * 2^-32 in [0, 1),
 *                    r = sqrt(-2 log u1), t = 2 pi u2; scalar 2p = r cos t, scalar 2p+1 = r sin t;
 *                    rounded to float (f32), then to binary16 (f16). 4 per block.
 *   normal f64       the same on 53-bit uniforms: a = u64 scalar 2p, b = u64 scalar 2p+1,
 *                    u1 = ((a >> 11) + 1) * 2^-53, u2 = (b >> 11) * 2^-53. 2 per block.
 *
 * Reproducibility. The integer paths and the uniform floats use only integer arithmetic, exact
 * integer-to-float conversion and multiplication by a power of two, so both backends agree bit for
 * bit. Normals go through log, sin and cos, whose last bit differs between glibc and CUDA's math
 * library (both within 1-2 ulp of double): f64 normals agree to about 1e-15 relative, and f32/f16
 * normals, computed in double and rounded once, agree bit for bit except in the rare case (about
 * one in 10^8) where the double result sits within an ulp of a rounding boundary, then by one
 * float ulp (6e-8 relative). Tests must compare normals with a tolerance of 1e-6 relative. */
#ifndef EM_CORE_PHILOX_H
#define EM_CORE_PHILOX_H

#ifdef __CUDACC_RTC__
typedef unsigned char uint8_t;
typedef unsigned short uint16_t;
typedef unsigned int uint32_t;
typedef unsigned long long uint64_t;
#else
#include <math.h>
#include <stdint.h>
#endif

#ifdef __CUDACC__
#define EM_PHILOX_FN static inline __host__ __device__
#else
#define EM_PHILOX_FN static inline
#endif

/* Philox 4x32 constants: the multipliers and the Weyl key increments (golden ratio, sqrt(3)-1). */
#define EM_PHILOX_M0 0xD2511F53u
#define EM_PHILOX_M1 0xCD9E8D57u
#define EM_PHILOX_W0 0x9E3779B9u
#define EM_PHILOX_W1 0xBB67AE85u

/* Powers of two for the float conversions, written in decimal (exactly) because hexadecimal float
 * literals are not C++ before C++17 and nvcc compiles this header as C++. */
#define EM_PHILOX_2M11F 0.00048828125f
#define EM_PHILOX_2M24F 5.9604644775390625e-08f
#define EM_PHILOX_2M32  2.3283064365386962890625e-10
#define EM_PHILOX_2M53  1.1102230246251565404236316680908203125e-16

/* The Philox 4x32 bijection with 10 rounds: out = philox(key, ctr). */
EM_PHILOX_FN void em_philox4x32_10(const uint32_t key[2], const uint32_t ctr[4], uint32_t out[4]) {
    uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
    uint32_t k0 = key[0], k1 = key[1];
    for (int r = 0; r < 10; r++) {
        uint64_t p0 = (uint64_t)EM_PHILOX_M0 * c0;
        uint64_t p1 = (uint64_t)EM_PHILOX_M1 * c2;
        uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0;
        uint32_t n1 = (uint32_t)p1;
        uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
        uint32_t n3 = (uint32_t)p0;
        c0 = n0, c1 = n1, c2 = n2, c3 = n3;
        k0 += EM_PHILOX_W0;
        k1 += EM_PHILOX_W1;
    }
    out[0] = c0, out[1] = c1, out[2] = c2, out[3] = c3;
}

/* The four words of block b of the stream that starts at (seed, counter). */
EM_PHILOX_FN void em_philox_block(uint64_t seed, uint64_t counter, uint64_t b, uint32_t w[4]) {
    uint64_t c = counter + b;
    uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    uint32_t ctr[4] = {(uint32_t)c, (uint32_t)(c >> 32), c < counter ? 1u : 0u, 0u};
    em_philox4x32_10(key, ctr, w);
}

/* IEEE binary32 -> binary16 bits, round to nearest even (overflow to inf, NaN kept quiet). */
EM_PHILOX_FN uint16_t em_philox_f32_to_f16(float f) {
    union {
        float f;
        uint32_t u;
    } v;
    v.f = f;
    uint32_t x = v.u;
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

/* What a call draws, by dtype and distribution: decides the scalars per block and the conversion
 * (see the table at the top). EM_PHILOX_NONE marks a combination that does not exist. */
enum {
    EM_PHILOX_NONE = 0,
    EM_PHILOX_RAW8,  /* u8, s8 */
    EM_PHILOX_BOOL,  /* b8 */
    EM_PHILOX_RAW16, /* u16, s16 */
    EM_PHILOX_RAW32, /* u32, s32 */
    EM_PHILOX_RAW64, /* u64, s64 */
    EM_PHILOX_UF16,  /* uniform f16 */
    EM_PHILOX_UF32,  /* uniform f32, c32 */
    EM_PHILOX_UF64,  /* uniform f64, c64 */
    EM_PHILOX_NF16,  /* normal f16 */
    EM_PHILOX_NF32,  /* normal f32, c32 */
    EM_PHILOX_NF64,  /* normal f64, c64 */
};

/* The kind for an af_dtype value and a distribution (0 uniform, 1 normal). Uniform takes every
 * dtype; normal takes the floating ones. The dtype numbers are af_dtype's fixed ABI values. */
EM_PHILOX_FN int em_philox_kind(int dtype, int normal) {
    enum { f32_, c32_, f64_, c64_, b8_, s32_, u32_, u8_, s64_, u64_, s16_, u16_, f16_, s8_ };
    if (normal) {
        switch (dtype) {
        case f32_:
        case c32_:
            return EM_PHILOX_NF32;
        case f64_:
        case c64_:
            return EM_PHILOX_NF64;
        case f16_:
            return EM_PHILOX_NF16;
        default:
            return EM_PHILOX_NONE;
        }
    }
    switch (dtype) {
    case f32_:
    case c32_:
        return EM_PHILOX_UF32;
    case f64_:
    case c64_:
        return EM_PHILOX_UF64;
    case f16_:
        return EM_PHILOX_UF16;
    case b8_:
        return EM_PHILOX_BOOL;
    case u8_:
    case s8_:
        return EM_PHILOX_RAW8;
    case u16_:
    case s16_:
        return EM_PHILOX_RAW16;
    case u32_:
    case s32_:
        return EM_PHILOX_RAW32;
    case u64_:
    case s64_:
        return EM_PHILOX_RAW64;
    default:
        return EM_PHILOX_NONE;
    }
}

/* Scalars made from one 128-bit block. */
EM_PHILOX_FN unsigned em_philox_per_block(int kind) {
    switch (kind) {
    case EM_PHILOX_RAW8:
    case EM_PHILOX_BOOL:
        return 16;
    case EM_PHILOX_RAW16:
    case EM_PHILOX_UF16:
        return 8;
    case EM_PHILOX_RAW32:
    case EM_PHILOX_UF32:
    case EM_PHILOX_NF16:
    case EM_PHILOX_NF32:
        return 4;
    case EM_PHILOX_RAW64:
    case EM_PHILOX_UF64:
    case EM_PHILOX_NF64:
        return 2;
    default:
        return 0;
    }
}

/* Blocks that `nscalar` scalars of `kind` use: the amount to advance the counter by. */
EM_PHILOX_FN uint64_t em_philox_blocks(int kind, uint64_t nscalar) {
    unsigned per = em_philox_per_block(kind);
    return per ? (nscalar + per - 1) / per : 0;
}

/* Box-Muller on two uniforms given as exact doubles: u1 in (0, 1], u2 in [0, 1). */
EM_PHILOX_FN void em_philox_box_muller(double u1, double u2, double *z0, double *z1) {
    double r = sqrt(-2.0 * log(u1));
    double t = 6.283185307179586 * u2;
    *z0 = r * cos(t);
    *z1 = r * sin(t);
}

/* Writes the scalars of block b into `out`, the call's output seen as an array of scalars (binary16
 * bits for f16, one byte 0/1 for b8): scalars [b * per, min(nscalar, (b + 1) * per)). `w` holds
 * the block's words (em_philox_block). One CUDA thread per block calls this as it is. */
EM_PHILOX_FN void em_philox_fill_block(void *out, int kind, uint64_t nscalar, uint64_t b,
                                       const uint32_t w[4]) {
    unsigned per = em_philox_per_block(kind);
    uint64_t first = b * per;
    unsigned cnt = nscalar - first < per ? (unsigned)(nscalar - first) : per;
    switch (kind) {
    case EM_PHILOX_RAW8:
    case EM_PHILOX_BOOL: {
        uint8_t *o = (uint8_t *)out + first;
        uint8_t mask = kind == EM_PHILOX_BOOL ? 1u : 0xffu;
        for (unsigned j = 0; j < cnt; j++)
            o[j] = (uint8_t)((w[j >> 2] >> (8u * (j & 3u))) & mask);
        break;
    }
    case EM_PHILOX_RAW16: {
        uint16_t *o = (uint16_t *)out + first;
        for (unsigned j = 0; j < cnt; j++)
            o[j] = (uint16_t)(w[j >> 1] >> (16u * (j & 1u)));
        break;
    }
    case EM_PHILOX_UF16: {
        uint16_t *o = (uint16_t *)out + first;
        for (unsigned j = 0; j < cnt; j++) {
            uint32_t h = (w[j >> 1] >> (16u * (j & 1u))) & 0xffffu;
            o[j] = em_philox_f32_to_f16((float)(h >> 5) * EM_PHILOX_2M11F);
        }
        break;
    }
    case EM_PHILOX_RAW32: {
        uint32_t *o = (uint32_t *)out + first;
        for (unsigned j = 0; j < cnt; j++)
            o[j] = w[j];
        break;
    }
    case EM_PHILOX_UF32: {
        float *o = (float *)out + first;
        for (unsigned j = 0; j < cnt; j++)
            o[j] = (float)(w[j] >> 8) * EM_PHILOX_2M24F;
        break;
    }
    case EM_PHILOX_RAW64: {
        uint64_t *o = (uint64_t *)out + first;
        for (unsigned j = 0; j < cnt; j++)
            o[j] = (uint64_t)w[2 * j] | (uint64_t)w[2 * j + 1] << 32;
        break;
    }
    case EM_PHILOX_UF64: {
        double *o = (double *)out + first;
        for (unsigned j = 0; j < cnt; j++) {
            uint64_t x = (uint64_t)w[2 * j] | (uint64_t)w[2 * j + 1] << 32;
            o[j] = (double)(x >> 11) * EM_PHILOX_2M53;
        }
        break;
    }
    case EM_PHILOX_NF16:
    case EM_PHILOX_NF32: {
        double z[4];
        for (unsigned p = 0; p < 2; p++)
            em_philox_box_muller(((double)w[2 * p] + 1.0) * EM_PHILOX_2M32,
                                 (double)w[2 * p + 1] * EM_PHILOX_2M32, &z[2 * p], &z[2 * p + 1]);
        if (kind == EM_PHILOX_NF32) {
            float *o = (float *)out + first;
            for (unsigned j = 0; j < cnt; j++)
                o[j] = (float)z[j];
        } else {
            uint16_t *o = (uint16_t *)out + first;
            for (unsigned j = 0; j < cnt; j++)
                o[j] = em_philox_f32_to_f16((float)z[j]);
        }
        break;
    }
    case EM_PHILOX_NF64: {
        uint64_t a = (uint64_t)w[0] | (uint64_t)w[1] << 32;
        uint64_t c = (uint64_t)w[2] | (uint64_t)w[3] << 32;
        double z[2];
        em_philox_box_muller(((double)(a >> 11) + 1.0) * EM_PHILOX_2M53,
                             (double)(c >> 11) * EM_PHILOX_2M53, &z[0], &z[1]);
        double *o = (double *)out + first;
        for (unsigned j = 0; j < cnt; j++)
            o[j] = z[j];
        break;
    }
    default:
        break;
    }
}

#endif
