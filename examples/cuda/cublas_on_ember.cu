// cuBLAS on Ember's arrays: the application calls cublasSgemm itself on device pointers taken from
// Ember arrays, on Ember's stream, and Ember carries on with the result.
//
//   1. A (M x K) and B (K x N) are Ember arrays made from host data; C (M x N) is an Ember array
//      of zeros. Ember stores them column-major, which is cuBLAS's layout, so the pointers go to
//      cuBLAS as they are, with leading dimensions M, K and M.
//   2. af_get_device_ptr gives the three pointers (locked for the application); the cuBLAS handle
//      is bound to Ember's stream (afcu_get_stream), so the GEMM is ordered after the work that
//      made A, B and C, and before anything Ember enqueues later: no synchronisation at all.
//   3. C = A * B by cublasSgemm, written into C's buffer.
//   4. af_unlock_array gives the buffers back, and Ember continues on C: D = 2C + 1, lazily, in
//      one kernel.
//   5. C and D are read through Ember and compared with a host reference of the product.
// The inputs are small multiples of 1/2 and 1/4, so every product and sum is exact in float (and
// in TF32, should the math mode allow it): the comparison is exact up to a tiny tolerance. The
// program exits non-zero when a value is wrong, or 77 (skipped) without a CUDA device.
#include <arrayfire.h>
#include <af/cuda.h>
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <math.h>
#include <stdio.h>

#define M 64
#define K 48
#define N 32

static int failed = 0;

static bool ok(af_err e, const char *what) {
    if (e == AF_SUCCESS) return true;
    char *msg = NULL;
    dim_t len = 0;
    af_get_last_error(&msg, &len);
    fprintf(stderr, "cublas_on_ember: %s failed: error %d: %s\n", what, (int)e, msg ? msg : "");
    af_free_host(msg);
    failed = 1;
    return false;
}

static bool cuda_ok(cudaError_t e, const char *what) {
    if (e == cudaSuccess) return true;
    fprintf(stderr, "cublas_on_ember: %s failed: %s\n", what, cudaGetErrorString(e));
    failed = 1;
    return false;
}

static bool blas_ok(cublasStatus_t st, const char *what) {
    if (st == CUBLAS_STATUS_SUCCESS) return true;
    fprintf(stderr, "cublas_on_ember: %s failed: %s\n", what, cublasGetStatusString(st));
    failed = 1;
    return false;
}

// Compares got (column-major M x N) with want; the tolerance only covers summation order.
static bool compare(const float *got, const double *want, const char *what) {
    for (int j = 0; j < N; j++) {
        for (int i = 0; i < M; i++) {
            double g = got[i + j * M], w = want[i + j * M];
            if (!(fabs(g - w) <= 1e-5 * (1.0 + fabs(w)))) {
                fprintf(stderr, "cublas_on_ember: %s(%d, %d) = %.9g, expected %.9g\n", what, i, j,
                        g, w);
                failed = 1;
                return false;
            }
        }
    }
    printf("cublas_on_ember: %s correct in all %d x %d elements\n", what, M, N);
    return true;
}

static int run(void) {
    static float host_a[M * K], host_b[K * N], host_c[M * N];
    static double ref_c[M * N], ref_d[M * N];
    af_array a = 0, b = 0, c = 0, two = 0, one = 0, t = 0, d = 0;
    float *d_a = NULL, *d_b = NULL, *d_c = NULL;
    bool locked = false;
    cublasHandle_t handle = NULL;
    cudaStream_t stream = NULL;
    int native = 0, dev = -1;
    const float alpha = 1.0f, beta = 0.0f;
    dim_t dims_a[2] = {M, K}, dims_b[2] = {K, N}, dims_c[2] = {M, N};

    // The inputs, column-major, and the reference product in double.
    for (int k = 0; k < K; k++)
        for (int i = 0; i < M; i++)
            host_a[i + k * M] = 0.5f * (float)((i * 3 + k * 5) % 7 - 3);
    for (int j = 0; j < N; j++)
        for (int k = 0; k < K; k++)
            host_b[k + j * K] = 0.25f * (float)((k * 2 + j * 7) % 5 - 2);
    for (int j = 0; j < N; j++) {
        for (int i = 0; i < M; i++) {
            double sum = 0;
            for (int k = 0; k < K; k++)
                sum += (double)host_a[i + k * M] * (double)host_b[k + j * K];
            ref_c[i + j * M] = sum;
            ref_d[i + j * M] = 2.0 * sum + 1.0;
        }
    }

    // Ember works on the application's device: the CUDA device current on this thread, where the
    // cuBLAS handle is created too.
    if (!cuda_ok(cudaGetDevice(&native), "cudaGetDevice") ||
        !ok(afcu_set_native_id(native), "afcu_set_native_id") ||
        !ok(af_get_device(&dev), "af_get_device") || !ok(af_info(), "af_info"))
        goto done;

    // Step 1: Ember arrays.
    if (!ok(af_create_array(&a, host_a, 2, dims_a, f32), "af_create_array(A)") ||
        !ok(af_create_array(&b, host_b, 2, dims_b, f32), "af_create_array(B)") ||
        !ok(af_constant(&c, 0.0, 2, dims_c, f32), "af_constant(C)"))
        goto done;

    // Step 2: their pointers, valid in order on Ember's stream, and a handle on that stream.
    if (!ok(af_get_device_ptr((void **)&d_a, a), "af_get_device_ptr(A)") ||
        !ok(af_get_device_ptr((void **)&d_b, b), "af_get_device_ptr(B)") ||
        !ok(af_get_device_ptr((void **)&d_c, c), "af_get_device_ptr(C)"))
        goto done;
    locked = true;
    if (!ok(afcu_get_stream(&stream, dev), "afcu_get_stream") ||
        !blas_ok(cublasCreate(&handle), "cublasCreate") ||
        !blas_ok(cublasSetStream(handle, stream), "cublasSetStream"))
        goto done;

    // Step 3: C = A * B, on Ember's stream.
    if (!blas_ok(cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, M, N, K, &alpha, d_a, M, d_b, K,
                             &beta, d_c, M),
                 "cublasSgemm"))
        goto done;

    // Step 4: the buffers go back to Ember, which continues on C in stream order after the GEMM.
    if (!ok(af_unlock_array(a), "af_unlock_array(A)") ||
        !ok(af_unlock_array(b), "af_unlock_array(B)") ||
        !ok(af_unlock_array(c), "af_unlock_array(C)"))
        goto done;
    locked = false;
    if (!ok(af_constant(&two, 2.0, 2, dims_c, f32), "af_constant(2)") ||
        !ok(af_constant(&one, 1.0, 2, dims_c, f32), "af_constant(1)") ||
        !ok(af_mul(&t, c, two, false), "af_mul") || !ok(af_add(&d, t, one, false), "af_add") ||
        !ok(af_eval(d), "af_eval(D)"))
        goto done;

    // Step 5: read back through Ember (these copies wait for the stream) and check.
    if (!ok(af_get_data_ptr(host_c, c), "af_get_data_ptr(C)") ||
        !compare(host_c, ref_c, "C = A * B (cublasSgemm)"))
        goto done;
    if (!ok(af_get_data_ptr(host_c, d), "af_get_data_ptr(D)") ||
        !compare(host_c, ref_d, "D = 2C + 1 (Ember after cuBLAS)"))
        goto done;

done:
    if (locked) {
        af_unlock_array(a);
        af_unlock_array(b);
        af_unlock_array(c);
    }
    // The handle may still have the GEMM queued: let Ember's stream finish first.
    if (dev >= 0) ok(af_sync(dev), "af_sync");
    if (handle) blas_ok(cublasDestroy(handle), "cublasDestroy");
    af_release_array(a);
    af_release_array(b);
    af_release_array(c);
    af_release_array(two);
    af_release_array(one);
    af_release_array(t);
    af_release_array(d);
    return failed;
}

int main(void) {
    int count = 0;
    if (af_get_device_count(&count) != AF_SUCCESS || count < 1) {
        printf("cublas_on_ember: no CUDA device, skipped\n");
        return 77;
    }
    int status = run();
    printf(status ? "cublas_on_ember: FAILED\n" : "cublas_on_ember: all checks passed\n");
    return status;
}
