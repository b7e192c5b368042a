/* algorithm.h's sort, sort_index, sort_by_key, set_unique, set_union and set_intersect, and
 * statistics.h's median, median_all and topk, against plain-C references computed here in
 * double: qsort with ties broken by input index (so the reference is stable), NaN above +inf and
 * -0 equal to +0 (the order of src/backend/algorithm.h). Every accepted dtype, every dim 0-3,
 * both directions, NaN and inf, empty, 1-element, odd and 4-D shapes, views, lines long enough
 * for the multi-threaded paths, and the error of each bad argument. */
#include "test.h"

#include <string.h>

static const af_dtype sort_types[] = {f32, f64, s32, u32, s16, u16, s64, u64, u8, b8, s8};
#define NSORT ((int)(sizeof(sort_types) / sizeof(sort_types[0])))

static dim_t count4(const dim_t d[4]) {
    return d[0] * d[1] * d[2] * d[3];
}

static bool is_float(af_dtype t) {
    return t == f32 || t == f64 || t == f16;
}

/* Random values that fit t, with NaN/inf/zeros first for floating dtypes; few distinct values
 * when `ties`, so equal keys are common. */
static void fill_for(double *x, size_t n, af_dtype t, bool ties) {
    double lo = -100, hi = 100;
    if (t == u8 || t == u16 || t == u32 || t == u64) lo = 0, hi = 250;
    if (t == s8) lo = -120, hi = 120;
    if (t == b8) lo = 0, hi = 2;
    em_test_fill(x, n, lo, hi, is_float(t));
    for (size_t i = 0; i < n; i++) {
        if (isnan(x[i]) || isinf(x[i])) continue;
        if (ties || !is_float(t)) x[i] = floor(x[i] / (ties ? 20 : 1));
    }
}

/* An array of t from x, and x replaced by the values it holds. */
static af_array make_stored(double *x, const dim_t d[4], af_dtype t) {
    af_array a = em_test_make(x, 4, d, t);
    dim_t n = 0;
    double *back = em_test_read(a, &n);
    if (back) {
        memcpy(x, back, (size_t)n * sizeof(double));
        free(back);
    }
    return a;
}

/* The total order: NaN above everything, -0 == +0. */
static int tot_cmp(double a, double b) {
    if (isnan(a)) return isnan(b) ? 0 : 1;
    if (isnan(b)) return -1;
    return a < b ? -1 : a > b ? 1 : 0;
}

typedef struct {
    double v;
    dim_t i;
} vi;
static bool g_desc;
static int vi_cmp(const void *pa, const void *pb) {
    const vi *a = pa, *b = pb;
    int c = tot_cmp(a->v, b->v);
    if (g_desc) c = -c;
    if (c) return c;
    return a->i < b->i ? -1 : a->i > b->i;
}

/* Stable reference sort of x along dim: sorted values and input indices along dim. */
static void ref_sort(const double *x, const dim_t d[4], int dim, bool asc, double *ov, double *oi) {
    dim_t inner = 1, outer = 1, len = d[dim];
    for (int k = 0; k < dim; k++)
        inner *= d[k];
    for (int k = dim + 1; k < 4; k++)
        outer *= d[k];
    vi *buf = malloc(sizeof(vi) * (size_t)(len ? len : 1));
    g_desc = !asc;
    for (dim_t o = 0; o < outer; o++)
        for (dim_t in = 0; in < inner; in++) {
            dim_t base = in + o * inner * len;
            for (dim_t j = 0; j < len; j++)
                buf[j] = (vi){x[base + j * inner], j};
            qsort(buf, (size_t)len, sizeof(vi), vi_cmp);
            for (dim_t j = 0; j < len; j++) {
                ov[base + j * inner] = buf[j].v;
                if (oi) oi[base + j * inner] = (double)buf[j].i;
            }
        }
    free(buf);
}

static void check_dims(af_array a, af_dtype t, const dim_t d[4], const char *what) {
    dim_t g[4];
    af_dtype gt;
    CHECK_AF(af_get_dims(&g[0], &g[1], &g[2], &g[3], a));
    CHECK_AF(af_get_type(&gt, a));
    if (gt != t || memcmp(g, d, sizeof(g)) != 0)
        em_test_fail(__FILE__, __LINE__, "%s: dtype %s dims [%lld %lld %lld %lld]", what,
                     em_test_dtype_name(gt), (long long)g[0], (long long)g[1], (long long)g[2],
                     (long long)g[3]);
}

/* Reads a and compares with ref exactly (NaN with NaN, -0 with +0). */
static void check_values(af_array a, const double *ref, dim_t n, const char *what, af_dtype t,
                         int dim, bool asc) {
    dim_t got_n = 0;
    double *got = em_test_read(a, &got_n);
    if (!got) return;
    af_dtype at = f32;
    af_get_type(&at, a);
    if (at == c32 || at == c64) got_n *= 2; /* n counts doubles: complex values are pairs */
    if (got_n != n) {
        em_test_fail(__FILE__, __LINE__, "%s: %lld elements, expected %lld", what, (long long)got_n,
                     (long long)n);
    } else {
        for (dim_t i = 0; i < n; i++)
            if (tot_cmp(got[i], ref[i]) != 0) {
                em_test_fail(__FILE__, __LINE__,
                             "%s (%s, dim %d, %s): element %lld is %.17g, expected %.17g", what,
                             em_test_dtype_name(t), dim, asc ? "ascending" : "descending",
                             (long long)i, got[i], ref[i]);
                break;
            }
    }
    free(got);
}

static const dim_t shapes[][4] = {{37, 1, 1, 1}, {5, 6, 1, 1}, {3, 4, 5, 2},
                                  {1, 7, 1, 1},  {2, 3, 1, 4}, {1, 1, 1, 1}};
#define NSHAPES ((int)(sizeof(shapes) / sizeof(shapes[0])))

/* ---- sort, sort_index, sort_by_key ---------------------------------------------------------- */

TEST(sort_every_dtype_dim_direction) {
    for (int ti = 0; ti < NSORT; ti++) {
        af_dtype t = sort_types[ti];
        for (int si = 0; si < NSHAPES; si++) {
            const dim_t *d = shapes[si];
            dim_t n = count4(d);
            double *x = malloc(sizeof(double) * (size_t)n),
                   *rv = malloc(sizeof(double) * (size_t)n);
            fill_for(x, (size_t)n, t, si % 2 == 1);
            af_array a = make_stored(x, d, t);
            for (int dim = 0; dim < 4; dim++)
                for (int asc = 0; asc < 2; asc++) {
                    af_array s = 0;
                    CHECK_AF(af_sort(&s, a, (unsigned)dim, asc));
                    if (!s) continue;
                    check_dims(s, t, d, "af_sort");
                    ref_sort(x, d, dim, asc, rv, NULL);
                    check_values(s, rv, n, "af_sort", t, dim, asc);
                    af_release_array(s);
                }
            af_release_array(a);
            free(x);
            free(rv);
        }
    }
}

TEST(sort_index_every_dtype_dim_direction) {
    for (int ti = 0; ti < NSORT; ti++) {
        af_dtype t = sort_types[ti];
        for (int si = 0; si < NSHAPES; si++) {
            const dim_t *d = shapes[si];
            dim_t n = count4(d);
            double *x = malloc(sizeof(double) * (size_t)n),
                   *rv = malloc(sizeof(double) * (size_t)n),
                   *ri = malloc(sizeof(double) * (size_t)n);
            /* Ties on every other shape: the indices then check stability. */
            fill_for(x, (size_t)n, t, si % 2 == 0);
            af_array a = make_stored(x, d, t);
            for (int dim = 0; dim < 4; dim++)
                for (int asc = 0; asc < 2; asc++) {
                    af_array s = 0, idx = 0;
                    CHECK_AF(af_sort_index(&s, &idx, a, (unsigned)dim, asc));
                    if (!s || !idx) continue;
                    check_dims(s, t, d, "af_sort_index values");
                    check_dims(idx, u32, d, "af_sort_index indices");
                    ref_sort(x, d, dim, asc, rv, ri);
                    check_values(s, rv, n, "af_sort_index values", t, dim, asc);
                    check_values(idx, ri, n, "af_sort_index indices", t, dim, asc);
                    af_release_array(s);
                    af_release_array(idx);
                }
            af_release_array(a);
            free(x);
            free(rv);
            free(ri);
        }
    }
}

/* sort_by_key moves each value type with its key; equal keys keep the values' order. */
TEST(sort_by_key_values_and_stability) {
    static const af_dtype vtypes[] = {f32, c32, f64, c64, b8, s32, u32, u8, s64, u64, s16, u16, s8};
    const dim_t d[4] = {9, 4, 3, 1};
    dim_t n = count4(d);
    for (int ki = 0; ki < NSORT; ki++) {
        af_dtype kt = sort_types[ki];
        double *k = malloc(sizeof(double) * (size_t)n);
        fill_for(k, (size_t)n, kt, true);
        af_array ka = make_stored(k, d, kt);
        for (size_t vi_ = 0; vi_ < sizeof(vtypes) / sizeof(vtypes[0]); vi_++) {
            af_dtype vt = vtypes[vi_];
            bool cx = vt == c32 || vt == c64;
            double *v = malloc(sizeof(double) * (size_t)n * 2);
            /* Value j is j (mod what the dtype holds), so the order of equal keys shows. */
            for (dim_t j = 0; j < n * (cx ? 2 : 1); j++)
                v[j] = vt == b8 ? (double)(j % 2) : (double)(j % 100);
            af_array va = em_test_make(v, 4, d, vt);
            for (int dim = 0; dim < 3; dim++)
                for (int asc = 0; asc < 2; asc++) {
                    af_array ok = 0, ov = 0;
                    CHECK_AF(af_sort_by_key(&ok, &ov, ka, va, (unsigned)dim, asc));
                    if (!ok || !ov) continue;
                    check_dims(ok, kt, d, "af_sort_by_key keys");
                    check_dims(ov, vt, d, "af_sort_by_key values");
                    double *rk = malloc(sizeof(double) * (size_t)n),
                           *ri = malloc(sizeof(double) * (size_t)n),
                           *rv = malloc(sizeof(double) * (size_t)n * 2);
                    ref_sort(k, d, dim, asc, rk, ri);
                    dim_t inner = 1;
                    for (int q = 0; q < dim; q++)
                        inner *= d[q];
                    for (dim_t e = 0; e < n; e++) {
                        /* Element e came from index ri[e] along dim of its line. */
                        dim_t pos = (e / inner) % d[dim];
                        dim_t src = e + ((dim_t)ri[e] - pos) * inner;
                        if (cx) {
                            rv[2 * e] = v[2 * src];
                            rv[2 * e + 1] = v[2 * src + 1];
                        } else {
                            rv[e] = v[src];
                        }
                    }
                    check_values(ok, rk, n, "af_sort_by_key keys", kt, dim, asc);
                    check_values(ov, rv, n * (cx ? 2 : 1), "af_sort_by_key values", vt, dim, asc);
                    free(rk);
                    free(ri);
                    free(rv);
                    af_release_array(ok);
                    af_release_array(ov);
                }
            af_release_array(va);
            free(v);
        }
        af_release_array(ka);
        free(k);
    }
}

/* NaN of either sign sorts above +inf and comes out as NaN; -0 equals +0 (stably). */
TEST(sort_nan_inf_zero_placement) {
    const double x[] = {1, NAN, -INFINITY, -0.0, INFINITY, -NAN, 0.0, -2};
    const dim_t d[4] = {8, 1, 1, 1};
    const double asc_v[] = {-INFINITY, -2, 0, 0, 1, INFINITY, NAN, NAN};
    const double asc_i[] = {2, 7, 3, 6, 0, 4, 1, 5};
    const double desc_v[] = {NAN, NAN, INFINITY, 1, 0, 0, -2, -INFINITY};
    const double desc_i[] = {1, 5, 4, 0, 3, 6, 7, 2};
    const af_dtype ft[] = {f32, f64};
    for (int q = 0; q < 2; q++) {
        af_array a = em_test_make(x, 1, d, ft[q]), s = 0, i = 0;
        CHECK_AF(af_sort_index(&s, &i, a, 0, true));
        check_values(s, asc_v, 8, "ascending values", ft[q], 0, true);
        check_values(i, asc_i, 8, "ascending indices", ft[q], 0, true);
        af_release_array(s);
        af_release_array(i);
        CHECK_AF(af_sort_index(&s, &i, a, 0, false));
        check_values(s, desc_v, 8, "descending values", ft[q], 0, false);
        check_values(i, desc_i, 8, "descending indices", ft[q], 0, false);
        af_release_array(s);
        af_release_array(i);
        af_release_array(a);
    }
}

/* Lines long enough for the multi-threaded radix sort, with and without payload, and many
 * shorter lines shared out between threads. */
TEST(sort_long_lines) {
    const dim_t shapes_[][4] = {{200003, 1, 1, 1}, {70001, 3, 1, 1}, {3000, 40, 1, 1}};
    const af_dtype ts[] = {f32, s32, u64, f64, s16, u8};
    for (int si = 0; si < 3; si++)
        for (int ti = 0; ti < 6; ti++) {
            af_dtype t = ts[ti];
            const dim_t *d = shapes_[si];
            dim_t n = count4(d);
            double *x = malloc(sizeof(double) * (size_t)n),
                   *rv = malloc(sizeof(double) * (size_t)n),
                   *ri = malloc(sizeof(double) * (size_t)n);
            fill_for(x, (size_t)n, t, ti % 2 == 1);
            if (t == f32 || t == f64)
                for (dim_t j = 0; j < n; j++)
                    if (!isnan(x[j]) && !isinf(x[j])) x[j] = em_test_rand_uniform(-1e6, 1e6);
            af_array a = make_stored(x, d, t);
            for (int asc = 0; asc < 2; asc++) {
                af_array s = 0, i = 0;
                CHECK_AF(af_sort_index(&s, &i, a, 0, asc));
                ref_sort(x, d, 0, asc, rv, ri);
                check_values(s, rv, n, "long sort_index values", t, 0, asc);
                check_values(i, ri, n, "long sort_index indices", t, 0, asc);
                af_release_array(s);
                af_release_array(i);
                CHECK_AF(af_sort(&s, a, 0, asc));
                check_values(s, rv, n, "long sort", t, 0, asc);
                af_release_array(s);
            }
            af_release_array(a);
            free(x);
            free(rv);
            free(ri);
        }
}

TEST(sort_empty_and_one_element) {
    const dim_t d0[4] = {0, 1, 1, 1}, d1[4] = {1, 1, 1, 1};
    af_array e = 0, s = 0, i = 0, k = 0, v = 0;
    CHECK_AF(af_create_handle(&e, 1, d0, f32));
    CHECK_AF(af_sort(&s, e, 0, true));
    check_dims(s, f32, d0, "sort of empty");
    af_release_array(s);
    CHECK_AF(af_sort_index(&s, &i, e, 0, true));
    check_dims(s, f32, d0, "sort_index of empty");
    check_dims(i, f32, d0, "sort_index indices of empty (the input's dtype, as ArrayFire)");
    af_release_array(s);
    af_release_array(i);
    CHECK_AF(af_sort_by_key(&k, &v, e, e, 0, true));
    check_dims(k, f32, d0, "sort_by_key of empty");
    af_release_array(k);
    af_release_array(v);
    af_release_array(e);
    const double one = 4.5;
    af_array a = em_test_make(&one, 1, d1, f64);
    CHECK_AF(af_sort_index(&s, &i, a, 0, false));
    check_values(s, &one, 1, "sort of one", f64, 0, false);
    const double zero = 0;
    check_values(i, &zero, 1, "index of one", u32, 0, false);
    af_release_array(s);
    af_release_array(i);
    af_release_array(a);
}

/* A strided view (every other row of a matrix) sorts as its own values. */
TEST(sort_view_input) {
    const dim_t d[4] = {10, 6, 1, 1};
    double x[60];
    fill_for(x, 60, f32, false);
    af_array a = make_stored(x, d, f32);
    af_seq s[2] = {{0, 9, 2}, {1, 4, 1}};
    af_array v = em_test_index_or_skip(a, 2, s);
    const dim_t vd[4] = {5, 4, 1, 1};
    double vx[20], rv[20], ri[20];
    for (int c = 0; c < 4; c++)
        for (int r = 0; r < 5; r++)
            vx[c * 5 + r] = x[(c + 1) * 10 + 2 * r];
    for (int dim = 0; dim < 2; dim++) {
        af_array o = 0, i = 0;
        CHECK_AF(af_sort_index(&o, &i, v, (unsigned)dim, true));
        ref_sort(vx, vd, dim, true, rv, ri);
        check_values(o, rv, 20, "view sort", f32, dim, true);
        check_values(i, ri, 20, "view sort indices", f32, dim, true);
        af_release_array(o);
        af_release_array(i);
    }
    af_release_array(v);
    af_release_array(a);
}

/* A lazy input is evaluated first. */
TEST(sort_lazy_input) {
    const dim_t d[4] = {11, 1, 1, 1};
    double x[11], y[11], rv[11];
    fill_for(x, 11, f32, false);
    af_array a = make_stored(x, d, f32), b = 0, s = 0;
    CHECK_AF(af_mul(&b, a, a, false));
    for (int j = 0; j < 11; j++) {
        /* Through a volatile float: GCC's vectorised loop here kept the doubles unrounded. */
        volatile float sq = (float)(x[j] * x[j]);
        y[j] = sq;
    }
    CHECK_AF(af_sort(&s, b, 0, true));
    ref_sort(y, d, 0, true, rv, NULL);
    check_values(s, rv, 11, "sort of a*a", f32, 0, true);
    af_release_array(s);
    af_release_array(b);
    af_release_array(a);
}

TEST(sort_bad_input) {
    const dim_t d[4] = {4, 1, 1, 1}, d2[4] = {2, 2, 1, 1};
    double x[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    af_array c = em_test_make(x, 1, d, c32), h = em_test_make(x, 1, d, f16);
    af_array a = em_test_make(x, 1, d, f32), m = em_test_make(x, 2, d2, f32), o = 0, i = 0;
    CHECK_ERR(af_sort(&o, c, 0, true), AF_ERR_TYPE);
    CHECK_ERR(af_sort(&o, h, 0, true), AF_ERR_TYPE);
    CHECK_ERR(af_sort_index(&o, &i, c, 0, true), AF_ERR_TYPE);
    CHECK_ERR(af_sort(&o, a, 4, true), AF_ERR_NOT_SUPPORTED);
    CHECK_ERR(af_sort(NULL, a, 0, true), AF_ERR_ARG);
    CHECK_ERR(af_sort_index(&o, NULL, a, 0, true), AF_ERR_ARG);
    CHECK_ERR(af_sort_by_key(&o, &i, a, m, 0, true), AF_ERR_SIZE);
    CHECK_ERR(af_sort_by_key(&o, &i, c, a, 0, true), AF_ERR_DIFF_TYPE);
    CHECK_ERR(af_sort_by_key(&o, &i, h, a, 0, true), AF_ERR_TYPE);
    CHECK_ERR(af_sort_by_key(&o, &i, a, h, 0, true), AF_ERR_TYPE);
    CHECK(o == 0 && i == 0);
    af_release_array(c);
    af_release_array(h);
    af_release_array(a);
    af_release_array(m);
}

/* ---- sets ----------------------------------------------------------------------------------- */

/* Sorted distinct values of x (n) by IEEE equality: each NaN kept, -0 == +0. */
static dim_t ref_unique(const double *x, dim_t n, double *out) {
    double *s = malloc(sizeof(double) * (size_t)(n ? n : 1));
    dim_t d[4] = {n, 1, 1, 1};
    ref_sort(x, d, 0, true, s, NULL);
    dim_t m = 0;
    for (dim_t i = 0; i < n; i++)
        if (i == 0 || !(s[i] == out[m - 1])) out[m++] = s[i];
    free(s);
    return m;
}

static bool ref_has(const double *x, dim_t n, double v) {
    for (dim_t i = 0; i < n; i++)
        if (x[i] == v) return true;
    return false;
}

TEST(set_unique_union_intersect_every_dtype) {
    const dim_t na = 41, nb = 29;
    for (int ti = 0; ti < NSORT; ti++) {
        af_dtype t = sort_types[ti];
        double a[41], b[29], ref[80], tmp[80];
        fill_for(a, (size_t)na, t, true);
        fill_for(b, (size_t)nb, t, true);
        /* b as a row vector: any vector orientation is accepted. */
        const dim_t da[4] = {na, 1, 1, 1}, db[4] = {1, nb, 1, 1};
        af_array aa = make_stored(a, da, t), ba = make_stored(b, db, t), o = 0;
        dim_t m = ref_unique(a, na, ref);
        const dim_t dm[4] = {m, 1, 1, 1};
        CHECK_AF(af_set_unique(&o, aa, false));
        check_dims(o, t, dm, "set_unique");
        check_values(o, ref, m, "set_unique", t, 0, true);
        af_release_array(o);
        /* is_sorted on sorted input gives the same. */
        af_array sa = 0;
        CHECK_AF(af_sort(&sa, aa, 0, true));
        CHECK_AF(af_set_unique(&o, sa, true));
        check_values(o, ref, m, "set_unique(is_sorted)", t, 0, true);
        af_release_array(o);
        /* Union. */
        memcpy(tmp, a, sizeof(a));
        memcpy(tmp + na, b, sizeof(b));
        m = ref_unique(tmp, na + nb, ref);
        for (int fl = 0; fl < 2; fl++) {
            af_array ua = 0, ub = 0;
            if (fl) {
                CHECK_AF(af_set_unique(&ua, aa, false));
                CHECK_AF(af_set_unique(&ub, ba, false));
            }
            CHECK_AF(af_set_union(&o, fl ? ua : aa, fl ? ub : ba, fl));
            check_values(o, ref, m, fl ? "set_union(is_unique)" : "set_union", t, 0, true);
            af_release_array(o);
            /* Intersection: the distinct values of a also in b (NaN never). */
            double ua_[41];
            dim_t mu = ref_unique(a, na, ua_), mi = 0;
            for (dim_t j = 0; j < mu; j++)
                if (ref_has(b, nb, ua_[j])) ref[mi++] = ua_[j];
            CHECK_AF(af_set_intersect(&o, fl ? ua : aa, fl ? ub : ba, fl));
            check_values(o, ref, mi, fl ? "set_intersect(is_unique)" : "set_intersect", t, 0, true);
            af_release_array(o);
            m = ref_unique(tmp, na + nb, ref);
            if (fl) {
                af_release_array(ua);
                af_release_array(ub);
            }
        }
        af_release_array(sa);
        af_release_array(aa);
        af_release_array(ba);
    }
}

/* is_sorted takes the input as it stands: only neighbours merge, values are not reordered. */
TEST(set_unique_is_sorted_keeps_order) {
    const double x[] = {3, 3, 1, 1, 1, 2, NAN, NAN, 3};
    const double ref[] = {3, 1, 2, NAN, NAN, 3};
    const dim_t d[4] = {9, 1, 1, 1};
    af_array a = em_test_make(x, 1, d, f32), o = 0;
    CHECK_AF(af_set_unique(&o, a, true));
    check_values(o, ref, 6, "set_unique(is_sorted)", f32, 0, true);
    af_release_array(o);
    af_release_array(a);
}

TEST(set_long_and_edges) {
    const dim_t n = 150001;
    double *x = malloc(sizeof(double) * (size_t)n), *ref = malloc(sizeof(double) * (size_t)n);
    for (dim_t j = 0; j < n; j++)
        x[j] = floor(em_test_rand_uniform(-5000, 5000));
    const dim_t d[4] = {n, 1, 1, 1};
    af_array a = em_test_make(x, 1, d, s32), o = 0;
    dim_t m = ref_unique(x, n, ref);
    CHECK_AF(af_set_unique(&o, a, false));
    check_values(o, ref, m, "long set_unique", s32, 0, true);
    af_release_array(o);
    af_release_array(a);
    free(x);
    free(ref);
    /* Empty and one-element inputs come back as they are. */
    const dim_t d0[4] = {0, 1, 1, 1}, d1[4] = {1, 1, 1, 1}, dm[4] = {2, 3, 1, 1};
    const double one = 7, six[6] = {1, 2, 3, 4, 5, 6};
    af_array e = 0, s = em_test_make(&one, 1, d1, f32), mat = em_test_make(six, 2, dm, f32);
    CHECK_AF(af_create_handle(&e, 1, d0, f32));
    CHECK_AF(af_set_unique(&o, e, false));
    check_dims(o, f32, d0, "set_unique of empty");
    af_release_array(o);
    CHECK_AF(af_set_unique(&o, s, false));
    check_values(o, &one, 1, "set_unique of one", f32, 0, true);
    af_release_array(o);
    CHECK_AF(af_set_union(&o, e, mat, false));
    check_dims(o, f32, dm, "set_union with an empty first");
    af_release_array(o);
    CHECK_AF(af_set_intersect(&o, s, e, false));
    check_dims(o, f32, d0, "set_intersect with an empty second");
    af_release_array(o);
    CHECK_AF(af_set_union(&o, s, s, false));
    check_values(o, &one, 1, "set_union of scalars", f32, 0, true);
    af_release_array(o);
    /* Bad input. */
    af_array i32 = em_test_make(six, 1, (dim_t[4]){6, 1, 1, 1}, s32),
             c = em_test_make(six, 1, (dim_t[4]){3, 1, 1, 1}, c32);
    o = 0;
    CHECK_ERR(af_set_unique(&o, mat, false), AF_ERR_ARG);
    CHECK_ERR(af_set_union(&o, mat, s, false), AF_ERR_ARG);
    CHECK_ERR(af_set_intersect(&o, s, i32, false), AF_ERR_ARG);
    CHECK_ERR(af_set_unique(&o, c, false), AF_ERR_TYPE);
    CHECK_ERR(af_set_union(&o, c, c, false), AF_ERR_TYPE);
    CHECK_ERR(af_set_unique(NULL, s, false), AF_ERR_ARG);
    CHECK(o == 0);
    af_release_array(i32);
    af_release_array(c);
    af_release_array(e);
    af_release_array(s);
    af_release_array(mat);
}

/* ---- median --------------------------------------------------------------------------------- */

/* ArrayFire's median of one line of stored values: the middle, or (x + y) * 0.5 in f32 (f64 for
 * f64 input); `all` computes in double throughout. */
static double ref_median_line(double *v, dim_t n, af_dtype t, bool all) {
    dim_t d[4] = {n, 1, 1, 1};
    double *s = malloc(sizeof(double) * (size_t)n);
    ref_sort(v, d, 0, true, s, NULL);
    double r;
    if (n % 2) {
        r = s[(n - 1) / 2];
        if (!all && t != f64) r = (float)r;
    } else if (all || t == f64) {
        r = (s[n / 2 - 1] + s[n / 2]) * 0.5;
    } else {
        float a = (float)s[n / 2 - 1], b = (float)s[n / 2];
        r = (float)((a + b) * 0.5f);
    }
    free(s);
    return r;
}

TEST(median_every_dtype_and_dim) {
    static const af_dtype mt[] = {f32, f64, s32, u32, s16, u16, u8};
    const dim_t shp[][4] = {{7, 1, 1, 1}, {6, 5, 1, 1}, {3, 4, 2, 5}, {4, 3, 6, 1}, {1, 5, 1, 1}};
    for (int ti = 0; ti < 7; ti++)
        for (int si = 0; si < 5; si++) {
            af_dtype t = mt[ti];
            const dim_t *d = shp[si];
            dim_t n = count4(d);
            double *x = malloc(sizeof(double) * (size_t)n);
            fill_for(x, (size_t)n, t, si == 3);
            af_array a = make_stored(x, d, t);
            for (int dim = 0; dim < 4; dim++) {
                af_array m = 0;
                CHECK_AF(af_median(&m, a, dim));
                if (!m) continue;
                dim_t od[4] = {d[0], d[1], d[2], d[3]};
                od[dim] = 1;
                af_dtype ot = d[dim] == 1 ? t : (t == f64 ? f64 : f32);
                check_dims(m, ot, od, "af_median");
                dim_t inner = 1, len = d[dim];
                for (int q = 0; q < dim; q++)
                    inner *= d[q];
                dim_t no = count4(od);
                double *ref = malloc(sizeof(double) * (size_t)no),
                       *line = malloc(sizeof(double) * (size_t)len);
                for (dim_t e = 0; e < no; e++) {
                    dim_t i = e % inner, o = e / inner, base = i + o * inner * len;
                    for (dim_t j = 0; j < len; j++)
                        line[j] = x[base + j * inner];
                    ref[e] = len == 1 ? line[0] : ref_median_line(line, len, t, false);
                }
                check_values(m, ref, no, "af_median", t, dim, true);
                free(ref);
                free(line);
                af_release_array(m);
            }
            double re = -1, im = -1;
            CHECK_AF(af_median_all(&re, &im, a));
            double ref = ref_median_line(x, n, t, true);
            if (tot_cmp(re, ref) != 0)
                em_test_fail(__FILE__, __LINE__, "af_median_all (%s): %.17g, expected %.17g",
                             em_test_dtype_name(t), re, ref);
            af_release_array(a);
            free(x);
        }
}

TEST(median_long_and_edges) {
    /* Long lines take the multi-threaded selection; crowded values force it to refine. */
    const dim_t lens[] = {200001, 200000, 131072};
    for (int li = 0; li < 3; li++) {
        dim_t n = lens[li];
        const dim_t d[4] = {n, 1, 1, 1};
        double *x = malloc(sizeof(double) * (size_t)n);
        for (dim_t j = 0; j < n; j++)
            x[j] = li == 2 ? 1.0 + floor(em_test_rand_uniform(0, 3)) * 1e-6
                           : em_test_rand_uniform(0, 1);
        const af_dtype ts[] = {f32, f64, s32};
        for (int ti = 0; ti < 3; ti++) {
            double *y = malloc(sizeof(double) * (size_t)n);
            for (dim_t j = 0; j < n; j++)
                y[j] = ts[ti] == s32 ? floor(x[j] * 1000) : x[j];
            af_array a = make_stored(y, d, ts[ti]), m = 0;
            CHECK_AF(af_median(&m, a, 0));
            double ref = ref_median_line(y, n, ts[ti], false);
            check_values(m, &ref, 1, "long af_median", ts[ti], 0, true);
            double re = 0, im = 0;
            CHECK_AF(af_median_all(&re, &im, a));
            ref = ref_median_line(y, n, ts[ti], true);
            CHECK(tot_cmp(re, ref) == 0);
            af_release_array(m);
            af_release_array(a);
            free(y);
        }
        free(x);
    }
    /* NaN sorts last, so it shows in the median only when it reaches the middle. */
    const double nx[] = {NAN, 1, NAN, NAN, 2};
    const dim_t d5[4] = {5, 1, 1, 1};
    af_array a = em_test_make(nx, 1, d5, f32), m = 0;
    double re = 0, im = 0;
    CHECK_AF(af_median_all(&re, &im, a));
    CHECK(isnan(re));
    af_release_array(a);
    /* Bad input. */
    const dim_t d0[4] = {0, 1, 1, 1};
    const double cx[10] = {1, 0, 2, 0, 3, 0, 4, 0, 5, 0}; /* c32 takes (re, im) pairs */
    af_array e = 0, c = em_test_make(cx, 1, d5, c32), l = em_test_make(nx, 1, d5, s64);
    CHECK_AF(af_create_handle(&e, 1, d0, f32));
    CHECK_ERR(af_median(&m, e, 0), AF_ERR_ARG);
    CHECK_ERR(af_median_all(&re, &im, e), AF_ERR_ARG);
    CHECK_ERR(af_median(&m, c, 0), AF_ERR_TYPE);
    CHECK_ERR(af_median(&m, l, 0), AF_ERR_TYPE);
    CHECK_ERR(af_median_all(&re, &im, c), AF_ERR_TYPE);
    CHECK_ERR(af_median(&m, c, 4), AF_ERR_ARG);
    CHECK_ERR(af_median(&m, c, -1), AF_ERR_ARG);
    CHECK(m == 0);
    af_release_array(e);
    af_release_array(c);
    af_release_array(l);
}

/* ---- topk ----------------------------------------------------------------------------------- */

static void check_topk(af_dtype t, const dim_t d[4], int k, af_topk_function ord, bool ties) {
    dim_t n = count4(d);
    double *x = malloc(sizeof(double) * (size_t)n);
    fill_for(x, (size_t)n, t == f16 ? f32 : t, ties);
    if (t == f16)
        for (dim_t j = 0; j < n; j++)
            if (!isnan(x[j])) x[j] = floor(x[j]);
    af_array a = make_stored(x, d, t), v = 0, i = 0;
    CHECK_AF(af_topk(&v, &i, a, k, 0, ord));
    if (v && i) {
        dim_t od[4] = {k, d[1], d[2], d[3]};
        check_dims(v, t, od, "topk values");
        check_dims(i, u32, od, "topk indices");
        double *rv = malloc(sizeof(double) * (size_t)n), *ri = malloc(sizeof(double) * (size_t)n);
        bool largest = ord == AF_TOPK_MAX || ord == AF_TOPK_DEFAULT || ord == AF_TOPK_STABLE_MAX;
        ref_sort(x, d, 0, !largest, rv, ri);
        dim_t no = count4(od);
        double *ev = malloc(sizeof(double) * (size_t)no), *ei = malloc(sizeof(double) * (size_t)no);
        for (dim_t c = 0; c < no / k; c++)
            for (int j = 0; j < k; j++) {
                ev[c * k + j] = rv[c * d[0] + j];
                ei[c * k + j] = ri[c * d[0] + j];
            }
        check_values(v, ev, no, "topk values", t, 0, !largest);
        check_values(i, ei, no, "topk indices", t, 0, !largest);
        free(rv);
        free(ri);
        free(ev);
        free(ei);
    }
    af_release_array(v);
    af_release_array(i);
    af_release_array(a);
    free(x);
}

TEST(topk_every_dtype_and_order) {
    static const af_dtype tt[] = {f32, f64, s32, u32, f16};
    const dim_t shp[][4] = {{37, 1, 1, 1}, {10, 4, 3, 1}, {1, 5, 1, 1}};
    const af_topk_function ords[] = {AF_TOPK_MAX, AF_TOPK_MIN, AF_TOPK_DEFAULT, AF_TOPK_STABLE_MIN};
    for (int ti = 0; ti < 5; ti++)
        for (int si = 0; si < 3; si++)
            for (int oi = 0; oi < 4; oi++) {
                int n0 = (int)shp[si][0];
                const int ks[] = {1, n0 > 3 ? 3 : 1, n0};
                for (int ki = 0; ki < 3; ki++)
                    check_topk(tt[ti], shp[si], ks[ki], ords[oi], (oi + si) % 2 == 0);
            }
}

TEST(topk_long_and_edges) {
    const dim_t d[4] = {300007, 1, 1, 1}, d2[4] = {70000, 3, 1, 1};
    check_topk(f32, d, 100, AF_TOPK_MAX, false);
    check_topk(f32, d, 100, AF_TOPK_MIN, true);
    check_topk(s32, d2, 50, AF_TOPK_MAX, true);
    check_topk(f64, d, 1, AF_TOPK_MIN, false);
    /* One element: itself and index 0. */
    const double one = 3;
    const dim_t d1[4] = {1, 1, 1, 1}, d4[4] = {4, 1, 1, 1}, dm[4] = {4, 2, 1, 1};
    af_array a = em_test_make(&one, 1, d1, f32), v = 0, i = 0;
    CHECK_AF(af_topk(&v, &i, a, 1, 0, AF_TOPK_MAX));
    check_values(v, &one, 1, "topk of one", f32, 0, false);
    const double zero = 0;
    check_values(i, &zero, 1, "topk index of one", u32, 0, false);
    check_dims(i, u32, d1, "topk index of one");
    af_release_array(v);
    af_release_array(i);
    af_release_array(a);
    /* Bad input. */
    const double x[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    af_array f = em_test_make(x, 1, d4, f32), m = em_test_make(x, 2, dm, f32),
             c = em_test_make(x, 1, d4, c32), b = em_test_make(x, 1, d4, u8);
    v = i = 0;
    CHECK_ERR(af_topk(&v, &i, f, 5, 0, AF_TOPK_MAX), AF_ERR_ARG);
    CHECK_ERR(af_topk(&v, &i, f, 0, 0, AF_TOPK_MAX), AF_ERR_ARG);
    CHECK_ERR(af_topk(&v, &i, m, 1, 1, AF_TOPK_MAX), AF_ERR_NOT_SUPPORTED);
    CHECK_ERR(af_topk(&v, &i, c, 1, 0, AF_TOPK_MAX), AF_ERR_TYPE);
    CHECK_ERR(af_topk(&v, &i, b, 1, 0, AF_TOPK_MAX), AF_ERR_TYPE);
    CHECK_ERR(af_topk(&v, &i, f, 1, 0, (af_topk_function)3), AF_ERR_ARG);
    CHECK_ERR(af_topk(NULL, &i, f, 1, 0, AF_TOPK_MAX), AF_ERR_ARG);
    CHECK(v == 0 && i == 0);
    /* dim -1 picks the first dimension longer than 1. */
    CHECK_AF(af_topk(&v, &i, f, 2, -1, AF_TOPK_MAX));
    const double top2[] = {4, 3}, top2i[] = {3, 2};
    check_values(v, top2, 2, "topk dim -1", f32, 0, false);
    check_values(i, top2i, 2, "topk dim -1 indices", u32, 0, false);
    af_release_array(v);
    af_release_array(i);
    af_release_array(f);
    af_release_array(m);
    af_release_array(c);
    af_release_array(b);
}
