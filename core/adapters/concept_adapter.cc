#include "core/adapters/concept_adapter.h"

#include <algorithm>
#include <utility>

#include "ATen/CPUGeneratorImpl.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "core/adapters/context_preservation.h"
#include "core/tokenizers/tokenizer.h"
#include "core/torch_status.h"

namespace stamina::core {
namespace {

bool UsesForgettingPenalty(const AdapterConfig& config) {
  return config.method == AdapterMethod::kCLora ||
         (config.method == AdapterMethod::kStamina && config.clora_regularization);
}

// Whether `layer` reads the text encoder's output (a cross-attention K/V).
bool ReadsTextContext(const AdaptedLayer& layer) {
  return absl::EndsWith(layer.name, "attn2.to_k") || absl::EndsWith(layer.name, "attn2.to_v");
}

// The preserved context of every layer (context_preservation.h); all
// undefined for context = none and for layers that do not read text.
absl::StatusOr<std::vector<LayerContext>> LayerContexts(DiffusionModel& model,
                                                        const std::vector<AdaptedLayer>& layers,
                                                        const ConceptAdapterOptions& options) {
  const AdapterConfig& config = options.config;
  std::vector<LayerContext> contexts(layers.size());
  if (config.context == ContextPreservation::kNone) return contexts;
  const std::vector<std::string> prompts =
      options.preserved_prompts.empty() ? std::vector<std::string>{""} : options.preserved_prompts;
  STAMINA_ASSIGN_OR_RETURN(torch::Tensor outputs, ContextOutputs(model, prompts));
  STAMINA_RETURN_IF_ERROR(RunTorchVoid([&] {
    torch::NoGradGuard no_grad;
    const torch::Tensor basis = config.context == ContextPreservation::kProject
                                    ? ContextBasis(outputs, config.context_energy)
                                    : torch::Tensor();
    for (size_t i = 0; i < layers.size(); ++i) {
      const torch::Tensor& weight = layers[i].linear->weight;
      if (!ReadsTextContext(layers[i]) || weight.size(1) != outputs.size(1)) continue;
      if (basis.defined()) {
        contexts[i].basis = basis;
      } else {
        contexts[i].outputs = outputs;
        contexts[i].reference =
            std::max(1e-12, torch::matmul(outputs, weight.detach().to(torch::kFloat32).t())
                                .pow(2)
                                .sum(1)
                                .mean()
                                .item<double>());
      }
    }
  }));
  return contexts;
}

// The id of `word` in the base vocabulary, -1 for an empty word, or
// INVALID_ARGUMENT when it is not exactly one known word-piece.
absl::StatusOr<int64_t> InitializerId(const Tokenizer& tokenizer, const std::string& word) {
  if (word.empty()) return -1;
  STAMINA_ASSIGN_OR_RETURN(const std::vector<int32_t> ids, tokenizer.Encode(word));
  std::vector<int32_t> pieces;
  for (const int32_t id : ids) {
    if (id != tokenizer.bos_id() && id != tokenizer.eos_id() && id != tokenizer.pad_id()) {
      pieces.push_back(id);
    }
  }
  const auto refused = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("token_initializer: \"", word, "\" ", why,
                     " (it must be one word of the base model's vocabulary)"));
  };
  if (pieces.size() != 1) {
    return refused(absl::StrCat("is ", pieces.size(), " tokens"));
  }
  absl::StatusOr<std::string> spelled = tokenizer.Decode(pieces);
  if (pieces[0] >= tokenizer.base_vocab_size() || !spelled.ok() ||
      absl::StripAsciiWhitespace(*spelled) != absl::AsciiStrToLower(word)) {
    return refused("is not in the vocabulary");
  }
  return pieces[0];
}

}  // namespace

ConceptAdapter::ConceptAdapter(DiffusionModel& model, ConceptAdapterOptions options)
    : model_(model), options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<ConceptAdapter>> ConceptAdapter::Create(
    DiffusionModel& model, const ContinualState& state, const ConceptAdapterOptions& options) {
  STAMINA_RETURN_IF_ERROR(ValidateAdapterConfig(options.config));
  STAMINA_RETURN_IF_ERROR(ValidateConceptToken(options.token)) << "token";
  auto& embeddings = model.text_encoder->text_model->embeddings;
  if (!embeddings->token_overrides.empty()) {
    return absl::FailedPreconditionError("another concept adapter is attached");
  }
  std::unique_ptr<ConceptAdapter> adapter(new ConceptAdapter(model, options));
  const AdapterConfig& config = adapter->options_.config;
  STAMINA_ASSIGN_OR_RETURN(adapter->layers_, FindAdaptedLayers(model.unet, config.targets));
  for (const AdaptedLayer& layer : adapter->layers_) {
    if (*layer.slot) {
      return absl::FailedPreconditionError(
          absl::StrCat("another adapter is attached to ", layer.name));
    }
    if (UsesForgettingPenalty(config)) {
      STAMINA_ASSIGN_OR_RETURN(torch::Tensor base, state.base_weight(layer.name));
      adapter->previous_deltas_.push_back(
          RunTorch([&] {
            torch::NoGradGuard no_grad;
            return layer.linear->weight.detach().to(torch::kFloat32) - base;
          }).value());
    }
  }
  STAMINA_ASSIGN_OR_RETURN(const int64_t initializer_id,
                           InitializerId(*model.tokenizer, config.token_initializer));
  STAMINA_ASSIGN_OR_RETURN(adapter->token_id_, EnsureConceptToken(model, options.token));
  STAMINA_ASSIGN_OR_RETURN(std::vector<LayerContext> contexts,
                           LayerContexts(model, adapter->layers_, adapter->options_));
  for (const LayerContext& context : contexts) {
    if (context.basis.defined()) adapter->context_rank_ = context.basis.size(1);
  }
  STAMINA_RETURN_IF_ERROR(RunTorchVoid([&] {
    at::Generator generator = at::detail::createCPUGenerator(options.seed);
    at::Generator mask_generator = at::detail::createCPUGenerator(options.seed ^ 0x5DEECE66DULL);
    for (size_t i = 0; i < adapter->layers_.size(); ++i) {
      const AdaptedLayer& layer = adapter->layers_[i];
      const torch::Tensor& weight = layer.linear->weight;
      // Initialized on the CPU from the seeded CPU generators, then moved
      // to the layer's device (core/compute_device.h).
      AdapterConfig layer_config = config;
      layer_config.rank = RankOf(config, layer.name);
      adapter->adapters_.emplace_back(weight.size(1), weight.size(0), layer_config,
                                      state.cumulative_mask(layer.name), contexts[i], generator,
                                      mask_generator);
      adapter->adapters_.back()->to(weight.device());
    }
    adapter->token_ = ConceptToken(config.token, config.token_mlp_hidden, config.token_max_rms,
                                   embeddings->token_embedding->weight.detach(),
                                   model.tokenizer->base_vocab_size(), initializer_id, generator);
    adapter->token_->to(ModelDevice(model));
  }));
  for (size_t i = 0; i < adapter->layers_.size(); ++i) {
    *adapter->layers_[i].slot = adapter->adapters_[i].ptr();
  }
  embeddings->token_overrides[adapter->token_id_] = [token = adapter->token_]() mutable {
    return token->Row();
  };
  adapter->attached_ = true;
  return adapter;
}

ConceptAdapter::~ConceptAdapter() { Detach(); }

void ConceptAdapter::Detach() {
  if (!attached_) return;
  for (AdaptedLayer& layer : layers_) layer.slot->reset();
  model_.text_encoder->text_model->embeddings->token_overrides.clear();
  attached_ = false;
}

std::vector<torch::Tensor> ConceptAdapter::LoraParameters() const {
  std::vector<torch::Tensor> parameters;
  for (const LowRankAdapter& adapter : adapters_) {
    parameters.push_back(adapter->lora_A);
    parameters.push_back(adapter->lora_B);
  }
  return parameters;
}

std::vector<torch::Tensor> ConceptAdapter::MaskParameters() const {
  std::vector<torch::Tensor> parameters;
  for (const LowRankAdapter& adapter : adapters_) {
    if (!adapter->has_mask()) continue;
    parameters.push_back(adapter->mask_U);
    parameters.push_back(adapter->mask_V);
    parameters.push_back(adapter->mask_b);
  }
  return parameters;
}

std::vector<torch::Tensor> ConceptAdapter::TokenParameters() const { return token_->parameters(); }

int64_t ConceptAdapter::trainable_parameter_count() const {
  int64_t count = 0;
  for (const auto& group : {LoraParameters(), MaskParameters(), TokenParameters()}) {
    for (const torch::Tensor& p : group) count += p.numel();
  }
  return count;
}

absl::StatusOr<torch::Tensor> ConceptAdapter::Regularization(RegularizationTerms* terms) {
  const AdapterConfig& config = options_.config;
  return RunTorch([&] {
    const torch::TensorOptions on_device = torch::TensorOptions().device(ModelDevice(model_));
    torch::Tensor total = torch::zeros({}, on_device);
    RegularizationTerms local;
    if (!previous_deltas_.empty()) {
      torch::Tensor forgetting = torch::zeros({}, on_device);
      for (size_t i = 0; i < adapters_.size(); ++i) {
        forgetting = forgetting + adapters_[i]->ForgettingPenalty(previous_deltas_[i]);
      }
      local.forgetting = forgetting.item<double>();
      total = total + config.clora_lambda * forgetting;
    }
    if (config.context == ContextPreservation::kPenalize) {
      torch::Tensor context = torch::zeros({}, on_device);
      for (const LowRankAdapter& adapter : adapters_) {
        if (torch::Tensor penalty = adapter->ContextPenalty(); penalty.defined()) {
          context = context + penalty;
        }
      }
      local.context = context.item<double>();
      total = total + config.context_weight * context;
    }
    if (UsesMask(config)) {
      torch::Tensor sparsity = torch::zeros({}, on_device);
      torch::Tensor overlap = torch::zeros({}, on_device);
      for (const LowRankAdapter& adapter : adapters_) {
        const torch::Tensor soft = adapter->SoftMask();
        const torch::Tensor& cumulative = adapter->cumulative_mask();
        if (config.sparsity == MaskSparsity::kHat && cumulative.defined()) {
          const torch::Tensor free = cumulative.logical_not().to(torch::kFloat32);
          sparsity = sparsity + (soft * free).sum() / free.sum().clamp_min(1);
        } else {
          sparsity = sparsity + soft.mean();
        }
        if (cumulative.defined()) {
          overlap = overlap + (soft * cumulative.to(torch::kFloat32)).mean();
        }
      }
      const double layers = static_cast<double>(adapters_.size());
      sparsity = sparsity / layers;
      overlap = overlap / layers;
      local.sparsity = sparsity.item<double>();
      local.overlap = overlap.item<double>();
      if (config.sparsity != MaskSparsity::kNone) {
        total =
            total + config.sparsity_weight * SparsityScale(config, training_fraction_) * sparsity;
      }
      if (config.overlap == MaskOverlap::kPenalize) {
        total = total + config.overlap_weight * overlap;
      }
    }
    if (terms) *terms = local;
    return total;
  });
}

std::map<std::string, double> ConceptAdapter::MaskDensity() const {
  std::map<std::string, double> density;
  for (size_t i = 0; i < adapters_.size(); ++i) {
    const torch::Tensor mask =
        FoldMask(options_.config, adapters_[i]->Factors(), adapters_[i]->cumulative_mask());
    density[layers_[i].name] = mask.defined() ? mask.mean().item<double>() : 1.0;
  }
  return density;
}

absl::StatusOr<AdapterArtifact> ConceptAdapter::Export(
    const std::map<std::string, std::string>& metadata) const {
  AdapterArtifact artifact;
  artifact.config = options_.config;
  artifact.token = options_.token;
  artifact.token_id = token_id_;
  artifact.metadata = metadata;
  artifact.metadata["seed"] = absl::StrCat(options_.seed);
  STAMINA_RETURN_IF_ERROR(RunTorchVoid([&] {
    torch::NoGradGuard no_grad;
    // Artifacts hold CPU tensors whatever the training device.
    artifact.token_row = token_->Row().detach().to(torch::kCPU).clone();
    for (size_t i = 0; i < adapters_.size(); ++i) {
      artifact.layers[layers_[i].name] = adapters_[i]->Factors().To(torch::kCPU);
    }
  }));
  return artifact;
}

}  // namespace stamina::core
