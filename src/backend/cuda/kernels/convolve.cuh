// Spatial convolution kernels (src/backend/cuda/convolve.c).
