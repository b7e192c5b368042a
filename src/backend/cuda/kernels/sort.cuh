/* Sorting, sets and order selection: the kernels around CUB's radix sort (src/backend/cuda/sort.c
 * and nvcc/sort.cu). Compiled by NVRTC once per key dtype; the host prepends
 *     #define EM_T  <storage type of the dtype>     #define EM_TW <its width in bits>
 *     #define EM_KIND 0 unsigned, 1 signed, 2 floating
 * and one EM_SORT_K_<name> per kernel it loads (EM_SORT_K_ALL: every kernel, for the compile
 * check). Keys are the dtype's bits mapped to an unsigned integer whose plain order is the order
 * of src/backend/algorithm.h (-0 is +0, NaN the all-ones key above +inf), held in 32 bits for
 * dtypes of up to 32 bits and in 64 bits otherwise, so CUB sorts two key widths only; descending
 * order flips the EM_TW low bits. */

typedef unsigned char em_u8;
typedef unsigned short em_u16;
typedef unsigned int em_u32;
typedef unsigned long long em_u64;

#if EM_TW == 64
typedef em_u64 em_key;  /* the key CUB sorts */
typedef em_u64 em_bits; /* the dtype's bits */
#else
typedef em_u32 em_key;
#if EM_TW == 32
typedef em_u32 em_bits;
#elif EM_TW == 16
typedef em_u16 em_bits;
#else
typedef em_u8 em_bits;
#endif
#endif

#define EM_KEY_MAX ((em_key)(((em_bits) ~(em_bits)0)))
#define EM_SIGN    ((em_bits)((em_bits)1 << (EM_TW - 1)))
#if EM_TW == 64
#define EM_INF 0x7ff0000000000000ull
#elif EM_TW == 32
#define EM_INF 0x7f800000u
#else
#define EM_INF 0x7c00u
#endif

#if defined(EM_SORT_K_ALL)
#define EM_SORT_K_em_sort_map      1
#define EM_SORT_K_em_sort_map_diff 1
#define EM_SORT_K_em_sort_unmap    1
#define EM_SORT_K_em_sort_iota     1
#define EM_SORT_K_em_sort_segkey   1
#define EM_SORT_K_em_sort_finish   1
#define EM_SORT_K_em_sort_scatter  1
#define EM_SORT_K_em_sel_hist      1
#define EM_SORT_K_em_sel_pick      1
#define EM_SORT_K_em_sel_init      1
#define EM_SORT_K_em_sel_median    1
#define EM_SORT_K_em_cmp_count     1
#define EM_SORT_K_em_cmp_scan      1
#define EM_SORT_K_em_cmp_write     1
#define EM_SORT_K_em_topk_finish   1
#define EM_SORT_K_em_set_mark      1
#define EM_SORT_K_em_set_count     1
#define EM_SORT_K_em_set_scan      1
#define EM_SORT_K_em_set_write     1
#define EM_SORT_K_em_sort_fix_nan  1
#define EM_SORT_K_em_sort_fix_copy 1
#endif

__device__ __forceinline__ em_key em_map(em_bits b) {
#if EM_KIND == 0
    return (em_key)b;
#elif EM_KIND == 1
    return (em_key)(em_bits)(b ^ EM_SIGN);
#else
    em_bits mag = (em_bits)(b & (em_bits)~EM_SIGN);
    if (mag > (em_bits)EM_INF) return EM_KEY_MAX;
    if (mag == 0) return (em_key)EM_SIGN;
    return (em_key)(em_bits)((b & EM_SIGN) ? (em_bits)~b : (em_bits)(b | EM_SIGN));
#endif
}

__device__ __forceinline__ em_bits em_unmap(em_key k) {
    em_bits m = (em_bits)k;
#if EM_KIND == 0
    return m;
#elif EM_KIND == 1
    return (em_bits)(m ^ EM_SIGN);
#else
    return (m & EM_SIGN) ? (em_bits)(m ^ EM_SIGN) : (em_bits)~m;
#endif
}

__device__ __forceinline__ bool em_key_nan(em_key k) {
#if EM_KIND == 2
    return k == EM_KEY_MAX;
#else
    (void)k;
    return false;
#endif
}

/* The element's value as a double, for medians. */
__device__ __forceinline__ double em_value(em_bits b) {
#if EM_KIND == 2 && EM_TW == 32
    return (double)__uint_as_float(b);
#elif EM_KIND == 2 && EM_TW == 64
    return __longlong_as_double((long long)b);
#elif EM_KIND == 1 && EM_TW == 32
    return (double)(int)b;
#elif EM_KIND == 1 && EM_TW == 16
    return (double)(short)b;
#elif EM_KIND == 1 && EM_TW == 8
    return (double)(signed char)b;
#elif EM_KIND == 1 && EM_TW == 64
    return (double)(long long)b;
#elif EM_KIND == 2 && EM_TW == 16
    /* binary16 to float by hand: NVRTC's cuda_fp16.h is not on the include path. */
    unsigned s = (b >> 15) & 1u, e = (b >> 10) & 31u, f = b & 1023u, u;
    if (e == 31) {
        u = (s << 31) | 0x7f800000u | (f << 13);
    } else if (e == 0) {
        if (f == 0) {
            u = s << 31;
        } else {
            int sh = 0;
            while (!(f & 1024u)) {
                f <<= 1;
                sh++;
            }
            u = (s << 31) | ((unsigned)(113 - sh) << 23) | ((f & 1023u) << 13);
        }
    } else {
        u = (s << 31) | ((e + 112u) << 23) | (f << 13);
    }
    return (double)__uint_as_float(u);
#else
    return (double)b;
#endif
}

#define EM_GRID_LOOP(i, n)                                                                         \
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (n);                  \
         i += (long long)gridDim.x * blockDim.x)

/* Element `pos` along the line of `line` in a block whose lines have stride `inner` and length
 * `len`: the line's first element is line % inner + (line / inner) * inner * len. */
__device__ __forceinline__ long long em_at(long long line, long long pos, long long inner,
                                           long long len) {
    return line % inner + (line / inner) * inner * len + pos * inner;
}

/* keys[i] = map(in[i]) ^ flip. */
#ifdef EM_SORT_K_em_sort_map
extern "C" __global__ void em_sort_map(const em_bits *in, em_key *keys, long long n, em_key flip) {
    EM_GRID_LOOP(i, n) keys[i] = em_map(in[i]) ^ flip;
}
#endif

/* em_sort_map that also ORs every key's difference from the key of *ref into *diff, so the host
 * can sort only the bits in which the keys differ (used where the host waits anyway). */
#ifdef EM_SORT_K_em_sort_map_diff
extern "C" __global__ void em_sort_map_diff(const em_bits *in, em_key *keys, long long n,
                                            em_key flip, const em_bits *ref, em_key *diff) {
    em_key r = em_map(*ref) ^ flip, acc = 0;
    EM_GRID_LOOP(i, n) {
        em_key k = em_map(in[i]) ^ flip;
        keys[i] = k;
        acc |= k ^ r;
    }
    for (int o = 16; o > 0; o >>= 1)
        acc |= __shfl_down_sync(0xffffffffu, acc, o);
    if ((threadIdx.x & 31) == 0 && acc) atomicOr(diff, acc);
}
#endif

/* out[i] = unmap(keys[i] ^ flip). */
#ifdef EM_SORT_K_em_sort_unmap
extern "C" __global__ void em_sort_unmap(const em_key *keys, em_bits *out, long long n,
                                         em_key flip) {
    EM_GRID_LOOP(i, n) out[i] = em_unmap(keys[i] ^ flip);
}
#endif

#ifdef EM_SORT_K_em_sort_iota
extern "C" __global__ void em_sort_iota(em_u32 *out, long long n) {
    EM_GRID_LOOP(i, n) out[i] = (em_u32)i;
}
#endif

/* The second pass of a sort of many lines: each element's line, from its input position g. */
#ifdef EM_SORT_K_em_sort_segkey
extern "C" __global__ void em_sort_segkey(const em_u32 *g, em_u32 *seg, long long n,
                                          long long inner, long long len) {
    EM_GRID_LOOP(i, n) {
        long long p = g[i];
        seg[i] = (em_u32)(p % inner + p / (inner * len) * inner);
    }
}
#endif

/* Sorted element j of the line-major order is input element g[j]: it goes to rank j % len of
 * line j / len. keys_out gets the input value made canonical (map, then unmap), idx_out its
 * position along the line in the input. */
#ifdef EM_SORT_K_em_sort_finish
extern "C" __global__ void em_sort_finish(const em_bits *in, const em_u32 *g, em_bits *keys_out,
                                          em_u32 *idx_out, long long n, long long inner,
                                          long long len) {
    EM_GRID_LOOP(j, n) {
        long long p = g[j], dst = em_at(j / len, j % len, inner, len);
        if (keys_out) keys_out[dst] = em_unmap(em_map(in[p]));
        if (idx_out) idx_out[dst] = (em_u32)((p / inner) % len);
    }
}
#endif

/* The payload of sort_by_key follows its key: out[dst(j)] = vals[g[j]], size bytes each. */
#ifdef EM_SORT_K_em_sort_scatter
struct em_v16 {
    unsigned long long a, b;
};
extern "C" __global__ void em_sort_scatter(const void *vals, const em_u32 *g, void *out, int size,
                                           long long n, long long inner, long long len) {
    EM_GRID_LOOP(j, n) {
        long long p = g[j], dst = em_at(j / len, j % len, inner, len);
        switch (size) {
        case 1:
            ((em_u8 *)out)[dst] = ((const em_u8 *)vals)[p];
            break;
        case 2:
            ((em_u16 *)out)[dst] = ((const em_u16 *)vals)[p];
            break;
        case 4:
            ((em_u32 *)out)[dst] = ((const em_u32 *)vals)[p];
            break;
        case 8:
            ((em_u64 *)out)[dst] = ((const em_u64 *)vals)[p];
            break;
        default:
            ((em_v16 *)out)[dst] = ((const em_v16 *)vals)[p];
            break;
        }
    }
}
#endif

/* ---- Radix selection: the key of a given rank in each line, 8 bits a pass from the top. ----
 * Query q (nq per line) of line q / nq keeps prefix[q] (the key bits fixed so far) and rank[q]
 * (the rank still wanted among the keys that carry the prefix). A pass histograms the next digit
 * of the keys that carry the prefix (em_sel_hist, over tiles of each line), then em_sel_pick
 * finds the digit holding the rank and fixes it. After EM_TW / 8 passes prefix is the key. */
#ifdef EM_SORT_K_em_sel_hist
extern "C" __global__ void __launch_bounds__(256)
    em_sel_hist(const em_bits *in, long long inner, long long len, long long nlines, em_key flip,
                const em_key *prefix, int nq, int shift, em_u32 *hist, long long tile) {
    __shared__ em_u32 h[2][256];
    for (int t = threadIdx.x; t < 512; t += blockDim.x)
        h[t >> 8][t & 255] = 0;
    __syncthreads();
    int hi = shift + 8;
    bool all = hi >= (int)(8 * sizeof(em_key));
    long long lo = (long long)blockIdx.x * tile, end = lo + tile < len ? lo + tile : len;
    /* Lines beyond the grid's 65535 rows are taken in turns. */
    for (long long line = blockIdx.y; line < nlines; line += gridDim.y) {
        em_key p0 = prefix[line * nq], p1 = nq > 1 ? prefix[line * nq + 1] : 0;
        long long base = line % inner + (line / inner) * inner * len;
        for (long long j = lo + threadIdx.x; j < end; j += blockDim.x) {
            em_key k = em_map(in[base + j * inner]) ^ flip;
            int d = (int)((k >> shift) & 255);
            /* Lanes with the same digit add once, by their count: the top digits of real data
             * crowd into few buckets, and 32 atomics on one address would serialise. */
            unsigned act = __activemask();
            for (int q = 0; q < nq; q++) {
                int v = (all || ((k ^ (q ? p1 : p0)) >> hi) == 0) ? d : -1;
                unsigned peers = __match_any_sync(act, v);
                if (v >= 0 && (threadIdx.x & 31) == __ffs(peers) - 1)
                    atomicAdd(&h[q][v], (em_u32)__popc(peers));
            }
        }
        __syncthreads();
        for (int t = threadIdx.x; t < 256 * nq; t += blockDim.x) {
            em_u32 c = h[t >> 8][t & 255];
            if (c) {
                atomicAdd(&hist[(line * nq + (t >> 8)) * 256 + (t & 255)], c);
                h[t >> 8][t & 255] = 0;
            }
        }
        __syncthreads();
    }
}
#endif

#ifdef EM_SORT_K_em_sel_init
extern "C" __global__ void em_sel_init(em_key *prefix, long long *rank, long long nqs, int nq,
                                       long long r) {
    EM_GRID_LOOP(q, nqs) {
        prefix[q] = 0;
        rank[q] = r + q % nq;
    }
}
#endif

#ifdef EM_SORT_K_em_sel_pick
extern "C" __global__ void em_sel_pick(em_key *prefix, long long *rank, em_u32 *hist, int shift) {
    long long q = blockIdx.x;
    em_u32 *h = hist + q * 256;
    if (threadIdx.x == 0) {
        long long r = rank[q], run = 0;
        int b = 255;
        for (int d = 0; d < 256; d++) {
            if (r < run + h[d]) {
                b = d;
                break;
            }
            run += h[d];
        }
        prefix[q] |= (em_key)b << shift;
        rank[q] = r - run;
    }
    __syncthreads();
    h[threadIdx.x] = 0; /* ready for the next pass (256 threads) */
}
#endif

/* The median of each line from its selected keys: the middle key, or the two middle keys x, y
 * combined in the output's arithmetic as (x + y) * 0.5 (ArrayFire's rule). */
#ifdef EM_SORT_K_em_sel_median
extern "C" __global__ void em_sel_median(const em_key *prefix, int nq, long long nlines,
                                         int out_f64, void *out) {
    EM_GRID_LOOP(l, nlines) {
        double x = em_value(em_unmap(prefix[l * nq]));
        if (out_f64) {
            if (nq > 1) x = (x + em_value(em_unmap(prefix[l * nq + 1]))) * 0.5;
            ((double *)out)[l] = x;
        } else {
            float f = (float)x;
            if (nq > 1) f = (f + (float)em_value(em_unmap(prefix[l * nq + 1]))) * 0.5f;
            ((float *)out)[l] = f;
        }
    }
}
#endif

/* ---- Ordered compaction: three kernels keep the elements a rule selects, in input order. ----
 * Tiles of EM_CMP_TILE elements, each a block; em_cmp_count counts each tile's keepers (two
 * classes: A always kept, B kept while fewer than `need` of the line's B came before),
 * em_cmp_scan turns the counts of each line into offsets, em_cmp_write ranks the keepers within
 * the tile and writes them. Line line0 + blockIdx.y is the block's line (the host launches more
 * than 65535 lines in turns). Rules (mode):
 *   0 unique:    sorted keys; A = first of a run of equal keys, or NaN.
 *   1 intersect: sorted keys of two duplicate-free sets; A = first of a pair of equal keys, not
 * NaN. 2 topk:      the input itself (line-major columns), keys mapped with flip; A = key below the
 *                line's selected key, B = equal to it, need = its rank among equals + 1. */
#define EM_CMP_THREADS 256
#define EM_CMP_ITEMS   8
#define EM_CMP_TILE    (EM_CMP_THREADS * EM_CMP_ITEMS)

__device__ __forceinline__ void em_cmp_class(int mode, const em_key *keys, const em_bits *raw,
                                             long long base, long long i, long long n, em_key flip,
                                             em_key th, bool *a, bool *b) {
    *a = *b = false;
    if (i >= n) return;
    if (mode == 2) {
        em_key k = em_map(raw[base + i]) ^ flip;
        *a = k < th;
        *b = k == th;
        return;
    }
    em_key k = keys[i];
    bool first = i == 0 || keys[i - 1] != k;
    if (mode == 0)
        *a = first || em_key_nan(k);
    else
        *a = first && i + 1 < n && keys[i + 1] == k && !em_key_nan(k);
}

#ifdef EM_SORT_K_em_cmp_count
extern "C" __global__ void __launch_bounds__(EM_CMP_THREADS)
    em_cmp_count(int mode, const em_key *keys, const em_bits *raw, long long n, em_key flip,
                 const em_key *th, em_u32 *cnt, long long line0) {
    __shared__ em_u32 sa[EM_CMP_THREADS / 32], sb[EM_CMP_THREADS / 32];
    long long line = line0 + blockIdx.y, tile0 = (long long)blockIdx.x * EM_CMP_TILE;
    em_key t = mode == 2 ? th[line] : 0;
    em_u32 ca = 0, cb = 0;
    for (int it = 0; it < EM_CMP_ITEMS; it++) {
        bool a, b;
        em_cmp_class(mode, keys, raw, line * n, tile0 + it * EM_CMP_THREADS + threadIdx.x, n, flip,
                     t, &a, &b);
        ca += a;
        cb += b;
    }
    for (int o = 16; o > 0; o >>= 1) {
        ca += __shfl_down_sync(0xffffffffu, ca, o);
        cb += __shfl_down_sync(0xffffffffu, cb, o);
    }
    if ((threadIdx.x & 31) == 0) sa[threadIdx.x >> 5] = ca, sb[threadIdx.x >> 5] = cb;
    __syncthreads();
    if (threadIdx.x == 0) {
        em_u32 ta = 0, tb = 0;
        for (int w = 0; w < EM_CMP_THREADS / 32; w++)
            ta += sa[w], tb += sb[w];
        long long at = 2 * (line * gridDim.x + blockIdx.x);
        cnt[at] = ta;
        cnt[at + 1] = tb;
    }
}
#endif

/* One block per line: counts to exclusive offsets in place; total[line] = the line's keepers
 * (A, plus B up to need). */
#ifdef EM_SORT_K_em_cmp_scan
extern "C" __global__ void em_cmp_scan(em_u32 *cnt, long long tiles, const long long *rank,
                                       int need_b, long long *total) {
    __shared__ unsigned long long carry[2];
    __shared__ unsigned long long wa[32], wb[32];
    long long line = blockIdx.x;
    em_u32 *c = cnt + 2 * line * tiles;
    if (threadIdx.x == 0) carry[0] = carry[1] = 0;
    __syncthreads();
    for (long long s = 0; s < tiles; s += blockDim.x) {
        long long i = s + threadIdx.x;
        unsigned long long a = i < tiles ? c[2 * i] : 0, b = i < tiles ? c[2 * i + 1] : 0;
        /* Inclusive warp scan, then across warps. */
        unsigned long long ia = a, ib = b;
        for (int o = 1; o < 32; o <<= 1) {
            unsigned long long ya = __shfl_up_sync(0xffffffffu, ia, o);
            unsigned long long yb = __shfl_up_sync(0xffffffffu, ib, o);
            if ((threadIdx.x & 31) >= o) ia += ya, ib += yb;
        }
        if ((threadIdx.x & 31) == 31) wa[threadIdx.x >> 5] = ia, wb[threadIdx.x >> 5] = ib;
        __syncthreads();
        if (threadIdx.x == 0) {
            unsigned long long ra = 0, rb = 0;
            for (int w = 0; w < (int)(blockDim.x >> 5); w++) {
                unsigned long long xa = wa[w], xb = wb[w];
                wa[w] = ra;
                wb[w] = rb;
                ra += xa;
                rb += xb;
            }
        }
        __syncthreads();
        if (i < tiles) {
            c[2 * i] = (em_u32)(carry[0] + wa[threadIdx.x >> 5] + ia - a);
            c[2 * i + 1] = (em_u32)(carry[1] + wb[threadIdx.x >> 5] + ib - b);
        }
        __syncthreads();
        if (threadIdx.x == blockDim.x - 1) {
            carry[0] += wa[threadIdx.x >> 5] + ia;
            carry[1] += wb[threadIdx.x >> 5] + ib;
        }
        __syncthreads();
    }
    if (threadIdx.x == 0) {
        unsigned long long tb = carry[1];
        if (need_b) {
            unsigned long long need = (unsigned long long)rank[line] + 1;
            tb = tb < need ? tb : need;
        }
        total[line] = (long long)(carry[0] + tb);
    }
}
#endif

/* Writes the keepers of each tile in input order. out_mode 0: the unmapped key into out (dtype);
 * 1: the raw input value into out; 2 (topk): the key into okeys and its position in the line
 * into oidx, line l's keepers at l * cap: A first, then B; 3: the key itself into okeys. */
#ifdef EM_SORT_K_em_cmp_write
extern "C" __global__ void __launch_bounds__(EM_CMP_THREADS)
    em_cmp_write(int mode, const em_key *keys, const em_bits *raw, long long n, em_key flip,
                 const em_key *th, const long long *rank, const em_u32 *cnt, int out_mode,
                 em_bits *out, em_key *okeys, em_u32 *oidx, long long cap, long long line0) {
    __shared__ em_u32 wa[EM_CMP_THREADS / 32], wb[EM_CMP_THREADS / 32];
    long long line = line0 + blockIdx.y, tile0 = (long long)blockIdx.x * EM_CMP_TILE;
    em_key t = mode == 2 ? th[line] : 0;
    long long at = 2 * (line * gridDim.x + blockIdx.x);
    long long offa = cnt[at], offb = cnt[at + 1];
    long long need = mode == 2 ? rank[line] + 1 : 0, less = mode == 2 ? cap - need : 0;
    /* Blocked: thread t owns items tile0 + t * ITEMS ... + ITEMS - 1, so ranks follow order. */
    long long first = tile0 + (long long)threadIdx.x * EM_CMP_ITEMS;
    bool fa[EM_CMP_ITEMS], fb[EM_CMP_ITEMS];
    em_u32 ca = 0, cb = 0;
    for (int it = 0; it < EM_CMP_ITEMS; it++) {
        em_cmp_class(mode, keys, raw, line * n, first + it, n, flip, t, &fa[it], &fb[it]);
        ca += fa[it];
        cb += fb[it];
    }
    em_u32 ia = ca, ib = cb;
    for (int o = 1; o < 32; o <<= 1) {
        em_u32 ya = __shfl_up_sync(0xffffffffu, ia, o), yb = __shfl_up_sync(0xffffffffu, ib, o);
        if ((threadIdx.x & 31) >= o) ia += ya, ib += yb;
    }
    if ((threadIdx.x & 31) == 31) wa[threadIdx.x >> 5] = ia, wb[threadIdx.x >> 5] = ib;
    __syncthreads();
    em_u32 xa = 0, xb = 0;
    for (int w = 0; w < (int)(threadIdx.x >> 5); w++)
        xa += wa[w], xb += wb[w];
    long long ra = offa + xa + ia - ca, rb = offb + xb + ib - cb;
    for (int it = 0; it < EM_CMP_ITEMS; it++) {
        long long i = first + it, dst = -1;
        if (fa[it])
            dst = ra++;
        else if (fb[it]) {
            if (rb < need) dst = less + rb;
            rb++;
        }
        if (dst < 0) continue;
        if (out_mode == 0) {
            out[dst] = em_unmap(keys[i]);
        } else if (out_mode == 1) {
            out[dst] = raw[i];
        } else if (out_mode == 3) {
            okeys[dst] = keys[i];
        } else {
            okeys[line * cap + dst] = em_map(raw[line * n + i]) ^ flip;
            oidx[line * cap + dst] = (em_u32)i;
        }
    }
}
#endif

/* topk's outputs from its sorted candidates: element j is candidate g[j]. */
#ifdef EM_SORT_K_em_topk_finish
extern "C" __global__ void em_topk_finish(const em_key *ck, const em_u32 *cidx, const em_u32 *g,
                                          em_bits *vals, em_u32 *idx, long long n, em_key flip) {
    EM_GRID_LOOP(j, n) {
        em_u32 p = g ? g[j] : (em_u32)j;
        vals[j] = em_unmap(ck[p] ^ flip);
        idx[j] = cidx[p];
    }
}
#endif

/* set_unique over keys that differ only in their low bits: a bitmap of those bits (one bit per
 * possible key) replaces the sort. Each key sets its bit; a bit already seen set (the common
 * case once most keys have occurred) costs a load and no atomic. A stale load only adds a
 * redundant atomic, so the result does not depend on timing. */
#define EM_SET_WORDS   1024 /* bitmap words per block of em_set_count / em_set_write */
#define EM_SET_THREADS 256
#define EM_SET_PER     (EM_SET_WORDS / EM_SET_THREADS)

#ifdef EM_SORT_K_em_set_mark
extern "C" __global__ void em_set_mark(const em_key *keys, long long n, em_key mask, em_u32 *bm) {
    EM_GRID_LOOP(i, n) {
        em_key b = keys[i] & mask;
        em_u32 *w = bm + (b >> 5);
        em_u32 bit = 1u << (unsigned)(b & 31u);
        if (!(*w & bit)) atomicOr(w, bit);
    }
}
#endif

/* cnt[block] = the set bits among the block's EM_SET_WORDS words. */
#ifdef EM_SORT_K_em_set_count
extern "C" __global__ void __launch_bounds__(EM_SET_THREADS)
    em_set_count(const em_u32 *bm, long long words, em_u32 *cnt) {
    __shared__ em_u32 ws[EM_SET_THREADS / 32];
    long long first = (long long)blockIdx.x * EM_SET_WORDS + (long long)threadIdx.x * EM_SET_PER;
    em_u32 c = 0;
    for (int j = 0; j < EM_SET_PER; j++)
        if (first + j < words) c += __popc(bm[first + j]);
    for (int o = 16; o > 0; o >>= 1)
        c += __shfl_down_sync(0xffffffffu, c, o);
    if ((threadIdx.x & 31) == 0) ws[threadIdx.x >> 5] = c;
    __syncthreads();
    if (threadIdx.x == 0) {
        em_u32 t = 0;
        for (int w = 0; w < EM_SET_THREADS / 32; w++)
            t += ws[w];
        cnt[blockIdx.x] = t;
    }
}
#endif

/* The block counts turned into exclusive offsets, in place, and their sum into *total. The
 * blocks are few (at most 512 for a 2^24-bit bitmap), so one thread walks them. */
#ifdef EM_SORT_K_em_set_scan
extern "C" __global__ void em_set_scan(em_u32 *cnt, long long blocks, long long *total) {
    if (blockIdx.x != 0 || threadIdx.x != 0) return;
    long long run = 0;
    for (long long b = 0; b < blocks; b++) {
        em_u32 c = cnt[b];
        cnt[b] = (em_u32)run;
        run += c;
    }
    *total = run;
}
#endif

/* Writes the value of every set bit in bit order: bit b of the bitmap is the key base | b. */
#ifdef EM_SORT_K_em_set_write
extern "C" __global__ void __launch_bounds__(EM_SET_THREADS)
    em_set_write(const em_u32 *bm, long long words, const em_u32 *off, const em_bits *ref,
                 em_key mask, em_key flip, em_bits *out) {
    __shared__ em_u32 ws[EM_SET_THREADS / 32];
    long long first = (long long)blockIdx.x * EM_SET_WORDS + (long long)threadIdx.x * EM_SET_PER;
    em_key base = (em_map(*ref) ^ flip) & (em_key)~mask;
    em_u32 w[EM_SET_PER], c = 0;
    for (int j = 0; j < EM_SET_PER; j++) {
        w[j] = first + j < words ? bm[first + j] : 0u;
        c += __popc(w[j]);
    }
    em_u32 inc = c;
    for (int o = 1; o < 32; o <<= 1) {
        em_u32 y = __shfl_up_sync(0xffffffffu, inc, o);
        if ((threadIdx.x & 31) >= (unsigned)o) inc += y;
    }
    if ((threadIdx.x & 31) == 31) ws[threadIdx.x >> 5] = inc;
    __syncthreads();
    em_u32 x = 0;
    for (int v = 0; v < (int)(threadIdx.x >> 5); v++)
        x += ws[v];
    long long dst = (long long)off[blockIdx.x] + x + inc - c;
    for (int j = 0; j < EM_SET_PER; j++) {
        em_u32 m = w[j];
        while (m) {
            int b = __ffs(m) - 1;
            m &= m - 1;
            em_key k = base | (em_key)((unsigned long long)(first + j) * 32 + (unsigned)b);
            out[dst++] = em_unmap(k ^ flip);
        }
    }
}
#endif

/* After a float sort by CUB's own key twiddling, NaNs with the sign bit set form a run at the
 * low end (ascending) or the high end (descending), where the library's order wants them with
 * the other NaNs at the opposite end. Usually there are none, and each thread only reads the
 * end element. Otherwise the run's length m goes to *fixm and the corrected order into tmp;
 * em_sort_fix_copy then moves it back. */
#if EM_KIND == 2
__device__ __forceinline__ bool em_neg_nan(em_bits b) {
    return (b & EM_SIGN) && (em_bits)(b & (em_bits)~EM_SIGN) > (em_bits)EM_INF;
}
#endif

#ifdef EM_SORT_K_em_sort_fix_nan
extern "C" __global__ void em_sort_fix_nan(const em_bits *src, em_bits *tmp, long long n, int desc,
                                           long long *fixm) {
#if EM_KIND == 2
    bool fix = em_neg_nan(src[desc ? n - 1 : 0]);
    if (blockIdx.x == 0 && threadIdx.x == 0) *fixm = 0;
    if (!fix) return;
    /* The run's length: binary search for its edge. */
    long long lo = 0, hi = n; /* ascending: first index past the run; descending: its start */
    while (lo < hi) {
        long long mid = lo + (hi - lo) / 2;
        bool in = em_neg_nan(src[mid]);
        if (desc ? in : !in)
            hi = mid;
        else
            lo = mid + 1;
    }
    long long m = desc ? n - lo : lo;
    if (blockIdx.x == 0 && threadIdx.x == 0) *fixm = m;
    EM_GRID_LOOP(i, n) {
        em_bits v;
        if (desc)
            v = i < m ? (em_bits)(src[n - 1 - i] & (em_bits)~EM_SIGN) : src[i - m];
        else
            v = i < n - m ? src[i + m] : (em_bits)(src[i - (n - m)] & (em_bits)~EM_SIGN);
        tmp[i] = v;
    }
#else
    (void)src, (void)tmp, (void)n, (void)desc;
    if (blockIdx.x == 0 && threadIdx.x == 0) *fixm = 0;
#endif
}
#endif

#ifdef EM_SORT_K_em_sort_fix_copy
extern "C" __global__ void em_sort_fix_copy(const em_bits *tmp, em_bits *out, long long n,
                                            const long long *fixm) {
    if (*fixm == 0) return;
    EM_GRID_LOOP(i, n) out[i] = tmp[i];
}
#endif
