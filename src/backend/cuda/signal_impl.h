/* The CUDA signal family's slots, implemented in fft.c, convolve.c and signal.c and gathered into
 * em_cu_signal_ops in signal.c. The contracts are those of src/backend/signal.h. */
#ifndef EM_CUDA_SIGNAL_IMPL_H
#define EM_CUDA_SIGNAL_IMPL_H

#include "../signal.h"
#include "cu.h"

/* fft.c */
af_err em_cu_fft(int dev, const em_fft_desc *d, const void *in, void *out);
void em_cu_fft_plan_cache_size(size_t n);
af_err em_cu_window(int dev, const em_window_desc *d, void *dst, const void *src);
af_err em_cu_fft_compile_check(void);

/* convolve.c */
af_err em_cu_convolve(int dev, const em_conv_desc *d, void *out, const void *sig, const void *filt);
af_err em_cu_convolve_sep(int dev, const em_conv_sep_desc *d, void *out, const void *sig,
                          const void *cfilt, const void *rfilt);
af_err em_cu_convolve_nn(int dev, const em_conv_nn_desc *d, int which, void *out, const void *a,
                         const void *b);

/* signal.c */
af_err em_cu_iir(int dev, af_dtype type, void *y, const void *c, const dim_t cdims[4],
                 const void *a, const dim_t adims[4]);
af_err em_cu_medfilt(int dev, af_dtype type, void *out, const void *in, const dim_t dims[4],
                     dim_t wlen, dim_t wwid, af_border_type pad);
af_err em_cu_approx1(int dev, const em_approx_desc *d, void *out, const void *in, const void *pos);
af_err em_cu_approx2(int dev, const em_approx_desc *d, void *out, const void *in, const void *pos0,
                     const void *pos1);

/* Kernels of the family's sources (kernels/signal.cuh, kernels/convolve.cuh) are compiled one
 * variant at a time: the source text followed by `tail`, one generated line that defines the
 * extern "C" kernel `name` by instantiating a template of the text. The key mixes a hash of both
 * texts, so a cache hit does no string work beyond hashing the short tail. */
typedef enum { EM_CU_SIG_SRC_SIGNAL = 0, EM_CU_SIG_SRC_CONVOLVE = 1 } em_cu_sig_src;
af_err em_cu_sig_kernel(int dev, em_cu_sig_src src, const char *name, const char *tail,
                        CUfunction *out);
/* The same source, compiled without a device (the compile checks). */
af_err em_cu_sig_compile(em_cu_sig_src src, const char *name, const char *tail);

/* Blocks for a grid-stride loop over n items with EM_CU_BLOCK threads, capped at the device's
 * resident capacity. */
unsigned em_cu_sig_blocks(int dev, long long n);

#endif
