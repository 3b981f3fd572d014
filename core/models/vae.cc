#include "core/models/vae.h"

#include <cstdint>
#include <vector>

#include "core/nn/attention.h"
#include "core/nn/module_list.h"
#include "core/nn/norms.h"
#include "core/nn/resnet.h"
#include "torch/torch.h"

namespace stamina::core {
namespace {

ResnetBlock2D MakeResnet(const VAEBlockOptions& options, int64_t in, int64_t out) {
  ResnetBlock2DOptions resnet;
  resnet.in_channels = in;
  resnet.out_channels = out;
  resnet.temb_channels = 0;
  resnet.groups = options.resnet_groups;
  resnet.eps = options.resnet_eps;
  return ResnetBlock2D(resnet);
}

void BuildResnets(torch::nn::Module& parent, const VAEBlockOptions& options,
                  std::vector<ResnetBlock2D>& resnets) {
  for (int64_t i = 0; i < options.num_layers; ++i) {
    const int64_t in = i == 0 ? options.in_channels : options.out_channels;
    resnets.push_back(MakeResnet(options, in, options.out_channels));
  }
  RegisterModuleList(parent, "resnets", resnets);
}

torch::nn::GroupNorm MakeGroupNorm(int64_t groups, int64_t channels) {
  return torch::nn::GroupNorm(torch::nn::GroupNormOptions(groups, channels).eps(1e-6));
}

torch::nn::Conv2d Conv3x3(int64_t in, int64_t out) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).padding(1));
}

UNetMidBlock2D MakeMidBlock(const VAECoderOptions& options, int64_t channels) {
  VAEBlockOptions mid;
  mid.num_layers = 1;
  mid.in_channels = channels;
  mid.out_channels = channels;
  mid.resnet_groups = options.norm_num_groups;
  return UNetMidBlock2D(mid);
}

}  // namespace

DownEncoderBlock2DImpl::DownEncoderBlock2DImpl(const VAEBlockOptions& options) {
  BuildResnets(*this, options, resnets);
  if (options.add_sampler) {
    downsampler = Downsample2D(options.out_channels, options.out_channels,
                               /*padding=*/0);
    RegisterModuleList(*this, "downsamplers", std::vector<Downsample2D>{downsampler});
  }
}

torch::Tensor DownEncoderBlock2DImpl::forward(const torch::Tensor& hidden_states) {
  torch::Tensor x = hidden_states;
  for (ResnetBlock2D& resnet : resnets) x = resnet(x);
  if (!downsampler.is_empty()) x = downsampler(x);
  return x;
}

UpDecoderBlock2DImpl::UpDecoderBlock2DImpl(const VAEBlockOptions& options) {
  BuildResnets(*this, options, resnets);
  if (options.add_sampler) {
    upsampler = Upsample2D(options.out_channels, options.out_channels);
    RegisterModuleList(*this, "upsamplers", std::vector<Upsample2D>{upsampler});
  }
}

torch::Tensor UpDecoderBlock2DImpl::forward(const torch::Tensor& hidden_states) {
  torch::Tensor x = hidden_states;
  for (ResnetBlock2D& resnet : resnets) x = resnet(x);
  if (!upsampler.is_empty()) x = upsampler(x);
  return x;
}

UNetMidBlock2DImpl::UNetMidBlock2DImpl(const VAEBlockOptions& options) {
  const int64_t channels = options.in_channels;
  AttentionOptions attention;
  attention.query_dim = channels;
  attention.heads = 1;
  attention.dim_head = channels;
  attention.bias = true;
  attention.norm_num_groups = options.resnet_groups;
  attention.eps = options.resnet_eps;
  attention.residual_connection = true;
  resnets.push_back(MakeResnet(options, channels, channels));
  for (int64_t i = 0; i < options.num_layers; ++i) {
    attentions.emplace_back(attention);
    resnets.push_back(MakeResnet(options, channels, channels));
  }
  RegisterModuleList(*this, "attentions", attentions);
  RegisterModuleList(*this, "resnets", resnets);
}

torch::Tensor UNetMidBlock2DImpl::forward(const torch::Tensor& hidden_states) {
  torch::Tensor x = resnets[0](hidden_states);
  for (size_t i = 0; i < attentions.size(); ++i) {
    x = attentions[i](x);
    x = resnets[i + 1](x);
  }
  return x;
}

EncoderImpl::EncoderImpl(const VAECoderOptions& options) {
  const std::vector<int64_t>& channels = options.block_out_channels;
  TORCH_CHECK(!channels.empty(), "VAE Encoder: block_out_channels is empty");
  const size_t n = channels.size();
  conv_in = register_module("conv_in", Conv3x3(options.in_channels, channels[0]));
  int64_t output_channel = channels[0];
  for (size_t i = 0; i < n; ++i) {
    VAEBlockOptions block;
    block.num_layers = options.layers_per_block;
    block.in_channels = output_channel;
    output_channel = channels[i];
    block.out_channels = output_channel;
    block.resnet_groups = options.norm_num_groups;
    block.add_sampler = i + 1 < n;
    down_blocks.emplace_back(block);
  }
  RegisterModuleList(*this, "down_blocks", down_blocks);
  mid_block = register_module("mid_block", MakeMidBlock(options, channels[n - 1]));
  conv_norm_out =
      register_module("conv_norm_out", MakeGroupNorm(options.norm_num_groups, channels[n - 1]));
  conv_out = register_module("conv_out", Conv3x3(channels[n - 1], 2 * options.out_channels));
}

torch::Tensor EncoderImpl::forward(const torch::Tensor& sample) {
  torch::Tensor x = conv_in(sample);
  for (DownEncoderBlock2D& block : down_blocks) x = block(x);
  x = mid_block(x);
  return conv_out(torch::silu(Normalize(conv_norm_out, x)));
}

DecoderImpl::DecoderImpl(const VAECoderOptions& options) {
  const std::vector<int64_t>& channels = options.block_out_channels;
  TORCH_CHECK(!channels.empty(), "VAE Decoder: block_out_channels is empty");
  const size_t n = channels.size();
  conv_in = register_module("conv_in", Conv3x3(options.in_channels, channels[n - 1]));
  mid_block = register_module("mid_block", MakeMidBlock(options, channels[n - 1]));
  int64_t output_channel = channels[n - 1];
  for (size_t i = 0; i < n; ++i) {
    VAEBlockOptions block;
    block.num_layers = options.layers_per_block + 1;
    block.in_channels = output_channel;
    output_channel = channels[n - 1 - i];
    block.out_channels = output_channel;
    block.resnet_groups = options.norm_num_groups;
    block.add_sampler = i + 1 < n;
    up_blocks.emplace_back(block);
  }
  RegisterModuleList(*this, "up_blocks", up_blocks);
  conv_norm_out =
      register_module("conv_norm_out", MakeGroupNorm(options.norm_num_groups, channels[0]));
  conv_out = register_module("conv_out", Conv3x3(channels[0], options.out_channels));
}

torch::Tensor DecoderImpl::forward(const torch::Tensor& z) {
  torch::Tensor x = mid_block(conv_in(z));
  for (UpDecoderBlock2D& block : up_blocks) x = block(x);
  return conv_out(torch::silu(Normalize(conv_norm_out, x)));
}

DiagonalGaussianDistribution::DiagonalGaussianDistribution(const torch::Tensor& parameters) {
  TORCH_CHECK(parameters.dim() >= 2 && parameters.size(1) % 2 == 0,
              "DiagonalGaussianDistribution: parameters need an even channel "
              "count, got ",
              parameters.sizes());
  const std::vector<torch::Tensor> halves = parameters.chunk(2, 1);
  mean_ = halves[0];
  logvar_ = torch::clamp(halves[1], -30.0, 20.0);
  std_ = torch::exp(0.5 * logvar_);
  var_ = torch::exp(logvar_);
}

torch::Tensor DiagonalGaussianDistribution::Sample(const torch::Tensor& noise) const {
  TORCH_CHECK(noise.sizes() == mean_.sizes(), "DiagonalGaussianDistribution::Sample: noise shape ",
              noise.sizes(), " differs from the mean's ", mean_.sizes());
  return mean_ + std_ * noise.to(mean_.options());
}

torch::Tensor DiagonalGaussianDistribution::Kl() const {
  std::vector<int64_t> dims;
  for (int64_t d = 1; d < mean_.dim(); ++d) dims.push_back(d);
  return 0.5 * torch::sum(mean_.pow(2) + var_ - 1.0 - logvar_, dims);
}

}  // namespace stamina::core
