// File: core/models/unet_2d_blocks.h
//
// The down, mid and up blocks of the Stable Diffusion UNet, with diffusers'
// class and sub-module names (resnets.N, attentions.N, downsamplers.0,
// upsamplers.0), so named_parameters() keys are diffusers' state-dict keys.
// Mirrors diffusers src/diffusers/models/unets/unet_2d_blocks.py
// (CrossAttnDownBlock2D, DownBlock2D, UNetMidBlock2DCrossAttn,
// CrossAttnUpBlock2D, UpBlock2D) for transformer_layers_per_block=1, SiLU and
// the "default" time-embedding norm. The VAE's blocks (DownEncoderBlock2D,
// UpDecoderBlock2D, UNetMidBlock2D) live in core/models/vae.h.
//
// forward() follows LibTorch and throws c10::Error on bad shapes; library entry
// points wrap model calls in RunTorch (core/torch_status.h).
// Thread-compatible, like any LibTorch module: concurrent forward() calls are
// safe; loading weights or swapping sub-modules needs exclusive access.
#ifndef STAMINA_CORE_MODELS_UNET_2D_BLOCKS_H_
#define STAMINA_CORE_MODELS_UNET_2D_BLOCKS_H_

#include <cstdint>
#include <vector>

#include "core/nn/attention.h"
#include "core/nn/resnet.h"
#include "torch/torch.h"

namespace stamina::core {

// Arguments common to the UNet blocks (get_down_block / get_up_block).
struct UNetBlockOptions {
  int64_t num_layers = 2;
  int64_t in_channels = 0;
  int64_t out_channels = 0;
  // Up blocks only: channels coming from the block below.
  int64_t prev_output_channel = 0;
  int64_t temb_channels = 1280;
  double resnet_eps = 1e-5;
  int64_t resnet_groups = 32;
  // The resnets' output_scale_factor (the UNet's mid_block_scale_factor).
  double output_scale_factor = 1.0;
  // Cross-attention blocks only.
  int64_t cross_attention_dim = 768;
  int64_t num_attention_heads = 8;
  bool use_linear_projection = false;
  // add_downsample / add_upsample.
  bool add_sampler = true;
  int64_t downsample_padding = 1;
};

// A down block's output and the skip connections it hands to the up blocks
// (one per resnet, plus one after the downsampler).
struct DownBlockOutput {
  torch::Tensor hidden_states;
  std::vector<torch::Tensor> res_samples;
};

// resnets.N and attentions.N interleaved, then downsamplers.0.
class CrossAttnDownBlock2DImpl : public torch::nn::Module {
 public:
  explicit CrossAttnDownBlock2DImpl(const UNetBlockOptions& options);
  DownBlockOutput forward(const torch::Tensor& hidden_states,
                          const torch::Tensor& temb,
                          const torch::Tensor& encoder_hidden_states);

  std::vector<ResnetBlock2D> resnets;
  std::vector<Transformer2DModel> attentions;
  Downsample2D downsampler{nullptr};  // downsamplers.0, if add_sampler
};
TORCH_MODULE(CrossAttnDownBlock2D);

// resnets.N, then downsamplers.0.
class DownBlock2DImpl : public torch::nn::Module {
 public:
  explicit DownBlock2DImpl(const UNetBlockOptions& options);
  DownBlockOutput forward(const torch::Tensor& hidden_states,
                          const torch::Tensor& temb);

  std::vector<ResnetBlock2D> resnets;
  Downsample2D downsampler{nullptr};  // downsamplers.0, if add_sampler
};
TORCH_MODULE(DownBlock2D);

// resnets.0, then (attentions.N, resnets.N+1) for num_layers (1 in SD).
// Uses in_channels throughout; out_channels is ignored.
class UNetMidBlock2DCrossAttnImpl : public torch::nn::Module {
 public:
  explicit UNetMidBlock2DCrossAttnImpl(const UNetBlockOptions& options);
  torch::Tensor forward(const torch::Tensor& hidden_states,
                        const torch::Tensor& temb,
                        const torch::Tensor& encoder_hidden_states);

  std::vector<ResnetBlock2D> resnets;
  std::vector<Transformer2DModel> attentions;
};
TORCH_MODULE(UNetMidBlock2DCrossAttn);

// Per layer: concatenate the last skip connection on channels, resnet,
// attention; then upsamplers.0. `res_samples` holds exactly num_layers skip
// tensors, in the order the down blocks produced them (used last-first).
// `upsample_size` {H, W}, empty for 2x.
class CrossAttnUpBlock2DImpl : public torch::nn::Module {
 public:
  explicit CrossAttnUpBlock2DImpl(const UNetBlockOptions& options);
  torch::Tensor forward(const torch::Tensor& hidden_states,
                        const std::vector<torch::Tensor>& res_samples,
                        const torch::Tensor& temb,
                        const torch::Tensor& encoder_hidden_states,
                        const std::vector<int64_t>& upsample_size = {});

  std::vector<ResnetBlock2D> resnets;
  std::vector<Transformer2DModel> attentions;
  Upsample2D upsampler{nullptr};  // upsamplers.0, if add_sampler
};
TORCH_MODULE(CrossAttnUpBlock2D);

// CrossAttnUpBlock2D without attentions.
class UpBlock2DImpl : public torch::nn::Module {
 public:
  explicit UpBlock2DImpl(const UNetBlockOptions& options);
  torch::Tensor forward(const torch::Tensor& hidden_states,
                        const std::vector<torch::Tensor>& res_samples,
                        const torch::Tensor& temb,
                        const std::vector<int64_t>& upsample_size = {});

  std::vector<ResnetBlock2D> resnets;
  Upsample2D upsampler{nullptr};  // upsamplers.0, if add_sampler
};
TORCH_MODULE(UpBlock2D);

}  // namespace stamina::core

#endif  // STAMINA_CORE_MODELS_UNET_2D_BLOCKS_H_
