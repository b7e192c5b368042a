// Kernels of the signal family other than the convolutions (kernels/convolve.cuh): the window copy
// and scaling around the FFTs, the IIR recurrence, the median filter and interpolation. NVRTC
// compiles this text followed by one generated line that instantiates the wanted template as an
// extern "C" kernel (src/backend/cuda/signal.c and fft.c), so only that variant is compiled. The
// semantics are those of src/backend/signal.h; the CPU files (src/backend/cpu/fft.c, signal.c)
// are the reference.

typedef long long em_i64;
typedef unsigned long long em_u64;

struct __align__(8) em_sc32 {
    float re, im;
};
struct __align__(16) em_sc64 {
    double re, im;
};

// binary16 bits <-> float through the hardware conversions (round to nearest even).
__device__ __forceinline__ float em_sig_h2f(unsigned short h) {
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));
    return f;
}
__device__ __forceinline__ unsigned short em_sig_f2h(float f) {
    unsigned short h;
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f));
    return h;
}

// ---- dtypes by af_dtype number: storage type, and loads/stores through complex double ----

template <int D> struct em_sig_t;
template <> struct em_sig_t<0> { typedef float t; };           // f32
template <> struct em_sig_t<1> { typedef em_sc32 t; };         // c32
template <> struct em_sig_t<2> { typedef double t; };          // f64
template <> struct em_sig_t<3> { typedef em_sc64 t; };         // c64
template <> struct em_sig_t<4> { typedef unsigned char t; };   // b8
template <> struct em_sig_t<5> { typedef int t; };             // s32
template <> struct em_sig_t<6> { typedef unsigned int t; };    // u32
template <> struct em_sig_t<7> { typedef unsigned char t; };   // u8
template <> struct em_sig_t<8> { typedef long long t; };       // s64
template <> struct em_sig_t<9> { typedef unsigned long long t; }; // u64
template <> struct em_sig_t<10> { typedef short t; };          // s16
template <> struct em_sig_t<11> { typedef unsigned short t; }; // u16
template <> struct em_sig_t<12> { typedef unsigned short t; }; // f16 (bits)
template <> struct em_sig_t<13> { typedef signed char t; };    // s8

template <int D> __device__ __forceinline__ void em_sig_load(const void *p, em_i64 i, double &re,
                                                             double &im) {
    typedef typename em_sig_t<D>::t T;
    im = 0;
    if constexpr (D == 1 || D == 3) {
        T v = static_cast<const T *>(p)[i];
        re = v.re;
        im = v.im;
    } else if constexpr (D == 12) {
        re = em_sig_h2f(static_cast<const T *>(p)[i]);
    } else {
        re = (double)static_cast<const T *>(p)[i];
    }
}

// Saturating conversion of an integral-valued double; NaN gives 0 (src/backend/signal.h).
__device__ __forceinline__ double em_sig_sat(double v, double lo, double hi) {
    if (v != v) return 0;
    return v < lo ? lo : (v > hi ? hi : v);
}

template <int D> __device__ __forceinline__ void em_sig_store(void *p, em_i64 i, double re,
                                                              double im, bool rnd) {
    typedef typename em_sig_t<D>::t T;
    T *q = static_cast<T *>(p);
    double v = rnd ? round(re) : trunc(re);
    if constexpr (D == 0) {
        q[i] = (float)re;
    } else if constexpr (D == 2) {
        q[i] = re;
    } else if constexpr (D == 1) {
        em_sc32 c;
        c.re = (float)re;
        c.im = (float)im;
        q[i] = c;
    } else if constexpr (D == 3) {
        em_sc64 c;
        c.re = re;
        c.im = im;
        q[i] = c;
    } else if constexpr (D == 12) {
        q[i] = em_sig_f2h((float)re);
    } else if constexpr (D == 4) {
        q[i] = v != 0;
    } else if constexpr (D == 7) {
        q[i] = (unsigned char)em_sig_sat(v, 0, 255);
    } else if constexpr (D == 13) {
        q[i] = (signed char)em_sig_sat(v, -128, 127);
    } else if constexpr (D == 10) {
        q[i] = (short)em_sig_sat(v, -32768, 32767);
    } else if constexpr (D == 11) {
        q[i] = (unsigned short)em_sig_sat(v, 0, 65535);
    } else if constexpr (D == 5) {
        q[i] = (int)em_sig_sat(v, -2147483648.0, 2147483647.0);
    } else if constexpr (D == 6) {
        q[i] = (unsigned int)em_sig_sat(v, 0, 4294967295.0);
    } else if constexpr (D == 8) {
        q[i] = v != v ? 0LL
                      : (v >= 9223372036854775808.0
                             ? 0x7fffffffffffffffLL
                             : (v <= -9223372036854775808.0 ? (-0x7fffffffffffffffLL - 1)
                                                            : (long long)v));
    } else if constexpr (D == 9) {
        q[i] = (v != v || v <= 0) ? 0ULL
                                  : (v >= 18446744073709551616.0 ? 0xffffffffffffffffULL
                                                                 : (unsigned long long)v);
    }
}

// ---- the window copy (em_window_desc) ----

struct em_win_params {
    em_i64 dims[4], sdims[4], sstrides[4], offset[4];
    double scale;
    int round;
};

// One thread per element of dim 0, blockIdx.y (grid-stride) over the rows of dims 1..3, so the
// row's coordinates are divided out once per row.
template <int SD, int DD>
__device__ void em_window_impl(void *dst, const void *src, const em_win_params &p) {
    const em_i64 rows = p.dims[1] * p.dims[2] * p.dims[3];
    const em_i64 x = (em_i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (x >= p.dims[0]) return;
    const em_i64 sx = x + p.offset[0];
    const bool xin = sx >= 0 && sx < p.sdims[0];
    for (em_i64 r = blockIdx.y; r < rows; r += gridDim.y) {
        em_i64 c1 = r % p.dims[1], c23 = r / p.dims[1];
        em_i64 c2 = c23 % p.dims[2], c3 = c23 / p.dims[2];
        em_i64 s1 = c1 + p.offset[1], s2 = c2 + p.offset[2], s3 = c3 + p.offset[3];
        bool in = xin && s1 >= 0 && s1 < p.sdims[1] && s2 >= 0 && s2 < p.sdims[2] && s3 >= 0 &&
                  s3 < p.sdims[3];
        double re = 0, im = 0;
        if (in) {
            em_i64 si = sx * p.sstrides[0] + s1 * p.sstrides[1] + s2 * p.sstrides[2] +
                        s3 * p.sstrides[3];
            em_sig_load<SD>(src, si, re, im);
            re *= p.scale;
            im *= p.scale;
        }
        em_sig_store<DD>(dst, r * p.dims[0] + x, re, im, p.round != 0);
    }
}

// Multiplies n scalars by s in place.
template <class T> __device__ void em_scale_impl(T *p, em_i64 n, double s) {
    const T sv = (T)s;
    for (em_i64 i = (em_i64)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (em_i64)gridDim.x * blockDim.x)
        p[i] *= sv;
}
