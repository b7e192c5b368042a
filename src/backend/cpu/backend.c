/* The CPU backend: one device whose "device memory" is host memory. */
#include "cpu.h"

#include "../algorithm.h"
#include "../blas.h"
#include "../signal.h"
#include "../index.h"
#include "../lapack.h"

#include <af/dlpack.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int cpu_dev_count(void) {
    return 1;
}

static void cpu_model_name(char *out, size_t len) {
    snprintf(out, len, "CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "model name", 10) != 0) continue;
        char *colon = strchr(line, ':');
        if (!colon) break;
        colon++;
        while (*colon == ' ')
            colon++;
        colon[strcspn(colon, "\n")] = 0;
        snprintf(out, len, "%s", colon);
        break;
    }
    fclose(f);
}

static af_err cpu_dev_props(int dev, em_dev_props *out) {
    memset(out, 0, sizeof(*out));
    cpu_model_name(out->name, sizeof(out->name));
    snprintf(out->platform, sizeof(out->platform), "CPU");
    snprintf(out->toolkit, sizeof(out->toolkit), "OpenMP");
    snprintf(out->compute, sizeof(out->compute), "%ld threads", sysconf(_SC_NPROCESSORS_ONLN));
    out->mem_bytes = (size_t)sysconf(_SC_PHYS_PAGES) * (size_t)sysconf(_SC_PAGESIZE);
    out->native_id = dev;
    out->dbl = 1;
    out->half = 1;
    return AF_SUCCESS;
}

static af_err cpu_dev_activate(int dev) {
    (void)dev;
    return AF_SUCCESS;
}

static af_err cpu_dev_sync(int dev) {
    (void)dev;
    return AF_SUCCESS;
}

static af_err cpu_mem_alloc(int dev, size_t bytes, void **ptr) {
    (void)dev;
    /* 64-byte alignment keeps vector loads aligned; aligned_alloc needs a multiple. */
    size_t rounded = (bytes + 63) & ~(size_t)63;
    *ptr = aligned_alloc(64, rounded ? rounded : 64);
    return *ptr ? AF_SUCCESS : AF_ERR_NO_MEM;
}

static void cpu_mem_free(int dev, void *ptr) {
    (void)dev;
    free(ptr);
}

static af_err cpu_mem_free_bytes(int dev, size_t *free_bytes) {
    (void)dev;
    *free_bytes = (size_t)sysconf(_SC_AVPHYS_PAGES) * (size_t)sysconf(_SC_PAGESIZE);
    return AF_SUCCESS;
}

static af_err cpu_pinned_alloc(size_t bytes, void **ptr) {
    return cpu_mem_alloc(0, bytes, ptr);
}

static void cpu_pinned_free(void *ptr) {
    free(ptr);
}

static af_err cpu_copy(int dev, void *dst, const void *src, size_t bytes) {
    (void)dev;
    if (bytes) memmove(dst, src, bytes);
    return AF_SUCCESS;
}

const em_backend em_backend_self = {
    .id = AF_BACKEND_CPU,
    .name = "CPU",
    .dev_count = cpu_dev_count,
    .dev_props = cpu_dev_props,
    .dev_activate = cpu_dev_activate,
    .dev_sync = cpu_dev_sync,
    .mem_alloc = cpu_mem_alloc,
    .mem_free = cpu_mem_free,
    .mem_free_bytes = cpu_mem_free_bytes,
    .pinned_alloc = cpu_pinned_alloc,
    .pinned_free = cpu_pinned_free,
    .adopted_free = cpu_mem_free,
    .copy_h2d = cpu_copy,
    .copy_d2h = cpu_copy,
    .copy_d2d = cpu_copy,
    .jit_eval = em_cpu_jit_eval,
    .jit_eval_window = em_cpu_jit_eval_window,
    .random = em_cpu_random,
    .dlpack_device_type = kDLCPU,
    /* Operation families: one line each. */
    .lapack = &em_cpu_lapack_ops,
    .blas = &em_cpu_blas_ops,
    .algo = &em_cpu_algo_ops,
    .signal = &em_cpu_signal_ops,
    .index = &em_cpu_index_ops,
};
