/* algorithm.h reductions against plain-C references in double precision: sum, product (and the
 * _nan forms), min, max, all_true, any_true and count, along each dim, over everything (_all,
 * _all_array), for every dtype, with NaN and infinities, on empty, one-element, odd and 4-D
 * shapes, on views and on lazy (fused) inputs; and the errors of bad input.
 *
 * The reference reads the input back as the values the array holds (em_test_read), so the
 * conversions of em_test_make do not matter, and reduces them with ArrayFire's rules: the output
 * dtype of each function, integer arithmetic that wraps in the output's width, NaN ignored by min
 * and max (a NaN result only when every value is NaN), complex min and max by magnitude. Floating
 * sums are compared within a bound proportional to the sum of magnitudes, since the library adds
 * in its own order. */
#include "test.h"

#include <string.h>

typedef enum { K_SUM, K_PROD, K_MIN, K_MAX, K_ALL, K_ANY, K_COUNT } kind;
static const char *const kind_name[] = {"sum",      "product",  "min",  "max",
                                        "all_true", "any_true", "count"};

static bool is_cplx(af_dtype t) {
    return t == c32 || t == c64;
}

static bool is_float(af_dtype t) {
    return t == f32 || t == f64 || t == f16 || is_cplx(t);
}

/* ArrayFire's output dtypes (src/api/c/reduce.cpp). */
static af_dtype out_type(kind k, af_dtype t) {
    switch (k) {
    case K_SUM:
    case K_PROD:
        if (t == u8 || t == u16) return u32;
        if (t == s8 || t == s16) return s32;
        if (t == f16) return f32;
        if (t == b8) return k == K_SUM ? u32 : b8;
        return t;
    case K_MIN:
    case K_MAX:
        return t;
    case K_ALL:
    case K_ANY:
        return b8;
    default:
        return u32;
    }
}

/* Integer width and signedness of an integer dtype (b8: 8 bits, unsigned). */
static int int_bits(af_dtype t) {
    switch (t) {
    case s8:
    case u8:
    case b8:
        return 8;
    case s16:
    case u16:
        return 16;
    case s32:
    case u32:
        return 32;
    default:
        return 64;
    }
}

static bool is_signed(af_dtype t) {
    return t == s8 || t == s16 || t == s32 || t == s64;
}

/* The value of the low `bits` bits of u in dtype t, as a double. */
static double wrap_int(uint64_t u, af_dtype t) {
    int b = int_bits(t);
    if (b < 64) u &= ((uint64_t)1 << b) - 1;
    if (is_signed(t) && b < 64 && (u >> (b - 1)) & 1)
        return (double)(int64_t)(u - ((uint64_t)1 << b));
    if (is_signed(t)) return (double)(int64_t)u;
    return (double)u;
}

static uint64_t as_u64(double v) {
    return v < 0 ? (uint64_t)(int64_t)v : (uint64_t)v;
}

/* The magnitude the library compares complex values by: hypot in the part type. */
static double cmag(af_dtype t, double re, double im) {
    return t == c32 ? (double)hypotf((float)re, (float)im) : hypot(re, im);
}

/* Whether complex value (xr, xi) orders before (ar, ai) for min (dir < 0) or max (dir > 0):
 * magnitude, then real part, then imaginary part. */
static bool cbefore(af_dtype t, int dir, double xr, double xi, double ar, double ai) {
    double mx = cmag(t, xr, xi), ma = cmag(t, ar, ai);
    if (mx != ma) return dir < 0 ? mx < ma : mx > ma;
    if (xr != ar) return dir < 0 ? xr < ar : xr > ar;
    return dir < 0 ? xi < ai : xi > ai;
}

/* One reduction of the n values v[0], v[s], v[2s]... (complex: pairs) of input dtype t into
 * res[0] (and res[1] for a complex output); *mag receives the sum of magnitudes of the terms (the
 * scale of a floating sum's rounding error). */
static void ref_one(kind k, af_dtype t, const double *v, dim_t n, dim_t s, bool nan, double nanval,
                    double *res, double *mag) {
    af_dtype ot = out_type(k, t);
    bool c = is_cplx(t);
    int w = c ? 2 : 1;
    double re = 0, im = 0;
    *mag = 0;
    if (k == K_MIN || k == K_MAX) {
        bool have = false;
        for (dim_t j = 0; j < n; j++) {
            const double *x = v + j * s * w;
            if (isnan(x[0]) || (c && isnan(x[1]))) continue;
            bool take;
            if (!have)
                take = true;
            else if (c)
                take = cbefore(t, k == K_MIN ? -1 : 1, x[0], x[1], re, im);
            else
                take = k == K_MIN ? x[0] < re : x[0] > re;
            if (take) re = x[0], im = c ? x[1] : 0, have = true;
        }
        if (!have) re = NAN, im = c ? NAN : 0;
        res[0] = re;
        if (c) res[1] = im;
        return;
    }
    if (k == K_ALL || k == K_ANY || k == K_COUNT || (t == b8 && (k == K_SUM || k == K_PROD))) {
        uint64_t cnt = 0;
        for (dim_t j = 0; j < n; j++) {
            const double *x = v + j * s * w;
            cnt += x[0] != 0 || (c && x[1] != 0);
        }
        if (k == K_ALL || k == K_PROD)
            res[0] = cnt == (uint64_t)n;
        else if (k == K_ANY)
            res[0] = cnt > 0;
        else
            res[0] = wrap_int(cnt, u32);
        return;
    }
    bool sum = k == K_SUM;
    if (is_float(ot)) {
        re = sum ? 0 : 1, im = 0;
        for (dim_t j = 0; j < n; j++) {
            const double *x = v + j * s * w;
            double xr = x[0], xi = c ? x[1] : 0;
            if (nan && (isnan(xr) || isnan(xi))) xr = nanval, xi = 0;
            if (sum) {
                re += xr, im += xi;
            } else if (c) {
                double r = re * xr - im * xi;
                im = re * xi + im * xr;
                re = r;
            } else {
                re *= xr;
            }
            *mag += (isfinite(xr) ? fabs(xr) : 0) + (isfinite(xi) ? fabs(xi) : 0);
        }
        res[0] = re;
        if (c) res[1] = im;
        return;
    }
    uint64_t acc = sum ? 0 : 1;
    for (dim_t j = 0; j < n; j++) {
        uint64_t x = as_u64(v[j * s]);
        acc = sum ? acc + x : acc * x;
    }
    res[0] = wrap_int(acc, ot);
}

/* The reference of a reduction along dim (-1: all) of x (dims d, dtype t). Returns the output
 * values (pairs for a complex output) and per-output magnitudes in mag. */
static double *ref_reduce(kind k, af_dtype t, const double *x, const dim_t d[4], int dim, bool nan,
                          double nanval, double **mag_out, dim_t *nout) {
    dim_t inner = 1, len, outer = 1;
    if (dim < 0) {
        len = d[0] * d[1] * d[2] * d[3];
    } else {
        for (int i = 0; i < dim; i++)
            inner *= d[i];
        for (int i = dim + 1; i < 4; i++)
            outer *= d[i];
        len = d[dim];
    }
    int w = is_cplx(t) ? 2 : 1, ow = is_cplx(out_type(k, t)) ? 2 : 1;
    double *res = calloc((size_t)(inner * outer) * 2 + 2, sizeof(double));
    double *mag = calloc((size_t)(inner * outer) + 1, sizeof(double));
    for (dim_t o = 0; o < outer; o++)
        for (dim_t i = 0; i < inner; i++) {
            dim_t e = i + inner * o;
            ref_one(k, t, x + (size_t)((i + inner * len * o) * w), len, inner, nan, nanval,
                    res + e * ow, &mag[e]);
        }
    *mag_out = mag;
    *nout = inner * outer;
    return res;
}

/* Unit roundoff of the accumulation of output dtype ot. */
static double eps_of(af_dtype ot) {
    return (ot == f64 || ot == c64) ? 0x1p-52 : 0x1p-23;
}

/* Compares a reduction's output with the reference: exact for integers, min and max; floating
 * sums and products within a bound that grows with the number of terms. */
static void check_values(const char *what, kind k, af_dtype ot, const double *got,
                         const double *ref, const double *mag, dim_t nout, dim_t len) {
    int w = is_cplx(ot) ? 2 : 1;
    int bad = 0;
    for (dim_t e = 0; e < nout * w; e++) {
        double g = got[e], r = ref[e];
        bool ok;
        /* A complex product that meets an infinity is inf or NaN depending on the order of the
         * multiplications (inf * 0 in one part), and the backends multiply in different orders
         * (a tree of partial products on CUDA): any non-finite part is accepted there. */
        bool cplx_inf =
            w == 2 && k == K_PROD && (!isfinite(ref[e & ~(dim_t)1]) || !isfinite(ref[e | 1]));
        if (g == r)
            ok = true;
        else if (cplx_inf)
            ok = !isfinite(g);
        else if (isnan(r))
            ok = isnan(g);
        else if (isinf(r))
            ok = g == r;
        else if (!is_float(ot) || k == K_MIN || k == K_MAX)
            ok = g == r;
        else {
            /* A complex product's error scales with its magnitude (magnitudes multiply). */
            double scale = w == 2 ? fabs(ref[e & ~(dim_t)1]) + fabs(ref[e | 1]) : fabs(r);
            double tol =
                4 * eps_of(ot) * (double)(len + 2) * (k == K_SUM ? mag[e / w] : scale + 1e-30);
            ok = fabs(g - r) <= tol + 1e-300;
        }
        if (!ok && bad++ < 4)
            em_test_fail(__FILE__, __LINE__, "%s: output %lld: got %.17g, expected %.17g", what,
                         (long long)e, g, r);
    }
}

static void check_dims_type(const char *what, af_array a, af_dtype type, const dim_t d[4]) {
    dim_t g[4];
    af_dtype t;
    CHECK_AF(af_get_dims(&g[0], &g[1], &g[2], &g[3], a));
    CHECK_AF(af_get_type(&t, a));
    if (t != type)
        em_test_fail(__FILE__, __LINE__, "%s: dtype %s, expected %s", what, em_test_dtype_name(t),
                     em_test_dtype_name(type));
    for (int i = 0; i < 4; i++)
        if (g[i] != d[i])
            em_test_fail(__FILE__, __LINE__, "%s: dims[%d] = %lld, expected %lld", what, i,
                         (long long)g[i], (long long)d[i]);
}

/* Random input of dtype t and dims d: values in [lo, hi), with NaN, infinities and zeros placed
 * at random positions when `specials`. Returns the array; *vals receives the values it holds. */
/* Scale of imaginary parts: complex products keep |z| near 1 with small imaginary parts, so long
 * products neither overflow nor vanish. */
static double im_scale = 1;

static af_array make_input(af_dtype t, const dim_t d[4], double lo, double hi, bool specials,
                           double **vals) {
    size_t n = (size_t)(d[0] * d[1] * d[2] * d[3]), m = n * (is_cplx(t) ? 2 : 1);
    double *x = malloc(sizeof(double) * (m + 1));
    em_test_fill(x, m, lo, hi, false);
    if (is_cplx(t))
        for (size_t i = 1; i < m; i += 2)
            x[i] *= im_scale;
    if (specials && m > 0) {
        static const double sp[] = {NAN, INFINITY, -INFINITY, 0.0, -0.0, NAN};
        for (size_t i = 0; i < sizeof(sp) / sizeof(sp[0]) && i < m / 3 + 1; i++)
            x[em_test_rand_u64() % m] = sp[i];
    }
    af_array a = em_test_make(x, 4, d, t);
    free(x);
    *vals = a ? em_test_read(a, NULL) : NULL;
    return a;
}

typedef af_err (*dim_fn)(af_array *, const af_array, const int);

static dim_fn dim_fn_of(kind k) {
    switch (k) {
    case K_SUM:
        return af_sum;
    case K_PROD:
        return af_product;
    case K_MIN:
        return af_min;
    case K_MAX:
        return af_max;
    case K_ALL:
        return af_all_true;
    case K_ANY:
        return af_any_true;
    default:
        return af_count;
    }
}

/* Runs kind k along dim (-1: the first non-singleton dim) on `a` (values x) and checks it. */
static void check_dim(kind k, af_array a, af_dtype t, const double *x, const dim_t d[4], int dim,
                      bool nan, double nanval) {
    char what[160];
    int rdim = dim;
    if (dim == -1) {
        rdim = 0;
        while (rdim < 3 && d[rdim] == 1)
            rdim++;
        if (d[rdim] == 1) rdim = 0;
    }
    snprintf(what, sizeof(what), "%s%s(%s [%lld %lld %lld %lld], dim %d)", kind_name[k],
             nan ? "_nan" : "", em_test_dtype_name(t), (long long)d[0], (long long)d[1],
             (long long)d[2], (long long)d[3], dim);
    af_array out = 0;
    if (nan) {
        if (k == K_SUM)
            CHECK_AF(af_sum_nan(&out, a, dim, nanval));
        else
            CHECK_AF(af_product_nan(&out, a, dim, nanval));
    } else {
        CHECK_AF(dim_fn_of(k)(&out, a, dim));
    }
    if (!out) return;
    dim_t od[4] = {d[0], d[1], d[2], d[3]};
    od[rdim] = 1;
    af_dtype ot = out_type(k, t);
    check_dims_type(what, out, ot, od);
    double *mag;
    dim_t nout;
    double *ref = ref_reduce(k, t, x, d, rdim, nan, nanval, &mag, &nout);
    double *got = em_test_read(out, NULL);
    if (got) check_values(what, k, ot, got, ref, mag, nout, d[rdim]);
    free(got);
    free(ref);
    free(mag);
    af_release_array(out);
}

typedef af_err (*all_fn)(double *, double *, const af_array);

static all_fn all_fn_of(kind k) {
    switch (k) {
    case K_SUM:
        return af_sum_all;
    case K_PROD:
        return af_product_all;
    case K_MIN:
        return af_min_all;
    case K_MAX:
        return af_max_all;
    case K_ALL:
        return af_all_true_all;
    case K_ANY:
        return af_any_true_all;
    default:
        return af_count_all;
    }
}

typedef af_err (*all_array_fn)(af_array *, const af_array);

static all_array_fn all_array_fn_of(kind k) {
    switch (k) {
    case K_SUM:
        return af_sum_all_array;
    case K_PROD:
        return af_product_all_array;
    case K_MIN:
        return af_min_all_array;
    case K_MAX:
        return af_max_all_array;
    case K_ALL:
        return af_all_true_all_array;
    case K_ANY:
        return af_any_true_all_array;
    default:
        return af_count_all_array;
    }
}

/* The _all form (host values) and the _all_array form (a one-element array) of kind k. */
static void check_all(kind k, af_array a, af_dtype t, const double *x, const dim_t d[4], bool nan,
                      double nanval) {
    char what[160];
    snprintf(what, sizeof(what), "%s%s_all(%s [%lld %lld %lld %lld])", kind_name[k],
             nan ? "_nan" : "", em_test_dtype_name(t), (long long)d[0], (long long)d[1],
             (long long)d[2], (long long)d[3]);
    double *mag;
    dim_t nout, n = d[0] * d[1] * d[2] * d[3];
    double *ref = ref_reduce(k, t, x, d, -1, nan, nanval, &mag, &nout);
    af_dtype ot = out_type(k, t);
    double got[2] = {-7, -7};
    if (nan) {
        if (k == K_SUM)
            CHECK_AF(af_sum_nan_all(&got[0], &got[1], a, nanval));
        else
            CHECK_AF(af_product_nan_all(&got[0], &got[1], a, nanval));
    } else {
        CHECK_AF(all_fn_of(k)(&got[0], &got[1], a));
    }
    if (!is_cplx(ot)) CHECK(got[1] == 0);
    check_values(what, k, ot, got, ref, mag, 1, n);
    af_array out = 0;
    if (nan) {
        if (k == K_SUM)
            CHECK_AF(af_sum_nan_all_array(&out, a, nanval));
        else
            CHECK_AF(af_product_nan_all_array(&out, a, nanval));
    } else {
        CHECK_AF(all_array_fn_of(k)(&out, a));
    }
    if (out) {
        const dim_t one[4] = {1, 1, 1, 1};
        check_dims_type(what, out, ot, one);
        double *g = em_test_read(out, NULL);
        if (g) check_values(what, k, ot, g, ref, mag, 1, n);
        free(g);
        af_release_array(out);
    }
    free(ref);
    free(mag);
}

static const dim_t shapes[][4] = {
    {1, 1, 1, 1}, {7, 1, 1, 1}, {1, 9, 1, 1}, {5, 3, 1, 1},    {3, 4, 5, 1},
    {2, 3, 2, 3}, {3, 1, 2, 1}, {1, 1, 1, 6}, {1037, 3, 1, 1}, {3, 1100, 2, 1},
};
#define NSHAPES ((int)(sizeof(shapes) / sizeof(shapes[0])))

/* Value ranges per kind: products stay near 1 so that they neither overflow nor vanish; the
 * logical kinds see many zeros. */
static void range_of(kind k, af_dtype t, double *lo, double *hi) {
    *lo = -100, *hi = 100;
    if (k == K_PROD) *lo = is_float(t) ? 0.9 : -3, *hi = is_float(t) ? 1.1 : 4;
    if (k == K_ALL || k == K_ANY || k == K_COUNT) *lo = -1.2, *hi = 1.2;
    if (t == b8) *lo = -0.7, *hi = 1.4;
}

/* Every dtype, shape and dim (and -1) of kind k, along dims and over everything. */
static void check_kind(kind k, bool nan) {
    for (int ti = 0; ti < EM_TEST_NUM_DTYPES; ti++) {
        af_dtype t = em_test_dtypes[ti];
        if (nan && !is_float(t)) continue;
        for (int si = 0; si < NSHAPES; si++) {
            double lo, hi, *x = NULL;
            range_of(k, t, &lo, &hi);
            /* Long products of floats are compared without specials: inf * 0 and the like are
             * NaN either way, but the rest would just be noise. */
            bool specials = is_float(t) && si % 2 == 1;
            im_scale = k == K_PROD ? 0.1 : 1;
            af_array a = make_input(t, shapes[si], lo, hi, specials, &x);
            im_scale = 1;
            if (!a || !x) {
                free(x);
                continue;
            }
            for (int dim = -1; dim < 4; dim++)
                check_dim(k, a, t, x, shapes[si], dim, nan, 2.5);
            check_all(k, a, t, x, shapes[si], nan, 2.5);
            free(x);
            af_release_array(a);
        }
    }
}

TEST(reduce_sum_every_dtype) {
    check_kind(K_SUM, false);
}

TEST(reduce_sum_nan) {
    check_kind(K_SUM, true);
}

/* Sums long enough to run in parallel and in chunks, along each dim. */
TEST(reduce_sum_large) {
    const dim_t ds[][4] = {
        {300007, 1, 1, 1}, {1500, 301, 1, 1}, {3, 100003, 1, 1}, {2049, 2, 3, 17}};
    const af_dtype ts[] = {f32, f64, s32, c32, u8, f16};
    for (int ti = 0; ti < 6; ti++)
        for (int si = 0; si < 4; si++) {
            double *x;
            af_array a = make_input(ts[ti], ds[si], -4, 4, ti == 0, &x);
            if (!a || !x) continue;
            for (int dim = 0; dim < 4; dim++)
                check_dim(K_SUM, a, ts[ti], x, ds[si], dim, false, 0);
            check_all(K_SUM, a, ts[ti], x, ds[si], false, 0);
            free(x);
            af_release_array(a);
        }
}

/* sum(a * b + c) on lazy inputs: the value is right and nothing but the output is allocated
 * (no buffer for a * b + c). */
TEST(reduce_sum_fused_lazy) {
    const dim_t n = 1 << 20;
    const dim_t d[4] = {n, 1, 1, 1};
    double *xa, *xb, *xc;
    af_array a = make_input(f32, d, -1, 1, false, &xa);
    af_array b = make_input(f32, d, -1, 1, false, &xb);
    af_array c = make_input(f32, d, -1, 1, false, &xc);
    af_array ab = 0, abc = 0;
    CHECK_AF(af_mul(&ab, a, b, false));
    CHECK_AF(af_add(&abc, ab, c, false));
    size_t b0, n0, l0, ln0, b1, n1, l1, ln1;
    CHECK_AF(af_device_mem_info(&b0, &n0, &l0, &ln0));
    double re = 0, im = 0;
    CHECK_AF(af_sum_all(&re, &im, abc));
    CHECK_AF(af_device_mem_info(&b1, &n1, &l1, &ln1));
    /* The output and a few partials at most: far below the n * 4 bytes of a * b + c. */
    CHECK(b1 - b0 < (size_t)n);
    double ref = 0, mag = 0;
    for (dim_t i = 0; i < n; i++) {
        double v = (double)((float)((float)xa[i] * (float)xb[i]) + (float)xc[i]);
        ref += v;
        mag += fabs(v);
    }
    if (!(fabs(re - ref) <= 1e-5 * mag)) em_test_fail(__FILE__, __LINE__, "%.9g vs %.9g", re, ref);
    /* The lazy array is still lazy and still right when evaluated afterwards. */
    double *v = em_test_read(abc, NULL);
    if (v)
        CHECK(v[12345] ==
              (double)((float)((float)xa[12345] * (float)xb[12345]) + (float)xc[12345]));
    free(v);
    /* Along a dim, on a 2-D view of the same expression. */
    af_array abc2 = 0, s0 = 0;
    const dim_t d2[2] = {1024, 1024};
    CHECK_AF(af_moddims(&abc2, abc, 2, d2));
    CHECK_AF(af_sum(&s0, abc2, 1));
    if (s0) {
        double *g = em_test_read(s0, NULL);
        if (g)
            for (dim_t i = 0; i < 1024; i += 97) {
                double r = 0, m = 0;
                for (dim_t j = 0; j < 1024; j++) {
                    dim_t e = i + 1024 * j;
                    double val = (double)((float)((float)xa[e] * (float)xb[e]) + (float)xc[e]);
                    r += val, m += fabs(val);
                }
                if (!(fabs(g[i] - r) <= 1e-5 * m + 1e-6))
                    em_test_fail(__FILE__, __LINE__, "row %lld: %.9g vs %.9g", (long long)i, g[i],
                                 r);
            }
        free(g);
    }
    af_release_array(s0);
    af_release_array(abc2);
    af_release_array(abc);
    af_release_array(ab);
    af_release_array(a);
    af_release_array(b);
    af_release_array(c);
    free(xa);
    free(xb);
    free(xc);
}

/* A strided view as input: rows 1..end step 2 and columns 1..3 of a 9 x 5 x 2 array. */
TEST(reduce_sum_view) {
    const dim_t d[4] = {9, 5, 2, 1};
    double *x;
    af_array p = make_input(f64, d, -10, 10, false, &x);
    af_seq s[3] = {{1, 8, 2}, {1, 3, 1}, {0, 1, 1}};
    af_array v = em_test_index_or_skip(p, 3, s);
    const dim_t vd[4] = {4, 3, 2, 1};
    double vx[24];
    for (int k = 0; k < 2; k++)
        for (int j = 0; j < 3; j++)
            for (int i = 0; i < 4; i++)
                vx[i + 4 * (j + 3 * k)] = x[(1 + 2 * i) + 9 * ((1 + j) + 5 * k)];
    for (int dim = -1; dim < 4; dim++)
        check_dim(K_SUM, v, f64, vx, vd, dim, false, 0);
    check_all(K_SUM, v, f64, vx, vd, false, 0);
    af_release_array(v);
    af_release_array(p);
    free(x);
}

/* Empty inputs: along a dim an empty array of the output dtype with the input's dims; _all the
 * identity. */
TEST(reduce_sum_empty) {
    const dim_t d[4] = {0, 3, 1, 1};
    af_array a = 0, out = 0;
    CHECK_AF(af_create_handle(&a, 2, d, u8));
    CHECK_AF(af_sum(&out, a, 0));
    if (out) check_dims_type("sum(empty)", out, u32, d);
    af_release_array(out);
    double re = -1, im = -1;
    CHECK_AF(af_sum_all(&re, &im, a));
    CHECK(re == 0 && im == 0);
    CHECK_AF(af_product_all(&re, &im, a));
    CHECK(re == 1 && im == 0);
    out = 0;
    CHECK_AF(af_sum_all_array(&out, a));
    if (out) {
        const dim_t one[4] = {1, 1, 1, 1};
        check_dims_type("sum_all_array(empty)", out, u32, one);
        double *g = em_test_read(out, NULL);
        if (g) CHECK(g[0] == 0);
        free(g);
    }
    af_release_array(out);
    af_release_array(a);
}

TEST(reduce_sum_errors) {
    const dim_t d[4] = {4, 3, 1, 1};
    af_array a = 0, z = 0, out = 0;
    CHECK_AF(af_constant(&a, 1, 2, d, f32));
    CHECK_AF(af_constant_complex(&z, 1, 2, 2, d, c32));
    CHECK_ERR(af_sum(&out, a, 4), AF_ERR_ARG);
    CHECK_ERR(af_sum(&out, a, -2), AF_ERR_ARG);
    CHECK_ERR(af_sum(NULL, a, 0), AF_ERR_ARG);
    CHECK_ERR(af_sum(&out, NULL, 0), AF_ERR_ARG);
    CHECK_ERR(af_sum_nan(&out, a, 7, 0), AF_ERR_ARG);
    double re, im;
    CHECK_ERR(af_sum_all(NULL, &im, a), AF_ERR_ARG);
    CHECK_ERR(af_sum_all(&re, NULL, z), AF_ERR_ARG);
    /* A real input needs no imaginary output. */
    CHECK_AF(af_sum_all(&re, NULL, a));
    CHECK(re == 12);
    CHECK_AF(af_sum_all(&re, &im, z));
    CHECK(re == 12 && im == 24);
    af_array rel = 0;
    CHECK_AF(af_constant(&rel, 1, 2, d, f32));
    af_release_array(rel);
    CHECK_ERR(af_sum(&out, rel, 0), AF_ERR_INVALID_ARRAY);
    CHECK(out == 0);
    af_release_array(a);
    af_release_array(z);
}

TEST(reduce_product_every_dtype) {
    check_kind(K_PROD, false);
}

TEST(reduce_product_nan) {
    check_kind(K_PROD, true);
}

TEST(reduce_min_every_dtype) {
    check_kind(K_MIN, false);
}

TEST(reduce_max_every_dtype) {
    check_kind(K_MAX, false);
}

TEST(reduce_all_true_every_dtype) {
    check_kind(K_ALL, false);
}

TEST(reduce_any_true_every_dtype) {
    check_kind(K_ANY, false);
}

TEST(reduce_count_every_dtype) {
    check_kind(K_COUNT, false);
}

/* NaN rules of min and max: NaN values are ignored, a NaN result only where every value is NaN;
 * complex values with a NaN part are ignored and the rest compare by magnitude (ArrayFire's
 * MinCplxNaN / MaxCplxNaN cases). count, all_true and any_true take NaN as true. */
TEST(reduce_minmax_nan) {
    const double v[] = {NAN, 3, -2, NAN, NAN, NAN, NAN, NAN};
    const dim_t d[4] = {4, 2, 1, 1};
    af_array a = em_test_make(v, 2, d, f32), mn = 0, mx = 0;
    CHECK_AF(af_min(&mn, a, 0));
    CHECK_AF(af_max(&mx, a, 0));
    double *gmn = mn ? em_test_read(mn, NULL) : NULL, *gmx = mx ? em_test_read(mx, NULL) : NULL;
    if (gmn) CHECK(gmn[0] == -2 && isnan(gmn[1]));
    if (gmx) CHECK(gmx[0] == 3 && isnan(gmx[1]));
    free(gmn);
    free(gmx);
    double re = 0, im = 0;
    CHECK_AF(af_min_all(&re, &im, a));
    CHECK(re == -2);
    CHECK_AF(af_max_all(&re, &im, a));
    CHECK(re == 3);
    CHECK_AF(af_count_all(&re, &im, a));
    CHECK(re == 8);
    CHECK_AF(af_all_true_all(&re, &im, a));
    CHECK(re == 1);
    af_release_array(mn);
    af_release_array(mx);
    af_release_array(a);

    const double cre[] = {0.005, NAN, -6.3, NAN, -0.5, NAN, NAN, 0.2, -1205.4, 8.9};
    const double cim[] = {NAN, NAN, -9.0, -0.005, -0.3, 0.007, NAN, 0.1, NAN, 4.5};
    double cx[20];
    for (int i = 0; i < 10; i++)
        cx[2 * i] = cre[i], cx[2 * i + 1] = cim[i];
    const dim_t cd[4] = {5, 2, 1, 1};
    af_array z = em_test_make(cx, 2, cd, c32);
    mn = mx = 0;
    CHECK_AF(af_min(&mn, z, 0));
    CHECK_AF(af_max(&mx, z, 0));
    gmn = mn ? em_test_read(mn, NULL) : NULL;
    gmx = mx ? em_test_read(mx, NULL) : NULL;
    if (gmn)
        CHECK(gmn[0] == (double)-0.5f && gmn[1] == (double)-0.3f && gmn[2] == (double)0.2f &&
              gmn[3] == (double)0.1f);
    if (gmx)
        CHECK(gmx[0] == (double)-6.3f && gmx[1] == (double)-9.0f && gmx[2] == (double)8.9f &&
              gmx[3] == (double)4.5f);
    free(gmn);
    free(gmx);
    af_release_array(mn);
    af_release_array(mx);
    af_release_array(z);
}

/* min and max of empty arrays have no value; along a dim the output is empty. */
TEST(reduce_minmax_empty) {
    const dim_t d[4] = {3, 0, 1, 1};
    af_array a = 0, out = 0;
    CHECK_AF(af_create_handle(&a, 2, d, f32));
    double re, im;
    CHECK_ERR(af_min_all(&re, &im, a), AF_ERR_ARG);
    CHECK_ERR(af_max_all(&re, &im, a), AF_ERR_ARG);
    CHECK_ERR(af_max_all_array(&out, a), AF_ERR_ARG);
    CHECK_AF(af_max(&out, a, 1));
    if (out) check_dims_type("max(empty)", out, f32, d);
    af_release_array(out);
    out = 0;
    CHECK_AF(af_count(&out, a, 0));
    if (out) check_dims_type("count(empty)", out, u32, d);
    af_release_array(out);
    CHECK_AF(af_all_true_all(&re, &im, a));
    CHECK(re == 1);
    CHECK_AF(af_any_true_all(&re, &im, a));
    CHECK(re == 0);
    CHECK_AF(af_count_all(&re, &im, a));
    CHECK(re == 0);
    af_release_array(a);
}

/* Every kind on a lazy input (a comparison feeding count, as count(a > 0.5)) and on views. */
TEST(reduce_kinds_fused_and_views) {
    const dim_t d[4] = {33, 17, 3, 1};
    double *x;
    af_array a = make_input(f32, d, -1, 1, true, &x);
    af_array half = 0, gt = 0;
    CHECK_AF(af_constant(&half, 0.5, 4, d, f32));
    CHECK_AF(af_gt(&gt, a, half, false));
    size_t n = 33 * 17 * 3;
    double *xb = malloc(sizeof(double) * n);
    for (size_t i = 0; i < n; i++)
        xb[i] = x[i] > 0.5;
    for (int k = K_SUM; k <= K_COUNT; k++) {
        for (int dim = -1; dim < 4; dim++)
            check_dim((kind)k, gt, b8, xb, d, dim, false, 0);
        check_all((kind)k, gt, b8, xb, d, false, 0);
    }
    af_seq s[3] = {{2, 30, 3}, {16, 0, -2}, {1, 2, 1}};
    af_array v = em_test_index_or_skip(a, 3, s);
    const dim_t vd[4] = {10, 9, 2, 1};
    double *vx = malloc(sizeof(double) * 180);
    for (int k = 0; k < 2; k++)
        for (int j = 0; j < 9; j++)
            for (int i = 0; i < 10; i++)
                vx[i + 10 * (j + 9 * k)] = x[(2 + 3 * i) + 33 * ((16 - 2 * j) + 17 * (1 + k))];
    for (int k = K_SUM; k <= K_COUNT; k++) {
        for (int dim = -1; dim < 4; dim++)
            check_dim((kind)k, v, f32, vx, vd, dim, false, 0);
        check_all((kind)k, v, f32, vx, vd, false, 0);
    }
    af_release_array(v);
    af_release_array(gt);
    af_release_array(half);
    af_release_array(a);
    free(vx);
    free(xb);
    free(x);
}

/* ---- imin, imax, max_ragged ---- */

/* The reference of imin / imax (dir -1 / 1) of the n values v[0], v[s], ... (complex: pairs), the
 * first n' = min(n, lim) of them: value (pair) and index. Every value NaN: NaN and 0. */
static void ref_ione(int dir, af_dtype t, const double *v, dim_t n, dim_t s, double *val,
                     double *idx) {
    bool c = is_cplx(t);
    int w = c ? 2 : 1;
    dim_t best = -1;
    for (dim_t j = 0; j < n; j++) {
        const double *x = v + j * s * w;
        if (isnan(x[0]) || (c && isnan(x[1]))) continue;
        if (best < 0) {
            best = j;
            continue;
        }
        const double *a = v + best * s * w;
        double mx = c ? cmag(t, x[0], x[1]) : x[0], ma = c ? cmag(t, a[0], a[1]) : a[0];
        if (dir < 0 ? mx < ma : mx > ma) best = j;
    }
    if (best < 0) {
        val[0] = NAN;
        if (c) val[1] = NAN;
        *idx = 0;
        return;
    }
    val[0] = v[best * s * w];
    if (c) val[1] = v[best * s * w + 1];
    *idx = (double)best;
}

/* imin or imax along dim (-1: the _all form) of x, limited by rl (NULL, or one count per output:
 * af_max_ragged), checked against ref_ione. */
static void check_ired(int dir, af_array a, af_dtype t, const double *x, const dim_t d[4], int dim,
                       af_array ragged, const double *rl) {
    char what[160];
    snprintf(what, sizeof(what), "%s%s(%s [%lld %lld %lld %lld], dim %d)",
             ragged    ? "max_ragged"
             : dir < 0 ? "imin"
                       : "imax",
             dim < 0 ? "_all" : "", em_test_dtype_name(t), (long long)d[0], (long long)d[1],
             (long long)d[2], (long long)d[3], dim);
    int w = is_cplx(t) ? 2 : 1;
    if (dim < 0) {
        double re = -7, im = -7, rv[2], ri;
        unsigned idx = 12345;
        dim_t n = d[0] * d[1] * d[2] * d[3];
        if (dir < 0)
            CHECK_AF(af_imin_all(&re, &im, &idx, a));
        else
            CHECK_AF(af_imax_all(&re, &im, &idx, a));
        ref_ione(dir, t, x, n, 1, rv, &ri);
        double got[3] = {re, im, (double)idx}, ref[3] = {rv[0], w == 2 ? rv[1] : 0, ri};
        for (int k = 0; k < 3; k++)
            if (!(got[k] == ref[k] || (isnan(got[k]) && isnan(ref[k]))))
                em_test_fail(__FILE__, __LINE__, "%s: part %d: got %.17g, expected %.17g", what, k,
                             got[k], ref[k]);
        return;
    }
    af_array val = 0, idx = 0;
    if (ragged)
        CHECK_AF(af_max_ragged(&val, &idx, a, ragged, dim));
    else if (dir < 0)
        CHECK_AF(af_imin(&val, &idx, a, dim));
    else
        CHECK_AF(af_imax(&val, &idx, a, dim));
    if (!val || !idx) return;
    dim_t od[4] = {d[0], d[1], d[2], d[3]};
    od[dim] = 1;
    check_dims_type(what, val, t, od);
    check_dims_type(what, idx, u32, od);
    double *gv = em_test_read(val, NULL), *gi = em_test_read(idx, NULL);
    dim_t inner = 1, outer = 1, len = d[dim];
    for (int i = 0; i < dim; i++)
        inner *= d[i];
    for (int i = dim + 1; i < 4; i++)
        outer *= d[i];
    int bad = 0;
    for (dim_t o = 0; o < outer && gv && gi; o++)
        for (dim_t i = 0; i < inner; i++) {
            dim_t e = i + inner * o, n = len;
            if (rl && rl[e] < (double)n) n = (dim_t)rl[e];
            double rv[2], ri;
            ref_ione(dir, t, x + (size_t)((i + inner * len * o) * w), n, inner, rv, &ri);
            if (n == 0) continue; /* the identity: checked separately */
            bool ok = gi[e] == ri;
            for (int k = 0; k < w; k++)
                ok = ok && (gv[e * w + k] == rv[k] || (isnan(gv[e * w + k]) && isnan(rv[k])));
            if (!ok && bad++ < 4)
                em_test_fail(__FILE__, __LINE__,
                             "%s: output %lld: got %.17g @%g, expected %.17g @%g", what,
                             (long long)e, gv[e * w], gi[e], rv[0], ri);
        }
    free(gv);
    free(gi);
    af_release_array(val);
    af_release_array(idx);
}

TEST(reduce_imin_imax_every_dtype) {
    for (int ti = 0; ti < EM_TEST_NUM_DTYPES; ti++) {
        af_dtype t = em_test_dtypes[ti];
        for (int si = 0; si < NSHAPES; si++) {
            double *x = NULL;
            /* Few distinct values, so that ties are common and the first index must win. */
            double lo = t == b8 ? -0.7 : -4, hi = t == b8 ? 1.4 : 4;
            af_array a = make_input(t, shapes[si], lo, hi, is_float(t) && si % 2, &x);
            if (!a || !x) {
                free(x);
                continue;
            }
            if (is_float(t) && t != f16) {
                /* Round to a few values, as for the integers (complex: both parts). */
                size_t m = (size_t)(shapes[si][0] * shapes[si][1] * shapes[si][2] * shapes[si][3]) *
                           (is_cplx(t) ? 2 : 1);
                for (size_t i = 0; i < m; i++)
                    if (isfinite(x[i])) x[i] = round(x[i]);
                af_release_array(a);
                a = em_test_make(x, 4, shapes[si], t);
                free(x);
                x = em_test_read(a, NULL);
            }
            for (int dir = -1; dir <= 1; dir += 2) {
                for (int dim = 0; dim < 4; dim++)
                    check_ired(dir, a, t, x, shapes[si], dim, 0, NULL);
                check_ired(dir, a, t, x, shapes[si], -1, 0, NULL);
            }
            free(x);
            af_release_array(a);
        }
    }
}

/* Long inputs (parallel and chunked paths) and lazy inputs. */
TEST(reduce_imin_imax_large_and_fused) {
    /* The last has rows too long to accumulate whole along dim 1: the CPU cuts them into tiles. */
    const dim_t ds[][4] = {
        {200003, 1, 1, 1}, {1500, 301, 1, 1}, {3, 70001, 1, 1}, {17000, 3, 1, 1}};
    for (int si = 0; si < 4; si++) {
        double *x;
        af_array a = make_input(f32, ds[si], -1000, 1000, true, &x);
        if (!a || !x) continue;
        for (int dir = -1; dir <= 1; dir += 2) {
            for (int dim = 0; dim < 2; dim++)
                check_ired(dir, a, f32, x, ds[si], dim, 0, NULL);
            check_ired(dir, a, f32, x, ds[si], -1, 0, NULL);
        }
        /* a * -1, lazily. */
        af_array m1 = 0, na = 0;
        CHECK_AF(af_constant(&m1, -1, 4, ds[si], f32));
        CHECK_AF(af_mul(&na, a, m1, false));
        size_t n = (size_t)(ds[si][0] * ds[si][1]);
        double *xn = malloc(sizeof(double) * n);
        for (size_t i = 0; i < n; i++)
            xn[i] = -x[i];
        for (int dir = -1; dir <= 1; dir += 2) {
            check_ired(dir, na, f32, xn, ds[si], 1, 0, NULL);
            check_ired(dir, na, f32, xn, ds[si], -1, 0, NULL);
        }
        free(xn);
        af_release_array(na);
        af_release_array(m1);
        free(x);
        af_release_array(a);
    }
}

TEST(reduce_imin_imax_nan_and_ties) {
    const double v[] = {NAN, 2, 1, 1, NAN, NAN, NAN, NAN, 5, 5, 3, 5};
    const dim_t d[4] = {4, 3, 1, 1};
    af_array a = em_test_make(v, 2, d, f64), val = 0, idx = 0;
    CHECK_AF(af_imin(&val, &idx, a, 0));
    double *gv = val ? em_test_read(val, NULL) : NULL, *gi = idx ? em_test_read(idx, NULL) : NULL;
    if (gv && gi)
        CHECK(gv[0] == 1 && gi[0] == 2 && isnan(gv[1]) && gi[1] == 0 && gv[2] == 3 && gi[2] == 2);
    free(gv);
    free(gi);
    af_release_array(val);
    af_release_array(idx);
    CHECK_AF(af_imax(&val, &idx, a, 0));
    gv = val ? em_test_read(val, NULL) : NULL;
    gi = idx ? em_test_read(idx, NULL) : NULL;
    if (gv && gi) CHECK(gv[0] == 2 && gi[0] == 1 && gv[2] == 5 && gi[2] == 0);
    free(gv);
    free(gi);
    af_release_array(val);
    af_release_array(idx);
    double re, im;
    unsigned k;
    CHECK_AF(af_imax_all(&re, &im, &k, a));
    CHECK(re == 5 && k == 8);
    CHECK_AF(af_imin_all(&re, &im, &k, a));
    CHECK(re == 1 && k == 2);
    af_release_array(a);
}

TEST(reduce_max_ragged) {
    /* The second shape has short reductions along dim 0, which the CPU takes many at a time. */
    const dim_t ds[2][4] = {{37, 6, 2, 1}, {6, 37, 2, 1}};
    const af_dtype ts[] = {f32, s32, u8, c64, f16};
    for (int ti = 0; ti < 10; ti++) {
        af_dtype t = ts[ti % 5];
        const dim_t *d = ds[ti / 5];
        double *x;
        af_array a = make_input(t, d, -50, 50, false, &x);
        for (int dim = 0; dim < 3; dim++) {
            dim_t rd[4] = {d[0], d[1], d[2], d[3]};
            rd[dim] = 1;
            size_t n = (size_t)(rd[0] * rd[1] * rd[2]);
            double *rl = malloc(sizeof(double) * n);
            for (size_t i = 0; i < n; i++)
                rl[i] = (double)(1 + em_test_rand_u64() % (uint64_t)(d[dim] + 2));
            af_array r = em_test_make(rl, 4, rd, u32);
            check_ired(1, a, t, x, d, dim, r, rl);
            af_release_array(r);
            free(rl);
        }
        free(x);
        af_release_array(a);
    }
}

/* ---- by key ---- */

typedef af_err (*key_fn)(af_array *, af_array *, const af_array, const af_array, const int);

static key_fn key_fn_of(kind k) {
    switch (k) {
    case K_SUM:
        return af_sum_by_key;
    case K_PROD:
        return af_product_by_key;
    case K_MIN:
        return af_min_by_key;
    case K_MAX:
        return af_max_by_key;
    case K_ALL:
        return af_all_true_by_key;
    case K_ANY:
        return af_any_true_by_key;
    default:
        return af_count_by_key;
    }
}

/* A by-key reduction of vals (dims d, values x) along dim with keys kx (d[dim] of them, dtype kt),
 * against the reference: runs of equal consecutive keys, each reduced with ref_one. */
static void check_by_key(kind k, af_dtype kt, const double *kx, af_array vals, af_dtype t,
                         const double *x, const dim_t d[4], int dim, bool nan, double nanval) {
    char what[160];
    snprintf(what, sizeof(what), "%s_by_key%s(%s [%lld %lld %lld %lld], dim %d, %s keys)",
             kind_name[k], nan ? "_nan" : "", em_test_dtype_name(t), (long long)d[0],
             (long long)d[1], (long long)d[2], (long long)d[3], dim, em_test_dtype_name(kt));
    dim_t nk = d[dim];
    af_array keys = em_test_make(kx, 1, &nk, kt), ok = 0, ov = 0;
    if (nan) {
        if (k == K_SUM)
            CHECK_AF(af_sum_by_key_nan(&ok, &ov, keys, vals, dim, nanval));
        else
            CHECK_AF(af_product_by_key_nan(&ok, &ov, keys, vals, dim, nanval));
    } else {
        CHECK_AF(key_fn_of(k)(&ok, &ov, keys, vals, dim));
    }
    af_release_array(keys);
    if (!ok || !ov) return;
    /* The reference runs. */
    dim_t *start = malloc(sizeof(dim_t) * (size_t)(nk + 1)), nr = 0;
    for (dim_t j = 0; j < nk; j++)
        if (j == 0 || kx[j] != kx[j - 1]) start[nr++] = j;
    start[nr] = nk;
    const dim_t kd[4] = {nr, 1, 1, 1};
    check_dims_type(what, ok, kt, kd);
    dim_t od[4] = {d[0], d[1], d[2], d[3]};
    od[dim] = nr;
    af_dtype ot = out_type(k, t);
    check_dims_type(what, ov, ot, od);
    double *gk = em_test_read(ok, NULL), *gv = em_test_read(ov, NULL);
    for (dim_t r = 0; r < nr && gk; r++)
        if (gk[r] != kx[start[r]]) {
            em_test_fail(__FILE__, __LINE__, "%s: key %lld: %g, expected %g", what, (long long)r,
                         gk[r], kx[start[r]]);
            break;
        }
    dim_t inner = 1, outer = 1, len = d[dim];
    for (int i = 0; i < dim; i++)
        inner *= d[i];
    for (int i = dim + 1; i < 4; i++)
        outer *= d[i];
    int w = is_cplx(t) ? 2 : 1, ow = is_cplx(ot) ? 2 : 1;
    size_t nout = (size_t)(inner * nr * outer);
    double *ref = calloc(nout * 2 + 2, sizeof(double)), *mag = calloc(nout + 1, sizeof(double));
    dim_t maxrun = 0;
    for (dim_t o = 0; o < outer; o++)
        for (dim_t r = 0; r < nr; r++)
            for (dim_t i = 0; i < inner; i++) {
                dim_t e = i + inner * (r + nr * o);
                ref_one(k, t, x + (size_t)((i + inner * (start[r] + len * o)) * w),
                        start[r + 1] - start[r], inner, nan, nanval, ref + e * ow, &mag[e]);
                if (start[r + 1] - start[r] > maxrun) maxrun = start[r + 1] - start[r];
            }
    if (gv) check_values(what, k, ot, gv, ref, mag, (dim_t)nout, maxrun);
    free(gk);
    free(gv);
    free(ref);
    free(mag);
    free(start);
    af_release_array(ok);
    af_release_array(ov);
}

/* Keys of each pattern: random runs, every run of length 1, one run over everything. */
static void make_keys(int pattern, dim_t n, af_dtype kt, double *kx) {
    double cur = kt == s32 ? -3 : 3;
    for (dim_t j = 0; j < n; j++) {
        if (pattern == 0 && j > 0 && em_test_rand_u64() % 3 == 0)
            cur += 1 + (double)(em_test_rand_u64() % 2);
        kx[j] = pattern == 1 ? (j % 2 ? 7 : 9) : cur;
    }
}

TEST(reduce_by_key_every_kind) {
    const dim_t ds[][4] = {{13, 1, 1, 1}, {6, 5, 1, 1}, {3, 7, 2, 1}, {2, 3, 2, 9}, {1, 1, 1, 1}};
    const af_dtype vts[] = {f32, f64, c32, s32, u8, b8, f16, s64, s16};
    for (int k = K_SUM; k <= K_COUNT; k++)
        for (int vi = 0; vi < 9; vi++)
            for (int si = 0; si < 5; si++) {
                af_dtype t = vts[vi];
                double lo, hi, *x;
                range_of((kind)k, t, &lo, &hi);
                im_scale = k == K_PROD ? 0.1 : 1;
                af_array a = make_input(t, ds[si], lo, hi, is_float(t) && si == 2, &x);
                im_scale = 1;
                if (!a || !x) continue;
                for (int dim = 0; dim < 4; dim++) {
                    dim_t nk = ds[si][dim];
                    double *kx = malloc(sizeof(double) * (size_t)nk);
                    af_dtype kt = (dim + si) % 2 ? u32 : s32;
                    make_keys((si + dim + k) % 3, nk, kt, kx);
                    check_by_key((kind)k, kt, kx, a, t, x, ds[si], dim, false, 0);
                    if ((k == K_SUM || k == K_PROD) && is_float(t))
                        check_by_key((kind)k, kt, kx, a, t, x, ds[si], dim, true, 2.5);
                    free(kx);
                }
                free(x);
                af_release_array(a);
            }
}

/* ArrayFire's documented example: keys [0 0 1 1 1 0 0 2 2], values 1..9. */
TEST(reduce_by_key_example) {
    const double kh[] = {0, 0, 1, 1, 1, 0, 0, 2, 2};
    const double vh[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    const dim_t n = 9;
    af_array keys = em_test_make(kh, 1, &n, s32), vals = em_test_make(vh, 1, &n, f32);
    af_array ok = 0, ov = 0;
    CHECK_AF(af_sum_by_key(&ok, &ov, keys, vals, 0));
    double *gk = ok ? em_test_read(ok, NULL) : NULL, *gv = ov ? em_test_read(ov, NULL) : NULL;
    const double rk[] = {0, 1, 0, 2}, rv[] = {3, 12, 13, 17};
    if (gk && gv)
        for (int i = 0; i < 4; i++)
            CHECK(gk[i] == rk[i] && gv[i] == rv[i]);
    free(gk);
    free(gv);
    af_release_array(ok);
    af_release_array(ov);
    /* Lengths of runs over a long array: sum_by_key on 100000 sorted keys. */
    const dim_t m = 100000;
    double *kx = malloc(sizeof(double) * m), *x;
    make_keys(0, m, s32, kx);
    const dim_t d[4] = {m, 1, 1, 1};
    af_array a = make_input(f32, d, -1, 1, false, &x);
    check_by_key(K_SUM, s32, kx, a, f32, x, d, 0, false, 0);
    check_by_key(K_MAX, s32, kx, a, f32, x, d, 0, false, 0);
    free(kx);
    free(x);
    af_release_array(a);
    af_release_array(keys);
    af_release_array(vals);
}

TEST(reduce_index_and_key_errors) {
    const dim_t d[4] = {4, 3, 1, 1}, n4 = 4, n5 = 5;
    af_array a = 0, e = 0, val = 0, idx = 0;
    CHECK_AF(af_constant(&a, 1, 2, d, f32));
    const dim_t ed[1] = {0};
    CHECK_AF(af_create_handle(&e, 1, ed, f32));
    CHECK_ERR(af_imin(&val, &idx, a, 4), AF_ERR_ARG);
    CHECK_ERR(af_imin(NULL, &idx, a, 0), AF_ERR_ARG);
    CHECK_ERR(af_imax(&val, NULL, a, 0), AF_ERR_ARG);
    CHECK_ERR(af_imax(&val, &idx, e, 0), AF_ERR_ARG);
    double re, im;
    unsigned k;
    CHECK_ERR(af_imin_all(&re, &im, &k, e), AF_ERR_ARG);
    CHECK_ERR(af_imin_all(&re, &im, NULL, a), AF_ERR_ARG);
    /* ragged_len: u32 with in's dims except along dim. */
    af_array rf = 0, rbad = 0, rok = 0;
    const dim_t rd[4] = {1, 3, 1, 1}, rbd[4] = {1, 2, 1, 1};
    CHECK_AF(af_constant(&rf, 2, 2, rd, f32));
    CHECK_AF(af_constant(&rbad, 2, 2, rbd, u32));
    CHECK_AF(af_constant(&rok, 2, 2, rd, u32));
    CHECK_ERR(af_max_ragged(&val, &idx, a, rf, 0), AF_ERR_TYPE);
    CHECK_ERR(af_max_ragged(&val, &idx, a, rbad, 0), AF_ERR_ARG);
    CHECK_ERR(af_max_ragged(&val, &idx, a, rok, 1), AF_ERR_ARG);
    CHECK_AF(af_max_ragged(&val, &idx, a, rok, 0));
    af_release_array(val);
    af_release_array(idx);
    /* Keys: s32 or u32, a vector, as long as vals along dim. */
    af_array kf = 0, k4 = 0, k5 = 0, km = 0, ok = 0, ov = 0;
    CHECK_AF(af_constant(&kf, 1, 1, &n4, f32));
    CHECK_AF(af_constant(&k4, 1, 1, &n4, s32));
    CHECK_AF(af_constant(&k5, 1, 1, &n5, u32));
    const dim_t md[2] = {2, 2};
    CHECK_AF(af_constant(&km, 1, 2, md, s32));
    CHECK_ERR(af_sum_by_key(&ok, &ov, kf, a, 0), AF_ERR_TYPE);
    CHECK_ERR(af_sum_by_key(&ok, &ov, k5, a, 0), AF_ERR_ARG);
    CHECK_ERR(af_max_by_key(&ok, &ov, km, a, 0), AF_ERR_ARG);
    CHECK_ERR(af_count_by_key(&ok, &ov, k4, a, 4), AF_ERR_ARG);
    CHECK_ERR(af_count_by_key(&ok, &ov, k4, a, 1), AF_ERR_ARG);
    CHECK_ERR(af_sum_by_key(NULL, &ov, k4, a, 0), AF_ERR_ARG);
    CHECK(ok == 0 && ov == 0);
    CHECK_AF(af_count_by_key(&ok, &ov, k4, a, 0));
    af_release_array(ok);
    af_release_array(ov);
    af_release_array(kf);
    af_release_array(k4);
    af_release_array(k5);
    af_release_array(km);
    af_release_array(rf);
    af_release_array(rbad);
    af_release_array(rok);
    af_release_array(a);
    af_release_array(e);
}
