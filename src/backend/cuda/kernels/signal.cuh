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

// ---- complex helpers over em_sc32 / em_sc64, with float/double overloads ----

template <class T> struct em_cx_real { typedef T t; };
template <> struct em_cx_real<em_sc32> { typedef float t; };
template <> struct em_cx_real<em_sc64> { typedef double t; };

__device__ __forceinline__ float em_cx_zero(float) { return 0.0f; }
__device__ __forceinline__ double em_cx_zero(double) { return 0.0; }
__device__ __forceinline__ em_sc32 em_cx_zero(em_sc32) { return em_sc32{0.0f, 0.0f}; }
__device__ __forceinline__ em_sc64 em_cx_zero(em_sc64) { return em_sc64{0.0, 0.0}; }

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
__device__ __forceinline__ float em_cx_add(float a, float b) { return a + b; }
__device__ __forceinline__ double em_cx_add(double a, double b) { return a + b; }
__device__ __forceinline__ float em_cx_sub(float a, float b) { return a - b; }
__device__ __forceinline__ double em_cx_sub(double a, double b) { return a - b; }
__device__ __forceinline__ float em_cx_mul(float a, float b) { return a * b; }
__device__ __forceinline__ double em_cx_mul(double a, double b) { return a * b; }
__device__ __forceinline__ float em_cx_div(float a, float b) { return a / b; }
__device__ __forceinline__ double em_cx_div(double a, double b) { return a / b; }

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

struct em_approx_params {
    em_i64 id[4], pd[4], od[4];
    double xbeg, xstep, ybeg, ystep;
    float off_grid;
    int xdim, ydim, order, method, two, lanes;
};

template <class P> __device__ __forceinline__ P em_ap_lin(P v0, P v1, P r) {
    return (1 - r) * v0 + r * v1;
}

template <class P> __device__ P em_ap_cubic(const P v[4], P x, bool spline) {
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

// Offset of output coordinates c in an array of dims d (a dim of 1 repeats), skipping dims s0/s1.
__device__ __forceinline__ em_i64 em_ap_off(const em_i64 c[4], const em_i64 d[4], int s0, int s1) {
    em_i64 off = 0, st = 1;
    for (int k = 0; k < 4; k++) {
        if (k != s0 && k != s1 && d[k] > 1) off += c[k] * st;
        st *= d[k];
    }
    return off;
}

template <class P>
__device__ void em_approx_impl(P *out, const P *in, const P *pos0, const P *pos1,
                               const em_approx_params &p) {
    const em_i64 total = p.od[0] * p.od[1] * p.od[2] * p.od[3];
    const em_i64 ist[4] = {1, p.id[0], p.id[0] * p.id[1], p.id[0] * p.id[1] * p.id[2]};
    const int L = p.lanes;
    const P xb = (P)p.xbeg, xs = (P)p.xstep, yb = (P)p.ybeg, ys = (P)p.ystep;
    const double pi = 3.14159265358979323846;
    for (em_i64 e = (em_i64)blockIdx.x * blockDim.x + threadIdx.x; e < total;
         e += (em_i64)gridDim.x * blockDim.x) {
        em_i64 c[4] = {e % p.od[0], (e / p.od[0]) % p.od[1], (e / (p.od[0] * p.od[1])) % p.od[2],
                       e / (p.od[0] * p.od[1] * p.od[2])};
        em_i64 po = em_ap_off(c, p.pd, -1, -1);
        em_i64 io = em_ap_off(c, p.id, p.xdim, p.two ? p.ydim : -1);
        P x = (pos0[po] - xb) / xs;
        P y = p.two ? (pos1[po] - yb) / ys : (P)0;
        const em_i64 nx = p.id[p.xdim], ny = p.two ? p.id[p.ydim] : 1;
        P *o = out + e * L;
        bool off = x < 0 || (P)nx < x + 1 || (p.two && (y < 0 || (P)ny < y + 1));
        if (off) {
            o[0] = (P)p.off_grid;
            if (L == 2) o[1] = 0;
            continue;
        }
        const P *src = in + io * L;
        const em_i64 sx = ist[p.xdim] * L, sy = p.two ? ist[p.ydim] * L : 0;
        if (p.order == 1) {
            bool low = p.method == 4; // AF_INTERP_LOWER
            em_i64 i = (em_i64)(low ? floor(x) : round(x));
            em_i64 j = p.two ? (em_i64)(low ? floor(y) : round(y)) : 0;
            for (int l = 0; l < L; l++)
                o[l] = src[i * sx + j * sy + l];
            continue;
        }
        em_i64 gx = (em_i64)floor(x), gy = p.two ? (em_i64)floor(y) : 0;
        P ox = x - (P)gx, oy = y - (P)gy;
        if (p.order == 2) {
            // AF_INTERP_LINEAR_COSINE = 5, AF_INTERP_BILINEAR_COSINE = 6
            bool cosine = p.method == 5 || p.method == 6;
            P xr = ox, yr = oy;
            if (cosine) {
                xr = (P)((1 - cos((double)xr * pi)) / 2);
                yr = (P)((1 - cos((double)yr * pi)) / 2);
            }
            const P *q = src + gx * sx + gy * sy;
            if (!p.two) {
                bool c1 = gx + 1 < nx;
                for (int l = 0; l < L; l++)
                    o[l] = em_ap_lin(q[l], c1 ? q[sx + l] : (P)0, xr);
            } else {
                bool cx = x + 1 < (P)nx, cy = y + 1 < (P)ny;
                for (int l = 0; l < L; l++) {
                    P v00 = q[l], v01 = cx ? q[sx + l] : (P)0, v10 = cy ? q[sy + l] : (P)0;
                    P v11 = (cx && cy) ? q[sx + sy + l] : (P)0;
                    o[l] = em_ap_lin(em_ap_lin(v00, v01, xr), em_ap_lin(v10, v11, xr), yr);
                }
            }
            continue;
        }
        // Cubic family: clamped 4-point stencils. AF_INTERP_CUBIC_SPLINE = 8, BICUBIC_SPLINE = 9.
        bool spline = p.method == 8 || p.method == 9;
        em_i64 ox4[4] = {gx - 1 >= 0 ? -1 : 0, 0, gx + 1 < nx ? 1 : 0,
                         gx + 2 < nx ? 2 : (gx + 1 < nx ? 1 : 0)};
        em_i64 oy4[4] = {gy - 1 >= 0 ? -1 : 0, 0, gy + 1 < ny ? 1 : 0,
                         gy + 2 < ny ? 2 : (gy + 1 < ny ? 1 : 0)};
        for (int l = 0; l < L; l++) {
            P v[4];
            if (!p.two) {
                for (int q = 0; q < 4; q++)
                    v[q] = src[(gx + ox4[q]) * sx + l];
                o[l] = em_ap_cubic(v, ox, spline);
            } else {
                P rows[4];
                for (int j = 0; j < 4; j++) {
                    for (int i = 0; i < 4; i++)
                        v[i] = src[(gx + ox4[i]) * sx + (gy + oy4[j]) * sy + l];
                    rows[j] = em_ap_cubic(v, ox, spline);
                }
                o[l] = em_ap_cubic(rows, oy, spline);
            }
        }
    }
}
