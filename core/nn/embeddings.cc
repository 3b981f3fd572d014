#include "core/nn/embeddings.h"

#include <cmath>
#include <cstdint>

#include "torch/torch.h"

namespace stamina::core {

torch::Tensor GetTimestepEmbedding(const torch::Tensor& timesteps,
                                   int64_t embedding_dim, bool flip_sin_to_cos,
                                   double downscale_freq_shift, double scale,
                                   double max_period) {
  TORCH_CHECK(timesteps.dim() == 1,
              "GetTimestepEmbedding: timesteps must be "
              "1-D, got ",
              timesteps.dim(), " dimensions");
  const int64_t half_dim = embedding_dim / 2;
  const torch::TensorOptions options =
      torch::TensorOptions().dtype(torch::kFloat).device(timesteps.device());
  const torch::Tensor exponent =
      torch::arange(0, half_dim, options) * (-std::log(max_period)) /
      (static_cast<double>(half_dim) - downscale_freq_shift);
  torch::Tensor emb = timesteps.to(torch::kFloat).unsqueeze(1) *
                      torch::exp(exponent).unsqueeze(0);
  emb = scale * emb;
  emb = flip_sin_to_cos ? torch::cat({torch::cos(emb), torch::sin(emb)}, -1)
                        : torch::cat({torch::sin(emb), torch::cos(emb)}, -1);
  if (embedding_dim % 2 == 1) {
    emb = torch::constant_pad_nd(emb, {0, 1, 0, 0}, 0);
  }
  return emb;
}

TimestepsImpl::TimestepsImpl(int64_t num_channels, bool flip_sin_to_cos,
                             double downscale_freq_shift)
    : num_channels_(num_channels),
      flip_sin_to_cos_(flip_sin_to_cos),
      downscale_freq_shift_(downscale_freq_shift) {}

torch::Tensor TimestepsImpl::forward(const torch::Tensor& timesteps) {
  return GetTimestepEmbedding(timesteps, num_channels_, flip_sin_to_cos_,
                              downscale_freq_shift_);
}

TimestepEmbeddingImpl::TimestepEmbeddingImpl(int64_t in_channels,
                                             int64_t time_embed_dim)
    : linear_1(register_module("linear_1",
                               torch::nn::Linear(in_channels, time_embed_dim))),
      linear_2(register_module(
          "linear_2", torch::nn::Linear(time_embed_dim, time_embed_dim))) {}

torch::Tensor TimestepEmbeddingImpl::forward(const torch::Tensor& sample) {
  return linear_2(torch::silu(linear_1(sample)));
}

}  // namespace stamina::core
