/* The JIT's operations, written once. X(name, arity). Every backend implements each op for the
 * operand dtypes the api layer lets through; the api layer decides result types and inserts
 * EM_OP_CAST nodes so that all operands of an op share one dtype (comparisons and the
 * complex-part ops excepted: their result type differs from the operand type). */
#ifndef EM_CORE_JIT_OPS_H
#define EM_CORE_JIT_OPS_H

#define EM_JIT_OPS(X)                                                                              \
    /* leaves and generators */                                                                    \
    X(BUF, 0)      /* a buffer with strides and offset */                                          \
    X(SCALAR, 0)   /* a constant broadcast to the node's dims */                                   \
    X(RANGE, 0)    /* the index along iparam[0] */                                                 \
    X(IOTA, 0)     /* the linear index within gparam dims, tiled */                                \
    X(IDENTITY, 0) /* 1 on the diagonal of dims 0 and 1 */                                         \
    X(CAST, 1)                                                                                     \
    /* arithmetic */                                                                               \
    X(ADD, 2)                                                                                      \
    X(SUB, 2)                                                                                      \
    X(MUL, 2)                                                                                      \
    X(DIV, 2)                                                                                      \
    X(REM, 2)                                                                                      \
    X(MOD, 2)                                                                                      \
    X(POW, 2)                                                                                      \
    X(MINOF, 2)                                                                                    \
    X(MAXOF, 2)                                                                                    \
    X(ATAN2, 2)                                                                                    \
    X(HYPOT, 2)                                                                                    \
    /* comparisons and logic: result b8 */                                                         \
    X(LT, 2)                                                                                       \
    X(GT, 2)                                                                                       \
    X(LE, 2)                                                                                       \
    X(GE, 2)                                                                                       \
    X(EQ, 2)                                                                                       \
    X(NEQ, 2)                                                                                      \
    X(AND, 2)                                                                                      \
    X(OR, 2)                                                                                       \
    X(NOT, 1)                                                                                      \
    /* bitwise, integer types */                                                                   \
    X(BITAND, 2)                                                                                   \
    X(BITOR, 2)                                                                                    \
    X(BITXOR, 2)                                                                                   \
    X(BITSHIFTL, 2)                                                                                \
    X(BITSHIFTR, 2)                                                                                \
    X(BITNOT, 1)                                                                                   \
    /* unary math */                                                                               \
    X(NEG, 1)                                                                                      \
    X(ABS, 1)                                                                                      \
    X(ARG, 1)                                                                                      \
    X(SIGN, 1)                                                                                     \
    X(ROUND, 1)                                                                                    \
    X(TRUNC, 1)                                                                                    \
    X(FLOOR, 1)                                                                                    \
    X(CEIL, 1)                                                                                     \
    X(SIN, 1)                                                                                      \
    X(COS, 1)                                                                                      \
    X(TAN, 1)                                                                                      \
    X(ASIN, 1)                                                                                     \
    X(ACOS, 1)                                                                                     \
    X(ATAN, 1)                                                                                     \
    X(SINH, 1)                                                                                     \
    X(COSH, 1)                                                                                     \
    X(TANH, 1)                                                                                     \
    X(ASINH, 1)                                                                                    \
    X(ACOSH, 1)                                                                                    \
    X(ATANH, 1)                                                                                    \
    X(EXP, 1)                                                                                      \
    X(EXPM1, 1)                                                                                    \
    X(POW2, 1)                                                                                     \
    X(SIGMOID, 1)                                                                                  \
    X(ERF, 1)                                                                                      \
    X(ERFC, 1)                                                                                     \
    X(LOG, 1)                                                                                      \
    X(LOG1P, 1)                                                                                    \
    X(LOG10, 1)                                                                                    \
    X(LOG2, 1)                                                                                     \
    X(SQRT, 1)                                                                                     \
    X(RSQRT, 1)                                                                                    \
    X(CBRT, 1)                                                                                     \
    X(FACTORIAL, 1)                                                                                \
    X(TGAMMA, 1)                                                                                   \
    X(LGAMMA, 1)                                                                                   \
    X(ISZERO, 1)                                                                                   \
    X(ISINF, 1)                                                                                    \
    X(ISNAN, 1)                                                                                    \
    /* complex: operand real, result complex (CPLX2) or operand complex, result real */            \
    X(CPLX2, 2)                                                                                    \
    X(REAL, 1)                                                                                     \
    X(IMAG, 1)                                                                                     \
    X(CONJ, 1)                                                                                     \
    /* select(cond b8, a, b): operand type is that of a and b */                                   \
    X(SELECT, 3)

typedef enum {
#define X(name, arity) EM_OP_##name,
    EM_JIT_OPS(X)
#undef X
        EM_OP_COUNT
} em_op;

int em_op_arity(em_op op);
const char *em_op_name(em_op op);

#endif
