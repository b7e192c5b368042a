/* The CPU kernels of the JIT ops, one loop per (op, operand dtype). Each loop runs over one block
 * in block representation (f16 as float), so the compiler vectorises it. The table at the end maps
 * (op, operand dtype) to its loop; the api layer only builds pairs that exist here. */
#include "cpu.h"

#include <math.h>

/* A loop over a block: T operand type, R result type, EXPR in terms of x (and y, z). */
#define DEF_UN(NAME, SFX, T, R, EXPR)                                                             \
    static void NAME##_##SFX(void *out, const void *const *in, size_t n) {                        \
        R *o = out;                                                                                \
        const T *a = in[0];                                                                        \
        for (size_t i = 0; i < n; i++) {                                                           \
            T x = a[i];                                                                            \
            o[i] = (EXPR);                                                                         \
        }                                                                                          \
    }
#define DEF_BIN(NAME, SFX, T, R, EXPR)                                                            \
    static void NAME##_##SFX(void *out, const void *const *in, size_t n) {                        \
        R *o = out;                                                                                \
        const T *a = in[0], *b = in[1];                                                            \
        for (size_t i = 0; i < n; i++) {                                                           \
            T x = a[i], y = b[i];                                                                  \
            o[i] = (EXPR);                                                                         \
        }                                                                                          \
    }

/* Real numeric types: (suffix, block type). f16 computes in float. */
#define REAL_TYPES(X, ...)                                                                         \
    X(f32, float, __VA_ARGS__)                                                                     \
    X(f64, double, __VA_ARGS__)                                                                    \
    X(f16, float, __VA_ARGS__)                                                                     \
    X(s32, int32_t, __VA_ARGS__)                                                                   \
    X(u32, uint32_t, __VA_ARGS__)                                                                  \
    X(u8, uint8_t, __VA_ARGS__)                                                                    \
    X(s64, int64_t, __VA_ARGS__)                                                                   \
    X(u64, uint64_t, __VA_ARGS__)                                                                  \
    X(s16, int16_t, __VA_ARGS__)                                                                   \
    X(u16, uint16_t, __VA_ARGS__)                                                                  \
    X(s8, int8_t, __VA_ARGS__)                                                                     \
    X(b8, uint8_t, __VA_ARGS__)

#define BIN_SAME(SFX, T, NAME, EXPR) DEF_BIN(NAME, SFX, T, T, EXPR)
#define ENTRY(SFX, T, NAME, ...) [SFX] = NAME##_##SFX,

REAL_TYPES(BIN_SAME, ADD, x + y)
REAL_TYPES(BIN_SAME, SUB, x - y)
REAL_TYPES(BIN_SAME, MUL, x * y)
DEF_UN(SIN, f32, float, float, sinf(x))
DEF_UN(SIN, f64, double, double, sin(x))
DEF_UN(SIN, f16, float, float, sinf(x))
DEF_UN(SQRT, f32, float, float, sqrtf(x))
DEF_UN(SQRT, f64, double, double, sqrt(x))
DEF_UN(SQRT, f16, float, float, sqrtf(x))
DEF_UN(ABS, f32, float, float, fabsf(x))
DEF_UN(ABS, f64, double, double, fabs(x))
DEF_UN(ABS, f16, float, float, fabsf(x))

const em_cpu_op_fn em_cpu_ops[EM_OP_COUNT][EM_NUM_DTYPES] = {
    [EM_OP_ADD] = {REAL_TYPES(ENTRY, ADD)},
    [EM_OP_SUB] = {REAL_TYPES(ENTRY, SUB)},
    [EM_OP_MUL] = {REAL_TYPES(ENTRY, MUL)},
    [EM_OP_SIN] = {[f32] = SIN_f32, [f64] = SIN_f64, [f16] = SIN_f16},
    [EM_OP_SQRT] = {[f32] = SQRT_f32, [f64] = SQRT_f64, [f16] = SQRT_f16},
    [EM_OP_ABS] = {[f32] = ABS_f32, [f64] = ABS_f64, [f16] = ABS_f16},
};
