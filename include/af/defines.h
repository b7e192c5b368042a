/* Ember: an implementation of ArrayFire's C API. This header holds the definitions that every
 * other header shares: the export macro, the API level, dim_t, every enum with ArrayFire 3.10's
 * values, and the opaque handle types. The values are ABI: programs and bindings compiled against
 * ArrayFire pass them as plain integers, so each one is written out rather than left implicit. */
#ifndef EMBER_AF_DEFINES_H
#define EMBER_AF_DEFINES_H

#include <af/version.h>

/* C needs <stdbool.h> for bool; both languages need size_t and the stdlib declarations that
 * ArrayFire's headers have always pulled in, which user code written against them may rely on. */
#ifndef __cplusplus
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#else
#include <stddef.h>
#include <stdlib.h>
#endif

/* AFAPI marks a symbol that the shared libraries export. The libraries build with hidden
 * visibility by default, so only what carries AFAPI becomes part of the ABI. */
#ifndef AFAPI
#if defined(_WIN32) || defined(_MSC_VER)
#ifdef AFDLL
#define AFAPI __declspec(dllexport)
#else
#define AFAPI __declspec(dllimport)
#endif
#else
#define AFAPI __attribute__((visibility("default")))
#endif
#endif

/* A program may define AF_API_VERSION to an older level to hide functions added later, as it
 * can with ArrayFire; by default every function of the implemented level is visible. */
#ifndef AF_API_VERSION
#define AF_API_VERSION AF_API_VERSION_CURRENT
#endif

/* The largest number of dimensions an array has. */
#define AF_MAX_DIMS 4

/* Dimension and element-count type. ArrayFire uses int only on known 32-bit targets, so a
 * 32-bit build keeps its ABI too. */
#if defined(__x86_64__) || defined(_M_X64) || defined(_WIN64) || defined(__aarch64__) ||           \
    defined(__LP64__)
typedef long long dim_t;
#elif defined(__i386__) || defined(_M_IX86) || defined(__arm__) || defined(_M_ARM)
typedef int dim_t;
#else
typedef long long dim_t;
#endif

/* ArrayFire's names for 64-bit integers, kept because code written for it uses them. */
typedef long long intl;
typedef unsigned long long uintl;

#ifdef __cplusplus
extern "C" {
#endif

/** Status code that every function returns. */
typedef enum {
    AF_SUCCESS = 0,                 /* The function succeeded. */
    AF_ERR_NO_MEM = 101,            /* The system or device ran out of memory. */
    AF_ERR_DRIVER = 102,            /* The device driver reported an error. */
    AF_ERR_RUNTIME = 103,           /* The runtime environment reported an error. */
    AF_ERR_INVALID_ARRAY = 201,     /* An argument is not a valid array handle. */
    AF_ERR_ARG = 202,               /* An argument is wrong. */
    AF_ERR_SIZE = 203,              /* A size is wrong. */
    AF_ERR_TYPE = 204,              /* The function does not support this element type. */
    AF_ERR_DIFF_TYPE = 205,         /* The input arrays' element types do not match. */
    AF_ERR_BATCH = 207,             /* The function does not support batch mode. */
    AF_ERR_DEVICE = 208,            /* Arrays live on different devices. */
    AF_ERR_NOT_SUPPORTED = 301,     /* The option is not supported. */
    AF_ERR_NOT_CONFIGURED = 302,    /* This build lacks the feature. */
    AF_ERR_NONFREE = 303,           /* The feature needs the non-free build. */
    AF_ERR_NO_DBL = 401,            /* The device does not support double precision. */
    AF_ERR_NO_GFX = 402,            /* No graphics support in this build or on this device. */
    AF_ERR_NO_HALF = 403,           /* The device does not support half precision. */
    AF_ERR_LOAD_LIB = 501,          /* A backend or vendor library failed to load. */
    AF_ERR_LOAD_SYM = 502,          /* A symbol was missing from a loaded library. */
    AF_ERR_ARR_BKND_MISMATCH = 503, /* Arrays belong to different backends. */
    AF_ERR_INTERNAL = 998,          /* An internal error, in Ember or a library below it. */
    AF_ERR_UNKNOWN = 999            /* An unknown error. */
} af_err;

/** Element type of an array. */
typedef enum {
    f32 = 0,  /* 32-bit floating point */
    c32 = 1,  /* 32-bit complex floating point */
    f64 = 2,  /* 64-bit floating point */
    c64 = 3,  /* 64-bit complex floating point */
    b8 = 4,   /* 8-bit boolean */
    s32 = 5,  /* 32-bit signed integer */
    u32 = 6,  /* 32-bit unsigned integer */
    u8 = 7,   /* 8-bit unsigned integer */
    s64 = 8,  /* 64-bit signed integer */
    u64 = 9,  /* 64-bit unsigned integer */
    s16 = 10, /* 16-bit signed integer */
    u16 = 11, /* 16-bit unsigned integer */
    f16 = 12, /* 16-bit floating point */
    s8 = 13   /* 8-bit signed integer */
} af_dtype;

/** Where a buffer handed to the library lives. */
typedef enum {
    afDevice = 0, /* device memory */
    afHost = 1    /* host memory */
} af_source;

/** Interpolation method. */
typedef enum {
    AF_INTERP_NEAREST = 0,
    AF_INTERP_LINEAR = 1,
    AF_INTERP_BILINEAR = 2,
    AF_INTERP_CUBIC = 3,
    AF_INTERP_LOWER = 4,
    AF_INTERP_LINEAR_COSINE = 5,
    AF_INTERP_BILINEAR_COSINE = 6,
    AF_INTERP_BICUBIC = 7,
    AF_INTERP_CUBIC_SPLINE = 8,
    AF_INTERP_BICUBIC_SPLINE = 9
} af_interp_type;

/** How values beyond an array's edge are made up. */
typedef enum {
    AF_PAD_ZERO = 0,          /* zero */
    AF_PAD_SYM = 1,           /* mirrored over the edge */
    AF_PAD_CLAMP_TO_EDGE = 2, /* the edge value repeated */
    AF_PAD_PERIODIC = 3       /* wrapped around */
} af_border_type;

/** Neighbourhood of a pixel for connected components. */
typedef enum { AF_CONNECTIVITY_4 = 4, AF_CONNECTIVITY_8 = 8 } af_connectivity;

/** Size of a convolution's output. */
typedef enum {
    AF_CONV_DEFAULT = 0, /* the size of the signal */
    AF_CONV_EXPAND = 1   /* signal size + filter size - 1 */
} af_conv_mode;

/** Domain in which a convolution is computed. */
typedef enum { AF_CONV_AUTO = 0, AF_CONV_SPATIAL = 1, AF_CONV_FREQ = 2 } af_conv_domain;

/** Distance measure for template and feature matching. */
typedef enum {
    AF_SAD = 0,
    AF_ZSAD = 1,
    AF_LSAD = 2,
    AF_SSD = 3,
    AF_ZSSD = 4,
    AF_LSSD = 5,
    AF_NCC = 6,
    AF_ZNCC = 7,
    AF_SHD = 8
} af_match_type;

/** YCbCr standard. */
typedef enum { AF_YCC_601 = 601, AF_YCC_709 = 709, AF_YCC_2020 = 2020 } af_ycc_std;

/** Colour space of an image. */
typedef enum { AF_GRAY = 0, AF_RGB = 1, AF_HSV = 2, AF_YCbCr = 3 } af_cspace_t;

/** Matrix properties and operations, combinable as flags. */
typedef enum {
    AF_MAT_NONE = 0,
    AF_MAT_TRANS = 1,
    AF_MAT_CTRANS = 2,
    AF_MAT_CONJ = 4,
    AF_MAT_UPPER = 32,
    AF_MAT_LOWER = 64,
    AF_MAT_DIAG_UNIT = 128,
    AF_MAT_SYM = 512,
    AF_MAT_POSDEF = 1024,
    AF_MAT_ORTHOG = 2048,
    AF_MAT_TRI_DIAG = 4096,
    AF_MAT_BLOCK_DIAG = 8192
} af_mat_prop;

/** Kind of norm. */
typedef enum {
    AF_NORM_VECTOR_1 = 0,
    AF_NORM_VECTOR_INF = 1,
    AF_NORM_VECTOR_2 = 2,
    AF_NORM_VECTOR_P = 3,
    AF_NORM_MATRIX_1 = 4,
    AF_NORM_MATRIX_INF = 5,
    AF_NORM_MATRIX_2 = 6,
    AF_NORM_MATRIX_L_PQ = 7,
    AF_NORM_EUCLID = AF_NORM_VECTOR_2 /* the default */
} af_norm_type;

/** Image file format, numbered as FreeImage numbers them. */
typedef enum {
    AF_FIF_BMP = 0,
    AF_FIF_ICO = 1,
    AF_FIF_JPEG = 2,
    AF_FIF_JNG = 3,
    AF_FIF_PNG = 13,
    AF_FIF_PPM = 14,
    AF_FIF_PPMRAW = 15,
    AF_FIF_TIFF = 18,
    AF_FIF_PSD = 20,
    AF_FIF_HDR = 26,
    AF_FIF_EXR = 29,
    AF_FIF_JP2 = 31,
    AF_FIF_RAW = 34
} af_image_format;

/** Image moment, combinable as flags. */
typedef enum {
    AF_MOMENT_M00 = 1,
    AF_MOMENT_M01 = 2,
    AF_MOMENT_M10 = 4,
    AF_MOMENT_M11 = 8,
    AF_MOMENT_FIRST_ORDER = AF_MOMENT_M00 | AF_MOMENT_M01 | AF_MOMENT_M10 | AF_MOMENT_M11
} af_moment_type;

/** Homography estimation method. */
typedef enum { AF_HOMOGRAPHY_RANSAC = 0, AF_HOMOGRAPHY_LMEDS = 1 } af_homography_type;

/** Compute backend, as bit flags so that a set of them fits one int. */
typedef enum {
    AF_BACKEND_DEFAULT = 0,
    AF_BACKEND_CPU = 1,
    AF_BACKEND_CUDA = 2,
    AF_BACKEND_OPENCL = 4,
    AF_BACKEND_ONEAPI = 8
} af_backend;

/** Parameter type of af_example_function; it exists only as an example. */
typedef enum { AF_ID = 0 } af_someenum_t;

/** Binary operation of a scan. */
typedef enum {
    AF_BINARY_ADD = 0,
    AF_BINARY_MUL = 1,
    AF_BINARY_MIN = 2,
    AF_BINARY_MAX = 3
} af_binary_op;

/** Random number generator algorithm. */
typedef enum {
    AF_RANDOM_ENGINE_PHILOX_4X32_10 = 100,
    AF_RANDOM_ENGINE_THREEFRY_2X32_16 = 200,
    AF_RANDOM_ENGINE_MERSENNE_GP11213 = 300,
    AF_RANDOM_ENGINE_PHILOX = AF_RANDOM_ENGINE_PHILOX_4X32_10,
    AF_RANDOM_ENGINE_THREEFRY = AF_RANDOM_ENGINE_THREEFRY_2X32_16,
    AF_RANDOM_ENGINE_MERSENNE = AF_RANDOM_ENGINE_MERSENNE_GP11213,
    AF_RANDOM_ENGINE_DEFAULT = AF_RANDOM_ENGINE_PHILOX
} af_random_engine_type;

/** Colour map for graphics. */
typedef enum {
    AF_COLORMAP_DEFAULT = 0,
    AF_COLORMAP_SPECTRUM = 1,
    AF_COLORMAP_COLORS = 2,
    AF_COLORMAP_RED = 3,
    AF_COLORMAP_MOOD = 4,
    AF_COLORMAP_HEAT = 5,
    AF_COLORMAP_BLUE = 6,
    AF_COLORMAP_INFERNO = 7,
    AF_COLORMAP_MAGMA = 8,
    AF_COLORMAP_PLASMA = 9,
    AF_COLORMAP_VIRIDIS = 10
} af_colormap;

/** Marker of a scatter plot. */
typedef enum {
    AF_MARKER_NONE = 0,
    AF_MARKER_POINT = 1,
    AF_MARKER_CIRCLE = 2,
    AF_MARKER_SQUARE = 3,
    AF_MARKER_TRIANGLE = 4,
    AF_MARKER_CROSS = 5,
    AF_MARKER_PLUS = 6,
    AF_MARKER_STAR = 7
} af_marker_type;

/** How Canny's thresholds are chosen. */
typedef enum { AF_CANNY_THRESHOLD_MANUAL = 0, AF_CANNY_THRESHOLD_AUTO_OTSU = 1 } af_canny_threshold;

/** Storage format of an array. */
typedef enum {
    AF_STORAGE_DENSE = 0,
    AF_STORAGE_CSR = 1,
    AF_STORAGE_CSC = 2,
    AF_STORAGE_COO = 3
} af_storage;

/** Flux function of anisotropic diffusion. */
typedef enum {
    AF_FLUX_QUADRATIC = 1,
    AF_FLUX_EXPONENTIAL = 2,
    AF_FLUX_DEFAULT = 0
} af_flux_function;

/** Diffusion equation of anisotropic diffusion. */
typedef enum {
    AF_DIFFUSION_GRAD = 1,
    AF_DIFFUSION_MCDE = 2,
    AF_DIFFUSION_DEFAULT = 0
} af_diffusion_eq;

/** Which end af_topk takes, and whether ties keep their order. */
typedef enum {
    AF_TOPK_MIN = 1,
    AF_TOPK_MAX = 2,
    AF_TOPK_STABLE = 4,
    AF_TOPK_STABLE_MIN = 5,
    AF_TOPK_STABLE_MAX = 6,
    AF_TOPK_DEFAULT = 0
} af_topk_function;

/** Bias of a variance: sample (n - 1) or population (n). */
typedef enum {
    AF_VARIANCE_DEFAULT = 0,
    AF_VARIANCE_SAMPLE = 1,
    AF_VARIANCE_POPULATION = 2
} af_var_bias;

/** Algorithm of af_iterative_deconv. */
typedef enum {
    AF_ITERATIVE_DECONV_LANDWEBER = 1,
    AF_ITERATIVE_DECONV_RICHARDSONLUCY = 2,
    AF_ITERATIVE_DECONV_DEFAULT = 0
} af_iterative_deconv_algo;

/** Algorithm of af_inverse_deconv. */
typedef enum {
    AF_INVERSE_DECONV_TIKHONOV = 1,
    AF_INVERSE_DECONV_DEFAULT = 0
} af_inverse_deconv_algo;

/** Which gradient af_convolve2_gradient_nn computes. */
typedef enum {
    AF_CONV_GRADIENT_DEFAULT = 0,
    AF_CONV_GRADIENT_FILTER = 1,
    AF_CONV_GRADIENT_DATA = 2,
    AF_CONV_GRADIENT_BIAS = 3
} af_conv_gradient_type;

/* Opaque handles. Each is a pointer-sized value that the library hands out and takes back; the
 * caller never looks inside. They live here, not in their own headers, so that any header can
 * name them without include-order surprises. */

/** Handle of an array. */
typedef void *af_array;

/** Handle of a set of image features. */
typedef void *af_features;

/** Handle of a device event. */
typedef void *af_event;

/** Handle of a custom memory manager. */
typedef void *af_memory_manager;

/** Handle of a random number engine. */
typedef void *af_random_engine;

#ifdef __cplusplus
}
#endif

#endif /* EMBER_AF_DEFINES_H */
