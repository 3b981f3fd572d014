#include "bench/continual/method_names.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace stamina::bench {
namespace {

// "vrank8" with prefix "vrank" → 8: the number after `prefix`, or nullopt.
std::optional<double> NumberAfter(const std::string& variant, absl::string_view prefix) {
  double value = 0;
  if (!absl::StartsWith(variant, prefix) || variant.size() == prefix.size() ||
      !absl::SimpleAtod(variant.substr(prefix.size()), &value)) {
    return std::nullopt;
  }
  return value;
}

bool PositiveInt(std::optional<double> value) {
  return value && *value >= 1 && *value == static_cast<int>(*value);
}

}  // namespace

absl::StatusOr<MethodSpec> MethodFromName(const std::string& name, const MethodDefaults& d) {
  core::ConceptTrainingOptions training;
  training.steps = d.steps;
  training.batch_size = d.batch;
  training.lora_learning_rate = d.lora_lr;
  training.mask_learning_rate = d.mask_lr;
  training.token_learning_rate = d.token_lr;
  const std::string base = name.substr(0, name.find('-'));
  absl::StatusOr<core::AdapterMethod> method = core::ParseAdapterMethod(base);
  if (!method.ok()) return method.status();
  core::AdapterConfig config = core::DefaultAdapterConfig(*method);
  config.rank = d.rank;
  config.clora_lambda = d.clora_lambda;
  config.sparsity_weight = d.sparsity_weight;
  // Switches after the first '-', joined by '+': "stamina-project+exclusive".
  bool class_word_init = false;
  std::optional<double> early_stop_gain;
  const std::string variants = name.size() > base.size() ? name.substr(base.size() + 1) : "";
  for (const std::string& variant :
       std::vector<std::string>(absl::StrSplit(variants, '+', absl::SkipEmpty()))) {
    const bool stamina = *method == core::AdapterMethod::kStamina;
    if (variant == "nomask" && stamina) {
      config.mask = false;
    } else if (variant == "direct" && stamina) {
      config.token = core::TokenKind::kDirect;
    } else if (variant == "soft" && stamina) {
      config.hard_mask = false;
    } else if (variant == "clora" && stamina) {
      config.clora_regularization = true;
    } else if (variant == "half") {
      training.steps = std::max(1, training.steps / 2);
    } else if (variant == "noctx") {
      config.context = core::ContextPreservation::kNone;
    } else if (variant == "project") {
      config.context = core::ContextPreservation::kProject;
    } else if (variant == "penalize") {
      config.context = core::ContextPreservation::kPenalize;
    } else if (variant == "free" && stamina) {
      config.overlap = core::MaskOverlap::kFree;
    } else if (variant == "exclusive" && stamina) {
      config.overlap = core::MaskOverlap::kExclusive;
    } else if (variant == "overlap" && stamina) {
      config.overlap = core::MaskOverlap::kPenalize;
    } else if (variant == "rms" && stamina) {
      config.token_max_rms = 2;
    } else if (variant == "norms" && stamina) {
      config.token_max_rms = 0;
    } else if (absl::StartsWith(variant, "rms") && stamina &&
               absl::SimpleAtod(variant.substr(3), &config.token_max_rms) &&
               config.token_max_rms > 0) {
      // "rms4": the token rows held to rms <= 4.
    } else if (variant == "early") {
      early_stop_gain = 0.02;
    } else if (std::optional<double> gain = NumberAfter(variant, "early"); gain && *gain > 0) {
      early_stop_gain = *gain / 100;  // "early5": stop below a 5% gain
    } else if (variant == "warmup" && stamina) {
      config.sparsity_warmup = 0.5;
    } else if (std::optional<double> warmup = NumberAfter(variant, "warmup");
               warmup && *warmup > 0 && *warmup <= 1 && stamina) {
      config.sparsity_warmup = *warmup;
    } else if (variant == "hat" && stamina) {
      config.sparsity = core::MaskSparsity::kHat;
    } else if (variant == "nosparsity" && stamina) {
      config.sparsity = core::MaskSparsity::kNone;
    } else if (std::optional<double> rank = NumberAfter(variant, "vrank"); PositiveInt(rank)) {
      config.target_ranks["attn2.to_v"] = static_cast<int>(*rank);
    } else if (std::optional<double> rank = NumberAfter(variant, "krank"); PositiveInt(rank)) {
      config.target_ranks["attn2.to_k"] = static_cast<int>(*rank);
    } else if (std::optional<double> rank = NumberAfter(variant, "rank"); PositiveInt(rank)) {
      config.rank = static_cast<int>(*rank);
    } else if (std::optional<double> width = NumberAfter(variant, "mlp");
               PositiveInt(width) && stamina) {
      config.token_mlp_hidden = static_cast<int>(*width);
    } else if (variant == "q") {
      config.targets.push_back("attn2.to_q");
    } else if (variant == "out") {
      config.targets.push_back("attn2.to_out.0");
    } else if (variant == "init") {
      class_word_init = true;
    } else if (variant == "noflip") {
      training.flip = false;
    } else if (variant == "noshift") {
      training.max_shift = 0;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("methods: unknown variant ", variant, " in ", name));
    }
  }
  if (early_stop_gain) {
    // Early stopping on the concept's own loss: a check every sixth of the
    // steps, at least a third of them taken.
    training.early_stop_every = std::max(1, training.steps / 6);
    training.early_stop_min_steps = training.steps / 3;
    training.early_stop_min_gain = *early_stop_gain;
  }
  config.context_energy = d.context_energy;
  config.context_weight = d.context_weight;
  if (absl::Status valid = core::ValidateAdapterConfig(config); !valid.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("methods: ", name, ": ", valid.message()));
  }
  return MethodSpec{
      .label = name, .config = config, .training = training, .class_word_init = class_word_init};
}

}  // namespace stamina::bench
