// Owns one process-wide workaround, linked into every binary that serves
// Prometheus metrics (alwayslink): a floor under requested thread stack sizes.
//
// Why: Debian's civetweb 1.15 (under prometheus-cpp's Exposer) creates its
// threads with 100 KiB stacks. glibc carves the static TLS of every loaded
// library out of each thread's stack, and in a process that also links
// LibTorch (staminad with in-process training and sampling) that TLS is
// ~110 KiB (OpenBLAS alone 60 KiB, glog 30 KiB), so pthread_create fails
// with EINVAL and the metrics endpoint cannot start ("null context when
// constructing CivetServer"). civetweb has no option for its stack size, so
// this definition interposes pthread_attr_setstacksize (the executable's
// symbols come first in the dynamic lookup order) and raises any request
// below kMinStackBytes to it. Larger requests and threads that never set a
// size (the 8 MiB default) are unchanged.
//
// Thread-safe: the real function is resolved once (a function-local static).
#include <dlfcn.h>
#include <pthread.h>

#include <cstddef>

namespace {

constexpr size_t kMinStackBytes = size_t{1} << 20;

}  // namespace

extern "C" int pthread_attr_setstacksize(pthread_attr_t* attr, size_t size) {
  using Fn = int (*)(pthread_attr_t*, size_t);
  static const Fn real =
      reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "pthread_attr_setstacksize"));
  if (real == nullptr) return 22;  // EINVAL: cannot happen with glibc
  return real(attr, size < kMinStackBytes ? kMinStackBytes : size);
}
