/* algorithm.h: af_accum, af_scan (every af_binary_op, inclusive and exclusive), af_scan_by_key,
 * af_where, af_diff1 and af_diff2, for every dtype ArrayFire accepts, along each dim, against
 * plain-C references computed here: in double for floating values (with a tolerance scaled by
 * the sum of magnitudes combined), in exact wrapping integer arithmetic for integers (compared
 * bit for bit). Inputs carry NaN and +-inf; shapes are empty, one element, odd, 4-D and long
 * enough to split lines into segments; views and lazy trees are inputs too, and a lazy input must
 * not be materialised. Keys have runs of length 1, random runs and one run over everything. Bad
 * input is checked for its error and message. */
#include "test.h"

#include <string.h>

/* ---- values ---- */

static bool is_cplx(af_dtype t) {
    return t == c32 || t == c64;
}
static bool is_flt(af_dtype t) {
    return t == f32 || t == f64 || t == c32 || t == c64;
}
static bool is_signed(af_dtype t) {
    return t == s32 || t == s64 || t == s16 || t == s8;
}
static int width(af_dtype t) {
    return (int)em_test_dtype_size(t) * 8;
}

/* One value: re/im for floating dtypes, u (the bits, sign-extended) for integers and b8. */
typedef struct {
    double re, im;
    uint64_t u;
} val;

static uint64_t trunc_to(uint64_t u, af_dtype t) {
    int w = width(t);
    if (w >= 64) return u; /* 64-bit integers, and the 128 bits of c64 (never truncated) */
    uint64_t m = (1ull << w) - 1;
    u &= m;
    if (is_signed(t) && (u >> (w - 1))) u |= ~m;
    return u;
}

static val load(const void *p, af_dtype t, size_t i) {
    val v = {0, 0, 0};
    switch (t) {
    case f32:
        v.re = ((const float *)p)[i];
        break;
    case f64:
        v.re = ((const double *)p)[i];
        break;
    case c32:
        v.re = ((const float *)p)[2 * i], v.im = ((const float *)p)[2 * i + 1];
        break;
    case c64:
        v.re = ((const double *)p)[2 * i], v.im = ((const double *)p)[2 * i + 1];
        break;
    case s8:
        v.u = (uint64_t)(int64_t)((const int8_t *)p)[i];
        break;
    case b8:
    case u8:
        v.u = ((const uint8_t *)p)[i];
        break;
    case s16:
        v.u = (uint64_t)(int64_t)((const int16_t *)p)[i];
        break;
    case u16:
        v.u = ((const uint16_t *)p)[i];
        break;
    case s32:
        v.u = (uint64_t)(int64_t)((const int32_t *)p)[i];
        break;
    case u32:
        v.u = ((const uint32_t *)p)[i];
        break;
    case s64:
    case u64:
        v.u = ((const uint64_t *)p)[i];
        break;
    default:
        break;
    }
    return v;
}

static void store(void *p, af_dtype t, size_t i, val v) {
    switch (t) {
    case f32:
        ((float *)p)[i] = (float)v.re;
        break;
    case f64:
        ((double *)p)[i] = v.re;
        break;
    case c32:
        ((float *)p)[2 * i] = (float)v.re, ((float *)p)[2 * i + 1] = (float)v.im;
        break;
    case c64:
        ((double *)p)[2 * i] = v.re, ((double *)p)[2 * i + 1] = v.im;
        break;
    case b8:
        ((uint8_t *)p)[i] = v.u != 0;
        break;
    case s8:
    case u8:
        ((uint8_t *)p)[i] = (uint8_t)v.u;
        break;
    case s16:
    case u16:
        ((uint16_t *)p)[i] = (uint16_t)v.u;
        break;
    case s32:
    case u32:
        ((uint32_t *)p)[i] = (uint32_t)v.u;
        break;
    case s64:
    case u64:
        ((uint64_t *)p)[i] = v.u;
        break;
    default:
        break;
    }
}

/* A value of `t` converted to the scan dtype `ot` (always exact for the pairs scans use). */
static val convert(val v, af_dtype t, af_dtype ot) {
    if (is_flt(ot)) {
        if (!is_flt(t)) v.re = is_signed(t) ? (double)(int64_t)v.u : (double)v.u, v.im = 0;
        return v;
    }
    v.u = trunc_to(v.u, ot);
    (void)t;
    return v;
}

/* Random host data of n elements of t. kind 0: sums (values around 0, and for floats NaN and
 * +-inf now and then when specials); kind 1: products (values near 1, small integers);
 * kind 2: min/max (wide range, specials). */
static void *rand_data(af_dtype t, size_t n, int kind, bool specials) {
    void *p = malloc(n * em_test_dtype_size(t) + 16);
    for (size_t i = 0; i < n; i++) {
        val v = {0, 0, 0};
        if (is_flt(t)) {
            double lo = kind == 1 ? 0.9 : -4, hi = kind == 1 ? 1.1 : 4;
            v.re = em_test_rand_uniform(lo, hi);
            v.im = em_test_rand_uniform(lo, hi);
            if (specials && em_test_rand_u64() % 23 == 0) {
                static const double sp[4] = {NAN, INFINITY, -INFINITY, 0.0};
                v.re = sp[em_test_rand_u64() % 4];
                if (em_test_rand_u64() % 2) v.im = sp[em_test_rand_u64() % 4];
            }
        } else if (t == b8) {
            v.u = em_test_rand_u64() % 2;
        } else if (kind == 2) {
            v.u = trunc_to(em_test_rand_u64(), t); /* the whole range */
        } else {
            /* Small values: sums stay exact in a double; products wrap soon. */
            int64_t lo = is_signed(t) ? (kind == 1 ? -3 : -100) : 0, hi = kind == 1 ? 3 : 100;
            v.u = trunc_to((uint64_t)(lo + (int64_t)(em_test_rand_u64() % (uint64_t)(hi - lo))), t);
        }
        store(p, t, i, v);
    }
    return p;
}

static af_array mk(af_dtype t, const void *data, const dim_t d[4]) {
    af_array a = 0;
    CHECK_AF(af_create_array(&a, data, 4, d, t));
    return a;
}

static dim_t count(const dim_t d[4]) {
    return d[0] * d[1] * d[2] * d[3];
}

static unsigned ndims_of(const dim_t d[4]) {
    if (count(d) == 0) return 0;
    for (unsigned n = 4; n > 1; n--)
        if (d[n - 1] != 1) return n;
    return 1;
}

/* Reads an array of the expected dtype and dims into a fresh host buffer; NULL after a failed
 * check. */
static void *read_raw(af_array a, af_dtype t, const dim_t d[4]) {
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
    void *p = malloc((size_t)count(d) * em_test_dtype_size(t) + 16);
    CHECK_AF(af_get_data_ptr(p, a));
    return p;
}

/* ---- the reference scan ---- */

static val v_id(af_binary_op op, af_dtype t) {
    val v = {0, 0, 0};
    bool s = is_signed(t);
    int w = width(t);
    switch (op) {
    case AF_BINARY_MUL:
        v.re = 1, v.u = 1;
        break;
    case AF_BINARY_MIN:
        v.re = v.im = NAN;
        v.u = s ? trunc_to((1ull << (w - 1)) - 1, t) : trunc_to(~0ull, t);
        break;
    case AF_BINARY_MAX:
        v.re = v.im = NAN;
        v.u = s ? trunc_to(1ull << (w - 1), t) : 0;
        break;
    default:
        break;
    }
    return v;
}

/* The exclusive scan's first value (ArrayFire's init). */
static val v_init(af_binary_op op, af_dtype t) {
    val v = v_id(op, t);
    if (op == AF_BINARY_MIN) v.re = INFINITY, v.im = 0;
    if (op == AF_BINARY_MAX) v.re = is_cplx(t) ? 0 : -INFINITY, v.im = 0;
    return v;
}

static bool v_nan(val v) {
    return isnan(v.re) || isnan(v.im);
}

static val v_op(af_binary_op op, af_dtype t, val a, val x) {
    val r = a;
    if (!is_flt(t)) {
        bool s = is_signed(t);
        switch (op) {
        case AF_BINARY_ADD:
            r.u = trunc_to(a.u + x.u, t);
            break;
        case AF_BINARY_MUL:
            r.u = trunc_to(a.u * x.u, t);
            break;
        case AF_BINARY_MIN:
            if (s ? (int64_t)x.u < (int64_t)a.u : x.u < a.u) r = x;
            break;
        default:
            if (s ? (int64_t)x.u > (int64_t)a.u : x.u > a.u) r = x;
            break;
        }
        return r;
    }
    switch (op) {
    case AF_BINARY_ADD:
        r.re = a.re + x.re, r.im = a.im + x.im;
        return r;
    case AF_BINARY_MUL:
        if (is_cplx(t))
            r.re = a.re * x.re - a.im * x.im, r.im = a.re * x.im + a.im * x.re;
        else
            r.re = a.re * x.re;
        return r;
    default:
        break;
    }
    bool mx = op == AF_BINARY_MAX;
    if (!is_cplx(t)) {
        if (isnan(a.re) || (mx ? x.re > a.re : x.re < a.re)) r = x;
        return r;
    }
    if (v_nan(x)) return a;
    if (v_nan(a)) return x;
    /* Magnitudes in the part type's precision, as the library compares them. */
    double ma = t == c32 ? hypotf((float)a.re, (float)a.im) : hypot(a.re, a.im);
    double mxx = t == c32 ? hypotf((float)x.re, (float)x.im) : hypot(x.re, x.im);
    if (mxx != ma) return (mx ? mxx > ma : mxx < ma) ? x : a;
    if (x.re != a.re) return (mx ? x.re > a.re : x.re < a.re) ? x : a;
    return (mx ? x.im > a.im : x.im < a.im) ? x : a;
}

/* Scans host data `in` (dtype it, dims d) along dim into `out` (dtype ot) and the magnitude
 * bound `mag` (sum of |x| over the values combined, per element). keys (dtype kt) may be NULL. */
static void ref_scan(const void *in, af_dtype it, const dim_t d[4], int dim, af_binary_op op,
                     bool incl, const void *keys, af_dtype kt, af_dtype ot, void *out,
                     double *mag) {
    dim_t inner = 1, outer = 1, len = d[dim];
    for (int k = 0; k < dim; k++)
        inner *= d[k];
    for (int k = dim + 1; k < 4; k++)
        outer *= d[k];
    for (dim_t o = 0; o < outer; o++)
        for (dim_t i = 0; i < inner; i++) {
            val acc = v_id(op, ot);
            double m = 0;
            for (dim_t j = 0; j < len; j++) {
                size_t at = (size_t)(i + inner * (j + len * o));
                bool head = j == 0;
                if (keys && j > 0) {
                    val k1 = load(keys, kt, at), k0 = load(keys, kt, at - (size_t)inner);
                    head = k1.u != k0.u;
                }
                if (head) acc = v_id(op, ot), m = 0;
                val x = convert(load(in, it, at), it, ot);
                if (!incl) {
                    store(out, ot, at, head ? v_init(op, ot) : acc);
                    mag[at] = m;
                }
                acc = v_op(op, ot, acc, x);
                /* Infinite parts make the result infinite or NaN, compared exactly. */
                m += (isfinite(x.re) ? fabs(x.re) : 0) + (isfinite(x.im) ? fabs(x.im) : 0);
                if (incl) {
                    store(out, ot, at, acc);
                    mag[at] = m;
                }
            }
        }
}

/* Compares a scan's output with the reference: integers exactly, floating values to a tolerance
 * scaled by the magnitudes combined (sums) or the value (products); min and max exactly. */
static bool compare_scan(const void *got, const void *ref, const double *mag, af_dtype t, size_t n,
                         af_binary_op op, const char *what) {
    int bad = 0;
    double eps = (t == f32 || t == c32) ? 2e-5 : 1e-12;
    for (size_t i = 0; i < n && bad < 5; i++) {
        val g = load(got, t, i), r = load(ref, t, i);
        bool ok;
        if (!is_flt(t)) {
            ok = g.u == r.u;
        } else {
            ok = true;
            double gp[2] = {g.re, g.im}, rp[2] = {r.re, r.im};
            for (int c = 0; c < (is_cplx(t) ? 2 : 1); c++) {
                double tol = op == AF_BINARY_ADD   ? eps * mag[i]
                             : op == AF_BINARY_MUL ? eps * 16 * (fabs(rp[c]) + 1e-30)
                                                   : 0;
                if (op == AF_BINARY_MUL && is_cplx(t)) tol = eps * 16 * (hypot(r.re, r.im) + 1e-30);
                if (isnan(rp[c]))
                    ok = ok && isnan(gp[c]);
                else if (isinf(rp[c]) || !isfinite(tol))
                    ok = ok && gp[c] == rp[c];
                else
                    ok = ok && fabs(gp[c] - rp[c]) <= tol;
            }
        }
        if (!ok) {
            bad++;
            em_test_fail(__FILE__, __LINE__,
                         "%s: element %zu: got (%.17g, %.17g | %llu), expected (%.17g, %.17g | "
                         "%llu)",
                         what, i, g.re, g.im, (unsigned long long)g.u, r.re, r.im,
                         (unsigned long long)r.u);
        }
    }
    return bad == 0;
}

/* The dtype af_scan / af_accum produce for input dtype t. */
static af_dtype scan_out(af_dtype t) {
    switch (t) {
    case u16:
    case u8:
    case b8:
        return u32;
    case s16:
    case s8:
        return s32;
    default:
        return t;
    }
}
static af_dtype scan_key_out(af_dtype t) {
    switch (t) {
    case u16:
    case u8:
    case b8:
    case u32:
        return u32;
    case s16:
    case s8:
    case s32:
        return s32;
    default:
        return t;
    }
}

static const af_dtype scan_types[] = {f32, c32, f64, c64, b8, s32, u32, u8, s64, u64, s16, u16, s8};
#define NSCAN ((int)(sizeof(scan_types) / sizeof(scan_types[0])))
static const af_binary_op ops[4] = {AF_BINARY_ADD, AF_BINARY_MUL, AF_BINARY_MIN, AF_BINARY_MAX};
static const char *op_name[4] = {"add", "mul", "min", "max"};

/* Runs one scan (accum when `accum`, by key when keys) and checks it against the reference. */
static void check_one(af_dtype it, const dim_t d[4], int dim, int opi, bool incl, bool accum,
                      af_dtype kt, int key_pattern, bool specials) {
    af_binary_op op = ops[opi];
    size_t n = (size_t)count(d);
    int kind = op == AF_BINARY_ADD ? 0 : op == AF_BINARY_MUL ? 1 : 2;
    /* Complex products of infinities give NaN or infinite parts depending on the order of
     * combination, which a parallel scan does not fix: they run without specials. */
    void *x = rand_data(it, n, kind, specials && !(is_cplx(it) && op == AF_BINARY_MUL));
    void *keys = NULL;
    if (kt != (af_dtype)-1) {
        keys = malloc(n * 8 + 8);
        uint64_t cur = em_test_rand_u64() % 5;
        for (size_t i = 0; i < n; i++) {
            if (key_pattern == 0) cur = i;                                 /* runs of 1 */
            if (key_pattern == 1 && em_test_rand_u64() % 3 == 0) cur += 1; /* random runs */
            /* key_pattern 2: one run over everything */
            val kv = {0, 0, trunc_to(cur * 0x10001ull, kt)};
            store(keys, kt, i, kv);
        }
    }
    af_dtype ot = keys ? scan_key_out(it) : scan_out(it);
    af_array a = mk(it, x, d), k = keys ? mk(kt, keys, d) : 0, r = 0;
    if (accum)
        CHECK_AF(af_accum(&r, a, dim));
    else if (keys)
        CHECK_AF(af_scan_by_key(&r, k, a, dim, op, incl));
    else
        CHECK_AF(af_scan(&r, a, dim, op, incl));
    char what[160];
    snprintf(what, sizeof(what), "%s%s %s %s dims [%lld %lld %lld %lld] dim %d%s key %s/%d",
             accum ? "accum " : "", op_name[opi], incl ? "incl" : "excl", em_test_dtype_name(it),
             (long long)d[0], (long long)d[1], (long long)d[2], (long long)d[3], dim,
             specials ? " specials" : "", keys ? em_test_dtype_name(kt) : "-", key_pattern);
    if ((unsigned)dim >= ndims_of(d)) {
        /* Nothing to scan: the input itself comes back, dtype unchanged. */
        void *got = r ? read_raw(r, it, d) : NULL;
        if (got && memcmp(got, x, n * em_test_dtype_size(it)) != 0)
            em_test_fail(__FILE__, __LINE__, "%s: not the input", what);
        free(got);
    } else if (r) {
        void *ref = malloc(n * 16 + 16);
        double *mag = malloc(n * sizeof(double) + 8);
        ref_scan(x, it, d, dim, op, incl, keys, kt, ot, ref, mag);
        void *got = read_raw(r, ot, d);
        if (got) compare_scan(got, ref, mag, ot, n, op, what);
        free(got);
        free(ref);
        free(mag);
    }
    af_release_array(a);
    if (k) af_release_array(k);
    if (r) af_release_array(r);
    free(x);
    free(keys);
}

static const dim_t small_shapes[][4] = {
    {1, 1, 1, 1}, {7, 1, 1, 1}, {130, 1, 1, 1}, {33, 5, 1, 1}, {5, 33, 1, 1},
    {3, 4, 5, 6}, {2, 3, 1, 7}, {1, 1, 1, 9},   {1, 6, 1, 1},
};
#define NSMALL ((int)(sizeof(small_shapes) / sizeof(small_shapes[0])))

TEST(scan_every_dtype_op_dim) {
    for (int s = 0; s < NSMALL; s++)
        for (int ti = 0; ti < NSCAN; ti++)
            for (int opi = 0; opi < 4; opi++)
                for (int incl = 0; incl < 2; incl++)
                    for (int dim = 0; dim < 4; dim++)
                        check_one(scan_types[ti], small_shapes[s], dim, opi, incl, false,
                                  (af_dtype)-1, 0, s % 2 == 0);
}

TEST(scan_accum_every_dtype) {
    for (int s = 0; s < NSMALL; s++)
        for (int ti = 0; ti < NSCAN; ti++)
            for (int dim = 0; dim < 4; dim++)
                check_one(scan_types[ti], small_shapes[s], dim, 0, true, true, (af_dtype)-1, 0,
                          s % 3 == 0);
}

/* Long lines split into segments (two passes on the CPU), wide tiles of lines, and lines of a
 * few elements in great number. */
TEST(scan_large_shapes) {
    static const dim_t shapes[][4] = {
        {300001, 1, 1, 1}, {2, 70001, 1, 1}, {1500, 41, 1, 1},
        {41, 1500, 1, 1},  {3, 40000, 1, 1}, {5000, 2, 3, 1},
    };
    static const af_dtype types[] = {f32, f64, c32, s32, u64, u8};
    for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++)
        for (size_t ti = 0; ti < sizeof(types) / sizeof(types[0]); ti++)
            for (int dim = 0; dim < 2; dim++)
                for (int incl = 0; incl < 2; incl++) {
                    check_one(types[ti], shapes[s], dim, 0, incl, false, (af_dtype)-1, 0, false);
                    check_one(types[ti], shapes[s], dim, 3, incl, false, (af_dtype)-1, 0, true);
                }
}

TEST(scan_by_key_every_dtype) {
    static const af_dtype ktypes[] = {s32, u32, s64, u64};
    for (int s = 0; s < NSMALL; s++)
        for (int ti = 0; ti < NSCAN; ti++)
            for (int opi = 0; opi < 4; opi++)
                for (int dim = 0; dim < 4; dim++)
                    for (int pat = 0; pat < 3; pat++)
                        check_one(scan_types[ti], small_shapes[s], dim, opi, (s + pat) % 2, false,
                                  ktypes[(s + ti + pat) % 4], pat, s % 2 == 1);
}

TEST(scan_by_key_large) {
    static const dim_t shapes[][4] = {{300001, 1, 1, 1}, {2, 70001, 1, 1}, {1500, 41, 1, 1}};
    static const af_dtype ktypes[] = {s32, u64};
    for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++)
        for (int dim = 0; dim < 2; dim++)
            for (int pat = 0; pat < 3; pat++)
                for (int incl = 0; incl < 2; incl++) {
                    check_one(f32, shapes[s], dim, 0, incl, false, ktypes[pat % 2], pat, false);
                    check_one(s64, shapes[s], dim, 2, incl, false, ktypes[(pat + 1) % 2], pat,
                              false);
                }
}

/* Min and max ignore NaN unless every value combined is NaN; the exclusive scan starts from
 * ArrayFire's +-inf. */
TEST(scan_nan_rules) {
    const float x[6] = {NAN, 3, NAN, 1, 5, -INFINITY};
    const dim_t d[4] = {6, 1, 1, 1};
    af_array a = mk(f32, x, d), r = 0;
    struct {
        af_binary_op op;
        bool incl;
        float expect[6];
    } cases[] = {
        {AF_BINARY_MIN, true, {NAN, 3, 3, 1, 1, -INFINITY}},
        {AF_BINARY_MIN, false, {INFINITY, NAN, 3, 3, 1, 1}},
        {AF_BINARY_MAX, true, {NAN, 3, 3, 3, 5, 5}},
        {AF_BINARY_MAX, false, {-INFINITY, NAN, 3, 3, 3, 5}},
        {AF_BINARY_ADD, true, {NAN, NAN, NAN, NAN, NAN, NAN}},
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        CHECK_AF(af_scan(&r, a, 0, cases[c].op, cases[c].incl));
        float *g = read_raw(r, f32, d);
        for (int i = 0; g && i < 6; i++) {
            float e = cases[c].expect[i];
            if (isnan(e) ? !isnan(g[i]) : g[i] != e)
                em_test_fail(__FILE__, __LINE__, "case %zu element %d: %g, expected %g", c, i,
                             (double)g[i], (double)e);
        }
        free(g);
        af_release_array(r);
    }
    af_release_array(a);
}

/* Integer sums and products wrap in the scan dtype. */
TEST(scan_integer_wrap) {
    const int32_t x[4] = {INT32_MAX, 1, INT32_MAX, 3};
    const dim_t d[4] = {4, 1, 1, 1};
    af_array a = mk(s32, x, d), r = 0;
    CHECK_AF(af_accum(&r, a, 0));
    int32_t *g = read_raw(r, s32, d);
    CHECK(g && g[0] == INT32_MAX && g[1] == INT32_MIN && g[2] == -1 && g[3] == 2);
    free(g);
    af_release_array(r);
    CHECK_AF(af_scan(&r, a, 0, AF_BINARY_MUL, true));
    g = read_raw(r, s32, d);
    CHECK(g && g[0] == INT32_MAX && g[1] == INT32_MAX && g[2] == 1 && g[3] == 3);
    free(g);
    af_release_array(r);
    af_release_array(a);
    /* accum of b8 counts the true values, in u32. */
    const uint8_t b[5] = {1, 0, 1, 1, 0};
    const dim_t db[4] = {5, 1, 1, 1};
    a = mk(b8, b, db);
    CHECK_AF(af_accum(&r, a, 0));
    uint32_t *u = read_raw(r, u32, db);
    CHECK(u && u[0] == 1 && u[1] == 1 && u[2] == 2 && u[3] == 3 && u[4] == 3);
    free(u);
    af_release_array(r);
    af_release_array(a);
}

/* Empty arrays come back as they are (ArrayFire: no dimension to scan). */
TEST(scan_empty) {
    const dim_t d[4] = {0, 1, 1, 1};
    af_array a = 0, r = 0, k = 0;
    CHECK_AF(af_create_handle(&a, 1, d, u8));
    CHECK_AF(af_create_handle(&k, 1, d, s32));
    CHECK_AF(af_accum(&r, a, 0));
    af_dtype t;
    dim_t n = -1;
    CHECK_AF(af_get_type(&t, r));
    CHECK_AF(af_get_elements(&n, r));
    CHECK(t == u8 && n == 0);
    af_release_array(r);
    CHECK_AF(af_scan(&r, a, 0, AF_BINARY_MAX, false));
    CHECK_AF(af_get_elements(&n, r));
    CHECK(n == 0);
    af_release_array(r);
    CHECK_AF(af_scan_by_key(&r, k, a, 0, AF_BINARY_ADD, true));
    CHECK_AF(af_get_elements(&n, r));
    CHECK(n == 0);
    af_release_array(r);
    af_release_array(a);
    af_release_array(k);
}

/* Indexes parent with af_index; while the index family is not built the case is skipped. */
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

/* Host copy of the strided window rows r0..r0+2*(nr-1) step 2, columns c0.. of a column-major
 * [rows, cols] f32 matrix. */
static float *gather_view(const float *x, dim_t rows, dim_t r0, dim_t nr, dim_t c0, dim_t nc) {
    float *v = malloc(sizeof(float) * (size_t)(nr * nc));
    for (dim_t c = 0; c < nc; c++)
        for (dim_t r = 0; r < nr; r++)
            v[r + nr * c] = x[(r0 + 2 * r) + rows * (c0 + c)];
    return v;
}

TEST(scan_view_input) {
    const dim_t d[4] = {41, 9, 1, 1};
    float *x = rand_data(f32, 41 * 9, 0, false);
    af_array a = mk(f32, x, d);
    af_seq s[2] = {af_make_seq(1, 39, 2), af_make_seq(2, 7, 1)}; /* 20 x 6, strided */
    af_array v = index_or_skip(a, 2, s);
    float *vx = gather_view(x, 41, 1, 20, 2, 6);
    const dim_t vd[4] = {20, 6, 1, 1};
    for (int dim = 0; dim < 2; dim++)
        for (int opi = 0; opi < 4; opi += 3) {
            af_array r = 0;
            CHECK_AF(af_scan(&r, v, dim, ops[opi], dim == 0));
            float ref[120];
            double mag[120];
            ref_scan(vx, f32, vd, dim, ops[opi], dim == 0, NULL, f32, f32, ref, mag);
            float *g = r ? read_raw(r, f32, vd) : NULL;
            if (g) compare_scan(g, ref, mag, f32, 120, ops[opi], "view");
            free(g);
            if (r) af_release_array(r);
        }
    /* By key with a view as the values. */
    int32_t keys[120];
    for (int i = 0; i < 120; i++)
        keys[i] = i / 7;
    af_array k = mk(s32, keys, vd), r = 0;
    CHECK_AF(af_scan_by_key(&r, k, v, 0, AF_BINARY_ADD, true));
    float ref[120];
    double mag[120];
    ref_scan(vx, f32, vd, 0, AF_BINARY_ADD, true, keys, s32, f32, ref, mag);
    float *g = r ? read_raw(r, f32, vd) : NULL;
    if (g) compare_scan(g, ref, mag, f32, 120, AF_BINARY_ADD, "view by key");
    free(g);
    if (r) af_release_array(r);
    af_release_array(k);
    af_release_array(v);
    af_release_array(a);
    free(x);
    free(vx);
}

/* A lazy input is scanned as it is computed: accum(a * b) allocates its output and nothing else,
 * and a lazy key tree works the same way. */
TEST(scan_lazy_input) {
    const dim_t d[4] = {100000, 1, 1, 1};
    size_t n = 100000;
    float *x = rand_data(f32, n, 0, false), *y = rand_data(f32, n, 0, false);
    af_array a = mk(f32, x, d), b = mk(f32, y, d), p = 0, r = 0;
    CHECK_AF(af_mul(&p, a, b, false));
    CHECK_AF(af_device_gc());
    size_t ab0, an0, lb0, ln0, ab1, an1, lb1, ln1;
    CHECK_AF(af_device_mem_info(&ab0, &an0, &lb0, &ln0));
    CHECK_AF(af_accum(&r, p, 0));
    CHECK_AF(af_device_mem_info(&ab1, &an1, &lb1, &ln1));
    /* One new buffer in use (the output), and no intermediate: a backend may take scratch for
     * its partials (CUDA's look-back status, a few bytes per tile of thousands of elements), so
     * the bytes held grow by the output and a small fraction of it, never by a * b's size. */
    CHECK(ln1 == ln0 + 1);
    CHECK(ab1 - ab0 < n * sizeof(float) + n / 8);
    float *prod = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++)
        prod[i] = x[i] * y[i];
    float *refv = malloc(n * sizeof(float));
    double *mag = malloc(n * sizeof(double));
    ref_scan(prod, f32, d, 0, AF_BINARY_ADD, true, NULL, f32, f32, refv, mag);
    float *g = read_raw(r, f32, d);
    if (g) compare_scan(g, refv, mag, f32, n, AF_BINARY_ADD, "lazy");
    free(g);
    af_release_array(r);
    /* Lazy keys: (a > 0) as s32 runs. */
    af_array gt = 0, kk = 0;
    CHECK_AF(af_gt(&gt, a, b, false));
    CHECK_AF(af_cast(&kk, gt, s32));
    CHECK_AF(af_scan_by_key(&r, kk, p, 0, AF_BINARY_MAX, false));
    int32_t *keys = malloc(n * sizeof(int32_t));
    for (size_t i = 0; i < n; i++)
        keys[i] = x[i] > y[i];
    ref_scan(prod, f32, d, 0, AF_BINARY_MAX, false, keys, s32, f32, refv, mag);
    g = read_raw(r, f32, d);
    if (g) compare_scan(g, refv, mag, f32, n, AF_BINARY_MAX, "lazy keys");
    free(g);
    af_release_array(r);
    af_release_array(gt);
    af_release_array(kk);
    af_release_array(p);
    af_release_array(a);
    af_release_array(b);
    free(x);
    free(y);
    free(prod);
    free(refv);
    free(mag);
    free(keys);
}

TEST(scan_bad_input) {
    const dim_t d[4] = {4, 3, 1, 1};
    float x[12] = {0};
    af_array a = mk(f32, x, d), r = 0, h = 0, k = 0, k2 = 0, kf = 0;
    CHECK_ERR(af_accum(&r, a, 4), AF_ERR_ARG);
    CHECK_ERR(af_accum(&r, a, -1), AF_ERR_ARG);
    CHECK_ERR(af_scan(&r, a, 5, AF_BINARY_ADD, true), AF_ERR_ARG);
    CHECK_ERR(af_scan(&r, a, 0, (af_binary_op)7, true), AF_ERR_ARG);
    CHECK_ERR(af_accum(NULL, a, 0), AF_ERR_ARG);
    CHECK_ERR(af_accum(&r, NULL, 0), AF_ERR_ARG);
    CHECK(r == 0);
    uint16_t hx[12] = {0};
    CHECK_AF(af_create_array(&h, hx, 4, d, f16));
    CHECK_ERR(af_accum(&r, h, 0), AF_ERR_TYPE);
    CHECK_ERR(af_scan(&r, h, 1, AF_BINARY_MAX, false), AF_ERR_TYPE);
    int32_t kx[12] = {0};
    k = mk(s32, kx, d);
    const dim_t d2[4] = {12, 1, 1, 1};
    k2 = mk(s32, kx, d2);
    kf = mk(f32, x, d);
    CHECK_ERR(af_scan_by_key(&r, k2, a, 0, AF_BINARY_ADD, true), AF_ERR_ARG);
    CHECK_ERR(af_scan_by_key(&r, kf, a, 0, AF_BINARY_ADD, true), AF_ERR_TYPE);
    CHECK_ERR(af_scan_by_key(&r, k, h, 0, AF_BINARY_ADD, true), AF_ERR_TYPE);
    CHECK_ERR(af_scan_by_key(&r, k, a, 4, AF_BINARY_ADD, true), AF_ERR_ARG);
    CHECK_ERR(af_scan_by_key(&r, k, a, 0, (af_binary_op)9, true), AF_ERR_ARG);
    CHECK_ERR(af_scan_by_key(&r, NULL, a, 0, AF_BINARY_ADD, true), AF_ERR_ARG);
    CHECK(r == 0);
    af_release_array(a);
    af_release_array(h);
    af_release_array(k);
    af_release_array(k2);
    af_release_array(kf);
}

/* ---- where ---- */

static const af_dtype where_types[] = {f32, c32, f64, c64, b8,  s32, u32,
                                       u8,  s64, u64, s16, u16, s8};
#define NWHERE ((int)(sizeof(where_types) / sizeof(where_types[0])))

/* Data with about half zeros (both parts of complex values zero), NaN among the non-zeros. */
static void *where_data(af_dtype t, size_t n) {
    void *p = rand_data(t, n, 2, false);
    for (size_t i = 0; i < n; i++) {
        uint64_t r = em_test_rand_u64() % 8;
        if (r < 4) {
            val z = {0, 0, 0};
            if (r == 3 && is_flt(t)) z.re = -0.0; /* -0 is zero */
            if (r == 2 && is_cplx(t)) z.im = 1;   /* a non-zero imaginary part alone */
            store(p, t, i, z);
        } else if (r == 4 && is_flt(t)) {
            val nan = {NAN, 0, 0};
            store(p, t, i, nan);
        }
    }
    return p;
}

static void check_where(af_array r, const void *x, af_dtype t, size_t n, const char *what) {
    uint32_t *ref = malloc(n * 4 + 4);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        val v = load(x, t, i);
        if (is_flt(t) ? (v.re != 0 || v.im != 0) : v.u != 0) ref[m++] = (uint32_t)i;
    }
    const dim_t d[4] = {(dim_t)m, 1, 1, 1};
    uint32_t *g = read_raw(r, u32, d);
    if (g && memcmp(g, ref, m * 4) != 0)
        em_test_fail(__FILE__, __LINE__, "%s: indices differ", what);
    free(g);
    free(ref);
}

TEST(where_every_dtype) {
    static const dim_t shapes[][4] = {
        {1, 1, 1, 1}, {7, 1, 1, 1}, {33, 5, 1, 1}, {3, 4, 5, 6}, {70001, 3, 1, 1}};
    for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++)
        for (int ti = 0; ti < NWHERE; ti++) {
            af_dtype t = where_types[ti];
            size_t n = (size_t)count(shapes[s]);
            void *x = where_data(t, n);
            af_array a = mk(t, x, shapes[s]), r = 0;
            CHECK_AF(af_where(&r, a));
            char what[64];
            snprintf(what, sizeof(what), "where %s shape %zu", em_test_dtype_name(t), s);
            if (r) check_where(r, x, t, n, what);
            af_release_array(a);
            if (r) af_release_array(r);
            free(x);
        }
}

TEST(where_all_none_empty) {
    const dim_t d[4] = {1000, 3, 1, 1};
    float *z = calloc(3000, sizeof(float));
    af_array a = mk(f32, z, d), r = 0;
    CHECK_AF(af_where(&r, a));
    const dim_t none[4] = {0, 1, 1, 1};
    free(read_raw(r, u32, none));
    af_release_array(r);
    af_release_array(a);
    for (int i = 0; i < 3000; i++)
        z[i] = (float)i - 1.5f;
    a = mk(f32, z, d);
    CHECK_AF(af_where(&r, a));
    check_where(r, z, f32, 3000, "all");
    af_release_array(r);
    af_release_array(a);
    free(z);
    const dim_t e[4] = {0, 1, 1, 1};
    CHECK_AF(af_create_handle(&a, 1, e, s32));
    CHECK_AF(af_where(&r, a));
    free(read_raw(r, u32, none));
    af_release_array(r);
    af_release_array(a);
}

TEST(where_lazy_and_view) {
    const dim_t d[4] = {50001, 2, 1, 1};
    size_t n = 100002;
    float *x = rand_data(f32, n, 0, false);
    af_array a = mk(f32, x, d), c = 0, g = 0, r = 0;
    CHECK_AF(af_constant(&c, 0.5, 4, d, f32));
    CHECK_AF(af_gt(&g, a, c, false));
    CHECK_AF(af_device_gc());
    size_t ab0, an0, lb0, ln0, ab1, an1, lb1, ln1;
    CHECK_AF(af_device_mem_info(&ab0, &an0, &lb0, &ln0));
    CHECK_AF(af_where(&r, g));
    CHECK_AF(af_device_mem_info(&ab1, &an1, &lb1, &ln1));
    /* The output alone stays in use; the bytes held grow by it and by per-tile scratch at most
     * (counts and offsets), never by the n bytes of a > 0.5. */
    dim_t found = 0;
    CHECK_AF(af_get_elements(&found, r));
    CHECK(ln1 == ln0 + 1);
    CHECK(ab1 - ab0 < (size_t)found * 4 + 2048 + n / 8);
    uint8_t *flags = malloc(n);
    for (size_t i = 0; i < n; i++)
        flags[i] = x[i] > 0.5f;
    check_where(r, flags, b8, n, "lazy");
    af_release_array(r);
    af_release_array(g);
    af_release_array(c);
    af_seq s[2] = {af_make_seq(1, 49999, 2), af_span};
    af_array v = index_or_skip(a, 2, s);
    CHECK_AF(af_where(&r, v));
    float *vx = gather_view(x, 50001, 1, 25000, 0, 2);
    check_where(r, vx, f32, 50000, "view");
    af_release_array(r);
    af_release_array(v);
    af_release_array(a);
    free(x);
    free(vx);
    free(flags);
}

TEST(where_bad_input) {
    af_array r = 0, h = 0;
    CHECK_ERR(af_where(&r, NULL), AF_ERR_ARG);
    const dim_t d[4] = {3, 1, 1, 1};
    uint16_t hx[3] = {0};
    CHECK_AF(af_create_array(&h, hx, 1, d, f16));
    CHECK_ERR(af_where(&r, h), AF_ERR_TYPE);
    CHECK_ERR(af_where(NULL, h), AF_ERR_ARG);
    CHECK(r == 0);
    af_release_array(h);
}

/* ---- diff1 / diff2 ---- */

static val v_sub(af_dtype t, val a, val b) {
    val r = {0, 0, 0};
    switch (t) {
    case f32:
    case c32:
        r.re = (float)((float)a.re - (float)b.re);
        r.im = (float)((float)a.im - (float)b.im);
        break;
    case f64:
    case c64:
        r.re = a.re - b.re, r.im = a.im - b.im;
        break;
    case b8:
        r.u = a.u ^ b.u; /* Ember's b8 SUB (docs/JIT_OPS.md) */
        break;
    default:
        r.u = trunc_to(a.u - b.u, t);
        break;
    }
    return r;
}

static void check_diff(af_dtype t, const dim_t d[4], int dim, int order, bool lazy) {
    size_t n = (size_t)count(d);
    void *x = rand_data(t, n, 2, is_flt(t));
    af_array a = mk(t, x, d), in = a, r = 0;
    if (lazy) {
        /* A lazy input: a + 0 in the same dtype. */
        af_array z = 0;
        CHECK_AF(af_constant(&z, 0, 4, d, t));
        CHECK_AF(af_add(&in, a, z, false));
        af_release_array(z);
    }
    CHECK_AF(order == 1 ? af_diff1(&r, in, dim) : af_diff2(&r, in, dim));
    dim_t od[4] = {d[0], d[1], d[2], d[3]};
    char what[96];
    snprintf(what, sizeof(what), "diff%d %s [%lld %lld %lld %lld] dim %d", order,
             em_test_dtype_name(t), (long long)d[0], (long long)d[1], (long long)d[2],
             (long long)d[3], dim);
    if (d[dim] <= order) {
        const dim_t e[4] = {0, 1, 1, 1};
        free(r ? read_raw(r, t, e) : NULL);
    } else if (r) {
        od[dim] -= order;
        size_t m = (size_t)count(od);
        void *ref = malloc(m * 16 + 16);
        dim_t st[4] = {1, d[0], d[0] * d[1], d[0] * d[1] * d[2]};
        for (size_t e = 0; e < m; e++) {
            dim_t c[4], rem = (dim_t)e;
            for (int k = 0; k < 4; k++)
                c[k] = rem % od[k], rem /= od[k];
            size_t at = (size_t)(c[0] * st[0] + c[1] * st[1] + c[2] * st[2] + c[3] * st[3]);
            size_t s = (size_t)st[dim];
            val v0 = load(x, t, at), v1 = load(x, t, at + s);
            val out = v_sub(t, v1, v0);
            if (order == 2) out = v_sub(t, v_sub(t, load(x, t, at + 2 * s), v1), out);
            store(ref, t, e, out);
        }
        void *got = read_raw(r, t, od);
        if (got) {
            for (size_t e = 0; e < m; e++) {
                val g = load(got, t, e), f = load(ref, t, e);
                bool same = is_flt(t) ? ((g.re == f.re || (isnan(g.re) && isnan(f.re))) &&
                                         (g.im == f.im || (isnan(g.im) && isnan(f.im))))
                                      : g.u == f.u;
                if (!same) {
                    em_test_fail(__FILE__, __LINE__,
                                 "%s: element %zu: %g%+gi|%llu, expected %g%+gi|%llu", what, e,
                                 g.re, g.im, (unsigned long long)g.u, f.re, f.im,
                                 (unsigned long long)f.u);
                    break;
                }
            }
        }
        free(got);
        free(ref);
    }
    if (r) af_release_array(r);
    if (in != a) af_release_array(in);
    af_release_array(a);
    free(x);
}

TEST(diff_every_dtype_dim) {
    static const dim_t shapes[][4] = {{1, 1, 1, 1}, {2, 1, 1, 1}, {3, 1, 1, 1}, {17, 1, 1, 1},
                                      {5, 4, 3, 2}, {3, 2, 7, 4}, {1, 9, 1, 3}, {1025, 3, 1, 1}};
    for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++)
        for (int ti = 0; ti < NWHERE; ti++)
            for (int dim = 0; dim < 4; dim++)
                for (int order = 1; order <= 2; order++)
                    check_diff(where_types[ti], shapes[s], dim, order, (s + dim) % 3 == 0);
}

TEST(diff_view_input) {
    const dim_t d[4] = {41, 9, 1, 1};
    float *x = rand_data(f32, 41 * 9, 0, true);
    af_array a = mk(f32, x, d), r = 0;
    af_seq s[2] = {af_make_seq(1, 39, 2), af_make_seq(2, 7, 1)};
    af_array v = index_or_skip(a, 2, s);
    float *vx = gather_view(x, 41, 1, 20, 2, 6);
    CHECK_AF(af_diff2(&r, v, 1));
    const dim_t od[4] = {20, 4, 1, 1};
    float *g = read_raw(r, f32, od);
    for (int c = 0; g && c < 4; c++)
        for (int i = 0; i < 20; i++) {
            float x0 = vx[i + 20 * c], x1 = vx[i + 20 * (c + 1)], x2 = vx[i + 20 * (c + 2)];
            float e = (x2 - x1) - (x1 - x0), o = g[i + 20 * c];
            if (!(o == e || (isnan(o) && isnan(e))))
                em_test_fail(__FILE__, __LINE__, "view diff2 (%d, %d): %g, expected %g", i, c,
                             (double)o, (double)e);
        }
    free(g);
    af_release_array(r);
    af_release_array(v);
    af_release_array(a);
    free(x);
    free(vx);
}

TEST(diff_bad_input) {
    const dim_t d[4] = {4, 3, 1, 1};
    float x[12] = {0};
    af_array a = mk(f32, x, d), r = 0, h = 0;
    CHECK_ERR(af_diff1(&r, a, 4), AF_ERR_ARG);
    CHECK_ERR(af_diff2(&r, a, -1), AF_ERR_ARG);
    CHECK_ERR(af_diff1(NULL, a, 0), AF_ERR_ARG);
    CHECK_ERR(af_diff2(&r, NULL, 0), AF_ERR_ARG);
    uint16_t hx[12] = {0};
    CHECK_AF(af_create_array(&h, hx, 4, d, f16));
    CHECK_ERR(af_diff1(&r, h, 0), AF_ERR_TYPE);
    CHECK(r == 0);
    af_release_array(a);
    af_release_array(h);
}
