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

enum {
    K_ALL = 1,
    K_ROWS = 2,
    K_COLS = 3,
    K_FINAL_ALL = 4,
    K_FINAL_COLS = 5,
    K_SEG_ROWS = 6,
    K_SEG_COLS = 7,
    K_RUNS_COUNT = 8,
    K_RUNS_SCAN = 9,
    K_RUNS_WRITE = 10,
};
static const char *const kernel_name[] = {
    NULL,
    "em_reduce_all",
    "em_reduce_rows",
    "em_reduce_cols",
    "em_reduce_final_all",
    "em_reduce_final_cols",
    "em_reduce_seg_rows",
    "em_reduce_seg_cols",
    "em_runs_count",
    "em_runs_scan",
    "em_runs_write",
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
/* Bytes of one accumulator: the compute type, or a (value, u32 index) pair with the device's
 * layout (the value, the index at the next 4-byte boundary, the pair padded to the value's
 * alignment). */
static size_t acc_size(af_dtype t, bool index) {
    size_t v = t == f16 ? 4 : em_dtype_size(t);
    if (!index) return v;
    size_t align = t == c32 ? 8 : t == c64 ? 16 : v;
    if (align < 4) align = 4;
    size_t sz = ((v + 3) & ~(size_t)3) + 4;
    return (sz + align - 1) / align * align;
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
    bool index; /* min or max with the index (EM_RED_INDEX) */
} red_gen;

/* The variant part of a module's source: the header of reduce.cuh, then reduce.cuh. */
static void red_variant(em_sbuf *b, const red_gen *g) {
    em_sbuf_printf(b, "#define EM_RED_OP %d\n#define EM_RED_KERNEL %d\ntypedef %s em_ot;\n",
                   (int)g->op, g->kernel, st_names[g->t]);
    if (g->t == f16) em_sbuf_printf(b, "#define EM_RED_F16_OUT 1\n");
    if (g->index) em_sbuf_printf(b, "#define EM_RED_INDEX 1\n");
    if (g->tpr) em_sbuf_printf(b, "#define EM_RED_TPR %d\n", g->tpr);
    em_sbuf_printf(b, "%s", em_cu_src_reduce);
}

/* The prefix of a module's source: the input program's fused value, or (final passes and key
 * runs) the prelude and the accumulator type. */
static bool red_prefix(em_sbuf *b, const red_gen *g) {
    if (g->prog) {
        char *v = em_cu_jit_value_source(g->prog, g->shape);
        if (!v) return false;
        em_sbuf_printf(b, "%s", v);
        free(v);
    } else {
        em_sbuf_printf(b, "// Ember reduction, final pass\n%s\ntypedef %s em_vt;\n",
                       em_cu_src_prelude, ct_of(g->t));
    }
    return true;
}

static char *red_source(const void *ctx) {
    const red_gen *g = ctx;
    em_sbuf b = {0};
    if (!red_prefix(&b, g)) return NULL;
    red_variant(&b, g);
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

static uint64_t red_key(const red_gen *g) {
    uint64_t k = g->prog ? em_cu_jit_key(g->prog, g->shape) : em_hash_mix(EM_HASH_SEED, g->t);
    k = em_hash_mix(k, 0x7265647563650000ull | (uint64_t)g->kernel << 8 | (uint64_t)g->op);
    k = em_hash_mix(k, (uint64_t)g->tpr << 1 | (uint64_t)g->index);
    return em_hash_mix(k, reduce_src_hash());
}

static af_err red_kernel(int dev, const red_gen *g, CUfunction *out) {
    return em_cu_module_get(dev, red_key(g), kernel_name[g->kernel], red_source, g, out);
}

/* ---- the compile check: every kernel, op and dtype, on linear and strided sample programs ---- */

/* Compiles one unit holding several variants (same prefix), each in its own namespace with a
 * suffix on its kernel names. */
static af_err compile_unit(const red_gen *g, int n) {
    em_sbuf b = {0};
    if (!red_prefix(&b, &g[0])) return em_err(AF_ERR_NO_MEM, __func__, "out of host memory");
    for (int v = 0; v < n; v++) {
        em_sbuf_printf(&b, "namespace em_v%d {\n#define EM_RED_NAME(name) name##_v%d\n", v, v);
        red_variant(&b, &g[v]);
        em_sbuf_printf(&b, "\n#undef EM_RED_NAME\n#undef EM_RED_OP\n#undef EM_RED_KERNEL\n"
                           "#undef EM_RED_INDEX\n#undef EM_RED_TPR\n}\n");
    }
    if (b.oom) {
        free(b.s);
        return em_err(AF_ERR_NO_MEM, __func__, "out of host memory");
    }
    af_err err = em_cu_compile_source(b.s, "em_reduce_check");
    free(b.s);
    return err;
}

/* The reduction kernels of every dim class (all, rows, columns) for every op and dtype (and the
 * index forms of min and max), on a sample program a*b+c of each dtype: one NVRTC unit per dtype,
 * so the check stays short. The by-key kernels on a few dtypes; strided leaves (they change only
 * the value's loads) on f32 and b8. Then the kernels without a program (final passes, key runs)
 * and the group sizes of the rows kernels. */
static af_err reduce_compile_check(void) {
    af_err err = AF_SUCCESS;
    static const em_red_op ops[] = {EM_RED_SUM, EM_RED_PROD, EM_RED_MIN,
                                    EM_RED_MAX, EM_RED_AND,  EM_RED_OR};
    for (int ti = 0; ti < EM_NUM_DTYPES; ti++) {
        af_dtype t = (af_dtype)ti;
        for (int linear = 1; linear >= 0; linear--) {
            if (!linear && t != f32 && t != b8) continue;
            /* Arithmetic where the element-wise ops define it for t (b8 and the narrow integers
             * reach reductions only as min, max, and, or). */
            bool arith = em_cu_jit_supports(EM_OP_ADD, t, t) &&
                         em_cu_jit_supports(EM_OP_MUL, t, t) && t != b8;
            em_cu_sample_prog sp;
            em_jit_prog prog;
            em_cu_jit_shape shape;
            em_cu_sample_init(&sp, t, linear, arith ? EM_CU_SAMPLE_ARITH : EM_CU_SAMPLE_LEAF);
            EM_TRY(em_jit_prog_build(&sp.root, 1, &prog));
            em_cu_jit_shape_of(&prog, &shape);
            red_gen g[16];
            int n = 0;
            for (size_t oi = 0; oi < sizeof(ops) / sizeof(ops[0]); oi++) {
                if (!op_supported(ops[oi], t)) continue;
                g[n++] = (red_gen){&prog, &shape, 0, ops[oi], t, 32, false};
                /* The by-key kernels share every typed helper with kernels 2 and 3: one integer
                 * and one floating dtype (and b8 for and / or) cover their own code. */
                if (linear && (t == f32 || t == s32 || t == b8 || t == c64))
                    g[n++] = (red_gen){&prog, &shape, 13, ops[oi], t, 32, false};
                if (ops[oi] == EM_RED_MIN || ops[oi] == EM_RED_MAX)
                    g[n++] = (red_gen){&prog, &shape, 11, ops[oi], t, 32, true};
            }
            err = compile_unit(g, n);
            em_jit_prog_free(&prog);
            if (err != AF_SUCCESS) {
                em_err_attribute(__func__);
                goto fail;
            }
        }
    }
    /* The kernels without an input program (final passes and key runs), as launched. */
    static const red_gen alone[][2] = {
        {{.kernel = K_FINAL_ALL, .op = EM_RED_SUM, .t = f32},
         {.kernel = K_FINAL_COLS, .op = EM_RED_MIN, .t = f32, .index = true}},
        {{.kernel = K_FINAL_ALL, .op = EM_RED_MAX, .t = c64, .index = true},
         {.kernel = K_FINAL_COLS, .op = EM_RED_PROD, .t = c64}},
        {{.kernel = K_FINAL_ALL, .op = EM_RED_MIN, .t = f16, .index = true},
         {.kernel = K_FINAL_COLS, .op = EM_RED_MAX, .t = f16}},
        {{.kernel = K_FINAL_ALL, .op = EM_RED_AND, .t = b8},
         {.kernel = K_FINAL_COLS, .op = EM_RED_OR, .t = b8}},
        {{.kernel = 12, .op = EM_RED_SUM, .t = u32}}, /* the key runs kernels */
    };
    for (size_t i = 0; i < sizeof(alone) / sizeof(alone[0]); i++) {
        int n = alone[i][1].kernel ? 2 : 1;
        EM_TRY(compile_unit(alone[i], n));
    }
    /* The other group sizes of the rows kernels, on f32. */
    {
        em_cu_sample_prog sp;
        em_jit_prog prog;
        em_cu_jit_shape shape;
        em_cu_sample_init(&sp, f32, true, EM_CU_SAMPLE_ARITH);
        EM_TRY(em_jit_prog_build(&sp.root, 1, &prog));
        em_cu_jit_shape_of(&prog, &shape);
        red_gen g[16]; /* eight sizes, two kernels */
        int n = 0;
        for (int tpr = 1; tpr <= 256; tpr *= 2) {
            if (tpr == 32) continue;
            g[n++] = (red_gen){&prog, &shape, K_ROWS, EM_RED_SUM, f32, tpr, false};
            g[n++] = (red_gen){&prog, &shape, K_SEG_ROWS, EM_RED_MAX, f32, tpr, false};
        }
        err = compile_unit(g, n);
        em_jit_prog_free(&prog);
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

/* Reduces (index: with the index, op min or max) output 0 of `in` along dim into out (and idx),
 * rlen limiting each output's count when given: the kernel choice of the file comment. */
static af_err red_launch(int dev, const em_jit_prog *in, int dim, em_red_op op, bool index,
                         const uint32_t *rlen, void *out, uint32_t *idx) {
    af_err err = AF_SUCCESS;
    cudaStream_t stream;
    CUfunction kern;
    int prev = -1;
    em_buf *part = NULL;
    _Alignas(16) unsigned char params[EM_CU_PARAM_MAX];
    af_dtype t = (af_dtype)in->instr[in->out[0]].type;
    if (!op_supported(op, t) || (index && op != EM_RED_MIN && op != EM_RED_MAX))
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
    const size_t as = acc_size(t, index);
    dim3 block = {256, 1, 1};
    red_gen g = {.prog = in, .shape = &shape, .op = op, .t = t, .tpr = 0, .index = index};
    const void *rl = rlen;
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
            void *args[] = {params, &len_, &rl, &pp};
            EM_TRY(
                em_cu_launch(__func__, "launching a reduction", kern, grid, block, args, stream));
            red_gen f = {.kernel = K_FINAL_ALL, .op = op, .t = t, .index = index};
            EM_TRY(red_kernel(dev, &f, &kern));
            dim3 fgrid = {(unsigned)rows, 1, 1};
            unsigned long long n_ = (unsigned long long)gx;
            void *fargs[] = {&pp, &n_, &out, &idx};
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
            void *args[] = {params, &len_, &rows_, &rl, &out, &idx};
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
        void *args[] = {params, &inner_, &len_, &outer_, &jchunk_, &rl, &pp, &out, &idx};
        EM_TRY(em_cu_launch(__func__, "launching a reduction", kern, grid, block, args, stream));
        if (chunks > 1) {
            red_gen f = {.kernel = K_FINAL_COLS, .op = op, .t = t, .index = index};
            EM_TRY(red_kernel(dev, &f, &kern));
            unsigned long long nout_ = (unsigned long long)nout,
                               chunks_ = (unsigned long long)chunks;
            dim3 fgrid = {blocks_for(nout, 256, 4 * resident), 1, 1};
            void *fargs[] = {&pp, &nout_, &chunks_, &out, &idx};
            EM_TRY(em_cu_launch(__func__, "launching a reduction's final pass", kern, fgrid, block,
                                fargs, stream));
        }
    }
fail:
    if (part) em_buf_release(part);
    em_cu_leave_enqueued(dev, prev);
    return err;
}

af_err em_cu_reduce(int dev, const em_jit_prog *in, int dim, em_red_op op, void *out) {
    return red_launch(dev, in, dim, op, false, NULL, out, NULL);
}

af_err em_cu_ireduce(int dev, const em_jit_prog *in, int dim, em_red_op op, const uint32_t *rlen,
                     void *val, uint32_t *idx) {
    return red_launch(dev, in, dim, op, true, rlen, val, idx);
}

/* ---- runs of equal keys (the _by_key reductions) ---- */

af_err em_cu_key_runs(int dev, const void *keys, af_dtype kt, dim_t n, void *okeys,
                      uint32_t *starts, dim_t *nruns) {
    af_err err = AF_SUCCESS;
    cudaStream_t stream;
    CUfunction kern;
    int prev = -1;
    em_buf *tmp = NULL;
    if (kt != s32 && kt != u32)
        return em_err(AF_ERR_NOT_SUPPORTED, __func__, "keys of dtype %s", em_dtype_name(kt));
    if (n <= 0 || n > (dim_t)0xffffffffu)
        return em_err(AF_ERR_NOT_SUPPORTED, __func__, "%lld keys", (long long)n);
    EM_TRY(em_cu_enter(__func__, dev, &stream, &prev));
    /* Equality is all that matters, so both dtypes run as 32-bit patterns (one module each). */
    dim_t nb = (n + 2047) / 2048;
    EM_TRY(em_buf_alloc(dev, (size_t)(nb + 1) * 4, &tmp));
    uint32_t *bcount = tmp->ptr, *total = bcount + nb;
    unsigned long long n_ = (unsigned long long)n, nb_ = (unsigned long long)nb;
    dim3 block = {256, 1, 1}, grid = {(unsigned)nb, 1, 1}, one = {1, 1, 1};
    red_gen g = {.kernel = K_RUNS_COUNT, .op = EM_RED_SUM, .t = u32};
    EM_TRY(red_kernel(dev, &g, &kern));
    void *a1[] = {&keys, &n_, &bcount};
    EM_TRY(em_cu_launch(__func__, "launching the key runs count", kern, grid, block, a1, stream));
    g.kernel = K_RUNS_SCAN;
    EM_TRY(red_kernel(dev, &g, &kern));
    void *a2[] = {&bcount, &nb_, &n_, &total, &starts};
    EM_TRY(em_cu_launch(__func__, "launching the key runs scan", kern, one, block, a2, stream));
    g.kernel = K_RUNS_WRITE;
    EM_TRY(red_kernel(dev, &g, &kern));
    void *a3[] = {&keys, &n_, &bcount, &okeys, &starts};
    EM_TRY(em_cu_launch(__func__, "launching the key runs write", kern, grid, block, a3, stream));
    uint32_t count = 0;
    EM_CU_TRY(cudaMemcpyAsync(&count, total, 4, cudaMemcpyDeviceToHost, stream),
              "reading the number of key runs");
    EM_CU_TRY(cudaStreamSynchronize(stream), "waiting for the key runs");
    *nruns = count;
fail:
    if (tmp) em_buf_release(tmp);
    em_cu_leave_enqueued(dev, prev);
    return err;
}

af_err em_cu_reduce_runs(int dev, const em_jit_prog *in, int dim, em_red_op op,
                         const uint32_t *starts, dim_t nruns, void *out) {
    af_err err = AF_SUCCESS;
    cudaStream_t stream;
    CUfunction kern;
    int prev = -1;
    _Alignas(16) unsigned char params[EM_CU_PARAM_MAX];
    af_dtype t = (af_dtype)in->instr[in->out[0]].type;
    if (!op_supported(op, t))
        return em_err(AF_ERR_NOT_SUPPORTED, __func__, "reduction %d of dtype %s", (int)op,
                      em_dtype_name(t));
    if (in->elements <= 0 || nruns <= 0) return AF_SUCCESS;
    EM_TRY(em_cu_enter(__func__, dev, &stream, &prev));
    em_cu_jit_shape shape;
    em_cu_jit_shape_of(in, &shape);
    const dim_t V = in->linear ? shape.vec : 1;
    void *none[1] = {NULL};
    dim_t inner = 1, len = in->dims[dim], outer = 1;
    for (int d = 0; d < dim; d++)
        inner *= in->dims[d];
    for (int d = dim + 1; d < 4; d++)
        outer *= in->dims[d];
    const dim_t resident = em_cu_devs[dev].grid;
    dim3 block = {256, 1, 1};
    red_gen g = {.prog = in, .shape = &shape, .op = op, .t = t};
    unsigned long long len_ = (unsigned long long)len, nruns_ = (unsigned long long)nruns,
                       outer_ = (unsigned long long)outer, inner_ = (unsigned long long)inner;
    if (inner == 1) {
        /* Runs start anywhere, so reads are scalar. */
        size_t size = em_cu_jit_pack(in, &shape, none, false, NULL, params, sizeof(params));
        if (size == 0) EM_FAIL(AF_ERR_NOT_SUPPORTED, "the input's JIT program is too large");
        dim_t avg = len / nruns, rows = nruns * outer;
        int tpr = 1;
        while (tpr < 32 && (dim_t)tpr * 8 < avg)
            tpr *= 2;
        if (tpr == 32 && avg >= 256 * 8 && rows * 32 < resident * 256 / 2) tpr = 256;
        g.kernel = K_SEG_ROWS;
        g.tpr = tpr;
        EM_TRY(red_kernel(dev, &g, &kern));
        dim3 grid = {blocks_for(rows, 256 / tpr, 0x7fffffff), 1, 1};
        void *args[] = {params, &len_, &nruns_, &outer_, &starts, &out};
        EM_TRY(em_cu_launch(__func__, "launching a reduction by key", kern, grid, block, args,
                            stream));
    } else {
        bool vec = V > 1 && em_cu_jit_vec_ok(in, &shape, none) && inner % V == 0;
        size_t size = em_cu_jit_pack(in, &shape, none, vec, NULL, params, sizeof(params));
        if (size == 0) EM_FAIL(AF_ERR_NOT_SUPPORTED, "the input's JIT program is too large");
        dim_t W = vec ? V : 1;
        dim_t gx = (inner + 32 * W - 1) / (32 * W);
        dim_t gz = outer < 65535 ? outer : 65535;
        dim_t gy = nruns < 65535 ? nruns : 65535;
        g.kernel = K_SEG_COLS;
        EM_TRY(red_kernel(dev, &g, &kern));
        dim3 grid = {(unsigned)gx, (unsigned)gy, (unsigned)gz};
        void *args[] = {params, &inner_, &len_, &outer_, &nruns_, &starts, &out};
        EM_TRY(em_cu_launch(__func__, "launching a reduction by key", kern, grid, block, args,
                            stream));
    }
fail:
    em_cu_leave_enqueued(dev, prev);
    return err;
}
