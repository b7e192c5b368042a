/* Reductions on CUDA (algorithm.h, "Reductions"). Each kernel is generated from the input's JIT
 * program: jit_gen.c's fused value (em_cu_jit_value_source) computes the program's output 0 in
 * registers, and kernels/reduce.cuh folds it in the same pass. A module is keyed by the program's
 * structural key and shape, the kernel, the op (which with the program's output dtype fixes every
 * type) and the text of reduce.cuh, so a cache hit generates nothing.
 *
 * Kernel choice (reduce.cuh describes each kernel):
 *  - contiguous rows (everything, dim 0, or a dim whose lower dims are all 1): few long rows are
 *    split over many blocks (kernel 1, then kernel 4 folds the per-block partials); many rows get
 *    a group of threads each (kernel 2), sized to the row length;
 *  - a dim with lower dims (kernel 3): warps read along the lower dims (coalesced) and fold along
 *    the reduced one; when the output alone gives too few blocks to fill the device, the reduced
 *    dim is split into chunks whose partials kernel 5 folds.
 * Partials come from the memory pool and go back to it as soon as the work is enqueued: pool
 * reuse is ordered on the same stream. Nothing waits for the device. */
#include "cu.h"

#include "../../core/err.h"
#include "../../core/sbuf.h"
#include "../algorithm.h"
#include "jit_gen.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { K_ALL = 1, K_ROWS = 2, K_COLS = 3, K_FINAL_ALL = 4, K_FINAL_COLS = 5 };
static const char *const kernel_name[] = {
    NULL,
    "em_reduce_all",
    "em_reduce_rows",
    "em_reduce_cols",
    "em_reduce_final_all",
    "em_reduce_final_cols",
};

/* Storage and compute type names of each dtype in kernel code (the prelude's). */
static const char *const st_names[EM_NUM_DTYPES] = {
    [f32] = "float",        [c32] = "em_c32",
    [f64] = "double",       [c64] = "em_c64",
    [b8] = "em_u8",         [s32] = "int",
    [u32] = "unsigned int", [u8] = "unsigned char",
    [s64] = "long long",    [u64] = "unsigned long long",
    [s16] = "short",        [u16] = "unsigned short",
    [f16] = "em_u16",       [s8] = "signed char",
};
static const char *ct_of(af_dtype t) {
    return t == f16 ? "float" : st_names[t];
}
/* Bytes of one accumulator (the compute type). */
static size_t acc_size(af_dtype t) {
    return t == f16 ? 4 : em_dtype_size(t);
}

/* Whether the backend defines op on dtype t (algorithm.h). */
static bool op_supported(em_red_op op, af_dtype t) {
    switch (op) {
    case EM_RED_SUM:
    case EM_RED_PROD:
        return t == f32 || t == f64 || t == c32 || t == c64 || t == s32 || t == u32 || t == s64 ||
               t == u64;
    case EM_RED_MIN:
    case EM_RED_MAX:
        return em_dtype_valid(t);
    case EM_RED_AND:
    case EM_RED_OR:
        return t == b8;
    }
    return false;
}

static uint64_t reduce_src_hash(void) {
    static _Atomic uint64_t hash;
    uint64_t h = atomic_load_explicit(&hash, memory_order_relaxed);
    if (h) return h;
    h = EM_HASH_SEED;
    for (const char *s = em_cu_src_reduce; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    h = em_hash_mix(h, em_cu_prelude_hash());
    atomic_store_explicit(&hash, h, memory_order_relaxed);
    return h;
}

/* What a reduction module's source depends on. `prog` is NULL for the final kernels, which read
 * partials of type t. */
typedef struct {
    const em_jit_prog *prog;
    const em_cu_jit_shape *shape;
    int kernel;
    em_red_op op;
    af_dtype t;
    int tpr;
} red_gen;

static char *red_source(const void *ctx) {
    const red_gen *g = ctx;
    em_sbuf b = {0};
    if (g->prog) {
        char *v = em_cu_jit_value_source(g->prog, g->shape);
        if (!v) return NULL;
        em_sbuf_printf(&b, "%s", v);
        free(v);
    } else {
        em_sbuf_printf(&b, "// Ember reduction, final pass\n%s\ntypedef %s em_vt;\n",
                       em_cu_src_prelude, ct_of(g->t));
    }
    em_sbuf_printf(&b, "#define EM_RED_OP %d\n#define EM_RED_KERNEL %d\ntypedef %s em_ot;\n",
                   (int)g->op, g->kernel, st_names[g->t]);
    if (g->t == f16) em_sbuf_printf(&b, "#define EM_RED_F16_OUT 1\n");
    if (g->kernel == K_ROWS || g->kernel == 0)
        em_sbuf_printf(&b, "#define EM_RED_TPR %d\n", g->tpr);
    em_sbuf_printf(&b, "%s", em_cu_src_reduce);
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

static uint64_t red_key(const red_gen *g) {
    uint64_t k = g->prog ? em_cu_jit_key(g->prog, g->shape) : em_hash_mix(EM_HASH_SEED, g->t);
    k = em_hash_mix(k, 0x7265647563650000ull | (uint64_t)g->kernel << 8 | (uint64_t)g->op);
    k = em_hash_mix(k, (uint64_t)g->tpr);
    return em_hash_mix(k, reduce_src_hash());
}

static af_err red_kernel(int dev, const red_gen *g, CUfunction *out) {
    return em_cu_module_get(dev, red_key(g), kernel_name[g->kernel], red_source, g, out);
}

/* ---- the compile check: every kernel, op and dtype, on linear and strided sample programs ---- */

/* A small program a*b+c (or, where t has no arithmetic, a leaf alone) of dtype t over fake
 * buffers: code generation reads only the program's structure. */
typedef struct {
    em_buf buf;
    em_node leaf[3], op[2];
    em_node *roots[1];
} sample_prog;

static void sample_init(sample_prog *s, af_dtype t, bool linear, bool arith) {
    memset(s, 0, sizeof(*s));
    s->buf.ptr = (void *)(uintptr_t)4096;
    s->buf.bytes = s->buf.cap = 1 << 20;
    atomic_store(&s->buf.refs, 1);
    dim_t dims[4] = {8, 4, 2, 1};
    for (int l = 0; l < 3; l++) {
        em_node *n = &s->leaf[l];
        n->op = EM_OP_BUF;
        n->type = (uint8_t)t;
        n->buf = &s->buf;
        memcpy(n->dims, dims, sizeof(dims));
        dim_t st[4] = {1, 8, 32, 64};
        if (!linear) st[0] = 2, st[1] = 16, st[2] = 64, st[3] = 128;
        memcpy(n->strides, st, sizeof(st));
        atomic_store(&n->biased, 1);
    }
    s->roots[0] = &s->leaf[0];
    if (!arith) return;
    em_node *m = &s->op[0], *a = &s->op[1];
    m->op = EM_OP_MUL, m->type = (uint8_t)t, m->nchild = 2;
    m->child[0] = &s->leaf[0], m->child[1] = &s->leaf[1];
    a->op = EM_OP_ADD, a->type = (uint8_t)t, a->nchild = 2;
    a->child[0] = m, a->child[1] = &s->leaf[2];
    memcpy(m->dims, dims, sizeof(dims));
    memcpy(a->dims, dims, sizeof(dims));
    m->height = 1, a->height = 2;
    atomic_store(&m->biased, 1);
    atomic_store(&a->biased, 1);
    s->roots[0] = a;
}

static af_err reduce_compile_check(void) {
    af_err err = AF_SUCCESS;
    static const em_red_op ops[] = {EM_RED_SUM, EM_RED_PROD, EM_RED_MIN,
                                    EM_RED_MAX, EM_RED_AND,  EM_RED_OR};
    /* One unit per op, dtype and program shape holds all five kernels (EM_RED_KERNEL 0), which
     * keeps the check to a hundred NVRTC runs. */
    for (size_t oi = 0; oi < sizeof(ops) / sizeof(ops[0]); oi++)
        for (int ti = 0; ti < EM_NUM_DTYPES; ti++) {
            af_dtype t = (af_dtype)ti;
            if (!op_supported(ops[oi], t)) continue;
            for (int linear = 1; linear >= 0; linear--) {
                /* Strided leaves change only the value's loads: checked on one dtype per op. */
                if (!linear && !(t == f32 || (t == b8 && ops[oi] >= EM_RED_AND))) continue;
                /* Arithmetic where the element-wise ops define it for t (b8 and the narrow
                 * integers reach reductions only as min, max, and, or). */
                bool arith = em_cu_jit_supports(EM_OP_ADD, t, t) &&
                             em_cu_jit_supports(EM_OP_MUL, t, t) && t != b8;
                sample_prog sp;
                em_jit_prog prog;
                em_cu_jit_shape shape;
                sample_init(&sp, t, linear, arith);
                EM_TRY(em_jit_prog_build(sp.roots, 1, &prog));
                em_cu_jit_shape_of(&prog, &shape);
                red_gen g = {&prog, &shape, 0, ops[oi], t, 32};
                char *src = red_source(&g);
                em_jit_prog_free(&prog);
                if (!src) EM_FAIL(AF_ERR_NO_MEM, "out of host memory");
                err = em_cu_compile_source(src, kernel_name[K_ALL]);
                free(src);
                if (err != AF_SUCCESS) {
                    em_err_attribute(__func__);
                    goto fail;
                }
            }
        }
    /* The other group sizes of the rows kernel, on f32. */
    for (int tpr = 1; tpr <= 256; tpr *= 2) {
        if (tpr == 32) continue;
        sample_prog sp;
        em_jit_prog prog;
        em_cu_jit_shape shape;
        sample_init(&sp, f32, true, true);
        EM_TRY(em_jit_prog_build(sp.roots, 1, &prog));
        em_cu_jit_shape_of(&prog, &shape);
        red_gen g = {&prog, &shape, K_ROWS, EM_RED_SUM, f32, tpr};
        char *src = red_source(&g);
        em_jit_prog_free(&prog);
        if (!src) EM_FAIL(AF_ERR_NO_MEM, "out of host memory");
        err = em_cu_compile_source(src, kernel_name[K_ROWS]);
        free(src);
        if (err != AF_SUCCESS) {
            em_err_attribute(__func__);
            goto fail;
        }
    }
fail:
    return err;
}
EM_CU_COMPILE_CHECK(reduce, reduce_compile_check)

/* ---- launches ---- */

static unsigned blocks_for(dim_t work, dim_t per_block, dim_t cap) {
    dim_t b = (work + per_block - 1) / per_block;
    if (b > cap) b = cap;
    if (b < 1) b = 1;
    return (unsigned)b;
}

af_err em_cu_reduce(int dev, const em_jit_prog *in, int dim, em_red_op op, void *out) {
    af_err err = AF_SUCCESS;
    cudaStream_t stream;
    CUfunction kern;
    int prev = -1;
    em_buf *part = NULL;
    _Alignas(16) unsigned char params[EM_CU_PARAM_MAX];
    af_dtype t = (af_dtype)in->instr[in->out[0]].type;
    if (!op_supported(op, t))
        return em_err(AF_ERR_NOT_SUPPORTED, __func__, "reduction %d of dtype %s", (int)op,
                      em_dtype_name(t));
    if (in->elements <= 0) return AF_SUCCESS;
    EM_TRY(em_cu_enter(__func__, dev, &stream, &prev));
    em_cu_jit_shape shape;
    em_cu_jit_shape_of(in, &shape);
    const dim_t V = in->linear ? shape.vec : 1;
    void *none[1] = {NULL};
    bool vec_ok = V > 1 && em_cu_jit_vec_ok(in, &shape, none);
    /* The reduction as in[i + inner * (j + len * o)] over j (reduce.cuh). */
    dim_t inner = 1, len = in->elements, outer = 1;
    if (dim >= 0) {
        len = in->dims[dim];
        for (int d = 0; d < dim; d++)
            inner *= in->dims[d];
        for (int d = dim + 1; d < 4; d++)
            outer *= in->dims[d];
    }
    const dim_t resident = em_cu_devs[dev].grid; /* blocks of 256 the device holds at once */
    const size_t as = acc_size(t);
    dim3 block = {256, 1, 1};
    red_gen g = {.prog = in, .shape = &shape, .op = op, .t = t, .tpr = 0};
    if (inner == 1) {
        dim_t rows = outer;
        bool vec = vec_ok && (rows == 1 || len % V == 0);
        size_t size = em_cu_jit_pack(in, &shape, none, vec, NULL, params, sizeof(params));
        if (size == 0) EM_FAIL(AF_ERR_NOT_SUPPORTED, "the input's JIT program is too large");
        unsigned long long len_ = (unsigned long long)len, rows_ = (unsigned long long)rows;
        dim_t W = vec ? V : 1;
        if (rows < resident / 2 && len >= 16 * 256 * W) {
            /* Few long rows: each split over gx blocks (enough to fill the device, at least
             * four vectors per thread), then one block per row folds the partials. */
            dim_t gx = (resident + rows - 1) / rows;
            dim_t most = len / (4 * 256 * W);
            if (gx > most) gx = most;
            if (gx < 1) gx = 1;
            EM_TRY(em_buf_alloc(dev, (size_t)(rows * gx) * as, &part));
            g.kernel = K_ALL;
            EM_TRY(red_kernel(dev, &g, &kern));
            dim3 grid = {(unsigned)gx, (unsigned)rows, 1};
            void *pp = part->ptr;
            void *args[] = {params, &len_, &pp};
            EM_TRY(
                em_cu_launch(__func__, "launching a reduction", kern, grid, block, args, stream));
            red_gen f = {.kernel = K_FINAL_ALL, .op = op, .t = t};
            EM_TRY(red_kernel(dev, &f, &kern));
            dim3 fgrid = {(unsigned)rows, 1, 1};
            unsigned long long n_ = (unsigned long long)gx;
            void *fargs[] = {&pp, &n_, &out};
            EM_TRY(em_cu_launch(__func__, "launching a reduction's final pass", kern, fgrid, block,
                                fargs, stream));
        } else {
            /* A group of tpr threads per row: at least eight reads per thread where the row is
             * long enough; a whole block per row when the rows alone cannot fill the warps. */
            int tpr = 1;
            while (tpr < 32 && (dim_t)tpr * 8 * W < len)
                tpr *= 2;
            if (tpr == 32 && len >= 256 * 8 * W && rows * 32 < resident * 256 / 2) tpr = 256;
            g.kernel = K_ROWS;
            g.tpr = tpr;
            EM_TRY(red_kernel(dev, &g, &kern));
            dim3 grid = {blocks_for(rows, 256 / tpr, 0x7fffffff), 1, 1};
            void *args[] = {params, &len_, &rows_, &out};
            EM_TRY(
                em_cu_launch(__func__, "launching a reduction", kern, grid, block, args, stream));
        }
    } else {
        bool vec = vec_ok && inner % V == 0;
        size_t size = em_cu_jit_pack(in, &shape, none, vec, NULL, params, sizeof(params));
        if (size == 0) EM_FAIL(AF_ERR_NOT_SUPPORTED, "the input's JIT program is too large");
        dim_t W = vec ? V : 1;
        dim_t gx = (inner + 32 * W - 1) / (32 * W);
        dim_t gz = outer < 65535 ? outer : 65535;
        /* Chunks of the reduced dim when the outputs give too few blocks; each chunk keeps every
         * row of the block busy for several steps. */
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
        if (chunks > 1) EM_TRY(em_buf_alloc(dev, (size_t)(chunks * nout) * as, &part));
        g.kernel = K_COLS;
        EM_TRY(red_kernel(dev, &g, &kern));
        unsigned long long inner_ = (unsigned long long)inner, len_ = (unsigned long long)len,
                           outer_ = (unsigned long long)outer, jchunk_ = (unsigned long long)jchunk;
        void *pp = part ? part->ptr : NULL;
        dim3 grid = {(unsigned)gx, (unsigned)chunks, (unsigned)gz};
        void *args[] = {params, &inner_, &len_, &outer_, &jchunk_, &pp, &out};
        EM_TRY(em_cu_launch(__func__, "launching a reduction", kern, grid, block, args, stream));
        if (chunks > 1) {
            red_gen f = {.kernel = K_FINAL_COLS, .op = op, .t = t};
            EM_TRY(red_kernel(dev, &f, &kern));
            unsigned long long nout_ = (unsigned long long)nout,
                               chunks_ = (unsigned long long)chunks;
            dim3 fgrid = {blocks_for(nout, 256, 4 * resident), 1, 1};
            void *fargs[] = {&pp, &nout_, &chunks_, &out};
            EM_TRY(em_cu_launch(__func__, "launching a reduction's final pass", kern, fgrid, block,
                                fargs, stream));
        }
    }
fail:
    if (part) em_buf_release(part);
    em_cu_leave_enqueued(dev, prev);
    return err;
}
