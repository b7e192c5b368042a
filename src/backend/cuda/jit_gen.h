/* CUDA code generation for JIT programs. Pure C with no CUDA calls, so that CI (no GPU) can
 * generate the source of every op and dtype and compile it with NVRTC.
 *
 * A program becomes one kernel whose only parameter is a struct passed by value. Its layout is
 * written once, by a walk over the program that both declares the struct (generation, on a cache
 * miss) and packs the values (every launch), so the two cannot disagree; the generated source also
 * static_asserts every offset against the device compiler's layout. */
#ifndef EM_CUDA_JIT_GEN_H
#define EM_CUDA_JIT_GEN_H

#include "../../core/jit.h"

#include <stdbool.h>
#include <stddef.h>

/* Bumped whenever the generated code changes for the same program; part of every cache key. */
#define EM_CU_JIT_VERSION 4

/* Kernel parameters of CUDA 12.1+ on Volta and newer may take up to 32764 bytes. One tree stays
 * within 4 KiB under the flush rules; a multi-output program (af_eval_multiple) may need more. */
#define EM_CU_PARAM_MAX 32764

#define EM_CU_JIT_KERNEL "em_jit"

/* What the generated code depends on beyond the program's structure (prog->key). */
typedef struct {
    bool idx64; /* 64-bit indices: 2^31 elements or more, or a leaf over a buffer that large */
    int vec;    /* elements per thread in the vector path of a linear program; 1: none */
    /* The one output goes to a strided window (em_jit_window): the kernel takes the window's
     * strides and indexes by coordinates, as for strided leaves. */
    bool window;
    /* The window's dimension-0 stride is 1 (set with the window, em_cu_jit_shape_window). */
    bool wdense;
    /* The run kernel (strided leaves or a window; em_cu_jit_runs): each thread computes `run`
     * consecutive elements along dimension 0 of one line of the output, so the coordinates are
     * decoded once per run, and leaves and outputs that are contiguous (or reversed) along
     * dimension 0 move a run with one vector access where the vector flags allow. */
    int run;
} em_cu_jit_shape;

void em_cu_jit_shape_of(const em_jit_prog *p, em_cu_jit_shape *s);

/* Makes s the shape of evaluating into a window with element strides wstrides. */
void em_cu_jit_shape_window(em_cu_jit_shape *s, const dim_t wstrides[4]);

/* True when the element kernel of (p, s) is the run kernel; it then takes
 * em_cu_jit_run_flags as its vector flags and em_cu_jit_runs_total threads' worth of work. */
bool em_cu_jit_runs(const em_jit_prog *p, const em_cu_jit_shape *s);

/* The run kernel's runs: ceil(d0 / run) per line of dimension 0, times the lines. */
dim_t em_cu_jit_runs_total(const em_jit_prog *p, const em_cu_jit_shape *s);

/* The run kernel's vector flags for outputs `outs` (the window's element 0 with `wstrides`, or
 * NULL): bit 0 when every output can store a whole run with one access, bit l + 1 when leaf
 * l < 31 can load one so (aligned, and its strides keep every run aligned). */
int em_cu_jit_run_flags(const em_jit_prog *p, const em_cu_jit_shape *s, void *const *outs,
                        const dim_t *wstrides);

/* The key of the kernel for (program, shape) without the architecture. */
uint64_t em_cu_jit_key(const em_jit_prog *p, const em_cu_jit_shape *s);

/* The kernel's full CUDA source (prelude included), malloc'ed; NULL when out of host memory. */
char *em_cu_jit_source(const em_jit_prog *p, const em_cu_jit_shape *s);

/* Packs the parameters for outputs `outs` into buf (16-byte aligned, cap bytes); `vec` enables
 * the vector path at run time. With s->window, outs[0] points at the window's element 0 (its
 * offset applied) and `wstrides` holds its strides. Returns the size, or 0 when the parameters
 * exceed cap. */
size_t em_cu_jit_pack(const em_jit_prog *p, const em_cu_jit_shape *s, void *const *outs, bool vec,
                      const dim_t *wstrides, unsigned char *buf, size_t cap);

/* The same with the run kernel's vector flags (em_cu_jit_run_flags) in place of `vec`. */
size_t em_cu_jit_pack_flags(const em_jit_prog *p, const em_cu_jit_shape *s, void *const *outs,
                            int flags, const dim_t *wstrides, unsigned char *buf, size_t cap);

/* True when the vector path may run: every buffer and output is aligned to its vector width. */
bool em_cu_jit_vec_ok(const em_jit_prog *p, const em_cu_jit_shape *s, void *const *outs);

/* The element kernel's vector flags for outputs `outs` (linear programs; pack them with
 * em_cu_jit_pack_flags): 0 when the vector path cannot run (an output off its vector boundary,
 * or no vector path), else bit 0, plus bit l + 1 for each leaf l < 30 that starts off its vector
 * boundary, which the vector path then reads element by element. em_cu_jit_pack's `vec` is bit 0
 * alone: every leaf aligned, as em_value_vec of the fused value requires. */
int em_cu_jit_vec_flags(const em_jit_prog *p, const em_cu_jit_shape *s, void *const *outs);

/* Fused inputs for consumers (reductions, scans, statistics): the program's output 0 as a device
 * function, so that a consumer's kernel computes the expression in registers and uses it at once.
 * Returns malloc'ed CUDA source (NULL when out of host memory): the prelude, the typedefs em_it
 * and em_sit (index types of the shape), the parameter struct em_params of em_cu_jit_pack and the
 * program's em_elem, then
 *     #define EM_VAL_V       elements per vector read (1: no vector path)
 *     #define EM_VAL_COORDS  1 when em_value reads the coordinates c (strided leaves, generators)
 *     typedef ... em_vt;     the compute type of output 0 (float for f16, em_c32, ...)
 *     em_vt em_value(const em_params &p, em_it i, const em_coord<em_it> &c);
 *         output 0 at linear index i (column-major over p.d0..p.d3); c must hold i's coordinates
 *         (em_coords<em_it>(i, p.d0, p.d1, p.d2)) when EM_VAL_COORDS, else anything;
 *     void em_value_vec(const em_params &p, em_it i0, em_vt *v);
 *         v[k] = output 0 at i0 + k for k < EM_VAL_V, reading each leaf with one vector load:
 *         only when p.vec is set (every leaf aligned; em_cu_jit_vec_ok) and i0 is a multiple of
 *         EM_VAL_V.
 * No kernel: the consumer appends its own, which takes `const em_params p` by value. The launch
 * packs the parameters with em_cu_jit_pack(p, s, outs, vec, NULL, buf, cap), outs = {NULL} (the
 * output pointer is unused), and keys its module by em_cu_jit_key(p, s) mixed with everything its
 * own code depends on. */
char *em_cu_jit_value_source(const em_jit_prog *p, const em_cu_jit_shape *s);

/* The hash of the prelude (kernels/prelude.cuh) and rng.h as embedded at build time
 * (embedded.h declares the texts). */
uint64_t em_cu_prelude_hash(void);

/* Whether the generator implements op on operand dtype `ot` with result dtype `rt` (the pairs of
 * docs/JIT_OPS.md). For the codegen test. */
bool em_cu_jit_supports(em_op op, af_dtype ot, af_dtype rt);

#endif
