#include "worker/torch_setup.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "core/torch_runtime.h"

namespace stamina::worker {

absl::StatusOr<std::string> SetUpTorch(int threads) {
  STAMINA_ASSIGN_OR_RETURN(core::TorchRuntimeInfo info,
                           core::ConfigureTorchRuntime({.threads = threads}));
  return absl::StrCat("torch: ", info.threads, " threads of ", info.available_cores,
                      " cores, BLAS ", info.blas_library,
                      info.blas_optimized ? " (optimized)" : " (NOT optimized: slow)");
}

}  // namespace stamina::worker
