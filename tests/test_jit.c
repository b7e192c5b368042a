/* The JIT's flush rules (docs/ARCHITECTURE.md): a tree is evaluated at once when its height reaches
 * EM_JIT_MAX_HEIGHT (24), when it has EM_JIT_MAX_LEAVES (48) leaves, or under memory pressure.
 * Otherwise it stays lazy until a read, af_eval or af_get_device_ptr. Buffers in use are counted
 * with af_device_mem_info: a lazy node holds none of its own. */
#include "test.h"

#include <string.h>

static size_t buffers_in_use(void) {
    size_t ab, an, lb, ln;
    CHECK_AF(af_device_mem_info(&ab, &an, &lb, &ln));
    return ln;
}

static af_array rand_f32(dim_t n) {
    af_array a = 0;
    dim_t dims[1] = {n};
    CHECK_AF(af_randu(&a, 1, dims, f32));
    return a;
}

TEST(jit_lazy_until_read) {
    af_array a = rand_f32(1000), x = 0, t = 0;
    CHECK_AF(af_eval(a));
    size_t base = buffers_in_use();
    CHECK_AF(af_retain_array(&x, a));
    for (int i = 0; i < 10; i++) {
        CHECK_AF(af_add(&t, x, a, false));
        af_release_array(x);
        x = t;
    }
    CHECK(buffers_in_use() == base); /* ten lazy nodes, no buffers */
    CHECK_AF(af_eval(x));
    CHECK(buffers_in_use() == base + 1);
    float ha[1000], hx[1000];
    CHECK_AF(af_get_data_ptr(ha, a));
    CHECK_AF(af_get_data_ptr(hx, x));
    double got[1000], ref[1000];
    for (int i = 0; i < 1000; i++) {
        float r = ha[i];
        for (int k = 0; k < 10; k++)
            r = r + ha[i];
        got[i] = hx[i];
        ref[i] = r;
    }
    CHECK_CLOSE(got, ref, 1000, 0, 0);
    af_release_array(a);
    af_release_array(x);
}

TEST(jit_flush_on_height) {
    af_array a = rand_f32(64), x = 0, t = 0;
    CHECK_AF(af_eval(a));
    size_t base = buffers_in_use();
    CHECK_AF(af_retain_array(&x, a));
    /* Each af_abs adds one level. Height 24 is reached by the 24th op, which evaluates. */
    for (int i = 1; i <= 30; i++) {
        CHECK_AF(af_abs(&t, x));
        af_release_array(x);
        x = t;
        size_t now = buffers_in_use();
        if (i < 24) CHECK(now == base);
        if (i == 24) CHECK(now == base + 1);
    }
    af_release_array(a);
    af_release_array(x);
}

TEST(jit_flush_on_leaves) {
    /* A balanced sum keeps the height low while the leaf count grows: 64 leaves in height 6. */
    enum { N = 64 };
    af_array leaves[N], level[N];
    for (int i = 0; i < N; i++) {
        leaves[i] = rand_f32(16);
        CHECK_AF(af_eval(leaves[i]));
        level[i] = leaves[i];
    }
    size_t base = buffers_in_use();
    int n = N, flushed_at = 0;
    while (n > 1) {
        for (int i = 0; i < n / 2; i++) {
            af_array t = 0;
            CHECK_AF(af_add(&t, level[2 * i], level[2 * i + 1], false));
            if (n != N) {
                af_release_array(level[2 * i]);
                af_release_array(level[2 * i + 1]);
            }
            level[i] = t;
        }
        n /= 2;
        if (!flushed_at && buffers_in_use() > base) flushed_at = n;
    }
    /* The level with 64 leaves per node (one node) must have been evaluated eagerly; levels with
     * at most 32 leaves per node stay lazy. */
    CHECK(flushed_at == 1);
    af_release_array(level[0]);
    for (int i = 0; i < N; i++)
        af_release_array(leaves[i]);
}

/* A pass-through memory manager that reports high memory pressure: with it installed, every tree
 * that pins buffers is over the threshold and must be evaluated at once. The manager is set and
 * unset inside the case, so the rule is tested whatever ran before in this process. */
static af_err pressure_alloc(af_memory_manager h, void **ptr, int user_lock, const unsigned ndims,
                             dim_t *dims, const unsigned element_size) {
    (void)user_lock;
    size_t bytes = element_size;
    for (unsigned i = 0; i < ndims; i++)
        bytes *= (size_t)dims[i];
    return af_memory_manager_native_alloc(h, ptr, bytes);
}

static af_err pressure_unlock(af_memory_manager h, void *ptr, int user_unlock) {
    (void)user_unlock;
    return af_memory_manager_native_free(h, ptr);
}

static af_err pressure_high(af_memory_manager h, float *pressure) {
    (void)h;
    *pressure = 0.99f;
    return AF_SUCCESS;
}

static int buffers_seen;

static af_err pressure_count_alloc(af_memory_manager h, void **ptr, int user_lock,
                                   const unsigned ndims, dim_t *dims, const unsigned element_size) {
    buffers_seen++;
    return pressure_alloc(h, ptr, user_lock, ndims, dims, element_size);
}

TEST(jit_flush_on_memory_pressure) {
    af_memory_manager m = 0;
    CHECK_AF(af_create_memory_manager(&m));
    CHECK_AF(af_memory_manager_set_alloc_fn(m, pressure_count_alloc));
    CHECK_AF(af_memory_manager_set_unlock_fn(m, pressure_unlock));
    CHECK_AF(af_memory_manager_set_get_memory_pressure_fn(m, pressure_high));
    CHECK_AF(af_memory_manager_set_memory_pressure_threshold(m, 0.5f));
    CHECK_AF(af_set_memory_manager(m));
    buffers_seen = 0;
    af_array a = rand_f32(256), b = 0;
    CHECK_AF(af_eval(a));
    int base = buffers_seen;
    CHECK_AF(af_add(&b, a, a, false)); /* over the threshold: evaluated by the op itself */
    CHECK(buffers_seen == base + 1);
    af_release_array(a);
    af_release_array(b);
    CHECK_AF(af_unset_memory_manager());
    CHECK_AF(af_release_memory_manager(m));
}

TEST(jit_shared_subtree_and_eval_multiple) {
    af_array a = rand_f32(333), s = 0, p = 0, q = 0;
    CHECK_AF(af_sin(&s, a));
    CHECK_AF(af_mul(&p, s, s, false));
    CHECK_AF(af_add(&q, s, a, false));
    size_t base = buffers_in_use();
    af_array both[2] = {p, q};
    CHECK_AF(af_eval_multiple(2, both));
    CHECK(buffers_in_use() == base + 2);
    float ha[333], hp[333], hq[333];
    CHECK_AF(af_get_data_ptr(ha, a));
    CHECK_AF(af_get_data_ptr(hp, p));
    CHECK_AF(af_get_data_ptr(hq, q));
    double gp[333], gq[333], rp[333], rq[333];
    for (int i = 0; i < 333; i++) {
        double sv = sin((double)ha[i]);
        rp[i] = sv * sv;
        rq[i] = sv + ha[i];
        gp[i] = hp[i];
        gq[i] = hq[i];
    }
    CHECK_CLOSE(gp, rp, 333, 1e-5, 1e-6);
    CHECK_CLOSE(gq, rq, 333, 1e-5, 1e-6);
    af_release_array(a);
    af_release_array(s);
    af_release_array(p);
    af_release_array(q);
}

TEST(jit_manual_eval_flag) {
    CHECK_AF(af_set_manual_eval_flag(true));
    bool flag = false;
    CHECK_AF(af_get_manual_eval_flag(&flag));
    CHECK(flag);
    af_array a = rand_f32(8), x = 0, t = 0;
    CHECK_AF(af_eval(a));
    size_t base = buffers_in_use();
    CHECK_AF(af_retain_array(&x, a));
    for (int i = 0; i < 30; i++) { /* past the height limit: still lazy with manual eval */
        CHECK_AF(af_abs(&t, x));
        af_release_array(x);
        x = t;
    }
    CHECK(buffers_in_use() == base);
    CHECK_AF(af_eval(x));
    CHECK(buffers_in_use() == base + 1);
    CHECK_AF(af_set_manual_eval_flag(false));
    CHECK_ERR(af_get_manual_eval_flag(NULL), AF_ERR_ARG);
    af_release_array(a);
    af_release_array(x);
}
