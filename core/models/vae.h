// File: core/models/vae.h
//
// The encoder and decoder halves of Stable Diffusion's VAE and the latent
// distribution between them, with diffusers' class and sub-module names
// (conv_in, down_blocks.N.{resnets,downsamplers}, mid_block.{resnets,
// attentions}, up_blocks.N.{resnets,upsamplers}, conv_norm_out, conv_out).
// Mirrors diffusers src/diffusers/models/autoencoders/vae.py (Encoder,
// Decoder, DiagonalGaussianDistribution) and the VAE blocks of
// src/diffusers/models/unets/unet_2d_blocks.py (DownEncoderBlock2D,
// UpDecoderBlock2D, UNetMidBlock2D without time embedding). AutoencoderKL,
// which owns an Encoder and a Decoder, is in core/models/autoencoder_kl.h.
//
// forward() follows LibTorch and throws c10::Error on bad shapes; library entry
// points wrap model calls in RunTorch (core/torch_status.h).
// Thread-compatible, like any LibTorch module: concurrent forward() calls are
// safe; loading weights or swapping sub-modules needs exclusive access.
// DiagonalGaussianDistribution is an immutable value: thread-safe.
#ifndef STAMINA_CORE_MODELS_VAE_H_
#define STAMINA_CORE_MODELS_VAE_H_

#include <cstdint>
#include <vector>

#include "core/nn/attention.h"
#include "core/nn/resnet.h"
#include "torch/torch.h"

namespace stamina::core {

// Arguments of the VAE blocks (no time embedding; SiLU).
struct VAEBlockOptions {
  int64_t num_layers = 2;
  int64_t in_channels = 0;
  int64_t out_channels = 0;
  double resnet_eps = 1e-6;
  int64_t resnet_groups = 32;
  // add_downsample / add_upsample.
  bool add_sampler = true;
};

// resnets.N, then downsamplers.0 (padding 0: pad right/bottom, stride 2).
class DownEncoderBlock2DImpl : public torch::nn::Module {
 public:
  explicit DownEncoderBlock2DImpl(const VAEBlockOptions& options);
  torch::Tensor forward(const torch::Tensor& hidden_states);

  std::vector<ResnetBlock2D> resnets;
  Downsample2D downsampler{nullptr};  // downsamplers.0, if add_sampler
};
TORCH_MODULE(DownEncoderBlock2D);

// resnets.N, then upsamplers.0.
class UpDecoderBlock2DImpl : public torch::nn::Module {
 public:
  explicit UpDecoderBlock2DImpl(const VAEBlockOptions& options);
  torch::Tensor forward(const torch::Tensor& hidden_states);

  std::vector<ResnetBlock2D> resnets;
  Upsample2D upsampler{nullptr};  // upsamplers.0, if add_sampler
};
TORCH_MODULE(UpDecoderBlock2D);

// resnets.0, attentions.0, resnets.1 on in_channels. The attention is
// single-headed (attention_head_dim = channels), with group_norm, biased
// projections and a residual connection.
class UNetMidBlock2DImpl : public torch::nn::Module {
 public:
  explicit UNetMidBlock2DImpl(const VAEBlockOptions& options);
  torch::Tensor forward(const torch::Tensor& hidden_states);

  std::vector<ResnetBlock2D> resnets;
  std::vector<Attention> attentions;
};
TORCH_MODULE(UNetMidBlock2D);

// Arguments shared by Encoder and Decoder (from AutoencoderKLConfig).
struct VAECoderOptions {
  int64_t in_channels = 3;
  int64_t out_channels = 3;
  std::vector<int64_t> block_out_channels = {64};
  int64_t layers_per_block = 2;
  int64_t norm_num_groups = 32;
};

// Image [B, in_channels, H, W] → moments [B, 2 * out_channels, H/f, W/f]
// (double_z), f = 2^(blocks - 1).
class EncoderImpl : public torch::nn::Module {
 public:
  explicit EncoderImpl(const VAECoderOptions& options);
  torch::Tensor forward(const torch::Tensor& sample);

  torch::nn::Conv2d conv_in{nullptr};
  std::vector<DownEncoderBlock2D> down_blocks;
  UNetMidBlock2D mid_block{nullptr};
  torch::nn::GroupNorm conv_norm_out{nullptr};
  torch::nn::Conv2d conv_out{nullptr};
};
TORCH_MODULE(Encoder);

// Latents [B, in_channels, h, w] → image [B, out_channels, h*f, w*f].
class DecoderImpl : public torch::nn::Module {
 public:
  explicit DecoderImpl(const VAECoderOptions& options);
  torch::Tensor forward(const torch::Tensor& z);

  torch::nn::Conv2d conv_in{nullptr};
  UNetMidBlock2D mid_block{nullptr};
  std::vector<UpDecoderBlock2D> up_blocks;
  torch::nn::GroupNorm conv_norm_out{nullptr};
  torch::nn::Conv2d conv_out{nullptr};
};
TORCH_MODULE(Decoder);

// The VAE posterior: a diagonal Gaussian whose mean and log-variance are the
// two channel halves of `parameters` [B, 2C, h, w]; logvar is clamped to
// [-30, 20] as diffusers does.
class DiagonalGaussianDistribution {
 public:
  explicit DiagonalGaussianDistribution(const torch::Tensor& parameters);

  // mean + std * noise. `noise` has mean's shape and comes from the caller's
  // own seeded source (no torch::Generator is involved here), so sampling is
  // deterministic and reproducible across devices.
  torch::Tensor Sample(const torch::Tensor& noise) const;
  // The mean (diffusers' mode()).
  torch::Tensor Mode() const { return mean_; }
  // KL divergence to N(0, I) per batch element [B].
  torch::Tensor Kl() const;

  const torch::Tensor& mean() const { return mean_; }
  const torch::Tensor& logvar() const { return logvar_; }
  const torch::Tensor& std_dev() const { return std_; }  // diffusers: std
  const torch::Tensor& var() const { return var_; }

 private:
  torch::Tensor mean_;
  torch::Tensor logvar_;
  torch::Tensor std_;
  torch::Tensor var_;
};

}  // namespace stamina::core

#endif  // STAMINA_CORE_MODELS_VAE_H_
