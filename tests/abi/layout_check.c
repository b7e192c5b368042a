/* Compile-time checks of the sizes and layouts that ArrayFire's ABI fixes on 64-bit targets.
 * abi_check.py compares the headers' text with the lists; this file asks the compiler, which
 * catches what text cannot, such as padding or an enum that stopped fitting in an int. It is
 * compiled as C11 and as C++ by check_headers.sh, never linked. */
#include <arrayfire.h>

#include <stddef.h>

#ifdef __cplusplus
#define EM_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
#else
#define EM_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#endif

EM_STATIC_ASSERT(AF_API_VERSION == 310, "AF_API_VERSION defaults to the current level");
EM_STATIC_ASSERT(AF_API_VERSION_CURRENT == 310, "API level 3.10");
EM_STATIC_ASSERT(AF_VERSION_MAJOR == 3 && AF_VERSION_MINOR == 10 && AF_VERSION_PATCH == 0,
                 "version 3.10.0");
EM_STATIC_ASSERT(AF_MAX_DIMS == 4, "four dimensions");

EM_STATIC_ASSERT(sizeof(dim_t) == 8, "dim_t is long long on 64-bit targets");
EM_STATIC_ASSERT(sizeof(af_array) == sizeof(void *), "handles are pointers");
EM_STATIC_ASSERT(sizeof(af_features) == sizeof(void *), "handles are pointers");
EM_STATIC_ASSERT(sizeof(af_event) == sizeof(void *), "handles are pointers");
EM_STATIC_ASSERT(sizeof(af_memory_manager) == sizeof(void *), "handles are pointers");
EM_STATIC_ASSERT(sizeof(af_random_engine) == sizeof(void *), "handles are pointers");
EM_STATIC_ASSERT(sizeof(af_window) == sizeof(void *), "handles are pointers");

/* Enums travel as int through the ABI; every value fits, so the compiler must pick int. */
EM_STATIC_ASSERT(sizeof(af_err) == sizeof(int), "enums are int-sized");
EM_STATIC_ASSERT(sizeof(af_dtype) == sizeof(int), "enums are int-sized");
EM_STATIC_ASSERT(sizeof(af_mat_prop) == sizeof(int), "enums are int-sized");
EM_STATIC_ASSERT(sizeof(af_backend) == sizeof(int), "enums are int-sized");
EM_STATIC_ASSERT(sizeof(af_random_engine_type) == sizeof(int), "enums are int-sized");

EM_STATIC_ASSERT(sizeof(af_seq) == 24, "af_seq is three doubles");
EM_STATIC_ASSERT(offsetof(af_seq, begin) == 0, "af_seq.begin");
EM_STATIC_ASSERT(offsetof(af_seq, end) == 8, "af_seq.end");
EM_STATIC_ASSERT(offsetof(af_seq, step) == 16, "af_seq.step");

EM_STATIC_ASSERT(sizeof(af_index_t) == 32, "af_index_t: 24-byte union, two bools, padding");
EM_STATIC_ASSERT(offsetof(af_index_t, idx) == 0, "af_index_t.idx");
EM_STATIC_ASSERT(offsetof(af_index_t, isSeq) == 24, "af_index_t.isSeq");
EM_STATIC_ASSERT(offsetof(af_index_t, isBatch) == 25, "af_index_t.isBatch");
EM_STATIC_ASSERT(sizeof(bool) == 1, "bool is one byte");

EM_STATIC_ASSERT(sizeof(af_cfloat) == 8 && offsetof(af_cfloat, imag) == 4, "af_cfloat");
EM_STATIC_ASSERT(sizeof(af_cdouble) == 16 && offsetof(af_cdouble, imag) == 8, "af_cdouble");
EM_STATIC_ASSERT(sizeof(af_half) == 2, "af_half is the binary16 bits");

EM_STATIC_ASSERT(sizeof(af_cell) == 24 && offsetof(af_cell, title) == 8 &&
                     offsetof(af_cell, cmap) == 16,
                 "af_cell");
