/* The JIT graph. Element-wise work builds a tree of nodes instead of running. A tree is turned
 * into a linear program (em_jit_prog) that a backend evaluates in one pass over memory. */
#ifndef EM_CORE_JIT_H
#define EM_CORE_JIT_H

#include "dtype.h"
#include "jit_ops.h"
#include "mem.h"
#include "thread.h"

#include <stdatomic.h>
#include <stdint.h>

typedef union {
    double f[2]; /* real, imaginary (floating and complex dtypes) */
    int64_t i;   /* signed integer dtypes and b8 */
    uint64_t u;  /* unsigned integer dtypes */
} em_scalar;

/* A thread that has made nodes: the owner of their biased references (below). Records live until
 * the process ends, since nodes may outlive the thread that made them. */
typedef struct em_node_owner em_node_owner;

/* Every node of a tree has the dims of the tree's output; broadcasting lives in BUF leaves, whose
 * stride is 0 along a broadcast dimension.
 *
 * Reference counts are biased to the thread that made the node (biased reference counting, Choi,
 * Shull and Torrellas, PACT 2018). Nodes are made, shared and freed on one thread nearly always,
 * and a locked read-modify-write per retain and release was a third of a lazy op's host time on
 * the GPU machine's Xeon. The owner counts its references in `biased` with plain loads and
 * stores; every other thread counts in `shared` with atomic operations. `shared` holds the count
 * times EM_NODE_REF plus two flags, and its count goes below zero when another thread drops a
 * reference that the owner counted. The node is then queued to its owner, which merges the two
 * counts at its next node or when it exits (jit.c). When the owner's count reaches zero with other
 * threads' references outstanding, the node is merged: from then on every thread uses `shared`. */
#define EM_NODE_MERGED 1 /* shared: biased no longer counts; every thread uses shared */
#define EM_NODE_QUEUED 2 /* shared: waiting in the owner's merge queue */
#define EM_NODE_REF    4 /* shared: one reference */
typedef struct em_node {
    /* The first 64 bytes hold what the program walk and the tree release read, so each node
     * costs them one cache line. */
    atomic_int biased; /* the owner's references (only the owner writes it) */
    atomic_int shared; /* other threads' references (see above) */
    _Atomic(em_node_owner *) owner;
    uint16_t op;  /* em_op */
    uint8_t type; /* af_dtype of the node's value */
    uint8_t nchild;
    uint16_t height; /* leaves are 0 */
    uint32_t nleaf;  /* BUF and SCALAR leaves below, counting repeats: bounds parameter size */
    struct em_node *child[3];
    em_buf *buf;       /* EM_OP_BUF */
    size_t leaf_bytes; /* bytes of the buffers below, counting repeats: memory pressure */
    dim_t dims[4];
    struct em_node *merge_next; /* link in the owner's merge queue */
    /* The fields of one kind of leaf each, in shared storage: a node stays within the four cache
     * lines that node_new allocates (jit.c checks), where separate fields took five. Each is valid
     * only on its kind of leaf, written by that leaf's constructor; on any other node it holds
     * another kind's value, so readers test the op first. */
    union {
        struct { /* EM_OP_BUF */
            dim_t strides[4];
            dim_t offset;
            /* An optional index transform per dimension (EM_XF_* below, EM_XF_BITS bits per
             * dimension, dimension k at bits EM_XF_BITS*k; 0: none) with its length and shift.
             * It is part of the program's key (jit.c), and a leaf with one is never linear. */
            uint16_t xmode;
            dim_t xlen[4];
            dim_t xshift[4];
        };
        struct {
            /* EM_OP_SCALAR */
            em_scalar val;
            /* generators: RANGE uses iparam (the dim); IOTA uses gparam (the unit dims) */
            int iparam;
            dim_t gparam[4];
        };
    };
} em_node;

/* Flush rules: a new node whose tree crosses one of these is evaluated at once.
 *  - height: deep trees blow up register use and compile time;
 *  - leaves: each leaf is a kernel parameter, and CUDA caps parameters at 4 KiB;
 *  - memory pressure: a lazy tree keeps its leaves alive, so when the manager holds more than the
 *    threshold fraction of device memory, trees are evaluated to let their inputs go. */
#define EM_JIT_MAX_HEIGHT 24
#define EM_JIT_MAX_LEAVES 48

em_node *em_node_new(em_op op, af_dtype type, const dim_t dims[4]);
/* A node over children (arity from the op table). It takes over the caller's reference to each
 * child, also on failure (NULL), so building a node costs no reference-count traffic. The _on
 * form takes the calling thread's state (em_thread_self), for callers that already hold it. */
em_node *em_node_op_on(em_thread *t, em_op op, af_dtype type, const dim_t dims[4],
                       em_node *const *child);
static inline em_node *em_node_op(em_op op, af_dtype type, const dim_t dims[4],
                                  em_node *const *child) {
    return em_node_op_on(em_thread_self(), op, type, dims, child);
}
em_node *em_node_buf(em_buf *buf, af_dtype type, const dim_t dims[4], const dim_t strides[4],
                     dim_t offset);

/* Index transforms of BUF leaves (docs/JIT_OPS.md, "BUF leaves"). Along a dimension k with a
 * transform, the leaf reads index i(c) of coordinate c instead of c itself (its element is then
 * offset + sum_k i_k * strides[k]), where v = c + xshift[k] and n = xlen[k] >= 1:
 *  - WRAP: v mod n, with v >= 0 (tile, shift, periodic padding; the api passes xshift in [0, n));
 *  - CLAMP: v clamped to [0, n - 1] (padding that repeats the edge);
 *  - MIRROR: ArrayFire's symmetric border: v < 0 gives (-v - 1) mod n, v >= n gives
 *    n - 1 - (v mod n), otherwise v;
 *  - ZERO: v, but the leaf's value is 0 wherever v is outside [0, n) along any ZERO dimension
 *    (zero padding: nothing outside the buffer is read). */
enum { EM_XF_NONE = 0, EM_XF_WRAP = 1, EM_XF_CLAMP = 2, EM_XF_MIRROR = 3, EM_XF_ZERO = 4 };
#define EM_XF_BITS 3
static inline int em_xf_mode(uint16_t xmode, int k) {
    return (xmode >> (EM_XF_BITS * k)) & ((1 << EM_XF_BITS) - 1);
}
/* True when BUF leaf n reads one element wherever it is evaluated (every dimension has stride 0
 * or length 1, no transform): a value broadcast from device memory, such as af_tile of a
 * one-element array. A CUDA kernel loads it once instead of indexing it per element, so a
 * program whose other leaves are dense still takes the linear path (it is part of the key). */
static inline bool em_node_buf_uniform(const em_node *n) {
    if (n->xmode) return false;
    for (int d = 0; d < 4; d++)
        if (n->strides[d] != 0 && n->dims[d] != 1) return false;
    return true;
}
/* Sets dimension k's transform on BUF leaf n. */
static inline void em_node_buf_xform(em_node *n, int k, int mode, dim_t len, dim_t shift) {
    n->xmode = (uint16_t)((n->xmode & ~(((1 << EM_XF_BITS) - 1) << (EM_XF_BITS * k))) |
                          (mode << (EM_XF_BITS * k)));
    n->xlen[k] = len;
    n->xshift[k] = shift;
}
/* The index that transform `mode` maps coordinate c to (ZERO: c + shift itself; the caller tests
 * the range). Both backends' leaf reads follow this function. */
static inline int64_t em_xf_index(int mode, int64_t c, int64_t len, int64_t shift) {
    int64_t v = c + shift;
    switch (mode) {
    case EM_XF_WRAP:
        return v % len;
    case EM_XF_CLAMP:
        return v < 0 ? 0 : v >= len ? len - 1 : v;
    case EM_XF_MIRROR:
        return v < 0 ? (-v - 1) % len : v >= len ? len - 1 - v % len : v;
    case EM_XF_ZERO:
        return v;
    default:
        return c;
    }
}
em_node *em_node_scalar(af_dtype type, const dim_t dims[4], em_scalar val);
/* Writes a scalar as one element of `t` in compute representation (f16 as a float rounded to
 * binary16, b8 as 0/1), the form both backends' kernels read (docs/JIT_OPS.md, SCALAR). */
void em_scalar_store(void *dst, af_dtype t, const em_scalar *v);

/* Retain and release, given the calling thread's state (em_thread_self): hot paths that touch
 * several nodes look the thread up once. */
static inline void em_node_retain_on(const em_thread *t, em_node *n) {
    /* Owners are never NULL, so a thread without a record always takes the shared path. */
    if (atomic_load_explicit(&n->owner, memory_order_relaxed) == t->node_owner)
        atomic_store_explicit(&n->biased,
                              atomic_load_explicit(&n->biased, memory_order_relaxed) + 1,
                              memory_order_relaxed);
    else
        atomic_fetch_add_explicit(&n->shared, EM_NODE_REF, memory_order_relaxed);
}
void em_node_release_on(em_thread *t, em_node *n);
static inline void em_node_retain(em_node *n) {
    em_node_retain_on(em_thread_self(), n);
}
static inline void em_node_release(em_node *n) {
    em_node_release_on(em_thread_self(), n);
}
/* The node's reference count, read without synchronisation: exact while no other thread changes
 * it, which holds for a tree that the caller owns (its parents' references are stable). */
static inline int em_node_refs(const em_node *n) {
    int s = atomic_load_explicit(&n->shared, memory_order_relaxed);
    return atomic_load_explicit(&n->biased, memory_order_relaxed) +
           (s - (s & (EM_NODE_REF - 1))) / EM_NODE_REF;
}
/* True when a tree rooted at n must be evaluated now (the flush rules above). Inline: every lazy
 * op asks. */
static inline bool em_node_needs_flush(const em_node *n, int dev) {
    if (n->height >= EM_JIT_MAX_HEIGHT || n->nleaf >= EM_JIT_MAX_LEAVES) return true;
    return n->leaf_bytes > 0 && em_mem_over_pressure(dev);
}

/* A program: the tree(s) in post-order, each distinct node once. */
typedef struct {
    uint16_t op;
    uint8_t type;
    uint8_t nargs;
    int32_t arg[3]; /* indices of earlier instructions */
    int32_t leaf;   /* index into leaves for BUF and SCALAR, else -1 */
} em_jit_instr;

#define EM_JIT_MAX_OUTPUTS 16
#define EM_JIT_INLINE      64

typedef struct em_jit_prog {
    int ninstr;
    em_jit_instr *instr;
    int nleaf;
    const em_node **leaves; /* BUF and SCALAR nodes: the kernel's parameters */
    int nout;
    int out[EM_JIT_MAX_OUTPUTS]; /* instruction index of each output */
    dim_t dims[4];
    dim_t elements;
    /* Every BUF leaf is dense with the output's dims: index = linear position (plus offset). */
    bool linear;
    /* Structural key for kernel caches: equal keys mean the same generated code. */
    uint64_t key;
    /* Small programs live here, so building one allocates nothing; larger ones move to the
     * heap (instr and leaves then point elsewhere). */
    em_jit_instr instr_inline[EM_JIT_INLINE];
    const em_node *leaves_inline[EM_JIT_INLINE];
} em_jit_prog;

/* Builds the program for `n` roots of equal dims. Free with em_jit_prog_free. */
af_err em_jit_prog_build(em_node *const *roots, int n, em_jit_prog *out);
void em_jit_prog_free(em_jit_prog *p);

/* One step of the structural hash: a multiply-xorshift mix of a 64-bit word (word-wise, so a
 * node costs a few instructions rather than a byte loop). Deterministic across runs and
 * processes, which the on-disk kernel cache relies on. */
static inline uint64_t em_hash_mix(uint64_t h, uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    h *= 0xff51afd7ed558ccdull;
    return h ^ (h >> 32);
}
#define EM_HASH_SEED 0xcbf29ce484222325ull

#endif
