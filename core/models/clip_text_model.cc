#include "core/models/clip_text_model.h"

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "core/nn/attention_ops.h"
#include "core/nn/module_list.h"
#include "core/nn/norms.h"
#include "core/torch_status.h"
#include "torch/torch.h"

namespace stamina::core {
namespace {

absl::Status Invalid(absl::string_view field, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat("CLIPTextConfig.", field, ": ", problem));
}

torch::nn::LayerNorm MakeLayerNorm(const CLIPTextConfig& config) {
  return torch::nn::LayerNorm(
      torch::nn::LayerNormOptions({config.hidden_size}).eps(config.layer_norm_eps));
}

}  // namespace

CLIPTextConfig CLIPTextConfig::StableDiffusion15() {
  CLIPTextConfig config;
  config.vocab_size = 49408;
  config.hidden_size = 768;
  config.intermediate_size = 3072;
  config.num_hidden_layers = 12;
  config.num_attention_heads = 12;
  config.max_position_embeddings = 77;
  config.hidden_act = "quick_gelu";
  config.layer_norm_eps = 1e-5;
  return config;
}

CLIPTextConfig CLIPTextConfig::Tiny() {
  CLIPTextConfig config;
  config.vocab_size = 1000;
  config.hidden_size = 32;
  config.intermediate_size = 64;
  config.num_hidden_layers = 2;
  config.num_attention_heads = 4;
  config.max_position_embeddings = 16;
  return config;
}

absl::Status ValidateCLIPTextConfig(const CLIPTextConfig& config) {
  if (config.vocab_size <= 0) return Invalid("vocab_size", "must be positive");
  if (config.hidden_size <= 0 || config.num_attention_heads <= 0 ||
      config.hidden_size % config.num_attention_heads != 0) {
    return Invalid("hidden_size",
                   absl::StrCat(config.hidden_size, " does not split into num_attention_heads ",
                                config.num_attention_heads));
  }
  if (config.intermediate_size <= 0) {
    return Invalid("intermediate_size", "must be positive");
  }
  if (config.num_hidden_layers <= 0) {
    return Invalid("num_hidden_layers", "must be positive");
  }
  if (config.max_position_embeddings <= 0) {
    return Invalid("max_position_embeddings", "must be positive");
  }
  if (config.hidden_act != "quick_gelu" && config.hidden_act != "gelu") {
    return Invalid("hidden_act",
                   absl::StrCat("unsupported \"", config.hidden_act, "\" (quick_gelu or gelu)"));
  }
  return absl::OkStatus();
}

CLIPTextEmbeddingsImpl::CLIPTextEmbeddingsImpl(const CLIPTextConfig& config)
    : token_embedding(register_module("token_embedding",
                                      torch::nn::Embedding(config.vocab_size, config.hidden_size))),
      position_embedding(register_module(
          "position_embedding",
          torch::nn::Embedding(config.max_position_embeddings, config.hidden_size))),
      position_ids(register_buffer(
          "position_ids",
          torch::arange(config.max_position_embeddings, torch::kLong).unsqueeze(0))) {}

torch::Tensor CLIPTextEmbeddingsImpl::forward(const torch::Tensor& input_ids) {
  const int64_t length = input_ids.size(-1);
  TORCH_CHECK(length <= position_ids.size(1), "CLIPTextModel: ", length,
              " tokens exceed max_position_embeddings ", position_ids.size(1));
  // LibTorch's Module::to(dtype), unlike PyTorch's, casts integer buffers
  // too, so a half-precision model holds half position_ids: cast back.
  torch::Tensor tokens = token_embedding(input_ids);
  for (const auto& [id, make_row] : token_overrides) {
    tokens = torch::where((input_ids == id).unsqueeze(-1), make_row().to(tokens.dtype()), tokens);
  }
  return tokens + position_embedding(position_ids.slice(1, 0, length).to(torch::kLong));
}

CLIPAttentionImpl::CLIPAttentionImpl(const CLIPTextConfig& config)
    : num_heads_(config.num_attention_heads) {
  const int64_t dim = config.hidden_size;
  q_proj = register_module("q_proj", torch::nn::Linear(dim, dim));
  k_proj = register_module("k_proj", torch::nn::Linear(dim, dim));
  v_proj = register_module("v_proj", torch::nn::Linear(dim, dim));
  out_proj = register_module("out_proj", torch::nn::Linear(dim, dim));
}

torch::Tensor CLIPAttentionImpl::forward(const torch::Tensor& hidden_states,
                                         const torch::Tensor& mask) {
  const int64_t batch = hidden_states.size(0);
  const int64_t length = hidden_states.size(1);
  const auto split = [&](const torch::Tensor& x) {
    return x.view({batch, length, num_heads_, -1}).transpose(1, 2);
  };
  const torch::Tensor out =
      ScaledDotProductAttention(split(q_proj(hidden_states)), split(k_proj(hidden_states)),
                                split(v_proj(hidden_states)), mask);
  return out_proj(out.transpose(1, 2).reshape({batch, length, -1}));
}

CLIPMLPImpl::CLIPMLPImpl(const CLIPTextConfig& config)
    : fc1(register_module("fc1", torch::nn::Linear(config.hidden_size, config.intermediate_size))),
      fc2(register_module("fc2", torch::nn::Linear(config.intermediate_size, config.hidden_size))),
      quick_gelu_(config.hidden_act == "quick_gelu") {}

torch::Tensor CLIPMLPImpl::forward(const torch::Tensor& hidden_states) {
  torch::Tensor x = fc1(hidden_states);
  x = quick_gelu_ ? x * torch::sigmoid(1.702 * x) : torch::gelu(x);
  return fc2(x);
}

CLIPEncoderLayerImpl::CLIPEncoderLayerImpl(const CLIPTextConfig& config)
    : self_attn(register_module("self_attn", CLIPAttention(config))),
      layer_norm1(register_module("layer_norm1", MakeLayerNorm(config))),
      mlp(register_module("mlp", CLIPMLP(config))),
      layer_norm2(register_module("layer_norm2", MakeLayerNorm(config))) {}

torch::Tensor CLIPEncoderLayerImpl::forward(const torch::Tensor& hidden_states,
                                            const torch::Tensor& mask) {
  const torch::Tensor x = hidden_states + self_attn(Normalize(layer_norm1, hidden_states), mask);
  return x + mlp(Normalize(layer_norm2, x));
}

CLIPEncoderImpl::CLIPEncoderImpl(const CLIPTextConfig& config) {
  for (int64_t i = 0; i < config.num_hidden_layers; ++i) {
    layers.emplace_back(config);
  }
  RegisterModuleList(*this, "layers", layers);
}

torch::Tensor CLIPEncoderImpl::forward(const torch::Tensor& hidden_states,
                                       const torch::Tensor& mask) {
  torch::Tensor x = hidden_states;
  for (CLIPEncoderLayer& layer : layers) x = layer(x, mask);
  return x;
}

CLIPTextTransformerImpl::CLIPTextTransformerImpl(const CLIPTextConfig& config)
    : embeddings(register_module("embeddings", CLIPTextEmbeddings(config))),
      encoder(register_module("encoder", CLIPEncoder(config))),
      final_layer_norm(register_module("final_layer_norm", MakeLayerNorm(config))) {}

torch::Tensor CLIPTextTransformerImpl::forward(const torch::Tensor& input_ids) {
  TORCH_CHECK(input_ids.dim() == 2,
              "CLIPTextModel: input_ids must be [B, L], "
              "got ",
              input_ids.sizes());
  const int64_t length = input_ids.size(1);
  // True where query i may attend to key j (j <= i).
  const torch::Tensor causal_mask =
      torch::ones({length, length},
                  torch::TensorOptions().dtype(torch::kBool).device(input_ids.device()))
          .tril();
  return Normalize(final_layer_norm, encoder(embeddings(input_ids), causal_mask));
}

CLIPTextModelImpl::CLIPTextModelImpl(const CLIPTextConfig& config) : config_(config) {
  const absl::Status valid = ValidateCLIPTextConfig(config);
  TORCH_CHECK(valid.ok(), std::string(valid.message()));
  text_model = register_module("text_model", CLIPTextTransformer(config));
}

torch::Tensor CLIPTextModelImpl::forward(const torch::Tensor& input_ids) {
  return text_model(input_ids);
}

absl::StatusOr<CLIPTextModel> CreateCLIPTextModel(const CLIPTextConfig& config) {
  if (absl::Status valid = ValidateCLIPTextConfig(config); !valid.ok()) {
    return valid;
  }
  return RunTorch([&] { return CLIPTextModel(config); });
}

}  // namespace stamina::core
