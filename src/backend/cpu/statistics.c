/* Statistics on the CPU (algorithm.h, "Statistics"): moments and co-moments in one pass, read
 * through the block evaluator (cpu.h), so an expression is never written to memory.
 *
 * The geometry is the reductions': out[i + inner * o] over j of in[i + inner * (j + len * o)]
 * (everything: inner = 1, len = elements, outer = 1), split into tasks (o, tile of i, chunk of j).
 * A task folds its values group by group: a group is a block of the block evaluator (up to
 * EM_CPU_BLOCK values: a run of one line when inner == 1, else whole steps j of the tile's lines),
 * and for each line of the group it computes the group's own count (or weight sum), mean and sum
 * of squared deviations from that mean in two passes over the values in cache, then merges them
 * into the line's running state with Chan's formulas:
 *     n = na + nb, d = mb - ma, m = ma + d * nb / n, S = Sa + Sb + d^2 * na * nb / n
 * (West's weighted form has the weight sums for na, nb). A chunked task leaves its states as
 * partials, merged in chunk order at the end. Everything is in double; complex values keep the
 * complex square (x - m)^2, whose algebra is the same. */
#include "cpu.h"

#include "../../core/err.h"

#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A line's running moments: n (or the weight sum W), the mean and S = sum w (x - mean)^2, the
 * complex parts in mi and si (0 for real values). */
typedef struct {
    double n, mr, mi, sr, si;
} mstate;

/* A line's running co-moments of x and y. */
typedef struct {
    double n, mx, my, cxx, cyy, cxy;
} cstate;

static void m_merge(mstate *a, double nb, double mr, double mi, double sr, double si) {
    if (!(nb != 0)) return; /* nothing (or a NaN weight sum, kept out of the count) */
    if (a->n == 0) {
        *a = (mstate){nb, mr, mi, sr, si};
        return;
    }
    double n = a->n + nb, dr = mr - a->mr, di = mi - a->mi;
    double f = nb / n, g = a->n * nb / n;
    if (isfinite(dr) && isfinite(di)) {
        a->mr += dr * f;
        a->mi += di * f;
    } else {
        /* An infinite or NaN mean: the weighted average itself (inf + inf stays inf, where the
         * update's inf - inf would be NaN); the deviations are NaN already. */
        a->mr = (a->n * a->mr + nb * mr) / n;
        a->mi = (a->n * a->mi + nb * mi) / n;
    }
    a->sr += sr + (dr * dr - di * di) * g;
    a->si += si + 2 * dr * di * g;
    a->n = n;
}

static void c_merge(cstate *a, const cstate *b) {
    if (b->n == 0) return;
    if (a->n == 0) {
        *a = *b;
        return;
    }
    double n = a->n + b->n, dx = b->mx - a->mx, dy = b->my - a->my;
    double f = b->n / n, g = a->n * b->n / n;
    if (isfinite(dx) && isfinite(dy)) {
        a->mx += dx * f;
        a->my += dy * f;
    } else {
        a->mx = (a->n * a->mx + b->n * b->mx) / n;
        a->my = (a->n * a->my + b->n * b->my) / n;
    }
    a->cxx += b->cxx + dx * dx * g;
    a->cyy += b->cyy + dy * dy * g;
    a->cxy += b->cxy + dx * dy * g;
    a->n = n;
}

/* Converts n values of dtype t (block representation: f32 f64 c32 c64) to doubles: real parts
 * into re, imaginary parts into im (when im is not NULL). */
static void to_double(const void *v, af_dtype t, size_t n, double *re, double *im) {
    switch (t) {
    case f32:
        for (size_t k = 0; k < n; k++)
            re[k] = ((const float *)v)[k];
        break;
    case f64:
        memcpy(re, v, n * sizeof(double));
        break;
    case c32:
        for (size_t k = 0; k < n; k++) {
            re[k] = ((const float *)v)[2 * k];
            im[k] = ((const float *)v)[2 * k + 1];
        }
        break;
    case c64:
        for (size_t k = 0; k < n; k++) {
            re[k] = ((const double *)v)[2 * k];
            im[k] = ((const double *)v)[2 * k + 1];
        }
        break;
    default:
        break;
    }
}

/* The moments of a group of G steps of T lines (value (g, c) at [g * T + c]) merged into
 * acc[0..T). w (NULL: unweighted) holds the weights, xi (NULL: real values) the imaginary parts.
 * s[] is scratch for 5 * T doubles. */
static void group_moments(const double *xr, const double *xi, const double *w, size_t G, size_t T,
                          mstate *acc, double *s) {
    double *nb = s, *sr = s + T, *si = s + 2 * T, *qr = s + 3 * T, *qi = s + 4 * T;
    for (size_t c = 0; c < T; c++)
        nb[c] = w ? 0 : (double)G, sr[c] = si[c] = qr[c] = qi[c] = 0;
    for (size_t g = 0; g < G; g++) {
        const double *x = xr + g * T;
        if (w) {
            const double *wg = w + g * T;
            for (size_t c = 0; c < T; c++)
                nb[c] += wg[c], sr[c] += wg[c] * x[c];
            if (xi)
                for (size_t c = 0; c < T; c++)
                    si[c] += wg[c] * xi[g * T + c];
        } else {
            for (size_t c = 0; c < T; c++)
                sr[c] += x[c];
            if (xi)
                for (size_t c = 0; c < T; c++)
                    si[c] += xi[g * T + c];
        }
    }
    for (size_t c = 0; c < T; c++) {
        sr[c] /= nb[c];
        si[c] /= nb[c];
    }
    for (size_t g = 0; g < G; g++) {
        const double *x = xr + g * T;
        if (!xi) {
            if (w) {
                for (size_t c = 0; c < T; c++) {
                    double d = x[c] - sr[c];
                    qr[c] += w[g * T + c] * (d * d);
                }
            } else {
                for (size_t c = 0; c < T; c++) {
                    double d = x[c] - sr[c];
                    qr[c] += d * d;
                }
            }
        } else {
            for (size_t c = 0; c < T; c++) {
                double dr = x[c] - sr[c], di = xi[g * T + c] - si[c];
                double wk = w ? w[g * T + c] : 1;
                qr[c] += wk * (dr * dr - di * di);
                qi[c] += wk * (2 * dr * di);
            }
        }
    }
    for (size_t c = 0; c < T; c++)
        m_merge(&acc[c], nb[c], sr[c], si[c], qr[c], qi[c]);
}

/* The co-moments of a group (as group_moments, real x and y). s[] holds 6 * T doubles. */
static void group_comoments(const double *x, const double *y, size_t G, size_t T, cstate *acc,
                            double *s) {
    double *mx = s, *my = s + T, *cxx = s + 2 * T, *cyy = s + 3 * T, *cxy = s + 4 * T;
    for (size_t c = 0; c < T; c++)
        mx[c] = my[c] = cxx[c] = cyy[c] = cxy[c] = 0;
    for (size_t g = 0; g < G; g++)
        for (size_t c = 0; c < T; c++)
            mx[c] += x[g * T + c], my[c] += y[g * T + c];
    for (size_t c = 0; c < T; c++)
        mx[c] /= (double)G, my[c] /= (double)G;
    for (size_t g = 0; g < G; g++)
        for (size_t c = 0; c < T; c++) {
            double dx = x[g * T + c] - mx[c], dy = y[g * T + c] - my[c];
            cxx[c] += dx * dx;
            cyy[c] += dy * dy;
            cxy[c] += dx * dy;
        }
    for (size_t c = 0; c < T; c++) {
        cstate b = {(double)G, mx[c], my[c], cxx[c], cyy[c], cxy[c]};
        c_merge(&acc[c], &b);
    }
}

/* The moments of n contiguous real values (f32 or f64) merged into *acc: the block's sum, then
 * its squared deviations from its mean, each over independent lanes so the loops vectorise. */
#define LANES 8
static void run_moments_real(const void *v, af_dtype t, size_t n, mstate *acc) {
    double l[LANES] = {0}, q[LANES] = {0};
    size_t i, nv = n / LANES * LANES;
    const float *xf = v;
    const double *xd = v;
#define EM_X(k) (t == f32 ? (double)xf[k] : xd[k])
    if (t == f32) {
        for (i = 0; i < nv; i += LANES)
            for (int k = 0; k < LANES; k++)
                l[k] += (double)xf[i + k];
    } else {
        for (i = 0; i < nv; i += LANES)
            for (int k = 0; k < LANES; k++)
                l[k] += xd[i + k];
    }
    double sum = 0;
    for (int k = 0; k < LANES; k++)
        sum += l[k];
    for (i = nv; i < n; i++)
        sum += EM_X(i);
    double m = sum / (double)n;
    if (t == f32) {
        for (i = 0; i < nv; i += LANES)
            for (int k = 0; k < LANES; k++) {
                double d = (double)xf[i + k] - m;
                q[k] += d * d;
            }
    } else {
        for (i = 0; i < nv; i += LANES)
            for (int k = 0; k < LANES; k++) {
                double d = xd[i + k] - m;
                q[k] += d * d;
            }
    }
    double s2 = 0;
    for (int k = 0; k < LANES; k++)
        s2 += q[k];
    for (i = nv; i < n; i++) {
        double d = EM_X(i) - m;
        s2 += d * d;
    }
#undef EM_X
    m_merge(acc, (double)n, m, 0, s2, 0);
}

/* ---- the driver ---- */

/* Values per group of lines' steps (see run_task). */
#define EM_STAT_GROUP (16 * EM_CPU_BLOCK)

typedef struct {
    dim_t inner, len, outer;
    dim_t itile, ntile; /* tiles of i: ntile tiles of itile (the last may be shorter) */
    dim_t jchunks;      /* chunks of j per (o, tile) */
} stat_shape;

static void shape_of(const em_jit_prog *p, int dim, stat_shape *s) {
    if (dim < 0) {
        s->inner = 1, s->len = p->elements, s->outer = 1;
    } else {
        s->inner = 1, s->outer = 1;
        for (int d = 0; d < dim; d++)
            s->inner *= p->dims[d];
        for (int d = dim + 1; d < 4; d++)
            s->outer *= p->dims[d];
        s->len = p->dims[dim];
    }
    s->itile = s->inner <= EM_CPU_BLOCK ? s->inner : EM_CPU_BLOCK;
    s->ntile = (s->inner + s->itile - 1) / s->itile;
    dim_t base = s->outer * s->ntile, want = 4 * (dim_t)omp_get_max_threads();
    s->jchunks = 1;
    if (base < want) {
        dim_t by_work = s->len * s->itile / (8 * EM_CPU_BLOCK);
        dim_t c = (want + base - 1) / base;
        if (c > by_work) c = by_work;
        if (c > s->len) c = s->len;
        if (c > 1) s->jchunks = c;
    }
}

/* Per-thread working memory: the block evaluators' scratch and the group buffers. */
typedef struct {
    char *s[2];
    double *a, *b, *c, *tmp;
    void *acc;
} stat_tls;

static void tls_free(stat_tls *t) {
    free(t->s[0]);
    free(t->s[1]);
    free(t->a);
    free(t->b);
    free(t->c);
    free(t->tmp);
    free(t->acc);
}

static bool tls_new(stat_tls *t, em_cpu_block_eval *const *ev, int nev, size_t itile,
                    size_t state) {
    memset(t, 0, sizeof(*t));
    bool ok = true;
    for (int k = 0; k < nev; k++)
        ok = ok && (t->s[k] = em_cpu_block_scratch_new(ev[k])) != NULL;
    size_t n = EM_STAT_GROUP * sizeof(double);
    t->a = malloc(n), t->b = malloc(n), t->c = malloc(n);
    t->tmp = malloc(6 * itile * sizeof(double));
    t->acc = malloc(itile * state);
    ok = ok && t->a && t->b && t->c && t->tmp && t->acc;
    if (!ok) tls_free(t);
    return ok;
}

/* What one call computes. */
typedef struct {
    const em_jit_prog *x, *w; /* comoments: w is y */
    bool co;
    af_dtype tx, tw;
    stat_shape sh;
    em_cpu_block_eval *ev[2];
    int nev;
} stat_job;

/* One task: the lines of `tile` of outer index o over chunk `ch` of j, into acc (T states). */
static void run_task(const stat_job *jb, stat_tls *t, dim_t o, dim_t tile, dim_t ch) {
    const stat_shape *s = &jb->sh;
    dim_t i0 = tile * s->itile;
    dim_t T = s->inner - i0 < s->itile ? s->inner - i0 : s->itile;
    dim_t jl = (s->len + s->jchunks - 1) / s->jchunks;
    dim_t j0 = ch * jl, j1 = j0 + jl < s->len ? j0 + jl : s->len;
    size_t st = jb->co ? sizeof(cstate) : sizeof(mstate);
    memset(t->acc, 0, (size_t)T * st);
    bool cplx = em_dtype_is_complex(jb->tx);
    if (s->inner == 1) {
        /* Runs of one line, a block at a time. */
        dim_t line = s->len * o;
        for (dim_t b = line + j0; b < line + j1; b += EM_CPU_BLOCK) {
            size_t n = (size_t)(line + j1 - b < EM_CPU_BLOCK ? line + j1 - b : EM_CPU_BLOCK);
            const void *v = em_cpu_block_eval_run(jb->ev[0], t->s[0], b, n);
            if (!jb->co && !cplx && jb->nev == 1) {
                run_moments_real(v, jb->tx, n, t->acc);
                continue;
            }
            to_double(v, jb->tx, n, t->a, cplx ? t->c : NULL);
            if (jb->nev > 1)
                to_double(em_cpu_block_eval_run(jb->ev[1], t->s[1], b, n), jb->tw, n, t->b, NULL);
            if (jb->co)
                group_comoments(t->a, t->b, n, 1, t->acc, t->tmp);
            else
                group_moments(t->a, cplx ? t->c : NULL, jb->nev > 1 ? t->b : NULL, n, 1, t->acc,
                              t->tmp);
        }
        return;
    }
    /* Groups of up to gmax steps of the tile's T lines, gathered from blocks of `rows` steps
     * (whole steps of every line when one tile holds them all, else one step of the tile), so
     * that each line's merge (with its divisions) is paid once per group, not per value. */
    dim_t rows = s->ntile == 1 ? EM_CPU_BLOCK / T : 1;
    if (rows < 1) rows = 1;
    dim_t gmax = EM_STAT_GROUP / T;
    for (dim_t g0 = j0; g0 < j1; g0 += gmax) {
        dim_t g1 = g0 + gmax < j1 ? g0 + gmax : j1;
        for (dim_t j = g0; j < g1; j += rows) {
            dim_t m = g1 - j < rows ? g1 - j : rows;
            dim_t at = i0 + s->inner * (j + s->len * o);
            size_t n = (size_t)(m * T), off = (size_t)((j - g0) * T);
            const void *v = em_cpu_block_eval_run(jb->ev[0], t->s[0], at, n);
            to_double(v, jb->tx, n, t->a + off, cplx ? t->c + off : NULL);
            if (jb->nev > 1)
                to_double(em_cpu_block_eval_run(jb->ev[1], t->s[1], at, n), jb->tw, n, t->b + off,
                          NULL);
        }
        size_t G = (size_t)(g1 - g0);
        if (jb->co)
            group_comoments(t->a, t->b, G, (size_t)T, t->acc, t->tmp);
        else
            group_moments(t->a, cplx ? t->c : NULL, jb->nev > 1 ? t->b : NULL, G, (size_t)T, t->acc,
                          t->tmp);
    }
}

/* Runs every task; the states of line q (= i + inner * o) land in out[q] when there is one chunk,
 * else partials are merged in chunk order into out[q]. out holds inner * outer states. */
static af_err run_all(const char *fn, stat_job *jb, void *out) {
    af_err err = AF_SUCCESS;
    const stat_shape *s = &jb->sh;
    size_t st = jb->co ? sizeof(cstate) : sizeof(mstate);
    dim_t nout = s->inner * s->outer, tasks = s->outer * s->ntile * s->jchunks;
    char *part = NULL;
    if (s->jchunks > 1) {
        part = malloc((size_t)(nout * s->jchunks) * st);
        if (!part) EM_FAIL_FN(AF_ERR_NO_MEM, "out of host memory for partial moments");
    }
    int failed = 0;
#pragma omp parallel if (jb->x->elements > 32 * EM_CPU_BLOCK) reduction(| : failed)
    {
        stat_tls t;
        bool ok = tls_new(&t, jb->ev, jb->nev, (size_t)s->itile, st);
#pragma omp for schedule(dynamic)
        for (dim_t k = 0; k < tasks; k++) {
            if (!ok) continue;
            dim_t ch = k % s->jchunks, rest = k / s->jchunks;
            dim_t tile = rest % s->ntile, o = rest / s->ntile;
            run_task(jb, &t, o, tile, ch);
            dim_t i0 = tile * s->itile;
            dim_t T = s->inner - i0 < s->itile ? s->inner - i0 : s->itile;
            char *dst = (s->jchunks > 1 ? part + (size_t)(ch * nout) * st : (char *)out) +
                        (size_t)(i0 + s->inner * o) * st;
            memcpy(dst, t.acc, (size_t)T * st);
        }
        if (ok)
            tls_free(&t);
        else
            failed = 1;
    }
    if (failed) EM_FAIL_FN(AF_ERR_NO_MEM, "out of host memory for statistics blocks");
    if (part) {
        for (dim_t q = 0; q < nout; q++) {
            char *dst = (char *)out + (size_t)q * st;
            memcpy(dst, part + (size_t)q * st, st);
            for (dim_t ch = 1; ch < s->jchunks; ch++) {
                const char *src = part + (size_t)(ch * nout + q) * st;
                if (jb->co) {
                    c_merge((cstate *)dst, (const cstate *)src);
                } else {
                    const mstate *b = (const mstate *)src;
                    m_merge((mstate *)dst, b->n, b->mr, b->mi, b->sr, b->si);
                }
            }
        }
    }
fail:
    free(part);
    return err;
}

/* Stores a value (complex: both parts) as element k of dtype t. */
static void store(void *out, af_dtype t, size_t k, double re, double im) {
    switch (t) {
    case f32:
        ((float *)out)[k] = (float)re;
        break;
    case f64:
        ((double *)out)[k] = re;
        break;
    case c32:
        ((float *)out)[2 * k] = (float)re, ((float *)out)[2 * k + 1] = (float)im;
        break;
    case c64:
        ((double *)out)[2 * k] = re, ((double *)out)[2 * k + 1] = im;
        break;
    case f16:
        ((uint16_t *)out)[k] = em_float_to_half((float)re);
        break;
    default:
        break;
    }
}

static af_err job_start(const char *fn, stat_job *jb, const em_jit_prog *x, const em_jit_prog *w,
                        bool co, int dim) {
    af_err err = AF_SUCCESS;
    memset(jb, 0, sizeof(*jb));
    jb->x = x, jb->w = w, jb->co = co;
    jb->tx = (af_dtype)x->instr[x->out[0]].type;
    jb->tw = w ? (af_dtype)w->instr[w->out[0]].type : f64;
    if (jb->tx != f32 && jb->tx != f64 && jb->tx != c32 && jb->tx != c64)
        EM_FAIL_FN(AF_ERR_TYPE, "moments of dtype %s", em_dtype_name(jb->tx));
    if (w && jb->tw != f32 && jb->tw != f64)
        EM_FAIL_FN(AF_ERR_TYPE, "weights of dtype %s", em_dtype_name(jb->tw));
    shape_of(x, dim, &jb->sh);
    EM_TRY_FN(em_cpu_block_eval_new(x, &jb->ev[0]));
    jb->nev = 1;
    if (w) {
        EM_TRY_FN(em_cpu_block_eval_new(w, &jb->ev[1]));
        jb->nev = 2;
    }
    return AF_SUCCESS;
fail:
    em_cpu_block_eval_free(jb->ev[0]);
    jb->ev[0] = NULL;
    return err;
}

static void job_end(stat_job *jb) {
    em_cpu_block_eval_free(jb->ev[0]);
    em_cpu_block_eval_free(jb->ev[1]);
}

af_err em_cpu_moments(int dev, const em_jit_prog *x, const em_jit_prog *w, int dim, int ddof,
                      bool root, af_dtype out_type, void *mean, void *var) {
    (void)dev;
    const char *fn = __func__;
    af_err err = AF_SUCCESS;
    stat_job jb;
    mstate *acc = NULL;
    bool started = false;
    EM_TRY_FN(job_start(fn, &jb, x, w, false, dim));
    started = true;
    dim_t nout = jb.sh.inner * jb.sh.outer;
    acc = malloc((size_t)nout * sizeof(mstate));
    if (!acc) EM_FAIL_FN(AF_ERR_NO_MEM, "out of host memory for moments");
    EM_TRY_FN(run_all(fn, &jb, acc));
    for (dim_t q = 0; q < nout; q++) {
        const mstate *a = &acc[q];
        if (mean) {
            if (a->n == 0)
                store(mean, out_type, (size_t)q, NAN, NAN);
            else
                store(mean, out_type, (size_t)q, a->mr, a->mi);
        }
        if (var) {
            double d = a->n - ddof;
            double vr = a->n == 0 ? NAN : a->sr / d, vi = a->n == 0 ? NAN : a->si / d;
            if (root) vr = sqrt(vr);
            store(var, out_type, (size_t)q, vr, vi);
        }
    }
fail:
    free(acc);
    if (started) job_end(&jb);
    return err;
}

af_err em_cpu_comoments(int dev, const em_jit_prog *x, const em_jit_prog *y, int kind, int ddof,
                        af_dtype out_type, void *out) {
    (void)dev;
    const char *fn = __func__;
    af_err err = AF_SUCCESS;
    stat_job jb;
    cstate *acc = NULL;
    bool started = false;
    /* cov: each column (dim 0 of a matrix); corr: everything. */
    EM_TRY_FN(job_start(fn, &jb, x, y, true, kind == EM_COMOM_COV ? 0 : -1));
    started = true;
    if (em_dtype_is_complex(jb.tx) || em_dtype_is_complex(jb.tw))
        EM_FAIL_FN(AF_ERR_TYPE, "co-moments of complex values");
    dim_t nout = jb.sh.inner * jb.sh.outer;
    acc = malloc((size_t)nout * sizeof(cstate));
    if (!acc) EM_FAIL_FN(AF_ERR_NO_MEM, "out of host memory for co-moments");
    EM_TRY_FN(run_all(fn, &jb, acc));
    if (kind == EM_COMOM_CORR) {
        store(out, out_type, 0, acc[0].cxy / sqrt(acc[0].cxx * acc[0].cyy), 0);
    } else {
        /* The means of every element, from the columns' means (each over the same rows). */
        cstate all = {0, 0, 0, 0, 0, 0};
        for (dim_t q = 0; q < nout; q++)
            c_merge(&all, &acc[q]);
        for (dim_t q = 0; q < nout; q++) {
            const cstate *a = &acc[q];
            double c = a->cxy + a->n * (a->mx - all.mx) * (a->my - all.my);
            store(out, out_type, (size_t)q, c / (a->n - ddof), 0);
        }
    }
fail:
    free(acc);
    if (started) job_end(&jb);
    return err;
}
