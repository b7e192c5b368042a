/* Thread-local storage for hot paths. The default model for a shared library calls
 * __tls_get_addr on every access (7% of a lazy op's instructions, measured with callgrind); the
 * initial-exec model is one load off the thread pointer. It takes static TLS space, of which
 * glibc keeps a small surplus for libraries loaded with dlopen (as libaf.so.3 loads the backends),
 * so only small variables use it: large buffers (the error message) keep the default model. */
#ifndef EM_CORE_TLS_H
#define EM_CORE_TLS_H

#define EM_TLS _Thread_local __attribute__((tls_model("initial-exec")))

#endif
