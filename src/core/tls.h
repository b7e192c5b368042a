/* Thread-local storage for hot paths. Ember's backends are loaded with dlopen (by libaf.so.3, by
 * Python's ctypes), so their thread-locals must use a dynamic TLS model: the initial-exec model
 * needs static TLS space, and a process that already loaded PyTorch has none left ("cannot
 * allocate memory in static TLS block", seen on the GPU machine). The build uses TLS descriptors
 * instead (-mtls-dialect=gnu2, CMakeLists.txt), which keep a dynamic-model access to a few
 * instructions where the default dialect calls __tls_get_addr. */
#ifndef EM_CORE_TLS_H
#define EM_CORE_TLS_H

#define EM_TLS _Thread_local

/* The address of thread-local `var`, computed once. GCC does not reliably reuse a TLS-descriptor
 * address within a function: uses separated by atomics or calls repeat the descriptor call. The
 * empty asm hides where the pointer came from, so the compiler keeps it in a register instead of
 * computing it again. The library's one hot thread-local is em_thread (thread.h). */
#define EM_TLS_PTR(var)                                                                            \
    __extension__({                                                                                \
        __typeof__(&(var)) em_tls_p_ = &(var);                                                     \
        __asm__("" : "+r"(em_tls_p_));                                                             \
        em_tls_p_;                                                                                 \
    })

#endif
