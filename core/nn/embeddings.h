// File: core/nn/embeddings.h
//
// Timestep embeddings of the Stable Diffusion UNet, with diffusers' class and
// sub-module names. Mirrors diffusers src/diffusers/models/embeddings.py
// (get_timestep_embedding, Timesteps, TimestepEmbedding with SiLU).
// SD 1.x uses flip_sin_to_cos=true and downscale_freq_shift=0.
//
// forward() follows LibTorch and throws c10::Error on bad shapes; library entry
// points wrap model calls in RunTorch (core/torch_status.h).
// Thread-compatible, like any LibTorch module.
#ifndef STAMINA_CORE_NN_EMBEDDINGS_H_
#define STAMINA_CORE_NN_EMBEDDINGS_H_

#include <cstdint>

#include "torch/torch.h"

namespace stamina::core {

// Sinusoidal embedding of `timesteps` [N] → [N, embedding_dim] float32:
// frequencies exp(-ln(max_period) * i / (half_dim - downscale_freq_shift)),
// [sin, cos] halves (swapped to [cos, sin] when flip_sin_to_cos), zero-padded
// when embedding_dim is odd.
torch::Tensor GetTimestepEmbedding(const torch::Tensor& timesteps,
                                   int64_t embedding_dim, bool flip_sin_to_cos,
                                   double downscale_freq_shift,
                                   double scale = 1.0,
                                   double max_period = 10000.0);

// Parameter-free module around GetTimestepEmbedding ("time_proj").
class TimestepsImpl : public torch::nn::Module {
 public:
  TimestepsImpl(int64_t num_channels, bool flip_sin_to_cos,
                double downscale_freq_shift);
  torch::Tensor forward(const torch::Tensor& timesteps);

 private:
  int64_t num_channels_;
  bool flip_sin_to_cos_;
  double downscale_freq_shift_;
};
TORCH_MODULE(Timesteps);

// linear_1 → SiLU → linear_2 ("time_embedding").
class TimestepEmbeddingImpl : public torch::nn::Module {
 public:
  TimestepEmbeddingImpl(int64_t in_channels, int64_t time_embed_dim);
  torch::Tensor forward(const torch::Tensor& sample);

  torch::nn::Linear linear_1{nullptr};
  torch::nn::Linear linear_2{nullptr};
};
TORCH_MODULE(TimestepEmbedding);

}  // namespace stamina::core

#endif  // STAMINA_CORE_NN_EMBEDDINGS_H_
