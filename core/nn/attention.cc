#include "core/nn/attention.h"

#include <cstdint>

#include "core/nn/attention_ops.h"
#include "core/nn/norms.h"
#include "torch/torch.h"

namespace stamina::core {
namespace {

torch::Tensor Project(torch::nn::Linear& linear, const std::shared_ptr<LinearAdapter>& adapter,
                      const torch::Tensor& x) {
  torch::Tensor y = linear(x);
  if (adapter) y = y + adapter->Delta(x);
  return y;
}

// [B, L, heads * d] → [B, heads, L, d].
torch::Tensor SplitHeads(const torch::Tensor& x, int64_t heads) {
  return x.view({x.size(0), x.size(1), heads, x.size(2) / heads}).transpose(1, 2);
}

// [B, heads, L, d] → [B, L, heads * d].
torch::Tensor MergeHeads(const torch::Tensor& x) {
  return x.transpose(1, 2).reshape({x.size(0), x.size(2), -1});
}

}  // namespace

AttentionImpl::AttentionImpl(const AttentionOptions& options) : options_(options) {
  TORCH_CHECK(options.query_dim > 0 && options.heads > 0 && options.dim_head > 0,
              "Attention: query_dim, heads and dim_head must be positive");
  const int64_t inner_dim = options.heads * options.dim_head;
  const int64_t kv_dim =
      options.cross_attention_dim > 0 ? options.cross_attention_dim : options.query_dim;
  if (options.norm_num_groups > 0) {
    group_norm = register_module(
        "group_norm",
        torch::nn::GroupNorm(torch::nn::GroupNormOptions(options.norm_num_groups, options.query_dim)
                                 .eps(options.eps)));
  }
  to_q = register_module(
      "to_q",
      torch::nn::Linear(torch::nn::LinearOptions(options.query_dim, inner_dim).bias(options.bias)));
  to_k = register_module(
      "to_k", torch::nn::Linear(torch::nn::LinearOptions(kv_dim, inner_dim).bias(options.bias)));
  to_v = register_module(
      "to_v", torch::nn::Linear(torch::nn::LinearOptions(kv_dim, inner_dim).bias(options.bias)));
  to_out_0 = torch::nn::Linear(
      torch::nn::LinearOptions(inner_dim, options.query_dim).bias(options.out_bias));
  to_out = register_module("to_out", torch::nn::ModuleList());
  to_out->push_back(to_out_0);
  to_out->push_back(torch::nn::Dropout(0.0));
}

torch::Tensor AttentionImpl::forward(const torch::Tensor& hidden_states,
                                     const torch::Tensor& encoder_hidden_states,
                                     const torch::Tensor& mask) {
  const torch::Tensor& residual = hidden_states;
  torch::Tensor x = hidden_states;
  const bool spatial = x.dim() == 4;
  int64_t batch = 0, channels = 0, height = 0, width = 0;
  if (spatial) {
    batch = x.size(0);
    channels = x.size(1);
    height = x.size(2);
    width = x.size(3);
    x = x.view({batch, channels, height * width}).transpose(1, 2);
  }
  if (!group_norm.is_empty()) {
    x = Normalize(group_norm, x.transpose(1, 2)).transpose(1, 2);
  }
  const torch::Tensor& context = encoder_hidden_states.defined() ? encoder_hidden_states : x;
  const int64_t heads = options_.heads;
  const torch::Tensor q = SplitHeads(Project(to_q, to_q_adapter, x), heads);
  const torch::Tensor k = SplitHeads(Project(to_k, to_k_adapter, context), heads);
  const torch::Tensor v = SplitHeads(Project(to_v, to_v_adapter, context), heads);
  torch::Tensor out =
      Project(to_out_0, to_out_adapter, MergeHeads(ScaledDotProductAttention(q, k, v, mask)));
  if (spatial) {
    out = out.transpose(1, 2).reshape({batch, channels, height, width});
  }
  if (options_.residual_connection) out = out + residual;
  if (options_.rescale_output_factor != 1.0) {
    out = out / options_.rescale_output_factor;
  }
  return out;
}

GEGLUImpl::GEGLUImpl(int64_t dim_in, int64_t dim_out)
    : proj(register_module("proj", torch::nn::Linear(dim_in, dim_out * 2))) {}

torch::Tensor GEGLUImpl::forward(const torch::Tensor& hidden_states) {
  const std::vector<torch::Tensor> halves = proj(hidden_states).chunk(2, -1);
  return halves[0] * torch::gelu(halves[1]);
}

FeedForwardImpl::FeedForwardImpl(int64_t dim, int64_t dim_out, int64_t mult) {
  const int64_t inner_dim = dim * mult;
  geglu = GEGLU(dim, inner_dim);
  proj_out = torch::nn::Linear(inner_dim, dim_out > 0 ? dim_out : dim);
  net = register_module("net", torch::nn::ModuleList());
  net->push_back(geglu);
  net->push_back(torch::nn::Dropout(0.0));
  net->push_back(proj_out);
}

torch::Tensor FeedForwardImpl::forward(const torch::Tensor& hidden_states) {
  return proj_out(geglu(hidden_states));
}

BasicTransformerBlockImpl::BasicTransformerBlockImpl(int64_t dim, int64_t num_attention_heads,
                                                     int64_t attention_head_dim,
                                                     int64_t cross_attention_dim) {
  const auto layer_norm = [dim] {
    return torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(1e-5));
  };
  AttentionOptions self_attention;
  self_attention.query_dim = dim;
  self_attention.heads = num_attention_heads;
  self_attention.dim_head = attention_head_dim;
  AttentionOptions cross_attention = self_attention;
  cross_attention.cross_attention_dim = cross_attention_dim;

  norm1 = register_module("norm1", layer_norm());
  attn1 = register_module("attn1", Attention(self_attention));
  norm2 = register_module("norm2", layer_norm());
  attn2 = register_module("attn2", Attention(cross_attention));
  norm3 = register_module("norm3", layer_norm());
  ff = register_module("ff", FeedForward(dim));
}

torch::Tensor BasicTransformerBlockImpl::forward(const torch::Tensor& hidden_states,
                                                 const torch::Tensor& encoder_hidden_states) {
  torch::Tensor x = attn1(Normalize(norm1, hidden_states)) + hidden_states;
  x = attn2(Normalize(norm2, x), encoder_hidden_states) + x;
  return ff(Normalize(norm3, x)) + x;
}

Transformer2DModelImpl::Transformer2DModelImpl(const Transformer2DModelOptions& options)
    : options_(options) {
  const int64_t inner_dim = options.num_attention_heads * options.attention_head_dim;
  norm = register_module(
      "norm",
      torch::nn::GroupNorm(
          torch::nn::GroupNormOptions(options.norm_num_groups, options.in_channels).eps(1e-6)));
  if (options.use_linear_projection) {
    proj_in_linear = register_module("proj_in", torch::nn::Linear(options.in_channels, inner_dim));
  } else {
    proj_in_conv = register_module(
        "proj_in", torch::nn::Conv2d(torch::nn::Conv2dOptions(options.in_channels, inner_dim, 1)));
  }
  transformer_blocks = register_module("transformer_blocks", torch::nn::ModuleList());
  for (int64_t i = 0; i < options.num_layers; ++i) {
    blocks_.emplace_back(inner_dim, options.num_attention_heads, options.attention_head_dim,
                         options.cross_attention_dim);
    transformer_blocks->push_back(blocks_.back());
  }
  if (options.use_linear_projection) {
    proj_out_linear =
        register_module("proj_out", torch::nn::Linear(inner_dim, options.in_channels));
  } else {
    proj_out_conv = register_module(
        "proj_out", torch::nn::Conv2d(torch::nn::Conv2dOptions(inner_dim, options.in_channels, 1)));
  }
}

torch::Tensor Transformer2DModelImpl::forward(const torch::Tensor& hidden_states,
                                              const torch::Tensor& encoder_hidden_states) {
  const int64_t batch = hidden_states.size(0);
  const int64_t height = hidden_states.size(2);
  const int64_t width = hidden_states.size(3);
  torch::Tensor x = Normalize(norm, hidden_states);
  const auto to_tokens = [&](const torch::Tensor& t) {
    return t.permute({0, 2, 3, 1}).reshape({batch, height * width, -1});
  };
  const auto to_map = [&](const torch::Tensor& t) {
    return t.reshape({batch, height, width, -1}).permute({0, 3, 1, 2});
  };
  if (options_.use_linear_projection) {
    x = proj_in_linear(to_tokens(x));
  } else {
    x = to_tokens(proj_in_conv(x));
  }
  for (BasicTransformerBlock& block : blocks_) {
    x = block(x, encoder_hidden_states);
  }
  if (options_.use_linear_projection) {
    x = to_map(proj_out_linear(x)).contiguous();
  } else {
    x = proj_out_conv(to_map(x).contiguous());
  }
  return x + hidden_states;
}

}  // namespace stamina::core
