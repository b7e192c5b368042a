/* Thread-local storage for hot paths. Ember's backends are loaded with dlopen (by libaf.so.3, by
 * Python's ctypes), so their thread-locals must use a dynamic TLS model: the initial-exec model
 * needs static TLS space, and a process that already loaded PyTorch has none left ("cannot
 * allocate memory in static TLS block", seen on the GPU machine). The build uses TLS descriptors
 * instead (-mtls-dialect=gnu2, CMakeLists.txt), which keep a dynamic-model access to a few
 * instructions where the default dialect calls __tls_get_addr. */
#ifndef EM_CORE_TLS_H
#define EM_CORE_TLS_H

#define EM_TLS _Thread_local

#endif
