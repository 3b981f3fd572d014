// File: core/schedulers/classifier_free_guidance.h
//
// Classifier-free guidance (Ho & Salimans 2022), as diffusers' pipelines
// combine the two halves of a batched UNet call:
//   guided = uncond + guidance_scale * (cond - uncond).
// Thread-safe: no shared state.
#ifndef STAMINA_CORE_SCHEDULERS_CLASSIFIER_FREE_GUIDANCE_H_
#define STAMINA_CORE_SCHEDULERS_CLASSIFIER_FREE_GUIDANCE_H_

#include "absl/status/statusor.h"
#include "torch/torch.h"

namespace stamina::core {

// uncond + scale * (cond - uncond), in the inputs' dtype. Scale 1 gives
// cond; 0 gives uncond. INVALID_ARGUMENT if the shapes differ or a tensor is
// undefined.
absl::StatusOr<torch::Tensor> Guide(const torch::Tensor& uncond,
                                    const torch::Tensor& cond,
                                    double guidance_scale);

}  // namespace stamina::core

#endif  // STAMINA_CORE_SCHEDULERS_CLASSIFIER_FREE_GUIDANCE_H_
