/* Sorting, sets and order selection on CUDA: the sort section of the algorithm table
 * (src/backend/algorithm.h).
 *
 * Keys are mapped to ordered unsigned integers by an NVRTC kernel (kernels/sort.cuh), sorted by
 * CUB's radix sort (nvcc/sort.cu: 32- and 64-bit keys, with or without a 32-bit payload), and
 * mapped back. Sorting along any dimension of a block of many lines is two stable sorts of the
 * whole block: by key with each element's input position as payload, then by line number; the
 * lines come out one after another, each in key order, and a last kernel puts each element in
 * its place (so no transposes are needed). Selection (median, topk) never sorts the input: a
 * radix select fixes the wanted key 8 bits a pass from the top (one read of the input each), and
 * topk then keeps the k best in input order (an ordered compaction) and sorts just those. The
 * set functions sort, then compact the first of each run of equal keys.
 *
 * Everything runs on the library stream (em_cu_enter) with scratch from Ember's pool; only the
 * set functions wait for the device, since their output length is a host value. */
#include "cu.h"

#include "../../core/err.h"
#include "../../core/mem.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* nvcc/sort.cu */
extern cudaError_t em_cub_sort_keys(int wide, void *temp, size_t *bytes, void *k0, void *k1,
                                    int *sel, int n, int lo, int hi, cudaStream_t s);
extern cudaError_t em_cub_sort_pairs(int wide, void *temp, size_t *bytes, void *k0, void *k1,
                                     unsigned *v0, unsigned *v1, int *sel, int n, int lo, int hi,
                                     cudaStream_t s);
extern cudaError_t em_cub_sort_f32(void *temp, size_t *bytes, const float *in, float *out, int n,
                                   int descending, cudaStream_t s);

#define CMP_TILE        2048 /* EM_CMP_TILE of sort.cuh */
#define CMP_THREADS     256
#define SEL_TILE        8192 /* elements of a line per block of the selection histogram */
#define MAX_GRID_Y      65535
#define SET_BITMAP_BITS 24   /* set_unique marks a bitmap when the keys differ in no more bits */
#define SET_WORDS       1024 /* EM_SET_WORDS of sort.cuh */
#define SET_THREADS     256  /* EM_SET_THREADS of sort.cuh */

/* ---- kernels ---- */

typedef struct {
    af_dtype type;
    const char *name;
} sort_src_ctx;

static int kind_of(af_dtype t) {
    if (t == f32 || t == f64 || t == f16) return 2;
    if (t == s8 || t == s16 || t == s32 || t == s64) return 1;
    return 0;
}

static char *sort_source(const void *ctx) {
    const sort_src_ctx *c = ctx;
    size_t len = strlen(em_cu_src_sort) + 256;
    char *s = malloc(len);
    if (!s) return NULL;
    int n = snprintf(s, len, "#define EM_TW %d\n#define EM_KIND %d\n#define EM_SORT_K_%s 1\n",
                     (int)em_dtype_size(c->type) * 8, kind_of(c->type), c->name);
    memcpy(s + n, em_cu_src_sort, strlen(em_cu_src_sort) + 1);
    return s;
}

static uint64_t text_hash(const char *t) {
    uint64_t h = EM_HASH_SEED;
    for (; *t; t++)
        h = (h ^ (unsigned char)*t) * 0x100000001b3ull;
    return h;
}

static uint64_t sort_src_hash(void) {
    static _Atomic uint64_t hash;
    uint64_t h = atomic_load_explicit(&hash, memory_order_relaxed);
    if (!h) {
        h = text_hash(em_cu_src_sort);
        atomic_store_explicit(&hash, h, memory_order_relaxed);
    }
    return h;
}

/* Kernel `name` of sort.cuh for keys of dtype t, compiled (or loaded) once per dtype. */
static af_err kern(int dev, af_dtype t, const char *name, CUfunction *f) {
    sort_src_ctx c = {t, name};
    uint64_t key = em_hash_mix(sort_src_hash(), 0x736f7274ull); /* "sort" */
    key = em_hash_mix(key, (uint64_t)em_dtype_size(t) * 8);
    key = em_hash_mix(key, (uint64_t)kind_of(t));
    key = em_hash_mix(key, text_hash(name));
    return em_cu_module_get(dev, key, name, sort_source, &c, f);
}

/* A grid-stride launch over n elements. */
static af_err launch(const char *fn, int dev, af_dtype t, const char *name, long long n,
                     void **args, cudaStream_t s) {
    af_err err = AF_SUCCESS;
    CUfunction f;
    if (n <= 0) return AF_SUCCESS;
    EM_TRY_FN(kern(dev, t, name, &f));
    long long blocks = (n + EM_CU_BLOCK - 1) / EM_CU_BLOCK;
    if (blocks > em_cu_devs[dev].grid) blocks = em_cu_devs[dev].grid;
    dim3 grid = {(unsigned)blocks, 1, 1}, block = {EM_CU_BLOCK, 1, 1};
    EM_TRY_FN(em_cu_launch(fn, name, f, grid, block, args, s));
fail:
    return err;
}

/* A launch of grid (gx, lines) in turns of at most 65535 rows; args[line0_arg] points at the
 * long long that receives each turn's first line. */
static af_err launch_lines(const char *fn, int dev, af_dtype t, const char *name, long long gx,
                           long long lines, unsigned threads, void **args, long long *line0,
                           cudaStream_t s) {
    af_err err = AF_SUCCESS;
    CUfunction f;
    EM_TRY_FN(kern(dev, t, name, &f));
    for (long long l = 0; l < lines; l += MAX_GRID_Y) {
        long long rows = lines - l < MAX_GRID_Y ? lines - l : MAX_GRID_Y;
        *line0 = l;
        dim3 grid = {(unsigned)gx, (unsigned)rows, 1}, block = {threads, 1, 1};
        EM_TRY_FN(em_cu_launch(fn, name, f, grid, block, args, s));
    }
fail:
    return err;
}

/* ---- scratch ---- */

#define MAX_SCRATCH 32

typedef struct {
    em_buf *b[MAX_SCRATCH];
    int n;
} scratch_t;

static af_err scratch_get(const char *fn, int dev, scratch_t *sc, size_t bytes, void **p) {
    af_err err = AF_SUCCESS;
    if (sc->n == MAX_SCRATCH) EM_FAIL_FN(AF_ERR_INTERNAL, "too many scratch buffers");
    EM_TRY_FN(em_buf_alloc(dev, bytes ? bytes : 1, &sc->b[sc->n]));
    *p = sc->b[sc->n++]->ptr;
fail:
    return err;
}

/* Releases the scratch. The pool hands a block out again only to work queued after this on the
 * same stream, so nothing waits here. */
static void scratch_free(scratch_t *sc) {
    for (int i = 0; i < sc->n; i++)
        em_buf_release(sc->b[i]);
    sc->n = 0;
}

static unsigned bits_for(long long x) {
    unsigned b = 1;
    while (b < 63 && (x >> b) != 0)
        b++;
    return b;
}

static uint64_t key_max(af_dtype t) {
    size_t w = em_dtype_size(t);
    return w >= 8 ? ~0ull : (1ull << (8 * w)) - 1;
}

/* The flip word passed by value: a key of the kernel's key width. */
typedef union {
    uint32_t u32;
    uint64_t u64;
} keyword;

static keyword flip_of(af_dtype t, bool flip) {
    keyword k;
    memset(&k, 0, sizeof(k));
    uint64_t v = flip ? key_max(t) : 0;
    if (em_dtype_size(t) == 8)
        k.u64 = v;
    else
        k.u32 = (uint32_t)v;
    return k;
}

/* Runs CUB over n keys (and payload when v0), querying and taking its temporary storage. */
static af_err cub_sort(const char *fn, int dev, scratch_t *sc, bool wide, void *k0, void *k1,
                       unsigned *v0, unsigned *v1, int sel[2], long long n, int hi,
                       cudaStream_t s) {
    af_err err = AF_SUCCESS;
    size_t bytes = 0;
    void *temp = NULL;
    sel[0] = sel[1] = 0;
    if (n <= 1) return AF_SUCCESS;
    cudaError_t e =
        v0 ? em_cub_sort_pairs(wide, NULL, &bytes, k0, k1, v0, v1, NULL, (int)n, 0, hi, s)
           : em_cub_sort_keys(wide, NULL, &bytes, k0, k1, NULL, (int)n, 0, hi, s);
    if (e != cudaSuccess) return em_cu_err(e, fn, "sizing CUB's radix sort");
    EM_TRY_FN(scratch_get(fn, dev, sc, bytes, &temp));
    e = v0 ? em_cub_sort_pairs(wide, temp, &bytes, k0, k1, v0, v1, sel, (int)n, 0, hi, s)
           : em_cub_sort_keys(wide, temp, &bytes, k0, k1, sel, (int)n, 0, hi, s);
    if (!v0) sel[1] = 0;
    if (e != cudaSuccess) return em_cu_err(e, fn, "CUB's radix sort");
fail:
    return err;
}

static af_err check_size(const char *fn, long long n) {
    if (n > INT_MAX)
        return em_err(AF_ERR_NOT_SUPPORTED, fn,
                      "%lld elements: the CUDA backend sorts fewer than 2^31 elements at once", n);
    return AF_SUCCESS;
}

/* ---------------------------------------------------------------------------------------------
 * sort
 * ------------------------------------------------------------------------------------------- */

/* One line of f32 keys alone: CUB reads the input and writes the output itself (see
 * em_cub_sort_f32), and two small kernels put NaNs with the sign bit where the library's order
 * wants them (usually there are none and they only read one element). */
static af_err sort_f32(const char *fn, int dev, scratch_t *sc, bool ascending, const void *keys,
                       void *keys_out, long long n, cudaStream_t s) {
    af_err err = AF_SUCCESS;
    size_t bytes = 0;
    void *temp = NULL, *tmp = NULL;
    long long *fixm = NULL;
    int desc = !ascending;
    if (n == 1) {
        EM_CU_TRY(cudaMemcpyAsync(keys_out, keys, 4, cudaMemcpyDeviceToDevice, s),
                  "copying the key");
        return AF_SUCCESS;
    }
    cudaError_t e = em_cub_sort_f32(NULL, &bytes, keys, keys_out, (int)n, desc, s);
    if (e != cudaSuccess) return em_cu_err(e, fn, "sizing CUB's radix sort");
    EM_TRY_FN(scratch_get(fn, dev, sc, bytes, &temp));
    EM_TRY_FN(scratch_get(fn, dev, sc, (size_t)n * 4, &tmp));
    EM_TRY_FN(scratch_get(fn, dev, sc, sizeof(long long), (void **)&fixm));
    e = em_cub_sort_f32(temp, &bytes, keys, keys_out, (int)n, desc, s);
    if (e != cudaSuccess) return em_cu_err(e, fn, "CUB's radix sort");
    {
        void *args[] = {&keys_out, &tmp, &n, &desc, &fixm};
        EM_TRY_FN(launch(fn, dev, f32, "em_sort_fix_nan", n, args, s));
    }
    {
        void *args[] = {&tmp, &keys_out, &n, &fixm};
        EM_TRY_FN(launch(fn, dev, f32, "em_sort_fix_copy", n, args, s));
    }
fail:
    return err;
}

af_err em_cu_sort(int dev, af_dtype type, const dim_t dims[4], int dim, bool ascending,
                  const void *keys, void *keys_out, uint32_t *idx_out, const void *vals,
                  size_t val_size, void *vals_out) {
    af_err err = AF_SUCCESS;
    const char *fn = "af_sort";
    cudaStream_t s;
    int prev = -1;
    scratch_t sc = {{0}, 0};
    long long inner = 1, outer = 1, len = dims[dim];
    for (int d = 0; d < dim; d++)
        inner *= dims[d];
    for (int d = dim + 1; d < 4; d++)
        outer *= dims[d];
    long long nlines = inner * outer, n = len * nlines;
    if (n == 0) return AF_SUCCESS;
    EM_TRY_FN(check_size(fn, n));
    size_t w = em_dtype_size(type);
    bool wide = w == 8;
    size_t ks = wide ? 8 : 4;
    int tw = (int)w * 8;
    keyword flip = flip_of(type, !ascending);
    /* One line, with a 4-byte payload and no indices wanted: the payload rides with the key. */
    bool one = nlines == 1;
    bool val_rides = one && vals_out && val_size == 4 && !idx_out;
    bool pay = idx_out || vals_out || !one;
    void *kA = NULL, *kB = NULL, *pA = NULL, *pB = NULL;
    EM_TRY_FN(em_cu_enter(fn, dev, &s, &prev));
    if (type == f32 && one && keys_out && !idx_out && !vals_out) {
        EM_TRY_FN(sort_f32(fn, dev, &sc, ascending, keys, keys_out, n, s));
        goto fail;
    }
    /* The outputs start as CUB's input buffers where they can hold keys and payload: with an
     * even number of digit passes (the usual case) the result then lands in them. */
    if (one && keys_out && w == ks)
        kA = keys_out;
    else
        EM_TRY_FN(scratch_get(fn, dev, &sc, (size_t)n * ks, &kA));
    EM_TRY_FN(scratch_get(fn, dev, &sc, (size_t)n * ks, &kB));
    if (pay) {
        if (one && idx_out)
            pA = idx_out;
        else if (val_rides)
            pA = vals_out;
        else
            EM_TRY_FN(scratch_get(fn, dev, &sc, (size_t)n * 4, &pA));
        EM_TRY_FN(scratch_get(fn, dev, &sc, (size_t)n * 4, &pB));
    }
    {
        void *args[] = {&keys, &kA, &n, &flip};
        EM_TRY_FN(launch(fn, dev, type, "em_sort_map", n, args, s));
    }
    if (val_rides) {
        EM_CU_TRY(cudaMemcpyAsync(pA, vals, (size_t)n * 4, cudaMemcpyDeviceToDevice, s),
                  "copying the payload");
    } else if (pay) {
        void *args[] = {&pA, &n};
        EM_TRY_FN(launch(fn, dev, type, "em_sort_iota", n, args, s));
    }
    int sel[2];
    EM_TRY_FN(cub_sort(fn, dev, &sc, wide, kA, kB, pay ? pA : NULL, pB, sel, n, tw, s));
    void *kc = sel[0] ? kB : kA;
    uint32_t *pc = sel[1] ? pB : pA, *pf = sel[1] ? pA : pB;
    if (one) {
        if (keys_out) {
            void *args[] = {&kc, &keys_out, &n, &flip};
            EM_TRY_FN(launch(fn, dev, type, "em_sort_unmap", n, args, s));
        }
        if ((idx_out || val_rides) && (void *)pc != (idx_out ? (void *)idx_out : vals_out))
            EM_CU_TRY(cudaMemcpyAsync(idx_out ? (void *)idx_out : vals_out, pc, (size_t)n * 4,
                                      cudaMemcpyDeviceToDevice, s),
                      "copying the sorted payload");
        if (vals_out && !val_rides) {
            int size = (int)val_size;
            long long in1 = 1;
            void *args[] = {&vals, &pc, &vals_out, &size, &n, &in1, &n};
            EM_TRY_FN(launch(fn, dev, type, "em_sort_scatter", n, args, s));
        }
    } else {
        /* Second pass: stable by line, so each line keeps its key order. The line numbers go in
         * the key buffers the first pass is done with (two u32 halves of the free one for
         * 64-bit keys). */
        uint32_t *sA = (uint32_t *)(kc == kA ? kB : kA);
        uint32_t *sB = wide ? sA + n : (uint32_t *)kc;
        {
            void *args[] = {&pc, &sA, &n, &inner, &len};
            EM_TRY_FN(launch(fn, dev, type, "em_sort_segkey", n, args, s));
        }
        int sel2[2];
        EM_TRY_FN(
            cub_sort(fn, dev, &sc, false, sA, sB, pc, pf, sel2, n, (int)bits_for(nlines - 1), s));
        uint32_t *g = sel2[1] ? pf : pc;
        if (keys_out || idx_out) {
            void *args[] = {&keys, &g, &keys_out, &idx_out, &n, &inner, &len};
            EM_TRY_FN(launch(fn, dev, type, "em_sort_finish", n, args, s));
        }
        if (vals_out) {
            int size = (int)val_size;
            void *args[] = {&vals, &g, &vals_out, &size, &n, &inner, &len};
            EM_TRY_FN(launch(fn, dev, type, "em_sort_scatter", n, args, s));
        }
    }
fail:
    scratch_free(&sc);
    em_cu_leave_enqueued(dev, prev);
    return err;
}

/* ---------------------------------------------------------------------------------------------
 * Ordered compaction (sets, topk)
 * ------------------------------------------------------------------------------------------- */

typedef struct {
    int mode;              /* 0 unique, 1 intersect, 2 topk (sort.cuh) */
    const void *keys;      /* sorted keys (modes 0, 1) */
    const void *raw;       /* input values (mode 2, and out_mode 1) */
    long long n;           /* elements per line */
    long long lines;       /* lines (mode 2: columns) */
    keyword flip;          /* mode 2 */
    const void *th;        /* mode 2: per line key */
    const long long *rank; /* mode 2: per line rank among equals */
    int out_mode;
    void *out, *okeys;
    uint32_t *oidx;
    long long cap;
} cmp_args;

/* Runs the three compaction kernels; *total (device, one long long per line) gets the counts. */
static af_err compact(const char *fn, int dev, af_dtype t, scratch_t *sc, cmp_args *a,
                      long long *total, cudaStream_t s) {
    af_err err = AF_SUCCESS;
    long long tiles = (a->n + CMP_TILE - 1) / CMP_TILE, line0 = 0;
    uint32_t *cnt = NULL;
    int need_b = a->mode == 2;
    EM_TRY_FN(scratch_get(fn, dev, sc, (size_t)(2 * tiles * a->lines) * 4, (void **)&cnt));
    {
        void *args[] = {&a->mode, &a->keys, &a->raw, &a->n, &a->flip, &a->th, &cnt, &line0};
        EM_TRY_FN(launch_lines(fn, dev, t, "em_cmp_count", tiles, a->lines, CMP_THREADS, args,
                               &line0, s));
    }
    {
        CUfunction f;
        EM_TRY_FN(kern(dev, t, "em_cmp_scan", &f));
        for (long long l = 0; l < a->lines; l += MAX_GRID_Y) {
            long long rows = a->lines - l < MAX_GRID_Y ? a->lines - l : MAX_GRID_Y;
            uint32_t *c = cnt + 2 * tiles * l;
            const long long *r = a->rank ? a->rank + l : NULL;
            long long *tt = total + l;
            void *args[] = {&c, &tiles, &r, &need_b, &tt};
            dim3 grid = {(unsigned)rows, 1, 1}, block = {1024, 1, 1};
            EM_TRY_FN(em_cu_launch(fn, "em_cmp_scan", f, grid, block, args, s));
        }
    }
    {
        void *args[] = {&a->mode, &a->keys,     &a->raw, &a->n,     &a->flip, &a->th,  &a->rank,
                        &cnt,     &a->out_mode, &a->out, &a->okeys, &a->oidx, &a->cap, &line0};
        EM_TRY_FN(launch_lines(fn, dev, t, "em_cmp_write", tiles, a->lines, CMP_THREADS, args,
                               &line0, s));
    }
fail:
    return err;
}

/* Reads one device long long (the host needs it: a set's length). */
static af_err read_count(const char *fn, const long long *dptr, long long *out, cudaStream_t s) {
    af_err err = AF_SUCCESS;
    EM_CU_TRY(cudaMemcpyAsync(out, dptr, sizeof(*out), cudaMemcpyDeviceToHost, s),
              "reading a count");
    EM_CU_TRY(cudaStreamSynchronize(s), "waiting for a count");
fail:
    if (err != AF_SUCCESS) em_err_attribute(fn);
    return err;
}

/* Maps n values into keys and sorts them; *cur receives the buffer holding the result. The set
 * functions wait for the device anyway, so the sort first learns which low bits the keys differ
 * in (every higher bit is common to all of them) and sorts only those: a key range of 2^20
 * takes three digit passes instead of four. */
static af_err map_sort(const char *fn, int dev, af_dtype t, scratch_t *sc, const void *a,
                       long long na, const void *b, long long nb, bool sort, int *bits, void **cur,
                       cudaStream_t s) {
    af_err err = AF_SUCCESS;
    size_t ks = em_dtype_size(t) == 8 ? 8 : 4;
    long long n = na + nb;
    void *k0 = NULL, *k1 = NULL, *diff = NULL;
    keyword flip = flip_of(t, false), dh;
    if (bits) *bits = -1;
    EM_TRY_FN(scratch_get(fn, dev, sc, (size_t)n * ks, &k0));
    EM_TRY_FN(scratch_get(fn, dev, sc, sizeof(keyword), &diff));
    EM_CU_TRY(cudaMemsetAsync(diff, 0, sizeof(keyword), s), "clearing a word");
    {
        void *args[] = {&a, &k0, &na, &flip, &a, &diff};
        EM_TRY_FN(launch(fn, dev, t, "em_sort_map_diff", na, args, s));
    }
    if (nb) {
        void *kb = (char *)k0 + (size_t)na * ks;
        void *args[] = {&b, &kb, &nb, &flip, &a, &diff};
        EM_TRY_FN(launch(fn, dev, t, "em_sort_map_diff", nb, args, s));
    }
    *cur = k0;
    if (sort) {
        int sel[2], hi = 0;
        EM_CU_TRY(cudaMemcpyAsync(&dh, diff, sizeof(dh), cudaMemcpyDeviceToHost, s),
                  "reading the keys' differing bits");
        EM_CU_TRY(cudaStreamSynchronize(s), "waiting for the keys' differing bits");
        uint64_t x = ks == 8 ? dh.u64 : dh.u32;
        while (hi < 64 && (x >> hi) != 0)
            hi++;
        if (hi == 0) return AF_SUCCESS; /* every key is equal: sorted as it stands */
        if (bits && hi <= SET_BITMAP_BITS) {
            *bits = hi; /* the caller marks a bitmap instead of sorting */
            return AF_SUCCESS;
        }
        EM_TRY_FN(scratch_get(fn, dev, sc, (size_t)n * ks, &k1));
        EM_TRY_FN(cub_sort(fn, dev, sc, ks == 8, k0, k1, NULL, NULL, sel, n, hi, s));
        *cur = sel[0] ? k1 : k0;
    }
fail:
    return err;
}

/* The runs of sorted keys k (n) compacted by `mode` into out (values) or okeys (keys). */
static af_err runs(const char *fn, int dev, af_dtype t, scratch_t *sc, int mode, const void *k,
                   const void *raw, long long n, int out_mode, void *out, void *okeys,
                   long long *count, cudaStream_t s) {
    af_err err = AF_SUCCESS;
    long long *total = NULL;
    EM_TRY_FN(scratch_get(fn, dev, sc, sizeof(long long), (void **)&total));
    cmp_args a;
    memset(&a, 0, sizeof(a));
    a.mode = mode;
    a.keys = k;
    a.raw = raw;
    a.n = n;
    a.lines = 1;
    a.out_mode = out_mode;
    a.out = out;
    a.okeys = okeys;
    EM_TRY_FN(compact(fn, dev, t, sc, &a, total, s));
    EM_TRY_FN(read_count(fn, total, count, s));
fail:
    return err;
}

/* The distinct keys of k (n keys, mapped, equal above their low `bits` bits) written unmapped
 * into out in ascending order through a bitmap with one bit per possible key: one pass over the
 * keys and a short one over the bitmap, where a sort would take several digit passes. */
static af_err bitmap_unique(const char *fn, int dev, af_dtype t, scratch_t *sc, const void *k,
                            const void *ref, long long n, int bits, void *out, long long *count,
                            cudaStream_t s) {
    af_err err = AF_SUCCESS;
    long long words = ((1ll << bits) + 31) / 32, blocks = (words + SET_WORDS - 1) / SET_WORDS;
    uint32_t *bm = NULL, *cnt = NULL;
    long long *total = NULL;
    keyword flip = flip_of(t, false), mask;
    memset(&mask, 0, sizeof(mask));
    if (em_dtype_size(t) == 8)
        mask.u64 = (1ull << bits) - 1;
    else
        mask.u32 = (uint32_t)((1ull << bits) - 1);
    CUfunction fc, fs, fw;
    EM_TRY_FN(scratch_get(fn, dev, sc, (size_t)words * 4, (void **)&bm));
    EM_TRY_FN(scratch_get(fn, dev, sc, (size_t)blocks * 4, (void **)&cnt));
    EM_TRY_FN(scratch_get(fn, dev, sc, sizeof(long long), (void **)&total));
    EM_CU_TRY(cudaMemsetAsync(bm, 0, (size_t)words * 4, s), "clearing the bitmap");
    {
        void *args[] = {&k, &n, &mask, &bm};
        EM_TRY_FN(launch(fn, dev, t, "em_set_mark", n, args, s));
    }
    EM_TRY_FN(kern(dev, t, "em_set_count", &fc));
    EM_TRY_FN(kern(dev, t, "em_set_scan", &fs));
    EM_TRY_FN(kern(dev, t, "em_set_write", &fw));
    {
        void *args[] = {&bm, &words, &cnt};
        dim3 g = {(unsigned)blocks, 1, 1}, b = {SET_THREADS, 1, 1};
        EM_TRY_FN(em_cu_launch(fn, "em_set_count", fc, g, b, args, s));
    }
    {
        void *args[] = {&cnt, &blocks, &total};
        dim3 g = {1, 1, 1}, b = {32, 1, 1};
        EM_TRY_FN(em_cu_launch(fn, "em_set_scan", fs, g, b, args, s));
    }
    {
        void *args[] = {&bm, &words, &cnt, &ref, &mask, &flip, &out};
        dim3 g = {(unsigned)blocks, 1, 1}, b = {SET_THREADS, 1, 1};
        EM_TRY_FN(em_cu_launch(fn, "em_set_write", fw, g, b, args, s));
    }
    EM_TRY_FN(read_count(fn, total, count, s));
fail:
    return err;
}

af_err em_cu_set_unique(int dev, af_dtype type, const void *in, dim_t n, bool is_sorted, void *out,
                        dim_t *nout) {
    af_err err = AF_SUCCESS;
    const char *fn = "af_set_unique";
    cudaStream_t s;
    int prev = -1;
    scratch_t sc = {{0}, 0};
    void *k;
    long long m = 0;
    EM_TRY_FN(check_size(fn, n));
    EM_TRY_FN(em_cu_enter(fn, dev, &s, &prev));
    int bits = -1;
    EM_TRY_FN(map_sort(fn, dev, type, &sc, in, n, NULL, 0, !is_sorted, &bits, &k, s));
    if (bits >= 0) {
        EM_TRY_FN(bitmap_unique(fn, dev, type, &sc, k, in, n, bits, out, &m, s));
    } else {
        /* Taken as sorted: neighbours compare by key; the input values are kept as they are. */
        EM_TRY_FN(runs(fn, dev, type, &sc, 0, k, in, n, is_sorted ? 1 : 0, out, NULL, &m, s));
    }
    *nout = m;
fail:
    scratch_free(&sc);
    em_cu_leave_enqueued(dev, prev);
    return err;
}

af_err em_cu_set_union(int dev, af_dtype type, const void *a, dim_t na, const void *b, dim_t nb,
                       void *out, dim_t *nout) {
    af_err err = AF_SUCCESS;
    const char *fn = "af_set_union";
    cudaStream_t s;
    int prev = -1;
    scratch_t sc = {{0}, 0};
    void *k;
    long long m = 0;
    EM_TRY_FN(check_size(fn, na + nb));
    EM_TRY_FN(em_cu_enter(fn, dev, &s, &prev));
    EM_TRY_FN(map_sort(fn, dev, type, &sc, a, na, b, nb, true, NULL, &k, s));
    EM_TRY_FN(runs(fn, dev, type, &sc, 0, k, NULL, na + nb, 0, out, NULL, &m, s));
    *nout = m;
fail:
    scratch_free(&sc);
    em_cu_leave_enqueued(dev, prev);
    return err;
}

af_err em_cu_set_intersect(int dev, af_dtype type, const void *a, dim_t na, const void *b, dim_t nb,
                           bool is_unique, void *out, dim_t *nout) {
    af_err err = AF_SUCCESS;
    const char *fn = "af_set_intersect";
    cudaStream_t s;
    int prev = -1;
    scratch_t sc = {{0}, 0};
    void *k;
    long long m = 0;
    size_t ks = em_dtype_size(type) == 8 ? 8 : 4;
    EM_TRY_FN(check_size(fn, na + nb));
    EM_TRY_FN(em_cu_enter(fn, dev, &s, &prev));
    if (is_unique) {
        EM_TRY_FN(map_sort(fn, dev, type, &sc, a, na, b, nb, true, NULL, &k, s));
    } else {
        /* Each input made duplicate-free first (as keys, side by side), then sorted together:
         * a value in both is then exactly a pair of equal neighbours. */
        void *u = NULL, *ka = NULL, *kb = NULL, *k1 = NULL;
        long long ma = 0, mb = 0;
        int sel[2];
        EM_TRY_FN(scratch_get(fn, dev, &sc, (size_t)(na + nb) * ks, &u));
        EM_TRY_FN(map_sort(fn, dev, type, &sc, a, na, NULL, 0, true, NULL, &ka, s));
        EM_TRY_FN(runs(fn, dev, type, &sc, 0, ka, NULL, na, 3, NULL, u, &ma, s));
        EM_TRY_FN(map_sort(fn, dev, type, &sc, b, nb, NULL, 0, true, NULL, &kb, s));
        EM_TRY_FN(runs(fn, dev, type, &sc, 0, kb, NULL, nb, 3, NULL, (char *)u + (size_t)ma * ks,
                       &mb, s));
        EM_TRY_FN(scratch_get(fn, dev, &sc, (size_t)(ma + mb) * ks, &k1));
        EM_TRY_FN(cub_sort(fn, dev, &sc, ks == 8, u, k1, NULL, NULL, sel, ma + mb,
                           (int)em_dtype_size(type) * 8, s));
        k = sel[0] ? k1 : u;
        na = ma;
        nb = mb;
    }
    EM_TRY_FN(runs(fn, dev, type, &sc, 1, k, NULL, na + nb, 0, out, NULL, &m, s));
    *nout = m;
fail:
    scratch_free(&sc);
    em_cu_leave_enqueued(dev, prev);
    return err;
}

/* ---------------------------------------------------------------------------------------------
 * Selection: median, topk
 * ------------------------------------------------------------------------------------------- */

/* Radix select of rank r (and r + 1 when nq == 2) in every line; prefix and rank are device
 * arrays of nlines * nq. */
static af_err select_rank(const char *fn, int dev, af_dtype t, scratch_t *sc, const void *in,
                          long long inner, long long len, long long nlines, keyword flip,
                          long long r, int nq, void *prefix, long long *rank, cudaStream_t s) {
    af_err err = AF_SUCCESS;
    long long nqs = nlines * nq;
    uint32_t *hist = NULL;
    EM_TRY_FN(scratch_get(fn, dev, sc, (size_t)nqs * 256 * 4, (void **)&hist));
    EM_CU_TRY(cudaMemsetAsync(hist, 0, (size_t)nqs * 256 * 4, s), "clearing histograms");
    {
        void *args[] = {&prefix, &rank, &nqs, &nq, &r};
        EM_TRY_FN(launch(fn, dev, t, "em_sel_init", nqs, args, s));
    }
    CUfunction fh, fp;
    EM_TRY_FN(kern(dev, t, "em_sel_hist", &fh));
    EM_TRY_FN(kern(dev, t, "em_sel_pick", &fp));
    long long tile = SEL_TILE, tiles = (len + tile - 1) / tile;
    long long rows = nlines < MAX_GRID_Y ? nlines : MAX_GRID_Y;
    for (int shift = (int)em_dtype_size(t) * 8 - 8; shift >= 0; shift -= 8) {
        void *ha[] = {&in, &inner, &len, &nlines, &flip, &prefix, &nq, &shift, &hist, &tile};
        dim3 g1 = {(unsigned)tiles, (unsigned)rows, 1}, b1 = {256, 1, 1};
        EM_TRY_FN(em_cu_launch(fn, "em_sel_hist", fh, g1, b1, ha, s));
        void *pa[] = {&prefix, &rank, &hist, &shift};
        dim3 g2 = {(unsigned)nqs, 1, 1}, b2 = {256, 1, 1};
        if (nqs > INT_MAX) EM_FAIL_FN(AF_ERR_NOT_SUPPORTED, "too many lines");
        EM_TRY_FN(em_cu_launch(fn, "em_sel_pick", fp, g2, b2, pa, s));
    }
fail:
    return err;
}

af_err em_cu_median(int dev, af_dtype type, const void *in, const dim_t dims[4], int dim,
                    af_dtype out_type, void *out) {
    af_err err = AF_SUCCESS;
    const char *fn = "af_median";
    cudaStream_t s;
    int prev = -1;
    scratch_t sc = {{0}, 0};
    long long inner = 1, outer = 1, len = dims[dim];
    for (int d = 0; d < dim; d++)
        inner *= dims[d];
    for (int d = dim + 1; d < 4; d++)
        outer *= dims[d];
    long long nlines = inner * outer;
    if (nlines * len == 0) return AF_SUCCESS;
    int nq = len % 2 == 0 ? 2 : 1, f64out = out_type == f64;
    size_t ks = em_dtype_size(type) == 8 ? 8 : 4;
    void *prefix = NULL;
    long long *rank = NULL;
    EM_TRY_FN(em_cu_enter(fn, dev, &s, &prev));
    EM_TRY_FN(scratch_get(fn, dev, &sc, (size_t)(nlines * nq) * ks, &prefix));
    EM_TRY_FN(scratch_get(fn, dev, &sc, (size_t)(nlines * nq) * 8, (void **)&rank));
    EM_TRY_FN(select_rank(fn, dev, type, &sc, in, inner, len, nlines, flip_of(type, false),
                          (len - 1) / 2, nq, prefix, rank, s));
    {
        void *args[] = {&prefix, &nq, &nlines, &f64out, &out};
        EM_TRY_FN(launch(fn, dev, type, "em_sel_median", nlines, args, s));
    }
fail:
    scratch_free(&sc);
    em_cu_leave_enqueued(dev, prev);
    return err;
}

af_err em_cu_topk(int dev, af_dtype type, const void *in, const dim_t dims[4], int k, bool largest,
                  void *vals_out, uint32_t *idx_out) {
    af_err err = AF_SUCCESS;
    const char *fn = "af_topk";
    cudaStream_t s;
    int prev = -1;
    scratch_t sc = {{0}, 0};
    long long n = dims[0], ncols = dims[1] * dims[2] * dims[3], kk = k, nk = kk * ncols;
    if (n == 0 || ncols == 0) return AF_SUCCESS;
    EM_TRY_FN(check_size(fn, nk));
    size_t ks = em_dtype_size(type) == 8 ? 8 : 4;
    bool wide = ks == 8;
    keyword flip = flip_of(type, largest);
    void *th = NULL, *ck = NULL, *ck2;
    long long *rank = NULL, *total;
    uint32_t *ci, *ci2;
    EM_TRY_FN(em_cu_enter(fn, dev, &s, &prev));
    EM_TRY_FN(scratch_get(fn, dev, &sc, (size_t)ncols * ks, &th));
    EM_TRY_FN(scratch_get(fn, dev, &sc, (size_t)ncols * 16, (void **)&rank));
    total = rank + ncols;
    /* The k-th best key of each column, and how many of its equals make the cut. */
    EM_TRY_FN(select_rank(fn, dev, type, &sc, in, 1, n, ncols, flip, kk - 1, 1, th, rank, s));
    EM_TRY_FN(scratch_get(fn, dev, &sc, (size_t)nk * (2 * ks + 8), &ck));
    ck2 = (char *)ck + (size_t)nk * ks;
    ci = (uint32_t *)((char *)ck2 + (size_t)nk * ks);
    ci2 = ci + nk;
    /* The keys better than it and the first of its equals, in input order, k per column. */
    cmp_args a;
    memset(&a, 0, sizeof(a));
    a.mode = 2;
    a.raw = in;
    a.n = n;
    a.lines = ncols;
    a.flip = flip;
    a.th = th;
    a.rank = rank;
    a.out_mode = 2;
    a.okeys = ck;
    a.oidx = ci;
    a.cap = kk;
    EM_TRY_FN(compact(fn, dev, type, &sc, &a, total, s));
    int tw = (int)em_dtype_size(type) * 8, sel[2];
    if (ncols == 1) {
        /* Stable by key: the candidates are in input order, so ties keep the lower index. */
        EM_TRY_FN(cub_sort(fn, dev, &sc, wide, ck, ck2, ci, ci2, sel, nk, tw, s));
        void *kc = sel[0] ? ck2 : ck;
        uint32_t *cc = sel[1] ? ci2 : ci, *g = NULL;
        void *args[] = {&kc, &cc, &g, &vals_out, &idx_out, &nk, &flip};
        EM_TRY_FN(launch(fn, dev, type, "em_topk_finish", nk, args, s));
    } else {
        /* Each column's candidates sorted: by key with positions as payload (on a copy, since
         * the finish reads the candidates where they were), then by column. */
        void *kx = NULL, *ky;
        uint32_t *g0, *g1;
        EM_TRY_FN(scratch_get(fn, dev, &sc, (size_t)nk * (2 * ks + 8), &kx));
        ky = (char *)kx + (size_t)nk * ks;
        g0 = (uint32_t *)((char *)ky + (size_t)nk * ks);
        g1 = g0 + nk;
        EM_CU_TRY(cudaMemcpyAsync(kx, ck, (size_t)nk * ks, cudaMemcpyDeviceToDevice, s),
                  "copying candidates");
        {
            void *args[] = {&g0, &nk};
            EM_TRY_FN(launch(fn, dev, type, "em_sort_iota", nk, args, s));
        }
        EM_TRY_FN(cub_sort(fn, dev, &sc, wide, kx, ky, g0, g1, sel, nk, tw, s));
        uint32_t *gc = sel[1] ? g1 : g0, *gf = sel[1] ? g0 : g1;
        uint32_t *sA = (uint32_t *)ck2, *sB = wide ? sA + nk : (uint32_t *)(sel[0] ? ky : kx);
        long long one = 1;
        {
            void *args[] = {&gc, &sA, &nk, &one, &kk};
            EM_TRY_FN(launch(fn, dev, type, "em_sort_segkey", nk, args, s));
        }
        int sel2[2];
        EM_TRY_FN(
            cub_sort(fn, dev, &sc, false, sA, sB, gc, gf, sel2, nk, (int)bits_for(ncols - 1), s));
        uint32_t *g = sel2[1] ? gf : gc;
        void *args[] = {&ck, &ci, &g, &vals_out, &idx_out, &nk, &flip};
        EM_TRY_FN(launch(fn, dev, type, "em_topk_finish", nk, args, s));
    }
fail:
    scratch_free(&sc);
    em_cu_leave_enqueued(dev, prev);
    return err;
}

/* ---------------------------------------------------------------------------------------------
 * Compile check: every kernel of sort.cuh for every key dtype.
 * ------------------------------------------------------------------------------------------- */

static af_err sort_compile_check(void) {
    /* One dtype per distinct source: b8 generates u8's text (8-bit unsigned keys). */
    static const af_dtype types[] = {f32, f64, s32, u32, s16, u16, s64, u64, u8, s8, f16};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        sort_src_ctx c = {types[i], "ALL"};
        char *src = sort_source(&c);
        if (!src) return em_err(AF_ERR_NO_MEM, __func__, "out of host memory");
        af_err err = em_cu_compile_source(src, "em_sort_map");
        free(src);
        if (err != AF_SUCCESS) return err;
    }
    return AF_SUCCESS;
}
EM_CU_COMPILE_CHECK(sort, sort_compile_check)
