/* Runs kernels that jit_gen.c generates on the host (shim.h: every thread of the grid in turn)
 * and checks each element against a reference computed here from the leaves' strides and index
 * transforms (em_xf_index). Covers the run kernel (flips, stepped views, tiles, shifts, pads,
 * broadcasts, general strides, generators, two outputs, dense and strided windows, vector flags
 * on and off, 32- and 64-bit indexing, grids smaller than the work) and the linear kernel.
 * Usage: jit_check <scratch dir> [name filter]; run.sh builds and runs it. */
#define _GNU_SOURCE
#include "backend/cuda/jit_gen.h"
#include "core/jit.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fails, checks, compiles;
static const char *dir, *filter, *shim;

typedef void (*run_fn)(const void *, unsigned, unsigned);

static run_fn compile(const char *src, void **handle) {
    char cpath[512], so[512], cmd[2048];
    snprintf(cpath, sizeof(cpath), "%s/k%d.cpp", dir, compiles);
    snprintf(so, sizeof(so), "%s/k%d.so", dir, compiles);
    compiles++;
    FILE *f = fopen(cpath, "w");
    fputs(src, f);
    fputs(
        "\nextern \"C\" void em_host_run(const void *params, unsigned grid, unsigned block) {\n"
        "    em_params p;\n    memcpy(&p, params, sizeof p);\n"
        "    gridDim.x = grid; gridDim.y = gridDim.z = 1; blockDim.x = block; blockDim.y = "
        "blockDim.z = 1;\n"
        "    for (unsigned b = 0; b < grid; b++)\n        for (unsigned t = 0; t < block; t++) {\n"
        "            blockIdx.x = b; threadIdx.x = t; em_jit(p);\n        }\n}\n",
        f);
    fclose(f);
    snprintf(cmd, sizeof(cmd),
             "g++ -std=c++17 -O1 -w -fno-strict-aliasing -fsanitize=alignment "
             "-fno-sanitize-recover=all -shared -fPIC -include %s -o %s %s",
             shim, so, cpath);
    if (system(cmd) != 0) {
        fprintf(stderr, "compile failed: %s\n", cpath);
        exit(1);
    }
    *handle = dlopen(so, RTLD_NOW | RTLD_LOCAL);
    if (!*handle) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        exit(1);
    }
    return (run_fn)dlsym(*handle, "em_host_run");
}

/* A leaf description for the reference. */
typedef struct {
    em_buf *buf;
    dim_t strides[4], offset;
    int xm[4];
    dim_t xl[4], xs[4];
} leafdesc;

static em_buf *mkbuf(size_t bytes, int misalign) {
    em_buf *b = calloc(1, sizeof(*b));
    atomic_store(&b->refs, 1 << 20);
    char *p = aligned_alloc(64, bytes + 64);
    b->ptr = p + misalign;
    b->bytes = bytes;
    return b;
}

static em_node *mkleaf(const leafdesc *d, af_dtype t, const dim_t dims[4]) {
    em_node *n = em_node_buf(d->buf, t, dims, d->strides, d->offset);
    for (int k = 0; k < 4; k++)
        if (d->xm[k]) em_node_buf_xform(n, k, d->xm[k], d->xl[k], d->xs[k]);
    return n;
}

/* Reference value of a leaf as double (real part), and presence (ZERO -> 0). */
static double leafval(const leafdesc *d, af_dtype t, const dim_t c[4]) {
    dim_t off = d->offset;
    for (int k = 0; k < 4; k++) {
        dim_t i = c[k];
        if (d->xm[k]) {
            i = em_xf_index(d->xm[k], c[k], d->xl[k], d->xs[k]);
            if (d->xm[k] == EM_XF_ZERO && (i < 0 || i >= d->xl[k])) return 0;
        }
        off += i * d->strides[k];
    }
    char *p = d->buf->ptr;
    switch (t) {
    case f32:
        return ((float *)p)[off];
    case f64:
        return ((double *)p)[off];
    case u8:
        return ((unsigned char *)p)[off];
    case c64:
        return ((double *)p)[2 * off];
    case c32:
        return ((float *)p)[2 * off];
    case s16:
        return ((short *)p)[off];
    default:
        abort();
    }
}

static double outval(void *p, af_dtype t, dim_t off) {
    switch (t) {
    case f32:
        return ((float *)p)[off];
    case f64:
        return ((double *)p)[off];
    case u8:
        return ((unsigned char *)p)[off];
    case c64:
        return ((double *)p)[2 * off];
    case c32:
        return ((float *)p)[2 * off];
    case s16:
        return ((short *)p)[off];
    default:
        abort();
    }
}

static size_t esz(af_dtype t) {
    return t == f32 ? 4 : t == f64 ? 8 : t == u8 ? 1 : t == c64 ? 16 : t == c32 ? 8 : 2;
}

static void fill(em_buf *b, af_dtype t, size_t n) {
    for (size_t i = 0; i < n; i++) {
        int v = (int)((i * 7 + 3) % 50);
        switch (t) {
        case f32:
            ((float *)b->ptr)[i] = (float)v;
            break;
        case f64:
            ((double *)b->ptr)[i] = v;
            break;
        case u8:
            ((unsigned char *)b->ptr)[i] = (unsigned char)v;
            break;
        case c64:
            ((double *)b->ptr)[2 * i] = v, ((double *)b->ptr)[2 * i + 1] = -v;
            break;
        case c32:
            ((float *)b->ptr)[2 * i] = (float)v, ((float *)b->ptr)[2 * i + 1] = (float)-v;
            break;
        case s16:
            ((short *)b->ptr)[i] = (short)v;
            break;
        default:
            abort();
        }
    }
}

/* One case: nl leaves summed (plus RANGE along rdim if rdim >= 0), into a dense output or a
 * window (wstrides, woffset). */
static void run_case(const char *name, af_dtype t, const dim_t dims[4], leafdesc *L, int nl,
                     int rdim, const dim_t *wstrides, dim_t woffset, int out_misalign, bool force64,
                     unsigned grid_cap) {
    if (filter && !strstr(name, filter)) return;
    em_node *root = NULL;
    for (int i = 0; i < nl; i++) {
        em_node *x = mkleaf(&L[i], t, dims);
        if (!root) {
            root = x;
        } else {
            em_node *k[2] = {root, x};
            root = em_node_op(EM_OP_ADD, t, dims, k);
        }
    }
    if (rdim >= 0) {
        em_node *r = em_node_new(EM_OP_RANGE, t, dims);
        r->nleaf = 1;
        r->iparam = rdim;
        em_node *k[2] = {root, r};
        root = em_node_op(EM_OP_ADD, t, dims, k);
    }
    em_jit_prog prog;
    if (em_jit_prog_build(&root, 1, &prog)) abort();
    em_cu_jit_shape s;
    em_cu_jit_shape_of(&prog, &s);
    if (wstrides) em_cu_jit_shape_window(&s, wstrides);
    if (force64) s.idx64 = true;
    char *src = em_cu_jit_source(&prog, &s);
    void *h;
    run_fn fn = compile(src, &h);
    free(src);
    dim_t n = dims[0] * dims[1] * dims[2] * dims[3];
    size_t es = esz(t);
    /* Output buffer. */
    dim_t ospan = n;
    if (wstrides) {
        ospan = woffset + 1;
        for (int k = 0; k < 4; k++)
            ospan += (dims[k] - 1) * (wstrides[k] < 0 ? -wstrides[k] : wstrides[k]);
        ospan += 64;
    }
    char *obase = aligned_alloc(64, (size_t)ospan * es + 128);
    memset(obase, 0xAB, (size_t)ospan * es + 128);
    char *out = obase + out_misalign;
    void *outs[1] = {wstrides ? out + woffset * es : out};
    bool runs = em_cu_jit_runs(&prog, &s);
    int flags =
        runs ? em_cu_jit_run_flags(&prog, &s, outs, wstrides) : em_cu_jit_vec_ok(&prog, &s, outs);
    _Alignas(16) unsigned char params[8192];
    size_t size = em_cu_jit_pack_flags(&prog, &s, outs, flags, wstrides, params, sizeof(params));
    if (!size) abort();
    dim_t work = runs ? em_cu_jit_runs_total(&prog, &s) : (flags ? n / s.vec + n % s.vec : n);
    unsigned grid = (unsigned)((work + 255) / 256);
    if (grid > grid_cap) grid = grid_cap;
    if (grid < 1) grid = 1;
    fn(params, grid, 256);
    /* Check. */
    int bad = 0;
    dim_t c[4];
    for (c[3] = 0; c[3] < dims[3]; c[3]++)
        for (c[2] = 0; c[2] < dims[2]; c[2]++)
            for (c[1] = 0; c[1] < dims[1]; c[1]++)
                for (c[0] = 0; c[0] < dims[0]; c[0]++) {
                    double e = 0;
                    for (int i = 0; i < nl; i++)
                        e += leafval(&L[i], t, c);
                    if (rdim >= 0) e += (double)c[rdim];
                    if (t == u8) e = (double)((long long)e & 255);
                    dim_t off = wstrides
                                    ? woffset + c[0] * wstrides[0] + c[1] * wstrides[1] +
                                          c[2] * wstrides[2] + c[3] * wstrides[3]
                                    : c[0] + dims[0] * (c[1] + dims[1] * (c[2] + dims[2] * c[3]));
                    double g = outval(out, t, off);
                    if (g != e) {
                        if (bad < 5)
                            fprintf(stderr, "  %s: at (%lld %lld %lld %lld) got %g want %g\n", name,
                                    (long long)c[0], (long long)c[1], (long long)c[2],
                                    (long long)c[3], g, e);
                        bad++;
                    }
                }
    /* Window: nothing outside it written. */
    if (wstrides) {
        size_t written = 0;
        for (dim_t i = 0; i < ospan; i++) {
            unsigned char *q = (unsigned char *)out + i * es;
            bool sentinel = true;
            for (size_t j = 0; j < es; j++)
                sentinel = sentinel && q[j] == 0xAB;
            if (!sentinel) written++;
        }
        if ((dim_t)written > n) {
            fprintf(stderr, "  %s: %zu elements written, window has %lld\n", name, written,
                    (long long)n);
            bad++;
        }
    }
    checks++;
    printf("%-40s runs=%d run=%d flags=%#x idx64=%d grid=%u %s\n", name, runs, s.run, flags,
           s.idx64, grid, bad ? "FAIL" : "ok");
    if (bad) fails++;
    free(obase);
    em_jit_prog_free(&prog);
    em_node_release(root);
    dlclose(h);
}

/* Two outputs: a flipped leaf plus a tiled one, and the tiled one alone. */
static void run_two(af_dtype t, dim_t D0, dim_t D1) {
    char name[64];
    snprintf(name, sizeof(name), "two outputs t%d d0=%lld", t, (long long)D0);
    if (filter && !strstr(name, filter)) return;
    size_t es = esz(t);
    dim_t dims[4] = {D0, D1, 1, 1};
    em_buf *b = mkbuf((size_t)(D0 * D1) * es, 0);
    fill(b, t, (size_t)(D0 * D1));
    leafdesc F = {.buf = b, .strides = {-1, D0, 0, 0}, .offset = D0 - 1};
    leafdesc T = {
        .buf = b, .strides = {1, D0, 0, 0}, .xm = {EM_XF_WRAP, 0, 0, 0}, .xl = {D0 / 2, 1, 1, 1}};
    em_node *k[2] = {mkleaf(&F, t, dims), mkleaf(&T, t, dims)};
    em_node *roots[2] = {em_node_op(EM_OP_ADD, t, dims, k), mkleaf(&T, t, dims)};
    em_jit_prog prog;
    if (em_jit_prog_build(roots, 2, &prog)) abort();
    em_cu_jit_shape s;
    em_cu_jit_shape_of(&prog, &s);
    char *src = em_cu_jit_source(&prog, &s);
    void *h;
    run_fn fn = compile(src, &h);
    free(src);
    dim_t n = D0 * D1;
    void *outs[2] = {aligned_alloc(64, (size_t)n * es + 64),
                     aligned_alloc(64, (size_t)n * es + 64)};
    int flags = em_cu_jit_run_flags(&prog, &s, outs, NULL);
    _Alignas(16) unsigned char params[8192];
    if (!em_cu_jit_pack_flags(&prog, &s, outs, flags, NULL, params, sizeof(params))) abort();
    fn(params, (unsigned)((em_cu_jit_runs_total(&prog, &s) + 255) / 256), 256);
    int bad = 0;
    dim_t c[4] = {0, 0, 0, 0};
    for (c[1] = 0; c[1] < D1; c[1]++)
        for (c[0] = 0; c[0] < D0; c[0]++) {
            double e0 = leafval(&F, t, c) + leafval(&T, t, c), e1 = leafval(&T, t, c);
            if (t == u8) e0 = (double)((long long)e0 & 255);
            if (outval(outs[0], t, c[0] + D0 * c[1]) != e0 ||
                outval(outs[1], t, c[0] + D0 * c[1]) != e1)
                bad++;
        }
    checks++;
    printf("%-40s flags=%#x %s\n", name, flags, bad ? "FAIL" : "ok");
    if (bad) fails++;
    free(outs[0]), free(outs[1]);
    em_jit_prog_free(&prog);
    em_node_release(roots[0]), em_node_release(roots[1]);
    dlclose(h);
}

int main(int argc, char **argv) {
    dir = argc > 1 ? argv[1] : ".";
    filter = argc > 2 ? argv[2] : NULL;
    shim = getenv("EM_HOST_SHIM_H") ? getenv("EM_HOST_SHIM_H") : "shim.h";
    {
        /* Larger: many blocks, a capped grid (grid-stride), d0 not a multiple of the run. */
        dim_t D0 = 1003, D1 = 300;
        em_buf *b = mkbuf((size_t)(D0 * D1) * 4, 0);
        fill(b, f32, (size_t)(D0 * D1));
        leafdesc L = {.buf = b, .strides = {-1, D0, 0, 0}, .offset = D0 - 1};
        dim_t dims[4] = {D0, D1, 1, 1};
        run_case("big flip f32", f32, dims, &L, 1, 1, NULL, 0, 0, false, 37);
        dim_t E0 = 1000, E1 = 77;
        leafdesc T = {.buf = b,
                      .strides = {1, 1003, 0, 0},
                      .xm = {EM_XF_WRAP, EM_XF_WRAP, 0, 0},
                      .xl = {E0 / 2, E1, 1, 1},
                      .xs = {8, 5, 0, 0}};
        dim_t td[4] = {E0, E1 * 3, 2, 1};
        run_case("big tile f32", f32, td, &T, 1, 0, NULL, 0, 0, false, 1u << 30);
        run_case("big tile f32 x64", f32, td, &T, 1, 2, NULL, 0, 0, true, 100);
    }
    run_two(f32, 64, 5);
    run_two(f32, 10, 7);
    run_two(u8, 64, 5);
    run_two(c64, 6, 3);
    const af_dtype types[6] = {f32, u8, f64, c64, s16, c32};
    for (int ti = 0; ti < 6; ti++) {
        af_dtype t = types[ti];
        size_t es = esz(t);
        char nm[96];
        /* Flip along dim 0 of a d0 x d1 matrix, several d0. */
        const dim_t d0s[5] = {64, 17, 1, 3, 40};
        for (int i = 0; i < 5; i++) {
            dim_t D0 = d0s[i], D1 = 9;
            em_buf *b = mkbuf((size_t)(D0 * D1 * 2) * es, 0);
            fill(b, t, (size_t)(D0 * D1 * 2));
            leafdesc L = {.buf = b, .strides = {-1, D0, D0 * D1, 0}, .offset = D0 - 1};
            dim_t dims[4] = {D0, D1, 2, 1};
            snprintf(nm, sizeof(nm), "flip0 t%d d0=%lld", t, (long long)D0);
            run_case(nm, t, dims, &L, 1, -1, NULL, 0, 0, false, 1u << 30);
            snprintf(nm, sizeof(nm), "flip0 t%d d0=%lld x64 grid2", t, (long long)D0);
            run_case(nm, t, dims, &L, 1, -1, NULL, 0, 0, true, 2);
            snprintf(nm, sizeof(nm), "flip0+range1 t%d d0=%lld misout", t, (long long)D0);
            run_case(nm, t, dims, &L, 1, 1, NULL, 0, (int)es, false, 1u << 30);
        }
        /* Columns with step 2 (and a misaligned offset). */
        for (int mis = 0; mis < 2; mis++) {
            dim_t D0 = 32, D1 = 10;
            em_buf *b = mkbuf((size_t)(D0 * D1 + 8) * es, 0);
            fill(b, t, (size_t)(D0 * D1 + 8));
            leafdesc L = {.buf = b, .strides = {1, 2 * D0, D0 * D1, 0}, .offset = mis};
            dim_t dims[4] = {D0 - mis, D1 / 2, 1, 1};
            snprintf(nm, sizeof(nm), "cols2 t%d off=%d", t, mis);
            run_case(nm, t, dims, &L, 1, -1, NULL, 0, 0, false, 1u << 30);
        }
        /* Tile 2x3 of a view (ld 40) of n0 x n1, n0 in {8, 6, 5}; and a shift. */
        const dim_t n0s[3] = {8, 6, 5};
        for (int i = 0; i < 3; i++) {
            dim_t n0 = n0s[i], n1 = 4, ld = 40;
            em_buf *b = mkbuf((size_t)(ld * n1 + 8) * es, 0);
            fill(b, t, (size_t)(ld * n1 + 8));
            leafdesc L = {.buf = b,
                          .strides = {1, ld, 0, 0},
                          .offset = 0,
                          .xm = {EM_XF_WRAP, EM_XF_WRAP, 0, 0},
                          .xl = {n0, n1, 1, 1}};
            dim_t dims[4] = {2 * n0, 3 * n1, 1, 1};
            snprintf(nm, sizeof(nm), "tile t%d n0=%lld", t, (long long)n0);
            run_case(nm, t, dims, &L, 1, -1, NULL, 0, 0, false, 1u << 30);
            /* Shift by (4, 1) and (3, 2) on a dense n0 x n1. */
            for (int sh = 0; sh < 2; sh++) {
                leafdesc S = {.buf = b,
                              .strides = {1, n0, 0, 0},
                              .offset = 0,
                              .xm = {EM_XF_WRAP, EM_XF_WRAP, 0, 0},
                              .xl = {n0, n1, 1, 1},
                              .xs = {sh ? 3 % n0 : 4 % n0, sh ? 2 : 1, 0, 0}};
                dim_t sd[4] = {n0, n1, 1, 1};
                snprintf(nm, sizeof(nm), "shift%d t%d n0=%lld", sh, t, (long long)n0);
                run_case(nm, t, sd, &S, 1, -1, NULL, 0, 0, false, 1u << 30);
            }
        }
        /* Pads: zero on dims 0 and 1, clamp on dim 0 with mirror on dim 1, general strides. */
        {
            dim_t n0 = 7, n1 = 5;
            em_buf *b = mkbuf((size_t)(n0 * n1) * es, 0);
            fill(b, t, (size_t)(n0 * n1));
            leafdesc Z = {.buf = b,
                          .strides = {1, n0, 0, 0},
                          .xm = {EM_XF_ZERO, EM_XF_ZERO, 0, 0},
                          .xl = {n0, n1, 1, 1},
                          .xs = {-2, -1, 0, 0}};
            dim_t dims[4] = {n0 + 5, n1 + 3, 1, 1};
            snprintf(nm, sizeof(nm), "padzero t%d", t);
            run_case(nm, t, dims, &Z, 1, -1, NULL, 0, 0, false, 1u << 30);
            leafdesc C = {.buf = b,
                          .strides = {1, n0, 0, 0},
                          .xm = {EM_XF_CLAMP, EM_XF_MIRROR, 0, 0},
                          .xl = {n0, n1, 1, 1},
                          .xs = {-2, -3, 0, 0}};
            snprintf(nm, sizeof(nm), "padclamp t%d", t);
            run_case(nm, t, dims, &C, 1, -1, NULL, 0, 0, false, 1u << 30);
            leafdesc Zr = {.buf = b,
                           .strides = {1, n0, 0, 0},
                           .xm = {EM_XF_ZERO, EM_XF_ZERO, 0, 0},
                           .xl = {n0, n1, 1, 1},
                           .xs = {0, -1, 0, 0}};
            dim_t dz[4] = {8, n1 + 3, 1, 1};
            snprintf(nm, sizeof(nm), "padzero-rows t%d", t);
            run_case(nm, t, dz, &Zr, 1, -1, NULL, 0, 0, false, 1u << 30);
            /* Transposed view (stride n0 along dim 0) with a wrap, plus a dim-0 broadcast
             * and a dense leaf and a flipped one. */
            em_buf *b2 = mkbuf(4096 * es, 0);
            fill(b2, t, 4096);
            leafdesc M[4] = {
                {.buf = b,
                 .strides = {n0, 1, 0, 0},
                 .xm = {EM_XF_WRAP, 0, 0, 0},
                 .xl = {n1, 1, 1, 1},
                 .xs = {1, 0, 0, 0}},
                {.buf = b2, .strides = {0, 1, 16, 0}},
                {.buf = b2, .strides = {1, 12, 200, 0}, .offset = 8},
                {.buf = b2, .strides = {-1, 12, 200, 0}, .offset = 20},
            };
            dim_t dm[4] = {12, n0, 3, 1};
            snprintf(nm, sizeof(nm), "mixed t%d", t);
            run_case(nm, t, dm, M, 4, 0, NULL, 0, 0, false, 1u << 30);
            snprintf(nm, sizeof(nm), "mixed t%d grid1", t);
            run_case(nm, t, dm, M, 4, 2, NULL, 0, 0, false, 1);
            /* Uniform leaf plus a strided one. */
            leafdesc U[2] = {{.buf = b2, .strides = {0, 0, 0, 0}, .offset = 5},
                             {.buf = b2, .strides = {2, 24, 0, 0}, .offset = 1}};
            snprintf(nm, sizeof(nm), "uniform+strided t%d", t);
            run_case(nm, t, dm, U, 2, -1, NULL, 0, 0, false, 1u << 30);
        }
        /* Windows: a block into a larger matrix (dense along 0), step-2 rows, reversed. */
        {
            dim_t W0 = 40, W1 = 30;
            em_buf *b = mkbuf((size_t)(W0 * W1) * es, 0);
            fill(b, t, (size_t)(W0 * W1));
            leafdesc L = {.buf = b, .strides = {1, W0, 0, 0}, .offset = W0 * 10 + 16};
            dim_t dims[4] = {16, 8, 1, 1};
            dim_t ws[4] = {1, W0, W0 * W1, 0};
            snprintf(nm, sizeof(nm), "window dense t%d", t);
            run_case(nm, t, dims, &L, 1, -1, ws, 4 + W0 * 3, 0, false, 1u << 30);
            snprintf(nm, sizeof(nm), "window dense odd t%d", t);
            dim_t dodd[4] = {13, 8, 1, 1};
            run_case(nm, t, dodd, &L, 1, -1, ws, 3 + W0 * 3, 0, false, 1u << 30);
            dim_t ws2[4] = {2, W0, W0 * W1, 0};
            snprintf(nm, sizeof(nm), "window step2 t%d", t);
            run_case(nm, t, dims, &L, 1, 1, ws2, 1, 0, false, 1u << 30);
            dim_t ws3[4] = {-1, -W0, W0 * W1, 0};
            snprintf(nm, sizeof(nm), "window rev t%d", t);
            run_case(nm, t, dims, &L, 1, -1, ws3, 20 + W0 * 20, 0, false, 1u << 30);
            /* A dense (linear) program into a window. */
            leafdesc D = {.buf = b, .strides = {1, 16, 128, 0}, .offset = 0};
            snprintf(nm, sizeof(nm), "window linear t%d", t);
            run_case(nm, t, dims, &D, 1, -1, ws, 8, 0, false, 1u << 30);
            snprintf(nm, sizeof(nm), "window linear t%d x64", t);
            run_case(nm, t, dims, &D, 1, -1, ws, 8, 0, true, 3);
            /* Linear program into a dense output (the vector path). */
            snprintf(nm, sizeof(nm), "linear t%d", t);
            run_case(nm, t, dims, &D, 1, 0, NULL, 0, 0, false, 1u << 30);
        }
    }
    printf("%d checks, %d failed\n", checks, fails);
    return fails != 0;
}
