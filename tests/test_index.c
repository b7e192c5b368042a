/* index.h: af_index, af_index_gen, af_lookup, af_assign_seq, af_assign_gen, the indexer helpers
 * and af_make_seq, against plain-C references on random 1-4-D shapes with odd sizes, 1-element and
 * empty arrays, and every dtype. Indexing only moves values, so results are compared bit for bit.
 *
 * Sequences: span, stepped, reversed, negative begin/end (from the end), single elements, and
 * every error (before the start, past the end, against the step, step 0). Index arrays of every
 * integer and floating dtype, and b8 masks, with duplicates and out-of-range values (folded as
 * em_index_fold documents). Views: sequence indexing returns a view with no allocation, views of
 * views, views as JIT operands, and a view's device pointer. Assignment: in place when the target
 * owns its buffer, copy on write when it is shared (the other owner keeps its values), a new
 * array when *out != lhs, broadcast and vector rhs, lazy rhs, dtype conversion, aliasing. */
#include "test.h"

#include <string.h>

static const af_dtype all_types[] = {f32, c32, f64, c64, b8,  s32, u32,
                                     u8,  s64, u64, s16, u16, f16, s8};
#define NTYPES ((int)(sizeof(all_types) / sizeof(all_types[0])))
static const af_dtype idx_types[] = {s8, u8, s16, u16, s32, u32, s64, u64, f32, f64, f16};
#define NIDX ((int)(sizeof(idx_types) / sizeof(idx_types[0])))

static size_t tsize(af_dtype t) {
    static const size_t sz[] = {4, 8, 8, 16, 1, 4, 4, 1, 8, 8, 2, 2, 2, 1};
    return sz[t];
}

static dim_t count(const dim_t d[4]) {
    return d[0] * d[1] * d[2] * d[3];
}

static dim_t rnd(dim_t lo, dim_t hi) { /* uniform in [lo, hi] */
    return lo + (dim_t)(em_test_rand_u64() % (uint64_t)(hi - lo + 1));
}

/* Random bytes for n elements of dtype t (b8: 0 or 1; floating NaNs quiet, since a view read
 * through the JIT passes f16 through float). */
static void *rand_bytes(af_dtype t, size_t n) {
    size_t bytes = n * tsize(t);
    uint8_t *p = malloc(bytes + 16);
    for (size_t k = 0; k < bytes; k++)
        p[k] = (uint8_t)em_test_rand_u64();
    if (t == b8)
        for (size_t k = 0; k < n; k++)
            p[k] &= 1;
    if (t == f16)
        for (size_t k = 0; k < n; k++) {
            uint16_t h;
            memcpy(&h, p + 2 * k, 2);
            if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff)) h |= 0x200;
            memcpy(p + 2 * k, &h, 2);
        }
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

static void rand_shape(dim_t d[4], int maxdim) {
    int nd = (int)rnd(1, 4);
    for (int k = 0; k < 4; k++)
        d[k] = k < nd ? rnd(1, maxdim) : 1;
}

/* Checks array r: dtype t, dims o, bytes equal to ref. */
static void check_bytes(af_array r, af_dtype t, const dim_t o[4], const void *ref, const char *what,
                        int line) {
    af_dtype rt;
    dim_t d[4];
    CHECK_AF(af_get_type(&rt, r));
    CHECK_AF(af_get_dims(&d[0], &d[1], &d[2], &d[3], r));
    if (rt != t || memcmp(d, o, sizeof(d)) != 0) {
        em_test_fail(__FILE__, line,
                     "%s: dtype %d dims [%lld %lld %lld %lld], expected %d [%lld %lld %lld %lld]",
                     what, (int)rt, (long long)d[0], (long long)d[1], (long long)d[2],
                     (long long)d[3], (int)t, (long long)o[0], (long long)o[1], (long long)o[2],
                     (long long)o[3]);
        return;
    }
    size_t bytes = (size_t)count(o) * tsize(t);
    void *h = malloc(bytes + 1);
    if (bytes) CHECK_AF(af_get_data_ptr(h, r));
    if (bytes && memcmp(h, ref, bytes) != 0) {
        size_t k = 0;
        while (((uint8_t *)h)[k] == ((const uint8_t *)ref)[k])
            k++;
        em_test_fail(__FILE__, line, "%s (%s): differs at element %zu", what, em_test_dtype_name(t),
                     k / tsize(t));
    }
    free(h);
}
#define CHECK_BYTES(r, t, o, ref, what) check_bytes((r), (t), (o), (ref), (what), __LINE__)

/* ---- sequences: the reference ---- */

typedef struct {
    dim_t first, step, n;
} rseq;

/* The reference resolution of an integral sequence over a dimension of length len. */
static rseq ref_seq(af_seq s, dim_t len) {
    rseq r;
    if (s.step == 0 && s.begin == 1 && s.end == 1) {
        r.first = 0, r.step = 1, r.n = len;
        return r;
    }
    dim_t b = (dim_t)(s.begin < 0 ? len + s.begin : s.begin);
    dim_t e = (dim_t)(s.end < 0 ? len + s.end : s.end);
    dim_t st = (dim_t)s.step;
    r.first = b;
    r.step = st;
    r.n = (e - b) / st + 1;
    return r;
}

/* A random valid sequence over a dimension of length len >= 1, of one of the forms. */
static af_seq rand_seq(dim_t len) {
    dim_t b = rnd(0, len - 1), e = rnd(0, len - 1);
    switch (rnd(0, 6)) {
    case 0:
        return af_span;
    case 1: /* ascending, stepped */
        if (b > e) {
            dim_t t = b;
            b = e;
            e = t;
        }
        return af_make_seq((double)b, (double)e, (double)rnd(1, 3));
    case 2: /* reversed */
        if (b < e) {
            dim_t t = b;
            b = e;
            e = t;
        }
        return af_make_seq((double)b, (double)e, -(double)rnd(1, 3));
    case 3: /* both from the end */
        if (b > e) {
            dim_t t = b;
            b = e;
            e = t;
        }
        return af_make_seq((double)(b - len), (double)(e - len), (double)rnd(1, 2));
    case 4: /* one element */
        return af_make_seq((double)b, (double)b, 1);
    case 5: /* begin from the start, end from the end */
        if (b > e) {
            dim_t t = b;
            b = e;
            e = t;
        }
        return af_make_seq((double)b, (double)(e - len), 1);
    default: /* reversed from the end */
        if (b < e) {
            dim_t t = b;
            b = e;
            e = t;
        }
        return af_make_seq((double)(b - len), (double)e, -1);
    }
}

/* Reference of in (dims id, es bytes each) indexed by r[4]: out dims od. */
static void *ref_gather_seq(const void *in, const dim_t id[4], size_t es, const rseq r[4],
                            dim_t od[4]) {
    for (int k = 0; k < 4; k++)
        od[k] = r[k].n;
    uint8_t *out = malloc((size_t)count(od) * es + 1);
    size_t o = 0;
    for (dim_t c3 = 0; c3 < od[3]; c3++)
        for (dim_t c2 = 0; c2 < od[2]; c2++)
            for (dim_t c1 = 0; c1 < od[1]; c1++)
                for (dim_t c0 = 0; c0 < od[0]; c0++) {
                    dim_t p[4] = {r[0].first + c0 * r[0].step, r[1].first + c1 * r[1].step,
                                  r[2].first + c2 * r[2].step, r[3].first + c3 * r[3].step};
                    dim_t li = p[0] + id[0] * (p[1] + id[1] * (p[2] + id[2] * p[3]));
                    memcpy(out + o++ * es, (const uint8_t *)in + li * es, es);
                }
    return out;
}

static void mem_buffers(size_t *n) {
    size_t ab, abuf, lb, lbuf;
    CHECK_AF(af_device_mem_info(&ab, &abuf, &lb, &lbuf));
    *n = abuf;
}

/* Sequence indexing of every form, every dtype, random shapes: values, a view over the parent's
 * buffer (same raw pointer), and no allocation. */
TEST(index_seq_forms) {
    for (int it = 0; it < 60; it++) {
        af_dtype t = all_types[it % NTYPES];
        dim_t d[4];
        rand_shape(d, 7);
        size_t es = tsize(t);
        void *h = rand_bytes(t, (size_t)count(d));
        af_array a = make(t, h, d), v = 0;
        af_seq s[4];
        rseq r[4];
        for (int k = 0; k < 4; k++) {
            s[k] = rand_seq(d[k]);
            r[k] = ref_seq(s[k], d[k]);
        }
        size_t before, after;
        mem_buffers(&before);
        CHECK_AF(af_index(&v, a, 4, s));
        mem_buffers(&after);
        CHECK(before == after);
        void *pa = NULL, *pv = NULL;
        CHECK_AF(af_get_raw_ptr(&pa, a));
        CHECK_AF(af_get_raw_ptr(&pv, v));
        CHECK(pa == pv);
        dim_t od[4];
        void *ref = ref_gather_seq(h, d, es, r, od);
        CHECK_BYTES(v, t, od, ref, "af_index");
        /* The same through af_index_gen, and through indexers. */
        af_index_t *ix = NULL;
        CHECK_AF(af_create_indexers(&ix));
        for (int k = 0; k < 4; k++)
            CHECK_AF(af_set_seq_indexer(ix, &s[k], k, false));
        af_array g = 0;
        CHECK_AF(af_index_gen(&g, a, 4, ix));
        CHECK_BYTES(g, t, od, ref, "af_index_gen");
        CHECK_AF(af_release_indexers(ix));
        free(ref);
        free(h);
        af_release_array(g);
        af_release_array(v);
        af_release_array(a);
    }
}

/* Fewer sequences than dimensions: af_index keeps element 0 of the rest (ArrayFire's toDims);
 * one sequence over a matrix indexes its flattened elements. */
TEST(index_seq_ndims) {
    dim_t d[4] = {5, 4, 3, 1};
    float h[60];
    for (int k = 0; k < 60; k++)
        h[k] = (float)k;
    af_array a = make(f32, h, d), v = 0;
    af_seq s2[2] = {af_make_seq(1, 3, 1), af_span};
    CHECK_AF(af_index(&v, a, 2, s2));
    dim_t o[4] = {3, 4, 1, 1};
    float ref[12];
    for (int j = 0; j < 4; j++)
        for (int i = 0; i < 3; i++)
            ref[i + 3 * j] = (float)(1 + i + 5 * j);
    CHECK_BYTES(v, f32, o, ref, "two sequences over 3-D");
    af_release_array(v);
    af_seq s1 = af_make_seq(7, 55, 12);
    CHECK_AF(af_index(&v, a, 1, &s1));
    dim_t o1[4] = {5, 1, 1, 1};
    float ref1[5] = {7, 19, 31, 43, 55};
    CHECK_BYTES(v, f32, o1, ref1, "flat");
    af_release_array(v);
    /* Flat indexing of a strided view (copied to a column first). */
    af_array w = 0;
    af_seq sv[2] = {af_make_seq(4, 0, -2), af_make_seq(1, 3, 1)};
    CHECK_AF(af_index(&w, a, 2, sv)); /* 3 x 3: rows 4, 2, 0 of columns 1..3 */
    af_seq s3 = af_make_seq(-1, 0, -4);
    CHECK_AF(af_index(&v, w, 1, &s3)); /* flat 8, 4, 0 */
    dim_t o3[4] = {3, 1, 1, 1};
    float ref3[3] = {(float)(0 + 5 * 3), (float)(2 + 5 * 2), (float)(4 + 5 * 1)};
    CHECK_BYTES(v, f32, o3, ref3, "flat of a view");
    af_release_array(v);
    af_release_array(w);
    af_release_array(a);
}

TEST(index_seq_errors) {
    dim_t d[4] = {5, 4, 1, 1};
    af_array a = 0, v = 0;
    CHECK_AF(af_constant(&a, 1, 2, d, f32));
    af_seq past[2] = {af_make_seq(0, 5, 1), af_span};
    CHECK_ERR(af_index(&v, a, 2, past), AF_ERR_SIZE);
    af_seq past2[2] = {af_make_seq(5, 5, 1), af_span};
    CHECK_ERR(af_index(&v, a, 2, past2), AF_ERR_SIZE);
    af_seq before[2] = {af_make_seq(-6, 2, 1), af_span};
    CHECK_ERR(af_index(&v, a, 2, before), AF_ERR_ARG);
    af_seq against[2] = {af_make_seq(3, 1, 1), af_span};
    CHECK_ERR(af_index(&v, a, 2, against), AF_ERR_ARG);
    af_seq against2[2] = {af_make_seq(1, 3, -1), af_span};
    CHECK_ERR(af_index(&v, a, 2, against2), AF_ERR_ARG);
    af_seq zero[2] = {af_make_seq(2, 2, 0), af_span};
    CHECK_ERR(af_index(&v, a, 2, zero), AF_ERR_ARG);
    af_seq nan[2] = {af_make_seq(NAN, 2, 1), af_span};
    CHECK_ERR(af_index(&v, a, 2, nan), AF_ERR_ARG);
    af_seq col[2] = {af_span, af_make_seq(0, 4, 1)};
    CHECK_ERR(af_index(&v, a, 2, col), AF_ERR_SIZE);
    CHECK_ERR(af_index(&v, a, 0, col), AF_ERR_ARG);
    CHECK_ERR(af_index(&v, a, 5, col), AF_ERR_ARG);
    CHECK_ERR(af_index(NULL, a, 1, col), AF_ERR_ARG);
    CHECK_ERR(af_index(&v, a, 1, NULL), AF_ERR_ARG);
    CHECK_ERR(af_index(&v, NULL, 1, col), AF_ERR_ARG);
    af_index_t ix[2];
    ix[0].idx.seq = past[0];
    ix[0].isSeq = true;
    ix[0].isBatch = false;
    ix[1].idx.arr = a;
    ix[1].isSeq = false;
    ix[1].isBatch = false;
    CHECK_ERR(af_index_gen(&v, a, 2, ix), AF_ERR_SIZE);
    CHECK_ERR(af_index_gen(&v, a, 0, ix), AF_ERR_ARG);
    CHECK_ERR(af_index_gen(&v, a, 2, NULL), AF_ERR_ARG);
    af_array c = 0;
    dim_t one[4] = {1, 1, 1, 1};
    CHECK_AF(af_constant(&c, 0, 1, one, c32));
    ix[0].idx.seq = af_span;
    ix[1].idx.arr = c;
    CHECK_ERR(af_index_gen(&v, a, 2, ix), AF_ERR_ARG);
    CHECK(v == 0);
    af_release_array(c);
    af_release_array(a);
}

/* A view of a view, a reversed view, and views as operands of lazy arithmetic (a strided JIT
 * leaf), and af_copy_array of a view. */
TEST(index_view_of_view) {
    dim_t d[4] = {9, 7, 3, 1};
    float h[189];
    for (int k = 0; k < 189; k++)
        h[k] = (float)k;
    af_array a = make(f32, h, d), v1 = 0, v2 = 0, s = 0, c = 0, one = 0;
    af_seq s1[3] = {af_make_seq(1, 8, 2), af_make_seq(-1, 0, -1), af_make_seq(1, 2, 1)};
    CHECK_AF(af_index(&v1, a, 3, s1)); /* 4 x 7 x 2 */
    af_seq s2[3] = {af_make_seq(-1, 0, -2), af_make_seq(1, 5, 2), af_make_seq(1, 1, 1)};
    CHECK_AF(af_index(&v2, v1, 3, s2)); /* 2 x 3 x 1 */
    dim_t o[4] = {2, 3, 1, 1};
    float ref[6];
    /* v1(i, j, k) = a(1 + 2i, 6 - j, 1 + k); v2(i, j) = v1(3 - 2i, 1 + 2j, 1). */
    for (int j = 0; j < 3; j++)
        for (int i = 0; i < 2; i++) {
            int i1 = 3 - 2 * i, j1 = 1 + 2 * j, k1 = 1;
            int i0 = 1 + 2 * i1, j0 = 6 - j1, k0 = 1 + k1;
            ref[i + 2 * j] = h[i0 + 9 * j0 + 63 * k0];
        }
    CHECK_BYTES(v2, f32, o, ref, "view of view");
    void *pa, *p2;
    CHECK_AF(af_get_raw_ptr(&pa, a));
    CHECK_AF(af_get_raw_ptr(&p2, v2));
    CHECK(pa == p2);
    bool owner = true;
    CHECK_AF(af_is_owner(&owner, v2));
    CHECK(!owner);
    CHECK_AF(af_constant(&one, 1, 2, o, f32));
    CHECK_AF(af_add(&s, v2, one, false));
    float ref1[6];
    for (int k = 0; k < 6; k++)
        ref1[k] = ref[k] + 1;
    CHECK_BYTES(s, f32, o, ref1, "view + 1");
    CHECK_AF(af_copy_array(&c, v2));
    CHECK_BYTES(c, f32, o, ref, "copy of a view");
    /* A lazy parent is evaluated first. */
    af_array lz = 0, lv = 0;
    dim_t d2[4] = {9, 7, 3, 1};
    af_array b = 0;
    CHECK_AF(af_constant(&b, 2, 3, d2, f32));
    CHECK_AF(af_mul(&lz, a, b, false));
    CHECK_AF(af_index(&lv, lz, 3, s1));
    af_seq sa[3] = {af_make_seq(1, 8, 2), af_make_seq(-1, 0, -1), af_make_seq(1, 2, 1)};
    dim_t o1[4] = {4, 7, 2, 1};
    float ref2[56];
    for (int k = 0; k < 2; k++)
        for (int j = 0; j < 7; j++)
            for (int i = 0; i < 4; i++)
                ref2[i + 4 * j + 28 * k] = 2 * h[(1 + 2 * i) + 9 * (6 - j) + 63 * (1 + k)];
    (void)sa;
    CHECK_BYTES(lv, f32, o1, ref2, "view of a lazy array");
    af_release_array(lv);
    af_release_array(lz);
    af_release_array(b);
    af_release_array(c);
    af_release_array(s);
    af_release_array(one);
    af_release_array(v2);
    af_release_array(v1);
    af_release_array(a);
}

/* Empty and 1-element arrays. */
TEST(index_empty_and_scalar) {
    dim_t d0[4] = {0, 3, 1, 1};
    af_array e = 0, v = 0;
    CHECK_AF(af_create_handle(&e, 2, d0, f32));
    af_seq sp[2] = {af_span, af_make_seq(0, 1, 1)};
    CHECK_AF(af_index(&v, e, 2, sp));
    dim_t o[4] = {0, 2, 1, 1};
    CHECK_BYTES(v, f32, o, "", "span of an empty dim");
    af_release_array(v);
    af_seq bad[2] = {af_make_seq(0, 0, 1), af_span};
    CHECK_ERR(af_index(&v, e, 2, bad), AF_ERR_SIZE);
    af_index_t ix[2];
    ix[0].idx.arr = e;
    ix[0].isSeq = false;
    ix[0].isBatch = false;
    ix[1].idx.seq = af_span;
    ix[1].isSeq = true;
    ix[1].isBatch = false;
    CHECK_AF(af_index_gen(&v, e, 2, ix));
    dim_t oe[4] = {0, 1, 1, 1};
    CHECK_BYTES(v, f32, oe, "", "index_gen of an empty array");
    af_release_array(v);
    /* An empty index array selects nothing. */
    dim_t d[4] = {4, 3, 1, 1};
    af_array a = 0;
    CHECK_AF(af_constant(&a, 3, 2, d, s32));
    ix[0].idx.arr = e;
    CHECK_AF(af_index_gen(&v, a, 2, ix));
    dim_t oz[4] = {0, 3, 1, 1};
    CHECK_BYTES(v, s32, oz, "", "empty index array");
    af_release_array(v);
    /* One element. */
    dim_t d1[4] = {1, 1, 1, 1};
    double x = -2.5;
    af_array s = make(f64, &x, d1);
    af_seq s1 = af_make_seq(-1, -1, 1);
    CHECK_AF(af_index(&v, s, 1, &s1));
    CHECK_BYTES(v, f64, d1, &x, "one element");
    af_release_array(v);
    af_release_array(s);
    af_release_array(a);
    af_release_array(e);
}

/* ---- index arrays ---- */

static dim_t fold(dim_t v, dim_t len) {
    if (v >= 0 && v < len) return v;
    if (v < 0) return (-(v + 1)) % len;
    return len - 1 - v % len;
}

/* n index values of dtype t for a dimension of length len: mostly in range, with duplicates and
 * some out of range (negative and past the end; fractional for floating dtypes). *pos receives
 * the positions they read. Returns the host values. */
static void *rand_index(af_dtype t, dim_t n, dim_t len, dim_t *pos) {
    void *p = malloc((size_t)n * tsize(t) + 16);
    bool sgn = t == s8 || t == s16 || t == s32 || t == s64 || t == f32 || t == f64 || t == f16;
    for (dim_t k = 0; k < n; k++) {
        dim_t v = rnd(0, len - 1);
        double fv = (double)v;
        int kind = (int)rnd(0, 9);
        if (kind == 0) v = len + rnd(0, 2 * len), fv = (double)v;         /* past the end */
        if (kind == 1 && sgn) v = -rnd(1, 2 * len), fv = (double)v;       /* negative */
        if (kind == 2 && (t == f32 || t == f64)) fv = (double)v + 0.75;   /* truncated */
        if (kind == 3 && (t == f32 || t == f64) && sgn) fv = -0.5, v = 0; /* truncates to 0 */
        if (t == u8 || t == s8) v = v > 100 ? 100 : v, fv = (double)v;
        pos[k] = fold(v, len);
        switch (t) {
        case s8:
            ((int8_t *)p)[k] = (int8_t)v;
            break;
        case u8:
            ((uint8_t *)p)[k] = (uint8_t)v;
            break;
        case s16:
            ((int16_t *)p)[k] = (int16_t)v;
            break;
        case u16:
            ((uint16_t *)p)[k] = (uint16_t)v;
            break;
        case s32:
            ((int32_t *)p)[k] = (int32_t)v;
            break;
        case u32:
            ((uint32_t *)p)[k] = (uint32_t)v;
            break;
        case s64:
            ((int64_t *)p)[k] = v;
            break;
        case u64:
            ((uint64_t *)p)[k] = (uint64_t)v;
            break;
        case f32:
            ((float *)p)[k] = (float)fv;
            break;
        case f64:
            ((double *)p)[k] = fv;
            break;
        case f16:
            ((uint16_t *)p)[k] = em_test_double_to_half((double)v);
            break;
        default:
            break;
        }
    }
    return p;
}

/* Mixed sequences and index arrays over random shapes, every value dtype and index dtype. */
TEST(index_gen_arrays) {
    for (int it = 0; it < 80; it++) {
        af_dtype t = all_types[it % NTYPES];
        size_t es = tsize(t);
        dim_t d[4];
        rand_shape(d, 6);
        void *h = rand_bytes(t, (size_t)count(d));
        af_array a = make(t, h, d), g = 0, idxa[4] = {0};
        af_index_t ix[4];
        dim_t *pos[4], od[4];
        for (int k = 0; k < 4; k++) {
            if (rnd(0, 2) == 0) {
                af_seq s = rand_seq(d[k]);
                rseq r = ref_seq(s, d[k]);
                od[k] = r.n;
                pos[k] = malloc(sizeof(dim_t) * (size_t)(r.n + 1));
                for (dim_t c = 0; c < r.n; c++)
                    pos[k][c] = r.first + c * r.step;
                ix[k].idx.seq = s;
                ix[k].isSeq = true;
            } else {
                af_dtype it_ = idx_types[rnd(0, NIDX - 1)];
                dim_t n = rnd(1, 8);
                od[k] = n;
                pos[k] = malloc(sizeof(dim_t) * (size_t)n);
                void *iv = rand_index(it_, n, d[k], pos[k]);
                /* Index arrays of any shape: their elements are taken in order. */
                dim_t idims[4] = {n, 1, 1, 1};
                if (n % 2 == 0 && rnd(0, 1)) idims[0] = 2, idims[1] = n / 2;
                idxa[k] = make(it_, iv, idims);
                free(iv);
                ix[k].idx.arr = idxa[k];
                ix[k].isSeq = false;
            }
            ix[k].isBatch = false;
        }
        CHECK_AF(af_index_gen(&g, a, 4, ix));
        uint8_t *ref = malloc((size_t)count(od) * es + 1);
        size_t o = 0;
        for (dim_t c3 = 0; c3 < od[3]; c3++)
            for (dim_t c2 = 0; c2 < od[2]; c2++)
                for (dim_t c1 = 0; c1 < od[1]; c1++)
                    for (dim_t c0 = 0; c0 < od[0]; c0++) {
                        dim_t li = pos[0][c0] +
                                   d[0] * (pos[1][c1] + d[1] * (pos[2][c2] + d[2] * pos[3][c3]));
                        memcpy(ref + o++ * es, (const uint8_t *)h + li * es, es);
                    }
        CHECK_BYTES(g, t, od, ref, "af_index_gen");
        free(ref);
        for (int k = 0; k < 4; k++) {
            free(pos[k]);
            if (idxa[k]) af_release_array(idxa[k]);
        }
        free(h);
        af_release_array(g);
        af_release_array(a);
    }
}

/* Index arrays over a strided view (read where it lies), a lazy index array, a b8 mask, and one
 * index array over a matrix (flattened). */
TEST(index_gen_views_masks) {
    dim_t d[4] = {7, 6, 1, 1};
    int h[42];
    for (int k = 0; k < 42; k++)
        h[k] = k * 3 + 1;
    af_array a = make(s32, h, d), v = 0, g = 0;
    af_seq sv[2] = {af_make_seq(6, 0, -2), af_make_seq(1, 5, 2)}; /* 4 x 3 */
    CHECK_AF(af_index(&v, a, 2, sv));
    int iv[3] = {2, 0, 2};
    dim_t id[4] = {3, 1, 1, 1};
    af_array ia = make(s32, iv, id);
    af_index_t ix[2];
    ix[0].idx.arr = ia;
    ix[0].isSeq = false;
    ix[0].isBatch = false;
    ix[1].idx.seq = af_span;
    ix[1].isSeq = true;
    ix[1].isBatch = false;
    CHECK_AF(af_index_gen(&g, v, 2, ix));
    int ref[9];
    for (int j = 0; j < 3; j++)
        for (int i = 0; i < 3; i++)
            ref[i + 3 * j] = h[(6 - 2 * iv[i]) + 7 * (1 + 2 * j)];
    dim_t o[4] = {3, 3, 1, 1};
    CHECK_BYTES(g, s32, o, ref, "index array over a view");
    af_release_array(g);
    /* A b8 mask selects where it is true. */
    char m[6] = {1, 0, 0, 1, 1, 0};
    dim_t md[4] = {6, 1, 1, 1};
    af_array ma = make(b8, m, md);
    ix[0].idx.seq = af_make_seq(2, 4, 1);
    ix[0].isSeq = true;
    ix[1].idx.arr = ma;
    ix[1].isSeq = false;
    CHECK_AF(af_index_gen(&g, a, 2, ix));
    int refm[9];
    int cols[3] = {0, 3, 4};
    for (int j = 0; j < 3; j++)
        for (int i = 0; i < 3; i++)
            refm[i + 3 * j] = h[(2 + i) + 7 * cols[j]];
    CHECK_BYTES(g, s32, o, refm, "b8 mask");
    af_release_array(g);
    /* An all-false mask selects nothing. */
    char z[6] = {0};
    af_array za = make(b8, z, md);
    ix[1].idx.arr = za;
    CHECK_AF(af_index_gen(&g, a, 2, ix));
    dim_t oz[4] = {3, 0, 1, 1};
    CHECK_BYTES(g, s32, oz, "", "empty mask");
    af_release_array(g);
    /* A lazy index array. */
    af_array two = 0, li = 0;
    CHECK_AF(af_constant(&two, 2, 1, id, s32));
    CHECK_AF(af_add(&li, ia, two, false)); /* 4, 2, 4 */
    ix[0].idx.arr = li;
    ix[0].isSeq = false;
    ix[1].idx.seq = af_make_seq(5, 5, 1);
    ix[1].isSeq = true;
    CHECK_AF(af_index_gen(&g, a, 2, ix));
    int refl[3] = {h[4 + 35], h[2 + 35], h[4 + 35]};
    dim_t ol[4] = {3, 1, 1, 1};
    CHECK_BYTES(g, s32, ol, refl, "lazy index array");
    af_release_array(g);
    /* One index array over a matrix indexes its flattened elements. */
    int fv[4] = {41, 0, -1, 50};
    dim_t fd[4] = {4, 1, 1, 1};
    af_array fa = make(s32, fv, fd);
    ix[0].idx.arr = fa;
    CHECK_AF(af_index_gen(&g, a, 1, ix));
    int reff[4] = {h[41], h[0], h[0], h[41 - 50 % 42]};
    CHECK_BYTES(g, s32, fd, reff, "flat index array");
    af_release_array(g);
    /* The flattened form of a strided view. */
    CHECK_AF(af_index_gen(&g, v, 1, ix)); /* v has 12 elements */
    int vh[12];
    for (int j = 0; j < 3; j++)
        for (int i = 0; i < 4; i++)
            vh[i + 4 * j] = h[(6 - 2 * i) + 7 * (1 + 2 * j)];
    int refv[4] = {vh[fold(41, 12)], vh[0], vh[0], vh[fold(50, 12)]};
    CHECK_BYTES(g, s32, fd, refv, "flat index array over a view");
    af_release_array(g);
    af_release_array(fa);
    af_release_array(li);
    af_release_array(two);
    af_release_array(za);
    af_release_array(ma);
    af_release_array(ia);
    af_release_array(v);
    af_release_array(a);
}

/* ---- af_lookup ---- */

TEST(lookup_all) {
    for (int it = 0; it < 56; it++) {
        af_dtype t = all_types[it % NTYPES];
        af_dtype it_ = idx_types[it % NIDX];
        size_t es = tsize(t);
        dim_t d[4];
        rand_shape(d, 6);
        unsigned dim = (unsigned)rnd(0, 3);
        void *h = rand_bytes(t, (size_t)count(d));
        dim_t n = rnd(1, 9);
        dim_t *pos = malloc(sizeof(dim_t) * (size_t)n);
        void *iv = rand_index(it_, n, d[dim], pos);
        dim_t id[4] = {n, 1, 1, 1};
        af_array a = make(t, h, d), ia = make(it_, iv, id), r = 0;
        CHECK_AF(af_lookup(&r, a, ia, dim));
        dim_t od[4] = {d[0], d[1], d[2], d[3]};
        od[dim] = n;
        uint8_t *ref = malloc((size_t)count(od) * es + 1);
        size_t o = 0;
        for (dim_t c3 = 0; c3 < od[3]; c3++)
            for (dim_t c2 = 0; c2 < od[2]; c2++)
                for (dim_t c1 = 0; c1 < od[1]; c1++)
                    for (dim_t c0 = 0; c0 < od[0]; c0++) {
                        dim_t c[4] = {c0, c1, c2, c3};
                        c[dim] = pos[c[dim]];
                        dim_t li = c[0] + d[0] * (c[1] + d[1] * (c[2] + d[2] * c[3]));
                        memcpy(ref + o++ * es, (const uint8_t *)h + li * es, es);
                    }
        CHECK_BYTES(r, t, od, ref, "af_lookup");
        free(ref);
        free(pos);
        free(iv);
        free(h);
        af_release_array(r);
        af_release_array(ia);
        af_release_array(a);
    }
}

TEST(lookup_errors) {
    dim_t d[4] = {5, 3, 1, 1};
    af_array a = 0, r = 0, row = 0, m = 0, e = 0, c = 0;
    CHECK_AF(af_constant(&a, 1, 2, d, f32));
    dim_t rd[4] = {1, 3, 1, 1};
    CHECK_AF(af_constant(&row, 0, 2, rd, s32));
    CHECK_ERR(af_lookup(&r, a, row, 0), AF_ERR_ARG);
    dim_t cd[4] = {3, 1, 1, 1};
    CHECK_AF(af_constant(&m, 1, 1, cd, b8));
    CHECK_ERR(af_lookup(&r, a, m, 0), AF_ERR_ARG);
    CHECK_AF(af_constant(&c, 1, 1, cd, c32));
    CHECK_ERR(af_lookup(&r, a, c, 0), AF_ERR_ARG);
    af_array ok = 0;
    CHECK_AF(af_constant(&ok, 1, 1, cd, u16));
    CHECK_ERR(af_lookup(&r, a, ok, 4), AF_ERR_ARG);
    CHECK_ERR(af_lookup(NULL, a, ok, 0), AF_ERR_ARG);
    CHECK_ERR(af_lookup(&r, a, NULL, 0), AF_ERR_ARG);
    /* Empty indices: ArrayFire answers a new reference to them. */
    dim_t ed[4] = {0, 1, 1, 1};
    CHECK_AF(af_create_handle(&e, 1, ed, u32));
    CHECK_AF(af_lookup(&r, a, e, 0));
    af_dtype rt;
    CHECK_AF(af_get_type(&rt, r));
    CHECK(rt == u32);
    af_release_array(r);
    /* A lookup into an empty dimension has nothing to read. */
    af_array ea = 0;
    dim_t ead[4] = {0, 3, 1, 1};
    CHECK_AF(af_create_handle(&ea, 2, ead, f32));
    CHECK_ERR(af_lookup(&r, ea, ok, 0), AF_ERR_SIZE);
    af_release_array(ea);
    af_release_array(ok);
    af_release_array(e);
    af_release_array(c);
    af_release_array(m);
    af_release_array(row);
    af_release_array(a);
}

/* ---- assignment ---- */

/* Writes rhs (host values rv of dims rd, laid per ArrayFire's rule: same dims, one element, or a
 * vector along a vector window) into the host copy lh (dims ld) at the window r. */
static void ref_assign(uint8_t *lh, const dim_t ld[4], size_t es, const dim_t *const pos[4],
                       const dim_t w[4], const uint8_t *rv, dim_t rn) {
    dim_t k = 0;
    for (dim_t c3 = 0; c3 < w[3]; c3++)
        for (dim_t c2 = 0; c2 < w[2]; c2++)
            for (dim_t c1 = 0; c1 < w[1]; c1++)
                for (dim_t c0 = 0; c0 < w[0]; c0++, k++) {
                    dim_t li = pos[0][c0] +
                               ld[0] * (pos[1][c1] + ld[1] * (pos[2][c2] + ld[2] * pos[3][c3]));
                    memcpy(lh + li * es, rv + (rn == 1 ? 0 : k) * es, es);
                }
}

/* Sequence assignment in place on an array that owns its buffer: no copy (the raw pointer stays),
 * every dtype, random shapes and sequences. */
TEST(assign_seq_inplace) {
    for (int it = 0; it < 42; it++) {
        af_dtype t = all_types[it % NTYPES];
        size_t es = tsize(t);
        dim_t d[4];
        rand_shape(d, 6);
        uint8_t *h = rand_bytes(t, (size_t)count(d));
        af_array a = make(t, h, d);
        af_seq s[4];
        dim_t w[4], *pos[4];
        for (int k = 0; k < 4; k++) {
            s[k] = rand_seq(d[k]);
            rseq r = ref_seq(s[k], d[k]);
            w[k] = r.n;
            pos[k] = malloc(sizeof(dim_t) * (size_t)r.n);
            for (dim_t c = 0; c < r.n; c++)
                pos[k][c] = r.first + c * r.step;
        }
        bool bcast = it % 3 == 0;
        dim_t rn = bcast ? 1 : count(w);
        dim_t rd[4] = {1, 1, 1, 1};
        if (!bcast) memcpy(rd, w, sizeof(rd));
        uint8_t *rv = rand_bytes(t, (size_t)rn);
        af_array r = make(t, rv, rd);
        void *p0 = NULL, *p1 = NULL;
        CHECK_AF(af_get_raw_ptr(&p0, a));
        unsigned nd = 1;
        for (unsigned k = 0; k < 4; k++)
            if (d[k] > 1) nd = k + 1;
        af_array out = a;
        CHECK_AF(af_assign_seq(&out, a, nd, s, r));
        CHECK(out == a);
        CHECK_AF(af_get_raw_ptr(&p1, a));
        CHECK(p0 == p1);
        ref_assign(h, d, es, (const dim_t *const *)pos, w, rv, rn);
        CHECK_BYTES(a, t, d, h, "af_assign_seq in place");
        for (int k = 0; k < 4; k++)
            free(pos[k]);
        free(rv);
        free(h);
        af_release_array(r);
        af_release_array(a);
    }
}

/* Copy on write: a retained handle and a view keep their values; *out != lhs gives a new array
 * and leaves lhs alone. */
TEST(assign_seq_shared) {
    dim_t d[4] = {6, 5, 1, 1};
    float h[30], z[30];
    for (int k = 0; k < 30; k++)
        h[k] = (float)k, z[k] = (float)k;
    af_array a = make(f32, h, d), b = 0, v = 0, r = 0;
    CHECK_AF(af_retain_array(&b, a));
    af_seq sv[2] = {af_make_seq(0, 2, 1), af_make_seq(1, 1, 1)};
    CHECK_AF(af_index(&v, a, 2, sv));
    dim_t one[4] = {1, 1, 1, 1};
    CHECK_AF(af_constant(&r, -7, 1, one, f32));
    af_seq s[2] = {af_make_seq(1, 4, 1), af_make_seq(-1, 0, -2)};
    af_array out = a;
    CHECK_AF(af_assign_seq(&out, a, 2, s, r));
    CHECK(out == a);
    for (int j = 4; j >= 0; j -= 2)
        for (int i = 1; i <= 4; i++)
            h[i + 6 * j] = -7;
    CHECK_BYTES(a, f32, d, h, "assigned");
    CHECK_BYTES(b, f32, d, z, "retained handle unchanged");
    float zv[3] = {6, 7, 8};
    dim_t vd[4] = {3, 1, 1, 1};
    CHECK_BYTES(v, f32, vd, zv, "view unchanged");
    /* *out != lhs with lhs shared: a new array; lhs unchanged. */
    af_array n = 0, b2 = 0;
    CHECK_AF(af_retain_array(&b2, b));
    CHECK_AF(af_assign_seq(&n, b, 2, s, r));
    CHECK(n != b && n != 0);
    CHECK_BYTES(n, f32, d, h, "new array");
    CHECK_BYTES(b, f32, d, z, "lhs unchanged");
    af_release_array(b2);
    af_release_array(n);
    /* *out != lhs with lhs its data's only owner: lhs is written in place (ArrayFire's rule) and
     * the output is a second handle to it. */
    af_array c = make(f32, z, d);
    void *pc = NULL, *pn = NULL;
    CHECK_AF(af_get_raw_ptr(&pc, c));
    n = 0;
    CHECK_AF(af_assign_seq(&n, c, 2, s, r));
    CHECK(n != c && n != 0);
    CHECK_AF(af_get_raw_ptr(&pn, n));
    CHECK(pn == pc);
    CHECK_BYTES(n, f32, d, h, "second handle");
    CHECK_BYTES(c, f32, d, h, "lhs written in place");
    af_release_array(c);
    /* Assigning into a view writes the view's own copy; the parent keeps its values. */
    af_seq s0 = af_make_seq(1, 1, 1);
    af_array vout = v;
    CHECK_AF(af_assign_seq(&vout, v, 1, &s0, r));
    float zv2[3] = {6, -7, 8};
    CHECK_BYTES(v, f32, vd, zv2, "view assigned");
    CHECK_BYTES(a, f32, d, h, "parent of the view unchanged");
    af_release_array(n);
    af_release_array(r);
    af_release_array(v);
    af_release_array(b);
    af_release_array(a);
}

/* The rhs forms: a vector laid along a vector window, a lazy rhs, an rhs that reads lhs (a view
 * of it), and dtype conversion. */
TEST(assign_seq_rhs_forms) {
    dim_t d[4] = {5, 4, 1, 1};
    double h[20];
    for (int k = 0; k < 20; k++)
        h[k] = k;
    af_array a = make(f64, h, d), r = 0;
    /* Row 2 (a 1 x 4 window) from a column of 4. */
    double rv[4] = {10, 11, 12, 13};
    dim_t rd[4] = {4, 1, 1, 1};
    r = make(f64, rv, rd);
    af_seq s[2] = {af_make_seq(2, 2, 1), af_span};
    af_array out = a;
    CHECK_AF(af_assign_seq(&out, a, 2, s, r));
    for (int j = 0; j < 4; j++)
        h[2 + 5 * j] = rv[j];
    CHECK_BYTES(a, f64, d, h, "vector along a row");
    /* Wrong element count. */
    af_seq s3[2] = {af_make_seq(0, 2, 1), af_make_seq(0, 0, 1)};
    CHECK_ERR(af_assign_seq(&out, a, 2, s3, r), AF_ERR_SIZE);
    /* A matrix rhs of other dims. */
    af_array m = 0;
    dim_t md[4] = {2, 2, 1, 1};
    CHECK_AF(af_constant(&m, 1, 2, md, f64));
    af_seq s4[2] = {af_make_seq(0, 3, 1), af_make_seq(0, 0, 1)};
    CHECK_ERR(af_assign_seq(&out, a, 2, s4, m), AF_ERR_SIZE);
    /* A lazy rhs: (m * 3), written straight into a 2 x 2 window. */
    af_array three = 0, lz = 0;
    CHECK_AF(af_constant(&three, 3, 2, md, f64));
    CHECK_AF(af_mul(&lz, m, three, false));
    af_seq s5[2] = {af_make_seq(3, 4, 1), af_make_seq(-2, -1, 1)};
    CHECK_AF(af_assign_seq(&out, a, 2, s5, lz));
    h[3 + 10] = h[4 + 10] = h[3 + 15] = h[4 + 15] = 3;
    CHECK_BYTES(a, f64, d, h, "lazy rhs");
    /* rhs a view of lhs itself: column 0 <- column 3 reversed. */
    af_array v = 0;
    af_seq sv[2] = {af_make_seq(4, 0, -1), af_make_seq(3, 3, 1)};
    CHECK_AF(af_index(&v, a, 2, sv));
    af_seq s6[2] = {af_span, af_make_seq(0, 0, 1)};
    CHECK_AF(af_assign_seq(&out, a, 2, s6, v));
    double col3[5];
    for (int i = 0; i < 5; i++)
        col3[i] = h[i + 15];
    for (int i = 0; i < 5; i++)
        h[i] = col3[4 - i];
    CHECK_BYTES(a, f64, d, h, "rhs reads lhs");
    /* Conversion: an s32 rhs into f64, a u8 rhs into c32; a complex rhs into a real lhs is an
     * error. */
    int iv[2] = {-3, 9};
    dim_t id[4] = {2, 1, 1, 1};
    af_array ir = make(s32, iv, id);
    af_seq s7[2] = {af_make_seq(0, 1, 1), af_make_seq(1, 1, 1)};
    CHECK_AF(af_assign_seq(&out, a, 2, s7, ir));
    h[5] = -3, h[6] = 9;
    CHECK_BYTES(a, f64, d, h, "s32 into f64");
    af_array cz = 0, cr = 0;
    CHECK_AF(af_constant_complex(&cr, 1, 2, 1, id, c32));
    CHECK_ERR(af_assign_seq(&out, a, 2, s7, cr), AF_ERR_TYPE);
    float cf[8] = {0};
    dim_t cd[4] = {4, 1, 1, 1};
    cz = make(c32, cf, cd);
    unsigned char u[2] = {200, 7};
    af_array ur = make(u8, u, id);
    af_seq s8 = af_make_seq(1, 3, 2);
    af_array cout = cz;
    CHECK_AF(af_assign_seq(&cout, cz, 1, &s8, ur));
    float cref[8] = {0, 0, 200, 0, 0, 0, 7, 0};
    CHECK_BYTES(cz, c32, cd, cref, "u8 into c32");
    /* Assigning an array to itself changes nothing; an empty rhs writes nothing. */
    CHECK_AF(af_assign_seq(&out, a, 2, s7, a));
    CHECK(out == a);
    af_array e = 0;
    dim_t ed[4] = {0, 1, 1, 1};
    CHECK_AF(af_create_handle(&e, 1, ed, f64));
    CHECK_AF(af_assign_seq(&out, a, 2, s7, e));
    CHECK(out == a);
    CHECK_BYTES(a, f64, d, h, "unchanged");
    /* Errors. */
    CHECK_ERR(af_assign_seq(&out, a, 0, s7, ir), AF_ERR_ARG);
    CHECK_ERR(af_assign_seq(&out, a, 2, NULL, ir), AF_ERR_ARG);
    CHECK_ERR(af_assign_seq(&out, a, 2, s7, NULL), AF_ERR_ARG);
    CHECK_ERR(af_assign_seq(NULL, a, 2, s7, ir), AF_ERR_ARG);
    af_seq bad[2] = {af_make_seq(0, 5, 1), af_span};
    CHECK_ERR(af_assign_seq(&out, a, 2, bad, ir), AF_ERR_SIZE);
    af_seq s9[3] = {af_make_seq(0, 1, 1), af_make_seq(1, 1, 1), af_span};
    CHECK_ERR(af_assign_seq(&out, a, 3, s9, ir), AF_ERR_SIZE); /* more seqs than lhs dims */
    CHECK(out == a);
    af_release_array(e);
    af_release_array(ur);
    af_release_array(cz);
    af_release_array(cr);
    af_release_array(ir);
    af_release_array(v);
    af_release_array(lz);
    af_release_array(three);
    af_release_array(m);
    af_release_array(r);
    af_release_array(a);
}

/* One sequence over a matrix assigns its flattened elements. */
TEST(assign_seq_flat) {
    dim_t d[4] = {4, 3, 1, 1};
    short h[12];
    for (int k = 0; k < 12; k++)
        h[k] = (short)k;
    af_array a = make(s16, h, d), r = 0;
    short rv[4] = {-1, -2, -3, -4};
    dim_t rd[4] = {4, 1, 1, 1};
    r = make(s16, rv, rd);
    af_seq s = af_make_seq(-1, 0, -3); /* 11, 8, 5, 2 */
    af_array out = a;
    CHECK_AF(af_assign_seq(&out, a, 1, &s, r));
    h[11] = -1, h[8] = -2, h[5] = -3, h[2] = -4;
    CHECK_BYTES(a, s16, d, h, "flat assignment");
    af_release_array(r);
    af_release_array(a);
}

/* Array-indexer assignment over random shapes, every dtype and index dtype, duplicates and
 * out-of-range values: every written element holds one of the values sent to it, every other
 * keeps its own. */
TEST(assign_gen_arrays) {
    for (int it = 0; it < 70; it++) {
        af_dtype t = all_types[it % NTYPES];
        size_t es = tsize(t);
        dim_t d[4];
        rand_shape(d, 6);
        unsigned nd = 1;
        for (unsigned k = 0; k < 4; k++)
            if (d[k] > 1) nd = k + 1;
        uint8_t *h = rand_bytes(t, (size_t)count(d));
        af_array a = make(t, h, d), idxa[4] = {0};
        af_index_t *ix = NULL;
        CHECK_AF(af_create_indexers(&ix));
        dim_t w[4], *pos[4];
        bool any_arr = false;
        for (unsigned k = 0; k < 4; k++) {
            if (k >= nd || rnd(0, 2) == 0) {
                af_seq s = k < nd ? rand_seq(d[k]) : af_span;
                rseq r = ref_seq(s, d[k]);
                w[k] = r.n;
                pos[k] = malloc(sizeof(dim_t) * (size_t)r.n);
                for (dim_t c = 0; c < r.n; c++)
                    pos[k][c] = r.first + c * r.step;
                if (k < nd)
                    CHECK_AF(af_set_seq_param_indexer(ix, s.begin, s.end, s.step, k, false));
            } else {
                af_dtype it_ = idx_types[rnd(0, NIDX - 1)];
                dim_t n = rnd(1, 7);
                w[k] = n;
                pos[k] = malloc(sizeof(dim_t) * (size_t)n);
                void *iv = rand_index(it_, n, d[k], pos[k]);
                dim_t idims[4] = {n, 1, 1, 1};
                idxa[k] = make(it_, iv, idims);
                free(iv);
                CHECK_AF(af_set_array_indexer(ix, idxa[k], k));
                any_arr = true;
            }
        }
        if (!any_arr) {
            /* Make dimension 0 an index array, so this case scatters. */
            free(pos[0]);
            dim_t n = rnd(1, 7);
            w[0] = n;
            pos[0] = malloc(sizeof(dim_t) * (size_t)n);
            void *iv = rand_index(s32, n, d[0], pos[0]);
            dim_t idims[4] = {n, 1, 1, 1};
            idxa[0] = make(s32, iv, idims);
            free(iv);
            CHECK_AF(af_set_array_indexer(ix, idxa[0], 0));
        }
        dim_t wn = count(w);
        uint8_t *rv = rand_bytes(t, (size_t)wn);
        af_array r = make(t, rv, w);
        af_array out = a;
        CHECK_AF(af_assign_gen(&out, a, nd, ix, r));
        CHECK(out == a);
        uint8_t *got = malloc((size_t)count(d) * es + 1);
        CHECK_AF(af_get_data_ptr(got, a));
        /* written[li]: 1 when some window element maps there; ok[li]: the value matches one. */
        uint8_t *written = calloc((size_t)count(d), 1), *ok = calloc((size_t)count(d), 1);
        dim_t k = 0;
        for (dim_t c3 = 0; c3 < w[3]; c3++)
            for (dim_t c2 = 0; c2 < w[2]; c2++)
                for (dim_t c1 = 0; c1 < w[1]; c1++)
                    for (dim_t c0 = 0; c0 < w[0]; c0++, k++) {
                        dim_t li = pos[0][c0] +
                                   d[0] * (pos[1][c1] + d[1] * (pos[2][c2] + d[2] * pos[3][c3]));
                        written[li] = 1;
                        if (memcmp(got + li * es, rv + k * es, es) == 0) ok[li] = 1;
                    }
        dim_t bad = -1;
        for (dim_t li = 0; li < count(d) && bad < 0; li++) {
            if (written[li] && !ok[li]) bad = li;
            if (!written[li] && memcmp(got + li * es, h + li * es, es) != 0) bad = li;
        }
        if (bad >= 0)
            em_test_fail(__FILE__, __LINE__, "af_assign_gen (%s): element %lld is wrong",
                         em_test_dtype_name(t), (long long)bad);
        free(written);
        free(ok);
        free(got);
        for (int q = 0; q < 4; q++) {
            free(pos[q]);
            if (idxa[q]) af_release_array(idxa[q]);
        }
        CHECK_AF(af_release_indexers(ix));
        free(rv);
        free(h);
        af_release_array(r);
        af_release_array(a);
    }
}

/* Array-indexer assignment: copy on write, *out != lhs, broadcast, conversion, a b8 mask, a lazy
 * rhs, an rhs that is lhs, a flattened lhs, and errors. */
TEST(assign_gen_forms) {
    dim_t d[4] = {5, 4, 1, 1};
    int h[20], z[20];
    for (int k = 0; k < 20; k++)
        h[k] = z[k] = k;
    af_array a = make(s32, h, d), b = 0;
    CHECK_AF(af_retain_array(&b, a));
    unsigned iv[3] = {4, 0, 4};
    dim_t id[4] = {3, 1, 1, 1};
    af_array ia = make(u32, iv, id), one = 0;
    dim_t od[4] = {1, 1, 1, 1};
    CHECK_AF(af_constant(&one, 99.0, 1, od, f64)); /* converted to s32 */
    af_index_t ix[2];
    ix[0].idx.arr = ia;
    ix[0].isSeq = false;
    ix[0].isBatch = false;
    ix[1].idx.seq = af_make_seq(1, 2, 1);
    ix[1].isSeq = true;
    ix[1].isBatch = false;
    af_array out = a;
    CHECK_AF(af_assign_gen(&out, a, 2, ix, one));
    CHECK(out == a);
    h[4 + 5] = h[0 + 5] = h[4 + 10] = h[0 + 10] = 99;
    CHECK_BYTES(a, s32, d, h, "broadcast scatter");
    CHECK_BYTES(b, s32, d, z, "retained handle unchanged");
    /* *out != lhs, lhs shared: a new array, lhs unchanged. */
    af_array n = 0, b2 = 0;
    CHECK_AF(af_retain_array(&b2, b));
    CHECK_AF(af_assign_gen(&n, b, 2, ix, one));
    CHECK_BYTES(n, s32, d, h, "new array");
    CHECK_BYTES(b, s32, d, z, "lhs unchanged");
    af_release_array(n);
    af_release_array(b2);
    /* A b8 mask over columns, with a lazy rhs of the window's dims. */
    char m[4] = {0, 1, 0, 1};
    dim_t md[4] = {4, 1, 1, 1};
    af_array ma = make(b8, m, md), x = 0, y = 0, lz = 0;
    dim_t wd[4] = {2, 2, 1, 1};
    CHECK_AF(af_constant(&x, 5, 2, wd, s32));
    CHECK_AF(af_constant(&y, 2, 2, wd, s32));
    CHECK_AF(af_sub(&lz, x, y, false)); /* 3 */
    ix[0].idx.seq = af_make_seq(3, 4, 1);
    ix[0].isSeq = true;
    ix[1].idx.arr = ma;
    ix[1].isSeq = false;
    CHECK_AF(af_assign_gen(&out, a, 2, ix, lz));
    h[3 + 5] = h[4 + 5] = h[3 + 15] = h[4 + 15] = 3;
    CHECK_BYTES(a, s32, d, h, "mask and lazy rhs");
    /* rhs is lhs: a(flat [19, 0, ...]) = a, through a 20-element index over the flattened a. */
    int perm[20];
    for (int k = 0; k < 20; k++)
        perm[k] = 19 - k;
    dim_t pd[4] = {20, 1, 1, 1};
    af_array pa = make(s32, perm, pd), fl = 0;
    CHECK_AF(af_flat(&fl, a));
    af_index_t f1;
    f1.idx.arr = pa;
    f1.isSeq = false;
    f1.isBatch = false;
    af_array fout = fl;
    CHECK_AF(af_assign_gen(&fout, fl, 1, &f1, fl));
    int rev[20];
    for (int k = 0; k < 20; k++)
        rev[19 - k] = h[k];
    CHECK_BYTES(fl, s32, pd, rev, "rhs is lhs");
    CHECK_BYTES(a, s32, d, h, "flat's source unchanged");
    /* One index array over a matrix (flattened), rhs a column. */
    int sv[3] = {7, 8, 9};
    af_array sr = make(s32, sv, id);
    int fi[3] = {19, 0, 6};
    af_array fa = make(s32, fi, id);
    f1.idx.arr = fa;
    CHECK_AF(af_assign_gen(&out, a, 1, &f1, sr));
    h[19] = 7, h[0] = 8, h[6] = 9;
    CHECK_BYTES(a, s32, d, h, "flat scatter");
    /* Errors. */
    af_array cr = 0;
    CHECK_AF(af_constant_complex(&cr, 1, 1, 1, od, c64));
    ix[0].idx.arr = ia;
    ix[0].isSeq = false;
    ix[1].idx.seq = af_span;
    ix[1].isSeq = true;
    CHECK_ERR(af_assign_gen(&out, a, 2, ix, cr), AF_ERR_TYPE);
    CHECK_ERR(af_assign_gen(&out, a, 2, ix, sr), AF_ERR_SIZE); /* 3 x 4 window, 3 values */
    CHECK_ERR(af_assign_gen(&out, a, 5, ix, one), AF_ERR_ARG); /* ndims past 4, checked first */
    CHECK_ERR(af_assign_gen(&out, a, 2, NULL, one), AF_ERR_ARG);
    ix[0].idx.arr = cr;
    CHECK_ERR(af_assign_gen(&out, a, 2, ix, one), AF_ERR_ARG);
    CHECK(out == a);
    CHECK_BYTES(a, s32, d, h, "unchanged after errors");
    af_release_array(cr);
    af_release_array(fa);
    af_release_array(sr);
    af_release_array(fl);
    af_release_array(pa);
    af_release_array(lz);
    af_release_array(y);
    af_release_array(x);
    af_release_array(ma);
    af_release_array(one);
    af_release_array(ia);
    af_release_array(b);
    af_release_array(a);
}

/* ---- interop on views ---- */

TEST(index_interop_views) {
    dim_t d[4] = {6, 4, 1, 1};
    float h[24], z[24];
    for (int k = 0; k < 24; k++)
        h[k] = z[k] = (float)k;
    af_array a = make(f32, h, d), v = 0;
    af_seq s[2] = {af_make_seq(1, 5, 2), af_make_seq(3, 0, -1)};
    CHECK_AF(af_index(&v, a, 2, s));
    /* af_get_device_ptr of a view: the view gets its own dense buffer (the parent's is shared). */
    void *pv = NULL, *pa = NULL;
    CHECK_AF(af_get_device_ptr(&pv, v));
    CHECK_AF(af_get_raw_ptr(&pa, a));
    CHECK(pv != pa);
    bool locked = false, linear = false;
    CHECK_AF(af_is_locked_array(&locked, v));
    CHECK(locked);
    CHECK_AF(af_is_linear(&linear, v));
    CHECK(linear);
    dim_t vd[4] = {3, 4, 1, 1};
    float vref[12];
    for (int j = 0; j < 4; j++)
        for (int i = 0; i < 3; i++)
            vref[i + 3 * j] = h[(1 + 2 * i) + 6 * (3 - j)];
    if (em_test_backend() == AF_BACKEND_CPU) {
        /* Device memory is host memory here: read and write it directly. */
        CHECK(memcmp(pv, vref, sizeof(vref)) == 0);
        ((float *)pv)[0] = -1;
        vref[0] = -1;
    }
    CHECK_BYTES(v, f32, vd, vref, "view after af_get_device_ptr");
    CHECK_BYTES(a, f32, d, z, "parent unchanged");
    CHECK_AF(af_unlock_array(v));
    /* Lock, then assign: an array that owns its buffer is written in place, so the locked
     * pointer sees the new values. */
    void *p = NULL;
    CHECK_AF(af_get_device_ptr(&p, a));
    af_array r = 0;
    dim_t one[4] = {1, 1, 1, 1};
    CHECK_AF(af_constant(&r, 42, 1, one, f32));
    af_seq s1[2] = {af_make_seq(0, 0, 1), af_span};
    af_array out = a;
    CHECK_AF(af_assign_seq(&out, a, 2, s1, r));
    void *p2 = NULL;
    CHECK_AF(af_get_raw_ptr(&p2, a));
    CHECK(p2 == p);
    for (int j = 0; j < 4; j++)
        h[6 * j] = 42;
    CHECK_BYTES(a, f32, d, h, "assign after lock");
    if (em_test_backend() == AF_BACKEND_CPU) CHECK(((float *)p)[6] == 42);
    CHECK_AF(af_unlock_array(a));
    /* Locking a view locks the buffer it shares with its parent (DESIGN.md's interop rule); an
     * assignment into the parent then copies first, so the locked memory keeps the view's
     * values. */
    af_array lv = 0;
    CHECK_AF(af_index(&lv, a, 2, s));
    CHECK_AF(af_lock_array(lv));
    CHECK_AF(af_is_locked_array(&locked, a));
    CHECK(locked);
    void *plv = NULL, *pa2 = NULL;
    CHECK_AF(af_get_raw_ptr(&plv, lv));
    CHECK_AF(af_assign_seq(&out, a, 2, s1, r)); /* row 0 again: a copies, lv keeps the buffer */
    CHECK_AF(af_get_raw_ptr(&pa2, a));
    CHECK(pa2 != plv);
    CHECK_AF(af_is_locked_array(&locked, a));
    CHECK(!locked);
    CHECK_AF(af_unlock_array(lv));
    CHECK_AF(af_is_locked_array(&locked, lv));
    CHECK(!locked);
    af_release_array(lv);
    /* A view of an array over user memory (af_device_array) reads that memory. */
    void *um = NULL;
    CHECK_AF(af_alloc_device(&um, (dim_t)sizeof(z)));
    af_array u = 0, uv = 0;
    CHECK_AF(af_device_array(&u, um, 2, d, f32));
    CHECK_AF(af_write_array(u, z, sizeof(z), afHost));
    af_seq su[2] = {af_make_seq(-1, -1, 1), af_make_seq(0, 3, 3)};
    CHECK_AF(af_index(&uv, u, 2, su));
    void *pu = NULL;
    CHECK_AF(af_get_raw_ptr(&pu, uv));
    CHECK(pu == um);
    float uref[2] = {5, 23};
    dim_t ud[4] = {1, 2, 1, 1};
    CHECK_BYTES(uv, f32, ud, uref, "view of user memory");
    af_release_array(uv);
    af_release_array(u);
    CHECK_AF(af_free_device(um));
    af_release_array(r);
    af_release_array(v);
    af_release_array(a);
}

TEST(index_indexers_and_seq) {
    af_seq s = af_make_seq(1, -2, 3);
    CHECK(s.begin == 1 && s.end == -2 && s.step == 3);
    af_index_t *ix = NULL;
    CHECK_AF(af_create_indexers(&ix));
    for (int k = 0; k < 4; k++)
        CHECK(ix[k].isSeq && !ix[k].isBatch && ix[k].idx.seq.begin == 1 && ix[k].idx.seq.end == 1 &&
              ix[k].idx.seq.step == 0);
    CHECK_AF(af_set_seq_param_indexer(ix, 2, 5, 1, 3, true));
    CHECK(ix[3].isSeq && ix[3].isBatch && ix[3].idx.seq.begin == 2 && ix[3].idx.seq.end == 5);
    af_array a = 0;
    dim_t d[4] = {2, 1, 1, 1};
    CHECK_AF(af_constant(&a, 1, 1, d, f32));
    CHECK_AF(af_set_array_indexer(ix, a, 1));
    CHECK(!ix[1].isSeq && ix[1].idx.arr == a);
    CHECK_ERR(af_set_array_indexer(ix, a, 4), AF_ERR_ARG);
    CHECK_ERR(af_set_array_indexer(NULL, a, 0), AF_ERR_ARG);
    CHECK_ERR(af_set_array_indexer(ix, NULL, 0), AF_ERR_ARG);
    CHECK_ERR(af_set_seq_indexer(ix, NULL, 0, false), AF_ERR_ARG);
    CHECK_ERR(af_set_seq_indexer(ix, &s, -1, false), AF_ERR_ARG);
    CHECK_ERR(af_set_seq_param_indexer(ix, 0, 1, 1, 7, false), AF_ERR_ARG);
    CHECK_ERR(af_create_indexers(NULL), AF_ERR_ARG);
    CHECK_AF(af_release_indexers(ix));
    CHECK_AF(af_release_indexers(NULL));
    af_release_array(a);
}

/* One block of an array assigned from another block of it (a view of the same buffer): written
 * in place, without copying the buffer, since no reader can see a change; the view keeps its
 * values. With a third handle sharing the buffer, or overlapping blocks, the write copies first. */
TEST(assign_block_from_self) {
    dim_t d[4] = {8, 6, 1, 1};
    float h[48], z[48];
    for (int k = 0; k < 48; k++)
        h[k] = z[k] = (float)k;
    af_array a = make(f32, h, d), v = 0;
    af_seq src[2] = {af_make_seq(4, 7, 1), af_make_seq(3, 5, 1)};
    CHECK_AF(af_index(&v, a, 2, src));
    void *p0 = NULL, *p1 = NULL;
    CHECK_AF(af_get_raw_ptr(&p0, a));
    af_seq dst[2] = {af_make_seq(0, 3, 1), af_make_seq(0, 2, 1)};
    af_array out = a;
    CHECK_AF(af_assign_seq(&out, a, 2, dst, v));
    CHECK_AF(af_get_raw_ptr(&p1, a));
    CHECK(p0 == p1);
    for (int j = 0; j < 3; j++)
        for (int i = 0; i < 4; i++)
            h[i + 8 * j] = z[(4 + i) + 8 * (3 + j)];
    CHECK_BYTES(a, f32, d, h, "block from a block of itself");
    float vref[12];
    for (int j = 0; j < 3; j++)
        for (int i = 0; i < 4; i++)
            vref[i + 4 * j] = z[(4 + i) + 8 * (3 + j)];
    dim_t vd[4] = {4, 3, 1, 1};
    CHECK_BYTES(v, f32, vd, vref, "source view unchanged");
    /* The same through af_assign_gen with an index array (scatter). */
    int rows[4] = {0, 1, 2, 3};
    dim_t rd[4] = {4, 1, 1, 1};
    af_array ra = make(s32, rows, rd);
    af_index_t ix[2];
    ix[0].idx.arr = ra;
    ix[0].isSeq = false;
    ix[0].isBatch = false;
    ix[1].idx.seq = af_make_seq(0, 2, 1);
    ix[1].isSeq = true;
    ix[1].isBatch = false;
    CHECK_AF(af_assign_gen(&out, a, 2, ix, v));
    CHECK_AF(af_get_raw_ptr(&p1, a));
    CHECK(p0 == p1);
    CHECK_BYTES(a, f32, d, h, "scatter from a block of itself");
    /* Overlapping blocks: rows 1..4 of columns 3..5 <- rows 4..7 (the view): copied first. */
    af_seq ov[2] = {af_make_seq(1, 4, 1), af_make_seq(3, 5, 1)};
    CHECK_AF(af_assign_seq(&out, a, 2, ov, v));
    float hh[48];
    memcpy(hh, h, sizeof(h));
    for (int j = 0; j < 3; j++)
        for (int i = 0; i < 4; i++)
            hh[(1 + i) + 8 * (3 + j)] = vref[i + 4 * j];
    CHECK_BYTES(a, f32, d, hh, "overlapping blocks");
    CHECK_BYTES(v, f32, vd, vref, "source view unchanged after the overlapping write");
    /* A third handle sharing the buffer keeps its values. */
    af_array b = 0, v3 = 0;
    CHECK_AF(af_index(&v3, a, 2, src));
    CHECK_AF(af_retain_array(&b, a));
    CHECK_AF(af_assign_seq(&out, a, 2, dst, v3));
    CHECK_BYTES(b, f32, d, hh, "third handle unchanged");
    af_release_array(b);
    af_release_array(v3);
    af_release_array(ra);
    af_release_array(v);
    af_release_array(a);
}
