/* Random numbers on CUDA: ArrayFire's engines with ArrayFire's launch shape, from src/core/rng.h
 * (shared with the CPU backend, so both make the same numbers) and kernels/random.cuh, compiled
 * with NVRTC. Four kernels: Philox or Threefry (one block of 256 threads per group, the engine a
 * parameter) and Mersenne (one block per MTGP block), each for uniform or normal kinds (the kind a
 * parameter, dispatched once per thread). */
#include "cu.h"

#include "../../core/err.h"
#include "../../core/rng.h"
#include "jit_gen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A kernel variant: counter-based or Mersenne, uniform or normal. */
enum { EM_CU_RNG_CB_U, EM_CU_RNG_CB_N, EM_CU_RNG_MT_U, EM_CU_RNG_MT_N, EM_CU_RNG_VARIANTS };

static const char *const em_cu_rng_defines[EM_CU_RNG_VARIANTS] = {
    "#define EM_RNG_CB 1\n#define EM_RNG_NORMAL 0\n",
    "#define EM_RNG_CB 1\n#define EM_RNG_NORMAL 1\n",
    "#define EM_RNG_MT 1\n#define EM_RNG_NORMAL 0\n",
    "#define EM_RNG_MT 1\n#define EM_RNG_NORMAL 1\n",
};

static const char *em_cu_rng_kernel(int variant) {
    return variant == EM_CU_RNG_CB_U || variant == EM_CU_RNG_CB_N ? "em_rng_cb" : "em_rng_mt";
}

/* The source of a variant: its defines, rng.h, then kernels/random.cuh. */
static char *random_source(const void *ctx) {
    const char *def = em_cu_rng_defines[*(const int *)ctx];
    size_t a = strlen(def), b = strlen(em_cu_src_rng), c = strlen(em_cu_src_random);
    char *s = malloc(a + b + c + 1);
    if (!s) return NULL;
    memcpy(s, def, a);
    memcpy(s + a, em_cu_src_rng, b);
    memcpy(s + a + b, em_cu_src_random, c + 1);
    return s;
}

/* The module key of a variant: the embedded texts' hash, the variant and the prelude hash (which
 * the disk cache's file names carry too). */
static uint64_t random_key(int variant) {
    static _Atomic uint64_t text_hash;
    uint64_t h = atomic_load_explicit(&text_hash, memory_order_relaxed);
    if (!h) {
        h = EM_HASH_SEED;
        for (const char *s = em_cu_src_rng; *s; s++)
            h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
        for (const char *s = em_cu_src_random; *s; s++)
            h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
        atomic_store_explicit(&text_hash, h, memory_order_relaxed);
    }
    return em_hash_mix(em_hash_mix(h, 0x72616e646f6dull + (uint64_t)variant), em_cu_prelude_hash());
}

static af_err random_compile_check(void) {
    for (int v = 0; v < EM_CU_RNG_VARIANTS; v++) {
        char *src = random_source(&v);
        if (!src) return em_err(AF_ERR_NO_MEM, __func__, "out of host memory");
        af_err err = em_cu_compile_source(src, em_cu_rng_kernel(v));
        free(src);
        if (err != AF_SUCCESS) return err;
    }
    return AF_SUCCESS;
}
EM_CU_COMPILE_CHECK(random, random_compile_check)

af_err em_cu_random(int dev, void *out, af_dtype type, dim_t n, int engine, int dist, uint64_t seed,
                    uint64_t counter, void *mt_state) {
    af_err err = AF_SUCCESS;
    cudaStream_t stream;
    CUfunction kern;
    int prev = -1;
    if (dist != EM_RANDOM_UNIFORM && dist != EM_RANDOM_NORMAL)
        EM_FAIL(AF_ERR_ARG, "distribution %d is neither uniform nor normal", dist);
    if (n < 0) EM_FAIL(AF_ERR_SIZE, "%lld elements", (long long)n);
    bool normal = dist == EM_RANDOM_NORMAL;
    int kind = em_rng_kind((int)type, normal);
    if (kind == EM_RNG_NONE)
        EM_FAIL(AF_ERR_TYPE, "%s numbers of dtype %s are not supported",
                normal ? "normal" : "uniform", em_dtype_name(type));
    bool mt = engine == EM_RNG_MERSENNE;
    if (!mt && engine != EM_RNG_PHILOX && engine != EM_RNG_THREEFRY)
        EM_FAIL(AF_ERR_ARG, "engine %d is not a random engine", engine);
    if (mt && !mt_state) EM_FAIL(AF_ERR_ARG, "a Mersenne draw without a state");
    if (n == 0) return AF_SUCCESS;
    int variant = mt ? (normal ? EM_CU_RNG_MT_N : EM_CU_RNG_MT_U)
                     : (normal ? EM_CU_RNG_CB_N : EM_CU_RNG_CB_U);
    EM_TRY(em_cu_enter(__func__, dev, &stream, &prev));
    EM_TRY(em_cu_module_get(dev, random_key(variant), em_cu_rng_kernel(variant), random_source,
                            &variant, &kern));
    unsigned long long total = (unsigned long long)n;
    dim3 block = {EM_RNG_THREADS, 1, 1};
    if (!mt) {
        unsigned long long group = em_rng_group(kind), groups = (total + group - 1) / group;
        /* One block per group, as ArrayFire launches; the kernel strides past the grid limit. */
        dim3 grid = {(unsigned)(groups < 0x7fffffffull ? groups : 0x7fffffffull), 1, 1};
        unsigned long long s = seed, c = counter;
        void *args[] = {&out, &kind, &engine, &total, &groups, &s, &c};
        EM_TRY(
            em_cu_launch(__func__, "launching the random kernel", kern, grid, block, args, stream));
    } else {
        em_rng_mt_plan p = em_rng_mt_plan_of(kind, total);
        dim3 grid = {p.blocks, 1, 1};
        unsigned long long per_block = p.per_block, skip = p.skip;
        void *args[] = {&out, &kind, &total, &mt_state, &per_block, &skip};
        EM_TRY(em_cu_launch(__func__, "launching the Mersenne kernel", kern, grid, block, args,
                            stream));
    }
fail:
    em_cu_leave_enqueued(dev, prev);
    return err;
}
