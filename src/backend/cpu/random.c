/* Placeholder until the random family lands: reports the slot as unsupported. */
#include "cpu.h"

af_err em_cpu_random(int dev, void *out, af_dtype type, dim_t n, int dist, uint64_t seed,
                     uint64_t counter) {
    (void)dev, (void)out, (void)type, (void)n, (void)dist, (void)seed, (void)counter;
    return AF_ERR_NOT_SUPPORTED;
}
