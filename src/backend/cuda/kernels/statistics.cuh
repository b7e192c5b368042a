// Statistics (src/backend/algorithm.h, "Statistics"), compiled by NVRTC after a header that
// src/backend/cuda/statistics.c writes:
//   the fused value of jit_gen.h (em_cu_jit_value_source) for x: em_params, em_it, em_vt,
//                  em_value, em_value_vec, EM_VAL_V, EM_VAL_COORDS (em_vt: float, double, em_c32
//                  or em_c64); the final kernels get the prelude and em_it alone
//   EM_ST_MODE     0 moments, 1 weighted moments, 2 co-moments (x with y)
//   EM_ST_CPLX     1 when x is complex (modes 0 and 1)
//   em_wt          the weights' (mode 1) or y's (mode 2) dtype, float or double, read from a dense
//                  buffer indexed as x
//   EM_ST_OUT      what a finished line writes: 0 its mean and variance (em_ot, f16 through
//                  EM_ST_F16), 1 its state (for the covariance's final kernel), 2 Pearson's r
//                  (a double)
//   EM_ST_KERNEL   which kernel this module holds (below; 0: kernels 1 to 3, for the check)
//   EM_ST_TPR      threads per line of em_st_rows
//
// Every state is kept in double about a pivot k, a value of the data: (n, k, m, S) holds n values
// whose mean is k + m and whose sum of squared deviations from it is S (the complex square for
// complex x); weighted, n is the weights' sum; co-moments hold (n, kx, ky, mx, my, Cxx, Cyy,
// Cxy). Values near a large offset (1e9 + small) then keep their digits: m and the differences
// between means stay small. States merge with Chan's formulas (n = na + nb, d = mb - ma with mb
// taken to a's pivot, m = ma + d * nb / n, S = Sa + Sb + d^2 * na * nb / n), so threads, warps,
// blocks and chunks combine exactly as a single pass would.
// Each thread first folds its own values without a division:
//   - moments (mode 0): y = x - c with c the thread's first value, summing y and y^2 (the complex
//     square); its state is then m = sum(y) / n, S = sum(y^2) - sum(y)^2 / n. Since c is one of
//     the values, sum(y^2) is at most (n + 1) times S, so the subtraction loses at most
//     log2(n + 1) bits: never E[x^2] - E[x]^2 about an arbitrary origin;
//   - weighted moments and co-moments (modes 1 and 2): packets of values about the thread's
//     pivot, each packet's mean and squared deviations from it (two passes in registers), merged
//     into the thread's state by Chan's formulas.

// Kernels (every one with 256 threads per block), as the reductions' (reduce.cuh):
//   1 em_st_all        rows of `len` contiguous elements, each split over gridDim.x blocks
//                      (blockIdx.y: the row); one partial state per block.
//   2 em_st_rows       many rows: EM_ST_TPR threads per row, finished at once.
//   3 em_st_cols       a dim with lower dims: lanes take consecutive i, the block's 8 warps take
//                      different j; gridDim.y chunks of j leave partial states when more than one.
//   4 em_st_final_all  one block per row merges its partials of kernel 1 and finishes the row.
//   5 em_st_final_cols one thread per output merges the chunk partials of kernel 3 and finishes.
//   6 em_st_cov_final  one block: the means over every element from the columns' states, then
//                      each column's covariance about them.

#if EM_ST_MODE == 2
struct em_mst {
    double n, kx, ky, mx, my, cxx, cyy, cxy;
};
#elif EM_ST_CPLX
struct em_mst {
    double n, kr, ki, mr, mi, sr, si;
};
#else
struct em_mst {
    double n, k, m, s;
};
#endif

__device__ __forceinline__ em_mst em_st_zero() {
    em_mst z;
    double *d = reinterpret_cast<double *>(&z);
#pragma unroll
    for (int k = 0; k < (int)(sizeof(em_mst) / 8); k++)
        d[k] = 0;
    return z;
}

// A mean updated by d * f, or, when d is not finite, the weighted average itself (inf + inf stays
// inf, where d = inf - inf would make it NaN); the deviations are NaN then anyway.
__device__ __forceinline__ double em_st_mean(double ma, double na, double mb, double nb, double n) {
    double d = mb - ma;
    return isfinite(d) ? ma + d * (nb / n) : (na * ma + nb * mb) / n;
}

// The merge of b into a, in a's pivot: b's means move to it first (b.k - a.k + b.m is exact
// while the pivots are close, and small besides).
__device__ em_mst em_st_merge(em_mst a, em_mst b) {
    if (!(b.n != 0)) return a; // nothing (NaN weight sums are kept out too)
    if (a.n == 0) return b;
    const double n = a.n + b.n, g = a.n * b.n / n;
    em_mst r = a;
    r.n = n;
#if EM_ST_MODE == 2
    const double bx = (b.kx - a.kx) + b.mx, by = (b.ky - a.ky) + b.my;
    const double dx = bx - a.mx, dy = by - a.my;
    r.mx = em_st_mean(a.mx, a.n, bx, b.n, n);
    r.my = em_st_mean(a.my, a.n, by, b.n, n);
    r.cxx = a.cxx + b.cxx + dx * dx * g;
    r.cyy = a.cyy + b.cyy + dy * dy * g;
    r.cxy = a.cxy + b.cxy + dx * dy * g;
#elif EM_ST_CPLX
    const double br = (b.kr - a.kr) + b.mr, bi = (b.ki - a.ki) + b.mi;
    const double dr = br - a.mr, di = bi - a.mi;
    r.mr = em_st_mean(a.mr, a.n, br, b.n, n);
    r.mi = em_st_mean(a.mi, a.n, bi, b.n, n);
    r.sr = a.sr + b.sr + (dr * dr - di * di) * g;
    r.si = a.si + b.si + 2 * dr * di * g;
#else
    const double bm = (b.k - a.k) + b.m;
    const double d = bm - a.m;
    r.m = em_st_mean(a.m, a.n, bm, b.n, n);
    r.s = a.s + b.s + d * d * g;
#endif
    return r;
}

__device__ __forceinline__ em_mst em_st_shfl_down(em_mst v, int off, int width) {
    double *d = reinterpret_cast<double *>(&v);
#pragma unroll
    for (int k = 0; k < (int)(sizeof(em_mst) / 8); k++)
        d[k] = __shfl_down_sync(0xffffffffu, d[k], off, width);
    return v;
}

// ---- values ----

__device__ __forceinline__ double em_re(float v) {
    return v;
}
__device__ __forceinline__ double em_re(double v) {
    return v;
}
__device__ __forceinline__ double em_re(em_c32 v) {
    return v.re;
}
__device__ __forceinline__ double em_re(em_c64 v) {
    return v.re;
}
__device__ __forceinline__ double em_im(float) {
    return 0;
}
__device__ __forceinline__ double em_im(double) {
    return 0;
}
__device__ __forceinline__ double em_im(em_c32 v) {
    return v.im;
}
__device__ __forceinline__ double em_im(em_c64 v) {
    return v.im;
}

// A pivot: a finite value of the data (0 in place of an infinity or NaN, which make the result
// infinite or NaN anyway).
struct em_piv {
    double r, i, y;
};
__device__ __forceinline__ double em_st_fin(double v) {
    return isfinite(v) ? v : 0.0;
}

#if EM_ST_MODE != 0
// One packet of P values about the pivot k, as doubles in registers: real parts xr, imaginary
// parts xi (complex x), each less k, and per value a weight wt: the weight (mode 1), or 1 (mode
// 2), or 0 for a slot without a value; y (mode 2) less k.y in yv. Every index is a constant once
// the loops unroll.
template <int P>
__device__ __forceinline__ em_mst em_st_packet(const double *xr, const double *xi, const double *wt,
                                               const double *yv, em_piv k) {
    em_mst r = em_st_zero();
    double W = 0;
#pragma unroll
    for (int u = 0; u < P; u++)
        W += wt[u];
    if (!(W != 0)) return r;
    r.n = W;
#if EM_ST_MODE == 2
    double sx = 0, sy = 0;
#pragma unroll
    for (int u = 0; u < P; u++)
        sx += wt[u] * xr[u], sy += wt[u] * yv[u];
    r.kx = k.r, r.ky = k.y;
    r.mx = sx / W, r.my = sy / W;
#pragma unroll
    for (int u = 0; u < P; u++) {
        const double dx = xr[u] - r.mx, dy = yv[u] - r.my;
        r.cxx += wt[u] * (dx * dx), r.cyy += wt[u] * (dy * dy), r.cxy += wt[u] * (dx * dy);
    }
    (void)xi;
#else
    (void)yv;
    double sr = 0, si = 0;
#pragma unroll
    for (int u = 0; u < P; u++) {
        sr += wt[u] * xr[u];
#if EM_ST_CPLX
        si += wt[u] * xi[u];
#endif
    }
    const double mr = sr / W, mi = si / W;
    double qr = 0, qi = 0;
#pragma unroll
    for (int u = 0; u < P; u++) {
        const double dr = xr[u] - mr;
#if EM_ST_CPLX
        const double di = xi[u] - mi;
        qr += wt[u] * (dr * dr - di * di);
        qi += wt[u] * (2 * dr * di);
#else
        qr += wt[u] * (dr * dr);
#endif
    }
#if EM_ST_CPLX
    r.kr = k.r, r.ki = k.i;
    r.mr = mr, r.mi = mi, r.sr = qr, r.si = qi;
#else
    r.k = k.r;
    r.m = mr, r.s = qr;
    (void)mi, (void)qi, (void)xi;
#endif
#endif
    return r;
}
#endif

#if EM_ST_KERNEL <= 3
// The pivot of a thread whose first element is e (none when !valid).
__device__ __forceinline__ em_piv em_st_pivot(const em_params &p, const em_wt *ww, em_it e,
                                              bool valid) {
    em_piv k;
    k.r = 0, k.i = 0, k.y = 0;
    if (!valid) return k;
    em_coord<em_it> c = em_coord<em_it>();
    if (EM_VAL_COORDS) c = em_coords<em_it>(e, p.d0, p.d1, p.d2);
    const em_vt v = em_value(p, e, c);
    k.r = em_st_fin(em_re(v)), k.i = em_st_fin(em_im(v));
#if EM_ST_MODE == 2
    k.y = em_st_fin((double)ww[e]);
#else
    (void)ww;
#endif
    return k;
}

#if EM_ST_MODE == 0
// Moments: the sums of y = x - k and of y^2 (the complex square) over the thread's values, and
// their number. Two sets of sums alternate so that consecutive additions do not wait on each
// other.
struct em_sacc {
    double sr[2], si[2], qr[2], qi[2];
    em_it n;
};
__device__ __forceinline__ void em_sacc_init(em_sacc &a) {
#pragma unroll
    for (int h = 0; h < 2; h++)
        a.sr[h] = 0, a.si[h] = 0, a.qr[h] = 0, a.qi[h] = 0;
    a.n = 0;
}
__device__ __forceinline__ void em_sacc_add(em_sacc &a, int h, em_vt x, const em_piv &k) {
    const double yr = em_re(x) - k.r;
    a.sr[h] += yr;
#if EM_ST_CPLX
    const double yi = em_im(x) - k.i;
    a.si[h] += yi;
    a.qr[h] = fma(yr, yr, fma(-yi, yi, a.qr[h]));
    a.qi[h] = fma(2 * yr, yi, a.qi[h]);
#else
    a.qr[h] = fma(yr, yr, a.qr[h]);
#endif
}
__device__ __forceinline__ em_mst em_sacc_state(const em_sacc &a, const em_piv &k) {
    em_mst r = em_st_zero();
    if (a.n == 0) return r;
    const double n = (double)a.n;
    const double sr = a.sr[0] + a.sr[1], qr = a.qr[0] + a.qr[1];
    r.n = n;
#if EM_ST_CPLX
    const double si = a.si[0] + a.si[1], qi = a.qi[0] + a.qi[1];
    r.kr = k.r, r.ki = k.i;
    r.mr = sr / n, r.mi = si / n;
    r.sr = qr - (sr * sr - si * si) / n;
    r.si = qi - 2 * sr * si / n;
#else
    r.k = k.r;
    r.m = sr / n;
    r.s = qr - sr * sr / n;
#endif
    return r;
}

// The state of elements base + jj * estride for jj = first, first + step, ... below end.
__device__ __forceinline__ em_mst em_st_fold_strided(const em_params &p, const em_wt *ww,
                                                     em_it base, em_it first, em_it end, em_it step,
                                                     em_it estride) {
    const em_piv k = em_st_pivot(p, ww, base + first * estride, first < end);
    em_sacc a;
    em_sacc_init(a);
    em_it j = first;
    // Four reads in flight at a time.
    for (; j + 3 * step < end; j += 4 * step) {
        em_vt x[4];
#pragma unroll
        for (int u = 0; u < 4; u++) {
            const em_it e = base + (j + (em_it)u * step) * estride;
            em_coord<em_it> c = em_coord<em_it>();
            if (EM_VAL_COORDS) c = em_coords<em_it>(e, p.d0, p.d1, p.d2);
            x[u] = em_value(p, e, c);
        }
#pragma unroll
        for (int u = 0; u < 4; u++)
            em_sacc_add(a, u & 1, x[u], k);
        a.n += 4;
    }
    for (; j < end; j += step) {
        const em_it e = base + j * estride;
        em_coord<em_it> c = em_coord<em_it>();
        if (EM_VAL_COORDS) c = em_coords<em_it>(e, p.d0, p.d1, p.d2);
        em_sacc_add(a, 0, em_value(p, e, c), k);
        a.n++;
    }
    return em_sacc_state(a, k);
}

// The state of elements base + j for j in this thread's share of [0, len): j = t, t + stride,
// ...: four vector reads at a time when p.vec, else scalar reads.
__device__ em_mst em_st_fold(const em_params &p, const em_wt *ww, em_it base, em_it len, em_it t,
                             em_it stride) {
#if EM_VAL_V > 1
    if (p.vec) {
        const em_it nv = len / EM_VAL_V, start = nv * EM_VAL_V;
        const em_it first = t < nv ? t * EM_VAL_V : start + t;
        const em_piv k = em_st_pivot(p, ww, base + first, first < len);
        em_sacc a;
        em_sacc_init(a);
        em_it v = t;
        for (; v + 3 * stride < nv; v += 4 * stride) {
            em_vt x[4][EM_VAL_V];
#pragma unroll
            for (int u = 0; u < 4; u++)
                em_value_vec(p, base + (v + (em_it)u * stride) * EM_VAL_V, x[u]);
#pragma unroll
            for (int u = 0; u < 4; u++)
#pragma unroll
                for (int q = 0; q < EM_VAL_V; q++)
                    em_sacc_add(a, q & 1, x[u][q], k);
            a.n += 4 * EM_VAL_V;
        }
        for (; v < nv; v += stride) {
            em_vt x[EM_VAL_V];
            em_value_vec(p, base + v * EM_VAL_V, x);
#pragma unroll
            for (int q = 0; q < EM_VAL_V; q++)
                em_sacc_add(a, q & 1, x[q], k);
            a.n += EM_VAL_V;
        }
        for (em_it j = start + t; j < len; j += stride) {
            em_coord<em_it> c = em_coord<em_it>();
            if (EM_VAL_COORDS) c = em_coords<em_it>(base + j, p.d0, p.d1, p.d2);
            em_sacc_add(a, 0, em_value(p, base + j, c), k);
            a.n++;
        }
        return em_sacc_state(a, k);
    }
#endif
    return em_st_fold_strided(p, ww, base, t, len, stride, 1);
}

#else // EM_ST_MODE != 0

// Slot u of a packet from element i (valid) or nothing (!valid: weight 0, values 0, so that a
// NaN or infinity outside the range cannot leak in); values less the pivot.
__device__ __forceinline__ void em_st_slot(const em_params &p, const em_wt *ww, em_it i, bool valid,
                                           const em_piv &k, double *xr, double *xi, double *wt,
                                           double *yv) {
    if (!valid) {
        *xr = 0, *xi = 0, *wt = 0, *yv = 0;
        return;
    }
    em_coord<em_it> c = em_coord<em_it>();
    if (EM_VAL_COORDS) c = em_coords<em_it>(i, p.d0, p.d1, p.d2);
    const em_vt v = em_value(p, i, c);
    *xr = em_re(v) - k.r, *xi = em_im(v) - k.i;
#if EM_ST_MODE == 1
    *wt = (double)ww[i], *yv = 0;
#else
    *wt = 1, *yv = (double)ww[i] - k.y;
#endif
}

// The packets of 8 elements first + step * u (u < 8) that lie below `end`, folded into acc, for
// u0 = 0, 8, ... : the strided reads of em_st_cols and of the scalar path.
__device__ __forceinline__ em_mst em_st_fold_packets(em_mst acc, const em_params &p,
                                                     const em_wt *ww, em_it base, em_it first,
                                                     em_it end, em_it step, em_it estride,
                                                     const em_piv &k) {
    for (em_it j = first; j < end; j += 8 * step) {
        double xr[8], xi[8], wt[8], yv[8];
#pragma unroll
        for (int u = 0; u < 8; u++) {
            const em_it jj = j + (em_it)u * step;
            em_st_slot(p, ww, base + jj * estride, jj < end, k, &xr[u], &xi[u], &wt[u], &yv[u]);
        }
        acc = em_st_merge(acc, em_st_packet<8>(xr, xi, wt, yv, k));
    }
    return acc;
}

__device__ __forceinline__ em_mst em_st_fold_strided(const em_params &p, const em_wt *ww,
                                                     em_it base, em_it first, em_it end, em_it step,
                                                     em_it estride) {
    const em_piv k = em_st_pivot(p, ww, base + first * estride, first < end);
    return em_st_fold_packets(em_st_zero(), p, ww, base, first, end, step, estride, k);
}

// The state of elements base + j for j in this thread's share of [0, len): j = t, t + stride,
// ...: packets of four vector reads when p.vec, else of eight scalar reads.
__device__ em_mst em_st_fold(const em_params &p, const em_wt *ww, em_it base, em_it len, em_it t,
                             em_it stride) {
#if EM_VAL_V > 1
    if (p.vec) {
        em_mst acc = em_st_zero();
        const em_it nv = len / EM_VAL_V, start = nv * EM_VAL_V;
        const em_it first = t < nv ? t * EM_VAL_V : start + t;
        const em_piv k = em_st_pivot(p, ww, base + first, first < len);
        for (em_it v = t; v < nv; v += 4 * stride) {
            double xr[4 * EM_VAL_V], xi[4 * EM_VAL_V], wt[4 * EM_VAL_V], yv[4 * EM_VAL_V];
#pragma unroll
            for (int u = 0; u < 4; u++) {
                const em_it vv = v + (em_it)u * stride;
                em_vt x[EM_VAL_V];
                if (vv < nv) em_value_vec(p, base + vv * EM_VAL_V, x);
#pragma unroll
                for (int q = 0; q < EM_VAL_V; q++) {
                    const int s = u * EM_VAL_V + q;
                    const bool ok = vv < nv;
                    const em_it e = base + vv * EM_VAL_V + q;
                    xr[s] = ok ? em_re(x[q]) - k.r : 0;
                    xi[s] = ok ? em_im(x[q]) - k.i : 0;
#if EM_ST_MODE == 1
                    wt[s] = ok ? (double)ww[e] : 0, yv[s] = 0;
#else
                    wt[s] = ok ? 1 : 0, yv[s] = ok ? (double)ww[e] - k.y : 0;
#endif
                }
            }
            acc = em_st_merge(acc, em_st_packet<4 * EM_VAL_V>(xr, xi, wt, yv, k));
        }
        return em_st_fold_packets(acc, p, ww, base, start + t, len, stride, 1, k);
    }
#endif
    return em_st_fold_strided(p, ww, base, t, len, stride, 1);
}
#endif // EM_ST_MODE
#endif // EM_ST_KERNEL <= 3

// The merge of `width` consecutive lanes' states (a power of two up to 32) into the first; every
// lane of the warp calls it.
__device__ __forceinline__ em_mst em_st_warp(em_mst v, int width) {
    for (int off = width / 2; off > 0; off /= 2)
        v = em_st_merge(v, em_st_shfl_down(v, off, width));
    return v;
}

// The merge of the block's 256 states into thread 0's; every thread calls it.
__device__ __forceinline__ em_mst em_st_block(em_mst v) {
    __shared__ em_mst warps[8];
    v = em_st_warp(v, 32);
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    __syncthreads();
    if (lane == 0) warps[warp] = v;
    __syncthreads();
    if (warp == 0) {
        v = lane < 8 ? warps[lane] : em_st_zero();
        v = em_st_warp(v, 8);
    }
    return v;
}

// ---- finishing a line ----

#if EM_ST_OUT == 0
#ifdef EM_ST_F16
__device__ __forceinline__ em_u16 em_st_out(double re, double) {
    return em_f2h((float)re);
}
#else
__device__ __forceinline__ float em_st_out_r(double re, float *) {
    return (float)re;
}
__device__ __forceinline__ double em_st_out_r(double re, double *) {
    return re;
}
__device__ __forceinline__ em_c32 em_st_out_c(double re, double im, em_c32 *) {
    return em_cx<em_c32>((float)re, (float)im);
}
__device__ __forceinline__ em_c64 em_st_out_c(double re, double im, em_c64 *) {
    return em_cx<em_c64>(re, im);
}
__device__ __forceinline__ em_ot em_st_out(double re, double im) {
#if EM_ST_CPLX
    return em_st_out_c(re, im, (em_ot *)0);
#else
    (void)im;
    return em_st_out_r(re, (em_ot *)0);
#endif
}
#endif
#endif

// Writes line k's results: mean and variance (either pointer may be null), the state itself, or
// Pearson's r.
__device__ __forceinline__ void em_st_finish(em_mst s, unsigned long long k, void *mean, void *var,
                                             int ddof, int root) {
#if EM_ST_OUT == 0
    const double nan = __longlong_as_double(0x7ff8000000000000ll);
#if EM_ST_CPLX
    const double mr = s.kr + s.mr, mi = s.ki + s.mi, sr = s.sr, si = s.si;
#else
    const double mr = s.k + s.m, mi = 0, sr = s.s, si = 0;
#endif
    if (mean) ((em_ot *)mean)[k] = s.n == 0 ? em_st_out(nan, nan) : em_st_out(mr, mi);
    if (var) {
        // A mean with an infinite or NaN part means some deviation from it is NaN (inf - inf, or
        // NaN itself), and with complex squares that NaN reaches both parts: the two-pass
        // definition gives NaN, where the shifted sums could leave an infinity in one part.
        const bool defined = s.n != 0 && isfinite(mr) && isfinite(mi);
        double vr = defined ? sr / (s.n - ddof) : nan, vi = defined ? si / (s.n - ddof) : nan;
        if (root) vr = sqrt(vr);
        ((em_ot *)var)[k] = em_st_out(vr, vi);
    }
#elif EM_ST_OUT == 1
    (void)var, (void)ddof, (void)root;
    ((em_mst *)mean)[k] = s;
#else
    (void)var, (void)ddof, (void)root;
#if EM_ST_MODE == 2
    ((double *)mean)[k] = s.cxy / sqrt(s.cxx * s.cyy);
#endif
#endif
}

#if EM_ST_KERNEL == 1 || EM_ST_KERNEL == 0
// Row blockIdx.y is linear elements [r * len, (r + 1) * len); its gridDim.x blocks each fold a
// grid-stride share and write one partial state.
extern "C" __global__ void __launch_bounds__(256)
    em_st_all(const em_params p, unsigned long long len_, const em_wt *ww, em_mst *part) {
    const em_it len = (em_it)len_, base = (em_it)blockIdx.y * len;
    const em_it t = (em_it)blockIdx.x * 256u + threadIdx.x, stride = (em_it)gridDim.x * 256u;
    em_mst s = em_st_block(em_st_fold(p, ww, base, len, t, stride));
    if (threadIdx.x == 0) part[(unsigned long long)blockIdx.y * gridDim.x + blockIdx.x] = s;
}
#endif

#if EM_ST_KERNEL == 2 || EM_ST_KERNEL == 0
#ifndef EM_ST_TPR
#define EM_ST_TPR 32
#endif
// EM_ST_TPR threads fold each row; a block holds 256 / EM_ST_TPR rows and the grid strides over
// rows in whole blocks, so every thread runs the same number of steps.
extern "C" __global__ void __launch_bounds__(256)
    em_st_rows(const em_params p, unsigned long long len_, unsigned long long rows_,
               const em_wt *ww, void *mean, void *var, int ddof, int root) {
    const em_it len = (em_it)len_, rows = (em_it)rows_;
    const int lane = threadIdx.x % EM_ST_TPR;
    const em_it rpb = 256 / EM_ST_TPR;
    for (em_it rb = (em_it)blockIdx.x * rpb; rb < rows; rb += (em_it)gridDim.x * rpb) {
        const em_it r = rb + threadIdx.x / EM_ST_TPR;
        em_mst s = em_st_zero();
        // Vector reads need every row to start on a vector boundary: the host clears p.vec
        // otherwise.
        if (r < rows) s = em_st_fold(p, ww, r * len, len, lane, EM_ST_TPR);
#if EM_ST_TPR == 256
        s = em_st_block(s);
#else
        s = em_st_warp(s, EM_ST_TPR);
#endif
        if (lane == 0 && r < rows) em_st_finish(s, (unsigned long long)r, mean, var, ddof, root);
    }
}
#endif

#if EM_ST_KERNEL == 3 || EM_ST_KERNEL == 0
// A block is 32 x 8 threads: lane x takes i = blockIdx.x * 32 + x, row y takes j = j0 + y,
// j0 + y + 8, ... of the block's chunk [blockIdx.y * jchunk, ...), folded in packets; blockIdx.z
// strides over o. With one chunk the block finishes its outputs; with several it leaves partial
// states at part[(blockIdx.y * outer + o) * inner + i].
extern "C" __global__ void __launch_bounds__(256)
    em_st_cols(const em_params p, unsigned long long inner_, unsigned long long len_,
               unsigned long long outer_, unsigned long long jchunk_, const em_wt *ww, em_mst *part,
               void *mean, void *var, int ddof, int root) {
    __shared__ em_mst sh[8][32];
    const em_it inner = (em_it)inner_, len = (em_it)len_, outer = (em_it)outer_;
    const em_it jchunk = (em_it)jchunk_;
    const int tx = threadIdx.x % 32, ty = threadIdx.x / 32;
    const em_it i = (em_it)blockIdx.x * 32 + tx;
    const em_it j0 = (em_it)blockIdx.y * jchunk;
    const em_it j1 = j0 + jchunk < len ? j0 + jchunk : len;
    for (em_it o = blockIdx.z; o < outer; o += gridDim.z) {
        em_mst acc = em_st_zero();
        if (i < inner) acc = em_st_fold_strided(p, ww, i + inner * len * o, j0 + ty, j1, 8, inner);
        __syncthreads(); // the previous o's reads of sh are done
        sh[ty][tx] = acc;
        __syncthreads();
        if (ty == 0 && i < inner) {
            em_mst s = sh[0][tx];
#pragma unroll
            for (int y = 1; y < 8; y++)
                s = em_st_merge(s, sh[y][tx]);
            if (gridDim.y == 1)
                em_st_finish(s, (unsigned long long)(i + inner * o), mean, var, ddof, root);
            else
                part[((unsigned long long)blockIdx.y * outer + o) * inner + i] = s;
        }
    }
}
#endif

#if EM_ST_KERNEL == 4
// Block r merges partials part[r * n .. r * n + n) and finishes row r.
extern "C" __global__ void __launch_bounds__(256)
    em_st_final_all(const em_mst *part, unsigned long long n, void *mean, void *var, int ddof,
                    int root) {
    const em_mst *row = part + (unsigned long long)blockIdx.x * n;
    em_mst s = em_st_zero();
    for (unsigned long long k = threadIdx.x; k < n; k += 256)
        s = em_st_merge(s, row[k]);
    s = em_st_block(s);
    if (threadIdx.x == 0) em_st_finish(s, blockIdx.x, mean, var, ddof, root);
}
#endif

#if EM_ST_KERNEL == 5
// Output k merges part[g * nout + k] over the chunks g < nchunks, in order, and finishes.
extern "C" __global__ void __launch_bounds__(256)
    em_st_final_cols(const em_mst *part, unsigned long long nout, unsigned long long nchunks,
                     void *mean, void *var, int ddof, int root) {
    for (unsigned long long k = (unsigned long long)blockIdx.x * 256 + threadIdx.x; k < nout;
         k += (unsigned long long)gridDim.x * 256) {
        em_mst s = part[k];
        for (unsigned long long g = 1; g < nchunks; g++)
            s = em_st_merge(s, part[g * nout + k]);
        em_st_finish(s, k, mean, var, ddof, root);
    }
}
#endif

#if EM_ST_KERNEL == 6 && EM_ST_MODE == 2
// One block: the states of ncols columns merged into the means over every element, then column
// c's covariance about those means: (Cxy + n (mx - MX)(my - MY)) / (n - ddof).
extern "C" __global__ void __launch_bounds__(256)
    em_st_cov_final(const em_mst *cols, unsigned long long ncols, int ddof, em_ot *out) {
    __shared__ em_mst all;
    em_mst s = em_st_zero();
    for (unsigned long long k = threadIdx.x; k < ncols; k += 256)
        s = em_st_merge(s, cols[k]);
    s = em_st_block(s);
    if (threadIdx.x == 0) all = s;
    __syncthreads();
    for (unsigned long long k = threadIdx.x; k < ncols; k += 256) {
        const em_mst c = cols[k];
        const double dx = (c.kx - all.kx) + (c.mx - all.mx);
        const double dy = (c.ky - all.ky) + (c.my - all.my);
        const double v = (c.cxy + c.n * dx * dy) / (c.n - ddof);
        out[k] = (em_ot)v;
    }
}
#endif
