// File: core/schedulers/beta_schedule.h
//
// The noise schedules shared by the schedulers: betas for diffusers'
// beta_schedule names and their cumulative alpha products, computed in
// float32 exactly as diffusers does (torch.linspace(..., dtype=float32), then
// torch.cumprod), so values match diffusers bit for bit where LibTorch's
// kernels agree with PyTorch's.
// Thread-safe: no shared state.
#ifndef STAMINA_CORE_SCHEDULERS_BETA_SCHEDULE_H_
#define STAMINA_CORE_SCHEDULERS_BETA_SCHEDULE_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "torch/torch.h"

namespace stamina::core {

// T comes from a checkpoint's scheduler_config.json, so it is bounded before
// anything is allocated: diffusers' checkpoints use 1000, and an unbounded T
// (1e11 in one file) would ask for terabytes and abort the process
// (found by core/pipelines/diffusers_config_fuzz.cc).
inline constexpr int64_t kMaxTrainTimesteps = 100000;

// Betas [num_train_timesteps] float32 on the CPU for `beta_schedule`:
//   "linear":            linspace(beta_start, beta_end, T)
//   "scaled_linear":     linspace(sqrt(beta_start), sqrt(beta_end), T)^2 (SD)
//   "squaredcos_cap_v2": the cosine schedule (Glide), betas capped at 0.999;
//                        beta_start and beta_end are ignored.
// INVALID_ARGUMENT for another name, T outside [1, kMaxTrainTimesteps], or
// betas outside (0, 1).
absl::StatusOr<torch::Tensor> MakeBetas(absl::string_view beta_schedule,
                                        double beta_start, double beta_end,
                                        int64_t num_train_timesteps);

// alphas_cumprod = cumprod(1 - betas), same dtype. Never throws for the
// float32 vectors MakeBetas returns.
torch::Tensor AlphasCumprod(const torch::Tensor& betas);

}  // namespace stamina::core

#endif  // STAMINA_CORE_SCHEDULERS_BETA_SCHEDULE_H_
