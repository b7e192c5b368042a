/* Shape operations: af_flip, af_reorder, af_shift, af_tile, af_join, af_join_many, af_pad (every
 * border type), af_diag_create, af_diag_extract, af_lower, af_upper, af_transpose,
 * af_transpose_inplace, and af_moddims / af_flat on views. Each result is compared with a plain-C
 * re-indexing of the input's own values (read back, so every dtype compares exactly), on random
 * 1-4-D shapes with odd sizes, empty and 1-element arrays, every dtype, and inputs that are
 * evaluated, lazy (an expression, a lazy re-indexing) and views. Bad arguments are checked for
 * their codes and messages. */
#include "test.h"

#include <string.h>

static const af_dtype all_types[] = {f32, c32, f64, c64, b8,  s32, u32,
                                     u8,  s64, u64, s16, u16, f16, s8};
#define NTYPES (sizeof(all_types) / sizeof(all_types[0]))

static bool is_cplx(af_dtype t) {
    return t == c32 || t == c64;
}
static size_t width(af_dtype t) {
    return is_cplx(t) ? 2 : 1;
}
static dim_t elems(const dim_t d[4]) {
    return d[0] * d[1] * d[2] * d[3];
}

/* A random array of `type` and dims d, with NaN/inf among floating values; *vals receives its
 * values as stored (read back), so references move exactly what the library holds. */
static af_array rand_array(af_dtype type, const dim_t d[4], double **vals) {
    size_t n = (size_t)elems(d), w = width(type);
    double *x = malloc((n * w + 1) * sizeof(double));
    bool fl = type == f32 || type == f64 || type == f16 || is_cplx(type);
    em_test_fill(x, n * w, -100, 100, fl);
    if (!fl)
        for (size_t i = 0; i < n * w; i++)
            x[i] = floor(x[i]);
    af_array a = em_test_make(x, 4, d, type);
    free(x);
    dim_t got = 0;
    *vals = em_test_read(a, &got);
    return a;
}

static void coords(const dim_t d[4], dim_t i, dim_t c[4]) {
    for (int k = 0; k < 4; k++) {
        c[k] = d[k] ? i % d[k] : 0;
        i = d[k] ? i / d[k] : 0;
    }
}
static dim_t lin(const dim_t d[4], const dim_t c[4]) {
    return c[0] + d[0] * (c[1] + d[1] * (c[2] + d[2] * c[3]));
}

/* Maps an output coordinate to an input coordinate; false: the element is 0 (or `one`: 1). */
typedef bool (*map_fn)(const void *ctx, const dim_t oc[4], dim_t ic[4], bool *one);

/* Checks that out has dims od and dtype type, and that each element equals the mapped input
 * element (or 0 / 1 where the map says so). */
static void check_map(af_array out, af_dtype type, const dim_t od[4], const double *in,
                      const dim_t id[4], map_fn map, const void *ctx, const char *what) {
    dim_t d[4];
    af_dtype t;
    CHECK_AF(af_get_dims(&d[0], &d[1], &d[2], &d[3], out));
    CHECK_AF(af_get_type(&t, out));
    CHECK(t == type);
    for (int k = 0; k < 4; k++)
        if (d[k] != od[k]) {
            em_test_fail(__FILE__, __LINE__, "%s (%s): dims[%d] = %lld, expected %lld", what,
                         em_test_dtype_name(type), k, (long long)d[k], (long long)od[k]);
            return;
        }
    size_t n = (size_t)elems(od), w = width(type);
    double *ref = malloc((n * w + 1) * sizeof(double));
    for (size_t i = 0; i < n; i++) {
        dim_t oc[4], ic[4];
        bool one = false;
        coords(od, (dim_t)i, oc);
        bool inb = map(ctx, oc, ic, &one);
        for (size_t p = 0; p < w; p++)
            ref[i * w + p] = inb ? in[lin(id, ic) * w + p] : (one && p == 0 ? 1 : 0);
    }
    dim_t got_n = 0;
    double *got = em_test_read(out, &got_n);
    if (got && (size_t)got_n == n) {
        if (!CHECK_CLOSE(got, ref, n * w, 0, 0))
            em_test_fail(__FILE__, __LINE__, "%s: values differ (%s, dims %lld %lld %lld %lld)",
                         what, em_test_dtype_name(type), (long long)od[0], (long long)od[1],
                         (long long)od[2], (long long)od[3]);
    }
    free(got);
    free(ref);
}

/* Random dims: 1 to 4 dimensions of 1..7, with an odd size now and then. */
static void rand_dims(dim_t d[4], dim_t maxd) {
    unsigned nd = 1 + (unsigned)(em_test_rand_u64() % 4);
    for (unsigned k = 0; k < 4; k++)
        d[k] = k < nd ? 1 + (dim_t)(em_test_rand_u64() % (uint64_t)maxd) : 1;
}

/* The input in one of NFORMS forms over the same values and dims: 0 the evaluated array, 1 a
 * lazy re-indexing of it (flipped twice), 2 a view with permuted strides over another buffer
 * (af_reorder of a copy laid out with dims 1 and 2 swapped), 3 a view with step 2 (af_index). */
static af_array input_form(af_array a, const dim_t d[4], int form) {
    af_array r = NULL, t = NULL;
    switch (form) {
    case 1:
        CHECK_AF(af_flip(&t, a, 0));
        CHECK_AF(af_flip(&r, t, 0));
        af_release_array(t);
        return r;
    case 2: {
        /* Values laid out as dims (d0, d2, d1, d3), then reordered back: a view. */
        CHECK_AF(af_reorder(&t, a, 0, 2, 1, 3));
        af_array dense = NULL;
        CHECK_AF(af_copy_array(&dense, t)); /* dense with dims (d0, d2, d1, d3) */
        af_release_array(t);
        CHECK_AF(af_reorder(&r, dense, 0, 2, 1, 3));
        af_release_array(dense);
        return r;
    }
    case 3: {
        /* A view with step 2 along dimension 0 (af_index of a parent holding each value twice);
         * the evaluated array where af_index is not built. */
        dim_t one[4] = {1, d[0], d[1] * d[2] * d[3], 1}, two[4] = {2 * d[0], d[1], d[2], d[3]};
        af_array m = NULL, j = NULL, p = NULL;
        CHECK_AF(af_moddims(&m, a, 3, one));
        CHECK_AF(af_join(&j, 0, m, m));
        CHECK_AF(af_moddims(&p, j, 4, two));
        af_release_array(m);
        af_release_array(j);
        af_seq s[4] = {{0, (double)(2 * d[0] - 1), 2}, af_span, af_span, af_span};
        af_err e = af_index(&r, p, 4, s);
        af_release_array(p);
        if (e == AF_SUCCESS) {
            bool lin = false;
            if (d[0] > 1 && af_is_linear(&lin, r) == AF_SUCCESS) CHECK(!lin); /* a real view */
            return r;
        }
        if (e != AF_ERR_NOT_SUPPORTED) em_test_fail(__FILE__, __LINE__, "af_index: %d", (int)e);
        CHECK_AF(af_retain_array(&r, a));
        return r;
    }
    default:
        CHECK_AF(af_retain_array(&r, a));
        return r;
    }
}
#define NFORMS 4

/* ---------------------------------------------------------------------------------------------
 * flip
 * ------------------------------------------------------------------------------------------- */

typedef struct {
    const dim_t *d;
    int dim;
} flip_ctx;
static bool map_flip(const void *p, const dim_t oc[4], dim_t ic[4], bool *one) {
    const flip_ctx *c = p;
    (void)one;
    memcpy(ic, oc, 4 * sizeof(dim_t));
    ic[c->dim] = c->d[c->dim] - 1 - oc[c->dim];
    return true;
}

TEST(shape_flip) {
    for (size_t ti = 0; ti < NTYPES; ti++) {
        af_dtype t = all_types[ti];
        for (int rep = 0; rep < 3; rep++) {
            dim_t d[4];
            rand_dims(d, 7);
            double *v;
            af_array a = rand_array(t, d, &v);
            for (int form = 0; form < NFORMS; form++) {
                af_array x = input_form(a, d, form);
                for (int dim = 0; dim < 4; dim++) {
                    af_array o = NULL;
                    CHECK_AF(af_flip(&o, x, (unsigned)dim));
                    flip_ctx c = {d, dim};
                    check_map(o, t, d, v, d, map_flip, &c, "af_flip");
                    af_release_array(o);
                }
                af_release_array(x);
            }
            free(v);
            af_release_array(a);
        }
    }
}

TEST(shape_flip_edge) {
    /* A dim past the last is the array itself; an empty array flips to itself. */
    dim_t d[4] = {5, 3, 1, 1};
    double *v;
    af_array a = rand_array(f32, d, &v), o = NULL;
    CHECK_AF(af_flip(&o, a, 2));
    flip_ctx c = {d, 2};
    check_map(o, f32, d, v, d, map_flip, &c, "flip past ndims");
    af_release_array(o);
    CHECK_AF(af_flip(&o, a, 9));
    check_map(o, f32, d, v, d, map_flip, &c, "flip dim 9");
    af_release_array(o);
    af_array e = NULL;
    const dim_t z[1] = {0};
    CHECK_AF(af_create_handle(&e, 1, z, f32));
    CHECK_AF(af_flip(&o, e, 0));
    dim_t n = -1;
    CHECK_AF(af_get_elements(&n, o));
    CHECK(n == 0);
    af_release_array(o);
    af_release_array(e);
    CHECK_ERR(af_flip(NULL, a, 0), AF_ERR_ARG);
    CHECK_ERR(af_flip(&o, NULL, 0), AF_ERR_ARG);
    /* flip of a lazy flip, then arithmetic on it: one fused expression. */
    af_array f1 = NULL, f2 = NULL, s = NULL;
    CHECK_AF(af_flip(&f1, a, 1));
    CHECK_AF(af_flip(&f2, f1, 0));
    CHECK_AF(af_add(&s, f2, f2, false));
    double *g = em_test_read(s, NULL);
    for (dim_t i = 0; i < elems(d); i++) {
        dim_t oc[4], ic[4];
        coords(d, i, oc);
        ic[0] = d[0] - 1 - oc[0], ic[1] = d[1] - 1 - oc[1], ic[2] = oc[2], ic[3] = oc[3];
        double r = (float)(v[lin(d, ic)] + v[lin(d, ic)]);
        CHECK(g[i] == r || (isnan(g[i]) && isnan(r)));
    }
    free(g);
    af_release_array(s);
    af_release_array(f1);
    af_release_array(f2);
    free(v);
    af_release_array(a);
}

/* ---------------------------------------------------------------------------------------------
 * reorder
 * ------------------------------------------------------------------------------------------- */

typedef struct {
    unsigned r[4];
} reorder_ctx;
static bool map_reorder(const void *p, const dim_t oc[4], dim_t ic[4], bool *one) {
    const reorder_ctx *c = p;
    (void)one;
    for (int k = 0; k < 4; k++)
        ic[c->r[k]] = oc[k];
    return true;
}

TEST(shape_reorder) {
    for (size_t ti = 0; ti < NTYPES; ti++) {
        af_dtype t = all_types[ti];
        dim_t d[4] = {3, 4, 2, 5};
        if (ti % 2) d[0] = 1, d[2] = 7;
        double *v;
        af_array a = rand_array(t, d, &v);
        for (int form = 0; form < NFORMS; form++) {
            af_array x = input_form(a, d, form);
            /* All 24 permutations. */
            for (unsigned p = 0; p < 256; p++) {
                unsigned r[4] = {p & 3, (p >> 2) & 3, (p >> 4) & 3, (p >> 6) & 3};
                if ((1u << r[0] | 1u << r[1] | 1u << r[2] | 1u << r[3]) != 15) continue;
                af_array o = NULL;
                CHECK_AF(af_reorder(&o, x, r[0], r[1], r[2], r[3]));
                dim_t od[4];
                for (int k = 0; k < 4; k++)
                    od[k] = d[r[k]];
                reorder_ctx c = {{r[0], r[1], r[2], r[3]}};
                check_map(o, t, od, v, d, map_reorder, &c, "af_reorder");
                af_release_array(o);
            }
            af_release_array(x);
        }
        free(v);
        af_release_array(a);
    }
}

TEST(shape_reorder_errors) {
    dim_t d[4] = {2, 3, 1, 1};
    double *v;
    af_array a = rand_array(f32, d, &v), o = NULL;
    CHECK_ERR(af_reorder(&o, a, 0, 0, 2, 3), AF_ERR_SIZE);
    CHECK_ERR(af_reorder(&o, a, 0, 1, 2, 4), AF_ERR_SIZE);
    CHECK_ERR(af_reorder(&o, a, 3, 1, 2, 3), AF_ERR_SIZE);
    CHECK_ERR(af_reorder(NULL, a, 0, 1, 2, 3), AF_ERR_ARG);
    /* Dim 0 kept: a view sharing the buffer, as ArrayFire makes it (strides permuted). */
    CHECK_AF(af_reorder(&o, a, 0, 2, 1, 3));
    dim_t st[4] = {0, 0, 0, 0};
    if (af_get_strides(&st[0], &st[1], &st[2], &st[3], o) == AF_SUCCESS) {
        CHECK(st[0] == 1);
        CHECK(st[2] == 2);
    }
    af_release_array(o);
    free(v);
    af_release_array(a);
}

/* ---------------------------------------------------------------------------------------------
 * shift
 * ------------------------------------------------------------------------------------------- */

typedef struct {
    const dim_t *d;
    int s[4];
} shift_ctx;
static bool map_shift(const void *p, const dim_t oc[4], dim_t ic[4], bool *one) {
    const shift_ctx *c = p;
    (void)one;
    for (int k = 0; k < 4; k++) {
        dim_t n = c->d[k];
        ic[k] = ((oc[k] - c->s[k]) % n + n) % n;
    }
    return true;
}

TEST(shape_shift) {
    for (size_t ti = 0; ti < NTYPES; ti++) {
        af_dtype t = all_types[ti];
        for (int rep = 0; rep < 3; rep++) {
            dim_t d[4];
            rand_dims(d, 7);
            double *v;
            af_array a = rand_array(t, d, &v);
            for (int form = 0; form < NFORMS; form++) {
                af_array x = input_form(a, d, form);
                shift_ctx c = {d, {0, 0, 0, 0}};
                for (int k = 0; k < 4; k++)
                    c.s[k] = (int)(em_test_rand_u64() % 31) - 15; /* negative, past the size */
                af_array o = NULL;
                CHECK_AF(af_shift(&o, x, c.s[0], c.s[1], c.s[2], c.s[3]));
                check_map(o, t, d, v, d, map_shift, &c, "af_shift");
                af_release_array(o);
                af_release_array(x);
            }
            free(v);
            af_release_array(a);
        }
    }
}

/* ---------------------------------------------------------------------------------------------
 * tile
 * ------------------------------------------------------------------------------------------- */

typedef struct {
    const dim_t *d;
} tile_ctx;
static bool map_tile(const void *p, const dim_t oc[4], dim_t ic[4], bool *one) {
    const tile_ctx *c = p;
    (void)one;
    for (int k = 0; k < 4; k++)
        ic[k] = oc[k] % c->d[k];
    return true;
}

TEST(shape_tile) {
    for (size_t ti = 0; ti < NTYPES; ti++) {
        af_dtype t = all_types[ti];
        for (int rep = 0; rep < 3; rep++) {
            dim_t d[4];
            rand_dims(d, 5);
            double *v;
            af_array a = rand_array(t, d, &v);
            for (int form = 0; form < NFORMS; form++) {
                af_array x = input_form(a, d, form);
                unsigned tl[4];
                dim_t od[4];
                for (int k = 0; k < 4; k++) {
                    tl[k] = 1 + (unsigned)(em_test_rand_u64() % 3);
                    od[k] = d[k] * tl[k];
                }
                af_array o = NULL;
                CHECK_AF(af_tile(&o, x, tl[0], tl[1], tl[2], tl[3]));
                tile_ctx c = {d};
                check_map(o, t, od, v, d, map_tile, &c, "af_tile");
                af_release_array(o);
                af_release_array(x);
            }
            free(v);
            af_release_array(a);
        }
    }
}

TEST(shape_tile_scalar_fuses) {
    /* x + 2 as the Rust bindings write it: a one-element array tiled to x's dims, then added. */
    const dim_t d[4] = {1000, 3, 1, 1}, one[1] = {1};
    double *v;
    af_array x = rand_array(f32, d, &v), two = NULL, c = NULL, tl = NULL, s = NULL;
    float val = 2;
    CHECK_AF(af_create_array(&two, &val, 1, one, f32));
    CHECK_AF(af_tile(&tl, two, 1000, 3, 1, 1));
    CHECK_AF(af_add(&s, x, tl, false));
    double *g = em_test_read(s, NULL);
    for (dim_t i = 0; i < elems(d); i++) {
        double r = (float)(v[i] + 2);
        CHECK(g[i] == r || (isnan(g[i]) && isnan(r)));
    }
    free(g);
    af_release_array(s);
    af_release_array(tl);
    /* A lazy constant tiles to a constant. */
    CHECK_AF(af_constant(&c, 3, 1, one, s32));
    CHECK_AF(af_tile(&tl, c, 4, 5, 1, 1));
    g = em_test_read(tl, NULL);
    for (int i = 0; i < 20; i++)
        CHECK(g[i] == 3);
    free(g);
    af_release_array(tl);
    CHECK_ERR(af_tile(&tl, x, 0, 1, 1, 1), AF_ERR_SIZE);
    CHECK_ERR(af_tile(&tl, x, 1, 1, 0, 1), AF_ERR_SIZE);
    CHECK_ERR(af_tile(NULL, x, 1, 1, 1, 1), AF_ERR_ARG);
    af_release_array(c);
    af_release_array(two);
    af_release_array(x);
    free(v);
}

/* ---------------------------------------------------------------------------------------------
 * join
 * ------------------------------------------------------------------------------------------- */

TEST(shape_join) {
    for (size_t ti = 0; ti < NTYPES; ti++) {
        af_dtype t = all_types[ti];
        for (int dim = 0; dim < 4; dim++) {
            dim_t d[4];
            rand_dims(d, 5);
            int nin = 2 + (int)(em_test_rand_u64() % 3);
            af_array in[4], forms[4];
            double *v[4];
            dim_t di[4][4], od[4];
            memcpy(od, d, sizeof(od));
            od[dim] = 0;
            for (int i = 0; i < nin; i++) {
                memcpy(di[i], d, sizeof(d));
                di[i][dim] = 1 + (dim_t)(em_test_rand_u64() % 4);
                od[dim] += di[i][dim];
                in[i] = rand_array(t, di[i], &v[i]);
                forms[i] = input_form(in[i], di[i], (int)((ti + (size_t)i) % NFORMS));
            }
            af_array o = NULL;
            if (nin == 2)
                CHECK_AF(af_join(&o, dim, forms[0], forms[1]));
            else
                CHECK_AF(af_join_many(&o, dim, (unsigned)nin, forms));
            /* Reference: walk the output and find which input owns each position. */
            size_t n = (size_t)elems(od), w = width(t);
            double *ref = malloc((n * w + 1) * sizeof(double));
            for (size_t e = 0; e < n; e++) {
                dim_t c[4];
                coords(od, (dim_t)e, c);
                int i = 0;
                while (c[dim] >= di[i][dim]) {
                    c[dim] -= di[i][dim];
                    i++;
                }
                for (size_t p = 0; p < w; p++)
                    ref[e * w + p] = v[i][lin(di[i], c) * w + p];
            }
            double *g = em_test_read(o, NULL);
            dim_t gd[4];
            CHECK_AF(af_get_dims(&gd[0], &gd[1], &gd[2], &gd[3], o));
            CHECK(memcmp(gd, od, sizeof(od)) == 0);
            if (g) CHECK_CLOSE(g, ref, n * w, 0, 0);
            free(g);
            free(ref);
            af_release_array(o);
            for (int i = 0; i < nin; i++) {
                free(v[i]);
                af_release_array(in[i]);
                af_release_array(forms[i]);
            }
        }
    }
}

TEST(shape_join_many_inputs) {
    /* More inputs than one lazy select takes: each is written into its window of the output
     * (evaluated, lazy and view inputs alike), along every dimension. */
    for (int dim = 0; dim < 4; dim++) {
        enum { N = 20 };
        af_array in[N], forms[N];
        double *v[N];
        dim_t d[4] = {3, 2, 2, 1}, di[N][4], od[4];
        memcpy(od, d, sizeof(od));
        od[dim] = 0;
        for (int i = 0; i < N; i++) {
            memcpy(di[i], d, sizeof(d));
            di[i][dim] = 1 + i % 3;
            od[dim] += di[i][dim];
            in[i] = rand_array(s16, di[i], &v[i]);
            forms[i] = input_form(in[i], di[i], i % NFORMS);
        }
        af_array o = NULL;
        CHECK_AF(af_join_many(&o, dim, N, forms));
        size_t n = (size_t)elems(od);
        double *ref = malloc((n + 1) * sizeof(double));
        for (size_t e = 0; e < n; e++) {
            dim_t c[4];
            coords(od, (dim_t)e, c);
            int i = 0;
            while (c[dim] >= di[i][dim])
                c[dim] -= di[i][dim], i++;
            ref[e] = v[i][lin(di[i], c)];
        }
        double *g = em_test_read(o, NULL);
        if (g) CHECK_CLOSE(g, ref, n, 0, 0);
        free(g);
        free(ref);
        af_release_array(o);
        for (int i = 0; i < N; i++) {
            free(v[i]);
            af_release_array(in[i]);
            af_release_array(forms[i]);
        }
    }
}

TEST(shape_join_empty_and_errors) {
    dim_t d[4] = {3, 4, 1, 1}, d2[4] = {3, 5, 1, 1};
    double *va, *vb;
    af_array a = rand_array(f32, d, &va), b = rand_array(f32, d2, &vb), e = NULL, o = NULL;
    const dim_t z[1] = {0};
    CHECK_AF(af_create_handle(&e, 1, z, f32));
    /* An empty input gives the other one. */
    CHECK_AF(af_join(&o, 0, a, e));
    dim_t od[4];
    CHECK_AF(af_get_dims(&od[0], &od[1], &od[2], &od[3], o));
    CHECK(od[0] == 3 && od[1] == 4);
    af_release_array(o);
    CHECK_AF(af_join(&o, 0, e, b));
    CHECK_AF(af_get_dims(&od[0], &od[1], &od[2], &od[3], o));
    CHECK(od[0] == 3 && od[1] == 5);
    af_release_array(o);
    af_array many[4] = {e, a, e, b};
    CHECK_AF(af_join_many(&o, 1, 4, many));
    CHECK_AF(af_get_dims(&od[0], &od[1], &od[2], &od[3], o));
    CHECK(od[0] == 3 && od[1] == 9);
    af_release_array(o);
    af_array ee[2] = {e, e};
    CHECK_AF(af_join_many(&o, 1, 2, ee));
    dim_t n = -1;
    CHECK_AF(af_get_elements(&n, o));
    CHECK(n == 0);
    af_release_array(o);
    CHECK_AF(af_join_many(&o, 7, 1, many + 1)); /* one array: returned, dim not looked at */
    af_release_array(o);
    /* Errors. */
    CHECK_ERR(af_join(&o, 0, a, b), AF_ERR_SIZE);
    CHECK_ERR(af_join(&o, 4, a, a), AF_ERR_ARG);
    CHECK_ERR(af_join(&o, -1, a, a), AF_ERR_ARG);
    af_array c = NULL;
    CHECK_AF(af_cast(&c, a, f64));
    CHECK_ERR(af_join(&o, 0, a, c), AF_ERR_ARG);
    af_array mixed[3] = {a, c, a};
    CHECK_ERR(af_join_many(&o, 1, 3, mixed), AF_ERR_ARG);
    af_array bad[2] = {a, b};
    CHECK_ERR(af_join_many(&o, 0, 2, bad), AF_ERR_SIZE);
    CHECK_ERR(af_join_many(&o, 0, 2, NULL), AF_ERR_ARG);
    CHECK_ERR(af_join_many(&o, 0, 0, bad), AF_ERR_ARG);
    CHECK_ERR(af_join(NULL, 0, a, a), AF_ERR_ARG);
    af_release_array(c);
    af_release_array(e);
    af_release_array(a);
    af_release_array(b);
    free(va);
    free(vb);
}

/* ---------------------------------------------------------------------------------------------
 * pad
 * ------------------------------------------------------------------------------------------- */

typedef struct {
    const dim_t *d;
    dim_t lo[4];
    af_border_type bt;
} pad_ctx;
static bool map_pad(const void *p, const dim_t oc[4], dim_t ic[4], bool *one) {
    const pad_ctx *c = p;
    (void)one;
    for (int k = 0; k < 4; k++) {
        dim_t n = c->d[k], i = oc[k] - c->lo[k];
        if (i >= 0 && i < n) {
            ic[k] = i;
            continue;
        }
        switch (c->bt) {
        case AF_PAD_ZERO:
            return false;
        case AF_PAD_CLAMP_TO_EDGE:
            ic[k] = i < 0 ? 0 : n - 1;
            break;
        case AF_PAD_PERIODIC:
            ic[k] = ((i % n) + n) % n;
            break;
        default: /* AF_PAD_SYM, ArrayFire's reflection (the edge repeats) */
            ic[k] = i < 0 ? (-i - 1) % n : n - 1 - i % n;
            break;
        }
    }
    return true;
}

TEST(shape_pad) {
    const af_border_type bts[4] = {AF_PAD_ZERO, AF_PAD_SYM, AF_PAD_CLAMP_TO_EDGE, AF_PAD_PERIODIC};
    for (size_t ti = 0; ti < NTYPES; ti++) {
        af_dtype t = all_types[ti];
        for (int bi = 0; bi < 4; bi++) {
            dim_t d[4];
            rand_dims(d, 5);
            double *v;
            af_array a = rand_array(t, d, &v);
            af_array x = input_form(a, d, (int)(ti % NFORMS));
            pad_ctx c = {d, {0, 0, 0, 0}, bts[bi]};
            dim_t hi[4], od[4];
            unsigned nb = 1 + (unsigned)(em_test_rand_u64() % 4),
                     ne = 1 + (unsigned)(em_test_rand_u64() % 4);
            for (int k = 0; k < 4; k++) {
                /* Pads up to twice the size, so periodic and symmetric borders wrap. */
                c.lo[k] = k < (int)nb ? (dim_t)(em_test_rand_u64() % 9) : 0;
                hi[k] = k < (int)ne ? (dim_t)(em_test_rand_u64() % 9) : 0;
                od[k] = d[k] + c.lo[k] + hi[k];
            }
            af_array o = NULL;
            CHECK_AF(af_pad(&o, x, nb, c.lo, ne, hi, bts[bi]));
            check_map(o, t, od, v, d, map_pad, &c, "af_pad");
            af_release_array(o);
            af_release_array(x);
            af_release_array(a);
            free(v);
        }
    }
}

TEST(shape_pad_errors) {
    dim_t d[4] = {3, 2, 1, 1}, p[4] = {1, 1, 0, 0}, neg[2] = {1, -1};
    double *v;
    af_array a = rand_array(f32, d, &v), o = NULL;
    CHECK_ERR(af_pad(&o, a, 0, p, 2, p, AF_PAD_ZERO), AF_ERR_SIZE);
    CHECK_ERR(af_pad(&o, a, 2, p, 5, p, AF_PAD_ZERO), AF_ERR_SIZE);
    CHECK_ERR(af_pad(&o, a, 2, NULL, 2, p, AF_PAD_ZERO), AF_ERR_ARG);
    CHECK_ERR(af_pad(&o, a, 2, p, 2, NULL, AF_PAD_ZERO), AF_ERR_ARG);
    CHECK_ERR(af_pad(&o, a, 2, p, 2, p, (af_border_type)7), AF_ERR_ARG);
    CHECK_ERR(af_pad(&o, a, 2, neg, 2, p, AF_PAD_SYM), AF_ERR_SIZE);
    CHECK_ERR(af_pad(&o, a, 2, p, 2, neg, AF_PAD_SYM), AF_ERR_SIZE);
    CHECK_ERR(af_pad(NULL, a, 2, p, 2, p, AF_PAD_ZERO), AF_ERR_ARG);
    af_release_array(a);
    free(v);
}

/* ---------------------------------------------------------------------------------------------
 * diag_create, diag_extract, lower, upper
 * ------------------------------------------------------------------------------------------- */

typedef struct {
    int num;
} diag_ctx;
static bool map_diag_create(const void *p, const dim_t oc[4], dim_t ic[4], bool *one) {
    const diag_ctx *c = p;
    (void)one;
    if (oc[1] - oc[0] != c->num) return false;
    ic[0] = c->num > 0 ? oc[0] : oc[1];
    ic[1] = oc[2], ic[2] = 0, ic[3] = 0;
    return true;
}
static bool map_diag_extract(const void *p, const dim_t oc[4], dim_t ic[4], bool *one) {
    const diag_ctx *c = p;
    (void)one;
    ic[0] = oc[0] + (c->num < 0 ? -c->num : 0);
    ic[1] = oc[0] + (c->num > 0 ? c->num : 0);
    ic[2] = oc[2], ic[3] = oc[3];
    return true;
}
typedef struct {
    bool upper, unit;
} tri_ctx;
static bool map_tri(const void *p, const dim_t oc[4], dim_t ic[4], bool *one) {
    const tri_ctx *c = p;
    memcpy(ic, oc, 4 * sizeof(dim_t));
    if (c->unit && oc[0] == oc[1]) {
        *one = true;
        return false;
    }
    return c->upper ? oc[1] >= oc[0] : oc[0] >= oc[1];
}

TEST(shape_diag) {
    for (size_t ti = 0; ti < NTYPES; ti++) {
        af_dtype t = all_types[ti];
        for (int num = -3; num <= 3; num++) {
            /* create: a vector or a batch of column vectors */
            dim_t d[4] = {1 + (dim_t)(em_test_rand_u64() % 6), 1 + (dim_t)(ti % 3), 1, 1};
            double *v;
            af_array a = rand_array(t, d, &v);
            af_array x = input_form(a, d, num & 1), o = NULL;
            CHECK_AF(af_diag_create(&o, x, num));
            dim_t S = d[0] + (num < 0 ? -num : num), od[4] = {S, S, d[1], 1};
            diag_ctx c = {num};
            check_map(o, t, od, v, d, map_diag_create, &c, "af_diag_create");
            af_release_array(o);
            af_release_array(x);
            af_release_array(a);
            free(v);
            /* extract: any matrix batch with |num| <= min(d0, d1) */
            dim_t e[4] = {3 + (dim_t)(em_test_rand_u64() % 4), 3 + (dim_t)(em_test_rand_u64() % 4),
                          1 + (dim_t)(ti % 2), 1 + (dim_t)(num & 1)};
            a = rand_array(t, e, &v);
            x = input_form(a, e, (int)((ti + 1) % NFORMS));
            CHECK_AF(af_diag_extract(&o, x, num));
            dim_t mn = e[0] < e[1] ? e[0] : e[1];
            dim_t oe[4] = {mn - (num < 0 ? -num : num), 1, e[2], e[3]};
            check_map(o, t, oe, v, e, map_diag_extract, &c, "af_diag_extract");
            af_release_array(o);
            af_release_array(x);
            af_release_array(a);
            free(v);
        }
    }
}

TEST(shape_diag_errors) {
    dim_t d[4] = {3, 2, 2, 1}, vd[4] = {4, 1, 1, 1};
    double *v, *w;
    af_array a = rand_array(f32, d, &v), b = rand_array(f32, vd, &w), o = NULL;
    CHECK_ERR(af_diag_create(&o, a, 0), AF_ERR_SIZE);  /* 3-D */
    CHECK_ERR(af_diag_extract(&o, b, 0), AF_ERR_SIZE); /* a vector */
    CHECK_ERR(af_diag_extract(&o, a, 3), AF_ERR_ARG);  /* past the matrix */
    CHECK_ERR(af_diag_create(NULL, b, 0), AF_ERR_ARG);
    /* |num| == min(d0, d1) is an empty diagonal. */
    CHECK_AF(af_diag_extract(&o, a, -2));
    dim_t n = -1;
    CHECK_AF(af_get_elements(&n, o));
    CHECK(n == 0);
    af_release_array(o);
    af_release_array(a);
    af_release_array(b);
    free(v);
    free(w);
}

TEST(shape_lower_upper) {
    for (size_t ti = 0; ti < NTYPES; ti++) {
        af_dtype t = all_types[ti];
        for (int rep = 0; rep < 4; rep++) {
            dim_t d[4];
            rand_dims(d, 7);
            double *v;
            af_array a = rand_array(t, d, &v);
            af_array x = input_form(a, d, rep % NFORMS);
            for (int upper = 0; upper < 2; upper++)
                for (int unit = 0; unit < 2; unit++) {
                    af_array o = NULL;
                    if (upper)
                        CHECK_AF(af_upper(&o, x, unit));
                    else
                        CHECK_AF(af_lower(&o, x, unit));
                    tri_ctx c = {upper, unit};
                    check_map(o, t, d, v, d, map_tri, &c, upper ? "af_upper" : "af_lower");
                    af_release_array(o);
                }
            af_release_array(x);
            af_release_array(a);
            free(v);
        }
    }
}

/* ---------------------------------------------------------------------------------------------
 * transpose
 * ------------------------------------------------------------------------------------------- */

typedef struct {
    int unused;
} tr_ctx;
static bool map_tr(const void *p, const dim_t oc[4], dim_t ic[4], bool *one) {
    (void)p;
    (void)one;
    ic[0] = oc[1], ic[1] = oc[0], ic[2] = oc[2], ic[3] = oc[3];
    return true;
}

/* Conjugates the imaginary parts of a reference in place. */
static void conj_vals(double *x, size_t n) {
    for (size_t i = 0; i < n; i++)
        x[2 * i + 1] = -x[2 * i + 1];
}

TEST(shape_transpose) {
    const dim_t shapes[][4] = {{5, 3, 1, 1},  {33, 65, 1, 1}, {1, 7, 1, 1}, {7, 1, 3, 1},
                               {31, 2, 3, 2}, {64, 64, 1, 1}, {1, 1, 1, 1}, {40, 70, 2, 1}};
    for (size_t ti = 0; ti < NTYPES; ti++) {
        af_dtype t = all_types[ti];
        for (size_t si = 0; si < sizeof(shapes) / sizeof(shapes[0]); si++) {
            const dim_t *d = shapes[si];
            double *v;
            af_array a = rand_array(t, d, &v);
            dim_t od[4] = {d[1], d[0], d[2], d[3]};
            for (int form = 0; form < NFORMS; form++) {
                af_array x = input_form(a, d, form);
                for (int conj = 0; conj < 2; conj++) {
                    af_array o = NULL;
                    CHECK_AF(af_transpose(&o, x, conj));
                    tr_ctx c = {0};
                    if (conj && is_cplx(t)) {
                        double *vc = malloc(((size_t)elems(d) * 2 + 1) * sizeof(double));
                        memcpy(vc, v, (size_t)elems(d) * 2 * sizeof(double));
                        conj_vals(vc, (size_t)elems(d));
                        check_map(o, t, od, vc, d, map_tr, &c, "af_transpose conj");
                        free(vc);
                    } else {
                        check_map(o, t, od, v, d, map_tr, &c, "af_transpose");
                    }
                    af_release_array(o);
                }
                af_release_array(x);
            }
            af_release_array(a);
            free(v);
        }
    }
}

TEST(shape_transpose_constant) {
    /* A lazy constant transposes to a constant; conjugation flips its imaginary part. */
    const dim_t d[2] = {3, 5};
    af_array c = NULL, t = NULL;
    CHECK_AF(af_constant_complex(&c, 1.5, -2.0, 2, d, c32));
    CHECK_AF(af_transpose(&t, c, true));
    dim_t g[4];
    CHECK_AF(af_get_dims(&g[0], &g[1], &g[2], &g[3], t));
    CHECK(g[0] == 5 && g[1] == 3);
    double *v = em_test_read(t, NULL);
    for (int i = 0; v && i < 15; i++)
        CHECK(v[2 * i] == 1.5 && v[2 * i + 1] == 2.0);
    free(v);
    af_release_array(t);
    af_release_array(c);
}

TEST(shape_transpose_inplace) {
    const dim_t shapes[][4] = {{5, 5, 1, 1}, {33, 33, 2, 1}, {64, 64, 1, 2}, {1, 1, 3, 1}};
    for (size_t ti = 0; ti < NTYPES; ti++) {
        af_dtype t = all_types[ti];
        for (size_t si = 0; si < sizeof(shapes) / sizeof(shapes[0]); si++) {
            const dim_t *d = shapes[si];
            for (int conj = 0; conj < 2; conj++) {
                double *v;
                af_array a = rand_array(t, d, &v), keep = NULL;
                /* A second owner of the buffer keeps the old values (copy on write). */
                CHECK_AF(af_retain_array(&keep, a));
                CHECK_AF(af_transpose_inplace(a, conj));
                tr_ctx c = {0};
                bool cj = conj && is_cplx(t) && d[0] > 1; /* 1 x 1 is left as it is */
                if (cj) {
                    double *vc = malloc(((size_t)elems(d) * 2 + 1) * sizeof(double));
                    memcpy(vc, v, (size_t)elems(d) * 2 * sizeof(double));
                    conj_vals(vc, (size_t)elems(d));
                    check_map(a, t, d, vc, d, map_tr, &c, "af_transpose_inplace conj");
                    free(vc);
                } else {
                    check_map(a, t, d, v, d, map_tr, &c, "af_transpose_inplace");
                }
                double *k = em_test_read(keep, NULL);
                if (k) CHECK_CLOSE(k, v, (size_t)elems(d) * width(t), 0, 0);
                free(k);
                af_release_array(keep);
                af_release_array(a);
                free(v);
            }
        }
    }
    /* Views and lazy arrays: the view is made unique first, its parent keeps its values. */
    for (int form = 1; form < NFORMS; form++) {
        dim_t sq[4] = {6, 6, 2, 1};
        double *v;
        af_array a = rand_array(c64, sq, &v), x = input_form(a, sq, form);
        CHECK_AF(af_transpose_inplace(x, true));
        double *vc = malloc((size_t)elems(sq) * 2 * sizeof(double));
        memcpy(vc, v, (size_t)elems(sq) * 2 * sizeof(double));
        conj_vals(vc, (size_t)elems(sq));
        tr_ctx c = {0};
        check_map(x, c64, sq, vc, sq, map_tr, &c, "af_transpose_inplace of a view");
        double *k = em_test_read(a, NULL);
        if (k) CHECK_CLOSE(k, v, (size_t)elems(sq) * 2, 0, 0);
        free(k);
        free(vc);
        free(v);
        af_release_array(x);
        af_release_array(a);
    }
    dim_t d[4] = {3, 4, 1, 1};
    double *v;
    af_array a = rand_array(f32, d, &v);
    CHECK_ERR(af_transpose_inplace(a, false), AF_ERR_SIZE);
    CHECK_ERR(af_transpose_inplace(NULL, false), AF_ERR_ARG);
    af_array o = NULL;
    CHECK_ERR(af_transpose(NULL, a, false), AF_ERR_ARG);
    CHECK_ERR(af_transpose(&o, NULL, false), AF_ERR_ARG);
    af_release_array(a);
    free(v);
}

/* ---------------------------------------------------------------------------------------------
 * moddims and flat on views, and compositions
 * ------------------------------------------------------------------------------------------- */

static bool map_linear(const void *p, const dim_t oc[4], dim_t ic[4], bool *one) {
    /* oc is a coordinate of the new dims; ic the coordinate of the same linear index in the
     * old dims (ctx). */
    const dim_t *od = ((const dim_t *const *)p)[0], *id = ((const dim_t *const *)p)[1];
    (void)one;
    coords(id, lin(od, oc), ic);
    return true;
}

TEST(shape_moddims_views) {
    for (size_t ti = 0; ti < NTYPES; ti++) {
        af_dtype t = all_types[ti];
        dim_t d[4] = {4, 3, 2, 3};
        double *v;
        af_array a = rand_array(t, d, &v);
        for (int form = 0; form < NFORMS; form++) {
            af_array x = input_form(a, d, form), o = NULL;
            const dim_t nd[][4] = {{12, 6, 1, 1}, {4, 18, 1, 1}, {2, 2, 3, 6}, {72, 1, 1, 1}};
            for (int k = 0; k < 4; k++) {
                CHECK_AF(af_moddims(&o, x, 4, nd[k]));
                const dim_t *ctx[2] = {nd[k], d};
                check_map(o, t, nd[k], v, d, map_linear, ctx, "af_moddims");
                af_release_array(o);
            }
            CHECK_AF(af_flat(&o, x));
            const dim_t fd[4] = {72, 1, 1, 1};
            const dim_t *ctx[2] = {fd, d};
            check_map(o, t, fd, v, d, map_linear, ctx, "af_flat");
            af_release_array(o);
            af_release_array(x);
        }
        af_release_array(a);
        free(v);
    }
}

TEST(shape_moddims_view_shares) {
    /* A view whose merged dims are contiguous within themselves stays a view of the same
     * buffer: (4,3,2,3) reordered to (4,3,3,2) has strides (1,24,4,12); dims (4,3,6) walk it
     * with strides (1,24,4). A view that cannot be walked that way is gathered. */
    dim_t d[4] = {4, 3, 2, 3};
    double *v;
    af_array a = rand_array(f32, d, &v), r = NULL, m = NULL;
    CHECK_AF(af_reorder(&r, a, 0, 3, 1, 2));
    const dim_t nd[3] = {4, 3, 6}, rd[4] = {4, 3, 3, 2};
    CHECK_AF(af_moddims(&m, r, 3, nd));
    dim_t st[4] = {0, 0, 0, 0};
    af_err e = af_get_strides(&st[0], &st[1], &st[2], &st[3], m);
    if (e == AF_SUCCESS) CHECK(st[0] == 1 && st[1] == 24 && st[2] == 4);
    const dim_t nd4[4] = {4, 3, 6, 1};
    const dim_t *ctx[2] = {nd4, rd};
    /* Reference: the reordered values in their column-major order, moddimmed. */
    double *rv = em_test_read(r, NULL);
    check_map(m, f32, nd4, rv, rd, map_linear, ctx, "af_moddims of a view");
    af_release_array(m);
    const dim_t gd[2] = {12, 6};
    CHECK_AF(af_moddims(&m, r, 2, gd));
    const dim_t gd4[4] = {12, 6, 1, 1};
    const dim_t *ctx2[2] = {gd4, rd};
    check_map(m, f32, gd4, rv, rd, map_linear, ctx2, "af_moddims of a view, gathered");
    af_release_array(m);
    free(rv);
    af_release_array(r);
    af_release_array(a);
    free(v);
}

TEST(shape_compose) {
    /* Re-indexings of re-indexings, then arithmetic: tile(flip(x)), shift(tile(x)),
     * pad(reorder(x)), each checked against the composition of references. */
    dim_t d[4] = {5, 3, 2, 1};
    double *v;
    af_array x = rand_array(f64, d, &v), f = NULL, tl = NULL, sh = NULL, s = NULL;
    CHECK_AF(af_flip(&f, x, 0));
    CHECK_AF(af_tile(&tl, f, 2, 1, 1, 3));
    CHECK_AF(af_shift(&sh, tl, 3, -1, 0, 1));
    CHECK_AF(af_add(&s, sh, sh, false));
    dim_t od[4] = {10, 3, 2, 3};
    double *g = em_test_read(s, NULL);
    for (dim_t e = 0; e < elems(od) && g; e++) {
        dim_t c[4], ic[4];
        coords(od, e, c);
        const int sv[4] = {3, -1, 0, 1};
        for (int k = 0; k < 4; k++)
            c[k] = ((c[k] - sv[k]) % od[k] + od[k]) % od[k]; /* shift */
        for (int k = 0; k < 4; k++)
            ic[k] = c[k] % d[k];  /* tile */
        ic[0] = d[0] - 1 - ic[0]; /* flip */
        double r = v[lin(d, ic)] * 2;
        CHECK(g[e] == r || (isnan(g[e]) && isnan(r)));
    }
    free(g);
    af_release_array(s);
    af_release_array(sh);
    af_release_array(tl);
    af_release_array(f);
    af_release_array(x);
    free(v);
}
