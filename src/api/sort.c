/* algorithm.h: af_sort, af_sort_index, af_sort_by_key, af_set_unique, af_set_union and
 * af_set_intersect; and two statistics.h functions built on the same backend slots, af_median
 * (with af_median_all) and af_topk. They live here rather than beside mean and var because
 * they select by order, which is what the sort slots provide.
 *
 * Sorting does not fuse: inputs are read as contiguous buffers (em_array_dense_read, which
 * evaluates a lazy array in place and gathers a view), and each call allocates its outputs and
 * hands them to a backend slot (src/backend/algorithm.h, "Sorting, sets, selection").
 *
 * Order: ascending keys follow one total order on every backend (algorithm.h): -0 equals +0,
 * NaN is above +inf. Every sort is stable, in both directions, as ArrayFire's sort_index and
 * sort_by_key are. Dtypes, empty-input answers and error codes follow ArrayFire 3.10's
 * src/api/c/sort.cpp, set.cpp, median.cpp and topk.cpp, with two deliberate differences:
 * af_topk takes any k up to the length of dim 0 (ArrayFire stops at 256, a limit of its
 * kernel), and its AF_TOPK_STABLE forms select by their MIN/MAX bit (Ember's topk is always
 * stable). */
#include <af/algorithm.h>
#include <af/statistics.h>

#include "../backend/algorithm.h"
#include "../core/array.h"
#include "../core/dev.h"
#include "../core/err.h"

#include <string.h>

/* Key dtypes of sort, sort_index and sort_by_key (ArrayFire's switch, with s8 of 3.10). */
static bool sort_key_ok(af_dtype t) {
    switch (t) {
    case f32:
    case f64:
    case s32:
    case u32:
    case s16:
    case u16:
    case s64:
    case u64:
    case u8:
    case b8:
    case s8:
        return true;
    default:
        return false;
    }
}

/* A fresh dense output on device dev. */
static af_err out_alloc(int dev, af_dtype t, const dim_t dims[4], em_array **out) {
    em_buf *buf = NULL;
    af_err err = em_buf_alloc(dev, (size_t)em_dims_elements(dims) * em_dtype_size(t), &buf);
    if (err != AF_SUCCESS) return err;
    return em_array_from_buf(buf, t, dims, NULL, 0, dev, out);
}

/* An empty handle (0x1x1x1) of dtype t, as ArrayFire's af_create_handle(out, 0, NULL, t). */
static af_err empty_alloc(af_dtype t, em_array **out) {
    const dim_t d[4] = {0, 1, 1, 1};
    return em_array_alloc(t, d, out);
}

/* The sort dimension: ArrayFire's backends answer AF_ERR_NOT_SUPPORTED beyond dim 3. */
static af_err check_sort_dim(const char *fn, int pos, unsigned dim) {
    if (dim > 3)
        return em_err(AF_ERR_NOT_SUPPORTED, fn,
                      "argument %d (dim): %u, sorting is supported along dims 0 to 3", pos, dim);
    return AF_SUCCESS;
}

/* ---------------------------------------------------------------------------------------------
 * sort, sort_index, sort_by_key
 * ------------------------------------------------------------------------------------------- */

af_err af_sort(af_array *out, const af_array in, const unsigned dim, const bool isAscending) {
    af_err err = AF_SUCCESS;
    const char *fn = __func__;
    em_array *a, *res = NULL;
    em_buf *kb = NULL;
    void *kp;
    EM_ARG_NULL(out, 0);
    EM_GET(a, in, 1);
    if (em_array_elements(a) == 0) {
        EM_TRY(em_array_share(a, &res));
        *out = res;
        return AF_SUCCESS;
    }
    if (!sort_key_ok(a->type))
        EM_FAIL(AF_ERR_TYPE, "argument 1 (in): dtype %s cannot be sorted", em_dtype_name(a->type));
    EM_TRY(check_sort_dim(fn, 2, dim));
    EM_NEED_SLOT(algo, sort);
    EM_TRY(em_array_dense_read(a, &kb, &kp));
    EM_TRY(out_alloc(a->dev, a->type, a->dims, &res));
    EM_TRY(em_backend_self.algo->sort(a->dev, a->type, a->dims, (int)dim, isAscending, kp,
                                      res->buf->ptr, NULL, NULL, 0, NULL));
    em_buf_release(kb);
    *out = res;
    return AF_SUCCESS;
fail:
    if (kb) em_buf_release(kb);
    em_array_free(res);
    return err;
}

af_err af_sort_index(af_array *out, af_array *indices, const af_array in, const unsigned dim,
                     const bool isAscending) {
    af_err err = AF_SUCCESS;
    const char *fn = __func__;
    em_array *a, *res = NULL, *idx = NULL;
    em_buf *kb = NULL;
    void *kp;
    EM_ARG_NULL(out, 0);
    EM_ARG_NULL(indices, 1);
    EM_GET(a, in, 2);
    if (em_array_elements(a) == 0) {
        /* ArrayFire makes both empty outputs with the input's dtype, indices included. */
        EM_TRY(empty_alloc(a->type, &res));
        EM_TRY(empty_alloc(a->type, &idx));
    } else {
        if (!sort_key_ok(a->type))
            EM_FAIL(AF_ERR_TYPE, "argument 2 (in): dtype %s cannot be sorted",
                    em_dtype_name(a->type));
        EM_TRY(check_sort_dim(fn, 3, dim));
        EM_NEED_SLOT(algo, sort);
        EM_TRY(em_array_dense_read(a, &kb, &kp));
        EM_TRY(out_alloc(a->dev, a->type, a->dims, &res));
        EM_TRY(out_alloc(a->dev, u32, a->dims, &idx));
        EM_TRY(em_backend_self.algo->sort(a->dev, a->type, a->dims, (int)dim, isAscending, kp,
                                          res->buf->ptr, idx->buf->ptr, NULL, 0, NULL));
        em_buf_release(kb);
    }
    *out = res;
    *indices = idx;
    return AF_SUCCESS;
fail:
    if (kb) em_buf_release(kb);
    em_array_free(res);
    em_array_free(idx);
    return err;
}

/* Value dtypes of sort_by_key: every dtype but f16. */
static bool sort_val_ok(af_dtype t) {
    return t != f16 && em_dtype_valid(t);
}

af_err af_sort_by_key(af_array *out_keys, af_array *out_values, const af_array keys,
                      const af_array values, const unsigned dim, const bool isAscending) {
    af_err err = AF_SUCCESS;
    const char *fn = __func__;
    em_array *k, *v, *ok = NULL, *ov = NULL;
    em_buf *kb = NULL, *vb = NULL;
    void *kp, *vp;
    EM_ARG_NULL(out_keys, 0);
    EM_ARG_NULL(out_values, 1);
    EM_GET(k, keys, 2);
    EM_GET(v, values, 3);
    if (memcmp(k->dims, v->dims, sizeof(k->dims)) != 0)
        EM_FAIL(AF_ERR_SIZE,
                "arguments 2 and 3 (keys, values): dims [%lld %lld %lld %lld] and [%lld %lld "
                "%lld %lld] must be equal",
                (long long)k->dims[0], (long long)k->dims[1], (long long)k->dims[2],
                (long long)k->dims[3], (long long)v->dims[0], (long long)v->dims[1],
                (long long)v->dims[2], (long long)v->dims[3]);
    if (k->dev != v->dev)
        EM_FAIL(AF_ERR_DEVICE, "arguments 2 and 3 (keys, values) live on devices %d and %d", k->dev,
                v->dev);
    if (em_array_elements(k) == 0) {
        /* As ArrayFire: both empty outputs take the keys' dtype. */
        EM_TRY(empty_alloc(k->type, &ok));
        EM_TRY(empty_alloc(k->type, &ov));
    } else {
        if (em_dtype_is_complex(k->type))
            EM_FAIL(AF_ERR_DIFF_TYPE, "argument 2 (keys): complex keys (%s) cannot be sorted",
                    em_dtype_name(k->type));
        if (!sort_key_ok(k->type))
            EM_FAIL(AF_ERR_TYPE, "argument 2 (keys): dtype %s cannot be sorted",
                    em_dtype_name(k->type));
        if (!sort_val_ok(v->type))
            EM_FAIL(AF_ERR_TYPE, "argument 3 (values): dtype %s is not supported",
                    em_dtype_name(v->type));
        EM_TRY(check_sort_dim(fn, 4, dim));
        EM_NEED_SLOT(algo, sort);
        EM_TRY(em_array_dense_read(k, &kb, &kp));
        EM_TRY(em_array_dense_read(v, &vb, &vp));
        EM_TRY(out_alloc(k->dev, k->type, k->dims, &ok));
        EM_TRY(out_alloc(k->dev, v->type, v->dims, &ov));
        EM_TRY(em_backend_self.algo->sort(k->dev, k->type, k->dims, (int)dim, isAscending, kp,
                                          ok->buf->ptr, NULL, vp, em_dtype_size(v->type),
                                          ov->buf->ptr));
        em_buf_release(kb);
        em_buf_release(vb);
    }
    *out_keys = ok;
    *out_values = ov;
    return AF_SUCCESS;
fail:
    if (kb) em_buf_release(kb);
    if (vb) em_buf_release(vb);
    em_array_free(ok);
    em_array_free(ov);
    return err;
}

/* ---------------------------------------------------------------------------------------------
 * set_unique, set_union, set_intersect
 * ------------------------------------------------------------------------------------------- */

/* Dtypes of the set functions (ArrayFire's switch, with s8 of 3.10). */
static bool set_type_ok(af_dtype t) {
    return sort_key_ok(t);
}

/* ArrayFire's isVector: exactly one dimension above 1. */
static bool is_vector(const em_array *a) {
    int ones = 0, big = 0;
    for (int d = 0; d < 4; d++) {
        ones += a->dims[d] == 1;
        big += a->dims[d] > 1;
    }
    return ones == 3 && big == 1;
}

/* Wraps n results from a capacity-cap buffer as a column vector; a result much smaller than its
 * buffer is copied into one of its own size so the slack goes back to the pool. */
static af_err set_result(const char *fn, int dev, af_dtype t, em_buf **buf, dim_t cap, dim_t n,
                         em_array **out) {
    af_err err = AF_SUCCESS;
    size_t es = em_dtype_size(t);
    if (n < cap / 2) {
        em_buf *small = NULL;
        EM_TRY_FN(em_buf_alloc(dev, (size_t)n * es, &small));
        if (n > 0) {
            err = em_backend_self.copy_d2d(dev, small->ptr, (*buf)->ptr, (size_t)n * es);
            if (err != AF_SUCCESS) {
                em_buf_release(small);
                em_err_attribute(fn);
                goto fail;
            }
        }
        em_buf_release(*buf);
        *buf = small;
    }
    const dim_t d[4] = {n, 1, 1, 1};
    err = em_array_from_buf(*buf, t, d, NULL, 0, dev, out);
    *buf = NULL; /* taken over, or released on failure */
fail:
    return err;
}

af_err af_set_unique(af_array *out, const af_array in, const bool is_sorted) {
    af_err err = AF_SUCCESS;
    const char *fn = __func__;
    em_array *a, *res = NULL;
    em_buf *ib = NULL, *ob = NULL;
    void *ip;
    dim_t n = 0;
    EM_ARG_NULL(out, 0);
    EM_GET(a, in, 1);
    dim_t na = em_array_elements(a);
    if (na <= 1) {
        /* Empty and one-element inputs come back as they are, whatever their shape. */
        EM_TRY(em_array_share(a, &res));
        *out = res;
        return AF_SUCCESS;
    }
    if (!is_vector(a))
        EM_FAIL(AF_ERR_ARG, "argument 1 (in): dims [%lld %lld %lld %lld], must be a vector",
                (long long)a->dims[0], (long long)a->dims[1], (long long)a->dims[2],
                (long long)a->dims[3]);
    if (!set_type_ok(a->type))
        EM_FAIL(AF_ERR_TYPE, "argument 1 (in): dtype %s is not supported", em_dtype_name(a->type));
    EM_NEED_SLOT(algo, set_unique);
    EM_TRY(em_array_dense_read(a, &ib, &ip));
    EM_TRY(em_buf_alloc(a->dev, (size_t)na * em_dtype_size(a->type), &ob));
    EM_TRY(em_backend_self.algo->set_unique(a->dev, a->type, ip, na, is_sorted, ob->ptr, &n));
    EM_TRY(set_result(fn, a->dev, a->type, &ob, na, n, &res));
    em_buf_release(ib);
    *out = res;
    return AF_SUCCESS;
fail:
    if (ib) em_buf_release(ib);
    if (ob) em_buf_release(ob);
    return err;
}

/* The checks shared by union and intersect, after their empty-input answers. */
static af_err check_set_pair(const char *fn, const em_array *a, const em_array *b) {
    af_err err = AF_SUCCESS;
    if (!is_vector(a) && em_array_elements(a) != 1)
        EM_FAIL_FN(AF_ERR_ARG, "argument 1 (first): dims [%lld %lld %lld %lld], must be a vector",
                   (long long)a->dims[0], (long long)a->dims[1], (long long)a->dims[2],
                   (long long)a->dims[3]);
    if (!is_vector(b) && em_array_elements(b) != 1)
        EM_FAIL_FN(AF_ERR_ARG, "argument 2 (second): dims [%lld %lld %lld %lld], must be a vector",
                   (long long)b->dims[0], (long long)b->dims[1], (long long)b->dims[2],
                   (long long)b->dims[3]);
    if (a->type != b->type)
        EM_FAIL_FN(AF_ERR_ARG, "arguments 1 and 2 (first, second): dtypes %s and %s must be equal",
                   em_dtype_name(a->type), em_dtype_name(b->type));
    if (!set_type_ok(a->type))
        EM_FAIL_FN(AF_ERR_TYPE, "argument 1 (first): dtype %s is not supported",
                   em_dtype_name(a->type));
    if (a->dev != b->dev)
        EM_FAIL_FN(AF_ERR_DEVICE, "arguments 1 and 2 (first, second) live on devices %d and %d",
                   a->dev, b->dev);
fail:
    return err;
}

/* Union (intersect false) or intersection of two non-empty vectors. */
static af_err set_pair(const char *fn, em_array *a, em_array *b, bool intersect, bool is_unique,
                       em_array **out) {
    af_err err = AF_SUCCESS;
    em_buf *ab = NULL, *bb = NULL, *ob = NULL;
    void *ap, *bp;
    dim_t n = 0, na = em_array_elements(a), nb = em_array_elements(b);
    dim_t cap = intersect ? (na < nb ? na : nb) : na + nb;
    EM_TRY_FN(check_set_pair(fn, a, b));
    if (intersect)
        EM_NEED_SLOT(algo, set_intersect);
    else
        EM_NEED_SLOT(algo, set_union);
    EM_TRY_FN(em_array_dense_read(a, &ab, &ap));
    EM_TRY_FN(em_array_dense_read(b, &bb, &bp));
    EM_TRY_FN(em_buf_alloc(a->dev, (size_t)cap * em_dtype_size(a->type), &ob));
    if (intersect)
        EM_TRY_FN(em_backend_self.algo->set_intersect(a->dev, a->type, ap, na, bp, nb, is_unique,
                                                      ob->ptr, &n));
    else
        EM_TRY_FN(em_backend_self.algo->set_union(a->dev, a->type, ap, na, bp, nb, ob->ptr, &n));
    EM_TRY_FN(set_result(fn, a->dev, a->type, &ob, cap, n, out));
fail:
    if (ab) em_buf_release(ab);
    if (bb) em_buf_release(bb);
    if (ob) em_buf_release(ob);
    return err;
}

af_err af_set_union(af_array *out, const af_array first, const af_array second,
                    const bool is_unique) {
    af_err err = AF_SUCCESS;
    em_array *a, *b, *res = NULL;
    EM_ARG_NULL(out, 0);
    EM_GET(a, first, 1);
    EM_GET(b, second, 2);
    /* As ArrayFire: an empty operand makes the result the other one, unchecked. */
    if (em_array_elements(a) == 0)
        EM_TRY(em_array_share(b, &res));
    else if (em_array_elements(b) == 0)
        EM_TRY(em_array_share(a, &res));
    else
        EM_TRY(set_pair(__func__, a, b, false, is_unique, &res));
    *out = res;
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_set_intersect(af_array *out, const af_array first, const af_array second,
                        const bool is_unique) {
    af_err err = AF_SUCCESS;
    em_array *a, *b, *res = NULL;
    EM_ARG_NULL(out, 0);
    EM_GET(a, first, 1);
    EM_GET(b, second, 2);
    /* As ArrayFire: an empty operand is the (empty) result. */
    if (em_array_elements(a) == 0)
        EM_TRY(em_array_share(a, &res));
    else if (em_array_elements(b) == 0)
        EM_TRY(em_array_share(b, &res));
    else
        EM_TRY(set_pair(__func__, a, b, true, is_unique, &res));
    *out = res;
    return AF_SUCCESS;
fail:
    return err;
}

/* ---------------------------------------------------------------------------------------------
 * statistics.h: median and topk, built on the sort family's slots.
 * ------------------------------------------------------------------------------------------- */

/* Dtypes of median (ArrayFire's switch). */
static bool median_type_ok(af_dtype t) {
    switch (t) {
    case f32:
    case f64:
    case s32:
    case u32:
    case s16:
    case u16:
    case u8:
        return true;
    default:
        return false;
    }
}

af_err af_median(af_array *out, const af_array in, const dim_t dim) {
    af_err err = AF_SUCCESS;
    const char *fn = __func__;
    em_array *a, *res = NULL;
    em_buf *ib = NULL;
    void *ip;
    EM_ARG_NULL(out, 0);
    EM_GET(a, in, 1);
    if (dim < 0 || dim > 3)
        EM_FAIL(AF_ERR_ARG, "argument 2 (dim): %lld, must be 0 to 3", (long long)dim);
    if (em_array_elements(a) == 0) EM_FAIL(AF_ERR_ARG, "argument 1 (in) is empty");
    if (!median_type_ok(a->type))
        EM_FAIL(AF_ERR_TYPE, "argument 1 (in): dtype %s is not supported", em_dtype_name(a->type));
    if (a->dims[dim] == 1) {
        /* A line of one element is its own median, in the input's dtype (ArrayFire's shortcut,
         * which skips the conversion to f32 of integer inputs). */
        EM_TRY(em_array_share(a, &res));
        *out = res;
        return AF_SUCCESS;
    }
    EM_NEED_SLOT(algo, median);
    af_dtype ot = a->type == f64 ? f64 : f32;
    dim_t od[4] = {a->dims[0], a->dims[1], a->dims[2], a->dims[3]};
    od[dim] = 1;
    EM_TRY(em_array_dense_read(a, &ib, &ip));
    EM_TRY(out_alloc(a->dev, ot, od, &res));
    EM_TRY(em_backend_self.algo->median(a->dev, a->type, ip, a->dims, (int)dim, ot, res->buf->ptr));
    em_buf_release(ib);
    *out = res;
    return AF_SUCCESS;
fail:
    if (ib) em_buf_release(ib);
    em_array_free(res);
    return err;
}

af_err af_median_all(double *realVal, double *imagVal, const af_array in) {
    af_err err = AF_SUCCESS;
    const char *fn = __func__;
    em_array *a;
    em_buf *ib = NULL, *ob = NULL;
    void *ip;
    double r = 0;
    (void)imagVal; /* ArrayFire leaves it untouched: the median of real input is real */
    EM_ARG_NULL(realVal, 0);
    EM_GET(a, in, 2);
    if (em_array_elements(a) == 0) EM_FAIL(AF_ERR_ARG, "argument 2 (in) is empty");
    if (!median_type_ok(a->type))
        EM_FAIL(AF_ERR_TYPE, "argument 2 (in): dtype %s is not supported", em_dtype_name(a->type));
    EM_NEED_SLOT(algo, median);
    /* ArrayFire computes the median of all elements in double: the middle element, or the mean
     * of the two middle elements taken as doubles. That is the median slot with f64 output. */
    const dim_t d[4] = {em_array_elements(a), 1, 1, 1};
    EM_TRY(em_array_dense_read(a, &ib, &ip));
    EM_TRY(em_buf_alloc(a->dev, sizeof(double), &ob));
    EM_TRY(em_backend_self.algo->median(a->dev, a->type, ip, d, 0, f64, ob->ptr));
    EM_TRY(em_backend_self.copy_d2h(a->dev, &r, ob->ptr, sizeof(double)));
    *realVal = r;
fail:
    if (ib) em_buf_release(ib);
    if (ob) em_buf_release(ob);
    return err;
}

af_err af_topk(af_array *values, af_array *indices, const af_array in, const int k, const int dim,
               const af_topk_function order) {
    af_err err = AF_SUCCESS;
    const char *fn = __func__;
    em_array *a, *vals = NULL, *idx = NULL;
    em_buf *ib = NULL;
    void *ip;
    EM_ARG_NULL(values, 0);
    EM_ARG_NULL(indices, 1);
    EM_GET(a, in, 2);
    /* The MIN and MAX bits pick the end; AF_TOPK_DEFAULT (and AF_TOPK_STABLE alone) is MAX.
     * Ember's topk is stable in every form. */
    if ((unsigned)order > 6 || ((int)order & 3) == 3)
        EM_FAIL(AF_ERR_ARG, "argument 5 (order): %d is not an af_topk_function", (int)order);
    bool largest = ((int)order & AF_TOPK_MIN) == 0;
    if (em_array_elements(a) == 0) EM_FAIL(AF_ERR_ARG, "argument 2 (in) is empty");
    if (em_array_elements(a) == 1) {
        /* ArrayFire's shortcut: the element itself, and index 0 as a one-element u32. */
        const dim_t d1[4] = {1, 1, 1, 1};
        uint32_t zero = 0;
        EM_TRY(out_alloc(a->dev, u32, d1, &idx));
        EM_TRY(em_backend_self.copy_h2d(a->dev, idx->buf->ptr, &zero, sizeof(zero)));
        EM_TRY(em_array_share(a, &vals));
        *values = vals;
        *indices = idx;
        return AF_SUCCESS;
    }
    int rdim = dim;
    if (rdim == -1)
        for (int d = 0; d < 4; d++)
            if (a->dims[d] > 1) {
                rdim = d;
                break;
            }
    if (rdim < 0 || rdim > 3)
        EM_FAIL(AF_ERR_ARG, "argument 4 (dim): %d, must be -1 (first non-singleton) or 0 to 3",
                dim);
    if (k <= 0) EM_FAIL(AF_ERR_ARG, "argument 3 (k): %d, must be positive", k);
    if (a->dims[rdim] < k)
        EM_FAIL(AF_ERR_ARG, "argument 3 (k): %d is more than the %lld elements along dim %d", k,
                (long long)a->dims[rdim], rdim);
    if (rdim != 0)
        EM_FAIL(AF_ERR_NOT_SUPPORTED, "argument 4 (dim): topk is supported along dim 0 only");
    switch (a->type) {
    case f32:
    case f64:
    case s32:
    case u32:
    case f16:
        break;
    default:
        EM_FAIL(AF_ERR_TYPE, "argument 2 (in): dtype %s is not supported", em_dtype_name(a->type));
    }
    EM_NEED_SLOT(algo, topk);
    dim_t od[4] = {k, a->dims[1], a->dims[2], a->dims[3]};
    EM_TRY(em_array_dense_read(a, &ib, &ip));
    EM_TRY(out_alloc(a->dev, a->type, od, &vals));
    EM_TRY(out_alloc(a->dev, u32, od, &idx));
    EM_TRY(em_backend_self.algo->topk(a->dev, a->type, ip, a->dims, k, largest, vals->buf->ptr,
                                      idx->buf->ptr));
    em_buf_release(ib);
    *values = vals;
    *indices = idx;
    return AF_SUCCESS;
fail:
    if (ib) em_buf_release(ib);
    em_array_free(vals);
    em_array_free(idx);
    return err;
}
