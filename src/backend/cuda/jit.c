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
        shape.window = true;
        shape.vec = 1;
    }
    bool vec = !win && em_cu_jit_vec_ok(prog, &shape, outs);
    size_t size = em_cu_jit_pack(prog, &shape, outs, vec, win ? win->strides : NULL, params,
                                 sizeof(params));
    if (size == 0)
        EM_FAIL(AF_ERR_NOT_SUPPORTED,
                "a JIT program with %d leaves and %d outputs needs more than %d bytes of kernel "
                "parameters; evaluate fewer arrays at once",
                prog->nleaf, prog->nout, EM_CU_PARAM_MAX);
    jit_gen_ctx ctx = {prog, &shape};
    EM_TRY(em_cu_module_get(dev, em_cu_jit_key(prog, &shape), EM_CU_JIT_KERNEL, jit_gen_source,
                            &ctx, &kern));
    /* Enough blocks to cover the work once, so each thread handles one vector and the hardware
     * keeps new blocks' loads in flight while others compute; a persistent grid (capped at the
     * resident block count) makes each thread's next loads wait for its math. The grid-stride
     * loop stays for grids past the hardware limit. */
    dim_t n = prog->elements;
    dim_t work = vec ? n / shape.vec + n % shape.vec : n;
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
 * each of its code shapes: linear with the vector path, strided leaves, and a strided output
 * window. The programs are built over a stand-in buffer that nothing reads: code generation only
 * looks at the leaves' dtypes, strides and extents. */
static af_err jit_compile_one(const em_jit_prog *p, bool window) {
    em_cu_jit_shape shape;
    em_cu_jit_shape_of(p, &shape);
    if (window) shape.window = true, shape.vec = 1;
    char *src = em_cu_jit_source(p, &shape);
    if (!src) return em_err(AF_ERR_NO_MEM, __func__, "out of host memory");
    af_err err = em_cu_compile_source(src, EM_CU_JIT_KERNEL);
    free(src);
    return err;
}

static af_err jit_compile_check(void) {
    static em_buf stand_in = {.refs = 1 << 30, .bytes = 1 << 20};
    af_err err = AF_SUCCESS;
    const dim_t dims[4] = {8, 4, 1, 1}, dense[4] = {1, 8, 32, 32}, bcast[4] = {1, 0, 0, 0};
    for (int t = 0; t < EM_NUM_DTYPES && err == AF_SUCCESS; t++) {
        af_dtype ty = (af_dtype)t;
        em_op op = em_cu_jit_supports(EM_OP_ADD, ty, ty) ? EM_OP_ADD : EM_OP_EQ;
        af_dtype rt = op == EM_OP_ADD ? ty : b8;
        for (int shape = 0; shape < 3 && err == AF_SUCCESS; shape++) {
            em_node *kids[2] = {em_node_buf(&stand_in, ty, dims, dense, 0),
                                em_node_buf(&stand_in, ty, dims, shape == 1 ? bcast : dense, 0)};
            if (!kids[0] || !kids[1]) {
                if (kids[0]) em_node_release(kids[0]);
                if (kids[1]) em_node_release(kids[1]);
                return em_err(AF_ERR_NO_MEM, __func__, "out of host memory");
            }
            em_node *root = em_node_op(op, rt, dims, kids);
            if (!root) return em_err(AF_ERR_NO_MEM, __func__, "out of host memory");
            em_jit_prog prog;
            err = em_jit_prog_build(&root, 1, &prog);
            if (err == AF_SUCCESS) {
                err = jit_compile_one(&prog, shape == 2);
                em_jit_prog_free(&prog);
            }
            em_node_release(root);
        }
    }
    return err;
}
EM_CU_COMPILE_CHECK(jit, jit_compile_check)
