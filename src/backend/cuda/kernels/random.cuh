/* Random-number kernels (src/backend/cuda/random.c), compiled by NVRTC after src/core/rng.h, which
 * defines the engines, the layout and every conversion. The host puts one line before both texts
 * that picks the kernel: EM_RNG_CB (Philox or Threefry) or EM_RNG_MT (Mersenne), and
 * EM_RNG_NORMAL 0 or 1 (so a uniform kernel carries no Box-Muller code). Each block is one of
 * ArrayFire's blocks: 256 threads, four words per thread, slot k of thread t at element
 * base + 256 k + t, so a warp's writes to a slot are consecutive. */

/* em_rng_store with the kind made a constant, so that each case compiles only its own code. */
static __device__ __forceinline__ void
em_rng_store_kind(void *out, int kind, uint64_t e0, uint64_t lo, uint64_t n, const uint32_t w[4]) {
#define EM_RNG_CASE(k)                                                                             \
    case k:                                                                                        \
        em_rng_store(out, k, e0, lo, n, w);                                                        \
        break;
    switch (kind) {
#if EM_RNG_NORMAL
        EM_RNG_CASE(EM_RNG_NF16)
        EM_RNG_CASE(EM_RNG_NF32)
        EM_RNG_CASE(EM_RNG_NC32)
        EM_RNG_CASE(EM_RNG_NF64)
        EM_RNG_CASE(EM_RNG_NC64)
#else
        EM_RNG_CASE(EM_RNG_U8)
        EM_RNG_CASE(EM_RNG_B8)
        EM_RNG_CASE(EM_RNG_U16)
        EM_RNG_CASE(EM_RNG_U32)
        EM_RNG_CASE(EM_RNG_U64)
        EM_RNG_CASE(EM_RNG_UF16)
        EM_RNG_CASE(EM_RNG_UF32)
        EM_RNG_CASE(EM_RNG_UC32)
        EM_RNG_CASE(EM_RNG_UF64)
        EM_RNG_CASE(EM_RNG_UC64)
#endif
    default:
        break;
    }
#undef EM_RNG_CASE
}

#if defined(EM_RNG_CB)
/* Philox or Threefry: block g of the grid (striding over the groups) makes group g. */
extern "C" __global__ void __launch_bounds__(EM_RNG_THREADS)
    em_rng_cb(void *out, int kind, int engine, unsigned long long n, unsigned long long groups,
              unsigned long long seed, unsigned long long counter) {
    const uint64_t G = em_rng_group(kind);
    for (uint64_t g = blockIdx.x; g < groups; g += gridDim.x) {
        uint64_t first = g * G + threadIdx.x;
        uint32_t w[4];
        em_rng_cb_words(engine, seed, counter, first, G / 2, w);
        em_rng_store_kind(out, kind, first, 0, n, w);
    }
}
#endif

#if defined(EM_RNG_MT)
/* Mersenne: block b runs MTGP block b on a ring of 768 words in shared memory, 256 outputs per
 * step (one per thread, output j of the block at ring position j mod 768), four steps a round,
 * then writes the round's elements. No step reads a word that the same step writes (pos < 96),
 * so one barrier per step orders the ring. The elements below `lo` are the previous block's
 * (em_rng_mt_plan_of). At the end the ring's last 351 words become the block's state. */
extern "C" __global__ void __launch_bounds__(EM_RNG_THREADS)
    em_rng_mt(void *out, int kind, unsigned long long n, uint32_t *state,
              unsigned long long per_block, unsigned long long skip) {
    __shared__ uint32_t ring[EM_RNG_MT_RING];
    __shared__ uint32_t rec[16], tmp[16];
    const unsigned b = blockIdx.x, t = threadIdx.x, R = EM_RNG_MT_RING;
    const unsigned off = R - EM_RNG_MT_N, pos = em_rng_mt_pos[b];
    const unsigned sh1 = em_rng_mt_sh1[b], sh2 = em_rng_mt_sh2[b];
    uint32_t *s = state + (uint64_t)b * EM_RNG_MT_N;
    for (unsigned i = t; i < EM_RNG_MT_N; i += EM_RNG_THREADS)
        ring[off + i] = s[i];
    if (t < 16) {
        rec[t] = em_rng_mt_rec_tbl[16 * b + t];
        tmp[t] = em_rng_mt_tmp_tbl[16 * b + t];
    }
    __syncthreads();
    const uint64_t G = em_rng_group(kind);
    const uint64_t start = (uint64_t)b * per_block;
    const uint64_t end = start + per_block < n ? start + per_block : n;
    const uint64_t rounds = (end - start + G - 1) / G, lo = b ? start + skip : 0;
    unsigned jm = t;
    for (uint64_t i = 0; i < rounds; i++) {
        uint32_t w[4];
        for (unsigned q = 0; q < 4; q++) {
            unsigned x1 = (jm + off) % R, x2 = (jm + off + 1) % R;
            unsigned y = (jm + off + pos) % R, tt = (jm + off + pos - 1) % R;
            uint32_t r = em_rng_mt_recursion(rec, sh1, sh2, ring[x1], ring[x2], ring[y]);
            ring[jm] = r;
            w[q] = em_rng_mt_temper(tmp, r, ring[tt]);
            jm = (jm + EM_RNG_THREADS) % R;
            __syncthreads();
        }
        em_rng_store_kind(out, kind, start + i * G + t, lo, n, w);
    }
    for (unsigned i = t; i < EM_RNG_MT_N; i += EM_RNG_THREADS)
        s[i] = ring[off + i];
}
#endif
