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
template <> struct em_sig_t<0> { typedef float t; };              // f32
template <> struct em_sig_t<1> { typedef em_sc32 t; };            // c32
template <> struct em_sig_t<2> { typedef double t; };             // f64
template <> struct em_sig_t<3> { typedef em_sc64 t; };            // c64
template <> struct em_sig_t<4> { typedef unsigned char t; };      // b8
template <> struct em_sig_t<5> { typedef int t; };                // s32
template <> struct em_sig_t<6> { typedef unsigned int t; };       // u32
template <> struct em_sig_t<7> { typedef unsigned char t; };      // u8
template <> struct em_sig_t<8> { typedef long long t; };          // s64
template <> struct em_sig_t<9> { typedef unsigned long long t; }; // u64
template <> struct em_sig_t<10> { typedef short t; };             // s16
template <> struct em_sig_t<11> { typedef unsigned short t; };    // u16
template <> struct em_sig_t<12> { typedef unsigned short t; };    // f16 (bits)
template <> struct em_sig_t<13> { typedef signed char t; };       // s8

template <int D>
__device__ __forceinline__ void em_sig_load(const void *p, em_i64 i, double &re, double &im) {
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

template <int D>
__device__ __forceinline__ void em_sig_store(void *p, em_i64 i, double re, double im, bool rnd) {
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
        q[i] = (v != v || v <= 0)
                   ? 0ULL
                   : (v >= 18446744073709551616.0 ? 0xffffffffffffffffULL : (unsigned long long)v);
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
            em_i64 si =
                sx * p.sstrides[0] + s1 * p.sstrides[1] + s2 * p.sstrides[2] + s3 * p.sstrides[3];
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

// ---- complex helpers over em_sc32 / em_sc64, with float/double overloads ----

template <class T> struct em_cx_real { typedef T t; };
template <> struct em_cx_real<em_sc32> { typedef float t; };
template <> struct em_cx_real<em_sc64> { typedef double t; };

__device__ __forceinline__ float em_cx_zero(float) {
    return 0.0f;
}
__device__ __forceinline__ double em_cx_zero(double) {
    return 0.0;
}
__device__ __forceinline__ em_sc32 em_cx_zero(em_sc32) {
    return em_sc32{0.0f, 0.0f};
}
__device__ __forceinline__ em_sc64 em_cx_zero(em_sc64) {
    return em_sc64{0.0, 0.0};
}

template <class C> __device__ __forceinline__ C em_cx_add(C a, C b) {
    return C{a.re + b.re, a.im + b.im};
}
template <class C> __device__ __forceinline__ C em_cx_sub(C a, C b) {
    return C{a.re - b.re, a.im - b.im};
}
template <class C> __device__ __forceinline__ C em_cx_mul(C a, C b) {
    return C{a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re};
}
// (p * conj(q)) / |q|^2, as the CPU backend divides.
template <class C> __device__ __forceinline__ C em_cx_div(C p, C q) {
    typename em_cx_real<C>::t den = q.re * q.re + q.im * q.im;
    return C{(p.re * q.re + p.im * q.im) / den, (p.im * q.re - p.re * q.im) / den};
}
__device__ __forceinline__ float em_cx_add(float a, float b) {
    return a + b;
}
__device__ __forceinline__ double em_cx_add(double a, double b) {
    return a + b;
}
__device__ __forceinline__ float em_cx_sub(float a, float b) {
    return a - b;
}
__device__ __forceinline__ double em_cx_sub(double a, double b) {
    return a - b;
}
__device__ __forceinline__ float em_cx_mul(float a, float b) {
    return a * b;
}
__device__ __forceinline__ double em_cx_mul(double a, double b) {
    return a * b;
}
__device__ __forceinline__ float em_cx_div(float a, float b) {
    return a / b;
}
__device__ __forceinline__ double em_cx_div(double a, double b) {
    return a / b;
}

// ---- iir: one thread per column; its state z (na values) lives in the scratch buffer ----

struct em_iir_params {
    em_i64 n, na;        // column length, coefficients per column of a
    em_i64 cd[4], ad[4]; // dims of c (and y) and of a
};

template <int D>
__device__ void em_iir_impl(void *yv, const void *cv, const void *av, void *zv,
                            const em_iir_params &p) {
    typedef typename em_sig_t<D>::t T;
    T *y = static_cast<T *>(yv), *z = static_cast<T *>(zv);
    const T *c = static_cast<const T *>(cv), *a = static_cast<const T *>(av);
    const em_i64 cols = p.cd[1] * p.cd[2] * p.cd[3];
    for (em_i64 col = (em_i64)blockIdx.x * blockDim.x + threadIdx.x; col < cols;
         col += (em_i64)gridDim.x * blockDim.x) {
        em_i64 j = col % p.cd[1], k = (col / p.cd[1]) % p.cd[2], l = col / (p.cd[1] * p.cd[2]);
        em_i64 acol = ((p.ad[3] > 1 ? l : 0) * p.ad[2] + (p.ad[2] > 1 ? k : 0)) * p.ad[1] +
                      (p.ad[1] > 1 ? j : 0);
        const T *ac = a + acol * p.na;
        const T *cc = c + col * p.n;
        T *yc = y + col * p.n;
        T *zc = z + col * p.na;
        const T zero = em_cx_zero(T());
        for (em_i64 q = 0; q < p.na; q++)
            zc[q] = zero;
        const T a0 = ac[0];
        for (em_i64 i = 0; i < p.n; i++) {
            T v = em_cx_div(em_cx_add(cc[i], zc[0]), a0);
            yc[i] = v;
            for (em_i64 q = 1; q < p.na; q++)
                zc[q - 1] = em_cx_sub(zc[q], em_cx_mul(ac[q], v));
        }
    }
}

// ---- medfilt: one thread per output; the window in a local array of N >= wlen * wwid ----

__device__ __forceinline__ bool em_med_less(double a, double b) {
    return a < b || (b != b && a == a);
}

// The k-th smallest of v[0..n) by quickselect (the CPU backend's algorithm).
__device__ double em_med_select(double *v, em_i64 n, em_i64 k) {
    em_i64 lo = 0, hi = n - 1;
    while (lo < hi) {
        double piv = v[lo + (hi - lo) / 2];
        em_i64 i = lo, j = hi;
        while (i <= j) {
            while (em_med_less(v[i], piv))
                i++;
            while (em_med_less(piv, v[j]))
                j--;
            if (i <= j) {
                double t = v[i];
                v[i] = v[j];
                v[j] = t;
                i++;
                j--;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            return v[k];
    }
    return v[k];
}

__device__ __forceinline__ em_i64 em_med_sym(em_i64 i, em_i64 n) {
    if (i < 0) i = -i;
    if (i >= n) i = 2 * (n - 1) - i;
    return i < 0 ? 0 : (i >= n ? n - 1 : i);
}

struct em_med_params {
    em_i64 rows, cols, images, wlen, wwid;
    int sym;
};

// Window element q (column-major over the window) of output (row, col) of an image at base.
template <int D>
__device__ __forceinline__ double em_med_at(const void *in, const em_med_params &p, em_i64 base,
                                            em_i64 row, em_i64 col, em_i64 q) {
    em_i64 wi = q % p.wlen, wj = q / p.wlen;
    em_i64 cc = col + wj - p.wwid / 2, rr = row + wi - p.wlen / 2;
    bool outside = cc < 0 || cc >= p.cols || rr < 0 || rr >= p.rows;
    if (p.sym) {
        cc = em_med_sym(cc, p.cols);
        rr = em_med_sym(rr, p.rows);
    } else if (outside) {
        return 0;
    }
    double re, im;
    em_sig_load<D>(in, base + cc * p.rows + rr, re, im);
    return re;
}

// The k-th smallest of the window without storing it: the value whose rank range holds k
// (quadratic in the window, for windows too large for a per-thread array).
template <int D>
__device__ double em_med_rank(const void *in, const em_med_params &p, em_i64 base, em_i64 row,
                              em_i64 col, em_i64 wn, em_i64 k) {
    for (em_i64 i = 0; i < wn; i++) {
        double v = em_med_at<D>(in, p, base, row, col, i);
        em_i64 less = 0, equal = 0;
        for (em_i64 j = 0; j < wn; j++) {
            double w = em_med_at<D>(in, p, base, row, col, j);
            less += em_med_less(w, v);
            equal += !em_med_less(w, v) && !em_med_less(v, w);
        }
        if (less <= k && k < less + equal) return v;
    }
    return 0;
}

// N > 0: the window in a per-thread array of N values (quickselect, as the CPU backend). N == 0:
// ranks counted in place, for large windows, which a per-thread array would make every resident
// thread reserve.
template <int D, int N>
__device__ void em_medfilt_impl(void *out, const void *in, const em_med_params &p) {
    double v[N > 0 ? N : 1];
    const em_i64 total = p.rows * p.cols * p.images, wn = p.wlen * p.wwid;
    for (em_i64 e = (em_i64)blockIdx.x * blockDim.x + threadIdx.x; e < total;
         e += (em_i64)gridDim.x * blockDim.x) {
        em_i64 row = e % p.rows, col = (e / p.rows) % p.cols, img = e / (p.rows * p.cols);
        em_i64 base = img * p.rows * p.cols;
        em_i64 off = wn / 2;
        double med, lo = 0;
        if constexpr (N > 0) {
            for (em_i64 q = 0; q < wn; q++)
                v[q] = em_med_at<D>(in, p, base, row, col, q);
            med = em_med_select(v, wn, off);
            if (wn % 2 == 0) {
                lo = v[0];
                for (em_i64 q = 1; q < off; q++)
                    if (em_med_less(lo, v[q])) lo = v[q];
            }
        } else {
            med = em_med_rank<D>(in, p, base, row, col, wn, off);
            if (wn % 2 == 0) lo = em_med_rank<D>(in, p, base, row, col, wn, off - 1);
        }
        if (wn % 2 == 0) {
            // The mean of the two middle values in the array's type (ArrayFire's (a + b) / 2).
            if constexpr (D == 0)
                med = (double)(((float)med + (float)lo) / 2.0f);
            else if constexpr (D == 2)
                med = (med + lo) / 2;
            else if constexpr (D == 6)
                med = (double)((unsigned)((unsigned)med + (unsigned)lo) / 2u);
            else
                med = (double)(((long long)med + (long long)lo) / 2);
        }
        em_sig_store<D>(out, e, med, 0, false);
    }
}

// ---- approx1 / approx2 (ArrayFire's interpolation, as src/backend/cpu/signal.c) ----
//
// KIND (the af_interp_type family, a template parameter so no element branches on it): 0 nearest,
// 1 lower, 2 linear, 3 linear with cosine weights, 4 cubic, 5 cubic spline. TWO: approx2. Values
// have L scalars of type P (2 for complex, interpolated part by part).

template <class P> __device__ __forceinline__ P em_ap_lin(P v0, P v1, P r) {
    return (1 - r) * v0 + r * v1;
}

template <class P> __device__ __forceinline__ P em_ap_cubic(const P v[4], P x, bool spline) {
    P a0, a1, a2, a3;
    if (spline) {
        a0 = (P)-0.5 * v[0] + (P)1.5 * v[1] + (P)-1.5 * v[2] + (P)0.5 * v[3];
        a1 = (P)1.0 * v[0] + (P)-2.5 * v[1] + (P)2.0 * v[2] + (P)-0.5 * v[3];
        a2 = (P)-0.5 * v[0] + (P)0.5 * v[2];
        a3 = v[1];
    } else {
        a0 = v[3] - v[2] - v[0] + v[1];
        a1 = v[0] - v[1] - a0;
        a2 = v[2] - v[0];
        a3 = v[1];
    }
    P x2 = x * x, x3 = x2 * x;
    return a0 * x3 + a1 * x2 + a2 * x + a3;
}

// The L scalars of one value, through the read-only path (the input is read-only here).
template <class P, int L> __device__ __forceinline__ void em_ap_ld(P v[L], const P *p) {
    if constexpr (L == 1) {
        v[0] = __ldg(p);
    } else if constexpr (sizeof(P) == 4) {
        float2 t = __ldg(reinterpret_cast<const float2 *>(p));
        v[0] = t.x;
        v[1] = t.y;
    } else {
        double2 t = __ldg(reinterpret_cast<const double2 *>(p));
        v[0] = t.x;
        v[1] = t.y;
    }
}

// (1 - cos(r pi)) / 2 in double, as the CPU backend computes it.
template <class P> __device__ __forceinline__ P em_ap_cosine(P r) {
    return (P)((1 - cos((double)r * 3.14159265358979323846)) / 2);
}

// The two-point offsets -1..2 of a cubic stencil at g, clamped to [0, n).
template <class I> __device__ __forceinline__ void em_ap_stencil(I o[4], I g, I n) {
    o[0] = g - 1 >= 0 ? -1 : 0;
    o[1] = 0;
    o[2] = g + 1 < n ? 1 : 0;
    o[3] = g + 2 < n ? 2 : (g + 1 < n ? 1 : 0);
}

// One output value o[0..L) at position (x, y) (indices along the interpolated dims) from the
// plane at src, whose interpolated dims have lengths nx, ny and strides sx, sy in values; I is
// the index type. Off the grid gives off_grid (imaginary part 0). Every load is issued
// unconditionally at an index clamped inside the plane and unwanted values are selected away, so
// a thread's loads never wait on a branch; in-grid results are those of the CPU backend.
template <class P, int L, int KIND, bool TWO, class I>
__device__ __forceinline__ void em_ap_value(P o[L], const P *src, I nx, I ny, I sx, I sy, P x, P y,
                                            P off_grid) {
    const bool off = x < 0 || (P)nx < x + 1 || (TWO && (y < 0 || (P)ny < y + 1));
    P r[L];
    if constexpr (KIND <= 1) {
        const P fx = KIND == 1 ? floor(x) : round(x);
        const I i = off ? 0 : min((I)fx, nx - 1);
        I j = 0;
        if constexpr (TWO) {
            const P fy = KIND == 1 ? floor(y) : round(y);
            j = off ? 0 : min((I)fy, ny - 1);
        }
        em_ap_ld<P, L>(r, src + (i * sx + j * sy) * L);
    } else {
        const I gx = off ? 0 : min((I)floor(x), nx - 1);
        const P ox = x - (P)gx;
        I gy = 0;
        P oy = 0;
        if constexpr (TWO) {
            gy = off ? 0 : min((I)floor(y), ny - 1);
            oy = y - (P)gy;
        }
        const P *q = src + (gx * sx + gy * sy) * L;
        if constexpr (KIND <= 3) {
            P xr = ox, yr = oy;
            if constexpr (KIND == 3) {
                xr = em_ap_cosine(xr);
                if constexpr (TWO) yr = em_ap_cosine(yr);
            }
            if constexpr (!TWO) {
                const bool c1 = gx + 1 < nx;
                P v0[L], v1[L];
                em_ap_ld<P, L>(v0, q);
                em_ap_ld<P, L>(v1, q + (c1 ? sx * L : 0));
#pragma unroll
                for (int l = 0; l < L; l++)
                    r[l] = em_ap_lin(v0[l], c1 ? v1[l] : (P)0, xr);
            } else {
                // The CPU backend's conditions, and the neighbour inside the plane.
                const bool cx = !off && x + 1 < (P)nx && gx + 1 < nx;
                const bool cy = !off && y + 1 < (P)ny && gy + 1 < ny;
                const I dx = cx ? sx * L : 0, dy = cy ? sy * L : 0;
                P v00[L], v01[L], v10[L], v11[L];
                em_ap_ld<P, L>(v00, q);
                em_ap_ld<P, L>(v01, q + dx);
                em_ap_ld<P, L>(v10, q + dy);
                em_ap_ld<P, L>(v11, q + dx + dy);
#pragma unroll
                for (int l = 0; l < L; l++) {
                    const P a = em_ap_lin(v00[l], cx ? v01[l] : (P)0, xr);
                    const P b = em_ap_lin(cy ? v10[l] : (P)0, (cx && cy) ? v11[l] : (P)0, xr);
                    r[l] = em_ap_lin(a, b, yr);
                }
            }
        } else {
            // Cubic family: clamped 4-point stencils.
            const bool spline = KIND == 5;
            I ox4[4], oy4[4] = {0, 0, 0, 0};
            em_ap_stencil(ox4, gx, nx);
            if constexpr (TWO) em_ap_stencil(oy4, gy, ny);
            P v[4][TWO ? 4 : 1][L];
#pragma unroll
            for (int j = 0; j < (TWO ? 4 : 1); j++)
#pragma unroll
                for (int i = 0; i < 4; i++)
                    em_ap_ld<P, L>(v[i][j], q + (ox4[i] * sx + oy4[j] * sy) * L);
#pragma unroll
            for (int l = 0; l < L; l++) {
                P rows[4], t[4];
#pragma unroll
                for (int j = 0; j < (TWO ? 4 : 1); j++) {
#pragma unroll
                    for (int i = 0; i < 4; i++)
                        t[i] = v[i][j][l];
                    rows[j] = em_ap_cubic(t, ox, spline);
                }
                r[l] = TWO ? em_ap_cubic(rows, oy, spline) : rows[0];
            }
        }
    }
#pragma unroll
    for (int l = 0; l < L; l++)
        o[l] = off ? (l == 0 ? off_grid : (P)0) : r[l];
}

// The general case: any interpolated dims and position broadcast, 64-bit indices, one output per
// thread in a grid-stride loop.
struct em_approx_params {
    em_i64 id[4], pd[4], od[4];
    double xbeg, xstep, ybeg, ystep;
    float off_grid;
    int xdim, ydim;
};

// Offset of output coordinates c in an array of dims d (a dim of 1 repeats), skipping dims s0/s1.
__device__ __forceinline__ em_i64 em_ap_off(const em_i64 c[4], const em_i64 d[4], int s0, int s1) {
    em_i64 off = 0, st = 1;
    for (int k = 0; k < 4; k++) {
        if (k != s0 && k != s1 && d[k] > 1) off += c[k] * st;
        st *= d[k];
    }
    return off;
}

template <class P, int L, int KIND, bool TWO>
__device__ void em_approx_impl(P *out, const P *in, const P *pos0, const P *pos1,
                               const em_approx_params &p) {
    const em_i64 total = p.od[0] * p.od[1] * p.od[2] * p.od[3];
    const em_i64 ist[4] = {1, p.id[0], p.id[0] * p.id[1], p.id[0] * p.id[1] * p.id[2]};
    const P xb = (P)p.xbeg, xs = (P)p.xstep, yb = (P)p.ybeg, ys = (P)p.ystep;
    const em_i64 nx = p.id[p.xdim], ny = TWO ? p.id[p.ydim] : 1;
    const em_i64 sx = ist[p.xdim], sy = TWO ? ist[p.ydim] : 0;
    for (em_i64 e = (em_i64)blockIdx.x * blockDim.x + threadIdx.x; e < total;
         e += (em_i64)gridDim.x * blockDim.x) {
        em_i64 c[4] = {e % p.od[0], (e / p.od[0]) % p.od[1], (e / (p.od[0] * p.od[1])) % p.od[2],
                       e / (p.od[0] * p.od[1] * p.od[2])};
        em_i64 po = em_ap_off(c, p.pd, -1, -1);
        em_i64 io = em_ap_off(c, p.id, p.xdim, TWO ? p.ydim : -1);
        P x = (pos0[po] - xb) / xs;
        P y = TWO ? (pos1[po] - yb) / ys : (P)0;
        em_ap_value<P, L, KIND, TWO, em_i64>(out + e * L, in + io * L, nx, ny, sx, sy, x, y,
                                             (P)p.off_grid);
    }
}

// The common case: the interpolated dims are dims 0 (and 1) in either order, so an output plane
// (n values) and its positions are contiguous; planes are `batch` consecutive blocks of the
// output and input, and the positions either repeat (pstride 0) or follow (pstride n). Indices
// are 32-bit (the host checks the sizes). Each thread takes V outputs blockDim apart: the
// position loads and the output stores are coalesced, marked streaming so they do not push the
// gathered input out of L2, and the V independent gathers are in flight together.
struct em_approx_fast_params {
    em_i64 istride; // scalars (P) between input planes
    double xbeg, xstep, ybeg, ystep;
    int n, batch, pstride;
    int nx, ny, sx, sy;
    float off_grid;
    int unit; // beg 0 and step 1: positions are indices as they are ((p - 0) / 1 == p exactly)
};

template <class P, int L> __device__ __forceinline__ void em_ap_st(P *p, const P v[L]) {
    if constexpr (L == 1) {
        __stcs(p, v[0]);
    } else if constexpr (sizeof(P) == 4) {
        __stcs(reinterpret_cast<float2 *>(p), make_float2(v[0], v[1]));
    } else {
        __stcs(reinterpret_cast<double2 *>(p), make_double2(v[0], v[1]));
    }
}

template <class P, int L, int KIND, bool TWO, int V>
__device__ void em_approx_fast_impl(P *out, const P *in, const P *pos0, const P *pos1,
                                    const em_approx_fast_params &p) {
    const unsigned total = (unsigned)p.n * (unsigned)p.batch;
    const unsigned e0 = blockIdx.x * (blockDim.x * V) + threadIdx.x;
    P x[V], y[V];
    unsigned plane[V];
#pragma unroll
    for (int k = 0; k < V; k++) {
        const unsigned e = e0 + k * blockDim.x;
        unsigned b = 0, r = e < total ? e : 0;
        if (p.batch > 1) {
            b = r / (unsigned)p.n;
            r -= b * (unsigned)p.n;
        }
        const unsigned pi = r + b * (unsigned)p.pstride;
        plane[k] = b;
        x[k] = __ldcs(pos0 + pi);
        y[k] = TWO ? __ldcs(pos1 + pi) : (P)0;
    }
    if (!p.unit) {
        const P xb = (P)p.xbeg, xs = (P)p.xstep, yb = (P)p.ybeg, ys = (P)p.ystep;
#pragma unroll
        for (int k = 0; k < V; k++) {
            x[k] = (x[k] - xb) / xs;
            if (TWO) y[k] = (y[k] - yb) / ys;
        }
    }
    P o[V][L];
#pragma unroll
    for (int k = 0; k < V; k++)
        em_ap_value<P, L, KIND, TWO, int>(o[k], in + (em_i64)plane[k] * p.istride, p.nx, p.ny, p.sx,
                                          p.sy, x[k], y[k], (P)p.off_grid);
#pragma unroll
    for (int k = 0; k < V; k++) {
        const unsigned e = e0 + k * blockDim.x;
        if (e < total) em_ap_st<P, L>(out + (em_i64)e * L, o[k]);
    }
}
