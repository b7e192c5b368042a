// Scans and where (src/backend/algorithm.h, "Scans, where, diff"), compiled by NVRTC after a
// header that src/backend/cuda/scan.c writes:
//   the fused value of jit_gen.h (em_cu_jit_value_source): em_params, em_it, em_vt, em_value,
//                  em_value_vec, EM_VAL_V, EM_VAL_COORDS; em_vt is the scan's dtype (where: b8)
//   EM_SCAN_OP     0 add, 1 mul, 2 min, 3 max (af_binary_op)
//   EM_SCAN_EXCL   1 for an exclusive scan
//   EM_SCAN_KEYS   1 for a scan by key; em_kt is then the key's bits (unsigned int or
//                  unsigned long long: keys compare for equality only)
//   EM_SCAN_ITEMS  values per thread in em_scan_cols
//   EM_SCAN_TITEMS values per thread in em_scan_tiles (a multiple of EM_VAL_V)
//   EM_SCAN_PACK   em_scan_tiles' status word: 1 (8 bytes) or 2 (16 bytes) holding a tile's flag
//                  and value together, for an em_se of 4 or 8 bytes; 0: separate flags and values
//   EM_SCAN_KERNEL which kernel this module holds (below; 0: all scan kernels, for the compile
//                  check; the where kernels 4 and 6 are compiled with em_vt = em_u8, and 5 with
//                  the prelude alone)
// The input's value is computed in registers and scanned at once: nothing is written but the
// output and the look-back status. Kernels run with 256 threads per block (em_scan_cols: fewer
// when there are fewer lines).
//
// Kernels:
//   1 em_scan_tiles  lines of `len` contiguous elements (inner == 1), long ones: each line is cut
//                    into tiles of 256 * EM_SCAN_TITEMS elements, one block per tile, combined by
//                    a single-pass decoupled look-back (Merrill and Garland, 2016): a block takes
//                    a tile by ticket (so every tile before it has started), publishes its
//                    aggregate, walks back over its predecessors' aggregates until it meets an
//                    inclusive prefix (a warp reads 128 predecessors' status words per round trip,
//                    32 with separate flags), and publishes its own. How fast inclusive prefixes
//                    can advance (tiles per round trip times the tile's size) bounds the
//                    kernel's throughput, hence large tiles and wide look-back windows. Within a
//                    tile each warp scans chunks of 32 lanes x V elements (vector loads, warp
//                    shuffles), chunks carry into each other, and warps combine through shared
//                    memory, where the scanned values wait during the look-back.
//   2 em_scan_warps  lines of `len` contiguous elements, short ones: one warp per line, in chunks
//                    of 32 elements.
//   3 em_scan_cols   a dim with lower dims (inner > 1), and very short contiguous lines: thread q
//                    takes line q (i = q % inner, o = q / inner; consecutive threads read
//                    consecutive i, so reads coalesce) and a chunk of EM_SCAN_ITEMS elements
//                    along j, held in registers; chunks of one line combine by the same
//                    look-back, per thread, with the status laid out [chunk][line] so that a
//                    warp's status reads coalesce too.
//   4 em_where_count   the number of non-zero b8 values in each tile of 256 * 16 elements.
//   5 em_where_offsets one block: the tiles' counts become exclusive offsets; the total goes to
//                      *total.
//   6 em_where_write   each tile writes the linear indices of its non-zero values in order.
//
// By key, a scan runs on pairs (head flag, value) with the segmented operator
// (fa, a) + (fb, b) = (fa | fb, fb ? b : a op b), which is associative, so every level of the
// scan (lanes, warps, tiles, chunks) combines pairs as it combines values; a head is an element
// whose key differs from the previous one along the dim (and the first of each line). The
// look-back stops early at an aggregate that holds a head.

#if EM_SCAN_KERNEL <= 3

// ---- the op on em_vt ----

template <class T> struct em_stag {};

#define EM_SCAN_ARITH(T, ADD, MUL)                                                                 \
    __device__ __forceinline__ T em_sadd(T a, T x) {                                               \
        return ADD;                                                                                \
    }                                                                                              \
    __device__ __forceinline__ T em_smul(T a, T x) {                                               \
        return MUL;                                                                                \
    }
EM_SCAN_ARITH(float, a + x, a *x)
EM_SCAN_ARITH(double, a + x, a *x)
EM_SCAN_ARITH(int, em_iadd<int>(a, x), em_imul<int>(a, x))
EM_SCAN_ARITH(unsigned int, a + x, a *x)
EM_SCAN_ARITH(long long, em_iadd<long long>(a, x), em_imul<long long>(a, x))
EM_SCAN_ARITH(unsigned long long, a + x, a *x)
EM_SCAN_ARITH(em_c32, em_cadd(a, x), em_cmul(a, x))
EM_SCAN_ARITH(em_c64, em_cadd(a, x), em_cmul(a, x))

// Constants by type: zero, one, NaN (the identity of floating min and max), +inf and the integer
// bounds.
template <class T> __device__ __forceinline__ T em_sconst(em_stag<T>, int k) {
    // k: 0 zero, 1 one, 2 NaN / largest, 3 -NaN / smallest (the min / max identities), 4 largest
    // (min's initial value), 5 smallest (max's initial value)
    return (T)(k == 1);
}
#define EM_SCONST_F(T, INF, NAN_)                                                                  \
    template <> __device__ __forceinline__ T em_sconst<T>(em_stag<T>, int k) {                     \
        return k == 0 ? (T)0 : k == 1 ? (T)1 : k <= 3 ? (NAN_) : k == 4 ? (INF) : -(INF);          \
    }
EM_SCONST_F(float, __int_as_float(0x7f800000), __int_as_float(0x7fc00000))
EM_SCONST_F(double, __longlong_as_double(0x7ff0000000000000ll),
            __longlong_as_double(0x7ff8000000000000ll))
#define EM_SCONST_I(T, LO, HI)                                                                     \
    template <> __device__ __forceinline__ T em_sconst<T>(em_stag<T>, int k) {                     \
        return k == 0 ? (T)0 : k == 1 ? (T)1 : (k == 2 || k == 4) ? (T)(HI) : (T)(LO);             \
    }
EM_SCONST_I(int, (-2147483647 - 1), 2147483647)
EM_SCONST_I(unsigned int, 0u, 4294967295u)
EM_SCONST_I(long long, (-9223372036854775807ll - 1), 9223372036854775807ll)
EM_SCONST_I(unsigned long long, 0ull, 18446744073709551615ull)
#define EM_SCONST_C(C, R)                                                                          \
    template <> __device__ __forceinline__ C em_sconst<C>(em_stag<C>, int k) {                     \
        R nan = em_sconst(em_stag<R>(), 2);                                                        \
        if (k <= 1) return em_cx<C>((R)k, (R)0);                                                   \
        if (k <= 3) return em_cx<C>(nan, nan);                                                     \
        return em_cx<C>(k == 4 ? em_sconst(em_stag<R>(), 4) : (R)0, (R)0);                         \
    }
EM_SCONST_C(em_c32, float)
EM_SCONST_C(em_c64, double)

// Min and max as the reductions have them: floating NaN is the identity and is ignored unless
// every value is NaN; complex values with a NaN part are ignored, the others compare by
// magnitude, then real part, then imaginary part.
#define EM_SMINMAX_R(T, FLOAT)                                                                     \
    __device__ __forceinline__ T em_smin(T a, T x) {                                               \
        return (x < a || (FLOAT && a != a)) ? x : a;                                               \
    }                                                                                              \
    __device__ __forceinline__ T em_smax(T a, T x) {                                               \
        return (x > a || (FLOAT && a != a)) ? x : a;                                               \
    }
EM_SMINMAX_R(float, true)
EM_SMINMAX_R(double, true)
EM_SMINMAX_R(int, false)
EM_SMINMAX_R(unsigned int, false)
EM_SMINMAX_R(long long, false)
EM_SMINMAX_R(unsigned long long, false)
template <int D, class C> __device__ __forceinline__ C em_scminmax(C a, C x) {
    typedef typename em_part<C>::t R;
    if (x.re != x.re || x.im != x.im) return a;
    if (a.re != a.re || a.im != a.im) return x;
    R ma = em_hypot(a.re, a.im), mx = em_hypot(x.re, x.im);
    if (D < 0 ? mx < ma : mx > ma) return x;
    if (mx != ma) return a;
    if (D < 0 ? x.re < a.re : x.re > a.re) return x;
    if (x.re != a.re) return a;
    return (D < 0 ? x.im < a.im : x.im > a.im) ? x : a;
}
__device__ __forceinline__ em_c32 em_smin(em_c32 a, em_c32 x) {
    return em_scminmax<-1>(a, x);
}
__device__ __forceinline__ em_c32 em_smax(em_c32 a, em_c32 x) {
    return em_scminmax<1>(a, x);
}
__device__ __forceinline__ em_c64 em_smin(em_c64 a, em_c64 x) {
    return em_scminmax<-1>(a, x);
}
__device__ __forceinline__ em_c64 em_smax(em_c64 a, em_c64 x) {
    return em_scminmax<1>(a, x);
}

__device__ __forceinline__ em_vt em_sop(em_vt a, em_vt x) {
#if EM_SCAN_OP == 0
    return em_sadd(a, x);
#elif EM_SCAN_OP == 1
    return em_smul(a, x);
#elif EM_SCAN_OP == 2
    return em_smin(a, x);
#else
    return em_smax(a, x);
#endif
}
// The identity, and the exclusive scan's first value (ArrayFire's initial value).
__device__ __forceinline__ em_vt em_sid() {
    return em_sconst(em_stag<em_vt>(), EM_SCAN_OP == 0 ? 0 : EM_SCAN_OP == 1 ? 1 : EM_SCAN_OP);
}
__device__ __forceinline__ em_vt em_sinit() {
    return em_sconst(em_stag<em_vt>(), EM_SCAN_OP == 0 ? 0 : EM_SCAN_OP == 1 ? 1 : EM_SCAN_OP + 2);
}

// ---- scan elements: values, or (head, value) pairs by key ----

#if EM_SCAN_KEYS
struct em_se {
    em_vt v;
    int f;
};
__device__ __forceinline__ em_se em_se_mk(em_vt v, int f) {
    em_se r;
    r.v = v;
    r.f = f;
    return r;
}
__device__ __forceinline__ em_se em_se_op(em_se a, em_se b) {
    return em_se_mk(b.f ? b.v : em_sop(a.v, b.v), a.f | b.f);
}
__device__ __forceinline__ em_vt em_se_val(em_se a) {
    return a.v;
}
__device__ __forceinline__ int em_se_head(em_se a) {
    return a.f;
}
#else
typedef em_vt em_se;
__device__ __forceinline__ em_se em_se_mk(em_vt v, int) {
    return v;
}
__device__ __forceinline__ em_se em_se_op(em_se a, em_se b) {
    return em_sop(a, b);
}
__device__ __forceinline__ em_vt em_se_val(em_se a) {
    return a;
}
__device__ __forceinline__ int em_se_head(em_se) {
    return 0;
}
#endif
__device__ __forceinline__ em_se em_se_id() {
    return em_se_mk(em_sid(), 0);
}
// The pair of element x (a head when h): a head restarts from the identity, so its value is
// identity op x, as a run's first value is everywhere else (min and max of a complex value with
// a NaN part leave the identity, NaN, rather than take the value).
__device__ __forceinline__ em_se em_se_elem(em_vt x, int h) {
#if EM_SCAN_KEYS
    return em_se_mk(h ? em_sop(em_sid(), x) : x, h);
#else
    (void)h;
    return x;
#endif
}

// Warp shuffles of any em_se, word by word.
__device__ __forceinline__ em_se em_se_shfl_up(em_se v, int d) {
    union {
        em_se s;
        int w[sizeof(em_se) / 4];
    } u;
    u.s = v;
#pragma unroll
    for (int k = 0; k < (int)(sizeof(em_se) / 4); k++)
        u.w[k] = __shfl_up_sync(0xffffffffu, u.w[k], d);
    return u.s;
}
__device__ __forceinline__ em_se em_se_shfl_down(em_se v, int d) {
    union {
        em_se s;
        int w[sizeof(em_se) / 4];
    } u;
    u.s = v;
#pragma unroll
    for (int k = 0; k < (int)(sizeof(em_se) / 4); k++)
        u.w[k] = __shfl_down_sync(0xffffffffu, u.w[k], d);
    return u.s;
}
__device__ __forceinline__ em_se em_se_shfl_idx(em_se v, int lane) {
    union {
        em_se s;
        int w[sizeof(em_se) / 4];
    } u;
    u.s = v;
#pragma unroll
    for (int k = 0; k < (int)(sizeof(em_se) / 4); k++)
        u.w[k] = __shfl_sync(0xffffffffu, u.w[k], lane);
    return u.s;
}

// The inclusive scan of one value per lane (lanes in order). Every lane must call it.
__device__ __forceinline__ em_se em_warp_iscan(em_se x, int lane) {
#pragma unroll
    for (int d = 1; d < 32; d *= 2) {
        em_se y = em_se_shfl_up(x, d);
        if (lane >= d) x = em_se_op(y, x);
    }
    return x;
}

// ---- the look-back status ----
// Item k's status: flag[k] is 0 (nothing yet), 1 (agg[k] holds the item's aggregate) or 2
// (incl[k] holds its inclusive prefix from the start of its line). A value is written before its
// flag, with a fence between; a reader sees the flag, fences, then reads the value. Volatile
// accesses keep the values out of the non-coherent L1.

__device__ __forceinline__ void em_vst(em_se *p, em_se v) {
    union {
        em_se s;
        unsigned w[sizeof(em_se) / 4];
    } u;
    u.s = v;
    volatile unsigned *d = reinterpret_cast<volatile unsigned *>(p);
#pragma unroll
    for (int k = 0; k < (int)(sizeof(em_se) / 4); k++)
        d[k] = u.w[k];
}
__device__ __forceinline__ em_se em_vld(const em_se *p) {
    union {
        em_se s;
        unsigned w[sizeof(em_se) / 4];
    } u;
    const volatile unsigned *s = reinterpret_cast<const volatile unsigned *>(p);
#pragma unroll
    for (int k = 0; k < (int)(sizeof(em_se) / 4); k++)
        u.w[k] = s[k];
    return u.s;
}
__device__ __forceinline__ void em_publish(unsigned char *flag, em_se *vals, em_it k, em_se v,
                                           unsigned char f) {
    em_vst(vals + k, v);
    __threadfence();
    reinterpret_cast<volatile unsigned char *>(flag)[k] = f;
}
// The combination of the items first, first + step, ..., k - step (the items before k on its
// line), read back from k until an inclusive prefix (or, by key, a head) ends the walk. Every
// item it waits for was taken by an earlier ticket, so it has started and will publish. One
// thread walks four items per round trip: their flags are read together, then their values.
__device__ em_se em_lookback(const unsigned char *flag, const em_se *agg, const em_se *incl,
                             em_it k, em_it first, em_it step) {
    em_se run = em_se_id();
    const volatile unsigned char *vf = reinterpret_cast<const volatile unsigned char *>(flag);
    em_it at = k;
    while (at != first) {
        const em_it left = (at - first) / step;
        const int cnt = left < 4 ? (int)left : 4;
        unsigned char f[4];
        for (;;) {
            bool ready = true;
#pragma unroll
            for (int u = 0; u < 4; u++)
                if (u < cnt) {
                    f[u] = vf[at - (em_it)(u + 1) * step];
                    ready = ready && f[u] != 0;
                }
            if (ready) break;
        }
        __threadfence();
#pragma unroll
        for (int u = 0; u < 4; u++) {
            if (u >= cnt) break;
            const em_it p = at - (em_it)(u + 1) * step;
            if (f[u] == 2) return em_se_op(em_vld(incl + p), run);
            run = em_se_op(em_vld(agg + p), run);
            if (em_se_head(run)) return run; // nothing before a head matters
        }
        at -= (em_it)cnt * step;
    }
    return run;
}

// One round of a warp's look-back: lane l holds v, the combination of its items (a higher lane
// holds earlier items), and incl when one of them is an inclusive prefix. The window up to the
// nearest lane with an inclusive prefix folds into run (lane 0's copy: v[stop] + ... + v[0],
// then run); true when the walk is over (an inclusive prefix or a head was reached). Every lane
// of the warp must call it.
__device__ __forceinline__ bool em_lookback_fold(em_se v, bool incl, em_se &run) {
    const int lane = threadIdx.x % 32;
    const unsigned incl_lanes = __ballot_sync(0xffffffffu, incl);
    const int stop = incl_lanes ? __ffs(incl_lanes) - 1 : 31;
    if (lane > stop) v = em_se_id();
#pragma unroll
    for (int d = 1; d < 32; d *= 2) {
        const em_se y = em_se_shfl_down(v, d);
        if (lane + d < 32) v = em_se_op(y, v);
    }
    run = em_se_op(em_se_shfl_idx(v, 0), run);
    return incl_lanes || em_se_head(run);
}

// The same walk for the tile kernel by a whole warp, 32 items per round trip: lane l looks at
// item at - 1 - l; the closest item holding an inclusive prefix (or the line's start) ends the
// walk, and the window's values combine in item order. Every lane of the warp must call it; lane
// 0's result is the prefix.
__device__ em_se em_lookback_warp(const unsigned char *flag, const em_se *agg, const em_se *incl,
                                  em_it k, em_it first) {
    const int lane = threadIdx.x % 32;
    const volatile unsigned char *vf = reinterpret_cast<const volatile unsigned char *>(flag);
    em_se run = em_se_id();
    em_it at = k;
    while (at != first) {
        const bool valid = (em_it)lane < at - first;
        const em_it p = at - 1 - (em_it)lane;
        unsigned char f = 2; // before the line's start: an inclusive identity
        if (valid) {
            do {
                f = vf[p];
            } while (f == 0);
        }
        __threadfence();
        em_se v = em_se_id();
        if (valid) v = f == 2 ? em_vld(incl + p) : em_vld(agg + p);
        if (em_lookback_fold(v, f == 2, run)) break;
        at -= 32;
    }
    return run;
}

// ---- element access ----

__device__ __forceinline__ em_vt em_sval(const em_params &p, em_it i) {
    em_coord<em_it> c = em_coord<em_it>();
    if (EM_VAL_COORDS) c = em_coords<em_it>(i, p.d0, p.d1, p.d2);
    return em_value(p, i, c);
}
#if EM_SCAN_KEYS
// Whether element e (position j along its line, previous element e - stride) starts a run.
__device__ __forceinline__ int em_shead(const em_kt *keys, em_it e, em_it j, em_it stride) {
    return j == 0 || keys[e] != keys[e - stride];
}
#else
typedef unsigned int em_kt;
#endif

#endif // EM_SCAN_KERNEL <= 3

#if EM_SCAN_KERNEL == 1 || EM_SCAN_KERNEL == 0
// Blocks of the tile kernel resident per SM that its register budget must allow: a tile's
// values live in registers until its prefix arrives, so residency is what hides the look-back.
#ifndef EM_SCAN_TMIN
#define EM_SCAN_TMIN 3
#endif
// ---- the tile kernel's status ----
// With EM_SCAN_PACK (em_se of 4 or 8 bytes) a tile's status is one word holding its flag beside
// its value (8 or 16 bytes, written and read with one access), so a reader that sees the flag
// holds the value too: no fence on either side. The aggregate (flag 1) is overwritten by the
// inclusive prefix (flag 2). Larger em_se keep the separate flags and values above.
#if EM_SCAN_PACK == 1
struct em_sw {
    unsigned long long w;
};
__device__ __forceinline__ void em_sw_put(em_sw *s, em_it k, em_se v, unsigned f) {
    union {
        em_se s;
        unsigned u;
    } c;
    c.s = v;
    *reinterpret_cast<volatile unsigned long long *>(s + k) =
        (unsigned long long)c.u | (unsigned long long)f << 32;
}
__device__ __forceinline__ em_sw em_sw_get(const em_sw *s, em_it k) {
    em_sw r;
    r.w = *reinterpret_cast<const volatile unsigned long long *>(s + k);
    return r;
}
__device__ __forceinline__ unsigned em_sw_flag(em_sw w) {
    return (unsigned)(w.w >> 32);
}
__device__ __forceinline__ em_se em_sw_val(em_sw w) {
    union {
        em_se s;
        unsigned u;
    } c;
    c.u = (unsigned)w.w;
    return c.s;
}
#elif EM_SCAN_PACK == 2
struct __align__(16) em_sw {
    unsigned long long v, f;
};
__device__ __forceinline__ void em_sw_put(em_sw *s, em_it k, em_se v, unsigned f) {
    union {
        em_se s;
        unsigned long long u;
    } c;
    c.s = v;
    asm volatile("st.volatile.v2.u64 [%0], {%1, %2};" ::"l"(s + k), "l"(c.u),
                 "l"((unsigned long long)f)
                 : "memory");
}
__device__ __forceinline__ em_sw em_sw_get(const em_sw *s, em_it k) {
    em_sw r;
    asm volatile("ld.volatile.v2.u64 {%0, %1}, [%2];"
                 : "=l"(r.v), "=l"(r.f)
                 : "l"(s + k)
                 : "memory");
    return r;
}
__device__ __forceinline__ unsigned em_sw_flag(em_sw w) {
    return (unsigned)w.f;
}
__device__ __forceinline__ em_se em_sw_val(em_sw w) {
    union {
        em_se s;
        unsigned long long u;
    } c;
    c.u = w.v;
    return c.s;
}
#endif

#if EM_SCAN_PACK
// Tiles a warp's look-back reads per round trip: EM_SCAN_LB per lane, lane l taking the items
// at - 1 - (l * EM_SCAN_LB + u), so lane 0 holds the nearest.
#define EM_SCAN_LB 4
// The prefix of tile k (the combination of tiles first .. k - 1), walked back by a whole warp
// 32 * EM_SCAN_LB tiles per round trip until an inclusive prefix (or the line's start, or by key
// a head) ends the walk. Every lane must call it; lane 0's result is the prefix. Every tile it
// waits for was taken by an earlier ticket, so it has started and will publish.
__device__ em_se em_lookback_packed(const em_sw *st, em_it k, em_it first) {
    const int lane = threadIdx.x % 32;
    em_se run = em_se_id();
    em_it at = k;
    while (at != first) {
        const em_it left = at - first;
        em_sw w[EM_SCAN_LB];
        unsigned pending = 0;
#pragma unroll
        for (int u = 0; u < EM_SCAN_LB; u++)
            if ((em_it)(lane * EM_SCAN_LB + u) < left) pending |= 1u << u;
        // Every missing word is read again until each has its flag; the reads of one round go
        // out together.
        while (pending) {
#pragma unroll
            for (int u = 0; u < EM_SCAN_LB; u++)
                if ((pending >> u) & 1u)
                    w[u] = em_sw_get(st, at - 1 - (em_it)(lane * EM_SCAN_LB + u));
#pragma unroll
            for (int u = 0; u < EM_SCAN_LB; u++)
                if (((pending >> u) & 1u) && em_sw_flag(w[u]) != 0) pending &= ~(1u << u);
        }
        // The lane's items from its farthest to its nearest; an inclusive prefix (or a position
        // before the line's start, an inclusive identity) restarts the combination.
        em_se v = em_se_id();
        bool incl = false;
#pragma unroll
        for (int u = EM_SCAN_LB - 1; u >= 0; u--) {
            if ((em_it)(lane * EM_SCAN_LB + u) >= left) {
                v = em_se_id();
                incl = true;
            } else if (em_sw_flag(w[u]) == 2) {
                v = em_sw_val(w[u]);
                incl = true;
            } else {
                v = em_se_op(v, em_sw_val(w[u]));
            }
        }
        if (em_lookback_fold(v, incl, run)) break;
        at -= 32 * EM_SCAN_LB;
    }
    return run;
}
#endif

// The tile's elements [tbase, tbase + 256 * EM_SCAN_TITEMS) of the line starting at element
// lbase: warp w takes 32 * EM_SCAN_TITEMS of them in R = EM_SCAN_TITEMS / VV chunks of 32 lanes
// x VV consecutive elements (every read of a chunk coalesced). A full tile reads all its chunks
// before it combines any, so every read of the thread is in flight at once.
template <int VV>
__device__ __forceinline__ void em_tile(const em_params &p, em_it lbase, em_it len, em_it tbase,
                                        em_it item, em_it first, const em_kt *keys,
                                        unsigned char *flag, em_se *agg, em_se *incl, em_vt *out,
                                        em_se *s_warp, em_se *s_raw) {
    const int R = EM_SCAN_TITEMS / VV;
    // The thread's scanned values wait in shared memory while warp 0 walks back, so that no
    // register holds them across the look-back: residency is then bounded by shared memory, not
    // registers. Value q of chunk k of thread tid sits at s_vals[k][q][tid], so that a warp's
    // accesses fall in consecutive banks.
    em_se(*s_vals)[VV][256] = reinterpret_cast<em_se(*)[VV][256]>(s_raw);
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    const em_it wbase = tbase + (em_it)warp * (32 * EM_SCAN_TITEMS);
    const bool full = tbase + 256 * EM_SCAN_TITEMS <= len;
    em_vt x[R][VV];
    if (full) {
#pragma unroll
        for (int k = 0; k < R; k++) {
            const em_it j0 = wbase + (em_it)(k * 32 + lane) * VV;
            if (VV > 1)
                em_value_vec(p, lbase + j0, x[k]);
            else
                x[k][0] = em_sval(p, lbase + j0);
        }
    } else {
#pragma unroll
        for (int k = 0; k < R; k++) {
            const em_it j0 = wbase + (em_it)(k * 32 + lane) * VV;
            if (VV > 1 && j0 + VV <= len) {
                em_value_vec(p, lbase + j0, x[k]);
            } else {
#pragma unroll
                for (int q = 0; q < VV; q++)
                    x[k][q] = j0 + q < len ? em_sval(p, lbase + j0 + q) : em_sid();
            }
        }
    }
    em_se v[R][VV]; // dead once stashed in s_vals
    em_se tp[R];
#if EM_SCAN_KEYS && EM_SCAN_EXCL
    unsigned heads[R];
#endif
    em_se carry = em_se_id();
#pragma unroll
    for (int k = 0; k < R; k++) {
        const em_it j0 = wbase + (em_it)(k * 32 + lane) * VV;
#if EM_SCAN_KEYS && EM_SCAN_EXCL
        heads[k] = 0;
#endif
#pragma unroll
        for (int q = 0; q < VV; q++) {
            int h = 0;
#if EM_SCAN_KEYS
            if (j0 + q < len) h = em_shead(keys, lbase + j0 + q, j0 + q, 1);
#if EM_SCAN_EXCL
            heads[k] |= (unsigned)h << q;
#endif
#endif
            v[k][q] = em_se_elem(x[k][q], h);
        }
        (void)j0;
#pragma unroll
        for (int q = 1; q < VV; q++)
            v[k][q] = em_se_op(v[k][q - 1], v[k][q]);
#pragma unroll
        for (int q = 0; q < VV; q++)
            s_vals[k][q][threadIdx.x] = v[k][q];
        em_se wi = em_warp_iscan(v[k][VV - 1], lane);
        em_se we = em_se_shfl_up(wi, 1);
        if (lane == 0) we = em_se_id();
        tp[k] = em_se_op(carry, we);
        carry = em_se_op(carry, em_se_shfl_idx(wi, 31));
    }
    // The warps' aggregates, then the tile's prefix from the look-back.
    if (lane == 0) s_warp[warp] = carry;
    __syncthreads();
    if (warp == 0) {
        // The tile's aggregate, published at once; then warp 0 walks back for its prefix.
        em_se run = em_se_id(), wpre[8];
#pragma unroll
        for (int w = 0; w < 8; w++) {
            wpre[w] = run;
            run = em_se_op(run, s_warp[w]);
        }
        em_se prefix = em_se_id();
#if EM_SCAN_PACK
        em_sw *st = reinterpret_cast<em_sw *>(agg);
        (void)flag, (void)incl;
        if (lane == 0) em_sw_put(st, item, run, item == first ? 2 : 1);
        if (item != first) {
            prefix = em_lookback_packed(st, item, first);
            if (lane == 0) em_sw_put(st, item, em_se_op(prefix, run), 2);
        }
#else
        if (lane == 0)
            em_publish(flag, item == first ? incl : agg, item, run, item == first ? 2 : 1);
        if (item != first) {
            prefix = em_lookback_warp(flag, agg, incl, item, first);
            if (lane == 0) em_publish(flag, incl, item, em_se_op(prefix, run), 2);
        }
#endif
        __syncwarp(); // every lane has read s_warp before lane 0 rewrites it
        if (lane == 0) {
#pragma unroll
            for (int w = 0; w < 8; w++)
                s_warp[w] = em_se_op(prefix, wpre[w]);
        }
    }
    __syncthreads();
    const em_se wp = s_warp[warp];
#pragma unroll
    for (int k = 0; k < R; k++) {
        const em_it j0 = wbase + (em_it)(k * 32 + lane) * VV;
        const em_se pre = em_se_op(wp, tp[k]);
#pragma unroll
        for (int q = 0; q < VV; q++)
            v[k][q] = s_vals[k][q][threadIdx.x];
        em_vt o[VV];
#pragma unroll
        for (int q = 0; q < VV; q++) {
#if EM_SCAN_EXCL
#if EM_SCAN_KEYS
            const bool start = ((heads[k] >> q) & 1u) || j0 + q == 0;
#else
            const bool start = j0 + q == 0;
#endif
            o[q] = start ? em_sinit() : em_se_val(q == 0 ? pre : em_se_op(pre, v[k][q - 1]));
#else
            o[q] = em_se_val(em_se_op(pre, v[k][q]));
#endif
        }
        if (VV > 1 && (full || j0 + VV <= len)) {
            em_st<VV>(out + lbase + j0, o);
        } else {
#pragma unroll
            for (int q = 0; q < VV; q++)
                if (full || j0 + q < len) out[lbase + j0 + q] = o[q];
        }
    }
}

// Tile `ticket` of lines of `len` elements, tpl tiles per line. With EM_SCAN_PACK, `agg` holds
// the tiles' status words and `flag` and `incl` are unused.
extern "C" __global__ void __launch_bounds__(256, EM_SCAN_TMIN)
    em_scan_tiles(const em_params p, unsigned long long len_, unsigned long long tpl_,
                  unsigned int *ticket, unsigned char *flag, em_se *agg, em_se *incl,
                  const em_kt *keys, em_vt *out) {
    __shared__ unsigned int s_ticket;
    __shared__ em_se s_warp[8];
    __shared__ em_se s_vals[256 * EM_SCAN_TITEMS];
    if (threadIdx.x == 0) s_ticket = atomicAdd(ticket, 1u);
    __syncthreads();
    const em_it len = (em_it)len_, tpl = (em_it)tpl_;
    const em_it item = (em_it)s_ticket, line = item / tpl, t = item - line * tpl;
    const em_it lbase = line * len, tbase = t * (256 * EM_SCAN_TITEMS);
#if EM_VAL_V > 1
    if (p.vec) {
        em_tile<EM_VAL_V>(p, lbase, len, tbase, item, line * tpl, keys, flag, agg, incl, out,
                          s_warp, s_vals);
        return;
    }
#endif
    em_tile<1>(p, lbase, len, tbase, item, line * tpl, keys, flag, agg, incl, out, s_warp, s_vals);
}
#endif

#if EM_SCAN_KERNEL == 2 || EM_SCAN_KERNEL == 0
// Warp w of block b scans line 8 * b + w of `len` contiguous elements.
extern "C" __global__ void __launch_bounds__(256)
    em_scan_warps(const em_params p, unsigned long long len_, unsigned long long lines_,
                  const em_kt *keys, em_vt *out) {
    const em_it len = (em_it)len_;
    const int lane = threadIdx.x % 32;
    const em_it line = (em_it)blockIdx.x * 8 + threadIdx.x / 32;
    if (line >= (em_it)lines_) return; // whole warps leave together
    const em_it lbase = line * len;
    em_se carry = em_se_id();
    for (em_it j0 = 0; j0 < len; j0 += 32) {
        const em_it j = j0 + lane;
        const bool in = j < len;
        int h = 0;
#if EM_SCAN_KEYS
        if (in) h = em_shead(keys, lbase + j, j, 1);
#endif
        const em_se s = em_se_elem(in ? em_sval(p, lbase + j) : em_sid(), h);
        const em_se wi = em_warp_iscan(s, lane);
#if EM_SCAN_EXCL
        em_se we = em_se_shfl_up(wi, 1);
        if (lane == 0) we = em_se_id();
        const em_vt o = (h || j == 0) ? em_sinit() : em_se_val(em_se_op(carry, we));
#else
        const em_vt o = em_se_val(em_se_op(carry, wi));
#endif
        if (in) out[lbase + j] = o;
        carry = em_se_op(carry, em_se_shfl_idx(wi, 31));
    }
}
#endif

#if EM_SCAN_KERNEL == 3 || EM_SCAN_KERNEL == 0
// Lines q < nq (element j of line q at base(q) + inner * j, base(q) = i + inner * len * o with
// i = q % inner, o = q / inner), chunks of EM_SCAN_ITEMS elements along j; block `ticket % cb`
// of the lines, chunk `ticket / cb` (chunk-major, so a chunk's predecessor has an earlier ticket).
extern "C" __global__ void __launch_bounds__(256)
    em_scan_cols(const em_params p, unsigned long long inner_, unsigned long long len_,
                 unsigned long long nq_, unsigned long long cb_, unsigned long long nchunks_,
                 unsigned int *ticket, unsigned char *flag, em_se *agg, em_se *incl,
                 const em_kt *keys, em_vt *out) {
    __shared__ unsigned int s_ticket;
    if (threadIdx.x == 0) s_ticket = atomicAdd(ticket, 1u);
    __syncthreads();
    const em_it inner = (em_it)inner_, len = (em_it)len_, nq = (em_it)nq_, cb = (em_it)cb_;
    const em_it chunk = (em_it)s_ticket / cb, colb = (em_it)s_ticket - chunk * cb;
    const em_it q = colb * blockDim.x + threadIdx.x;
    if (q >= nq) return; // no barrier follows
    const em_it i = q % inner, o = q / inner;
    const em_it lb = i + inner * len * o;
    const em_it j0 = chunk * EM_SCAN_ITEMS;
    em_se v[EM_SCAN_ITEMS];
    em_se aggv = em_se_id();
#pragma unroll
    for (int u = 0; u < EM_SCAN_ITEMS; u++) {
        const em_it j = j0 + u;
        if (j < len) {
            int h = 0;
#if EM_SCAN_KEYS
            h = em_shead(keys, lb + inner * j, j, inner);
#endif
            v[u] = em_se_elem(em_sval(p, lb + inner * j), h);
        } else {
            v[u] = em_se_id();
        }
        aggv = em_se_op(aggv, v[u]);
    }
    em_se run = em_se_id();
    if (nchunks_ > 1) {
        const em_it item = chunk * nq + q;
        if (chunk == 0) {
            em_publish(flag, incl, item, aggv, 2);
        } else {
            em_publish(flag, agg, item, aggv, 1);
            run = em_lookback(flag, agg, incl, item, q, nq);
            em_publish(flag, incl, item, em_se_op(run, aggv), 2);
        }
    }
#pragma unroll
    for (int u = 0; u < EM_SCAN_ITEMS; u++) {
        const em_it j = j0 + u;
        if (j >= len) break;
#if EM_SCAN_EXCL
        const em_vt r = (em_se_head(v[u]) || j == 0) ? em_sinit() : em_se_val(run);
        run = em_se_op(run, v[u]);
#else
        run = em_se_op(run, v[u]);
        const em_vt r = em_se_val(run);
#endif
        out[lb + inner * j] = r;
    }
}
#endif

// ---- where: em_vt is em_u8 (b8 values 0 or 1); em_where_offsets needs no value ----

#define EM_WHERE_ITEMS 16
#define EM_WHERE_TILE  (256 * EM_WHERE_ITEMS)
#if EM_SCAN_KERNEL == 4 || EM_SCAN_KERNEL == 6

// The number of non-zero values among this thread's elements of the tile starting at tbase (n
// elements in all): R chunks of VV consecutive elements, chunk k of warp w at
// tbase + w * 32 * EM_WHERE_ITEMS + (k * 32 + lane) * VV; bit (k * VV + q) of *bits marks each.
template <int VV>
__device__ __forceinline__ void em_where_bits(const em_params &p, em_it n, em_it tbase,
                                              unsigned *bits) {
    const int R = EM_WHERE_ITEMS / VV;
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    const em_it wbase = tbase + (em_it)warp * (32 * EM_WHERE_ITEMS);
    unsigned b = 0;
#pragma unroll
    for (int k = 0; k < R; k++) {
        const em_it e0 = wbase + (em_it)(k * 32 + lane) * VV;
        em_vt x[VV];
        if (VV > 1 && e0 + VV <= n) {
            em_value_vec(p, e0, x);
        } else {
#pragma unroll
            for (int q = 0; q < VV; q++) {
                x[q] = 0;
                if (e0 + q < n) {
                    em_coord<em_it> c = em_coord<em_it>();
                    if (EM_VAL_COORDS) c = em_coords<em_it>(e0 + q, p.d0, p.d1, p.d2);
                    x[q] = em_value(p, e0 + q, c);
                }
            }
        }
#pragma unroll
        for (int q = 0; q < VV; q++)
            b |= (unsigned)(x[q] != 0) << (k * VV + q);
    }
    *bits = b;
}

__device__ __forceinline__ unsigned em_where_tile_bits(const em_params &p, em_it n, em_it tbase) {
    unsigned b;
#if EM_VAL_V > 1
    if (p.vec) {
        em_where_bits<EM_VAL_V>(p, n, tbase, &b);
        return b;
    }
#endif
    em_where_bits<1>(p, n, tbase, &b);
    return b;
}

// The sum of one value per thread of the block, in thread 0.
__device__ __forceinline__ unsigned em_where_block_sum(unsigned c) {
    __shared__ unsigned s[8];
    for (int d = 16; d > 0; d /= 2)
        c += __shfl_down_sync(0xffffffffu, c, d);
    if (threadIdx.x % 32 == 0) s[threadIdx.x / 32] = c;
    __syncthreads();
    unsigned t = 0;
    if (threadIdx.x == 0)
        for (int w = 0; w < 8; w++)
            t += s[w];
    return t;
}
#endif

#if EM_SCAN_KERNEL == 4
extern "C" __global__ void __launch_bounds__(256)
    em_where_count(const em_params p, unsigned long long n_, unsigned int *counts) {
    const em_it n = (em_it)n_, tbase = (em_it)blockIdx.x * EM_WHERE_TILE;
    const unsigned c = __popc(em_where_tile_bits(p, n, tbase));
    const unsigned t = em_where_block_sum(c);
    if (threadIdx.x == 0) counts[blockIdx.x] = t;
}
#endif

#if EM_SCAN_KERNEL == 5
// One block of 1024 threads: counts[0..ntiles) become their exclusive prefix sums (64-bit, so
// that more than 2^32 indices would still be counted right), the total goes to *total.
extern "C" __global__ void __launch_bounds__(1024)
    em_where_offsets(const unsigned int *counts, unsigned long long ntiles,
                     unsigned long long *offsets, unsigned long long *total) {
    __shared__ unsigned long long s[32];
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    unsigned long long carry = 0;
    for (unsigned long long base = 0; base < ntiles; base += 1024) {
        const unsigned long long k = base + threadIdx.x;
        const unsigned long long c = k < ntiles ? counts[k] : 0;
        unsigned long long x = c;
        for (int d = 1; d < 32; d *= 2) {
            unsigned long long y = __shfl_up_sync(0xffffffffu, x, d);
            if (lane >= d) x += y;
        }
        if (lane == 31) s[warp] = x;
        __syncthreads();
        if (warp == 0) {
            unsigned long long w = s[lane];
            for (int d = 1; d < 32; d *= 2) {
                unsigned long long y = __shfl_up_sync(0xffffffffu, w, d);
                if (lane >= d) w += y;
            }
            s[lane] = w; // inclusive over warps
        }
        __syncthreads();
        const unsigned long long before = carry + (warp ? s[warp - 1] : 0) + x - c;
        if (k < ntiles) offsets[k] = before;
        carry += s[31];
        __syncthreads(); // s is rewritten by the next round
    }
    if (threadIdx.x == 0) *total = carry;
}
#endif

#if EM_SCAN_KERNEL == 6
// Tile blockIdx.x writes the indices of its non-zero values at out[offsets[tile] ...], in order:
// a thread's elements are ordered chunk by chunk (as em_where_bits lays them out), so each
// element's rank is the count of those in earlier chunks of the warp, earlier lanes of its
// chunk, earlier warps, and earlier positions of its own group.
template <int VV>
__device__ __forceinline__ void em_where_put(const em_params &p, em_it n, em_it tbase,
                                             unsigned long long off, unsigned int *out) {
    const int R = EM_WHERE_ITEMS / VV;
    __shared__ unsigned s[8];
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    unsigned bits;
    em_where_bits<VV>(p, n, tbase, &bits);
    // Per chunk: the lane's count, its exclusive prefix over the lanes, the chunk's total.
    unsigned pre[R], wsum = 0;
#pragma unroll
    for (int k = 0; k < R; k++) {
        const unsigned c = __popc((bits >> (k * VV)) & ((1u << VV) - 1u) & 0xffffu);
        unsigned x = c;
        for (int d = 1; d < 32; d *= 2) {
            unsigned y = __shfl_up_sync(0xffffffffu, x, d);
            if (lane >= d) x += y;
        }
        pre[k] = wsum + x - c;
        wsum += __shfl_sync(0xffffffffu, x, 31);
    }
    if (lane == 0) s[warp] = wsum;
    __syncthreads();
    unsigned wbefore = 0;
    for (int w = 0; w < warp; w++)
        wbefore += s[w];
    const em_it wbase = tbase + (em_it)warp * (32 * EM_WHERE_ITEMS);
#pragma unroll
    for (int k = 0; k < R; k++) {
        const em_it e0 = wbase + (em_it)(k * 32 + lane) * VV;
        unsigned long long at = off + wbefore + pre[k];
#pragma unroll
        for (int q = 0; q < VV; q++)
            if ((bits >> (k * VV + q)) & 1u) out[at++] = (unsigned int)(e0 + q);
    }
}

extern "C" __global__ void __launch_bounds__(256)
    em_where_write(const em_params p, unsigned long long n_, const unsigned long long *offsets,
                   unsigned int *out) {
    const em_it n = (em_it)n_, tbase = (em_it)blockIdx.x * EM_WHERE_TILE;
    const unsigned long long off = offsets[blockIdx.x];
#if EM_VAL_V > 1
    if (p.vec) {
        em_where_put<EM_VAL_V>(p, n, tbase, off, out);
        return;
    }
#endif
    em_where_put<1>(p, n, tbase, off, out);
}
#endif
