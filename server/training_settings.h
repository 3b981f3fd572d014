// File: server/training_settings.h
//
// Validation of TrainConcept's settings (every error names its field, e.g.
// `settings.steps`) and the defaults that turn "0 = server default" into the
// effective settings a job records. The defaults follow docs/method.md §3.5
// and §4 for the tiny base model; a base model may override the step count.
// Also EraseConcept's mode under the tenant's erasure policy.
// Thread-safe: pure functions.
#ifndef STAMINA_SERVER_TRAINING_SETTINGS_H_
#define STAMINA_SERVER_TRAINING_SETTINGS_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "server/service_context.h"
#include "stamina/v1/job.pb.h"
#include "stamina/v1/model.pb.h"
#include "storage/records.h"

namespace stamina::server {

// The recipe bench:continual measured (bench/results/README.md: 150 steps,
// LoRA lr 2e-3, mask lr 10x that, token lr 1e-2, mask rank 8, C-LoRA
// lambda 1e3), with a few more steps for a user's single concept.
struct TrainingDefaults {
  int32_t steps = 200;
  int32_t batch_size = 4;
  int32_t lora_rank = 4;
  float learning_rate = 2e-3f;
  float token_learning_rate = 1e-2f;
  int32_t stamina_mask_rank = 8;
  float stamina_mask_temperature = 1.0f;
  float stamina_mask_init_bias = 2.0f;
  float stamina_sparsity_weight = 0.01f;
  float clora_regularization_weight = 1e3f;
  // Context preservation (issue #12, bench/results/own-token): STAMINA
  // projects by default, LoRA and C-LoRA keep their papers' behaviour.
  float context_energy = 0.999f;
  float context_weight = 1.0f;
  float stamina_token_max_rms = 2.0f;
};

// EraseConcept's mode: the request's, else the tenant's policy's default.
// FAILED_PRECONDITION for a replay under a drop-only policy, INVALID_ARGUMENT
// (field `mode`) for an unknown value.
absl::StatusOr<storage::ErasureMode> ErasureModeFor(v1::ErasureMode requested,
                                                    storage::ErasurePolicy policy);

// The effective settings, or INVALID_ARGUMENT. `seed` is used when the
// request leaves settings.seed at 0.
absl::StatusOr<v1::TrainingSettings> EffectiveTrainingSettings(
    const v1::TrainingSettings& requested, const ServiceLimits& limits,
    const TrainingDefaults& defaults, int64_t seed);

}  // namespace stamina::server

#endif  // STAMINA_SERVER_TRAINING_SETTINGS_H_
