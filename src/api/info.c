/* device.h: the library banner and device descriptions (af_info, af_info_string, af_device_info).
 * The text follows ArrayFire's layout: a banner line, then one line per device with the active
 * device's id in brackets ("[0]") and the others' between dashes ("-1-"). */
#include <af/device.h>
#include <af/util.h>
#include <af/version.h>

#include "../core/dev.h"
#include "../core/err.h"
#include "../core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__linux__)
#define EM_OS_NAME "Linux"
#elif defined(__APPLE__)
#define EM_OS_NAME "Mac OSX"
#elif defined(_WIN32)
#define EM_OS_NAME "Windows"
#else
#define EM_OS_NAME "Unknown OS"
#endif

#define EM_INFO_LINE 640 /* room for one line: the props strings are at most 256 + 3 * 64 */

/* Builds the info text into a malloc'ed string. */
static af_err info_build(const char *fn, bool verbose, char **out) {
    af_err err = em_init();
    if (err != AF_SUCCESS) return err;
    int n = em_dev_count();
    int active = em_dev_active();
    size_t cap = (size_t)(n * (verbose ? 2 : 1) + 1) * EM_INFO_LINE;
    char *s = malloc(cap);
    if (!s) return em_err(AF_ERR_NO_MEM, fn, "out of host memory for the info text");
    size_t len = 0;
    len += (size_t)snprintf(s + len, cap - len, "ArrayFire v%s (Ember, %s, %d-bit %s, build %s)\n",
                            AF_VERSION, em_backend_self.name, (int)(8 * sizeof(void *)), EM_OS_NAME,
                            af_get_revision());
    for (int d = 0; d < n && len < cap; d++) {
        const em_dev_props *p = em_dev_props_of(d);
        char id[16];
        if (d == active)
            snprintf(id, sizeof(id), "[%d]", d);
        else
            snprintf(id, sizeof(id), "-%d-", d);
        size_t mb = p->mem_bytes / (1024 * 1024);
        len += (size_t)snprintf(s + len, cap - len, "%s %s: %s, ", id, p->platform, p->name);
        if (len < cap) {
            if (mb)
                len += (size_t)snprintf(s + len, cap - len, "%zu MB", mb);
            else
                len += (size_t)snprintf(s + len, cap - len, "Unknown MB");
        }
        if (len < cap && p->toolkit[0])
            len += (size_t)snprintf(s + len, cap - len, ", %s", p->toolkit);
        if (len < cap && p->compute[0])
            len += (size_t)snprintf(s + len, cap - len, ", %s", p->compute);
        if (len < cap) len += (size_t)snprintf(s + len, cap - len, "\n");
        if (verbose && len < cap) {
            /* The verbose form adds what the memory manager holds on each device. */
            em_mem_info mi;
            em_mem_info_get(d, &mi);
            len +=
                (size_t)snprintf(s + len, cap - len,
                                 "    memory: %zu buffers (%zu bytes) allocated, %zu buffers "
                                 "(%zu bytes) in use or locked\n",
                                 mi.alloc_buffers, mi.alloc_bytes, mi.lock_buffers, mi.lock_bytes);
        }
    }
    *out = s;
    return AF_SUCCESS;
}

af_err af_info(void) {
    af_err err = AF_SUCCESS;
    char *s = NULL;
    EM_TRY(info_build(__func__, false, &s));
    fputs(s, stdout);
    fflush(stdout);
    free(s);
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_info_string(char **str, const bool verbose) {
    af_err err = AF_SUCCESS;
    char *s = NULL;
    EM_ARG_NULL(str, 0);
    /* malloc'ed, so af_free_host (free) releases it. */
    EM_TRY(info_build(__func__, verbose, &s));
    *str = s;
    return AF_SUCCESS;
fail:
    return err;
}

/* Copies src into dst of cap bytes, truncating, always terminated. */
static void copy_trunc(char *dst, size_t cap, const char *src) {
    size_t n = strlen(src);
    if (n > cap - 1) n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

af_err af_device_info(char *d_name, char *d_platform, char *d_toolkit, char *d_compute) {
    af_err err = AF_SUCCESS;
    EM_ARG_NULL(d_name, 0);
    EM_ARG_NULL(d_platform, 1);
    EM_ARG_NULL(d_toolkit, 2);
    EM_ARG_NULL(d_compute, 3);
    EM_TRY(em_init());
    const em_dev_props *p = em_dev_props_of(em_dev_active());
    /* ArrayFire's callers size these buffers for its backends' writes: 64, 10, 64 and 10 bytes
     * (names are truncated to fit, never overrun). */
    copy_trunc(d_name, 64, p->name);
    copy_trunc(d_platform, 10, p->platform);
    copy_trunc(d_toolkit, 64, p->toolkit);
    copy_trunc(d_compute, 10, p->compute);
    return AF_SUCCESS;
fail:
    return err;
}
