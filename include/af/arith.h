/* Ember: an implementation of ArrayFire's C API. This header declares ArrayFire 3.10's element-
 * wise arithmetic, comparison, logic and math interface, with the same names, types and
 * AF_API_VERSION guards. */

#ifndef EMBER_AF_ARITH_H
#define EMBER_AF_ARITH_H

#include <af/defines.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Adds lhs and rhs element-wise. */
AFAPI af_err af_add(af_array *out, const af_array lhs, const af_array rhs, const bool batch);

/** Subtracts rhs from lhs element-wise. */
AFAPI af_err af_sub(af_array *out, const af_array lhs, const af_array rhs, const bool batch);

/** Multiplies lhs and rhs element-wise. */
AFAPI af_err af_mul(af_array *out, const af_array lhs, const af_array rhs, const bool batch);

/** Divides lhs by rhs element-wise. */
AFAPI af_err af_div(af_array *out, const af_array lhs, const af_array rhs, const bool batch);

/** Compares lhs < rhs element-wise into a b8 array. */
AFAPI af_err af_lt(af_array *out, const af_array lhs, const af_array rhs, const bool batch);

/** Compares lhs > rhs element-wise into a b8 array. */
AFAPI af_err af_gt(af_array *out, const af_array lhs, const af_array rhs, const bool batch);

/** Compares lhs <= rhs element-wise into a b8 array. */
AFAPI af_err af_le(af_array *out, const af_array lhs, const af_array rhs, const bool batch);

/** Compares lhs >= rhs element-wise into a b8 array. */
AFAPI af_err af_ge(af_array *out, const af_array lhs, const af_array rhs, const bool batch);

/** Compares lhs == rhs element-wise into a b8 array. */
AFAPI af_err af_eq(af_array *out, const af_array lhs, const af_array rhs, const bool batch);

/** Compares lhs != rhs element-wise into a b8 array. */
AFAPI af_err af_neq(af_array *out, const af_array lhs, const af_array rhs, const bool batch);

/** Computes the logical AND of lhs and rhs element-wise. */
AFAPI af_err af_and(af_array *out, const af_array lhs, const af_array rhs, const bool batch);

/** Computes the logical OR of lhs and rhs element-wise. */
AFAPI af_err af_or(af_array *out, const af_array lhs, const af_array rhs, const bool batch);

/** Computes the logical NOT of in element-wise. */
AFAPI af_err af_not(af_array *out, const af_array in);

#if AF_API_VERSION >= 38
/** Computes the bitwise NOT of an integer array element-wise. */
AFAPI af_err af_bitnot(af_array *out, const af_array in);
#endif

/** Computes the bitwise AND of lhs and rhs element-wise. */
AFAPI af_err af_bitand(af_array *out, const af_array lhs, const af_array rhs, const bool batch);

/** Computes the bitwise OR of lhs and rhs element-wise. */
AFAPI af_err af_bitor(af_array *out, const af_array lhs, const af_array rhs, const bool batch);

/** Computes the bitwise XOR of lhs and rhs element-wise. */
AFAPI af_err af_bitxor(af_array *out, const af_array lhs, const af_array rhs, const bool batch);

/** Shifts lhs left by rhs bits element-wise. */
AFAPI af_err af_bitshiftl(af_array *out, const af_array lhs, const af_array rhs, const bool batch);

/** Shifts lhs right by rhs bits element-wise. */
AFAPI af_err af_bitshiftr(af_array *out, const af_array lhs, const af_array rhs, const bool batch);

/** Converts in to the element type type. */
AFAPI af_err af_cast(af_array *out, const af_array in, const af_dtype type);

/** Takes the smaller of lhs and rhs element-wise. */
AFAPI af_err af_minof(af_array *out, const af_array lhs, const af_array rhs, const bool batch);

/** Takes the larger of lhs and rhs element-wise. */
AFAPI af_err af_maxof(af_array *out, const af_array lhs, const af_array rhs, const bool batch);

#if AF_API_VERSION >= 34
/** Clamps in to the range [lo, hi] element-wise. */
AFAPI af_err af_clamp(af_array *out, const af_array in, const af_array lo, const af_array hi,
                      const bool batch);
#endif

/** Computes the remainder of lhs / rhs element-wise, truncating as C's fmod does. */
AFAPI af_err af_rem(af_array *out, const af_array lhs, const af_array rhs, const bool batch);

/** Computes lhs modulo rhs element-wise. */
AFAPI af_err af_mod(af_array *out, const af_array lhs, const af_array rhs, const bool batch);

/** Computes the absolute value (magnitude for complex) element-wise. */
AFAPI af_err af_abs(af_array *out, const af_array in);

/** Computes the phase angle of complex elements. */
AFAPI af_err af_arg(af_array *out, const af_array in);

/** Returns 1 for negative elements and 0 otherwise. */
AFAPI af_err af_sign(af_array *out, const af_array in);

/** Rounds to the nearest integer, halfway cases away from zero. */
AFAPI af_err af_round(af_array *out, const af_array in);

/** Rounds toward zero element-wise. */
AFAPI af_err af_trunc(af_array *out, const af_array in);

/** Rounds toward negative infinity element-wise. */
AFAPI af_err af_floor(af_array *out, const af_array in);

/** Rounds toward positive infinity element-wise. */
AFAPI af_err af_ceil(af_array *out, const af_array in);

/** Computes sqrt(lhs^2 + rhs^2) element-wise. */
AFAPI af_err af_hypot(af_array *out, const af_array lhs, const af_array rhs, const bool batch);

/** Computes the sine element-wise. */
AFAPI af_err af_sin(af_array *out, const af_array in);

/** Computes the cosine element-wise. */
AFAPI af_err af_cos(af_array *out, const af_array in);

/** Computes the tangent element-wise. */
AFAPI af_err af_tan(af_array *out, const af_array in);

/** Computes the inverse sine element-wise. */
AFAPI af_err af_asin(af_array *out, const af_array in);

/** Computes the inverse cosine element-wise. */
AFAPI af_err af_acos(af_array *out, const af_array in);

/** Computes the inverse tangent element-wise. */
AFAPI af_err af_atan(af_array *out, const af_array in);

/** Computes the inverse tangent of lhs / rhs using both signs, element-wise. */
AFAPI af_err af_atan2(af_array *out, const af_array lhs, const af_array rhs, const bool batch);

/** Computes the hyperbolic sine element-wise. */
AFAPI af_err af_sinh(af_array *out, const af_array in);

/** Computes the hyperbolic cosine element-wise. */
AFAPI af_err af_cosh(af_array *out, const af_array in);

/** Computes the hyperbolic tangent element-wise. */
AFAPI af_err af_tanh(af_array *out, const af_array in);

/** Computes the inverse hyperbolic sine element-wise. */
AFAPI af_err af_asinh(af_array *out, const af_array in);

/** Computes the inverse hyperbolic cosine element-wise. */
AFAPI af_err af_acosh(af_array *out, const af_array in);

/** Computes the inverse hyperbolic tangent element-wise. */
AFAPI af_err af_atanh(af_array *out, const af_array in);

/** Converts a real array to complex with a zero imaginary part. */
AFAPI af_err af_cplx(af_array *out, const af_array in);

/** Builds a complex array from real and imaginary parts. */
AFAPI af_err af_cplx2(af_array *out, const af_array real, const af_array imag, const bool batch);

/** Takes the real part of each element. */
AFAPI af_err af_real(af_array *out, const af_array in);

/** Takes the imaginary part of each element. */
AFAPI af_err af_imag(af_array *out, const af_array in);

/** Takes the complex conjugate of each element. */
AFAPI af_err af_conjg(af_array *out, const af_array in);

/** Computes the lhs-th root of rhs element-wise. */
AFAPI af_err af_root(af_array *out, const af_array lhs, const af_array rhs, const bool batch);

/** Raises lhs to the power rhs element-wise. */
AFAPI af_err af_pow(af_array *out, const af_array lhs, const af_array rhs, const bool batch);

/** Computes 2 raised to the power of each element. */
AFAPI af_err af_pow2(af_array *out, const af_array in);

#if AF_API_VERSION >= 31
/** Computes the logistic function 1 / (1 + exp(-x)) element-wise. */
AFAPI af_err af_sigmoid(af_array *out, const af_array in);
#endif

/** Computes the exponential element-wise. */
AFAPI af_err af_exp(af_array *out, const af_array in);

/** Computes exp(x) - 1 element-wise, accurate near zero. */
AFAPI af_err af_expm1(af_array *out, const af_array in);

/** Computes the error function element-wise. */
AFAPI af_err af_erf(af_array *out, const af_array in);

/** Computes the complementary error function element-wise. */
AFAPI af_err af_erfc(af_array *out, const af_array in);

/** Computes the natural logarithm element-wise. */
AFAPI af_err af_log(af_array *out, const af_array in);

/** Computes log(1 + x) element-wise, accurate near zero. */
AFAPI af_err af_log1p(af_array *out, const af_array in);

/** Computes the base-10 logarithm element-wise. */
AFAPI af_err af_log10(af_array *out, const af_array in);

/** Computes the base-2 logarithm element-wise. */
AFAPI af_err af_log2(af_array *out, const af_array in);

/** Computes the square root element-wise. */
AFAPI af_err af_sqrt(af_array *out, const af_array in);

#if AF_API_VERSION >= 37
/** Computes the reciprocal square root element-wise. */
AFAPI af_err af_rsqrt(af_array *out, const af_array in);
#endif

/** Computes the cube root element-wise. */
AFAPI af_err af_cbrt(af_array *out, const af_array in);

/** Computes the factorial element-wise, as tgamma(x + 1). */
AFAPI af_err af_factorial(af_array *out, const af_array in);

/** Computes the gamma function element-wise. */
AFAPI af_err af_tgamma(af_array *out, const af_array in);

/** Computes the log of the absolute gamma function element-wise. */
AFAPI af_err af_lgamma(af_array *out, const af_array in);

/** Tests each element for zero into a b8 array. */
AFAPI af_err af_iszero(af_array *out, const af_array in);

/** Tests each element for infinity into a b8 array. */
AFAPI af_err af_isinf(af_array *out, const af_array in);

/** Tests each element for NaN into a b8 array. */
AFAPI af_err af_isnan(af_array *out, const af_array in);

#ifdef __cplusplus
}
#endif

#endif /* EMBER_AF_ARITH_H */
