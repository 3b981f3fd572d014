#include "bench/continual/continual_run.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "bench/continual/drift_tracking.h"
#include "common/status_macros.h"
#include "core/adapters/adapter_artifact.h"
#include "core/adapters/concept_adapter.h"
#include "core/pipelines/base_models.h"
#include "core/world/png.h"
#include "core/world/prng.h"
#include "nlohmann/json.hpp"

namespace stamina::bench {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values.empty() ? 0 : values[values.size() / 2];
}

double FinalRowMean(const ScoreMatrix& r, int tasks) {
  double sum = 0;
  for (int i = 0; i < tasks; ++i) sum += r.at(tasks - 1).at(i);
  return sum / tasks;
}

// ‖ΔW‖_F over all adapted layers of `artifact`, given C before its fold.
double DeltaNorm(const core::AdapterArtifact& artifact, const core::ContinualState& state) {
  double squares = 0;
  for (const auto& [layer, factors] : artifact.layers) {
    squares += core::FoldedDelta(artifact.config, factors, state.cumulative_mask(layer))
                   .pow(2)
                   .sum()
                   .item<double>();
  }
  return std::sqrt(squares);
}

int64_t StoredParameters(const core::AdapterArtifact& artifact) {
  int64_t count = artifact.token_row.numel();
  for (const auto& [layer, f] : artifact.layers) {
    for (const torch::Tensor* t : {&f.lora_A, &f.lora_B, &f.mask_U, &f.mask_V, &f.mask_b}) {
      if (t->defined()) count += t->numel();
    }
  }
  return count;
}

// Milliseconds to sample `prompts` once each with the scorer's settings.
absl::StatusOr<double> TimeSampling(core::DiffusionModel& model, const ConceptScorer& scorer,
                                    const std::vector<std::string>& prompts) {
  const auto start = Clock::now();
  for (const std::string& prompt : prompts) {
    STAMINA_RETURN_IF_ERROR(scorer.Sample(model, prompt).status());
  }
  return 1e3 * SecondsSince(start);
}

absl::Status MeasureSamplingCost(const MethodSpec& method, const std::vector<BenchConcept>& concepts,
                                 const ConceptScorer& scorer, const ContinualRunOptions& options,
                                 core::DiffusionModel& folded, core::ContinualState& state,
                                 MethodResult& result) {
  STAMINA_ASSIGN_OR_RETURN(core::DiffusionModel base,
                           core::LoadDiffusionModel(options.base_model_dir));
  STAMINA_RETURN_IF_ERROR(core::PlaceModel(base, options.compute));
  // Prompts both models can read: generic captions of the first concepts.
  std::vector<std::string> prompts;
  for (size_t i = 0; i < std::min<size_t>(2, concepts.size()); ++i) {
    prompts.push_back(concepts[i].description);
  }
  std::vector<double> base_ms, folded_ms, unfolded_ms, folded_ratio, unfolded_ratio;
  for (int r = 0; r < options.timing_repeats + 1; ++r) {
    STAMINA_ASSIGN_OR_RETURN(double b, TimeSampling(base, scorer, prompts));
    STAMINA_ASSIGN_OR_RETURN(double f, TimeSampling(folded, scorer, prompts));
    // One adapter attached (unfolded), as a model would run before folding;
    // its values do not change the cost.
    STAMINA_ASSIGN_OR_RETURN(
        auto adapter, core::ConceptAdapter::Create(
                          folded, state,
                          {.config = method.config, .token = "<timing>", .seed = 1}));
    double u = 0;
    {
      torch::NoGradGuard no_grad;
      STAMINA_ASSIGN_OR_RETURN(u, TimeSampling(folded, scorer, prompts));
    }
    adapter.reset();
    if (r == 0) continue;  // warm-up
    base_ms.push_back(b);
    folded_ms.push_back(f);
    unfolded_ms.push_back(u);
    folded_ratio.push_back(f / b);
    unfolded_ratio.push_back(u / b);
  }
  result.base_sample_ms = Median(base_ms);
  result.folded_sample_ms = Median(folded_ms);
  result.unfolded_sample_ms = Median(unfolded_ms);
  result.folded_over_base = Median(folded_ratio);
  result.unfolded_over_base = Median(unfolded_ratio);
  return absl::OkStatus();
}

nlohmann::json MatrixToJson(const ScoreMatrix& r) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& [t, row] : r) {
    for (const auto& [i, v] : row) rows.push_back({t, i, v});
  }
  return rows;
}

ScoreMatrix MatrixFromJson(const nlohmann::json& rows) {
  ScoreMatrix r;
  for (const auto& cell : rows) r[cell[0].get<int>()][cell[1].get<int>()] = cell[2].get<double>();
  return r;
}

// The identity of a run: resuming requires all of it to match.
nlohmann::json RunKey(const MethodSpec& method, const ContinualRunOptions& options,
                      int tasks) {
  const core::ConceptTrainingOptions& t = method.training;
  return {{"config", core::AdapterConfigToJson(method.config)},
          {"training",
           {t.steps, t.batch_size, t.lora_learning_rate, t.mask_learning_rate,
            t.token_learning_rate, t.flip, t.max_shift, t.prompt}},
          {"class_word_init", method.class_word_init},
          {"family", options.family},
          {"tasks", tasks},
          {"seed", options.seed},
          {"eval_every", options.eval_every}};
}

// With early stopping on, its options join the key (keys of runs without
// it are unchanged, so their progress still resumes).
nlohmann::json KeyWithEarlyStop(nlohmann::json key, const core::ConceptTrainingOptions& t) {
  if (t.early_stop_every > 0) {
    key["early_stop"] = {t.early_stop_every, t.early_stop_min_steps, t.early_stop_min_gain,
                         t.early_stop_draws};
  }
  return key;
}

int MeanSteps(const std::vector<int>& steps) {
  double total = 0;
  for (int s : steps) total += s;
  return steps.empty() ? 0 : static_cast<int>(std::lround(total / steps.size()));
}

nlohmann::json KeyWithDrift(nlohmann::json key, const ContinualRunOptions& options) {
  if (options.drift_budget > 0) key["drift_budget"] = options.drift_budget;
  return key;
}

absl::Status SaveProgress(const std::string& dir, const nlohmann::json& key, int done,
                          const MethodResult& r, const core::AdapterArtifact& artifact) {
  if (std::system(("mkdir -p '" + dir + "'").c_str()) != 0) {
    return absl::InternalError(absl::StrCat("cannot create ", dir));
  }
  STAMINA_ASSIGN_OR_RETURN(std::string bytes, core::SerializeAdapterArtifact(artifact));
  STAMINA_RETURN_IF_ERROR(
      core::WriteFile(absl::StrCat(dir, "/task_", done - 1, ".safetensors"), bytes));
  const nlohmann::json state = {{"key", key},
                                {"done", done},
                                {"attribute", MatrixToJson(r.attribute)},
                                {"exact", MatrixToJson(r.exact)},
                                {"identity", MatrixToJson(r.identity)},
                                {"mmd", MatrixToJson(r.mmd)},
                                {"reads", MatrixToJson(r.reads)},
                                {"final_loss", r.final_loss},
                                {"steps_taken", r.steps_taken},
                                {"mask_density", r.mask_density},
                                {"layer_density", r.layer_density},
                                {"delta_norm", r.delta_norm},
                                {"trainable_parameters", r.trainable_parameters},
                                {"stored_parameters", r.stored_parameters},
                                {"context_rank", r.context_rank},
                                {"train_seconds", r.train_seconds},
                                {"eval_seconds", r.eval_seconds},
                                {"drift_service", MatrixToJson(r.drift.service)},
                                {"drift_full", MatrixToJson(r.drift.full)},
                                {"drift_seconds", r.drift.seconds}};
  // Written after the artifact, atomically: it names complete tasks only.
  STAMINA_RETURN_IF_ERROR(core::WriteFile(dir + "/state.json.tmp", state.dump()));
  if (std::rename((dir + "/state.json.tmp").c_str(), (dir + "/state.json").c_str()) != 0) {
    return absl::InternalError(absl::StrCat("cannot replace ", dir, "/state.json"));
  }
  return absl::OkStatus();
}

// Restores `r` and replays the recorded artifacts onto `model`; returns the
// number of tasks done (0 without usable progress).
absl::StatusOr<int> ResumeProgress(const std::string& dir, const nlohmann::json& key,
                                   core::DiffusionModel& model, core::ContinualState& state,
                                   MethodResult& r, DriftTracker& drift) {
  std::ifstream file(dir + "/state.json");
  if (!file) return 0;
  const nlohmann::json saved = nlohmann::json::parse(file, nullptr, false);
  if (saved.is_discarded() || saved.value("key", nlohmann::json()) != key) {
    return absl::FailedPreconditionError(absl::StrCat(
        dir, " holds progress of a different run; remove it or choose another --out"));
  }
  const int done = saved["done"].get<int>();
  for (int t = 0; t < done; ++t) {
    std::ifstream in(absl::StrCat(dir, "/task_", t, ".safetensors"), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    STAMINA_ASSIGN_OR_RETURN(core::AdapterArtifact artifact, core::ParseAdapterArtifact(bytes));
    STAMINA_RETURN_IF_ERROR(core::FoldAdapterArtifact(artifact, model, state));
    drift.Restore(t, artifact.drift_reference);
  }
  r.attribute = MatrixFromJson(saved["attribute"]);
  r.exact = MatrixFromJson(saved["exact"]);
  r.identity = MatrixFromJson(saved["identity"]);
  r.mmd = MatrixFromJson(saved["mmd"]);
  if (saved.contains("reads")) r.reads = MatrixFromJson(saved["reads"]);
  r.final_loss = saved["final_loss"].get<std::vector<double>>();
  r.steps_taken = saved.value("steps_taken", std::vector<int>());
  r.mask_density = saved["mask_density"].get<std::vector<double>>();
  r.layer_density = saved["layer_density"].get<std::vector<std::map<std::string, double>>>();
  r.delta_norm = saved["delta_norm"].get<std::vector<double>>();
  r.trainable_parameters = saved["trainable_parameters"].get<int64_t>();
  r.stored_parameters = saved["stored_parameters"].get<int64_t>();
  r.context_rank = saved.value("context_rank", int64_t{0});
  r.train_seconds = saved["train_seconds"].get<double>();
  r.eval_seconds = saved["eval_seconds"].get<double>();
  if (saved.contains("drift_service")) {
    drift.results().service = MatrixFromJson(saved["drift_service"]);
    drift.results().full = MatrixFromJson(saved["drift_full"]);
    drift.results().seconds = saved["drift_seconds"].get<std::vector<double>>();
  }
  return done;
}

}  // namespace

absl::StatusOr<MethodResult> RunMethod(const MethodSpec& method,
                                       const std::vector<BenchConcept>& concepts,
                                       const ConceptScorer& scorer,
                                       const ContinualRunOptions& options, const RunLog& log) {
  MethodResult result;
  result.label = method.label;
  result.config_json = core::AdapterConfigToJson(method.config);
  result.steps_per_concept = method.training.steps;
  STAMINA_ASSIGN_OR_RETURN(core::DiffusionModel model,
                           core::LoadDiffusionModel(options.base_model_dir));
  STAMINA_RETURN_IF_ERROR(core::PlaceModel(model, options.compute));
  STAMINA_ASSIGN_OR_RETURN(core::ContinualState state,
                           core::ContinualState::Create(model.unet, method.config.targets));
  const int tasks = static_cast<int>(concepts.size());
  const auto record = [&](int t, int i, const ConceptScore& s) {
    result.attribute[t][i] = s.attribute;
    result.exact[t][i] = s.exact;
    result.identity[t][i] = s.identity;
    result.mmd[t][i] = s.mmd;
    result.reads[t][i] = s.reads;
  };
  const nlohmann::json key =
      KeyWithEarlyStop(KeyWithDrift(RunKey(method, options, tasks), options), method.training);
  DriftTracker drift(method.training.steps, method.training.batch_size, options.drift_budget);
  const std::string progress =
      options.progress_dir.empty() ? "" : options.progress_dir + "/" + method.label;
  int first = 0;
  if (!progress.empty()) {
    STAMINA_ASSIGN_OR_RETURN(first, ResumeProgress(progress, key, model, state, result, drift));
    if (first > 0) log(absl::StrFormat("%s: resumed after task %d", method.label, first));
  }
  for (int t = first; t < tasks; ++t) {
    const BenchConcept& c = concepts[t];
    core::ConceptTrainingRequest request;
    request.adapter = {.config = method.config,
                       .token = c.token,
                       .seed = core::DeriveSeed(options.seed, 1000 + t)};
    if (method.class_word_init) request.adapter.config.token_initializer = c.class_word;
    request.images = c.train_images;
    request.captions = c.train_captions;
    request.training = method.training;
    const auto train_start = Clock::now();
    STAMINA_ASSIGN_OR_RETURN(core::ConceptTrainingResult trained,
                             core::TrainConcept(model, state, request));
    result.delta_norm.push_back(DeltaNorm(trained.artifact, state));
    STAMINA_RETURN_IF_ERROR(core::FoldAdapterArtifact(trained.artifact, model, state));
    result.train_seconds += SecondsSince(train_start);
    result.trainable_parameters = trained.trainable_parameters;
    result.context_rank = trained.context_rank;
    result.stored_parameters = StoredParameters(trained.artifact);
    result.final_loss.push_back(trained.final_loss);
    result.steps_taken.push_back(trained.steps);
    double density = 0;
    for (const auto& [layer, d] : trained.mask_density) density += d / trained.mask_density.size();
    result.mask_density.push_back(density);
    result.layer_density.push_back(trained.mask_density);

    const bool full_row = (t + 1) % options.eval_every == 0 || t == tasks - 1;
    if (options.drift_budget > 0) {
      STAMINA_RETURN_IF_ERROR(drift.AfterTask(
          model, t, c.token, absl::StrReplaceAll(c.train_captions.front(), {{c.token, "{}"}}),
          trained.artifact, full_row));
    }
    const auto eval_start = Clock::now();
    for (int i = full_row ? 0 : t; i <= t; ++i) {
      std::vector<core::Image> samples;
      STAMINA_ASSIGN_OR_RETURN(ConceptScore score,
                               scorer.Score(model, i, t == tasks - 1 ? &samples : nullptr));
      record(t, i, score);
      if (t == tasks - 1) result.samples.push_back(samples.front());
    }
    result.eval_seconds += SecondsSince(eval_start);
    result.drift = drift.results();
    if (!progress.empty()) {
      STAMINA_RETURN_IF_ERROR(SaveProgress(progress, key, t + 1, result, trained.artifact));
    }
    log(absl::StrFormat("%s task %d/%d: loss %.4f  P_t %.3f  identity %.2f  density %.3f  "
                        "|dW| %.4f  (train %.0fs, eval %.0fs)",
                        method.label, t + 1, tasks, trained.final_loss, result.attribute[t][t],
                        result.identity[t][t], density, result.delta_norm.back(),
                        result.train_seconds, result.eval_seconds));
  }
  if (static_cast<int>(result.samples.size()) < tasks) {
    // Resumed after the last task: draw the final samples again (same
    // prompts and seeds, so the same images).
    result.samples.clear();
    for (int i = 0; i < tasks; ++i) {
      STAMINA_ASSIGN_OR_RETURN(std::vector<core::Image> images,
                               scorer.Sample(model, "a photo of " + concepts[i].token));
      result.samples.push_back(images.front());
    }
  }
  if (method.training.early_stop_every > 0)
    result.steps_per_concept = MeanSteps(result.steps_taken);
  result.summary = Summarize(result.attribute, tasks);
  result.final_exact = FinalRowMean(result.exact, tasks);
  result.final_identity = FinalRowMean(result.identity, tasks);
  result.final_mmd = FinalRowMean(result.mmd, tasks);
  result.final_reads = FinalRowMean(result.reads, tasks);
  result.drift = drift.results();

  const auto extra_start = Clock::now();
  const int fidelity = std::min(options.fidelity_concepts, tasks);
  for (int i = 0; i < fidelity; ++i) {
    STAMINA_ASSIGN_OR_RETURN(FidelityScore f, scorer.Fidelity(model, i));
    result.fidelity_background += f.background / fidelity;
    result.fidelity_attribute += f.attribute / fidelity;
  }
  const int pairs = std::min(options.pairs, tasks / 2);
  for (int p = 0; p < pairs; ++p) {
    STAMINA_ASSIGN_OR_RETURN(PairScore s, scorer.Pair(model, 2 * p, 2 * p + 1));
    result.pair_first += s.first / pairs;
    result.pair_second += s.second / pairs;
    result.pair_reads_first += s.reads_first / pairs;
    result.pair_reads_second += s.reads_second / pairs;
    result.pair_reads_both += s.reads_both / pairs;
  }
  STAMINA_ASSIGN_OR_RETURN(result.leak, scorer.Leak(model, "a photo of", tasks));
  log(absl::StrFormat("%s: final reads %.2f  leak %.2f  pair reads %.2f / %.2f (both %.2f)",
                      method.label, result.final_reads, result.leak, result.pair_reads_first,
                      result.pair_reads_second, result.pair_reads_both));
  if (options.timing_repeats > 0) {
    STAMINA_RETURN_IF_ERROR(
        MeasureSamplingCost(method, concepts, scorer, options, model, state, result));
  }
  result.eval_seconds += SecondsSince(extra_start);
  return result;
}

}  // namespace stamina::bench
