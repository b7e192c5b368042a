/* algorithm.h: the scans (af_accum, af_scan, af_scan_by_key), af_where, af_diff1 and af_diff2.
 *
 * Scans and where consume their input through the fused-input seam (src/backend/algorithm.h):
 * the api turns the input, lazy or evaluated, view or not, into a JIT program whose output is
 * already the value the backend works on (the input cast to the scan's output dtype; `x != 0`
 * for where), so accum(a*b) reads a and b once and allocates nothing but its output. diff1 and
 * diff2 are lazy element-wise trees over shifted views of the input: they fuse into whatever
 * consumes them.
 *
 * Dtypes and corner cases follow ArrayFire 3.10's src/api/c/scan.cpp, where.cpp and diff.cpp:
 *  - accum and scan: u8, u16 and b8 scan in u32, s8 and s16 in s32, the rest in their own dtype;
 *    accum of b8 counts the true values; f16 is refused (AF_ERR_TYPE).
 *  - scan_by_key: keys s32, u32, s64 or u64 of the values' dims; values as scan, except that u8,
 *    u16, u32 and b8 scan in u32 and s8, s16 and s32 in s32.
 *  - a dim at or beyond the input's number of dimensions returns the input itself (a new handle,
 *    its dtype unchanged), as ArrayFire does, before any other check on the input.
 *  - where: u32 indices in a column; an empty input gives an empty u32 array; f16 is refused.
 *  - diff1 / diff2 along dim: dims[dim] shrinks by 1 / 2; fewer than 2 / 3 elements along dim
 *    give an empty array of the input's dtype. Integers wrap; b8 follows the JIT's b8
 *    arithmetic (SUB is xor: b8 stays 0 or 1), where ArrayFire stores the raw char difference.
 * s8 is accepted wherever s16 is (ArrayFire 3.10 added s8 beside its 16-bit types). */
#include <af/algorithm.h>

#include "../backend/algorithm.h"
#include "../core/dev.h"
#include "jit_build.h"

#include <stdbool.h>

/* The dtype a scan (or accum) of dtype t runs in, or -1 when t is refused. */
static int scan_type(af_dtype t) {
    switch (t) {
    case f32:
    case f64:
    case c32:
    case c64:
    case s32:
    case u32:
    case s64:
    case u64:
        return t;
    case u16:
    case u8:
    case b8:
        return u32;
    case s16:
    case s8:
        return s32;
    default:
        return -1;
    }
}

/* The dtype scan_by_key scans values of dtype t in, or -1 when t is refused. */
static int scan_key_value_type(af_dtype t) {
    switch (t) {
    case f32:
    case f64:
    case c32:
    case c64:
    case s64:
    case u64:
        return t;
    case s32:
    case s16:
    case s8:
        return s32;
    case u32:
    case u16:
    case u8:
    case b8:
        return u32;
    default:
        return -1;
    }
}

static bool key_type_ok(af_dtype t) {
    return t == s32 || t == u32 || t == s64 || t == u64;
}

/* Builds the program of one input: the array (lazy tree or leaf) cast to `type`. On success the
 * node's reference is kept in *node (release it after the program is freed). */
static af_err input_prog(const char *fn, const em_array *a, af_dtype type, em_node **node,
                         em_jit_prog *prog) {
    af_err err = AF_SUCCESS;
    em_node *n = NULL;
    EM_TRY_FN(em_jit_input(a, a->dims, type, &n));
    EM_TRY_FN(em_jit_prog_build(&n, 1, prog));
    *node = n;
    return AF_SUCCESS;
fail:
    if (n) em_node_release(n);
    return err;
}

/* The scans. keyh is NULL for accum and scan. Argument positions: out 0, then (key 1), in, dim,
 * op. `accum` marks af_accum, whose op is always ADD. */
static af_err scan_impl(const char *fn, af_array *out, const af_array keyh, const af_array inh,
                        int dim, af_binary_op op, bool inclusive, bool by_key) {
    af_err err = AF_SUCCESS;
    em_array *a = NULL, *k = NULL, *res = NULL;
    em_node *nv = NULL, *nk = NULL;
    em_jit_prog pv, pk;
    bool built_v = false, built_k = false;
    int in_pos = by_key ? 2 : 1, dim_pos = in_pos + 1, op_pos = in_pos + 2;
    EM_ARG_NULL_FN(out, 0, "out");
    EM_GET_FN(a, inh, in_pos);
    if (dim < 0 || dim > 3)
        EM_FAIL_FN(AF_ERR_ARG, "argument %d (dim): %d is outside 0..3", dim_pos, dim);
    if (op != AF_BINARY_ADD && op != AF_BINARY_MUL && op != AF_BINARY_MIN && op != AF_BINARY_MAX)
        EM_FAIL_FN(AF_ERR_ARG, "argument %d (op): %d is not an af_binary_op", op_pos, (int)op);
    if ((unsigned)dim >= em_dims_ndims(a->dims)) {
        /* Nothing to combine along dim: ArrayFire hands back the input itself. */
        EM_TRY_FN(em_array_share(a, &res));
        *out = res;
        return AF_SUCCESS;
    }
    int t = by_key ? scan_key_value_type(a->type) : scan_type(a->type);
    if (t < 0)
        EM_FAIL_FN(AF_ERR_TYPE, "argument %d (in): dtype %s is not supported", in_pos,
                   em_dtype_name(a->type));
    if (by_key) {
        EM_GET_FN(k, keyh, 1);
        if (!key_type_ok(k->type))
            EM_FAIL_FN(AF_ERR_TYPE, "argument 1 (key): dtype %s, must be s32, u32, s64 or u64",
                       em_dtype_name(k->type));
        for (int d = 0; d < 4; d++)
            if (k->dims[d] != a->dims[d])
                EM_FAIL_FN(AF_ERR_ARG,
                           "argument 1 (key): dims [%lld %lld %lld %lld] differ from the values' "
                           "[%lld %lld %lld %lld]",
                           (long long)k->dims[0], (long long)k->dims[1], (long long)k->dims[2],
                           (long long)k->dims[3], (long long)a->dims[0], (long long)a->dims[1],
                           (long long)a->dims[2], (long long)a->dims[3]);
    }
    EM_NEED_SLOT(algo, scan);
    EM_TRY_FN(input_prog(fn, a, (af_dtype)t, &nv, &pv));
    built_v = true;
    if (k) {
        EM_TRY_FN(input_prog(fn, k, k->type, &nk, &pk));
        built_k = true;
    }
    EM_TRY_FN(em_array_alloc((af_dtype)t, a->dims, &res));
    EM_TRY_FN(em_backend_self.algo->scan(a->dev, &pv, built_k ? &pk : NULL, dim, op, inclusive,
                                         res->buf->ptr));
    em_jit_prog_free(&pv);
    em_node_release(nv);
    if (built_k) {
        em_jit_prog_free(&pk);
        em_node_release(nk);
    }
    *out = res;
    return AF_SUCCESS;
fail:
    if (built_v) em_jit_prog_free(&pv);
    if (built_k) em_jit_prog_free(&pk);
    if (nv) em_node_release(nv);
    if (nk) em_node_release(nk);
    if (res) em_array_free(res);
    return err;
}

af_err af_accum(af_array *out, const af_array in, const int dim) {
    return scan_impl(__func__, out, NULL, in, dim, AF_BINARY_ADD, true, false);
}

af_err af_scan(af_array *out, const af_array in, const int dim, af_binary_op op,
               bool inclusive_scan) {
    return scan_impl(__func__, out, NULL, in, dim, op, inclusive_scan, false);
}

af_err af_scan_by_key(af_array *out, const af_array key, const af_array in, const int dim,
                      af_binary_op op, bool inclusive_scan) {
    return scan_impl(__func__, out, key, in, dim, op, inclusive_scan, true);
}

/* ---------------------------------------------------------------------------------------------
 * where
 * ------------------------------------------------------------------------------------------- */
af_err af_where(af_array *idx, const af_array in) {
    af_err err = AF_SUCCESS;
    const char *fn = __func__;
    em_array *a, *res = NULL;
    em_node *n = NULL;
    em_jit_prog prog;
    bool built = false;
    em_buf *buf = NULL;
    dim_t count = 0;
    EM_ARG_NULL(idx, 0);
    EM_GET(a, in, 1);
    if (a->type == f16) EM_FAIL(AF_ERR_TYPE, "argument 1 (in): dtype f16 is not supported");
    if (em_array_elements(a) > 0) {
        EM_NEED_SLOT(algo, where);
        /* The test for non-zero is part of the program: where(a > 0.5) and where(a) alike read
         * the input once. NaN is non-zero; complex values are non-zero when either part is. */
        EM_TRY(em_jit_input(a, a->dims, a->type, &n));
        if (a->type != b8) n = em_jit_op2(EM_OP_NEQ, b8, n, em_jit_const(a->type, a->dims, 0, 0));
        if (!n) EM_FAIL(AF_ERR_NO_MEM, "out of host memory for a JIT node");
        EM_TRY(em_jit_prog_build(&n, 1, &prog));
        built = true;
        EM_TRY(em_backend_self.algo->where(a->dev, &prog, &buf, &count));
    }
    dim_t d[4] = {count, 1, 1, 1};
    if (buf) {
        em_buf *b = buf;
        buf = NULL; /* em_array_from_buf takes it over, also when it fails */
        EM_TRY(em_array_from_buf(b, u32, d, NULL, 0, a->dev, &res));
    } else {
        EM_TRY(em_array_alloc(u32, d, &res));
    }
    if (built) em_jit_prog_free(&prog);
    if (n) em_node_release(n);
    *idx = res;
    return AF_SUCCESS;
fail:
    if (built) em_jit_prog_free(&prog);
    if (n) em_node_release(n);
    if (buf) em_buf_release(buf);
    return err;
}

/* ---------------------------------------------------------------------------------------------
 * diff1, diff2
 * ------------------------------------------------------------------------------------------- */

/* A BUF leaf over the evaluated array a, with output dims `od`, shifted by `shift` elements along
 * dim. */
static em_node *shifted_leaf(const em_array *a, const dim_t od[4], int dim, dim_t shift) {
    return em_node_buf(a->buf, a->type, od, a->strides, a->offset + shift * a->strides[dim]);
}

static af_err diff_impl(const char *fn, af_array *out, const af_array inh, int dim, int order) {
    af_err err = AF_SUCCESS;
    em_array *a, *res = NULL;
    em_node *n = NULL;
    EM_ARG_NULL_FN(out, 0, "out");
    EM_GET_FN(a, inh, 1);
    if (dim < 0 || dim > 3) EM_FAIL_FN(AF_ERR_ARG, "argument 2 (dim): %d is outside 0..3", dim);
    if (a->type == f16) EM_FAIL_FN(AF_ERR_TYPE, "argument 1 (in): dtype f16 is not supported");
    /* The device rule of element-wise operations (jit_build.c), since the leaves below are made
     * directly rather than through em_jit_input. */
    if (a->dev != em_dev_active())
        EM_FAIL_FN(AF_ERR_DEVICE, "argument 1 (in) lives on device %d, not the active device %d",
                   a->dev, em_dev_active());
    if (a->dims[dim] <= order) {
        /* Too short to difference: ArrayFire's empty array of the input's dtype. */
        const dim_t empty[4] = {0, 1, 1, 1};
        EM_TRY_FN(em_array_alloc(a->type, empty, &res));
        *out = res;
        return AF_SUCCESS;
    }
    /* The leaves read the input's buffer at shifted offsets, so a lazy input is evaluated first
     * (in place, as af_eval would). */
    EM_TRY_FN(em_array_eval(a));
    dim_t od[4] = {a->dims[0], a->dims[1], a->dims[2], a->dims[3]};
    od[dim] -= order;
    af_dtype t = a->type;
    if (order == 1) {
        n = em_jit_op2(EM_OP_SUB, t, shifted_leaf(a, od, dim, 1), shifted_leaf(a, od, dim, 0));
    } else {
        /* (x[i+2] - x[i+1]) - (x[i+1] - x[i]): ArrayFire's order of operations, which fixes the
         * floating-point rounding. */
        em_node *hi =
            em_jit_op2(EM_OP_SUB, t, shifted_leaf(a, od, dim, 2), shifted_leaf(a, od, dim, 1));
        em_node *lo =
            em_jit_op2(EM_OP_SUB, t, shifted_leaf(a, od, dim, 1), shifted_leaf(a, od, dim, 0));
        n = em_jit_op2(EM_OP_SUB, t, hi, lo);
    }
    EM_TRY_FN(em_jit_finish(fn, n, a->dev, &res)); /* consumes n, reports NULL as no memory */
    *out = res;
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_diff1(af_array *out, const af_array in, const int dim) {
    return diff_impl(__func__, out, in, dim, 1);
}

af_err af_diff2(af_array *out, const af_array in, const int dim) {
    return diff_impl(__func__, out, in, dim, 2);
}
