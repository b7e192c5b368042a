/* The calling thread's library state, in one thread-local object: its active device, the
 * manual-eval flag, its cache of free JIT nodes and its owner record (jit.c), and the quarantine
 * FIFO of released array headers (array.c). Each lookup is a TLS-descriptor call (tls.h), so
 * there is one object, and hot functions look it up once and pass it to the _on forms of their
 * callees. Together these took a 16-op chain from 157 descriptor calls to 53; all of them had
 * cost about 0.18 us of the chain on the GPU machine's host. */
#ifndef EM_CORE_THREAD_H
#define EM_CORE_THREAD_H

#include "tls.h"

#include <stdbool.h>
#include <stddef.h>

struct em_node;
struct em_node_owner;
struct em_array;

typedef struct {
    int active_dev;   /* -1 until the thread initialises or picks a device (dev.c) */
    bool manual_eval; /* af_set_manual_eval_flag */
    /* jit.c: released nodes kept for reuse, and the record that owns the thread's biased
     * reference counts (NULL until the thread makes its first node) */
    struct em_node *node_free;
    int node_free_count;
    struct em_node_owner *node_owner;
    /* array.c: released headers waiting before reuse */
    struct em_array *fifo_head, *fifo_tail;
    size_t fifo_count;
} em_thread;

extern __attribute__((visibility("hidden"))) EM_TLS em_thread em_thread_state;

/* The calling thread's state. A function that uses it more than once keeps the pointer in a
 * local: each call of this function is a TLS-descriptor call of its own (tls.h). */
static inline em_thread *em_thread_self(void) {
    return EM_TLS_PTR(em_thread_state);
}

#endif
