#include "core/schedulers/classifier_free_guidance.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/torch_status.h"
#include "torch/torch.h"

namespace stamina::core {

absl::StatusOr<torch::Tensor> Guide(const torch::Tensor& uncond,
                                    const torch::Tensor& cond,
                                    double guidance_scale) {
  if (!uncond.defined() || !cond.defined() || uncond.sizes() != cond.sizes()) {
    return absl::InvalidArgumentError(
        "Guide: uncond and cond must be defined, of one shape");
  }
  return RunTorch([&] { return uncond + guidance_scale * (cond - uncond); });
}

}  // namespace stamina::core
