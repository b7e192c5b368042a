/* Scans and where on the CPU (algorithm.h, "Scans, where, diff"). The input is a JIT program; the
 * block evaluator (cpu.h) computes its output 0 one block of at most EM_CPU_BLOCK elements at a
 * time, and each block is scanned while it is in cache, so an expression is never written to
 * memory.
 *
 * A scan along dim views the input as in[i + inner * (j + len * o)], with inner the product of
 * the dims below dim, len = dims[dim] and outer the product of those above, and scans over j for
 * every (i, o). Work is split into tasks (o, tile of i, segment of j). Two shapes of task:
 *  - inner == 1: each line is contiguous; a block is a run of one line, scanned by
 *    `run`, which keeps eight independent chains over the block's eighths and then adds each
 *    chain's carry into the next (the loop-carried dependency of a plain scan costs a full add
 *    latency per element; the carries cost one vectorised pass over a block in L1);
 *  - inner > 1: a block holds whole steps j of a tile of i (several steps when inner is small),
 *    and each step is one vectorised operation of the tile's accumulators with the step's values.
 * Few, long lines split j into segments and run in two passes: the first reduces every segment
 * but the last, the segments' aggregates are combined in order into each segment's carry, and the
 * second scans each segment from its carry. The input is computed twice then, the output written
 * once.
 *
 * By key, a head flag marks each element whose key differs from the previous one along dim (and
 * the first of each line); the scan restarts at heads, and a segment's aggregate remembers
 * whether it holds a head, so that the carry into the next segment restarts there. */
#include "cpu.h"

#include "../../core/err.h"
#include "../../core/mem.h"

#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- per-dtype, per-op kernels ---- */

typedef struct {
    /* x (n values of one line) scanned into out from the carry *acc, which is left at the block's
     * end. */
    void (*run)(const void *x, void *out, size_t n, void *acc, int excl);
    /* *acc = op(*acc, x[0..n)). */
    void (*fold)(const void *x, size_t n, void *acc);
    /* One step of w lines: out[c] from acc[c] and x[c]; acc[c] = op(acc[c], x[c]). */
    void (*step)(const void *x, void *out, void *acc, size_t w, int excl);
    /* acc[c] = op(acc[c], x[c]). */
    void (*fold_step)(const void *x, void *acc, size_t w);
    /* The same with head flags h: a head restarts its line's accumulator (and *any / any[c]
     * records that the aggregate holds one). */
    void (*run_h)(const void *x, const uint8_t *h, void *out, size_t n, void *acc, int excl);
    void (*fold_h)(const void *x, const uint8_t *h, size_t n, void *acc, uint8_t *any);
    void (*step_h)(const void *x, const uint8_t *h, void *out, void *acc, size_t w, int excl);
    void (*fold_step_h)(const void *x, const uint8_t *h, void *acc, uint8_t *any, size_t w);
    /* *acc = op(*acc, *b); n identities; n exclusive-scan initial values. */
    void (*comb)(void *acc, const void *b);
    void (*ident)(void *v, size_t n);
    void (*init)(void *v, size_t n);
} scan_kernel;

/* Eight chains per block in `run` (see the file comment); blocks shorter than this many elements
 * per chain run as one chain. */
#define CHAINS    8
#define CHAIN_MIN 8

/* A kernel from the op OP(a, x) over the accumulated value a and the new value x, its identity
 * IDENT and the exclusive scan's initial value INIT. */
#define SCAN_KERNEL(name, T, IDENT, INIT, OP)                                                      \
    static inline T name##_op(T a, T x) {                                                          \
        return (OP);                                                                               \
    }                                                                                              \
    static inline T name##_id(void) {                                                              \
        return (IDENT);                                                                            \
    }                                                                                              \
    static inline T name##_in(void) {                                                              \
        return (INIT);                                                                             \
    }                                                                                              \
    static void name##_run(const void *xv, void *ov, size_t n, void *accv, int excl) {             \
        const T *restrict x = xv;                                                                  \
        T *restrict out = ov;                                                                      \
        T run = *(T *)accv;                                                                        \
        size_t L = n / CHAINS >= CHAIN_MIN ? n / CHAINS : 0;                                       \
        if (L) {                                                                                   \
            T c[CHAINS];                                                                           \
            for (int k = 0; k < CHAINS; k++)                                                       \
                c[k] = name##_id();                                                                \
            if (excl) {                                                                            \
                for (size_t j = 0; j < L; j++) {                                                   \
                    _Pragma("GCC unroll 8") for (int k = 0; k < CHAINS; k++) {                     \
                        T v = x[k * L + j];                                                        \
                        out[k * L + j] = c[k];                                                     \
                        c[k] = name##_op(c[k], v);                                                 \
                    }                                                                              \
                }                                                                                  \
            } else {                                                                               \
                for (size_t j = 0; j < L; j++) {                                                   \
                    _Pragma("GCC unroll 8") for (int k = 0; k < CHAINS; k++) {                     \
                        c[k] = name##_op(c[k], x[k * L + j]);                                      \
                        out[k * L + j] = c[k];                                                     \
                    }                                                                              \
                }                                                                                  \
            }                                                                                      \
            /* Each chain's values combine with everything before the chain. */                    \
            for (int k = 0; k < CHAINS; k++) {                                                     \
                T *o = out + k * L;                                                                \
                for (size_t j = 0; j < L; j++)                                                     \
                    o[j] = name##_op(run, o[j]);                                                   \
                run = name##_op(run, c[k]);                                                        \
            }                                                                                      \
        }                                                                                          \
        for (size_t i = CHAINS * L; i < n; i++) {                                                  \
            T v = x[i];                                                                            \
            if (excl) out[i] = run;                                                                \
            run = name##_op(run, v);                                                               \
            if (!excl) out[i] = run;                                                               \
        }                                                                                          \
        *(T *)accv = run;                                                                          \
    }                                                                                              \
    static void name##_fold(const void *xv, size_t n, void *accv) {                                \
        const T *x = xv;                                                                           \
        T l[CHAINS];                                                                               \
        for (int k = 0; k < CHAINS; k++)                                                           \
            l[k] = name##_id();                                                                    \
        size_t i = 0;                                                                              \
        for (; i + CHAINS <= n; i += CHAINS)                                                       \
            for (int k = 0; k < CHAINS; k++)                                                       \
                l[k] = name##_op(l[k], x[i + k]);                                                  \
        T r = *(T *)accv;                                                                          \
        for (int k = 0; k < CHAINS; k++)                                                           \
            r = name##_op(r, l[k]);                                                                \
        for (; i < n; i++)                                                                         \
            r = name##_op(r, x[i]);                                                                \
        *(T *)accv = r;                                                                            \
    }                                                                                              \
    static void name##_step(const void *xv, void *ov, void *accv, size_t w, int excl) {            \
        const T *restrict x = xv;                                                                  \
        T *restrict out = ov, *restrict acc = accv;                                                \
        if (excl) {                                                                                \
            for (size_t c = 0; c < w; c++) {                                                       \
                out[c] = acc[c];                                                                   \
                acc[c] = name##_op(acc[c], x[c]);                                                  \
            }                                                                                      \
        } else {                                                                                   \
            for (size_t c = 0; c < w; c++) {                                                       \
                acc[c] = name##_op(acc[c], x[c]);                                                  \
                out[c] = acc[c];                                                                   \
            }                                                                                      \
        }                                                                                          \
    }                                                                                              \
    static void name##_fold_step(const void *xv, void *accv, size_t w) {                           \
        const T *restrict x = xv;                                                                  \
        T *restrict acc = accv;                                                                    \
        for (size_t c = 0; c < w; c++)                                                             \
            acc[c] = name##_op(acc[c], x[c]);                                                      \
    }                                                                                              \
    static void name##_run_h(const void *xv, const uint8_t *h, void *ov, size_t n, void *accv,     \
                             int excl) {                                                           \
        const T *x = xv;                                                                           \
        T *out = ov;                                                                               \
        T a = *(T *)accv;                                                                          \
        for (size_t i = 0; i < n; i++) {                                                           \
            if (h[i]) a = name##_id();                                                             \
            if (excl) out[i] = h[i] ? name##_in() : a;                                             \
            a = name##_op(a, x[i]);                                                                \
            if (!excl) out[i] = a;                                                                 \
        }                                                                                          \
        *(T *)accv = a;                                                                            \
    }                                                                                              \
    static void name##_fold_h(const void *xv, const uint8_t *h, size_t n, void *accv,              \
                              uint8_t *any) {                                                      \
        const T *x = xv;                                                                           \
        T a = *(T *)accv;                                                                          \
        for (size_t i = 0; i < n; i++) {                                                           \
            if (h[i]) a = name##_id(), *any = 1;                                                   \
            a = name##_op(a, x[i]);                                                                \
        }                                                                                          \
        *(T *)accv = a;                                                                            \
    }                                                                                              \
    static void name##_step_h(const void *xv, const uint8_t *h, void *ov, void *accv, size_t w,    \
                              int excl) {                                                          \
        const T *x = xv;                                                                           \
        T *out = ov, *acc = accv;                                                                  \
        for (size_t c = 0; c < w; c++) {                                                           \
            T a = h[c] ? name##_id() : acc[c];                                                     \
            if (excl) out[c] = h[c] ? name##_in() : a;                                             \
            a = name##_op(a, x[c]);                                                                \
            if (!excl) out[c] = a;                                                                 \
            acc[c] = a;                                                                            \
        }                                                                                          \
    }                                                                                              \
    static void name##_fold_step_h(const void *xv, const uint8_t *h, void *accv, uint8_t *any,     \
                                   size_t w) {                                                     \
        const T *x = xv;                                                                           \
        T *acc = accv;                                                                             \
        for (size_t c = 0; c < w; c++) {                                                           \
            if (h[c]) acc[c] = name##_id(), any[c] = 1;                                            \
            acc[c] = name##_op(acc[c], x[c]);                                                      \
        }                                                                                          \
    }                                                                                              \
    static void name##_comb(void *acc, const void *b) {                                            \
        *(T *)acc = name##_op(*(T *)acc, *(const T *)b);                                           \
    }                                                                                              \
    static void name##_ident(void *v, size_t n) {                                                  \
        for (size_t i = 0; i < n; i++)                                                             \
            ((T *)v)[i] = name##_id();                                                             \
    }                                                                                              \
    static void name##_init(void *v, size_t n) {                                                   \
        for (size_t i = 0; i < n; i++)                                                             \
            ((T *)v)[i] = name##_in();                                                             \
    }                                                                                              \
    static const scan_kernel name = {                                                              \
        name##_run,   name##_fold,   name##_step,   name##_fold_step,                              \
        name##_run_h, name##_fold_h, name##_step_h, name##_fold_step_h,                            \
        name##_comb,  name##_ident,  name##_init};

/* Integer sums and products wrap: they run on the unsigned type of the same width, which has the
 * same bits as the signed result. */
SCAN_KERNEL(add_f32, float, 0.0f, 0.0f, a + x)
SCAN_KERNEL(add_f64, double, 0.0, 0.0, a + x)
SCAN_KERNEL(add_u32, uint32_t, 0u, 0u, a + x)
SCAN_KERNEL(add_u64, uint64_t, 0u, 0u, a + x)
SCAN_KERNEL(mul_f32, float, 1.0f, 1.0f, a *x)
SCAN_KERNEL(mul_f64, double, 1.0, 1.0, a *x)
SCAN_KERNEL(mul_u32, uint32_t, 1u, 1u, a *x)
SCAN_KERNEL(mul_u64, uint64_t, 1u, 1u, a *x)

/* Floating min and max ignore NaN, as the reductions do: NaN is the identity, and a NaN
 * accumulator takes any value; the exclusive scan starts from ArrayFire's +-inf. */
SCAN_KERNEL(min_f32, float, NAN, INFINITY, (x < a || a != a) ? x : a)
SCAN_KERNEL(min_f64, double, NAN, INFINITY, (x < a || a != a) ? x : a)
SCAN_KERNEL(max_f32, float, NAN, -INFINITY, (x > a || a != a) ? x : a)
SCAN_KERNEL(max_f64, double, NAN, -INFINITY, (x > a || a != a) ? x : a)
SCAN_KERNEL(min_s32, int32_t, INT32_MAX, INT32_MAX, x < a ? x : a)
SCAN_KERNEL(max_s32, int32_t, INT32_MIN, INT32_MIN, x > a ? x : a)
SCAN_KERNEL(min_u32, uint32_t, UINT32_MAX, UINT32_MAX, x < a ? x : a)
SCAN_KERNEL(max_u32, uint32_t, 0u, 0u, x > a ? x : a)
SCAN_KERNEL(min_s64, int64_t, INT64_MAX, INT64_MAX, x < a ? x : a)
SCAN_KERNEL(max_s64, int64_t, INT64_MIN, INT64_MIN, x > a ? x : a)
SCAN_KERNEL(min_u64, uint64_t, UINT64_MAX, UINT64_MAX, x < a ? x : a)
SCAN_KERNEL(max_u64, uint64_t, 0u, 0u, x > a ? x : a)

/* Complex ops as functions, so that SCAN_KERNEL's expressions stay single expressions. Products
 * round each step as the element-wise MUL does (docs/JIT_OPS.md). Min and max compare magnitudes
 * (hypot), then real parts, then imaginary parts, as the reductions do; a value with a NaN part
 * is ignored. */
#define CPLX_OPS(S, C, R, HYPOT)                                                                   \
    static inline C S##_mk(R re, R im) {                                                           \
        C r = {re, im};                                                                            \
        return r;                                                                                  \
    }                                                                                              \
    static inline C S##_add(C a, C x) {                                                            \
        return S##_mk(a.re + x.re, a.im + x.im);                                                   \
    }                                                                                              \
    static inline C S##_mul(C a, C x) {                                                            \
        return S##_mk(a.re * x.re - a.im * x.im, a.re * x.im + a.im * x.re);                       \
    }                                                                                              \
    /* x replaces a when a is missing (NaN part), or x is present and orders before a. */          \
    static inline C S##_minmax(C a, C x, int max) {                                                \
        if (x.re != x.re || x.im != x.im) return a;                                                \
        if (a.re != a.re || a.im != a.im) return x;                                                \
        R ma = HYPOT(a.re, a.im), mx = HYPOT(x.re, x.im);                                          \
        if (mx != ma) return (max ? mx > ma : mx < ma) ? x : a;                                    \
        if (x.re != a.re) return (max ? x.re > a.re : x.re < a.re) ? x : a;                        \
        return (max ? x.im > a.im : x.im < a.im) ? x : a;                                          \
    }
CPLX_OPS(c32, em_cf32, float, hypotf)
CPLX_OPS(c64, em_cf64, double, hypot)

SCAN_KERNEL(add_c32, em_cf32, c32_mk(0, 0), c32_mk(0, 0), c32_add(a, x))
SCAN_KERNEL(add_c64, em_cf64, c64_mk(0, 0), c64_mk(0, 0), c64_add(a, x))
SCAN_KERNEL(mul_c32, em_cf32, c32_mk(1, 0), c32_mk(1, 0), c32_mul(a, x))
SCAN_KERNEL(mul_c64, em_cf64, c64_mk(1, 0), c64_mk(1, 0), c64_mul(a, x))
SCAN_KERNEL(min_c32, em_cf32, c32_mk(NAN, NAN), c32_mk(INFINITY, 0), c32_minmax(a, x, 0))
SCAN_KERNEL(min_c64, em_cf64, c64_mk(NAN, NAN), c64_mk(INFINITY, 0), c64_minmax(a, x, 0))
SCAN_KERNEL(max_c32, em_cf32, c32_mk(NAN, NAN), c32_mk(0, 0), c32_minmax(a, x, 1))
SCAN_KERNEL(max_c64, em_cf64, c64_mk(NAN, NAN), c64_mk(0, 0), c64_minmax(a, x, 1))

/* The kernel of op on values of dtype t, or NULL where algorithm.h does not define the pair. */
static const scan_kernel *kernel_for(af_binary_op op, af_dtype t) {
#define PICK(f, d, cf, cd, s32k, u32k, s64k, u64k)                                                 \
    switch (t) {                                                                                   \
    case f32:                                                                                      \
        return &f;                                                                                 \
    case f64:                                                                                      \
        return &d;                                                                                 \
    case c32:                                                                                      \
        return &cf;                                                                                \
    case c64:                                                                                      \
        return &cd;                                                                                \
    case s32:                                                                                      \
        return &s32k;                                                                              \
    case u32:                                                                                      \
        return &u32k;                                                                              \
    case s64:                                                                                      \
        return &s64k;                                                                              \
    case u64:                                                                                      \
        return &u64k;                                                                              \
    default:                                                                                       \
        return NULL;                                                                               \
    }
    switch (op) {
    case AF_BINARY_ADD:
        PICK(add_f32, add_f64, add_c32, add_c64, add_u32, add_u32, add_u64, add_u64)
    case AF_BINARY_MUL:
        PICK(mul_f32, mul_f64, mul_c32, mul_c64, mul_u32, mul_u32, mul_u64, mul_u64)
    case AF_BINARY_MIN:
        PICK(min_f32, min_f64, min_c32, min_c64, min_s32, min_u32, min_s64, min_u64)
    case AF_BINARY_MAX:
        PICK(max_f32, max_f64, max_c32, max_c64, max_s32, max_u32, max_s64, max_u64)
    default:
        return NULL;
    }
#undef PICK
}

/* ---- head flags from keys (4 or 8 bytes; equality is equality of the bits) ---- */

/* h[i] = 1 where key i differs from key i - 1, key -1 being *prev (or a head anyway when
 * `first`). */
static void heads_run(const void *k, const void *prev, bool first, uint8_t *h, size_t n,
                      size_t ks) {
    if (ks == 4) {
        const uint32_t *x = k;
        h[0] = first || x[0] != *(const uint32_t *)prev;
        for (size_t i = 1; i < n; i++)
            h[i] = x[i] != x[i - 1];
    } else {
        const uint64_t *x = k;
        h[0] = first || x[0] != *(const uint64_t *)prev;
        for (size_t i = 1; i < n; i++)
            h[i] = x[i] != x[i - 1];
    }
}

/* h[c] = 1 where k[c] differs from prev[c] (every c when `first`). */
static void heads_step(const void *k, const void *prev, bool first, uint8_t *h, size_t w,
                       size_t ks) {
    if (first) {
        memset(h, 1, w);
    } else if (ks == 4) {
        const uint32_t *x = k, *p = prev;
        for (size_t c = 0; c < w; c++)
            h[c] = x[c] != p[c];
    } else {
        const uint64_t *x = k, *p = prev;
        for (size_t c = 0; c < w; c++)
            h[c] = x[c] != p[c];
    }
}

/* ---- the driver ---- */

/* The scan's geometry (see the file comment), its split into tasks, and the shared state. */
typedef struct {
    const scan_kernel *k;
    size_t es, ks; /* bytes of a value and of a key (0: no keys) */
    int excl;
    dim_t inner, len, outer;
    dim_t itile, ntile; /* tiles of i: ntile tiles of itile (the last may be shorter) */
    dim_t rows;         /* steps j per block when one tile is the whole of inner */
    dim_t nseg, seglen; /* segments of j per line */
    const em_cpu_block_eval *ev, *ek;
    char *out;
    /* Two passes only: each (task, segment, line)'s aggregate, then, in place, its carry; and
     * whether the aggregate holds a head. Laid out [o][tile][segment][line of the tile]. */
    char *agg;
    uint8_t *any;
} scan_ctx;

/* Per-thread working memory. */
typedef struct {
    char *sv, *sk; /* the block evaluators' scratch */
    char *acc;     /* one accumulator per line of a tile */
    char *kprev;   /* the keys of the step before */
    uint8_t *h;    /* head flags of a block */
    uint8_t *anyv; /* per line of a tile: the aggregate holds a head */
} scan_tls;

static void tls_free(scan_tls *t) {
    free(t->sv);
    free(t->sk);
    free(t->acc);
    free(t->kprev);
    free(t->h);
    free(t->anyv);
}

static bool tls_new(const scan_ctx *c, scan_tls *t) {
    memset(t, 0, sizeof(*t));
    t->sv = em_cpu_block_scratch_new(c->ev);
    if (c->ek) t->sk = em_cpu_block_scratch_new(c->ek);
    t->acc = malloc((size_t)c->itile * c->es);
    t->kprev = malloc((size_t)c->itile * 8);
    t->h = malloc(EM_CPU_BLOCK);
    t->anyv = malloc((size_t)c->itile);
    if (t->sv && (!c->ek || t->sk) && t->acc && t->kprev && t->h && t->anyv) return true;
    tls_free(t);
    return false;
}

/* The slot of (o, tile, segment) in agg / any, in lines. */
static size_t agg_slot(const scan_ctx *c, dim_t o, dim_t tile, dim_t s) {
    return ((size_t)(o * c->ntile + tile) * (size_t)c->nseg + (size_t)s) * (size_t)c->itile;
}

/* One task: the lines of tile `tile` of outer index o, over segment s of j. Pass 1 folds the
 * segment into its aggregate; pass 2 scans it from its carry into the output. */
static void run_task(const scan_ctx *c, scan_tls *t, dim_t o, dim_t tile, dim_t s, int pass) {
    const scan_kernel *k = c->k;
    size_t es = c->es, ks = c->ks;
    dim_t i0 = tile * c->itile;
    dim_t T = c->inner - i0 < c->itile ? c->inner - i0 : c->itile;
    dim_t j0 = s * c->seglen, j1 = j0 + c->seglen < c->len ? j0 + c->seglen : c->len;
    size_t slot = c->nseg > 1 ? agg_slot(c, o, tile, s) : 0;
    if (pass == 2 && s > 0)
        memcpy(t->acc, c->agg + slot * es, (size_t)T * es);
    else
        k->ident(t->acc, (size_t)T);
    memset(t->anyv, 0, (size_t)T);
    /* The keys of the step before the segment, for the head flags of its first step. */
    if (ks && j0 > 0) {
        dim_t at = i0 + c->inner * (j0 - 1 + c->len * o);
        memcpy(t->kprev, em_cpu_block_eval_run(c->ek, t->sk, at, (size_t)T), (size_t)T * ks);
    }
    if (c->inner == 1) {
        dim_t line = c->len * o, end = line + j1;
        for (dim_t b = line + j0; b < end; b += EM_CPU_BLOCK) {
            size_t n = (size_t)(end - b < EM_CPU_BLOCK ? end - b : EM_CPU_BLOCK);
            const void *x = em_cpu_block_eval_run(c->ev, t->sv, b, n);
            char *out = c->out + (size_t)b * es;
            if (ks) {
                const char *kv = em_cpu_block_eval_run(c->ek, t->sk, b, n);
                heads_run(kv, t->kprev, b == line, t->h, n, ks);
                memcpy(t->kprev, kv + (n - 1) * ks, ks);
                if (pass == 1)
                    k->fold_h(x, t->h, n, t->acc, t->anyv);
                else
                    k->run_h(x, t->h, out, n, t->acc, c->excl);
            } else if (pass == 1) {
                k->fold(x, n, t->acc);
            } else {
                k->run(x, out, n, t->acc, c->excl);
                if (c->excl && b == line) k->init(out, 1);
            }
        }
    } else {
        /* Blocks of whole steps: `rows` steps when the tile is all of inner, else one. */
        dim_t rows = c->ntile == 1 ? c->rows : 1;
        for (dim_t j = j0; j < j1; j += rows) {
            dim_t m = j1 - j < rows ? j1 - j : rows;
            dim_t at = i0 + c->inner * (j + c->len * o);
            const char *x = em_cpu_block_eval_run(c->ev, t->sv, at, (size_t)(m * T));
            const char *kv = ks ? em_cpu_block_eval_run(c->ek, t->sk, at, (size_t)(m * T)) : NULL;
            for (dim_t r = 0; r < m; r++) {
                const char *xr = x + (size_t)(r * T) * es;
                char *out = c->out + (size_t)(at + r * c->inner) * es;
                if (ks) {
                    const char *kr = kv + (size_t)(r * T) * ks;
                    heads_step(kr, r ? kr - (size_t)T * ks : t->kprev, j + r == 0, t->h, (size_t)T,
                               ks);
                    if (pass == 1)
                        k->fold_step_h(xr, t->h, t->acc, t->anyv, (size_t)T);
                    else
                        k->step_h(xr, t->h, out, t->acc, (size_t)T, c->excl);
                } else if (pass == 1) {
                    k->fold_step(xr, t->acc, (size_t)T);
                } else {
                    k->step(xr, out, t->acc, (size_t)T, c->excl);
                    if (c->excl && j + r == 0) k->init(out, (size_t)T);
                }
            }
            if (ks) memcpy(t->kprev, kv + (size_t)((m - 1) * T) * ks, (size_t)T * ks);
        }
    }
    if (pass == 1) {
        memcpy(c->agg + slot * es, t->acc, (size_t)T * es);
        memcpy(c->any + slot, t->anyv, (size_t)T);
    }
}

/* Turns the aggregates of (o, tile) into carries: each segment's carry combines the aggregates
 * of the segments before it, restarting at the last one that holds a head. */
static void make_carries(const scan_ctx *c, dim_t o, dim_t tile) {
    size_t es = c->es;
    dim_t T = c->inner - tile * c->itile < c->itile ? c->inner - tile * c->itile : c->itile;
    char run[16], tmp[16];
    for (dim_t q = 0; q < T; q++) {
        c->k->ident(run, 1);
        for (dim_t s = 0; s < c->nseg; s++) {
            size_t at = agg_slot(c, o, tile, s) + (size_t)q;
            memcpy(tmp, c->agg + at * es, es);
            memcpy(c->agg + at * es, run, es);
            if (c->any[at])
                memcpy(run, tmp, es);
            else
                c->k->comb(run, tmp);
        }
    }
}

af_err em_cpu_scan(int dev, const em_jit_prog *in, const em_jit_prog *keys, int dim,
                   af_binary_op op, bool inclusive, void *out) {
    (void)dev;
    af_err err = AF_SUCCESS;
    scan_ctx c;
    memset(&c, 0, sizeof(c));
    em_cpu_block_eval *ev = NULL, *ek = NULL;
    af_dtype t = (af_dtype)in->instr[in->out[0]].type;
    c.k = kernel_for(op, t);
    if (!c.k) EM_FAIL(AF_ERR_TYPE, "no %d scan of dtype %s", (int)op, em_dtype_name(t));
    c.es = em_dtype_size(t);
    if (keys) {
        c.ks = em_dtype_size((af_dtype)keys->instr[keys->out[0]].type);
        if (c.ks != 4 && c.ks != 8) EM_FAIL(AF_ERR_TYPE, "keys of %zu bytes", c.ks);
    }
    c.excl = !inclusive;
    c.inner = 1, c.outer = 1;
    for (int d = 0; d < dim; d++)
        c.inner *= in->dims[d];
    for (int d = dim + 1; d < 4; d++)
        c.outer *= in->dims[d];
    c.len = in->dims[dim];
    c.itile = c.inner <= EM_CPU_BLOCK ? c.inner : EM_CPU_BLOCK;
    c.ntile = (c.inner + c.itile - 1) / c.itile;
    c.rows = EM_CPU_BLOCK / c.inner > 1 ? EM_CPU_BLOCK / c.inner : 1;
    /* Enough tasks to keep every thread busy: few, long lines split j into segments of at least
     * eight blocks' worth of elements each. */
    dim_t tasks = c.outer * c.ntile, want = 4 * (dim_t)omp_get_max_threads();
    c.nseg = 1;
    if (tasks < want && in->elements > 32 * EM_CPU_BLOCK) {
        dim_t by_work = c.len * c.itile / (8 * EM_CPU_BLOCK);
        dim_t n = (want + tasks - 1) / tasks;
        if (n > by_work) n = by_work;
        if (n > 1) c.nseg = n;
    }
    c.seglen = (c.len + c.nseg - 1) / c.nseg;
    c.nseg = (c.len + c.seglen - 1) / c.seglen;
    EM_TRY(em_cpu_block_eval_new(in, &ev));
    if (keys) EM_TRY(em_cpu_block_eval_new(keys, &ek));
    c.ev = ev;
    c.ek = ek;
    c.out = out;
    if (c.nseg > 1) {
        size_t lines = (size_t)tasks * (size_t)c.nseg * (size_t)c.itile;
        c.agg = malloc(lines * c.es);
        c.any = malloc(lines);
        if (!c.agg || !c.any) EM_FAIL(AF_ERR_NO_MEM, "out of host memory for scan carries");
    }
    int failed = 0;
    dim_t nseg = c.nseg;
#pragma omp parallel if (in->elements > 32 * EM_CPU_BLOCK) reduction(| : failed)
    {
        scan_tls tl;
        bool ok = tls_new(&c, &tl);
        /* Every thread must reach each worksharing loop, so a failed allocation skips tasks
         * instead of the loops. */
        if (nseg > 1) {
#pragma omp for schedule(dynamic)
            for (dim_t w = 0; w < tasks * (nseg - 1); w++) {
                dim_t task = w / (nseg - 1), s = w % (nseg - 1);
                if (ok) run_task(&c, &tl, task / c.ntile, task % c.ntile, s, 1);
            }
#pragma omp for schedule(static)
            for (dim_t task = 0; task < tasks; task++)
                make_carries(&c, task / c.ntile, task % c.ntile);
        }
#pragma omp for schedule(dynamic)
        for (dim_t w = 0; w < tasks * nseg; w++) {
            dim_t task = w / nseg, s = w % nseg;
            if (ok) run_task(&c, &tl, task / c.ntile, task % c.ntile, s, 2);
        }
        if (ok)
            tls_free(&tl);
        else
            failed = 1;
    }
    if (failed) EM_FAIL(AF_ERR_NO_MEM, "out of host memory for scan blocks");
fail:
    free(c.agg);
    free(c.any);
    em_cpu_block_eval_free(ev);
    em_cpu_block_eval_free(ek);
    return err;
}

/* ---- where ---- */

af_err em_cpu_where(int dev, const em_jit_prog *in, em_buf **idx, dim_t *count) {
    af_err err = AF_SUCCESS;
    em_cpu_block_eval *e = NULL;
    em_buf *buf = NULL;
    dim_t *part = NULL;
    dim_t n = in->elements, nblocks = (n + EM_CPU_BLOCK - 1) / EM_CPU_BLOCK;
    /* Parts of whole blocks, each counted in the first pass and written in the second from the
     * count of the parts before it. */
    dim_t nparts = n > 32 * EM_CPU_BLOCK ? 4 * (dim_t)omp_get_max_threads() : 1;
    if (nparts > nblocks) nparts = nblocks;
    EM_TRY(em_cpu_block_eval_new(in, &e));
    part = calloc((size_t)nparts + 1, sizeof(dim_t));
    if (!part) EM_FAIL(AF_ERR_NO_MEM, "out of host memory");
    int failed = 0;
#pragma omp parallel for schedule(static) if (nparts > 1) reduction(| : failed)
    for (dim_t p = 0; p < nparts; p++) {
        char *scratch = em_cpu_block_scratch_new(e);
        if (!scratch) {
            failed = 1;
            continue;
        }
        dim_t cnt = 0;
        for (dim_t b = p * nblocks / nparts; b < (p + 1) * nblocks / nparts; b++) {
            dim_t start = b * EM_CPU_BLOCK;
            size_t m = (size_t)(n - start < EM_CPU_BLOCK ? n - start : EM_CPU_BLOCK);
            const uint8_t *v = em_cpu_block_eval_run(e, scratch, start, m);
            uint32_t c = 0;
            for (size_t i = 0; i < m; i++)
                c += v[i];
            cnt += c;
        }
        part[p + 1] = cnt;
        free(scratch);
    }
    if (failed) EM_FAIL(AF_ERR_NO_MEM, "out of host memory for where blocks");
    for (dim_t p = 0; p < nparts; p++)
        part[p + 1] += part[p];
    dim_t total = part[nparts];
    if (total > 0) {
        EM_TRY(em_buf_alloc(dev, (size_t)total * sizeof(uint32_t), &buf));
        uint32_t *o = buf->ptr;
#pragma omp parallel for schedule(static) if (nparts > 1) reduction(| : failed)
        for (dim_t p = 0; p < nparts; p++) {
            char *scratch = em_cpu_block_scratch_new(e);
            if (!scratch) {
                failed = 1;
                continue;
            }
            dim_t pos = part[p];
            uint32_t tmp[EM_CPU_BLOCK];
            for (dim_t b = p * nblocks / nparts; b < (p + 1) * nblocks / nparts; b++) {
                dim_t start = b * EM_CPU_BLOCK;
                size_t m = (size_t)(n - start < EM_CPU_BLOCK ? n - start : EM_CPU_BLOCK);
                const uint8_t *v = em_cpu_block_eval_run(e, scratch, start, m);
                /* Branch-free compaction into a block-sized buffer, then one copy. */
                size_t k = 0;
                for (size_t i = 0; i < m; i++) {
                    tmp[k] = (uint32_t)(start + (dim_t)i);
                    k += v[i] != 0;
                }
                memcpy(o + pos, tmp, k * sizeof(uint32_t));
                pos += (dim_t)k;
            }
            free(scratch);
        }
        if (failed) EM_FAIL(AF_ERR_NO_MEM, "out of host memory for where blocks");
    }
    *idx = buf;
    *count = total;
    buf = NULL;
fail:
    if (buf) em_buf_release(buf);
    free(part);
    em_cpu_block_eval_free(e);
    return err;
}
