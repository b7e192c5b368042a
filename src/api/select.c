/* data.h: af_select and af_replace with their scalar forms. select builds a lazy SELECT node
 * (cond ? a : b); replace writes select(cond, a, b) into a's own buffer, evaluating at once, since
 * it is a statement on an existing array (docs/JIT_OPS.md, SELECT). */
#include <af/data.h>

#include "jit_build.h"

#include <string.h>

/* Output dims of cond, a and b broadcast together: in every dimension the sizes other than 1
 * must agree (ArrayFire checks this loosely and can read out of bounds; Ember rejects the mix). */
static af_err select_dims(const char *fn, const dim_t *const dims[3], const int pos[3],
                          dim_t out[4]) {
    for (int d = 0; d < 4; d++) {
        out[d] = 1;
        for (int k = 0; k < 3; k++) {
            if (!dims[k] || dims[k][d] == 1) continue;
            if (out[d] == 1) {
                out[d] = dims[k][d];
            } else if (out[d] != dims[k][d]) {
                return em_err(AF_ERR_SIZE, fn,
                              "argument %d: dims[%d] = %lld does not match %lld in another "
                              "argument (sizes must be equal or 1)",
                              pos[k], d, (long long)dims[k][d], (long long)out[d]);
            }
        }
    }
    return AF_SUCCESS;
}

static af_err check_cond(const char *fn, const em_array *c) {
    if (c->type != b8)
        return em_err(AF_ERR_ARG, fn, "argument 1 (cond): dtype %s, must be b8",
                      em_dtype_name(c->type));
    return AF_SUCCESS;
}

/* The value operands: an array (arr != NULL) or a scalar of the other operand's dtype. */
typedef struct {
    const em_array *arr;
    em_scalar val;
} operand;

static af_err build_select(const char *fn, const em_array *c, const operand *a, const operand *b,
                           af_dtype type, const dim_t d[4], em_node **out) {
    af_err err = AF_SUCCESS;
    em_node *nc = NULL, *na = NULL, *nb = NULL;
    EM_TRY_FN(em_jit_input(c, d, b8, &nc));
    if (a->arr)
        EM_TRY_FN(em_jit_input(a->arr, d, type, &na));
    else
        na = em_jit_const_val(type, d, a->val);
    if (b->arr)
        EM_TRY_FN(em_jit_input(b->arr, d, type, &nb));
    else
        nb = em_jit_const_val(type, d, b->val);
    *out = em_jit_op3(EM_OP_SELECT, type, nc, na, nb); /* consumes the three */
    nc = na = nb = NULL;
    if (!*out) EM_FAIL_FN(AF_ERR_NO_MEM, "out of host memory for a JIT node");
    return AF_SUCCESS;
fail:
    if (nc) em_node_release(nc);
    if (na) em_node_release(na);
    if (nb) em_node_release(nb);
    return err;
}

/* ---------------------------------------------------------------------------------------------
 * select
 * ------------------------------------------------------------------------------------------- */
/* ah or bh is NULL exactly where the caller passes a scalar (a_scalar / b_scalar), whose value
 * is then set from the other operand's dtype. */
static af_err select_impl(const char *fn, af_array *out, const af_array cond, const af_array ah,
                          const af_array bh, bool a_scalar, bool b_scalar, operand a, operand b) {
    af_err err = AF_SUCCESS;
    em_array *c, *x = NULL, *y = NULL, *res = NULL;
    em_node *n = NULL;
    dim_t d[4];
    EM_ARG_NULL_FN(out, 0, "out");
    EM_GET_FN(c, cond, 1);
    if (!a_scalar) EM_GET_FN(x, ah, 2);
    if (!b_scalar) EM_GET_FN(y, bh, 3);
    EM_TRY_FN(check_cond(fn, c));
    if (x && y && x->type != y->type)
        EM_FAIL_FN(AF_ERR_ARG, "arguments 2 and 3 (a, b): dtypes %s and %s must be equal",
                   em_dtype_name(x->type), em_dtype_name(y->type));
    af_dtype type = x ? x->type : y->type;
    /* A scalar operand takes the array operand's dtype, so its value is made here. */
    a.arr = x;
    b.arr = y;
    const dim_t *dl[3] = {c->dims, x ? x->dims : NULL, y ? y->dims : NULL};
    const int pos[3] = {1, 2, 3};
    EM_TRY_FN(select_dims(fn, dl, pos, d));
    EM_TRY_FN(build_select(fn, c, &a, &b, type, d, &n));
    EM_TRY_FN(em_jit_finish(fn, n, c->dev, &res));
    *out = res;
    return AF_SUCCESS;
fail:
    return err;
}

static operand op_none(void) {
    operand o;
    memset(&o, 0, sizeof(o));
    return o;
}

/* The scalar forms need the array operand's dtype to convert the scalar; it is looked up (and
 * its errors reported) by select_impl, so the conversion happens through a small adapter. */
typedef enum { SC_DOUBLE, SC_LONG, SC_ULONG } scalar_kind;
typedef struct {
    scalar_kind kind;
    double f;
    long long i;
    unsigned long long u;
} scalar_arg;

static em_scalar scalar_for(af_dtype t, const scalar_arg *s) {
    switch (s->kind) {
    case SC_LONG:
        return em_jit_scalar_i(t, s->i);
    case SC_ULONG:
        return em_jit_scalar_u(t, s->u);
    default:
        return em_jit_scalar_f(t, s->f, 0);
    }
}

static af_err select_scalar(const char *fn, af_array *out, const af_array cond, const af_array arr,
                            bool scalar_left, scalar_arg s) {
    af_err err = AF_SUCCESS;
    em_array *x;
    operand a = op_none(), b = op_none();
    /* The array is argument 3 when the scalar is on the left, else argument 2. */
    EM_ARG_NULL_FN(out, 0, "out");
    EM_GET_FN(x, arr, scalar_left ? 3 : 2);
    if (scalar_left)
        a.val = scalar_for(x->type, &s);
    else
        b.val = scalar_for(x->type, &s);
    return select_impl(fn, out, cond, scalar_left ? NULL : arr, scalar_left ? arr : NULL,
                       scalar_left, !scalar_left, a, b);
fail:
    return err;
}

af_err af_select(af_array *out, const af_array cond, const af_array a, const af_array b) {
    return select_impl(__func__, out, cond, a, b, false, false, op_none(), op_none());
}

af_err af_select_scalar_r(af_array *out, const af_array cond, const af_array a, const double b) {
    return select_scalar(__func__, out, cond, a, false, (scalar_arg){.kind = SC_DOUBLE, .f = b});
}

af_err af_select_scalar_l(af_array *out, const af_array cond, const double a, const af_array b) {
    return select_scalar(__func__, out, cond, b, true, (scalar_arg){.kind = SC_DOUBLE, .f = a});
}

af_err af_select_scalar_r_long(af_array *out, const af_array cond, const af_array a,
                               const long long b) {
    return select_scalar(__func__, out, cond, a, false, (scalar_arg){.kind = SC_LONG, .i = b});
}

af_err af_select_scalar_r_ulong(af_array *out, const af_array cond, const af_array a,
                                const unsigned long long b) {
    return select_scalar(__func__, out, cond, a, false, (scalar_arg){.kind = SC_ULONG, .u = b});
}

af_err af_select_scalar_l_long(af_array *out, const af_array cond, const long long a,
                               const af_array b) {
    return select_scalar(__func__, out, cond, b, true, (scalar_arg){.kind = SC_LONG, .i = a});
}

af_err af_select_scalar_l_ulong(af_array *out, const af_array cond, const unsigned long long a,
                                const af_array b) {
    return select_scalar(__func__, out, cond, b, true, (scalar_arg){.kind = SC_ULONG, .u = a});
}

/* ---------------------------------------------------------------------------------------------
 * replace: a = cond ? a : b, in place. cond and b broadcast to a's dims (each dimension equal or
 * 1); a keeps its dims and dtype. a is first made the sole owner of a dense buffer (copy on write
 * when shared), then the select program writes into that buffer: each element is read before it
 * is written, by the same block, since a's leaf is dense at the output's dims.
 * ------------------------------------------------------------------------------------------- */
static af_err replace_impl(const char *fn, const af_array ah, const af_array cond,
                           const af_array bh, const scalar_arg *s) {
    af_err err = AF_SUCCESS;
    em_array *a, *c, *b = NULL;
    em_node *n = NULL;
    EM_GET_FN(a, ah, 0);
    EM_GET_FN(c, cond, 1);
    if (!s) EM_GET_FN(b, bh, 2); /* s is the scalar of the scalar forms */
    EM_TRY_FN(check_cond(fn, c));
    if (b && b->type != a->type)
        EM_FAIL_FN(AF_ERR_ARG, "arguments 0 and 2 (a, b): dtypes %s and %s must be equal",
                   em_dtype_name(a->type), em_dtype_name(b->type));
    for (int d = 0; d < 4; d++) {
        if (c->dims[d] != a->dims[d] && c->dims[d] != 1)
            EM_FAIL_FN(AF_ERR_SIZE, "argument 1 (cond): dims[%d] = %lld, must be 1 or a's %lld", d,
                       (long long)c->dims[d], (long long)a->dims[d]);
        if (b && b->dims[d] != a->dims[d] && b->dims[d] != 1)
            EM_FAIL_FN(AF_ERR_SIZE, "argument 2 (b): dims[%d] = %lld, must be 1 or a's %lld", d,
                       (long long)b->dims[d], (long long)a->dims[d]);
    }
    if (em_array_elements(a) == 0) return AF_SUCCESS;
    EM_TRY_FN(em_array_make_unique(a));
    operand oa = {.arr = a}, ob = {.arr = b};
    if (!b) ob.val = scalar_for(a->type, s);
    EM_TRY_FN(build_select(fn, c, &oa, &ob, a->type, a->dims, &n));
    dim_t strides[4];
    em_dims_dense_strides(a->dims, strides);
    em_node *value = n;
    n = NULL;
    EM_TRY_FN(em_array_eval_into(a, 0, strides, value)); /* consumes value */
    return AF_SUCCESS;
fail:
    if (n) em_node_release(n);
    return err;
}

af_err af_replace(af_array a, const af_array cond, const af_array b) {
    return replace_impl(__func__, a, cond, b, NULL);
}

af_err af_replace_scalar(af_array a, const af_array cond, const double b) {
    scalar_arg s = {.kind = SC_DOUBLE, .f = b};
    return replace_impl(__func__, a, cond, NULL, &s);
}

af_err af_replace_scalar_long(af_array a, const af_array cond, const long long b) {
    scalar_arg s = {.kind = SC_LONG, .i = b};
    return replace_impl(__func__, a, cond, NULL, &s);
}

af_err af_replace_scalar_ulong(af_array a, const af_array cond, const unsigned long long b) {
    scalar_arg s = {.kind = SC_ULONG, .u = b};
    return replace_impl(__func__, a, cond, NULL, &s);
}
