/* Kernel modules: NVRTC compilation, the in-memory cache (lock-free lookups) and the on-disk cache
 * in the kernel cache directory (src/core/kcache.h). A module is loaded as a context-independent
 * CUDA library, so one load serves every device of the same architecture. */
#include "cu.h"

#include "../../core/err.h"
#include "../../core/kcache.h"
#include "jit_gen.h"

#include <nvrtc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- NVRTC ---- */

static int em_cu_nvrtc_archs[64];
static int em_cu_nvrtc_narch;
static pthread_once_t em_cu_nvrtc_once = PTHREAD_ONCE_INIT;

static void em_cu_nvrtc_query(void) {
    int n = 0;
    if (nvrtcGetNumSupportedArchs(&n) != NVRTC_SUCCESS || n <= 0 || n > 64) return;
    if (nvrtcGetSupportedArchs(em_cu_nvrtc_archs) != NVRTC_SUCCESS) return;
    em_cu_nvrtc_narch = n;
}

void em_cu_target_for(int arch, em_cu_target *out) {
    pthread_once(&em_cu_nvrtc_once, em_cu_nvrtc_query);
    int best = -1, lowest = -1;
    bool exact = false;
    for (int i = 0; i < em_cu_nvrtc_narch; i++) {
        int a = em_cu_nvrtc_archs[i];
        if (a == arch) exact = true;
        if (a <= arch && a > best) best = a;
        if (lowest < 0 || a < lowest) lowest = a;
    }
    if (exact || em_cu_nvrtc_narch == 0) {
        /* Machine code for the device itself: nothing left for the driver to compile. */
        out->arch = arch;
        out->cubin = true;
        snprintf(out->opt, sizeof(out->opt), "--gpu-architecture=sm_%d", arch);
    } else {
        /* A device newer than this NVRTC knows: PTX of the newest architecture it knows, which
         * the driver compiles at load. An older device than NVRTC supports gets the oldest
         * target, and loading reports that the device cannot run it. */
        out->arch = best >= 0 ? best : lowest;
        out->cubin = false;
        snprintf(out->opt, sizeof(out->opt), "--gpu-architecture=compute_%d", out->arch);
    }
}

af_err em_cu_nvrtc(const char *fn, const char *src, const char *name, const em_cu_target *t,
                   char **image, size_t *size) {
    af_err err = AF_SUCCESS;
    nvrtcProgram prog = NULL;
    char *log = NULL;
    *image = NULL;
    *size = 0;
    /* No fast math: results must match the CPU backend (docs/JIT_OPS.md); no contraction of
     * a * b + c into one rounding either. */
    const char *opts[] = {t->opt, "--fmad=false", "--std=c++17"};
    nvrtcResult r = nvrtcCreateProgram(&prog, src, name, 0, NULL, NULL);
    if (r != NVRTC_SUCCESS)
        return em_err(AF_ERR_INTERNAL, fn, "nvrtcCreateProgram for %s: %s", name,
                      nvrtcGetErrorString(r));
    r = nvrtcCompileProgram(prog, (int)(sizeof(opts) / sizeof(opts[0])), opts);
    if (r != NVRTC_SUCCESS) {
        size_t len = 0;
        if (nvrtcGetProgramLogSize(prog, &len) == NVRTC_SUCCESS && len > 0 &&
            (log = malloc(len + 1)) != NULL) {
            if (nvrtcGetProgramLog(prog, log) != NVRTC_SUCCESS) log[0] = 0;
            log[len] = 0;
        }
        const char *dbg = getenv("EMBER_JIT_DEBUG");
        if (dbg && dbg[0] == '1')
            fprintf(stderr, "Ember: NVRTC failed on kernel %s (%s):\n%s\n--- source ---\n%s\n",
                    name, t->opt, log ? log : "", src);
        err = em_err(AF_ERR_INTERNAL, fn,
                     "NVRTC could not compile kernel %s for %s (%s; EMBER_JIT_DEBUG=1 prints the "
                     "source): %.640s",
                     name, t->opt, nvrtcGetErrorString(r), log ? log : "(no log)");
        goto done;
    }
    if (t->cubin) {
        r = nvrtcGetCUBINSize(prog, size);
        if (r == NVRTC_SUCCESS && (*image = malloc(*size)) != NULL) r = nvrtcGetCUBIN(prog, *image);
    } else {
        r = nvrtcGetPTXSize(prog, size);
        if (r == NVRTC_SUCCESS && (*image = malloc(*size)) != NULL) r = nvrtcGetPTX(prog, *image);
    }
    if (r != NVRTC_SUCCESS) {
        err = em_err(AF_ERR_INTERNAL, fn, "reading NVRTC's output for %s: %s", name,
                     nvrtcGetErrorString(r));
    } else if (!*image) {
        err = em_err(AF_ERR_NO_MEM, fn, "out of host memory for a %zu-byte kernel image", *size);
    }
done:
    if (err != AF_SUCCESS) {
        free(*image);
        *image = NULL;
        *size = 0;
    }
    free(log);
    nvrtcDestroyProgram(&prog);
    return err;
}

/* ---- the on-disk cache ---- */

/* A cache file: this header, then the image. The header repeats what the name says and adds a
 * checksum, so a truncated or foreign file is recompiled instead of loaded. */
typedef struct {
    char magic[8];
    uint64_t key;
    uint64_t prelude;
    uint32_t arch;
    uint32_t cubin;
    uint64_t size;
    uint64_t sum;
} em_cu_disk_hdr;

static const char em_cu_disk_magic[8] = "EMBKRN1";

static uint64_t em_cu_checksum(const char *p, size_t n) {
    uint64_t h = EM_HASH_SEED;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* The cache directory and the file's name in it, or false when there is no cache directory. */
static bool em_cu_disk_name(uint64_t key, const em_cu_target *t, char *dir, size_t dcap, char *file,
                            size_t fcap) {
    size_t len = em_kcache_dir(dir, dcap);
    if (len == 0 || len >= dcap) return false;
    int n = snprintf(file, fcap, "ember-cuda-v%d-%016llx-%016llx-%s%d.bin", EM_CU_JIT_VERSION,
                     (unsigned long long)em_cu_prelude_hash(), (unsigned long long)key,
                     t->cubin ? "sm" : "compute", t->arch);
    return n > 0 && (size_t)n < fcap;
}

/* Reads dir/file when it passes the kernel cache rule (src/core/kcache.h: owned by this user,
 * writable by nobody else, no symbolic links) and its header matches. The header's checksum only
 * catches damage: anyone able to write the file could forge it, which is why the rule comes
 * first. The checks are made on the descriptor that is read. */
static char *em_cu_disk_read(const char *dir, const char *file, uint64_t key, const em_cu_target *t,
                             size_t *size) {
    int fd = em_kcache_open(dir, file);
    if (fd < 0) return NULL;
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        close(fd);
        return NULL;
    }
    em_cu_disk_hdr h;
    char *img = NULL;
    if (fread(&h, sizeof(h), 1, f) != 1 || memcmp(h.magic, em_cu_disk_magic, 8) != 0 ||
        h.key != key || h.prelude != em_cu_prelude_hash() || h.arch != (uint32_t)t->arch ||
        h.cubin != (uint32_t)t->cubin || h.size == 0 || h.size > ((uint64_t)1 << 30))
        goto bad;
    img = malloc(h.size);
    if (!img || fread(img, 1, h.size, f) != h.size || em_cu_checksum(img, h.size) != h.sum)
        goto bad;
    fclose(f);
    *size = h.size;
    return img;
bad:
    em_kcache_trace("not loading %s/%s: not a kernel for this build and device", dir, file);
    free(img);
    fclose(f);
    return NULL;
}

/* Best effort: a cache that cannot be written only costs a compile next time. Nothing is written
 * to a directory that fails the rule, since it would never be read back. The file appears under
 * its name whole or not at all: it is written aside under a fresh unique name (mkstemp: created
 * exclusively, never through a planted link) and renamed into place. */
static void em_cu_disk_write(const char *dir, const char *file, uint64_t key, const em_cu_target *t,
                             const char *img, size_t size) {
    if (!em_kcache_dir_private(dir)) return;
    char tmp[4200], path[4200];
    if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int)sizeof(path) ||
        snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp))
        return;
    int fd = mkstemp(tmp);
    if (fd < 0) return;
    /* mkstemp makes it 0600; readable by others like the CPU's kernels, writable by none. */
    bool ok = fchmod(fd, 0644) == 0;
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        close(fd);
        remove(tmp);
        return;
    }
    em_cu_disk_hdr h;
    memset(&h, 0, sizeof(h));
    memcpy(h.magic, em_cu_disk_magic, 8);
    h.key = key;
    h.prelude = em_cu_prelude_hash();
    h.arch = (uint32_t)t->arch;
    h.cubin = t->cubin;
    h.size = size;
    h.sum = em_cu_checksum(img, size);
    ok = fwrite(&h, sizeof(h), 1, f) == 1 && fwrite(img, 1, size, f) == size && ok;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) remove(tmp);
}

/* ---- the in-memory cache: open addressing, insert-only, lock-free lookups ---- */

typedef struct {
    uint64_t key;
    int arch;
    cudaLibrary_t lib;
    cudaKernel_t kern;
    /* kern resolved in each device's context, on the device's first use; NULL until then. Two
     * threads may both resolve it and store the same value. */
    _Atomic(CUfunction) func[EM_MAX_DEVICES];
} em_cu_mod;

typedef struct em_cu_table {
    size_t mask;
    struct em_cu_table *prev; /* older tables stay allocated: a reader may still be in one */
    _Atomic(em_cu_mod *) slot[];
} em_cu_table;

static _Atomic(em_cu_table *) em_cu_mods;
static pthread_mutex_t em_cu_mods_lock = PTHREAD_MUTEX_INITIALIZER;
static size_t em_cu_mods_count;

static size_t em_cu_slot(uint64_t key, int arch, size_t mask) {
    return (size_t)em_hash_mix(key, (uint64_t)arch) & mask;
}

static em_cu_mod *em_cu_lookup(uint64_t key, int arch) {
    em_cu_table *t = atomic_load_explicit(&em_cu_mods, memory_order_acquire);
    if (!t) return NULL;
    for (size_t i = em_cu_slot(key, arch, t->mask);; i = (i + 1) & t->mask) {
        em_cu_mod *m = atomic_load_explicit(&t->slot[i], memory_order_acquire);
        if (!m) return NULL;
        if (m->key == key && m->arch == arch) return m;
    }
}

static em_cu_table *em_cu_table_new(size_t slots) {
    em_cu_table *t = calloc(1, sizeof(*t) + slots * sizeof(t->slot[0]));
    if (t) t->mask = slots - 1;
    return t;
}

static void em_cu_table_put(em_cu_table *t, em_cu_mod *m) {
    size_t i = em_cu_slot(m->key, m->arch, t->mask);
    while (atomic_load_explicit(&t->slot[i], memory_order_relaxed))
        i = (i + 1) & t->mask;
    atomic_store_explicit(&t->slot[i], m, memory_order_release);
}

/* Inserts m unless an equal entry exists (another thread compiled the same kernel); returns the
 * entry that is in the cache, or NULL when out of memory. */
static em_cu_mod *em_cu_insert(em_cu_mod *m) {
    pthread_mutex_lock(&em_cu_mods_lock);
    em_cu_mod *have = em_cu_lookup(m->key, m->arch);
    if (have) {
        pthread_mutex_unlock(&em_cu_mods_lock);
        return have;
    }
    em_cu_table *t = atomic_load_explicit(&em_cu_mods, memory_order_relaxed);
    if (!t || (em_cu_mods_count + 1) * 2 > t->mask + 1) {
        em_cu_table *nt = em_cu_table_new(t ? (t->mask + 1) * 2 : 256);
        if (!nt) {
            pthread_mutex_unlock(&em_cu_mods_lock);
            return NULL;
        }
        if (t) {
            for (size_t i = 0; i <= t->mask; i++) {
                em_cu_mod *e = atomic_load_explicit(&t->slot[i], memory_order_relaxed);
                if (e) em_cu_table_put(nt, e);
            }
        }
        nt->prev = t;
        atomic_store_explicit(&em_cu_mods, nt, memory_order_release);
        t = nt;
    }
    em_cu_table_put(t, m);
    em_cu_mods_count++;
    pthread_mutex_unlock(&em_cu_mods_lock);
    return m;
}

/* ---- getting a kernel ---- */

/* Kernels compiled with NVRTC and kernels read from the disk cache since the process started. */
static atomic_llong em_cu_mod_compiled, em_cu_mod_disk_hits;

/* Test hook, exported but not part of the API (tests/test_kcache.c finds it with dlsym): reads
 * the two counts above into out[0] and out[1]. */
__attribute__((visibility("default"))) void em_cu_module_counters(long long out[2]);
void em_cu_module_counters(long long out[2]) {
    out[0] = atomic_load(&em_cu_mod_compiled);
    out[1] = atomic_load(&em_cu_mod_disk_hits);
}

static af_err em_cu_module_load(int dev, uint64_t key, const char *name, em_cu_gen_fn gen,
                                const void *ctx, em_cu_mod **out) {
    af_err err = AF_SUCCESS;
    const char *fn = "em_cu_module_get";
    int arch = em_cu_devs[dev].arch;
    em_cu_target t;
    em_cu_target_for(arch, &t);
    char dir[4096], file[128];
    bool disk = em_cu_disk_name(key, &t, dir, sizeof(dir), file, sizeof(file));
    size_t size = 0;
    char *img = disk ? em_cu_disk_read(dir, file, key, &t, &size) : NULL;
    char *src = NULL;
    em_cu_mod *m = NULL;
    cudaLibrary_t lib = NULL;
    if (!img) {
        src = gen(ctx);
        if (!src) EM_FAIL(AF_ERR_NO_MEM, "out of host memory generating kernel %s", name);
        EM_TRY(em_cu_nvrtc(fn, src, name, &t, &img, &size));
        atomic_fetch_add(&em_cu_mod_compiled, 1);
        if (disk) em_cu_disk_write(dir, file, key, &t, img, size);
    } else {
        atomic_fetch_add(&em_cu_mod_disk_hits, 1);
    }
    EM_CU_TRY(cudaLibraryLoadData(&lib, img, NULL, NULL, 0, NULL, NULL, 0),
              "loading a compiled kernel (cudaLibraryLoadData)");
    m = calloc(1, sizeof(*m));
    if (!m) EM_FAIL(AF_ERR_NO_MEM, "out of host memory for a kernel cache entry");
    m->key = key;
    m->arch = arch;
    m->lib = lib;
    EM_CU_TRY(cudaLibraryGetKernel(&m->kern, lib, name), "cudaLibraryGetKernel");
    em_cu_mod *kept = em_cu_insert(m);
    if (!kept) EM_FAIL(AF_ERR_NO_MEM, "out of host memory for the kernel cache");
    if (kept != m) {
        /* Another thread loaded the same kernel first: use its copy. */
        if (cudaLibraryUnload(lib) != cudaSuccess) (void)cudaGetLastError();
        free(m);
    }
    *out = kept;
    free(src);
    free(img);
    return AF_SUCCESS;
fail:
    if (lib && cudaLibraryUnload(lib) != cudaSuccess) (void)cudaGetLastError();
    free(m);
    free(src);
    free(img);
    return err;
}

af_err em_cu_module_get(int dev, uint64_t key, const char *name, em_cu_gen_fn gen, const void *ctx,
                        CUfunction *out) {
    /* The hot path: one hash probe and one load, no allocation, no string work. */
    em_cu_mod *m = em_cu_lookup(key, em_cu_devs[dev].arch);
    if (m && (*out = atomic_load_explicit(&m->func[dev], memory_order_acquire)) != NULL)
        return AF_SUCCESS;
    if (!m) {
        af_err err = em_cu_module_load(dev, key, name, gen, ctx, &m);
        if (err != AF_SUCCESS) return err;
    }
    af_err err = em_cu_kernel_function("em_cu_module_get", m->kern, out);
    if (err == AF_SUCCESS) atomic_store_explicit(&m->func[dev], *out, memory_order_release);
    return err;
}
