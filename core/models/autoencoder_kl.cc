#include "core/models/autoencoder_kl.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "core/models/vae.h"
#include "core/torch_status.h"
#include "torch/torch.h"

namespace stamina::core {
namespace {

constexpr char kDownEncoderBlock2D[] = "DownEncoderBlock2D";
constexpr char kUpDecoderBlock2D[] = "UpDecoderBlock2D";

absl::Status Invalid(absl::string_view field, absl::string_view problem) {
  return absl::InvalidArgumentError(
      absl::StrCat("AutoencoderKLConfig.", field, ": ", problem));
}

torch::nn::Conv2d Conv1x1(int64_t in, int64_t out) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 1));
}

}  // namespace

AutoencoderKLConfig AutoencoderKLConfig::StableDiffusion15() {
  AutoencoderKLConfig config;
  config.in_channels = 3;
  config.out_channels = 3;
  config.down_block_types = std::vector<std::string>(4, kDownEncoderBlock2D);
  config.up_block_types = std::vector<std::string>(4, kUpDecoderBlock2D);
  config.block_out_channels = {128, 256, 512, 512};
  config.layers_per_block = 2;
  config.latent_channels = 4;
  config.norm_num_groups = 32;
  config.sample_size = 512;
  config.scaling_factor = 0.18215;
  return config;
}

AutoencoderKLConfig AutoencoderKLConfig::Tiny() {
  AutoencoderKLConfig config;
  config.down_block_types = std::vector<std::string>(2, kDownEncoderBlock2D);
  config.up_block_types = std::vector<std::string>(2, kUpDecoderBlock2D);
  config.block_out_channels = {32, 64};
  config.layers_per_block = 1;
  config.latent_channels = 4;
  config.norm_num_groups = 8;
  config.sample_size = 32;
  return config;
}

absl::Status ValidateAutoencoderKLConfig(const AutoencoderKLConfig& config) {
  const size_t n = config.block_out_channels.size();
  if (n == 0) return Invalid("block_out_channels", "is empty");
  if (config.down_block_types.size() != n) {
    return Invalid("down_block_types",
                   "needs one entry per block_out_channels");
  }
  if (config.up_block_types.size() != n) {
    return Invalid("up_block_types", "needs one entry per block_out_channels");
  }
  for (const std::string& type : config.down_block_types) {
    if (type != kDownEncoderBlock2D) {
      return Invalid("down_block_types",
                     absl::StrCat("unsupported \"", type, "\""));
    }
  }
  for (const std::string& type : config.up_block_types) {
    if (type != kUpDecoderBlock2D) {
      return Invalid("up_block_types",
                     absl::StrCat("unsupported \"", type, "\""));
    }
  }
  if (config.in_channels <= 0 || config.out_channels <= 0 ||
      config.latent_channels <= 0) {
    return Invalid("in_channels/out_channels/latent_channels",
                   "must be positive");
  }
  if (config.layers_per_block <= 0) {
    return Invalid("layers_per_block", "must be positive");
  }
  if (config.act_fn != "silu") {
    return Invalid("act_fn", absl::StrCat("unsupported \"", config.act_fn,
                                          "\" (only \"silu\")"));
  }
  if (config.norm_num_groups <= 0) {
    return Invalid("norm_num_groups", "must be positive");
  }
  for (int64_t channels : config.block_out_channels) {
    if (channels <= 0 || channels % config.norm_num_groups != 0) {
      return Invalid("block_out_channels",
                     absl::StrCat(channels,
                                  " is not a positive multiple of "
                                  "norm_num_groups ",
                                  config.norm_num_groups));
    }
  }
  if (config.scaling_factor <= 0) {
    return Invalid("scaling_factor", "must be positive");
  }
  return absl::OkStatus();
}

AutoencoderKLImpl::AutoencoderKLImpl(const AutoencoderKLConfig& config)
    : config_(config) {
  const absl::Status valid = ValidateAutoencoderKLConfig(config);
  TORCH_CHECK(valid.ok(), std::string(valid.message()));
  VAECoderOptions coder;
  coder.block_out_channels = config.block_out_channels;
  coder.layers_per_block = config.layers_per_block;
  coder.norm_num_groups = config.norm_num_groups;

  coder.in_channels = config.in_channels;
  coder.out_channels = config.latent_channels;
  encoder = register_module("encoder", Encoder(coder));
  coder.in_channels = config.latent_channels;
  coder.out_channels = config.out_channels;
  decoder = register_module("decoder", Decoder(coder));
  quant_conv = register_module(
      "quant_conv",
      Conv1x1(2 * config.latent_channels, 2 * config.latent_channels));
  post_quant_conv =
      register_module("post_quant_conv",
                      Conv1x1(config.latent_channels, config.latent_channels));
}

DiagonalGaussianDistribution AutoencoderKLImpl::Encode(
    const torch::Tensor& sample) {
  return DiagonalGaussianDistribution(quant_conv(encoder(sample)));
}

torch::Tensor AutoencoderKLImpl::Decode(const torch::Tensor& z) {
  return decoder(post_quant_conv(z));
}

torch::Tensor AutoencoderKLImpl::forward(const torch::Tensor& sample) {
  return Decode(Encode(sample).Mode());
}

absl::StatusOr<AutoencoderKL> CreateAutoencoderKL(
    const AutoencoderKLConfig& config) {
  if (absl::Status valid = ValidateAutoencoderKLConfig(config); !valid.ok()) {
    return valid;
  }
  return RunTorch([&] { return AutoencoderKL(config); });
}

}  // namespace stamina::core
