/* Random numbers on CUDA: one thread per Philox block, using src/core/philox.h itself (embedded at
 * build time and compiled with NVRTC), so the numbers are the CPU backend's for the same seed and
 * counter. One kernel serves every dtype and distribution: the kind is a parameter. */
#include "cu.h"

#include "../../core/err.h"
#include "../../core/philox.h"
#include "jit_gen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EM_CU_RANDOM_KERNEL "em_random"

static const char em_cu_random_body[] =
    "\nextern \"C\" __global__ void __launch_bounds__(256)\n"
    "em_random(void *out, int kind, unsigned long long nscalar, unsigned long long nblocks,\n"
    "          unsigned long long seed, unsigned long long counter) {\n"
    "    const unsigned long long stride = (unsigned long long)gridDim.x * blockDim.x;\n"
    "    for (unsigned long long b = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x;\n"
    "         b < nblocks; b += stride) {\n"
    "        uint32_t w[4];\n"
    "        em_philox_block(seed, counter, b, w);\n"
    "        em_philox_fill_block(out, kind, nscalar, b, w);\n"
    "    }\n"
    "}\n";

/* The kernel's source: philox.h, then the kernel. */
static char *random_source(const void *ctx) {
    (void)ctx;
    size_t a = strlen(em_cu_src_philox), b = sizeof(em_cu_random_body);
    char *s = malloc(a + b);
    if (!s) return NULL;
    memcpy(s, em_cu_src_philox, a);
    memcpy(s + a, em_cu_random_body, b);
    return s;
}

static af_err random_compile_check(void) {
    char *src = random_source(NULL);
    if (!src) return em_err(AF_ERR_NO_MEM, __func__, "out of host memory");
    af_err err = em_cu_compile_source(src, EM_CU_RANDOM_KERNEL);
    free(src);
    return err;
}
EM_CU_COMPILE_CHECK(random, random_compile_check)

af_err em_cu_random(int dev, void *out, af_dtype type, dim_t n, int dist, uint64_t seed,
                    uint64_t counter) {
    af_err err = AF_SUCCESS;
    cudaStream_t stream;
    CUfunction kern;
    int prev = -1;
    if (dist != EM_RANDOM_UNIFORM && dist != EM_RANDOM_NORMAL)
        EM_FAIL(AF_ERR_ARG, "distribution %d is neither uniform nor normal", dist);
    if (n < 0) EM_FAIL(AF_ERR_SIZE, "%lld elements", (long long)n);
    int kind = em_philox_kind((int)type, dist == EM_RANDOM_NORMAL);
    if (kind == EM_PHILOX_NONE)
        EM_FAIL(AF_ERR_TYPE, "%s numbers of dtype %s are not supported",
                dist == EM_RANDOM_NORMAL ? "normal" : "uniform", em_dtype_name(type));
    unsigned long long nscalar = (unsigned long long)n * (em_dtype_is_complex(type) ? 2u : 1u);
    unsigned long long nblocks = em_philox_blocks(kind, nscalar);
    if (nblocks == 0) return AF_SUCCESS;
    EM_TRY(em_cu_enter(__func__, dev, &stream, &prev));
    /* The source is philox.h and a fixed body: its key is the hash of the embedded texts. */
    uint64_t key = em_hash_mix(em_hash_mix(EM_HASH_SEED, 0x72616e646f6dull), em_cu_prelude_hash());
    EM_TRY(em_cu_module_get(dev, key, EM_CU_RANDOM_KERNEL, random_source, NULL, &kern));
    unsigned long long blocks = (nblocks + EM_CU_BLOCK - 1) / EM_CU_BLOCK;
    if (blocks > (unsigned long long)em_cu_devs[dev].grid)
        blocks = (unsigned long long)em_cu_devs[dev].grid;
    dim3 grid = {(unsigned)blocks, 1, 1}, block = {EM_CU_BLOCK, 1, 1};
    unsigned long long s = seed, c = counter;
    void *args[] = {&out, &kind, &nscalar, &nblocks, &s, &c};
    EM_TRY(em_cu_launch(__func__, "launching the random kernel", kern, grid, block, args, stream));
fail:
    em_cu_leave_enqueued(dev, prev);
    return err;
}
