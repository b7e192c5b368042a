/* data.h: af_select, af_select_scalar_r/_l (and their _long/_ulong forms), af_replace and
 * af_replace_scalar (and _long/_ulong), for every dtype, against a plain-C reference: out[i] =
 * cond[i] ? a[i] : b[i], with broadcasting of any operand along dimensions of size 1. Values are
 * compared bit for bit (select moves values, it computes nothing), so NaN payloads, -0 and 64-bit
 * integers are checked exactly. Bad input: NULL output, released handles, a non-b8 condition,
 * mismatched dtypes and incompatible dims. */
#include "test.h"

#include <string.h>

static const af_dtype all_types[] = {f32, c32, f64, c64, b8,  s32, u32,
                                     u8,  s64, u64, s16, u16, f16, s8};
#define NTYPES ((int)(sizeof(all_types) / sizeof(all_types[0])))

static size_t tsize(af_dtype t) {
    static const size_t sz[] = {4, 8, 8, 16, 1, 4, 4, 1, 8, 8, 2, 2, 2, 1};
    return sz[t];
}

static dim_t count(const dim_t d[4]) {
    return d[0] * d[1] * d[2] * d[3];
}

/* Random bytes for n elements of dtype t; b8 gets 0 or 1. Every bit pattern is a valid value of
 * the other dtypes (NaNs included), and select must move it unchanged. */
static void *rand_bytes(af_dtype t, size_t n) {
    size_t bytes = n * tsize(t);
    uint8_t *p = malloc(bytes + 8);
    for (size_t k = 0; k < bytes; k++)
        p[k] = (uint8_t)em_test_rand_u64();
    if (t == b8)
        for (size_t k = 0; k < n; k++)
            p[k] &= 1;
    /* f16: keep NaNs quiet, since the CPU computes f16 in float (a signalling NaN may come out
     * quieted); select is a move, but its operands pass through float like every f16 value. */
    if (t == f16)
        for (size_t k = 0; k < n; k++) {
            uint16_t h;
            memcpy(&h, p + 2 * k, 2);
            if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff)) h |= 0x200;
            memcpy(p + 2 * k, &h, 2);
        }
    /* f32/f64/c32/c64 NaNs pass through block loads untouched, but keep them quiet too so the
     * test does not depend on it. */
    if (t == f32 || t == c32)
        for (size_t k = 0; k < bytes / 4; k++) {
            uint32_t u;
            memcpy(&u, p + 4 * k, 4);
            if ((u & 0x7f800000u) == 0x7f800000u && (u & 0x7fffffu)) u |= 0x400000u;
            memcpy(p + 4 * k, &u, 4);
        }
    if (t == f64 || t == c64)
        for (size_t k = 0; k < bytes / 8; k++) {
            uint64_t u;
            memcpy(&u, p + 8 * k, 8);
            if ((u & 0x7ff0000000000000ull) == 0x7ff0000000000000ull && (u & 0xfffffffffffffull))
                u |= 0x8000000000000ull;
            memcpy(p + 8 * k, &u, 8);
        }
    return p;
}

static af_array make(af_dtype t, const void *data, const dim_t d[4]) {
    af_array a = 0;
    CHECK_AF(af_create_array(&a, data, 4, d, t));
    return a;
}

/* Linear index into an operand of dims od for output coordinate e of output dims o. */
static size_t bidx(const dim_t od[4], const dim_t o[4], size_t e) {
    size_t idx = 0, stride = 1;
    for (int k = 0; k < 4; k++) {
        size_t c = e % (size_t)o[k];
        e /= (size_t)o[k];
        idx += (od[k] == 1 ? 0 : c) * stride;
        stride *= (size_t)od[k];
    }
    return idx;
}

/* Checks array r: dtype t, dims o, bytes equal to ref. */
static void check_bytes(af_array r, af_dtype t, const dim_t o[4], const void *ref,
                        const char *what) {
    af_dtype rt;
    dim_t d[4];
    CHECK_AF(af_get_type(&rt, r));
    CHECK_AF(af_get_dims(&d[0], &d[1], &d[2], &d[3], r));
    if (rt != t || memcmp(d, o, sizeof(d)) != 0) {
        em_test_fail(__FILE__, __LINE__, "%s: dtype %d dims [%lld %lld %lld %lld]", what, (int)rt,
                     (long long)d[0], (long long)d[1], (long long)d[2], (long long)d[3]);
        return;
    }
    size_t bytes = (size_t)count(o) * tsize(t);
    void *h = malloc(bytes + 1);
    if (bytes) CHECK_AF(af_get_data_ptr(h, r));
    if (bytes && memcmp(h, ref, bytes) != 0) {
        size_t k = 0;
        while (((uint8_t *)h)[k] == ((const uint8_t *)ref)[k])
            k++;
        em_test_fail(__FILE__, __LINE__, "%s (%s): differs at element %zu", what,
                     em_test_dtype_name(t), k / tsize(t));
    }
    free(h);
}

/* select with array operands of dims dc, da, db (broadcast to o). */
static void run_select(af_dtype t, const dim_t dc[4], const dim_t da[4], const dim_t db[4],
                       const dim_t o[4]) {
    size_t no = (size_t)count(o), es = tsize(t);
    uint8_t *c = rand_bytes(b8, (size_t)count(dc));
    void *a = rand_bytes(t, (size_t)count(da)), *b = rand_bytes(t, (size_t)count(db));
    af_array ca = make(b8, c, dc), aa = make(t, a, da), ba = make(t, b, db), r = 0;
    CHECK_AF(af_select(&r, ca, aa, ba));
    uint8_t *ref = malloc(no * es + 1);
    for (size_t e = 0; e < no; e++) {
        bool pick = c[bidx(dc, o, e)];
        const uint8_t *src = pick ? (const uint8_t *)a + bidx(da, o, e) * es
                                  : (const uint8_t *)b + bidx(db, o, e) * es;
        memcpy(ref + e * es, src, es);
    }
    if (r) check_bytes(r, t, o, ref, "af_select");
    af_release_array(ca);
    af_release_array(aa);
    af_release_array(ba);
    if (r) af_release_array(r);
    free(ref);
    free(c);
    free(a);
    free(b);
}

TEST(select_every_dtype_and_shape) {
    const dim_t odd[4] = {37, 1, 1, 1}, d4[4] = {3, 4, 2, 3}, one[4] = {1, 1, 1, 1},
                empty[4] = {0, 5, 1, 1};
    const dim_t col[4] = {3, 1, 2, 1}, row[4] = {1, 4, 1, 3};
    for (int k = 0; k < NTYPES; k++) {
        af_dtype t = all_types[k];
        run_select(t, odd, odd, odd, odd);
        run_select(t, d4, d4, d4, d4);
        run_select(t, one, one, one, one);
        run_select(t, empty, empty, empty, empty);
        /* broadcasting: each operand alone, and all three at once */
        run_select(t, one, d4, d4, d4);
        run_select(t, d4, one, d4, d4);
        run_select(t, d4, d4, row, d4);
        run_select(t, col, row, one, d4);
    }
}

/* The scalar forms, converted to the array's dtype as af_constant converts: doubles saturate to
 * integer ranges (NaN to 0), long and ulong are exact for 64-bit integers. */
typedef enum { SC_D, SC_L, SC_U } sc_kind;

static void scalar_bytes(af_dtype t, sc_kind k, double dv, long long lv, unsigned long long uv,
                         void *out) {
    double x = k == SC_D ? dv : k == SC_L ? (double)lv : (double)uv;
    switch (t) {
    case f32:
        *(float *)out = (float)x;
        break;
    case f64:
        *(double *)out = x;
        break;
    case c32:
        ((float *)out)[0] = (float)x, ((float *)out)[1] = 0;
        break;
    case c64:
        ((double *)out)[0] = x, ((double *)out)[1] = 0;
        break;
    case f16:
        *(uint16_t *)out = em_test_double_to_half(x);
        break;
    case b8:
        *(uint8_t *)out = k == SC_D ? dv != 0 : k == SC_L ? lv != 0 : uv != 0;
        break;
    default: {
        /* integers: long/ulong keep the low bits; double saturates */
        uint64_t bits;
        if (k == SC_L)
            bits = (uint64_t)lv;
        else if (k == SC_U)
            bits = uv;
        else {
            bool sg = t == s8 || t == s16 || t == s32 || t == s64;
            int w = (int)tsize(t) * 8;
            double lo = sg ? -ldexp(1, w - 1) : 0, hi = sg ? ldexp(1, w - 1) : ldexp(1, w);
            if (isnan(dv))
                bits = 0;
            else if (dv <= lo)
                bits = sg ? (uint64_t)(w == 64 ? INT64_MIN : -(1ll << (w - 1))) : 0;
            else if (dv >= hi)
                bits = sg ? (w == 64 ? (uint64_t)INT64_MAX : (1ull << (w - 1)) - 1)
                          : (w == 64 ? ~0ull : (1ull << w) - 1);
            else
                bits = sg ? (uint64_t)(int64_t)dv : (uint64_t)dv;
        }
        memcpy(out, &bits, tsize(t)); /* little-endian: the low bytes */
    }
    }
}

typedef af_err (*sel_r_d)(af_array *, const af_array, const af_array, const double);

static void run_select_scalar(af_dtype t, bool left, sc_kind k, double dv, long long lv,
                              unsigned long long uv) {
    const dim_t d[4] = {5, 3, 1, 2}, dc[4] = {5, 1, 1, 2};
    size_t no = (size_t)count(d), es = tsize(t);
    uint8_t *c = rand_bytes(b8, (size_t)count(dc));
    void *a = rand_bytes(t, no);
    uint8_t sv[16];
    scalar_bytes(t, k, dv, lv, uv, sv);
    af_array ca = make(b8, c, dc), aa = make(t, a, d), r = 0;
    af_err err;
    if (k == SC_D)
        err = left ? af_select_scalar_l(&r, ca, dv, aa) : af_select_scalar_r(&r, ca, aa, dv);
    else if (k == SC_L)
        err = left ? af_select_scalar_l_long(&r, ca, lv, aa)
                   : af_select_scalar_r_long(&r, ca, aa, lv);
    else
        err = left ? af_select_scalar_l_ulong(&r, ca, uv, aa)
                   : af_select_scalar_r_ulong(&r, ca, aa, uv);
    CHECK_AF(err);
    uint8_t *ref = malloc(no * es);
    for (size_t e = 0; e < no; e++) {
        bool pick = c[bidx(dc, d, e)];
        const void *src = (pick == left) ? (const void *)sv : (const uint8_t *)a + e * es;
        memcpy(ref + e * es, src, es);
    }
    if (r) check_bytes(r, t, d, ref, left ? "af_select_scalar_l" : "af_select_scalar_r");
    af_release_array(ca);
    af_release_array(aa);
    if (r) af_release_array(r);
    free(ref);
    free(c);
    free(a);
}

TEST(select_scalar_forms_every_dtype) {
    for (int k = 0; k < NTYPES; k++) {
        af_dtype t = all_types[k];
        for (int left = 0; left < 2; left++) {
            run_select_scalar(t, left, SC_D, 2.75, 0, 0);
            run_select_scalar(t, left, SC_D, -1e30, 0, 0);
            run_select_scalar(t, left, SC_D, NAN, 0, 0);
            run_select_scalar(t, left, SC_L, 0, -9007199254740993ll, 0);
            run_select_scalar(t, left, SC_L, 0, 300, 0);
            run_select_scalar(t, left, SC_U, 0, 0, 18446744073709551615ull);
        }
    }
}

/* replace: a keeps its value where cond is true and takes b where it is false, in place; another
 * handle sharing a's data keeps the old values (copy on write). */
static void run_replace(af_dtype t, const dim_t da[4], const dim_t dc[4], const dim_t db[4],
                        bool scalar, sc_kind k) {
    size_t n = (size_t)count(da), es = tsize(t);
    uint8_t *c = rand_bytes(b8, (size_t)count(dc));
    void *a = rand_bytes(t, n), *b = scalar ? NULL : rand_bytes(t, (size_t)count(db));
    uint8_t sv[16];
    double dv = -3.5;
    long long lv = -77;
    unsigned long long uv = 0x8000000000000001ull;
    if (scalar) scalar_bytes(t, k, dv, lv, uv, sv);
    af_array ca = make(b8, c, dc), aa = make(t, a, da), ba = scalar ? 0 : make(t, b, db), keep = 0;
    CHECK_AF(af_retain_array(&keep, aa));
    af_err err;
    if (!scalar)
        err = af_replace(aa, ca, ba);
    else if (k == SC_D)
        err = af_replace_scalar(aa, ca, dv);
    else if (k == SC_L)
        err = af_replace_scalar_long(aa, ca, lv);
    else
        err = af_replace_scalar_ulong(aa, ca, uv);
    CHECK_AF(err);
    uint8_t *ref = malloc(n * es + 1);
    for (size_t e = 0; e < n; e++) {
        bool pick = c[bidx(dc, da, e)];
        const void *src = pick     ? (const uint8_t *)a + e * es
                          : scalar ? (const void *)sv
                                   : (const uint8_t *)b + bidx(db, da, e) * es;
        memcpy(ref + e * es, src, es);
    }
    check_bytes(aa, t, da, ref, "af_replace");
    check_bytes(keep, t, da, a, "af_replace (other handle)");
    af_release_array(ca);
    af_release_array(aa);
    af_release_array(keep);
    if (ba) af_release_array(ba);
    free(ref);
    free(c);
    free(a);
    free(b);
}

TEST(replace_every_dtype_and_shape) {
    const dim_t d4[4] = {3, 4, 2, 3}, odd[4] = {37, 1, 1, 1}, one[4] = {1, 1, 1, 1},
                row[4] = {1, 4, 1, 3}, col[4] = {3, 1, 2, 1}, empty[4] = {4, 0, 1, 1};
    for (int k = 0; k < NTYPES; k++) {
        af_dtype t = all_types[k];
        run_replace(t, d4, d4, d4, false, SC_D);
        run_replace(t, odd, odd, odd, false, SC_D);
        run_replace(t, one, one, one, false, SC_D);
        run_replace(t, empty, empty, empty, false, SC_D);
        run_replace(t, d4, col, row, false, SC_D);
        run_replace(t, d4, d4, one, false, SC_D);
        run_replace(t, d4, d4, d4, true, SC_D);
        run_replace(t, odd, odd, odd, true, SC_L);
        run_replace(t, odd, one, odd, true, SC_U);
    }
}

/* replace on a lazy a, with a condition computed lazily from a itself: the condition must see
 * a's values from before the replace. */
TEST(replace_condition_from_a) {
    float x[6] = {-1, 2, -3, 4, -5, 6};
    dim_t d[1] = {6};
    af_array a = 0, z = 0, cond = 0, two = 0, a2 = 0;
    CHECK_AF(af_create_array(&a, x, 1, d, f32));
    CHECK_AF(af_constant(&two, 2, 1, d, f32));
    CHECK_AF(af_mul(&a2, a, two, false)); /* lazy */
    CHECK_AF(af_constant(&z, 0, 1, d, f32));
    CHECK_AF(af_gt(&cond, a2, z, false)); /* lazy, over a2's tree */
    CHECK_AF(af_replace_scalar(a2, cond, 0.0));
    float h[6];
    CHECK_AF(af_get_data_ptr(h, a2));
    float want[6] = {0, 4, 0, 8, 0, 12};
    for (int k = 0; k < 6; k++)
        CHECK(h[k] == want[k]);
    uint8_t hc[6];
    CHECK_AF(af_get_data_ptr(hc, cond));
    for (int k = 0; k < 6; k++)
        CHECK(hc[k] == (x[k] > 0));
    af_release_array(a);
    af_release_array(z);
    af_release_array(cond);
    af_release_array(two);
    af_release_array(a2);
}

TEST(select_is_lazy) {
    dim_t d[1] = {1000};
    af_array a = 0, b = 0, c = 0, r = 0;
    CHECK_AF(af_randu(&a, 1, d, f32));
    CHECK_AF(af_randu(&b, 1, d, f32));
    CHECK_AF(af_eval(a));
    CHECK_AF(af_eval(b));
    CHECK_AF(af_lt(&c, a, b, false));
    size_t ab, an, lb, ln0, ln1;
    CHECK_AF(af_device_mem_info(&ab, &an, &lb, &ln0));
    CHECK_AF(af_select(&r, c, a, b));
    CHECK_AF(af_device_mem_info(&ab, &an, &lb, &ln1));
    CHECK(ln1 == ln0); /* nothing evaluated yet: c and r are one lazy tree */
    float ha[1000], hb[1000], hr[1000];
    CHECK_AF(af_get_data_ptr(ha, a));
    CHECK_AF(af_get_data_ptr(hb, b));
    CHECK_AF(af_get_data_ptr(hr, r));
    for (int k = 0; k < 1000; k++)
        CHECK(hr[k] == (ha[k] < hb[k] ? ha[k] : hb[k]));
    af_release_array(a);
    af_release_array(b);
    af_release_array(c);
    af_release_array(r);
}

TEST(select_replace_bad_input) {
    const dim_t d[4] = {4, 1, 1, 1}, d5[4] = {5, 1, 1, 1}, d22[4] = {2, 2, 1, 1};
    uint8_t z[64] = {0};
    af_array c = make(b8, z, d), a = make(f32, z, d), b = make(f32, z, d), i = make(s32, z, d);
    af_array a5 = make(f32, z, d5), c22 = make(b8, z, d22), r = 0, dead = 0;
    CHECK_ERR(af_select(NULL, c, a, b), AF_ERR_ARG);
    CHECK_ERR(af_select(&r, NULL, a, b), AF_ERR_ARG);
    CHECK_ERR(af_select(&r, c, NULL, b), AF_ERR_ARG);
    CHECK_ERR(af_select(&r, c, a, NULL), AF_ERR_ARG);
    CHECK_ERR(af_replace(a, c, NULL), AF_ERR_ARG);
    CHECK_ERR(af_select(&r, a, a, b), AF_ERR_ARG);   /* cond not b8 */
    CHECK_ERR(af_select(&r, c, a, i), AF_ERR_ARG);   /* dtypes differ */
    CHECK_ERR(af_select(&r, c, a, a5), AF_ERR_SIZE); /* 4 vs 5 */
    CHECK_ERR(af_select(&r, c22, a, b), AF_ERR_SIZE);
    CHECK_ERR(af_select_scalar_r(&r, a, a, 1.0), AF_ERR_ARG);
    CHECK_ERR(af_select_scalar_l(&r, c, 1.0, a5), AF_ERR_SIZE);
    CHECK_ERR(af_select_scalar_r_long(NULL, c, a, 1), AF_ERR_ARG);
    CHECK_ERR(af_select_scalar_l_ulong(&r, c, 1, NULL), AF_ERR_ARG);
    CHECK_AF(af_retain_array(&dead, a));
    af_release_array(dead);
    CHECK_ERR(af_select(&r, c, dead, b), AF_ERR_INVALID_ARRAY);
    CHECK_ERR(af_replace(dead, c, b), AF_ERR_INVALID_ARRAY);
    CHECK_ERR(af_replace(a, c, i), AF_ERR_ARG);
    CHECK_ERR(af_replace(a, i, b), AF_ERR_ARG);
    CHECK_ERR(af_replace(a5, c, a5), AF_ERR_SIZE);
    CHECK_ERR(af_replace(a, c, a5), AF_ERR_SIZE);
    CHECK_ERR(af_replace_scalar(a, NULL, 1.0), AF_ERR_ARG);
    CHECK_ERR(af_replace_scalar_long(a, a, 1), AF_ERR_ARG);
    CHECK_ERR(af_replace_scalar_ulong(a5, c, 1), AF_ERR_SIZE);
    CHECK(r == 0);
    af_release_array(c);
    af_release_array(a);
    af_release_array(b);
    af_release_array(i);
    af_release_array(a5);
    af_release_array(c22);
}
