/* data.h: constants, sequences (range, iota, identity) and reshaping without copies (moddims,
 * flat). The generators are lazy JIT leaves: nothing runs until the array is evaluated, and an
 * expression such as af_range(...) * 2 + 1 is computed in one pass. */
#include <af/data.h>

#include "../core/array.h"
#include "../core/dev.h"
#include "../core/err.h"
#include "jit_build.h"

#include <string.h>

/* Dims of a generator's output. ndims 0 gives an empty array, as in ArrayFire: its C++ wrapper
 * passes ndims 0 for an empty dim4. Otherwise ndims is 1..4 and each dim >= 0 (0 gives an empty
 * array; ArrayFire rejects it, Ember accepts it as af_create_array does). */
static af_err gen_dims(const char *fn, int pos, unsigned ndims, const dim_t *dims, dim_t out[4]) {
    if (ndims == 0) {
        out[0] = 0, out[1] = out[2] = out[3] = 1;
        return AF_SUCCESS;
    }
    return em_dims_from_user(fn, pos, ndims, dims, out);
}

static af_err check_type(const char *fn, int pos, af_dtype type, bool ok, const char *allowed) {
    if (!em_dtype_valid(type))
        return em_err(AF_ERR_TYPE, fn, "argument %d (type): %d is not a dtype", pos, (int)type);
    if (!ok)
        return em_err(AF_ERR_TYPE, fn, "argument %d (type): %s is not supported, only %s", pos,
                      em_dtype_name(type), allowed);
    return AF_SUCCESS;
}

/* Wraps a fresh leaf (NULL when its allocation failed) into the output array. */
static af_err leaf_to_array(const char *fn, em_node *leaf, em_array **out) {
    if (!leaf) return em_err(AF_ERR_NO_MEM, fn, "out of host memory for a JIT node");
    return em_array_from_op(leaf, em_dev_active(), out);
}

af_err af_constant(af_array *arr, const double val, const unsigned ndims, const dim_t *const dims,
                   const af_dtype type) {
    af_err err = AF_SUCCESS;
    dim_t d[4];
    em_array *a = NULL;
    EM_ARG_NULL(arr, 0);
    EM_TRY(em_init());
    EM_TRY(gen_dims(__func__, 2, ndims, dims, d));
    EM_TRY(check_type(__func__, 4, type, true, ""));
    EM_TRY(leaf_to_array(__func__, em_jit_const(type, d, val, 0), &a));
    *arr = a;
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_constant_complex(af_array *arr, const double real, const double imag,
                           const unsigned ndims, const dim_t *const dims, const af_dtype type) {
    af_err err = AF_SUCCESS;
    dim_t d[4];
    em_array *a = NULL;
    EM_ARG_NULL(arr, 0);
    EM_TRY(em_init());
    EM_TRY(gen_dims(__func__, 3, ndims, dims, d));
    EM_TRY(check_type(__func__, 5, type, em_dtype_is_complex(type), "c32 and c64"));
    em_scalar s;
    memset(&s, 0, sizeof(s));
    s.f[0] = real;
    s.f[1] = imag;
    EM_TRY(leaf_to_array(__func__, em_node_scalar(type, d, s), &a));
    *arr = a;
    return AF_SUCCESS;
fail:
    return err;
}

/* af_constant_long and af_constant_ulong: an exact 64-bit integer scalar of `type` (s64 or u64). */
static af_err constant_int64(const char *fn, af_array *arr, af_dtype type, em_scalar s,
                             const unsigned ndims, const dim_t *const dims) {
    af_err err = AF_SUCCESS;
    dim_t d[4];
    em_array *a = NULL;
    EM_ARG_NULL_FN(arr, 0, "arr");
    EM_TRY_FN(em_init());
    EM_TRY_FN(gen_dims(fn, 2, ndims, dims, d));
    EM_TRY_FN(leaf_to_array(fn, em_node_scalar(type, d, s), &a));
    *arr = a;
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_constant_long(af_array *arr, const long long val, const unsigned ndims,
                        const dim_t *const dims) {
    em_scalar s;
    memset(&s, 0, sizeof(s));
    s.i = val;
    return constant_int64(__func__, arr, s64, s, ndims, dims);
}

af_err af_constant_ulong(af_array *arr, const unsigned long long val, const unsigned ndims,
                         const dim_t *const dims) {
    em_scalar s;
    memset(&s, 0, sizeof(s));
    s.u = val;
    return constant_int64(__func__, arr, u64, s, ndims, dims);
}

/* A generator leaf (RANGE, IOTA, IDENTITY). Each leaf is a parameter of the program that
 * evaluates it, so it counts toward the leaf limit like a buffer or scalar does. */
static em_node *gen_node(em_op op, af_dtype type, const dim_t d[4]) {
    em_node *n = em_node_new(op, type, d);
    if (n) n->nleaf = 1;
    return n;
}

/* range and iota take the real types except b8, as ArrayFire does (s8 since 3.10). */
static bool seq_type_ok(af_dtype t) {
    return em_dtype_valid(t) && !em_dtype_is_complex(t) && t != b8;
}
#define EM_SEQ_TYPES "f32, f64, f16, s8, u8, s16, u16, s32, u32, s64 and u64"

af_err af_identity(af_array *out, const unsigned ndims, const dim_t *const dims,
                   const af_dtype type) {
    af_err err = AF_SUCCESS;
    dim_t d[4];
    em_array *a = NULL;
    EM_ARG_NULL(out, 0);
    EM_TRY(em_init());
    EM_TRY(gen_dims(__func__, 1, ndims, dims, d));
    EM_TRY(check_type(__func__, 3, type, true, ""));
    EM_TRY(leaf_to_array(__func__, gen_node(EM_OP_IDENTITY, type, d), &a));
    *out = a;
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_range(af_array *out, const unsigned ndims, const dim_t *const dims, const int seq_dim,
                const af_dtype type) {
    af_err err = AF_SUCCESS;
    dim_t d[4];
    em_array *a = NULL;
    EM_ARG_NULL(out, 0);
    EM_TRY(em_init());
    EM_TRY(gen_dims(__func__, 1, ndims, dims, d));
    /* ArrayFire takes a negative seq_dim as 0 (a column-wise sequence) and rejects 4 and up. */
    if (seq_dim > 3)
        EM_FAIL(AF_ERR_ARG, "argument 3 (seq_dim): %d is not a dimension (0..3, or < 0 for 0)",
                seq_dim);
    EM_TRY(check_type(__func__, 4, type, seq_type_ok(type), EM_SEQ_TYPES));
    em_node *n = gen_node(EM_OP_RANGE, type, d);
    if (n) n->iparam = seq_dim < 0 ? 0 : seq_dim;
    EM_TRY(leaf_to_array(__func__, n, &a));
    *out = a;
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_iota(af_array *out, const unsigned ndims, const dim_t *const dims, const unsigned t_ndims,
               const dim_t *const tdims, const af_dtype type) {
    af_err err = AF_SUCCESS;
    dim_t d[4], t[4], o[4];
    em_array *a = NULL;
    EM_ARG_NULL(out, 0);
    EM_TRY(em_init());
    EM_TRY(gen_dims(__func__, 1, ndims, dims, d));
    if (ndims == 0) {
        /* ArrayFire returns an empty array before it looks at the tiling. */
        t[0] = t[1] = t[2] = t[3] = 1;
    } else {
        EM_TRY(em_dims_from_user(__func__, 3, t_ndims, tdims, t));
    }
    EM_TRY(check_type(__func__, 5, type, seq_type_ok(type), EM_SEQ_TYPES));
    /* The output is dims tiled tdims times; its size must pass the same limit as user dims. */
    for (int i = 0; i < 4; i++) {
        if (d[i] && t[i] > ((dim_t)1 << 48) / d[i])
            EM_FAIL(AF_ERR_SIZE, "argument 4 (tdims): dims[%d] = %lld tiled %lld times overflows",
                    i, (long long)d[i], (long long)t[i]);
        o[i] = d[i] * t[i];
    }
    EM_TRY(em_dims_from_user(__func__, 3, 4, o, o));
    em_node *n = gen_node(EM_OP_IOTA, type, o);
    if (n) memcpy(n->gparam, d, sizeof(n->gparam));
    EM_TRY(leaf_to_array(__func__, n, &a));
    *out = a;
    return AF_SUCCESS;
fail:
    return err;
}

/* Strides that view the elements of (od, os) in column-major order with dims nd, when they
 * exist (NumPy's reshape without a copy, column-major): the dims of both shapes are grouped into
 * runs of equal element count, and each group of old dims longer than 1 must be contiguous
 * within itself (stride of dim k+1 = stride of k times dim k); new dims then take strides
 * that walk the group in order. False when some group is not contiguous: a gather is needed. */
static bool view_strides(const dim_t od[4], const dim_t os[4], const dim_t nd[4], dim_t ns[4]) {
    dim_t dd[4], ds[4];
    int no = 0;
    for (int k = 0; k < 4; k++)
        if (od[k] != 1) dd[no] = od[k], ds[no++] = os[k];
    int oi = 0, ni = 0;
    while (oi < no) {
        while (ni < 4 && nd[ni] == 1)
            ns[ni] = ni ? ns[ni - 1] * nd[ni - 1] : 1, ni++;
        if (ni == 4) return false;
        int o0 = oi, n0 = ni;
        dim_t po = dd[oi], pn = nd[ni];
        while (po != pn) {
            if (pn < po) {
                if (++ni == 4) return false;
                pn *= nd[ni];
            } else {
                if (++oi == no) return false;
                po *= dd[oi];
            }
        }
        for (int k = o0; k < oi; k++)
            if (ds[k + 1] != ds[k] * dd[k]) return false;
        ns[n0] = ds[o0];
        for (int k = n0 + 1; k <= ni; k++)
            ns[k] = ns[k - 1] * nd[k - 1];
        oi++, ni++;
    }
    for (; ni < 4; ni++)
        ns[ni] = ni ? ns[ni - 1] * nd[ni - 1] : 1;
    return true;
}

/* The array `a` seen with dims `d` (same element count), sharing storage where it can:
 *  - a lazy constant becomes a constant of the new dims (still lazy);
 *  - another lazy tree is evaluated in place first, since its generators and broadcasts depend on
 *    the old dims;
 *  - an evaluated dense array (offset allowed) shares its buffer, with copy on write;
 *  - a strided view whose elements the new dims can walk with strides (view_strides) stays a
 *    view of the same buffer;
 *  - any other view is gathered into a fresh dense buffer. */
static af_err redim(const char *fn, em_array *a, const dim_t d[4], em_array **out) {
    af_err err;
    if (a->node && a->node->op == EM_OP_SCALAR) {
        em_node *n = em_node_scalar(a->type, d, a->node->val);
        if (!n) return em_err(AF_ERR_NO_MEM, fn, "out of host memory for a JIT node");
        return em_array_from_op(n, a->dev, out);
    }
    err = em_array_eval(a);
    if (err != AF_SUCCESS) return err;
    if (em_array_is_dense(a) || em_array_elements(a) == 0) {
        em_buf_retain(a->buf);
        return em_array_from_buf(a->buf, a->type, d, NULL, a->offset, a->dev, out);
    }
    dim_t ns[4];
    if (view_strides(a->dims, a->strides, d, ns)) {
        em_buf_retain(a->buf);
        return em_array_from_buf(a->buf, a->type, d, ns, a->offset, a->dev, out);
    }
    em_node *leaf = NULL;
    em_array *b = NULL;
    err = em_array_node(a, a->dims, &leaf);
    if (err != AF_SUCCESS) return err;
    err = em_array_from_node(leaf, &b);
    if (err != AF_SUCCESS) return err;
    b->dev = a->dev;
    err = em_array_eval(b);
    if (err != AF_SUCCESS) {
        em_array_free(b);
        return err;
    }
    memcpy(b->dims, d, sizeof(b->dims));
    em_dims_dense_strides(b->dims, b->strides);
    *out = b;
    return AF_SUCCESS;
}

af_err af_moddims(af_array *out, const af_array in, const unsigned ndims, const dim_t *const dims) {
    af_err err = AF_SUCCESS;
    dim_t d[4];
    em_array *a, *b = NULL;
    EM_ARG_NULL(out, 0);
    EM_GET(a, in, 1);
    if (ndims == 0) {
        /* ArrayFire answers ndims 0 with a new reference to the input. */
        EM_TRY(em_array_share(a, &b));
    } else {
        EM_TRY(em_dims_from_user(__func__, 2, ndims, dims, d));
        if (em_dims_elements(d) != em_array_elements(a))
            EM_FAIL(AF_ERR_SIZE, "argument 3 (dims): %lld elements, but the array has %lld",
                    (long long)em_dims_elements(d), (long long)em_array_elements(a));
        EM_TRY(redim(__func__, a, d, &b));
    }
    *out = b;
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_flat(af_array *out, const af_array in) {
    af_err err = AF_SUCCESS;
    em_array *a, *b = NULL;
    EM_ARG_NULL(out, 0);
    EM_GET(a, in, 1);
    if (a->dims[1] == 1 && a->dims[2] == 1 && a->dims[3] == 1) {
        EM_TRY(em_array_share(a, &b));
    } else {
        dim_t d[4] = {em_array_elements(a), 1, 1, 1};
        EM_TRY(redim(__func__, a, d, &b));
    }
    *out = b;
    return AF_SUCCESS;
fail:
    return err;
}
