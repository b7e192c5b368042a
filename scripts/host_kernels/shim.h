// Host shim: lets a generated JIT kernel (jit_gen.c) or a kernel source compile as plain C++, so
// that its threads can run on the CPU one after another (run.sh). Loads check their alignment,
// and the kernels are built with -fsanitize=alignment, so a vector access that would fault on a
// GPU aborts here.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>
#include <math.h>
#define __global__
#define __device__
#define __forceinline__ inline
#define __launch_bounds__(x)
#define __align__(n) alignas(n)
#define EM_HOST_SHIM 1
struct em_dim3 {
    unsigned x, y, z;
};
static em_dim3 blockIdx, blockDim, gridDim, threadIdx;
struct alignas(8) uint2 {
    unsigned x, y;
};
struct alignas(16) uint4 {
    unsigned x, y, z, w;
};
#include <cstdlib>
template <class T> static inline T __ldg(const T *p) {
    if ((uintptr_t)p % alignof(T)) abort();
    return *p;
}
static inline float __uint_as_float(unsigned u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}
static inline unsigned __float_as_uint(float f) {
    unsigned u;
    memcpy(&u, &f, 4);
    return u;
}
static inline float __int_as_float(int u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}
static inline int __float_as_int(float f) {
    int u;
    memcpy(&u, &f, 4);
    return u;
}
static inline double __longlong_as_double(long long u) {
    double f;
    memcpy(&f, &u, 8);
    return f;
}
static inline long long __double_as_longlong(double f) {
    long long u;
    memcpy(&u, &f, 8);
    return u;
}
static inline float em_h2f(unsigned short h) {
    _Float16 x;
    memcpy(&x, &h, 2);
    return (float)x;
}
static inline unsigned short em_f2h(float f) {
    _Float16 x = (_Float16)f;
    unsigned short h;
    memcpy(&h, &x, 2);
    return h;
}
