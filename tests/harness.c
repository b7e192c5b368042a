/* The test framework behind test.h: case registration, check bookkeeping, reproducible random
 * inputs, and conversion between doubles and arrays of every dtype. */
#define _GNU_SOURCE
#include "harness.h"

#include <errno.h>
#include <float.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

/* Registration. Cases register from constructors, before main, in link order. */

static em_test_case *em_cases;
static size_t em_ncases, em_cap;

void em_test_register(const char *name, const char *file, em_test_fn fn) {
    em_test_register_limit(name, file, fn, 0);
}

void em_test_register_limit(const char *name, const char *file, em_test_fn fn, double limit) {
    if (em_ncases == em_cap) {
        size_t cap = em_cap ? 2 * em_cap : 256;
        em_test_case *grown = realloc(em_cases, cap * sizeof(*grown));
        if (!grown) {
            fprintf(stderr, "em_test_register: out of memory registering %s\n", name);
            abort();
        }
        em_cases = grown;
        em_cap = cap;
    }
    em_cases[em_ncases++] = (em_test_case){name, file, fn, limit};
}

size_t em_test_count(void) {
    return em_ncases;
}

const em_test_case *em_test_at(size_t i) {
    return i < em_ncases ? &em_cases[i] : NULL;
}

/* The running case. Checks may fail from several threads, so the bookkeeping is locked. */

static pthread_mutex_t em_lock = PTHREAD_MUTEX_INITIALIZER;
static af_backend em_backend = AF_BACKEND_CPU;
static int em_report_fd = -1;
static const char *em_prefix = "";
static int em_failures;
static bool em_skipped;
static jmp_buf em_skip_jmp;
static bool em_skip_armed;
static pthread_t em_case_thread;
static uint64_t em_rng = 0x9e3779b97f4a7c15ull;

static const char *em_basename(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* Sends one report line. Newlines inside the text become spaces so that one failure is one line;
 * lines stay below PIPE_BUF so that writes from several threads do not interleave. */
static void em_report(char kind, const char *text) {
    char line[2048];
    int n = snprintf(line, sizeof(line) - 1, "%c %s", kind, text);
    if (n < 0) return;
    if (n > (int)sizeof(line) - 2) n = (int)sizeof(line) - 2;
    for (int i = 2; i < n; i++)
        if (line[i] == '\n' || line[i] == '\r') line[i] = ' ';
    if (em_report_fd < 0) {
        printf("%s%s%s\n", em_prefix, kind == 'S' ? "skip: " : "", line + 2);
        fflush(stdout);
        return;
    }
    line[n++] = '\n';
    const char *p = line;
    while (n > 0) {
        ssize_t w = write(em_report_fd, p, (size_t)n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return;
        p += w;
        n -= (int)w;
    }
}

void em_test_fail(const char *file, int line, const char *fmt, ...) {
    char msg[1900];
    int n = snprintf(msg, sizeof(msg), "%s:%d: ", em_basename(file), line);
    if (n < 0 || n >= (int)sizeof(msg)) n = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&em_lock);
    em_failures++;
    em_report('F', msg);
    pthread_mutex_unlock(&em_lock);
}

_Noreturn void em_test_skip(const char *reason) {
    pthread_mutex_lock(&em_lock);
    em_skipped = true;
    em_report('S', reason && reason[0] ? reason : "(no reason given)");
    bool armed = em_skip_armed && pthread_equal(pthread_self(), em_case_thread);
    pthread_mutex_unlock(&em_lock);
    if (armed) longjmp(em_skip_jmp, 1);
    /* SKIP off the case's own thread: a forked child can simply end; in-process the thread
     * ends and the case finishes when its thread is joined. */
    if (em_report_fd >= 0) {
        fflush(NULL);
        _exit(EM_TEST_SKIP);
    }
    pthread_exit(NULL);
}

af_backend em_test_backend(void) {
    return em_backend;
}

uint64_t em_test_seed_of(const char *name) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        h ^= *p;
        h *= 0x100000001b3ull;
    }
    return h ? h : 0x9e3779b97f4a7c15ull;
}

int em_test_run_case(const em_test_case *c, af_backend b, int report_fd, const char *prefix) {
    em_backend = b;
    em_report_fd = report_fd;
    em_prefix = prefix ? prefix : "";
    em_failures = 0;
    em_skipped = false;
    em_rng = em_test_seed_of(c->name);
    em_case_thread = pthread_self();

    af_err err = af_set_backend(b);
    if (err != AF_SUCCESS) {
        char *msg = NULL;
        dim_t len = 0;
        af_get_last_error(&msg, &len);
        em_test_fail(c->file, 0, "af_set_backend(%s) returned %d: %s",
                     b == AF_BACKEND_CUDA ? "AF_BACKEND_CUDA" : "AF_BACKEND_CPU", (int)err,
                     msg ? msg : "");
        af_free_host(msg);
        return EM_TEST_FAIL;
    }
    if (setjmp(em_skip_jmp) == 0) {
        em_skip_armed = true;
        c->fn();
    }
    em_skip_armed = false;
    pthread_mutex_lock(&em_lock);
    int result = em_failures ? EM_TEST_FAIL : em_skipped ? EM_TEST_SKIP : EM_TEST_PASS;
    pthread_mutex_unlock(&em_lock);
    return result;
}

/* Checks. */

static bool em_is_ident(char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_';
}

/* True when `name` occurs in `msg` as a whole identifier. */
static bool em_names(const char *msg, const char *name) {
    size_t n = strlen(name);
    for (const char *p = strstr(msg, name); p; p = strstr(p + 1, name)) {
        bool before = p > msg && em_is_ident(p[-1]);
        bool after = em_is_ident(p[n]);
        if (!before && !after) return true;
    }
    return false;
}

void em_test_check_message(const char *file, int line, const char *expr) {
    char *msg = NULL;
    dim_t len = 0;
    af_get_last_error(&msg, &len);
    if (!msg || !msg[0]) {
        em_test_fail(file, line, "CHECK_ERR(%s): af_get_last_error gave an empty message", expr);
        af_free_host(msg);
        return;
    }
    /* The function is the call's leading identifier; only ArrayFire's names are checked, so a
     * helper of the test's own may wrap the call. */
    char fn[128];
    size_t k = 0;
    const char *p = expr;
    while (*p == ' ' || *p == '(')
        p++;
    while (em_is_ident(*p) && k + 1 < sizeof(fn))
        fn[k++] = *p++;
    fn[k] = '\0';
    while (*p == ' ')
        p++;
    bool is_api = *p == '(' && (strncmp(fn, "af_", 3) == 0 || strncmp(fn, "afcu_", 5) == 0);
    if (is_api && !em_names(msg, fn))
        em_test_fail(file, line, "CHECK_ERR(%s): the message \"%s\" does not name %s", expr, msg,
                     fn);
    af_free_host(msg);
}

static bool em_close_one(double got, double ref, double rtol, double atol) {
    if (isnan(ref)) return isnan(got);
    if (isinf(ref)) return got == ref;
    if (!isfinite(got)) return false;
    return fabs(got - ref) <= atol + rtol * fabs(ref);
}

bool em_test_close(const char *file, int line, const double *got, const double *ref, size_t n,
                   double rtol, double atol) {
    if (n && (!got || !ref)) {
        em_test_fail(file, line, "CHECK_CLOSE: %s is NULL", got ? "ref" : "got");
        return false;
    }
    size_t bad = 0, shown = 0;
    char detail[1024];
    int used = 0;
    detail[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (em_close_one(got[i], ref[i], rtol, atol)) continue;
        if (shown < 4 && used < (int)sizeof(detail) - 1) {
            int w = snprintf(detail + used, sizeof(detail) - (size_t)used,
                             "; [%zu] got %.10g want %.10g", i, got[i], ref[i]);
            if (w > 0) used += w;
            shown++;
        }
        bad++;
    }
    if (!bad) return true;
    em_test_fail(file, line, "CHECK_CLOSE: %zu of %zu values differ (rtol %g, atol %g)%s%s", bad, n,
                 rtol, atol, detail, bad > shown ? "; ..." : "");
    return false;
}

/* Random inputs: xorshift64*, seeded per case. */

uint64_t em_test_rand_u64(void) {
    uint64_t x = em_rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    em_rng = x;
    return x * 0x2545f4914f6cdd1dull;
}

double em_test_rand_uniform(double lo, double hi) {
    double u = (double)(em_test_rand_u64() >> 11) * 0x1p-53;
    return lo + (hi - lo) * u;
}

void em_test_fill(double *x, size_t n, double lo, double hi, bool specials) {
    static const double sp[] = {NAN, INFINITY, -INFINITY, 0.0, -0.0};
    for (size_t i = 0; i < n; i++)
        x[i] = em_test_rand_uniform(lo, hi);
    if (specials)
        for (size_t i = 0; i < n && i < sizeof(sp) / sizeof(sp[0]); i++)
            x[i] = sp[i];
}

/* dtypes */

const af_dtype em_test_dtypes[EM_TEST_NUM_DTYPES] = {f32, c32, f64, c64, b8,  s32, u32,
                                                     u8,  s64, u64, s16, u16, f16, s8};

const char *em_test_dtype_name(af_dtype type) {
    static const char *const names[] = {"f32", "c32", "f64", "c64", "b8",  "s32", "u32",
                                        "u8",  "s64", "u64", "s16", "u16", "f16", "s8"};
    return (unsigned)type < EM_TEST_NUM_DTYPES ? names[type] : "(not a dtype)";
}

size_t em_test_dtype_size(af_dtype type) {
    static const size_t sizes[] = {4, 8, 8, 16, 1, 4, 4, 1, 8, 8, 2, 2, 2, 1};
    return (unsigned)type < EM_TEST_NUM_DTYPES ? sizes[type] : 0;
}

/* IEEE binary16, rounded to nearest even straight from double (no double rounding). */
uint16_t em_test_double_to_half(double x) {
    uint16_t sign = signbit(x) ? 0x8000 : 0;
    if (isnan(x)) return sign | 0x7e00;
    double a = fabs(x);
    if (a >= 65520.0) return sign | 0x7c00; /* 65520 is halfway to 2^16: rounds to inf */
    if (a < 0x1p-14) {
        /* Subnormal: units of 2^-24; a result of 0x400 is the smallest normal, as it should. */
        return sign | (uint16_t)nearbyint(a * 0x1p24);
    }
    int e;
    double f = frexp(a, &e); /* a = f * 2^e, f in [0.5, 1) */
    int exp = e - 1;
    double m = nearbyint((f * 2.0 - 1.0) * 1024.0);
    if (m >= 1024.0) {
        m = 0;
        exp++;
    }
    if (exp > 15) return sign | 0x7c00;
    return sign | (uint16_t)((exp + 15) << 10) | (uint16_t)m;
}

double em_test_half_to_double(uint16_t h) {
    double sign = (h & 0x8000) ? -1.0 : 1.0;
    int exp = (h >> 10) & 0x1f;
    int man = h & 0x3ff;
    if (exp == 0) return sign * ldexp(man, -24);
    if (exp == 31) return man ? copysign(NAN, sign) : sign * INFINITY; /* NaN keeps its sign */
    return sign * ldexp(man + 1024, exp - 25);
}

/* Integers: truncated toward zero as C converts; NaN becomes 0 and out-of-range values saturate,
 * where C leaves the conversion undefined. */
static double em_sat(double x, double lo, double hi) {
    if (isnan(x)) return 0;
    x = trunc(x);
    return x < lo ? lo : x > hi ? hi : x;
}

static int64_t em_to_s64(double x) {
    if (isnan(x)) return 0;
    if (x >= 0x1p63) return INT64_MAX;
    if (x < -0x1p63) return INT64_MIN;
    return (int64_t)x;
}

static uint64_t em_to_u64(double x) {
    if (isnan(x) || x <= 0) return 0;
    if (x >= 0x1p64) return UINT64_MAX;
    return (uint64_t)x;
}

/* double to float as IEEE rounds it: beyond FLT_MAX plus half an ulp is infinity. C leaves the
 * out-of-range conversion undefined, and GCC's constant folding does take that liberty. */
static float em_to_f32(double x) {
    if (!(fabs(x) > FLT_MAX)) return (float)x;
    return copysignf(fabs(x) >= 0x1.ffffffp127 ? INFINITY : FLT_MAX, (float)copysign(1, x));
}

static void em_store(void *buf, size_t i, af_dtype type, double re, double im) {
    switch (type) {
    case f32:
        ((float *)buf)[i] = em_to_f32(re);
        break;
    case f64:
        ((double *)buf)[i] = re;
        break;
    case c32:
        ((float *)buf)[2 * i] = em_to_f32(re);
        ((float *)buf)[2 * i + 1] = em_to_f32(im);
        break;
    case c64:
        ((double *)buf)[2 * i] = re;
        ((double *)buf)[2 * i + 1] = im;
        break;
    case b8:
        ((uint8_t *)buf)[i] = re != 0;
        break;
    case s32:
        ((int32_t *)buf)[i] = (int32_t)em_sat(re, INT32_MIN, INT32_MAX);
        break;
    case u32:
        ((uint32_t *)buf)[i] = (uint32_t)em_sat(re, 0, UINT32_MAX);
        break;
    case u8:
        ((uint8_t *)buf)[i] = (uint8_t)em_sat(re, 0, UINT8_MAX);
        break;
    case s64:
        ((int64_t *)buf)[i] = em_to_s64(re);
        break;
    case u64:
        ((uint64_t *)buf)[i] = em_to_u64(re);
        break;
    case s16:
        ((int16_t *)buf)[i] = (int16_t)em_sat(re, INT16_MIN, INT16_MAX);
        break;
    case u16:
        ((uint16_t *)buf)[i] = (uint16_t)em_sat(re, 0, UINT16_MAX);
        break;
    case f16:
        ((uint16_t *)buf)[i] = em_test_double_to_half(re);
        break;
    case s8:
        ((int8_t *)buf)[i] = (int8_t)em_sat(re, INT8_MIN, INT8_MAX);
        break;
    }
}

static void em_load(const void *buf, size_t i, af_dtype type, double *out) {
    switch (type) {
    case f32:
        out[i] = ((const float *)buf)[i];
        break;
    case f64:
        out[i] = ((const double *)buf)[i];
        break;
    case c32:
        out[2 * i] = ((const float *)buf)[2 * i];
        out[2 * i + 1] = ((const float *)buf)[2 * i + 1];
        break;
    case c64:
        out[2 * i] = ((const double *)buf)[2 * i];
        out[2 * i + 1] = ((const double *)buf)[2 * i + 1];
        break;
    case b8:
        out[i] = ((const uint8_t *)buf)[i];
        break;
    case s32:
        out[i] = ((const int32_t *)buf)[i];
        break;
    case u32:
        out[i] = ((const uint32_t *)buf)[i];
        break;
    case u8:
        out[i] = ((const uint8_t *)buf)[i];
        break;
    case s64:
        out[i] = (double)((const int64_t *)buf)[i];
        break;
    case u64:
        out[i] = (double)((const uint64_t *)buf)[i];
        break;
    case s16:
        out[i] = ((const int16_t *)buf)[i];
        break;
    case u16:
        out[i] = ((const uint16_t *)buf)[i];
        break;
    case f16:
        out[i] = em_test_half_to_double(((const uint16_t *)buf)[i]);
        break;
    case s8:
        out[i] = ((const int8_t *)buf)[i];
        break;
    }
}

void em_test_to_host(const double *x, size_t n, af_dtype type, void *buf) {
    bool cplx = type == c32 || type == c64;
    for (size_t i = 0; i < n; i++)
        em_store(buf, i, type, cplx ? x[2 * i] : x[i], cplx ? x[2 * i + 1] : 0.0);
}

void em_test_from_host(const void *buf, size_t n, af_dtype type, double *x) {
    for (size_t i = 0; i < n; i++)
        em_load(buf, i, type, x);
}

static void em_fail_af(const char *what, af_err err) {
    char *msg = NULL;
    dim_t len = 0;
    af_get_last_error(&msg, &len);
    em_test_fail(__FILE__, __LINE__, "%s returned %d: %s", what, (int)err, msg ? msg : "");
    af_free_host(msg);
}

af_array em_test_make(const double *x, unsigned ndims, const dim_t *dims, af_dtype type) {
    if (ndims < 1 || ndims > 4 || !dims || em_test_dtype_size(type) == 0) {
        em_test_fail(__FILE__, __LINE__, "em_test_make: bad arguments (ndims %u, type %d)", ndims,
                     (int)type);
        return NULL;
    }
    size_t n = 1;
    for (unsigned i = 0; i < ndims; i++) {
        if (dims[i] < 0 || (dims[i] > 0 && n > ((size_t)1 << 40) / (size_t)dims[i])) {
            em_test_fail(__FILE__, __LINE__, "em_test_make: dims[%u] = %lld is not usable", i,
                         (long long)dims[i]);
            return NULL;
        }
        n *= (size_t)dims[i];
    }
    void *buf = malloc(n * em_test_dtype_size(type) + 1);
    if (!buf) {
        em_test_fail(__FILE__, __LINE__, "em_test_make: out of host memory for %zu elements", n);
        return NULL;
    }
    if (n && !x) {
        em_test_fail(__FILE__, __LINE__, "em_test_make: x is NULL");
        free(buf);
        return NULL;
    }
    em_test_to_host(x, n, type, buf);
    af_array a = NULL;
    af_err err = af_create_array(&a, buf, ndims, dims, type);
    free(buf);
    if (err != AF_SUCCESS) {
        em_fail_af("em_test_make: af_create_array", err);
        return NULL;
    }
    return a;
}

double *em_test_read(af_array a, dim_t *n_out) {
    af_dtype type;
    dim_t n = 0;
    af_err err;
    if (n_out) *n_out = 0;
    if ((err = af_get_type(&type, a)) != AF_SUCCESS) {
        em_fail_af("em_test_read: af_get_type", err);
        return NULL;
    }
    if ((err = af_get_elements(&n, a)) != AF_SUCCESS) {
        em_fail_af("em_test_read: af_get_elements", err);
        return NULL;
    }
    size_t es = em_test_dtype_size(type);
    size_t vals = (type == c32 || type == c64) ? 2 * (size_t)n : (size_t)n;
    void *buf = malloc((size_t)n * es + 1);
    double *out = malloc(vals * sizeof(double) + 1);
    if (!buf || !out) {
        em_test_fail(__FILE__, __LINE__, "em_test_read: out of host memory for %lld elements",
                     (long long)n);
        free(buf);
        free(out);
        return NULL;
    }
    if (n > 0 && (err = af_get_data_ptr(buf, a)) != AF_SUCCESS) {
        em_fail_af("em_test_read: af_get_data_ptr", err);
        free(buf);
        free(out);
        return NULL;
    }
    em_test_from_host(buf, (size_t)n, type, out);
    free(buf);
    if (n_out) *n_out = n;
    return out;
}

af_array em_test_index_or_skip(af_array parent, unsigned n, const af_seq *s) {
    af_array v = NULL;
    af_err e = af_index(&v, parent, n, s);
    if (e == AF_ERR_NOT_SUPPORTED) {
        af_release_array(parent);
        SKIP("af_index is not built");
    }
    if (e != AF_SUCCESS) em_test_fail(__FILE__, __LINE__, "af_index returned %d", (int)e);
    return v;
}
