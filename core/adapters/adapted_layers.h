// File: core/adapters/adapted_layers.h
//
// Where adapters attach, and what a model lineage remembers between concepts:
//   FindAdaptedLayers  the UNet projections named by a config's targets
//                      ("attn2.to_k" matches every "<path>.attn2.to_k"),
//                      in the UNet's module order, with the slot of their
//                      Attention that carries a LinearAdapter;
//   ContinualState     per adapted layer, the base weight W_0 (C-LoRA's
//                      P = W_{t-1} − W_0) and the cumulative hard mask C of
//                      the concepts folded so far (STAMINA's overlap and HAT
//                      switches). A lineage's state is rebuilt by replaying
//                      its adapter artifacts onto the base (adapter_artifact.h).
//
// Thread-compatible. AdaptedLayer holds shared references into the model's
// modules; it must not outlive the model's use.
#ifndef STAMINA_CORE_ADAPTERS_ADAPTED_LAYERS_H_
#define STAMINA_CORE_ADAPTERS_ADAPTED_LAYERS_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/models/unet_2d_condition.h"
#include "core/nn/attention.h"
#include "torch/torch.h"

namespace stamina::core {

struct AdaptedLayer {
  std::string name;  // e.g. "down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k"
  torch::nn::Linear linear{nullptr};
  std::shared_ptr<AttentionImpl> attention;
  std::shared_ptr<LinearAdapter>* slot = nullptr;  // inside *attention
};

// INVALID_ARGUMENT when a target matches no module.
absl::StatusOr<std::vector<AdaptedLayer>> FindAdaptedLayers(
    UNet2DConditionModel& unet, const std::vector<std::string>& targets);

class ContinualState {
 public:
  // Snapshots W_0 of the layers `targets` names in `unet` (the base model,
  // before any concept is folded).
  static absl::StatusOr<ContinualState> Create(UNet2DConditionModel& unet,
                                               const std::vector<std::string>& targets);

  // Snapshots, as W_0, the layers of `targets` the state does not cover yet.
  // Correct only while those layers still hold the base weights, i.e. no
  // concept folded so far targeted them: a lineage's folds then cover each
  // layer just before the first fold that touches it (worker::FoldLineage),
  // without reading every artifact first.
  absl::Status Cover(UNet2DConditionModel& unet, const std::vector<std::string>& targets);

  // W_0 of `layer`; FAILED_PRECONDITION when the state does not cover it.
  absl::StatusOr<torch::Tensor> base_weight(const std::string& layer) const;
  // C of `layer` (bool [out, in]); undefined before any masked fold.
  torch::Tensor cumulative_mask(const std::string& layer) const;
  // C ← C ∨ mask.
  void AddToMask(const std::string& layer, const torch::Tensor& mask);

  int concepts_folded() const { return concepts_folded_; }
  void CountFold() { ++concepts_folded_; }

 private:
  std::map<std::string, torch::Tensor> base_weights_;
  std::map<std::string, torch::Tensor> cumulative_masks_;
  int concepts_folded_ = 0;
};

}  // namespace stamina::core

#endif  // STAMINA_CORE_ADAPTERS_ADAPTED_LAYERS_H_
