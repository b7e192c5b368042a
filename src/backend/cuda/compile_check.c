/* Every kernel source the CUDA backend can generate, compiled with NVRTC alone. NVRTC needs no
 * device or driver, so CI (which has no GPU) catches code-generation errors in every family and
 * dtype before a GPU sees them. Each family registers a checker from its own file with
 * EM_CU_COMPILE_CHECK, so adding a family touches nothing here; tests/test_codegen.c runs them
 * through the exported hooks (em_cu_compile_check, one family at a time). */
#include "cu.h"

#include "../../core/err.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EM_CU_MAX_CHECKS 64

static struct {
    const char *name;
    em_cu_compile_check_fn fn;
} checks[EM_CU_MAX_CHECKS];
static int nchecks;

void em_cu_compile_check_register(const char *name, em_cu_compile_check_fn fn) {
    /* Runs from constructors, before any thread exists. */
    if (nchecks < EM_CU_MAX_CHECKS) checks[nchecks++] = (typeof(checks[0])){name, fn};
}

af_err em_cu_compile_source(const char *src, const char *kernel) {
    em_cu_target t;
    em_cu_target_for(90, &t);
    char *image = NULL;
    size_t size = 0;
    af_err err = em_cu_nvrtc("em_cu_compile_check", src, kernel, &t, &image, &size);
    free(image);
    return err;
}

void em_cu_sample_init(em_cu_sample_prog *s, af_dtype t, bool linear, em_cu_sample_kind kind) {
    memset(s, 0, sizeof(*s));
    s->buf.ptr = (void *)(uintptr_t)4096;
    s->buf.bytes = s->buf.cap = 1 << 20;
    atomic_store(&s->buf.refs, 1);
    const dim_t dims[4] = {8, 4, 2, 1};
    const dim_t dense[4] = {1, 8, 32, 64}, strided[4] = {2, 16, 64, 128};
    for (int l = 0; l < 3; l++) {
        em_node *n = &s->leaf[l];
        n->op = EM_OP_BUF;
        n->type = (uint8_t)t;
        n->buf = &s->buf;
        memcpy(n->dims, dims, sizeof(dims));
        memcpy(n->strides, linear ? dense : strided, sizeof(dense));
        atomic_store(&n->biased, 1);
    }
    s->root = &s->leaf[0];
    if (kind == EM_CU_SAMPLE_LEAF) return;
    em_node *m = &s->op[0], *a = &s->op[1];
    m->nchild = 2;
    m->child[0] = &s->leaf[0], m->child[1] = &s->leaf[1];
    memcpy(m->dims, dims, sizeof(dims));
    m->height = 1;
    atomic_store(&m->biased, 1);
    s->root = m;
    if (kind == EM_CU_SAMPLE_GT) {
        m->op = EM_OP_GT, m->type = (uint8_t)b8;
        return;
    }
    m->op = EM_OP_MUL, m->type = (uint8_t)t;
    a->op = EM_OP_ADD, a->type = (uint8_t)t, a->nchild = 2;
    a->child[0] = m, a->child[1] = &s->leaf[2];
    memcpy(a->dims, dims, sizeof(dims));
    a->height = 2;
    atomic_store(&a->biased, 1);
    s->root = a;
}

__attribute__((visibility("default"))) int em_cu_compile_check(const char *only, char *report,
                                                               size_t cap) {
    int failed = 0;
    size_t used = 0;
    if (cap) report[0] = 0;
    for (int i = 0; i < nchecks; i++) {
        if (only && strcmp(only, checks[i].name) != 0) continue;
        af_err err = checks[i].fn();
        if (err == AF_SUCCESS) continue;
        failed++;
        if (used < cap) {
            int n =
                snprintf(report + used, cap - used, "%s: %s\n", checks[i].name, em_err_message());
            if (n > 0) used += (size_t)n;
        }
    }
    return failed;
}

__attribute__((visibility("default"))) int em_cu_compile_check_count(void) {
    return nchecks;
}

__attribute__((visibility("default"))) const char *em_cu_compile_check_name(int i) {
    return i >= 0 && i < nchecks ? checks[i].name : "";
}
