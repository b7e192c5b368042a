/* Statistics on CUDA (algorithm.h, "Statistics"): moments and co-moments in one pass. Each kernel
 * is generated from the input's JIT program: jit_gen.c's fused value (em_cu_jit_value_source)
 * computes x in registers, and kernels/statistics.cuh folds it into states (n, pivot, mean, S) in
 * double in the same pass, so mean(x*x) reads x once. The second operand (weights, or y of the
 * co-moments) is read from a dense buffer: an evaluated dense array where it lies, anything else
 * (a lazy tree, a view, broadcast weights) evaluated into a temporary first.
 *
 * Kernel choice follows the reductions' (reduce.c): few long contiguous rows are split over many
 * blocks whose partial states one block per row merges (kernels 1 and 4); many rows get a group
 * of threads each (kernel 2); a dim with lower dims is read coalesced along them (kernel 3,
 * chunked along the dim when the outputs alone cannot fill the device, then kernel 5). The
 * covariance finishes with kernel 6, which needs every column's state for the overall means.
 * Temporaries come from the pool and go back as soon as the work is enqueued. Nothing waits for
 * the device. */
#include "cu.h"

#include "../../core/err.h"
#include "../../core/mem.h"
#include "../../core/sbuf.h"
#include "../algorithm.h"
#include "jit_gen.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { K_ALL = 1, K_ROWS = 2, K_COLS = 3, K_FINAL_ALL = 4, K_FINAL_COLS = 5, K_COV_FINAL = 6 };
static const char *const kernel_name[] = {
    "em_st_all",       "em_st_all",        "em_st_rows",      "em_st_cols",
    "em_st_final_all", "em_st_final_cols", "em_st_cov_final",
};

/* What a finished line writes (statistics.cuh's EM_ST_OUT). */
enum { OUT_MOMENTS = 0, OUT_STATE = 1, OUT_CORR = 2 };

static const char *type_name(af_dtype t) {
    switch (t) {
    case f32:
        return "float";
    case f64:
        return "double";
    case c32:
        return "em_c32";
    case c64:
        return "em_c64";
    case f16:
        return "em_u16";
    default:
        return "double";
    }
}

static uint64_t st_src_hash(void) {
    static _Atomic uint64_t hash;
    uint64_t h = atomic_load_explicit(&hash, memory_order_relaxed);
    if (h) return h;
    h = EM_HASH_SEED;
    for (const char *s = em_cu_src_statistics; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    h = em_hash_mix(h, em_cu_prelude_hash());
    atomic_store_explicit(&hash, h, memory_order_relaxed);
    return h;
}

/* What a statistics module's source depends on. `prog` is NULL for the final kernels. */
typedef struct {
    const em_jit_prog *prog;
    const em_cu_jit_shape *shape;
    int kernel;
    int mode;    /* 0 moments, 1 weighted, 2 co-moments */
    bool cplx;   /* x is complex */
    af_dtype wt; /* weights' or y's dtype (f32 or f64) */
    int out;     /* OUT_* */
    af_dtype ot; /* output dtype of OUT_MOMENTS (and of the covariance) */
    int tpr;
} st_gen;

static char *st_source(const void *ctx) {
    const st_gen *g = ctx;
    em_sbuf b = {0};
    if (g->prog) {
        char *v = em_cu_jit_value_source(g->prog, g->shape);
        if (!v) return NULL;
        em_sbuf_printf(&b, "%s", v);
        free(v);
    } else {
        em_sbuf_printf(&b, "// Ember statistics, final pass\n%s\n", em_cu_src_prelude);
    }
    em_sbuf_printf(&b,
                   "#define EM_ST_KERNEL %d\n#define EM_ST_MODE %d\n#define EM_ST_CPLX %d\n"
                   "#define EM_ST_OUT %d\n#define EM_ST_TPR %d\ntypedef %s em_wt;\n"
                   "typedef %s em_ot;\n",
                   g->kernel, g->mode, (int)g->cplx, g->out, g->tpr ? g->tpr : 32,
                   g->wt == f64 ? "double" : "float", type_name(g->ot));
    if (g->ot == f16) em_sbuf_printf(&b, "#define EM_ST_F16 1\n");
    em_sbuf_printf(&b, "%s", em_cu_src_statistics);
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

static uint64_t st_key(const st_gen *g) {
    uint64_t k = g->prog ? em_cu_jit_key(g->prog, g->shape) : EM_HASH_SEED;
    k = em_hash_mix(k, 0x7374617400000000ull | (uint64_t)g->kernel << 24 | (uint64_t)g->mode << 20 |
                           (uint64_t)g->cplx << 16 | (uint64_t)g->wt << 8 | (uint64_t)g->out);
    k = em_hash_mix(k, (uint64_t)g->ot << 16 | (uint64_t)g->tpr);
    return em_hash_mix(k, st_src_hash());
}

static af_err st_kernel(int dev, const st_gen *g, CUfunction *out) {
    return em_cu_module_get(dev, st_key(g), kernel_name[g->kernel], st_source, g, out);
}

/* Bytes of one state (statistics.cuh's em_mst: its count, pivots, means and sums). */
static size_t state_size(int mode, bool cplx) {
    return mode == 2 ? 64 : cplx ? 56 : 32;
}

/* ---- the compile check ---- */

/* Compiles one module: with a sample program of dtype t for kernels 0 to 3, alone otherwise. */
static af_err check_one(af_dtype t, bool linear, st_gen g) {
    af_err err = AF_SUCCESS;
    em_cu_sample_prog sp;
    em_jit_prog prog;
    em_cu_jit_shape shape;
    bool built = false;
    if (g.kernel <= K_COLS) {
        em_cu_sample_init(&sp, t, linear, EM_CU_SAMPLE_ARITH);
        EM_TRY(em_jit_prog_build(&sp.root, 1, &prog));
        built = true;
        em_cu_jit_shape_of(&prog, &shape);
        g.prog = &prog;
        g.shape = &shape;
    }
    char *src = st_source(&g);
    if (built) em_jit_prog_free(&prog);
    if (!src) EM_FAIL(AF_ERR_NO_MEM, "out of host memory");
    err = em_cu_compile_source(src, kernel_name[g.kernel == 0 ? K_ALL : g.kernel]);
    free(src);
    if (err != AF_SUCCESS) em_err_attribute(__func__);
fail:
    return err;
}

static af_err st_compile_check(void) {
    af_err err = AF_SUCCESS;
    static const af_dtype types[] = {f32, f64, c32, c64};
    for (size_t ti = 0; ti < 4; ti++) {
        af_dtype t = types[ti];
        bool cplx = em_dtype_is_complex(t);
        af_dtype all = cplx ? c64 : f64;
        /* Moments: kernels 1 to 3 writing t, and 2 more writing f16 or the _all dtype; the
         * final kernels for both. */
        st_gen g = {.kernel = 0, .mode = 0, .cplx = cplx, .wt = f32, .out = OUT_MOMENTS, .ot = t};
        EM_TRY(check_one(t, true, g));
        g.ot = cplx ? all : f16;
        EM_TRY(check_one(t, true, g));
        for (int k = K_FINAL_ALL; k <= K_FINAL_COLS; k++) {
            st_gen f = {
                .kernel = k, .mode = 0, .cplx = cplx, .wt = f32, .out = OUT_MOMENTS, .ot = t};
            EM_TRY(check_one(t, true, f));
            f.ot = all;
            EM_TRY(check_one(t, true, f));
        }
        /* Weighted moments, with either weights dtype. */
        st_gen w = {.kernel = 0,
                    .mode = 1,
                    .cplx = cplx,
                    .wt = ti % 2 ? f64 : f32,
                    .out = OUT_MOMENTS,
                    .ot = t};
        EM_TRY(check_one(t, true, w));
        w.kernel = K_FINAL_ALL;
        EM_TRY(check_one(t, true, w));
    }
    /* Co-moments of f32 and f64: states for the covariance, r for corrcoef. */
    for (int ti = 0; ti < 2; ti++) {
        af_dtype t = ti ? f64 : f32;
        st_gen c = {.kernel = 0, .mode = 2, .wt = t, .out = OUT_STATE, .ot = t};
        EM_TRY(check_one(t, true, c));
        c.kernel = K_FINAL_ALL;
        EM_TRY(check_one(t, true, c));
        c.kernel = K_COV_FINAL;
        EM_TRY(check_one(t, true, c));
        st_gen r = {.kernel = 0, .mode = 2, .wt = t, .out = OUT_CORR, .ot = f64};
        EM_TRY(check_one(t, true, r));
        r.kernel = K_FINAL_ALL;
        EM_TRY(check_one(t, true, r));
    }
    /* Strided leaves change only the value's reads; the other group sizes of kernel 2. */
    {
        st_gen g = {.kernel = 0, .mode = 1, .wt = f32, .out = OUT_MOMENTS, .ot = f32};
        EM_TRY(check_one(f32, false, g));
        for (int tpr = 1; tpr <= 256; tpr *= 4) {
            st_gen r = {
                .kernel = K_ROWS, .mode = 0, .wt = f32, .out = OUT_MOMENTS, .ot = f32, .tpr = tpr};
            EM_TRY(check_one(f32, true, r));
        }
    }
fail:
    return err;
}
EM_CU_COMPILE_CHECK(statistics, st_compile_check)

/* ---- launches ---- */

/* A dense device pointer to output 0 of `p`: where it lies when the program is one dense leaf of
 * the program's dims and dtype, else evaluated into *tmp. */
static af_err dense_of(int dev, const em_jit_prog *p, em_buf **tmp, const void **ptr) {
    af_dtype t = (af_dtype)p->instr[p->out[0]].type;
    size_t es = em_dtype_size(t);
    if (p->ninstr == 1 && p->linear && p->instr[0].leaf >= 0) {
        const em_node *leaf = p->leaves[p->instr[0].leaf];
        if (leaf->op == EM_OP_BUF && leaf->type == t) {
            *ptr = (const char *)leaf->buf->ptr + (size_t)leaf->offset * es;
            return AF_SUCCESS;
        }
    }
    af_err err = em_buf_alloc(dev, (size_t)p->elements * es, tmp);
    if (err != AF_SUCCESS) return err;
    void *outs[1] = {(*tmp)->ptr};
    err = em_cu_jit_eval(dev, p, outs);
    if (err != AF_SUCCESS) {
        em_buf_release(*tmp);
        *tmp = NULL;
        return err;
    }
    *ptr = (*tmp)->ptr;
    return AF_SUCCESS;
}

static unsigned blocks_for(dim_t work, dim_t per_block, dim_t cap) {
    dim_t b = (work + per_block - 1) / per_block;
    if (b > cap) b = cap;
    if (b < 1) b = 1;
    return (unsigned)b;
}

/* Folds x (with ww: weights or y) along dim (-1: everything) and finishes each line as g->out
 * says, into mean / var (OUT_MOMENTS), the states in `mean` (OUT_STATE) or r in `mean`
 * (OUT_CORR). */
static af_err st_run(const char *fn, int dev, const em_jit_prog *x, const void *ww, int dim,
                     st_gen g, int ddof, int root, void *mean, void *var) {
    af_err err = AF_SUCCESS;
    cudaStream_t stream;
    CUfunction kern;
    int prev = -1;
    em_buf *part = NULL;
    _Alignas(16) unsigned char params[EM_CU_PARAM_MAX];
    EM_TRY_FN(em_cu_enter(fn, dev, &stream, &prev));
    em_cu_jit_shape shape;
    em_cu_jit_shape_of(x, &shape);
    const dim_t V = x->linear ? shape.vec : 1;
    void *none[1] = {NULL};
    bool vec_ok = V > 1 && em_cu_jit_vec_ok(x, &shape, none);
    dim_t inner = 1, len = x->elements, outer = 1;
    if (dim >= 0) {
        len = x->dims[dim];
        for (int d = 0; d < dim; d++)
            inner *= x->dims[d];
        for (int d = dim + 1; d < 4; d++)
            outer *= x->dims[d];
    }
    const dim_t resident = em_cu_devs[dev].grid;
    const size_t ss = state_size(g.mode, g.cplx);
    dim3 block = {256, 1, 1};
    g.prog = x;
    g.shape = &shape;
    if (inner == 1) {
        dim_t rows = outer;
        bool vec = vec_ok && (rows == 1 || len % V == 0);
        if (em_cu_jit_pack(x, &shape, none, vec, NULL, params, sizeof(params)) == 0)
            EM_FAIL_FN(AF_ERR_NOT_SUPPORTED, "the input's JIT program is too large");
        unsigned long long len_ = (unsigned long long)len, rows_ = (unsigned long long)rows;
        dim_t W = vec ? V : 1;
        if (rows < resident / 2 && len >= 16 * 256 * W) {
            /* Few long rows: each split over gx blocks (at least four packets per thread). */
            dim_t gx = (resident + rows - 1) / rows;
            dim_t most = len / (16 * 256 * W);
            if (gx > most) gx = most;
            if (gx < 1) gx = 1;
            EM_TRY_FN(em_buf_alloc(dev, (size_t)(rows * gx) * ss, &part));
            g.kernel = K_ALL;
            EM_TRY_FN(st_kernel(dev, &g, &kern));
            dim3 grid = {(unsigned)gx, (unsigned)rows, 1};
            void *pp = part->ptr;
            void *args[] = {params, &len_, &ww, &pp};
            EM_TRY_FN(em_cu_launch(fn, "launching a statistic", kern, grid, block, args, stream));
            st_gen f = g;
            f.prog = NULL;
            f.kernel = K_FINAL_ALL;
            EM_TRY_FN(st_kernel(dev, &f, &kern));
            dim3 fgrid = {(unsigned)rows, 1, 1};
            unsigned long long n_ = (unsigned long long)gx;
            void *fargs[] = {&pp, &n_, &mean, &var, &ddof, &root};
            EM_TRY_FN(em_cu_launch(fn, "launching a statistic's final pass", kern, fgrid, block,
                                   fargs, stream));
        } else {
            int tpr = 1;
            while (tpr < 32 && (dim_t)tpr * 8 * W < len)
                tpr *= 2;
            if (tpr == 32 && len >= 256 * 8 * W && rows * 32 < resident * 256 / 2) tpr = 256;
            g.kernel = K_ROWS;
            g.tpr = tpr;
            EM_TRY_FN(st_kernel(dev, &g, &kern));
            dim3 grid = {blocks_for(rows, 256 / tpr, 0x7fffffff), 1, 1};
            void *args[] = {params, &len_, &rows_, &ww, &mean, &var, &ddof, &root};
            EM_TRY_FN(em_cu_launch(fn, "launching a statistic", kern, grid, block, args, stream));
        }
    } else {
        if (em_cu_jit_pack(x, &shape, none, false, NULL, params, sizeof(params)) == 0)
            EM_FAIL_FN(AF_ERR_NOT_SUPPORTED, "the input's JIT program is too large");
        dim_t gx = (inner + 31) / 32;
        dim_t gz = outer < 65535 ? outer : 65535;
        dim_t chunks = 1, base = gx * gz;
        if (base < 2 * resident) {
            chunks = (2 * resident + base - 1) / base;
            dim_t most = len / 64;
            if (chunks > most) chunks = most;
            if (chunks > 65535) chunks = 65535;
            if (chunks < 1) chunks = 1;
        }
        dim_t jchunk = (len + chunks - 1) / chunks;
        chunks = (len + jchunk - 1) / jchunk;
        dim_t nout = inner * outer;
        if (chunks > 1) EM_TRY_FN(em_buf_alloc(dev, (size_t)(chunks * nout) * ss, &part));
        g.kernel = K_COLS;
        EM_TRY_FN(st_kernel(dev, &g, &kern));
        unsigned long long inner_ = (unsigned long long)inner, len_ = (unsigned long long)len,
                           outer_ = (unsigned long long)outer, jchunk_ = (unsigned long long)jchunk;
        void *pp = part ? part->ptr : NULL;
        dim3 grid = {(unsigned)gx, (unsigned)chunks, (unsigned)gz};
        void *args[] = {params, &inner_, &len_, &outer_, &jchunk_, &ww,
                        &pp,    &mean,   &var,  &ddof,   &root};
        EM_TRY_FN(em_cu_launch(fn, "launching a statistic", kern, grid, block, args, stream));
        if (chunks > 1) {
            st_gen f = g;
            f.prog = NULL;
            f.kernel = K_FINAL_COLS;
            EM_TRY_FN(st_kernel(dev, &f, &kern));
            unsigned long long nout_ = (unsigned long long)nout,
                               chunks_ = (unsigned long long)chunks;
            dim3 fgrid = {blocks_for(nout, 256, 4 * resident), 1, 1};
            void *fargs[] = {&pp, &nout_, &chunks_, &mean, &var, &ddof, &root};
            EM_TRY_FN(em_cu_launch(fn, "launching a statistic's final pass", kern, fgrid, block,
                                   fargs, stream));
        }
    }
fail:
    if (part) em_buf_release(part);
    em_cu_leave_enqueued(dev, prev);
    return err;
}

static bool x_type_ok(af_dtype t) {
    return t == f32 || t == f64 || t == c32 || t == c64;
}

af_err em_cu_moments(int dev, const em_jit_prog *x, const em_jit_prog *w, int dim, int ddof,
                     bool root, af_dtype out_type, void *mean, void *var) {
    const char *fn = __func__;
    af_err err = AF_SUCCESS;
    em_buf *wtmp = NULL;
    const void *wp = NULL;
    af_dtype tx = (af_dtype)x->instr[x->out[0]].type;
    af_dtype tw = w ? (af_dtype)w->instr[w->out[0]].type : f32;
    if (!x_type_ok(tx) || (w && tw != f32 && tw != f64))
        return em_err(AF_ERR_NOT_SUPPORTED, fn, "moments of dtype %s", em_dtype_name(tx));
    if (x->elements <= 0) return AF_SUCCESS;
    if (w) EM_TRY_FN(dense_of(dev, w, &wtmp, &wp));
    st_gen g = {.mode = w ? 1 : 0,
                .cplx = em_dtype_is_complex(tx),
                .wt = tw,
                .out = OUT_MOMENTS,
                .ot = out_type};
    EM_TRY_FN(st_run(fn, dev, x, wp, dim, g, ddof, root, mean, var));
fail:
    if (wtmp) em_buf_release(wtmp);
    return err;
}

af_err em_cu_comoments(int dev, const em_jit_prog *x, const em_jit_prog *y, int kind, int ddof,
                       af_dtype out_type, void *out) {
    const char *fn = __func__;
    af_err err = AF_SUCCESS;
    em_buf *ytmp = NULL, *states = NULL;
    const void *yp = NULL;
    cudaStream_t stream;
    CUfunction kern;
    int prev = -1;
    bool entered = false;
    af_dtype tx = (af_dtype)x->instr[x->out[0]].type;
    af_dtype ty = (af_dtype)y->instr[y->out[0]].type;
    if ((tx != f32 && tx != f64) || ty != tx)
        return em_err(AF_ERR_NOT_SUPPORTED, fn, "co-moments of dtype %s", em_dtype_name(tx));
    if (x->elements <= 0) return AF_SUCCESS;
    EM_TRY_FN(dense_of(dev, y, &ytmp, &yp));
    if (kind == EM_COMOM_CORR) {
        st_gen g = {.mode = 2, .wt = ty, .out = OUT_CORR, .ot = f64};
        EM_TRY_FN(st_run(fn, dev, x, yp, -1, g, 0, 0, out, NULL));
    } else {
        /* Every column's state, then the covariances about the overall means. */
        dim_t cols = x->elements / x->dims[0];
        EM_TRY_FN(em_buf_alloc(dev, (size_t)cols * state_size(2, false), &states));
        st_gen g = {.mode = 2, .wt = ty, .out = OUT_STATE, .ot = out_type};
        EM_TRY_FN(st_run(fn, dev, x, yp, 0, g, 0, 0, states->ptr, NULL));
        EM_TRY_FN(em_cu_enter(fn, dev, &stream, &prev));
        entered = true;
        st_gen f = g;
        f.kernel = K_COV_FINAL;
        EM_TRY_FN(st_kernel(dev, &f, &kern));
        void *sp = states->ptr;
        unsigned long long cols_ = (unsigned long long)cols;
        dim3 grid = {1, 1, 1}, block = {256, 1, 1};
        void *args[] = {&sp, &cols_, &ddof, &out};
        EM_TRY_FN(em_cu_launch(fn, "launching the covariance's final pass", kern, grid, block, args,
                               stream));
    }
fail:
    if (entered) em_cu_leave_enqueued(dev, prev);
    if (states) em_buf_release(states);
    if (ytmp) em_buf_release(ytmp);
    return err;
}
