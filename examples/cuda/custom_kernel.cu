// The seed's first interop program, in C: a custom CUDA kernel in an Ember application.
//
// x = 1, y = 2 and out are Ember arrays. The program takes their device pointers, runs its own
// kernel out = x + y, hands the pointers back and reads 3s through Ember. It does so twice:
//   1. on Ember's own stream (afcu_get_stream), the recommended way: no synchronisation at all,
//      since the stream orders the kernel after Ember's work and Ember's later work after it;
//   2. on a stream of its own (the seed's workaround when a binding cannot wrap Ember's stream),
//      which needs explicit ordering both ways: Ember's work must finish before the kernel reads
//      (af_sync, or without blocking the host, Ember's afcu_signal_stream extension), and the
//      kernel must finish before Ember reads out again (cudaStreamSynchronize).
// It checks every value and exits non-zero when one is wrong, or 77 (skipped) without a CUDA
// device.
#include <arrayfire.h>
#include <af/cuda.h>
#include <cuda_runtime.h>
#include <stdio.h>

#define N 10

__global__ void add_kernel(const float *x, const float *y, float *out, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = x[i] + y[i];
}

static int failed = 0;

// Reports an Ember error with its message and remembers the failure.
static bool ok(af_err e, const char *what) {
    if (e == AF_SUCCESS) return true;
    char *msg = NULL;
    dim_t len = 0;
    af_get_last_error(&msg, &len);
    fprintf(stderr, "custom_kernel: %s failed: error %d: %s\n", what, (int)e, msg ? msg : "");
    af_free_host(msg);
    failed = 1;
    return false;
}

static bool cuda_ok(cudaError_t e, const char *what) {
    if (e == cudaSuccess) return true;
    fprintf(stderr, "custom_kernel: %s failed: %s\n", what, cudaGetErrorString(e));
    failed = 1;
    return false;
}

// Reads out back through Ember and checks that every element is 3.
static void check_threes(af_array out, const char *variant) {
    float host[N];
    if (!ok(af_get_data_ptr(host, out), "af_get_data_ptr")) return;
    for (int i = 0; i < N; i++) {
        if (host[i] != 3.0f) {
            fprintf(stderr, "custom_kernel (%s): out[%d] = %g, expected 3\n", variant, i, host[i]);
            failed = 1;
            return;
        }
    }
    printf("custom_kernel (%s): out = x + y = 3 in all %d elements\n", variant, N);
}

// x = 1, y = 2, out = 0: lazy constants until their device pointers are asked for.
static bool make_inputs(af_array *x, af_array *y, af_array *out) {
    dim_t dims[1] = {N};
    return ok(af_constant(x, 1, 1, dims, f32), "af_constant(x)") &&
           ok(af_constant(y, 2, 1, dims, f32), "af_constant(y)") &&
           ok(af_constant(out, 0, 1, dims, f32), "af_constant(out)");
}

// af_get_device_ptr evaluates the array and locks its buffer: Ember will not move or reuse it
// until af_unlock_array. The pointer is valid in stream order on Ember's stream.
static bool device_ptrs(af_array x, af_array y, af_array out, float **dx, float **dy,
                        float **dout) {
    return ok(af_get_device_ptr((void **)dx, x), "af_get_device_ptr(x)") &&
           ok(af_get_device_ptr((void **)dy, y), "af_get_device_ptr(y)") &&
           ok(af_get_device_ptr((void **)dout, out), "af_get_device_ptr(out)");
}

static void unlock_all(af_array x, af_array y, af_array out) {
    ok(af_unlock_array(x), "af_unlock_array(x)");
    ok(af_unlock_array(y), "af_unlock_array(y)");
    ok(af_unlock_array(out), "af_unlock_array(out)");
}

static void release_all(af_array x, af_array y, af_array out) {
    af_release_array(x);
    af_release_array(y);
    af_release_array(out);
}

// Variant 1: the kernel runs on Ember's stream.
static void on_embers_stream(int dev) {
    af_array x = 0, y = 0, out = 0;
    float *dx, *dy, *dout;
    cudaStream_t stream;
    if (make_inputs(&x, &y, &out) && device_ptrs(x, y, out, &dx, &dy, &dout) &&
        ok(afcu_get_stream(&stream, dev), "afcu_get_stream")) {
        add_kernel<<<1, 32, 0, stream>>>(dx, dy, dout, N);
        if (cuda_ok(cudaGetLastError(), "launching add_kernel")) {
            // No wait: Ember's next use of out (the read below) is ordered after the kernel.
            unlock_all(x, y, out);
            check_threes(out, "Ember's stream");
        }
    }
    release_all(x, y, out);
}

// Variant 2: the kernel runs on the program's own non-blocking stream.
static void on_own_stream(int dev, bool use_event) {
    const char *variant = use_event ? "own stream, event ordering" : "own stream, af_sync";
    af_array x = 0, y = 0, out = 0;
    float *dx, *dy, *dout;
    cudaStream_t mine = NULL;
    if (!cuda_ok(cudaStreamCreateWithFlags(&mine, cudaStreamNonBlocking), "cudaStreamCreate"))
        return;
    if (make_inputs(&x, &y, &out) && device_ptrs(x, y, out, &dx, &dy, &dout)) {
        // Before: the inputs were computed on Ember's stream, so that work must finish before
        // the kernel reads them. af_sync waits on the host; afcu_signal_stream (an Ember
        // extension) makes `mine` wait for Ember's stream through an event instead.
        bool ordered = use_event ? ok(afcu_signal_stream(dev, mine), "afcu_signal_stream")
                                 : ok(af_sync(dev), "af_sync");
        if (ordered) {
            add_kernel<<<1, 32, 0, mine>>>(dx, dy, dout, N);
            // After: Ember must not read out before the kernel has written it.
            if (cuda_ok(cudaGetLastError(), "launching add_kernel") &&
                cuda_ok(cudaStreamSynchronize(mine), "cudaStreamSynchronize")) {
                unlock_all(x, y, out);
                check_threes(out, variant);
            }
        }
    }
    release_all(x, y, out);
    cudaStreamDestroy(mine);
}

int main(void) {
    int count = 0;
    if (af_get_device_count(&count) != AF_SUCCESS || count < 1) {
        printf("custom_kernel: no CUDA device, skipped\n");
        return 77;
    }
    int dev = 0;
    if (!ok(af_set_device(dev), "af_set_device") || !ok(af_info(), "af_info")) return 1;
    on_embers_stream(dev);
    on_own_stream(dev, false);
    on_own_stream(dev, true);
    if (!ok(af_sync(dev), "af_sync")) return 1;
    printf(failed ? "custom_kernel: FAILED\n" : "custom_kernel: all variants correct\n");
    return failed;
}
