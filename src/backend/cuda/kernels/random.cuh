/* Random-number kernels (src/backend/cuda/random.c), compiled by NVRTC after src/core/rng.h, which
 * defines the engines, the layout and every conversion. A module is one kind (dtype and
 * distribution) of one engine: the host puts EM_RNG_KIND, EM_RNG_ENGINE and EM_RNG_MT (1 for
 * Mersenne, whose kernel differs) before both texts, so
 * each kernel carries only its own conversion and no branch on the dtype (the compile check
 * instead defines EM_RNG_EVERY and gets every variant in one program). Each block is one of
 * ArrayFire's blocks: 256 threads, four words per thread, slot k of thread t at element
 * base + 256 k + t, so a warp's store of a slot writes consecutive elements (128 bytes for f32):
 * the layout fixes which thread makes which element, and it already coalesces every store. */

/* The parameters that stay the same across a draw's threads: Philox's ten round keys (20 words,
 * formed on the host with em_philox_round_keys) or Threefry's key in words 0 and 1. Passed by
 * value, so the rounds read their keys straight from the parameter bank. */
struct em_rng_keys {
    uint32_t w[20];
};

/* Thread threadIdx.x of group g of a counter-based engine: its four words, then its slots. Every
 * group but a draw's last is whole, and a whole group stores without bounds checks, at constant
 * offsets from one address. The index arithmetic is 64-bit only where a draw's counter needs it:
 * the group's first index and counter are uniform across the block. */
template <int KIND, int ENGINE>
static __device__ __forceinline__ void em_rng_cb_thread(void *out, uint64_t n, uint64_t g,
                                                        uint64_t counter, const em_rng_keys &k) {
    const uint64_t G = em_rng_group(KIND);
    const uint64_t first = g * G + threadIdx.x;
    uint32_t w[4];
    if (ENGINE == EM_RNG_PHILOX) {
        const uint64_t c = counter + first;
        const uint32_t ctr[4] = {(uint32_t)c, (uint32_t)(c >> 32), c < counter ? 1u : 0u, 0u};
        em_philox4x32_10_rk(k.w, ctr, w);
    } else {
        const uint64_t seed = (uint64_t)k.w[1] << 32 | k.w[0];
        em_rng_cb_words(ENGINE, seed, counter, first, G / 2, w);
    }
    if ((g + 1) * G <= n)
        em_rng_store_slots(out, KIND, first, 0, n, 1, w);
    else
        em_rng_store_slots(out, KIND, first, 0, n, 0, w);
}

/* Mersenne: block b runs MTGP block b on a ring of 768 words in shared memory, 256 outputs per
 * step (one per thread, output j of the block at ring position j mod 768), four steps a round,
 * then writes the round's elements. No step reads a word that the same step writes (pos < 96),
 * so one barrier per step orders the ring. The elements below `lo` are the previous block's
 * (em_rng_mt_plan_of). At the end the ring's last 351 words become the block's state. */
template <int KIND>
static __device__ __forceinline__ void em_rng_mt_block(void *out, uint64_t n, uint32_t *state,
                                                       uint64_t per_block, uint64_t skip) {
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
    const uint64_t G = em_rng_group(KIND);
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
        const uint64_t base = start + i * G;
        if (base >= lo && base + G <= n)
            em_rng_store_slots(out, KIND, base + t, lo, n, 1, w);
        else
            em_rng_store_slots(out, KIND, base + t, lo, n, 0, w);
    }
    for (unsigned i = t; i < EM_RNG_MT_N; i += EM_RNG_THREADS)
        s[i] = ring[off + i];
}

/* The kernels of one variant: groups g0 + blockIdx.x (the host launches at most 2^31 - 1 blocks
 * at a time), or the Mersenne blocks. */
#define EM_RNG_CB_KERNEL(name, KIND, ENGINE)                                                       \
    extern "C" __global__ void __launch_bounds__(EM_RNG_THREADS)                                   \
        name(void *out, unsigned long long n, unsigned long long g0, unsigned long long counter,   \
             em_rng_keys k) {                                                                      \
        em_rng_cb_thread<KIND, ENGINE>(out, n, g0 + blockIdx.x, counter, k);                       \
    }
#define EM_RNG_MT_KERNEL(name, KIND)                                                               \
    extern "C" __global__ void __launch_bounds__(EM_RNG_THREADS)                                   \
        name(void *out, unsigned long long n, uint32_t *state, unsigned long long per_block,       \
             unsigned long long skip) {                                                            \
        em_rng_mt_block<KIND>(out, n, state, per_block, skip);                                     \
    }

#if defined(EM_RNG_KIND) && EM_RNG_MT
EM_RNG_MT_KERNEL(em_rng_mt, EM_RNG_KIND)
#elif defined(EM_RNG_KIND)
EM_RNG_CB_KERNEL(em_rng_cb, EM_RNG_KIND, EM_RNG_ENGINE)
#endif

#if defined(EM_RNG_EVERY)
#define EM_RNG_ALL_ENGINES(K)                                                                      \
    EM_RNG_CB_KERNEL(em_rng_cb_philox_##K, K, EM_RNG_PHILOX)                                       \
    EM_RNG_CB_KERNEL(em_rng_cb_threefry_##K, K, EM_RNG_THREEFRY)                                   \
    EM_RNG_MT_KERNEL(em_rng_mt_##K, K)
EM_RNG_ALL_ENGINES(EM_RNG_U8)
EM_RNG_ALL_ENGINES(EM_RNG_B8)
EM_RNG_ALL_ENGINES(EM_RNG_U16)
EM_RNG_ALL_ENGINES(EM_RNG_U32)
EM_RNG_ALL_ENGINES(EM_RNG_U64)
EM_RNG_ALL_ENGINES(EM_RNG_UF16)
EM_RNG_ALL_ENGINES(EM_RNG_UF32)
EM_RNG_ALL_ENGINES(EM_RNG_UC32)
EM_RNG_ALL_ENGINES(EM_RNG_UF64)
EM_RNG_ALL_ENGINES(EM_RNG_UC64)
EM_RNG_ALL_ENGINES(EM_RNG_NF16)
EM_RNG_ALL_ENGINES(EM_RNG_NF32)
EM_RNG_ALL_ENGINES(EM_RNG_NC32)
EM_RNG_ALL_ENGINES(EM_RNG_NF64)
EM_RNG_ALL_ENGINES(EM_RNG_NC64)
#endif
