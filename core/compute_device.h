// File: core/compute_device.h
//
// Where and in what precision the models compute: the one option
// (ComputeOptions) that binaries parse from `--device` and
// `--compute_dtype` and hand to the worker and the sampler.
//
// The rule everywhere in core/: tensors follow the model. A DiffusionModel is
// built on the CPU, then PlaceModel (core/pipelines/diffusion_model.h) moves
// its three networks to the device;
// code that makes a tensor for a model (noise, image batches, adapter
// factors) makes it on ModelDevice(model). Seeded noise is always drawn from
// CPU generators and then moved, so a seed gives the same starting noise on
// every device (diffusers recommends the same for reproducibility); results
// stay byte-identical run to run on one device and thread count.
//
// Weights stay fp32 on every device (adapter master weights included);
// bf16/fp16 compute is autocast (AutocastScope around forward passes), as in
// PyTorch AMP. fp16 needs CUDA; bf16 runs on CPU too (slower there; it exists
// so that the reduced-precision path is tested on machines without a GPU).
//
// Thread-safety: the free functions are thread-safe; AutocastScope changes
// thread-local state of the calling thread only.
#ifndef STAMINA_CORE_COMPUTE_DEVICE_H_
#define STAMINA_CORE_COMPUTE_DEVICE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "torch/torch.h"

namespace stamina::core {

struct ComputeOptions {
  torch::Device device = torch::kCPU;
  // fp32 (no autocast), bf16 or fp16 (autocast on `device`).
  torch::ScalarType compute_dtype = torch::kFloat32;
};

// "auto" (the first CUDA device when LibTorch sees one, else the CPU), "cpu",
// "cuda" (= "cuda:0") or "cuda:N". INVALID_ARGUMENT naming `device` for
// anything else; FAILED_PRECONDITION when CUDA is asked for and this LibTorch
// has no CUDA device (the CPU-only Debian build never has) or N is out of
// range.
absl::StatusOr<torch::Device> ParseDevice(absl::string_view spec);

// "fp32", "bf16" or "fp16"; INVALID_ARGUMENT naming `compute_dtype` otherwise.
absl::StatusOr<torch::ScalarType> ParseComputeDtype(absl::string_view spec);

// Both, checked together: `compute_dtype` may also be "auto" (bf16 on CUDA,
// fp32 on the CPU); fp16 needs a CUDA device (INVALID_ARGUMENT).
absl::StatusOr<ComputeOptions> ParseComputeOptions(absl::string_view device,
                                                   absl::string_view compute_dtype);

// "cpu", "cuda:0"; "fp32", "bf16", "fp16".
std::string DeviceName(const torch::Device& device);
std::string ComputeDtypeName(torch::ScalarType dtype);

// A device this process can compute on, for capabilities and metrics.
struct DeviceInfo {
  std::string name;         // "cpu", "cuda:0"
  std::string description;  // e.g. "2 cores" or the CUDA device's name
  int64_t total_bytes = 0;  // device memory; 0 when unknown (the CPU's is the host's)
};

// The CPU, then every CUDA device LibTorch sees, in index order.
std::vector<DeviceInfo> AvailableDevices();

// Turns autocast to options.compute_dtype on for options.device's type on the
// calling thread for the scope's life (a no-op for fp32), restoring the
// previous state after. Nests.
class AutocastScope {
 public:
  explicit AutocastScope(const ComputeOptions& options);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

  bool active() const { return active_; }

 private:
  bool active_ = false;
  c10::DeviceType device_type_ = c10::DeviceType::CPU;
  bool previous_enabled_ = false;
  at::ScalarType previous_dtype_ = at::kFloat;
};

}  // namespace stamina::core

#endif  // STAMINA_CORE_COMPUTE_DEVICE_H_
