// File: core/nn/resnet.h
//
// Convolutional building blocks of the Stable Diffusion UNet and VAE, with
// diffusers' class and sub-module names (named_parameters() keys are
// diffusers' state-dict keys). Mirrors diffusers src/diffusers/models/resnet.py
// (ResnetBlock2D) and src/diffusers/models/{downsampling,upsampling}.py
// (Downsample2D, Upsample2D), for the "default" time-embedding norm, SiLU
// activation and use_conv=true paths SD uses.
//
// forward() follows LibTorch and throws c10::Error on bad shapes; library entry
// points wrap model calls in RunTorch (core/torch_status.h).
// Thread-compatible, like any LibTorch module: concurrent forward() calls are
// safe; loading weights or swapping sub-modules needs exclusive access.
#ifndef STAMINA_CORE_NN_RESNET_H_
#define STAMINA_CORE_NN_RESNET_H_

#include <cstdint>
#include <vector>

#include "torch/torch.h"

namespace stamina::core {

// Constructor arguments of diffusers' ResnetBlock2D that SD uses.
struct ResnetBlock2DOptions {
  int64_t in_channels = 0;
  // 0 means in_channels.
  int64_t out_channels = 0;
  // 0 means no time embedding (VAE): no time_emb_proj.
  int64_t temb_channels = 512;
  int64_t groups = 32;
  double eps = 1e-6;
  double output_scale_factor = 1.0;
};

// norm1 → SiLU → conv1 (+ time_emb_proj(SiLU(temb))) → norm2 → SiLU → conv2,
// plus the input (through conv_shortcut, a 1x1 conv, when channels change).
class ResnetBlock2DImpl : public torch::nn::Module {
 public:
  explicit ResnetBlock2DImpl(const ResnetBlock2DOptions& options);
  // input [B, in_channels, H, W]; temb [B, temb_channels] or undefined.
  torch::Tensor forward(const torch::Tensor& input,
                        const torch::Tensor& temb = {});

  torch::nn::GroupNorm norm1{nullptr};
  torch::nn::Conv2d conv1{nullptr};
  torch::nn::Linear time_emb_proj{nullptr};  // only if temb_channels > 0
  torch::nn::GroupNorm norm2{nullptr};
  torch::nn::Conv2d conv2{nullptr};
  torch::nn::Conv2d conv_shortcut{nullptr};  // only if channels change

 private:
  ResnetBlock2DOptions options_;
};
TORCH_MODULE(ResnetBlock2D);

// Halves H and W with a stride-2 3x3 conv. padding 1 (UNet) pads
// symmetrically; padding 0 (VAE encoder) first pads right and bottom by one,
// as diffusers does.
class Downsample2DImpl : public torch::nn::Module {
 public:
  Downsample2DImpl(int64_t channels, int64_t out_channels, int64_t padding);
  torch::Tensor forward(const torch::Tensor& hidden_states);

  torch::nn::Conv2d conv{nullptr};

 private:
  int64_t padding_;
};
TORCH_MODULE(Downsample2D);

// Nearest-neighbour 2x upsampling (or to `output_size`), then a 3x3 conv.
class Upsample2DImpl : public torch::nn::Module {
 public:
  Upsample2DImpl(int64_t channels, int64_t out_channels);
  // `output_size` {H, W}; empty means twice the input size.
  torch::Tensor forward(const torch::Tensor& hidden_states,
                        const std::vector<int64_t>& output_size = {});

  torch::nn::Conv2d conv{nullptr};
};
TORCH_MODULE(Upsample2D);

}  // namespace stamina::core

#endif  // STAMINA_CORE_NN_RESNET_H_
