#include "dtype.h"

#include <string.h>

bool em_dtype_valid(int type) {
    return type >= 0 && type < EM_NUM_DTYPES;
}

size_t em_dtype_size(af_dtype type) {
    static const size_t sizes[] = {
#define X(name, ctype, bytes) [name] = bytes,
        EM_DTYPES(X)
#undef X
    };
    return em_dtype_valid(type) ? sizes[type] : 0;
}

const char *em_dtype_name(af_dtype type) {
    static const char *names[] = {
#define X(name, ctype, bytes) [name] = #name,
        EM_DTYPES(X)
#undef X
    };
    return em_dtype_valid(type) ? names[type] : "invalid";
}

af_dtype em_dtype_implicit(af_dtype a, af_dtype b) {
    static const af_dtype order[] = {f64, f32, f16, u64, s64, u32, s32, u16, s16, u8, s8};
    if (a == b) return a;
    if (a == c64 || b == c64) return c64;
    if (a == c32 || b == c32) return (a == f64 || b == f64) ? c64 : c32;
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
        if (a == order[i] || b == order[i]) return order[i];
    return f32;
}

float em_half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t man = h & 0x3ffu;
    uint32_t bits;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (man << 13);
    } else if (exp != 0) {
        bits = sign | ((exp + 112u) << 23) | (man << 13);
    } else if (man == 0) {
        bits = sign;
    } else {
        /* Subnormal half: normalise into a float. */
        int e = -1;
        do {
            e++;
            man <<= 1;
        } while ((man & 0x400u) == 0);
        bits = sign | ((uint32_t)(112 - e) << 23) | ((man & 0x3ffu) << 13);
    }
    float f;
    memcpy(&f, &bits, sizeof(f));
    return f;
}

uint16_t em_float_to_half(float f) {
    uint32_t x;
    memcpy(&x, &f, sizeof(x));
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    uint32_t absx = x & 0x7fffffffu;
    if (absx >= 0x7f800000u) /* inf or NaN; keep NaN quiet and non-zero */
        return (uint16_t)(sign | 0x7c00u |
                          (absx > 0x7f800000u ? 0x200u | ((absx >> 13) & 0x3ffu) : 0));
    if (absx >= 0x477ff000u) /* rounds to >= 65520: overflow to inf */
        return (uint16_t)(sign | 0x7c00u);
    if (absx < 0x38800000u) {                /* below the smallest normal half: subnormal or zero */
        if (absx < 0x33000000u) return sign; /* under half of the smallest subnormal */
        uint32_t e = absx >> 23;
        uint32_t man = (absx & 0x7fffffu) | 0x800000u;
        uint32_t shift = 126u - e; /* 14..24 */
        uint32_t r = man >> shift;
        uint32_t rem = man & ((1u << shift) - 1u);
        uint32_t halfway = 1u << (shift - 1u);
        if (rem > halfway || (rem == halfway && (r & 1u))) r++;
        return (uint16_t)(sign | r);
    }
    uint32_t r = ((absx >> 13) - (112u << 10));
    uint32_t rem = absx & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (r & 1u))) r++;
    return (uint16_t)(sign | r);
}
