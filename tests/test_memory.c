/* memory.h: a counting memory manager sees every allocation, release, user lock and unlock, and
 * the default manager comes back when it is unset. */
#include "test.h"

#include <string.h>

#define MAX_LIVE 64

typedef struct {
    int init, shutdown, allocs, unlocks, user_unlocks, user_locks, user_unlocks_fn, cleanups;
    void *live[MAX_LIVE];
    size_t live_bytes[MAX_LIVE];
    int nlive;
} counts;

static counts C;

static af_err mm_init(af_memory_manager h) {
    (void)h;
    C.init++;
    return AF_SUCCESS;
}

static af_err mm_shutdown(af_memory_manager h) {
    (void)h;
    C.shutdown++;
    return AF_SUCCESS;
}

static af_err mm_alloc(af_memory_manager h, void **ptr, int user_lock, const unsigned ndims,
                       dim_t *dims, const unsigned element_size) {
    size_t bytes = element_size;
    for (unsigned i = 0; i < ndims; i++)
        bytes *= (size_t)dims[i];
    af_err err = af_memory_manager_native_alloc(h, ptr, bytes);
    if (err != AF_SUCCESS) return err;
    C.allocs++;
    (void)user_lock;
    if (C.nlive < MAX_LIVE) {
        C.live[C.nlive] = *ptr;
        C.live_bytes[C.nlive++] = bytes;
    }
    return AF_SUCCESS;
}

static af_err mm_unlock(af_memory_manager h, void *ptr, int user_unlock) {
    C.unlocks++;
    if (user_unlock) C.user_unlocks++;
    for (int i = 0; i < C.nlive; i++) {
        if (C.live[i] != ptr) continue;
        C.live[i] = C.live[--C.nlive];
        C.live_bytes[i] = C.live_bytes[C.nlive];
        return af_memory_manager_native_free(h, ptr);
    }
    return AF_ERR_ARG; /* unlocking memory this manager never handed out */
}

static af_err mm_user_lock(af_memory_manager h, void *ptr) {
    (void)h, (void)ptr;
    C.user_locks++;
    return AF_SUCCESS;
}

static af_err mm_user_unlock(af_memory_manager h, void *ptr) {
    (void)h, (void)ptr;
    C.user_unlocks_fn++;
    return AF_SUCCESS;
}

static af_err mm_cleanup(af_memory_manager h) {
    (void)h;
    C.cleanups++;
    return AF_SUCCESS;
}

static af_memory_manager make_counting(void) {
    af_memory_manager m = 0;
    CHECK_AF(af_create_memory_manager(&m));
    CHECK_AF(af_memory_manager_set_initialize_fn(m, mm_init));
    CHECK_AF(af_memory_manager_set_shutdown_fn(m, mm_shutdown));
    CHECK_AF(af_memory_manager_set_alloc_fn(m, mm_alloc));
    CHECK_AF(af_memory_manager_set_unlock_fn(m, mm_unlock));
    CHECK_AF(af_memory_manager_set_user_lock_fn(m, mm_user_lock));
    CHECK_AF(af_memory_manager_set_user_unlock_fn(m, mm_user_unlock));
    CHECK_AF(af_memory_manager_set_signal_memory_cleanup_fn(m, mm_cleanup));
    return m;
}

TEST(memory_manager_counts_everything) {
    memset(&C, 0, sizeof(C));
    af_memory_manager m = make_counting();
    int payload = 42;
    void *got = NULL;
    CHECK_AF(af_memory_manager_set_payload(m, &payload));
    CHECK_AF(af_memory_manager_get_payload(m, &got));
    CHECK(got == &payload);
    CHECK_AF(af_set_memory_manager(m));
    CHECK(C.init == 1);

    dim_t dims[2] = {7, 5};
    double host[35];
    for (int i = 0; i < 35; i++)
        host[i] = i * 0.25;
    af_array a = 0, b = 0, s = 0;
    CHECK_AF(af_create_array(&a, host, 2, dims, f64));
    CHECK(C.allocs == 1);
    CHECK_AF(af_sin(&s, a)); /* lazy: no allocation yet */
    CHECK(C.allocs == 1);
    CHECK_AF(af_eval(s));
    CHECK(C.allocs == 2);
    double out[35];
    CHECK_AF(af_get_data_ptr(out, s));
    for (int i = 0; i < 35; i++)
        CHECK(fabs(out[i] - sin(host[i])) < 1e-12);

    /* User lock and unlock go through the manager. */
    CHECK_AF(af_lock_array(a));
    CHECK(C.user_locks == 1);
    CHECK_AF(af_unlock_array(a));
    CHECK(C.user_unlocks_fn == 1);

    /* af_alloc_device_v2 / af_free_device_v2 too. */
    void *p = NULL;
    CHECK_AF(af_alloc_device_v2(&p, 1000));
    CHECK(C.allocs == 3);
    CHECK_AF(af_free_device_v2(p));
    CHECK(C.user_unlocks == 1);

    CHECK_AF(af_copy_array(&b, a));
    CHECK(C.allocs == 4);
    af_release_array(a);
    af_release_array(b);
    af_release_array(s);
    CHECK(C.unlocks == 4);
    CHECK(C.nlive == 0); /* everything allocated was given back, nothing twice */
    CHECK_AF(af_device_gc());
    CHECK(C.cleanups == 1);

    /* Back to the default: new allocations bypass the counting manager. */
    CHECK_AF(af_unset_memory_manager());
    CHECK(C.shutdown == 1);
    int before = C.allocs;
    af_array c = 0;
    CHECK_AF(af_create_array(&c, host, 2, dims, f64));
    CHECK(C.allocs == before);
    size_t ab, an, lb, ln;
    CHECK_AF(af_device_mem_info(&ab, &an, &lb, &ln));
    CHECK(ln >= 1);
    af_release_array(c);
    CHECK_AF(af_release_memory_manager(m));
}

TEST(memory_manager_bad_input) {
    af_memory_manager m = 0;
    CHECK_ERR(af_create_memory_manager(NULL), AF_ERR_ARG);
    CHECK_ERR(af_set_memory_manager(NULL), AF_ERR_ARG);
    CHECK_ERR(af_memory_manager_set_alloc_fn(NULL, mm_alloc), AF_ERR_ARG);
    CHECK_AF(af_create_memory_manager(&m));
    CHECK_ERR(af_memory_manager_get_payload(m, NULL), AF_ERR_ARG);
    CHECK_ERR(af_memory_manager_set_memory_pressure_threshold(m, -1.f), AF_ERR_ARG);
    float t = 0;
    CHECK_AF(af_memory_manager_set_memory_pressure_threshold(m, 0.5f));
    CHECK_AF(af_memory_manager_get_memory_pressure_threshold(m, &t));
    CHECK(t == 0.5f);
    size_t max = 0;
    CHECK_AF(af_memory_manager_get_max_memory_size(m, &max, 0));
    CHECK(max > 0);
    CHECK_ERR(af_memory_manager_get_max_memory_size(m, &max, 99), AF_ERR_ARG);
    /* An installed manager cannot be released. */
    CHECK_AF(af_memory_manager_set_alloc_fn(m, mm_alloc));
    CHECK_AF(af_memory_manager_set_unlock_fn(m, mm_unlock));
    CHECK_AF(af_set_memory_manager(m));
    CHECK_ERR(af_release_memory_manager(m), AF_ERR_ARG);
    CHECK_AF(af_unset_memory_manager());
    CHECK_AF(af_release_memory_manager(m));
}
