/* The CPU demo: prints the library and device, then computes a small fused expression and checks
 * it against plain C. */
#include <arrayfire.h>
#include <math.h>
#include <stdio.h>

#define N 8

int main(void) {
    float a_host[N], b_host[N], out[N];
    for (int i = 0; i < N; i++) {
        a_host[i] = (float)i * 0.5f;
        b_host[i] = 2.0f - (float)i;
    }
    dim_t dims[1] = {N};
    af_array a = 0, b = 0, prod = 0, s = 0, y = 0;
    int status = 1;
    if (af_info() != AF_SUCCESS) goto done;
    if (af_create_array(&a, a_host, 1, dims, f32) != AF_SUCCESS) goto done;
    if (af_create_array(&b, b_host, 1, dims, f32) != AF_SUCCESS) goto done;
    /* y = a*b + sin(a): three lazy nodes, evaluated in one pass when read. */
    if (af_mul(&prod, a, b, false) != AF_SUCCESS) goto done;
    if (af_sin(&s, a) != AF_SUCCESS) goto done;
    if (af_add(&y, prod, s, false) != AF_SUCCESS) goto done;
    if (af_get_data_ptr(out, y) != AF_SUCCESS) goto done;
    af_print_array_gen("y = a*b + sin(a)", y, 4);
    status = 0;
    for (int i = 0; i < N; i++) {
        float ref = a_host[i] * b_host[i] + sinf(a_host[i]);
        if (fabsf(out[i] - ref) > 1e-5f * (1.0f + fabsf(ref))) {
            printf("mismatch at %d: %g vs %g\n", i, out[i], ref);
            status = 1;
        }
    }
    printf(status ? "demo: FAILED\n" : "demo: y matches plain C on all %d elements\n", N);
done:
    if (status) {
        char *msg = NULL;
        dim_t len = 0;
        af_get_last_error(&msg, &len);
        if (msg && len) printf("error: %s\n", msg);
        af_free_host(msg);
    }
    af_release_array(a);
    af_release_array(b);
    af_release_array(prod);
    af_release_array(s);
    af_release_array(y);
    return status;
}
