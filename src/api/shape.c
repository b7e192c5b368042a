/* data.h's shape operations (flip, reorder, shift, tile, join, join_many, pad, diag_create,
 * diag_extract, lower, upper) and blas.h's af_transpose and af_transpose_inplace, which live here
 * beside the other re-indexings rather than with the matrix products.
 *
 * Where the output is an affine re-indexing of the input, the result is a lazy BUF leaf over the
 * input's buffer with new dims, strides and offset, and where needed an index transform per
 * dimension (wrap, clamp, mirror, zero: src/core/jit.h, docs/JIT_OPS.md): flip negates a stride,
 * tile broadcasts (stride 0) or wraps, shift wraps with a shift, pad clamps, mirrors, wraps or
 * reads zero outside the input. lower, upper and diag_create select between the input and zero by
 * comparing RANGE generators. Nothing runs until the result is used, and `a + tile(b)` or
 * `sum(flip(x))` is one pass over memory. Transpose runs a tiled kernel (the backends' shape.c),
 * and join evaluates each input straight into its window of the output.
 *
 * Semantics follow ArrayFire 3.10 (src/api/c/{flip,reorder,shift,tile,join,data,transpose}.cpp):
 * an empty input is returned as is by flip, reorder, shift, tile, pad, lower, upper and
 * transpose; join skips empty inputs; types must match in join (no promotion). */
#include <af/blas.h>
#include <af/data.h>

#include "../backend/index.h"
#include "../core/dev.h"
#include "jit_build.h"

#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------------
 * helpers
 * ------------------------------------------------------------------------------------------- */

/* Shape operations take arrays of the active device, as element-wise operations do
 * (jit_build.c says why), and make their result there. */
static af_err check_dev(const char *fn, int pos, const em_array *a) {
    int active = em_dev_active();
    if (a->dev == active) return AF_SUCCESS;
    return em_err(AF_ERR_DEVICE, fn,
                  "argument %d lives on device %d but device %d is active (move it with "
                  "af_copy_array_to_device)",
                  pos, a->dev, active);
}

/* Where an array's elements can be read: a buffer, strides and an offset. */
typedef struct {
    em_buf *buf; /* borrowed from the array or its node */
    dim_t strides[4];
    dim_t offset;
} src_view;

/* The buffer through which `a` is read: an evaluated array's own (a view keeps its strides), or
 * that of a lazy array which is a plain BUF leaf (a flip or a diag_extract not yet evaluated), so
 * re-indexings compose without an intermediate. Any other lazy array is evaluated first, in
 * place, as af_eval would: its nodes carry its own dims and cannot be re-indexed. */
static af_err source(em_array *a, src_view *v) {
    em_node *n = a->node;
    if (n && n->op == EM_OP_BUF && n->xmode == 0) {
        v->buf = n->buf;
        memcpy(v->strides, n->strides, sizeof(v->strides));
        v->offset = n->offset;
        /* A broadcast dimension of size 1 reads element 0 whatever its stride. */
        return AF_SUCCESS;
    }
    af_err err = em_array_eval(a);
    if (err != AF_SUCCESS) return err;
    v->buf = a->buf;
    memcpy(v->strides, a->strides, sizeof(v->strides));
    v->offset = a->offset;
    return AF_SUCCESS;
}

/* A new BUF leaf over the source with the output's dims and strides; NULL when out of memory. */
static em_node *src_leaf(const src_view *v, af_dtype type, const dim_t dims[4],
                         const dim_t strides[4], dim_t offset) {
    return em_node_buf(v->buf, type, dims, strides, offset);
}

/* Wraps a finished node into the result on the active device (flush rules apply). */
static af_err finish(const char *fn, em_node *n, em_array **out) {
    return em_jit_finish(fn, n, em_dev_active(), out);
}

/* A lazy constant re-shaped: a constant of the new dims (flip, shift, tile and reorder of a
 * constant are constants). */
static bool is_const(const em_array *a) {
    return a->node && a->node->op == EM_OP_SCALAR;
}

static af_err const_with_dims(const char *fn, const em_array *a, const dim_t dims[4],
                              em_array **out) {
    return finish(fn, em_node_scalar(a->type, dims, a->node->val), out);
}

/* The dtype for coordinates along dims a and b: s32 when they fit, else s64. */
static af_dtype coord_type(const dim_t dims[4], int a, int b) {
    return dims[a] < INT32_MAX && dims[b] < INT32_MAX ? s32 : s64;
}

/* A RANGE generator along `dim` of dtype t (coord_type). */
static em_node *range_node(const dim_t dims[4], int dim, af_dtype t) {
    em_node *n = em_node_new(EM_OP_RANGE, t, dims);
    if (n) {
        n->nleaf = 1;
        n->iparam = dim;
    }
    return n;
}

/* ---------------------------------------------------------------------------------------------
 * flip, reorder, shift, tile
 * ------------------------------------------------------------------------------------------- */

af_err af_flip(af_array *out, const af_array in, const unsigned dim) {
    af_err err = AF_SUCCESS;
    em_array *a, *b = NULL;
    src_view v;
    EM_ARG_NULL(out, 0);
    EM_GET(a, in, 1);
    /* ArrayFire answers a dim at or past the array's last dimension (an empty array has none)
     * with the array itself. */
    if (em_dims_ndims(a->dims) <= dim || is_const(a)) {
        EM_TRY(em_array_share(a, &b));
    } else {
        EM_TRY(check_dev(__func__, 1, a));
        EM_TRY(source(a, &v));
        dim_t st[4];
        memcpy(st, v.strides, sizeof(st));
        st[dim] = -st[dim];
        dim_t off = v.offset + (a->dims[dim] - 1) * v.strides[dim];
        EM_TRY(finish(__func__, src_leaf(&v, a->type, a->dims, st, off), &b));
    }
    *out = b;
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_transpose(af_array *out, af_array in, const bool conjugate);

af_err af_reorder(af_array *out, const af_array in, const unsigned x, const unsigned y,
                  const unsigned z, const unsigned w) {
    af_err err = AF_SUCCESS;
    em_array *a, *b = NULL, *t = NULL;
    const unsigned r[4] = {x, y, z, w};
    EM_ARG_NULL(out, 0);
    EM_GET(a, in, 1);
    if (em_array_elements(a) == 0) {
        EM_TRY(em_array_share(a, &b));
        *out = b;
        return AF_SUCCESS;
    }
    /* Every dimension exactly once. */
    bool seen[4] = {false, false, false, false};
    for (int i = 0; i < 4; i++) {
        if (r[i] > 3)
            EM_FAIL(AF_ERR_SIZE, "argument %d: %u is not a dimension (0..3)", i + 2, r[i]);
        if (seen[r[i]])
            EM_FAIL(AF_ERR_SIZE, "argument %d: dimension %u appears twice (each of 0..3 once)",
                    i + 2, r[i]);
        seen[r[i]] = true;
    }
    dim_t od[4];
    for (int i = 0; i < 4; i++)
        od[i] = a->dims[r[i]];
    if (r[0] == 0 && r[1] == 1 && r[2] == 2 && r[3] == 3) {
        EM_TRY(em_array_share(a, &b));
    } else if (is_const(a)) {
        EM_TRY(const_with_dims(__func__, a, od, &b));
    } else if (r[0] == 1 && r[1] == 0) {
        /* Swapping dims 0 and 1 is a transpose: the tiled kernel reads and writes whole cache
         * lines, where a strided gather would not. Dims 2 and 3 then follow as a view. */
        EM_TRY(af_transpose((af_array *)&t, a, false));
        if (r[2] == 2) {
            b = t;
            t = NULL;
        } else {
            EM_TRY(em_array_eval(t));
            dim_t st[4] = {t->strides[0], t->strides[1], t->strides[3], t->strides[2]};
            dim_t td[4] = {t->dims[0], t->dims[1], t->dims[3], t->dims[2]};
            em_buf_retain(t->buf);
            EM_TRY(em_array_from_buf(t->buf, t->type, td, st, t->offset, t->dev, &b));
        }
    } else {
        EM_TRY(check_dev(__func__, 1, a));
        src_view v;
        EM_TRY(source(a, &v));
        dim_t st[4];
        for (int i = 0; i < 4; i++)
            st[i] = v.strides[r[i]];
        if (r[0] == 0 && !a->node) {
            /* Dimension 0 stays: a view of the same buffer with permuted strides, as ArrayFire
             * makes it (no copy; af_get_strides shows the permutation). */
            em_buf_retain(v.buf);
            EM_TRY(em_array_from_buf(v.buf, a->type, od, st, v.offset, a->dev, &b));
        } else {
            EM_TRY(finish(__func__, src_leaf(&v, a->type, od, st, v.offset), &b));
        }
    }
    if (t) em_array_free(t);
    *out = b;
    return AF_SUCCESS;
fail:
    if (t) em_array_free(t);
    return err;
}

af_err af_shift(af_array *out, const af_array in, const int x, const int y, const int z,
                const int w) {
    af_err err = AF_SUCCESS;
    em_array *a, *b = NULL;
    const int s[4] = {x, y, z, w};
    EM_ARG_NULL(out, 0);
    EM_GET(a, in, 1);
    /* Output element c is input element (c - s) mod n in each dimension (a circular shift). */
    dim_t sh[4];
    bool any = false;
    for (int k = 0; k < 4; k++) {
        dim_t n = a->dims[k];
        sh[k] = n > 0 ? ((-(dim_t)s[k]) % n + n) % n : 0;
        any = any || sh[k] != 0;
    }
    if (em_array_elements(a) == 0 || !any || is_const(a)) {
        EM_TRY(em_array_share(a, &b));
    } else {
        EM_TRY(check_dev(__func__, 1, a));
        src_view v;
        EM_TRY(source(a, &v));
        em_node *n = src_leaf(&v, a->type, a->dims, v.strides, v.offset);
        for (int k = 0; k < 4 && n; k++)
            if (sh[k]) em_node_buf_xform(n, k, EM_XF_WRAP, a->dims[k], sh[k]);
        EM_TRY(finish(__func__, n, &b));
    }
    *out = b;
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_tile(af_array *out, const af_array in, const unsigned x, const unsigned y,
               const unsigned z, const unsigned w) {
    af_err err = AF_SUCCESS;
    em_array *a, *b = NULL;
    const unsigned t[4] = {x, y, z, w};
    dim_t od[4];
    EM_ARG_NULL(out, 0);
    EM_GET(a, in, 1);
    if (em_array_elements(a) == 0) {
        EM_TRY(em_array_share(a, &b));
        *out = b;
        return AF_SUCCESS;
    }
    for (int k = 0; k < 4; k++) {
        if (t[k] == 0)
            EM_FAIL(AF_ERR_SIZE, "argument %d: tiling dimension %d zero times gives no elements",
                    k + 2, k);
        if ((dim_t)t[k] > ((dim_t)1 << 48) / a->dims[k])
            EM_FAIL(AF_ERR_SIZE, "argument %d: dims[%d] = %lld tiled %u times overflows", k + 2, k,
                    (long long)a->dims[k], t[k]);
        od[k] = a->dims[k] * (dim_t)t[k];
    }
    EM_TRY(em_dims_from_user(__func__, 2, 4, od, od));
    if (x == 1 && y == 1 && z == 1 && w == 1) {
        EM_TRY(em_array_share(a, &b));
    } else if (is_const(a)) {
        EM_TRY(const_with_dims(__func__, a, od, &b));
    } else {
        /* A dimension of 1 is broadcast (stride 0); a longer one wraps (coordinate mod n). */
        EM_TRY(check_dev(__func__, 1, a));
        src_view v;
        EM_TRY(source(a, &v));
        dim_t st[4];
        for (int k = 0; k < 4; k++)
            st[k] = a->dims[k] == 1 ? 0 : v.strides[k];
        em_node *n = src_leaf(&v, a->type, od, st, v.offset);
        for (int k = 0; k < 4 && n; k++)
            if (a->dims[k] > 1 && t[k] > 1) em_node_buf_xform(n, k, EM_XF_WRAP, a->dims[k], 0);
        EM_TRY(finish(__func__, n, &b));
    }
    *out = b;
    return AF_SUCCESS;
fail:
    return err;
}

/* ---------------------------------------------------------------------------------------------
 * join, join_many
 * ------------------------------------------------------------------------------------------- */

/* Joins of up to this many inputs are one lazy expression; longer ones are written input by
 * input into the output (each input's expression evaluated straight into its window). */
#define EM_JOIN_LAZY_MAX 16

/* The non-empty inputs one after the other along `dim`, in a new array of dims od:
 *  - when every input is an evaluated dense array and each one's window of the output is one
 *    contiguous block (no dimension above `dim` is longer than 1), as byte copies;
 *  - otherwise, for a few inputs, lazily: input k is a leaf reading its buffer at output
 *    coordinate c - start_k along `dim`, guarded by a ZERO transform so that it reads nothing
 *    outside itself, and a chain of selects on the coordinate picks the input that owns each
 *    element (so join fuses into its consumer, and reads each input once);
 *  - otherwise each input is evaluated into its window of a fresh output. */
static af_err join_into(const char *fn, int dim, em_array *const *in, int n, const dim_t od[4],
                        em_array **out) {
    af_err err = AF_SUCCESS;
    em_array *o = NULL;
    af_dtype type = in[0]->type;
    size_t es = em_dtype_size(type);
    dim_t ost[4];
    em_dims_dense_strides(od, ost);
    bool copy = true;
    for (int k = dim + 1; k < 4; k++)
        copy = copy && od[k] == 1;
    for (int i = 0; i < n; i++)
        copy = copy && !in[i]->node && em_array_is_dense(in[i]);
    if (!copy && n <= EM_JOIN_LAZY_MAX) {
        em_node *acc = NULL;
        dim_t end = od[dim];
        for (int i = n - 1; i >= 0; i--) {
            src_view v;
            EM_TRY_FN(source(in[i], &v));
            dim_t start = end - in[i]->dims[dim];
            em_node *x = src_leaf(&v, type, od, v.strides, v.offset);
            if (x) em_node_buf_xform(x, dim, EM_XF_ZERO, in[i]->dims[dim], -start);
            if (i == n - 1) {
                acc = x;
            } else {
                /* coordinate < end of input i: input i, else what follows */
                af_dtype it = coord_type(od, dim, dim);
                em_node *r = range_node(od, dim, it);
                em_node *cond =
                    em_jit_op2(EM_OP_LT, b8, r, em_jit_const_val(it, od, em_jit_scalar_i(it, end)));
                acc = em_jit_op3(EM_OP_SELECT, type, cond, x, acc);
            }
            end = start;
        }
        return finish(fn, acc, out);
    }
    EM_TRY_FN(em_array_alloc(type, od, &o));
    dim_t at = 0;
    for (int i = 0; i < n; i++) {
        em_array *a = in[i];
        dim_t off = at * ost[dim];
        at += a->dims[dim];
        if (copy) {
            size_t bytes = (size_t)em_array_elements(a) * es;
            EM_TRY_FN(em_backend_self.copy_d2d(o->dev, (char *)o->buf->ptr + (size_t)off * es,
                                               (const char *)a->buf->ptr + (size_t)a->offset * es,
                                               bytes));
            continue;
        }
        em_node *v = NULL;
        EM_TRY_FN(em_jit_input(a, a->dims, type, &v));
        EM_TRY_FN(em_array_eval_into(o, off, ost, v));
    }
    *out = o;
    return AF_SUCCESS;
fail:
    em_array_free(o);
    return err;
}

af_err af_join(af_array *out, const int dim, const af_array first, const af_array second) {
    af_err err = AF_SUCCESS;
    em_array *f, *s, *b = NULL;
    EM_ARG_NULL(out, 0);
    EM_GET(f, first, 2);
    EM_GET(s, second, 3);
    if (dim < 0 || dim > 3) EM_FAIL(AF_ERR_ARG, "argument 1 (dim): %d is not 0..3", dim);
    if (f->type != s->type)
        EM_FAIL(AF_ERR_ARG, "arguments 2 and 3: dtypes %s and %s differ (join does not convert)",
                em_dtype_name(f->type), em_dtype_name(s->type));
    /* An empty input contributes nothing: the other is the result, whatever its dims. */
    if (em_array_elements(s) == 0) {
        EM_TRY(em_array_share(f, &b));
    } else if (em_array_elements(f) == 0) {
        EM_TRY(em_array_share(s, &b));
    } else {
        dim_t od[4];
        for (int k = 0; k < 4; k++) {
            if (k != dim && f->dims[k] != s->dims[k])
                EM_FAIL(AF_ERR_SIZE,
                        "arguments 2 and 3: dims[%d] = %lld and %lld differ (only dimension %d, "
                        "the join dimension, may)",
                        k, (long long)f->dims[k], (long long)s->dims[k], dim);
            od[k] = k == dim ? f->dims[k] + s->dims[k] : f->dims[k];
        }
        EM_TRY(check_dev(__func__, 2, f));
        EM_TRY(check_dev(__func__, 3, s));
        em_array *in[2] = {f, s};
        EM_TRY(join_into(__func__, dim, in, 2, od, &b));
    }
    *out = b;
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_join_many(af_array *out, const int dim, const unsigned n_arrays, const af_array *inputs) {
    af_err err = AF_SUCCESS;
    em_array **in = NULL, *b = NULL;
    EM_ARG_NULL(out, 0);
    EM_ARG_NULL(inputs, 3);
    if (n_arrays == 1) {
        /* One array is joined to nothing: ArrayFire returns it before looking at dim. */
        em_array *a;
        EM_GET(a, inputs[0], 3);
        EM_TRY(em_array_share(a, &b));
        *out = b;
        return AF_SUCCESS;
    }
    if (dim < 0 || dim > 3) EM_FAIL(AF_ERR_ARG, "argument 1 (dim): %d is not 0..3", dim);
    if (n_arrays == 0) EM_FAIL(AF_ERR_ARG, "argument 2 (n_arrays) is 0");
    in = malloc(sizeof(*in) * n_arrays);
    if (!in) EM_FAIL(AF_ERR_NO_MEM, "out of host memory");
    int n = 0;
    em_array *lead = NULL, *first = NULL;
    for (unsigned i = 0; i < n_arrays; i++) {
        em_array *a;
        EM_GET(a, inputs[i], 3);
        if (i == 0) first = a;
        if (em_array_elements(a) == 0) continue;
        if (!lead) lead = a;
        if (a->type != lead->type)
            EM_FAIL(AF_ERR_ARG,
                    "argument 3: inputs[%u] has dtype %s, an earlier one %s (join "
                    "does not convert)",
                    i, em_dtype_name(a->type), em_dtype_name(lead->type));
        for (int k = 0; k < 4; k++)
            if (k != dim && a->dims[k] != lead->dims[k])
                EM_FAIL(AF_ERR_SIZE,
                        "argument 3: inputs[%u] has dims[%d] = %lld, an earlier one %lld (only "
                        "dimension %d, the join dimension, may differ)",
                        i, k, (long long)a->dims[k], (long long)lead->dims[k], dim);
        EM_TRY(check_dev(__func__, 3, a));
        in[n++] = a;
    }
    if (n == 0) {
        /* Every input is empty: the first one is the result. */
        EM_TRY(em_array_share(first, &b));
    } else if (n == 1) {
        EM_TRY(em_array_share(in[0], &b));
    } else {
        dim_t od[4];
        memcpy(od, lead->dims, sizeof(od));
        od[dim] = 0;
        for (int i = 0; i < n; i++)
            od[dim] += in[i]->dims[dim];
        EM_TRY(join_into(__func__, dim, in, n, od, &b));
    }
    free(in);
    *out = b;
    return AF_SUCCESS;
fail:
    free(in);
    return err;
}

/* ---------------------------------------------------------------------------------------------
 * pad
 * ------------------------------------------------------------------------------------------- */

af_err af_pad(af_array *out, const af_array in, const unsigned begin_ndims,
              const dim_t *const begin_dims, const unsigned end_ndims, const dim_t *const end_dims,
              const af_border_type pad_type) {
    af_err err = AF_SUCCESS;
    em_array *a, *b = NULL;
    dim_t lo[4] = {0, 0, 0, 0}, hi[4] = {0, 0, 0, 0}, od[4];
    EM_ARG_NULL(out, 0);
    if (begin_ndims < 1 || begin_ndims > 4)
        EM_FAIL(AF_ERR_SIZE, "argument 2 (begin_ndims): %u is not 1..4", begin_ndims);
    if (end_ndims < 1 || end_ndims > 4)
        EM_FAIL(AF_ERR_SIZE, "argument 4 (end_ndims): %u is not 1..4", end_ndims);
    EM_ARG_NULL(begin_dims, 3);
    EM_ARG_NULL(end_dims, 5);
    if ((int)pad_type < AF_PAD_ZERO || (int)pad_type > AF_PAD_PERIODIC)
        EM_FAIL(AF_ERR_ARG, "argument 6 (pad_type): %d is not an af_border_type", (int)pad_type);
    for (unsigned k = 0; k < begin_ndims; k++) {
        if (begin_dims[k] < 0)
            EM_FAIL(AF_ERR_SIZE, "argument 3: begin_dims[%u] = %lld is negative", k,
                    (long long)begin_dims[k]);
        lo[k] = begin_dims[k];
    }
    for (unsigned k = 0; k < end_ndims; k++) {
        if (end_dims[k] < 0)
            EM_FAIL(AF_ERR_SIZE, "argument 5: end_dims[%u] = %lld is negative", k,
                    (long long)end_dims[k]);
        hi[k] = end_dims[k];
    }
    EM_GET(a, in, 1);
    if (em_array_elements(a) == 0) {
        EM_TRY(em_array_share(a, &b));
        *out = b;
        return AF_SUCCESS;
    }
    for (int k = 0; k < 4; k++) {
        if (lo[k] > ((dim_t)1 << 48) || hi[k] > ((dim_t)1 << 48))
            EM_FAIL(AF_ERR_SIZE, "argument %d: padding of dimension %d is too large",
                    lo[k] > hi[k] ? 3 : 5, k);
        od[k] = a->dims[k] + lo[k] + hi[k];
    }
    EM_TRY(em_dims_from_user(__func__, 2, 4, od, od));
    EM_TRY(check_dev(__func__, 1, a));
    src_view v;
    EM_TRY(source(a, &v));
    /* Output coordinate c reads input coordinate c - lo through the border's transform. */
    int mode = pad_type == AF_PAD_SYM             ? EM_XF_MIRROR
               : pad_type == AF_PAD_CLAMP_TO_EDGE ? EM_XF_CLAMP
               : pad_type == AF_PAD_PERIODIC      ? EM_XF_WRAP
                                                  : EM_XF_ZERO;
    dim_t st[4];
    for (int k = 0; k < 4; k++)
        st[k] = a->dims[k] == 1 && mode != EM_XF_ZERO ? 0 : v.strides[k];
    em_node *n = src_leaf(&v, a->type, od, st, v.offset);
    for (int k = 0; k < 4 && n; k++) {
        if (lo[k] == 0 && hi[k] == 0) continue;
        dim_t len = a->dims[k];
        if (mode == EM_XF_WRAP)
            em_node_buf_xform(n, k, mode, len, ((-lo[k]) % len + len) % len);
        else if (mode == EM_XF_ZERO || len > 1)
            em_node_buf_xform(n, k, mode, len, -lo[k]);
        /* else: every border of a dimension of 1 repeats its one element (stride 0). */
    }
    EM_TRY(finish(__func__, n, &b));
    *out = b;
    return AF_SUCCESS;
fail:
    return err;
}

/* ---------------------------------------------------------------------------------------------
 * diag_create, diag_extract, lower, upper
 * ------------------------------------------------------------------------------------------- */

/* An empty array of `type` (dims 0 x 1 x 1 x 1), as af_create_handle with no dims makes. */
static af_err empty_of(af_dtype type, em_array **out) {
    const dim_t d[4] = {0, 1, 1, 1};
    return em_array_alloc(type, d, out);
}

af_err af_diag_create(af_array *out, const af_array in, const int num) {
    af_err err = AF_SUCCESS;
    em_array *a, *b = NULL;
    EM_ARG_NULL(out, 0);
    EM_GET(a, in, 1);
    dim_t n = a->dims[0], S = n + (num < 0 ? -(dim_t)num : (dim_t)num);
    dim_t od[4] = {S, S, a->dims[1], 1};
    if (em_array_elements(a) == 0) {
        /* ArrayFire: no rows give an empty array; no columns, an empty batch of S x S. */
        if (n == 0)
            EM_TRY(empty_of(a->type, &b));
        else
            EM_TRY(em_array_alloc(a->type, od, &b));
        *out = b;
        return AF_SUCCESS;
    }
    if (a->dims[2] != 1 || a->dims[3] != 1)
        EM_FAIL(AF_ERR_SIZE,
                "argument 1: dims [%lld %lld %lld %lld], a vector or a matrix of column vectors "
                "expected",
                (long long)a->dims[0], (long long)a->dims[1], (long long)a->dims[2],
                (long long)a->dims[3]);
    EM_TRY(check_dev(__func__, 1, a));
    /* Column k of the input becomes the num-th diagonal of slice k of an S x S x batch output,
     * S = n + |num|: out(i, j, k) = in(num > 0 ? i : j, k) where j - i == num, else 0. The read
     * along the varying dimension is guarded (ZERO transform) where it passes the input's end. */
    EM_TRY(em_dims_from_user(__func__, 1, 4, od, od));
    src_view v;
    EM_TRY(source(a, &v));
    int along = num >= 0 ? 0 : 1;
    dim_t st[4] = {0, 0, v.strides[1], 0};
    st[along] = v.strides[0];
    em_node *x = src_leaf(&v, a->type, od, st, v.offset);
    if (x && num != 0) em_node_buf_xform(x, along, EM_XF_ZERO, n, 0);
    af_dtype it = coord_type(od, 0, 1);
    em_node *r0 = range_node(od, 0, it), *r1 = range_node(od, 1, it);
    /* j - i == num */
    em_node *cond = em_jit_op2(EM_OP_EQ, b8, em_jit_op2(EM_OP_SUB, it, r1, r0),
                               em_jit_const_val(it, od, em_jit_scalar_i(it, num)));
    em_node *res = em_jit_op3(EM_OP_SELECT, a->type, cond, x, em_jit_const(a->type, od, 0, 0));
    EM_TRY(finish(__func__, res, &b));
    *out = b;
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_diag_extract(af_array *out, const af_array in, const int num) {
    af_err err = AF_SUCCESS;
    em_array *a, *b = NULL;
    EM_ARG_NULL(out, 0);
    EM_GET(a, in, 1);
    if (em_array_elements(a) == 0) {
        EM_TRY(empty_of(a->type, &b));
        *out = b;
        return AF_SUCCESS;
    }
    if (em_dims_ndims(a->dims) < 2)
        EM_FAIL(AF_ERR_SIZE,
                "argument 1: a vector has no diagonal to extract (dims [%lld %lld "
                "%lld %lld])",
                (long long)a->dims[0], (long long)a->dims[1], (long long)a->dims[2],
                (long long)a->dims[3]);
    /* ArrayFire's length: min(d0, d1) - |num|, starting at (-num, 0) below the diagonal and at
     * (0, num) above it. */
    dim_t an = num < 0 ? -(dim_t)num : (dim_t)num;
    dim_t mn = a->dims[0] < a->dims[1] ? a->dims[0] : a->dims[1];
    if (an > mn)
        EM_FAIL(AF_ERR_ARG, "argument 2 (num): diagonal %d lies outside a %lld x %lld matrix", num,
                (long long)a->dims[0], (long long)a->dims[1]);
    const dim_t od[4] = {mn - an, 1, a->dims[2], a->dims[3]};
    if (od[0] == 0) {
        EM_TRY(em_array_alloc(a->type, od, &b));
        *out = b;
        return AF_SUCCESS;
    }
    EM_TRY(check_dev(__func__, 1, a));
    src_view v;
    EM_TRY(source(a, &v));
    const dim_t st[4] = {v.strides[0] + v.strides[1], 0, v.strides[2], v.strides[3]};
    dim_t off = v.offset + (num > 0 ? (dim_t)num * v.strides[1] : an * v.strides[0]);
    EM_TRY(finish(__func__, src_leaf(&v, a->type, od, st, off), &b));
    *out = b;
    return AF_SUCCESS;
fail:
    return err;
}

/* lower (upper = false) or upper triangle of each matrix of the batch: the rest is 0; with
 * unit_diag the diagonal is 1. Lazy: select over RANGE comparisons, fused into the consumer. */
static af_err triangle(const char *fn, af_array *out, const af_array in, bool upper,
                       bool unit_diag) {
    af_err err = AF_SUCCESS;
    em_array *a, *b = NULL;
    em_node *x = NULL;
    EM_ARG_NULL_FN(out, 0, "out");
    EM_GET_FN(a, in, 1);
    if (em_array_elements(a) == 0) {
        EM_TRY_FN(em_array_share(a, &b));
        *out = b;
        return AF_SUCCESS;
    }
    EM_TRY_FN(check_dev(fn, 1, a));
    EM_TRY_FN(em_jit_input(a, a->dims, a->type, &x));
    const dim_t *d = a->dims;
    af_dtype it = coord_type(d, 0, 1);
    em_node *r0 = range_node(d, 0, it), *r1 = range_node(d, 1, it), *diag = NULL;
    if (unit_diag) {
        /* The generators serve both comparisons: one more reference each (the builders consume
         * theirs, and release the other operand when one is NULL). */
        if (r0) em_node_retain(r0);
        if (r1) em_node_retain(r1);
        diag = em_jit_op2(EM_OP_EQ, b8, r0, r1);
    }
    /* Kept: row >= column (lower) or column >= row (upper). */
    em_node *keep = upper ? em_jit_op2(EM_OP_GE, b8, r1, r0) : em_jit_op2(EM_OP_GE, b8, r0, r1);
    em_node *res = em_jit_op3(EM_OP_SELECT, a->type, keep, x, em_jit_const(a->type, d, 0, 0));
    x = NULL;
    if (unit_diag)
        res = em_jit_op3(EM_OP_SELECT, a->type, diag, em_jit_const(a->type, d, 1, 0), res);
    EM_TRY_FN(finish(fn, res, &b));
    *out = b;
    return AF_SUCCESS;
fail:
    if (x) em_node_release(x);
    return err;
}

af_err af_lower(af_array *out, const af_array in, bool is_unit_diag) {
    return triangle(__func__, out, in, false, is_unit_diag);
}

af_err af_upper(af_array *out, const af_array in, bool is_unit_diag) {
    return triangle(__func__, out, in, true, is_unit_diag);
}

/* ---------------------------------------------------------------------------------------------
 * transpose (blas.h: declared with the matrix products, implemented here with the shape
 * operations, since it is a re-indexing and shares their kernels' room)
 * ------------------------------------------------------------------------------------------- */

af_err af_transpose(af_array *out, af_array in, const bool conjugate) {
    const char *fn = __func__;
    af_err err = AF_SUCCESS;
    em_array *a, *b = NULL;
    EM_ARG_NULL(out, 0);
    EM_GET(a, in, 1);
    bool conj = conjugate && em_dtype_is_complex(a->type);
    const dim_t od[4] = {a->dims[1], a->dims[0], a->dims[2], a->dims[3]};
    if (em_array_elements(a) == 0) {
        EM_TRY(em_array_share(a, &b));
    } else if (a->dims[0] == 1 || a->dims[1] == 1) {
        /* A vector (or a batch of them) keeps its element order: a leaf with dims and strides of
         * 0 and 1 swapped, conjugated lazily if asked. */
        EM_TRY(check_dev(__func__, 1, a));
        if (is_const(a) && !conj) {
            EM_TRY(const_with_dims(__func__, a, od, &b));
        } else {
            src_view v;
            EM_TRY(source(a, &v));
            const dim_t st[4] = {v.strides[1], v.strides[0], v.strides[2], v.strides[3]};
            em_node *n = src_leaf(&v, a->type, od, st, v.offset);
            if (conj) n = em_jit_op1(EM_OP_CONJ, a->type, n);
            EM_TRY(finish(__func__, n, &b));
        }
    } else if (is_const(a)) {
        /* A constant's transpose is the constant (conjugated if asked) with swapped dims. */
        em_scalar v = a->node->val;
        if (conj) v.f[1] = -v.f[1];
        EM_TRY(finish(__func__, em_node_scalar(a->type, od, v), &b));
    } else {
        EM_NEED_SLOT(index, transpose);
        EM_TRY(check_dev(__func__, 1, a));
        src_view v;
        EM_TRY(source(a, &v));
        EM_TRY(em_array_alloc(a->type, od, &b));
        size_t es = em_dtype_size(a->type);
        EM_TRY(em_backend_self.index->transpose(b->dev, a->type, b->buf->ptr,
                                                (const char *)v.buf->ptr + (size_t)v.offset * es,
                                                a->dims, v.strides, conj));
    }
    *out = b;
    return AF_SUCCESS;
fail:
    em_array_free(b);
    return err;
}

af_err af_transpose_inplace(af_array in, const bool conjugate) {
    const char *fn = __func__;
    af_err err = AF_SUCCESS;
    em_array *a;
    EM_GET(a, in, 0);
    if (a->dims[0] != a->dims[1])
        EM_FAIL(AF_ERR_SIZE, "argument 0 (in): %lld x %lld is not square", (long long)a->dims[0],
                (long long)a->dims[1]);
    /* A 1 x 1 matrix (a batch of scalars) is left as it is, conjugate or not, as ArrayFire does. */
    if (a->dims[0] <= 1) return AF_SUCCESS;
    EM_NEED_SLOT(index, transpose_inplace);
    EM_TRY(check_dev(__func__, 0, a));
    /* Writes go to a buffer this array owns alone (copy on write). */
    EM_TRY(em_array_make_unique(a));
    EM_TRY(em_backend_self.index->transpose_inplace(a->dev, a->type, a->buf->ptr, a->dims,
                                                    conjugate && em_dtype_is_complex(a->type)));
    return AF_SUCCESS;
fail:
    return err;
}
