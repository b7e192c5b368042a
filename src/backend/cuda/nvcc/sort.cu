// CUB's device-wide radix sort for the sort family (src/backend/cuda/sort.c), behind extern "C"
// launchers. Keys arrive already mapped to ordered unsigned integers (kernels/sort.cuh), so two
// key widths (32 and 64 bits) serve every dtype and both directions, and the only payload is a
// 32-bit word (an index, or a 4-byte value): four instantiations in all, which keeps nvcc's share
// of the build short. Every call takes its temporary storage from the caller (Ember's pool) and
// runs on the caller's stream; a call with temp == NULL only reports the bytes it needs.
#include <cub/device/device_radix_sort.cuh>

#include <cuda_runtime.h>

namespace {

template <typename K>
cudaError_t sort_keys(void *temp, size_t *bytes, void *k0, void *k1, int *sel, int n, int lo,
                      int hi, cudaStream_t s) {
    cub::DoubleBuffer<K> keys(static_cast<K *>(k0), static_cast<K *>(k1));
    cudaError_t e = cub::DeviceRadixSort::SortKeys(temp, *bytes, keys, n, lo, hi, s);
    if (sel) *sel = keys.selector;
    return e;
}

template <typename K>
cudaError_t sort_pairs(void *temp, size_t *bytes, void *k0, void *k1, unsigned *v0, unsigned *v1,
                       int *sel, int n, int lo, int hi, cudaStream_t s) {
    cub::DoubleBuffer<K> keys(static_cast<K *>(k0), static_cast<K *>(k1));
    cub::DoubleBuffer<unsigned> vals(v0, v1);
    cudaError_t e = cub::DeviceRadixSort::SortPairs(temp, *bytes, keys, vals, n, lo, hi, s);
    if (sel) {
        sel[0] = keys.selector;
        sel[1] = vals.selector;
    }
    return e;
}

} // namespace

// Sorts n keys (32-bit when wide == 0, else 64-bit) by bits [lo, hi), stably, ping-ponging
// between k0 (the input) and k1; *sel says which holds the result (0: k0, 1: k1).
extern "C" cudaError_t em_cub_sort_keys(int wide, void *temp, size_t *bytes, void *k0, void *k1,
                                        int *sel, int n, int lo, int hi, cudaStream_t s) {
    return wide ? sort_keys<unsigned long long>(temp, bytes, k0, k1, sel, n, lo, hi, s)
                : sort_keys<unsigned>(temp, bytes, k0, k1, sel, n, lo, hi, s);
}

// As em_cub_sort_keys, moving a 32-bit payload (v0, scratch v1) with each key; sel[0] and sel[1]
// say where the keys and the payload ended.
extern "C" cudaError_t em_cub_sort_pairs(int wide, void *temp, size_t *bytes, void *k0, void *k1,
                                         unsigned *v0, unsigned *v1, int *sel, int n, int lo,
                                         int hi, cudaStream_t s) {
    return wide ? sort_pairs<unsigned long long>(temp, bytes, k0, k1, v0, v1, sel, n, lo, hi, s)
                : sort_pairs<unsigned>(temp, bytes, k0, k1, v0, v1, sel, n, lo, hi, s);
}

// float keys sorted by CUB's own bit twiddling, from the input straight into the output (CUB
// keeps the other buffer of its ping-pong in the temporary storage): no mapping passes and no
// copy. CUB orders -0 with +0 and puts negative NaNs below -inf (above +inf when descending);
// the caller moves those to where the rest of the library puts NaN.
extern "C" cudaError_t em_cub_sort_f32(void *temp, size_t *bytes, const float *in, float *out,
                                       int n, int descending, cudaStream_t s) {
    return descending ? cub::DeviceRadixSort::SortKeysDescending(temp, *bytes, in, out, n, 0, 32, s)
                      : cub::DeviceRadixSort::SortKeys(temp, *bytes, in, out, n, 0, 32, s);
}
