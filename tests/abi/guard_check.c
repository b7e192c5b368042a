/* Checks that AF_API_VERSION hides what later levels added, as ArrayFire's headers do. A program
 * that pins an older level may use the names of later functions for its own symbols; defining
 * them here fails to compile if the headers still declare them. check_headers.sh compiles this
 * with -DAF_API_VERSION=36. */
#include <arrayfire.h>

#if AF_API_VERSION != 36
#error "compile with -DAF_API_VERSION=36"
#endif

/* Level 39, 38 and 37 additions must be hidden. */
static int af_sum_all_array;
static int af_bitnot;
static int af_gemm;
static int af_create_memory_manager;
static int af_create_event;

/* Level 36 and older must remain. */
static af_err (*const keep_topk)(af_array *, af_array *, const af_array, const int, const int,
                                 const af_topk_function) = af_topk;
static af_err (*const keep_sum)(af_array *, const af_array, const int) = af_sum;

int em_guard_check_uses(void);
int em_guard_check_uses(void) {
    return af_sum_all_array + af_bitnot + af_gemm + af_create_memory_manager + af_create_event +
           (keep_topk != 0) + (keep_sum != 0);
}
