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

af_err em_cu_jit_eval(int dev, const em_jit_prog *prog, void *const *outs) {
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
    bool vec = em_cu_jit_vec_ok(prog, &shape, outs);
    size_t size = em_cu_jit_pack(prog, &shape, outs, vec, params, sizeof(params));
    if (size == 0)
        EM_FAIL(AF_ERR_NOT_SUPPORTED,
                "a JIT program with %d leaves and %d outputs needs more than %d bytes of kernel "
                "parameters; evaluate fewer arrays at once",
                prog->nleaf, prog->nout, EM_CU_PARAM_MAX);
    jit_gen_ctx ctx = {prog, &shape};
    EM_TRY(em_cu_module_get(dev, em_cu_jit_key(prog, &shape), EM_CU_JIT_KERNEL, jit_gen_source,
                            &ctx, &kern));
    /* Enough blocks to cover the work once, so each thread handles one vector and the hardware
     * keeps new blocks' loads in flight while others compute: capping the grid at the resident
     * block count (a persistent grid-stride loop) left the expression bench at 0.94 of the copy
     * floor on the H100, since each thread's next loads waited for its math. The grid-stride loop
     * stays for grids past the hardware limit. */
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
