// Runs kernels/shape.cuh's transposes on the host: one std::thread per CUDA thread of a block,
// a barrier for __syncthreads.
#include <barrier>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>
#define __global__
#define __device__
#define __forceinline__ inline
#define __launch_bounds__(x)
#define __restrict__
#define __align__(n) alignas(n)
#define __shared__   static
struct em_dim3 {
    unsigned x, y, z;
};
static em_dim3 blockIdx, blockDim, gridDim;
static thread_local em_dim3 threadIdx;
static std::barrier<> *bar;
static void __syncthreads() {
    bar->arrive_and_wait();
}
#ifndef EM_ES
#define EM_ES 4
#endif
#define EM_CONJ  0
#define EM_IDX64 0
#include "../../src/backend/cuda/kernels/shape.cuh"
typedef em_w W;
template <class F> static void launch(em_dim3 grid, em_dim3 block, F f) {
    gridDim = grid;
    blockDim = block;
    unsigned nt = block.x * block.y;
    for (unsigned z = 0; z < grid.z; z++)
        for (unsigned y = 0; y < grid.y; y++)
            for (unsigned x = 0; x < grid.x; x++) {
                blockIdx = {x, y, z};
                std::barrier<> b(nt);
                bar = &b;
                std::vector<std::thread> ts;
                for (unsigned t = 0; t < nt; t++)
                    ts.emplace_back([&, t] {
                        threadIdx = {t % block.x, t / block.x, 0};
                        f();
                    });
                for (auto &t : ts)
                    t.join();
            }
}
static bool eq(const W &a, const W &b) {
    return memcmp(&a, &b, sizeof(W)) == 0;
}
int main() {
    int bad = 0;
    const int TT = EM_ES == 16 ? 32 : 64;
    long long shapes[][4] = {{70, 45, 1, 1}, {64, 128, 2, 1}, {1, 100, 1, 1}, {33, 2, 2, 2}};
    for (auto &d : shapes) {
        // input with strides (2, 2*d0 + 3, ...) to test arbitrary strides
        long long s0 = 2, s1 = 2 * d[0] + 3, s2 = s1 * d[1] + 1, s3 = s2 * d[2];
        long long span = s3 * d[3] + 10;
        std::vector<W> in(span), out(d[0] * d[1] * d[2] * d[3]);
        for (long long i = 0; i < span; i++)
            memset(&in[i], (int)(i * 7 + 1), sizeof(W)),
                *(unsigned char *)&in[i] = (unsigned char)i;
        long long nb = d[2] * d[3];
        em_dim3 grid = {(unsigned)((d[0] + TT - 1) / TT), (unsigned)((d[1] + TT - 1) / TT),
                        (unsigned)nb};
        if (d[0] == 64) grid.x = 1, grid.z = 1; // grid-stride loops
        launch(grid, {32, 8, 1}, [&] {
            em_transpose(out.data(), in.data(), (int)d[0], (int)d[1], (int)d[2], (int)nb, (int)s0,
                         (int)s1, (int)s2, (int)s3);
        });
        for (long long l = 0; l < d[3]; l++)
            for (long long k = 0; k < d[2]; k++)
                for (long long j = 0; j < d[1]; j++)
                    for (long long i = 0; i < d[0]; i++) {
                        const W &e = in[i * s0 + j * s1 + k * s2 + l * s3];
                        const W &g = out[j + d[1] * (i + d[0] * (k + d[2] * l))];
                        if (!eq(e, g)) {
                            if (bad < 5) printf("bad at %lld %lld %lld %lld\n", i, j, k, l);
                            bad++;
                        }
                    }
    }
    printf("transpose ES=%d: %d bad\n", EM_ES, bad);
    return bad != 0;
}
