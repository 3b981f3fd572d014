// File: core/adapters/concept_adapter.h
//
// The trainable parameters of one concept on one model, attached while it
// trains: a LowRankAdapter on every target layer (low_rank_adapter.h) and a
// ConceptToken whose row replaces the token's embedding (concept_token.h).
// Creating one attaches it: the model then computes W x + ΔW x and embeds
// the token as Row(). Destroying it (or Detach()) restores the model
// exactly; Export() captures an AdapterArtifact to fold
// (adapter_artifact.h). Regularization() is the method's extra loss:
// C-LoRA's λ Σ_l ‖(W_{t-1} − W_0) ⊙ ΔW_l‖²_F, STAMINA's sparsity and
// overlap terms, and the context penalty (adapter_config.h).
//
// Not thread-safe; holds the model by reference and must not outlive it.
// One ConceptAdapter per model at a time.
#ifndef STAMINA_CORE_ADAPTERS_CONCEPT_ADAPTER_H_
#define STAMINA_CORE_ADAPTERS_CONCEPT_ADAPTER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/adapters/adapted_layers.h"
#include "core/adapters/adapter_artifact.h"
#include "core/adapters/adapter_config.h"
#include "core/adapters/concept_token.h"
#include "core/adapters/low_rank_adapter.h"
#include "core/pipelines/diffusion_model.h"

namespace stamina::core {

struct ConceptAdapterOptions {
  AdapterConfig config;
  std::string token;  // "<anna>"; added to the tokenizer if new
  uint64_t seed = 0;  // initialization of every factor and of the token
  // With config.context != none: the prompts whose encoder outputs keep
  // their K/V (PreservedPrompts in context_preservation.h); empty means
  // {""} alone.
  std::vector<std::string> preserved_prompts;
};

// The parts of Regularization(), for logging (unweighted).
struct RegularizationTerms {
  double forgetting = 0;  // Σ_l ‖P_l ⊙ ΔW_l‖²_F
  double sparsity = 0;    // the sparsity measure (MaskSparsity)
  double overlap = 0;     // mean over layers of mean(C ⊙ σ(G/τ))
  double context = 0;     // Σ_l mean_c ‖ΔW_l c‖² / mean_c ‖W_l c‖²
};

class ConceptAdapter {
 public:
  // INVALID_ARGUMENT for a bad config or token; FAILED_PRECONDITION when
  // another adapter is attached, the embedding table is full, or C-LoRA
  // regularization needs W_0 of a layer `state` does not cover.
  static absl::StatusOr<std::unique_ptr<ConceptAdapter>> Create(
      DiffusionModel& model, const ContinualState& state,
      const ConceptAdapterOptions& options);

  ~ConceptAdapter();
  ConceptAdapter(const ConceptAdapter&) = delete;
  ConceptAdapter& operator=(const ConceptAdapter&) = delete;

  // Restores the model (idempotent).
  void Detach();

  // Parameter groups, for optimizers with their own learning rates.
  std::vector<torch::Tensor> LoraParameters() const;
  std::vector<torch::Tensor> MaskParameters() const;  // empty without a mask
  std::vector<torch::Tensor> TokenParameters() const;

  // Steps done / steps of the training, for the schedules of the config
  // (sparsity_warmup); 1 until set.
  void set_training_fraction(double fraction) { training_fraction_ = fraction; }

  // The weighted extra loss (a scalar with autograd; 0 for plain LoRA).
  absl::StatusOr<torch::Tensor> Regularization(RegularizationTerms* terms = nullptr);

  // The fraction of ones in the hard mask each layer would fold now (1 for
  // unmasked methods).
  std::map<std::string, double> MaskDensity() const;

  // The trained state, to fold and store. Detached copies.
  absl::StatusOr<AdapterArtifact> Export(
      const std::map<std::string, std::string>& metadata) const;

  int64_t token_id() const { return token_id_; }
  // Directions of the text encoder's output space the adapters may not
  // use (context = project), 0 otherwise.
  int64_t context_rank() const { return context_rank_; }
  const AdapterConfig& config() const { return options_.config; }
  int64_t trainable_parameter_count() const;

 private:
  ConceptAdapter(DiffusionModel& model, ConceptAdapterOptions options);

  DiffusionModel& model_;
  ConceptAdapterOptions options_;
  std::vector<AdaptedLayer> layers_;
  std::vector<LowRankAdapter> adapters_;
  // P_l = W_{t-1} − W_0 per layer, for C-LoRA's penalty (else empty).
  std::vector<torch::Tensor> previous_deltas_;
  mutable ConceptToken token_{nullptr};  // Row() is not const in LibTorch
  int64_t token_id_ = 0;
  int64_t context_rank_ = 0;
  double training_fraction_ = 1;
  bool attached_ = false;
};

}  // namespace stamina::core

#endif  // STAMINA_CORE_ADAPTERS_CONCEPT_ADAPTER_H_
