/* The on-disk kernel cache directory, and the rule for the code that Ember loads from it.
 * Backends that compile kernels at run time (CUDA with NVRTC, the CPU's fused loops) read the
 * directory here; af_set_kernel_cache_directory and af_get_kernel_cache_directory write and read
 * it.
 *
 * The default follows ArrayFire: the directory named by AF_JIT_KERNEL_CACHE_DIRECTORY when it is
 * set and writable, else $HOME/.arrayfire ($XDG_CACHE_HOME/.arrayfire when that is set), else
 * /tmp/arrayfire, else "" (no disk cache). The first candidate that is a writable directory, or
 * can be created as one, wins. Ember creates its defaults with mode 0700, and it never takes a
 * home or /tmp default that another user could write (someone else may have made /tmp/arrayfire
 * first): in its place it makes a private directory with mkdtemp (/tmp/arrayfire-XXXXXX, under
 * $TMPDIR when that is set), which is removed with its files when the library unloads. The
 * default is worked out once, on the first read.
 *
 * The rule. A kernel cache file is code that the process runs, so a backend reads one only
 * through em_kcache_open, which opens it only when the directory and the file are owned by the
 * effective user, are not writable by group or others, and are not symbolic links. Anything else
 * is ignored (the backend compiles afresh), and the refusal is reported on stderr when
 * EMBER_JIT_DEBUG=1 (the CUDA backend's trace switch) or EMBER_CPU_FUSE_DEBUG=1 (the CPU fused
 * path's). af_set_kernel_cache_directory accepts any path; the rule applies to what is read
 * from it. Writers put a file aside under a unique name and rename it into place, so a reader
 * never sees half a file. */
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

/* True when dir is a directory (not a symbolic link) owned by the effective user that group and
 * others cannot write: files in it can then come only from this user. A directory that fails is
 * reported under the trace switches. */
bool em_kcache_dir_private(const char *dir);

/* Opens dir/file (file is a plain name, no '/') for reading when both pass the rule, and returns
 * the descriptor (close-on-exec); -1 otherwise. The checks are made on the opened descriptors
 * (O_NOFOLLOW, then fstat), so the file that was checked is the file that is read: nothing can be
 * swapped in between. A missing file is silent; any other refusal is reported under the trace
 * switches. */
int em_kcache_open(const char *dir, const char *file);

/* em_kcache_open without keeping the descriptor. Exported (not part of the API) so that
 * tests/test_kcache.c can check the rule itself on either backend library. */
__attribute__((visibility("default"))) bool em_kcache_file_trusted(const char *dir,
                                                                   const char *file);

/* Test hook (exported, not part of the API): the default directory that candidates env (as
 * AF_JIT_KERNEL_CACHE_DIRECTORY), home (as $HOME) and fallback (as /tmp/arrayfire) give, worked
 * out as the first read works it out; a private directory it makes is not removed at unload.
 * Returns a malloc'ed string ("" for no disk cache), or NULL when out of memory. */
__attribute__((visibility("default"))) char *
em_kcache_default_from(const char *env, const char *home, const char *fallback);

/* True when the trace switches are on; em_kcache_trace prints "ember kernel cache: <message>" to
 * stderr then, and nothing otherwise. */
bool em_kcache_tracing(void);
void em_kcache_trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
