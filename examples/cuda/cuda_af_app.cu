// The seed's second interop program, in C: adding Ember to an existing CUDA application, in the
// seed's seven steps.
//   1. The application's own CUDA work (cudaMalloc and a kernel on its own stream) is finished.
//   2. Ember arrays are made from the application's device pointers (af_device_array), and locked
//      (af_lock_array) so that Ember never frees memory the application still owns.
//   3. Ember computes on them: o = (x + y)^2, lazily, as one fused kernel.
//   4. af_eval and af_sync: Ember's work is done.
//   5. af_get_device_ptr gives the result's device pointer (locked for the application).
//   6. The application's CUDA continues on it: its kernel adds 1, on Ember's stream, so it is
//      ordered after Ember's work with no host synchronisation.
//   7. The pointer goes back to Ember (af_unlock_array), the arrays are released, and the
//      application frees the memory it allocated itself.
// Every value is checked; the program exits non-zero when one is wrong, or 77 (skipped) without
// a CUDA device.
#include <arrayfire.h>
#include <af/cuda.h>
#include <cuda_runtime.h>
#include <stdio.h>

#define N 10

__global__ void fill_kernel(float *p, float v, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) p[i] = v;
}

__global__ void add_one_kernel(float *p, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) p[i] += 1.0f;
}

static int failed = 0;

static bool ok(af_err e, const char *what) {
    if (e == AF_SUCCESS) return true;
    char *msg = NULL;
    dim_t len = 0;
    af_get_last_error(&msg, &len);
    fprintf(stderr, "cuda_af_app: %s failed: error %d: %s\n", what, (int)e, msg ? msg : "");
    af_free_host(msg);
    failed = 1;
    return false;
}

static bool cuda_ok(cudaError_t e, const char *what) {
    if (e == cudaSuccess) return true;
    fprintf(stderr, "cuda_af_app: %s failed: %s\n", what, cudaGetErrorString(e));
    failed = 1;
    return false;
}

static bool check_all(const float *host, float want, const char *what) {
    for (int i = 0; i < N; i++) {
        if (host[i] != want) {
            fprintf(stderr, "cuda_af_app: %s[%d] = %g, expected %g\n", what, i, host[i], want);
            failed = 1;
            return false;
        }
    }
    printf("cuda_af_app: %s = %g in all %d elements\n", what, want, N);
    return true;
}

static int run(void) {
    float *in_x = NULL, *in_y = NULL, *d_o = NULL;
    cudaStream_t app = NULL, ember = NULL;
    af_array x = 0, y = 0, sum = 0, o = 0;
    dim_t dims[1] = {N};
    int native = 0, dev = -1;
    float host[N];

    // Ember works on the application's device: the CUDA device current on this thread.
    if (!cuda_ok(cudaGetDevice(&native), "cudaGetDevice") ||
        !ok(afcu_set_native_id(native), "afcu_set_native_id") ||
        !ok(af_get_device(&dev), "af_get_device") || !ok(af_info(), "af_info"))
        goto done;

    // Step 1: the application's own memory and work, then finish it.
    if (!cuda_ok(cudaStreamCreateWithFlags(&app, cudaStreamNonBlocking), "cudaStreamCreate") ||
        !cuda_ok(cudaMalloc((void **)&in_x, N * sizeof(float)), "cudaMalloc(x)") ||
        !cuda_ok(cudaMalloc((void **)&in_y, N * sizeof(float)), "cudaMalloc(y)"))
        goto done;
    fill_kernel<<<1, 32, 0, app>>>(in_x, 1.0f, N);
    fill_kernel<<<1, 32, 0, app>>>(in_y, 2.0f, N);
    if (!cuda_ok(cudaGetLastError(), "fill_kernel") ||
        !cuda_ok(cudaStreamSynchronize(app), "cudaStreamSynchronize(app)"))
        goto done;

    // Step 2: Ember arrays over the application's pointers. af_device_array adopts a pointer
    // (Ember would free it with cudaFree at the last release); the lock keeps it the
    // application's, so it frees them itself in step 7.
    if (!ok(af_device_array(&x, in_x, 1, dims, f32), "af_device_array(x)") ||
        !ok(af_lock_array(x), "af_lock_array(x)") ||
        !ok(af_device_array(&y, in_y, 1, dims, f32), "af_device_array(y)") ||
        !ok(af_lock_array(y), "af_lock_array(y)"))
        goto done;

    // Step 3: Ember's operations (lazy until step 4).
    if (!ok(af_add(&sum, x, y, false), "af_add") || !ok(af_mul(&o, sum, sum, false), "af_mul"))
        goto done;

    // Step 4: evaluate and wait.
    if (!ok(af_eval(o), "af_eval") || !ok(af_sync(dev), "af_sync")) goto done;
    if (!ok(af_get_data_ptr(host, o), "af_get_data_ptr(o)") || !check_all(host, 9.0f, "(x + y)^2"))
        goto done;

    // Step 5: the result's device pointer, locked for the application.
    if (!ok(af_get_device_ptr((void **)&d_o, o), "af_get_device_ptr(o)") ||
        !ok(afcu_get_stream(&ember, dev), "afcu_get_stream"))
        goto done;

    // Step 6: the application continues on Ember's stream: ordered after Ember's work, and
    // Ember's later work (the read below) is ordered after it.
    add_one_kernel<<<1, 32, 0, ember>>>(d_o, N);
    if (!cuda_ok(cudaGetLastError(), "add_one_kernel")) goto done;
    if (!cuda_ok(cudaMemcpyAsync(host, d_o, sizeof(host), cudaMemcpyDeviceToHost, ember),
                 "cudaMemcpyAsync") ||
        !cuda_ok(cudaStreamSynchronize(ember), "cudaStreamSynchronize(ember)") ||
        !check_all(host, 10.0f, "(x + y)^2 + 1 read by the application"))
        goto done;

    // Step 7: hand the pointer back to Ember; Ember sees the application's update.
    if (!ok(af_unlock_array(o), "af_unlock_array(o)")) goto done;
    if (!ok(af_get_data_ptr(host, o), "af_get_data_ptr(o)") ||
        !check_all(host, 10.0f, "(x + y)^2 + 1 read by Ember"))
        goto done;

done:
    af_release_array(sum);
    af_release_array(o);
    // The inputs were locked: releasing them leaves the memory to the application.
    af_release_array(x);
    af_release_array(y);
    if (dev >= 0) ok(af_sync(dev), "af_sync");
    // The application's memory is still its own and still allocated: reading it works, and its
    // cudaFree is the only one (Ember never freed it).
    if (in_x && cuda_ok(cudaMemcpy(host, in_x, sizeof(host), cudaMemcpyDeviceToHost),
                        "reading x after release"))
        check_all(host, 1.0f, "x after Ember released it");
    if (in_x) cuda_ok(cudaFree(in_x), "cudaFree(x)");
    if (in_y) cuda_ok(cudaFree(in_y), "cudaFree(y)");
    if (app) cudaStreamDestroy(app);
    return failed;
}

int main(void) {
    int count = 0;
    if (af_get_device_count(&count) != AF_SUCCESS || count < 1) {
        printf("cuda_af_app: no CUDA device, skipped\n");
        return 77;
    }
    int status = run();
    printf(status ? "cuda_af_app: FAILED\n" : "cuda_af_app: all seven steps correct\n");
    return status;
}
