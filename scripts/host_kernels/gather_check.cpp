// Runs kernels/index.cuh's linear gather (af_lookup's) on the host, every index dtype path,
// against em_index_fold's rule.
#include "shim.h"
template <class T> T __ldcs(const T *p) {
    return *p;
}
template <class T> void __stcs(T *p, T v) {
    *p = v;
}
#include <initializer_list>
#define __shared__      static
#define __syncthreads() (void)0
template <class T> T __shfl_up_sync(unsigned, T v, int) {
    return v;
}
#include <cstdio>
#include <cstdlib>
static inline unsigned char __ldg(const unsigned char *p) {
    return *p;
}
#define EM_ES     4
#define EM_IDX64  0
#define EM_LINEAR 1
#define asm(...) (void)0
#include "../../src/backend/cuda/kernels/index.cuh"
#undef asm
static long long fold(long long v, long long len) {
    if ((unsigned long long)v < (unsigned long long)len) return v;
    if (v < 0) return (-(v + 1)) % len;
    return len - 1 - v % len;
}
int main() {
    int bad = 0;
    const long long types[5] = {5, 6, 8, 0, -1};
    for (int ti = 0; ti < 5; ti++)
        for (long long n : {1LL, 5LL, 1023LL, 1024LL, 3001LL}) {
            long long len = 777;
            unsigned *src = (unsigned *)malloc(len * 3 * 4);
            for (long long i = 0; i < len * 3; i++)
                src[i] = (unsigned)(i * 13 + 1);
            void *idx = malloc(n * 8);
            for (long long i = 0; i < n; i++) {
                long long v = (long long)(rand() % 3000) - 1000;
                if (types[ti] == 5) ((int *)idx)[i] = (int)v;
                if (types[ti] == 6) ((unsigned *)idx)[i] = (unsigned)v;
                if (types[ti] == 8) ((long long *)idx)[i] = v;
                if (types[ti] == 0) ((float *)idx)[i] = (float)v + 0.5f;
            }
            unsigned *dst = (unsigned *)calloc(n * 2, 4);
            em_idx_params p;
            memset(&p, 0, sizeof p);
            p.dims[0] = n;
            p.dims[1] = p.dims[2] = p.dims[3] = 1;
            p.ptr = (char *)src;
            p.offset = 5;
            p.dim[0].stride = 3;
            p.dim[0].idx = types[ti] >= 0 ? idx : nullptr;
            p.dim[0].type = types[ti];
            p.dim[0].len = len;
            p.plain = (char *)dst;
            p.plain_offset = 1;
            p.plain_strides[0] = 2;
            p.n = n;
            unsigned grid = (unsigned)((n + 1023) / 1024);
            if (n == 3001) grid = 1; // grid-stride
            gridDim.x = grid;
            blockDim.x = 256;
            for (unsigned b = 0; b < grid; b++)
                for (unsigned t = 0; t < 256; t++) {
                    blockIdx.x = b;
                    threadIdx.x = t;
                    em_index_gather(p);
                }
            for (long long i = 0; i < n; i++) {
                long long raw;
                if (types[ti] == 5)
                    raw = ((int *)idx)[i];
                else if (types[ti] == 6)
                    raw = ((unsigned *)idx)[i];
                else if (types[ti] == 8)
                    raw = ((long long *)idx)[i];
                else if (types[ti] == 0)
                    raw = (long long)((float *)idx)[i];
                else
                    raw = i;
                long long pos = types[ti] >= 0 ? fold(raw, len) : raw;
                if (types[ti] < 0 && pos >= len * 3 - 5) continue;
                if (dst[1 + 2 * i] != src[5 + pos * 3]) {
                    if (bad < 5) printf("type %lld n %lld i %lld bad\n", types[ti], n, i);
                    bad++;
                }
            }
            free(src);
            free(idx);
            free(dst);
        }
    printf("gather: %d bad\n", bad);
}
