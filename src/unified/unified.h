/* The unified library libaf.so.3: every af_* and afcu_* call is forwarded to the backend library
 * (libafcpu.so.3 or libafcuda.so.3) that the calling thread selected with af_set_backend. The
 * backends are loaded with dlopen on first use; forward.c is generated from the API list by
 * scripts/gen_unified.py and unified.c holds the loader and the hand-written functions. */
#ifndef EM_UNIFIED_H
#define EM_UNIFIED_H

#include <arrayfire.h>
#include <af/dlpack.h>
#include <stdatomic.h>

/* af/cuda.h takes these from the CUDA headers. They are declared here with the same
 * representation (a pointer to an opaque struct, and an enum passed as int) so that libaf.so.3
 * builds without the CUDA toolkit. */
typedef struct CUstream_st *cudaStream_t;
typedef int cublasMath_t;

/* Backend indices of the unified layer: 0 is the CPU library, 1 the CUDA library. */
#define EM_UNI_CPU      0
#define EM_UNI_CUDA     1
#define EM_UNI_BACKENDS 2
/* Where the calling thread's last error came from, when it is not a backend index. */
#define EM_UNI_SRC_NONE (-1)
#define EM_UNI_SRC_SELF (-2)

/* One function's symbols, resolved lazily per backend: NULL until looked up, then the address
 * or a marker for "the backend lacks it". */
typedef struct {
    _Atomic(void *) fn[EM_UNI_BACKENDS];
} em_uni_slot;

extern _Thread_local int em_uni_err_src;

/* Finds `name` in the calling thread's backend. On success sets *bk and *fn; otherwise records
 * the unified layer's own message and answers AF_ERR_LOAD_LIB (no backend library loads) or
 * AF_ERR_NOT_SUPPORTED (the backend lacks the symbol). */
af_err em_uni_resolve(em_uni_slot *slot, const char *name, int *bk, void **fn);

/* Remembers which backend failed, so that af_get_last_error asks that backend for the message. */
static inline af_err em_uni_done(int bk, af_err err) {
    if (err != AF_SUCCESS) em_uni_err_src = bk;
    return err;
}

/* Defines a forwarder: NAME with PARAMS (parameter list with names) calls the backend's NAME
 * with ARGS. */
#define EM_UNI_FORWARD(NAME, PARAMS, ARGS)                                                         \
    AFAPI af_err NAME PARAMS {                                                                     \
        static em_uni_slot slot_;                                                                  \
        typedef af_err(*fn_t_) PARAMS;                                                             \
        int bk_ = 0;                                                                               \
        void *fn_ = NULL;                                                                          \
        af_err err_ = em_uni_resolve(&slot_, #NAME, &bk_, &fn_);                                   \
        if (err_ != AF_SUCCESS) return err_;                                                       \
        return em_uni_done(bk_, ((fn_t_)fn_)ARGS);                                                 \
    }

#endif
