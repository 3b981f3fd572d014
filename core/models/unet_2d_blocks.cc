#include "core/models/unet_2d_blocks.h"

#include <cstdint>
#include <vector>

#include "core/nn/attention.h"
#include "core/nn/module_list.h"
#include "core/nn/resnet.h"
#include "torch/torch.h"

namespace stamina::core {
namespace {

ResnetBlock2D MakeResnet(const UNetBlockOptions& options, int64_t in,
                         int64_t out) {
  ResnetBlock2DOptions resnet;
  resnet.in_channels = in;
  resnet.out_channels = out;
  resnet.temb_channels = options.temb_channels;
  resnet.groups = options.resnet_groups;
  resnet.eps = options.resnet_eps;
  resnet.output_scale_factor = options.output_scale_factor;
  return ResnetBlock2D(resnet);
}

Transformer2DModel MakeTransformer(const UNetBlockOptions& options,
                                   int64_t channels) {
  TORCH_CHECK(channels % options.num_attention_heads == 0,
              "UNet block: ", channels, " channels do not split into ",
              options.num_attention_heads, " heads");
  Transformer2DModelOptions transformer;
  transformer.num_attention_heads = options.num_attention_heads;
  transformer.attention_head_dim = channels / options.num_attention_heads;
  transformer.in_channels = channels;
  transformer.num_layers = 1;
  transformer.cross_attention_dim = options.cross_attention_dim;
  transformer.norm_num_groups = options.resnet_groups;
  transformer.use_linear_projection = options.use_linear_projection;
  return Transformer2DModel(transformer);
}

// Builds the resnets (and attentions) of a down block.
void BuildDownLayers(torch::nn::Module& parent, const UNetBlockOptions& options,
                     bool with_attention, std::vector<ResnetBlock2D>& resnets,
                     std::vector<Transformer2DModel>* attentions) {
  for (int64_t i = 0; i < options.num_layers; ++i) {
    const int64_t in = i == 0 ? options.in_channels : options.out_channels;
    resnets.push_back(MakeResnet(options, in, options.out_channels));
    if (with_attention) {
      attentions->push_back(MakeTransformer(options, options.out_channels));
    }
  }
  RegisterModuleList(parent, "resnets", resnets);
  if (with_attention) RegisterModuleList(parent, "attentions", *attentions);
}

Downsample2D BuildDownsampler(torch::nn::Module& parent,
                              const UNetBlockOptions& options) {
  if (!options.add_sampler) return Downsample2D(nullptr);
  Downsample2D down(options.out_channels, options.out_channels,
                    options.downsample_padding);
  RegisterModuleList(parent, "downsamplers", std::vector<Downsample2D>{down});
  return down;
}

// Builds the resnets (and attentions) of an up block.
void BuildUpLayers(torch::nn::Module& parent, const UNetBlockOptions& options,
                   bool with_attention, std::vector<ResnetBlock2D>& resnets,
                   std::vector<Transformer2DModel>* attentions) {
  for (int64_t i = 0; i < options.num_layers; ++i) {
    const int64_t res_skip_channels = i == options.num_layers - 1
                                          ? options.in_channels
                                          : options.out_channels;
    const int64_t resnet_in =
        i == 0 ? options.prev_output_channel : options.out_channels;
    resnets.push_back(MakeResnet(options, resnet_in + res_skip_channels,
                                 options.out_channels));
    if (with_attention) {
      attentions->push_back(MakeTransformer(options, options.out_channels));
    }
  }
  RegisterModuleList(parent, "resnets", resnets);
  if (with_attention) RegisterModuleList(parent, "attentions", *attentions);
}

Upsample2D BuildUpsampler(torch::nn::Module& parent,
                          const UNetBlockOptions& options) {
  if (!options.add_sampler) return Upsample2D(nullptr);
  Upsample2D up(options.out_channels, options.out_channels);
  RegisterModuleList(parent, "upsamplers", std::vector<Upsample2D>{up});
  return up;
}

void CheckSkips(const std::vector<torch::Tensor>& res_samples,
                size_t num_resnets) {
  TORCH_CHECK(res_samples.size() == num_resnets, "UNet up block: expected ",
              num_resnets, " skip connections, got ", res_samples.size());
}

}  // namespace

CrossAttnDownBlock2DImpl::CrossAttnDownBlock2DImpl(
    const UNetBlockOptions& options) {
  BuildDownLayers(*this, options, /*with_attention=*/true, resnets,
                  &attentions);
  downsampler = BuildDownsampler(*this, options);
}

DownBlockOutput CrossAttnDownBlock2DImpl::forward(
    const torch::Tensor& hidden_states, const torch::Tensor& temb,
    const torch::Tensor& encoder_hidden_states) {
  DownBlockOutput output;
  torch::Tensor x = hidden_states;
  for (size_t i = 0; i < resnets.size(); ++i) {
    x = resnets[i](x, temb);
    x = attentions[i](x, encoder_hidden_states);
    output.res_samples.push_back(x);
  }
  if (!downsampler.is_empty()) {
    x = downsampler(x);
    output.res_samples.push_back(x);
  }
  output.hidden_states = x;
  return output;
}

DownBlock2DImpl::DownBlock2DImpl(const UNetBlockOptions& options) {
  BuildDownLayers(*this, options, /*with_attention=*/false, resnets, nullptr);
  downsampler = BuildDownsampler(*this, options);
}

DownBlockOutput DownBlock2DImpl::forward(const torch::Tensor& hidden_states,
                                         const torch::Tensor& temb) {
  DownBlockOutput output;
  torch::Tensor x = hidden_states;
  for (ResnetBlock2D& resnet : resnets) {
    x = resnet(x, temb);
    output.res_samples.push_back(x);
  }
  if (!downsampler.is_empty()) {
    x = downsampler(x);
    output.res_samples.push_back(x);
  }
  output.hidden_states = x;
  return output;
}

UNetMidBlock2DCrossAttnImpl::UNetMidBlock2DCrossAttnImpl(
    const UNetBlockOptions& options) {
  const int64_t channels = options.in_channels;
  resnets.push_back(MakeResnet(options, channels, channels));
  for (int64_t i = 0; i < options.num_layers; ++i) {
    attentions.push_back(MakeTransformer(options, channels));
    resnets.push_back(MakeResnet(options, channels, channels));
  }
  RegisterModuleList(*this, "attentions", attentions);
  RegisterModuleList(*this, "resnets", resnets);
}

torch::Tensor UNetMidBlock2DCrossAttnImpl::forward(
    const torch::Tensor& hidden_states, const torch::Tensor& temb,
    const torch::Tensor& encoder_hidden_states) {
  torch::Tensor x = resnets[0](hidden_states, temb);
  for (size_t i = 0; i < attentions.size(); ++i) {
    x = attentions[i](x, encoder_hidden_states);
    x = resnets[i + 1](x, temb);
  }
  return x;
}

CrossAttnUpBlock2DImpl::CrossAttnUpBlock2DImpl(
    const UNetBlockOptions& options) {
  BuildUpLayers(*this, options, /*with_attention=*/true, resnets, &attentions);
  upsampler = BuildUpsampler(*this, options);
}

torch::Tensor CrossAttnUpBlock2DImpl::forward(
    const torch::Tensor& hidden_states,
    const std::vector<torch::Tensor>& res_samples, const torch::Tensor& temb,
    const torch::Tensor& encoder_hidden_states,
    const std::vector<int64_t>& upsample_size) {
  CheckSkips(res_samples, resnets.size());
  torch::Tensor x = hidden_states;
  for (size_t i = 0; i < resnets.size(); ++i) {
    x = torch::cat({x, res_samples[res_samples.size() - 1 - i]}, 1);
    x = resnets[i](x, temb);
    x = attentions[i](x, encoder_hidden_states);
  }
  if (!upsampler.is_empty()) x = upsampler(x, upsample_size);
  return x;
}

UpBlock2DImpl::UpBlock2DImpl(const UNetBlockOptions& options) {
  BuildUpLayers(*this, options, /*with_attention=*/false, resnets, nullptr);
  upsampler = BuildUpsampler(*this, options);
}

torch::Tensor UpBlock2DImpl::forward(
    const torch::Tensor& hidden_states,
    const std::vector<torch::Tensor>& res_samples, const torch::Tensor& temb,
    const std::vector<int64_t>& upsample_size) {
  CheckSkips(res_samples, resnets.size());
  torch::Tensor x = hidden_states;
  for (size_t i = 0; i < resnets.size(); ++i) {
    x = torch::cat({x, res_samples[res_samples.size() - 1 - i]}, 1);
    x = resnets[i](x, temb);
  }
  if (!upsampler.is_empty()) x = upsampler(x, upsample_size);
  return x;
}

}  // namespace stamina::core
