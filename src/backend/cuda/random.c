/* Random numbers on CUDA: ArrayFire's engines with ArrayFire's launch shape, from src/core/rng.h
 * (shared with the CPU backend, so both make the same numbers) and kernels/random.cuh, compiled
 * with NVRTC. One module per engine and kind (dtype and distribution), each made at its first use:
 * the kernels carry no branch on the dtype, and each uniform or normal variant only its own
 * conversion. Philox or Threefry run one block of 256 threads per group, a grid that covers the
 * draw once; Mersenne one block per MTGP block. */
#include "cu.h"

#include "../../core/err.h"
#include "../../core/rng.h"
#include "jit_gen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A kernel variant: an engine (EM_RNG_PHILOX, EM_RNG_THREEFRY, EM_RNG_MERSENNE) and a kind. */
typedef struct {
    int engine, kind;
} em_cu_rng_variant;

/* The source of a variant: its defines, rng.h, then kernels/random.cuh; ctx NULL gives the
 * compile check's program, every variant in one. */
static char *random_source(const void *ctx) {
    const em_cu_rng_variant *v = ctx;
    char def[128];
    if (v)
        snprintf(def, sizeof(def),
                 "#define EM_RNG_KIND %d\n#define EM_RNG_ENGINE %d\n"
                 "#define EM_RNG_MT %d\n",
                 v->kind, v->engine, v->engine == EM_RNG_MERSENNE);
    else
        snprintf(def, sizeof(def), "#define EM_RNG_EVERY 1\n");
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
static uint64_t random_key(const em_cu_rng_variant *v) {
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
    uint64_t var = 0x72616e646f6d00ull + (uint64_t)(v->engine * EM_RNG_KINDS + v->kind);
    return em_hash_mix(em_hash_mix(h, var), em_cu_prelude_hash());
}

/* Every variant, compiled as one NVRTC program (random.cuh instantiates each engine and kind under
 * EM_RNG_EVERY) rather than one program each, which would take a minute. */
static af_err random_compile_check(void) {
    char *src = random_source(NULL);
    if (!src) return em_err(AF_ERR_NO_MEM, __func__, "out of host memory");
    af_err err = em_cu_compile_source(src, "em_rng_cb_philox_EM_RNG_UF32");
    free(src);
    return err;
}
EM_CU_COMPILE_CHECK(random, random_compile_check)

/* The kernels' key parameter (struct em_rng_keys in random.cuh): Philox's round keys, or Threefry's
 * key in words 0 and 1. */
typedef struct {
    uint32_t w[20];
} em_cu_rng_keys;

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
    em_cu_rng_variant var = {engine, kind};
    EM_TRY(em_cu_enter(__func__, dev, &stream, &prev));
    EM_TRY(em_cu_module_get(dev, random_key(&var), mt ? "em_rng_mt" : "em_rng_cb", random_source,
                            &var, &kern));
    unsigned long long total = (unsigned long long)n;
    dim3 block = {EM_RNG_THREADS, 1, 1};
    if (!mt) {
        em_cu_rng_keys keys = {{0}};
        const uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
        if (engine == EM_RNG_PHILOX)
            em_philox_round_keys(key, keys.w);
        else
            keys.w[0] = key[0], keys.w[1] = key[1];
        /* One block per group, as ArrayFire launches, in launches of at most 2^31 - 1 blocks. */
        unsigned long long group = em_rng_group(kind), groups = (total + group - 1) / group;
        unsigned long long c = counter;
        for (unsigned long long g0 = 0; g0 < groups;) {
            unsigned long long left = groups - g0;
            dim3 grid = {(unsigned)(left < 0x7fffffffull ? left : 0x7fffffffull), 1, 1};
            void *args[] = {&out, &total, &g0, &c, &keys};
            EM_TRY(em_cu_launch(__func__, "launching the random kernel", kern, grid, block, args,
                                stream));
            g0 += grid.x;
        }
    } else {
        em_rng_mt_plan p = em_rng_mt_plan_of(kind, total);
        dim3 grid = {p.blocks, 1, 1};
        unsigned long long per_block = p.per_block, skip = p.skip;
        void *args[] = {&out, &total, &mt_state, &per_block, &skip};
        EM_TRY(em_cu_launch(__func__, "launching the Mersenne kernel", kern, grid, block, args,
                            stream));
    }
fail:
    em_cu_leave_enqueued(dev, prev);
    return err;
}
