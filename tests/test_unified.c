/* The unified library libaf.so.3 (src/unified): backend selection per host thread, the last
 * error of whichever layer failed, and the functions it answers itself. Facts from ArrayFire's
 * src/api/unified (symbol_manager.cpp, device.cpp, error.cpp). */
#include "test.h"

#include <pthread.h>
#include <string.h>

static int popcount(int x) {
    int n = 0;
    for (; x; x &= x - 1)
        n++;
    return n;
}

static int available(void) {
    int mask = 0;
    CHECK_AF(af_get_available_backends(&mask));
    return mask;
}

TEST(unified_backend_queries) {
    unsigned count = 0;
    int mask = available();
    CHECK_AF(af_get_backend_count(&count));
    CHECK(count >= 1);
    CHECK((int)count == popcount(mask));
    CHECK(mask & AF_BACKEND_CPU);
    CHECK((mask & ~(AF_BACKEND_CPU | AF_BACKEND_CUDA)) == 0);
    af_backend active = AF_BACKEND_DEFAULT;
    CHECK_AF(af_get_active_backend(&active));
    CHECK(active == em_test_backend());
    CHECK_ERR(af_get_backend_count(NULL), AF_ERR_ARG);
    CHECK_ERR(af_get_available_backends(NULL), AF_ERR_ARG);
    CHECK_ERR(af_get_active_backend(NULL), AF_ERR_ARG);

    /* Arrays report the backend that made them. */
    const dim_t d[1] = {3};
    af_array a = NULL;
    CHECK_AF(af_create_handle(&a, 1, d, f32));
    if (a) {
        af_backend b = AF_BACKEND_DEFAULT;
        CHECK_AF(af_get_backend_id(&b, a));
        CHECK(b == em_test_backend());
        af_release_array(a);
    }
}

/* Backends that cannot be chosen: errors, and the thread keeps its backend. */
TEST(unified_set_backend_bad) {
    int mask = available();
    CHECK_ERR(af_set_backend(AF_BACKEND_OPENCL), AF_ERR_LOAD_LIB);
    CHECK_ERR(af_set_backend(AF_BACKEND_ONEAPI), AF_ERR_LOAD_LIB);
    CHECK_ERR(af_set_backend((af_backend)3), AF_ERR_ARG);
    CHECK_ERR(af_set_backend((af_backend)-1), AF_ERR_ARG);
    if (!(mask & AF_BACKEND_CUDA)) CHECK_ERR(af_set_backend(AF_BACKEND_CUDA), AF_ERR_LOAD_LIB);
    af_backend active = AF_BACKEND_DEFAULT;
    CHECK_AF(af_get_active_backend(&active));
    CHECK(active == em_test_backend());

    /* AF_BACKEND_DEFAULT picks CUDA when it has a device, else the CPU. */
    CHECK_AF(af_set_backend(AF_BACKEND_DEFAULT));
    CHECK_AF(af_get_active_backend(&active));
    CHECK(active == ((mask & AF_BACKEND_CUDA) ? AF_BACKEND_CUDA : AF_BACKEND_CPU));
    CHECK_AF(af_set_backend(em_test_backend()));
}

typedef struct {
    af_backend start, after;
    af_err set_err;
} thread_view;

static void *other_thread(void *arg) {
    thread_view *v = arg;
    af_get_active_backend(&v->start);
    v->set_err = af_set_backend(AF_BACKEND_CPU);
    af_get_active_backend(&v->after);
    return NULL;
}

/* The active backend is per host thread: a new thread starts on the default, and its choice does
 * not change the caller's. */
TEST(unified_backend_per_thread) {
    int mask = available();
    thread_view v = {AF_BACKEND_DEFAULT, AF_BACKEND_DEFAULT, AF_ERR_UNKNOWN};
    pthread_t t;
    if (pthread_create(&t, NULL, other_thread, &v) != 0) SKIP("pthread_create failed");
    pthread_join(t, NULL);
    CHECK(v.start == ((mask & AF_BACKEND_CUDA) ? AF_BACKEND_CUDA : AF_BACKEND_CPU));
    CHECK(v.set_err == AF_SUCCESS);
    CHECK(v.after == AF_BACKEND_CPU);
    af_backend mine = AF_BACKEND_DEFAULT;
    CHECK_AF(af_get_active_backend(&mine));
    CHECK(mine == em_test_backend());
}

static char *last_error(dim_t *len) {
    char *msg = NULL;
    *len = -1;
    af_get_last_error(&msg, len);
    return msg;
}

/* af_get_last_error gives the message of the layer that failed last, and reading clears it. */
TEST(unified_last_error) {
    const dim_t d[1] = {3};
    af_array a = NULL;
    CHECK_AF(af_create_handle(&a, 1, d, f32));
    if (!a) return;
    dim_t len;
    /* A backend's error. */
    CHECK(af_get_elements(NULL, a) == AF_ERR_ARG);
    char *msg = last_error(&len);
    CHECK(msg && strstr(msg, "af_get_elements"));
    CHECK(msg && len == (dim_t)strlen(msg));
    af_free_host(msg);
    msg = last_error(&len);
    CHECK(msg == NULL && len == 0);
    af_free_host(msg);
    /* The unified layer's own error, then a backend's again. */
    CHECK(af_set_backend((af_backend)3) == AF_ERR_ARG);
    msg = last_error(&len);
    CHECK(msg && strstr(msg, "af_set_backend"));
    af_free_host(msg);
    CHECK(af_get_type(NULL, a) == AF_ERR_ARG);
    msg = last_error(&len);
    CHECK(msg && strstr(msg, "af_get_type"));
    af_free_host(msg);
    /* A NULL msg is ignored. */
    af_get_last_error(NULL, &len);
    CHECK(len == 0);
    af_release_array(a);
}

/* A function the backend does not provide fails cleanly, naming itself. Graphics is out of
 * Ember's scope, so af_create_window is either missing (AF_ERR_NOT_SUPPORTED) or refused. */
TEST(unified_missing_function) {
    af_window w = 0;
    af_err err = af_create_window(&w, 64, 64, "ember");
    CHECK(err != AF_SUCCESS);
    if (err != AF_SUCCESS) em_test_check_message(__FILE__, __LINE__, "af_create_window(&w, ...)");
}

/* The functions that work without any backend call. */
TEST(unified_local_functions) {
    af_seq s = af_make_seq(1, 9, 2);
    CHECK(s.begin == 1 && s.end == 9 && s.step == 2);
    const char *str = af_err_to_string(AF_ERR_LOAD_LIB);
    CHECK(str && str[0]);
    CHECK(strcmp(af_err_to_string(AF_SUCCESS), "Success") == 0);
    CHECK(af_get_revision() != NULL);
    void *p = NULL;
    CHECK_AF(af_alloc_host(&p, 100));
    CHECK(p != NULL);
    if (p) memset(p, 1, 100);
    CHECK_AF(af_free_host(p));
    CHECK_AF(af_free_host(NULL));
    CHECK_ERR(af_alloc_host(NULL, 8), AF_ERR_ARG);
}

/* With both backends present, an array of one used on the other is refused. */
TEST(unified_backend_mismatch) {
    if (!(available() & AF_BACKEND_CUDA)) SKIP("needs both backends");
    af_backend other = em_test_backend() == AF_BACKEND_CPU ? AF_BACKEND_CUDA : AF_BACKEND_CPU;
    const dim_t d[1] = {4};
    af_array a = NULL, b = NULL;
    CHECK_AF(af_create_handle(&a, 1, d, f32));
    CHECK_AF(af_set_backend(other));
    dim_t n = 0;
    CHECK_ERR(af_copy_array(&b, a), AF_ERR_ARR_BKND_MISMATCH);
    af_backend id = AF_BACKEND_DEFAULT;
    CHECK_AF(af_get_backend_id(&id, a)); /* answered for any backend's array */
    CHECK(id == em_test_backend());
    CHECK_AF(af_set_backend(em_test_backend()));
    CHECK_AF(af_get_elements(&n, a));
    CHECK(n == 4);
    af_release_array(a);
}
