/* Every kernel source the CUDA backend can generate compiles with NVRTC. NVRTC needs no device,
 * so this runs in CI, where the CUDA cases skip: a family's checker (EM_CU_COMPILE_CHECK in
 * src/backend/cuda/cu.h) generates each of its kernel variants, for every dtype, and compiles it.
 * One case per family, so families compile in parallel (runner -j) and each has its own time
 * limit; codegen_every_family_listed fails when a family registers a checker this file does not
 * know. The cases run once, in the CPU pass, since they exercise the compiler, not a device. */
#include "test.h"

#include <dlfcn.h>
#include <string.h>

#define CODEGEN_FAMILIES(X)                                                                        \
    X(jit)                                                                                         \
    X(random)                                                                                      \
    X(reduce) X(scan) X(statistics) X(sort) X(index) X(shape) X(blas) X(lapack) X(fft) X(signal)   \
        X(convolve)

typedef int (*check_fn)(const char *, char *, size_t);
typedef int (*count_fn)(void);
typedef const char *(*name_fn)(int);

/* The CUDA backend's hooks, or a skip when it is not built or does not load. */
static void *cuda_hooks(void) {
    if (em_test_backend() != AF_BACKEND_CPU) SKIP("runs once, in the CPU pass");
#if !EMBER_TEST_CUDA_BUILT
    SKIP("the CUDA backend is not built");
#else
    void *h = dlopen("libafcuda.so.3", RTLD_NOW | RTLD_LOCAL);
    if (!h) SKIP("libafcuda.so.3 does not load here");
    return h;
#endif
}

static bool family_registered(void *h, const char *family) {
    count_fn count = (count_fn)dlsym(h, "em_cu_compile_check_count");
    name_fn name = (name_fn)dlsym(h, "em_cu_compile_check_name");
    CHECK(count != NULL && name != NULL);
    if (!count || !name) return false;
    for (int i = 0; i < count(); i++)
        if (strcmp(name(i), family) == 0) return true;
    return false;
}

static void compile_family(const char *family) {
    void *h = cuda_hooks();
    if (!family_registered(h, family)) {
        dlclose(h);
        SKIP("this family registers no kernels yet");
    }
    check_fn check = (check_fn)dlsym(h, "em_cu_compile_check");
    CHECK(check != NULL);
    if (check) {
        static char report[16384];
        if (check(family, report, sizeof(report)))
            em_test_fail(__FILE__, __LINE__, "kernels of %s failed to compile:\n%s", family,
                         report);
    }
    dlclose(h);
}

/* A family compiles hundreds of kernels: NVRTC takes a good fraction of a second for each on a
 * small machine, so these cases get a longer limit than the runner's default. */
#define CODEGEN_CASE(f)                                                                            \
    TEST_LIMIT(codegen_##f, 900) {                                                                 \
        compile_family(#f);                                                                        \
    }
CODEGEN_FAMILIES(CODEGEN_CASE)

TEST(codegen_every_family_listed) {
    void *h = cuda_hooks();
    count_fn count = (count_fn)dlsym(h, "em_cu_compile_check_count");
    name_fn name = (name_fn)dlsym(h, "em_cu_compile_check_name");
    CHECK(count != NULL && name != NULL);
    if (count && name) {
        CHECK(count() >= 2); /* the JIT's and random's, at least */
        static const char *const known[] = {
#define CODEGEN_NAME(f) #f,
            CODEGEN_FAMILIES(CODEGEN_NAME)
#undef CODEGEN_NAME
        };
        for (int i = 0; i < count(); i++) {
            bool found = false;
            for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++)
                found = found || strcmp(known[k], name(i)) == 0;
            if (!found)
                em_test_fail(__FILE__, __LINE__,
                             "family %s registers kernels: add it to CODEGEN_FAMILIES", name(i));
        }
    }
    dlclose(h);
}
