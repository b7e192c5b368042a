/* The CPU backend's shape operations that need a kernel of their own (src/backend/index.h, the
 * shape section): transpose, out of place and in place. The other shape operations are lazy
 * JIT leaves (src/api/shape.c) and run through jit.c.
 *
 * Transpose moves elements without looking at them, so each element size has one tile function
 * (complex types get their own, which can conjugate), and 4-byte tiles use an 8 x 8 register
 * transpose where AVX is there. The matrix is cut into TB x TB tiles, each read and written along
 * memory while it stays in L1, so every cache line fetched is used whole. Tiles are shared among
 * OpenMP threads. */
#include "cpu.h"

#include "../index.h"

#include <omp.h>
#ifdef __AVX__
#include <immintrin.h>
#endif
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

/* One tile of out (d1 x d0, dense) = in^T, in read through strides s: input rows i0..i0+ni and
 * columns j0..j0+nj. The tile is first read column by column (along the input's dimension 0,
 * contiguous when s[0] is 1) into a small buffer, then written column by column of the output:
 * both sides then run along memory. Reading or writing the tile straight across the matrix
 * instead touches TB lines a power of two apart, which share one L1 set and evict each other. */
#define EM_DEF_TRANSPOSE_TILE(NAME, T, CONJ)                                                       \
    static void NAME(T *ob, const T *ib, dim_t d1, const dim_t s[4], dim_t i0, dim_t j0, int ni,   \
                     int nj, bool conj) {                                                          \
        T buf[TB][TB];                                                                             \
        for (int j = 0; j < nj; j++) {                                                             \
            const T *x = ib + (j0 + j) * s[1] + i0 * s[0];                                         \
            if (s[0] == 1)                                                                         \
                for (int i = 0; i < ni; i++)                                                       \
                    buf[i][j] = x[i];                                                              \
            else                                                                                   \
                for (int i = 0; i < ni; i++)                                                       \
                    buf[i][j] = x[i * s[0]];                                                       \
        }                                                                                          \
        for (int i = 0; i < ni; i++) {                                                             \
            T *o = ob + (i0 + i) * d1 + j0;                                                        \
            if (conj) {                                                                            \
                for (int j = 0; j < nj; j++) {                                                     \
                    T v = buf[i][j];                                                               \
                    o[j] = CONJ(v);                                                                \
                }                                                                                  \
            } else {                                                                               \
                for (int j = 0; j < nj; j++)                                                       \
                    o[j] = buf[i][j];                                                              \
            }                                                                                      \
        }                                                                                          \
    }

EM_DEF_TRANSPOSE_TILE(tile_1, uint8_t, CONJ_NONE)
EM_DEF_TRANSPOSE_TILE(tile_2, uint16_t, CONJ_NONE)
EM_DEF_TRANSPOSE_TILE(tile_4, uint32_t, CONJ_NONE)
EM_DEF_TRANSPOSE_TILE(tile_8, uint64_t, CONJ_NONE)
EM_DEF_TRANSPOSE_TILE(tile_c32, em_cf, CONJ_CPLX)
EM_DEF_TRANSPOSE_TILE(tile_c64, em_cd, CONJ_CPLX)

#ifdef __AVX__
/* A whole TB x TB tile of 4-byte elements from an input with unit stride along dimension 0, as
 * 8 x 8 blocks transposed in registers (unpack, shuffle, then swap 128-bit halves): each block
 * reads 8 input columns and writes 8 output columns with one 32-byte access each. This is most
 * of the 4-byte case (f32, s32, u32), and it runs at about copy speed where the buffered tile
 * takes 1.6 times longer. */
static void tile_4_avx(uint32_t *ob, const uint32_t *ib, dim_t d1, dim_t s1, dim_t i0, dim_t j0) {
    for (int jb = 0; jb < TB; jb += 8) {
        for (int ib8 = 0; ib8 < TB; ib8 += 8) {
            const float *x = (const float *)ib + (i0 + ib8) + (j0 + jb) * s1;
            __m256 r[8], t[8], u[8];
            for (int k = 0; k < 8; k++)
                r[k] = _mm256_loadu_ps(x + k * s1);
            for (int k = 0; k < 8; k += 2) {
                t[k] = _mm256_unpacklo_ps(r[k], r[k + 1]);
                t[k + 1] = _mm256_unpackhi_ps(r[k], r[k + 1]);
            }
            u[0] = _mm256_shuffle_ps(t[0], t[2], 0x44);
            u[1] = _mm256_shuffle_ps(t[0], t[2], 0xEE);
            u[2] = _mm256_shuffle_ps(t[1], t[3], 0x44);
            u[3] = _mm256_shuffle_ps(t[1], t[3], 0xEE);
            u[4] = _mm256_shuffle_ps(t[4], t[6], 0x44);
            u[5] = _mm256_shuffle_ps(t[4], t[6], 0xEE);
            u[6] = _mm256_shuffle_ps(t[5], t[7], 0x44);
            u[7] = _mm256_shuffle_ps(t[5], t[7], 0xEE);
            float *o = (float *)ob + (j0 + jb) + (i0 + ib8) * d1;
            for (int k = 0; k < 4; k++) {
                _mm256_storeu_ps(o + k * d1, _mm256_permute2f128_ps(u[k], u[k + 4], 0x20));
                _mm256_storeu_ps(o + (k + 4) * d1, _mm256_permute2f128_ps(u[k], u[k + 4], 0x31));
            }
        }
    }
}
#endif

/* out (d1 x d0 per matrix, dense, matrix after matrix) = in^T over every matrix of the batch
 * (dims 2 and 3, d[2] of them in dim 2). Tiles are shared among the threads. */
static void transpose_tiles(size_t es, af_dtype type, void *outp, const void *inp,
                            const dim_t d[4], const dim_t s[4], bool conj) {
    const dim_t d0 = d[0], d1 = d[1], nb = d[2] * d[3];
    const dim_t nt0 = (d0 + TB - 1) / TB, nt1 = (d1 + TB - 1) / TB, per = nt0 * nt1;
#pragma omp parallel for schedule(static) if (d0 * d1 * nb >= EM_CPU_TRANSPOSE_PAR)
    for (dim_t t = 0; t < nb * per; t++) {
        const dim_t b = t / per, r = t % per, i0 = (r % nt0) * TB, j0 = (r / nt0) * TB;
        const dim_t in_off = (b % d[2]) * s[2] + (b / d[2]) * s[3], out_off = b * d0 * d1;
        const int ni = (int)(i0 + TB < d0 ? TB : d0 - i0), nj = (int)(j0 + TB < d1 ? TB : d1 - j0);
#define EM_TILE_CALL(FN, T)                                                                        \
    FN((T *)outp + out_off, (const T *)inp + in_off, d1, s, i0, j0, ni, nj, conj)
        if (type == c32) {
            EM_TILE_CALL(tile_c32, em_cf);
        } else if (type == c64) {
            EM_TILE_CALL(tile_c64, em_cd);
        } else if (es == 4) {
#ifdef __AVX__
            if (s[0] == 1 && ni == TB && nj == TB)
                tile_4_avx((uint32_t *)outp + out_off, (const uint32_t *)inp + in_off, d1, s[1],
                           i0, j0);
            else
#endif
                EM_TILE_CALL(tile_4, uint32_t);
        } else if (es == 8) {
            EM_TILE_CALL(tile_8, uint64_t);
        } else if (es == 2) {
            EM_TILE_CALL(tile_2, uint16_t);
        } else {
            EM_TILE_CALL(tile_1, uint8_t);
        }
#undef EM_TILE_CALL
    }
}

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
    transpose_tiles(em_dtype_size(type), type, out, in, idims, istrides,
                    conj && em_dtype_is_complex(type));
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
