#include "core/nn/resnet.h"

#include <cstdint>
#include <vector>

#include "core/nn/norms.h"
#include "torch/torch.h"

namespace stamina::core {
namespace {

torch::nn::Conv2d Conv3x3(int64_t in, int64_t out, int64_t stride, int64_t padding) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).stride(stride).padding(padding));
}

}  // namespace

ResnetBlock2DImpl::ResnetBlock2DImpl(const ResnetBlock2DOptions& options) : options_(options) {
  if (options_.out_channels == 0) options_.out_channels = options.in_channels;
  const int64_t in = options_.in_channels;
  const int64_t out = options_.out_channels;
  norm1 = register_module(
      "norm1",
      torch::nn::GroupNorm(torch::nn::GroupNormOptions(options.groups, in).eps(options.eps)));
  conv1 = register_module("conv1", Conv3x3(in, out, 1, 1));
  if (options.temb_channels > 0) {
    time_emb_proj = register_module("time_emb_proj", torch::nn::Linear(options.temb_channels, out));
  }
  norm2 = register_module(
      "norm2",
      torch::nn::GroupNorm(torch::nn::GroupNormOptions(options.groups, out).eps(options.eps)));
  conv2 = register_module("conv2", Conv3x3(out, out, 1, 1));
  if (in != out) {
    conv_shortcut =
        register_module("conv_shortcut", torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 1)));
  }
}

torch::Tensor ResnetBlock2DImpl::forward(const torch::Tensor& input, const torch::Tensor& temb) {
  torch::Tensor x = conv1(torch::silu(Normalize(norm1, input)));
  if (!time_emb_proj.is_empty() && temb.defined()) {
    x = x + time_emb_proj(torch::silu(temb)).unsqueeze(-1).unsqueeze(-1);
  }
  x = conv2(torch::silu(Normalize(norm2, x)));
  const torch::Tensor shortcut = conv_shortcut.is_empty() ? input : conv_shortcut(input);
  torch::Tensor out = shortcut + x;
  if (options_.output_scale_factor != 1.0) {
    out = out / options_.output_scale_factor;
  }
  return out;
}

Downsample2DImpl::Downsample2DImpl(int64_t channels, int64_t out_channels, int64_t padding)
    : conv(register_module("conv", Conv3x3(channels, out_channels, 2, padding))),
      padding_(padding) {}

torch::Tensor Downsample2DImpl::forward(const torch::Tensor& hidden_states) {
  if (padding_ == 0) {
    return conv(torch::constant_pad_nd(hidden_states, {0, 1, 0, 1}, 0));
  }
  return conv(hidden_states);
}

Upsample2DImpl::Upsample2DImpl(int64_t channels, int64_t out_channels)
    : conv(register_module("conv", Conv3x3(channels, out_channels, 1, 1))) {}

torch::Tensor Upsample2DImpl::forward(const torch::Tensor& hidden_states,
                                      const std::vector<int64_t>& output_size) {
  namespace F = torch::nn::functional;
  F::InterpolateFuncOptions options;
  options.mode(torch::kNearest);
  if (output_size.empty()) {
    options.scale_factor(std::vector<double>{2.0, 2.0});
  } else {
    options.size(output_size);
  }
  return conv(F::interpolate(hidden_states, options));
}

}  // namespace stamina::core
