/* Random numbers on the CPU: ArrayFire's engines and layout (src/core/rng.h), group by group. A
 * group is what one ArrayFire CUDA block makes: 256 threads of four words each. The words of a
 * group are made in one loop over its 256 threads, and each of its slots in one loop that writes
 * 256 consecutive elements; the loops call the conversions of rng.h, which the CUDA kernels call
 * too, so both backends make the same numbers. Groups are independent for Philox and Threefry,
 * so OpenMP splits them statically; a Mersenne block is a sequential recursion, so its blocks
 * (up to 32) are what the threads share. */
#include "cpu.h"

#include "../../core/rng.h"

#include <string.h>
#if defined(__AVX2__)
#include <immintrin.h>
#endif

#define T EM_RNG_THREADS

/* Below this many groups the pool costs more to wake than the work. */
#define EM_CPU_RANDOM_SERIAL_GROUPS 16

#if defined(__AVX2__)
/* The high and low halves of the products m * a of eight 32-bit lanes: AVX2 multiplies the even
 * lanes (and, shifted down, the odd ones) into 64-bit products. GCC's own vectorisation of the
 * 64-bit products in em_philox4x32_10 widens every lane and takes about twice as long. */
static inline void mulhilo8(__m256i a, __m256i m, __m256i *hi, __m256i *lo) {
    __m256i even = _mm256_mul_epu32(a, m);
    __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), m);
    *lo = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xaa);
    *hi = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xaa);
}

/* em_philox4x32_10 on the counters {blo + t, bhi + carry, bc + carry, 0} of threads t = 0..255,
 * eight threads at a time: the same integer operations, so the same words. */
static void philox_group_avx2(const uint32_t key[2], uint32_t blo, uint32_t bhi, uint32_t bc,
                              uint32_t W[4][T]) {
    const __m256i m0 = _mm256_set1_epi32((int)0xD2511F53u),
                  m1 = _mm256_set1_epi32((int)0xCD9E8D57u);
    const __m256i sign = _mm256_set1_epi32(INT32_MIN),
                  lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i vblo = _mm256_set1_epi32((int)blo), vbhi = _mm256_set1_epi32((int)bhi);
    const __m256i vbc = _mm256_set1_epi32((int)bc);
    __m256i k0[10], k1[10];
    for (uint32_t r = 0; r < 10; r++) {
        k0[r] = _mm256_set1_epi32((int)(key[0] + r * 0x9E3779B9u));
        k1[r] = _mm256_set1_epi32((int)(key[1] + r * 0xBB67AE85u));
    }
    for (uint32_t t = 0; t < T; t += 8) {
        __m256i c0 = _mm256_add_epi32(vblo, _mm256_add_epi32(_mm256_set1_epi32((int)t), lane));
        /* Unsigned a < b as signed comparisons with the sign bits flipped; true is -1. */
        __m256i carry =
            _mm256_cmpgt_epi32(_mm256_xor_si256(vblo, sign), _mm256_xor_si256(c0, sign));
        __m256i c1 = _mm256_sub_epi32(vbhi, carry);
        __m256i carry2 =
            _mm256_cmpgt_epi32(_mm256_xor_si256(vbhi, sign), _mm256_xor_si256(c1, sign));
        __m256i c2 = _mm256_sub_epi32(vbc, carry2), c3 = _mm256_setzero_si256();
        for (int r = 0; r < 10; r++) {
            __m256i h0, l0, h1, l1;
            mulhilo8(c0, m0, &h0, &l0);
            mulhilo8(c2, m1, &h1, &l1);
            c0 = _mm256_xor_si256(_mm256_xor_si256(h1, c1), k0[r]);
            c1 = l1;
            c2 = _mm256_xor_si256(_mm256_xor_si256(h0, c3), k1[r]);
            c3 = l0;
        }
        _mm256_storeu_si256((__m256i *)&W[0][t], c0);
        _mm256_storeu_si256((__m256i *)&W[1][t], c1);
        _mm256_storeu_si256((__m256i *)&W[2][t], c2);
        _mm256_storeu_si256((__m256i *)&W[3][t], c3);
    }
}
#endif

/* The words of the group whose first thread index is `first`: W[q][t] is word q of thread t. The
 * counter of thread t is the 128-bit (Philox) or 64-bit (Threefry) sum counter + first + t; it is
 * formed from 32-bit halves with explicit carries so that the loop vectorises. */
static void cb_group_words(int engine, uint64_t seed, uint64_t counter, uint64_t first,
                           uint64_t half, uint32_t W[4][T]) {
    const uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    uint64_t base = counter + first;
    uint32_t blo = (uint32_t)base, bhi = (uint32_t)(base >> 32), bc = base < counter;
    if (engine == EM_RNG_PHILOX) {
#if defined(__AVX2__)
        philox_group_avx2(key, blo, bhi, bc, W);
        return;
#endif
        for (uint32_t t = 0; t < T; t++) {
            uint32_t lo = blo + t, hi = bhi + (lo < blo);
            uint32_t ctr[4] = {lo, hi, bc + (hi < bhi), 0}, w[4];
            em_philox4x32_10(key, ctr, w);
            W[0][t] = w[0], W[1][t] = w[1], W[2][t] = w[2], W[3][t] = w[3];
        }
    } else {
        uint64_t base2 = base + half;
        uint32_t b2lo = (uint32_t)base2, b2hi = (uint32_t)(base2 >> 32);
        for (uint32_t t = 0; t < T; t++) {
            uint32_t lo = blo + t, lo2 = b2lo + t;
            uint32_t c1[2] = {lo, bhi + (lo < blo)}, c2[2] = {lo2, b2hi + (lo2 < b2lo)}, w[4];
            em_threefry2x32_16(key, c1, w);
            em_threefry2x32_16(key, c2, w + 2);
            W[0][t] = w[0], W[1][t] = w[1], W[2][t] = w[2], W[3][t] = w[3];
        }
    }
}

/* Writes a whole group from its words: slot k of thread t is element k * 256 + t of dst, as
 * em_rng_store writes it (f16 as binary16 bits, b8 as 0 or 1). */
static void store_group(int kind, const uint32_t W[4][T], void *dst) {
    switch (kind) {
    case EM_RNG_U8:
    case EM_RNG_B8: {
        uint8_t *o = dst;
        uint32_t mask = kind == EM_RNG_B8 ? 1u : 0xffu;
        for (unsigned k = 0; k < 16; k++)
            for (unsigned t = 0; t < T; t++)
                o[k * T + t] = (uint8_t)((W[k >> 2][t] >> (8u * (k & 3u))) & mask);
        break;
    }
    case EM_RNG_U16: {
        uint16_t *o = dst;
        for (unsigned k = 0; k < 8; k++)
            for (unsigned t = 0; t < T; t++)
                o[k * T + t] = (uint16_t)(W[k >> 1][t] >> (16u * (k & 1u)));
        break;
    }
    case EM_RNG_UF16: {
        uint16_t *o = dst;
        for (unsigned k = 0; k < 8; k++)
            for (unsigned t = 0; t < T; t++)
                o[k * T + t] = em_rng_uf16(W[k >> 1][t] >> (16u * (k & 1u)));
        break;
    }
    case EM_RNG_U32:
        memcpy(dst, W, 4 * T * sizeof(uint32_t));
        break;
    case EM_RNG_UF32: {
        float *o = dst;
        for (unsigned k = 0; k < 4; k++)
            for (unsigned t = 0; t < T; t++)
                o[k * T + t] = em_rng_uf32(W[k][t]);
        break;
    }
    case EM_RNG_U64: {
        uint64_t *o = dst;
        for (unsigned k = 0; k < 2; k++)
            for (unsigned t = 0; t < T; t++)
                o[k * T + t] = (uint64_t)W[2 * k + 1][t] << 32 | W[2 * k][t];
        break;
    }
    case EM_RNG_UF64: {
        double *o = dst;
        for (unsigned k = 0; k < 2; k++)
            for (unsigned t = 0; t < T; t++)
                o[k * T + t] = em_rng_uf64(W[2 * k][t], W[2 * k + 1][t]);
        break;
    }
    case EM_RNG_UC32: {
        float *o = dst;
        for (unsigned k = 0; k < 2; k++)
            for (unsigned t = 0; t < T; t++) {
                o[2 * (k * T + t)] = em_rng_uf32(W[2 * k][t]);
                o[2 * (k * T + t) + 1] = em_rng_uf32(W[2 * k + 1][t]);
            }
        break;
    }
    case EM_RNG_UC64: {
        double *o = dst;
        for (unsigned t = 0; t < T; t++) {
            o[2 * t] = em_rng_uf64(W[0][t], W[1][t]);
            o[2 * t + 1] = em_rng_uf64(W[2][t], W[3][t]);
        }
        break;
    }
    case EM_RNG_NF16: {
        uint16_t *o = dst;
        for (unsigned j = 0; j < 4; j++)
            for (unsigned t = 0; t < T; t++)
                em_rng_nf16(W[j][t], &o[2 * j * T + t], &o[(2 * j + 1) * T + t]);
        break;
    }
    case EM_RNG_NF32: {
        float *o = dst;
        for (unsigned j = 0; j < 2; j++)
            for (unsigned t = 0; t < T; t++)
                em_rng_nf32(W[2 * j][t], W[2 * j + 1][t], &o[2 * j * T + t],
                            &o[(2 * j + 1) * T + t]);
        break;
    }
    case EM_RNG_NC32: {
        float *o = dst;
        for (unsigned j = 0; j < 2; j++)
            for (unsigned t = 0; t < T; t++)
                em_rng_nf32(W[2 * j][t], W[2 * j + 1][t], &o[2 * (j * T + t)],
                            &o[2 * (j * T + t) + 1]);
        break;
    }
    case EM_RNG_NF64: {
        double *o = dst;
        for (unsigned t = 0; t < T; t++) {
            const uint32_t w[4] = {W[0][t], W[1][t], W[2][t], W[3][t]};
            em_rng_nf64(w, &o[t], &o[T + t]);
        }
        break;
    }
    case EM_RNG_NC64: {
        double *o = dst;
        for (unsigned t = 0; t < T; t++) {
            const uint32_t w[4] = {W[0][t], W[1][t], W[2][t], W[3][t]};
            em_rng_nf64(w, &o[2 * t], &o[2 * t + 1]);
        }
        break;
    }
    default:
        break;
    }
}

/* Writes elements [from, to) of the group that starts at element `base` (base <= from < to <=
 * base + group): straight into out when that is the whole group, else through a buffer. */
static void store_range(int kind, const uint32_t W[4][T], void *out, uint64_t base, uint64_t from,
                        uint64_t to) {
    size_t eb = em_rng_elem_bytes(kind), group = em_rng_group(kind);
    char *o = (char *)out;
    if (from == base && to == base + group) {
        store_group(kind, W, o + base * eb);
        return;
    }
    _Alignas(64) unsigned char buf[16 * T];
    store_group(kind, W, buf);
    memcpy(o + from * eb, buf + (from - base) * eb, (to - from) * eb);
}

/* One Mersenne block: its rounds of 1024 outputs, each written as a group. The block's sequence is
 * kept in a straight window rather than ArrayFire's ring of 768 (no index wraps in the loop):
 * L[H + k] is output k of the round, after the H = 352 words before it (the recursion reaches 352
 * back at most). The state saved at the end is what the ring would hold. */
static void mt_block(int kind, void *out, uint64_t n, uint32_t *state, unsigned b,
                     const em_rng_mt_plan *p) {
    enum { H = EM_RNG_MT_N + 1, ROUND = 4 * T };
    uint64_t group = em_rng_group(kind);
    uint64_t start = b * p->per_block;
    uint64_t end = start + p->per_block < n ? start + p->per_block : n;
    uint64_t rounds = (end - start + group - 1) / group;
    uint64_t lo = b ? start + p->skip : 0;
    uint32_t L[H + ROUND], W[4][T];
    uint32_t *s = state + (size_t)b * EM_RNG_MT_N;
    const unsigned pos = em_rng_mt_pos[b], sh1 = em_rng_mt_sh1[b], sh2 = em_rng_mt_sh2[b];
    const uint32_t *rec = &em_rng_mt_rec_tbl[16 * b], *tmp = &em_rng_mt_tmp_tbl[16 * b];
    /* The state is the 351 words before output 0. */
    L[0] = 0;
    memcpy(L + H - EM_RNG_MT_N, s, EM_RNG_MT_N * sizeof(uint32_t));
    for (uint64_t i = 0; i < rounds; i++) {
        if (i) memmove(L, L + ROUND, H * sizeof(uint32_t));
        uint32_t *o = &W[0][0];
        for (unsigned k = 0; k < ROUND; k++) {
            const uint32_t *x = L + H - EM_RNG_MT_N + k;
            uint32_t r = em_rng_mt_recursion(rec, sh1, sh2, x[0], x[1], x[pos]);
            L[H + k] = r;
            o[k] = em_rng_mt_temper(tmp, r, x[pos - 1]);
        }
        uint64_t base = start + i * group;
        uint64_t from = base > lo ? base : lo, to = base + group < n ? base + group : n;
        if (from < to) store_range(kind, (const uint32_t(*)[T])W, out, base, from, to);
    }
    /* ArrayFire saves ring positions 417..767; position q holds the last output with index = q
     * modulo 768, which lies in the last round. */
    uint64_t m = rounds * ROUND;
    for (unsigned q = 0; q < EM_RNG_MT_N; q++) {
        uint64_t ring_pos = EM_RNG_MT_RING - EM_RNG_MT_N + q;
        uint64_t k = m - 1 - (m - 1 - ring_pos) % EM_RNG_MT_RING;
        s[q] = L[H + (k - (m - ROUND))];
    }
}

af_err em_cpu_random(int dev, void *out, af_dtype type, dim_t n, int engine, int dist,
                     uint64_t seed, uint64_t counter, void *mt_state) {
    (void)dev;
    if (dist != EM_RANDOM_UNIFORM && dist != EM_RANDOM_NORMAL) return AF_ERR_ARG;
    if (n < 0) return AF_ERR_SIZE;
    int kind = em_rng_kind((int)type, dist == EM_RANDOM_NORMAL);
    if (kind == EM_RNG_NONE) return AF_ERR_TYPE;
    if (n == 0) return AF_SUCCESS;
    uint64_t group = em_rng_group(kind), total = (uint64_t)n;
    if (engine == EM_RNG_PHILOX || engine == EM_RNG_THREEFRY) {
        int64_t groups = (int64_t)((total + group - 1) / group);
#pragma omp parallel for schedule(static) if (groups > EM_CPU_RANDOM_SERIAL_GROUPS)
        for (int64_t g = 0; g < groups; g++) {
            uint32_t W[4][T];
            uint64_t base = (uint64_t)g * group;
            cb_group_words(engine, seed, counter, base, group / 2, W);
            store_range(kind, (const uint32_t(*)[T])W, out, base, base,
                        base + group < total ? base + group : total);
        }
        return AF_SUCCESS;
    }
    if (engine != EM_RNG_MERSENNE || !mt_state) return AF_ERR_ARG;
    em_rng_mt_plan p = em_rng_mt_plan_of(kind, total);
    int blocks = (int)p.blocks;
#pragma omp parallel for schedule(static, 1) if (blocks > 1)
    for (int b = 0; b < blocks; b++)
        mt_block(kind, out, total, mt_state, (unsigned)b, &p);
    return AF_SUCCESS;
}
