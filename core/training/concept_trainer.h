// File: core/training/concept_trainer.h
//
// Teaches a model one concept from a handful of images, as every method of
// core/adapters does it: attach a ConceptAdapter, minimize the denoising
// loss (plus the method's regularization) over augmented copies of the
// images with AdamW (separate learning rates for the LoRA factors, the mask
// MLP and the token), then export the AdapterArtifact and detach. The
// caller folds the artifact (FoldAdapterArtifact) — or stores it first, as
// the worker does.
//
// Augmentation: random horizontal flip and a random shift of up to
// max_shift pixels (edge pixels repeated), drawn per image per step.
// Captions: the image's own caption if given (it must contain the token),
// else `prompt` with {token} replaced. With context preservation on and no
// preserved prompts given, the preserved prompts are derived from these
// captions (PreservedPrompts in core/adapters/context_preservation.h).
//
// Deterministic for a seed (same inputs, same threads → same artifact).
// The base weights are frozen for the duration and restored after. Not
// thread-safe: the model is used exclusively.
#ifndef STAMINA_CORE_TRAINING_CONCEPT_TRAINER_H_
#define STAMINA_CORE_TRAINING_CONCEPT_TRAINER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/adapters/adapter_artifact.h"
#include "core/adapters/concept_adapter.h"
#include "core/image.h"
#include "core/pipelines/diffusion_model.h"

namespace stamina::core {

struct ConceptTrainingOptions {
  int steps = 200;
  int batch_size = 4;
  // Images per forward/backward pass; a step accumulates the gradients of
  // ceil(batch_size / micro_batch_size) passes (0: the whole batch in one
  // pass, the plain computation). When a pass runs out of memory
  // (RESOURCE_EXHAUSTED: a CUDA out-of-memory), the step is redone with
  // half the micro-batch, down to 1, before the error is returned.
  int micro_batch_size = 0;
  double lora_learning_rate = 1e-3;
  double mask_learning_rate = 1e-2;
  double token_learning_rate = 1e-2;
  bool flip = true;
  int max_shift = 2;
  // Early stopping on the concept's own loss, so easy concepts take fewer
  // steps: every `early_stop_every` steps (0: off) the denoising loss of a
  // fixed check draw (each image unaugmented at `early_stop_draws` evenly
  // spaced timesteps, the same noise at every check, from its own generator
  // so the training draws are untouched) is measured without gradients;
  // training ends at a check once at least `early_stop_min_steps` are done
  // and that loss fell by less than `early_stop_min_gain` (relative) since
  // the previous check.
  int early_stop_every = 0;
  int early_stop_min_steps = 0;
  double early_stop_min_gain = 0.02;
  int early_stop_draws = 4;
  std::string prompt = "a photo of {token}";
};

struct ConceptTrainingRequest {
  ConceptAdapterOptions adapter;  // config, token, seed (also the step RNG)
  std::vector<Image> images;      // all the same size
  std::vector<std::string> captions;  // empty, or one per image
  ConceptTrainingOptions training;
  // Copied into the artifact's metadata.
  std::map<std::string, std::string> metadata;
};

struct ConceptTrainingProgress {
  int step = 0;  // steps done
  int total_steps = 0;
  double loss = 0;            // denoising loss of the last step
  double regularization = 0;  // weighted extra loss of the last step
  double seconds = 0;
  double eta_seconds = 0;
};

struct ConceptTrainingResult {
  AdapterArtifact artifact;
  int steps = 0;                     // steps taken: fewer than asked after an early stop
  double final_loss = 0;             // mean denoising loss over the last 10% of the steps taken
  std::vector<double> check_losses;  // the early-stopping checks' losses, in order
  double seconds = 0;
  int64_t trainable_parameters = 0;
  std::map<std::string, double> mask_density;  // by layer, at the end
  RegularizationTerms last_terms;
  int64_t context_rank = 0;  // directions kept off limits (context = project)
  int micro_batch_size = 0;  // images per pass at the end (halved on out-of-memory)
};

// INVALID_ARGUMENT for bad options or inputs (the field named); CANCELLED
// when `stop` becomes true (the model is left as it was).
absl::StatusOr<ConceptTrainingResult> TrainConcept(
    DiffusionModel& model, const ContinualState& state,
    const ConceptTrainingRequest& request,
    const std::function<void(const ConceptTrainingProgress&)>& progress = nullptr,
    const std::atomic<bool>* stop = nullptr);

}  // namespace stamina::core

#endif  // STAMINA_CORE_TRAINING_CONCEPT_TRAINER_H_
