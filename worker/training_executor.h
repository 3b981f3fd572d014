// File: worker/training_executor.h
//
// The JobExecutor that trains a concept with core/ (LibTorch), in phases:
//   PREPARING   load the base model, read and fold the parent version's
//               adapter artifacts (in lineage order), read and decode the
//               concept's images to the model's resolution;
//   TRAINING    core::TrainConcept, a heartbeat with step, loss and training
//               time at most every heartbeat_interval (and at phase changes);
//   FOLDING     fold the artifact into the parent model (checking that it
//               replays), then the forgetting metric within its budget: the
//               new concept's drift reference samples (kept in the artifact)
//               and the drift of a few earlier concepts (into the metrics;
//               core/adapters/concept_drift.h, worker/drift_probes.h), and
//               serialize the artifact;
//   COMMITTING  store the artifact and complete the job (one new version).
// Cancellation (learned from a heartbeat) is honoured at every phase; a
// heartbeat that says ABORTED (lost lease) stops the work and commits nothing.
// Besides the beats of the work itself, a keep-alive thread per job beats
// whenever the lease's heartbeat_interval passed without one, so a long
// stretch with no phase change or step (a large base model, a long lineage)
// keeps its lease; it stops before the commit.
//
// The header is torch-free so that binaries compose it without LibTorch
// headers. Thread-safe: every Run builds its own model.
#ifndef STAMINA_WORKER_TRAINING_EXECUTOR_H_
#define STAMINA_WORKER_TRAINING_EXECUTOR_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "worker/base_model_spec.h"
#include "worker/job_executor.h"

namespace stamina::worker {

struct TrainingExecutorOptions {
  std::vector<ResolvedBaseModel> base_models;
  // Where the models train and fold (--device, --compute_dtype).
  DeviceSpec device;
  Clock* clock = Clock::Real();  // not owned
  // Heartbeats during training are at most this frequent; 0 = every step.
  // Never less frequent than the lease's heartbeat_interval.
  absl::Duration min_heartbeat_interval = absl::Seconds(1);
  // The share of a job's training compute (UNet passes) the forgetting
  // metric may add: the new concept's reference samples, then earlier
  // concepts' drift. 0 turns it off (artifacts then carry no reference).
  double drift_budget = 0.2;
  // Images per forward/backward pass (--micro_batch_size): a step
  // accumulates the gradients of its batch in passes of this many images,
  // for devices whose memory does not hold a whole batch; 0 = the whole
  // batch in one pass. A pass that runs out of device memory halves it
  // for the rest of the job (core/training/concept_trainer.h).
  int micro_batch_size = 0;
  // Called with one line per job event (started, ended); may be null.
  std::function<void(const std::string&)> log;
};

absl::StatusOr<std::unique_ptr<JobExecutor>> NewTrainingExecutor(TrainingExecutorOptions options);

}  // namespace stamina::worker

#endif  // STAMINA_WORKER_TRAINING_EXECUTOR_H_
