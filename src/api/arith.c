/* arith.h: element-wise arithmetic, comparisons, logic, bitwise operations, casts, complex parts
 * and unary math. Nothing here computes: each function checks its arguments, decides the result
 * dtype the way ArrayFire does, and builds a lazy JIT node (docs/JIT_OPS.md has the per-element
 * semantics, the dtype rules and where Ember deliberately differs from ArrayFire). */
#include <af/arith.h>
#include <af/array.h>

#include "jit_build.h"

#include <string.h>

static bool is_int_or_b8(af_dtype t) {
    return em_dtype_is_integer(t) || t == b8;
}

/* ---------------------------------------------------------------------------------------------
 * Binary functions
 * ------------------------------------------------------------------------------------------- */
typedef enum {
    BIN_ANY,     /* every dtype; result the promoted dtype */
    BIN_REAL,    /* real dtypes only (rem, mod) */
    BIN_FLOAT,   /* f32 and f64 only (atan2, hypot), as ArrayFire */
    BIN_LOGIC,   /* every dtype; result b8 */
    BIN_BITWISE, /* integers and b8 */
} bin_kind;

static af_err binary(const char *fn, em_op op, bin_kind kind, af_array *out, const af_array lhs,
                     const af_array rhs, bool batch) {
    af_err err = AF_SUCCESS;
    em_array *l, *r, *res = NULL;
    EM_ARG_NULL_FN(out, 0, "out");
    EM_GET_FN(l, lhs, 1);
    EM_GET_FN(r, rhs, 2);
    af_dtype t = em_dtype_implicit(l->type, r->type), result = t;
    switch (kind) {
    case BIN_ANY:
        break;
    case BIN_REAL:
        if (em_dtype_is_complex(t))
            EM_FAIL_FN(AF_ERR_TYPE,
                       "arguments 1 and 2 (lhs %s, rhs %s) promote to %s; complex operands are "
                       "not supported",
                       em_dtype_name(l->type), em_dtype_name(r->type), em_dtype_name(t));
        break;
    case BIN_FLOAT:
        if (t != f32 && t != f64)
            EM_FAIL_FN(AF_ERR_NOT_SUPPORTED,
                       "arguments 1 and 2 (lhs %s, rhs %s) promote to %s; only f32 and f64 are "
                       "supported",
                       em_dtype_name(l->type), em_dtype_name(r->type), em_dtype_name(t));
        break;
    case BIN_LOGIC:
        result = b8;
        break;
    case BIN_BITWISE:
        if (!is_int_or_b8(t))
            EM_FAIL_FN(AF_ERR_TYPE,
                       "arguments 1 and 2 (lhs %s, rhs %s) promote to %s; only integer and b8 "
                       "operands are supported",
                       em_dtype_name(l->type), em_dtype_name(r->type), em_dtype_name(t));
        break;
    }
    EM_TRY_FN(em_jit_binary(fn, op, l, r, batch, t, result, &res));
    *out = res;
    return AF_SUCCESS;
fail:
    return err;
}

/* Each BINARY line below defines the public function it names, so grepping for a function's name
 * (af_add, af_lt, ...) finds its definition here. */
#define BINARY(NAME, OP, KIND)                                                                     \
    af_err NAME(af_array *out, const af_array lhs, const af_array rhs, const bool batch) {         \
        return binary(__func__, OP, KIND, out, lhs, rhs, batch);                                   \
    }

BINARY(af_add, EM_OP_ADD, BIN_ANY)
BINARY(af_sub, EM_OP_SUB, BIN_ANY)
BINARY(af_mul, EM_OP_MUL, BIN_ANY)
BINARY(af_div, EM_OP_DIV, BIN_ANY)
BINARY(af_minof, EM_OP_MINOF, BIN_ANY)
BINARY(af_maxof, EM_OP_MAXOF, BIN_ANY)
BINARY(af_pow, EM_OP_POW, BIN_ANY)
BINARY(af_rem, EM_OP_REM, BIN_REAL)
BINARY(af_mod, EM_OP_MOD, BIN_REAL)
BINARY(af_atan2, EM_OP_ATAN2, BIN_FLOAT)
BINARY(af_hypot, EM_OP_HYPOT, BIN_FLOAT)
BINARY(af_lt, EM_OP_LT, BIN_LOGIC)
BINARY(af_gt, EM_OP_GT, BIN_LOGIC)
BINARY(af_le, EM_OP_LE, BIN_LOGIC)
BINARY(af_ge, EM_OP_GE, BIN_LOGIC)
BINARY(af_eq, EM_OP_EQ, BIN_LOGIC)
BINARY(af_neq, EM_OP_NEQ, BIN_LOGIC)
BINARY(af_and, EM_OP_AND, BIN_LOGIC)
BINARY(af_or, EM_OP_OR, BIN_LOGIC)
BINARY(af_bitand, EM_OP_BITAND, BIN_BITWISE)
BINARY(af_bitor, EM_OP_BITOR, BIN_BITWISE)
BINARY(af_bitxor, EM_OP_BITXOR, BIN_BITWISE)
BINARY(af_bitshiftl, EM_OP_BITSHIFTL, BIN_BITWISE)
BINARY(af_bitshiftr, EM_OP_BITSHIFTR, BIN_BITWISE)

/* The lhs-th root of rhs, rhs^(1/lhs), as ArrayFire's real path defines it. ArrayFire forms 1/lhs
 * in lhs's dtype, which for integers is 0 (so every root is 1); Ember takes integer and b8 roots
 * in f64 and rounds to the nearest integer before converting back. */
af_err af_root(af_array *out, const af_array lhs, const af_array rhs, const bool batch) {
    const char *fn = __func__;
    af_err err = AF_SUCCESS;
    em_array *l, *r, *res = NULL;
    em_node *n = NULL, *v = NULL;
    dim_t d[4];
    EM_ARG_NULL_FN(out, 0, "out");
    EM_GET_FN(l, lhs, 1);
    EM_GET_FN(r, rhs, 2);
    af_dtype t = em_dtype_implicit(l->type, r->type);
    af_dtype ct = is_int_or_b8(t) ? f64 : t;
    EM_TRY_FN(em_jit_bcast_dims(fn, 1, 2, l->dims, r->dims, batch, d));
    EM_TRY_FN(em_jit_input(l, d, ct, &n));
    EM_TRY_FN(em_jit_input(r, d, ct, &v));
    em_node *inv = em_jit_op2(EM_OP_DIV, ct, em_jit_const(ct, d, 1, 0), n);
    em_node *p = em_jit_op2(EM_OP_POW, ct, v, inv);
    n = v = NULL;
    if (ct != t) p = em_jit_cast(em_jit_op1(EM_OP_ROUND, ct, p), t);
    EM_TRY_FN(em_jit_finish(fn, p, l->dev, &res));
    *out = res;
    return AF_SUCCESS;
fail:
    if (n) em_node_release(n);
    if (v) em_node_release(v);
    return err;
}

/* min(max(in, lo), hi) in the dtype of in and lo promoted; lo and hi must agree in dims and
 * dtype (ArrayFire's checks), and broadcast against in when batch is true. */
af_err af_clamp(af_array *out, const af_array in, const af_array lo, const af_array hi,
                const bool batch) {
    const char *fn = __func__;
    af_err err = AF_SUCCESS;
    em_array *x, *a, *b, *res = NULL;
    em_node *nx = NULL, *na = NULL, *nb = NULL;
    dim_t d[4];
    EM_ARG_NULL_FN(out, 0, "out");
    EM_GET_FN(x, in, 1);
    EM_GET_FN(a, lo, 2);
    EM_GET_FN(b, hi, 3);
    if (memcmp(a->dims, b->dims, sizeof(a->dims)) != 0)
        EM_FAIL_FN(AF_ERR_SIZE,
                   "arguments 2 and 3 (lo, hi): dims [%lld %lld %lld %lld] and [%lld %lld %lld "
                   "%lld] must be equal",
                   (long long)a->dims[0], (long long)a->dims[1], (long long)a->dims[2],
                   (long long)a->dims[3], (long long)b->dims[0], (long long)b->dims[1],
                   (long long)b->dims[2], (long long)b->dims[3]);
    if (a->type != b->type)
        EM_FAIL_FN(AF_ERR_DIFF_TYPE, "arguments 2 and 3 (lo, hi): dtypes %s and %s must be equal",
                   em_dtype_name(a->type), em_dtype_name(b->type));
    af_dtype t = em_dtype_implicit(x->type, a->type);
    EM_TRY_FN(em_jit_bcast_dims(fn, 1, 2, x->dims, a->dims, batch, d));
    EM_TRY_FN(em_jit_input(x, d, t, &nx));
    EM_TRY_FN(em_jit_input(a, d, t, &na));
    EM_TRY_FN(em_jit_input(b, d, t, &nb));
    em_node *n = em_jit_op2(EM_OP_MINOF, t, em_jit_op2(EM_OP_MAXOF, t, nx, na), nb);
    nx = na = nb = NULL;
    EM_TRY_FN(em_jit_finish(fn, n, x->dev, &res));
    *out = res;
    return AF_SUCCESS;
fail:
    if (nx) em_node_release(nx);
    if (na) em_node_release(na);
    if (nb) em_node_release(nb);
    return err;
}

/* cplx2: real and imaginary parts from two real arrays; f64 when they promote to f64, else f32
 * (integers and f16 included), as ArrayFire. */
af_err af_cplx2(af_array *out, const af_array real, const af_array imag, const bool batch) {
    const char *fn = __func__;
    af_err err = AF_SUCCESS;
    em_array *l, *r, *res = NULL;
    EM_ARG_NULL_FN(out, 0, "out");
    EM_GET_FN(l, real, 1);
    EM_GET_FN(r, imag, 2);
    af_dtype t = em_dtype_implicit(l->type, r->type);
    if (em_dtype_is_complex(t))
        EM_FAIL_FN(AF_ERR_ARG, "arguments 1 and 2 (real %s, imag %s) must not be complex",
                   em_dtype_name(l->type), em_dtype_name(r->type));
    af_dtype ct = t == f64 ? f64 : f32;
    EM_TRY_FN(em_jit_binary(fn, EM_OP_CPLX2, l, r, batch, ct, ct == f64 ? c64 : c32, &res));
    *out = res;
    return AF_SUCCESS;
fail:
    return err;
}

/* ---------------------------------------------------------------------------------------------
 * Unary functions
 * ------------------------------------------------------------------------------------------- */
typedef enum {
    UN_FLOAT,      /* every dtype, computed in the float of its dtype (sin, exp, sqrt, ...) */
    UN_FLOAT_REAL, /* the same, but complex input is an argument error (floor, erf, ...) */
    UN_CHECK,      /* the float of the dtype, result b8 (isnan, isinf, iszero) */
} un_kind;

static af_err unary(const char *fn, em_op op, un_kind kind, af_array *out, const af_array in) {
    af_err err = AF_SUCCESS;
    em_array *a, *res = NULL;
    EM_ARG_NULL_FN(out, 0, "out");
    EM_GET_FN(a, in, 1);
    if (kind == UN_FLOAT_REAL && em_dtype_is_complex(a->type))
        EM_FAIL_FN(AF_ERR_ARG, "argument 1 (in): complex input (%s) is not supported",
                   em_dtype_name(a->type));
    af_dtype t = em_jit_float_of(a->type);
    EM_TRY_FN(em_jit_unary(fn, op, a, t, kind == UN_CHECK ? b8 : t, &res));
    *out = res;
    return AF_SUCCESS;
fail:
    return err;
}

/* Each UNARY line below defines the public function it names (af_sin, af_abs, ...), so grepping
 * for a function's name finds its definition here. */
#define UNARY(NAME, OP, KIND)                                                                      \
    af_err NAME(af_array *out, const af_array in) {                                                \
        return unary(__func__, OP, KIND, out, in);                                                 \
    }

UNARY(af_sin, EM_OP_SIN, UN_FLOAT)
UNARY(af_cos, EM_OP_COS, UN_FLOAT)
UNARY(af_tan, EM_OP_TAN, UN_FLOAT)
UNARY(af_asin, EM_OP_ASIN, UN_FLOAT)
UNARY(af_acos, EM_OP_ACOS, UN_FLOAT)
UNARY(af_atan, EM_OP_ATAN, UN_FLOAT)
UNARY(af_sinh, EM_OP_SINH, UN_FLOAT)
UNARY(af_cosh, EM_OP_COSH, UN_FLOAT)
UNARY(af_tanh, EM_OP_TANH, UN_FLOAT)
UNARY(af_asinh, EM_OP_ASINH, UN_FLOAT)
UNARY(af_acosh, EM_OP_ACOSH, UN_FLOAT)
UNARY(af_atanh, EM_OP_ATANH, UN_FLOAT)
UNARY(af_exp, EM_OP_EXP, UN_FLOAT)
UNARY(af_log, EM_OP_LOG, UN_FLOAT)
UNARY(af_sqrt, EM_OP_SQRT, UN_FLOAT)
UNARY(af_sign, EM_OP_SIGN, UN_FLOAT_REAL)
UNARY(af_round, EM_OP_ROUND, UN_FLOAT_REAL)
UNARY(af_trunc, EM_OP_TRUNC, UN_FLOAT_REAL)
UNARY(af_floor, EM_OP_FLOOR, UN_FLOAT_REAL)
UNARY(af_ceil, EM_OP_CEIL, UN_FLOAT_REAL)
UNARY(af_sigmoid, EM_OP_SIGMOID, UN_FLOAT_REAL)
UNARY(af_expm1, EM_OP_EXPM1, UN_FLOAT_REAL)
UNARY(af_erf, EM_OP_ERF, UN_FLOAT_REAL)
UNARY(af_erfc, EM_OP_ERFC, UN_FLOAT_REAL)
UNARY(af_log10, EM_OP_LOG10, UN_FLOAT_REAL)
UNARY(af_log1p, EM_OP_LOG1P, UN_FLOAT_REAL)
UNARY(af_log2, EM_OP_LOG2, UN_FLOAT_REAL)
UNARY(af_cbrt, EM_OP_CBRT, UN_FLOAT_REAL)
UNARY(af_rsqrt, EM_OP_RSQRT, UN_FLOAT_REAL)
UNARY(af_tgamma, EM_OP_TGAMMA, UN_FLOAT_REAL)
UNARY(af_lgamma, EM_OP_LGAMMA, UN_FLOAT_REAL)
UNARY(af_factorial, EM_OP_FACTORIAL, UN_FLOAT_REAL)
UNARY(af_iszero, EM_OP_ISZERO, UN_CHECK)
UNARY(af_isinf, EM_OP_ISINF, UN_CHECK)
UNARY(af_isnan, EM_OP_ISNAN, UN_CHECK)

/* abs: the float of the dtype; the magnitude (a real dtype) for complex. */
af_err af_abs(af_array *out, const af_array in) {
    af_err err = AF_SUCCESS;
    em_array *a, *res = NULL;
    EM_ARG_NULL(out, 0);
    EM_GET(a, in, 1);
    af_dtype t = em_jit_float_of(a->type);
    EM_TRY(em_jit_unary(__func__, EM_OP_ABS, a, t, em_dtype_real_of(t), &res));
    *out = res;
    return AF_SUCCESS;
fail:
    return err;
}

/* arg and imag: a part of complex elements, computed lazily; a real array has none, and
 * ArrayFire returns zeros of its dtype (for arg even at negative values), as Ember does. */
static af_err complex_part_or_zero(const char *fn, af_array *out, const af_array in, em_op op) {
    af_err err = AF_SUCCESS;
    em_array *a, *res = NULL;
    if (!out) return em_err(AF_ERR_ARG, fn, "argument 0 (out) is NULL");
    EM_TRY(em_array_get(fn, 1, in, &a));
    if (em_dtype_is_complex(a->type))
        EM_TRY(em_jit_unary(fn, op, a, a->type, em_dtype_real_of(a->type), &res));
    else
        EM_TRY(em_jit_finish(fn, em_jit_const(a->type, a->dims, 0, 0), a->dev, &res));
    *out = res;
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_arg(af_array *out, const af_array in) {
    return complex_part_or_zero(__func__, out, in, EM_OP_ARG);
}

/* not: in == 0, for every dtype (ArrayFire's definition), result b8. */
af_err af_not(af_array *out, const af_array in) {
    af_err err = AF_SUCCESS;
    em_array *a, *res = NULL;
    EM_ARG_NULL(out, 0);
    EM_GET(a, in, 1);
    EM_TRY(em_jit_unary(__func__, EM_OP_NOT, a, a->type, b8, &res));
    *out = res;
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_bitnot(af_array *out, const af_array in) {
    af_err err = AF_SUCCESS;
    em_array *a, *res = NULL;
    EM_ARG_NULL(out, 0);
    EM_GET(a, in, 1);
    if (!is_int_or_b8(a->type))
        EM_FAIL(AF_ERR_TYPE, "argument 1 (in): dtype %s is not supported (integers and b8 only)",
                em_dtype_name(a->type));
    EM_TRY(em_jit_unary(__func__, EM_OP_BITNOT, a, a->type, a->type, &res));
    *out = res;
    return AF_SUCCESS;
fail:
    return err;
}

/* pow2: 2^in in the input's dtype (ArrayFire computes pow(2, in) with 2 of that dtype): exp2 for
 * floating and complex dtypes, the exact integer power for integers and b8. */
af_err af_pow2(af_array *out, const af_array in) {
    af_err err = AF_SUCCESS;
    em_array *a, *res = NULL;
    em_node *x = NULL;
    EM_ARG_NULL(out, 0);
    EM_GET(a, in, 1);
    if (em_dtype_is_float(a->type)) {
        EM_TRY(em_jit_unary(__func__, EM_OP_POW2, a, a->type, a->type, &res));
    } else {
        EM_TRY(em_jit_input(a, a->dims, a->type, &x));
        em_node *n = em_jit_op2(EM_OP_POW, a->type, em_jit_const(a->type, a->dims, 2, 0), x);
        x = NULL;
        EM_TRY(em_jit_finish(__func__, n, a->dev, &res));
    }
    *out = res;
    return AF_SUCCESS;
fail:
    if (x) em_node_release(x);
    return err;
}

/* ---------------------------------------------------------------------------------------------
 * Complex parts and casts
 * ------------------------------------------------------------------------------------------- */
af_err af_cplx(af_array *out, const af_array in) {
    af_err err = AF_SUCCESS;
    em_array *a, *res = NULL;
    em_node *x = NULL;
    EM_ARG_NULL(out, 0);
    EM_GET(a, in, 1);
    if (em_dtype_is_complex(a->type))
        EM_FAIL(AF_ERR_ARG, "argument 1 (in): dtype %s is already complex", em_dtype_name(a->type));
    if (a->type != f32 && a->type != f64)
        EM_FAIL(AF_ERR_TYPE, "argument 1 (in): dtype %s is not supported (f32 and f64 only)",
                em_dtype_name(a->type));
    EM_TRY(em_jit_input(a, a->dims, a->type, &x));
    em_node *n = em_jit_op2(EM_OP_CPLX2, a->type == f64 ? c64 : c32, x,
                            em_jit_const(a->type, a->dims, 0, 0));
    x = NULL;
    EM_TRY(em_jit_finish(__func__, n, a->dev, &res));
    *out = res;
    return AF_SUCCESS;
fail:
    if (x) em_node_release(x);
    return err;
}

/* real and conjg of a real array are the array itself (a new handle sharing it), imag its
 * zeros, as ArrayFire. */
af_err af_real(af_array *out, const af_array in) {
    af_err err = AF_SUCCESS;
    em_array *a, *res = NULL;
    EM_ARG_NULL(out, 0);
    EM_GET(a, in, 1);
    if (em_dtype_is_complex(a->type))
        EM_TRY(em_jit_unary(__func__, EM_OP_REAL, a, a->type, em_dtype_real_of(a->type), &res));
    else
        EM_TRY(em_array_share(a, &res));
    *out = res;
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_imag(af_array *out, const af_array in) {
    return complex_part_or_zero(__func__, out, in, EM_OP_IMAG);
}

af_err af_conjg(af_array *out, const af_array in) {
    af_err err = AF_SUCCESS;
    em_array *a, *res = NULL;
    EM_ARG_NULL(out, 0);
    EM_GET(a, in, 1);
    if (em_dtype_is_complex(a->type))
        EM_TRY(em_jit_unary(__func__, EM_OP_CONJ, a, a->type, a->type, &res));
    else
        EM_TRY(em_array_share(a, &res));
    *out = res;
    return AF_SUCCESS;
fail:
    return err;
}

/* cast: between all 14 dtypes (docs/JIT_OPS.md, CAST), except complex to a real floating dtype,
 * which ArrayFire refuses so that a dropped imaginary part is never silent. */
af_err af_cast(af_array *out, const af_array in, const af_dtype type) {
    af_err err = AF_SUCCESS;
    em_array *a, *res = NULL;
    EM_ARG_NULL(out, 0);
    EM_GET(a, in, 1);
    if (!em_dtype_valid(type)) EM_FAIL(AF_ERR_TYPE, "argument 2 (type): %d is not a dtype", type);
    if (em_dtype_is_complex(a->type) && em_dtype_is_real_float(type))
        EM_FAIL(AF_ERR_TYPE,
                "argument 2 (type): casting complex (%s) to %s is not allowed; use af_real, "
                "af_imag or af_abs",
                em_dtype_name(a->type), em_dtype_name(type));
    if (type == a->type) {
        EM_TRY(em_array_share(a, &res));
    } else {
        em_node *n = NULL;
        EM_TRY(em_jit_input(a, a->dims, type, &n)); /* the CAST node */
        EM_TRY(em_jit_finish(__func__, n, a->dev, &res));
    }
    *out = res;
    return AF_SUCCESS;
fail:
    return err;
}
