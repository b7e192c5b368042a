/* The CUDA JIT evaluator: looks the program's kernel up by its structural key (generating and
 * compiling it only on a miss), packs the parameters into one struct and launches a grid-stride
 * kernel on the device's stream. Nothing here waits for the device. */
#include "cu.h"

#include "../../core/err.h"
#include "jit_gen.h"

typedef struct {
    const em_jit_prog *prog;
    const em_cu_jit_shape *shape;
} jit_gen_ctx;

static char *jit_gen_source(const void *ctx) {
    const jit_gen_ctx *c = ctx;
    return em_cu_jit_source(c->prog, c->shape);
}

/* Evaluates prog into outs, or into the window `win` (one output) when it is set. */
static af_err cu_eval(int dev, const em_jit_prog *prog, void *const *outs,
                      const em_jit_window *win) {
    af_err err = AF_SUCCESS;
    cudaStream_t stream;
    CUfunction kern;
    int prev = -1;
    /* One struct by value: the leaf count is bounded by the flush rules (jit_gen.h). */
    _Alignas(16) unsigned char params[EM_CU_PARAM_MAX];
    if (prog->elements <= 0) return AF_SUCCESS;
    EM_TRY(em_cu_enter(__func__, dev, &stream, &prev));
    em_cu_jit_shape shape;
    em_cu_jit_shape_of(prog, &shape);
    void *wout[1];
    if (win) {
        /* The window's offset is applied here, as leaves' offsets are; its extent decides the
         * index width like a strided leaf's (jit_gen.c, em_cu_jit_shape_of). */
        size_t es = em_dtype_size((af_dtype)prog->instr[prog->out[0]].type);
        wout[0] = (char *)win->ptr + (size_t)win->offset * es;
        outs = wout;
        dim_t reach = 0;
        for (int d = 0; d < 4; d++) {
            dim_t st = win->strides[d] < 0 ? -win->strides[d] : win->strides[d];
            reach += (prog->dims[d] - 1) * st;
        }
        if (reach >= ((dim_t)1 << 29)) shape.idx64 = true;
        em_cu_jit_shape_window(&shape, win->strides);
    }
    bool runs = em_cu_jit_runs(prog, &shape);
    int vflags = runs ? 0 : em_cu_jit_vec_flags(prog, &shape, outs);
    bool vec = vflags != 0;
    int flags = runs ? em_cu_jit_run_flags(prog, &shape, outs, win ? win->strides : NULL) : vflags;
    size_t size = em_cu_jit_pack_flags(prog, &shape, outs, flags, win ? win->strides : NULL, params,
                                       sizeof(params));
    if (size == 0)
        EM_FAIL(AF_ERR_NOT_SUPPORTED,
                "a JIT program with %d leaves and %d outputs needs more than %d bytes of kernel "
                "parameters; evaluate fewer arrays at once",
                prog->nleaf, prog->nout, EM_CU_PARAM_MAX);
    jit_gen_ctx ctx = {prog, &shape};
    EM_TRY(em_cu_module_get(dev, em_cu_jit_key(prog, &shape), EM_CU_JIT_KERNEL, jit_gen_source,
                            &ctx, &kern));
    /* Enough blocks to cover the work once, so each thread handles one vector (or one run) and
     * the hardware keeps new blocks' loads in flight while others compute; a persistent grid
     * (capped at the resident block count) makes each thread's next loads wait for its math.
     * The grid-stride loop stays for grids past the hardware limit. */
    dim_t n = prog->elements;
    dim_t work = runs  ? em_cu_jit_runs_total(prog, &shape)
                 : vec ? n / shape.vec + n % shape.vec
                       : n;
    dim_t blocks = (work + EM_CU_BLOCK - 1) / EM_CU_BLOCK;
    if (blocks > 0x7fffffff) blocks = 0x7fffffff;
    if (blocks < 1) blocks = 1;
    dim3 grid = {(unsigned)blocks, 1, 1}, block = {EM_CU_BLOCK, 1, 1};
    void *args[1] = {params};
    EM_TRY(em_cu_launch(__func__, "launching a JIT kernel", kern, grid, block, args, stream));
fail:
    em_cu_leave_enqueued(dev, prev);
    return err;
}

af_err em_cu_jit_eval(int dev, const em_jit_prog *prog, void *const *outs) {
    return cu_eval(dev, prog, outs, NULL);
}

af_err em_cu_jit_eval_window(int dev, const em_jit_prog *prog, const em_jit_window *out) {
    return cu_eval(dev, prog, NULL, out);
}

/* The compile check (cu.h): for every dtype, the generated kernel of an element-wise program in
 * each of its code shapes: linear with the vector path; the run kernel over leaves of every class
 * along dimension 0 (dense, reversed, broadcast, general stride) with a generator and two
 * outputs; and the run kernel into a window that is dense along dimension 0 and into one that is
 * not. 64-bit indexing is compiled for a few dtypes. The programs are built over a stand-in
 * buffer that nothing reads: code generation only looks at the leaves' dtypes, strides and
 * extents. */
static af_err jit_compile_one(const em_jit_prog *p, const dim_t *wstrides, bool idx64) {
    em_cu_jit_shape shape;
    em_cu_jit_shape_of(p, &shape);
    if (wstrides) em_cu_jit_shape_window(&shape, wstrides);
    if (idx64) shape.idx64 = true;
    char *src = em_cu_jit_source(p, &shape);
    if (!src) return em_err(AF_ERR_NO_MEM, __func__, "out of host memory");
    af_err err = em_cu_compile_source(src, EM_CU_JIT_KERNEL);
    free(src);
    return err;
}

/* Builds the program of roots[0 .. n) and compiles it; takes over the roots. */
static af_err jit_compile_roots(em_node **roots, int n, const dim_t *wstrides, bool idx64) {
    af_err err = AF_SUCCESS;
    for (int i = 0; i < n; i++)
        if (!roots[i]) err = em_err(AF_ERR_NO_MEM, __func__, "out of host memory");
    if (err == AF_SUCCESS) {
        em_jit_prog prog;
        err = em_jit_prog_build(roots, n, &prog);
        if (err == AF_SUCCESS) {
            err = jit_compile_one(&prog, wstrides, idx64);
            em_jit_prog_free(&prog);
        }
    }
    for (int i = 0; i < n; i++)
        if (roots[i]) em_node_release(roots[i]);
    return err;
}

static em_node *jit_check_op(em_op op, af_dtype rt, const dim_t dims[4], em_node *x, em_node *y) {
    if (!x || !y) {
        if (x) em_node_release(x);
        if (y) em_node_release(y);
        return NULL;
    }
    em_node *kids[2] = {x, y};
    return em_node_op(op, rt, dims, kids);
}

static af_err jit_compile_check(void) {
    static em_buf stand_in = {.refs = 1 << 30, .bytes = 1 << 20};
    af_err err = AF_SUCCESS;
    const dim_t dims[4] = {8, 4, 2, 1}, dense[4] = {1, 8, 32, 64};
    const dim_t rev[4] = {-1, 8, 32, 64}, bcast[4] = {0, 1, 4, 8}, gen[4] = {2, 16, 64, 128};
    const dim_t wdense[4] = {1, 12, 96, 192}, wgen[4] = {3, 32, 128, 256};
    for (int t = 0; t < EM_NUM_DTYPES && err == AF_SUCCESS; t++) {
        af_dtype ty = (af_dtype)t;
        em_op op = em_cu_jit_supports(EM_OP_ADD, ty, ty) ? EM_OP_ADD : EM_OP_EQ;
        af_dtype rt = op == EM_OP_ADD ? ty : b8;
        /* Linear: two dense leaves. */
        em_node *lin = jit_check_op(op, rt, dims, em_node_buf(&stand_in, ty, dims, dense, 0),
                                    em_node_buf(&stand_in, ty, dims, dense, 0));
        err = jit_compile_roots(&lin, 1, NULL, false);
        for (int shape = 0; shape < 3 && err == AF_SUCCESS; shape++) {
            /* (dense + reversed) + (broadcast + general), plus a RANGE along dimension 1. */
            em_node *l1 = jit_check_op(op, rt, dims, em_node_buf(&stand_in, ty, dims, dense, 0),
                                       em_node_buf(&stand_in, ty, dims, rev, 7));
            em_node *l2 = jit_check_op(op, rt, dims, em_node_buf(&stand_in, ty, dims, bcast, 0),
                                       em_node_buf(&stand_in, ty, dims, gen, 0));
            em_node *root = jit_check_op(op, rt, dims, l1, l2);
            if (op == EM_OP_ADD) {
                em_node *r = em_node_new(EM_OP_RANGE, ty, dims);
                if (r) r->nleaf = 1, r->iparam = 1;
                root = jit_check_op(op, rt, dims, root, r);
            }
            if (shape == 0) {
                /* Two outputs: the sum and a second strided expression. */
                em_node *roots[2] = {root, jit_check_op(op, rt, dims,
                                                        em_node_buf(&stand_in, ty, dims, rev, 7),
                                                        em_node_buf(&stand_in, ty, dims, gen, 1))};
                err = jit_compile_roots(roots, 2, NULL, false);
            } else {
                err = jit_compile_roots(&root, 1, shape == 1 ? wdense : wgen, false);
            }
        }
        /* 64-bit indexing of the run kernel: a flip into a dense output, and a dense leaf into
         * a dense window. */
        if (err == AF_SUCCESS && (ty == f32 || ty == c64 || ty == u8)) {
            em_node *f = em_node_buf(&stand_in, ty, dims, rev, 7);
            err = jit_compile_roots(&f, 1, NULL, true);
            em_node *d = em_node_buf(&stand_in, ty, dims, gen, 0);
            if (err == AF_SUCCESS)
                err = jit_compile_roots(&d, 1, wdense, true);
            else if (d)
                em_node_release(d);
        }
    }
    return err;
}
EM_CU_COMPILE_CHECK(jit, jit_compile_check)
