// Transpose kernels of the shape family (src/backend/cuda/shape.c compiles them with NVRTC). The
// host prepends three definitions that select the variant:
//   EM_ES    the element size in bytes (1, 2, 4, 8 or 16): a transpose moves bits, so one variant
//            serves every dtype of that size;
//   EM_CONJ  1 to conjugate complex elements (flip the sign bit of the imaginary part: exactly
//            IEEE negation, for NaN too), else 0;
//   EM_IDX64 1 when offsets need 64 bits, else 0 (32-bit index arithmetic is cheaper).
//
// Out of place, a block of 32 x 8 threads moves an EM_TT x EM_TT tile through shared memory
// (64 x 64, or 32 x 32 for 16-byte elements, which would not fit 48 KiB of static shared
// memory): it reads EM_TT columns of the input with threads along dimension 0 (whole cache lines,
// 256 contiguous bytes of each column for 4-byte elements), and writes EM_TT columns of the
// output the same way. Each thread moves EM_TT * EM_TT / 256 elements (16), all of its loads
// issued before the first store, so many bytes are in flight per SM, which the memory system
// needs to reach its bandwidth. In place, 32 x 32 tiles are swapped in pairs. A tile row has one
// extra element so that a warp reading a tile column touches 32 different banks. Matrices are
// batched over dims 2 and 3 through gridDim.z; every grid dimension loops, so any size fits the
// grid limits.

#define EM_TILE 32
#define EM_ROWS 8
#if EM_ES == 16
#define EM_TT 32
#else
#define EM_TT 64
#endif

#if EM_ES == 1
typedef unsigned char em_w;
#elif EM_ES == 2
typedef unsigned short em_w;
#elif EM_ES == 4
typedef unsigned int em_w;
#elif EM_ES == 8
typedef unsigned long long em_w;
#else
struct __align__(16) em_w {
    unsigned long long lo, hi;
};
#endif

#if EM_IDX64
typedef long long em_i;
#else
typedef int em_i;
#endif

__device__ __forceinline__ em_w em_conj(em_w v) {
#if EM_CONJ && EM_ES == 8
    v ^= 0x8000000000000000ull; // c32: the imaginary float is the upper half
#elif EM_CONJ && EM_ES == 16
    v.hi ^= 0x8000000000000000ull; // c64: the imaginary double is the second word
#endif
    return v;
}

// out (d1 x d0 per matrix, dense, matrix after matrix) = the transpose of in, whose element
// (i, j, k, l) is in[i*s0 + j*s1 + k*s2 + l*s3]; nb = d2 * d3 matrices.
extern "C" __global__ void __launch_bounds__(EM_TILE *EM_ROWS)
    em_transpose(em_w *__restrict__ out, const em_w *__restrict__ in, em_i d0, em_i d1, em_i d2,
                 em_i nb, em_i s0, em_i s1, em_i s2, em_i s3) {
    __shared__ em_w tile[EM_TT][EM_TT + 1];
    const em_i t0 = (d0 + EM_TT - 1) / EM_TT, t1 = (d1 + EM_TT - 1) / EM_TT;
    const int tx = threadIdx.x, ty = threadIdx.y;
    for (em_i b = blockIdx.z; b < nb; b += gridDim.z) {
        const em_w *ib = in + (b % d2) * s2 + (b / d2) * s3;
        em_w *ob = out + b * d0 * d1;
        for (em_i bj = blockIdx.y; bj < t1; bj += gridDim.y) {
            for (em_i bi = blockIdx.x; bi < t0; bi += gridDim.x) {
                const em_i i0 = bi * EM_TT, j0 = bj * EM_TT;
                // Read: thread x walks dimension 0 (rows i, in steps of 32), each of the
                // EM_TT / 8 steps of y a column j. Every load is issued before any is used.
                em_w v[EM_TT / EM_ROWS][EM_TT / EM_TILE];
#pragma unroll
                for (int r = 0; r < EM_TT / EM_ROWS; r++) {
                    const em_i j = j0 + ty + r * EM_ROWS;
#pragma unroll
                    for (int u = 0; u < EM_TT / EM_TILE; u++) {
                        const em_i i = i0 + tx + u * EM_TILE;
                        v[r][u] = i < d0 && j < d1 ? ib[i * s0 + j * s1] : em_w();
                    }
                }
#pragma unroll
                for (int r = 0; r < EM_TT / EM_ROWS; r++)
#pragma unroll
                    for (int u = 0; u < EM_TT / EM_TILE; u++)
                        tile[ty + r * EM_ROWS][tx + u * EM_TILE] = v[r][u];
                __syncthreads();
                // Write: thread x walks the output's dimension 0 (the input's columns j).
#pragma unroll
                for (int r = 0; r < EM_TT / EM_ROWS; r++) {
                    const em_i ii = i0 + ty + r * EM_ROWS;
#pragma unroll
                    for (int u = 0; u < EM_TT / EM_TILE; u++) {
                        const em_i j = j0 + tx + u * EM_TILE;
                        if (ii < d0 && j < d1)
                            ob[j + ii * d1] = em_conj(tile[tx + u * EM_TILE][ty + r * EM_ROWS]);
                    }
                }
                __syncthreads();
            }
        }
    }
}

// In place on n x n matrices (dense, nb of them): the block at tile (bi, bj), bi <= bj, swaps
// that tile with tile (bj, bi) through shared memory; a diagonal tile is transposed within
// itself. Blocks below the diagonal have nothing to do. Each element is read and written by one
// block only, so no two blocks race.
extern "C" __global__ void __launch_bounds__(EM_TILE *EM_ROWS)
    em_transpose_inplace(em_w *__restrict__ data, em_i n, em_i nb) {
    __shared__ em_w ta[EM_TILE][EM_TILE + 1];
    __shared__ em_w tb[EM_TILE][EM_TILE + 1];
    const em_i nt = (n + EM_TILE - 1) / EM_TILE;
    const int tx = threadIdx.x, ty = threadIdx.y;
    for (em_i b = blockIdx.z; b < nb; b += gridDim.z) {
        em_w *a = data + b * n * n;
        for (em_i bj = blockIdx.y; bj < nt; bj += gridDim.y) {
            for (em_i bi = blockIdx.x; bi <= bj; bi += gridDim.x) {
                const em_i i0 = bi * EM_TILE, j0 = bj * EM_TILE;
                const bool diag = bi == bj;
                // ta = tile (i0, j0); tb = tile (j0, i0).
#pragma unroll
                for (int r = 0; r < EM_TILE; r += EM_ROWS) {
                    const em_i i = i0 + tx, j = j0 + ty + r;
                    if (i < n && j < n) ta[ty + r][tx] = a[i + j * n];
                    const em_i i2 = j0 + tx, j2 = i0 + ty + r;
                    if (!diag && i2 < n && j2 < n) tb[ty + r][tx] = a[i2 + j2 * n];
                }
                __syncthreads();
                // Tile (j0, i0) receives ta transposed; tile (i0, j0) receives tb transposed.
#pragma unroll
                for (int r = 0; r < EM_TILE; r += EM_ROWS) {
                    const em_i i = j0 + tx, j = i0 + ty + r;
                    if (i < n && j < n) a[i + j * n] = em_conj(ta[tx][ty + r]);
                    const em_i i2 = i0 + tx, j2 = j0 + ty + r;
                    if (!diag && i2 < n && j2 < n) a[i2 + j2 * n] = em_conj(tb[tx][ty + r]);
                }
                __syncthreads();
            }
        }
    }
}
