// File: core/adapters/adapter_artifact.h
//
// What one trained concept leaves behind, and the fold that applies it. A
// model version is its base model plus the ordered artifacts of its lineage;
// replaying them onto the base with FoldAdapterArtifact reproduces the
// trained model bit for bit (the trainer folds through the same function).
//
// File format: safetensors (float32) with
//   tensors   token_row [d]; <layer>.lora_A, <layer>.lora_B and, for a
//             masked STAMINA adapter, <layer>.mask_U, .mask_V, .mask_b;
//             <layer>.context_basis [in, k] on the layers that kept their
//             context (context = project); optionally drift_reference
//             uint8 [n, h, w, 3]
//   metadata  format = "stamina-adapter/1", config (AdapterConfig JSON),
//             token ("<anna>"), token_id, plus the caller's entries (seed,
//             steps, base digest, ...); with the drift reference,
//             drift_reference = its JSON (prompts, seed, images_per_prompt,
//             steps, guidance).
//
// Thread-compatible.
#ifndef STAMINA_CORE_ADAPTERS_ADAPTER_ARTIFACT_H_
#define STAMINA_CORE_ADAPTERS_ADAPTER_ARTIFACT_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/adapters/adapted_layers.h"
#include "core/adapters/adapter_config.h"
#include "core/adapters/low_rank_adapter.h"
#include "core/image.h"
#include "core/pipelines/diffusion_model.h"

namespace stamina::core {

inline constexpr char kAdapterArtifactFormat[] = "stamina-adapter/1";

// Samples of the concept drawn by the version that learned it, stored with
// its artifact so that every later version of the lineage can measure how
// far the concept drifted since (core/pipelines/concept_drift.h). Artifacts
// written before it existed have none.
struct DriftReference {
  std::vector<std::string> prompts;  // as sampled, the token filled in
  int64_t seed = 0;
  int images_per_prompt = 0;
  int steps = 0;
  float guidance = 0;
  // prompts.size() * images_per_prompt images of one size, prompt-major,
  // thumbnails (no side over 64 pixels).
  std::vector<Image> images;
};

struct AdapterArtifact {
  AdapterConfig config;
  std::string token;     // "<anna>"
  int64_t token_id = 0;  // its row in the text encoder's embedding table
  torch::Tensor token_row;                     // [d], the folded embedding
  std::map<std::string, LayerFactors> layers;  // by adapted layer name
  std::map<std::string, std::string> metadata;
  std::optional<DriftReference> drift_reference;
};

absl::StatusOr<std::string> SerializeAdapterArtifact(const AdapterArtifact& artifact);
// DATA_LOSS for anything malformed: bad safetensors, wrong format, missing
// or mis-shaped tensors, a config that does not parse.
absl::StatusOr<AdapterArtifact> ParseAdapterArtifact(absl::string_view bytes);

// Folds `artifact` into `model`: W ← W + FoldedDelta for every layer, the
// token's embedding row ← token_row (registering the token with the
// tokenizer if needed, at the same id), C ← C ∨ FoldMask in `state`.
// FAILED_PRECONDITION when the token would get another id (artifacts
// replayed out of order), the embedding table has no row for it, or an
// adapter is still attached to a target layer; DATA_LOSS when the artifact
// does not fit the model's layers.
absl::Status FoldAdapterArtifact(const AdapterArtifact& artifact,
                                 DiffusionModel& model, ContinualState& state);

// The id `token` has in `model`'s tokenizer, adding it if absent;
// FAILED_PRECONDITION when the text encoder has no embedding row left.
absl::StatusOr<int64_t> EnsureConceptToken(DiffusionModel& model,
                                           const std::string& token);

}  // namespace stamina::core

#endif  // STAMINA_CORE_ADAPTERS_ADAPTER_ARTIFACT_H_
