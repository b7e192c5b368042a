#include "array.h"

#include "dev.h"
#include "err.h"
#include "thread.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Array headers are not returned to the C heap right away. A released header gets a dead tag and
 * waits in its thread's FIFO of EM_HANDLE_QUARANTINE entries before reuse, so a stale handle is
 * caught as AF_ERR_INVALID_ARRAY (rather than read after free) until a thousand newer arrays of
 * that thread have come and gone. The FIFO is per thread so the hot path takes no lock; a
 * thread's FIFO is freed when the thread exits. */
#define EM_HANDLE_QUARANTINE 1024

static pthread_key_t em_fifo_key;
static pthread_once_t em_fifo_once = PTHREAD_ONCE_INIT;

static void fifo_flush(void *unused) {
    (void)unused;
    em_thread *t = em_thread_self();
    while (t->fifo_head) {
        em_array *a = t->fifo_head;
        t->fifo_head = a->next_free;
        free(a);
    }
    t->fifo_tail = NULL;
    t->fifo_count = 0;
}

static void fifo_key_create(void) {
    pthread_key_create(&em_fifo_key, fifo_flush);
}

/* A header for a new array; t is the calling thread's state. */
static em_array *header_new(em_thread *t) {
    em_array *a = NULL;
    if (t->fifo_count > EM_HANDLE_QUARANTINE) {
        a = t->fifo_head;
        t->fifo_head = a->next_free;
        if (!t->fifo_head) t->fifo_tail = NULL;
        t->fifo_count--;
    }
    if (!a) a = malloc(sizeof(*a));
    if (!a) return NULL;
    /* Only the links and the offset: every caller writes the tag, type, device, dims and
     * strides itself. (A memset, or a zero compound literal, of this size compiles to
     * `rep stos`, whose start-up cost was a visible part of a lazy op.) */
    a->magic = 0;
    a->offset = 0;
    a->buf = NULL;
    a->node = NULL;
    a->leaf = NULL;
    a->next_free = NULL;
    return a;
}

void em_array_free(em_array *a) {
    if (!a) return;
    em_thread *t = em_thread_self();
    em_array_drop_leaf(a);
    if (a->node) em_node_release_on(t, a->node);
    if (a->buf) em_buf_release(a->buf);
    a->node = NULL;
    a->buf = NULL;
    a->magic = EM_ARRAY_MAGIC_DEAD;
    a->next_free = NULL;
    if (t->fifo_count == 0 && !t->fifo_head) {
        /* Arm the thread-exit flush the first time this thread quarantines a header. */
        pthread_once(&em_fifo_once, fifo_key_create);
        pthread_setspecific(em_fifo_key, (void *)1);
    }
    if (t->fifo_tail)
        t->fifo_tail->next_free = a;
    else
        t->fifo_head = a;
    t->fifo_tail = a;
    t->fifo_count++;
}

af_err em_array_get_slow(const char *fn, int pos, const void *handle) {
    const em_array *a = handle;
    if (!a) return em_err(AF_ERR_ARG, fn, "argument %d is a NULL array handle", pos);
    uint32_t magic = a->magic;
    if ((magic & 0xffffff00u) == EM_ARRAY_MAGIC_BASE)
        return em_err(AF_ERR_ARR_BKND_MISMATCH, fn,
                      "argument %d belongs to another backend than %s", pos, em_backend_self.name);
    return em_err(AF_ERR_INVALID_ARRAY, fn, "argument %d is not a live array (released?)", pos);
}

unsigned em_dims_ndims(const dim_t d[4]) {
    if (em_dims_elements(d) == 0) return 0;
    for (unsigned n = 4; n > 1; n--)
        if (d[n - 1] != 1) return n;
    return 1;
}

void em_dims_dense_strides(const dim_t dims[4], dim_t strides[4]) {
    strides[0] = 1;
    for (int i = 1; i < 4; i++)
        strides[i] = strides[i - 1] * dims[i - 1];
}

af_err em_dims_from_user(const char *fn, int pos, unsigned ndims, const dim_t *dims, dim_t out[4]) {
    if (ndims < 1 || ndims > 4)
        return em_err(AF_ERR_ARG, fn, "argument %d: ndims is %u, must be 1..4", pos, ndims);
    if (!dims) return em_err(AF_ERR_ARG, fn, "argument %d: dims is NULL", pos + 1);
    dim_t total = 1;
    for (int i = 0; i < 4; i++) {
        dim_t d = (unsigned)i < ndims ? dims[i] : 1;
        if (d < 0)
            return em_err(AF_ERR_SIZE, fn, "argument %d: dims[%d] = %lld is negative", pos + 1, i,
                          (long long)d);
        /* The product itself may not fit in 64 bits, so the message names the factors. */
        if (d > 0 && total > ((dim_t)1 << 48) / d)
            return em_err(AF_ERR_SIZE, fn,
                          "argument %d: dims[%d] = %lld times the %lld elements before it "
                          "exceeds 2^48 elements",
                          pos + 1, i, (long long)d, (long long)total);
        total *= d;
        out[i] = d;
    }
    return AF_SUCCESS;
}

bool em_array_is_dense(const em_array *a) {
    dim_t expect = 1;
    for (int d = 0; d < 4; d++) {
        if (a->dims[d] != 1 && a->strides[d] != expect) return false;
        expect *= a->dims[d];
    }
    return true;
}

/* A lazy array over `node` on `dev`; t is the calling thread's state. */
static af_err array_from_node_on(em_thread *t, em_node *node, int dev, em_array **out) {
    em_array *a = header_new(t);
    if (!a) {
        em_node_release_on(t, node);
        return em_err(AF_ERR_NO_MEM, "em_array_from_node",
                      "out of host memory for an array header");
    }
    a->magic = em_array_magic();
    a->type = (af_dtype)node->type;
    a->dev = dev;
    memcpy(a->dims, node->dims, sizeof(a->dims));
    em_dims_dense_strides(a->dims, a->strides);
    a->node = node;
    *out = a;
    return AF_SUCCESS;
}

af_err em_array_from_node(em_node *node, em_array **out) {
    return array_from_node_on(em_thread_self(), node, em_dev_active(), out);
}

af_err em_array_from_buf(em_buf *buf, af_dtype type, const dim_t dims[4], const dim_t *strides,
                         dim_t offset, int dev, em_array **out) {
    em_array *a = header_new(em_thread_self());
    if (!a) {
        em_buf_release(buf);
        return em_err(AF_ERR_NO_MEM, __func__, "out of host memory for an array header");
    }
    a->magic = em_array_magic();
    a->type = type;
    a->dev = dev;
    memcpy(a->dims, dims, sizeof(a->dims));
    if (strides)
        memcpy(a->strides, strides, sizeof(a->strides));
    else
        em_dims_dense_strides(dims, a->strides);
    a->offset = offset;
    a->buf = buf;
    *out = a;
    return AF_SUCCESS;
}

af_err em_array_alloc(af_dtype type, const dim_t dims[4], em_array **out) {
    em_buf *buf = NULL;
    int dev = em_dev_active();
    af_err err = em_buf_alloc(dev, (size_t)em_dims_elements(dims) * em_dtype_size(type), &buf);
    if (err != AF_SUCCESS) return err;
    return em_array_from_buf(buf, type, dims, NULL, 0, dev, out);
}

af_err em_array_share(const em_array *a, em_array **out) {
    em_thread *t = em_thread_self();
    em_array *b = header_new(t);
    if (!b) return em_err(AF_ERR_NO_MEM, __func__, "out of host memory for an array header");
    *b = *a;
    b->next_free = NULL;
    if (b->buf) em_buf_retain(b->buf);
    if (b->node) em_node_retain_on(t, b->node);
    /* The copy views the same elements, so it shares the leaf too: one node (one kernel
     * parameter) for both handles, and no leaf to make at the copy's first use. */
    b->leaf = __atomic_load_n(&a->leaf, __ATOMIC_ACQUIRE);
    if (b->leaf) em_node_retain_on(t, b->leaf);
    *out = b;
    return AF_SUCCESS;
}

af_err em_array_eval_many(em_array **arrays, int n) {
    /* Group the lazy arrays by dims; each group becomes one program. */
    af_err err = AF_SUCCESS;
    bool done[EM_JIT_MAX_OUTPUTS] = {false};
    for (int start = 0; start < n; start += EM_JIT_MAX_OUTPUTS) {
        int cnt = n - start < EM_JIT_MAX_OUTPUTS ? n - start : EM_JIT_MAX_OUTPUTS;
        memset(done, 0, sizeof(done));
        for (int i = 0; i < cnt; i++) {
            em_array *lead = arrays[start + i];
            if (done[i] || !lead->node) continue;
            em_node *roots[EM_JIT_MAX_OUTPUTS];
            em_array *members[EM_JIT_MAX_OUTPUTS];
            int m = 0;
            for (int j = i; j < cnt; j++) {
                em_array *x = arrays[start + j];
                if (done[j] || !x->node || memcmp(x->dims, lead->dims, sizeof(x->dims)) != 0 ||
                    x->dev != lead->dev)
                    continue;
                /* The same array twice in the list is evaluated once. */
                bool dup = false;
                for (int k = 0; k < m; k++)
                    if (members[k] == x) dup = true;
                done[j] = true;
                if (dup) continue;
                roots[m] = x->node;
                members[m++] = x;
            }
            /* Only the m entries in use are cleared (a whole-array initialiser compiles to a slow
             * `rep stos`). */
            em_buf *bufs[EM_JIT_MAX_OUTPUTS];
            void *ptrs[EM_JIT_MAX_OUTPUTS];
            em_jit_prog prog;
            for (int k = 0; k < m; k++)
                bufs[k] = NULL;
            for (int k = 0; k < m; k++) {
                size_t bytes =
                    (size_t)em_array_elements(members[k]) * em_dtype_size(members[k]->type);
                err = em_buf_alloc(lead->dev, bytes, &bufs[k]);
                if (err != AF_SUCCESS) goto group_fail;
                ptrs[k] = bufs[k]->ptr;
            }
            if (em_array_elements(lead) > 0) {
                err = em_jit_prog_build(roots, m, &prog);
                if (err != AF_SUCCESS) goto group_fail;
                err = em_backend_self.jit_eval(lead->dev, &prog, ptrs);
                em_jit_prog_free(&prog);
                if (err != AF_SUCCESS) goto group_fail;
            }
            for (int k = 0; k < m; k++) {
                em_array *x = members[k];
                em_node_release(x->node);
                x->node = NULL;
                x->buf = bufs[k];
                x->offset = 0;
                em_dims_dense_strides(x->dims, x->strides);
            }
            continue;
        group_fail:
            for (int k = 0; k < m; k++)
                em_buf_release(bufs[k]);
            return err;
        }
    }
    return err;
}

af_err em_array_eval(em_array *a) {
    if (!a->node) return AF_SUCCESS;
    return em_array_eval_many(&a, 1);
}

af_err em_array_make_unique(em_array *a) {
    af_err err = em_array_eval(a);
    if (err != AF_SUCCESS) return err;
    em_array_drop_leaf(a);
    if (em_buf_refs(a->buf) == 1 && a->offset == 0 && em_array_is_dense(a) && !a->buf->read_only)
        return AF_SUCCESS;
    if (em_array_is_dense(a)) {
        /* A dense source is copied byte for byte: exact for every value (through the JIT, f16
         * goes through float and a signalling NaN comes out quieted), and the fastest copy. */
        size_t es = em_dtype_size(a->type), bytes = (size_t)em_array_elements(a) * es;
        em_buf *copy = NULL;
        err = em_buf_alloc(a->dev, bytes, &copy);
        if (err != AF_SUCCESS) return err;
        if (bytes)
            err = em_backend_self.copy_d2d(a->dev, copy->ptr,
                                           (char *)a->buf->ptr + (size_t)a->offset * es, bytes);
        if (err != AF_SUCCESS) {
            em_buf_release(copy);
            return err;
        }
        em_buf_release(a->buf);
        a->buf = copy;
        a->offset = 0;
        em_dims_dense_strides(a->dims, a->strides);
        return AF_SUCCESS;
    }
    /* A node of its own, not the cached leaf: the array's buffer is about to change. */
    em_node *leaf = em_node_buf(a->buf, a->type, a->dims, a->strides, a->offset);
    if (!leaf) return em_err(AF_ERR_NO_MEM, __func__, "out of host memory for a JIT node");
    em_buf *old = a->buf;
    a->buf = NULL;
    a->node = leaf;
    err = em_array_eval(a);
    if (err != AF_SUCCESS) {
        /* Leave the array as it was. */
        em_node_release(a->node);
        a->node = NULL;
        a->buf = old;
        return err;
    }
    em_buf_release(old);
    return AF_SUCCESS;
}

af_err em_array_dense_read(em_array *a, em_buf **buf, void **ptr) {
    af_err err = em_array_eval(a);
    if (err != AF_SUCCESS) return err;
    size_t es = em_dtype_size(a->type);
    if (em_array_is_dense(a)) {
        em_buf_retain(a->buf);
        *buf = a->buf;
        *ptr = (char *)a->buf->ptr + (size_t)a->offset * es;
        return AF_SUCCESS;
    }
    /* A view: gather it through the JIT into a fresh dense buffer. */
    em_node *leaf = em_node_buf(a->buf, a->type, a->dims, a->strides, a->offset);
    if (!leaf) return em_err(AF_ERR_NO_MEM, __func__, "out of host memory for a JIT node");
    em_buf *copy = NULL;
    em_jit_prog prog;
    err = em_buf_alloc(a->dev, (size_t)em_array_elements(a) * es, &copy);
    if (err == AF_SUCCESS && em_array_elements(a) > 0) {
        err = em_jit_prog_build(&leaf, 1, &prog);
        if (err == AF_SUCCESS) {
            void *outs[1] = {copy->ptr};
            err = em_backend_self.jit_eval(a->dev, &prog, outs);
            em_jit_prog_free(&prog);
        }
    }
    em_node_release(leaf);
    if (err != AF_SUCCESS) {
        if (copy) em_buf_release(copy);
        return err;
    }
    *buf = copy;
    *ptr = copy->ptr;
    return AF_SUCCESS;
}

af_err em_array_eval_into(em_array *dst, dim_t offset, const dim_t strides[4], em_node *value) {
    em_jit_prog prog;
    af_err err = AF_SUCCESS;
    const dim_t *dims = value->dims;
    if (em_dims_elements(dims) == 0) goto done;
    err = em_jit_prog_build(&value, 1, &prog);
    if (err != AF_SUCCESS) goto done;
    dim_t dense[4];
    em_dims_dense_strides(dims, dense);
    bool contiguous = true;
    for (int d = 0; d < 4; d++)
        if (dims[d] > 1 && strides[d] != dense[d]) contiguous = false;
    if (contiguous) {
        /* A contiguous window is a plain output at an offset: the backends' fastest path. */
        void *outs[1] = {(char *)dst->buf->ptr + (size_t)offset * em_dtype_size(dst->type)};
        err = em_backend_self.jit_eval(dst->dev, &prog, outs);
    } else {
        em_jit_window win = {.ptr = dst->buf->ptr, .offset = offset};
        for (int d = 0; d < 4; d++)
            win.strides[d] = strides[d];
        err = em_backend_self.jit_eval_window(dst->dev, &prog, &win);
    }
    em_jit_prog_free(&prog);
done:
    em_node_release(value);
    return err;
}

af_err em_array_write_window(em_array *dst, dim_t offset, const dim_t strides[4],
                             const dim_t dims[4], em_node *value) {
    (void)dims; /* value's own dims; the parameter documents the window at the call site */
    /* After this, dst's buffer has one reference, so no leaf of `value` reads it (a leaf holds a
     * buffer reference): the window never overlaps the program's inputs. */
    af_err err = em_array_make_unique(dst);
    if (err != AF_SUCCESS) {
        em_node_release(value);
        return err;
    }
    return em_array_eval_into(dst, offset, strides, value);
}

void em_array_drop_leaf(em_array *a) {
    /* Looked at first: most arrays never cached a leaf, and the exchange is a locked
     * instruction on every release. */
    if (!__atomic_load_n(&a->leaf, __ATOMIC_ACQUIRE)) return;
    em_node *leaf = __atomic_exchange_n(&a->leaf, NULL, __ATOMIC_ACQ_REL);
    if (leaf) em_node_release(leaf);
}

af_err em_array_node(const em_array *a, const dim_t dims[4], em_node **out) {
    bool same = memcmp(a->dims, dims, sizeof(a->dims)) == 0;
    if (same && (*out = em_array_node_cached(em_thread_self(), a)) != NULL) return AF_SUCCESS;
    if (!a->node && same) {
        /* The first use of an evaluated array: make its leaf. */
        em_node *leaf = em_node_buf(a->buf, a->type, a->dims, a->strides, a->offset);
        if (!leaf) return em_err(AF_ERR_NO_MEM, __func__, "out of host memory for a JIT node");
        em_node *none = NULL;
        /* The array's reference; a thread that lost the race uses the winner's leaf. */
        if (!__atomic_compare_exchange_n(&((em_array *)a)->leaf, &none, leaf, false,
                                         __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            em_node_release(leaf);
            leaf = none;
        }
        em_node_retain(leaf);
        *out = leaf;
        return AF_SUCCESS;
    }
    if (a->node) {
        /* A lazy tree viewed with broadcast dims: materialise it first, since every node of a
         * tree carries the output's dims. */
        af_err err = em_array_eval((em_array *)a);
        if (err != AF_SUCCESS) return err;
    }
    dim_t strides[4];
    for (int d = 0; d < 4; d++)
        strides[d] = (a->dims[d] == 1 && dims[d] != 1) ? 0 : a->strides[d];
    em_node *n = em_node_buf(a->buf, a->type, dims, strides, a->offset);
    if (!n) return em_err(AF_ERR_NO_MEM, __func__, "out of host memory for a JIT node");
    *out = n;
    return AF_SUCCESS;
}

af_err em_array_from_op_on(em_thread *t, em_node *node, int dev, em_array **out) {
    em_array *a = NULL;
    af_err err = array_from_node_on(t, node, dev, &a);
    if (err != AF_SUCCESS) return err;
    if (!t->manual_eval && em_node_needs_flush(a->node, dev)) {
        err = em_array_eval(a);
        if (err != AF_SUCCESS) {
            em_array_free(a);
            return err;
        }
    }
    *out = a;
    return AF_SUCCESS;
}

af_err em_array_read(em_array *a, void *host) {
    af_err err = em_array_eval(a);
    if (err != AF_SUCCESS) return err;
    size_t bytes = (size_t)em_array_elements(a) * em_dtype_size(a->type);
    if (bytes == 0) return AF_SUCCESS;
    if (em_array_is_dense(a))
        return em_backend_self.copy_d2h(
            a->dev, host, (char *)a->buf->ptr + a->offset * em_dtype_size(a->type), bytes);
    /* A strided view: gather it densely through the JIT, then copy. */
    em_array tmp = *a;
    em_node *leaf = NULL;
    err = em_array_node(a, a->dims, &leaf);
    if (err != AF_SUCCESS) return err;
    tmp.buf = NULL;
    tmp.node = leaf;
    err = em_array_eval(&tmp);
    if (err == AF_SUCCESS) err = em_backend_self.copy_d2h(a->dev, host, tmp.buf->ptr, bytes);
    if (tmp.node) em_node_release(tmp.node);
    if (tmp.buf) em_buf_release(tmp.buf);
    return err;
}
