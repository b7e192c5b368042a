/* The CPU backend's shape operations that need a kernel of their own (src/backend/index.h, the
 * shape section): transpose, out of place and in place. The other shape operations are lazy
 * JIT leaves (src/api/shape.c) and run through jit.c.
 *
 * Transpose moves elements without looking at them, so each element size has one loop (complex
 * types get their own, which can conjugate). The matrix is cut into TB x TB tiles: a tile reads TB
 * columns of the input and writes TB columns of the output, and both stay in L1 while it runs, so
 * every cache line fetched is used whole. Tiles are shared among OpenMP threads. */
#include "cpu.h"

#include "../index.h"

#include <omp.h>
#include <stdint.h>
#include <string.h>

#define TB 32

/* Below this many elements the threads cost more than they save. */
#define EM_CPU_TRANSPOSE_PAR (1 << 15)

typedef struct {
    float re, im;
} em_cf;
typedef struct {
    double re, im;
} em_cd;

#define CONJ_NONE(v) (v)
#define CONJ_CPLX(v) ((v).im = -(v).im, (v))

/* out (d1 x d0, dense, batch after batch) = in^T, in read through strides s. The batch index b
 * runs over dims 2 and 3 (d2 of them in dim 2). */
#define EM_DEF_TRANSPOSE(NAME, T, CONJ)                                                            \
    static void NAME(void *outp, const void *inp, const dim_t d[4], const dim_t s[4], bool conj) { \
        T *out = outp;                                                                             \
        const T *in = inp;                                                                         \
        const dim_t d0 = d[0], d1 = d[1], nb = d[2] * d[3];                                        \
        const dim_t nt0 = (d0 + TB - 1) / TB, nt1 = (d1 + TB - 1) / TB, per = nt0 * nt1;           \
        _Pragma("omp parallel for schedule(static) if (d0 * d1 * nb >= EM_CPU_TRANSPOSE_PAR)")    \
        for (dim_t t = 0; t < nb * per; t++) {                                                     \
            const dim_t b = t / per, r = t % per, ti = r % nt0, tj = r / nt0;                      \
            const T *ib = in + (b % d[2]) * s[2] + (b / d[2]) * s[3];                              \
            T *ob = out + b * d0 * d1;                                                             \
            const dim_t i0 = ti * TB, j0 = tj * TB;                                                \
            const dim_t i1 = i0 + TB < d0 ? i0 + TB : d0, j1 = j0 + TB < d1 ? j0 + TB : d1;       \
            for (dim_t i = i0; i < i1; i++) {                                                      \
                T *o = ob + i * d1;                                                                \
                const T *x = ib + i * s[0];                                                        \
                if (conj) {                                                                        \
                    for (dim_t j = j0; j < j1; j++) {                                              \
                        T v = x[j * s[1]];                                                         \
                        o[j] = CONJ(v);                                                            \
                    }                                                                              \
                } else {                                                                           \
                    for (dim_t j = j0; j < j1; j++)                                                \
                        o[j] = x[j * s[1]];                                                        \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    }

EM_DEF_TRANSPOSE(transpose_1, uint8_t, CONJ_NONE)
EM_DEF_TRANSPOSE(transpose_2, uint16_t, CONJ_NONE)
EM_DEF_TRANSPOSE(transpose_4, uint32_t, CONJ_NONE)
EM_DEF_TRANSPOSE(transpose_8, uint64_t, CONJ_NONE)
EM_DEF_TRANSPOSE(transpose_c32, em_cf, CONJ_CPLX)
EM_DEF_TRANSPOSE(transpose_c64, em_cd, CONJ_CPLX)

/* In place on a dense n x n x batch buffer: tile (ti, tj) swaps with tile (tj, ti); a diagonal
 * tile swaps within itself. Each thread owns whole pairs, so no element is touched twice. */
#define EM_DEF_TRANSPOSE_INPLACE(NAME, T, CONJ)                                                    \
    static void NAME(void *datap, const dim_t d[4], bool conj) {                                   \
        T *data = datap;                                                                           \
        const dim_t n = d[0], nb = d[2] * d[3], nt = (n + TB - 1) / TB;                            \
        _Pragma("omp parallel for schedule(dynamic, 1) if (n * n * nb >= EM_CPU_TRANSPOSE_PAR)")  \
        for (dim_t t = 0; t < nb * nt; t++) {                                                      \
            T *a = data + (t / nt) * n * n;                                                        \
            const dim_t tj = t % nt, j0 = tj * TB, j1 = j0 + TB < n ? j0 + TB : n;                 \
            for (dim_t ti = 0; ti <= tj; ti++) {                                                   \
                const dim_t i0 = ti * TB, i1 = i0 + TB < n ? i0 + TB : n;                          \
                for (dim_t j = j0; j < j1; j++) {                                                  \
                    /* Below the diagonal of a diagonal tile only: each pair once. */              \
                    const dim_t ie = ti == tj ? (j < i1 ? j : i1) : i1;                            \
                    for (dim_t i = i0; i < ie; i++) {                                              \
                        T x = a[i + j * n], y = a[j + i * n];                                      \
                        if (conj) {                                                                \
                            x = CONJ(x);                                                           \
                            y = CONJ(y);                                                           \
                        }                                                                          \
                        a[i + j * n] = y;                                                          \
                        a[j + i * n] = x;                                                          \
                    }                                                                              \
                    if (conj && ti == tj) {                                                        \
                        T z = a[j + j * n];                                                        \
                        a[j + j * n] = CONJ(z);                                                    \
                    }                                                                              \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    }

EM_DEF_TRANSPOSE_INPLACE(transpose_inplace_1, uint8_t, CONJ_NONE)
EM_DEF_TRANSPOSE_INPLACE(transpose_inplace_2, uint16_t, CONJ_NONE)
EM_DEF_TRANSPOSE_INPLACE(transpose_inplace_4, uint32_t, CONJ_NONE)
EM_DEF_TRANSPOSE_INPLACE(transpose_inplace_8, uint64_t, CONJ_NONE)
EM_DEF_TRANSPOSE_INPLACE(transpose_inplace_c32, em_cf, CONJ_CPLX)
EM_DEF_TRANSPOSE_INPLACE(transpose_inplace_c64, em_cd, CONJ_CPLX)

af_err em_cpu_transpose(int dev, af_dtype type, void *out, const void *in, const dim_t idims[4],
                        const dim_t istrides[4], bool conj) {
    (void)dev;
    if (type == c32) {
        transpose_c32(out, in, idims, istrides, conj);
    } else if (type == c64) {
        transpose_c64(out, in, idims, istrides, conj);
    } else {
        switch (em_dtype_size(type)) {
        case 1:
            transpose_1(out, in, idims, istrides, false);
            break;
        case 2:
            transpose_2(out, in, idims, istrides, false);
            break;
        case 4:
            transpose_4(out, in, idims, istrides, false);
            break;
        case 8:
            transpose_8(out, in, idims, istrides, false);
            break;
        default: /* 16 bytes: c64 above is the only such dtype */
            break;
        }
    }
    return AF_SUCCESS;
}

af_err em_cpu_transpose_inplace(int dev, af_dtype type, void *data, const dim_t dims[4],
                                bool conj) {
    (void)dev;
    if (type == c32) {
        transpose_inplace_c32(data, dims, conj);
    } else if (type == c64) {
        transpose_inplace_c64(data, dims, conj);
    } else {
        switch (em_dtype_size(type)) {
        case 1:
            transpose_inplace_1(data, dims, false);
            break;
        case 2:
            transpose_inplace_2(data, dims, false);
            break;
        case 4:
            transpose_inplace_4(data, dims, false);
            break;
        case 8:
            transpose_inplace_8(data, dims, false);
            break;
        default:
            break;
        }
    }
    return AF_SUCCESS;
}
