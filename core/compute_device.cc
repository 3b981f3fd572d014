#include "core/compute_device.h"

#include <string>

#include "ATen/autocast_mode.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "core/torch_runtime.h"
#include "core/torch_status.h"
#include "torch/cuda.h"
#include "torch/version.h"

#if defined(STAMINA_WITH_CUDA)
#include "ATen/cuda/CUDAContext.h"
#endif

// LibTorch 2.4 replaced the per-backend autocast setters (set_enabled,
// set_cpu_enabled, set_autocast_gpu_dtype...) with ones taking a device type.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define STAMINA_AUTOCAST_BY_DEVICE_TYPE 1
#endif

namespace stamina::core {
namespace {

bool AutocastEnabled(c10::DeviceType type) {
#if defined(STAMINA_AUTOCAST_BY_DEVICE_TYPE)
  return at::autocast::is_autocast_enabled(type);
#else
  return type == c10::DeviceType::CUDA ? at::autocast::is_enabled()
                                       : at::autocast::is_cpu_enabled();
#endif
}

at::ScalarType AutocastDtype(c10::DeviceType type) {
#if defined(STAMINA_AUTOCAST_BY_DEVICE_TYPE)
  return at::autocast::get_autocast_dtype(type);
#else
  return type == c10::DeviceType::CUDA ? at::autocast::get_autocast_gpu_dtype()
                                       : at::autocast::get_autocast_cpu_dtype();
#endif
}

void SetAutocast(c10::DeviceType type, bool enabled, at::ScalarType dtype) {
#if defined(STAMINA_AUTOCAST_BY_DEVICE_TYPE)
  at::autocast::set_autocast_enabled(type, enabled);
  at::autocast::set_autocast_dtype(type, dtype);
#else
  if (type == c10::DeviceType::CUDA) {
    at::autocast::set_enabled(enabled);
    at::autocast::set_autocast_gpu_dtype(dtype);
  } else {
    at::autocast::set_cpu_enabled(enabled);
    at::autocast::set_autocast_cpu_dtype(dtype);
  }
#endif
}

int CudaDeviceCount() {
  absl::StatusOr<int> count = RunTorch([] {
    return torch::cuda::is_available() ? static_cast<int>(torch::cuda::device_count()) : 0;
  });
  return count.ok() ? *count : 0;
}

}  // namespace

absl::StatusOr<torch::Device> ParseDevice(absl::string_view spec) {
  const int cuda_devices = CudaDeviceCount();
  if (spec == "auto") {
    return cuda_devices > 0 ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  }
  if (spec == "cpu") return torch::Device(torch::kCPU);
  int index = 0;
  if (spec != "cuda") {
    if (!absl::ConsumePrefix(&spec, "cuda:") || !absl::SimpleAtoi(spec, &index) || index < 0 ||
        index > 255) {
      return absl::InvalidArgumentError(
          absl::StrCat("device: expected auto, cpu, cuda or cuda:N, got \"", spec, "\""));
    }
  }
  if (cuda_devices == 0) {
    return absl::FailedPreconditionError(
        "device: CUDA asked for, but this LibTorch sees no CUDA device (Debian's "
        "LibTorch is CPU-only: build against a CUDA LibTorch, see the README)");
  }
  if (index >= cuda_devices) {
    return absl::FailedPreconditionError(absl::StrCat(
        "device: cuda:", index, " asked for, but there are ", cuda_devices, " CUDA devices"));
  }
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
}

absl::StatusOr<torch::ScalarType> ParseComputeDtype(absl::string_view spec) {
  if (spec == "fp32") return torch::kFloat32;
  if (spec == "bf16") return torch::kBFloat16;
  if (spec == "fp16") return torch::kFloat16;
  return absl::InvalidArgumentError(
      absl::StrCat("compute_dtype: expected fp32, bf16 or fp16, got \"", spec, "\""));
}

absl::StatusOr<ComputeOptions> ParseComputeOptions(absl::string_view device,
                                                   absl::string_view compute_dtype) {
  ComputeOptions options;
  absl::StatusOr<torch::Device> parsed_device = ParseDevice(device);
  if (!parsed_device.ok()) return parsed_device.status();
  options.device = *parsed_device;
  if (compute_dtype == "auto") {
    options.compute_dtype = options.device.is_cuda() ? torch::kBFloat16 : torch::kFloat32;
    return options;
  }
  absl::StatusOr<torch::ScalarType> parsed_dtype = ParseComputeDtype(compute_dtype);
  if (!parsed_dtype.ok()) return parsed_dtype.status();
  options.compute_dtype = *parsed_dtype;
  if (options.compute_dtype == torch::kFloat16 && !options.device.is_cuda()) {
    return absl::InvalidArgumentError(
        "compute_dtype: fp16 needs a CUDA device; use bf16 or fp32 on the CPU");
  }
  return options;
}

std::string DeviceName(const torch::Device& device) { return device.str(); }

std::string ComputeDtypeName(torch::ScalarType dtype) {
  switch (dtype) {
    case torch::kFloat32:
      return "fp32";
    case torch::kBFloat16:
      return "bf16";
    case torch::kFloat16:
      return "fp16";
    default:
      return c10::toString(dtype);
  }
}

std::vector<DeviceInfo> AvailableDevices() {
  std::vector<DeviceInfo> devices;
  devices.push_back({.name = "cpu", .description = absl::StrCat(AvailableCores(), " cores")});
  const int cuda_devices = CudaDeviceCount();
  for (int i = 0; i < cuda_devices; ++i) {
    DeviceInfo info{.name = absl::StrCat("cuda:", i), .description = "CUDA device"};
#if defined(STAMINA_WITH_CUDA)
    if (const cudaDeviceProp* properties = at::cuda::getDeviceProperties(i)) {
      info.description = properties->name;
      info.total_bytes = static_cast<int64_t>(properties->totalGlobalMem);
    }
#endif
    devices.push_back(std::move(info));
  }
  return devices;
}

AutocastScope::AutocastScope(const ComputeOptions& options) {
  if (options.compute_dtype == torch::kFloat32) return;
  active_ = true;
  device_type_ = options.device.type();
  previous_enabled_ = AutocastEnabled(device_type_);
  previous_dtype_ = AutocastDtype(device_type_);
  SetAutocast(device_type_, true, options.compute_dtype);
  at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope() {
  if (!active_) return;
  // The outermost scope drops the casts autocast cached for its weights, as
  // torch.autocast's __exit__ does.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  SetAutocast(device_type_, previous_enabled_, previous_dtype_);
}

}  // namespace stamina::core
