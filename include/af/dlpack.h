/* Ember extension: DLPack 1.x, both ways, zero-copy.
 *
 * The DLPack structs below are the ABI of the DLPack specification (dlpack.h 1.1, dmlc/dlpack).
 * They are guarded by DLPack's own include guard, so including the real dlpack.h before or after
 * this header does not conflict: whichever comes first defines them, and both define the same
 * layout. */
#ifndef EMBER_AF_DLPACK_H
#define EMBER_AF_DLPACK_H

#include <af/defines.h>

#ifndef DLPACK_DLPACK_H_
#define DLPACK_DLPACK_H_

#include <stddef.h>
#include <stdint.h>

#define DLPACK_MAJOR_VERSION 1
#define DLPACK_MINOR_VERSION 1

#ifdef __cplusplus
#define DLPACK_EXTERN_C extern "C"
#else
#define DLPACK_EXTERN_C
#endif
#define DLPACK_DLL

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    uint32_t major;
    uint32_t minor;
} DLPackVersion;

#ifdef __cplusplus
typedef enum : int32_t {
#else
typedef enum {
#endif
    kDLCPU = 1,
    kDLCUDA = 2,
    kDLCUDAHost = 3,
    kDLOpenCL = 4,
    kDLVulkan = 7,
    kDLMetal = 8,
    kDLVPI = 9,
    kDLROCM = 10,
    kDLROCMHost = 11,
    kDLExtDev = 12,
    kDLCUDAManaged = 13,
    kDLOneAPI = 14,
    kDLWebGPU = 15,
    kDLHexagon = 16,
    kDLMAIA = 17,
} DLDeviceType;

typedef struct {
    DLDeviceType device_type;
    int32_t device_id;
} DLDevice;

typedef enum {
    kDLInt = 0U,
    kDLUInt = 1U,
    kDLFloat = 2U,
    kDLOpaqueHandle = 3U,
    kDLBfloat = 4U,
    kDLComplex = 5U,
    kDLBool = 6U,
    kDLFloat8_e3m4 = 7U,
    kDLFloat8_e4m3 = 8U,
    kDLFloat8_e4m3b11fnuz = 9U,
    kDLFloat8_e4m3fn = 10U,
    kDLFloat8_e4m3fnuz = 11U,
    kDLFloat8_e5m2 = 12U,
    kDLFloat8_e5m2fnuz = 13U,
    kDLFloat8_e8m0fnu = 14U,
    kDLFloat6_e2m3fn = 15U,
    kDLFloat6_e3m2fn = 16U,
    kDLFloat4_e2m1fn = 17U,
} DLDataTypeCode;

typedef struct {
    uint8_t code;
    uint8_t bits;
    uint16_t lanes;
} DLDataType;

typedef struct {
    void *data;
    DLDevice device;
    int32_t ndim;
    DLDataType dtype;
    int64_t *shape;
    int64_t *strides;
    uint64_t byte_offset;
} DLTensor;

typedef struct DLManagedTensor {
    DLTensor dl_tensor;
    void *manager_ctx;
    void (*deleter)(struct DLManagedTensor *self);
} DLManagedTensor;

#define DLPACK_FLAG_BITMASK_READ_ONLY              (1UL << 0UL)
#define DLPACK_FLAG_BITMASK_IS_COPIED              (1UL << 1UL)
#define DLPACK_FLAG_BITMASK_IS_SUBBYTE_TYPE_PADDED (1UL << 2UL)

typedef struct DLManagedTensorVersioned {
    DLPackVersion version;
    void *manager_ctx;
    void (*deleter)(struct DLManagedTensorVersioned *self);
    uint64_t flags;
    DLTensor dl_tensor;
} DLManagedTensorVersioned;

#ifdef __cplusplus
}
#endif

#endif /* DLPACK_DLPACK_H_ */

#ifdef __cplusplus
extern "C" {
#endif

/* Shapes keep Ember's index order: an Ember array of dims (d0, d1, ...) is a DLPack tensor of shape
 * (d0, d1, ...) with strides (1, d0, ...) in elements (column-major), so element (i, j) is the same
 * element on both sides. Strides are always set. */

/** Ember extension: exports `in` as a DLPack 1.x tensor without copying (a lazy array is evaluated
 * first). The tensor holds a reference to the array's buffer; its deleter releases it, so the
 * caller may release `in` at once. `stream` is the consumer's stream (a cudaStream_t on CUDA,
 * ignored on the CPU): when non-NULL, the consumer's stream is made to wait for Ember's pending
 * work on the data through an event, with no host sync; NULL asks for no hand-off. The tensor is
 * marked read-only when its buffer is shared with other arrays, so that writes by the consumer
 * cannot show through them. Errors: AF_ERR_ARG (NULL out), AF_ERR_INVALID_ARRAY. */
AFAPI af_err af_dlpack_export(DLManagedTensorVersioned **out, const af_array in, void *stream);

/** Ember extension: imports a DLPack 1.x tensor as an array without copying where Ember can
 * express its layout (up to 4 dims after merging contiguous ones, any element strides). Otherwise
 * the data is copied, `*copied` (when non-NULL) is set to true, and the tensor's deleter is called
 * at once. The tensor's deleter is otherwise called exactly once, when the last Ember reference
 * dies and Ember's work on the data has finished. A read-only tensor becomes copy-on-write: Ember
 * copies before any write or af_get_device_ptr. `stream` is the producer's stream: when non-NULL,
 * Ember's stream waits for it through an event, with no host sync. On failure the tensor is left
 * to the caller. Errors: AF_ERR_ARG (NULL, wrong device kind, lanes != 1), AF_ERR_TYPE (a dtype
 * Ember lacks), AF_ERR_NOT_SUPPORTED (a DLPack major version other than 1). */
AFAPI af_err af_dlpack_import(af_array *out, DLManagedTensorVersioned *tensor, void *stream,
                              bool *copied);

/** Ember extension: as af_dlpack_import, for the legacy unversioned DLManagedTensor. */
AFAPI af_err af_dlpack_import_legacy(af_array *out, DLManagedTensor *tensor, void *stream,
                                     bool *copied);

#ifdef __cplusplus
}
#endif

#endif /* EMBER_AF_DLPACK_H */
