/* The CPU JIT evaluator: runs a linear program block by block. Each thread takes blocks of
 * EM_CPU_BLOCK output elements and computes every instruction over the block into a small scratch
 * area, so a whole expression is one pass over memory and intermediates stay in cache. */
#include "cpu.h"

#include <omp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const em_jit_prog *p;
    void *const *outs;
    size_t *slot_off; /* byte offset of each instruction's block in the scratch area */
    size_t scratch_bytes;
    /* Per instruction, the output it computes straight into (-1: its scratch slot). Saves the
     * copy from scratch to the output; off when an output buffer is also an input. */
    int *direct;
    /* Block mode (em_cpu_block_eval_run): nothing is written to outputs; the address of output
     * 0's values for the block is left at scratch + scratch_bytes for the caller. */
    bool block;
    /* Set when the one output goes to a strided window of a buffer instead of outs[0]. */
    const em_jit_window *win;
} eval_ctx;

/* Coordinates of linear output index e. */
static void coords_of(const dim_t dims[4], dim_t e, dim_t c[4]) {
    c[0] = e % dims[0];
    e /= dims[0];
    c[1] = e % dims[1];
    e /= dims[1];
    c[2] = e % dims[2];
    c[3] = e / dims[2];
}

static void coords_next(const dim_t dims[4], dim_t c[4]) {
    if (++c[0] < dims[0]) return;
    c[0] = 0;
    if (++c[1] < dims[1]) return;
    c[1] = 0;
    if (++c[2] < dims[2]) return;
    c[2] = 0;
    c[3]++;
}

/* Converts n elements of storage representation into block representation. */
static void load_elems(void *dst, const void *src, af_dtype t, size_t n) {
    if (t == f16) {
        const uint16_t *s = src;
        float *d = dst;
        for (size_t i = 0; i < n; i++)
            d[i] = em_half_to_float(s[i]);
    } else {
        memcpy(dst, src, n * em_dtype_size(t));
    }
}

/* Generators: the value at each element from its coordinates, as a 64-bit integer, then converted
 * to the leaf's dtype. The values follow ArrayFire: RANGE is the coordinate along iparam; IOTA is
 * the column-major linear index within the unit dims gparam, each coordinate taken modulo its unit
 * dim (the unit block tiled over the output); IDENTITY is 1 where the coordinates along dims 0 and
 * 1 are equal, in every batch of dims 2 and 3. The conversion is integer to integer, which wraps
 * modulo the type's range as ArrayFire's does (a u8 range of 300 runs 0..255, 0..43); floating
 * types get the nearest value (exact below 2^24 for f32, 2^11 for f16). */
static void gen_block(const em_node *leaf, const dim_t dims[4], dim_t start, size_t n, void *dst) {
    int64_t vals[EM_CPU_BLOCK];
    dim_t c[4];
    coords_of(dims, start, c);
    if (leaf->op == EM_OP_RANGE || leaf->op == EM_OP_IDENTITY) {
        /* In runs along dimension 0, where only c[0] changes: each run is one simple loop (the
         * shape operations compare RANGE generators over whole arrays). */
        size_t j = 0;
        while (j < n) {
            size_t run = (size_t)(dims[0] - c[0]) < n - j ? (size_t)(dims[0] - c[0]) : n - j;
            int64_t *v = vals + j;
            if (leaf->op == EM_OP_IDENTITY)
                for (size_t r = 0; r < run; r++)
                    v[r] = c[0] + (dim_t)r == c[1];
            else if (leaf->iparam == 0)
                for (size_t r = 0; r < run; r++)
                    v[r] = c[0] + (dim_t)r;
            else
                for (size_t r = 0; r < run; r++)
                    v[r] = c[leaf->iparam];
            j += run;
            c[0] += (dim_t)run;
            if (c[0] == dims[0]) {
                c[0] = dims[0] - 1;
                coords_next(dims, c);
            }
        }
    } else {
        for (size_t j = 0; j < n; j++) {
            /* IOTA: the linear index within the unit dims, tiled */
            const dim_t *u = leaf->gparam;
            vals[j] = (c[0] % u[0]) +
                      u[0] * ((c[1] % u[1]) + u[1] * ((c[2] % u[2]) + u[2] * (c[3] % u[3])));
            coords_next(dims, c);
        }
    }
    em_cpu_casts[s64][leaf->type](dst, vals, n);
    /* f16 blocks hold floats; round them to binary16 as every f16 op does, so that a consumer sees
     * the value the stored array would hold (2049 as f16 is 2048). */
    if (leaf->type == f16) {
        float *x = dst;
        for (size_t j = 0; j < n; j++)
            x[j] = em_half_to_float(em_float_to_half(x[j]));
    }
}

static void round_half_block(float *x, size_t n) {
    for (size_t i = 0; i < n; i++)
        x[i] = em_half_to_float(em_float_to_half(x[i]));
}

/* Scatters a block of the program's output (block representation) to a window: elements
 * [start, start + n) of the program's dims, each to its strided position. */
static void store_window(const em_jit_window *win, const em_jit_prog *p, const void *block,
                         dim_t start, size_t n) {
    af_dtype t = (af_dtype)p->instr[p->out[0]].type;
    size_t es = em_dtype_size(t), bs = em_cpu_block_size(t);
    char *base = (char *)win->ptr;
    const char *src = block;
    dim_t c[4];
    coords_of(p->dims, start, c);
    for (size_t j = 0; j < n; j++) {
        dim_t off = win->offset + c[0] * win->strides[0] + c[1] * win->strides[1] +
                    c[2] * win->strides[2] + c[3] * win->strides[3];
        char *dst = base + (size_t)off * es;
        if (t == f16) {
            uint16_t h = em_float_to_half(((const float *)src)[j]);
            memcpy(dst, &h, sizeof(h));
        } else {
            memcpy(dst, src + j * bs, es);
        }
        coords_next(p->dims, c);
    }
}

/* One element of a strided leaf, by index (in elements) into its buffer. */
typedef struct {
    uint64_t w[2];
} elem16;

/* Copies `run` elements, src[(c0 + r) * s0] for r < run, into a block (block representation). */
static void gather_run(char *dst, const char *src, dim_t c0, dim_t s0, size_t run, af_dtype t) {
#define EM_GATHER_RUN(T)                                                                           \
    do {                                                                                           \
        const T *s_ = (const T *)src;                                                              \
        T *d_ = (T *)dst;                                                                          \
        for (size_t r = 0; r < run; r++)                                                           \
            d_[r] = s_[(c0 + (dim_t)r) * s0];                                                      \
    } while (0)
    if (t == f16) {
        const uint16_t *s_ = (const uint16_t *)src;
        float *d_ = (float *)dst;
        for (size_t r = 0; r < run; r++)
            d_[r] = em_half_to_float(s_[(c0 + (dim_t)r) * s0]);
        return;
    }
    switch (em_dtype_size(t)) {
    case 1:
        EM_GATHER_RUN(uint8_t);
        break;
    case 2:
        EM_GATHER_RUN(uint16_t);
        break;
    case 4:
        EM_GATHER_RUN(uint32_t);
        break;
    case 8:
        EM_GATHER_RUN(uint64_t);
        break;
    default:
        EM_GATHER_RUN(elem16);
        break;
    }
#undef EM_GATHER_RUN
}

/* Reads elements [start, start + n) of a leaf that is not linear (a strided view, a broadcast, or
 * a leaf with index transforms, jit.h) into a block, in runs along dimension 0: the index of
 * dimensions 1..3 once per run, then one strided loop per run when dimension 0 has no
 * transform. */
static void gather_leaf(const em_node *leaf, const dim_t dims[4], dim_t start, size_t n,
                        char *dst) {
    af_dtype t = (af_dtype)leaf->type;
    size_t es = em_dtype_size(t), bs = em_cpu_block_size(t);
    const char *base = (const char *)leaf->buf->ptr;
    int m0 = em_xf_mode(leaf->xmode, 0);
    dim_t c[4];
    coords_of(dims, start, c);
    size_t j = 0;
    while (j < n) {
        size_t run = (size_t)(dims[0] - c[0]);
        if (run > n - j) run = n - j;
        char *d = dst + j * bs;
        /* Element index of coordinate 0 along dimension 0, and whether a ZERO transform of dims
         * 1..3 puts the whole run outside the buffer. */
        dim_t off = leaf->offset;
        bool zero = false;
        for (int k = 1; k < 4; k++) {
            int m = em_xf_mode(leaf->xmode, k);
            dim_t i = c[k];
            if (m) {
                i = em_xf_index(m, c[k], leaf->xlen[k], leaf->xshift[k]);
                if (m == EM_XF_ZERO && (i < 0 || i >= leaf->xlen[k])) zero = true;
            }
            off += i * leaf->strides[k];
        }
        if (zero) {
            memset(d, 0, run * bs); /* all-zero bits are 0 in every block representation */
        } else if (m0 == EM_XF_NONE) {
            gather_run(d, base + off * (dim_t)es, c[0], leaf->strides[0], run, t);
        } else if (m0 == EM_XF_WRAP || m0 == EM_XF_ZERO) {
            /* Segments of consecutive indices: a wrap restarts at 0, a zero border is a stretch of
             * zeros; each segment is one strided loop. */
            const dim_t len = leaf->xlen[0];
            size_t r = 0;
            while (r < run) {
                dim_t i = em_xf_index(m0, c[0] + (dim_t)r, len, leaf->xshift[0]);
                size_t seg;
                if (i < 0 || i >= len) { /* ZERO only: WRAP always lands inside */
                    seg = i < 0 && (size_t)-i < run - r ? (size_t)-i : run - r;
                    memset(d + r * bs, 0, seg * bs);
                } else {
                    seg = (size_t)(len - i) < run - r ? (size_t)(len - i) : run - r;
                    gather_run(d + r * bs, base + off * (dim_t)es, i, leaf->strides[0], seg, t);
                }
                r += seg;
            }
        } else {
            for (size_t r = 0; r < run; r++) {
                dim_t i = em_xf_index(m0, c[0] + (dim_t)r, leaf->xlen[0], leaf->xshift[0]);
                if (m0 == EM_XF_ZERO && (i < 0 || i >= leaf->xlen[0]))
                    memset(d + r * bs, 0, bs);
                else
                    gather_run(d + r * bs, base + (off + i * leaf->strides[0]) * (dim_t)es, 0, 0, 1,
                               t);
            }
        }
        j += run;
        c[0] += (dim_t)run;
        if (c[0] == dims[0]) {
            c[0] = dims[0] - 1;
            coords_next(dims, c);
        }
    }
}

static void eval_block(const eval_ctx *ctx, char *scratch, dim_t start, size_t n) {
    const em_jit_prog *p = ctx->p;
    const void *val[256];
    const void **vals = p->ninstr <= 256 ? val : malloc(sizeof(void *) * (size_t)p->ninstr);
    if (!vals) abort(); /* cannot happen for programs within the flush limits */
    for (int k = 0; k < p->ninstr; k++) {
        const em_jit_instr *in = &p->instr[k];
        af_dtype t = (af_dtype)in->type;
        char *slot = ctx->slot_off[k] == SIZE_MAX ? NULL : scratch + ctx->slot_off[k];
        if (in->leaf >= 0) {
            const em_node *leaf = p->leaves[in->leaf];
            if (leaf->op == EM_OP_SCALAR) {
                /* Filled once per thread by fill_scalars: nothing changes from block to block. */
            } else if (leaf->op == EM_OP_BUF) {
                size_t es = em_dtype_size(t);
                const char *base = (const char *)leaf->buf->ptr;
                if (p->linear) {
                    const char *src = base + (size_t)(leaf->offset + start) * es;
                    if (t != f16) {
                        vals[k] = src; /* read in place: no copy */
                        continue;
                    }
                    load_elems(slot, src, t, n);
                } else {
                    gather_leaf(leaf, p->dims, start, n, slot);
                }
            } else {
                gen_block(leaf, p->dims, start, n, slot);
            }
            vals[k] = slot;
            continue;
        }
        if (ctx->direct[k] >= 0)
            slot = (char *)ctx->outs[ctx->direct[k]] + (size_t)start * em_dtype_size(t);
        if (in->op == EM_OP_CAST) {
            af_dtype src = (af_dtype)p->instr[in->arg[0]].type;
            em_cpu_casts[src][t](slot, vals[in->arg[0]], n);
        } else {
            /* Operand dtype: for SELECT the value operands, else the first operand. */
            int tk = in->op == EM_OP_SELECT ? in->arg[1] : in->arg[0];
            af_dtype ot = (af_dtype)p->instr[tk].type;
            const void *args[3] = {NULL, NULL, NULL};
            for (int a = 0; a < in->nargs; a++)
                args[a] = vals[in->arg[a]];
            em_cpu_ops[in->op][ot](slot, args, n);
        }
        if (t == f16) round_half_block((float *)slot, n);
        vals[k] = slot;
    }
    if (ctx->block) {
        const void *res = p->ninstr > 0 ? vals[p->out[0]] : NULL; /* programs are never empty */
        memcpy(scratch + ctx->scratch_bytes, &res, sizeof(res));
        if (vals != val) free(vals);
        return;
    }
    if (ctx->win) {
        store_window(ctx->win, p, vals[p->out[0]], start, n);
        if (vals != val) free(vals);
        return;
    }
    for (int o = 0; o < p->nout; o++) {
        int k = p->out[o];
        af_dtype t = (af_dtype)p->instr[k].type;
        size_t es = em_dtype_size(t);
        char *dst = (char *)ctx->outs[o] + (size_t)start * es;
        if (t == f16) {
            const float *s = vals[k];
            uint16_t *d = (uint16_t *)dst;
            for (size_t j = 0; j < n; j++)
                d[j] = em_float_to_half(s[j]);
        } else if (vals[k] != dst) {
            memcpy(dst, vals[k], n * es);
        }
    }
    if (vals != val) free(vals);
}

/* Writes every SCALAR leaf's value over its whole slot, once per thread's scratch area. A slot
 * belongs to one instruction, so the values stay for every block the thread evaluates. The fill
 * doubles the filled prefix with each copy. */
static void fill_scalars(const eval_ctx *ctx, char *scratch) {
    const em_jit_prog *p = ctx->p;
    for (int k = 0; k < p->ninstr; k++) {
        const em_jit_instr *in = &p->instr[k];
        if (in->leaf < 0 || p->leaves[in->leaf]->op != EM_OP_SCALAR) continue;
        af_dtype t = (af_dtype)in->type;
        char *slot = scratch + ctx->slot_off[k];
        size_t total = em_cpu_block_size(t) * EM_CPU_BLOCK, done = em_cpu_block_size(t);
        em_scalar_store(slot, t, &p->leaves[in->leaf]->val);
        while (done < total) {
            size_t c = done < total - done ? done : total - done;
            memcpy(slot + done, slot, c);
            done += c;
        }
    }
}

/* True when the instruction reads its leaf in place, so it needs no scratch slot. */
static bool reads_in_place(const em_jit_prog *p, const em_jit_instr *in) {
    return p->linear && in->leaf >= 0 && p->leaves[in->leaf]->op == EM_OP_BUF && in->type != f16;
}

/* A scratch slot: one block of t in block representation, rounded to a cache line. */
static size_t slot_bytes(af_dtype t) {
    return (em_cpu_block_size(t) * EM_CPU_BLOCK + 63) & ~(size_t)63;
}

/* Gives each instruction that needs one a scratch slot, reusing a slot once its value is dead, so
 * a block's working set is the live values rather than the whole program: a chain of 16 ops
 * keeps three blocks live instead of sixteen. A slot is taken before the operands' slots are let
 * go, so an op never writes over its own input (the op loops use restrict). Outputs read from
 * scratch keep their slot to the end of the block, when they are copied out. Instructions without
 * a slot get SIZE_MAX. Returns false when out of host memory. */
static bool assign_slots(const em_jit_prog *p, const int *direct, size_t *slot_off,
                         size_t *scratch_bytes) {
    int n = p->ninstr;
    int *last = malloc(sizeof(int) * (size_t)n);
    size_t *free_off = malloc(sizeof(size_t) * (size_t)n);
    size_t *free_bytes = malloc(sizeof(size_t) * (size_t)n);
    size_t total = 0;
    int nfree = 0;
    bool ok = last && free_off && free_bytes;
    if (!ok) goto done;
    for (int k = 0; k < n; k++)
        last[k] = -1;
    for (int k = 0; k < n; k++)
        for (int a = 0; a < p->instr[k].nargs; a++)
            last[p->instr[k].arg[a]] = k;
    for (int o = 0; o < p->nout; o++)
        last[p->out[o]] = n;
    /* Scalar slots are filled before the first block, so none may have held an earlier value of
     * the program: they come first and are never freed. */
    for (int k = 0; k < n; k++) {
        const em_jit_instr *in = &p->instr[k];
        slot_off[k] = SIZE_MAX;
        if (in->leaf < 0 || p->leaves[in->leaf]->op != EM_OP_SCALAR) continue;
        last[k] = n;
        slot_off[k] = total;
        total += slot_bytes((af_dtype)in->type);
    }
    for (int k = 0; k < n; k++) {
        const em_jit_instr *in = &p->instr[k];
        if (slot_off[k] == SIZE_MAX && !reads_in_place(p, in) && direct[k] < 0) {
            size_t bytes = slot_bytes((af_dtype)in->type);
            for (int f = 0; f < nfree && slot_off[k] == SIZE_MAX; f++) {
                if (free_bytes[f] != bytes) continue;
                slot_off[k] = free_off[f];
                free_off[f] = free_off[nfree - 1];
                free_bytes[f] = free_bytes[--nfree];
            }
            if (slot_off[k] == SIZE_MAX) {
                slot_off[k] = total;
                total += bytes;
            }
            if (last[k] < 0) last[k] = k; /* never read: free at once */
        }
        /* Operands whose last reader is k, and k itself if nothing reads it, free their slots. */
        for (int a = 0; a <= in->nargs; a++) {
            int v = a < in->nargs ? in->arg[a] : k;
            if (last[v] != k || slot_off[v] == SIZE_MAX) continue;
            bool listed = false; /* an operand used twice by k is freed once */
            for (int f = 0; f < nfree; f++)
                listed = listed || free_off[f] == slot_off[v];
            if (listed) continue;
            free_off[nfree] = slot_off[v];
            free_bytes[nfree++] = slot_bytes((af_dtype)p->instr[v].type);
        }
    }
    *scratch_bytes = total;
done:
    free(last);
    free(free_off);
    free(free_bytes);
    return ok;
}

/* Evaluates prog into outs, or into the window `win` when it is set (one output). */
static af_err cpu_eval(const em_jit_prog *prog, void *const *outs, const em_jit_window *win) {
    eval_ctx ctx = {.p = prog, .outs = outs, .win = win};
    ctx.slot_off = malloc(sizeof(size_t) * (size_t)prog->ninstr);
    ctx.direct = malloc(sizeof(int) * (size_t)prog->ninstr);
    if (!ctx.slot_off || !ctx.direct) {
        free(ctx.slot_off);
        free(ctx.direct);
        return AF_ERR_NO_MEM;
    }
    for (int k = 0; k < prog->ninstr; k++)
        ctx.direct[k] = -1;
    /* Direct writes need every output to be a computed (non-leaf) value that is not f16 (whose
     * block holds floats), and no output buffer to be read by the program. */
    bool alias = win != NULL;
    for (int i = 0; i < prog->nleaf; i++)
        for (int o = 0; o < prog->nout; o++)
            if (!win && prog->leaves[i]->op == EM_OP_BUF && prog->leaves[i]->buf->ptr == outs[o])
                alias = true;
    for (int o = 0; o < prog->nout && !alias; o++) {
        const em_jit_instr *in = &prog->instr[prog->out[o]];
        if (in->leaf < 0 && in->type != f16 && ctx.direct[prog->out[o]] < 0)
            ctx.direct[prog->out[o]] = o;
    }
    if (!assign_slots(prog, ctx.direct, ctx.slot_off, &ctx.scratch_bytes)) {
        free(ctx.slot_off);
        free(ctx.direct);
        return AF_ERR_NO_MEM;
    }
    dim_t total = prog->elements;
    dim_t nblocks = (total + EM_CPU_BLOCK - 1) / EM_CPU_BLOCK;
    int failed = 0;
    /* Small arrays run on the calling thread: waking the pool costs more than the work. */
#pragma omp parallel if (total > 32 * EM_CPU_BLOCK) reduction(| : failed)
    {
        char *scratch = aligned_alloc(64, ctx.scratch_bytes ? ctx.scratch_bytes : 64);
        if (scratch) fill_scalars(&ctx, scratch);
            /* Every thread must reach the worksharing loop, so a failed allocation skips blocks
             * instead of the loop. */
#pragma omp for schedule(static)
        for (dim_t b = 0; b < nblocks; b++) {
            if (!scratch) {
                failed = 1;
                continue;
            }
            dim_t start = b * EM_CPU_BLOCK;
            size_t n = (size_t)(total - start < EM_CPU_BLOCK ? total - start : EM_CPU_BLOCK);
            eval_block(&ctx, scratch, start, n);
        }
        free(scratch);
    }
    free(ctx.slot_off);
    free(ctx.direct);
    return failed ? AF_ERR_NO_MEM : AF_SUCCESS;
}

af_err em_cpu_jit_eval(int dev, const em_jit_prog *prog, void *const *outs) {
    (void)dev;
    /* Long element-wise chains cost the interpreter more than their memory traffic; the fused path
     * runs eligible programs as one compiled loop and declines everything else. */
    if (em_cpu_fuse_eval(prog, outs)) return AF_SUCCESS;
    return cpu_eval(prog, outs, NULL);
}

af_err em_cpu_jit_eval_window(int dev, const em_jit_prog *prog, const em_jit_window *out) {
    (void)dev;
    return cpu_eval(prog, NULL, out);
}

/* ---- The block evaluator: the fused-input seam for consumers (cpu.h) ---- */

struct em_cpu_block_eval {
    eval_ctx ctx;
    /* The one buffer a linear program reads, where it reads exactly one (NULL otherwise), and
     * its element size: what em_cpu_block_eval_prefetch asks memory for. */
    const char *pf_base;
    size_t pf_es;
};

/* Sets e's prefetch source. With several buffers the hardware streams them well by itself, and
 * prefetches would hold up the evaluation's own reads. */
static void prefetch_source(em_cpu_block_eval *e) {
    const em_jit_prog *p = e->ctx.p;
    const em_node *buf = NULL;
    if (!p->linear) return;
    for (int i = 0; i < p->nleaf; i++) {
        if (p->leaves[i]->op != EM_OP_BUF) continue;
        if (buf) return;
        buf = p->leaves[i];
    }
    if (!buf) return;
    e->pf_es = em_dtype_size((af_dtype)buf->type);
    e->pf_base = (const char *)buf->buf->ptr + (size_t)buf->offset * e->pf_es;
}

af_err em_cpu_block_eval_new(const em_jit_prog *prog, em_cpu_block_eval **out) {
    em_cpu_block_eval *e = calloc(1, sizeof(*e));
    if (!e) return AF_ERR_NO_MEM;
    e->ctx.p = prog;
    e->ctx.block = true;
    e->ctx.slot_off = malloc(sizeof(size_t) * (size_t)prog->ninstr);
    e->ctx.direct = malloc(sizeof(int) * (size_t)prog->ninstr);
    if (!e->ctx.slot_off || !e->ctx.direct) goto oom;
    /* No instruction writes into an output: the consumer reads output 0 from its slot (or in
     * place, for a leaf read where it lies). */
    for (int k = 0; k < prog->ninstr; k++)
        e->ctx.direct[k] = -1;
    if (!assign_slots(prog, e->ctx.direct, e->ctx.slot_off, &e->ctx.scratch_bytes)) goto oom;
    prefetch_source(e);
    *out = e;
    return AF_SUCCESS;
oom:
    em_cpu_block_eval_free(e);
    return AF_ERR_NO_MEM;
}

void em_cpu_block_eval_free(em_cpu_block_eval *e) {
    if (!e) return;
    free(e->ctx.slot_off);
    free(e->ctx.direct);
    free(e);
}

char *em_cpu_block_scratch_new(const em_cpu_block_eval *e) {
    /* The slots, then the word that carries a block's result address back to the caller. */
    size_t bytes = (e->ctx.scratch_bytes + sizeof(void *) + 63) & ~(size_t)63;
    char *scratch = aligned_alloc(64, bytes);
    if (scratch) fill_scalars(&e->ctx, scratch);
    return scratch;
}

const void *em_cpu_block_eval_run(const em_cpu_block_eval *e, char *scratch, dim_t start,
                                  size_t n) {
    const void *res;
    eval_block(&e->ctx, scratch, start, n);
    memcpy(&res, scratch + e->ctx.scratch_bytes, sizeof(res));
    return res;
}

void em_cpu_block_eval_prefetch(const em_cpu_block_eval *e, dim_t start, size_t n) {
    if (!e->pf_base) return;
    const char *src = e->pf_base + (size_t)start * e->pf_es;
    for (size_t c = 0; c < n * e->pf_es; c += 64) /* every line, in the order they are read */
        __builtin_prefetch(src + c);
}
