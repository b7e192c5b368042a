#include "jit.h"

#include "err.h"

#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t em_op_arities[] = {
#define X(name, arity) [EM_OP_##name] = arity,
    EM_JIT_OPS(X)
#undef X
};
static const char *const em_op_names[] = {
#define X(name, arity) [EM_OP_##name] = #name,
    EM_JIT_OPS(X)
#undef X
};

int em_op_arity(em_op op) {
    return em_op_arities[op];
}
const char *em_op_name(em_op op) {
    return em_op_names[op];
}

/* Nodes are the hottest allocation of the library (each lazy op makes one or more), so released
 * nodes wait in a small per-thread cache instead of going back to malloc. */
#define EM_NODE_CACHE_MAX 512

struct em_node_owner {
    _Atomic(em_node *) queue; /* nodes whose shared count went below zero: merged by the owner */
    atomic_bool gone;         /* the thread has exited: whoever queues a node merges it */
    em_node_owner *next;      /* every record, so none is ever unreachable */
};

/* The owner of merged nodes: no thread, so every thread takes the shared path. */
static em_node_owner em_node_nobody;
static em_node_owner *em_node_owners;
static pthread_mutex_t em_node_owners_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_key_t em_node_exit_key;
static pthread_once_t em_node_exit_once = PTHREAD_ONCE_INIT;

static void node_free_tree(em_thread *t, em_node *n);

/* Merges the queued nodes of `o`: the owner's count moves into the shared one. Run by the owner
 * itself, or by any thread once the owner is gone (its biased counts no longer change then). Each
 * queued node is in one queue once (EM_NODE_QUEUED), and the exchange hands each list to one
 * thread. */
__attribute__((noinline, cold)) static void owner_drain(em_thread *t, em_node_owner *o) {
    em_node *list = atomic_exchange(&o->queue, NULL);
    while (list) {
        em_node *n = list;
        list = n->merge_next;
        int b = atomic_load_explicit(&n->biased, memory_order_relaxed);
        atomic_store_explicit(&n->biased, 0, memory_order_relaxed);
        atomic_store_explicit(&n->owner, &em_node_nobody, memory_order_relaxed);
        int s = atomic_load_explicit(&n->shared, memory_order_relaxed), merged;
        do {
            merged = ((s + b * EM_NODE_REF) | EM_NODE_MERGED) & ~EM_NODE_QUEUED;
        } while (!atomic_compare_exchange_weak_explicit(
            &n->shared, &s, merged, memory_order_acq_rel, memory_order_relaxed));
        if (merged == EM_NODE_MERGED) node_free_tree(t, n);
    }
}

static void node_thread_exit(void *unused) {
    (void)unused;
    em_thread *t = em_thread_self();
    if (t->node_owner) {
        /* Nodes queued after this are merged by the thread that queues them. */
        atomic_store(&t->node_owner->gone, true);
        owner_drain(t, t->node_owner);
    }
    while (t->node_free) {
        em_node *n = t->node_free;
        t->node_free = n->child[0];
        free(n);
    }
    t->node_free_count = 0;
}

static void node_exit_key_create(void) {
    pthread_key_create(&em_node_exit_key, node_thread_exit);
}

/* Arms the thread-exit hook (merging, then emptying the cache) once per thread. */
static void node_thread_arm(void) {
    pthread_once(&em_node_exit_once, node_exit_key_create);
    pthread_setspecific(em_node_exit_key, (void *)1);
}

__attribute__((noinline, cold)) static bool node_thread_start(em_thread *t) {
    em_node_owner *o = calloc(1, sizeof(*o));
    if (!o) return false;
    pthread_mutex_lock(&em_node_owners_lock);
    o->next = em_node_owners;
    em_node_owners = o;
    pthread_mutex_unlock(&em_node_owners_lock);
    t->node_owner = o;
    node_thread_arm();
    return true;
}

/* Queues n to its owner after this thread took the shared count below zero: the owner's count
 * may hold the reference that was dropped, so only the owner can tell whether n is dead. */
__attribute__((noinline, cold)) static void node_queue(em_thread *t, em_node *n) {
    int s = atomic_load_explicit(&n->shared, memory_order_relaxed);
    do {
        if (s >= 0 || (s & (EM_NODE_QUEUED | EM_NODE_MERGED))) return;
    } while (!atomic_compare_exchange_weak_explicit(&n->shared, &s, s | EM_NODE_QUEUED,
                                                    memory_order_acq_rel, memory_order_relaxed));
    em_node_owner *o = atomic_load_explicit(&n->owner, memory_order_relaxed);
    em_node *head = atomic_load(&o->queue);
    do {
        n->merge_next = head;
    } while (!atomic_compare_exchange_weak(&o->queue, &head, n));
    if (atomic_load(&o->gone)) owner_drain(t, o);
}

/* The owner's count of n reached zero while other threads hold references: from now on they
 * count alone, and the last one frees n (or the merge of the owner's queue, when n waits there).
 * True when n is free after all. */
__attribute__((noinline, cold)) static bool node_merge(em_node *n) {
    atomic_store_explicit(&n->owner, &em_node_nobody, memory_order_relaxed);
    int s = atomic_fetch_or_explicit(&n->shared, EM_NODE_MERGED, memory_order_acq_rel);
    return (s | EM_NODE_MERGED) == EM_NODE_MERGED;
}

/* Drops one reference; true when it was the last, and the caller frees n. */
static inline bool node_drop(em_thread *t, em_node *n) {
    if (atomic_load_explicit(&n->owner, memory_order_relaxed) == t->node_owner) {
        int b = atomic_load_explicit(&n->biased, memory_order_relaxed) - 1;
        atomic_store_explicit(&n->biased, b, memory_order_relaxed);
        if (b > 0) return false;
        /* No shared reference and no flag: nobody else holds n, so nobody can add one. */
        return atomic_load_explicit(&n->shared, memory_order_acquire) == 0 || node_merge(n);
    }
    int s = atomic_fetch_sub_explicit(&n->shared, EM_NODE_REF, memory_order_acq_rel) - EM_NODE_REF;
    if (s & EM_NODE_MERGED) return s == EM_NODE_MERGED;
    if (s < 0) node_queue(t, n);
    return false;
}

static void node_free(em_thread *t, em_node *n) {
    if (t->node_free_count >= EM_NODE_CACHE_MAX) {
        free(n);
        return;
    }
    /* A thread that frees nodes it never made still empties its cache when it exits. */
    if (t->node_free_count == 0 && !t->node_owner) node_thread_arm();
    n->child[0] = t->node_free;
    t->node_free = n;
    t->node_free_count++;
}

/* A node is allocated as whole cache lines; four hold every kind (the leaf fields share storage,
 * jit.h), and a fifth line made building and releasing lazy ops measurably slower. */
_Static_assert(sizeof(em_node) <= 256, "em_node outgrew four cache lines");

/* em_node_new, inlined into the constructors of this file. */
static inline __attribute__((always_inline)) em_node *node_new(em_thread *t, em_op op,
                                                               af_dtype type, const dim_t dims[4]) {
    if (!t->node_owner && !node_thread_start(t)) return NULL;
    /* Nodes other threads released: one relaxed load when there are none. */
    if (atomic_load_explicit(&t->node_owner->queue, memory_order_relaxed))
        owner_drain(t, t->node_owner);
    em_node *n = t->node_free;
    if (n) {
        t->node_free = n->child[0];
        t->node_free_count--;
    } else {
        /* Cache-line aligned, so the fields the walk and the release read (the first 64
         * bytes, jit.h) are one line. */
        n = aligned_alloc(64, (sizeof(*n) + 63) & ~(size_t)63);
        if (!n) return NULL;
    }
    /* Only the fields every node's readers look at are written. strides, offset, val, iparam
     * and gparam belong to one kind of leaf each and are written by that leaf's constructor
     * (em_node_buf, em_node_scalar, af_range, af_iota). Clearing all of the node cost a tenth of a
     * lazy op, and a memset of even the shared part compiles to `rep stos`, slow to start for this
     * size. */
    atomic_init(&n->biased, 1);
    atomic_init(&n->shared, 0);
    atomic_init(&n->owner, t->node_owner);
    n->op = (uint16_t)op;
    n->type = (uint8_t)type;
    n->nchild = 0;
    n->height = 0;
    n->nleaf = 0;
    n->leaf_bytes = 0;
    memcpy(n->dims, dims, sizeof(n->dims));
    n->child[0] = n->child[1] = n->child[2] = NULL;
    n->buf = NULL;
    return n;
}

em_node *em_node_new(em_op op, af_dtype type, const dim_t dims[4]) {
    return node_new(em_thread_self(), op, type, dims);
}

em_node *em_node_op_on(em_thread *t, em_op op, af_dtype type, const dim_t dims[4],
                       em_node *const *child) {
    em_node *n = node_new(t, op, type, dims);
    if (!n) {
        for (int i = 0; i < em_op_arity(op); i++)
            em_node_release_on(t, child[i]);
        return NULL;
    }
    n->nchild = (uint8_t)em_op_arity(op);
    uint16_t h = 0;
    for (int i = 0; i < n->nchild; i++) {
        em_node *c = child[i];
        n->child[i] = c;
        if (c->height > h) h = c->height;
        n->nleaf += c->nleaf;
        n->leaf_bytes += c->leaf_bytes;
    }
    n->height = (uint16_t)(h + 1);
    return n;
}

em_node *em_node_buf(em_buf *buf, af_dtype type, const dim_t dims[4], const dim_t strides[4],
                     dim_t offset) {
    em_node *n = node_new(em_thread_self(), EM_OP_BUF, type, dims);
    if (!n) return NULL;
    em_buf_retain(buf);
    n->buf = buf;
    memcpy(n->strides, strides, sizeof(n->strides));
    n->offset = offset;
    n->xmode = 0;
    n->nleaf = 1;
    n->leaf_bytes = buf->bytes;
    return n;
}

em_node *em_node_scalar(af_dtype type, const dim_t dims[4], em_scalar val) {
    em_node *n = node_new(em_thread_self(), EM_OP_SCALAR, type, dims);
    if (!n) return NULL;
    n->val = val;
    n->nleaf = 1;
    return n;
}

void em_node_release_on(em_thread *t, em_node *n) {
    if (!n) return;
    /* Most releases drop one of several references: nothing more to do. */
    if (node_drop(t, n)) node_free_tree(t, n);
}

/* Frees n, whose last reference is gone, and every child that this leaves without one. Iterative
 * over a small explicit stack so a long chain cannot overflow the C stack. Every node on the
 * stack is owned: its last reference was dropped before it was pushed. */
static void node_free_tree(em_thread *t, em_node *n) {
    em_node *stack[64];
    int top = 0;
    stack[top++] = n;
    while (top > 0) {
        em_node *cur = stack[--top];
        for (int i = 0; i < cur->nchild; i++) {
            em_node *c = cur->child[i];
            if (top < 64) {
                if (node_drop(t, c)) stack[top++] = c;
            } else {
                em_node_release_on(t, c);
            }
        }
        if (cur->buf) em_buf_release(cur->buf);
        node_free(t, cur);
    }
}

/* Post-order walk that numbers each distinct node once. An open-addressing table maps shared
 * node pointers to instruction indices so shared subtrees (a*a) are computed once; the table and
 * the instruction list each grow as needed. Most programs share a few leaves, so the inline table
 * is small: clearing it is part of every evaluation. */
#define EM_JIT_SEEN_INLINE 32

typedef struct {
    em_jit_prog *p;
    const em_node **seen;
    int *idx;
    size_t mask, used, cap;
    const em_node *seen_inline[EM_JIT_SEEN_INLINE];
    int idx_inline[EM_JIT_SEEN_INLINE];
} prog_builder;

static size_t builder_slot(const prog_builder *b, const em_node *n) {
    size_t i = (((uintptr_t)n >> 4) * 0x9e3779b97f4a7c15ull) & b->mask;
    while (b->seen[i] && b->seen[i] != n)
        i = (i + 1) & b->mask;
    return i;
}

/* Moves a buffer to a larger heap block; `inline_buf` says it was not malloc'ed. */
static void *grow_buf(void *buf, bool inline_buf, size_t old_bytes, size_t new_bytes) {
    if (!inline_buf) return realloc(buf, new_bytes);
    void *n = malloc(new_bytes);
    if (n) memcpy(n, buf, old_bytes);
    return n;
}

static bool builder_grow_table(prog_builder *b) {
    size_t tab = (b->mask + 1) * 2;
    const em_node **seen = calloc(tab, sizeof(*seen));
    int *idx = calloc(tab, sizeof(*idx));
    if (!seen || !idx) {
        free(seen);
        free(idx);
        return false;
    }
    prog_builder nb = {.p = b->p, .seen = seen, .idx = idx, .mask = tab - 1};
    for (size_t i = 0; i <= b->mask; i++) {
        if (!b->seen[i]) continue;
        size_t s = builder_slot(&nb, b->seen[i]);
        seen[s] = b->seen[i];
        idx[s] = b->idx[i];
    }
    if (b->seen != b->seen_inline) {
        free(b->seen);
        free(b->idx);
    }
    b->seen = seen;
    b->idx = idx;
    b->mask = tab - 1;
    return true;
}

static bool builder_grow_instr(prog_builder *b) {
    em_jit_prog *p = b->p;
    size_t cap = b->cap * 2;
    bool inl = p->instr == p->instr_inline;
    em_jit_instr *instr = grow_buf(p->instr, inl, b->cap * sizeof(*instr), cap * sizeof(*instr));
    if (!instr) return false;
    p->instr = instr;
    const em_node **leaves =
        grow_buf((void *)p->leaves, inl, b->cap * sizeof(*leaves), cap * sizeof(*leaves));
    if (!leaves) return false;
    p->leaves = leaves;
    b->cap = cap;
    return true;
}

/* Numbers node n, whose operands are instructions args, as the next instruction; a shared node
 * also enters the table. */
static inline int builder_emit(prog_builder *b, const em_node *n, const int32_t args[3],
                               bool shared) {
    em_jit_prog *p = b->p;
    if ((size_t)p->ninstr == b->cap && !builder_grow_instr(b)) return -1;
    if (shared && (b->used + 1) * 2 > b->mask + 1 && !builder_grow_table(b)) return -1;
    int me = p->ninstr++;
    em_jit_instr *ins = &p->instr[me];
    ins->op = n->op;
    ins->type = n->type;
    ins->nargs = n->nchild;
    ins->arg[0] = args[0];
    ins->arg[1] = args[1];
    ins->arg[2] = args[2];
    /* Every node without children is a parameter of the program: buffers, scalars and the
     * generators, whose settings (range dim, iota dims) are read from the leaf. */
    ins->leaf = -1;
    if (n->nchild == 0) {
        ins->leaf = p->nleaf;
        p->leaves[p->nleaf++] = n;
        /* A leaf has no operands; a BUF leaf's index transforms take the place of the first, so
         * the key tells programs that read through different transforms apart. */
        if (n->op == EM_OP_BUF) ins->arg[0] = n->xmode;
    }
    if (shared) {
        size_t slot = builder_slot(b, n);
        b->seen[slot] = n;
        b->idx[slot] = me;
        b->used++;
    }
    return me;
}

static int builder_visit(prog_builder *b, const em_node *n) {
    /* A node with one reference has one parent (or is one root), so the walk meets it once and
     * it needs no entry in the table: the common case of a chain skips both probes. The count
     * cannot read 1 for a node that two parents of this tree hold, since the tree is immutable
     * while it is walked (em_node_refs); a count read too low would only compute a node twice. */
    static const int32_t no_args[3] = {0, 0, 0};
    bool shared = em_node_refs(n) > 1;
    if (shared) {
        size_t slot = builder_slot(b, n);
        if (b->seen[slot]) return b->idx[slot];
    }
    int32_t args[3] = {0, 0, 0};
    for (int i = 0; i < n->nchild; i++) {
        const em_node *c = n->child[i];
        /* An unshared leaf (a scalar, a generator, a buffer used once) is numbered here, without
         * a call: a third of a typical program's nodes. */
        if (c->nchild == 0 && em_node_refs(c) == 1)
            args[i] = builder_emit(b, c, no_args, false);
        else
            args[i] = builder_visit(b, c);
        if (args[i] < 0) return -1;
    }
    return builder_emit(b, n, args, shared);
}

static bool leaf_is_linear(const em_node *n) {
    if (n->op != EM_OP_BUF) return true;
    if (n->xmode) return false;
    dim_t expect = 1;
    for (int d = 0; d < 4; d++) {
        if (n->dims[d] != 1 && n->strides[d] != expect) return false;
        expect *= n->dims[d];
    }
    return true;
}

/* The two words of an instruction in the program's key. Operands past the arity are 0
 * (builder_emit). */
static inline uint64_t instr_word1(const em_jit_instr *in) {
    return (uint64_t)in->op | (uint64_t)in->type << 16 | (uint64_t)in->nargs << 24 |
           (uint64_t)(uint32_t)in->arg[0] << 32;
}
static inline uint64_t instr_word2(const em_jit_instr *in) {
    return (uint64_t)(uint32_t)in->arg[1] | (uint64_t)(uint32_t)in->arg[2] << 32;
}

/* The program's structural key: two words per instruction (instr_word1, instr_word2), whose
 * arity keeps the packing unambiguous, then the instruction count, the linear flag and the
 * outputs. Consecutive instructions go to alternate pairs of lanes, so four independent mixing
 * chains run side by side: one serial chain cost a multiply's latency per word, a tenth of a
 * microsecond for a 24-node program on the GPU machine's host. */
static uint64_t prog_key(const em_jit_prog *p) {
    uint64_t h0 = EM_HASH_SEED, h1 = h0 + 1, h2 = h0 + 2, h3 = h0 + 3;
    int i = 0;
    for (; i + 1 < p->ninstr; i += 2) {
        h0 = em_hash_mix(h0, instr_word1(&p->instr[i]));
        h1 = em_hash_mix(h1, instr_word2(&p->instr[i]));
        h2 = em_hash_mix(h2, instr_word1(&p->instr[i + 1]));
        h3 = em_hash_mix(h3, instr_word2(&p->instr[i + 1]));
    }
    if (i < p->ninstr) {
        h0 = em_hash_mix(h0, instr_word1(&p->instr[i]));
        h1 = em_hash_mix(h1, instr_word2(&p->instr[i]));
    }
    uint64_t key = em_hash_mix(EM_HASH_SEED, (uint64_t)p->ninstr << 1 | p->linear);
    key = em_hash_mix(em_hash_mix(em_hash_mix(em_hash_mix(key, h0), h1), h2), h3);
    for (int k = 0; k < p->nout; k++)
        key = em_hash_mix(key, (uint64_t)p->out[k]);
    return key;
}

af_err em_jit_prog_build(em_node *const *roots, int n, em_jit_prog *out) {
    /* Only the header is cleared: the inline arrays are written before they are read. */
    memset(out, 0, offsetof(em_jit_prog, instr_inline));
    if (n < 1 || n > EM_JIT_MAX_OUTPUTS)
        return em_err(AF_ERR_ARG, __func__, "%d outputs, 1..%d allowed", n, EM_JIT_MAX_OUTPUTS);
    prog_builder b;
    b.p = out;
    b.mask = EM_JIT_SEEN_INLINE - 1;
    b.used = 0;
    b.cap = EM_JIT_INLINE;
    memset(b.seen_inline, 0, sizeof(b.seen_inline));
    b.seen = b.seen_inline;
    b.idx = b.idx_inline;
    out->instr = out->instr_inline;
    out->leaves = out->leaves_inline;
    af_err err = AF_SUCCESS;
    memcpy(out->dims, roots[0]->dims, sizeof(out->dims));
    out->elements = out->dims[0] * out->dims[1] * out->dims[2] * out->dims[3];
    for (int i = 0; i < n; i++) {
        out->out[i] = builder_visit(&b, roots[i]);
        if (out->out[i] < 0) goto oom;
        out->nout++;
    }
    out->linear = true;
    for (int i = 0; i < out->nleaf; i++)
        if (!leaf_is_linear(out->leaves[i])) out->linear = false;
    out->key = prog_key(out);
    /* Uniform leaves that are not linear (broadcast values, jit.h) are read differently by the
     * CUDA generator: they enter the key by position. Only non-linear programs can have them. */
    for (int i = 0; i < out->nleaf && !out->linear; i++) {
        const em_node *l = out->leaves[i];
        if (l->op == EM_OP_BUF && !leaf_is_linear(l) && em_node_buf_uniform(l))
            out->key = em_hash_mix(out->key, (uint64_t)i + 1);
    }
    goto done;
oom:
    err = em_err(AF_ERR_NO_MEM, __func__, "out of host memory building a JIT program");
done:
    if (b.seen != b.seen_inline) {
        free(b.seen);
        free(b.idx);
    }
    if (err != AF_SUCCESS) em_jit_prog_free(out);
    return err;
}

void em_jit_prog_free(em_jit_prog *p) {
    if (p->instr != p->instr_inline) {
        free(p->instr);
        free((void *)p->leaves);
    }
    p->instr = NULL;
    p->leaves = NULL;
}

void em_scalar_store(void *dst, af_dtype t, const em_scalar *v) {
    switch (t) {
    case f32:
        *(float *)dst = (float)v->f[0];
        break;
    case f16:
        *(float *)dst = em_half_to_float(em_float_to_half((float)v->f[0]));
        break;
    case f64:
        *(double *)dst = v->f[0];
        break;
    case c32:
        ((float *)dst)[0] = (float)v->f[0], ((float *)dst)[1] = (float)v->f[1];
        break;
    case c64:
        ((double *)dst)[0] = v->f[0], ((double *)dst)[1] = v->f[1];
        break;
    case b8:
        *(uint8_t *)dst = v->i != 0;
        break;
    case s8:
        *(int8_t *)dst = (int8_t)v->i;
        break;
    case u8:
        *(uint8_t *)dst = (uint8_t)v->u;
        break;
    case s16:
        *(int16_t *)dst = (int16_t)v->i;
        break;
    case u16:
        *(uint16_t *)dst = (uint16_t)v->u;
        break;
    case s32:
        *(int32_t *)dst = (int32_t)v->i;
        break;
    case u32:
        *(uint32_t *)dst = (uint32_t)v->u;
        break;
    case s64:
        *(int64_t *)dst = v->i;
        break;
    case u64:
        *(uint64_t *)dst = v->u;
        break;
    }
}
