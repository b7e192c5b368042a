// Reductions (src/backend/algorithm.h, "Reductions"), compiled by NVRTC after a header that
// src/backend/cuda/reduce.c writes:
//   em_vt          the value and accumulator type (the compute type of dtype t: float for f16)
//   em_ot          the output's storage type (em_u16 for f16)
//   EM_RED_OP      0 sum, 1 product, 2 min, 3 max, 4 and, 5 or (em_red_op)
//   EM_RED_KERNEL  which kernel this module holds (below). The compile check uses groups: 0 and
//                  11 for kernels 1 to 3 (plain and index variants), 13 for kernels 6 and 7, 12
//                  for kernels 8 to 10; kernels 4 and 5 it checks on their own, as launched.
//   EM_RED_INDEX   1 for min or max with the index of the result (imin, imax): accumulators are
//                  (value, index) pairs, ties go to the smaller index
// and, for the kernels that read the input (1 to 3), the fused value of jit_gen.h
// (em_cu_jit_value_source): em_params, em_it, em_value, em_value_vec, EM_VAL_V, EM_VAL_COORDS.
// The input's value is computed in registers and folded at once: nothing is written but partials
// and the output. Every kernel runs with 256 threads per block.
//
// Kernels:
//   1 em_reduce_all    rows of `len` contiguous linear elements (everything: one row), each row
//                      split over gridDim.x blocks (blockIdx.y: the row); grid-stride, vector
//                      reads, warp-shuffle block reduction; one partial per block.
//   2 em_reduce_rows   many rows of `len` contiguous elements (dim 0, or any dim whose lower
//                      dims are all 1): EM_RED_TPR threads per row, output written directly.
//   3 em_reduce_cols   a dim with lower dims: out[i + inner*o] over j of in[i + inner*(j + len*o)].
//                      Threads of a warp take consecutive i (coalesced, vector reads when inner is
//                      a multiple of EM_VAL_V); the block's 8 warps take different j; gridDim.y
//                      splits j into chunks, each leaving partials when there is more than one.
//   4 em_reduce_final_all   one block per row folds that row's partials of kernel 1 (in order).
//   5 em_reduce_final_cols  one thread per output folds the chunk partials of kernel 3 (in order).
//   6 em_reduce_seg_rows    runs of positions [starts[s], starts[s + 1]) along a dim whose lower
//                           dims are all 1 (the _by_key reductions): a group of threads per run.
//   7 em_reduce_seg_cols    the same along a dim with lower dims: kernel 3's layout, one run per
//                           blockIdx.y step.
//   8, 9, 10 em_runs_count, em_runs_scan, em_runs_write: the runs of equal consecutive keys
//                           (count heads per block, scan the counts, write each run's key and
//                           start).
// Kernels 1 to 5 take `rlen` (af_max_ragged: NULL, or u32 per output; only the first rlen[k]
// elements along the dim count) and write indices to `idx` when EM_RED_INDEX.

// Kernel names: the compile check puts several variants in one unit, each in its own namespace
// with its own suffix (extern "C" names ignore namespaces).
#ifndef EM_RED_NAME
#define EM_RED_NAME(name) name
#endif

// ---- the ops on each compute type ----

// Tags select identities by type.
template <class T> struct em_tag {};

// Sums and products: integers wrap (the prelude's helpers), complex as in docs/JIT_OPS.md.
#define EM_RED_ARITH(T, ADD, MUL)                                                                  \
    __device__ __forceinline__ T em_rsum(T a, T x) {                                               \
        return ADD;                                                                                \
    }                                                                                              \
    __device__ __forceinline__ T em_rprod(T a, T x) {                                              \
        return MUL;                                                                                \
    }
EM_RED_ARITH(float, a + x, a *x)
EM_RED_ARITH(double, a + x, a *x)
EM_RED_ARITH(int, em_iadd<int>(a, x), em_imul<int>(a, x))
EM_RED_ARITH(unsigned int, a + x, a *x)
EM_RED_ARITH(long long, em_iadd<long long>(a, x), em_imul<long long>(a, x))
EM_RED_ARITH(unsigned long long, a + x, a *x)
EM_RED_ARITH(em_c32, em_cadd(a, x), em_cmul(a, x))
EM_RED_ARITH(em_c64, em_cadd(a, x), em_cmul(a, x))

template <class T> __device__ __forceinline__ T em_rone(em_tag<T>) {
    return (T)1;
}
__device__ __forceinline__ em_c32 em_rone(em_tag<em_c32>) {
    return em_cx<em_c32>(1.0f, 0.0f);
}
__device__ __forceinline__ em_c64 em_rone(em_tag<em_c64>) {
    return em_cx<em_c64>(1.0, 0.0);
}
template <class T> __device__ __forceinline__ T em_rzero(em_tag<T>) {
    return (T)0;
}
__device__ __forceinline__ em_c32 em_rzero(em_tag<em_c32>) {
    return em_cx<em_c32>(0.0f, 0.0f);
}
__device__ __forceinline__ em_c64 em_rzero(em_tag<em_c64>) {
    return em_cx<em_c64>(0.0, 0.0);
}

// Min and max. Floating NaN are ignored: NaN is the identity and a NaN accumulator takes any
// value, so the result is NaN only when every value is. Integers (and b8, whose C type is u8's)
// compare as numbers. Complex values with a NaN part are ignored; the others compare by magnitude,
// then real part, then imaginary part, so the result does not depend on the order of reduction.
#define EM_RED_MINMAX_F(T)                                                                         \
    __device__ __forceinline__ T em_rmin(T a, T x) {                                               \
        return (x < a || a != a) ? x : a;                                                          \
    }                                                                                              \
    __device__ __forceinline__ T em_rmax(T a, T x) {                                               \
        return (x > a || a != a) ? x : a;                                                          \
    }                                                                                              \
    __device__ __forceinline__ T em_rmin_id(em_tag<T>) {                                           \
        return (T)__longlong_as_double(0x7ff8000000000000ll);                                      \
    }                                                                                              \
    __device__ __forceinline__ T em_rmax_id(em_tag<T>) {                                           \
        return (T)__longlong_as_double(0x7ff8000000000000ll);                                      \
    }
EM_RED_MINMAX_F(float)
EM_RED_MINMAX_F(double)

#define EM_RED_MINMAX_I(T, LO, HI)                                                                 \
    __device__ __forceinline__ T em_rmin(T a, T x) {                                               \
        return x < a ? x : a;                                                                      \
    }                                                                                              \
    __device__ __forceinline__ T em_rmax(T a, T x) {                                               \
        return x > a ? x : a;                                                                      \
    }                                                                                              \
    __device__ __forceinline__ T em_rmin_id(em_tag<T>) {                                           \
        return (T)(HI);                                                                            \
    }                                                                                              \
    __device__ __forceinline__ T em_rmax_id(em_tag<T>) {                                           \
        return (T)(LO);                                                                            \
    }
EM_RED_MINMAX_I(signed char, -128, 127)
EM_RED_MINMAX_I(unsigned char, 0, 255)
EM_RED_MINMAX_I(short, -32768, 32767)
EM_RED_MINMAX_I(unsigned short, 0, 65535)
EM_RED_MINMAX_I(int, (-2147483647 - 1), 2147483647)
EM_RED_MINMAX_I(unsigned int, 0u, 4294967295u)
EM_RED_MINMAX_I(long long, (-9223372036854775807ll - 1), 9223372036854775807ll)
EM_RED_MINMAX_I(unsigned long long, 0ull, 18446744073709551615ull)

// x replaces a for min (D < 0) or max (D > 0).
template <int D, class C> __device__ __forceinline__ C em_rcminmax(C a, C x) {
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
#define EM_RED_MINMAX_C(C, R)                                                                      \
    __device__ __forceinline__ C em_rmin(C a, C x) {                                               \
        return em_rcminmax<-1>(a, x);                                                              \
    }                                                                                              \
    __device__ __forceinline__ C em_rmax(C a, C x) {                                               \
        return em_rcminmax<1>(a, x);                                                               \
    }                                                                                              \
    __device__ __forceinline__ C em_rmin_id(em_tag<C>) {                                           \
        R n = (R)__longlong_as_double(0x7ff8000000000000ll);                                       \
        return em_cx<C>(n, n);                                                                     \
    }                                                                                              \
    __device__ __forceinline__ C em_rmax_id(em_tag<C>) {                                           \
        return em_rmin_id(em_tag<C>());                                                            \
    }
EM_RED_MINMAX_C(em_c32, float)
EM_RED_MINMAX_C(em_c64, double)

// The op of this module on em_vt.
__device__ __forceinline__ em_vt em_rop(em_vt a, em_vt x) {
#if EM_RED_OP == 0
    return em_rsum(a, x);
#elif EM_RED_OP == 1
    return em_rprod(a, x);
#elif EM_RED_OP == 2
    return em_rmin(a, x);
#elif EM_RED_OP == 3
    return em_rmax(a, x);
#elif EM_RED_OP == 4
    return (em_vt)(a & x);
#else
    return (em_vt)(a | x);
#endif
}

__device__ __forceinline__ em_vt em_rident() {
#if EM_RED_OP == 0 || EM_RED_OP == 5
    return em_rzero(em_tag<em_vt>());
#elif EM_RED_OP == 1 || EM_RED_OP == 4
    return em_rone(em_tag<em_vt>());
#elif EM_RED_OP == 2
    return em_rmin_id(em_tag<em_vt>());
#else
    return em_rmax_id(em_tag<em_vt>());
#endif
}

// The output's storage value of an accumulator.
__device__ __forceinline__ em_ot em_rstore(em_vt v) {
    return (em_ot)v;
}
#ifdef EM_RED_F16_OUT
__device__ __forceinline__ em_u16 em_rstore_h(float v) {
    return em_f2h(v);
}
#define EM_RSTORE(v) em_rstore_h(v)
#else
#define EM_RSTORE(v) em_rstore(v)
#endif

// ---- accumulators: values, or (value, index) pairs for imin / imax ----

#ifndef EM_RED_INDEX
#define EM_RED_INDEX 0
#endif
#define EM_NO_INDEX 0xffffffffu

// A value that min and max ignore: a floating NaN, or a complex value with a NaN part.
template <class T> __device__ __forceinline__ bool em_rmissing(T x) {
    return x != x;
}
__device__ __forceinline__ bool em_rmissing(em_c32 x) {
    return x.re != x.re || x.im != x.im;
}
__device__ __forceinline__ bool em_rmissing(em_c64 x) {
    return x.re != x.re || x.im != x.im;
}
// x orders strictly before a for this module's op (2: min, 3: max); complex by magnitude alone.
template <class T> __device__ __forceinline__ bool em_rbefore(T x, T a) {
    return EM_RED_OP == 2 ? x < a : x > a;
}
template <class C> __device__ __forceinline__ bool em_rcbefore(C x, C a) {
    typename em_part<C>::t mx = em_hypot(x.re, x.im), ma = em_hypot(a.re, a.im);
    return EM_RED_OP == 2 ? mx < ma : mx > ma;
}
__device__ __forceinline__ bool em_rbefore(em_c32 x, em_c32 a) {
    return em_rcbefore(x, a);
}
__device__ __forceinline__ bool em_rbefore(em_c64 x, em_c64 a) {
    return em_rcbefore(x, a);
}

#if EM_RED_INDEX
struct em_acc {
    em_vt v;
    unsigned i;
};
__device__ __forceinline__ em_acc em_amake(em_vt v, unsigned long long j) {
    em_acc a;
    a.v = v;
    a.i = (unsigned)j;
    return a;
}
__device__ __forceinline__ em_acc em_aident() {
    return em_amake(em_rident(), EM_NO_INDEX);
}
// x replaces a when a is missing, or x is present and orders before a, or they tie and x's index
// is smaller: the first occurrence, whatever the order of reduction.
__device__ __forceinline__ em_acc em_aop(em_acc a, em_acc x) {
    if (em_rmissing(x.v)) return a;
    if (em_rmissing(a.v)) return x;
    if (em_rbefore(x.v, a.v)) return x;
    if (em_rbefore(a.v, x.v)) return a;
    return x.i < a.i ? x : a;
}
// Folds value v at index j into a thread's own accumulator, every element of which came at a
// smaller index: a tie keeps a, so the index compare of em_aop is not needed.
__device__ __forceinline__ em_acc em_afold(em_acc a, em_vt v, unsigned long long j) {
    if (!em_rmissing(v) && (em_rmissing(a.v) || em_rbefore(v, a.v))) return em_amake(v, j);
    return a;
}
#else
typedef em_vt em_acc;
__device__ __forceinline__ em_acc em_amake(em_vt v, unsigned long long) {
    return v;
}
__device__ __forceinline__ em_acc em_aident() {
    return em_rident();
}
__device__ __forceinline__ em_acc em_aop(em_acc a, em_acc x) {
    return em_rop(a, x);
}
__device__ __forceinline__ em_acc em_afold(em_acc a, em_vt v, unsigned long long) {
    return em_rop(a, v);
}
#endif

// Writes accumulator a as output k.
__device__ __forceinline__ void em_astore(em_ot *out, unsigned *idx, unsigned long long k,
                                          em_acc a) {
#if EM_RED_INDEX
    out[k] = EM_RSTORE(a.v);
    idx[k] = a.i == EM_NO_INDEX ? 0u : a.i;
#else
    (void)idx;
    out[k] = EM_RSTORE(a);
#endif
}

// ---- warp and block reduction ----

template <class T> __device__ __forceinline__ T em_shfl_down(T v, int off, int width) {
    return __shfl_down_sync(0xffffffffu, v, off, width);
}
#define EM_SHFL_NARROW(T)                                                                          \
    template <> __device__ __forceinline__ T em_shfl_down<T>(T v, int off, int width) {            \
        return (T)__shfl_down_sync(0xffffffffu, (int)v, off, width);                               \
    }
EM_SHFL_NARROW(signed char)
EM_SHFL_NARROW(unsigned char)
EM_SHFL_NARROW(short)
EM_SHFL_NARROW(unsigned short)
template <> __device__ __forceinline__ em_c32 em_shfl_down<em_c32>(em_c32 v, int off, int width) {
    return em_cx<em_c32>(__shfl_down_sync(0xffffffffu, v.re, off, width),
                         __shfl_down_sync(0xffffffffu, v.im, off, width));
}
template <> __device__ __forceinline__ em_c64 em_shfl_down<em_c64>(em_c64 v, int off, int width) {
    return em_cx<em_c64>(__shfl_down_sync(0xffffffffu, v.re, off, width),
                         __shfl_down_sync(0xffffffffu, v.im, off, width));
}
#if EM_RED_INDEX
template <> __device__ __forceinline__ em_acc em_shfl_down<em_acc>(em_acc a, int off, int width) {
    em_acc r;
    r.v = em_shfl_down(a.v, off, width);
    r.i = __shfl_down_sync(0xffffffffu, a.i, off, width);
    return r;
}
#endif

// Folds the accumulators of `width` consecutive lanes (a power of two up to 32) into the first of
// them; lower lanes stay on the left of the op. Every lane of the warp must call it.
__device__ __forceinline__ em_acc em_warp_reduce(em_acc v, int width) {
    for (int off = width / 2; off > 0; off /= 2)
        v = em_aop(v, em_shfl_down(v, off, width));
    return v;
}

// Folds the accumulators of the block's 256 threads into thread 0's (in thread order). Every
// thread of the block must call it.
__device__ __forceinline__ em_acc em_block_reduce(em_acc v) {
    __shared__ em_acc warps[8];
    v = em_warp_reduce(v, 32);
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    __syncthreads(); // the buffer may still be read by a previous call
    if (lane == 0) warps[warp] = v;
    __syncthreads();
    if (warp == 0) {
        v = lane < 8 ? warps[lane] : em_aident();
        v = em_warp_reduce(v, 8);
    }
    return v;
}

#if EM_RED_KERNEL == 1 || EM_RED_KERNEL == 0 || EM_RED_KERNEL == 11
// Row r (blockIdx.y) is linear elements [r * len, r * len + n) with n = len, or rlen[r] when
// smaller; its gridDim.x blocks each fold a grid-stride share of it and write one partial:
// part[r * gridDim.x + blockIdx.x]. Four vector reads are in flight per thread at each step.
extern "C" __global__ void __launch_bounds__(256)
    EM_RED_NAME(em_reduce_all)(const em_params p, unsigned long long len_, const unsigned *rlen,
                               em_acc *part) {
    const em_it base = (em_it)blockIdx.y * (em_it)len_;
    em_it len = (em_it)len_;
    if (rlen && (em_it)rlen[blockIdx.y] < len) len = rlen[blockIdx.y];
    const em_it tid = (em_it)blockIdx.x * 256u + threadIdx.x;
    const em_it stride = (em_it)gridDim.x * 256u;
    em_acc acc = em_aident();
    em_it start = 0;
#if EM_VAL_V > 1
    if (p.vec) {
        const em_it nv = len / EM_VAL_V;
        em_it v = tid;
        for (; v + 3 * stride < nv; v += 4 * stride) {
            em_vt x[4][EM_VAL_V];
#pragma unroll
            for (int u = 0; u < 4; u++)
                em_value_vec(p, base + (v + (em_it)u * stride) * EM_VAL_V, x[u]);
#pragma unroll
            for (int u = 0; u < 4; u++)
#pragma unroll
                for (int k = 0; k < EM_VAL_V; k++)
                    acc = em_afold(acc, x[u][k], (v + (em_it)u * stride) * EM_VAL_V + k);
        }
        for (; v < nv; v += stride) {
            em_vt x[EM_VAL_V];
            em_value_vec(p, base + v * EM_VAL_V, x);
#pragma unroll
            for (int k = 0; k < EM_VAL_V; k++)
                acc = em_afold(acc, x[k], v * EM_VAL_V + k);
        }
        start = nv * EM_VAL_V;
    }
#endif
    for (em_it j = start + tid; j < len; j += stride) {
        const em_it i = base + j;
        em_coord<em_it> c = em_coord<em_it>();
        if (EM_VAL_COORDS) c = em_coords<em_it>(i, p.d0, p.d1, p.d2);
        acc = em_afold(acc, em_value(p, i, c), j);
    }
    acc = em_block_reduce(acc);
    if (threadIdx.x == 0) part[(unsigned long long)blockIdx.y * gridDim.x + blockIdx.x] = acc;
}
#endif

#if EM_RED_KERNEL == 2 || EM_RED_KERNEL == 0 || EM_RED_KERNEL == 11
#ifndef EM_RED_TPR
#define EM_RED_TPR 32
#endif
// EM_RED_TPR threads fold each row of `len` contiguous elements (rlen[r] when smaller); a block
// holds 256 / EM_RED_TPR rows, and the grid strides over rows in whole blocks, so every thread of
// a block runs the same number of steps (the shuffles and barriers need all of them).
extern "C" __global__ void __launch_bounds__(256)
    EM_RED_NAME(em_reduce_rows)(const em_params p, unsigned long long len_,
                                unsigned long long rows_, const unsigned *rlen, em_ot *out,
                                unsigned *idx) {
    const em_it rows = (em_it)rows_;
    const int lane = threadIdx.x % EM_RED_TPR;
    const em_it rpb = 256 / EM_RED_TPR;
    for (em_it rb = (em_it)blockIdx.x * rpb; rb < rows; rb += (em_it)gridDim.x * rpb) {
        const em_it r = rb + threadIdx.x / EM_RED_TPR;
        em_acc acc = em_aident();
        if (r < rows) {
            const em_it base = r * (em_it)len_;
            em_it len = (em_it)len_;
            if (rlen && (em_it)rlen[r] < len) len = rlen[r];
            em_it start = 0;
#if EM_VAL_V > 1
            if (p.vec) {
                // Four vector reads in flight per thread, as in kernel 1.
                const em_it nv = len / EM_VAL_V;
                em_it v = lane;
                for (; v + 3 * EM_RED_TPR < nv; v += 4 * EM_RED_TPR) {
                    em_vt x[4][EM_VAL_V];
#pragma unroll
                    for (int u = 0; u < 4; u++)
                        em_value_vec(p, base + (v + u * EM_RED_TPR) * EM_VAL_V, x[u]);
#pragma unroll
                    for (int u = 0; u < 4; u++)
#pragma unroll
                        for (int k = 0; k < EM_VAL_V; k++)
                            acc = em_afold(acc, x[u][k], (v + u * EM_RED_TPR) * EM_VAL_V + k);
                }
                for (; v < nv; v += EM_RED_TPR) {
                    em_vt x[EM_VAL_V];
                    em_value_vec(p, base + v * EM_VAL_V, x);
#pragma unroll
                    for (int k = 0; k < EM_VAL_V; k++)
                        acc = em_afold(acc, x[k], v * EM_VAL_V + k);
                }
                start = nv * EM_VAL_V;
            }
#endif
            for (em_it j = start + lane; j < len; j += EM_RED_TPR) {
                const em_it i = base + j;
                em_coord<em_it> c = em_coord<em_it>();
                if (EM_VAL_COORDS) c = em_coords<em_it>(i, p.d0, p.d1, p.d2);
                acc = em_afold(acc, em_value(p, i, c), j);
            }
        }
#if EM_RED_TPR == 256
        acc = em_block_reduce(acc);
#else
        acc = em_warp_reduce(acc, EM_RED_TPR);
#endif
        if (lane == 0 && r < rows) em_astore(out, idx, r, acc);
    }
}
#endif

#if EM_RED_KERNEL == 3 || EM_RED_KERNEL == 0 || EM_RED_KERNEL == 11
// A block is 32 x 8 threads: lane x takes W consecutive i (W = EM_VAL_V when p.vec, else 1), row
// y takes j = j0 + y, j0 + y + 8, ... of the block's chunk [blockIdx.y * jchunk, ...). blockIdx.z
// strides over o. With one chunk the block writes the output; with several, its partials at
// part[(blockIdx.y * outer + o) * inner + i]. rlen[i + inner * o] limits j when given.
extern "C" __global__ void __launch_bounds__(256)
    EM_RED_NAME(em_reduce_cols)(const em_params p, unsigned long long inner_,
                                unsigned long long len_, unsigned long long outer_,
                                unsigned long long jchunk_, const unsigned *rlen, em_acc *part,
                                em_ot *out, unsigned *idx) {
    __shared__ em_acc sh[8][32 * EM_VAL_V];
    const em_it inner = (em_it)inner_, len = (em_it)len_, outer = (em_it)outer_;
    const em_it jchunk = (em_it)jchunk_;
    const int tx = threadIdx.x % 32, ty = threadIdx.x / 32;
    const int W = (EM_VAL_V > 1 && p.vec) ? EM_VAL_V : 1;
    const em_it i0 = ((em_it)blockIdx.x * 32 + tx) * W;
    const em_it j0 = (em_it)blockIdx.y * jchunk;
    const em_it j1 = j0 + jchunk < len ? j0 + jchunk : len;
    for (em_it o = blockIdx.z; o < outer; o += gridDim.z) {
        em_acc acc[EM_VAL_V];
#pragma unroll
        for (int k = 0; k < EM_VAL_V; k++)
            acc[k] = em_aident();
        if (i0 < inner) {
            em_it j = j0 + ty;
#if EM_VAL_V > 1
            if (W > 1)
                // Four vector reads in flight per thread: rows j, j + 8, j + 16, j + 24.
                for (; j + 24 < j1; j += 32) {
                    em_vt x[4][EM_VAL_V];
#pragma unroll
                    for (int u = 0; u < 4; u++)
                        em_value_vec(p, i0 + inner * (j + 8 * u + len * o), x[u]);
#pragma unroll
                    for (int u = 0; u < 4; u++)
#pragma unroll
                        for (int k = 0; k < EM_VAL_V; k++)
                            if (!rlen || j + 8 * u < (em_it)rlen[i0 + k + inner * o])
                                acc[k] = em_aop(acc[k], em_amake(x[u][k], j + 8 * u));
                }
#endif
            for (; j < j1; j += 8) {
                const em_it e = i0 + inner * (j + len * o);
#if EM_VAL_V > 1
                if (W > 1) {
                    em_vt x[EM_VAL_V];
                    em_value_vec(p, e, x);
#pragma unroll
                    for (int k = 0; k < EM_VAL_V; k++)
                        if (!rlen || j < (em_it)rlen[i0 + k + inner * o])
                            acc[k] = em_aop(acc[k], em_amake(x[k], j));
                    continue;
                }
#endif
                if (rlen && j >= (em_it)rlen[i0 + inner * o]) continue;
                em_coord<em_it> c = em_coord<em_it>();
                if (EM_VAL_COORDS) c = em_coords<em_it>(e, p.d0, p.d1, p.d2);
                acc[0] = em_aop(acc[0], em_amake(em_value(p, e, c), j));
            }
        }
        __syncthreads(); // the previous o's reads of sh are done
#pragma unroll
        for (int k = 0; k < EM_VAL_V; k++)
            sh[ty][tx * EM_VAL_V + k] = acc[k];
        __syncthreads();
        // Each of the block's 32 * W outputs is folded over the 8 rows, in row order.
        for (int q = threadIdx.x; q < 32 * W; q += 256) {
            const int lx = q / W, k = q % W;
            const em_it i = ((em_it)blockIdx.x * 32 + lx) * W + k;
            if (i >= inner) continue;
            em_acc v = sh[0][lx * EM_VAL_V + k];
#pragma unroll
            for (int y = 1; y < 8; y++)
                v = em_aop(v, sh[y][lx * EM_VAL_V + k]);
            if (gridDim.y == 1)
                em_astore(out, idx, i + inner * o, v);
            else
                part[((unsigned long long)blockIdx.y * outer + o) * inner + i] = v;
        }
    }
}
#endif

#if EM_RED_KERNEL == 4
// Block r folds partials part[r * n .. r * n + n) into output r.
extern "C" __global__ void __launch_bounds__(256)
    EM_RED_NAME(em_reduce_final_all)(const em_acc *part, unsigned long long n, em_ot *out,
                                     unsigned *idx) {
    const em_acc *row = part + (unsigned long long)blockIdx.x * n;
    em_acc acc = em_aident();
    for (unsigned long long k = threadIdx.x; k < n; k += 256)
        acc = em_aop(acc, row[k]);
    acc = em_block_reduce(acc);
    if (threadIdx.x == 0) em_astore(out, idx, blockIdx.x, acc);
}
#endif

#if EM_RED_KERNEL == 5
// Output k folds part[g * nout + k] over the chunks g < nchunks, in order.
extern "C" __global__ void __launch_bounds__(256)
    EM_RED_NAME(em_reduce_final_cols)(const em_acc *part, unsigned long long nout,
                                      unsigned long long nchunks, em_ot *out, unsigned *idx) {
    for (unsigned long long k = (unsigned long long)blockIdx.x * 256 + threadIdx.x; k < nout;
         k += (unsigned long long)gridDim.x * 256) {
        em_acc acc = part[k];
        for (unsigned long long g = 1; g < nchunks; g++)
            acc = em_aop(acc, part[g * nout + k]);
        em_astore(out, idx, k, acc);
    }
}
#endif

#if EM_RED_KERNEL == 6 || EM_RED_KERNEL == 13
// Run s of line o (r = s + nruns * o) is linear elements [o * len + starts[s], o * len +
// starts[s + 1]); EM_RED_TPR threads fold it into out[r].
extern "C" __global__ void __launch_bounds__(256)
    EM_RED_NAME(em_reduce_seg_rows)(const em_params p, unsigned long long len_,
                                    unsigned long long nruns_, unsigned long long outer_,
                                    const unsigned *starts, em_ot *out) {
    const em_it nruns = (em_it)nruns_, rows = nruns * (em_it)outer_;
    const int lane = threadIdx.x % EM_RED_TPR;
    const em_it rpb = 256 / EM_RED_TPR;
    for (em_it rb = (em_it)blockIdx.x * rpb; rb < rows; rb += (em_it)gridDim.x * rpb) {
        const em_it r = rb + threadIdx.x / EM_RED_TPR;
        em_acc acc = em_aident();
        if (r < rows) {
            const em_it s = r % nruns, o = r / nruns;
            const em_it base = o * (em_it)len_;
            const em_it end = base + starts[s + 1];
            for (em_it i = base + starts[s] + lane; i < end; i += EM_RED_TPR) {
                em_coord<em_it> c = em_coord<em_it>();
                if (EM_VAL_COORDS) c = em_coords<em_it>(i, p.d0, p.d1, p.d2);
                acc = em_aop(acc, em_amake(em_value(p, i, c), 0));
            }
        }
#if EM_RED_TPR == 256
        acc = em_block_reduce(acc);
#else
        acc = em_warp_reduce(acc, EM_RED_TPR);
#endif
        if (lane == 0 && r < rows) em_astore(out, nullptr, r, acc);
    }
}
#endif

#if EM_RED_KERNEL == 7 || EM_RED_KERNEL == 13
// Kernel 3's layout with runs for chunks: blockIdx.y strides over runs s, whose positions
// [starts[s], starts[s + 1]) along the dim fold into out[i + inner * (s + nruns * o)].
extern "C" __global__ void __launch_bounds__(256)
    EM_RED_NAME(em_reduce_seg_cols)(const em_params p, unsigned long long inner_,
                                    unsigned long long len_, unsigned long long outer_,
                                    unsigned long long nruns_, const unsigned *starts, em_ot *out) {
    __shared__ em_acc sh[8][32 * EM_VAL_V];
    const em_it inner = (em_it)inner_, len = (em_it)len_, outer = (em_it)outer_;
    const em_it nruns = (em_it)nruns_;
    const int tx = threadIdx.x % 32, ty = threadIdx.x / 32;
    const int W = (EM_VAL_V > 1 && p.vec) ? EM_VAL_V : 1;
    const em_it i0 = ((em_it)blockIdx.x * 32 + tx) * W;
    for (em_it o = blockIdx.z; o < outer; o += gridDim.z)
        for (em_it s = blockIdx.y; s < nruns; s += gridDim.y) {
            em_acc acc[EM_VAL_V];
#pragma unroll
            for (int k = 0; k < EM_VAL_V; k++)
                acc[k] = em_aident();
            if (i0 < inner) {
                for (em_it j = starts[s] + ty; j < starts[s + 1]; j += 8) {
                    const em_it e = i0 + inner * (j + len * o);
#if EM_VAL_V > 1
                    if (W > 1) {
                        em_vt x[EM_VAL_V];
                        em_value_vec(p, e, x);
#pragma unroll
                        for (int k = 0; k < EM_VAL_V; k++)
                            acc[k] = em_aop(acc[k], em_amake(x[k], 0));
                        continue;
                    }
#endif
                    em_coord<em_it> c = em_coord<em_it>();
                    if (EM_VAL_COORDS) c = em_coords<em_it>(e, p.d0, p.d1, p.d2);
                    acc[0] = em_aop(acc[0], em_amake(em_value(p, e, c), 0));
                }
            }
            __syncthreads();
#pragma unroll
            for (int k = 0; k < EM_VAL_V; k++)
                sh[ty][tx * EM_VAL_V + k] = acc[k];
            __syncthreads();
            for (int q = threadIdx.x; q < 32 * W; q += 256) {
                const int lx = q / W, k = q % W;
                const em_it i = ((em_it)blockIdx.x * 32 + lx) * W + k;
                if (i >= inner) continue;
                em_acc v = sh[0][lx * EM_VAL_V + k];
#pragma unroll
                for (int y = 1; y < 8; y++)
                    v = em_aop(v, sh[y][lx * EM_VAL_V + k]);
                em_astore(out, nullptr, i + inner * (s + nruns * o), v);
            }
        }
}
#endif

// ---- runs of equal consecutive keys: each block takes 2048 keys, 8 per thread ----

#if EM_RED_KERNEL == 8 || EM_RED_KERNEL == 10 || EM_RED_KERNEL == 12
// The number of run heads (i == 0 or k[i] != k[i - 1]) among thread t's 8 keys of block b.
__device__ __forceinline__ unsigned em_run_heads(const unsigned *k, unsigned long long n,
                                                 unsigned long long first, unsigned *flags) {
    unsigned c = 0;
#pragma unroll
    for (int q = 0; q < 8; q++) {
        const unsigned long long i = first + q;
        flags[q] = i < n && (i == 0 || k[i] != k[i - 1]);
        c += flags[q];
    }
    return c;
}
// Exclusive prefix sum of v over the block's 256 threads; *total receives the block's sum.
__device__ __forceinline__ unsigned em_block_scan(unsigned v, unsigned *total) {
    __shared__ unsigned warps[8];
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    unsigned x = v;
    for (int off = 1; off < 32; off *= 2) {
        unsigned y = __shfl_up_sync(0xffffffffu, x, off);
        if (lane >= off) x += y;
    }
    __syncthreads();
    if (lane == 31) warps[warp] = x;
    __syncthreads();
    unsigned before = 0, all = 0;
    for (int w = 0; w < 8; w++) {
        if (w < warp) before += warps[w];
        all += warps[w];
    }
    *total = all;
    return before + x - v;
}
#endif

#if EM_RED_KERNEL == 8 || EM_RED_KERNEL == 12
extern "C" __global__ void __launch_bounds__(256)
    EM_RED_NAME(em_runs_count)(const unsigned *k, unsigned long long n, unsigned *bcount) {
    unsigned flags[8], total;
    const unsigned long long first = ((unsigned long long)blockIdx.x * 256 + threadIdx.x) * 8;
    em_block_scan(em_run_heads(k, n, first, flags), &total);
    if (threadIdx.x == 0) bcount[blockIdx.x] = total;
}
#endif

#if EM_RED_KERNEL == 9 || EM_RED_KERNEL == 12
// One block: bcount[0..nb) becomes its exclusive prefix sum; the total is the number of runs,
// written to *nruns and as starts[total] = n.
extern "C" __global__ void __launch_bounds__(256)
    EM_RED_NAME(em_runs_scan)(unsigned *bcount, unsigned long long nb, unsigned long long n,
                              unsigned *nruns, unsigned *starts) {
    __shared__ unsigned warps[8];
    unsigned carry = 0;
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    for (unsigned long long b0 = 0; b0 < nb; b0 += 256) {
        const unsigned long long b = b0 + threadIdx.x;
        const unsigned v = b < nb ? bcount[b] : 0u;
        unsigned x = v;
        for (int off = 1; off < 32; off *= 2) {
            unsigned y = __shfl_up_sync(0xffffffffu, x, off);
            if (lane >= off) x += y;
        }
        __syncthreads();
        if (lane == 31) warps[warp] = x;
        __syncthreads();
        unsigned before = 0, all = 0;
        for (int w = 0; w < 8; w++) {
            if (w < warp) before += warps[w];
            all += warps[w];
        }
        if (b < nb) bcount[b] = carry + before + x - v;
        carry += all;
    }
    if (threadIdx.x == 0) {
        *nruns = carry;
        starts[carry] = (unsigned)n;
    }
}
#endif

#if EM_RED_KERNEL == 10 || EM_RED_KERNEL == 12
extern "C" __global__ void __launch_bounds__(256)
    EM_RED_NAME(em_runs_write)(const unsigned *k, unsigned long long n, const unsigned *boff,
                               unsigned *okeys, unsigned *starts) {
    unsigned flags[8], total;
    const unsigned long long first = ((unsigned long long)blockIdx.x * 256 + threadIdx.x) * 8;
    unsigned pos = boff[blockIdx.x] + em_block_scan(em_run_heads(k, n, first, flags), &total);
#pragma unroll
    for (int q = 0; q < 8; q++)
        if (flags[q]) {
            okeys[pos] = k[first + q];
            starts[pos] = (unsigned)(first + q);
            pos++;
        }
}
#endif
