// Ember on the application's own CUDA stream, with no host synchronisation between the
// application's kernels and Ember's work.
//
//   1. afcu_set_stream(dev, s) makes Ember enqueue everything for the device on the application's
//      stream s. The application fills a buffer on s, wraps it with af_device_array_borrow (no
//      deleter: the buffer stays the application's), Ember computes y = 2x + 1 lazily and
//      af_eval enqueues the fused kernel on s, af_get_device_ptr hands y's buffer back, and the
//      application's next kernel (y *= 3) and its copy to pinned host memory follow on s. The
//      program synchronises once, at the end. The pass runs twice: the first loads every kernel
//      (CUDA loads modules lazily, and loading can wait for running kernels); the second starts
//      with a ~200 ms spin kernel on s and checks that s is still busy after all of Ember's calls
//      returned, which shows that none of them waited on the host.
//   2. With Ember back on its own stream (afcu_set_stream(dev, NULL)), a second application
//      stream u is ordered against Ember explicitly: afcu_wait_stream makes Ember wait for u's
//      work, afcu_signal_stream makes u wait for Ember's. A spin kernel delays u's fill, so a
//      missing wait would let Ember read the buffer before it is filled.
//   3. afcu_wait_stream and afcu_signal_stream do not block the host: with a ~200 ms spin
//      kernel running on u, each must return in well under a millisecond, u must still be busy
//      right after, and af_sync must then take about the rest of the spin (Ember's stream waits
//      for it).
// The application creates and destroys its streams; Ember never destroys them. Every value is
// checked; the program exits non-zero when one is wrong, or 77 (skipped) without a CUDA device.
#include <arrayfire.h>
#include <af/cuda.h>
#include <cuda_runtime.h>
#include <stdio.h>
#include <time.h>

#define N             (1 << 16)
#define SPIN_NS       200000000ull /* the long spin kernel: 200 ms */
#define HOST_LIMIT_MS 1.0          /* "well under a millisecond": a call over this fails */

static int failed = 0;

// Busy-waits on the GPU for `ns` nanoseconds of the global timer (wall-clock time, unlike clock64,
// which counts cycles of a clock whose rate varies).
__global__ void spin_kernel(unsigned long long ns) {
    unsigned long long start, now;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(start));
    do {
        asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(now));
    } while (now - start < ns);
}

__global__ void fill_kernel(float *p, float base, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) p[i] = base + (float)i;
}

__global__ void scale_kernel(float *p, float k, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) p[i] *= k;
}

static bool ok(af_err e, const char *what) {
    if (e == AF_SUCCESS) return true;
    char *msg = NULL;
    dim_t len = 0;
    af_get_last_error(&msg, &len);
    fprintf(stderr, "user_stream: %s failed: error %d: %s\n", what, (int)e, msg ? msg : "");
    af_free_host(msg);
    failed = 1;
    return false;
}

static bool cuda_ok(cudaError_t e, const char *what) {
    if (e == cudaSuccess) return true;
    fprintf(stderr, "user_stream: %s failed: %s\n", what, cudaGetErrorString(e));
    failed = 1;
    return false;
}

static bool check(bool cond, const char *what) {
    if (!cond) {
        fprintf(stderr, "user_stream: %s\n", what);
        failed = 1;
    }
    return cond;
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + 1e-6 * (double)ts.tv_nsec;
}

// True when the stream still has work running or queued. cudaStreamQuery answers
// cudaErrorNotReady then, which is not an error: it is cleared so that later checks of
// cudaGetLastError see only real failures.
static bool stream_busy(cudaStream_t s) {
    cudaError_t e = cudaStreamQuery(s);
    (void)cudaGetLastError();
    if (e != cudaSuccess && e != cudaErrorNotReady) cuda_ok(e, "cudaStreamQuery");
    return e == cudaErrorNotReady;
}

// Checks host[i] == k * (2 * (base + i) + 1) for every i.
static bool check_values(const float *host, float base, float k, const char *what) {
    for (int i = 0; i < N; i++) {
        float want = k * (2.0f * (base + (float)i) + 1.0f);
        if (host[i] != want) {
            fprintf(stderr, "user_stream: %s: element %d is %g, expected %g\n", what, i, host[i],
                    want);
            failed = 1;
            return false;
        }
    }
    printf("user_stream: %s: all %d elements correct\n", what, N);
    return true;
}

// y = 2x + 1, built lazily: af_constant makes no buffer, and the three nodes become one kernel at
// af_eval. The intermediate array is released at once; y's tree keeps what it needs.
static bool ember_affine(af_array x, af_array *y) {
    dim_t dims[1] = {N};
    af_array two = 0, one = 0, t = 0;
    bool good = ok(af_constant(&two, 2.0, 1, dims, f32), "af_constant(2)") &&
                ok(af_constant(&one, 1.0, 1, dims, f32), "af_constant(1)") &&
                ok(af_mul(&t, x, two, false), "af_mul") && ok(af_add(y, t, one, false), "af_add");
    af_release_array(two);
    af_release_array(one);
    af_release_array(t);
    return good;
}

// Part 1, one pass: everything on the application's stream s, one host synchronisation at the end.
// With `spin` the pass starts with the long spin kernel and checks that the host never waited.
static void pass_on_user_stream(cudaStream_t s, float *d_x, float *pinned, float base, bool spin) {
    const char *what = spin ? "user stream, after a 200 ms spin" : "user stream, first pass";
    af_array x = 0, y = 0;
    float *d_y = NULL;
    dim_t dims[1] = {N};
    const int blocks = (N + 255) / 256;

    // Before the pass: the buffer holds zeros, so reading it too early shows as wrong values.
    if (!cuda_ok(cudaMemsetAsync(d_x, 0, N * sizeof(float), s), "cudaMemsetAsync") ||
        !cuda_ok(cudaStreamSynchronize(s), "cudaStreamSynchronize(before the pass)"))
        return;

    // The first pass launches the spin kernel with no delay, so that it is loaded too.
    double t0 = now_ms();
    spin_kernel<<<1, 1, 0, s>>>(spin ? SPIN_NS : 0);
    fill_kernel<<<blocks, 256, 0, s>>>(d_x, base, N);
    if (!cuda_ok(cudaGetLastError(), "launching fill_kernel")) return;

    // The application's buffer as an Ember array. Borrowed (no deleter): Ember never frees it,
    // and the array may be released as soon as the work that reads it is queued.
    if (!ok(af_device_array_borrow(&x, d_x, 1, dims, f32, NULL, NULL), "af_device_array_borrow"))
        goto done;
    // Ember's work enqueues on s, after fill_kernel: no synchronisation needed.
    if (!ember_affine(x, &y) || !ok(af_eval(y), "af_eval(y)")) goto done;
    // y's buffer, locked for the application; valid in stream order on s.
    if (!ok(af_get_device_ptr((void **)&d_y, y), "af_get_device_ptr(y)")) goto done;
    scale_kernel<<<blocks, 256, 0, s>>>(d_y, 3.0f, N);
    if (!cuda_ok(cudaGetLastError(), "launching scale_kernel") ||
        !cuda_ok(cudaMemcpyAsync(pinned, d_y, N * sizeof(float), cudaMemcpyDeviceToHost, s),
                 "cudaMemcpyAsync(y)"))
        goto done;
    if (spin) {
        // Everything is queued. Had any call waited for the stream, the spin would be over.
        double queued = now_ms() - t0;
        bool busy = stream_busy(s);
        printf("user_stream: all calls queued in %.3f ms; stream still running the spin: %s\n",
               queued, busy ? "yes" : "NO");
        check(busy, "the user stream was idle after Ember's calls: one of them blocked the host");
    }

    // The one host synchronisation of the pass.
    if (!cuda_ok(cudaStreamSynchronize(s), "cudaStreamSynchronize(s)")) goto done;
    if (!check_values(pinned, base, 3.0f, what)) goto done;

    // The pointer goes back to Ember, which then sees the application's update.
    if (!ok(af_unlock_array(y), "af_unlock_array(y)") ||
        !ok(af_get_data_ptr(pinned, y), "af_get_data_ptr(y)"))
        goto done;
    check_values(pinned, base, 3.0f,
                 spin ? "read back by Ember after the spin pass"
                      : "read back by Ember after the first pass");
done:
    af_release_array(x);
    af_release_array(y);
}

// Part 1: Ember on the application's stream.
static void on_user_stream(int dev, cudaStream_t s, float *d_x, float *pinned) {
    cudaStream_t cur = NULL;
    if (!ok(afcu_set_stream(dev, s), "afcu_set_stream(dev, s)")) return;
    if (ok(afcu_get_stream(&cur, dev), "afcu_get_stream"))
        check(cur == s, "afcu_get_stream does not return the stream afcu_set_stream installed");
    pass_on_user_stream(s, d_x, pinned, 1.0f, false);
    pass_on_user_stream(s, d_x, pinned, 1000.0f, true);
    // Back to Ember's own stream; the work queued on s stays ordered before Ember's next work.
    if (ok(afcu_set_stream(dev, NULL), "afcu_set_stream(dev, NULL)") &&
        ok(afcu_get_stream(&cur, dev), "afcu_get_stream"))
        check(cur != s, "after afcu_set_stream(dev, NULL) Ember still uses the user's stream");
}

// Part 2: Ember on its own stream, ordered against the application's stream u by events.
static void ordered_by_events(int dev, cudaStream_t u, float *d_x, float *pinned) {
    af_array a = 0, b = 0;
    float *d_b = NULL;
    dim_t dims[1] = {N};
    const int blocks = (N + 255) / 256;
    const float base = 7.0f;

    if (!cuda_ok(cudaMemsetAsync(d_x, 0, N * sizeof(float), u), "cudaMemsetAsync") ||
        !cuda_ok(cudaStreamSynchronize(u), "cudaStreamSynchronize(before part 2)"))
        return;
    // The application's work on u: a delay, then the fill.
    spin_kernel<<<1, 1, 0, u>>>(SPIN_NS / 4);
    fill_kernel<<<blocks, 256, 0, u>>>(d_x, base, N);
    if (!cuda_ok(cudaGetLastError(), "launching fill_kernel on u")) return;

    // Ember's stream waits for the fill (an event; the host goes on).
    if (!ok(afcu_wait_stream(dev, u), "afcu_wait_stream") ||
        !ok(af_device_array_borrow(&a, d_x, 1, dims, f32, NULL, NULL),
            "af_device_array_borrow(a)") ||
        !ember_affine(a, &b) || !ok(af_eval(b), "af_eval(b)") ||
        !ok(af_get_device_ptr((void **)&d_b, b), "af_get_device_ptr(b)"))
        goto done;
    // u waits for Ember's work so far, which includes computing b.
    if (!ok(afcu_signal_stream(dev, u), "afcu_signal_stream")) goto done;
    scale_kernel<<<blocks, 256, 0, u>>>(d_b, 5.0f, N);
    if (!cuda_ok(cudaGetLastError(), "launching scale_kernel on u") ||
        !cuda_ok(cudaMemcpyAsync(pinned, d_b, N * sizeof(float), cudaMemcpyDeviceToHost, u),
                 "cudaMemcpyAsync(b)"))
        goto done;
    // Ember's later work on b (the read below) waits for the application's scale_kernel.
    if (!ok(afcu_wait_stream(dev, u), "afcu_wait_stream (after scale_kernel)")) goto done;
    if (!cuda_ok(cudaStreamSynchronize(u), "cudaStreamSynchronize(u)") ||
        !check_values(pinned, base, 5.0f, "own stream + wait/signal events"))
        goto done;
    if (!ok(af_unlock_array(b), "af_unlock_array(b)") ||
        !ok(af_get_data_ptr(pinned, b), "af_get_data_ptr(b)"))
        goto done;
    check_values(pinned, base, 5.0f, "read back by Ember after wait/signal");
done:
    af_release_array(a);
    af_release_array(b);
}

// Part 3: afcu_wait_stream and afcu_signal_stream return at once while u is busy.
static void hand_offs_do_not_block(int dev, cudaStream_t u) {
    // Warm: the first calls of a kind may initialise things in the runtime.
    if (!ok(afcu_wait_stream(dev, u), "afcu_wait_stream (warm-up)") ||
        !ok(afcu_signal_stream(dev, u), "afcu_signal_stream (warm-up)") ||
        !cuda_ok(cudaStreamSynchronize(u), "cudaStreamSynchronize(u)") ||
        !ok(af_sync(dev), "af_sync"))
        return;

    spin_kernel<<<1, 1, 0, u>>>(SPIN_NS);
    if (!cuda_ok(cudaGetLastError(), "launching spin_kernel on u")) return;
    double t0 = now_ms();
    bool waited = ok(afcu_wait_stream(dev, u), "afcu_wait_stream");
    double t1 = now_ms();
    bool signalled = ok(afcu_signal_stream(dev, u), "afcu_signal_stream");
    double t2 = now_ms();
    bool busy = stream_busy(u);
    if (!waited || !signalled) return;
    printf("user_stream: host time of afcu_wait_stream %.4f ms, afcu_signal_stream %.4f ms "
           "(limit %.1f ms each); user stream still busy right after: %s\n",
           t1 - t0, t2 - t1, HOST_LIMIT_MS, busy ? "yes" : "NO");
    check(t1 - t0 < HOST_LIMIT_MS, "afcu_wait_stream took over the limit: it blocked the host");
    check(t2 - t1 < HOST_LIMIT_MS, "afcu_signal_stream took over the limit: it blocked the host");
    check(busy, "the user stream was idle right after the calls: they waited for the spin kernel");

    // Ember's stream now waits for the spin, so af_sync takes about the rest of it.
    double t3 = now_ms();
    if (!ok(af_sync(dev), "af_sync")) return;
    double synced = now_ms() - t3;
    printf("user_stream: af_sync then waited %.1f ms for the user's spin kernel\n", synced);
    check(synced > 50.0, "af_sync returned early: Ember's stream did not wait for the user stream");
    cuda_ok(cudaStreamSynchronize(u), "cudaStreamSynchronize(u)");
}

static int run(void) {
    cudaStream_t s = NULL, u = NULL;
    float *d_x = NULL, *pinned = NULL;
    int native = 0, dev = -1;

    // Ember works on the application's device: the CUDA device current on this thread.
    if (!cuda_ok(cudaGetDevice(&native), "cudaGetDevice") ||
        !ok(afcu_set_native_id(native), "afcu_set_native_id") ||
        !ok(af_get_device(&dev), "af_get_device") || !ok(af_info(), "af_info"))
        goto done;
    // Non-blocking: the application's streams are not ordered with the legacy default stream
    // (nor with Ember's own stream, which is); only the calls shown here order them.
    if (!cuda_ok(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), "cudaStreamCreate(s)") ||
        !cuda_ok(cudaStreamCreateWithFlags(&u, cudaStreamNonBlocking), "cudaStreamCreate(u)") ||
        !cuda_ok(cudaMalloc((void **)&d_x, N * sizeof(float)), "cudaMalloc") ||
        !cuda_ok(cudaMallocHost((void **)&pinned, N * sizeof(float)), "cudaMallocHost"))
        goto done;

    on_user_stream(dev, s, d_x, pinned);
    ordered_by_events(dev, u, d_x, pinned);
    hand_offs_do_not_block(dev, u);

done:
    // Ember must be off the application's stream before the stream goes away, and done with the
    // borrowed buffer before it is freed.
    if (dev >= 0) {
        ok(afcu_set_stream(dev, NULL), "afcu_set_stream(dev, NULL)");
        ok(af_sync(dev), "af_sync");
    }
    if (s) cuda_ok(cudaStreamSynchronize(s), "cudaStreamSynchronize(s)");
    if (u) cuda_ok(cudaStreamSynchronize(u), "cudaStreamSynchronize(u)");
    // The application's streams and memory are its own to destroy and free.
    if (s) cuda_ok(cudaStreamDestroy(s), "cudaStreamDestroy(s)");
    if (u) cuda_ok(cudaStreamDestroy(u), "cudaStreamDestroy(u)");
    if (d_x) cuda_ok(cudaFree(d_x), "cudaFree");
    if (pinned) cuda_ok(cudaFreeHost(pinned), "cudaFreeHost");
    // Ember still works after the streams it was lent are gone.
    if (dev >= 0) {
        af_array z = 0;
        dim_t one[1] = {1};
        float v = 0;
        if (ok(af_constant(&z, 4.0, 1, one, f32), "af_constant") &&
            ok(af_get_data_ptr(&v, z), "af_get_data_ptr"))
            check(v == 4.0f, "Ember gave a wrong value after the user's streams were destroyed");
        af_release_array(z);
    }
    return failed;
}

int main(void) {
    int count = 0;
    if (af_get_device_count(&count) != AF_SUCCESS || count < 1) {
        printf("user_stream: no CUDA device, skipped\n");
        return 77;
    }
    int status = run();
    printf(status ? "user_stream: FAILED\n" : "user_stream: all checks passed\n");
    return status;
}
