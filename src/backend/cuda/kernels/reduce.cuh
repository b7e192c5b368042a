// Reductions (src/backend/algorithm.h, "Reductions"), compiled by NVRTC after a header that
// src/backend/cuda/reduce.c writes:
//   em_vt          the value and accumulator type (the compute type of dtype t: float for f16)
//   em_ot          the output's storage type (em_u16 for f16)
//   EM_RED_OP      0 sum, 1 product, 2 min, 3 max, 4 and, 5 or (em_red_op)
//   EM_RED_KERNEL  which kernel this module holds (below; 0: all of them, for the compile check)
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
EM_RED_ARITH(float, a + x, a * x)
EM_RED_ARITH(double, a + x, a * x)
EM_RED_ARITH(int, em_iadd<int>(a, x), em_imul<int>(a, x))
EM_RED_ARITH(unsigned int, a + x, a * x)
EM_RED_ARITH(long long, em_iadd<long long>(a, x), em_imul<long long>(a, x))
EM_RED_ARITH(unsigned long long, a + x, a * x)
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

// Folds the values of `width` consecutive lanes (a power of two up to 32) into the first of them;
// lower lanes stay on the left of the op. Every lane of the warp must call it.
__device__ __forceinline__ em_vt em_warp_reduce(em_vt v, int width) {
    for (int off = width / 2; off > 0; off /= 2)
        v = em_rop(v, em_shfl_down(v, off, width));
    return v;
}

// Folds the values of the block's 256 threads into thread 0's (in thread order). Every thread of
// the block must call it.
__device__ __forceinline__ em_vt em_block_reduce(em_vt v) {
    __shared__ em_vt warps[8];
    v = em_warp_reduce(v, 32);
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    __syncthreads(); // the buffer may still be read by a previous call
    if (lane == 0) warps[warp] = v;
    __syncthreads();
    if (warp == 0) {
        v = lane < 8 ? warps[lane] : em_rident();
        v = em_warp_reduce(v, 8);
    }
    return v;
}

#if EM_RED_KERNEL == 1 || EM_RED_KERNEL == 0
// Row r (blockIdx.y) is linear elements [r * len, (r + 1) * len); its gridDim.x blocks each fold a
// grid-stride share of it and write one partial: part[r * gridDim.x + blockIdx.x]. Four vector
// reads are in flight per thread at each step.
extern "C" __global__ void __launch_bounds__(256)
    em_reduce_all(const em_params p, unsigned long long len_, em_vt *part) {
    const em_it len = (em_it)len_;
    const em_it base = (em_it)blockIdx.y * len;
    const em_it tid = (em_it)blockIdx.x * 256u + threadIdx.x;
    const em_it stride = (em_it)gridDim.x * 256u;
    em_vt acc = em_rident();
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
                    acc = em_rop(acc, x[u][k]);
        }
        for (; v < nv; v += stride) {
            em_vt x[EM_VAL_V];
            em_value_vec(p, base + v * EM_VAL_V, x);
#pragma unroll
            for (int k = 0; k < EM_VAL_V; k++)
                acc = em_rop(acc, x[k]);
        }
        start = nv * EM_VAL_V;
    }
#endif
    for (em_it j = start + tid; j < len; j += stride) {
        const em_it i = base + j;
        em_coord<em_it> c = em_coord<em_it>();
        if (EM_VAL_COORDS) c = em_coords<em_it>(i, p.d0, p.d1, p.d2);
        acc = em_rop(acc, em_value(p, i, c));
    }
    acc = em_block_reduce(acc);
    if (threadIdx.x == 0) part[(unsigned long long)blockIdx.y * gridDim.x + blockIdx.x] = acc;
}
#endif

#if EM_RED_KERNEL == 2 || EM_RED_KERNEL == 0
#ifndef EM_RED_TPR
#define EM_RED_TPR 32
#endif
// EM_RED_TPR threads fold each row of `len` contiguous elements; a block holds 256 / EM_RED_TPR
// rows, and the grid strides over rows in whole blocks, so every thread of a block runs the same
// number of steps (the shuffles and barriers need all of them).
extern "C" __global__ void __launch_bounds__(256)
    em_reduce_rows(const em_params p, unsigned long long len_, unsigned long long rows_,
                   em_ot *out) {
    const em_it len = (em_it)len_, rows = (em_it)rows_;
    const int lane = threadIdx.x % EM_RED_TPR;
    const em_it rpb = 256 / EM_RED_TPR;
    for (em_it rb = (em_it)blockIdx.x * rpb; rb < rows; rb += (em_it)gridDim.x * rpb) {
        const em_it r = rb + threadIdx.x / EM_RED_TPR;
        em_vt acc = em_rident();
        if (r < rows) {
            const em_it base = r * len;
            em_it start = 0;
#if EM_VAL_V > 1
            if (p.vec) {
                const em_it nv = len / EM_VAL_V;
                for (em_it v = lane; v < nv; v += EM_RED_TPR) {
                    em_vt x[EM_VAL_V];
                    em_value_vec(p, base + v * EM_VAL_V, x);
#pragma unroll
                    for (int k = 0; k < EM_VAL_V; k++)
                        acc = em_rop(acc, x[k]);
                }
                start = nv * EM_VAL_V;
            }
#endif
            for (em_it j = start + lane; j < len; j += EM_RED_TPR) {
                const em_it i = base + j;
                em_coord<em_it> c = em_coord<em_it>();
                if (EM_VAL_COORDS) c = em_coords<em_it>(i, p.d0, p.d1, p.d2);
                acc = em_rop(acc, em_value(p, i, c));
            }
        }
#if EM_RED_TPR == 256
        acc = em_block_reduce(acc);
#else
        acc = em_warp_reduce(acc, EM_RED_TPR);
#endif
        if (lane == 0 && r < rows) out[r] = EM_RSTORE(acc);
    }
}
#endif

#if EM_RED_KERNEL == 3 || EM_RED_KERNEL == 0
// A block is 32 x 8 threads: lane x takes W consecutive i (W = EM_VAL_V when p.vec, else 1), row
// y takes j = j0 + y, j0 + y + 8, ... of the block's chunk [blockIdx.y * jchunk, ...). blockIdx.z
// strides over o. With one chunk the block writes the output; with several, its partials at
// part[(blockIdx.y * outer + o) * inner + i].
extern "C" __global__ void __launch_bounds__(256)
    em_reduce_cols(const em_params p, unsigned long long inner_, unsigned long long len_,
                   unsigned long long outer_, unsigned long long jchunk_, em_vt *part,
                   em_ot *out) {
    __shared__ em_vt sh[8][32 * EM_VAL_V];
    const em_it inner = (em_it)inner_, len = (em_it)len_, outer = (em_it)outer_;
    const em_it jchunk = (em_it)jchunk_;
    const int tx = threadIdx.x % 32, ty = threadIdx.x / 32;
    const int W = (EM_VAL_V > 1 && p.vec) ? EM_VAL_V : 1;
    const em_it i0 = ((em_it)blockIdx.x * 32 + tx) * W;
    const em_it j0 = (em_it)blockIdx.y * jchunk;
    const em_it j1 = j0 + jchunk < len ? j0 + jchunk : len;
    for (em_it o = blockIdx.z; o < outer; o += gridDim.z) {
        em_vt acc[EM_VAL_V];
#pragma unroll
        for (int k = 0; k < EM_VAL_V; k++)
            acc[k] = em_rident();
        if (i0 < inner) {
            for (em_it j = j0 + ty; j < j1; j += 8) {
                const em_it e = i0 + inner * (j + len * o);
#if EM_VAL_V > 1
                if (W > 1) {
                    em_vt x[EM_VAL_V];
                    em_value_vec(p, e, x);
#pragma unroll
                    for (int k = 0; k < EM_VAL_V; k++)
                        acc[k] = em_rop(acc[k], x[k]);
                    continue;
                }
#endif
                em_coord<em_it> c = em_coord<em_it>();
                if (EM_VAL_COORDS) c = em_coords<em_it>(e, p.d0, p.d1, p.d2);
                acc[0] = em_rop(acc[0], em_value(p, e, c));
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
            em_vt v = sh[0][lx * EM_VAL_V + k];
#pragma unroll
            for (int y = 1; y < 8; y++)
                v = em_rop(v, sh[y][lx * EM_VAL_V + k]);
            if (gridDim.y == 1)
                out[i + inner * o] = EM_RSTORE(v);
            else
                part[((unsigned long long)blockIdx.y * outer + o) * inner + i] = v;
        }
    }
}
#endif

#if EM_RED_KERNEL == 4 || EM_RED_KERNEL == 0
// Block r folds partials part[r * n .. r * n + n) into out[r].
extern "C" __global__ void __launch_bounds__(256)
    em_reduce_final_all(const em_vt *part, unsigned long long n, em_ot *out) {
    const em_vt *row = part + (unsigned long long)blockIdx.x * n;
    em_vt acc = em_rident();
    for (unsigned long long k = threadIdx.x; k < n; k += 256)
        acc = em_rop(acc, row[k]);
    acc = em_block_reduce(acc);
    if (threadIdx.x == 0) out[blockIdx.x] = EM_RSTORE(acc);
}
#endif

#if EM_RED_KERNEL == 5 || EM_RED_KERNEL == 0
// Output k folds part[g * nout + k] over the chunks g < nchunks, in order.
extern "C" __global__ void __launch_bounds__(256)
    em_reduce_final_cols(const em_vt *part, unsigned long long nout, unsigned long long nchunks,
                         em_ot *out) {
    for (unsigned long long k = (unsigned long long)blockIdx.x * 256 + threadIdx.x; k < nout;
         k += (unsigned long long)gridDim.x * 256) {
        em_vt acc = part[k];
        for (unsigned long long g = 1; g < nchunks; g++)
            acc = em_rop(acc, part[g * nout + k]);
        out[k] = EM_RSTORE(acc);
    }
}
#endif
