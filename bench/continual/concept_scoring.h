// File: bench/continual/concept_scoring.h
//
// How well a model draws a learned concept, read by the attribute oracle
// (core/world/oracle.h) from samples of "a photo of <token>":
//   attribute  mean fraction of the identity's attributes (family included)
//              the oracle reads in a sample — the main score, R[t][i];
//   exact      fraction of samples with every attribute right (strict);
//   identity   fraction of samples the oracle matches to this concept among
//              all concepts of the sequence (chance = 1 / N);
//   mmd        unbiased MMD² × 10³ between the oracle features of the samples
//              and of held-out renders (kernel (x·y/d + 1)³, KID-style;
//              lower is better, may be slightly negative).
//   reads      fraction of samples that read as the concept: attribute score
//              >= kReadsAsThreshold (for a face, 8 of its 9 heads right).
// Prompt fidelity ("<c> on a red background": how often the background is
// red) and two-concept prompts ("<a> and <b>") are scored the same way, and
// the leak of learned concepts into a prompt without any token ("a photo
// of": how often a sample reads as one of them).
//
// Thread-compatible: uses the model exclusively.
#ifndef STAMINA_BENCH_CONTINUAL_CONCEPT_SCORING_H_
#define STAMINA_BENCH_CONTINUAL_CONCEPT_SCORING_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/continual/concept_sequence.h"
#include "core/pipelines/diffusion_model.h"
#include "core/world/oracle.h"
#include "torch/torch.h"

namespace stamina::bench {

struct SampleSettings {
  int count = 8;
  int steps = 20;
  float guidance = 5.0f;
  int64_t seed = 1234;
};

inline constexpr double kReadsAsThreshold = 0.8;

struct ConceptScore {
  double reads = 0;
  double attribute = 0;
  double exact = 0;
  double identity = 0;
  double mmd = 0;
};

struct FidelityScore {
  double background = 0;  // fraction of samples with the asked background
  double attribute = 0;   // the identity kept meanwhile
};

struct PairScore {
  double first = 0;   // fraction of samples matched to the first concept
  double second = 0;  // ... to the second
  double reads_first = 0;   // fraction of samples that read as the first
  double reads_second = 0;  // ... as the second
  double reads_both = 0;    // ... as both at once
};

class ConceptScorer {
 public:
  // `concepts`: the whole sequence (identity candidates). Precomputes the
  // reference features.
  static absl::StatusOr<ConceptScorer> Create(const core::AttributeOracle* oracle,
                                              const std::vector<BenchConcept>* concepts,
                                              SampleSettings settings);

  absl::StatusOr<std::vector<core::Image>> Sample(core::DiffusionModel& model,
                                                  const std::string& prompt) const;
  // Samples "a photo of <token>" and scores them (R[t][i] of concept i).
  absl::StatusOr<ConceptScore> Score(core::DiffusionModel& model, int concept,
                                     std::vector<core::Image>* samples = nullptr) const;
  absl::StatusOr<ConceptScore> ScoreImages(const std::vector<core::Image>& images,
                                           int concept) const;
  absl::StatusOr<FidelityScore> Fidelity(core::DiffusionModel& model, int concept) const;
  absl::StatusOr<PairScore> Pair(core::DiffusionModel& model, int first, int second) const;
  // Fraction of samples of `prompt` that read as any of concepts
  // [0, learned).
  absl::StatusOr<double> Leak(core::DiffusionModel& model, const std::string& prompt,
                              int learned) const;
  // Per sample, whether it reads as `concept`.
  absl::StatusOr<std::vector<bool>> ReadsAs(const std::vector<core::Image>& images,
                                            int concept) const;

 private:
  ConceptScorer() = default;

  const core::AttributeOracle* oracle_ = nullptr;
  const std::vector<BenchConcept>* concepts_ = nullptr;
  SampleSettings settings_;
  std::vector<core::AttributeLabels> candidates_;
  std::vector<torch::Tensor> reference_features_;
};

// Unbiased MMD² between rows of x [m, d] and y [n, d] (m, n >= 2) with the
// kernel (x·y/d + 1)³.
double UnbiasedMmd(const torch::Tensor& x, const torch::Tensor& y);

}  // namespace stamina::bench

#endif  // STAMINA_BENCH_CONTINUAL_CONCEPT_SCORING_H_
