/* The error mechanism: every public function returns af_err and leaves a thread-local message
 * naming the function, the argument and the reason. */
#ifndef EM_CORE_ERR_H
#define EM_CORE_ERR_H

#include <af/defines.h>

/* Records `code` with a message "fn: <formatted reason>" for the calling thread and returns
 * `code`. With AF_PRINT_ERRORS=1 in the environment the message is also printed to stderr. */
af_err em_err(af_err code, const char *fn, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The calling thread's last message ("" when none). */
const char *em_err_message(void);
const char *em_err_string(af_err code);
void em_err_clear(void);
/* Called on the error path of a public function: a message raised inside the library by an
 * internal function ("em_buf_alloc: ...") is re-attributed to the public function the user
 * called ("af_create_handle: ..."), keeping the reason. */
void em_err_attribute(const char *fn);

/* Single-exit helpers for functions that declare `af_err err` and a `fail:` label. */
#define EM_FAIL(code, ...)                                                                         \
    do {                                                                                           \
        err = em_err((code), __func__, __VA_ARGS__);                                               \
        goto fail;                                                                                 \
    } while (0)
#define EM_TRY(expr)                                                                               \
    do {                                                                                           \
        err = (expr);                                                                              \
        if (err != AF_SUCCESS) {                                                                   \
            em_err_attribute(__func__);                                                            \
            goto fail;                                                                             \
        }                                                                                          \
    } while (0)
#define EM_ARG_NULL(ptr, pos)                                                                      \
    do {                                                                                           \
        if ((ptr) == NULL) EM_FAIL(AF_ERR_ARG, "argument %d (%s) is NULL", (pos), #ptr);           \
    } while (0)

/* Single-exit helpers for internal functions that report errors in the name of the public
 * function `fn` (a local variable or parameter) rather than their own. */
#define EM_FAIL_FN(code, ...)                                                                      \
    do {                                                                                           \
        err = em_err((code), fn, __VA_ARGS__);                                                     \
        goto fail;                                                                                 \
    } while (0)
#define EM_TRY_FN(expr)                                                                            \
    do {                                                                                           \
        err = (expr);                                                                              \
        if (err != AF_SUCCESS) {                                                                   \
            em_err_attribute(fn);                                                                  \
            goto fail;                                                                             \
        }                                                                                          \
    } while (0)
#define EM_ARG_NULL_FN(ptr, pos, name)                                                             \
    do {                                                                                           \
        if ((ptr) == NULL) EM_FAIL_FN(AF_ERR_ARG, "argument %d (%s) is NULL", (pos), (name));      \
    } while (0)

/* For functions that declare `af_err err`, a `fail:` label and `const char *fn`: fails with
 * AF_ERR_NOT_SUPPORTED, naming the function and the backend, when this backend lacks family
 * table `family` (a field of em_backend) or its slot `slot`. */
#define EM_NEED_SLOT(family, slot)                                                                 \
    do {                                                                                           \
        if (!em_backend_self.family || !em_backend_self.family->slot)                              \
            EM_FAIL_FN(AF_ERR_NOT_SUPPORTED, "not supported on the %s backend",                    \
                       em_backend_self.name);                                                      \
    } while (0)

#endif
