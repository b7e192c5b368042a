/* signal.h and ml.h, the convolutions: af_convolve1/2/3 in both modes and every domain,
 * af_fft_convolve1/2/3, the batch kinds (one signal with many filters, many signals with one
 * filter, pairwise, and the interleaved batch that only the frequency domain takes),
 * af_convolve2_sep, af_fir, af_iir, af_convolve2_nn and af_convolve2_gradient_nn. The reference
 * is a direct convolution in double precision; integer signals check ArrayFire's conversions
 * exactly (truncation in the spatial domain, rounding and a filter cast to the signal's dtype in
 * the frequency domain). Views and lazy arrays are used as inputs, and bad input is checked. */
#include "test.h"

#include <string.h>

static dim_t nelem(const dim_t d[4]) {
    return d[0] * d[1] * d[2] * d[3];
}

static bool is_cplx(af_dtype t) {
    return t == c32 || t == c64;
}

static bool is_float(af_dtype t) {
    return t == f32 || t == f64 || is_cplx(t);
}

/* Random values for dtype t as complex pairs: floats in [-1, 1), integers in [lo, hi]. */
static double *rand_pairs(af_dtype t, dim_t n, int lo, int hi) {
    double *x = calloc(2 * (size_t)n + 2, sizeof(double));
    for (dim_t i = 0; i < n; i++) {
        if (is_float(t)) {
            x[2 * i] = em_test_rand_uniform(-1, 1);
            x[2 * i + 1] = is_cplx(t) ? em_test_rand_uniform(-1, 1) : 0;
            if (t == f32 || t == c32) {
                x[2 * i] = (float)x[2 * i];
                x[2 * i + 1] = (float)x[2 * i + 1];
            }
        } else if (t == b8) {
            x[2 * i] = (double)(em_test_rand_u64() & 1);
        } else {
            x[2 * i] = (double)(lo + (int)(em_test_rand_u64() % (uint64_t)(hi - lo + 1)));
        }
    }
    return x;
}

static af_array make(const double *x, const dim_t d[4], af_dtype t) {
    dim_t n = nelem(d);
    if (is_cplx(t)) return em_test_make(x, 4, d, t);
    double *r = malloc(sizeof(double) * (size_t)(n + 1));
    for (dim_t i = 0; i < n; i++)
        r[i] = x[2 * i];
    af_array a = em_test_make(r, 4, d, t);
    free(r);
    return a;
}

/* Reads a as complex pairs. */
static double *read_pairs(af_array a, af_dtype t, dim_t *n) {
    double *v = em_test_read(a, n);
    if (!v || is_cplx(t)) return v;
    double *p = calloc(2 * (size_t)*n + 2, sizeof(double));
    for (dim_t i = 0; i < *n; i++)
        p[2 * i] = v[i];
    free(v);
    return p;
}

/* Output dims and offsets of a rank-r convolution (ArrayFire's rules). */
static void out_dims(int rank, bool expand, const dim_t s[4], const dim_t f[4], dim_t od[4],
                     dim_t start[3]) {
    for (int k = 0; k < 4; k++) {
        if (k < rank) {
            od[k] = expand ? s[k] + f[k] - 1 : s[k];
            start[k] = expand ? 0 : f[k] / 2;
        } else {
            od[k] = s[k] > f[k] ? s[k] : f[k];
            if (k < 3) start[k] = 0;
        }
    }
}

/* The direct convolution: out (od) element i = sum_k f[k] s[i + start - k] over the base dims,
 * batch dims broadcast. Complex pairs in and out. */
static void ref_conv(const double *s, const dim_t sd[4], const double *f, const dim_t fd[4],
                     int rank, const dim_t od[4], const dim_t start[3], double *out) {
    for (dim_t o = 0; o < nelem(od); o++) {
        dim_t c[4] = {o % od[0], (o / od[0]) % od[1], (o / (od[0] * od[1])) % od[2],
                      o / (od[0] * od[1] * od[2])};
        dim_t sb[4], fb[4];
        for (int k = 0; k < 4; k++) {
            sb[k] = k >= rank && sd[k] > 1 ? c[k] : 0;
            fb[k] = k >= rank && fd[k] > 1 ? c[k] : 0;
        }
        double re = 0, im = 0;
        dim_t fe[3] = {fd[0], rank > 1 ? fd[1] : 1, rank > 2 ? fd[2] : 1};
        for (dim_t k2 = 0; k2 < fe[2]; k2++)
            for (dim_t k1 = 0; k1 < fe[1]; k1++)
                for (dim_t k0 = 0; k0 < fe[0]; k0++) {
                    dim_t kk[3] = {k0, k1, k2}, si[4] = {sb[0], sb[1], sb[2], sb[3]};
                    bool ok = true;
                    for (int k = 0; k < rank; k++) {
                        si[k] = c[k] + start[k] - kk[k];
                        ok = ok && si[k] >= 0 && si[k] < sd[k];
                    }
                    if (!ok) continue;
                    dim_t fi[4] = {k0, rank > 1 ? k1 : fb[1], rank > 2 ? k2 : fb[2], fb[3]};
                    dim_t sl = si[0] + sd[0] * (si[1] + sd[1] * (si[2] + sd[2] * si[3]));
                    dim_t fl = fi[0] + fd[0] * (fi[1] + fd[1] * (fi[2] + fd[2] * fi[3]));
                    double a = s[2 * sl], b = s[2 * sl + 1], x = f[2 * fl], y = f[2 * fl + 1];
                    re += a * x - b * y;
                    im += a * y + b * x;
                }
        out[2 * o] = re;
        out[2 * o + 1] = im;
    }
}

/* The value ArrayFire stores for an accumulated v in dtype t: floats as they are, integers
 * truncated (spatial) or rounded half away from zero (frequency), b8 as 1 where that is not 0. */
static double store_as(af_dtype t, double v, bool round_) {
    if (is_float(t)) return v;
    double r = round_ ? round(v) : trunc(v);
    return t == b8 ? r != 0 : r;
}

typedef af_err (*conv_fn)(af_array *, const af_array, const af_array, const af_conv_mode,
                          af_conv_domain);

/* One convolution checked against the reference. filt_type may differ from the signal's. */
static void check_conv(af_dtype t, af_dtype ft, const dim_t sd[4], const dim_t fd[4], int rank,
                       bool expand, af_conv_domain dom, bool fft_api) {
    int lo = t == u8 || t == u16 || t == u32 || t == u64 ? 0 : -9;
    double *s = rand_pairs(t, nelem(sd), lo, 9);
    double *f = rand_pairs(ft, nelem(fd), t == u8 || t == u16 || t == u32 || t == u64 ? 0 : -2, 2);
    af_array as = make(s, sd, t), af = make(f, fd, ft), out = NULL;
    af_err err;
    af_conv_mode mode = expand ? AF_CONV_EXPAND : AF_CONV_DEFAULT;
    if (fft_api) {
        err = rank == 1   ? af_fft_convolve1(&out, as, af, mode)
              : rank == 2 ? af_fft_convolve2(&out, as, af, mode)
                          : af_fft_convolve3(&out, as, af, mode);
    } else {
        conv_fn fns[3] = {af_convolve1, af_convolve2, af_convolve3};
        err = fns[rank - 1](&out, as, af, mode, dom);
    }
    CHECK_AF(err);
    if (err == AF_SUCCESS) {
        dim_t od[4], start[3];
        out_dims(rank, expand, sd, fd, od, start);
        double *ref = calloc(2 * (size_t)nelem(od) + 2, sizeof(double));
        bool freq = fft_api || dom == AF_CONV_FREQ;
        if (freq && !is_float(t))
            /* The frequency domain casts the filter to the signal's dtype first. */
            for (dim_t i = 0; i < nelem(fd); i++)
                f[2 * i] = t == b8 ? f[2 * i] != 0 : trunc(f[2 * i]);
        ref_conv(s, sd, f, fd, rank, od, start, ref);
        dim_t n;
        af_dtype ot;
        CHECK_AF(af_get_type(&ot, out));
        CHECK(ot == t);
        dim_t gd[4];
        CHECK_AF(af_get_dims(&gd[0], &gd[1], &gd[2], &gd[3], out));
        CHECK(gd[0] == od[0] && gd[1] == od[1] && gd[2] == od[2] && gd[3] == od[3]);
        double *g = read_pairs(out, t, &n);
        if (g && n == nelem(od)) {
            for (dim_t i = 0; i < 2 * n; i++)
                ref[i] = store_as(t, ref[i], freq);
            double tol = (t == f64 || t == c64) ? 1e-10 : is_float(t) ? 2e-4 : 0;
            CHECK_CLOSE(g, ref, 2 * (size_t)n, 0, tol * (1 + sqrt((double)nelem(fd))));
        } else {
            CHECK(!"read the convolution back");
        }
        free(g);
        free(ref);
    }
    af_release_array(as);
    af_release_array(af);
    af_release_array(out);
    free(s);
    free(f);
}

static const af_dtype float_types[] = {f32, f64, c32, c64};

TEST(convolve_spatial_shapes) {
    /* Signal and filter shapes per rank: odd and even filters, a filter larger than the signal,
     * 1-element cases. */
    static const dim_t s1[][4] = {{17, 1, 1, 1}, {5, 1, 1, 1}, {1, 1, 1, 1}, {300, 1, 1, 1}};
    static const dim_t f1[][4] = {{4, 1, 1, 1}, {9, 1, 1, 1}, {3, 1, 1, 1}, {33, 1, 1, 1}};
    static const dim_t s2[][4] = {{13, 9, 1, 1}, {4, 5, 1, 1}, {40, 33, 1, 1}};
    static const dim_t f2[][4] = {{3, 3, 1, 1}, {6, 7, 1, 1}, {5, 2, 1, 1}};
    static const dim_t s3[][4] = {{7, 6, 5, 1}, {3, 4, 2, 1}};
    static const dim_t f3[][4] = {{3, 2, 3, 1}, {4, 5, 3, 1}};
    for (int ti = 0; ti < 4; ti++)
        for (int e = 0; e < 2; e++) {
            for (int i = 0; i < 4; i++)
                check_conv(float_types[ti], float_types[ti], s1[i], f1[i], 1, e, AF_CONV_SPATIAL,
                           false);
            for (int i = 0; i < 3; i++)
                check_conv(float_types[ti], float_types[ti], s2[i], f2[i], 2, e, AF_CONV_SPATIAL,
                           false);
            for (int i = 0; i < 2; i++)
                check_conv(float_types[ti], float_types[ti], s3[i], f3[i], 3, e, AF_CONV_SPATIAL,
                           false);
        }
}

/* The batch kinds in both domains (and AUTO). */
TEST(convolve_batching) {
    static const dim_t cases[][2][4] = {
        {{20, 3, 1, 1}, {5, 1, 1, 1}}, /* rank 1: many signals, one filter */
        {{20, 1, 1, 1}, {5, 4, 1, 1}}, /* one signal, many filters */
        {{20, 3, 2, 1}, {5, 3, 2, 1}}, /* pairwise */
        {{9, 8, 3, 1}, {3, 3, 1, 1}},  /* rank 2 */
        {{9, 8, 1, 1}, {3, 3, 2, 3}},  /* rank 2, filters in dims 2 and 3 */
        {{9, 8, 2, 3}, {4, 3, 2, 3}},  /* pairwise rank 2 */
        {{6, 5, 4, 3}, {3, 3, 3, 1}},  /* rank 3 */
        {{6, 5, 4, 1}, {2, 3, 2, 5}},  /* rank 3, many filters */
    };
    static const int ranks[] = {1, 1, 1, 2, 2, 2, 3, 3};
    for (size_t c = 0; c < sizeof(ranks) / sizeof(ranks[0]); c++)
        for (int ti = 0; ti < 4; ti += 1)
            for (int e = 0; e < 2; e++) {
                af_dtype t = float_types[ti];
                check_conv(t, t, cases[c][0], cases[c][1], ranks[c], e, AF_CONV_SPATIAL, false);
                check_conv(t, t, cases[c][0], cases[c][1], ranks[c], e, AF_CONV_FREQ, false);
                check_conv(t, t, cases[c][0], cases[c][1], ranks[c], e, AF_CONV_AUTO, false);
                check_conv(t, t, cases[c][0], cases[c][1], ranks[c], e, AF_CONV_AUTO, true);
            }
}

/* The interleaved batch (dims equal or 1 but not all equal) runs in the frequency domain only. */
TEST(convolve_interleaved_batch) {
    dim_t sd[4] = {16, 3, 1, 1}, fd[4] = {5, 1, 2, 1};
    /* Signals along dim 1, filters along dim 2: every pairing. */
    for (int ti = 0; ti < 4; ti++) {
        check_conv(float_types[ti], float_types[ti], sd, fd, 1, false, AF_CONV_FREQ, false);
        check_conv(float_types[ti], float_types[ti], sd, fd, 1, true, AF_CONV_AUTO, false);
    }
    check_conv(s32, s32, sd, fd, 1, true, AF_CONV_FREQ, false);
    double x[64] = {0};
    af_array s = em_test_make(x, 4, sd, f32), f = em_test_make(x, 4, fd, f32), out = NULL;
    CHECK_ERR(af_convolve1(&out, s, f, AF_CONV_DEFAULT, AF_CONV_SPATIAL), AF_ERR_ARG);
    af_release_array(s);
    af_release_array(f);
}

/* Integer and b8 signals: the output keeps the dtype; the spatial sum is truncated and the
 * frequency one rounded. Integer-valued filters keep both exact. */
TEST(convolve_integer_types) {
    static const af_dtype ints[] = {s32, u32, u8, s64, u64, s16, u16, b8};
    dim_t s1[4] = {40, 2, 1, 1}, f1[4] = {5, 1, 1, 1};
    dim_t s2[4] = {12, 11, 1, 1}, f2[4] = {3, 3, 1, 1};
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
        for (int e = 0; e < 2; e++) {
            af_dtype ft = ints[i] == b8 ? f32 : s32;
            check_conv(ints[i], ft, s1, f1, 1, e, AF_CONV_SPATIAL, false);
            check_conv(ints[i], ft, s2, f2, 2, e, AF_CONV_SPATIAL, false);
            check_conv(ints[i], ft, s1, f1, 1, e, AF_CONV_FREQ, false);
            check_conv(ints[i], ft, s2, f2, 2, e, AF_CONV_FREQ, true);
        }
    /* Fractional filters: the spatial domain truncates the f32 sum; the frequency domain casts
     * the filter to the signal's dtype first (0.5 becomes 0). */
    double sv[8] = {1, 2, 3, 4, 5, 6, 7, 8}, fv[2] = {0.5, 0.5};
    dim_t sd[4] = {8, 1, 1, 1}, fd[4] = {2, 1, 1, 1};
    af_array s = em_test_make(sv, 1, sd, s32), f = em_test_make(fv, 1, fd, f32), out = NULL;
    CHECK_AF(af_convolve1(&out, s, f, AF_CONV_EXPAND, AF_CONV_SPATIAL));
    dim_t n;
    double *g = em_test_read(out, &n);
    double want[9] = {0, 1, 2, 3, 4, 5, 6, 7, 4}; /* 0.5, 1.5, 2.5, ... truncated */
    CHECK(n == 9);
    CHECK_CLOSE(g, want, 9, 0, 0);
    free(g);
    af_release_array(out);
    CHECK_AF(af_convolve1(&out, s, f, AF_CONV_EXPAND, AF_CONV_FREQ));
    g = em_test_read(out, &n);
    double zeros[9] = {0};
    CHECK_CLOSE(g, zeros, 9, 0, 0);
    free(g);
    af_release_array(out);
    af_release_array(s);
    af_release_array(f);
}

/* AF_CONV_AUTO on integer signals follows ArrayFire's rule: a 1-D filter longer than 128 goes
 * to the frequency domain (where a 0.5 filter is cast to 0), a shorter one stays spatial. */
TEST(convolve_auto_integer_rule) {
    dim_t sd[4] = {300, 1, 1, 1};
    double *sv = malloc(sizeof(double) * 300);
    for (int i = 0; i < 300; i++)
        sv[i] = 4;
    double fv[129];
    for (int i = 0; i < 129; i++)
        fv[i] = 0.5;
    af_array s = em_test_make(sv, 1, sd, u8), out = NULL;
    for (int len = 128; len <= 129; len++) {
        dim_t fd[4] = {len, 1, 1, 1};
        af_array f = em_test_make(fv, 1, fd, f32);
        CHECK_AF(af_convolve1(&out, s, f, AF_CONV_DEFAULT, AF_CONV_AUTO));
        dim_t n;
        double *g = em_test_read(out, &n);
        CHECK(n == 300);
        /* Mid-signal: spatial gives 128 * 2 = 256 -> saturates to 255 in u8; frequency 0. */
        if (g) CHECK(g[150] == (len == 128 ? 255 : 0));
        free(g);
        af_release_array(out);
        af_release_array(f);
    }
    af_release_array(s);
    free(sv);
}

/* Views and lazy arrays as signals; a complex filter on a real signal (its magnitude is used). */
TEST(convolve_views_and_lazy) {
    dim_t sd[4] = {10, 12, 1, 1}, fd[4] = {3, 3, 1, 1};
    double *s = rand_pairs(f32, 120, 0, 0), *f = rand_pairs(f32, 9, 0, 0);
    af_array as = make(s, sd, f32), af = make(f, fd, f32), t = NULL, out = NULL;
    /* Lazy: s + s. */
    af_array ss = NULL;
    CHECK_AF(af_add(&ss, as, as, false));
    CHECK_AF(af_convolve2(&out, ss, af, AF_CONV_DEFAULT, AF_CONV_SPATIAL));
    double *s2 = malloc(sizeof(double) * 240);
    for (int i = 0; i < 240; i++)
        s2[i] = 2 * s[i];
    dim_t od[4], st[3];
    out_dims(2, false, sd, fd, od, st);
    double *ref = calloc(240, sizeof(double));
    ref_conv(s2, sd, f, fd, 2, od, st, ref);
    dim_t n;
    double *g = read_pairs(out, f32, &n);
    CHECK_CLOSE(g, ref, 240, 0, 1e-4);
    free(g);
    af_release_array(out);
    out = NULL;
    /* Transposed view. */
    af_err err = af_reorder(&t, as, 1, 0, 2, 3);
    if (err == AF_SUCCESS) {
        CHECK_AF(af_convolve2(&out, t, af, AF_CONV_EXPAND, AF_CONV_SPATIAL));
        double *tv = malloc(sizeof(double) * 240);
        for (int i = 0; i < 10; i++)
            for (int j = 0; j < 12; j++) {
                tv[2 * (j + 12 * i)] = s[2 * (i + 10 * j)];
                tv[2 * (j + 12 * i) + 1] = 0;
            }
        dim_t td[4] = {12, 10, 1, 1};
        out_dims(2, true, td, fd, od, st);
        double *r2 = calloc(2 * (size_t)nelem(od), sizeof(double));
        ref_conv(tv, td, f, fd, 2, od, st, r2);
        g = read_pairs(out, f32, &n);
        CHECK(n == nelem(od));
        CHECK_CLOSE(g, r2, 2 * (size_t)n, 0, 1e-4);
        free(g);
        free(r2);
        free(tv);
        af_release_array(out);
        af_release_array(t);
    } else {
        CHECK(err == AF_ERR_NOT_SUPPORTED);
    }
    /* A complex filter on a real signal is cast to its magnitude. */
    double cf[18];
    for (int i = 0; i < 9; i++) {
        cf[2 * i] = 3 * f[2 * i];
        cf[2 * i + 1] = 4 * f[2 * i];
    }
    af_array acf = em_test_make(cf, 4, fd, c32);
    CHECK_AF(af_convolve2(&out, as, acf, AF_CONV_DEFAULT, AF_CONV_SPATIAL));
    double fm[18];
    for (int i = 0; i < 9; i++) {
        fm[2 * i] = (float)(5 * fabs(f[2 * i]));
        fm[2 * i + 1] = 0;
    }
    out_dims(2, false, sd, fd, od, st);
    ref_conv(s, sd, fm, fd, 2, od, st, ref);
    g = read_pairs(out, f32, &n);
    CHECK_CLOSE(g, ref, 240, 0, 1e-4);
    free(g);
    af_release_array(out);
    af_release_array(acf);
    af_release_array(ss);
    af_release_array(as);
    af_release_array(af);
    free(s);
    free(s2);
    free(f);
    free(ref);
}

/* A strided view (every other element along dim 0) as signal, spatially and through the FFT. */
TEST(convolve_strided_view_signal) {
    dim_t bd[4] = {21, 8, 1, 1}, fd[4] = {3, 3, 1, 1};
    for (int ti = 0; ti < 4; ti++) {
        af_dtype t = float_types[ti];
        double *x = rand_pairs(t, nelem(bd), 0, 0), *f = rand_pairs(t, 9, 0, 0);
        af_array base = make(x, bd, t), af = make(f, fd, t), v = NULL, out = NULL;
        af_seq idx[2] = {{0, 20, 2}, {1, 6, 1}};
        af_err err = af_index(&v, base, 2, idx);
        if (err != AF_SUCCESS) {
            CHECK(err == AF_ERR_NOT_SUPPORTED);
        } else {
            dim_t vd[4] = {11, 6, 1, 1};
            double *vals = malloc(sizeof(double) * 2 * 66);
            for (dim_t j = 0; j < 6; j++)
                for (dim_t i = 0; i < 11; i++) {
                    vals[2 * (i + 11 * j)] = x[2 * (2 * i + 21 * (j + 1))];
                    vals[2 * (i + 11 * j) + 1] = x[2 * (2 * i + 21 * (j + 1)) + 1];
                }
            for (int dom = 1; dom <= 2; dom++) {
                CHECK_AF(af_convolve2(&out, v, af, AF_CONV_EXPAND, (af_conv_domain)dom));
                dim_t od[4], st[3];
                out_dims(2, true, vd, fd, od, st);
                double *ref = calloc(2 * (size_t)nelem(od), sizeof(double));
                ref_conv(vals, vd, f, fd, 2, od, st, ref);
                dim_t n;
                double *g = read_pairs(out, t, &n);
                CHECK(n == nelem(od));
                if (g && n == nelem(od))
                    CHECK_CLOSE(g, ref, 2 * (size_t)n, 0, (t == f64 || t == c64) ? 1e-10 : 1e-4);
                free(g);
                free(ref);
                af_release_array(out);
                out = NULL;
            }
            free(vals);
            af_release_array(v);
        }
        af_release_array(base);
        af_release_array(af);
        free(x);
        free(f);
    }
}

/* Long signals and filters through the FFT path, and AUTO on floats, against the direct sum. */
TEST(convolve_freq_long) {
    /* Filters above every backend's AF_CONV_AUTO limit, and below it. */
    dim_t sd[4] = {5000, 1, 1, 1}, fd[4] = {1100, 1, 1, 1}, fs[4] = {300, 1, 1, 1};
    check_conv(f32, f32, sd, fd, 1, false, AF_CONV_AUTO, false);
    check_conv(f64, f64, sd, fs, 1, true, AF_CONV_FREQ, false);
    check_conv(f32, f32, sd, fs, 1, true, AF_CONV_AUTO, false);
    dim_t s2[4] = {60, 50, 1, 1}, f2[4] = {31, 29, 1, 1}, f2s[4] = {21, 19, 1, 1};
    check_conv(f32, f32, s2, f2, 2, false, AF_CONV_AUTO, false);
    check_conv(c32, c32, s2, f2, 2, true, AF_CONV_AUTO, false);
    check_conv(f32, f32, s2, f2s, 2, true, AF_CONV_AUTO, false);
    dim_t s3[4] = {20, 18, 16, 1}, f3[4] = {9, 9, 9, 1};
    check_conv(f32, f32, s3, f3, 3, false, AF_CONV_AUTO, false);
}

/* Empty signal or filter: the signal comes back. */
TEST(convolve_empty) {
    dim_t sd[4] = {0, 1, 1, 1}, fd[4] = {3, 1, 1, 1};
    double x[4] = {1, 2, 3, 0};
    af_array s = NULL, f = em_test_make(x, 1, fd, f32), out = NULL;
    CHECK_AF(af_create_handle(&s, 1, sd, f32));
    CHECK_AF(af_convolve1(&out, s, f, AF_CONV_DEFAULT, AF_CONV_SPATIAL));
    dim_t n = -1;
    CHECK_AF(af_get_elements(&n, out));
    CHECK(n == 0);
    af_release_array(out);
    af_release_array(s);
    af_release_array(f);
}

/* ---- separable ---- */

TEST(convolve2_separable) {
    static const af_dtype types[] = {f32, f64, c32, c64, s32, u8};
    dim_t sd[4] = {14, 11, 3, 2};
    for (size_t ti = 0; ti < sizeof(types) / sizeof(types[0]); ti++)
        for (int e = 0; e < 2; e++) {
            af_dtype t = types[ti];
            bool fl = is_float(t);
            double *s = rand_pairs(t, nelem(sd), 0, 9);
            dim_t cd[4] = {5, 1, 1, 1}, rd[4] = {1, 4, 1, 1};
            af_dtype ft = fl ? t : s32;
            double *cf = rand_pairs(ft, 5, 0, 2), *rf = rand_pairs(ft, 4, 0, 2);
            af_array as = make(s, sd, t), ac = make(cf, cd, ft), ar = make(rf, rd, ft), out = NULL;
            CHECK_AF(af_convolve2_sep(&out, ac, ar, as, e ? AF_CONV_EXPAND : AF_CONV_DEFAULT));
            /* Reference: the 2-D convolution with the outer-product filter (exact for these
             * integer values, so the intermediate's dtype does not matter). */
            double f2[2 * 20];
            for (int j = 0; j < 4; j++)
                for (int i = 0; i < 5; i++) {
                    double a = cf[2 * i], b = cf[2 * i + 1], c = rf[2 * j], d = rf[2 * j + 1];
                    f2[2 * (i + 5 * j)] = a * c - b * d;
                    f2[2 * (i + 5 * j) + 1] = a * d + b * c;
                }
            dim_t fd[4] = {5, 4, 1, 1}, od[4], st[3];
            out_dims(2, e, sd, fd, od, st);
            double *ref = calloc(2 * (size_t)nelem(od), sizeof(double));
            ref_conv(s, sd, f2, fd, 2, od, st, ref);
            dim_t n;
            double *g = read_pairs(out, t, &n);
            CHECK(n == nelem(od));
            if (g && n == nelem(od))
                CHECK_CLOSE(g, ref, 2 * (size_t)n, 0,
                            fl ? (t == f64 || t == c64 ? 1e-10 : 1e-4) : 0);
            free(g);
            free(ref);
            af_release_array(out);
            /* Two scalar filters scale the signal. */
            dim_t one[4] = {1, 1, 1, 1};
            af_array sc = make(cf, one, ft), sr = make(rf, one, ft);
            out = NULL;
            CHECK_AF(af_convolve2_sep(&out, sc, sr, as, AF_CONV_DEFAULT));
            if (out && fl && !is_cplx(t)) {
                g = read_pairs(out, t, &n);
                double *r = malloc(sizeof(double) * 2 * (size_t)n);
                for (dim_t i = 0; i < n; i++) {
                    r[2 * i] = s[2 * i] * cf[0] * rf[0];
                    r[2 * i + 1] = 0;
                }
                CHECK_CLOSE(g, r, 2 * (size_t)n, 1e-6, 1e-6);
                free(g);
                free(r);
            }
            af_release_array(out);
            af_release_array(sc);
            af_release_array(sr);
            af_release_array(as);
            af_release_array(ac);
            af_release_array(ar);
            free(s);
            free(cf);
            free(rf);
        }
}

/* ---- fir and iir ---- */

TEST(fir_filter) {
    for (int ti = 0; ti < 4; ti++) {
        af_dtype t = float_types[ti];
        dim_t xd[4] = {50, 3, 1, 1}, bd[4] = {7, 1, 1, 1};
        double *x = rand_pairs(t, 150, 0, 0), *b = rand_pairs(t, 7, 0, 0);
        af_array ax = make(x, xd, t), ab = make(b, bd, t), y = NULL;
        CHECK_AF(af_fir(&y, ab, ax));
        dim_t od[4] = {50, 3, 1, 1}, st[3] = {0, 0, 0};
        double *ref = calloc(300, sizeof(double));
        ref_conv(x, xd, b, bd, 1, od, st, ref);
        dim_t n;
        double *g = read_pairs(y, t, &n);
        CHECK(n == 150);
        CHECK_CLOSE(g, ref, 300, 0, (t == f64 || t == c64) ? 1e-10 : 1e-5);
        free(g);
        free(ref);
        af_release_array(y);
        af_release_array(ax);
        af_release_array(ab);
        free(x);
        free(b);
    }
}

/* y[n] = (sum_k b[k] x[n-k] - sum_{k>=1} a[k] y[n-k]) / a[0], per column. */
static void ref_iir(const double *b, dim_t nb, const double *a, dim_t na, const double *x, dim_t n,
                    double *y) {
    for (dim_t i = 0; i < n; i++) {
        double re = 0, im = 0;
        for (dim_t k = 0; k < nb && k <= i; k++) {
            re += b[2 * k] * x[2 * (i - k)] - b[2 * k + 1] * x[2 * (i - k) + 1];
            im += b[2 * k] * x[2 * (i - k) + 1] + b[2 * k + 1] * x[2 * (i - k)];
        }
        for (dim_t k = 1; k < na && k <= i; k++) {
            re -= a[2 * k] * y[2 * (i - k)] - a[2 * k + 1] * y[2 * (i - k) + 1];
            im -= a[2 * k] * y[2 * (i - k) + 1] + a[2 * k + 1] * y[2 * (i - k)];
        }
        double ar = a[0], ai = a[1], den = ar * ar + ai * ai;
        y[2 * i] = (re * ar + im * ai) / den;
        y[2 * i + 1] = (im * ar - re * ai) / den;
    }
}

TEST(iir_filter) {
    for (int ti = 0; ti < 4; ti++) {
        af_dtype t = float_types[ti];
        const dim_t n = 64, cols = 3;
        dim_t xd[4] = {n, cols, 1, 1}, bd[4] = {3, 1, 1, 1}, ad[4] = {3, 1, 1, 1};
        double *x = rand_pairs(t, n * cols, 0, 0);
        /* A stable filter: a = [1, -0.5, 0.25] scaled, b small. */
        double a[6] = {2, 0, -1, 0, 0.5, 0}, b[6] = {0.5, 0, 0.25, 0, -0.125, 0};
        if (is_cplx(t)) a[3] = 0.25;
        af_array ax = make(x, xd, t), aa = make(a, ad, t), ab = make(b, bd, t), y = NULL;
        CHECK_AF(af_iir(&y, ab, aa, ax));
        double *ref = calloc(2 * (size_t)(n * cols), sizeof(double));
        for (dim_t c = 0; c < cols; c++)
            ref_iir(b, 3, a, 3, x + 2 * n * c, n, ref + 2 * n * c);
        dim_t got;
        double *g = read_pairs(y, t, &got);
        CHECK(got == n * cols);
        CHECK_CLOSE(g, ref, 2 * (size_t)(n * cols), 0, (t == f64 || t == c64) ? 1e-10 : 1e-4);
        free(g);
        af_release_array(y);
        /* a with one coefficient: b / a0 through fir. */
        dim_t a1d[4] = {1, 1, 1, 1};
        af_array a1 = make(a, a1d, t);
        CHECK_AF(af_iir(&y, ab, a1, ax));
        for (dim_t c = 0; c < cols; c++)
            ref_iir(b, 3, a, 1, x + 2 * n * c, n, ref + 2 * n * c);
        g = read_pairs(y, t, &got);
        CHECK_CLOSE(g, ref, 2 * (size_t)(n * cols), 0, (t == f64 || t == c64) ? 1e-10 : 1e-4);
        free(g);
        af_release_array(y);
        af_release_array(a1);
        /* Bad input: dtype mismatch, dims mismatch. */
        af_array bad = make(a, ad, t == f32 ? f64 : f32);
        CHECK_ERR(af_iir(&y, ab, bad, ax), AF_ERR_ARG);
        CHECK_ERR(af_iir(&y, bad, aa, ax), AF_ERR_ARG);
        af_release_array(bad);
        af_release_array(ax);
        af_release_array(aa);
        af_release_array(ab);
        free(x);
        free(ref);
    }
}

/* ---- the machine-learning convolution ---- */

typedef struct {
    dim_t s[2], p[2], d[2];
} nn_par;

static void nn_odims(const dim_t sd[4], const dim_t fd[4], const nn_par *q, dim_t od[4]) {
    for (int k = 0; k < 2; k++)
        od[k] = 1 + (sd[k] + 2 * q->p[k] - ((fd[k] - 1) * q->d[k] + 1)) / q->s[k];
    od[2] = fd[3];
    od[3] = sd[3];
}

/* Forward: out[x,y,k,n] = sum sig[x s0 - p0 + i d0, ...] filt[fw-1-i, fh-1-j, c, k]. */
static void ref_nn(const double *sg, const dim_t sd[4], const double *fl, const dim_t fd[4],
                   const nn_par *q, const dim_t od[4], double *out) {
    for (dim_t n = 0; n < od[3]; n++)
        for (dim_t k = 0; k < od[2]; k++)
            for (dim_t y = 0; y < od[1]; y++)
                for (dim_t x = 0; x < od[0]; x++) {
                    double acc = 0;
                    for (dim_t c = 0; c < sd[2]; c++)
                        for (dim_t j = 0; j < fd[1]; j++)
                            for (dim_t i = 0; i < fd[0]; i++) {
                                dim_t sx = x * q->s[0] - q->p[0] + i * q->d[0];
                                dim_t sy = y * q->s[1] - q->p[1] + j * q->d[1];
                                if (sx < 0 || sy < 0 || sx >= sd[0] || sy >= sd[1]) continue;
                                acc += sg[sx + sd[0] * (sy + sd[1] * (c + sd[2] * n))] *
                                       fl[(fd[0] - 1 - i) +
                                          fd[0] * ((fd[1] - 1 - j) + fd[1] * (c + fd[2] * k))];
                            }
                    out[x + od[0] * (y + od[1] * (k + od[2] * n))] = acc;
                }
}

static double *rand_real(dim_t n) {
    double *x = malloc(sizeof(double) * (size_t)(n + 1));
    for (dim_t i = 0; i < n; i++)
        x[i] = (float)em_test_rand_uniform(-1, 1);
    return x;
}

TEST(convolve2_nn_and_gradients) {
    static const nn_par pars[] = {{{1, 1}, {0, 0}, {1, 1}},
                                  {{2, 1}, {1, 2}, {1, 1}},
                                  {{1, 2}, {2, 0}, {2, 1}},
                                  {{3, 2}, {1, 1}, {2, 3}}};
    static const af_dtype types[] = {f32, f64, f16};
    for (size_t ti = 0; ti < 3; ti++)
        for (size_t pi = 0; pi < 4; pi++) {
            af_dtype t = types[ti];
            const nn_par *q = &pars[pi];
            dim_t sd[4] = {11, 9, 3, 2}, fd[4] = {3, 2, 3, 4}, od[4];
            nn_odims(sd, fd, q, od);
            double *sg = rand_real(nelem(sd)), *fl = rand_real(nelem(fd));
            if (t == f16)
                for (dim_t i = 0; i < nelem(sd); i++)
                    sg[i] = em_test_half_to_double(em_test_double_to_half(sg[i]));
            if (t == f16)
                for (dim_t i = 0; i < nelem(fd); i++)
                    fl[i] = em_test_half_to_double(em_test_double_to_half(fl[i]));
            af_array as = em_test_make(sg, 4, sd, t), af = em_test_make(fl, 4, fd, t), out = NULL;
            CHECK_AF(af_convolve2_nn(&out, as, af, 2, q->s, 2, q->p, 2, q->d));
            double *ref = calloc((size_t)nelem(od) + 1, sizeof(double));
            ref_nn(sg, sd, fl, fd, q, od, ref);
            dim_t n;
            double *g = em_test_read(out, &n);
            double tol = t == f64 ? 1e-10 : t == f32 ? 1e-5 : 2e-2;
            CHECK(n == nelem(od));
            if (g && n == nelem(od)) CHECK_CLOSE(g, ref, (size_t)n, tol, tol);
            free(g);
            /* Gradients: for L = <out, gy>, dL/dsig and dL/dfilt, checked by the adjoint
             * identities <conv(sig), gy> = <sig, dsig> = <filt, dfilt>. */
            double *gy = rand_real(nelem(od));
            if (t == f16)
                for (dim_t i = 0; i < nelem(od); i++)
                    gy[i] = em_test_half_to_double(em_test_double_to_half(gy[i]));
            af_array agy = em_test_make(gy, 4, od, t), ds = NULL, df = NULL;
            CHECK_AF(af_convolve2_gradient_nn(&ds, agy, as, af, out, 2, q->s, 2, q->p, 2, q->d,
                                              AF_CONV_GRADIENT_DATA));
            CHECK_AF(af_convolve2_gradient_nn(&df, agy, as, af, out, 2, q->s, 2, q->p, 2, q->d,
                                              AF_CONV_GRADIENT_FILTER));
            double lhs = 0;
            for (dim_t i = 0; i < nelem(od); i++)
                lhs += ref[i] * gy[i];
            dim_t nds, ndf;
            double *vds = em_test_read(ds, &nds), *vdf = em_test_read(df, &ndf);
            CHECK(nds == nelem(sd) && ndf == nelem(fd));
            if (vds && vdf && nds == nelem(sd) && ndf == nelem(fd)) {
                double r1 = 0, r2 = 0;
                for (dim_t i = 0; i < nds; i++)
                    r1 += sg[i] * vds[i];
                for (dim_t i = 0; i < ndf; i++)
                    r2 += fl[i] * vdf[i];
                double sc = t == f16 ? 0.05 : t == f32 ? 1e-4 : 1e-9;
                CHECK(fabs(r1 - lhs) <= sc * (1 + fabs(lhs)));
                CHECK(fabs(r2 - lhs) <= sc * (1 + fabs(lhs)));
            }
            free(vds);
            free(vdf);
            af_release_array(ds);
            af_release_array(df);
            af_release_array(agy);
            af_release_array(out);
            af_release_array(as);
            af_release_array(af);
            free(sg);
            free(fl);
            free(gy);
            free(ref);
        }
}

/* ---- bad input ---- */

TEST(convolve_bad_input) {
    dim_t d[4] = {8, 8, 1, 1}, f[4] = {3, 3, 1, 1}, v[4] = {3, 1, 1, 1};
    double x[64] = {0};
    af_array s16a = em_test_make(x, 2, d, f16), s = em_test_make(x, 2, d, f32);
    af_array fl = em_test_make(x, 2, f, f32), vec = em_test_make(x, 1, v, f32), out = NULL;
    CHECK_ERR(af_convolve2(&out, s16a, fl, AF_CONV_DEFAULT, AF_CONV_SPATIAL), AF_ERR_TYPE);
    CHECK_ERR(af_fft_convolve2(&out, s16a, fl, AF_CONV_DEFAULT), AF_ERR_TYPE);
    CHECK_ERR(af_convolve2(NULL, s, fl, AF_CONV_DEFAULT, AF_CONV_SPATIAL), AF_ERR_ARG);
    CHECK_ERR(af_convolve2(&out, s, NULL, AF_CONV_DEFAULT, AF_CONV_SPATIAL), AF_ERR_ARG);
    /* Batch dims that are neither equal nor 1. */
    dim_t bs[4] = {8, 2, 1, 1}, bf[4] = {3, 3, 1, 1};
    af_array b1 = em_test_make(x, 2, bs, f32), b2 = em_test_make(x, 2, bf, f32);
    CHECK_ERR(af_convolve1(&out, b1, b2, AF_CONV_DEFAULT, AF_CONV_FREQ), AF_ERR_ARG);
    CHECK_ERR(af_convolve1(&out, b1, b2, AF_CONV_DEFAULT, AF_CONV_SPATIAL), AF_ERR_ARG);
    /* Separable: a non-vector filter, a 1-D signal. */
    CHECK_ERR(af_convolve2_sep(&out, fl, vec, s, AF_CONV_DEFAULT), AF_ERR_ARG);
    CHECK_ERR(af_convolve2_sep(&out, vec, vec, vec, AF_CONV_DEFAULT), AF_ERR_ARG);
    /* convolve2_nn: bad parameter counts, channel mismatch, wrong dtype, too large a filter. */
    dim_t one[2] = {1, 1}, zero[2] = {0, 0};
    CHECK_ERR(af_convolve2_nn(&out, s, fl, 0, one, 2, zero, 2, one), AF_ERR_ARG);
    CHECK_ERR(af_convolve2_nn(&out, s, fl, 2, one, 3, zero, 2, one), AF_ERR_ARG);
    CHECK_ERR(af_convolve2_nn(&out, s, fl, 2, zero, 2, zero, 2, one), AF_ERR_ARG);
    dim_t f3[4] = {3, 3, 2, 1};
    af_array fc = em_test_make(x, 3, f3, f32);
    CHECK_ERR(af_convolve2_nn(&out, s, fc, 2, one, 2, zero, 2, one), AF_ERR_SIZE);
    af_array si = em_test_make(x, 2, d, s32), fi = em_test_make(x, 2, f, s32);
    CHECK_ERR(af_convolve2_nn(&out, si, fi, 2, one, 2, zero, 2, one), AF_ERR_TYPE);
    dim_t big[4] = {9, 3, 1, 1};
    af_array fb = em_test_make(x, 2, big, f32);
    CHECK_ERR(af_convolve2_nn(&out, s, fb, 2, one, 2, zero, 2, one), AF_ERR_SIZE);
    CHECK(out == NULL);
    af_array arrs[] = {s16a, s, fl, vec, b1, b2, fc, si, fi, fb};
    for (size_t i = 0; i < sizeof(arrs) / sizeof(arrs[0]); i++)
        af_release_array(arrs[i]);
}
