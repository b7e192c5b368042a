/* Ember: an implementation of ArrayFire's C API. This header declares ArrayFire 3.10's device,
 * memory and device-pointer interface, with the same names, types and AF_API_VERSION guards. */

#ifndef EMBER_AF_DEVICE_H
#define EMBER_AF_DEVICE_H

#include <af/defines.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Prints the library version and the available devices to stdout. */
AFAPI af_err af_info();

/** Initialises the library and the default device. */
AFAPI af_err af_init();

/** Returns the text af_info prints, allocated with af_alloc_host. */
AFAPI af_err af_info_string(char **str, const bool verbose);

/** Returns the name, platform, toolkit and compute level of the active device. */
AFAPI af_err af_device_info(char *d_name, char *d_platform, char *d_toolkit, char *d_compute);

/** Returns the number of devices of the active backend. */
AFAPI af_err af_get_device_count(int *num_of_devices);

/** Tests whether device supports double precision. */
AFAPI af_err af_get_dbl_support(bool *available, const int device);

/** Tests whether device supports half precision. */
AFAPI af_err af_get_half_support(bool *available, const int device);

/** Makes device the active device of this thread. */
AFAPI af_err af_set_device(const int device);

/** Returns the active device of this thread. */
AFAPI af_err af_get_device(int *device);

/** Blocks until all work queued on device has finished (-1: the active one). */
AFAPI af_err af_sync(const int device);

/** Allocates device memory from the memory manager (deprecated). */
AFAPI af_err af_alloc_device(void **ptr, const dim_t bytes);

/** Frees memory from af_alloc_device (deprecated). */
AFAPI af_err af_free_device(void *ptr);

#if AF_API_VERSION >= 38
/** Allocates device memory from the memory manager, locked for the user. */
AFAPI af_err af_alloc_device_v2(void **ptr, const dim_t bytes);
#endif

#if AF_API_VERSION >= 38
/** Frees memory from af_alloc_device_v2. */
AFAPI af_err af_free_device_v2(void *ptr);
#endif

/** Allocates page-locked host memory. */
AFAPI af_err af_alloc_pinned(void **ptr, const dim_t bytes);

/** Frees memory from af_alloc_pinned. */
AFAPI af_err af_free_pinned(void *ptr);

#if AF_API_VERSION >= 33
/** Allocates host memory that the caller frees with af_free_host. */
AFAPI af_err af_alloc_host(void **ptr, const dim_t bytes);
#endif

#if AF_API_VERSION >= 33
/** Frees host memory that the library allocated. */
AFAPI af_err af_free_host(void *ptr);
#endif

/** Creates an array that adopts the device buffer data. */
AFAPI af_err af_device_array(af_array *arr, void *data, const unsigned ndims,
                             const dim_t *const dims, const af_dtype type);

/** Reports the memory manager's allocated and locked bytes and buffers. */
AFAPI af_err af_device_mem_info(size_t *alloc_bytes, size_t *alloc_buffers, size_t *lock_bytes,
                                size_t *lock_buffers);

#if AF_API_VERSION >= 33
/** Prints the memory manager's buffers of device_id with the header msg. */
AFAPI af_err af_print_mem_info(const char *msg, const int device_id);
#endif

/** Frees the memory manager's unused buffers of the active device. */
AFAPI af_err af_device_gc();

/** Sets the granularity of memory manager allocations. */
AFAPI af_err af_set_mem_step_size(const size_t step_bytes);

/** Returns the granularity of memory manager allocations. */
AFAPI af_err af_get_mem_step_size(size_t *step_bytes);

#if AF_API_VERSION >= 31
/** Locks the buffer of arr against reuse (deprecated: af_lock_array). */
AFAPI af_err af_lock_device_ptr(const af_array arr);
#endif

#if AF_API_VERSION >= 31
/** Unlocks the buffer of arr (deprecated: af_unlock_array). */
AFAPI af_err af_unlock_device_ptr(const af_array arr);
#endif

#if AF_API_VERSION >= 33
/** Locks the buffer of arr so that the library never frees or reuses it. */
AFAPI af_err af_lock_array(const af_array arr);
#endif

#if AF_API_VERSION >= 33
/** Hands the buffer of arr back to the memory manager. */
AFAPI af_err af_unlock_array(const af_array arr);
#endif

#if AF_API_VERSION >= 34
/** Tests whether the buffer of arr is locked by the user. */
AFAPI af_err af_is_locked_array(bool *res, const af_array arr);
#endif

/** Evaluates arr, locks its buffer and returns its device pointer. */
AFAPI af_err af_get_device_ptr(void **ptr, const af_array arr);

#if AF_API_VERSION >= 38
/** Sets the directory of the on-disk kernel cache. */
AFAPI af_err af_set_kernel_cache_directory(const char *path, int override_env);
#endif

#if AF_API_VERSION >= 38
/** Returns the directory of the on-disk kernel cache. */
AFAPI af_err af_get_kernel_cache_directory(size_t *length, char *path);
#endif

/* Ember extension, not part of ArrayFire's ABI. af_device_array adopts the caller's buffer and
 * frees it with the library's allocator, which is wrong for memory from another allocator or
 * memory the caller keeps. Programs that must also build against ArrayFire can test for
 * EMBER_DEVICE_ARRAY_BORROW. */
#define EMBER_DEVICE_ARRAY_BORROW 1

/** Ember extension: creates an array over the device buffer data without copying it. With release
 * NULL the buffer is borrowed: Ember never frees it, and the caller keeps it alive while the array
 * or any array sharing it lives. Otherwise release(data, ctx) is called exactly once, after the
 * last reference is gone and all Ember work touching the buffer has finished. */
AFAPI af_err af_device_array_borrow(af_array *arr, void *data, const unsigned ndims,
                                    const dim_t *const dims, const af_dtype type,
                                    void (*release)(void *ptr, void *ctx), void *ctx);

/* Ember extension, not part of ArrayFire's ABI: an explicit copy between devices. An operation
 * takes arrays of the calling thread's active device only (AF_ERR_DEVICE otherwise), so an array
 * moves to another device through this call. Programs that must also build against ArrayFire can
 * test for EMBER_COPY_ARRAY_TO_DEVICE. */
#define EMBER_COPY_ARRAY_TO_DEVICE 1

/** Ember extension: creates in *out a new array on `device` that holds in's values (same dtype and
 * dims, dense). The caller owns *out and releases it with af_release_array. When `device` is in's
 * own device this is a plain copy, as af_copy_array. Otherwise the copy goes peer to peer where the
 * devices allow it (else through the host, by the driver), ordered after the work queued for `in`
 * and before later work on `device`, without blocking the host. The active device does not change.
 * The CPU backend has device 0 only. Errors: AF_ERR_ARG for a NULL out, a NULL handle or a device
 * id out of range; AF_ERR_INVALID_ARRAY for a released handle; AF_ERR_NO_MEM when `device` is full;
 * AF_ERR_NOT_SUPPORTED when a custom memory manager (af/memory.h), which allocates on the active
 * device only, is installed and the copy needs memory on another device: `device` must then be
 * active and `in` evaluated and dense. */
AFAPI af_err af_copy_array_to_device(af_array *out, const af_array in, const int device);

#ifdef __cplusplus
}
#endif

#endif /* EMBER_AF_DEVICE_H */
