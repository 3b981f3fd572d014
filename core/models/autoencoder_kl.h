// File: core/models/autoencoder_kl.h
//
// Stable Diffusion's VAE: AutoencoderKL and its config, with diffusers'
// sub-module names (encoder.*, decoder.*, quant_conv, post_quant_conv), so
// named_parameters() keys are the keys of diffusers' vae/ checkpoints.
// Mirrors diffusers src/diffusers/models/autoencoders/autoencoder_kl.py;
// Encoder, Decoder and DiagonalGaussianDistribution are in core/models/vae.h.
// Checkpoints from older diffusers (mid-block attention keys query/key/value/
// proj_attn) need the key translation table of the weight loader.
//
// Encode()/Decode() follow LibTorch and throw c10::Error on bad shapes;
// CreateAutoencoderKL() validates the config and never throws. Callers outside
// core/ run them through RunTorch (core/torch_status.h).
// Thread-compatible, like any LibTorch module: concurrent Encode()/Decode()
// calls are safe; loading weights or swapping sub-modules needs exclusive
// access.
#ifndef STAMINA_CORE_MODELS_AUTOENCODER_KL_H_
#define STAMINA_CORE_MODELS_AUTOENCODER_KL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/models/vae.h"
#include "torch/torch.h"

namespace stamina::core {

// The fields of diffusers' vae/config.json that SD 1.x/2.x set, with the same
// names and defaults.
struct AutoencoderKLConfig {
  int64_t in_channels = 3;
  int64_t out_channels = 3;
  // Only "DownEncoderBlock2D", one per block_out_channels.
  std::vector<std::string> down_block_types = {"DownEncoderBlock2D"};
  // Only "UpDecoderBlock2D", one per block_out_channels.
  std::vector<std::string> up_block_types = {"UpDecoderBlock2D"};
  std::vector<int64_t> block_out_channels = {64};
  int64_t layers_per_block = 1;
  // Only "silu".
  std::string act_fn = "silu";
  int64_t latent_channels = 4;
  int64_t norm_num_groups = 32;
  int64_t sample_size = 32;
  // Latents are multiplied by this before the UNet sees them (and divided
  // before Decode()); the pipeline applies it, not this class.
  double scaling_factor = 0.18215;

  // runwayml/stable-diffusion-v1-5 vae/config.json (83,653,863 params).
  static AutoencoderKLConfig StableDiffusion15();
  // Two resolutions (32, 64 channels), for CPU tests.
  static AutoencoderKLConfig Tiny();
};

// INVALID_ARGUMENT naming the first bad field.
absl::Status ValidateAutoencoderKLConfig(const AutoencoderKLConfig& config);

class AutoencoderKLImpl : public torch::nn::Module {
 public:
  // Throws c10::Error on an invalid config; prefer CreateAutoencoderKL().
  explicit AutoencoderKLImpl(const AutoencoderKLConfig& config);

  // Image [B, in_channels, H, W] in [-1, 1] → posterior over latents
  // [B, latent_channels, H/f, W/f], f = 2^(blocks - 1) (8 for SD).
  DiagonalGaussianDistribution Encode(const torch::Tensor& sample);
  // Latents (unscaled) → image [B, out_channels, h*f, w*f].
  torch::Tensor Decode(const torch::Tensor& z);
  // Decode(Encode(sample).Mode()), as diffusers' forward with
  // sample_posterior=False.
  torch::Tensor forward(const torch::Tensor& sample);

  const AutoencoderKLConfig& config() const { return config_; }

  Encoder encoder{nullptr};
  Decoder decoder{nullptr};
  torch::nn::Conv2d quant_conv{nullptr};
  torch::nn::Conv2d post_quant_conv{nullptr};

 private:
  AutoencoderKLConfig config_;
};
TORCH_MODULE(AutoencoderKL);

// Validates `config` and builds a randomly initialised model (LibTorch's
// default init; weights are loaded separately).
absl::StatusOr<AutoencoderKL> CreateAutoencoderKL(
    const AutoencoderKLConfig& config);

}  // namespace stamina::core

#endif  // STAMINA_CORE_MODELS_AUTOENCODER_KL_H_
