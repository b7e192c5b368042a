/* The CUDA backend's signal table (src/backend/signal.h): FFTs and the window copy (fft.c), the
 * convolutions (convolve.c), and here the IIR recurrence, the median filter and interpolation,
 * plus the helpers that compile one variant of the family's kernel sources at a time. */
#include "signal_impl.h"

#include "../../core/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- kernel variants ------------------------------------------------------------------------ */

/* The texts of a variant's source: convolve.cuh builds on signal.cuh's dtype helpers, so it comes
 * after it. */
static void sig_texts(em_cu_sig_src src, const char **first, const char **second) {
    *first = em_cu_src_signal;
    *second = src == EM_CU_SIG_SRC_CONVOLVE ? em_cu_src_convolve : "";
}

static uint64_t text_hash(uint64_t h, const char *s) {
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

/* The hash of each source's texts, computed once (a racing thread computes the same value). */
static uint64_t sig_base_hash(em_cu_sig_src src) {
    static _Atomic uint64_t cache[2];
    uint64_t h = atomic_load_explicit(&cache[src], memory_order_relaxed);
    if (!h) {
        const char *a, *b;
        sig_texts(src, &a, &b);
        h = text_hash(text_hash(EM_HASH_SEED ^ (0x5349474e414cull + (uint64_t)src), a), b);
        atomic_store_explicit(&cache[src], h, memory_order_relaxed);
    }
    return h;
}

typedef struct {
    const char *a, *b, *tail;
} sig_gen_ctx;

static char *sig_gen(const void *ctx) {
    const sig_gen_ctx *c = ctx;
    size_t la = strlen(c->a), lb = strlen(c->b), lt = strlen(c->tail);
    char *s = malloc(la + lb + lt + 3);
    if (!s) return NULL;
    memcpy(s, c->a, la);
    s[la] = '\n';
    memcpy(s + la + 1, c->b, lb);
    s[la + 1 + lb] = '\n';
    memcpy(s + la + lb + 2, c->tail, lt + 1);
    return s;
}

af_err em_cu_sig_kernel(int dev, em_cu_sig_src src, const char *name, const char *tail,
                        CUfunction *out) {
    uint64_t key = text_hash(sig_base_hash(src), tail);
    sig_gen_ctx ctx;
    sig_texts(src, &ctx.a, &ctx.b);
    ctx.tail = tail;
    return em_cu_module_get(dev, key, name, sig_gen, &ctx, out);
}

af_err em_cu_sig_compile(em_cu_sig_src src, const char *name, const char *tail) {
    sig_gen_ctx ctx;
    sig_texts(src, &ctx.a, &ctx.b);
    ctx.tail = tail;
    char *s = sig_gen(&ctx);
    if (!s) return em_err(AF_ERR_NO_MEM, __func__, "out of host memory");
    af_err err = em_cu_compile_source(s, name);
    free(s);
    return err;
}

unsigned em_cu_sig_blocks(int dev, long long n) {
    long long b = (n + EM_CU_BLOCK - 1) / EM_CU_BLOCK;
    if (b > em_cu_devs[dev].grid) b = em_cu_devs[dev].grid;
    return b < 1 ? 1 : (unsigned)b;
}

/* ---- the compile check of kernels/signal.cuh ---- */

static af_err signal_compile_check(void) {
    af_err err = AF_SUCCESS;
    return err;
}
EM_CU_COMPILE_CHECK(signal, signal_compile_check)

const struct em_signal_ops em_cu_signal_ops = {
    .fft = em_cu_fft,
    .fft_plan_cache_size = em_cu_fft_plan_cache_size,
    .window = em_cu_window,
    .convolve = em_cu_convolve,
    .convolve_sep = em_cu_convolve_sep,
    .convolve_nn = em_cu_convolve_nn,
    /* Estimated for the H200 from the kernels' instruction counts (docs/BENCH.md has the
     * measured crossover once it has been run): the tiled kernels stay ahead of three FFTs up to
     * about these sizes. */
    .conv_auto_taps = {1024, 625, 343},
};
