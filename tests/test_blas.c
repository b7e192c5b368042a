/* blas.h: af_matmul, af_gemm, af_dot and af_dot_all, against plain-C double-precision
 * references computed here on random inputs: every dtype the functions take (f32, f64, c32, c64,
 * f16), every af_mat_prop pair, batching with broadcasting over dims 2 and 3, gemm's alpha and
 * beta with an existing output (shared and aliased), 1x1, empty and odd shapes, NaN and inf, and
 * the errors ArrayFire gives for bad input. */
#include "test.h"

#include <complex.h>
#include <string.h>

static const af_dtype blas_types[] = {f32, f64, c32, c64, f16};
#define NBLAS (sizeof(blas_types) / sizeof(blas_types[0]))

static bool cplx(af_dtype t) {
    return t == c32 || t == c64;
}

static double eps_of(af_dtype t) {
    return (t == f64 || t == c64) ? 0x1p-52 : t == f16 ? 0x1p-10 : 0x1p-23;
}

static dim_t numel(const dim_t d[4]) {
    return d[0] * d[1] * d[2] * d[3];
}

/* A random array of dtype t with dims d (values in [-1, 1)), and its values as complex
 * doubles rounded to t (what the library sees). The caller frees *vals. */
static af_array rand_array(af_dtype t, const dim_t d[4], double complex **vals) {
    dim_t n = numel(d);
    size_t cnt = (size_t)n * (cplx(t) ? 2 : 1);
    double *x = malloc(sizeof(double) * cnt + 8);
    em_test_fill(x, cnt, -1, 1, false);
    af_array a = em_test_make(x, 4, d, t);
    double *back = a ? em_test_read(a, NULL) : NULL;
    double complex *v = malloc(sizeof(double complex) * (size_t)n + 8);
    for (dim_t i = 0; i < n; i++)
        v[i] = back ? (cplx(t) ? back[2 * i] + I * back[2 * i + 1] : back[i]) : 0;
    free(back);
    free(x);
    *vals = v;
    return a;
}

/* Element (i, j) of op(X) for an r x c matrix X stored column-major with leading dim ld. */
static double complex op_at(const double complex *x, dim_t ld, af_mat_prop op, dim_t i, dim_t j) {
    if (op == AF_MAT_NONE) return x[i + j * ld];
    double complex v = x[j + i * ld];
    return op == AF_MAT_CTRANS ? conj(v) : v;
}

/* out = alpha op(l) op(r) + beta c0 for every output batch, with ArrayFire's broadcasting. */
static void ref_gemm(const double complex *l, const dim_t ld[4], af_mat_prop opl,
                     const double complex *r, const dim_t rd[4], af_mat_prop opr,
                     double complex alpha, double complex beta, const double complex *c0,
                     const dim_t od[4], double complex *out) {
    dim_t m = od[0], n = od[1], k = opl == AF_MAT_NONE ? ld[1] : ld[0];
    for (dim_t w = 0; w < od[3]; w++)
        for (dim_t z = 0; z < od[2]; z++) {
            const double complex *lp =
                l + ((ld[2] == 1 ? 0 : z) + (ld[3] == 1 ? 0 : w) * ld[2]) * ld[0] * ld[1];
            const double complex *rp =
                r + ((rd[2] == 1 ? 0 : z) + (rd[3] == 1 ? 0 : w) * rd[2]) * rd[0] * rd[1];
            dim_t ob = (z + w * od[2]) * m * n;
            for (dim_t j = 0; j < n; j++)
                for (dim_t i = 0; i < m; i++) {
                    double complex s = 0;
                    for (dim_t p = 0; p < k; p++)
                        s += op_at(lp, ld[0], opl, i, p) * op_at(rp, rd[0], opr, p, j);
                    double complex v = alpha * s;
                    if (beta != 0) v += beta * c0[ob + i + j * m];
                    out[ob + i + j * m] = v;
                }
        }
}

static void check_dims(af_array a, const dim_t e[4], af_dtype t) {
    dim_t d[4];
    af_dtype got;
    CHECK_AF(af_get_dims(&d[0], &d[1], &d[2], &d[3], a));
    CHECK_AF(af_get_type(&got, a));
    CHECK(got == t);
    for (int i = 0; i < 4; i++)
        if (d[i] != e[i])
            em_test_fail(__FILE__, __LINE__, "dims[%d] = %lld, expected %lld", i, (long long)d[i],
                         (long long)e[i]);
}

/* Compares array a with ref (complex doubles) within an error bound for sums of k products of
 * values of magnitude <= 1: atol = 8 (k + 2) eps of the dtype, plus the final rounding for f16. */
static bool check_ref(af_array a, const double complex *ref, dim_t n, af_dtype t, dim_t k,
                      double scale) {
    dim_t got_n = 0;
    double *got = em_test_read(a, &got_n);
    if (!got) return false;
    CHECK(got_n == n);
    size_t cnt = (size_t)n * (cplx(t) ? 2 : 1);
    double *r = malloc(sizeof(double) * cnt + 8);
    for (dim_t i = 0; i < n; i++) {
        if (cplx(t)) {
            r[2 * i] = creal(ref[i]);
            r[2 * i + 1] = cimag(ref[i]);
        } else {
            r[i] = creal(ref[i]);
        }
    }
    double tol = 8.0 * (double)(k + 2) * eps_of(t) * scale;
    bool ok = CHECK_CLOSE(got, r, cnt, t == f16 ? 2 * eps_of(t) : 0, tol);
    free(r);
    free(got);
    return ok;
}

static const af_mat_prop mat_ops[] = {AF_MAT_NONE, AF_MAT_TRANS, AF_MAT_CTRANS};

/* One matmul of lhs dims ld and rhs dims rd with the given props, checked against the reference
 * (the dims describe the stored operands, so transposed ops swap rows and columns). */
static void run_matmul(af_dtype t, const dim_t ld[4], af_mat_prop opl, const dim_t rd[4],
                       af_mat_prop opr) {
    double complex *lv, *rv;
    af_array l = rand_array(t, ld, &lv), r = rand_array(t, rd, &rv), out = 0;
    dim_t od[4] = {opl == AF_MAT_NONE ? ld[0] : ld[1], opr == AF_MAT_NONE ? rd[1] : rd[0],
                   ld[2] > rd[2] ? ld[2] : rd[2], ld[3] > rd[3] ? ld[3] : rd[3]};
    dim_t k = opl == AF_MAT_NONE ? ld[1] : ld[0];
    CHECK_AF(af_matmul(&out, l, r, opl, opr));
    if (out) {
        check_dims(out, od, t);
        double complex *ref = malloc(sizeof(double complex) * (size_t)numel(od) + 8);
        ref_gemm(lv, ld, opl, rv, rd, opr, 1, 0, NULL, od, ref);
        if (!check_ref(out, ref, numel(od), t, k, 1))
            fprintf(stderr,
                    "    matmul %s: lhs %lldx%lldx%lldx%lld op %d, rhs %lldx%lldx%lldx%lld op %d\n",
                    em_test_dtype_name(t), (long long)ld[0], (long long)ld[1], (long long)ld[2],
                    (long long)ld[3], (int)opl, (long long)rd[0], (long long)rd[1],
                    (long long)rd[2], (long long)rd[3], (int)opr);
        free(ref);
        af_release_array(out);
    }
    af_release_array(l);
    af_release_array(r);
    free(lv);
    free(rv);
}

TEST(blas_matmul_every_op_and_dtype) {
    for (size_t ti = 0; ti < NBLAS; ti++)
        for (int a = 0; a < 3; a++)
            for (int b = 0; b < 3; b++) {
                /* op(lhs) is 7 x 3 and op(rhs) is 3 x 5, stored as the ops require. */
                dim_t ld[4] = {7, 3, 1, 1}, rd[4] = {3, 5, 1, 1};
                if (mat_ops[a] != AF_MAT_NONE) ld[0] = 3, ld[1] = 7;
                if (mat_ops[b] != AF_MAT_NONE) rd[0] = 5, rd[1] = 3;
                run_matmul(blas_types[ti], ld, mat_ops[a], rd, mat_ops[b]);
            }
}

TEST(blas_matmul_shapes) {
    /* 1x1, vector times matrix, matrix times vector, outer product, odd and larger sizes (the
     * latter on OpenBLAS's threaded path), for a real and a complex dtype. */
    const dim_t shapes[][3] = {{1, 1, 1}, {1, 9, 6},    {6, 9, 1},
                               {5, 1, 4}, {33, 17, 65}, {130, 257, 70}};
    const af_dtype ts[] = {f32, c64, f64};
    for (size_t ti = 0; ti < 3; ti++)
        for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
            dim_t ld[4] = {shapes[s][0], shapes[s][1], 1, 1};
            dim_t rd[4] = {shapes[s][1], shapes[s][2], 1, 1};
            run_matmul(ts[ti], ld, AF_MAT_NONE, rd, AF_MAT_NONE);
        }
}

TEST(blas_matmul_batched_broadcast) {
    const struct {
        dim_t l[4], r[4];
    } cases[] = {
        {{4, 3, 2, 3}, {3, 5, 2, 3}},     /* both batched */
        {{4, 3, 1, 1}, {3, 5, 2, 3}},     /* 2-D lhs broadcast (one folded product) */
        {{4, 3, 2, 3}, {3, 5, 1, 1}},     /* 2-D rhs broadcast */
        {{4, 3, 2, 3}, {3, 5, 1, 3}},     /* rhs broadcast along dim 2 only */
        {{4, 3, 1, 3}, {3, 5, 2, 3}},     /* lhs broadcast along dim 2 only */
        {{4, 3, 2, 1}, {3, 5, 2, 1}},     /* 3-D */
        {{16, 16, 8, 1}, {16, 16, 8, 1}}, /* small matrices: the OpenMP batch loop */
    };
    for (size_t ti = 0; ti < NBLAS; ti++)
        for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
            run_matmul(blas_types[ti], cases[c].l, AF_MAT_NONE, cases[c].r, AF_MAT_NONE);
            /* The same products with both operands stored transposed. */
            dim_t lt[4] = {cases[c].l[1], cases[c].l[0], cases[c].l[2], cases[c].l[3]};
            dim_t rt[4] = {cases[c].r[1], cases[c].r[0], cases[c].r[2], cases[c].r[3]};
            run_matmul(blas_types[ti], lt, AF_MAT_CTRANS, rt, AF_MAT_TRANS);
        }
}

TEST(blas_matmul_empty_and_zero_inner) {
    /* An empty output, and k = 0: a product of zero terms is 0. */
    double complex *lv, *rv;
    const dim_t l0[4] = {0, 3, 1, 1}, r0[4] = {3, 4, 1, 1};
    af_array l = rand_array(f32, l0, &lv), r = rand_array(f32, r0, &rv), out = 0;
    CHECK_AF(af_matmul(&out, l, r, AF_MAT_NONE, AF_MAT_NONE));
    if (out) {
        const dim_t e[4] = {0, 4, 1, 1};
        check_dims(out, e, f32);
        af_release_array(out);
    }
    af_release_array(l);
    af_release_array(r);
    free(lv);
    free(rv);
    const dim_t lk[4] = {3, 0, 1, 1}, rk[4] = {0, 2, 1, 1};
    l = rand_array(f64, lk, &lv);
    r = rand_array(f64, rk, &rv);
    out = 0;
    CHECK_AF(af_matmul(&out, l, r, AF_MAT_NONE, AF_MAT_NONE));
    if (out) {
        const dim_t e[4] = {3, 2, 1, 1};
        check_dims(out, e, f64);
        double *got = em_test_read(out, NULL);
        double zero[6] = {0};
        if (got) CHECK_CLOSE(got, zero, 6, 0, 0);
        free(got);
        af_release_array(out);
    }
    af_release_array(l);
    af_release_array(r);
    free(lv);
    free(rv);
}

TEST(blas_matmul_nan_inf) {
    /* NaN and inf in the operands reach exactly the outputs the reference says. */
    const af_dtype ts[] = {f32, f64};
    for (int ti = 0; ti < 2; ti++) {
        af_dtype t = ts[ti];
        const dim_t ld[4] = {6, 5, 1, 1}, rd[4] = {5, 4, 1, 1}, od[4] = {6, 4, 1, 1};
        double xl[30], xr[20];
        em_test_fill(xl, 30, -1, 1, true);
        em_test_fill(xr, 20, -1, 1, false);
        af_array l = em_test_make(xl, 2, ld, t), r = em_test_make(xr, 2, rd, t), out = 0;
        double complex lv[30], rv[20], ref[24];
        for (int i = 0; i < 30; i++)
            lv[i] = t == f32 ? (double)(float)xl[i] : xl[i];
        for (int i = 0; i < 20; i++)
            rv[i] = t == f32 ? (double)(float)xr[i] : xr[i];
        ref_gemm(lv, ld, AF_MAT_NONE, rv, rd, AF_MAT_NONE, 1, 0, NULL, od, ref);
        CHECK_AF(af_matmul(&out, l, r, AF_MAT_NONE, AF_MAT_NONE));
        if (out) {
            double *got = em_test_read(out, NULL);
            double re[24];
            for (int i = 0; i < 24; i++)
                re[i] = creal(ref[i]);
            /* Compare where NaN and inf are: the finite values in between are checked loosely. */
            if (got) CHECK_CLOSE(got, re, 24, 1e-4, 1e-4);
            free(got);
            af_release_array(out);
        }
        af_release_array(l);
        af_release_array(r);
    }
}

TEST(blas_matmul_errors) {
    double complex *v1, *v2, *v3, *v4;
    const dim_t d43[4] = {4, 3, 1, 1}, d35[4] = {3, 5, 1, 1}, d45[4] = {4, 5, 1, 1};
    af_array a = rand_array(f32, d43, &v1), b = rand_array(f32, d35, &v2);
    af_array c = rand_array(f32, d45, &v3), d = rand_array(f64, d35, &v4), out = 0;
    CHECK_ERR(af_matmul(&out, a, c, AF_MAT_NONE, AF_MAT_NONE), AF_ERR_SIZE);
    CHECK_ERR(af_matmul(&out, a, b, AF_MAT_TRANS, AF_MAT_NONE), AF_ERR_SIZE);
    CHECK_ERR(af_matmul(&out, a, d, AF_MAT_NONE, AF_MAT_NONE), AF_ERR_DIFF_TYPE);
    CHECK_ERR(af_matmul(&out, a, b, AF_MAT_UPPER, AF_MAT_NONE), AF_ERR_NOT_SUPPORTED);
    CHECK_ERR(af_matmul(&out, a, b, AF_MAT_NONE, AF_MAT_CONJ), AF_ERR_NOT_SUPPORTED);
    CHECK_ERR(af_matmul(NULL, a, b, AF_MAT_NONE, AF_MAT_NONE), AF_ERR_ARG);
    CHECK_ERR(af_matmul(&out, a, NULL, AF_MAT_NONE, AF_MAT_NONE), AF_ERR_ARG);
    /* Integer and b8 operands. */
    const af_dtype bad[] = {s32, u8, b8, s64, u16};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        af_array x = 0, y = 0;
        CHECK_AF(af_cast(&x, a, bad[i]));
        CHECK_AF(af_cast(&y, b, bad[i]));
        if (x && y) CHECK_ERR(af_matmul(&out, x, y, AF_MAT_NONE, AF_MAT_NONE), AF_ERR_TYPE);
        af_release_array(x);
        af_release_array(y);
    }
    /* Batches: mismatched sizes along dim 2, and batched operands of different ranks. */
    const dim_t b1[4] = {4, 3, 2, 1}, b2[4] = {3, 5, 3, 1}, b3[4] = {4, 3, 2, 3},
                b4[4] = {3, 5, 2, 1};
    double complex *w1, *w2, *w3, *w4;
    af_array x1 = rand_array(f32, b1, &w1), x2 = rand_array(f32, b2, &w2);
    af_array x3 = rand_array(f32, b3, &w3), x4 = rand_array(f32, b4, &w4);
    CHECK_ERR(af_matmul(&out, x1, x2, AF_MAT_NONE, AF_MAT_NONE), AF_ERR_BATCH);
    CHECK_ERR(af_matmul(&out, x3, x4, AF_MAT_NONE, AF_MAT_NONE), AF_ERR_SIZE);
    CHECK(out == 0);
    af_release_array(x1);
    af_release_array(x2);
    af_release_array(x3);
    af_release_array(x4);
    free(w1);
    free(w2);
    free(w3);
    free(w4);
    af_release_array(a);
    af_release_array(b);
    af_release_array(c);
    af_release_array(d);
    free(v1);
    free(v2);
    free(v3);
    free(v4);
}

/* alpha and beta as af_gemm reads them: the operands' dtype (f16 as binary16 bits). */
static void put_scalar(af_dtype t, double complex v, unsigned char *buf) {
    switch (t) {
    case f32:
        *(float *)buf = (float)creal(v);
        break;
    case f64:
        *(double *)buf = creal(v);
        break;
    case c32:
        ((float *)buf)[0] = (float)creal(v);
        ((float *)buf)[1] = (float)cimag(v);
        break;
    case c64:
        ((double *)buf)[0] = creal(v);
        ((double *)buf)[1] = cimag(v);
        break;
    default:
        *(uint16_t *)buf = em_test_double_to_half(creal(v));
        break;
    }
}

TEST(blas_gemm_alpha_beta) {
    for (size_t ti = 0; ti < NBLAS; ti++) {
        af_dtype t = blas_types[ti];
        double complex alpha = cplx(t) ? 0.5 - 1.25 * I : 0.5, beta = cplx(t) ? -2 + 0.5 * I : -2;
        unsigned char al[16], be[16];
        put_scalar(t, alpha, al);
        put_scalar(t, beta, be);
        const dim_t ld[4] = {3, 6, 2, 1}, rd[4] = {5, 3, 1, 1}, od[4] = {6, 5, 2, 1};
        double complex *lv, *rv, *cv;
        af_array l = rand_array(t, ld, &lv), r = rand_array(t, rd, &rv), c = rand_array(t, od, &cv);
        double complex ref[60];
        /* Accumulating into an existing C that another handle shares: that handle keeps the old
         * values (copy on write). */
        af_array keep = 0;
        CHECK_AF(af_retain_array(&keep, c));
        af_array cc = c;
        CHECK_AF(af_gemm(&cc, AF_MAT_CTRANS, AF_MAT_TRANS, al, l, r, be));
        CHECK(cc == c);
        ref_gemm(lv, ld, AF_MAT_CTRANS, rv, rd, AF_MAT_TRANS, alpha, beta, cv, od, ref);
        check_ref(c, ref, 60, t, 5, 3);
        check_ref(keep, cv, 60, t, 0, 1);
        /* A NULL output: a fresh product, beta ignored. */
        af_array fresh = 0;
        CHECK_AF(af_gemm(&fresh, AF_MAT_CTRANS, AF_MAT_TRANS, al, l, r, be));
        if (fresh) {
            check_dims(fresh, od, t);
            ref_gemm(lv, ld, AF_MAT_CTRANS, rv, rd, AF_MAT_TRANS, alpha, 0, NULL, od, ref);
            check_ref(fresh, ref, 60, t, 3, 2);
            af_release_array(fresh);
        }
        /* Errors: an output of the wrong shape or dtype, NULL alpha or beta. */
        af_array wrong = l;
        CHECK_ERR(af_gemm(&wrong, AF_MAT_CTRANS, AF_MAT_TRANS, al, l, r, be), AF_ERR_SIZE);
        CHECK_ERR(af_gemm(&fresh, AF_MAT_CTRANS, AF_MAT_TRANS, NULL, l, r, be), AF_ERR_ARG);
        CHECK_ERR(af_gemm(&fresh, AF_MAT_CTRANS, AF_MAT_TRANS, al, l, r, NULL), AF_ERR_ARG);
        af_release_array(l);
        af_release_array(r);
        af_release_array(c);
        af_release_array(keep);
        free(lv);
        free(rv);
        free(cv);
    }
}

TEST(blas_gemm_output_aliases_input) {
    /* C = 2 A A + 1 C with C the same array as A: the product reads A's old values. */
    const dim_t d[4] = {5, 5, 1, 1};
    double complex *av;
    af_array a = rand_array(f64, d, &av);
    double complex ref[25];
    ref_gemm(av, d, AF_MAT_NONE, av, d, AF_MAT_NONE, 2, 1, av, d, ref);
    double al = 2, be = 1;
    af_array c = a;
    CHECK_AF(af_gemm(&c, AF_MAT_NONE, AF_MAT_NONE, &al, a, a, &be));
    check_ref(a, ref, 25, f64, 5, 4);
    af_release_array(a);
    free(av);
}

TEST(blas_matmul_thin_every_op) {
    /* Products with an m, n or k of 1 (dot, matrix-vector, vector-matrix and outer products),
     * which the CUDA backend computes with its own kernels: every op pair, short and long sums
     * (the long ones cut into slices), batched with broadcasting, in a real, a complex and the
     * half dtype. {m, k, n} of op(lhs) op(rhs). */
    const dim_t shapes[][3] = {{1, 1, 1},   {1, 40, 1},   {1, 3000, 1},  {1, 37, 9},   {9, 37, 1},
                               {30, 1, 20}, {1, 5000, 3}, {70, 3000, 1}, {3, 2000, 1}, {1, 2, 1}};
    const af_dtype ts[] = {f32, c64, f16};
    for (size_t ti = 0; ti < 3; ti++)
        for (size_t si = 0; si < sizeof(shapes) / sizeof(shapes[0]); si++)
            for (int a = 0; a < 3; a++)
                for (int b = 0; b < 3; b++) {
                    dim_t m = shapes[si][0], k = shapes[si][1], n = shapes[si][2];
                    if (ts[ti] == f16 && k > 100) continue; /* f16's long sums are approximate */
                    bool batched = si % 3 == 1;
                    dim_t ld[4] = {m, k, batched ? 2 : 1, batched ? 3 : 1};
                    dim_t rd[4] = {k, n, 1, batched ? 3 : 1};
                    if (mat_ops[a] != AF_MAT_NONE) ld[0] = k, ld[1] = m;
                    if (mat_ops[b] != AF_MAT_NONE) rd[0] = n, rd[1] = k;
                    run_matmul(ts[ti], ld, mat_ops[a], rd, mat_ops[b]);
                }
    /* gemm's alpha and beta on a thin product, accumulating into an existing C. */
    const af_dtype gt[] = {f32, c32, f64};
    for (int ti = 0; ti < 3; ti++) {
        af_dtype t = gt[ti];
        double complex alpha = cplx(t) ? 0.5 - 1.25 * I : 0.5, beta = cplx(t) ? -2 + 0.5 * I : -2;
        unsigned char al[16], be[16];
        put_scalar(t, alpha, al);
        put_scalar(t, beta, be);
        const dim_t ld[4] = {50, 7, 1, 1}, rd[4] = {50, 1, 1, 1}, od[4] = {7, 1, 1, 1};
        double complex *lv, *rv, *cv, ref[7];
        af_array l = rand_array(t, ld, &lv), r = rand_array(t, rd, &rv), c = rand_array(t, od, &cv);
        af_array cc = c;
        CHECK_AF(af_gemm(&cc, AF_MAT_CTRANS, AF_MAT_NONE, al, l, r, be));
        ref_gemm(lv, ld, AF_MAT_CTRANS, rv, rd, AF_MAT_NONE, alpha, beta, cv, od, ref);
        check_ref(c, ref, 7, t, 50, 3);
        af_release_array(l);
        af_release_array(r);
        af_release_array(c);
        free(lv);
        free(rv);
        free(cv);
    }
}

/* The reference dot: sum of x'[i] y'[i]. */
static double complex ref_dot(const double complex *x, bool cx, const double complex *y, bool cy,
                              dim_t n) {
    double complex s = 0;
    for (dim_t i = 0; i < n; i++)
        s += (cx ? conj(x[i]) : x[i]) * (cy ? conj(y[i]) : y[i]);
    return s;
}

TEST(blas_dot_and_dot_all) {
    const dim_t lens[] = {1, 7, 1000, 100003};
    for (size_t ti = 0; ti < NBLAS; ti++) {
        af_dtype t = blas_types[ti];
        for (size_t li = 0; li < sizeof(lens) / sizeof(lens[0]); li++) {
            dim_t n = lens[li];
            if (t == f16 && n > 1000) continue; /* f16's sum of many terms is only approximate */
            const dim_t d[4] = {n, 1, 1, 1};
            double complex *xv, *yv;
            af_array x = rand_array(t, d, &xv), y = rand_array(t, d, &yv);
            for (int c = 0; c < 4; c++) {
                bool cx = c & 1, cy = c & 2;
                af_mat_prop px = cx ? AF_MAT_CONJ : AF_MAT_NONE,
                            py = cy ? AF_MAT_CONJ : AF_MAT_NONE;
                double complex ref = ref_dot(xv, cx, yv, cy, n);
                af_array out = 0;
                CHECK_AF(af_dot(&out, x, y, px, py));
                if (out) {
                    const dim_t one[4] = {1, 1, 1, 1};
                    check_dims(out, one, t);
                    /* Summation error grows like sqrt(n) in practice and n in the worst case. */
                    check_ref(out, &ref, 1, t, n, 1);
                    af_release_array(out);
                }
                double re = -1, im = -1;
                CHECK_AF(af_dot_all(&re, &im, x, y, px, py));
                double got[2] = {re, im}, want[2] = {creal(ref), cplx(t) ? cimag(ref) : 0};
                double tol = 8.0 * (double)(n + 2) * eps_of(t);
                CHECK_CLOSE(got, want, 2, t == f16 ? 2 * eps_of(t) : 0, tol);
                /* imag may be NULL. */
                CHECK_AF(af_dot_all(&re, NULL, x, y, px, py));
            }
            af_release_array(x);
            af_release_array(y);
            free(xv);
            free(yv);
        }
    }
}

TEST(blas_dot_errors_and_empty) {
    double complex *v1, *v2, *v3, *v4;
    const dim_t d5[4] = {5, 1, 1, 1}, d6[4] = {6, 1, 1, 1}, d52[4] = {5, 2, 1, 1},
                d0[4] = {0, 1, 1, 1};
    af_array a = rand_array(f32, d5, &v1), b = rand_array(f32, d6, &v2);
    af_array m = rand_array(f32, d52, &v3), e = rand_array(f32, d0, &v4), out = 0;
    CHECK_ERR(af_dot(&out, a, b, AF_MAT_NONE, AF_MAT_NONE), AF_ERR_SIZE);
    CHECK_ERR(af_dot(&out, a, m, AF_MAT_NONE, AF_MAT_NONE), AF_ERR_BATCH);
    CHECK_ERR(af_dot(&out, a, a, AF_MAT_TRANS, AF_MAT_NONE), AF_ERR_NOT_SUPPORTED);
    CHECK_ERR(af_dot(&out, a, a, AF_MAT_NONE, AF_MAT_CTRANS), AF_ERR_NOT_SUPPORTED);
    af_array i32 = 0, f64a = 0;
    CHECK_AF(af_cast(&i32, a, s32));
    CHECK_AF(af_cast(&f64a, a, f64));
    CHECK_ERR(af_dot(&out, i32, i32, AF_MAT_NONE, AF_MAT_NONE), AF_ERR_TYPE);
    CHECK_ERR(af_dot(&out, a, f64a, AF_MAT_NONE, AF_MAT_NONE), AF_ERR_DIFF_TYPE);
    double re = 5;
    CHECK_ERR(af_dot_all(NULL, NULL, a, a, AF_MAT_NONE, AF_MAT_NONE), AF_ERR_ARG);
    CHECK_ERR(af_dot_all(&re, NULL, a, b, AF_MAT_NONE, AF_MAT_NONE), AF_ERR_SIZE);
    CHECK(re == 5); /* untouched on failure */
    /* An empty lhs: af_dot returns it, af_dot_all reads 0. */
    CHECK_AF(af_dot(&out, e, e, AF_MAT_NONE, AF_MAT_NONE));
    if (out) {
        dim_t n = -1;
        CHECK_AF(af_get_elements(&n, out));
        CHECK(n == 0);
        af_release_array(out);
    }
    double im = 3;
    CHECK_AF(af_dot_all(&re, &im, e, e, AF_MAT_NONE, AF_MAT_NONE));
    CHECK(re == 0 && im == 0);
    af_release_array(i32);
    af_release_array(f64a);
    af_release_array(a);
    af_release_array(b);
    af_release_array(m);
    af_release_array(e);
    free(v1);
    free(v2);
    free(v3);
    free(v4);
}

TEST(blas_matmul_view_inputs) {
    /* Strided views (a reorder of dims 0 and 1 shares the parent's buffer) as operands and as
     * gemm's output: read through em_array_dense_read, written after copy on write. */
    const af_dtype ts[] = {f32, c64};
    for (int ti = 0; ti < 2; ti++) {
        af_dtype t = ts[ti];
        const dim_t ad[4] = {5, 3, 1, 1}, bd[4] = {5, 4, 1, 1}, od[4] = {3, 4, 1, 1};
        double complex *av, *bv;
        af_array a = rand_array(t, ad, &av), b = rand_array(t, bd, &bv), v = 0, out = 0;
        CHECK_AF(af_reorder(&v, a, 1, 0, 2, 3));
        if (!v) continue;
        CHECK_AF(af_matmul(&out, v, b, AF_MAT_NONE, AF_MAT_NONE));
        double complex ref[12];
        ref_gemm(av, ad, AF_MAT_TRANS, bv, bd, AF_MAT_NONE, 1, 0, NULL, od, ref);
        if (out) check_ref(out, ref, 12, t, 5, 1);
        /* The view as gemm's output: C = 1 * v^H v' + 0 C, where v' is b's first 3 columns. */
        af_array w = 0;
        CHECK_AF(af_reorder(&w, out, 1, 0, 2, 3)); /* 4 x 3 view of out */
        if (w) {
            double one[2] = {1, 0}, zero[2] = {0, 0};
            unsigned char al[16], be[16];
            put_scalar(t, one[0], al);
            put_scalar(t, zero[0], be);
            af_array c = w;
            const dim_t bd2[4] = {5, 4, 1, 1};
            CHECK_AF(af_gemm(&c, AF_MAT_TRANS, AF_MAT_NONE, al, b, a, be));
            double complex ref2[12];
            ref_gemm(bv, bd2, AF_MAT_TRANS, av, ad, AF_MAT_NONE, 1, 0, NULL, (dim_t[4]){4, 3, 1, 1},
                     ref2);
            check_ref(w, ref2, 12, t, 5, 1);
            /* out, which w viewed, keeps the product of the first call. */
            check_ref(out, ref, 12, t, 5, 1);
            af_release_array(w);
        }
        af_release_array(out);
        af_release_array(v);
        af_release_array(a);
        af_release_array(b);
        free(av);
        free(bv);
    }
}
