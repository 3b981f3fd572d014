#include "bench/continual/continual_report.h"

#include <algorithm>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "core/pipelines/base_models.h"
#include "core/world/png.h"
#include "bench/continual/line_plot.h"
#include "nlohmann/json.hpp"

namespace stamina::bench {
namespace {

std::string& CommandLine() {
  static std::string* command_line = new std::string;
  return *command_line;
}

nlohmann::json MatrixJson(const ScoreMatrix& r) {
  nlohmann::json rows = nlohmann::json::object();
  for (const auto& [t, row] : r) {
    nlohmann::json cells = nlohmann::json::object();
    for (const auto& [i, v] : row) cells[std::to_string(i)] = v;
    rows[std::to_string(t)] = cells;
  }
  return rows;
}

const MethodResult* Find(const std::vector<MethodResult>& results, const std::string& label) {
  for (const MethodResult& r : results) {
    if (r.label == label) return &r;
  }
  return nullptr;
}

double Mean(const std::vector<double>& v) {
  double sum = 0;
  for (double x : v) sum += x;
  return v.empty() ? 0 : sum / v.size();
}

// One seed gives no interval, so this says which number is higher, not which
// method is better; bench:continual_seeds gives the verdict over seeds.
std::string Comparison(const std::vector<MethodResult>& results, int concepts) {
  const MethodResult* stamina = Find(results, "stamina");
  const MethodResult* clora = Find(results, "clora");
  if (!stamina || !clora) return "";
  const auto higher = [](double a, double b) { return a > b ? "higher" : "not higher"; };
  const ContinualSummary& s = stamina->summary;
  const ContinualSummary& c = clora->summary;
  return absl::StrFormat(
      "\n**STAMINA vs C-LoRA at N = %d, one seed** (%d vs %d steps per concept): "
      "A_N %.3f vs %.3f — STAMINA's %s; F_inc %.3f vs %.3f — STAMINA's %s (lower is better); "
      "plasticity slope %.3f vs %.3f per 10 tasks — STAMINA's %s. One seed has no interval: "
      "`bench:continual_seeds` says better, worse or tie over seeds.\n",
      concepts, stamina->steps_per_concept, clora->steps_per_concept, s.final_accuracy,
      c.final_accuracy, higher(s.final_accuracy, c.final_accuracy), s.forgetting_incremental,
      c.forgetting_incremental, higher(s.forgetting_incremental, c.forgetting_incremental),
      s.plasticity_slope_per_10, c.plasticity_slope_per_10,
      higher(s.plasticity_slope_per_10, c.plasticity_slope_per_10));
}

double DriftOverhead(const MethodResult& r) {
  double seconds = 0;
  for (double s : r.drift.seconds) seconds += s;
  return r.train_seconds > 0 ? seconds / r.train_seconds : 0;
}

double MeanServiceMeasurements(const MethodResult& r) {
  size_t cells = 0;
  for (const auto& [t, row] : r.drift.service) cells += row.size();
  return r.drift.seconds.empty() ? 0 : static_cast<double>(cells) / r.drift.seconds.size();
}

double FinalRowDrift(const MethodResult& r) {
  if (r.drift.full.empty()) return 0;
  const auto& row = r.drift.full.rbegin()->second;
  double sum = 0;
  for (const auto& [i, d] : row) sum += d;
  return row.empty() ? 0 : sum / row.size();
}

// The service's forgetting metric, measured the way the worker measures it.
std::string DriftSection(const std::vector<MethodResult>& results) {
  bool any = false;
  for (const MethodResult& r : results) any = any || !r.drift.seconds.empty();
  if (!any) return "";
  std::string md =
      "\n### Forgetting metric (the service's drift, issue #17)\n\nAfter every task the "
      "worker's budget draws the new concept's reference samples and measures a few earlier "
      "concepts (core/adapters/concept_drift.h, worker/drift_probes.h); on full rows every "
      "earlier concept is measured too, to set the drift (RMS pixel difference of the same "
      "prompts and seeds) against the oracle's forgetting R[i][i] − R[t][i].\n\n"
      "| method | drift s / train s | earlier concepts measured per task | mean drift, final "
      "row | Pearson r with oracle forgetting (cells) |\n|---|---|---|---|---|\n";
  for (const MethodResult& r : results) {
    if (r.drift.seconds.empty()) continue;
    int cells = 0;
    const double correlation = DriftForgettingCorrelation(r.drift.full, r.attribute, &cells);
    md += absl::StrFormat("| %s | %.3f | %.2f | %.3f | %.2f (%d) |\n", r.label, DriftOverhead(r),
                          MeanServiceMeasurements(r), FinalRowDrift(r), correlation, cells);
  }
  return md;
}

}  // namespace

void SetCommandLine(const std::string& command_line) { CommandLine() = command_line; }

std::string MachineDescription(const core::TorchRuntimeInfo& runtime) {
  std::string cpu = "unknown CPU";
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) == 0) {
      cpu = line.substr(line.find(':') + 2);
      break;
    }
  }
  return absl::StrFormat(
      "%s, %d LibTorch threads of %d cores (load average %.2f at start), BLAS %s", cpu,
      runtime.threads, runtime.available_cores, runtime.load_average, runtime.blas_library);
}

absl::StatusOr<BaseReference> ScoreBaseReference(const std::string& base_model_dir,
                                                 const std::vector<BenchConcept>& concepts,
                                                 const ConceptScorer& scorer) {
  STAMINA_ASSIGN_OR_RETURN(core::DiffusionModel base, core::LoadDiffusionModel(base_model_dir));
  BaseReference reference;
  const int n = static_cast<int>(concepts.size());
  reference.concepts = std::min(10, n);
  reference.identity_chance = 1.0 / n;
  for (int i = 0; i < reference.concepts; ++i) {
    STAMINA_ASSIGN_OR_RETURN(ConceptScore same,
                             scorer.ScoreImages(concepts[i].reference_images, i));
    STAMINA_ASSIGN_OR_RETURN(ConceptScore other,
                             scorer.ScoreImages(concepts[(i + 1) % n].reference_images, i));
    STAMINA_ASSIGN_OR_RETURN(std::vector<core::Image> drawn,
                             scorer.Sample(base, concepts[i].description));
    STAMINA_ASSIGN_OR_RETURN(ConceptScore described, scorer.ScoreImages(drawn, i));
    reference.real_same += same.attribute / reference.concepts;
    reference.real_other += other.attribute / reference.concepts;
    reference.base_description += described.attribute / reference.concepts;
    reference.base_description_reads += described.reads / reference.concepts;
    reference.base_description_reads_per_concept.push_back(described.reads);
  }
  STAMINA_ASSIGN_OR_RETURN(reference.base_leak, scorer.Leak(base, "a photo of", n));
  return reference;
}

std::string ReportMarkdown(const ReportContext& context, const std::vector<MethodResult>& results) {
  std::string md = absl::StrFormat(
      "# Continual personalization: %d %s concepts\n\n"
      "Machine: %s. Base model: `%s`.\n\nCommand: `%s`\n\n"
      "Scores are read by the attribute oracle from samples of \"a photo of <token>\" "
      "(bench/continual/concept_scoring.h). A_N, F and P_t use the attribute score "
      "(mean fraction of the identity's attributes present; higher is better).\n\n"
      "| method | steps/concept | trainable / stored params per concept | A_N (attribute) | "
      "exact | identity | MMD×1e3 | F_inc | F_final | F_best | P_t slope /10 tasks | "
      "fidelity (bg / attr) | pair (first / second) | mask density | train s | eval s | "
      "sampling folded/base | unfolded/base |\n"
      "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
      context.concepts, context.family, context.machine, context.base_model, CommandLine());
  for (const MethodResult& r : results) {
    const ContinualSummary& s = r.summary;
    md += absl::StrFormat(
        "| %s | %d | %d / %d | %.3f | %.3f | %.3f | %.2f | %.3f | %.3f | %.3f | %+.3f | "
        "%.2f / %.2f | %.2f / %.2f | %.3f | %.0f | %.0f | %.3f | %.3f |\n",
        r.label, r.steps_per_concept, r.trainable_parameters, r.stored_parameters,
        s.final_accuracy, r.final_exact, r.final_identity, r.final_mmd,
        s.forgetting_incremental, s.forgetting_final, s.forgetting_best,
        s.plasticity_slope_per_10, r.fidelity_background, r.fidelity_attribute, r.pair_first,
        r.pair_second, Mean(r.mask_density), r.train_seconds, r.eval_seconds,
        r.folded_over_base, r.unfolded_over_base);
  }
  md += Comparison(results, context.concepts);
  md += absl::StrFormat(
      "\n### Own token\n\nreads = fraction of samples of \"a photo of <token>\" the oracle "
      "reads as the concept (attribute score >= %.1f), final row; leak = fraction of samples "
      "of \"a photo of\" (no token) that read as any learned concept (base model: %.2f); "
      "pair reads = samples of \"a photo of <a> and <b>\" read as a / b / both.\n\n"
      "| method | reads | leak | pair reads (a / b / both) | context rank |\n"
      "|---|---|---|---|---|\n",
      kReadsAsThreshold, context.reference.base_leak);
  for (const MethodResult& r : results) {
    md += absl::StrFormat("| %s | %.3f | %.3f | %.2f / %.2f / %.2f | %d |\n", r.label,
                          r.final_reads, r.leak, r.pair_reads_first, r.pair_reads_second,
                          r.pair_reads_both, r.context_rank);
  }
  md += DriftSection(results);
  const BaseReference& ref = context.reference;
  md += absl::StrFormat(
      "\nReference levels (first %d concepts): the oracle on held-out real renders %.3f "
      "(ceiling); on renders of another identity %.3f (chance agreement); the base model "
      "prompted with the identity's full description %.3f (reads %.3f); identity chance "
      "%.3f.\n",
      ref.concepts, ref.real_same, ref.real_other, ref.base_description,
      ref.base_description_reads, ref.identity_chance);
  md += "\nplasticity.png: P_t against t;";
  for (size_t m = 0; m < results.size(); ++m) {
    const core::Rgb c = SeriesColor(static_cast<int>(m));
    md += absl::StrFormat(" %s = rgb(%d,%d,%d);", results[m].label, c.r, c.g, c.b);
  }
  md += " y from 0 to 1. samples.png: rows = methods in table order, columns = concepts.\n";
  return md;
}

absl::Status WriteContinualReport(const std::string& dir, const ReportContext& context,
                                  const std::vector<MethodResult>& results) {
  nlohmann::json json = {{"machine", context.machine},
                         {"family", context.family},
                         {"concepts", context.concepts},
                         {"seed", context.seed},
                         {"base_model", context.base_model},
                         {"command_line", CommandLine()},
                         {"reference",
                          {{"real_same", context.reference.real_same},
                           {"real_other", context.reference.real_other},
                           {"base_description", context.reference.base_description},
                           {"base_description_reads", context.reference.base_description_reads},
                           {"base_description_reads_per_concept",
                            context.reference.base_description_reads_per_concept},
                           {"identity_chance", context.reference.identity_chance},
                           {"base_leak", context.reference.base_leak}}}};
  std::vector<PlotSeries> series;
  std::vector<core::Image> grid;
  size_t columns = 0;
  for (const MethodResult& r : results) columns = std::max(columns, r.samples.size());
  columns = std::min<size_t>(columns, 25);
  for (size_t m = 0; m < results.size(); ++m) {
    const MethodResult& r = results[m];
    json["methods"].push_back(
        {{"label", r.label},
         {"config", nlohmann::json::parse(r.config_json)},
         {"steps_per_concept", r.steps_per_concept},
         {"steps_taken", r.steps_taken},
         {"trainable_parameters", r.trainable_parameters},
         {"stored_parameters", r.stored_parameters},
         {"A_N", r.summary.final_accuracy},
         {"F_incremental", r.summary.forgetting_incremental},
         {"F_final", r.summary.forgetting_final},
         {"F_best", r.summary.forgetting_best},
         {"plasticity", r.summary.plasticity},
         {"plasticity_slope_per_10", r.summary.plasticity_slope_per_10},
         {"final_exact", r.final_exact},
         {"final_identity", r.final_identity},
         {"final_mmd", r.final_mmd},
         {"fidelity_background", r.fidelity_background},
         {"fidelity_attribute", r.fidelity_attribute},
         {"pair_first", r.pair_first},
         {"pair_second", r.pair_second},
         {"final_reads", r.final_reads},
         {"leak", r.leak},
         {"pair_reads_first", r.pair_reads_first},
         {"pair_reads_second", r.pair_reads_second},
         {"pair_reads_both", r.pair_reads_both},
         {"context_rank", r.context_rank},
         {"R_reads", MatrixJson(r.reads)},
         {"R_attribute", MatrixJson(r.attribute)},
         {"R_exact", MatrixJson(r.exact)},
         {"R_identity", MatrixJson(r.identity)},
         {"R_mmd", MatrixJson(r.mmd)},
         {"final_loss", r.final_loss},
         {"mask_density", r.mask_density},
         {"layer_density_last", r.layer_density.empty() ? nlohmann::json::object()
                                                        : nlohmann::json(r.layer_density.back())},
         {"delta_norm", r.delta_norm},
         {"train_seconds", r.train_seconds},
         {"eval_seconds", r.eval_seconds},
         {"base_sample_ms", r.base_sample_ms},
         {"folded_sample_ms", r.folded_sample_ms},
         {"unfolded_sample_ms", r.unfolded_sample_ms},
         {"folded_over_base", r.folded_over_base},
         {"unfolded_over_base", r.unfolded_over_base},
         {"drift_service", MatrixJson(r.drift.service)},
         {"drift_full", MatrixJson(r.drift.full)},
         {"drift_seconds", r.drift.seconds},
         {"drift_overhead", DriftOverhead(r)},
         {"drift_final_row_mean", FinalRowDrift(r)},
         {"drift_forgetting_correlation",
          DriftForgettingCorrelation(r.drift.full, r.attribute, nullptr)}});
    series.push_back({r.label, SeriesColor(static_cast<int>(m)), r.summary.plasticity});
    for (size_t i = 0; i < columns; ++i) {
      grid.push_back(i < r.samples.size() ? r.samples[i] : core::Image(32, 32, {0, 0, 0}));
    }
  }
  std::ofstream(dir + "/continual.json") << json.dump(2) << "\n";
  std::ofstream(dir + "/continual.md") << ReportMarkdown(context, results);
  STAMINA_RETURN_IF_ERROR(core::WritePng(
      LinePlot(series, 0, 1,
               {.title = "plasticity: P_t = R[t][t], concept t right after learning it",
                .x_title = "task t",
                .y_title = "attribute score"}),
      dir + "/plasticity.png"));
  if (!grid.empty()) {
    STAMINA_RETURN_IF_ERROR(core::WriteGridPng(grid, static_cast<int>(results.size()),
                                               static_cast<int>(columns),
                                               dir + "/samples.png"));
  }
  return absl::OkStatus();
}

}  // namespace stamina::bench
