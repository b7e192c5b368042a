/* The backend interface: one table of function pointers per backend, filled with designated
 * initializers. The api and core layers call only through this table.
 *
 * The table holds what every backend needs (devices, memory, copies, JIT evaluation, streams,
 * events) and one pointer per operation family. Each family's table is a struct declared in its
 * own header under src/backend/ (index.h, algorithm.h, blas.h, lapack.h, signal.h, image.h,
 * sparse.h), included by that family's api file and by each backend's file of the same name.
 *
 * A NULL family table or slot means the backend lacks the operation: the api answers
 * AF_ERR_NOT_SUPPORTED with a message naming the function and the backend (EM_NEED_SLOT in
 * err.h). The few optional slots below say what NULL means for them instead. */
#ifndef EM_BACKEND_H
#define EM_BACKEND_H

#include <af/defines.h>
#include <stddef.h>
#include <stdint.h>

struct em_jit_prog;
struct em_index_ops;
struct em_algo_ops;
struct em_blas_ops;
struct em_lapack_ops;
struct em_signal_ops;
struct em_image_ops;
struct em_sparse_ops;

typedef struct {
    char name[256];
    char platform[64];
    char toolkit[64];
    char compute[64];
    size_t mem_bytes; /* total device memory */
    int native_id;    /* CUDA ordinal; 0 on the CPU */
    int dbl;          /* double precision supported */
    int half;         /* half precision arithmetic supported */
} em_dev_props;

/* An output window of an existing buffer: element (c0, c1, c2, c3) of a program's dims is written
 * to element offset + c0*strides[0] + c1*strides[1] + c2*strides[2] + c3*strides[3] of ptr. */
typedef struct {
    void *ptr;
    dim_t offset;
    dim_t strides[4];
} em_jit_window;

/* Random distributions for em_backend.random. */
enum { EM_RANDOM_UNIFORM = 0, EM_RANDOM_NORMAL = 1 };

typedef struct em_backend {
    af_backend id;
    const char *name;

    /* Devices. Ember ids run 0..count-1 in the backend's order (fastest first on CUDA). */
    int (*dev_count)(void);
    af_err (*dev_props)(int dev, em_dev_props *out);
    af_err (*dev_activate)(int dev); /* bind the calling host thread to dev */
    af_err (*dev_sync)(int dev);     /* wait for all work queued for dev */
    /* Optional: true when no work of this library can still be queued for dev since its last
     * finished dev_sync, so a wait would return at once (the release of a wrapped buffer skips
     * its sync then). NULL: always sync. */
    bool (*dev_idle)(int dev);

    /* Raw device memory, used by the memory manager only. */
    af_err (*mem_alloc)(int dev, size_t bytes, void **ptr);
    void (*mem_free)(int dev, void *ptr);
    af_err (*mem_free_bytes)(int dev, size_t *free_bytes);
    af_err (*pinned_alloc)(size_t bytes, void **ptr);
    void (*pinned_free)(void *ptr);
    /* Frees memory the user handed over with af_device_array, the backend's native free. */
    void (*adopted_free)(int dev, void *ptr);

    /* Copies, ordered on dev's stream. h2d and d2h return when host memory may be reused/read. */
    af_err (*copy_h2d)(int dev, void *dst, const void *src, size_t bytes);
    af_err (*copy_d2h)(int dev, void *dst, const void *src, size_t bytes);
    af_err (*copy_d2d)(int dev, void *dst, const void *src, size_t bytes);
    /* Copies between two devices without a host sync: after the work queued so far on
     * src_dev's stream, and before later work on dst_dev's stream. src_dev's stream also waits
     * for the copy, so that the pool may hand the source block out again at once. Peer to peer
     * where the devices allow it. NULL on a backend with one device (the CPU). */
    af_err (*copy_peer)(int dst_dev, void *dst, int src_dev, const void *src, size_t bytes);

    /* Evaluates a linearised JIT program, writing output k to outs[k] (contiguous, prog dims). */
    af_err (*jit_eval)(int dev, const struct em_jit_prog *prog, void *const *outs);
    /* Evaluates a one-output program into a strided window of an existing buffer (assignment,
     * replace, join). The program never reads the window's buffer: the core writes only into a
     * buffer that no other reference (a leaf included) can see (em_array_write_window). */
    af_err (*jit_eval_window)(int dev, const struct em_jit_prog *prog, const em_jit_window *out);

    /* Stream hand-off with a user's native stream (a cudaStream_t on CUDA), through events and
     * without blocking the host. wait: dev's library stream waits for the work queued so far on
     * `stream`; signal: `stream` waits for the work queued so far on dev's library stream. NULL
     * on a backend whose work is complete when a call returns (the CPU). */
    af_err (*stream_wait)(int dev, void *stream);
    af_err (*stream_signal)(int dev, void *stream);

    /* Events (af/event.h) on dev's library stream. NULL on a backend whose work is complete when a
     * call returns (the CPU): marking, waiting and blocking are then no-ops. */
    af_err (*event_create)(int dev, void **ev);
    void (*event_destroy)(void *ev);
    af_err (*event_record)(int dev, void *ev); /* mark: capture the work queued so far */
    af_err (*event_wait)(int dev, void *ev);   /* the library stream waits, the host does not */
    af_err (*event_sync)(void *ev);            /* the host waits */

    /* Random numbers (src/core/rng.h): n values of `type` with distribution `dist` from `engine`
     * (EM_RNG_PHILOX or EM_RNG_THREEFRY: key `seed` and counter `counter`; EM_RNG_MERSENNE: the
     * EM_RNG_MT_WORDS words of state at `mt_state`, in dev's memory, which the call advances in
     * place). Both backends produce ArrayFire's numbers for the same arguments. */
    af_err (*random)(int dev, void *out, af_dtype type, dim_t n, int engine, int dist,
                     uint64_t seed, uint64_t counter, void *mt_state);

    /* The environment variable that names the default device (ArrayFire's
     * AF_CUDA_DEFAULT_DEVICE), or NULL. */
    const char *default_device_env;
    /* How DLPack names this backend's memory (a DLDeviceType: kDLCPU, kDLCUDA), so the neutral
     * layers need not branch on the backend id. */
    int dlpack_device_type;

    /* Operation families, one table each (see the header comment). NULL: not supported. */
    const struct em_index_ops *index;   /* src/backend/index.h */
    const struct em_algo_ops *algo;     /* src/backend/algorithm.h */
    const struct em_blas_ops *blas;     /* src/backend/blas.h */
    const struct em_lapack_ops *lapack; /* src/backend/lapack.h */
    const struct em_signal_ops *signal; /* src/backend/signal.h */
    const struct em_image_ops *image;   /* src/backend/image.h */
    const struct em_sparse_ops *sparse; /* src/backend/sparse.h */
} em_backend;

/* The backend this library was built with. Each backend library defines it. */
extern const em_backend em_backend_self;

#endif
