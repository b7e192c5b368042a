// Small helper kernels of the lapack family (src/backend/cuda/lapack.c): the work around the
// cuSOLVER and cuBLAS calls that those libraries do not do. CUDA C++ compiled by NVRTC with no
// headers. lapack.c prepends the element type, its real type and the kernel to build:
//     #define EM_LA_TYPE <float | double | em_la_c32 | em_la_c64 | unsigned short (f16 bits)>
//     #define EM_LA_STYPE <float | double>
//     #define EM_LA_<KERNEL>
// and compiles one extern "C" kernel per (kernel, dtype).

struct __align__(8) em_la_c32 {
    float re, im;
};
struct __align__(16) em_la_c64 {
    double re, im;
};

typedef EM_LA_TYPE EM_LA_T;
typedef EM_LA_STYPE EM_LA_S;

// |x| in double.
__device__ __forceinline__ double em_la_abs(float x) {
    return fabs((double)x);
}
__device__ __forceinline__ double em_la_abs(double x) {
    return fabs(x);
}
__device__ __forceinline__ double em_la_abs(em_la_c32 x) {
    return hypot((double)x.re, (double)x.im);
}
__device__ __forceinline__ double em_la_abs(em_la_c64 x) {
    return hypot(x.re, x.im);
}
__device__ __forceinline__ double em_la_abs(unsigned short h) {
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));
    return fabs((double)f);
}

__device__ __forceinline__ void em_la_set(float *p, double v) {
    *p = (float)v;
}
__device__ __forceinline__ void em_la_set(double *p, double v) {
    *p = v;
}
__device__ __forceinline__ void em_la_set(em_la_c32 *p, double v) {
    p->re = (float)v;
    p->im = 0;
}
__device__ __forceinline__ void em_la_set(em_la_c64 *p, double v) {
    p->re = v;
    p->im = 0;
}

__device__ __forceinline__ void em_la_scale(float *p, double s) {
    *p = (float)(*p * s);
}
__device__ __forceinline__ void em_la_scale(double *p, double s) {
    *p *= s;
}
__device__ __forceinline__ void em_la_scale(em_la_c32 *p, double s) {
    p->re = (float)(p->re * s);
    p->im = (float)(p->im * s);
}
__device__ __forceinline__ void em_la_scale(em_la_c64 *p, double s) {
    p->re *= s;
    p->im *= s;
}

#define EM_LA_BLOCK 256

// Sum (or max, with NaN winning) of v over the block, in double; the result in thread 0.
__device__ double em_la_block_reduce(double v, bool is_max) {
    __shared__ double sh[EM_LA_BLOCK];
    sh[threadIdx.x] = v;
    __syncthreads();
    for (int s = EM_LA_BLOCK / 2; s > 0; s >>= 1) {
        if ((int)threadIdx.x < s) {
            double a = sh[threadIdx.x], b = sh[threadIdx.x + s];
            sh[threadIdx.x] = is_max ? ((a != a || b != b) ? a + b : (a > b ? a : b)) : a + b;
        }
        __syncthreads();
    }
    return sh[0];
}

#ifdef EM_LA_TRIANGLE
// out (rows x cols) = the upper (or lower) trapezoid of in (leading dim ld), zero elsewhere, with
// ones on the diagonal when unit. out may be in (then ld == rows): the kept elements are then
// neither read nor written, and each other element is written by one thread.
extern "C" __global__ void __launch_bounds__(EM_LA_BLOCK)
    em_la_triangle(EM_LA_T *out, long long rows, long long cols, const EM_LA_T *in, long long ld,
                   int upper, int unit) {
    long long n = rows * cols, stride = (long long)gridDim.x * blockDim.x;
    for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < n; e += stride) {
        long long j = e / rows, i = e - j * rows;
        bool keep = upper ? i <= j : i >= j;
        if (keep && (const EM_LA_T *)out == in && !(unit && i == j)) continue;
        EM_LA_T v;
        if (unit && i == j)
            em_la_set(&v, 1.0);
        else if (keep)
            v = in[i + j * ld];
        else
            em_la_set(&v, 0.0);
        out[e] = v;
    }
}
#endif

#ifdef EM_LA_EYE
// The n x n identity.
extern "C" __global__ void __launch_bounds__(EM_LA_BLOCK) em_la_eye(EM_LA_T *out, long long n) {
    long long total = n * n, stride = (long long)gridDim.x * blockDim.x;
    for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < total; e += stride)
        em_la_set(&out[e], e % (n + 1) == 0 ? 1.0 : 0.0);
}
#endif

#ifdef EM_LA_PIVOT
// perm (m) from k LAPACK interchanges (1-based): the identity, then the swaps in order, row j
// with row q_j = ipiv[j] - 1 >= j (an entry out of range swaps nothing).
//
// One swap after another costs a dependent memory round trip each, which for thousands of
// swaps is a noticeable part of a factorisation. Since q_j >= j, position j is final after swap
// j, and a warp takes 32 swaps at once: with the values of the window's positions at its start,
// the value lane l finalises is the one last deposited at q_l by an earlier lane of the window
// (the lane P(l) with the same q), else the start value at q_l; the value lane l moves to q_l
// is the one last deposited at its own position by an earlier lane L(l), else the start value
// there, with L followed to its end (pointer jumping over the lanes). P, L and "last lane with
// this q" depend only on ipiv, so every warp computes them first for its share of the windows;
// then one warp walks the windows in order. Permutations too long for shared memory, or
// interchanges that LAPACK would not produce (q_j < j), take the plain loop in global memory.
#define EM_LA_PIVOT_SHARED 8192
__device__ __forceinline__ int em_la_piv_q(const int *ipiv, long long s, long long m) {
    long long q = (long long)ipiv[s] - 1;
    return (q < 0 || q >= m) ? (int)s : (int)q;
}
extern "C" __global__ void __launch_bounds__(EM_LA_BLOCK)
    em_la_pivot(const int *ipiv, long long k, long long m, int *perm) {
    // Values (row numbers below 8192) and, per step: q (13 bits), L + 1 (6 bits from bit 13),
    // P + 1 (6 bits from bit 19), and bit 25 set when no later lane of the window has this q.
    __shared__ unsigned short sval[EM_LA_PIVOT_SHARED];
    __shared__ unsigned int sstep[EM_LA_PIVOT_SHARED];
    const unsigned full = 0xffffffffu;
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
    int bad = 0;
    for (long long s = threadIdx.x; s < k; s += blockDim.x)
        bad |= em_la_piv_q(ipiv, s, m) < s;
    bad = __syncthreads_or(bad);
    if (bad || m > EM_LA_PIVOT_SHARED || k > EM_LA_PIVOT_SHARED) {
        for (long long i = threadIdx.x; i < m; i += blockDim.x)
            perm[i] = (int)i;
        __syncthreads();
        if (threadIdx.x == 0)
            for (long long j = 0; j < k; j++) {
                int q = em_la_piv_q(ipiv, j, m), t = perm[j];
                perm[j] = perm[q];
                perm[q] = t;
            }
        return;
    }
    for (long long i = threadIdx.x; i < m; i += blockDim.x)
        sval[i] = (unsigned short)i;
    for (long long j0 = (long long)warp * 32; j0 < k; j0 += (long long)nwarps * 32) {
        long long s = j0 + lane;
        bool act = s < k;
        int q = act ? em_la_piv_q(ipiv, s, m) : -1; // -1 matches no position
        unsigned lmask = 0, pmask = 0;
        for (int u = 0; u < 32; u++) {
            int qu = __shfl_sync(full, q, u);
            unsigned to_u = __ballot_sync(full, act && q == (int)(j0 + u));
            unsigned same = __ballot_sync(full, act && q == qu);
            if (lane == u) lmask = to_u, pmask = same;
        }
        unsigned below = (1u << lane) - 1u;
        bool last = (pmask >> lane >> 1) == 0;
        lmask &= below;
        pmask &= below;
        unsigned l1 = lmask ? 32 - __clz(lmask) : 0, p1 = pmask ? 32 - __clz(pmask) : 0;
        if (act) sstep[s] = (unsigned)q | (l1 << 13) | (p1 << 19) | ((unsigned)last << 25);
    }
    __syncthreads();
    if (warp == 0) {
        for (long long j0 = 0; j0 < k; j0 += 32) {
            long long s = j0 + lane;
            bool act = s < k;
            unsigned st = act ? sstep[s] : 0;
            int q = (int)(st & 0x1fff), ptr = (int)((st >> 13) & 63) - 1;
            int pl = (int)((st >> 19) & 63) - 1;
            int val = act ? sval[s] : 0, atq = act ? sval[q] : 0;
            // Follow L to the lane whose value comes from the window's start.
            while (__any_sync(full, ptr >= 0)) {
                int src = ptr >= 0 ? ptr : lane;
                int pp = __shfl_sync(full, ptr, src), pv = __shfl_sync(full, val, src);
                if (ptr >= 0) {
                    if (pp < 0)
                        val = pv, ptr = -1;
                    else
                        ptr = pp;
                }
            }
            int from_p = __shfl_sync(full, val, pl >= 0 ? pl : lane);
            if (act) perm[s] = pl >= 0 ? from_p : atq;
            long long fin = j0 + 32 < k ? j0 + 32 : k; // positions finalised by this window
            if (act && (st >> 25) && q >= fin) sval[q] = (unsigned short)val;
            __syncwarp();
        }
    }
    __syncthreads();
    for (long long i = k + threadIdx.x; i < m; i += blockDim.x)
        perm[i] = sval[i];
}
#endif

#ifdef EM_LA_REDUCE
// Reductions of |a| for the norms and the rank, in double, a being m x n:
//   mode 0: block partials of sum |a|^p over all elements (p 1 and 2 exactly), out[blockIdx.x];
//   mode 1: block partials of max |a| (NaN wins), out[blockIdx.x];
//   mode 2: per column j (block j, grid-stride over columns), sum_i |a_ij|^p, out[j];
//   mode 3: per row i (thread i), sum_j |a_ij|, out[i];
//   mode 4: per row i < min(m, n) (thread i), max over j >= i of |a_ij| (NaN ignored), out[i].
extern "C" __global__ void __launch_bounds__(EM_LA_BLOCK)
    em_la_reduce(const EM_LA_T *a, long long m, long long n, int mode, double p, double *out) {
    long long tid = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    long long stride = (long long)gridDim.x * blockDim.x;
    if (mode <= 1) {
        long long total = m * n;
        double acc = 0;
        for (long long e = tid; e < total; e += stride) {
            double v = em_la_abs(a[e]);
            if (mode == 1)
                acc = (v != v || acc != acc) ? v + acc : (v > acc ? v : acc);
            else
                acc += p == 1 ? v : p == 2 ? v * v : pow(v, p);
        }
        double r = em_la_block_reduce(acc, mode == 1);
        if (threadIdx.x == 0) out[blockIdx.x] = r;
    } else if (mode == 2) {
        for (long long j = blockIdx.x; j < n; j += gridDim.x) {
            double acc = 0;
            for (long long i = threadIdx.x; i < m; i += blockDim.x) {
                double v = em_la_abs(a[i + j * m]);
                acc += p == 1 ? v : pow(v, p);
            }
            double r = em_la_block_reduce(acc, false);
            if (threadIdx.x == 0) out[j] = r;
            __syncthreads();
        }
    } else if (mode == 3) {
        for (long long i = tid; i < m; i += stride) {
            double acc = 0;
            for (long long j = 0; j < n; j++)
                acc += em_la_abs(a[i + j * m]);
            out[i] = acc;
        }
    } else {
        long long k = m < n ? m : n;
        for (long long i = tid; i < k; i += stride) {
            double mx = 0;
            for (long long j = i; j < n; j++) {
                double v = em_la_abs(a[i + j * m]);
                mx = v > mx ? v : mx;
            }
            out[i] = mx;
        }
    }
}
#endif

#ifdef EM_LA_SUMSQ
// The Frobenius norm's sum of squares: block partials in double of x^2 over the n scalars at a
// (EM_LA_T is float for f32 and c32, whose real and imaginary parts are scalars here, or the f16
// bits), out[blockIdx.x]. Squares of float values are exact in double and their sum cannot
// overflow, so no scaling is needed. The 16-byte-aligned body is read 16 bytes per load, four
// loads in flight per thread; a misaligned head and the tail are read one value at a time.
__device__ __forceinline__ double em_la_sq(float x) {
    double d = (double)x;
    return d * d;
}
__device__ __forceinline__ double em_la_sq(unsigned short h) {
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));
    double d = (double)f;
    return d * d;
}
__device__ __forceinline__ double em_la_sq16(uint4 q, float) {
    return em_la_sq(__uint_as_float(q.x)) + em_la_sq(__uint_as_float(q.y)) +
           em_la_sq(__uint_as_float(q.z)) + em_la_sq(__uint_as_float(q.w));
}
__device__ __forceinline__ double em_la_sq2h(unsigned int w) {
    return em_la_sq((unsigned short)(w & 0xffffu)) + em_la_sq((unsigned short)(w >> 16));
}
__device__ __forceinline__ double em_la_sq16(uint4 q, unsigned short) {
    return em_la_sq2h(q.x) + em_la_sq2h(q.y) + em_la_sq2h(q.z) + em_la_sq2h(q.w);
}
extern "C" __global__ void __launch_bounds__(EM_LA_BLOCK)
    em_la_sumsq(const EM_LA_T *__restrict__ a, long long n, double *out) {
    const long long per = 16 / (long long)sizeof(EM_LA_T);
    long long head =
        (long long)((16 - ((unsigned long long)a & 15)) & 15) / (long long)sizeof(EM_LA_T);
    if (head > n) head = n;
    const long long body = (n - head) / per;
    const uint4 *__restrict__ v = (const uint4 *)(a + head);
    const long long tid = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    const long long stride = (long long)gridDim.x * blockDim.x;
    double acc0 = 0, acc1 = 0, acc2 = 0, acc3 = 0;
    long long i = tid;
    for (; i + 3 * stride < body; i += 4 * stride) {
        uint4 q0 = __ldg(v + i), q1 = __ldg(v + i + stride);
        uint4 q2 = __ldg(v + i + 2 * stride), q3 = __ldg(v + i + 3 * stride);
        acc0 += em_la_sq16(q0, EM_LA_T());
        acc1 += em_la_sq16(q1, EM_LA_T());
        acc2 += em_la_sq16(q2, EM_LA_T());
        acc3 += em_la_sq16(q3, EM_LA_T());
    }
    for (; i < body; i += stride)
        acc0 += em_la_sq16(__ldg(v + i), EM_LA_T());
    for (long long e = tid; e < head; e += stride)
        acc1 += em_la_sq(a[e]);
    for (long long e = head + body * per + tid; e < n; e += stride)
        acc2 += em_la_sq(a[e]);
    double r = em_la_block_reduce((acc0 + acc1) + (acc2 + acc3), false);
    if (threadIdx.x == 0) out[blockIdx.x] = r;
}
#endif

#ifdef EM_LA_SCALE
// The pseudo-inverse's middle factor: column i < r of v (leading dim ld, rows rows) times 1/s_i
// where s_i reaches tol_mul * s_0 (s sorted descending, so s_0 is the largest) and is not zero,
// else times 0. S is s's real type.
extern "C" __global__ void __launch_bounds__(EM_LA_BLOCK)
    em_la_scale(EM_LA_T *v, long long rows, long long r, long long ld, const EM_LA_S *s,
                double tol_mul) {
    double thr = tol_mul * (double)s[0];
    long long total = rows * r, stride = (long long)gridDim.x * blockDim.x;
    for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < total; e += stride) {
        long long j = e / rows, i = e - j * rows;
        double sj = (double)s[j];
        em_la_scale(&v[i + j * ld], (sj >= thr && sj > 0) ? 1.0 / sj : (sj == sj ? 0.0 : sj));
    }
}
#endif

#ifdef EM_LA_WIDEN
// f16 bits to float, for the f16 matrix 2-norm (an SVD in float).
extern "C" __global__ void __launch_bounds__(EM_LA_BLOCK)
    em_la_widen(float *out, const unsigned short *in, long long n) {
    long long stride = (long long)gridDim.x * blockDim.x;
    for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < n; e += stride) {
        float f;
        asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(in[e]));
        out[e] = f;
    }
}
#endif

#ifdef EM_LA_PTRS
// Pointer arrays for the batched cuBLAS routines: ptrs[i] = base + i * stride bytes.
extern "C" __global__ void __launch_bounds__(EM_LA_BLOCK)
    em_la_ptrs(char **ptrs, char *base, long long stride, long long count) {
    long long s = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < count; i += s)
        ptrs[i] = base + i * stride;
}
#endif
