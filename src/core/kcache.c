#define _GNU_SOURCE
#include "kcache.h"

#include "err.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static pthread_mutex_t em_kcache_lock = PTHREAD_MUTEX_INITIALIZER;
static char *em_kcache_path; /* malloc'ed; NULL until set or defaulted */
/* The private directory made with mkdtemp when no default could be used; "" when none. */
static char em_kcache_made[PATH_MAX];

/* ---- the trace ---- */

static pthread_once_t em_kcache_trace_once = PTHREAD_ONCE_INIT;
static bool em_kcache_trace_on;

static void em_kcache_trace_read(void) {
    const char *a = getenv("EMBER_JIT_DEBUG"), *b = getenv("EMBER_CPU_FUSE_DEBUG");
    em_kcache_trace_on = (a && strcmp(a, "1") == 0) || (b && strcmp(b, "1") == 0);
}

bool em_kcache_tracing(void) {
    pthread_once(&em_kcache_trace_once, em_kcache_trace_read);
    return em_kcache_trace_on;
}

void em_kcache_trace(const char *fmt, ...) {
    if (!em_kcache_tracing()) return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(stderr, "ember kernel cache: %s\n", msg);
}

/* ---- the rule ---- */

/* Why st fails the rule for a directory (dir true) or a regular file, or NULL when it passes. */
static const char *em_kcache_judge(const struct stat *st, bool dir) {
    if (dir ? !S_ISDIR(st->st_mode) : !S_ISREG(st->st_mode))
        return dir ? "not a directory" : "not a regular file";
    if (st->st_uid != geteuid()) return "owned by another user";
    if (st->st_mode & (S_IWGRP | S_IWOTH)) return "writable by group or others";
    return NULL;
}

/* Opens directory `dir` when it passes the rule; -1 otherwise (reported unless it is missing). A
 * trailing '/' would make the kernel follow a final symbolic link despite O_NOFOLLOW, so it is
 * dropped first. */
static int em_kcache_open_dir(const char *dir) {
    char path[PATH_MAX];
    size_t len = dir ? strlen(dir) : 0;
    if (len == 0 || len >= sizeof(path)) return -1;
    memcpy(path, dir, len + 1);
    while (len > 1 && path[len - 1] == '/')
        path[--len] = '\0';
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ELOOP || errno == ENOTDIR)
            em_kcache_trace("not using %s: a symbolic link or not a directory", dir);
        else if (errno != ENOENT)
            em_kcache_trace("not using %s: %s", dir, strerror(errno));
        return -1;
    }
    struct stat st;
    const char *why = fstat(fd, &st) != 0 ? "cannot stat it" : em_kcache_judge(&st, true);
    if (why) {
        em_kcache_trace("not loading kernels from %s: the directory is %s", dir, why);
        close(fd);
        return -1;
    }
    return fd;
}

bool em_kcache_dir_private(const char *dir) {
    int fd = em_kcache_open_dir(dir);
    if (fd < 0) return false;
    close(fd);
    return true;
}

int em_kcache_open(const char *dir, const char *file) {
    if (!file || !file[0] || strchr(file, '/')) return -1;
    int dfd = em_kcache_open_dir(dir);
    if (dfd < 0) return -1;
    /* O_NONBLOCK: a FIFO must not block the open; the check below refuses it anyway. */
    int fd = openat(dfd, file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    int open_errno = errno;
    close(dfd);
    if (fd < 0) {
        if (open_errno == ELOOP)
            em_kcache_trace("not loading %s/%s: a symbolic link", dir, file);
        else if (open_errno != ENOENT)
            em_kcache_trace("not loading %s/%s: %s", dir, file, strerror(open_errno));
        return -1;
    }
    struct stat st;
    const char *why = fstat(fd, &st) != 0 ? "cannot stat it" : em_kcache_judge(&st, false);
    if (why) {
        em_kcache_trace("not loading %s/%s: the file is %s", dir, file, why);
        close(fd);
        return -1;
    }
    /* Reads block as usual from here on. */
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    return fd;
}

bool em_kcache_file_trusted(const char *dir, const char *file) {
    int fd = em_kcache_open(dir, file);
    if (fd < 0) return false;
    close(fd);
    return true;
}

/* ---- the directory ---- */

/* True when path is a directory this process may create files in; creates it (one level, as
 * ArrayFire does, and private to this user) when missing. */
static bool dir_writable(const char *path) {
    if (!path || !path[0]) return false;
    struct stat st;
    if (stat(path, &st) != 0) {
        if (mkdir(path, 0700) != 0) return false;
        if (stat(path, &st) != 0) return false;
    }
    return S_ISDIR(st.st_mode) && access(path, W_OK | X_OK) == 0;
}

/* A default Ember picks itself must also be private: another user may have made it first. */
static bool dir_private_writable(const char *path) {
    return dir_writable(path) && em_kcache_dir_private(path);
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

/* Removes the directory made by mkdtemp, with the kernels written into it, at unload. */
__attribute__((destructor)) static void em_kcache_made_remove(void) {
    if (!em_kcache_made[0]) return;
    int dfd = open(em_kcache_made, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)))
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                unlinkat(dfd, e->d_name, 0);
        closedir(d);
    } else if (dfd >= 0) {
        close(dfd);
    }
    rmdir(em_kcache_made);
}

/* The default from its candidates: env (taken as it is when it is a writable directory), then
 * home/.arrayfire and the fallback when they are private to this user (made 0700 when missing),
 * else a fresh private directory, whose name goes to `made` (cap bytes) so that it can be removed
 * at unload. Returns NULL only when out of memory. */
static char *default_dir_from(const char *env, const char *home, const char *fallback, char *made,
                              size_t cap) {
    if (env && env[0] && dir_writable(env)) return strdup(env);
    if (home && home[0]) {
        size_t n = strlen(home) + sizeof("/.arrayfire");
        char *p = malloc(n);
        if (!p) return NULL;
        snprintf(p, n, "%s/.arrayfire", home);
        if (dir_private_writable(p)) return p;
        free(p);
    }
    if (fallback && dir_private_writable(fallback)) return strdup(fallback);
    /* The fallback belongs to someone else or is open to others: a directory of our own. */
    const char *t = getenv("TMPDIR");
    char tmpl[PATH_MAX];
    int m = snprintf(tmpl, sizeof(tmpl), "%s/arrayfire-XXXXXX", t && t[0] ? t : "/tmp");
    if (m > 0 && (size_t)m < sizeof(tmpl) && (size_t)m < cap && mkdtemp(tmpl)) {
        memcpy(made, tmpl, (size_t)m + 1);
        em_kcache_trace("using the private directory %s", tmpl);
        return strdup(tmpl);
    }
    return strdup("");
}

/* Works out the default directory. Caller holds the lock. */
static char *default_dir(void) {
    return default_dir_from(getenv(EM_KCACHE_ENV), home_dir(), "/tmp/arrayfire", em_kcache_made,
                            sizeof(em_kcache_made));
}

char *em_kcache_default_from(const char *env, const char *home, const char *fallback) {
    char made[PATH_MAX];
    return default_dir_from(env, home, fallback, made, sizeof(made));
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
