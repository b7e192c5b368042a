/* Tests for the CUDA backend's interop contract (af/cuda.h and the lifetimes of device pointers
 * handed over with af_device_array, af_device_array_borrow and af_get_device_ptr), and for the
 * CUDA device order.
 *
 * The order is a pure function (src/backend/cuda/dev_order.h) checked on synthetic device lists,
 * so it runs on every machine. The other cases call the CUDA runtime: they are compiled when the
 * runner is linked with libcudart (EMBER_TEST_CUDART, set by tests/CMakeLists.txt when the CUDA
 * backend is built) and skip on any other backend. Frees are observed from outside Ember: a deleter
 * counts its calls, and cudaPointerGetAttributes tells whether a cudaMalloc'ed block is still
 * allocated. */
#include "test.h"

#include "../src/backend/cuda/dev_order.h"

#include <string.h>
#include <time.h>

/* ---- the device order, on synthetic lists ---- */

static em_cu_dev_desc desc(int native, int sms, int major, int minor, int clock_mhz,
                           size_t mem_gib) {
    em_cu_dev_desc d = {.native = native,
                        .sm_count = sms,
                        .major = major,
                        .minor = minor,
                        .clock_khz = clock_mhz * 1000,
                        .mem_bytes = mem_gib << 30};
    return d;
}

static void order_of(em_cu_dev_desc *list, int n, int *natives) {
    em_cu_dev_order(list, n);
    for (int i = 0; i < n; i++)
        natives[i] = list[i].native;
}

TEST(cuda_device_order) {
    int got[4];
    /* Throughput first: an H100 (132 SMs x 128 cores) before an A100 (108 x 64), whatever the
     * ordinals or memory. */
    em_cu_dev_desc a[3] = {desc(0, 108, 8, 0, 1410, 80), desc(1, 132, 9, 0, 1980, 80),
                           desc(2, 30, 7, 5, 1590, 16)};
    order_of(a, 3, got);
    CHECK(got[0] == 1 && got[1] == 0 && got[2] == 2);

    /* Equal throughput: more memory first, then the newer compute capability. */
    em_cu_dev_desc b[3] = {desc(0, 132, 9, 0, 1980, 80), desc(1, 132, 9, 0, 1980, 141),
                           desc(2, 132, 9, 0, 1980, 80)};
    order_of(b, 3, got);
    CHECK(got[0] == 1 && got[1] == 0 && got[2] == 2);
    /* sm_86 and sm_89 both count 128 cores per SM: with equal SMs, clock and memory, 8.9 first. */
    em_cu_dev_desc c[2] = {desc(0, 84, 8, 6, 1700, 24), desc(1, 84, 8, 9, 1700, 24)};
    order_of(c, 2, got);
    CHECK(got[0] == 1 && got[1] == 0);

    /* Identical devices keep CUDA's order, so ids match nvidia-smi's on a homogeneous machine. */
    em_cu_dev_desc d[4] = {desc(0, 132, 9, 0, 1980, 80), desc(1, 132, 9, 0, 1980, 80),
                           desc(2, 132, 9, 0, 1980, 80), desc(3, 132, 9, 0, 1980, 80)};
    order_of(d, 4, got);
    for (int i = 0; i < 4; i++)
        CHECK(got[i] == i);

    /* A faster device at a higher ordinal moves up; the rest keep their relative order. */
    em_cu_dev_desc e[4] = {desc(0, 80, 8, 0, 1410, 40), desc(1, 80, 8, 0, 1410, 40),
                           desc(2, 132, 9, 0, 1980, 80), desc(3, 80, 8, 0, 1410, 40)};
    order_of(e, 4, got);
    CHECK(got[0] == 2 && got[1] == 0 && got[2] == 1 && got[3] == 3);

    /* Cores per SM as ArrayFire counts them; an architecture newer than the table is not
     * ranked below every known one. */
    CHECK(em_cu_cores_per_sm(9, 0) == 128);
    CHECK(em_cu_cores_per_sm(8, 0) == 64);
    CHECK(em_cu_cores_per_sm(8, 6) == 128);
    CHECK(em_cu_cores_per_sm(7, 5) == 64);
    CHECK(em_cu_cores_per_sm(12, 0) == 128);
    em_cu_dev_desc f[2] = {desc(0, 108, 8, 0, 1410, 80), desc(1, 148, 10, 0, 1965, 180)};
    order_of(f, 2, got);
    CHECK(got[0] == 1 && got[1] == 0);

    /* One device and none are fine. */
    em_cu_dev_desc g[1] = {desc(5, 1, 9, 0, 1, 1)};
    order_of(g, 1, got);
    CHECK(got[0] == 5);
    em_cu_dev_order(g, 0);
}

#if defined(EMBER_TEST_CUDART) && EMBER_TEST_CUDART

#include <af/cuda.h>
#include <cuda_runtime.h>

static void cuda_only(void) {
    if (em_test_backend() != AF_BACKEND_CUDA) SKIP("not the CUDA backend");
}

static int cuda_device_count(void) {
    int n = 0;
    CHECK_AF(af_get_device_count(&n));
    return n;
}

/* True under compute-sanitizer (or another injected CUDA tool), whose allocator may keep a freed
 * block mapped or its memory counted for a while: the cases then skip the checks that observe a
 * free from outside, and keep the rest. */
static bool under_cuda_tool(void) {
    const char *inj = getenv("CUDA_INJECTION64_PATH");
    return inj && inj[0];
}

/* True while ptr is a live cudaMalloc block (a freed block reads as unregistered memory). */
static bool device_block_alive(const void *ptr) {
    struct cudaPointerAttributes attr;
    memset(&attr, 0, sizeof(attr));
    cudaError_t e = cudaPointerGetAttributes(&attr, ptr);
    if (e != cudaSuccess) {
        (void)cudaGetLastError();
        return false;
    }
    return attr.type == cudaMemoryTypeDevice;
}

/* A cudaMalloc'ed block of n floats on the active Ember device, filled with v. */
static float *user_block(int n, float v) {
    int dev = -1, native = -1;
    CHECK_AF(af_get_device(&dev));
    CHECK_AF(afcu_get_native_id(&native, dev));
    CHECK(cudaSetDevice(native) == cudaSuccess);
    float *p = NULL;
    CHECK(cudaMalloc((void **)&p, (size_t)n * sizeof(float)) == cudaSuccess);
    float *host = malloc((size_t)n * sizeof(float));
    for (int i = 0; i < n; i++)
        host[i] = v;
    CHECK(cudaMemcpy(p, host, (size_t)n * sizeof(float), cudaMemcpyHostToDevice) == cudaSuccess);
    free(host);
    return p;
}

static bool all_equal(af_array a, int n, float v) {
    float *host = malloc((size_t)n * sizeof(float));
    bool same = af_get_data_ptr(host, a) == AF_SUCCESS;
    for (int i = 0; same && i < n; i++)
        same = host[i] == v;
    free(host);
    return same;
}

typedef struct {
    int calls;
    void *ptr;
} release_log;

static void release_count(void *ptr, void *ctx) {
    release_log *log = ctx;
    log->calls++;
    log->ptr = ptr;
}

TEST(cuda_stream_per_device) {
    cuda_only();
    int n = cuda_device_count();
    for (int id = 0; id < n; id++) {
        cudaStream_t s = NULL, again = NULL;
        CHECK_AF(afcu_get_stream(&s, id));
        CHECK(s != NULL);
        CHECK_AF(afcu_get_stream(&again, id));
        CHECK(again == s);
        /* Blocking with respect to the legacy default stream, as ArrayFire's stream is, so a
         * user kernel on stream 0 stays ordered with Ember's work. */
        unsigned flags = 99;
        CHECK(cudaStreamGetFlags(s, &flags) == cudaSuccess);
        CHECK(flags == cudaStreamDefault);
    }
    cudaStream_t s;
    CHECK_ERR(afcu_get_stream(NULL, 0), AF_ERR_ARG);
    CHECK_ERR(afcu_get_stream(&s, -1), AF_ERR_ARG);
    CHECK_ERR(afcu_get_stream(&s, n), AF_ERR_ARG);
}

TEST(cuda_native_id_round_trip) {
    cuda_only();
    int n = cuda_device_count(), start = -1;
    CHECK_AF(af_get_device(&start));
    int cuda_n = 0;
    CHECK(cudaGetDeviceCount(&cuda_n) == cudaSuccess);
    CHECK(n >= 1 && n <= cuda_n);
    bool seen[64] = {false};
    for (int id = 0; id < n; id++) {
        int native = -1, back = -1, cur = -1;
        CHECK_AF(afcu_get_native_id(&native, id));
        CHECK(native >= 0 && native < cuda_n && native < 64);
        if (native < 0 || native >= 64) continue;
        CHECK(!seen[native]); /* a permutation of the ordinals */
        seen[native] = true;
        CHECK_AF(afcu_set_native_id(native));
        CHECK_AF(af_get_device(&back));
        CHECK(back == id);
        CHECK(cudaGetDevice(&cur) == cudaSuccess);
        CHECK(cur == native); /* the active device is the CUDA device on this thread */
    }
    int x;
    CHECK_ERR(afcu_get_native_id(NULL, 0), AF_ERR_ARG);
    CHECK_ERR(afcu_get_native_id(&x, -1), AF_ERR_ARG);
    CHECK_ERR(afcu_get_native_id(&x, n), AF_ERR_ARG);
    /* An unknown ordinal is an error and changes nothing: no silent fallback. */
    CHECK_AF(af_set_device(start));
    CHECK_ERR(afcu_set_native_id(-1), AF_ERR_ARG);
    CHECK_ERR(afcu_set_native_id(cuda_n), AF_ERR_ARG);
    CHECK_ERR(afcu_set_native_id(1 << 20), AF_ERR_ARG);
    int now = -1;
    CHECK_AF(af_get_device(&now));
    CHECK(now == start);
    CHECK_AF(afcu_cublasSetMathMode(CUBLAS_DEFAULT_MATH));
}

TEST(cuda_adopted_freed_once) {
    cuda_only();
    const int n = 16 << 20; /* 64 MiB, so that its free shows in cudaMemGetInfo */
    dim_t dims[1] = {n};
    float *p = user_block(n, 4.0f);
    af_array a = NULL, b = NULL;
    CHECK_AF(af_device_array(&a, p, 1, dims, f32));
    CHECK(all_equal(a, n, 4.0f));
    CHECK_AF(af_retain_array(&b, a));
    CHECK_AF(af_release_array(a));
    CHECK(device_block_alive(p)); /* b still refers to it */
    CHECK(all_equal(b, n, 4.0f));
    CHECK_AF(af_release_array(b));
    /* The last reference is gone: Ember freed the adopted block (with cudaFree). The check asks
     * the driver about this pointer only; free-memory deltas are not used, since other test
     * processes (ember_tests -j) share the GPU. */
    if (!under_cuda_tool()) CHECK(!device_block_alive(p));
}

TEST(cuda_adopted_unlock_then_release_frees_once) {
    cuda_only();
    const int n = 64;
    dim_t dims[1] = {n};
    float *p = user_block(n, 1.0f);
    af_array a = NULL;
    CHECK_AF(af_device_array(&a, p, 1, dims, f32));
    CHECK_AF(af_lock_array(a));
    bool locked = false;
    CHECK_AF(af_is_locked_array(&locked, a));
    CHECK(locked);
    /* ArrayFire's trap: unlocking an adopted pointer while the array lives, then releasing it.
     * Ember frees it exactly once. */
    CHECK_AF(af_unlock_array(a));
    CHECK_AF(af_release_array(a));
    if (!under_cuda_tool()) CHECK(!device_block_alive(p));
    /* Nothing else was freed by mistake: the library still works. */
    af_array c = NULL;
    CHECK_AF(af_constant(&c, 2, 1, dims, f32));
    CHECK(all_equal(c, n, 2.0f));
    af_release_array(c);
    CHECK(cudaGetLastError() == cudaSuccess);
}

TEST(cuda_locked_pointer_never_freed) {
    cuda_only();
    const int n = 256;
    dim_t dims[1] = {n};
    float *p = user_block(n, 7.0f);
    af_array a = NULL, s = NULL;
    CHECK_AF(af_device_array(&a, p, 1, dims, f32));
    CHECK_AF(af_lock_array(a));
    CHECK_AF(af_copy_array(&s, a)); /* Ember work that reads the block */
    CHECK(all_equal(s, n, 7.0f));
    CHECK_AF(af_release_array(a));
    CHECK_AF(af_release_array(s));
    CHECK_AF(af_device_gc());
    CHECK_AF(af_sync(-1));
    /* The user keeps the block: it is allocated, holds its values, and the user's cudaFree is
     * the only one. */
    CHECK(device_block_alive(p));
    float host[4] = {0};
    CHECK(cudaMemcpy(host, p, sizeof(host), cudaMemcpyDeviceToHost) == cudaSuccess);
    CHECK(host[0] == 7.0f && host[3] == 7.0f);
    CHECK(cudaFree(p) == cudaSuccess);
}

TEST(cuda_borrowed_pointer_deleter_once) {
    cuda_only();
    const int n = 128;
    dim_t dims[2] = {16, 8};
    float *p = user_block(n, 3.0f);
    release_log log = {0};
    af_array a = NULL, b = NULL;
    CHECK_AF(af_device_array_borrow(&a, p, 2, dims, f32, release_count, &log));
    CHECK_AF(af_retain_array(&b, a));
    CHECK(all_equal(a, n, 3.0f));
    CHECK_AF(af_release_array(a));
    CHECK(log.calls == 0);
    CHECK_AF(af_release_array(b));
    CHECK(log.calls == 1);
    CHECK(log.ptr == p);
    /* The deleter is the owner's word that Ember is done; Ember itself never freed the block. */
    CHECK(device_block_alive(p));

    /* Borrowed without a deleter: never freed by Ember. */
    af_array c = NULL;
    CHECK_AF(af_device_array_borrow(&c, p, 2, dims, f32, NULL, NULL));
    CHECK(all_equal(c, n, 3.0f));
    CHECK_AF(af_release_array(c));
    CHECK_AF(af_device_gc());
    CHECK(device_block_alive(p));
    CHECK(cudaFree(p) == cudaSuccess);
    CHECK(log.calls == 1);
}

/* Holds Ember's stream from the host side: a host function that sleeps 50 ms. */
static void CUDART_CB hold_stream(void *unused) {
    (void)unused;
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
}

typedef struct {
    int calls;
    cudaStream_t stream;
    cudaError_t state; /* cudaStreamQuery of Ember's stream when the deleter ran */
} busy_log;

static void release_check_idle(void *ptr, void *ctx) {
    (void)ptr;
    busy_log *log = ctx;
    log->calls++;
    log->state = cudaStreamQuery(log->stream);
}

/* The deleter runs only after Ember's queued work on the buffer is done, even when the release
 * comes while that work is still held up; and a release with nothing queued still calls it once. */
TEST(cuda_deleter_waits_for_queued_work) {
    cuda_only();
    const int n = 1024;
    dim_t dims[1] = {n};
    float *p = user_block(n, 2.0f);
    busy_log log = {0};
    CHECK_AF(afcu_get_stream(&log.stream, 0));
    CHECK_AF(af_sync(-1));
    af_array a = NULL, b = NULL;
    CHECK_AF(af_device_array_borrow(&a, p, 1, dims, f32, release_check_idle, &log));
    CHECK(cudaLaunchHostFunc(log.stream, hold_stream, NULL) == cudaSuccess);
    CHECK_AF(af_mul(&b, a, a, false));
    CHECK_AF(af_eval(b)); /* queued behind the sleeping host function */
    CHECK_AF(af_release_array(a));
    CHECK(log.calls == 1);
    CHECK(log.state == cudaSuccess); /* the stream had drained before the deleter ran */
    CHECK(all_equal(b, n, 4.0f));
    CHECK_AF(af_release_array(b));

    /* Nothing queued since the last sync: the deleter still runs exactly once. */
    af_array c = NULL;
    busy_log idle = {0};
    idle.stream = log.stream;
    CHECK_AF(af_device_array_borrow(&c, p, 1, dims, f32, release_check_idle, &idle));
    CHECK_AF(af_release_array(c));
    CHECK(idle.calls == 1);
    CHECK(idle.state == cudaSuccess);
    CHECK(cudaFree(p) == cudaSuccess);
}

TEST(cuda_device_ptr_of_shared_buffer_copies) {
    cuda_only();
    const int n = 12;
    float host[12];
    for (int i = 0; i < n; i++)
        host[i] = (float)i;
    dim_t dims[1] = {n}, dims2[2] = {4, 3};
    af_array parent = NULL, view = NULL;
    CHECK_AF(af_create_array(&parent, host, 1, dims, f32));
    /* moddims shares the parent's buffer. */
    CHECK_AF(af_moddims(&view, parent, 2, dims2));
    void *pv = NULL, *pp = NULL;
    CHECK_AF(af_get_device_ptr(&pv, view));
    CHECK(pv != NULL);
    CHECK(cudaMemset(pv, 0, n * sizeof(float)) == cudaSuccess);
    /* The write went to the view's own copy: the parent is untouched. */
    float got[12];
    CHECK_AF(af_get_data_ptr(got, parent));
    for (int i = 0; i < n; i++)
        CHECK(got[i] == (float)i);
    CHECK_AF(af_get_data_ptr(got, view));
    for (int i = 0; i < n; i++)
        CHECK(got[i] == 0.0f);
    CHECK_AF(af_get_device_ptr(&pp, parent));
    CHECK(pp != pv);
    bool locked = false;
    CHECK_AF(af_is_locked_array(&locked, view));
    CHECK(locked);
    CHECK_AF(af_unlock_array(view));
    CHECK_AF(af_unlock_array(parent));
    af_release_array(view);
    af_release_array(parent);
}

TEST(cuda_user_kernel_on_default_stream_is_ordered) {
    cuda_only();
    /* Ember's stream blocks with the legacy default stream: a copy the user enqueues on stream 0
     * waits for Ember's queued work and Ember's next work waits for it, with no explicit sync. */
    const int n = 1 << 20;
    dim_t dims[1] = {n};
    af_array a = NULL;
    CHECK_AF(af_constant(&a, 5, 1, dims, f32));
    float *pa = NULL;
    CHECK_AF(af_get_device_ptr((void **)&pa, a));
    float *mine = NULL;
    CHECK(cudaMalloc((void **)&mine, n * sizeof(float)) == cudaSuccess);
    CHECK(cudaMemcpyAsync(mine, pa, n * sizeof(float), cudaMemcpyDeviceToDevice, 0) == cudaSuccess);
    CHECK(cudaMemsetAsync(pa, 0, n * sizeof(float), 0) == cudaSuccess);
    CHECK_AF(af_unlock_array(a));
    CHECK(all_equal(a, n, 0.0f));
    float host[2];
    CHECK(cudaMemcpy(host, mine + n - 2, sizeof(host), cudaMemcpyDeviceToHost) == cudaSuccess);
    CHECK(host[0] == 5.0f && host[1] == 5.0f);
    CHECK(cudaFree(mine) == cudaSuccess);
    af_release_array(a);
}

TEST(cuda_stream_extensions) {
    cuda_only();
    int dev = -1;
    CHECK_AF(af_get_device(&dev));
    cudaStream_t own = NULL, mine = NULL, now = NULL;
    CHECK_AF(afcu_get_stream(&own, dev));
    CHECK(cudaStreamCreateWithFlags(&mine, cudaStreamNonBlocking) == cudaSuccess);

    /* Ember on the caller's stream, then back on its own. */
    const int n = 4096;
    dim_t dims[1] = {n};
    CHECK_AF(afcu_set_stream(dev, mine));
    CHECK_AF(afcu_get_stream(&now, dev));
    CHECK(now == mine);
    af_array a = NULL;
    CHECK_AF(af_constant(&a, 6, 1, dims, f32));
    CHECK_AF(af_eval(a));
    CHECK(all_equal(a, n, 6.0f));
    CHECK_AF(afcu_set_stream(dev, NULL));
    CHECK_AF(afcu_get_stream(&now, dev));
    CHECK(now == own);

    /* Ordering without a host wait, both ways. */
    float *pa = NULL;
    CHECK_AF(af_get_device_ptr((void **)&pa, a));
    CHECK_AF(afcu_signal_stream(dev, mine)); /* mine waits for Ember's work */
    CHECK(cudaMemsetAsync(pa, 0, n * sizeof(float), mine) == cudaSuccess);
    CHECK_AF(afcu_wait_stream(dev, mine)); /* Ember waits for mine */
    CHECK_AF(af_unlock_array(a));
    CHECK(all_equal(a, n, 0.0f));
    af_release_array(a);
    CHECK_ERR(afcu_set_stream(-1, NULL), AF_ERR_ARG);
    CHECK_ERR(afcu_wait_stream(cuda_device_count(), mine), AF_ERR_ARG);
    CHECK_ERR(afcu_signal_stream(-1, mine), AF_ERR_ARG);
    CHECK(cudaStreamSynchronize(mine) == cudaSuccess);
    CHECK(cudaStreamDestroy(mine) == cudaSuccess); /* Ember never destroyed it */
}

TEST(cuda_out_of_memory_is_an_error) {
    cuda_only();
    /* Far more than any GPU has: AF_ERR_NO_MEM with a message, and the library stays usable. */
    void *p = NULL;
    CHECK_ERR(af_alloc_device_v2(&p, (dim_t)1 << 50), AF_ERR_NO_MEM);
    CHECK(p == NULL);
    CHECK(cudaGetLastError() == cudaSuccess); /* Ember left no error behind for the user */
    dim_t dims[1] = {16};
    af_array a = NULL;
    CHECK_AF(af_constant(&a, 1, 1, dims, f32));
    CHECK(all_equal(a, 16, 1.0f));
    af_release_array(a);
}

#else

/* A runner without libcudart cannot check CUDA lifetimes: say so where the CUDA cases would run,
 * rather than pass in silence. */
TEST(cuda_interop_cases_built) {
    if (em_test_backend() != AF_BACKEND_CUDA) SKIP("not the CUDA backend");
    SKIP("the runner is not linked with libcudart (EMBER_TEST_CUDART): CUDA interop cases not "
         "built");
}

#endif
