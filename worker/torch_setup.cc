#include "worker/torch_setup.h"

#include "absl/strings/str_cat.h"
#include "common/allocator.h"
#include "common/process.h"
#include "common/status_macros.h"
#include "core/compute_device.h"
#include "core/torch_runtime.h"

namespace stamina::worker {

absl::StatusOr<rpc::ComputeDeviceReport> DescribeDevice(const DeviceSpec& spec,
                                                        const std::string& role) {
  STAMINA_ASSIGN_OR_RETURN(core::ComputeOptions compute,
                           core::ParseComputeOptions(spec.device, spec.compute_dtype));
  rpc::ComputeDeviceReport report{.role = role,
                                  .device = core::DeviceName(compute.device),
                                  .compute_dtype = core::ComputeDtypeName(compute.compute_dtype)};
  for (const core::DeviceInfo& available : core::AvailableDevices()) {
    if (available.name == report.device) {
      report.description = available.description;
      report.memory_bytes = available.total_bytes;
    }
  }
  return report;
}

absl::StatusOr<std::string> SetUpTorch(int threads, const DeviceSpec& device) {
  STAMINA_ASSIGN_OR_RETURN(core::TorchRuntimeInfo info,
                           core::ConfigureTorchRuntime({.threads = threads}));
  STAMINA_ASSIGN_OR_RETURN(rpc::ComputeDeviceReport report,
                           DescribeDevice(device, rpc::kTrainingRole));
  return absl::StrCat("torch: ", info.threads, " threads of ", info.available_cores,
                      " cores, BLAS ", info.blas_library,
                      info.blas_optimized ? " (optimized)" : " (NOT optimized: slow)", "; device ",
                      report.device, " (", report.description, "), compute ", report.compute_dtype);
}

absl::StatusOr<ResolvedBaseModel> StartModelProcess(
    const BaseModelFlags& flags, int torch_threads, const DeviceSpec& device,
    const std::function<void(const std::string&)>& log) {
  STAMINA_ASSIGN_OR_RETURN(ResolvedBaseModel resolved,
                           ResolveBaseModel({.id = flags.id,
                                             .dir = WorkspacePath(flags.dir),
                                             .random_fallback = true,
                                             .random_seed = flags.seed}));
  const std::string warning = RandomWeightsWarning(resolved, "--base_model_dir=" + flags.dir);
  if (!warning.empty()) log(warning);
  STAMINA_ASSIGN_OR_RETURN(std::string torch, SetUpTorch(torch_threads, device));
  log(torch);
  log("allocator: " + AllocatorDescription());
  return resolved;
}

}  // namespace stamina::worker
