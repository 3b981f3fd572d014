#include "core/schedulers/beta_schedule.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "core/torch_status.h"
#include "torch/torch.h"

namespace stamina::core {
namespace {

// Glide's alpha_bar(t) = cos^2((t + 0.008) / 1.008 * pi / 2), in double as
// diffusers' betas_for_alpha_bar computes it in Python floats.
double CosineAlphaBar(double t) {
  const double c = std::cos((t + 0.008) / 1.008 * M_PI / 2);
  return c * c;
}

}  // namespace

absl::StatusOr<torch::Tensor> MakeBetas(absl::string_view beta_schedule,
                                        double beta_start, double beta_end,
                                        int64_t num_train_timesteps) {
  if (num_train_timesteps <= 0 || num_train_timesteps > kMaxTrainTimesteps) {
    return absl::InvalidArgumentError(
        absl::StrCat("num_train_timesteps must lie in [1, ", kMaxTrainTimesteps,
                     "], got ", num_train_timesteps));
  }
  const int64_t n = num_train_timesteps;
  if (beta_schedule == "squaredcos_cap_v2") {
    std::vector<float> betas(n);
    for (int64_t i = 0; i < n; ++i) {
      const double t1 = static_cast<double>(i) / n;
      const double t2 = static_cast<double>(i + 1) / n;
      betas[i] = static_cast<float>(
          std::min(1 - CosineAlphaBar(t2) / CosineAlphaBar(t1), 0.999));
    }
    return RunTorch([&] { return torch::tensor(betas, torch::kFloat32); });
  }
  if (beta_schedule != "linear" && beta_schedule != "scaled_linear") {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown beta_schedule \"", beta_schedule,
                     "\" (want linear, scaled_linear or squaredcos_cap_v2)"));
  }
  if (!(beta_start > 0 && beta_start < 1 && beta_end > 0 && beta_end < 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("beta_start and beta_end must lie in (0, 1), got ",
                     beta_start, " and ", beta_end));
  }
  return RunTorch([&] {
    const torch::TensorOptions f32 = torch::TensorOptions(torch::kFloat32);
    if (beta_schedule == "linear") {
      return torch::linspace(beta_start, beta_end, n, f32);
    }
    return torch::linspace(std::sqrt(beta_start), std::sqrt(beta_end), n, f32)
        .pow(2);
  });
}

torch::Tensor AlphasCumprod(const torch::Tensor& betas) {
  return torch::cumprod(1.0 - betas, 0);
}

}  // namespace stamina::core
