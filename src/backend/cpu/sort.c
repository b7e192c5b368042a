/* Sorting, sets and order selection on the CPU: the sort section of the algorithm table
 * (src/backend/algorithm.h).
 *
 * Every key is first mapped to an unsigned integer of its own width whose plain order is the
 * total order of algorithm.h: unsigned keys as they are, signed keys with the sign bit flipped,
 * floating keys with the sign bit flipped for positives and every bit flipped for negatives,
 * after -0 is made +0 and every NaN the all-ones key (above +inf). Descending order flips every
 * bit of the mapped key, so one ascending, stable algorithm per key width (8, 16, 32, 64 bits)
 * serves every dtype and both directions; results are mapped back on the way out.
 *
 * - Sorting is an LSD radix sort, stable, with 8-bit digits for 8- and 16-bit keys and 11-bit
 *   digits (three passes for 32 bits) for wider ones; it skips the digits in which every key
 *   agrees (small integers in wide dtypes sort in one or two passes). Each pass's scattered
 *   writes leave a cache line at a time, through a line buffer per bucket and non-temporal
 *   stores. A long line is sorted by every thread at once (per-thread histograms, then each
 *   thread scatters its own slice); many lines are shared out whole, one thread each. Short
 *   lines use insertion sort.
 * - Selection (median, topk) never sorts the whole line: a histogram of the top 16 bits finds
 *   the bucket holding the wanted rank, the keys of that bucket are copied out (a small fraction
 *   of the line unless the keys crowd), and quickselect finishes on the copy. A long line does
 *   its histogram and copy on every thread.
 * - The set functions sort, then keep the first element of each run of equal keys; NaN keys are
 *   never equal to anything, so each NaN is kept (IEEE equality, as ArrayFire's std::unique). */
#include "../algorithm.h"
#include "cpu.h"

#include "../../core/err.h"
#include "../../core/mem.h"

#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__AVX512F__)
#include <immintrin.h>
#elif defined(__SSE2__)
#include <emmintrin.h>
#endif

/* Lines at least this long are sorted (or selected) by all threads together. */
/* Scratch regions start on 8-byte boundaries (see the callers). */
#define SCRATCH_ALIGN(bytes) (((bytes) + 7) & ~(size_t)7)
#define SORT_PAR_MIN         ((dim_t)1 << 16)
/* Radix digits are at most this many bits (RADIX_NB buckets); hist arrays hold RADIX_NB per
 * thread. */
#define RADIX_MAXBITS 11
#define RADIX_NB      (1 << RADIX_MAXBITS)
/* Lines at most this long are insertion sorted. */
#define SORT_INSERTION_MAX 24

/* How a dtype's bits map to ordered keys. */
typedef enum { KIND_UNSIGNED, KIND_SIGNED, KIND_FLOAT } key_kind;

static key_kind kind_of(af_dtype t) {
    if (t == f32 || t == f64 || t == f16) return KIND_FLOAT;
    if (t == s8 || t == s16 || t == s32 || t == s64) return KIND_SIGNED;
    return KIND_UNSIGNED;
}

static int threads(void) {
    int n = omp_get_max_threads();
    return n < 1 ? 1 : n > 64 ? 64 : n;
}

/* Scratch memory from the pool (host memory on this backend). */
static af_err scratch(const char *fn, size_t bytes, em_buf **b) {
    af_err err = em_buf_alloc(0, bytes ? bytes : 1, b);
    if (err != AF_SUCCESS) em_err_attribute(fn);
    return err;
}

/* One line of a [dims] block along dim: element j of line `line` lies at
 * base(line) + j * stride. */
typedef struct {
    dim_t inner, len, outer; /* elements before dim (the stride), along it, and after it */
} lines_t;

static lines_t lines_of(const dim_t dims[4], int dim) {
    lines_t l = {1, dims[dim], 1};
    for (int d = 0; d < dim; d++)
        l.inner *= dims[d];
    for (int d = dim + 1; d < 4; d++)
        l.outer *= dims[d];
    return l;
}

static inline dim_t line_base(const lines_t *l, dim_t line) {
    dim_t i = line % l->inner, o = line / l->inner;
    return i + o * l->inner * l->len;
}

/* Writes one 64-byte line (dst 64-byte aligned) around the caches where the ISA allows. */
static inline void sort_stream_line(void *dst, const void *src) {
#if defined(__AVX512F__)
    /* One 64-byte store: the line leaves whole, never as a partial write. */
    _mm512_stream_si512(dst, _mm512_loadu_si512(src));
#elif defined(__SSE2__)
    const __m128i *s = src;
    __m128i *d = dst;
    _mm_stream_si128(d, _mm_loadu_si128(s));
    _mm_stream_si128(d + 1, _mm_loadu_si128(s + 1));
    _mm_stream_si128(d + 2, _mm_loadu_si128(s + 2));
    _mm_stream_si128(d + 3, _mm_loadu_si128(s + 3));
#else
    memcpy(dst, src, 64);
#endif
}

/* Orders the streamed lines before later plain stores and the other threads' reads. */
static inline void sort_stream_fence(void) {
#ifdef __SSE2__
    _mm_sfence();
#endif
}

/* Moves n payload elements of `size` bytes: out[j * s] = in[idx[j] * s]. */
static void gather_vals(void *out, const void *in, const uint32_t *idx, dim_t n, dim_t s,
                        size_t size) {
    switch (size) {
#define GATHER_CASE(SZ, T)                                                                         \
    case SZ: {                                                                                     \
        T *o = out;                                                                                \
        const T *i = in;                                                                           \
        for (dim_t j = 0; j < n; j++)                                                              \
            o[j * s] = i[(dim_t)idx[j] * s];                                                       \
        break;                                                                                     \
    }
        GATHER_CASE(1, uint8_t)
        GATHER_CASE(2, uint16_t)
        GATHER_CASE(4, uint32_t)
        GATHER_CASE(8, uint64_t)
        GATHER_CASE(16, em_cf64)
#undef GATHER_CASE
    default:
        for (dim_t j = 0; j < n; j++)
            memcpy((char *)out + (size_t)(j * s) * size,
                   (const char *)in + (size_t)((dim_t)idx[j] * s) * size, size);
    }
}

/* Everything that depends on the key width, written once and stamped out for 8, 16, 32 and 64
 * bits: mapping, radix sort, insertion sort, selection. */
#define SORT_WIDTH(W, UT, INF, RB)                                                                 \
    static inline UT map##W(UT b, key_kind kind) {                                                 \
        const UT sign = (UT)1 << (W - 1);                                                          \
        if (kind == KIND_UNSIGNED) return b;                                                       \
        if (kind == KIND_SIGNED) return b ^ sign;                                                  \
        UT mag = b & (UT)~sign;                                                                    \
        if (mag > (UT)(INF)) return (UT) ~(UT)0;                                                   \
        if (mag == 0) return sign;                                                                 \
        return (b & sign) ? (UT)~b : (UT)(b | sign);                                               \
    }                                                                                              \
    static inline UT unmap##W(UT m, key_kind kind) {                                               \
        const UT sign = (UT)1 << (W - 1);                                                          \
        if (kind == KIND_UNSIGNED) return m;                                                       \
        if (kind == KIND_SIGNED) return m ^ sign;                                                  \
        return (m & sign) ? (UT)(m ^ sign) : (UT)~m;                                               \
    }                                                                                              \
                                                                                                   \
    /* k[j] = map(in[j * s]) ^ flip for j < n, in parallel when par. */                            \
    static void map_line##W(UT *k, const UT *in, dim_t n, dim_t s, key_kind kind, UT flip,         \
                            bool par) {                                                            \
        _Pragma("omp parallel for schedule(static) if (par)") for (dim_t j = 0; j < n; j++) k[j] = \
            map##W(in[j * s], kind) ^ flip;                                                        \
    }                                                                                              \
    static void unmap_line##W(UT *out, const UT *k, dim_t n, dim_t s, key_kind kind, UT flip,      \
                              bool par) {                                                          \
        _Pragma("omp parallel for schedule(static) if (par)") for (dim_t j = 0; j < n; j++)        \
            out[j * s] = unmap##W(k[j] ^ flip, kind);                                              \
    }                                                                                              \
                                                                                                   \
    /* Stable insertion sort of keys k with optional payload p. */                                 \
    static void insertion##W(UT *k, uint32_t *p, dim_t n) {                                        \
        for (dim_t i = 1; i < n; i++) {                                                            \
            UT key = k[i];                                                                         \
            uint32_t pv = p ? p[i] : 0;                                                            \
            dim_t j = i;                                                                           \
            while (j > 0 && k[j - 1] > key) {                                                      \
                k[j] = k[j - 1];                                                                   \
                if (p) p[j] = p[j - 1];                                                            \
                j--;                                                                               \
            }                                                                                      \
            k[j] = key;                                                                            \
            if (p) p[j] = pv;                                                                      \
        }                                                                                          \
    }                                                                                              \
                                                                                                   \
    /* One thread's share of a radix pass: keys src[lo, hi) (payload ps) to their buckets' next    \
     * slots h[digit] in dst (pd). Each bucket gathers a cache line of keys in a buffer (wk, wp:   \
     * RADIX_NB lines each) whose slots line up with dst's cache lines; a full line goes out with  \
     * non-temporal stores, so the scattered writes neither read their destination lines first     \
     * nor evict the buffers. A bucket's first and last lines are partial (they hold other         \
     * buckets' keys too) and are copied plainly. */                                               \
    static void scatter##W(const UT *src, const uint32_t *ps, UT *dst, uint32_t *pd, dim_t lo,     \
                           dim_t hi, int shift, size_t *h, UT *wk, uint32_t *wp) {                 \
        enum { WCN = 64 / sizeof(UT), NB = 1 << RB };                                              \
        uint8_t wn[NB], w0[NB];                                                                    \
        for (int d = 0; d < NB; d++) {                                                             \
            w0[d] = (uint8_t)(((uintptr_t)(dst + h[d]) & 63) / sizeof(UT));                        \
            wn[d] = w0[d];                                                                         \
            h[d] -= w0[d]; /* h[d]: the element at the start of the bucket's current line */       \
        }                                                                                          \
        for (dim_t i = lo; i < hi; i++) {                                                          \
            UT key = src[i];                                                                       \
            unsigned d = (unsigned)(key >> shift) & (NB - 1), c = wn[d];                           \
            wk[d * WCN + c] = key;                                                                 \
            if (ps) wp[d * WCN + c] = ps[i];                                                       \
            if (++c == WCN) {                                                                      \
                size_t o = h[d];                                                                   \
                unsigned f = w0[d];                                                                \
                if (f)                                                                             \
                    memcpy(dst + o + f, wk + d * WCN + f, (WCN - f) * sizeof(UT));                 \
                else                                                                               \
                    sort_stream_line(dst + o, wk + d * WCN);                                       \
                if (ps) memcpy(pd + o + f, wp + d * WCN + f, (WCN - f) * sizeof(uint32_t));        \
                h[d] = o + WCN;                                                                    \
                w0[d] = 0;                                                                         \
                c = 0;                                                                             \
            }                                                                                      \
            wn[d] = (uint8_t)c;                                                                    \
        }                                                                                          \
        sort_stream_fence();                                                                       \
        for (int d = 0; d < NB; d++) {                                                             \
            unsigned f = w0[d], c = wn[d];                                                         \
            if (c > f) {                                                                           \
                memcpy(dst + h[d] + f, wk + d * WCN + f, (c - f) * sizeof(UT));                    \
                if (ps) memcpy(pd + h[d] + f, wp + d * WCN + f, (c - f) * sizeof(uint32_t));       \
            }                                                                                      \
            h[d] += c;                                                                             \
        }                                                                                          \
    }                                                                                              \
                                                                                                   \
    /* Stable LSD radix sort of n keys k (payload p, may be NULL) with RB-bit digits, on nt        \
     * threads; tk and tp are scratch of n each. hist holds nt << RADIX_MAXBITS counts. The        \
     * result ends in k and p, or with settle false, where it lies: in tk and tp when this         \
     * returns true. A digit in which every key agrees is skipped. */                              \
    static bool radix##W(UT *k, uint32_t *p, UT *tk, uint32_t *tp, dim_t n, int nt, size_t *hist,  \
                         bool settle) {                                                            \
        enum { NB = 1 << RB, WCN = 64 / sizeof(UT) };                                              \
        UT *src = k, *dst = tk;                                                                    \
        uint32_t *ps = p, *pd = tp;                                                                \
        if (nt > 1 && n < SORT_PAR_MIN) nt = 1;                                                    \
        for (int shift = 0; shift < W; shift += RB) {                                              \
            bool skip = false;                                                                     \
            _Pragma("omp parallel num_threads(nt) if (nt > 1)") {                                  \
                int t = omp_get_thread_num(), tn = omp_get_num_threads();                          \
                dim_t lo = n * t / tn, hi = n * (t + 1) / tn;                                      \
                size_t *h = hist + (size_t)t * NB;                                                 \
                memset(h, 0, NB * sizeof(size_t));                                                 \
                for (dim_t i = lo; i < hi; i++)                                                    \
                    h[(src[i] >> shift) & (NB - 1)]++;                                             \
                _Pragma("omp barrier") _Pragma("omp single") {                                     \
                    /* Offsets bucket-major, thread-minor: stable across the slices. */            \
                    size_t run = 0;                                                                \
                    for (int b = 0; b < NB; b++) {                                                 \
                        size_t before = run;                                                       \
                        for (int u = 0; u < tn; u++) {                                             \
                            size_t c = hist[(size_t)u * NB + b];                                   \
                            hist[(size_t)u * NB + b] = run;                                        \
                            run += c;                                                              \
                        }                                                                          \
                        if (run - before == (size_t)n) skip = true;                                \
                    }                                                                              \
                }                                                                                  \
                if (!skip) {                                                                       \
                    UT *wk = n > 4 * NB * WCN ? malloc((size_t)NB * WCN * sizeof(UT)) : NULL;      \
                    uint32_t *wp = wk && ps ? malloc((size_t)NB * WCN * sizeof(uint32_t)) : NULL;  \
                    if (wk && (wp || !ps)) {                                                       \
                        scatter##W(src, ps, dst, pd, lo, hi, shift, h, wk, wp);                    \
                    } else {                                                                       \
                        for (dim_t i = lo; i < hi; i++) {                                          \
                            size_t o = h[(src[i] >> shift) & (NB - 1)]++;                          \
                            dst[o] = src[i];                                                       \
                            if (ps) pd[o] = ps[i];                                                 \
                        }                                                                          \
                    }                                                                              \
                    free(wk);                                                                      \
                    free(wp);                                                                      \
                }                                                                                  \
            }                                                                                      \
            if (skip) continue;                                                                    \
            UT *tmp = src;                                                                         \
            src = dst;                                                                             \
            dst = tmp;                                                                             \
            uint32_t *tmpp = ps;                                                                   \
            ps = pd;                                                                               \
            pd = tmpp;                                                                             \
        }                                                                                          \
        if (src != k && settle) {                                                                  \
            memcpy(k, src, (size_t)n * sizeof(UT));                                                \
            if (p) memcpy(p, ps, (size_t)n * sizeof(uint32_t));                                    \
        }                                                                                          \
        return src != k && !settle;                                                                \
    }                                                                                              \
                                                                                                   \
    static void sortkeys##W(UT *k, uint32_t *p, UT *tk, uint32_t *tp, dim_t n, int nt,             \
                            size_t *hist) {                                                        \
        if (n <= SORT_INSERTION_MAX)                                                               \
            insertion##W(k, p, n);                                                                 \
        else                                                                                       \
            radix##W(k, p, tk, tp, n, nt, hist, true);                                             \
    }                                                                                              \
                                                                                                   \
    /* The element of rank r (0-based) of k[0..n), by quickselect; k is permuted so that           \
     * k[r] holds it, everything before is <= and everything after is >=. Falls back to a full     \
     * sort when the pivots keep landing badly. */                                                 \
    static UT qselect##W(UT *k, dim_t n, dim_t r) {                                                \
        dim_t lo = 0, hi = n - 1;                                                                  \
        int rounds = 0;                                                                            \
        while (hi > lo) {                                                                          \
            if (hi - lo < 16 || ++rounds > 64) {                                                   \
                insertion##W(k + lo, NULL, hi - lo + 1);                                           \
                break;                                                                             \
            }                                                                                      \
            dim_t mid = lo + (hi - lo) / 2;                                                        \
            UT a = k[lo], b = k[mid], c = k[hi];                                                   \
            UT piv = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));        \
            dim_t i = lo, j = hi;                                                                  \
            while (i <= j) {                                                                       \
                while (k[i] < piv)                                                                 \
                    i++;                                                                           \
                while (k[j] > piv)                                                                 \
                    j--;                                                                           \
                if (i <= j) {                                                                      \
                    UT t = k[i];                                                                   \
                    k[i] = k[j];                                                                   \
                    k[j] = t;                                                                      \
                    i++;                                                                           \
                    j--;                                                                           \
                }                                                                                  \
            }                                                                                      \
            if (r <= j)                                                                            \
                hi = j;                                                                            \
            else if (r >= i)                                                                       \
                lo = i;                                                                            \
            else                                                                                   \
                break; /* j < r < i: k[r] equals the pivot and sits in place */                    \
        }                                                                                          \
        return k[r];                                                                               \
    }                                                                                              \
                                                                                                   \
    /* The mapped keys of ranks r and r + 1 (when two) of the line in[j * s], j < n, mapped with   \
     * kind ^ flip. scratch holds n keys. par: every thread works on the histogram and the copy.   \
     */                                                                                            \
    static void select##W(const UT *in, dim_t n, dim_t s, key_kind kind, UT flip, dim_t r,         \
                          bool two, UT *scratch, bool par, UT *v1, UT *v2) {                       \
        enum { DIGIT = W < 16 ? W : 16 };                                                          \
        const int nb = 1 << DIGIT;                                                                 \
        if (!par || n < SORT_PAR_MIN) {                                                            \
            map_line##W(scratch, in, n, s, kind, flip, false);                                     \
            *v1 = qselect##W(scratch, n, r);                                                       \
            if (two) {                                                                             \
                UT m = scratch[r + 1];                                                             \
                for (dim_t j = r + 2; j < n; j++)                                                  \
                    if (scratch[j] < m) m = scratch[j];                                            \
                *v2 = m;                                                                           \
            }                                                                                      \
            return;                                                                                \
        }                                                                                          \
        int nt = threads();                                                                        \
        /* Counts per thread and bucket of the keys that carry `prefix` above `shift`. */          \
        uint32_t *hist = calloc((size_t)nt * (size_t)nb, sizeof(uint32_t));                        \
        dim_t *cnt = calloc((size_t)nb + 1, sizeof(dim_t));                                        \
        if (!hist || !cnt) {                                                                       \
            free(hist);                                                                            \
            free(cnt);                                                                             \
            select##W(in, n, s, kind, flip, r, two, scratch, false, v1, v2);                       \
            return;                                                                                \
        }                                                                                          \
        UT prefix = 0;                                                                             \
        int shift = W - DIGIT; /* the digit is bits [shift, shift + DIGIT) */                      \
        int above = W;         /* bits at and above this are fixed to prefix */                    \
        dim_t r1 = r, r2 = r + (two ? 1 : 0);                                                      \
        for (;;) {                                                                                 \
            _Pragma("omp parallel num_threads(nt)") {                                              \
                int t = omp_get_thread_num(), tn = omp_get_num_threads();                          \
                uint32_t *h = hist + (size_t)t * nb;                                               \
                memset(h, 0, (size_t)nb * sizeof(uint32_t));                                       \
                dim_t lo = n * t / tn, hi = n * (t + 1) / tn;                                      \
                for (dim_t j = lo; j < hi; j++) {                                                  \
                    UT key = map##W(in[j * s], kind) ^ flip;                                       \
                    if (above < W && (UT)(key >> above) != prefix) continue;                       \
                    h[(key >> shift) & (UT)(nb - 1)]++;                                            \
                }                                                                                  \
            }                                                                                      \
            dim_t run = 0;                                                                         \
            int b1 = -1, b2 = -1;                                                                  \
            for (int b = 0; b < nb; b++) {                                                         \
                dim_t c = 0;                                                                       \
                for (int t = 0; t < nt; t++)                                                       \
                    c += hist[(size_t)t * nb + b];                                                 \
                cnt[b] = run;                                                                      \
                if (b1 < 0 && r1 < run + c) b1 = b;                                                \
                if (b2 < 0 && r2 < run + c) b2 = b;                                                \
                run += c;                                                                          \
            }                                                                                      \
            cnt[nb] = run;                                                                         \
            UT full1 = (UT)(((UT)(above < W ? prefix : 0) << (DIGIT % W)) | (UT)b1);               \
            UT full2 = (UT)(((UT)(above < W ? prefix : 0) << (DIGIT % W)) | (UT)b2);               \
            if (shift == 0) {                                                                      \
                /* Every bit is fixed: the buckets are the keys. */                                \
                *v1 = full1;                                                                       \
                *v2 = full2;                                                                       \
                break;                                                                             \
            }                                                                                      \
            dim_t inb = cnt[b1 + 1] - cnt[b1];                                                     \
            if (b1 == b2 && inb > (n >> 3) && inb > SORT_PAR_MIN) {                                \
                /* Still crowded (another pass over the line costs less than selecting among       \
                 * this many): fix this digit and histogram the next one. */                       \
                r1 -= cnt[b1];                                                                     \
                r2 -= cnt[b1];                                                                     \
                prefix = full1;                                                                    \
                above = shift;                                                                     \
                shift = shift >= DIGIT ? shift - DIGIT : 0;                                        \
                continue;                                                                          \
            }                                                                                      \
            /* Copy the keys of buckets b1..b2 out, thread slices in order, and finish there. */   \
            dim_t m = cnt[b2 + 1] - cnt[b1];                                                       \
            _Pragma("omp parallel num_threads(nt)") {                                              \
                int t = omp_get_thread_num(), tn = omp_get_num_threads();                          \
                dim_t off = 0;                                                                     \
                for (int u = 0; u < t; u++)                                                        \
                    for (int b = b1; b <= b2; b++)                                                 \
                        off += hist[(size_t)u * nb + b];                                           \
                dim_t lo = n * t / tn, hi = n * (t + 1) / tn;                                      \
                for (dim_t j = lo; j < hi; j++) {                                                  \
                    UT key = map##W(in[j * s], kind) ^ flip;                                       \
                    if (above < W && (UT)(key >> above) != prefix) continue;                       \
                    int b = (int)((key >> shift) & (UT)(nb - 1));                                  \
                    if (b >= b1 && b <= b2) scratch[off++] = key;                                  \
                }                                                                                  \
            }                                                                                      \
            dim_t q = r1 - cnt[b1];                                                                \
            *v1 = qselect##W(scratch, m, q);                                                       \
            if (two) {                                                                             \
                UT mn = scratch[q + 1];                                                            \
                for (dim_t j = q + 2; j < m; j++)                                                  \
                    if (scratch[j] < mn) mn = scratch[j];                                          \
                *v2 = mn;                                                                          \
            }                                                                                      \
            break;                                                                                 \
        }                                                                                          \
        free(hist);                                                                                \
        free(cnt);                                                                                 \
    }

SORT_WIDTH(8, uint8_t, 0x7f, 8)
SORT_WIDTH(16, uint16_t, 0x7c00, 8)
SORT_WIDTH(32, uint32_t, 0x7f800000u, 11)
SORT_WIDTH(64, uint64_t, 0x7ff0000000000000ull, 11)

/* ---------------------------------------------------------------------------------------------
 * sort
 * ------------------------------------------------------------------------------------------- */

typedef struct {
    key_kind kind;
    bool desc;
    lines_t l;
    const void *keys;
    void *keys_out;
    uint32_t *idx_out;
    const void *vals;
    size_t val_size;
    void *vals_out;
} sort_job;

/* Sorts one line with nt threads, using scratch k, p, tk, tp of len elements each (p and tp
 * may be NULL when no payload is wanted) and hist of nt * RADIX_NB counts. */
#define SORT_LINE(W, UT)                                                                           \
    static void sort_line##W(const sort_job *J, dim_t line, UT *k, uint32_t *p, UT *tk,            \
                             uint32_t *tp, int nt, size_t *hist) {                                 \
        dim_t n = J->l.len, s = J->l.inner, base = line_base(&J->l, line);                         \
        bool par = nt > 1;                                                                         \
        UT flip = J->desc ? (UT) ~(UT)0 : 0;                                                       \
        map_line##W(k, (const UT *)J->keys + base, n, s, J->kind, flip, par);                      \
        if (p)                                                                                     \
            for (dim_t j = 0; j < n; j++)                                                          \
                p[j] = (uint32_t)j;                                                                \
        if (n <= SORT_INSERTION_MAX) {                                                             \
            insertion##W(k, p, n);                                                                 \
        } else if (radix##W(k, p, tk, tp, n, nt, hist, false)) {                                   \
            /* The sorted keys lie in the scratch halves: read them there. */                      \
            k = tk;                                                                                \
            p = tp;                                                                                \
        }                                                                                          \
        if (J->keys_out) unmap_line##W((UT *)J->keys_out + base, k, n, s, J->kind, flip, par);     \
        if (J->idx_out) {                                                                          \
            uint32_t *o = J->idx_out + base;                                                       \
            for (dim_t j = 0; j < n; j++)                                                          \
                o[j * s] = p[j];                                                                   \
        }                                                                                          \
        if (J->vals_out) {                                                                         \
            size_t vs = J->val_size;                                                               \
            if (par && s == 1) {                                                                   \
                _Pragma("omp parallel num_threads(nt)") {                                          \
                    int t = omp_get_thread_num(), tn = omp_get_num_threads();                      \
                    dim_t lo = n * t / tn, hi = n * (t + 1) / tn;                                  \
                    gather_vals((char *)J->vals_out + (size_t)(base + lo) * vs,                    \
                                (const char *)J->vals + (size_t)base * vs, p + lo, hi - lo, 1,     \
                                vs);                                                               \
                }                                                                                  \
            } else {                                                                               \
                gather_vals((char *)J->vals_out + (size_t)base * vs,                               \
                            (const char *)J->vals + (size_t)base * vs, p, n, s, vs);               \
            }                                                                                      \
        }                                                                                          \
    }
SORT_LINE(8, uint8_t)
SORT_LINE(16, uint16_t)
SORT_LINE(32, uint32_t)
SORT_LINE(64, uint64_t)

static void sort_line(int w, const sort_job *J, dim_t line, void *k, uint32_t *p, void *tk,
                      uint32_t *tp, int nt, size_t *hist) {
    switch (w) {
    case 1:
        sort_line8(J, line, k, p, tk, tp, nt, hist);
        break;
    case 2:
        sort_line16(J, line, k, p, tk, tp, nt, hist);
        break;
    case 4:
        sort_line32(J, line, k, p, tk, tp, nt, hist);
        break;
    default:
        sort_line64(J, line, k, p, tk, tp, nt, hist);
        break;
    }
}

af_err em_cpu_sort(int dev, af_dtype type, const dim_t dims[4], int dim, bool ascending,
                   const void *keys, void *keys_out, uint32_t *idx_out, const void *vals,
                   size_t val_size, void *vals_out) {
    (void)dev;
    af_err err = AF_SUCCESS;
    const char *fn = "af_sort";
    sort_job J = {kind_of(type), !ascending, lines_of(dims, dim), keys, keys_out, idx_out, vals,
                  val_size,      vals_out};
    dim_t nlines = J.l.inner * J.l.outer, n = J.l.len;
    if (nlines * n == 0) return AF_SUCCESS;
    size_t w = em_dtype_size(type);
    bool pay = idx_out || vals_out;
    int nt = threads();
    /* Long lines, fewer than the threads: each sorted by every thread. Otherwise the lines are
     * shared out, each with its own scratch. */
    bool par_line = n >= SORT_PAR_MIN && nlines < nt;
    int slots = par_line ? 1 : (nlines < nt ? (int)nlines : nt);
    /* Each region starts on an 8-byte boundary: keys of 1 or 2 bytes would leave the u32
     * payloads (and the next slot's 8-byte keys) misaligned. */
    size_t kb = SCRATCH_ALIGN((size_t)n * w), pb = SCRATCH_ALIGN((size_t)n * sizeof(uint32_t));
    size_t per = 2 * kb + (pay ? 2 * pb : 0);
    em_buf *sb = NULL;
    size_t *hist = NULL;
    EM_TRY_FN(scratch(fn, per * (size_t)slots, &sb));
    hist = malloc((size_t)nt * RADIX_NB * sizeof(size_t));
    if (!hist) EM_FAIL_FN(AF_ERR_NO_MEM, "out of host memory for sort histograms");
    if (par_line) {
        char *base = sb->ptr;
        void *k = base, *tk = base + kb;
        uint32_t *p = pay ? (uint32_t *)(base + 2 * kb) : NULL;
        uint32_t *tp = pay ? (uint32_t *)(base + 2 * kb + pb) : NULL;
        for (dim_t line = 0; line < nlines; line++)
            sort_line((int)w, &J, line, k, p, tk, tp, nt, hist);
    } else {
#pragma omp parallel num_threads(slots)
        {
            int t = omp_get_thread_num();
            char *base = (char *)sb->ptr + per * (size_t)t;
            void *k = base, *tk = base + kb;
            uint32_t *p = pay ? (uint32_t *)(base + 2 * kb) : NULL;
            uint32_t *tp = pay ? (uint32_t *)(base + 2 * kb + pb) : NULL;
            size_t *h = hist + (size_t)t * RADIX_NB;
#pragma omp for schedule(static)
            for (dim_t line = 0; line < nlines; line++)
                sort_line((int)w, &J, line, k, p, tk, tp, 1, h);
        }
    }
fail:
    free(hist);
    if (sb) em_buf_release(sb);
    return err;
}

/* ---------------------------------------------------------------------------------------------
 * median
 * ------------------------------------------------------------------------------------------- */

/* The key of one element as a double (or float) of its dtype. */
static double key_value(af_dtype t, uint64_t bits) {
    switch (t) {
    case f32: {
        float f;
        uint32_t b = (uint32_t)bits;
        memcpy(&f, &b, 4);
        return f;
    }
    case f64: {
        double d;
        memcpy(&d, &bits, 8);
        return d;
    }
    case f16:
        return em_half_to_float((uint16_t)bits);
    case s32:
        return (int32_t)(uint32_t)bits;
    case s16:
        return (int16_t)(uint16_t)bits;
    case s8:
        return (int8_t)(uint8_t)bits;
    case s64:
        return (double)(int64_t)bits;
    case u64:
        return (double)bits;
    default:
        return (double)bits; /* u32, u16, u8, b8 */
    }
}

/* The unmapped bits of mapped key m of width w. */
static uint64_t unmap_any(size_t w, key_kind kind, uint64_t m) {
    switch (w) {
    case 1:
        return unmap8((uint8_t)m, kind);
    case 2:
        return unmap16((uint16_t)m, kind);
    case 4:
        return unmap32((uint32_t)m, kind);
    default:
        return unmap64(m, kind);
    }
}

/* ArrayFire's combination of the two middle elements (or the middle one) in out_type. */
static void median_store(af_dtype type, af_dtype ot, void *out, dim_t at, uint64_t b1, uint64_t b2,
                         bool two) {
    if (ot == f32) {
        float x = (float)key_value(type, b1);
        if (two) {
            float y = (float)key_value(type, b2);
            x = (x + y) * 0.5f;
        }
        ((float *)out)[at] = x;
    } else {
        double x = key_value(type, b1);
        if (two) x = (x + key_value(type, b2)) * 0.5;
        ((double *)out)[at] = x;
    }
}

static void select_any(size_t w, const void *in, dim_t n, dim_t s, key_kind kind, dim_t r, bool two,
                       void *scratch, bool par, uint64_t *v1, uint64_t *v2, bool flip) {
    switch (w) {
#define SELECT_CASE(W, UT)                                                                         \
    {                                                                                              \
        UT a = 0, b = 0;                                                                           \
        select##W(in, n, s, kind, flip ? (UT) ~(UT)0 : 0, r, two, scratch, par, &a, &b);           \
        *v1 = a;                                                                                   \
        *v2 = b;                                                                                   \
        break;                                                                                     \
    }
    case 1:
        SELECT_CASE(8, uint8_t)
    case 2:
        SELECT_CASE(16, uint16_t)
    case 4:
        SELECT_CASE(32, uint32_t)
    default:
        SELECT_CASE(64, uint64_t)
#undef SELECT_CASE
    }
}

af_err em_cpu_median(int dev, af_dtype type, const void *in, const dim_t dims[4], int dim,
                     af_dtype out_type, void *out) {
    (void)dev;
    af_err err = AF_SUCCESS;
    const char *fn = "af_median";
    lines_t l = lines_of(dims, dim);
    dim_t nlines = l.inner * l.outer, n = l.len;
    if (nlines * n == 0) return AF_SUCCESS;
    size_t w = em_dtype_size(type);
    key_kind kind = kind_of(type);
    int nt = threads();
    bool par_line = n >= SORT_PAR_MIN && nlines < nt;
    int slots = par_line ? 1 : (nlines < nt ? (int)nlines : nt);
    em_buf *sb = NULL;
    EM_TRY_FN(scratch(fn, (size_t)n * w * (size_t)slots, &sb));
    bool two = n % 2 == 0;
    dim_t r = (n - 1) / 2;
#pragma omp parallel num_threads(slots) if (!par_line)
    {
        int t = omp_get_thread_num();
        void *sc = (char *)sb->ptr + (size_t)n * w * (size_t)t;
#pragma omp for schedule(static)
        for (dim_t line = 0; line < nlines; line++) {
            dim_t base = line_base(&l, line);
            uint64_t v1, v2;
            select_any(w, (const char *)in + (size_t)base * w, n, l.inner, kind, r, two, sc,
                       par_line, &v1, &v2, false);
            /* Output element of this line: the block with dims[dim] = 1 is dense. */
            dim_t at = line % l.inner + (line / l.inner) * l.inner;
            median_store(type, out_type, out, at, unmap_any(w, kind, v1), unmap_any(w, kind, v2),
                         two);
        }
    }
fail:
    if (sb) em_buf_release(sb);
    return err;
}

/* ---------------------------------------------------------------------------------------------
 * topk
 * ------------------------------------------------------------------------------------------- */

/* The k best of one column: keys mapped so that the best is the smallest, the k-th best found by
 * selection, then the keys better than it and the first ties (in index order) gathered and
 * stably sorted. */
#define TOPK_COL(W, UT)                                                                            \
    static void topk_col##W(const UT *in, dim_t n, int k, key_kind kind, bool largest, UT *kout,   \
                            uint32_t *iout, UT *sc, UT *ck, uint32_t *cp, UT *tk, uint32_t *tp,    \
                            bool par) {                                                            \
        UT flip = largest ? (UT) ~(UT)0 : 0, th = 0, unused;                                       \
        select##W(in, n, 1, kind, flip, k - 1, false, sc, par, &th, &unused);                      \
        dim_t less = 0;                                                                            \
        for (dim_t j = 0; j < n; j++)                                                              \
            less += (UT)(map##W(in[j], kind) ^ flip) < th;                                         \
        dim_t ties = k - less, m = 0;                                                              \
        for (dim_t j = 0; j < n && m < k; j++) {                                                   \
            UT key = map##W(in[j], kind) ^ flip;                                                   \
            if (key < th || (key == th && ties > 0)) {                                             \
                if (key == th) ties--;                                                             \
                ck[m] = key;                                                                       \
                cp[m++] = (uint32_t)j;                                                             \
            }                                                                                      \
        }                                                                                          \
        size_t hist[RADIX_NB];                                                                     \
        sortkeys##W(ck, cp, tk, tp, k, 1, hist);                                                   \
        for (int j = 0; j < k; j++) {                                                              \
            kout[j] = unmap##W(ck[j] ^ flip, kind);                                                \
            iout[j] = cp[j];                                                                       \
        }                                                                                          \
    }
TOPK_COL(16, uint16_t)
TOPK_COL(32, uint32_t)
TOPK_COL(64, uint64_t)

af_err em_cpu_topk(int dev, af_dtype type, const void *in, const dim_t dims[4], int k, bool largest,
                   void *vals_out, uint32_t *idx_out) {
    (void)dev;
    af_err err = AF_SUCCESS;
    const char *fn = "af_topk";
    dim_t n = dims[0], ncols = dims[1] * dims[2] * dims[3];
    if (n == 0 || ncols == 0) return AF_SUCCESS;
    size_t w = em_dtype_size(type);
    key_kind kind = kind_of(type);
    int nt = threads();
    bool par_col = n >= SORT_PAR_MIN && ncols < nt;
    int slots = par_col ? 1 : (ncols < nt ? (int)ncols : nt);
    /* Per slot: the selection copy (n keys), then k candidates with payload, twice. */
    size_t nb = SCRATCH_ALIGN((size_t)n * w), cb = SCRATCH_ALIGN((size_t)k * w),
           pb = SCRATCH_ALIGN((size_t)k * sizeof(uint32_t));
    size_t per = nb + 2 * cb + 2 * pb;
    em_buf *sb = NULL;
    EM_TRY_FN(scratch(fn, per * (size_t)slots, &sb));
#pragma omp parallel num_threads(slots) if (!par_col)
    {
        int t = omp_get_thread_num();
        char *base = (char *)sb->ptr + per * (size_t)t;
        void *sc = base, *ck = base + nb, *tk = (char *)ck + cb;
        uint32_t *cp = (uint32_t *)((char *)tk + cb), *tp = (uint32_t *)((char *)cp + pb);
#pragma omp for schedule(static)
        for (dim_t c = 0; c < ncols; c++) {
            const char *src = (const char *)in + (size_t)(c * n) * w;
            char *vo = (char *)vals_out + (size_t)(c * k) * w;
            uint32_t *io = idx_out + c * k;
            switch (w) {
            case 2:
                topk_col16((const uint16_t *)src, n, k, kind, largest, (uint16_t *)vo, io, sc, ck,
                           cp, tk, tp, par_col);
                break;
            case 4:
                topk_col32((const uint32_t *)src, n, k, kind, largest, (uint32_t *)vo, io, sc, ck,
                           cp, tk, tp, par_col);
                break;
            default:
                topk_col64((const uint64_t *)src, n, k, kind, largest, (uint64_t *)vo, io, sc, ck,
                           cp, tk, tp, par_col);
                break;
            }
        }
    }
fail:
    if (sb) em_buf_release(sb);
    return err;
}

/* ---------------------------------------------------------------------------------------------
 * Sets
 * ------------------------------------------------------------------------------------------- */

/* Sorts n mapped keys: k gets the mapped input (a, then b when nb > 0), sorted. */
#define SET_WIDTH(W, UT)                                                                           \
    static void set_sorted##W(const UT *a, dim_t na, const UT *b, dim_t nb, key_kind kind, UT *k,  \
                              UT *tk, size_t *hist, bool sort) {                                   \
        bool par = na + nb >= SORT_PAR_MIN;                                                        \
        map_line##W(k, a, na, 1, kind, 0, par);                                                    \
        if (nb) map_line##W(k + na, b, nb, 1, kind, 0, par);                                       \
        if (sort) sortkeys##W(k, NULL, tk, NULL, na + nb, threads(), hist);                        \
    }                                                                                              \
    /* Keeps the first of each run of equal keys of sorted k; NaN keys each stay. */               \
    static dim_t set_runs##W(UT *k, dim_t n, key_kind kind) {                                      \
        const UT nan = kind == KIND_FLOAT ? (UT) ~(UT)0 : 0;                                       \
        bool has_nan = kind == KIND_FLOAT;                                                         \
        dim_t m = 0;                                                                               \
        for (dim_t i = 0; i < n; i++)                                                              \
            if (i == 0 || k[i] != k[m - 1] || (has_nan && k[i] == nan)) k[m++] = k[i];             \
        return m;                                                                                  \
    }                                                                                              \
    static void set_out##W(UT *out, const UT *k, dim_t n, key_kind kind) {                         \
        unmap_line##W(out, k, n, 1, kind, 0, n >= SORT_PAR_MIN);                                   \
    }
SET_WIDTH(8, uint8_t)
SET_WIDTH(16, uint16_t)
SET_WIDTH(32, uint32_t)
SET_WIDTH(64, uint64_t)

/* The set ops at one width: op 0 unique, 1 union, 2 intersect. */
#define SET_OP(W, UT)                                                                              \
    static dim_t set_op##W(int op, key_kind kind, const UT *a, dim_t na, const UT *b, dim_t nb,    \
                           bool flag, UT *out, UT *k, UT *tk, size_t *hist) {                      \
        const UT nan = kind == KIND_FLOAT ? (UT) ~(UT)0 : 0;                                       \
        bool has_nan = kind == KIND_FLOAT;                                                         \
        if (op == 0 && flag) {                                                                     \
            /* Taken as sorted: neighbours are compared as they stand, values kept as they are. */ \
            dim_t m = 0;                                                                           \
            UT prev = 0;                                                                           \
            for (dim_t i = 0; i < na; i++) {                                                       \
                UT key = map##W(a[i], kind);                                                       \
                if (i == 0 || key != prev || (has_nan && key == nan)) out[m++] = a[i];             \
                prev = key;                                                                        \
            }                                                                                      \
            return m;                                                                              \
        }                                                                                          \
        if (op == 0 || op == 1) {                                                                  \
            set_sorted##W(a, na, op == 1 ? b : NULL, op == 1 ? nb : 0, kind, k, tk, hist, true);   \
            dim_t m = set_runs##W(k, op == 1 ? na + nb : na, kind);                                \
            set_out##W(out, k, m, kind);                                                           \
            return m;                                                                              \
        }                                                                                          \
        /* Intersection: both inputs sorted (and made unique unless the caller vouches), then      \
         * walked together; NaN matches nothing. */                                                \
        UT *ka = k, *kb = k + na;                                                                  \
        set_sorted##W(a, na, NULL, 0, kind, ka, tk, hist, true);                                   \
        set_sorted##W(b, nb, NULL, 0, kind, kb, tk, hist, true);                                   \
        dim_t ma = flag ? na : set_runs##W(ka, na, kind);                                          \
        dim_t mb = flag ? nb : set_runs##W(kb, nb, kind);                                          \
        dim_t i = 0, j = 0, m = 0;                                                                 \
        while (i < ma && j < mb) {                                                                 \
            if (ka[i] < kb[j]) {                                                                   \
                i++;                                                                               \
            } else if (kb[j] < ka[i]) {                                                            \
                j++;                                                                               \
            } else {                                                                               \
                UT key = ka[i];                                                                    \
                if (!(has_nan && key == nan) && (m == 0 || out[m - 1] != key)) out[m++] = key;     \
                i++;                                                                               \
                j++;                                                                               \
            }                                                                                      \
        }                                                                                          \
        set_out##W(out, out, m, kind);                                                             \
        return m;                                                                                  \
    }
SET_OP(8, uint8_t)
SET_OP(16, uint16_t)
SET_OP(32, uint32_t)
SET_OP(64, uint64_t)

static af_err cpu_set(const char *fn, int op, af_dtype type, const void *a, dim_t na, const void *b,
                      dim_t nb, bool flag, void *out, dim_t *nout) {
    af_err err = AF_SUCCESS;
    size_t w = em_dtype_size(type);
    key_kind kind = kind_of(type);
    dim_t tot = na + (op ? nb : 0);
    em_buf *sb = NULL;
    size_t *hist = NULL;
    EM_TRY_FN(scratch(fn, (size_t)tot * 2 * w, &sb));
    hist = malloc((size_t)threads() * RADIX_NB * sizeof(size_t));
    if (!hist) EM_FAIL_FN(AF_ERR_NO_MEM, "out of host memory for sort histograms");
    void *k = sb->ptr, *tk = (char *)sb->ptr + (size_t)tot * w;
    switch (w) {
    case 1:
        *nout = set_op8(op, kind, a, na, b, nb, flag, out, k, tk, hist);
        break;
    case 2:
        *nout = set_op16(op, kind, a, na, b, nb, flag, out, k, tk, hist);
        break;
    case 4:
        *nout = set_op32(op, kind, a, na, b, nb, flag, out, k, tk, hist);
        break;
    default:
        *nout = set_op64(op, kind, a, na, b, nb, flag, out, k, tk, hist);
        break;
    }
fail:
    free(hist);
    if (sb) em_buf_release(sb);
    return err;
}

af_err em_cpu_set_unique(int dev, af_dtype type, const void *in, dim_t n, bool is_sorted, void *out,
                         dim_t *nout) {
    (void)dev;
    return cpu_set("af_set_unique", 0, type, in, n, NULL, 0, is_sorted, out, nout);
}

af_err em_cpu_set_union(int dev, af_dtype type, const void *a, dim_t na, const void *b, dim_t nb,
                        void *out, dim_t *nout) {
    (void)dev;
    return cpu_set("af_set_union", 1, type, a, na, b, nb, false, out, nout);
}

af_err em_cpu_set_intersect(int dev, af_dtype type, const void *a, dim_t na, const void *b,
                            dim_t nb, bool is_unique, void *out, dim_t *nout) {
    (void)dev;
    return cpu_set("af_set_intersect", 2, type, a, na, b, nb, is_unique, out, nout);
}
