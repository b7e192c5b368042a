/* random.h: random engines and the randu/randn family.
 *
 * The three engine types of ArrayFire, with its numbers (src/core/rng.h defines them for both
 * backends): Philox 4x32-10 and Threefry 2x32-16 are counter-based, a seed and a counter that grows
 * by the number of elements of each draw; Mersenne (MTGP32, 11213) keeps 32 * 351 words of state
 * in device memory, advanced by each draw.
 *
 * As in ArrayFire: each host thread has its own default engine (Philox, seed 0), used by af_randu,
 * af_randn, af_set_seed and af_get_seed; af_retain_random_engine gives a new handle that shares
 * the seed, the counter and the Mersenne state of the original but keeps its own type; setting the
 * seed resets the counter (a counter-based type) or reseeds the state (Mersenne); changing a
 * handle's type to Mersenne gives it a fresh state from the seed. One difference: releasing a
 * thread's default engine is a harmless no-op (the thread owns it and frees it when it exits),
 * where ArrayFire would free it under the thread's feet. */
#include <af/random.h>

#include "../core/array.h"
#include "../core/dev.h"
#include "../core/err.h"
#include "../core/rng.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* Engine handles carry a tag as arrays do, so released or foreign handles are caught. */
#define EM_RNG_MAGIC_BASE 0x524e4700u /* "RNG" then the backend id */
#define EM_RNG_MAGIC_DEAD 0xdeadc0deu
/* Released handles wait in a FIFO this long before their memory is reused (see array.c). */
#define EM_RNG_QUARANTINE 256

/* What retained handles share: the seed and the counter, which change together. The lock also
 * guards the Mersenne states of the handles (only handles that share this object can share one). */
typedef struct {
    atomic_int refs;
    pthread_mutex_t lock;
    uint64_t seed;
    uint64_t counter; /* counter-based types: elements drawn since the seed was set */
} em_rng_state;

/* A Mersenne state, shared by a handle and the handles retained from it. The device buffer is
 * made, and filled from the seed, at the first draw after the state is (re)seeded. */
typedef struct {
    atomic_int refs;
    em_buf *buf;  /* EM_RNG_MT_WORDS words on buf->dev; NULL until the first draw */
    bool pending; /* fill from pending_seed before the next draw */
    uint64_t pending_seed;
} em_rng_mt;

typedef struct em_rng {
    uint32_t magic;
    af_random_engine_type type;
    bool thread_default; /* a thread's default engine: released only when the thread exits */
    em_rng_state *state;
    em_rng_mt *mt; /* for the Mersenne type only */
    struct em_rng *next_free;
} em_rng;

static pthread_mutex_t em_rng_free_lock = PTHREAD_MUTEX_INITIALIZER;
static em_rng *em_rng_free_head, *em_rng_free_tail;
static size_t em_rng_free_count;

/* The engine of rng.h for a valid type. */
static int rng_engine(af_random_engine_type type) {
    return type == AF_RANDOM_ENGINE_THREEFRY_2X32_16   ? EM_RNG_THREEFRY
           : type == AF_RANDOM_ENGINE_MERSENNE_GP11213 ? EM_RNG_MERSENNE
                                                       : EM_RNG_PHILOX;
}

static em_rng_mt *rng_mt_new(uint64_t seed) {
    em_rng_mt *mt = calloc(1, sizeof(*mt));
    if (!mt) return NULL;
    atomic_init(&mt->refs, 1);
    mt->pending = true;
    mt->pending_seed = seed;
    return mt;
}

static void rng_mt_drop(em_rng_mt *mt) {
    if (mt && atomic_fetch_sub_explicit(&mt->refs, 1, memory_order_acq_rel) == 1) {
        if (mt->buf) em_buf_release(mt->buf);
        free(mt);
    }
}

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
    rng_mt_drop(e->mt);
    if (st && atomic_fetch_sub_explicit(&st->refs, 1, memory_order_acq_rel) == 1) {
        pthread_mutex_destroy(&st->lock);
        free(st);
    }
    e->state = NULL;
    e->mt = NULL;
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

/* A new handle of `type`: over `share`'s state (and Mersenne state `mt`) when given, else over a
 * fresh state with `seed`. */
static af_err rng_new(const char *fn, af_random_engine_type type, uint64_t seed,
                      em_rng_state *share, em_rng_mt *mt, em_rng **out) {
    em_rng *e = rng_header_new();
    if (!e) return em_err(AF_ERR_NO_MEM, fn, "out of host memory for a random engine");
    e->magic = EM_RNG_MAGIC_DEAD;
    if (share) {
        atomic_fetch_add_explicit(&share->refs, 1, memory_order_relaxed);
        e->state = share;
        seed = share->seed;
    } else {
        em_rng_state *st = malloc(sizeof(*st));
        if (!st) {
            rng_free(e);
            return em_err(AF_ERR_NO_MEM, fn, "out of host memory for a random engine");
        }
        atomic_init(&st->refs, 1);
        pthread_mutex_init(&st->lock, NULL);
        st->seed = seed;
        st->counter = 0;
        e->state = st;
    }
    if (type == AF_RANDOM_ENGINE_MERSENNE_GP11213) {
        if (mt) {
            atomic_fetch_add_explicit(&mt->refs, 1, memory_order_relaxed);
            e->mt = mt;
        } else if (!(e->mt = rng_mt_new(seed))) {
            rng_free(e);
            return em_err(AF_ERR_NO_MEM, fn, "out of host memory for a Mersenne state");
        }
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

/* The three engine types of ArrayFire, under either of their names. */
static af_err rng_check_type(const char *fn, int pos, af_random_engine_type type) {
    switch ((int)type) {
    case AF_RANDOM_ENGINE_PHILOX_4X32_10:
    case AF_RANDOM_ENGINE_THREEFRY_2X32_16:
    case AF_RANDOM_ENGINE_MERSENNE_GP11213:
        return AF_SUCCESS;
    default:
        return em_err(AF_ERR_ARG, fn,
                      "argument %d (rtype): %d is not a random engine type (AF_RANDOM_ENGINE_"
                      "PHILOX_4X32_10, _THREEFRY_2X32_16 or _MERSENNE_GP11213)",
                      pos, (int)type);
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
        af_err err = rng_new(fn, AF_RANDOM_ENGINE_DEFAULT, 0, NULL, NULL, &e);
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

/* Sets the seed: a counter-based type starts its counter again; a Mersenne handle reseeds its
 * state (before its next draw), as ArrayFire's af_random_engine_set_seed does. */
static void rng_set_seed(em_rng *e, uint64_t seed) {
    pthread_mutex_lock(&e->state->lock);
    e->state->seed = seed;
    if (e->mt) {
        e->mt->pending = true;
        e->mt->pending_seed = seed;
    } else {
        e->state->counter = 0;
    }
    pthread_mutex_unlock(&e->state->lock);
}

static uint64_t rng_seed(em_rng *e) {
    pthread_mutex_lock(&e->state->lock);
    uint64_t seed = e->state->seed;
    pthread_mutex_unlock(&e->state->lock);
    return seed;
}

/* Changes the type of handle e. Caller has checked the type. */
static af_err rng_set_type(const char *fn, em_rng *e, af_random_engine_type type) {
    if (type == e->type) return AF_SUCCESS;
    em_rng_mt *mt = NULL;
    if (type == AF_RANDOM_ENGINE_MERSENNE_GP11213) {
        mt = rng_mt_new(rng_seed(e));
        if (!mt) return em_err(AF_ERR_NO_MEM, fn, "out of host memory for a Mersenne state");
    }
    pthread_mutex_lock(&e->state->lock);
    em_rng_mt *old = e->mt;
    e->mt = mt;
    e->type = type;
    pthread_mutex_unlock(&e->state->lock);
    rng_mt_drop(old);
    return AF_SUCCESS;
}

/* Makes the Mersenne state of e ready on device dev: made or moved there, and filled from its
 * seed when it was (re)seeded. Caller holds the state's lock. */
static af_err rng_mt_ready(const char *fn, em_rng_mt *mt, int dev) {
    af_err err = AF_SUCCESS;
    const size_t bytes = EM_RNG_MT_WORDS * sizeof(uint32_t);
    em_buf *buf = mt->buf, *moved = NULL;
    uint32_t *host = NULL;
    if (!buf || buf->dev != dev) {
        EM_TRY_FN(em_buf_alloc(dev, bytes, &moved));
        if (buf && !mt->pending) {
            if (!em_backend_self.copy_peer)
                EM_FAIL_FN(AF_ERR_NOT_SUPPORTED,
                           "the %s backend cannot move a Mersenne state "
                           "between devices",
                           em_backend_self.name);
            EM_TRY_FN(em_backend_self.copy_peer(dev, moved->ptr, buf->dev, buf->ptr, bytes));
        }
    }
    if (mt->pending) {
        host = malloc(bytes);
        if (!host) EM_FAIL_FN(AF_ERR_NO_MEM, "out of host memory for a Mersenne state");
        em_rng_mt_init(mt->pending_seed, host);
        EM_TRY_FN(em_backend_self.copy_h2d(dev, (moved ? moved : buf)->ptr, host, bytes));
    }
    if (moved) {
        if (buf) em_buf_release(buf);
        mt->buf = moved;
        moved = NULL;
    }
    mt->pending = false;
fail:
    if (moved) em_buf_release(moved);
    free(host);
    return err;
}

/* The one body of af_random_uniform, af_random_normal, af_randu and af_randn: a new array of
 * `type` and dims with numbers of distribution `dist` from engine `engine`, or from the thread's
 * default engine when `engine_pos` is negative. The array is written to *out only on success. */
static af_err rng_draw(const char *fn, af_array *out, unsigned ndims, const dim_t *dims,
                       af_dtype type, af_random_engine engine, int engine_pos, int dist) {
    af_err err = AF_SUCCESS;
    em_rng *e = NULL;
    em_array *a = NULL;
    dim_t d[4];
    bool normal = dist == EM_RANDOM_NORMAL, locked = false;
    EM_ARG_NULL_FN(out, 0, "out");
    if (engine_pos >= 0) {
        EM_TRY_FN(rng_get(fn, engine_pos, engine, &e));
    }
    EM_TRY_FN(em_init());
    if (engine_pos < 0) EM_TRY_FN(rng_default(fn, &e));
    EM_TRY_FN(em_dims_from_user(fn, 1, ndims, dims, d));
    if (!em_dtype_valid(type))
        EM_FAIL_FN(AF_ERR_TYPE, "argument 3 (type): %d is not a dtype", (int)type);
    int kind = em_rng_kind((int)type, normal);
    if (kind == EM_RNG_NONE)
        EM_FAIL_FN(AF_ERR_TYPE, "argument 3 (type): %s is not supported, only %s",
                   em_dtype_name(type),
                   normal ? "f32, c32, f64, c64 and f16" : "real, complex, integer and b8");
    if (!em_backend_self.random)
        EM_FAIL_FN(AF_ERR_NOT_SUPPORTED, "the %s backend has no random number generator",
                   em_backend_self.name);
    EM_TRY_FN(em_array_alloc(type, d, &a));
    dim_t n = em_array_elements(a);
    if (n > 0) {
        em_rng_state *st = e->state;
        pthread_mutex_lock(&st->lock);
        locked = true;
        int engine_id = rng_engine(e->type);
        uint64_t seed = st->seed, counter = st->counter;
        void *mt_state = NULL;
        if (engine_id == EM_RNG_MERSENNE) {
            /* The draw advances the state in place: the lock is held until it is enqueued, so
             * draws from one state run in the order they were made. */
            EM_TRY_FN(rng_mt_ready(fn, e->mt, a->dev));
            mt_state = e->mt->buf->ptr;
        } else {
            /* The counter grows by the elements drawn, as ArrayFire's does; the draw itself runs
             * unlocked. */
            st->counter += (uint64_t)n;
            pthread_mutex_unlock(&st->lock);
            locked = false;
        }
        err = em_backend_self.random(a->dev, a->buf->ptr, type, n, engine_id, dist, seed, counter,
                                     mt_state);
        if (err != AF_SUCCESS)
            EM_FAIL_FN(err, "the backend failed to draw %lld random %s values (%s)", (long long)n,
                       em_dtype_name(type), em_err_string(err));
        if (locked) pthread_mutex_unlock(&st->lock);
        locked = false;
    }
    *out = a;
    return AF_SUCCESS;
fail:
    if (locked) pthread_mutex_unlock(&e->state->lock);
    if (a) em_array_free(a);
    return err;
}

af_err af_create_random_engine(af_random_engine *engine, af_random_engine_type rtype,
                               unsigned long long seed) {
    af_err err = AF_SUCCESS;
    em_rng *e = NULL;
    EM_ARG_NULL(engine, 0);
    EM_TRY(rng_check_type(__func__, 1, rtype));
    EM_TRY(rng_new(__func__, rtype, seed, NULL, NULL, &e));
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
    pthread_mutex_lock(&e->state->lock);
    err = rng_new(__func__, e->type, 0, e->state, e->mt, &r);
    pthread_mutex_unlock(&e->state->lock);
    if (err != AF_SUCCESS) goto fail;
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
    EM_TRY(rng_set_type(__func__, e, rtype));
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
    return rng_draw(__func__, out, ndims, dims, type, engine, 4, EM_RANDOM_UNIFORM);
}

af_err af_random_normal(af_array *out, const unsigned ndims, const dim_t *const dims,
                        const af_dtype type, af_random_engine engine) {
    return rng_draw(__func__, out, ndims, dims, type, engine, 4, EM_RANDOM_NORMAL);
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
    EM_TRY(rng_set_type(__func__, e, rtype));
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
    return rng_draw(__func__, out, ndims, dims, type, NULL, -1, EM_RANDOM_UNIFORM);
}

af_err af_randn(af_array *out, const unsigned ndims, const dim_t *const dims, const af_dtype type) {
    return rng_draw(__func__, out, ndims, dims, type, NULL, -1, EM_RANDOM_NORMAL);
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
