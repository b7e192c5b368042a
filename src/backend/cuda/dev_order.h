/* The order of CUDA devices, as a pure function over device descriptions, so that it can be
 * tested on machines without a GPU (tests/test_cuda_interop.c feeds it synthetic lists).
 *
 * ArrayFire sorts its CUDA devices fastest first: by theoretical throughput (SMs x cores per SM x
 * clock), then by total memory, then by compute capability. On a full tie Ember keeps CUDA's order
 * (the lower ordinal first). ArrayFire's comparator puts the higher ordinal first there, so two
 * identical GPUs appear reversed (arrayfire#3518); a program that maps ids through
 * afcu_get_native_id sees no difference, and identical GPUs keep the ids nvidia-smi shows. */
#ifndef EM_CUDA_DEV_ORDER_H
#define EM_CUDA_DEV_ORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    int native;   /* CUDA ordinal */
    int sm_count; /* multiprocessors */
    int major;    /* compute capability */
    int minor;
    int clock_khz; /* peak SM clock */
    size_t mem_bytes;
} em_cu_dev_desc;

/* CUDA cores per multiprocessor by compute capability, as ArrayFire's table has them. Newer
 * architectures than the table knows count 128, so they are not ranked below every older GPU. */
static inline int em_cu_cores_per_sm(int major, int minor) {
    static const struct {
        int cc, cores;
    } table[] = {
        {0x10, 8},   {0x11, 8},   {0x12, 8},   {0x13, 8},   {0x20, 32},  {0x21, 48},
        {0x30, 192}, {0x32, 192}, {0x35, 192}, {0x37, 192}, {0x50, 128}, {0x52, 128},
        {0x53, 128}, {0x60, 64},  {0x61, 128}, {0x62, 128}, {0x70, 64},  {0x72, 64},
        {0x75, 64},  {0x80, 64},  {0x86, 128}, {0x87, 128}, {0x89, 128}, {0x90, 128},
    };
    int cc = (major << 4) + minor;
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (table[i].cc == cc) return table[i].cores;
    return major > 9 ? 128 : 0;
}

static inline uint64_t em_cu_dev_flops(const em_cu_dev_desc *d) {
    return (uint64_t)d->sm_count * (uint64_t)em_cu_cores_per_sm(d->major, d->minor) *
           (uint64_t)d->clock_khz;
}

/* True when device a comes before device b. */
static inline bool em_cu_dev_before(const em_cu_dev_desc *a, const em_cu_dev_desc *b) {
    uint64_t fa = em_cu_dev_flops(a), fb = em_cu_dev_flops(b);
    if (fa != fb) return fa > fb;
    if (a->mem_bytes != b->mem_bytes) return a->mem_bytes > b->mem_bytes;
    if (a->major != b->major) return a->major > b->major;
    if (a->minor != b->minor) return a->minor > b->minor;
    return a->native < b->native;
}

/* Sorts list[0..n) into Ember's device order (a stable insertion sort: n is at most a handful). */
static inline void em_cu_dev_order(em_cu_dev_desc *list, int n) {
    for (int i = 1; i < n; i++) {
        em_cu_dev_desc cur = list[i];
        int j = i - 1;
        while (j >= 0 && em_cu_dev_before(&cur, &list[j])) {
            list[j + 1] = list[j];
            j--;
        }
        list[j + 1] = cur;
    }
}

#endif
