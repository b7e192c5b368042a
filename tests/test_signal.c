/* signal.h: the median filters (af_medfilt, af_medfilt1, af_medfilt2) with both border types
 * ArrayFire allows, odd and even windows, every dtype they take and batched images; and
 * interpolation (af_approx1/2, the _uniform and _v2 forms) with every interpolation type each
 * takes, positions on and off the grid, positions that repeat over the batch, interpolation along
 * other dims, complex values, and bad input. References are plain C following ArrayFire's
 * definitions, in double precision. */
#include "test.h"

#include <string.h>

#define PI 3.14159265358979323846

static dim_t nelem(const dim_t d[4]) {
    return d[0] * d[1] * d[2] * d[3];
}

/* ---- medfilt ---- */

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static dim_t sym(dim_t i, dim_t n) {
    if (i < 0) i = -i;
    if (i >= n) i = 2 * (n - 1) - i;
    return i;
}

/* ArrayFire's median: window wlen x wwid centred at (wlen/2, wwid/2); an even count averages the
 * two middle values in the dtype's arithmetic. */
static void ref_medfilt(const double *in, const dim_t d[4], dim_t wlen, dim_t wwid, bool symm,
                        af_dtype t, double *out) {
    double *v = malloc(sizeof(double) * (size_t)(wlen * wwid));
    for (dim_t img = 0; img < d[2] * d[3]; img++)
        for (dim_t c = 0; c < d[1]; c++)
            for (dim_t r = 0; r < d[0]; r++) {
                dim_t m = 0;
                for (dim_t j = 0; j < wwid; j++)
                    for (dim_t i = 0; i < wlen; i++) {
                        dim_t cc = c + j - wwid / 2, rr = r + i - wlen / 2;
                        bool off = cc < 0 || cc >= d[1] || rr < 0 || rr >= d[0];
                        if (symm)
                            v[m++] = in[img * d[0] * d[1] + sym(cc, d[1]) * d[0] + sym(rr, d[0])];
                        else
                            v[m++] = off ? 0 : in[img * d[0] * d[1] + cc * d[0] + rr];
                    }
                qsort(v, (size_t)m, sizeof(double), cmp_double);
                double med = v[m / 2];
                if (m % 2 == 0) {
                    double a = v[m / 2], b = v[m / 2 - 1];
                    if (t == f32)
                        med = (double)(((float)a + (float)b) / 2.0f);
                    else if (t == f64)
                        med = (a + b) / 2;
                    else
                        med = (double)(((long long)a + (long long)b) / 2);
                }
                out[img * d[0] * d[1] + c * d[0] + r] = med;
            }
    free(v);
}

static double *rand_for(af_dtype t, dim_t n) {
    double *x = malloc(sizeof(double) * (size_t)(n + 1));
    for (dim_t i = 0; i < n; i++) {
        if (t == f32)
            x[i] = (float)em_test_rand_uniform(-5, 5);
        else if (t == f64)
            x[i] = em_test_rand_uniform(-5, 5);
        else if (t == b8)
            x[i] = (double)(em_test_rand_u64() & 1);
        else if (t == s32 || t == s16)
            x[i] = (double)(int)(em_test_rand_u64() % 41) - 20;
        else
            x[i] = (double)(em_test_rand_u64() % 41);
    }
    return x;
}

TEST(medfilt_all_types_and_borders) {
    static const af_dtype types[] = {f32, f64, b8, s32, u32, s16, u16, u8};
    static const dim_t shapes[][4] = {{9, 7, 1, 1}, {6, 5, 3, 2}, {16, 3, 1, 1}, {2, 3, 1, 1}};
    static const dim_t wins[] = {3, 4, 5};
    for (size_t ti = 0; ti < sizeof(types) / sizeof(types[0]); ti++)
        for (size_t si = 0; si < sizeof(shapes) / sizeof(shapes[0]); si++)
            for (size_t wi = 0; wi < sizeof(wins) / sizeof(wins[0]); wi++)
                for (int symm = 0; symm < 2; symm++) {
                    af_dtype t = types[ti];
                    const dim_t *d = shapes[si];
                    dim_t w = wins[wi];
                    /* AF_PAD_SYM reflects once: windows wider than the image are not defined. */
                    if (symm && (w / 2 >= d[0] || w / 2 >= d[1])) continue;
                    double *x = rand_for(t, nelem(d));
                    af_array a = em_test_make(x, 4, d, t), out = NULL, out2 = NULL;
                    af_border_type pad = symm ? AF_PAD_SYM : AF_PAD_ZERO;
                    CHECK_AF(af_medfilt2(&out, a, w, w, pad));
                    CHECK_AF(af_medfilt(&out2, a, w, w, pad));
                    double *ref = malloc(sizeof(double) * (size_t)nelem(d));
                    ref_medfilt(x, d, w, w, symm, t, ref);
                    dim_t n;
                    double *g = em_test_read(out, &n), *g2 = em_test_read(out2, &n);
                    af_dtype ot;
                    CHECK_AF(af_get_type(&ot, out));
                    CHECK(ot == t);
                    CHECK_CLOSE(g, ref, (size_t)nelem(d), 0, 0);
                    CHECK_CLOSE(g2, ref, (size_t)nelem(d), 0, 0);
                    free(g);
                    free(g2);
                    af_release_array(out);
                    af_release_array(out2);
                    /* medfilt1 along dim 0. */
                    if (!symm || w / 2 < d[0]) {
                        CHECK_AF(af_medfilt1(&out, a, w, pad));
                        ref_medfilt(x, d, w, 1, symm, t, ref);
                        g = em_test_read(out, &n);
                        CHECK_CLOSE(g, ref, (size_t)nelem(d), 0, 0);
                        free(g);
                        af_release_array(out);
                    }
                    af_release_array(a);
                    free(x);
                    free(ref);
                }
}

TEST(medfilt_special_cases) {
    dim_t d[4] = {12, 1, 1, 1};
    double *x = rand_for(f32, 12);
    af_array col = em_test_make(x, 1, d, f32), out = NULL, ref1 = NULL;
    /* A column vector goes to medfilt1. */
    CHECK_AF(af_medfilt2(&out, col, 5, 5, AF_PAD_ZERO));
    CHECK_AF(af_medfilt1(&ref1, col, 5, AF_PAD_ZERO));
    dim_t n;
    double *a = em_test_read(out, &n), *b = em_test_read(ref1, &n);
    CHECK_CLOSE(a, b, 12, 0, 0);
    free(a);
    free(b);
    af_release_array(out);
    af_release_array(ref1);
    /* A window of 1 gives the input back. */
    CHECK_AF(af_medfilt1(&out, col, 1, AF_PAD_ZERO));
    a = em_test_read(out, &n);
    CHECK_CLOSE(a, x, 12, 0, 0);
    free(a);
    af_release_array(out);
    /* A large window (beyond the per-thread array of the CUDA kernel). */
    dim_t d2[4] = {20, 18, 1, 1};
    double *y = rand_for(f32, 360);
    af_array img = em_test_make(y, 2, d2, f32);
    CHECK_AF(af_medfilt2(&out, img, 9, 9, AF_PAD_ZERO));
    double *ref = malloc(sizeof(double) * 360);
    ref_medfilt(y, d2, 9, 9, false, f32, ref);
    a = em_test_read(out, &n);
    CHECK_CLOSE(a, ref, 360, 0, 0);
    free(a);
    free(ref);
    af_release_array(out);
    /* Bad input. */
    out = NULL;
    CHECK_ERR(af_medfilt2(&out, img, 3, 5, AF_PAD_ZERO), AF_ERR_ARG);
    CHECK_ERR(af_medfilt2(&out, img, 0, 0, AF_PAD_ZERO), AF_ERR_ARG);
    CHECK_ERR(af_medfilt2(&out, img, 3, 3, AF_PAD_CLAMP_TO_EDGE), AF_ERR_ARG);
    CHECK_ERR(af_medfilt1(&out, img, 0, AF_PAD_ZERO), AF_ERR_ARG);
    CHECK_ERR(af_medfilt1(&out, img, 3, AF_PAD_PERIODIC), AF_ERR_ARG);
    af_array i64 = em_test_make(y, 2, d2, s64);
    CHECK_ERR(af_medfilt2(&out, i64, 3, 3, AF_PAD_ZERO), AF_ERR_TYPE);
    dim_t e[4] = {0, 1, 1, 1};
    af_array empty = NULL;
    CHECK_AF(af_create_handle(&empty, 1, e, f32));
    CHECK_ERR(af_medfilt1(&out, empty, 3, AF_PAD_ZERO), AF_ERR_SIZE);
    CHECK(out == NULL);
    af_release_array(empty);
    af_release_array(i64);
    af_release_array(img);
    af_release_array(col);
    free(x);
    free(y);
}

/* ---- approx ---- */

static bool cplx(af_dtype t) {
    return t == c32 || t == c64;
}

/* ArrayFire's interpolation along a line of n values (complex pairs, stride st pairs) at x in
 * [0, n-1]: order 1 nearest/lower, 2 linear (cosine-smoothed for the _COSINE types), 3 cubic or
 * Catmull-Rom spline with clamped stencils. */
static void ref_cubic(const double v[4], double x, bool spline, double *out) {
    double a0, a1, a2, a3;
    if (spline) {
        a0 = -0.5 * v[0] + 1.5 * v[1] - 1.5 * v[2] + 0.5 * v[3];
        a1 = v[0] - 2.5 * v[1] + 2.0 * v[2] - 0.5 * v[3];
        a2 = -0.5 * v[0] + 0.5 * v[2];
        a3 = v[1];
    } else {
        a0 = v[3] - v[2] - v[0] + v[1];
        a1 = v[0] - v[1] - a0;
        a2 = v[2] - v[0];
        a3 = v[1];
    }
    *out = a0 * x * x * x + a1 * x * x + a2 * x + a3;
}

static int order_of(af_interp_type m) {
    switch (m) {
    case AF_INTERP_NEAREST:
    case AF_INTERP_LOWER:
        return 1;
    case AF_INTERP_LINEAR:
    case AF_INTERP_BILINEAR:
    case AF_INTERP_LINEAR_COSINE:
    case AF_INTERP_BILINEAR_COSINE:
        return 2;
    default:
        return 3;
    }
}

/* 2-D (ny > 0) or 1-D value at (x, y) of the grid starting at p with strides sx, sy (pairs). */
static void ref_interp(const double *p, dim_t sx, dim_t nx, dim_t sy, dim_t ny, double x, double y,
                       af_interp_type m, bool two, double out[2]) {
    int order = order_of(m);
    for (int l = 0; l < 2; l++) {
        if (order == 1) {
            bool low = m == AF_INTERP_LOWER;
            dim_t i = (dim_t)(low ? floor(x) : round(x)),
                  j = two ? (dim_t)(low ? floor(y) : round(y)) : 0;
            out[l] = p[2 * (i * sx + j * sy) + l];
            continue;
        }
        dim_t gx = (dim_t)floor(x), gy = two ? (dim_t)floor(y) : 0;
        double ox = x - gx, oy = y - gy;
        if (order == 2) {
            bool cosine = m == AF_INTERP_LINEAR_COSINE || m == AF_INTERP_BILINEAR_COSINE;
            double xr = cosine ? (1 - cos(ox * PI)) / 2 : ox,
                   yr = cosine ? (1 - cos(oy * PI)) / 2 : oy;
            bool cx = gx + 1 < nx, cy = gy + 1 < ny;
            double v00 = p[2 * (gx * sx + gy * sy) + l];
            double v01 = cx ? p[2 * ((gx + 1) * sx + gy * sy) + l] : 0;
            double r0 = (1 - xr) * v00 + xr * v01;
            if (!two) {
                out[l] = r0;
                continue;
            }
            double v10 = cy ? p[2 * (gx * sx + (gy + 1) * sy) + l] : 0;
            double v11 = cx && cy ? p[2 * ((gx + 1) * sx + (gy + 1) * sy) + l] : 0;
            double r1 = (1 - xr) * v10 + xr * v11;
            out[l] = (1 - yr) * r0 + yr * r1;
            continue;
        }
        bool spline = m == AF_INTERP_CUBIC_SPLINE || m == AF_INTERP_BICUBIC_SPLINE;
        dim_t ox4[4] = {gx - 1 >= 0 ? -1 : 0, 0, gx + 1 < nx ? 1 : 0,
                        gx + 2 < nx ? 2 : (gx + 1 < nx ? 1 : 0)};
        dim_t oy4[4] = {gy - 1 >= 0 ? -1 : 0, 0, gy + 1 < ny ? 1 : 0,
                        gy + 2 < ny ? 2 : (gy + 1 < ny ? 1 : 0)};
        double rows[4];
        for (int j = 0; j < (two ? 4 : 1); j++) {
            double v[4];
            for (int i = 0; i < 4; i++)
                v[i] = p[2 * ((gx + ox4[i]) * sx + (two ? (gy + oy4[j]) * sy : 0)) + l];
            ref_cubic(v, ox, spline, &rows[j]);
        }
        if (two)
            ref_cubic(rows, oy, spline, &out[l]);
        else
            out[l] = rows[0];
    }
}

static double *rand_vals(af_dtype t, dim_t n) {
    double *x = calloc(2 * (size_t)n + 2, sizeof(double));
    for (dim_t i = 0; i < n; i++) {
        x[2 * i] = em_test_rand_uniform(-2, 2);
        x[2 * i + 1] = cplx(t) ? em_test_rand_uniform(-2, 2) : 0;
        if (t == f32 || t == c32) {
            x[2 * i] = (float)x[2 * i];
            x[2 * i + 1] = (float)x[2 * i + 1];
        }
    }
    return x;
}

static af_array make_vals(const double *x, const dim_t d[4], af_dtype t) {
    if (cplx(t)) return em_test_make(x, 4, d, t);
    dim_t n = nelem(d);
    double *r = malloc(sizeof(double) * (size_t)(n + 1));
    for (dim_t i = 0; i < n; i++)
        r[i] = x[2 * i];
    af_array a = em_test_make(r, 4, d, t);
    free(r);
    return a;
}

static double *read_vals(af_array a, af_dtype t, dim_t *n) {
    double *v = em_test_read(a, n);
    if (!v || cplx(t)) return v;
    double *p = calloc(2 * (size_t)*n + 2, sizeof(double));
    for (dim_t i = 0; i < *n; i++)
        p[2 * i] = v[i];
    free(v);
    return p;
}

/* Positions in [-1.5, n + 0.5): some off the grid on both sides. */
static double *rand_pos(dim_t count, dim_t n, bool single) {
    double *p = malloc(sizeof(double) * (size_t)(count + 1));
    for (dim_t i = 0; i < count; i++) {
        p[i] = em_test_rand_uniform(-1.5, (double)n + 0.5);
        if (i % 7 == 3) p[i] = (double)(i % n); /* exactly on a node */
        if (single) p[i] = (float)p[i];
    }
    return p;
}

/* One approx1/approx2 call checked against the reference. dims of the input `id`, positions
 * `pd`; xdim/ydim interpolated with start/step. */
static void check_approx(af_dtype t, const dim_t id[4], const dim_t pd[4], int xdim, int ydim,
                         bool two, double beg, double step, af_interp_type m, bool uniform,
                         bool v2) {
    bool single = t == f32 || t == c32;
    af_dtype pt = single ? f32 : f64;
    double *v = rand_vals(t, nelem(id));
    dim_t nx = id[xdim], ny = two ? id[ydim] : 1;
    double *p0 = rand_pos(nelem(pd), nx, single),
           *p1 = two ? rand_pos(nelem(pd), ny, single) : NULL;
    /* Positions for a start and step: pos = beg + step * index. */
    for (dim_t i = 0; i < nelem(pd); i++) {
        p0[i] = beg + step * p0[i];
        if (single) p0[i] = (float)p0[i];
        if (two) {
            p1[i] = beg + step * p1[i];
            if (single) p1[i] = (float)p1[i];
        }
    }
    af_array in = make_vals(v, id, t), a0 = em_test_make(p0, 4, pd, pt);
    af_array a1 = two ? em_test_make(p1, 4, pd, pt) : NULL, out = NULL;
    dim_t od[4] = {id[0], id[1], id[2], id[3]};
    od[xdim] = pd[xdim];
    if (two) od[ydim] = pd[ydim];
    const float off_grid = -7.5f;
    af_array keep = NULL;
    if (v2) {
        /* An existing output, shared with a second handle that must keep its values. */
        double *z = calloc(2 * (size_t)nelem(od) + 2, sizeof(double));
        out = make_vals(z, od, t);
        free(z);
        CHECK_AF(af_retain_array(&keep, out));
    }
    af_err err;
    if (!two)
        err = uniform ? (v2 ? af_approx1_uniform_v2 : af_approx1_uniform)(&out, in, a0, xdim, beg,
                                                                          step, m, off_grid)
                      : (v2 ? af_approx1_v2 : af_approx1)(&out, in, a0, m, off_grid);
    else
        err = uniform ? (v2 ? af_approx2_uniform_v2 : af_approx2_uniform)(
                            &out, in, a0, xdim, beg, step, a1, ydim, beg, step, m, off_grid)
                      : (v2 ? af_approx2_v2 : af_approx2)(&out, in, a0, a1, m, off_grid);
    CHECK_AF(err);
    dim_t ist[4] = {1, id[0], id[0] * id[1], id[0] * id[1] * id[2]};
    double *ref = calloc(2 * (size_t)nelem(od) + 2, sizeof(double));
    for (dim_t e = 0; e < nelem(od); e++) {
        dim_t c[4] = {e % od[0], (e / od[0]) % od[1], (e / (od[0] * od[1])) % od[2],
                      e / (od[0] * od[1] * od[2])};
        dim_t po = 0, io = 0, st = 1;
        for (int k = 0; k < 4; k++) {
            if (pd[k] > 1) po += c[k] * st;
            st *= pd[k];
        }
        for (int k = 0; k < 4; k++)
            if (k != xdim && (!two || k != ydim) && id[k] > 1) io += c[k] * ist[k];
        double x, y = 0;
        if (single) {
            x = (float)(((float)p0[po] - (float)beg) / (float)step);
            if (two) y = (float)(((float)p1[po] - (float)beg) / (float)step);
        } else {
            x = (p0[po] - beg) / step;
            if (two) y = (p1[po] - beg) / step;
        }
        if (x < 0 || nx < x + 1 || (two && (y < 0 || ny < y + 1))) {
            ref[2 * e] = off_grid;
            ref[2 * e + 1] = 0;
        } else {
            ref_interp(v + 2 * io, ist[xdim], nx, two ? ist[ydim] : 0, ny, x, y, m, two,
                       ref + 2 * e);
        }
    }
    if (err == AF_SUCCESS) {
        dim_t n;
        double *g = read_vals(out, t, &n);
        CHECK(n == nelem(od));
        if (g && n == nelem(od)) CHECK_CLOSE(g, ref, 2 * (size_t)n, 0, single ? 2e-5 : 1e-12);
        free(g);
        if (keep) {
            double *k0 = read_vals(keep, t, &n), *zero = calloc(2 * (size_t)n + 2, sizeof(double));
            CHECK_CLOSE(k0, zero, 2 * (size_t)n, 0, 0);
            free(k0);
            free(zero);
        }
    }
    af_release_array(keep);
    af_release_array(out);
    af_release_array(in);
    af_release_array(a0);
    af_release_array(a1);
    free(v);
    free(p0);
    free(p1);
    free(ref);
}

static const af_dtype approx_types[] = {f32, f64, c32, c64};
static const af_interp_type methods1[] = {AF_INTERP_NEAREST, AF_INTERP_LOWER,
                                          AF_INTERP_LINEAR,  AF_INTERP_LINEAR_COSINE,
                                          AF_INTERP_CUBIC,   AF_INTERP_CUBIC_SPLINE};
static const af_interp_type methods2[] = {
    AF_INTERP_NEAREST,       AF_INTERP_LOWER,           AF_INTERP_LINEAR, AF_INTERP_BILINEAR,
    AF_INTERP_LINEAR_COSINE, AF_INTERP_BILINEAR_COSINE, AF_INTERP_CUBIC,  AF_INTERP_BICUBIC,
    AF_INTERP_CUBIC_SPLINE,  AF_INTERP_BICUBIC_SPLINE};

TEST(approx1_methods_and_layouts) {
    for (int ti = 0; ti < 4; ti++)
        for (size_t mi = 0; mi < sizeof(methods1) / sizeof(methods1[0]); mi++) {
            af_dtype t = approx_types[ti];
            af_interp_type m = methods1[mi];
            /* Positions repeating over the columns, and one set per column. */
            check_approx(t, (dim_t[4]){10, 3, 1, 1}, (dim_t[4]){25, 1, 1, 1}, 0, 0, false, 0, 1, m,
                         false, false);
            check_approx(t, (dim_t[4]){7, 2, 3, 1}, (dim_t[4]){9, 2, 3, 1}, 0, 0, false, 0, 1, m,
                         false, true);
            /* Uniform: along dim 1 with a start and step. */
            check_approx(t, (dim_t[4]){4, 9, 2, 1}, (dim_t[4]){1, 13, 1, 1}, 1, 0, false, -2.0, 0.5,
                         m, true, false);
            check_approx(t, (dim_t[4]){5, 3, 8, 1}, (dim_t[4]){5, 3, 11, 1}, 2, 0, false, 1.0, 2.0,
                         m, true, true);
            check_approx(t, (dim_t[4]){1, 1, 1, 1}, (dim_t[4]){5, 1, 1, 1}, 0, 0, false, 0, 1, m,
                         false, false);
        }
}

TEST(approx2_methods_and_layouts) {
    for (int ti = 0; ti < 4; ti++)
        for (size_t mi = 0; mi < sizeof(methods2) / sizeof(methods2[0]); mi++) {
            af_dtype t = approx_types[ti];
            af_interp_type m = methods2[mi];
            check_approx(t, (dim_t[4]){9, 8, 1, 1}, (dim_t[4]){6, 5, 1, 1}, 0, 1, true, 0, 1, m,
                         false, false);
            check_approx(t, (dim_t[4]){7, 6, 3, 1}, (dim_t[4]){4, 5, 1, 1}, 0, 1, true, 0, 1, m,
                         false, true);
            check_approx(t, (dim_t[4]){6, 5, 2, 2}, (dim_t[4]){3, 4, 2, 2}, 0, 1, true, 0, 1, m,
                         false, false);
            check_approx(t, (dim_t[4]){3, 7, 6, 1}, (dim_t[4]){1, 5, 4, 1}, 1, 2, true, 0.5, 1.5, m,
                         true, false);
            check_approx(t, (dim_t[4]){3, 7, 6, 2}, (dim_t[4]){3, 5, 4, 2}, 1, 2, true, -1, 0.25, m,
                         true, true);
        }
}

/* Strided views as the median filter's input and as approx1's values and positions. */
TEST(signal_strided_view_inputs) {
    dim_t bd[4] = {19, 7, 1, 1};
    double *x = rand_for(f32, nelem(bd));
    af_array base = em_test_make(x, 2, bd, f32), v = NULL, out = NULL;
    af_seq idx[2] = {{0, 18, 2}, {1, 5, 1}};
    af_err err = af_index(&v, base, 2, idx);
    if (err != AF_SUCCESS) {
        CHECK(err == AF_ERR_NOT_SUPPORTED);
    } else {
        dim_t vd[4] = {10, 5, 1, 1};
        double vals[50], ref[50];
        for (dim_t j = 0; j < 5; j++)
            for (dim_t i = 0; i < 10; i++)
                vals[i + 10 * j] = x[2 * i + 19 * (j + 1)];
        CHECK_AF(af_medfilt2(&out, v, 3, 3, AF_PAD_SYM));
        ref_medfilt(vals, vd, 3, 3, true, f32, ref);
        dim_t n;
        double *g = em_test_read(out, &n);
        CHECK_CLOSE(g, ref, 50, 0, 0);
        free(g);
        af_release_array(out);
        out = NULL;
        /* approx1 with the view as values and a view of positions (every other of 20). */
        double pos[20];
        for (int i = 0; i < 20; i++)
            pos[i] = (float)(i * 0.45);
        dim_t pd[4] = {20, 1, 1, 1};
        af_array pb = em_test_make(pos, 1, pd, f32), pv = NULL;
        af_seq pidx[1] = {{0, 19, 2}};
        CHECK_AF(af_index(&pv, pb, 1, pidx));
        CHECK_AF(af_approx1(&out, v, pv, AF_INTERP_LINEAR, -1.0f));
        double want[50];
        for (dim_t j = 0; j < 5; j++)
            for (dim_t i = 0; i < 10; i++) {
                double p = (float)pos[2 * i], r[2];
                double line[20];
                for (int k = 0; k < 10; k++) {
                    line[2 * k] = vals[k + 10 * j];
                    line[2 * k + 1] = 0;
                }
                if (p > 9) {
                    r[0] = -1;
                } else {
                    ref_interp(line, 1, 10, 0, 1, p, 0, AF_INTERP_LINEAR, false, r);
                }
                want[i + 10 * j] = r[0];
            }
        g = em_test_read(out, &n);
        CHECK(n == 50);
        CHECK_CLOSE(g, want, 50, 0, 2e-5);
        free(g);
        af_release_array(out);
        af_release_array(pv);
        af_release_array(pb);
        af_release_array(v);
    }
    af_release_array(base);
    free(x);
}

TEST(approx_bad_input) {
    dim_t d[4] = {8, 1, 1, 1}, p2[4] = {4, 1, 1, 1};
    double x[16] = {0};
    af_array in = em_test_make(x, 1, d, f32), pos = em_test_make(x, 1, p2, f32);
    af_array pos64 = em_test_make(x, 1, p2, f64), ini = em_test_make(x, 1, d, s32), out = NULL;
    CHECK_ERR(af_approx1(&out, in, pos, AF_INTERP_BILINEAR, 0), AF_ERR_ARG);
    CHECK_ERR(af_approx1(&out, in, pos, (af_interp_type)42, 0), AF_ERR_ARG);
    CHECK_ERR(af_approx1(&out, ini, pos, AF_INTERP_LINEAR, 0), AF_ERR_ARG);
    CHECK_ERR(af_approx1(&out, in, pos64, AF_INTERP_LINEAR, 0), AF_ERR_ARG);
    CHECK_ERR(af_approx1_uniform(&out, in, pos, 0, 0, 0.0, AF_INTERP_LINEAR, 0), AF_ERR_ARG);
    CHECK_ERR(af_approx1_uniform(&out, in, pos, 4, 0, 1.0, AF_INTERP_LINEAR, 0), AF_ERR_ARG);
    CHECK_ERR(af_approx2(&out, in, pos, NULL, AF_INTERP_LINEAR, 0), AF_ERR_ARG);
    CHECK_ERR(af_approx2(&out, in, pos, pos64, AF_INTERP_LINEAR, 0), AF_ERR_ARG);
    CHECK_ERR(af_approx1(NULL, in, pos, AF_INTERP_LINEAR, 0), AF_ERR_ARG);
    /* Positions with other dims that match neither 1 nor the input. */
    dim_t pb[4] = {4, 3, 1, 1}, ib[4] = {8, 2, 1, 1};
    af_array posb = em_test_make(x, 2, pb, f32), inb = em_test_make(x, 2, ib, f32);
    CHECK_ERR(af_approx1(&out, inb, posb, AF_INTERP_LINEAR, 0), AF_ERR_SIZE);
    /* _v2 with an output of the wrong dims. */
    af_array wrong = em_test_make(x, 1, d, f32);
    CHECK_ERR(af_approx1_v2(&wrong, in, pos, AF_INTERP_LINEAR, 0), AF_ERR_SIZE);
    CHECK(out == NULL);
    af_array arrs[] = {in, pos, pos64, ini, posb, inb, wrong};
    for (size_t i = 0; i < sizeof(arrs) / sizeof(arrs[0]); i++)
        af_release_array(arrs[i]);
}

/* A NaN position reads nothing and gives NaN on every backend; a position past the grid gives
 * the off-grid value. */
TEST(approx1_nan_position) {
    const double in[4] = {1, 2, 3, 4}, pos[3] = {0.5, NAN, 10};
    dim_t n4 = 4, n3 = 3;
    af_array a = em_test_make(in, 1, &n4, f32), p = em_test_make(pos, 1, &n3, f32), o = NULL;
    CHECK_AF(af_approx1(&o, a, p, AF_INTERP_LINEAR, -7.0f));
    dim_t n = 0;
    double *got = o ? em_test_read(o, &n) : NULL;
    CHECK(got && n == 3);
    if (got && n == 3) {
        CHECK(fabs(got[0] - 1.5) < 1e-6);
        CHECK(isnan(got[1]));
        CHECK(got[2] == -7.0);
    }
    free(got);
    af_release_array(a);
    af_release_array(p);
    if (o) af_release_array(o);
}
