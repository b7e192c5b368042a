/* statistics.h (but median and topk): af_mean, af_mean_weighted, af_mean_all,
 * af_mean_all_weighted, af_var, af_var_v2, af_var_weighted, af_var_all, af_var_all_v2,
 * af_var_all_weighted, af_stdev, af_stdev_v2, af_stdev_all, af_stdev_all_v2, af_meanvar, af_cov,
 * af_cov_v2 and af_corrcoef, for every dtype each accepts, along each dim, against plain-C
 * references computed here in long double by two passes (mean, then squared deviations from it).
 * Inputs carry NaN and +-inf; shapes are one element, odd, 4-D and long enough to be split into
 * chunks; views and lazy trees are inputs, and mean(x*x) must allocate nothing but its output.
 * Values far from zero check that the variance is computed stably (E[x^2] - E[x]^2 would lose
 * every digit). Bad input is checked for its error and message. */
#include "test.h"

#include <string.h>

/* ---- values ---- */

static bool is_cplx(af_dtype t) {
    return t == c32 || t == c64;
}
static bool is_flt(af_dtype t) {
    return t == f32 || t == f64 || t == c32 || t == c64 || t == f16;
}
static bool is_signed(af_dtype t) {
    return t == s32 || t == s64 || t == s16 || t == s8;
}

static dim_t count(const dim_t d[4]) {
    return d[0] * d[1] * d[2] * d[3];
}

/* Element i of host data of dtype t as a double pair. */
static void load(const void *p, af_dtype t, size_t i, double *re, double *im) {
    *im = 0;
    switch (t) {
    case f32:
        *re = ((const float *)p)[i];
        break;
    case f64:
        *re = ((const double *)p)[i];
        break;
    case c32:
        *re = ((const float *)p)[2 * i], *im = ((const float *)p)[2 * i + 1];
        break;
    case c64:
        *re = ((const double *)p)[2 * i], *im = ((const double *)p)[2 * i + 1];
        break;
    case f16:
        *re = em_test_half_to_double(((const uint16_t *)p)[i]);
        break;
    case b8:
    case u8:
        *re = ((const uint8_t *)p)[i];
        break;
    case s8:
        *re = ((const int8_t *)p)[i];
        break;
    case s16:
        *re = ((const int16_t *)p)[i];
        break;
    case u16:
        *re = ((const uint16_t *)p)[i];
        break;
    case s32:
        *re = ((const int32_t *)p)[i];
        break;
    case u32:
        *re = ((const uint32_t *)p)[i];
        break;
    case s64:
        *re = (double)((const int64_t *)p)[i];
        break;
    case u64:
        *re = (double)((const uint64_t *)p)[i];
        break;
    default:
        break;
    }
}

/* Random host data: floats in [lo, hi) (NaN and +-inf sprinkled in when specials), integers in a
 * small range, b8 0 or 1. */
static void *rand_data(af_dtype t, size_t n, double lo, double hi, bool specials) {
    size_t es = em_test_dtype_size(t);
    void *p = malloc(n * es + 16);
    double *x = malloc(2 * n * sizeof(double) + 16);
    for (size_t i = 0; i < 2 * n; i++) {
        if (is_flt(t)) {
            x[i] = em_test_rand_uniform(lo, hi);
            if (specials && em_test_rand_u64() % 37 == 0) {
                static const double sp[3] = {NAN, INFINITY, -INFINITY};
                x[i] = sp[em_test_rand_u64() % 3];
            }
        } else if (t == b8) {
            x[i] = (double)(em_test_rand_u64() % 2);
        } else {
            double a = is_signed(t) ? -100 : 0;
            x[i] = a + (double)(em_test_rand_u64() % 201);
        }
    }
    em_test_to_host(x, n, t, p);
    free(x);
    return p;
}

static af_array mk(af_dtype t, const void *data, const dim_t d[4]) {
    af_array a = 0;
    CHECK_AF(af_create_array(&a, data, 4, d, t));
    return a;
}

/* Reads an array expected to have dtype t and dims d as doubles (complex: pairs). */
static double *read_as(af_array a, af_dtype t, const dim_t d[4]) {
    af_dtype got;
    dim_t g[4];
    CHECK_AF(af_get_type(&got, a));
    CHECK_AF(af_get_dims(&g[0], &g[1], &g[2], &g[3], a));
    if (got != t) {
        em_test_fail(__FILE__, __LINE__, "dtype %s, expected %s", em_test_dtype_name(got),
                     em_test_dtype_name(t));
        return NULL;
    }
    for (int k = 0; k < 4; k++)
        if (g[k] != d[k]) {
            em_test_fail(__FILE__, __LINE__, "dims[%d] = %lld, expected %lld", k, (long long)g[k],
                         (long long)d[k]);
            return NULL;
        }
    size_t n = (size_t)count(d);
    void *raw = malloc(n * 16 + 16);
    CHECK_AF(af_get_data_ptr(raw, a));
    double *v = malloc(n * 2 * sizeof(double) + 16);
    for (size_t i = 0; i < n; i++)
        load(raw, t, i, &v[2 * i], &v[2 * i + 1]);
    free(raw);
    return v;
}

/* ---- the reference ---- */

/* The moments of the values x (re/im pairs) with weights w (NULL: all 1) along a line: n elements
 * at stride s from x[0]. */
typedef struct {
    double mean[2], var[2]; /* var = S / (W - ddof) */
    double scale;           /* largest |x| (for tolerances) */
} ref_mom;

static ref_mom ref_line(const double *x, const double *w, size_t n, size_t s, int ddof) {
    long double W = 0, m[2] = {0, 0}, S[2] = {0, 0};
    ref_mom r = {{0, 0}, {0, 0}, 0};
    for (size_t k = 0; k < n; k++) {
        long double wk = w ? w[k * s] : 1;
        W += wk;
        m[0] += wk * x[2 * k * s], m[1] += wk * x[2 * k * s + 1];
        double a = fabs(x[2 * k * s]) + fabs(x[2 * k * s + 1]);
        if (a > r.scale) r.scale = a;
    }
    m[0] /= W, m[1] /= W;
    for (size_t k = 0; k < n; k++) {
        long double wk = w ? w[k * s] : 1;
        long double dr = x[2 * k * s] - m[0], di = x[2 * k * s + 1] - m[1];
        S[0] += wk * (dr * dr - di * di);
        S[1] += wk * 2 * dr * di;
    }
    r.mean[0] = (double)m[0], r.mean[1] = (double)m[1];
    r.var[0] = (double)(S[0] / (W - ddof)), r.var[1] = (double)(S[1] / (W - ddof));
    return r;
}

/* Compares got with ref to the output dtype's precision; scale bounds the values combined. */
static bool close_to(double got, double ref, double scale, af_dtype ot) {
    if (isnan(ref)) return isnan(got);
    if (isinf(ref)) return got == ref;
    double rel = ot == f16 ? 2e-3 : (ot == f32 || ot == c32) ? 2e-6 : 1e-11;
    double abs = ot == f16 ? 1e-3 : (ot == f32 || ot == c32) ? 1e-9 : 1e-11;
    return fabs(got - ref) <= rel * fabs(ref) + abs * scale * scale + abs;
}

/* Input values of a line-major view over dims d as doubles (pairs), and weights broadcast from
 * wdims when w is given. */
static double *as_pairs(const void *p, af_dtype t, size_t n) {
    double *x = malloc(2 * n * sizeof(double) + 16);
    for (size_t i = 0; i < n; i++)
        load(p, t, i, &x[2 * i], &x[2 * i + 1]);
    return x;
}

/* Weights of dims wd broadcast to dims d, as doubles. */
static double *broadcast(const double *w, const dim_t wd[4], const dim_t d[4]) {
    size_t n = (size_t)count(d);
    double *o = malloc(n * sizeof(double) + 8);
    for (size_t e = 0; e < n; e++) {
        size_t r = e, idx = 0, st = 1;
        for (int k = 0; k < 4; k++) {
            size_t c = r % (size_t)d[k];
            r /= (size_t)d[k];
            idx += (wd[k] == 1 ? 0 : c) * st;
            st *= (size_t)wd[k];
        }
        o[e] = w[idx];
    }
    return o;
}

/* The dtype a statistic of dtype t returns (ArrayFire's). */
static af_dtype stat_out(af_dtype t) {
    switch (t) {
    case f64:
    case s64:
    case u64:
        return f64;
    case c32:
    case c64:
        return t;
    case f16:
        return f16;
    default:
        return f32;
    }
}

static const af_dtype all_types[] = {f32, c32, f64, c64, b8,  s32, u32,
                                     u8,  s64, u64, s16, u16, f16, s8};
#define NTYPES ((int)(sizeof(all_types) / sizeof(all_types[0])))

typedef enum { K_MEAN, K_VAR, K_STDEV, K_MEANVAR } kind;

/* Checks one statistic along dim (-1: first non-singleton) against the reference. wt: weights
 * dtype (0 for none) of dims wd. bias / isbiased forms by `form`: 0 the _v2 form with bias, 1 the
 * deprecated bool form (isbiased = bias == SAMPLE). */
static void check_dim(af_dtype t, const dim_t d[4], int dim, kind k, af_var_bias bias, int form,
                      af_dtype wt, const dim_t wd[4], bool specials) {
    size_t n = (size_t)count(d);
    void *x = rand_data(t, n, -4, 4, specials);
    af_array a = mk(t, x, d), w = 0, r = 0, r2 = 0;
    double *wv = NULL, *wb = NULL;
    if (wt) {
        size_t nw = (size_t)count(wd);
        void *wraw = rand_data(wt, nw, 0.1, 2, false);
        w = mk(wt, wraw, wd);
        wv = as_pairs(wraw, wt, nw);
        for (size_t i = 0; i < nw; i++)
            wv[i] = wv[2 * i];
        wb = broadcast(wv, wd, d);
        free(wraw);
    }
    int rd = dim;
    if (rd < 0) {
        rd = 0;
        while (rd < 3 && d[rd] == 1)
            rd++;
        if (d[rd] == 1) rd = 0;
    }
    int ddof = 0;
    af_dtype ot = stat_out(t);
    switch (k) {
    case K_MEAN:
        CHECK_AF(wt ? af_mean_weighted(&r, a, w, dim) : af_mean(&r, a, dim));
        break;
    case K_VAR:
        if (wt) {
            CHECK_AF(af_var_weighted(&r, a, w, dim));
            if (t == f16) ot = f32;
        } else if (form) {
            CHECK_AF(af_var(&r, a, bias == AF_VARIANCE_SAMPLE, dim));
            ddof = bias == AF_VARIANCE_SAMPLE;
        } else {
            CHECK_AF(af_var_v2(&r, a, bias, dim));
            ddof = bias != AF_VARIANCE_POPULATION;
        }
        break;
    case K_STDEV:
        if (form) {
            CHECK_AF(af_stdev(&r, a, dim));
        } else {
            CHECK_AF(af_stdev_v2(&r, a, bias, dim));
            ddof = bias == AF_VARIANCE_SAMPLE;
        }
        break;
    case K_MEANVAR:
        CHECK_AF(af_meanvar(&r, &r2, a, w, bias, dim));
        ddof = bias != AF_VARIANCE_POPULATION;
        break;
    }
    dim_t od[4] = {d[0], d[1], d[2], d[3]};
    od[rd] = 1;
    char what[128];
    snprintf(what, sizeof(what), "kind %d %s [%lld %lld %lld %lld] dim %d bias %d form %d w %s", k,
             em_test_dtype_name(t), (long long)d[0], (long long)d[1], (long long)d[2],
             (long long)d[3], dim, (int)bias, form, wt ? em_test_dtype_name(wt) : "-");
    double *gm = r ? read_as(r, ot, od) : NULL;
    double *gv = r2 ? read_as(r2, ot, od) : NULL;
    if (gm && (k != K_MEANVAR || gv)) {
        double *xv = as_pairs(x, t, n);
        dim_t inner = 1;
        for (int q = 0; q < rd; q++)
            inner *= d[q];
        size_t len = (size_t)d[rd], nout = n / len;
        int bad = 0;
        for (size_t q = 0; q < nout && bad < 3; q++) {
            size_t i = q % (size_t)inner, o = q / (size_t)inner;
            size_t base = i + (size_t)inner * len * o;
            ref_mom m = ref_line(xv + 2 * base, wb ? wb + base : NULL, len, (size_t)inner, ddof);
            double e[2], g[2] = {gm[2 * q], gm[2 * q + 1]};
            if (k == K_MEAN || k == K_MEANVAR)
                e[0] = m.mean[0], e[1] = m.mean[1];
            else
                e[0] = m.var[0], e[1] = m.var[1];
            if (k == K_STDEV) e[0] = sqrt(e[0]);
            double sc = k == K_MEAN || k == K_MEANVAR ? m.scale : m.scale;
            bool ok = close_to(g[0], e[0], k == K_MEAN ? sqrt(sc) : sc, ot) &&
                      (!is_cplx(ot) || close_to(g[1], e[1], k == K_MEAN ? sqrt(sc) : sc, ot));
            if (k == K_MEANVAR)
                ok = ok && close_to(gv[2 * q], m.var[0], sc, ot) &&
                     (!is_cplx(ot) || close_to(gv[2 * q + 1], m.var[1], sc, ot));
            if (!ok) {
                bad++;
                em_test_fail(__FILE__, __LINE__,
                             "%s: output %zu: got %.9g%+.9gi (var %.9g), expected %.9g%+.9gi "
                             "(var %.9g)",
                             what, q, g[0], g[1], gv ? gv[2 * q] : 0.0, e[0], e[1], m.var[0]);
            }
        }
        free(xv);
    }
    free(gm);
    free(gv);
    if (r) af_release_array(r);
    if (r2) af_release_array(r2);
    if (w) af_release_array(w);
    af_release_array(a);
    free(x);
    free(wv);
    free(wb);
}

static const dim_t shapes[][4] = {
    {1, 1, 1, 1}, {7, 1, 1, 1}, {33, 5, 1, 1}, {5, 33, 1, 1},
    {3, 4, 5, 6}, {2, 1, 3, 7}, {1, 1, 1, 9},
};
#define NSHAPES ((int)(sizeof(shapes) / sizeof(shapes[0])))

TEST(stat_mean_every_dtype_dim) {
    for (int s = 0; s < NSHAPES; s++)
        for (int ti = 0; ti < NTYPES; ti++)
            for (int dim = -1; dim < 4; dim++)
                check_dim(all_types[ti], shapes[s], dim, K_MEAN, AF_VARIANCE_DEFAULT, 0, 0, NULL,
                          s % 2 == 0);
}

TEST(stat_var_every_dtype_dim_bias) {
    static const af_var_bias biases[3] = {AF_VARIANCE_DEFAULT, AF_VARIANCE_SAMPLE,
                                          AF_VARIANCE_POPULATION};
    for (int s = 0; s < NSHAPES; s++)
        for (int ti = 0; ti < NTYPES; ti++)
            for (int dim = -1; dim < 4; dim++)
                for (int b = 0; b < 3; b++) {
                    check_dim(all_types[ti], shapes[s], dim, K_VAR, biases[b], 0, 0, NULL,
                              s % 3 == 0);
                    if (b > 0)
                        check_dim(all_types[ti], shapes[s], dim, K_VAR, biases[b], 1, 0, NULL,
                                  false);
                }
}

TEST(stat_stdev_real_dtypes) {
    static const af_var_bias biases[3] = {AF_VARIANCE_DEFAULT, AF_VARIANCE_SAMPLE,
                                          AF_VARIANCE_POPULATION};
    for (int s = 0; s < NSHAPES; s++)
        for (int ti = 0; ti < NTYPES; ti++) {
            af_dtype t = all_types[ti];
            if (is_cplx(t) || t == f16) continue;
            for (int dim = 0; dim < 4; dim++) {
                for (int b = 0; b < 3; b++)
                    check_dim(t, shapes[s], dim, K_STDEV, biases[b], 0, 0, NULL, s == 2);
                check_dim(t, shapes[s], dim, K_STDEV, AF_VARIANCE_POPULATION, 1, 0, NULL, false);
            }
        }
}

TEST(stat_weighted_and_meanvar) {
    for (int s = 0; s < NSHAPES; s++)
        for (int ti = 0; ti < NTYPES; ti++)
            for (int dim = 0; dim < 4; dim++) {
                af_dtype t = all_types[ti];
                af_dtype wt = (s + ti) % 2 ? f32 : f64;
                /* Weights of the input's dims, and broadcast along the reduced dim. */
                dim_t wd[4] = {shapes[s][0], shapes[s][1], shapes[s][2], shapes[s][3]};
                check_dim(t, shapes[s], dim, K_MEAN, AF_VARIANCE_DEFAULT, 0, wt, wd, false);
                check_dim(t, shapes[s], dim, K_VAR, AF_VARIANCE_DEFAULT, 0, wt, wd, false);
                check_dim(t, shapes[s], dim, K_MEANVAR, AF_VARIANCE_SAMPLE, 0, wt, wd, false);
                wd[dim] = 1;
                check_dim(t, shapes[s], dim, K_MEAN, AF_VARIANCE_DEFAULT, 0, wt, wd, false);
                check_dim(t, shapes[s], dim, K_MEANVAR, AF_VARIANCE_POPULATION, 0, 0, NULL, s == 3);
                check_dim(t, shapes[s], dim, K_MEANVAR, AF_VARIANCE_DEFAULT, 0, 0, NULL, false);
            }
}

/* Shapes that split lines into chunks, tiles of more than one block of lines, and long lines. */
TEST(stat_large_shapes) {
    static const dim_t big[][4] = {
        {300001, 1, 1, 1}, {1500, 41, 1, 1}, {3, 70001, 1, 1}, {2049, 3, 2, 1}};
    static const af_dtype types[] = {f32, f64, c32, s32};
    for (size_t s = 0; s < sizeof(big) / sizeof(big[0]); s++)
        for (size_t ti = 0; ti < sizeof(types) / sizeof(types[0]); ti++)
            for (int dim = 0; dim < 2; dim++) {
                check_dim(types[ti], big[s], dim, K_MEANVAR, AF_VARIANCE_SAMPLE, 0, 0, NULL, false);
                dim_t wd[4] = {big[s][0], big[s][1], big[s][2], big[s][3]};
                check_dim(types[ti], big[s], dim, K_VAR, AF_VARIANCE_DEFAULT, 0, f32, wd, false);
            }
}

/* ---- over everything ---- */

static void check_all(af_dtype t, const dim_t d[4], bool weighted, bool specials) {
    size_t n = (size_t)count(d);
    void *x = rand_data(t, n, -4, 4, specials);
    af_array a = mk(t, x, d), w = 0;
    double *xv = as_pairs(x, t, n), *wv = NULL;
    if (weighted) {
        void *wraw = rand_data(f64, n, 0.1, 2, false);
        w = mk(f64, wraw, d);
        wv = (double *)wraw;
    }
    bool cplx = is_cplx(t);
    double re = -7, im = -7;
    char what[96];
    snprintf(what, sizeof(what), "_all %s n %zu%s", em_test_dtype_name(t), n,
             weighted ? " weighted" : "");
    /* Results come back as doubles, computed in double: compare to double precision, with
     * float inputs' values exact. */
    ref_mom m0 = ref_line(xv, wv, n, 1, 0), m1 = ref_line(xv, wv, n, 1, 1);
    af_dtype ot = f64;
    double sc = m0.scale;
    if (weighted)
        CHECK_AF(af_mean_all_weighted(&re, &im, a, w));
    else
        CHECK_AF(af_mean_all(&re, &im, a));
    if (!close_to(re, m0.mean[0], sc, ot) || (cplx && !close_to(im, m0.mean[1], sc, ot)))
        em_test_fail(__FILE__, __LINE__, "%s mean: %.17g%+.17gi, expected %.17g%+.17gi", what, re,
                     im, m0.mean[0], m0.mean[1]);
    if (weighted) {
        CHECK_AF(af_var_all_weighted(&re, &im, a, w));
        if (!close_to(re, m0.var[0], sc, ot) || (cplx && !close_to(im, m0.var[1], sc, ot)))
            em_test_fail(__FILE__, __LINE__, "%s var: %.17g, expected %.17g", what, re, m0.var[0]);
    } else {
        const struct {
            int form;
            af_var_bias b;
            const ref_mom *m;
        } v[5] = {
            {0, AF_VARIANCE_DEFAULT, &m0},    {0, AF_VARIANCE_POPULATION, &m0},
            {0, AF_VARIANCE_SAMPLE, &m1},     {1, AF_VARIANCE_SAMPLE, &m1},
            {1, AF_VARIANCE_POPULATION, &m0},
        };
        for (int k = 0; k < 5; k++) {
            if (v[k].form)
                CHECK_AF(af_var_all(&re, &im, a, v[k].b == AF_VARIANCE_SAMPLE));
            else
                CHECK_AF(af_var_all_v2(&re, &im, a, v[k].b));
            if (!close_to(re, v[k].m->var[0], sc, ot) ||
                (cplx && !close_to(im, v[k].m->var[1], sc, ot)))
                em_test_fail(__FILE__, __LINE__, "%s var %d: %.17g, expected %.17g", what, k, re,
                             v[k].m->var[0]);
            if (!cplx && t != f16) {
                if (v[k].form)
                    CHECK_AF(af_stdev_all(&re, &im, a));
                else
                    CHECK_AF(af_stdev_all_v2(&re, &im, a, v[k].b));
                double e = v[k].form ? sqrt(m0.var[0]) : sqrt(v[k].m->var[0]);
                if (!close_to(re, e, sc, ot))
                    em_test_fail(__FILE__, __LINE__, "%s stdev %d: %.17g, expected %.17g", what, k,
                                 re, e);
            }
        }
    }
    af_release_array(a);
    if (w) af_release_array(w);
    free(x);
    free(xv);
    free(wv);
}

TEST(stat_all_every_dtype) {
    static const dim_t d[][4] = {{1, 1, 1, 1}, {7, 1, 1, 1}, {3, 4, 5, 6}, {300001, 1, 1, 1}};
    for (size_t s = 0; s < sizeof(d) / sizeof(d[0]); s++)
        for (int ti = 0; ti < NTYPES; ti++) {
            check_all(all_types[ti], d[s], false, s == 2);
            check_all(all_types[ti], d[s], true, false);
        }
}

/* NaN and infinities: the mean of +inf values is +inf, of +inf and -inf NaN; any NaN gives NaN;
 * a variance with an infinity is NaN. */
TEST(stat_specials) {
    const dim_t d[4] = {5000, 3, 1, 1};
    float *x = malloc(sizeof(float) * 15000);
    for (int i = 0; i < 15000; i++)
        x[i] = (float)(i % 7);
    x[10] = INFINITY, x[4000] = INFINITY; /* column 0: +inf twice, in different blocks */
    x[5000 + 3] = INFINITY, x[5000 + 4999] = -INFINITY;
    x[10000 + 2500] = NAN;
    af_array a = mk(f32, x, d), m = 0, v = 0;
    CHECK_AF(af_meanvar(&m, &v, a, 0, AF_VARIANCE_POPULATION, 0));
    const dim_t od[4] = {1, 3, 1, 1};
    double *gm = read_as(m, f32, od), *gv = read_as(v, f32, od);
    CHECK(gm && gm[0] == INFINITY && isnan(gm[2]) && isnan(gm[4]));
    CHECK(gv && isnan(gv[0]) && isnan(gv[2]) && isnan(gv[4]));
    free(gm);
    free(gv);
    af_release_array(m);
    af_release_array(v);
    af_release_array(a);
    free(x);
}

/* Large offsets: E[x^2] - E[x]^2 loses every digit here; a stable method keeps them. */
TEST(stat_stable_variance) {
    const dim_t d[4] = {100000, 1, 1, 1};
    double *x = malloc(sizeof(double) * 100000);
    float *xf = malloc(sizeof(float) * 100000);
    for (int i = 0; i < 100000; i++) {
        x[i] = 1e9 + (double)(i % 10); /* variance 8.25 */
        xf[i] = 1e4f + (float)(i % 10);
    }
    af_array a = mk(f64, x, d), b = mk(f32, xf, d);
    double re = 0, im = 0;
    CHECK_AF(af_var_all_v2(&re, &im, a, AF_VARIANCE_POPULATION));
    CHECK(fabs(re - 8.25) < 1e-9);
    CHECK_AF(af_var_all_v2(&re, &im, b, AF_VARIANCE_POPULATION));
    CHECK(fabs(re - 8.25) < 1e-6);
    af_array v = 0;
    CHECK_AF(af_var_v2(&v, b, AF_VARIANCE_POPULATION, 0));
    const dim_t one[4] = {1, 1, 1, 1};
    double *g = read_as(v, f32, one);
    CHECK(g && fabs(g[0] - 8.25) < 1e-5);
    free(g);
    af_release_array(v);
    af_release_array(a);
    af_release_array(b);
    free(x);
    free(xf);
}

/* Complex variance is the mean of (x - mean)^2 with the complex square (ArrayFire's). */
TEST(stat_complex_variance) {
    const float z[6] = {1, 0, 0, 1, -1, 0}; /* 1, i, -1: mean i/3 */
    const dim_t d[4] = {3, 1, 1, 1};
    af_array a = mk(c32, z, d);
    double re = 0, im = 0;
    CHECK_AF(af_var_all_v2(&re, &im, a, AF_VARIANCE_POPULATION));
    /* deviations 1 - i/3, 2i/3, -1 - i/3: squares (8/9 - 2i/3), -4/9, (8/9 + 2i/3) */
    CHECK(fabs(re - (12.0 / 9.0) / 3.0) < 1e-6 && fabs(im) < 1e-6);
    af_release_array(a);
}

/* ---- cov, corrcoef ---- */

static void check_cov(af_dtype t, const dim_t d[4], int form, af_var_bias bias) {
    size_t n = (size_t)count(d);
    void *x = rand_data(t, n, -4, 4, false), *y = rand_data(t, n, -4, 4, false);
    af_array a = mk(t, x, d), b = mk(t, y, d), r = 0;
    if (form)
        CHECK_AF(af_cov(&r, a, b, bias == AF_VARIANCE_SAMPLE));
    else
        CHECK_AF(af_cov_v2(&r, a, b, bias));
    int ddof = bias == AF_VARIANCE_SAMPLE;
    af_dtype ot = (t == f64 || t == s64 || t == u64) ? f64 : f32;
    const dim_t od[4] = {1, d[1], 1, 1};
    double *g = r ? read_as(r, ot, od) : NULL;
    double *xv = as_pairs(x, t, n), *yv = as_pairs(y, t, n);
    long double mx = 0, my = 0;
    double sc = 0;
    for (size_t i = 0; i < n; i++) {
        mx += xv[2 * i], my += yv[2 * i];
        if (fabs(xv[2 * i]) > sc) sc = fabs(xv[2 * i]);
        if (fabs(yv[2 * i]) > sc) sc = fabs(yv[2 * i]);
    }
    mx /= n, my /= n;
    for (dim_t c = 0; g && c < d[1]; c++) {
        long double s = 0;
        for (dim_t rr = 0; rr < d[0]; rr++) {
            size_t i = (size_t)(rr + d[0] * c);
            s += (xv[2 * i] - mx) * (yv[2 * i] - my);
        }
        double e = (double)(s / (d[0] - ddof));
        if (!close_to(g[2 * c], e, sc, ot))
            em_test_fail(__FILE__, __LINE__, "cov %s [%lld %lld] col %lld: %.9g, expected %.9g",
                         em_test_dtype_name(t), (long long)d[0], (long long)d[1], (long long)c,
                         g[2 * c], e);
    }
    /* corrcoef over every element. */
    if (t != b8) {
        long double sxy = 0, sxx = 0, syy = 0;
        for (size_t i = 0; i < n; i++) {
            long double dx = xv[2 * i] - mx, dy = yv[2 * i] - my;
            sxy += dx * dy, sxx += dx * dx, syy += dy * dy;
        }
        double e = (double)(sxy / sqrtl(sxx * syy)), re = 0, im = 0;
        CHECK_AF(af_corrcoef(&re, &im, a, b));
        if (!(fabs(re - e) < 1e-9 || (isnan(e) && isnan(re))))
            em_test_fail(__FILE__, __LINE__, "corrcoef %s n %zu: %.17g, expected %.17g",
                         em_test_dtype_name(t), n, re, e);
    }
    free(g);
    free(xv);
    free(yv);
    if (r) af_release_array(r);
    af_release_array(a);
    af_release_array(b);
    free(x);
    free(y);
}

TEST(stat_cov_corrcoef) {
    static const dim_t d[][4] = {
        {7, 1, 1, 1}, {33, 5, 1, 1}, {5, 33, 1, 1}, {100001, 3, 1, 1}, {1, 4, 1, 1}};
    static const af_dtype types[] = {f32, f64, s32, u32, u8, s64, u64, s16, u16, s8};
    for (size_t s = 0; s < sizeof(d) / sizeof(d[0]); s++)
        for (size_t ti = 0; ti < sizeof(types) / sizeof(types[0]); ti++) {
            check_cov(types[ti], d[s], 0, AF_VARIANCE_POPULATION);
            check_cov(types[ti], d[s], 0, AF_VARIANCE_SAMPLE);
            check_cov(types[ti], d[s], 0, AF_VARIANCE_DEFAULT);
            check_cov(types[ti], d[s], 1, AF_VARIANCE_SAMPLE);
        }
    /* corrcoef of b8 (cov refuses it). */
    const uint8_t bx[6] = {1, 0, 1, 1, 0, 0}, by[6] = {1, 0, 0, 1, 0, 1};
    const dim_t bd[4] = {6, 1, 1, 1};
    af_array a = mk(b8, bx, bd), b = mk(b8, by, bd);
    double re = 0, im = 0;
    CHECK_AF(af_corrcoef(&re, &im, a, b));
    CHECK(fabs(re - 1.0 / 3.0) < 1e-12);
    af_release_array(a);
    af_release_array(b);
}

/* ---- fused inputs, views, empty inputs ---- */

TEST(stat_lazy_input_no_intermediate) {
    const dim_t d[4] = {200000, 1, 1, 1};
    size_t n = 200000;
    float *x = rand_data(f32, n, -2, 2, false);
    af_array a = mk(f32, x, d), sq = 0, m = 0, v = 0;
    CHECK_AF(af_mul(&sq, a, a, false));
    CHECK_AF(af_device_gc());
    size_t ab0, an0, lb0, ln0, ab1, an1, lb1, ln1;
    CHECK_AF(af_device_mem_info(&ab0, &an0, &lb0, &ln0));
    CHECK_AF(af_mean(&m, sq, 0));
    CHECK_AF(af_device_mem_info(&ab1, &an1, &lb1, &ln1));
    /* The output alone stays in use; partial states (CUDA: a few per block) may be taken and
     * given back, but nothing near the 4 n bytes of a * a. */
    CHECK(ln1 == ln0 + 1);
    CHECK(ab1 - ab0 < n);
    long double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (long double)(x[i] * x[i]);
    const dim_t one[4] = {1, 1, 1, 1};
    double *g = read_as(m, f32, one);
    CHECK(g && fabs(g[0] - (double)(s / n)) < 1e-6 * (double)(s / n));
    free(g);
    af_release_array(m);
    double re = 0, im = 0;
    CHECK_AF(af_device_mem_info(&ab0, &an0, &lb0, &ln0));
    CHECK_AF(af_var_all_v2(&re, &im, sq, AF_VARIANCE_POPULATION));
    CHECK_AF(af_meanvar(&m, &v, sq, 0, AF_VARIANCE_POPULATION, 0));
    CHECK_AF(af_device_mem_info(&ab1, &an1, &lb1, &ln1));
    /* Two more outputs in use; the _all form's one-element result went back to the pool. */
    CHECK(ln1 == ln0 + 2);
    af_release_array(m);
    af_release_array(v);
    af_release_array(sq);
    af_release_array(a);
    free(x);
}

static af_array index_or_skip(af_array parent, unsigned n, const af_seq *s) {
    af_array v = NULL;
    af_err e = af_index(&v, parent, n, s);
    if (e == AF_ERR_NOT_SUPPORTED) {
        af_release_array(parent);
        SKIP("af_index is not built yet");
    }
    if (e != AF_SUCCESS) em_test_fail(__FILE__, __LINE__, "af_index returned %d", (int)e);
    return v;
}

TEST(stat_view_input) {
    const dim_t d[4] = {41, 9, 1, 1};
    float *x = rand_data(f32, 41 * 9, -3, 3, false);
    af_array a = mk(f32, x, d), r = 0;
    af_seq s[2] = {af_make_seq(1, 39, 2), af_make_seq(2, 7, 1)}; /* 20 x 6 */
    af_array v = index_or_skip(a, 2, s);
    for (int dim = 0; dim < 2; dim++) {
        CHECK_AF(af_var_v2(&r, v, AF_VARIANCE_SAMPLE, dim));
        dim_t od[4] = {dim ? 20 : 1, dim ? 1 : 6, 1, 1};
        double *g = read_as(r, f32, od);
        for (int q = 0; g && q < (dim ? 20 : 6); q++) {
            double vals[40];
            int len = dim ? 6 : 20;
            for (int k = 0; k < len; k++) {
                int row = dim ? q : k, col = dim ? k : q;
                vals[2 * k] = x[(1 + 2 * row) + 41 * (2 + col)];
                vals[2 * k + 1] = 0;
            }
            ref_mom m = ref_line(vals, NULL, (size_t)len, 1, 1);
            if (!close_to(g[2 * q], m.var[0], m.scale, f32))
                em_test_fail(__FILE__, __LINE__, "view dim %d out %d: %g, expected %g", dim, q,
                             g[2 * q], m.var[0]);
        }
        free(g);
        af_release_array(r);
    }
    af_release_array(v);
    af_release_array(a);
    free(x);
}

TEST(stat_empty_input) {
    const dim_t d[4] = {0, 3, 1, 1};
    af_array a = 0, r = 0, r2 = 0;
    CHECK_AF(af_create_handle(&a, 2, d, s32));
    CHECK_AF(af_mean(&r, a, 0));
    double *g = read_as(r, f32, d);
    free(g);
    af_release_array(r);
    CHECK_AF(af_meanvar(&r, &r2, a, 0, AF_VARIANCE_SAMPLE, 1));
    free(read_as(r, f32, d));
    free(read_as(r2, f32, d));
    af_release_array(r);
    af_release_array(r2);
    double re = 0, im = 0;
    CHECK_AF(af_mean_all(&re, &im, a));
    CHECK(isnan(re));
    CHECK_AF(af_var_all_v2(&re, &im, a, AF_VARIANCE_SAMPLE));
    CHECK(isnan(re));
    af_release_array(a);
}

TEST(stat_bad_input) {
    const dim_t d[4] = {4, 3, 1, 1}, d3[4] = {2, 2, 2, 1}, dw[4] = {4, 2, 1, 1};
    float x[12] = {0};
    af_array a = mk(f32, x, d), r = 0, r2 = 0, wi = 0, wbad = 0, c = 0, b = 0, t3 = 0, h = 0,
             dd = 0;
    int32_t ix[12] = {0};
    wi = mk(s32, ix, d);
    wbad = mk(f32, x, dw);
    float cx[24] = {0};
    c = mk(c32, cx, d);
    uint8_t bx[12] = {0};
    b = mk(b8, bx, d);
    t3 = mk(f32, x, d3);
    dd = mk(f64, cx, d);
    uint16_t hx[12] = {0};
    CHECK_AF(af_create_array(&h, hx, 4, d, f16));
    double re, im;
    CHECK_ERR(af_mean(&r, a, 4), AF_ERR_ARG);
    CHECK_ERR(af_mean(&r, a, -2), AF_ERR_ARG);
    CHECK_ERR(af_var_v2(&r, a, AF_VARIANCE_SAMPLE, 7), AF_ERR_ARG);
    CHECK_ERR(af_var_v2(&r, a, (af_var_bias)9, 0), AF_ERR_ARG);
    CHECK_ERR(af_mean(NULL, a, 0), AF_ERR_ARG);
    CHECK_ERR(af_mean(&r, NULL, 0), AF_ERR_ARG);
    CHECK_ERR(af_mean_weighted(&r, a, wi, 0), AF_ERR_ARG);
    CHECK_ERR(af_mean_weighted(&r, a, wbad, 0), AF_ERR_ARG);
    CHECK_ERR(af_mean_weighted(&r, a, NULL, 0), AF_ERR_ARG);
    CHECK_ERR(af_var_weighted(&r, a, wi, 0), AF_ERR_ARG);
    CHECK_ERR(af_meanvar(&r, &r2, a, wi, AF_VARIANCE_SAMPLE, 0), AF_ERR_ARG);
    CHECK_ERR(af_meanvar(&r, NULL, a, 0, AF_VARIANCE_SAMPLE, 0), AF_ERR_ARG);
    CHECK_ERR(af_meanvar(&r, &r2, a, 0, AF_VARIANCE_SAMPLE, 4), AF_ERR_ARG);
    CHECK_ERR(af_stdev(&r, c, 0), AF_ERR_TYPE);
    CHECK_ERR(af_stdev_v2(&r, h, AF_VARIANCE_SAMPLE, 0), AF_ERR_TYPE);
    CHECK_ERR(af_stdev_all(&re, &im, c), AF_ERR_TYPE);
    CHECK_ERR(af_mean_all(NULL, &im, a), AF_ERR_ARG);
    CHECK_ERR(af_mean_all(&re, NULL, c), AF_ERR_ARG);
    CHECK_ERR(af_var_all_weighted(&re, &im, a, wi), AF_ERR_ARG);
    CHECK_ERR(af_var_all_v2(&re, &im, a, (af_var_bias)5), AF_ERR_ARG);
    CHECK_ERR(af_cov_v2(&r, b, b, AF_VARIANCE_SAMPLE), AF_ERR_TYPE);
    CHECK_ERR(af_cov_v2(&r, c, c, AF_VARIANCE_SAMPLE), AF_ERR_TYPE);
    CHECK_ERR(af_cov_v2(&r, t3, t3, AF_VARIANCE_SAMPLE), AF_ERR_ARG);
    CHECK_ERR(af_cov_v2(&r, a, wbad, AF_VARIANCE_SAMPLE), AF_ERR_ARG);
    CHECK_ERR(af_cov_v2(&r, a, dd, AF_VARIANCE_SAMPLE), AF_ERR_ARG);
    CHECK_ERR(af_cov(NULL, a, a, true), AF_ERR_ARG);
    CHECK_ERR(af_corrcoef(&re, &im, a, dd), AF_ERR_ARG);
    CHECK_ERR(af_corrcoef(&re, &im, a, wbad), AF_ERR_ARG);
    CHECK_ERR(af_corrcoef(&re, &im, c, c), AF_ERR_TYPE);
    CHECK_ERR(af_corrcoef(NULL, &im, a, a), AF_ERR_ARG);
    CHECK(r == 0 && r2 == 0);
    af_release_array(a);
    af_release_array(wi);
    af_release_array(wbad);
    af_release_array(c);
    af_release_array(b);
    af_release_array(t3);
    af_release_array(dd);
    af_release_array(h);
}
