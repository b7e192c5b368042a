// Convolution kernels (src/backend/cuda/convolve.c). NVRTC compiles kernels/signal.cuh (dtypes,
// loads and stores), then this text, then one generated line instantiating the wanted template
// as an extern "C" kernel. Semantics: src/backend/signal.h (em_conv_desc, em_conv_nn_desc); the
// CPU files are the reference. Multiply-adds use explicit fma(): the library compiles with
// --fmad=false, and a convolution is all multiply-adds.

// ---- accumulation arithmetic: float, double, em_sc32, em_sc64 ----

__device__ __forceinline__ void em_cv_zero(float &a) {
    a = 0.0f;
}
__device__ __forceinline__ void em_cv_zero(double &a) {
    a = 0.0;
}
__device__ __forceinline__ void em_cv_zero(em_sc32 &a) {
    a.re = 0.0f;
    a.im = 0.0f;
}
__device__ __forceinline__ void em_cv_zero(em_sc64 &a) {
    a.re = 0.0;
    a.im = 0.0;
}

__device__ __forceinline__ void em_cv_madd(float &a, float w, float s) {
    a = fmaf(w, s, a);
}
__device__ __forceinline__ void em_cv_madd(double &a, double w, double s) {
    a = fma(w, s, a);
}
__device__ __forceinline__ void em_cv_madd(em_sc32 &a, em_sc32 w, em_sc32 s) {
    a.re = fmaf(w.re, s.re, a.re);
    a.re = fmaf(-w.im, s.im, a.re);
    a.im = fmaf(w.re, s.im, a.im);
    a.im = fmaf(w.im, s.re, a.im);
}
__device__ __forceinline__ void em_cv_madd(em_sc64 &a, em_sc64 w, em_sc64 s) {
    a.re = fma(w.re, s.re, a.re);
    a.re = fma(-w.im, s.im, a.re);
    a.im = fma(w.re, s.im, a.im);
    a.im = fma(w.im, s.re, a.im);
}

// Loads through the read-only data path (every signal and filter is read-only while a
// convolution runs).
template <class T> __device__ __forceinline__ T em_cv_ldg(const T *p) {
    return __ldg(p);
}
__device__ __forceinline__ em_sc32 em_cv_ldg(const em_sc32 *p) {
    float2 v = __ldg(reinterpret_cast<const float2 *>(p));
    return em_sc32{v.x, v.y};
}
__device__ __forceinline__ em_sc64 em_cv_ldg(const em_sc64 *p) {
    double2 v = __ldg(reinterpret_cast<const double2 *>(p));
    return em_sc64{v.x, v.y};
}

// Signal dtype D read in the accumulation dtype AD (the same, or f32 for integers and b8, which
// convert through double as em_sig_load does).
template <int D, int AD>
__device__ __forceinline__ typename em_sig_t<AD>::t em_cv_ld(const typename em_sig_t<D>::t *p) {
    typedef typename em_sig_t<AD>::t A;
    if constexpr (D == AD) {
        return em_cv_ldg(p);
    } else if constexpr (D == 12) {
        return (A)em_sig_h2f(*p);
    } else {
        return (A)(double)em_cv_ldg(p);
    }
}

template <int D, int AD>
__device__ __forceinline__ typename em_sig_t<AD>::t em_cv_load(const void *p, em_i64 i) {
    return em_cv_ld<D, AD>(static_cast<const typename em_sig_t<D>::t *>(p) + i);
}

// An accumulated value stored as the signal's dtype (truncation for integers, x != 0 for b8).
template <int D, int AD>
__device__ __forceinline__ void em_cv_st(typename em_sig_t<D>::t *p, typename em_sig_t<AD>::t v) {
    if constexpr (D == AD) {
        *p = v;
    } else {
        em_sig_store<D>(p, 0, (double)v, 0.0, false);
    }
}

template <int D, int AD>
__device__ __forceinline__ void em_cv_store(void *p, em_i64 i, typename em_sig_t<AD>::t v) {
    em_cv_st<D, AD>(static_cast<typename em_sig_t<D>::t *>(p) + i, v);
}

struct em_conv_params {
    em_i64 sd[4], fd[4], od[4];
    em_i64 start[3];
    int rank;
};

// Offsets of batch element (c1, c2, c3) in the signal and the filter: dims rank..3 index the
// batch, and a dim of 1 repeats.
__device__ __forceinline__ void em_cv_batch(const em_conv_params &p, em_i64 c1, em_i64 c2,
                                            em_i64 c3, em_i64 &soff, em_i64 &foff) {
    em_i64 c[4] = {0, c1, c2, c3};
    em_i64 ss = 1, fs = 1;
    soff = 0;
    foff = 0;
    for (int k = 0; k < 4; k++) {
        if (k >= p.rank) {
            soff += (p.sd[k] == 1 ? 0 : c[k]) * ss;
            foff += (p.fd[k] == 1 ? 0 : c[k]) * fs;
        }
        ss *= p.sd[k];
        fs *= p.fd[k];
    }
}

// Any rank and filter size: one thread per output element, taps read through the cache.
template <int D, int AD>
__device__ void em_conv_generic_impl(void *out, const void *sig, const void *filt,
                                     const em_conv_params &p) {
    typedef typename em_sig_t<AD>::t A;
    const A *f = static_cast<const A *>(filt);
    const em_i64 total = p.od[0] * p.od[1] * p.od[2] * p.od[3];
    const em_i64 f1n = p.rank > 1 ? p.fd[1] : 1, f2n = p.rank > 2 ? p.fd[2] : 1;
    const em_i64 s1n = p.rank > 1 ? p.sd[1] : 1, s2n = p.rank > 2 ? p.sd[2] : 1;
    for (em_i64 o = (em_i64)blockIdx.x * blockDim.x + threadIdx.x; o < total;
         o += (em_i64)gridDim.x * blockDim.x) {
        em_i64 c0 = o % p.od[0], r = o / p.od[0];
        em_i64 c1 = r % p.od[1], c2 = (r / p.od[1]) % p.od[2], c3 = r / (p.od[1] * p.od[2]);
        em_i64 soff, foff;
        em_cv_batch(p, c1, c2, c3, soff, foff);
        em_i64 b0 = c0 + p.start[0], b1 = p.rank > 1 ? c1 + p.start[1] : 0,
               b2 = p.rank > 2 ? c2 + p.start[2] : 0;
        A acc;
        em_cv_zero(acc);
        for (em_i64 k2 = 0; k2 < f2n; k2++) {
            em_i64 s2 = b2 - k2;
            if (s2 < 0 || s2 >= s2n) continue;
            for (em_i64 k1 = 0; k1 < f1n; k1++) {
                em_i64 s1 = b1 - k1;
                if (s1 < 0 || s1 >= s1n) continue;
                em_i64 srow = soff + (s2 * s1n + s1) * p.sd[0];
                em_i64 frow = foff + (k2 * f1n + k1) * p.fd[0];
                em_i64 k0lo = b0 - p.sd[0] + 1 > 0 ? b0 - p.sd[0] + 1 : 0;
                em_i64 k0hi = b0 + 1 < p.fd[0] ? b0 + 1 : p.fd[0];
                for (em_i64 k0 = k0lo; k0 < k0hi; k0++)
                    em_cv_madd(acc, f[frow + k0], em_cv_load<D, AD>(sig, srow + b0 - k0));
            }
        }
        em_cv_store<D, AD>(out, o, acc);
    }
}

// Ranks 1 and 2 (the host runs it for rank 1; rank 2 takes the column tile below) with the filter
// size known at compile time. A block computes BY rows of BW = BX * R outputs; thread (tx, ty)
// computes R consecutive outputs of row ty. The signal tile the block needs (zero outside the
// signal) and the flipped filter are staged in shared memory; each thread slides an R-value
// window along a tile row, so every tap costs one shared load of the signal, one broadcast load
// of the filter and R multiply-adds. R is odd, so the lanes of a warp (stride R apart) hit
// distinct banks. Rank 1 runs one output row per block row (BY = 1) and batches over
// blockIdx.y; rank 2 batches over blockIdx.z.
//
// Memory: tile rows are loaded by whole warps at consecutive columns (coalesced, unrolled with
// constant offsets from one row pointer, through the read-only path), and a block whose tile lies
// inside the signal skips every bounds check. The results go back through shared memory: a
// warp's outputs are one contiguous run of 32 * R values of its row, which it stores at
// consecutive addresses (a thread storing its own R neighbours directly would make every store
// instruction touch R times as many sectors). Index arithmetic is 32-bit inside an image; the
// host takes this kernel only for rows shorter than 2^30 elements.
template <int D, int AD, int FW, int FH, int R, int BX, int BY>
__device__ void em_conv_tile_impl(void *out, const void *sig, const void *filt,
                                  const em_conv_params &p) {
    typedef typename em_sig_t<AD>::t A;
    typedef typename em_sig_t<D>::t T;
    constexpr int BW = BX * R, TW = BW + FW - 1, TH = BY + FH - 1;
    static_assert(BX % 32 == 0, "a warp covers one tile row");
    __shared__ A tile[TH * TW];
    __shared__ A g[FW * FH];
    const A *f = static_cast<const A *>(filt);
    const int tx = threadIdx.x, ty = threadIdx.y, tid = ty * BX + tx;
    const bool r1 = p.rank == 1;
    const int sd0 = (int)p.sd[0], od0 = (int)p.od[0];
    const int s1n = r1 ? 1 : (int)p.sd[1], o1n = r1 ? 1 : (int)p.od[1];
    const int x0 = (int)blockIdx.x * BW;
    const int y0 = r1 ? 0 : (int)blockIdx.y * BY;
    const int sx0 = x0 + (int)p.start[0] - (FW - 1);
    const int sy0 = r1 ? 0 : y0 + (int)p.start[1] - (FH - 1);
    // Block-uniform: the whole tile inside the signal, and every output column inside the output.
    const bool inner = sx0 >= 0 && sx0 + TW <= sd0 && sy0 >= 0 && sy0 + TH <= s1n;
    const bool ofull = x0 + BW <= od0;
    // Batch rows: rank 1 has them on blockIdx.y, rank 2 on blockIdx.z.
    const em_i64 nb = r1 ? p.od[1] * p.od[2] * p.od[3] : p.od[2] * p.od[3];
    const em_i64 bstep = r1 ? gridDim.y : gridDim.z;
    for (em_i64 b = r1 ? blockIdx.y : blockIdx.z; b < nb; b += bstep) {
        em_i64 c1, c2, c3;
        if (r1) {
            c1 = b % p.od[1];
            c2 = (b / p.od[1]) % p.od[2];
            c3 = b / (p.od[1] * p.od[2]);
        } else {
            c1 = 0;
            c2 = b % p.od[2];
            c3 = b / p.od[2];
        }
        em_i64 soff, foff;
        em_cv_batch(p, c1, c2, c3, soff, foff);
        const T *s = static_cast<const T *>(sig) + soff;
        __syncthreads(); // the previous batch element is done with the tile and the filter
        for (int i = tid; i < FW * FH; i += BX * BY) {
            int a = i % FW, bb = i / FW;
            g[i] = f[foff + (em_i64)(FH - 1 - bb) * FW + (FW - 1 - a)];
        }
        // Tile row r is loaded by thread row r % BY, columns tx, tx + BX, ... A thread past the
        // last row or column loads and stores the last one again (the same value to the same
        // place), so the loads are straight-line code, all in flight together.
        if (inner) {
#pragma unroll
            for (int r0 = 0; r0 < TH; r0 += BY) {
                const int r = r0 + BY <= TH ? r0 + ty : min(r0 + ty, TH - 1);
                const T *srow = s + (em_i64)(sy0 + r) * sd0 + sx0;
                A *trow = tile + r * TW;
#pragma unroll
                for (int c0 = 0; c0 < TW; c0 += BX) {
                    const int c = c0 + BX <= TW ? c0 + tx : min(c0 + tx, TW - 1);
                    trow[c] = em_cv_ld<D, AD>(srow + c);
                }
            }
        } else {
#pragma unroll
            for (int r0 = 0; r0 < TH; r0 += BY) {
                const int r = r0 + BY <= TH ? r0 + ty : min(r0 + ty, TH - 1);
                // Loads at the clamped place, zero selected outside: still no branches.
                const int gy = sy0 + r;
                const bool rin = gy >= 0 && gy < s1n;
                const T *srow = s + (em_i64)min(max(gy, 0), s1n - 1) * sd0;
                A *trow = tile + r * TW;
#pragma unroll
                for (int c0 = 0; c0 < TW; c0 += BX) {
                    const int c = c0 + BX <= TW ? c0 + tx : min(c0 + tx, TW - 1), gx = sx0 + c;
                    const A v = em_cv_ld<D, AD>(srow + min(max(gx, 0), sd0 - 1));
                    A z;
                    em_cv_zero(z);
                    trow[c] = rin && gx >= 0 && gx < sd0 ? v : z;
                }
            }
        }
        __syncthreads();
        A acc[R];
#pragma unroll
        for (int r = 0; r < R; r++)
            em_cv_zero(acc[r]);
#pragma unroll
        for (int bb = 0; bb < FH; bb++) {
            const A *trow = tile + (ty + bb) * TW + tx * R;
            const A *grow = g + bb * FW;
            A win[R];
#pragma unroll
            for (int r = 0; r < R; r++)
                win[r] = trow[r];
#pragma unroll
            for (int a = 0; a < FW; a++) {
                const A w = grow[a];
#pragma unroll
                for (int r = 0; r < R; r++)
                    em_cv_madd(acc[r], w, win[r]);
                if (a + 1 < FW) {
#pragma unroll
                    for (int r = 0; r + 1 < R; r++)
                        win[r] = win[r + 1];
                    win[R - 1] = trow[a + R];
                }
            }
        }
        // Stage the outputs in the tile (its first BY * BW values; odd R keeps these stores
        // conflict-free), then each warp stores its own run of 32 * R values.
        __syncthreads(); // every thread is done reading the tile
        A *orow_s = tile + ty * BW;
#pragma unroll
        for (int r = 0; r < R; r++)
            orow_s[tx * R + r] = acc[r];
        __syncwarp();
        const int y = y0 + ty;
        if (y < o1n) {
            const int lane = tx & 31, wx = (tx - lane) * R;
            const em_i64 orow = r1 ? b * p.od[0] : (b * p.od[1] + y) * p.od[0];
            T *o = static_cast<T *>(out) + orow + x0 + wx;
            const A *src = orow_s + wx;
            if (ofull) {
#pragma unroll
                for (int r = 0; r < R; r++)
                    em_cv_st<D, AD>(o + r * 32 + lane, src[r * 32 + lane]);
            } else {
#pragma unroll
                for (int r = 0; r < R; r++)
                    if (x0 + wx + r * 32 + lane < od0)
                        em_cv_st<D, AD>(o + r * 32 + lane, src[r * 32 + lane]);
            }
        }
    }
}

// Rank 2 with the filter size known at compile time (the host's choice for rank 2; the kernel
// above serves rank 1). A block computes BX columns by BH = BY * R rows; thread (tx, ty) computes
// the R outputs of column tx in rows ty * R .. ty * R + R - 1. The tile and the flipped filter
// are staged in shared memory as above, and for each filter column the thread slides an R-value
// window down its tile column: a tap costs one shared load of the signal, one broadcast load of
// the filter and R multiply-adds. The lanes of a warp are consecutive columns, so every shared
// access is conflict-free whatever R is, and every output row is stored by a warp at consecutive
// addresses straight from registers. A block is exactly a warp wide per thread row, so an image
// whose width is a multiple of 32 has no idle columns. Tile loads are straight-line code: the
// block's BX columns by rows ty, ty + BY, ..., then the FW - 1 halo columns spread over all
// threads; a block whose tile lies inside the signal checks no bounds.
template <int D, int AD, int FW, int FH, int R, int BX, int BY>
__device__ void em_conv_tile2_impl(void *out, const void *sig, const void *filt,
                                   const em_conv_params &p) {
    typedef typename em_sig_t<AD>::t A;
    typedef typename em_sig_t<D>::t T;
    constexpr int BH = BY * R, HW = FW - 1, TW = BX + HW, TH = BH + FH - 1, NT = BX * BY;
    static_assert(BX % 32 == 0, "a warp covers consecutive columns of one thread row");
    __shared__ A tile[TH * TW];
    __shared__ A g[FW * FH];
    const A *f = static_cast<const A *>(filt);
    const int tx = threadIdx.x, ty = threadIdx.y, tid = ty * BX + tx;
    const int sd0 = (int)p.sd[0], od0 = (int)p.od[0], s1n = (int)p.sd[1], o1n = (int)p.od[1];
    const int x0 = (int)blockIdx.x * BX, y0 = (int)blockIdx.y * BH;
    const int sx0 = x0 + (int)p.start[0] - HW, sy0 = y0 + (int)p.start[1] - (FH - 1);
    const bool inner = sx0 >= 0 && sx0 + TW <= sd0 && sy0 >= 0 && sy0 + TH <= s1n;
    const bool ofull = x0 + BX <= od0 && y0 + BH <= o1n;
    const em_i64 nb = p.od[2] * p.od[3];
    for (em_i64 b = blockIdx.z; b < nb; b += gridDim.z) {
        em_i64 soff, foff;
        em_cv_batch(p, 0, b % p.od[2], b / p.od[2], soff, foff);
        const T *s = static_cast<const T *>(sig) + soff;
        __syncthreads(); // the previous batch element is done with the tile and the filter
        for (int i = tid; i < FW * FH; i += NT) {
            int a = i % FW, bb = i / FW;
            g[i] = f[foff + (em_i64)(FH - 1 - bb) * FW + (FW - 1 - a)];
        }
        // A thread past the last row or element loads and stores the last one again (the same
        // value to the same place) rather than branching.
        if (inner) {
            const T *s0 = s + (em_i64)sy0 * sd0 + sx0;
#pragma unroll
            for (int r0 = 0; r0 < TH; r0 += BY) {
                const int r = r0 + BY <= TH ? r0 + ty : min(r0 + ty, TH - 1);
                tile[r * TW + tx] = em_cv_ld<D, AD>(s0 + (em_i64)r * sd0 + tx);
            }
            if constexpr (HW > 0) {
#pragma unroll
                for (int i0 = 0; i0 < TH * HW; i0 += NT) {
                    const int i = i0 + NT <= TH * HW ? i0 + tid : min(i0 + tid, TH * HW - 1);
                    const int r = i / HW, c = BX + i % HW;
                    tile[r * TW + c] = em_cv_ld<D, AD>(s0 + (em_i64)r * sd0 + c);
                }
            }
        } else {
            // Loads at the clamped place, zero selected outside the signal. Offsets inside an
            // image are 32-bit (the host checks its size): 64-bit ones cost the registers that
            // keep all these loads in flight.
            A z;
            em_cv_zero(z);
#pragma unroll
            for (int r0 = 0; r0 < TH; r0 += BY) {
                const int r = r0 + BY <= TH ? r0 + ty : min(r0 + ty, TH - 1);
                const int gy = sy0 + r, gx = sx0 + tx;
                const A v = em_cv_ld<D, AD>(
                    s + (min(max(gy, 0), s1n - 1) * sd0 + min(max(gx, 0), sd0 - 1)));
                tile[r * TW + tx] = gy >= 0 && gy < s1n && gx >= 0 && gx < sd0 ? v : z;
            }
            if constexpr (HW > 0) {
#pragma unroll
                for (int i0 = 0; i0 < TH * HW; i0 += NT) {
                    const int i = i0 + NT <= TH * HW ? i0 + tid : min(i0 + tid, TH * HW - 1);
                    const int r = i / HW, c = BX + i % HW;
                    const int gy = sy0 + r, gx = sx0 + c;
                    const A v = em_cv_ld<D, AD>(
                        s + (min(max(gy, 0), s1n - 1) * sd0 + min(max(gx, 0), sd0 - 1)));
                    tile[r * TW + c] = gy >= 0 && gy < s1n && gx >= 0 && gx < sd0 ? v : z;
                }
            }
        }
        __syncthreads();
        A acc[R];
#pragma unroll
        for (int r = 0; r < R; r++)
            em_cv_zero(acc[r]);
            // One filter column per iteration, not unrolled: unrolled, ptxas hoists the next
            // columns' window loads and needs twice the registers (it spills at 64).
#pragma unroll 1
        for (int a = 0; a < FW; a++) {
            const A *tcol = tile + ty * R * TW + tx + a;
            A win[R];
#pragma unroll
            for (int r = 0; r < R; r++)
                win[r] = tcol[r * TW];
#pragma unroll
            for (int bb = 0; bb < FH; bb++) {
                const A w = g[bb * FW + a];
#pragma unroll
                for (int r = 0; r < R; r++)
                    em_cv_madd(acc[r], w, win[r]);
                if (bb + 1 < FH) {
#pragma unroll
                    for (int r = 0; r + 1 < R; r++)
                        win[r] = win[r + 1];
                    win[R - 1] = tcol[(bb + R) * TW];
                }
            }
        }
        const int x = x0 + tx, y = y0 + ty * R;
        T *o = static_cast<T *>(out) + (b * p.od[1] + y) * p.od[0] + x;
        if (ofull) {
#pragma unroll
            for (int r = 0; r < R; r++)
                em_cv_st<D, AD>(o + (em_i64)r * od0, acc[r]);
        } else if (x < od0) {
#pragma unroll
            for (int r = 0; r < R; r++)
                if (y + r < o1n) em_cv_st<D, AD>(o + (em_i64)r * od0, acc[r]);
        }
    }
}

// ---- the machine-learning convolution (em_conv_nn_desc) ----

struct em_nn_params {
    em_i64 sd[4], fd[4], od[4];
    em_i64 st[2], pad[2], dil[2];
};

// f32 and f16 compute in float, f64 in double.
template <int D> struct em_nn_acc { typedef float t; };
template <> struct em_nn_acc<2> { typedef double t; };

template <int D>
__device__ __forceinline__ typename em_nn_acc<D>::t em_nn_ld(const void *p, em_i64 i) {
    if constexpr (D == 12)
        return em_sig_h2f(static_cast<const unsigned short *>(p)[i]);
    else
        return static_cast<const typename em_sig_t<D>::t *>(p)[i];
}

template <int D>
__device__ __forceinline__ void em_nn_st(void *p, em_i64 i, typename em_nn_acc<D>::t v) {
    if constexpr (D == 12)
        static_cast<unsigned short *>(p)[i] = em_sig_f2h(v);
    else
        static_cast<typename em_sig_t<D>::t *>(p)[i] = v;
}

// Filter element (fw-1-i, fh-1-j, c, k): the flip of CUDNN_CONVOLUTION.
__device__ __forceinline__ em_i64 em_nn_fidx(const em_nn_params &p, em_i64 i, em_i64 j, em_i64 c,
                                             em_i64 k) {
    return (p.fd[0] - 1 - i) + p.fd[0] * ((p.fd[1] - 1 - j) + p.fd[1] * (c + p.fd[2] * k));
}

// which 0: out (od) from a = signal, b = filter. 1: the signal's gradient (sd) from a = output
// gradient, b = filter, gathered per signal element. 2: the filter's gradient (fd) from a =
// output gradient, b = signal.
template <int D, int WHICH>
__device__ void em_conv_nn_impl(void *out, const void *a, const void *b, const em_nn_params &p) {
    typedef typename em_nn_acc<D>::t F;
    const em_i64 *od = p.od, *sd = p.sd, *fd = p.fd;
    const em_i64 total = WHICH == 0   ? od[0] * od[1] * od[2] * od[3]
                         : WHICH == 1 ? sd[0] * sd[1] * sd[2] * sd[3]
                                      : fd[0] * fd[1] * fd[2] * fd[3];
    for (em_i64 e = (em_i64)blockIdx.x * blockDim.x + threadIdx.x; e < total;
         e += (em_i64)gridDim.x * blockDim.x) {
        F acc = 0;
        if constexpr (WHICH == 0) {
            em_i64 x = e % od[0], y = (e / od[0]) % od[1], k = (e / (od[0] * od[1])) % od[2],
                   n = e / (od[0] * od[1] * od[2]);
            for (em_i64 c = 0; c < sd[2]; c++)
                for (em_i64 j = 0; j < fd[1]; j++) {
                    em_i64 sy = y * p.st[1] - p.pad[1] + j * p.dil[1];
                    if (sy < 0 || sy >= sd[1]) continue;
                    for (em_i64 i = 0; i < fd[0]; i++) {
                        em_i64 sx = x * p.st[0] - p.pad[0] + i * p.dil[0];
                        if (sx < 0 || sx >= sd[0]) continue;
                        F sv = em_nn_ld<D>(a, sx + sd[0] * (sy + sd[1] * (c + sd[2] * n)));
                        acc += sv * em_nn_ld<D>(b, em_nn_fidx(p, i, j, c, k));
                    }
                }
        } else if constexpr (WHICH == 1) {
            em_i64 sx = e % sd[0], sy = (e / sd[0]) % sd[1], c = (e / (sd[0] * sd[1])) % sd[2],
                   n = e / (sd[0] * sd[1] * sd[2]);
            for (em_i64 k = 0; k < od[2]; k++)
                for (em_i64 j = 0; j < fd[1]; j++) {
                    em_i64 ty = sy + p.pad[1] - j * p.dil[1];
                    if (ty < 0 || ty % p.st[1] != 0 || ty / p.st[1] >= od[1]) continue;
                    for (em_i64 i = 0; i < fd[0]; i++) {
                        em_i64 tx = sx + p.pad[0] - i * p.dil[0];
                        if (tx < 0 || tx % p.st[0] != 0 || tx / p.st[0] >= od[0]) continue;
                        F gv = em_nn_ld<D>(a, tx / p.st[0] +
                                                  od[0] * (ty / p.st[1] + od[1] * (k + od[2] * n)));
                        acc += gv * em_nn_ld<D>(b, em_nn_fidx(p, i, j, c, k));
                    }
                }
        } else {
            // e indexes the filter gradient as stored: (fw-1-i, fh-1-j, c, k).
            em_i64 fi = e % fd[0], fj = (e / fd[0]) % fd[1], c = (e / (fd[0] * fd[1])) % fd[2],
                   k = e / (fd[0] * fd[1] * fd[2]);
            em_i64 i = fd[0] - 1 - fi, j = fd[1] - 1 - fj;
            for (em_i64 n = 0; n < od[3]; n++)
                for (em_i64 y = 0; y < od[1]; y++) {
                    em_i64 sy = y * p.st[1] - p.pad[1] + j * p.dil[1];
                    if (sy < 0 || sy >= sd[1]) continue;
                    for (em_i64 x = 0; x < od[0]; x++) {
                        em_i64 sx = x * p.st[0] - p.pad[0] + i * p.dil[0];
                        if (sx < 0 || sx >= sd[0]) continue;
                        F gv = em_nn_ld<D>(a, x + od[0] * (y + od[1] * (k + od[2] * n)));
                        acc += gv * em_nn_ld<D>(b, sx + sd[0] * (sy + sd[1] * (c + sd[2] * n)));
                    }
                }
        }
        em_nn_st<D>(out, e, acc);
    }
}
