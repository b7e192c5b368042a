/* A growing, malloc'ed, NUL-terminated string for generated text (kernel source, printed
 * arrays). After an allocation failure `oom` is set, later appends are dropped, and the owner
 * treats the text as lost. */
#ifndef EM_CORE_SBUF_H
#define EM_CORE_SBUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char *s;
    size_t len, cap;
    bool oom;
} em_sbuf;

/* Appends printf-style text. */
void em_sbuf_printf(em_sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
