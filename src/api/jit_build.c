#include "jit_build.h"

#include "../core/dev.h"

#include <math.h>
#include <string.h>

af_err em_jit_bcast_dims(const char *fn, int pos_a, int pos_b, const dim_t a[4], const dim_t b[4],
                         bool batch, dim_t out[4]) {
    for (int d = 0; d < 4; d++) {
        if (a[d] == b[d]) {
            out[d] = a[d];
        } else if (batch && (a[d] == 1 || b[d] == 1)) {
            /* The other size, even 0: broadcasting over an empty dimension stays empty. */
            out[d] = a[d] == 1 ? b[d] : a[d];
        } else {
            return em_err(AF_ERR_SIZE, fn,
                          "arguments %d and %d: dims [%lld %lld %lld %lld] and "
                          "[%lld %lld %lld %lld] %s",
                          pos_a, pos_b, (long long)a[0], (long long)a[1], (long long)a[2],
                          (long long)a[3], (long long)b[0], (long long)b[1], (long long)b[2],
                          (long long)b[3],
                          batch ? "differ in a dimension where neither is 1"
                                : "differ (batch is false, so they must be equal)");
        }
    }
    return AF_SUCCESS;
}

em_node *em_jit_cast(em_node *n, af_dtype type) {
    if (!n || n->type == type) return n;
    return em_node_op(EM_OP_CAST, type, n->dims, &n);
}

static em_node *op_n(em_op op, af_dtype type, em_node **kids, int k) {
    bool ok = true;
    for (int i = 0; i < k; i++)
        ok = ok && kids[i];
    if (ok) return em_node_op(op, type, kids[0]->dims, kids);
    for (int i = 0; i < k; i++)
        if (kids[i]) em_node_release(kids[i]);
    return NULL;
}

em_node *em_jit_op1(em_op op, af_dtype type, em_node *a) {
    em_node *k[1] = {a};
    return op_n(op, type, k, 1);
}

em_node *em_jit_op2(em_op op, af_dtype type, em_node *a, em_node *b) {
    em_node *k[2] = {a, b};
    return op_n(op, type, k, 2);
}

em_node *em_jit_op3(em_op op, af_dtype type, em_node *a, em_node *b, em_node *c) {
    em_node *k[3] = {a, b, c};
    return op_n(op, type, k, 3);
}

/* The device rule of element-wise operations. Every array operand must live on the calling
 * thread's active device, and the result is made there: ArrayFire's rule up to 3.8 ("Input Array
 * not created on current device", AF_ERR_DEVICE). ArrayFire 3.9 and later instead copy an operand
 * that the active device cannot reach to it, silently, at every use. Ember keeps the error, so a
 * transfer between devices is never hidden in an expression: af_copy_array_to_device moves an array
 * explicitly. Queries, host reads, af_eval, af_get_device_ptr and releases take an array of any
 * device, since they name the array's device themselves. `fn` names the public function; within
 * em_jit_input it is that function's own name, which the caller's EM_TRY_FN re-attributes to the
 * public function (em_err_attribute). */
static af_err jit_device_check(const char *fn, int pos, const em_array *a, int active) {
    if (a->dev == active) return AF_SUCCESS;
    if (pos > 0)
        return em_err(AF_ERR_DEVICE, fn,
                      "argument %d lives on device %d but device %d is active; an operation "
                      "takes arrays of the active device (move it with af_copy_array_to_device)",
                      pos, a->dev, active);
    return em_err(AF_ERR_DEVICE, fn,
                  "an operand lives on device %d but device %d is active; an operation takes "
                  "arrays of the active device (move it with af_copy_array_to_device)",
                  a->dev, active);
}

/* Two operands of one operation on different devices, named by position. */
static af_err jit_device_pair(const char *fn, int pos_a, const em_array *a, int pos_b,
                              const em_array *b, int active) {
    if (a->dev != b->dev)
        return em_err(AF_ERR_DEVICE, fn,
                      "arguments %d and %d live on devices %d and %d; an operation takes arrays "
                      "of one device, the active one (move one with af_copy_array_to_device)",
                      pos_a, pos_b, a->dev, b->dev);
    return jit_device_check(fn, pos_a, a, active);
}

/* An operand whose device the caller has checked: the array's node, cast to the operand dtype.
 * `dims` is a->dims itself (not a copy) when no broadcast is wanted: the inline common case. t is
 * the calling thread's state. */
static inline af_err operand(const em_thread *t, const em_array *a, const dim_t dims[4],
                             af_dtype type, em_node **out) {
    em_node *n = dims == a->dims ? em_array_node_cached(t, a) : NULL;
    if (!n) {
        af_err err = em_array_node(a, dims, &n);
        if (err != AF_SUCCESS) return err;
    }
    if (n->type != type && !(n = em_jit_cast(n, type)))
        return em_err(AF_ERR_NO_MEM, __func__, "out of host memory for a JIT node");
    *out = n;
    return AF_SUCCESS;
}

af_err em_jit_input(const em_array *a, const dim_t dims[4], af_dtype type, em_node **out) {
    /* Operands that em_jit_unary and em_jit_binary did not check by position get the device rule
     * here. */
    em_thread *t = em_thread_self();
    af_err err = jit_device_check(__func__, 0, a, em_thread_dev(t));
    return err == AF_SUCCESS ? operand(t, a, dims, type, out) : err;
}

/* Saturating double -> integer in [lo, hi], NaN -> 0: the rule of CAST float -> integer. The
 * bounds are exact in double for every width but 64 bits, where hi + 1 = 2^63 / 2^64 is exact
 * and compared with >=. */
static long long sat_i(double x, double lo, double hi_plus1, long long lov, long long hiv) {
    if (isnan(x)) return 0;
    if (x <= lo) return lov;
    if (x >= hi_plus1) return hiv;
    return (long long)x;
}
static unsigned long long sat_u(double x, double hi_plus1, unsigned long long hiv) {
    if (isnan(x) || x <= 0) return 0;
    if (x >= hi_plus1) return hiv;
    return (unsigned long long)x;
}

em_scalar em_jit_scalar_f(af_dtype type, double re, double im) {
    em_scalar v;
    memset(&v, 0, sizeof(v));
    switch (type) {
    case f32:
    case f64:
    case f16:
        v.f[0] = re;
        break;
    case c32:
    case c64:
        v.f[0] = re;
        v.f[1] = im;
        break;
    case b8:
        v.i = re != 0;
        break;
    case s8:
        v.i = sat_i(re, -128.0, 128.0, INT8_MIN, INT8_MAX);
        break;
    case s16:
        v.i = sat_i(re, -32768.0, 32768.0, INT16_MIN, INT16_MAX);
        break;
    case s32:
        v.i = sat_i(re, -2147483648.0, 2147483648.0, INT32_MIN, INT32_MAX);
        break;
    case s64:
        v.i = sat_i(re, -0x1p63, 0x1p63, INT64_MIN, INT64_MAX);
        break;
    case u8:
        v.u = sat_u(re, 256.0, UINT8_MAX);
        break;
    case u16:
        v.u = sat_u(re, 65536.0, UINT16_MAX);
        break;
    case u32:
        v.u = sat_u(re, 4294967296.0, UINT32_MAX);
        break;
    case u64:
        v.u = sat_u(re, 0x1p64, UINT64_MAX);
        break;
    }
    return v;
}

static bool is_unsigned(af_dtype t) {
    return t == u8 || t == u16 || t == u32 || t == u64;
}

em_scalar em_jit_scalar_i(af_dtype type, long long x) {
    em_scalar v;
    memset(&v, 0, sizeof(v));
    if (em_dtype_is_float(type))
        v.f[0] = (double)x;
    else if (type == b8)
        v.i = x != 0;
    else if (is_unsigned(type))
        v.u = (unsigned long long)x; /* modulo 2^64, then the width */
    else
        v.i = x;
    return v;
}

em_scalar em_jit_scalar_u(af_dtype type, unsigned long long x) {
    em_scalar v;
    memset(&v, 0, sizeof(v));
    if (em_dtype_is_float(type))
        v.f[0] = (double)x;
    else if (type == b8)
        v.i = x != 0;
    else if (is_unsigned(type))
        v.u = x;
    else
        v.i = (long long)x; /* two's complement wrap, then the width */
    return v;
}

em_node *em_jit_const_val(af_dtype type, const dim_t dims[4], em_scalar v) {
    return em_node_scalar(type, dims, v);
}

em_node *em_jit_const(af_dtype type, const dim_t dims[4], double re, double im) {
    return em_node_scalar(type, dims, em_jit_scalar_f(type, re, im));
}

static af_err jit_finish_on(em_thread *t, const char *fn, em_node *n, int dev, em_array **out) {
    if (!n) return em_err(AF_ERR_NO_MEM, fn, "out of host memory for a JIT node");
    return em_array_from_op_on(t, n, dev, out);
}

af_err em_jit_finish(const char *fn, em_node *n, int dev, em_array **out) {
    return jit_finish_on(em_thread_self(), fn, n, dev, out);
}

af_err em_jit_unary(const char *fn, em_op op, const em_array *in, af_dtype operand_type,
                    af_dtype result, em_array **out) {
    em_node *a = NULL;
    em_thread *t = em_thread_self();
    af_err err = jit_device_check(fn, 1, in, em_thread_dev(t));
    if (err == AF_SUCCESS) err = operand(t, in, in->dims, operand_type, &a);
    if (err != AF_SUCCESS) return err;
    return jit_finish_on(t, fn, em_node_op_on(t, op, result, a->dims, &a), in->dev, out);
}

af_err em_jit_binary(const char *fn, em_op op, const em_array *l, const em_array *r, bool batch,
                     af_dtype operand_type, af_dtype result, em_array **out) {
    dim_t d[4];
    em_node *a = NULL, *b = NULL;
    em_thread *t = em_thread_self();
    af_err err = jit_device_pair(fn, 1, l, 2, r, em_thread_dev(t));
    if (err != AF_SUCCESS) return err;
    /* Equal dims, the common case, need no broadcast check, and each operand is passed its own
     * dims (operand's inline case). */
    const dim_t *dl = l->dims, *dr = r->dims;
    if (memcmp(l->dims, r->dims, sizeof(d)) != 0) {
        if ((err = em_jit_bcast_dims(fn, 1, 2, l->dims, r->dims, batch, d)) != AF_SUCCESS)
            return err;
        dl = dr = d;
    }
    err = operand(t, l, dl, operand_type, &a);
    if (err != AF_SUCCESS) return err;
    err = operand(t, r, dr, operand_type, &b);
    if (err != AF_SUCCESS) {
        em_node_release_on(t, a);
        return err;
    }
    em_node *kids[2] = {a, b};
    return jit_finish_on(t, fn, em_node_op_on(t, op, result, a->dims, kids), l->dev, out);
}
