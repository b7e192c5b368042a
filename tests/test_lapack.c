/* lapack.h: every factorisation, solve, inverse, pseudo-inverse, rank, determinant and norm,
 * checked by what defines it, in double precision here: reconstructions (L U = P A, Q R = A with
 * Q unitary, U S V^H = A, R^H R = A), residuals ||A x - b|| / (||A|| ||x||) within a small
 * multiple of the dtype's epsilon, the Moore-Penrose conditions, and plain-C references for det,
 * rank and norms. Shapes: square, tall, wide, 1x1, empty, batched where ArrayFire batches;
 * ill-conditioned (Hilbert) and singular matrices; and the errors ArrayFire gives for bad
 * input. */
#include "test.h"

#include <complex.h>
#include <string.h>

typedef double complex cd;

static const af_dtype la_types[] = {f32, f64, c32, c64};
#define NLA 4

static bool cplx(af_dtype t) {
    return t == c32 || t == c64;
}

static double eps_of(af_dtype t) {
    return (t == f64 || t == c64) ? 0x1p-52 : 0x1p-23;
}

/* ---- host matrices: column-major complex doubles ---- */

typedef struct {
    dim_t r, c;
    cd *v;
} mat;

static mat mat_new(dim_t r, dim_t c) {
    mat m = {r, c, calloc((size_t)(r * c) + 1, sizeof(cd))};
    return m;
}

static cd at(mat m, dim_t i, dim_t j) {
    return m.v[i + j * m.r];
}

/* a * op(b) with op(b) = b or b^H. */
static mat mul(mat a, mat b, bool bh) {
    dim_t n = bh ? b.r : b.c, k = a.c;
    mat o = mat_new(a.r, n);
    for (dim_t j = 0; j < n; j++)
        for (dim_t p = 0; p < k; p++) {
            cd bv = bh ? conj(at(b, j, p)) : at(b, p, j);
            for (dim_t i = 0; i < a.r; i++)
                o.v[i + j * a.r] += at(a, i, p) * bv;
        }
    return o;
}

/* a^H b */
static mat mul_h(mat a, mat b) {
    mat o = mat_new(a.c, b.c);
    for (dim_t j = 0; j < b.c; j++)
        for (dim_t i = 0; i < a.c; i++) {
            cd s = 0;
            for (dim_t p = 0; p < a.r; p++)
                s += conj(at(a, p, i)) * at(b, p, j);
            o.v[i + j * a.c] = s;
        }
    return o;
}

static mat herm(mat a) {
    mat o = mat_new(a.c, a.r);
    for (dim_t i = 0; i < a.r; i++)
        for (dim_t j = 0; j < a.c; j++)
            o.v[j + i * a.c] = conj(at(a, i, j));
    return o;
}

static double fro(mat a) {
    double s = 0;
    for (dim_t i = 0; i < a.r * a.c; i++)
        s += creal(a.v[i] * conj(a.v[i]));
    return sqrt(s);
}

/* ||a - b||_F */
static double fro_diff(mat a, mat b) {
    if (a.r != b.r || a.c != b.c) return INFINITY;
    double s = 0;
    for (dim_t i = 0; i < a.r * a.c; i++) {
        cd d = a.v[i] - b.v[i];
        s += creal(d * conj(d));
    }
    return sqrt(s);
}

static mat eye(dim_t n) {
    mat o = mat_new(n, n);
    for (dim_t i = 0; i < n; i++)
        o.v[i + i * n] = 1;
    return o;
}

/* Reads an array (dims r x c x batches) as complex doubles. */
static mat read_mat(af_array a) {
    dim_t d[4] = {0, 0, 0, 0}, n = 0;
    af_get_dims(&d[0], &d[1], &d[2], &d[3], a);
    af_dtype t = f32;
    af_get_type(&t, a);
    double *x = em_test_read(a, &n);
    mat m = mat_new(d[0], d[1] * d[2] * d[3]);
    for (dim_t i = 0; x && i < n; i++)
        m.v[i] = cplx(t) ? x[2 * i] + I * x[2 * i + 1] : x[i];
    free(x);
    return m;
}

/* An array of dtype t and dims d from m's values (rounded to t); m is replaced by what t keeps. */
static af_array make_from(mat *m, const dim_t d[4], af_dtype t) {
    dim_t n = d[0] * d[1] * d[2] * d[3];
    double *x = malloc(sizeof(double) * (size_t)(2 * n) + 8);
    for (dim_t i = 0; i < n; i++) {
        if (cplx(t)) {
            x[2 * i] = creal(m->v[i]);
            x[2 * i + 1] = cimag(m->v[i]);
        } else {
            x[i] = creal(m->v[i]);
        }
    }
    af_array a = em_test_make(x, 4, d, t);
    free(x);
    if (a) {
        mat back = read_mat(a);
        memcpy(m->v, back.v, sizeof(cd) * (size_t)n);
        free(back.v);
    }
    return a;
}

/* A random r x c (x batches) matrix in [-1, 1) (complex parts too), as an array and values. */
static af_array rand_mat(af_dtype t, dim_t r, dim_t c, dim_t b2, dim_t b3, mat *out) {
    const dim_t d[4] = {r, c, b2, b3};
    mat m = mat_new(r, c * b2 * b3);
    for (dim_t i = 0; i < r * c * b2 * b3; i++)
        m.v[i] = em_test_rand_uniform(-1, 1) + (cplx(t) ? I * em_test_rand_uniform(-1, 1) : 0);
    af_array a = make_from(&m, d, t);
    *out = m;
    return a;
}

/* Column block k (matrix k of a batch) of a read batched array. */
static mat batch_of(mat m, dim_t cols, dim_t k) {
    mat o = {m.r, cols, m.v + k * m.r * cols};
    return o;
}

static void check_shape(af_array a, dim_t d0, dim_t d1, dim_t d2, dim_t d3, af_dtype t) {
    dim_t d[4];
    af_dtype got;
    CHECK_AF(af_get_dims(&d[0], &d[1], &d[2], &d[3], a));
    CHECK_AF(af_get_type(&got, a));
    if (got != t) em_test_fail(__FILE__, __LINE__, "dtype %d, expected %d", (int)got, (int)t);
    const dim_t e[4] = {d0, d1, d2, d3};
    for (int i = 0; i < 4; i++)
        if (d[i] != e[i])
            em_test_fail(__FILE__, __LINE__, "dims[%d] = %lld, expected %lld", i, (long long)d[i],
                         (long long)e[i]);
}

/* Checks a relative error against c * n * eps. */
#define CHECK_REL(err, c, n, t, what)                                                              \
    do {                                                                                           \
        double e_ = (err), lim_ = (c) * (double)(n)*eps_of(t);                                     \
        if (!(e_ <= lim_))                                                                         \
            em_test_fail(__FILE__, __LINE__, "%s (%s): relative error %g > %g", what,              \
                         em_test_dtype_name(t), e_, lim_);                                         \
    } while (0)

static const dim_t shapes[][2] = {{1, 1}, {5, 5}, {7, 4}, {4, 7}, {33, 33}, {70, 50}};
#define NSHAPES (sizeof(shapes) / sizeof(shapes[0]))

/* ---- LU ---- */

TEST(lapack_lu_reconstructs) {
    for (int ti = 0; ti < NLA; ti++)
        for (size_t s = 0; s < NSHAPES; s++) {
            af_dtype t = la_types[ti];
            dim_t m = shapes[s][0], n = shapes[s][1], k = m < n ? m : n;
            mat A;
            af_array a = rand_mat(t, m, n, 1, 1, &A), l = 0, u = 0, p = 0;
            CHECK_AF(af_lu(&l, &u, &p, a));
            if (!l) continue;
            check_shape(l, m, k, 1, 1, t);
            check_shape(u, k, n, 1, 1, t);
            check_shape(p, m, 1, 1, 1, s32);
            mat L = read_mat(l), U = read_mat(u), P = read_mat(p);
            /* L unit lower, U upper, the pivot a permutation. */
            bool shape_ok = true, perm_ok = true;
            for (dim_t j = 0; j < k; j++)
                for (dim_t i = 0; i < m; i++)
                    if ((i < j && at(L, i, j) != 0) || (i == j && at(L, i, j) != 1))
                        shape_ok = false;
            for (dim_t j = 0; j < n; j++)
                for (dim_t i = j + 1; i < k; i++)
                    if (at(U, i, j) != 0) shape_ok = false;
            int *seen = calloc((size_t)m, sizeof(int));
            for (dim_t i = 0; i < m; i++) {
                int v = (int)creal(P.v[i]);
                if (v < 0 || v >= m || seen[v]++) perm_ok = false;
            }
            CHECK(shape_ok);
            CHECK(perm_ok);
            if (perm_ok) {
                mat PA = mat_new(m, n), LU = mul(L, U, false);
                for (dim_t j = 0; j < n; j++)
                    for (dim_t i = 0; i < m; i++)
                        PA.v[i + j * m] = at(A, (dim_t)creal(P.v[i]), j);
                CHECK_REL(fro_diff(LU, PA) / fro(A), 8, k + 1, t, "L U - P A");
                free(PA.v);
                free(LU.v);
            }
            /* lu_inplace: the same factors packed, and the same pivots (or LAPACK's). */
            af_array c = 0, pi = 0, c2 = 0, pl = 0;
            CHECK_AF(af_copy_array(&c, a));
            CHECK_AF(af_lu_inplace(&pi, c, false));
            if (pi) {
                check_shape(pi, m, 1, 1, 1, s32);
                mat PI = read_mat(pi), C = read_mat(c);
                CHECK(fro_diff(PI, P) == 0);
                double d = 0;
                for (dim_t j = 0; j < n; j++)
                    for (dim_t i = 0; i < m; i++) {
                        cd want = i > j ? at(L, i, j) : at(U, i, j);
                        d += cabs(at(C, i, j) - want);
                    }
                CHECK(d == 0);
                free(PI.v);
                free(C.v);
            }
            CHECK_AF(af_copy_array(&c2, a));
            CHECK_AF(af_lu_inplace(&pl, c2, true));
            if (pl) {
                check_shape(pl, k, 1, 1, 1, s32);
                mat PL = read_mat(pl);
                /* Applying LAPACK's interchanges to 0..m-1 gives the permutation. */
                int *perm = malloc(sizeof(int) * (size_t)m);
                for (dim_t i = 0; i < m; i++)
                    perm[i] = (int)i;
                bool ok = true;
                for (dim_t j = 0; j < k; j++) {
                    int q = (int)creal(PL.v[j]) - 1;
                    if (q < j || q >= m) {
                        ok = false;
                        break;
                    }
                    int tmp = perm[j];
                    perm[j] = perm[q];
                    perm[q] = tmp;
                }
                for (dim_t i = 0; ok && i < m; i++)
                    ok = perm[i] == (int)creal(P.v[i]);
                CHECK(ok);
                free(perm);
                free(PL.v);
            }
            af_release_array(c);
            af_release_array(c2);
            af_release_array(pi);
            af_release_array(pl);
            free(seen);
            free(L.v);
            free(U.v);
            free(P.v);
            free(A.v);
            af_release_array(a);
            af_release_array(l);
            af_release_array(u);
            af_release_array(p);
        }
}

TEST(lapack_lu_long_pivot_chains) {
    /* Many interchanges, most of them chained (row j + 1 holds column j's pivot, so each
     * interchange moves the row the previous one brought down), over several windows of 32: the
     * permutation af_lu returns must be the one LAPACK's interchanges from af_lu_inplace make,
     * and L U must be P A. Tall, square and wide. */
    const dim_t sizes[][2] = {{300, 300}, {301, 140}, {150, 260}};
    for (int si = 0; si < 3; si++) {
        dim_t m = sizes[si][0], n = sizes[si][1], k = m < n ? m : n;
        mat A = mat_new(m, n);
        for (dim_t j = 0; j < n; j++)
            for (dim_t i = 0; i < m; i++)
                A.v[i + j * m] = i == j + 1 ? 1 : 1e-3 * em_test_rand_uniform(-1, 1);
        A.v[m - 1] = 0.5; /* a far row that loses to row 1 in column 0 */
        const dim_t d[4] = {m, n, 1, 1};
        af_array a = make_from(&A, d, f64), l = 0, u = 0, p = 0, c = 0, pl = 0;
        CHECK_AF(af_lu(&l, &u, &p, a));
        CHECK_AF(af_copy_array(&c, a));
        CHECK_AF(af_lu_inplace(&pl, c, true));
        if (l && pl) {
            mat L = read_mat(l), U = read_mat(u), P = read_mat(p), PL = read_mat(pl);
            int *perm = malloc(sizeof(int) * (size_t)m);
            for (dim_t i = 0; i < m; i++)
                perm[i] = (int)i;
            dim_t chained = 0;
            for (dim_t j = 0; j < k; j++) {
                int q = (int)creal(PL.v[j]) - 1;
                chained += q == j + 1;
                int tmp = perm[j];
                perm[j] = perm[q];
                perm[q] = tmp;
            }
            bool same = true;
            for (dim_t i = 0; i < m; i++)
                same &= perm[i] == (int)creal(P.v[i]);
            CHECK(same);
            CHECK(chained > k / 2);
            mat PA = mat_new(m, n), LU = mul(L, U, false);
            for (dim_t j = 0; j < n; j++)
                for (dim_t i = 0; i < m; i++)
                    PA.v[i + j * m] = at(A, perm[i], j);
            CHECK_REL(fro_diff(LU, PA) / fro(A), 8, k + 1, f64, "L U - P A");
            free(perm);
            free(PA.v);
            free(LU.v);
            free(L.v);
            free(U.v);
            free(P.v);
            free(PL.v);
        }
        af_release_array(a);
        af_release_array(l);
        af_release_array(u);
        af_release_array(p);
        af_release_array(c);
        af_release_array(pl);
        free(A.v);
    }
}

TEST(lapack_lu_singular_and_copy_on_write) {
    /* A singular matrix factors (a zero in U) without error; in-place LU of a shared array
     * leaves the other handle alone. The third column is the sum of the first two, and every
     * multiplier and product of the elimination is exact (pivots 4 and 2, no row interchange),
     * so U's last pivot is exactly 0 whether the library fuses multiply-adds or not: with
     * multipliers such as 1/3 a fused multiply-add leaves a residue of one rounding error. */
    mat A = mat_new(3, 3);
    const double v[9] = {4, 2, 1, 0, 2, 1, 4, 4, 2};
    for (int i = 0; i < 9; i++)
        A.v[i] = v[i];
    const dim_t d[4] = {3, 3, 1, 1};
    af_array a = make_from(&A, d, f64), keep = 0, p = 0;
    CHECK_AF(af_retain_array(&keep, a));
    CHECK_AF(af_lu_inplace(&p, a, true));
    mat K = read_mat(keep), F = read_mat(a);
    CHECK(fro_diff(K, A) == 0);
    CHECK(fro_diff(F, A) != 0);
    double prod = 1;
    for (int i = 0; i < 3; i++)
        prod *= cabs(at(F, i, i));
    CHECK(prod == 0);
    free(K.v);
    free(F.v);
    free(A.v);
    af_release_array(a);
    af_release_array(keep);
    af_release_array(p);
}

/* ---- QR ---- */

TEST(lapack_qr_reconstructs) {
    for (int ti = 0; ti < NLA; ti++)
        for (size_t s = 0; s < NSHAPES; s++) {
            af_dtype t = la_types[ti];
            dim_t m = shapes[s][0], n = shapes[s][1], k = m < n ? m : n;
            mat A;
            af_array a = rand_mat(t, m, n, 1, 1, &A), q = 0, r = 0, tau = 0;
            CHECK_AF(af_qr(&q, &r, &tau, a));
            if (!q) continue;
            check_shape(q, m, m, 1, 1, t);
            check_shape(r, m, n, 1, 1, t);
            check_shape(tau, k, 1, 1, 1, t);
            mat Q = read_mat(q), R = read_mat(r);
            bool upper = true;
            for (dim_t j = 0; j < n; j++)
                for (dim_t i = j + 1; i < m; i++)
                    if (at(R, i, j) != 0) upper = false;
            CHECK(upper);
            mat QR = mul(Q, R, false), QhQ = mul_h(Q, Q), I_ = eye(m);
            CHECK_REL(fro_diff(QR, A) / fro(A), 8, m + n, t, "Q R - A");
            CHECK_REL(fro_diff(QhQ, I_) / sqrt((double)m), 8, m + 1, t, "Q^H Q - I");
            /* qr_inplace: R in the upper part, the same tau. */
            af_array c = 0, tau2 = 0;
            CHECK_AF(af_copy_array(&c, a));
            CHECK_AF(af_qr_inplace(&tau2, c));
            if (tau2) {
                mat T1 = read_mat(tau), T2 = read_mat(tau2), C = read_mat(c);
                CHECK(fro_diff(T1, T2) == 0);
                double d = 0;
                for (dim_t j = 0; j < n; j++)
                    for (dim_t i = 0; i <= j && i < m; i++)
                        d += cabs(at(C, i, j) - at(R, i, j));
                CHECK(d == 0);
                free(T1.v);
                free(T2.v);
                free(C.v);
            }
            af_release_array(c);
            af_release_array(tau2);
            free(QR.v);
            free(QhQ.v);
            free(I_.v);
            free(Q.v);
            free(R.v);
            free(A.v);
            af_release_array(a);
            af_release_array(q);
            af_release_array(r);
            af_release_array(tau);
        }
}

/* ---- Cholesky ---- */

/* A Hermitian positive-definite n x n matrix: B^H B + n I. */
static mat spd(af_dtype t, dim_t n) {
    mat B = mat_new(n, n);
    for (dim_t i = 0; i < n * n; i++)
        B.v[i] = em_test_rand_uniform(-1, 1) + (cplx(t) ? I * em_test_rand_uniform(-1, 1) : 0);
    mat S = mul_h(B, B);
    for (dim_t i = 0; i < n; i++)
        S.v[i + i * n] = creal(S.v[i + i * n]) + (double)n;
    free(B.v);
    return S;
}

TEST(lapack_cholesky) {
    const dim_t sizes[] = {1, 4, 17, 64};
    for (int ti = 0; ti < NLA; ti++)
        for (int si = 0; si < 4; si++)
            for (int up = 0; up < 2; up++) {
                af_dtype t = la_types[ti];
                dim_t n = sizes[si];
                mat S = spd(t, n);
                const dim_t d[4] = {n, n, 1, 1};
                af_array a = make_from(&S, d, t), c = 0;
                int info = -7;
                CHECK_AF(af_cholesky(&c, &info, a, up));
                CHECK(info == 0);
                if (!c) continue;
                check_shape(c, n, n, 1, 1, t);
                mat F = read_mat(c);
                bool tri = true;
                for (dim_t j = 0; j < n; j++)
                    for (dim_t i = 0; i < n; i++)
                        if ((up ? i > j : i < j) && at(F, i, j) != 0) tri = false;
                CHECK(tri);
                /* upper: R^H R = A; lower: L L^H = A. */
                mat P = up ? mul_h(F, F) : mul(F, F, true);
                CHECK_REL(fro_diff(P, S) / fro(S), 8, n + 1, t, "cholesky reconstruction");
                /* In place: the same triangle, the other left as the input. */
                int info2 = -7;
                af_array cp = 0;
                CHECK_AF(af_copy_array(&cp, a));
                CHECK_AF(af_cholesky_inplace(&info2, cp, up));
                CHECK(info2 == 0);
                mat G = read_mat(cp);
                double dd = 0;
                for (dim_t j = 0; j < n; j++)
                    for (dim_t i = 0; i < n; i++) {
                        bool in_tri = up ? i <= j : i >= j;
                        dd += cabs(at(G, i, j) - (in_tri ? at(F, i, j) : at(S, i, j)));
                    }
                CHECK(dd == 0);
                free(G.v);
                af_release_array(cp);
                free(P.v);
                free(F.v);
                free(S.v);
                af_release_array(a);
                af_release_array(c);
            }
}

TEST(lapack_cholesky_not_positive_definite) {
    /* diag(1, 2, -1, 4): the leading minor of order 3 is not positive, so info is 3. */
    for (int ti = 0; ti < NLA; ti++) {
        af_dtype t = la_types[ti];
        mat A = mat_new(4, 4);
        const double dg[4] = {1, 2, -1, 4};
        for (int i = 0; i < 4; i++)
            A.v[i + 4 * i] = dg[i];
        const dim_t d[4] = {4, 4, 1, 1};
        af_array a = make_from(&A, d, t), c = 0;
        int info = 0;
        CHECK_AF(af_cholesky(&c, &info, a, true));
        CHECK(info == 3);
        info = 0;
        CHECK_AF(af_cholesky_inplace(&info, a, false));
        CHECK(info == 3);
        af_release_array(a);
        af_release_array(c);
        free(A.v);
    }
}

/* ---- solve ---- */

/* Gaussian elimination with partial pivoting in double: x = A^-1 B (A n x n). */
static mat ref_solve(mat A, mat B) {
    dim_t n = A.r, k = B.c;
    mat a = mat_new(n, n), x = mat_new(n, k);
    memcpy(a.v, A.v, sizeof(cd) * (size_t)(n * n));
    memcpy(x.v, B.v, sizeof(cd) * (size_t)(n * k));
    for (dim_t c = 0; c < n; c++) {
        dim_t p = c;
        for (dim_t i = c + 1; i < n; i++)
            if (cabs(at(a, i, c)) > cabs(at(a, p, c))) p = i;
        for (dim_t j = 0; j < n; j++) {
            cd tmp = a.v[c + j * n];
            a.v[c + j * n] = a.v[p + j * n];
            a.v[p + j * n] = tmp;
        }
        for (dim_t j = 0; j < k; j++) {
            cd tmp = x.v[c + j * n];
            x.v[c + j * n] = x.v[p + j * n];
            x.v[p + j * n] = tmp;
        }
        for (dim_t i = c + 1; i < n; i++) {
            cd f = at(a, i, c) / at(a, c, c);
            for (dim_t j = c; j < n; j++)
                a.v[i + j * n] -= f * at(a, c, j);
            for (dim_t j = 0; j < k; j++)
                x.v[i + j * n] -= f * x.v[c + j * n];
        }
    }
    for (dim_t c = n - 1; c >= 0; c--)
        for (dim_t j = 0; j < k; j++) {
            cd s = x.v[c + j * n];
            for (dim_t q = c + 1; q < n; q++)
                s -= at(a, c, q) * x.v[q + j * n];
            x.v[c + j * n] = s / at(a, c, c);
        }
    free(a.v);
    return x;
}

/* ||A x - b|| / (||A|| ||x|| + ||b|| eps-free scale) */
static double residual(mat A, mat x, mat b) {
    mat Ax = mul(A, x, false);
    double r = fro_diff(Ax, b) / (fro(A) * fro(x));
    free(Ax.v);
    return r;
}

TEST(lapack_solve_square_tall_wide_batched) {
    const struct {
        dim_t m, n, k, b2, b3;
    } cases[] = {{1, 1, 1, 1, 1}, {5, 5, 3, 1, 1}, {64, 64, 7, 1, 1}, {5, 5, 2, 2, 3},
                 {9, 5, 2, 1, 1}, {5, 9, 3, 1, 1}, {12, 4, 1, 2, 1},  {4, 12, 2, 1, 2}};
    for (int ti = 0; ti < NLA; ti++)
        for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
            af_dtype t = la_types[ti];
            dim_t m = cases[c].m, n = cases[c].n, k = cases[c].k, nb = cases[c].b2 * cases[c].b3;
            mat A, B;
            af_array a = rand_mat(t, m, n, cases[c].b2, cases[c].b3, &A);
            af_array b = rand_mat(t, m, k, cases[c].b2, cases[c].b3, &B), x = 0;
            CHECK_AF(af_solve(&x, a, b, AF_MAT_NONE));
            if (!x) continue;
            check_shape(x, n, k, cases[c].b2, cases[c].b3, t);
            mat X = read_mat(x);
            for (dim_t bi = 0; bi < nb; bi++) {
                mat Ab = batch_of(A, n, bi), Bb = batch_of(B, k, bi), Xb = batch_of(X, k, bi);
                mat Ref;
                if (m == n) {
                    CHECK_REL(residual(Ab, Xb, Bb), 8, n + 1, t, "square solve residual");
                    continue;
                }
                if (m > n) {
                    /* Least squares: the normal equations A^H A x = A^H b. */
                    mat Ah = herm(Ab), AhA = mul(Ah, Ab, false), Ahb = mul(Ah, Bb, false);
                    Ref = ref_solve(AhA, Ahb);
                    free(Ah.v);
                    free(AhA.v);
                    free(Ahb.v);
                } else {
                    /* Minimum norm: x = A^H (A A^H)^-1 b. */
                    mat AAh = mul(Ab, Ab, true), y = ref_solve(AAh, Bb), Ah = herm(Ab);
                    Ref = mul(Ah, y, false);
                    free(AAh.v);
                    free(y.v);
                    free(Ah.v);
                }
                CHECK_REL(fro_diff(Xb, Ref) / fro(Ref), 200, m + n, t, "least-squares solution");
                free(Ref.v);
            }
            free(X.v);
            free(A.v);
            free(B.v);
            af_release_array(a);
            af_release_array(b);
            af_release_array(x);
        }
}

TEST(lapack_solve_ill_conditioned_and_singular) {
    /* Hilbert 10 x 10 (condition ~1e13): LU with partial pivoting is backward stable, so the
     * residual stays a small multiple of eps even though x is far from the true solution. */
    const dim_t n = 10;
    mat H = mat_new(n, n), B = mat_new(n, 1);
    for (dim_t i = 0; i < n; i++) {
        B.v[i] = 1;
        for (dim_t j = 0; j < n; j++)
            H.v[i + j * n] = 1.0 / (double)(i + j + 1);
    }
    const dim_t hd[4] = {n, n, 1, 1}, bd[4] = {n, 1, 1, 1};
    af_array h = make_from(&H, hd, f64), b = make_from(&B, bd, f64), x = 0;
    CHECK_AF(af_solve(&x, h, b, AF_MAT_NONE));
    if (x) {
        mat X = read_mat(x);
        CHECK_REL(residual(H, X, B), 8, n, f64, "Hilbert residual");
        free(X.v);
        af_release_array(x);
    }
    /* A singular system: no error, non-finite values. The third column is the sum of the first
     * two and the elimination is exact in any order of operations (see the LU case above), so
     * U's last pivot is exactly 0 and the right-hand side, outside A's range, divides by it. */
    mat S = mat_new(3, 3);
    const double sv[9] = {4, 2, 1, 0, 2, 1, 4, 4, 2};
    for (int i = 0; i < 9; i++)
        S.v[i] = sv[i];
    const dim_t sd[4] = {3, 3, 1, 1}, sb[4] = {3, 1, 1, 1};
    af_array s = make_from(&S, sd, f32), sbv = 0, xs = 0;
    mat SB = mat_new(3, 1);
    SB.v[0] = 1, SB.v[1] = 2, SB.v[2] = 3;
    sbv = make_from(&SB, sb, f32);
    CHECK_AF(af_solve(&xs, s, sbv, AF_MAT_NONE));
    if (xs) {
        mat X = read_mat(xs);
        bool nonfinite = false;
        for (int i = 0; i < 3; i++)
            nonfinite |= !isfinite(creal(X.v[i]));
        CHECK(nonfinite);
        free(X.v);
        af_release_array(xs);
    }
    af_release_array(s);
    af_release_array(sbv);
    free(S.v);
    free(SB.v);
    af_release_array(h);
    af_release_array(b);
    free(H.v);
    free(B.v);
}

TEST(lapack_solve_triangular) {
    const af_mat_prop opts[] = {AF_MAT_LOWER, AF_MAT_UPPER, AF_MAT_LOWER | AF_MAT_DIAG_UNIT,
                                AF_MAT_UPPER | AF_MAT_DIAG_UNIT};
    for (int ti = 0; ti < NLA; ti++)
        for (int oi = 0; oi < 4; oi++) {
            af_dtype t = la_types[ti];
            af_mat_prop o = opts[oi];
            bool up = (o & AF_MAT_UPPER) != 0, unit = (o & AF_MAT_DIAG_UNIT) != 0;
            dim_t n = 6, k = 3;
            mat A, B;
            /* A random matrix: only its triangle is read. A strong diagonal keeps it well
             * conditioned. */
            af_array a0 = rand_mat(t, n, n, 2, 1, &A), b = rand_mat(t, n, k, 2, 1, &B), x = 0;
            for (dim_t bi = 0; bi < 2; bi++)
                for (dim_t i = 0; i < n; i++)
                    A.v[bi * n * n + i + i * n] += 4;
            const dim_t ad[4] = {n, n, 2, 1};
            af_array a = make_from(&A, ad, t);
            CHECK_AF(af_solve(&x, a, b, o));
            if (x) {
                check_shape(x, n, k, 2, 1, t);
                mat X = read_mat(x);
                for (dim_t bi = 0; bi < 2; bi++) {
                    mat T = mat_new(n, n);
                    for (dim_t j = 0; j < n; j++)
                        for (dim_t i = 0; i < n; i++)
                            if (i == j)
                                T.v[i + j * n] = unit ? 1 : A.v[bi * n * n + i + j * n];
                            else if (up ? i < j : i > j)
                                T.v[i + j * n] = A.v[bi * n * n + i + j * n];
                    CHECK_REL(residual(T, batch_of(X, k, bi), batch_of(B, k, bi)), 8, n, t,
                              "triangular residual");
                    free(T.v);
                }
                free(X.v);
            }
            af_release_array(a0);
            af_release_array(a);
            af_release_array(b);
            af_release_array(x);
            free(A.v);
            free(B.v);
        }
}

TEST(lapack_solve_errors) {
    mat A, B, C, W;
    af_array a = rand_mat(f32, 4, 4, 1, 1, &A), b = rand_mat(f32, 4, 2, 1, 1, &B);
    af_array c = rand_mat(f32, 5, 2, 1, 1, &C), w = rand_mat(f32, 4, 6, 1, 1, &W), x = 0;
    af_array ai = 0, ad = 0, ah = 0, bh = 0;
    CHECK_AF(af_cast(&ai, a, s32));
    CHECK_AF(af_cast(&ad, a, f64));
    CHECK_AF(af_cast(&ah, a, f16));
    CHECK_AF(af_cast(&bh, b, f16));
    CHECK_ERR(af_solve(&x, ai, b, AF_MAT_NONE), AF_ERR_ARG);
    CHECK_ERR(af_solve(&x, ad, b, AF_MAT_NONE), AF_ERR_DIFF_TYPE);
    CHECK_ERR(af_solve(&x, ah, bh, AF_MAT_NONE), AF_ERR_TYPE);
    CHECK_ERR(af_solve(&x, a, c, AF_MAT_NONE), AF_ERR_SIZE);
    CHECK_ERR(af_solve(&x, a, b, AF_MAT_TRANS), AF_ERR_NOT_SUPPORTED);
    CHECK_ERR(af_solve(&x, a, b, AF_MAT_SYM), AF_ERR_NOT_SUPPORTED);
    CHECK_ERR(af_solve(&x, a, b, AF_MAT_LOWER | AF_MAT_TRANS), AF_ERR_NOT_SUPPORTED);
    CHECK_ERR(af_solve(&x, w, b, AF_MAT_UPPER), AF_ERR_SIZE);
    CHECK_ERR(af_solve(NULL, a, b, AF_MAT_NONE), AF_ERR_ARG);
    CHECK(x == 0);
    /* Batches must match (no broadcasting). */
    mat A2, B2;
    af_array a2 = rand_mat(f32, 4, 4, 2, 1, &A2), b2 = rand_mat(f32, 4, 2, 3, 1, &B2);
    CHECK_ERR(af_solve(&x, a2, b2, AF_MAT_NONE), AF_ERR_SIZE);
    /* Empty systems give an empty result. */
    const dim_t z[4] = {0, 0, 1, 1}, zb[4] = {0, 2, 1, 1};
    af_array e = 0, eb = 0;
    CHECK_AF(af_constant(&e, 0, 2, z, f32));
    CHECK_AF(af_constant(&eb, 0, 2, zb, f32));
    CHECK_AF(af_solve(&x, e, eb, AF_MAT_NONE));
    if (x) {
        dim_t n = -1;
        af_get_elements(&n, x);
        CHECK(n == 0);
        af_release_array(x);
    }
    af_release_array(e);
    af_release_array(eb);
    af_release_array(a2);
    af_release_array(b2);
    af_release_array(ai);
    af_release_array(ad);
    af_release_array(ah);
    af_release_array(bh);
    af_release_array(a);
    af_release_array(b);
    af_release_array(c);
    af_release_array(w);
    free(A.v);
    free(B.v);
    free(C.v);
    free(W.v);
    free(A2.v);
    free(B2.v);
}

TEST(lapack_solve_lu) {
    for (int ti = 0; ti < NLA; ti++) {
        af_dtype t = la_types[ti];
        dim_t n = 9, k = 4;
        mat A, B;
        af_array a = rand_mat(t, n, n, 1, 1, &A), b = rand_mat(t, n, k, 1, 1, &B), f = 0, p = 0;
        CHECK_AF(af_copy_array(&f, a));
        CHECK_AF(af_lu_inplace(&p, f, true));
        af_array x = 0;
        CHECK_AF(af_solve_lu(&x, f, p, b, AF_MAT_NONE));
        if (x) {
            check_shape(x, n, k, 1, 1, t);
            mat X = read_mat(x);
            CHECK_REL(residual(A, X, B), 8, n, t, "solve_lu residual");
            free(X.v);
            af_release_array(x);
        }
        /* Errors: pivots of another dtype, options, a batch, a non-square matrix. */
        af_array pf = 0, x2 = 0;
        CHECK_AF(af_cast(&pf, p, f32));
        CHECK_ERR(af_solve_lu(&x2, f, pf, b, AF_MAT_NONE), AF_ERR_DIFF_TYPE);
        CHECK_ERR(af_solve_lu(&x2, f, p, b, AF_MAT_LOWER), AF_ERR_NOT_SUPPORTED);
        mat W;
        af_array w = rand_mat(t, n, n, 2, 1, &W);
        CHECK_ERR(af_solve_lu(&x2, w, p, b, AF_MAT_NONE), AF_ERR_BATCH);
        af_release_array(w);
        free(W.v);
        af_release_array(pf);
        af_release_array(a);
        af_release_array(b);
        af_release_array(f);
        af_release_array(p);
        free(A.v);
        free(B.v);
    }
}

/* ---- inverse, det ---- */

TEST(lapack_inverse) {
    const dim_t sizes[] = {1, 2, 7, 40};
    for (int ti = 0; ti < NLA; ti++)
        for (int si = 0; si < 4; si++) {
            af_dtype t = la_types[ti];
            dim_t n = sizes[si];
            mat A;
            af_array a = rand_mat(t, n, n, 1, 1, &A), v = 0;
            CHECK_AF(af_inverse(&v, a, AF_MAT_NONE));
            if (!v) continue;
            check_shape(v, n, n, 1, 1, t);
            mat V = read_mat(v), AV = mul(A, V, false), I_ = eye(n);
            /* ||A A^-1 - I|| / (||A|| ||A^-1||) is the backward error of the inverse. */
            CHECK_REL(fro_diff(AV, I_) / (fro(A) * fro(V)), 8, n + 1, t, "A A^-1 - I");
            free(AV.v);
            free(I_.v);
            free(V.v);
            free(A.v);
            af_release_array(a);
            af_release_array(v);
        }
    /* Singular: non-finite values, no error. Errors: non-square, options, dtype, batch. */
    mat Z = mat_new(2, 2);
    const dim_t d[4] = {2, 2, 1, 1};
    af_array z = make_from(&Z, d, f32), v = 0;
    CHECK_AF(af_inverse(&v, z, AF_MAT_NONE));
    if (v) {
        mat V = read_mat(v);
        CHECK(!isfinite(creal(V.v[0])) || !isfinite(creal(V.v[3])));
        free(V.v);
        af_release_array(v);
    }
    mat R, B3;
    af_array r = rand_mat(f32, 3, 4, 1, 1, &R), b3 = rand_mat(f32, 3, 3, 2, 1, &B3), ri = 0, rh = 0;
    CHECK_ERR(af_inverse(&v, r, AF_MAT_NONE), AF_ERR_SIZE);
    CHECK_ERR(af_inverse(&v, z, AF_MAT_TRANS), AF_ERR_NOT_SUPPORTED);
    CHECK_ERR(af_inverse(&v, b3, AF_MAT_NONE), AF_ERR_BATCH);
    CHECK_AF(af_cast(&ri, z, s32));
    CHECK_AF(af_cast(&rh, z, f16));
    CHECK_ERR(af_inverse(&v, ri, AF_MAT_NONE), AF_ERR_ARG);
    CHECK_ERR(af_inverse(&v, rh, AF_MAT_NONE), AF_ERR_TYPE);
    af_release_array(ri);
    af_release_array(rh);
    af_release_array(r);
    af_release_array(b3);
    af_release_array(z);
    free(Z.v);
    free(R.v);
    free(B3.v);
}

/* The determinant in double by elimination with partial pivoting. */
static cd ref_det(mat A) {
    dim_t n = A.r;
    mat a = mat_new(n, n);
    memcpy(a.v, A.v, sizeof(cd) * (size_t)(n * n));
    cd d = 1;
    for (dim_t c = 0; c < n; c++) {
        dim_t p = c;
        for (dim_t i = c + 1; i < n; i++)
            if (cabs(at(a, i, c)) > cabs(at(a, p, c))) p = i;
        if (p != c) {
            d = -d;
            for (dim_t j = 0; j < n; j++) {
                cd tmp = a.v[c + j * n];
                a.v[c + j * n] = a.v[p + j * n];
                a.v[p + j * n] = tmp;
            }
        }
        d *= at(a, c, c);
        if (at(a, c, c) == 0) break;
        for (dim_t i = c + 1; i < n; i++) {
            cd f = at(a, i, c) / at(a, c, c);
            for (dim_t j = c; j < n; j++)
                a.v[i + j * n] -= f * at(a, c, j);
        }
    }
    free(a.v);
    return d;
}

TEST(lapack_det) {
    const dim_t sizes[] = {1, 2, 5, 12};
    for (int ti = 0; ti < NLA; ti++)
        for (int si = 0; si < 4; si++) {
            af_dtype t = la_types[ti];
            dim_t n = sizes[si];
            mat A;
            af_array a = rand_mat(t, n, n, 1, 1, &A);
            double re = 0, im = 0;
            CHECK_AF(af_det(&re, &im, a));
            cd want = ref_det(A);
            double got[2] = {re, im}, ref[2] = {creal(want), cimag(want)};
            /* det's relative accuracy is about n eps times the condition number; random
             * matrices of this size are tame. */
            double scale = cabs(want) > 1 ? cabs(want) : 1;
            CHECK_CLOSE(got, ref, 2, 0, 1000 * (double)n * eps_of(t) * scale);
            free(A.v);
            af_release_array(a);
        }
    /* Singular: 0. Empty: 1. Errors: non-square, dtype, batch. */
    mat S = mat_new(3, 3);
    for (int i = 0; i < 3; i++)
        S.v[i] = S.v[i + 3] = i + 1, S.v[i + 6] = i;
    const dim_t d[4] = {3, 3, 1, 1};
    af_array s = make_from(&S, d, f64);
    double re = 9, im = 9;
    CHECK_AF(af_det(&re, &im, s));
    CHECK(fabs(re) < 1e-12 && im == 0);
    const dim_t z[4] = {0, 0, 1, 1};
    af_array e = 0;
    CHECK_AF(af_constant(&e, 0, 2, z, f32));
    CHECK_AF(af_det(&re, &im, e));
    CHECK(re == 1 && im == 0);
    mat R, B3;
    af_array r = rand_mat(f32, 3, 4, 1, 1, &R), b3 = rand_mat(f32, 3, 3, 2, 1, &B3), si = 0;
    CHECK_ERR(af_det(&re, &im, r), AF_ERR_SIZE);
    CHECK_ERR(af_det(&re, &im, b3), AF_ERR_BATCH);
    CHECK_AF(af_cast(&si, s, s32));
    CHECK_ERR(af_det(&re, &im, si), AF_ERR_ARG);
    CHECK_ERR(af_det(NULL, &im, s), AF_ERR_ARG);
    af_release_array(si);
    af_release_array(r);
    af_release_array(b3);
    af_release_array(e);
    af_release_array(s);
    free(S.v);
    free(R.v);
    free(B3.v);
}

/* ---- SVD, pseudo-inverse, rank ---- */

TEST(lapack_svd_reconstructs) {
    for (int ti = 0; ti < NLA; ti++)
        for (size_t si = 0; si < NSHAPES; si++)
            for (int inplace = 0; inplace < 2; inplace++) {
                af_dtype t = la_types[ti];
                dim_t m = shapes[si][0], n = shapes[si][1], k = m < n ? m : n;
                mat A;
                af_array a = rand_mat(t, m, n, 1, 1, &A), u = 0, s = 0, vt = 0;
                if (inplace) {
                    if (m < n) {
                        CHECK_ERR(af_svd_inplace(&u, &s, &vt, a), AF_ERR_SIZE);
                        af_release_array(a);
                        free(A.v);
                        continue;
                    }
                    CHECK_AF(af_svd_inplace(&u, &s, &vt, a));
                } else {
                    CHECK_AF(af_svd(&u, &s, &vt, a));
                }
                if (!u) continue;
                af_dtype rt = t == c32 ? f32 : t == c64 ? f64 : t;
                check_shape(u, m, m, 1, 1, t);
                check_shape(s, k, 1, 1, 1, rt);
                check_shape(vt, n, n, 1, 1, t);
                mat U = read_mat(u), S = read_mat(s), V = read_mat(vt);
                bool sorted = true;
                for (dim_t i = 0; i < k; i++)
                    if (creal(S.v[i]) < 0 || (i && creal(S.v[i]) > creal(S.v[i - 1])))
                        sorted = false;
                CHECK(sorted);
                mat US = mat_new(m, n);
                for (dim_t j = 0; j < k; j++)
                    for (dim_t i = 0; i < m; i++)
                        US.v[i + j * m] = at(U, i, j) * S.v[j];
                mat USV = mul(US, V, false), UhU = mul_h(U, U), VVh = mul(V, V, true), Im = eye(m),
                    In = eye(n);
                CHECK_REL(fro_diff(USV, A) / fro(A), 16, m + n, t, "U S V^H - A");
                CHECK_REL(fro_diff(UhU, Im) / sqrt((double)m), 16, m + n, t, "U^H U - I");
                CHECK_REL(fro_diff(VVh, In) / sqrt((double)n), 16, m + n, t, "V V^H - I");
                free(US.v);
                free(USV.v);
                free(UhU.v);
                free(VVh.v);
                free(Im.v);
                free(In.v);
                free(U.v);
                free(S.v);
                free(V.v);
                free(A.v);
                af_release_array(a);
                af_release_array(u);
                af_release_array(s);
                af_release_array(vt);
            }
}

TEST(lapack_svd_errors_and_empty) {
    mat A;
    af_array a = rand_mat(f32, 3, 3, 2, 1, &A), u = 0, s = 0, vt = 0, ai = 0;
    CHECK_ERR(af_svd(&u, &s, &vt, a), AF_ERR_ARG);
    mat B;
    af_array b = rand_mat(f32, 3, 3, 1, 1, &B);
    CHECK_AF(af_cast(&ai, b, s32));
    CHECK_ERR(af_svd(&u, &s, &vt, ai), AF_ERR_TYPE);
    CHECK_ERR(af_svd(NULL, &s, &vt, b), AF_ERR_ARG);
    const dim_t z[4] = {0, 3, 1, 1};
    af_array e = 0;
    CHECK_AF(af_constant(&e, 0, 2, z, f64));
    CHECK_AF(af_svd(&u, &s, &vt, e));
    if (u) {
        dim_t n = -1;
        af_get_elements(&n, s);
        CHECK(n == 0);
        af_release_array(u);
        af_release_array(s);
        af_release_array(vt);
    }
    af_release_array(e);
    af_release_array(ai);
    af_release_array(a);
    af_release_array(b);
    free(A.v);
    free(B.v);
}

/* The Moore-Penrose conditions for X = A+ (one matrix of a batch). */
static void check_pinv(mat A, mat X, af_dtype t, double c) {
    mat AX = mul(A, X, false), XA = mul(X, A, false);
    mat AXA = mul(AX, A, false), XAX = mul(XA, X, false);
    mat AXh = herm(AX), XAh = herm(XA);
    dim_t n = A.r + A.c;
    CHECK_REL(fro_diff(AXA, A) / fro(A), c, n, t, "A A+ A - A");
    CHECK_REL(fro_diff(XAX, X) / fro(X), c, n, t, "A+ A A+ - A+");
    CHECK_REL(fro_diff(AXh, AX) / fro(AX), c, n, t, "(A A+)^H - A A+");
    CHECK_REL(fro_diff(XAh, XA) / fro(XA), c, n, t, "(A+ A)^H - A+ A");
    free(AX.v);
    free(XA.v);
    free(AXA.v);
    free(XAX.v);
    free(AXh.v);
    free(XAh.v);
}

TEST(lapack_pinverse) {
    const struct {
        dim_t m, n, b2, b3;
    } cases[] = {{1, 1, 1, 1}, {6, 4, 1, 1}, {4, 6, 1, 1}, {5, 5, 2, 3}, {7, 3, 2, 1}};
    for (int ti = 0; ti < NLA; ti++)
        for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
            af_dtype t = la_types[ti];
            dim_t m = cases[c].m, n = cases[c].n, nb = cases[c].b2 * cases[c].b3;
            mat A;
            af_array a = rand_mat(t, m, n, cases[c].b2, cases[c].b3, &A), x = 0;
            CHECK_AF(af_pinverse(&x, a, 1e-6, AF_MAT_NONE));
            if (!x) continue;
            check_shape(x, n, m, cases[c].b2, cases[c].b3, t);
            mat X = read_mat(x);
            for (dim_t bi = 0; bi < nb; bi++)
                check_pinv(batch_of(A, n, bi), batch_of(X, m, bi), t, 64);
            free(X.v);
            free(A.v);
            af_release_array(a);
            af_release_array(x);
        }
    /* Rank deficient: u v^H (rank 1) in f64; small singular values are cut by tol. */
    dim_t m = 5, n = 4;
    mat A = mat_new(m, n);
    for (dim_t j = 0; j < n; j++)
        for (dim_t i = 0; i < m; i++)
            A.v[i + j * m] = (double)(i + 1) * (double)(j % 3 + 1);
    const dim_t d[4] = {m, n, 1, 1};
    af_array a = make_from(&A, d, f64), x = 0;
    CHECK_AF(af_pinverse(&x, a, 1e-6, AF_MAT_NONE));
    if (x) {
        mat X = read_mat(x);
        check_pinv(A, X, f64, 64);
        free(X.v);
        af_release_array(x);
    }
    CHECK_ERR(af_pinverse(&x, a, -1, AF_MAT_NONE), AF_ERR_ARG);
    CHECK_ERR(af_pinverse(&x, a, 1e-6, AF_MAT_TRANS), AF_ERR_NOT_SUPPORTED);
    af_release_array(a);
    free(A.v);
}

TEST(lapack_rank) {
    for (int ti = 0; ti < NLA; ti++) {
        af_dtype t = la_types[ti];
        mat A;
        af_array a = rand_mat(t, 6, 4, 1, 1, &A), w = 0;
        unsigned r = 99;
        CHECK_AF(af_rank(&r, a, 1e-5));
        CHECK(r == 4);
        CHECK_AF(af_rank(&r, a, 1e6)); /* nothing is above a huge tolerance */
        CHECK(r == 0);
        /* Rank 2: two independent columns repeated. */
        mat B = mat_new(5, 6);
        for (dim_t j = 0; j < 6; j++)
            for (dim_t i = 0; i < 5; i++)
                B.v[i + j * 5] = (j % 2) ? (double)(i + 1) : (double)((i * 3) % 5) - 2;
        const dim_t bd[4] = {5, 6, 1, 1};
        w = make_from(&B, bd, t);
        CHECK_AF(af_rank(&r, w, 1e-3));
        CHECK(r == 2);
        af_release_array(w);
        free(B.v);
        free(A.v);
        af_release_array(a);
    }
    const dim_t z[4] = {0, 3, 1, 1};
    af_array e = 0, ai = 0;
    unsigned r = 7;
    CHECK_AF(af_constant(&e, 0, 2, z, f32));
    CHECK_AF(af_rank(&r, e, 1e-5));
    CHECK(r == 0);
    mat A;
    af_array b3 = rand_mat(f32, 3, 3, 2, 1, &A);
    CHECK_ERR(af_rank(&r, b3, 1e-5), AF_ERR_BATCH);
    CHECK_AF(af_cast(&ai, e, u8));
    CHECK_ERR(af_rank(&r, ai, 1e-5), AF_ERR_ARG);
    af_release_array(ai);
    af_release_array(b3);
    af_release_array(e);
    free(A.v);
}

/* ---- norms ---- */

/* The largest singular value in double, by power iteration on A^H A. */
static double ref_norm2(mat A) {
    mat v = mat_new(A.c, 1);
    for (dim_t i = 0; i < A.c; i++)
        v.v[i] = 1.0 / (double)(i + 1);
    double s = 0;
    for (int it = 0; it < 2000; it++) {
        mat Av = mul(A, v, false), Ah = herm(A), w = mul(Ah, Av, false);
        double nw = fro(w);
        s = sqrt(nw);
        for (dim_t i = 0; i < A.c; i++)
            v.v[i] = w.v[i] / nw;
        free(Av.v);
        free(Ah.v);
        free(w.v);
    }
    free(v.v);
    return s;
}

TEST(lapack_norm_every_type) {
    const af_dtype ts[] = {f32, f64, c32, c64, f16};
    for (int ti = 0; ti < 5; ti++) {
        af_dtype t = ts[ti];
        dim_t m = 7, n = 5;
        mat A;
        af_array a;
        if (t == f16) {
            /* f16 values: generated in f32, converted (the cast rounds as the storage does). */
            af_array a32 = rand_mat(f32, m, n, 1, 1, &A);
            a = 0;
            CHECK_AF(af_cast(&a, a32, f16));
            af_release_array(a32);
            af_array back = 0;
            CHECK_AF(af_cast(&back, a, f64));
            mat B = read_mat(back);
            memcpy(A.v, B.v, sizeof(cd) * (size_t)(m * n));
            free(B.v);
            af_release_array(back);
        } else {
            a = rand_mat(t, m, n, 1, 1, &A);
        }
        double vec1 = 0, vinf = 0, v2 = 0, vp = 0, m1 = 0, minf = 0, lpq = 0;
        const double p = 3, q = 1.5;
        double *rows = calloc((size_t)m, sizeof(double));
        for (dim_t j = 0; j < n; j++) {
            double c1 = 0, cp = 0;
            for (dim_t i = 0; i < m; i++) {
                double x = cabs(at(A, i, j));
                vec1 += x;
                vinf = x > vinf ? x : vinf;
                v2 += x * x;
                vp += pow(x, p);
                c1 += x;
                cp += pow(x, p);
                rows[i] += x;
            }
            m1 = c1 > m1 ? c1 : m1;
            lpq += pow(pow(cp, 1 / p), q);
        }
        for (dim_t i = 0; i < m; i++)
            minf = rows[i] > minf ? rows[i] : minf;
        free(rows);
        const struct {
            af_norm_type k;
            double want;
        } cases[] = {{AF_NORM_VECTOR_1, vec1},
                     {AF_NORM_VECTOR_INF, vinf},
                     {AF_NORM_EUCLID, sqrt(v2)},
                     {AF_NORM_VECTOR_P, pow(vp, 1 / p)},
                     {AF_NORM_MATRIX_1, m1},
                     {AF_NORM_MATRIX_INF, minf},
                     {AF_NORM_MATRIX_L_PQ, pow(lpq, 1 / q)},
                     {AF_NORM_MATRIX_2, ref_norm2(A)}};
        for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
            double got = -1;
            CHECK_AF(af_norm(&got, a, cases[c].k, p, q));
            double tol = (t == f16 ? 1e-3 : 100 * eps_of(t)) * cases[c].want;
            if (!(fabs(got - cases[c].want) <= tol))
                em_test_fail(__FILE__, __LINE__, "norm %d of %s: got %.17g want %.17g",
                             (int)cases[c].k, em_test_dtype_name(t), got, cases[c].want);
        }
        free(A.v);
        af_release_array(a);
    }
}

TEST(lapack_norm_special_and_errors) {
    /* A vector norm of a matrix treats it as one vector; NaN propagates; empty is 0. */
    double x[6] = {3, -4, 0, 0, 0, 0}, got = -1;
    const dim_t d[2] = {3, 2};
    af_array a = em_test_make(x, 2, d, f64);
    CHECK_AF(af_norm(&got, a, AF_NORM_EUCLID, 1, 1));
    CHECK(got == 5);
    CHECK_AF(af_norm(&got, a, AF_NORM_VECTOR_INF, 1, 1));
    CHECK(got == 4);
    x[5] = NAN;
    af_array nan = em_test_make(x, 2, d, f32);
    const af_norm_type all[] = {AF_NORM_VECTOR_1,   AF_NORM_VECTOR_INF, AF_NORM_EUCLID,
                                AF_NORM_VECTOR_P,   AF_NORM_MATRIX_1,   AF_NORM_MATRIX_INF,
                                AF_NORM_MATRIX_L_PQ};
    for (int i = 0; i < 7; i++) {
        got = 0;
        CHECK_AF(af_norm(&got, nan, all[i], 3, 2));
        if (!isnan(got)) em_test_fail(__FILE__, __LINE__, "norm %d of NaN: %g", (int)all[i], got);
    }
    /* A huge f64 norm stays finite: BLAS's nrm2 scales instead of squaring. */
    double big[4] = {1e300, 1e300, 1e300, 1e300};
    const dim_t bd[1] = {4};
    af_array b = em_test_make(big, 1, bd, f64);
    CHECK_AF(af_norm(&got, b, AF_NORM_EUCLID, 1, 1));
    CHECK(isfinite(got) && fabs(got - 2e300) < 1e288);
    const dim_t z[2] = {0, 2};
    af_array e = 0, ai = 0, b3 = 0;
    CHECK_AF(af_constant(&e, 1, 2, z, f32));
    got = 7;
    CHECK_AF(af_norm(&got, e, AF_NORM_EUCLID, 1, 1));
    CHECK(got == 0);
    CHECK_AF(af_cast(&ai, a, s32));
    CHECK_ERR(af_norm(&got, ai, AF_NORM_EUCLID, 1, 1), AF_ERR_ARG);
    CHECK_ERR(af_norm(&got, a, (af_norm_type)42, 1, 1), AF_ERR_NOT_SUPPORTED);
    CHECK_ERR(af_norm(NULL, a, AF_NORM_EUCLID, 1, 1), AF_ERR_ARG);
    const dim_t d3[3] = {2, 2, 2};
    CHECK_AF(af_constant(&b3, 1, 3, d3, f32));
    CHECK_ERR(af_norm(&got, b3, AF_NORM_EUCLID, 1, 1), AF_ERR_BATCH);
    af_release_array(b3);
    af_release_array(ai);
    af_release_array(e);
    af_release_array(b);
    af_release_array(nan);
    af_release_array(a);
}

/* ---- the rest of the errors, and af_is_lapack_available ---- */

TEST(lapack_factor_errors) {
    mat A, B, S;
    af_array a = rand_mat(f32, 3, 4, 1, 1, &A), b = rand_mat(f32, 3, 3, 2, 1, &B);
    af_array sq = rand_mat(f32, 3, 3, 1, 1, &S), ai = 0, ah = 0, o1 = 0, o2 = 0, o3 = 0;
    int info = 0;
    CHECK_AF(af_cast(&ai, sq, s32));
    CHECK_AF(af_cast(&ah, sq, f16));
    CHECK_ERR(af_lu(&o1, &o2, &o3, b), AF_ERR_BATCH);
    CHECK_ERR(af_lu(&o1, &o2, &o3, ai), AF_ERR_ARG);
    CHECK_ERR(af_lu(&o1, &o2, &o3, ah), AF_ERR_TYPE);
    CHECK_ERR(af_lu(NULL, &o2, &o3, sq), AF_ERR_ARG);
    CHECK_ERR(af_lu_inplace(&o1, b, false), AF_ERR_BATCH);
    CHECK_ERR(af_lu_inplace(NULL, sq, false), AF_ERR_ARG);
    CHECK_ERR(af_qr(&o1, &o2, &o3, b), AF_ERR_BATCH);
    CHECK_ERR(af_qr(&o1, &o2, &o3, ai), AF_ERR_ARG);
    CHECK_ERR(af_qr_inplace(&o1, ah), AF_ERR_TYPE);
    CHECK_ERR(af_cholesky(&o1, &info, a, false), AF_ERR_SIZE);
    CHECK_ERR(af_cholesky(&o1, &info, b, false), AF_ERR_BATCH);
    CHECK_ERR(af_cholesky(&o1, &info, ai, false), AF_ERR_ARG);
    CHECK_ERR(af_cholesky(&o1, NULL, sq, false), AF_ERR_ARG);
    CHECK_ERR(af_cholesky_inplace(&info, a, true), AF_ERR_SIZE);
    CHECK(o1 == 0 && o2 == 0 && o3 == 0);
    /* Empty inputs: empty outputs of the input's dtype. */
    const dim_t z[2] = {0, 0};
    af_array e = 0;
    CHECK_AF(af_constant(&e, 0, 2, z, c32));
    CHECK_AF(af_lu(&o1, &o2, &o3, e));
    af_dtype t = f32;
    if (o3) {
        af_get_type(&t, o3);
        CHECK(t == c32);
    }
    af_release_array(o1);
    af_release_array(o2);
    af_release_array(o3);
    o1 = o2 = o3 = 0;
    CHECK_AF(af_qr(&o1, &o2, &o3, e));
    af_release_array(o1);
    af_release_array(o2);
    af_release_array(o3);
    o1 = 0;
    CHECK_AF(af_cholesky(&o1, &info, e, true));
    if (o1) {
        dim_t n = -1;
        af_get_elements(&n, o1);
        CHECK(n == 0);
    }
    af_release_array(o1);
    CHECK_AF(af_cholesky_inplace(&info, e, true));
    bool avail = false;
    CHECK_AF(af_is_lapack_available(&avail));
    CHECK(avail);
    CHECK_ERR(af_is_lapack_available(NULL), AF_ERR_ARG);
    af_release_array(e);
    af_release_array(ai);
    af_release_array(ah);
    af_release_array(a);
    af_release_array(b);
    af_release_array(sq);
    free(A.v);
    free(B.v);
    free(S.v);
}

TEST(lapack_view_inputs) {
    /* A reorder view (dims 0 and 1 swapped, sharing the parent's buffer) as input: the functions
     * see A^T. In-place functions given a view write their result to it, not to the parent. */
    for (int ti = 0; ti < NLA; ti++) {
        af_dtype t = la_types[ti];
        dim_t n = 6;
        mat A, B;
        af_array a = rand_mat(t, n, n, 1, 1, &A), b = rand_mat(t, n, 2, 1, 1, &B), v = 0, x = 0;
        CHECK_AF(af_reorder(&v, a, 1, 0, 2, 3));
        if (!v) continue;
        mat At = mat_new(n, n);
        for (dim_t i = 0; i < n; i++)
            for (dim_t j = 0; j < n; j++)
                At.v[i + j * n] = at(A, j, i);
        CHECK_AF(af_solve(&x, v, b, AF_MAT_NONE));
        if (x) {
            mat X = read_mat(x);
            CHECK_REL(residual(At, X, B), 8, n, t, "solve with a view");
            free(X.v);
            af_release_array(x);
        }
        double re = 0, im = 0, nrm = 0;
        CHECK_AF(af_det(&re, &im, v));
        cd want = ref_det(At);
        double got[2] = {re, im}, ref[2] = {creal(want), cimag(want)};
        CHECK_CLOSE(got, ref, 2, 0,
                    1000 * (double)n * eps_of(t) * (cabs(want) > 1 ? cabs(want) : 1));
        /* MATRIX_1 of A^T is the infinity norm of A. */
        double rows = 0;
        for (dim_t i = 0; i < n; i++) {
            double s = 0;
            for (dim_t j = 0; j < n; j++)
                s += cabs(at(A, i, j));
            rows = s > rows ? s : rows;
        }
        CHECK_AF(af_norm(&nrm, v, AF_NORM_MATRIX_1, 1, 1));
        CHECK(fabs(nrm - rows) <= 100 * eps_of(t) * rows);
        /* In-place LU of the view: the view gets the factors, a keeps A. */
        af_array p = 0;
        CHECK_AF(af_lu_inplace(&p, v, true));
        mat Av = read_mat(a);
        CHECK(fro_diff(Av, A) == 0);
        free(Av.v);
        af_release_array(p);
        free(At.v);
        free(A.v);
        free(B.v);
        af_release_array(v);
        af_release_array(a);
        af_release_array(b);
    }
}
