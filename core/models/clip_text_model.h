// File: core/models/clip_text_model.h
//
// The Stable Diffusion text encoder: transformers' CLIPTextModel and its
// config, with transformers' sub-module names, so named_parameters() keys are
// the keys of SD's text_encoder/ checkpoints (text_model.embeddings.*,
// text_model.encoder.layers.N.{self_attn,layer_norm1,mlp,layer_norm2}.*,
// text_model.final_layer_norm.*). Mirrors transformers
// src/transformers/models/clip/modeling_clip.py (CLIPTextEmbeddings,
// CLIPAttention, CLIPMLP, CLIPEncoderLayer, CLIPEncoder, CLIPTextTransformer,
// CLIPTextModel): pre-LN blocks, causal self-attention, returns
// last_hidden_state (what SD conditions on). No padding mask and no pooled
// output: SD 1.x uses neither.
//
// position_ids: transformers registers text_model.embeddings.position_ids
// ([1, max_position_embeddings] int64, arange) as a buffer; SD checkpoints
// written by transformers < 4.31 contain it, newer ones do not (persistent =
// False). It is registered here as a buffer too, so it appears in
// named_buffers() (not in named_parameters(), and not in the parameter count)
// and a weight loader can accept it when present; its value is always the
// arange, so a loader may treat it as optional. LibTorch's Module::to(dtype)
// casts it along with the weights (PyTorch's would not); forward() casts it
// back to int64.
//
// forward() follows LibTorch and throws c10::Error on bad input;
// CreateCLIPTextModel() validates the config and never throws. Callers outside
// core/ run forward() through RunTorch (core/torch_status.h).
// Thread-compatible, like any LibTorch module: concurrent forward() calls are
// safe; loading weights or swapping sub-modules needs exclusive access.
#ifndef STAMINA_CORE_MODELS_CLIP_TEXT_MODEL_H_
#define STAMINA_CORE_MODELS_CLIP_TEXT_MODEL_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "torch/torch.h"

namespace stamina::core {

// The fields of transformers' CLIPTextConfig (text_encoder/config.json) that
// the model uses, with the same names.
struct CLIPTextConfig {
  int64_t vocab_size = 49408;
  int64_t hidden_size = 512;
  int64_t intermediate_size = 2048;
  int64_t num_hidden_layers = 12;
  int64_t num_attention_heads = 8;
  int64_t max_position_embeddings = 77;
  // "quick_gelu" (OpenAI CLIP, SD 1.x) or "gelu" (OpenCLIP, SD 2.x).
  std::string hidden_act = "quick_gelu";
  double layer_norm_eps = 1e-5;

  // openai/clip-vit-large-patch14's text model, SD 1.5's text_encoder
  // (123,060,480 parameters).
  static CLIPTextConfig StableDiffusion15();
  // Two layers of width 32 over a 1000-token vocabulary, for CPU tests.
  static CLIPTextConfig Tiny();
};

// INVALID_ARGUMENT naming the first bad field.
absl::Status ValidateCLIPTextConfig(const CLIPTextConfig& config);

// token_embedding + position_embedding.
class CLIPTextEmbeddingsImpl : public torch::nn::Module {
 public:
  explicit CLIPTextEmbeddingsImpl(const CLIPTextConfig& config);
  // input_ids [B, L] int64 → [B, L, hidden_size].
  torch::Tensor forward(const torch::Tensor& input_ids);

  torch::nn::Embedding token_embedding{nullptr};
  torch::nn::Embedding position_embedding{nullptr};
  torch::Tensor position_ids;  // buffer [1, max_position_embeddings]

  // Makers of rows [hidden_size] used instead of token_embedding's for these
  // token ids, called on every forward: a concept token while it trains
  // (core/adapters), so gradients reach only its own parameters. Not part of
  // this module's state; empty normally.
  std::map<int64_t, std::function<torch::Tensor()>> token_overrides;
};
TORCH_MODULE(CLIPTextEmbeddings);

// Multi-head attention with biased q/k/v/out projections.
class CLIPAttentionImpl : public torch::nn::Module {
 public:
  explicit CLIPAttentionImpl(const CLIPTextConfig& config);
  // `mask` as in ScaledDotProductAttention (core/nn/attention_ops.h).
  torch::Tensor forward(const torch::Tensor& hidden_states,
                        const torch::Tensor& mask);

  torch::nn::Linear q_proj{nullptr};
  torch::nn::Linear k_proj{nullptr};
  torch::nn::Linear v_proj{nullptr};
  torch::nn::Linear out_proj{nullptr};

 private:
  int64_t num_heads_;
};
TORCH_MODULE(CLIPAttention);

// fc1 → hidden_act → fc2.
class CLIPMLPImpl : public torch::nn::Module {
 public:
  explicit CLIPMLPImpl(const CLIPTextConfig& config);
  torch::Tensor forward(const torch::Tensor& hidden_states);

  torch::nn::Linear fc1{nullptr};
  torch::nn::Linear fc2{nullptr};

 private:
  bool quick_gelu_;
};
TORCH_MODULE(CLIPMLP);

// x + self_attn(layer_norm1(x)), then x + mlp(layer_norm2(x)).
class CLIPEncoderLayerImpl : public torch::nn::Module {
 public:
  explicit CLIPEncoderLayerImpl(const CLIPTextConfig& config);
  torch::Tensor forward(const torch::Tensor& hidden_states,
                        const torch::Tensor& mask);

  CLIPAttention self_attn{nullptr};
  torch::nn::LayerNorm layer_norm1{nullptr};
  CLIPMLP mlp{nullptr};
  torch::nn::LayerNorm layer_norm2{nullptr};
};
TORCH_MODULE(CLIPEncoderLayer);

// layers.N.
class CLIPEncoderImpl : public torch::nn::Module {
 public:
  explicit CLIPEncoderImpl(const CLIPTextConfig& config);
  torch::Tensor forward(const torch::Tensor& hidden_states,
                        const torch::Tensor& mask);

  std::vector<CLIPEncoderLayer> layers;
};
TORCH_MODULE(CLIPEncoder);

// embeddings → encoder (causal) → final_layer_norm.
class CLIPTextTransformerImpl : public torch::nn::Module {
 public:
  explicit CLIPTextTransformerImpl(const CLIPTextConfig& config);
  torch::Tensor forward(const torch::Tensor& input_ids);

  CLIPTextEmbeddings embeddings{nullptr};
  CLIPEncoder encoder{nullptr};
  torch::nn::LayerNorm final_layer_norm{nullptr};
};
TORCH_MODULE(CLIPTextTransformer);

class CLIPTextModelImpl : public torch::nn::Module {
 public:
  // Throws c10::Error on an invalid config; prefer CreateCLIPTextModel().
  explicit CLIPTextModelImpl(const CLIPTextConfig& config);

  // input_ids [B, L] (int64 token ids, L <= max_position_embeddings) →
  // last_hidden_state [B, L, hidden_size]. Position i depends only on
  // tokens 0..i (causal mask).
  torch::Tensor forward(const torch::Tensor& input_ids);

  const CLIPTextConfig& config() const { return config_; }

  CLIPTextTransformer text_model{nullptr};

 private:
  CLIPTextConfig config_;
};
TORCH_MODULE(CLIPTextModel);

// Validates `config` and builds a randomly initialised model (LibTorch's
// default init; weights are loaded separately).
absl::StatusOr<CLIPTextModel> CreateCLIPTextModel(const CLIPTextConfig& config);

}  // namespace stamina::core

#endif  // STAMINA_CORE_MODELS_CLIP_TEXT_MODEL_H_
