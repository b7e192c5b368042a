/* util.h: printing arrays, version and type facts. The printed layout is ArrayFire's: the name on
 * its own line ("No Name Array" for af_print_array), the dims as "[d0 d1 d2 d3]", then the values,
 * each right-aligned in precision + 6 columns with `precision` decimals and followed by a space.
 * By default each line is a row of the matrix (the array is printed transposed, as ArrayFire
 * does); each further dimension ends with a blank line. Complex values print as "(re,im)". */
#include <af/util.h>
#include <af/version.h>

#include "../core/array.h"
#include "../core/err.h"
#include "../core/sbuf.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The revision string; the build may define it (for example from git describe). */
#ifndef EMBER_REVISION
#define EMBER_REVISION "ember"
#endif

/* Decimals above this are refused: they only pad with zeros, and the text grows with them. */
#define EM_PRINT_MAX_PRECISION 100

/* Appends element i of host data (storage type `type`) in a field of `width` characters. */
static void print_value(em_sbuf *b, const void *data, af_dtype type, dim_t i, int width,
                        int precision) {
    switch (type) {
    case f32:
        em_sbuf_printf(b, "%*.*f ", width, precision, (double)((const float *)data)[i]);
        break;
    case f64:
        em_sbuf_printf(b, "%*.*f ", width, precision, ((const double *)data)[i]);
        break;
    case f16:
        em_sbuf_printf(b, "%*.*f ", width, precision,
                       (double)em_half_to_float(((const uint16_t *)data)[i]));
        break;
    case c32:
    case c64: {
        double re, im;
        if (type == c32) {
            re = ((const em_cf32 *)data)[i].re;
            im = ((const em_cf32 *)data)[i].im;
        } else {
            re = ((const em_cf64 *)data)[i].re;
            im = ((const em_cf64 *)data)[i].im;
        }
        /* The field width applies to the whole "(re,im)", as with std::complex in a stream. */
        int n = snprintf(NULL, 0, "(%.*f,%.*f)", precision, re, precision, im);
        char small[128];
        char *tmp = n < (int)sizeof(small) ? small : malloc((size_t)n + 1);
        if (!tmp) {
            b->oom = true;
            return;
        }
        snprintf(tmp, (size_t)n + 1, "(%.*f,%.*f)", precision, re, precision, im);
        em_sbuf_printf(b, "%*s ", width, tmp);
        if (tmp != small) free(tmp);
        break;
    }
    case b8:
    case u8:
        em_sbuf_printf(b, "%*u ", width, (unsigned)((const uint8_t *)data)[i]);
        break;
    case s8:
        em_sbuf_printf(b, "%*d ", width, (int)((const int8_t *)data)[i]);
        break;
    case s16:
        em_sbuf_printf(b, "%*d ", width, (int)((const int16_t *)data)[i]);
        break;
    case u16:
        em_sbuf_printf(b, "%*u ", width, (unsigned)((const uint16_t *)data)[i]);
        break;
    case s32:
        em_sbuf_printf(b, "%*d ", width, ((const int32_t *)data)[i]);
        break;
    case u32:
        em_sbuf_printf(b, "%*u ", width, ((const uint32_t *)data)[i]);
        break;
    case s64:
        em_sbuf_printf(b, "%*lld ", width, (long long)((const int64_t *)data)[i]);
        break;
    case u64:
        em_sbuf_printf(b, "%*llu ", width, (unsigned long long)((const uint64_t *)data)[i]);
        break;
    }
}

typedef struct {
    em_sbuf *b;
    const void *data;
    af_dtype type;
    dim_t pd[4];     /* printed dims: the array's, with dims 0 and 1 swapped when transposed */
    dim_t stride[4]; /* element stride in the column-major host data, by printed dim */
    int width, precision;
} em_printer;

/* Prints the block of printed dims 0..dim at element offset `base`: dim 0 is one line, and each
 * higher dimension ends with an empty line. */
static void print_block(const em_printer *p, int dim, dim_t base) {
    if (dim == 0) {
        for (dim_t i = 0; i < p->pd[0]; i++)
            print_value(p->b, p->data, p->type, base + i * p->stride[0], p->width, p->precision);
        em_sbuf_printf(p->b, "\n");
        return;
    }
    for (dim_t i = 0; i < p->pd[dim]; i++)
        print_block(p, dim - 1, base + i * p->stride[dim]);
    em_sbuf_printf(p->b, "\n");
}

/* Appends the text of array a. Reading evaluates a lazy array, as any host read does. */
static af_err array_format(const char *fn, em_sbuf *b, const char *exp, em_array *a, int precision,
                           bool transpose) {
    em_sbuf_printf(b, "%s\n", exp ? exp : "No Name Array");
    em_sbuf_printf(b, "[%lld %lld %lld %lld]\n", (long long)a->dims[0], (long long)a->dims[1],
                   (long long)a->dims[2], (long long)a->dims[3]);
    dim_t n = em_array_elements(a);
    if (n == 0) {
        em_sbuf_printf(b, "<empty>\n");
        return AF_SUCCESS;
    }
    void *data = malloc((size_t)n * em_dtype_size(a->type));
    if (!data)
        return em_err(AF_ERR_NO_MEM, fn, "out of host memory for %lld elements", (long long)n);
    af_err err = em_array_read(a, data);
    if (err != AF_SUCCESS) {
        free(data);
        return err;
    }
    em_printer p = {
        .b = b, .data = data, .type = a->type, .width = precision + 6, .precision = precision};
    dim_t dense[4];
    em_dims_dense_strides(a->dims, dense);
    for (int d = 0; d < 4; d++) {
        int src = transpose && d < 2 ? 1 - d : d;
        p.pd[d] = a->dims[src];
        p.stride[d] = dense[src];
    }
    print_block(&p, (int)em_dims_ndims(p.pd) - 1, 0);
    free(data);
    return AF_SUCCESS;
}

/* Formats into a new malloc'ed string (*out), or fails leaving *out untouched. */
static af_err array_text(const char *fn, char **out, const char *exp, em_array *a, int precision,
                         bool transpose) {
    if (precision < 0 || precision > EM_PRINT_MAX_PRECISION)
        return em_err(AF_ERR_ARG, fn, "precision is %d, must be in 0..%d", precision,
                      EM_PRINT_MAX_PRECISION);
    em_sbuf b = {0};
    af_err err = array_format(fn, &b, exp, a, precision, transpose);
    if (err == AF_SUCCESS && b.oom)
        err = em_err(AF_ERR_NO_MEM, fn, "out of host memory for the array's text");
    if (err != AF_SUCCESS) {
        free(b.s);
        return err;
    }
    *out = b.s;
    return AF_SUCCESS;
}

af_err af_print_array(af_array arr) {
    af_err err = AF_SUCCESS;
    em_array *a;
    char *s = NULL;
    EM_GET(a, arr, 0);
    EM_TRY(array_text(__func__, &s, NULL, a, 4, true));
    fputs(s, stdout);
    fflush(stdout);
    free(s);
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_print_array_gen(const char *exp, const af_array arr, const int precision) {
    af_err err = AF_SUCCESS;
    em_array *a;
    char *s = NULL;
    EM_ARG_NULL(exp, 0);
    EM_GET(a, arr, 1);
    EM_TRY(array_text(__func__, &s, exp, a, precision, true));
    fputs(s, stdout);
    fflush(stdout);
    free(s);
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_array_to_string(char **output, const char *exp, const af_array arr, const int precision,
                          const bool transpose) {
    af_err err = AF_SUCCESS;
    em_array *a;
    char *s = NULL;
    EM_ARG_NULL(output, 0);
    EM_ARG_NULL(exp, 1);
    EM_GET(a, arr, 2);
    /* malloc'ed, so af_free_host (free) releases it. */
    EM_TRY(array_text(__func__, &s, exp, a, precision, transpose));
    *output = s;
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_example_function(af_array *out, const af_array in, const af_someenum_t param) {
    af_err err = AF_SUCCESS;
    em_array *a;
    (void)param;
    EM_ARG_NULL(out, 0);
    EM_GET(a, in, 1);
    (void)a;
    /* ArrayFire's template for contributors, not a computation anyone relies on. */
    EM_FAIL(AF_ERR_NOT_SUPPORTED, "Ember does not implement ArrayFire's example function");
fail:
    return err;
}

af_err af_get_version(int *major, int *minor, int *patch) {
    af_err err = AF_SUCCESS;
    EM_ARG_NULL(major, 0);
    EM_ARG_NULL(minor, 1);
    EM_ARG_NULL(patch, 2);
    /* The ArrayFire API level implemented, not Ember's own release. */
    *major = AF_VERSION_MAJOR;
    *minor = AF_VERSION_MINOR;
    *patch = AF_VERSION_PATCH;
    return AF_SUCCESS;
fail:
    return err;
}

const char *af_get_revision(void) {
    return EMBER_REVISION;
}

af_err af_get_size_of(size_t *size, af_dtype type) {
    af_err err = AF_SUCCESS;
    EM_ARG_NULL(size, 0);
    if (!em_dtype_valid(type))
        EM_FAIL(AF_ERR_TYPE, "argument 1 (type): %d is not a dtype", (int)type);
    *size = em_dtype_size(type);
    return AF_SUCCESS;
fail:
    return err;
}

/* Ember's messages carry no stack trace; the flag is kept so that the call round-trips. */
static atomic_int em_stacktrace = 1;

af_err af_set_enable_stacktrace(int is_enabled) {
    atomic_store(&em_stacktrace, is_enabled != 0);
    return AF_SUCCESS;
}
