#include "core/schedulers/ddpm_scheduler.h"

#include <cstdint>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "core/schedulers/beta_schedule.h"
#include "core/torch_status.h"
#include "torch/torch.h"

namespace stamina::core {

DDPMSchedulerConfig DDPMSchedulerConfig::StableDiffusion15() {
  DDPMSchedulerConfig config;
  config.num_train_timesteps = 1000;
  config.beta_start = 0.00085;
  config.beta_end = 0.012;
  config.beta_schedule = "scaled_linear";
  config.prediction_type = "epsilon";
  return config;
}

DDPMScheduler::DDPMScheduler(DDPMSchedulerConfig config, torch::Tensor betas,
                             torch::Tensor alphas_cumprod)
    : config_(std::move(config)),
      betas_(std::move(betas)),
      alphas_cumprod_(std::move(alphas_cumprod)) {}

absl::StatusOr<DDPMScheduler> DDPMScheduler::Create(
    const DDPMSchedulerConfig& config) {
  if (config.prediction_type != "epsilon") {
    return absl::InvalidArgumentError(
        absl::StrCat("DDPMScheduler: prediction_type \"",
                     config.prediction_type, "\" is not supported (epsilon)"));
  }
  STAMINA_ASSIGN_OR_RETURN(
      torch::Tensor betas,
      MakeBetas(config.beta_schedule, config.beta_start, config.beta_end,
                config.num_train_timesteps));
  STAMINA_ASSIGN_OR_RETURN(torch::Tensor alphas_cumprod,
                           RunTorch([&] { return AlphasCumprod(betas); }));
  return DDPMScheduler(config, std::move(betas), std::move(alphas_cumprod));
}

absl::StatusOr<torch::Tensor> DDPMScheduler::AddNoise(
    const torch::Tensor& original_samples, const torch::Tensor& noise,
    const torch::Tensor& timesteps) const {
  if (!original_samples.defined() || !noise.defined() || !timesteps.defined()) {
    return absl::InvalidArgumentError("AddNoise: undefined tensor");
  }
  if (original_samples.sizes() != noise.sizes() ||
      original_samples.dim() == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "AddNoise: samples ", c10::str(original_samples.sizes()), " and noise ",
        c10::str(noise.sizes()), " must have one batched shape"));
  }
  if (c10::isFloatingType(timesteps.scalar_type()) ||
      timesteps.scalar_type() == torch::kBool) {
    return absl::InvalidArgumentError("AddNoise: timesteps must be integers");
  }
  const int64_t batch = original_samples.size(0);
  if (timesteps.numel() != 1 && timesteps.numel() != batch) {
    return absl::InvalidArgumentError(absl::StrCat(
        "AddNoise: ", timesteps.numel(), " timesteps for batch ", batch));
  }
  STAMINA_ASSIGN_OR_RETURN(torch::Tensor t, RunTorch([&] {
                             return timesteps.reshape({-1}).to(torch::kCPU,
                                                               torch::kLong);
                           }));
  const int64_t* values = t.data_ptr<int64_t>();
  for (int64_t i = 0; i < t.numel(); ++i) {
    if (values[i] < 0 || values[i] >= config_.num_train_timesteps) {
      return absl::InvalidArgumentError(
          absl::StrCat("AddNoise: timesteps must lie in [0, ",
                       config_.num_train_timesteps, "), got ", values[i]));
    }
  }
  return RunTorch([&] {
    std::vector<int64_t> shape(original_samples.dim(), 1);
    shape[0] = -1;
    const torch::Tensor alpha = alphas_cumprod_.index_select(0, t)
                                    .to(original_samples.options())
                                    .reshape(shape);
    return alpha.sqrt() * original_samples + (1 - alpha).sqrt() * noise;
  });
}

}  // namespace stamina::core
