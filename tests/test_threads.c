/* Lazy arrays across threads. JIT nodes count references biased to the thread that made them
 * (src/core/jit.h), so these cases hand trees from thread to thread: a tree released on another
 * thread than its maker, a tree that outlives its maker, and one lazy array used by several threads
 * at once while its maker lets go of it. Each checks the values against plain C in double and that
 * every buffer goes back to the memory manager. Workers report through their own structs; only the
 * main thread runs CHECKs. */
#include "test.h"

#include <pthread.h>
#include <string.h>

enum { n_elems = 1000, n_workers = 4, n_rounds = 300 };

static size_t buffers_in_use(void) {
    size_t ab = 0, an = 0, lb = 0, ln = 0;
    CHECK_AF(af_device_mem_info(&ab, &an, &lb, &ln));
    return ln;
}

/* A lazy op made on the calling thread: the point at which it merges what other threads queued. */
static void touch_jit(void) {
    dim_t d[1] = {1};
    af_array k = NULL;
    CHECK_AF(af_constant(&k, 1, 1, d, f32));
    af_release_array(k);
}

/* A new thread starts on libaf's default backend and device: take the case's. */
static void worker_enter(void) {
    af_set_backend(em_test_backend());
    af_set_device(0);
}

static af_array random_f64(double *host) {
    dim_t d[1] = {n_elems};
    em_test_fill(host, n_elems, -4, 4, true);
    return em_test_make(host, 1, d, f64);
}

/* y = t * a + b, lazy, with t released so that only the tree holds t's buffer. */
static af_array affine_of_released(af_array t, double a, double b) {
    dim_t d[1] = {n_elems};
    af_array ka = NULL, kb = NULL, p = NULL, y = NULL;
    CHECK_AF(af_constant(&ka, a, 1, d, f64));
    CHECK_AF(af_constant(&kb, b, 1, d, f64));
    CHECK_AF(af_mul(&p, t, ka, false));
    CHECK_AF(af_add(&y, p, kb, false));
    af_release_array(ka);
    af_release_array(kb);
    af_release_array(p);
    af_release_array(t);
    return y;
}

static void check_affine(af_array y, const double *t, double a, double b) {
    dim_t n = 0;
    double *got = em_test_read(y, &n);
    double ref[n_elems];
    for (int i = 0; i < n_elems; i++)
        ref[i] = t[i] * a + b;
    CHECK(got && n == n_elems);
    if (got && n == n_elems) CHECK_CLOSE(got, ref, n_elems, 0, 0);
    free(got);
}

typedef struct {
    af_array y;
    double values[n_elems];
    af_err err;
} handoff;

static void *eval_and_release(void *arg) {
    handoff *h = arg;
    worker_enter();
    af_array c = NULL;
    h->err = af_copy_array(&c, h->y);
    if (h->err == AF_SUCCESS) h->err = af_get_data_ptr(h->values, c);
    af_release_array(c);
    if (h->err == AF_SUCCESS) h->err = af_release_array(h->y);
    return NULL;
}

TEST(threads_tree_released_by_another_thread) {
    double t[n_elems];
    size_t before = buffers_in_use();
    static handoff h;
    h.y = affine_of_released(random_f64(t), 2.5, -1);
    pthread_t w;
    CHECK(pthread_create(&w, NULL, eval_and_release, &h) == 0);
    pthread_join(w, NULL);
    CHECK(h.err == AF_SUCCESS);
    double ref[n_elems];
    for (int i = 0; i < n_elems; i++)
        ref[i] = t[i] * 2.5 - 1;
    CHECK_CLOSE(h.values, ref, n_elems, 0, 0);
    /* The tree's nodes are this thread's; it merges the worker's releases at its next lazy op. */
    touch_jit();
    CHECK(buffers_in_use() == before);
}

typedef struct {
    af_array y;
    double t[n_elems];
} made;

static void *make_and_exit(void *arg) {
    made *m = arg;
    worker_enter();
    m->y = affine_of_released(random_f64(m->t), -3, 0.5);
    return NULL;
}

TEST(threads_tree_outlives_its_maker) {
    size_t before = buffers_in_use();
    static made m;
    pthread_t w;
    CHECK(pthread_create(&w, NULL, make_and_exit, &m) == 0);
    pthread_join(w, NULL);
    CHECK(m.y != NULL);
    if (!m.y) return;
    check_affine(m.y, m.t, -3, 0.5);
    /* The maker is gone, so this thread merges at once: no lazy op is needed to get it back. */
    CHECK_AF(af_release_array(m.y));
    CHECK(buffers_in_use() == before);
}

typedef struct {
    af_array x;
    pthread_barrier_t *built;
    double sum;
    af_err err;
} sharer;

/* Builds x + 1 from the shared lazy x, waits until main has released x, then keeps using its own
 * tree (x's node now lives through this thread's references) and builds and drops many more. */
static void *share_lazy(void *arg) {
    sharer *s = arg;
    worker_enter();
    dim_t d[1] = {n_elems};
    af_array one = NULL, mine = NULL;
    s->err = af_constant(&one, 1, 1, d, f64);
    if (s->err == AF_SUCCESS) s->err = af_add(&mine, s->x, one, false);
    pthread_barrier_wait(s->built);
    pthread_barrier_wait(s->built); /* main released x in between */
    for (int r = 0; r < n_rounds && s->err == AF_SUCCESS; r++) {
        af_array z = NULL;
        s->err = af_mul(&z, mine, one, false);
        if (s->err == AF_SUCCESS && r % 50 == 0) s->err = af_eval(z);
        af_release_array(z);
    }
    static _Thread_local double v[n_elems];
    if (s->err == AF_SUCCESS) s->err = af_get_data_ptr(v, mine);
    s->sum = 0;
    for (int i = 0; i < n_elems; i++)
        s->sum += v[i];
    af_release_array(mine);
    af_release_array(one);
    return NULL;
}

TEST(threads_lazy_array_shared_while_its_maker_lets_go) {
    double t[n_elems];
    size_t before = buffers_in_use();
    af_array x = affine_of_released(random_f64(t), 0.5, 2);
    pthread_barrier_t built;
    pthread_barrier_init(&built, NULL, n_workers + 1);
    static sharer s[n_workers];
    pthread_t w[n_workers];
    for (int i = 0; i < n_workers; i++) {
        s[i] = (sharer){.x = x, .built = &built};
        CHECK(pthread_create(&w[i], NULL, share_lazy, &s[i]) == 0);
    }
    pthread_barrier_wait(&built);
    /* Every worker holds a tree over x's node: this release leaves them the only holders. */
    CHECK_AF(af_release_array(x));
    pthread_barrier_wait(&built);
    for (int i = 0; i < n_workers; i++)
        pthread_join(w[i], NULL);
    pthread_barrier_destroy(&built);
    double ref = 0;
    for (int i = 0; i < n_elems; i++)
        ref += t[i] * 0.5 + 2 + 1;
    for (int i = 0; i < n_workers; i++) {
        CHECK(s[i].err == AF_SUCCESS);
        /* NaN and infinities among the inputs make the sum NaN or infinite on both sides. */
        CHECK_CLOSE(&s[i].sum, &ref, 1, 1e-12, 1e-9);
    }
    touch_jit();
    CHECK(buffers_in_use() == before);
}
