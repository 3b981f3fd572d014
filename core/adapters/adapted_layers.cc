#include "core/adapters/adapted_layers.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace stamina::core {
namespace {

// The Linear and adapter slot of `projection` ("to_k", "to_out.0").
std::pair<torch::nn::Linear, std::shared_ptr<LinearAdapter>*> Projection(
    AttentionImpl& attention, absl::string_view projection) {
  if (projection == "to_q") return {attention.to_q, &attention.to_q_adapter};
  if (projection == "to_k") return {attention.to_k, &attention.to_k_adapter};
  if (projection == "to_v") return {attention.to_v, &attention.to_v_adapter};
  return {attention.to_out_0, &attention.to_out_adapter};
}

}  // namespace

absl::StatusOr<std::vector<AdaptedLayer>> FindAdaptedLayers(
    UNet2DConditionModel& unet, const std::vector<std::string>& targets) {
  std::vector<AdaptedLayer> layers;
  for (const std::string& target : targets) {
    // "attn2.to_k" → attention "attn2", projection "to_k".
    const std::vector<std::string> parts =
        absl::StrSplit(target, absl::MaxSplits('.', 1));
    if (parts.size() != 2) {
      return absl::InvalidArgumentError(
          absl::StrCat("targets: \"", target, "\" is not <attention>.<projection>"));
    }
    int found = 0;
    for (const auto& item : unet->named_modules()) {
      const std::string& name = item.key();
      if (name != parts[0] && !absl::EndsWith(name, absl::StrCat(".", parts[0]))) {
        continue;
      }
      std::shared_ptr<AttentionImpl> attention =
          std::dynamic_pointer_cast<AttentionImpl>(item.value());
      if (!attention) continue;
      auto [linear, slot] = Projection(*attention, parts[1]);
      layers.push_back({.name = absl::StrCat(name, ".", parts[1]),
                        .linear = linear,
                        .attention = attention,
                        .slot = slot});
      ++found;
    }
    if (found == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("targets: \"", target, "\" matches no UNet module"));
    }
  }
  return layers;
}

absl::StatusOr<ContinualState> ContinualState::Create(
    UNet2DConditionModel& unet, const std::vector<std::string>& targets) {
  ContinualState state;
  absl::Status covered = state.Cover(unet, targets);
  if (!covered.ok()) return covered;
  return state;
}

absl::Status ContinualState::Cover(UNet2DConditionModel& unet,
                                   const std::vector<std::string>& targets) {
  auto layers = FindAdaptedLayers(unet, targets);
  if (!layers.ok()) return layers.status();
  torch::NoGradGuard no_grad;
  for (const AdaptedLayer& layer : *layers) {
    if (base_weights_.count(layer.name) > 0) continue;
    base_weights_[layer.name] = layer.linear->weight.detach().to(torch::kFloat32).clone();
  }
  return absl::OkStatus();
}

absl::StatusOr<torch::Tensor> ContinualState::base_weight(
    const std::string& layer) const {
  const auto it = base_weights_.find(layer);
  if (it == base_weights_.end()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "layer ", layer, " was not adapted when this lineage started"));
  }
  return it->second;
}

torch::Tensor ContinualState::cumulative_mask(const std::string& layer) const {
  const auto it = cumulative_masks_.find(layer);
  return it == cumulative_masks_.end() ? torch::Tensor() : it->second;
}

void ContinualState::AddToMask(const std::string& layer, const torch::Tensor& mask) {
  torch::Tensor on = mask.to(torch::kBool);
  auto [it, inserted] = cumulative_masks_.emplace(layer, on);
  if (!inserted) it->second = it->second.logical_or(on);
}

}  // namespace stamina::core
