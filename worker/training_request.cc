#include "worker/training_request.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "worker/training_inputs.h"

namespace stamina::worker {
namespace {

constexpr float kMaskLearningRateFactor = 10;

absl::StatusOr<core::AdapterMethod> MethodOf(v1::TrainingMethod method) {
  switch (method) {
    case v1::TRAINING_METHOD_UNSPECIFIED:
    case v1::TRAINING_METHOD_STAMINA:
      return core::AdapterMethod::kStamina;
    case v1::TRAINING_METHOD_CLORA:
      return core::AdapterMethod::kCLora;
    case v1::TRAINING_METHOD_LORA:
      return core::AdapterMethod::kLora;
    default:
      break;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("settings.method: unknown value ", method));
}

core::MaskSparsity SparsityOf(v1::MaskSparsity sparsity) {
  switch (sparsity) {
    case v1::MASK_SPARSITY_NONE:
      return core::MaskSparsity::kNone;
    case v1::MASK_SPARSITY_HAT:
      return core::MaskSparsity::kHat;
    default:
      return core::MaskSparsity::kL1;
  }
}

core::MaskOverlap OverlapOf(v1::MaskOverlap overlap) {
  switch (overlap) {
    case v1::MASK_OVERLAP_PENALIZE:
      return core::MaskOverlap::kPenalize;
    case v1::MASK_OVERLAP_EXCLUSIVE:
      return core::MaskOverlap::kExclusive;
    default:
      return core::MaskOverlap::kFree;
  }
}

}  // namespace

absl::StatusOr<core::AdapterConfig> AdapterConfigFor(const v1::TrainingSettings& s) {
  STAMINA_ASSIGN_OR_RETURN(core::AdapterMethod method, MethodOf(s.method()));
  core::AdapterConfig config = core::DefaultAdapterConfig(method);
  if (!s.target_modules().empty()) {
    config.targets.assign(s.target_modules().begin(), s.target_modules().end());
  }
  if (s.lora_rank() > 0) config.rank = s.lora_rank();
  if (method == core::AdapterMethod::kStamina && s.has_stamina()) {
    const v1::StaminaSettings& m = s.stamina();
    if (m.mask_rank() > 0) config.mask_rank = m.mask_rank();
    if (m.mask_temperature() > 0) config.mask_tau = m.mask_temperature();
    if (m.mask_init_bias() != 0) config.mask_init_bias = m.mask_init_bias();
    config.sparsity = SparsityOf(m.sparsity());
    if (m.sparsity_weight() > 0) config.sparsity_weight = m.sparsity_weight();
    config.overlap = OverlapOf(m.overlap());
    if (m.overlap_weight() > 0) config.overlap_weight = m.overlap_weight();
    config.token_mlp_hidden = m.token_mlp_hidden();
    // Negative means unbounded (0 there is "the server's default").
    config.token_max_rms = m.token_max_rms() > 0 ? m.token_max_rms() : 0;
    if (m.clora_regularization_weight() > 0) {
      config.clora_regularization = true;
      config.clora_lambda = m.clora_regularization_weight();
    }
  }
  if (method == core::AdapterMethod::kCLora && s.has_clora() &&
      s.clora().regularization_weight() > 0) {
    config.clora_lambda = s.clora().regularization_weight();
  }
  switch (s.context_preservation()) {
    case v1::CONTEXT_PRESERVATION_PROJECT:
      config.context = core::ContextPreservation::kProject;
      break;
    case v1::CONTEXT_PRESERVATION_PENALIZE:
      config.context = core::ContextPreservation::kPenalize;
      break;
    default:  // NONE, or settings from before context preservation existed
      config.context = core::ContextPreservation::kNone;
      break;
  }
  if (s.context_energy() > 0) config.context_energy = s.context_energy();
  if (s.context_weight() > 0) config.context_weight = s.context_weight();
  config.token_initializer = s.token_initializer();
  absl::Status valid = core::ValidateAdapterConfig(config);
  if (!valid.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("settings: ", valid.message()));
  }
  return config;
}

absl::StatusOr<core::ConceptTrainingRequest> TrainingRequestFor(
    const TrainingTask& task, std::vector<core::Image> images) {
  const v1::TrainingSettings& s = task.settings;
  core::ConceptTrainingRequest request;
  STAMINA_ASSIGN_OR_RETURN(request.adapter.config, AdapterConfigFor(s));
  request.adapter.token = task.token;
  request.adapter.seed = static_cast<uint64_t>(s.seed());
  request.images = std::move(images);
  request.captions = TrainingCaptions(task);
  if (s.steps() > 0) request.training.steps = s.steps();
  if (s.batch_size() > 0) request.training.batch_size = s.batch_size();
  if (s.learning_rate() > 0) {
    request.training.lora_learning_rate = s.learning_rate();
    // The mask MLP learns 10x faster: with equal rates its masks stay
    // ~70% on and earlier concepts are overwritten (bench/results/README.md).
    request.training.mask_learning_rate = kMaskLearningRateFactor * s.learning_rate();
  }
  if (s.token_learning_rate() > 0) {
    request.training.token_learning_rate = s.token_learning_rate();
  }
  // Unset switches (settings from before augmentation was a setting) are ON.
  request.training.flip = s.augmentation().flip() != v1::AUGMENTATION_SWITCH_OFF;
  // 1/16 of the side: the 2 pixels the tiny model's defaults were tuned with.
  const int side = request.images.empty()
                       ? 0
                       : std::min(request.images[0].width, request.images[0].height);
  request.training.max_shift =
      s.augmentation().shift() == v1::AUGMENTATION_SWITCH_OFF ? 0 : std::max(1, side / 16);
  request.metadata = {{"job", task.job_id},
                      {"model", task.model_id},
                      {"concept", task.concept_id},
                      {"base_model", task.base_model_id},
                      {"base_digest", task.base_model_digest},
                      {"seed", absl::StrCat(s.seed())},
                      {"steps", absl::StrCat(request.training.steps)}};
  return request;
}

v1::TrainingMetrics MetricsFor(const core::ConceptTrainingResult& result,
                               int steps, double training_seconds) {
  v1::TrainingMetrics metrics;
  metrics.set_final_loss(result.final_loss);
  metrics.set_steps(steps);
  metrics.set_training_seconds(training_seconds);
  double density = 1;
  if (!result.mask_density.empty()) {
    double sum = 0;
    for (const auto& [layer, d] : result.mask_density) sum += d;
    density = sum / static_cast<double>(result.mask_density.size());
  }
  metrics.set_mask_density(density);
  metrics.set_trained_parameters(result.trainable_parameters);
  int64_t stored = result.artifact.token_row.defined() ? result.artifact.token_row.numel() : 0;
  for (const auto& [layer, f] : result.artifact.layers) {
    for (const torch::Tensor* t : {&f.lora_A, &f.lora_B, &f.mask_U, &f.mask_V, &f.mask_b}) {
      if (t->defined()) stored += t->numel();
    }
  }
  metrics.set_stored_parameters(stored);
  return metrics;
}

}  // namespace stamina::worker
