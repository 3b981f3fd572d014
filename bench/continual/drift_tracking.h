// File: bench/continual/drift_tracking.h
//
// The service's forgetting metric (core/adapters/concept_drift.h) inside the
// continual benchmark, to check what it costs and what it says: after each
// task the tracker does what the worker does within its budget (the new
// concept's reference samples, then the earlier concepts worker/
// drift_probes.h picks), timed against the task's training; on the
// benchmark's full evaluation rows it also measures every earlier concept,
// so the drift can be set against the oracle's forgetting R[i][i] − R[t][i].
//
// Thread-compatible.
#ifndef STAMINA_BENCH_CONTINUAL_DRIFT_TRACKING_H_
#define STAMINA_BENCH_CONTINUAL_DRIFT_TRACKING_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "bench/continual/continual_metrics.h"
#include "core/adapters/adapter_artifact.h"
#include "core/pipelines/diffusion_model.h"

namespace stamina::bench {

struct DriftResults {
  ScoreMatrix service;          // [t][i]: what the worker's budget measured at task t
  ScoreMatrix full;             // [t][i]: every earlier concept, on full rows (and the service's)
  std::vector<double> seconds;  // per task: reference + the service's measurements
};

class DriftTracker {
 public:
  // The method's training steps and batch size set the budget's size.
  DriftTracker(int training_steps, int batch_size, double budget);

  // Task t was just folded into `model`: draws its reference into
  // `artifact`, measures what the service would (timed into results), and
  // with `full_row` every other earlier concept too.
  absl::Status AfterTask(core::DiffusionModel& model, int t, const std::string& token,
                         const std::string& caption_template, core::AdapterArtifact& artifact,
                         bool full_row);

  // Resuming: task t's reference, from its saved artifact.
  void Restore(int t, std::optional<core::DriftReference> reference);

  DriftResults& results() { return results_; }
  const DriftResults& results() const { return results_; }

 private:
  int training_steps_;
  int batch_size_;
  double budget_;
  std::vector<std::optional<core::DriftReference>> references_;
  DriftResults results_;
};

// Pearson correlation of drift[t][i] with the oracle's drop
// attribute[i][i] − attribute[t][i] over the cells with i < t present in
// both; 0 with fewer than 3 cells. `cells` gets their count.
double DriftForgettingCorrelation(const ScoreMatrix& drift, const ScoreMatrix& attribute,
                                  int* cells);

}  // namespace stamina::bench

#endif  // STAMINA_BENCH_CONTINUAL_DRIFT_TRACKING_H_
