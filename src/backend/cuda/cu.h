/* Internals shared by the CUDA backend's files. Host code is C11 over the CUDA runtime API and
 * NVRTC. Kernels are CUDA C source strings compiled at run time, loaded as context-independent
 * libraries (cudaLibraryLoadData), so the library never links the driver (libcuda.so.1) and loads
 * cleanly on machines without one: there every runtime call answers an error and Ember reports
 * "no CUDA device". */
#ifndef EM_CUDA_CU_H
#define EM_CUDA_CU_H

#include "../../core/dtype.h"
#include "../../core/jit.h"
#include "../../core/backend.h"
#include "../algorithm.h"
#include "dev_order.h"
#include "embedded.h" /* em_cu_src_<stem>: each kernels/<stem>.cuh, and rng.h, as a string */

#include <cuda.h>
#include <cuda_runtime.h>
#include <pthread.h>
#include <stdatomic.h>

/* One CUDA device as Ember sees it. The table is filled once (em_cu_discover) and then only the
 * stream fields change. */
typedef struct {
    em_cu_dev_desc desc;
    char name[256];
    int arch; /* major * 10 + minor */
    int grid; /* blocks for a grid-stride kernel: SMs x resident blocks of EM_CU_BLOCK */
    /* The stream Ember enqueues on: its own, or the one afcu_set_stream installed. */
    _Atomic(cudaStream_t) stream;
    cudaStream_t own_stream; /* created blocking with respect to the legacy default stream */
    atomic_int stream_ready;
    pthread_mutex_t stream_lock;
    int math_mode; /* afcu_cublasSetMathMode, kept for the cuBLAS handles */
    /* Work enqueued for the device counts in `enqueued` once the enqueue has returned
     * (em_cu_leave_enqueued, em_cu_enqueued); a finished synchronisation stores the count it read
     * before it started in `synced`. Equal counts mean no Ember work can still be queued: see the
     * dev_idle slot. Counting at entry instead let an enqueue that was entered, but not yet
     * issued, when another thread's sync began be taken as covered by that sync. */
    atomic_ullong enqueued, synced;
} em_cu_dev;

#define EM_CU_BLOCK 256

extern em_cu_dev em_cu_devs[EM_MAX_DEVICES];

/* Discovers devices once; returns how many (0 when CUDA has no usable device or driver). */
int em_cu_discover(void);

/* Makes Ember device `dev` current on the calling thread (cudaSetDevice of its ordinal, only when
 * another one is current), creates its library stream on first use, and returns the stream Ember
 * enqueues on. `fn` names the caller in error messages. With `prev` NULL the device stays current
 * (dev_activate); otherwise *prev receives the ordinal to give back to em_cu_leave, or -1 when
 * nothing changed, so that work on another device does not move the caller's CUDA device (as
 * ArrayFire's af_sync(device) restores it). */
af_err em_cu_enter(const char *fn, int dev, cudaStream_t *stream, int *prev);
/* Leaves the device em_cu_enter entered: makes `prev` current again when em_cu_enter changed the
 * device. For paths that enqueued nothing (syncs, queries, allocations). */
void em_cu_leave(int prev);
/* em_cu_leave for paths that enqueued work on device dev: counts it first (see em_cu_dev). */
void em_cu_leave_enqueued(int dev, int prev);
/* Counts work enqueued for dev by a path that leaves otherwise. */
void em_cu_enqueued(int dev);

/* Maps a CUDA error to an af_err, recording "fn: what: <CUDA's name and string>". It also clears
 * the runtime's last-error state so that a user's later cudaGetLastError does not see Ember's
 * error. */
af_err em_cu_err(cudaError_t e, const char *fn, const char *what);
/* Launches a kernel on `stream` through the driver's cuLaunchKernel (the caller entered the
 * device). `func` is the kernel resolved in the device's context (em_cu_module_get): launching the
 * context-independent CUkernel instead makes the driver resolve it at every launch, and the
 * runtime's cudaLaunchKernel adds its own bookkeeping; each costs measurable host time per launch
 * (docs/BENCH.md). */
af_err em_cu_launch(const char *fn, const char *what, CUfunction func, dim3 grid, dim3 block,
                    void **args, cudaStream_t stream);
#define EM_CU_TRY(call, what)                                                                      \
    do {                                                                                           \
        cudaError_t em_cu_e_ = (call);                                                             \
        if (em_cu_e_ != cudaSuccess) {                                                             \
            err = em_cu_err(em_cu_e_, __func__, (what));                                           \
            goto fail;                                                                             \
        }                                                                                          \
    } while (0)

/* Makes `waiter` wait for the work enqueued so far on `signaller`, through an event, without
 * blocking the host (nothing when they are the same stream). */
af_err em_cu_stream_order(const char *fn, int dev, cudaStream_t signaller, cudaStream_t waiter);
/* True when this thread can order streams of `dev` without entering it: the library stream exists
 * and the thread's hand-off event for the device was made. Recording an event and waiting on it
 * name their streams and need no current device, so the hand-off then skips em_cu_enter's
 * cudaGetDevice (and cudaSetDevice). Sets *stream to the device's stream. */
bool em_cu_handoff_ready(int dev, cudaStream_t *stream);

/* The em_backend slots implemented in other files: stream hand-off (interop.c), events
 * (event.c), JIT (jit.c) and random numbers (random.c). */
af_err em_cu_stream_wait(int dev, void *stream);
af_err em_cu_stream_signal(int dev, void *stream);
af_err em_cu_event_create(int dev, void **ev);
void em_cu_event_destroy(void *ev);
af_err em_cu_event_record(int dev, void *ev);
af_err em_cu_event_wait(int dev, void *ev);
af_err em_cu_event_sync(void *ev);
af_err em_cu_jit_eval(int dev, const em_jit_prog *prog, void *const *outs);
af_err em_cu_jit_eval_window(int dev, const em_jit_prog *prog, const em_jit_window *out);
af_err em_cu_random(int dev, void *out, af_dtype type, dim_t n, int engine, int dist, uint64_t seed,
                    uint64_t counter, void *mt_state);

/* The algorithm family's slots (algorithm.h) implemented in reduce.c. */
af_err em_cu_reduce(int dev, const em_jit_prog *in, int dim, em_red_op op, void *out);
af_err em_cu_ireduce(int dev, const em_jit_prog *in, int dim, em_red_op op, const uint32_t *rlen,
                     void *val, uint32_t *idx);
af_err em_cu_key_runs(int dev, const void *keys, af_dtype kt, dim_t n, void *okeys,
                      uint32_t *starts, dim_t *nruns);
af_err em_cu_reduce_runs(int dev, const em_jit_prog *in, int dim, em_red_op op,
                         const uint32_t *starts, dim_t nruns, void *out);
/* ... in scan.c. */
af_err em_cu_scan(int dev, const em_jit_prog *in, const em_jit_prog *keys, int dim, af_binary_op op,
                  bool inclusive, void *out);
af_err em_cu_where(int dev, const em_jit_prog *in, struct em_buf **idx, dim_t *count);
/* ... in statistics.c. */
af_err em_cu_moments(int dev, const em_jit_prog *x, const em_jit_prog *w, int dim, int ddof,
                     bool root, af_dtype out_type, void *mean, void *var);
af_err em_cu_comoments(int dev, const em_jit_prog *x, const em_jit_prog *y, int kind, int ddof,
                       af_dtype out_type, void *out);

/* The kernel `k` of a loaded library resolved in the current context (cuKernelGetFunction). */
af_err em_cu_kernel_function(const char *fn, cudaKernel_t k, CUfunction *out);

/* Kernel modules (module.c): compiles CUDA C with NVRTC for a device's architecture, or loads it
 * from the on-disk cache, and returns the kernel resolved in device `dev`'s context (the caller
 * entered dev). One load serves every device of that architecture; each device resolves the
 * kernel once.
 * `key` identifies the source (a structural hash plus whatever else changes the text);
 * `name` is the kernel's name in the source. The source is produced by gen(ctx) only on a miss
 * of both caches, so a cache hit does no code generation. On failure the message holds NVRTC's
 * log. */
typedef char *(*em_cu_gen_fn)(const void *ctx);
af_err em_cu_module_get(int dev, uint64_t key, const char *name, em_cu_gen_fn gen, const void *ctx,
                        CUfunction *out);

/* The NVRTC options and target for an architecture (major*10+minor): cubin for architectures
 * NVRTC knows, else PTX of the newest one it knows at or below it. Exposed for the codegen test. */
typedef struct {
    int arch;     /* the architecture compiled for */
    bool cubin;   /* true: sm_XX cubin; false: compute_XX PTX */
    char opt[32]; /* "--gpu-architecture=..." */
} em_cu_target;
void em_cu_target_for(int arch, em_cu_target *out);

/* Compiles `src` with NVRTC for `target`; on success *image is a malloc'ed cubin or PTX. */
af_err em_cu_nvrtc(const char *fn, const char *src, const char *name, const em_cu_target *t,
                   char **image, size_t *size);

/* The compile check (compile_check.c): a family registers a function that generates each of its
 * kernel sources and compiles it with em_cu_compile_source, which needs no device:
 *     static af_err reduce_compile_check(void) { ... }
 *     EM_CU_COMPILE_CHECK(reduce, reduce_compile_check)
 * tests/test_codegen.c runs every registered check, so CI compiles every kernel variant. */
typedef af_err (*em_cu_compile_check_fn)(void);
void em_cu_compile_check_register(const char *name, em_cu_compile_check_fn fn);
af_err em_cu_compile_source(const char *src, const char *kernel);
#define EM_CU_COMPILE_CHECK(name, fn)                                                              \
    __attribute__((constructor)) static void em_cu_compile_check_reg_##name(void) {                \
        em_cu_compile_check_register(#name, fn);                                                   \
    }

/* A small input program of dtype t for the checks of kernels that consume one (reductions,
 * scans, statistics), over a stand-in buffer that nothing reads: code generation looks only at
 * the program's structure. Leaves are 8 x 4 x 2 and dense, or strided when !linear. */
typedef enum {
    EM_CU_SAMPLE_LEAF,  /* a leaf alone (dtypes without arithmetic) */
    EM_CU_SAMPLE_ARITH, /* a * b + c */
    EM_CU_SAMPLE_GT,    /* a > b, a b8 program (where) */
} em_cu_sample_kind;
typedef struct {
    em_buf buf;
    em_node leaf[3], op[2];
    em_node *root;
} em_cu_sample_prog;
void em_cu_sample_init(em_cu_sample_prog *s, af_dtype t, bool linear, em_cu_sample_kind kind);

/* The index family's shape slots (index.h) implemented in shape.c. */
af_err em_cu_transpose(int dev, af_dtype type, void *out, const void *in, const dim_t idims[4],
                       const dim_t istrides[4], bool conj);
af_err em_cu_transpose_inplace(int dev, af_dtype type, void *data, const dim_t dims[4], bool conj);

/* The algorithm family's slots (algorithm.h) implemented in sort.c. */
af_err em_cu_sort(int dev, af_dtype type, const dim_t dims[4], int dim, bool ascending,
                  const void *keys, void *keys_out, uint32_t *idx_out, const void *vals,
                  size_t val_size, void *vals_out);
af_err em_cu_set_unique(int dev, af_dtype type, const void *in, dim_t n, bool is_sorted, void *out,
                        dim_t *nout);
af_err em_cu_set_union(int dev, af_dtype type, const void *a, dim_t na, const void *b, dim_t nb,
                       void *out, dim_t *nout);
af_err em_cu_set_intersect(int dev, af_dtype type, const void *a, dim_t na, const void *b, dim_t nb,
                           bool is_unique, void *out, dim_t *nout);
af_err em_cu_median(int dev, af_dtype type, const void *in, const dim_t dims[4], int dim,
                    af_dtype out_type, void *out);
af_err em_cu_topk(int dev, af_dtype type, const void *in, const dim_t dims[4], int k, bool largest,
                  void *vals_out, uint32_t *idx_out);

#endif
