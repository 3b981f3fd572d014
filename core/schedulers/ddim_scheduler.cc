#include "core/schedulers/ddim_scheduler.h"

#include <algorithm>
#include <cmath>
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
namespace {

absl::Status Invalid(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("DDIMScheduler: ", what));
}

}  // namespace

DDIMSchedulerConfig DDIMSchedulerConfig::StableDiffusion15() {
  DDIMSchedulerConfig config;
  config.num_train_timesteps = 1000;
  config.beta_start = 0.00085;
  config.beta_end = 0.012;
  config.beta_schedule = "scaled_linear";
  config.clip_sample = false;
  config.set_alpha_to_one = false;
  config.steps_offset = 1;
  config.prediction_type = "epsilon";
  config.timestep_spacing = "leading";
  return config;
}

DDIMScheduler::DDIMScheduler(DDIMSchedulerConfig config, torch::Tensor alphas_cumprod)
    : config_(std::move(config)), alphas_cumprod_(std::move(alphas_cumprod)) {
  const float* values = alphas_cumprod_.data_ptr<float>();
  alphas_cumprod_values_.assign(values, values + alphas_cumprod_.numel());
  final_alpha_cumprod_ = config_.set_alpha_to_one ? 1.0 : alphas_cumprod_values_.front();
}

absl::StatusOr<DDIMScheduler> DDIMScheduler::Create(const DDIMSchedulerConfig& config) {
  const std::string& p = config.prediction_type;
  if (p != "epsilon" && p != "sample" && p != "v_prediction") {
    return Invalid(absl::StrCat("unknown prediction_type \"", p, "\""));
  }
  const std::string& s = config.timestep_spacing;
  if (s != "leading" && s != "trailing" && s != "linspace") {
    return Invalid(absl::StrCat("unknown timestep_spacing \"", s, "\""));
  }
  if (config.steps_offset < 0) return Invalid("steps_offset is negative");
  if (!(config.clip_sample_range > 0)) {
    return Invalid("clip_sample_range must be positive");
  }
  STAMINA_ASSIGN_OR_RETURN(torch::Tensor betas,
                           MakeBetas(config.beta_schedule, config.beta_start, config.beta_end,
                                     config.num_train_timesteps));
  STAMINA_ASSIGN_OR_RETURN(torch::Tensor alphas_cumprod,
                           RunTorch([&] { return AlphasCumprod(betas).contiguous(); }));
  return DDIMScheduler(config, std::move(alphas_cumprod));
}

absl::Status DDIMScheduler::SetTimesteps(int64_t num_inference_steps) {
  const int64_t total = config_.num_train_timesteps;
  const int64_t n = num_inference_steps;
  if (n <= 0 || n > total) {
    return Invalid(absl::StrCat("num_inference_steps must lie in [1, ", total, "], got ", n));
  }
  std::vector<int64_t> timesteps(n);
  for (int64_t k = 0; k < n; ++k) {
    // k-th timestep in descending order (i = n - 1 - k ascending).
    const int64_t i = n - 1 - k;
    if (config_.timestep_spacing == "leading") {
      timesteps[k] = i * (total / n) + config_.steps_offset;
    } else if (config_.timestep_spacing == "trailing") {
      const double ratio = static_cast<double>(total) / n;
      timesteps[k] = static_cast<int64_t>(std::nearbyint(total - k * ratio)) - 1;
    } else {  // linspace
      const double step = n > 1 ? static_cast<double>(total - 1) / (n - 1) : 0;
      timesteps[k] = static_cast<int64_t>(std::nearbyint(i * step));
    }
    if (timesteps[k] < 0 || timesteps[k] >= total) {
      return Invalid(absl::StrCat(n, " steps with steps_offset ", config_.steps_offset,
                                  " give timestep ", timesteps[k], " outside [0, ", total, ")"));
    }
  }
  num_inference_steps_ = n;
  timesteps_ = std::move(timesteps);
  return absl::OkStatus();
}

absl::StatusOr<DDIMStepOutput> DDIMScheduler::Step(const torch::Tensor& model_output,
                                                   int64_t timestep, const torch::Tensor& sample,
                                                   const DDIMStepOptions& options) const {
  if (num_inference_steps_ == 0) {
    return absl::FailedPreconditionError("DDIMScheduler: Step() before SetTimesteps()");
  }
  const int64_t total = config_.num_train_timesteps;
  if (timestep < 0 || timestep >= total) {
    return Invalid(absl::StrCat("timestep ", timestep, " outside [0, ", total, ")"));
  }
  if (!model_output.defined() || !sample.defined() || model_output.sizes() != sample.sizes()) {
    return Invalid("model_output and sample must be defined, of one shape");
  }
  if (!(options.eta >= 0)) return Invalid("eta must be >= 0");
  const bool add_noise = options.eta > 0;
  if (add_noise && options.variance_noise.defined() &&
      options.variance_noise.sizes() != sample.sizes()) {
    return Invalid("variance_noise must have the sample's shape");
  }

  const int64_t prev_timestep = timestep - total / num_inference_steps_;
  const double alpha_prod_t = alphas_cumprod_values_[timestep];
  const double alpha_prod_t_prev =
      prev_timestep >= 0 ? alphas_cumprod_values_[prev_timestep] : final_alpha_cumprod_;
  const double beta_prod_t = 1 - alpha_prod_t;
  const double beta_prod_t_prev = 1 - alpha_prod_t_prev;
  const double sqrt_alpha = std::sqrt(alpha_prod_t);
  const double sqrt_beta = std::sqrt(beta_prod_t);
  // σ_t = η sqrt((1 - ᾱ_prev) / (1 - ᾱ_t)) sqrt(1 - ᾱ_t / ᾱ_prev).
  const double variance = (beta_prod_t_prev / beta_prod_t) * (1 - alpha_prod_t / alpha_prod_t_prev);
  const double std_dev_t = options.eta * std::sqrt(std::max(variance, 0.0));
  const double direction_coef =
      std::sqrt(std::max(1 - alpha_prod_t_prev - std_dev_t * std_dev_t, 0.0));

  return RunTorch([&] {
    torch::Tensor pred_original;
    torch::Tensor pred_epsilon;
    if (config_.prediction_type == "epsilon") {
      pred_original = (sample - sqrt_beta * model_output) / sqrt_alpha;
      pred_epsilon = model_output;
    } else if (config_.prediction_type == "sample") {
      pred_original = model_output;
      pred_epsilon = (sample - sqrt_alpha * pred_original) / sqrt_beta;
    } else {  // v_prediction
      pred_original = sqrt_alpha * sample - sqrt_beta * model_output;
      pred_epsilon = sqrt_alpha * model_output + sqrt_beta * sample;
    }
    if (config_.clip_sample) {
      pred_original = pred_original.clamp(-config_.clip_sample_range, config_.clip_sample_range);
    }
    if (options.use_clipped_model_output) {
      pred_epsilon = (sample - sqrt_alpha * pred_original) / sqrt_beta;
    }
    torch::Tensor prev_sample =
        std::sqrt(alpha_prod_t_prev) * pred_original + direction_coef * pred_epsilon;
    if (add_noise) {
      torch::Tensor noise = options.variance_noise;
      if (!noise.defined()) {
        c10::optional<at::Generator> generator;
        if (options.generator.has_value()) generator = *options.generator;
        // Seeded generators are CPU generators (core/compute_device.h).
        noise = torch::randn(
            sample.sizes(), generator,
            sample.options().device(generator.has_value() ? generator->device() : sample.device()));
      }
      prev_sample = prev_sample + std_dev_t * noise.to(sample.options());
    }
    return DDIMStepOutput{prev_sample, pred_original};
  });
}

}  // namespace stamina::core
