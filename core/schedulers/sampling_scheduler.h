// File: core/schedulers/sampling_scheduler.h
//
// The samplers a text-to-image request may choose, behind one interface the
// denoising loop drives: DDIM (ddim_scheduler.h), PNDM in its PLMS form
// (diffusers' PNDMScheduler with skip_prk_steps, SD 1.x's shipped sampler)
// and Euler (diffusers' EulerDiscreteScheduler with its default options).
// All three read the model's noise schedule from one DDIMSchedulerConfig
// (betas, timestep spacing, steps_offset, prediction type, set_alpha_to_one;
// clip_sample is DDIM's own) and compute what diffusers computes:
// testdata/schedulers/reference.json holds diffusers' own outputs, and
// sampling_scheduler_test compares every step.
//
//   STAMINA_ASSIGN_OR_RETURN(auto scheduler, CreateSamplingScheduler(
//       SamplerKind::kPndm, model.config.sampling_scheduler, {}));
//   STAMINA_RETURN_IF_ERROR(scheduler->SetTimesteps(25));
//   x = noise * scheduler->init_noise_sigma();
//   for (size_t k = 0; k < scheduler->timesteps().size(); ++k) {
//     eps = unet(scheduler->ScaleModelInput(x, k), scheduler->timesteps()[k]);
//     STAMINA_ASSIGN_OR_RETURN(x, scheduler->Step(eps, k, x));
//   }
//
// Not thread-safe: a scheduler keeps the state of one denoising run (PNDM
// its past model outputs); SetTimesteps starts a new run.
#ifndef STAMINA_CORE_SCHEDULERS_SAMPLING_SCHEDULER_H_
#define STAMINA_CORE_SCHEDULERS_SAMPLING_SCHEDULER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/schedulers/ddim_scheduler.h"
#include "torch/torch.h"

namespace stamina::core {

enum class SamplerKind { kDdim, kPndm, kEuler };

// "ddim", "pndm" or "euler"; INVALID_ARGUMENT naming `field` otherwise.
absl::StatusOr<SamplerKind> ParseSamplerKind(absl::string_view name,
                                             absl::string_view field = "sampler");
const char* SamplerKindName(SamplerKind kind);

class SamplingScheduler {
 public:
  virtual ~SamplingScheduler() = default;

  // Plans `num_inference_steps` steps and starts a new run. INVALID_ARGUMENT
  // when it is not in [1, num_train_timesteps] or the spacing leaves the
  // schedule.
  virtual absl::Status SetTimesteps(int64_t num_inference_steps) = 0;
  // The model's timestep at each evaluation, in order (PNDM evaluates the
  // model once more than the steps asked for, as diffusers' does).
  virtual const std::vector<double>& timesteps() const = 0;
  // Initial latents are N(0, 1) times this.
  virtual double init_noise_sigma() const = 0;
  // The model's input at evaluation k (Euler scales by 1/sqrt(sigma^2+1)).
  virtual torch::Tensor ScaleModelInput(const torch::Tensor& sample, size_t k) const = 0;
  // The sample after evaluation k, given the model's output there. Call for
  // k = 0, 1, ... in order. FAILED_PRECONDITION out of order or before
  // SetTimesteps; INVALID_ARGUMENT for mismatched shapes.
  virtual absl::StatusOr<torch::Tensor> Step(const torch::Tensor& model_output, size_t k,
                                             const torch::Tensor& sample) = 0;
};

// `sampler_fields`: the checkpoint's own scheduler fields
// (DiffusionModelConfig::scheduler_fields); options that change the chosen
// sampler's algorithm and are not implemented (PNDM without
// skip_prk_steps, Euler's Karras/exponential/beta sigmas, log-linear
// interpolation, final_sigmas_type sigma_min) are INVALID_ARGUMENT naming
// the field, as are schedule fields the sampler does not support.
absl::StatusOr<std::unique_ptr<SamplingScheduler>> CreateSamplingScheduler(
    SamplerKind kind, const DDIMSchedulerConfig& schedule,
    const std::map<std::string, std::string>& sampler_fields);

}  // namespace stamina::core

#endif  // STAMINA_CORE_SCHEDULERS_SAMPLING_SCHEDULER_H_
