// File: bench/continual/continual_run.h
//
// One method's pass over a concept sequence: from the base model, learn the
// concepts one after another (TrainConcept, then FoldAdapterArtifact), score
// R[t][t] after every task and the whole row every `eval_every` tasks and
// after the last, then prompt fidelity, two-concept prompts, a sample of
// every concept, and the sampling time of the folded model against the
// base (and with one adapter left unfolded), measured side by side.
//
// Not thread-safe; uses all LibTorch threads.
#ifndef STAMINA_BENCH_CONTINUAL_CONTINUAL_RUN_H_
#define STAMINA_BENCH_CONTINUAL_CONTINUAL_RUN_H_

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/continual/concept_scoring.h"
#include "bench/continual/concept_sequence.h"
#include "bench/continual/continual_metrics.h"
#include "bench/continual/drift_tracking.h"
#include "core/adapters/adapter_config.h"
#include "core/compute_device.h"
#include "core/training/concept_trainer.h"

namespace stamina::bench {

struct MethodSpec {
  std::string label;  // "stamina", "clora", "lora", or an ablation name
  core::AdapterConfig config;
  core::ConceptTrainingOptions training;
  // Each concept's token starts from its class word (BenchConcept::class_word).
  bool class_word_init = false;
};

struct ContinualRunOptions {
  std::string base_model_dir;
  int eval_every = 10;
  int fidelity_concepts = 10;  // scored after the last task
  int pairs = 5;               // "<c0> and <c1>", "<c2> and <c3>", ...
  int timing_repeats = 5;  // 0 skips the sampling-cost measurement
  uint64_t seed = 0;
  // When set, every finished task is recorded under
  // <progress_dir>/<method label>/ (its artifact and the scores so far), and
  // a rerun with the same method, concepts and seed resumes after the last
  // recorded task by replaying the artifacts: long runs survive a restart.
  std::string progress_dir;
  std::string family;  // recorded with the progress, checked on resume
  // > 0: the service's forgetting metric runs after every task with this
  // budget (bench/continual/drift_tracking.h); 0 leaves it out.
  double drift_budget = 0;
  // Where the methods train, fold and sample (--device, --compute_dtype);
  // the oracle scores the images on the CPU.
  core::ComputeOptions compute;
};

struct MethodResult {
  std::string label;
  std::string config_json;
  ScoreMatrix attribute;  // R (the main score)
  ScoreMatrix exact;
  ScoreMatrix identity;
  ScoreMatrix mmd;
  ScoreMatrix reads;      // fraction of samples that read as the concept
  ContinualSummary summary;       // of `attribute`
  double final_exact = 0;         // means of the final rows
  double final_identity = 0;
  double final_mmd = 0;
  double final_reads = 0;
  // Samples of "a photo of" (no token) that read as a learned concept.
  double leak = 0;
  double fidelity_background = 0;
  double fidelity_attribute = 0;
  double pair_first = 0;
  double pair_second = 0;
  double pair_reads_first = 0;
  double pair_reads_second = 0;
  double pair_reads_both = 0;
  int64_t context_rank = 0;  // of the last task (context = project)
  std::vector<double> final_loss;         // per task
  std::vector<double> mask_density;       // per task, mean over layers
  std::vector<std::map<std::string, double>> layer_density;  // per task
  std::vector<double> delta_norm;         // ‖ΔW_t‖_F over adapted layers, per task
  int64_t trainable_parameters = 0;       // per concept
  int64_t stored_parameters = 0;          // per concept, in the artifact
  // Steps asked per concept, or with early stopping the mean of
  // steps_taken, rounded.
  int steps_per_concept = 0;
  std::vector<int> steps_taken;  // per task
  double train_seconds = 0;
  double eval_seconds = 0;
  double base_sample_ms = 0;
  double folded_sample_ms = 0;
  double unfolded_sample_ms = 0;
  // Medians of the per-repeat ratios (each repeat times base, folded and
  // unfolded back to back, so slow phases of a shared machine cancel).
  double folded_over_base = 0;
  double unfolded_over_base = 0;
  std::vector<core::Image> samples;  // one per concept after the last task
  DriftResults drift;                // with ContinualRunOptions::drift_budget > 0
};

using RunLog = std::function<void(const std::string&)>;

absl::StatusOr<MethodResult> RunMethod(const MethodSpec& method,
                                       const std::vector<BenchConcept>& concepts,
                                       const ConceptScorer& scorer,
                                       const ContinualRunOptions& options, const RunLog& log);

}  // namespace stamina::bench

#endif  // STAMINA_BENCH_CONTINUAL_CONTINUAL_RUN_H_
