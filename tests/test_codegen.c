/* Every kernel source the CUDA backend can generate compiles with NVRTC. NVRTC needs no device,
 * so this runs in CI, where the CUDA cases skip: a family's checker (EM_CU_COMPILE_CHECK in
 * src/backend/cuda/cu.h) generates each of its kernel variants, for every dtype, and compiles it.
 * The case runs once, in the CPU pass, since it exercises the compiler rather than a device. */
#include "test.h"

#include <dlfcn.h>
#include <string.h>

TEST(cuda_kernel_sources_compile) {
    if (em_test_backend() != AF_BACKEND_CPU) SKIP("runs once, in the CPU pass");
#if !EMBER_TEST_CUDA_BUILT
    SKIP("the CUDA backend is not built");
#else
    void *h = dlopen("libafcuda.so.3", RTLD_NOW | RTLD_LOCAL);
    if (!h) SKIP("libafcuda.so.3 does not load here");
    int (*check)(const char *, char *, size_t) =
        (int (*)(const char *, char *, size_t))dlsym(h, "em_cu_compile_check");
    int (*count)(void) = (int (*)(void))dlsym(h, "em_cu_compile_check_count");
    CHECK(check != NULL && count != NULL);
    if (check && count) {
        static char report[16384];
        const char *only = getenv("EMBER_CODEGEN_ONLY");
        int failed = check(only && *only ? only : NULL, report, sizeof(report));
        if (failed) em_test_fail(__FILE__, __LINE__, "%d kernel families failed:\n%s", failed, report);
        CHECK(count() >= 1);
    }
    dlclose(h);
#endif
}
