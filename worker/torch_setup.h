// File: worker/torch_setup.h
//
// Process start-up for binaries that train or sample in-process (staminad,
// stamina-worker, stamina-sampler): applies core's LibTorch runtime settings
// and describes them in one line, and (worker and sampler) resolves the one
// base model the process serves, behind a torch-free header so that main.cc
// files never include LibTorch. Call from main() before starting threads.
#ifndef STAMINA_WORKER_TORCH_SETUP_H_
#define STAMINA_WORKER_TORCH_SETUP_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "rpc/sample_router.h"
#include "worker/base_model_spec.h"

namespace stamina::worker {

// `threads` 0 means every core this process may use; `device` is checked
// here, so that a bad --device fails at start-up. Returns e.g.
// "torch: 2 threads of 2 cores, BLAS /usr/lib/.../libblas.so.3 (optimized);
// device cpu (2 cores), compute fp32".
absl::StatusOr<std::string> SetUpTorch(int threads, const DeviceSpec& device = {});

// The device `spec` names, described for GetCapabilities (`role`:
// rpc::kTrainingRole or rpc::kSamplingRole). Errors as ParseComputeOptions.
absl::StatusOr<rpc::ComputeDeviceReport> DescribeDevice(const DeviceSpec& spec,
                                                        const std::string& role);

// What the base-model flags of stamina-worker and stamina-sampler say
// (--base_model, --base_model_dir, --base_model_seed).
struct BaseModelFlags {
  std::string id;
  std::string dir;  // relative: to the workspace under `bazel run`
  uint64_t seed = 1;
};

// The start-up of stamina-worker and stamina-sampler: resolves the base
// model `flags` name, falling back to random weights when its files are
// missing (logging RandomWeightsWarning naming --base_model_dir), then
// SetUpTorch(`torch_threads`, `device`), logging its line. Errors as
// ResolveBaseModel and SetUpTorch.
absl::StatusOr<ResolvedBaseModel> StartModelProcess(
    const BaseModelFlags& flags, int torch_threads, const DeviceSpec& device,
    const std::function<void(const std::string&)>& log);

}  // namespace stamina::worker

#endif  // STAMINA_WORKER_TORCH_SETUP_H_
