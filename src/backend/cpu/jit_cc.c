/* The fused CPU path: a linear JIT program whose ops all have an exact C equivalent is written
 * out as one C loop, compiled with the system compiler into a shared object, and loaded with
 * dlopen. The interpreter in jit.c loads and stores every intermediate value through L1, one op
 * loop at a time, which costs more than the memory traffic for long chains; the generated loop
 * keeps the whole expression in registers, so a long chain runs at close to memory speed.
 *
 * The interpreter stays the reference and the fallback. Only ops whose results the generated code
 * reproduces bit for bit are eligible (IEEE + - * / and sqrt, min and max, comparisons, logic,
 * the exact rounding functions, casts between f32, f64 and b8), so a program gives the same result
 * on either path (NaN payloads aside, which docs/JIT_OPS.md leaves unspecified). Any failure (no
 * compiler, a compile error, no writable directory, a library that does not load) marks the
 * program as failed for the rest of the process and the interpreter runs it; the user never sees
 * an error. docs/CPU_FUSION.md describes the design and the measurements. */
#define _GNU_SOURCE
#include "cpu.h"

#include "../../core/kcache.h"
#include "../../core/sbuf.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* Programs below this many elements stay on the interpreter: the fused loop's advantage is a few
 * tenths of a nanosecond per element and op, which does not pay for a first compile (tens of
 * milliseconds) on small arrays, and small arrays are served from cache anyway. */
#define FUSE_DEFAULT_MIN ((long long)1 << 18)
/* Larger programs fall back: they are rare (the flush rules keep trees small), and the signature
 * and parameter arrays below live on the stack. */
#define FUSE_MAX_INSTR 256
/* Elements per call of the fused function. The loop has no scratch area, so the block only sets
 * the granularity of the OpenMP split; larger than the interpreter's to amortise the call. */
#define FUSE_BLOCK (16 * EM_CPU_BLOCK)
/* Bumped when the generated code or its calling convention changes, so that kernels cached on disk
 * by an older build are never loaded by a newer one. */
#define FUSE_FORMAT 2

/* The library was tuned for the build machine when it was compiled with AVX (Ember's CMake adds
 * -march=native under EMBER_NATIVE, and nothing else enables AVX); the generated kernels then use
 * -march=native too. A build can state it explicitly with -DEMBER_CPU_FUSE_NATIVE=0 or 1. */
#if !defined(EMBER_CPU_FUSE_NATIVE)
#if defined(__AVX__)
#define EMBER_CPU_FUSE_NATIVE 1
#else
#define EMBER_CPU_FUSE_NATIVE 0
#endif
#endif

typedef void (*fused_fn)(const void *const *in, void *const *out, long long start, long long n);

/* ---------------------------------------------------------------------------------------------
 * Settings: the environment is read once; the test hooks may change the values afterwards.
 * ------------------------------------------------------------------------------------------- */

static pthread_once_t cfg_once = PTHREAD_ONCE_INIT;
static atomic_int cfg_enabled;
static atomic_llong cfg_min;
static bool cfg_debug; /* EMBER_CPU_FUSE_DEBUG=1: compiler output and failures go to stderr */

static void cfg_read_env(void) {
    const char *e = getenv("EMBER_CPU_FUSE");
    atomic_store(&cfg_enabled, !(e && strcmp(e, "0") == 0));
    long long min = FUSE_DEFAULT_MIN;
    const char *m = getenv("EMBER_CPU_FUSE_MIN");
    if (m && m[0]) {
        char *end;
        errno = 0;
        long long v = strtoll(m, &end, 10);
        if (errno == 0 && *end == '\0' && v >= 0) min = v;
    }
    atomic_store(&cfg_min, min);
    const char *d = getenv("EMBER_CPU_FUSE_DEBUG");
    cfg_debug = d && strcmp(d, "1") == 0;
}

enum { CNT_FUSED, CNT_COMPILED, CNT_DISK_HITS, CNT_FAILED, CNT_COUNT };
static atomic_llong counters[CNT_COUNT];

void em_cpu_fuse_configure(int enabled, long long min_elements) {
    pthread_once(&cfg_once, cfg_read_env);
    if (enabled >= 0) atomic_store(&cfg_enabled, enabled != 0);
    if (min_elements >= 0) atomic_store(&cfg_min, min_elements);
}

void em_cpu_fuse_counters(long long out[4]) {
    for (int i = 0; i < CNT_COUNT; i++)
        out[i] = atomic_load(&counters[i]);
}

static void debug_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void debug_msg(const char *fmt, ...) {
    if (!cfg_debug) return;
    va_list ap;
    va_start(ap, fmt);
    fputs("ember cpu fusion: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* ---------------------------------------------------------------------------------------------
 * Eligibility.
 * ------------------------------------------------------------------------------------------- */

static bool is_float(int t) {
    return t == f32 || t == f64;
}
static bool is_fused_type(int t) {
    return t == f32 || t == f64 || t == b8;
}

/* True when instruction k computes exactly what the interpreter computes, in plain C. The cases
 * mirror the kernels of jit_ops.c and the conversions of cast.c for f32, f64 and b8. */
static bool instr_ok(const em_jit_prog *p, const em_jit_instr *in) {
    int t = in->type;
    if (!is_fused_type(t)) return false;
    if (in->leaf >= 0) {
        int op = p->leaves[in->leaf]->op;
        return op == EM_OP_BUF || op == EM_OP_SCALAR;
    }
    if (in->op >= EM_OP_COUNT || in->nargs < 1 || in->nargs != em_op_arity((em_op)in->op))
        return false;
    int ot = p->instr[in->op == EM_OP_SELECT ? in->arg[1] : in->arg[0]].type;
    for (int a = 0; a < in->nargs; a++) {
        int at = p->instr[in->arg[a]].type;
        bool cond = in->op == EM_OP_SELECT && a == 0;
        if (cond ? at != b8 : at != ot) return false;
    }
    switch (in->op) {
    case EM_OP_ADD:
    case EM_OP_SUB:
    case EM_OP_MUL:
    case EM_OP_DIV:
    case EM_OP_MINOF:
    case EM_OP_MAXOF:
    case EM_OP_NEG:
    case EM_OP_ABS:
    case EM_OP_SQRT:
    case EM_OP_SIGN:
    case EM_OP_FLOOR:
    case EM_OP_CEIL:
    case EM_OP_TRUNC:
    case EM_OP_ROUND:
        return is_float(ot) && t == ot;
    case EM_OP_LT:
    case EM_OP_GT:
    case EM_OP_LE:
    case EM_OP_GE:
    case EM_OP_EQ:
    case EM_OP_NEQ:
    case EM_OP_AND:
    case EM_OP_OR:
    case EM_OP_NOT:
        return is_fused_type(ot) && t == b8;
    case EM_OP_ISNAN:
    case EM_OP_ISINF:
    case EM_OP_ISZERO:
        return is_float(ot) && t == b8;
    case EM_OP_SELECT:
        return is_fused_type(ot) && t == ot;
    case EM_OP_CAST:
        return is_fused_type(ot);
    default:
        return false;
    }
}

bool em_cpu_fuse_eligible(const em_jit_prog *p) {
    if (!p->linear || p->ninstr < 1 || p->ninstr > FUSE_MAX_INSTR || p->elements < 1) return false;
    for (int k = 0; k < p->ninstr; k++)
        if (!instr_ok(p, &p->instr[k])) return false;
    return true;
}

/* ---------------------------------------------------------------------------------------------
 * Code generation.
 * ------------------------------------------------------------------------------------------- */

static const char *c_type(int t) {
    return t == f32 ? "float" : t == f64 ? "double" : "unsigned char";
}

/* The value of non-leaf instruction k in terms of earlier values v<arg>. Each expression is the
 * one of jit_ops.c (or cast.c) for the operand type, so that the rounding and the NaN rules are
 * the interpreter's. */
static void emit_expr(em_sbuf *b, const em_jit_prog *p, int k) {
    const em_jit_instr *in = &p->instr[k];
    int x = in->arg[0], y = in->nargs > 1 ? in->arg[1] : 0, z = in->nargs > 2 ? in->arg[2] : 0;
    int ot = p->instr[in->op == EM_OP_SELECT ? y : x].type;
    const char *f = ot == f32 ? "f" : ""; /* suffix of the float builtins */
    switch (in->op) {
    case EM_OP_ADD:
        em_sbuf_printf(b, "v%d + v%d", x, y);
        break;
    case EM_OP_SUB:
        em_sbuf_printf(b, "v%d - v%d", x, y);
        break;
    case EM_OP_MUL:
        em_sbuf_printf(b, "v%d * v%d", x, y);
        break;
    case EM_OP_DIV:
        em_sbuf_printf(b, "v%d / v%d", x, y);
        break;
    /* NaN only when both are NaN; for equal values (-0, +0) the second operand. */
    case EM_OP_MINOF:
        em_sbuf_printf(b, "(v%d < v%d || v%d != v%d) ? v%d : v%d", x, y, y, y, x, y);
        break;
    case EM_OP_MAXOF:
        em_sbuf_printf(b, "(v%d > v%d || v%d != v%d) ? v%d : v%d", x, y, y, y, x, y);
        break;
    case EM_OP_NEG:
        em_sbuf_printf(b, "-v%d", x);
        break;
    case EM_OP_ABS:
        em_sbuf_printf(b, "__builtin_fabs%s(v%d)", f, x);
        break;
    case EM_OP_SQRT:
        em_sbuf_printf(b, "__builtin_sqrt%s(v%d)", f, x);
        break;
    case EM_OP_SIGN:
        em_sbuf_printf(b, "__builtin_signbit(v%d) ? (%s)1 : (%s)0", x, c_type(ot), c_type(ot));
        break;
    case EM_OP_FLOOR:
        em_sbuf_printf(b, "__builtin_floor%s(v%d)", f, x);
        break;
    case EM_OP_CEIL:
        em_sbuf_printf(b, "__builtin_ceil%s(v%d)", f, x);
        break;
    case EM_OP_TRUNC:
        em_sbuf_printf(b, "__builtin_trunc%s(v%d)", f, x);
        break;
    case EM_OP_ROUND:
        em_sbuf_printf(b, "__builtin_round%s(v%d)", f, x);
        break;
    case EM_OP_LT:
        em_sbuf_printf(b, "v%d < v%d", x, y);
        break;
    case EM_OP_GT:
        em_sbuf_printf(b, "v%d > v%d", x, y);
        break;
    case EM_OP_LE:
        em_sbuf_printf(b, "v%d <= v%d", x, y);
        break;
    case EM_OP_GE:
        em_sbuf_printf(b, "v%d >= v%d", x, y);
        break;
    case EM_OP_EQ:
        em_sbuf_printf(b, "v%d == v%d", x, y);
        break;
    case EM_OP_NEQ:
        em_sbuf_printf(b, "v%d != v%d", x, y);
        break;
    /* b8 logic works on the bytes as they are (a stored b8 other than 0 or 1 gives what the
     * interpreter gives); floats test for non-zero. */
    case EM_OP_AND:
        if (ot == b8)
            em_sbuf_printf(b, "v%d & v%d", x, y);
        else
            em_sbuf_printf(b, "(v%d != 0) & (v%d != 0)", x, y);
        break;
    case EM_OP_OR:
        if (ot == b8)
            em_sbuf_printf(b, "v%d | v%d", x, y);
        else
            em_sbuf_printf(b, "(v%d != 0) | (v%d != 0)", x, y);
        break;
    case EM_OP_NOT:
        if (ot == b8)
            em_sbuf_printf(b, "v%d ^ 1u", x);
        else
            em_sbuf_printf(b, "v%d == 0", x);
        break;
    case EM_OP_ISNAN:
        em_sbuf_printf(b, "v%d != v%d", x, x);
        break;
    case EM_OP_ISINF:
        em_sbuf_printf(b, "__builtin_isinf(v%d) != 0", x);
        break;
    case EM_OP_ISZERO:
        em_sbuf_printf(b, "v%d == 0", x);
        break;
    case EM_OP_SELECT:
        em_sbuf_printf(b, "v%d ? v%d : v%d", x, y, z);
        break;
    case EM_OP_CAST:
        /* To b8 tests for non-zero (NaN is true); between floats, and from b8, C converts. */
        if (in->type == b8 && ot != b8)
            em_sbuf_printf(b, "v%d != 0", x);
        else
            em_sbuf_printf(b, "v%d", x);
        break;
    default: /* unreachable: em_cpu_fuse_eligible admits only the ops above */
        b->oom = true;
        break;
    }
}

/* Writes the kernel: ember_fused unpacks its parameters (BUF leaves as pointers already offset to
 * the leaf's first element, SCALAR leaves as values) and calls ember_body, whose loop computes
 * every instruction into a local and then stores the outputs. The pointers are restrict
 * *parameters* of ember_body: GCC honours restrict on parameters but not on locals loaded from an
 * array, and without it a loop with several outputs needs more run-time overlap checks than it is
 * willing to emit, and stays scalar. Scalars are parameters, never literals, so the source (and the
 * cache file) depends only on the program's structure. */
static void gen_source(em_sbuf *b, const em_jit_prog *p) {
    em_sbuf_printf(
        b, "/* Ember fused CPU kernel, format %d. Generated by src/backend/cpu/jit_cc.c. */\n",
        FUSE_FORMAT);
    em_sbuf_printf(b, "#if defined(__FLT_EVAL_METHOD__) && __FLT_EVAL_METHOD__ != 0\n"
                      "#error \"float expressions must round to their own type\"\n#endif\n");
    em_sbuf_printf(b, "static __attribute__((noinline)) void ember_body(");
    for (int k = 0; k < p->ninstr; k++) {
        const em_jit_instr *in = &p->instr[k];
        if (in->leaf < 0) continue;
        const char *t = c_type(in->type);
        if (p->leaves[in->leaf]->op == EM_OP_SCALAR)
            em_sbuf_printf(b, "const %s v%d, ", t, k);
        else
            em_sbuf_printf(b, "const %s *restrict p%d, ", t, k);
    }
    for (int o = 0; o < p->nout; o++)
        em_sbuf_printf(b, "%s *restrict o%d, ", c_type(p->instr[p->out[o]].type), o);
    em_sbuf_printf(b, "long long start, long long end) {\n");
    em_sbuf_printf(b, "    for (long long i = start; i < end; i++) {\n");
    for (int k = 0; k < p->ninstr; k++) {
        const em_jit_instr *in = &p->instr[k];
        const char *t = c_type(in->type);
        if (in->leaf >= 0) {
            if (p->leaves[in->leaf]->op == EM_OP_BUF)
                em_sbuf_printf(b, "        const %s v%d = p%d[i];\n", t, k, k);
            continue;
        }
        em_sbuf_printf(b, "        const %s v%d = (%s)(", t, k, t);
        emit_expr(b, p, k);
        em_sbuf_printf(b, ");\n");
    }
    for (int o = 0; o < p->nout; o++)
        em_sbuf_printf(b, "        o%d[i] = v%d;\n", o, p->out[o]);
    em_sbuf_printf(b, "    }\n}\n");
    em_sbuf_printf(
        b, "__attribute__((visibility(\"default\"))) void ember_fused(const void *const *in, "
           "void *const *out, long long start, long long n) {\n    ember_body(");
    int nin = 0;
    for (int k = 0; k < p->ninstr; k++) {
        const em_jit_instr *in = &p->instr[k];
        if (in->leaf < 0) continue;
        const char *t = c_type(in->type);
        if (p->leaves[in->leaf]->op == EM_OP_SCALAR)
            em_sbuf_printf(b, "*(const %s *)in[%d], ", t, nin++);
        else
            em_sbuf_printf(b, "(const %s *)in[%d], ", t, nin++);
    }
    for (int o = 0; o < p->nout; o++)
        em_sbuf_printf(b, "(%s *)out[%d], ", c_type(p->instr[p->out[o]].type), o);
    em_sbuf_printf(b, "start, start + n);\n}\n");
}

/* ---------------------------------------------------------------------------------------------
 * Hashing and names.
 * ------------------------------------------------------------------------------------------- */

/* Two independent 64-bit hashes of the bytes, for a 128-bit file name: FNV-1a, and the structural
 * mix of jit.h over 8-byte words. */
static void hash_bytes(const void *data, size_t n, uint64_t h[2]) {
    const unsigned char *s = data;
    for (size_t i = 0; i < n; i++) {
        h[0] ^= s[i];
        h[0] *= 0x100000001b3ull;
    }
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        h[1] = em_hash_mix(h[1], w);
    }
    uint64_t w = 0;
    memcpy(&w, s + i, n - i);
    h[1] = em_hash_mix(h[1], w ^ ((uint64_t)(n - i) << 56));
}

/* The host CPU's feature list, which -march=native compiles for: a kernel cached on disk by one
 * machine must not be loaded by another with fewer features (a cache directory in a shared home
 * directory). Read once; empty when /proc/cpuinfo cannot be read. */
static char cpu_id[4096];
static pthread_once_t cpu_id_once = PTHREAD_ONCE_INIT;

static void cpu_id_read(void) {
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[4096];
    size_t used = 0;
    bool seen_flags = false, seen_model = false;
    while (fgets(line, sizeof(line), f) && !(seen_flags && seen_model)) {
        bool flags = strncmp(line, "flags", 5) == 0 || strncmp(line, "Features", 8) == 0;
        bool model = strncmp(line, "model name", 10) == 0 || strncmp(line, "CPU part", 8) == 0;
        if ((flags && !seen_flags) || (model && !seen_model)) {
            size_t n = strlen(line);
            if (used + n < sizeof(cpu_id)) {
                memcpy(cpu_id + used, line, n);
                used += n;
            }
            seen_flags = seen_flags || flags;
            seen_model = seen_model || model;
        }
    }
    cpu_id[used] = '\0';
    fclose(f);
}

/* The compiler's arguments before the output and input names, and after them. */
static const char *const cc_flags[] = {
    "-std=c11",           "-O3", "-fPIC", "-shared", "-ffp-contract=off", "-fno-math-errno",
    "-fno-trapping-math", "-w",
#if EMBER_CPU_FUSE_NATIVE
    "-march=native",
#endif
};
static const char *const cc_libs[] = {"-lm"};
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *compiler(void) {
    const char *cc = getenv("EMBER_CC");
    return cc && cc[0] ? cc : "cc";
}

/* ---------------------------------------------------------------------------------------------
 * The directory, compiling and loading.
 * ------------------------------------------------------------------------------------------- */

static pthread_mutex_t tmpdir_lock = PTHREAD_MUTEX_INITIALIZER;
static char tmpdir_path[PATH_MAX]; /* the private directory, once made */

/* Where kernels go: the kernel cache directory when this user alone can write it (the rule of
 * src/core/kcache.h: a kernel is code that this process runs, and a directory that another user
 * can write, such as a /tmp/arrayfire made by someone else, could hand it a planted library),
 * else a private directory made once for the process (its files are removed as soon as they are
 * loaded, so it stays empty and is removed at unload). Returns false when neither can be used. */
static bool pick_dir(char *dir, size_t cap, bool *private_dir) {
    size_t n = em_kcache_dir(dir, cap);
    if (n > 0 && n < cap && access(dir, W_OK | X_OK) == 0 && em_kcache_dir_private(dir)) {
        *private_dir = false;
        return true;
    }
    pthread_mutex_lock(&tmpdir_lock);
    if (!tmpdir_path[0]) {
        const char *t = getenv("TMPDIR");
        char tmpl[PATH_MAX];
        int m = snprintf(tmpl, sizeof(tmpl), "%s/ember-cpu-XXXXXX", t && t[0] ? t : "/tmp");
        if (m > 0 && (size_t)m < sizeof(tmpl) && mkdtemp(tmpl)) memcpy(tmpdir_path, tmpl, m + 1);
    }
    bool ok = tmpdir_path[0] && strlen(tmpdir_path) < cap;
    if (ok) strcpy(dir, tmpdir_path);
    pthread_mutex_unlock(&tmpdir_lock);
    *private_dir = true;
    return ok;
}

__attribute__((destructor)) static void tmpdir_remove(void) {
    if (tmpdir_path[0]) rmdir(tmpdir_path);
}

/* Loads dir/file when it passes the kernel cache rule (src/core/kcache.h), and checks that it is
 * the kernel named `id`: a file that is not (damaged, or written by something else) is refused.
 *
 * The library is loaded through the descriptor that was checked (/proc/self/fd/N), so the file
 * that passed the rule is the file that is mapped: a check by name followed by a dlopen by name
 * could load a file swapped in between, and a library's constructors run inside dlopen, too early
 * for any check after it. The dynamic loader recognises a loaded library by its name, and an
 * earlier kernel may have been loaded under the same /proc/self/fd/N name: such a name is probed
 * with RTLD_NOLOAD first and the descriptor moved to another number. Without /proc the path is
 * loaded; the directory passed the rule, so only a user who can write one of its parents could
 * swap the file then. */
static fused_fn load_kernel(const char *dir, const char *file, const char *id) {
    int fd = em_kcache_open(dir, file);
    if (fd < 0) return NULL;
    char name[PATH_MAX];
    void *h = NULL;
    for (int tries = 0; tries < 64; tries++) {
        snprintf(name, sizeof(name), "/proc/self/fd/%d", fd);
        if (access(name, R_OK) != 0) {
            snprintf(name, sizeof(name), "%s/%s", dir, file);
            break;
        }
        void *old = dlopen(name, RTLD_LAZY | RTLD_LOCAL | RTLD_NOLOAD);
        if (!old) break;
        const char *got = dlsym(old, "ember_fused_id");
        if (got && strcmp(got, id) == 0) {
            h = old; /* this very kernel is loaded already */
            break;
        }
        dlclose(old);
        int moved = fcntl(fd, F_DUPFD_CLOEXEC, fd + 1);
        close(fd);
        fd = moved;
        if (fd < 0) return NULL;
    }
    if (!h) h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    close(fd);
    if (!h) {
        const char *e = dlerror();
        debug_msg("dlopen %s/%s: %s", dir, file, e ? e : "failed");
        return NULL;
    }
    const char *got = dlsym(h, "ember_fused_id");
    void *fn = dlsym(h, "ember_fused");
    if (!got || !fn || strcmp(got, id) != 0) {
        debug_msg("%s/%s is not kernel %s", dir, file, id);
        dlclose(h);
        return NULL;
    }
    /* The handle stays open for the life of the process: the function may be running on other
     * threads, and kernels are few. */
    fused_fn f;
    memcpy(&f, &fn, sizeof(f)); /* object to function pointer, as POSIX allows for dlsym */
    return f;
}

static bool write_all(int fd, const char *s, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        s += w;
        n -= (size_t)w;
    }
    return true;
}

/* Runs the compiler on src into obj, without a shell. */
static bool run_compiler(const char *src, const char *obj) {
    const char *argv[NELEM(cc_flags) + NELEM(cc_libs) + 8];
    size_t a = 0;
    argv[a++] = compiler();
    for (size_t i = 0; i < NELEM(cc_flags); i++)
        argv[a++] = cc_flags[i];
    argv[a++] = "-o";
    argv[a++] = obj;
    argv[a++] = src;
    for (size_t i = 0; i < NELEM(cc_libs); i++)
        argv[a++] = cc_libs[i];
    argv[a] = NULL;
    posix_spawn_file_actions_t fa;
    if (posix_spawn_file_actions_init(&fa) != 0) return false;
    /* The compiler talks to /dev/null: a failure falls back silently, and a library must not
     * write to the user's terminal. */
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    if (!cfg_debug) {
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    }
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        debug_msg("cannot run %s: %s", argv[0], strerror(rc));
        return false;
    }
    int status = 0;
    pid_t w;
    do
        w = waitpid(pid, &status, 0);
    while (w < 0 && errno == EINTR);
    /* A process that ignores SIGCHLD has its children reaped for it: the status is lost, and the
     * output is judged by loading it (which checks its identity). */
    if (w < 0) return errno == ECHILD && access(obj, R_OK) == 0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        debug_msg("%s failed on %s (status %d)", argv[0], src, status);
        return false;
    }
    return true;
}

/* Finds or builds the kernel for p: a file in the directory named by the hash of its source and
 * of everything that shapes the machine code is loaded if present; otherwise the source is
 * compiled to a temporary name and renamed into place, so that a concurrent process never loads a
 * half-written file. */
static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static fused_fn build_kernel(const em_jit_prog *p) {
    double t0 = cfg_debug ? now_ms() : 0;
    em_sbuf src = {0};
    gen_source(&src, p);
    fused_fn fn = NULL;
    char *csrc = NULL, *obj = NULL;
    char dir[PATH_MAX], path[PATH_MAX];
    bool private_dir = true;
    size_t plen = 0;
    if (src.oom) goto done;
    uint64_t h[2] = {EM_HASH_SEED, EM_HASH_SEED ^ FUSE_FORMAT};
    hash_bytes(src.s, src.len, h);
    for (size_t i = 0; i < NELEM(cc_flags); i++)
        hash_bytes(cc_flags[i], strlen(cc_flags[i]) + 1, h);
    if (EMBER_CPU_FUSE_NATIVE) {
        pthread_once(&cpu_id_once, cpu_id_read);
        hash_bytes(cpu_id, strlen(cpu_id), h);
    }
    char id[40];
    snprintf(id, sizeof(id), "%016llx%016llx", (unsigned long long)h[0], (unsigned long long)h[1]);
    em_sbuf_printf(
        &src, "__attribute__((visibility(\"default\"))) const char ember_fused_id[] = \"%s\";\n",
        id);
    if (src.oom) goto done;

    if (!pick_dir(dir, sizeof(dir), &private_dir)) {
        debug_msg("no writable directory for kernels");
        goto done;
    }
    char file[64];
    snprintf(file, sizeof(file), "cpu-%s.so", id);
    int n = snprintf(path, sizeof(path), "%s/%s", dir, file);
    if (n < 0 || (size_t)n >= sizeof(path)) goto done;
    if (!private_dir) {
        fn = load_kernel(dir, file, id);
        if (fn) {
            atomic_fetch_add(&counters[CNT_DISK_HITS], 1);
            debug_msg("loaded %s in %.3f ms", path, now_ms() - t0);
            goto done;
        }
        /* Damaged: build it again over the top. */
    }
    plen = strlen(dir) + 64;
    csrc = malloc(plen);
    obj = malloc(plen);
    if (!csrc || !obj) goto done;
    snprintf(csrc, plen, "%s/cpu-%s-XXXXXX.c", dir, id);
    int fd = mkstemps(csrc, 2);
    if (fd < 0) {
        debug_msg("cannot create a file in %s: %s", dir, strerror(errno));
        free(csrc);
        csrc = NULL;
        goto done;
    }
    bool ok = write_all(fd, src.s, src.len);
    ok = close(fd) == 0 && ok;
    /* The object takes the source's unique name with .so.tmp, so it cannot clash either. */
    snprintf(obj, plen, "%.*s.so.tmp", (int)(strlen(csrc) - 2), csrc);
    ok = ok && run_compiler(csrc, obj);
    /* Whatever the umask, the file must pass the kernel cache rule when the next process finds
     * it. */
    ok = ok && chmod(obj, 0755) == 0;
    ok = ok && rename(obj, path) == 0;
    if (!ok) {
        unlink(obj);
        goto done;
    }
    fn = load_kernel(dir, file, id);
    if (fn) {
        atomic_fetch_add(&counters[CNT_COMPILED], 1);
        debug_msg("compiled %s in %.3f ms", path, now_ms() - t0);
    }
    /* A private directory is not a cache: the mapping outlives the file. */
    if (private_dir) unlink(path);
done:
    /* In debug mode the source stays beside the library (cpu-<id>.c), for reading. */
    if (csrc && cfg_debug && !private_dir) {
        snprintf(obj, plen, "%.*s.c", (int)(strlen(path) - 3), path);
        if (rename(csrc, obj) != 0) unlink(csrc);
    } else if (csrc) {
        unlink(csrc);
    }
    free(csrc);
    free(obj);
    free(src.s);
    return fn;
}

/* ---------------------------------------------------------------------------------------------
 * The in-memory table: program structure -> kernel.
 * ------------------------------------------------------------------------------------------- */

/* The structure the generated source depends on, word for word, so that two programs whose 64-bit
 * keys collide never share a kernel. */
static size_t signature(const em_jit_prog *p, uint32_t *sig) {
    size_t n = 0;
    sig[n++] = (uint32_t)p->ninstr | (uint32_t)p->nout << 16;
    for (int k = 0; k < p->ninstr; k++) {
        const em_jit_instr *in = &p->instr[k];
        sig[n++] = (uint32_t)in->op | (uint32_t)in->type << 16 | (uint32_t)in->nargs << 24;
        for (int a = 0; a < 3; a++)
            sig[n++] = a < in->nargs ? (uint32_t)in->arg[a] : UINT32_MAX;
    }
    for (int o = 0; o < p->nout; o++)
        sig[n++] = (uint32_t)p->out[o];
    return n;
}
#define SIG_MAX (1 + 4 * FUSE_MAX_INSTR + EM_JIT_MAX_OUTPUTS)

enum { ENTRY_PENDING, ENTRY_READY, ENTRY_FAILED };

typedef struct entry {
    struct entry *next;
    uint64_t key;
    int state;
    fused_fn fn;
    size_t nsig;
    uint32_t sig[]; /* nsig words */
} entry;

#define TABLE_SIZE 256
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static entry *table[TABLE_SIZE];

/* The kernel for p, built on the first request. While one thread builds it, others asking for the
 * same program run the interpreter rather than wait; a failed build is never tried again. */
static fused_fn kernel_for(const em_jit_prog *p) {
    uint32_t sig[SIG_MAX];
    size_t nsig = signature(p, sig);
    entry **slot = &table[p->key % TABLE_SIZE];
    pthread_mutex_lock(&table_lock);
    entry *e = *slot;
    while (e && !(e->key == p->key && e->nsig == nsig &&
                  memcmp(e->sig, sig, nsig * sizeof(uint32_t)) == 0))
        e = e->next;
    if (e) {
        fused_fn fn = e->state == ENTRY_READY ? e->fn : NULL;
        pthread_mutex_unlock(&table_lock);
        return fn;
    }
    e = malloc(sizeof(entry) + nsig * sizeof(uint32_t));
    if (!e) {
        pthread_mutex_unlock(&table_lock);
        return NULL;
    }
    e->key = p->key;
    e->state = ENTRY_PENDING;
    e->fn = NULL;
    e->nsig = nsig;
    memcpy(e->sig, sig, nsig * sizeof(uint32_t));
    e->next = *slot;
    *slot = e;
    pthread_mutex_unlock(&table_lock);

    fused_fn fn = build_kernel(p);
    if (!fn) atomic_fetch_add(&counters[CNT_FAILED], 1);
    pthread_mutex_lock(&table_lock);
    e->fn = fn;
    e->state = fn ? ENTRY_READY : ENTRY_FAILED;
    pthread_mutex_unlock(&table_lock);
    return fn;
}

/* ---------------------------------------------------------------------------------------------
 * Evaluation.
 * ------------------------------------------------------------------------------------------- */

/* True when an output overlaps a buffer the program reads. The kernel's pointers are restrict
 * (which lets the compiler vectorise freely), so such programs, like af_replace writing into an
 * operand, stay on the interpreter, which stages a block before writing it. */
static bool outputs_overlap_inputs(const em_jit_prog *p, void *const *outs) {
    for (int k = 0; k < p->ninstr; k++) {
        const em_jit_instr *in = &p->instr[k];
        if (in->leaf < 0 || p->leaves[in->leaf]->op != EM_OP_BUF) continue;
        const em_node *leaf = p->leaves[in->leaf];
        size_t es = em_dtype_size((af_dtype)in->type);
        uintptr_t lo = (uintptr_t)leaf->buf->ptr + (uintptr_t)leaf->offset * es;
        uintptr_t hi = lo + (uintptr_t)p->elements * es;
        for (int o = 0; o < p->nout; o++) {
            size_t os = em_dtype_size((af_dtype)p->instr[p->out[o]].type);
            uintptr_t olo = (uintptr_t)outs[o], ohi = olo + (uintptr_t)p->elements * os;
            if (olo < hi && lo < ohi) return true;
        }
    }
    return false;
}

bool em_cpu_fuse_eval(const em_jit_prog *p, void *const *outs) {
    pthread_once(&cfg_once, cfg_read_env);
    if (!atomic_load_explicit(&cfg_enabled, memory_order_relaxed)) return false;
    if (p->elements < atomic_load_explicit(&cfg_min, memory_order_relaxed)) return false;
    if (!em_cpu_fuse_eligible(p) || outputs_overlap_inputs(p, outs)) return false;
    fused_fn fn = kernel_for(p);
    if (!fn) return false;

    /* Parameters in instruction order, as gen_source numbers them. Scalars are stored in block
     * representation, as the interpreter's fill_scalars stores them. */
    const void *in[FUSE_MAX_INSTR];
    union {
        float f;
        double d;
        uint8_t b;
    } scal[FUSE_MAX_INSTR];
    int nin = 0;
    for (int k = 0; k < p->ninstr; k++) {
        const em_jit_instr *ins = &p->instr[k];
        if (ins->leaf < 0) continue;
        const em_node *leaf = p->leaves[ins->leaf];
        if (leaf->op == EM_OP_SCALAR) {
            em_scalar_store(&scal[nin], (af_dtype)ins->type, &leaf->val);
            in[nin] = &scal[nin];
        } else {
            size_t es = em_dtype_size((af_dtype)ins->type);
            in[nin] = (const char *)leaf->buf->ptr + (size_t)leaf->offset * es;
        }
        nin++;
    }
    long long total = (long long)p->elements;
    long long nblocks = (total + FUSE_BLOCK - 1) / FUSE_BLOCK;
    /* The same split as the interpreter's: static, and small arrays on the calling thread. */
#pragma omp parallel for schedule(static) if (total > 32 * EM_CPU_BLOCK)
    for (long long b = 0; b < nblocks; b++) {
        long long start = b * FUSE_BLOCK;
        long long n = total - start < FUSE_BLOCK ? total - start : FUSE_BLOCK;
        fn(in, outs, start, n);
    }
    atomic_fetch_add_explicit(&counters[CNT_FUSED], 1, memory_order_relaxed);
    return true;
}
