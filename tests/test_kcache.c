/* The kernel caches load only what this user alone could have written (src/core/kcache.h): a
 * cache file is read only when it and its directory belong to the effective user, are not
 * writable by group or others, and are not symbolic links.
 *
 * The rule itself is checked directly through a test hook (em_kcache_file_trusted, exported by
 * both backend libraries), and so is the choice of the default directory
 * (em_kcache_default_from). Then each backend's loader meets a planted kernel: a real compiled
 * kernel of another program (a + b) relabelled as the kernel of the program under test (a * b),
 * so that loading it would show in the numbers. A control case shows that the planted file is
 * loaded where the rule allows it; each refused case shows that it is not loaded, that the
 * result is right, and that a fresh compile took place. The CPU relabels a fused loop's shared
 * object (its embedded id), CUDA a cubin cache file (its header's key).
 *
 * Each load must happen in a fresh process, since both backends also cache kernels in memory: the
 * case runs this executable again (--no-fork, case kcache_planted_child) with the scenario in
 * the environment, and reads the child's findings from a file. Cases that need another user's
 * files chown them to uid 65534 (nobody), which needs root, as CI runs; elsewhere those parts
 * skip. */
#define _GNU_SOURCE
#include "test.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define OTHER_UID 65534

/* ---- helpers ---- */

/* The backend library under test, already loaded by libaf.so.3. */
static void *backend_lib(void) {
    const char *name = em_test_backend() == AF_BACKEND_CPU ? "libafcpu.so.3" : "libafcuda.so.3";
    void *h = dlopen(name, RTLD_NOW | RTLD_NOLOAD);
    if (!h) SKIP("the backend library is not loaded");
    return h;
}

static void *hook(const char *name) {
    void *h = backend_lib();
    void *f = dlsym(h, name);
    dlclose(h);
    if (!f) SKIP("the backend library exports no kernel cache hooks");
    return f;
}

static void remove_tree(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) return;
    if (S_ISDIR(st.st_mode)) {
        chmod(path, 0700);
        DIR *d = opendir(path);
        if (d) {
            struct dirent *e;
            char sub[PATH_MAX];
            while ((e = readdir(d)))
                if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
                    snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
                    remove_tree(sub);
                }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

static void join(char *out, const char *dir, const char *name) {
    int n = snprintf(out, PATH_MAX, "%s/%s", dir, name);
    if (n < 0 || n >= PATH_MAX) em_test_fail(__FILE__, __LINE__, "path too long");
}

static bool write_file(const char *path, const void *data, size_t n, mode_t mode) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0600);
    if (fd < 0) return false;
    bool ok = write(fd, data, n) == (ssize_t)n;
    ok = fchmod(fd, mode) == 0 && ok;
    return close(fd) == 0 && ok;
}

static char *read_file(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = len >= 0 ? malloc((size_t)len + 1) : NULL;
    if (buf && fread(buf, 1, (size_t)len, f) != (size_t)len) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) buf[len] = 0;
    *n = buf ? (size_t)len : 0;
    return buf;
}

/* A fresh directory under root, with mode `mode` set exactly (whatever the umask). */
static void make_dir(char *out, const char *root, const char *name, mode_t mode) {
    join(out, root, name);
    if (mkdir(out, 0700) != 0 || chmod(out, mode) != 0)
        em_test_fail(__FILE__, __LINE__, "cannot make %s: %s", out, strerror(errno));
}

/* The one file in dir whose name ends with suffix, into name; false when not exactly one. */
static bool only_file(const char *dir, const char *suffix, char *name, size_t cap) {
    DIR *d = opendir(dir);
    if (!d) return false;
    int found = 0;
    struct dirent *e;
    size_t ls = strlen(suffix);
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < ls || strcmp(e->d_name + l - ls, suffix) != 0) continue;
        if (found++ == 0) snprintf(name, cap, "%s", e->d_name);
    }
    closedir(d);
    return found == 1;
}

/* ---- the rule, directly ---- */

TEST(kcache_rule_direct) {
    bool (*trusted)(const char *, const char *);
    void *f = hook("em_kcache_file_trusted");
    memcpy(&trusted, &f, sizeof(f));
    char root[] = "/tmp/ember_kcache_ruleXXXXXX";
    CHECK(mkdtemp(root) != NULL);
    char dir[PATH_MAX], path[PATH_MAX], link[PATH_MAX];
    make_dir(dir, root, "d", 0700);
    join(path, dir, "k.bin");
    CHECK(write_file(path, "kernel", 6, 0644));

    CHECK(trusted(dir, "k.bin"));
    CHECK(trusted(dir, "k.bin") == true);
    /* A trailing slash must not change the verdict. */
    char slash[PATH_MAX + 1];
    CHECK(snprintf(slash, sizeof(slash), "%s/", dir) > 0);
    CHECK(trusted(slash, "k.bin"));
    CHECK(!trusted(dir, "missing.bin"));
    CHECK(!trusted(dir, "../d/k.bin")); /* a name, not a path */
    CHECK(!trusted(dir, ""));
    CHECK(!trusted("", "k.bin"));

    /* The file: writable by group, by others; not a regular file; a symbolic link. */
    CHECK(chmod(path, 0664) == 0);
    CHECK(!trusted(dir, "k.bin"));
    CHECK(chmod(path, 0646) == 0);
    CHECK(!trusted(dir, "k.bin"));
    CHECK(chmod(path, 0600) == 0);
    CHECK(trusted(dir, "k.bin"));
    join(link, dir, "sub.bin");
    CHECK(mkdir(link, 0700) == 0);
    CHECK(!trusted(dir, "sub.bin"));
    join(link, dir, "fifo.bin");
    CHECK(mkfifo(link, 0600) == 0);
    CHECK(!trusted(dir, "fifo.bin"));
    join(link, dir, "link.bin");
    CHECK(symlink(path, link) == 0);
    CHECK(!trusted(dir, "link.bin"));

    /* The directory: writable by group, by others (sticky or not); a symbolic link to a private
     * directory, with and without a trailing slash. */
    CHECK(chmod(dir, 0770) == 0);
    CHECK(!trusted(dir, "k.bin"));
    CHECK(chmod(dir, 0757) == 0);
    CHECK(!trusted(dir, "k.bin"));
    CHECK(chmod(dir, 01777) == 0);
    CHECK(!trusted(dir, "k.bin"));
    CHECK(chmod(dir, 0755) == 0);
    CHECK(trusted(dir, "k.bin"));
    join(link, root, "dirlink");
    CHECK(symlink(dir, link) == 0);
    CHECK(!trusted(link, "k.bin"));
    CHECK(snprintf(slash, sizeof(slash), "%s/", link) > 0);
    CHECK(!trusted(slash, "k.bin"));

    /* Another user's file or directory (needs root to make). */
    bool root_user = geteuid() == 0;
    if (root_user) {
        CHECK(chown(path, OTHER_UID, OTHER_UID) == 0);
        CHECK(!trusted(dir, "k.bin"));
        CHECK(chown(path, geteuid(), getegid()) == 0);
        CHECK(trusted(dir, "k.bin"));
        CHECK(chown(dir, OTHER_UID, OTHER_UID) == 0);
        CHECK(!trusted(dir, "k.bin"));
        CHECK(chown(dir, geteuid(), getegid()) == 0);
        CHECK(trusted(dir, "k.bin"));
    }
    remove_tree(root);
    if (!root_user) SKIP("not root: other users' files not checked (the rest passed)");
}

/* ---- the default directory ---- */

TEST(kcache_default_directory) {
    char *(*from)(const char *, const char *, const char *);
    void *f = hook("em_kcache_default_from");
    memcpy(&from, &f, sizeof(f));
    char root[] = "/tmp/ember_kcache_defXXXXXX";
    CHECK(mkdtemp(root) != NULL);
    char *old_tmp = getenv("TMPDIR") ? strdup(getenv("TMPDIR")) : NULL;
    setenv("TMPDIR", root, 1);
    char home[PATH_MAX], fb[PATH_MAX], p[PATH_MAX], env[PATH_MAX];
    struct stat st;

    /* A missing home cache is made, private whatever the umask. */
    mode_t old_mask = umask(0);
    make_dir(home, root, "home", 0755);
    char *got = from(NULL, home, NULL);
    join(p, home, ".arrayfire");
    CHECK(got && strcmp(got, p) == 0);
    CHECK(lstat(p, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0700);
    free(got);
    /* A missing fallback likewise, when home is unusable. */
    join(fb, root, "fallback");
    got = from(NULL, "/nonexistent/ember-home", fb);
    CHECK(got && strcmp(got, fb) == 0);
    CHECK(lstat(fb, &st) == 0 && (st.st_mode & 07777) == 0700);
    free(got);
    umask(old_mask);

    /* A home cache or fallback open to others is not used: a fresh private directory under
     * $TMPDIR is. */
    CHECK(chmod(p, 0777) == 0);
    CHECK(chmod(fb, 01777) == 0);
    got = from(NULL, home, fb);
    char prefix[PATH_MAX];
    snprintf(prefix, sizeof(prefix), "%s/arrayfire-", root);
    CHECK(got && strncmp(got, prefix, strlen(prefix)) == 0);
    if (got && strncmp(got, prefix, strlen(prefix)) == 0) {
        CHECK(lstat(got, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0700 &&
              st.st_uid == geteuid());
        remove_tree(got);
    }
    free(got);
    /* A fallback that is a symbolic link to a private directory is not used either. */
    char real[PATH_MAX], ln[PATH_MAX];
    make_dir(real, root, "real", 0700);
    join(ln, root, "link");
    CHECK(symlink(real, ln) == 0);
    got = from(NULL, NULL, ln);
    CHECK(got && strncmp(got, prefix, strlen(prefix)) == 0);
    if (got && got[0]) remove_tree(got);
    free(got);
    /* Another user's fallback (root only). */
    if (geteuid() == 0) {
        CHECK(chmod(fb, 0700) == 0 && chown(fb, OTHER_UID, OTHER_UID) == 0);
        got = from(NULL, NULL, fb);
        CHECK(got && strncmp(got, prefix, strlen(prefix)) == 0);
        if (got && got[0]) remove_tree(got);
        free(got);
        CHECK(chown(fb, geteuid(), getegid()) == 0);
        got = from(NULL, NULL, fb);
        CHECK(got && strcmp(got, fb) == 0);
        free(got);
    }
    /* The directory the user names is taken as it is; the rule applies to its files. */
    make_dir(env, root, "env", 0777);
    got = from(env, home, fb);
    CHECK(got && strcmp(got, env) == 0);
    free(got);

    if (old_tmp)
        setenv("TMPDIR", old_tmp, 1);
    else
        unsetenv("TMPDIR");
    free(old_tmp);
    remove_tree(root);
}

/* ---- planted kernels ---- */

#define CHILD_N 1025

/* The child: evaluates a OP b (OP '+' or '*') of f32 arrays with the kernel cache directory
 * EMBER_KCACHE_CHILD_DIR, and writes to EMBER_KCACHE_CHILD_OUT what came out (1: a OP b, 2: the
 * other op's values, 0: neither), and how many kernels were compiled and read from disk. */
TEST(kcache_planted_child) {
    const char *dir = getenv("EMBER_KCACHE_CHILD_DIR"), *op = getenv("EMBER_KCACHE_CHILD_OP");
    const char *out = getenv("EMBER_KCACHE_CHILD_OUT");
    if (!dir || !op || !out) SKIP("run by the kcache_*_planted cases, in a fresh process");
    bool cpu = em_test_backend() == AF_BACKEND_CPU;
    void (*counters_cpu)(long long[4]) = NULL;
    void (*counters_cu)(long long[2]) = NULL;
    void (*configure)(int, long long) = NULL;
    void *f = hook(cpu ? "em_cpu_fuse_counters" : "em_cu_module_counters");
    if (cpu) {
        memcpy(&counters_cpu, &f, sizeof(f));
        f = hook("em_cpu_fuse_configure");
        memcpy(&configure, &f, sizeof(f));
        configure(1, 0);
    } else {
        memcpy(&counters_cu, &f, sizeof(f));
    }
    CHECK_AF(af_set_kernel_cache_directory(dir, 1));
    long long c0[4] = {0}, c1[4] = {0};
    if (cpu)
        counters_cpu(c0);
    else
        counters_cu(c0);
    dim_t n = CHILD_N, dims[1] = {n};
    double *ha = malloc(n * sizeof(double)), *hb = malloc(n * sizeof(double));
    for (dim_t i = 0; i < n; i++) {
        ha[i] = 1.0 + (double)(i % 7) * 0.125;
        hb[i] = 2.0 + (double)(i % 5) * 0.25;
    }
    af_array a = em_test_make(ha, 1, dims, f32), b = em_test_make(hb, 1, dims, f32), r = NULL;
    CHECK_AF(op[0] == '+' ? af_add(&r, a, b, false) : af_mul(&r, a, b, false));
    CHECK_AF(af_eval(r));
    double *got = r ? em_test_read(r, NULL) : NULL;
    int what = 0;
    if (got) {
        bool same = true, other = true;
        for (dim_t i = 0; i < n; i++) {
            double s = ha[i] + hb[i], p = ha[i] * hb[i]; /* exact in f32 */
            same = same && got[i] == (op[0] == '+' ? s : p);
            other = other && got[i] == (op[0] == '+' ? p : s);
        }
        what = same ? 1 : other ? 2 : 0;
    }
    if (cpu)
        counters_cpu(c1);
    else
        counters_cu(c1);
    /* CPU counters: fused, compiled, disk hits, failed; CUDA: compiled, disk hits. */
    long long compiled = cpu ? c1[1] - c0[1] : c1[0] - c0[0];
    long long disk = cpu ? c1[2] - c0[2] : c1[1] - c0[1];
    long long failed = cpu ? c1[3] - c0[3] : 0;
    FILE *o = fopen(out, "w");
    CHECK(o != NULL);
    if (o) {
        fprintf(o, "%d %lld %lld %lld\n", what, compiled, disk, failed);
        fclose(o);
    }
    free(got);
    free(ha);
    free(hb);
    af_release_array(a);
    af_release_array(b);
    af_release_array(r);
}

typedef struct {
    int what; /* 1: right numbers, 2: the planted kernel's, 0: neither, -1: the child failed */
    long long compiled, disk, failed;
} child_result;

/* Runs the child case in a fresh process of this executable, on the case's backend. */
static child_result run_child(const char *dir, char op, const char *root) {
    child_result res = {-1, 0, 0, 0};
    char out[PATH_MAX], exe[PATH_MAX];
    join(out, root, "child.out");
    unlink(out);
    ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (len <= 0) return res;
    exe[len] = 0;
    char opstr[2] = {op, 0};
    setenv("EMBER_KCACHE_CHILD_DIR", dir, 1);
    setenv("EMBER_KCACHE_CHILD_OP", opstr, 1);
    setenv("EMBER_KCACHE_CHILD_OUT", out, 1);
    const char *backend = em_test_backend() == AF_BACKEND_CPU ? "cpu" : "cuda";
    char *argv[] = {exe, "--no-fork", "--backend", (char *)backend, "kcache_planted_child", NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int rc = posix_spawn(&pid, exe, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    unsetenv("EMBER_KCACHE_CHILD_DIR");
    unsetenv("EMBER_KCACHE_CHILD_OP");
    unsetenv("EMBER_KCACHE_CHILD_OUT");
    if (rc != 0) return res;
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    FILE *f = fopen(out, "r");
    if (!f) return res;
    if (fscanf(f, "%d %lld %lld %lld", &res.what, &res.compiled, &res.disk, &res.failed) != 4)
        res.what = -1;
    fclose(f);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) res.what = -1;
    return res;
}

/* Relabels kernel file q (program a + b) as kernel file p (program a * b). CPU: the shared
 * object embeds its id (the hex digits of its name, cpu-<id>.so), which the loader checks; CUDA:
 * the cache file's header holds the program's key at byte 8, and its checksum covers only the
 * image. */
static char *forge(const char *qdir, const char *qname, const char *pdir, const char *pname,
                   size_t *n) {
    char qpath[PATH_MAX], ppath[PATH_MAX];
    join(qpath, qdir, qname);
    join(ppath, pdir, pname);
    char *q = read_file(qpath, n);
    if (!q) return NULL;
    if (em_test_backend() == AF_BACKEND_CPU) {
        /* The ids: "cpu-" + 32 hex digits + ".so". */
        const char *qid = qname + 4, *pid = pname + 4;
        int hits = 0;
        for (size_t i = 0; i + 32 <= *n; i++)
            if (memcmp(q + i, qid, 32) == 0) {
                memcpy(q + i, pid, 32);
                hits++;
            }
        if (hits == 0) {
            free(q);
            return NULL;
        }
    } else {
        size_t pn = 0;
        char *p = read_file(ppath, &pn);
        if (!p || pn < 16 || *n < 16) {
            free(p);
            free(q);
            return NULL;
        }
        memcpy(q + 8, p + 8, 8);
        free(p);
    }
    return q;
}

typedef struct {
    const char *what;
    child_result r;
} scenario;

static void planted(void) {
    bool cpu = em_test_backend() == AF_BACKEND_CPU;
    const char *suffix = cpu ? ".so" : ".bin";
    char root[] = "/tmp/ember_kcache_plantXXXXXX";
    CHECK(mkdtemp(root) != NULL);
    char qdir[PATH_MAX], pdir[PATH_MAX], qname[256], pname[256];
    make_dir(qdir, root, "q", 0700);
    make_dir(pdir, root, "p", 0700);
    /* The two genuine kernels. */
    child_result rq = run_child(qdir, '+', root), rp = run_child(pdir, '*', root);
    if (cpu && (rq.failed > 0 || rp.failed > 0)) {
        CHECK(rq.what == 1 && rp.what == 1);
        remove_tree(root);
        SKIP("no working C compiler: no fused kernels to plant");
    }
    CHECK(rq.what == 1 && rq.compiled >= 1);
    CHECK(rp.what == 1 && rp.compiled >= 1);
    bool have = only_file(qdir, suffix, qname, sizeof(qname)) &&
                only_file(pdir, suffix, pname, sizeof(pname));
    CHECK(have);
    size_t n = 0;
    char *bad = have ? forge(qdir, qname, pdir, pname, &n) : NULL;
    CHECK(bad != NULL);
    if (!bad) {
        remove_tree(root);
        return;
    }
    mode_t fmode = cpu ? 0755 : 0644;
    char d[PATH_MAX], path[PATH_MAX], target[PATH_MAX];

    /* Control: planted in a private directory, the file is loaded and its numbers show. */
    char ctl[PATH_MAX];
    make_dir(ctl, root, "control", 0700);
    join(target, ctl, pname);
    CHECK(write_file(target, bad, n, fmode));
    child_result c = run_child(ctl, '*', root);
    if (c.what != 2 || c.disk < 1)
        em_test_fail(__FILE__, __LINE__,
                     "control: the planted kernel should load (what %d, disk %lld, compiled %lld)",
                     c.what, c.disk, c.compiled);

    scenario s[8];
    int ns = 0;
    /* A world-writable, and a group-writable, cache directory. */
    make_dir(d, root, "world", 0777);
    join(path, d, pname);
    CHECK(write_file(path, bad, n, fmode));
    s[ns++] = (scenario){"world-writable directory", run_child(d, '*', root)};
    make_dir(d, root, "sticky", 01777);
    join(path, d, pname);
    CHECK(write_file(path, bad, n, fmode));
    s[ns++] = (scenario){"world-writable sticky directory", run_child(d, '*', root)};
    make_dir(d, root, "group", 0770);
    join(path, d, pname);
    CHECK(write_file(path, bad, n, fmode));
    s[ns++] = (scenario){"group-writable directory", run_child(d, '*', root)};
    /* A group-writable file in a private directory. */
    make_dir(d, root, "gfile", 0700);
    join(path, d, pname);
    CHECK(write_file(path, bad, n, fmode | 0020));
    s[ns++] = (scenario){"group-writable file", run_child(d, '*', root)};
    /* A symbolic link to the control's file, in a private directory; and the cache directory
     * itself a symbolic link to the control directory. */
    make_dir(d, root, "flink", 0700);
    join(path, d, pname);
    CHECK(symlink(target, path) == 0);
    s[ns++] = (scenario){"file through a symbolic link", run_child(d, '*', root)};
    join(d, root, "dlink");
    CHECK(symlink(ctl, d) == 0);
    s[ns++] = (scenario){"directory through a symbolic link", run_child(d, '*', root)};
    /* Another user's file in a private directory, and another user's directory (root only). */
    bool root_user = geteuid() == 0;
    if (root_user) {
        make_dir(d, root, "ofile", 0700);
        join(path, d, pname);
        CHECK(write_file(path, bad, n, fmode));
        CHECK(chown(path, OTHER_UID, OTHER_UID) == 0);
        s[ns++] = (scenario){"file owned by another user", run_child(d, '*', root)};
        make_dir(d, root, "odir", 0755);
        join(path, d, pname);
        CHECK(write_file(path, bad, n, fmode));
        CHECK(chown(d, OTHER_UID, OTHER_UID) == 0);
        s[ns++] = (scenario){"directory owned by another user", run_child(d, '*', root)};
    }
    for (int i = 0; i < ns; i++)
        if (s[i].r.what != 1 || s[i].r.compiled < 1 || s[i].r.disk != 0)
            em_test_fail(__FILE__, __LINE__,
                         "%s: the planted kernel must be ignored and a fresh one compiled (what "
                         "%d, compiled %lld, disk %lld)",
                         s[i].what, s[i].r.what, s[i].r.compiled, s[i].r.disk);
    /* The control's file was neither replaced nor followed into. */
    size_t cn = 0;
    char *now = read_file(target, &cn);
    CHECK(now && cn == n && memcmp(now, bad, n) == 0);
    free(now);
    free(bad);
    remove_tree(root);
    if (!root_user) SKIP("not root: other users' files not planted (the rest passed)");
}

TEST(kcache_cpu_planted_so) {
    if (em_test_backend() != AF_BACKEND_CPU) SKIP("the fused .so loader is the CPU backend's");
    hook("em_cpu_fuse_counters");
    planted();
}

TEST(kcache_cuda_planted_cubin) {
    if (em_test_backend() != AF_BACKEND_CUDA) SKIP("the cubin disk cache is the CUDA backend's");
    hook("em_cu_module_counters");
    planted();
}
