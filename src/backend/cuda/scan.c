/* Scans and where on CUDA (algorithm.h, "Scans, where, diff"). Each kernel is generated from the
 * input's JIT program: jit_gen.c's fused value (em_cu_jit_value_source) computes the program's
 * output 0 in registers, and kernels/scan.cuh scans it in the same pass, so accum(a*b) reads a
 * and b once and writes only its output. A module is keyed by the program's structural key and
 * shape, the kernel, the op, exclusiveness, the key width and the text of scan.cuh, so a cache hit
 * generates nothing.
 *
 * Kernel choice (scan.cuh describes each kernel), viewing the input as in[i + inner * (j + len *
 * o)] scanned over j:
 *  - contiguous lines (inner == 1): long ones (more than EM_CU_SCAN_WARP_MAX elements) are cut
 *    into tiles combined by a single-pass decoupled look-back (em_scan_tiles); shorter ones get a
 *    warp each (em_scan_warps); very short ones a thread each (em_scan_cols);
 *  - a dim with lower dims: a thread per line and chunk of j, chunks combined by the same
 *    look-back (em_scan_cols), reads coalesced across consecutive i.
 * Keys are read as a dense buffer: an evaluated, dense key array where it lies, anything else
 * (a lazy tree, a view) evaluated into a temporary first. The look-back status (a ticket
 * counter, then per tile one word holding flag and value together where the scan element has 4
 * or 8 bytes, else flags and two values per tile or chunk) comes from the memory pool, a few
 * bytes per tile of thousands of elements, cleared by one memset on the stream, and goes back to
 * the pool as soon as the work is enqueued (pool reuse is ordered on the same stream). Nothing
 * waits for the device, except where, whose count is a host value: it counts per tile, turns the
 * counts into offsets, reads the total, and writes. */
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

enum {
    K_ALL = 0,
    K_TILES = 1,
    K_WARPS = 2,
    K_COLS = 3,
    K_WCOUNT = 4,
    K_WOFFSETS = 5,
    K_WWRITE = 6
};
static const char *const kernel_name[] = {
    "em_scan_tiles",  "em_scan_tiles",    "em_scan_warps",  "em_scan_cols",
    "em_where_count", "em_where_offsets", "em_where_write",
};

/* Lines up to this long get a warp each; longer ones are tiled. Lines up to EM_CU_SCAN_THREAD_MAX
 * get a thread each. */
#define EM_CU_SCAN_WARP_MAX   4096
#define EM_CU_SCAN_THREAD_MAX 16
#define EM_CU_WHERE_TILE      (256 * 16)

/* Values per thread of the chunk kernel (em_scan_cols): 64 bytes of values. */
static int items_of(af_dtype t) {
    size_t es = em_dtype_size(t);
    return es <= 4 ? 16 : es <= 8 ? 8 : 4;
}

/* Values per thread of the tile kernel: 128 bytes of values (64 of pairs by key), so that a
 * tile's look-back is paid for 8192 4-byte values and each thread keeps eight 16-byte reads in
 * flight. */
static int tile_items_of(af_dtype t, bool keys) {
    size_t es = em_dtype_size(t);
    int n = es <= 4 ? 32 : es <= 8 ? 16 : 8;
    return keys ? n / 2 : n;
}

/* Bytes of one look-back value: the value, or by key the pair (value, int flag) as the device
 * lays it out (scan.cuh's em_se). */
static size_t se_size(af_dtype t, bool keys) {
    size_t es = em_dtype_size(t);
    if (!keys) return es;
    size_t a = es < 16 ? es : 16;
    if (t == c32) a = 8;
    return (es + 4 + a - 1) / a * a;
}

/* The tile kernel's status word (scan.cuh's EM_SCAN_PACK): 1 for 8-byte words (a 4-byte scan
 * element beside its flag), 2 for 16-byte words (an 8-byte element), 0 for separate flags and
 * values (larger elements). */
static int pack_of(size_t ses) {
    return ses == 4 ? 1 : ses == 8 ? 2 : 0;
}

static bool type_ok(af_dtype t) {
    return t == f32 || t == f64 || t == c32 || t == c64 || t == s32 || t == u32 || t == s64 ||
           t == u64;
}

static uint64_t scan_src_hash(void) {
    static _Atomic uint64_t hash;
    uint64_t h = atomic_load_explicit(&hash, memory_order_relaxed);
    if (h) return h;
    h = EM_HASH_SEED;
    for (const char *s = em_cu_src_scan; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    h = em_hash_mix(h, em_cu_prelude_hash());
    atomic_store_explicit(&hash, h, memory_order_relaxed);
    return h;
}

/* What a scan module's source depends on. `prog` is NULL for em_where_offsets. */
typedef struct {
    const em_jit_prog *prog;
    const em_cu_jit_shape *shape;
    int kernel;
    int op;   /* af_binary_op */
    int excl; /* exclusive scan */
    int kw;   /* key bytes: 0 (no keys), 4 or 8 */
    int items;
    int titems; /* values per thread of em_scan_tiles */
    int pack;   /* pack_of the scan element */
} scan_gen;

static char *scan_source(const void *ctx) {
    const scan_gen *g = ctx;
    em_sbuf b = {0};
    if (g->prog) {
        char *v = em_cu_jit_value_source(g->prog, g->shape);
        if (!v) return NULL;
        em_sbuf_printf(&b, "%s", v);
        free(v);
    } else {
        em_sbuf_printf(&b, "// Ember where, offsets\n%s\n", em_cu_src_prelude);
    }
    em_sbuf_printf(&b,
                   "#define EM_SCAN_KERNEL %d\n#define EM_SCAN_OP %d\n#define EM_SCAN_EXCL %d\n"
                   "#define EM_SCAN_KEYS %d\n#define EM_SCAN_ITEMS %d\n#define EM_SCAN_TITEMS %d\n"
                   "#define EM_SCAN_PACK %d\n",
                   g->kernel, g->op, g->excl, g->kw != 0, g->items, g->titems ? g->titems : 16,
                   g->pack);
    if (g->kw)
        em_sbuf_printf(&b, "typedef %s em_kt;\n",
                       g->kw == 4 ? "unsigned int" : "unsigned long long");
    em_sbuf_printf(&b, "%s", em_cu_src_scan);
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

static uint64_t scan_key(const scan_gen *g) {
    uint64_t k = g->prog ? em_cu_jit_key(g->prog, g->shape) : EM_HASH_SEED;
    k = em_hash_mix(k, 0x7363616e00000000ull | (uint64_t)g->kernel << 24 | (uint64_t)g->op << 16 |
                           (uint64_t)g->excl << 8 | (uint64_t)g->kw);
    k = em_hash_mix(k, (uint64_t)g->items | (uint64_t)g->titems << 16 | (uint64_t)g->pack << 32);
    return em_hash_mix(k, scan_src_hash());
}

static af_err scan_kernel(int dev, const scan_gen *g, CUfunction *out) {
    return em_cu_module_get(dev, scan_key(g), kernel_name[g->kernel], scan_source, g, out);
}

/* ---- the compile check: every kernel, op and dtype, with and without keys ---- */

static af_err check_one(af_dtype t, bool linear, bool where, scan_gen g) {
    af_err err = AF_SUCCESS;
    em_cu_sample_prog sp;
    em_jit_prog prog;
    em_cu_jit_shape shape;
    em_cu_sample_init(&sp, t, linear, where ? EM_CU_SAMPLE_GT : EM_CU_SAMPLE_ARITH);
    EM_TRY(em_jit_prog_build(&sp.root, 1, &prog));
    em_cu_jit_shape_of(&prog, &shape);
    g.prog = &prog;
    g.shape = &shape;
    char *src = scan_source(&g);
    em_jit_prog_free(&prog);
    if (!src) EM_FAIL(AF_ERR_NO_MEM, "out of host memory");
    err = em_cu_compile_source(src, kernel_name[g.kernel]);
    free(src);
    if (err != AF_SUCCESS) em_err_attribute(__func__);
fail:
    return err;
}

static af_err scan_compile_check(void) {
    af_err err = AF_SUCCESS;
    static const af_dtype types[] = {f32, f64, c32, c64, s32, u32, s64, u64};
    /* One unit per dtype and op holds the three scan kernels (EM_SCAN_KERNEL 0); across a
     * dtype's four units the key width runs through none, 4 and 8 bytes and exclusiveness
     * through both values, which keeps the check near forty NVRTC runs. */
    for (size_t ti = 0; ti < sizeof(types) / sizeof(types[0]); ti++)
        for (int op = 0; op < 4; op++) {
            static const int kws[3] = {0, 4, 8};
            af_dtype t = types[ti];
            int kw = kws[((size_t)op + ti) % 3];
            scan_gen g = {.kernel = K_ALL,
                          .op = op,
                          .excl = op & 1,
                          .kw = kw,
                          .items = items_of(t),
                          .titems = tile_items_of(t, kw != 0),
                          .pack = pack_of(se_size(t, kw != 0))};
            EM_TRY(check_one(t, true, false, g));
        }
    /* Strided leaves change only the value's loads. */
    {
        scan_gen g = {.kernel = K_ALL,
                      .op = 0,
                      .excl = 0,
                      .kw = 4,
                      .items = items_of(f32),
                      .titems = tile_items_of(f32, true),
                      .pack = pack_of(se_size(f32, true))};
        EM_TRY(check_one(f32, false, false, g));
    }
    for (int linear = 1; linear >= 0; linear--)
        for (int k = K_WCOUNT; k <= K_WWRITE; k += 2) {
            scan_gen g = {.kernel = k};
            EM_TRY(check_one(f32, linear, true, g));
            /* b8 leaves: 16 values per vector load. */
            EM_TRY(check_one(b8, linear, false, g));
        }
    {
        scan_gen g = {.kernel = K_WOFFSETS};
        char *src = scan_source(&g);
        if (!src) EM_FAIL(AF_ERR_NO_MEM, "out of host memory");
        err = em_cu_compile_source(src, kernel_name[K_WOFFSETS]);
        free(src);
        if (err != AF_SUCCESS) {
            em_err_attribute(__func__);
            goto fail;
        }
    }
fail:
    return err;
}
EM_CU_COMPILE_CHECK(scan, scan_compile_check)

/* ---- keys ---- */

/* A dense device pointer to the keys' values: where they lie when the program is one dense leaf
 * of the program's dims, else evaluated into *tmp. */
static af_err keys_dense(int dev, const em_jit_prog *keys, em_buf **tmp, const void **ptr) {
    af_dtype kt = (af_dtype)keys->instr[keys->out[0]].type;
    size_t ks = em_dtype_size(kt);
    if (keys->ninstr == 1 && keys->linear && keys->instr[0].leaf >= 0) {
        const em_node *leaf = keys->leaves[keys->instr[0].leaf];
        if (leaf->op == EM_OP_BUF && leaf->type == kt) {
            *ptr = (const char *)leaf->buf->ptr + (size_t)leaf->offset * ks;
            return AF_SUCCESS;
        }
    }
    af_err err = em_buf_alloc(dev, (size_t)keys->elements * ks, tmp);
    if (err != AF_SUCCESS) return err;
    void *outs[1] = {(*tmp)->ptr};
    err = em_cu_jit_eval(dev, keys, outs);
    if (err != AF_SUCCESS) {
        em_buf_release(*tmp);
        *tmp = NULL;
        return err;
    }
    *ptr = (*tmp)->ptr;
    return AF_SUCCESS;
}

/* ---- launches ---- */

/* The look-back status of `items` tiles or chunks in one pool block: a ticket counter and the
 * flags (cleared together by one memset), then the aggregates and the inclusive prefixes. */
typedef struct {
    em_buf *buf;
    void *ticket, *flag, *agg, *incl;
} scan_status;

/* Clears the first `bytes` of s's block on the stream; on failure the block goes back. */
static af_err status_clear(const char *fn, cudaStream_t stream, scan_status *s, size_t bytes) {
    cudaError_t e = cudaMemsetAsync(s->buf->ptr, 0, bytes, stream);
    if (e == cudaSuccess) return AF_SUCCESS;
    em_buf_release(s->buf);
    s->buf = NULL;
    return em_cu_err(e, fn, "clearing a scan's status");
}

static af_err status_new(const char *fn, int dev, cudaStream_t stream, dim_t items, size_t ses,
                         scan_status *s) {
    af_err err = AF_SUCCESS;
    size_t head = (16 + (size_t)items + 255) & ~(size_t)255;
    size_t vals = ((size_t)items * ses + 255) & ~(size_t)255;
    EM_TRY(em_buf_alloc(dev, head + 2 * vals, &s->buf));
    char *b = s->buf->ptr;
    s->ticket = b;
    s->flag = b + 16;
    s->agg = b + head;
    s->incl = b + head + vals;
    err = status_clear(fn, stream, s, 16 + (size_t)items);
fail:
    return err;
}

/* The packed look-back status of the tile kernel: the ticket counter, then one word of `wsz`
 * bytes per tile (flag and value together), all cleared by one memset. */
static af_err status_new_packed(const char *fn, int dev, cudaStream_t stream, dim_t items,
                                size_t wsz, scan_status *s) {
    af_err err = AF_SUCCESS;
    size_t head = 256, bytes = head + (size_t)items * wsz;
    EM_TRY(em_buf_alloc(dev, bytes, &s->buf));
    char *b = s->buf->ptr;
    s->ticket = b;
    s->flag = NULL;
    s->agg = b + head;
    s->incl = NULL;
    err = status_clear(fn, stream, s, bytes);
fail:
    return err;
}

af_err em_cu_scan(int dev, const em_jit_prog *in, const em_jit_prog *keys, int dim, af_binary_op op,
                  bool inclusive, void *out) {
    af_err err = AF_SUCCESS;
    cudaStream_t stream;
    CUfunction kern;
    int prev = -1;
    bool entered = false;
    em_buf *ktmp = NULL;
    scan_status st = {0};
    const void *kptr = NULL;
    _Alignas(16) unsigned char params[EM_CU_PARAM_MAX];
    af_dtype t = (af_dtype)in->instr[in->out[0]].type;
    if (!type_ok(t) || (int)op < 0 || (int)op > 3)
        return em_err(AF_ERR_NOT_SUPPORTED, __func__, "scan %d of dtype %s", (int)op,
                      em_dtype_name(t));
    if (in->elements <= 0) return AF_SUCCESS;
    int kw = 0;
    if (keys) {
        kw = (int)em_dtype_size((af_dtype)keys->instr[keys->out[0]].type);
        if (kw != 4 && kw != 8) EM_FAIL(AF_ERR_TYPE, "keys of %d bytes", kw);
        EM_TRY(keys_dense(dev, keys, &ktmp, &kptr));
    }
    EM_TRY(em_cu_enter(__func__, dev, &stream, &prev));
    entered = true;
    em_cu_jit_shape shape;
    em_cu_jit_shape_of(in, &shape);
    const dim_t V = in->linear ? shape.vec : 1;
    void *none[1] = {NULL};
    bool vec_ok = V > 1 && em_cu_jit_vec_ok(in, &shape, none);
    dim_t inner = 1, len = in->dims[dim], outer = 1;
    for (int d = 0; d < dim; d++)
        inner *= in->dims[d];
    for (int d = dim + 1; d < 4; d++)
        outer *= in->dims[d];
    const int items = items_of(t), titems = tile_items_of(t, keys != NULL);
    const size_t ses = se_size(t, keys != NULL);
    scan_gen g = {.prog = in,
                  .shape = &shape,
                  .op = (int)op,
                  .excl = !inclusive,
                  .kw = kw,
                  .items = items,
                  .titems = titems,
                  .pack = pack_of(ses)};
    dim3 block = {256, 1, 1};
    if (inner == 1 && len > EM_CU_SCAN_WARP_MAX) {
        /* Long contiguous lines: tiles and the decoupled look-back. Vector reads need every line
         * to start on a vector boundary. */
        bool vec = vec_ok && (outer == 1 || len % V == 0);
        if (em_cu_jit_pack(in, &shape, none, vec, NULL, params, sizeof(params)) == 0)
            EM_FAIL(AF_ERR_NOT_SUPPORTED, "the input's JIT program is too large");
        dim_t tile = 256 * (dim_t)titems, tpl = (len + tile - 1) / tile, ntiles = tpl * outer;
        if (ntiles > 0x7fffffff) EM_FAIL(AF_ERR_SIZE, "%lld tiles are too many", (long long)ntiles);
        if (g.pack)
            EM_TRY(status_new_packed(__func__, dev, stream, ntiles, (size_t)8 * g.pack, &st));
        else
            EM_TRY(status_new(__func__, dev, stream, ntiles, ses, &st));
        g.kernel = K_TILES;
        EM_TRY(scan_kernel(dev, &g, &kern));
        unsigned long long len_ = (unsigned long long)len, tpl_ = (unsigned long long)tpl;
        dim3 grid = {(unsigned)ntiles, 1, 1};
        void *args[] = {params, &len_, &tpl_, &st.ticket, &st.flag, &st.agg, &st.incl, &kptr, &out};
        EM_TRY(em_cu_launch(__func__, "launching a scan", kern, grid, block, args, stream));
    } else if (inner == 1 && len > EM_CU_SCAN_THREAD_MAX) {
        /* A warp per line; its reads are scalar (lines need not start on a vector boundary). */
        if (em_cu_jit_pack(in, &shape, none, false, NULL, params, sizeof(params)) == 0)
            EM_FAIL(AF_ERR_NOT_SUPPORTED, "the input's JIT program is too large");
        dim_t blocks = (outer + 7) / 8;
        if (blocks > 0x7fffffff) EM_FAIL(AF_ERR_SIZE, "%lld lines are too many", (long long)outer);
        g.kernel = K_WARPS;
        EM_TRY(scan_kernel(dev, &g, &kern));
        unsigned long long len_ = (unsigned long long)len, lines_ = (unsigned long long)outer;
        dim3 grid = {(unsigned)blocks, 1, 1};
        void *args[] = {params, &len_, &lines_, &kptr, &out};
        EM_TRY(em_cu_launch(__func__, "launching a scan", kern, grid, block, args, stream));
    } else {
        /* A thread per line and chunk of `items` elements along the dim. */
        if (em_cu_jit_pack(in, &shape, none, false, NULL, params, sizeof(params)) == 0)
            EM_FAIL(AF_ERR_NOT_SUPPORTED, "the input's JIT program is too large");
        dim_t nq = inner * outer;
        dim_t bdim = nq < 256 ? (nq + 31) / 32 * 32 : 256;
        dim_t cb = (nq + bdim - 1) / bdim, nchunks = (len + items - 1) / items;
        if (cb * nchunks > 0x7fffffff)
            EM_FAIL(AF_ERR_SIZE, "%lld blocks are too many", (long long)(cb * nchunks));
        /* The ticket counter is needed even without a look-back. */
        EM_TRY(status_new(__func__, dev, stream, nchunks > 1 ? nq * nchunks : 0, ses, &st));
        g.kernel = K_COLS;
        EM_TRY(scan_kernel(dev, &g, &kern));
        unsigned long long inner_ = (unsigned long long)inner, len_ = (unsigned long long)len,
                           nq_ = (unsigned long long)nq, cb_ = (unsigned long long)cb,
                           nchunks_ = (unsigned long long)nchunks;
        dim3 grid = {(unsigned)(cb * nchunks), 1, 1}, cblock = {(unsigned)bdim, 1, 1};
        void *args[] = {params,     &inner_,  &len_,   &nq_,     &cb_,  &nchunks_,
                        &st.ticket, &st.flag, &st.agg, &st.incl, &kptr, &out};
        EM_TRY(em_cu_launch(__func__, "launching a scan", kern, grid, cblock, args, stream));
    }
fail:
    if (st.buf) em_buf_release(st.buf);
    if (entered) em_cu_leave_enqueued(dev, prev);
    if (ktmp) em_buf_release(ktmp);
    return err;
}

af_err em_cu_where(int dev, const em_jit_prog *in, em_buf **idx, dim_t *count) {
    af_err err = AF_SUCCESS;
    cudaStream_t stream;
    CUfunction kern;
    int prev = -1;
    bool entered = false;
    em_buf *work = NULL, *res = NULL;
    _Alignas(16) unsigned char params[EM_CU_PARAM_MAX];
    dim_t n = in->elements;
    *idx = NULL;
    *count = 0;
    if (n <= 0) return AF_SUCCESS;
    if (n > 0xffffffffll)
        return em_err(AF_ERR_SIZE, __func__, "%lld elements: u32 indices cannot address them",
                      (long long)n);
    em_cu_jit_shape shape;
    em_cu_jit_shape_of(in, &shape);
    const dim_t V = in->linear ? shape.vec : 1;
    void *none[1] = {NULL};
    bool vec = V > 1 && em_cu_jit_vec_ok(in, &shape, none);
    if (em_cu_jit_pack(in, &shape, none, vec, NULL, params, sizeof(params)) == 0)
        EM_FAIL(AF_ERR_NOT_SUPPORTED, "the input's JIT program is too large");
    dim_t ntiles = (n + EM_CU_WHERE_TILE - 1) / EM_CU_WHERE_TILE;
    /* counts (u32), offsets (u64) and the total (u64), in one pool block. */
    size_t cbytes = ((size_t)ntiles * 4 + 15) & ~(size_t)15;
    EM_TRY(em_buf_alloc(dev, cbytes + (size_t)ntiles * 8 + 8, &work));
    void *counts = work->ptr, *offsets = (char *)work->ptr + cbytes;
    void *total = (char *)offsets + (size_t)ntiles * 8;
    EM_TRY(em_cu_enter(__func__, dev, &stream, &prev));
    entered = true;
    unsigned long long n_ = (unsigned long long)n, nt_ = (unsigned long long)ntiles;
    dim3 grid = {(unsigned)ntiles, 1, 1}, block = {256, 1, 1}, one = {1, 1, 1}, wide = {1024, 1, 1};
    scan_gen g = {.prog = in, .shape = &shape, .kernel = K_WCOUNT};
    EM_TRY(scan_kernel(dev, &g, &kern));
    void *cargs[] = {params, &n_, &counts};
    EM_TRY(em_cu_launch(__func__, "launching where's count", kern, grid, block, cargs, stream));
    scan_gen go = {.kernel = K_WOFFSETS};
    EM_TRY(scan_kernel(dev, &go, &kern));
    void *oargs[] = {&counts, &nt_, &offsets, &total};
    EM_TRY(em_cu_launch(__func__, "launching where's offsets", kern, one, wide, oargs, stream));
    em_cu_leave_enqueued(dev, prev);
    entered = false;
    /* The count is a host value: the one wait of where. */
    unsigned long long m = 0;
    EM_TRY(em_backend_self.copy_d2h(dev, &m, total, sizeof(m)));
    if (m > 0) {
        EM_TRY(em_buf_alloc(dev, (size_t)m * 4, &res));
        EM_TRY(em_cu_enter(__func__, dev, &stream, &prev));
        entered = true;
        g.kernel = K_WWRITE;
        EM_TRY(scan_kernel(dev, &g, &kern));
        void *o = res->ptr;
        void *wargs[] = {params, &n_, &offsets, &o};
        EM_TRY(em_cu_launch(__func__, "launching where's write", kern, grid, block, wargs, stream));
    }
    *idx = res;
    *count = (dim_t)m;
    res = NULL;
fail:
    if (entered) em_cu_leave_enqueued(dev, prev);
    if (res) em_buf_release(res);
    if (work) em_buf_release(work);
    return err;
}
