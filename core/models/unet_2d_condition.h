// File: core/models/unet_2d_condition.h
//
// The Stable Diffusion denoiser: UNet2DConditionModel and its config, with
// diffusers' sub-module names (conv_in, time_proj, time_embedding,
// down_blocks.N, mid_block, up_blocks.N, conv_norm_out, conv_out), so
// named_parameters() keys are the keys of diffusers' unet/ checkpoints.
// Mirrors diffusers src/diffusers/models/unets/unet_2d_condition.py for the
// options SD 1.x/2.x use (no class embedding, no addition embeddings, no
// ControlNet residuals, transformer_layers_per_block=1).
//
// UNet2DConditionModelImpl::forward() follows LibTorch and throws c10::Error
// on bad shapes; CreateUNet2DConditionModel() validates the config and never
// throws. Callers outside core/ run forward() through RunTorch
// (core/torch_status.h).
// Thread-compatible, like any LibTorch module: concurrent forward() calls are
// safe; loading weights or swapping sub-modules needs exclusive access.
#ifndef STAMINA_CORE_MODELS_UNET_2D_CONDITION_H_
#define STAMINA_CORE_MODELS_UNET_2D_CONDITION_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/models/unet_2d_blocks.h"
#include "core/nn/embeddings.h"
#include "torch/torch.h"

namespace stamina::core {

// The fields of diffusers' unet/config.json that SD 1.x/2.x set, with the
// same names and defaults. Plain struct; see
// ValidateUNet2DConditionModelConfig.
struct UNet2DConditionModelConfig {
  int64_t sample_size = 64;
  int64_t in_channels = 4;
  int64_t out_channels = 4;
  bool center_input_sample = false;
  bool flip_sin_to_cos = true;
  double freq_shift = 0.0;
  // "CrossAttnDownBlock2D" or "DownBlock2D", one per resolution.
  std::vector<std::string> down_block_types;
  // Only "UNetMidBlock2DCrossAttn".
  std::string mid_block_type = "UNetMidBlock2DCrossAttn";
  // "UpBlock2D" or "CrossAttnUpBlock2D", as many as down_block_types.
  std::vector<std::string> up_block_types;
  std::vector<int64_t> block_out_channels;
  int64_t layers_per_block = 2;
  int64_t downsample_padding = 1;
  double mid_block_scale_factor = 1.0;
  // Only "silu".
  std::string act_fn = "silu";
  int64_t norm_num_groups = 32;
  double norm_eps = 1e-5;
  int64_t cross_attention_dim = 768;
  // As in diffusers, this is the number of attention heads per block (the
  // config name is a historical misnomer, kept for config.json fidelity):
  // one value for all blocks (SD 1.x: 8) or one per block (SD 2.x).
  std::vector<int64_t> attention_head_dim = {8};
  bool use_linear_projection = false;
  // Accepted for fidelity; attention already runs its softmax in float32 for
  // half-precision inputs (core/nn/attention_ops.h).
  bool upcast_attention = false;

  // runwayml/stable-diffusion-v1-5 unet/config.json (859,520,964 params).
  static UNet2DConditionModelConfig StableDiffusion15();
  // Three resolutions (32, 64, 64 channels), both block kinds, for CPU tests.
  static UNet2DConditionModelConfig Tiny();
};

// INVALID_ARGUMENT naming the first bad field.
absl::Status ValidateUNet2DConditionModelConfig(
    const UNet2DConditionModelConfig& config);

class UNet2DConditionModelImpl : public torch::nn::Module {
 public:
  // Throws c10::Error on an invalid config; prefer
  // CreateUNet2DConditionModel().
  explicit UNet2DConditionModelImpl(const UNet2DConditionModelConfig& config);

  // Predicts the noise (or v) for `sample` [B, in_channels, H, W] at
  // `timestep` (a scalar or [B]; integer or float) given
  // `encoder_hidden_states` [B, L, cross_attention_dim]. Returns
  // [B, out_channels, H, W]. H and W need not be multiples of
  // 2^(number of upsamplers): the up blocks then follow the skip sizes.
  torch::Tensor forward(const torch::Tensor& sample,
                        const torch::Tensor& timestep,
                        const torch::Tensor& encoder_hidden_states);

  const UNet2DConditionModelConfig& config() const { return config_; }

  torch::nn::Conv2d conv_in{nullptr};
  Timesteps time_proj{nullptr};
  TimestepEmbedding time_embedding{nullptr};
  // One of each pair is set per resolution (down_blocks.N / up_blocks.N).
  std::vector<CrossAttnDownBlock2D> cross_attn_down_blocks;
  std::vector<DownBlock2D> plain_down_blocks;
  UNetMidBlock2DCrossAttn mid_block{nullptr};
  std::vector<CrossAttnUpBlock2D> cross_attn_up_blocks;
  std::vector<UpBlock2D> plain_up_blocks;
  torch::nn::GroupNorm conv_norm_out{nullptr};
  torch::nn::Conv2d conv_out{nullptr};

 private:
  UNet2DConditionModelConfig config_;
  int64_t num_upsamplers_ = 0;
};
TORCH_MODULE(UNet2DConditionModel);

// Validates `config` and builds a randomly initialised model (LibTorch's
// default init; weights are loaded separately).
absl::StatusOr<UNet2DConditionModel> CreateUNet2DConditionModel(
    const UNet2DConditionModelConfig& config);

}  // namespace stamina::core

#endif  // STAMINA_CORE_MODELS_UNET_2D_CONDITION_H_
