/* Conversions between dtypes in block representation. Float to integer saturates and maps NaN to
 * 0, as CUDA's conversions do, so both backends agree and no conversion is undefined in C. Real to
 * complex sets the imaginary part to 0; complex to real keeps the real part; anything to b8 tests
 * for non-zero. */
#include "cpu.h"

#include <math.h>

#define BLK_f32 float
#define BLK_f16 float
#define BLK_f64 double
#define BLK_c32 em_cf32
#define BLK_c64 em_cf64
#define BLK_b8  uint8_t
#define BLK_s8  int8_t
#define BLK_u8  uint8_t
#define BLK_s16 int16_t
#define BLK_u16 uint16_t
#define BLK_s32 int32_t
#define BLK_u32 uint32_t
#define BLK_s64 int64_t
#define BLK_u64 uint64_t

/* Kind of each dtype: R real float, C complex, I integer, B bool. */
#define KIND_f32 R
#define KIND_f16 R
#define KIND_f64 R
#define KIND_c32 C
#define KIND_c64 C
#define KIND_b8  B
#define KIND_s8  I
#define KIND_u8  I
#define KIND_s16 I
#define KIND_u16 I
#define KIND_s32 I
#define KIND_u32 I
#define KIND_s64 I
#define KIND_u64 I

/* Saturating float -> integer: NaN is 0, values beyond the range take its ends. The bounds are
 * compared in double; 2^63 and 2^64 are exact there, so the 64-bit ends are handled too. */
#define DEF_FTOI(D, LO, HI, LOV, HIV)                                                              \
    static inline BLK_##D ftoi_##D(double x) {                                                     \
        if (isnan(x)) return 0;                                                                    \
        if (x <= (LO)) return (LOV);                                                               \
        if (x >= (HI)) return (HIV);                                                               \
        return (BLK_##D)x;                                                                         \
    }
DEF_FTOI(s8, -128.0, 127.0, INT8_MIN, INT8_MAX)
DEF_FTOI(u8, 0.0, 255.0, 0, UINT8_MAX)
DEF_FTOI(s16, -32768.0, 32767.0, INT16_MIN, INT16_MAX)
DEF_FTOI(u16, 0.0, 65535.0, 0, UINT16_MAX)
DEF_FTOI(s32, -2147483648.0, 2147483647.0, INT32_MIN, INT32_MAX)
DEF_FTOI(u32, 0.0, 4294967295.0, 0, UINT32_MAX)
DEF_FTOI(s64, -9223372036854775808.0, 9223372036854775808.0, INT64_MIN, INT64_MAX)
DEF_FTOI(u64, 0.0, 18446744073709551616.0, 0, UINT64_MAX)
#define FTOI(D, x) ftoi_##D((double)(x))

#define CONV_R_R(S, D, x) ((BLK_##D)(x))
#define CONV_R_I(S, D, x) FTOI(D, x)
#define CONV_R_B(S, D, x) ((BLK_##D)((x) != 0))
#define CONV_R_C(S, D, x) ((BLK_##D){(x), 0})
#define CONV_I_R(S, D, x) ((BLK_##D)(x))
#define CONV_I_I(S, D, x) ((BLK_##D)(x))
#define CONV_I_B(S, D, x) ((BLK_##D)((x) != 0))
#define CONV_I_C(S, D, x) ((BLK_##D){(x), 0})
#define CONV_B_R(S, D, x) ((BLK_##D)(x))
#define CONV_B_I(S, D, x) ((BLK_##D)(x))
#define CONV_B_B(S, D, x) ((BLK_##D)(x))
#define CONV_B_C(S, D, x) ((BLK_##D){(x), 0})
#define CONV_C_R(S, D, x) ((BLK_##D)(x).re)
#define CONV_C_I(S, D, x) FTOI(D, (x).re)
#define CONV_C_B(S, D, x) ((BLK_##D)((x).re != 0 || (x).im != 0))
#define CONV_C_C(S, D, x) ((BLK_##D){(x).re, (x).im})

#define CONV3(KS, KD, S, D, x) CONV_##KS##_##KD(S, D, x)
#define CONV2(KS, KD, S, D, x) CONV3(KS, KD, S, D, x)
#define CONV(S, D, x)          CONV2(KIND_##S, KIND_##D, S, D, x)

#define DEF_CAST(S, D)                                                                             \
    static void cast_##S##_##D(void *out, const void *in, size_t n) {                              \
        BLK_##D *o = out;                                                                          \
        const BLK_##S *a = in;                                                                     \
        for (size_t i = 0; i < n; i++)                                                             \
            o[i] = CONV(S, D, a[i]);                                                               \
    }

#define ALL_TYPES(X, S)                                                                            \
    X(S, f32)                                                                                      \
    X(S, c32)                                                                                      \
    X(S, f64) X(S, c64) X(S, b8) X(S, s32) X(S, u32) X(S, u8) X(S, s64) X(S, u64) X(S, s16)        \
        X(S, u16) X(S, f16) X(S, s8)
#define DEF_CASTS_FROM(S) ALL_TYPES(DEF_CAST, S)
DEF_CASTS_FROM(f32)
DEF_CASTS_FROM(c32)
DEF_CASTS_FROM(f64)
DEF_CASTS_FROM(c64)
DEF_CASTS_FROM(b8)
DEF_CASTS_FROM(s32)
DEF_CASTS_FROM(u32)
DEF_CASTS_FROM(u8)
DEF_CASTS_FROM(s64)
DEF_CASTS_FROM(u64)
DEF_CASTS_FROM(s16)
DEF_CASTS_FROM(u16)
DEF_CASTS_FROM(f16)
DEF_CASTS_FROM(s8)

#define CAST_ENTRY(S, D) [D] = cast_##S##_##D,
#define CAST_ROW(S)      [S] = {ALL_TYPES(CAST_ENTRY, S)},
const em_cpu_cast_fn em_cpu_casts[EM_NUM_DTYPES][EM_NUM_DTYPES] = {
    CAST_ROW(f32) CAST_ROW(c32) CAST_ROW(f64) CAST_ROW(c64) CAST_ROW(b8) CAST_ROW(s32) CAST_ROW(u32)
        CAST_ROW(u8) CAST_ROW(s64) CAST_ROW(u64) CAST_ROW(s16) CAST_ROW(u16) CAST_ROW(f16)
            CAST_ROW(s8)};
