// The prelude of every JIT kernel: types and per-element helpers for the ops of src/core/jit_ops.h,
// with the semantics of docs/JIT_OPS.md (the CPU kernels in src/backend/cpu/jit_ops.c and cast.c
// are the reference). It is CUDA C++ compiled by NVRTC with no headers: the build embeds this file
// as a string (embed.cmake) and jit_gen.c prepends it to the generated kernel. Kernels compile with
// -fmad=false, so every `a * b + c` below is two roundings, as on the CPU.

typedef unsigned char em_u8;
typedef unsigned short em_u16;

struct __align__(8) em_c32 {
    float re, im;
};
struct __align__(16) em_c64 {
    double re, im;
};

// ---- loads and stores: V elements of T through one aligned access of V * sizeof(T) bytes ----

template <int B> struct em_word;
template <> struct em_word<1> { typedef unsigned char t; };
template <> struct em_word<2> { typedef unsigned short t; };
template <> struct em_word<4> { typedef unsigned int t; };
template <> struct em_word<8> { typedef uint2 t; };
template <> struct em_word<16> { typedef uint4 t; };

// Inputs are never written by the kernel that reads them (outputs are fresh buffers), so loads go
// through the read-only path.
template <int V, class T> __device__ __forceinline__ void em_ld(T *dst, const T *src) {
    typedef typename em_word<V * sizeof(T)>::t W;
    union {
        W w;
        T e[V];
    } u;
    u.w = __ldg(reinterpret_cast<const W *>(src));
#pragma unroll
    for (int k = 0; k < V; k++)
        dst[k] = u.e[k];
}

template <class T> __device__ __forceinline__ T em_ld1(const T *src) {
    T v;
    em_ld<1, T>(&v, src);
    return v;
}

template <int V, class T> __device__ __forceinline__ void em_st(T *dst, const T *src) {
    typedef typename em_word<V * sizeof(T)>::t W;
    union {
        W w;
        T e[V];
    } u;
#pragma unroll
    for (int k = 0; k < V; k++)
        u.e[k] = src[k];
    *reinterpret_cast<W *>(dst) = u.w;
}

// ---- f16: stored as binary16 bits, computed in float, rounded after every op ----

#ifndef EM_HOST_SHIM // a host build of the generated code (a test) supplies these two
// NaNs keep their payload both ways, bit for bit as the CPU backend's conversions do (the
// hardware conversions return a canonical NaN instead), so a select or copy of f16 data agrees
// byte for byte on both backends.
__device__ __forceinline__ float em_h2f(em_u16 h) {
    if ((h & 0x7c00u) == 0x7c00u && (h & 0x3ffu))
        return __uint_as_float(((unsigned)(h & 0x8000u) << 16) | 0x7f800000u |
                               ((unsigned)(h & 0x3ffu) << 13));
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));
    return f;
}
__device__ __forceinline__ em_u16 em_f2h(float f) {
    unsigned x = __float_as_uint(f);
    if ((x & 0x7fffffffu) > 0x7f800000u)
        return (em_u16)(((x >> 16) & 0x8000u) | 0x7c00u | 0x200u | ((x >> 13) & 0x3ffu));
    em_u16 h;
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f));
    return h;
}
#endif
// The float value of f rounded to binary16 (nearest even, overflow to inf, NaN stays NaN).
__device__ __forceinline__ float em_rh(float f) {
    return em_h2f(em_f2h(f));
}

// ---- real floating helpers (float and double overloads) ----

__device__ __forceinline__ bool em_isnan(float x) {
    return x != x;
}
__device__ __forceinline__ bool em_isnan(double x) {
    return x != x;
}
__device__ __forceinline__ bool em_isinf(float x) {
    return fabsf(x) == __int_as_float(0x7f800000);
}
__device__ __forceinline__ bool em_isinf(double x) {
    return fabs(x) == __longlong_as_double(0x7ff0000000000000ll);
}
__device__ __forceinline__ bool em_signbit(float x) {
    return __float_as_int(x) < 0;
}
__device__ __forceinline__ bool em_signbit(double x) {
    return __double_as_longlong(x) < 0;
}

#define EM_M1(name, f32fn, f64fn)                                                                  \
    __device__ __forceinline__ float em_##name(float x) {                                          \
        return f32fn(x);                                                                           \
    }                                                                                              \
    __device__ __forceinline__ double em_##name(double x) {                                        \
        return f64fn(x);                                                                           \
    }
#define EM_M2(name, f32fn, f64fn)                                                                  \
    __device__ __forceinline__ float em_##name(float x, float y) {                                 \
        return f32fn(x, y);                                                                        \
    }                                                                                              \
    __device__ __forceinline__ double em_##name(double x, double y) {                              \
        return f64fn(x, y);                                                                        \
    }

EM_M1(fabs, fabsf, fabs)
EM_M1(sqrt, sqrtf, sqrt)
EM_M1(cbrt, cbrtf, cbrt)
EM_M1(exp, expf, exp)
EM_M1(exp2, exp2f, exp2)
EM_M1(expm1, expm1f, expm1)
EM_M1(log, logf, log)
EM_M1(log1p, log1pf, log1p)
EM_M1(log2, log2f, log2)
EM_M1(log10, log10f, log10)
EM_M1(sin, sinf, sin)
EM_M1(cos, cosf, cos)
EM_M1(tan, tanf, tan)
EM_M1(asin, asinf, asin)
EM_M1(acos, acosf, acos)
EM_M1(atan, atanf, atan)
EM_M1(sinh, sinhf, sinh)
EM_M1(cosh, coshf, cosh)
EM_M1(tanh, tanhf, tanh)
EM_M1(asinh, asinhf, asinh)
EM_M1(acosh, acoshf, acosh)
EM_M1(atanh, atanhf, atanh)
EM_M1(erf, erff, erf)
EM_M1(erfc, erfcf, erfc)
EM_M1(tgamma, tgammaf, tgamma)
EM_M1(lgamma, lgammaf, lgamma)
EM_M1(round, roundf, round)
EM_M1(trunc, truncf, trunc)
EM_M1(floor, floorf, floor)
EM_M1(ceil, ceilf, ceil)
EM_M2(pow, powf, pow)
EM_M2(atan2, atan2f, atan2)
EM_M2(hypot, hypotf, hypot)
EM_M2(remainder, remainderf, remainder)
EM_M2(fmod, fmodf, fmod)

template <class R> __device__ __forceinline__ R em_fmin(R x, R y) {
    return (x < y || em_isnan(y)) ? x : y;
}
template <class R> __device__ __forceinline__ R em_fmax(R x, R y) {
    return (x > y || em_isnan(y)) ? x : y;
}
template <class R> __device__ __forceinline__ R em_sign(R x) {
    return em_signbit(x) ? (R)1 : (R)0;
}
template <class R> __device__ __forceinline__ R em_sigmoid(R x) {
    return (R)1 / ((R)1 + em_exp(-x));
}
template <class R> __device__ __forceinline__ R em_rsqrt(R x) {
    return (R)1 / em_sqrt(x);
}
template <class R> __device__ __forceinline__ R em_factorial(R x) {
    return em_tgamma(x + (R)1);
}

// ---- integers: wrapping arithmetic on the unsigned type of the same (or promoted) width ----

template <class T> struct em_int;
#define EM_INT(T, U, S, W)                                                                         \
    template <> struct em_int<T> {                                                                 \
        typedef U u;                                                                               \
        static const bool is_signed = S;                                                           \
        static const int width = W;                                                                \
    };
EM_INT(signed char, unsigned int, true, 8)
EM_INT(unsigned char, unsigned int, false, 8)
EM_INT(short, unsigned int, true, 16)
EM_INT(unsigned short, unsigned int, false, 16)
EM_INT(int, unsigned int, true, 32)
EM_INT(unsigned int, unsigned int, false, 32)
EM_INT(long long, unsigned long long, true, 64)
EM_INT(unsigned long long, unsigned long long, false, 64)

template <class T> __device__ __forceinline__ bool em_ineg_p(T y) {
    return em_int<T>::is_signed && (long long)y < 0;
}
template <class T> __device__ __forceinline__ T em_iadd(T x, T y) {
    typedef typename em_int<T>::u U;
    return (T)((U)x + (U)y);
}
template <class T> __device__ __forceinline__ T em_isub(T x, T y) {
    typedef typename em_int<T>::u U;
    return (T)((U)x - (U)y);
}
template <class T> __device__ __forceinline__ T em_imul(T x, T y) {
    typedef typename em_int<T>::u U;
    return (T)((U)x * (U)y);
}
template <class T> __device__ __forceinline__ T em_ineg(T x) {
    typedef typename em_int<T>::u U;
    return (T)((U)0 - (U)x);
}
template <class T> __device__ __forceinline__ T em_iabs(T x) {
    return em_ineg_p(x) ? em_ineg(x) : x;
}
// x / 0 = 0; MIN / -1 = MIN (the wrapped negation); otherwise truncating division.
template <class T> __device__ __forceinline__ T em_idiv(T x, T y) {
    if (y == 0) return 0;
    if (em_int<T>::is_signed && y == (T)-1) return em_ineg(x);
    return (T)(x / y);
}
// x % 0 = x; x % -1 = 0; otherwise C's truncated remainder.
template <class T> __device__ __forceinline__ T em_irem(T x, T y) {
    if (y == 0) return x;
    if (em_int<T>::is_signed && y == (T)-1) return 0;
    return (T)(x % y);
}
// Exact power modulo 2^w; 0^0 = 1; a negative exponent gives 1 / x^|y| truncated.
template <class T> __device__ __forceinline__ T em_ipow(T x, T y) {
    typedef typename em_int<T>::u U;
    if (em_ineg_p(y)) {
        if (x == 1) return 1;
        if (em_int<T>::is_signed && x == (T)-1) return ((U)y & 1u) ? (T)-1 : (T)1;
        return 0;
    }
    U r = 1, b = (U)x;
    unsigned long long e = (unsigned long long)y;
    while (e) {
        if (e & 1ull) r *= b;
        b *= b;
        e >>= 1;
    }
    return (T)r;
}
template <class T> __device__ __forceinline__ bool em_shift_out(T y) {
    return em_ineg_p(y) || (unsigned long long)y >= (unsigned long long)em_int<T>::width;
}
template <class T> __device__ __forceinline__ T em_ishl(T x, T y) {
    typedef typename em_int<T>::u U;
    if (em_shift_out(y)) return 0;
    return (T)((U)x << (int)y);
}
template <class T> __device__ __forceinline__ T em_ishr(T x, T y) {
    if (em_shift_out(y)) return em_ineg_p(x) ? (T)-1 : (T)0;
    return (T)(x >> (int)y);
}
template <class T> __device__ __forceinline__ T em_imin(T x, T y) {
    return x < y ? x : y;
}
template <class T> __device__ __forceinline__ T em_imax(T x, T y) {
    return x > y ? x : y;
}

// Saturating float -> integer through double: NaN -> 0, beyond the range -> its ends, otherwise
// truncation toward zero. 2^63 and 2^64 are exact in double, so the 64-bit ends are exact too.
#define EM_FTOI(N, T, LO, HI, LOV, HIV)                                                            \
    __device__ __forceinline__ T em_ftoi_##N(double x) {                                           \
        if (x != x) return 0;                                                                      \
        if (x <= (LO)) return (LOV);                                                               \
        if (x >= (HI)) return (HIV);                                                               \
        return (T)x;                                                                               \
    }
EM_FTOI(s8, signed char, -128.0, 127.0, -128, 127)
EM_FTOI(u8, unsigned char, 0.0, 255.0, 0, 255)
EM_FTOI(s16, short, -32768.0, 32767.0, -32768, 32767)
EM_FTOI(u16, unsigned short, 0.0, 65535.0, 0, 65535)
EM_FTOI(s32, int, -2147483648.0, 2147483647.0, (-2147483647 - 1), 2147483647)
EM_FTOI(u32, unsigned int, 0.0, 4294967295.0, 0u, 4294967295u)
EM_FTOI(s64, long long, -9223372036854775808.0, 9223372036854775808.0, (-9223372036854775807ll - 1),
        9223372036854775807ll)
EM_FTOI(u64, unsigned long long, 0.0, 18446744073709551616.0, 0ull, 18446744073709551615ull)

// ---- complex: the formulas of docs/JIT_OPS.md, each step rounded in the part type ----

template <class C> struct em_part;
template <> struct em_part<em_c32> { typedef float t; };
template <> struct em_part<em_c64> { typedef double t; };

template <class C>
__device__ __forceinline__ C em_cx(typename em_part<C>::t re, typename em_part<C>::t im) {
    C z;
    z.re = re;
    z.im = im;
    return z;
}
template <class C> __device__ __forceinline__ C em_cadd(C x, C y) {
    return em_cx<C>(x.re + y.re, x.im + y.im);
}
template <class C> __device__ __forceinline__ C em_csub(C x, C y) {
    return em_cx<C>(x.re - y.re, x.im - y.im);
}
template <class C> __device__ __forceinline__ C em_cmul(C x, C y) {
    return em_cx<C>(x.re * y.re - x.im * y.im, x.re * y.im + x.im * y.re);
}
// ArrayFire's normalised division: s = 1 / |y|, c' = c s, d' = d s,
// ((a c' + b d') s, (b c' - a d') s). Division by 0 gives NaN parts.
template <class C> __device__ __forceinline__ C em_cdiv(C x, C y) {
    typedef typename em_part<C>::t R;
    R s = (R)1 / em_hypot(y.re, y.im);
    R c = y.re * s, d = y.im * s;
    return em_cx<C>((x.re * c + x.im * d) * s, (x.im * c - x.re * d) * s);
}
template <class C> __device__ __forceinline__ C em_cneg(C x) {
    return em_cx<C>(-x.re, -x.im);
}
template <class C> __device__ __forceinline__ C em_cconj(C x) {
    return em_cx<C>(x.re, -x.im);
}
template <class C> __device__ __forceinline__ typename em_part<C>::t em_cabs(C x) {
    return em_hypot(x.re, x.im);
}
template <class C> __device__ __forceinline__ typename em_part<C>::t em_carg(C x) {
    return em_atan2(x.im, x.re);
}
template <class C> __device__ __forceinline__ bool em_ctruth(C x) {
    return x.re != 0 || x.im != 0;
}
template <class C> __device__ __forceinline__ C em_cmin(C x, C y) {
    typedef typename em_part<C>::t R;
    R ax = em_cabs(x), ay = em_cabs(y);
    return (ax < ay || em_isnan(ay)) ? x : y;
}
template <class C> __device__ __forceinline__ C em_cmax(C x, C y) {
    typedef typename em_part<C>::t R;
    R ax = em_cabs(x), ay = em_cabs(y);
    return (ax > ay || em_isnan(ay)) ? x : y;
}
template <class C> __device__ __forceinline__ C em_cexp(C x) {
    typedef typename em_part<C>::t R;
    R e = em_exp(x.re);
    return em_cx<C>(e * em_cos(x.im), e * em_sin(x.im));
}
template <class C> __device__ __forceinline__ C em_clog(C x) {
    return em_cx<C>(em_log(em_hypot(x.re, x.im)), em_atan2(x.im, x.re));
}
// ArrayFire's polar square root.
template <class C> __device__ __forceinline__ C em_csqrt(C x) {
    typedef typename em_part<C>::t R;
    R r = em_sqrt(em_hypot(x.re, x.im));
    R t = em_atan2(x.im, x.re) / (R)2;
    return em_cx<C>(r * em_cos(t), r * em_sin(t));
}
template <class C> __device__ __forceinline__ C em_cpow(C x, C y) {
    typedef typename em_part<C>::t R;
    R r = em_hypot(x.re, x.im), t = em_atan2(x.im, x.re);
    R m, p;
    if (y.im == 0) {
        m = em_pow(r, y.re);
        p = y.re * t;
    } else {
        R l = em_log(r);
        m = em_exp(y.re * l - y.im * t);
        p = y.im * l + y.re * t;
    }
    return em_cx<C>(m * em_cos(p), m * em_sin(p));
}
template <class C> __device__ __forceinline__ C em_cpow2(C x) {
    typedef typename em_part<C>::t R;
    const R ln2 = (R)0.69314718055994530942;
    return em_cexp(em_cx<C>(x.re * ln2, x.im * ln2));
}
template <class C> __device__ __forceinline__ C em_csin(C x) {
    return em_cx<C>(em_sin(x.re) * em_cosh(x.im), em_cos(x.re) * em_sinh(x.im));
}
template <class C> __device__ __forceinline__ C em_ccos(C x) {
    return em_cx<C>(em_cos(x.re) * em_cosh(x.im), -(em_sin(x.re) * em_sinh(x.im)));
}
template <class C> __device__ __forceinline__ C em_ctan(C x) {
    return em_cdiv(em_csin(x), em_ccos(x));
}
template <class C> __device__ __forceinline__ C em_csinh(C x) {
    return em_cx<C>(em_sinh(x.re) * em_cos(x.im), em_cosh(x.re) * em_sin(x.im));
}
template <class C> __device__ __forceinline__ C em_ccosh(C x) {
    return em_cx<C>(em_cosh(x.re) * em_cos(x.im), em_sinh(x.re) * em_sin(x.im));
}
template <class C> __device__ __forceinline__ C em_ctanh(C x) {
    return em_cdiv(em_csinh(x), em_ccosh(x));
}
template <class C> __device__ __forceinline__ C em_ctimes_i(C x) { // i z = (-b, a)
    return em_cx<C>(-x.im, x.re);
}
template <class C> __device__ __forceinline__ C em_cone() {
    return em_cx<C>(1, 0);
}
// sqrt(1 - z z) + i z, shared by asin and acos.
template <class C> __device__ __forceinline__ C em_casin_core(C x) {
    return em_cadd(em_ctimes_i(x), em_csqrt(em_csub(em_cone<C>(), em_cmul(x, x))));
}
// asin(z) = -i log(i z + sqrt(1 - z z))
template <class C> __device__ __forceinline__ C em_casin(C x) {
    C l = em_clog(em_casin_core(x));
    return em_cx<C>(l.im, -l.re);
}
// acos(z) = pi/2 + i log(i z + sqrt(1 - z z))
template <class C> __device__ __forceinline__ C em_cacos(C x) {
    typedef typename em_part<C>::t R;
    C l = em_clog(em_casin_core(x));
    return em_cx<C>((R)1.57079632679489661923 - l.im, l.re);
}
// atan(z) = (i/2) (log(1 - i z) - log(1 + i z))
template <class C> __device__ __forceinline__ C em_catan(C x) {
    typedef typename em_part<C>::t R;
    C iz = em_ctimes_i(x);
    C d = em_csub(em_clog(em_csub(em_cone<C>(), iz)), em_clog(em_cadd(em_cone<C>(), iz)));
    return em_cx<C>(-(d.im / (R)2), d.re / (R)2);
}
// asinh(z) = log(z + sqrt(z z + 1))
template <class C> __device__ __forceinline__ C em_casinh(C x) {
    return em_clog(em_cadd(x, em_csqrt(em_cadd(em_cmul(x, x), em_cone<C>()))));
}
// acosh(z) = log(z + sqrt(z + 1) sqrt(z - 1))
template <class C> __device__ __forceinline__ C em_cacosh(C x) {
    C s = em_cmul(em_csqrt(em_cadd(x, em_cone<C>())), em_csqrt(em_csub(x, em_cone<C>())));
    return em_clog(em_cadd(x, s));
}
// atanh(z) = (log(1 + z) - log(1 - z)) / 2
template <class C> __device__ __forceinline__ C em_catanh(C x) {
    typedef typename em_part<C>::t R;
    C d = em_csub(em_clog(em_cadd(em_cone<C>(), x)), em_clog(em_csub(em_cone<C>(), x)));
    return em_cx<C>(d.re * (R)0.5, d.im * (R)0.5);
}

// ---- coordinates of a linear index within the output's dims (column-major) ----

template <class IT> struct em_coord { IT c0, c1, c2, c3; };
template <class IT> __device__ __forceinline__ em_coord<IT> em_coords(IT e, IT d0, IT d1, IT d2) {
    em_coord<IT> c;
    IT q = e / d0;
    c.c0 = e - q * d0;
    IT q1 = q / d1;
    c.c1 = q - q1 * d1;
    c.c3 = q1 / d2;
    c.c2 = q1 - c.c3 * d2;
    return c;
}

// IOTA's value: the column-major index within the unit dims g, each coordinate taken modulo its
// unit dim (the unit block tiled over the output).
template <class IT>
__device__ __forceinline__ unsigned long long em_iota(const em_coord<IT> &c, IT g0, IT g1, IT g2,
                                                      IT g3) {
    unsigned long long a0 = c.c0 % g0, a1 = c.c1 % g1, a2 = c.c2 % g2, a3 = c.c3 % g3;
    return a0 + (unsigned long long)g0 *
                    (a1 + (unsigned long long)g1 * (a2 + (unsigned long long)g2 * a3));
}
