/* exception.h: reading the calling thread's last error. */
#include <af/exception.h>

#include "../core/err.h"

#include <stdlib.h>
#include <string.h>

void af_get_last_error(char **msg, dim_t *len) {
    /* No place to put the message: report an empty one and keep it for a later call. */
    if (!msg) {
        if (len) *len = 0;
        return;
    }
    const char *m = em_err_message();
    size_t n = strlen(m);
    /* As in ArrayFire: with no message and a length to report, the answer is NULL and 0. */
    if (n == 0 && len) {
        *msg = NULL;
        *len = 0;
        return;
    }
    /* malloc'ed, so that af_free_host (free) releases it. */
    char *copy = malloc(n + 1);
    if (!copy) {
        *msg = NULL;
        if (len) *len = 0;
        return;
    }
    memcpy(copy, m, n + 1);
    /* Reading the message clears it, as ArrayFire does. */
    em_err_clear();
    *msg = copy;
    if (len) *len = (dim_t)n;
}

const char *af_err_to_string(const af_err err) {
    return em_err_string(err);
}
