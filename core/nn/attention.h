// File: core/nn/attention.h
//
// The transformer pieces of the Stable Diffusion UNet and VAE, with diffusers'
// class and sub-module names so that named_parameters() keys are diffusers'
// state-dict keys:
//   Attention: src/diffusers/models/attention_processor.py
//     (to_q, to_k, to_v, to_out.0, optional group_norm)
//   GEGLU: src/diffusers/models/activations.py (proj)
//   FeedForward: src/diffusers/models/attention.py (net.0.proj, net.2)
//   BasicTransformerBlock: src/diffusers/models/attention.py
//     (norm1, attn1, norm2, attn2, norm3, ff)
//   Transformer2DModel: src/diffusers/models/transformers/transformer_2d.py
//     (norm, proj_in, transformer_blocks, proj_out)
// Only the paths Stable Diffusion 1.x/2.x use are implemented (continuous
// input, layer_norm, geglu, no dropout at inference).
//
// forward() follows LibTorch and throws c10::Error on bad shapes; library entry
// points wrap model calls in RunTorch (core/torch_status.h).
// Thread-compatible, like any LibTorch module: concurrent forward() calls are
// safe; loading weights, swapping sub-modules or train()/eval() need
// exclusive access.
#ifndef STAMINA_CORE_NN_ATTENTION_H_
#define STAMINA_CORE_NN_ATTENTION_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "torch/torch.h"

namespace stamina::core {

// Constructor arguments of diffusers' Attention that SD uses.
struct AttentionOptions {
  int64_t query_dim = 0;
  // 0 means self-attention (to_k/to_v read query_dim features).
  int64_t cross_attention_dim = 0;
  int64_t heads = 8;
  int64_t dim_head = 64;
  // Bias of to_q/to_k/to_v ("bias"; false in the UNet, true in the VAE).
  bool bias = false;
  // Bias of to_out.0 ("out_bias").
  bool out_bias = true;
  // >0 adds `group_norm` over channels before the projections (VAE).
  int64_t norm_num_groups = 0;
  double eps = 1e-5;
  // Adds the input to the output (VAE mid-block attention).
  bool residual_connection = false;
  double rescale_output_factor = 1.0;
};

// An additive change to a frozen projection, y = linear(x) + Delta(x): a
// low-rank adapter while it trains, or left unfolded for inference
// (core/adapters). Folding it into the Linear's weight and detaching it
// leaves the module exactly as it was built.
class LinearAdapter {
 public:
  virtual ~LinearAdapter() = default;
  // `input` [..., in_features] → [..., out_features].
  virtual torch::Tensor Delta(const torch::Tensor& input) = 0;
};

// Multi-head attention over [B, L, C] tokens, or over [B, C, H, W] feature
// maps (flattened to H*W tokens and restored, as AttnProcessor does).
// to_q/to_k/to_v/to_out.0 are plain torch::nn::Linear members registered
// under exactly those names; each may carry a LinearAdapter, which is not a
// registered sub-module, so state dicts and parameter lists never see it.
class AttentionImpl : public torch::nn::Module {
 public:
  explicit AttentionImpl(const AttentionOptions& options);

  // `encoder_hidden_states` [B, Lk, cross_attention_dim]; undefined for
  // self-attention. `mask` as in ScaledDotProductAttention, per head.
  torch::Tensor forward(const torch::Tensor& hidden_states,
                        const torch::Tensor& encoder_hidden_states = {},
                        const torch::Tensor& mask = {});

  const AttentionOptions& options() const { return options_; }

  torch::nn::GroupNorm group_norm{nullptr};  // only if norm_num_groups > 0
  torch::nn::Linear to_q{nullptr};
  torch::nn::Linear to_k{nullptr};
  torch::nn::Linear to_v{nullptr};
  // to_out = [Linear, Dropout], as the ModuleList "to_out".
  torch::nn::ModuleList to_out{nullptr};
  torch::nn::Linear to_out_0{nullptr};

  // Null unless an adapter is attached (core/adapters).
  std::shared_ptr<LinearAdapter> to_q_adapter;
  std::shared_ptr<LinearAdapter> to_k_adapter;
  std::shared_ptr<LinearAdapter> to_v_adapter;
  std::shared_ptr<LinearAdapter> to_out_adapter;

 private:
  AttentionOptions options_;
};
TORCH_MODULE(Attention);

// Gated GELU: proj(x) split in halves (h, gate) → h * gelu(gate).
class GEGLUImpl : public torch::nn::Module {
 public:
  GEGLUImpl(int64_t dim_in, int64_t dim_out);
  torch::Tensor forward(const torch::Tensor& hidden_states);

  torch::nn::Linear proj{nullptr};
};
TORCH_MODULE(GEGLU);

// net = [GEGLU(dim, dim * mult), Dropout, Linear(dim * mult, dim_out)].
class FeedForwardImpl : public torch::nn::Module {
 public:
  // `dim_out` 0 means dim.
  FeedForwardImpl(int64_t dim, int64_t dim_out = 0, int64_t mult = 4);
  torch::Tensor forward(const torch::Tensor& hidden_states);

  torch::nn::ModuleList net{nullptr};
  GEGLU geglu{nullptr};                 // net.0
  torch::nn::Linear proj_out{nullptr};  // net.2
};
TORCH_MODULE(FeedForward);

// Pre-LN block: self-attention, cross-attention, GEGLU feed-forward, each
// with a residual connection.
class BasicTransformerBlockImpl : public torch::nn::Module {
 public:
  BasicTransformerBlockImpl(int64_t dim, int64_t num_attention_heads,
                            int64_t attention_head_dim,
                            int64_t cross_attention_dim);
  // hidden_states [B, L, dim]; encoder_hidden_states [B, Lk,
  // cross_attention_dim].
  torch::Tensor forward(const torch::Tensor& hidden_states,
                        const torch::Tensor& encoder_hidden_states);

  torch::nn::LayerNorm norm1{nullptr};
  Attention attn1{nullptr};
  torch::nn::LayerNorm norm2{nullptr};
  Attention attn2{nullptr};
  torch::nn::LayerNorm norm3{nullptr};
  FeedForward ff{nullptr};
};
TORCH_MODULE(BasicTransformerBlock);

// Constructor arguments of diffusers' Transformer2DModel that SD uses.
struct Transformer2DModelOptions {
  int64_t num_attention_heads = 8;
  int64_t attention_head_dim = 40;
  int64_t in_channels = 320;
  int64_t num_layers = 1;
  int64_t cross_attention_dim = 768;
  int64_t norm_num_groups = 32;
  // false: 1x1 conv proj_in/proj_out (SD 1.x); true: Linear (SD 2.x).
  bool use_linear_projection = false;
};

// Spatial transformer: GroupNorm, proj_in, transformer_blocks over the H*W
// tokens, proj_out, plus the input (residual).
class Transformer2DModelImpl : public torch::nn::Module {
 public:
  explicit Transformer2DModelImpl(const Transformer2DModelOptions& options);
  // hidden_states [B, in_channels, H, W] → same shape.
  torch::Tensor forward(const torch::Tensor& hidden_states,
                        const torch::Tensor& encoder_hidden_states);

  torch::nn::GroupNorm norm{nullptr};
  // Registered as "proj_in"/"proj_out": 1x1 convs (SD 1.x), or Linears when
  // use_linear_projection (the other pair stays null).
  torch::nn::Conv2d proj_in_conv{nullptr};
  torch::nn::Conv2d proj_out_conv{nullptr};
  torch::nn::Linear proj_in_linear{nullptr};
  torch::nn::Linear proj_out_linear{nullptr};
  torch::nn::ModuleList transformer_blocks{nullptr};

 private:
  Transformer2DModelOptions options_;
  std::vector<BasicTransformerBlock> blocks_;
};
TORCH_MODULE(Transformer2DModel);

}  // namespace stamina::core

#endif  // STAMINA_CORE_NN_ATTENTION_H_
