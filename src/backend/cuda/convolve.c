/* Spatial convolutions on CUDA (src/backend/signal.h): Ember's own kernels in
 * kernels/convolve.cuh, compiled by NVRTC per dtype and, for the tiled kernels, per filter size.
 *
 * Choice of kernel: rank 1 with a filter of at most EM_CU_CONV_TILE_MAX1 taps runs the row tile
 * kernel (each thread R consecutive outputs of a row), rank 2 with a filter of at most
 * EM_CU_CONV_TILE_MAX2 per dim the column tile kernel (each thread R outputs down a column); both
 * stage the tile in shared memory and take the filter size as a template parameter (fully
 * unrolled, see the kernels' comments). They run when the tile fits the static shared-memory
 * limit, rows are shorter than 2^30 elements and (rank 2) an image holds fewer than 2^31, since
 * they index in 32 bits. Everything else (rank 3, larger filters) runs the generic kernel, one
 * thread per output. The separable convolution is two such convolutions, the intermediate kept
 * in the signal's dtype as ArrayFire keeps it. */
#include "signal_impl.h"

#include "../../core/err.h"
#include "../../core/mem.h"

#include <stdio.h>
#include <string.h>

#define EM_CU_CONV_TILE_MAX1 256
#define EM_CU_CONV_TILE_MAX2 31
/* Static shared memory of a tile kernel, with room under the 48 KiB limit. */
#define EM_CU_CONV_SMEM_MAX (46 * 1024)

/* Mirrors em_conv_params in kernels/convolve.cuh. */
typedef struct {
    long long sd[4], fd[4], od[4];
    long long start[3];
    int rank;
} em_cu_conv_params;

typedef struct {
    long long sd[4], fd[4], od[4];
    long long st[2], pad[2], dil[2];
} em_cu_nn_params;

/* The kernel a convolution runs: kind 0 the generic one; 1 the row tile (em_conv_tile_impl,
 * rank 1); 2 the column tile (em_conv_tile2_impl, rank 2). */
typedef struct {
    int kind;
    int fw, fh, r, bx, by;
} conv_plan;

/* Outputs per thread by rank and accumulation type: registers hold R accumulators and an R-value
 * window. The row tile needs R odd (lanes R values apart must hit distinct banks); the column
 * tile is conflict-free for any R. */
static int tile_r(int rank, af_dtype acc) {
    if (rank == 1) return acc == f32 ? 7 : acc == c64 ? 3 : 5;
    return acc == f32 ? 8 : acc == c64 ? 4 : 6;
}

/* Static shared memory of a tile kernel: the tile and the filter. */
static size_t tile_smem(const conv_plan *p, size_t es) {
    size_t tw = (size_t)(p->kind == 1 ? p->bx * p->r : p->bx) + (size_t)(p->fw - 1);
    size_t th = (size_t)(p->kind == 1 ? p->by : p->by * p->r) + (size_t)(p->fh - 1);
    return (tw * th + (size_t)(p->fw * p->fh)) * es;
}

static conv_plan plan_for(const em_conv_desc *d) {
    conv_plan p;
    memset(&p, 0, sizeof(p));
    size_t es = em_dtype_size(d->acc);
    /* The tile kernels index within a row in 32 bits, and the column tile within an image. */
    const long long lim = 1LL << 30;
    if (d->sdims[0] >= lim || d->odims[0] >= lim) return p;
    if (d->rank == 1 && d->fdims[0] <= EM_CU_CONV_TILE_MAX1) {
        p = (conv_plan){1, (int)d->fdims[0], 1, tile_r(1, d->acc), 128, 1};
        if (tile_smem(&p, es) > EM_CU_CONV_SMEM_MAX) p.kind = 0;
    } else if (d->rank == 2 && d->fdims[0] <= EM_CU_CONV_TILE_MAX2 &&
               d->fdims[1] <= EM_CU_CONV_TILE_MAX2 && d->sdims[0] * d->sdims[1] < 2 * lim &&
               d->odims[1] < lim) {
        /* Eight warps per block where the tile fits, else four, else two. */
        for (int by = 8; by >= 2 && !p.kind; by /= 2) {
            p = (conv_plan){2, (int)d->fdims[0], (int)d->fdims[1], tile_r(2, d->acc), 32, by};
            long long rows = (long long)p.by * p.r;
            if (tile_smem(&p, es) > EM_CU_CONV_SMEM_MAX || (d->odims[1] + rows - 1) / rows > 65535)
                p.kind = 0;
        }
    }
    return p;
}

/* The generated line defining kernel `name`. */
static void conv_tail(char *buf, size_t cap, const char *name, af_dtype type, af_dtype acc,
                      const conv_plan *p) {
    /* At least 1024 resident threads per SM (64 registers a thread): left alone, ptxas spends
     * over 100 registers on the unrolled loads and leaves two blocks resident; at 64 it spills
     * nothing, or a few values, up to 9x9 filters. */
    int min_blocks = 1024 / (p->bx * p->by);
    if (p->kind)
        snprintf(buf, cap,
                 "extern \"C\" __global__ void __launch_bounds__(%d, %d) %s(void *o, const void "
                 "*s, const void *f, em_conv_params p) { em_conv_tile%s_impl<%d, %d, %d, %d, %d, "
                 "%d, %d>(o, s, f, p); }\n",
                 p->bx * p->by, min_blocks, name, p->kind == 2 ? "2" : "", (int)type, (int)acc,
                 p->fw, p->fh, p->r, p->bx, p->by);
    else
        snprintf(buf, cap,
                 "extern \"C\" __global__ void __launch_bounds__(256) %s(void *o, const void *s, "
                 "const void *f, em_conv_params p) { em_conv_generic_impl<%d, %d>(o, s, f, p); "
                 "}\n",
                 name, (int)type, (int)acc);
}

af_err em_cu_convolve(int dev, const em_conv_desc *d, void *out, const void *sig,
                      const void *filt) {
    af_err err = AF_SUCCESS;
    cudaStream_t stream;
    int prev = -1;
    CUfunction k;
    char tail[400];
    em_cu_conv_params p;
    memset(&p, 0, sizeof(p));
    for (int i = 0; i < 4; i++) {
        p.sd[i] = d->sdims[i];
        p.fd[i] = d->fdims[i];
        p.od[i] = d->odims[i];
    }
    for (int i = 0; i < 3; i++)
        p.start[i] = d->start[i];
    p.rank = d->rank;
    long long total = p.od[0] * p.od[1] * p.od[2] * p.od[3];
    if (total == 0) return AF_SUCCESS;
    conv_plan plan = plan_for(d);
    conv_tail(tail, sizeof(tail), "em_conv", d->type, d->acc, &plan);
    EM_TRY(em_cu_enter(__func__, dev, &stream, &prev));
    EM_TRY(em_cu_sig_kernel(dev, EM_CU_SIG_SRC_CONVOLVE, "em_conv", tail, &k));
    dim3 grid, block;
    if (plan.kind == 1) {
        /* Rank 1: blocks of BX * R outputs along each row, the rows on grid y. */
        long long bxw = (long long)plan.bx * plan.r;
        long long gx = (p.od[0] + bxw - 1) / bxw;
        long long rows = p.od[1] * p.od[2] * p.od[3];
        grid = (dim3){(unsigned)gx, (unsigned)(rows < 65535 ? rows : 65535), 1};
        block = (dim3){(unsigned)plan.bx, 1, 1};
    } else if (plan.kind == 2) {
        /* Rank 2: blocks of BX columns by BY * R rows, the batch on grid z (one launch). */
        long long bh = (long long)plan.by * plan.r;
        long long gx = (p.od[0] + plan.bx - 1) / plan.bx, gy = (p.od[1] + bh - 1) / bh;
        long long nb = p.od[2] * p.od[3];
        grid = (dim3){(unsigned)gx, (unsigned)gy, (unsigned)(nb < 65535 ? nb : 65535)};
        block = (dim3){(unsigned)plan.bx, (unsigned)plan.by, 1};
    } else {
        grid = (dim3){em_cu_sig_blocks(dev, total), 1, 1};
        block = (dim3){EM_CU_BLOCK, 1, 1};
    }
    void *args[] = {&out, (void *)&sig, (void *)&filt, &p};
    EM_TRY(
        em_cu_launch(__func__, "launching the convolution kernel", k, grid, block, args, stream));
fail:
    em_cu_leave_enqueued(dev, prev);
    return err;
}

af_err em_cu_convolve_sep(int dev, const em_conv_sep_desc *d, void *out, const void *sig,
                          const void *cfilt, const void *rfilt) {
    af_err err = AF_SUCCESS;
    em_buf *tmp = NULL;
    em_conv_desc a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    /* Along dim 0: a batch of columns, one filter. */
    a.rank = 1;
    a.type = d->type;
    a.acc = d->acc;
    memcpy(a.sdims, d->sdims, sizeof(a.sdims));
    a.fdims[0] = d->clen;
    a.fdims[1] = a.fdims[2] = a.fdims[3] = 1;
    memcpy(a.odims, d->sdims, sizeof(a.odims));
    a.odims[0] = d->odims[0];
    a.start[0] = d->expand ? 0 : d->clen / 2;
    /* Along dim 1: a rank-2 convolution with a 1 x rlen filter. */
    b.rank = 2;
    b.type = d->type;
    b.acc = d->acc;
    memcpy(b.sdims, a.odims, sizeof(b.sdims));
    b.fdims[0] = 1;
    b.fdims[1] = d->rlen;
    b.fdims[2] = b.fdims[3] = 1;
    memcpy(b.odims, d->odims, sizeof(b.odims));
    b.start[1] = d->expand ? 0 : d->rlen / 2;
    size_t n = (size_t)(a.odims[0] * a.odims[1] * a.odims[2] * a.odims[3]);
    if (n == 0) return AF_SUCCESS;
    EM_TRY(em_buf_alloc(dev, n * em_dtype_size(d->type), &tmp));
    EM_TRY(em_cu_convolve(dev, &a, tmp->ptr, sig, cfilt));
    EM_TRY(em_cu_convolve(dev, &b, out, tmp->ptr, rfilt));
fail:
    if (tmp) em_buf_release(tmp);
    return err;
}

static void nn_tail(char *buf, size_t cap, const char *name, af_dtype type, int which) {
    snprintf(buf, cap,
             "extern \"C\" __global__ void __launch_bounds__(256) %s(void *o, const void *a, "
             "const void *b, em_nn_params p) { em_conv_nn_impl<%d, %d>(o, a, b, p); }\n",
             name, (int)type, which);
}

af_err em_cu_convolve_nn(int dev, const em_conv_nn_desc *d, int which, void *out, const void *a,
                         const void *b) {
    af_err err = AF_SUCCESS;
    cudaStream_t stream;
    int prev = -1;
    CUfunction k;
    char tail[300];
    em_cu_nn_params p;
    memset(&p, 0, sizeof(p));
    for (int i = 0; i < 4; i++) {
        p.sd[i] = d->sdims[i];
        p.fd[i] = d->fdims[i];
        p.od[i] = d->odims[i];
    }
    for (int i = 0; i < 2; i++) {
        p.st[i] = d->stride[i];
        p.pad[i] = d->pad[i];
        p.dil[i] = d->dil[i];
    }
    const long long *dims = which == EM_CONV_NN_FORWARD     ? p.od
                            : which == EM_CONV_NN_GRAD_DATA ? p.sd
                                                            : p.fd;
    long long total = dims[0] * dims[1] * dims[2] * dims[3];
    if (total == 0) return AF_SUCCESS;
    nn_tail(tail, sizeof(tail), "em_conv_nn", d->type, which);
    EM_TRY(em_cu_enter(__func__, dev, &stream, &prev));
    EM_TRY(em_cu_sig_kernel(dev, EM_CU_SIG_SRC_CONVOLVE, "em_conv_nn", tail, &k));
    dim3 grid = {em_cu_sig_blocks(dev, total), 1, 1}, block = {EM_CU_BLOCK, 1, 1};
    void *args[] = {&out, (void *)&a, (void *)&b, &p};
    EM_TRY(
        em_cu_launch(__func__, "launching the convolve2_nn kernel", k, grid, block, args, stream));
fail:
    em_cu_leave_enqueued(dev, prev);
    return err;
}

/* Appends kernel text to a growing source (the compile check batches variants per NVRTC call,
 * which saves parsing the headers once per variant). */
static bool append(char *buf, size_t cap, size_t *used, const char *text) {
    size_t n = strlen(text);
    if (*used + n + 1 > cap) return false;
    memcpy(buf + *used, text, n + 1);
    *used += n;
    return true;
}

/* Every dtype's generic kernel; both tile kernels for each accumulation type (and two integer
 * dtypes) at 3 taps, with a 1x3 filter (the column tile without a halo) and for f32 at the
 * benchmarked sizes and the largest (the size is a template parameter, so these stand for the
 * rest); the ML kernels. Compiled in three batches. */
static af_err convolve_compile_check(void) {
    static const af_dtype types[] = {c32, c64, f32, f64, u32, s32, u16, s16, u64, s64, u8, b8};
    static char src[16384];
    char tail[400], name[32];
    size_t used = 0;
    af_err err = AF_SUCCESS;
    bool ok = true;
    int nk = 0;
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        af_dtype t = types[i];
        af_dtype acc = (t == f32 || t == f64 || t == c32 || t == c64) ? t : f32;
        em_conv_desc d;
        memset(&d, 0, sizeof(d));
        d.type = t;
        d.acc = acc;
        d.rank = 3;
        conv_plan g = plan_for(&d);
        snprintf(name, sizeof(name), "em_conv_%d", nk++);
        conv_tail(tail, sizeof(tail), name, t, acc, &g);
        ok = ok && append(src, sizeof(src), &used, tail);
    }
    if (!ok) return em_err(AF_ERR_INTERNAL, __func__, "compile-check source overflow");
    err = em_cu_sig_compile(EM_CU_SIG_SRC_CONVOLVE, "em_conv_0", src);
    used = 0;
    static const af_dtype tiled[] = {f32, f64, c32, c64, u8, s32};
    static const long long sizes[][3] = {{2, 3, 3}, {1, 3, 1},   {2, 1, 3},  {2, 5, 5},
                                         {2, 9, 9}, {1, 129, 1}, {2, 31, 31}};
    for (size_t i = 0; i < sizeof(tiled) / sizeof(tiled[0]) && err == AF_SUCCESS; i++) {
        af_dtype t = tiled[i];
        af_dtype acc = (t == f32 || t == f64 || t == c32 || t == c64) ? t : f32;
        for (int s = 0; s < 7; s++) {
            if (s > 2 && t != f32) break;
            em_conv_desc d;
            memset(&d, 0, sizeof(d));
            d.type = t;
            d.acc = acc;
            d.rank = (int)sizes[s][0];
            d.fdims[0] = sizes[s][1];
            d.fdims[1] = sizes[s][2];
            d.odims[1] = 1;
            conv_plan p = plan_for(&d);
            if (!p.kind) continue;
            snprintf(name, sizeof(name), "em_conv_%d", nk++);
            conv_tail(tail, sizeof(tail), name, t, acc, &p);
            ok = ok && append(src, sizeof(src), &used, tail);
        }
    }
    if (!ok) return em_err(AF_ERR_INTERNAL, __func__, "compile-check source overflow");
    if (err == AF_SUCCESS) err = em_cu_sig_compile(EM_CU_SIG_SRC_CONVOLVE, "em_conv_12", src);
    used = 0;
    static const af_dtype nn_types[] = {f32, f64, f16};
    for (int i = 0; i < 3; i++)
        for (int w = 0; w < 3; w++) {
            snprintf(name, sizeof(name), "em_conv_nn_%d", i * 3 + w);
            nn_tail(tail, sizeof(tail), name, nn_types[i], w);
            ok = ok && append(src, sizeof(src), &used, tail);
        }
    if (!ok) return em_err(AF_ERR_INTERNAL, __func__, "compile-check source overflow");
    if (err == AF_SUCCESS) err = em_cu_sig_compile(EM_CU_SIG_SRC_CONVOLVE, "em_conv_nn_0", src);
    return err;
}
EM_CU_COMPILE_CHECK(convolve, convolve_compile_check)
