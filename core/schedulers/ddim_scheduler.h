// File: core/schedulers/ddim_scheduler.h
//
// The DDIM sampler: diffusers src/diffusers/schedulers/scheduling_ddim.py
// (DDIMScheduler: set_timesteps, step) with its config names. Supports
// epsilon / sample / v_prediction, clip_sample, set_alpha_to_one,
// steps_offset, the three timestep spacings and eta >= 0; not thresholding
// or rescale_betas_zero_snr. ᾱ values are diffusers' float32 ones; the step
// coefficients are then computed in double and applied in the sample's dtype.
//
//   STAMINA_ASSIGN_OR_RETURN(DDIMScheduler ddim, DDIMScheduler::Create(
//       DDIMSchedulerConfig::StableDiffusion15()));
//   STAMINA_RETURN_IF_ERROR(ddim.SetTimesteps(50));  // 981, 961, ..., 1
//   for (int64_t t : ddim.timesteps()) {
//     STAMINA_ASSIGN_OR_RETURN(DDIMStepOutput out, ddim.Step(eps, t, x));
//     x = out.prev_sample;
//   }
//
// Not thread-safe across SetTimesteps(); Step() is const and may run
// concurrently once the timesteps are set. One scheduler per sampling job.
#ifndef STAMINA_CORE_SCHEDULERS_DDIM_SCHEDULER_H_
#define STAMINA_CORE_SCHEDULERS_DDIM_SCHEDULER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "torch/torch.h"

namespace stamina::core {

// The fields of diffusers' scheduler_config.json that DDIM uses, with the
// same names and diffusers' DDIMScheduler defaults.
struct DDIMSchedulerConfig {
  int64_t num_train_timesteps = 1000;
  double beta_start = 0.0001;
  double beta_end = 0.02;
  // "linear", "scaled_linear" or "squaredcos_cap_v2".
  std::string beta_schedule = "linear";
  bool clip_sample = true;
  double clip_sample_range = 1.0;
  // ᾱ before the first training step: 1, or ᾱ_0 when false.
  bool set_alpha_to_one = true;
  int64_t steps_offset = 0;
  // "epsilon", "sample" or "v_prediction".
  std::string prediction_type = "epsilon";
  // "leading", "trailing" or "linspace".
  std::string timestep_spacing = "leading";

  // runwayml/stable-diffusion-v1-5 scheduler/scheduler_config.json as
  // DDIMScheduler reads it (scaled_linear 0.00085..0.012, no clipping,
  // set_alpha_to_one false, steps_offset 1).
  static DDIMSchedulerConfig StableDiffusion15();
};

struct DDIMStepOptions {
  // 0: deterministic DDIM; 1: DDPM-like ancestral noise.
  double eta = 0.0;
  // Recompute ε from the clipped x0 (diffusers' use_clipped_model_output).
  bool use_clipped_model_output = false;
  // For eta > 0: the noise to add (shape of the sample) if defined, else
  // drawn from `generator` (or the global generator).
  torch::Tensor variance_noise;
  std::optional<at::Generator> generator;
};

struct DDIMStepOutput {
  torch::Tensor prev_sample;           // x_{t-Δ}
  torch::Tensor pred_original_sample;  // x̂0
};

class DDIMScheduler {
 public:
  // INVALID_ARGUMENT naming the first bad field.
  static absl::StatusOr<DDIMScheduler> Create(
      const DDIMSchedulerConfig& config);

  // Chooses `num_inference_steps` timesteps, descending. INVALID_ARGUMENT if
  // it is <= 0, exceeds num_train_timesteps, or the spacing plus
  // steps_offset would leave [0, num_train_timesteps).
  absl::Status SetTimesteps(int64_t num_inference_steps);

  const DDIMSchedulerConfig& config() const { return config_; }
  const std::vector<int64_t>& timesteps() const { return timesteps_; }
  int64_t num_inference_steps() const { return num_inference_steps_; }
  // [num_train_timesteps] float32 on the CPU.
  const torch::Tensor& alphas_cumprod() const { return alphas_cumprod_; }
  double final_alpha_cumprod() const { return final_alpha_cumprod_; }
  // Samples start as N(0, 1) times this (1 for DDIM).
  double init_noise_sigma() const { return 1.0; }

  // One reverse step from `sample` at `timestep` given the model's
  // `model_output`, to timestep - num_train_timesteps / num_inference_steps.
  // FAILED_PRECONDITION before SetTimesteps(); INVALID_ARGUMENT on a
  // timestep outside [0, num_train_timesteps), mismatched shapes or eta < 0.
  absl::StatusOr<DDIMStepOutput> Step(
      const torch::Tensor& model_output, int64_t timestep,
      const torch::Tensor& sample, const DDIMStepOptions& options = {}) const;

 private:
  DDIMScheduler(DDIMSchedulerConfig config, torch::Tensor alphas_cumprod);

  DDIMSchedulerConfig config_;
  torch::Tensor alphas_cumprod_;
  std::vector<double> alphas_cumprod_values_;
  double final_alpha_cumprod_ = 1.0;
  int64_t num_inference_steps_ = 0;
  std::vector<int64_t> timesteps_;
};

}  // namespace stamina::core

#endif  // STAMINA_CORE_SCHEDULERS_DDIM_SCHEDULER_H_
