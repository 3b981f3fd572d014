// File: bench/continual/seed_report.h
//
// The continual benchmark over several seeds (issue #17): reads the
// continual.json of one `bench:continual` run per seed, and reports every
// method's numbers as mean ± 95% interval over seeds, the paired verdict of
// "ours" against each baseline, and the targets, each marked met or
// missed with the number that decides it. Also the plasticity chart: mean
// P_t over seeds per method (a centred moving average over 5 tasks).
//
// Thread-safe: functions of their arguments.
#ifndef STAMINA_BENCH_CONTINUAL_SEED_REPORT_H_
#define STAMINA_BENCH_CONTINUAL_SEED_REPORT_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/image.h"
#include "nlohmann/json.hpp"

namespace stamina::bench {

// One method's numbers in one seed's run.
// The tasks at each end of a run whose P_t the plasticity parts average:
// 10, or half the run when it has fewer than 20 tasks.
size_t PlasticityWindow(size_t tasks);

struct SeedMethodNumbers {
  int steps_per_concept = 0;
  double final_accuracy = 0;  // A_N
  double forgetting_final = 0;
  double forgetting_incremental = 0;
  double final_identity = 0;
  double final_reads = 0;
  double plasticity_slope_per_10 = 0;
  std::vector<double> plasticity;  // P_t
  double folded_over_base = 0;     // 0 when not measured
  double train_seconds = 0;
  double eval_seconds = 0;
  // The service's forgetting metric, when the run measured it
  // (bench:continual --drift_budget > 0): its seconds over the training's,
  // and the Pearson r of the drift with the oracle's forgetting.
  bool drift_measured = false;
  double drift_overhead = 0;
  double drift_correlation = 0;
  double drift_final_row_mean = 0;

  // Mean P_t of the first / last PlasticityWindow(N) tasks, and last / first.
  double PlasticityFirst() const;
  double PlasticityLast() const;
  double PlasticityRetention() const;
};

struct SeedRun {
  uint64_t seed = 0;
  std::string directory;
  std::string command_line;
  std::string machine;
  std::string family;
  int concepts = 0;
  std::map<std::string, SeedMethodNumbers> methods;  // by label
};

// Parses a continual.json (bench/continual/continual_report.h). The seed is
// its "seed" field, or --seed= of its command line (0 when neither).
absl::StatusOr<SeedRun> ParseSeedRun(const std::string& json_text, const std::string& directory);

// Runs of the same seed (methods run as separate processes, each with its
// own --out) become one run; INVALID_ARGUMENT when two of them hold the same
// method, or differ in family or concept count. Order: first appearance.
absl::StatusOr<std::vector<SeedRun>> MergeSeedRuns(std::vector<SeedRun> runs);

struct SeedReportOptions {
  std::string ours;                    // method label, e.g. "stamina-project+rms"
  std::vector<std::string> baselines;  // e.g. {"clora", "lora"}
  // Runs of `ours` with fewer steps per concept (same seeds), for the target
  // "reach C-LoRA's A_N with <= 50% of its steps"; may be empty.
  std::vector<SeedRun> budget_runs;
  std::string ours_budget_label;  // its label in budget_runs ("" = ours)
};

struct SeedReport {
  std::string markdown;
  nlohmann::json json;
  core::Image plasticity_chart;
};

// INVALID_ARGUMENT when runs is empty, the runs differ in family or concept
// count, a seed repeats, or a method is in none of the runs. A method absent
// from some seeds (a run still in progress) is reported over the seeds it
// has, and compared over the seeds both methods have; the table says how
// many.
absl::StatusOr<SeedReport> BuildSeedReport(const std::vector<SeedRun>& runs,
                                           const SeedReportOptions& options);

}  // namespace stamina::bench

#endif  // STAMINA_BENCH_CONTINUAL_SEED_REPORT_H_
