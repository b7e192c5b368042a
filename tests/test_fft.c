/* signal.h, the FFT family: af_fft/fft2/fft3, their inverses, the _inplace, r2c and c2r forms,
 * padding and truncation through the odim arguments, batching over the higher dims, the
 * promotion of real inputs, norm_factor, af_set_fft_plan_cache_size, views and lazy arrays as
 * inputs, empty inputs, and bad input. References are direct DFTs in double precision (separable
 * along each transformed dim), so every length class is checked the same way: powers of two,
 * products of small primes and primes, up to a few thousand; longer transforms (2^20, a prime
 * above 2^16) are checked by their round trip and Parseval's identity. */
#include "test.h"

#include <string.h>

#define PI 3.14159265358979323846

static dim_t nelem(const dim_t d[4]) {
    return d[0] * d[1] * d[2] * d[3];
}

/* ArrayFire's ndims: the index of the last dim that is not 1, plus one. */
static unsigned ndims_of(const dim_t d[4]) {
    return d[3] > 1 ? 4 : d[2] > 1 ? 3 : d[1] > 1 ? 2 : 1;
}

/* In place: the unnormalised DFT along dims 0..rank-1 of complex pairs x with dims d. sign -1 is
 * the forward transform. */
static void ref_dft(double *x, const dim_t d[4], int rank, int sign) {
    dim_t total = nelem(d);
    for (int k = 0; k < rank; k++) {
        dim_t n = d[k], stride = 1;
        for (int j = 0; j < k; j++)
            stride *= d[j];
        if (n <= 1) continue;
        double *tmp = malloc(2 * sizeof(double) * (size_t)n);
        double *cs = malloc(2 * sizeof(double) * (size_t)n);
        for (dim_t m = 0; m < n; m++) {
            cs[2 * m] = cos(2 * PI * (double)m / (double)n);
            cs[2 * m + 1] = sign * sin(2 * PI * (double)m / (double)n);
        }
        for (dim_t base = 0; base < total; base++) {
            /* base must be the first element of a line along dim k. */
            if ((base / stride) % n != 0) continue;
            for (dim_t o = 0; o < n; o++) {
                double re = 0, im = 0;
                for (dim_t i = 0; i < n; i++) {
                    dim_t m = (i * o) % n;
                    double a = x[2 * (base + i * stride)], b = x[2 * (base + i * stride) + 1];
                    re += a * cs[2 * m] - b * cs[2 * m + 1];
                    im += a * cs[2 * m + 1] + b * cs[2 * m];
                }
                tmp[2 * o] = re;
                tmp[2 * o + 1] = im;
            }
            for (dim_t o = 0; o < n; o++) {
                x[2 * (base + o * stride)] = tmp[2 * o];
                x[2 * (base + o * stride) + 1] = tmp[2 * o + 1];
            }
        }
        free(tmp);
        free(cs);
    }
}

/* Random complex pairs (imaginary parts 0 for real dtypes) rounded to the dtype. */
static double *rand_input(af_dtype t, dim_t n) {
    double *x = calloc(2 * (size_t)n + 2, sizeof(double));
    bool cplx = t == c32 || t == c64;
    for (dim_t i = 0; i < n; i++) {
        x[2 * i] = em_test_rand_uniform(-1, 1);
        x[2 * i + 1] = cplx ? em_test_rand_uniform(-1, 1) : 0;
        if (t == f32 || t == c32) {
            x[2 * i] = (float)x[2 * i];
            x[2 * i + 1] = (float)x[2 * i + 1];
        }
    }
    return x;
}

/* The array for pairs x of dtype t (real dtypes take the real parts). */
static af_array make_from_pairs(const double *x, const dim_t d[4], af_dtype t) {
    dim_t n = nelem(d);
    if (t == c32 || t == c64) return em_test_make(x, 4, d, t);
    double *r = malloc(sizeof(double) * (size_t)(n + 1));
    for (dim_t i = 0; i < n; i++)
        r[i] = x[2 * i];
    af_array a = em_test_make(r, 4, d, t);
    free(r);
    return a;
}

/* The tolerance for a transform of total length n of values of magnitude about 1. */
static double tol_for(af_dtype t, double n, double magnitude) {
    double eps = (t == f64 || t == c64) ? 1e-13 : 2e-6;
    return eps * magnitude * (log2(n + 2) + 2) * 4;
}

static double rms(const double *x, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += x[i] * x[i];
    return n ? sqrt(s / (double)n) : 0;
}

/* Checks an af_array of complex pairs against ref (n complex values) with dims d. */
static void check_cplx(af_array got, const double *ref, const dim_t d[4], af_dtype out_type,
                       double tlen) {
    dim_t dims[4] = {0, 0, 0, 0};
    af_dtype t;
    CHECK_AF(af_get_dims(&dims[0], &dims[1], &dims[2], &dims[3], got));
    CHECK_AF(af_get_type(&t, got));
    CHECK(t == out_type);
    CHECK(dims[0] == d[0] && dims[1] == d[1] && dims[2] == d[2] && dims[3] == d[3]);
    dim_t n;
    double *g = em_test_read(got, &n);
    if (!g || n != nelem(d)) {
        free(g);
        CHECK(!"read back the expected number of values");
        return;
    }
    double mag = rms(ref, 2 * (size_t)n);
    CHECK_CLOSE(g, ref, 2 * (size_t)n, 0, tol_for(out_type, tlen, mag > 0 ? mag : 1));
    free(g);
}

/* One forward or inverse transform of rank `rank` with optional padding, against the reference. */
static void run_case(af_dtype t, const dim_t d[4], int rank, bool forward, const dim_t *pad,
                     double norm) {
    dim_t pd[4] = {d[0], d[1], d[2], d[3]};
    if (pad)
        for (int k = 0; k < rank; k++)
            pd[k] = pad[k];
    double *x = rand_input(t, nelem(d));
    af_array in = make_from_pairs(x, d, t), out = NULL;
    /* The reference: pad or truncate, transform, scale. */
    dim_t np = nelem(pd);
    double *ref = calloc(2 * (size_t)np + 2, sizeof(double));
    for (dim_t i = 0; i < np; i++) {
        dim_t c0 = i % pd[0], c1 = (i / pd[0]) % pd[1], c2 = (i / (pd[0] * pd[1])) % pd[2],
              c3 = i / (pd[0] * pd[1] * pd[2]);
        if (c0 < d[0] && c1 < d[1] && c2 < d[2] && c3 < d[3]) {
            dim_t s = c0 + d[0] * (c1 + d[1] * (c2 + d[2] * c3));
            ref[2 * i] = x[2 * s];
            ref[2 * i + 1] = x[2 * s + 1];
        }
    }
    ref_dft(ref, pd, rank, forward ? -1 : 1);
    for (dim_t i = 0; i < 2 * np; i++)
        ref[i] *= norm;
    af_err err;
    dim_t p0 = pad ? pad[0] : 0, p1 = pad && rank > 1 ? pad[1] : 0,
          p2 = pad && rank > 2 ? pad[2] : 0;
    if (rank == 1)
        err = forward ? af_fft(&out, in, norm, p0) : af_ifft(&out, in, norm, p0);
    else if (rank == 2)
        err = forward ? af_fft2(&out, in, norm, p0, p1) : af_ifft2(&out, in, norm, p0, p1);
    else
        err = forward ? af_fft3(&out, in, norm, p0, p1, p2) : af_ifft3(&out, in, norm, p0, p1, p2);
    CHECK_AF(err);
    double tlen = 1;
    for (int k = 0; k < rank; k++)
        tlen *= (double)pd[k];
    if (err == AF_SUCCESS)
        check_cplx(out, ref, pd, (t == f64 || t == c64) ? c64 : c32, tlen * (norm > 1 ? norm : 1));
    af_release_array(in);
    af_release_array(out);
    free(x);
    free(ref);
}

static const af_dtype fft_types[] = {f32, f64, c32, c64};

/* Every length class along dim 0: powers of two, small-prime products, primes. */
TEST(fft_lengths_1d) {
    static const dim_t lens[] = {1,  2,  3,  4,   5,   7,   8,   12,  15,  16,  17,   30,
                                 31, 64, 97, 100, 105, 127, 210, 256, 509, 512, 1009, 2048};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
        for (int k = 0; k < 4; k++) {
            dim_t d[4] = {lens[i], 1, 1, 1};
            run_case(fft_types[k], d, 1, true, NULL, 1.0);
            run_case(fft_types[k], d, 1, false, NULL, 1.0 / (double)lens[i]);
        }
}

/* Batches over dims 1..3 with odd counts, and 4-D shapes, for each rank. */
TEST(fft_batched_shapes) {
    static const dim_t shapes[][4] = {{16, 3, 1, 1}, {9, 5, 3, 1}, {7, 1, 3, 2},  {12, 4, 3, 2},
                                      {5, 6, 7, 3},  {1, 8, 3, 1}, {11, 13, 1, 1}};
    for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++)
        for (int k = 0; k < 4; k++)
            for (int rank = 1; rank <= 3; rank++) {
                const dim_t *d = shapes[s];
                unsigned nd = ndims_of(d);
                if ((int)nd < rank) continue;
                run_case(fft_types[k], d, rank, true, NULL, 1.0);
                run_case(fft_types[k], d, rank, false, NULL, 0.5);
            }
}

/* odim arguments: zero padding and truncation; a zero or negative odim keeps the input's dims
 * (for fft2 and fft3, unless every one of them is positive). */
TEST(fft_padding_truncation) {
    for (int k = 0; k < 4; k++) {
        af_dtype t = fft_types[k];
        dim_t d1[4] = {10, 3, 1, 1};
        run_case(t, d1, 1, true, (dim_t[]){16}, 1.0);
        run_case(t, d1, 1, true, (dim_t[]){7}, 1.0);
        run_case(t, d1, 1, false, (dim_t[]){13}, 1.0);
        dim_t d2[4] = {6, 5, 2, 1};
        run_case(t, d2, 2, true, (dim_t[]){8, 9}, 1.0);
        run_case(t, d2, 2, true, (dim_t[]){4, 7}, 2.0);
        run_case(t, d2, 2, false, (dim_t[]){3, 3}, 1.0);
        dim_t d3[4] = {4, 5, 3, 2};
        run_case(t, d3, 3, true, (dim_t[]){6, 2, 5}, 1.0);
        run_case(t, d3, 3, false, (dim_t[]){4, 6, 3}, 1.0);
    }
    /* fft2 with one odim 0 keeps both dims. */
    dim_t d[4] = {6, 5, 1, 1};
    double *x = rand_input(c32, 30);
    af_array in = make_from_pairs(x, d, c32), out = NULL;
    CHECK_AF(af_fft2(&out, in, 1.0, 8, 0));
    dim_t o[4] = {0, 0, 0, 0};
    CHECK_AF(af_get_dims(&o[0], &o[1], &o[2], &o[3], out));
    CHECK(o[0] == 6 && o[1] == 5);
    af_release_array(out);
    out = NULL;
    CHECK_AF(af_fft(&out, in, 1.0, -3));
    CHECK_AF(af_get_dims(&o[0], &o[1], &o[2], &o[3], out));
    CHECK(o[0] == 6 && o[1] == 5);
    af_release_array(out);
    af_release_array(in);
    free(x);
}

TEST(fft_inplace) {
    static const dim_t shapes[][4] = {{8, 3, 1, 1}, {6, 5, 3, 1}, {4, 3, 5, 2}, {17, 1, 1, 1}};
    for (int ti = 0; ti < 2; ti++) {
        af_dtype t = ti ? c64 : c32;
        for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++)
            for (int rank = 1; rank <= 3; rank++)
                for (int fwd = 0; fwd < 2; fwd++) {
                    const dim_t *d = shapes[s];
                    unsigned nd = ndims_of(d);
                    if ((int)nd < rank) continue;
                    dim_t n = nelem(d);
                    double *x = rand_input(t, n);
                    af_array a = make_from_pairs(x, d, t);
                    /* A second handle to the same values must keep them (copy on write). */
                    af_array keep = NULL;
                    CHECK_AF(af_retain_array(&keep, a));
                    double norm = fwd ? 1.0 : 0.25;
                    af_err (*fns[2][3])(af_array, const double) = {
                        {af_ifft_inplace, af_ifft2_inplace, af_ifft3_inplace},
                        {af_fft_inplace, af_fft2_inplace, af_fft3_inplace}};
                    CHECK_AF(fns[fwd][rank - 1](a, norm));
                    double *ref = malloc(sizeof(double) * 2 * (size_t)n);
                    memcpy(ref, x, sizeof(double) * 2 * (size_t)n);
                    ref_dft(ref, d, rank, fwd ? -1 : 1);
                    for (dim_t i = 0; i < 2 * n; i++)
                        ref[i] *= norm;
                    double tl = 1;
                    for (int k = 0; k < rank; k++)
                        tl *= (double)d[k];
                    check_cplx(a, ref, d, t, tl);
                    check_cplx(keep, x, d, t, 1);
                    af_release_array(a);
                    af_release_array(keep);
                    free(x);
                    free(ref);
                }
    }
}

/* r2c against the first n/2+1 values of the full DFT; c2r(r2c(x)) = N x for even and odd
 * lengths (is_odd), with and without padding. */
TEST(fft_r2c_c2r) {
    static const dim_t shapes[][4] = {{16, 1, 1, 1}, {15, 3, 1, 1}, {8, 6, 1, 1},
                                      {7, 5, 3, 1},  {6, 4, 5, 2},  {1, 1, 1, 1}};
    for (int ti = 0; ti < 2; ti++) {
        af_dtype rt = ti ? f64 : f32, ct = ti ? c64 : c32;
        for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++)
            for (int rank = 1; rank <= 3; rank++) {
                const dim_t *d = shapes[s];
                unsigned nd = ndims_of(d);
                if ((int)nd < rank) continue;
                dim_t n = nelem(d);
                double *x = rand_input(rt, n);
                af_array in = make_from_pairs(x, d, rt), spec = NULL, back = NULL;
                af_err err = rank == 1   ? af_fft_r2c(&spec, in, 1.0, 0)
                             : rank == 2 ? af_fft2_r2c(&spec, in, 1.0, 0, 0)
                                         : af_fft3_r2c(&spec, in, 1.0, 0, 0, 0);
                CHECK_AF(err);
                double *full = malloc(sizeof(double) * 2 * (size_t)n);
                memcpy(full, x, sizeof(double) * 2 * (size_t)n);
                ref_dft(full, d, rank, -1);
                dim_t hd[4] = {d[0] / 2 + 1, d[1], d[2], d[3]};
                dim_t hn = nelem(hd);
                double *half = malloc(sizeof(double) * 2 * (size_t)hn);
                for (dim_t i = 0; i < hn; i++) {
                    dim_t c0 = i % hd[0], rest = i / hd[0];
                    half[2 * i] = full[2 * (c0 + d[0] * rest)];
                    half[2 * i + 1] = full[2 * (c0 + d[0] * rest) + 1];
                }
                double tl = 1;
                for (int k = 0; k < rank; k++)
                    tl *= (double)d[k];
                if (err == AF_SUCCESS) check_cplx(spec, half, hd, ct, tl);
                bool odd = d[0] % 2 == 1;
                err = rank == 1   ? af_fft_c2r(&back, spec, 1.0 / tl, odd)
                      : rank == 2 ? af_fft2_c2r(&back, spec, 1.0 / tl, odd)
                                  : af_fft3_c2r(&back, spec, 1.0 / tl, odd);
                CHECK_AF(err);
                if (err == AF_SUCCESS) {
                    dim_t bn;
                    double *b = em_test_read(back, &bn);
                    CHECK(bn == n);
                    double *xr = malloc(sizeof(double) * (size_t)n);
                    for (dim_t i = 0; i < n; i++)
                        xr[i] = x[2 * i];
                    CHECK_CLOSE(b, xr, (size_t)n, 0, tol_for(rt, tl, 1));
                    free(b);
                    free(xr);
                    /* The spectrum is the c2r's input: it must be unchanged. */
                    check_cplx(spec, half, hd, ct, tl);
                }
                af_release_array(in);
                af_release_array(spec);
                af_release_array(back);
                free(x);
                free(full);
                free(half);
            }
    }
    /* Padded r2c: the input is zero padded (or truncated) before the transform. */
    dim_t d[4] = {10, 3, 1, 1};
    double *x = rand_input(f32, 30);
    af_array in = make_from_pairs(x, d, f32), spec = NULL;
    CHECK_AF(af_fft_r2c(&spec, in, 2.0, 16));
    double *ref = calloc(2 * 16 * 3, sizeof(double));
    for (int j = 0; j < 3; j++)
        for (int i = 0; i < 10; i++)
            ref[2 * (i + 16 * j)] = x[2 * (i + 10 * j)];
    dim_t fd[4] = {16, 3, 1, 1};
    ref_dft(ref, fd, 1, -1);
    double *half = malloc(sizeof(double) * 2 * 9 * 3);
    for (int j = 0; j < 3; j++)
        for (int i = 0; i < 9; i++) {
            half[2 * (i + 9 * j)] = 2 * ref[2 * (i + 16 * j)];
            half[2 * (i + 9 * j) + 1] = 2 * ref[2 * (i + 16 * j) + 1];
        }
    dim_t hd[4] = {9, 3, 1, 1};
    check_cplx(spec, half, hd, c32, 32);
    af_release_array(in);
    af_release_array(spec);
    free(x);
    free(ref);
    free(half);
}

/* Long transforms: the round trip ifft(fft(x)) / N and Parseval's identity. */
TEST(fft_long_round_trip) {
    static const dim_t lens[] = {1 << 20, 65537, 3 * 5 * 7 * 11 * 13 * 4, 999983};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        dim_t n = lens[i];
        for (int ti = 0; ti < 2; ti++) {
            af_dtype t = ti ? c64 : c32;
            double *x = rand_input(t, n);
            dim_t d[4] = {n, 1, 1, 1};
            af_array in = make_from_pairs(x, d, t), f = NULL, b = NULL;
            CHECK_AF(af_fft(&f, in, 1.0, 0));
            CHECK_AF(af_ifft(&b, f, 1.0 / (double)n, 0));
            dim_t gn;
            double *g = em_test_read(b, &gn);
            CHECK(gn == n);
            CHECK_CLOSE(g, x, 2 * (size_t)n, 0, tol_for(t, (double)n, 1) * 4);
            double *fx = em_test_read(f, &gn);
            double ex = 0, ef = 0;
            for (dim_t k = 0; k < 2 * n; k++) {
                ex += x[k] * x[k];
                ef += fx[k] * fx[k];
            }
            CHECK(fabs(ef / (double)n - ex) <= (ti ? 1e-9 : 1e-4) * ex);
            free(g);
            free(fx);
            free(x);
            af_release_array(in);
            af_release_array(f);
            af_release_array(b);
        }
    }
}

/* A transposed view and a lazy expression as inputs give the same result as dense copies. */
TEST(fft_views_and_lazy_inputs) {
    dim_t d[4] = {12, 10, 1, 1};
    double *x = rand_input(c32, 120);
    af_array a = make_from_pairs(x, d, c32), t = NULL, ft = NULL;
    af_err err = af_reorder(&t, a, 1, 0, 2, 3);
    if (err == AF_SUCCESS) {
        CHECK_AF(af_fft2(&ft, t, 1.0, 0, 0));
        double *ref = malloc(sizeof(double) * 240);
        for (int i = 0; i < 10; i++)
            for (int j = 0; j < 12; j++) {
                ref[2 * (i + 10 * j)] = x[2 * (j + 12 * i)];
                ref[2 * (i + 10 * j) + 1] = x[2 * (j + 12 * i) + 1];
            }
        dim_t td[4] = {10, 12, 1, 1};
        ref_dft(ref, td, 2, -1);
        check_cplx(ft, ref, td, c32, 120);
        free(ref);
        af_release_array(ft);
        ft = NULL;
        af_release_array(t);
    } else {
        CHECK(err == AF_ERR_NOT_SUPPORTED);
    }
    /* Lazy: a + a, promoted and transformed. */
    af_array s = NULL;
    CHECK_AF(af_add(&s, a, a, false));
    CHECK_AF(af_fft(&ft, s, 1.0, 0));
    double *ref = malloc(sizeof(double) * 240);
    for (int i = 0; i < 240; i++)
        ref[i] = 2 * x[i];
    ref_dft(ref, d, 1, -1);
    check_cplx(ft, ref, d, c32, 12);
    free(ref);
    af_release_array(ft);
    af_release_array(s);
    af_release_array(a);
    free(x);
}

/* A strided view (every other element along dim 0, an inner range along dim 1) as the input of
 * c2c, real-promoting and r2c transforms. */
TEST(fft_strided_view_input) {
    const dim_t n0 = 9, n1 = 5;
    dim_t bd[4] = {2 * n0 + 1, n1 + 2, 1, 1};
    for (int ti = 0; ti < 4; ti++) {
        af_dtype t = fft_types[ti];
        double *x = rand_input(t, nelem(bd));
        af_array base = make_from_pairs(x, bd, t), v = NULL, out = NULL;
        af_seq idx[2] = {{1, (double)(2 * n0 - 1), 2}, {1, (double)n1, 1}};
        af_err err = af_index(&v, base, 2, idx);
        if (err != AF_SUCCESS) {
            CHECK(err == AF_ERR_NOT_SUPPORTED);
            af_release_array(base);
            free(x);
            continue;
        }
        dim_t vd[4] = {n0, n1, 1, 1};
        double *ref = malloc(sizeof(double) * 2 * (size_t)(n0 * n1));
        for (dim_t j = 0; j < n1; j++)
            for (dim_t i = 0; i < n0; i++) {
                dim_t s = (1 + 2 * i) + bd[0] * (1 + j);
                ref[2 * (i + n0 * j)] = x[2 * s];
                ref[2 * (i + n0 * j) + 1] = x[2 * s + 1];
            }
        double *vals = malloc(sizeof(double) * 2 * (size_t)(n0 * n1));
        memcpy(vals, ref, sizeof(double) * 2 * (size_t)(n0 * n1));
        ref_dft(ref, vd, 2, -1);
        CHECK_AF(af_fft2(&out, v, 1.0, 0, 0));
        check_cplx(out, ref, vd, (t == f64 || t == c64) ? c64 : c32, (double)(n0 * n1));
        af_release_array(out);
        out = NULL;
        if (t == f32 || t == f64) {
            CHECK_AF(af_fft_r2c(&out, v, 1.0, 0));
            /* The reference's first n0/2+1 rows of the 1-D transform along dim 0. */
            memcpy(ref, vals, sizeof(double) * 2 * (size_t)(n0 * n1));
            ref_dft(ref, vd, 1, -1);
            dim_t hd[4] = {n0 / 2 + 1, n1, 1, 1};
            double *half = malloc(sizeof(double) * 2 * (size_t)(hd[0] * n1));
            for (dim_t j = 0; j < n1; j++)
                for (dim_t i = 0; i < hd[0]; i++) {
                    half[2 * (i + hd[0] * j)] = ref[2 * (i + n0 * j)];
                    half[2 * (i + hd[0] * j) + 1] = ref[2 * (i + n0 * j) + 1];
                }
            check_cplx(out, half, hd, t == f64 ? c64 : c32, (double)n0);
            free(half);
            af_release_array(out);
        }
        af_release_array(v);
        af_release_array(base);
        free(x);
        free(ref);
        free(vals);
    }
}

/* The plan cache: results are the same with no cache, a small one and the default. */
TEST(fft_plan_cache_size) {
    dim_t d[4] = {30, 4, 1, 1};
    for (int round = 0; round < 3; round++) {
        CHECK_AF(af_set_fft_plan_cache_size(round == 0 ? 0 : round == 1 ? 1 : 5));
        run_case(c32, d, 1, true, NULL, 1.0);
        run_case(f64, d, 2, false, NULL, 1.0);
        run_case(c32, d, 1, true, NULL, 1.0);
    }
}

TEST(fft_empty_input) {
    dim_t d[4] = {0, 3, 1, 1};
    af_array e = NULL, out = NULL;
    CHECK_AF(af_create_handle(&e, 2, d, s32));
    /* ArrayFire returns an empty input as it is, whatever its dtype. */
    CHECK_AF(af_fft(&out, e, 1.0, 0));
    af_dtype t;
    CHECK_AF(af_get_type(&t, out));
    CHECK(t == s32);
    af_release_array(out);
    CHECK_AF(af_fft2_inplace(e, 1.0));
    CHECK_AF(af_fft_r2c(&out, e, 1.0, 0));
    af_release_array(out);
    af_release_array(e);
}

TEST(fft_bad_input) {
    dim_t d[4] = {8, 1, 1, 1};
    double x[16] = {0};
    af_array i32 = em_test_make(x, 1, d, s32), r = em_test_make(x, 1, d, f32);
    af_array c = em_test_make(x, 1, d, c32), out = NULL;
    CHECK_ERR(af_fft(&out, i32, 1.0, 0), AF_ERR_TYPE);
    CHECK_ERR(af_fft2(&out, r, 1.0, 0, 0), AF_ERR_SIZE);
    CHECK_ERR(af_fft3(&out, c, 1.0, 0, 0, 0), AF_ERR_SIZE);
    CHECK_ERR(af_fft_inplace(r, 1.0), AF_ERR_TYPE);
    CHECK_ERR(af_fft_r2c(&out, c, 1.0, 0), AF_ERR_TYPE);
    CHECK_ERR(af_fft_c2r(&out, r, 1.0, false), AF_ERR_TYPE);
    CHECK_ERR(af_fft(NULL, c, 1.0, 0), AF_ERR_ARG);
    CHECK_ERR(af_fft(&out, NULL, 1.0, 0), AF_ERR_ARG);
    CHECK(out == NULL);
    af_release_array(i32);
    af_release_array(r);
    af_release_array(c);
}
