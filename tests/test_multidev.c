/* Tests for several devices: the device order on synthetic 8-GPU lists, af_info's device list,
 * memory accounting per device, the active device per host thread, the device rule of operations
 * (AF_ERR_DEVICE when an operand lives on another device than the active one) and
 * af_copy_array_to_device (Ember's extension, af/device.h).
 *
 * Every case runs on any number of devices. What needs two devices skips with the reason when the
 * backend has one (the CPU backend, or a one-GPU machine), and everything else runs with device 0
 * only: per-device accounting, per-thread state, copies to the same device and bad input. The
 * cases that call the CUDA runtime directly are compiled when the runner links libcudart
 * (EMBER_TEST_CUDART) and skip on other backends. Each case restores the active device, since
 * with --no-fork all cases share one process. */
#include "test.h"

#include "../src/backend/cuda/dev_order.h"

#include <pthread.h>
#include <string.h>

/* ---- helpers ---- */

static int device_count(void) {
    int n = 0;
    CHECK_AF(af_get_device_count(&n));
    return n;
}

static int active_device(void) {
    int d = -1;
    CHECK_AF(af_get_device(&d));
    return d;
}

static void need_devices(int want) {
    int n = device_count();
    if (n < want) {
        static char reason[128];
        snprintf(reason, sizeof(reason), "needs %d devices, the %s backend has %d", want,
                 em_test_backend() == AF_BACKEND_CUDA ? "CUDA" : "CPU", n);
        SKIP(reason);
    }
}

typedef struct {
    size_t alloc_bytes, alloc_buffers, lock_bytes, lock_buffers;
} mem_snap;

/* Device d's memory as af_device_mem_info reports it while d is active; the active device is
 * restored. Switching devices allocates nothing, so the snapshot does not disturb what it
 * measures. */
static mem_snap mem_of(int d) {
    mem_snap s = {0, 0, 0, 0};
    int cur = active_device();
    CHECK_AF(af_set_device(d));
    CHECK_AF(af_device_mem_info(&s.alloc_bytes, &s.alloc_buffers, &s.lock_bytes, &s.lock_buffers));
    CHECK_AF(af_set_device(cur));
    return s;
}

static bool mem_equal(mem_snap a, mem_snap b) {
    return a.alloc_bytes == b.alloc_bytes && a.alloc_buffers == b.alloc_buffers &&
           a.lock_bytes == b.lock_bytes && a.lock_buffers == b.lock_buffers;
}

static int device_of(af_array a) {
    int d = -1;
    CHECK_AF(af_get_device_id(&d, a));
    return d;
}

/* The array's bytes, read to the host (malloc'ed; the caller frees). */
static unsigned char *bytes_of(af_array a, size_t *n_out) {
    dim_t n = 0;
    af_dtype t = f32;
    size_t size = 0;
    CHECK_AF(af_get_elements(&n, a));
    CHECK_AF(af_get_type(&t, a));
    CHECK_AF(af_get_size_of(&size, t));
    size_t bytes = (size_t)n * size;
    unsigned char *p = malloc(bytes ? bytes : 1);
    if (bytes) CHECK_AF(af_get_data_ptr(p, a));
    *n_out = bytes;
    return p;
}

/* True when a and b hold the same dtype, dims and bytes. */
static bool same_array(af_array a, af_array b) {
    dim_t da[4], db[4];
    af_dtype ta = f32, tb = f64;
    CHECK_AF(af_get_dims(&da[0], &da[1], &da[2], &da[3], a));
    CHECK_AF(af_get_dims(&db[0], &db[1], &db[2], &db[3], b));
    CHECK_AF(af_get_type(&ta, a));
    CHECK_AF(af_get_type(&tb, b));
    if (ta != tb || memcmp(da, db, sizeof(da)) != 0) return false;
    size_t na = 0, nb = 0;
    unsigned char *pa = bytes_of(a, &na), *pb = bytes_of(b, &nb);
    bool same = na == nb && memcmp(pa, pb, na) == 0;
    free(pa);
    free(pb);
    return same;
}

static bool all_equal_f32(af_array a, float v) {
    size_t n = 0;
    float *p = (float *)bytes_of(a, &n);
    bool same = true;
    for (size_t i = 0; i < n / sizeof(float) && same; i++)
        same = p[i] == v;
    free(p);
    return same;
}

/* ---- the device order on synthetic lists (no GPU needed) ---- */

static em_cu_dev_desc gpu(int native, int sms, int major, int minor, int clock_mhz,
                          size_t mem_gib) {
    em_cu_dev_desc d = {.native = native,
                        .sm_count = sms,
                        .major = major,
                        .minor = minor,
                        .clock_khz = clock_mhz * 1000,
                        .mem_bytes = mem_gib << 30};
    return d;
}

/* Sorts a copy of list[0..n) and checks the natives come out as `want`. */
static bool order_is(const em_cu_dev_desc *list, int n, const int *want) {
    em_cu_dev_desc tmp[16];
    memcpy(tmp, list, (size_t)n * sizeof(*tmp));
    em_cu_dev_order(tmp, n);
    bool ok = true;
    for (int i = 0; i < n; i++)
        ok = ok && tmp[i].native == want[i];
    return ok;
}

TEST(multidev_order_eight_gpu_mix) {
    /* An 8-GPU machine of mixed parts, ordinals 0..7. ArrayFire ranks by SMs x cores per SM x
     * clock: the L40S (142 x 128 x 2520 MHz) before the H200 and H100 (132 x 128 x 1980), the
     * H200 before the H100 on memory (141 versus 80 GiB), the two H100s in ordinal order, then
     * the L4 (58 x 128 x 2040), the A100s (108 x 64 x 1410; 80 before 40 GiB) and the V100
     * (80 x 64 x 1530). */
    em_cu_dev_desc mix[8] = {
        gpu(0, 108, 8, 0, 1410, 80),  /* A100 80 GB */
        gpu(1, 132, 9, 0, 1980, 80),  /* H100 */
        gpu(2, 142, 8, 9, 2520, 48),  /* L40S */
        gpu(3, 108, 8, 0, 1410, 40),  /* A100 40 GB */
        gpu(4, 132, 9, 0, 1980, 80),  /* H100 */
        gpu(5, 132, 9, 0, 1980, 141), /* H200 */
        gpu(6, 58, 8, 9, 2040, 24),   /* L4 */
        gpu(7, 80, 7, 0, 1530, 32),   /* V100 */
    };
    const int want[8] = {2, 5, 1, 4, 6, 0, 3, 7};
    CHECK(order_is(mix, 8, want));

    /* The order is a total order: every arrangement of the same devices sorts the same way. */
    for (int round = 0; round < 200; round++) {
        em_cu_dev_desc shuffled[8];
        memcpy(shuffled, mix, sizeof(mix));
        for (int i = 7; i > 0; i--) {
            int j = (int)(em_test_rand_u64() % (uint64_t)(i + 1));
            em_cu_dev_desc t = shuffled[i];
            shuffled[i] = shuffled[j];
            shuffled[j] = t;
        }
        if (!order_is(shuffled, 8, want)) {
            CHECK(!"a shuffled 8-GPU list sorted differently");
            break;
        }
    }

    /* Eight identical GPUs, listed backwards: CUDA's order (ids match nvidia-smi's). */
    em_cu_dev_desc same[8];
    int ident[8];
    for (int i = 0; i < 8; i++) {
        same[i] = gpu(7 - i, 132, 9, 0, 1980, 80);
        ident[i] = i;
    }
    CHECK(order_is(same, 8, ident));

    /* Two nodes' worth of halves: four H100s on the high ordinals, four A100s on the low. */
    em_cu_dev_desc halves[8];
    for (int i = 0; i < 4; i++) {
        halves[i] = gpu(i, 108, 8, 0, 1410, 80);
        halves[i + 4] = gpu(i + 4, 132, 9, 0, 1980, 80);
    }
    const int want_halves[8] = {4, 5, 6, 7, 0, 1, 2, 3};
    CHECK(order_is(halves, 8, want_halves));
}

TEST(multidev_order_ties) {
    /* Equal throughput from different shapes (100 SMs at 2000 MHz, 200 at 1000), same
     * architecture and memory: a full tie, CUDA's order. */
    em_cu_dev_desc a[2] = {gpu(0, 200, 9, 0, 1000, 80), gpu(1, 100, 9, 0, 2000, 80)};
    const int a_want[2] = {0, 1};
    CHECK(order_is(a, 2, a_want));
    em_cu_dev_desc a2[2] = {gpu(1, 100, 9, 0, 2000, 80), gpu(0, 200, 9, 0, 1000, 80)};
    CHECK(order_is(a2, 2, a_want));

    /* Equal throughput and memory across architectures (264 SMs x 64 cores of 8.0 against 132 x
     * 128 of 9.0): the newer compute capability first, whatever the ordinals. */
    em_cu_dev_desc b[2] = {gpu(0, 264, 8, 0, 1980, 80), gpu(1, 132, 9, 0, 1980, 80)};
    const int b_want[2] = {1, 0};
    CHECK(order_is(b, 2, b_want));

    /* Equal throughput and architecture: more memory first, even at a higher ordinal. */
    em_cu_dev_desc c[3] = {gpu(0, 132, 9, 0, 1980, 80), gpu(1, 132, 9, 0, 1980, 94),
                           gpu(2, 132, 9, 0, 1980, 141)};
    const int c_want[3] = {2, 1, 0};
    CHECK(order_is(c, 3, c_want));

    /* A device whose clock reads 0 has no throughput: it goes last, and two such devices are
     * ordered by memory, then by ordinal. */
    em_cu_dev_desc d[4] = {gpu(0, 132, 9, 0, 0, 80), gpu(1, 58, 8, 9, 2040, 24),
                           gpu(2, 132, 9, 0, 0, 141), gpu(3, 132, 9, 0, 0, 80)};
    const int d_want[4] = {1, 2, 0, 3};
    CHECK(order_is(d, 4, d_want));

    /* Ties among many: two H200s and two H100s interleaved, each pair in ordinal order. */
    em_cu_dev_desc e[4] = {gpu(0, 132, 9, 0, 1980, 80), gpu(1, 132, 9, 0, 1980, 141),
                           gpu(2, 132, 9, 0, 1980, 80), gpu(3, 132, 9, 0, 1980, 141)};
    const int e_want[4] = {1, 3, 0, 2};
    CHECK(order_is(e, 4, e_want));
}

/* ---- af_info and memory per device ---- */

TEST(multidev_info_lists_every_device) {
    int n = device_count(), start = active_device();
    for (int act = 0; act < n; act++) {
        CHECK_AF(af_set_device(act));
        char *s = NULL;
        CHECK_AF(af_info_string(&s, false));
        if (!s) continue;
        /* One line per device, the active one as "[d]" and the others as "-d-". */
        for (int d = 0; d < n; d++) {
            char mark[32];
            snprintf(mark, sizeof(mark), d == act ? "\n[%d] " : "\n-%d- ", d);
            CHECK(strstr(s, mark) != NULL);
        }
        char beyond[32];
        snprintf(beyond, sizeof(beyond), "\n-%d- ", n);
        CHECK(strstr(s, beyond) == NULL);
        int lines = 0;
        for (const char *p = s; *p; p++)
            lines += *p == '\n';
        CHECK(lines == n + 1); /* the banner and n devices */
        af_free_host(s);
    }
    CHECK_AF(af_set_device(start));
}

TEST(multidev_mem_info_per_device) {
    int n = device_count(), start = active_device();
    const dim_t dims[1] = {(1 << 18) + 77}; /* 1 MiB and a bit: not a size cached by others */
    const size_t bytes = (size_t)dims[0] * sizeof(float);
    for (int d = 0; d < n; d++) {
        for (int e = 0; e < n; e++) {
            CHECK_AF(af_set_device(e));
            CHECK_AF(af_device_gc());
        }
        mem_snap before[16], after[16];
        for (int e = 0; e < n && e < 16; e++)
            before[e] = mem_of(e);
        CHECK_AF(af_set_device(d));
        af_array a = NULL;
        CHECK_AF(af_create_handle(&a, 1, dims, f32));
        CHECK(device_of(a) == d);
        for (int e = 0; e < n && e < 16; e++)
            after[e] = mem_of(e);
        /* The block counts on device d, and only there. */
        CHECK(after[d].lock_buffers == before[d].lock_buffers + 1);
        CHECK(after[d].lock_bytes >= before[d].lock_bytes + bytes);
        CHECK(after[d].alloc_buffers == before[d].alloc_buffers + 1);
        CHECK(after[d].alloc_bytes >= before[d].alloc_bytes + bytes);
        for (int e = 0; e < n && e < 16; e++)
            if (e != d) CHECK(mem_equal(after[e], before[e]));
        /* Released from another active device, the block goes back to d's cache. */
        CHECK_AF(af_set_device((d + 1) % n));
        CHECK_AF(af_release_array(a));
        mem_snap cached = mem_of(d);
        CHECK(cached.lock_buffers == before[d].lock_buffers);
        CHECK(cached.lock_bytes == before[d].lock_bytes);
        CHECK(cached.alloc_buffers == after[d].alloc_buffers);
        /* af_device_gc collects the active device's cache only. */
        if (n >= 2) {
            CHECK(mem_equal(mem_of(d), cached));
            CHECK_AF(af_device_gc()); /* another device is active */
            CHECK(mem_equal(mem_of(d), cached));
        }
        CHECK_AF(af_set_device(d));
        CHECK_AF(af_device_gc());
        CHECK(mem_of(d).alloc_buffers == before[d].alloc_buffers);
        CHECK_AF(af_print_mem_info("multidev", d));
    }
    CHECK_ERR(af_print_mem_info(NULL, n), AF_ERR_ARG);
    CHECK_AF(af_set_device(start));
}

/* ---- the active device per host thread ---- */

typedef struct {
    pthread_barrier_t *bar;
    int n, want;    /* devices; the device this thread selects */
    int got_first;  /* af_get_device before selecting */
    int got_after;  /* af_get_device after the other thread selected */
    af_err set_bad; /* af_set_device(n) */
    af_err set_ok;  /* af_set_device(want) */
    size_t msg_len; /* af_get_last_error's length at start: a new thread has no message */
    int array_dev;  /* af_get_device_id of an array made here */
    af_array made;  /* handed to the other thread */
    af_backend backend;
} thread_state;

static void *device_thread(void *arg) {
    thread_state *t = arg;
    /* The unified library keeps the backend per thread, and a new thread starts on the default
     * (CUDA where a GPU exists): select the backend under test first. */
    af_set_backend(t->backend);
    char *msg = NULL;
    dim_t len = -1;
    af_get_last_error(&msg, &len);
    t->msg_len = msg ? strlen(msg) : 0;
    af_free_host(msg);
    af_get_device(&t->got_first);
    pthread_barrier_wait(t->bar); /* both threads have read their start state */
    t->set_bad = af_set_device(t->n);
    t->set_ok = af_set_device(t->want);
    pthread_barrier_wait(t->bar); /* both threads have selected */
    af_get_device(&t->got_after);
    const dim_t d[1] = {8};
    if (af_constant(&t->made, t->want, 1, d, f32) == AF_SUCCESS)
        af_get_device_id(&t->array_dev, t->made);
    return NULL;
}

TEST(multidev_active_device_per_thread) {
    int n = device_count(), start = active_device();
    /* This thread leaves an error message behind and selects a device: neither may reach the
     * new threads. */
    CHECK_ERR(af_set_device(-1), AF_ERR_ARG);
    CHECK_AF(af_set_device(n - 1));
    pthread_barrier_t bar;
    CHECK(pthread_barrier_init(&bar, NULL, 2) == 0);
    thread_state a = {.bar = &bar,
                      .n = n,
                      .want = 0,
                      .got_first = -1,
                      .got_after = -1,
                      .array_dev = -1,
                      .backend = em_test_backend()};
    thread_state b = a;
    b.want = n - 1; /* with one device both select 0 */
    pthread_t ta, tb;
    CHECK(pthread_create(&ta, NULL, device_thread, &a) == 0);
    CHECK(pthread_create(&tb, NULL, device_thread, &b) == 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    pthread_barrier_destroy(&bar);
    /* Both started on the default device, whatever this thread chose, with no message. */
    CHECK(a.got_first == b.got_first);
    CHECK(a.got_first >= 0 && a.got_first < n);
    CHECK(a.msg_len == 0 && b.msg_len == 0);
    CHECK(a.set_bad == AF_ERR_ARG && b.set_bad == AF_ERR_ARG);
    CHECK(a.set_ok == AF_SUCCESS && b.set_ok == AF_SUCCESS);
    /* Each kept its own choice while the other chose, and made its arrays there. */
    CHECK(a.got_after == a.want);
    CHECK(b.got_after == b.want);
    CHECK(a.array_dev == a.want);
    CHECK(b.array_dev == b.want);
    /* This thread is where it was. */
    CHECK(active_device() == n - 1);
    /* An array made by another thread keeps its device here, and is usable from the thread whose
     * active device it lives on. */
    if (b.made) {
        CHECK(device_of(b.made) == b.want);
        CHECK_AF(af_set_device(b.want));
        af_array twice = NULL;
        CHECK_AF(af_add(&twice, b.made, b.made, false));
        if (twice) CHECK(all_equal_f32(twice, 2.0f * (float)b.want));
        af_release_array(twice);
    }
    af_release_array(a.made);
    af_release_array(b.made);
    CHECK_AF(af_set_device(start));
}

/* ---- the device rule of operations ---- */

TEST(multidev_arrays_remember_device) {
    int n = device_count(), start = active_device();
    af_array per[16] = {0};
    const dim_t d[2] = {5, 3};
    for (int dev = 0; dev < n && dev < 16; dev++) {
        CHECK_AF(af_set_device(dev));
        CHECK_AF(af_constant(&per[dev], dev + 1, 2, d, f32));
        CHECK(device_of(per[dev]) == dev);
    }
    /* Whatever device is active, each array reports where it lives and reads back. */
    for (int act = 0; act < n; act++) {
        CHECK_AF(af_set_device(act));
        for (int dev = 0; dev < n && dev < 16; dev++) {
            CHECK(device_of(per[dev]) == dev);
            CHECK_AF(af_eval(per[dev]));
            CHECK(all_equal_f32(per[dev], (float)(dev + 1)));
        }
    }
    for (int dev = 0; dev < n && dev < 16; dev++) {
        CHECK_AF(af_set_device((dev + 1) % n)); /* released from another device */
        CHECK_AF(af_release_array(per[dev]));
    }
    CHECK_AF(af_set_device(start));
}

TEST(multidev_cross_device_error) {
    need_devices(2);
    int start = active_device();
    const dim_t d[1] = {64};
    af_array a0 = NULL, b1 = NULL, c1 = NULL, out = NULL;
    CHECK_AF(af_set_device(0));
    CHECK_AF(af_constant(&a0, 3, 1, d, f32));
    CHECK_AF(af_eval(a0));
    CHECK_AF(af_set_device(1));
    CHECK_AF(af_constant(&b1, 4, 1, d, f32));
    CHECK_AF(af_constant(&c1, 1, 1, d, b8));

    /* Mixing devices in one operation, from either side. */
    CHECK_ERR(af_add(&out, a0, b1, false), AF_ERR_DEVICE);
    CHECK(out == NULL);
    CHECK_ERR(af_mul(&out, b1, a0, true), AF_ERR_DEVICE);
    CHECK_ERR(af_select(&out, c1, a0, b1), AF_ERR_DEVICE);
    CHECK_ERR(af_clamp(&out, b1, a0, a0, false), AF_ERR_DEVICE);
    CHECK_AF(af_set_device(0));
    CHECK_ERR(af_sub(&out, a0, b1, false), AF_ERR_DEVICE);
    CHECK(out == NULL);

    /* One array used while another device is active: an error too (Ember's choice, documented
     * in src/api/jit_build.c), so a transfer is never hidden in an expression. */
    CHECK_AF(af_set_device(1));
    CHECK_ERR(af_abs(&out, a0), AF_ERR_DEVICE);
    CHECK_ERR(af_add(&out, a0, a0, false), AF_ERR_DEVICE);
    CHECK_ERR(af_cast(&out, a0, f64), AF_ERR_DEVICE);
    CHECK(out == NULL);
    /* What names the array's device itself still works from here. */
    dim_t n = 0;
    CHECK_AF(af_get_elements(&n, a0));
    CHECK(n == 64);
    CHECK(all_equal_f32(a0, 3.0f));
    af_array same = NULL;
    CHECK_AF(af_copy_array(&same, a0));
    if (same) CHECK(device_of(same) == 0);
    af_release_array(same);

    /* The explicit move makes the operation valid. */
    af_array a1 = NULL;
    CHECK_AF(af_copy_array_to_device(&a1, a0, 1));
    CHECK_AF(af_add(&out, a1, b1, false));
    if (out) {
        CHECK(device_of(out) == 1);
        CHECK(all_equal_f32(out, 7.0f));
    }
    af_release_array(out);
    af_release_array(a1);
    af_release_array(a0);
    af_release_array(b1);
    af_release_array(c1);
    CHECK_AF(af_set_device(start));
}

/* ---- af_copy_array_to_device ---- */

TEST(multidev_copy_same_device) {
    int n = device_count(), start = active_device();
    const dim_t dims[3] = {7, 5, 3};
    double x[105 * 2];
    em_test_fill(x, 105 * 2, -50, 50, true);
    for (int dev = 0; dev < n; dev++) {
        CHECK_AF(af_set_device(dev));
        /* Every dtype, byte for byte. */
        for (int k = 0; k < EM_TEST_NUM_DTYPES; k++) {
            af_dtype t = em_test_dtypes[k];
            af_array a = em_test_make(x, 3, dims, t), b = NULL;
            if (!a) continue;
            CHECK_AF(af_copy_array_to_device(&b, a, dev));
            if (b) {
                CHECK(device_of(b) == dev);
                CHECK(same_array(a, b));
            }
            af_release_array(a);
            af_release_array(b);
        }
        /* A deep copy: its own buffer, and writes stay on their side. */
        af_array a = NULL, b = NULL;
        CHECK_AF(af_constant(&a, 2, 3, dims, f32));
        CHECK_AF(af_copy_array_to_device(&b, a, dev));
        void *pa = NULL, *pb = NULL;
        CHECK_AF(af_get_device_ptr(&pa, a));
        CHECK_AF(af_get_device_ptr(&pb, b));
        CHECK(pa != pb);
        CHECK_AF(af_unlock_array(a));
        CHECK_AF(af_unlock_array(b));
        float nine[105];
        for (int i = 0; i < 105; i++)
            nine[i] = 9.0f;
        CHECK_AF(af_write_array(b, nine, sizeof(nine), afHost));
        CHECK(all_equal_f32(a, 2.0f));
        CHECK(all_equal_f32(b, 9.0f));
        af_release_array(b);
        b = NULL;
        /* A lazy expression and a shared buffer (moddims) copy their values. */
        af_array lazy = NULL, flat = NULL;
        CHECK_AF(af_mul(&lazy, a, a, false));
        CHECK_AF(af_copy_array_to_device(&b, lazy, dev));
        if (b) CHECK(all_equal_f32(b, 4.0f));
        af_release_array(b);
        b = NULL;
        const dim_t fd[1] = {105};
        CHECK_AF(af_moddims(&flat, a, 1, fd));
        CHECK_AF(af_copy_array_to_device(&b, flat, dev));
        if (b) {
            dim_t d0 = 0, d1 = 0, d2 = 0, d3 = 0;
            CHECK_AF(af_get_dims(&d0, &d1, &d2, &d3, b));
            CHECK(d0 == 105 && d1 == 1 && d2 == 1 && d3 == 1);
            CHECK(all_equal_f32(b, 2.0f));
        }
        af_release_array(b);
        b = NULL;
        /* Empty and one-element arrays. */
        const dim_t zero[2] = {0, 4}, one[1] = {1};
        af_array e = NULL, s = NULL;
        CHECK_AF(af_create_handle(&e, 2, zero, f64));
        CHECK_AF(af_copy_array_to_device(&b, e, dev));
        if (b) CHECK(same_array(e, b));
        af_release_array(b);
        b = NULL;
        CHECK_AF(af_constant(&s, -1.5, 1, one, f64));
        CHECK_AF(af_copy_array_to_device(&b, s, dev));
        if (b) CHECK(same_array(s, b));
        af_release_array(b);
        af_release_array(e);
        af_release_array(s);
        af_release_array(flat);
        af_release_array(lazy);
        af_release_array(a);
        CHECK(active_device() == dev); /* the active device never moves */
    }
    CHECK_AF(af_set_device(start));
}

TEST(multidev_copy_bad_input) {
    int n = device_count();
    const dim_t d[1] = {4};
    af_array a = NULL, dead = NULL;
    af_array out = (af_array)0x1;
    CHECK_AF(af_constant(&a, 1, 1, d, f32));
    CHECK_ERR(af_copy_array_to_device(NULL, a, 0), AF_ERR_ARG);
    CHECK_ERR(af_copy_array_to_device(&out, NULL, 0), AF_ERR_ARG);
    /* Device ids out of range are bad arguments, as for af_set_device. */
    CHECK_ERR(af_copy_array_to_device(&out, a, -1), AF_ERR_ARG);
    CHECK_ERR(af_copy_array_to_device(&out, a, n), AF_ERR_ARG);
    CHECK_ERR(af_copy_array_to_device(&out, a, 1 << 30), AF_ERR_ARG);
    CHECK(out == (af_array)0x1); /* no output on failure */
    CHECK_AF(af_constant(&dead, 1, 1, d, f32));
    CHECK_AF(af_release_array(dead));
    CHECK_ERR(af_copy_array_to_device(&out, dead, 0), AF_ERR_INVALID_ARRAY);
    CHECK(out == (af_array)0x1);
    af_release_array(a);
}

TEST(multidev_copy_between_devices) {
    need_devices(2);
    int n = device_count(), start = active_device();
    const dim_t dims[2] = {1 << 10, 1 << 10}; /* 4 MiB of f32 */
    const size_t bytes = (size_t)dims[0] * (size_t)dims[1] * sizeof(float);
    for (int s = 0; s < n; s++) {
        for (int t = 0; t < n; t++) {
            if (s == t) continue;
            /* Called from a third device when there is one, else from the source: the active
             * device plays no part in the copy. */
            int act = s;
            for (int d = 0; d < n && act == s; d++)
                if (d != s && d != t) act = d;
            CHECK_AF(af_set_device(t));
            CHECK_AF(af_device_gc());
            mem_snap t_before = mem_of(t);
            CHECK_AF(af_set_device(s));
            af_array a = NULL, lazy = NULL, b = NULL;
            CHECK_AF(af_constant(&a, 1.5, 2, dims, f32));
            CHECK_AF(af_add(&lazy, a, a, false)); /* lazy: evaluated on s by the copy */
            mem_snap s_before = mem_of(s);
            CHECK_AF(af_set_device(act));
            CHECK_AF(af_copy_array_to_device(&b, lazy, t));
            CHECK(active_device() == act);
            if (!b) {
                af_release_array(a);
                af_release_array(lazy);
                continue;
            }
            CHECK(device_of(b) == t);
            /* The destination's pool holds the copy; the source's holds the evaluated input. */
            mem_snap t_after = mem_of(t);
            CHECK(t_after.lock_buffers == t_before.lock_buffers + 1);
            CHECK(t_after.lock_bytes >= t_before.lock_bytes + bytes);
            CHECK(mem_of(s).lock_buffers == s_before.lock_buffers + 1);

            /* Ordering without host syncs: release the source at once, overwrite its block on
             * s (the pool hands the same block out again), and compute on t right away. The
             * copy must have read the old values, and the work on t must see the copy. */
            af_release_array(lazy);
            af_release_array(a);
            af_array junk = NULL, y = NULL;
            CHECK_AF(af_set_device(s));
            CHECK_AF(af_constant(&junk, -7, 2, dims, f32));
            CHECK_AF(af_eval(junk));
            CHECK_AF(af_set_device(t));
            CHECK_AF(af_mul(&y, b, b, false));
            CHECK_AF(af_eval(y));
            CHECK(all_equal_f32(b, 3.0f));
            if (y) CHECK(all_equal_f32(y, 9.0f));
            CHECK(all_equal_f32(junk, -7.0f));

            /* And back: a round trip keeps every byte. */
            af_array back = NULL;
            CHECK_AF(af_copy_array_to_device(&back, b, s));
            if (back) {
                CHECK(device_of(back) == s);
                CHECK(same_array(back, b));
            }
            af_release_array(back);
            af_release_array(junk);
            af_release_array(y);
            af_release_array(b);
        }
    }
    /* Every dtype, and empty arrays, between the first two devices. */
    const dim_t small[3] = {9, 4, 2};
    double x[72 * 2];
    em_test_fill(x, 72 * 2, -1000, 1000, true);
    CHECK_AF(af_set_device(0));
    for (int k = 0; k < EM_TEST_NUM_DTYPES; k++) {
        af_array a = em_test_make(x, 3, small, em_test_dtypes[k]), b = NULL;
        if (!a) continue;
        CHECK_AF(af_copy_array_to_device(&b, a, 1));
        if (b) {
            CHECK(device_of(b) == 1);
            CHECK(same_array(a, b));
        }
        af_release_array(a);
        af_release_array(b);
    }
    const dim_t zero[1] = {0};
    af_array e = NULL, eb = NULL;
    CHECK_AF(af_create_handle(&e, 1, zero, u8));
    CHECK_AF(af_copy_array_to_device(&eb, e, 1));
    if (eb) CHECK(device_of(eb) == 1 && same_array(e, eb));
    af_release_array(e);
    af_release_array(eb);
    CHECK_AF(af_set_device(start));
}

#if defined(EMBER_TEST_CUDART) && EMBER_TEST_CUDART

#include <af/cuda.h>
#include <cuda_runtime.h>

static void cuda_only(void) {
    if (em_test_backend() != AF_BACKEND_CUDA) SKIP("not the CUDA backend");
}

typedef struct {
    int dev;    /* Ember id this thread selects */
    int native; /* its CUDA ordinal */
    int cur;    /* cudaGetDevice after af_set_device */
    af_err err;
} cuda_thread;

static void *cuda_select_thread(void *arg) {
    cuda_thread *t = arg;
    t->err = af_set_device(t->dev);
    if (cudaGetDevice(&t->cur) != cudaSuccess) t->cur = -1;
    return NULL;
}

TEST(multidev_cuda_device_per_thread) {
    cuda_only();
    int n = device_count(), start = active_device(), start_native = -1, cur = -1;
    CHECK_AF(afcu_get_native_id(&start_native, start));
    CHECK(cudaGetDevice(&cur) == cudaSuccess);
    CHECK(cur == start_native);
    /* Each thread's af_set_device makes its CUDA device current on that thread alone. */
    for (int d = 0; d < n; d++) {
        cuda_thread t = {.dev = d, .native = -1, .cur = -2};
        CHECK_AF(afcu_get_native_id(&t.native, d));
        pthread_t th;
        CHECK(pthread_create(&th, NULL, cuda_select_thread, &t) == 0);
        pthread_join(th, NULL);
        CHECK(t.err == AF_SUCCESS);
        CHECK(t.cur == t.native);
        CHECK(cudaGetDevice(&cur) == cudaSuccess);
        CHECK(cur == start_native);
    }
    /* One library stream per device, each on its own device. */
    cudaStream_t seen[16] = {0};
    for (int d = 0; d < n && d < 16; d++) {
        CHECK_AF(afcu_get_stream(&seen[d], d));
        for (int e = 0; e < d; e++)
            CHECK(seen[e] != seen[d]);
#if CUDART_VERSION >= 12080
        int sd = -1, native = -1;
        CHECK_AF(afcu_get_native_id(&native, d));
        CHECK(cudaStreamGetDevice(seen[d], &sd) == cudaSuccess);
        CHECK(sd == native);
#endif
    }
    /* Asking for another device's stream, or copying between devices, leaves this thread's CUDA
     * device alone. */
    CHECK(cudaGetDevice(&cur) == cudaSuccess);
    CHECK(cur == start_native);
    if (n >= 2) {
        const dim_t d[1] = {1000};
        af_array a = NULL, b = NULL;
        CHECK_AF(af_set_device(0));
        CHECK_AF(af_constant(&a, 5, 1, d, f32));
        CHECK_AF(af_copy_array_to_device(&b, a, 1));
        int native0 = -1;
        CHECK_AF(afcu_get_native_id(&native0, 0));
        CHECK(cudaGetDevice(&cur) == cudaSuccess);
        CHECK(cur == native0);
        if (b) CHECK(all_equal_f32(b, 5.0f));
        af_release_array(a);
        af_release_array(b);
    }
    CHECK(cudaGetLastError() == cudaSuccess);
    CHECK_AF(af_set_device(start));
}

#endif
