/* The on-disk kernel cache directory. Backends that compile kernels at run time (CUDA with NVRTC)
 * read it here; af_set_kernel_cache_directory and af_get_kernel_cache_directory write and read it.
 *
 * The default follows ArrayFire: the directory named by AF_JIT_KERNEL_CACHE_DIRECTORY when it is
 * set and writable, else $HOME/.arrayfire ($XDG_CACHE_HOME/.arrayfire when that is set), else
 * /tmp/arrayfire, else "" (no disk cache). The first candidate that is a writable directory, or
 * can be created as one, wins. The default is worked out once, on the first read. */
#ifndef EM_CORE_KCACHE_H
#define EM_CORE_KCACHE_H

#include <af/defines.h>
#include <stdbool.h>
#include <stddef.h>

#define EM_KCACHE_ENV "AF_JIT_KERNEL_CACHE_DIRECTORY"

/* Sets the directory. With override_env false, a non-empty AF_JIT_KERNEL_CACHE_DIRECTORY in the
 * environment wins and the call changes nothing (ArrayFire's rule). Errors: AF_ERR_NO_MEM. */
af_err em_kcache_dir_set(const char *path, bool override_env);

/* Copies the directory into out (at most cap - 1 characters, then a NUL, when cap > 0) and returns
 * its full length, as snprintf does. Safe to call from any thread. */
size_t em_kcache_dir(char *out, size_t cap);

#endif
