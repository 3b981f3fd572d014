#include "core/torch_runtime.h"

#include <omp.h>
#include <sched.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <string>

#include "ATen/Parallel.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/torch_status.h"
#include "torch/torch.h"

namespace stamina::core {
namespace {

// Finds the BLAS shared object in /proc/self/maps. LibTorch links
// libblas.so.3, a Debian alternative that resolves to the reference BLAS,
// OpenBLAS or BLIS depending on what is installed.
std::string LoadedBlasLibrary() {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  std::string reference;
  while (std::getline(maps, line)) {
    const size_t path_start = line.find('/');
    if (path_start == std::string::npos) continue;
    const std::string path = line.substr(path_start);
    if (absl::StrContains(path, "openblas") || absl::StrContains(path, "blis") ||
        absl::StrContains(path, "mkl")) {
      return path;
    }
    if (absl::StrContains(path, "/blas/libblas.so")) reference = path;
  }
  return reference.empty() ? "unknown" : "reference (" + reference + ")";
}

}  // namespace

int AvailableCores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int count = CPU_COUNT(&set);
    if (count > 0) return count;
  }
  return 1;
}

int IdleCores(int cores, double load_average) {
  if (load_average < 0) return std::max(1, cores);
  return std::max(1, cores - static_cast<int>(std::lround(load_average)));
}

double LoadAverage() {
  std::ifstream file("/proc/loadavg");
  double load = -1;
  if (!(file >> load)) return -1;
  return load;
}

int CallingThreadTorchThreads() { return at::get_num_threads(); }

absl::Status SetCallingThreadTorchThreads(int threads) {
  if (threads < 1) {
    return absl::InvalidArgumentError(absl::StrCat("threads: must be >= 1, got ", threads));
  }
  // LibTorch sets a thread's OpenMP count to the process-wide one the first
  // time the thread runs a parallel op; let that happen now, not after.
  at::internal::lazy_init_num_threads();
  omp_set_num_threads(threads);
  return absl::OkStatus();
}

absl::StatusOr<TorchRuntimeInfo> ConfigureTorchRuntime(
    const TorchRuntimeOptions& options) {
  if (options.threads < 0 && options.threads != kIdleCoreThreads) {
    return absl::InvalidArgumentError(absl::StrCat("threads: must be >= 0, or ", kIdleCoreThreads,
                                                   " for the idle cores; got ", options.threads));
  }
  TorchRuntimeInfo info;
  info.available_cores = AvailableCores();
  info.load_average = LoadAverage();
  const int threads = options.threads == 0 ? info.available_cores
                      : options.threads == kIdleCoreThreads
                          ? IdleCores(info.available_cores, info.load_average)
                          : options.threads;
  absl::Status status = RunTorch([&] {
    at::set_num_threads(threads);
    // Touch BLAS once so that the library is mapped before we look for it.
    torch::mm(torch::ones({2, 2}), torch::ones({2, 2}));
  });
  if (!status.ok()) return status;
  info.threads = at::get_num_threads();
  info.blas_library = LoadedBlasLibrary();
  info.blas_optimized = !absl::StartsWith(info.blas_library, "reference") &&
                        info.blas_library != "unknown";
  return info;
}

}  // namespace stamina::core
