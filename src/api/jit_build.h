/* Building element-wise JIT trees from public handles: the broadcasting rule, implicit promotion,
 * cast insertion and the flush rules in one place, shared by every api file that makes lazy
 * arrays (arith.c, select.c, and any other element-wise function).
 *
 * Node builders take over the references they are given ("consume") and return a new one, or
 * NULL when host memory runs out; a NULL argument makes them release the others and return NULL,
 * so an expression can be written as nested calls and checked once at the end:
 *
 *     em_node *n = em_jit_op2(EM_OP_MUL, f32, em_jit_cast(a, f32), em_jit_const(f32, d, 2, 0));
 *     EM_TRY_FN(em_jit_finish(fn, n, dev, &out));   // AF_ERR_NO_MEM when n is NULL
 *
 * docs/JIT_OPS.md says which (op, operand dtype) pairs exist and what they compute. */
#ifndef EM_API_JIT_BUILD_H
#define EM_API_JIT_BUILD_H

#include "../core/array.h"
#include "../core/err.h"
#include "../core/jit.h"

#include <stdbool.h>

/* ArrayFire's "float of t" for unary math: f64, f16, c32 and c64 stay, every other dtype
 * (integers, b8) becomes f32. */
static inline af_dtype em_jit_float_of(af_dtype t) {
    return (t == f64 || t == f16 || t == c32 || t == c64) ? t : f32;
}

/* Output dims of an element-wise op over operands with dims a and b (arguments pos_a and pos_b
 * of fn). batch false: the dims must be equal. batch true: in every dimension the sizes must be
 * equal or one of them 1, and the output takes the other. AF_ERR_SIZE otherwise. */
af_err em_jit_bcast_dims(const char *fn, int pos_a, int pos_b, const dim_t a[4], const dim_t b[4],
                         bool batch, dim_t out[4]);

/* A new reference to a node computing array `a` viewed at `dims` (a dimension of 1 in `a` is
 * broadcast), converted to `type` with a CAST node when its dtype differs. A lazy array that
 * must be broadcast is evaluated first, since all nodes of a tree carry the output's dims.
 * AF_ERR_DEVICE when `a` does not live on the calling thread's active device (jit_build.c says
 * why); em_jit_unary and em_jit_binary name the offending argument. */
af_err em_jit_input(const em_array *a, const dim_t dims[4], af_dtype type, em_node **out);

/* Consuming node builders (see above). */
em_node *em_jit_cast(em_node *n, af_dtype type);
em_node *em_jit_op1(em_op op, af_dtype type, em_node *a);
em_node *em_jit_op2(em_op op, af_dtype type, em_node *a, em_node *b);
em_node *em_jit_op3(em_op op, af_dtype type, em_node *a, em_node *b, em_node *c);

/* Constants broadcast to dims. em_jit_scalar_f converts a double pair to the dtype's scalar:
 * floating and complex take the values, integers the saturating conversion of `re` (NaN to 0,
 * as af_cast does), b8 `re != 0`. em_jit_scalar_i / _u take an exact 64-bit integer, which
 * integer dtypes keep modulo their width and floating dtypes round. */
em_scalar em_jit_scalar_f(af_dtype type, double re, double im);
em_scalar em_jit_scalar_i(af_dtype type, long long v);
em_scalar em_jit_scalar_u(af_dtype type, unsigned long long v);
em_node *em_jit_const(af_dtype type, const dim_t dims[4], double re, double im);
em_node *em_jit_const_val(af_dtype type, const dim_t dims[4], em_scalar v);

/* Wraps a finished tree into a new array on device `dev`, applying the flush rules; consumes
 * `n`. A NULL `n` (a builder ran out of memory) is AF_ERR_NO_MEM. */
af_err em_jit_finish(const char *fn, em_node *n, int dev, em_array **out);

/* The common shapes in one call. The operands are cast to `operand`; the result has dtype
 * `result` (which must be what the op gives for that operand dtype). */
af_err em_jit_unary(const char *fn, em_op op, const em_array *in, af_dtype operand, af_dtype result,
                    em_array **out);
af_err em_jit_binary(const char *fn, em_op op, const em_array *l, const em_array *r, bool batch,
                     af_dtype operand, af_dtype result, em_array **out);

#endif
