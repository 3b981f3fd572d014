// File: worker/torch_setup.h
//
// Process start-up for binaries that train or sample in-process (staminad,
// stamina-worker): applies core's LibTorch runtime settings and describes
// them in one line, behind a torch-free header so that main.cc files never
// include LibTorch. Call from main() before starting threads.
#ifndef STAMINA_WORKER_TORCH_SETUP_H_
#define STAMINA_WORKER_TORCH_SETUP_H_

#include <string>

#include "absl/status/statusor.h"

namespace stamina::worker {

// `threads` 0 means every core this process may use. Returns e.g.
// "torch: 2 threads of 2 cores, BLAS /usr/lib/.../libblas.so.3 (optimized)".
absl::StatusOr<std::string> SetUpTorch(int threads);

}  // namespace stamina::worker

#endif  // STAMINA_WORKER_TORCH_SETUP_H_
