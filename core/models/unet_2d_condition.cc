#include "core/models/unet_2d_condition.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "core/models/unet_2d_blocks.h"
#include "core/nn/embeddings.h"
#include "core/nn/norms.h"
#include "core/torch_status.h"
#include "torch/torch.h"

namespace stamina::core {
namespace {

constexpr char kCrossAttnDownBlock2D[] = "CrossAttnDownBlock2D";
constexpr char kDownBlock2D[] = "DownBlock2D";
constexpr char kCrossAttnUpBlock2D[] = "CrossAttnUpBlock2D";
constexpr char kUpBlock2D[] = "UpBlock2D";
constexpr char kUNetMidBlock2DCrossAttn[] = "UNetMidBlock2DCrossAttn";

int64_t HeadsOf(const UNet2DConditionModelConfig& config, size_t block) {
  return config.attention_head_dim.size() == 1 ? config.attention_head_dim[0]
                                               : config.attention_head_dim[block];
}

UNetBlockOptions BaseBlockOptions(const UNet2DConditionModelConfig& config) {
  UNetBlockOptions options;
  options.temb_channels = config.block_out_channels[0] * 4;
  options.resnet_eps = config.norm_eps;
  options.resnet_groups = config.norm_num_groups;
  options.cross_attention_dim = config.cross_attention_dim;
  options.use_linear_projection = config.use_linear_projection;
  options.downsample_padding = config.downsample_padding;
  return options;
}

absl::Status Invalid(absl::string_view field, absl::string_view problem) {
  return absl::InvalidArgumentError(
      absl::StrCat("UNet2DConditionModelConfig.", field, ": ", problem));
}

}  // namespace

UNet2DConditionModelConfig UNet2DConditionModelConfig::StableDiffusion15() {
  UNet2DConditionModelConfig config;
  config.sample_size = 64;
  config.in_channels = 4;
  config.out_channels = 4;
  config.down_block_types = {kCrossAttnDownBlock2D, kCrossAttnDownBlock2D, kCrossAttnDownBlock2D,
                             kDownBlock2D};
  config.up_block_types = {kUpBlock2D, kCrossAttnUpBlock2D, kCrossAttnUpBlock2D,
                           kCrossAttnUpBlock2D};
  config.block_out_channels = {320, 640, 1280, 1280};
  config.layers_per_block = 2;
  config.cross_attention_dim = 768;
  config.attention_head_dim = {8};
  config.norm_num_groups = 32;
  config.norm_eps = 1e-5;
  return config;
}

UNet2DConditionModelConfig UNet2DConditionModelConfig::Tiny() {
  UNet2DConditionModelConfig config;
  config.sample_size = 16;
  config.in_channels = 4;
  config.out_channels = 4;
  config.down_block_types = {kCrossAttnDownBlock2D, kCrossAttnDownBlock2D, kDownBlock2D};
  config.up_block_types = {kUpBlock2D, kCrossAttnUpBlock2D, kCrossAttnUpBlock2D};
  config.block_out_channels = {32, 64, 64};
  config.layers_per_block = 1;
  config.cross_attention_dim = 32;
  config.attention_head_dim = {2};
  config.norm_num_groups = 8;
  return config;
}

absl::Status ValidateUNet2DConditionModelConfig(const UNet2DConditionModelConfig& config) {
  const size_t n = config.block_out_channels.size();
  if (n == 0) return Invalid("block_out_channels", "is empty");
  if (config.down_block_types.size() != n) {
    return Invalid("down_block_types", "needs one entry per block_out_channels");
  }
  if (config.up_block_types.size() != n) {
    return Invalid("up_block_types", "needs one entry per block_out_channels");
  }
  if (config.attention_head_dim.size() != 1 && config.attention_head_dim.size() != n) {
    return Invalid("attention_head_dim", "needs one value or one per block_out_channels");
  }
  for (int64_t heads : config.attention_head_dim) {
    if (heads <= 0) return Invalid("attention_head_dim", "must be positive");
  }
  if (config.in_channels <= 0 || config.out_channels <= 0) {
    return Invalid("in_channels/out_channels", "must be positive");
  }
  if (config.layers_per_block <= 0) {
    return Invalid("layers_per_block", "must be positive");
  }
  if (config.cross_attention_dim <= 0) {
    return Invalid("cross_attention_dim", "must be positive");
  }
  if (config.norm_num_groups <= 0) {
    return Invalid("norm_num_groups", "must be positive");
  }
  if (config.act_fn != "silu") {
    return Invalid("act_fn", absl::StrCat("unsupported \"", config.act_fn, "\" (only \"silu\")"));
  }
  if (config.mid_block_type != kUNetMidBlock2DCrossAttn) {
    return Invalid("mid_block_type", absl::StrCat("unsupported \"", config.mid_block_type, "\""));
  }
  for (size_t i = 0; i < n; ++i) {
    const int64_t channels = config.block_out_channels[i];
    if (channels <= 0 || channels % config.norm_num_groups != 0) {
      return Invalid("block_out_channels", absl::StrCat(channels,
                                                        " is not a positive multiple of "
                                                        "norm_num_groups ",
                                                        config.norm_num_groups));
    }
    if (channels % HeadsOf(config, i) != 0) {
      return Invalid("attention_head_dim", absl::StrCat(channels, " channels do not split into ",
                                                        HeadsOf(config, i), " heads"));
    }
    const std::string& down = config.down_block_types[i];
    if (down != kCrossAttnDownBlock2D && down != kDownBlock2D) {
      return Invalid("down_block_types", absl::StrCat("unsupported \"", down, "\""));
    }
    const std::string& up = config.up_block_types[i];
    if (up != kCrossAttnUpBlock2D && up != kUpBlock2D) {
      return Invalid("up_block_types", absl::StrCat("unsupported \"", up, "\""));
    }
  }
  return absl::OkStatus();
}

UNet2DConditionModelImpl::UNet2DConditionModelImpl(const UNet2DConditionModelConfig& config)
    : config_(config) {
  const absl::Status valid = ValidateUNet2DConditionModelConfig(config);
  TORCH_CHECK(valid.ok(), std::string(valid.message()));
  const std::vector<int64_t>& channels = config.block_out_channels;
  const size_t n = channels.size();
  const int64_t time_embed_dim = channels[0] * 4;

  conv_in = register_module(
      "conv_in",
      torch::nn::Conv2d(torch::nn::Conv2dOptions(config.in_channels, channels[0], 3).padding(1)));
  time_proj = register_module("time_proj",
                              Timesteps(channels[0], config.flip_sin_to_cos, config.freq_shift));
  time_embedding =
      register_module("time_embedding", TimestepEmbedding(channels[0], time_embed_dim));

  torch::nn::ModuleList down_blocks;
  int64_t output_channel = channels[0];
  for (size_t i = 0; i < n; ++i) {
    UNetBlockOptions options = BaseBlockOptions(config);
    options.num_layers = config.layers_per_block;
    options.in_channels = output_channel;
    output_channel = channels[i];
    options.out_channels = output_channel;
    options.num_attention_heads = HeadsOf(config, i);
    options.add_sampler = i + 1 < n;
    if (config.down_block_types[i] == kCrossAttnDownBlock2D) {
      cross_attn_down_blocks.emplace_back(options);
      plain_down_blocks.emplace_back(nullptr);
      down_blocks->push_back(cross_attn_down_blocks.back());
    } else {
      cross_attn_down_blocks.emplace_back(nullptr);
      plain_down_blocks.emplace_back(options);
      down_blocks->push_back(plain_down_blocks.back());
    }
  }
  register_module("down_blocks", down_blocks);

  UNetBlockOptions mid = BaseBlockOptions(config);
  mid.num_layers = 1;
  mid.in_channels = channels[n - 1];
  mid.out_channels = channels[n - 1];
  mid.num_attention_heads = HeadsOf(config, n - 1);
  mid.output_scale_factor = config.mid_block_scale_factor;
  mid_block = register_module("mid_block", UNetMidBlock2DCrossAttn(mid));

  torch::nn::ModuleList up_blocks;
  output_channel = channels[n - 1];
  for (size_t i = 0; i < n; ++i) {
    const size_t reversed = n - 1 - i;
    UNetBlockOptions options = BaseBlockOptions(config);
    options.num_layers = config.layers_per_block + 1;
    options.prev_output_channel = output_channel;
    output_channel = channels[reversed];
    options.out_channels = output_channel;
    options.in_channels = channels[reversed == 0 ? 0 : reversed - 1];
    options.num_attention_heads = HeadsOf(config, reversed);
    options.add_sampler = i + 1 < n;
    if (options.add_sampler) ++num_upsamplers_;
    if (config.up_block_types[i] == kCrossAttnUpBlock2D) {
      cross_attn_up_blocks.emplace_back(options);
      plain_up_blocks.emplace_back(nullptr);
      up_blocks->push_back(cross_attn_up_blocks.back());
    } else {
      cross_attn_up_blocks.emplace_back(nullptr);
      plain_up_blocks.emplace_back(options);
      up_blocks->push_back(plain_up_blocks.back());
    }
  }
  register_module("up_blocks", up_blocks);

  conv_norm_out = register_module(
      "conv_norm_out",
      torch::nn::GroupNorm(
          torch::nn::GroupNormOptions(config.norm_num_groups, channels[0]).eps(config.norm_eps)));
  conv_out = register_module(
      "conv_out",
      torch::nn::Conv2d(torch::nn::Conv2dOptions(channels[0], config.out_channels, 3).padding(1)));
}

torch::Tensor UNet2DConditionModelImpl::forward(const torch::Tensor& sample,
                                                const torch::Tensor& timestep,
                                                const torch::Tensor& encoder_hidden_states) {
  TORCH_CHECK(sample.dim() == 4,
              "UNet2DConditionModel: sample must be "
              "[B, C, H, W], got ",
              sample.sizes());
  const int64_t batch = sample.size(0);
  const int64_t up_factor = int64_t{1} << num_upsamplers_;
  const bool forward_upsample_size =
      sample.size(2) % up_factor != 0 || sample.size(3) % up_factor != 0;

  torch::Tensor timesteps = timestep.to(sample.device());
  if (timesteps.dim() == 0) timesteps = timesteps.unsqueeze(0);
  timesteps = timesteps.expand({batch});
  const torch::Tensor t_emb = time_proj(timesteps).to(sample.scalar_type());
  const torch::Tensor emb = time_embedding(t_emb);

  torch::Tensor x = config_.center_input_sample ? 2.0 * sample - 1.0 : sample;
  x = conv_in(x);
  std::vector<torch::Tensor> res_samples = {x};
  for (size_t i = 0; i < cross_attn_down_blocks.size(); ++i) {
    DownBlockOutput out = cross_attn_down_blocks[i].is_empty()
                              ? plain_down_blocks[i](x, emb)
                              : cross_attn_down_blocks[i](x, emb, encoder_hidden_states);
    x = out.hidden_states;
    res_samples.insert(res_samples.end(), out.res_samples.begin(), out.res_samples.end());
  }

  x = mid_block(x, emb, encoder_hidden_states);

  const size_t n = cross_attn_up_blocks.size();
  const size_t skips_per_block = static_cast<size_t>(config_.layers_per_block + 1);
  for (size_t i = 0; i < n; ++i) {
    TORCH_CHECK(res_samples.size() >= skips_per_block,
                "UNet2DConditionModel: ran out of skip connections");
    const std::vector<torch::Tensor> skips(
        res_samples.end() - static_cast<std::ptrdiff_t>(skips_per_block), res_samples.end());
    res_samples.resize(res_samples.size() - skips_per_block);
    std::vector<int64_t> upsample_size;
    if (i + 1 < n && forward_upsample_size) {
      upsample_size = {res_samples.back().size(2), res_samples.back().size(3)};
    }
    x = cross_attn_up_blocks[i].is_empty()
            ? plain_up_blocks[i](x, skips, emb, upsample_size)
            : cross_attn_up_blocks[i](x, skips, emb, encoder_hidden_states, upsample_size);
  }

  return conv_out(torch::silu(Normalize(conv_norm_out, x)));
}

absl::StatusOr<UNet2DConditionModel> CreateUNet2DConditionModel(
    const UNet2DConditionModelConfig& config) {
  if (absl::Status valid = ValidateUNet2DConditionModelConfig(config); !valid.ok()) {
    return valid;
  }
  return RunTorch([&] { return UNet2DConditionModel(config); });
}

}  // namespace stamina::core
