/* random.h: random engines and the randu/randn family.
 *
 * An engine is a counter-based generator: a seed and a counter of 128-bit Philox blocks. Each call
 * draws its numbers from blocks counter, counter+1, ... and advances the counter past them, so
 * consecutive calls never reuse a block; setting the seed resets the counter to 0. The numbers
 * themselves are defined once in src/core/philox.h, which both backends use.
 *
 * As in ArrayFire: each host thread has its own default engine (Philox, seed 0), used by af_randu,
 * af_randn, af_set_seed and af_get_seed; af_retain_random_engine gives a new handle that shares
 * the seed and counter of the original but keeps its own type. Differences: Threefry and Mersenne
 * are answered with AF_ERR_NOT_SUPPORTED; releasing a thread's default engine is a harmless no-op
 * (the thread owns it and frees it when it exits), where ArrayFire would free it under the
 * thread's feet. */
#include <af/random.h>

#include "../core/array.h"
#include "../core/dev.h"
#include "../core/err.h"
#include "../core/philox.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* Engine handles carry a tag as arrays do, so released or foreign handles are caught. The state is
 * plain memory, identical in every backend library, so an engine from another Ember backend is
 * accepted (its numbers are the same everywhere). */
#define EM_RNG_MAGIC_BASE 0x524e4700u /* "RNG" then the backend id */
#define EM_RNG_MAGIC_DEAD 0xdeadc0deu
/* Released handles wait in a FIFO this long before their memory is reused (see array.c). */
#define EM_RNG_QUARANTINE 256

typedef struct {
    atomic_int refs;
    pthread_mutex_t lock; /* seed and counter change together */
    uint64_t seed;
    uint64_t counter; /* the next unused 128-bit block */
} em_rng_state;

typedef struct em_rng {
    uint32_t magic;
    af_random_engine_type type;
    bool thread_default; /* a thread's default engine: released only when the thread exits */
    em_rng_state *state;
    struct em_rng *next_free;
} em_rng;

static pthread_mutex_t em_rng_free_lock = PTHREAD_MUTEX_INITIALIZER;
static em_rng *em_rng_free_head, *em_rng_free_tail;
static size_t em_rng_free_count;

static em_rng *rng_header_new(void) {
    em_rng *e = NULL;
    pthread_mutex_lock(&em_rng_free_lock);
    if (em_rng_free_count > EM_RNG_QUARANTINE) {
        e = em_rng_free_head;
        em_rng_free_head = e->next_free;
        if (!em_rng_free_head) em_rng_free_tail = NULL;
        em_rng_free_count--;
    }
    pthread_mutex_unlock(&em_rng_free_lock);
    if (!e) e = malloc(sizeof(*e));
    if (e) memset(e, 0, sizeof(*e));
    return e;
}

static void rng_free(em_rng *e) {
    em_rng_state *st = e->state;
    if (st && atomic_fetch_sub_explicit(&st->refs, 1, memory_order_acq_rel) == 1) {
        pthread_mutex_destroy(&st->lock);
        free(st);
    }
    e->state = NULL;
    e->magic = EM_RNG_MAGIC_DEAD;
    e->next_free = NULL;
    pthread_mutex_lock(&em_rng_free_lock);
    if (em_rng_free_tail)
        em_rng_free_tail->next_free = e;
    else
        em_rng_free_head = e;
    em_rng_free_tail = e;
    em_rng_free_count++;
    pthread_mutex_unlock(&em_rng_free_lock);
}

/* A new handle of `type`: over `share`'s state when given, else over a fresh state with `seed`. */
static af_err rng_new(const char *fn, af_random_engine_type type, uint64_t seed,
                      em_rng_state *share, em_rng **out) {
    em_rng *e = rng_header_new();
    if (!e) return em_err(AF_ERR_NO_MEM, fn, "out of host memory for a random engine");
    if (share) {
        atomic_fetch_add_explicit(&share->refs, 1, memory_order_relaxed);
        e->state = share;
    } else {
        em_rng_state *st = malloc(sizeof(*st));
        if (!st) {
            e->magic = EM_RNG_MAGIC_DEAD;
            rng_free(e);
            return em_err(AF_ERR_NO_MEM, fn, "out of host memory for a random engine");
        }
        atomic_init(&st->refs, 1);
        pthread_mutex_init(&st->lock, NULL);
        st->seed = seed;
        st->counter = 0;
        e->state = st;
    }
    e->magic = EM_RNG_MAGIC_BASE | (uint32_t)em_backend_self.id;
    e->type = type;
    *out = e;
    return AF_SUCCESS;
}

static af_err rng_get(const char *fn, int pos, af_random_engine handle, em_rng **out) {
    em_rng *e = handle;
    if (!e) return em_err(AF_ERR_ARG, fn, "argument %d (engine) is a NULL random engine", pos);
    if ((e->magic & 0xffffff00u) != EM_RNG_MAGIC_BASE)
        return em_err(AF_ERR_ARG, fn,
                      "argument %d (engine) is not a live random engine (released?)", pos);
    *out = e;
    return AF_SUCCESS;
}
#define EM_GET_RNG(var, handle, pos) EM_TRY(rng_get(__func__, (pos), (handle), &(var)))

/* Philox is the engine Ember implements; the other two ArrayFire types are known but refused. */
static af_err rng_check_type(const char *fn, int pos, af_random_engine_type type) {
    switch ((int)type) {
    case AF_RANDOM_ENGINE_PHILOX_4X32_10:
        return AF_SUCCESS;
    case AF_RANDOM_ENGINE_THREEFRY_2X32_16:
        return em_err(AF_ERR_NOT_SUPPORTED, fn,
                      "argument %d (rtype): Threefry 2x32-16 is not implemented by Ember; use "
                      "AF_RANDOM_ENGINE_PHILOX",
                      pos);
    case AF_RANDOM_ENGINE_MERSENNE_GP11213:
        return em_err(AF_ERR_NOT_SUPPORTED, fn,
                      "argument %d (rtype): Mersenne GP11213 is not implemented by Ember; use "
                      "AF_RANDOM_ENGINE_PHILOX",
                      pos);
    default:
        return em_err(AF_ERR_ARG, fn, "argument %d (rtype): %d is not a random engine type", pos,
                      (int)type);
    }
}

/* The calling thread's default engine, made on first use and released when the thread exits. */
static pthread_key_t em_rng_key;
static pthread_once_t em_rng_key_once = PTHREAD_ONCE_INIT;
static bool em_rng_key_ok;
static _Thread_local em_rng *em_rng_default;

static void rng_thread_exit(void *p) {
    em_rng *e = p;
    e->thread_default = false;
    rng_free(e);
}

static void rng_key_init(void) {
    em_rng_key_ok = pthread_key_create(&em_rng_key, rng_thread_exit) == 0;
}

/* Threads that exit after the library is unloaded must not call into unloaded code. */
__attribute__((destructor)) static void rng_key_fini(void) {
    if (em_rng_key_ok) pthread_key_delete(em_rng_key);
    em_rng_key_ok = false;
}

static af_err rng_default(const char *fn, em_rng **out) {
    if (!em_rng_default) {
        em_rng *e = NULL;
        af_err err = rng_new(fn, AF_RANDOM_ENGINE_DEFAULT, 0, NULL, &e);
        if (err != AF_SUCCESS) return err;
        e->thread_default = true;
        pthread_once(&em_rng_key_once, rng_key_init);
        /* Without a key the engine lives until the process ends: a small leak per thread. */
        if (em_rng_key_ok) pthread_setspecific(em_rng_key, e);
        em_rng_default = e;
    }
    *out = em_rng_default;
    return AF_SUCCESS;
}

static void rng_set_seed(em_rng *e, uint64_t seed) {
    pthread_mutex_lock(&e->state->lock);
    e->state->seed = seed;
    e->state->counter = 0;
    pthread_mutex_unlock(&e->state->lock);
}

static uint64_t rng_seed(em_rng *e) {
    pthread_mutex_lock(&e->state->lock);
    uint64_t seed = e->state->seed;
    pthread_mutex_unlock(&e->state->lock);
    return seed;
}

/* Fills a new array of `type` and dims with numbers of distribution `dist` from engine `e`. The
 * caller has checked `out`; `type_pos` is the position of the type argument in `fn`. */
static af_err rng_generate(const char *fn, em_rng *e, unsigned ndims, const dim_t *dims,
                           af_dtype type, int type_pos, int dist, em_array **out) {
    dim_t d[4];
    em_array *a = NULL;
    af_err err = em_init();
    if (err != AF_SUCCESS) return err;
    err = em_dims_from_user(fn, 1, ndims, dims, d);
    if (err != AF_SUCCESS) return err;
    bool normal = dist == EM_RANDOM_NORMAL;
    if (!em_dtype_valid(type))
        return em_err(AF_ERR_TYPE, fn, "argument %d (type): %d is not a dtype", type_pos,
                      (int)type);
    int kind = em_philox_kind((int)type, normal);
    if (kind == EM_PHILOX_NONE)
        return em_err(AF_ERR_TYPE, fn, "argument %d (type): %s is not supported, only %s", type_pos,
                      em_dtype_name(type),
                      normal ? "f32, c32, f64, c64 and f16" : "real, complex, integer and b8");
    if (!em_backend_self.random)
        return em_err(AF_ERR_NOT_SUPPORTED, fn, "the %s backend has no random number generator",
                      em_backend_self.name);
    err = em_array_alloc(type, d, &a);
    if (err != AF_SUCCESS) return err;
    dim_t n = em_array_elements(a);
    if (n > 0) {
        uint64_t nscalar = (uint64_t)n * (em_dtype_is_complex(type) ? 2u : 1u);
        uint64_t blocks = em_philox_blocks(kind, nscalar);
        /* Reserve this call's blocks under the lock, so threads sharing an engine get disjoint
         * numbers; the generation itself runs unlocked. */
        pthread_mutex_lock(&e->state->lock);
        uint64_t seed = e->state->seed, counter = e->state->counter;
        e->state->counter += blocks;
        pthread_mutex_unlock(&e->state->lock);
        err = em_backend_self.random(a->dev, a->buf->ptr, type, n, dist, seed, counter);
        if (err != AF_SUCCESS) {
            em_array_free(a);
            return em_err(err, fn, "the backend failed to generate %lld random %s values (%s)",
                          (long long)n, em_dtype_name(type), em_err_string(err));
        }
    }
    *out = a;
    return AF_SUCCESS;
}

af_err af_create_random_engine(af_random_engine *engine, af_random_engine_type rtype,
                               unsigned long long seed) {
    af_err err = AF_SUCCESS;
    em_rng *e = NULL;
    EM_ARG_NULL(engine, 0);
    EM_TRY(rng_check_type(__func__, 1, rtype));
    EM_TRY(rng_new(__func__, rtype, seed, NULL, &e));
    *engine = e;
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_retain_random_engine(af_random_engine *out, const af_random_engine engine) {
    af_err err = AF_SUCCESS;
    em_rng *e = NULL, *r = NULL;
    EM_ARG_NULL(out, 0);
    EM_GET_RNG(e, engine, 1);
    EM_TRY(rng_new(__func__, e->type, 0, e->state, &r));
    *out = r;
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_random_engine_set_type(af_random_engine *engine, const af_random_engine_type rtype) {
    af_err err = AF_SUCCESS;
    em_rng *e = NULL;
    EM_ARG_NULL(engine, 0);
    EM_GET_RNG(e, *engine, 0);
    EM_TRY(rng_check_type(__func__, 1, rtype));
    e->type = rtype;
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_random_engine_get_type(af_random_engine_type *rtype, const af_random_engine engine) {
    af_err err = AF_SUCCESS;
    em_rng *e = NULL;
    EM_ARG_NULL(rtype, 0);
    EM_GET_RNG(e, engine, 1);
    *rtype = e->type;
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_random_uniform(af_array *out, const unsigned ndims, const dim_t *const dims,
                         const af_dtype type, af_random_engine engine) {
    af_err err = AF_SUCCESS;
    em_rng *e = NULL;
    em_array *a = NULL;
    EM_ARG_NULL(out, 0);
    EM_GET_RNG(e, engine, 4);
    EM_TRY(rng_generate(__func__, e, ndims, dims, type, 3, EM_RANDOM_UNIFORM, &a));
    *out = a;
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_random_normal(af_array *out, const unsigned ndims, const dim_t *const dims,
                        const af_dtype type, af_random_engine engine) {
    af_err err = AF_SUCCESS;
    em_rng *e = NULL;
    em_array *a = NULL;
    EM_ARG_NULL(out, 0);
    EM_GET_RNG(e, engine, 4);
    EM_TRY(rng_generate(__func__, e, ndims, dims, type, 3, EM_RANDOM_NORMAL, &a));
    *out = a;
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_random_engine_set_seed(af_random_engine *engine, const unsigned long long seed) {
    af_err err = AF_SUCCESS;
    em_rng *e = NULL;
    EM_ARG_NULL(engine, 0);
    EM_GET_RNG(e, *engine, 0);
    rng_set_seed(e, seed);
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_get_default_random_engine(af_random_engine *engine) {
    af_err err = AF_SUCCESS;
    em_rng *e = NULL;
    EM_ARG_NULL(engine, 0);
    EM_TRY(rng_default(__func__, &e));
    *engine = e;
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_set_default_random_engine_type(const af_random_engine_type rtype) {
    af_err err = AF_SUCCESS;
    em_rng *e = NULL;
    EM_TRY(rng_check_type(__func__, 0, rtype));
    EM_TRY(rng_default(__func__, &e));
    e->type = rtype;
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_random_engine_get_seed(unsigned long long *const seed, af_random_engine engine) {
    af_err err = AF_SUCCESS;
    em_rng *e = NULL;
    EM_ARG_NULL(seed, 0);
    EM_GET_RNG(e, engine, 1);
    *seed = rng_seed(e);
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_release_random_engine(af_random_engine engine) {
    af_err err = AF_SUCCESS;
    em_rng *e = NULL;
    EM_GET_RNG(e, engine, 0);
    if (!e->thread_default) rng_free(e);
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_randu(af_array *out, const unsigned ndims, const dim_t *const dims, const af_dtype type) {
    af_err err = AF_SUCCESS;
    em_rng *e = NULL;
    em_array *a = NULL;
    EM_ARG_NULL(out, 0);
    EM_TRY(rng_default(__func__, &e));
    EM_TRY(rng_generate(__func__, e, ndims, dims, type, 3, EM_RANDOM_UNIFORM, &a));
    *out = a;
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_randn(af_array *out, const unsigned ndims, const dim_t *const dims, const af_dtype type) {
    af_err err = AF_SUCCESS;
    em_rng *e = NULL;
    em_array *a = NULL;
    EM_ARG_NULL(out, 0);
    EM_TRY(rng_default(__func__, &e));
    EM_TRY(rng_generate(__func__, e, ndims, dims, type, 3, EM_RANDOM_NORMAL, &a));
    *out = a;
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_set_seed(const unsigned long long seed) {
    af_err err = AF_SUCCESS;
    em_rng *e = NULL;
    EM_TRY(rng_default(__func__, &e));
    rng_set_seed(e, seed);
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_get_seed(unsigned long long *seed) {
    af_err err = AF_SUCCESS;
    em_rng *e = NULL;
    EM_ARG_NULL(seed, 0);
    EM_TRY(rng_default(__func__, &e));
    *seed = rng_seed(e);
    return AF_SUCCESS;
fail:
    return err;
}
