// Gather, scatter and mask positions for the index family (src/backend/index.h says what they
// compute; src/backend/cuda/index.c launches them). Compiled by NVRTC with a variant prepended:
//   EM_ES     element size in bytes (1, 2, 4, 8 or 16): only bits move, so one variant serves
//             every dtype of that size;
//   EM_IDX64  1 when coordinates need 64 bits (2^31 or more iteration points);
//   EM_LINEAR 1 when only dimension 0 is longer than 1: no coordinate divisions (af_lookup of a
//             vector, a 1-D index).
// Offsets into the buffers are 64-bit everywhere: views may reach far with their strides.

typedef long long em_ll;
typedef unsigned long long em_ull;
// Unsigned, so that a grid-stride step past the last point cannot overflow into a negative
// index (n < 2^31 in 32 bits, so a point plus a step stays below 2^32).
#if EM_IDX64
typedef unsigned long long em_it;
#else
typedef unsigned int em_it;
#endif

template <int ES> struct em_elem;
template <> struct em_elem<1> { typedef unsigned char t; };
template <> struct em_elem<2> { typedef unsigned short t; };
template <> struct em_elem<4> { typedef unsigned int t; };
template <> struct em_elem<8> { typedef unsigned long long t; };
// 16 bytes as two 8-byte words: a complex double needs only 8-byte alignment, and memory a user
// handed over may have no more.
struct em_pair {
    unsigned long long a, b;
};
template <> struct em_elem<16> { typedef em_pair t; };
typedef em_elem<EM_ES>::t em_t;

// The host's em_index_copy, field for field, every field 8 bytes (index.c builds it).
struct em_idx_dim {
    em_ll stride;
    const void *idx; // NULL: the position is the coordinate
    em_ll type;      // af_dtype of idx
    em_ll len;
};
struct em_idx_params {
    em_ll dims[4];
    char *ptr;
    em_ll offset;
    em_idx_dim dim[4];
    char *plain;
    em_ll plain_offset;
    em_ll plain_strides[4];
    em_ll n; // iteration points
};

__device__ __forceinline__ em_ll em_from_double(double v) {
    if (v != v) return 0;
    if (v >= 9.2233720368547758e18) return 0x7fffffffffffffffll;
    if (v <= -9.2233720368547758e18) return -0x7fffffffffffffffll;
    return (em_ll)v;
}

__device__ __forceinline__ float em_half_bits_to_float(unsigned short h) {
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));
    return f;
}

// An index value before folding (af_dtype values are ArrayFire's ABI constants: f32 0, f64 2,
// s32 5, u32 6, u8 7, s64 8, u64 9, s16 10, u16 11, f16 12, s8 13).
__device__ __forceinline__ em_ll em_idx_value(const void *p, em_ll type, em_it i) {
    switch (type) {
    case 13:
        return ((const signed char *)p)[i];
    case 7:
        return ((const unsigned char *)p)[i];
    case 10:
        return ((const short *)p)[i];
    case 11:
        return ((const unsigned short *)p)[i];
    case 5:
        return ((const int *)p)[i];
    case 6:
        return ((const unsigned int *)p)[i];
    case 8:
        return ((const em_ll *)p)[i];
    case 9: {
        em_ull v = ((const em_ull *)p)[i];
        return v > 0x7fffffffffffffffull ? 0x7fffffffffffffffll : (em_ll)v;
    }
    case 0:
        return em_from_double(((const float *)p)[i]);
    case 2:
        return em_from_double(((const double *)p)[i]);
    case 12:
        return em_from_double(em_half_bits_to_float(((const unsigned short *)p)[i]));
    default:
        return 0;
    }
}

// ArrayFire's trimIndex (em_index_fold in src/backend/index.h).
__device__ __forceinline__ em_ll em_fold(em_ll v, em_ll len) {
    if ((em_ull)v < (em_ull)len) return v;
    if (v < 0) return (-(v + 1)) % len;
    return len - 1 - v % len;
}

__device__ __forceinline__ em_ll em_pos(const em_idx_dim &d, em_it c) {
    if (!d.idx) return (em_ll)c * d.stride;
    return em_fold(em_idx_value(d.idx, d.type, c), d.len) * d.stride;
}

// Element offsets of iteration point i on the indexed side (*ind) and the plain side (*pl).
__device__ __forceinline__ void em_offsets(const em_idx_params &p, em_it i, em_ll *ind, em_ll *pl) {
#if EM_LINEAR
    *ind = p.offset + em_pos(p.dim[0], i);
    *pl = p.plain_offset + (em_ll)i * p.plain_strides[0];
#else
    const em_it d0 = (em_it)p.dims[0], d1 = (em_it)p.dims[1], d2 = (em_it)p.dims[2];
    em_it c0 = i % d0, r = i / d0;
    em_it c1 = r % d1;
    r /= d1;
    em_it c2 = r % d2, c3 = r / d2;
    *ind = p.offset + em_pos(p.dim[0], c0) + em_pos(p.dim[1], c1) + em_pos(p.dim[2], c2) +
           em_pos(p.dim[3], c3);
    *pl = p.plain_offset + (em_ll)c0 * p.plain_strides[0] + (em_ll)c1 * p.plain_strides[1] +
          (em_ll)c2 * p.plain_strides[2] + (em_ll)c3 * p.plain_strides[3];
#endif
}

// A read-only load of one element (the gathered buffer is never the one written).
__device__ __forceinline__ em_t em_ldg(const em_t *p) {
#if EM_ES == 16
    em_pair v;
    v.a = __ldg(&p->a);
    v.b = __ldg(&p->b);
    return v;
#else
    return __ldg(p);
#endif
}

#if EM_LINEAR
// Points per thread of the linear gather (af_lookup, a 1-D index): a thread reads its EM_GATHER
// index values, then issues all EM_GATHER reads of the gathered buffer before it stores any, so
// each thread keeps several random reads in flight (the latency of a read into a large buffer is
// what bounds a random gather). Point k of a thread is base + k * blockDim.x, so every load and
// store instruction of a warp still covers consecutive points. The index values and the output
// are streamed once, so they are read and written with the evict-first hint (__ldcs, __stcs),
// leaving more of L2 to the gathered buffer, whose lines a random gather may meet again.
#define EM_GATHER 4

__device__ __forceinline__ void em_st_stream(em_t *p, em_t v) {
#if EM_ES == 16
    __stcs(&p->a, v.a);
    __stcs(&p->b, v.b);
#else
    __stcs(p, v);
#endif
}

// The points base + k * bd of one thread. TY is the index dtype as a constant (the common ones,
// so that the conversion compiles to nothing and a whole group of points has no branch, letting
// the compiler issue its loads together), -1 for the coordinate itself (no index array), or -2
// for any dtype read through em_idx_value's switch. A group whose points all exist has no
// guards.
template <int TY>
__device__ __forceinline__ void em_gather_group(const em_idx_params &p, const em_t *src, em_t *dst,
                                                em_it base, em_it bd, em_it n) {
    const em_idx_dim &d = p.dim[0];
    const em_ll ps = p.plain_strides[0];
    const bool all = base + (em_it)(EM_GATHER - 1) * bd < n;
    em_ll raw[EM_GATHER];
#pragma unroll
    for (int k = 0; k < EM_GATHER; k++) {
        const em_it i = base + (em_it)k * bd;
        if (all || i < n) {
            if (TY == -1)
                raw[k] = (em_ll)i;
            else if (TY == 5)
                raw[k] = __ldcs((const int *)d.idx + i);
            else if (TY == 6)
                raw[k] = __ldcs((const unsigned int *)d.idx + i);
            else if (TY == 8)
                raw[k] = __ldcs((const em_ll *)d.idx + i);
            else
                raw[k] = em_idx_value(d.idx, d.type, i);
        }
    }
    em_t v[EM_GATHER];
#pragma unroll
    for (int k = 0; k < EM_GATHER; k++)
        if (all || base + (em_it)k * bd < n)
            v[k] = em_ldg(src + (TY == -1 ? raw[k] : em_fold(raw[k], d.len)) * d.stride);
#pragma unroll
    for (int k = 0; k < EM_GATHER; k++) {
        const em_it i = base + (em_it)k * bd;
        if (all || i < n) em_st_stream(dst + (em_ll)i * ps, v[k]);
    }
}

template <int TY> __device__ __forceinline__ void em_gather_linear(const em_idx_params &p) {
    const em_it n = (em_it)p.n, bd = (em_it)blockDim.x;
    const em_it step = (em_it)gridDim.x * bd * EM_GATHER;
    const em_t *src = (const em_t *)p.ptr + p.offset;
    em_t *dst = (em_t *)p.plain + p.plain_offset;
    for (em_it base = (em_it)blockIdx.x * bd * EM_GATHER + (em_it)threadIdx.x; base < n;
         base += step)
        em_gather_group<TY>(p, src, dst, base, bd, n);
}

extern "C" __global__ void __launch_bounds__(256) em_index_gather(const em_idx_params p) {
    if (!p.dim[0].idx)
        em_gather_linear<-1>(p);
    else if (p.dim[0].type == 5)
        em_gather_linear<5>(p); // s32
    else if (p.dim[0].type == 6)
        em_gather_linear<6>(p); // u32
    else if (p.dim[0].type == 8)
        em_gather_linear<8>(p); // s64
    else
        em_gather_linear<-2>(p);
}
#else
extern "C" __global__ void __launch_bounds__(256) em_index_gather(const em_idx_params p) {
    const em_it n = (em_it)p.n, step = (em_it)gridDim.x * (em_it)blockDim.x;
    const em_t *src = (const em_t *)p.ptr;
    em_t *dst = (em_t *)p.plain;
    for (em_it i = (em_it)blockIdx.x * (em_it)blockDim.x + (em_it)threadIdx.x; i < n; i += step) {
        em_ll ind, pl;
        em_offsets(p, i, &ind, &pl);
        dst[pl] = src[ind];
    }
}
#endif

// Duplicate positions receive one of their values (each element is one store of its width).
extern "C" __global__ void __launch_bounds__(256) em_index_scatter(const em_idx_params p) {
    const em_it n = (em_it)p.n, step = (em_it)gridDim.x * (em_it)blockDim.x;
    em_t *dst = (em_t *)p.ptr;
    const em_t *src = (const em_t *)p.plain;
    for (em_it i = (em_it)blockIdx.x * (em_it)blockDim.x + (em_it)threadIdx.x; i < n; i += step) {
        em_ll ind, pl;
        em_offsets(p, i, &ind, &pl);
        dst[ind] = src[pl];
    }
}

// ---- mask positions: the positions where a b8 array is true, in order, in three passes ----
// A tile is EM_MASK_THREADS threads x EM_MASK_ITEMS consecutive elements per thread.
#define EM_MASK_THREADS 256
#define EM_MASK_ITEMS   16
#define EM_MASK_TILE    (EM_MASK_THREADS * EM_MASK_ITEMS)

__device__ __forceinline__ unsigned em_mask_thread_count(const unsigned char *m, em_ll n,
                                                         em_ll start) {
    unsigned c = 0;
#pragma unroll
    for (int k = 0; k < EM_MASK_ITEMS; k++) {
        em_ll i = start + k;
        c += (i < n && m[i] != 0) ? 1u : 0u;
    }
    return c;
}

// Exclusive scan of one value per thread over the block; *total receives the sum.
__device__ __forceinline__ unsigned em_block_scan(unsigned v, unsigned *total) {
    __shared__ unsigned warp_sums[EM_MASK_THREADS / 32];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    unsigned x = v;
#pragma unroll
    for (int o = 1; o < 32; o <<= 1) {
        unsigned y = __shfl_up_sync(0xffffffffu, x, o);
        if (lane >= o) x += y;
    }
    if (lane == 31) warp_sums[warp] = x;
    __syncthreads();
    if (warp == 0) {
        unsigned s = lane < EM_MASK_THREADS / 32 ? warp_sums[lane] : 0;
#pragma unroll
        for (int o = 1; o < 32; o <<= 1) {
            unsigned y = __shfl_up_sync(0xffffffffu, s, o);
            if (lane >= o) s += y;
        }
        if (lane < EM_MASK_THREADS / 32) warp_sums[lane] = s; // inclusive over warps
    }
    __syncthreads();
    unsigned before = warp == 0 ? 0 : warp_sums[warp - 1];
    *total = warp_sums[EM_MASK_THREADS / 32 - 1];
    __syncthreads();
    return before + x - v;
}

// Pass 1: the count of each tile.
extern "C" __global__ void __launch_bounds__(EM_MASK_THREADS)
    em_mask_count(const unsigned char *m, em_ll n, unsigned *tile_counts) {
    em_ll start = (em_ll)blockIdx.x * EM_MASK_TILE + (em_ll)threadIdx.x * EM_MASK_ITEMS;
    unsigned total;
    em_block_scan(em_mask_thread_count(m, n, start), &total);
    if (threadIdx.x == 0) tile_counts[blockIdx.x] = total;
}

// Pass 2 (one block of 1024 threads): exclusive scan of the tile counts into tile offsets
// (64-bit), and the total.
extern "C" __global__ void __launch_bounds__(1024)
    em_mask_scan(const unsigned *tile_counts, em_ll tiles, em_ll *tile_offsets, em_ll *total) {
    __shared__ em_ll part[1024];
    __shared__ em_ll carry;
    if (threadIdx.x == 0) carry = 0;
    __syncthreads();
    for (em_ll base = 0; base < tiles; base += 1024) {
        em_ll i = base + threadIdx.x;
        em_ll v = i < tiles ? (em_ll)tile_counts[i] : 0;
        part[threadIdx.x] = v;
        __syncthreads();
        for (int o = 1; o < 1024; o <<= 1) {
            em_ll y = threadIdx.x >= (unsigned)o ? part[threadIdx.x - o] : 0;
            __syncthreads();
            part[threadIdx.x] += y;
            __syncthreads();
        }
        if (i < tiles) tile_offsets[i] = carry + part[threadIdx.x] - v;
        __syncthreads();
        if (threadIdx.x == 0) carry += part[1023];
        __syncthreads();
    }
    if (threadIdx.x == 0) *total = carry;
}

// Pass 3: each tile writes its positions from its offset, in order.
extern "C" __global__ void __launch_bounds__(EM_MASK_THREADS)
    em_mask_write(const unsigned char *m, em_ll n, const em_ll *tile_offsets, em_ll *pos) {
    em_ll start = (em_ll)blockIdx.x * EM_MASK_TILE + (em_ll)threadIdx.x * EM_MASK_ITEMS;
    unsigned total;
    unsigned before = em_block_scan(em_mask_thread_count(m, n, start), &total);
    em_ll at = tile_offsets[blockIdx.x] + before;
    for (int k = 0; k < EM_MASK_ITEMS; k++) {
        em_ll i = start + k;
        if (i < n && m[i] != 0) pos[at++] = i;
    }
}
