/* Tests for device.h and backend.h: devices, memory accounting, user locks, device pointers, the
 * interop lifetime rules (adopt, borrow, deleter) and the kernel cache directory.
 *
 * Lifetimes are checked two ways: deleter callbacks count their calls, and adopted malloc'ed
 * blocks are left to the sanitizer builds (ASan reports a double free or use after free, LSan a
 * leak). Cases that need memory from the backend's native allocator (af_device_array adopts and
 * frees with it) run on the CPU backend, where that allocator is malloc; the others run anywhere,
 * using af_alloc_device_v2 memory as "the user's device buffer". */
#include "test.h"

#include <pthread.h>
#include <string.h>

static bool on_cpu(void) {
    return em_test_backend() == AF_BACKEND_CPU;
}

static int device_count(void) {
    int n = 0;
    CHECK_AF(af_get_device_count(&n));
    return n;
}

static af_array make_f32(const float *x, unsigned ndims, const dim_t *dims) {
    af_array a = NULL;
    CHECK_AF(af_create_array(&a, x, ndims, dims, f32));
    return a;
}

static void read_f32(af_array a, float *out) {
    CHECK_AF(af_get_data_ptr(out, a));
}

static af_array released_handle(void) {
    dim_t d[1] = {4};
    af_array a = NULL;
    CHECK_AF(af_create_handle(&a, 1, d, f32));
    CHECK_AF(af_release_array(a));
    return a;
}

typedef struct {
    size_t lock_buffers, lock_bytes, alloc_buffers, alloc_bytes;
} mem_snap;

static mem_snap mem_now(void) {
    mem_snap s = {0};
    CHECK_AF(af_device_mem_info(&s.alloc_bytes, &s.alloc_buffers, &s.lock_bytes, &s.lock_buffers));
    return s;
}

/* A deleter that counts its calls and remembers its arguments. */
typedef struct {
    int calls;
    void *ptr;
    void *ctx;
    bool free_device; /* also return the block with af_free_device_v2 */
} release_log;

static void release_count(void *ptr, void *ctx) {
    release_log *log = ctx;
    log->calls++;
    log->ptr = ptr;
    log->ctx = ctx;
    if (log->free_device) af_free_device_v2(ptr);
}

/* ---- devices ---- */

TEST(device_init_and_count) {
    CHECK_AF(af_init());
    CHECK_AF(af_init());
    int n = device_count();
    CHECK(n >= 1);
    if (on_cpu()) CHECK(n == 1);
    CHECK_ERR(af_get_device_count(NULL), AF_ERR_ARG);
}

TEST(device_set_get) {
    int n = device_count();
    int d = -1;
    CHECK_AF(af_get_device(&d));
    CHECK(d >= 0 && d < n);
    CHECK_AF(af_set_device(d));
    CHECK_ERR(af_set_device(-1), AF_ERR_ARG);
    CHECK_ERR(af_set_device(n), AF_ERR_ARG);
    CHECK_ERR(af_set_device(1 << 30), AF_ERR_ARG);
    int after = -1;
    CHECK_AF(af_get_device(&after));
    CHECK(after == d); /* a failed set leaves the active device alone */
    CHECK_ERR(af_get_device(NULL), AF_ERR_ARG);
    for (int i = 0; i < n; i++) {
        CHECK_AF(af_set_device(i));
        CHECK_AF(af_get_device(&after));
        CHECK(after == i);
    }
    CHECK_AF(af_set_device(d));
}

static void *thread_get_device(void *arg) {
    int *out = arg;
    if (af_get_device(out) != AF_SUCCESS) *out = -100;
    return NULL;
}

TEST(device_active_is_per_thread) {
    int n = device_count();
    int main_dev = -1, other = -1;
    CHECK_AF(af_get_device(&main_dev));
    if (n >= 2) CHECK_AF(af_set_device(1));
    pthread_t t;
    CHECK(pthread_create(&t, NULL, thread_get_device, &other) == 0);
    pthread_join(t, NULL);
    /* A new thread starts on the default device, whatever this thread chose. */
    CHECK(other == main_dev);
    if (n >= 2) {
        int now = -1;
        CHECK_AF(af_get_device(&now));
        CHECK(now == 1);
        CHECK_AF(af_set_device(main_dev));
    }
}

TEST(device_dbl_half_support) {
    int n = device_count();
    for (int i = 0; i < n; i++) {
        bool dbl = false, half = false;
        CHECK_AF(af_get_dbl_support(&dbl, i));
        CHECK_AF(af_get_half_support(&half, i));
        if (on_cpu()) CHECK(dbl && half);
    }
    bool b;
    CHECK_ERR(af_get_dbl_support(NULL, 0), AF_ERR_ARG);
    CHECK_ERR(af_get_dbl_support(&b, -1), AF_ERR_ARG);
    CHECK_ERR(af_get_dbl_support(&b, n), AF_ERR_ARG);
    CHECK_ERR(af_get_half_support(NULL, 0), AF_ERR_ARG);
    CHECK_ERR(af_get_half_support(&b, -1), AF_ERR_ARG);
    CHECK_ERR(af_get_half_support(&b, n), AF_ERR_ARG);
}

TEST(device_sync) {
    int n = device_count();
    CHECK_AF(af_sync(-1));
    for (int i = 0; i < n; i++)
        CHECK_AF(af_sync(i));
    CHECK_ERR(af_sync(n), AF_ERR_ARG);
    CHECK_ERR(af_sync(-2), AF_ERR_ARG);
}

TEST(device_info_strings) {
    char name[64], platform[10], toolkit[64], compute[10];
    memset(name, 0x7f, sizeof(name));
    CHECK_AF(af_device_info(name, platform, toolkit, compute));
    CHECK(memchr(name, 0, sizeof(name)) != NULL);
    CHECK(strlen(name) > 0);
    CHECK(strlen(platform) > 0 && strlen(platform) < 10);
    CHECK(strlen(compute) < 10);
    CHECK_ERR(af_device_info(NULL, platform, toolkit, compute), AF_ERR_ARG);
    CHECK_ERR(af_device_info(name, NULL, toolkit, compute), AF_ERR_ARG);
    CHECK_ERR(af_device_info(name, platform, NULL, compute), AF_ERR_ARG);
    CHECK_ERR(af_device_info(name, platform, toolkit, NULL), AF_ERR_ARG);

    char *s = NULL;
    CHECK_AF(af_info_string(&s, false));
    CHECK(s != NULL);
    if (s) {
        CHECK(strncmp(s, "ArrayFire v3.10.0 (Ember, ", 26) == 0);
        if (on_cpu()) CHECK(strstr(s, "(Ember, CPU,") != NULL);
        int d = -1;
        CHECK_AF(af_get_device(&d));
        char id[16];
        snprintf(id, sizeof(id), "\n[%d] ", d);
        CHECK(strstr(s, id) != NULL); /* the active device is marked [n] */
        /* One line per device after the banner. */
        int lines = 0;
        for (const char *c = s; *c; c++)
            lines += *c == '\n';
        CHECK(lines == 1 + device_count());
        CHECK(strstr(s, name) != NULL);
    }
    af_free_host(s);
    s = NULL;
    CHECK_AF(af_info_string(&s, true));
    CHECK(s != NULL && strstr(s, "memory:") != NULL);
    af_free_host(s);
    CHECK_ERR(af_info_string(NULL, false), AF_ERR_ARG);
    CHECK_AF(af_info());
}

/* ---- backend.h ---- */

TEST(backend_queries) {
    af_backend active;
    CHECK_AF(af_get_active_backend(&active));
    CHECK(active == em_test_backend());
    int avail = 0;
    CHECK_AF(af_get_available_backends(&avail));
    CHECK((avail & (int)active) != 0);
    unsigned count = 0;
    CHECK_AF(af_get_backend_count(&count));
    CHECK(count >= 1);
    CHECK_AF(af_set_backend(active));
    if (avail == (int)active) {
        /* A single-backend library (or a unified one with one backend): the default is it. */
        CHECK_AF(af_set_backend(AF_BACKEND_DEFAULT));
        CHECK(count == 1);
    }
    /* OpenCL is never present in Ember; 99 is no backend at all. A backend library answers
     * AF_ERR_ARG as ArrayFire's does; the unified one may say the library is missing. */
    af_err e = af_set_backend(AF_BACKEND_OPENCL);
    CHECK(e == AF_ERR_ARG || e == AF_ERR_LOAD_LIB);
    e = af_set_backend((af_backend)99);
    CHECK(e == AF_ERR_ARG || e == AF_ERR_LOAD_LIB);
    af_backend still;
    CHECK_AF(af_get_active_backend(&still));
    CHECK(still == active);

    CHECK_ERR(af_get_active_backend(NULL), AF_ERR_ARG);
    CHECK_ERR(af_get_available_backends(NULL), AF_ERR_ARG);
    CHECK_ERR(af_get_backend_count(NULL), AF_ERR_ARG);
}

TEST(backend_of_array) {
    dim_t d[2] = {3, 2};
    af_array a = NULL;
    CHECK_AF(af_create_handle(&a, 2, d, f64));
    af_backend b;
    CHECK_AF(af_get_backend_id(&b, a));
    CHECK(b == em_test_backend());
    int dev = -1, active = -2;
    CHECK_AF(af_get_device_id(&dev, a));
    CHECK_AF(af_get_device(&active));
    CHECK(dev == active);
    CHECK_ERR(af_get_backend_id(NULL, a), AF_ERR_ARG);
    CHECK_ERR(af_get_backend_id(&b, NULL), AF_ERR_ARG);
    CHECK_ERR(af_get_device_id(NULL, a), AF_ERR_ARG);
    CHECK_ERR(af_get_device_id(&dev, NULL), AF_ERR_ARG);
    CHECK_AF(af_release_array(a));
    af_array dead = released_handle();
    CHECK_ERR(af_get_backend_id(&b, dead), AF_ERR_INVALID_ARRAY);
    CHECK_ERR(af_get_device_id(&dev, dead), AF_ERR_INVALID_ARRAY);
}

/* ---- raw memory ---- */

static void check_alloc_device(af_err (*alloc)(void **, dim_t), af_err (*release)(void *)) {
    CHECK_AF(af_device_gc());
    mem_snap base = mem_now();
    void *p = NULL;
    CHECK_AF(alloc(&p, 1000));
    CHECK(p != NULL);
    mem_snap held = mem_now();
    CHECK(held.lock_buffers == base.lock_buffers + 1);
    CHECK(held.lock_bytes >= base.lock_bytes + 1000);
    CHECK(held.alloc_bytes >= base.alloc_bytes + 1000);
    if (on_cpu()) memset(p, 0xab, 1000); /* the block is really there (ASan checks the bounds) */
    CHECK_AF(release(p));
    mem_snap back = mem_now();
    CHECK(back.lock_buffers == base.lock_buffers);
    CHECK(back.lock_bytes == base.lock_bytes);
    /* The block is cached for reuse, then af_device_gc hands it back. */
    CHECK(back.alloc_buffers == held.alloc_buffers);
    CHECK_AF(af_device_gc());
    CHECK(mem_now().alloc_bytes == base.alloc_bytes);

    /* Zero bytes still gives a pointer that can be freed. */
    p = NULL;
    CHECK_AF(alloc(&p, 0));
    CHECK(p != NULL);
    CHECK_AF(release(p));
    /* Freeing NULL is a no-op; freeing twice or freeing foreign memory is an error, not a crash. */
    CHECK_AF(release(NULL));
    CHECK_AF(alloc(&p, 64));
    CHECK_AF(release(p));
    CHECK(release(p) == AF_ERR_ARG);
    int local = 0;
    CHECK(release(&local) == AF_ERR_ARG);
}

TEST(device_alloc_free_v1) {
    check_alloc_device(af_alloc_device, af_free_device);
    void *p;
    CHECK_ERR(af_alloc_device(NULL, 16), AF_ERR_ARG);
    CHECK_ERR(af_alloc_device(&p, -1), AF_ERR_SIZE);
    int local;
    CHECK_ERR(af_free_device(&local), AF_ERR_ARG);
}

TEST(device_alloc_free_v2) {
    check_alloc_device(af_alloc_device_v2, af_free_device_v2);
    void *p;
    CHECK_ERR(af_alloc_device_v2(NULL, 16), AF_ERR_ARG);
    CHECK_ERR(af_alloc_device_v2(&p, -5), AF_ERR_SIZE);
    int local;
    CHECK_ERR(af_free_device_v2(&local), AF_ERR_ARG);
    /* v1 and v2 share one pool on this backend: either frees the other's block. */
    CHECK_AF(af_alloc_device(&p, 32));
    CHECK_AF(af_free_device_v2(p));
}

TEST(device_alloc_out_of_memory) {
#if defined(__SANITIZE_ADDRESS__)
    SKIP("ASan aborts on absurd allocation sizes instead of failing them");
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
    SKIP("ASan aborts on absurd allocation sizes instead of failing them");
#endif
#endif
    void *p = (void *)0x1;
    CHECK_ERR(af_alloc_device(&p, (dim_t)1 << 62), AF_ERR_NO_MEM);
    CHECK(p == (void *)0x1); /* no output on failure */
    /* The library stays usable. */
    CHECK_AF(af_alloc_device(&p, 128));
    CHECK_AF(af_free_device(p));
}

TEST(device_alloc_pinned_host) {
    void *p = NULL;
    CHECK_AF(af_alloc_pinned(&p, 4096));
    CHECK(p != NULL);
    if (p) memset(p, 1, 4096); /* pinned memory is host memory on every backend */
    CHECK_AF(af_free_pinned(p));
    CHECK_AF(af_free_pinned(NULL));
    p = NULL;
    CHECK_AF(af_alloc_pinned(&p, 0));
    CHECK(p != NULL);
    CHECK_AF(af_free_pinned(p));
    CHECK_ERR(af_alloc_pinned(NULL, 8), AF_ERR_ARG);
    CHECK_ERR(af_alloc_pinned(&p, -1), AF_ERR_SIZE);

    p = NULL;
    CHECK_AF(af_alloc_host(&p, 100));
    CHECK(p != NULL);
    if (p) memset(p, 2, 100);
    CHECK_AF(af_free_host(p));
    CHECK_AF(af_free_host(NULL));
    p = NULL;
    CHECK_AF(af_alloc_host(&p, 0));
    CHECK(p != NULL);
    CHECK_AF(af_free_host(p));
    CHECK_ERR(af_alloc_host(NULL, 8), AF_ERR_ARG);
    CHECK_ERR(af_alloc_host(&p, -3), AF_ERR_SIZE);
}

TEST(device_mem_info_accounting) {
    CHECK_AF(af_device_gc());
    mem_snap base = mem_now();
    dim_t d[1] = {1 << 18}; /* 1 MiB of f32 */
    af_array a = NULL;
    CHECK_AF(af_create_handle(&a, 1, d, f32));
    mem_snap one = mem_now();
    CHECK(one.lock_buffers == base.lock_buffers + 1);
    CHECK(one.lock_bytes >= base.lock_bytes + (1u << 20));
    CHECK(one.alloc_buffers == base.alloc_buffers + 1);
    CHECK(one.alloc_bytes >= base.alloc_bytes + (1u << 20));
    /* Release returns the block to the cache: no longer in use, still allocated. */
    CHECK_AF(af_release_array(a));
    mem_snap cached = mem_now();
    CHECK(cached.lock_buffers == base.lock_buffers);
    CHECK(cached.lock_bytes == base.lock_bytes);
    CHECK(cached.alloc_buffers == one.alloc_buffers);
    CHECK(cached.alloc_bytes == one.alloc_bytes);
    /* The same size again reuses the cached block. */
    CHECK_AF(af_create_handle(&a, 1, d, f32));
    CHECK(mem_now().alloc_buffers == one.alloc_buffers);
    CHECK_AF(af_release_array(a));
    /* Garbage collection frees the cache. */
    CHECK_AF(af_device_gc());
    mem_snap gc = mem_now();
    CHECK(gc.alloc_buffers == base.alloc_buffers);
    CHECK(gc.alloc_bytes == base.alloc_bytes);
    /* Every output may be left out. */
    CHECK_AF(af_device_mem_info(NULL, NULL, NULL, NULL));
    size_t only = 0;
    CHECK_AF(af_device_mem_info(NULL, NULL, NULL, &only));
    CHECK(only == gc.lock_buffers);
}

TEST(device_mem_step_size) {
    size_t old = 0;
    CHECK_AF(af_get_mem_step_size(&old));
    CHECK(old > 0);
    CHECK_AF(af_set_mem_step_size(4096));
    size_t now = 0;
    CHECK_AF(af_get_mem_step_size(&now));
    CHECK(now == 4096);
    CHECK_AF(af_device_gc());
    mem_snap base = mem_now();
    void *p = NULL;
    CHECK_AF(af_alloc_device(&p, 1));
    CHECK(mem_now().alloc_bytes == base.alloc_bytes + 4096); /* rounded up to the step */
    CHECK_AF(af_free_device(p));
    CHECK_AF(af_device_gc());
    CHECK_AF(af_set_mem_step_size(old));
    CHECK_ERR(af_get_mem_step_size(NULL), AF_ERR_ARG);
}

TEST(device_print_mem_info) {
    CHECK_AF(af_print_mem_info("test_device: memory", -1));
    CHECK_AF(af_print_mem_info(NULL, 0));
    int n = device_count();
    CHECK_ERR(af_print_mem_info("x", n), AF_ERR_ARG);
    CHECK_ERR(af_print_mem_info("x", -2), AF_ERR_ARG);
    char longmsg[300];
    memset(longmsg, 'm', sizeof(longmsg) - 1);
    longmsg[sizeof(longmsg) - 1] = 0;
    CHECK_ERR(af_print_mem_info(longmsg, -1), AF_ERR_ARG);
}

/* ---- user locks and device pointers ---- */

TEST(lock_unlock_basic) {
    float x[6] = {1, 2, 3, 4, 5, 6};
    dim_t d[2] = {2, 3};
    af_array a = make_f32(x, 2, d);
    bool locked = true;
    CHECK_AF(af_is_locked_array(&locked, a));
    CHECK(!locked);
    CHECK_AF(af_lock_array(a));
    CHECK_AF(af_is_locked_array(&locked, a));
    CHECK(locked);
    CHECK_AF(af_unlock_array(a));
    CHECK_AF(af_is_locked_array(&locked, a));
    CHECK(!locked);
    /* The deprecated names behave the same. */
    CHECK_AF(af_lock_device_ptr(a));
    CHECK_AF(af_is_locked_array(&locked, a));
    CHECK(locked);
    CHECK_AF(af_unlock_device_ptr(a));
    CHECK_AF(af_is_locked_array(&locked, a));
    CHECK(!locked);
    /* Unlocking twice is harmless. */
    CHECK_AF(af_unlock_array(a));
    float y[6];
    read_f32(a, y);
    CHECK(memcmp(x, y, sizeof(x)) == 0);
    CHECK_ERR(af_is_locked_array(NULL, a), AF_ERR_ARG);
    CHECK_AF(af_release_array(a));

    af_array dead = released_handle();
    CHECK_ERR(af_lock_array(dead), AF_ERR_INVALID_ARRAY);
    CHECK_ERR(af_unlock_array(dead), AF_ERR_INVALID_ARRAY);
    CHECK_ERR(af_lock_device_ptr(dead), AF_ERR_INVALID_ARRAY);
    CHECK_ERR(af_unlock_device_ptr(dead), AF_ERR_INVALID_ARRAY);
    CHECK_ERR(af_is_locked_array(&locked, dead), AF_ERR_INVALID_ARRAY);
    CHECK_ERR(af_lock_array(NULL), AF_ERR_ARG);
    CHECK_ERR(af_unlock_array(NULL), AF_ERR_ARG);
    CHECK_ERR(af_is_locked_array(&locked, NULL), AF_ERR_ARG);
}

TEST(lock_shared_buffer_locks_all_sharers) {
    float x[4] = {1, 2, 3, 4};
    dim_t d[1] = {4};
    af_array a = make_f32(x, 1, d);
    af_array b = NULL;
    CHECK_AF(af_retain_array(&b, a));
    CHECK_AF(af_lock_array(b));
    bool la = false, lb = false;
    CHECK_AF(af_is_locked_array(&la, a));
    CHECK_AF(af_is_locked_array(&lb, b));
    CHECK(la && lb);
    CHECK_AF(af_unlock_array(a));
    CHECK_AF(af_is_locked_array(&lb, b));
    CHECK(!lb);
    CHECK_AF(af_release_array(a));
    CHECK_AF(af_release_array(b));
}

TEST(lock_view_locks_its_buffer) {
    float x[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    dim_t d[1] = {10};
    af_array parent = make_f32(x, 1, d);
    af_seq s = {2, 6, 1};
    af_array view = em_test_index_or_skip(parent, 1, &s);
    CHECK_AF(af_lock_array(view));
    bool lv = false, lp = false;
    CHECK_AF(af_is_locked_array(&lv, view));
    CHECK_AF(af_is_locked_array(&lp, parent));
    CHECK(lv);
    /* When indexing made a view, the lock is on the shared buffer, so the parent shows it. When
     * it made a copy, the parent is untouched. Either way, unlocking the view clears it. */
    int refs = 0;
    CHECK_AF(af_get_data_ref_count(&refs, parent));
    if (refs > 1) CHECK(lp);
    CHECK_AF(af_unlock_array(view));
    CHECK_AF(af_is_locked_array(&lv, view));
    CHECK_AF(af_is_locked_array(&lp, parent));
    CHECK(!lv && !lp);
    float y[5];
    read_f32(view, y);
    CHECK(y[0] == 2 && y[4] == 6);
    CHECK_AF(af_release_array(view));
    CHECK_AF(af_release_array(parent));
}

TEST(device_ptr_basic) {
    float x[6] = {1, 2, 3, 4, 5, 6};
    dim_t d[2] = {3, 2};
    af_array a = make_f32(x, 2, d);
    void *p = NULL;
    CHECK_AF(af_get_device_ptr(&p, a));
    CHECK(p != NULL);
    bool locked = false;
    CHECK_AF(af_is_locked_array(&locked, a));
    CHECK(locked);
    /* A sole, dense owner hands out its own buffer: the same pointer twice. */
    void *q = NULL;
    CHECK_AF(af_get_device_ptr(&q, a));
    CHECK(p == q);
    if (on_cpu() && p) {
        CHECK(memcmp(p, x, sizeof(x)) == 0);
        ((float *)p)[0] = 42; /* writes through the pointer are the array's */
        float y[6];
        read_f32(a, y);
        CHECK(y[0] == 42);
    }
    CHECK_AF(af_unlock_array(a));
    CHECK_AF(af_release_array(a));

    CHECK_ERR(af_get_device_ptr(NULL, a), AF_ERR_ARG);
    CHECK_ERR(af_get_device_ptr(&p, a), AF_ERR_INVALID_ARRAY);
    CHECK_ERR(af_get_device_ptr(&p, NULL), AF_ERR_ARG);
}

TEST(device_ptr_shared_copies_first) {
    float x[4] = {1, 2, 3, 4};
    dim_t d[1] = {4};
    af_array a = make_f32(x, 1, d);
    af_array b = NULL;
    CHECK_AF(af_retain_array(&b, a));
    void *pb = NULL;
    CHECK_AF(af_get_device_ptr(&pb, b));
    /* b now owns a copy; a keeps the original, unlocked. */
    bool la = true, lb = false;
    CHECK_AF(af_is_locked_array(&la, a));
    CHECK_AF(af_is_locked_array(&lb, b));
    CHECK(!la && lb);
    int refs = 0;
    CHECK_AF(af_get_data_ref_count(&refs, a));
    CHECK(refs == 1);
    if (on_cpu() && pb) {
        ((float *)pb)[1] = -7;
        float ya[4], yb[4];
        read_f32(a, ya);
        read_f32(b, yb);
        CHECK(ya[1] == 2);
        CHECK(yb[1] == -7);
    }
    void *pa = NULL;
    CHECK_AF(af_get_device_ptr(&pa, a));
    CHECK(pa != pb);
    CHECK_AF(af_unlock_array(a));
    CHECK_AF(af_unlock_array(b));
    CHECK_AF(af_release_array(a));
    CHECK_AF(af_release_array(b));
}

TEST(device_ptr_view_copies_and_leaves_parent) {
    float x[20];
    for (int i = 0; i < 20; i++)
        x[i] = (float)i;
    dim_t d[2] = {4, 5};
    af_array parent = make_f32(x, 2, d);
    af_seq s[2] = {{1, 2, 1}, {1, 3, 1}}; /* rows 1..2, columns 1..3: offset and strided */
    af_array view = em_test_index_or_skip(parent, 2, s);
    void *p = NULL;
    CHECK_AF(af_get_device_ptr(&p, view));
    bool lp = true, lv = false;
    CHECK_AF(af_is_locked_array(&lp, parent));
    CHECK_AF(af_is_locked_array(&lv, view));
    CHECK(!lp && lv);
    const float expect[6] = {5, 6, 9, 10, 13, 14};
    float got[6];
    read_f32(view, got);
    CHECK(memcmp(got, expect, sizeof(got)) == 0);
    if (on_cpu() && p) {
        /* Dense and offset-free: the pointer holds exactly the view's elements. */
        CHECK(memcmp(p, expect, sizeof(expect)) == 0);
        for (int i = 0; i < 6; i++)
            ((float *)p)[i] = -1;
    }
    float after[20];
    read_f32(parent, after);
    CHECK(memcmp(after, x, sizeof(x)) == 0);
    CHECK_AF(af_unlock_array(view));
    CHECK_AF(af_release_array(view));
    CHECK_AF(af_release_array(parent));
}

TEST(device_ptr_outlives_array_until_free_device) {
    CHECK_AF(af_device_gc());
    mem_snap base = mem_now();
    dim_t d[1] = {256};
    af_array a = NULL;
    CHECK_AF(af_create_handle(&a, 1, d, f32));
    void *p = NULL;
    CHECK_AF(af_get_device_ptr(&p, a));
    /* Freeing a pointer that an array still uses is refused. */
    CHECK_ERR(af_free_device(p), AF_ERR_ARG);
    CHECK_AF(af_release_array(a));
    /* Still locked for the user after the array is gone, so gc keeps it... */
    CHECK_AF(af_device_gc());
    mem_snap held = mem_now();
    CHECK(held.lock_buffers == base.lock_buffers + 1);
    if (on_cpu()) memset(p, 0, 1024);
    /* ...until af_free_device gives it back. */
    CHECK_AF(af_free_device(p));
    CHECK_AF(af_device_gc());
    mem_snap back = mem_now();
    CHECK(back.lock_buffers == base.lock_buffers);
    CHECK(back.alloc_bytes == base.alloc_bytes);
}

/* ---- af_device_array: adoption (CPU: the native allocator is malloc) ---- */

static float *malloc_f32(size_t n, float first) {
    float *p = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++)
        p[i] = first + (float)i;
    return p;
}

TEST(adopt_release_frees) {
    if (!on_cpu()) SKIP("needs memory from the backend's native allocator");
    float *data = malloc_f32(6, 1);
    dim_t d[2] = {2, 3};
    af_array a = NULL;
    CHECK_AF(af_device_array(&a, data, 2, d, f32));
    float y[6];
    read_f32(a, y);
    CHECK(y[0] == 1 && y[5] == 6);
    void *p = NULL;
    CHECK_AF(af_get_device_ptr(&p, a));
    CHECK(p == data); /* no copy: the array is the adopted block */
    CHECK_AF(af_unlock_array(a));
    /* Ember frees data here; LSan reports a leak, ASan a double free, if it does not or twice. */
    CHECK_AF(af_release_array(a));
}

TEST(adopt_locked_is_never_freed) {
    if (!on_cpu()) SKIP("needs memory from the backend's native allocator");
    float *data = malloc_f32(4, 10);
    dim_t d[1] = {4};
    af_array a = NULL;
    CHECK_AF(af_device_array(&a, data, 1, d, f32));
    CHECK_AF(af_lock_array(a));
    CHECK_AF(af_release_array(a));
    /* Still the user's: readable, and freed by the user (ASan: no use after free, no double). */
    CHECK(data[3] == 13);
    /* It is not manager memory either. */
    CHECK_ERR(af_free_device(data), AF_ERR_ARG);
    free(data);
}

TEST(adopt_unlock_then_release_frees_once) {
    if (!on_cpu()) SKIP("needs memory from the backend's native allocator");
    float *data = malloc_f32(8, 0);
    dim_t d[1] = {8};
    af_array a = NULL;
    CHECK_AF(af_device_array(&a, data, 1, d, f32));
    /* ArrayFire's trap: after lock + unlock its manager treats the pointer as its own. Ember
     * keeps it adopted: freed once, at the last release. */
    CHECK_AF(af_lock_array(a));
    CHECK_AF(af_unlock_array(a));
    bool locked = true;
    CHECK_AF(af_is_locked_array(&locked, a));
    CHECK(!locked);
    CHECK_AF(af_release_array(a));

    data = malloc_f32(8, 0);
    CHECK_AF(af_device_array(&a, data, 1, d, f32));
    void *p = NULL;
    CHECK_AF(af_get_device_ptr(&p, a));
    CHECK(p == data);
    CHECK_AF(af_unlock_device_ptr(a));
    CHECK_AF(af_release_array(a));
}

TEST(adopt_device_ptr_then_release_keeps_block) {
    if (!on_cpu()) SKIP("needs memory from the backend's native allocator");
    float *data = malloc_f32(5, 1);
    dim_t d[1] = {5};
    af_array a = NULL;
    CHECK_AF(af_device_array(&a, data, 1, d, f32));
    void *p = NULL;
    CHECK_AF(af_get_device_ptr(&p, a));
    CHECK_AF(af_release_array(a));
    CHECK(((float *)p)[4] == 5);
    free(p);
}

TEST(adopt_shared_freed_at_last_release) {
    if (!on_cpu()) SKIP("needs memory from the backend's native allocator");
    float *data = malloc_f32(4, 1);
    dim_t d[1] = {4};
    af_array a = NULL, b = NULL;
    CHECK_AF(af_device_array(&a, data, 1, d, f32));
    CHECK_AF(af_retain_array(&b, a));
    CHECK_AF(af_release_array(a));
    float y[4];
    read_f32(b, y); /* the block is alive while b is */
    CHECK(y[3] == 4);
    /* b locks the shared buffer: then nothing frees it. */
    CHECK_AF(af_lock_array(b));
    CHECK_AF(af_unlock_array(b));
    CHECK_AF(af_release_array(b));
}

TEST(adopt_manager_memory_is_not_freed_twice) {
    /* Memory from af_alloc_device stays the manager's: the array borrows it, and
     * af_free_device returns it. Runs on every backend. */
    void *p = NULL;
    CHECK_AF(af_alloc_device_v2(&p, 16 * sizeof(float)));
    dim_t d[1] = {16};
    af_array a = NULL;
    CHECK_AF(af_device_array(&a, p, 1, d, f32));
    float x[16];
    for (int i = 0; i < 16; i++)
        x[i] = (float)i * 0.5f;
    CHECK_AF(af_write_array(a, x, sizeof(x), afHost));
    float y[16];
    read_f32(a, y);
    CHECK(memcmp(x, y, sizeof(x)) == 0);
    CHECK_AF(af_release_array(a));
    if (on_cpu()) CHECK(((float *)p)[15] == 7.5f);
    CHECK_AF(af_free_device_v2(p));
}

TEST(adopt_bad_input) {
    /* Failures take no ownership: p is freed once, at the end, by its owner. */
    void *p = NULL;
    CHECK_AF(af_alloc_device_v2(&p, 64));
    af_array a = NULL;
    dim_t d[4] = {4, 2, 1, 1};
    CHECK_ERR(af_device_array(NULL, p, 2, d, f32), AF_ERR_ARG);
    CHECK_ERR(af_device_array(&a, NULL, 2, d, f32), AF_ERR_ARG);
    CHECK_ERR(af_device_array(&a, p, 0, d, f32), AF_ERR_SIZE);
    CHECK_ERR(af_device_array(&a, p, 5, d, f32), AF_ERR_SIZE);
    CHECK_ERR(af_device_array(&a, p, 2, NULL, f32), AF_ERR_ARG);
    dim_t zero[2] = {4, 0};
    CHECK_ERR(af_device_array(&a, p, 2, zero, f32), AF_ERR_SIZE);
    dim_t neg[2] = {-4, 2};
    CHECK_ERR(af_device_array(&a, p, 2, neg, f32), AF_ERR_SIZE);
    dim_t huge[4] = {(dim_t)1 << 40, (dim_t)1 << 40, 1, 1};
    CHECK_ERR(af_device_array(&a, p, 2, huge, f32), AF_ERR_SIZE);
    CHECK_ERR(af_device_array(&a, p, 2, d, (af_dtype)99), AF_ERR_TYPE);
    CHECK_ERR(af_device_array(&a, p, 2, d, (af_dtype)-1), AF_ERR_TYPE);
    CHECK(a == NULL); /* no output on failure */
    CHECK_AF(af_free_device_v2(p));
}

TEST(adopt_every_dtype) {
    if (!on_cpu()) SKIP("needs memory from the backend's native allocator");
    const af_dtype types[] = {f32, c32, f64, c64, b8, s32, u32, u8, s64, u64, s16, u16, f16, s8};
    for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
        size_t es = 0;
        CHECK_AF(af_get_size_of(&es, types[t]));
        dim_t d[3] = {3, 1, 2};
        unsigned char *data = malloc(6 * es);
        for (size_t i = 0; i < 6 * es; i++)
            data[i] = (unsigned char)(i * 7 + t);
        af_array a = NULL;
        CHECK_AF(af_device_array(&a, data, 3, d, types[t]));
        af_dtype got;
        CHECK_AF(af_get_type(&got, a));
        CHECK(got == types[t]);
        unsigned char back[6 * 16];
        CHECK_AF(af_get_data_ptr(back, a));
        bool same = true;
        for (size_t i = 0; i < 6 * es; i++)
            same = same && back[i] == (unsigned char)(i * 7 + t);
        CHECK(same);
        CHECK_AF(af_release_array(a));
    }
}

/* ---- af_device_array_borrow: borrowed and deleter buffers ---- */

TEST(borrow_without_release_is_never_freed) {
    void *p = NULL;
    CHECK_AF(af_alloc_device_v2(&p, 8 * sizeof(float)));
    dim_t d[2] = {2, 4};
    af_array a = NULL, b = NULL;
    CHECK_AF(af_device_array_borrow(&a, p, 2, d, f32, NULL, NULL));
    float x[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    CHECK_AF(af_write_array(a, x, sizeof(x), afHost)); /* sole owner: written in place */
    CHECK_AF(af_retain_array(&b, a));
    void *q = NULL;
    CHECK_AF(af_get_device_ptr(&q, a)); /* shared now, so a gets a copy */
    CHECK(q != p);
    CHECK_AF(af_release_array(a));
    CHECK_AF(af_release_array(b));
    if (on_cpu()) CHECK(memcmp(p, x, sizeof(x)) == 0);
    CHECK_AF(af_free_device_v2(q)); /* a's locked copy outlived a */
    CHECK_AF(af_free_device_v2(p));
}

TEST(borrow_deleter_called_once_after_last_release) {
    release_log log = {.free_device = true};
    void *p = NULL;
    CHECK_AF(af_alloc_device_v2(&p, 4 * sizeof(double)));
    dim_t d[1] = {4};
    af_array a = NULL, b = NULL, c = NULL;
    CHECK_AF(af_device_array_borrow(&a, p, 1, d, f64, release_count, &log));
    CHECK_AF(af_retain_array(&b, a));
    CHECK_AF(af_retain_array(&c, b));
    CHECK_AF(af_release_array(a));
    CHECK_AF(af_release_array(c));
    CHECK(log.calls == 0);
    CHECK_AF(af_release_array(b));
    CHECK(log.calls == 1);
    CHECK(log.ptr == p);
    CHECK(log.ctx == &log);
}

TEST(borrow_deleter_called_even_when_locked) {
    release_log log = {.free_device = true};
    void *p = NULL;
    CHECK_AF(af_alloc_device_v2(&p, 16));
    dim_t d[1] = {4};
    af_array a = NULL;
    CHECK_AF(af_device_array_borrow(&a, p, 1, d, s32, release_count, &log));
    CHECK_AF(af_lock_array(a));
    CHECK_AF(af_release_array(a));
    /* The lock keeps Ember from freeing; the owner is still told, exactly once. */
    CHECK(log.calls == 1);

    log.calls = 0;
    CHECK_AF(af_alloc_device_v2(&p, 16));
    CHECK_AF(af_device_array_borrow(&a, p, 1, d, s32, release_count, &log));
    void *q = NULL;
    CHECK_AF(af_get_device_ptr(&q, a));
    CHECK(q == p); /* sole owner: its own buffer */
    CHECK_AF(af_unlock_array(a));
    CHECK_AF(af_release_array(a));
    CHECK(log.calls == 1);
}

TEST(borrow_deleter_with_device_ptr_on_sharer) {
    release_log log = {.free_device = true};
    void *p = NULL;
    CHECK_AF(af_alloc_device_v2(&p, 6 * sizeof(float)));
    dim_t d[1] = {6};
    af_array a = NULL, b = NULL;
    CHECK_AF(af_device_array_borrow(&a, p, 1, d, f32, release_count, &log));
    float x[6] = {1, 2, 3, 4, 5, 6};
    CHECK_AF(af_write_array(a, x, sizeof(x), afHost));
    CHECK_AF(af_retain_array(&b, a));
    void *q = NULL;
    CHECK_AF(af_get_device_ptr(&q, b)); /* b copies; a alone holds the borrowed block */
    CHECK(q != p);
    CHECK_AF(af_release_array(b));
    CHECK(log.calls == 0);
    float y[6];
    read_f32(a, y);
    CHECK(memcmp(x, y, sizeof(x)) == 0);
    CHECK_AF(af_release_array(a));
    CHECK(log.calls == 1);
    CHECK_AF(af_free_device(q));
}

TEST(borrow_empty_and_bad_input) {
    release_log log = {0};
    af_array a = NULL;
    dim_t empty[1] = {0};
    /* An empty tensor may have no data pointer; the deleter still runs once. */
    CHECK_AF(af_device_array_borrow(&a, NULL, 1, empty, f32, release_count, &log));
    bool is_empty = false;
    CHECK_AF(af_is_empty(&is_empty, a));
    CHECK(is_empty);
    CHECK_AF(af_release_array(a));
    CHECK(log.calls == 1 && log.ptr == NULL);

    /* Failures neither take the buffer nor call the deleter. */
    log.calls = 0;
    a = NULL;
    int local[4];
    dim_t d[1] = {4};
    CHECK_ERR(af_device_array_borrow(NULL, local, 1, d, s32, release_count, &log), AF_ERR_ARG);
    CHECK_ERR(af_device_array_borrow(&a, NULL, 1, d, s32, release_count, &log), AF_ERR_ARG);
    CHECK_ERR(af_device_array_borrow(&a, local, 0, d, s32, release_count, &log), AF_ERR_SIZE);
    dim_t neg[1] = {-1};
    CHECK_ERR(af_device_array_borrow(&a, local, 1, neg, s32, release_count, &log), AF_ERR_SIZE);
    CHECK_ERR(af_device_array_borrow(&a, local, 1, d, (af_dtype)42, release_count, &log),
              AF_ERR_TYPE);
    CHECK(a == NULL);
    CHECK(log.calls == 0);
}

/* ---- kernel cache directory ---- */

static char *cache_dir(void) {
    size_t len = 0;
    CHECK_AF(af_get_kernel_cache_directory(&len, NULL));
    char *s = calloc(len + 1, 1);
    size_t cap = len + 1;
    CHECK_AF(af_get_kernel_cache_directory(&cap, s));
    return s;
}

TEST(kernel_cache_directory) {
    char *old = cache_dir();
    unsetenv("AF_JIT_KERNEL_CACHE_DIRECTORY");
    CHECK_AF(af_set_kernel_cache_directory("/tmp/ember-kcache-test", 0));
    char *now = cache_dir();
    CHECK(strcmp(now, "/tmp/ember-kcache-test") == 0);
    free(now);

    /* Exact-size buffers get no terminator; larger ones do; smaller ones are refused. */
    size_t len = 0;
    CHECK_AF(af_get_kernel_cache_directory(&len, NULL));
    CHECK(len == strlen("/tmp/ember-kcache-test"));
    char buf[64];
    memset(buf, 'x', sizeof(buf));
    size_t cap = len;
    CHECK_AF(af_get_kernel_cache_directory(&cap, buf));
    CHECK(memcmp(buf, "/tmp/ember-kcache-test", len) == 0 && buf[len] == 'x');
    cap = sizeof(buf);
    CHECK_AF(af_get_kernel_cache_directory(&cap, buf));
    CHECK(strcmp(buf, "/tmp/ember-kcache-test") == 0);
    cap = len - 1;
    CHECK_ERR(af_get_kernel_cache_directory(&cap, buf), AF_ERR_SIZE);

    /* The environment variable wins unless override_env is set. */
    setenv("AF_JIT_KERNEL_CACHE_DIRECTORY", "/tmp/ember-kcache-env", 1);
    CHECK_AF(af_set_kernel_cache_directory("/tmp/ember-kcache-other", 0));
    now = cache_dir();
    CHECK(strcmp(now, "/tmp/ember-kcache-test") == 0);
    free(now);
    CHECK_AF(af_set_kernel_cache_directory("/tmp/ember-kcache-other", 1));
    now = cache_dir();
    CHECK(strcmp(now, "/tmp/ember-kcache-other") == 0);
    free(now);
    unsetenv("AF_JIT_KERNEL_CACHE_DIRECTORY");

    CHECK_ERR(af_set_kernel_cache_directory(NULL, 1), AF_ERR_ARG);
    CHECK_ERR(af_get_kernel_cache_directory(NULL, NULL), AF_ERR_ARG);
    CHECK_AF(af_set_kernel_cache_directory(old, 1));
    free(old);
}
