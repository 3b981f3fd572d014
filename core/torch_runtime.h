// File: core/torch_runtime.h
//
// Process-wide LibTorch set-up, done once at start-up by every binary that
// runs models (flags are parsed in main.cc and passed in as options):
// intra-op threads = the cores this process may use (Debian's LibTorch
// defaults to 1 here), and a report of which BLAS the process loaded, because
// Debian's default reference BLAS makes matmul ~17x slower than OpenBLAS
// (docs: toolchain.md §8; `./stamina.sh setup` installs libopenblas0-openmp).
//
// ConfigureTorchRuntime is not thread-safe: call it from main() before
// starting threads.
#ifndef STAMINA_CORE_TORCH_RUNTIME_H_
#define STAMINA_CORE_TORCH_RUNTIME_H_

#include <string>

#include "absl/status/statusor.h"

namespace stamina::core {

// TorchRuntimeOptions::threads for "the cores nothing else is using now".
inline constexpr int kIdleCoreThreads = -1;

struct TorchRuntimeOptions {
  // Intra-op threads; 0 means the number of cores this process may run on;
  // kIdleCoreThreads means IdleCores() (benchmarks: OpenMP threads that
  // share a core with another busy process slow everything down).
  int threads = 0;
};

struct TorchRuntimeInfo {
  // Threads LibTorch now uses for intra-op parallelism.
  int threads = 0;
  // Cores this process may run on (sched_getaffinity).
  int available_cores = 0;
  // The 1-minute load average at start-up (/proc/loadavg; -1 when unknown).
  double load_average = -1;
  // Path of the BLAS library mapped into the process, e.g.
  // "/usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3", or
  // "reference (<path>)" when it is netlib's reference BLAS.
  std::string blas_library;
  // True when blas_library is an optimized BLAS (OpenBLAS, BLIS, MKL).
  bool blas_optimized = false;
};

// Applies `options` and reports the result. INVALID_ARGUMENT for negative
// thread counts other than kIdleCoreThreads.
absl::StatusOr<TorchRuntimeInfo> ConfigureTorchRuntime(
    const TorchRuntimeOptions& options);

// The number of cores this process may run on (at least 1).
int AvailableCores();

// Cores not busy: `cores` minus the load average rounded to the nearest
// whole, at least 1 (all of them when the load is unknown, i.e. negative).
int IdleCores(int cores, double load_average);
// The 1-minute load average from /proc/loadavg, or -1.
double LoadAverage();

// The intra-op threads LibTorch uses on the calling thread (on a thread that
// has not changed its own: the process-wide count).
int CallingThreadTorchThreads();

// Sets the intra-op threads of the calling thread only (OpenMP keeps the
// count per thread; LibTorch's parallel loops and OpenBLAS's OpenMP build
// read it at each call), leaving the process-wide count that
// ConfigureTorchRuntime set for every other thread. For long-lived threads
// that share the cores by design (the sampler's slots). Thread-safe.
// INVALID_ARGUMENT unless threads >= 1.
absl::Status SetCallingThreadTorchThreads(int threads);

}  // namespace stamina::core

#endif  // STAMINA_CORE_TORCH_RUNTIME_H_
