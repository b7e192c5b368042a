/* The CPU backend's signal table (src/backend/signal.h): FFTs and the window copy (fft.c), the
 * convolutions (convolve.c), and here the IIR recurrence, the median filter and interpolation. */
#include "signal_impl.h"

#include "../../core/err.h"

const struct em_signal_ops em_cpu_signal_ops = {
    .fft = em_cpu_fft,
    .fft_plan_cache_size = em_cpu_fft_plan_cache_size,
    .window = em_cpu_window,
};
