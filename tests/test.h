/* The test framework: cases register themselves; the runner (runner.c) runs each case once per
 * backend present, each in its own process, so a crash is reported and the rest still run.
 *
 *   TEST(add_f32_broadcast) {
 *       af_array a;
 *       CHECK_AF(af_constant(&a, 1, 1, dims, f32));
 *       CHECK(x == 1);
 *       CHECK_ERR(af_add(&out, a, NULL, false), AF_ERR_ARG);
 *       CHECK_CLOSE(got, ref, n, 1e-6, 1e-6);
 *       af_release_array(a);
 *   }
 *
 * Tests call the public C API (arrayfire.h) of the backend under test; the runner selects it with
 * af_set_backend before the case starts. A failed CHECK records file:line and the case goes on; the
 * case fails if any check failed. SKIP(...) ends the case as skipped. */
#ifndef EM_TEST_H
#define EM_TEST_H

#include <arrayfire.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

typedef void (*em_test_fn)(void);
void em_test_register(const char *name, const char *file, em_test_fn fn);
void em_test_register_limit(const char *name, const char *file, em_test_fn fn, double limit);

#define TEST(name)                                                                                 \
    static void test_##name(void);                                                                 \
    __attribute__((constructor)) static void test_register_##name(void) {                          \
        em_test_register(#name, __FILE__, test_##name);                                            \
    }                                                                                              \
    static void test_##name(void)

/* A case that may run longer than the runner's default limit (when that limit is smaller): work
 * that is long by nature, such as compiling every kernel variant of a family. */
#define TEST_LIMIT(name, seconds)                                                                  \
    static void test_##name(void);                                                                 \
    __attribute__((constructor)) static void test_register_##name(void) {                          \
        em_test_register_limit(#name, __FILE__, test_##name, (seconds));                           \
    }                                                                                              \
    static void test_##name(void)

/* Failure bookkeeping for the running case. */
void em_test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
_Noreturn void em_test_skip(const char *reason);
/* The backend the case runs on (AF_BACKEND_CPU or AF_BACKEND_CUDA). */
af_backend em_test_backend(void);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) em_test_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);                         \
    } while (0)

#define CHECK_AF(expr)                                                                             \
    do {                                                                                           \
        af_err check_af_err_ = (expr);                                                             \
        if (check_af_err_ != AF_SUCCESS) {                                                         \
            char *check_msg_ = NULL;                                                               \
            dim_t check_len_ = 0;                                                                  \
            af_get_last_error(&check_msg_, &check_len_);                                           \
            em_test_fail(__FILE__, __LINE__, "%s returned %d: %s", #expr, (int)check_af_err_,      \
                         check_msg_ ? check_msg_ : "");                                            \
            af_free_host(check_msg_);                                                              \
        }                                                                                          \
    } while (0)

/* The call must fail with `code`, and its message must be non-empty and name the function. */
#define CHECK_ERR(expr, code)                                                                      \
    do {                                                                                           \
        af_err check_af_err_ = (expr);                                                             \
        if (check_af_err_ != (code))                                                               \
            em_test_fail(__FILE__, __LINE__, "%s returned %d, expected %d (%s)", #expr,            \
                         (int)check_af_err_, (int)(code), #code);                                  \
        else                                                                                       \
            em_test_check_message(__FILE__, __LINE__, #expr);                                      \
    } while (0)
void em_test_check_message(const char *file, int line, const char *expr);

#define SKIP(reason) em_test_skip(reason)

/* Compares n doubles: NaN must match NaN, inf must match inf of the same sign, and finite values
 * must satisfy |got - ref| <= atol + rtol * |ref|. Reports the first few mismatches. */
#define CHECK_CLOSE(got, ref, n, rtol, atol)                                                       \
    em_test_close(__FILE__, __LINE__, (got), (ref), (n), (rtol), (atol))
bool em_test_close(const char *file, int line, const double *got, const double *ref, size_t n,
                   double rtol, double atol);

/* Deterministic random inputs (xorshift, seeded per case) and special values. */
uint64_t em_test_rand_u64(void);
double em_test_rand_uniform(double lo, double hi);
/* Fills n doubles with uniform values in [lo, hi), then sprinkles NaN, +inf, -inf, 0 and -0 into
 * the first positions when `specials` is true (as many as fit). */
void em_test_fill(double *x, size_t n, double lo, double hi, bool specials);

/* Creates an array of `type` from doubles (converted as C converts; complex from pairs when
 * `type` is c32/c64 and x holds 2n values), and reads any array back as doubles (complex as
 * pairs). The returned buffer from em_test_read is malloc'ed; the caller frees it. */
af_array em_test_make(const double *x, unsigned ndims, const dim_t *dims, af_dtype type);
double *em_test_read(af_array a, dim_t *n_out);
/* Notes on the two above: integers are truncated toward zero, NaN becomes 0 and out-of-range
 * values saturate (C leaves those conversions undefined); b8 is x != 0; f16 is rounded to nearest
 * even. em_test_read sets *n_out to the number of elements (the buffer holds 2 * n doubles for
 * c32/c64). Both report a failed check and return NULL when the library call fails. */

/* Helpers added beside the API above. */
#define EM_TEST_NUM_DTYPES 14
/* Every af_dtype in enum order: f32 c32 f64 c64 b8 s32 u32 u8 s64 u64 s16 u16 f16 s8. */
extern const af_dtype em_test_dtypes[EM_TEST_NUM_DTYPES];
const char *em_test_dtype_name(af_dtype type); /* "f32", ... */
size_t em_test_dtype_size(af_dtype type);      /* bytes per element; 0 for a bad dtype */
/* IEEE binary16 conversions (round to nearest even), for f16 references. */
uint16_t em_test_double_to_half(double x);
double em_test_half_to_double(uint16_t h);
/* The conversions of em_test_make / em_test_read on host buffers of n elements of `type`. */
void em_test_to_host(const double *x, size_t n, af_dtype type, void *buf);
void em_test_from_host(const void *buf, size_t n, af_dtype type, double *x);
/* af_index(parent, n, s) for cases about views; on a backend without af_index
 * (AF_ERR_NOT_SUPPORTED) the case is skipped after releasing parent, so the leak checker stays
 * quiet. */
af_array em_test_index_or_skip(af_array parent, unsigned n, const af_seq *s);

#endif
