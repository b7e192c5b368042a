/* index.h: indexing by sequences and index arrays (af_index, af_index_gen), af_lookup,
 * assignment (af_assign_seq, af_assign_gen), the indexer helpers, and seq.h's af_make_seq.
 *
 * Semantics follow ArrayFire 3.10 (src/api/c/index.cpp and assign.cpp there):
 *  - A sequence's negative begin or end counts from the end (-1 is the last element); the step
 *    may be negative (begin >= end then); af_span {1, 1, 0} selects the whole dimension. It selects
 *    trunc(|end - begin| / |step|) + 1 elements from trunc(begin).
 *  - Fewer sequences than the array has dimensions: af_index and af_assign_seq take element 0 of
 *    each dimension past ndims (ArrayFire's toDims); af_index_gen and af_assign_gen with an index
 *    array span them. ndims 1 on an array of more dimensions indexes the flattened array.
 *  - Errors: a sequence that starts or ends before element 0, runs against its step, or has step 0
 *    without being af_span is AF_ERR_ARG; one that reaches past the dimension is AF_ERR_SIZE.
 *  - Index arrays of any integer or floating dtype; floating values are truncated. Values out of
 *    range are folded into the dimension as ArrayFire's kernels fold them (em_index_fold in
 *    src/backend/index.h), never read outside it. Duplicates are allowed.
 *  - isBatch (gfor) changes nothing here, as in ArrayFire's backends.
 *
 * Where Ember differs, on purpose:
 *  - Indexing by sequences returns a view sharing the parent's buffer (strides and offset), with
 *    no copy, kernel or allocation; ArrayFire copies stepped and reversed views. Writes to a
 *    shared buffer copy first (em_array_make_unique), so the difference is not observable
 *    through values.
 *  - A b8 index array in af_index_gen and af_assign_gen selects the positions where it is true
 *    (what ArrayFire's C++ and Python front ends do through af_where before calling these);
 *    ArrayFire's C functions reject b8 there. af_lookup rejects b8, as ArrayFire does.
 *  - A one-element rhs broadcasts to a window of any shape; ArrayFire's C functions broadcast it
 *    only to a vector window.
 *  - af_assign_gen converts rhs to lhs's dtype as af_assign_seq does (ArrayFire requires equal
 *    dtypes there). Both reject a complex rhs for a real lhs (AF_ERR_TYPE), as ArrayFire does.
 *  - Assignment writes in place when the array written owns its buffer alone, and copies first
 *    (copy on write) when another handle, view or lazy tree shares it, so those keep their
 *    values. With *out == lhs the array written is lhs. With *out != lhs, as in ArrayFire: when
 *    lhs's data is shared (af_get_data_ref_count > 1), *out receives a new array and lhs is left
 *    unchanged; otherwise lhs is written in place and *out receives a second handle to it (the
 *    C++ and Rust front ends then drop the first). Where ArrayFire writes into a buffer that
 *    another handle shares (*out == lhs with a shared lhs), Ember copies first.
 *    When nothing is written (empty rhs or lhs), *out == lhs stays lhs rather than receiving a
 *    second handle, which would leak the caller's first. */
#include <af/data.h>
#include <af/index.h>

#include "../backend/index.h"
#include "../core/dev.h"
#include "jit_build.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* One dimension of an index, resolved against the dimension it indexes: n positions, either a
 * sequence (first, step) or the values of an index array (ptr, type; buf holds a reference). */
typedef struct {
    dim_t n;
    dim_t first;
    double step;
    const void *ptr;
    af_dtype type;
    em_buf *buf;
} idx_dim;

static void idx_release(idx_dim r[4]) {
    for (int d = 0; d < 4; d++)
        if (r[d].buf) {
            em_buf_release(r[d].buf);
            r[d].buf = NULL;
        }
}

static void idx_span(idx_dim *r, dim_t len) {
    r->n = len;
    r->first = 0;
    r->step = 1;
    r->ptr = NULL;
    r->buf = NULL;
}

static inline bool seq_is_span(const af_seq *s) {
    return s->step == 0 && s->begin == 1 && s->end == 1;
}

/* Resolves sequence s of dimension d (length len), argument pos of fn. */
static af_err seq_resolve(const char *fn, int pos, int d, const af_seq *s, dim_t len, idx_dim *r) {
    if (seq_is_span(s)) {
        idx_span(r, len);
        return AF_SUCCESS;
    }
    double b = signbit(s->begin) ? (double)len + s->begin : s->begin;
    double e = signbit(s->end) ? (double)len + s->end : s->end;
    if (!(b >= 0 && e >= 0))
        return em_err(AF_ERR_ARG, fn,
                      "argument %d: sequence (%g, %g, %g) of dimension %d begins or ends before "
                      "its first element (the dimension has %lld)",
                      pos, s->begin, s->end, s->step, d, (long long)len);
    if (s->step == 0 || !isfinite(s->step))
        return em_err(AF_ERR_ARG, fn,
                      "argument %d: sequence (%g, %g, %g) of dimension %d has step %g; step 0 "
                      "is allowed only in af_span (1, 1, 0)",
                      pos, s->begin, s->end, s->step, d, s->step);
    if (s->step < 0 ? b < e : b > e)
        return em_err(AF_ERR_ARG, fn,
                      "argument %d: sequence (%g, %g, %g) of dimension %d runs from %g to %g, "
                      "against the sign of its step",
                      pos, s->begin, s->end, s->step, d, b, e);
    if (b >= (double)len || e >= (double)len)
        return em_err(AF_ERR_SIZE, fn,
                      "argument %d: sequence (%g, %g, %g) of dimension %d reaches index %g, but "
                      "the dimension has %lld elements",
                      pos, s->begin, s->end, s->step, d, b > e ? b : e, (long long)len);
    double q = fabs(e - b) / fabs(s->step) + 1;
    if (q > (double)len)
        return em_err(AF_ERR_SIZE, fn,
                      "argument %d: sequence (%g, %g, %g) of dimension %d selects %g elements of "
                      "its %lld",
                      pos, s->begin, s->end, s->step, d, q, (long long)len);
    r->n = (dim_t)q;
    r->first = (dim_t)b;
    r->step = s->step;
    r->ptr = NULL;
    r->buf = NULL;
    return AF_SUCCESS;
}

/* A view's stride for a sequence step over a parent stride: ArrayFire multiplies in double and
 * truncates (exact for integral steps). */
static inline dim_t seq_stride(dim_t stride, double step) {
    return step == 1 ? stride : (dim_t)((double)stride * step);
}

static af_err dev_check(const char *fn, int pos, const em_array *a) {
    int active = em_dev_active();
    if (a->dev == active) return AF_SUCCESS;
    return em_err(AF_ERR_DEVICE, fn,
                  "argument %d lives on device %d but device %d is active (move it with "
                  "af_copy_array_to_device)",
                  pos, a->dev, active);
}

/* Resolves index array h (argument pos of fn): dense values of an integer or floating dtype;
 * a b8 array (when allow_b8) becomes the s64 positions where it is true. */
static af_err arr_resolve(const char *fn, int pos, af_array h, bool allow_b8, idx_dim *r) {
    af_err err = AF_SUCCESS;
    em_array *a;
    em_buf *mask = NULL;
    void *ptr = NULL;
    r->buf = NULL;
    EM_GET_FN(a, h, pos);
    EM_TRY_FN(dev_check(fn, pos, a));
    if (em_dtype_is_complex(a->type) || (a->type == b8 && !allow_b8))
        EM_FAIL_FN(AF_ERR_ARG,
                   "argument %d: an index array of dtype %s; indices must be of an "
                   "integer or real floating dtype",
                   pos, em_dtype_name(a->type));
    if (a->type == b8) {
        EM_NEED_SLOT(index, mask_positions);
        dim_t n = em_array_elements(a), count = 0;
        EM_TRY_FN(em_array_dense_read(a, &mask, &ptr));
        EM_TRY_FN(em_buf_alloc(a->dev, (size_t)(n > 0 ? n : 1) * sizeof(int64_t), &r->buf));
        if (n > 0)
            EM_TRY_FN(em_backend_self.index->mask_positions(a->dev, ptr, n, r->buf->ptr, &count));
        em_buf_release(mask);
        mask = NULL;
        r->n = count;
        r->ptr = r->buf->ptr;
        r->type = s64;
    } else {
        EM_TRY_FN(em_array_dense_read(a, &r->buf, &ptr));
        r->n = em_array_elements(a);
        r->ptr = ptr;
        r->type = a->type;
    }
    r->first = 0;
    r->step = 1;
    return AF_SUCCESS;
fail:
    if (mask) em_buf_release(mask);
    if (r->buf) em_buf_release(r->buf);
    r->buf = NULL;
    return err;
}

/* The view of `in` (evaluated) that sequences r select: the parent's buffer, strides and offset. */
static af_err seq_view(const em_array *in, const idx_dim r[4], em_array **out) {
    dim_t dims[4], strides[4], offset = in->offset;
    for (int d = 0; d < 4; d++) {
        dims[d] = r[d].n;
        offset += r[d].first * in->strides[d];
        strides[d] = seq_stride(in->strides[d], r[d].step);
    }
    em_buf_retain(in->buf);
    return em_array_from_buf(in->buf, in->type, dims, strides, offset, in->dev, out);
}

/* A header over `in` seen as one column of all its elements: buf must hold them contiguously from
 * element `offset` (em_array_dense_read's result). The header borrows buf (no reference). */
static void flat_header(em_array *tmp, const em_array *in, em_buf *buf, dim_t offset) {
    memset(tmp, 0, sizeof(*tmp));
    tmp->magic = in->magic;
    tmp->type = in->type;
    tmp->dev = in->dev;
    dim_t n = em_array_elements(in);
    tmp->dims[0] = n;
    tmp->dims[1] = tmp->dims[2] = tmp->dims[3] = 1;
    tmp->strides[0] = 1;
    tmp->strides[1] = tmp->strides[2] = tmp->strides[3] = n;
    tmp->buf = buf;
    tmp->offset = offset;
}

/* Element offset of ptr in buf. */
static inline dim_t buf_offset(const em_buf *buf, const void *ptr, af_dtype type) {
    return (dim_t)(((const char *)ptr - (const char *)buf->ptr) / (ptrdiff_t)em_dtype_size(type));
}

/* Gathers the elements of `in` that r selects into a new dense array. */
static af_err gather(const char *fn, em_array *in, const idx_dim r[4], em_array **out) {
    af_err err = AF_SUCCESS;
    em_array *o = NULL;
    dim_t dims[4];
    for (int d = 0; d < 4; d++)
        dims[d] = r[d].n;
    dim_t total = em_dims_elements(dims);
    for (int d = 0; d < 4 && total > 0; d++)
        if (r[d].ptr && in->dims[d] == 0)
            EM_FAIL_FN(AF_ERR_SIZE, "an index array selects from dimension %d, which is empty", d);
    EM_NEED_SLOT(index, gather);
    EM_TRY_FN(em_array_eval(in));
    EM_TRY_FN(em_array_alloc(in->type, dims, &o));
    if (total > 0) {
        em_index_copy p;
        memset(&p, 0, sizeof(p));
        p.es = em_dtype_size(in->type);
        memcpy(p.dims, dims, sizeof(dims));
        p.ptr = in->buf->ptr;
        p.offset = in->offset;
        for (int d = 0; d < 4; d++) {
            em_index_dim *x = &p.dim[d];
            x->len = in->dims[d];
            if (r[d].ptr) {
                x->stride = in->strides[d];
                x->idx = r[d].ptr;
                x->idx_type = r[d].type;
            } else {
                p.offset += r[d].first * in->strides[d];
                x->stride = seq_stride(in->strides[d], r[d].step);
            }
        }
        p.plain = o->buf->ptr;
        em_dims_dense_strides(dims, p.plain_strides);
        EM_TRY_FN(em_backend_self.index->gather(o->dev, &p));
    }
    *out = o;
    return AF_SUCCESS;
fail:
    em_array_free(o);
    return err;
}

/* ---------------------------------------------------------------------------------------------
 * af_index, af_index_gen, af_lookup
 * ------------------------------------------------------------------------------------------- */

/* af_index's work (also af_index_gen's when every index is a sequence): a view. */
static af_err index_seqs(const char *fn, em_array *in, unsigned ndims, const af_seq *seqs,
                         em_array **out) {
    af_err err = AF_SUCCESS;
    idx_dim r[4];
    em_buf *buf = NULL;
    void *ptr = NULL;
    em_array flat, *src = in;
    if (ndims == 1 && em_dims_ndims(in->dims) != 1) {
        /* One sequence over an array of another rank indexes its elements in column-major
         * order. A dense array is viewed as a column where it lies; a strided view is copied
         * to a contiguous buffer first. */
        EM_TRY_FN(em_array_dense_read(in, &buf, &ptr));
        flat_header(&flat, in, buf, buf_offset(buf, ptr, in->type));
        src = &flat;
    } else if (in->node) {
        EM_TRY_FN(em_array_eval(in));
    }
    for (unsigned d = 0; d < 4; d++) {
        if (d < ndims) {
            EM_TRY_FN(seq_resolve(fn, 3, (int)d, &seqs[d], src->dims[d], &r[d]));
        } else {
            /* ArrayFire's toDims: a dimension past ndims keeps its first element. */
            idx_span(&r[d], src->dims[d] < 1 ? src->dims[d] : 1);
        }
    }
    EM_TRY_FN(seq_view(src, r, out));
fail:
    if (buf) em_buf_release(buf);
    return err;
}

af_err af_index(af_array *out, const af_array in, const unsigned ndims, const af_seq *const index) {
    af_err err = AF_SUCCESS;
    const char *fn = __func__;
    em_array *a, *res = NULL;
    EM_ARG_NULL(out, 0);
    EM_GET(a, in, 1);
    if (ndims < 1 || ndims > 4)
        EM_FAIL(AF_ERR_ARG, "argument 2 (ndims) is %u, must be 1..4", ndims);
    EM_ARG_NULL(index, 3);
    EM_TRY(dev_check(fn, 1, a));
    EM_TRY(index_seqs(fn, a, ndims, index, &res));
    *out = res;
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_index_gen(af_array *out, const af_array in, const dim_t ndims,
                    const af_index_t *indices) {
    af_err err = AF_SUCCESS;
    const char *fn = __func__;
    em_array *a, *res = NULL;
    idx_dim r[4] = {{0}};
    em_buf *buf = NULL;
    void *ptr = NULL;
    em_array flat, *src;
    EM_ARG_NULL(out, 0);
    EM_GET(a, in, 1);
    if (ndims < 1 || ndims > 4)
        EM_FAIL(AF_ERR_ARG, "argument 2 (ndims) is %lld, must be 1..4", (long long)ndims);
    EM_ARG_NULL(indices, 3);
    EM_TRY(dev_check(fn, 1, a));
    if (em_array_elements(a) == 0) {
        /* ArrayFire answers an empty input with an empty array of its dtype. */
        const dim_t zero[4] = {0, 1, 1, 1};
        EM_TRY(em_array_alloc(a->type, zero, &res));
        *out = res;
        return AF_SUCCESS;
    }
    bool all_seq = true;
    for (dim_t d = 0; d < ndims; d++)
        if (!indices[d].isSeq) all_seq = false;
    if (all_seq) {
        af_seq seqs[4];
        for (dim_t d = 0; d < ndims; d++)
            seqs[d] = indices[d].idx.seq;
        EM_TRY(index_seqs(fn, a, (unsigned)ndims, seqs, &res));
        *out = res;
        return AF_SUCCESS;
    }
    src = a;
    if (ndims == 1 && em_dims_ndims(a->dims) != 1) {
        EM_TRY(em_array_dense_read(a, &buf, &ptr));
        flat_header(&flat, a, buf, buf_offset(buf, ptr, a->type));
        src = &flat;
    }
    for (int d = 0; d < 4; d++) {
        if (d >= ndims)
            idx_span(&r[d], src->dims[d]);
        else if (indices[d].isSeq)
            EM_TRY(seq_resolve(fn, 3, d, &indices[d].idx.seq, src->dims[d], &r[d]));
        else
            EM_TRY(arr_resolve(fn, 3, indices[d].idx.arr, true, &r[d]));
    }
    EM_TRY(gather(fn, src, r, &res));
    *out = res;
fail:
    idx_release(r);
    if (buf) em_buf_release(buf);
    return err;
}

af_err af_lookup(af_array *out, const af_array in, const af_array indices, const unsigned dim) {
    af_err err = AF_SUCCESS;
    const char *fn = __func__;
    em_array *a, *ix, *res = NULL;
    idx_dim r[4] = {{0}};
    EM_ARG_NULL(out, 0);
    EM_GET(a, in, 1);
    EM_GET(ix, indices, 2);
    dim_t ni = em_array_elements(ix);
    if (ni == 0) {
        /* ArrayFire answers empty indices with a new reference to them. */
        EM_TRY(em_array_share(ix, &res));
        *out = res;
        return AF_SUCCESS;
    }
    if (dim > 3) EM_FAIL(AF_ERR_ARG, "argument 3 (dim) is %u, must be 0..3", dim);
    bool column = ix->dims[0] > 1 && ix->dims[1] == 1 && ix->dims[2] == 1 && ix->dims[3] == 1;
    if (!column && ni != 1)
        EM_FAIL(AF_ERR_ARG,
                "argument 2 (indices) has dims [%lld %lld %lld %lld]; it must be a column or "
                "hold one element",
                (long long)ix->dims[0], (long long)ix->dims[1], (long long)ix->dims[2],
                (long long)ix->dims[3]);
    EM_TRY(dev_check(fn, 1, a));
    for (int d = 0; d < 4; d++) {
        if (d == (int)dim)
            EM_TRY(arr_resolve(fn, 2, indices, false, &r[d]));
        else
            idx_span(&r[d], a->dims[d]);
    }
    EM_TRY(gather(fn, a, r, &res));
    *out = res;
fail:
    idx_release(r);
    return err;
}

/* ---------------------------------------------------------------------------------------------
 * Assignment
 * ------------------------------------------------------------------------------------------- */

/* ArrayFire's isVector: exactly one dimension other than 1, and it is not empty. */
static bool dims_is_vector(const dim_t d[4]) {
    int ones = 0, big = 0;
    for (int i = 0; i < 4; i++) {
        ones += d[i] == 1;
        big += d[i] != 0 && d[i] != 1;
    }
    return ones == 3 && big == 1;
}

/* How rhs fills a window of dims w (ArrayFire's assign rule): when the window is a vector (every
 * dimension before its last non-1 one is 1) and rhs is a vector or one element, rhs must have the
 * window's element count (its elements are laid along the window) or one element (broadcast);
 * otherwise its dims must be the window's. One element also broadcasts to a window of any shape
 * (ArrayFire's C functions reject that; its C++ front end makes the constant array itself). */
static af_err assign_fit(const char *fn, const dim_t w[4], const em_array *rhs) {
    unsigned wn = em_dims_ndims(w);
    dim_t rn = em_array_elements(rhs);
    if (rn == 1) return AF_SUCCESS;
    bool vec = true;
    for (unsigned i = 0; vec && i + 1 < wn; i++)
        vec = w[i] == 1;
    vec = vec && (dims_is_vector(rhs->dims) || rn == 1);
    if (vec) {
        if (rn != em_dims_elements(w))
            return em_err(AF_ERR_SIZE, fn,
                          "argument 4 (rhs) has %lld elements but the indexed region has %lld",
                          (long long)rn, (long long)em_dims_elements(w));
        return AF_SUCCESS;
    }
    for (int i = 0; i < 4; i++)
        if (w[i] != rhs->dims[i])
            return em_err(AF_ERR_SIZE, fn,
                          "argument 4 (rhs) has dims [%lld %lld %lld %lld] but the indexed region "
                          "has [%lld %lld %lld %lld]",
                          (long long)rhs->dims[0], (long long)rhs->dims[1], (long long)rhs->dims[2],
                          (long long)rhs->dims[3], (long long)w[0], (long long)w[1],
                          (long long)w[2], (long long)w[3]);
    return AF_SUCCESS;
}

/* The strides that lay rhs (evaluated) over a window of dims w under assign_fit's rule: its own
 * where the dims agree, 0 everywhere for one element (broadcast), else its one non-1 stride on
 * the window's one non-1 dimension (a vector laid along the window). */
static void assign_strides(const dim_t w[4], const em_array *rhs, dim_t strides[4]) {
    if (memcmp(w, rhs->dims, sizeof(rhs->dims)) == 0) {
        memcpy(strides, rhs->strides, sizeof(rhs->strides));
        return;
    }
    dim_t s = 0;
    for (int i = 0; i < 4; i++)
        if (rhs->dims[i] != 1) s = rhs->strides[i];
    for (int i = 0; i < 4; i++)
        strides[i] = w[i] != 1 ? s : 0;
}

/* A node computing rhs over the window dims w (assign_fit's rule), as dtype `type`. A lazy rhs of
 * the window's dims stays lazy, so it is evaluated straight into the window. */
static af_err assign_value(const em_array *rhs, const dim_t w[4], af_dtype type, em_node **out) {
    if (memcmp(w, rhs->dims, sizeof(rhs->dims)) == 0 || em_array_elements(rhs) == 1)
        return em_jit_input(rhs, w, type, out);
    af_err err = em_array_eval((em_array *)rhs);
    if (err != AF_SUCCESS) return err;
    dim_t strides[4];
    assign_strides(w, rhs, strides);
    em_node *n = em_node_buf(rhs->buf, rhs->type, w, strides, rhs->offset);
    n = em_jit_cast(n, type);
    if (!n) return em_err(AF_ERR_NO_MEM, __func__, "out of host memory for a JIT node");
    *out = n;
    return AF_SUCCESS;
}

static af_err assign_type_check(const char *fn, const em_array *lhs, const em_array *rhs) {
    if (em_dtype_is_complex(rhs->type) && !em_dtype_is_complex(lhs->type))
        return em_err(AF_ERR_TYPE, fn,
                      "argument 4 (rhs) is complex (%s) but lhs is real (%s); take its real part "
                      "or absolute value first",
                      em_dtype_name(rhs->type), em_dtype_name(lhs->type));
    return AF_SUCCESS;
}

/* af_get_data_ref_count of an array: the handles, views and lazy trees that share its data. */
static int data_refs(const em_array *a) {
    if (!a->buf) return em_node_refs(a->node);
    return em_buf_refs(a->buf) - (__atomic_load_n(&a->leaf, __ATOMIC_ACQUIRE) != NULL);
}

/* The array an assignment writes (see the header comment): lhs itself when *out == lhs or when
 * lhs's data is not shared, otherwise a new handle sharing lhs, which the write then makes unique
 * (lhs keeps its values). */
static af_err assign_target(const char *fn, af_array *out, em_array *lhs, em_array **target) {
    if (*out == (af_array)lhs || data_refs(lhs) <= 1) {
        *target = lhs;
        return AF_SUCCESS;
    }
    af_err err = em_array_share(lhs, target);
    if (err != AF_SUCCESS) em_err_attribute(fn);
    return err;
}

/* Writes the result handle of an assignment whose written array is `target`: nothing when the
 * caller passed *out == lhs; a new handle when target is lhs written in place for *out != lhs. */
static af_err assign_finish(const char *fn, af_array *out, em_array *lhs, em_array *target) {
    if (*out == (af_array)lhs) return AF_SUCCESS;
    if (target != lhs) {
        *out = target;
        return AF_SUCCESS;
    }
    em_array *o;
    af_err err = em_array_share(lhs, &o);
    if (err != AF_SUCCESS) {
        em_err_attribute(fn);
        return err;
    }
    *out = o;
    return AF_SUCCESS;
}

/* The output of an assignment that writes nothing: lhs itself, or a new handle sharing it. */
static af_err assign_nothing(const char *fn, af_array *out, em_array *lhs) {
    return assign_finish(fn, out, lhs, lhs);
}

/* The dims, element offset and element strides of the window r selects in a dense array of dims
 * `dims` (offset 0), or in its flattened column when flat is set. */
static void window_of(const dim_t dims[4], const idx_dim r[4], bool flat, dim_t w[4], dim_t *offset,
                      dim_t strides[4]) {
    dim_t dense[4];
    if (flat) {
        dense[0] = 1;
        dense[1] = dense[2] = dense[3] = em_dims_elements(dims);
    } else {
        em_dims_dense_strides(dims, dense);
    }
    *offset = 0;
    for (int d = 0; d < 4; d++) {
        w[d] = r[d].n;
        if (!r[d].ptr) *offset += r[d].first * dense[d];
        strides[d] = r[d].ptr ? dense[d] : seq_stride(dense[d], r[d].step);
    }
}

/* The element range [*lo, *hi] of the buffer that a region reaches (empty: *lo > *hi). */
static void range_of(const dim_t dims[4], const dim_t strides[4], dim_t offset, dim_t *lo,
                     dim_t *hi) {
    *lo = *hi = offset;
    for (int d = 0; d < 4; d++) {
        if (dims[d] <= 0) {
            *lo = 1, *hi = 0;
            return;
        }
        dim_t ext = (dims[d] - 1) * strides[d];
        if (ext < 0)
            *lo += ext;
        else
            *hi += ext;
    }
}

/* True when lhs may be written in place although rhs, a view of the same buffer, shares it: lhs
 * holds a dense buffer from offset 0 that nothing but lhs and rhs (and rhs's cached leaf) refers
 * to, and the written elements [lo, hi] lie outside everything rhs can read. Then no reader sees
 * a value change, and copying the whole buffer first (copy on write) is avoidable: assigning one
 * block of an array from another block of it writes only the block. Drops lhs's cached leaf
 * first, as em_array_make_unique does, so that a lazy tree still reading lhs counts. */
static bool write_beside(em_array *lhs, const em_array *rhs, dim_t lo, dim_t hi) {
    if (rhs == lhs || !lhs->buf || rhs->buf != lhs->buf || lhs->buf->read_only) return false;
    if (lhs->offset != 0 || !em_array_is_dense(lhs)) return false;
    em_array_drop_leaf(lhs);
    int expect = 2 + (__atomic_load_n(&rhs->leaf, __ATOMIC_ACQUIRE) != NULL);
    if (em_buf_refs(lhs->buf) != expect) return false;
    dim_t rlo, rhi;
    range_of(rhs->dims, rhs->strides, rhs->offset, &rlo, &rhi);
    return rlo > rhi || lo > hi || hi < rlo || rhi < lo;
}

static af_err assign_seq_impl(const char *fn, af_array *out, em_array *lhs, unsigned ndims,
                              const af_seq *seqs, em_array *rhs) {
    af_err err = AF_SUCCESS;
    em_array *target = NULL;
    em_node *value = NULL;
    idx_dim r[4];
    dim_t w[4], offset, strides[4];
    bool flat = ndims == 1 && em_dims_ndims(lhs->dims) != 1;
    dim_t shape[4] = {em_array_elements(lhs), 1, 1, 1};
    const dim_t *ldims = flat ? shape : lhs->dims;
    if (!flat && rhs == lhs) {
        /* ArrayFire skips an assignment of an array to itself before looking at the index. */
        EM_TRY_FN(assign_nothing(fn, out, lhs));
        return AF_SUCCESS;
    }
    for (unsigned d = 0; d < 4; d++) {
        if (d < ndims)
            EM_TRY_FN(seq_resolve(fn, 3, (int)d, &seqs[d], ldims[d], &r[d]));
        else
            idx_span(&r[d], ldims[d] < 1 ? ldims[d] : 1);
    }
    unsigned lnd = em_dims_ndims(ldims), rnd = em_dims_ndims(rhs->dims);
    if (lnd < rnd)
        EM_FAIL_FN(AF_ERR_SIZE, "argument 4 (rhs) has %u dimensions, more than lhs's %u", rnd, lnd);
    if (lnd < ndims)
        EM_FAIL_FN(AF_ERR_SIZE, "argument 2 (ndims) is %u, more than lhs's %u dimensions", ndims,
                   lnd);
    EM_TRY_FN(assign_type_check(fn, lhs, rhs));
    if (em_array_elements(rhs) == 0) {
        /* An empty rhs writes nothing. */
        EM_TRY_FN(assign_nothing(fn, out, lhs));
        return AF_SUCCESS;
    }
    window_of(lhs->dims, r, flat, w, &offset, strides);
    EM_TRY_FN(assign_fit(fn, w, rhs));
    EM_TRY_FN(assign_target(fn, out, lhs, &target));
    dim_t lo, hi;
    range_of(w, strides, offset, &lo, &hi);
    bool beside = target == lhs && write_beside(lhs, rhs, lo, hi);
    EM_TRY_FN(assign_value(rhs, w, lhs->type, &value));
    if (beside)
        err = em_array_eval_into(target, offset, strides, value);
    else
        err = em_array_write_window(target, offset, strides, w, value);
    value = NULL; /* consumed */
    if (err != AF_SUCCESS) {
        em_err_attribute(fn);
        goto fail;
    }
    EM_TRY_FN(assign_finish(fn, out, lhs, target));
    return AF_SUCCESS;
fail:
    if (value) em_node_release(value);
    if (target && target != lhs) em_array_free(target);
    return err;
}

af_err af_assign_seq(af_array *out, const af_array lhs, const unsigned ndims,
                     const af_seq *const indices, const af_array rhs) {
    af_err err = AF_SUCCESS;
    const char *fn = __func__;
    em_array *l, *r;
    EM_ARG_NULL(out, 0);
    EM_GET(l, lhs, 1);
    if (ndims < 1 || ndims > 4)
        EM_FAIL(AF_ERR_ARG, "argument 2 (ndims) is %u, must be 1..4", ndims);
    EM_ARG_NULL(indices, 3);
    EM_GET(r, rhs, 4);
    EM_TRY(dev_check(fn, 1, l));
    EM_TRY(dev_check(fn, 4, r));
    EM_TRY(assign_seq_impl(fn, out, l, ndims, indices, r));
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_assign_gen(af_array *out, const af_array lhs, const dim_t ndims,
                     const af_index_t *indices, const af_array rhs) {
    af_err err = AF_SUCCESS;
    const char *fn = __func__;
    em_array *l = NULL, *rh, *target = NULL, *tmp = NULL;
    idx_dim r[4] = {{0}};
    EM_ARG_NULL(out, 0);
    EM_GET(l, lhs, 1);
    if (ndims < 1 || ndims > 4)
        EM_FAIL(AF_ERR_ARG, "argument 2 (ndims) is %lld, must be 1..4", (long long)ndims);
    EM_ARG_NULL(indices, 3);
    EM_GET(rh, rhs, 4);
    EM_TRY(dev_check(fn, 1, l));
    EM_TRY(dev_check(fn, 4, rh));
    bool all_seq = true;
    for (dim_t d = 0; d < ndims; d++)
        if (!indices[d].isSeq) all_seq = false;
    if (all_seq) {
        af_seq seqs[4];
        for (dim_t d = 0; d < ndims; d++)
            seqs[d] = indices[d].idx.seq;
        EM_TRY(assign_seq_impl(fn, out, l, (unsigned)ndims, seqs, rh));
        return AF_SUCCESS;
    }
    if (em_array_elements(rh) == 0 || em_array_elements(l) == 0) {
        /* ArrayFire: an empty rhs leaves lhs as it is; an empty lhs gives an empty array. */
        EM_TRY(assign_nothing(fn, out, l));
        return AF_SUCCESS;
    }
    unsigned lnd = em_dims_ndims(l->dims), rnd = em_dims_ndims(rh->dims);
    if (ndims != 1 && ndims != (dim_t)lnd)
        EM_FAIL(AF_ERR_ARG,
                "argument 2 (ndims) is %lld; with an index array it must be 1 or lhs's number "
                "of dimensions (%u)",
                (long long)ndims, lnd);
    bool flat = ndims == 1 && lnd != 1;
    dim_t shape[4] = {em_array_elements(l), 1, 1, 1};
    const dim_t *ldims = flat ? shape : l->dims;
    if (em_dims_ndims(ldims) < rnd)
        EM_FAIL(AF_ERR_ARG, "argument 4 (rhs) has %u dimensions, more than lhs's %u", rnd,
                em_dims_ndims(ldims));
    EM_TRY(assign_type_check(fn, l, rh));
    for (int d = 0; d < 4; d++) {
        if (d >= ndims)
            idx_span(&r[d], ldims[d]);
        else if (indices[d].isSeq)
            EM_TRY(seq_resolve(fn, 3, d, &indices[d].idx.seq, ldims[d], &r[d]));
        else
            EM_TRY(arr_resolve(fn, 3, indices[d].idx.arr, true, &r[d]));
    }
    dim_t w[4], offset, strides[4];
    window_of(l->dims, r, flat, w, &offset, strides);
    EM_TRY(assign_fit(fn, w, rh));
    EM_NEED_SLOT(index, scatter);
    /* The value first: a lazy rhs is evaluated before lhs is made unique, so a tree that reads
     * lhs's buffer keeps it shared and the write then copies. */
    EM_TRY(em_array_eval(rh));
    EM_TRY(assign_target(fn, out, l, &target));
    /* The elements the scatter may write: an index array's dimension reaches all its positions. */
    dim_t reach[4], lo, hi;
    for (int d = 0; d < 4; d++)
        reach[d] = r[d].ptr ? ldims[d] : w[d];
    range_of(reach, strides, offset, &lo, &hi);
    bool beside = target == l && write_beside(l, rh, lo, hi);
    if (!beside) EM_TRY(em_array_make_unique(target));
    const em_array *val = rh;
    if (rh->type != l->type || (rh->buf == target->buf && !beside)) {
        /* Converted, or read from the buffer about to be written: computed into a temporary
         * first. */
        em_node *n = NULL;
        EM_TRY(assign_value(rh, w, l->type, &n));
        EM_TRY(em_array_from_node(n, &tmp));
        tmp->dev = l->dev;
        EM_TRY(em_array_eval(tmp));
        val = tmp;
    }
    if (em_dims_elements(w) > 0) {
        em_index_copy p;
        memset(&p, 0, sizeof(p));
        p.es = em_dtype_size(l->type);
        memcpy(p.dims, w, sizeof(w));
        p.ptr = target->buf->ptr;
        p.offset = offset;
        for (int d = 0; d < 4; d++) {
            p.dim[d].stride = strides[d];
            p.dim[d].idx = r[d].ptr;
            p.dim[d].idx_type = r[d].type;
            p.dim[d].len = ldims[d];
        }
        p.plain = val->buf->ptr;
        p.plain_offset = val->offset;
        assign_strides(w, val, p.plain_strides);
        EM_TRY(em_backend_self.index->scatter(target->dev, &p));
    }
    if (tmp) em_array_free(tmp);
    tmp = NULL;
    EM_TRY(assign_finish(fn, out, l, target));
    idx_release(r);
    return AF_SUCCESS;
fail:
    if (tmp) em_array_free(tmp);
    if (target && target != l) em_array_free(target);
    idx_release(r);
    return err;
}

/* ---------------------------------------------------------------------------------------------
 * Indexers and af_make_seq
 * ------------------------------------------------------------------------------------------- */

af_err af_create_indexers(af_index_t **indexers) {
    af_err err = AF_SUCCESS;
    EM_ARG_NULL(indexers, 0);
    af_index_t *x = malloc(4 * sizeof(*x));
    if (!x) EM_FAIL(AF_ERR_NO_MEM, "out of host memory for 4 indexers");
    for (int d = 0; d < 4; d++) {
        memset(&x[d], 0, sizeof(x[d]));
        x[d].idx.seq = af_span;
        x[d].isSeq = true;
        x[d].isBatch = false;
    }
    *indexers = x;
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_set_array_indexer(af_index_t *indexer, const af_array idx, const dim_t dim) {
    af_err err = AF_SUCCESS;
    EM_ARG_NULL(indexer, 0);
    EM_ARG_NULL(idx, 1);
    if (dim < 0 || dim > 3)
        EM_FAIL(AF_ERR_ARG, "argument 2 (dim) is %lld, must be 0..3", (long long)dim);
    /* Only the handle is stored, as in ArrayFire: the caller keeps it alive while it is used. */
    memset(&indexer[dim], 0, sizeof(indexer[dim]));
    indexer[dim].idx.arr = idx;
    indexer[dim].isSeq = false;
    indexer[dim].isBatch = false;
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_set_seq_indexer(af_index_t *indexer, const af_seq *idx, const dim_t dim,
                          const bool is_batch) {
    af_err err = AF_SUCCESS;
    EM_ARG_NULL(indexer, 0);
    EM_ARG_NULL(idx, 1);
    if (dim < 0 || dim > 3)
        EM_FAIL(AF_ERR_ARG, "argument 2 (dim) is %lld, must be 0..3", (long long)dim);
    indexer[dim].idx.seq = *idx;
    indexer[dim].isSeq = true;
    indexer[dim].isBatch = is_batch;
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_set_seq_param_indexer(af_index_t *indexer, const double begin, const double end,
                                const double step, const dim_t dim, const bool is_batch) {
    af_err err = AF_SUCCESS;
    EM_ARG_NULL(indexer, 0);
    if (dim < 0 || dim > 3)
        EM_FAIL(AF_ERR_ARG, "argument 4 (dim) is %lld, must be 0..3", (long long)dim);
    indexer[dim].idx.seq = af_make_seq(begin, end, step);
    indexer[dim].isSeq = true;
    indexer[dim].isBatch = is_batch;
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_release_indexers(af_index_t *indexers) {
    /* free(NULL) is a no-op, as delete[] of NULL is in ArrayFire. */
    free(indexers);
    return AF_SUCCESS;
}

/* ArrayFire's backend libraries export af_make_seq too (a program may link libafcpu.so.3 or
 * libafcuda.so.3 directly); the unified library has its own copy. */
af_seq af_make_seq(double begin, double end, double step) {
    af_seq s = {begin, end, step};
    return s;
}
