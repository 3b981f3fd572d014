// File: worker/training_request.h
//
// Maps a job's effective stamina.v1.TrainingSettings (server defaults already
// applied, see server/training_settings.h) onto core's adapter config and
// trainer options, and the trainer's result onto stamina.v1.TrainingMetrics.
// Thread-safe: pure functions.
#ifndef STAMINA_WORKER_TRAINING_REQUEST_H_
#define STAMINA_WORKER_TRAINING_REQUEST_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/adapters/adapter_config.h"
#include "core/training/concept_trainer.h"
#include "stamina/v1/job.pb.h"
#include "stamina/v1/model.pb.h"
#include "worker/job_source.h"

namespace stamina::worker {

// INVALID_ARGUMENT (naming the settings field) for values core refuses.
absl::StatusOr<core::AdapterConfig> AdapterConfigFor(const v1::TrainingSettings& s);

// The trainer request for `task` on `images` (already at the model's size).
absl::StatusOr<core::ConceptTrainingRequest> TrainingRequestFor(
    const TrainingTask& task, std::vector<core::Image> images);

v1::TrainingMetrics MetricsFor(const core::ConceptTrainingResult& result,
                               int steps, double training_seconds);

}  // namespace stamina::worker

#endif  // STAMINA_WORKER_TRAINING_REQUEST_H_
