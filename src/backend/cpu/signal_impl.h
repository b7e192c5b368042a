/* The CPU signal family's slots, implemented in fft.c, convolve.c and signal.c and gathered into
 * em_cpu_signal_ops in signal.c. The contracts are those of src/backend/signal.h. */
#ifndef EM_CPU_SIGNAL_IMPL_H
#define EM_CPU_SIGNAL_IMPL_H

#include "../signal.h"
#include "cpu.h"

/* fft.c */
af_err em_cpu_fft(int dev, const em_fft_desc *d, const void *in, void *out);
void em_cpu_fft_plan_cache_size(size_t n);
af_err em_cpu_window(int dev, const em_window_desc *d, void *dst, const void *src);

/* convolve.c */
af_err em_cpu_convolve(int dev, const em_conv_desc *d, void *out, const void *sig,
                       const void *filt);
af_err em_cpu_convolve_sep(int dev, const em_conv_sep_desc *d, void *out, const void *sig,
                           const void *cfilt, const void *rfilt);
af_err em_cpu_convolve_nn(int dev, const em_conv_nn_desc *d, int which, void *out, const void *a,
                          const void *b);

/* Conversions shared by the signal files: a value of an accumulation type to a signal type as
 * ArrayFire's kernels store it (truncation toward zero, or rounding half away from zero, then
 * saturation; NaN to 0; b8 is x != 0). */
void em_cpu_sig_store(af_dtype t, void *p, dim_t i, double re, double im, bool round);
/* Reads element i of an array of dtype t as a complex double (imaginary part 0 for reals). */
void em_cpu_sig_load(af_dtype t, const void *p, dim_t i, double *re, double *im);

#endif
