/* arith.h: every function, for every dtype, against plain-C references written here from
 * docs/JIT_OPS.md (not from the kernels). Integers are checked exactly in 64-bit arithmetic, so
 * s64/u64 values never pass through a double; floating results of exact operations (+ - * /,
 * rem, mod, min, max, comparisons, casts, rounding) are checked bit for bit after rounding the
 * double reference to the dtype, transcendental ones with a tolerance. Inputs are random with
 * NaN, +-inf, 0 and -0 (and MIN, MAX, 0, 1, -1 for integers), on empty, 1-element, odd and 4-D
 * shapes, with and without batch broadcasting; bad input is checked for its code and message. */
#include "test.h"

#include <complex.h>
#include <float.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------------
 * Values of any dtype
 * ------------------------------------------------------------------------------------------- */
static const af_dtype all_types[] = {f32, c32, f64, c64, b8,  s32, u32,
                                     u8,  s64, u64, s16, u16, f16, s8};
#define NTYPES ((int)(sizeof(all_types) / sizeof(all_types[0])))

/* Integers are held exactly: signed in i, unsigned in u; floating values in re (and im). */
typedef struct {
    double re, im;
    int64_t i;
    uint64_t u;
} val;

static bool t_cplx(af_dtype t) {
    return t == c32 || t == c64;
}
static bool t_flt(af_dtype t) {
    return t == f32 || t == f64 || t == f16;
}
static bool t_sint(af_dtype t) {
    return t == s8 || t == s16 || t == s32 || t == s64;
}
static bool t_uint(af_dtype t) {
    return t == u8 || t == u16 || t == u32 || t == u64;
}
static bool t_int(af_dtype t) {
    return t_sint(t) || t_uint(t);
}
static int t_bits(af_dtype t) {
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
static size_t t_size(af_dtype t) {
    static const size_t sz[] = {4, 8, 8, 16, 1, 4, 4, 1, 8, 8, 2, 2, 2, 1};
    return sz[t];
}
static const char *tname(af_dtype t) {
    return em_test_dtype_name(t);
}

/* ArrayFire's implicit promotion, written out independently of src/core/dtype.c. */
static af_dtype promote(af_dtype a, af_dtype b) {
    static const af_dtype order[] = {f64, f32, f16, u64, s64, u32, s32, u16, s16, u8, s8};
    if (a == b) return a;
    if (a == c64 || b == c64) return c64;
    if (a == c32 || b == c32) return (a == f64 || b == f64) ? c64 : c32;
    for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++)
        if (a == order[k] || b == order[k]) return order[k];
    return f32;
}
static af_dtype float_of(af_dtype t) {
    return (t == f64 || t == f16 || t == c32 || t == c64) ? t : f32;
}
static af_dtype real_of(af_dtype t) {
    return t == c32 ? f32 : t == c64 ? f64 : t;
}

/* Rounding a double to a floating dtype (IEEE, nearest even). */
static double to_f32(double x) {
    if (isnan(x) || fabs(x) <= FLT_MAX) return (float)x;
    return fabs(x) >= 0x1.ffffffp127 ? copysign(INFINITY, x) : copysign(FLT_MAX, x);
}
static double round_to(af_dtype t, double x) {
    if (t == f32 || t == c32) return to_f32(x);
    if (t == f16) return em_test_half_to_double(em_test_double_to_half(x));
    return x;
}

/* Integer of dtype t from a 64-bit pattern: the low bits, sign-extended for signed dtypes. */
static val wrap(af_dtype t, uint64_t bits) {
    val v = {0};
    int w = t_bits(t);
    uint64_t m = w == 64 ? ~0ull : ((1ull << w) - 1);
    bits &= m;
    if (t == b8) {
        v.u = bits != 0;
        v.i = (int64_t)v.u;
    } else if (t_sint(t)) {
        v.i = (w < 64 && (bits >> (w - 1)) & 1) ? (int64_t)(bits | ~m) : (int64_t)bits;
        v.u = (uint64_t)v.i;
    } else {
        v.u = bits;
        v.i = (int64_t)bits;
    }
    return v;
}
static uint64_t bits_of(af_dtype t, val v) {
    return t_sint(t) ? (uint64_t)v.i : v.u;
}
static val vf(af_dtype t, double re, double im) {
    val v = {0};
    v.re = round_to(t, re);
    v.im = t_cplx(t) ? round_to(t, im) : 0;
    return v;
}
/* CAST from docs/JIT_OPS.md. */
static val cast_val(af_dtype from, af_dtype to, val v) {
    if (from == to) return v;
    bool fint = t_int(from) || from == b8;
    if (to == b8) {
        bool nz = fint ? bits_of(from, v) != 0 : (v.re != 0 || (t_cplx(from) && v.im != 0));
        return wrap(b8, nz);
    }
    if (t_int(to)) {
        if (fint) return wrap(to, bits_of(from, v));
        double x = v.re;
        int w = t_bits(to);
        if (isnan(x)) return wrap(to, 0);
        if (t_sint(to)) {
            double lo = -ldexp(1, w - 1), hi = ldexp(1, w - 1);
            if (x <= lo) return wrap(to, (uint64_t)(w == 64 ? INT64_MIN : -(1ll << (w - 1))));
            if (x >= hi) return wrap(to, w == 64 ? (uint64_t)INT64_MAX : (1ull << (w - 1)) - 1);
            return wrap(to, (uint64_t)(int64_t)x);
        }
        if (x <= 0) return wrap(to, 0);
        if (x >= ldexp(1, w)) return wrap(to, ~0ull);
        return wrap(to, (uint64_t)x);
    }
    /* to a floating or complex dtype */
    if (fint) {
        double x = t_sint(from) ? (double)v.i : (double)v.u;
        /* 64-bit integers round once, to the destination, as C converts them. */
        if (to == f32 || to == c32) x = t_sint(from) ? (double)(float)v.i : (double)(float)v.u;
        return vf(to, x, 0);
    }
    /* f64 -> f16 rounds to f32 first (docs/JIT_OPS.md, CAST) */
    if (to == f16 && (from == f64 || from == c64)) return vf(to, to_f32(v.re), 0);
    return vf(to, v.re, t_cplx(from) ? v.im : 0);
}

/* ---------------------------------------------------------------------------------------------
 * Arrays from and to values
 * ------------------------------------------------------------------------------------------- */
static void store(af_dtype t, void *buf, size_t k, val v) {
    switch (t) {
    case f32:
        ((float *)buf)[k] = (float)v.re;
        break;
    case f64:
        ((double *)buf)[k] = v.re;
        break;
    case c32:
        ((float *)buf)[2 * k] = (float)v.re;
        ((float *)buf)[2 * k + 1] = (float)v.im;
        break;
    case c64:
        ((double *)buf)[2 * k] = v.re;
        ((double *)buf)[2 * k + 1] = v.im;
        break;
    case f16:
        ((uint16_t *)buf)[k] = em_test_double_to_half(v.re);
        break;
    case b8:
        ((uint8_t *)buf)[k] = (uint8_t)v.u;
        break;
    case u8:
        ((uint8_t *)buf)[k] = (uint8_t)v.u;
        break;
    case s8:
        ((int8_t *)buf)[k] = (int8_t)v.i;
        break;
    case u16:
        ((uint16_t *)buf)[k] = (uint16_t)v.u;
        break;
    case s16:
        ((int16_t *)buf)[k] = (int16_t)v.i;
        break;
    case u32:
        ((uint32_t *)buf)[k] = (uint32_t)v.u;
        break;
    case s32:
        ((int32_t *)buf)[k] = (int32_t)v.i;
        break;
    case u64:
        ((uint64_t *)buf)[k] = v.u;
        break;
    case s64:
        ((int64_t *)buf)[k] = v.i;
        break;
    }
}
static val load(af_dtype t, const void *buf, size_t k) {
    switch (t) {
    case f32:
        return vf(t, ((const float *)buf)[k], 0);
    case f64:
        return vf(t, ((const double *)buf)[k], 0);
    case c32:
        return vf(t, ((const float *)buf)[2 * k], ((const float *)buf)[2 * k + 1]);
    case c64:
        return vf(t, ((const double *)buf)[2 * k], ((const double *)buf)[2 * k + 1]);
    case f16:
        return vf(t, em_test_half_to_double(((const uint16_t *)buf)[k]), 0);
    case b8:
        return wrap(t, ((const uint8_t *)buf)[k]);
    case u8:
        return wrap(t, ((const uint8_t *)buf)[k]);
    case s8:
        return wrap(t, (uint64_t)(int64_t)((const int8_t *)buf)[k]);
    case u16:
        return wrap(t, ((const uint16_t *)buf)[k]);
    case s16:
        return wrap(t, (uint64_t)(int64_t)((const int16_t *)buf)[k]);
    case u32:
        return wrap(t, ((const uint32_t *)buf)[k]);
    case s32:
        return wrap(t, (uint64_t)(int64_t)((const int32_t *)buf)[k]);
    case u64:
        return wrap(t, ((const uint64_t *)buf)[k]);
    case s64:
        return wrap(t, (uint64_t)((const int64_t *)buf)[k]);
    }
    return wrap(t, 0);
}

static dim_t nelem(unsigned nd, const dim_t *d) {
    dim_t n = 1;
    for (unsigned k = 0; k < nd; k++)
        n *= d[k];
    return n;
}

static af_array make(af_dtype t, const val *v, unsigned nd, const dim_t *d) {
    size_t n = (size_t)nelem(nd, d);
    void *buf = calloc(n ? n : 1, t_size(t));
    for (size_t k = 0; k < n; k++)
        store(t, buf, k, v[k]);
    af_array a = 0;
    CHECK_AF(af_create_array(&a, buf, nd, d, t));
    free(buf);
    return a;
}

/* Reads `a`, checks its dtype is `t` and its element count n; returns a malloc'ed array. */
static val *readv(af_array a, af_dtype t, size_t n) {
    af_dtype got = f32;
    dim_t cnt = -1;
    CHECK_AF(af_get_type(&got, a));
    CHECK_AF(af_get_elements(&cnt, a));
    if (got != t) {
        em_test_fail(__FILE__, __LINE__, "result dtype %s, expected %s", tname(got), tname(t));
        return NULL;
    }
    if ((size_t)cnt != n) {
        em_test_fail(__FILE__, __LINE__, "result has %lld elements, expected %zu", (long long)cnt,
                     n);
        return NULL;
    }
    void *buf = calloc(n ? n : 1, t_size(t));
    val *v = calloc(n ? n : 1, sizeof(val));
    if (n) CHECK_AF(af_get_data_ptr(buf, a));
    for (size_t k = 0; k < n; k++)
        v[k] = load(t, buf, k);
    free(buf);
    return v;
}

/* Random values of dtype t. mode picks the range: 0 general, 1 small positive-ish (pow bases),
 * 2 exponents / shift counts, 3 unit interval (asin, acos, atanh), 4 no specials (complex math). */
static val rand_val(af_dtype t, int mode) {
    if (t == b8) return wrap(t, em_test_rand_u64() & 1);
    if (t_int(t)) {
        int w = t_bits(t);
        uint64_t r = em_test_rand_u64();
        if (mode == 2) {
            int64_t c = (int64_t)(r % (uint64_t)(w + 5)) - 2; /* -2 .. w+2 */
            return t_uint(t) && c < 0 ? wrap(t, (uint64_t)(w + 1)) : wrap(t, (uint64_t)c);
        }
        switch (r % 4) {
        case 0:
            return wrap(t, r >> 8); /* full range */
        case 1:
            return wrap(t, (uint64_t)((int64_t)(r >> 60) - 8)); /* -8..7 */
        default:
            return wrap(t, (uint64_t)((int64_t)((r >> 40) % 200) - 100));
        }
    }
    double lo = -10, hi = 10;
    if (mode == 1) lo = 0, hi = 4;
    if (mode == 2) lo = -3, hi = 3;
    if (mode == 3) lo = -1, hi = 1;
    double re = em_test_rand_uniform(lo, hi), im = em_test_rand_uniform(lo, hi);
    if (t == f16) re = round_to(t, re);
    return vf(t, re, im);
}

/* n values with special values first: NaN, inf, -inf, 0, -0 for floating dtypes (and complex
 * parts), 0, 1, -1, MIN, MAX for integers. */
static void rand_vals_at(af_dtype t, val *v, size_t n, int mode, bool specials, int rot) {
    for (size_t k = 0; k < n; k++)
        v[k] = rand_val(t, mode);
    if (!specials) return;
    if (t_flt(t) || t_cplx(t)) {
        static const double sp[] = {NAN, INFINITY, -INFINITY, 0.0, -0.0, 1.0, -1.0, 0.5};
        for (size_t k = 0; k < n && k < 8; k++)
            v[k] = vf(t, sp[(k + (size_t)rot) % 8], t_cplx(t) ? sp[(k + 3) % 8] : 0);
    } else if (t_int(t) && mode != 2) {
        int w = t_bits(t);
        uint64_t mn = t_sint(t) ? (1ull << (w - 1)) : 0;
        uint64_t mx = t_sint(t) ? mn - 1 : (w == 64 ? ~0ull : (1ull << w) - 1);
        uint64_t sp[] = {0, 1, ~0ull, mn, mx};
        for (size_t k = 0; k < n && k < 5; k++)
            v[k] = wrap(t, sp[(k + (size_t)rot) % 5]);
    }
}
static void rand_vals(af_dtype t, val *v, size_t n, int mode, bool specials) {
    rand_vals_at(t, v, n, mode, specials, 0);
}

/* ---------------------------------------------------------------------------------------------
 * Comparison of results
 * ------------------------------------------------------------------------------------------- */
static bool same_float(double g, double r, double tol, bool sign_of_zero) {
    if (isnan(r)) return isnan(g);
    if (isinf(r) || tol == 0) {
        if (g != r) return false;
        return !(sign_of_zero && r == 0) || signbit(g) == signbit(r);
    }
    if (!isfinite(g)) return false;
    return fabs(g - r) <= tol * (fabs(r) + 1e-30) || fabs(g - r) <= tol * 1e-3;
}

/* Checks got[k] == ref[k] for n values of dtype t. tol 0 is exact (and checks the sign of zero
 * when sz); otherwise a relative tolerance. Reports the first mismatches with `what`. */
static bool check_vals(const char *file, int line, const char *what, af_dtype t, const val *got,
                       const val *ref, size_t n, double tol, bool sz) {
    size_t bad = 0;
    char first[512] = "";
    for (size_t k = 0; k < n; k++) {
        bool ok;
        if (t_int(t) || t == b8)
            ok = bits_of(t, got[k]) == bits_of(t, ref[k]);
        else if (t_cplx(t) && tol > 0) {
            /* complex: relative to the magnitude, so a tiny part next to a large one passes */
            double m = hypot(ref[k].re, ref[k].im);
            bool nan_r = isnan(ref[k].re) || isnan(ref[k].im);
            bool nan_g = isnan(got[k].re) || isnan(got[k].im);
            if (nan_r || nan_g)
                ok = nan_r == nan_g;
            else if (!isfinite(m))
                ok = same_float(got[k].re, ref[k].re, tol, false) &&
                     same_float(got[k].im, ref[k].im, tol, false);
            else
                ok = hypot(got[k].re - ref[k].re, got[k].im - ref[k].im) <= tol * (m + 1e-6);
        } else {
            ok = same_float(got[k].re, ref[k].re, tol, sz) &&
                 (!t_cplx(t) || same_float(got[k].im, ref[k].im, tol, sz));
        }
        if (ok) continue;
        if (bad++ == 0) {
            if (t_int(t) || t == b8)
                snprintf(first, sizeof(first), "[%zu] got %lld/%llu want %lld/%llu", k,
                         (long long)got[k].i, (unsigned long long)got[k].u, (long long)ref[k].i,
                         (unsigned long long)ref[k].u);
            else
                snprintf(first, sizeof(first), "[%zu] got (%.9g, %.9g) want (%.9g, %.9g)", k,
                         got[k].re, got[k].im, ref[k].re, ref[k].im);
        }
    }
    if (bad)
        em_test_fail(file, line, "%s (%s): %zu of %zu differ; first %s", what, tname(t), bad, n,
                     first);
    return bad == 0;
}
#define CHECK_VALS(what, t, got, ref, n, tol, sz)                                                  \
    check_vals(__FILE__, __LINE__, (what), (t), (got), (ref), (n), (tol), (sz))

/* Relative tolerance of transcendental results in each dtype. */
static double tol_of(af_dtype t) {
    return (t == f16) ? 2e-3 : (t == f32 || t == c32) ? 2e-5 : 1e-12;
}

/* ---------------------------------------------------------------------------------------------
 * Binary references (docs/JIT_OPS.md), on operands already cast to the operation dtype t.
 * ------------------------------------------------------------------------------------------- */
typedef enum {
    B_ADD,
    B_SUB,
    B_MUL,
    B_DIV,
    B_MIN,
    B_MAX,
    B_POW,
    B_REM,
    B_MOD,
    B_ATAN2,
    B_HYPOT,
    B_LT,
    B_GT,
    B_LE,
    B_GE,
    B_EQ,
    B_NEQ,
    B_AND,
    B_OR,
    B_BAND,
    B_BOR,
    B_BXOR,
    B_SHL,
    B_SHR,
    B_COUNT
} bop;

typedef af_err (*bin_fn)(af_array *, const af_array, const af_array, const bool);
static const struct {
    const char *name;
    bin_fn fn;
    bool exact; /* float results compared bit for bit */
} bops[B_COUNT] = {
    [B_ADD] = {"af_add", af_add, true},
    [B_SUB] = {"af_sub", af_sub, true},
    [B_MUL] = {"af_mul", af_mul, true},
    [B_DIV] = {"af_div", af_div, true},
    [B_MIN] = {"af_minof", af_minof, true},
    [B_MAX] = {"af_maxof", af_maxof, true},
    [B_POW] = {"af_pow", af_pow, false},
    [B_REM] = {"af_rem", af_rem, true},
    [B_MOD] = {"af_mod", af_mod, true},
    [B_ATAN2] = {"af_atan2", af_atan2, false},
    [B_HYPOT] = {"af_hypot", af_hypot, false},
    [B_LT] = {"af_lt", af_lt, true},
    [B_GT] = {"af_gt", af_gt, true},
    [B_LE] = {"af_le", af_le, true},
    [B_GE] = {"af_ge", af_ge, true},
    [B_EQ] = {"af_eq", af_eq, true},
    [B_NEQ] = {"af_neq", af_neq, true},
    [B_AND] = {"af_and", af_and, true},
    [B_OR] = {"af_or", af_or, true},
    [B_BAND] = {"af_bitand", af_bitand, true},
    [B_BOR] = {"af_bitor", af_bitor, true},
    [B_BXOR] = {"af_bitxor", af_bitxor, true},
    [B_SHL] = {"af_bitshiftl", af_bitshiftl, true},
    [B_SHR] = {"af_bitshiftr", af_bitshiftr, true},
};

static bool is_logic(bop op) {
    return op >= B_LT && op <= B_OR;
}

/* The error code for op on promoted dtype t, or AF_SUCCESS when accepted. */
static af_err bin_accepts(bop op, af_dtype t) {
    if ((op == B_REM || op == B_MOD) && t_cplx(t)) return AF_ERR_TYPE;
    if ((op == B_ATAN2 || op == B_HYPOT) && t != f32 && t != f64) return AF_ERR_NOT_SUPPORTED;
    if (op >= B_BAND && !(t_int(t) || t == b8)) return AF_ERR_TYPE;
    return AF_SUCCESS;
}

static val ref_int_binary(bop op, af_dtype t, val x, val y) {
    uint64_t ux = bits_of(t, x), uy = bits_of(t, y);
    bool sg = t_sint(t);
    int w = t_bits(t);
    switch (op) {
    case B_ADD:
        return wrap(t, ux + uy);
    case B_SUB:
        return wrap(t, ux - uy);
    case B_MUL:
        return wrap(t, ux * uy);
    case B_DIV:
        if (uy == 0) return wrap(t, 0);
        if (sg && y.i == -1) return wrap(t, 0 - ux);
        return sg ? wrap(t, (uint64_t)(x.i / y.i)) : wrap(t, x.u / y.u);
    case B_REM:
    case B_MOD:
        if (uy == 0) return x;
        if (sg && y.i == -1) return wrap(t, 0);
        return sg ? wrap(t, (uint64_t)(x.i % y.i)) : wrap(t, x.u % y.u);
    case B_POW: {
        if (sg && y.i < 0) return wrap(t, x.i == 1 ? 1 : x.i == -1 ? ((y.i & 1) ? ~0ull : 1) : 0);
        /* x^n mod 2^64: a plain loop for small n; for large n the square-and-multiply
         * identity x^n = (x^2)^(n/2) * x^(n%2), which needs no loop of n steps. */
        uint64_t r = 1, n = sg ? (uint64_t)y.i : y.u, b = ux;
        if (n <= 1000) {
            for (uint64_t k = 0; k < n; k++)
                r *= ux;
            return wrap(t, r);
        }
        for (; n; n >>= 1, b *= b)
            if (n & 1) r *= b;
        return wrap(t, r);
    }
    case B_MIN:
        return (sg ? x.i < y.i : x.u < y.u) ? x : y;
    case B_MAX:
        return (sg ? x.i > y.i : x.u > y.u) ? x : y;
    case B_LT:
        return wrap(b8, sg ? x.i < y.i : x.u < y.u);
    case B_GT:
        return wrap(b8, sg ? x.i > y.i : x.u > y.u);
    case B_LE:
        return wrap(b8, sg ? x.i <= y.i : x.u <= y.u);
    case B_GE:
        return wrap(b8, sg ? x.i >= y.i : x.u >= y.u);
    case B_EQ:
        return wrap(b8, ux == uy);
    case B_NEQ:
        return wrap(b8, ux != uy);
    case B_AND:
        return wrap(b8, ux != 0 && uy != 0);
    case B_OR:
        return wrap(b8, ux != 0 || uy != 0);
    case B_BAND:
        return wrap(t, ux & uy);
    case B_BOR:
        return wrap(t, ux | uy);
    case B_BXOR:
        return wrap(t, ux ^ uy);
    case B_SHL:
    case B_SHR: {
        bool out = sg ? (y.i < 0 || y.i >= w) : y.u >= (uint64_t)w;
        if (op == B_SHL) return out ? wrap(t, 0) : wrap(t, ux << (sg ? y.i : (int64_t)y.u));
        if (out) return wrap(t, sg && x.i < 0 ? ~0ull : 0);
        if (!sg) return wrap(t, x.u >> y.u);
        /* arithmetic shift as floor division by 2^y */
        int64_t q = x.i >= 0 ? x.i >> y.i : -(int64_t)((((uint64_t) - (x.i + 1)) >> y.i) + 1);
        return wrap(t, (uint64_t)q);
    }
    default:
        break;
    }
    return wrap(t, 0);
}

/* b8: "compute as u8, then != 0", BITNOT aside. */
static val ref_b8_binary(bop op, val x, val y) {
    if (is_logic(op)) return ref_int_binary(op, u8, wrap(u8, x.u), wrap(u8, y.u));
    val r = ref_int_binary(op, u8, wrap(u8, x.u), wrap(u8, y.u));
    return wrap(b8, r.u != 0);
}

static double fmin_rule(double x, double y) {
    return (x < y || isnan(y)) ? x : y;
}
static double fmax_rule(double x, double y) {
    return (x > y || isnan(y)) ? x : y;
}

static val ref_float_binary(bop op, af_dtype t, val a, val b) {
    double x = a.re, y = b.re, r = 0;
    switch (op) {
    case B_ADD:
        r = x + y;
        break;
    case B_SUB:
        r = x - y;
        break;
    case B_MUL:
        r = x * y;
        break;
    case B_DIV:
        r = x / y;
        break;
    case B_MIN:
        r = fmin_rule(x, y);
        break;
    case B_MAX:
        r = fmax_rule(x, y);
        break;
    case B_POW:
        r = pow(x, y);
        break;
    case B_REM:
        r = remainder(x, y);
        break;
    case B_MOD:
        r = fmod(x, y);
        break;
    case B_ATAN2:
        r = atan2(x, y);
        break;
    case B_HYPOT:
        r = hypot(x, y);
        break;
    case B_LT:
        return wrap(b8, x < y);
    case B_GT:
        return wrap(b8, x > y);
    case B_LE:
        return wrap(b8, x <= y);
    case B_GE:
        return wrap(b8, x >= y);
    case B_EQ:
        return wrap(b8, x == y);
    case B_NEQ:
        return wrap(b8, x != y);
    case B_AND:
        return wrap(b8, x != 0 && y != 0);
    case B_OR:
        return wrap(b8, x != 0 || y != 0);
    default:
        break;
    }
    return vf(t, r, 0);
}

static val ref_cplx_binary(bop op, af_dtype t, val a, val b) {
    double mx = hypot(a.re, a.im), my = hypot(b.re, b.im);
    bool tx = a.re != 0 || a.im != 0, ty = b.re != 0 || b.im != 0;
    switch (op) {
    case B_ADD:
        return vf(t, a.re + b.re, a.im + b.im);
    case B_SUB:
        return vf(t, a.re - b.re, a.im - b.im);
    /* mul, div and pow follow the formulas of docs/JIT_OPS.md (C's operators recover
     * infinities by Annex G rules that ArrayFire's formulas do not). */
    case B_MUL:
        return vf(t, a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re);
    case B_DIV: {
        double s = 1 / hypot(b.re, b.im), c = b.re * s, d = b.im * s;
        return vf(t, (a.re * c + a.im * d) * s, (a.im * c - a.re * d) * s);
    }
    case B_POW: {
        double r0 = hypot(a.re, a.im), th = atan2(a.im, a.re), m, p;
        if (b.im == 0) {
            m = pow(r0, b.re);
            p = b.re * th;
        } else {
            double l = log(r0);
            m = exp(b.re * l - b.im * th);
            p = b.im * l + b.re * th;
        }
        return vf(t, m * cos(p), m * sin(p));
    }
    case B_MIN:
        return (mx < my || isnan(my)) ? a : b;
    case B_MAX:
        return (mx > my || isnan(my)) ? a : b;
    case B_LT:
        return wrap(b8, mx < my);
    case B_GT:
        return wrap(b8, mx > my);
    case B_LE:
        return wrap(b8, mx <= my);
    case B_GE:
        return wrap(b8, mx >= my);
    case B_EQ:
        return wrap(b8, a.re == b.re && a.im == b.im);
    case B_NEQ:
        return wrap(b8, !(a.re == b.re && a.im == b.im));
    case B_AND:
        return wrap(b8, tx && ty);
    case B_OR:
        return wrap(b8, tx || ty);
    default:
        break;
    }
    return vf(t, 0, 0);
}

static val ref_binary(bop op, af_dtype t, val x, val y) {
    if (t == b8) return ref_b8_binary(op, x, y);
    if (t_int(t)) return ref_int_binary(op, t, x, y);
    if (t_cplx(t)) return ref_cplx_binary(op, t, x, y);
    return ref_float_binary(op, t, x, y);
}

/* The input mode of each operand for op, so that results are interesting. */
static int mode_of(bop op, int arg) {
    if (op == B_POW) return arg == 0 ? 1 : 2;
    if ((op == B_SHL || op == B_SHR) && arg == 1) return 2;
    return 0;
}

/* Runs op on lt x rt operands of dims dl / dr (batch), and checks dtype, dims and values. */
static void run_binary(bop op, af_dtype lt, af_dtype rt, unsigned nd, const dim_t *dl,
                       const dim_t *dr, bool batch, bool specials) {
    dim_t d4l[4] = {1, 1, 1, 1}, d4r[4] = {1, 1, 1, 1}, od[4];
    for (unsigned k = 0; k < nd; k++)
        d4l[k] = dl[k], d4r[k] = dr[k];
    for (int k = 0; k < 4; k++)
        od[k] = d4l[k] == 1 ? d4r[k] : d4l[k];
    size_t nl = (size_t)nelem(nd, dl), nr = (size_t)nelem(nd, dr), no = (size_t)nelem(4, od);
    val *x = calloc(nl + 1, sizeof(val)), *y = calloc(nr + 1, sizeof(val));
    /* the right operand's specials are rotated, so that each special meets the others */
    rand_vals_at(lt, x, nl, mode_of(op, 0), specials, 0);
    rand_vals_at(rt, y, nr, mode_of(op, 1), specials, (int)(em_test_rand_u64() % 8));
    /* Exponents stay small enough for the reference's repeated multiply. */
    if (op == B_POW)
        for (size_t k = 0; k < nr; k++)
            if (t_int(rt) && (t_sint(rt) ? (y[k].i > 100 || y[k].i < -5) : y[k].u > 100))
                y[k] = wrap(rt, em_test_rand_u64() % 70);
    if (specials && nr > 5 && (op == B_DIV || op == B_REM || op == B_MOD)) y[5] = wrap(rt, 0);
    af_array a = make(lt, x, nd, dl), b = make(rt, y, nd, dr), c = 0;
    af_dtype t = promote(lt, rt);
    af_err want = bin_accepts(op, t);
    char what[96];
    snprintf(what, sizeof(what), "%s(%s, %s)", bops[op].name, tname(lt), tname(rt));
    if (want != AF_SUCCESS) {
        af_err got = bops[op].fn(&c, a, b, batch);
        if (got != want)
            em_test_fail(__FILE__, __LINE__, "%s returned %d, expected %d", what, (int)got,
                         (int)want);
        else
            em_test_check_message(__FILE__, __LINE__, what);
    } else {
        CHECK_AF(bops[op].fn(&c, a, b, batch));
        af_dtype rtype = is_logic(op) ? b8 : t;
        val *got = c ? readv(c, rtype, no) : NULL;
        if (got) {
            val *ref = calloc(no + 1, sizeof(val));
            dim_t co[4];
            for (size_t e = 0; e < no; e++) {
                /* Coordinates of e, and the broadcast index into each operand. */
                size_t r = e;
                for (int k = 0; k < 4; k++) {
                    co[k] = (dim_t)(r % (size_t)od[k]);
                    r /= (size_t)od[k];
                }
                size_t il = 0, ir = 0, sl = 1, sr = 1;
                for (int k = 0; k < 4; k++) {
                    il += (size_t)(d4l[k] == 1 ? 0 : co[k]) * sl;
                    ir += (size_t)(d4r[k] == 1 ? 0 : co[k]) * sr;
                    sl *= (size_t)d4l[k];
                    sr *= (size_t)d4r[k];
                }
                ref[e] = ref_binary(op, t, cast_val(lt, t, x[il]), cast_val(rt, t, y[ir]));
            }
            double tol =
                (bops[op].exact && !(t_cplx(t) && (op == B_MUL || op == B_DIV))) ? 0 : tol_of(t);
            CHECK_VALS(what, rtype, got, ref, no, tol, op == B_MIN || op == B_MAX);
            free(ref);
        }
        free(got);
    }
    af_release_array(a);
    af_release_array(b);
    if (c) af_release_array(c);
    free(x);
    free(y);
}

/* ---------------------------------------------------------------------------------------------
 * Binary cases
 * ------------------------------------------------------------------------------------------- */
TEST(arith_binary_every_op_every_dtype) {
    dim_t d[1] = {37};
    for (int op = 0; op < B_COUNT; op++)
        for (int k = 0; k < NTYPES; k++)
            run_binary((bop)op, all_types[k], all_types[k], 1, d, d, false, true);
}

TEST(arith_binary_4d_and_broadcast) {
    dim_t d[4] = {3, 4, 2, 3}, dl[4] = {3, 1, 2, 1}, dr[4] = {1, 4, 1, 3};
    static const af_dtype ts[] = {f32, f64, c32, s32, u8, s64, u64, f16, b8};
    for (int op = 0; op < B_COUNT; op++)
        for (size_t k = 0; k < sizeof(ts) / sizeof(ts[0]); k++) {
            run_binary((bop)op, ts[k], ts[k], 4, d, d, false, true);
            run_binary((bop)op, ts[k], ts[k], 4, dl, dr, true, true);
            run_binary((bop)op, ts[k], ts[k], 4, d, dr, true, false);
        }
}

TEST(arith_binary_empty_and_scalar) {
    dim_t e[2] = {0, 3}, one[1] = {1}, e1[2] = {1, 3};
    for (int op = 0; op < B_COUNT; op++) {
        run_binary((bop)op, f32, f32, 2, e, e, false, false);
        run_binary((bop)op, s32, s32, 1, one, one, false, false);
        /* an empty dimension broadcast against 1 stays empty */
        run_binary((bop)op, s16, s16, 2, e, e1, true, false);
    }
}

/* Every pair of dtypes: the result dtype is ArrayFire's promotion, and the values are the op on
 * operands cast to it (checked for add, lt and bitor, which cover arithmetic, logic and the
 * integer-only family). */
TEST(arith_binary_promotion_every_pair) {
    dim_t d[1] = {23};
    for (int i = 0; i < NTYPES; i++)
        for (int j = 0; j < NTYPES; j++) {
            run_binary(B_ADD, all_types[i], all_types[j], 1, d, d, false, true);
            run_binary(B_LT, all_types[i], all_types[j], 1, d, d, false, true);
            run_binary(B_BOR, all_types[i], all_types[j], 1, d, d, false, false);
        }
}

TEST(arith_binary_mixed_pairs_all_ops) {
    dim_t d[1] = {19};
    static const af_dtype pairs[][2] = {{s32, f32}, {u8, s8},   {f16, f64}, {c32, f64}, {b8, s16},
                                        {u64, s64}, {u32, s32}, {c64, u8},  {f16, s32}};
    for (int op = 0; op < B_COUNT; op++)
        for (size_t k = 0; k < sizeof(pairs) / sizeof(pairs[0]); k++)
            run_binary((bop)op, pairs[k][0], pairs[k][1], 1, d, d, false, true);
}

/* The corner cases docs/JIT_OPS.md defines, each checked by value. */
TEST(arith_integer_corner_cases) {
    dim_t d[1] = {8};
    int32_t x[8] = {7, -7, 7, -7, INT32_MIN, INT32_MIN, 5, 0};
    int32_t y[8] = {2, 2, -2, -2, -1, 0, 0, 0};
    af_array a = 0, b = 0, q = 0, r = 0, m = 0;
    CHECK_AF(af_create_array(&a, x, 1, d, s32));
    CHECK_AF(af_create_array(&b, y, 1, d, s32));
    CHECK_AF(af_div(&q, a, b, false));
    CHECK_AF(af_rem(&r, a, b, false));
    CHECK_AF(af_mod(&m, a, b, false));
    int32_t hq[8], hr[8], hm[8];
    CHECK_AF(af_get_data_ptr(hq, q));
    CHECK_AF(af_get_data_ptr(hr, r));
    CHECK_AF(af_get_data_ptr(hm, m));
    int32_t wq[8] = {3, -3, -3, 3, INT32_MIN, 0, 0, 0}, wr[8] = {1, -1, 1, -1, 0, INT32_MIN, 5, 0};
    for (int k = 0; k < 8; k++) {
        CHECK(hq[k] == wq[k]);
        CHECK(hr[k] == wr[k]);
        CHECK(hm[k] == wr[k]);
        if (k != 4) CHECK(hq[k] * y[k] + hr[k] == x[k]); /* k == 4 wraps: MIN * -1 */
    }
    af_release_array(q);
    af_release_array(r);
    af_release_array(m);
    /* shifts out of range and of negative numbers */
    int8_t sx[6] = {1, 1, -128, -5, -5, 64}, sy[6] = {7, 8, 1, 1, 9, -1};
    af_array c = 0, e = 0, shl = 0, shr = 0;
    dim_t d6[1] = {6};
    CHECK_AF(af_create_array(&c, sx, 1, d6, s8));
    CHECK_AF(af_create_array(&e, sy, 1, d6, s8));
    CHECK_AF(af_bitshiftl(&shl, c, e, false));
    CHECK_AF(af_bitshiftr(&shr, c, e, false));
    int8_t hl[6], hs[6];
    CHECK_AF(af_get_data_ptr(hl, shl));
    CHECK_AF(af_get_data_ptr(hs, shr));
    int8_t wl[6] = {-128, 0, 0, -10, 0, 0}, ws[6] = {0, 0, -64, -3, -1, 0};
    for (int k = 0; k < 6; k++) {
        CHECK(hl[k] == wl[k]);
        CHECK(hs[k] == ws[k]);
    }
    af_release_array(a);
    af_release_array(b);
    af_release_array(c);
    af_release_array(e);
    af_release_array(shl);
    af_release_array(shr);
}

TEST(arith_float_corner_cases) {
    dim_t d[1] = {6};
    float x[6] = {NAN, 1.0f, NAN, -0.0f, 0.0f, 5.5f}, y[6] = {1.0f, NAN, NAN, 0.0f, -0.0f, 2.0f};
    af_array a = 0, b = 0, mn = 0, mx = 0, rm = 0, md = 0;
    CHECK_AF(af_create_array(&a, x, 1, d, f32));
    CHECK_AF(af_create_array(&b, y, 1, d, f32));
    CHECK_AF(af_minof(&mn, a, b, false));
    CHECK_AF(af_maxof(&mx, a, b, false));
    CHECK_AF(af_rem(&rm, a, b, false));
    CHECK_AF(af_mod(&md, a, b, false));
    float hmn[6], hmx[6], hrm[6], hmd[6];
    CHECK_AF(af_get_data_ptr(hmn, mn));
    CHECK_AF(af_get_data_ptr(hmx, mx));
    CHECK_AF(af_get_data_ptr(hrm, rm));
    CHECK_AF(af_get_data_ptr(hmd, md));
    /* min/max ignore one NaN; equal zeros give the second operand */
    CHECK(hmn[0] == 1.0f && hmn[1] == 1.0f && isnan(hmn[2]));
    CHECK(hmx[0] == 1.0f && hmx[1] == 1.0f && isnan(hmx[2]));
    CHECK(hmn[3] == 0 && !signbit(hmn[3]) && hmn[4] == 0 && signbit(hmn[4]));
    /* rem is IEEE remainder (5.5 / 2 = 2.75 rounds to 3: -0.5), mod is fmod (1.5) */
    CHECK(hrm[5] == -0.5f);
    CHECK(hmd[5] == 1.5f);
    af_release_array(a);
    af_release_array(b);
    af_release_array(mn);
    af_release_array(mx);
    af_release_array(rm);
    af_release_array(md);
}

TEST(arith_b8_arithmetic_stays_boolean) {
    dim_t d[1] = {4};
    uint8_t x[4] = {0, 0, 1, 1}, y[4] = {0, 1, 0, 1};
    af_array a = 0, b = 0;
    CHECK_AF(af_create_array(&a, x, 1, d, b8));
    CHECK_AF(af_create_array(&b, y, 1, d, b8));
    struct {
        bin_fn fn;
        uint8_t want[4];
    } cases[] = {
        {af_add, {0, 1, 1, 1}},       {af_sub, {0, 1, 1, 0}},       {af_mul, {0, 0, 0, 1}},
        {af_div, {0, 0, 0, 1}},       {af_pow, {1, 0, 1, 1}},       {af_rem, {0, 0, 1, 0}},
        {af_bitshiftl, {0, 0, 1, 1}}, {af_bitshiftr, {0, 0, 1, 0}},
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        af_array c = 0;
        uint8_t h[4];
        af_dtype t;
        CHECK_AF(cases[k].fn(&c, a, b, false));
        CHECK_AF(af_get_type(&t, c));
        CHECK(t == b8);
        CHECK_AF(af_get_data_ptr(h, c));
        for (int i = 0; i < 4; i++)
            CHECK(h[i] == cases[k].want[i]);
        af_release_array(c);
    }
    af_array n = 0;
    uint8_t hn[4];
    CHECK_AF(af_bitnot(&n, a));
    CHECK_AF(af_get_data_ptr(hn, n));
    CHECK(hn[0] == 1 && hn[1] == 1 && hn[2] == 0 && hn[3] == 0);
    af_release_array(n);
    af_release_array(a);
    af_release_array(b);
}

TEST(arith_binary_bad_input) {
    dim_t d2[1] = {2}, d3[1] = {3}, d23[2] = {2, 3}, d32[2] = {3, 2};
    val v[6] = {{0}};
    af_array a = make(f32, v, 1, d2), b = make(f32, v, 1, d3), c = 0, r = 0;
    CHECK_ERR(af_add(NULL, a, a, false), AF_ERR_ARG);
    CHECK_ERR(af_add(&c, NULL, a, false), AF_ERR_ARG);
    CHECK_ERR(af_add(&c, a, b, false), AF_ERR_SIZE);
    CHECK_ERR(af_add(&c, a, b, true), AF_ERR_SIZE);
    af_array m = make(f32, v, 2, d23), n = make(f32, v, 2, d32);
    CHECK_ERR(af_mul(&c, m, n, true), AF_ERR_SIZE);
    CHECK_AF(af_retain_array(&r, a));
    af_release_array(r);
    CHECK_ERR(af_sub(&c, a, r, false), AF_ERR_INVALID_ARRAY);
    CHECK_ERR(af_lt(&c, r, a, false), AF_ERR_INVALID_ARRAY);
    af_array z = make(c32, v, 1, d2);
    CHECK_ERR(af_rem(&c, z, a, false), AF_ERR_TYPE);
    CHECK_ERR(af_bitand(&c, a, a, false), AF_ERR_TYPE);
    CHECK_ERR(af_atan2(&c, z, z, false), AF_ERR_NOT_SUPPORTED);
    /* the output is never written on failure */
    c = (af_array)(uintptr_t)0x1234;
    CHECK_ERR(af_div(&c, a, b, false), AF_ERR_SIZE);
    CHECK(c == (af_array)(uintptr_t)0x1234);
    af_array lo = make(f32, v, 1, d2), hi = make(f64, v, 1, d2), hi3 = make(f32, v, 1, d3);
    c = 0;
    CHECK_ERR(af_clamp(&c, a, lo, hi, false), AF_ERR_DIFF_TYPE);
    CHECK_ERR(af_clamp(&c, a, lo, hi3, false), AF_ERR_SIZE);
    CHECK_ERR(af_clamp(NULL, a, lo, lo, false), AF_ERR_ARG);
    CHECK_ERR(af_cplx2(&c, z, a, false), AF_ERR_ARG);
    CHECK_ERR(af_root(&c, a, b, false), AF_ERR_SIZE);
    af_release_array(a);
    af_release_array(b);
    af_release_array(m);
    af_release_array(n);
    af_release_array(z);
    af_release_array(lo);
    af_release_array(hi);
    af_release_array(hi3);
}

/* clamp, root and cplx2: composite functions against their definitions. */
TEST(arith_clamp_root_cplx2) {
    dim_t d[1] = {41}, d1[1] = {1};
    for (int k = 0; k < NTYPES; k++) {
        af_dtype t = all_types[k];
        val x[41], lo[1], hi[1];
        rand_vals(t, x, 41, 0, true);
        lo[0] = rand_val(t, 0);
        hi[0] = rand_val(t, 0);
        af_array a = make(t, x, 1, d), l = make(t, lo, 1, d1), h = make(t, hi, 1, d1), c = 0;
        CHECK_AF(af_clamp(&c, a, l, h, true));
        val *got = c ? readv(c, t, 41) : NULL;
        if (got) {
            val ref[41];
            for (int i = 0; i < 41; i++)
                ref[i] = ref_binary(B_MIN, t, ref_binary(B_MAX, t, x[i], lo[0]), hi[0]);
            CHECK_VALS("af_clamp", t, got, ref, 41, 0, false);
        }
        free(got);
        af_release_array(a);
        af_release_array(l);
        af_release_array(h);
        if (c) af_release_array(c);
    }
    /* root(n, v) = v^(1/n); integers are rounded to the nearest */
    double nv[5] = {2, 3, 2, 0.5, 4}, vv[5] = {9, 27, 2, 3, 16};
    dim_t d5[1] = {5};
    af_array n = em_test_make(nv, 1, d5, f64), v = em_test_make(vv, 1, d5, f64), r = 0;
    CHECK_AF(af_root(&r, n, v, false));
    double *hr = em_test_read(r, NULL), want[5];
    for (int k = 0; k < 5; k++)
        want[k] = pow(vv[k], 1.0 / nv[k]);
    if (hr) CHECK_CLOSE(hr, want, 5, 1e-14, 0);
    free(hr);
    af_release_array(r);
    af_array ni = em_test_make(nv, 1, d5, s32), vi = em_test_make(vv, 1, d5, s32);
    CHECK_AF(af_root(&r, ni, vi, false));
    af_dtype rt;
    CHECK_AF(af_get_type(&rt, r));
    CHECK(rt == s32);
    int32_t hi2[5];
    CHECK_AF(af_get_data_ptr(hi2, r));
    /* nv 0.5 is 0 as s32: 3^(1/0) = inf saturates */
    CHECK(hi2[0] == 3 && hi2[1] == 3 && hi2[2] == 1 && hi2[3] == INT32_MAX && hi2[4] == 2);
    af_release_array(r);
    /* cplx2 of integers is c32; of f64 is c64 */
    af_array c = 0;
    CHECK_AF(af_cplx2(&c, ni, vi, false));
    CHECK_AF(af_get_type(&rt, c));
    CHECK(rt == c32);
    af_release_array(c);
    CHECK_AF(af_cplx2(&c, n, v, false));
    CHECK_AF(af_get_type(&rt, c));
    CHECK(rt == c64);
    double *hc = em_test_read(c, NULL);
    if (hc)
        for (int k = 0; k < 5; k++)
            CHECK(hc[2 * k] == nv[k] && hc[2 * k + 1] == vv[k]);
    free(hc);
    af_release_array(c);
    af_release_array(n);
    af_release_array(v);
    af_release_array(ni);
    af_release_array(vi);
}

/* ---------------------------------------------------------------------------------------------
 * Unary functions
 * ------------------------------------------------------------------------------------------- */
typedef enum {
    U_SIN,
    U_COS,
    U_TAN,
    U_ASIN,
    U_ACOS,
    U_ATAN,
    U_SINH,
    U_COSH,
    U_TANH,
    U_ASINH,
    U_ACOSH,
    U_ATANH,
    U_EXP,
    U_LOG,
    U_SQRT, /* complex too */
    U_SIGN,
    U_ROUND,
    U_TRUNC,
    U_FLOOR,
    U_CEIL,
    U_SIGMOID,
    U_EXPM1,
    U_ERF,
    U_ERFC,
    U_LOG10,
    U_LOG1P,
    U_LOG2,
    U_CBRT,
    U_RSQRT,
    U_TGAMMA,
    U_LGAMMA,
    U_FACTORIAL, /* real only */
    U_ISZERO,
    U_ISINF,
    U_ISNAN,
    U_ABS,
    U_ARG,
    U_NOT,
    U_BITNOT,
    U_POW2,
    U_CPLX,
    U_REAL,
    U_IMAG,
    U_CONJG,
    U_COUNT
} uop;

typedef af_err (*un_fn)(af_array *, const af_array);
static const struct {
    const char *name;
    un_fn fn;
    bool exact;
    int mode;
} uops[U_COUNT] = {
    [U_SIN] = {"af_sin", af_sin, false, 0},
    [U_COS] = {"af_cos", af_cos, false, 0},
    [U_TAN] = {"af_tan", af_tan, false, 0},
    [U_ASIN] = {"af_asin", af_asin, false, 3},
    [U_ACOS] = {"af_acos", af_acos, false, 3},
    [U_ATAN] = {"af_atan", af_atan, false, 0},
    [U_SINH] = {"af_sinh", af_sinh, false, 2},
    [U_COSH] = {"af_cosh", af_cosh, false, 2},
    [U_TANH] = {"af_tanh", af_tanh, false, 2},
    [U_ASINH] = {"af_asinh", af_asinh, false, 0},
    [U_ACOSH] = {"af_acosh", af_acosh, false, 1},
    [U_ATANH] = {"af_atanh", af_atanh, false, 3},
    [U_EXP] = {"af_exp", af_exp, false, 2},
    [U_LOG] = {"af_log", af_log, false, 1},
    [U_SQRT] = {"af_sqrt", af_sqrt, true, 1},
    [U_SIGN] = {"af_sign", af_sign, true, 0},
    [U_ROUND] = {"af_round", af_round, true, 0},
    [U_TRUNC] = {"af_trunc", af_trunc, true, 0},
    [U_FLOOR] = {"af_floor", af_floor, true, 0},
    [U_CEIL] = {"af_ceil", af_ceil, true, 0},
    [U_SIGMOID] = {"af_sigmoid", af_sigmoid, false, 0},
    [U_EXPM1] = {"af_expm1", af_expm1, false, 2},
    [U_ERF] = {"af_erf", af_erf, false, 2},
    [U_ERFC] = {"af_erfc", af_erfc, false, 2},
    [U_LOG10] = {"af_log10", af_log10, false, 1},
    [U_LOG1P] = {"af_log1p", af_log1p, false, 1},
    [U_LOG2] = {"af_log2", af_log2, false, 1},
    [U_CBRT] = {"af_cbrt", af_cbrt, false, 0},
    [U_RSQRT] = {"af_rsqrt", af_rsqrt, false, 1},
    [U_TGAMMA] = {"af_tgamma", af_tgamma, false, 2},
    [U_LGAMMA] = {"af_lgamma", af_lgamma, false, 1},
    [U_FACTORIAL] = {"af_factorial", af_factorial, false, 1},
    [U_ISZERO] = {"af_iszero", af_iszero, true, 0},
    [U_ISINF] = {"af_isinf", af_isinf, true, 0},
    [U_ISNAN] = {"af_isnan", af_isnan, true, 0},
    [U_ABS] = {"af_abs", af_abs, true, 0},
    [U_ARG] = {"af_arg", af_arg, false, 0},
    [U_NOT] = {"af_not", af_not, true, 0},
    [U_BITNOT] = {"af_bitnot", af_bitnot, true, 0},
    [U_POW2] = {"af_pow2", af_pow2, false, 2},
    [U_CPLX] = {"af_cplx", af_cplx, true, 0},
    [U_REAL] = {"af_real", af_real, true, 0},
    [U_IMAG] = {"af_imag", af_imag, true, 0},
    [U_CONJG] = {"af_conjg", af_conjg, true, 0},
};

/* Operand dtype the function computes in (after the api's cast), its result dtype, and the
 * error for a rejected input dtype. */
static af_err un_types(uop op, af_dtype in, af_dtype *operand, af_dtype *result) {
    af_dtype f = float_of(in);
    *operand = f;
    *result = f;
    if (op <= U_SQRT) return AF_SUCCESS;
    if (op <= U_FACTORIAL) return t_cplx(in) ? AF_ERR_ARG : AF_SUCCESS;
    switch (op) {
    case U_ISZERO:
    case U_ISINF:
    case U_ISNAN:
        *result = b8;
        return AF_SUCCESS;
    case U_ABS:
        *result = real_of(f);
        return AF_SUCCESS;
    case U_ARG:
        *operand = in;
        *result = real_of(in);
        return AF_SUCCESS;
    case U_NOT:
        *operand = in;
        *result = b8;
        return AF_SUCCESS;
    case U_BITNOT:
        *operand = *result = in;
        return (t_int(in) || in == b8) ? AF_SUCCESS : AF_ERR_TYPE;
    case U_POW2:
        *operand = *result = in;
        return AF_SUCCESS;
    case U_CPLX:
        *operand = in;
        *result = in == f64 ? c64 : c32;
        return t_cplx(in) ? AF_ERR_ARG : (in == f32 || in == f64) ? AF_SUCCESS : AF_ERR_TYPE;
    case U_REAL:
    case U_IMAG:
        *operand = in;
        *result = real_of(in);
        return AF_SUCCESS;
    case U_CONJG:
        *operand = *result = in;
        return AF_SUCCESS;
    default:
        return AF_SUCCESS;
    }
}

static double ref_real_unary(uop op, double x) {
    switch (op) {
    case U_SIN:
        return sin(x);
    case U_COS:
        return cos(x);
    case U_TAN:
        return tan(x);
    case U_ASIN:
        return asin(x);
    case U_ACOS:
        return acos(x);
    case U_ATAN:
        return atan(x);
    case U_SINH:
        return sinh(x);
    case U_COSH:
        return cosh(x);
    case U_TANH:
        return tanh(x);
    case U_ASINH:
        return asinh(x);
    case U_ACOSH:
        return acosh(x);
    case U_ATANH:
        return atanh(x);
    case U_EXP:
        return exp(x);
    case U_LOG:
        return log(x);
    case U_SQRT:
        return sqrt(x);
    case U_SIGN:
        return signbit(x) ? 1 : 0;
    case U_ROUND:
        return round(x);
    case U_TRUNC:
        return trunc(x);
    case U_FLOOR:
        return floor(x);
    case U_CEIL:
        return ceil(x);
    case U_SIGMOID:
        return 1 / (1 + exp(-x));
    case U_EXPM1:
        return expm1(x);
    case U_ERF:
        return erf(x);
    case U_ERFC:
        return erfc(x);
    case U_LOG10:
        return log10(x);
    case U_LOG1P:
        return log1p(x);
    case U_LOG2:
        return log2(x);
    case U_CBRT:
        return cbrt(x);
    case U_RSQRT:
        return 1 / sqrt(x);
    case U_TGAMMA:
        return tgamma(x);
    case U_LGAMMA: {
        int s;
        return lgamma_r(x, &s);
    }
    case U_FACTORIAL:
        return tgamma(x + 1);
    case U_ABS:
        return fabs(x);
    case U_POW2:
        return exp2(x);
    default:
        return 0;
    }
}

static double complex ref_cplx_unary(uop op, double complex z) {
    switch (op) {
    case U_SIN:
        return csin(z);
    case U_COS:
        return ccos(z);
    case U_TAN:
        return ctan(z);
    case U_ASIN:
        return casin(z);
    case U_ACOS:
        return cacos(z);
    case U_ATAN:
        return catan(z);
    case U_SINH:
        return csinh(z);
    case U_COSH:
        return ccosh(z);
    case U_TANH:
        return ctanh(z);
    case U_ASINH:
        return casinh(z);
    case U_ACOSH:
        return cacosh(z);
    case U_ATANH:
        return catanh(z);
    case U_EXP:
        return cexp(z);
    case U_LOG:
        return clog(z);
    case U_SQRT:
        return csqrt(z);
    case U_POW2:
        return cexp(z * M_LN2);
    default:
        return 0;
    }
}

static val ref_unary(uop op, af_dtype in, af_dtype t, af_dtype rt, val x) {
    switch (op) {
    case U_ISZERO:
        return wrap(b8, t_cplx(t) ? (x.re == 0 && x.im == 0) : x.re == 0);
    case U_ISINF:
        return wrap(b8, isinf(x.re) || (t_cplx(t) && isinf(x.im)));
    case U_ISNAN:
        return wrap(b8, isnan(x.re) || (t_cplx(t) && isnan(x.im)));
    case U_NOT:
        return wrap(b8, (t_int(t) || t == b8) ? bits_of(t, x) == 0
                                              : !(x.re != 0 || (t_cplx(t) && x.im != 0)));
    case U_BITNOT:
        return t == b8 ? wrap(b8, !x.u) : wrap(t, ~bits_of(t, x));
    case U_ARG:
        return t_cplx(t) ? vf(rt, atan2(x.im, x.re), 0) : cast_val(f64, in, vf(f64, 0, 0));
    case U_CPLX:
        return vf(rt, x.re, 0);
    case U_REAL:
        return t_cplx(t) ? vf(rt, x.re, 0) : x;
    case U_IMAG:
        return t_cplx(t) ? vf(rt, x.im, 0) : cast_val(f64, t, vf(f64, 0, 0));
    case U_CONJG:
        return t_cplx(t) ? vf(t, x.re, -x.im) : x;
    case U_ABS:
        if (t_cplx(t)) return vf(rt, hypot(x.re, x.im), 0);
        return vf(rt, fabs(x.re), 0);
    case U_POW2:
        if (t_int(t) || t == b8) return ref_binary(B_POW, t, cast_val(u8, t, wrap(u8, 2)), x);
        break;
    default:
        break;
    }
    if (t_cplx(t)) {
        double complex r = ref_cplx_unary(op, CMPLX(x.re, x.im));
        return vf(rt, creal(r), cimag(r));
    }
    return vf(rt, ref_real_unary(op, x.re), 0);
}

static void run_unary(uop op, af_dtype in, unsigned nd, const dim_t *d, bool specials) {
    size_t n = (size_t)nelem(nd, d);
    val *x = calloc(n + 1, sizeof(val));
    int mode = uops[op].mode;
    /* Complex math is compared with C99's functions away from their branch cuts. */
    bool sp = specials && !(t_cplx(in) && op <= U_SQRT) && !(t_cplx(in) && op == U_POW2);
    rand_vals(in, x, n, mode, sp);
    af_dtype t, rt;
    af_err want = un_types(op, in, &t, &rt);
    af_array a = make(in, x, nd, d), c = 0;
    char what[96];
    snprintf(what, sizeof(what), "%s(%s)", uops[op].name, tname(in));
    if (want != AF_SUCCESS) {
        af_err got = uops[op].fn(&c, a);
        if (got != want)
            em_test_fail(__FILE__, __LINE__, "%s returned %d, expected %d", what, (int)got,
                         (int)want);
        else
            em_test_check_message(__FILE__, __LINE__, what);
    } else {
        CHECK_AF(uops[op].fn(&c, a));
        val *got = c ? readv(c, rt, n) : NULL;
        if (got) {
            val *ref = calloc(n + 1, sizeof(val));
            for (size_t k = 0; k < n; k++)
                ref[k] = ref_unary(op, in, t, rt, cast_val(in, t, x[k]));
            bool exact = (uops[op].exact && !(t_cplx(t) && (op == U_SQRT || op == U_ABS))) ||
                         (op == U_POW2 && (t_int(t) || t == b8));
            double tol = exact ? 0 : tol_of(t);
            /* lgamma and tgamma of f16 near poles, and complex functions of large arguments,
             * lose relative accuracy; f16 results are rounded after float math. */
            if (op == U_TGAMMA || op == U_LGAMMA || op == U_FACTORIAL) tol *= 10;
            if (t_cplx(t) && !exact) tol *= 20;
            CHECK_VALS(what, rt, got, ref, n, tol, op == U_ABS || op == U_SIGN);
            free(ref);
        }
        free(got);
    }
    af_release_array(a);
    if (c) af_release_array(c);
    free(x);
}

TEST(arith_unary_every_function_every_dtype) {
    dim_t d[1] = {53};
    for (int op = 0; op < U_COUNT; op++)
        for (int k = 0; k < NTYPES; k++)
            run_unary((uop)op, all_types[k], 1, d, true);
}

TEST(arith_unary_shapes) {
    dim_t e[1] = {0}, one[1] = {1}, d4[4] = {3, 2, 5, 2};
    static const af_dtype ts[] = {f32, c64, s32, f16, b8, u64};
    for (int op = 0; op < U_COUNT; op++)
        for (size_t k = 0; k < sizeof(ts) / sizeof(ts[0]); k++) {
            run_unary((uop)op, ts[k], 1, e, false);
            run_unary((uop)op, ts[k], 1, one, false);
            run_unary((uop)op, ts[k], 4, d4, true);
        }
}

/* Large f32 arguments and every special value for Ember's own sin, cos, exp and log, across
 * block boundaries (the fix-up pass for |x| > 2^16 runs per block). */
TEST(arith_f32_transcendentals_full_range) {
    enum { N = 5000 };
    static float x[N];
    for (int k = 0; k < N; k++) {
        uint32_t u = (uint32_t)em_test_rand_u64();
        memcpy(&x[k], &u, 4);
    }
    static const float sp[] = {NAN,      INFINITY,  -INFINITY,  0.0f,      -0.0f,
                               65536.0f, 65537.0f,  1e30f,      -1e30f,    88.72f,
                               88.73f,   -103.9f,   -104.0f,    1e-40f,    FLT_MAX,
                               FLT_MIN,  0x1p-149f, 1.5707964f, 3.1415927f};
    memcpy(x + 1000, sp, sizeof(sp));
    dim_t d[1] = {N};
    af_array a = 0;
    CHECK_AF(af_create_array(&a, x, 1, d, f32));
    un_fn fns[4] = {af_sin, af_cos, af_exp, af_log};
    double (*refs[4])(double) = {sin, cos, exp, log};
    for (int f = 0; f < 4; f++) {
        af_array c = 0;
        static float h[N];
        CHECK_AF(fns[f](&c, a));
        CHECK_AF(af_get_data_ptr(h, c));
        int bad = 0;
        for (int k = 0; k < N; k++) {
            double r = refs[f](x[k]);
            float rf = (float)to_f32(r);
            bool ok;
            if (isnan(r))
                ok = isnan(h[k]);
            else if (isinf(rf))
                ok = h[k] == rf;
            else {
                /* within 2 ulp of the exact value (the documented bound is 1 ulp) */
                double ulp = fabs(rf) < FLT_MIN ? 0x1p-149 : ldexp(1, ilogb(rf) - 23);
                ok = fabs((double)h[k] - r) <= 2 * ulp;
                if (rf == 0 && r == 0) ok = ok && signbit(h[k]) == signbit(rf);
            }
            if (!ok && bad++ < 3)
                em_test_fail(__FILE__, __LINE__, "f32 function %d of %a: got %a want %a", f, x[k],
                             h[k], r);
        }
        af_release_array(c);
    }
    af_release_array(a);
}

TEST(arith_rounding_and_sign) {
    dim_t d[1] = {9};
    double x[9] = {0.5, -0.5, 1.5, 2.5, -2.5, -0.0, 0.0, NAN, -INFINITY};
    af_array a = em_test_make(x, 1, d, f64), r = 0, s = 0;
    CHECK_AF(af_round(&r, a));
    CHECK_AF(af_sign(&s, a));
    double *hr = em_test_read(r, NULL), *hs = em_test_read(s, NULL);
    double wr[9] = {1, -1, 2, 3, -3, -0.0, 0, NAN, -INFINITY}, ws[9] = {0, 1, 0, 0, 1, 1, 0, 0, 1};
    if (hr) CHECK_CLOSE(hr, wr, 9, 0, 0);
    if (hs) CHECK_CLOSE(hs, ws, 9, 0, 0); /* NAN has a clear sign bit */
    free(hr);
    free(hs);
    af_release_array(r);
    af_release_array(s);
    af_release_array(a);
    /* integers: floor etc. convert to f32 as ArrayFire does */
    int32_t xi[3] = {-7, 0, 16777217};
    dim_t d3[1] = {3};
    af_array b = 0, f = 0;
    CHECK_AF(af_create_array(&b, xi, 1, d3, s32));
    CHECK_AF(af_floor(&f, b));
    af_dtype t;
    CHECK_AF(af_get_type(&t, f));
    CHECK(t == f32);
    float hf[3];
    CHECK_AF(af_get_data_ptr(hf, f));
    CHECK(hf[0] == -7.0f && hf[1] == 0.0f && hf[2] == 16777216.0f);
    af_release_array(f);
    af_release_array(b);
}

TEST(arith_unary_bad_input) {
    dim_t d[1] = {3};
    val v[3] = {{0}};
    af_array a = make(f32, v, 1, d), z = make(c32, v, 1, d), r = 0, c = 0;
    CHECK_ERR(af_sin(NULL, a), AF_ERR_ARG);
    CHECK_ERR(af_sin(&c, NULL), AF_ERR_ARG);
    CHECK_ERR(af_floor(&c, z), AF_ERR_ARG);
    CHECK_ERR(af_erf(&c, z), AF_ERR_ARG);
    CHECK_ERR(af_bitnot(&c, a), AF_ERR_TYPE);
    CHECK_ERR(af_cplx(&c, z), AF_ERR_ARG);
    CHECK_AF(af_retain_array(&r, a));
    af_release_array(r);
    CHECK_ERR(af_exp(&c, r), AF_ERR_INVALID_ARRAY);
    CHECK_ERR(af_abs(&c, r), AF_ERR_INVALID_ARRAY);
    CHECK_ERR(af_not(&c, r), AF_ERR_INVALID_ARRAY);
    af_release_array(a);
    af_release_array(z);
}

/* ---------------------------------------------------------------------------------------------
 * af_cast
 * ------------------------------------------------------------------------------------------- */
TEST(arith_cast_every_pair) {
    dim_t d[1] = {29};
    for (int i = 0; i < NTYPES; i++) {
        af_dtype from = all_types[i];
        val x[29];
        rand_vals(from, x, 29, 0, true);
        /* values beyond every integer range, to check saturation */
        if (t_flt(from) || t_cplx(from)) {
            x[10] = vf(from, 1e10, 0);
            x[11] = vf(from, -1e10, 0);
            x[12] = vf(from, 300.7, -2);
            x[13] = vf(from, -129.9, 0);
        }
        af_array a = make(from, x, 1, d);
        for (int j = 0; j < NTYPES; j++) {
            af_dtype to = all_types[j];
            af_array c = 0;
            char what[64];
            snprintf(what, sizeof(what), "af_cast %s -> %s", tname(from), tname(to));
            if (t_cplx(from) && t_flt(to)) {
                CHECK_ERR(af_cast(&c, a, to), AF_ERR_TYPE);
                continue;
            }
            CHECK_AF(af_cast(&c, a, to));
            val *got = c ? readv(c, to, 29) : NULL;
            if (got) {
                val ref[29];
                for (int k = 0; k < 29; k++)
                    ref[k] = cast_val(from, to, x[k]);
                CHECK_VALS(what, to, got, ref, 29, 0, true);
            }
            free(got);
            if (c) af_release_array(c);
        }
        af_array c = 0;
        CHECK_ERR(af_cast(&c, a, (af_dtype)99), AF_ERR_TYPE);
        af_release_array(a);
    }
}

/* ---------------------------------------------------------------------------------------------
 * Laziness and one-pass evaluation
 * ------------------------------------------------------------------------------------------- */
static size_t buffers_in_use(void) {
    size_t ab = 0, an = 0, lb = 0, ln = 0;
    CHECK_AF(af_device_mem_info(&ab, &an, &lb, &ln));
    return ln;
}

/* A 16-op chain of element-wise ops with constants and two inputs allocates nothing until it is
 * evaluated, and then exactly one buffer: no intermediates. */
TEST(arith_chain_is_one_pass) {
    dim_t d[1] = {10007};
    af_array a = 0, b = 0, s1 = 0, s2 = 0, s3 = 0;
    CHECK_AF(af_randu(&a, 1, d, f32));
    CHECK_AF(af_randu(&b, 1, d, f32));
    CHECK_AF(af_eval(a));
    CHECK_AF(af_eval(b));
    CHECK_AF(af_constant(&s1, 1.5, 1, d, f32));
    CHECK_AF(af_constant(&s2, 0.25, 1, d, f32));
    CHECK_AF(af_constant(&s3, 2.0, 1, d, f32));
    size_t base = buffers_in_use();
    af_array x = 0, t = 0;
    CHECK_AF(af_retain_array(&x, a));
    for (int k = 0; k < 4; k++) {
        CHECK_AF(af_mul(&t, x, s1, false));
        af_release_array(x), x = t;
        CHECK_AF(af_add(&t, x, b, false));
        af_release_array(x), x = t;
        CHECK_AF(af_sub(&t, x, s2, false));
        af_release_array(x), x = t;
        if (k % 2)
            CHECK_AF(af_minof(&t, x, s3, false));
        else
            CHECK_AF(af_abs(&t, x));
        af_release_array(x), x = t;
    }
    CHECK(buffers_in_use() == base);
    CHECK_AF(af_eval(x));
    CHECK(buffers_in_use() == base + 1);
    float ha[10007], hb[10007], hx[10007];
    CHECK_AF(af_get_data_ptr(ha, a));
    CHECK_AF(af_get_data_ptr(hb, b));
    CHECK_AF(af_get_data_ptr(hx, x));
    int bad = 0;
    for (int i = 0; i < 10007; i++) {
        float r = ha[i];
        /* Each step is stored to a volatile, so that the compiler cannot fuse the multiply
         * and the add into one FMA as it may with -ffp-contract=fast. */
        for (int k = 0; k < 4; k++) {
            volatile float v = r * 1.5f;
            v = v + hb[i];
            v = v - 0.25f;
            r = v;
            r = (k % 2) ? (r < 2.0f ? r : 2.0f) : fabsf(r);
        }
        if (r != hx[i] && bad++ < 3)
            em_test_fail(__FILE__, __LINE__, "chain [%d]: got %a want %a (a %a, b %a)", i, hx[i], r,
                         ha[i], hb[i]);
    }
    CHECK(bad == 0);
    af_release_array(x);
    af_release_array(a);
    af_release_array(b);
    af_release_array(s1);
    af_release_array(s2);
    af_release_array(s3);
}

/* f16 is rounded after every op, not only at the end: (2048 + 1) + 1 is 2048 in f16. */
TEST(arith_f16_rounds_each_op) {
    dim_t d[1] = {1};
    double x[1] = {2048}, o[1] = {1};
    af_array a = em_test_make(x, 1, d, f16), one = em_test_make(o, 1, d, f16), s = 0, t = 0;
    CHECK_AF(af_add(&s, a, one, false));
    CHECK_AF(af_add(&t, s, one, false));
    double *h = em_test_read(t, NULL);
    if (h) CHECK(h[0] == 2048);
    free(h);
    af_release_array(a);
    af_release_array(one);
    af_release_array(s);
    af_release_array(t);
}
