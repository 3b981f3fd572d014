// File: bench/continual/continual_report.h
//
// The benchmark's outputs: continual.json (every number, the R matrices),
// continual.md (a table shaped like the paper's, the verdict STAMINA vs
// C-LoRA, the reference levels, the machine and command line),
// plasticity.png and samples.png; plus the reference levels themselves,
// measured on the base model and on real renders.
//
// Not thread-safe (SetCommandLine is process-wide).
#ifndef STAMINA_BENCH_CONTINUAL_CONTINUAL_REPORT_H_
#define STAMINA_BENCH_CONTINUAL_CONTINUAL_REPORT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/continual/concept_scoring.h"
#include "bench/continual/continual_run.h"
#include "core/torch_runtime.h"

namespace stamina::bench {

// What the scores mean, on the first (up to) 10 concepts.
struct BaseReference {
  int concepts = 0;
  double real_same = 0;    // oracle on held-out real renders (the ceiling)
  double real_other = 0;   // renders of another identity (chance agreement)
  double base_description = 0;  // base model prompted with the full description
  // The same samples read as the concept (attribute score >= 0.8): the most
  // a token can be expected to reach through this base model.
  double base_description_reads = 0;
  std::vector<double> base_description_reads_per_concept;
  double identity_chance = 0;   // 1 / N
  // Samples of "a photo of" by the base model that read as one of the
  // concepts (what a method's leak compares with).
  double base_leak = 0;
};

struct ReportContext {
  std::string machine;
  std::string family;
  int concepts = 0;
  uint64_t seed = 0;
  std::string base_model;
  BaseReference reference;
};

void SetCommandLine(const std::string& command_line);
std::string MachineDescription(const core::TorchRuntimeInfo& runtime);

absl::StatusOr<BaseReference> ScoreBaseReference(const std::string& base_model_dir,
                                                 const std::vector<BenchConcept>& concepts,
                                                 const ConceptScorer& scorer);

std::string ReportMarkdown(const ReportContext& context, const std::vector<MethodResult>& results);

absl::Status WriteContinualReport(const std::string& dir, const ReportContext& context,
                                  const std::vector<MethodResult>& results);

}  // namespace stamina::bench

#endif  // STAMINA_BENCH_CONTINUAL_CONTINUAL_REPORT_H_
