/* Random numbers on the CPU: Philox 4x32-10 blocks evaluated in parallel. The stream and every
 * conversion are defined in src/core/philox.h, shared with the CUDA backend, so both produce the
 * same numbers for the same seed and counter. */
#include "cpu.h"

#include "../../core/philox.h"

/* Below this many blocks the pool costs more to wake than the work. */
#define EM_CPU_RANDOM_SERIAL_BLOCKS 4096

af_err em_cpu_random(int dev, void *out, af_dtype type, dim_t n, int dist, uint64_t seed,
                     uint64_t counter) {
    (void)dev;
    if (dist != EM_RANDOM_UNIFORM && dist != EM_RANDOM_NORMAL) return AF_ERR_ARG;
    if (n < 0) return AF_ERR_SIZE;
    int kind = em_philox_kind((int)type, dist == EM_RANDOM_NORMAL);
    if (kind == EM_PHILOX_NONE) return AF_ERR_TYPE;
    uint64_t nscalar = (uint64_t)n * (em_dtype_is_complex(type) ? 2u : 1u);
    int64_t nblocks = (int64_t)em_philox_blocks(kind, nscalar);
    /* Each block is independent: block b depends only on (seed, counter + b), so any split of the
     * loop over threads gives the same numbers. */
#pragma omp parallel for schedule(static) if (nblocks > EM_CPU_RANDOM_SERIAL_BLOCKS)
    for (int64_t b = 0; b < nblocks; b++) {
        uint32_t w[4];
        em_philox_block(seed, counter, (uint64_t)b, w);
        em_philox_fill_block(out, kind, nscalar, (uint64_t)b, w);
    }
    return AF_SUCCESS;
}
