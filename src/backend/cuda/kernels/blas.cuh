// The blas family's product kernel for thin shapes (src/backend/cuda/blas.c): C = alpha op(A)
// op(B) + beta C when one of m, n, k is 1 (matrix-vector, vector-matrix, dot and outer
// products), for every batch. cuBLAS is used for every other shape. CUDA C++ compiled by NVRTC
// with no headers. blas.c prepends the element type and its arithmetic:
//     #define EM_BL_T <float | double | em_bl_c32 | em_bl_c64 | unsigned short (f16 bits)>
//     #define EM_BL_ACC <float | double>  (float for f32, c32 and f16)
//     #define EM_BL_CPLX <0 | 1>
//     #define EM_BL_HALF <0 | 1>
// and compiles the three kernels of this file for each dtype.
//
// Element (i, p) of op(A) is a[i * a_si + p * a_sp] (conjugated with conj_a), element (p, j) of
// op(B) is b[p * b_sp + j * b_sj], element (i, j) of C is c[i + j * ldc]; batch t = z + w * nb0
// adds z * s?0 + w * s?1 to each operand's offset (0 for a broadcast operand).

struct __align__(8) em_bl_c32 {
    float re, im;
};
struct __align__(16) em_bl_c64 {
    double re, im;
};

typedef EM_BL_T em_bl_t;
typedef EM_BL_ACC em_bl_acc;

// The arguments, laid out as blas.c's em_bl_params: 8-byte fields first, the ints last.
struct em_bl_params {
    const em_bl_t *a;
    const em_bl_t *b;
    em_bl_t *c;
    em_bl_acc *partial; // split > 1: `split` partial sums (re, im) per output
    long long m, n, k;
    long long a_si, a_sp, b_sp, b_sj, ldc;
    long long nb0, nbatch;
    long long sa0, sa1, sb0, sb1, sc0, sc1;
    long long split, kchunk; // k is cut into `split` slices of kchunk
    double alpha_re, alpha_im, beta_re, beta_im;
    int conj_a, conj_b, beta_zero, pad;
};

struct em_bl_v {
    em_bl_acc re, im;
};

__device__ __forceinline__ em_bl_v em_bl_load(const em_bl_t *p, long long idx, int conj) {
    em_bl_v r;
#if EM_BL_HALF
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(p[idx]));
    r.re = f;
    r.im = 0;
    (void)conj;
#elif EM_BL_CPLX
    em_bl_t v = p[idx];
    r.re = v.re;
    r.im = conj ? -v.im : v.im;
#else
    r.re = p[idx];
    r.im = 0;
    (void)conj;
#endif
    return r;
}

// acc += x * y
__device__ __forceinline__ void em_bl_fma(em_bl_v &acc, em_bl_v x, em_bl_v y) {
#if EM_BL_CPLX
    acc.re += x.re * y.re - x.im * y.im;
    acc.im += x.re * y.im + x.im * y.re;
#else
    acc.re += x.re * y.re;
#endif
}

// The batch offsets of operand X for batch t.
__device__ __forceinline__ long long em_bl_off(const em_bl_params &p, long long t, long long s0,
                                               long long s1) {
    long long w = t / p.nb0, z = t - w * p.nb0;
    return z * s0 + w * s1;
}

// C(i, j) of batch t = alpha acc + beta C(i, j); C is not read when beta is 0.
__device__ __forceinline__ void em_bl_store(const em_bl_params &p, long long t, long long i,
                                            long long j, em_bl_v acc) {
    em_bl_t *cp = p.c + em_bl_off(p, t, p.sc0, p.sc1) + i + j * p.ldc;
    em_bl_acc ar = (em_bl_acc)p.alpha_re, ai = (em_bl_acc)p.alpha_im;
    em_bl_acc br = (em_bl_acc)p.beta_re, bi = (em_bl_acc)p.beta_im;
#if EM_BL_CPLX
    em_bl_acc re = ar * acc.re - ai * acc.im, im = ar * acc.im + ai * acc.re;
    if (!p.beta_zero) {
        em_bl_t old = *cp;
        re += br * old.re - bi * old.im;
        im += br * old.im + bi * old.re;
    }
    em_bl_t v;
    v.re = re;
    v.im = im;
    *cp = v;
#elif EM_BL_HALF
    float r = ar * acc.re;
    if (!p.beta_zero) {
        float old;
        asm("cvt.f32.f16 %0, %1;" : "=f"(old) : "h"(*cp));
        r += br * old;
    }
    unsigned short h;
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(r));
    *cp = h;
    (void)ai;
    (void)bi;
#else
    em_bl_acc r = ar * acc.re;
    if (!p.beta_zero) r += br * *cp;
    *cp = r;
    (void)ai;
    (void)bi;
#endif
}

// One thread per (output, slice of k), for operands read along the output index with unit
// stride: consecutive threads take consecutive outputs of one slice. With one slice the thread
// stores the output; with more each slice's sum goes to p.partial[output * split + slice] and
// em_bl_finish adds them.
extern "C" __global__ void __launch_bounds__(256) em_bl_thread(em_bl_params p) {
    long long per = p.m * p.n, outputs = per * p.nbatch, total = outputs * p.split;
    long long stride = (long long)gridDim.x * blockDim.x;
    for (long long g = (long long)blockIdx.x * blockDim.x + threadIdx.x; g < total; g += stride) {
        long long s = g / outputs, o = g - s * outputs;
        long long t = o / per, ij = o - t * per, j = ij / p.m, i = ij - j * p.m;
        const em_bl_t *a = p.a + em_bl_off(p, t, p.sa0, p.sa1) + i * p.a_si;
        const em_bl_t *b = p.b + em_bl_off(p, t, p.sb0, p.sb1) + j * p.b_sj;
        long long q0 = s * p.kchunk, q1 = q0 + p.kchunk < p.k ? q0 + p.kchunk : p.k;
        em_bl_v acc;
        acc.re = 0;
        acc.im = 0;
        for (long long q = q0; q < q1; q++)
            em_bl_fma(acc, em_bl_load(a, q * p.a_sp, p.conj_a),
                      em_bl_load(b, q * p.b_sp, p.conj_b));
        if (p.split == 1) {
            em_bl_store(p, t, i, j, acc);
        } else {
            p.partial[2 * (o * p.split + s)] = acc.re;
            p.partial[2 * (o * p.split + s) + 1] = acc.im;
        }
    }
}

// One warp per (output, slice of k), for operands contiguous along k: the lanes read consecutive
// terms. Slices and partial sums as in em_bl_thread.
extern "C" __global__ void __launch_bounds__(256) em_bl_warp(em_bl_params p) {
    long long per = p.m * p.n, total = per * p.nbatch * p.split;
    int lane = threadIdx.x & 31;
    long long warps = ((long long)gridDim.x * blockDim.x) >> 5;
    for (long long g = ((long long)blockIdx.x * blockDim.x + threadIdx.x) >> 5; g < total;
         g += warps) {
        long long o = g / p.split, s = g - o * p.split;
        long long t = o / per, ij = o - t * per, j = ij / p.m, i = ij - j * p.m;
        const em_bl_t *a = p.a + em_bl_off(p, t, p.sa0, p.sa1) + i * p.a_si;
        const em_bl_t *b = p.b + em_bl_off(p, t, p.sb0, p.sb1) + j * p.b_sj;
        long long q0 = s * p.kchunk, q1 = q0 + p.kchunk < p.k ? q0 + p.kchunk : p.k;
        em_bl_v acc;
        acc.re = 0;
        acc.im = 0;
        for (long long q = q0 + lane; q < q1; q += 32)
            em_bl_fma(acc, em_bl_load(a, q * p.a_sp, p.conj_a),
                      em_bl_load(b, q * p.b_sp, p.conj_b));
        for (int d = 16; d > 0; d >>= 1) {
            acc.re += __shfl_down_sync(0xffffffffu, acc.re, d);
#if EM_BL_CPLX
            acc.im += __shfl_down_sync(0xffffffffu, acc.im, d);
#endif
        }
        if (lane == 0) {
            if (p.split == 1) {
                em_bl_store(p, t, i, j, acc);
            } else {
                p.partial[2 * g] = acc.re;
                p.partial[2 * g + 1] = acc.im;
            }
        }
    }
}

// The slices' partial sums of each output, added in slice order, then stored.
extern "C" __global__ void __launch_bounds__(256) em_bl_finish(em_bl_params p) {
    long long per = p.m * p.n, total = per * p.nbatch;
    long long stride = (long long)gridDim.x * blockDim.x;
    for (long long o = (long long)blockIdx.x * blockDim.x + threadIdx.x; o < total; o += stride) {
        long long t = o / per, ij = o - t * per, j = ij / p.m, i = ij - j * p.m;
        em_bl_v acc;
        acc.re = 0;
        acc.im = 0;
        for (long long s = 0; s < p.split; s++) {
            acc.re += p.partial[2 * (o * p.split + s)];
            acc.im += p.partial[2 * (o * p.split + s) + 1];
        }
        em_bl_store(p, t, i, j, acc);
    }
}
