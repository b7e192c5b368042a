/* Reductions on the CPU (algorithm.h, "Reductions"). The input is a JIT program; the block
 * evaluator (cpu.h) computes its output 0 one block of at most EM_CPU_BLOCK elements at a time,
 * and each block is folded into its accumulators while it is in cache, so an expression is never
 * written to memory.
 *
 * A reduction along dim views the input as in[i + inner * (j + len * o)], with inner the product
 * of the dims below dim, len = dims[dim] and outer the product of those above, and computes
 * out[i + inner * o] over j. Reducing everything is inner = 1, len = elements, outer = 1. Row r =
 * j + len * o is the inner values in[inner * r + i]. Work is split into tasks (group of o, tile
 * of i, chunk of j), each of which writes its own accumulators, so threads never share an output;
 * a chunked j range (few, long reductions) leaves one partial per chunk, combined in chunk order
 * at the end.
 *
 * A task walks its rows in the order they lie in memory (walk): when the tile is the whole row
 * (inner values whose accumulators fit in the nearest caches, the usual case), its rows are one
 * contiguous range of the input, evaluated in full blocks that run across rows and across o, and
 * each stretch of a block is added element-wise into the accumulators of its row position (or
 * folded into one accumulator when inner is 1). Narrow rows accumulate q rows side by side, so that
 * every add runs over a long vector; the q partial rows are combined when the o is done. Wider rows
 * are cut into tiles of tens of kilobytes, each read row by row. */
#include "cpu.h"

#include "../../core/err.h"
#include "../../core/mem.h"

#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

/* ---- per-op kernels on block-representation values ---- */

/* Folding a block of floating values into one accumulator uses this many independent lanes, so
 * the loop vectorises without reassociating a single chain (which the compiler may not do for
 * floating point). Integer folds are one chain, which the compiler vectorises itself (with lanes
 * it does worse, spilling them once the values widen). */
#define LANES 16

typedef struct {
    void (*ident)(void *acc);                         /* acc = the op's identity */
    void (*fold)(void *acc, const void *v, size_t n); /* acc = op(acc, v[0..n)) */
    void (*vec)(void *acc, const void *v, size_t n);  /* acc[k] = op(acc[k], v[k]) */
    void (*comb)(void *acc, const void *b, size_t n); /* acc[k] = op(acc[k], b[k]), accumulators */
} red_kernel;

/* A kernel from a combine expression COMB over the accumulated value `a` and the new value `x`
 * (both of type T; the values read are of type VT, converted to T), the identity IDENT, and L
 * lanes for its fold. */
#define RED_KERNEL_V(name, T, VT, L, IDENT, COMB)                                                  \
    static void name##_ident(void *acc) {                                                          \
        *(T *)acc = (IDENT);                                                                       \
    }                                                                                              \
    static inline T name##_op(T a, T x) {                                                          \
        return (COMB);                                                                             \
    }                                                                                              \
    static void name##_comb(void *restrict acc, const void *restrict b, size_t n) {                \
        T *restrict A = acc;                                                                       \
        const T *restrict B = b;                                                                   \
        for (size_t k = 0; k < n; k++)                                                             \
            A[k] = name##_op(A[k], B[k]);                                                          \
    }                                                                                              \
    static void name##_vec(void *restrict acc, const void *restrict v, size_t n) {                 \
        T *restrict A = acc;                                                                       \
        const VT *restrict V = v;                                                                  \
        for (size_t k = 0; k < n; k++)                                                             \
            A[k] = name##_op(A[k], V[k]);                                                          \
    }                                                                                              \
    static void name##_fold(void *acc, const void *v, size_t n) {                                  \
        const VT *V = v;                                                                           \
        T l[L];                                                                                    \
        for (int k = 0; k < L; k++)                                                                \
            l[k] = (IDENT);                                                                        \
        size_t i = 0;                                                                              \
        for (; i + L <= n; i += L)                                                                 \
            for (int k = 0; k < L; k++)                                                            \
                l[k] = name##_op(l[k], V[i + k]);                                                  \
        T r = *(T *)acc;                                                                           \
        for (int k = 0; k < L; k++)                                                                \
            r = name##_op(r, l[k]);                                                                \
        for (; i < n; i++)                                                                         \
            r = name##_op(r, V[i]);                                                                \
        *(T *)acc = r;                                                                             \
    }                                                                                              \
    static const red_kernel name                                                                   \
        __attribute__((unused)) = {name##_ident, name##_fold, name##_vec, name##_comb};
#define RED_KERNEL(name, T, IDENT, COMB)  RED_KERNEL_V(name, T, T, LANES, IDENT, COMB)
#define RED_IKERNEL(name, T, IDENT, COMB) RED_KERNEL_V(name, T, T, 1, IDENT, COMB)

/* Integer sums and products wrap: they run on the unsigned type of the same width, which has the
 * same bits as the signed result. */
RED_KERNEL(sum_f32, float, 0.0f, a + x)
RED_KERNEL(sum_f64, double, 0.0, a + x)
RED_IKERNEL(sum_u32, uint32_t, 0u, a + x)
RED_IKERNEL(sum_u64, uint64_t, 0u, a + x)
RED_KERNEL(prod_f32, float, 1.0f, a *x)
RED_KERNEL(prod_f64, double, 1.0, a *x)
RED_IKERNEL(prod_u32, uint32_t, 1u, a *x)
RED_IKERNEL(prod_u64, uint64_t, 1u, a *x)
/* Sums of narrow integers (and counts) accumulate in 32 bits straight from the narrow values: the
 * api's widening conversion is left out of the program (widening_sum), so the fold reads a
 * quarter of the bytes and no block is converted. Signed values extend their sign, which in
 * unsigned arithmetic gives the bits of the signed sum. */
/* 8-bit values are summed 32 at a time by the byte-sum instruction where there is one (signed
 * ones offset by 128 into unsigned bytes, the offset taken off after), else in runs of 256, whose
 * sum fits 16 bits: the compiler vectorises a 16-bit sum twice as wide as a 32-bit one. */
#if defined(__AVX2__)
#define RED_SUM8_WIDE(V, n, i, r, BIAS)                                                            \
    do {                                                                                           \
        const __m256i z_ = _mm256_setzero_si256(), b_ = _mm256_set1_epi8((char)(BIAS));            \
        __m256i s_ = z_;                                                                           \
        for (; i + 32 <= n; i += 32)                                                               \
            s_ = _mm256_add_epi64(                                                                 \
                s_, _mm256_sad_epu8(                                                               \
                        _mm256_xor_si256(_mm256_loadu_si256((const void *)(V + i)), b_), z_));     \
        uint64_t t_[4];                                                                            \
        memcpy(t_, &s_, sizeof(t_));                                                               \
        r += (uint32_t)(t_[0] + t_[1] + t_[2] + t_[3]) - (uint32_t)((BIAS) ? 128 * i : 0);         \
    } while (0)
#else
#define RED_SUM8_WIDE(V, n, i, r, BIAS) ((void)0)
#endif
#define RED_SUM8(name, VT, ST, BIAS)                                                               \
    RED_KERNEL_V(name##_w, uint32_t, VT, 1, 0u, a + x)                                             \
    static void name##_fold(void *acc, const void *v, size_t n) {                                  \
        const VT *V = v;                                                                           \
        uint32_t r = *(uint32_t *)acc;                                                             \
        size_t i = 0;                                                                              \
        RED_SUM8_WIDE(V, n, i, r, BIAS);                                                           \
        while (i < n) {                                                                            \
            size_t m = n - i < 256 ? n - i : 256;                                                  \
            ST h = 0;                                                                              \
            for (size_t k = 0; k < m; k++)                                                         \
                h += V[i + k];                                                                     \
            r += (uint32_t)h;                                                                      \
            i += m;                                                                                \
        }                                                                                          \
        *(uint32_t *)acc = r;                                                                      \
    }                                                                                              \
    static const red_kernel name = {name##_w_ident, name##_fold, name##_w_vec, name##_w_comb};
RED_SUM8(sum_u8w, uint8_t, uint16_t, 0)
RED_SUM8(sum_s8w, int8_t, int16_t, 0x80)
RED_KERNEL_V(sum_u16w, uint32_t, uint16_t, 1, 0u, a + x)
RED_KERNEL_V(sum_s16w, uint32_t, int16_t, 1, 0u, a + x)

/* Floating min and max ignore NaN: NaN is the identity, and a NaN accumulator takes any value.
 * Their folds run on explicit 32-byte vectors: written per lane, the select did not vectorise
 * (the compiler unrolled the lanes into scalar compares and branches). */
#define RED_FMINMAX(name, T, IT, CMP)                                                              \
    RED_KERNEL(name##_s, T, NAN, ((x CMP a) | (a != a)) ? x : a)                                   \
    typedef T name##_vt __attribute__((vector_size(32)));                                          \
    typedef IT name##_vi __attribute__((vector_size(32)));                                         \
    static void name##_fold(void *acc, const void *v, size_t n) {                                  \
        enum { W = 32 / sizeof(T) };                                                               \
        const char *V = v;                                                                         \
        name##_vt l0, l1;                                                                          \
        for (int k = 0; k < W; k++)                                                                \
            l0[k] = l1[k] = NAN;                                                                   \
        size_t i = 0;                                                                              \
        for (; i + 2 * W <= n; i += 2 * W) {                                                       \
            name##_vt x0, x1;                                                                      \
            memcpy(&x0, V + i * sizeof(T), sizeof(x0));                                            \
            memcpy(&x1, V + (i + W) * sizeof(T), sizeof(x1));                                      \
            name##_vi m0 = (x0 CMP l0) | (l0 != l0), m1 = (x1 CMP l1) | (l1 != l1);                \
            l0 = (name##_vt)(((name##_vi)x0 & m0) | ((name##_vi)l0 & ~m0));                        \
            l1 = (name##_vt)(((name##_vi)x1 & m1) | ((name##_vi)l1 & ~m1));                        \
        }                                                                                          \
        T r = *(T *)acc;                                                                           \
        for (int k = 0; k < W; k++)                                                                \
            r = name##_s_op(name##_s_op(r, l0[k]), l1[k]);                                         \
        for (; i < n; i++)                                                                         \
            r = name##_s_op(r, ((const T *)v)[i]);                                                 \
        *(T *)acc = r;                                                                             \
    }                                                                                              \
    static const red_kernel name = {name##_s_ident, name##_fold, name##_s_vec, name##_s_vec};
RED_FMINMAX(min_f32, float, int32_t, <)
RED_FMINMAX(min_f64, double, int64_t, <)
RED_FMINMAX(max_f32, float, int32_t, >)
RED_FMINMAX(max_f64, double, int64_t, >)
#define RED_INT_MINMAX(t, T, LO, HI)                                                               \
    RED_IKERNEL(min_##t, T, HI, x < a ? x : a)                                                     \
    RED_IKERNEL(max_##t, T, LO, x > a ? x : a)
RED_INT_MINMAX(s8, int8_t, INT8_MIN, INT8_MAX)
RED_INT_MINMAX(u8, uint8_t, 0, UINT8_MAX)
RED_INT_MINMAX(s16, int16_t, INT16_MIN, INT16_MAX)
RED_INT_MINMAX(u16, uint16_t, 0, UINT16_MAX)
RED_INT_MINMAX(s32, int32_t, INT32_MIN, INT32_MAX)
RED_INT_MINMAX(u32, uint32_t, 0, UINT32_MAX)
RED_INT_MINMAX(s64, int64_t, INT64_MIN, INT64_MAX)
RED_INT_MINMAX(u64, uint64_t, 0, UINT64_MAX)
/* b8 holds 0 or 1. */
RED_IKERNEL(and_b8, uint8_t, 1, a &x)
RED_IKERNEL(or_b8, uint8_t, 0, a | x)

/* Complex sums are two real sums over interleaved parts; the kernels fold 2n reals and split the
 * lanes into even (real) and odd (imaginary) ones. */
#define RED_CSUM(name, C, R)                                                                       \
    static void name##_ident(void *acc) {                                                          \
        ((R *)acc)[0] = 0;                                                                         \
        ((R *)acc)[1] = 0;                                                                         \
    }                                                                                              \
    static void name##_vec(void *restrict acc, const void *restrict v, size_t n) {                 \
        R *restrict A = acc;                                                                       \
        const R *restrict V = v;                                                                   \
        for (size_t k = 0; k < 2 * n; k++)                                                         \
            A[k] += V[k];                                                                          \
    }                                                                                              \
    static void name##_fold(void *acc, const void *v, size_t n) {                                  \
        const R *V = v;                                                                            \
        R l[LANES] = {0};                                                                          \
        size_t i = 0, m = 2 * n;                                                                   \
        for (; i + LANES <= m; i += LANES)                                                         \
            for (int k = 0; k < LANES; k++)                                                        \
                l[k] += V[i + k];                                                                  \
        R *A = acc;                                                                                \
        for (int k = 0; k < LANES; k++)                                                            \
            A[k & 1] += l[k];                                                                      \
        for (; i < m; i++)                                                                         \
            A[i & 1] += V[i];                                                                      \
    }                                                                                              \
    static const red_kernel name = {name##_ident, name##_fold, name##_vec, name##_vec};
RED_CSUM(sum_c32, em_cf32, float)
RED_CSUM(sum_c64, em_cf64, double)

/* Complex products, min and max: one chain per accumulator. Products round each step as the
 * element-wise MUL does (docs/JIT_OPS.md). Min and max compare magnitudes (hypot), then real
 * parts, then imaginary parts, so the result does not depend on the order of reduction; a value
 * with a NaN part is ignored. */
#define RED_CPLX(name, C, R, HYPOT, IDENT_RE, IDENT_IM, OP)                                        \
    static inline C name##_op(C a, C x) OP static void name##_ident(void *acc) {                   \
        ((C *)acc)->re = (IDENT_RE);                                                               \
        ((C *)acc)->im = (IDENT_IM);                                                               \
    }                                                                                              \
    static void name##_vec(void *restrict acc, const void *restrict v, size_t n) {                 \
        C *restrict A = acc;                                                                       \
        const C *restrict V = v;                                                                   \
        for (size_t k = 0; k < n; k++)                                                             \
            A[k] = name##_op(A[k], V[k]);                                                          \
    }                                                                                              \
    static void name##_fold(void *acc, const void *v, size_t n) {                                  \
        const C *V = v;                                                                            \
        C r = *(C *)acc;                                                                           \
        for (size_t i = 0; i < n; i++)                                                             \
            r = name##_op(r, V[i]);                                                                \
        *(C *)acc = r;                                                                             \
    }                                                                                              \
    static const red_kernel name = {name##_ident, name##_fold, name##_vec, name##_vec};

#define CPROD_OP                                                                                   \
    {                                                                                              \
        typeof(a) r;                                                                               \
        r.re = a.re * x.re - a.im * x.im;                                                          \
        r.im = a.re * x.im + a.im * x.re;                                                          \
        return r;                                                                                  \
    }
/* x replaces a when a is missing (NaN part), or x is present and orders before a. */
#define CMINMAX_OP(HYPOT, CMP)                                                                     \
    {                                                                                              \
        if (x.re != x.re || x.im != x.im) return a;                                                \
        if (a.re != a.re || a.im != a.im) return x;                                                \
        typeof(a.re) ma = HYPOT(a.re, a.im), mx = HYPOT(x.re, x.im);                               \
        if (mx CMP ma) return x;                                                                   \
        if (mx != ma) return a;                                                                    \
        if (x.re CMP a.re) return x;                                                               \
        if (x.re != a.re) return a;                                                                \
        return x.im CMP a.im ? x : a;                                                              \
    }
RED_CPLX(prod_c32, em_cf32, float, hypotf, 1.0f, 0.0f, CPROD_OP)
RED_CPLX(prod_c64, em_cf64, double, hypot, 1.0, 0.0, CPROD_OP)
RED_CPLX(min_c32, em_cf32, float, hypotf, NAN, NAN, CMINMAX_OP(hypotf, <))
RED_CPLX(min_c64, em_cf64, double, hypot, NAN, NAN, CMINMAX_OP(hypot, <))
RED_CPLX(max_c32, em_cf32, float, hypotf, NAN, NAN, CMINMAX_OP(hypotf, >))
RED_CPLX(max_c64, em_cf64, double, hypot, NAN, NAN, CMINMAX_OP(hypot, >))

/* The kernel of op on values of dtype t (block representation), or NULL where algorithm.h does
 * not define the pair. */
static const red_kernel *kernel_for(em_red_op op, af_dtype t) {
    switch (op) {
    case EM_RED_SUM:
    case EM_RED_PROD: {
        bool s = op == EM_RED_SUM;
        switch (t) {
        case f32:
            return s ? &sum_f32 : &prod_f32;
        case f64:
            return s ? &sum_f64 : &prod_f64;
        case c32:
            return s ? &sum_c32 : &prod_c32;
        case c64:
            return s ? &sum_c64 : &prod_c64;
        case s32:
        case u32:
            return s ? &sum_u32 : &prod_u32;
        case s64:
        case u64:
            return s ? &sum_u64 : &prod_u64;
        default:
            return NULL;
        }
    }
    case EM_RED_MIN:
    case EM_RED_MAX: {
        bool m = op == EM_RED_MIN;
        switch (t) {
        case f32:
        case f16:
            return m ? &min_f32 : &max_f32;
        case f64:
            return m ? &min_f64 : &max_f64;
        case c32:
            return m ? &min_c32 : &max_c32;
        case c64:
            return m ? &min_c64 : &max_c64;
        case b8:
        case u8:
            return m ? &min_u8 : &max_u8;
        case s8:
            return m ? &min_s8 : &max_s8;
        case s16:
            return m ? &min_s16 : &max_s16;
        case u16:
            return m ? &min_u16 : &max_u16;
        case s32:
            return m ? &min_s32 : &max_s32;
        case u32:
            return m ? &min_u32 : &max_u32;
        case s64:
            return m ? &min_s64 : &max_s64;
        case u64:
            return m ? &min_u64 : &max_u64;
        default:
            return NULL;
        }
    }
    case EM_RED_AND:
        return t == b8 ? &and_b8 : NULL;
    case EM_RED_OR:
        return t == b8 ? &or_b8 : NULL;
    }
    return NULL;
}

/* A sum whose program ends in a widening conversion (b8, u8, s8, u16 or s16 to u32 or s32: the
 * api's count and narrow sums; f16 to f32, whose block representation is already float) reduces
 * the values before the conversion: *view becomes the program without its last instruction, and
 * the returned kernel widens as it accumulates. NULL when the program ends otherwise. */
static const red_kernel *widening_sum(const em_jit_prog *in, em_red_op op, em_jit_prog *view) {
    const em_jit_instr *last = &in->instr[in->ninstr - 1];
    if (op != EM_RED_SUM || in->nout != 1 || in->out[0] != in->ninstr - 1 || last->op != EM_OP_CAST)
        return NULL;
    af_dtype from = (af_dtype)in->instr[last->arg[0]].type, to = (af_dtype)last->type;
    const red_kernel *k = NULL;
    if (to == u32 || to == s32) {
        if (from == b8 || from == u8) k = &sum_u8w;
        if (from == s8) k = &sum_s8w;
        if (from == u16) k = &sum_u16w;
        if (from == s16) k = &sum_s16w;
    } else if (to == f32 && from == f16) {
        k = &sum_f32;
    }
    if (!k) return NULL;
    /* The copy shares the instructions and leaves of `in`, which outlives it. */
    *view = *in;
    view->ninstr--;
    view->out[0] = last->arg[0];
    return k;
}

/* ---- the driver ---- */

/* The accumulators of a tile of whole rows stay within this many bytes, so that they stay in the
 * nearest caches while the input streams past; longer rows are cut into tiles. */
#define RED_TILE_BYTES 65536
/* Rows narrower than this many values accumulate side by side, q of them making a wide row of
 * at least this many accumulators (and fewer than twice as many). */
#define RED_WIDE 512

/* The reduction's geometry (see the file comment) and its split into tasks. */
typedef struct {
    dim_t inner, len, outer;
    dim_t itile, ntile;   /* tiles of i: ntile tiles of itile (the last may be shorter) */
    dim_t ogroup, ngroup; /* o per task, and the number of such groups */
    dim_t jchunks;        /* chunks of j per (o, tile); above 1 only when ogroup is 1 */
} red_shape;

/* bs: the accumulators' element size. */
static void shape_of(const em_jit_prog *p, int dim, size_t bs, red_shape *s) {
    if (dim < 0) {
        s->inner = 1, s->len = p->elements, s->outer = 1;
    } else {
        s->inner = 1, s->outer = 1;
        for (int d = 0; d < dim; d++)
            s->inner *= p->dims[d];
        for (int d = dim + 1; d < 4; d++)
            s->outer *= p->dims[d];
        s->len = p->dims[dim];
    }
    dim_t budget = RED_TILE_BYTES / (dim_t)bs;
    s->itile = s->inner;
    if (s->inner > budget) {
        /* Equal tiles, each a whole number of cache lines. */
        dim_t n = (s->inner + budget - 1) / budget;
        s->itile = ((s->inner + n - 1) / n + 15) & ~(dim_t)15;
    }
    s->ntile = (s->inner + s->itile - 1) / s->itile;
    /* Enough tasks to keep every thread busy, each with enough work to amortise its start: short
     * reductions group consecutive o (whose rows are adjacent in memory), few long ones split
     * their j range into chunks of at least eight blocks' worth of elements. Reductions of inner
     * 1 split finer still: their partials are single values, and short tasks keep a thread that
     * runs late from holding the others up at the end. */
    dim_t want = 4 * (dim_t)omp_get_max_threads(), work = s->len * s->itile;
    dim_t g = (16 * EM_CPU_BLOCK + work - 1) / work, most = s->outer * s->ntile / want;
    s->ogroup = g < most ? g : most > 1 ? most : 1;
    s->ngroup = (s->outer + s->ogroup - 1) / s->ogroup;
    s->jchunks = 1;
    dim_t base = s->ngroup * s->ntile;
    if (s->inner == 1) want *= 4;
    if (base < want) {
        dim_t by_work = work / (8 * EM_CPU_BLOCK);
        dim_t c = (want + base - 1) / base;
        if (c > by_work) c = by_work;
        if (c > s->len) c = s->len;
        if (c > 1) s->jchunks = c;
    }
}

/* The rows [r0, r1) and first o of task `task` (see em_cpu_reduce). */
static void task_of(const red_shape *s, dim_t task, dim_t *o0, dim_t *i0, dim_t *r0, dim_t *r1,
                    dim_t *jc) {
    dim_t b = task / s->jchunks, g = b / s->ntile;
    *jc = task % s->jchunks;
    *i0 = (b % s->ntile) * s->itile;
    *o0 = g * s->ogroup;
    dim_t o1 = *o0 + s->ogroup < s->outer ? *o0 + s->ogroup : s->outer;
    *r0 = s->len * *o0 + s->len * *jc / s->jchunks;
    *r1 = o1 == *o0 + 1 ? s->len * *o0 + s->len * (*jc + 1) / s->jchunks : s->len * o1;
}

/* Reductions at most this long (along a dim of inner 1) go to a consumer's slabs many at a
 * time. */
#define RED_SHORT 32

/* A walk's scratch holds one block of values, or a wide row (fewer than 2 * RED_WIDE values). */
#define RED_BUF (EM_CPU_BLOCK * sizeof(em_cf64))
_Static_assert(2 * RED_WIDE <= EM_CPU_BLOCK, "a wide row fits a walk's scratch");

/* A consumer of walk: seg receives the values v[0..m) (block representation) of consecutive
 * elements of the tile, the first at position pw of the wide row (q rows of the tile side by
 * side) and in row r; a stretch never crosses a wide row, nor the rows of one o. With a tile of
 * width 1 a stretch holds rows r..r+m-1 and pw means nothing. oend follows the last stretch of
 * each o, and the last of the walk. slabs (NULL: none) receives instead the values of ns whole
 * o when the tile has width 1 and len is at most RED_SHORT, and moves on to the next o itself. */
typedef struct red_walk {
    void (*seg)(struct red_walk *w, const char *v, size_t m, size_t pw, dim_t r);
    void (*oend)(struct red_walk *w);
    void (*slabs)(struct red_walk *w, const char *v, size_t ns);
    dim_t q;                        /* rows per wide row: 1 unless the tile is the whole row */
    _Alignas(64) char buf[RED_BUF]; /* the consumer's scratch */
} red_walk;

/* Sets n accumulators of bs bytes to the identity: one, then doubling copies. */
static void fill_ident(void (*ident)(void *), char *acc, size_t n, size_t bs) {
    ident(acc);
    for (size_t done = 1; done < n;) {
        size_t c = done < n - done ? done : n - done;
        memcpy(acc + done * bs, acc, c * bs);
        done += c;
    }
}

/* The ns short reductions of len values each at v (es bytes a value), transposed into buf: row j
 * holds value j of each, so that a slab is len element-wise steps over ns accumulators. */
static const char *transpose(char *restrict buf, const char *restrict v, size_t ns, size_t len,
                             size_t es) {
#define EM_TRANSPOSE(T)                                                                            \
    do {                                                                                           \
        T *restrict d_ = (T *)buf;                                                                 \
        const T *restrict s_ = (const T *)v;                                                       \
        for (size_t s = 0; s < ns; s++)                                                            \
            for (size_t j = 0; j < len; j++)                                                       \
                d_[j * ns + s] = s_[s * len + j];                                                  \
    } while (0)
    switch (es) {
    case 1:
        EM_TRANSPOSE(uint8_t);
        break;
    case 2:
        EM_TRANSPOSE(uint16_t);
        break;
    case 4:
        EM_TRANSPOSE(uint32_t);
        break;
    case 8:
        EM_TRANSPOSE(uint64_t);
        break;
    default:
        EM_TRANSPOSE(em_cf64);
        break;
    }
#undef EM_TRANSPOSE
    return buf;
}

/* The values of [p, p + n), after asking memory for the (at most a block of) nq values from q that
 * the walk reads next: a consumer that computes little would otherwise leave memory idle while it
 * works on a block. */
static const char *read_block(const em_cpu_block_eval *e, char *scratch, dim_t p, size_t n, dim_t q,
                              dim_t nq) {
    if (nq > 0) em_cpu_block_eval_prefetch(e, q, (size_t)(nq < EM_CPU_BLOCK ? nq : EM_CPU_BLOCK));
    return em_cpu_block_eval_run(e, scratch, p, n);
}

/* Walks rows [r0, r1) of the tile [i0, i0 + T) of each row in memory order; vbs is the values'
 * element size. */
static void walk(const em_cpu_block_eval *e, char *scratch, size_t vbs, const red_shape *s,
                 dim_t r0, dim_t r1, dim_t i0, dim_t T, red_walk *w) {
    dim_t len = s->len, onext = (r0 / len + 1) * len; /* the first row of the next o */
    if (T == 1) {
        /* Each o's values are contiguous: a block's stretch of each o is folded at once. */
        bool slabs = w->slabs && len <= RED_SHORT && s->jchunks == 1;
        dim_t pend = onext < r1 ? onext : r1;
        for (dim_t p = r0; p < r1;) {
            dim_t n = r1 - p < EM_CPU_BLOCK ? r1 - p : EM_CPU_BLOCK;
            /* (The transposing slabs compute enough to run without a prefetch.) */
            const char *v = read_block(e, scratch, p, (size_t)n, p + n, slabs ? 0 : r1 - p - n);
            for (dim_t x = p; x < p + n;) {
                const char *vx = v + (size_t)(x - p) * vbs;
                if (slabs && pend - x == len && p + n - x >= len) {
                    /* At the start of an o, with whole o in the block (a task of whole o). */
                    dim_t ns = (p + n - x) / len;
                    w->slabs(w, vx, (size_t)ns);
                    x += ns * len;
                    pend = x + len < r1 ? x + len : r1;
                    continue;
                }
                dim_t m = (pend < p + n ? pend : p + n) - x;
                w->seg(w, vx, (size_t)m, 0, x);
                x += m;
                if (x == pend) {
                    w->oend(w);
                    pend = pend + len < r1 ? pend + len : r1;
                }
            }
            p += n;
        }
    } else if (T == s->inner) {
        /* Whole rows: one contiguous range, evaluated in full blocks; wide rows of q rows. */
        dim_t p = r0 * T, end = r1 * T, pend = (onext < r1 ? onext : r1) * T;
        dim_t W = w->q * T, pw = 0, rw = r0; /* position in the wide row, and its first row */
        while (p < end) {
            size_t n = (size_t)(end - p < EM_CPU_BLOCK ? end - p : EM_CPU_BLOCK);
            const char *v = read_block(e, scratch, p, n, p + (dim_t)n, end - p - (dim_t)n);
            for (size_t d = 0; d < n;) {
                dim_t x = p + (dim_t)d, m = (dim_t)n - (dim_t)d;
                if (m > pend - x) m = pend - x;
                if (m > W - pw) m = W - pw;
                w->seg(w, v + d * vbs, (size_t)m, (size_t)pw, rw + (w->q > 1 ? pw / T : 0));
                d += (size_t)m;
                pw += m;
                if (x + m == pend) {
                    w->oend(w);
                    rw += (pw + T - 1) / T;
                    pw = 0;
                    pend = pend + len * T < end ? pend + len * T : end;
                } else if (pw == W) {
                    rw += w->q;
                    pw = 0;
                }
            }
            p += (dim_t)n;
        }
    } else {
        /* A tile of long rows: each row's part is thousands of contiguous values. */
        for (dim_t r = r0; r < r1; r++) {
            dim_t base = i0 + s->inner * r;
            for (dim_t i = 0; i < T;) {
                size_t n = (size_t)(T - i < EM_CPU_BLOCK ? T - i : EM_CPU_BLOCK);
                bool last = i + (dim_t)n == T; /* then the next is the next row's part */
                const char *v = read_block(e, scratch, base + i, n,
                                           last ? base + s->inner : base + i + (dim_t)n,
                                           last ? (r + 1 < r1 ? T : 0) : T - i - (dim_t)n);
                w->seg(w, v, n, (size_t)i, r);
                i += (dim_t)n;
            }
            if (r + 1 == onext || r + 1 == r1) {
                w->oend(w);
                onext += len;
            }
        }
    }
}

/* The rows per wide row for a walk of rows [r0, r1) of width-T tiles: narrow whole rows side by
 * side, but no more than one o's rows or the walk's. */
static dim_t wide_rows(const red_shape *s, dim_t T, dim_t r0, dim_t r1) {
    if (T == 1 || T != s->inner || T >= RED_WIDE) return 1;
    dim_t q = (RED_WIDE + T - 1) / T;
    if (q > s->len) q = s->len;
    if (q > r1 - r0) q = r1 - r0;
    return q;
}

/* The consumer of a plain reduction: accumulators at dst, one set of T per o, ostride bytes
 * apart; a wide row accumulates in `wide`, combined into dst when its o is done. */
typedef struct {
    red_walk w;
    const red_kernel *k;
    size_t bs, vbs; /* accumulator and value sizes */
    dim_t T, len;
    char *dst, *acc; /* acc: dst, or w.buf (wide rows) when q > 1 */
    size_t ostride;
    bool fresh; /* acc is still to be set to the identity */
} red_visit;

static void red_seg(red_walk *w, const char *v, size_t m, size_t pw, dim_t r) {
    red_visit *c = (red_visit *)w;
    (void)r;
    if (c->fresh) {
        fill_ident(c->k->ident, c->acc, (size_t)(w->q * c->T), c->bs);
        c->fresh = false;
    }
    if (c->T == 1)
        c->k->fold(c->acc, v, m);
    else
        c->k->vec(c->acc + pw * c->bs, v, m);
}

static void red_slabs(red_walk *w, const char *v, size_t ns) {
    red_visit *c = (red_visit *)w;
    size_t len = (size_t)c->len;
    const char *t = transpose(w->buf, v, ns, len, c->vbs);
    fill_ident(c->k->ident, c->dst, ns, c->bs);
    for (size_t j = 0; j < len; j++)
        c->k->vec(c->dst, t + j * ns * c->vbs, ns);
    c->dst += ns * c->ostride;
    c->acc = c->dst;
}

static void red_oend(red_walk *w) {
    red_visit *c = (red_visit *)w;
    size_t row = (size_t)c->T * c->bs;
    if (c->acc == w->buf) {
        memcpy(c->dst, w->buf, row);
        for (dim_t q = 1; q < w->q; q++)
            c->k->comb(c->dst, w->buf + (size_t)q * row, (size_t)c->T);
    }
    c->dst += c->ostride;
    if (c->acc != w->buf) c->acc = c->dst;
    c->fresh = true;
}

/* Reduces rows [r0, r1) of the tile [i0, i0 + T) into the accumulators dst[0..T) of the first
 * o, then (ostride bytes further on) of each next o. */
static void run_task(const em_cpu_block_eval *e, char *scratch, const red_kernel *k, size_t vbs,
                     size_t bs, const red_shape *s, dim_t r0, dim_t r1, dim_t i0, dim_t T,
                     char *dst, size_t ostride) {
    red_visit c;
    c.w.seg = red_seg, c.w.oend = red_oend, c.w.slabs = red_slabs;
    c.w.q = wide_rows(s, T, r0, r1);
    c.k = k, c.bs = bs, c.vbs = vbs, c.T = T, c.len = s->len, c.dst = dst, c.ostride = ostride;
    c.fresh = true;
    c.acc = c.w.q > 1 ? c.w.buf : dst;
    walk(e, scratch, vbs, s, r0, r1, i0, T, &c.w);
}

af_err em_cpu_reduce(int dev, const em_jit_prog *in, int dim, em_red_op op, void *out) {
    af_err err = AF_SUCCESS;
    em_cpu_block_eval *e = NULL;
    em_buf *accbuf = NULL, *partbuf = NULL;
    af_dtype t = (af_dtype)in->instr[in->out[0]].type;
    em_jit_prog view;
    const red_kernel *k = widening_sum(in, op, &view);
    const em_jit_prog *src = k ? &view : in;
    if (!k) k = kernel_for(op, t);
    if (!k) EM_FAIL(AF_ERR_NOT_SUPPORTED, "reduction %d of dtype %s", (int)op, em_dtype_name(t));
    if (in->elements <= 0) return AF_SUCCESS;
    size_t bs = em_cpu_block_size(t);
    size_t vbs = em_cpu_block_size((af_dtype)src->instr[src->out[0]].type);
    red_shape s;
    shape_of(in, dim, bs, &s);
    dim_t nout = s.inner * s.outer;
    EM_TRY(em_cpu_block_eval_new(src, &e));
    /* Accumulators in block representation: the output itself, except for f16 (floats). */
    char *acc = out;
    if (bs != em_dtype_size(t)) {
        EM_TRY(em_buf_alloc(dev, (size_t)nout * bs, &accbuf));
        acc = accbuf->ptr;
    }
    char *part = NULL;
    if (s.jchunks > 1) {
        EM_TRY(em_buf_alloc(dev, (size_t)(s.jchunks * nout) * bs, &partbuf));
        part = partbuf->ptr;
    }
    dim_t ntasks = s.ngroup * s.ntile * s.jchunks;
    int failed = 0;
    /* Small reductions run on the calling thread: waking the pool costs more than the work. */
#pragma omp parallel if (in->elements > 32 * EM_CPU_BLOCK && ntasks > 1) reduction(| : failed)
    {
        char *scratch = em_cpu_block_scratch_new(e);
#pragma omp for schedule(dynamic, 1)
        for (dim_t task = 0; task < ntasks; task++) {
            if (!scratch) {
                failed = 1;
                continue;
            }
            dim_t o0, i0, r0, r1, jc;
            task_of(&s, task, &o0, &i0, &r0, &r1, &jc);
            dim_t T = s.inner - i0 < s.itile ? s.inner - i0 : s.itile;
            char *dst =
                (part ? part + (size_t)(jc * nout) * bs : acc) + (size_t)(o0 * s.inner + i0) * bs;
            run_task(e, scratch, k, vbs, bs, &s, r0, r1, i0, T, dst, (size_t)s.inner * bs);
        }
        free(scratch);
    }
    if (failed) EM_FAIL(AF_ERR_NO_MEM, "out of host memory for evaluation scratch");
    if (part) {
        /* Chunk partials in chunk order, so the result does not depend on the schedule. */
#pragma omp parallel for if (nout > 4 * EM_CPU_BLOCK) schedule(static)
        for (dim_t i = 0; i < nout; i += EM_CPU_BLOCK) {
            size_t n = (size_t)(nout - i < EM_CPU_BLOCK ? nout - i : EM_CPU_BLOCK);
            memcpy(acc + (size_t)i * bs, part + (size_t)i * bs, n * bs);
            for (dim_t c = 1; c < s.jchunks; c++)
                k->comb(acc + (size_t)i * bs, part + (size_t)(c * nout + i) * bs, n);
        }
    }
    if (acc != (char *)out) {
        const float *f = (const float *)acc;
        uint16_t *h = out;
        for (dim_t i = 0; i < nout; i++)
            h[i] = em_float_to_half(f[i]);
    }
fail:
    if (partbuf) em_buf_release(partbuf);
    if (accbuf) em_buf_release(accbuf);
    em_cpu_block_eval_free(e);
    return err;
}

/* ---- min and max with their index (imin, imax, max_ragged) ---- */

/* Index-carrying kernels: an accumulator is a value and a u32 index (EM_NO_INDEX: none yet). x
 * (index xi) replaces a (index ai) when a is missing (NaN), or x is present and orders before a,
 * or they are equal and xi < ai: the first occurrence, whatever the order of reduction. */
#define EM_NO_INDEX UINT32_MAX

typedef struct {
    void (*ident)(void *acc);
    /* acc, *ai = op over (v[k], j0 + k) for k < n; j0 is above *ai. */
    void (*fold)(void *acc, uint32_t *ai, const void *v, size_t n, uint32_t j0);
    /* acc[k], ai[k] = op with (v[k], j) for k < n, skipping k where rl && j >= rl[k]; j is above
     * every ai[k]. */
    void (*vec)(void *acc, uint32_t *ai, const void *v, size_t n, uint32_t j, const uint32_t *rl);
    void (*comb)(void *acc, uint32_t *ai, const void *b, uint32_t bi);
} ired_kernel;

/* The element-wise step of an index kernel, where COND(k) admits element k: one loop per COND, so
 * that neither has a branch and both vectorise. */
#define IRED_VEC_LOOP(name, COND)                                                                  \
    for (size_t k = 0; k < n; k++) {                                                               \
        bool t = name##_later(A[k], V[k]) & (COND);                                                \
        A[k] = t ? V[k] : A[k];                                                                    \
        I[k] = t ? j : I[k];                                                                       \
    }

/* The parts common to every index kernel. MISSING(x): x is ignored; BEFORE(x, a): x orders
 * strictly before a (both present). LATER(a, x) is take for an x of larger index: written with
 * bitwise operators, so that the element-wise loop has no branch and vectorises. */
#define IRED_COMMON(name, T, IDENT, MISSING, BEFORE)                                               \
    static inline bool name##_take(T a, uint32_t ai, T x, uint32_t xi) {                           \
        if (MISSING(x)) return false;                                                              \
        if (MISSING(a)) return true;                                                               \
        if (BEFORE(x, a)) return true;                                                             \
        if (BEFORE(a, x)) return false;                                                            \
        return xi < ai;                                                                            \
    }                                                                                              \
    static inline bool name##_later(T a, T x) {                                                    \
        return (!MISSING(x)) & (MISSING(a) | BEFORE(x, a));                                        \
    }                                                                                              \
    static void name##_ident(void *acc) {                                                          \
        *(T *)acc = (IDENT);                                                                       \
    }                                                                                              \
    static void name##_vec(void *acc, uint32_t *ai, const void *v, size_t n, uint32_t j,           \
                           const uint32_t *rl) {                                                   \
        T *restrict A = acc;                                                                       \
        uint32_t *restrict I = ai;                                                                 \
        const T *restrict V = v;                                                                   \
        const uint32_t *restrict R = rl;                                                           \
        if (R)                                                                                     \
            IRED_VEC_LOOP(name, j < R[k])                                                          \
        else                                                                                       \
            IRED_VEC_LOOP(name, true)                                                              \
    }                                                                                              \
    static void name##_comb(void *acc, uint32_t *ai, const void *b, uint32_t bi) {                 \
        if (name##_take(*(T *)acc, *ai, *(const T *)b, bi)) *(T *)acc = *(const T *)b, *ai = bi;   \
    }

/* An index kernel whose fold runs in two passes over the values: the block's best value by the
 * vectorised fold of VALK (the op's plain kernel), then, only when it beats the accumulator, the
 * first index holding it. */
#define IRED_KERNEL(name, T, IDENT, MISSING, BEFORE, VALK)                                         \
    IRED_COMMON(name, T, IDENT, MISSING, BEFORE)                                                   \
    static void name##_fold(void *acc, uint32_t *ai, const void *v, size_t n, uint32_t j0) {       \
        const T *V = v;                                                                            \
        T m;                                                                                       \
        VALK.ident(&m);                                                                            \
        VALK.fold(&m, v, n);                                                                       \
        if (!name##_later(*(T *)acc, m)) return;                                                   \
        size_t k = 0;                                                                              \
        while (MISSING(V[k]) || BEFORE(V[k], m) || BEFORE(m, V[k]))                                \
            k++;                                                                                   \
        *(T *)acc = V[k];                                                                          \
        *ai = j0 + (uint32_t)k;                                                                    \
    }                                                                                              \
    static const ired_kernel name = {name##_ident, name##_fold, name##_vec, name##_comb};

/* Complex values compare by magnitude alone, which the plain kernels do not (they break ties by
 * parts): one pass, element by element. */
#define IRED_KERNEL_SCAN(name, T, IDENT, MISSING, BEFORE)                                          \
    IRED_COMMON(name, T, IDENT, MISSING, BEFORE)                                                   \
    static void name##_fold(void *acc, uint32_t *ai, const void *v, size_t n, uint32_t j0) {       \
        const T *V = v;                                                                            \
        T a = *(T *)acc;                                                                           \
        uint32_t i = *ai;                                                                          \
        for (size_t k = 0; k < n; k++)                                                             \
            if (name##_later(a, V[k])) a = V[k], i = j0 + (uint32_t)k;                             \
        *(T *)acc = a;                                                                             \
        *ai = i;                                                                                   \
    }                                                                                              \
    static const ired_kernel name = {name##_ident, name##_fold, name##_vec, name##_comb};

#define IR_NONE(x)     false
#define IR_NAN(x)      ((x) != (x))
#define IR_CNAN(x)     ((x).re != (x).re || (x).im != (x).im)
#define IR_LT(x, a)    ((x) < (a))
#define IR_GT(x, a)    ((x) > (a))
#define IR_CLT32(x, a) (hypotf((x).re, (x).im) < hypotf((a).re, (a).im))
#define IR_CGT32(x, a) (hypotf((x).re, (x).im) > hypotf((a).re, (a).im))
#define IR_CLT64(x, a) (hypot((x).re, (x).im) < hypot((a).re, (a).im))
#define IR_CGT64(x, a) (hypot((x).re, (x).im) > hypot((a).re, (a).im))
static const em_cf32 ir_cnan32 = {NAN, NAN};
static const em_cf64 ir_cnan64 = {NAN, NAN};

IRED_KERNEL(imin_f32, float, NAN, IR_NAN, IR_LT, min_f32)
IRED_KERNEL(imax_f32, float, NAN, IR_NAN, IR_GT, max_f32)
IRED_KERNEL(imin_f64, double, NAN, IR_NAN, IR_LT, min_f64)
IRED_KERNEL(imax_f64, double, NAN, IR_NAN, IR_GT, max_f64)
IRED_KERNEL_SCAN(imin_c32, em_cf32, ir_cnan32, IR_CNAN, IR_CLT32)
IRED_KERNEL_SCAN(imax_c32, em_cf32, ir_cnan32, IR_CNAN, IR_CGT32)
IRED_KERNEL_SCAN(imin_c64, em_cf64, ir_cnan64, IR_CNAN, IR_CLT64)
IRED_KERNEL_SCAN(imax_c64, em_cf64, ir_cnan64, IR_CNAN, IR_CGT64)
#define IRED_INT(t, T, LO, HI)                                                                     \
    IRED_KERNEL(imin_##t, T, HI, IR_NONE, IR_LT, min_##t)                                          \
    IRED_KERNEL(imax_##t, T, LO, IR_NONE, IR_GT, max_##t)
IRED_INT(s8, int8_t, INT8_MIN, INT8_MAX)
IRED_INT(u8, uint8_t, 0, UINT8_MAX)
IRED_INT(s16, int16_t, INT16_MIN, INT16_MAX)
IRED_INT(u16, uint16_t, 0, UINT16_MAX)
IRED_INT(s32, int32_t, INT32_MIN, INT32_MAX)
IRED_INT(u32, uint32_t, 0, UINT32_MAX)
IRED_INT(s64, int64_t, INT64_MIN, INT64_MAX)
IRED_INT(u64, uint64_t, 0, UINT64_MAX)

static const ired_kernel *ikernel_for(em_red_op op, af_dtype t) {
    bool m = op == EM_RED_MIN;
    if (op != EM_RED_MIN && op != EM_RED_MAX) return NULL;
    switch (t) {
    case f32:
    case f16:
        return m ? &imin_f32 : &imax_f32;
    case f64:
        return m ? &imin_f64 : &imax_f64;
    case c32:
        return m ? &imin_c32 : &imax_c32;
    case c64:
        return m ? &imin_c64 : &imax_c64;
    case b8:
    case u8:
        return m ? &imin_u8 : &imax_u8;
    case s8:
        return m ? &imin_s8 : &imax_s8;
    case s16:
        return m ? &imin_s16 : &imax_s16;
    case u16:
        return m ? &imin_u16 : &imax_u16;
    case s32:
        return m ? &imin_s32 : &imax_s32;
    case u32:
        return m ? &imin_u32 : &imax_u32;
    case s64:
        return m ? &imin_s64 : &imax_s64;
    case u64:
        return m ? &imin_u64 : &imax_u64;
    }
    return NULL;
}

/* The consumer of an index-carrying reduction (as red_visit, without wide rows): acc and ai, and
 * the ragged lengths rl (or NULL), one set of T per o, ostride elements apart. */
typedef struct {
    red_walk w;
    const ired_kernel *k;
    size_t bs;
    dim_t T, len;
    char *acc;
    uint32_t *ai;
    const uint32_t *rl;
    size_t ostride;
    bool fresh;
} ired_visit;

static void ired_seg(red_walk *w, const char *v, size_t m, size_t pw, dim_t r) {
    ired_visit *c = (ired_visit *)w;
    if (c->fresh) {
        fill_ident(c->k->ident, c->acc, (size_t)c->T, c->bs);
        for (dim_t i = 0; i < c->T; i++)
            c->ai[i] = EM_NO_INDEX;
        c->fresh = false;
    }
    dim_t j = r % c->len;
    if (c->T == 1) {
        if (c->rl && (dim_t)m > (dim_t)c->rl[0] - j) m = (dim_t)c->rl[0] > j ? c->rl[0] - j : 0;
        if (m > 0) c->k->fold(c->acc, c->ai, v, m, (uint32_t)j);
    } else {
        c->k->vec(c->acc + pw * c->bs, c->ai + pw, v, m, (uint32_t)j, c->rl ? c->rl + pw : NULL);
    }
}

static void ired_slabs(red_walk *w, const char *v, size_t ns) {
    ired_visit *c = (ired_visit *)w;
    size_t len = (size_t)c->len;
    const char *t = transpose(w->buf, v, ns, len, c->bs);
    fill_ident(c->k->ident, c->acc, ns, c->bs);
    for (size_t s = 0; s < ns; s++)
        c->ai[s] = EM_NO_INDEX;
    for (size_t j = 0; j < len; j++)
        c->k->vec(c->acc, c->ai, t + j * ns * c->bs, ns, (uint32_t)j, c->rl);
    c->acc += ns * c->ostride * c->bs;
    c->ai += ns * c->ostride;
    if (c->rl) c->rl += ns * c->ostride;
}

static void ired_oend(red_walk *w) {
    ired_visit *c = (ired_visit *)w;
    c->acc += c->ostride * c->bs;
    c->ai += c->ostride;
    if (c->rl) c->rl += c->ostride;
    c->fresh = true;
}

af_err em_cpu_ireduce(int dev, const em_jit_prog *in, int dim, em_red_op op, const uint32_t *rlen,
                      void *val, uint32_t *idx) {
    af_err err = AF_SUCCESS;
    em_cpu_block_eval *e = NULL;
    em_buf *accbuf = NULL, *partbuf = NULL;
    af_dtype t = (af_dtype)in->instr[in->out[0]].type;
    const ired_kernel *k = ikernel_for(op, t);
    if (!k) EM_FAIL(AF_ERR_NOT_SUPPORTED, "reduction %d of dtype %s", (int)op, em_dtype_name(t));
    if (in->elements <= 0) return AF_SUCCESS;
    size_t bs = em_cpu_block_size(t);
    red_shape s;
    shape_of(in, dim, bs, &s);
    dim_t nout = s.inner * s.outer;
    EM_TRY(em_cpu_block_eval_new(in, &e));
    char *acc = val;
    if (bs != em_dtype_size(t)) {
        EM_TRY(em_buf_alloc(dev, (size_t)nout * bs, &accbuf));
        acc = accbuf->ptr;
    }
    char *part = NULL;
    uint32_t *pidx = NULL;
    if (s.jchunks > 1) {
        EM_TRY(em_buf_alloc(dev, (size_t)(s.jchunks * nout) * (bs + 4), &partbuf));
        part = partbuf->ptr;
        pidx = (uint32_t *)(part + (size_t)(s.jchunks * nout) * bs);
    }
    dim_t ntasks = s.ngroup * s.ntile * s.jchunks;
    int failed = 0;
#pragma omp parallel if (in->elements > 32 * EM_CPU_BLOCK && ntasks > 1) reduction(| : failed)
    {
        char *scratch = em_cpu_block_scratch_new(e);
#pragma omp for schedule(dynamic, 1)
        for (dim_t task = 0; task < ntasks; task++) {
            if (!scratch) {
                failed = 1;
                continue;
            }
            dim_t o0, i0, r0, r1, jc;
            task_of(&s, task, &o0, &i0, &r0, &r1, &jc);
            size_t at = (size_t)(o0 * s.inner + i0);
            /* Field by field: an initializer would clear the walk's scratch too. */
            ired_visit c;
            c.w.seg = ired_seg, c.w.oend = ired_oend, c.w.slabs = ired_slabs, c.w.q = 1;
            c.k = k, c.bs = bs, c.len = s.len, c.ostride = (size_t)s.inner, c.fresh = true;
            c.T = s.inner - i0 < s.itile ? s.inner - i0 : s.itile;
            c.acc = part ? part + ((size_t)(jc * nout) + at) * bs : acc + at * bs;
            c.ai = part ? pidx + (size_t)(jc * nout) + at : idx + at;
            c.rl = rlen ? rlen + at : NULL;
            walk(e, scratch, bs, &s, r0, r1, i0, c.T, &c.w);
        }
        free(scratch);
    }
    if (failed) EM_FAIL(AF_ERR_NO_MEM, "out of host memory for evaluation scratch");
    if (part) {
#pragma omp parallel for if (nout > 4 * EM_CPU_BLOCK) schedule(static)
        for (dim_t i = 0; i < nout; i++) {
            char *a = acc + (size_t)i * bs;
            memcpy(a, part + (size_t)i * bs, bs);
            idx[i] = pidx[i];
            for (dim_t c = 1; c < s.jchunks; c++)
                k->comb(a, &idx[i], part + (size_t)(c * nout + i) * bs, pidx[c * nout + i]);
        }
    }
    for (dim_t i = 0; i < nout; i++)
        if (idx[i] == EM_NO_INDEX) idx[i] = 0;
    if (acc != (char *)val) {
        const float *f = (const float *)acc;
        uint16_t *h = val;
        for (dim_t i = 0; i < nout; i++)
            h[i] = em_float_to_half(f[i]);
    }
fail:
    if (partbuf) em_buf_release(partbuf);
    if (accbuf) em_buf_release(accbuf);
    em_cpu_block_eval_free(e);
    return err;
}

/* ---- runs of equal keys (the _by_key reductions) ---- */

af_err em_cpu_key_runs(int dev, const void *keys, af_dtype kt, dim_t n, void *okeys,
                       uint32_t *starts, dim_t *nruns) {
    (void)dev;
    if (kt != s32 && kt != u32)
        return em_err(AF_ERR_NOT_SUPPORTED, __func__, "keys of dtype %s", em_dtype_name(kt));
    /* Equality is all that matters, so both dtypes compare as 32-bit patterns. */
    const uint32_t *k = keys;
    uint32_t *ok = okeys;
    dim_t r = 0;
    for (dim_t i = 0; i < n; i++)
        if (i == 0 || k[i] != k[i - 1]) {
            ok[r] = k[i];
            starts[r++] = (uint32_t)i;
        }
    starts[r] = (uint32_t)n;
    *nruns = r;
    return AF_SUCCESS;
}

af_err em_cpu_reduce_runs(int dev, const em_jit_prog *in, int dim, em_red_op op,
                          const uint32_t *starts, dim_t nruns, void *out) {
    af_err err = AF_SUCCESS;
    em_cpu_block_eval *e = NULL;
    em_buf *accbuf = NULL;
    af_dtype t = (af_dtype)in->instr[in->out[0]].type;
    em_jit_prog view;
    const red_kernel *k = widening_sum(in, op, &view);
    const em_jit_prog *src = k ? &view : in;
    if (!k) k = kernel_for(op, t);
    if (!k) EM_FAIL(AF_ERR_NOT_SUPPORTED, "reduction %d of dtype %s", (int)op, em_dtype_name(t));
    if (in->elements <= 0 || nruns <= 0) return AF_SUCCESS;
    size_t bs = em_cpu_block_size(t);
    size_t vbs = em_cpu_block_size((af_dtype)src->instr[src->out[0]].type);
    red_shape s;
    shape_of(in, dim, bs, &s);
    dim_t nout = s.inner * nruns * s.outer;
    EM_TRY(em_cpu_block_eval_new(src, &e));
    char *acc = out;
    if (bs != em_dtype_size(t)) {
        EM_TRY(em_buf_alloc(dev, (size_t)nout * bs, &accbuf));
        acc = accbuf->ptr;
    }
    /* Tasks: (o, tile of i, group of consecutive runs), groups cut at run starts so that each
     * holds about an equal share of the elements along dim. */
    dim_t base = s.outer * s.ntile, want = 4 * (dim_t)omp_get_max_threads();
    dim_t groups = base >= want ? 1 : (want + base - 1) / base;
    if (groups > nruns) groups = nruns;
    dim_t ntasks = base * groups;
    int failed = 0;
#pragma omp parallel if (in->elements > 32 * EM_CPU_BLOCK && ntasks > 1) reduction(| : failed)
    {
        char *scratch = em_cpu_block_scratch_new(e);
#pragma omp for schedule(dynamic, 1)
        for (dim_t task = 0; task < ntasks; task++) {
            if (!scratch) {
                failed = 1;
                continue;
            }
            dim_t g = task % groups, b = task / groups;
            dim_t o = b / s.ntile, i0 = (b % s.ntile) * s.itile;
            dim_t T = s.inner - i0 < s.itile ? s.inner - i0 : s.itile;
            /* The group's runs: those starting in [len * g / groups, len * (g + 1) / groups). */
            dim_t lo = s.len * g / groups, hi = s.len * (g + 1) / groups;
            dim_t r0 = 0, r1 = 0, a = 0, z = nruns;
            while (a < z) { /* first run starting at or after lo */
                dim_t m = (a + z) / 2;
                if ((dim_t)starts[m] < lo)
                    a = m + 1;
                else
                    z = m;
            }
            r0 = a, z = nruns;
            while (a < z) { /* first run starting at or after hi */
                dim_t m = (a + z) / 2;
                if ((dim_t)starts[m] < hi)
                    a = m + 1;
                else
                    z = m;
            }
            r1 = a;
            if (s.inner == 1) {
                /* Contiguous runs: the group's elements in blocks, each block folded run by run,
                 * so short runs cost no evaluation of their own. */
                if (r0 >= r1) continue;
                dim_t j = starts[r0], jend = starts[r1], r = r0;
                char *dst = acc + (size_t)(r + nruns * o) * bs;
                k->ident(dst);
                while (j < jend) {
                    size_t n = (size_t)(jend - j < EM_CPU_BLOCK ? jend - j : EM_CPU_BLOCK);
                    const char *v = em_cpu_block_eval_run(e, scratch, o * s.len + j, n);
                    size_t q = 0;
                    while (q < n) {
                        dim_t end = starts[r + 1];
                        size_t m = (size_t)(end - (j + (dim_t)q));
                        if (m > n - q) m = n - q;
                        k->fold(dst, v + q * vbs, m);
                        q += m;
                        if (j + (dim_t)q == end && ++r < r1) {
                            dst = acc + (size_t)(r + nruns * o) * bs;
                            k->ident(dst);
                        }
                    }
                    j += (dim_t)n;
                }
            } else {
                for (dim_t r = r0; r < r1; r++)
                    run_task(e, scratch, k, vbs, bs, &s, starts[r] + s.len * o,
                             starts[r + 1] + s.len * o, i0, T,
                             acc + (size_t)(i0 + s.inner * (r + nruns * o)) * bs, 0);
            }
        }
        free(scratch);
    }
    if (failed) EM_FAIL(AF_ERR_NO_MEM, "out of host memory for evaluation scratch");
    if (acc != (char *)out) {
        const float *f = (const float *)acc;
        uint16_t *h = out;
        for (dim_t i = 0; i < nout; i++)
            h[i] = em_float_to_half(f[i]);
    }
fail:
    if (accbuf) em_buf_release(accbuf);
    em_cpu_block_eval_free(e);
    return err;
}
