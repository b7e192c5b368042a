/* Reductions on the CPU (algorithm.h, "Reductions"). The input is a JIT program; the block
 * evaluator (cpu.h) computes its output 0 one block of at most EM_CPU_BLOCK elements at a time,
 * and each block is folded into its accumulators while it is in cache, so an expression is never
 * written to memory.
 *
 * A reduction along dim views the input as in[i + inner * (j + len * o)], with inner the product
 * of the dims below dim, len = dims[dim] and outer the product of those above, and computes
 * out[i + inner * o] over j. Reducing everything is inner = 1, len = elements, outer = 1. Work is
 * split into tasks (o, tile of i, chunk of j), each of which writes its own accumulators, so
 * threads never share an output; a chunked j range (few, long reductions) leaves one partial per
 * chunk, combined in chunk order at the end. Three shapes of task:
 *  - inner == 1: the values are contiguous; each block folds into one accumulator;
 *  - inner <= EM_CPU_BLOCK: a block holds whole rows of inner values, each added element-wise
 *    into the inner accumulators;
 *  - otherwise: tiles of EM_CPU_BLOCK accumulators, one block per j (reads stay contiguous within
 *    the tile). */
#include "cpu.h"

#include "../../core/err.h"
#include "../../core/mem.h"

#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- per-op kernels on block-representation values ---- */

/* Folding a block into one accumulator uses this many independent lanes, so the loop over a
 * block vectorises without reassociating a single chain (which the compiler may not do for
 * floating point). */
#define LANES 16

typedef struct {
    void (*ident)(void *acc);                         /* acc = the op's identity */
    void (*fold)(void *acc, const void *v, size_t n); /* acc = op(acc, v[0..n)) */
    void (*vec)(void *acc, const void *v, size_t n);  /* acc[k] = op(acc[k], v[k]) */
    void (*comb)(void *acc, const void *b);           /* acc = op(acc, b) */
} red_kernel;

/* A kernel from a combine expression COMB over the accumulated value `a` and the new value `x`
 * (both of type T), and the identity IDENT. */
#define RED_KERNEL(name, T, IDENT, COMB)                                                           \
    static void name##_ident(void *acc) {                                                          \
        *(T *)acc = (IDENT);                                                                       \
    }                                                                                              \
    static inline T name##_op(T a, T x) {                                                          \
        return (COMB);                                                                             \
    }                                                                                              \
    static void name##_comb(void *acc, const void *b) {                                            \
        *(T *)acc = name##_op(*(T *)acc, *(const T *)b);                                           \
    }                                                                                              \
    static void name##_vec(void *restrict acc, const void *restrict v, size_t n) {                 \
        T *restrict A = acc;                                                                       \
        const T *restrict V = v;                                                                   \
        for (size_t k = 0; k < n; k++)                                                             \
            A[k] = name##_op(A[k], V[k]);                                                          \
    }                                                                                              \
    static void name##_fold(void *acc, const void *v, size_t n) {                                  \
        const T *V = v;                                                                            \
        T l[LANES];                                                                                \
        for (int k = 0; k < LANES; k++)                                                            \
            l[k] = (IDENT);                                                                        \
        size_t i = 0;                                                                              \
        for (; i + LANES <= n; i += LANES)                                                         \
            for (int k = 0; k < LANES; k++)                                                        \
                l[k] = name##_op(l[k], V[i + k]);                                                  \
        T r = *(T *)acc;                                                                           \
        for (int k = 0; k < LANES; k++)                                                            \
            r = name##_op(r, l[k]);                                                                \
        for (; i < n; i++)                                                                         \
            r = name##_op(r, V[i]);                                                                \
        *(T *)acc = r;                                                                             \
    }                                                                                              \
    static const red_kernel name                                                                   \
        __attribute__((unused)) = {name##_ident, name##_fold, name##_vec, name##_comb};

/* Integer sums and products wrap: they run on the unsigned type of the same width, which has the
 * same bits as the signed result. */
RED_KERNEL(sum_f32, float, 0.0f, a + x)
RED_KERNEL(sum_f64, double, 0.0, a + x)
RED_KERNEL(sum_u32, uint32_t, 0u, a + x)
RED_KERNEL(sum_u64, uint64_t, 0u, a + x)
RED_KERNEL(prod_f32, float, 1.0f, a *x)
RED_KERNEL(prod_f64, double, 1.0, a *x)
RED_KERNEL(prod_u32, uint32_t, 1u, a *x)
RED_KERNEL(prod_u64, uint64_t, 1u, a *x)

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
    static const red_kernel name = {name##_s_ident, name##_fold, name##_s_vec, name##_s_comb};
RED_FMINMAX(min_f32, float, int32_t, <)
RED_FMINMAX(min_f64, double, int64_t, <)
RED_FMINMAX(max_f32, float, int32_t, >)
RED_FMINMAX(max_f64, double, int64_t, >)
#define RED_INT_MINMAX(t, T, LO, HI)                                                               \
    RED_KERNEL(min_##t, T, HI, x < a ? x : a)                                                      \
    RED_KERNEL(max_##t, T, LO, x > a ? x : a)
RED_INT_MINMAX(s8, int8_t, INT8_MIN, INT8_MAX)
RED_INT_MINMAX(u8, uint8_t, 0, UINT8_MAX)
RED_INT_MINMAX(s16, int16_t, INT16_MIN, INT16_MAX)
RED_INT_MINMAX(u16, uint16_t, 0, UINT16_MAX)
RED_INT_MINMAX(s32, int32_t, INT32_MIN, INT32_MAX)
RED_INT_MINMAX(u32, uint32_t, 0, UINT32_MAX)
RED_INT_MINMAX(s64, int64_t, INT64_MIN, INT64_MAX)
RED_INT_MINMAX(u64, uint64_t, 0, UINT64_MAX)
/* b8 holds 0 or 1. */
RED_KERNEL(and_b8, uint8_t, 1, a &x)
RED_KERNEL(or_b8, uint8_t, 0, a | x)

/* Complex sums are two real sums over interleaved parts; the kernels fold 2n reals and split the
 * lanes into even (real) and odd (imaginary) ones. */
#define RED_CSUM(name, C, R)                                                                       \
    static void name##_ident(void *acc) {                                                          \
        ((R *)acc)[0] = 0;                                                                         \
        ((R *)acc)[1] = 0;                                                                         \
    }                                                                                              \
    static void name##_comb(void *acc, const void *b) {                                            \
        ((R *)acc)[0] += ((const R *)b)[0];                                                        \
        ((R *)acc)[1] += ((const R *)b)[1];                                                        \
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
    static const red_kernel name = {name##_ident, name##_fold, name##_vec, name##_comb};
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
    static void name##_comb(void *acc, const void *b) {                                            \
        *(C *)acc = name##_op(*(C *)acc, *(const C *)b);                                           \
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
    static const red_kernel name = {name##_ident, name##_fold, name##_vec, name##_comb};

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

/* ---- the driver ---- */

/* The reduction's geometry (see the file comment) and its split into tasks. */
typedef struct {
    dim_t inner, len, outer;
    dim_t itile, ntile; /* tiles of i: ntile tiles of itile (the last may be shorter) */
    dim_t jchunks;      /* chunks of j per (o, tile) */
} red_shape;

static void shape_of(const em_jit_prog *p, int dim, red_shape *s) {
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
    s->itile = s->inner <= EM_CPU_BLOCK ? s->inner : EM_CPU_BLOCK;
    s->ntile = (s->inner + s->itile - 1) / s->itile;
    /* Enough tasks to keep every thread busy: few, long reductions split their j range into
     * chunks of at least eight blocks' worth of elements. */
    dim_t base = s->outer * s->ntile, want = 4 * (dim_t)omp_get_max_threads();
    s->jchunks = 1;
    if (base < want) {
        dim_t by_work = s->len * s->itile / (8 * EM_CPU_BLOCK);
        dim_t c = (want + base - 1) / base;
        if (c > by_work) c = by_work;
        if (c > s->len) c = s->len;
        if (c > 1) s->jchunks = c;
    }
}

/* One task: the accumulators acc[0..T) (element size bs) of outputs i0 + inner * o, over j in
 * [j0, j1). */
static void run_task(const em_cpu_block_eval *e, char *scratch, const red_kernel *k, size_t bs,
                     const red_shape *s, dim_t o, dim_t i0, dim_t T, dim_t j0, dim_t j1,
                     char *acc) {
    for (dim_t i = 0; i < T; i++)
        k->ident(acc + (size_t)i * bs);
    if (s->inner == 1) {
        dim_t start = o * s->len + j0, end = o * s->len + j1;
        while (start < end) {
            size_t n = (size_t)(end - start < EM_CPU_BLOCK ? end - start : EM_CPU_BLOCK);
            k->fold(acc, em_cpu_block_eval_run(e, scratch, start, n), n);
            start += (dim_t)n;
        }
    } else if (s->ntile == 1) {
        /* Whole rows of inner values per block. */
        dim_t rows = EM_CPU_BLOCK / s->inner;
        if (rows < 1) rows = 1;
        for (dim_t j = j0; j < j1; j += rows) {
            dim_t m = j1 - j < rows ? j1 - j : rows;
            const char *v =
                em_cpu_block_eval_run(e, scratch, s->inner * (j + s->len * o), (size_t)(m * T));
            for (dim_t r = 0; r < m; r++)
                k->vec(acc, v + (size_t)(r * T) * bs, (size_t)T);
        }
    } else {
        for (dim_t j = j0; j < j1; j++)
            k->vec(acc, em_cpu_block_eval_run(e, scratch, i0 + s->inner * (j + s->len * o), T),
                   (size_t)T);
    }
}

af_err em_cpu_reduce(int dev, const em_jit_prog *in, int dim, em_red_op op, void *out) {
    af_err err = AF_SUCCESS;
    em_cpu_block_eval *e = NULL;
    em_buf *accbuf = NULL, *partbuf = NULL;
    af_dtype t = (af_dtype)in->instr[in->out[0]].type;
    const red_kernel *k = kernel_for(op, t);
    if (!k) EM_FAIL(AF_ERR_NOT_SUPPORTED, "reduction %d of dtype %s", (int)op, em_dtype_name(t));
    if (in->elements <= 0) return AF_SUCCESS;
    red_shape s;
    shape_of(in, dim, &s);
    size_t bs = em_cpu_block_size(t);
    dim_t nout = s.inner * s.outer;
    EM_TRY(em_cpu_block_eval_new(in, &e));
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
    dim_t ntasks = s.outer * s.ntile * s.jchunks;
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
            dim_t jc = task % s.jchunks, b = task / s.jchunks;
            dim_t o = b / s.ntile, i0 = (b % s.ntile) * s.itile;
            dim_t T = s.inner - i0 < s.itile ? s.inner - i0 : s.itile;
            dim_t j0 = s.len * jc / s.jchunks, j1 = s.len * (jc + 1) / s.jchunks;
            char *dst =
                (part ? part + (size_t)(jc * nout) * bs : acc) + (size_t)(o * s.inner + i0) * bs;
            run_task(e, scratch, k, bs, &s, o, i0, T, j0, j1, dst);
        }
        free(scratch);
    }
    if (failed) EM_FAIL(AF_ERR_NO_MEM, "out of host memory for evaluation scratch");
    if (part) {
        /* Chunk partials in chunk order, so the result does not depend on the schedule. */
#pragma omp parallel for if (nout > 4 * EM_CPU_BLOCK) schedule(static)
        for (dim_t i = 0; i < nout; i++) {
            char *a = acc + (size_t)i * bs;
            memcpy(a, part + (size_t)i * bs, bs);
            for (dim_t c = 1; c < s.jchunks; c++)
                k->comb(a, part + (size_t)(c * nout + i) * bs);
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
    /* acc, *ai = op over (v[k], j0 + k) for k < n. */
    void (*fold)(void *acc, uint32_t *ai, const void *v, size_t n, uint32_t j0);
    /* acc[k], ai[k] = op with (v[k], j) for k < n, skipping k where rl && j >= rl[k]. */
    void (*vec)(void *acc, uint32_t *ai, const void *v, size_t n, uint32_t j, const uint32_t *rl);
    void (*comb)(void *acc, uint32_t *ai, const void *b, uint32_t bi);
} ired_kernel;

/* MISSING(x): x is ignored; BEFORE(x, a): x orders strictly before a (both present). */
#define IRED_KERNEL(name, T, IDENT, MISSING, BEFORE)                                               \
    static inline bool name##_take(T a, uint32_t ai, T x, uint32_t xi) {                           \
        if (MISSING(x)) return false;                                                              \
        if (MISSING(a)) return true;                                                               \
        if (BEFORE(x, a)) return true;                                                             \
        if (BEFORE(a, x)) return false;                                                            \
        return xi < ai;                                                                            \
    }                                                                                              \
    static void name##_ident(void *acc) {                                                          \
        *(T *)acc = (IDENT);                                                                       \
    }                                                                                              \
    static void name##_fold(void *acc, uint32_t *ai, const void *v, size_t n, uint32_t j0) {       \
        const T *V = v;                                                                            \
        T a = *(T *)acc;                                                                           \
        uint32_t i = *ai;                                                                          \
        for (size_t k = 0; k < n; k++)                                                             \
            if (name##_take(a, i, V[k], j0 + (uint32_t)k)) a = V[k], i = j0 + (uint32_t)k;         \
        *(T *)acc = a;                                                                             \
        *ai = i;                                                                                   \
    }                                                                                              \
    static void name##_vec(void *acc, uint32_t *ai, const void *v, size_t n, uint32_t j,           \
                           const uint32_t *rl) {                                                   \
        T *A = acc;                                                                                \
        const T *V = v;                                                                            \
        for (size_t k = 0; k < n; k++)                                                             \
            if ((!rl || j < rl[k]) && name##_take(A[k], ai[k], V[k], j)) A[k] = V[k], ai[k] = j;   \
    }                                                                                              \
    static void name##_comb(void *acc, uint32_t *ai, const void *b, uint32_t bi) {                 \
        if (name##_take(*(T *)acc, *ai, *(const T *)b, bi)) *(T *)acc = *(const T *)b, *ai = bi;   \
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

IRED_KERNEL(imin_f32, float, NAN, IR_NAN, IR_LT)
IRED_KERNEL(imax_f32, float, NAN, IR_NAN, IR_GT)
IRED_KERNEL(imin_f64, double, NAN, IR_NAN, IR_LT)
IRED_KERNEL(imax_f64, double, NAN, IR_NAN, IR_GT)
IRED_KERNEL(imin_c32, em_cf32, ir_cnan32, IR_CNAN, IR_CLT32)
IRED_KERNEL(imax_c32, em_cf32, ir_cnan32, IR_CNAN, IR_CGT32)
IRED_KERNEL(imin_c64, em_cf64, ir_cnan64, IR_CNAN, IR_CLT64)
IRED_KERNEL(imax_c64, em_cf64, ir_cnan64, IR_CNAN, IR_CGT64)
#define IRED_INT(t, T, LO, HI)                                                                     \
    IRED_KERNEL(imin_##t, T, HI, IR_NONE, IR_LT)                                                   \
    IRED_KERNEL(imax_##t, T, LO, IR_NONE, IR_GT)
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

/* One task of an index-carrying reduction (as run_task); rl: NULL, or the ragged lengths of the
 * task's T outputs. */
static void run_itask(const em_cpu_block_eval *e, char *scratch, const ired_kernel *k, size_t bs,
                      const red_shape *s, dim_t o, dim_t i0, dim_t T, dim_t j0, dim_t j1,
                      const uint32_t *rl, char *acc, uint32_t *ai) {
    for (dim_t i = 0; i < T; i++) {
        k->ident(acc + (size_t)i * bs);
        ai[i] = EM_NO_INDEX;
    }
    if (s->inner == 1) {
        if (rl && (dim_t)rl[0] < j1) j1 = (dim_t)rl[0];
        for (dim_t j = j0; j < j1;) {
            size_t n = (size_t)(j1 - j < EM_CPU_BLOCK ? j1 - j : EM_CPU_BLOCK);
            k->fold(acc, ai, em_cpu_block_eval_run(e, scratch, o * s->len + j, n), n, (uint32_t)j);
            j += (dim_t)n;
        }
    } else {
        for (dim_t j = j0; j < j1; j++)
            k->vec(acc, ai,
                   em_cpu_block_eval_run(e, scratch, i0 + s->inner * (j + s->len * o), (size_t)T),
                   (size_t)T, (uint32_t)j, rl);
    }
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
    red_shape s;
    shape_of(in, dim, &s);
    size_t bs = em_cpu_block_size(t);
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
    dim_t ntasks = s.outer * s.ntile * s.jchunks;
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
            dim_t jc = task % s.jchunks, b = task / s.jchunks;
            dim_t o = b / s.ntile, i0 = (b % s.ntile) * s.itile;
            dim_t T = s.inner - i0 < s.itile ? s.inner - i0 : s.itile;
            dim_t j0 = s.len * jc / s.jchunks, j1 = s.len * (jc + 1) / s.jchunks;
            size_t at = (size_t)(o * s.inner + i0);
            char *dst = part ? part + ((size_t)(jc * nout) + at) * bs : acc + at * bs;
            uint32_t *di = part ? pidx + (size_t)(jc * nout) + at : idx + at;
            run_itask(e, scratch, k, bs, &s, o, i0, T, j0, j1, rlen ? rlen + at : NULL, dst, di);
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
    const red_kernel *k = kernel_for(op, t);
    if (!k) EM_FAIL(AF_ERR_NOT_SUPPORTED, "reduction %d of dtype %s", (int)op, em_dtype_name(t));
    if (in->elements <= 0 || nruns <= 0) return AF_SUCCESS;
    red_shape s;
    shape_of(in, dim, &s);
    size_t bs = em_cpu_block_size(t);
    dim_t nout = s.inner * nruns * s.outer;
    EM_TRY(em_cpu_block_eval_new(in, &e));
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
                        k->fold(dst, v + q * bs, m);
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
                    run_task(e, scratch, k, bs, &s, o, i0, T, starts[r], starts[r + 1],
                             acc + (size_t)(i0 + s.inner * (r + nruns * o)) * bs);
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
