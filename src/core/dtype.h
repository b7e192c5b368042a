/* The dtype table: every per-type fact Ember needs, written once. */
#ifndef EM_CORE_DTYPE_H
#define EM_CORE_DTYPE_H

#include <af/defines.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    float re, im;
} em_cf32;
typedef struct {
    double re, im;
} em_cf64;

/* X(name, storage C type, bytes). f16 is stored as IEEE binary16 bits and computed in float; b8 is
 * one byte holding 0 or 1, as ArrayFire's `char`. The order is af_dtype's numeric order. */
#define EM_DTYPES(X)                                                                               \
    X(f32, float, 4)                                                                               \
    X(c32, em_cf32, 8)                                                                             \
    X(f64, double, 8)                                                                              \
    X(c64, em_cf64, 16)                                                                            \
    X(b8, uint8_t, 1)                                                                              \
    X(s32, int32_t, 4)                                                                             \
    X(u32, uint32_t, 4)                                                                            \
    X(u8, uint8_t, 1)                                                                              \
    X(s64, int64_t, 8)                                                                             \
    X(u64, uint64_t, 8)                                                                            \
    X(s16, int16_t, 2)                                                                             \
    X(u16, uint16_t, 2)                                                                            \
    X(f16, uint16_t, 2)                                                                            \
    X(s8, int8_t, 1)

#define EM_NUM_DTYPES 14

bool em_dtype_valid(int type);
size_t em_dtype_size(af_dtype type);
const char *em_dtype_name(af_dtype type);

static inline bool em_dtype_is_complex(af_dtype t) {
    return t == c32 || t == c64;
}
static inline bool em_dtype_is_real_float(af_dtype t) {
    return t == f32 || t == f64 || t == f16;
}
static inline bool em_dtype_is_float(af_dtype t) {
    return em_dtype_is_real_float(t) || em_dtype_is_complex(t);
}
static inline bool em_dtype_is_integer(af_dtype t) {
    return t == s32 || t == u32 || t == u8 || t == s64 || t == u64 || t == s16 || t == u16 ||
           t == s8;
}
static inline bool em_dtype_is_double(af_dtype t) {
    return t == f64 || t == c64;
}
/* The real type of a complex type's parts, and the identity for real types. */
static inline af_dtype em_dtype_real_of(af_dtype t) {
    return t == c32 ? f32 : t == c64 ? f64 : t;
}

/* ArrayFire's implicit promotion for binary ops (src/api/c/implicit.cpp): complex over real,
 * then f64 > f32 > f16 > u64 > s64 > u32 > s32 > u16 > s16 > u8 > s8, b8 only with b8, and any
 * other mix is f32. */
af_dtype em_dtype_implicit(af_dtype a, af_dtype b);

/* IEEE binary16 <-> binary32, round to nearest even. */
float em_half_to_float(uint16_t h);
uint16_t em_float_to_half(float f);

#endif
