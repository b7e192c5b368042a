#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EM_ERR_MSG_MAX 1024

static _Thread_local char em_err_msg[EM_ERR_MSG_MAX];

#define EM_ERRORS(X)                                                                               \
    X(AF_SUCCESS, "Success")                                                                       \
    X(AF_ERR_NO_MEM, "Device out of memory")                                                       \
    X(AF_ERR_DRIVER, "Driver not available or incompatible")                                       \
    X(AF_ERR_RUNTIME, "Runtime error ")                                                            \
    X(AF_ERR_INVALID_ARRAY, "Invalid array")                                                       \
    X(AF_ERR_ARG, "Invalid input argument")                                                        \
    X(AF_ERR_SIZE, "Invalid input size")                                                           \
    X(AF_ERR_TYPE, "Function does not support this data type")                                     \
    X(AF_ERR_DIFF_TYPE, "Input types are not the same")                                            \
    X(AF_ERR_BATCH, "Invalid batch configuration")                                                 \
    X(AF_ERR_DEVICE, "Input does not belong to the current device.")                               \
    X(AF_ERR_NOT_SUPPORTED, "Function not supported")                                              \
    X(AF_ERR_NOT_CONFIGURED, "Function not configured to build")                                   \
    X(AF_ERR_NONFREE, "Function unavailable. ArrayFire compiled without Non-Free algorithms")      \
    X(AF_ERR_NO_DBL, "Double precision not supported for this device")                             \
    X(AF_ERR_NO_GFX, "Graphics functionality unavailable")                                         \
    X(AF_ERR_NO_HALF, "Half precision floats not supported for this device")                       \
    X(AF_ERR_LOAD_LIB, "Failed to load dynamic library")                                           \
    X(AF_ERR_LOAD_SYM, "Failed to load symbol")                                                    \
    X(AF_ERR_ARR_BKND_MISMATCH, "There was a mismatch between an array and the current backend")   \
    X(AF_ERR_INTERNAL, "Internal error")                                                           \
    X(AF_ERR_UNKNOWN, "Unknown error")

const char *em_err_string(af_err code) {
    switch (code) {
#define X(c, s)                                                                                    \
    case c:                                                                                        \
        return s;
        EM_ERRORS(X)
#undef X
    }
    return "Unknown error";
}

af_err em_err(af_err code, const char *fn, const char *fmt, ...) {
    int n = snprintf(em_err_msg, sizeof(em_err_msg), "%s: ", fn);
    if (n < 0 || n >= (int)sizeof(em_err_msg)) n = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(em_err_msg + n, sizeof(em_err_msg) - (size_t)n, fmt, ap);
    va_end(ap);
    const char *print = getenv("AF_PRINT_ERRORS");
    if (print && print[0] == '1')
        fprintf(stderr, "Ember error %d (%s): %s\n", (int)code, em_err_string(code), em_err_msg);
    return code;
}

const char *em_err_message(void) {
    return em_err_msg;
}

void em_err_clear(void) {
    em_err_msg[0] = 0;
}

void em_err_attribute(const char *fn) {
    if (strncmp(fn, "af", 2) != 0 || strncmp(em_err_msg, "em_", 3) != 0) return;
    const char *colon = strstr(em_err_msg, ": ");
    if (!colon) return;
    char reason[EM_ERR_MSG_MAX];
    snprintf(reason, sizeof(reason), "%s", colon + 2);
    int n = snprintf(em_err_msg, sizeof(em_err_msg), "%s: ", fn);
    if (n > 0 && n < (int)sizeof(em_err_msg))
        memcpy(em_err_msg + n, reason, strnlen(reason, sizeof(em_err_msg) - (size_t)n - 1) + 1);
    em_err_msg[sizeof(em_err_msg) - 1] = 0;
}
