#include "kcache.h"

#include "err.h"

#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static pthread_mutex_t em_kcache_lock = PTHREAD_MUTEX_INITIALIZER;
static char *em_kcache_path; /* malloc'ed; NULL until set or defaulted */

/* True when path is a directory this process may create files in; creates it (one level, as
 * ArrayFire does) when missing. */
static bool dir_writable(const char *path) {
    if (!path || !path[0]) return false;
    struct stat st;
    if (stat(path, &st) != 0) {
        if (mkdir(path, 0777) != 0) return false;
        if (stat(path, &st) != 0) return false;
    }
    return S_ISDIR(st.st_mode) && access(path, W_OK | X_OK) == 0;
}

/* The home directory as ArrayFire picks it: XDG_CACHE_HOME, then HOME, then the password
 * database. */
static const char *home_dir(void) {
    const char *home = getenv("XDG_CACHE_HOME");
    if (home && home[0]) return home;
    home = getenv("HOME");
    if (home && home[0]) return home;
    struct passwd *pw = getpwuid(getuid());
    return pw ? pw->pw_dir : NULL;
}

/* Works out the default directory. Caller holds the lock. Returns NULL only when out of memory. */
static char *default_dir(void) {
    const char *env = getenv(EM_KCACHE_ENV);
    if (env && env[0] && dir_writable(env)) return strdup(env);
    const char *home = home_dir();
    if (home && home[0]) {
        size_t n = strlen(home) + sizeof("/.arrayfire");
        char *p = malloc(n);
        if (!p) return NULL;
        snprintf(p, n, "%s/.arrayfire", home);
        if (dir_writable(p)) return p;
        free(p);
    }
    if (dir_writable("/tmp/arrayfire")) return strdup("/tmp/arrayfire");
    return strdup("");
}

af_err em_kcache_dir_set(const char *path, bool override_env) {
    if (!override_env) {
        const char *env = getenv(EM_KCACHE_ENV);
        if (env && env[0]) return AF_SUCCESS;
    }
    char *copy = strdup(path);
    if (!copy)
        return em_err(AF_ERR_NO_MEM, "af_set_kernel_cache_directory",
                      "out of host memory for the path");
    pthread_mutex_lock(&em_kcache_lock);
    free(em_kcache_path);
    em_kcache_path = copy;
    pthread_mutex_unlock(&em_kcache_lock);
    return AF_SUCCESS;
}

size_t em_kcache_dir(char *out, size_t cap) {
    pthread_mutex_lock(&em_kcache_lock);
    if (!em_kcache_path) em_kcache_path = default_dir();
    /* Out of host memory while working out the default: answer "" and try again next time. */
    const char *p = em_kcache_path ? em_kcache_path : "";
    size_t len = strlen(p);
    if (cap > 0) {
        size_t n = len < cap - 1 ? len : cap - 1;
        memcpy(out, p, n);
        out[n] = '\0';
    }
    pthread_mutex_unlock(&em_kcache_lock);
    return len;
}
