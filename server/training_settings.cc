#include "server/training_settings.h"

#include "absl/strings/str_cat.h"
#include "common/adapter_targets.h"
#include "common/status_macros.h"
#include "server/display_text.h"
#include "server/field_checks.h"

namespace stamina::server {
namespace {

// The same limit core::ValidateAdapterConfig applies.
constexpr int64_t kMaxTokenInitializerBytes = 64;

}  // namespace

absl::StatusOr<v1::TrainingSettings> EffectiveTrainingSettings(
    const v1::TrainingSettings& requested, const ServiceLimits& limits,
    const TrainingDefaults& defaults, int64_t seed) {
  v1::TrainingSettings s = requested;
  if (!v1::TrainingMethod_IsValid(s.method())) {
    return absl::InvalidArgumentError(
        absl::StrCat("settings.method: unknown value ", s.method()));
  }
  if (s.method() == v1::TRAINING_METHOD_UNSPECIFIED) {
    s.set_method(v1::TRAINING_METHOD_STAMINA);
  }
  if (s.steps() == 0) s.set_steps(defaults.steps);
  STAMINA_RETURN_IF_ERROR(CheckInRange("settings.steps", s.steps(),
                                  limits.min_training_steps,
                                  limits.max_training_steps));
  if (s.batch_size() == 0) s.set_batch_size(defaults.batch_size);
  STAMINA_RETURN_IF_ERROR(CheckInRange("settings.batch_size", s.batch_size(), 1, 64));
  if (s.lora_rank() == 0) s.set_lora_rank(defaults.lora_rank);
  STAMINA_RETURN_IF_ERROR(CheckInRange("settings.lora_rank", s.lora_rank(), 1, 256));
  if (s.learning_rate() == 0) s.set_learning_rate(defaults.learning_rate);
  STAMINA_RETURN_IF_ERROR(
      CheckInRange("settings.learning_rate", s.learning_rate(), 1e-8, 1.0));
  if (s.token_learning_rate() == 0) {
    s.set_token_learning_rate(defaults.token_learning_rate);
  }
  STAMINA_RETURN_IF_ERROR(CheckInRange("settings.token_learning_rate",
                                  s.token_learning_rate(), 1e-8, 1.0));
  if (s.seed() == 0) s.set_seed(seed == 0 ? 1 : seed);
  if (s.target_modules().empty()) {
    s.add_target_modules("attn2.to_k");
    s.add_target_modules("attn2.to_v");
  }
  for (int i = 0; i < s.target_modules_size(); ++i) {
    STAMINA_RETURN_IF_ERROR(CheckAdapterTarget(
        s.target_modules(i), absl::StrCat("settings.target_modules[", i, "]")));
    for (int j = 0; j < i; ++j) {
      if (s.target_modules(j) == s.target_modules(i)) {
        return absl::InvalidArgumentError(absl::StrCat("settings.target_modules[", i,
                                                       "]: repeats target_modules[", j, "]"));
      }
    }
  }
  if (!v1::ContextPreservation_IsValid(s.context_preservation())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "settings.context_preservation: unknown value ", s.context_preservation()));
  }
  if (s.context_preservation() == v1::CONTEXT_PRESERVATION_UNSPECIFIED) {
    s.set_context_preservation(s.method() == v1::TRAINING_METHOD_STAMINA
                                   ? v1::CONTEXT_PRESERVATION_PROJECT
                                   : v1::CONTEXT_PRESERVATION_NONE);
  }
  if (s.context_preservation() == v1::CONTEXT_PRESERVATION_PROJECT) {
    if (s.context_energy() == 0) s.set_context_energy(defaults.context_energy);
    STAMINA_RETURN_IF_ERROR(CheckInRange("settings.context_energy", s.context_energy(), 1e-6, 1));
  } else {
    s.clear_context_energy();
  }
  if (s.context_preservation() == v1::CONTEXT_PRESERVATION_PENALIZE) {
    if (s.context_weight() == 0) s.set_context_weight(defaults.context_weight);
    STAMINA_RETURN_IF_ERROR(CheckInRange("settings.context_weight", s.context_weight(), 0, 1e9));
  } else {
    s.clear_context_weight();
  }
  // The vocabulary is the base model's, known to workers only: they refuse
  // an unknown word when the job starts.
  STAMINA_RETURN_IF_ERROR(
      CheckWord(s.token_initializer(), kMaxTokenInitializerBytes, "settings.token_initializer"));
  // Unset switches are ON, so the effective settings say what was done.
  auto effective_switch = [](absl::string_view field, v1::AugmentationSwitch value)
      -> absl::StatusOr<v1::AugmentationSwitch> {
    if (!v1::AugmentationSwitch_IsValid(value)) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": unknown value ", value));
    }
    return value == v1::AUGMENTATION_SWITCH_UNSPECIFIED ? v1::AUGMENTATION_SWITCH_ON : value;
  };
  v1::Augmentation* augmentation = s.mutable_augmentation();
  STAMINA_ASSIGN_OR_RETURN(
      v1::AugmentationSwitch flip,
      effective_switch("settings.augmentation.flip", augmentation->flip()));
  STAMINA_ASSIGN_OR_RETURN(
      v1::AugmentationSwitch shift,
      effective_switch("settings.augmentation.shift", augmentation->shift()));
  augmentation->set_flip(flip);
  augmentation->set_shift(shift);
  if (s.method() == v1::TRAINING_METHOD_STAMINA) {
    v1::StaminaSettings* m = s.mutable_stamina();
    if (!v1::MaskSparsity_IsValid(m->sparsity()) ||
        !v1::MaskOverlap_IsValid(m->overlap())) {
      return absl::InvalidArgumentError(
          "settings.stamina: unknown sparsity or overlap value");
    }
    if (m->mask_rank() == 0) m->set_mask_rank(defaults.stamina_mask_rank);
    STAMINA_RETURN_IF_ERROR(
        CheckInRange("settings.stamina.mask_rank", m->mask_rank(), 1, 256));
    if (m->mask_temperature() == 0) {
      m->set_mask_temperature(defaults.stamina_mask_temperature);
    }
    STAMINA_RETURN_IF_ERROR(CheckInRange("settings.stamina.mask_temperature",
                                    m->mask_temperature(), 1e-3, 100));
    if (m->mask_init_bias() == 0) m->set_mask_init_bias(defaults.stamina_mask_init_bias);
    STAMINA_RETURN_IF_ERROR(
        CheckInRange("settings.stamina.mask_init_bias", m->mask_init_bias(), -20, 20));
    if (m->sparsity() == v1::MASK_SPARSITY_UNSPECIFIED) {
      m->set_sparsity(v1::MASK_SPARSITY_L1);
    }
    if (m->sparsity_weight() == 0 && m->sparsity() != v1::MASK_SPARSITY_NONE) {
      m->set_sparsity_weight(defaults.stamina_sparsity_weight);
    }
    STAMINA_RETURN_IF_ERROR(CheckInRange("settings.stamina.sparsity_weight",
                                    m->sparsity_weight(), 0, 1e3));
    if (m->overlap() == v1::MASK_OVERLAP_UNSPECIFIED) {
      m->set_overlap(v1::MASK_OVERLAP_FREE);
    }
    STAMINA_RETURN_IF_ERROR(CheckInRange("settings.stamina.overlap_weight",
                                    m->overlap_weight(), 0, 1e6));
    STAMINA_RETURN_IF_ERROR(CheckInRange("settings.stamina.token_mlp_hidden",
                                    m->token_mlp_hidden(), 0, 8192));
    STAMINA_RETURN_IF_ERROR(CheckInRange("settings.stamina.clora_regularization_weight",
                                    m->clora_regularization_weight(), 0, 1e12));
    if (m->token_max_rms() == 0) m->set_token_max_rms(defaults.stamina_token_max_rms);
    if (m->token_max_rms() < 0) m->set_token_max_rms(-1);  // unbounded
    STAMINA_RETURN_IF_ERROR(CheckInRange("settings.stamina.token_max_rms",
                                    m->token_max_rms(), -1, 1e3));
    s.clear_clora();
  } else if (s.method() == v1::TRAINING_METHOD_CLORA) {
    v1::CLoraSettings* c = s.mutable_clora();
    if (c->regularization_weight() == 0) {
      c->set_regularization_weight(defaults.clora_regularization_weight);
    }
    STAMINA_RETURN_IF_ERROR(CheckInRange("settings.clora.regularization_weight",
                                    c->regularization_weight(), 0, 1e12));
    s.clear_stamina();
  } else {
    s.clear_stamina();
    s.clear_clora();
  }
  return s;
}

absl::StatusOr<storage::ErasureMode> ErasureModeFor(v1::ErasureMode requested,
                                                    storage::ErasurePolicy policy) {
  const bool drop_only = policy == storage::ErasurePolicy::kDropOnly;
  switch (requested) {
    case v1::ERASURE_MODE_UNSPECIFIED:
      return drop_only ? storage::ErasureMode::kDrop : storage::ErasureMode::kReplay;
    case v1::ERASURE_MODE_REPLAY:
      if (drop_only) {
        return absl::FailedPreconditionError(
            "mode: this account's erasure policy is drop only (replays are not offered); use "
            "ERASURE_MODE_DROP or leave mode unset");
      }
      return storage::ErasureMode::kReplay;
    case v1::ERASURE_MODE_DROP:
      return storage::ErasureMode::kDrop;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("mode: unknown value ", static_cast<int>(requested)));
  }
}

}  // namespace stamina::server
