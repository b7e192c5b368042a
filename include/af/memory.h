/* Ember: an implementation of ArrayFire's C API. This header declares ArrayFire 3.10's custom
 * memory manager interface, with the same names, types and AF_API_VERSION guards. */

#ifndef EMBER_AF_MEMORY_H
#define EMBER_AF_MEMORY_H

#include <af/defines.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Callbacks of a custom memory manager. They exist from API level 37 on, as the functions
 * that install them do. */
#if AF_API_VERSION >= 37
/** Called once when the manager is installed. */
typedef af_err (*af_memory_manager_initialize_fn)(af_memory_manager handle);

/** Called once when the manager is removed. */
typedef af_err (*af_memory_manager_shutdown_fn)(af_memory_manager handle);

/** Allocates ndims x dims x element_size bytes into *ptr. */
typedef af_err (*af_memory_manager_alloc_fn)(af_memory_manager handle, void **ptr, int user_lock,
                                             const unsigned ndims, dim_t *dims,
                                             const unsigned element_size);

/** Returns the size of the allocation at ptr. */
typedef af_err (*af_memory_manager_allocated_fn)(af_memory_manager handle, size_t *size, void *ptr);

/** Releases ptr, as the library or the user. */
typedef af_err (*af_memory_manager_unlock_fn)(af_memory_manager handle, void *ptr, int user_unlock);

/** Asks the manager to free cached memory. */
typedef af_err (*af_memory_manager_signal_memory_cleanup_fn)(af_memory_manager handle);

/** Prints the manager state for device id. */
typedef af_err (*af_memory_manager_print_info_fn)(af_memory_manager handle, char *buffer, int id);

/** Marks ptr as locked by the user. */
typedef af_err (*af_memory_manager_user_lock_fn)(af_memory_manager handle, void *ptr);

/** Clears the user lock of ptr. */
typedef af_err (*af_memory_manager_user_unlock_fn)(af_memory_manager handle, void *ptr);

/** Tests the user lock of ptr. */
typedef af_err (*af_memory_manager_is_user_locked_fn)(af_memory_manager handle, int *out,
                                                      void *ptr);

/** Returns the memory pressure, 0 to 1. */
typedef af_err (*af_memory_manager_get_memory_pressure_fn)(af_memory_manager handle,
                                                           float *pressure);

/** Tests whether a JIT tree of size bytes should be evaluated now. */
typedef af_err (*af_memory_manager_jit_tree_exceeds_memory_pressure_fn)(af_memory_manager handle,
                                                                        int *out, size_t size);

/** Tells the manager a device was added. */
typedef void (*af_memory_manager_add_memory_management_fn)(af_memory_manager handle, int id);

/** Tells the manager a device was removed. */
typedef void (*af_memory_manager_remove_memory_management_fn)(af_memory_manager handle, int id);
#endif

#if AF_API_VERSION >= 37
/** Creates a custom memory manager handle. */
AFAPI af_err af_create_memory_manager(af_memory_manager *out);
#endif

#if AF_API_VERSION >= 37
/** Releases a custom memory manager handle. */
AFAPI af_err af_release_memory_manager(af_memory_manager handle);
#endif

#if AF_API_VERSION >= 37
/** Installs a custom memory manager for device memory. */
AFAPI af_err af_set_memory_manager(af_memory_manager handle);
#endif

#if AF_API_VERSION >= 37
/** Installs a custom memory manager for pinned host memory. */
AFAPI af_err af_set_memory_manager_pinned(af_memory_manager handle);
#endif

#if AF_API_VERSION >= 37
/** Restores the default device memory manager. */
AFAPI af_err af_unset_memory_manager();
#endif

#if AF_API_VERSION >= 37
/** Restores the default pinned memory manager. */
AFAPI af_err af_unset_memory_manager_pinned();
#endif

#if AF_API_VERSION >= 37
/** Returns the user payload of a memory manager. */
AFAPI af_err af_memory_manager_get_payload(af_memory_manager handle, void **payload);
#endif

#if AF_API_VERSION >= 37
/** Sets the user payload of a memory manager. */
AFAPI af_err af_memory_manager_set_payload(af_memory_manager handle, void *payload);
#endif

#if AF_API_VERSION >= 37
/** Sets the memory manager's initialize callback. */
AFAPI af_err af_memory_manager_set_initialize_fn(af_memory_manager handle,
                                                 af_memory_manager_initialize_fn fn);
#endif

#if AF_API_VERSION >= 37
/** Sets the memory manager's shutdown callback. */
AFAPI af_err af_memory_manager_set_shutdown_fn(af_memory_manager handle,
                                               af_memory_manager_shutdown_fn fn);
#endif

#if AF_API_VERSION >= 37
/** Sets the memory manager's allocation callback. */
AFAPI af_err af_memory_manager_set_alloc_fn(af_memory_manager handle,
                                            af_memory_manager_alloc_fn fn);
#endif

#if AF_API_VERSION >= 37
/** Sets the callback that reports a pointer's allocated size. */
AFAPI af_err af_memory_manager_set_allocated_fn(af_memory_manager handle,
                                                af_memory_manager_allocated_fn fn);
#endif

#if AF_API_VERSION >= 37
/** Sets the memory manager's unlock callback. */
AFAPI af_err af_memory_manager_set_unlock_fn(af_memory_manager handle,
                                             af_memory_manager_unlock_fn fn);
#endif

#if AF_API_VERSION >= 37
/** Sets the memory manager's cleanup callback. */
AFAPI af_err af_memory_manager_set_signal_memory_cleanup_fn(
    af_memory_manager handle, af_memory_manager_signal_memory_cleanup_fn fn);
#endif

#if AF_API_VERSION >= 37
/** Sets the memory manager's print-info callback. */
AFAPI af_err af_memory_manager_set_print_info_fn(af_memory_manager handle,
                                                 af_memory_manager_print_info_fn fn);
#endif

#if AF_API_VERSION >= 37
/** Sets the memory manager's user-lock callback. */
AFAPI af_err af_memory_manager_set_user_lock_fn(af_memory_manager handle,
                                                af_memory_manager_user_lock_fn fn);
#endif

#if AF_API_VERSION >= 37
/** Sets the memory manager's user-unlock callback. */
AFAPI af_err af_memory_manager_set_user_unlock_fn(af_memory_manager handle,
                                                  af_memory_manager_user_unlock_fn fn);
#endif

#if AF_API_VERSION >= 37
/** Sets the memory manager's is-user-locked callback. */
AFAPI af_err af_memory_manager_set_is_user_locked_fn(af_memory_manager handle,
                                                     af_memory_manager_is_user_locked_fn fn);
#endif

#if AF_API_VERSION >= 37
/** Sets the memory manager's pressure callback. */
AFAPI af_err af_memory_manager_set_get_memory_pressure_fn(
    af_memory_manager handle, af_memory_manager_get_memory_pressure_fn fn);
#endif

#if AF_API_VERSION >= 37
/** Sets the callback that decides whether a JIT tree's size calls for evaluation. */
AFAPI af_err af_memory_manager_set_jit_tree_exceeds_memory_pressure_fn(
    af_memory_manager handle, af_memory_manager_jit_tree_exceeds_memory_pressure_fn fn);
#endif

#if AF_API_VERSION >= 37
/** Sets the callback run when a device is added. */
AFAPI af_err af_memory_manager_set_add_memory_management_fn(
    af_memory_manager handle, af_memory_manager_add_memory_management_fn fn);
#endif

#if AF_API_VERSION >= 37
/** Sets the callback run when a device is removed. */
AFAPI af_err af_memory_manager_set_remove_memory_management_fn(
    af_memory_manager handle, af_memory_manager_remove_memory_management_fn fn);
#endif

#if AF_API_VERSION >= 37
/** Returns the active device id, for use by callbacks. */
AFAPI af_err af_memory_manager_get_active_device_id(af_memory_manager handle, int *id);
#endif

#if AF_API_VERSION >= 37
/** Allocates size bytes with the backend's native allocator. */
AFAPI af_err af_memory_manager_native_alloc(af_memory_manager handle, void **ptr, size_t size);
#endif

#if AF_API_VERSION >= 37
/** Frees memory from af_memory_manager_native_alloc. */
AFAPI af_err af_memory_manager_native_free(af_memory_manager handle, void *ptr);
#endif

#if AF_API_VERSION >= 37
/** Returns the memory size of device id. */
AFAPI af_err af_memory_manager_get_max_memory_size(af_memory_manager handle, size_t *size, int id);
#endif

#if AF_API_VERSION >= 37
/** Returns the memory pressure threshold. */
AFAPI af_err af_memory_manager_get_memory_pressure_threshold(af_memory_manager handle,
                                                             float *value);
#endif

#if AF_API_VERSION >= 37
/** Sets the memory pressure threshold. */
AFAPI af_err af_memory_manager_set_memory_pressure_threshold(af_memory_manager handle, float value);
#endif

#ifdef __cplusplus
}
#endif

#endif /* EMBER_AF_MEMORY_H */
