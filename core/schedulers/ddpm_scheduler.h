// File: core/schedulers/ddpm_scheduler.h
//
// The training-time forward process of DDPM: the noise schedule and
// AddNoise(x0, ε, t) = sqrt(ᾱ_t) x0 + sqrt(1 - ᾱ_t) ε. Mirrors the parts of
// diffusers src/diffusers/schedulers/scheduling_ddpm.py that training uses
// (add_noise; the model is trained to predict ε). The reverse (sampling)
// step is DDIMScheduler (core/schedulers/ddim_scheduler.h).
// Thread-safe: immutable after Create().
#ifndef STAMINA_CORE_SCHEDULERS_DDPM_SCHEDULER_H_
#define STAMINA_CORE_SCHEDULERS_DDPM_SCHEDULER_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "torch/torch.h"

namespace stamina::core {

// The fields of diffusers' scheduler_config.json that training uses, with
// the same names and diffusers' DDPMScheduler defaults.
struct DDPMSchedulerConfig {
  int64_t num_train_timesteps = 1000;
  double beta_start = 0.0001;
  double beta_end = 0.02;
  // "linear", "scaled_linear" or "squaredcos_cap_v2".
  std::string beta_schedule = "linear";
  // Only "epsilon": the training target is the noise.
  std::string prediction_type = "epsilon";

  // runwayml/stable-diffusion-v1-5 scheduler/scheduler_config.json.
  static DDPMSchedulerConfig StableDiffusion15();
};

class DDPMScheduler {
 public:
  // INVALID_ARGUMENT naming the first bad field.
  static absl::StatusOr<DDPMScheduler> Create(
      const DDPMSchedulerConfig& config);

  const DDPMSchedulerConfig& config() const { return config_; }
  // [num_train_timesteps] float32 on the CPU.
  const torch::Tensor& betas() const { return betas_; }
  const torch::Tensor& alphas_cumprod() const { return alphas_cumprod_; }

  // sqrt(ᾱ_t) * original_samples + sqrt(1 - ᾱ_t) * noise, per batch element.
  // `timesteps` is an integer tensor of B values (or one, for the whole
  // batch) in [0, num_train_timesteps); ᾱ is cast to the samples' dtype and
  // device first, as diffusers does. INVALID_ARGUMENT on bad shapes, dtypes
  // or timesteps.
  absl::StatusOr<torch::Tensor> AddNoise(const torch::Tensor& original_samples,
                                         const torch::Tensor& noise,
                                         const torch::Tensor& timesteps) const;

 private:
  DDPMScheduler(DDPMSchedulerConfig config, torch::Tensor betas,
                torch::Tensor alphas_cumprod);

  DDPMSchedulerConfig config_;
  torch::Tensor betas_;
  torch::Tensor alphas_cumprod_;
};

}  // namespace stamina::core

#endif  // STAMINA_CORE_SCHEDULERS_DDPM_SCHEDULER_H_
