/* CUDA C for JIT programs: per-op expressions (docs/JIT_OPS.md), the parameter struct, and the
 * kernel. See jit_gen.h for the design. */
#include "jit_gen.h"

#include "../../core/dtype.h"
#include "../../core/sbuf.h"
#include "embedded.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a growable string, used only on a cache miss ---- */

/* ---- dtypes in kernel code ---- */

/* Compute type (f16 computes as float) and storage type of each dtype. b8 and u8 share a C type;
 * the generator never lets overloads tell them apart. */
static const char *const ct_name[EM_NUM_DTYPES] = {
    [f32] = "float",        [c32] = "em_c32",
    [f64] = "double",       [c64] = "em_c64",
    [b8] = "em_u8",         [s32] = "int",
    [u32] = "unsigned int", [u8] = "unsigned char",
    [s64] = "long long",    [u64] = "unsigned long long",
    [s16] = "short",        [u16] = "unsigned short",
    [f16] = "float",        [s8] = "signed char",
};

static const char *st_name(af_dtype t) {
    return t == f16 ? "em_u16" : ct_name[t];
}

/* Storage sizes, inline for the launch path (the dtype table's, src/core/dtype.h). */
static const uint8_t es_of[EM_NUM_DTYPES] = {
#define X(name, ctype, bytes) [name] = bytes,
    EM_DTYPES(X)
#undef X
};

/* Compute-type size and alignment (for scalar parameters). */
static size_t ct_size(af_dtype t) {
    return t == f16 ? 4 : es_of[t];
}

typedef enum { KS, KU, KB, KF, KC } kind_t;

static kind_t kind_of(af_dtype t) {
    switch (t) {
    case s8:
    case s16:
    case s32:
    case s64:
        return KS;
    case u8:
    case u16:
    case u32:
    case u64:
        return KU;
    case b8:
        return KB;
    case c32:
    case c64:
        return KC;
    default:
        return KF;
    }
}

static bool is_int(kind_t k) {
    return k == KS || k == KU;
}

/* The conversion of value x (compute type of s) to the compute type of d (docs/JIT_OPS.md, CAST).
 * An f16 destination gets a float here; the caller rounds it to binary16. */
static void cast_expr(af_dtype s, af_dtype d, const char *x, char *out, size_t cap) {
    kind_t ks = kind_of(s), kd = kind_of(d);
    const char *cd = ct_name[d];
    const char *rd = ct_name[em_dtype_real_of(d)];
    if (s == d) {
        snprintf(out, cap, "%s", x);
    } else if (kd == KB) {
        if (ks == KC)
            snprintf(out, cap, "(em_u8)((%s).re != 0 || (%s).im != 0)", x, x);
        else
            snprintf(out, cap, "(em_u8)((%s) != 0)", x);
    } else if (is_int(kd) && (ks == KF || ks == KC)) {
        snprintf(out, cap, "em_ftoi_%s((double)(%s)%s)", em_dtype_name(d), x,
                 ks == KC ? ".re" : "");
    } else if (kd == KC) {
        if (ks == KC)
            snprintf(out, cap, "em_cx<%s>((%s)(%s).re, (%s)(%s).im)", cd, rd, x, rd, x);
        else
            snprintf(out, cap, "em_cx<%s>((%s)(%s), (%s)0)", cd, rd, x, rd);
    } else if (ks == KC) {
        snprintf(out, cap, "(%s)(%s).re", cd, x);
    } else {
        /* Integer, b8 or real to integer or real: C's conversion (wrapping between integers,
         * nearest to floating). f64 -> f16 goes through float, as the CPU's float block does. */
        snprintf(out, cap, "(%s)(%s)", cd, x);
    }
}

/* The expression of op with operand dtype ot and result dtype rt over operands x, y, z (names of
 * compute-type values). Returns false for a pair that docs/JIT_OPS.md does not define. */
static bool op_expr(em_op op, af_dtype ot, af_dtype rt, const char *x, const char *y, const char *z,
                    char *o, size_t cap) {
    kind_t k = kind_of(ot);
    bool I = is_int(k), B = k == KB, F = k == KF, C = k == KC;
    const char *ct = ct_name[ot];
    /* Result-type checks: the op table's result rules. */
    bool same = rt == ot;
    bool to_b8 = rt == b8;
    bool to_real = rt == em_dtype_real_of(ot) && C;
#define OUT(...) (snprintf(o, cap, __VA_ARGS__), true)
    switch (op) {
    case EM_OP_CAST:
        cast_expr(ot, rt, x, o, cap);
        return true;
    case EM_OP_ADD:
        if (!same) return false;
        if (I) return OUT("em_iadd<%s>(%s, %s)", ct, x, y);
        if (B) return OUT("(em_u8)(%s | %s)", x, y);
        if (F) return OUT("(%s + %s)", x, y);
        return OUT("em_cadd(%s, %s)", x, y);
    case EM_OP_SUB:
        if (!same) return false;
        if (I) return OUT("em_isub<%s>(%s, %s)", ct, x, y);
        if (B) return OUT("(em_u8)(%s ^ %s)", x, y);
        if (F) return OUT("(%s - %s)", x, y);
        return OUT("em_csub(%s, %s)", x, y);
    case EM_OP_MUL:
        if (!same) return false;
        if (I) return OUT("em_imul<%s>(%s, %s)", ct, x, y);
        if (B) return OUT("(em_u8)(%s & %s)", x, y);
        if (F) return OUT("(%s * %s)", x, y);
        return OUT("em_cmul(%s, %s)", x, y);
    case EM_OP_DIV:
        if (!same) return false;
        if (I) return OUT("em_idiv<%s>(%s, %s)", ct, x, y);
        if (B) return OUT("(em_u8)(%s & %s)", x, y);
        if (F) return OUT("(%s / %s)", x, y);
        return OUT("em_cdiv(%s, %s)", x, y);
    case EM_OP_REM:
    case EM_OP_MOD:
        if (!same || C) return false;
        if (I) return OUT("em_irem<%s>(%s, %s)", ct, x, y);
        if (B) return OUT("(em_u8)(%s && !%s)", x, y);
        return OUT("em_%s(%s, %s)", op == EM_OP_REM ? "remainder" : "fmod", x, y);
    case EM_OP_POW:
        if (!same) return false;
        if (I) return OUT("em_ipow<%s>(%s, %s)", ct, x, y);
        if (B) return OUT("(em_u8)(%s || !%s)", x, y);
        if (F) return OUT("em_pow(%s, %s)", x, y);
        return OUT("em_cpow(%s, %s)", x, y);
    case EM_OP_MINOF:
    case EM_OP_MAXOF: {
        bool mn = op == EM_OP_MINOF;
        if (!same) return false;
        if (I) return OUT("em_i%s<%s>(%s, %s)", mn ? "min" : "max", ct, x, y);
        if (B) return OUT("(em_u8)(%s %s %s)", x, mn ? "&" : "|", y);
        if (F) return OUT("em_f%s(%s, %s)", mn ? "min" : "max", x, y);
        return OUT("em_c%s(%s, %s)", mn ? "min" : "max", x, y);
    }
    case EM_OP_ATAN2:
    case EM_OP_HYPOT:
        if (!same || !F) return false;
        return OUT("em_%s(%s, %s)", op == EM_OP_ATAN2 ? "atan2" : "hypot", x, y);
    case EM_OP_LT:
    case EM_OP_GT:
    case EM_OP_LE:
    case EM_OP_GE: {
        const char *cmp = op == EM_OP_LT   ? "<"
                          : op == EM_OP_GT ? ">"
                          : op == EM_OP_LE ? "<="
                                           : ">=";
        if (!to_b8) return false;
        if (C) return OUT("(em_u8)(em_cabs(%s) %s em_cabs(%s))", x, cmp, y);
        return OUT("(em_u8)(%s %s %s)", x, cmp, y);
    }
    case EM_OP_EQ:
    case EM_OP_NEQ: {
        bool ne = op == EM_OP_NEQ;
        if (!to_b8) return false;
        if (C)
            return OUT("(em_u8)(%s((%s).re == (%s).re && (%s).im == (%s).im))", ne ? "!" : "", x, y,
                       x, y);
        return OUT("(em_u8)(%s %s %s)", x, ne ? "!=" : "==", y);
    }
    case EM_OP_AND:
    case EM_OP_OR: {
        const char *j = op == EM_OP_AND ? "&&" : "||";
        if (!to_b8) return false;
        if (C) return OUT("(em_u8)(em_ctruth(%s) %s em_ctruth(%s))", x, j, y);
        return OUT("(em_u8)((%s != 0) %s (%s != 0))", x, j, y);
    }
    case EM_OP_NOT:
        if (!to_b8) return false;
        if (C) return OUT("(em_u8)!em_ctruth(%s)", x);
        return OUT("(em_u8)(%s == 0)", x);
    case EM_OP_BITAND:
    case EM_OP_BITOR:
    case EM_OP_BITXOR: {
        const char *bop = op == EM_OP_BITAND ? "&" : op == EM_OP_BITOR ? "|" : "^";
        if (!same || !(I || B)) return false;
        return OUT("(%s)(%s %s %s)", ct, x, bop, y);
    }
    case EM_OP_BITSHIFTL:
        if (!same || !(I || B)) return false;
        if (B) return OUT("%s", x);
        return OUT("em_ishl<%s>(%s, %s)", ct, x, y);
    case EM_OP_BITSHIFTR:
        if (!same || !(I || B)) return false;
        if (B) return OUT("(em_u8)(%s == 0 ? %s : 0)", y, x);
        return OUT("em_ishr<%s>(%s, %s)", ct, x, y);
    case EM_OP_BITNOT:
        if (!same || !(I || B)) return false;
        if (B) return OUT("(em_u8)!%s", x);
        return OUT("(%s)~%s", ct, x);
    case EM_OP_NEG:
        if (!same) return false;
        if (I) return OUT("em_ineg<%s>(%s)", ct, x);
        if (B) return OUT("%s", x);
        if (F) return OUT("(-%s)", x);
        return OUT("em_cneg(%s)", x);
    case EM_OP_ABS:
        if (C) return to_real && OUT("em_cabs(%s)", x);
        if (!same) return false;
        if (k == KS) return OUT("em_iabs<%s>(%s)", ct, x);
        if (k == KU) return OUT("%s", x);
        if (F) return OUT("em_fabs(%s)", x);
        return false;
    case EM_OP_ARG:
        return C && to_real && OUT("em_carg(%s)", x);
    case EM_OP_SIGN:
    case EM_OP_ROUND:
    case EM_OP_TRUNC:
    case EM_OP_FLOOR:
    case EM_OP_CEIL:
    case EM_OP_EXPM1:
    case EM_OP_SIGMOID:
    case EM_OP_ERF:
    case EM_OP_ERFC:
    case EM_OP_LOG1P:
    case EM_OP_LOG10:
    case EM_OP_LOG2:
    case EM_OP_RSQRT:
    case EM_OP_CBRT:
    case EM_OP_FACTORIAL:
    case EM_OP_TGAMMA:
    case EM_OP_LGAMMA: {
        static const char *const fn[EM_OP_COUNT] = {
            [EM_OP_SIGN] = "sign",       [EM_OP_ROUND] = "round",   [EM_OP_TRUNC] = "trunc",
            [EM_OP_FLOOR] = "floor",     [EM_OP_CEIL] = "ceil",     [EM_OP_EXPM1] = "expm1",
            [EM_OP_SIGMOID] = "sigmoid", [EM_OP_ERF] = "erf",       [EM_OP_ERFC] = "erfc",
            [EM_OP_LOG1P] = "log1p",     [EM_OP_LOG10] = "log10",   [EM_OP_LOG2] = "log2",
            [EM_OP_RSQRT] = "rsqrt",     [EM_OP_CBRT] = "cbrt",     [EM_OP_FACTORIAL] = "factorial",
            [EM_OP_TGAMMA] = "tgamma",   [EM_OP_LGAMMA] = "lgamma",
        };
        if (!same || !F) return false;
        return OUT("em_%s(%s)", fn[op], x);
    }
    case EM_OP_SIN:
    case EM_OP_COS:
    case EM_OP_TAN:
    case EM_OP_ASIN:
    case EM_OP_ACOS:
    case EM_OP_ATAN:
    case EM_OP_SINH:
    case EM_OP_COSH:
    case EM_OP_TANH:
    case EM_OP_ASINH:
    case EM_OP_ACOSH:
    case EM_OP_ATANH:
    case EM_OP_EXP:
    case EM_OP_LOG:
    case EM_OP_SQRT:
    case EM_OP_POW2: {
        static const char *const fn[EM_OP_COUNT] = {
            [EM_OP_SIN] = "sin",     [EM_OP_COS] = "cos",     [EM_OP_TAN] = "tan",
            [EM_OP_ASIN] = "asin",   [EM_OP_ACOS] = "acos",   [EM_OP_ATAN] = "atan",
            [EM_OP_SINH] = "sinh",   [EM_OP_COSH] = "cosh",   [EM_OP_TANH] = "tanh",
            [EM_OP_ASINH] = "asinh", [EM_OP_ACOSH] = "acosh", [EM_OP_ATANH] = "atanh",
            [EM_OP_EXP] = "exp",     [EM_OP_LOG] = "log",     [EM_OP_SQRT] = "sqrt",
            [EM_OP_POW2] = "exp2",
        };
        if (!same || !(F || C)) return false;
        if (C) return OUT("em_c%s(%s)", op == EM_OP_POW2 ? "pow2" : fn[op], x);
        return OUT("em_%s(%s)", fn[op], x);
    }
    case EM_OP_ISZERO:
    case EM_OP_ISINF:
    case EM_OP_ISNAN: {
        if (!to_b8 || !(F || C)) return false;
        if (op == EM_OP_ISZERO) {
            if (C) return OUT("(em_u8)((%s).re == 0 && (%s).im == 0)", x, x);
            return OUT("(em_u8)(%s == 0)", x);
        }
        const char *fn = op == EM_OP_ISINF ? "em_isinf" : "em_isnan";
        if (C) return OUT("(em_u8)(%s((%s).re) || %s((%s).im))", fn, x, fn, x);
        return OUT("(em_u8)%s(%s)", fn, x);
    }
    case EM_OP_CPLX2:
        if (!((ot == f32 && rt == c32) || (ot == f64 && rt == c64))) return false;
        return OUT("em_cx<%s>(%s, %s)", ct_name[rt], x, y);
    case EM_OP_REAL:
    case EM_OP_IMAG:
        return C && to_real && OUT("(%s).%s", x, op == EM_OP_REAL ? "re" : "im");
    case EM_OP_CONJ:
        return C && same && OUT("em_cconj(%s)", x);
    case EM_OP_SELECT:
        if (!same) return false;
        return OUT("(%s ? %s : %s)", x, y, z);
    default:
        return false;
    }
#undef OUT
}

bool em_cu_jit_supports(em_op op, af_dtype ot, af_dtype rt) {
    char buf[512];
    if (!em_dtype_valid(ot) || !em_dtype_valid(rt) || op >= EM_OP_COUNT) return false;
    if (op == EM_OP_BUF || op == EM_OP_SCALAR || op == EM_OP_RANGE || op == EM_OP_IOTA ||
        op == EM_OP_IDENTITY)
        return ot == rt;
    return op_expr(op, ot, rt, "x", "y", "z", buf, sizeof(buf));
}

/* ---- shape and key ---- */

/* True for a program that is not linear only because some leaves are uniform (a value broadcast
 * from device memory, jit.h em_node_buf_uniform; the program key tells them apart): the element
 * kernel still runs the linear path, vector loads included, and loads such a leaf once by its
 * pointer. Consumers that index leaves themselves (the fused value of reductions) keep the
 * strided path, which reads the same value. */
static bool uniform_linear(const em_jit_prog *p) {
    if (p->linear) return false;
    for (int l = 0; l < p->nleaf; l++) {
        const em_node *n = p->leaves[l];
        if (n->op != EM_OP_BUF || em_node_buf_uniform(n)) continue;
        if (n->xmode) return false;
        dim_t expect = 1;
        for (int d = 0; d < 4; d++) {
            if (n->dims[d] != 1 && n->strides[d] != expect) return false;
            expect *= n->dims[d];
        }
    }
    return true;
}

/* A leaf that uniform_linear programs load once. */
static bool leaf_uniform(const em_jit_prog *p, const em_node *n) {
    return !p->linear && n->op == EM_OP_BUF && em_node_buf_uniform(n);
}

/* Leaves 0 .. EM_RUN_FLAG_LEAVES - 1 have a vector flag in the run kernel (bit l + 1). */
#define EM_RUN_FLAG_LEAVES 30

/* How the run kernel reads a BUF leaf along dimension 0 (part of the kernel's key):
 *  - DENSE: stride 1, with no transform or a wrap there: a run is consecutive elements (from a
 *    wrapped start, wrapping as it goes), one vector load where the flags allow;
 *  - REV: stride -1 (a flip): a run is consecutive elements backwards, one vector load reversed;
 *  - BCAST: stride 0 (a broadcast along dimension 0) or a uniform leaf: one load per run;
 *  - GENERAL: any other stride or transform: one load per element. */
enum { LC_DENSE, LC_REV, LC_BCAST, LC_GENERAL };

static int leaf_class(const em_jit_prog *p, const em_node *n) {
    int m0 = em_xf_mode(n->xmode, 0);
    if (leaf_uniform(p, n)) return LC_BCAST;
    if (n->strides[0] == 1 && (m0 == EM_XF_NONE || m0 == EM_XF_WRAP)) return LC_DENSE;
    if (m0 != EM_XF_NONE) return LC_GENERAL;
    if (n->strides[0] == -1) return LC_REV;
    if (n->strides[0] == 0) return LC_BCAST;
    return LC_GENERAL;
}

void em_cu_jit_shape_of(const em_jit_prog *p, em_cu_jit_shape *s) {
    const dim_t big = (dim_t)1 << 31;
    bool idx64 = p->elements >= big;
    size_t widest = 1;
    for (int o = 0; o < p->nout; o++) {
        size_t es = es_of[p->instr[p->out[o]].type];
        if (es > widest) widest = es;
    }
    for (int l = 0; l < p->nleaf; l++) {
        const em_node *n = p->leaves[l];
        if (n->op != EM_OP_BUF) continue;
        size_t es = es_of[n->type];
        if (es > widest) widest = es;
        /* A strided leaf's offset is computed in the index type too: four terms
         * c[k] * strides[k], each at most the buffer's extent in magnitude (strides may be
         * negative), so 32 bits hold the sum while the extent stays below 2^29 elements. A
         * linear program indexes by position only (the offset is applied on the host). */
        if (!p->linear && n->buf && (dim_t)(n->buf->bytes / es) >= big / 4) idx64 = true;
        /* A transformed coordinate c + shift is computed in the signed index type. */
        for (int d = 0; d < 4 && n->xmode; d++) {
            dim_t sh = n->xshift[d] < 0 ? -n->xshift[d] : n->xshift[d];
            if (em_xf_mode(n->xmode, d) && n->dims[d] + sh + n->xlen[d] >= big) idx64 = true;
        }
    }
    s->idx64 = idx64;
    s->vec = p->linear || uniform_linear(p) ? (int)(16 / widest) : 1;
    s->window = false;
    s->wdense = false;
    s->run = (int)(16 / widest);
}

void em_cu_jit_shape_window(em_cu_jit_shape *s, const dim_t wstrides[4]) {
    s->window = true;
    s->vec = 1;
    s->wdense = wstrides[0] == 1;
}

bool em_cu_jit_runs(const em_jit_prog *p, const em_cu_jit_shape *s) {
    return s->window || !(p->linear || uniform_linear(p));
}

dim_t em_cu_jit_runs_total(const em_jit_prog *p, const em_cu_jit_shape *s) {
    return (p->dims[0] + s->run - 1) / s->run * (p->dims[1] * p->dims[2] * p->dims[3]);
}

uint64_t em_cu_jit_key(const em_jit_prog *p, const em_cu_jit_shape *s) {
    uint64_t k = em_hash_mix(p->key, (uint64_t)s->run << 32 | (uint64_t)s->wdense << 24 |
                                         (uint64_t)s->window << 16 | (uint64_t)s->idx64 << 8 |
                                         (uint64_t)s->vec);
    /* The run kernel's code depends on each leaf's class along dimension 0. */
    if (em_cu_jit_runs(p, s)) {
        uint64_t word = 0;
        int inword = 0;
        for (int l = 0; l < p->nleaf; l++) {
            if (p->leaves[l]->op != EM_OP_BUF) continue;
            word = word << 2 | (uint64_t)leaf_class(p, p->leaves[l]);
            if (++inword == 32) k = em_hash_mix(k, word), word = 0, inword = 0;
        }
        k = em_hash_mix(k, word);
    }
    return em_hash_mix(k, EM_CU_JIT_VERSION);
}

/* ---- the parameter struct: one walk declares it (generation) or fills it (launch) ---- */

typedef struct {
    em_sbuf *decl;      /* generation: field declarations */
    em_sbuf *asserts;   /* generation: offset checks */
    unsigned char *buf; /* launch: the packed values */
    size_t cap;
    size_t off, align;
    bool overflow;
} walker;

/* Every field has alignment equal to its size (scalars, pointers, em_c32 with 8 and em_c64 with
 * 16), as in both the host's and the device's ABI. Returns the field's offset. */
static inline size_t place(walker *w, size_t size) {
    size_t at = (w->off + size - 1) & ~(size - 1);
    if (size > w->align) w->align = size;
    w->off = at + size;
    return at;
}

/* Launch: the value at its offset. Kept free of formatting, since it runs on every launch. */
static inline void put(walker *w, size_t size, const void *val) {
    size_t at = place(w, size);
    unsigned char *d = w->buf + at;
    if (at + size > w->cap) {
        w->overflow = true;
        return;
    }
    /* Fixed-size copies compile to single moves; a variable-size memcpy is a call. */
    switch (size) {
    case 1:
        memcpy(d, val, 1);
        break;
    case 2:
        memcpy(d, val, 2);
        break;
    case 4:
        memcpy(d, val, 4);
        break;
    case 8:
        memcpy(d, val, 8);
        break;
    case 16:
        memcpy(d, val, 16);
        break;
    default:
        memcpy(d, val, size);
        break;
    }
}

/* Generation: the declaration. NVRTC has no offsetof, so the layout is pinned instead: padding
 * is explicit, and each field's size and alignment are asserted, so the device compiler cannot
 * place a field anywhere but at the host's offset. */
static void declare(walker *w, const char *ctype, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void declare(walker *w, const char *ctype, size_t size, const char *fmt, ...) {
    size_t before = w->off, at = place(w, size);
    char name[32];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof(name), fmt, ap);
    va_end(ap);
    if (at > before)
        em_sbuf_printf(w->decl, "    unsigned char pad%zu[%zu];\n", before, at - before);
    em_sbuf_printf(w->decl, "    %s %s; // offset %zu\n", ctype, name, at);
    em_sbuf_printf(
        w->asserts,
        "static_assert(sizeof(em_params::%s) == %zu && alignof(decltype(em_params::%s)) == "
        "%zu, \"layout\");\n",
        name, size, name, size);
}

/* `pack` is a constant at each of walk's two call sites, so each inlined copy keeps one branch. */
#define FIELD(w, ctype, size, val, ...)                                                            \
    (pack ? put((w), (size), (val)) : declare((w), (ctype), (size), __VA_ARGS__))

/* An index-type field: 4 or 8 bytes. */
#define FIELD_IT(w, x64, v, ...)                                                                   \
    do {                                                                                           \
        uint64_t it64_ = (uint64_t)(v);                                                            \
        uint32_t it32_ = (uint32_t)(v);                                                            \
        FIELD(w, "em_it", (x64) ? 8 : 4, (x64) ? (const void *)&it64_ : (const void *)&it32_,      \
              __VA_ARGS__);                                                                        \
    } while (0)
#define FIELD_SIT(w, x64, v, ...)                                                                  \
    do {                                                                                           \
        int64_t sit64_ = (int64_t)(v);                                                             \
        int32_t sit32_ = (int32_t)(v);                                                             \
        FIELD(w, "em_sit", (x64) ? 8 : 4, (x64) ? (const void *)&sit64_ : (const void *)&sit32_,   \
              __VA_ARGS__);                                                                        \
    } while (0)

/* Division by a divisor d fixed for a launch, as a multiply and a shift (Granlund and
 * Montgomery): with l = ceil(log2 d), h = 31 + l and m = ceil(2^h / d), every n < 2^31 has
 * n / d = (n * m) >> h, since m * d - 2^h < d makes the error below 1 / d. m fits 32 bits for
 * 1 <= d <= 2^31. The run kernel divides this way in 32-bit index arithmetic (every dividend is
 * below 2^31 there: em_cu_jit_shape_of); the 64-bit kernel divides plainly. */
static inline void div_magic(dim_t d, uint32_t *m, uint32_t *h) {
    if (d < 1 || d > ((dim_t)1 << 31)) {
        *m = 0, *h = 0; /* 64-bit indexing only: unused */
        return;
    }
    unsigned l = d == 1 ? 0 : 64 - (unsigned)__builtin_clzll((unsigned long long)d - 1);
    *h = 31 + l;
    *m = (uint32_t)((((uint64_t)1 << *h) + (uint64_t)d - 1) / (uint64_t)d);
}

/* The multiplier and shift of div_magic(d) as fields m<name> and h<name>. */
#define FIELD_DIV(w, d, ...)                                                                       \
    do {                                                                                           \
        uint32_t dm_ = 0, dh_ = 0;                                                                 \
        char dn_[24] = "";                                                                         \
        if (pack)                                                                                  \
            div_magic((d), &dm_, &dh_);                                                            \
        else                                                                                       \
            snprintf(dn_, sizeof(dn_), __VA_ARGS__);                                               \
        FIELD(w, "unsigned int", 4, &dm_, "m%s", dn_);                                             \
        FIELD(w, "unsigned int", 4, &dh_, "h%s", dn_);                                             \
    } while (0)

static inline __attribute__((always_inline)) void walk(walker *w, const em_jit_prog *p,
                                                       const em_cu_jit_shape *s, void *const *outs,
                                                       int vflag, const dim_t *wstrides,
                                                       const bool pack) {
    /* Leaves are indexed by coordinates unless the program and its output are both linear. */
    const bool strided = !p->linear || s->window;
    bool x64 = s->idx64;
    FIELD_IT(w, x64, p->elements, "n");
    for (int d = 0; d < 4; d++)
        FIELD_IT(w, x64, p->dims[d], "d%d", d);
    FIELD(w, "int", 4, &vflag, "vec");
    for (int o = 0; o < p->nout; o++) {
        af_dtype t = (af_dtype)p->instr[p->out[o]].type;
        char ctype[40];
        if (!pack) snprintf(ctype, sizeof(ctype), "%s *", st_name(t));
        FIELD(w, ctype, sizeof(void *), pack ? &outs[o] : NULL, "o%d", o);
    }
    if (s->window)
        for (int d = 0; d < 4; d++)
            FIELD_SIT(w, x64, pack ? wstrides[d] : 0, "w%d", d);
    if (strided) {
        /* The run kernel's decomposition: nr runs per line of dimension 0, nq runs in all, and
         * the divisors of the run index. */
        dim_t nr = (p->dims[0] + s->run - 1) / s->run;
        FIELD_IT(w, x64, nr, "nr");
        FIELD_IT(w, x64, nr * (p->dims[1] * p->dims[2] * p->dims[3]), "nq");
        FIELD_DIV(w, nr, "r");
        FIELD_DIV(w, p->dims[1], "1");
        FIELD_DIV(w, p->dims[2], "2");
    }
    for (int l = 0; l < p->nleaf; l++) {
        const em_node *n = p->leaves[l];
        af_dtype t = (af_dtype)n->type;
        char ctype[40];
        switch ((em_op)n->op) {
        case EM_OP_BUF: {
            const void *ptr = NULL;
            if (pack)
                ptr = (const char *)n->buf->ptr + (size_t)n->offset * es_of[t];
            else
                snprintf(ctype, sizeof(ctype), "const %s *", st_name(t));
            FIELD(w, ctype, sizeof(void *), &ptr, "p%d", l);
            if (strided)
                for (int d = 0; d < 4; d++)
                    FIELD_SIT(w, x64, n->strides[d], "s%d_%d", l, d);
            /* Index transforms (jit.h): length and shift of each transformed dimension. A leaf
             * with one is never linear, so its program is strided. */
            for (int d = 0; d < 4 && n->xmode; d++) {
                if (!em_xf_mode(n->xmode, d)) continue;
                FIELD_SIT(w, x64, n->xlen[d], "xl%d_%d", l, d);
                FIELD_SIT(w, x64, n->xshift[d], "xs%d_%d", l, d);
                /* The run kernel wraps by division with the length's multiplier. */
                if (em_xf_mode(n->xmode, d) == EM_XF_WRAP) FIELD_DIV(w, n->xlen[d], "x%d_%d", l, d);
            }
            break;
        }
        case EM_OP_SCALAR: {
            _Alignas(16) unsigned char v[16];
            if (pack) em_scalar_store(v, (af_dtype)n->type, &n->val);
            FIELD(w, ct_name[t], ct_size(t), v, "v%d", l);
            break;
        }
        case EM_OP_RANGE: {
            int dim = n->iparam;
            FIELD(w, "int", 4, &dim, "r%d", l);
            break;
        }
        case EM_OP_IOTA:
            for (int d = 0; d < 4; d++)
                FIELD_IT(w, x64, n->gparam[d], "g%d_%d", l, d);
            break;
        default:
            break; /* IDENTITY needs only the coordinates */
        }
    }
}

size_t em_cu_jit_pack_flags(const em_jit_prog *p, const em_cu_jit_shape *s, void *const *outs,
                            int flags, const dim_t *wstrides, unsigned char *buf, size_t cap) {
    walker w = {.buf = buf, .cap = cap, .align = 1};
    walk(&w, p, s, outs, flags, wstrides, true);
    size_t size = (w.off + w.align - 1) & ~(w.align - 1);
    return w.overflow || size > cap ? 0 : size;
}

size_t em_cu_jit_pack(const em_jit_prog *p, const em_cu_jit_shape *s, void *const *outs, bool vec,
                      const dim_t *wstrides, unsigned char *buf, size_t cap) {
    return em_cu_jit_pack_flags(p, s, outs, vec ? 1 : 0, wstrides, buf, cap);
}

bool em_cu_jit_vec_ok(const em_jit_prog *p, const em_cu_jit_shape *s, void *const *outs) {
    if (s->vec <= 1) return false;
    for (int o = 0; o < p->nout; o++) {
        size_t vb = (size_t)s->vec * es_of[p->instr[p->out[o]].type];
        if ((uintptr_t)outs[o] & (vb - 1)) return false;
    }
    for (int l = 0; l < p->nleaf; l++) {
        const em_node *n = p->leaves[l];
        if (n->op != EM_OP_BUF || leaf_uniform(p, n)) continue;
        size_t es = es_of[n->type];
        uintptr_t a = (uintptr_t)n->buf->ptr + (uintptr_t)n->offset * es;
        if (a & ((size_t)s->vec * es - 1)) return false;
    }
    return true;
}

int em_cu_jit_vec_flags(const em_jit_prog *p, const em_cu_jit_shape *s, void *const *outs) {
    if (s->vec <= 1 || em_cu_jit_runs(p, s)) return 0;
    for (int o = 0; o < p->nout; o++) {
        size_t vb = (size_t)s->vec * es_of[p->instr[p->out[o]].type];
        if ((uintptr_t)outs[o] & (vb - 1)) return 0;
    }
    int flags = 1;
    for (int l = 0; l < p->nleaf; l++) {
        const em_node *n = p->leaves[l];
        if (n->op != EM_OP_BUF || leaf_uniform(p, n)) continue;
        size_t es = es_of[n->type];
        uintptr_t a = (uintptr_t)n->buf->ptr + (uintptr_t)n->offset * es;
        if (!(a & ((size_t)s->vec * es - 1))) continue;
        if (l >= EM_RUN_FLAG_LEAVES || (a & (es - 1))) return 0;
        flags |= 1 << (l + 1);
    }
    return flags;
}

int em_cu_jit_run_flags(const em_jit_prog *p, const em_cu_jit_shape *s, void *const *outs,
                        const dim_t *wstrides) {
    const int R = s->run;
    if (R <= 1) return 0;
    int flags = 0;
    /* Outputs: a run starts at a multiple of R along dimension 0; it is aligned when every line
     * starts aligned. */
    bool ok = true;
    if (s->window) {
        size_t vb = (size_t)R * es_of[p->instr[p->out[0]].type];
        ok = s->wdense && !((uintptr_t)outs[0] & (vb - 1));
        for (int d = 1; d < 4 && ok; d++)
            if (p->dims[d] > 1 && wstrides[d] % R) ok = false;
    } else {
        ok = p->dims[0] % R == 0 || p->dims[1] * p->dims[2] * p->dims[3] == 1;
        for (int o = 0; o < p->nout && ok; o++) {
            size_t vb = (size_t)R * es_of[p->instr[p->out[o]].type];
            if ((uintptr_t)outs[o] & (vb - 1)) ok = false;
        }
    }
    if (ok) flags |= 1;
    /* Leaves read forwards or backwards: the run's lowest element is aligned, and so it stays
     * on every line (the other dimensions' strides keep multiples of R) and, with a wrap along
     * dimension 0, at every wrapped start (length and shift multiples of R: no run crosses the
     * wrap). */
    for (int l = 0; l < p->nleaf && l < EM_RUN_FLAG_LEAVES; l++) {
        const em_node *n = p->leaves[l];
        if (n->op != EM_OP_BUF) continue;
        int cls = leaf_class(p, n);
        if (leaf_uniform(p, n) || (cls != LC_DENSE && cls != LC_REV)) continue;
        size_t es = es_of[n->type];
        uintptr_t a = (uintptr_t)n->buf->ptr + (uintptr_t)n->offset * es;
        if (cls == LC_REV) a -= (uintptr_t)(R - 1) * es;
        if (a & ((size_t)R * es - 1)) continue;
        bool lok = true;
        for (int d = 1; d < 4 && lok; d++)
            if ((n->dims[d] > 1 || em_xf_mode(n->xmode, d)) && n->strides[d] % R) lok = false;
        if (em_xf_mode(n->xmode, 0) == EM_XF_WRAP && (n->xlen[0] % R || n->xshift[0] % R))
            lok = false;
        if (lok) flags |= 1 << (l + 1);
    }
    return flags;
}

/* ---- the kernel ---- */

/* Converts a loaded storage value to its compute type. */
static void load_conv(af_dtype t, const char *v, char *out, size_t cap) {
    if (t == f16)
        snprintf(out, cap, "em_h2f(%s)", v);
    else
        snprintf(out, cap, "%s", v);
}

static bool has_generators(const em_jit_prog *p) {
    for (int l = 0; l < p->nleaf; l++) {
        em_op op = (em_op)p->leaves[l]->op;
        if (op == EM_OP_RANGE || op == EM_OP_IOTA || op == EM_OP_IDENTITY) return true;
    }
    return false;
}

/* The per-element function: leaves in, outputs out, every instruction once. */
static bool gen_elem(em_sbuf *b, const em_jit_prog *p) {
    em_sbuf_printf(b, "__device__ __forceinline__ void em_elem(const em_params &p, "
                      "const em_coord<em_it> &c");
    for (int l = 0; l < p->nleaf; l++)
        if (p->leaves[l]->op == EM_OP_BUF)
            em_sbuf_printf(b, ", %s l%d", ct_name[p->leaves[l]->type], l);
    for (int o = 0; o < p->nout; o++)
        em_sbuf_printf(b, ", %s &r%d", st_name((af_dtype)p->instr[p->out[o]].type), o);
    em_sbuf_printf(b, ") {\n    (void)p;\n    (void)c;\n");
    for (int k = 0; k < p->ninstr; k++) {
        const em_jit_instr *in = &p->instr[k];
        af_dtype t = (af_dtype)in->type;
        char expr[1024];
        bool round = t == f16;
        if (in->leaf >= 0) {
            int l = in->leaf;
            char g[256] = "";
            switch ((em_op)in->op) {
            case EM_OP_BUF:
                snprintf(expr, sizeof(expr), "l%d", l), round = false;
                break;
            case EM_OP_SCALAR:
                snprintf(expr, sizeof(expr), "p.v%d", l), round = false;
                break;
            case EM_OP_RANGE:
                snprintf(g, sizeof(g),
                         "(long long)(p.r%d == 0 ? c.c0 : p.r%d == 1 ? c.c1 : p.r%d == 2 ? c.c2 : "
                         "c.c3)",
                         l, l, l);
                break;
            case EM_OP_IOTA:
                snprintf(g, sizeof(g),
                         "(long long)em_iota<em_it>(c, p.g%d_0, p.g%d_1, p.g%d_2, p.g%d_3)", l, l,
                         l, l);
                break;
            case EM_OP_IDENTITY:
                snprintf(g, sizeof(g), "(long long)(c.c0 == c.c1)");
                break;
            default:
                return false;
            }
            /* Generators give a 64-bit integer, converted as CAST s64 -> type: integer types wrap
             * modulo their range, as the CPU backend's generators do (a u8 range of 300 runs
             * 0..255, 0..43). */
            if (g[0]) cast_expr(s64, t, g, expr, sizeof(expr));
        } else {
            char a[3][16];
            for (int i = 0; i < in->nargs; i++)
                snprintf(a[i], sizeof(a[i]), "t%d", in->arg[i]);
            /* Operand dtype: the value operands for SELECT, else operand 0. */
            int tk = in->op == EM_OP_SELECT ? in->arg[1] : in->arg[0];
            af_dtype ot = (af_dtype)p->instr[tk].type;
            if (!op_expr((em_op)in->op, ot, t, a[0], in->nargs > 1 ? a[1] : "",
                         in->nargs > 2 ? a[2] : "", expr, sizeof(expr)))
                return false;
        }
        em_sbuf_printf(b, "    %s t%d = %s;\n", ct_name[t], k, expr);
        /* f16 is rounded to binary16 after every op, before the next op reads it. */
        if (round) em_sbuf_printf(b, "    t%d = em_rh(t%d);\n", k, k);
    }
    for (int o = 0; o < p->nout; o++) {
        int k = p->out[o];
        if (p->instr[k].type == f16)
            em_sbuf_printf(b, "    r%d = em_f2h(t%d);\n", o, k);
        else
            em_sbuf_printf(b, "    r%d = t%d;\n", o, k);
    }
    em_sbuf_printf(b, "}\n\n");
    return true;
}

/* Device helpers of leaves with index transforms (jit.h, em_xf_index), emitted when a program
 * has one. The mode is a template argument, so each dimension's transform compiles to its own
 * few instructions. */
static const char xf_helpers[] =
    "template <int M> __device__ __forceinline__ em_sit em_xf(em_sit c, em_sit n, em_sit s) {\n"
    "    const em_sit v = c + s;\n"
    "    if (M == 1) return v % n;\n"
    "    if (M == 2) return v < 0 ? (em_sit)0 : (v >= n ? n - 1 : v);\n"
    "    if (M == 3) return v < 0 ? (-v - 1) % n : (v >= n ? n - 1 - v % n : v);\n"
    "    return v;\n"
    "}\n"
    "template <class T> __device__ __forceinline__ T em_xf_zero() { return T(); }\n\n";

static bool has_xforms(const em_jit_prog *p) {
    for (int l = 0; l < p->nleaf; l++)
        if (p->leaves[l]->op == EM_OP_BUF && p->leaves[l]->xmode) return true;
    return false;
}

/* The load of strided leaf l with index transforms: each transformed coordinate goes through
 * em_xf, and a ZERO dimension guards the load (0 outside the buffer, nothing read there). */
static void xf_load(const em_node *n, int l, char *out, size_t cap) {
    char idx[600] = "", cond[300] = "";
    size_t ni = 0, nc = 0;
    for (int d = 0; d < 4; d++) {
        int m = em_xf_mode(n->xmode, d);
        if (m == EM_XF_NONE)
            ni += (size_t)snprintf(idx + ni, sizeof(idx) - ni, "%s(em_sit)c.c%d * p.s%d_%d",
                                   d ? " + " : "", d, l, d);
        else
            ni += (size_t)snprintf(idx + ni, sizeof(idx) - ni,
                                   "%sem_xf<%d>((em_sit)c.c%d, p.xl%d_%d, p.xs%d_%d) * p.s%d_%d",
                                   d ? " + " : "", m, d, l, d, l, d, l, d);
        if (m == EM_XF_ZERO)
            nc += (size_t)snprintf(cond + nc, sizeof(cond) - nc,
                                   "%s(em_it)((em_sit)c.c%d + p.xs%d_%d) < (em_it)p.xl%d_%d",
                                   nc ? " && " : "", d, l, d, l, d);
    }
    const char *st = st_name((af_dtype)n->type);
    if (nc)
        snprintf(out, cap, "((%s) ? em_ld1(p.p%d + (%s)) : em_xf_zero<%s>())", cond, l, idx, st);
    else
        snprintf(out, cap, "em_ld1(p.p%d + (%s))", l, idx);
}

/* Arguments of an em_elem call: coordinates, leaf values from `load` (a format taking the leaf
 * index three times: type, leaf, leaf), outputs from `outfmt` (taking the output index). */
static void gen_call(em_sbuf *b, const em_jit_prog *p, const char *indent, const char *leaf_fmt,
                     const char *out_fmt) {
    em_sbuf_printf(b, "%sem_elem(p, c", indent);
    for (int l = 0; l < p->nleaf; l++) {
        if (p->leaves[l]->op != EM_OP_BUF) continue;
        char v[1024], conv[1100];
        if (p->leaves[l]->xmode)
            xf_load(p->leaves[l], l, v, sizeof(v));
        else if (leaf_uniform(p, p->leaves[l]))
            snprintf(v, sizeof(v), "em_ld1(p.p%d)", l); /* the one element it reads */
        else
            snprintf(v, sizeof(v), leaf_fmt, l, l, l, l, l, l, l, l, l, l);
        load_conv((af_dtype)p->leaves[l]->type, v, conv, sizeof(conv));
        em_sbuf_printf(b, ", %s", conv);
    }
    for (int o = 0; o < p->nout; o++) {
        em_sbuf_printf(b, ", ");
        em_sbuf_printf(b, out_fmt, o);
    }
    em_sbuf_printf(b, ");\n");
}

/* ---- the run kernel: strided leaves or a strided output window ---- */

/* The division of the run kernel's index arithmetic (div_magic's multiply and shift in 32 bits). */
static const char div_helper32[] =
    "__device__ __forceinline__ em_it em_div(em_it n, em_it d, unsigned int m, unsigned int h) {\n"
    "    (void)d;\n"
    "    return (em_it)(((unsigned long long)n * m) >> h);\n"
    "}\n\n";
static const char div_helper64[] =
    "__device__ __forceinline__ em_it em_div(em_it n, em_it d, unsigned int m, unsigned int h) {\n"
    "    (void)m;\n"
    "    (void)h;\n"
    "    return n / d;\n"
    "}\n\n";
/* The remainder of that division (a WRAP index: em_cu_jit_shape_of keeps c + shift >= 0). */
static const char mod_helper[] =
    "__device__ __forceinline__ em_it em_mod(em_it n, em_it d, unsigned int m, unsigned int h) {\n"
    "    return n - em_div(n, d, m, h) * d;\n"
    "}\n\n";

/* Leaf l's index along dimension d >= 1 (a row term of its offset, times its stride) into idx,
 * and a ZERO dimension's range test appended to cond. */
static void run_row_term(const em_node *n, int l, int d, char *idx, size_t icap, char *cond,
                         size_t ccap) {
    int m = em_xf_mode(n->xmode, d);
    switch (m) {
    case EM_XF_NONE:
        snprintf(idx, icap, "(em_sit)c.c%d * p.s%d_%d", d, l, d);
        break;
    case EM_XF_WRAP:
        snprintf(idx, icap,
                 "(em_sit)em_mod(c.c%d + (em_it)p.xs%d_%d, (em_it)p.xl%d_%d, p.mx%d_%d, "
                 "p.hx%d_%d) * p.s%d_%d",
                 d, l, d, l, d, l, d, l, d, l, d);
        break;
    case EM_XF_ZERO: {
        snprintf(idx, icap, "((em_sit)c.c%d + p.xs%d_%d) * p.s%d_%d", d, l, d, l, d);
        size_t at = strlen(cond);
        snprintf(cond + at, ccap - at, "%s(em_it)((em_sit)c.c%d + p.xs%d_%d) < (em_it)p.xl%d_%d",
                 at ? " && " : "", d, l, d, l, d);
        break;
    }
    default:
        snprintf(idx, icap, "em_xf<%d>((em_sit)c.c%d, p.xl%d_%d, p.xs%d_%d) * p.s%d_%d", m, d, l, d,
                 l, d, l, d);
        break;
    }
}

/* The loads of BUF leaf l into a<l>[R]: from the leaf's line base `b` (its offset over
 * dimensions 1..3), by its class along dimension 0. In a full run (`full`: all R elements lie in
 * the line) a DENSE or REV leaf whose vector flag is set moves the run with one access; otherwise
 * each element of the line is loaded alone. */
static void run_leaf_loads(em_sbuf *b, const em_jit_prog *p, const em_cu_jit_shape *s, int l) {
    const em_node *n = p->leaves[l];
    const char *st = st_name((af_dtype)n->type);
    const int R = s->run;
    int cls = leaf_class(p, n), m0 = em_xf_mode(n->xmode, 0);
    bool vec = R > 1 && l < EM_RUN_FLAG_LEAVES && (cls == LC_DENSE || cls == LC_REV);
    const char *in = "if (full || c.c0 + (em_it)k < p.d0) ";
    em_sbuf_printf(b, "        %s a%d[%d];\n", st, l, R);
    if (leaf_uniform(p, n)) {
        /* One element everywhere. */
        em_sbuf_printf(b,
                       "        {\n            const %s v = em_ld1(p.p%d);\n"
                       "#pragma unroll\n            for (int k = 0; k < %d; k++)\n"
                       "                a%d[k] = v;\n        }\n",
                       st, l, R, l);
        return;
    }
    char off[1024] = "", cond[512] = "";
    size_t no = 0;
    for (int d = 1; d < 4; d++) {
        char t[256];
        run_row_term(n, l, d, t, sizeof(t), cond, sizeof(cond));
        no += (size_t)snprintf(off + no, sizeof(off) - no, "%s%s", d > 1 ? " + " : "", t);
    }
    em_sbuf_printf(b, "        {\n");
    if (cond[0]) em_sbuf_printf(b, "        if (%s) {\n", cond);
    em_sbuf_printf(b, "            const %s *const b = p.p%d + (%s);\n", st, l, off);
    /* A wrapped start along dimension 0, advanced per element (no division per element). */
    if (m0 == EM_XF_WRAP)
        em_sbuf_printf(b,
                       "            em_sit w = (em_sit)em_mod(c.c0 + (em_it)p.xs%d_0, "
                       "(em_it)p.xl%d_0, p.mx%d_0, p.hx%d_0);\n",
                       l, l, l, l);
    else if (cls == LC_DENSE)
        em_sbuf_printf(b, "            em_sit w = (em_sit)c.c0;\n");
    const char *next = m0 == EM_XF_WRAP ? "w = w + 1 == p.xl%d_0 ? (em_sit)0 : w + 1;" : "w++;";
    char nextl[96];
    snprintf(nextl, sizeof(nextl), next, l);
    if (vec) {
        em_sbuf_printf(b, "            if (full && (p.vec >> %d & 1)) {\n", l + 1);
        if (cls == LC_DENSE)
            em_sbuf_printf(b, "                em_ld<%d, %s>(a%d, b + w);\n", R, st, l);
        else
            em_sbuf_printf(b,
                           "                %s t[%d];\n"
                           "                em_ld<%d, %s>(t, b - (em_sit)c.c0 - %d);\n"
                           "#pragma unroll\n                for (int k = 0; k < %d; k++)\n"
                           "                    a%d[k] = t[%d - k];\n",
                           st, R, R, st, R - 1, R, l, R - 1);
        em_sbuf_printf(b, "            } else {\n");
    } else {
        em_sbuf_printf(b, "            {\n");
    }
    switch (cls) {
    case LC_DENSE:
        em_sbuf_printf(b,
                       "#pragma unroll\n                for (int k = 0; k < %d; k++) {\n"
                       "                    %sa%d[k] = em_ld1(b + w);\n                    %s\n"
                       "                }\n",
                       R, in, l, nextl);
        break;
    case LC_REV:
        em_sbuf_printf(b,
                       "#pragma unroll\n                for (int k = 0; k < %d; k++)\n"
                       "                    %sa%d[k] = em_ld1(b - ((em_sit)c.c0 + k));\n",
                       R, in, l);
        break;
    case LC_BCAST:
        em_sbuf_printf(b,
                       "                const %s v = em_ld1(b);\n"
                       "#pragma unroll\n                for (int k = 0; k < %d; k++)\n"
                       "                    a%d[k] = v;\n",
                       st, R, l);
        break;
    default: {
        char idx[256];
        if (m0 == EM_XF_NONE)
            snprintf(idx, sizeof(idx), "((em_sit)c.c0 + k)");
        else if (m0 == EM_XF_WRAP)
            snprintf(idx, sizeof(idx), "w");
        else if (m0 == EM_XF_ZERO)
            snprintf(idx, sizeof(idx), "((em_sit)c.c0 + k + p.xs%d_0)", l);
        else
            snprintf(idx, sizeof(idx), "em_xf<%d>((em_sit)c.c0 + k, p.xl%d_0, p.xs%d_0)", m0, l, l);
        em_sbuf_printf(b, "#pragma unroll\n                for (int k = 0; k < %d; k++) {\n", R);
        if (m0 == EM_XF_ZERO)
            em_sbuf_printf(b,
                           "                    %sa%d[k] = (em_it)((em_sit)c.c0 + k + p.xs%d_0) < "
                           "(em_it)p.xl%d_0 ? em_ld1(b + %s * p.s%d_0) : em_xf_zero<%s>();\n",
                           in, l, l, l, idx, l, st);
        else
            em_sbuf_printf(b, "                    %sa%d[k] = em_ld1(b + %s * p.s%d_0);\n", in, l,
                           idx, l);
        if (m0 == EM_XF_WRAP) em_sbuf_printf(b, "                    %s\n", nextl);
        em_sbuf_printf(b, "                }\n");
        break;
    }
    }
    em_sbuf_printf(b, "            }\n");
    if (cond[0])
        em_sbuf_printf(
            b,
            "        } else {\n#pragma unroll\n            for (int k = 0; k < %d; k++)\n"
            "                a%d[k] = em_xf_zero<%s>();\n        }\n",
            R, l, st);
    em_sbuf_printf(b, "        }\n");
}

/* The run kernel's loop: run q is elements c0 .. c0 + R - 1 of line `row` of dimension 0, with
 * c0 = (q mod nr) * R; the line's coordinates come from two more divisions. Every leaf is
 * loaded for the run, the elements are computed, and the outputs stored, each a vector where
 * the flags allow (a whole run inside the line, aligned). Its locals stay clear of the names
 * a<l> and r<o> of the leaves' and outputs' arrays. */
static void gen_runs(em_sbuf *b, const em_jit_prog *p, const em_cu_jit_shape *s) {
    const int R = s->run;
    em_sbuf_printf(b,
                   "    for (em_it q = tid; q < p.nq; q += stride) {\n"
                   "        const em_it row = em_div(q, p.nr, p.mr, p.hr);\n"
                   "        em_coord<em_it> c;\n"
                   "        c.c0 = (q - row * p.nr) * (em_it)%d;\n"
                   "        const em_it row1 = em_div(row, p.d1, p.m1, p.h1);\n"
                   "        c.c1 = row - row1 * p.d1;\n"
                   "        c.c3 = em_div(row1, p.d2, p.m2, p.h2);\n"
                   "        c.c2 = row1 - c.c3 * p.d2;\n"
                   "        const bool full = c.c0 + (em_it)%d <= p.d0;\n"
                   "        (void)full;\n",
                   R, R);
    for (int l = 0; l < p->nleaf; l++)
        if (p->leaves[l]->op == EM_OP_BUF) run_leaf_loads(b, p, s, l);
    for (int o = 0; o < p->nout; o++)
        em_sbuf_printf(b, "        %s r%d[%d];\n", st_name((af_dtype)p->instr[p->out[o]].type), o,
                       R);
    em_sbuf_printf(b,
                   "#pragma unroll\n        for (int k = 0; k < %d; k++) {\n"
                   "            if (full || c.c0 + (em_it)k < p.d0) {\n"
                   "                em_coord<em_it> ck = c;\n"
                   "                ck.c0 = c.c0 + (em_it)k;\n"
                   "                em_elem(p, ck",
                   R);
    for (int l = 0; l < p->nleaf; l++) {
        if (p->leaves[l]->op != EM_OP_BUF) continue;
        char v[32], conv[64];
        snprintf(v, sizeof(v), "a%d[k]", l);
        load_conv((af_dtype)p->leaves[l]->type, v, conv, sizeof(conv));
        em_sbuf_printf(b, ", %s", conv);
    }
    for (int o = 0; o < p->nout; o++)
        em_sbuf_printf(b, ", r%d[k]", o);
    em_sbuf_printf(b, ");\n            }\n        }\n");
    if (s->window) {
        const char *st = st_name((af_dtype)p->instr[p->out[0]].type);
        em_sbuf_printf(b,
                       "        %s *const ob = p.o0 + ((em_sit)c.c1 * p.w1 + (em_sit)c.c2 * p.w2 "
                       "+ (em_sit)c.c3 * p.w3);\n",
                       st);
        if (s->wdense && R > 1)
            em_sbuf_printf(
                b,
                "        if (full && (p.vec & 1)) {\n"
                "            em_st<%d, %s>(ob + c.c0, r0);\n        } else {\n"
                "#pragma unroll\n            for (int k = 0; k < %d; k++)\n"
                "                if (full || c.c0 + (em_it)k < p.d0) ob[c.c0 + (em_it)k] "
                "= r0[k];\n        }\n",
                R, st, R);
        else
            em_sbuf_printf(b,
                           "#pragma unroll\n        for (int k = 0; k < %d; k++)\n"
                           "            if (full || c.c0 + (em_it)k < p.d0) ob[((em_sit)c.c0 + k) "
                           "* p.w0] = r0[k];\n",
                           R);
    } else {
        em_sbuf_printf(b, "        const em_it ob = row * p.d0 + c.c0;\n");
        if (R > 1) {
            em_sbuf_printf(b, "        if (full && (p.vec & 1)) {\n");
            for (int o = 0; o < p->nout; o++)
                em_sbuf_printf(b, "            em_st<%d, %s>(p.o%d + ob, r%d);\n", R,
                               st_name((af_dtype)p->instr[p->out[o]].type), o, o);
            em_sbuf_printf(b, "        } else {\n");
        } else {
            em_sbuf_printf(b, "        {\n");
        }
        em_sbuf_printf(b,
                       "#pragma unroll\n            for (int k = 0; k < %d; k++)\n"
                       "                if (full || c.c0 + (em_it)k < p.d0) {\n",
                       R);
        for (int o = 0; o < p->nout; o++)
            em_sbuf_printf(b, "                    p.o%d[ob + (em_it)k] = r%d[k];\n", o, o);
        em_sbuf_printf(b, "                }\n        }\n");
    }
    em_sbuf_printf(b, "    }\n");
}

char *em_cu_jit_source(const em_jit_prog *p, const em_cu_jit_shape *s) {
    em_sbuf b = {0}, decl = {0}, asserts = {0};
    bool gens = has_generators(p);
    bool runs = em_cu_jit_runs(p, s);
    int V = s->vec;
    em_sbuf_printf(&b, "// Ember JIT kernel, codegen version %d\n%s\n", EM_CU_JIT_VERSION,
                   em_cu_src_prelude);
    em_sbuf_printf(&b, "typedef %s em_it;\ntypedef %s em_sit;\n\n",
                   s->idx64 ? "unsigned long long" : "unsigned int",
                   s->idx64 ? "long long" : "int");
    if (has_xforms(p)) em_sbuf_printf(&b, "%s", xf_helpers);
    if (runs) em_sbuf_printf(&b, "%s%s", s->idx64 ? div_helper64 : div_helper32, mod_helper);
    walker w = {.decl = &decl, .asserts = &asserts, .align = 1};
    walk(&w, p, s, NULL, 0, NULL, false);
    size_t size = (w.off + w.align - 1) & ~(w.align - 1);
    em_sbuf_printf(
        &b, "struct em_params {\n%s};\n%sstatic_assert(sizeof(em_params) == %zu, \"layout\");\n\n",
        decl.s ? decl.s : "", asserts.s ? asserts.s : "", size);
    if (decl.oom || asserts.oom || !gen_elem(&b, p)) b.oom = true;

    const char *coords_i = gens ? "em_coords<em_it>(i, p.d0, p.d1, p.d2)" : "em_coord<em_it>()";
    em_sbuf_printf(
        &b, "extern \"C\" __global__ void __launch_bounds__(256) " EM_CU_JIT_KERNEL
            "(const em_params p) {\n"
            "    const em_it tid = (em_it)blockIdx.x * (em_it)blockDim.x + (em_it)threadIdx.x;\n"
            "    const em_it stride = (em_it)gridDim.x * (em_it)blockDim.x;\n");
    if (runs) {
        gen_runs(&b, p, s);
    } else {
        em_sbuf_printf(&b, "    em_it start = 0;\n");
        if (V > 1) {
            /* The vector path: V consecutive elements per thread, each buffer read and written
             * with one 16-byte (or V * element size) access. */
            em_sbuf_printf(&b,
                           "    if (p.vec) {\n        const em_it nv = p.n / %d;\n"
                           "        for (em_it v = tid; v < nv; v += stride) {\n"
                           "            const em_it i0 = v * %d;\n",
                           V, V);
            for (int l = 0; l < p->nleaf; l++) {
                const em_node *n = p->leaves[l];
                if (n->op != EM_OP_BUF || leaf_uniform(p, n)) continue;
                const char *st = st_name((af_dtype)n->type);
                em_sbuf_printf(&b, "            %s a%d[%d];\n", st, l, V);
                /* A leaf that starts off a vector boundary (a shifted view: diff's x[i + 1]) has
                 * its bit set in p.vec (em_cu_jit_vec_flags) and is read element by element,
                 * V reads in flight, while the others keep their vector loads. */
                if (l < EM_RUN_FLAG_LEAVES)
                    em_sbuf_printf(&b,
                                   "            if ((p.vec >> %d) & 1) {\n#pragma unroll\n"
                                   "                for (int k = 0; k < %d; k++)\n"
                                   "                    a%d[k] = em_ld1(p.p%d + i0 + (em_it)k);\n"
                                   "            } else\n    ",
                                   l + 1, V, l, l);
                em_sbuf_printf(&b, "            em_ld<%d, %s>(a%d, p.p%d + i0);\n", V, st, l, l);
            }
            for (int o = 0; o < p->nout; o++)
                em_sbuf_printf(&b, "            %s r%d[%d];\n",
                               st_name((af_dtype)p->instr[p->out[o]].type), o, V);
            em_sbuf_printf(&b, "#pragma unroll\n            for (int k = 0; k < %d; k++) {\n", V);
            em_sbuf_printf(
                &b,
                "                const em_it i = i0 + (em_it)k;\n                (void)i;\n"
                "                const em_coord<em_it> c = %s;\n",
                coords_i);
            gen_call(&b, p, "                ", "a%d[k]", "r%d[k]");
            em_sbuf_printf(&b, "            }\n");
            for (int o = 0; o < p->nout; o++) {
                const char *st = st_name((af_dtype)p->instr[p->out[o]].type);
                em_sbuf_printf(&b, "            em_st<%d, %s>(p.o%d + i0, r%d);\n", V, st, o, o);
            }
            em_sbuf_printf(&b, "        }\n        start = nv * %d;\n    }\n", V);
        }
        em_sbuf_printf(&b,
                       "    for (em_it i = start + tid; i < p.n; i += stride) {\n"
                       "        const em_coord<em_it> c = %s;\n",
                       coords_i);
        for (int o = 0; o < p->nout; o++)
            em_sbuf_printf(&b, "        %s r%d;\n", st_name((af_dtype)p->instr[p->out[o]].type), o);
        gen_call(&b, p, "        ", "em_ld1(p.p%d + i)", "r%d");
        for (int o = 0; o < p->nout; o++)
            em_sbuf_printf(&b, "        p.o%d[i] = r%d;\n", o, o);
        em_sbuf_printf(&b, "    }\n");
    }
    em_sbuf_printf(&b, "}\n");
    free(decl.s);
    free(asserts.s);
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

uint64_t em_cu_prelude_hash(void) {
    /* Computed once; 0 is never a result of the FNV mix of non-empty texts in practice, and a
     * second thread racing here computes the same value. */
    static _Atomic uint64_t hash;
    uint64_t h = atomic_load_explicit(&hash, memory_order_relaxed);
    if (h) return h;
    h = EM_HASH_SEED;
    for (const char *s = em_cu_src_prelude; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    for (const char *s = em_cu_src_rng; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    h = em_hash_mix(h, EM_CU_JIT_VERSION);
    atomic_store_explicit(&hash, h, memory_order_relaxed);
    return h;
}

/* ---- fused inputs for consumers: the program's value as a device function ---- */

/* The strided leaf read of the element kernel (a leaf's own offset from the coordinates). */
#define VALUE_STRIDED_LOAD                                                                         \
    "em_ld1(p.p%d + ((em_sit)c.c0 * p.s%d_0 + (em_sit)c.c1 * p.s%d_1 + (em_sit)c.c2 * p.s%d_2 + "  \
    "(em_sit)c.c3 * p.s%d_3))"

char *em_cu_jit_value_source(const em_jit_prog *p, const em_cu_jit_shape *s) {
    em_sbuf b = {0}, decl = {0}, asserts = {0};
    af_dtype t = (af_dtype)p->instr[p->out[0]].type;
    bool coords = !p->linear || has_generators(p);
    int V = p->linear ? s->vec : 1;
    em_sbuf_printf(&b, "// Ember fused value, codegen version %d\n%s\n", EM_CU_JIT_VERSION,
                   em_cu_src_prelude);
    em_sbuf_printf(&b, "typedef %s em_it;\ntypedef %s em_sit;\n\n",
                   s->idx64 ? "unsigned long long" : "unsigned int",
                   s->idx64 ? "long long" : "int");
    if (has_xforms(p)) em_sbuf_printf(&b, "%s", xf_helpers);
    walker w = {.decl = &decl, .asserts = &asserts, .align = 1};
    walk(&w, p, s, NULL, false, NULL, false);
    size_t size = (w.off + w.align - 1) & ~(w.align - 1);
    em_sbuf_printf(
        &b, "struct em_params {\n%s};\n%sstatic_assert(sizeof(em_params) == %zu, \"layout\");\n\n",
        decl.s ? decl.s : "", asserts.s ? asserts.s : "", size);
    if (decl.oom || asserts.oom || !gen_elem(&b, p)) b.oom = true;
    const char *st = st_name(t);
    const char *ret = t == f16 ? "em_h2f(r0)" : "r0";
    em_sbuf_printf(&b,
                   "#define EM_VAL_V %d\n#define EM_VAL_COORDS %d\ntypedef %s em_vt;\n\n"
                   "__device__ __forceinline__ em_vt em_value(const em_params &p, em_it i, "
                   "const em_coord<em_it> &c) {\n    (void)i;\n    %s r0;\n",
                   V, coords ? 1 : 0, ct_name[t], st);
    gen_call(&b, p, "    ", p->linear ? "em_ld1(p.p%d + i)" : VALUE_STRIDED_LOAD, "r%d");
    em_sbuf_printf(&b, "    return %s;\n}\n\n", ret);
    em_sbuf_printf(&b, "__device__ __forceinline__ void em_value_vec(const em_params &p, em_it i0, "
                       "em_vt *v) {\n");
    if (V > 1) {
        for (int l = 0; l < p->nleaf; l++) {
            const em_node *n = p->leaves[l];
            if (n->op != EM_OP_BUF) continue;
            const char *lt = st_name((af_dtype)n->type);
            em_sbuf_printf(&b, "    %s a%d[%d];\n    em_ld<%d, %s>(a%d, p.p%d + i0);\n", lt, l, V,
                           V, lt, l, l);
        }
        em_sbuf_printf(&b,
                       "#pragma unroll\n    for (int k = 0; k < %d; k++) {\n"
                       "        const em_it i = i0 + (em_it)k;\n        (void)i;\n"
                       "        const em_coord<em_it> c = %s;\n        %s r0;\n",
                       V, coords ? "em_coords<em_it>(i, p.d0, p.d1, p.d2)" : "em_coord<em_it>()",
                       st);
        gen_call(&b, p, "        ", "a%d[k]", "r%d");
        em_sbuf_printf(&b, "        v[k] = %s;\n    }\n", ret);
    } else {
        em_sbuf_printf(&b, "    const em_coord<em_it> c = %s;\n    v[0] = em_value(p, i0, c);\n",
                       coords ? "em_coords<em_it>(i0, p.d0, p.d1, p.d2)" : "em_coord<em_it>()");
    }
    em_sbuf_printf(&b, "}\n\n");
    free(decl.s);
    free(asserts.s);
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}
